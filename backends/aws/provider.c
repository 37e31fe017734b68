/*
 * The "aws" provider: configuration, credentials, endpoints and the
 * operations table. EC2 work lives in ec2*.c, EBS direct in ebs*.c.
 *
 * Config (every field optional):
 *   {"regions": ["us-east-1", ...],   regions inventory walks (default: region)
 *    "region": "us-east-1",           default region (else AWS_REGION, the profile's)
 *    "profile": "name",               shared config profile (else AWS_PROFILE)
 *    "role_arn": "arn:aws:iam::..",   assume this role (cross-account) ...
 *    "external_id": "..",             ... with this external id
 *    "availability_zone": "us-east-1a", where restored volumes are made
 *    "encrypted": false,              restore into encrypted snapshots
 *    "page_size": 1000, "ebs_page_size": 1000, "poll_ms": 5000,
 *    "wait_timeout_s": 3600, "max_block_requests": 64,
 *    "backup_vault": "cloudprotect",  AWS Backup vault for DynamoDB/EFS/FSx jobs (made
 *                                     on first use, same name in every region)
 *    "backup_role_arn": "arn:aws:iam::..:role/...",  IamRoleArn AWS Backup assumes for
 *                                     backup, copy and restore jobs (required for them)
 *    "rds_copy_kms_key": "alias/aws/rds"}  KMS key in the target region for copies of
 *                                     encrypted RDS snapshots: one key id/ARN/alias for
 *                                     every region, or {"eu-west-1": "key", ...}
 *
 * Endpoints follow the AWS SDKs: AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL_EBS,
 * else AWS_ENDPOINT_URL, else https://ec2.REGION.amazonaws.com and
 * https://ebs.REGION.amazonaws.com.
 */
#include "creds/aws.h"
#include "ctx.h"
#include "json.h"
#include "provider_aws.h"
#include "registry.h"
#include "vpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_CONFIG "{\"regions\": [\"us-east-1\", \"eu-west-1\"], \"region\": \"us-east-1\"}"

static int config_error(const char *fmt, ...) CP_PRINTF(1, 2);

static int config_error(const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG, "aws provider config: %s; example: %s",
			    what, EXAMPLE_CONFIG);
}

static void provider_free(aws_provider *p)
{
	if (!p)
		return;
	free(p->region);
	for (size_t i = 0; p->regions && p->regions[i]; i++)
		free(p->regions[i]);
	free(p->regions);
	free(p->ec2_url);
	free(p->ebs_url);
	free(p->availability_zone);
	free(p->backup_vault);
	free(p->backup_role_arn);
	for (size_t i = 0; p->rds_copy_kms_keys && p->rds_copy_kms_keys[i]; i++)
		free(p->rds_copy_kms_keys[i]);
	free(p->rds_copy_kms_keys);
	cp_http_pool_free(p->pool);
	cp_creds_free(p->creds);
	free(p);
}

static void aws_close(void *state)
{
	provider_free(state);
}

static const char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (v && *v)
		return v;
	v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

static int dup_endpoint(char **out, const char *url)
{
	if (!url)
		return 0;
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	*out = strndup(url, n);
	return *out ? 0 : cp_error_oom();
}

static int check_known_fields(yajl_val cfg)
{
	static const char *const known[] = {"regions",	    "region",	       "profile",
					    "role_arn",	    "external_id",     "availability_zone",
					    "encrypted",    "page_size",       "ebs_page_size",
					    "poll_ms",	    "wait_timeout_s",  "max_block_requests",
					    "backup_vault", "backup_role_arn", "rds_copy_kms_key"};
	for (size_t i = 0; i < cfg->u.object.len; i++) {
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) &&
		       strcmp(cfg->u.object.keys[i], known[k]))
			k++;
		if (k == sizeof(known) / sizeof(known[0]))
			return config_error("unknown field '%s' (known: regions, region, profile, "
					    "role_arn, external_id, availability_zone, encrypted, "
					    "page_size, ebs_page_size, poll_ms, wait_timeout_s, "
					    "max_block_requests, backup_vault, backup_role_arn, "
					    "rds_copy_kms_key)",
					    cfg->u.object.keys[i]);
	}
	return 0;
}

static int uint_field(yajl_val cfg, const char *key, unsigned int *out, unsigned int lo,
		      unsigned int hi)
{
	yajl_val v = cp_json_get(cfg, key);
	if (!v)
		return 0;
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < lo || YAJL_GET_INTEGER(v) > hi)
		return config_error("'%s' must be an integer from %u to %u", key, lo, hi);
	*out = (unsigned int)YAJL_GET_INTEGER(v);
	return 0;
}

