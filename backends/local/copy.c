/*
 * Copying disk images the way a cloud snapshot would: instantly and
 * sharing blocks where the filesystem can reflink (FICLONE on XFS, btrfs,
 * bcachefs), else copying only the ranges that hold data, so a mostly
 * empty disk stays mostly empty on the host.
 */
#include "error.h"
#include "fs.h"
#include "local_cloud.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (1u << 20)

typedef struct {
	int src, dst;
	const char *src_path, *dst_path;
	int use_copy_range;
	char *buf;
} copier;

static int is_zero(const char *p, size_t len)
{
	return len == 0 || (p[0] == 0 && !memcmp(p, p + 1, len - 1));
}

static int copy_with_io(copier *c, uint64_t offset, uint64_t len)
{
	if (!c->buf && !(c->buf = malloc(COPY_CHUNK)))
		return cp_error_oom();
	while (len) {
		size_t n = len < COPY_CHUNK ? (size_t)len : COPY_CHUNK;
		int rc = cp_fs_pread_full(c->src, c->buf, n, offset, c->src_path);
		/* The target starts as one hole: zeros need not be written. */
		if (!rc && !is_zero(c->buf, n))
			rc = cp_fs_pwrite_full(c->dst, c->buf, n, offset, c->dst_path);
		if (rc)
			return rc;
		offset += n;
		len -= n;
	}
	return 0;
}

static int copy_range(copier *c, uint64_t offset, uint64_t len)
{
	while (len && c->use_copy_range) {
		loff_t in = (loff_t)offset, out = (loff_t)offset;
		ssize_t n = copy_file_range(c->src, &in, c->dst, &out, len, 0);
		if (n > 0) {
			offset += (uint64_t)n;
			len -= (uint64_t)n;
			continue;
		}
		if (n == 0)
			return cp_error_set(CP_EIO, CP_ERRCLASS_OS,
					    "'%s' ended early at offset %llu (was it truncated?)",
					    c->src_path, (unsigned long long)offset);
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return cp_error_set_os(CP_EIO, errno, "cannot copy '%s' to '%s'",
					       c->src_path, c->dst_path);
		c->use_copy_range = 0; /* not across these filesystems: read and write */
	}
	return len ? copy_with_io(c, offset, len) : 0;
}

/* Copy every range SEEK_DATA reports; where it is not supported, everything. */
static int copy_data_ranges(copier *c, uint64_t src_size)
{
	uint64_t pos = 0;
	while (pos < src_size) {
		off_t data = lseek(c->src, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			return 0;
		if (data < 0)
			return copy_range(c, pos, src_size - pos);
		off_t hole = lseek(c->src, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > src_size)
			hole = (off_t)src_size;
		int rc = copy_range(c, (uint64_t)data, (uint64_t)(hole - data));
		if (rc)
			return rc;
		pos = (uint64_t)hole;
	}
	return 0;
}

static int try_reflink(copier *c)
{
	return ioctl(c->dst, FICLONE, c->src) == 0;
}

int local_copy_file(const char *src, const char *dst, uint64_t size, local_copy_mode mode)
{
	copier c = {.src = -1, .dst = -1, .src_path = src, .dst_path = dst};
	c.use_copy_range = mode != LOCAL_COPY_READ_WRITE;
	struct stat st;
	int rc = 0;
	c.src = open(src, O_RDONLY | O_CLOEXEC);
	if (c.src < 0 || fstat(c.src, &st)) {
		rc = cp_error_set_os(CP_EIO, errno, "cannot open '%s'", src);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > size) {
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				  "'%s' is not a regular file of at most %llu bytes", src,
				  (unsigned long long)size);
		goto out;
	}
	c.dst = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (c.dst < 0) {
		rc = cp_error_set_os(CP_EIO, errno, "cannot create '%s'", dst);
		goto out;
	}
	if (mode != LOCAL_COPY_AUTO || !try_reflink(&c))
		rc = copy_data_ranges(&c, (uint64_t)st.st_size);
	if (!rc && ftruncate(c.dst, (off_t)size))
		rc = cp_error_set_os(CP_EIO, errno, "cannot size '%s' to %llu bytes", dst,
				     (unsigned long long)size);
	if (!rc && fsync(c.dst))
		rc = cp_error_set_os(CP_EIO, errno, "cannot flush '%s'", dst);
out:
	if (c.src >= 0)
		close(c.src);
	if (c.dst >= 0) {
		close(c.dst);
		if (rc)
			unlink(dst);
	}
	free(c.buf);
	return rc;
}
