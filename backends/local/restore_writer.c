/*
 * New disks filled block by block: the restore target. The disk's files
 * are made at once but its record is written only on commit, so an
 * abandoned restore leaves no disk behind.
 *
 * With "unwritten_blocks": "garbage" the new image starts full of
 * pseudo-random bytes, as an encrypted EBS volume made from a snapshot
 * reads random data where the snapshot had no block; the writer then
 * says CP_BLOCK_WRITER_MUST_WRITE_ZEROS, so restores that skip zero
 * blocks are caught by tests.
 *
 * A writer refers to its provider's state: free it before the provider.
 */
#include "error.h"
#include "file_target.h"
#include "fs.h"
#include "local_cloud.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILL_CHUNK (1u << 20)

typedef struct {
	cp_block_writer base;
	const local_cloud *cloud;
	char id[LOCAL_ID_LEN];
	char *name, *region, *attach_to;
	local_tags tags;
	char *img_path, *cbt_path;
	int fd;
	cp_file_target *target; /* writes the image fast (direct, queued) */
	int committed;
} disk_writer;

static int writer_write(cp_block_writer *self, uint64_t offset, const void *buf, size_t len)
{
	disk_writer *w = (disk_writer *)self;
	/* After commit the disk is live, and its writes must go through tracking. */
	if (w->committed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "disk '%s' is committed; write to it with cp_local_disk_write",
				    w->id);
	return cp_file_target_write(w->target, offset, buf, len);
}

static int writer_commit(cp_block_writer *self, char **id_out)
{
	disk_writer *w = (disk_writer *)self;
	if (w->committed)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "disk '%s' was already committed", w->id);
	int rc = cp_file_target_finish(w->target);
	if (rc)
		return rc;
	if (fsync(w->fd))
		return cp_error_set_os(CP_EIO, errno, "cannot flush new disk '%s'", w->img_path);
	local_lock instance = LOCAL_LOCK_INIT;
	if (w->attach_to)
		rc = local_lock_instance_for_attach(&instance, w->cloud, w->attach_to);
	local_disk rec = {0};
	if (!rc) {
		rec.id = w->id;
		rec.name = w->name;
		rec.region = w->region;
		rec.instance_id = w->attach_to;
		rec.size = w->base.size;
		rec.created = local_now_ns() / 1000000000;
		rec.tags = w->tags;
		rc = local_disk_publish(w->cloud, &rec, w->fd, w->img_path);
	}
	local_lock_release(&instance);
	if (rc)
		return rc;
	w->committed = 1;
	*id_out = strdup(w->id);
	return *id_out ? 0 : cp_error_oom();
}

static void writer_free(cp_block_writer *self)
{
	disk_writer *w = (disk_writer *)self;
	cp_file_target_free(w->target);
	if (w->fd >= 0)
		close(w->fd);
	if (!w->committed) {
		if (w->img_path)
			unlink(w->img_path);
		if (w->cbt_path)
			unlink(w->cbt_path);
	}
	free(w->name);
	free(w->region);
	free(w->attach_to);
	local_tags_dispose(&w->tags);
	free(w->img_path);
	free(w->cbt_path);
	free(w);
}

/* Pseudo-random, not secret: it only has to look unlike zeros and unlike the data. */
static int fill_garbage(disk_writer *w, uint64_t size)
{
	uint64_t *chunk = malloc(FILL_CHUNK);
	if (!chunk)
		return cp_error_oom();
	uint64_t x = (uint64_t)local_now_ns() | 1;
	int rc = 0;
	for (uint64_t off = 0; !rc && off < size; off += FILL_CHUNK) {
		for (size_t i = 0; i < FILL_CHUNK / sizeof(*chunk); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			chunk[i] = x;
		}
		size_t n = size - off < FILL_CHUNK ? (size_t)(size - off) : FILL_CHUNK;
		rc = cp_fs_pwrite_full(w->fd, chunk, n, off, w->img_path);
	}
	free(chunk);
	return rc;
}

static int make_files(disk_writer *w, uint64_t size)
{
	w->img_path = local_path(w->cloud, LOCAL_DISK, w->id, ".img");
	w->cbt_path = local_path(w->cloud, LOCAL_DISK, w->id, ".cbt");
	if (!w->img_path || !w->cbt_path)
		return cp_error_oom();
	w->fd = open(w->img_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		int e = errno;
		free(w->img_path);
		w->img_path = NULL; /* not ours to remove */
		return cp_error_set_os(CP_EIO, e, "cannot create new disk image for '%s'", w->id);
	}
	int rc = 0;
	if (ftruncate(w->fd, (off_t)size))
		rc = cp_error_set_os(CP_EIO, errno, "cannot size new disk '%s' to %llu bytes",
				     w->img_path, (unsigned long long)size);
	if (!rc && w->cloud->garbage_unwritten)
		rc = fill_garbage(w, size);
	if (!rc)
		rc = local_cbt_create(w->cbt_path, size);
	/* The garbage stands for what an encrypted volume holds where nothing was written: keep it. */
	if (!rc)
		rc = cp_file_target_open(&w->target, w->fd, w->img_path, size,
					 !w->cloud->garbage_unwritten);
	return rc;
}

static int check_options(const local_cloud *cloud, const cp_disk_create_options *opts)
{
	if (opts->version < 1)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "disk options have no version; start from "
				    "CP_DISK_CREATE_OPTIONS_INIT");
	int rc = local_tags_check(opts->tags, opts->ntags);
	if (!rc && opts->region && (!*opts->region || strchr(opts->region, '/')))
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				  "'%s' is not a region name; leave it NULL for %s", opts->region,
				  cloud->region);
	if (!rc && opts->attach_to) {
		/* Fail before a long restore, not at its end; commit checks again. */
		local_lock lock = LOCAL_LOCK_INIT;
		rc = local_lock_instance_for_attach(&lock, cloud, opts->attach_to);
		local_lock_release(&lock);
	}
	return rc;
}

int local_disk_create_writer(void *state, const cp_disk_create_options *opts, cp_block_writer **out)
{
	local_cloud *cloud = state;
	*out = NULL;
	int rc = local_require_init(cloud);
	if (!rc)
		rc = check_options(cloud, opts);
	if (rc)
		return rc;
	disk_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return cp_error_oom();
	w->fd = -1;
	w->cloud = cloud;
	rc = local_id_new(w->id, LOCAL_DISK);
	if (!rc) {
		w->name = strdup(opts->name && *opts->name ? opts->name : w->id);
		w->region = strdup(opts->region ? opts->region : cloud->region);
		w->attach_to = opts->attach_to ? strdup(opts->attach_to) : NULL;
		if (!w->name || !w->region || (opts->attach_to && !w->attach_to))
			rc = cp_error_oom();
	}
	if (!rc)
		rc = local_tags_copy(&w->tags, opts->tags, opts->ntags);
	w->base.version = CP_BLOCK_WRITER_VERSION;
	w->base.size = opts->size;
	w->base.block_size = LOCAL_BLOCK_SIZE;
	w->base.flags = cloud->garbage_unwritten ? CP_BLOCK_WRITER_MUST_WRITE_ZEROS : 0;
	w->base.write = writer_write;
	w->base.commit = writer_commit;
	w->base.free = writer_free;
	if (!rc)
		rc = make_files(w, opts->size);
	if (rc) {
		writer_free(&w->base);
		return rc;
	}
	*out = &w->base;
	return 0;
}