static int str_field(yajl_val cfg, const char *key, const char **out)
{
	yajl_val v = cp_json_get(cfg, key);
	*out = NULL;
	if (!v)
		return 0;
	const char *s = YAJL_GET_STRING(v);
	if (!s || !*s)
		return config_error("'%s' must be a non-empty string", key);
	*out = s;
	return 0;
}

static int parse_regions(aws_provider *p, yajl_val cfg)
{
	yajl_val v = cp_json_get(cfg, "regions");
	size_t n = 0;
	if (v) {
		if (!YAJL_IS_ARRAY(v) || !v->u.array.len)
			return config_error("'regions' must be a non-empty array of region names");
		n = v->u.array.len;
	}
	p->regions = calloc(n ? n + 1 : 2, sizeof(char *));
	if (!p->regions)
		return cp_error_oom();
	if (!n) {
		p->regions[0] = strdup(p->region ? p->region : "");
		return p->regions[0] ? 0 : cp_error_oom();
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = YAJL_GET_STRING(v->u.array.values[i]);
		if (!name || !*name)
			return config_error("'regions' entry %zu is not a region name", i + 1);
		p->regions[i] = strdup(name);
		if (!p->regions[i])
			return cp_error_oom();
	}
	return 0;
}

/* "rds_copy_kms_key": a string for every region, or an object region -> key. */
static int parse_rds_copy_kms_key(aws_provider *p, yajl_val cfg)
{
	yajl_val v = cp_json_get(cfg, "rds_copy_kms_key");
	if (!v)
		return 0;
	int single = YAJL_IS_STRING(v);
	if (!single && (!YAJL_IS_OBJECT(v) || !v->u.object.len))
		return config_error("'rds_copy_kms_key' must be a KMS key id, ARN or alias, or "
				    "an object of region -> key");
	size_t n = single ? 1 : v->u.object.len;
	p->rds_copy_kms_keys = calloc(2 * n + 1, sizeof(char *));
	if (!p->rds_copy_kms_keys)
		return cp_error_oom();
	for (size_t i = 0; i < n; i++) {
		const char *region = single ? "*" : v->u.object.keys[i];
		const char *key = YAJL_GET_STRING(single ? v : v->u.object.values[i]);
		if (!key || !*key)
			return config_error("'rds_copy_kms_key' for '%s' is not a KMS key id, "
					    "ARN or alias",
					    region);
		if (!(p->rds_copy_kms_keys[2 * i] = strdup(region)) ||
		    !(p->rds_copy_kms_keys[2 * i + 1] = strdup(key)))
			return cp_error_oom();
	}
	return 0;
}

static int setup_creds(aws_provider *p, const char *profile, const char *role_arn,
		       const char *external_id)
{
	cp_aws_creds_options co = {0};
	co.profile = profile;
	co.region = p->region;
	co.http = &p->http;
	int rc = cp_aws_creds_chain(&p->creds, p->ctx, &co);
	if (rc || !role_arn)
		return rc;
	cp_creds *source = p->creds;
	p->creds = NULL;
	return cp_aws_creds_assume_role(&p->creds, p->ctx, source, role_arn, external_id,
					"cloudprotect", 0, &co);
}

