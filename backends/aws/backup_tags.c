/*
 * Tags on what the AWS Backup service of the provider owns. Recovery
 * points go through AWS Backup: TagResource (POST /tags/{resourceArn},
 * {"Tags": {K: V}}) and UntagResource (POST /untag/{resourceArn},
 * {"TagKeyList": [K]}). The protected resources go through their own
 * services, since AWS Backup only tags recovery points, vaults and plans:
 * DynamoDB and FSx TagResource / UntagResource (the ARN in the body,
 * "Tags" as a list, "TagKeys"), EFS TagResource (POST
 * /2015-02-01/resource-tags/{FileSystemId}) and UntagResource (DELETE on
 * the same path, ?tagKeys=K1&tagKeys=K2). Tagging adds or overwrites the
 * keys given and keeps the others, as EC2's CreateTags does; untagging
 * removes keys whatever their values, and absent keys are no error.
 */
#include "backup_service.h"

#include <string.h>

/* One call's change: tags to set, or (keys non-NULL) keys to remove. */
typedef struct tag_edit {
	const cp_tag *tags;
	size_t ntags;
	const char *const *keys;
	size_t nkeys;
} tag_edit;

static const char *op_of(const tag_edit *e)
{
	return e->keys ? "UntagResource" : "TagResource";
}

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

static void put_tags(cp_json_writer *w, const cp_tag *tags, size_t ntags, int as_map)
{
	cp_json_key(w, "Tags");
	if (as_map) {
		cp_json_begin_map(w);
		for (size_t i = 0; i < ntags; i++)
			cp_json_kv_str(w, tags[i].key, tags[i].value ? tags[i].value : "");
		cp_json_end_map(w);
		return;
	}
	cp_json_begin_array(w);
	for (size_t i = 0; i < ntags; i++) {
		cp_json_begin_map(w);
		cp_json_kv_str(w, "Key", tags[i].key);
		cp_json_kv_str(w, "Value", tags[i].value ? tags[i].value : "");
		cp_json_end_map(w);
	}
	cp_json_end_array(w);
}

/*
 * {"<arn_key>": arn (when arn_key), then "Tags": {K: V} (as_map) or
 * [{"Key", "Value"}], or for keys to remove "<keys_key>": [K, ...]}.
 */
static int edit_body(cp_buf *out, const char *arn_key, const char *arn, const tag_edit *e,
		     int as_map, const char *keys_key)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 0);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	if (arn_key)
		cp_json_kv_str(&w, arn_key, arn);
	if (e->keys) {
		cp_json_key(&w, keys_key);
		cp_json_begin_array(&w);
		for (size_t i = 0; i < e->nkeys; i++)
			cp_json_string(&w, e->keys[i]);
		cp_json_end_array(&w);
	} else {
		put_tags(&w, e->tags, e->ntags, as_map);
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
			    "a recovery point; tag and untag the ARNs `cloudprotect --provider aws "
			    "inventory --json` and `snapshot list --json` print",
			    id);
}

static int edit_point(aws_provider *p, const aws_arn *a, const char *id, const tag_edit *e)
{
	cp_buf path = CP_BUF_INIT, body = CP_BUF_INIT;
	const char *base = e->keys ? "/untag/" : "/tags/";
	int rc = cp_buf_put(&path, base, strlen(base));
	rc = rc ? rc : aws_json_encode(&path, id);
	rc = rc ? rc : edit_body(&body, NULL, NULL, e, 1, "TagKeyList");
	rc = rc ? rc
		: aws_json_call(p, &aws_api_backup, a->region, op_of(e), "POST", path.ptr, body.ptr,
				NULL);
	cp_buf_dispose(&path);
	cp_buf_dispose(&body);
	return rc;
}

/* EFS takes the keys to remove in the query string, one tagKeys= each, and no body. */
static int untag_query(cp_buf *path, const tag_edit *e)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < e->nkeys; i++) {
		const char *sep = i ? "&tagKeys=" : "?tagKeys=";
		rc = cp_buf_put(path, sep, strlen(sep));
		rc = rc ? rc : aws_json_encode(path, e->keys[i]);
	}
	return rc;
}

static int edit_efs(aws_provider *p, const aws_arn *a, const char *id, const tag_edit *e)
{
	if (strcmp(a->type, "file-system"))
		return not_taggable(id);
	cp_buf path = CP_BUF_INIT, body = CP_BUF_INIT;
	int rc = cp_buf_put(&path, "/2015-02-01/resource-tags/", 26);
	rc = rc ? rc : aws_json_encode(&path, a->name);
	if (e->keys)
		rc = rc ? rc : untag_query(&path, e);
	else
		rc = rc ? rc : edit_body(&body, NULL, NULL, e, 0, NULL);
	rc = rc ? rc
		: aws_json_call(p, &aws_api_efs, a->region, op_of(e), e->keys ? "DELETE" : "POST",
				path.ptr, e->keys ? NULL : body.ptr, NULL);
	cp_buf_dispose(&path);
	cp_buf_dispose(&body);
	return rc;
}

/* The JSON-protocol services name the resource in the body. */
static int edit_json(aws_provider *p, const aws_api *api, const char *arn_key, const aws_arn *a,
		     const char *id, const tag_edit *e)
{
	cp_buf body = CP_BUF_INIT;
	int rc = edit_body(&body, arn_key, id, e, 0, "TagKeys");
	rc = rc ? rc : aws_json_call(p, api, a->region, op_of(e), NULL, NULL, body.ptr, NULL);
	cp_buf_dispose(&body);
	return rc;
}

static int edit_tags(aws_provider *p, const char *id, const tag_edit *e)
{
	aws_arn a;
	if (aws_arn_parse(&a, id))
		return not_taggable(id);
	if (is_recovery_point(&a, id))
		return edit_point(p, &a, id, e);
	if (!strcmp(a.service, "dynamodb") && !strcmp(a.type, "table"))
		return edit_json(p, &aws_api_dynamodb, "ResourceArn", &a, id, e);
	if (!strcmp(a.service, "fsx") && !strcmp(a.type, "file-system"))
		return edit_json(p, &aws_api_fsx, "ResourceARN", &a, id, e);
	if (!strcmp(a.service, "elasticfilesystem"))
		return edit_efs(p, &a, id, e);
	return not_taggable(id);
}

int backup_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags)
{
	tag_edit e = {tags, ntags, NULL, 0};
	return edit_tags(p, id, &e);
}

int backup_untag(aws_provider *p, const char *id, const char *const *keys, size_t nkeys)
{
	tag_edit e = {NULL, 0, keys, nkeys};
	return edit_tags(p, id, &e);
}
