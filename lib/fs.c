#include "fs.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

int cp_fs_pread_full(int fd, void *buf, size_t len, uint64_t offset, const char *path)
{
	char *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cp_error_set_os(CP_EIO, errno, "cannot read '%s' at offset %llu",
					       path, (unsigned long long)offset);
		}
		if (n == 0)
			return cp_error_set(CP_EIO, CP_ERRCLASS_OS,
					    "'%s' ended early at offset %llu (was it truncated?)",
					    path, (unsigned long long)offset);
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

int cp_fs_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset, const char *path)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cp_error_set_os(CP_EIO, errno, "cannot write '%s' at offset %llu",
					       path, (unsigned long long)offset);
		}
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

int cp_fs_mkdir_p(const char *path, unsigned int mode)
{
	char *copy = strdup(path);
	if (!copy)
		return cp_error_oom();
	for (char *p = copy + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(copy, mode) && errno != EEXIST) {
				int e = errno;
				int rc = cp_error_set_os(CP_EIO, e, "cannot create directory '%s'",
							 copy);
				free(copy);
				return rc;
			}
			*p = saved;
			if (!saved)
				break;
		}
	}
	free(copy);
	return 0;
}

int cp_fs_fsync_parent(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return cp_error_oom();
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0 || fsync(fd))
		rc = cp_error_set_os(CP_EIO, errno, "cannot sync directory of '%s'", path);
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int cp_fs_temp_sibling(char **tmp_path, int *fd, const char *path)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return cp_error_oom();
	snprintf(tmp, n, "%s.tmp-XXXXXX", path);
	int f = mkostemp(tmp, O_CLOEXEC);
	if (f < 0) {
		int rc = cp_error_set_os(CP_EIO, errno, "cannot create a file beside '%s'", path);
		free(tmp);
		return rc;
	}
	*tmp_path = tmp;
	*fd = f;
	return 0;
}

int cp_fs_write_atomic(const char *path, const void *data, size_t len, int exclusive)
{
	char *tmp = NULL;
	int fd = -1;
	int rc = cp_fs_temp_sibling(&tmp, &fd, path);
	if (rc)
		return rc;
	rc = cp_fs_pwrite_full(fd, data, len, 0, tmp);
	if (!rc && fsync(fd))
		rc = cp_error_set_os(CP_EIO, errno, "cannot flush '%s'", tmp);
	if (close(fd) && !rc)
		rc = cp_error_set_os(CP_EIO, errno, "cannot close '%s'", tmp);
	if (!rc && exclusive) {
		/* link() fails when the target exists, unlike rename(). */
		if (link(tmp, path)) {
			if (errno == EEXIST)
				rc = cp_error_set(CP_EEXISTS, CP_ERRCLASS_OS, "'%s' already exists",
						  path);
			else
				rc = cp_error_set_os(CP_EIO, errno, "cannot create '%s'", path);
		}
		unlink(tmp);
	} else if (!rc && rename(tmp, path)) {
		rc = cp_error_set_os(CP_EIO, errno, "cannot rename '%s' to '%s'", tmp, path);
	}
	if (rc)
		unlink(tmp);
	else
		rc = cp_fs_fsync_parent(path);
	free(tmp);
	return rc;
}

int cp_fs_read_file(const char *path, cp_buf *out)
{
	cp_buf_clear(out);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cp_error_set_os(CP_EIO, errno, "cannot open '%s'", path);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st))
		rc = cp_error_set_os(CP_EIO, errno, "cannot stat '%s'", path);
	if (!rc)
		rc = cp_buf_grow(out, (size_t)st.st_size);
	if (!rc) {
		rc = cp_fs_pread_full(fd, out->ptr, (size_t)st.st_size, 0, path);
		if (!rc) {
			out->size = (size_t)st.st_size;
			out->ptr[out->size] = '\0';
		}
	}
	close(fd);
	return rc;
}

char *cp_path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", a, b);
	return s;
}

int cp_fs_size(int fd, const struct stat *st, uint64_t *size)
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
