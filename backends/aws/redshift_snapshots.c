/*
 * Redshift manual snapshots: create (and wait until available), describe,
 * delete, restore to a new cluster. Snapshot ids are
 * arn:PARTITION:redshift:REGION:ACCOUNT:snapshot:CLUSTER/NAME.
 *
 * Redshift has no per-snapshot copy to another region: it copies a
 * cluster's snapshots automatically once cross-region snapshot copy is
 * enabled on the cluster (EnableSnapshotCopy), so snapshot_copy says so.
 */
#include "ctx.h"
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024ull * 1024)
/* Cluster identifiers: at most 63 lowercase letters, digits and single hyphens. */
#define REDSHIFT_ID_MAX 63

/* A snapshot ARN split into region, cluster and snapshot name. */
typedef struct snap_ref {
	aws_arn arn;
	char cluster[256], name[256];
} snap_ref;

static int parse_cluster(aws_arn *a, const char *id)
{
	if (aws_arn_parse(a, id) || strcmp(a->service, "redshift") || strcmp(a->type, "cluster"))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: '%s' is not the ARN of a Redshift cluster "
				    "(arn:aws:redshift:REGION:ACCOUNT:cluster:NAME); `cloudprotect "
				    "--provider aws inventory --kind warehouse` prints them",
				    id);
	return 0;
}

static int parse_snapshot(snap_ref *s, const char *id)
{
	const char *slash = NULL;
	if (!aws_arn_parse(&s->arn, id) && !strcmp(s->arn.service, "redshift") &&
	    !strcmp(s->arn.type, "snapshot"))
		slash = strchr(s->arn.name, '/');
	if (!slash || !slash[1])
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: '%s' is not the ARN of a Redshift snapshot "
				    "(arn:aws:redshift:REGION:ACCOUNT:snapshot:CLUSTER/NAME); "
				    "`cloudprotect --provider aws snapshot list` prints them",
				    id);
	snprintf(s->cluster, sizeof(s->cluster), "%.*s", (int)(slash - s->arn.name), s->arn.name);
	snprintf(s->name, sizeof(s->name), "%s", slash + 1);
	return 0;
}

static cp_snapshot_state state_of(const char *status)
{
	if (!strcmp(status, "available"))
		return CP_SNAPSHOT_COMPLETED;
	if (!strcmp(status, "failed") || !strcmp(status, "deleted"))
		return CP_SNAPSHOT_ERROR;
	return CP_SNAPSHOT_PENDING;
}

static int emit_snapshot(const char *region, const char *account_hint, xmlNode *s,
			 cp_snapshot_cb cb, void *payload)
{
	char arn[600], name[256], cluster[256], status[64], created[64], owner[32];
	char resource[600];
	xml_child_copy(s, "SnapshotArn", arn, sizeof(arn));
	xml_child_copy(s, "SnapshotIdentifier", name, sizeof(name));
	xml_child_copy(s, "ClusterIdentifier", cluster, sizeof(cluster));
	xml_child_copy(s, "Status", status, sizeof(status));
	xml_child_copy(s, "SnapshotCreateTime", created, sizeof(created));
	xml_child_copy(s, "OwnerAccount", owner, sizeof(owner));
	aws_arn a;
	const char *account = !aws_arn_parse(&a, arn) ? a.account : owner[0] ? owner : account_hint;
	if (!arn[0])
		snprintf(arn, sizeof(arn), "arn:%s:redshift:%s:%s:snapshot:%s/%s",
			 aws_partition_of(region), region, account, cluster, name);
	snprintf(resource, sizeof(resource), "arn:%s:redshift:%s:%s:cluster:%s",
		 aws_partition_of(region), region, account, cluster);
	aws_tags tags;
	int rc = aws_query_tags_parse(&tags, xml_child(s, "Tags"));
	if (rc)
		return rc;
	cp_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	snap.id = arn;
	snap.resource_id = resource;
	snap.region = region;
	snap.size = xml_child_u64(s, "TotalBackupSizeInMegaBytes") * MIB;
	snap.created = aws_parse_time(created);
	snap.state = state_of(status);
	snap.tags = tags.items;
	snap.ntags = tags.count;
	snap.kind = CP_RESOURCE_WAREHOUSE;
	rc = cb(&snap, payload);
	aws_tags_dispose(&tags);
	return rc;
}

