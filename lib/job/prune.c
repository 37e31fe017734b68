/*
 * cp_prune: reclaim the space of data no backup references.
 *
 * Under the exclusive lock (no backup can be writing): read every index
 * and every manifest (any unreadable one stops prune: it never deletes
 * on partial knowledge). Each referenced chunk is claimed once, in the
 * pack that is fullest of referenced data. Packs with nothing claimed
 * are deleted; packs less than half used are repacked (their claimed
 * blobs copied, verified but not re-encrypted, into new packs); packs
 * in no index at all (left by killed backups) are deleted.
 *
 * Order, so that a crash anywhere leaves a valid repository: new packs
 * and their index, then one compacted index for the kept packs, then
 * the old indexes are deleted, and only then the packs.
 *
 * A pack that could go is kept while locked, or while younger than its
 * storage class's minimum storage duration (see prune_hold.c). At the
 * end, unfinished uploads older than a day (killed backups) are aborted.
 */
#include "cloudprotect/backup.h"
#include "format/bytes.h"
#include "format/chunk.h"
#include "format/lock.h"
#include "format/manifest_io.h"
#include "job/list.h"
#include "job/prune_hold.h"
#include "job/workers.h"

#include "ctx.h"
#include "error.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPACK_BELOW_PERCENT 50

typedef struct {
	uint32_t pack;
	uint8_t needed;
	cp_pack_entry e;
} entry;

typedef struct {
	uint64_t size;
	uint64_t referenced; /* bytes of entries some backup uses (duplicates included) */
	uint64_t used;	     /* bytes of entries claimed in this pack */
	uint64_t blobs;	     /* bytes of all its entries */
	size_t first, n;     /* its entries */
	int listed;	     /* present in the store */
	size_t listing;	     /* its place in the listing, when listed */
	enum {
		KEEP,
		REPACK,
		DELETE
	} fate;
} pack_state;

typedef struct {
	cp_repository *repo;
	const cp_prune_options *opts;
	cp_prune_stats *stats;
	cp_index_table packs; /* numbering of indexed packs (no chunks) */
	entry *entries;
	size_t nentries, cap;
	pack_state *ps;
	cp_index_table used;
	cp_names index_names;
	cp_names data;
	cp_object_info *data_info; /* what the listing said of each of data */
	char *data_held;	   /* data[i] must stay (locked, or too young) */
	cp_prune_hold hold;
	atomic_uint_fast64_t done;
	uint64_t total;
	/* Repacking runs on a worker; the caller's thread reports and can cancel. */
	cp_packer *packer;
	cp_failure failure;
	atomic_int finishing;
} prune_job;

static int add_pack(const cp_index_pack *pack, void *payload)
{
	prune_job *j = payload;
	uint32_t n;
	int rc = cp_index_table_add_pack(&j->packs, pack->id, pack->size, &n);
	if (!rc && j->nentries + pack->n > j->cap) {
		size_t cap = j->cap ? j->cap : 1024;
		while (cap < j->nentries + pack->n)
			cap *= 2;
		entry *v = realloc(j->entries, cap * sizeof(*v));
		if (!v)
			return cp_error_oom();
		j->entries = v;
		j->cap = cap;
	}
	for (size_t i = 0; !rc && i < pack->n; i++) {
		entry *e = &j->entries[j->nentries++];
		e->pack = n;
		e->needed = 0;
		e->e = pack->entries[i];
	}
	return rc;
}

static int progress_tick(void *arg)
{
	prune_job *j = arg;
	cp_progress p = {"prune", atomic_load(&j->done), j->total, 0, NULL};
	if (atomic_load(&j->finishing)) {
		cp_packer_stats ps;
		cp_packer_get_stats(j->packer, &ps);
		p = (cp_progress){"finishing", ps.uploaded_bytes, ps.stored_bytes, 0, NULL};
	}
	return cp_progress_report(j->opts->progress_cb, j->opts->progress_payload, &p);
}

static int read_indexes(prune_job *j)
{
	cp_codec codec;
	cp_buf buf = CP_BUF_INIT;
	int rc = cp_names_get(&j->index_names, j->repo, CP_DIR_INDEX);
	if (!rc)
		rc = cp_repo_codec(j->repo, &codec);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < j->index_names.n; i++) {
		rc = cp_repo_get_named(j->repo, CP_DIR_INDEX, j->index_names.names[i], &buf);
		if (!rc)
			rc = cp_index_object_decode(&codec, (const uint8_t *)buf.ptr, buf.size,
						    add_pack, j);
		if (rc)
			rc = cp_error_prefix(rc,
					     "prune stops without deleting anything: index %s "
					     "cannot be read (run `cloudprotect check`): ",
					     j->index_names.names[i]);
	}
	cp_buf_dispose(&buf);
	cp_codec_dispose(&codec);
	return rc;
}

