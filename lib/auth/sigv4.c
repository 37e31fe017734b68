/*
 * Signature Version 4, after "Create a signed AWS API request"
 * (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) and
 * Google's "V4 signing process with HMAC keys" for the GCS XML API.
 */
#include "auth/sigv4.h"
#include "auth/digest.h"
#include "creds/creds.h"
#include "error.h"
#include "http/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct dialect {
	const char *algorithm;
	const char *key_prefix;
	const char *terminator;
	const char *date_header;
	const char *token_header;
	const char *sha_header;
	const char *q_algorithm, *q_credential, *q_date, *q_expires, *q_signed, *q_token,
		*q_signature;
} dialect;

static const dialect dialects[] = {
	{"AWS4-HMAC-SHA256", "AWS4", "aws4_request", "X-Amz-Date", "X-Amz-Security-Token",
	 "X-Amz-Content-SHA256", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
	 "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"},
	{"GOOG4-HMAC-SHA256", "GOOG4", "goog4_request", "X-Goog-Date", NULL,
	 "X-Goog-Content-SHA256", "X-Goog-Algorithm", "X-Goog-Credential", "X-Goog-Date",
	 "X-Goog-Expires", "X-Goog-SignedHeaders", NULL, "X-Goog-Signature"},
};

/* Hop-by-hop and proxy-rewritten headers that must not be signed (as botocore). */
static int unsignable(const char *lname)
{
	static const char *const names[] = {
		"connection",
		"expect",
		"keep-alive",
		"proxy-authenticate",
		"proxy-authorization",
		"te",
		"trailer",
		"transfer-encoding",
		"upgrade",
		"user-agent",
		"x-amzn-trace-id",
		"authorization",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(lname, names[i]))
			return 1;
	return 0;
}

static int check_params(const cp_sigv4_params *p)
{
	const char *missing = !p->access_key		    ? "an access key id"
			      : !p->secret_key		    ? "a secret access key"
			      : !p->region || !*p->region   ? "a region"
			      : !p->service || !*p->service ? "a service name"
							    : NULL;
	if (missing)
		return cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				    "cannot sign the request without %s; configure credentials "
				    "and the region",
				    missing);
	if ((unsigned)p->dialect > CP_SIGV4_GOOG)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID, "unknown signing dialect %d",
				    (int)p->dialect);
	return 0;
}

static void timestamp(int64_t now, char stamp[17])
{
	time_t t = now ? (time_t)now : time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* ---- canonical query ---- */

typedef struct pair {
	char *key;
	char *value;
} pair;

static int pair_cmp(const void *a, const void *b)
{
	const pair *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

static char *reencode(const char *s, size_t len)
{
	cp_buf raw = CP_BUF_INIT, enc = CP_BUF_INIT;
	/* '+' stays a plus: build URLs with %20 for spaces. */
	int rc = cp_url_decode(&raw, s, len, 0);
	rc = rc ? rc : cp_buf_put(&raw, "", 0);
	rc = rc ? rc : cp_url_encode(&enc, raw.ptr, raw.size, NULL);
	rc = rc ? rc : cp_buf_put(&enc, "", 0);
	cp_buf_dispose(&raw);
	if (rc) {
		cp_buf_dispose(&enc);
		return NULL;
	}
	return enc.ptr;
}

static void free_pairs(pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(pairs[i].key);
		cp_secret_free(pairs[i].value);
	}
	free(pairs);
}

/* Every key=value of query, each decoded and encoded again the RFC 3986 way, sorted. */
static int canonical_query(cp_buf *out, const char *query)
{
	size_t cap = 1;
	for (const char *c = query; *c; c++)
		cap += *c == '&';
	pair *pairs = calloc(cap, sizeof(*pairs));
	if (!pairs)
		return cp_error_oom();
	size_t n = 0;
	const char *p = query;
	while (*p) {
		size_t len = strcspn(p, "&");
		if (len) {
			const char *eq = memchr(p, '=', len);
			size_t klen = eq ? (size_t)(eq - p) : len;
			pairs[n].key = reencode(p, klen);
			pairs[n].value = eq ? reencode(eq + 1, len - klen - 1) : strdup("");
			n++;
			if (!pairs[n - 1].key || !pairs[n - 1].value) {
				free_pairs(pairs, n);
				return cp_error_oom();
			}
		}
		p += len;
		if (*p == '&')
			p++;
	}
	qsort(pairs, n, sizeof(*pairs), pair_cmp);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = cp_buf_put(out, "&", i ? 1 : 0);
		rc = rc ? rc : cp_buf_put(out, pairs[i].key, strlen(pairs[i].key));
		rc = rc ? rc : cp_buf_put(out, "=", 1);
		rc = rc ? rc : cp_buf_put(out, pairs[i].value, strlen(pairs[i].value));
	}
	free_pairs(pairs, n);
	return rc;
}

