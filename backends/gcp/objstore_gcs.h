/*
 * gs:// object store internals shared by its files: the open store, how a
 * request is addressed and signed (GOOG4-HMAC-SHA256), small helpers.
 */
#ifndef CP_BACKENDS_GCP_OBJSTORE_GCS_H
#define CP_BACKENDS_GCP_OBJSTORE_GCS_H

#include "auth/sigv4.h"
#include "creds/creds.h"
#include "http/http.h"
#include "http/pool.h"

#include <pthread.h>

/* Objects up to this size go up in one PUT; larger ones as multipart parts of this size. */
#define GCS_PART_SIZE (8u << 20)

typedef struct gcs_store {
	cp_ctx *ctx;
	char *bucket;
	char *prefix;	/* "" or ending in '/' */
	char *endpoint; /* "https://storage.googleapis.com" or the URL's ?endpoint= */
	cp_creds *creds;
	cp_sigv4_signer signer;
	/* A client is single-threaded, the store is not: idle clients wait here. */
	cp_http_pool *pool; /* a client serves one thread at a time, the store many */
} gcs_store;

/** URL of key (NULL: the bucket) with query (NULL: none), malloc'd. */
char *gcs_url(gcs_store *s, const char *key, const char *query);
/** Sign and send req. */
int gcs_perform(gcs_store *s, cp_http_request *req, cp_http_response *resp);

/** RFC 3339 UTC ("2026-01-02T03:04:05Z") of unix seconds. */
void gcs_format_time(int64_t t, char out[32]);
/** The class name GCS uses ("STANDARD", "ARCHIVE"), upper-cased into out. */
void gcs_class_name(const char *storage_class, char out[32]);
/** Add the storage class and object lock headers of an upload. */
int gcs_add_put_headers(cp_http_headers *h, const cp_put_options *opts);

int gcs_put_object(gcs_store *s, const char *key, const void *data, size_t len,
		   const cp_put_options *opts);
int gcs_writer_open(void *state, const char *key, const cp_put_options *opts,
		    cp_objstore_writer **out);
int gcs_check_settings(void *state, const cp_objstore_settings *settings, int create);
int gcs_head(void *state, const char *key, cp_object_info *info);
int gcs_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload);
int gcs_abort_stale_uploads(void *state, const char *prefix, int64_t older_than, uint64_t *count);
unsigned int gcs_min_storage_days(void *state, const char *storage_class);

#endif
