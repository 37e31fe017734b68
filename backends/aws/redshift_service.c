/*
 * Redshift as one of the provider's services: clusters (DescribeClusters)
 * as CP_RESOURCE_WAREHOUSE, named by ARN. Redshift answers with cluster
 * names, not ARNs, so we build arn:PARTITION:redshift:REGION:ACCOUNT:
 * cluster:NAME, taking the account from the cluster's namespace ARN or,
 * when that is missing, from STS GetCallerIdentity.
 */
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024ull * 1024)

const aws_query_api aws_api_redshift = {
	.name = "Redshift",
	.env_name = "REDSHIFT",
	.host_prefix = "redshift",
	.iam_prefix = "redshift",
	.version = "2012-12-01",
};

static int redshift_owns(const char *id)
{
	return aws_arn_is(id, "redshift");
}

typedef struct listing {
	aws_provider *p;
	const char *region;
	const cp_inventory_filter *filter;
	char account[32]; /* from STS, asked once per region when needed */
	cp_resource_cb cb;
	void *payload;
} listing;

static int emit_cluster(listing *l, xmlNode *c)
{
	char name[256], ns[512], arn[600];
	xml_child_copy(c, "ClusterIdentifier", name, sizeof(name));
	xml_child_copy(c, "ClusterNamespaceArn", ns, sizeof(ns));
	aws_arn nsa;
	const char *account = NULL;
	if (!aws_arn_parse(&nsa, ns) && *nsa.account)
		account = nsa.account;
	if (!account) {
		if (!l->account[0]) {
			int rc =
				aws_caller_account(l->p, l->region, l->account, sizeof(l->account));
			if (rc)
				return cp_error_prefix(rc, "naming Redshift cluster %s: ", name);
		}
		account = l->account;
	}
	snprintf(arn, sizeof(arn), "arn:%s:redshift:%s:%s:cluster:%s", aws_partition_of(l->region),
		 l->region, account, name);
	if (!aws_filter_id(l->filter, arn))
		return 0;
	aws_tags tags;
	int rc = aws_query_tags_parse(&tags, xml_child(c, "Tags"));
	if (rc)
		return rc;
	if (aws_tags_match(&tags, l->filter)) {
		cp_resource r;
		memset(&r, 0, sizeof(r));
		r.kind = CP_RESOURCE_WAREHOUSE;
		r.id = arn;
		r.name = name;
		r.region = l->region;
		r.account = account;
		r.size = xml_child_u64(c, "TotalStorageCapacityInMegaBytes") * MIB;
		r.tags = tags.items;
		r.ntags = tags.count;
		rc = l->cb(&r, l->payload);
	}
	aws_tags_dispose(&tags);
	return rc;
}

static int emit(xmlNode *c, void *arg)
{
	return emit_cluster(arg, c);
}

static int describe_clusters(listing *l, const char *name)
{
	ec2_params q;
	aws_query_params_init(&q, "DescribeClusters", aws_api_redshift.version);
	if (name)
		ec2_param(&q, "ClusterIdentifier", name);
	int rc = aws_query_each(l->p, &aws_api_redshift, l->region, name, &q, "Clusters", emit, l);
	ec2_params_dispose(&q);
	return rc;
}

int redshift_report_cluster(aws_provider *p, const char *region, const char *name,
			    cp_resource_cb cb, void *payload)
{
	listing l;
	memset(&l, 0, sizeof(l));
	l.p = p;
	l.region = region;
	l.cb = cb;
	l.payload = payload;
	return describe_clusters(&l, name);
}

static int inventory_region(aws_provider *p, const char *region, void *arg)
{
	/* A copy of the template, so the account found in one region stays there. */
	listing l = *(const listing *)arg;
	l.p = p;
	l.region = region;
	return describe_clusters(&l, NULL);
}

static int redshift_inventory(aws_provider *p, const cp_inventory_filter *filter, cp_resource_cb cb,
			      void *payload)
{
	int kind = filter ? filter->kind : -1;
	if ((kind >= 0 && kind != CP_RESOURCE_WAREHOUSE) ||
	    !aws_filter_names_service(filter, "redshift"))
		return 0;
	listing all;
	memset(&all, 0, sizeof(all));
	all.filter = filter;
	all.cb = cb;
	all.payload = payload;
	return aws_each_region(p, filter, inventory_region, &all);
}

const aws_service aws_service_redshift = {
	.name = "Redshift",
	.owns = redshift_owns,
	.inventory = redshift_inventory,
	.snapshot_create = redshift_snapshot_create,
	.snapshot_list = redshift_snapshot_list,
	.snapshot_get = redshift_snapshot_get,
	.snapshot_delete = redshift_snapshot_delete,
	.snapshot_copy = redshift_snapshot_copy,
	.resource_restore = redshift_resource_restore,
	.tag = redshift_tag,
	.untag = redshift_untag,
};
