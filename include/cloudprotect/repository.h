/*
 * libcloudprotect - repositories: portable, deduplicated, compressed,
 * encrypted stores of image backups, addressed by URL:
 *   file:///path   s3://bucket/prefix   azblob://account/container/prefix
 *   gs://bucket/prefix
 */
#ifndef CLOUDPROTECT_REPOSITORY_H
#define CLOUDPROTECT_REPOSITORY_H

#include "common.h"

CP_BEGIN_DECL

typedef struct cp_repository cp_repository;

typedef struct cp_repository_create_options {
	unsigned int version;
	uint32_t chunk_size;	     /**< bytes, power of two; 0 = 512 KiB */
	uint32_t pack_size;	     /**< target pack object size; 0 = 16 MiB */
	int compression_level;	     /**< zstd level; 0 = default (3) */
	const char *storage_class;   /**< NULL: the store's standard class */
	unsigned int immutable_days; /**< lock objects this many days past retention; 0 = off */
	uint64_t kdf_n;		     /**< scrypt N (power of two); 0 = default (2^15) */
} cp_repository_create_options;

#define CP_REPOSITORY_CREATE_OPTIONS_VERSION 1
#define CP_REPOSITORY_CREATE_OPTIONS_INIT                                                          \
	{                                                                                          \
		CP_REPOSITORY_CREATE_OPTIONS_VERSION, 0, 0, 0, NULL, 0, 0                          \
	}

/** Create a new repository at url, encrypted with a key wrapped by password. */
CP_EXTERN(int)
cp_repository_create(cp_repository **out, cp_ctx *ctx, const char *url, const char *password,
		     const cp_repository_create_options *opts);

/** Open an existing repository. CP_EPASSWORD when no key opens with password. */
CP_EXTERN(int)
cp_repository_open(cp_repository **out, cp_ctx *ctx, const char *url, const char *password);

CP_EXTERN(void) cp_repository_close(cp_repository *repo);

typedef struct cp_repository_info {
	char id[65]; /**< hex repository id */
	unsigned int format_version;
	uint32_t chunk_size;
	uint32_t pack_size;
	int compression_level;
	unsigned int immutable_days;
	char storage_class[32];
	int64_t created;
} cp_repository_info;

CP_EXTERN(int) cp_repository_info_get(cp_repository *repo, cp_repository_info *out);

/** Remove stale locks (expired, or of a dead process on this host); all: every lock. */
CP_EXTERN(int) cp_repository_unlock(cp_repository *repo, int all, unsigned int *removed);

CP_END_DECL

#endif
