/*
 * Restore an RDS snapshot to a new DB instance
 * (RestoreDBInstanceFromDBSnapshot) or an Aurora cluster snapshot to a new
 * cluster (RestoreDBClusterFromSnapshot). A restored Aurora cluster has no
 * instance and so cannot serve queries; given a size class, we add one
 * with CreateDBInstance, as the console does.
 */
#include "ctx.h"
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DB instance and cluster identifiers: at most 63 letters, digits and single hyphens. */
#define RDS_ID_MAX 63

typedef struct resource_ref {
	int cluster;
	const char *region, *name;
} resource_ref;

static int describe_resource(aws_provider *p, const resource_ref *r, xmlDoc **doc, xmlNode **el)
{
	int rc =
		aws_query_describe_one(p, &aws_api_rds, r->region, r->name,
				       r->cluster ? "DescribeDBClusters" : "DescribeDBInstances",
				       r->cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier",
				       r->name, r->cluster ? "DBClusters" : "DBInstances", doc, el);
	if (rc)
		return rc;
	if (!*el) {
		xmlFreeDoc(*doc);
		*doc = NULL;
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				    "RDS %s %s in %s is not there; was it deleted?",
				    r->cluster ? "cluster" : "DB instance", r->name, r->region);
	}
	return 0;
}

static int poll_resource(aws_provider *p, void *arg, int *done, unsigned int *percent, char *status,
			 size_t cap)
{
	const resource_ref *r = arg;
	xmlDoc *doc;
	xmlNode *el;
	int rc = describe_resource(p, r, &doc, &el);
	if (rc)
		return rc;
	xml_child_copy(el, r->cluster ? "Status" : "DBInstanceStatus", status, cap);
	xmlFreeDoc(doc);
	*percent = 0;
	*done = !strcmp(status, "available");
	if (!strcmp(status, "failed") || !strncmp(status, "incompatible", 12) ||
	    !strcmp(status, "restore-error") ||
	    !strcmp(status, "inaccessible-encryption-credentials"))
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "RDS %s %s in %s ended in status '%s'; see its events in the "
				    "RDS console, delete it and restore again",
				    r->cluster ? "cluster" : "DB instance", r->name, r->region,
				    status);
	return 0;
}

/* Wait until available (when asked), then report the resource. */
static int finish(aws_provider *p, const resource_ref *r, xmlNode *made,
		  const cp_resource_restore_options *opts, cp_resource_cb cb, void *payload)
{
	if (opts && !opts->wait)
		return made ? rds_emit_resource(r->region, made, r->cluster, cb, payload, NULL) : 0;
	int rc = aws_wait(p, "restore", r->name, poll_resource, (void *)r,
			  opts ? opts->progress_cb : NULL, opts ? opts->progress_payload : NULL);
	xmlDoc *doc;
	xmlNode *el;
	rc = rc ? rc : describe_resource(p, r, &doc, &el);
	if (rc)
		return rc;
	rc = rds_emit_resource(r->region, el, r->cluster, cb, payload, NULL);
	xmlFreeDoc(doc);
	return rc;
}

/* The source, engine and engine version of a snapshot, from Describe*. */
typedef struct snapshot_facts {
	char owner[256], engine[64], version[64];
} snapshot_facts;

static int snapshot_facts_get(aws_provider *p, const rds_flavour *f, const aws_arn *a,
			      const char *snapshot_id, snapshot_facts *out)
{
	char action[64], id_param[64], list[64];
	snprintf(action, sizeof(action), "Describe%ss", f->noun);
	snprintf(id_param, sizeof(id_param), "%sIdentifier", f->noun);
	snprintf(list, sizeof(list), "%ss", f->noun);
	xmlDoc *doc;
	xmlNode *s;
	int rc = aws_query_describe_one(p, &aws_api_rds, a->region, snapshot_id, action, id_param,
					a->name, list, &doc, &s);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	xml_child_copy(s, f->owner_param, out->owner, sizeof(out->owner));
	xml_child_copy(s, "Engine", out->engine, sizeof(out->engine));
	xml_child_copy(s, "EngineVersion", out->version, sizeof(out->version));
	char status[64];
	xml_child_copy(s, "Status", status, sizeof(status));
	xmlFreeDoc(doc);
	if (!s)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				    "RDS snapshot %s not found in %s; check the ARN", snapshot_id,
				    a->region);
	if (strcmp(status, "available"))
		return cp_error_set(CP_EBUSY, CP_ERRCLASS_PROVIDER,
				    "RDS snapshot %s is '%s', not available; wait for it and "
				    "retry",
				    snapshot_id, status);
	return 0;
}

/*
 * Send a Restore* request (the options' subnet group and tags added here),
 * then wait for and report the DB instance or cluster r it makes.
 */
static int start_restore(aws_provider *p, const resource_ref *r, const char *snapshot_id,
			 ec2_params *q, const cp_resource_restore_options *opts, cp_resource_cb cb,
			 void *payload)
{
	if (opts && opts->subnet)
		ec2_param(q, "DBSubnetGroupName", opts->subnet);
	if (opts && opts->ntags)
		ec2_param_tags(q, "Tags.Tag", opts->tags, opts->ntags);
	xmlDoc *doc;
	int rc = aws_query_call(p, &aws_api_rds, r->region, snapshot_id, q, &doc);
	ec2_params_dispose(q);
	if (rc)
		return rc;
	cp_log(p->ctx, CP_LOG_INFO, "aws: restoring %s to %s %s", snapshot_id,
	       r->cluster ? "cluster" : "DB instance", r->name);
	rc = finish(p, r, xml_child(aws_query_result(doc), r->cluster ? "DBCluster" : "DBInstance"),
		    opts, cb, payload);
	xmlFreeDoc(doc);
	return rc;
}

