/*
 * Tags on what the AWS Backup service of the provider owns. Recovery
 * points are tagged through AWS Backup's TagResource (POST
 * /tags/{resourceArn}, {"Tags": {K: V}}); the protected resources through
 * their own services, since AWS Backup's TagResource only takes recovery
 * points, vaults and plans: DynamoDB TagResource (tables), EFS
 * TagResource (POST /2015-02-01/resource-tags/{FileSystemId}) and FSx
 * TagResource. Every one of them adds or overwrites the keys given and
 * keeps the others, as EC2's CreateTags does.
 */
#include "backup_service.h"

#include <string.h>

/* Recovery point ARNs: AWS Backup's own, and DynamoDB's and FSx's backups. */
static int is_recovery_point(const aws_arn *a, const char *id)
{
	if (!strcmp(a->service, "backup"))
		return !strcmp(a->type, "recovery-point");
	if (!strcmp(a->service, "dynamodb"))
		return strstr(id, "/backup/") != NULL;
	if (!strcmp(a->service, "fsx"))
		return !strcmp(a->type, "backup");
	return 0;
}

/* {"Tags": {K: V, ...}} (map) or {"<arn_key>": arn, "Tags": [{"Key", "Value"}]} (list). */
static int tags_body(cp_buf *out, const char *arn_key, const char *arn, const cp_tag *tags,
		     size_t ntags, int as_map)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 0);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	if (arn_key)
		cp_json_kv_str(&w, arn_key, arn);
	cp_json_key(&w, "Tags");
	if (as_map) {
		cp_json_begin_map(&w);
		for (size_t i = 0; i < ntags; i++)
			cp_json_kv_str(&w, tags[i].key, tags[i].value ? tags[i].value : "");
		cp_json_end_map(&w);
	} else {
		cp_json_begin_array(&w);
		for (size_t i = 0; i < ntags; i++) {
			cp_json_begin_map(&w);
			cp_json_kv_str(&w, "Key", tags[i].key);
			cp_json_kv_str(&w, "Value", tags[i].value ? tags[i].value : "");
			cp_json_end_map(&w);
		}
		cp_json_end_array(&w);
	}
	cp_json_end_map(&w);
	rc = cp_json_writer_finish(&w, out);
	cp_json_writer_dispose(&w);
	return rc;
}

static int not_taggable(const char *id)
{
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "aws: '%s' is neither a DynamoDB table, an EFS or FSx file system nor "
			    "a recovery point; tag the ARNs `cloudprotect --provider aws inventory "
			    "--json` and `snapshot list --json` print",
			    id);
}

static int tag_point(aws_provider *p, const aws_arn *a, const char *id, const cp_tag *tags,
		     size_t ntags)
{
	cp_buf path = CP_BUF_INIT, body = CP_BUF_INIT;
	int rc = cp_buf_put(&path, "/tags/", 6);
	rc = rc ? rc : aws_json_encode(&path, id);
	rc = rc ? rc : tags_body(&body, NULL, NULL, tags, ntags, 1);
	rc = rc ? rc
		: aws_json_call(p, &aws_api_backup, a->region, "TagResource", "POST", path.ptr,
				body.ptr, NULL);
	cp_buf_dispose(&path);
	cp_buf_dispose(&body);
	return rc;
}

static int tag_efs(aws_provider *p, const aws_arn *a, const char *id, const cp_tag *tags,
		   size_t ntags)
{
	if (strcmp(a->type, "file-system"))
		return not_taggable(id);
	cp_buf path = CP_BUF_INIT, body = CP_BUF_INIT;
	int rc = cp_buf_put(&path, "/2015-02-01/resource-tags/", 26);
	rc = rc ? rc : aws_json_encode(&path, a->name);
	rc = rc ? rc : tags_body(&body, NULL, NULL, tags, ntags, 0);
	rc = rc ? rc
		: aws_json_call(p, &aws_api_efs, a->region, "TagResource", "POST", path.ptr,
				body.ptr, NULL);
	cp_buf_dispose(&path);
	cp_buf_dispose(&body);
	return rc;
}

/* The JSON-protocol services name the resource in the body. */
static int tag_json(aws_provider *p, const aws_api *api, const char *arn_key, const aws_arn *a,
		    const char *id, const cp_tag *tags, size_t ntags)
{
	cp_buf body = CP_BUF_INIT;
	int rc = tags_body(&body, arn_key, id, tags, ntags, 0);
	rc = rc ? rc : aws_json_call(p, api, a->region, "TagResource", NULL, NULL, body.ptr, NULL);
	cp_buf_dispose(&body);
	return rc;
}

int backup_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags)
{
	aws_arn a;
	if (aws_arn_parse(&a, id))
		return not_taggable(id);
	if (is_recovery_point(&a, id))
		return tag_point(p, &a, id, tags, ntags);
	if (!strcmp(a.service, "dynamodb") && !strcmp(a.type, "table"))
		return tag_json(p, &aws_api_dynamodb, "ResourceArn", &a, id, tags, ntags);
	if (!strcmp(a.service, "fsx") && !strcmp(a.type, "file-system"))
		return tag_json(p, &aws_api_fsx, "ResourceARN", &a, id, tags, ntags);
	if (!strcmp(a.service, "elasticfilesystem"))
		return tag_efs(p, &a, id, tags, ntags);
	return not_taggable(id);
}