/* ---- canonical path ---- */

static int canonical_path(cp_buf *out, const char *path, int raw)
{
	if (raw)
		return cp_buf_put(out, path, strlen(path));
	/* Remove dot segments and empty segments (RFC 3986 5.2.4, as AWS wants). */
	size_t len = strlen(path);
	const char **seg = calloc(len + 1, sizeof(*seg));
	size_t *seglen = calloc(len + 1, sizeof(*seglen));
	if (!seg || !seglen) {
		free(seg);
		free(seglen);
		return cp_error_oom();
	}
	size_t n = 0;
	for (const char *p = path; *p;) {
		size_t l = strcspn(p, "/");
		if (l == 2 && !strncmp(p, "..", 2)) {
			if (n)
				n--;
		} else if (l && !(l == 1 && *p == '.')) {
			seg[n] = p;
			seglen[n++] = l;
		}
		p += l;
		if (*p == '/')
			p++;
	}
	cp_buf norm = CP_BUF_INIT;
	int rc = 0;
	if (path[0] == '/' || !len)
		rc = cp_buf_put(&norm, "/", 1);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = cp_buf_put(&norm, "/", i ? 1 : 0);
		rc = rc ? rc : cp_buf_put(&norm, seg[i], seglen[i]);
	}
	if (!rc && n && len && path[len - 1] == '/')
		rc = cp_buf_put(&norm, "/", 1);
	/* The path as sent is encoded once more. */
	if (!rc)
		rc = cp_url_encode(out, norm.ptr ? norm.ptr : "", norm.size, "/");
	cp_buf_dispose(&norm);
	free(seg);
	free(seglen);
	return rc;
}

/* ---- canonical headers ---- */

typedef struct hdr {
	char *name; /* lower case */
	const char *value;
	size_t order;
} hdr;

