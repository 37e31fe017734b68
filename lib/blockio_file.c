/*
 * Files and block devices as block sources and restore targets. Regular
 * files are read sparse-aware (SEEK_DATA) and restored into a temporary
 * sibling that replaces the target only on commit.
 *
 * Restoring into a regular file writes aligned blocks with O_DIRECT
 * where the file system allows it: buffered writes into one file
 * serialise on its inode lock and copy every byte into the page cache,
 * which cost more CPU than decrypting and decompressing the backup.
 * Each block is first allocated (fallocate), so that the direct write
 * is an overwrite, which ext4 and xfs let run in parallel. Unaligned
 * pieces (a short last block) go through the page cache as before.
 */
#include "cloudprotect/sys/provider.h"
#include "error.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_BLOCK_SIZE (512u * 1024u)
#define RANGES_PER_PAGE 256

typedef struct {
	cp_block_reader base;
	int fd;
	int is_regular;
	char *path;
} file_reader;

static int file_read(cp_block_reader *self, uint64_t offset, void *buf, size_t len)
{
	file_reader *r = (file_reader *)self;
	return cp_fs_pread_full(r->fd, buf, len, offset, r->path);
}

static int file_allocated(cp_block_reader *self, cp_block_range_cb cb, void *payload)
{
	file_reader *r = (file_reader *)self;
	cp_block_range page[RANGES_PER_PAGE];
	size_t n = 0;
	uint64_t pos = 0;
	while (r->is_regular && pos < self->size) {
		off_t data = lseek(r->fd, (off_t)pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;
			/* No SEEK_DATA on this filesystem: everything may hold data. */
			page[0].offset = pos;
			page[0].length = self->size - pos;
			n = 1;
			break;
		}
		off_t hole = lseek(r->fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > self->size)
			hole = (off_t)self->size;
		page[n].offset = (uint64_t)data;
		page[n].length = (uint64_t)(hole - data);
		pos = (uint64_t)hole;
		if (++n == RANGES_PER_PAGE) {
			int rc = cb(page, n, payload);
			if (rc)
				return rc;
			n = 0;
		}
	}
	if (!r->is_regular && self->size) {
		page[0].offset = 0;
		page[0].length = self->size;
		n = 1;
	}
	return n ? cb(page, n, payload) : 0;
}

static void file_reader_free(cp_block_reader *self)
{
	file_reader *r = (file_reader *)self;
	close(r->fd);
	free(r->path);
	free(r);
}

static int device_size(int fd, const struct stat *st, uint64_t *size)
{
	if (S_ISREG(st->st_mode)) {
		*size = (uint64_t)st->st_size;
		return 0;
	}
	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, size) ? -1 : 0;
	errno = EINVAL;
	return -1;
}

int cp_block_reader_open_file(cp_block_reader **out, const char *path)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cp_error_set_os(CP_EIO, errno, "cannot open source '%s'", path);
	struct stat st;
	uint64_t size = 0;
	if (fstat(fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "source '%s' is not a regular file or block device", path);
	}
	if (device_size(fd, &st, &size)) {
		int e = errno;
		close(fd);
		return cp_error_set_os(CP_EIO, e, "cannot get the size of '%s'", path);
	}
	file_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		close(fd);
		return cp_error_oom();
	}
	r->fd = fd;
	r->is_regular = S_ISREG(st.st_mode);
	r->base.version = CP_BLOCK_READER_VERSION;
	r->base.size = size;
	r->base.block_size = FILE_BLOCK_SIZE;
	r->base.read = file_read;
	r->base.allocated = file_allocated;
	r->base.free = file_reader_free;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*out = &r->base;
	return 0;
}

typedef struct {
	cp_block_writer base;
	int fd;
	int direct_fd;	      /* the same file opened O_DIRECT, or -1 */
	atomic_int direct_ok; /* 0 once the file system refused a direct write */
	char *path;	      /* the target */
	char *tmp_path;	      /* what we write into; NULL for a device */
	int committed;
	_Atomic uint64_t unflushed; /* bytes written since writeback was last started */
} file_writer;

/* Start writeback every so often, so the fsync at commit finds little left to do. */
#define WRITEBACK_EVERY (64u << 20)

/* What O_DIRECT asks of buffers, offsets and lengths on every Linux file system we meet. */
#define DIRECT_ALIGN 4096u

