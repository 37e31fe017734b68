/*
 * AWS Backup as one of the aws provider's services: DynamoDB tables, EFS
 * and FSx file systems are inventoried through their own APIs and
 * protected with on-demand backup jobs into one vault per region
 * ("backup_vault", default "cloudprotect"), with the IAM role AWS Backup
 * assumes for jobs ("backup_role_arn").
 *
 * Ids are ARNs. A recovery point's ARN does not always name its vault
 * (DynamoDB's and FSx's are the table's or the file system's backup ARN),
 * so a recovery point is looked up in our vault of the region its ARN
 * names; copies go to the vault of the same name in the target region, so
 * every point this provider made is found that way.
 *
 * Reference: AWS Backup API (StartBackupJob, DescribeBackupJob,
 * ListRecoveryPointsByResource, ListRecoveryPointsByBackupVault,
 * DescribeRecoveryPoint, DeleteRecoveryPoint, StartCopyJob, DescribeCopyJob,
 * GetRecoveryPointRestoreMetadata, StartRestoreJob, DescribeRestoreJob,
 * CreateBackupVault, DescribeBackupVault).
 */
#include "backup_service.h"

#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const aws_api aws_api_backup = {
	.name = "AWS Backup",
	.service = "backup",
	.env_name = "BACKUP",
	.host_prefix = "backup",
};

static const char *const arn_prefixes[] = {
	"arn:aws:dynamodb:",
	"arn:aws:elasticfilesystem:",
	"arn:aws:fsx:",
	"arn:aws:backup:",
};

static int has_prefix(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

static int backup_owns(const char *id)
{
	aws_arn a;
	for (size_t i = 0; i < sizeof(arn_prefixes) / sizeof(arn_prefixes[0]); i++)
		if (has_prefix(id, arn_prefixes[i]))
			return !aws_arn_parse(&a, id);
	return 0;
}

int backup_filter_wants(const cp_inventory_filter *f, const char *arn_prefix)
{
	if (!f || !f->ids)
		return 1;
	for (size_t i = 0; f->ids[i]; i++)
		if (has_prefix(f->ids[i], arn_prefix))
			return 1;
	return 0;
}

int backup_report_resource(const backup_listing *l, cp_resource *r, const aws_tags *tags)
{
	char account[32];
	aws_arn_field(r->id, 4, account, sizeof(account));
	r->region = l->region;
	r->account = account;
	r->tags = tags->items;
	r->ntags = tags->count;
	/* These APIs cannot filter by tag or id: the filter applies here. */
	return aws_filter_match(l->filter, r) ? l->cb(r, l->payload) : 0;
}

int backup_report_item(const backup_listing *l, yajl_val item, const char *arn_key, cp_resource *r,
		       const char *fallback_name)
{
	const char *arn = cp_json_str(item, arn_key);
	if (!arn)
		return 0;
	aws_tags tags = {0};
	int rc = aws_json_tags(&tags, cp_json_get(item, "Tags"));
	if (!rc) {
		r->id = arn;
		if (!r->name)
			r->name = aws_tags_get(&tags, "Name");
		if (!r->name)
			r->name = fallback_name;
		rc = backup_report_resource(l, r, &tags);
	}
	aws_tags_dispose(&tags);
	return rc;
}

cp_resource_kind backup_kind_of(const char *resource_type, const char *resource_arn)
{
	if (resource_type && !strcmp(resource_type, "DynamoDB"))
		return CP_RESOURCE_NOSQL;
	if (resource_type && (!strcmp(resource_type, "EFS") || !strcmp(resource_type, "FSx")))
		return CP_RESOURCE_FILESHARE;
	if (has_prefix(resource_arn, "arn:aws:dynamodb:"))
		return CP_RESOURCE_NOSQL;
	return CP_RESOURCE_FILESHARE;
}

cp_snapshot_state backup_state_of(const char *status)
{
	if (!status)
		return CP_SNAPSHOT_PENDING;
	if (!strcmp(status, "COMPLETED") || !strcmp(status, "AVAILABLE"))
		return CP_SNAPSHOT_COMPLETED;
	if (!strcmp(status, "CREATED") || !strcmp(status, "PENDING") ||
	    !strcmp(status, "RUNNING") || !strcmp(status, "CREATING"))
		return CP_SNAPSHOT_PENDING;
	return CP_SNAPSHOT_ERROR;
}

int backup_require_role(aws_provider *p, const char *what)
{
	if (p->backup_role_arn)
		return 0;
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
			    "aws provider config: %s runs as an AWS Backup job, which needs "
			    "'backup_role_arn' (the IAM role AWS Backup assumes, e.g. "
			    "\"arn:aws:iam::123456789012:role/service-role/"
			    "AWSBackupDefaultServiceRole\"); jobs write into the vault "
			    "'backup_vault' (now \"%s\")",
			    what, p->backup_vault);
}