typedef struct emitting {
	const char *region, *account_hint, *cluster;
	cp_snapshot_cb cb;
	void *payload;
} emitting;

static int emit(xmlNode *s, void *arg)
{
	const emitting *e = arg;
	char of[256];
	xml_child_copy(s, "ClusterIdentifier", of, sizeof(of));
	if (e->cluster && strcmp(of, e->cluster))
		return 0;
	return emit_snapshot(e->region, e->account_hint, s, e->cb, e->payload);
}

/* Manual snapshots of one cluster, one snapshot, or all, in one region. */
static int describe(aws_provider *p, const char *region, const char *account_hint,
		    const char *cluster, const char *name, const char *subject, cp_snapshot_cb cb,
		    void *payload)
{
	ec2_params q;
	aws_query_params_init(&q, "DescribeClusterSnapshots", aws_api_redshift.version);
	/* A snapshot name is unique in its account and region; name it alone
	 * (moto ignores it when the cluster is given too). */
	if (name)
		ec2_param(&q, "SnapshotIdentifier", name);
	else if (cluster)
		ec2_param(&q, "ClusterIdentifier", cluster);
	emitting e = {region, account_hint, cluster, cb, payload};
	int rc = aws_query_each(p, &aws_api_redshift, region, subject, &q, "Snapshots", emit, &e);
	ec2_params_dispose(&q);
	return rc;
}

typedef struct counter {
	size_t n;
} counter;

static int count(const cp_snapshot *s, void *payload)
{
	(void)s;
	((counter *)payload)->n++;
	return 0;
}

static int describe_one(aws_provider *p, const snap_ref *s, const char *id, cp_snapshot_cb cb,
			void *payload)
{
	counter c = {0};
	int rc = describe(p, s->arn.region, s->arn.account, s->cluster, s->name, id, count, &c);
	if (!rc && !c.n)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				    "Redshift snapshot %s not found in %s; check the ARN", id,
				    s->arn.region);
	return rc ? rc
		  : describe(p, s->arn.region, s->arn.account, s->cluster, s->name, id, cb,
			     payload);
}

/* ---- waiting ---- */

typedef struct wait_snap {
	const char *region, *cluster, *name;
} wait_snap;

static int poll_snapshot(aws_provider *p, void *arg, int *done, unsigned int *percent, char *status,
			 size_t cap)
{
	wait_snap *w = arg;
	xmlDoc *doc;
	xmlNode *s;
	int rc = aws_query_describe_one(p, &aws_api_redshift, w->region, w->name,
					"DescribeClusterSnapshots", "SnapshotIdentifier", w->name,
					"Snapshots", &doc, &s);
	if (rc)
		return rc;
	xml_child_copy(s, "Status", status, cap);
	uint64_t total = xml_child_u64(s, "TotalBackupSizeInMegaBytes");
	uint64_t done_mb = xml_child_u64(s, "BackupProgressInMegaBytes");
	*percent = total ? (unsigned int)(done_mb * 100 / total) : 0;
	xmlFreeDoc(doc);
	if (!s)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				    "Redshift snapshot %s of %s in %s vanished while waiting for "
				    "it; was it deleted?",
				    w->name, w->cluster, w->region);
	if (state_of(status) == CP_SNAPSHOT_ERROR)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "Redshift snapshot %s of %s in %s is '%s'; take a new one",
				    w->name, w->cluster, w->region, status);
	*done = state_of(status) == CP_SNAPSHOT_COMPLETED;
	return 0;
}

