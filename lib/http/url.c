#include "http/url.h"
#include "error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_range(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static int bad_url(const char *url, const char *why)
{
	char *safe = cp_url_redact(url);
	int rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			      "URL '%s' %s; write it as https://host[:port]/path", safe ? safe : "",
			      why);
	free(safe);
	return rc;
}

int cp_url_parse(cp_url *out, const char *url)
{
	memset(out, 0, sizeof(*out));
	const char *sep = strstr(url, "://");
	if (!sep || sep == url)
		return bad_url(url, "has no scheme");
	const char *auth = sep + 3;
	size_t auth_len = strcspn(auth, "/?#");
	const char *rest = auth + auth_len;
	const char *at = memchr(auth, '@', auth_len);
	if (at) {
		auth_len -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	const char *host = auth;
	size_t host_len;
	const char *port = NULL;
	if (auth_len && auth[0] == '[') {
		const char *close = memchr(auth, ']', auth_len);
		if (!close)
			return bad_url(url, "has an unterminated IPv6 address");
		host = auth + 1;
		host_len = (size_t)(close - host);
		if (close + 1 < auth + auth_len && close[1] == ':')
			port = close + 2;
	} else {
		const char *colon = memchr(auth, ':', auth_len);
		host_len = colon ? (size_t)(colon - auth) : auth_len;
		if (colon)
			port = colon + 1;
	}
	if (!host_len)
		return bad_url(url, "has no host");
	if (port) {
		char *end;
		long p = strtol(port, &end, 10);
		if (end != auth + auth_len || p <= 0 || p > 65535)
			return bad_url(url, "has an invalid port");
		out->port = (int)p;
	}
	size_t path_len = strcspn(rest, "?#");
	const char *query = rest + path_len;
	size_t query_len = 0;
	if (*query == '?') {
		query++;
		query_len = strcspn(query, "#");
	}
	out->scheme = dup_range(url, (size_t)(sep - url));
	out->host = dup_range(host, host_len);
	out->path = path_len ? dup_range(rest, path_len) : strdup("/");
	out->query = dup_range(query, query_len);
	if (!out->scheme || !out->host || !out->path || !out->query) {
		cp_url_dispose(out);
		return cp_error_oom();
	}
	for (char *c = out->scheme; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

void cp_url_dispose(cp_url *u)
{
	free(u->scheme);
	free(u->host);
	free(u->path);
	free(u->query);
	memset(u, 0, sizeof(*u));
}

int cp_url_host_header(const cp_url *u, cp_buf *out)
{
	int v6 = strchr(u->host, ':') != NULL;
	int rc = cp_buf_put(out, "[", v6 ? 1 : 0);
	rc = rc ? rc : cp_buf_put(out, u->host, strlen(u->host));
	rc = rc ? rc : cp_buf_put(out, "]", v6 ? 1 : 0);
	int dflt = (!strcmp(u->scheme, "https") && u->port == 443) ||
		   (!strcmp(u->scheme, "http") && u->port == 80);
	if (!rc && u->port && !dflt) {
		char port[16];
		int n = snprintf(port, sizeof(port), ":%d", u->port);
		rc = cp_buf_put(out, port, (size_t)n);
	}
	return rc;
}

int cp_url_encode(cp_buf *out, const char *s, size_t len, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (c && keep && strchr(keep, c))) {
			rc = cp_buf_put(out, &s[i], 1);
		} else {
			char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = cp_buf_put(out, enc, 3);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cp_url_decode(cp_buf *out, const char *s, size_t len, int plus_is_space)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		int rc = cp_buf_put(out, &c, 1);
		if (rc)
			return rc;
	}
	return 0;
}

static int secret_param(const char *name, size_t len)
{
	static const char *const words[] = {"sig", "token",	"secret",   "credential",
					    "key", "assertion", "password", "code"};
	char lower[64];
	if (len >= sizeof(lower))
		return 1;
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[len] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(lower, words[i]))
			return 1;
	return 0;
}

char *cp_url_redact(const char *url)
{
	cp_buf out = CP_BUF_INIT;
	const char *sep = strstr(url, "://");
	const char *auth = sep ? sep + 3 : url;
	size_t auth_len = strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', auth_len);
	const char *q = strchr(url, '?');
	int rc = 0;
	if (at) {
		rc = cp_buf_put(&out, url, (size_t)(auth - url));
		rc = rc ? rc : cp_buf_put(&out, "REDACTED@", 9);
		url = at + 1;
	}
	if (!q) {
		rc = rc ? rc : cp_buf_put(&out, url, strlen(url));
		return rc ? (cp_buf_dispose(&out), NULL) : out.ptr;
	}
	rc = rc ? rc : cp_buf_put(&out, url, (size_t)(q + 1 - url));
	const char *p = q + 1;
	while (!rc && *p && *p != '#') {
		size_t pair = strcspn(p, "&#");
		const char *eq = memchr(p, '=', pair);
		if (eq && secret_param(p, (size_t)(eq - p))) {
			rc = cp_buf_put(&out, p, (size_t)(eq + 1 - p));
			rc = rc ? rc : cp_buf_put(&out, "REDACTED", 8);
		} else {
			rc = cp_buf_put(&out, p, pair);
		}
		p += pair;
		if (!rc && *p == '&') {
			rc = cp_buf_put(&out, "&", 1);
			p++;
		}
	}
	if (rc) {
		cp_buf_dispose(&out);
		return NULL;
	}
	if (!out.ptr)
		return strdup("");
	return out.ptr;
}