/* A dry run after a dry-run forget: that backup counts as gone. */
static int forgotten(const prune_job *j, const char *id)
{
	if (!j->opts->dry_run || !j->opts->forgotten)
		return 0;
	for (size_t i = 0; j->opts->forgotten[i]; i++)
		if (!strcmp(j->opts->forgotten[i], id))
			return 1;
	return 0;
}

static int read_manifests(prune_job *j)
{
	cp_names names;
	int rc = cp_names_get(&names, j->repo, CP_DIR_MANIFESTS);
	cp_chunk_loc none = {0, 0, 0, 0};
	for (size_t i = 0; !rc && i < names.n; i++) {
		cp_manifest m;
		if (forgotten(j, names.names[i]))
			continue;
		rc = cp_repo_manifest_load(j->repo, names.names[i], 0, 0, &m);
		if (rc) {
			rc = cp_error_prefix(rc, "prune stops without deleting anything: ");
			break;
		}
		for (uint64_t k = 0; !rc && k < m.nchunks; k++)
			rc = cp_index_table_insert(&j->used, m.map[k].id, &none, NULL, NULL);
		cp_manifest_dispose(&m);
	}
	cp_names_dispose(&names);
	return rc;
}

typedef struct {
	prune_job *j;
	size_t cap;
} listing;

static int collect_pack(const char *key, const cp_object_info *info, void *payload)
{
	listing *l = payload;
	cp_names *d = &l->j->data;
	const char *name = strrchr(key, '/');
	name = name ? name + 1 : key;
	if (!cp_is_hex_id(name))
		return 0;
	if (d->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(d->names, cap * sizeof(*d->names));
		if (p)
			d->names = p;
		void *q = realloc(d->sizes, cap * sizeof(*d->sizes));
		if (q)
			d->sizes = q;
		void *r = realloc(l->j->data_info, cap * sizeof(*l->j->data_info));
		if (r)
			l->j->data_info = r;
		if (!p || !q || !r)
			return cp_error_oom();
		l->cap = d->cap = cap;
	}
	memcpy(d->names[d->n], name, CP_HEX_ID_LEN + 1);
	d->sizes[d->n] = info->size;
	l->j->data_info[d->n] = *info;
	d->n++;
	return 0;
}

/* The packs in the store, with their age and class (which decide early deletion). */
static int list_packs(prune_job *j)
{
	listing l = {j, 0};
	int rc = cp_objstore_list(j->repo->store, CP_DIR_DATA "/", collect_pack, &l);
	return rc ? cp_error_prefix(rc, "listing %s/: ", CP_DIR_DATA) : 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	return x->e.offset < y->e.offset ? -1 : x->e.offset > y->e.offset;
}

typedef struct {
	double fill; /* referenced bytes / pack size */
	uint32_t pack;
} rank;

static int cmp_fullest(const void *a, const void *b)
{
	const rank *x = a, *y = b;
	if (x->fill != y->fill)
		return x->fill > y->fill ? -1 : 1;
	return x->pack < y->pack ? -1 : x->pack > y->pack;
}

/* 1 when key sits in an archive storage class, where reading it needs a thaw. */
static int archived(prune_job *j, const char *key)
{
	cp_object_info info;
	if (!j->repo->config.storage_class[0])
		return 0;
	if (cp_objstore_head(j->repo->store, key, &info)) {
		cp_error_clear();
		return 0;
	}
	return info.archived;
}

