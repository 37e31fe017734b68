/*
 * Preallocating a restore target in large windows, and giving back at
 * the end the space of blocks that were never written.
 *
 * Why: parallel direct writes into a file only run in parallel when they
 * land in allocated (unwritten) extents; a direct write that allocates,
 * or a fallocate per block, takes the inode lock exclusively and waits
 * for every write in flight, which left the disk with one request at a
 * time. Allocating a window of many blocks at once costs one such wait
 * per window. A window also covers the backup's holes, so once all is
 * written the never-written blocks in allocated windows are punched out
 * again: the target stays sparse. Unwritten extents read as zeros, so
 * the punching is only about space, never about what the file holds.
 */
#ifndef CP_FILE_PREALLOC_H
#define CP_FILE_PREALLOC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct cp_file_prealloc {
	int fd;
	uint64_t size;
	uint32_t block; /* granularity of the map of written blocks */
	pthread_mutex_t mu;
	_Atomic unsigned char *windows; /* per window: 0 not yet, 1 allocated, 2 left alone */
	_Atomic uint64_t *written;	/* a bit per block written (even partly) */
	atomic_int off;			/* the file system refused: allocate nothing more */
} cp_file_prealloc;

/** Set up for a file of size bytes; block is the writes' usual size. Nothing to dispose on failure. */
int cp_file_prealloc_init(cp_file_prealloc *p, int fd, uint64_t size, uint32_t block);

/**
 * Called before writing [offset, offset+len): allocates the windows it
 * falls in (once each; silently gives up where the file system cannot)
 * and records the blocks as written, so they are never punched.
 */
void cp_file_prealloc_write(cp_file_prealloc *p, uint64_t offset, uint64_t len);

/** Punch out the never-written blocks of allocated windows; errors name path. */
int cp_file_prealloc_finish(cp_file_prealloc *p, const char *path);

void cp_file_prealloc_dispose(cp_file_prealloc *p);

#endif
