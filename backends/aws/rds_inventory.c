/*
 * Inventory of RDS DB instances (DescribeDBInstances) and Aurora DB
 * clusters (DescribeDBClusters) in every configured region, page by page
 * (Marker/MaxRecords). RDS has no tag filter on these calls, so ids and
 * tags are matched here; a filter naming only other services' ids skips
 * RDS altogether.
 */
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rds_emit_resource(const char *region, xmlNode *el, int cluster, cp_resource_cb cb,
		      void *payload, const cp_inventory_filter *filter)
{
	char arn[512], name[256], parent[512] = "";
	xml_child_copy(el, cluster ? "DBClusterArn" : "DBInstanceArn", arn, sizeof(arn));
	xml_child_copy(el, cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier", name,
		       sizeof(name));
	if (!aws_filter_id(filter, arn))
		return 0;
	aws_arn a;
	int have_arn = !aws_arn_parse(&a, arn);
	if (!cluster && have_arn) {
		/* An Aurora instance belongs to its cluster, which is what gets snapshotted. */
		char c[256];
		xml_child_copy(el, "DBClusterIdentifier", c, sizeof(c));
		if (c[0])
			rds_arn(parent, sizeof(parent), &a, "cluster", c);
	}
	aws_tags tags;
	int rc = aws_query_tags_parse(&tags, xml_child(el, "TagList"));
	if (rc)
		return rc;
	if (aws_tags_match(&tags, filter)) {
		cp_resource r;
		memset(&r, 0, sizeof(r));
		r.kind = CP_RESOURCE_DB;
		r.id = arn;
		r.name = name;
		r.region = region;
		r.account = have_arn && *a.account ? a.account : NULL;
		r.parent_id = parent[0] ? parent : NULL;
		r.size = xml_child_u64(el, "AllocatedStorage") * GIB;
		r.tags = tags.items;
		r.ntags = tags.count;
		rc = cb(&r, payload);
	}
	aws_tags_dispose(&tags);
	return rc;
}

typedef struct listing {
	int cluster;
	const char *region;
	const cp_inventory_filter *filter;
	cp_resource_cb cb;
	void *payload;
} listing;

static int emit(xmlNode *el, void *arg)
{
	const listing *l = arg;
	return rds_emit_resource(l->region, el, l->cluster, l->cb, l->payload, l->filter);
}

/* DB instances or (l->cluster) DB clusters of one region, page by page. */
static int list_kind(aws_provider *p, const listing *l)
{
	ec2_params q;
	aws_query_params_init(&q, l->cluster ? "DescribeDBClusters" : "DescribeDBInstances",
			      aws_api_rds.version);
	int rc = aws_query_each(p, &aws_api_rds, l->region, NULL, &q,
				l->cluster ? "DBClusters" : "DBInstances", emit, (void *)l);
	ec2_params_dispose(&q);
	return rc;
}

static int inventory_region(aws_provider *p, const char *region, void *arg)
{
	/* arg: a listing without region and kind, filled in here. */
	listing l = *(const listing *)arg;
	l.region = region;
	l.cluster = 0;
	int rc = list_kind(p, &l);
	l.cluster = 1;
	return rc ? rc : list_kind(p, &l);
}

int rds_inventory(aws_provider *p, const cp_inventory_filter *filter, cp_resource_cb cb,
		  void *payload)
{
	int kind = filter ? filter->kind : -1;
	if ((kind >= 0 && kind != CP_RESOURCE_DB) || !aws_filter_names_service(filter, "rds"))
		return 0;
	listing all = {0, NULL, filter, cb, payload};
	return aws_each_region(p, filter, inventory_region, &all);
}
