/*
 * RDS DB snapshots and Aurora cluster snapshots: create (and wait until
 * available), describe, delete, copy to another region, by ARN.
 *
 * Calls go to the region in the ARN with the plain identifier: RDS takes
 * ARNs only for shared snapshots and as the source of a copy, which AWS
 * requires to be the source ARN and sends to the target region. Copies of
 * encrypted snapshots also carry KmsKeyId and a PreSignedUrl (see presign_copy).
 */
#include "auth/digest.h"
#include "ctx.h"
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cp_snapshot_state state_of(const char *status)
{
	if (!strcmp(status, "available"))
		return CP_SNAPSHOT_COMPLETED;
	if (!strcmp(status, "failed") || !strcmp(status, "error") ||
	    !strcmp(status, "incompatible-restore"))
		return CP_SNAPSHOT_ERROR;
	return CP_SNAPSHOT_PENDING;
}

static int emit_one(const rds_flavour *f, const char *fallback_region, xmlNode *s,
		    cp_snapshot_cb cb, void *payload)
{
	char arn[512], owner[256], status[64], created[64], resource[600] = "";
	char el[64];
	snprintf(el, sizeof(el), "%sArn", f->noun);
	xml_child_copy(s, el, arn, sizeof(arn));
	xml_child_copy(s, f->owner_param, owner, sizeof(owner));
	xml_child_copy(s, "Status", status, sizeof(status));
	xml_child_copy(s, "SnapshotCreateTime", created, sizeof(created));
	aws_arn a;
	int have_arn = !aws_arn_parse(&a, arn);
	if (have_arn && owner[0])
		rds_arn(resource, sizeof(resource), &a, f->resource_type, owner);
	aws_tags tags;
	int rc = aws_query_tags_parse(&tags, xml_child(s, "TagList"));
	if (rc)
		return rc;
	cp_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.id = arn;
	snap.resource_id = resource[0] ? resource : owner;
	snap.region = have_arn ? a.region : fallback_region;
	snap.size = xml_child_u64(s, "AllocatedStorage") * GIB;
	snap.created = aws_parse_time(created);
	snap.state = state_of(status);
	snap.tags = tags.items;
	snap.ntags = tags.count;
	snap.kind = CP_RESOURCE_DB;
	rc = cb(&snap, payload);
	aws_tags_dispose(&tags);
	return rc;
}

int rds_emit_snapshots(const rds_flavour *f, const char *region, xmlNode *list, int single,
		       cp_snapshot_cb cb, void *payload)
{
	if (single)
		return list ? emit_one(f, region, list, cb, payload) : 0;
	int rc = 0;
	for (xmlNode *s = aws_query_next(list ? list->children : NULL); s && !rc;
	     s = aws_query_next(s->next))
		rc = emit_one(f, region, s, cb, payload);
	return rc;
}

/* A flavour's "Describe<Noun>s", "<Noun>Identifier" and "<Noun>s". */
typedef struct names {
	char describe[64], id_param[64], list[64];
} names;

static void names_of(names *n, const rds_flavour *f)
{
	snprintf(n->describe, sizeof(n->describe), "Describe%ss", f->noun);
	snprintf(n->id_param, sizeof(n->id_param), "%sIdentifier", f->noun);
	snprintf(n->list, sizeof(n->list), "%ss", f->noun);
}

typedef struct emitting {
	const rds_flavour *f;
	const char *region;
	cp_snapshot_cb cb;
	void *payload;
} emitting;

static int emit(xmlNode *s, void *arg)
{
	const emitting *e = arg;
	return emit_one(e->f, e->region, s, e->cb, e->payload);
}

/* Snapshots of one owner (identifier) or all, page by page, in one region. */
static int describe(aws_provider *p, const rds_flavour *f, const char *region,
		    const char *snapshot_name, const char *owner_name, const char *subject,
		    cp_snapshot_cb cb, void *payload)
{
	names n;
	names_of(&n, f);
	ec2_params q;
	aws_query_params_init(&q, n.describe, aws_api_rds.version);
	if (snapshot_name)
		ec2_param(&q, n.id_param, snapshot_name);
	if (owner_name)
		ec2_param(&q, f->owner_param, owner_name);
	emitting e = {f, region, cb, payload};
	int rc = aws_query_each(p, &aws_api_rds, region, subject, &q, n.list, emit, &e);
	ec2_params_dispose(&q);
	return rc;
}

