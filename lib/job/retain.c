/*
 * Immutability across deduplication: a backup reuses packs that older
 * backups wrote, whose locks may end before this backup's retention does.
 * Before a backup's manifest appears, every pack it references (and the
 * config and keys that any restore needs) is locked at least until the
 * backup's (or copy's) start plus the repository's immutable days. Packs
 * written since then already carry that lock, so only older ones are
 * extended.
 */
#include "ctx.h"
#include "error.h"
#include "format/bytes.h"
#include "job.h"

#include <stdlib.h>
#include <string.h>

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, CP_ID_LEN);
}

int cp_job_referenced_packs(cp_repository *repo, const cp_manifest *m, uint8_t (**out)[CP_ID_LEN],
			    size_t *n_out)
{
	uint8_t(*ids)[CP_ID_LEN] = malloc((m->nchunks ? m->nchunks : 1) * CP_ID_LEN);
	if (!ids)
		return cp_error_oom();
	size_t n = 0;
	for (uint64_t i = 0; i < m->nchunks; i++) {
		cp_chunk_loc loc;
		/* Unknown chunks (holes) have no pack. */
		if (!cp_repo_index_lookup(repo, m->map[i].id, &loc, ids[n]))
			n++;
	}
	qsort(ids, n, CP_ID_LEN, cmp_id);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || memcmp(ids[u - 1], ids[i], CP_ID_LEN))
			memmove(ids[u++], ids[i], CP_ID_LEN);
	*out = ids;
	*n_out = u;
	return 0;
}

static int retain_key(cp_repository *repo, const char *key, int64_t until)
{
	int rc = cp_objstore_retain(repo->store, key, until);
	return rc ? cp_error_prefix(rc, "extending the lock of '%s': ", key) : 0;
}

static int retain_keyfile(const char *key, const cp_object_info *info, void *payload)
{
	void **args = payload;
	return retain_key(args[0], key, *(int64_t *)args[1]);
}

int cp_job_retain_backup(cp_repository *repo, const cp_manifest *m, int64_t since)
{
	if (!repo->config.immutable_days)
		return 0;
	int64_t until = since + 86400 * (int64_t)repo->config.immutable_days;
	uint8_t(*ids)[CP_ID_LEN] = NULL;
	size_t n = 0;
	int rc = cp_job_referenced_packs(repo, m, &ids, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		char name[CP_HEX_ID_LEN + 1], key[CP_KEY_MAX];
		cp_hex_encode(name, ids[i], CP_ID_LEN);
		cp_repo_key(key, CP_DIR_DATA, name);
		rc = retain_key(repo, key, until);
	}
	free(ids);
	if (!rc)
		rc = retain_key(repo, "config", until);
	if (rc == CP_EUNSUPPORTED) {
		/* A store that locks only as it writes (table version 1, or no retain). */
		cp_log(repo->ctx, CP_LOG_WARN,
		       "this object store cannot extend locks: packs reused by this backup keep "
		       "the lock they were written with");
		cp_error_clear();
		return 0;
	}
	void *args[2] = {repo, &until};
	if (!rc)
		rc = cp_objstore_list(repo->store, CP_DIR_KEYS "/", retain_keyfile, args);
	if (!rc)
		cp_log(repo->ctx, CP_LOG_DEBUG, "locks of %zu packs, config and keys reach %lld", n,
		       (long long)until);
	return rc;
}
