/*
 * EBS snapshots through EC2: create (one volume, or every volume of an
 * instance at one point in time with CreateSnapshots), describe, delete,
 * copy to another region (tags: ec2_tags.c).
 *
 * EC2 records neither the instance a snapshot came from nor which
 * snapshots were taken together, so we tag our snapshots with
 * cloudprotect:instance and cloudprotect:group (a fresh id per
 * CreateSnapshots call) and read them back as instance_id and group_id.
 */
#include "ctx.h"
#include "error.h"
#include "provider_aws.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int emit_snapshot(const char *region, xmlNode *s, cp_snapshot_cb cb, void *payload)
{
	char id[64], vol[64], state[32], start[64];
	xml_child_copy(s, "snapshotId", id, sizeof(id));
	xml_child_copy(s, "volumeId", vol, sizeof(vol));
	xml_child_copy(s, "status", state, sizeof(state));
	if (!state[0]) /* CreateSnapshots says "state" where the others say "status" */
		xml_child_copy(s, "state", state, sizeof(state));
	xml_child_copy(s, "startTime", start, sizeof(start));
	aws_tags tags;
	int rc = aws_tags_parse(&tags, xml_child(s, "tagSet"));
	if (rc)
		return rc;
	cp_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.id = id;
	snap.resource_id = vol;
	snap.instance_id = aws_tags_get(&tags, AWS_TAG_INSTANCE);
	snap.group_id = aws_tags_get(&tags, AWS_TAG_GROUP);
	snap.region = region;
	snap.size = xml_child_u64(s, "volumeSize") * GIB;
	snap.block_size = EBS_BLOCK_SIZE;
	snap.kind = CP_RESOURCE_DISK;
	snap.created = aws_parse_time(start);
	snap.state = !strcmp(state, "completed") ? CP_SNAPSHOT_COMPLETED
		     : !strcmp(state, "error")	 ? CP_SNAPSHOT_ERROR
						 : CP_SNAPSHOT_PENDING;
	snap.tags = tags.items;
	snap.ntags = tags.count;
	rc = cb(&snap, payload);
	aws_tags_dispose(&tags);
	return rc;
}

static int emit_set(const char *region, xmlNode *root, cp_snapshot_cb cb, void *payload)
{
	xmlNode *set = xml_child(root, "snapshotSet");
	int rc = 0;
	for (xmlNode *s = xml_item(set ? set->children : NULL); s && !rc; s = xml_item(s->next))
		rc = emit_snapshot(region, s, cb, payload);
	return rc;
}

/* DescribeSnapshots of exactly these ids in one region. */
static int describe_ids(aws_provider *p, const char *region, char *const *ids, size_t n,
			cp_snapshot_cb cb, void *payload)
{
	ec2_params q;
	ec2_params_init(&q, "DescribeSnapshots");
	for (size_t i = 0; i < n; i++)
		ec2_paramf(&q, ids[i], "SnapshotId.%zu", i + 1);
	xmlDoc *doc;
	int rc = ec2_call(p, region, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	rc = emit_set(region, xmlDocGetRootElement(doc), cb, payload);
	xmlFreeDoc(doc);
	return rc;
}

typedef struct wait_state {
	size_t completed;
	unsigned int percent; /* summed over the pending ones */
	int failed;
	char failed_id[64];
} wait_state;

static int count_state(const cp_snapshot *s, void *payload)
{
	wait_state *w = payload;
	if (s->state == CP_SNAPSHOT_COMPLETED)
		w->completed++;
	if (s->state == CP_SNAPSHOT_ERROR && !w->failed) {
		w->failed = 1;
		snprintf(w->failed_id, sizeof(w->failed_id), "%s", s->id);
	}
	return 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ec2_snapshots_wait(aws_provider *p, const char *region, char *const *ids, size_t n,
		       cp_progress_cb progress_cb, void *progress_payload)
{
	int64_t deadline = now_ms() + (int64_t)p->wait_timeout_s * 1000;
	size_t readable = 0;
	for (;;) {
		wait_state w;
		memset(&w, 0, sizeof(w));
		int rc = describe_ids(p, region, ids, n, count_state, &w);
		if (rc)
			return rc;
		if (w.failed)
			return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
					    "snapshot %s in %s failed (state error); delete it "
					    "and take a new one",
					    w.failed_id, region);
		/* Completed is not enough: EBS direct may refuse the blocks for a while. */
		while (w.completed == n && readable < n) {
			rc = ebs_snapshot_readable(p, ids[readable]);
			if (rc == CP_EBUSY)
				break;
			if (rc)
				return rc;
			readable++;
		}
		cp_progress pr = {"snapshot", w.completed + readable, 2 * (uint64_t)n, 0, ids[0]};
		rc = cp_progress_report(progress_cb, progress_payload, &pr);
		if (rc)
			return rc;
		if (readable == n)
			return 0;
		if (now_ms() > deadline)
			return cp_error_set(CP_ETIMEOUT, CP_ERRCLASS_PROVIDER,
					    "snapshot %s in %s is not readable after %u s (%zu of "
					    "%zu completed); raise wait_timeout_s or check the "
					    "snapshot in the EC2 console",
					    ids[0], region, p->wait_timeout_s, w.completed, n);
		cp_log(p->ctx, CP_LOG_DEBUG, "aws: waiting for %zu snapshot(s), %zu completed", n,
		       w.completed);
		sleep_ms(p->poll_ms);
	}
}

static int new_group_id(char out[40])
{
	unsigned char r[8];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_OS, "no random bytes from OpenSSL");
	snprintf(out, 40, "cpg-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
		 r[5], r[6], r[7]);
	return 0;
}