int rds_describe_snapshot(aws_provider *p, const rds_flavour *f, const char *region,
			  const char *name, cp_snapshot_cb cb, void *payload)
{
	return describe(p, f, region, name, NULL, name, cb, payload);
}

/* ---- waiting ---- */

typedef struct wait_arg {
	const rds_flavour *f;
	const char *region, *name;
	cp_snapshot_state state;
} wait_arg;

static int poll_snapshot(aws_provider *p, void *arg, int *done, unsigned int *percent, char *status,
			 size_t cap)
{
	wait_arg *w = arg;
	names n;
	names_of(&n, w->f);
	xmlDoc *doc;
	xmlNode *s;
	int rc = aws_query_describe_one(p, &aws_api_rds, w->region, w->name, n.describe, n.id_param,
					w->name, n.list, &doc, &s);
	if (rc)
		return rc;
	xml_child_copy(s, "Status", status, cap);
	*percent = (unsigned int)xml_child_u64(s, "PercentProgress");
	w->state = state_of(status);
	xmlFreeDoc(doc);
	if (!s)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				    "RDS snapshot %s in %s vanished while waiting for it; was it "
				    "deleted?",
				    w->name, w->region);
	if (w->state == CP_SNAPSHOT_ERROR)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "RDS snapshot %s in %s failed (status '%s'); delete it and "
				    "take a new one",
				    w->name, w->region, status);
	*done = w->state == CP_SNAPSHOT_COMPLETED;
	return 0;
}

/* ---- create ---- */

/* The ARN of a DB instance or cluster; instead says what to do when it is a snapshot. */
static int parse_owner(aws_arn *a, const char *id, const rds_flavour **f, const char *instead)
{
	int rc = rds_arn_parse(a, id, "DB instance or cluster");
	if (rc)
		return rc;
	*f = rds_flavour_of(a);
	if (strcmp(a->type, (*f)->resource_type))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID, "aws: '%s' is a snapshot; %s",
				    id, instead);
	return 0;
}

