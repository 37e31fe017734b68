#include "format/packer.h"
#include "format/bytes.h"
#include "format/failure.h"

#include "cancel.h"
#include "ctx.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pack_buf {
	cp_buf data;
	cp_pack_entry *entries;
	size_t n, cap;
} pack_buf;

#define NBUFS 2

typedef struct uploader {
	cp_packer *p;
	pthread_t thread;
	int started;
	cp_codec codec;
} uploader;

struct cp_packer {
	cp_repository *repo;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	cp_failure failure;
	cp_index_table claimed; /* chunks this packer stores */

	/* Buffers move free -> filling -> full queue -> uploading -> free. */
	pack_buf bufs[NBUFS];
	pack_buf *free_bufs[NBUFS];
	size_t nfree;
	pack_buf *full[NBUFS];
	size_t full_head, nfull;
	pack_buf *filling;
	unsigned int busy;
	int closing;
	uploader uploaders[CP_PACKER_UPLOADERS];

	/* The packs uploaded so far and the index objects written for them. */
	pthread_mutex_t index_mu;
	cp_index_pack *done; /* uploaded packs not yet in an index object */
	size_t ndone, done_cap;
	cp_index_pack *indexed; /* packs in index objects written so far */
	size_t nindexed, indexed_cap;
	char (*index_names)[CP_HEX_ID_LEN + 1];
	size_t *index_ends; /* index object i lists indexed[index_ends[i-1] .. index_ends[i]) */
	size_t nindex_names;

	cp_packer_stats stats;
};

static int push_pack(cp_index_pack **v, size_t *n, size_t *cap, cp_index_pack *pk)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		cp_index_pack *p = realloc(*v, c * sizeof(*p));
		if (!p)
			return cp_error_oom();
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = *pk;
	return 0;
}

/* Write an index object for the uploaded packs not in one yet; index_mu held. */
static int write_index(cp_packer *p, cp_codec *codec)
{
	if (!p->ndone)
		return 0;
	cp_buf obj = CP_BUF_INIT;
	char name[CP_HEX_ID_LEN + 1];
	int rc = cp_index_object_encode(codec, p->done, p->ndone, &obj);
	if (!rc)
		rc = cp_repo_put_named(p->repo, CP_DIR_INDEX, obj.ptr, obj.size, name);
	cp_buf_dispose(&obj);
	for (size_t i = 0; !rc && i < p->ndone; i++)
		rc = push_pack(&p->indexed, &p->nindexed, &p->indexed_cap, &p->done[i]);
	if (rc)
		return rc;
	p->ndone = 0;
	size_t k = p->nindex_names;
	void *v = realloc(p->index_names, (k + 1) * sizeof(*p->index_names));
	if (v)
		p->index_names = v;
	void *w = realloc(p->index_ends, (k + 1) * sizeof(*p->index_ends));
	if (w)
		p->index_ends = w;
	if (!v || !w)
		return cp_error_oom();
	memcpy(p->index_names[k], name, sizeof(name));
	p->index_ends[k] = p->nindexed;
	p->nindex_names++;
	return 0;
}

/* Give an uploaded (or abandoned) buffer back to the workers. */
static void release_buf(cp_packer *p, pack_buf *b)
{
	pthread_mutex_lock(&p->mu);
	cp_buf_clear(&b->data);
	b->n = 0;
	p->free_bufs[p->nfree++] = b;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
}

/*
 * Finish a pack and store it under its SHA-256. The bytes are streamed
 * into a store writer and the buffer is handed back before the commit,
 * which on most stores is the slow part (a flush, or the last round
 * trip): so two buffers keep two uploads busy.
 */
