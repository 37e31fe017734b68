/* Hashes, HMACs and encodings that every signer needs, over OpenSSL. */
#ifndef CP_LIB_AUTH_DIGEST_H
#define CP_LIB_AUTH_DIGEST_H

#include "cloudprotect/sys/objstore.h"

#include <stddef.h>

#define CP_SHA256_LEN 32

void cp_auth_sha256(const void *data, size_t len, unsigned char out[CP_SHA256_LEN]);
/** Lower-case hex SHA-256 of data, NUL-terminated. */
void cp_auth_sha256_hex(const void *data, size_t len, char out[2 * CP_SHA256_LEN + 1]);
void cp_auth_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
			 unsigned char out[CP_SHA256_LEN]);
/** Lower-case hex of len bytes into out (2 * len + 1 bytes). */
void cp_auth_hex(const unsigned char *in, size_t len, char *out);

/** Append base64 of data to out; url: base64url without padding (JWT). */
int cp_base64_encode(cp_buf *out, const void *data, size_t len, int url);
/** Append the decoded bytes; CP_EINVALID naming what when s is not base64. */
int cp_base64_decode(cp_buf *out, const char *s, size_t len, const char *what);

/** Overwrite a secret before its memory is freed. */
void cp_secret_wipe(void *p, size_t len);
/** Wipe and free a NUL-terminated secret. */
void cp_secret_free(char *s);

#endif
