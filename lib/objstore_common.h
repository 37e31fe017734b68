/*
 * What every object store backend does the same way: the errors a
 * missing or existing object raises, a large put through a writer, and
 * the query of a listing page (prefix and where the page starts).
 */
#ifndef CP_LIB_OBJSTORE_COMMON_H
#define CP_LIB_OBJSTORE_COMMON_H

#include "cloudprotect/sys/objstore.h"

/** Set and return CP_ENOTFOUND naming key. */
int cp_objstore_err_missing(const char *key);

/** Set and return CP_EEXISTS naming key. */
int cp_objstore_err_exists(const char *key);

/** Write len bytes through w, commit, and free w whatever happened. */
int cp_objstore_put_by_writer(cp_objstore_writer *w, const void *data, size_t len);

/**
 * Append to q: head, then root + prefix URL-encoded, then, for a page
 * after the first, "&" marker_param "=" and the marker URL-encoded.
 */
int cp_objstore_list_query(cp_buf *q, const char *head, const char *root, const char *prefix,
			   const char *marker_param, const char *marker);

#endif
