/*
 * Stale multipart uploads: a writer killed between CreateMultipartUpload
 * and Complete leaves its parts behind, invisible to listings and reads
 * but billed until someone aborts them. lib/upload_sweep.c walks
 * ListMultipartUploads; here are S3's requests: the listing and
 * AbortMultipartUpload for each upload under the prefix that started
 * before the cut-off.
 */
#include "error.h"
#include "http/url.h"
#include "objstore_s3.h"
#include "upload_sweep.h"

#include <stdio.h>
#include <string.h>

/* 0: aborted; 1: nothing to abort (not ours, or gone meanwhile); else an error. */
static int abort_one(void *state, const char *full_key, const char *upload_id)
{
	s3_store *s = state;
	size_t root_len = strlen(s->root);
	if (strncmp(full_key, s->root, root_len))
		return 1; /* outside the store's root: not ours */
	cp_buf q = CP_BUF_INIT;
	s3_req r;
	int rc = cp_buf_put(&q, "uploadId=", 9);
	rc = rc ? rc : cp_url_encode(&q, upload_id, strlen(upload_id), NULL);
	rc = rc ? rc
		: s3_req_init(&r, s, "DELETE", full_key + root_len, q.ptr,
			      "S3 AbortMultipartUpload");
	cp_buf_dispose(&q);
	if (rc)
		return rc;
	rc = s3_req_perform(s, &r, full_key + root_len);
	s3_req_dispose(&r);
	if (rc == CP_ENOTFOUND) {
		/* Completed or aborted by someone else meanwhile. */
		cp_error_clear();
		return 1;
	}
	return rc;
}

static int list_page(void *state, const char *query, cp_buf *body)
{
	s3_store *s = state;
	s3_req r;
	int rc = s3_req_init(&r, s, "GET", NULL, query, "S3 ListMultipartUploads");
	if (rc)
		return rc;
	r.http.response_body = body;
	rc = s3_req_perform(s, &r, NULL);
	s3_req_dispose(&r);
	return rc;
}

int s3_abort_stale_uploads(void *state, const char *prefix, int64_t older_than, uint64_t *count)
{
	s3_store *s = state;
	char what[300];
	snprintf(what, sizeof(what), "S3 ListMultipartUploads on bucket '%s'", s->bucket);
	cp_upload_sweep sw = {s, list_page, abort_one, what, s->endpoint};
	return cp_upload_sweep_run(&sw, s->root, prefix, older_than, count);
}