static int restore_instance(aws_provider *p, const aws_arn *a, const char *snapshot_id,
			    const snapshot_facts *facts, const cp_resource_restore_options *opts,
			    cp_resource_cb cb, void *payload)
{
	char name[RDS_ID_MAX + 1];
	if (opts && opts->name)
		snprintf(name, sizeof(name), "%s", opts->name);
	else
		aws_restored_name(name, sizeof(name), facts->owner[0] ? facts->owner : "db",
				  RDS_ID_MAX);
	ec2_params q;
	aws_query_params_init(&q, "RestoreDBInstanceFromDBSnapshot", aws_api_rds.version);
	ec2_param(&q, "DBInstanceIdentifier", name);
	ec2_param(&q, "DBSnapshotIdentifier", a->name);
	if (opts && opts->size_class)
		ec2_param(&q, "DBInstanceClass", opts->size_class);
	resource_ref r = {0, a->region, name};
	return start_restore(p, &r, snapshot_id, &q, opts, cb, payload);
}

/* Aurora: a first instance in the restored cluster, so it can serve. */
static int add_cluster_instance(aws_provider *p, const char *region, const char *cluster,
				const snapshot_facts *facts,
				const cp_resource_restore_options *opts, cp_resource_cb cb,
				void *payload)
{
	char name[RDS_ID_MAX + 1];
	snprintf(name, sizeof(name), "%.*s-1", RDS_ID_MAX - 2, cluster);
	ec2_params q;
	aws_query_params_init(&q, "CreateDBInstance", aws_api_rds.version);
	ec2_param(&q, "DBInstanceIdentifier", name);
	ec2_param(&q, "DBClusterIdentifier", cluster);
	ec2_param(&q, "DBInstanceClass", opts->size_class);
	ec2_param(&q, "Engine", facts->engine);
	if (opts->ntags)
		ec2_param_tags(&q, "Tags.Tag", opts->tags, opts->ntags);
	xmlDoc *doc;
	int rc = aws_query_call(p, &aws_api_rds, region, cluster, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return cp_error_prefix(rc,
				       "restored cluster %s, but adding its instance failed "
				       "(add one with CreateDBInstance): ",
				       cluster);
	resource_ref r = {0, region, name};
	rc = finish(p, &r, xml_child(aws_query_result(doc), "DBInstance"), opts, cb, payload);
	xmlFreeDoc(doc);
	return rc;
}

static int restore_cluster(aws_provider *p, const aws_arn *a, const char *snapshot_id,
			   const snapshot_facts *facts, const cp_resource_restore_options *opts,
			   cp_resource_cb cb, void *payload)
{
	char name[RDS_ID_MAX + 1];
	if (opts && opts->name)
		snprintf(name, sizeof(name), "%s", opts->name);
	else /* room for the "-1" of its first instance */
		aws_restored_name(name, sizeof(name), facts->owner[0] ? facts->owner : "cluster",
				  RDS_ID_MAX - 2);
	ec2_params q;
	aws_query_params_init(&q, "RestoreDBClusterFromSnapshot", aws_api_rds.version);
	ec2_param(&q, "DBClusterIdentifier", name);
	ec2_param(&q, "SnapshotIdentifier", a->name);
	ec2_param(&q, "Engine", facts->engine[0] ? facts->engine : "aurora-postgresql");
	if (facts->version[0])
		ec2_param(&q, "EngineVersion", facts->version);
	resource_ref r = {1, a->region, name};
	int rc = start_restore(p, &r, snapshot_id, &q, opts, cb, payload);
	if (!rc && opts && opts->size_class)
		rc = add_cluster_instance(p, a->region, name, facts, opts, cb, payload);
	else if (!rc)
		cp_log(p->ctx, CP_LOG_WARN,
		       "aws: cluster %s has no instance yet; give a size class (--size-class "
		       "db.r6g.large) to add one, or add it in the RDS console",
		       name);
	return rc;
}

int rds_resource_restore(aws_provider *p, const char *snapshot_id,
			 const cp_resource_restore_options *opts, cp_resource_cb cb, void *payload)
{
	aws_arn a;
	int rc = rds_arn_parse(&a, snapshot_id, "snapshot");
	if (rc)
		return rc;
	const rds_flavour *f = rds_flavour_of(&a);
	if (strcmp(a.type, f->snapshot_type))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: '%s' is not a snapshot; restore wants an RDS snapshot or "
				    "cluster snapshot ARN",
				    snapshot_id);
	if (opts && opts->region && strcmp(opts->region, a.region))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: %s is in %s; RDS restores only in the snapshot's region: "
				    "copy it first (`cloudprotect snapshot copy %s --region %s`) "
				    "and restore the copy",
				    snapshot_id, a.region, snapshot_id, opts->region);
	if (opts && opts->ndata_snapshots)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: data snapshots are for machine images; an RDS restore "
				    "takes exactly one snapshot");
	snapshot_facts facts;
	rc = snapshot_facts_get(p, f, &a, snapshot_id, &facts);
	if (rc)
		return rc;
	return f->cluster ? restore_cluster(p, &a, snapshot_id, &facts, opts, cb, payload)
			  : restore_instance(p, &a, snapshot_id, &facts, opts, cb, payload);
}
