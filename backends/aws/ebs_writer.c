/*
 * Restoring into AWS: a new EBS snapshot filled through EBS direct
 * (StartSnapshot, PutSnapshotBlock in parallel, CompleteSnapshot), then a
 * volume made from it (and attached when asked).
 *
 * Zeros: blocks never written to an unencrypted new snapshot read back as
 * zeros, so all-zero blocks are skipped (no request, no cost). Blocks
 * absent from an ENCRYPTED snapshot read back as random data (coldsnap
 * #395): for those the writer sets CP_BLOCK_WRITER_MUST_WRITE_ZEROS, so
 * the engine hands it every block, and it writes every one. A snapshot is
 * encrypted when the config asks ("encrypted": true) or StartSnapshot
 * answers with a KMS key (account default encryption).
 *
 * Each PutSnapshotBlock waits a round trip, and the engine writes from a
 * few threads only, so a write copies its block into a queue
 * (lib/write_queue.h) and returns; the queue's threads (max_block_requests
 * of them) put the queued blocks, and commit waits for them before
 * CompleteSnapshot. Memory stays bounded (about 20 MiB for 32); the first
 * failed put fails the next write or the commit with its own error.
 */
#include "ctx.h"
#include "error.h"
#include "json.h"
#include "provider_aws.h"
#include "write_queue.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPARE_BUFFERS 8 /* queued beyond the uploaders, so they never wait on a write */

typedef struct ebs_writer {
	cp_block_writer base;
	aws_provider *p;
	char *snapshot_id;
	int encrypted;
	int committed;
	pthread_mutex_t mu;	/* guards changed and written */
	uint64_t changed;	/* distinct blocks put, for CompleteSnapshot's ChangedBlocksCount */
	unsigned char *written; /* a bit per block, so a block written twice counts once */
	ebs_limiter limiter;
	cp_disk_create_options opts; /* name, tags and attach_to copied */
	cp_tag *tags;

	cp_write_queue *queue; /* blocks waiting for their PutSnapshotBlock */
} ebs_writer;

static int all_zero(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static int put_block(ebs_writer *w, uint64_t block, const char *data)
{
	char path[256], sum[64], len[32];
	snprintf(path, sizeof(path), "/snapshots/%s/blocks/%llu", w->snapshot_id,
		 (unsigned long long)block);
	snprintf(len, sizeof(len), "%u", EBS_BLOCK_SIZE);
	ebs_req r;
	int rc = ebs_checksum(sum, data, EBS_BLOCK_SIZE);
	rc = rc ? rc : ebs_req_init(&r, w->p, "PUT", path, "EBS PutSnapshotBlock");
	if (rc)
		return rc;
	rc = cp_http_headers_set(&r.http.headers, "Content-Type", "application/octet-stream");
	rc = rc ? rc : cp_http_headers_set(&r.http.headers, "x-amz-Data-Length", len);
	rc = rc ? rc : cp_http_headers_set(&r.http.headers, "x-amz-Checksum", sum);
	rc = rc ? rc : cp_http_headers_set(&r.http.headers, "x-amz-Checksum-Algorithm", "SHA256");
	if (!rc) {
		/* x-amz-Checksum already covers the body: sign it unhashed, as the
		 * SDKs do (PutSnapshotBlock is "v4-unsigned-body"), not hash it twice. */
		r.signer.params.payload_hash = CP_SIGV4_UNSIGNED_PAYLOAD;
		r.signer.params.content_sha256_header = 1;
		r.http.body = data;
		r.http.body_len = EBS_BLOCK_SIZE;
		rc = ebs_block_request(w->p, &w->limiter, &r, w->snapshot_id);
	}
	ebs_req_dispose(&r);
	if (!rc) {
		pthread_mutex_lock(&w->mu);
		if (!(w->written[block / 8] & (1u << (block % 8)))) {
			w->written[block / 8] |= (unsigned char)(1u << (block % 8));
			w->changed++;
		}
		pthread_mutex_unlock(&w->mu);
	}
	return rc;
}

/* The queue's sink: one PutSnapshotBlock on one of its threads. */
static int put_queued_block(void *arg, uint64_t offset, const void *data, size_t len)
{
	ebs_writer *w = arg;
	return put_block(w, offset / EBS_BLOCK_SIZE, data);
}

static int writer_write(cp_block_writer *self, uint64_t offset, const void *buf, size_t len)
{
	ebs_writer *w = (ebs_writer *)self;
	if (offset > self->size || len > self->size - offset)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "write of %zu bytes at %llu is past the end of the new volume",
				    len, (unsigned long long)offset);
	const char *in = buf;
	char *partial = NULL;
	int rc = 0;
	while (!rc && len) {
		uint64_t block = offset / EBS_BLOCK_SIZE;
		size_t skip = (size_t)(offset % EBS_BLOCK_SIZE);
		size_t n = EBS_BLOCK_SIZE - skip < len ? EBS_BLOCK_SIZE - skip : len;
		const char *data = in;
		if (n != EBS_BLOCK_SIZE) {
			/* EBS takes whole blocks; the engine writes whole chunks, so a piece is
			 * the tail of the disk and the rest of its block is zeros. */
			if (!partial && !(partial = malloc(EBS_BLOCK_SIZE))) {
				rc = cp_error_oom();
				break;
			}
			memset(partial, 0, EBS_BLOCK_SIZE);
			memcpy(partial + skip, in, n);
			data = partial;
		}
		if (w->encrypted || !all_zero(data, EBS_BLOCK_SIZE))
			rc = cp_write_queue_put(w->queue, block * EBS_BLOCK_SIZE, data,
						EBS_BLOCK_SIZE);
		in += n;
		offset += n;
		len -= n;
	}
	free(partial);
	return rc;
}

