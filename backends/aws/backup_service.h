/*
 * DynamoDB tables, EFS and FSx file systems, protected through AWS Backup:
 * internals shared by backup*.c, dynamodb*.c, efs*.c and fsx*.c.
 */
#ifndef CP_BACKENDS_AWS_BACKUP_SERVICE_H
#define CP_BACKENDS_AWS_BACKUP_SERVICE_H

#include "aws_json.h"

extern const aws_api aws_api_dynamodb, aws_api_efs, aws_api_fsx, aws_api_backup;

/* Inventory of one region, filtered (ids, tags, kind) before cb sees a resource. */
int dynamodb_inventory(aws_provider *p, const char *region, const cp_inventory_filter *f,
		       cp_resource_cb cb, void *payload);
int efs_inventory(aws_provider *p, const char *region, const cp_inventory_filter *f,
		  cp_resource_cb cb, void *payload);
int fsx_inventory(aws_provider *p, const char *region, const cp_inventory_filter *f,
		  cp_resource_cb cb, void *payload);

/* Whether the filter names ids at all, and whether one of them starts with prefix. */
int backup_filter_wants(const cp_inventory_filter *f, const char *arn_prefix);

/* Where one region's inventory goes. */
typedef struct backup_listing {
	const char *region;
	const cp_inventory_filter *filter;
	cp_resource_cb cb;
	void *payload;
} backup_listing;

/*
 * Report r (kind, id: its ARN, name, size set; region and account filled
 * here) with tags to l's cb when it passes the filter; the account comes
 * from the ARN.
 */
int backup_report_resource(const backup_listing *l, cp_resource *r, const aws_tags *tags);
/*
 * Report an item of a listing that carries its ARN (under arn_key) and
 * its Tags; r has kind and size set, and a name or NULL for the Name tag,
 * else fallback_name.
 */
int backup_report_item(const backup_listing *l, yajl_val item, const char *arn_key, cp_resource *r,
		       const char *fallback_name);

/* The kind of a resource from AWS Backup's ResourceType or from its ARN. */
cp_resource_kind backup_kind_of(const char *resource_type, const char *resource_arn);

/* AWS Backup status words (jobs and recovery points) as a snapshot state. */
cp_snapshot_state backup_state_of(const char *status);

/* The IamRoleArn for jobs, or a config error naming backup_role_arn and backup_vault. */
int backup_require_role(aws_provider *p, const char *what);

/* Make sure our vault exists in region; *arn_out (may be NULL) gets its ARN, malloc'd. */
int backup_vault_ensure(aws_provider *p, const char *region, char **arn_out);

/* "/backup-vaults/<our vault>" + tail, appended to out. */
int backup_vault_path(cp_buf *out, aws_provider *p, const char *tail);
/* "/backup-vaults/<our vault>/recovery-points/<arn>" + tail, appended to out. */
int backup_point_path(cp_buf *out, aws_provider *p, const char *arn, const char *tail);

/*
 * A job request: backup_job_begin opens the JSON body with a fresh
 * IdempotencyToken (so a retried start never runs two jobs); the caller
 * adds its fields; backup_job_start closes the body and PUTs it to path.
 */
int backup_job_begin(cp_json_writer *w);
int backup_job_start(aws_provider *p, const char *region, const char *op, const char *path,
		     cp_json_writer *w, yajl_val *out);

/*
 * Poll a job (GET collection + job_id in region) until its status field
 * says done, reporting PercentDone as progress. *job_out gets the last
 * answer. A FAILED/ABORTED/EXPIRED/PARTIAL job becomes an error with its
 * StatusMessage.
 */
int backup_job_wait(aws_provider *p, const char *region, const char *op, const char *collection,
		    const char *job_id, const char *object, const char *state_field,
		    const char *what, cp_progress_cb progress_cb, void *progress_payload,
		    yajl_val *job_out);

/* DescribeRecoveryPoint of arn in our vault (of the ARN's region). */
int backup_point_describe(aws_provider *p, const char *arn, yajl_val *out);

/* A recovery point (DescribeRecoveryPoint / list item shapes) as a snapshot, to cb. */
int backup_emit_point(yajl_val rp, const char *arn, const char *resource_arn, const char *region,
		      cp_snapshot_cb cb, void *payload);

/* A random idempotency token (UUID-shaped) into out[37]. */
void backup_token(char out[37]);

int backup_snapshot_create(aws_provider *p, const char *resource_id,
			   const cp_snapshot_create_options *opts, cp_snapshot_cb cb,
			   void *payload);
int backup_snapshot_list(aws_provider *p, const char *resource_id, cp_snapshot_cb cb,
			 void *payload);
int backup_snapshot_get(aws_provider *p, const char *snapshot_id, cp_snapshot_cb cb, void *payload);
int backup_snapshot_delete(aws_provider *p, const char *snapshot_id);
int backup_snapshot_copy(aws_provider *p, const char *snapshot_id, const char *region,
			 cp_snapshot_cb cb, void *payload);
/* Add or overwrite tags on a table, a file system or a recovery point (backup_tags.c). */
int backup_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags);
/* Remove tags by key from the same (backup_tags.c). */
int backup_untag(aws_provider *p, const char *id, const char *const *keys, size_t nkeys);
int backup_resource_restore(aws_provider *p, const char *snapshot_id,
			    const cp_resource_restore_options *opts, cp_resource_cb cb,
			    void *payload);

#endif
