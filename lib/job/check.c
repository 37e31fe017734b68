/*
 * cp_check: verify the repository's structure, and with read_data every
 * byte. Structure: every index and manifest decodes and is named by its
 * SHA-256; every chunk a manifest names is in an index; every pack an
 * index names exists with the indexed size. read_data downloads every
 * indexed pack, checks its SHA-256 against its name, opens its header
 * and decrypts and verifies every indexed blob. Problems go to the
 * callback (on the caller's thread); harmless leftovers (packs no index
 * names, from interrupted backups) are only counted.
 */
#include "cloudprotect/backup.h"
#include "format/bytes.h"
#include "format/chunk.h"
#include "format/lock.h"
#include "format/manifest_io.h"
#include "job/list.h"
#include "job/workers.h"

#include "ctx.h"
#include "error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char key[CP_KEY_MAX];
	char *text;
} problem;

typedef struct {
	uint32_t pack;
	cp_pack_entry e;
} pack_entry;

typedef struct {
	cp_repository *repo;
	const cp_check_options *opts;
	cp_check_problem_cb cb;
	void *payload;
	cp_check_result *res;

	cp_index_table table;  /* chunks and packs named by the indexes */
	uint64_t *listed_size; /* per pack number: size in the store listing, or UINT64_MAX */
	pack_entry *entries;   /* every index entry, grouped by pack for read_data */
	size_t nentries, entries_cap;
	size_t *pack_first; /* per pack: first entry in entries */

	pthread_mutex_t mu;
	problem *problems;
	size_t nproblems, problems_cap, delivered;
	size_t next_pack;
	cp_failure failure;
	atomic_uint_fast64_t done;
	uint64_t total;
	cp_codec *codec; /* index objects' */
} check_job;

static int report(check_job *j, const char *key, const char *fmt, ...) CP_PRINTF(3, 4);

