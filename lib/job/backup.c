/*
 * cp_backup_create: read a block source into the repository.
 *
 * Plan: one bit per chunk says "read it". Without a parent's changed
 * ranges that is every chunk the source reports allocated; with them,
 * only allocated chunks that the (normalised) ranges touch, and every
 * other chunk id is taken from the parent's map in one sorted pass.
 *
 * Pipeline: N workers take the next chunk to read from a shared cursor,
 * read it into their own buffer, drop it when all zero (a hole), hash it,
 * and when the repository does not have it yet, compress and seal it and
 * hand it to the packer, whose thread uploads full packs while the next
 * fills. Memory: N chunk buffers + 2 packs + the chunk map (40 bytes a
 * chunk).
 *
 * A source whose reads mostly wait (EBS direct: 100 ms a block) asks for
 * more reads in flight than N (reads_in_flight). Then R reader threads
 * only read, into buffers from a pool, and queue what they read for N
 * coder threads; a reader starts its next read at once instead of
 * waiting for a coder, so reads stay in flight while a burst of answers
 * is encoded. Memory: 2R + N chunk buffers.
 *
 * Durability: packs, then the index (cp_packer_finish), then the
 * manifest. A process killed anywhere before the manifest leaves only
 * packs (and maybe indexes) that nothing references yet.
 */
#include "cloudprotect/backup.h"
#include "cloudprotect/sys/provider.h"
#include "format/bytes.h"
#include "format/chunk.h"
#include "format/lock.h"
#include "format/manifest_io.h"
#include "job/bitmap.h"
#include "job/job.h"
#include "job/workers.h"

#include "ctx.h"
#include "error.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
	cp_map_entry *v;
	size_t n, cap;
} map_vec;

static int map_push(map_vec *m, uint64_t index, const uint8_t id[CP_ID_LEN])
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		cp_map_entry *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return cp_error_oom();
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n].index = index;
	memcpy(m->v[m->n].id, id, CP_ID_LEN);
	m->n++;
	return 0;
}

typedef struct {
	cp_repository *repo;
	cp_block_reader *src;
	uint64_t size;
	uint32_t cs;
	uint64_t nchunks;
	cp_bitmap to_read;
	uint64_t total_read;

	pthread_mutex_t mu;
	uint64_t cursor;
	cp_packer *packer;
	cp_failure failure;
	map_vec *outs;

	/* Readers and coders (when the source wants more reads in flight). Under mu. */
	unsigned int nreaders, readers_left;
	pthread_cond_t changed; /* a buffer came free, a chunk was queued, a reader ended */
	uint8_t **spare;	/* free chunk buffers */
	size_t nspare;
	struct read_chunk {
		uint64_t index;
		size_t len;
		uint8_t *buf;
	} * queue; /* read, waiting for a coder: a ring of qcap */
	size_t qhead, qcount, qcap;

	atomic_uint_fast64_t read_bytes, data_bytes, new_chunks, new_raw, new_stored, reused;

	cp_progress_cb progress_cb;
	void *progress_payload;

	/* The finishing step (see finish_worker); saved is set once the manifest is stored. */
	const cp_backup_options *opts;
	const char *parent_id;
	struct timespec started;
	cp_repo_lock *lock;
	map_vec *base;
	unsigned int nthreads;
	cp_manifest *m;
	atomic_int finishing, saved;
	char id[CP_HEX_ID_LEN + 1];
} backup_job;

static uint64_t chunk_len(uint64_t size, uint32_t cs, uint64_t index)
{
	uint64_t off = index * cs;
	return size - off < cs ? size - off : cs;
}

