/*
 * gs:// streaming uploads through the XML API's multipart upload: POST
 * ?uploads starts one, each full part goes up with PUT ?partNumber&uploadId,
 * and POST ?uploadId with the part list makes the object appear whole. An
 * upload never completed is invisible; free without commit aborts it, and
 * a killed process leaves only an incomplete upload (a bucket lifecycle
 * rule can clear those). Memory stays at one part per writer.
 */
#include "error.h"
#include "http/url.h"
#include "http/xml.h"
#include "objstore_common.h"
#include "objstore_gcs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	cp_objstore_writer base;
	gcs_store *s;
	char *key;
	cp_put_options opts;
	char cls[32];
	char *part;
	size_t fill;
	char *upload_id; /* NULL until the first part must go up */
	cp_buf etags;	 /* "<Part>...</Part>" elements, in order */
	unsigned int nparts;
	int failed, done;
} gcs_writer;

static cp_put_options writer_opts(gcs_writer *w)
{
	cp_put_options o = w->opts;
	o.storage_class = w->cls[0] ? w->cls : NULL;
	return o;
}

static int start_upload(gcs_writer *w)
{
	char *url = gcs_url(w->s, w->key, "uploads");
	if (!url)
		return cp_error_oom();
	cp_buf body = CP_BUF_INIT;
	cp_put_options o = writer_opts(w);
	cp_http_request req = {.method = "POST",
			       .url = url,
			       .response_body = &body,
			       .idempotency =
				       CP_HTTP_IDEMPOTENT, /* an unused upload id is harmless */
			       .what = "GCS initiate multipart upload"};
	int rc = gcs_add_put_headers(&req.headers, &o);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : gcs_perform(w->s, &req, &resp);
	if (!rc) {
		w->upload_id = cp_xml_find_text(body.ptr, body.size, "UploadId");
		if (!w->upload_id)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
					  "GCS started a multipart upload of '%s' without an "
					  "UploadId in its answer",
					  w->key);
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&body);
	free(url);
	return rc;
}

static int upload_query(gcs_writer *w, const char *before, cp_buf *q)
{
	int rc = cp_buf_put(q, before, strlen(before));
	rc = rc ? rc : cp_buf_put(q, "uploadId=", 9);
	return rc ? rc : cp_url_encode(q, w->upload_id, strlen(w->upload_id), NULL);
}

static int put_part(gcs_writer *w)
{
	int rc = w->upload_id ? 0 : start_upload(w);
	char before[48];
	snprintf(before, sizeof(before), "partNumber=%u&", w->nparts + 1);
	cp_buf q = CP_BUF_INIT;
	rc = rc ? rc : upload_query(w, before, &q);
	char *url = rc ? NULL : gcs_url(w->s, w->key, q.ptr);
	if (!rc && !url)
		rc = cp_error_oom();
	cp_http_request req = {.method = "PUT",
			       .url = url,
			       .body = w->part,
			       .body_len = w->fill,
			       .what = "GCS upload part"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : gcs_perform(w->s, &req, &resp);
	if (!rc) {
		const char *etag = cp_http_headers_get(&resp.headers, "ETag");
		char part[256];
		int n = snprintf(part, sizeof(part),
				 "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
				 w->nparts + 1, etag ? etag : "");
		rc = (size_t)n < sizeof(part) ? cp_buf_put(&w->etags, part, (size_t)n)
					      : cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
							     "GCS answered a part of '%s' with an "
							     "ETag too long to keep",
							     w->key);
	}
	if (!rc) {
		w->nparts++;
		w->fill = 0;
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&q);
	free(url);
	return rc;
}

static int gw_write(cp_objstore_writer *self, const void *data, size_t len)
{
	gcs_writer *w = (gcs_writer *)self;
	const char *p = data;
	if (w->failed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "upload of '%s' already failed; start it again", w->key);
	while (len) {
		size_t n = GCS_PART_SIZE - w->fill;
		if (n > len)
			n = len;
		memcpy(w->part + w->fill, p, n);
		w->fill += n;
		p += n;
		len -= n;
		if (w->fill == GCS_PART_SIZE && len) {
			int rc = put_part(w);
			if (rc) {
				w->failed = 1;
				return rc;
			}
		}
	}
	return 0;
}

