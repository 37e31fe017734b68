/*
 * Workers on EC2: an instance launched with RunInstances whose user data
 * is the job, tagged cloudprotect:worker=JOB and cloudprotect:expires=UNIX
 * so that `worker list` and `worker reap` find it from any machine.
 *
 * How a job reports its end (the contract a job script follows):
 *   - the instance is launched with InstanceInitiatedShutdownBehavior=stop,
 *     so a job ends by shutting the machine down (`shutdown -h now`);
 *   - a stopped worker has FINISHED, unless it tagged itself
 *     cloudprotect:result=failed before shutting down (its instance profile
 *     needs ec2:CreateTags on itself), then it has FAILED;
 *   - a job that never shuts down runs into the caller's timeout.
 * Terminating is ours to do (cp_worker_run does it on every path), so a
 * stopped worker's disks stay readable until then.
 *
 * Ids: "i-..." for a worker in the provider's default region,
 * "REGION/i-..." for one launched elsewhere, so get and terminate find it.
 *
 * RunInstances carries a ClientToken: when an answer is lost after EC2
 * acted (a 5xx, a dropped connection), the call is repeated with the same
 * token, and EC2 answers with the instance it already launched instead of
 * launching a second one.
 */
#include "auth/digest.h"
#include "ctx.h"
#include "error.h"
#include "provider_aws.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKER_DEFAULT_TTL 3600u
/* Attempts of a RunInstances whose answer was lost: the token makes each one safe. */
#define RUN_ATTEMPTS 4

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int client_token(char out[40])
{
	unsigned char r[16];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_OS, "no random bytes from OpenSSL");
	int n = snprintf(out, 40, "cp-");
	for (size_t i = 0; i < sizeof(r); i++)
		n += snprintf(out + n, 40 - (size_t)n, "%02x", r[i]);
	return 0;
}

/* Whether EC2 may have acted although the call failed: then repeat it with the same token. */
static int answer_lost(int rc)
{
	const cp_error *e = cp_error_last();
	if (rc == CP_EIO || rc == CP_ETIMEOUT || rc == CP_ETHROTTLED)
		return 1;
	return e && e->http_status >= 500;
}

static void add_tag(ec2_params *q, size_t spec, size_t *n, const char *key, const char *value)
{
	++*n;
	ec2_paramf(q, key, "TagSpecification.%zu.Tag.%zu.Key", spec, *n);
	ec2_paramf(q, value ? value : "", "TagSpecification.%zu.Tag.%zu.Value", spec, *n);
}

int ec2_run_instance(aws_provider *p, const ec2_launch *l, char **instance_id)
{
	*instance_id = NULL;
	char token[40];
	int rc = client_token(token);
	if (rc)
		return rc;
	cp_buf user_data = CP_BUF_INIT;
	if (l->user_data && *l->user_data &&
	    (rc = cp_base64_encode(&user_data, l->user_data, strlen(l->user_data), 0)))
		return rc;
	ec2_params q;
	ec2_params_init(&q, "RunInstances");
	ec2_param(&q, "ImageId", l->image);
	ec2_param(&q, "InstanceType", l->instance_type);
	ec2_param(&q, "MinCount", "1");
	ec2_param(&q, "MaxCount", "1");
	ec2_param(&q, "ClientToken", token);
	if (l->subnet)
		ec2_param(&q, "SubnetId", l->subnet);
	if (l->identity)
		ec2_param(&q,
			  !strncmp(l->identity, "arn:", 4) ? "IamInstanceProfile.Arn"
							   : "IamInstanceProfile.Name",
			  l->identity);
	if (user_data.size) {
		/* cp_buf is not NUL-terminated by contract: add one for ec2_param. */
		rc = cp_buf_put(&user_data, "", 1);
		ec2_param(&q, "UserData", user_data.ptr);
	}
	if (l->shutdown_behavior)
		ec2_param(&q, "InstanceInitiatedShutdownBehavior", l->shutdown_behavior);
	size_t n = 0;
	ec2_param(&q, "TagSpecification.1.ResourceType", "instance");
	if (l->name)
		add_tag(&q, 1, &n, "Name", l->name);
	for (size_t i = 0; i < l->nextra; i++)
		add_tag(&q, 1, &n, l->extra[i].key, l->extra[i].value);
	for (size_t i = 0; i < l->ntags; i++)
		add_tag(&q, 1, &n, l->tags[i].key, l->tags[i].value);
	cp_buf_dispose(&user_data);
	if (rc) {
		ec2_params_dispose(&q);
		return rc;
	}
	xmlDoc *doc = NULL;
	for (unsigned int attempt = 1;; attempt++) {
		rc = ec2_call(p, l->region, &q, &doc);
		if (!rc || attempt == RUN_ATTEMPTS || !answer_lost(rc))
			break;
		cp_log(p->ctx, CP_LOG_WARN,
		       "aws: RunInstances answer lost (%s); asking again with the same client "
		       "token, which cannot launch a second instance",
		       cp_error_last() ? cp_error_last()->message : "no answer");
		sleep_ms(200u * attempt);
	}
	ec2_params_dispose(&q);
	if (rc)
		return cp_error_prefix(
			rc, "launching an instance of %s from %s: ", l->instance_type, l->image);
	xmlNode *set = xml_child(xmlDocGetRootElement(doc), "instancesSet");
	xmlNode *item = xml_item(set ? set->children : NULL);
	*instance_id = item ? xml_child_text(item, "instanceId") : NULL;
	xmlFreeDoc(doc);
	if (!*instance_id)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "EC2 RunInstances of %s answered without an instance id; check "
				    "the EC2 console for an instance with client token %s",
				    l->image, token);
	return 0;
}

