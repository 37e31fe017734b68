/*
 * Stale multipart uploads in stores that speak S3's ListMultipartUploads
 * (S3 and S3-compatible services, GCS's XML API): a writer killed before
 * its complete call leaves parts stored and billed, though no listing or
 * read shows them. The listing, its paging and the age test are the same
 * everywhere; each store brings its own requests.
 */
#ifndef CP_LIB_UPLOAD_SWEEP_H
#define CP_LIB_UPLOAD_SWEEP_H

#include "cloudprotect/sys/objstore.h"

#include <stdint.h>

typedef struct cp_upload_sweep {
	void *store;
	/* GET the bucket with query (already encoded: "uploads&prefix=..."); body gets the XML. */
	int (*list)(void *store, const char *query, cp_buf *body);
	/* Abort one upload: 0 aborted; 1 nothing to abort (not the store's, or gone); else an error. */
	int (*abort)(void *store, const char *full_key, const char *upload_id);
	/* For messages: "S3 ListMultipartUploads on bucket 'b'". */
	const char *what;
	/* For messages: the endpoint asked. */
	const char *endpoint;
} cp_upload_sweep;

/*
 * Abort every upload under root + prefix (the store's root in the bucket,
 * then the repository-relative prefix) that started before older_than
 * (Unix seconds); *count gets how many were aborted, even when a later
 * page fails.
 */
int cp_upload_sweep_run(const cp_upload_sweep *sw, const char *root, const char *prefix,
			int64_t older_than, uint64_t *count);

#endif
