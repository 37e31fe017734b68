/*
 * azblob:// reading metadata: Get Blob Properties for one object, List
 * Blobs (paged with markers) for many. Both report the access tier, the
 * immutability policy and whether the blob sits offline in Archive.
 */
#include "error.h"
#include "http/xml.h"
#include "objstore_azblob.h"
#include "objstore_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_class(cp_object_info *info, const char *tier)
{
	if (tier)
		snprintf(info->storage_class, sizeof(info->storage_class), "%s", tier);
	info->archived = tier && !strcasecmp(tier, "Archive");
}

int az_head(void *state, const char *key, cp_object_info *info)
{
	az_store *s = state;
	char *url = az_blob_url(s, key, NULL);
	if (!url)
		return cp_error_oom();
	cp_http_request req = {.method = "HEAD", .url = url, .what = "Azure Get Blob Properties"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = az_perform(s, &req, &resp);
	if (rc == CP_ENOTFOUND)
		rc = cp_objstore_err_missing(key);
	if (!rc) {
		const char *len = cp_http_headers_get(&resp.headers, "Content-Length");
		info->size = len ? strtoull(len, NULL, 10) : 0;
		info->mtime =
			cp_http_date_parse(cp_http_headers_get(&resp.headers, "Last-Modified"));
		info->retain_until = cp_http_date_parse(
			cp_http_headers_get(&resp.headers, "x-ms-immutability-policy-until-date"));
		set_class(info, cp_http_headers_get(&resp.headers, "x-ms-access-tier"));
		/* A blob being rehydrated stays unreadable until the copy lands. */
		if (cp_http_headers_get(&resp.headers, "x-ms-archive-status"))
			info->archived = 1;
	}
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	free(url);
	return rc;
}

typedef struct {
	az_store *s;
	const char *prefix;
	cp_object_list_cb cb;
	void *payload;
	char *next_marker;
	int stopped;
} list_page;

static int take_blob(list_page *pg, xmlNode *blob)
{
	char *name = cp_xml_child_text(blob, "Name");
	if (!name)
		return 0;
	size_t plen = strlen(pg->s->prefix);
	int rc = 0;
	if (!strncmp(name, pg->s->prefix, plen)) {
		cp_object_info info;
		memset(&info, 0, sizeof(info));
		xmlNode *props = cp_xml_child(blob, "Properties");
		char *len = cp_xml_child_text(props, "Content-Length");
		char *mod = cp_xml_child_text(props, "Last-Modified");
		char *tier = cp_xml_child_text(props, "AccessTier");
		char *archive = cp_xml_child_text(props, "ArchiveStatus");
		char *until = cp_xml_child_text(props, "ImmutabilityPolicyUntilDate");
		info.size = len ? strtoull(len, NULL, 10) : 0;
		info.mtime = cp_http_date_parse(mod);
		info.retain_until = cp_http_date_parse(until);
		set_class(&info, tier);
		if (archive && *archive)
			info.archived = 1;
		rc = pg->cb(name + plen, &info, pg->payload);
		xmlFree(len);
		xmlFree(mod);
		xmlFree(tier);
		xmlFree(archive);
		xmlFree(until);
	}
	xmlFree(name);
	return rc;
}

static int parse_page(list_page *pg, const cp_buf *body)
{
	xmlDoc *doc = cp_xml_parse(body->ptr, body->size);
	if (!doc)
		return cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
				    "Azure List Blobs answered with a body that is not XML");
	xmlNode *root = xmlDocGetRootElement(doc);
	int rc = 0;
	for (xmlNode *b = cp_xml_child(cp_xml_child(root, "Blobs"), "Blob"); b && !rc;
	     b = cp_xml_next(b, "Blob"))
		rc = take_blob(pg, b);
	if (rc)
		pg->stopped = 1;
	char *marker = cp_xml_child_text(root, "NextMarker");
	free(pg->next_marker);
	pg->next_marker = marker && *marker ? strdup(marker) : NULL;
	xmlFree(marker);
	xmlFreeDoc(doc);
	return rc;
}

int az_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload)
{
	az_store *s = state;
	list_page pg = {s, prefix, cb, payload, NULL, 0};
	int rc = 0;
	do {
		cp_buf q = CP_BUF_INIT, body = CP_BUF_INIT;
		rc = cp_objstore_list_query(
			&q, "restype=container&comp=list&maxresults=1000&prefix=", s->prefix,
			prefix, "marker", pg.next_marker);
		char *url = rc ? NULL : az_blob_url(s, NULL, q.ptr);
		if (!rc && !url)
			rc = cp_error_oom();
		cp_http_request req = {.method = "GET",
				       .url = url,
				       .response_body = &body,
				       .what = "Azure List Blobs"};
		cp_http_response resp = CP_HTTP_RESPONSE_INIT;
		rc = rc ? rc : az_perform(s, &req, &resp);
		rc = rc ? rc : parse_page(&pg, &body);
		cp_http_request_dispose(&req);
		cp_http_response_dispose(&resp);
		free(url);
		cp_buf_dispose(&q);
		cp_buf_dispose(&body);
	} while (!rc && pg.next_marker);
	free(pg.next_marker);
	return rc;
}
