/* Helpers for the repository format tests: small fast repositories and file round trips. */
#ifndef CP_FMTUTIL_H
#define CP_FMTUTIL_H

#include "cloudprotect.h"
#include "testutil.h"

#define FT_PASSWORD "correct horse battery staple"

typedef struct ft_env {
	char *dir;
	char url[600];
	cp_ctx *ctx;
	cp_repository *repo;
} ft_env;

/** A temp dir, a context (2 threads) and a new repository with tiny KDF, chunk and pack sizes. */
void ft_setup(ft_env *e, const char *tag, uint32_t chunk_size, uint32_t pack_size);
/** Close the repository and remove everything. */
void ft_teardown(ft_env *e);
/** "<dir>/<name>" (static buffer rotation: valid for a few calls). */
const char *ft_path(ft_env *e, const char *name);

/** Back up a file; returns the id (free it). stats may be NULL. */
char *ft_backup_file(cp_repository *repo, const char *path, const char *source, const char *parent,
		     const cp_block_range *changed, size_t nchanged, cp_backup_stats *stats);
/** Restore id into path (sparse file) and return cp_restore's code. */
int ft_restore_file(cp_repository *repo, const char *id, const char *path, uint64_t size);
/** Byte size of a file. */
uint64_t ft_file_size(const char *path);
/** Total size of the objects under prefix in a file:// repository directory. */
uint64_t ft_dir_bytes(const char *dir);
/** Count files under a directory (recursively). */
size_t ft_count_files(const char *dir);
/** Paths of the files under dir (recursively), NULL-terminated, malloc'd. */
char **ft_list_files(const char *dir);
void ft_free_list(char **list);
/** Flip one bit of a file at offset. */
void ft_flip_byte(const char *path, uint64_t offset);
/** Write len random bytes at offset of an existing file. */
void ft_write_random(const char *path, uint64_t offset, size_t len, uint64_t seed);
/** Check the repository; returns the number of problems (read_data as given). */
uint64_t ft_check(cp_repository *repo, int read_data, int *rc_out);

#endif