static int complete(gcs_writer *w)
{
	cp_buf q = CP_BUF_INIT, xml = CP_BUF_INIT;
	int rc = upload_query(w, "", &q);
	rc = rc ? rc : cp_buf_put(&xml, "<CompleteMultipartUpload>", 25);
	rc = rc ? rc : cp_buf_put(&xml, w->etags.ptr, w->etags.size);
	rc = rc ? rc : cp_buf_put(&xml, "</CompleteMultipartUpload>", 26);
	char *url = rc ? NULL : gcs_url(w->s, w->key, q.ptr);
	if (!rc && !url)
		rc = cp_error_oom();
	cp_http_request req = {.method = "POST",
			       .url = url,
			       .body = xml.ptr,
			       .body_len = xml.size,
			       .what = "GCS complete multipart upload"};
	rc = rc ? rc : cp_http_headers_set(&req.headers, "Content-Type", "application/xml");
	if (!rc && w->opts.create_only)
		rc = cp_http_headers_set(&req.headers, "x-goog-if-generation-match", "0");
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : gcs_perform(w->s, &req, &resp);
	if (rc == CP_EEXISTS)
		rc = cp_objstore_err_exists(w->key);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&q);
	cp_buf_dispose(&xml);
	free(url);
	return rc;
}

static int gw_commit(cp_objstore_writer *self)
{
	gcs_writer *w = (gcs_writer *)self;
	if (w->failed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "upload of '%s' already failed; start it again", w->key);
	int rc;
	if (!w->nparts) {
		cp_put_options o = writer_opts(w);
		rc = gcs_put_object(w->s, w->key, w->part, w->fill, &o);
	} else {
		rc = w->fill ? put_part(w) : 0;
		rc = rc ? rc : complete(w);
		w->done = !rc;
	}
	w->failed = rc != 0;
	return rc;
}

/* An upload given up: abort it so its parts stop being billed (best effort). */
static void abort_upload(gcs_writer *w)
{
	cp_buf q = CP_BUF_INIT;
	char *url = upload_query(w, "", &q) ? NULL : gcs_url(w->s, w->key, q.ptr);
	if (url) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_http_request req = {.method = "DELETE",
				       .url = url,
				       .max_attempts = 2,
				       .what = "GCS abort multipart upload"};
		cp_http_response resp = CP_HTTP_RESPONSE_INIT;
		gcs_perform(w->s, &req, &resp);
		cp_http_request_dispose(&req);
		cp_http_response_dispose(&resp);
		cp_error_restore(&saved);
	}
	cp_buf_dispose(&q);
	free(url);
}

static void gw_free(cp_objstore_writer *self)
{
	gcs_writer *w = (gcs_writer *)self;
	if (w->upload_id && !w->done)
		abort_upload(w);
	cp_buf_dispose(&w->etags);
	free(w->upload_id);
	free(w->part);
	free(w->key);
	free(w);
}

int gcs_writer_open(void *state, const char *key, const cp_put_options *opts,
		    cp_objstore_writer **out)
{
	*out = NULL;
	gcs_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return cp_error_oom();
	w->key = strdup(key);
	w->part = malloc(GCS_PART_SIZE);
	if (!w->key || !w->part) {
		gw_free(&w->base);
		return cp_error_oom();
	}
	w->base.version = CP_OBJSTORE_WRITER_VERSION;
	w->base.write = gw_write;
	w->base.commit = gw_commit;
	w->base.free = gw_free;
	w->s = state;
	w->opts = *opts;
	if (opts->storage_class)
		gcs_class_name(opts->storage_class, w->cls);
	w->opts.storage_class = NULL; /* not ours past this call; cls holds it */
	*out = &w->base;
	return 0;
}
