/*
 * RDS and Aurora as one of the provider's services: DB instances and DB
 * clusters, their snapshots and restores, all named by ARN. The ARN says
 * the region (every call goes to that region's endpoint) and which of the
 * two snapshot flavours an id belongs to.
 */
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <string.h>

const aws_query_api aws_api_rds = {
	.name = "RDS",
	.env_name = "RDS",
	.host_prefix = "rds",
	.iam_prefix = "rds",
	.version = "2014-10-31",
};

const rds_flavour rds_instance_flavour = {
	.cluster = 0,
	.snapshot_type = "snapshot",
	.resource_type = "db",
	.noun = "DBSnapshot",
	.owner_param = "DBInstanceIdentifier",
};

const rds_flavour rds_cluster_flavour = {
	.cluster = 1,
	.snapshot_type = "cluster-snapshot",
	.resource_type = "cluster",
	.noun = "DBClusterSnapshot",
	.owner_param = "DBClusterIdentifier",
};

const rds_flavour *rds_flavour_of(const aws_arn *arn)
{
	if (!strcmp(arn->type, "db") || !strcmp(arn->type, "snapshot"))
		return &rds_instance_flavour;
	if (!strcmp(arn->type, "cluster") || !strcmp(arn->type, "cluster-snapshot"))
		return &rds_cluster_flavour;
	return NULL;
}

void rds_arn(char *out, size_t cap, const aws_arn *like, const char *type, const char *name)
{
	snprintf(out, cap, "arn:%s:rds:%s:%s:%s:%s", like->partition, like->region, like->account,
		 type, name);
}

int rds_arn_parse(aws_arn *out, const char *id, const char *expected)
{
	if (aws_arn_parse(out, id) || strcmp(out->service, "rds") || !rds_flavour_of(out))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: '%s' is not the ARN of an RDS %s "
				    "(arn:aws:rds:REGION:ACCOUNT:%s); `cloudprotect --provider "
				    "aws inventory --kind db` and `snapshot list` print them",
				    id, expected,
				    !strcmp(expected, "snapshot") ? "snapshot:NAME or "
								    "cluster-snapshot:NAME"
								  : "db:NAME or cluster:NAME");
	return 0;
}

static int rds_owns(const char *id)
{
	return aws_arn_is(id, "rds");
}

const aws_service aws_service_rds = {
	.name = "RDS",
	.owns = rds_owns,
	.inventory = rds_inventory,
	.snapshot_create = rds_snapshot_create,
	.snapshot_list = rds_snapshot_list,
	.snapshot_get = rds_snapshot_get,
	.snapshot_delete = rds_snapshot_delete,
	.snapshot_copy = rds_snapshot_copy,
	.resource_restore = rds_resource_restore,
	.tag = rds_tag,
	.untag = rds_untag,
};
