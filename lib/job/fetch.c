#include "job/fetch.h"
#include "format/bytes.h"
#include "format/chunk.h"
#include "job/workers.h"

#include "ctx.h"
#include "error.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	uint64_t map_pos;
	uint32_t pack; /* number in the job's own pack table */
	uint32_t offset, length, raw_length;
} item;

typedef struct {
	size_t first, end; /* items [first, end) */
} run;

typedef struct {
	cp_repository *repo;
	const cp_manifest *m;
	const cp_fetch_options *opts;
	cp_fetch_cb cb;
	void *arg;
	item *items;
	size_t nitems;
	run *runs;
	size_t nruns;
	cp_index_table packs; /* pack ids by number (no chunks) */
	pthread_mutex_t mu;
	size_t next_run;
	cp_failure failure;
	atomic_uint_fast64_t done;
	uint64_t total;
} fetch_job;

static int cmp_item(const void *a, const void *b)
{
	const item *x = a, *y = b;
	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int plan(fetch_job *j, const char *backup_id)
{
	const cp_manifest *m = j->m;
	j->items = malloc((m->nchunks ? m->nchunks : 1) * sizeof(*j->items));
	if (!j->items)
		return cp_error_oom();
	for (uint64_t k = 0; k < m->nchunks; k++) {
		cp_chunk_loc loc;
		uint8_t pack_id[CP_ID_LEN];
		char hex[CP_HEX_ID_LEN + 1];
		uint64_t idx = m->map[k].index;
		uint64_t want = m->size - idx * m->chunk_size;
		if (want > m->chunk_size)
			want = m->chunk_size;
		if (cp_repo_index_lookup(j->repo, m->map[k].id, &loc, pack_id)) {
			cp_hex_encode(hex, m->map[k].id, CP_ID_LEN);
			return cp_error_set(
				CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				"chunk %s of backup %s (at offset %llu) is in no index: "
				"the repository is damaged; run `cloudprotect check`",
				hex, backup_id, (unsigned long long)(idx * m->chunk_size));
		}
		if (loc.raw_length != want) {
			cp_hex_encode(hex, m->map[k].id, CP_ID_LEN);
			return cp_error_set(
				CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				"chunk %s of backup %s is indexed with %u bytes but its "
				"place on the disk holds %llu",
				hex, backup_id, loc.raw_length, (unsigned long long)want);
		}
		item *it = &j->items[j->nitems++];
		it->map_pos = k;
		it->offset = loc.offset;
		it->length = loc.length;
		it->raw_length = loc.raw_length;
		int rc = cp_index_table_add_pack(&j->packs, pack_id, 0, &it->pack);
		if (rc)
			return rc;
		j->total += loc.raw_length;
	}
	qsort(j->items, j->nitems, sizeof(*j->items), cmp_item);
	j->runs = malloc((j->nitems ? j->nitems : 1) * sizeof(*j->runs));
	if (!j->runs)
		return cp_error_oom();
	for (size_t i = 0; i < j->nitems;) {
		size_t e = i + 1;
		uint64_t start = j->items[i].offset;
		uint64_t end = start + j->items[i].length;
		while (e < j->nitems && j->items[e].pack == j->items[i].pack &&
		       j->items[e].offset <= end + CP_FETCH_MAX_GAP &&
		       (uint64_t)j->items[e].offset + j->items[e].length - start <=
			       CP_FETCH_MAX_RUN) {
			uint64_t ee = (uint64_t)j->items[e].offset + j->items[e].length;
			if (ee > end)
				end = ee;
			e++;
		}
		j->runs[j->nruns].first = i;
		j->runs[j->nruns].end = e;
		j->nruns++;
		i = e;
	}
	return 0;
}

static int fetch_run(fetch_job *j, unsigned int worker, const run *r, cp_chunk_coder *coder,
		     cp_buf *raw, cp_buf *plain)
{
	const item *first = &j->items[r->first];
	uint64_t start = first->offset, end = start;
	for (size_t i = r->first; i < r->end; i++)
		if ((uint64_t)j->items[i].offset + j->items[i].length > end)
			end = (uint64_t)j->items[i].offset + j->items[i].length;
	char hex[CP_HEX_ID_LEN + 1], key[CP_KEY_MAX];
	cp_hex_encode(hex, j->packs.packs[first->pack].id, CP_ID_LEN);
	cp_repo_key(key, CP_DIR_DATA, hex);
	int rc = cp_objstore_get(j->repo->store, key, start, end - start, raw);
	if (rc == CP_ENOTFOUND)
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				    "pack %s is missing from the repository but the index names "
				    "it; run `cloudprotect check`",
				    hex);
	if (rc)
		return cp_error_prefix(rc, "reading pack %s: ", hex);
	if (raw->size != end - start)
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				    "pack %s is shorter than its index says (truncated?)", hex);
	const item *prev = NULL;
	for (size_t i = r->first; !rc && i < r->end; i++) {
		const item *it = &j->items[i];
		const cp_map_entry *e = &j->m->map[it->map_pos];
		/* Equal chunks share one blob: decode it once. */
		if (!prev || prev->offset != it->offset) {
			rc = cp_chunk_open(coder, e->id, raw->ptr + (it->offset - start),
					   it->length, it->raw_length, plain);
			if (rc) {
				rc = cp_error_prefix(rc, "in pack %s: ", hex);
				break;
			}
		}
		rc = j->cb(j->arg, worker, e->index, e->id, plain->ptr, plain->size);
		atomic_fetch_add(&j->done, it->raw_length);
		prev = it;
	}
	return rc;
}