static int report(check_job *j, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return cp_error_oom();
	pthread_mutex_lock(&j->mu);
	int rc = 0;
	if (j->nproblems == j->problems_cap) {
		size_t cap = j->problems_cap ? j->problems_cap * 2 : 16;
		problem *p = realloc(j->problems, cap * sizeof(*p));
		if (!p)
			rc = cp_error_oom();
		else {
			j->problems = p;
			j->problems_cap = cap;
		}
	}
	if (!rc) {
		problem *p = &j->problems[j->nproblems++];
		snprintf(p->key, sizeof(p->key), "%s", key);
		p->text = text;
	} else {
		free(text);
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

/* Hand problems found so far to the callback; on the caller's thread only. */
static void deliver(check_job *j)
{
	pthread_mutex_lock(&j->mu);
	while (j->delivered < j->nproblems) {
		problem *p = &j->problems[j->delivered++];
		pthread_mutex_unlock(&j->mu);
		if (j->cb)
			j->cb(p->key, p->text, j->payload);
		pthread_mutex_lock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
}

static int progress(check_job *j)
{
	deliver(j);
	cp_progress p = {"check", atomic_load(&j->done), j->total, 0, NULL};
	return cp_progress_report(j->opts->progress_cb, j->opts->progress_payload, &p);
}

/*
 * Between two steps of the structure phase, which runs on a worker: the
 * caller's thread reports progress (and can cancel) meanwhile; stop here
 * once it did.
 */
static int step_done(check_job *j)
{
	return cp_failure_get(&j->failure);
}

static const char *error_text(void)
{
	const cp_error *e = cp_error_last();
	return e ? e->message : "unknown error";
}

/* ---- indexes ---- */

static int add_index_pack(const cp_index_pack *pack, void *payload)
{
	check_job *j = payload;
	uint32_t n;
	size_t before = j->table.npacks;
	int rc = cp_index_table_add_pack(&j->table, pack->id, pack->size, &n);
	if (rc)
		return rc;
	if (n < before && j->table.packs[n].size != pack->size) {
		char hex[CP_HEX_ID_LEN + 1], key[CP_KEY_MAX];
		cp_hex_encode(hex, pack->id, CP_ID_LEN);
		cp_repo_key(key, CP_DIR_DATA, hex);
		rc = report(j, key, "indexes disagree on its size (%llu and %llu bytes)",
			    (unsigned long long)j->table.packs[n].size,
			    (unsigned long long)pack->size);
	}
	for (size_t i = 0; !rc && i < pack->n; i++) {
		const cp_pack_entry *e = &pack->entries[i];
		cp_chunk_loc loc = {n, e->offset, e->length, e->raw_length};
		rc = cp_index_table_insert(&j->table, e->id, &loc, NULL, NULL);
		if (!rc && j->nentries == j->entries_cap) {
			size_t cap = j->entries_cap ? j->entries_cap * 2 : 1024;
			pack_entry *v = realloc(j->entries, cap * sizeof(*v));
			if (!v)
				return cp_error_oom();
			j->entries = v;
			j->entries_cap = cap;
		}
		if (!rc) {
			j->entries[j->nentries].pack = n;
			j->entries[j->nentries].e = *e;
			j->nentries++;
		}
	}
	return rc;
}

static int check_indexes(check_job *j, cp_codec *codec)
{
	cp_names names;
	cp_buf buf = CP_BUF_INIT;
	int rc = cp_names_get(&names, j->repo, CP_DIR_INDEX);
	for (size_t i = 0; !rc && i < names.n; i++) {
		char key[CP_KEY_MAX];
		cp_repo_key(key, CP_DIR_INDEX, names.names[i]);
		j->res->indexes++;
		int r = cp_repo_get_named(j->repo, CP_DIR_INDEX, names.names[i], &buf);
		if (r == CP_ENOTFOUND) {
			/* Replaced by a prune since the listing. */
			cp_error_clear();
			continue;
		}
		if (!r)
			r = cp_index_object_decode(codec, (const uint8_t *)buf.ptr, buf.size,
						   add_index_pack, j);
		atomic_fetch_add(&j->done, 1);
		if (r == CP_ECORRUPT || r == CP_EUNSUPPORTED)
			rc = report(j, key, "%s", error_text());
		else
			rc = r;
		if (!rc)
			rc = step_done(j);
	}
	cp_names_dispose(&names);
	cp_buf_dispose(&buf);
	return rc;
}

/* ---- packs ---- */

static int check_packs(check_job *j)
{
	cp_names data;
	int rc = cp_names_get(&data, j->repo, CP_DIR_DATA);
	if (rc)
		return rc;
	size_t np = j->table.npacks;
	j->listed_size = malloc((np ? np : 1) * sizeof(*j->listed_size));
	if (!j->listed_size) {
		cp_names_dispose(&data);
		return cp_error_oom();
	}
	for (size_t i = 0; i < np; i++)
		j->listed_size[i] = UINT64_MAX;
	for (size_t i = 0; i < data.n; i++) {
		uint8_t id[CP_ID_LEN];
		cp_hex_decode(id, data.names[i], CP_ID_LEN);
		uint32_t n = cp_index_table_pack_number(&j->table, id);
		if (n == CP_PACK_NONE)
			j->res->unreferenced_packs++;
		else
			j->listed_size[n] = data.sizes[i];
	}
	cp_names_dispose(&data);
	for (size_t n = 0; !rc && n < np; n++) {
		char hex[CP_HEX_ID_LEN + 1], key[CP_KEY_MAX];
		cp_hex_encode(hex, j->table.packs[n].id, CP_ID_LEN);
		cp_repo_key(key, CP_DIR_DATA, hex);
		j->res->packs++;
		if (j->listed_size[n] == UINT64_MAX)
			rc = report(j, key,
				    "missing: an index names this pack but it is not in the "
				    "store");
		else if (j->listed_size[n] != j->table.packs[n].size)
			rc = report(j, key,
				    "is %llu bytes but its index says %llu (truncated or "
				    "replaced)",
				    (unsigned long long)j->listed_size[n],
				    (unsigned long long)j->table.packs[n].size);
	}
	j->res->chunks = j->table.count;
	return rc;
}

/* ---- manifests ---- */

static int check_manifests(check_job *j, const cp_names *names)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < names->n; i++) {
		char key[CP_KEY_MAX];
		cp_manifest m;
		cp_repo_key(key, CP_DIR_MANIFESTS, names->names[i]);
		int r = cp_repo_manifest_load(j->repo, names->names[i], 0, 0, &m);
		atomic_fetch_add(&j->done, 1);
		if (r == CP_ENOTFOUND) {
			cp_error_clear();
			continue;
		}
		j->res->backups++;
		if (r == CP_ECORRUPT || r == CP_EUNSUPPORTED) {
			rc = report(j, key, "%s", error_text());
			continue;
		}
		if (r) {
			rc = r;
			break;
		}
		uint64_t missing = 0, wrong = 0;
		char first[CP_HEX_ID_LEN + 1] = "";
		for (uint64_t k = 0; k < m.nchunks; k++) {
			const cp_index_entry *e = cp_index_table_find(&j->table, m.map[k].id);
			uint64_t off = m.map[k].index * m.chunk_size;
			uint64_t want = m.size - off < m.chunk_size ? m.size - off : m.chunk_size;
			if (!e) {
				if (!missing++)
					cp_hex_encode(first, m.map[k].id, CP_ID_LEN);
			} else if (e->loc.raw_length != want) {
				wrong++;
			}
		}
		if (missing)
			rc = report(j, key,
				    "%llu of its chunks are in no index (first: %s); its backup "
				    "cannot be restored whole",
				    (unsigned long long)missing, first);
		if (!rc && wrong)
			rc = report(j, key,
				    "%llu of its chunks are indexed with a length that does not "
				    "fit their place on the disk",
				    (unsigned long long)wrong);
		cp_manifest_dispose(&m);
		if (!rc)
			rc = step_done(j);
	}
	return rc;
}

/* ---- read_data ---- */

static int cmp_pack_entry(const void *a, const void *b)
{
	const pack_entry *x = a, *y = b;
	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	return x->e.offset < y->e.offset ? -1 : x->e.offset > y->e.offset;
}

static int read_pack(check_job *j, uint32_t n, cp_chunk_coder *coder, cp_buf *data, cp_buf *plain)
{
	char hex[CP_HEX_ID_LEN + 1], key[CP_KEY_MAX], got[CP_HEX_ID_LEN + 1];
	cp_hex_encode(hex, j->table.packs[n].id, CP_ID_LEN);
	cp_repo_key(key, CP_DIR_DATA, hex);
	int rc = cp_objstore_get(j->repo->store, key, 0, 0, data);
	if (rc == CP_ENOTFOUND || rc == CP_ECORRUPT) {
		cp_error_clear();
		return 0; /* reported by the structure check */
	}
	if (rc)
		return rc;
	atomic_fetch_add(&j->done, data->size);
	cp_sha256_hex(data->ptr, data->size, got);
	if (strcmp(got, hex))
		return report(j, key, "its SHA-256 is %s: the pack is damaged", got);
	/* The header must open and list what the index says. */
	uint64_t hoff;
	uint32_t hlen;
	cp_pack_entry *hdr = NULL;
	size_t nhdr = 0;
	rc = cp_pack_locate_header((const uint8_t *)data->ptr + data->size - 4, data->size, &hoff,
				   &hlen);
	if (!rc) {
		rc = cp_codec_open(&coder->codec, CP_PACK_HEADER_AAD,
				   sizeof(CP_PACK_HEADER_AAD) - 1, data->ptr + hoff, hlen,
				   (size_t)data->size, 0, plain);
		if (rc == CP_ECORRUPT)
			rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
					  "its header does not decrypt");
	}
	if (!rc)
		rc = cp_pack_header_parse((const uint8_t *)plain->ptr, plain->size, hoff, &hdr,
					  &nhdr);
	if (rc == CP_ECORRUPT || rc == CP_EUNSUPPORTED)
		return report(j, key, "%s", error_text());
	if (rc)
		return rc;
	size_t bad = 0, notlisted = 0;
	char first_bad[256] = "";
	for (size_t k = j->pack_first[n]; k < j->nentries && j->entries[k].pack == n; k++) {
		const cp_pack_entry *e = &j->entries[k].e;
		size_t h = 0;
		while (h < nhdr && hdr[h].offset < e->offset)
			h++;
		if (h == nhdr || hdr[h].offset != e->offset || hdr[h].length != e->length ||
		    memcmp(hdr[h].id, e->id, CP_ID_LEN))
			notlisted++;
		int r = cp_chunk_open(coder, e->id, data->ptr + e->offset, e->length, e->raw_length,
				      plain);
		if (r == CP_ECORRUPT) {
			if (!bad++)
				snprintf(first_bad, sizeof(first_bad), "%s", error_text());
		} else if (r) {
			free(hdr);
			return r;
		}
	}
	free(hdr);
	if (bad)
		rc = report(j, key, "%zu chunk(s) fail verification: %s", bad, first_bad);
	if (!rc && notlisted)
		rc = report(j, key, "%zu indexed chunk(s) are not where its header says",
			    notlisted);
	return rc;
}