static int poll_cluster(aws_provider *p, void *arg, int *done, unsigned int *percent, char *status,
			size_t cap)
{
	wait_snap *w = arg;
	xmlDoc *doc;
	xmlNode *c;
	int rc = aws_query_describe_one(p, &aws_api_redshift, w->region, w->cluster,
					"DescribeClusters", "ClusterIdentifier", w->cluster,
					"Clusters", &doc, &c);
	if (rc)
		return rc;
	xml_child_copy(c, "ClusterStatus", status, cap);
	xmlNode *restore = xml_child(c, "RestoreStatus");
	uint64_t total = xml_child_u64(restore, "SnapshotSizeInMegaBytes");
	uint64_t done_mb = xml_child_u64(restore, "ProgressInMegaBytes");
	*percent = total ? (unsigned int)(done_mb * 100 / total) : 0;
	xmlFreeDoc(doc);
	*done = !strcmp(status, "available");
	if (!strncmp(status, "incompatible", 12) || !strcmp(status, "hardware-failure") ||
	    !strcmp(status, "storage-full"))
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "Redshift cluster %s in %s ended in status '%s'; see its "
				    "events in the Redshift console, delete it and restore again",
				    w->cluster, w->region, status);
	return 0;
}

/* ---- create, list, get, delete, copy ---- */

