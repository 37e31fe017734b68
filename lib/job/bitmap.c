#include "job/bitmap.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int cp_bitmap_init(cp_bitmap *b, uint64_t nbits)
{
	b->nbits = nbits;
	b->words = calloc((size_t)(nbits / 64 + 1), sizeof(uint64_t));
	return b->words ? 0 : cp_error_oom();
}

void cp_bitmap_dispose(cp_bitmap *b)
{
	free(b->words);
	b->words = NULL;
	b->nbits = 0;
}

void cp_bitmap_set_range(cp_bitmap *b, uint64_t first, uint64_t end)
{
	if (end > b->nbits)
		end = b->nbits;
	for (uint64_t i = first; i < end;) {
		if (!(i & 63) && end - i >= 64) {
			b->words[i >> 6] = ~0ull;
			i += 64;
		} else {
			b->words[i >> 6] |= 1ull << (i & 63);
			i++;
		}
	}
}

void cp_bitmap_mark_bytes(cp_bitmap *b, uint32_t chunk_size, uint64_t offset, uint64_t len)
{
	uint64_t span = b->nbits * chunk_size;
	if (!len || offset >= span)
		return;
	if (len > span - offset)
		len = span - offset;
	uint64_t first = offset / chunk_size;
	uint64_t last = (offset + len - 1) / chunk_size;
	cp_bitmap_set_range(b, first, last + 1);
}

uint64_t cp_bitmap_next(const cp_bitmap *b, uint64_t from)
{
	while (from < b->nbits) {
		uint64_t w = b->words[from >> 6] >> (from & 63);
		if (w) {
			from += (uint64_t)__builtin_ctzll(w);
			return from < b->nbits ? from : b->nbits;
		}
		from = (from | 63) + 1;
	}
	return b->nbits;
}

void cp_bitmap_and(cp_bitmap *b, const cp_bitmap *other)
{
	uint64_t n = b->nbits / 64 + 1;
	for (uint64_t i = 0; i < n; i++)
		b->words[i] &= i <= other->nbits / 64 ? other->words[i] : 0;
}
