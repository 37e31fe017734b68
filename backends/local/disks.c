/*
 * Disks: a sparse image file of exactly the disk's size, a generation
 * map, and a record. The record is written last, so a disk exists only
 * once all its files do.
 */
#include "error.h"
#include "fs.h"
#include "local_cloud.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int local_disk_publish(const local_cloud *cloud, local_disk *rec, int image_fd,
		       const char *image_path)
{
	int rc = local_fingerprint_take(&rec->image, image_fd, image_path);
	if (rc)
		return rc;
	local_lock lock = LOCAL_LOCK_INIT;
	rc = local_lock_take(&lock, cloud, LOCAL_DISK, rec->id, 1, 1);
	if (rc)
		return rc;
	rc = local_disk_save(cloud, rec);
	if (rc)
		local_lock_remove(&lock);
	local_lock_release(&lock);
	return rc;
}

static int check_options(const cp_local_disk_options *opts, uint64_t *size)
{
	if (!opts)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no disk options given; start from CP_LOCAL_DISK_OPTIONS_INIT");
	if (opts->version != CP_LOCAL_DISK_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "disk options have version %u; this library knows version %d "
				    "(use CP_LOCAL_DISK_OPTIONS_INIT)",
				    opts->version, CP_LOCAL_DISK_OPTIONS_VERSION);
	int rc = local_tags_check(opts->tags, opts->ntags);
	if (!rc && opts->attach_to)
		rc = local_id_check(opts->attach_to, LOCAL_INSTANCE);
	if (rc)
		return rc;
	*size = opts->size;
	if (!opts->from_image) {
		if (!opts->size)
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
					    "a new empty disk needs a size greater than zero");
		return 0;
	}
	struct stat st;
	if (stat(opts->from_image, &st))
		return cp_error_set_os(CP_EIO, errno, "cannot import image '%s'", opts->from_image);
	if (!S_ISREG(st.st_mode))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "image '%s' is not a regular file; import a raw disk image",
				    opts->from_image);
	if (!opts->size)
		*size = (uint64_t)st.st_size;
	if (!*size)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "image '%s' is empty; a disk needs at least one byte",
				    opts->from_image);
	if (*size < (uint64_t)st.st_size)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "image '%s' holds %llu bytes but the disk size asked for is "
				    "only %llu; give a size of at least the image's, or 0",
				    opts->from_image, (unsigned long long)st.st_size,
				    (unsigned long long)*size);
	return 0;
}

static int make_image(const char *path, const cp_local_disk_options *opts, uint64_t size)
{
	if (opts->from_image)
		return local_copy_file(opts->from_image, path, size, LOCAL_COPY_AUTO);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return cp_error_set_os(CP_EIO, errno, "cannot create disk image '%s'", path);
	int rc = 0;
	if (ftruncate(fd, (off_t)size))
		rc = cp_error_set_os(CP_EIO, errno, "cannot size disk image '%s' to %llu bytes",
				     path, (unsigned long long)size);
	close(fd);
	return rc;
}

static int fill_record(local_disk *rec, const local_cloud *cloud, const char *id,
		       const cp_local_disk_options *opts, uint64_t size)
{
	memset(rec, 0, sizeof(*rec));
	rec->id = strdup(id);
	rec->name = strdup(opts->name && *opts->name ? opts->name : id);
	rec->region = strdup(cloud->region);
	rec->instance_id = opts->attach_to ? strdup(opts->attach_to) : NULL;
	rec->size = size;
	rec->created = local_now_ns() / 1000000000;
	if (!rec->id || !rec->name || !rec->region || (opts->attach_to && !rec->instance_id))
		return cp_error_oom();
	return local_tags_copy(&rec->tags, opts->tags, opts->ntags);
}

static int create_disk(const local_cloud *cloud, const char *id, const cp_local_disk_options *opts,
		       uint64_t size)
{
	char *img = local_path(cloud, LOCAL_DISK, id, ".img");
	char *cbt = local_path(cloud, LOCAL_DISK, id, ".cbt");
	local_disk rec = {0};
	int made_img = 0, made_cbt = 0, fd = -1;
	int rc = img && cbt ? make_image(img, opts, size) : cp_error_oom();
	made_img = !rc;
	if (!rc)
		rc = local_cbt_create(cbt, size);
	made_cbt = made_img && !rc;
	if (!rc)
		rc = fill_record(&rec, cloud, id, opts, size);
	if (!rc && (fd = open(img, O_RDWR | O_CLOEXEC)) < 0)
		rc = cp_error_set_os(CP_EIO, errno, "cannot open disk image '%s'", img);
	if (!rc)
		rc = local_disk_publish(cloud, &rec, fd, img);
	if (fd >= 0)
		close(fd);
	if (rc && made_img)
		unlink(img);
	if (rc && made_cbt)
		unlink(cbt);
	local_disk_dispose(&rec);
	free(img);
	free(cbt);
	return rc;
}

int cp_local_disk_create(char **id_out, cp_provider *provider, const cp_local_disk_options *opts)
{
	local_cloud *cloud = NULL;
	uint64_t size = 0;
	char id[LOCAL_ID_LEN];
	if (id_out)
		*id_out = NULL;
	int rc = local_from_provider(&cloud, provider);
	if (!rc)
		rc = local_require_init(cloud);
	if (!rc)
		rc = check_options(opts, &size);
	if (!rc)
		rc = local_id_new(id, LOCAL_DISK);
	if (rc)
		return rc;
	/* Hold the instance so it cannot be deleted before the disk names it. */
	local_lock instance = LOCAL_LOCK_INIT;
	if (opts->attach_to)
		rc = local_lock_instance_for_attach(&instance, cloud, opts->attach_to);
	if (!rc)
		rc = create_disk(cloud, id, opts, size);
	local_lock_release(&instance);
	if (!rc && id_out && !(*id_out = strdup(id)))
		rc = cp_error_oom();
	return rc;
}

int cp_local_disk_delete(cp_provider *provider, const char *disk_id)
{
	local_cloud *cloud = NULL;
	int rc = local_from_provider(&cloud, provider);
	if (!rc)
		rc = local_require_init(cloud);
	if (!rc)
		rc = local_id_check(disk_id, LOCAL_DISK);
	if (rc)
		return rc;
	local_lock lock = LOCAL_LOCK_INIT;
	rc = local_lock_take(&lock, cloud, LOCAL_DISK, disk_id, 1, 0);
	if (rc)
		return rc;
	local_disk rec;
	rc = local_disk_load(&rec, cloud, disk_id);
	if (!rc)
		local_disk_dispose(&rec);
	/* The record goes first: without it, the disk is gone for everyone. */
	static const char *const exts[] = {".json", ".img", ".cbt"};
	for (size_t i = 0; !rc && i < sizeof(exts) / sizeof(exts[0]); i++) {
		char *path = local_path(cloud, LOCAL_DISK, disk_id, exts[i]);
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

int cp_local_disk_path(char **path_out, cp_provider *provider, const char *disk_id)
{
	local_cloud *cloud = NULL;
	*path_out = NULL;
	int rc = local_from_provider(&cloud, provider);
	if (!rc)
		rc = local_require_init(cloud);
	local_disk rec;
	if (!rc)
		rc = local_disk_load(&rec, cloud, disk_id);
	if (rc)
		return rc;
	local_disk_dispose(&rec);
	*path_out = local_path(cloud, LOCAL_DISK, disk_id, ".img");
	return *path_out ? 0 : cp_error_oom();
}
