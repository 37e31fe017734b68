/*
 * Streaming uploads. An object that fits in one part goes up with one
 * PutObject at commit; a larger one becomes a multipart upload whose full
 * parts are sent as soon as they are written, several at once, straight
 * from the caller's buffer. Nothing is visible until
 * CompleteMultipartUpload, and free without commit aborts the upload.
 * Memory: less than one part of our own per writer.
 */
#include "ctx.h"
#include "error.h"
#include "http/url.h"
#include "http/xml.h"
#include "objstore_common.h"
#include "objstore_s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct s3_writer {
	cp_objstore_writer base;
	s3_store *s;
	char *key;
	cp_put_options opts;
	char *storage_class;
	cp_buf pending; /* bytes of the next part, at most S3_PART_SIZE */
	uint64_t total;
	char *upload_id;
	char **etags; /* of parts 1..nparts */
	unsigned int nparts, aparts;
	int failed, done;
} s3_writer;

typedef struct part_call {
	s3_req r;
	cp_buf md5;
	unsigned int number;
	int rc;
	char *saved_message; /* the first failure's message */
} part_call;

static int upload_query(cp_buf *q, const char *prefix, const char *upload_id)
{
	int rc = cp_buf_put(q, prefix, strlen(prefix));
	rc = rc ? rc : cp_url_encode(q, upload_id, strlen(upload_id), NULL);
	return rc;
}

static int start_upload(s3_writer *w)
{
	s3_req r;
	int rc = s3_req_init(&r, w->s, "POST", w->key, "uploads", "S3 CreateMultipartUpload");
	if (rc)
		return rc;
	/* A second CreateMultipartUpload only leaves an unused upload behind. */
	r.http.idempotency = CP_HTTP_IDEMPOTENT;
	rc = s3_add_put_headers(w->s, &r.http.headers, &w->opts);
	rc = rc ? rc : s3_req_perform(w->s, &r, w->key);
	if (!rc) {
		w->upload_id =
			cp_xml_find_text(r.body.ptr ? r.body.ptr : "", r.body.size, "UploadId");
		if (!w->upload_id || !*w->upload_id)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
					  "S3 CreateMultipartUpload for '%s' answered without an "
					  "UploadId",
					  w->key);
	}
	s3_req_dispose(&r);
	return rc;
}

static void part_done(void *payload, int rc, cp_http_request *req, cp_http_response *resp)
{
	part_call *c = payload;
	c->rc = rc;
	if (rc) {
		const cp_error *e = cp_error_last();
		c->saved_message = strdup(e && e->message ? e->message : "upload failed");
	}
}

static int grow_etags(s3_writer *w, unsigned int n)
{
	if (n <= w->aparts)
		return 0;
	unsigned int a = w->aparts ? w->aparts : 16;
	while (a < n)
		a *= 2;
	char **grown = realloc(w->etags, a * sizeof(*grown));
	if (!grown)
		return cp_error_oom();
	memset(grown + w->aparts, 0, (a - w->aparts) * sizeof(*grown));
	w->etags = grown;
	w->aparts = a;
	return 0;
}