int backup_vault_path(cp_buf *out, aws_provider *p, const char *tail)
{
	int rc = cp_buf_put(out, "/backup-vaults/", 15);
	rc = rc ? rc : aws_json_encode(out, p->backup_vault);
	return rc ? rc : cp_buf_put(out, tail, strlen(tail));
}

int backup_point_path(cp_buf *out, aws_provider *p, const char *arn, const char *tail)
{
	int rc = backup_vault_path(out, p, "/recovery-points/");
	rc = rc ? rc : aws_json_encode(out, arn);
	return rc ? rc : cp_buf_put(out, tail, strlen(tail));
}

int backup_vault_ensure(aws_provider *p, const char *region, char **arn_out)
{
	cp_buf path = CP_BUF_INIT;
	yajl_val out = NULL;
	int rc = backup_vault_path(&path, p, "");
	rc = rc ? rc
		: aws_json_call(p, &aws_api_backup, region, "DescribeBackupVault", "GET", path.ptr,
				NULL, &out);
	if (rc == CP_ENOTFOUND) {
		cp_log(p->ctx, CP_LOG_INFO, "aws: creating backup vault '%s' in %s",
		       p->backup_vault, region);
		char token[37], body[96];
		backup_token(token);
		snprintf(body, sizeof(body), "{\"CreatorRequestId\":\"%s\"}", token);
		rc = aws_json_call(p, &aws_api_backup, region, "CreateBackupVault", "PUT", path.ptr,
				   body, &out);
		/* Another writer made it meanwhile: fine, ask again for its ARN. */
		if (rc == CP_EEXISTS ||
		    (rc && !strcmp(cp_error_last()->cloud_code ? cp_error_last()->cloud_code : "",
				   "AlreadyExistsException")))
			rc = aws_json_call(p, &aws_api_backup, region, "DescribeBackupVault", "GET",
					   path.ptr, NULL, &out);
	}
	if (!rc && arn_out) {
		const char *arn = cp_json_str(out, "BackupVaultArn");
		if (!arn)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
					  "AWS Backup vault '%s' in %s has no BackupVaultArn in "
					  "its description; check the endpoint "
					  "(AWS_ENDPOINT_URL_BACKUP)",
					  p->backup_vault, region);
		else if (!(*arn_out = strdup(arn)))
			rc = cp_error_oom();
	}
	yajl_tree_free(out);
	cp_buf_dispose(&path);
	return rc;
}

void backup_token(char out[37])
{
	unsigned char b[16];
	FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(b, 1, sizeof(b), f) != sizeof(b)) {
		/* Uniqueness, not secrecy: the time and address will do. */
		uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out ^ (uint64_t)clock();
		for (size_t i = 0; i < sizeof(b); i++, x = x * 6364136223846793005ull + 1)
			b[i] = (unsigned char)(x >> 56);
	}
	if (f)
		fclose(f);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

int backup_job_begin(cp_json_writer *w)
{
	char token[37];
	backup_token(token);
	int rc = cp_json_writer_init(w, 0);
	if (rc)
		return rc;
	cp_json_begin_map(w);
	cp_json_kv_str(w, "IdempotencyToken", token);
	return 0;
}

int backup_job_start(aws_provider *p, const char *region, const char *op, const char *path,
		     cp_json_writer *w, yajl_val *out)
{
	cp_buf body = CP_BUF_INIT;
	cp_json_end_map(w);
	int rc = cp_json_writer_finish(w, &body);
	cp_json_writer_dispose(w);
	rc = rc ? rc : aws_json_call(p, &aws_api_backup, region, op, "PUT", path, body.ptr, out);
	cp_buf_dispose(&body);
	return rc;
}

