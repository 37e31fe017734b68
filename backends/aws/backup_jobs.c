/*
 * On-demand AWS Backup jobs: a backup of a table or file system into our
 * vault (snapshot_create) and a copy of a recovery point into our vault
 * of another region (snapshot_copy). Both carry an IdempotencyToken
 * (backup_job_begin), so a retried start never runs two jobs.
 */
#include "backup_service.h"

#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int start_backup(aws_provider *p, const char *region, const char *resource_arn,
			const cp_snapshot_create_options *opts, yajl_val *out)
{
	cp_json_writer w;
	int rc = backup_job_begin(&w);
	if (rc)
		return rc;
	cp_json_kv_str(&w, "BackupVaultName", p->backup_vault);
	cp_json_kv_str(&w, "ResourceArn", resource_arn);
	cp_json_kv_str(&w, "IamRoleArn", p->backup_role_arn);
	if (opts && opts->ntags) {
		cp_json_key(&w, "RecoveryPointTags");
		cp_json_begin_map(&w);
		for (size_t i = 0; i < opts->ntags; i++)
			cp_json_kv_str(&w, opts->tags[i].key,
				       opts->tags[i].value ? opts->tags[i].value : "");
		cp_json_end_map(&w);
	}
	return backup_job_start(p, region, "StartBackupJob", "/backup-jobs", &w, out);
}

int backup_snapshot_create(aws_provider *p, const char *resource_id,
			   const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload)
{
	if (!strncmp(resource_id, "arn:aws:backup:", 15))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: %s is a recovery point, not a resource; snapshot the "
				    "table or file system it was taken of",
				    resource_id);
	int rc = backup_require_role(p, "a snapshot of a DynamoDB table or EFS/FSx file system");
	if (rc)
		return rc;
	char region[64];
	aws_arn_field(resource_id, 3, region, sizeof(region));
	yajl_val started = NULL, job = NULL;
	rc = backup_vault_ensure(p, region, NULL);
	rc = rc ? rc : start_backup(p, region, resource_id, opts, &started);
	const char *job_id = cp_json_str(started, "BackupJobId");
	const char *rp = cp_json_str(started, "RecoveryPointArn");
	if (!rc && !job_id)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "AWS Backup StartBackupJob for %s answered without a "
				  "BackupJobId; check the endpoint (AWS_ENDPOINT_URL_BACKUP)",
				  resource_id);
	if (!rc)
		cp_log(p->ctx, CP_LOG_INFO, "aws: backup job %s of %s into vault '%s' in %s",
		       job_id, resource_id, p->backup_vault, region);
	if (!rc && (!opts || opts->wait)) {
		char what[512];
		snprintf(what, sizeof(what), "AWS Backup job %s of %s", job_id, resource_id);
		rc = backup_job_wait(p, region, "DescribeBackupJob", "/backup-jobs/", job_id, NULL,
				     "State", what, opts ? opts->progress_cb : NULL,
				     opts ? opts->progress_payload : NULL, &job);
	}
	if (!rc) {
		/* The finished job's own description; a started one says only where it goes. */
		yajl_val src = job ? job : started;
		const char *arn = cp_json_str(src, "RecoveryPointArn");
		cp_snapshot s = {0};
		s.id = arn ? arn : rp;
		s.resource_id = resource_id;
		s.region = region;
		s.kind = backup_kind_of(cp_json_str(src, "ResourceType"), resource_id);
		s.size = aws_json_u64(src, "BackupSizeInBytes");
		s.created = aws_json_time(src, "CreationDate");
		s.state = job ? CP_SNAPSHOT_COMPLETED : CP_SNAPSHOT_PENDING;
		s.tags = opts ? opts->tags : NULL;
		s.ntags = opts ? opts->ntags : 0;
		if (!s.id)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
					  "AWS Backup job %s of %s names no recovery point", job_id,
					  resource_id);
		else
			rc = cb ? cb(&s, payload) : 0;
	}
	yajl_tree_free(started);
	yajl_tree_free(job);
	return rc;
}

static int start_copy(aws_provider *p, const char *region, const char *arn, const char *dest_vault,
		      yajl_val *out)
{
	cp_json_writer w;
	int rc = backup_job_begin(&w);
	if (rc)
		return rc;
	cp_json_kv_str(&w, "RecoveryPointArn", arn);
	cp_json_kv_str(&w, "SourceBackupVaultName", p->backup_vault);
	cp_json_kv_str(&w, "DestinationBackupVaultArn", dest_vault);
	cp_json_kv_str(&w, "IamRoleArn", p->backup_role_arn);
	return backup_job_start(p, region, "StartCopyJob", "/copy-jobs", &w, out);
}

int backup_snapshot_copy(aws_provider *p, const char *snapshot_id, const char *region,
			 cp_snapshot_cb cb, void *payload)
{
	int rc = backup_require_role(p, "copying a recovery point");
	if (rc)
		return rc;
	char src_region[64];
	aws_arn_field(snapshot_id, 3, src_region, sizeof(src_region));
	char *dest_vault = NULL;
	yajl_val started = NULL, job = NULL, copy = NULL;
	/* Fail early, with the vault named, when the source is not ours. */
	rc = backup_point_describe(p, snapshot_id, &copy);
	yajl_tree_free(copy);
	copy = NULL;
	rc = rc ? rc : backup_vault_ensure(p, region, &dest_vault);
	rc = rc ? rc : start_copy(p, src_region, snapshot_id, dest_vault, &started);
	const char *job_id = cp_json_str(started, "CopyJobId");
	if (!rc && !job_id)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "AWS Backup StartCopyJob of %s answered without a CopyJobId",
				  snapshot_id);
	if (!rc) {
		char what[512];
		snprintf(what, sizeof(what), "AWS Backup copy job %s of %s to %s", job_id,
			 snapshot_id, region);
		rc = backup_job_wait(p, src_region, "DescribeCopyJob", "/copy-jobs/", job_id,
				     "CopyJob", "State", what, NULL, NULL, &job);
	}
	const char *dest = cp_json_str(cp_json_get(job, "CopyJob"), "DestinationRecoveryPointArn");
	if (!rc && !dest)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "AWS Backup copy job %s of %s completed without a "
				  "DestinationRecoveryPointArn",
				  job_id, snapshot_id);
	rc = rc ? rc : backup_point_describe(p, dest, &copy);
	rc = rc ? rc : backup_emit_point(copy, dest, NULL, region, cb, payload);
	yajl_tree_free(started);
	yajl_tree_free(job);
	yajl_tree_free(copy);
	free(dest_vault);
	return rc;
}
