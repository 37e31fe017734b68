/*
 * gs:// metadata: HEAD object for one, GET bucket (ListBucketResult, paged
 * with markers) for many.
 */
#include "creds/creds.h"
#include "error.h"
#include "http/date.h"
#include "http/xml.h"
#include "objstore_common.h"
#include "objstore_gcs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t iso_time(const char *text)
{
	int64_t t = 0;
	if (text && *text && cp_creds_parse_time(text, &t)) {
		cp_error_clear();
		t = 0;
	}
	return t;
}

int gcs_head(void *state, const char *key, cp_object_info *info)
{
	gcs_store *s = state;
	char *url = gcs_url(s, key, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "HEAD", .url = url, .what = "GCS HEAD object"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = gcs_perform(s, &req, &resp);
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	if (!rc) {
		const cp_http_headers *h = &resp.headers;
		const char *len = cp_http_headers_get(h, "x-goog-stored-content-length");
		if (!len)
			len = cp_http_headers_get(h, "Content-Length");
		info->size = len ? strtoull(len, NULL, 10) : 0;
		info->mtime = cp_http_date_parse(cp_http_headers_get(h, "Last-Modified"));
		info->retain_until =
			iso_time(cp_http_headers_get(h, "x-goog-object-lock-retain-until-date"));
		const char *cls = cp_http_headers_get(h, "x-goog-storage-class");
		if (cls)
			snprintf(info->storage_class, sizeof(info->storage_class), "%s", cls);
		info->archived = 0; /* every GCS class is online */
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

typedef struct {
	gcs_store *s;
	cp_object_list_cb cb;
	void *payload;
	char *marker; /* where the next page starts, NULL: done */
} list_page;

static int take_object(list_page *pg, xmlNode *obj)
{
	char *key = cp_xml_child_text(obj, "Key");
	size_t plen = strlen(pg->s->prefix);
	int rc = 0;
	if (key && !strncmp(key, pg->s->prefix, plen)) {
		cp_object_info info;
		memset(&info, 0, sizeof(info));
		char *size = cp_xml_child_text(obj, "Size");
		char *mod = cp_xml_child_text(obj, "LastModified");
		char *cls = cp_xml_child_text(obj, "StorageClass");
		info.size = size ? strtoull(size, NULL, 10) : 0;
		info.mtime = iso_time(mod);
		if (cls)
			snprintf(info.storage_class, sizeof(info.storage_class), "%s", cls);
		rc = pg->cb(key + plen, &info, pg->payload);
		xmlFree(size);
		xmlFree(mod);
		xmlFree(cls);
	}
	free(pg->marker);
	pg->marker = key ? strdup(key) : NULL;
	xmlFree(key);
	return rc;
}

static int parse_page(list_page *pg, const cp_buf *body)
{
	xmlDoc *doc = cp_xml_parse(body->ptr, body->size);
	if (!doc)
		return cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
				    "GCS bucket listing answered with a body that is not XML");
	xmlNode *root = xmlDocGetRootElement(doc);
	int rc = 0;
	free(pg->marker);
	pg->marker = NULL;
	for (xmlNode *o = cp_xml_child(root, "Contents"); o && !rc; o = cp_xml_next(o, "Contents"))
		rc = take_object(pg, o);
	char *truncated = cp_xml_child_text(root, "IsTruncated");
	char *next = cp_xml_child_text(root, "NextMarker");
	int more = truncated && !strcmp(truncated, "true");
	if (!rc && more && next && *next) {
		free(pg->marker);
		pg->marker = strdup(next);
	} else if (rc || !more) {
		free(pg->marker);
		pg->marker = NULL;
	}
	xmlFree(truncated);
	xmlFree(next);
	xmlFreeDoc(doc);
	return rc;
}

int gcs_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload)
{
	gcs_store *s = state;
	list_page pg = {s, cb, payload, NULL};
	int rc = 0, first = 1;
	while (!rc && (first || pg.marker)) {
		first = 0;
		cp_buf q = CP_BUF_INIT, body = CP_BUF_INIT;
		rc = cp_objstore_list_query(&q, "max-keys=1000&prefix=", s->prefix, prefix,
					    "marker", pg.marker);
		char *url = rc ? NULL : gcs_url(s, NULL, q.ptr);
		if (!rc && !url)
			rc = cp_error_oom();
		cp_http_request req = {.method = "GET",
				       .url = url,
				       .response_body = &body,
				       .what = "GCS GET bucket"};
		cp_http_response resp = CP_HTTP_RESPONSE_INIT;
		rc = rc ? rc : gcs_perform(s, &req, &resp);
		rc = rc ? rc : parse_page(&pg, &body);
		cp_http_request_dispose(&req);
		cp_http_response_dispose(&resp);
		free(url);
		cp_buf_dispose(&q);
		cp_buf_dispose(&body);
	}
	free(pg.marker);
	return rc;
}