/* Hash a chunk and store it unless the repository has it; note it in out. */
static int encode_chunk(backup_job *j, cp_chunk_coder *coder, map_vec *out, uint64_t i,
			const uint8_t *buf, size_t len)
{
	uint8_t id[CP_ID_LEN];
	uint64_t stored = 0;
	int rc = cp_chunk_id(coder, buf, len, id);
	if (!rc)
		rc = cp_chunk_store(coder, j->packer, id, buf, len, &stored);
	if (!rc)
		rc = map_push(out, i, id);
	if (rc)
		return rc;
	atomic_fetch_add(&j->data_bytes, len);
	if (stored) {
		atomic_fetch_add(&j->new_chunks, 1);
		atomic_fetch_add(&j->new_raw, len);
		atomic_fetch_add(&j->new_stored, stored);
	} else {
		atomic_fetch_add(&j->reused, 1);
	}
	return 0;
}

static int backup_worker(void *arg, unsigned int index)
{
	backup_job *j = arg;
	cp_chunk_coder coder;
	int rc = cp_chunk_coder_init(&coder, j->repo);
	if (rc)
		return rc;
	uint8_t *buf = malloc(j->cs);
	if (!buf) {
		cp_chunk_coder_dispose(&coder);
		return cp_error_oom();
	}
	map_vec *out = &j->outs[index];
	while (!rc && !cp_failure_get(&j->failure)) {
		pthread_mutex_lock(&j->mu);
		uint64_t i = cp_bitmap_next(&j->to_read, j->cursor);
		j->cursor = i + 1;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->nchunks)
			break;
		uint64_t off = i * j->cs;
		size_t len = (size_t)chunk_len(j->size, j->cs, i);
		rc = cp_block_reader_read(j->src, off, buf, len);
		if (rc) {
			rc = cp_error_prefix(
				rc, "reading the source at offset %llu: ", (unsigned long long)off);
			break;
		}
		atomic_fetch_add(&j->read_bytes, len);
		if (cp_chunk_is_zero(buf, len))
			continue;
		rc = encode_chunk(j, &coder, out, i, buf, len);
	}
	free(buf);
	cp_chunk_coder_dispose(&coder);
	return rc;
}

/* Wait on changed; wakes now and then to notice a failure or cancel. mu held. */
static void wait_changed(backup_job *j)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 20 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&j->changed, &j->mu, &until);
}

static void give_buffer(backup_job *j, uint8_t *buf)
{
	pthread_mutex_lock(&j->mu);
	j->spare[j->nspare++] = buf;
	pthread_cond_broadcast(&j->changed);
	pthread_mutex_unlock(&j->mu);
}

static int reader_loop(backup_job *j)
{
	int rc = 0;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		while (!j->nspare && !cp_failure_get(&j->failure))
			wait_changed(j);
		if (cp_failure_get(&j->failure)) {
			pthread_mutex_unlock(&j->mu);
			break;
		}
		uint8_t *buf = j->spare[--j->nspare];
		uint64_t i = cp_bitmap_next(&j->to_read, j->cursor);
		j->cursor = i + 1;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->nchunks) {
			give_buffer(j, buf);
			break;
		}
		uint64_t off = i * j->cs;
		size_t len = (size_t)chunk_len(j->size, j->cs, i);
		rc = cp_block_reader_read(j->src, off, buf, len);
		if (rc) {
			give_buffer(j, buf);
			rc = cp_error_prefix(
				rc, "reading the source at offset %llu: ", (unsigned long long)off);
			break;
		}
		atomic_fetch_add(&j->read_bytes, len);
		if (cp_chunk_is_zero(buf, len)) {
			give_buffer(j, buf);
			continue;
		}
		pthread_mutex_lock(&j->mu);
		j->queue[(j->qhead + j->qcount++) % j->qcap] = (struct read_chunk){i, len, buf};
		pthread_cond_broadcast(&j->changed);
		pthread_mutex_unlock(&j->mu);
	}
	pthread_mutex_lock(&j->mu);
	j->readers_left--;
	pthread_cond_broadcast(&j->changed);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

