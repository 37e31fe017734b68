/*
 * cp_restore: write a backup into a block writer. Chunks come from the
 * fetcher (grouped by pack, verified in parallel). Holes are skipped,
 * except on targets whose unwritten blocks do not read as zeros
 * (CP_BLOCK_WRITER_MUST_WRITE_ZEROS, e.g. volumes from encrypted EBS
 * snapshots), where zeros are written explicitly. On any failure the
 * caller frees the writer without commit, so no partial target remains.
 */
#include "cloudprotect/backup.h"
#include "cloudprotect/sys/provider.h"
#include "format/chunk.h"
#include "format/lock.h"
#include "format/manifest_io.h"
#include "job/bitmap.h"
#include "job/fetch.h"
#include "job/workers.h"

#include "ctx.h"
#include "error.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	cp_block_writer *target;
	cp_manifest *m; /* loaded by prepare_worker */
	cp_bitmap holes;
	pthread_mutex_t mu;
	uint64_t cursor;
	uint64_t nchunks;
	cp_failure failure;
	atomic_uint_fast64_t done;
	uint64_t total;
	const cp_restore_options *opts;
	/* What prepare_worker finds: */
	cp_repository *repo;
	const char *backup_id;
	char *id; /* the backup's full id */
	cp_repo_lock *lock;
} restore_job;

static int write_chunk(void *arg, unsigned int worker, uint64_t index, const uint8_t id[CP_ID_LEN],
		       const void *data, size_t len)
{
	restore_job *j = arg;
	int rc = cp_block_writer_write(j->target, index * j->m->chunk_size, data, len);
	return rc ? cp_error_prefix(rc, "writing the restore target: ") : 0;
}

static int zero_worker(void *arg, unsigned int worker)
{
	restore_job *j = arg;
	uint32_t cs = j->m->chunk_size;
	void *zeros = calloc(1, cs);
	if (!zeros)
		return cp_error_oom();
	int rc = 0;
	while (!rc && !cp_failure_get(&j->failure)) {
		pthread_mutex_lock(&j->mu);
		uint64_t i = cp_bitmap_next(&j->holes, j->cursor);
		j->cursor = i + 1;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->nchunks)
			break;
		uint64_t off = i * cs;
		size_t len = j->m->size - off < cs ? (size_t)(j->m->size - off) : cs;
		rc = cp_block_writer_write(j->target, off, zeros, len);
		if (rc)
			rc = cp_error_prefix(rc, "writing zeros into the restore target: ");
		atomic_fetch_add(&j->done, len);
	}
	free(zeros);
	return rc;
}

static int restore_tick(void *arg)
{
	restore_job *j = arg;
	cp_progress p = {"restore", atomic_load(&j->done), j->total, 0, NULL};
	return cp_progress_report(j->opts->progress_cb, j->opts->progress_payload, &p);
}

/*
 * The steps before the data: find the backup, lock, read the index and
 * the manifest. On a worker, so that a request that hangs still yields
 * to a cancel from the caller's progress callback.
 */
static int prepare_worker(void *arg, unsigned int index)
{
	restore_job *j = arg;
	int rc = cp_backup_resolve(&j->id, j->repo, j->backup_id, NULL);
	if (!rc)
		rc = cp_repo_lock_acquire(&j->lock, j->repo, 0, "restore");
	if (!rc)
		rc = cp_repo_index_refresh(j->repo);
	if (!rc)
		rc = cp_repo_manifest_load(j->repo, j->id, 0, 0, j->m);
	return rc;
}

int cp_restore(cp_repository *repo, const char *backup_id, cp_block_writer *target,
	       const cp_restore_options *opts)
{
	cp_restore_options defaults = CP_RESTORE_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != CP_RESTORE_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_restore_options version %u is not supported (this library "
				    "knows %u)",
				    opts->version, CP_RESTORE_OPTIONS_VERSION);
	restore_job j;
	memset(&j, 0, sizeof(j));
	j.target = target;
	j.opts = opts;
	j.repo = repo;
	j.backup_id = backup_id;
	pthread_mutex_init(&j.mu, NULL);
	cp_failure_init(&j.failure);
	cp_manifest m;
	memset(&m, 0, sizeof(m));
	j.m = &m;
	unsigned int threads = cp_workers_for_fetching(repo->ctx, opts->threads);

	int rc = cp_workers_run(1, prepare_worker, restore_tick, &j, &j.failure);
	const char *id = j.id;
	if (!rc && cp_block_writer_size(target) < m.size)
		rc = cp_error_set(
			CP_ENOSPC, CP_ERRCLASS_INVALID,
			"the restore target holds %llu bytes but backup %s is %llu bytes; "
			"use a target at least that large",
			(unsigned long long)cp_block_writer_size(target), id,
			(unsigned long long)m.size);
	int zeros = !rc && (cp_block_writer_flags(target) & CP_BLOCK_WRITER_MUST_WRITE_ZEROS);
	if (zeros) {
		j.nchunks = m.size / m.chunk_size + (m.size % m.chunk_size != 0);
		rc = cp_bitmap_init(&j.holes, j.nchunks);
		if (!rc) {
			cp_bitmap_set_range(&j.holes, 0, j.nchunks);
			for (uint64_t k = 0; k < m.nchunks; k++)
				j.holes.words[m.map[k].index >> 6] &=
					~(1ull << (m.map[k].index & 63));
		}
		j.total = m.size - m.data_bytes;
	}
	if (!rc) {
		cp_log(repo->ctx, CP_LOG_INFO, "restoring backup %s (%llu bytes) with %u threads",
		       id, (unsigned long long)m.size, threads);
		cp_fetch_options fo = {threads, "restore", j.total, opts->progress_cb,
				       opts->progress_payload};
		rc = cp_fetch_chunks(repo, &m, id, &fo, write_chunk, &j);
	}
	if (!rc && zeros) {
		j.total = m.size;
		atomic_store(&j.done, m.data_bytes);
		rc = cp_workers_run(threads, zero_worker, restore_tick, &j, &j.failure);
	}
	cp_error_saved saved;
	cp_error_save(&saved);
	cp_repo_lock_release(j.lock);
	cp_manifest_dispose(&m);
	cp_bitmap_dispose(&j.holes);
	cp_failure_dispose(&j.failure);
	pthread_mutex_destroy(&j.mu);
	free(j.id);
	cp_error_restore(&saved);
	return rc;
}
