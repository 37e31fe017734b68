/*
 * Single-object S3 operations: PutObject, ranged GetObject, HeadObject,
 * DeleteObject of the current version, Object Lock retention and
 * RestoreObject for the archive tier.
 */
#include "creds/creds.h"
#include "error.h"
#include "http/date.h"
#include "http/url.h"
#include "objstore_common.h"
#include "objstore_s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char XMLNS[] = "http://s3.amazonaws.com/doc/2006-03-01/";

/* HEAD first, then a conditional PUT: AWS refuses the PUT when the key
 * appeared meanwhile (If-None-Match); services that ignore the condition
 * (RGW 16) leave a window between the two calls where a concurrent
 * creator can be overwritten. The format only creates config and keys
 * this way, at `repo init`, where a race means two users initialising
 * the same prefix at the same moment. */
static int refuse_existing(s3_store *s, const char *key)
{
	cp_object_info info;
	memset(&info, 0, sizeof(info));
	int rc = s3_head(s, key, &info);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	return cp_objstore_err_exists(key);
}

int s3_put(void *state, const char *key, const void *data, size_t len, const cp_put_options *opts)
{
	s3_store *s = state;
	int rc = opts->create_only ? refuse_existing(s, key) : 0;
	if (rc)
		return rc;
	s3_req r;
	cp_buf md5 = CP_BUF_INIT;
	rc = s3_req_init(&r, s, "PUT", key, NULL, "S3 PutObject");
	if (rc)
		return rc;
	r.http.body = data;
	r.http.body_len = len;
	rc = s3_body_checksum(&r, &md5, data, len, opts->retain_until > 0);
	rc = rc ? rc : s3_add_put_headers(s, &r.http.headers, opts);
	if (!rc && opts->create_only)
		rc = cp_http_headers_set(&r.http.headers, "If-None-Match", "*");
	rc = rc ? rc : s3_req_perform(s, &r, key);
	if (rc == CP_EEXISTS && opts->create_only)
		rc = cp_objstore_err_exists(key);
	s3_req_dispose(&r);
	cp_buf_dispose(&md5);
	return rc;
}

int s3_get(void *state, const char *key, uint64_t offset, uint64_t length, cp_buf *out)
{
	s3_store *s = state;
	s3_req r;
	int rc = s3_req_init(&r, s, "GET", key, NULL, "S3 GetObject");
	if (rc)
		return rc;
	r.http.response_body = out;
	rc = cp_http_headers_set_range(&r.http.headers, "Range", offset, length);
	rc = rc ? rc : s3_req_perform(s, &r, key);
	if (rc == CP_ENOTFOUND) {
		rc = cp_objstore_err_missing(key);
	} else if (rc && !strcmp(r.resp.error.code, "InvalidObjectState")) {
		rc = cp_error_set(CP_EBUSY, CP_ERRCLASS_OBJSTORE,
				  "object '%s' is in the archive tier and not readable; run "
				  "`cloudprotect rehydrate` for the backup and wait until it is "
				  "done",
				  key);
	} else if (rc == CP_EINVALID && r.resp.status == 416) {
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_OBJSTORE,
				  "object '%s' is too short for %llu bytes at offset %llu "
				  "(truncated?)",
				  key, (unsigned long long)length, (unsigned long long)offset);
	} else if (!rc && length && out->size != length) {
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_OBJSTORE,
				  "object '%s' gave %zu bytes where %llu at offset %llu were asked "
				  "(truncated?)",
				  key, out->size, (unsigned long long)length,
				  (unsigned long long)offset);
	}
	if (r.http.response_body == out)
		r.http.response_body = NULL;
	s3_req_dispose(&r);
	return rc;
}

/* x-amz-restore: ongoing-request="false", expiry-date="..." means readable. */
static int archived(const char *sclass, const char *restore)
{
	if (strcmp(sclass, "GLACIER") && strcmp(sclass, "DEEP_ARCHIVE"))
		return 0;
	return !restore || !strstr(restore, "ongoing-request=\"false\"");
}

int s3_head_version(s3_store *s, const char *key, cp_object_info *info, char **version)
{
	if (version)
		*version = NULL;
	s3_req r;
	int rc = s3_req_init(&r, s, "HEAD", key, NULL, "S3 HeadObject");
	if (rc)
		return rc;
	rc = s3_req_perform(s, &r, key);
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	if (!rc) {
		const cp_http_headers *h = &r.resp.headers;
		const char *v = cp_http_headers_get(h, "Content-Length");
		info->size = v ? strtoull(v, NULL, 10) : 0;
		info->mtime = cp_http_date_parse(cp_http_headers_get(h, "Last-Modified"));
		v = cp_http_headers_get(h, "x-amz-storage-class");
		snprintf(info->storage_class, sizeof(info->storage_class), "%s",
			 v && *v ? v : "STANDARD");
		info->archived =
			archived(info->storage_class, cp_http_headers_get(h, "x-amz-restore"));
		v = cp_http_headers_get(h, "x-amz-object-lock-retain-until-date");
		int64_t until = 0;
		if (v && !cp_creds_parse_time(v, &until))
			info->retain_until = until;
		cp_error_clear();
		v = cp_http_headers_get(h, "x-amz-version-id");
		if (version && v && *v && strcmp(v, "null") && !(*version = strdup(v)))
			rc = cp_error_oom();
	}
	s3_req_dispose(&r);
	return rc;
}

int s3_head(void *state, const char *key, cp_object_info *info)
{
	return s3_head_version(state, key, info, NULL);
}