static int coder_loop(backup_job *j, map_vec *out)
{
	cp_chunk_coder coder;
	int rc = cp_chunk_coder_init(&coder, j->repo);
	while (!rc) {
		pthread_mutex_lock(&j->mu);
		while (!j->qcount && j->readers_left && !cp_failure_get(&j->failure))
			wait_changed(j);
		if (!j->qcount || cp_failure_get(&j->failure)) {
			pthread_mutex_unlock(&j->mu);
			break;
		}
		struct read_chunk c = j->queue[j->qhead];
		j->qhead = (j->qhead + 1) % j->qcap;
		j->qcount--;
		pthread_mutex_unlock(&j->mu);
		rc = encode_chunk(j, &coder, out, c.index, c.buf, c.len);
		give_buffer(j, c.buf);
	}
	cp_chunk_coder_dispose(&coder);
	return rc;
}

/* Workers [0, nreaders) read, the others encode. */
static int split_worker(void *arg, unsigned int index)
{
	backup_job *j = arg;
	return index < j->nreaders ? reader_loop(j) : coder_loop(j, &j->outs[index]);
}

/* Readers, coders and 2 buffers a reader + 1 a coder, so a burst of reads waits in the queue. */
static int split_init(backup_job *j, unsigned int nreaders, unsigned int ncoders)
{
	j->nreaders = j->readers_left = nreaders;
	j->qcap = 2 * (size_t)nreaders + ncoders;
	j->queue = calloc(j->qcap, sizeof(*j->queue));
	j->spare = calloc(j->qcap, sizeof(*j->spare));
	if (!j->queue || !j->spare)
		return cp_error_oom();
	for (; j->nspare < j->qcap; j->nspare++)
		if (!(j->spare[j->nspare] = malloc(j->cs)))
			return cp_error_oom();
	return 0;
}

static void split_dispose(backup_job *j)
{
	for (size_t i = 0; i < j->nspare; i++)
		free(j->spare[i]);
	for (size_t i = 0; i < j->qcount; i++)
		free(j->queue[(j->qhead + i) % j->qcap].buf);
	free(j->spare);
	free(j->queue);
}

/* The source's wish for reads in flight (version 2 readers); 0 when it has none. */
static unsigned int wanted_reads(const cp_block_reader *src)
{
	return src->version >= 2 ? src->reads_in_flight : 0;
}

static int backup_tick(void *arg)
{
	backup_job *j = arg;
	cp_progress p = {"backup", atomic_load(&j->read_bytes), j->total_read,
			 atomic_load(&j->new_stored), NULL};
	if (atomic_load(&j->finishing)) {
		/* The last packs, the index and the manifest: how much of the new data is stored. */
		cp_packer_stats ps;
		cp_packer_get_stats(j->packer, &ps);
		p = (cp_progress){"finishing", ps.uploaded_bytes, ps.stored_bytes,
				  atomic_load(&j->new_stored), NULL};
	}
	return cp_progress_report(j->progress_cb, j->progress_payload, &p);
}

typedef struct {
	cp_bitmap *bits;
	uint32_t cs;
} mark_state;

static int mark_allocated(const cp_block_range *r, size_t n, void *payload)
{
	mark_state *m = payload;
	for (size_t i = 0; i < n; i++)
		cp_bitmap_mark_bytes(m->bits, m->cs, r[i].offset, r[i].length);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const cp_map_entry *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

static char *dup_opt(const char *s, int *rc)
{
	if (!s || *rc)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*rc = cp_error_oom();
	return d;
}

static int check_options(const cp_backup_options *o)
{
	if (!o || o->version != CP_BACKUP_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_backup_options are missing or of an unknown version "
				    "(this library knows %u)",
				    CP_BACKUP_OPTIONS_VERSION);
	if (!o->source || !*o->source)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a backup needs a source name (a path or resource id) in "
				    "cp_backup_options.source");
	if (o->nchanged && !o->changed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_backup_options.nchanged is %zu but changed is NULL",
				    o->nchanged);
	return 0;
}