int rds_snapshot_create(aws_provider *p, const char *resource_id,
			const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload)
{
	aws_arn a;
	const rds_flavour *f;
	int rc = parse_owner(&a, resource_id, &f,
			     "snapshot create wants the ARN of a DB instance (:db:) or cluster "
			     "(:cluster:)");
	if (rc)
		return rc;
	char name[256], action[64], id_param[64];
	rc = aws_snapshot_name(name, sizeof(name), a.name);
	if (rc)
		return rc;
	snprintf(action, sizeof(action), "Create%s", f->noun);
	snprintf(id_param, sizeof(id_param), "%sIdentifier", f->noun);
	ec2_params q;
	aws_query_params_init(&q, action, aws_api_rds.version);
	ec2_param(&q, id_param, name);
	ec2_param(&q, f->owner_param, a.name);
	if (opts && opts->ntags)
		ec2_param_tags(&q, "Tags.Tag", opts->tags, opts->ntags);
	xmlDoc *doc;
	rc = aws_query_call(p, &aws_api_rds, a.region, resource_id, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	cp_log(p->ctx, CP_LOG_INFO, "aws: %s: RDS snapshot %s started", resource_id, name);
	int wait = !opts || opts->wait;
	if (wait) {
		xmlFreeDoc(doc);
		wait_arg w = {f, a.region, name, CP_SNAPSHOT_PENDING};
		rc = aws_wait(p, "snapshot", name, poll_snapshot, &w,
			      opts ? opts->progress_cb : NULL,
			      opts ? opts->progress_payload : NULL);
		return rc ? rc : rds_describe_snapshot(p, f, a.region, name, cb, payload);
	}
	rc = rds_emit_snapshots(f, a.region, xml_child(aws_query_result(doc), f->noun), 1, cb,
				payload);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- list, get, delete ---- */

int rds_snapshot_list(aws_provider *p, const char *resource_id, cp_snapshot_cb cb, void *payload)
{
	if (resource_id) {
		aws_arn a;
		const rds_flavour *f;
		int rc = parse_owner(&a, resource_id, &f,
				     "list snapshots of a DB instance or cluster ARN, or of "
				     "everything");
		if (rc)
			return rc;
		return describe(p, f, a.region, NULL, a.name, resource_id, cb, payload);
	}
	int rc = 0;
	for (size_t i = 0; !rc && p->regions[i]; i++) {
		rc = describe(p, &rds_instance_flavour, p->regions[i], NULL, NULL, NULL, cb,
			      payload);
		if (!rc)
			rc = describe(p, &rds_cluster_flavour, p->regions[i], NULL, NULL, NULL, cb,
				      payload);
	}
	return rc;
}

static int parse_snapshot(aws_arn *a, const char *snapshot_id, const rds_flavour **f)
{
	int rc = rds_arn_parse(a, snapshot_id, "snapshot");
	if (rc)
		return rc;
	*f = rds_flavour_of(a);
	if (strcmp(a->type, (*f)->snapshot_type))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: '%s' is a DB instance or cluster, not a snapshot; "
				    "`cloudprotect snapshot list %s` shows its snapshots",
				    snapshot_id, snapshot_id);
	return 0;
}

int rds_snapshot_get(aws_provider *p, const char *snapshot_id, cp_snapshot_cb cb, void *payload)
{
	aws_arn a;
	const rds_flavour *f;
	int rc = parse_snapshot(&a, snapshot_id, &f);
	return rc ? rc : describe(p, f, a.region, a.name, NULL, snapshot_id, cb, payload);
}

int rds_snapshot_delete(aws_provider *p, const char *snapshot_id)
{
	aws_arn a;
	const rds_flavour *f;
	int rc = parse_snapshot(&a, snapshot_id, &f);
	if (rc)
		return rc;
	char action[64], id_param[64];
	snprintf(action, sizeof(action), "Delete%s", f->noun);
	snprintf(id_param, sizeof(id_param), "%sIdentifier", f->noun);
	ec2_params q;
	aws_query_params_init(&q, action, aws_api_rds.version);
	ec2_param(&q, id_param, a.name);
	xmlDoc *doc;
	rc = aws_query_call(p, &aws_api_rds, a.region, snapshot_id, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- copy ---- */

/*
 * Whether the source snapshot is encrypted: a copy to another region then
 * needs a KMS key there and a presigned URL of the copy, signed for the
 * source region (KMS keys never leave their region).
 */
static int is_encrypted(aws_provider *p, const rds_flavour *f, const aws_arn *a,
			const char *snapshot_id, int *encrypted)
{
	names n;
	names_of(&n, f);
	xmlDoc *doc;
	xmlNode *s;
	int rc = aws_query_describe_one(p, &aws_api_rds, a->region, snapshot_id, n.describe,
					n.id_param, a->name, n.list, &doc, &s);
	if (rc)
		return rc;
	char value[16];
	xml_child_copy(s, "Encrypted", value, sizeof(value));
	xmlFreeDoc(doc);
	if (!s)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				    "RDS snapshot %s not found in %s; `cloudprotect snapshot list` "
				    "shows the snapshots there",
				    snapshot_id, a->region);
	*encrypted = !strcmp(value, "true");
	return 0;
}

/* The configured key for copies into region; AWS's managed RDS key by default. */
static const char *kms_key_for(const aws_provider *p, const char *region)
{
	const char *any = NULL;
	for (size_t i = 0; p->rds_copy_kms_keys && p->rds_copy_kms_keys[i]; i += 2) {
		if (!strcmp(p->rds_copy_kms_keys[i], region))
			return p->rds_copy_kms_keys[i + 1];
		if (!strcmp(p->rds_copy_kms_keys[i], "*"))
			any = p->rds_copy_kms_keys[i + 1];
	}
	return any ? any : "alias/aws/rds";
}

typedef struct copy_request {
	const char *action, *source_param, *target_param;
	const char *source_arn, *target_name, *kms_key, *destination;
} copy_request;

/* The copy's parameters; destination (the target region) goes only into the presigned URL. */
static void copy_params(ec2_params *q, const copy_request *c)
{
	aws_query_params_init(q, c->action, aws_api_rds.version);
	ec2_param(q, c->source_param, c->source_arn);
	ec2_param(q, c->target_param, c->target_name);
	ec2_param(q, "CopyTags", "true");
	if (c->kms_key)
		ec2_param(q, "KmsKeyId", c->kms_key);
	if (c->destination)
		ec2_param(q, "DestinationRegion", c->destination);
}

/*
 * The same copy request as a GET to the source region's endpoint, presigned
 * there: the target region calls it to have the source share the snapshot.
 * The SDKs sign it for an hour; so do we. (AWS now documents it as needed
 * only between GovCloud regions and ignored elsewhere; sending it is safe.)
 */
static int presign_copy(aws_provider *p, const char *source_region, const copy_request *c,
			char **out)
{
	*out = NULL;
	ec2_params q;
	copy_params(&q, c);
	char *base = NULL, *url = NULL;
	int rc = q.rc ? q.rc
		      : aws_service_url(&base, aws_api_rds.env_name, aws_api_rds.host_prefix,
					source_region);
	if (!rc && asprintf(&url, "%s/?%.*s", base, (int)q.form.size, q.form.ptr) < 0) {
		url = NULL;
		rc = cp_error_oom();
	}
	cp_creds_value v = {0};
	rc = rc ? rc : cp_creds_get(p->creds, &v);
	if (!rc) {
		cp_sigv4_params sp = {0};
		sp.dialect = CP_SIGV4_AWS;
		sp.access_key = v.access_key;
		sp.secret_key = v.secret;
		sp.session_token = v.token;
		sp.region = source_region;
		sp.service = aws_api_rds.iam_prefix;
		rc = cp_sigv4_presign(&sp, "GET", url, NULL, 3600, out);
	}
	if (rc)
		rc = cp_error_prefix(rc, "aws: presigning the copy of %s from %s: ", c->source_arn,
				     source_region);
	cp_creds_value_dispose(&v);
	free(url);
	free(base);
	ec2_params_dispose(&q);
	return rc;
}

int rds_snapshot_copy(aws_provider *p, const char *snapshot_id, const char *region,
		      cp_snapshot_cb cb, void *payload)
{
	aws_arn a;
	const rds_flavour *f;
	int rc = parse_snapshot(&a, snapshot_id, &f);
	if (rc)
		return rc;
	if (!region || !*region)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: copying %s needs a target region", snapshot_id);
	int encrypted = 0;
	rc = is_encrypted(p, f, &a, snapshot_id, &encrypted);
	if (rc)
		return rc;
	char action[64], source[64], target[64], name[256];
	snprintf(action, sizeof(action), "Copy%s", f->noun);
	snprintf(source, sizeof(source), "Source%sIdentifier", f->noun);
	snprintf(target, sizeof(target), "Target%sIdentifier", f->noun);
	/* Automated snapshots are named "rds:NAME-DATE"; a copy's name may not hold ':'. */
	snprintf(name, sizeof(name), "%s", a.name);
	for (char *c = name; *c; c++)
		if (*c == ':')
			*c = '-';
	/* AWS wants the source ARN, sent to the target region's endpoint. */
	copy_request c = {action, source, target, snapshot_id, name, NULL, NULL};
	char *presigned = NULL;
	/* Within one region the copy keeps the source's key and AWS refuses a PreSignedUrl. */
	if (encrypted && strcmp(region, a.region)) {
		c.kms_key = kms_key_for(p, region);
		c.destination = region;
		rc = presign_copy(p, a.region, &c, &presigned);
		if (rc)
			return rc;
		c.destination = NULL;
	}
	ec2_params q;
	copy_params(&q, &c);
	if (presigned) {
		ec2_param(&q, "PreSignedUrl", presigned);
		/* It may carry a session token. */
		cp_secret_wipe(presigned, strlen(presigned));
		free(presigned);
	}
	xmlDoc *doc;
	rc = aws_query_call(p, &aws_api_rds, region, snapshot_id, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	xmlNode *copy = xml_child(aws_query_result(doc), f->noun);
	if (!copy)
		rc = cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				  "RDS %s of %s to %s returned no snapshot", action, snapshot_id,
				  region);
	rc = rc ? rc : rds_emit_snapshots(f, region, copy, 1, cb, payload);
	xmlFreeDoc(doc);
	return rc;
}
