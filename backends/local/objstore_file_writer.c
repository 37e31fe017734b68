/*
 * Streaming writes into the file:// store (pack objects of tens of MiB).
 *
 * Buffered writes copied every pack byte into the page cache, where it
 * sat dirty until the fsync at commit and then crowded out pages worth
 * keeping (the workload's, on a machine being backed up). So the bytes are
 * staged in an aligned buffer and written with O_DIRECT in whole
 * aligned blocks; only the unaligned tail of an object (and objects too
 * small to be worth it) goes through the page cache. File systems that
 * refuse O_DIRECT (tmpfs before Linux 6.6, some FUSE and overlay mounts:
 * EINVAL at open or at write) get plain buffered writes, as before.
 *
 * The guarantees do not change: bytes go to a temporary sibling that is
 * fsynced, then renamed (or linked, for create_only) into place, and the
 * directory is fsynced; a writer freed without commit unlinks its file.
 */
#include "objstore_file.h"

#include "error.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What O_DIRECT asks of buffers, offsets and lengths on every Linux file system we meet. */
#define DIRECT_ALIGN 4096u
/* 4 MiB measured no faster than 1 MiB and cost 6 MiB more peak RSS with two uploaders. */
#define STAGE_SIZE (1u << 20)

enum direct_state {
	DIRECT_UNTRIED,
	DIRECT_ON,
	DIRECT_REFUSED
};

typedef struct {
	cp_objstore_writer base;
	char *path;
	char *tmp;
	int fd;	       /* buffered descriptor: tails, fallback, fsync */
	int direct_fd; /* the temp file opened O_DIRECT once needed, or -1 */
	enum direct_state direct;
	char *stage;	 /* DIRECT_ALIGN-aligned, STAGE_SIZE bytes; NULL until needed */
	size_t staged;	 /* bytes waiting in stage */
	uint64_t placed; /* bytes already in the file, where stage[0] goes */
	int create_only;
	int done;
} file_writer;

static int buffered_write(file_writer *w, const void *data, size_t len)
{
	int rc = cp_fs_pwrite_full(w->fd, data, len, w->placed, w->tmp);
	if (!rc)
		w->placed += len;
	return rc;
}

/* Open the direct descriptor on first use; 0 when the file system refuses it. */
static int direct_usable(file_writer *w)
{
	if (w->direct == DIRECT_UNTRIED) {
		w->direct_fd = open(w->tmp, O_WRONLY | O_DIRECT | O_CLOEXEC);
		w->direct = w->direct_fd >= 0 ? DIRECT_ON : DIRECT_REFUSED;
	}
	return w->direct == DIRECT_ON;
}

/*
 * Place len bytes (a multiple of DIRECT_ALIGN, from an aligned buffer)
 * at w->placed, which is aligned as long as only this function has
 * written. Whatever O_DIRECT turns down is rewritten through the page
 * cache, and the writer stays buffered from then on.
 */
static int direct_write(file_writer *w, const char *buf, size_t len)
{
	if (!direct_usable(w))
		return buffered_write(w, buf, len);
	size_t done = 0;
	while (done < len) {
		ssize_t n = pwrite(w->direct_fd, buf + done, len - done, (off_t)(w->placed + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EINVAL)
			return cp_error_set_os(CP_EIO, errno,
					       "cannot write %zu bytes at %llu to '%s'", len - done,
					       (unsigned long long)(w->placed + done), w->tmp);
		if (n <= 0 || (size_t)n % DIRECT_ALIGN) {
			/* EINVAL, or a partial block: let the page cache take the rest. */
			w->direct = DIRECT_REFUSED;
			w->placed += done;
			return buffered_write(w, buf + done, len - done);
		}
		done += (size_t)n;
	}
	w->placed += len;
	return 0;
}

static int flush_stage(file_writer *w, size_t len)
{
	int rc = direct_write(w, w->stage, len);
	if (rc)
		return rc;
	memmove(w->stage, w->stage + len, w->staged - len);
	w->staged -= len;
	return 0;
}

static int fw_write(cp_objstore_writer *self, const void *data, size_t len)
{
	file_writer *w = (file_writer *)self;
	const char *p = data;
	while (len) {
		if (w->direct == DIRECT_REFUSED && !w->staged)
			return buffered_write(w, p, len);
		/* An aligned caller buffer needs no copy. */
		if (!w->staged && !((uintptr_t)p % DIRECT_ALIGN) && len >= STAGE_SIZE) {
			size_t n = len - len % DIRECT_ALIGN;
			int rc = direct_write(w, p, n);
			if (rc)
				return rc;
			p += n;
			len -= n;
			continue;
		}
		if (!w->stage) {
			void *stage = NULL;
			if (posix_memalign(&stage, DIRECT_ALIGN, STAGE_SIZE))
				return cp_error_oom();
			w->stage = stage;
		}
		size_t n = STAGE_SIZE - w->staged < len ? STAGE_SIZE - w->staged : len;
		memcpy(w->stage + w->staged, p, n);
		w->staged += n;
		p += n;
		len -= n;
		if (w->staged == STAGE_SIZE) {
			int rc = flush_stage(w, STAGE_SIZE);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Write out what is staged: whole blocks directly, unless the object is small, the rest buffered. */
static int drain_stage(file_writer *w)
{
	size_t head = w->staged - w->staged % DIRECT_ALIGN;
	/* An object that never filled the stage is small: the page cache does it in one call. */
	if (w->placed == 0)
		head = 0;
	int rc = head ? flush_stage(w, head) : 0;
	if (!rc && w->staged)
		rc = buffered_write(w, w->stage, w->staged);
	if (!rc)
		w->staged = 0;
	free(w->stage);
	w->stage = NULL;
	return rc;
}

static int fw_commit(cp_objstore_writer *self)
{
	file_writer *w = (file_writer *)self;
	int rc = drain_stage(w);
	if (rc)
		return rc;
	if (fsync(w->fd))
		return cp_error_set_os(CP_EIO, errno, "cannot flush '%s'", w->tmp);
	if (w->create_only) {
		if (link(w->tmp, w->path))
			return errno == EEXIST ? cp_error_set(CP_EEXISTS, CP_ERRCLASS_OBJSTORE,
							      "'%s' already exists", w->path)
					       : cp_error_set_os(CP_EIO, errno,
								 "cannot create '%s'", w->path);
		unlink(w->tmp);
	} else if (rename(w->tmp, w->path)) {
		return cp_error_set_os(CP_EIO, errno, "cannot rename '%s' into place", w->tmp);
	}
	w->done = 1;
	return cp_fs_fsync_parent(w->path);
}

static void fw_free(cp_objstore_writer *self)
{
	file_writer *w = (file_writer *)self;
	if (w->direct_fd >= 0)
		close(w->direct_fd);
	if (w->fd >= 0)
		close(w->fd);
	if (!w->done && w->tmp)
		unlink(w->tmp);
	free(w->stage);
	free(w->tmp);
	free(w->path);
	free(w);
}

int cp_file_writer_new(cp_objstore_writer **out, const char *path, int create_only)
{
	*out = NULL;
	file_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return cp_error_oom();
	w->fd = -1;
	w->direct_fd = -1;
	w->create_only = create_only;
	w->path = strdup(path);
	int rc = w->path ? cp_fs_temp_sibling(&w->tmp, &w->fd, w->path) : cp_error_oom();
	if (rc) {
		fw_free(&w->base);
		return rc;
	}
	w->base.version = CP_OBJSTORE_WRITER_VERSION;
	w->base.write = fw_write;
	w->base.commit = fw_commit;
	w->base.free = fw_free;
	*out = &w->base;
	return 0;
}
