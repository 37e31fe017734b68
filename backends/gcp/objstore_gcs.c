/*
 * gs:// object store: objects in a Google Cloud Storage bucket through the
 * XML API with HMAC keys (GOOG4-HMAC-SHA256), addressed as
 * gs://bucket/prefix, path-style on https://storage.googleapis.com unless
 * the URL's ?endpoint= names another (a local simulator).
 *
 * Keys: GCS_HMAC_ACCESS_ID with GCS_HMAC_SECRET, else boto's names
 * GS_ACCESS_KEY_ID with GS_SECRET_ACCESS_KEY.
 */
#include "objstore_gcs.h"
#include "auth/digest.h"
#include "error.h"
#include "http/url.h"
#include "objstore_common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *gcs_url(gcs_store *s, const char *key, const char *query)
{
	cp_buf b = CP_BUF_INIT;
	int rc = cp_buf_put(&b, s->endpoint, strlen(s->endpoint));
	rc = rc ? rc : cp_buf_put(&b, "/", 1);
	rc = rc ? rc : cp_buf_put(&b, s->bucket, strlen(s->bucket));
	if (!rc && key) {
		rc = cp_buf_put(&b, "/", 1);
		rc = rc ? rc : cp_url_encode(&b, s->prefix, strlen(s->prefix), "/");
		rc = rc ? rc : cp_url_encode(&b, key, strlen(key), "/");
	}
	if (!rc && query) {
		rc = cp_buf_put(&b, "?", 1);
		rc = rc ? rc : cp_buf_put(&b, query, strlen(query));
	}
	if (rc) {
		cp_buf_dispose(&b);
		return NULL;
	}
	return b.ptr;
}

int gcs_perform(gcs_store *s, cp_http_request *req, cp_http_response *resp)
{
	req->sign = cp_sigv4_sign_request;
	req->sign_payload = &s->signer;
	int rc = cp_http_pool_perform(s->pool, req, resp);
	if (rc == CP_EAUTH && (!strcmp(resp->error.code, "SignatureDoesNotMatch") ||
			       !strcmp(resp->error.code, "InvalidAccessKeyId") ||
			       !strcmp(resp->error.code, "InvalidSecurity")))
		rc = cp_error_prefix(rc,
				     "Google Cloud Storage refused the HMAC key from %s (check "
				     "GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET): ",
				     s->creds->source);
	return rc;
}

void gcs_format_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void gcs_class_name(const char *storage_class, char out[32])
{
	size_t i = 0;
	for (; i < 31 && storage_class[i]; i++)
		out[i] = (char)toupper((unsigned char)storage_class[i]);
	out[i] = '\0';
}

int gcs_add_put_headers(cp_http_headers *h, const cp_put_options *opts)
{
	int rc = cp_http_headers_set(h, "Content-Type", "application/octet-stream");
	if (!rc && opts->storage_class) {
		char cls[32];
		gcs_class_name(opts->storage_class, cls);
		rc = cp_http_headers_set(h, "x-goog-storage-class", cls);
	}
	if (!rc && opts->retain_until) {
		char until[32];
		gcs_format_time(opts->retain_until, until);
		/* COMPLIANCE (locked): nobody can shorten or remove it, gcloud included. */
		rc = cp_http_headers_set(h, "x-goog-object-lock-mode", "COMPLIANCE");
		rc = rc ? rc
			: cp_http_headers_set(h, "x-goog-object-lock-retain-until-date", until);
	}
	return rc;
}

static char *query_param(const char *query, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = query; p && *p;) {
		size_t len = strcspn(p, "&");
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			cp_buf b = CP_BUF_INIT;
			if (cp_url_decode(&b, p + n + 1, len - n - 1, 0))
				return NULL;
			return b.ptr ? b.ptr : strdup("");
		}
		p += len + (p[len] == '&');
	}
	return NULL;
}

static void store_free(gcs_store *s)
{
	if (!s)
		return;
	cp_http_pool_free(s->pool);
	cp_creds_free(s->creds);
	free(s->bucket);
	free(s->prefix);
	free(s->endpoint);
	free(s);
}

