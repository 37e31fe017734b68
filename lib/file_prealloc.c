#include "file_prealloc.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

/* Large enough that the wait for writes in flight is rare, small enough to waste little. */
#define WINDOW_SIZE (64ull << 20)

enum {
	WINDOW_NOT_YET,
	WINDOW_ALLOCATED,
	WINDOW_LEFT_ALONE
};

int cp_file_prealloc_init(cp_file_prealloc *p, int fd, uint64_t size, uint32_t block)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->size = size;
	/* Windows must hold whole blocks. */
	p->block = block && WINDOW_SIZE % block == 0 ? block : 4096;
	pthread_mutex_init(&p->mu, NULL);
	uint64_t nwindows = size / WINDOW_SIZE + 1;
	uint64_t nblocks = size / p->block + 1;
	p->windows = calloc(nwindows, sizeof(*p->windows));
	p->written = calloc(nblocks / 64 + 1, sizeof(*p->written));
	if (!p->windows || !p->written) {
		cp_file_prealloc_dispose(p);
		return cp_error_oom();
	}
	return 0;
}

void cp_file_prealloc_dispose(cp_file_prealloc *p)
{
	free((void *)p->windows);
	free((void *)p->written);
	p->windows = NULL;
	p->written = NULL;
	pthread_mutex_destroy(&p->mu);
}

static void allocate_window(cp_file_prealloc *p, uint64_t w)
{
	pthread_mutex_lock(&p->mu);
	if (atomic_load(&p->windows[w]) == WINDOW_NOT_YET) {
		uint64_t start = w * WINDOW_SIZE;
		uint64_t len = p->size - start < WINDOW_SIZE ? p->size - start : WINDOW_SIZE;
		int ok = !atomic_load(&p->off) &&
			 !fallocate(p->fd, FALLOC_FL_KEEP_SIZE, (off_t)start, (off_t)len);
		/* Out of space for a whole window, or no fallocate: writes allocate for themselves. */
		if (!ok)
			atomic_store(&p->off, 1);
		atomic_store(&p->windows[w], ok ? WINDOW_ALLOCATED : WINDOW_LEFT_ALONE);
	}
	pthread_mutex_unlock(&p->mu);
}

void cp_file_prealloc_write(cp_file_prealloc *p, uint64_t offset, uint64_t len)
{
	if (!len || offset >= p->size)
		return;
	uint64_t end = offset + len > p->size ? p->size : offset + len;
	for (uint64_t b = offset / p->block; b <= (end - 1) / p->block; b++)
		atomic_fetch_or(&p->written[b / 64], 1ull << (b % 64));
	for (uint64_t w = offset / WINDOW_SIZE; w <= (end - 1) / WINDOW_SIZE; w++)
		if (atomic_load(&p->windows[w]) == WINDOW_NOT_YET)
			allocate_window(p, w);
}

static int is_written(cp_file_prealloc *p, uint64_t b)
{
	return (atomic_load(&p->written[b / 64]) >> (b % 64)) & 1;
}

static int punch(cp_file_prealloc *p, uint64_t start, uint64_t end, const char *path)
{
	if (end > p->size)
		end = p->size;
	if (start >= end || !fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       (off_t)start, (off_t)(end - start)))
		return 0;
	/* Only space is at stake: unwritten extents read as zeros. */
	if (errno == EOPNOTSUPP)
		return 0;
	return cp_error_set_os(CP_EIO, errno, "cannot give back unused space in '%s'", path);
}

int cp_file_prealloc_finish(cp_file_prealloc *p, const char *path)
{
	uint64_t nwindows = p->size / WINDOW_SIZE + (p->size % WINDOW_SIZE != 0);
	uint64_t per_window = WINDOW_SIZE / p->block;
	uint64_t nblocks = p->size / p->block + (p->size % p->block != 0);
	for (uint64_t w = 0; w < nwindows; w++) {
		if (atomic_load(&p->windows[w]) != WINDOW_ALLOCATED)
			continue;
		uint64_t b = w * per_window, last = b + per_window;
		if (last > nblocks)
			last = nblocks;
		while (b < last) {
			if (is_written(p, b)) {
				b++;
				continue;
			}
			uint64_t run = b;
			while (b < last && !is_written(p, b))
				b++;
			int rc = punch(p, run * p->block, b * p->block, path);
			if (rc)
				return rc;
		}
	}
	return 0;
}
