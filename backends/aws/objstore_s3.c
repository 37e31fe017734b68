/*
 * s3:// object store: a repository under a prefix of an S3 bucket, on AWS
 * or any S3-compatible service (s3://bucket/prefix?endpoint=URL&region=R&
 * style=path|virtual&lock=compliance|governance). Endpoint and region
 * also come from the environment as the AWS SDKs read them.
 */
#include "objstore_s3.h"
#include "creds/aws.h"
#include "ctx.h"
#include "error.h"
#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct url_parts {
	char *endpoint, *region, *style, *lock;
} url_parts;

static void url_parts_dispose(url_parts *p)
{
	free(p->endpoint);
	free(p->region);
	free(p->style);
	free(p->lock);
}

static int set_param(url_parts *p, const char *url, const char *name, size_t nlen,
		     const char *value, size_t vlen)
{
	char **slot = NULL;
	if (nlen == 8 && !strncmp(name, "endpoint", 8))
		slot = &p->endpoint;
	else if (nlen == 6 && !strncmp(name, "region", 6))
		slot = &p->region;
	else if (nlen == 5 && !strncmp(name, "style", 5))
		slot = &p->style;
	else if (nlen == 4 && !strncmp(name, "lock", 4))
		slot = &p->lock;
	else
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "unknown parameter '%.*s' in '%s'; s3:// URLs take endpoint, "
				    "region, style (path or virtual) and lock (compliance or "
				    "governance)",
				    (int)nlen, name, url);
	cp_buf v = CP_BUF_INIT;
	int rc = cp_url_decode(&v, value, vlen, 0);
	if (rc)
		return rc;
	free(*slot);
	*slot = v.ptr ? v.ptr : strdup("");
	return *slot ? 0 : cp_error_oom();
}

static int parse_query(url_parts *p, const char *url, const char *q)
{
	while (*q) {
		const char *end = strchr(q, '&');
		size_t len = end ? (size_t)(end - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		if (len) {
			int rc = eq ? set_param(p, url, q, (size_t)(eq - q), eq + 1,
						len - (size_t)(eq - q) - 1)
				    : set_param(p, url, q, len, "", 0);
			if (rc)
				return rc;
		}
		q += len + (end ? 1 : 0);
	}
	return 0;
}

static char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (!v || !*v)
		v = getenv(b);
	return v && *v ? strdup(v) : NULL;
}

/* Bucket names per the S3 rules that matter for building URLs. */
static int valid_bucket(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		      b[i] == '.'))
			return 0;
	return 1;
}

static int parse_url(s3_store *s, const char *url)
{
	const char *p = url + strlen("s3://");
	const char *q = strchr(p, '?');
	size_t plen = q ? (size_t)(q - p) : strlen(p);
	const char *slash = memchr(p, '/', plen);
	size_t blen = slash ? (size_t)(slash - p) : plen;
	if (!valid_bucket(p, blen))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "'%s' does not name a valid bucket; write "
				    "s3://bucket/prefix (bucket: 3-63 characters of a-z, 0-9, '.', "
				    "'-')",
				    url);
	s->bucket = strndup(p, blen);
	const char *prefix = slash ? slash + 1 : p + blen;
	size_t prefix_len = plen - (size_t)(prefix - p);
	while (prefix_len && prefix[prefix_len - 1] == '/')
		prefix_len--;
	s->root = malloc(prefix_len + 2);
	if (!s->bucket || !s->root)
		return cp_error_oom();
	memcpy(s->root, prefix, prefix_len);
	if (prefix_len)
		s->root[prefix_len++] = '/';
	s->root[prefix_len] = '\0';
	if (strstr(s->root, "//") || strstr(s->root, ".."))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "the prefix in '%s' has an empty or '..' segment", url);

	url_parts parts = {0};
	int rc = q ? parse_query(&parts, url, q + 1) : 0;
	if (!rc && !parts.endpoint)
		parts.endpoint = env_first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
	if (!rc && !parts.region)
		parts.region = cp_aws_region_from_env(NULL);
	if (rc)
		goto out;
	s->region = strdup(parts.region && *parts.region ? parts.region : "us-east-1");
	if (parts.endpoint) {
		cp_url u;
		rc = cp_url_parse(&u, parts.endpoint);
		if (rc)
			goto out;
		size_t n = strlen(parts.endpoint);
		while (n && parts.endpoint[n - 1] == '/')
			n--;
		s->endpoint = strndup(parts.endpoint, n);
		cp_url_dispose(&u);
		s->virtual_style = 0;
	} else {
		cp_buf e = CP_BUF_INIT;
		rc = cp_buf_put(&e, "https://s3.", 11);
		rc = rc ? rc : cp_buf_put(&e, s->region, strlen(s->region));
		rc = rc ? rc : cp_buf_put(&e, ".amazonaws.com", 14);
		if (rc)
			goto out;
		s->endpoint = e.ptr;
		/* Buckets with dots break TLS name checks in virtual style. */
		s->virtual_style = !strchr(s->bucket, '.');
	}
	if (parts.style) {
		if (!strcmp(parts.style, "path")) {
			s->virtual_style = 0;
		} else if (!strcmp(parts.style, "virtual")) {
			s->virtual_style = 1;
		} else {
			rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
					  "style '%s' in '%s' is neither 'path' nor 'virtual'",
					  parts.style, url);
			goto out;
		}
	}
	const char *lock = parts.lock ? parts.lock : "compliance";
	if (!strcasecmp(lock, "compliance")) {
		s->lock_mode = strdup("COMPLIANCE");
	} else if (!strcasecmp(lock, "governance")) {
		s->lock_mode = strdup("GOVERNANCE");
	} else {
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				  "lock '%s' in '%s' is neither 'compliance' nor 'governance'",
				  lock, url);
		goto out;
	}
	if (!s->region || !s->endpoint || !s->lock_mode)
		rc = cp_error_oom();