/*
 * The plaintext buffer starts page-aligned and never has to grow (no
 * chunk exceeds the backup's chunk size), so a file target can write
 * it with O_DIRECT instead of copying it into the page cache.
 */
static int plain_buf_init(cp_buf *b, uint32_t chunk_size)
{
	void *p = NULL;
	size_t n = (size_t)chunk_size + 1;
	if (posix_memalign(&p, 4096, n))
		return cp_error_oom();
	b->ptr = p;
	b->asize = n;
	b->size = 0;
	b->ptr[0] = '\0';
	return 0;
}

static int fetch_worker(void *arg, unsigned int worker)
{
	fetch_job *j = arg;
	cp_chunk_coder coder;
	cp_buf raw = CP_BUF_INIT, plain = CP_BUF_INIT;
	int rc = plain_buf_init(&plain, j->m->chunk_size);
	if (!rc)
		rc = cp_chunk_coder_init(&coder, j->repo);
	else
		memset(&coder, 0, sizeof(coder));
	while (!rc && !cp_failure_get(&j->failure)) {
		pthread_mutex_lock(&j->mu);
		size_t r = j->next_run++;
		pthread_mutex_unlock(&j->mu);
		if (r >= j->nruns)
			break;
		rc = fetch_run(j, worker, &j->runs[r], &coder, &raw, &plain);
	}
	cp_buf_dispose(&raw);
	cp_buf_dispose(&plain);
	cp_chunk_coder_dispose(&coder);
	return rc;
}

static int fetch_tick(void *arg)
{
	fetch_job *j = arg;
	cp_progress p = {j->opts->phase, atomic_load(&j->done), j->total + j->opts->extra_total, 0,
			 NULL};
	return cp_progress_report(j->opts->progress_cb, j->opts->progress_payload, &p);
}

int cp_fetch_chunks(cp_repository *repo, const cp_manifest *m, const char *backup_id,
		    const cp_fetch_options *opts, cp_fetch_cb cb, void *arg)
{
	fetch_job j;
	memset(&j, 0, sizeof(j));
	j.repo = repo;
	j.m = m;
	j.opts = opts;
	j.cb = cb;
	j.arg = arg;
	pthread_mutex_init(&j.mu, NULL);
	cp_failure_init(&j.failure);
	int rc = cp_index_table_init(&j.packs);
	if (!rc)
		rc = plan(&j, backup_id);
	if (!rc)
		rc = cp_workers_run(opts->threads, fetch_worker, fetch_tick, &j, &j.failure);
	free(j.items);
	free(j.runs);
	cp_index_table_dispose(&j.packs);
	cp_failure_dispose(&j.failure);
	pthread_mutex_destroy(&j.mu);
	return rc;
}
