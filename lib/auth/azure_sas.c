/*
 * SAS tokens, after "Create an account SAS" and "Create a service SAS" in
 * the Azure Storage REST reference (learn.microsoft.com/rest/api/storageservices),
 * string-to-sign layout of version 2020-12-06 and later.
 */
#include "auth/azure.h"
#include "auth/digest.h"
#include "error.h"
#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void iso_time(int64_t t, char out[32])
{
	out[0] = '\0';
	if (!t)
		return;
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int line(cp_buf *b, const char *v, int newline)
{
	int rc = v ? cp_buf_put(b, v, strlen(v)) : 0;
	return rc || !newline ? rc : cp_buf_put(b, "\n", 1);
}

static int param(cp_buf *q, const char *name, const char *value)
{
	if (!value || !*value)
		return 0;
	int rc = cp_buf_put(q, "&", q->size ? 1 : 0);
	rc = rc ? rc : cp_buf_put(q, name, strlen(name));
	rc = rc ? rc : cp_buf_put(q, "=", 1);
	return rc ? rc : cp_url_encode(q, value, strlen(value), NULL);
}

static int sign(const char *key_b64, const cp_buf *sts, cp_buf *sig)
{
	cp_buf key = CP_BUF_INIT;
	int rc = cp_base64_decode(&key, key_b64, strlen(key_b64), "the Azure storage account key");
	if (!rc) {
		unsigned char mac[CP_SHA256_LEN];
		cp_auth_hmac_sha256(key.ptr, key.size, sts->ptr, sts->size, mac);
		rc = cp_base64_encode(sig, mac, sizeof(mac), 0);
	}
	cp_secret_wipe(key.ptr, key.size);
	cp_buf_dispose(&key);
	return rc;
}

static int check(const char *account, const char *key_b64, const cp_azure_sas_options *o)
{
	if (!account || !key_b64 || !*key_b64)
		return cp_error_set(CP_EAUTH, CP_ERRCLASS_AUTH,
				    "creating a SAS needs the storage account name and key");
	if (!o || !o->expiry || !o->permissions || !*o->permissions)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a SAS needs permissions and an expiry time");
	return 0;
}

static int finish(char **token, cp_buf *q, const char *key_b64, const cp_buf *sts)
{
	cp_buf sig = CP_BUF_INIT;
	int rc = sign(key_b64, sts, &sig);
	rc = rc ? rc : param(q, "sig", sig.ptr);
	cp_buf_dispose(&sig);
	if (rc) {
		cp_buf_dispose(q);
		return rc;
	}
	*token = q->ptr;
	return 0;
}

int cp_azure_sas_account(char **token, const char *account, const char *key_b64,
			 const cp_azure_sas_options *o)
{
	*token = NULL;
	int rc = check(account, key_b64, o);
	if (rc)
		return rc;
	if (!o->services || !o->resource_types)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "an account SAS needs services (b, q, t, f) and resource types "
				    "(s, c, o)");
	const char *sv = o->version ? o->version : CP_AZURE_STORAGE_VERSION;
	char st[32], se[32];
	iso_time(o->start, st);
	iso_time(o->expiry, se);
	cp_buf sts = CP_BUF_INIT, q = CP_BUF_INIT;
	rc = line(&sts, account, 1);
	rc = rc ? rc : line(&sts, o->permissions, 1);
	rc = rc ? rc : line(&sts, o->services, 1);
	rc = rc ? rc : line(&sts, o->resource_types, 1);
	rc = rc ? rc : line(&sts, st, 1);
	rc = rc ? rc : line(&sts, se, 1);
	rc = rc ? rc : line(&sts, o->ip, 1);
	rc = rc ? rc : line(&sts, o->protocol, 1);
	rc = rc ? rc : line(&sts, sv, 1);
	rc = rc ? rc : line(&sts, o->encryption_scope, 1);
	rc = rc ? rc : param(&q, "sv", sv);
	rc = rc ? rc : param(&q, "ss", o->services);
	rc = rc ? rc : param(&q, "srt", o->resource_types);
	rc = rc ? rc : param(&q, "sp", o->permissions);
	rc = rc ? rc : param(&q, "st", st);
	rc = rc ? rc : param(&q, "se", se);
	rc = rc ? rc : param(&q, "sip", o->ip);
	rc = rc ? rc : param(&q, "spr", o->protocol);
	rc = rc ? rc : param(&q, "ses", o->encryption_scope);
	rc = rc ? (cp_buf_dispose(&q), rc) : finish(token, &q, key_b64, &sts);
	cp_buf_dispose(&sts);
	return rc;
}