static int complete_snapshot(ebs_writer *w)
{
	char path[256], count[32];
	snprintf(path, sizeof(path), "/snapshots/completion/%s", w->snapshot_id);
	snprintf(count, sizeof(count), "%llu", (unsigned long long)w->changed);
	ebs_req r;
	int rc = ebs_req_init(&r, w->p, "POST", path, "EBS CompleteSnapshot");
	rc = rc ? rc : cp_http_headers_set(&r.http.headers, "x-amz-ChangedBlocksCount", count);
	if (!rc) {
		r.http.idempotency = CP_HTTP_IDEMPOTENT;
		rc = ebs_req_perform(w->p, &r, w->snapshot_id);
	}
	ebs_req_dispose(&r);
	return rc;
}

static int writer_commit(cp_block_writer *self, char **id_out)
{
	ebs_writer *w = (ebs_writer *)self;
	if (id_out)
		*id_out = NULL;
	int rc = cp_write_queue_drain(w->queue);
	rc = rc ? rc : complete_snapshot(w);
	if (!rc)
		cp_log(w->p->ctx, CP_LOG_INFO,
		       "aws: snapshot %s completed with %llu block(s) written", w->snapshot_id,
		       (unsigned long long)w->changed);
	if (!rc)
		rc = ec2_snapshots_wait(w->p, w->p->region, &w->snapshot_id, 1, NULL, NULL);
	w->committed = !rc;
	char *volume = NULL;
	if (!rc)
		rc = ec2_volume_from_snapshot(w->p, w->snapshot_id, self->size, &w->opts, &volume);
	if (!rc && id_out)
		*id_out = volume;
	else
		free(volume);
	return rc;
}

static void writer_free(cp_block_writer *self)
{
	ebs_writer *w = (ebs_writer *)self;
	if (!w)
		return;
	cp_write_queue_free(w->queue);
	if (w->snapshot_id && !w->committed) {
		/* An abandoned snapshot would linger until its timeout: delete it now. */
		cp_error_saved saved;
		cp_error_save(&saved);
		if (ec2_snapshot_delete(w->p, w->snapshot_id))
			cp_log(w->p->ctx, CP_LOG_WARN,
			       "aws: could not delete abandoned snapshot %s", w->snapshot_id);
		cp_error_restore(&saved);
	}
	ebs_limiter_dispose(&w->limiter);
	pthread_mutex_destroy(&w->mu);
	for (size_t i = 0; i < w->opts.ntags; i++) {
		free((char *)w->tags[i].key);
		free((char *)w->tags[i].value);
	}
	free(w->tags);
	free((char *)w->opts.name);
	free((char *)w->opts.attach_to);
	free(w->snapshot_id);
	free(w->written);
	free(w);
}

static int copy_opts(ebs_writer *w, const cp_disk_create_options *opts)
{
	w->opts.version = CP_DISK_CREATE_OPTIONS_VERSION;
	w->opts.size = opts->size;
	if (opts->name && !(w->opts.name = strdup(opts->name)))
		return cp_error_oom();
	if (opts->attach_to && !(w->opts.attach_to = strdup(opts->attach_to)))
		return cp_error_oom();
	if (opts->ntags && !(w->tags = calloc(opts->ntags, sizeof(cp_tag))))
		return cp_error_oom();
	for (size_t i = 0; i < opts->ntags; i++) {
		w->tags[i].key = strdup(opts->tags[i].key);
		w->tags[i].value = strdup(opts->tags[i].value ? opts->tags[i].value : "");
		w->opts.ntags = i + 1;
		if (!w->tags[i].key || !w->tags[i].value)
			return cp_error_oom();
	}
	w->opts.tags = w->tags;
	return 0;
}

