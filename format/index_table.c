#include "format/index_table.h"
#include "format/bytes.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_SHIFT   14 /* 16384 entries, 768 KiB a block */
#define BLOCK_ENTRIES ((size_t)1 << BLOCK_SHIFT)
#define INITIAL_HASH  1024
#define INITIAL_PACKS 64
#define MAX_ENTRIES   0xFFFFFFF0u

static size_t hash_of(const uint8_t *id)
{
	return (size_t)cp_get_le64(id);
}

static int id_hash_init(cp_id_hash *h, size_t cap)
{
	h->slots = calloc(cap, sizeof(uint32_t));
	h->mask = cap - 1;
	return h->slots ? 0 : cp_error_oom();
}

int cp_index_table_init(cp_index_table *t)
{
	memset(t, 0, sizeof(*t));
	t->packs = malloc(INITIAL_PACKS * sizeof(*t->packs));
	t->packs_cap = INITIAL_PACKS;
	if (!t->packs || id_hash_init(&t->entries, INITIAL_HASH) ||
	    id_hash_init(&t->pack_hash, INITIAL_PACKS * 2)) {
		cp_index_table_dispose(t);
		return cp_error_oom();
	}
	return 0;
}

void cp_index_table_dispose(cp_index_table *t)
{
	for (size_t i = 0; i < t->nblocks; i++)
		free(t->blocks[i]);
	free(t->blocks);
	free(t->entries.slots);
	free(t->packs);
	free(t->pack_hash.slots);
	memset(t, 0, sizeof(*t));
}

cp_index_entry *cp_index_table_at(const cp_index_table *t, size_t i)
{
	return &t->blocks[i >> BLOCK_SHIFT][i & (BLOCK_ENTRIES - 1)];
}

/* The hash slot holding id, or the empty slot where it would go. */
static uint32_t *probe_entry(const cp_index_table *t, const uint8_t *id)
{
	const cp_id_hash *h = &t->entries;
	for (size_t i = hash_of(id) & h->mask;; i = (i + 1) & h->mask) {
		uint32_t n = h->slots[i];
		if (!n || !memcmp(cp_index_table_at(t, n - 1)->id, id, CP_ID_LEN))
			return &h->slots[i];
	}
}

cp_index_entry *cp_index_table_find(const cp_index_table *t, const uint8_t id[CP_ID_LEN])
{
	uint32_t n = *probe_entry(t, id);
	return n ? cp_index_table_at(t, n - 1) : NULL;
}

static int grow_entry_hash(cp_index_table *t)
{
	cp_id_hash h;
	size_t cap = (t->entries.mask + 1) * 2;
	if (id_hash_init(&h, cap))
		return CP_ENOMEM;
	for (size_t n = 0; n < t->count; n++) {
		size_t i = hash_of(cp_index_table_at(t, n)->id) & h.mask;
		while (h.slots[i])
			i = (i + 1) & h.mask;
		h.slots[i] = (uint32_t)n + 1;
	}
	free(t->entries.slots);
	t->entries = h;
	return 0;
}

int cp_index_table_insert(cp_index_table *t, const uint8_t id[CP_ID_LEN], const cp_chunk_loc *loc,
			  cp_index_entry **entry, int *inserted)
{
	uint32_t *slot = probe_entry(t, id);
	if (*slot) {
		if (entry)
			*entry = cp_index_table_at(t, *slot - 1);
		if (inserted)
			*inserted = 0;
		return 0;
	}
	if (t->count >= MAX_ENTRIES)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_REPOSITORY,
				    "the repository holds too many chunks for one index");
	if ((t->count >> BLOCK_SHIFT) == t->nblocks) {
		cp_index_entry **blocks =
			realloc(t->blocks, (t->nblocks + 1) * sizeof(cp_index_entry *));
		if (!blocks)
			return cp_error_oom();
		t->blocks = blocks;
		if (!(blocks[t->nblocks] = malloc(BLOCK_ENTRIES * sizeof(cp_index_entry))))
			return cp_error_oom();
		t->nblocks++;
	}
	cp_index_entry *e = cp_index_table_at(t, t->count);
	memcpy(e->id, id, CP_ID_LEN);
	e->loc = *loc;
	*slot = (uint32_t)++t->count;
	/* Keep the load under 3/4 so probes stay short. */
	if (t->count * 4 > (t->entries.mask + 1) * 3 && grow_entry_hash(t))
		return CP_ENOMEM;
	if (entry)
		*entry = e;
	if (inserted)
		*inserted = 1;
	return 0;
}

static uint32_t *probe_pack(const cp_index_table *t, const uint8_t *id)
{
	const cp_id_hash *h = &t->pack_hash;
	for (size_t i = hash_of(id) & h->mask;; i = (i + 1) & h->mask) {
		uint32_t n = h->slots[i];
		if (!n || !memcmp(t->packs[n - 1].id, id, CP_ID_LEN))
			return &h->slots[i];
	}
}

uint32_t cp_index_table_pack_number(const cp_index_table *t, const uint8_t id[CP_ID_LEN])
{
	uint32_t n = *probe_pack(t, id);
	return n ? n - 1 : CP_PACK_NONE;
}

static int grow_packs(cp_index_table *t)
{
	size_t cap = t->packs_cap * 2;
	cp_pack_info *packs = realloc(t->packs, cap * sizeof(*packs));
	if (!packs)
		return cp_error_oom();
	t->packs = packs;
	cp_id_hash h;
	if (id_hash_init(&h, cap * 2))
		return CP_ENOMEM;
	for (size_t n = 0; n < t->npacks; n++) {
		size_t i = hash_of(t->packs[n].id) & h.mask;
		while (h.slots[i])
			i = (i + 1) & h.mask;
		h.slots[i] = (uint32_t)n + 1;
	}
	free(t->pack_hash.slots);
	t->pack_hash = h;
	t->packs_cap = cap;
	return 0;
}

int cp_index_table_add_pack(cp_index_table *t, const uint8_t id[CP_ID_LEN], uint64_t size,
			    uint32_t *number)
{
	uint32_t n = cp_index_table_pack_number(t, id);
	if (n != CP_PACK_NONE) {
		*number = n;
		return 0;
	}
	if (t->npacks >= CP_PACK_MAX)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_REPOSITORY,
				    "the repository has too many packs for one index");
	if (t->npacks == t->packs_cap) {
		int rc = grow_packs(t);
		if (rc)
			return rc;
	}
	n = (uint32_t)t->npacks++;
	memcpy(t->packs[n].id, id, CP_ID_LEN);
	t->packs[n].size = size;
	*probe_pack(t, id) = n + 1;
	*number = n;
	return 0;
}
