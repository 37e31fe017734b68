/*
 * Files and block devices as restore targets. A regular file is written
 * into a temporary sibling that replaces the target only on commit; the
 * writing itself is lib/file_target.h (direct, queued, preallocated).
 */
#include "cloudprotect/sys/provider.h"
#include "error.h"
#include "file_target.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	cp_block_writer base;
	int fd;
	char *path;	/* the target */
	char *tmp_path; /* what we write into; NULL for a device */
	int committed;
	cp_file_target *target;
} file_writer;

static int file_write(cp_block_writer *self, uint64_t offset, const void *buf, size_t len)
{
	file_writer *w = (file_writer *)self;
	return cp_file_target_write(w->target, offset, buf, len);
}

static int file_commit(cp_block_writer *self, char **id_out)
{
	file_writer *w = (file_writer *)self;
	int rc = cp_file_target_finish(w->target);
	if (rc)
		return rc;
	if (fsync(w->fd))
		return cp_error_set_os(CP_EIO, errno, "cannot flush '%s'", w->path);
	if (w->tmp_path) {
		if (rename(w->tmp_path, w->path))
			return cp_error_set_os(CP_EIO, errno, "cannot rename '%s' to '%s'",
					       w->tmp_path, w->path);
		rc = cp_fs_fsync_parent(w->path);
		if (rc)
			return rc;
	}
	w->committed = 1;
	*id_out = strdup(w->path);
	return *id_out ? 0 : cp_error_oom();
}

static void file_writer_free(cp_block_writer *self)
{
	file_writer *w = (file_writer *)self;
	cp_file_target_free(w->target);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_path && !w->committed)
		unlink(w->tmp_path);
	free(w->tmp_path);
	free(w->path);
	free(w);
}

static int open_device(file_writer *w, const char *path, const struct stat *st, uint64_t size)
{
	uint64_t dev_size = 0;
	w->fd = open(path, O_WRONLY | O_CLOEXEC);
	if (w->fd < 0 || cp_fs_size(w->fd, st, &dev_size))
		return cp_error_set_os(CP_EIO, errno, "cannot open block device '%s'", path);
	if (dev_size < size)
		return cp_error_set(CP_ENOSPC, CP_ERRCLASS_INVALID,
				    "block device '%s' holds %llu bytes but the backup needs %llu; "
				    "use a device at least that large",
				    path, (unsigned long long)dev_size, (unsigned long long)size);
	w->base.flags = CP_BLOCK_WRITER_MUST_WRITE_ZEROS;
	return cp_file_target_open(&w->target, w->fd, path, size, 0);
}

static int open_file(file_writer *w, const char *path, uint64_t size)
{
	int rc = cp_fs_temp_sibling(&w->tmp_path, &w->fd, path);
	if (rc)
		return rc;
	if (ftruncate(w->fd, (off_t)size))
		return cp_error_set_os(CP_EIO, errno, "cannot size '%s' to %llu bytes", path,
				       (unsigned long long)size);
	return cp_file_target_open(&w->target, w->fd, w->tmp_path, size, 1);
}

int cp_block_writer_open_file(cp_block_writer **out, const char *path, uint64_t size)
{
	*out = NULL;
	struct stat st;
	file_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path))) {
		free(w);
		return cp_error_oom();
	}
	w->fd = -1;
	int rc = stat(path, &st) == 0 && S_ISBLK(st.st_mode) ? open_device(w, path, &st, size)
							     : open_file(w, path, size);
	if (rc) {
		file_writer_free(&w->base);
		return rc;
	}
	w->base.version = CP_BLOCK_WRITER_VERSION;
	w->base.size = size;
	w->base.block_size = CP_FILE_TARGET_BLOCK;
	w->base.write = file_write;
	w->base.commit = file_commit;
	w->base.free = file_writer_free;
	*out = &w->base;
	return 0;
}
