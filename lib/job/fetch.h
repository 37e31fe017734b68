/*
 * Reading the chunks of a backup back, fast: the chunks are looked up
 * in the index, sorted by pack and offset, and cut into runs of adjacent
 * blobs (small gaps included) of at most CP_FETCH_MAX_RUN bytes; N
 * workers each fetch a run with one ranged read, then decrypt, verify
 * and decompress its chunks and hand the plaintext to a callback. Used
 * by restore and copy.
 */
#ifndef CP_JOB_FETCH_H
#define CP_JOB_FETCH_H

#include "format/manifest.h"
#include "format/repository.h"

#define CP_FETCH_MAX_RUN (4u << 20)
#define CP_FETCH_MAX_GAP (64u << 10)

/**
 * Receives one chunk on a worker thread: where it goes on the disk
 * (chunk index), its id and plaintext. Returns 0 or an error (set).
 */
typedef int (*cp_fetch_cb)(void *arg, unsigned int worker, uint64_t chunk_index,
			   const uint8_t id[CP_ID_LEN], const void *data, size_t len);

typedef struct cp_fetch_options {
	unsigned int threads;
	const char *phase;    /* for progress */
	uint64_t extra_total; /* bytes another stage adds to the progress total */
	cp_progress_cb progress_cb;
	void *progress_payload;
} cp_fetch_options;

/** Fetch every chunk of m (m->map loaded); returns the first failure. */
int cp_fetch_chunks(cp_repository *repo, const cp_manifest *m, const char *backup_id,
		    const cp_fetch_options *opts, cp_fetch_cb cb, void *arg);

#endif