static int upload(cp_packer *p, uploader *u, pack_buf *b)
{
	cp_buf header = CP_BUF_INIT, sealed = CP_BUF_INIT;
	cp_index_pack pk;
	memset(&pk, 0, sizeof(pk));
	char name[CP_HEX_ID_LEN + 1], key[CP_KEY_MAX];
	cp_objstore_writer *w = NULL;
	int rc = cp_pack_header_encode(b->entries, b->n, &header);
	if (!rc)
		rc = cp_codec_seal(&u->codec, CP_PACK_HEADER_AAD, sizeof(CP_PACK_HEADER_AAD) - 1,
				   header.ptr, header.size, 1, &sealed);
	uint8_t tail[4];
	cp_put_le32(tail, (uint32_t)sealed.size);
	if (!rc)
		rc = cp_buf_put(&b->data, sealed.ptr, sealed.size);
	if (!rc)
		rc = cp_buf_put(&b->data, tail, 4);
	cp_buf_dispose(&header);
	cp_buf_dispose(&sealed);
	if (!rc) {
		cp_sha256_hex(b->data.ptr, b->data.size, name);
		cp_hex_decode(pk.id, name, CP_ID_LEN);
		pk.size = b->data.size;
		pk.n = b->n;
		pk.entries = malloc(b->n * sizeof(*pk.entries));
		if (!pk.entries)
			rc = cp_error_oom();
		else
			memcpy(pk.entries, b->entries, b->n * sizeof(*pk.entries));
	}
	cp_repo_key(key, CP_DIR_DATA, name);
	if (!rc) {
		cp_put_options po;
		cp_repo_put_options(p->repo, CP_DIR_DATA, &po);
		rc = cp_objstore_writer_open(p->repo->store, key, &po, &w);
	}
	if (!rc)
		rc = cp_objstore_writer_write(w, b->data.ptr, b->data.size);
	uint64_t blob_bytes = 0;
	for (size_t i = 0; i < b->n; i++)
		blob_bytes += b->entries[i].length;
	release_buf(p, b);
	if (!rc) {
		rc = cp_objstore_writer_commit(w);
		if (rc == CP_EEXISTS) {
			/* The same bytes are there already (named by their hash). */
			cp_error_clear();
			rc = 0;
		}
	}
	cp_objstore_writer_free(w);
	if (rc) {
		free(pk.entries);
		return cp_error_prefix(rc, "storing pack '%s': ", key);
	}
	pthread_mutex_lock(&p->mu);
	p->stats.uploaded_bytes += blob_bytes;
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_lock(&p->index_mu);
	rc = push_pack(&p->done, &p->ndone, &p->done_cap, &pk);
	if (rc)
		free(pk.entries);
	if (!rc && p->ndone >= CP_PACKER_INDEX_EVERY)
		rc = write_index(p, &u->codec);
	pthread_mutex_unlock(&p->index_mu);
	return rc;
}

static void *uploader_main(void *arg)
{
	uploader *u = arg;
	cp_packer *p = u->p;
	/* A failed or cancelled packer aborts the uploads in flight, not just the next ones. */
	cp_cancel_watch(&p->failure.rc);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->nfull && !p->closing)
			pthread_cond_wait(&p->cond, &p->mu);
		if (!p->nfull)
			break;
		pack_buf *b = p->full[p->full_head];
		p->full_head = (p->full_head + 1) % NBUFS;
		p->nfull--;
		p->busy++;
		pthread_mutex_unlock(&p->mu);
		int rc = 0;
		if (cp_failure_get(&p->failure))
			release_buf(p, b);
		else
			rc = upload(p, u, b);
		if (rc)
			cp_failure_set(&p->failure, rc);
		pthread_mutex_lock(&p->mu);
		if (!rc)
			p->stats.packs++;
		p->busy--;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->mu);
	cp_error_clear(); /* thread-local errors are not freed at thread exit */
	return NULL;
}

int cp_packer_new(cp_packer **out, cp_repository *repo)
{
	*out = NULL;
	cp_packer *p = calloc(1, sizeof(*p));
	if (!p)
		return cp_error_oom();
	p->repo = repo;
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->index_mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	cp_failure_init(&p->failure);
	for (size_t i = 0; i < NBUFS; i++)
		p->free_bufs[p->nfree++] = &p->bufs[i];
	int rc = cp_index_table_init(&p->claimed);
	for (size_t i = 0; !rc && i < CP_PACKER_UPLOADERS; i++) {
		uploader *u = &p->uploaders[i];
		u->p = p;
		rc = cp_repo_codec(repo, &u->codec);
		if (!rc && pthread_create(&u->thread, NULL, uploader_main, u))
			rc = cp_error_set(CP_ERROR, CP_ERRCLASS_OS, "cannot start upload threads");
		else if (!rc)
			u->started = 1;
	}
	if (rc) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_packer_free(p);
		cp_error_restore(&saved);
		return rc;
	}
	*out = p;
	return 0;
}

