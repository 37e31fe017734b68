/* The names (hex ids) and sizes of all objects of one kind in a repository. */
#ifndef CP_JOB_LIST_H
#define CP_JOB_LIST_H

#include "format/repository.h"

typedef struct cp_names {
	char (*names)[CP_HEX_ID_LEN + 1];
	uint64_t *sizes;
	size_t n, cap;
} cp_names;

/** List dir ("manifests", "index", "data", ...); objects not named by a hex id are skipped. */
int cp_names_get(cp_names *out, cp_repository *repo, const char *dir);
void cp_names_dispose(cp_names *l);

#endif