static int read_worker(void *arg, unsigned int worker)
{
	check_job *j = arg;
	cp_chunk_coder coder;
	cp_buf data = CP_BUF_INIT, plain = CP_BUF_INIT;
	int rc = cp_chunk_coder_init(&coder, j->repo);
	while (!rc && !cp_failure_get(&j->failure)) {
		pthread_mutex_lock(&j->mu);
		size_t n = j->next_pack++;
		pthread_mutex_unlock(&j->mu);
		if (n >= j->table.npacks)
			break;
		if (j->listed_size[n] == UINT64_MAX || j->listed_size[n] != j->table.packs[n].size)
			continue;
		rc = read_pack(j, (uint32_t)n, &coder, &data, &plain);
		cp_buf_dispose(&data); /* packs are large: do not keep one per worker */
	}
	cp_buf_dispose(&plain);
	cp_chunk_coder_dispose(&coder);
	return rc;
}

static int tick(void *arg)
{
	return progress(arg);
}

/*
 * Manifests are listed before indexes, and indexes before packs: a
 * backup running meanwhile stores packs, then their index, then its
 * manifest, so everything listed has what it needs listed later.
 */
static int structure_worker(void *arg, unsigned int index)
{
	check_job *j = arg;
	cp_names manifests;
	int rc = cp_names_get(&manifests, j->repo, CP_DIR_MANIFESTS);
	if (rc)
		return rc;
	rc = check_indexes(j, j->codec);
	if (!rc)
		rc = check_packs(j);
	if (!rc)
		rc = check_manifests(j, &manifests);
	cp_names_dispose(&manifests);
	return rc;
}