/*
 * Take every chunk the plan does not read from the parent's map. A chunk
 * of the parent that no index lists any more (a damaged index was
 * skipped) is read again rather than referenced.
 */
static int plan_from_parent(backup_job *j, const cp_manifest *parent, const cp_bitmap *allocated,
			    cp_bitmap *changed, map_vec *out)
{
	/* A parent of another size has another last chunk: those are read again. */
	uint64_t same = parent->size == j->size
				? j->nchunks
				: (parent->size < j->size ? parent->size : j->size) / j->cs;
	for (uint64_t k = 0; k < parent->nchunks; k++) {
		uint64_t i = parent->map[k].index;
		cp_chunk_loc loc;
		if (i >= same || !cp_bitmap_test(allocated, i) || cp_bitmap_test(changed, i))
			continue;
		if (cp_repo_index_lookup(j->repo, parent->map[k].id, &loc, NULL)) {
			cp_bitmap_set_range(changed, i, i + 1);
			continue;
		}
		int rc = map_push(out, i, parent->map[k].id);
		if (rc)
			return rc;
		atomic_fetch_add(&j->data_bytes, chunk_len(j->size, j->cs, i));
		atomic_fetch_add(&j->reused, 1);
	}
	/* Read what changed and what the parent does not cover. */
	cp_bitmap_set_range(&j->to_read, same, j->nchunks);
	for (uint64_t i = cp_bitmap_next(changed, 0); i < j->nchunks;
	     i = cp_bitmap_next(changed, i + 1))
		cp_bitmap_set_range(&j->to_read, i, i + 1);
	cp_bitmap_and(&j->to_read, allocated);
	return 0;
}

/* The chunk map, in disk order. */
static int gather_map(backup_job *j, cp_manifest *m)
{
	size_t total = j->base->n;
	for (unsigned int t = 0; t < j->nthreads; t++)
		total += j->outs[t].n;
	m->map = malloc((total ? total : 1) * sizeof(*m->map));
	if (!m->map)
		return cp_error_oom();
	if (j->base->n)
		memcpy(m->map, j->base->v, j->base->n * sizeof(*m->map));
	m->nchunks = j->base->n;
	for (unsigned int t = 0; t < j->nthreads; t++) {
		if (j->outs[t].n)
			memcpy(m->map + m->nchunks, j->outs[t].v, j->outs[t].n * sizeof(*m->map));
		m->nchunks += j->outs[t].n;
	}
	qsort(m->map, m->nchunks, sizeof(*m->map), cmp_entry);
	return 0;
}

/*
 * After the workers: the last packs and the index (cp_packer_finish),
 * then the manifest. Runs on a worker thread that watches the job's stop
 * flag, so a cancel from the caller's callback also ends these uploads.
 */
static int finish_worker(void *arg, unsigned int index)
{
	backup_job *j = arg;
	const cp_backup_options *opts = j->opts;
	cp_manifest *m = j->m;
	(void)index;
	int rc = cp_packer_finish(j->packer);
	if (!rc)
		rc = gather_map(j, m);
	if (!rc) {
		m->source = dup_opt(opts->source, &rc);
		m->provider = dup_opt(opts->provider, &rc);
		m->snapshot_id = dup_opt(opts->snapshot_id, &rc);
		m->instance_id = dup_opt(opts->instance_id, &rc);
		m->group_id = dup_opt(opts->group_id, &rc);
		m->parent = dup_opt(j->parent_id, &rc);
		m->hostname = dup_opt(j->repo->hostname, &rc);
		m->time = (int64_t)j->started.tv_sec;
		m->time_nsec = j->started.tv_nsec;
		m->size = j->size;
		m->chunk_size = j->cs;
		m->data_bytes = atomic_load(&j->data_bytes);
		m->new_bytes = atomic_load(&j->new_stored);
		m->new_chunks = atomic_load(&j->new_chunks);
		m->read_bytes = atomic_load(&j->read_bytes);
	}
	if (!rc)
		rc = cp_manifest_set_tags(m, opts->tags, opts->ntags);
	if (!rc)
		rc = cp_job_retain_backup(j->repo, m, m->time);
	if (!rc)
		rc = cp_repo_lock_check(j->lock);
	/* A cancel that came in the meantime must not store a manifest. */
	if (!rc && cp_failure_get(&j->failure))
		rc = cp_failure_get(&j->failure);
	if (!rc)
		rc = cp_repo_manifest_save(j->repo, m, j->id);
	if (!rc)
		atomic_store(&j->saved, 1);
	return rc;
}

