/*
 * Key files (`keys/<sha256>`): plaintext JSON naming the KDF and its
 * parameters, and the master keys sealed with the password-derived key.
 * Several key files (several passwords) may open one repository.
 */
#ifndef CP_FORMAT_KEYFILE_H
#define CP_FORMAT_KEYFILE_H

#include "cloudprotect/sys/objstore.h"
#include "format/crypto.h"

#define CP_KEYFILE_FORMAT  "cloudprotect-key"
#define CP_KEYFILE_VERSION 1
#define CP_KDF_DEFAULT_N   (1u << 15)
#define CP_KDF_MAX_N	   (1u << 22)
#define CP_KDF_SALT_LEN	   32
/* version[1] enc[32] mac[32] config_sha256[32] */
#define CP_KEY_PAYLOAD_LEN 97
#define CP_KEY_SEALED_LEN  (CP_KEY_PAYLOAD_LEN + CP_SEAL_OVERHEAD)

typedef struct cp_keyfile {
	uint64_t n;
	uint32_t r, p;
	uint8_t salt[CP_KDF_SALT_LEN];
	int64_t created;
	uint8_t sealed[CP_KEY_SEALED_LEN];
} cp_keyfile;

/** Parse and validate a key file (no KDF is run). */
int cp_keyfile_parse(cp_keyfile *out, const char *text, size_t len);

/** Serialise (appends to out). */
int cp_keyfile_write(const cp_keyfile *kf, cp_buf *out);

/** Wrap keys and the config digest with password. */
int cp_keyfile_make(cp_keyfile *out, const char *password, uint64_t n, const cp_master_keys *keys,
		    const uint8_t config_sha256[CP_ID_LEN]);

/** Unwrap; CP_EPASSWORD (error not set) when password does not open it. */
int cp_keyfile_unlock(const cp_keyfile *kf, const char *password, cp_master_keys *keys,
		      uint8_t config_sha256[CP_ID_LEN]);

#endif
