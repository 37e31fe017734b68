/*
 * Instances: records with a name and tags. Which disks an instance has
 * is recorded on the disks (instance_id), one fact in one place, so
 * attaching and detaching rewrites a single record.
 *
 * Lock order, to stay free of deadlocks: an instance before its disks,
 * and disks in id order.
 */
#include "error.h"
#include "fs.h"
#include "local_cloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int local_attached_disks(char ***out, size_t *count, const local_cloud *cloud,
			 const char *instance_id)
{
	*out = NULL;
	*count = 0;
	local_disk *disks = NULL;
	size_t ndisks = 0, n = 0;
	int rc = local_load_disks(&disks, &ndisks, cloud);
	if (rc)
		return rc;
	char **ids = calloc(ndisks ? ndisks : 1, sizeof(*ids));
	if (!ids)
		rc = cp_error_oom();
	for (size_t i = 0; !rc && i < ndisks; i++) {
		if (!disks[i].instance_id || strcmp(disks[i].instance_id, instance_id))
			continue;
		/* Steal the id: the records are freed below. */
		ids[n++] = disks[i].id;
		disks[i].id = NULL;
	}
	local_disks_free(disks, ndisks);
	if (rc) {
		local_ids_free(ids, n);
		return rc;
	}
	*out = ids;
	*count = n;
	return 0;
}

int local_lock_instance_for_attach(local_lock *lock, const local_cloud *cloud,
				   const char *instance_id)
{
	int rc = local_id_check(instance_id, LOCAL_INSTANCE);
	if (!rc)
		rc = local_lock_take(lock, cloud, LOCAL_INSTANCE, instance_id, 0, 0);
	if (rc)
		return cp_error_prefix(rc, "cannot attach to instance: ");
	local_instance rec;
	rc = local_instance_load(&rec, cloud, instance_id);
	if (rc) {
		local_lock_release(lock);
		return cp_error_prefix(rc, "cannot attach to instance: ");
	}
	local_instance_dispose(&rec);
	return 0;
}

int cp_local_instance_create(char **id_out, cp_provider *provider, const char *name,
			     const cp_tag *tags, size_t ntags)
{
	local_cloud *cloud = NULL;
	char id[LOCAL_ID_LEN];
	if (id_out)
		*id_out = NULL;
	int rc = local_from_provider(&cloud, provider);
	if (!rc)
		rc = local_require_init(cloud);
	if (!rc)
		rc = local_tags_check(tags, ntags);
	if (!rc)
		rc = local_id_new(id, LOCAL_INSTANCE);
	if (rc)
		return rc;
	local_instance rec = {0};
	rec.created = local_now_ns() / 1000000000;
	rec.id = strdup(id);
	rec.name = strdup(name && *name ? name : id);
	rec.region = strdup(cloud->region);
	if (!rec.id || !rec.name || !rec.region)
		rc = cp_error_oom();
	if (!rc)
		rc = local_tags_copy(&rec.tags, tags, ntags);
	local_lock lock = LOCAL_LOCK_INIT;
	if (!rc)
		rc = local_lock_take(&lock, cloud, LOCAL_INSTANCE, id, 1, 1);
	if (!rc) {
		rc = local_instance_save(cloud, &rec);
		if (rc)
			local_lock_remove(&lock);
		local_lock_release(&lock);
	}
	if (!rc && id_out && !(*id_out = strdup(id)))
		rc = cp_error_oom();
	local_instance_dispose(&rec);
	return rc;
}

static int detach(const local_cloud *cloud, const char *disk_id, const char *instance_id)
{
	local_lock lock = LOCAL_LOCK_INIT;
	int rc = local_lock_take(&lock, cloud, LOCAL_DISK, disk_id, 1, 0);
	if (rc == CP_ENOTFOUND) /* deleted meanwhile: nothing to detach */
		return 0;
	if (rc)
		return rc;
	local_disk rec;
	rc = local_disk_load(&rec, cloud, disk_id);
	if (rc == CP_ENOTFOUND)
		rc = 0;
	else if (!rc) {
		if (rec.instance_id && !strcmp(rec.instance_id, instance_id)) {
			free(rec.instance_id);
			rec.instance_id = NULL;
			rc = local_disk_save(cloud, &rec);
		}
		local_disk_dispose(&rec);
	}
	local_lock_release(&lock);
	return rc;
}

int cp_local_instance_delete(cp_provider *provider, const char *instance_id)
{
	local_cloud *cloud = NULL;
	int rc = local_from_provider(&cloud, provider);
	if (!rc)
		rc = local_require_init(cloud);
	if (!rc)
		rc = local_id_check(instance_id, LOCAL_INSTANCE);
	if (rc)
		return rc;
	local_lock lock = LOCAL_LOCK_INIT;
	rc = local_lock_take(&lock, cloud, LOCAL_INSTANCE, instance_id, 1, 0);
	if (rc)
		return rc;
	local_instance rec;
	rc = local_instance_load(&rec, cloud, instance_id);
	char **disks = NULL;
	size_t ndisks = 0;
	if (!rc) {
		local_instance_dispose(&rec);
		rc = local_attached_disks(&disks, &ndisks, cloud, instance_id);
	}
	for (size_t i = 0; !rc && i < ndisks; i++)
		rc = detach(cloud, disks[i], instance_id);
	local_ids_free(disks, ndisks);
	char *path = rc ? NULL : local_path(cloud, LOCAL_INSTANCE, instance_id, ".json");
	if (!rc && !path)
		rc = cp_error_oom();
	if (!rc && unlink(path))
		rc = cp_error_set_os(CP_EIO, errno, "cannot delete '%s'", path);
	if (!rc) {
		cp_fs_fsync_parent(path);
		local_lock_remove(&lock);
	}
	free(path);
	local_lock_release(&lock);
	return rc;
}