int cp_job_backup(char **id_out, cp_backup_stats *stats, cp_repository *repo,
		  cp_block_reader *source, const cp_backup_options *opts, const char *parent_id)
{
	struct timespec t0, t1, started;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_REALTIME, &started);
	*id_out = NULL;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	int rc = check_options(opts);
	if (rc)
		return rc;

	backup_job j;
	memset(&j, 0, sizeof(j));
	j.repo = repo;
	j.src = source;
	j.size = cp_block_reader_size(source);
	j.cs = repo->config.chunk_size;
	j.nchunks = j.size / j.cs + (j.size % j.cs != 0);
	j.progress_cb = opts->progress_cb;
	j.progress_payload = opts->progress_payload;
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.changed, NULL);
	cp_failure_init(&j.failure);
	unsigned int ncoders = cp_workers_clamp(cp_ctx_threads(repo->ctx, opts->threads));
	unsigned int nreaders = wanted_reads(source) > ncoders ? wanted_reads(source) : 0;
	if (nreaders + ncoders > cp_workers_clamp(~0u))
		nreaders = cp_workers_clamp(~0u) - ncoders;
	unsigned int nthreads = nreaders + ncoders;

	cp_repo_lock *lock = NULL;
	cp_manifest parent, m;
	memset(&parent, 0, sizeof(parent));
	memset(&m, 0, sizeof(m));
	cp_bitmap allocated = {0}, changed = {0};
	map_vec base = {0};

	rc = cp_repo_lock_acquire(&lock, repo, 0, "backup");
	/* After locking, so no prune can have removed what the index names. */
	if (!rc)
		rc = cp_repo_index_refresh(repo);
	if (!rc && parent_id)
		rc = cp_repo_manifest_load(repo, parent_id, 0, 0, &parent);
	if (!rc && parent_id && parent.chunk_size != j.cs)
		rc = cp_error_set(
			CP_EINVALID, CP_ERRCLASS_REPOSITORY,
			"parent backup %s has %u-byte chunks but this repository uses %u; "
			"make a full backup (no parent) instead",
			parent_id, parent.chunk_size, j.cs);
	if (!rc)
		rc = cp_bitmap_init(&allocated, j.nchunks);
	if (!rc)
		rc = cp_bitmap_init(&j.to_read, j.nchunks);
	if (!rc) {
		mark_state ms = {&allocated, j.cs};
		rc = cp_block_reader_allocated(source, mark_allocated, &ms);
		if (rc)
			rc = cp_error_prefix(rc, "listing the source's allocated blocks: ");
	}
	if (!rc && parent_id && opts->have_changed) {
		rc = cp_bitmap_init(&changed, j.nchunks);
		for (size_t i = 0; !rc && i < opts->nchanged; i++)
			cp_bitmap_mark_bytes(&changed, j.cs, opts->changed[i].offset,
					     opts->changed[i].length);
		if (!rc)
			rc = plan_from_parent(&j, &parent, &allocated, &changed, &base);
	} else if (!rc) {
		memcpy(j.to_read.words, allocated.words, (size_t)(j.nchunks / 64 + 1) * 8);
	}
	for (uint64_t i = cp_bitmap_next(&j.to_read, 0); !rc && i < j.nchunks;
	     i = cp_bitmap_next(&j.to_read, i + 1))
		j.total_read += chunk_len(j.size, j.cs, i);
	if (!rc)
		rc = cp_packer_new(&j.packer, repo);
	if (!rc && !(j.outs = calloc(nthreads, sizeof(*j.outs))))
		rc = cp_error_oom();
	if (!rc && nreaders)
		rc = split_init(&j, nreaders, ncoders);
	if (!rc) {
		cp_log(repo->ctx, CP_LOG_INFO,
		       "backing up %s: %llu bytes, reading %llu with %u threads%s%s", opts->source,
		       (unsigned long long)j.size, (unsigned long long)j.total_read, ncoders,
		       parent_id ? ", incremental to " : "", parent_id ? parent_id : "");
		if (nreaders)
			cp_log(repo->ctx, CP_LOG_DEBUG, "the source wants %u reads in flight",
			       nreaders);
		rc = cp_workers_run(nthreads, nreaders ? split_worker : backup_worker, backup_tick,
				    &j, &j.failure);
	}
	/*
	 * The last uploads, the index and the manifest run on a worker too, so
	 * that the caller's callback keeps running and a cancel ends a hung
	 * transfer there as well.
	 */
	j.opts = opts;
	j.parent_id = parent_id;
	j.started = started;
	j.lock = lock;
	j.base = &base;
	j.nthreads = nthreads;
	j.m = &m;
	if (!rc) {
		atomic_store(&j.finishing, 1);
		rc = cp_workers_run(1, finish_worker, backup_tick, &j, &j.failure);
	}
	if (rc && atomic_load(&j.saved)) {
		/* The cancel came after the manifest was stored: the backup exists. */
		cp_error_clear();
		rc = 0;
	}
	if (!rc && !(*id_out = strdup(j.id)))
		rc = cp_error_oom();

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (stats) {
		stats->size = j.size;
		stats->read_bytes = atomic_load(&j.read_bytes);
		stats->data_bytes = atomic_load(&j.data_bytes);
		stats->new_chunks = atomic_load(&j.new_chunks);
		stats->new_raw_bytes = atomic_load(&j.new_raw);
		stats->new_stored_bytes = atomic_load(&j.new_stored);
		stats->reused_chunks = atomic_load(&j.reused);
		stats->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	if (!rc)
		cp_log(repo->ctx, CP_LOG_INFO,
		       "backup %s of %s done: read %llu bytes, stored %llu new bytes in %.2f s",
		       j.id, opts->source, (unsigned long long)atomic_load(&j.read_bytes),
		       (unsigned long long)atomic_load(&j.new_stored),
		       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);

	cp_error_saved saved;
	cp_error_save(&saved);
	cp_packer_free(j.packer);
	cp_repo_lock_release(lock);
	if (j.outs)
		for (unsigned int t = 0; t < nthreads; t++)
			free(j.outs[t].v);
	free(j.outs);
	split_dispose(&j);
	free(base.v);
	cp_bitmap_dispose(&allocated);
	cp_bitmap_dispose(&changed);
	cp_bitmap_dispose(&j.to_read);
	cp_manifest_dispose(&parent);
	cp_manifest_dispose(&m);
	cp_failure_dispose(&j.failure);
	pthread_cond_destroy(&j.changed);
	pthread_mutex_destroy(&j.mu);
	cp_error_restore(&saved);
	return rc;
}

int cp_backup_create(char **id_out, cp_backup_stats *stats, cp_repository *repo,
		     cp_block_reader *source, const cp_backup_options *opts)
{
	*id_out = NULL;
	if (!opts || !opts->parent_id)
		return cp_job_backup(id_out, stats, repo, source, opts, NULL);
	char *parent = NULL;
	int rc = cp_backup_resolve(&parent, repo, opts->parent_id, NULL);
	if (!rc)
		rc = cp_job_backup(id_out, stats, repo, source, opts, parent);
	free(parent);
	return rc;
}
