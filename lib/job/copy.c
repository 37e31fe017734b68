/*
 * cp_backup_copy: copy backups to another repository. The other
 * repository has its own keys, so chunk ids differ: every chunk is read
 * from the source (verified), hashed again with the destination's MAC
 * key, deduplicated against the destination and sealed with its key.
 * Backups are copied oldest first so that parents map to their copies;
 * a backup copied before (its copy names it in copied_from) is skipped.
 */
#include "cloudprotect/backup.h"
#include "format/chunk.h"
#include "format/lock.h"
#include "format/manifest_io.h"
#include "job/fetch.h"
#include "job/job.h"
#include "job/workers.h"

#include "ctx.h"
#include "error.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
	cp_map_entry *v;
	size_t n, cap;
} map_vec;

typedef struct {
	cp_repository *dst;
	cp_packer *packer;
	cp_chunk_coder *coders; /* one per fetch worker, with the destination's keys */
	map_vec *outs;
	unsigned int threads;
	atomic_uint_fast64_t stored;

	/* The finishing step (see finish_worker). */
	const cp_manifest *m;
	const char *id, *dst_parent;
	int64_t started;
	cp_manifest *out;
	char *dst_id;
	cp_progress_cb cb;
	void *payload;
	cp_failure failure;
	atomic_int saved;
} copy_job;

static int store_chunk(void *arg, unsigned int worker, uint64_t index, const uint8_t id[CP_ID_LEN],
		       const void *data, size_t len)
{
	copy_job *j = arg;
	cp_chunk_coder *c = &j->coders[worker];
	map_vec *out = &j->outs[worker];
	uint8_t nid[CP_ID_LEN];
	uint64_t stored = 0;
	int rc = cp_chunk_id(c, data, len, nid);
	if (!rc)
		rc = cp_chunk_store(c, j->packer, nid, data, len, &stored);
	if (rc)
		return rc;
	atomic_fetch_add(&j->stored, stored);
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 1024;
		cp_map_entry *v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			return cp_error_oom();
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n].index = index;
	memcpy(out->v[out->n].id, nid, CP_ID_LEN);
	out->n++;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const cp_map_entry *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

static char *dup_or_null(const char *s, int *rc)
{
	if (!s || *rc)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*rc = cp_error_oom();
	return d;
}

/*
 * After the fetch: the last packs, the index and the manifest, on a
 * worker thread that watches the copy's stop flag (see workers.h).
 */
static int finish_worker(void *arg, unsigned int index)
{
	copy_job *j = arg;
	const cp_manifest *m = j->m;
	cp_manifest *out = j->out;
	(void)index;
	int rc = cp_packer_finish(j->packer);
	if (!rc) {
		out->map = malloc((m->nchunks ? m->nchunks : 1) * sizeof(*out->map));
		if (!out->map)
			rc = cp_error_oom();
		for (unsigned int t = 0; !rc && t < j->threads; t++) {
			if (j->outs[t].n)
				memcpy(out->map + out->nchunks, j->outs[t].v,
				       j->outs[t].n * sizeof(*out->map));
			out->nchunks += j->outs[t].n;
		}
	}
	if (!rc && out->nchunks != m->nchunks)
		rc = cp_error_set(CP_ERROR, CP_ERRCLASS_REPOSITORY,
				  "internal error: copied %llu of %llu chunks of backup %s",
				  (unsigned long long)out->nchunks, (unsigned long long)m->nchunks,
				  j->id);
	if (!rc) {
		qsort(out->map, out->nchunks, sizeof(*out->map), cmp_entry);
		out->source = dup_or_null(m->source, &rc);
		out->provider = dup_or_null(m->provider, &rc);
		out->snapshot_id = dup_or_null(m->snapshot_id, &rc);
		out->instance_id = dup_or_null(m->instance_id, &rc);
		out->group_id = dup_or_null(m->group_id, &rc);
		out->hostname = dup_or_null(m->hostname, &rc);
		out->parent = dup_or_null(j->dst_parent, &rc);
		out->copied_from = dup_or_null(j->id, &rc);
		out->time = m->time;
		out->time_nsec = m->time_nsec;
		out->size = m->size;
		out->chunk_size = m->chunk_size;
		out->data_bytes = m->data_bytes;
		out->read_bytes = m->read_bytes;
		out->new_bytes = atomic_load(&j->stored);
		cp_packer_stats ps;
		cp_packer_get_stats(j->packer, &ps);
		out->new_chunks = ps.blobs;
	}
	if (!rc)
		rc = cp_manifest_set_tags(out, m->tags, m->ntags);
	if (!rc)
		rc = cp_job_retain_backup(j->dst, out, j->started);
	/* A cancel that came in the meantime must not store a manifest. */
	if (!rc && cp_failure_get(&j->failure))
		rc = cp_failure_get(&j->failure);
	if (!rc)
		rc = cp_repo_manifest_save(j->dst, out, j->dst_id);
	if (!rc)
		atomic_store(&j->saved, 1);
	return rc;
}