static int decide(prune_job *j)
{
	size_t np = j->packs.npacks;
	j->ps = calloc(np ? np : 1, sizeof(*j->ps));
	rank *order = malloc((np ? np : 1) * sizeof(*order));
	if (!j->ps || !order) {
		free(order);
		return cp_error_oom();
	}
	if (j->nentries)
		qsort(j->entries, j->nentries, sizeof(*j->entries), cmp_entry);
	for (size_t k = 0; k < j->nentries;) {
		pack_state *p = &j->ps[j->entries[k].pack];
		p->first = k;
		while (k < j->nentries && &j->ps[j->entries[k].pack] == p) {
			p->n++;
			p->blobs += j->entries[k].e.length;
			if (cp_index_table_find(&j->used, j->entries[k].e.id))
				p->referenced += j->entries[k].e.length;
			k++;
		}
	}
	for (size_t n = 0; n < np; n++) {
		pack_state *p = &j->ps[n];
		p->size = j->packs.packs[n].size;
		order[n].pack = (uint32_t)n;
		order[n].fill = p->size ? (double)p->referenced / (double)p->size : 0;
	}
	/* Claim each referenced chunk once, in the fullest pack holding it. */
	if (np)
		qsort(order, np, sizeof(*order), cmp_fullest);
	cp_index_table claimed;
	int rc = cp_index_table_init(&claimed);
	cp_chunk_loc none = {0, 0, 0, 0};
	for (size_t o = 0; !rc && o < np; o++) {
		pack_state *p = &j->ps[order[o].pack];
		for (size_t k = p->first; !rc && k < p->first + p->n; k++) {
			entry *e = &j->entries[k];
			int fresh = 0;
			if (!cp_index_table_find(&j->used, e->e.id))
				continue;
			rc = cp_index_table_insert(&claimed, e->e.id, &none, NULL, &fresh);
			if (fresh) {
				e->needed = 1;
				p->used += e->e.length;
			}
		}
	}
	cp_index_table_dispose(&claimed);
	free(order);
	/* The store's listing says which indexed packs exist and which are leftovers. */
	for (size_t i = 0; !rc && i < j->data.n; i++) {
		uint8_t id[CP_ID_LEN];
		cp_hex_decode(id, j->data.names[i], CP_ID_LEN);
		uint32_t n = cp_index_table_pack_number(&j->packs, id);
		if (n != CP_PACK_NONE) {
			j->ps[n].listed = 1;
			j->ps[n].listing = i;
		}
	}
	for (size_t n = 0; n < np; n++) {
		pack_state *p = &j->ps[n];
		if (!p->used)
			p->fate = DELETE;
		else if (p->used * 100 < p->blobs * REPACK_BELOW_PERCENT && p->listed)
			p->fate = REPACK;
		else
			p->fate = KEEP;
		if (p->fate != KEEP && p->listed) {
			char key[CP_KEY_MAX], hex[CP_HEX_ID_LEN + 1];
			cp_hex_encode(hex, j->packs.packs[n].id, CP_ID_LEN);
			cp_repo_key(key, CP_DIR_DATA, hex);
			/* Locked or too young: keep it indexed; a later prune removes it.
			 * Archived and partly used: repacking would read it, which needs
			 * a thaw; keep it until no backup needs any of it, then it goes
			 * whole, unread. */
			if (cp_prune_hold_pack(&j->hold, key, &j->data_info[p->listing]) ||
			    (p->fate == REPACK && archived(j, key)))
				p->fate = KEEP;
		}
	}
	return rc;
}

static void pack_key(prune_job *j, uint32_t n, char key[CP_KEY_MAX], char hex[CP_HEX_ID_LEN + 1])
{
	cp_hex_encode(hex, j->packs.packs[n].id, CP_ID_LEN);
	cp_repo_key(key, CP_DIR_DATA, hex);
}

static int repack(prune_job *j, cp_packer *packer)
{
	/* A cancel from the caller's callback stops between packs as well as in a transfer. */
	cp_chunk_coder coder;
	cp_buf data = CP_BUF_INIT, plain = CP_BUF_INIT;
	int rc = cp_chunk_coder_init(&coder, j->repo);
	for (uint32_t n = 0; !rc && n < j->packs.npacks && !cp_failure_get(&j->failure); n++) {
		pack_state *p = &j->ps[n];
		if (p->fate != REPACK)
			continue;
		char key[CP_KEY_MAX], hex[CP_HEX_ID_LEN + 1];
		pack_key(j, n, key, hex);
		rc = cp_objstore_get(j->repo->store, key, 0, 0, &data);
		if (!rc && data.size != p->size)
			rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
					  "pack %s is %zu bytes but indexed as %llu", hex,
					  data.size, (unsigned long long)p->size);
		for (size_t k = p->first; !rc && k < p->first + p->n; k++) {
			const entry *e = &j->entries[k];
			if (!e->needed)
				continue;
			const char *blob = data.ptr + e->e.offset;
			/* Verify before copying, so that damage is not spread. */
			rc = cp_chunk_open(&coder, e->e.id, blob, e->e.length, e->e.raw_length,
					   &plain);
			if (!rc)
				rc = cp_packer_add(packer, e->e.id, blob, e->e.length,
						   e->e.raw_length);
		}
		if (rc) {
			rc = cp_error_prefix(rc, "repacking %s: ", key);
			break;
		}
		j->stats->packs_rewritten++;
		atomic_fetch_add(&j->done, p->size);
	}
	cp_buf_dispose(&data);
	cp_buf_dispose(&plain);
	cp_chunk_coder_dispose(&coder);
	return rc;
}

