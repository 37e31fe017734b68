/*
 * Index objects (`index/<sha256>`): which chunks each pack holds.
 *
 *   "CPIX" u8 version(1) 3 zero bytes || sealed(body)   (AAD: the 8 bytes before)
 *
 * Body plaintext: u32le pack count, then per pack: id[32], u64le pack
 * size, u32le entry count, entries as in the pack header (44 bytes).
 */
#ifndef CP_FORMAT_INDEX_OBJECT_H
#define CP_FORMAT_INDEX_OBJECT_H

#include "format/pack.h"

#define CP_INDEX_MAGIC	 "CPIX"
#define CP_INDEX_VERSION 1

typedef struct cp_index_pack {
	uint8_t id[CP_ID_LEN];
	uint64_t size;
	cp_pack_entry *entries;
	size_t n;
} cp_index_pack;

/** Serialise a body (appends to out). */
int cp_index_body_encode(const cp_index_pack *packs, size_t npacks, cp_buf *out);

/** Receives one pack of a parsed body; entries are valid during the call. */
typedef int (*cp_index_pack_cb)(const cp_index_pack *pack, void *payload);

/** Parse and validate a body; CP_ECORRUPT (error set) when invalid. */
int cp_index_body_parse(const uint8_t *p, size_t len, cp_index_pack_cb cb, void *payload);

#endif