static int finish_tick(void *arg)
{
	copy_job *j = arg;
	cp_packer_stats ps;
	cp_packer_get_stats(j->packer, &ps);
	cp_progress p = {"finishing", ps.uploaded_bytes, ps.stored_bytes, atomic_load(&j->stored),
			 NULL};
	return cp_progress_report(j->cb, j->payload, &p);
}

/* Copy one backup; *dst_id receives its id in dst. */
static int copy_one(cp_repository *dst, cp_repository *src, const char *id, const char *dst_parent,
		    cp_progress_cb cb, void *payload, char dst_id[CP_HEX_ID_LEN + 1])
{
	cp_manifest m, out;
	memset(&out, 0, sizeof(out));
	/* Packs stored from now on carry a lock from now; older ones are extended to match. */
	int64_t started = (int64_t)time(NULL);
	copy_job j;
	memset(&j, 0, sizeof(j));
	j.dst = dst;
	j.threads = cp_workers_for_fetching(src->ctx, 0);
	int rc = cp_repo_manifest_load(src, id, 0, 0, &m);
	if (rc)
		return rc;
	j.coders = calloc(j.threads, sizeof(*j.coders));
	j.outs = calloc(j.threads, sizeof(*j.outs));
	if (!j.coders || !j.outs)
		rc = cp_error_oom();
	unsigned int ready = 0;
	for (; !rc && ready < j.threads; ready++)
		rc = cp_chunk_coder_init(&j.coders[ready], dst);
	if (!rc)
		rc = cp_packer_new(&j.packer, dst);
	if (!rc) {
		cp_fetch_options fo = {j.threads, "copy", 0, cb, payload};
		rc = cp_fetch_chunks(src, &m, id, &fo, store_chunk, &j);
	}
	/* The last packs, the index and the manifest go up while the callback can still cancel. */
	j.m = &m;
	j.id = id;
	j.dst_parent = dst_parent;
	j.started = started;
	j.out = &out;
	j.dst_id = dst_id;
	j.cb = cb;
	j.payload = payload;
	cp_failure_init(&j.failure);
	if (!rc)
		rc = cp_workers_run(1, finish_worker, finish_tick, &j, &j.failure);
	if (rc && atomic_load(&j.saved)) {
		/* The cancel came after the manifest was stored: the copy exists. */
		cp_error_clear();
		rc = 0;
	}
	cp_failure_dispose(&j.failure);
	if (!rc)
		cp_log(src->ctx, CP_LOG_INFO, "copied backup %s as %s (%llu new bytes)", id, dst_id,
		       (unsigned long long)out.new_bytes);
	cp_error_saved saved;
	cp_error_save(&saved);
	cp_packer_free(j.packer);
	for (unsigned int t = 0; t < ready; t++)
		cp_chunk_coder_dispose(&j.coders[t]);
	if (j.outs)
		for (unsigned int t = 0; t < j.threads; t++)
			free(j.outs[t].v);
	free(j.outs);
	free(j.coders);
	cp_manifest_dispose(&m);
	cp_manifest_dispose(&out);
	cp_error_restore(&saved);
	return rc;
}

