/* One bit per chunk: which chunks a job must read, which changed. 2 MiB covers 8 TiB of 512 KiB chunks. */
#ifndef CP_JOB_BITMAP_H
#define CP_JOB_BITMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct cp_bitmap {
	uint64_t *words;
	uint64_t nbits;
} cp_bitmap;

int cp_bitmap_init(cp_bitmap *b, uint64_t nbits);
void cp_bitmap_dispose(cp_bitmap *b);

static inline int cp_bitmap_test(const cp_bitmap *b, uint64_t i)
{
	return i < b->nbits && (b->words[i >> 6] >> (i & 63) & 1);
}

/** Set bits [first, end). */
void cp_bitmap_set_range(cp_bitmap *b, uint64_t first, uint64_t end);

/** Set the bits of the chunks that bytes [offset, offset + len) touch, clamped to the disk. */
void cp_bitmap_mark_bytes(cp_bitmap *b, uint32_t chunk_size, uint64_t offset, uint64_t len);

/** The first set bit at or after from, or nbits. */
uint64_t cp_bitmap_next(const cp_bitmap *b, uint64_t from);

/** b &= other. */
void cp_bitmap_and(cp_bitmap *b, const cp_bitmap *other);

#endif
