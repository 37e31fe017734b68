#include "format/crypto.h"
#include "format/bytes.h"

#include "error.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdlib.h>

struct cp_hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

struct cp_aead {
	EVP_CIPHER_CTX *ctx;
	uint8_t key[CP_KEY_LEN];
};

static int crypto_error(const char *what)
{
	return cp_error_set(CP_ERROR, CP_ERRCLASS_REPOSITORY,
			    "OpenSSL failed to %s; is the OpenSSL 3 default provider available?",
			    what);
}

int cp_random(void *buf, size_t len)
{
	if (len && RAND_bytes(buf, (int)len) != 1)
		return crypto_error("produce random bytes");
	return 0;
}

void cp_sha256(const void *data, size_t len, uint8_t out[CP_ID_LEN])
{
	unsigned int n = CP_ID_LEN;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void cp_sha256_hex(const void *data, size_t len, char out[CP_HEX_ID_LEN + 1])
{
	uint8_t id[CP_ID_LEN];
	cp_sha256(data, len, id);
	cp_hex_encode(out, id, CP_ID_LEN);
}

int cp_hmac_new(cp_hmac **out, const uint8_t key[CP_KEY_LEN])
{
	*out = NULL;
	cp_hmac *h = calloc(1, sizeof(*h));
	if (!h)
		return cp_error_oom();
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
	if (!h->ctx || EVP_MAC_init(h->ctx, key, CP_KEY_LEN, params) != 1) {
		cp_hmac_free(h);
		return crypto_error("set up HMAC-SHA256");
	}
	*out = h;
	return 0;
}

int cp_hmac_compute(cp_hmac *h, const void *data, size_t len, uint8_t out[CP_ID_LEN])
{
	size_t n = 0;
	/* A NULL key restarts the MAC with the key given at creation. */
	if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(h->ctx, data, len) != 1 ||
	    EVP_MAC_final(h->ctx, out, &n, CP_ID_LEN) != 1 || n != CP_ID_LEN)
		return crypto_error("compute HMAC-SHA256");
	return 0;
}

void cp_hmac_free(cp_hmac *h)
{
	if (!h)
		return;
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	free(h);
}

int cp_aead_new(cp_aead **out, const uint8_t key[CP_KEY_LEN])
{
	*out = NULL;
	cp_aead *a = calloc(1, sizeof(*a));
	if (!a)
		return cp_error_oom();
	a->ctx = EVP_CIPHER_CTX_new();
	if (!a->ctx) {
		free(a);
		return cp_error_oom();
	}
	memcpy(a->key, key, CP_KEY_LEN);
	*out = a;
	return 0;
}

void cp_aead_free(cp_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx);
	cp_wipe(a->key, sizeof(a->key));
	free(a);
}

int cp_aead_seal(cp_aead *a, const void *aad, size_t aadlen, const void *prefix, size_t plen,
		 const void *data, size_t len, uint8_t *out)
{
	uint8_t *nonce = out, *ct = out + CP_NONCE_LEN;
	int n = 0, total = 0;
	if (len > INT32_MAX || plen > 64)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_REPOSITORY,
				    "internal error: %zu bytes are too many to seal at once", len);
	int rc = cp_random(nonce, CP_NONCE_LEN);
	if (rc)
		return rc;
	EVP_CIPHER_CTX *c = a->ctx;
	if (EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), a->key, nonce, NULL) != 1)
		return crypto_error("start AES-256-GCM");
	if (aadlen && EVP_EncryptUpdate(c, NULL, &n, aad, (int)aadlen) != 1)
		return crypto_error("authenticate data");
	if (plen) {
		if (EVP_EncryptUpdate(c, ct, &n, prefix, (int)plen) != 1)
			return crypto_error("encrypt");
		total += n;
	}
	if (len) {
		if (EVP_EncryptUpdate(c, ct + total, &n, data, (int)len) != 1)
			return crypto_error("encrypt");
		total += n;
	}
	if (EVP_EncryptFinal_ex(c, ct + total, &n) != 1)
		return crypto_error("finish encrypting");
	total += n;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CP_TAG_LEN, ct + total) != 1)
		return crypto_error("produce the GCM tag");
	return 0;
}

int cp_aead_open(cp_aead *a, const void *aad, size_t aadlen, const uint8_t *in, size_t inlen,
		 uint8_t *out)
{
	if (inlen < CP_SEAL_OVERHEAD || inlen - CP_SEAL_OVERHEAD > INT32_MAX)
		return CP_ECORRUPT;
	size_t ctlen = inlen - CP_SEAL_OVERHEAD;
	const uint8_t *ct = in + CP_NONCE_LEN;
	uint8_t tag[CP_TAG_LEN];
	memcpy(tag, ct + ctlen, CP_TAG_LEN);
	EVP_CIPHER_CTX *c = a->ctx;
	int n = 0;
	if (EVP_DecryptInit_ex2(c, EVP_aes_256_gcm(), a->key, in, NULL) != 1)
		return crypto_error("start AES-256-GCM");
	if (aadlen && EVP_DecryptUpdate(c, NULL, &n, aad, (int)aadlen) != 1)
		return CP_ECORRUPT;
	if (ctlen && EVP_DecryptUpdate(c, out, &n, ct, (int)ctlen) != 1)
		return CP_ECORRUPT;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CP_TAG_LEN, tag) != 1)
		return CP_ECORRUPT;
	if (EVP_DecryptFinal_ex(c, out + (ctlen ? n : 0), &n) != 1)
		return CP_ECORRUPT;
	return 0;
}

int cp_scrypt(const char *password, const uint8_t *salt, size_t saltlen, uint64_t n, uint32_t r,
	      uint32_t p, uint8_t out[CP_KEY_LEN])
{
	uint64_t need = 128ull * r * (n + p + 2);
	if (EVP_PBE_scrypt(password, strlen(password), salt, saltlen, n, r, p, need + (1u << 20),
			   out, CP_KEY_LEN) != 1)
		return cp_error_set(
			CP_ENOMEM, CP_ERRCLASS_REPOSITORY,
			"scrypt key derivation failed (N=%llu, r=%u, p=%u needs about %llu MiB "
			"of memory)",
			(unsigned long long)n, r, p, (unsigned long long)(need >> 20));
	return 0;
}

void cp_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

void cp_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cp_hex_decode(uint8_t *out, const char *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]);
		int lo = hi < 0 ? -1 : hexval(in[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return in[2 * n] == '\0' ? 0 : -1;
}

int cp_is_hex_id(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == CP_HEX_ID_LEN;
}
