/*
 * Packs (`data/<xx>/<sha256>`): sealed chunks back to back, then the
 * sealed pack header listing them, then the header's length:
 *
 *   blob_0 || ... || blob_n-1 || sealed(header) || u32le len(sealed(header))
 *
 * Header plaintext: u8 version (1), 3 zero bytes, u32le count, then count
 * entries of 44 bytes: id[32], u32le offset, u32le stored length,
 * u32le raw length. The header makes a pack self-describing, so indexes
 * can be rebuilt from packs alone.
 */
#ifndef CP_FORMAT_PACK_H
#define CP_FORMAT_PACK_H

#include "cloudprotect/sys/objstore.h"
#include "format/crypto.h"

#define CP_PACK_HEADER_VERSION 1
#define CP_PACK_ENTRY_SIZE     44
#define CP_PACK_HEADER_AAD     "cloudprotect-pack-header-v1"
/** The smallest stored blob: sealing overhead plus the marker byte. */
#define CP_BLOB_MIN_LEN (CP_SEAL_OVERHEAD + 1)

typedef struct cp_pack_entry {
	uint8_t id[CP_ID_LEN];
	uint32_t offset;
	uint32_t length;
	uint32_t raw_length;
} cp_pack_entry;

/** Serialise the header plaintext (appends to out). */
int cp_pack_header_encode(const cp_pack_entry *entries, size_t n, cp_buf *out);

/**
 * Parse a header plaintext of a pack whose blobs end at blobs_end.
 * Entries must lie within the blobs, in order, without overlap.
 * *out is malloc'd. CP_ECORRUPT (error set) when invalid.
 */
int cp_pack_header_parse(const uint8_t *p, size_t len, uint64_t blobs_end, cp_pack_entry **out,
			 size_t *n);

/**
 * Where the sealed header of a pack of size bytes lies, from the pack's
 * last four bytes (tail). CP_ECORRUPT when it cannot.
 */
int cp_pack_locate_header(const uint8_t tail[4], uint64_t size, uint64_t *offset, uint32_t *len);

#endif