static int job_failed(yajl_val job, const char *status, const char *what, const char *region)
{
	const char *msg = cp_json_str(job, "StatusMessage");
	return cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
			    "%s in %s ended %s: %s; check the IAM role (backup_role_arn) and the "
			    "resource, then retry",
			    what, region, status, msg && *msg ? msg : "AWS gave no reason");
}

/* What one poll of a job needs, and the last answer it saw. */
typedef struct job_poll {
	const char *region, *op, *path, *object, *state_field, *what;
	yajl_val last;
} job_poll;

static int poll_job(aws_provider *p, void *arg, int *done, unsigned int *percent, char *status,
		    size_t status_cap)
{
	job_poll *j = arg;
	yajl_tree_free(j->last);
	j->last = NULL;
	int rc =
		aws_json_call(p, &aws_api_backup, j->region, j->op, "GET", j->path, NULL, &j->last);
	if (rc)
		return rc;
	yajl_val job = j->object ? cp_json_get(j->last, j->object) : j->last;
	const char *state = cp_json_str(job, j->state_field);
	const char *pct = cp_json_str(job, "PercentDone");
	snprintf(status, status_cap, "%s", state ? state : "unknown");
	*percent = pct ? (unsigned int)strtod(pct, NULL) : 0;
	*done = state && !strcmp(state, "COMPLETED");
	if (state && backup_state_of(state) == CP_SNAPSHOT_ERROR)
		return job_failed(job, state, j->what, j->region);
	return 0;
}

int backup_job_wait(aws_provider *p, const char *region, const char *op, const char *collection,
		    const char *job_id, const char *object, const char *state_field,
		    const char *what, cp_progress_cb progress_cb, void *progress_payload,
		    yajl_val *job_out)
{
	cp_buf path = CP_BUF_INIT;
	int rc = cp_buf_put(&path, collection, strlen(collection));
	rc = rc ? rc : aws_json_encode(&path, job_id);
	job_poll j = {region, op, path.ptr, object, state_field, what, NULL};
	const char *phase = strstr(op, "Restore") ? "restore"
			    : strstr(op, "Copy")  ? "copy"
						  : "snapshot";
	rc = rc ? rc : aws_wait(p, phase, what, poll_job, &j, progress_cb, progress_payload);
	if (rc) {
		yajl_tree_free(j.last);
		j.last = NULL;
	}
	*job_out = j.last;
	cp_buf_dispose(&path);
	return rc;
}

typedef struct inventory_arg {
	const cp_inventory_filter *filter;
	cp_resource_cb cb;
	void *payload;
} inventory_arg;

static int inventory_region(aws_provider *p, const char *region, void *arg)
{
	const inventory_arg *in = arg;
	int kind = in->filter ? in->filter->kind : -1;
	int rc = 0;
	if (kind < 0 || kind == CP_RESOURCE_NOSQL)
		rc = dynamodb_inventory(p, region, in->filter, in->cb, in->payload);
	if (!rc && (kind < 0 || kind == CP_RESOURCE_FILESHARE))
		rc = efs_inventory(p, region, in->filter, in->cb, in->payload);
	if (!rc && (kind < 0 || kind == CP_RESOURCE_FILESHARE))
		rc = fsx_inventory(p, region, in->filter, in->cb, in->payload);
	return rc;
}

static int inventory(aws_provider *p, const cp_inventory_filter *f, cp_resource_cb cb,
		     void *payload)
{
	int kind = f ? f->kind : -1;
	if (kind >= 0 && kind != CP_RESOURCE_NOSQL && kind != CP_RESOURCE_FILESHARE)
		return 0;
	inventory_arg in = {f, cb, payload};
	return aws_each_region(p, f, inventory_region, &in);
}

const aws_service aws_service_backup = {
	.name = "AWS Backup",
	.owns = backup_owns,
	.inventory = inventory,
	.snapshot_create = backup_snapshot_create,
	.snapshot_list = backup_snapshot_list,
	.snapshot_get = backup_snapshot_get,
	.snapshot_delete = backup_snapshot_delete,
	.snapshot_copy = backup_snapshot_copy,
	.resource_restore = backup_resource_restore,
	.tag = backup_tag,
	.untag = backup_untag,
};
