/*
 * azblob:// streaming uploads: the object is cut into blocks sent with
 * Put Block as they fill, then made visible at once by Put Block List.
 * Uncommitted blocks are invisible (Azure drops them after a week), so an
 * upload that is killed or freed without commit leaves nothing behind.
 * Memory stays at one block per writer.
 */
#include "auth/digest.h"
#include "error.h"
#include "objstore_azblob.h"
#include "objstore_common.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	cp_objstore_writer base;
	az_store *s;
	char *key;
	cp_put_options opts;
	char tier[32];
	char *block;
	size_t fill;
	char nonce[17]; /* keeps two uploads of one key from sharing block ids */
	unsigned int nblocks;
	int failed;
} az_writer;

/* Block ids must all have the same length within a blob; base64 of a fixed-width name. */
static int block_id(az_writer *w, unsigned int n, cp_buf *out)
{
	char raw[32];
	int len = snprintf(raw, sizeof(raw), "%s-%06u", w->nonce, n);
	cp_buf_clear(out);
	return cp_base64_encode(out, raw, (size_t)len, 0);
}

static int put_block(az_writer *w)
{
	cp_buf id = CP_BUF_INIT, q = CP_BUF_INIT;
	int rc = block_id(w, w->nblocks, &id);
	rc = rc ? rc : cp_buf_put(&q, "comp=block&blockid=", 19);
	/* base64 holds '+', '/' and '=', which a query must escape. */
	for (size_t i = 0; !rc && i < id.size; i++) {
		char c = id.ptr[i], esc[4];
		if (c == '+' || c == '/' || c == '=') {
			snprintf(esc, sizeof(esc), "%%%02X", (unsigned char)c);
			rc = cp_buf_put(&q, esc, 3);
		} else {
			rc = cp_buf_put(&q, &c, 1);
		}
	}
	char *url = rc ? NULL : az_blob_url(w->s, w->key, q.ptr);
	if (!rc && !url)
		rc = cp_error_oom();
	cp_http_request req = {.method = "PUT",
			       .url = url,
			       .body = w->block,
			       .body_len = w->fill,
			       .what = "Azure Put Block"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : az_perform(w->s, &req, &resp);
	if (!rc) {
		w->nblocks++;
		w->fill = 0;
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	cp_buf_dispose(&id);
	cp_buf_dispose(&q);
	return rc;
}

static int aw_write(cp_objstore_writer *self, const void *data, size_t len)
{
	az_writer *w = (az_writer *)self;
	const char *p = data;
	if (w->failed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "upload of '%s' already failed; start it again", w->key);
	while (len) {
		size_t n = AZ_BLOCK_SIZE - w->fill;
		if (n > len)
			n = len;
		memcpy(w->block + w->fill, p, n);
		w->fill += n;
		p += n;
		len -= n;
		if (w->fill == AZ_BLOCK_SIZE && len) {
			int rc = put_block(w);
			if (rc) {
				w->failed = 1;
				return rc;
			}
		}
	}
	return 0;
}

static int put_block_list(az_writer *w)
{
	cp_buf xml = CP_BUF_INIT, id = CP_BUF_INIT;
	const char *head = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
	int rc = cp_buf_put(&xml, head, strlen(head));
	for (unsigned int i = 0; !rc && i < w->nblocks; i++) {
		rc = block_id(w, i, &id);
		rc = rc ? rc : cp_buf_put(&xml, "<Latest>", 8);
		rc = rc ? rc : cp_buf_put(&xml, id.ptr, id.size);
		rc = rc ? rc : cp_buf_put(&xml, "</Latest>", 9);
	}
	rc = rc ? rc : cp_buf_put(&xml, "</BlockList>", 12);
	char *url = rc ? NULL : az_blob_url(w->s, w->key, "comp=blocklist");
	if (!rc && !url)
		rc = cp_error_oom();
	cp_http_request req = {.method = "PUT",
			       .url = url,
			       .body = xml.ptr,
			       .body_len = xml.size,
			       .what = "Azure Put Block List"};
	rc = rc ? rc : cp_http_headers_set(&req.headers, "Content-Type", "application/xml");
	rc = rc ? rc
		: cp_http_headers_set(&req.headers, "x-ms-blob-content-type",
				      "application/octet-stream");
	if (!rc && w->opts.create_only)
		rc = cp_http_headers_set(&req.headers, "If-None-Match", "*");
	if (!rc && w->tier[0])
		rc = cp_http_headers_set(&req.headers, "x-ms-access-tier", w->tier);
	if (!rc && w->opts.retain_until)
		rc = az_add_lock_headers(&req.headers, w->opts.retain_until);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	rc = rc ? rc : az_perform(w->s, &req, &resp);
	if (rc == CP_EEXISTS)
		rc = cp_objstore_err_exists(w->key);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	cp_buf_dispose(&xml);
	cp_buf_dispose(&id);
	return rc;
}

static int aw_commit(cp_objstore_writer *self)
{
	az_writer *w = (az_writer *)self;
	if (w->failed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "upload of '%s' already failed; start it again", w->key);
	int rc;
	if (!w->nblocks) {
		/* Small enough for one request: nothing was staged. */
		cp_put_options o = w->opts;
		o.storage_class = w->tier[0] ? w->tier : NULL;
		rc = az_put_blob(w->s, w->key, w->block, w->fill, &o);
	} else {
		rc = w->fill ? put_block(w) : 0;
		rc = rc ? rc : put_block_list(w);
	}
	w->failed = rc != 0;
	return rc;
}

static void aw_free(cp_objstore_writer *self)
{
	az_writer *w = (az_writer *)self;
	free(w->block);
	free(w->key);
	free(w);
}

int az_writer_open(void *state, const char *key, const cp_put_options *opts,
		   cp_objstore_writer **out)
{
	*out = NULL;
	az_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return cp_error_oom();
	w->key = strdup(key);
	w->block = malloc(AZ_BLOCK_SIZE);
	unsigned char rnd[8];
	if (!w->key || !w->block || RAND_bytes(rnd, sizeof(rnd)) != 1) {
		aw_free(&w->base);
		return cp_error_oom();
	}
	cp_auth_hex(rnd, sizeof(rnd), w->nonce);
	w->base.version = CP_OBJSTORE_WRITER_VERSION;
	w->base.write = aw_write;
	w->base.commit = aw_commit;
	w->base.free = aw_free;
	w->s = state;
	w->opts = *opts;
	if (opts->storage_class && az_tier_name(opts->storage_class))
		snprintf(w->tier, sizeof(w->tier), "%s", az_tier_name(opts->storage_class));
	w->opts.storage_class = NULL; /* not ours past this call; tier holds it */
	*out = &w->base;
	return 0;
}
