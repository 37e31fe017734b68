/*
 * Building, signing and sending S3 requests (on the store's shared client pool).
 */
#include "auth/digest.h"
#include "ctx.h"
#include "error.h"
#include "http/url.h"
#include "objstore_s3.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int put_str(cp_buf *b, const char *s)
{
	return cp_buf_put(b, s, strlen(s));
}

int s3_req_init(s3_req *r, s3_store *s, const char *method, const char *key, const char *query,
		const char *what)
{
	memset(r, 0, sizeof(*r));
	const char *sep = strstr(s->endpoint, "://");
	int rc;
	if (s->virtual_style) {
		rc = cp_buf_put(&r->url, s->endpoint, (size_t)(sep + 3 - s->endpoint));
		rc = rc ? rc : put_str(&r->url, s->bucket);
		rc = rc ? rc : put_str(&r->url, ".");
		rc = rc ? rc : put_str(&r->url, sep + 3);
		rc = rc ? rc : put_str(&r->url, "/");
	} else {
		rc = put_str(&r->url, s->endpoint);
		rc = rc ? rc : put_str(&r->url, "/");
		rc = rc ? rc : put_str(&r->url, s->bucket);
		if (!rc && key)
			rc = put_str(&r->url, "/");
	}
	if (!rc && key) {
		rc = cp_url_encode(&r->url, s->root, strlen(s->root), "/");
		rc = rc ? rc : cp_url_encode(&r->url, key, strlen(key), "/");
	}
	if (!rc && query && *query) {
		rc = put_str(&r->url, "?");
		rc = rc ? rc : put_str(&r->url, query);
	}
	if (rc) {
		cp_buf_dispose(&r->url);
		return rc;
	}
	r->signer.params.dialect = CP_SIGV4_AWS;
	r->signer.params.region = s->region;
	r->signer.params.service = "s3";
	r->signer.params.raw_path = 1;
	r->signer.params.content_sha256_header = 1;
	r->signer.creds = s->creds;
	r->http.method = method;
	r->http.url = r->url.ptr;
	r->http.response_body = &r->body;
	r->http.sign = cp_sigv4_sign_request;
	r->http.sign_payload = &r->signer;
	r->http.parse_error = cp_http_parse_error_xml;
	r->http.what = what;
	return 0;
}

int s3_req_error(s3_store *s, s3_req *r, int rc, const char *key)
{
	const char *code = r->resp.error.code;
	if (rc == CP_EAUTH && strcmp(code, "AccessDenied") && strcmp(code, "InvalidObjectState")) {
		/* Name the key id (never the secret) so the user knows which keys were refused. */
		cp_creds_value v = {0};
		char id[64] = "(unknown)";
		if (!cp_creds_get(s->creds, &v) && v.access_key)
			snprintf(id, sizeof(id), "%s", v.access_key);
		const char *source = s->creds->source ? s->creds->source : "the AWS chain";
		cp_creds_value_dispose(&v);
		return cp_error_prefix(rc,
				       "%s refused access key id '%s' (from %s); check "
				       "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile: ",
				       s->endpoint, id, source);
	}
	if (key)
		return cp_error_prefix(rc, "s3://%s/%s%s: ", s->bucket, s->root, key);
	return cp_error_prefix(rc, "bucket '%s' at %s: ", s->bucket, s->endpoint);
}

int s3_req_perform(s3_store *s, s3_req *r, const char *key)
{
	int rc = cp_http_pool_perform(s->pool, &r->http, &r->resp);
	if (rc && rc != CP_ENOTFOUND)
		rc = s3_req_error(s, r, rc, key);
	return rc;
}

void s3_req_dispose(s3_req *r)
{
	cp_http_request_dispose(&r->http);
	cp_http_response_dispose(&r->resp);
	cp_buf_dispose(&r->url);
	cp_buf_dispose(&r->body);
}

int s3_content_md5(cp_buf *out, const void *data, size_t len)
{
	unsigned char md[16];
	unsigned int n = 0;
	if (!EVP_Digest(data, len, md, &n, EVP_md5(), NULL))
		return cp_error_set(CP_ERROR, CP_ERRCLASS_OS, "MD5 is not available in OpenSSL");
	cp_buf_clear(out);
	return cp_base64_encode(out, md, n, 0);
}

int s3_body_checksum(s3_req *r, cp_buf *md5, const void *data, size_t len, int locked)
{
	if (!locked)
		return 0; /* the signer hashes the body: x-amz-content-sha256 */
	r->signer.params.payload_hash = CP_SIGV4_UNSIGNED_PAYLOAD;
	int rc = s3_content_md5(md5, data, len);
	return rc ? rc : cp_http_headers_set(&r->http.headers, "Content-MD5", md5->ptr);
}

void s3_format_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

int s3_add_put_headers(s3_store *s, cp_http_headers *h, const cp_put_options *opts)
{
	int rc = 0;
	if (opts->storage_class && *opts->storage_class)
		rc = cp_http_headers_set(h, "x-amz-storage-class", opts->storage_class);
	if (!rc && opts->retain_until > 0) {
		char until[32];
		s3_format_time(until, opts->retain_until);
		rc = cp_http_headers_set(h, "x-amz-object-lock-mode", s->lock_mode);
		rc = rc ? rc : cp_http_headers_set(h, "x-amz-object-lock-retain-until-date", until);
	}
	return rc;
}
