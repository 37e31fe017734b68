#include "file_target.h"
#include "error.h"
#include "file_prealloc.h"
#include "fs.h"
#include "write_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Start writeback every so often, so the fsync at commit finds little left to do. */
#define WRITEBACK_EVERY (64u << 20)

/* Requests the disk sees at once, and blocks queued beyond them to absorb bursts. */
#define WRITE_THREADS 4
#define WRITE_SPARE   8

/* What O_DIRECT asks of buffers, offsets and lengths on every Linux file system we meet. */
#define DIRECT_ALIGN 4096u

struct cp_file_target {
	int fd;
	char *path;
	int direct_fd;		    /* the same file opened O_DIRECT, or -1 */
	atomic_int direct_ok;	    /* 0 once the file system refused a direct write */
	_Atomic uint64_t unflushed; /* bytes written since writeback was last started */
	cp_write_queue *queue;	    /* direct writes; NULL without O_DIRECT */
	cp_file_prealloc prealloc;
	int have_prealloc;
};

/* Through the page cache, starting writeback every so often. */
static int buffered_write(cp_file_target *t, uint64_t offset, const void *buf, size_t len)
{
	int rc = cp_fs_pwrite_full(t->fd, buf, len, offset, t->path);
	if (!rc && atomic_fetch_add(&t->unflushed, len) + len >= WRITEBACK_EVERY) {
		atomic_store(&t->unflushed, 0);
		/* Asynchronous: queues dirty pages for writing and returns at once. */
		sync_file_range(t->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	return rc;
}

/*
 * The queue's sink. Falls back to the page cache when the file system
 * turns O_DIRECT down (EINVAL) or writes only part of a block.
 */
static int queued_write(void *arg, uint64_t offset, const void *buf, size_t len)
{
	cp_file_target *t = arg;
	if (atomic_load(&t->direct_ok)) {
		ssize_t n;
		do
			n = pwrite(t->direct_fd, buf, len, (off_t)offset);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)len)
			return 0;
		if (n < 0 && errno != EINVAL)
			return cp_error_set_os(CP_EIO, errno,
					       "cannot write %zu bytes at %llu to '%s'", len,
					       (unsigned long long)offset, t->path);
		atomic_store(&t->direct_ok, 0);
	}
	return buffered_write(t, offset, buf, len);
}

int cp_file_target_write(cp_file_target *t, uint64_t offset, const void *buf, size_t len)
{
	if (t->have_prealloc)
		cp_file_prealloc_write(&t->prealloc, offset, len);
	const char *p = buf;
	/* Aligned pieces of at most a block are queued; chunks larger than a block split. */
	while (t->queue && atomic_load(&t->direct_ok) && len &&
	       !((offset | len) & (DIRECT_ALIGN - 1))) {
		size_t n = len < CP_FILE_TARGET_BLOCK ? len : CP_FILE_TARGET_BLOCK;
		int rc = cp_write_queue_put(t->queue, offset, p, n);
		if (rc)
			return rc;
		p += n;
		offset += n;
		len -= n;
	}
	return len ? buffered_write(t, offset, p, len) : 0;
}

int cp_file_target_finish(cp_file_target *t)
{
	int rc = t->queue ? cp_write_queue_drain(t->queue) : 0;
	if (!rc && t->have_prealloc)
		rc = cp_file_prealloc_finish(&t->prealloc, t->path);
	return rc;
}

void cp_file_target_free(cp_file_target *t)
{
	if (!t)
		return;
	cp_write_queue_free(t->queue);
	if (t->direct_fd >= 0)
		close(t->direct_fd);
	if (t->have_prealloc)
		cp_file_prealloc_dispose(&t->prealloc);
	free(t->path);
	free(t);
}

int cp_file_target_open(cp_file_target **out, int fd, const char *path, uint64_t size, int sparse)
{
	*out = NULL;
	cp_file_target *t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		free(t);
		return cp_error_oom();
	}
	t->fd = fd;
	int rc = sparse ? cp_file_prealloc_init(&t->prealloc, fd, size, CP_FILE_TARGET_BLOCK) : 0;
	t->have_prealloc = sparse && !rc;
	/* Optional: file systems without O_DIRECT (some FUSE, old tmpfs) use the page cache. */
	t->direct_fd = rc ? -1 : open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	atomic_init(&t->direct_ok, t->direct_fd >= 0);
	if (!rc && t->direct_fd >= 0)
		rc = cp_write_queue_start(&t->queue, WRITE_THREADS, WRITE_SPARE,
					  CP_FILE_TARGET_BLOCK, queued_write, t, "writing a file");
	if (rc) {
		cp_file_target_free(t);
		return rc;
	}
	*out = t;
	return 0;
}