static int hdr_cmp(const void *a, const void *b)
{
	const hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Trimall: no leading or trailing blanks, inner runs of blanks become one space. */
static int put_trimmed(cp_buf *out, const char *v)
{
	int pending = 0, started = 0;
	for (; *v; v++) {
		if (isspace((unsigned char)*v)) {
			pending = started;
			continue;
		}
		int rc = pending ? cp_buf_put(out, " ", 1) : 0;
		rc = rc ? rc : cp_buf_put(out, v, 1);
		if (rc)
			return rc;
		pending = 0;
		started = 1;
	}
	return 0;
}

static int canonical_headers(cp_buf *canon, cp_buf *signed_names, const cp_http_headers *h)
{
	hdr *list = calloc(h->count + 1, sizeof(*list));
	if (!list)
		return cp_error_oom();
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < h->count; i++) {
		char *lname = strdup(h->items[i].name);
		if (!lname) {
			rc = cp_error_oom();
			break;
		}
		for (char *c = lname; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (unsignable(lname)) {
			free(lname);
			continue;
		}
		list[n].name = lname;
		list[n].value = h->items[i].value;
		list[n].order = i;
		n++;
	}
	qsort(list, n, sizeof(*list), hdr_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		int same = i && !strcmp(list[i].name, list[i - 1].name);
		if (same) {
			/* Repeated headers: values joined by commas in the order sent. */
			rc = cp_buf_put(canon, ",", 1);
		} else {
			rc = cp_buf_put(canon, "\n", i ? 1 : 0);
			rc = rc ? rc : cp_buf_put(canon, list[i].name, strlen(list[i].name));
			rc = rc ? rc : cp_buf_put(canon, ":", 1);
			rc = rc ? rc : cp_buf_put(signed_names, ";", signed_names->size ? 1 : 0);
			rc = rc ? rc : cp_buf_put(signed_names, list[i].name, strlen(list[i].name));
		}
		rc = rc ? rc : put_trimmed(canon, list[i].value);
	}
	if (!rc)
		rc = cp_buf_put(canon, "\n", 1);
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
	return rc;
}

/* ---- the signature ---- */

static void signing_key(const cp_sigv4_params *p, const dialect *d, const char *date,
			unsigned char key[CP_SHA256_LEN])
{
	cp_buf seed = CP_BUF_INIT;
	unsigned char k[CP_SHA256_LEN];
	if (cp_buf_put(&seed, d->key_prefix, strlen(d->key_prefix)) ||
	    cp_buf_put(&seed, p->secret_key, strlen(p->secret_key))) {
		memset(key, 0, CP_SHA256_LEN);
		cp_buf_dispose(&seed);
		return;
	}
	cp_auth_hmac_sha256(seed.ptr, seed.size, date, strlen(date), k);
	cp_auth_hmac_sha256(k, sizeof(k), p->region, strlen(p->region), k);
	cp_auth_hmac_sha256(k, sizeof(k), p->service, strlen(p->service), k);
	cp_auth_hmac_sha256(k, sizeof(k), d->terminator, strlen(d->terminator), key);
	cp_secret_wipe(seed.ptr, seed.size);
	cp_secret_wipe(k, sizeof(k));
	cp_buf_dispose(&seed);
}

/* Hex signature of the canonical request at stamp. */
static int sign_canonical(const cp_sigv4_params *p, const dialect *d, const char *stamp,
			  const cp_buf *canonical, char sig[2 * CP_SHA256_LEN + 1])
{
	char date[9], hash[2 * CP_SHA256_LEN + 1];
	memcpy(date, stamp, 8);
	date[8] = '\0';
	cp_auth_sha256_hex(canonical->ptr, canonical->size, hash);
	char *sts = NULL;
	if (asprintf(&sts, "%s\n%s\n%s/%s/%s/%s\n%s", d->algorithm, stamp, date, p->region,
		     p->service, d->terminator, hash) < 0)
		return cp_error_oom();
	unsigned char key[CP_SHA256_LEN], mac[CP_SHA256_LEN];
	signing_key(p, d, date, key);
	cp_auth_hmac_sha256(key, sizeof(key), sts, strlen(sts), mac);
	cp_secret_wipe(key, sizeof(key));
	cp_auth_hex(mac, sizeof(mac), sig);
	free(sts);
	return 0;
}

static int build_canonical(cp_buf *c, const char *method, const cp_url *u, const char *query,
			   int raw_path, const cp_http_headers *h, cp_buf *signed_names,
			   const char *payload_hash)
{
	int rc = cp_buf_put(c, method, strlen(method));
	rc = rc ? rc : cp_buf_put(c, "\n", 1);
	rc = rc ? rc : canonical_path(c, u->path, raw_path);
	rc = rc ? rc : cp_buf_put(c, "\n", 1);
	rc = rc ? rc : canonical_query(c, query);
	rc = rc ? rc : cp_buf_put(c, "\n", 1);
	rc = rc ? rc : canonical_headers(c, signed_names, h);
	rc = rc ? rc : cp_buf_put(c, "\n", 1);
	rc = rc ? rc : cp_buf_put(c, signed_names->ptr, signed_names->size);
	rc = rc ? rc : cp_buf_put(c, "\n", 1);
	rc = rc ? rc : cp_buf_put(c, payload_hash, strlen(payload_hash));
	return rc;
}

/* The Host header as the request will send it. */
static int ensure_host(cp_http_headers *h, const cp_url *u)
{
	if (cp_http_headers_get(h, "host"))
		return 0;
	cp_buf host = CP_BUF_INIT;
	int rc = cp_url_host_header(u, &host);
	for (size_t i = 0; !rc && i < host.size; i++)
		host.ptr[i] = (char)tolower((unsigned char)host.ptr[i]);
	rc = rc ? rc : cp_http_headers_set(h, "Host", host.ptr);
	cp_buf_dispose(&host);
	return rc;
}

int cp_sigv4_sign(const cp_sigv4_params *p, const char *method, const char *url,
		  cp_http_headers *headers, const void *body, size_t body_len, cp_buf *canonical)
{
	int rc = check_params(p);
	if (rc)
		return rc;
	const dialect *d = &dialects[p->dialect];
	cp_url u;
	rc = cp_url_parse(&u, url);
	if (rc)
		return rc;
	char stamp[17], hash[2 * CP_SHA256_LEN + 1];
	timestamp(p->now, stamp);
	const char *payload = p->payload_hash;
	if (!payload) {
		cp_auth_sha256_hex(body ? body : "", body ? body_len : 0, hash);
		payload = hash;
	}
	cp_http_headers_remove(headers, "Authorization");
	rc = cp_http_headers_set(headers, d->date_header, stamp);
	if (!rc && p->session_token && *p->session_token) {
		rc = d->token_header
			     ? cp_http_headers_set(headers, d->token_header, p->session_token)
			     : cp_error_set(CP_EINVALID, CP_ERRCLASS_AUTH,
					    "GOOG4 signing has no session tokens; use an "
					    "HMAC key without one");
	}
	if (!rc && p->content_sha256_header)
		rc = cp_http_headers_set(headers, d->sha_header, payload);
	rc = rc ? rc : ensure_host(headers, &u);

	cp_buf canon = CP_BUF_INIT, names = CP_BUF_INIT;
	char sig[2 * CP_SHA256_LEN + 1];
	rc = rc ? rc
		: build_canonical(&canon, method, &u, u.query, p->raw_path, headers, &names,
				  payload);
	rc = rc ? rc : sign_canonical(p, d, stamp, &canon, sig);
	if (!rc) {
		char *auth = NULL;
		if (asprintf(&auth,
			     "%s Credential=%s/%.8s/%s/%s/%s, SignedHeaders=%s, Signature=%s",
			     d->algorithm, p->access_key, stamp, p->region, p->service,
			     d->terminator, names.ptr, sig) < 0)
			rc = cp_error_oom();
		else
			rc = cp_http_headers_set(headers, "Authorization", auth);
		free(auth);
	}
	if (!rc && canonical) {
		cp_buf_clear(canonical);
		rc = cp_buf_put(canonical, canon.ptr, canon.size);
	}
	cp_buf_dispose(&canon);
	cp_buf_dispose(&names);
	cp_url_dispose(&u);
	return rc;
}

static int put_param(cp_buf *q, const char *key, const char *value)
{
	int rc = cp_buf_put(q, "&", q->size ? 1 : 0);
	rc = rc ? rc : cp_url_encode(q, key, strlen(key), NULL);
	rc = rc ? rc : cp_buf_put(q, "=", 1);
	rc = rc ? rc : cp_url_encode(q, value, strlen(value), NULL);
	return rc;
}

int cp_sigv4_presign(const cp_sigv4_params *p, const char *method, const char *url,
		     const cp_http_headers *headers, unsigned int expires_s, char **out_url)
{
	*out_url = NULL;
	int rc = check_params(p);
	if (rc)
		return rc;
	if (expires_s < 1 || expires_s > 604800)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a presigned URL must expire in 1 to 604800 seconds (7 days), "
				    "not %u",
				    expires_s);
	const dialect *d = &dialects[p->dialect];
	cp_url u;
	rc = cp_url_parse(&u, url);
	if (rc)
		return rc;
	char stamp[17], expires[16], empty_hash[2 * CP_SHA256_LEN + 1];
	timestamp(p->now, stamp);
	snprintf(expires, sizeof(expires), "%u", expires_s);
	cp_auth_sha256_hex("", 0, empty_hash);

	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	cp_buf query = CP_BUF_INIT, canon = CP_BUF_INIT, names = CP_BUF_INIT, cred = CP_BUF_INIT,
	       sink = CP_BUF_INIT, result = CP_BUF_INIT;
	rc = headers ? cp_http_headers_copy(&h, headers) : 0;
	rc = rc ? rc : ensure_host(&h, &u);
	/* The signed header list is part of what is signed: compute it first. */
	rc = rc ? rc : canonical_headers(&sink, &names, &h);
	if (!rc && asprintf(&cred.ptr, "%s/%.8s/%s/%s/%s", p->access_key, stamp, p->region,
			    p->service, d->terminator) < 0)
		rc = cp_error_oom();
	rc = rc ? rc : cp_buf_put(&query, u.query, strlen(u.query));
	rc = rc ? rc : put_param(&query, d->q_algorithm, d->algorithm);
	rc = rc ? rc : put_param(&query, d->q_credential, cred.ptr);
	rc = rc ? rc : put_param(&query, d->q_date, stamp);
	rc = rc ? rc : put_param(&query, d->q_expires, expires);
	rc = rc ? rc : put_param(&query, d->q_signed, names.ptr);
	if (!rc && p->session_token && *p->session_token && d->q_token)
		rc = put_param(&query, d->q_token, p->session_token);
	cp_buf_clear(&names);
	rc = rc ? rc
		: build_canonical(&canon, method, &u, query.ptr, p->raw_path, &h, &names,
				  p->payload_hash ? p->payload_hash : empty_hash);
	char sig[2 * CP_SHA256_LEN + 1];
	rc = rc ? rc : sign_canonical(p, d, stamp, &canon, sig);
	rc = rc ? rc : put_param(&query, d->q_signature, sig);
	if (!rc) {
		size_t base = strcspn(url, "?#");
		rc = cp_buf_put(&result, url, base);
		rc = rc ? rc : cp_buf_put(&result, "?", 1);
		rc = rc ? rc : cp_buf_put(&result, query.ptr, query.size);
	}
	if (!rc) {
		*out_url = result.ptr;
		result.ptr = NULL;
	}
	free(cred.ptr);
	cp_buf_dispose(&result);
	cp_buf_dispose(&sink);
	cp_buf_dispose(&names);
	cp_buf_dispose(&canon);
	cp_secret_wipe(query.ptr, query.size);
	cp_buf_dispose(&query);
	cp_http_headers_dispose(&h);
	cp_url_dispose(&u);
	return rc;
}

int cp_sigv4_sign_request(void *payload, const cp_http_request *req, cp_http_headers *headers)
{
	cp_sigv4_signer *s = payload;
	cp_sigv4_params p = s->params;
	cp_creds_value v = {0};
	if (s->creds) {
		int rc = cp_creds_get(s->creds, &v);
		if (rc)
			return rc;
		p.access_key = v.access_key;
		p.secret_key = v.secret;
		p.session_token = v.token;
	}
	if (!p.payload_hash && req->body_read)
		p.payload_hash = CP_SIGV4_UNSIGNED_PAYLOAD;
	int rc = cp_sigv4_sign(&p, req->method, req->url, headers, req->body, req->body_len, NULL);
	cp_creds_value_dispose(&v);
	return rc;
}
