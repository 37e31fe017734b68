/* File system helpers shared by every module that touches local files. */
#ifndef CP_LIB_FS_H
#define CP_LIB_FS_H

#include "cloudprotect/sys/objstore.h"

#include <stddef.h>
#include <stdint.h>

/** pread/pwrite until done; errors name path. */
int cp_fs_pread_full(int fd, void *buf, size_t len, uint64_t offset, const char *path);
int cp_fs_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset, const char *path);

struct stat;
/** Bytes in a regular file or block device (st from fstat of fd); -1 with errno otherwise. */
int cp_fs_size(int fd, const struct stat *st, uint64_t *size);

/** mkdir -p. */
int cp_fs_mkdir_p(const char *path, unsigned int mode);

/** fsync the directory holding path, so a rename in it is durable. */
int cp_fs_fsync_parent(const char *path);

/** Create and open a new unique file beside path ("path.tmp-XXXXXX"). */
int cp_fs_temp_sibling(char **tmp_path, int *fd, const char *path);

/**
 * Write a whole file atomically: temp file, fsync, rename, fsync dir.
 * exclusive: fail with CP_EEXISTS when path exists (link instead of rename).
 */
int cp_fs_write_atomic(const char *path, const void *data, size_t len, int exclusive);

/** Read a whole file into out (cleared first). CP_ENOTFOUND when missing. */
int cp_fs_read_file(const char *path, cp_buf *out);

/** malloc'd "a/b". */
char *cp_path_join(const char *a, const char *b);

#endif
