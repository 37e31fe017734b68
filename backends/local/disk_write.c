/*
 * Writing to a disk through the provider, the only way the local cloud
 * knows which blocks changed: the blocks a write touches are stamped in
 * the disk's generation map (cbt.c), and the image's fingerprint is
 * refreshed so that direct writes to the file can be told apart later.
 */
#include "ctx.h"
#include "error.h"
#include "local_cloud.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	const local_cloud *cloud;
	local_disk rec;
	char *img_path, *cbt_path;
	int img_fd;
	local_cbt cbt;
} write_target;

static int out_of_bounds(const local_disk *rec, uint64_t offset, size_t len)
{
	unsigned long long end = (unsigned long long)offset + len;
	if (end < offset) /* wrapped around */
		end = ~0ull;
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "a write of %zu bytes at offset %llu would end at byte %llu, past the "
			    "end of disk '%s' (%llu bytes); write within the disk's size",
			    len, (unsigned long long)offset, end, rec->id,
			    (unsigned long long)rec->size);
}

static int write_failed(const write_target *t, int e, uint64_t at)
{
	int rc = cp_error_set_os(CP_EIO, e, "cannot write to disk '%s' at offset %llu (file '%s')",
				 t->rec.id, (unsigned long long)at, t->img_path);
	if (rc == CP_ENOSPC)
		rc = cp_error_set(
			CP_ENOSPC, CP_ERRCLASS_OS,
			"cannot write to disk '%s' at offset %llu: the host filesystem "
			"holding '%s' is full or over a size limit (%s); free space there "
			"and write again",
			t->rec.id, (unsigned long long)at, t->cloud->root, strerror(e));
	return rc;
}

/* pwrite until done or failed; *written says how far it got either way. */
static int write_image(const write_target *t, uint64_t offset, const char *buf, size_t len,
		       size_t *written)
{
	*written = 0;
	while (*written < len) {
		ssize_t n = pwrite(t->img_fd, buf + *written, len - *written,
				   (off_t)(offset + *written));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return write_failed(t, n < 0 ? errno : EIO, offset + *written);
		*written += (size_t)n;
	}
	return 0;
}

static int open_target(write_target *t, const local_cloud *cloud, const char *disk_id)
{
	memset(t, 0, sizeof(*t));
	t->cloud = cloud;
	t->img_fd = -1;
	t->cbt.fd = -1;
	int rc = local_disk_load(&t->rec, cloud, disk_id);
	if (rc)
		return rc;
	t->img_path = local_path(cloud, LOCAL_DISK, disk_id, ".img");
	t->cbt_path = local_path(cloud, LOCAL_DISK, disk_id, ".cbt");
	if (!t->img_path || !t->cbt_path)
		return cp_error_oom();
	t->img_fd = open(t->img_path, O_RDWR | O_CLOEXEC);
	if (t->img_fd < 0)
		return cp_error_set_os(CP_EIO, errno, "cannot open the image of disk '%s'",
				       disk_id);
	return local_cbt_open(&t->cbt, t->cbt_path, 1);
}

static void close_target(write_target *t)
{
	local_cbt_close(&t->cbt);
	if (t->img_fd >= 0)
		close(t->img_fd);
	free(t->img_path);
	free(t->cbt_path);
	local_disk_dispose(&t->rec);
}

static int tracked_write(write_target *t, uint64_t offset, const void *buf, size_t len)
{
	int same = local_fingerprint_matches(&t->rec.image, t->img_path);
	if (same < 0)
		return same;
	if (!same) {
		/* Someone wrote to the file directly: what changed then is unknown. */
		t->rec.tracking_lost = 1;
		t->rec.tracking_epoch++;
		cp_log(t->cloud->ctx, CP_LOG_DEBUG, "disk '%s' was modified outside the provider",
		       t->rec.id);
	}
	size_t written = 0;
	int rc = write_image(t, offset, buf, len, &written);
	if (!written)
		return rc;
	/* Stamp what reached the file even when the write stopped part way. */
	uint64_t first = offset / LOCAL_BLOCK_SIZE;
	uint64_t last = (offset + written - 1) / LOCAL_BLOCK_SIZE;
	int trc = local_cbt_stamp(&t->cbt, first, last - first + 1);
	if (!trc)
		trc = local_fingerprint_take(&t->rec.image, t->img_fd, t->img_path);
	if (!trc)
		trc = local_disk_save(t->cloud, &t->rec);
	return rc ? rc : trc;
}

int cp_local_disk_write(cp_provider *provider, const char *disk_id, uint64_t offset,
			const void *buf, size_t len)
{
	local_cloud *cloud = NULL;
	int rc = local_from_provider(&cloud, provider);
	if (!rc)
		rc = local_require_init(cloud);
	if (!rc)
		rc = local_id_check(disk_id, LOCAL_DISK);
	if (!rc && !buf && len)
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				  "no data given to write to disk '%s'", disk_id);
	if (rc)
		return rc;
	local_lock lock = LOCAL_LOCK_INIT;
	rc = local_lock_take(&lock, cloud, LOCAL_DISK, disk_id, 1, 0);
	if (rc)
		return rc;
	write_target t;
	rc = open_target(&t, cloud, disk_id);
	if (!rc && (offset > t.rec.size || len > t.rec.size - offset))
		rc = out_of_bounds(&t.rec, offset, len);
	if (!rc && len)
		rc = tracked_write(&t, offset, buf, len);
	close_target(&t);
	local_lock_release(&lock);
	return rc;
}