/*
 * Returns 1 when the bytes must go through the page cache instead: the
 * file system turned O_DIRECT down (EINVAL) or wrote only part of them.
 */
static int direct_write(file_writer *w, uint64_t offset, const void *buf, size_t len)
{
	/* Allocating first makes the write an overwrite, which needs no exclusive inode lock. */
	int e = fallocate(w->direct_fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) ? errno : 0;
	if (e && e != EOPNOTSUPP)
		return cp_error_set_os(CP_EIO, e, "cannot allocate %zu bytes at %llu in '%s'", len,
				       (unsigned long long)offset, w->tmp_path);
	ssize_t n;
	do
		n = pwrite(w->direct_fd, buf, len, (off_t)offset);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EINVAL) {
		atomic_store(&w->direct_ok, 0);
		return 1;
	}
	return cp_error_set_os(CP_EIO, errno, "cannot write %zu bytes at %llu to '%s'", len,
			       (unsigned long long)offset, w->tmp_path);
}

static int file_write(cp_block_writer *self, uint64_t offset, const void *buf, size_t len)
{
	file_writer *w = (file_writer *)self;
	if (atomic_load(&w->direct_ok) && !(((uintptr_t)buf | offset | len) & (DIRECT_ALIGN - 1))) {
		int rc = direct_write(w, offset, buf, len);
		if (rc <= 0)
			return rc;
	}
	int rc = cp_fs_pwrite_full(w->fd, buf, len, offset, w->tmp_path ? w->tmp_path : w->path);
	if (!rc && atomic_fetch_add(&w->unflushed, len) + len >= WRITEBACK_EVERY) {
		atomic_store(&w->unflushed, 0);
		/* Asynchronous: queues dirty pages for writing and returns at once. */
		sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	return rc;
}

static int file_commit(cp_block_writer *self, char **id_out)
{
	file_writer *w = (file_writer *)self;
	if (fsync(w->fd))
		return cp_error_set_os(CP_EIO, errno, "cannot flush '%s'", w->path);
	if (w->tmp_path) {
		if (rename(w->tmp_path, w->path))
			return cp_error_set_os(CP_EIO, errno, "cannot rename '%s' to '%s'",
					       w->tmp_path, w->path);
		int rc = cp_fs_fsync_parent(w->path);
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
	if (w->direct_fd >= 0)
		close(w->direct_fd);
	close(w->fd);
	if (w->tmp_path && !w->committed)
		unlink(w->tmp_path);
	free(w->tmp_path);
	free(w->path);
	free(w);
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
	w->direct_fd = -1;
	if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) {
		uint64_t dev_size = 0;
		w->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (w->fd < 0 || device_size(w->fd, &st, &dev_size)) {
			int e = errno;
			file_writer_free(&w->base);
			return cp_error_set_os(CP_EIO, e, "cannot open block device '%s'", path);
		}
		if (dev_size < size) {
			file_writer_free(&w->base);
			return cp_error_set(
				CP_ENOSPC, CP_ERRCLASS_INVALID,
				"block device '%s' holds %llu bytes but the backup needs %llu; "
				"use a device at least that large",
				path, (unsigned long long)dev_size, (unsigned long long)size);
		}
		w->base.flags = CP_BLOCK_WRITER_MUST_WRITE_ZEROS;
	} else {
		int rc = cp_fs_temp_sibling(&w->tmp_path, &w->fd, path);
		if (rc) {
			file_writer_free(&w->base);
			return rc;
		}
		if (ftruncate(w->fd, (off_t)size)) {
			int e = errno;
			file_writer_free(&w->base);
			return cp_error_set_os(CP_EIO, e, "cannot size '%s' to %llu bytes", path,
					       (unsigned long long)size);
		}
		/* Optional: file systems without O_DIRECT (tmpfs, some FUSE) use the page cache. */
		w->direct_fd = open(w->tmp_path, O_WRONLY | O_DIRECT | O_CLOEXEC);
		atomic_init(&w->direct_ok, w->direct_fd >= 0);
	}
	w->base.version = CP_BLOCK_WRITER_VERSION;
	w->base.size = size;
	w->base.block_size = FILE_BLOCK_SIZE;
	w->base.write = file_write;
	w->base.commit = file_commit;
	w->base.free = file_writer_free;
	*out = &w->base;
	return 0;
}