static int parse_config(aws_provider *p, yajl_val cfg)
{
	const char *region, *profile, *role_arn, *external_id, *az, *vault, *backup_role;
	int rc = check_known_fields(cfg);
	rc = rc ? rc : str_field(cfg, "region", &region);
	rc = rc ? rc : str_field(cfg, "profile", &profile);
	rc = rc ? rc : str_field(cfg, "role_arn", &role_arn);
	rc = rc ? rc : str_field(cfg, "external_id", &external_id);
	rc = rc ? rc : str_field(cfg, "availability_zone", &az);
	rc = rc ? rc : str_field(cfg, "backup_vault", &vault);
	rc = rc ? rc : str_field(cfg, "backup_role_arn", &backup_role);
	rc = rc ? rc : uint_field(cfg, "page_size", &p->page_size, 5, 1000);
	rc = rc ? rc : uint_field(cfg, "ebs_page_size", &p->ebs_page_size, 100, 10000);
	rc = rc ? rc : uint_field(cfg, "poll_ms", &p->poll_ms, 1, 600000);
	rc = rc ? rc : uint_field(cfg, "wait_timeout_s", &p->wait_timeout_s, 1, 7 * 86400);
	rc = rc ? rc : uint_field(cfg, "max_block_requests", &p->max_block_requests, 1, 1024);
	if (rc)
		return rc;
	yajl_val enc = cp_json_get(cfg, "encrypted");
	if (enc && !YAJL_IS_TRUE(enc) && !YAJL_IS_FALSE(enc))
		return config_error("'encrypted' must be true or false");
	p->encrypted = enc && YAJL_IS_TRUE(enc);
	if (external_id && !role_arn)
		return config_error("'external_id' needs 'role_arn' (the role to assume)");
	if (region) {
		p->region = strdup(region);
	} else {
		cp_aws_creds_options co = {0};
		co.profile = profile;
		p->region = cp_aws_region_from_env(&co);
	}
	if (!p->region)
		return config_error("no region: set 'region', or AWS_REGION / AWS_DEFAULT_REGION");
	if (az && !(p->availability_zone = strdup(az)))
		return cp_error_oom();
	if (!(p->backup_vault = strdup(vault ? vault : "cloudprotect")) ||
	    (backup_role && !(p->backup_role_arn = strdup(backup_role))))
		return cp_error_oom();
	rc = parse_regions(p, cfg);
	rc = rc ? rc : parse_rds_copy_kms_key(p, cfg);
	rc = rc ? rc
		: dup_endpoint(&p->ec2_url, env_first("AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"));
	rc = rc ? rc
		: dup_endpoint(&p->ebs_url, env_first("AWS_ENDPOINT_URL_EBS", "AWS_ENDPOINT_URL"));
	rc = rc ? rc : setup_creds(p, profile, role_arn, external_id);
	return rc;
}

static int aws_open(void **state, cp_ctx *ctx, const char *config_json)
{
	aws_provider *p = calloc(1, sizeof(*p));
	if (!p)
		return cp_error_oom();
	p->ctx = ctx;
	p->page_size = 1000;
	p->ebs_page_size = 1000;
	p->poll_ms = 5000;
	p->wait_timeout_s = 3600;
	p->max_block_requests = 64;
	cp_http_client_options_from_ctx(&p->http, ctx, CP_HTTP_FOR_AWS);
	/* One block is 512 KiB: a minute per attempt is generous, and the budget caps retries. */
	p->http.attempt_timeout_ms = 60000;
	if (!p->http.time_budget_ms)
		p->http.time_budget_ms = 300000;
	yajl_val cfg = NULL;
	int rc = 0;
	if (config_json && *config_json) {
		rc = cp_json_parse(&cfg, config_json, "aws provider config");
		if (!rc && !YAJL_IS_OBJECT(cfg))
			rc = config_error("the config must be a JSON object");
	}
	if (!rc) {
		static const char empty[] = "{}";
		if (!cfg)
			rc = cp_json_parse(&cfg, empty, "aws provider config");
		rc = rc ? rc : parse_config(p, cfg);
	}
	yajl_tree_free(cfg);
	rc = rc ? rc : cp_http_pool_new(&p->pool, ctx, &p->http);
	if (rc) {
		provider_free(p);
		return rc;
	}
	cp_log(ctx, CP_LOG_DEBUG, "aws: region %s, EC2 at %s, EBS at %s", p->region,
	       p->ec2_url ? p->ec2_url : "(regional)", p->ebs_url ? p->ebs_url : "(regional)");
	*state = p;
	return 0;
}

const cp_provider_ops cp_aws_provider_ops = {
	.version = CP_PROVIDER_OPS_VERSION,
	.name = "aws",
	.description =
		"Amazon Web Services: EC2/EBS (snapshots, EBS direct, images, workers), RDS, "
		"Aurora, Redshift, DynamoDB/EFS/FSx via AWS Backup, VPC configuration",
	.open = aws_open,
	.close = aws_close,
	.inventory = aws_route_inventory,
	.snapshot_create = aws_route_snapshot_create,
	.snapshot_list = aws_route_snapshot_list,
	.snapshot_get = aws_route_snapshot_get,
	.snapshot_delete = aws_route_snapshot_delete,
	.snapshot_copy = aws_route_snapshot_copy,
	.tag = aws_route_tag,
	.untag = aws_route_untag,
	.snapshot_open = ebs_snapshot_open,
	.snapshot_changed_blocks = ebs_changed_blocks,
	.disk_create = ebs_disk_create,
	.resource_restore = aws_route_resource_restore,
	.worker_launch = ec2_worker_launch,
	.worker_get = ec2_worker_get,
	.worker_list = ec2_worker_list,
	.worker_terminate = ec2_worker_terminate,
	.network_export = aws_network_export,
	.network_apply = aws_network_apply,
};
