/*
 * ListMultipartUploads page by page (key and upload id markers), then an
 * abort for each upload that started before the cut-off. Written once for
 * every store whose XML API answers in S3's shapes.
 */
#include "upload_sweep.h"
#include "http/xml.h"
#include "objstore_common.h"

#include "creds/creds.h"
#include "error.h"
#include "http/url.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

typedef struct sweep {
	const cp_upload_sweep *sw;
	int64_t older_than;
	uint64_t aborted;
	char *key_marker, *id_marker; /* of the next page, malloc'd */
} sweep;

static int visit(sweep *s, xmlNode *upload)
{
	char *key = cp_xml_child_text(upload, "Key");
	char *id = cp_xml_child_text(upload, "UploadId");
	char *initiated = cp_xml_child_text(upload, "Initiated");
	int64_t t = 0;
	int rc = 0;
	if (!key || !id || !initiated || cp_creds_parse_time(initiated, &t)) {
		cp_error_clear();
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
				  "%s answered an Upload without Key, UploadId or a readable "
				  "Initiated time",
				  s->sw->what);
	} else if (t < s->older_than) {
		rc = s->sw->abort(s->sw->store, key, id);
		if (rc == 0)
			s->aborted++;
		else if (rc == 1)
			rc = 0;
	}
	xmlFree(key);
	xmlFree(id);
	xmlFree(initiated);
	return rc;
}

static int take(char **dst, xmlNode *root, const char *name)
{
	char *v = cp_xml_child_text(root, name);
	free(*dst);
	*dst = v && *v ? strdup(v) : NULL;
	int rc = v && *v && !*dst ? cp_error_oom() : 0;
	xmlFree(v);
	return rc;
}

/* Parse one page, abort what is stale; *more when another page follows. */
static int parse_page(sweep *s, const cp_buf *body, int *more)
{
	xmlDoc *doc = cp_xml_parse(body->ptr, body->size);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	*more = 0;
	if (!root || strcmp((const char *)root->name, "ListMultipartUploadsResult")) {
		xmlFreeDoc(doc);
		return cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
				    "%s answered something that is not a "
				    "ListMultipartUploadsResult; does %s speak S3's XML API?",
				    s->sw->what, s->sw->endpoint);
	}
	int rc = 0;
	for (xmlNode *n = cp_xml_child(root, "Upload"); n && !rc; n = cp_xml_next(n, "Upload"))
		rc = visit(s, n);
	char *truncated = cp_xml_child_text(root, "IsTruncated");
	if (!rc && truncated && !strcmp(truncated, "true")) {
		rc = take(&s->key_marker, root, "NextKeyMarker");
		rc = rc ? rc : take(&s->id_marker, root, "NextUploadIdMarker");
		if (!rc && !s->key_marker)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
					  "%s said the listing is truncated but gave no "
					  "NextKeyMarker",
					  s->sw->what);
		*more = !rc;
	}
	xmlFree(truncated);
	xmlFreeDoc(doc);
	return rc;
}

static int page_query(cp_buf *q, const char *root, const char *prefix, const sweep *s)
{
	int rc = cp_objstore_list_query(q, "uploads&prefix=", root, prefix, "key-marker",
					s->key_marker);
	if (!rc && s->id_marker) {
		rc = cp_buf_put(q, "&upload-id-marker=", 18);
		rc = rc ? rc : cp_url_encode(q, s->id_marker, strlen(s->id_marker), NULL);
	}
	return rc;
}

int cp_upload_sweep_run(const cp_upload_sweep *sw, const char *root, const char *prefix,
			int64_t older_than, uint64_t *count)
{
	sweep s = {.sw = sw, .older_than = older_than};
	int rc = 0;
	/* A bound on pages, in case a service repeats its markers forever. */
	for (int more = 1, pages = 0; !rc && more && pages < 100000; pages++) {
		cp_buf q = CP_BUF_INIT, body = CP_BUF_INIT;
		rc = page_query(&q, root, prefix, &s);
		rc = rc ? rc : sw->list(sw->store, q.ptr, &body);
		rc = rc ? rc : parse_page(&s, &body, &more);
		cp_buf_dispose(&q);
		cp_buf_dispose(&body);
	}
	free(s.key_marker);
	free(s.id_marker);
	*count = s.aborted;
	return rc;
}
