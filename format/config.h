/*
 * The `config` object: plaintext JSON with the repository's immutable
 * settings. It is authenticated through the key files: each sealed key
 * payload carries the SHA-256 of the exact config bytes, checked at open.
 */
#ifndef CP_FORMAT_CONFIG_H
#define CP_FORMAT_CONFIG_H

#include "cloudprotect/sys/objstore.h"

#define CP_FORMAT_NAME	      "cloudprotect-repository"
#define CP_FORMAT_VERSION     1
#define CP_DEFAULT_CHUNK_SIZE (512u * 1024)
#define CP_DEFAULT_PACK_SIZE  (16u * 1024 * 1024)
#define CP_DEFAULT_ZSTD_LEVEL 3
#define CP_MIN_CHUNK_SIZE     1024u
#define CP_MAX_CHUNK_SIZE     (64u * 1024 * 1024)
#define CP_MIN_PACK_SIZE      (4u * 1024)
#define CP_MAX_PACK_SIZE      (1024u * 1024 * 1024)
#define CP_MAX_IMMUTABLE_DAYS 36500u

typedef struct cp_config {
	unsigned int version;
	char id[65];
	uint32_t chunk_size;
	uint32_t pack_size;
	int compression_level;
	char storage_class[32];
	unsigned int immutable_days;
	int64_t created;
} cp_config;

/** Parse and validate config text; CP_EINVALID names the bad field, CP_EUNSUPPORTED a newer version. */
int cp_config_parse(cp_config *out, const char *text, size_t len);

/** Serialise (appends to out). */
int cp_config_write(const cp_config *cfg, cp_buf *out);

#endif
