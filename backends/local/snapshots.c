/* Listing, looking up, deleting, copying and reading snapshots. */
#include "error.h"
#include "fs.h"
#include "local_cloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	local_snapshot *items;
	size_t count;
} snapshot_set;

static void set_dispose(snapshot_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		local_snapshot_dispose(&set->items[i]);
	free(set->items);
}

static int by_time(const void *a, const void *b)
{
	const local_snapshot *x = a, *y = b;
	if (x->created_ns != y->created_ns)
		return x->created_ns < y->created_ns ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int matches(const local_snapshot *s, const char *resource_id, local_kind kind)
{
	if (!resource_id)
		return 1;
	switch (kind) {
	case LOCAL_INSTANCE: return s->instance_id && !strcmp(s->instance_id, resource_id);
	case LOCAL_DISK: return !strcmp(s->disk_id, resource_id);
	case LOCAL_SNAPSHOT: return !strcmp(s->id, resource_id);
	}
	return 0;
}

/* Snapshots of the resource (all when NULL), oldest first. */
static int load_matching(snapshot_set *set, const local_cloud *cloud, const char *resource_id)
{
	local_kind kind = LOCAL_DISK;
	char **ids = NULL;
	size_t nids = 0;
	memset(set, 0, sizeof(*set));
	int rc = resource_id ? local_id_kind(&kind, resource_id) : 0;
	if (!rc)
		rc = local_list_ids(&ids, &nids, cloud, LOCAL_SNAPSHOT);
	if (!rc && !(set->items = calloc(nids ? nids : 1, sizeof(*set->items))))
		rc = cp_error_oom();
	for (size_t i = 0; !rc && i < nids; i++) {
		local_snapshot *s = &set->items[set->count];
		rc = local_snapshot_load(s, cloud, ids[i]);
		if (rc == CP_ENOTFOUND) { /* deleted since we listed it */
			rc = 0;
			continue;
		}
		if (!rc && matches(s, resource_id, kind))
			set->count++;
		else if (!rc)
			local_snapshot_dispose(s);
	}
	local_ids_free(ids, nids);
	if (rc)
		set_dispose(set);
	else if (set->count)
		qsort(set->items, set->count, sizeof(*set->items), by_time);
	return rc;
}

int local_snapshot_list(void *state, const char *resource_id, cp_snapshot_cb cb, void *payload)
{
	local_cloud *cloud = state;
	snapshot_set set;
	int rc = local_require_init(cloud);
	if (!rc)
		rc = load_matching(&set, cloud, resource_id && *resource_id ? resource_id : NULL);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && cb && i < set.count; i++) {
		cp_snapshot pub;
		local_snapshot_to_public(&pub, &set.items[i]);
		rc = cb(&pub, payload);
	}
	set_dispose(&set);
	return rc;
}

int local_snapshot_get(void *state, const char *snapshot_id, cp_snapshot_cb cb, void *payload)
{
	local_cloud *cloud = state;
	local_snapshot rec;
	int rc = local_require_init(cloud);
	if (!rc)
		rc = local_snapshot_load(&rec, cloud, snapshot_id);
	if (rc)
		return rc;
	cp_snapshot pub;
	local_snapshot_to_public(&pub, &rec);
	rc = cb ? cb(&pub, payload) : 0;
	local_snapshot_dispose(&rec);
	return rc;
}

/* Lock a snapshot and make sure its record is still there. */
static int lock_existing(local_lock *lock, local_snapshot *rec, const local_cloud *cloud,
			 const char *id, int exclusive)
{
	int rc = local_require_init(cloud);
	if (!rc)
		rc = local_id_check(id, LOCAL_SNAPSHOT);
	if (!rc)
		rc = local_lock_take(lock, cloud, LOCAL_SNAPSHOT, id, exclusive, 0);
	if (rc)
		return rc;
	rc = local_snapshot_load(rec, cloud, id);
	if (rc)
		local_lock_release(lock);
	return rc;
}

int local_snapshot_delete(void *state, const char *snapshot_id)
{
	local_cloud *cloud = state;
	local_lock lock = LOCAL_LOCK_INIT;
	local_snapshot rec;
	int rc = lock_existing(&lock, &rec, cloud, snapshot_id, 1);
	if (rc)
		return rc;
	local_snapshot_dispose(&rec);
	/* The record goes first: without it, the snapshot is gone for everyone. */
	static const char *const exts[] = {".json", ".img", ".cbt"};
	for (size_t i = 0; !rc && i < sizeof(exts) / sizeof(exts[0]); i++) {
		char *path = local_path(cloud, LOCAL_SNAPSHOT, snapshot_id, exts[i]);
		if (!path)
			rc = cp_error_oom();
		else if (unlink(path) && (i == 0 || errno != ENOENT))
			rc = cp_error_set_os(CP_EIO, errno, "cannot delete '%s'", path);
		if (!rc && i == 0)
			cp_fs_fsync_parent(path);
		free(path);
	}
	if (!rc)
		local_lock_remove(&lock);
	local_lock_release(&lock);
	return rc;
}

