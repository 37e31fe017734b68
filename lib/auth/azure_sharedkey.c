/*
 * SharedKey, after "Authorize with Shared Key" in the Azure Storage REST
 * reference (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key).
 */
#include "auth/azure.h"
#include "auth/digest.h"
#include "creds/creds.h"
#include "error.h"
#include "http/date.h"
#include "http/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The SDKs sort x-ms-* names by this alphabet, not by ASCII. */
static int weight(unsigned char c)
{
	static const char order[] =
		"-!#$%&*.^_|~+\"'(),/`~0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]"
		"abcdefghijklmnopqrstuvwxyz{}";
	const char *p = c ? strchr(order, c) : NULL;
	return p ? (int)(p - order) : 256 + c;
}

static int header_cmp(const void *a, const void *b)
{
	const unsigned char *x = *(const unsigned char *const *)a;
	const unsigned char *y = *(const unsigned char *const *)b;
	for (; *x && *y; x++, y++)
		if (weight(*x) != weight(*y))
			return weight(*x) - weight(*y);
	return (int)*x - (int)*y;
}

typedef struct qparam {
	char *name;
	char *value;
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
	const qparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

/* "\nname:v1,v2" for each query parameter, names lower-cased and sorted, values decoded. */
static int canonical_query(cp_buf *out, const char *query)
{
	size_t cap = 1;
	for (const char *c = query; *c; c++)
		cap += *c == '&';
	qparam *q = calloc(cap, sizeof(*q));
	if (!q)
		return cp_error_oom();
	size_t n = 0;
	int rc = 0;
	for (const char *p = query; *p && !rc;) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		if (len) {
			cp_buf v = CP_BUF_INIT;
			q[n].name = strndup(p, klen);
			rc = cp_url_decode(&v, eq ? eq + 1 : "", eq ? len - klen - 1 : 0, 0);
			rc = rc ? rc : cp_buf_put(&v, "", 0);
			q[n].value = v.ptr;
			if (!rc && !q[n].name)
				rc = cp_error_oom();
			for (char *c = q[n].name; c && *c; c++)
				*c = (char)tolower((unsigned char)*c);
			n++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (!rc)
		qsort(q, n, sizeof(*q), qparam_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		int same = i && !strcmp(q[i].name, q[i - 1].name);
		if (same) {
			rc = cp_buf_put(out, ",", 1);
		} else {
			rc = cp_buf_put(out, "\n", 1);
			rc = rc ? rc : cp_buf_put(out, q[i].name, strlen(q[i].name));
			rc = rc ? rc : cp_buf_put(out, ":", 1);
		}
		rc = rc ? rc : cp_buf_put(out, q[i].value, strlen(q[i].value));
	}
	for (size_t i = 0; i < n; i++) {
		free(q[i].name);
		cp_secret_free(q[i].value);
	}
	free(q);
	return rc;
}

static int canonical_ms_headers(cp_buf *out, const cp_http_headers *h)
{
	char **names = calloc(h->count + 1, sizeof(*names));
	if (!names)
		return cp_error_oom();
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < h->count && !rc; i++) {
		if (strncasecmp(h->items[i].name, "x-ms-", 5))
			continue;
		char *line = NULL;
		if (asprintf(&line, "%s:%s", h->items[i].name, h->items[i].value) < 0) {
			rc = cp_error_oom();
			break;
		}
		for (char *c = line; *c != ':'; c++)
			*c = (char)tolower((unsigned char)*c);
		names[n++] = line;
	}
	if (!rc)
		qsort(names, n, sizeof(*names), header_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = cp_buf_put(out, names[i], strlen(names[i]));
		rc = rc ? rc : cp_buf_put(out, "\n", 1);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int put_line(cp_buf *out, const char *value)
{
	int rc = value ? cp_buf_put(out, value, strlen(value)) : 0;
	return rc ? rc : cp_buf_put(out, "\n", 1);
}

int cp_azure_sharedkey_sign(const char *account, const char *key_b64, const char *method,
			    const char *url, cp_http_headers *headers, uint64_t content_length,
			    int64_t now, cp_buf *string_to_sign)
{
	if (!account || !*account || !key_b64 || !*key_b64)
		return cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				    "Azure SharedKey signing needs the storage account name and "
				    "key; set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY");
	cp_url u;
	int rc = cp_url_parse(&u, url);
	if (rc)
		return rc;
	if (!cp_http_headers_get(headers, "x-ms-date")) {
		char date[CP_HTTP_DATE_LEN];
		cp_http_date_format(now ? now : (int64_t)time(NULL), date);
		rc = cp_http_headers_set(headers, "x-ms-date", date);
	}
	if (!rc && !cp_http_headers_get(headers, "x-ms-version"))
		rc = cp_http_headers_set(headers, "x-ms-version", CP_AZURE_STORAGE_VERSION);
	cp_http_headers_remove(headers, "Authorization");

	static const char *const standard[] = {
		"Content-Encoding",
		"Content-Language",
		NULL /* length */,
		"Content-MD5",
		"Content-Type",
		"Date",
		"If-Modified-Since",
		"If-Match",
		"If-None-Match",
		"If-Unmodified-Since",
		"Range",
	};
	cp_buf sts = CP_BUF_INIT;
	rc = rc ? rc : put_line(&sts, method);
	for (size_t i = 0; !rc && i < sizeof(standard) / sizeof(standard[0]); i++) {
		if (!standard[i]) {
			/* Since version 2015-02-21 a zero length is written as nothing. */
			char len[32] = "";
			if (content_length)
				snprintf(len, sizeof(len), "%llu",
					 (unsigned long long)content_length);
			rc = put_line(&sts, len);
		} else {
			rc = put_line(&sts, cp_http_headers_get(headers, standard[i]));
		}
	}
	rc = rc ? rc : canonical_ms_headers(&sts, headers);
	rc = rc ? rc : cp_buf_put(&sts, "/", 1);
	rc = rc ? rc : cp_buf_put(&sts, account, strlen(account));
	rc = rc ? rc : cp_buf_put(&sts, u.path, strlen(u.path));
	rc = rc ? rc : canonical_query(&sts, u.query);

	cp_buf key = CP_BUF_INIT, sig = CP_BUF_INIT;
	rc = rc ? rc
		: cp_base64_decode(&key, key_b64, strlen(key_b64), "the Azure storage account key");
	if (!rc) {
		unsigned char mac[CP_SHA256_LEN];
		cp_auth_hmac_sha256(key.ptr, key.size, sts.ptr, sts.size, mac);
		rc = cp_buf_put(&sig, "SharedKey ", 10);
		rc = rc ? rc : cp_buf_put(&sig, account, strlen(account));
		rc = rc ? rc : cp_buf_put(&sig, ":", 1);
		rc = rc ? rc : cp_base64_encode(&sig, mac, sizeof(mac), 0);
		rc = rc ? rc : cp_http_headers_set(headers, "Authorization", sig.ptr);
	}
	if (!rc && string_to_sign) {
		cp_buf_clear(string_to_sign);
		rc = cp_buf_put(string_to_sign, sts.ptr, sts.size);
	}
	cp_secret_wipe(key.ptr, key.size);
	cp_buf_dispose(&key);
	cp_buf_dispose(&sig);
	cp_buf_dispose(&sts);
	cp_url_dispose(&u);
	return rc;
}

int cp_azure_sharedkey_sign_request(void *payload, const cp_http_request *req,
				    cp_http_headers *headers)
{
	cp_azure_signer *s = payload;
	cp_creds_value v;
	int rc = cp_creds_get(s->creds, &v);
	if (rc)
		return rc;
	uint64_t len = req->body_read ? req->body_size : req->body_len;
	rc = cp_azure_sharedkey_sign(v.access_key, v.secret, req->method, req->url, headers, len, 0,
				     NULL);
	cp_creds_value_dispose(&v);
	return rc;
}

int cp_bearer_sign_request(void *payload, const cp_http_request *req, cp_http_headers *headers)
{
	cp_bearer_signer *s = payload;
	cp_creds_value v;
	int rc = cp_creds_get(s->creds, &v);
	if (rc)
		return rc;
	char *auth = NULL;
	if (!v.token)
		rc = cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				  "credentials from %s have no bearer token", s->creds->source);
	else if (asprintf(&auth, "Bearer %s", v.token) < 0)
		rc = cp_error_oom();
	rc = rc ? rc : cp_http_headers_set(headers, "Authorization", auth);
	if (!rc && s->storage_version && !cp_http_headers_get(headers, "x-ms-version"))
		rc = cp_http_headers_set(headers, "x-ms-version", s->storage_version);
	cp_secret_free(auth);
	cp_creds_value_dispose(&v);
	return rc;
}
