/* ListObjectsV2, page by page (continuation tokens), over libxml2. */
#include "creds/creds.h"
#include "error.h"
#include "http/url.h"
#include "objstore_s3.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

static xmlNode *child(xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name))
			return n;
	return NULL;
}

/* The text of parent's child name, malloc'd by libxml2 (xmlFree), or NULL. */
static char *child_text(xmlNode *parent, const char *name)
{
	xmlNode *n = child(parent, name);
	return n ? (char *)xmlNodeGetContent(n) : NULL;
}

typedef struct page {
	s3_store *s;
	size_t root_len;
	cp_object_list_cb cb;
	void *payload;
	char *next; /* continuation token of the next page, malloc'd */
} page;

static int report(page *pg, xmlNode *contents)
{
	char *key = child_text(contents, "Key");
	char *size = child_text(contents, "Size");
	char *modified = child_text(contents, "LastModified");
	char *sclass = child_text(contents, "StorageClass");
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
	xmlDoc *doc = xmlReadMemory(body, (int)len, "list.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || strcmp((const char *)root->name, "ListBucketResult")) {
		xmlFreeDoc(doc);
		return cp_error_set(CP_EIO, CP_ERRCLASS_OBJSTORE,
				    "S3 ListObjectsV2 on bucket '%s' answered something that is "
				    "not a ListBucketResult; is the endpoint %s an S3 service?",
				    pg->s->bucket, pg->s->endpoint);
	}
	int rc = 0;
	for (xmlNode *n = root->children; n && !rc; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, "Contents"))
			rc = report(pg, n);
	char *truncated = child_text(root, "IsTruncated");
	char *token = child_text(root, "NextContinuationToken");
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

static int page_query(cp_buf *q, const char *full_prefix, const char *token)
{
	int rc = cp_buf_put(q, "list-type=2&prefix=", 19);
	rc = rc ? rc : cp_url_encode(q, full_prefix, strlen(full_prefix), NULL);
	if (!rc && token) {
		rc = cp_buf_put(q, "&continuation-token=", 20);
		rc = rc ? rc : cp_url_encode(q, token, strlen(token), NULL);
	}
	return rc;
}

int s3_list(void *state, const char *prefix, cp_object_list_cb cb, void *payload)
{
	s3_store *s = state;
	page pg = {.s = s, .root_len = strlen(s->root), .cb = cb, .payload = payload};
	cp_buf full = CP_BUF_INIT;
	int rc = cp_buf_put(&full, s->root, strlen(s->root));
	rc = rc ? rc : cp_buf_put(&full, prefix, strlen(prefix));
	/* cp_buf_put leaves ptr NULL for an empty string. */
	const char *full_prefix = full.ptr ? full.ptr : "";
	int first = 1;
	while (!rc && (first || pg.next)) {
		first = 0;
		cp_buf q = CP_BUF_INIT;
		s3_req r;
		rc = page_query(&q, full_prefix, pg.next);
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
	cp_buf_dispose(&full);
	return rc;
}