static int start_snapshot(ebs_writer *w, uint64_t gib, const cp_disk_create_options *opts)
{
	unsigned char rnd[16];
	char client_token[40];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_OS, "no random bytes from OpenSSL");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(client_token + 2 * i, 3, "%02x", rnd[i]);
	cp_json_writer jw;
	cp_buf body = CP_BUF_INIT;
	int rc = cp_json_writer_init(&jw, 0);
	if (rc)
		return rc;
	cp_json_begin_map(&jw);
	cp_json_kv_int(&jw, "VolumeSize", (int64_t)gib);
	cp_json_kv_str(&jw, "Description", opts->name ? opts->name : "cloudprotect restore");
	cp_json_key(&jw, "Encrypted");
	cp_json_bool(&jw, w->p->encrypted);
	cp_json_kv_int(&jw, "Timeout", 60);
	/* The token makes a retried StartSnapshot return the same snapshot, not a second one. */
	cp_json_kv_str(&jw, "ClientToken", client_token);
	cp_json_end_map(&jw);
	rc = cp_json_writer_finish(&jw, &body);
	cp_json_writer_dispose(&jw);
	ebs_req r;
	rc = rc ? rc : ebs_req_init(&r, w->p, "POST", "/snapshots", "EBS StartSnapshot");
	if (rc) {
		cp_buf_dispose(&body);
		return rc;
	}
	rc = cp_http_headers_set(&r.http.headers, "Content-Type", "application/json");
	if (!rc) {
		r.http.body = body.ptr;
		r.http.body_len = body.size;
		r.http.idempotency = CP_HTTP_IDEMPOTENT;
		rc = ebs_req_perform(w->p, &r, "(new)");
	}
	yajl_val doc = NULL;
	rc = rc ? rc : cp_json_parse(&doc, r.body.ptr ? r.body.ptr : "", "EBS StartSnapshot");
	ebs_req_dispose(&r);
	cp_buf_dispose(&body);
	if (rc)
		return rc;
	const char *id = cp_json_str(doc, "SnapshotId");
	const char *kms = cp_json_str(doc, "KmsKeyArn");
	if (!id)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "EBS StartSnapshot answered without a SnapshotId");
	else if (!(w->snapshot_id = strdup(id)))
		rc = cp_error_oom();
	w->encrypted = w->p->encrypted || (kms && *kms);
	yajl_tree_free(doc);
	return rc;
}

int ebs_disk_create(void *state, const cp_disk_create_options *opts, cp_block_writer **out)
{
	aws_provider *p = state;
	if (!opts || !opts->size)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a new EBS volume needs a size in bytes");
	if (opts->region && strcmp(opts->region, p->region))
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
				    "restoring into region %s: open the provider with \"region\": "
				    "\"%s\" (this one writes to %s)",
				    opts->region, opts->region, p->region);
	ebs_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return cp_error_oom();
	w->p = p;
	pthread_mutex_init(&w->mu, NULL);
	ebs_limiter_init(&w->limiter, p->ctx, p->max_block_requests);
	uint64_t gib = (opts->size + GIB - 1) / GIB;
	/* 256 KiB of bits for a 1 TiB volume. */
	w->written = calloc(gib * (GIB / EBS_BLOCK_SIZE) / 8 + 1, 1);
	int rc = w->written ? copy_opts(w, opts) : cp_error_oom();
	rc = rc ? rc : start_snapshot(w, gib, opts);
	rc = rc ? rc
		: cp_write_queue_start(&w->queue, p->max_block_requests, SPARE_BUFFERS,
				       EBS_BLOCK_SIZE, put_queued_block, w, "putting EBS blocks");
	if (rc) {
		w->committed = !w->snapshot_id;
		writer_free(&w->base);
		return rc;
	}
	cp_log(p->ctx, CP_LOG_INFO, "aws: restoring into new snapshot %s (%llu GiB%s)",
	       w->snapshot_id, (unsigned long long)gib, w->encrypted ? ", encrypted" : "");
	w->base.version = CP_BLOCK_WRITER_VERSION;
	w->base.size = opts->size;
	w->base.block_size = EBS_BLOCK_SIZE;
	w->base.flags = w->encrypted ? CP_BLOCK_WRITER_MUST_WRITE_ZEROS : 0;
	w->base.write = writer_write;
	w->base.commit = writer_commit;
	w->base.free = writer_free;
	*out = &w->base;
	return 0;
}