static const char *const data_exts[] = {".img", ".cbt"};

static void remove_data_files(const local_cloud *cloud, const char *id)
{
	for (size_t i = 0; i < 2; i++) {
		char *path = local_path(cloud, LOCAL_SNAPSHOT, id, data_exts[i]);
		if (path)
			unlink(path);
		free(path);
	}
}

static int copy_data_files(const local_cloud *cloud, const local_snapshot *from, const char *to_id)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < 2; i++) {
		char *src = local_path(cloud, LOCAL_SNAPSHOT, from->id, data_exts[i]);
		char *dst = local_path(cloud, LOCAL_SNAPSHOT, to_id, data_exts[i]);
		uint64_t size =
			i ? LOCAL_CBT_HEADER_SIZE + 8 * local_blocks_for(from->size) : from->size;
		rc = src && dst ? local_copy_file(src, dst, size, LOCAL_COPY_AUTO) : cp_error_oom();
		free(src);
		free(dst);
	}
	if (rc)
		remove_data_files(cloud, to_id);
	return rc;
}

static int make_copy_record(local_snapshot *out, const local_snapshot *from, const char *id,
			    const char *region)
{
	memset(out, 0, sizeof(*out));
	out->id = strdup(id);
	out->disk_id = strdup(from->disk_id);
	out->instance_id = from->instance_id ? strdup(from->instance_id) : NULL;
	out->region = strdup(region);
	out->description = from->description ? strdup(from->description) : NULL;
	out->copied_from = strdup(from->id);
	out->size = from->size;
	out->created_ns = local_now_ns();
	out->created = out->created_ns / 1000000000;
	/* Same bytes and same map: the copy stays in the disk's lineage. */
	out->generation = from->generation;
	out->tracking_epoch = from->tracking_epoch;
	out->tracking_valid = from->tracking_valid;
	if (!out->id || !out->disk_id || !out->region || !out->copied_from ||
	    (from->instance_id && !out->instance_id) || (from->description && !out->description))
		return cp_error_oom();
	return local_tags_copy(&out->tags, from->tags.items, from->tags.count);
}

int local_snapshot_copy(void *state, const char *snapshot_id, const char *region, cp_snapshot_cb cb,
			void *payload)
{
	local_cloud *cloud = state;
	if (!region || !*region || strchr(region, '/'))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "'%s' is not a region name; name the target region, e.g. "
				    "local-2",
				    region ? region : "(null)");
	local_lock lock = LOCAL_LOCK_INIT, new_lock = LOCAL_LOCK_INIT;
	local_snapshot from, copy = {0};
	char id[LOCAL_ID_LEN];
	/* Shared: the source cannot be deleted while we read it. */
	int rc = lock_existing(&lock, &from, cloud, snapshot_id, 0);
	if (rc)
		return rc;
	rc = local_id_new(id, LOCAL_SNAPSHOT);
	if (!rc)
		rc = make_copy_record(&copy, &from, id, region);
	if (!rc)
		rc = copy_data_files(cloud, &from, id);
	if (!rc) {
		rc = local_lock_take(&new_lock, cloud, LOCAL_SNAPSHOT, id, 1, 1);
		if (!rc)
			rc = local_snapshot_save(cloud, &copy);
		if (rc) {
			local_lock_remove(&new_lock);
			remove_data_files(cloud, id);
		}
		local_lock_release(&new_lock);
	}
	local_lock_release(&lock);
	local_snapshot_dispose(&from);
	if (!rc && cb) {
		cp_snapshot pub;
		local_snapshot_to_public(&pub, &copy);
		rc = cb(&pub, payload);
	}
	local_snapshot_dispose(&copy);
	return rc;
}

int local_snapshot_open(void *state, const char *snapshot_id, cp_block_reader **out)
{
	local_cloud *cloud = state;
	local_lock lock = LOCAL_LOCK_INIT;
	local_snapshot rec;
	*out = NULL;
	/* Held only while opening: an open file stays readable after a delete. */
	int rc = lock_existing(&lock, &rec, cloud, snapshot_id, 0);
	if (rc)
		return rc;
	char *img = local_path(cloud, LOCAL_SNAPSHOT, snapshot_id, ".img");
	rc = img ? cp_block_reader_open_file(out, img) : cp_error_oom();
	if (!rc && cp_block_reader_size(*out) != rec.size) {
		cp_block_reader_free(*out);
		*out = NULL;
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
				  "the image of snapshot '%s' ('%s') is not %llu bytes long as "
				  "recorded; it was changed outside the provider, delete the "
				  "snapshot and take a new one",
				  snapshot_id, img, (unsigned long long)rec.size);
	}
	free(img);
	local_snapshot_dispose(&rec);
	local_lock_release(&lock);
	return rc;
}