/* Upload n full parts at once; data[i] holds S3_PART_SIZE bytes (the last may hold fewer). */
static int upload_parts(s3_writer *w, const char *const *data, const size_t *lens, unsigned int n)
{
	int rc = w->upload_id ? 0 : start_upload(w);
	rc = rc ? rc : grow_etags(w, w->nparts + n);
	if (rc)
		return rc;
	part_call *calls = calloc(n, sizeof(*calls));
	if (!calls)
		return cp_error_oom();
	cp_http_client *client = NULL;
	rc = cp_http_pool_take(w->s->pool, &client);
	unsigned int made = 0;
	for (; !rc && made < n; made++) {
		part_call *c = &calls[made];
		c->number = w->nparts + made + 1;
		cp_buf q = CP_BUF_INIT;
		char num[32];
		snprintf(num, sizeof(num), "partNumber=%u&uploadId=", c->number);
		rc = upload_query(&q, num, w->upload_id);
		rc = rc ? rc : s3_req_init(&c->r, w->s, "PUT", w->key, q.ptr, "S3 UploadPart");
		cp_buf_dispose(&q);
		if (rc)
			break;
		c->r.http.body = data[made];
		c->r.http.body_len = lens[made];
		rc = s3_body_checksum(&c->r, &c->md5, data[made], lens[made],
				      w->opts.retain_until > 0);
		rc = rc ? rc : cp_http_submit(client, &c->r.http, &c->r.resp, part_done, c);
		if (rc) {
			made++;
			break;
		}
	}
	int run_rc = client ? cp_http_run(client) : 0;
	if (!rc)
		rc = run_rc;
	for (unsigned int i = 0; i < made; i++) {
		part_call *c = &calls[i];
		if (!rc && c->rc) {
			rc = cp_error_set(c->rc, CP_ERRCLASS_OBJSTORE, "%s",
					  c->saved_message ? c->saved_message : "upload failed");
			rc = s3_req_error(w->s, &c->r, rc, w->key);
		}
		if (!rc) {
			const char *etag = cp_http_headers_get(&c->r.resp.headers, "ETag");
			if (!etag || !*etag)
				rc = cp_error_set(
					CP_EIO, CP_ERRCLASS_OBJSTORE,
					"S3 UploadPart %u of '%s' answered without an ETag",
					c->number, w->key);
			else if (!(w->etags[c->number - 1] = strdup(etag)))
				rc = cp_error_oom();
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		s3_req_dispose(&calls[i].r);
		cp_buf_dispose(&calls[i].md5);
		free(calls[i].saved_message);
	}
	free(calls);
	if (client)
		cp_http_pool_give(w->s->pool, client);
	if (!rc)
		w->nparts += n;
	return rc;
}

#define MAX_BATCH 16

static int sw_write(cp_objstore_writer *self, const void *data, size_t len)
{
	s3_writer *w = (s3_writer *)self;
	if (w->failed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "upload of '%s' failed before; start it again", w->key);
	const char *p = data;
	int rc = 0;
	w->total += len;
	/* Until the object outgrows one part it may still go up as one PutObject. */
	int multipart = w->total > S3_PART_SIZE;
	while (!rc && len) {
		const char *parts[MAX_BATCH];
		size_t lens[MAX_BATCH];
		unsigned int n = 0;
		size_t used = 0;
		/* Top up the pending part first; then whole parts straight from data. */
		if (w->pending.size) {
			size_t take = S3_PART_SIZE - w->pending.size;
			if (take > len)
				take = len;
			rc = cp_buf_put(&w->pending, p, take);
			used = take;
			if (!rc && w->pending.size == S3_PART_SIZE && multipart) {
				parts[n] = w->pending.ptr;
				lens[n++] = S3_PART_SIZE;
			}
		}
		while (!rc && multipart && n < MAX_BATCH && len - used >= S3_PART_SIZE) {
			parts[n] = p + used;
			lens[n++] = S3_PART_SIZE;
			used += S3_PART_SIZE;
		}
		if (!rc && n)
			rc = upload_parts(w, parts, lens, n);
		if (!rc && n && parts[0] == w->pending.ptr)
			cp_buf_clear(&w->pending);
		if (!rc && used < len && (len - used < S3_PART_SIZE || !multipart)) {
			rc = cp_buf_put(&w->pending, p + used, len - used);
			used = len;
		}
		p += used;
		len -= used;
	}
	if (rc)
		w->failed = 1;
	return rc;
}

static int complete_upload(s3_writer *w, char **version)
{
	cp_buf body = CP_BUF_INIT, q = CP_BUF_INIT;
	int rc = cp_buf_put(&body, "<CompleteMultipartUpload>", 25);
	for (unsigned int i = 0; !rc && i < w->nparts; i++) {
		char part[256];
		snprintf(part, sizeof(part), "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
		rc = cp_buf_put(&body, part, strlen(part));
		/* ETags come quoted; the quotes are part of the value S3 expects back. */
		for (const char *e = w->etags[i]; !rc && *e; e++)
			rc = *e == '"' ? cp_buf_put(&body, "&quot;", 6) : cp_buf_put(&body, e, 1);
		rc = rc ? rc : cp_buf_put(&body, "</ETag></Part>", 14);
	}
	rc = rc ? rc : cp_buf_put(&body, "</CompleteMultipartUpload>", 26);
	rc = rc ? rc : upload_query(&q, "uploadId=", w->upload_id);
	s3_req r;
	rc = rc ? rc : s3_req_init(&r, w->s, "POST", w->key, q.ptr, "S3 CompleteMultipartUpload");
	cp_buf_dispose(&q);
	if (rc) {
		cp_buf_dispose(&body);
		return rc;
	}
	r.http.body = body.ptr;
	r.http.body_len = body.size;
	/* Completing twice gives the same object (or NoSuchUpload, reported). */
	r.http.idempotency = CP_HTTP_IDEMPOTENT;
	if (w->opts.create_only)
		rc = cp_http_headers_set(&r.http.headers, "If-None-Match", "*");
	rc = rc ? rc : s3_req_perform(w->s, &r, w->key);
	/* S3 may answer 200 and still fail, with an Error document as the body. */
	if (!rc && r.body.ptr && strstr(r.body.ptr, "<Error>")) {
		char *code = cp_xml_find_text(r.body.ptr, r.body.size, "Code");
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
				  "S3 CompleteMultipartUpload of '%s' failed: %s", w->key,
				  code ? code : "unknown error");
		free(code);
	}
	if (!rc) {
		const char *v = cp_http_headers_get(&r.resp.headers, "x-amz-version-id");
		if (v && *v && strcmp(v, "null") && !(*version = strdup(v)))
			rc = cp_error_oom();
	}
	s3_req_dispose(&r);
	cp_buf_dispose(&body);
	return rc;
}

static int sw_commit(cp_objstore_writer *self)
{
	s3_writer *w = (s3_writer *)self;
	if (w->failed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "upload of '%s' failed before; start it again", w->key);
	int rc;
	if (!w->upload_id) {
		rc = s3_put(w->s, w->key, w->pending.ptr ? w->pending.ptr : "", w->pending.size,
			    &w->opts);
	} else {
		char *version = NULL;
		const char *last = w->pending.ptr;
		size_t last_len = w->pending.size;
		rc = last_len ? upload_parts(w, &last, &last_len, 1) : 0;
		rc = rc ? rc : complete_upload(w, &version);
		/* Some services (RGW) ignore lock headers on CreateMultipartUpload. */
		if (!rc && w->opts.retain_until > 0)
			rc = s3_put_retention(w->s, w->key, version, w->opts.retain_until);
		free(version);
	}
	if (rc)
		w->failed = 1;
	else
		w->done = 1;
	return rc;
}

static void abort_upload(s3_writer *w)
{
	cp_error_saved saved;
	cp_error_save(&saved);
	cp_buf q = CP_BUF_INIT;
	s3_req r;
	int rc = upload_query(&q, "uploadId=", w->upload_id);
	rc = rc ? rc : s3_req_init(&r, w->s, "DELETE", w->key, q.ptr, "S3 AbortMultipartUpload");
	cp_buf_dispose(&q);
	if (!rc) {
		/* Best effort: a leftover upload is invisible to listings and reads. */
		if (s3_req_perform(w->s, &r, w->key))
			cp_log(w->s->ctx, CP_LOG_WARN, "s3: could not abort the upload of '%s'",
			       w->key);
		s3_req_dispose(&r);
	}
	cp_error_restore(&saved);
}

static void sw_free(cp_objstore_writer *self)
{
	s3_writer *w = (s3_writer *)self;
	if (w->upload_id && !w->done)
		abort_upload(w);
	for (unsigned int i = 0; i < w->nparts; i++)
		free(w->etags[i]);
	free(w->etags);
	free(w->upload_id);
	cp_buf_dispose(&w->pending);
	free(w->storage_class);
	free(w->key);
	free(w);
}

int s3_writer_open(void *state, const char *key, const cp_put_options *opts,
		   cp_objstore_writer **out)
{
	s3_store *s = state;
	*out = NULL;
	if (opts->create_only) {
		cp_object_info info;
		memset(&info, 0, sizeof(info));
		int rc = s3_head(s, key, &info);
		if (!rc)
			return cp_objstore_err_exists(key);
		if (rc != CP_ENOTFOUND)
			return rc;
		cp_error_clear();
	}
	s3_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->key = strdup(key))) {
		free(w);
		return cp_error_oom();
	}
	w->s = s;
	w->opts = *opts;
	if (opts->storage_class && !(w->storage_class = strdup(opts->storage_class))) {
		free(w->key);
		free(w);
		return cp_error_oom();
	}
	w->opts.storage_class = w->storage_class;
	w->base.version = CP_OBJSTORE_WRITER_VERSION;
	w->base.write = sw_write;
	w->base.commit = sw_commit;
	w->base.free = sw_free;
	*out = &w->base;
	return 0;
}