/* Source ids and their copies, so that parents can be mapped. */
typedef struct {
	char (*src)[CP_HEX_ID_LEN + 1];
	char (*dst)[CP_HEX_ID_LEN + 1];
	size_t n, cap;
} id_map;

static int map_add(id_map *m, const char *src, const char *dst)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		void *a = realloc(m->src, cap * sizeof(*m->src));
		if (a)
			m->src = a;
		void *b = realloc(m->dst, cap * sizeof(*m->dst));
		if (b)
			m->dst = b;
		if (!a || !b)
			return cp_error_oom();
		m->cap = cap;
	}
	snprintf(m->src[m->n], CP_HEX_ID_LEN + 1, "%s", src);
	snprintf(m->dst[m->n], CP_HEX_ID_LEN + 1, "%s", dst);
	m->n++;
	return 0;
}

static const char *map_find(const id_map *m, const char *src)
{
	for (size_t i = 0; src && i < m->n; i++)
		if (!strcmp(m->src[i], src))
			return m->dst[i];
	return NULL;
}

static int wanted(cp_repository *src, const char *const *ids, const char *id, int *yes)
{
	*yes = !ids;
	for (size_t k = 0; ids && ids[k] && !*yes; k++) {
		char *full = NULL;
		int rc = cp_backup_resolve(&full, src, ids[k], NULL);
		if (rc)
			return rc;
		*yes = !strcmp(full, id);
		free(full);
	}
	return 0;
}

int cp_backup_copy(cp_repository *dst, cp_repository *src, const char *const *ids,
		   cp_progress_cb progress_cb, void *payload)
{
	cp_repo_lock *slock = NULL, *dlock = NULL;
	cp_backup_list sl, dl;
	memset(&sl, 0, sizeof(sl));
	memset(&dl, 0, sizeof(dl));
	id_map map = {0};
	if (dst == src)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "copy needs two different repositories");
	int rc = cp_repo_lock_acquire(&slock, src, 0, "copy");
	if (!rc)
		rc = cp_repo_lock_acquire(&dlock, dst, 0, "copy");
	if (!rc)
		rc = cp_repo_index_refresh(src);
	if (!rc)
		rc = cp_repo_index_refresh(dst);
	if (!rc)
		rc = cp_backup_list_get(&sl, src);
	if (!rc)
		rc = cp_backup_list_get(&dl, dst);
	/* Copies already made map their originals. */
	for (size_t i = 0; !rc && i < dl.count; i++) {
		cp_manifest h;
		rc = cp_repo_manifest_load(dst, dl.items[i].id, 1, 0, &h);
		if (!rc && h.copied_from)
			rc = map_add(&map, h.copied_from, dl.items[i].id);
		if (!rc)
			cp_manifest_dispose(&h);
	}
	for (size_t k = 0; !rc && ids && ids[k]; k++) {
		char *full = NULL;
		rc = cp_backup_resolve(&full, src, ids[k], NULL);
		free(full);
	}
	size_t copied = 0;
	for (size_t i = 0; !rc && i < sl.count; i++) {
		const cp_backup_info *b = &sl.items[i];
		int yes = 0;
		rc = wanted(src, ids, b->id, &yes);
		if (rc || !yes)
			continue;
		if (map_find(&map, b->id)) {
			cp_log(src->ctx, CP_LOG_INFO, "backup %s was copied before; skipped",
			       b->id);
			continue;
		}
		char out[CP_HEX_ID_LEN + 1];
		rc = copy_one(dst, src, b->id, map_find(&map, b->parent_id), progress_cb, payload,
			      out);
		if (!rc)
			rc = map_add(&map, b->id, out);
		copied++;
	}
	if (!rc)
		cp_log(src->ctx, CP_LOG_INFO, "copied %zu backup(s)", copied);
	cp_error_saved saved;
	cp_error_save(&saved);
	cp_backup_list_dispose(&sl);
	cp_backup_list_dispose(&dl);
	free(map.src);
	free(map.dst);
	cp_repo_lock_release(dlock);
	cp_repo_lock_release(slock);
	cp_error_restore(&saved);
	return rc;
}
