/*
 * Files and block devices as block sources. Regular files are read
 * sparse-aware (SEEK_DATA). Restore targets: blockio_file_writer.c.
 */
#include "cloudprotect/sys/provider.h"
#include "error.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	if (cp_fs_size(fd, &st, &size)) {
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
