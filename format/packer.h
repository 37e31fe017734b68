/*
 * Writing new chunks: a packer collects sealed blobs into packs and
 * uploads full packs from CP_PACKER_UPLOADERS background threads while
 * the next one fills. A pack's name is the SHA-256 of its bytes, known
 * only when it is complete, so a pack is built in memory; it is then
 * streamed to the store under its final name and its buffer handed back
 * before the upload's commit (the flush or last round trip). So two pack
 * buffers (2 x 16 MiB by default) keep two uploads in flight. When done it
 * writes one index object for the packs it wrote (and one every
 * CP_PACKER_INDEX_EVERY packs on the way, so a long backup that dies
 * keeps most of its work reusable), then adds them to the repository's
 * in-memory index. All calls but new/finish/free are thread-safe.
 *
 * Order of durability: a pack is stored before any index names it; the
 * caller stores a manifest only after finish succeeded.
 */
#ifndef CP_FORMAT_PACKER_H
#define CP_FORMAT_PACKER_H

#include "format/repository.h"

#define CP_PACKER_INDEX_EVERY 64
/* Uploads in flight; packs in memory are this plus the one filling. */
#define CP_PACKER_UPLOADERS 2

typedef struct cp_packer cp_packer;

typedef struct cp_packer_stats {
	uint64_t packs;
	uint64_t blobs;
	uint64_t stored_bytes; /* sealed blob bytes */
	uint64_t raw_bytes;
	uint64_t uploaded_bytes; /* of stored_bytes, those in packs uploaded so far */
} cp_packer_stats;

int cp_packer_new(cp_packer **out, cp_repository *repo);

/**
 * Decide who stores chunk id: *is_new = 1 means the caller must add it
 * (nobody had it; it is now claimed), 0 means the repository or this
 * packer has it already.
 */
int cp_packer_claim(cp_packer *p, const uint8_t id[CP_ID_LEN], int *is_new);

/** Append a sealed blob of a claimed chunk. May wait while a pack uploads. */
int cp_packer_add(cp_packer *p, const uint8_t id[CP_ID_LEN], const void *blob, size_t len,
		  uint32_t raw_len);

/** Upload what is left, write the index, update the in-memory index. */
int cp_packer_finish(cp_packer *p);

void cp_packer_get_stats(cp_packer *p, cp_packer_stats *stats);

/** Free; without a successful finish, packs already uploaded stay unindexed (prune removes them). */
void cp_packer_free(cp_packer *p);

#endif