int cp_azure_sas_blob(char **token, const char *account, const char *key_b64, const char *container,
		      const char *blob, const cp_azure_sas_options *o)
{
	*token = NULL;
	int rc = check(account, key_b64, o);
	if (rc)
		return rc;
	const char *sv = o->version ? o->version : CP_AZURE_STORAGE_VERSION;
	char st[32], se[32];
	iso_time(o->start, st);
	iso_time(o->expiry, se);
	const char *sr = blob ? "b" : "c";
	cp_buf sts = CP_BUF_INIT, q = CP_BUF_INIT;
	rc = line(&sts, o->permissions, 1);
	rc = rc ? rc : line(&sts, st, 1);
	rc = rc ? rc : line(&sts, se, 1);
	/* The resource is named unencoded: /blob/account/container/blob name. */
	rc = rc ? rc : line(&sts, "/blob/", 0);
	rc = rc ? rc : line(&sts, account, 0);
	rc = rc ? rc : line(&sts, "/", 0);
	rc = rc ? rc : line(&sts, container, blob ? 0 : 1);
	if (blob) {
		rc = rc ? rc : line(&sts, "/", 0);
		rc = rc ? rc : line(&sts, blob, 1);
	}
	rc = rc ? rc : line(&sts, o->identifier, 1);
	rc = rc ? rc : line(&sts, o->ip, 1);
	rc = rc ? rc : line(&sts, o->protocol, 1);
	rc = rc ? rc : line(&sts, sv, 1);
	rc = rc ? rc : line(&sts, sr, 1);
	rc = rc ? rc : line(&sts, NULL, 1); /* snapshot time */
	rc = rc ? rc : line(&sts, o->encryption_scope, 1);
	rc = rc ? rc : line(&sts, o->cache_control, 1);
	rc = rc ? rc : line(&sts, o->content_disposition, 1);
	rc = rc ? rc : line(&sts, o->content_encoding, 1);
	rc = rc ? rc : line(&sts, o->content_language, 1);
	rc = rc ? rc : line(&sts, o->content_type, 0);
	rc = rc ? rc : param(&q, "st", st);
	rc = rc ? rc : param(&q, "se", se);
	rc = rc ? rc : param(&q, "sp", o->permissions);
	rc = rc ? rc : param(&q, "sv", sv);
	rc = rc ? rc : param(&q, "sr", sr);
	rc = rc ? rc : param(&q, "si", o->identifier);
	rc = rc ? rc : param(&q, "sip", o->ip);
	rc = rc ? rc : param(&q, "spr", o->protocol);
	rc = rc ? rc : param(&q, "ses", o->encryption_scope);
	rc = rc ? rc : param(&q, "rscc", o->cache_control);
	rc = rc ? rc : param(&q, "rscd", o->content_disposition);
	rc = rc ? rc : param(&q, "rsce", o->content_encoding);
	rc = rc ? rc : param(&q, "rscl", o->content_language);
	rc = rc ? rc : param(&q, "rsct", o->content_type);
	rc = rc ? (cp_buf_dispose(&q), rc) : finish(token, &q, key_b64, &sts);
	cp_buf_dispose(&sts);
	return rc;
}

int cp_azure_sas_apply(char **out_url, const char *url, const char *token)
{
	*out_url = NULL;
	const char *t = token[0] == '?' ? token + 1 : token;
	const char *sep = strchr(url, '?') ? "&" : "?";
	if (asprintf(out_url, "%s%s%s", url, sep, t) < 0) {
		*out_url = NULL;
		return cp_error_oom();
	}
	return 0;
}
