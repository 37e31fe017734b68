/*
 * cp_backup_rehydrate: thaw the packs of one backup from an archive
 * storage class before a restore. Only packs are ever archived (metadata
 * stays hot), so finding them needs no thaw.
 */
#include "ctx.h"
#include "error.h"
#include "format/bytes.h"
#include "format/lock.h"
#include "format/manifest_io.h"
#include "job.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct pack_state {
	char key[CP_KEY_MAX];
	int archived;
} pack_state;

static int report(const cp_rehydrate_options *o, uint64_t done, uint64_t total)
{
	if (!o->progress_cb)
		return 0;
	cp_progress p = {.phase = "rehydrate", .done = done, .total = total};
	if (o->progress_cb(&p, o->progress_payload))
		return cp_error_set(CP_ECANCELLED, CP_ERRCLASS_CALLBACK,
				    "rehydrate cancelled; the thaws requested so far go on");
	return 0;
}

/* Head every pack still archived; count those that still are. */
static int poll_packs(cp_repository *repo, pack_state *ps, size_t n, uint64_t *archived,
		      uint64_t *bytes)
{
	*archived = 0;
	if (bytes)
		*bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ps[i].archived)
			continue;
		cp_object_info info;
		int rc = cp_objstore_head(repo->store, ps[i].key, &info);
		if (rc)
			return cp_error_prefix(rc, "looking at pack '%s': ", ps[i].key);
		ps[i].archived = info.archived;
		*archived += (uint64_t)info.archived;
		if (bytes && info.archived)
			*bytes += info.size;
	}
	return 0;
}

static int rehydrate_packs(cp_repository *repo, const cp_manifest *m, const cp_rehydrate_options *o,
			   cp_rehydrate_stats *st)
{
	uint8_t(*ids)[CP_ID_LEN] = NULL;
	size_t n = 0;
	int rc = cp_job_referenced_packs(repo, m, &ids, &n);
	if (rc)
		return rc;
	pack_state *ps = calloc(n ? n : 1, sizeof(*ps));
	if (!ps) {
		free(ids);
		return cp_error_oom();
	}
	for (size_t i = 0; i < n; i++) {
		char name[CP_HEX_ID_LEN + 1];
		cp_hex_encode(name, ids[i], CP_ID_LEN);
		cp_repo_key(ps[i].key, CP_DIR_DATA, name);
		ps[i].archived = 1;
	}
	free(ids);
	st->packs = n;
	rc = poll_packs(repo, ps, n, &st->archived, &st->archived_bytes);
	st->still_archived = st->archived;
	if (!rc)
		cp_log(repo->ctx, CP_LOG_INFO, "%llu of %zu packs (%llu bytes) are archived",
		       (unsigned long long)st->archived, n, (unsigned long long)st->archived_bytes);
	const char *tier = o->tier ? o->tier : "Standard";
	unsigned int days = o->days ? o->days : 7;
	for (size_t i = 0; !rc && !o->dry_run && i < n; i++) {
		if (!ps[i].archived)
			continue;
		rc = cp_objstore_rehydrate(repo->store, ps[i].key, tier, days);
		if (rc)
			rc = cp_error_prefix(rc, "requesting a thaw of pack '%s': ", ps[i].key);
		else
			st->requested++;
	}
	if (!rc && !o->dry_run)
		rc = report(o, n - st->still_archived, n);
	while (!rc && !o->dry_run && o->wait && st->still_archived) {
		/* Sleep in short steps so a cancel from the callback is seen soon. */
		unsigned int wait_s = o->poll_seconds ? o->poll_seconds : 60;
		for (unsigned int s = 0; !rc && s < wait_s; s++) {
			sleep(1);
			rc = report(o, n - st->still_archived, n);
		}
		if (!rc)
			rc = poll_packs(repo, ps, n, &st->still_archived, NULL);
		if (!rc)
			rc = report(o, n - st->still_archived, n);
	}
	free(ps);
	return rc;
}

int cp_backup_rehydrate(cp_repository *repo, const char *backup_id,
			const cp_rehydrate_options *opts, cp_rehydrate_stats *stats)
{
	cp_rehydrate_options defaults = CP_REHYDRATE_OPTIONS_INIT;
	cp_rehydrate_stats local;
	if (!opts)
		opts = &defaults;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (opts->version != CP_REHYDRATE_OPTIONS_VERSION)
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"cp_rehydrate_options version %u is not supported (this library "
			"knows %u)",
			opts->version, CP_REHYDRATE_OPTIONS_VERSION);
	char *id = NULL;
	int rc = cp_backup_resolve(&id, repo, backup_id, NULL);
	if (rc)
		return rc;
	cp_manifest m;
	memset(&m, 0, sizeof(m));
	rc = cp_repo_index_refresh(repo);
	if (!rc)
		rc = cp_repo_manifest_load(repo, id, 0, 0, &m);
	if (!rc)
		rc = rehydrate_packs(repo, &m, opts, stats);
	cp_manifest_dispose(&m);
	cp_free(id);
	return rc;
}