/* ---- ids: "i-..." or "REGION/i-..." ---- */

typedef struct worker_ref {
	char region[64];
	char instance[64];
} worker_ref;

static int parse_ref(worker_ref *out, aws_provider *p, const char *id)
{
	const char *slash = strchr(id, '/');
	const char *inst = slash ? slash + 1 : id;
	if (strncmp(inst, "i-", 2) || strlen(inst) >= sizeof(out->instance) ||
	    (slash && (size_t)(slash - id) >= sizeof(out->region)) || slash == id)
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"'%s' is not an aws worker id; they look like i-0123456789abcdef0 "
			"or us-west-2/i-0123456789abcdef0 (`cloudprotect worker list`)",
			id);
	if (slash)
		snprintf(out->region, sizeof(out->region), "%.*s", (int)(slash - id), id);
	else
		snprintf(out->region, sizeof(out->region), "%s", p->region);
	snprintf(out->instance, sizeof(out->instance), "%s", inst);
	return 0;
}

static void format_id(char *out, size_t cap, aws_provider *p, const char *region,
		      const char *instance)
{
	if (!strcmp(region, p->region))
		snprintf(out, cap, "%s", instance);
	else
		snprintf(out, cap, "%s/%s", region, instance);
}

int ec2_worker_launch(void *state, const cp_worker_options *opts, char **id_out)
{
	aws_provider *p = state;
	*id_out = NULL;
	const char *region = opts->region ? opts->region : p->region;
	const char *job = opts->job && *opts->job ? opts->job : "worker";
	char expires[32], name[160];
	snprintf(expires, sizeof(expires), "%lld",
		 (long long)time(NULL) +
			 (opts->ttl_seconds ? opts->ttl_seconds : WORKER_DEFAULT_TTL));
	snprintf(name, sizeof(name), "cloudprotect-worker-%s", job);
	cp_tag ours[] = {{AWS_TAG_WORKER, job}, {AWS_TAG_EXPIRES, expires}};
	ec2_launch l = {0};
	l.region = region;
	l.image = opts->image;
	l.instance_type = opts->size_class;
	l.subnet = opts->subnet;
	l.identity = opts->identity;
	l.user_data = opts->user_data;
	l.shutdown_behavior = "stop";
	l.name = name;
	l.extra = ours;
	l.nextra = 2;
	l.tags = opts->tags;
	l.ntags = opts->ntags;
	char *instance = NULL;
	int rc = ec2_run_instance(p, &l, &instance);
	if (rc)
		return cp_error_prefix(rc, "worker for job '%s': ", job);
	char id[160];
	format_id(id, sizeof(id), p, region, instance);
	free(instance);
	*id_out = strdup(id);
	if (!*id_out)
		return cp_error_oom();
	cp_log(p->ctx, CP_LOG_DEBUG, "aws: worker %s launched for job '%s'", id, job);
	return 0;
}

/* ---- describing ---- */

static cp_worker_state state_from(const char *ec2_state, const aws_tags *tags)
{
	if (!strcmp(ec2_state, "pending"))
		return CP_WORKER_STARTING;
	if (!strcmp(ec2_state, "running") || !strcmp(ec2_state, "stopping"))
		return CP_WORKER_RUNNING;
	if (!strcmp(ec2_state, "stopped")) {
		const char *result = aws_tags_get(tags, AWS_TAG_RESULT);
		return result && !strcmp(result, "failed") ? CP_WORKER_FAILED : CP_WORKER_FINISHED;
	}
	/* shutting-down, terminated: on the way out or gone. */
	return CP_WORKER_TERMINATED;
}