int redshift_snapshot_create(aws_provider *p, const char *resource_id,
			     const cp_snapshot_create_options *opts, cp_snapshot_cb cb,
			     void *payload)
{
	aws_arn a;
	int rc = parse_cluster(&a, resource_id);
	char name[256];
	rc = rc ? rc : aws_snapshot_name(name, sizeof(name), a.name);
	if (rc)
		return rc;
	ec2_params q;
	aws_query_params_init(&q, "CreateClusterSnapshot", aws_api_redshift.version);
	ec2_param(&q, "SnapshotIdentifier", name);
	ec2_param(&q, "ClusterIdentifier", a.name);
	if (opts && opts->ntags)
		ec2_param_tags(&q, "Tags.Tag", opts->tags, opts->ntags);
	xmlDoc *doc;
	rc = aws_query_call(p, &aws_api_redshift, a.region, resource_id, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	cp_log(p->ctx, CP_LOG_INFO, "aws: %s: Redshift snapshot %s started", resource_id, name);
	if (opts && !opts->wait) {
		rc = emit_snapshot(a.region, a.account,
				   xml_child(aws_query_result(doc), "Snapshot"), cb, payload);
		xmlFreeDoc(doc);
		return rc;
	}
	xmlFreeDoc(doc);
	wait_snap w = {a.region, a.name, name};
	rc = aws_wait(p, "snapshot", name, poll_snapshot, &w, opts ? opts->progress_cb : NULL,
		      opts ? opts->progress_payload : NULL);
	return rc ? rc : describe(p, a.region, a.account, a.name, name, name, cb, payload);
}

int redshift_snapshot_list(aws_provider *p, const char *resource_id, cp_snapshot_cb cb,
			   void *payload)
{
	if (resource_id) {
		aws_arn a;
		int rc = parse_cluster(&a, resource_id);
		return rc ? rc
			  : describe(p, a.region, a.account, a.name, NULL, resource_id, cb,
				     payload);
	}
	int rc = 0;
	for (size_t i = 0; !rc && p->regions[i]; i++) {
		/* Snapshots carry their ARN and OwnerAccount, so no account is needed here. */
		rc = describe(p, p->regions[i], "unknown", NULL, NULL, NULL, cb, payload);
	}
	return rc;
}

int redshift_snapshot_get(aws_provider *p, const char *snapshot_id, cp_snapshot_cb cb,
			  void *payload)
{
	snap_ref s;
	int rc = parse_snapshot(&s, snapshot_id);
	return rc ? rc : describe_one(p, &s, snapshot_id, cb, payload);
}

int redshift_snapshot_delete(aws_provider *p, const char *snapshot_id)
{
	snap_ref s;
	int rc = parse_snapshot(&s, snapshot_id);
	if (rc)
		return rc;
	ec2_params q;
	aws_query_params_init(&q, "DeleteClusterSnapshot", aws_api_redshift.version);
	ec2_param(&q, "SnapshotIdentifier", s.name);
	ec2_param(&q, "SnapshotClusterIdentifier", s.cluster);
	xmlDoc *doc;
	rc = aws_query_call(p, &aws_api_redshift, s.arn.region, snapshot_id, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	return rc;
}

int redshift_snapshot_copy(aws_provider *p, const char *snapshot_id, const char *region,
			   cp_snapshot_cb cb, void *payload)
{
	(void)p;
	(void)cb;
	(void)payload;
	snap_ref s;
	int rc = parse_snapshot(&s, snapshot_id);
	if (rc)
		return rc;
	return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
			    "aws: Redshift cannot copy one snapshot (%s) to another region; "
			    "enable cross-region snapshot copy on the cluster instead (`aws "
			    "redshift enable-snapshot-copy --cluster-identifier %s "
			    "--destination-region %s --region %s`), and its new snapshots appear "
			    "in %s",
			    snapshot_id, s.cluster, region ? region : "REGION", s.arn.region,
			    region ? region : "that region");
}

/* ---- restore ---- */

int redshift_resource_restore(aws_provider *p, const char *snapshot_id,
			      const cp_resource_restore_options *opts, cp_resource_cb cb,
			      void *payload)
{
	snap_ref s;
	int rc = parse_snapshot(&s, snapshot_id);
	if (rc)
		return rc;
	if (opts && opts->region && strcmp(opts->region, s.arn.region))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: %s is in %s; Redshift restores only in the snapshot's "
				    "region: enable cross-region snapshot copy on cluster %s and "
				    "restore a snapshot in %s",
				    snapshot_id, s.arn.region, s.cluster, opts->region);
	if (opts && opts->ndata_snapshots)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: data snapshots are for machine images; a Redshift "
				    "restore takes exactly one snapshot");
	char name[REDSHIFT_ID_MAX + 1];
	if (opts && opts->name)
		snprintf(name, sizeof(name), "%s", opts->name);
	else
		aws_restored_name(name, sizeof(name), s.cluster, REDSHIFT_ID_MAX);
	ec2_params q;
	aws_query_params_init(&q, "RestoreFromClusterSnapshot", aws_api_redshift.version);
	ec2_param(&q, "ClusterIdentifier", name);
	ec2_param(&q, "SnapshotIdentifier", s.name);
	ec2_param(&q, "SnapshotClusterIdentifier", s.cluster);
	if (opts && opts->size_class)
		ec2_param(&q, "NodeType", opts->size_class);
	if (opts && opts->subnet)
		ec2_param(&q, "ClusterSubnetGroupName", opts->subnet);
	xmlDoc *doc;
	rc = aws_query_call(p, &aws_api_redshift, s.arn.region, snapshot_id, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	if (rc)
		return rc;
	cp_log(p->ctx, CP_LOG_INFO, "aws: restoring %s to Redshift cluster %s", snapshot_id, name);
	if (opts && opts->ntags) {
		/* RestoreFromClusterSnapshot takes no tags: tag the new cluster by its ARN. */
		char arn[600];
		snprintf(arn, sizeof(arn), "arn:%s:redshift:%s:%s:cluster:%s", s.arn.partition,
			 s.arn.region, s.arn.account, name);
		aws_query_params_init(&q, "CreateTags", aws_api_redshift.version);
		ec2_param(&q, "ResourceName", arn);
		ec2_param_tags(&q, "Tags.Tag", opts->tags, opts->ntags);
		rc = aws_query_call(p, &aws_api_redshift, s.arn.region, arn, &q, &doc);
		ec2_params_dispose(&q);
		xmlFreeDoc(doc);
		if (rc)
			return rc;
	}
	if (!opts || opts->wait) {
		wait_snap w = {s.arn.region, name, s.name};
		rc = aws_wait(p, "restore", name, poll_cluster, &w, opts ? opts->progress_cb : NULL,
			      opts ? opts->progress_payload : NULL);
	}
	return rc ? rc : redshift_report_cluster(p, s.arn.region, name, cb, payload);
}
