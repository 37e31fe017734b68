/*
 * Recovery points of AWS Backup as the provider's snapshots: listing (by
 * resource, or everything in our vault of every region), lookup and
 * deletion. A point's vault is ours in the region its ARN names
 * (backup_service.c says why).
 */
#include "backup_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int not_ours(aws_provider *p, const char *arn, const char *region)
{
	return cp_error_prefix(CP_ENOTFOUND,
			       "recovery point %s is not in the backup vault '%s' of %s (the "
			       "vault this provider uses; set 'backup_vault' for another): ",
			       arn, p->backup_vault, region);
}

/* op (method) on a recovery point in our vault of the region its ARN names. */
static int point_call(aws_provider *p, const char *arn, const char *op, const char *method,
		      yajl_val *out)
{
	char region[64];
	aws_arn_field(arn, 3, region, sizeof(region));
	cp_buf path = CP_BUF_INIT;
	int rc = backup_point_path(&path, p, arn, "");
	rc = rc ? rc : aws_json_call(p, &aws_api_backup, region, op, method, path.ptr, NULL, out);
	cp_buf_dispose(&path);
	return rc == CP_ENOTFOUND ? not_ours(p, arn, region) : rc;
}

int backup_point_describe(aws_provider *p, const char *arn, yajl_val *out)
{
	return point_call(p, arn, "DescribeRecoveryPoint", "GET", out);
}

int backup_emit_point(yajl_val rp, const char *arn, const char *resource_arn, const char *region,
		      cp_snapshot_cb cb, void *payload)
{
	const char *res = cp_json_str(rp, "ResourceArn");
	if (!res)
		res = resource_arn;
	cp_snapshot s = {0};
	s.id = arn ? arn : cp_json_str(rp, "RecoveryPointArn");
	if (!s.id)
		return 0;
	s.resource_id = res;
	s.region = region;
	s.kind = backup_kind_of(cp_json_str(rp, "ResourceType"), res);
	/* The list by resource says BackupSizeBytes, every other shape BackupSizeInBytes. */
	s.size = aws_json_u64(rp, "BackupSizeInBytes");
	if (!s.size)
		s.size = aws_json_u64(rp, "BackupSizeBytes");
	s.created = aws_json_time(rp, "CreationDate");
	s.state = backup_state_of(cp_json_str(rp, "Status"));
	return cb(&s, payload);
}

typedef struct emitting {
	const char *region, *resource_arn;
	cp_snapshot_cb cb;
	void *payload;
} emitting;

static int emit(yajl_val rp, void *arg)
{
	const emitting *e = arg;
	/* A point lives in the region its ARN names, whichever endpoint listed it. */
	char region[64];
	const char *arn = cp_json_str(rp, "RecoveryPointArn");
	aws_arn_field(arn ? arn : "", 3, region, sizeof(region));
	return backup_emit_point(rp, NULL, e->resource_arn, region[0] ? region : e->region, e->cb,
				 e->payload);
}

/* Pages of a recovery point listing under base_path (ends with '/'). */
static int list_pages(aws_provider *p, const char *region, const char *op, const char *base_path,
		      const char *resource_arn, int missing_ok, cp_snapshot_cb cb, void *payload)
{
	emitting e = {region, resource_arn, cb, payload};
	char *token = NULL;
	int rc = 0;
	/* AWS Backup allows 1..1000 a page, as page_size does (5..1000). */
	unsigned int max = p->page_size;
	do {
		cp_buf path = CP_BUF_INIT;
		yajl_val out = NULL;
		char q[32];
		snprintf(q, sizeof(q), "?maxResults=%u", max);
		rc = cp_buf_put(&path, base_path, strlen(base_path));
		rc = rc ? rc : cp_buf_put(&path, q, strlen(q));
		if (!rc && token) {
			rc = cp_buf_put(&path, "&nextToken=", 11);
			rc = rc ? rc : aws_json_encode(&path, token);
		}
		free(token);
		token = NULL;
		rc = rc ? rc
			: aws_json_call(p, &aws_api_backup, region, op, "GET", path.ptr, NULL,
					&out);
		if (rc == CP_ENOTFOUND && missing_ok) {
			/* No vault of ours in this region: nothing to list. */
			cp_buf_dispose(&path);
			return 0;
		}
		rc = rc ? rc : aws_json_page(out, "RecoveryPoints", emit, &e, "NextToken", &token);
		yajl_tree_free(out);
		cp_buf_dispose(&path);
	} while (!rc && token);
	free(token);
	return rc;
}

int backup_snapshot_list(aws_provider *p, const char *resource_id, cp_snapshot_cb cb, void *payload)
{
	cp_buf path = CP_BUF_INIT;
	int rc = 0;
	if (resource_id) {
		char region[64];
		aws_arn_field(resource_id, 3, region, sizeof(region));
		rc = cp_buf_put(&path, "/resources/", 11);
		rc = rc ? rc : aws_json_encode(&path, resource_id);
		rc = rc ? rc : cp_buf_put(&path, "/recovery-points/", 17);
		rc = rc ? rc
			: list_pages(p, region, "ListRecoveryPointsByResource", path.ptr,
				     resource_id, 0, cb, payload);
		cp_buf_dispose(&path);
		return rc;
	}
	rc = backup_vault_path(&path, p, "/recovery-points/");
	for (size_t i = 0; !rc && p->regions[i]; i++)
		rc = list_pages(p, p->regions[i], "ListRecoveryPointsByBackupVault", path.ptr, NULL,
				1, cb, payload);
	cp_buf_dispose(&path);
	return rc;
}

int backup_snapshot_get(aws_provider *p, const char *snapshot_id, cp_snapshot_cb cb, void *payload)
{
	yajl_val out = NULL;
	char region[64];
	aws_arn_field(snapshot_id, 3, region, sizeof(region));
	int rc = backup_point_describe(p, snapshot_id, &out);
	rc = rc ? rc : backup_emit_point(out, snapshot_id, NULL, region, cb, payload);
	yajl_tree_free(out);
	return rc;
}

int backup_snapshot_delete(aws_provider *p, const char *snapshot_id)
{
	return point_call(p, snapshot_id, "DeleteRecoveryPoint", "DELETE", NULL);
}
