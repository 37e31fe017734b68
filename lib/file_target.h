/*
 * Writing blocks fast into an open file or block device: the engine of
 * every local restore target (files, devices, the local provider's disks).
 *
 * Aligned blocks go with O_DIRECT where the file system or device allows
 * it: buffered writes into one file serialise on its inode lock and copy
 * every byte into the page cache, which cost more CPU than decrypting and
 * decompressing the backup. Direct writes of new blocks wait on the disk,
 * so they go through a queue (lib/write_queue.h) served by a few threads:
 * the engine's threads copy a block in and go back to decoding, and the
 * disk sees several requests at once. A sparse regular file is
 * preallocated in windows (lib/file_prealloc.h) so that those requests
 * really run in parallel; blocks never written are punched out again at
 * finish. Unaligned pieces (a short last block) go through the page
 * cache, as does everything where O_DIRECT is refused.
 */
#ifndef CP_LIB_FILE_TARGET_H
#define CP_LIB_FILE_TARGET_H

#include <stddef.h>
#include <stdint.h>

#define CP_FILE_TARGET_BLOCK (512u * 1024u)

typedef struct cp_file_target cp_file_target;

/**
 * Write into fd (open for writing; path names it in errors and is opened
 * again with O_DIRECT). sparse: a regular file whose unwritten ranges are
 * holes, to preallocate and give back; 0 for a device or a file whose
 * unwritten bytes must stay as they are. fd stays the caller's.
 */
int cp_file_target_open(cp_file_target **out, int fd, const char *path, uint64_t size, int sparse);

/** Write len bytes at offset; thread-safe. A failed queued write fails a later call. */
int cp_file_target_write(cp_file_target *t, uint64_t offset, const void *buf, size_t len);

/** Wait for every queued write and give back unused preallocation; fsync is the caller's. */
int cp_file_target_finish(cp_file_target *t);

/** Stop, dropping writes still queued (after a failure or without finish). NULL is fine. */
void cp_file_target_free(cp_file_target *t);

#endif