static int version_query(char *q, size_t n, const char *what, const char *version)
{
	if (!version) {
		snprintf(q, n, "%s", what);
		return 0;
	}
	cp_buf enc = CP_BUF_INIT;
	int rc = cp_url_encode(&enc, version, strlen(version), NULL);
	if (!rc)
		snprintf(q, n, "%s%sversionId=%s", what, *what ? "&" : "", enc.ptr);
	cp_buf_dispose(&enc);
	return rc;
}

static int delete_version(s3_store *s, const char *key, const char *version)
{
	char q[512];
	s3_req r;
	int rc = version_query(q, sizeof(q), "", version);
	rc = rc ? rc : s3_req_init(&r, s, "DELETE", key, q, "S3 DeleteObject");
	if (rc)
		return rc;
	rc = s3_req_perform(s, &r, key);
	if (rc == CP_EAUTH && !strcmp(r.resp.error.code, "AccessDenied"))
		rc = cp_error_set(CP_ELOCKED, CP_ERRCLASS_OBJSTORE,
				  "object '%s' is protected by Object Lock and cannot be deleted "
				  "yet",
				  key);
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	s3_req_dispose(&r);
	return rc;
}

/*
 * In a versioned bucket (every bucket with Object Lock), a plain DELETE
 * only hides the object behind a delete marker: the bytes stay, and a
 * locked object would look deleted while it is not. So delete the
 * current version itself, refuse while it is locked, and repeat while an
 * older version surfaces, so that "deleted" means absent.
 */
int s3_remove(void *state, const char *key)
{
	s3_store *s = state;
	for (int round = 0;; round++) {
		cp_object_info info;
		memset(&info, 0, sizeof(info));
		char *version = NULL;
		int rc = s3_head_version(s, key, &info, &version);
		if (rc == CP_ENOTFOUND && round > 0) {
			cp_error_clear();
			return 0;
		}
		if (rc)
			return rc;
		if (info.retain_until > (int64_t)time(NULL)) {
			char until[32];
			s3_format_time(until, info.retain_until);
			free(version);
			return cp_error_set(
				CP_ELOCKED, CP_ERRCLASS_OBJSTORE,
				"object '%s' is locked until %s (Object Lock); it can be "
				"deleted after that",
				key, until);
		}
		rc = delete_version(s, key, version);
		int versioned = version != NULL;
		free(version);
		if (rc || !versioned || round >= 100)
			return rc;
	}
}

int s3_put_retention(s3_store *s, const char *key, const char *version, int64_t until)
{
	char q[512], date[32], body[512];
	s3_format_time(date, until);
	snprintf(body, sizeof(body),
		 "<Retention xmlns=\"%s\"><Mode>%s</Mode><RetainUntilDate>%s</RetainUntilDate>"
		 "</Retention>",
		 XMLNS, s->lock_mode, date);
	s3_req r;
	cp_buf md5 = CP_BUF_INIT;
	int rc = version_query(q, sizeof(q), "retention", version);
	rc = rc ? rc : s3_req_init(&r, s, "PUT", key, q, "S3 PutObjectRetention");
	if (rc)
		return rc;
	r.http.body = body;
	r.http.body_len = strlen(body);
	rc = s3_content_md5(&md5, body, strlen(body));
	rc = rc ? rc : cp_http_headers_set(&r.http.headers, "Content-MD5", md5.ptr);
	rc = rc ? rc : s3_req_perform(s, &r, key);
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	s3_req_dispose(&r);
	cp_buf_dispose(&md5);
	return rc;
}

int s3_retain(void *state, const char *key, int64_t until)
{
	s3_store *s = state;
	cp_object_info info;
	memset(&info, 0, sizeof(info));
	char *version = NULL;
	int rc = s3_head_version(s, key, &info, &version);
	if (!rc && info.retain_until < until)
		rc = s3_put_retention(s, key, version, until);
	free(version);
	return rc;
}

int s3_rehydrate(void *state, const char *key, const char *tier, unsigned int days)
{
	s3_store *s = state;
	if (!tier || !*tier)
		tier = "Standard";
	if (strcmp(tier, "Expedited") && strcmp(tier, "Standard") && strcmp(tier, "Bulk"))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "retrieval tier '%s' is not one of Expedited, Standard, Bulk",
				    tier);
	cp_object_info info;
	memset(&info, 0, sizeof(info));
	char *version = NULL;
	int rc = s3_head_version(s, key, &info, &version);
	if (rc || !info.archived) {
		free(version);
		return rc;
	}
	char q[512], body[512];
	snprintf(body, sizeof(body),
		 "<RestoreRequest xmlns=\"%s\"><Days>%u</Days><GlacierJobParameters><Tier>%s"
		 "</Tier></GlacierJobParameters></RestoreRequest>",
		 XMLNS, days ? days : 1, tier);
	s3_req r;
	cp_buf md5 = CP_BUF_INIT;
	rc = version_query(q, sizeof(q), "restore", version);
	free(version);
	rc = rc ? rc : s3_req_init(&r, s, "POST", key, q, "S3 RestoreObject");
	if (rc)
		return rc;
	r.http.body = body;
	r.http.body_len = strlen(body);
	/* Asking again while a restore runs only gets RestoreAlreadyInProgress. */
	r.http.idempotency = CP_HTTP_IDEMPOTENT;
	rc = s3_content_md5(&md5, body, strlen(body));
	rc = rc ? rc : cp_http_headers_set(&r.http.headers, "Content-MD5", md5.ptr);
	rc = rc ? rc : s3_req_perform(s, &r, key);
	if (rc == CP_EEXISTS && !strcmp(r.resp.error.code, "RestoreAlreadyInProgress")) {
		cp_error_clear();
		rc = 0;
	}
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	s3_req_dispose(&r);
	cp_buf_dispose(&md5);
	return rc;
}
