#include "auth/digest.h"
#include "error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

void cp_auth_sha256(const void *data, size_t len, unsigned char out[CP_SHA256_LEN])
{
	unsigned int n = CP_SHA256_LEN;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void cp_auth_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void cp_auth_sha256_hex(const void *data, size_t len, char out[2 * CP_SHA256_LEN + 1])
{
	unsigned char md[CP_SHA256_LEN];
	cp_auth_sha256(data, len, md);
	cp_auth_hex(md, sizeof(md), out);
}

void cp_auth_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
			 unsigned char out[CP_SHA256_LEN])
{
	unsigned int n = CP_SHA256_LEN;
	HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int cp_base64_encode(cp_buf *out, const void *data, size_t len, int url)
{
	const char *alpha = url ? b64url : b64;
	const unsigned char *p = data;
	int rc = cp_buf_grow(out, out->size + (len + 2) / 3 * 4);
	if (rc)
		return rc;
	char *o = out->ptr + out->size;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 63];
		*o++ = alpha[(v >> 6) & 63];
		*o++ = alpha[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 63];
		if (i + 1 < len)
			*o++ = alpha[(v >> 6) & 63];
		else if (!url)
			*o++ = '=';
		if (!url)
			*o++ = '=';
	}
	out->size = (size_t)(o - out->ptr);
	out->ptr[out->size] = '\0';
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int cp_base64_decode(cp_buf *out, const char *s, size_t len, const char *what)
{
	unsigned v = 0;
	int bits = 0;
	while (len && (s[len - 1] == '=' || s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			continue;
		int d = b64_value(s[i]);
		if (d < 0)
			return cp_error_set(
				CP_EINVALID, CP_ERRCLASS_CONFIG,
				"%s is not valid base64 (bad character at position %zu); "
				"copy it again from the cloud console",
				what, i);
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			unsigned char byte = (unsigned char)(v >> bits);
			int rc = cp_buf_put(out, &byte, 1);
			if (rc)
				return rc;
		}
	}
	return 0;
}

void cp_secret_wipe(void *p, size_t len)
{
	if (p)
		OPENSSL_cleanse(p, len);
}

void cp_secret_free(char *s)
{
	if (s) {
		cp_secret_wipe(s, strlen(s));
		free(s);
	}
}
