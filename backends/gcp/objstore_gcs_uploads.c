/*
 * Stale XML API multipart uploads: a writer killed before its complete
 * call leaves the parts stored and billed, though no listing or read shows
 * them. GET bucket ?uploads answers in S3's shapes, so lib/upload_sweep.c
 * pages through it; DELETE ?uploadId aborts each under the prefix that
 * started before the cut-off.
 * https://cloud.google.com/storage/docs/xml-api/get-bucket-uploads
 * https://cloud.google.com/storage/docs/xml-api/delete-multipart
 */
#include "error.h"
#include "http/url.h"
#include "objstore_gcs.h"
#include "upload_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0: aborted; 1: nothing to abort (not ours, or gone meanwhile); else an error. */
static int abort_one(void *state, const char *full_key, const char *upload_id)
{
	gcs_store *s = state;
	size_t plen = strlen(s->prefix);
	if (strncmp(full_key, s->prefix, plen))
		return 1; /* outside the store's prefix: not ours */
	cp_buf q = CP_BUF_INIT;
	int rc = cp_buf_put(&q, "uploadId=", 9);
	rc = rc ? rc : cp_url_encode(&q, upload_id, strlen(upload_id), NULL);
	char *url = rc ? NULL : gcs_url(s, full_key + plen, q.ptr);
	cp_buf_dispose(&q);
	if (!rc && !url)
		rc = cp_error_oom();
	cp_http_request req = {
		.method = "DELETE", .url = url, .what = "GCS abort multipart upload"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : gcs_perform(s, &req, &resp);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	if (rc == CP_ENOTFOUND) {
		/* Completed or aborted by someone else meanwhile. */
		cp_error_clear();
		return 1;
	}
	return rc;
}

static int list_page(void *state, const char *query, cp_buf *body)
{
	gcs_store *s = state;
	char *url = gcs_url(s, NULL, query);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "GET",
			       .url = url,
			       .response_body = body,
			       .what = "GCS list multipart uploads"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = gcs_perform(s, &req, &resp);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

int gcs_abort_stale_uploads(void *state, const char *prefix, int64_t older_than, uint64_t *count)
{
	gcs_store *s = state;
	char what[300];
	snprintf(what, sizeof(what), "GCS list of multipart uploads in bucket '%s'", s->bucket);
	cp_upload_sweep sw = {s, list_page, abort_one, what, s->endpoint};
	return cp_upload_sweep_run(&sw, s->prefix, prefix, older_than, count);
}