static int emit_worker(aws_provider *p, const char *region, xmlNode *inst, cp_worker_cb cb,
		       void *payload)
{
	char instance[64], ec2_state[32], launched[64], address[64], id[160];
	xml_child_copy(inst, "instanceId", instance, sizeof(instance));
	xml_child_copy(xml_child(inst, "instanceState"), "name", ec2_state, sizeof(ec2_state));
	xml_child_copy(inst, "launchTime", launched, sizeof(launched));
	xml_child_copy(inst, "privateIpAddress", address, sizeof(address));
	aws_tags tags;
	int rc = aws_tags_parse(&tags, xml_child(inst, "tagSet"));
	if (rc)
		return rc;
	format_id(id, sizeof(id), p, region, instance);
	const char *expires = aws_tags_get(&tags, AWS_TAG_EXPIRES);
	cp_worker_info w = {0};
	w.id = id;
	w.region = region;
	w.job = aws_tags_get(&tags, AWS_TAG_WORKER);
	w.address = address[0] ? address : NULL;
	w.state = state_from(ec2_state, &tags);
	w.launched = aws_parse_time(launched);
	w.expires = expires ? strtoll(expires, NULL, 10) : 0;
	rc = cb ? cb(&w, payload) : 0;
	aws_tags_dispose(&tags);
	return rc;
}

/* Every instance of a DescribeInstances answer. */
static int emit_reservations(aws_provider *p, const char *region, xmlNode *root, cp_worker_cb cb,
			     void *payload, size_t *seen)
{
	xmlNode *rs = xml_child(root, "reservationSet");
	int rc = 0;
	for (xmlNode *r = xml_item(rs ? rs->children : NULL); r && !rc; r = xml_item(r->next)) {
		xmlNode *is = xml_child(r, "instancesSet");
		for (xmlNode *i = xml_item(is ? is->children : NULL); i && !rc;
		     i = xml_item(i->next)) {
			rc = emit_worker(p, region, i, cb, payload);
			++*seen;
		}
	}
	return rc;
}

typedef struct worker_page {
	aws_provider *p;
	const char *region;
	cp_worker_cb cb;
	void *payload;
} worker_page;

static int emit_worker_page(xmlNode *root, void *arg)
{
	worker_page *c = arg;
	size_t seen = 0;
	return emit_reservations(c->p, c->region, root, c->cb, c->payload, &seen);
}

/* action on a worker's one instance, in its region. */
static int call_on_worker(aws_provider *p, const worker_ref *ref, const char *action, xmlDoc **doc)
{
	ec2_params q;
	ec2_params_init(&q, action);
	ec2_param(&q, "InstanceId.1", ref->instance);
	int rc = ec2_call(p, ref->region, &q, doc);
	ec2_params_dispose(&q);
	return rc;
}

int ec2_worker_get(void *state, const char *id, cp_worker_cb cb, void *payload)
{
	aws_provider *p = state;
	worker_ref ref;
	int rc = parse_ref(&ref, p, id);
	if (rc)
		return rc;
	xmlDoc *doc = NULL;
	rc = call_on_worker(p, &ref, "DescribeInstances", &doc);
	if (rc)
		return rc == CP_ENOTFOUND ? cp_error_prefix(rc, "worker %s: ", id) : rc;
	size_t seen = 0;
	rc = emit_reservations(p, ref.region, xmlDocGetRootElement(doc), cb, payload, &seen);
	xmlFreeDoc(doc);
	if (!rc && !seen)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				  "no worker %s in %s; `cloudprotect --provider aws worker list` "
				  "shows the workers there",
				  id, ref.region);
	return rc;
}

int ec2_worker_list(void *state, cp_worker_cb cb, void *payload)
{
	aws_provider *p = state;
	ec2_params q;
	ec2_params_init(&q, "DescribeInstances");
	ec2_param(&q, "Filter.1.Name", "tag-key");
	ec2_param(&q, "Filter.1.Value.1", AWS_TAG_WORKER);
	ec2_param(&q, "Filter.2.Name", "instance-state-name");
	static const char *const alive[] = {"pending", "running", "stopping", "stopped"};
	for (size_t i = 0; i < sizeof(alive) / sizeof(alive[0]); i++)
		ec2_paramf(&q, alive[i], "Filter.2.Value.%zu", i + 1);
	int rc = 0;
	/* Workers live where they were launched: walk every configured region. */
	for (size_t r = 0; !rc && p->regions[r]; r++) {
		const char *region = p->regions[r][0] ? p->regions[r] : p->region;
		worker_page c = {p, region, cb, payload};
		rc = ec2_each_page(p, region, &q, p->page_size, emit_worker_page, &c);
	}
	ec2_params_dispose(&q);
	return rc;
}

int ec2_worker_terminate(void *state, const char *id)
{
	aws_provider *p = state;
	worker_ref ref;
	int rc = parse_ref(&ref, p, id);
	if (rc)
		return rc;
	xmlDoc *doc = NULL;
	rc = call_on_worker(p, &ref, "TerminateInstances", &doc);
	xmlFreeDoc(doc);
	if (rc == CP_ENOTFOUND) {
		/* Gone already (terminated long ago, or never ours): nothing left to pay for. */
		cp_error_clear();
		return 0;
	}
	if (rc)
		return cp_error_prefix(rc, "terminating worker %s: ", id);
	cp_log(p->ctx, CP_LOG_DEBUG, "aws: worker %s terminating", id);
	return 0;
}