/* Repack, then the new packs' index, on a worker watching the job's stop flag. */
static int repack_worker(void *arg, unsigned int index)
{
	prune_job *j = arg;
	(void)index;
	int rc = repack(j, j->packer);
	if (!rc)
		rc = cp_failure_get(&j->failure);
	atomic_store(&j->finishing, 1);
	return rc ? rc : cp_packer_finish(j->packer);
}

/* One index of every kept pack with all its entries. */
static int write_compacted_index(prune_job *j, char name[CP_HEX_ID_LEN + 1])
{
	size_t nk = 0;
	for (size_t n = 0; n < j->packs.npacks; n++)
		nk += j->ps[n].fate == KEEP;
	name[0] = '\0';
	if (!nk)
		return 0;
	cp_index_pack *v = calloc(nk, sizeof(*v));
	cp_pack_entry *ents = malloc((j->nentries ? j->nentries : 1) * sizeof(*ents));
	int rc = v && ents ? 0 : cp_error_oom();
	size_t k = 0, used = 0;
	for (size_t n = 0; !rc && n < j->packs.npacks; n++) {
		const pack_state *p = &j->ps[n];
		if (p->fate != KEEP)
			continue;
		memcpy(v[k].id, j->packs.packs[n].id, CP_ID_LEN);
		v[k].size = p->size;
		v[k].entries = ents + used;
		for (size_t e = p->first; e < p->first + p->n; e++)
			ents[used++] = j->entries[e].e;
		v[k].n = p->n;
		k++;
	}
	cp_codec codec;
	cp_buf obj = CP_BUF_INIT;
	if (!rc)
		rc = cp_repo_codec(j->repo, &codec);
	if (!rc) {
		rc = cp_index_object_encode(&codec, v, nk, &obj);
		cp_codec_dispose(&codec);
	}
	if (!rc)
		rc = cp_repo_put_named(j->repo, CP_DIR_INDEX, obj.ptr, obj.size, name);
	cp_buf_dispose(&obj);
	free(v);
	free(ents);
	return rc;
}

static int remove_object(prune_job *j, const char *key, int *locked)
{
	int rc = cp_objstore_remove(j->repo->store, key);
	*locked = 0;
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		return 0;
	}
	if (rc == CP_ELOCKED) {
		/* Still under retention: a later prune removes it. */
		cp_log(j->repo->ctx, CP_LOG_INFO, "%s is locked until its retention ends; kept",
		       key);
		cp_error_clear();
		*locked = 1;
		return 0;
	}
	return rc ? cp_error_prefix(rc, "removing '%s': ", key) : 0;
}

/* Leftover packs (in no index) that must stay for now; j->data_held[i]. */
static int hold_leftovers(prune_job *j)
{
	j->data_held = calloc(j->data.n ? j->data.n : 1, 1);
	if (!j->data_held)
		return cp_error_oom();
	for (size_t i = 0; i < j->data.n; i++) {
		char key[CP_KEY_MAX];
		uint8_t id[CP_ID_LEN];
		cp_hex_decode(id, j->data.names[i], CP_ID_LEN);
		if (cp_index_table_pack_number(&j->packs, id) != CP_PACK_NONE)
			continue;
		cp_repo_key(key, CP_DIR_DATA, j->data.names[i]);
		j->data_held[i] = (char)cp_prune_hold_pack(&j->hold, key, &j->data_info[i]);
	}
	return 0;
}

/*
 * Unfinished uploads of killed backups: invisible, billed. Only under the
 * directories we stream into, so that a repository at a bucket's root
 * leaves other applications' uploads alone. Not fatal: prune's work is done.
 */
