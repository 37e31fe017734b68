/*
 * Changed blocks between two snapshots of one disk, as EBS
 * ListChangedBlocks gives them: sorted, adjacent blocks merged, in pages.
 * Both generation maps are streamed, never held whole, so a 16 TiB disk
 * costs the same memory as a small one.
 */
#include "error.h"
#include "local_cloud.h"

#include <stdlib.h>
#include <string.h>

#define RANGES_PER_PAGE 1000 /* as an EBS ListChangedBlocks page */
#define BLOCKS_PER_READ 8192

typedef struct {
	cp_block_range page[RANGES_PER_PAGE];
	size_t count;
	uint64_t disk_size;
	uint64_t run_first, run_end; /* pending run of changed blocks, [first, end) */
	cp_block_range_cb cb;
	void *payload;
} range_pager;

static int flush_page(range_pager *p)
{
	int rc = p->count ? p->cb(p->page, p->count, p->payload) : 0;
	p->count = 0;
	return rc;
}

static int close_run(range_pager *p)
{
	if (p->run_end == p->run_first)
		return 0;
	uint64_t offset = p->run_first * LOCAL_BLOCK_SIZE;
	uint64_t end = p->run_end * LOCAL_BLOCK_SIZE;
	if (end > p->disk_size)
		end = p->disk_size; /* the last block may be short */
	p->page[p->count].offset = offset;
	p->page[p->count].length = end - offset;
	p->run_first = p->run_end = 0;
	return ++p->count == RANGES_PER_PAGE ? flush_page(p) : 0;
}

static int add_block(range_pager *p, uint64_t block)
{
	if (p->run_end != p->run_first && p->run_end == block) {
		p->run_end++;
		return 0;
	}
	int rc = close_run(p);
	p->run_first = block;
	p->run_end = block + 1;
	return rc;
}

static int check_pair(const local_snapshot *base, const local_snapshot *snap)
{
	if (strcmp(base->disk_id, snap->disk_id))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_PROVIDER,
				    "snapshots '%s' (of disk '%s') and '%s' (of disk '%s') are of "
				    "different disks; changed blocks are listed only between two "
				    "snapshots of the same disk",
				    base->id, base->disk_id, snap->id, snap->disk_id);
	const local_snapshot *bad = !base->tracking_valid   ? base
				    : !snap->tracking_valid ? snap
							    : NULL;
	if (bad)
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
				    "disk '%s' was modified outside the provider before snapshot "
				    "'%s' was taken, so its changed blocks are unknown; read the "
				    "whole snapshot instead",
				    bad->disk_id, bad->id);
	if (base->tracking_epoch != snap->tracking_epoch)
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
				    "disk '%s' was modified outside the provider between "
				    "snapshots '%s' and '%s', so the changed blocks are unknown; "
				    "read the whole snapshot '%s' instead",
				    snap->disk_id, base->id, snap->id, snap->id);
	if (base->generation > snap->generation)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_PROVIDER,
				    "base snapshot '%s' is newer than snapshot '%s'; give the "
				    "older snapshot as the base",
				    base->id, snap->id);
	if (base->size != snap->size)
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
				    "snapshots '%s' and '%s' of disk '%s' differ in size (%llu and "
				    "%llu bytes); their records are damaged",
				    base->id, snap->id, snap->disk_id,
				    (unsigned long long)base->size, (unsigned long long)snap->size);
	return 0;
}

static int open_map(local_cbt *cbt, const local_cloud *cloud, const local_snapshot *s)
{
	char *path = local_path(cloud, LOCAL_SNAPSHOT, s->id, ".cbt");
	int rc = path ? local_cbt_open(cbt, path, 0) : cp_error_oom();
	if (!rc && cbt->nblocks != local_blocks_for(s->size)) {
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
				  "generation map '%s' covers %llu blocks but snapshot '%s' has "
				  "%llu; read the whole snapshot instead",
				  path, (unsigned long long)cbt->nblocks, s->id,
				  (unsigned long long)local_blocks_for(s->size));
		local_cbt_close(cbt);
	}
	free(path);
	return rc;
}

static int compare_maps(range_pager *p, local_cbt *a, local_cbt *b)
{
	uint64_t *ga = malloc(BLOCKS_PER_READ * sizeof(*ga));
	uint64_t *gb = malloc(BLOCKS_PER_READ * sizeof(*gb));
	int rc = ga && gb ? 0 : cp_error_oom();
	for (uint64_t first = 0; !rc && first < a->nblocks; first += BLOCKS_PER_READ) {
		uint64_t n = a->nblocks - first;
		if (n > BLOCKS_PER_READ)
			n = BLOCKS_PER_READ;
		rc = local_cbt_read(a, first, n, ga);
		if (!rc)
			rc = local_cbt_read(b, first, n, gb);
		for (uint64_t i = 0; !rc && i < n; i++)
			if (ga[i] != gb[i])
				rc = add_block(p, first + i);
	}
	if (!rc)
		rc = close_run(p);
	if (!rc)
		rc = flush_page(p);
	free(ga);
	free(gb);
	return rc;
}

int local_changed_blocks(void *state, const char *base_snapshot_id, const char *snapshot_id,
			 cp_block_range_cb cb, void *payload)
{
	local_cloud *cloud = state;
	local_snapshot base = {0}, snap = {0};
	int rc = local_require_init(cloud);
	if (!rc && !cb)
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				  "no callback given to receive the changed blocks");
	if (!rc)
		rc = local_snapshot_load(&base, cloud, base_snapshot_id);
	if (!rc)
		rc = local_snapshot_load(&snap, cloud, snapshot_id);
	if (!rc)
		rc = check_pair(&base, &snap);
	local_cbt a = {.fd = -1}, b = {.fd = -1};
	if (!rc)
		rc = open_map(&a, cloud, &base);
	if (!rc)
		rc = open_map(&b, cloud, &snap);
	range_pager *pager = NULL;
	if (!rc && !(pager = calloc(1, sizeof(*pager))))
		rc = cp_error_oom();
	if (!rc) {
		pager->disk_size = snap.size;
		pager->cb = cb;
		pager->payload = payload;
		rc = compare_maps(pager, &a, &b);
	}
	free(pager);
	local_cbt_close(&a);
	local_cbt_close(&b);
	local_snapshot_dispose(&base);
	local_snapshot_dispose(&snap);
	return rc;
}
