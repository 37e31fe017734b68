/*
 * Chunks: the unit of deduplication. A chunk's id is HMAC-SHA256 of its
 * plaintext under the repository's MAC key; its blob is the sealed
 * encoding (format/codec.h) with the id as AAD, so a blob cannot be
 * passed off as another chunk. Reading a chunk decrypts (any flipped
 * byte fails the tag), decompresses and recomputes the id.
 *
 * A chunk coder holds one thread's contexts and buffers.
 */
#ifndef CP_FORMAT_CHUNK_H
#define CP_FORMAT_CHUNK_H

#include "format/packer.h"

typedef struct cp_chunk_coder {
	cp_hmac *mac;
	cp_codec codec;
	cp_buf sealed;
} cp_chunk_coder;

int cp_chunk_coder_init(cp_chunk_coder *c, const cp_repository *repo);
void cp_chunk_coder_dispose(cp_chunk_coder *c);

/** 1 when len bytes at p are all zero (a hole). */
int cp_chunk_is_zero(const void *p, size_t len);

/** The chunk id of data. */
int cp_chunk_id(cp_chunk_coder *c, const void *data, size_t len, uint8_t id[CP_ID_LEN]);

/**
 * Store a chunk whose id is known: claim it in packer and, when new,
 * seal it and add it. *stored receives the sealed bytes added (0 when
 * the chunk was there already).
 */
int cp_chunk_store(cp_chunk_coder *c, cp_packer *packer, const uint8_t id[CP_ID_LEN],
		   const void *data, size_t len, uint64_t *stored);

/**
 * Decode the blob of chunk id into out and verify it. CP_ECORRUPT with
 * the error set naming the chunk when anything is wrong.
 */
int cp_chunk_open(cp_chunk_coder *c, const uint8_t id[CP_ID_LEN], const void *blob, size_t len,
		  uint32_t raw_len, cp_buf *out);

#endif