static int parse_url(gcs_store *s, const char *url)
{
	const char *p = url + strlen("gs://");
	const char *q = strchr(p, '?');
	size_t plen = q ? (size_t)(q - p) : strlen(p);
	const char *slash = memchr(p, '/', plen);
	const char *bend = slash ? slash : p + plen;
	if (strncmp(url, "gs://", 5) || bend == p)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "'%s' is not a Google Cloud Storage URL; write "
				    "gs://BUCKET[/PREFIX][?endpoint=URL]",
				    url);
	const char *pstart = slash ? slash + 1 : bend;
	size_t pl = (size_t)(p + plen - pstart);
	while (pl && pstart[pl - 1] == '/')
		pl--;
	s->bucket = strndup(p, (size_t)(bend - p));
	s->prefix = malloc(pl + 2);
	if (!s->bucket || !s->prefix)
		return cp_error_oom();
	memcpy(s->prefix, pstart, pl);
	s->prefix[pl] = pl ? '/' : '\0';
	s->prefix[pl + 1] = '\0';
	s->endpoint = q ? query_param(q + 1, "endpoint") : NULL;
	if (!s->endpoint && !(s->endpoint = strdup("https://storage.googleapis.com")))
		return cp_error_oom();
	size_t n = strlen(s->endpoint);
	while (n && s->endpoint[n - 1] == '/')
		s->endpoint[--n] = '\0';
	return 0;
}

static int find_keys(gcs_store *s)
{
	static const char *const names[][2] = {{"GCS_HMAC_ACCESS_ID", "GCS_HMAC_SECRET"},
					       {"GS_ACCESS_KEY_ID", "GS_SECRET_ACCESS_KEY"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *id = getenv(names[i][0]), *secret = getenv(names[i][1]);
		if (id && *id && secret && *secret) {
			char source[96];
			snprintf(source, sizeof(source), "the environment (%s)", names[i][0]);
			return cp_creds_new_static(&s->creds, source, id, secret, NULL, 0);
		}
	}
	return cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
			    "no HMAC key for Google Cloud Storage: set GCS_HMAC_ACCESS_ID and "
			    "GCS_HMAC_SECRET (create one with `gcloud storage hmac create "
			    "SERVICE_ACCOUNT_EMAIL`)");
}