out:
	url_parts_dispose(&parts);
	return rc;
}

static void s3_close(void *state)
{
	s3_store *s = state;
	if (!s)
		return;
	cp_http_pool_free(s->pool);
	cp_creds_free(s->creds);
	free(s->bucket);
	free(s->root);
	free(s->endpoint);
	free(s->region);
	free(s->lock_mode);
	free(s->url);
	free(s);
}

static int create_bucket(s3_store *s)
{
	s3_req r;
	int rc = s3_req_init(&r, s, "PUT", NULL, NULL, "S3 CreateBucket");
	char body[256];
	if (!rc && strcmp(s->region, "us-east-1")) {
		snprintf(body, sizeof(body),
			 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
			 "2006-03-01/\"><LocationConstraint>%s</LocationConstraint>"
			 "</CreateBucketConfiguration>",
			 s->region);
		r.http.body = body;
		r.http.body_len = strlen(body);
	}
	rc = rc ? rc : s3_req_perform(s, &r, NULL);
	s3_req_dispose(&r);
	return rc;
}

/* The bucket must exist (create: make it); answers auth problems up front. */
static int probe_bucket(s3_store *s, int create)
{
	s3_req r;
	int rc = s3_req_init(&r, s, "HEAD", NULL, NULL, "S3 HeadBucket");
	rc = rc ? rc : s3_req_perform(s, &r, NULL);
	s3_req_dispose(&r);
	if (rc != CP_ENOTFOUND)
		return rc;
	if (!create)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_OBJSTORE,
				    "no repository at '%s': bucket '%s' does not exist at %s "
				    "(create one with `cloudprotect repo init`)",
				    s->url, s->bucket, s->endpoint);
	cp_error_clear();
	cp_log(s->ctx, CP_LOG_INFO, "s3: creating bucket %s at %s", s->bucket, s->endpoint);
	return create_bucket(s);
}

static int s3_open(void **state, cp_ctx *ctx, const char *url, int create)
{
	*state = NULL;
	s3_store *s = calloc(1, sizeof(*s));
	if (!s)
		return cp_error_oom();
	s->ctx = ctx;
	s->url = cp_url_redact(url);
	int rc = s->url ? parse_url(s, url) : cp_error_oom();
	if (!rc) {
		cp_aws_creds_options co = {.region = s->region};
		rc = cp_aws_creds_chain(&s->creds, ctx, &co);
	}
	if (!rc) {
		cp_http_client_options_from_ctx(&s->http, ctx, CP_HTTP_FOR_AWS);
		/* Parts of several packs go at once; keep connections for all of them. */
		s->http.max_concurrency = 32;
		rc = cp_http_pool_new(&s->pool, ctx, &s->http);
		rc = rc ? rc : probe_bucket(s, create);
	}
	if (rc) {
		s3_close(s);
		return rc;
	}
	*state = s;
	return 0;
}

const cp_objstore_ops cp_s3_objstore_ops = {
	.version = CP_OBJSTORE_OPS_VERSION,
	.scheme = "s3",
	.description = "a repository in an S3 bucket (s3://bucket/prefix), on AWS or any "
		       "S3-compatible service (?endpoint=URL)",
	.open = s3_open,
	.close = s3_close,
	.put = s3_put,
	.get = s3_get,
	.head = s3_head,
	.list = s3_list,
	.remove = s3_remove,
	.writer_open = s3_writer_open,
	.check_settings = s3_check_settings,
	.retain = s3_retain,
	.rehydrate = s3_rehydrate,
	.abort_stale_uploads = s3_abort_stale_uploads,
	.min_storage_days = s3_min_storage_days,
};
