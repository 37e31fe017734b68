/*
 * The sealed encoding shared by chunks and metadata objects:
 *
 *   stored = nonce[12] || AES-256-GCM(marker[1] || payload) || tag[16]
 *
 * marker 0: payload is the data; marker 1: payload is one zstd frame
 * holding the data. Compression is kept only when it makes the payload
 * smaller. A codec holds the per-thread contexts (cipher, zstd) so that
 * hot paths allocate nothing per chunk.
 */
#ifndef CP_FORMAT_CODEC_H
#define CP_FORMAT_CODEC_H

#include "cloudprotect/sys/objstore.h"
#include "format/crypto.h"

#include <zstd.h>

#define CP_MARKER_RAW  0
#define CP_MARKER_ZSTD 1

/** Bytes a sealed encoding of len bytes can take at most. */
#define CP_CODEC_MAX_SEALED(len) ((size_t)(len) + CP_SEAL_OVERHEAD + 1)

typedef struct cp_codec {
	cp_aead *aead;
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	int level;
	cp_buf zbuf;  /* compressed payload before sealing */
	cp_buf plain; /* opened plaintext before decompression */
} cp_codec;

int cp_codec_init(cp_codec *c, const uint8_t enc_key[CP_KEY_LEN], int level);
void cp_codec_dispose(cp_codec *c);

/**
 * Seal data into out (replacing its contents), compressing when
 * compress is set and it helps.
 */
int cp_codec_seal(cp_codec *c, const void *aad, size_t aadlen, const void *data, size_t len,
		  int compress, cp_buf *out);

/**
 * Open a sealed encoding into out (replacing its contents). The data
 * may be at most max_len bytes; exact_len, when non-zero, is the length
 * it must have. Returns CP_ECORRUPT without setting the error when the
 * bytes do not authenticate or do not decode, so callers can name the
 * object; other failures set the error.
 */
int cp_codec_open(cp_codec *c, const void *aad, size_t aadlen, const void *in, size_t inlen,
		  size_t max_len, size_t exact_len, cp_buf *out);

#endif
