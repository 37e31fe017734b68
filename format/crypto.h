/*
 * The repository's cryptography, over OpenSSL 3 EVP: SHA-256 object
 * names, HMAC-SHA256 chunk ids, AES-256-GCM sealing and scrypt key
 * derivation. Contexts are per thread; none of them is shared.
 */
#ifndef CP_FORMAT_CRYPTO_H
#define CP_FORMAT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CP_KEY_LEN	    32
#define CP_ID_LEN	    32
#define CP_HEX_ID_LEN	    64
#define CP_NONCE_LEN	    12
#define CP_TAG_LEN	    16
#define CP_SEAL_OVERHEAD    (CP_NONCE_LEN + CP_TAG_LEN)
#define CP_SCRYPT_MAX_BYTES (1024ull * 1024 * 1024)

/** The two random master keys every key file wraps. */
typedef struct cp_master_keys {
	uint8_t enc[CP_KEY_LEN]; /**< AES-256-GCM key for everything sealed */
	uint8_t mac[CP_KEY_LEN]; /**< HMAC-SHA256 key for chunk ids */
} cp_master_keys;

/** Cryptographically strong random bytes. */
int cp_random(void *buf, size_t len);

/** One-shot SHA-256. */
void cp_sha256(const void *data, size_t len, uint8_t out[CP_ID_LEN]);

/** SHA-256 of data as 64 hex digits (out has room for 65). */
void cp_sha256_hex(const void *data, size_t len, char out[CP_HEX_ID_LEN + 1]);

/** A keyed HMAC-SHA256, reusable for many messages. */
typedef struct cp_hmac cp_hmac;
int cp_hmac_new(cp_hmac **out, const uint8_t key[CP_KEY_LEN]);
int cp_hmac_compute(cp_hmac *h, const void *data, size_t len, uint8_t out[CP_ID_LEN]);
void cp_hmac_free(cp_hmac *h);

/** A keyed AES-256-GCM context. */
typedef struct cp_aead cp_aead;
int cp_aead_new(cp_aead **out, const uint8_t key[CP_KEY_LEN]);
void cp_aead_free(cp_aead *a);

/**
 * Seal prefix || data (prefix may be empty) into out, which must hold
 * CP_SEAL_OVERHEAD + plen + len bytes: random nonce || ciphertext || tag.
 * The prefix lets callers add a marker byte without copying the data.
 */
int cp_aead_seal(cp_aead *a, const void *aad, size_t aadlen, const void *prefix, size_t plen,
		 const void *data, size_t len, uint8_t *out);

/**
 * Open a sealed message of inlen bytes into out (inlen - CP_SEAL_OVERHEAD
 * bytes). Returns CP_ECORRUPT (without setting the error) when the
 * message is short or does not authenticate, so callers can name what.
 */
int cp_aead_open(cp_aead *a, const void *aad, size_t aadlen, const uint8_t *in, size_t inlen,
		 uint8_t *out);

/** scrypt(password, salt) into a 32-byte key. */
int cp_scrypt(const char *password, const uint8_t *salt, size_t saltlen, uint64_t n, uint32_t r,
	      uint32_t p, uint8_t out[CP_KEY_LEN]);

/** Overwrite secrets so they do not linger in freed memory. */
void cp_wipe(void *p, size_t len);

#endif
