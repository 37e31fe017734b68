/* ListObjectsV2, page by page (continuation tokens), over libxml2. */
#include "creds/creds.h"
#include "error.h"
#include "http/xml.h"
#include "objstore_common.h"
#include "objstore_s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct page {
	s3_store *s;
	size_t root_len;
	cp_object_list_cb cb;
	void *payload;
	char *next; /* continuation token of the next page, malloc'd */
} page;

static int report(page *pg, xmlNode *contents)
{
	char *key = cp_xml_child_text(contents, "Key");
	char *size = cp_xml_child_text(contents, "Size");
	char *modified = cp_xml_child_text(contents, "LastModified");
	char *sclass = cp_xml_child_text(contents, "StorageClass");
	int rc = 0;
	if (key && strlen(key) > pg->root_len) {
		cp_object_info info;
		memset(&info, 0, sizeof(info));
		info.size = size ? strtoull(size, NULL, 10) : 0;
		int64_t t = 0;
		if (modified && !cp_creds_parse_time(modified, &t))
			info.mtime = t;
		cp_error_clear();
		snprintf(info.storage_class, sizeof(info.storage_class), "%s",
			 sclass && *sclass ? sclass : "STANDARD");
		/* Whether a restore made it readable takes a HEAD; callers that care ask. */
		info.archived = !strcmp(info.storage_class, "GLACIER") ||
				!strcmp(info.storage_class, "DEEP_ARCHIVE");
		rc = pg->cb(key + pg->root_len, &info, pg->payload);
	}
	xmlFree(key);
	xmlFree(size);
	xmlFree(modified);
	xmlFree(sclass);
	return rc;
}

static int parse_page(page *pg, const char *body, size_t len)
{
	xmlDoc *doc = cp_xml_parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || strcmp((const char *)root->name, "ListBucketResult")) {
		xmlFreeDoc(doc);
		return cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
				    "S3 ListObjectsV2 on bucket '%s' answered something that is "
				    "not a ListBucketResult; is the endpoint %s an S3 service?",
				    pg->s->bucket, pg->s->endpoint);
	}
	int rc = 0;
	for (xmlNode *n = cp_xml_child(root, "Contents"); n && !rc; n = cp_xml_next(n, "Contents"))
		rc = report(pg, n);
	char *truncated = cp_xml_child_text(root, "IsTruncated");
	char *token = cp_xml_child_text(root, "NextContinuationToken");
	free(pg->next);
	pg->next = NULL;
	if (!rc && truncated && !strcmp(truncated, "true")) {
		if (!token || !*token)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
					  "S3 ListObjectsV2 on bucket '%s' said the listing is "
					  "truncated but gave no continuation token",
					  pg->s->bucket);
		else if (!(pg->next = strdup(token)))
			rc = cp_error_oom();
	}
	xmlFree(truncated);
	xmlFree(token);
	xmlFreeDoc(doc);
	return rc;
}

int s3_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload)
{
	s3_store *s = state;
	page pg = {.s = s, .root_len = strlen(s->root), .cb = cb, .payload = payload};
	int rc = 0, first = 1;
	while (!rc && (first || pg.next)) {
		first = 0;
		cp_buf q = CP_BUF_INIT;
		s3_req r;
		rc = cp_objstore_list_query(&q, "list-type=2&prefix=", s->root, prefix,
					    "continuation-token", pg.next);
		rc = rc ? rc : s3_req_init(&r, s, "GET", NULL, q.ptr, "S3 ListObjectsV2");
		cp_buf_dispose(&q);
		if (rc)
			break;
		rc = s3_req_perform(s, &r, NULL);
		if (!rc)
			rc = parse_page(&pg, r.body.ptr ? r.body.ptr : "", r.body.size);
		s3_req_dispose(&r);
	}
	free(pg.next);
	return rc;
}
