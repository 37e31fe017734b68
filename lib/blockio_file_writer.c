/*
 * Files and block devices as restore targets. A regular file is written
 * into a temporary sibling that replaces the target only on commit.
 *
 * Aligned blocks go with O_DIRECT where the file system or device allows
 * it: buffered writes into one file serialise on its inode
 * lock and copy every byte into the page cache, which cost more CPU than
 * decrypting and decompressing the backup. Direct writes of new blocks
 * wait on the disk, so they go through a queue (lib/write_queue.h) served
 * by a few threads: the engine's threads copy a block in and go back to
 * decoding, and the disk sees several requests at once. A file is
 * preallocated in windows (lib/file_prealloc.h) so that those requests
 * really run in parallel; the backup's holes are punched out again at
 * commit. Unaligned pieces (a short last block) go through the page
 * cache, as does everything on file systems without O_DIRECT.
 */
#include "cloudprotect/sys/provider.h"
#include "error.h"
#include "file_prealloc.h"
#include "fs.h"
#include "write_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_BLOCK_SIZE (512u * 1024u)

/* Start writeback every so often, so the fsync at commit finds little left to do. */
#define WRITEBACK_EVERY (64u << 20)

/* Requests the disk sees at once, and blocks queued beyond them to absorb bursts. */
#define WRITE_THREADS 4
#define WRITE_SPARE   8

/* What O_DIRECT asks of buffers, offsets and lengths on every Linux file system we meet. */
#define DIRECT_ALIGN 4096u

typedef struct {
	cp_block_writer base;
	int fd;
	int direct_fd;	      /* the same file opened O_DIRECT, or -1 */
	atomic_int direct_ok; /* 0 once the file system refused a direct write */
	char *path;	      /* the target */
	char *tmp_path;	      /* what we write into; NULL for a device */
	int committed;
	_Atomic uint64_t unflushed; /* bytes written since writeback was last started */
	cp_write_queue *queue;	    /* direct writes; NULL for a device or without O_DIRECT */
	cp_file_prealloc prealloc;  /* for a regular file */
	int have_prealloc;
} file_writer;

static const char *target_name(const file_writer *w)
{
	return w->tmp_path ? w->tmp_path : w->path;
}

/* Through the page cache, starting writeback every so often. */
static int buffered_write(file_writer *w, uint64_t offset, const void *buf, size_t len)
{
	int rc = cp_fs_pwrite_full(w->fd, buf, len, offset, target_name(w));
	if (!rc && atomic_fetch_add(&w->unflushed, len) + len >= WRITEBACK_EVERY) {
		atomic_store(&w->unflushed, 0);
		/* Asynchronous: queues dirty pages for writing and returns at once. */
		sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	return rc;
}

/*
 * The queue's sink. Falls back to the page cache when the file system
 * turns O_DIRECT down (EINVAL) or writes only part of a block.
 */
static int queued_write(void *arg, uint64_t offset, const void *buf, size_t len)
{
	file_writer *w = arg;
	if (atomic_load(&w->direct_ok)) {
		ssize_t n;
		do
			n = pwrite(w->direct_fd, buf, len, (off_t)offset);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)len)
			return 0;
		if (n < 0 && errno != EINVAL)
			return cp_error_set_os(CP_EIO, errno,
					       "cannot write %zu bytes at %llu to '%s'", len,
					       (unsigned long long)offset, target_name(w));
		atomic_store(&w->direct_ok, 0);
	}
	return buffered_write(w, offset, buf, len);
}

static int file_write(cp_block_writer *self, uint64_t offset, const void *buf, size_t len)
{
	file_writer *w = (file_writer *)self;
	if (w->have_prealloc)
		cp_file_prealloc_write(&w->prealloc, offset, len);
	const char *p = buf;
	/* Aligned pieces of at most a block are queued; chunks larger than a block split. */
	while (w->queue && atomic_load(&w->direct_ok) && len &&
	       !((offset | len) & (DIRECT_ALIGN - 1))) {
		size_t n = len < FILE_BLOCK_SIZE ? len : FILE_BLOCK_SIZE;
		int rc = cp_write_queue_put(w->queue, offset, p, n);
		if (rc)
			return rc;
		p += n;
		offset += n;
		len -= n;
	}
	return len ? buffered_write(w, offset, p, len) : 0;
}

static int file_commit(cp_block_writer *self, char **id_out)
{
	file_writer *w = (file_writer *)self;
	int rc = w->queue ? cp_write_queue_drain(w->queue) : 0;
	if (!rc && w->have_prealloc)
		rc = cp_file_prealloc_finish(&w->prealloc, w->tmp_path);
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
	cp_write_queue_free(w->queue);
	if (w->direct_fd >= 0)
		close(w->direct_fd);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_path && !w->committed)
		unlink(w->tmp_path);
	if (w->have_prealloc)
		cp_file_prealloc_dispose(&w->prealloc);
	free(w->tmp_path);
	free(w->path);
	free(w);
}

/* Direct writes through the queue, when the file or device takes O_DIRECT. */
static int start_direct(file_writer *w, const char *path)
{
	/* Optional: file systems without O_DIRECT (tmpfs, some FUSE) use the page cache. */
	w->direct_fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	atomic_init(&w->direct_ok, w->direct_fd >= 0);
	if (w->direct_fd < 0)
		return 0;
	return cp_write_queue_start(&w->queue, WRITE_THREADS, WRITE_SPARE, FILE_BLOCK_SIZE,
				    queued_write, w, "writing a file");
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
	return start_direct(w, path);
}

static int open_file(file_writer *w, const char *path, uint64_t size)
{
	int rc = cp_fs_temp_sibling(&w->tmp_path, &w->fd, path);
	if (rc)
		return rc;
	rc = cp_file_prealloc_init(&w->prealloc, w->fd, size, FILE_BLOCK_SIZE);
	if (rc)
		return rc;
	w->have_prealloc = 1;
	if (ftruncate(w->fd, (off_t)size))
		return cp_error_set_os(CP_EIO, errno, "cannot size '%s' to %llu bytes", path,
				       (unsigned long long)size);
	return start_direct(w, w->tmp_path);
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
	int rc = stat(path, &st) == 0 && S_ISBLK(st.st_mode) ? open_device(w, path, &st, size)
							     : open_file(w, path, size);
	if (rc) {
		file_writer_free(&w->base);
		return rc;
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
