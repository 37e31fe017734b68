/*
 * s3:// object store internals shared by its files: the open store, and
 * one helper that describes, signs and sends an S3 request.
 */
#ifndef CP_BACKENDS_AWS_OBJSTORE_S3_H
#define CP_BACKENDS_AWS_OBJSTORE_S3_H

#include "auth/sigv4.h"
#include "cloudprotect/sys/objstore.h"
#include "creds/creds.h"
#include "http/http.h"
#include "http/pool.h"

#include <pthread.h>
#include <stdint.h>

/* Parts of a multipart upload; S3 wants at least 5 MiB except for the last. */
#define S3_PART_SIZE (8u * 1024 * 1024)

typedef struct s3_store {
	cp_ctx *ctx;
	char *bucket;
	char *root;	/* key prefix ending in '/', or "" */
	char *endpoint; /* scheme://host[:port], no trailing slash */
	char *region;
	int virtual_style; /* bucket in the host name instead of the path */
	char *lock_mode;   /* "COMPLIANCE" or "GOVERNANCE" */
	char *url;	   /* the repository URL, for messages */
	cp_creds *creds;
	cp_http_client_options http;
	cp_http_pool *pool; /* a client serves one thread at a time, the store many */
} s3_store;

/* One S3 call: fill with s3_req_init, adjust http fields, send, dispose. */
typedef struct s3_req {
	cp_http_request http;
	cp_http_response resp;
	cp_sigv4_signer signer;
	cp_buf url;
	cp_buf body; /* the response body unless http.response_body is redirected */
} s3_req;

/*
 * key: relative to the store root, or NULL for the bucket itself. query:
 * already encoded ("uploads", "uploadId=..&partNumber=3"), or NULL. what
 * names the call in errors ("S3 PutObject").
 */
int s3_req_init(s3_req *r, s3_store *s, const char *method, const char *key, const char *query,
		const char *what);
/* Send on a client of the pool; on failure the error names the object and, for auth, the key id. */
int s3_req_perform(s3_store *s, s3_req *r, const char *key);
void s3_req_dispose(s3_req *r);

/* Name the object and key id in an error raised by a request (rc returned). */
int s3_req_error(s3_store *s, s3_req *r, int rc, const char *key);

/* Base64 of the MD5 of data, for Content-MD5 (S3 checks it; Object Lock requires one). */
int s3_content_md5(cp_buf *out, const void *data, size_t len);
/*
 * Give an upload body exactly one checksum that S3 verifies: the signed
 * SHA-256 payload hash (x-amz-content-sha256), or, for objects under
 * Object Lock, where AWS demands it, Content-MD5 (with an unsigned payload,
 * since the signed MD5 already binds the body). md5 holds the header value.
 */
int s3_body_checksum(s3_req *r, cp_buf *md5, const void *data, size_t len, int locked);
/* "2026-01-02T03:04:05.000Z" */
void s3_format_time(char out[32], int64_t t);
/* Object Lock headers for a put that asks for retention. */
int s3_add_put_headers(s3_store *s, cp_http_headers *h, const cp_put_options *opts);

int s3_head(void *state, const char *key, cp_object_info *info);
/* HEAD that also returns the version id (malloc'd, NULL when unversioned). */
int s3_head_version(s3_store *s, const char *key, cp_object_info *info, char **version);
int s3_put_retention(s3_store *s, const char *key, const char *version, int64_t until);

int s3_put(void *state, const char *key, const void *data, size_t len, const cp_put_options *opts);
int s3_get(void *state, const char *key, uint64_t offset, uint64_t length, cp_buf *out);
int s3_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload);
int s3_remove(void *state, const char *key);
int s3_writer_open(void *state, const char *key, const cp_put_options *opts,
		   cp_objstore_writer **out);
int s3_check_settings(void *state, const cp_objstore_settings *settings, int create);
int s3_retain(void *state, const char *key, int64_t until);
int s3_rehydrate(void *state, const char *key, const char *tier, unsigned int days);
int s3_abort_stale_uploads(void *state, const char *prefix, int64_t older_than, uint64_t *count);
unsigned int s3_min_storage_days(void *state, const char *sclass);

#endif
