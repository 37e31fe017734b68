/*
 * The in-memory chunk index: chunk id -> (pack, offset, stored length,
 * raw length). Entries (48 bytes) live in fixed blocks that never move;
 * an open-addressing array of 32-bit entry numbers (linear probing,
 * keyed by the id's first 8 bytes, which are uniform because ids are
 * HMAC outputs) finds them. That is 48 + 5..11 bytes per chunk and no
 * allocation per entry. Packs are numbered and their ids kept once in a
 * side table.
 *
 * Not thread-safe by itself; the repository guards it with a rwlock.
 */
#ifndef CP_FORMAT_INDEX_TABLE_H
#define CP_FORMAT_INDEX_TABLE_H

#include "format/crypto.h"

#include <stddef.h>
#include <stdint.h>

#define CP_PACK_NONE	0xFFFFFFFFu /* unknown pack */
#define CP_PACK_PENDING 0xFFFFFFFEu /* claimed by a running backup, not packed yet */
#define CP_PACK_MAX	0xFFFFFFF0u

typedef struct cp_chunk_loc {
	uint32_t pack; /**< pack number in the table, or CP_PACK_PENDING */
	uint32_t offset;
	uint32_t length;     /**< stored (sealed) bytes */
	uint32_t raw_length; /**< plaintext bytes */
} cp_chunk_loc;

typedef struct cp_index_entry {
	uint8_t id[CP_ID_LEN];
	cp_chunk_loc loc;
} cp_index_entry;

typedef struct cp_pack_info {
	uint8_t id[CP_ID_LEN];
	uint64_t size;
} cp_pack_info;

/* A hash of 32-bit numbers (n + 1; 0 = empty) of things named by 32-byte ids. */
typedef struct cp_id_hash {
	uint32_t *slots;
	size_t mask;
} cp_id_hash;

typedef struct cp_index_table {
	cp_index_entry **blocks;
	size_t nblocks;
	size_t count;
	cp_id_hash entries;
	cp_pack_info *packs;
	size_t npacks, packs_cap;
	cp_id_hash pack_hash;
} cp_index_table;

int cp_index_table_init(cp_index_table *t);
void cp_index_table_dispose(cp_index_table *t);

/** The entry for id, or NULL. */
cp_index_entry *cp_index_table_find(const cp_index_table *t, const uint8_t id[CP_ID_LEN]);

/** Entry number i (< count). Entries never move. */
cp_index_entry *cp_index_table_at(const cp_index_table *t, size_t i);

/**
 * Insert id at loc unless it is there already; *entry (may be NULL)
 * receives the entry, *inserted (may be NULL) whether it was new.
 */
int cp_index_table_insert(cp_index_table *t, const uint8_t id[CP_ID_LEN], const cp_chunk_loc *loc,
			  cp_index_entry **entry, int *inserted);

/** The number of a pack, adding it when new. */
int cp_index_table_add_pack(cp_index_table *t, const uint8_t id[CP_ID_LEN], uint64_t size,
			    uint32_t *number);

/** Look a pack up by id; CP_PACK_NONE when unknown. */
uint32_t cp_index_table_pack_number(const cp_index_table *t, const uint8_t id[CP_ID_LEN]);

#endif
