/*
 * A recovery point to a new resource with StartRestoreJob. The metadata
 * starts from what GetRecoveryPointRestoreMetadata says about the
 * resource when it was backed up (FSx needs all of it: its file system
 * type, storage and network settings) and sets what makes the restore a
 * new resource: DynamoDB's targetTableName; for EFS newFileSystem=true with
 * its CreationToken, PerformanceMode and Encrypted; for FSx the subnet
 * when one is given. AWS reports the new resource's ARN only when the job
 * completes, so a restore always waits for its job.
 */
#include "backup_service.h"

#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The metadata map as key/value pairs we can override before sending. */
typedef struct meta {
	const char *keys[64];
	const char *values[64];
	size_t n;
	char subnets[256];
} meta;

static void meta_set(meta *m, const char *key, const char *value)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->keys[i], key)) {
			m->values[i] = value;
			return;
		}
	if (m->n < sizeof(m->keys) / sizeof(m->keys[0])) {
		m->keys[m->n] = key;
		m->values[m->n++] = value;
	}
}

static const char *meta_get(const meta *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->keys[i], key))
			return m->values[i];
	return NULL;
}

static int restore_metadata(aws_provider *p, const char *arn, const char *region, yajl_val *out)
{
	cp_buf path = CP_BUF_INIT;
	int rc = backup_point_path(&path, p, arn, "/restore-metadata");
	rc = rc ? rc
		: aws_json_call(p, &aws_api_backup, region, "GetRecoveryPointRestoreMetadata",
				"GET", path.ptr, NULL, out);
	cp_buf_dispose(&path);
	return rc;
}

/* The table name or file system id at the end of a resource ARN ("table/T", "file-system/fs-1"). */
static const char *arn_tail(const char *arn)
{
	const char *slash = arn ? strrchr(arn, '/') : NULL;
	return slash ? slash + 1 : "restored";
}

static int build_metadata(aws_provider *p, meta *m, const char *type, const char *source_arn,
			  const cp_resource_restore_options *opts, const char *name)
{
	if (!strcmp(type, "DynamoDB")) {
		meta_set(m, "targetTableName", name);
	} else if (!strcmp(type, "EFS")) {
		meta_set(m, "newFileSystem", "true");
		meta_set(m, "CreationToken", name);
		if (!meta_get(m, "file-system-id"))
			meta_set(m, "file-system-id", arn_tail(source_arn));
		if (!meta_get(m, "PerformanceMode"))
			meta_set(m, "PerformanceMode", "generalPurpose");
		if (!meta_get(m, "Encrypted"))
			meta_set(m, "Encrypted", p->encrypted ? "true" : "false");
	} else if (!strcmp(type, "FSx")) {
		if (opts && opts->subnet) {
			snprintf(m->subnets, sizeof(m->subnets), "[\"%s\"]", opts->subnet);
			meta_set(m, "SubnetIds", m->subnets);
		}
	} else {
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
				    "aws: restoring a recovery point of type '%s' is not supported "
				    "here (DynamoDB, EFS and FSx are)",
				    type);
	}
	return 0;
}

static int start_restore(aws_provider *p, const char *region, const char *arn, const char *type,
			 const meta *m, yajl_val *out)
{
	cp_json_writer w;
	int rc = backup_job_begin(&w);
	if (rc)
		return rc;
	cp_json_kv_str(&w, "RecoveryPointArn", arn);
	cp_json_kv_str(&w, "IamRoleArn", p->backup_role_arn);
	cp_json_kv_str(&w, "ResourceType", type);
	cp_json_key(&w, "Metadata");
	cp_json_begin_map(&w);
	for (size_t i = 0; i < m->n; i++)
		cp_json_kv_str(&w, m->keys[i], m->values[i]);
	cp_json_end_map(&w);
	return backup_job_start(p, region, "StartRestoreJob", "/restore-jobs", &w, out);
}

static int wait_restore(aws_provider *p, const char *region, const char *job_id, const char *arn,
			const cp_resource_restore_options *opts, yajl_val *job)
{
	char what[512];
	snprintf(what, sizeof(what), "AWS Backup restore job %s of %s", job_id, arn);
	return backup_job_wait(p, region, "DescribeRestoreJob", "/restore-jobs/", job_id, NULL,
			       "Status", what, opts ? opts->progress_cb : NULL,
			       opts ? opts->progress_payload : NULL, job);
}

int backup_resource_restore(aws_provider *p, const char *snapshot_id,
			    const cp_resource_restore_options *opts, cp_resource_cb cb,
			    void *payload)
{
	int rc = backup_require_role(p, "restoring a recovery point");
	if (rc)
		return rc;
	char region[64], account[32], derived[128];
	aws_arn_field(snapshot_id, 3, region, sizeof(region));
	aws_arn_field(snapshot_id, 4, account, sizeof(account));
	if (opts && opts->region && strcmp(opts->region, region))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "aws: AWS Backup restores a recovery point in its own region "
				    "(%s), not %s; copy it there first (`cloudprotect snapshot "
				    "copy %s --region %s`) and restore the copy",
				    region, opts->region, snapshot_id, opts->region);
	yajl_val rp = NULL, md = NULL, started = NULL, job = NULL;
	meta m;
	memset(&m, 0, sizeof(m));
	rc = backup_point_describe(p, snapshot_id, &rp);
	const char *type = cp_json_str(rp, "ResourceType");
	const char *source = cp_json_str(rp, "ResourceArn");
	if (!rc && !type)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "AWS Backup describes recovery point %s without a ResourceType",
				  snapshot_id);
	rc = rc ? rc : restore_metadata(p, snapshot_id, region, &md);
	yajl_val map = cp_json_get(md, "RestoreMetadata");
	for (size_t i = 0; !rc && YAJL_IS_OBJECT(map) && i < map->u.object.len; i++)
		if (YAJL_IS_STRING(map->u.object.values[i]))
			meta_set(&m, map->u.object.keys[i],
				 YAJL_GET_STRING(map->u.object.values[i]));
	const char *name = opts && opts->name ? opts->name : NULL;
	if (!name) {
		snprintf(derived, sizeof(derived), "%.80s-restored-%lld", arn_tail(source),
			 (long long)time(NULL));
		name = derived;
	}
	rc = rc ? rc : build_metadata(p, &m, type, source, opts, name);
	rc = rc ? rc : start_restore(p, region, snapshot_id, type, &m, &started);
	const char *job_id = cp_json_str(started, "RestoreJobId");
	if (!rc && !job_id)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "AWS Backup StartRestoreJob of %s answered without a "
				  "RestoreJobId",
				  snapshot_id);
	if (!rc)
		cp_log(p->ctx, CP_LOG_INFO, "aws: restore job %s of %s in %s", job_id, snapshot_id,
		       region);
	rc = rc ? rc : wait_restore(p, region, job_id, snapshot_id, opts, &job);
	const char *made = cp_json_str(job, "CreatedResourceArn");
	if (!rc && !made)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "AWS Backup restore job %s of %s completed without a "
				  "CreatedResourceArn",
				  job_id, snapshot_id);
	if (!rc) {
		cp_resource r = {0};
		r.kind = backup_kind_of(type, source);
		r.id = made;
		r.name = name;
		r.region = region;
		r.account = account;
		r.size = aws_json_u64(job, "BackupSizeInBytes");
		rc = cb ? cb(&r, payload) : 0;
	}
	yajl_tree_free(rp);
	yajl_tree_free(md);
	yajl_tree_free(started);
	yajl_tree_free(job);
	return rc;
}