static int check_bucket(gcs_store *s)
{
	char *url = gcs_url(s, NULL, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "HEAD", .url = url, .what = "GCS HEAD bucket"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = gcs_perform(s, &req, &resp);
	if (rc == CP_ENOTFOUND)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_OBJSTORE,
				  "bucket '%s' does not exist; create it first (gcloud storage "
				  "buckets create gs://%s --default-storage-class=STANDARD)",
				  s->bucket, s->bucket);
	else if (rc == CP_EAUTH && !resp.error.code[0])
		/* HEAD answers carry no body: say what a 403 here most likely means. */
		rc = cp_error_prefix(
			rc,
			"Google Cloud Storage refused the HMAC key from %s for bucket "
			"'%s' (check GCS_HMAC_ACCESS_ID, GCS_HMAC_SECRET and the key's "
			"permissions): ",
			s->creds->source, s->bucket);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int gcs_open(void **state, cp_ctx *ctx, const char *url, int create)
{
	gcs_store *s = calloc(1, sizeof(*s));
	if (!s)
		return cp_error_oom();
	s->ctx = ctx;
	cp_http_client_options http;
	cp_http_client_options_from_ctx(&http, ctx, CP_HTTP_FOR_ANY);
	int prc = cp_http_pool_new(&s->pool, ctx, &http);
	if (prc) {
		free(s);
		return prc;
	}
	int rc = parse_url(s, url);
	rc = rc ? rc : find_keys(s);
	if (!rc) {
		s->signer.creds = s->creds;
		s->signer.params.dialect = CP_SIGV4_GOOG;
		s->signer.params.region = "auto";
		s->signer.params.service = "storage";
		s->signer.params.raw_path = 1;
		s->signer.params.content_sha256_header = 1;
	}
	rc = rc ? rc : check_bucket(s);
	if (rc) {
		store_free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static void gcs_close(void *state)
{
	store_free(state);
}

int gcs_put_object(gcs_store *s, const char *key, const void *data, size_t len,
		   const cp_put_options *opts)
{
	char *url = gcs_url(s, key, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "PUT",
			       .url = url,
			       .body = data,
			       .body_len = len,
			       .what = "GCS PUT object"};
	int rc = gcs_add_put_headers(&req.headers, opts);
	if (!rc && opts->create_only)
		rc = cp_http_headers_set(&req.headers, "x-goog-if-generation-match", "0");
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : gcs_perform(s, &req, &resp);
	if (rc == CP_EEXISTS)
		rc = cp_objstore_err_exists(key);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int gcs_put(void *state, const char *key, const void *data, size_t len,
		   const cp_put_options *opts)
{
	if (len <= GCS_PART_SIZE)
		return gcs_put_object(state, key, data, len, opts);
	cp_objstore_writer *w = NULL;
	int rc = gcs_writer_open(state, key, opts, &w);
	if (rc)
		return rc;
	return cp_objstore_put_by_writer(w, data, len);
}

static int gcs_get(void *state, const char *key, uint64_t offset, uint64_t length, cp_buf *out)
{
	gcs_store *s = state;
	char *url = gcs_url(s, key, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {
		.method = "GET", .url = url, .response_body = out, .what = "GCS GET object"};
	int rc = cp_http_headers_set_range(&req.headers, "Range", offset, length);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : gcs_perform(s, &req, &resp);
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int gcs_remove(void *state, const char *key)
{
	gcs_store *s = state;
	char *url = gcs_url(s, key, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "DELETE", .url = url, .what = "GCS DELETE object"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = gcs_perform(s, &req, &resp);
	if (rc == CP_ENOTFOUND) {
		rc = cp_objstore_err_missing(key);
	} else if (rc == CP_EAUTH) {
		/* GCS answers 403 for a retained object too: tell the two apart. */
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_object_info info;
		memset(&info, 0, sizeof(info));
		int64_t now = (int64_t)time(NULL);
		if (!gcs_head(s, key, &info) && info.retain_until > now) {
			char until[32];
			gcs_format_time(info.retain_until, until);
			cp_error_restore(&saved);
			rc = cp_error_set(CP_ELOCKED, CP_ERRCLASS_OBJSTORE,
					  "object '%s' is retained until %s and cannot be deleted "
					  "before then",
					  key, until);
		} else {
			cp_error_restore(&saved);
		}
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

static int gcs_retain(void *state, const char *key, int64_t until)
{
	gcs_store *s = state;
	cp_object_info info;
	memset(&info, 0, sizeof(info));
	int rc = gcs_head(s, key, &info);
	if (rc || info.retain_until >= until)
		return rc;
	char date[32], body[256];
	gcs_format_time(until, date);
	int n = snprintf(body, sizeof(body),
			 "<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>%s</RetainUntilDate>"
			 "</Retention>",
			 date);
	char *url = gcs_url(s, key, "retention");
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "PUT",
			       .url = url,
			       .body = body,
			       .body_len = (size_t)n,
			       .what = "GCS PUT object retention"};
	rc = cp_http_headers_set(&req.headers, "Content-Type", "application/xml");
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : gcs_perform(s, &req, &resp);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

/* ARCHIVE objects in GCS are online: readable at once, no restore step. */
static int gcs_rehydrate(void *state, const char *key, const char *tier, unsigned int days)
{
	cp_object_info info;
	memset(&info, 0, sizeof(info));
	return gcs_head(state, key, &info);
}

const cp_objstore_ops cp_gcs_objstore_ops = {
	.version = CP_OBJSTORE_OPS_VERSION,
	.scheme = "gs",
	.description = "Google Cloud Storage (XML API, HMAC keys; STANDARD or ARCHIVE; object "
		       "retention)",
	.open = gcs_open,
	.close = gcs_close,
	.put = gcs_put,
	.get = gcs_get,
	.head = gcs_head,
	.list = gcs_list,
	.remove = gcs_remove,
	.writer_open = gcs_writer_open,
	.check_settings = gcs_check_settings,
	.retain = gcs_retain,
	.rehydrate = gcs_rehydrate,
	.abort_stale_uploads = gcs_abort_stale_uploads,
	.min_storage_days = gcs_min_storage_days,
};
