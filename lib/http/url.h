/* URL pieces, percent-encoding and redaction for logs. */
#ifndef CP_LIB_HTTP_URL_H
#define CP_LIB_HTTP_URL_H

#include "cloudprotect/sys/objstore.h"

#include <stddef.h>

typedef struct cp_url {
	char *scheme; /* lower case: "https" */
	char *host;   /* without brackets for IPv6 */
	int port;     /* 0 when absent */
	char *path;   /* as written (still percent-encoded), "/" when absent */
	char *query;  /* after '?', without '#fragment'; "" when absent */
} cp_url;

/** Split an absolute http(s) URL; CP_EINVALID naming the URL when it is not one. */
int cp_url_parse(cp_url *out, const char *url);
void cp_url_dispose(cp_url *u);
/** "host" or "host:port" when the port is not the scheme's default (the Host header). */
int cp_url_host_header(const cp_url *u, cp_buf *out);

/**
 * Append s percent-encoded per RFC 3986: unreserved characters and those in
 * keep stay, every other byte becomes %XX (upper-case hex).
 */
int cp_url_encode(cp_buf *out, const char *s, size_t len, const char *keep);
/** Append s with %XX decoded; plus_is_space for form-encoded queries. */
int cp_url_decode(cp_buf *out, const char *s, size_t len, int plus_is_space);

/**
 * A copy of url safe for logs and error messages: the values of query
 * parameters that may carry secrets (signatures, tokens, SAS sig, keys) and
 * any user:password are replaced by "REDACTED". malloc'd; NULL on OOM.
 */
char *cp_url_redact(const char *url);

#endif
