/*
 * Fuzz targets for every parser of repository objects. Each takes
 * arbitrary bytes; the first byte picks a mode where a parser has both a
 * plaintext and a sealed entry point (sealed inputs are built with a
 * fixed test key so that the fuzzer gets past authentication).
 */
#ifndef CP_FUZZ_TARGETS_H
#define CP_FUZZ_TARGETS_H

#include "cloudprotect/sys/objstore.h"

#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_fn)(const uint8_t *data, size_t len);
/** Append valid example inputs (corpus seeds), each as one cp_buf. */
typedef void (*seed_fn)(cp_buf *seeds, size_t *n, size_t cap);

typedef struct fuzz_target {
	const char *name;
	fuzz_fn run;
	seed_fn seeds;
} fuzz_target;

int fuzz_config(const uint8_t *data, size_t len);
int fuzz_keyfile(const uint8_t *data, size_t len);
int fuzz_pack_header(const uint8_t *data, size_t len);
int fuzz_index(const uint8_t *data, size_t len);
int fuzz_manifest(const uint8_t *data, size_t len);
int fuzz_lock(const uint8_t *data, size_t len);

extern const fuzz_target fuzz_targets[];
extern const size_t fuzz_ntargets;

#endif
