#include "format/codec.h"

#include "error.h"

#include <string.h>

/*
 * At levels 2 and 3 zstd sizes its match tables for inputs of many MiB
 * (2^17 hash entries, 2^16 chain entries at level 3). For chunks of a few
 * hundred KiB, smaller tables that stay in a core's L2 cache compress
 * faster for a little more output. Measured on the bench's 2 GiB ext4
 * image at level 3 (one full backup, 2 cores): hash/chain logs 17/16
 * (zstd's own) 3.07-3.16 s and 529.7 MiB; 16/15 2.89 s and 531.8 MiB;
 * 15/14 2.67 s and 535.6 MiB. 16/15 keeps the repository clearly smaller
 * than borg's (543-556 MiB there) at most of the speed. Only the
 * compressor changes: every frame decodes as before.
 */
#define SMALL_TABLES_MIN_LEVEL 2
#define SMALL_TABLES_MAX_LEVEL 3
#define SMALL_HASH_LOG	       16
#define SMALL_CHAIN_LOG	       15

static int set_level(ZSTD_CCtx *cctx, int level)
{
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)))
		return -1;
	if (level < SMALL_TABLES_MIN_LEVEL || level > SMALL_TABLES_MAX_LEVEL)
		return 0;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, SMALL_HASH_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_chainLog, SMALL_CHAIN_LOG)))
		return -1;
	return 0;
}

int cp_codec_init(cp_codec *c, const uint8_t enc_key[CP_KEY_LEN], int level)
{
	memset(c, 0, sizeof(*c));
	c->level = level;
	int rc = cp_aead_new(&c->aead, enc_key);
	if (rc)
		return rc;
	c->cctx = ZSTD_createCCtx();
	c->dctx = ZSTD_createDCtx();
	if (!c->cctx || !c->dctx) {
		cp_codec_dispose(c);
		return cp_error_oom();
	}
	if (set_level(c->cctx, level)) {
		cp_codec_dispose(c);
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_REPOSITORY,
				    "zstd refuses compression level %d; use a level from 1 to 22",
				    level);
	}
	return 0;
}

void cp_codec_dispose(cp_codec *c)
{
	cp_aead_free(c->aead);
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	cp_buf_dispose(&c->zbuf);
	cp_buf_dispose(&c->plain);
	memset(c, 0, sizeof(*c));
}

int cp_codec_seal(cp_codec *c, const void *aad, size_t aadlen, const void *data, size_t len,
		  int compress, cp_buf *out)
{
	const void *payload = data;
	size_t plen = len;
	uint8_t marker = CP_MARKER_RAW;
	int rc;
	if (compress && len >= 64) {
		size_t bound = ZSTD_compressBound(len);
		if ((rc = cp_buf_grow(&c->zbuf, bound)))
			return rc;
		size_t z = ZSTD_compress2(c->cctx, c->zbuf.ptr, bound, data, len);
		if (ZSTD_isError(z))
			return cp_error_set(CP_ERROR, CP_ERRCLASS_REPOSITORY,
					    "zstd compression failed: %s", ZSTD_getErrorName(z));
		if (z < len) {
			payload = c->zbuf.ptr;
			plen = z;
			marker = CP_MARKER_ZSTD;
		}
	}
	cp_buf_clear(out);
	if ((rc = cp_buf_grow(out, CP_CODEC_MAX_SEALED(plen))))
		return rc;
	rc = cp_aead_seal(c->aead, aad, aadlen, &marker, 1, payload, plen, (uint8_t *)out->ptr);
	if (rc)
		return rc;
	out->size = CP_CODEC_MAX_SEALED(plen);
	return 0;
}

int cp_codec_open(cp_codec *c, const void *aad, size_t aadlen, const void *in, size_t inlen,
		  size_t max_len, size_t exact_len, cp_buf *out)
{
	int rc;
	if (inlen < CP_SEAL_OVERHEAD + 1)
		return CP_ECORRUPT;
	size_t plen = inlen - CP_SEAL_OVERHEAD;
	if ((rc = cp_buf_grow(&c->plain, plen)))
		return rc;
	rc = cp_aead_open(c->aead, aad, aadlen, in, inlen, (uint8_t *)c->plain.ptr);
	if (rc)
		return rc;
	const uint8_t *p = (const uint8_t *)c->plain.ptr;
	cp_buf_clear(out);
	if (p[0] == CP_MARKER_RAW) {
		size_t n = plen - 1;
		if (n > max_len || (exact_len && n != exact_len))
			return CP_ECORRUPT;
		return cp_buf_put(out, p + 1, n);
	}
	if (p[0] != CP_MARKER_ZSTD)
		return CP_ECORRUPT;
	unsigned long long n = ZSTD_getFrameContentSize(p + 1, plen - 1);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > max_len ||
	    (exact_len && n != exact_len))
		return CP_ECORRUPT;
	if ((rc = cp_buf_grow(out, (size_t)n)))
		return rc;
	size_t got = ZSTD_decompressDCtx(c->dctx, out->ptr, (size_t)n, p + 1, plen - 1);
	if (ZSTD_isError(got) || got != n)
		return CP_ECORRUPT;
	out->size = got;
	out->ptr[got] = '\0';
	return 0;
}