/* The snapshot ids of a create answer (top level or snapshotSet). */
static int collect_ids(xmlNode *root, char ***ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	xmlNode *set = xml_child(root, "snapshotSet");
	size_t cap = 1;
	for (xmlNode *s = xml_item(set ? set->children : NULL); s; s = xml_item(s->next))
		cap++;
	*ids = calloc(cap + 1, sizeof(char *));
	if (!*ids)
		return cp_error_oom();
	if (!set) {
		(*ids)[0] = xml_child_text(root, "snapshotId");
		*n = (*ids)[0] ? 1 : 0;
		return 0;
	}
	for (xmlNode *s = xml_item(set->children); s; s = xml_item(s->next)) {
		char *id = xml_child_text(s, "snapshotId");
		if (id)
			(*ids)[(*n)++] = id;
	}
	return 0;
}

static void free_ids(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

static int add_snapshot_tags(ec2_params *q, const cp_snapshot_create_options *opts,
			     const char *instance, const char *group)
{
	size_t n = opts ? opts->ntags : 0;
	cp_tag *all = calloc(n + 2, sizeof(cp_tag));
	if (!all)
		return cp_error_oom();
	for (size_t i = 0; i < n; i++)
		all[i] = opts->tags[i];
	if (instance) {
		all[n].key = AWS_TAG_INSTANCE;
		all[n++].value = instance;
		all[n].key = AWS_TAG_GROUP;
		all[n++].value = group;
	}
	if (n) {
		ec2_param(q, "TagSpecification.1.ResourceType", "snapshot");
		ec2_param_tags(q, "TagSpecification.1.Tag", all, n);
	}
	free(all);
	return 0;
}

int ec2_snapshot_create(void *state, const char *resource_id,
			const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload)
{
	aws_provider *p = state;
	int instance = !strncmp(resource_id, "i-", 2);
	if (!instance && strncmp(resource_id, "vol-", 4))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "'%s' is neither an instance (i-...) nor a volume (vol-...) id",
				    resource_id);
	char group[40] = "";
	ec2_params q;
	int rc = instance ? new_group_id(group) : 0;
	if (rc)
		return rc;
	ec2_params_init(&q, instance ? "CreateSnapshots" : "CreateSnapshot");
	if (instance) {
		ec2_param(&q, "InstanceSpecification.InstanceId", resource_id);
		ec2_param(&q, "CopyTagsFromSource", "volume");
	} else {
		ec2_param(&q, "VolumeId", resource_id);
	}
	ec2_param(&q, "Description",
		  opts && opts->description ? opts->description : "cloudprotect snapshot");
	rc = add_snapshot_tags(&q, opts, instance ? resource_id : NULL, group);
	xmlDoc *doc = NULL;
	rc = rc ? rc : ec2_call(p, NULL, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	char **ids;
	size_t n;
	rc = collect_ids(xmlDocGetRootElement(doc), &ids, &n);
	if (!rc && !n)
		rc = cp_error_set(
			CP_ERROR, CP_ERRCLASS_PROVIDER,
			"EC2 made no snapshot of %s (does the instance have EBS volumes?)",
			resource_id);
	if (!rc)
		cp_log(p->ctx, CP_LOG_INFO, "aws: %s: %zu snapshot(s) started%s%s", resource_id, n,
		       group[0] ? ", group " : "", group);
	int wait = !opts || opts->wait;
	if (!rc && wait)
		rc = ec2_snapshots_wait(p, p->region, ids, n, opts ? opts->progress_cb : NULL,
					opts ? opts->progress_payload : NULL);
	if (!rc && wait)
		rc = describe_ids(p, p->region, ids, n, cb, payload);
	else if (!rc)
		rc = xml_child(xmlDocGetRootElement(doc), "snapshotSet")
			     ? emit_set(p->region, xmlDocGetRootElement(doc), cb, payload)
			     : emit_snapshot(p->region, xmlDocGetRootElement(doc), cb, payload);
	free_ids(ids, n);
	xmlFreeDoc(doc);
	return rc;
}

typedef struct snapshot_page {
	const char *region;
	cp_snapshot_cb cb;
	void *payload;
} snapshot_page;

static int emit_snapshot_page(xmlNode *root, void *arg)
{
	snapshot_page *c = arg;
	return emit_set(c->region, root, c->cb, c->payload);
}

static int list_region(aws_provider *p, const char *region, const char *resource_id,
		       cp_snapshot_cb cb, void *payload)
{
	ec2_params q;
	ec2_params_init(&q, "DescribeSnapshots");
	ec2_param(&q, "Owner.1", "self");
	if (resource_id && !strncmp(resource_id, "vol-", 4)) {
		ec2_param(&q, "Filter.1.Name", "volume-id");
		ec2_param(&q, "Filter.1.Value.1", resource_id);
	} else if (resource_id) {
		ec2_param(&q, "Filter.1.Name", "tag:" AWS_TAG_INSTANCE);
		ec2_param(&q, "Filter.1.Value.1", resource_id);
	}
	snapshot_page c = {region, cb, payload};
	int rc = ec2_each_page(p, region, &q, p->page_size, emit_snapshot_page, &c);
	ec2_params_dispose(&q);
	return rc;
}

int ec2_snapshot_list(void *state, const char *resource_id, cp_snapshot_cb cb, void *payload)
{
	aws_provider *p = state;
	int rc = 0;
	for (size_t i = 0; !rc && p->regions[i]; i++)
		rc = list_region(p, p->regions[i], resource_id, cb, payload);
	return rc;
}

int ec2_snapshot_get(void *state, const char *snapshot_id, cp_snapshot_cb cb, void *payload)
{
	aws_provider *p = state;
	char *ids[1] = {(char *)snapshot_id};
	int rc = describe_ids(p, p->region, ids, 1, cb, payload);
	/* A copy lives in its target region: look there too before giving up. */
	for (size_t i = 0; rc == CP_ENOTFOUND && p->regions[i]; i++)
		if (strcmp(p->regions[i], p->region))
			rc = describe_ids(p, p->regions[i], ids, 1, cb, payload);
	return rc;
}

int ec2_snapshot_delete(void *state, const char *snapshot_id)
{
	aws_provider *p = state;
	ec2_params q;
	ec2_params_init(&q, "DeleteSnapshot");
	ec2_param(&q, "SnapshotId", snapshot_id);
	xmlDoc *doc;
	int rc = ec2_call(p, NULL, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	return rc;
}

int ec2_snapshot_copy(void *state, const char *snapshot_id, const char *region, cp_snapshot_cb cb,
		      void *payload)
{
	aws_provider *p = state;
	/* CopySnapshot is sent to the destination region and pulls from the source. */
	ec2_params q;
	ec2_params_init(&q, "CopySnapshot");
	ec2_param(&q, "SourceRegion", p->region);
	ec2_param(&q, "SourceSnapshotId", snapshot_id);
	ec2_param(&q, "Description", "cloudprotect copy");
	xmlDoc *doc;
	int rc = ec2_call(p, region, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	char *copy = xml_child_text(xmlDocGetRootElement(doc), "snapshotId");
	xmlFreeDoc(doc);
	if (!copy)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "EC2 CopySnapshot of %s to %s returned no snapshot id",
				    snapshot_id, region);
	char *ids[1] = {copy};
	rc = describe_ids(p, region, ids, 1, cb, payload);
	free(copy);
	return rc;
}