static void abort_stale_uploads(prune_job *j)
{
	static const char *const dirs[] = {CP_DIR_DATA "/", CP_DIR_INDEX "/", CP_DIR_MANIFESTS "/"};
	const cp_prune_options *o = j->opts;
	if (o->dry_run || o->stale_upload_age < 0)
		return;
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		uint64_t n = 0;
		rc = cp_objstore_abort_stale_uploads(j->repo->store, dirs[i],
						     j->hold.now - o->stale_upload_age, &n);
		j->stats->uploads_aborted += n;
	}
	if (rc) {
		cp_log(j->repo->ctx, CP_LOG_WARN,
		       "prune could not abort stale unfinished uploads (they stay billed until a "
		       "later prune or a bucket lifecycle rule removes them): %s",
		       cp_error_last() ? cp_error_last()->message : "unknown error");
		cp_error_clear();
	} else if (j->stats->uploads_aborted) {
		cp_log(j->repo->ctx, CP_LOG_INFO,
		       "prune: aborted %llu unfinished upload(s) older than %lld s left by killed "
		       "writers",
		       (unsigned long long)j->stats->uploads_aborted,
		       (long long)o->stale_upload_age);
	}
}

static int prune_run(cp_repository *repo, const cp_prune_options *opts, cp_prune_stats *stats);

int cp_prune(cp_repository *repo, const cp_prune_options *opts, cp_prune_stats *stats_out)
{
	cp_prune_options o = CP_PRUNE_OPTIONS_INIT;
	cp_prune_stats stats;
	memset(&stats, 0, sizeof(stats));
	if (opts && (opts->version < 1 || opts->version > CP_PRUNE_OPTIONS_VERSION))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_prune_options version %u is not supported (this library "
				    "knows 1 to %u)",
				    opts->version, CP_PRUNE_OPTIONS_VERSION);
	/* Version 1 callers get the defaults of the fields appended since. */
	if (opts)
		memcpy(&o, opts,
		       opts->version >= 2 ? sizeof(o) : offsetof(cp_prune_options, early_delete));
	o.version = CP_PRUNE_OPTIONS_VERSION;
	int rc = prune_run(repo, &o, &stats);
	/* A version 1 caller's stats end before the fields appended since. */
	if (stats_out)
		memcpy(stats_out, &stats,
		       !opts || opts->version >= 2 ? sizeof(stats)
						   : offsetof(cp_prune_stats, bytes_kept_locked));
	return rc;
}

