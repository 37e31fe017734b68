/* An ordered list of HTTP headers; names compare case-insensitively. */
#ifndef CP_LIB_HTTP_HEADERS_H
#define CP_LIB_HTTP_HEADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cp_http_header {
	char *name;
	char *value;
} cp_http_header;

typedef struct cp_http_headers {
	cp_http_header *items;
	size_t count;
	size_t alloc;
} cp_http_headers;

#define CP_HTTP_HEADERS_INIT                                                                       \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/** Append a header, keeping any others of the same name (repeated headers). */
int cp_http_headers_add(cp_http_headers *h, const char *name, const char *value);
/** Replace every header of this name by one with value. */
int cp_http_headers_set(cp_http_headers *h, const char *name, const char *value);
/** The first value of name, or NULL. */
const char *cp_http_headers_get(const cp_http_headers *h, const char *name);
void cp_http_headers_remove(cp_http_headers *h, const char *name);
/** Replace dst by a copy of src. */
int cp_http_headers_copy(cp_http_headers *dst, const cp_http_headers *src);
void cp_http_headers_clear(cp_http_headers *h);
void cp_http_headers_dispose(cp_http_headers *h);

/**
 * Set a byte-range header (Range, x-ms-range) for length bytes at offset;
 * length 0 means to the end. Nothing is set for the whole object (0, 0).
 */
int cp_http_headers_set_range(cp_http_headers *h, const char *name, uint64_t offset,
			      uint64_t length);

/** 1 when a header carries a secret and must never be logged (Authorization, tokens, keys). */
int cp_http_header_is_secret(const char *name);

#endif
