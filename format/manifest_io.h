/* Storing and loading manifests in a repository. */
#ifndef CP_FORMAT_MANIFEST_IO_H
#define CP_FORMAT_MANIFEST_IO_H

#include "format/manifest.h"
#include "format/repository.h"

/** Seal and store m; *id_out receives the backup id (the object's SHA-256). */
int cp_repo_manifest_save(cp_repository *repo, const cp_manifest *m,
			  char id_out[CP_HEX_ID_LEN + 1]);

/**
 * Load manifest id. header_only reads just the header with a ranged
 * read; size is the object's size when known (from a listing), else 0.
 * A full load verifies the object's SHA-256.
 */
int cp_repo_manifest_load(cp_repository *repo, const char *id, int header_only, uint64_t size,
			  cp_manifest *out);

#endif