static int prune_run(cp_repository *repo, const cp_prune_options *opts, cp_prune_stats *stats)
{
	prune_job j;
	memset(&j, 0, sizeof(j));
	j.repo = repo;
	j.opts = opts;
	j.stats = stats;
	cp_prune_hold_init(&j.hold, repo, opts, stats);
	cp_failure_init(&j.failure);
	cp_repo_lock *lock = NULL;
	cp_packer *packer = NULL;
	int rc = cp_index_table_init(&j.packs);
	if (!rc)
		rc = cp_index_table_init(&j.used);
	if (!rc)
		rc = cp_repo_lock_acquire(&lock, repo, 1, "prune");
	if (!rc)
		rc = read_indexes(&j);
	/* List packs after reading indexes: a pack listed but in no index is a leftover. */
	if (!rc)
		rc = list_packs(&j);
	if (!rc)
		rc = read_manifests(&j);
	if (!rc)
		rc = decide(&j);
	if (!rc)
		rc = hold_leftovers(&j);

	size_t nrepack = 0, ndelete = 0, ndrop = 0;
	uint64_t freed = 0;
	for (size_t n = 0; !rc && n < j.packs.npacks; n++) {
		ndrop += j.ps[n].fate != KEEP;
		if (j.ps[n].fate == REPACK) {
			nrepack++;
			j.total += j.ps[n].size;
		}
		if (j.ps[n].fate != KEEP && j.ps[n].listed) {
			ndelete++;
			freed += j.ps[n].size;
		}
	}
	size_t leftovers = 0;
	for (size_t i = 0; !rc && i < j.data.n; i++) {
		uint8_t id[CP_ID_LEN];
		cp_hex_decode(id, j.data.names[i], CP_ID_LEN);
		if (cp_index_table_pack_number(&j.packs, id) == CP_PACK_NONE && !j.data_held[i]) {
			leftovers++;
			freed += j.data.sizes[i];
		}
	}
	if (!rc)
		cp_log(repo->ctx, CP_LOG_INFO,
		       "prune: %zu packs in indexes, %zu to delete, %zu to repack, %zu "
		       "leftovers%s",
		       j.packs.npacks, ndelete - nrepack, nrepack, leftovers,
		       opts->dry_run ? " (dry run)" : "");
	/* The last moment to cancel before the repository changes. */
	if (!rc && !opts->dry_run)
		rc = progress_tick(&j);
	if (!rc && opts->dry_run) {
		stats->packs_removed = ndelete + leftovers;
		stats->packs_rewritten = nrepack;
		stats->bytes_freed = freed;
		stats->indexes_removed = ndelete || nrepack ? j.index_names.n : 0;
	} else if (!rc && (ndrop || leftovers)) {
		int changed = ndrop > 0;
		cp_packer_stats ps;
		memset(&ps, 0, sizeof(ps));
		char compact[CP_HEX_ID_LEN + 1] = "";
		if (nrepack) {
			rc = cp_packer_new(&packer, repo);
			j.packer = packer;
			if (!rc)
				rc = cp_workers_run(1, repack_worker, progress_tick, &j,
						    &j.failure);
			if (!rc)
				cp_packer_get_stats(packer, &ps);
		}
		if (!rc && changed)
			rc = write_compacted_index(&j, compact);
		size_t indexes_left = 0;
		for (size_t i = 0; !rc && changed && i < j.index_names.n; i++) {
			char key[CP_KEY_MAX];
			int locked;
			if (!strcmp(j.index_names.names[i], compact))
				continue;
			cp_repo_key(key, CP_DIR_INDEX, j.index_names.names[i]);
			int64_t until;
			if (cp_prune_hold_locked(&j.hold, key, &until))
				locked = 1;
			else
				rc = remove_object(&j, key, &locked);
			if (!rc && !locked)
				stats->indexes_removed++;
			indexes_left += locked;
		}
		if (indexes_left)
			cp_log(repo->ctx, CP_LOG_INFO,
			       "%zu old index(es) are still retained; the packs they may name are "
			       "kept until a later prune",
			       indexes_left);
		for (size_t n = 0; !rc && !indexes_left && n < j.packs.npacks; n++) {
			char key[CP_KEY_MAX], hex[CP_HEX_ID_LEN + 1];
			int locked;
			if (j.ps[n].fate == KEEP || !j.ps[n].listed)
				continue;
			pack_key(&j, (uint32_t)n, key, hex);
			rc = remove_object(&j, key, &locked);
			if (locked)
				stats->packs_kept_locked++;
			else if (!rc) {
				stats->packs_removed++;
				stats->bytes_freed += j.ps[n].size;
			}
		}
		for (size_t i = 0; !rc && i < j.data.n; i++) {
			char key[CP_KEY_MAX];
			uint8_t id[CP_ID_LEN];
			int locked;
			cp_hex_decode(id, j.data.names[i], CP_ID_LEN);
			if (cp_index_table_pack_number(&j.packs, id) != CP_PACK_NONE ||
			    j.data_held[i])
				continue;
			cp_repo_key(key, CP_DIR_DATA, j.data.names[i]);
			rc = remove_object(&j, key, &locked);
			if (locked)
				stats->packs_kept_locked++;
			else if (!rc) {
				stats->packs_removed++;
				stats->bytes_freed += j.data.sizes[i];
			}
		}
		if (stats->bytes_freed >= ps.stored_bytes)
			stats->bytes_freed -= ps.stored_bytes;
		if (!rc)
			rc = cp_repo_index_refresh(repo);
	}
	if (!rc)
		abort_stale_uploads(&j);
	if (!rc)
		cp_prune_hold_report(&j.hold);
	if (!rc)
		cp_log(repo->ctx, CP_LOG_INFO,
		       "prune: removed %llu packs (%llu rewritten), freed %llu bytes",
		       (unsigned long long)stats->packs_removed,
		       (unsigned long long)stats->packs_rewritten,
		       (unsigned long long)stats->bytes_freed);
	cp_error_saved saved;
	cp_error_save(&saved);
	cp_packer_free(packer);
	cp_repo_lock_release(lock);
	cp_index_table_dispose(&j.packs);
	cp_index_table_dispose(&j.used);
	cp_names_dispose(&j.index_names);
	cp_names_dispose(&j.data);
	free(j.data_info);
	free(j.data_held);
	cp_prune_hold_dispose(&j.hold);
	cp_failure_dispose(&j.failure);
	free(j.entries);
	free(j.ps);
	cp_error_restore(&saved);
	return rc;
}
