#include "http/headers.h"
#include "auth/digest.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cp_http_headers_add(cp_http_headers *h, const char *name, const char *value)
{
	if (h->count == h->alloc) {
		size_t n = h->alloc ? h->alloc * 2 : 8;
		cp_http_header *items = realloc(h->items, n * sizeof(*items));
		if (!items)
			return cp_error_oom();
		h->items = items;
		h->alloc = n;
	}
	char *n = strdup(name);
	char *v = strdup(value ? value : "");
	if (!n || !v) {
		free(n);
		free(v);
		return cp_error_oom();
	}
	h->items[h->count].name = n;
	h->items[h->count].value = v;
	h->count++;
	return 0;
}

int cp_http_headers_set(cp_http_headers *h, const char *name, const char *value)
{
	cp_http_headers_remove(h, name);
	return cp_http_headers_add(h, name, value);
}

const char *cp_http_headers_get(const cp_http_headers *h, const char *name)
{
	for (size_t i = 0; i < h->count; i++)
		if (!strcasecmp(h->items[i].name, name))
			return h->items[i].value;
	return NULL;
}

static void free_item(cp_http_header *item)
{
	free(item->name);
	/* Values may be tokens or signatures. */
	cp_secret_free(item->value);
}

void cp_http_headers_remove(cp_http_headers *h, const char *name)
{
	size_t out = 0;
	for (size_t i = 0; i < h->count; i++) {
		if (!strcasecmp(h->items[i].name, name))
			free_item(&h->items[i]);
		else
			h->items[out++] = h->items[i];
	}
	h->count = out;
}

int cp_http_headers_copy(cp_http_headers *dst, const cp_http_headers *src)
{
	cp_http_headers_clear(dst);
	for (size_t i = 0; i < src->count; i++) {
		int rc = cp_http_headers_add(dst, src->items[i].name, src->items[i].value);
		if (rc)
			return rc;
	}
	return 0;
}

void cp_http_headers_clear(cp_http_headers *h)
{
	for (size_t i = 0; i < h->count; i++)
		free_item(&h->items[i]);
	h->count = 0;
}

void cp_http_headers_dispose(cp_http_headers *h)
{
	cp_http_headers_clear(h);
	free(h->items);
	h->items = NULL;
	h->alloc = 0;
}

int cp_http_header_is_secret(const char *name)
{
	static const char *const secret[] = {
		"authorization",
		"proxy-authorization",
		"cookie",
		"set-cookie",
		"x-amz-security-token",
		"x-amz-server-side-encryption-customer-key",
		"x-amz-copy-source-server-side-encryption-customer-key",
		"x-ms-encryption-key",
		"x-ms-copy-source-authorization",
		"x-goog-encryption-key",
		"metadata-flavor-token",
		"x-aws-ec2-metadata-token",
		"x-identity-header",
	};
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (!strcasecmp(name, secret[i]))
			return 1;
	return 0;
}

int cp_http_headers_set_range(cp_http_headers *h, const char *name, uint64_t offset,
			      uint64_t length)
{
	if (!offset && !length)
		return 0;
	char range[64];
	if (length)
		snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)offset,
			 (unsigned long long)(offset + length - 1));
	else
		snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)offset);
	return cp_http_headers_set(h, name, range);
}