static int read_data(check_job *j)
{
	if (j->nentries)
		qsort(j->entries, j->nentries, sizeof(*j->entries), cmp_pack_entry);
	size_t np = j->table.npacks;
	j->pack_first = malloc((np ? np : 1) * sizeof(*j->pack_first));
	if (!j->pack_first)
		return cp_error_oom();
	for (size_t n = 0; n < np; n++)
		j->pack_first[n] = j->nentries;
	for (size_t k = j->nentries; k-- > 0;)
		j->pack_first[j->entries[k].pack] = k;
	j->total = 0;
	for (size_t n = 0; n < np; n++)
		j->total += j->table.packs[n].size;
	atomic_store(&j->done, 0);
	unsigned int threads = cp_workers_for_fetching(j->repo->ctx, 0);
	return cp_workers_run(threads, read_worker, tick, j, &j->failure);
}

int cp_check(cp_repository *repo, const cp_check_options *opts, cp_check_problem_cb problem_cb,
	     void *payload, cp_check_result *result)
{
	cp_check_options defaults = CP_CHECK_OPTIONS_INIT;
	cp_check_result scratch;
	if (!opts)
		opts = &defaults;
	if (!result)
		result = &scratch;
	memset(result, 0, sizeof(*result));
	if (opts->version != CP_CHECK_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_check_options version %u is not supported (this library "
				    "knows %u)",
				    opts->version, CP_CHECK_OPTIONS_VERSION);
	check_job j;
	memset(&j, 0, sizeof(j));
	j.repo = repo;
	j.opts = opts;
	j.cb = problem_cb;
	j.payload = payload;
	j.res = result;
	pthread_mutex_init(&j.mu, NULL);
	cp_failure_init(&j.failure);
	cp_repo_lock *lock = NULL;
	cp_codec codec;
	memset(&codec, 0, sizeof(codec));
	j.codec = &codec;
	int rc = cp_index_table_init(&j.table);
	if (!rc)
		rc = cp_repo_lock_acquire(&lock, repo, 0, "check");
	if (!rc)
		rc = cp_repo_codec(repo, &codec);
	/* On a worker, so that a request that hangs still yields to a cancel. */
	if (!rc)
		rc = cp_workers_run(1, structure_worker, tick, &j, &j.failure);
	if (!rc && opts->read_data)
		rc = read_data(&j);
	deliver(&j);
	result->problems = j.nproblems;
	if (!rc && j.nproblems)
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				  "check found %zu problem(s) in the repository", j.nproblems);
	if (!rc)
		cp_log(repo->ctx, CP_LOG_INFO,
		       "check: %llu backups, %llu indexes, %llu packs, %llu chunks: no problems",
		       (unsigned long long)result->backups, (unsigned long long)result->indexes,
		       (unsigned long long)result->packs, (unsigned long long)result->chunks);
	cp_error_saved saved;
	cp_error_save(&saved);
	cp_repo_lock_release(lock);
	cp_codec_dispose(&codec);
	cp_index_table_dispose(&j.table);
	for (size_t i = 0; i < j.nproblems; i++)
		free(j.problems[i].text);
	free(j.problems);
	free(j.entries);
	free(j.listed_size);
	free(j.pack_first);
	cp_failure_dispose(&j.failure);
	pthread_mutex_destroy(&j.mu);
	cp_error_restore(&saved);
	return rc;
}