int cp_packer_claim(cp_packer *p, const uint8_t id[CP_ID_LEN], int *is_new)
{
	cp_chunk_loc loc;
	*is_new = 0;
	if (cp_repo_index_lookup(p->repo, id, &loc, NULL) == 0)
		return 0;
	cp_chunk_loc pending = {CP_PACK_PENDING, 0, 0, 0};
	pthread_mutex_lock(&p->mu);
	int rc = cp_index_table_insert(&p->claimed, id, &pending, NULL, is_new);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Queue the filling pack for upload; mu held. */
static void queue_filling(cp_packer *p)
{
	p->full[(p->full_head + p->nfull) % NBUFS] = p->filling;
	p->nfull++;
	p->filling = NULL;
	pthread_cond_broadcast(&p->cond);
}

int cp_packer_add(cp_packer *p, const uint8_t id[CP_ID_LEN], const void *blob, size_t len,
		  uint32_t raw_len)
{
	pthread_mutex_lock(&p->mu);
	/* Waiting for a free buffer is the backpressure on the workers. */
	int rc = 0;
	while (!cp_failure_get(&p->failure) && !p->filling) {
		if (p->nfree) {
			p->filling = p->free_bufs[--p->nfree];
		} else if (cp_cancel_requested()) {
			/* The caller's job stopped: do not wait for uploads to drain. */
			rc = cp_error_set(CP_ECANCELLED, CP_ERRCLASS_CALLBACK,
					  "stopped while waiting for a pack upload");
			break;
		} else {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p->cond, &p->mu, &until);
		}
	}
	if (!rc)
		rc = cp_failure_get(&p->failure);
	pack_buf *b = p->filling;
	if (!rc && b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		cp_pack_entry *e = realloc(b->entries, cap * sizeof(*e));
		if (!e) {
			rc = cp_error_oom();
		} else {
			b->entries = e;
			b->cap = cap;
		}
	}
	if (!rc && !b->data.asize)
		rc = cp_buf_grow(&b->data, p->repo->config.pack_size + len + 4096);
	if (!rc) {
		cp_pack_entry *e = &b->entries[b->n];
		memcpy(e->id, id, CP_ID_LEN);
		e->offset = (uint32_t)b->data.size;
		e->length = (uint32_t)len;
		e->raw_length = raw_len;
		rc = cp_buf_put(&b->data, blob, len);
	}
	if (!rc) {
		b->n++;
		p->stats.blobs++;
		p->stats.stored_bytes += len;
		p->stats.raw_bytes += raw_len;
		if (b->data.size >= p->repo->config.pack_size)
			queue_filling(p);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static void stop_uploaders(cp_packer *p)
{
	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < CP_PACKER_UPLOADERS; i++) {
		if (p->uploaders[i].started)
			pthread_join(p->uploaders[i].thread, NULL);
		p->uploaders[i].started = 0;
	}
}

static void free_packs(cp_index_pack *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].entries);
	free(v);
}

/* Wait a tick for the uploads to move; mu held. */
static void wait_uploads(cp_packer *p)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 50 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->cond, &p->mu, &until);
}

int cp_packer_finish(cp_packer *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->filling && p->filling->n && !cp_failure_get(&p->failure))
		queue_filling(p);
	while (p->nfull || p->busy) {
		/*
		 * The last uploads run after the caller's workers ended: a cancel
		 * must reach them here, or a hung one waits out its time budget.
		 */
		if (cp_cancel_requested() && !cp_failure_get(&p->failure)) {
			pthread_mutex_unlock(&p->mu);
			cp_error_set(CP_ECANCELLED, CP_ERRCLASS_CALLBACK,
				     "cancelled while the last packs were uploading");
			cp_failure_set(&p->failure, CP_ECANCELLED);
			pthread_mutex_lock(&p->mu);
		}
		wait_uploads(p);
	}
	pthread_mutex_unlock(&p->mu);
	stop_uploaders(p);
	int rc = cp_failure_raise(&p->failure);
	if (!rc)
		rc = write_index(p, &p->uploaders[0].codec);
	/* Every index object is stored; only now may others use these packs. */
	size_t start = 0;
	for (size_t i = 0; !rc && i < p->nindex_names; i++) {
		rc = cp_repo_index_merge(p->repo, p->index_names[i], p->indexed + start,
					 p->index_ends[i] - start);
		start = p->index_ends[i];
	}
	return rc;
}

void cp_packer_get_stats(cp_packer *p, cp_packer_stats *stats)
{
	pthread_mutex_lock(&p->mu);
	*stats = p->stats;
	pthread_mutex_unlock(&p->mu);
}

void cp_packer_free(cp_packer *p)
{
	if (!p)
		return;
	cp_error_saved saved;
	cp_error_save(&saved);
	cp_failure_set(&p->failure, CP_ECANCELLED);
	cp_error_restore(&saved);
	stop_uploaders(p);
	for (int i = 0; i < NBUFS; i++) {
		cp_buf_dispose(&p->bufs[i].data);
		free(p->bufs[i].entries);
	}
	free_packs(p->done, p->ndone);
	free_packs(p->indexed, p->nindexed);
	free(p->index_names);
	free(p->index_ends);
	for (size_t i = 0; i < CP_PACKER_UPLOADERS; i++)
		cp_codec_dispose(&p->uploaders[i].codec);
	cp_index_table_dispose(&p->claimed);
	cp_failure_dispose(&p->failure);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->index_mu);
	pthread_cond_destroy(&p->cond);
	free(p);
}
