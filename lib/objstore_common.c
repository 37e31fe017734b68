#include "objstore_common.h"
#include "error.h"
#include "http/url.h"

#include <string.h>

int cp_objstore_err_missing(const char *key)
{
	return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_OBJSTORE, "object '%s' does not exist", key);
}

int cp_objstore_err_exists(const char *key)
{
	return cp_error_set(CP_EEXISTS, CP_ERRCLASS_OBJSTORE, "object '%s' already exists", key);
}

int cp_objstore_put_by_writer(cp_objstore_writer *w, const void *data, size_t len)
{
	int rc = w->write(w, data, len);
	rc = rc ? rc : w->commit(w);
	w->free(w);
	return rc;
}

int cp_objstore_list_query(cp_buf *q, const char *head, const char *root, const char *prefix,
			   const char *marker_param, const char *marker)
{
	cp_buf full = CP_BUF_INIT;
	int rc = cp_buf_put(&full, root, strlen(root));
	rc = rc ? rc : cp_buf_put(&full, prefix, strlen(prefix));
	rc = rc ? rc : cp_buf_put(q, head, strlen(head));
	/* cp_buf_put leaves ptr NULL for an empty string. */
	rc = rc ? rc : cp_url_encode(q, full.ptr ? full.ptr : "", full.size, NULL);
	if (!rc && marker) {
		rc = cp_buf_put(q, "&", 1);
		rc = rc ? rc : cp_buf_put(q, marker_param, strlen(marker_param));
		rc = rc ? rc : cp_buf_put(q, "=", 1);
		rc = rc ? rc : cp_url_encode(q, marker, strlen(marker), NULL);
	}
	cp_buf_dispose(&full);
	return rc;
}
