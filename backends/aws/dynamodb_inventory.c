/*
 * DynamoDB tables as inventory (kind nosql): ListTables pages names,
 * DescribeTable gives the ARN and size, ListTagsOfResource the tags.
 */
#include "backup_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const aws_api aws_api_dynamodb = {
	.name = "DynamoDB",
	.service = "dynamodb",
	.env_name = "DYNAMODB",
	.host_prefix = "dynamodb",
	.target_prefix = "DynamoDB_20120810",
	.json_version = "1.0",
};

/* A one-member JSON object {"key": "value"} with value escaped. */
static int json_object1(cp_buf *out, const char *key, const char *value, const char *key2,
			int64_t n)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 0);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	if (value)
		cp_json_kv_str(&w, key, value);
	if (key2)
		cp_json_kv_int(&w, key2, n);
	cp_json_end_map(&w);
	rc = cp_json_writer_finish(&w, out);
	cp_json_writer_dispose(&w);
	return rc;
}

static int table_tags(aws_provider *p, const char *region, const char *arn, aws_tags *tags)
{
	cp_buf body = CP_BUF_INIT;
	yajl_val out = NULL;
	int rc = json_object1(&body, "ResourceArn", arn, NULL, 0);
	rc = rc ? rc
		: aws_json_call(p, &aws_api_dynamodb, region, "ListTagsOfResource", NULL, NULL,
				body.ptr, &out);
	rc = rc ? rc : aws_json_tags(tags, cp_json_get(out, "Tags"));
	yajl_tree_free(out);
	cp_buf_dispose(&body);
	return rc;
}

static int one_table(aws_provider *p, const backup_listing *l, const char *name)
{
	const char *region = l->region;
	cp_buf body = CP_BUF_INIT;
	yajl_val out = NULL;
	aws_tags tags = {0};
	int rc = json_object1(&body, "TableName", name, NULL, 0);
	rc = rc ? rc
		: aws_json_call(p, &aws_api_dynamodb, region, "DescribeTable", NULL, NULL, body.ptr,
				&out);
	yajl_val t = cp_json_get(out, "Table");
	const char *arn = cp_json_str(t, "TableArn");
	if (!rc && !arn)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "DynamoDB DescribeTable of '%s' in %s answered without a "
				  "TableArn; check the endpoint (AWS_ENDPOINT_URL_DYNAMODB)",
				  name, region);
	rc = rc ? rc : table_tags(p, region, arn, &tags);
	if (!rc) {
		cp_resource r = {0};
		r.kind = CP_RESOURCE_NOSQL;
		r.id = arn;
		r.name = name;
		r.size = aws_json_u64(t, "TableSizeBytes");
		rc = backup_report_resource(l, &r, &tags);
	}
	aws_tags_dispose(&tags);
	yajl_tree_free(out);
	cp_buf_dispose(&body);
	return rc;
}

typedef struct tables {
	aws_provider *p;
	backup_listing l;
} tables;

/* ListTables names tables only: describe each for its ARN and size. */
static int one_name(yajl_val name, void *arg)
{
	const tables *t = arg;
	return YAJL_IS_STRING(name) ? one_table(t->p, &t->l, YAJL_GET_STRING(name)) : 0;
}

int dynamodb_inventory(aws_provider *p, const char *region, const cp_inventory_filter *f,
		       cp_resource_cb cb, void *payload)
{
	if (!backup_filter_wants(f, "arn:aws:dynamodb:"))
		return 0;
	tables t = {p, {region, f, cb, payload}};
	char *start = NULL;
	int rc = 0;
	do {
		cp_buf body = CP_BUF_INIT;
		yajl_val out = NULL;
		/* ListTables returns at most 100 names a page. */
		unsigned int limit = p->page_size < 100 ? p->page_size : 100;
		rc = json_object1(&body, "ExclusiveStartTableName", start, "Limit", limit);
		rc = rc ? rc
			: aws_json_call(p, &aws_api_dynamodb, region, "ListTables", NULL, NULL,
					body.ptr, &out);
		free(start);
		start = NULL;
		rc = rc ? rc
			: aws_json_page(out, "TableNames", one_name, &t, "LastEvaluatedTableName",
					&start);
		yajl_tree_free(out);
		cp_buf_dispose(&body);
	} while (!rc && start);
	free(start);
	return rc;
}
