/*
 * Azure SharedKey and SAS: equal to what the Azure SDK for Python signs
 * (oracles/azure_sdk.py, run in the test), and accepted by Azurite
 * (started by scripts/azurite.sh).
 */
#include "auth/azure.h"
#include "auth/digest.h"
#include "creds/azure.h"
#include "creds/creds.h"
#include "ctx.h"
#include "http/url.h"
#include "json.h"
#include "sim.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Azurite's well-known development account. */
#define ACCOUNT "devstoreaccount1"
#define KEY                                                                                        \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static tu_sim azurite;
static cp_http_client *client;
static cp_creds *creds;

static void azurite_up(void)
{
	char *script = tu_source_path("scripts/azurite.sh");
	const char *argv[] = {"bash", script, "serve", NULL};
	tu_sim_start_cmd(&azurite, argv);
	free(script);
}

static void azurite_down(void)
{
	tu_sim_stop(&azurite);
}

static void setup(void)
{
	cp_http_client_options o;
	cp_http_client_options_init(&o);
	o.base_delay_ms = 10;
	tu_ok(cp_http_client_new(&client, NULL, &o));
	tu_ok(cp_creds_new_static(&creds, "test", ACCOUNT, KEY, NULL, 0));
}

static void teardown(void)
{
	cp_http_client_free(client);
	cp_creds_free(creds);
}

typedef struct sk_case {
	const char *method;
	const char *url_tail; /* after https://acct.blob.core.windows.net */
	const char *headers[16];
	uint64_t content_length;
} sk_case;

static const sk_case sk_cases[] = {
	{"GET", "/?comp=list&maxresults=10", {NULL}, 0},
	{"PUT", "/backups?restype=container", {"x-ms-meta-owner", "cloudprotect", NULL}, 0},
	{"PUT",
	 "/backups/packs/ab/c%20d%C3%BC.pack",
	 {"x-ms-blob-type", "BlockBlob", "Content-Type", "application/octet-stream",
	  "x-ms-meta-Zeta", "z", "x-ms-meta-alpha", "a", "x-ms-access-tier", "Cool",
	  "If-None-Match", "*", NULL},
	 1048576},
	{"GET", "/backups/packs/ab/x.pack", {"x-ms-range", "bytes=0-524287", NULL}, 0},
	{"HEAD", "/backups/config?snapshot=2026-01-01T00%3A00%3A00.0000000Z", {NULL}, 0},
	{"GET",
	 "/backups?restype=container&comp=list&prefix=index%2F&marker=2%21abc&include=metadata,"
	 "snapshots",
	 {NULL},
	 0},
	{"PUT",
	 "/backups/b?comp=block&blockid=AAAAAQ%3D%3D",
	 {"Content-MD5", "q83vEjRWeJA=", NULL},
	 4096},
	{"POST",
	 "/jobs/messages?visibilitytimeout=30",
	 {"Content-Type", "application/xml", NULL},
	 120},
	{"DELETE",
	 "/backups/locks/l1",
	 {"x-ms-delete-snapshots", "include", "x-ms-lease-id",
	  "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", NULL},
	 0},
};

typedef struct sas_case {
	int account; /* account SAS; else service SAS */
	const char *container, *blob;
	const char *permissions;
	int64_t start;
	const char *ip, *protocol;
	const char *services, *resource_types;
	const char *content_type, *cache_control;
} sas_case;

static const sas_case sas_cases[] = {
	{1, NULL, NULL, "rl", 0, NULL, NULL, "b", "sco", NULL, NULL},
	{1, NULL, NULL, "rwdlacu", 1767225600, "127.0.0.1", "https,http", "b", "co", NULL, NULL},
	{0, "backups", NULL, "racwdl", 0, NULL, NULL, NULL, NULL, NULL, NULL},
	{0, "backups", "packs/ab/c d\xc3\xbc.pack", "rcw", 1767225600, "10.0.0.0-10.0.0.255",
	 "https", NULL, NULL, "application/octet-stream", "no-cache"},
};

static const int64_t SAS_EXPIRY = 1893456000; /* 2030-01-01 */

static void iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *sk_url(const sk_case *c)
{
	char *url = NULL;
	if (asprintf(&url, "https://" ACCOUNT ".blob.core.windows.net%s", c->url_tail) < 0)
		abort();
	return url;
}

static void sk_ours(const sk_case *c, cp_http_headers *h, cp_buf *sts)
{
	char *url = sk_url(c);
	for (int i = 0; c->headers[i]; i += 2)
		cp_http_headers_add(h, c->headers[i], c->headers[i + 1]);
	tu_ok(cp_azure_sharedkey_sign(ACCOUNT, KEY, c->method, url, h, c->content_length,
				      1767323045, sts));
	free(url);
}

static char *sas_ours(const sas_case *c)
{
	cp_azure_sas_options o = {.permissions = c->permissions,
				  .start = c->start,
				  .expiry = SAS_EXPIRY,
				  .ip = c->ip,
				  .protocol = c->protocol,
				  .services = c->services,
				  .resource_types = c->resource_types,
				  .content_type = c->content_type,
				  .cache_control = c->cache_control};
	char *token = NULL;
	if (c->account)
		tu_ok(cp_azure_sas_account(&token, ACCOUNT, KEY, &o));
	else
		tu_ok(cp_azure_sas_blob(&token, ACCOUNT, KEY, c->container, c->blob, &o));
	return token;
}

static char *sig_of(const char *token)
{
	const char *p = strstr(token, "sig=");
	ck_assert_ptr_nonnull(p);
	cp_buf b = CP_BUF_INIT;
	cp_url_decode(&b, p + 4, strcspn(p + 4, "&"), 0);
	cp_buf_put(&b, "", 0);
	return b.ptr;
}

START_TEST(equal_to_azure_sdk)
{
	size_t nsk = sizeof(sk_cases) / sizeof(sk_cases[0]);
	size_t nsas = sizeof(sas_cases) / sizeof(sas_cases[0]);
	cp_json_writer w;
	tu_ok(cp_json_writer_init(&w, 0));
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "account", ACCOUNT);
	cp_json_kv_str(&w, "key", KEY);
	cp_json_key(&w, "sharedkey");
	cp_json_begin_array(&w);
	for (size_t i = 0; i < nsk; i++) {
		cp_http_headers h = CP_HTTP_HEADERS_INIT;
		cp_buf sts = CP_BUF_INIT;
		sk_ours(&sk_cases[i], &h, &sts);
		char *url = sk_url(&sk_cases[i]);
		cp_json_begin_map(&w);
		cp_json_kv_str(&w, "method", sk_cases[i].method);
		cp_json_kv_str(&w, "url", url);
		cp_json_kv_int(&w, "content_length", (int64_t)sk_cases[i].content_length);
		cp_json_key(&w, "headers");
		cp_json_begin_array(&w);
		for (size_t j = 0; j < h.count; j++) {
			if (!strcasecmp(h.items[j].name, "Authorization"))
				continue;
			cp_json_begin_array(&w);
			cp_json_string(&w, h.items[j].name);
			cp_json_string(&w, h.items[j].value);
			cp_json_end_array(&w);
		}
		cp_json_end_array(&w);
		cp_json_end_map(&w);
		free(url);
		cp_http_headers_dispose(&h);
		cp_buf_dispose(&sts);
	}
	cp_json_end_array(&w);
	for (int account = 1; account >= 0; account--) {
		cp_json_key(&w, account ? "sas_account" : "sas_blob");
		cp_json_begin_array(&w);
		for (size_t i = 0; i < nsas; i++) {
			const sas_case *c = &sas_cases[i];
			if (c->account != account)
				continue;
			char t[32];
			cp_json_begin_map(&w);
			cp_json_kv_str(&w, "permissions", c->permissions);
			iso(SAS_EXPIRY, t);
			cp_json_kv_str(&w, "expiry", t);
			if (c->start) {
				iso(c->start, t);
				cp_json_kv_str(&w, "start", t);
			}
			cp_json_kv_str(&w, "ip", c->ip);
			cp_json_kv_str(&w, "protocol", c->protocol);
			cp_json_kv_str(&w, "resource_types", c->resource_types);
			cp_json_kv_str(&w, "container", c->container);
			cp_json_kv_str(&w, "blob", c->blob);
			cp_json_kv_str(&w, "content_type", c->content_type);
			cp_json_kv_str(&w, "cache_control", c->cache_control);
			cp_json_end_map(&w);
		}
		cp_json_end_array(&w);
	}
	cp_json_end_map(&w);
	cp_buf in = CP_BUF_INIT, out = CP_BUF_INIT;
	tu_ok(cp_json_writer_finish(&w, &in));
	cp_json_writer_dispose(&w);

	char *script = tu_source_path("tests/unit/transport/oracles/azure_sdk.py");
	const char *argv[] = {"/usr/bin/python3", script, NULL};
	int status = tu_run_capture(argv, in.ptr, in.size, &out);
	ck_assert_msg(status == 0,
		      "Azure SDK oracle failed (exit %d); install Debian's python3-azure "
		      "(apt-get install python3-azure). Output: %s",
		      status, out.ptr ? out.ptr : "");
	yajl_val r = NULL;
	tu_ok(cp_json_parse(&r, out.ptr, "Azure SDK oracle output"));
	yajl_val sk = cp_json_get(r, "sharedkey");
	ck_assert_uint_eq(sk->u.array.len, nsk);
	for (size_t i = 0; i < nsk; i++) {
		cp_http_headers h = CP_HTTP_HEADERS_INIT;
		cp_buf sts = CP_BUF_INIT;
		sk_ours(&sk_cases[i], &h, &sts);
		const char *theirs = YAJL_GET_STRING(sk->u.array.values[i]);
		ck_assert_msg(
			!strcmp(cp_http_headers_get(&h, "Authorization"), theirs),
			"SharedKey case %zu (%s %s) differs\nours: %s\nsdk: %s\nwe signed:\n%s", i,
			sk_cases[i].method, sk_cases[i].url_tail,
			cp_http_headers_get(&h, "Authorization"), theirs, sts.ptr);
		cp_http_headers_dispose(&h);
		cp_buf_dispose(&sts);
	}
	size_t seen[2] = {0, 0};
	for (size_t i = 0; i < nsas; i++) {
		const sas_case *c = &sas_cases[i];
		yajl_val list = cp_json_get(r, c->account ? "sas_account" : "sas_blob");
		ck_assert_msg(YAJL_IS_ARRAY(list) && seen[c->account] < list->u.array.len,
			      "oracle gave too few SAS tokens");
		const char *theirs = YAJL_GET_STRING(list->u.array.values[seen[c->account]]);
		seen[c->account]++;
		char *ours = sas_ours(c);
		char *a = sig_of(ours), *b = sig_of(theirs);
		ck_assert_msg(!strcmp(a, b), "SAS case %zu differs\nours: %s\nsdk: %s", i, ours,
			      theirs);
		free(a);
		free(b);
		free(ours);
	}
	yajl_tree_free(r);
	free(script);
	cp_buf_dispose(&in);
	cp_buf_dispose(&out);
}
END_TEST

static int perform(const char *method, const char *url, const char *body, cp_buf *out,
		   const char *const *headers, int signed_)
{
	cp_azure_signer signer = {.creds = creds};
	cp_http_request req = {.method = method,
			       .url = url,
			       .body = body,
			       .body_len = body ? strlen(body) : 0,
			       .response_body = out,
			       .sign = signed_ ? cp_azure_sharedkey_sign_request : NULL,
			       .sign_payload = &signer};
	for (int i = 0; headers && headers[i]; i += 2)
		cp_http_headers_add(&req.headers, headers[i], headers[i + 1]);
	if (!signed_)
		cp_http_headers_add(&req.headers, "x-ms-version", CP_AZURE_STORAGE_VERSION);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = cp_http_perform(client, &req, &resp);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	return rc;
}

static char *blob_url(const char *path)
{
	static char buf[4][512];
	static int n;
	char *u = buf[n++ % 4];
	snprintf(u, 512, "%s/" ACCOUNT "%s", azurite.base, path);
	return u;
}

static int pattern_read(void *payload, uint64_t offset, char *buf, size_t len, size_t *got)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((offset + i) % 253);
	*got = len;
	return 0;
}

START_TEST(azurite_accepts_sharedkey)
{
	cp_buf out = CP_BUF_INIT;
	tu_ok(perform("PUT", blob_url("/skc?restype=container"), NULL, &out, NULL, 1));
	const char *bh[] = {"x-ms-blob-type",
			    "BlockBlob",
			    "Content-Type",
			    "application/octet-stream",
			    "x-ms-meta-kind",
			    "pack",
			    NULL};
	/* A streamed 1 MiB upload with an odd key. */
	cp_azure_signer signer = {.creds = creds};
	cp_http_request up = {.method = "PUT",
			      .url = blob_url("/skc/packs/a%20b%C3%BC.pack"),
			      .body_read = pattern_read,
			      .body_size = 1 << 20,
			      .sign = cp_azure_sharedkey_sign_request,
			      .sign_payload = &signer};
	for (int i = 0; bh[i]; i += 2)
		cp_http_headers_add(&up.headers, bh[i], bh[i + 1]);
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	tu_ok(cp_http_perform(client, &up, &resp));
	ck_assert_int_eq(resp.status, 201);
	cp_http_request_dispose(&up);
	cp_http_response_dispose(&resp);

	const char *range[] = {"x-ms-range", "bytes=1000-1999", NULL};
	tu_ok(perform("GET", blob_url("/skc/packs/a%20b%C3%BC.pack"), NULL, &out, range, 1));
	ck_assert_uint_eq(out.size, 1000);
	for (size_t i = 0; i < 1000; i++)
		ck_assert_int_eq((unsigned char)out.ptr[i], (1000 + i) % 253);
	tu_ok(perform("GET",
		      blob_url("/skc?restype=container&comp=list&prefix=packs%2F&include=metadata"),
		      NULL, &out, NULL, 1));
	ck_assert_ptr_nonnull(strstr(out.ptr, "<Name>packs/a b\xc3\xbc.pack</Name>"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "<kind>pack</kind>"));
	tu_ok(perform("DELETE", blob_url("/skc/packs/a%20b%C3%BC.pack"), NULL, &out, NULL, 1));
	ck_assert_int_eq(
		perform("GET", blob_url("/skc/packs/a%20b%C3%BC.pack"), NULL, &out, NULL, 1),
		CP_ENOTFOUND);
	ck_assert_str_eq(cp_error_last()->cloud_code, "BlobNotFound");

	/* Queue service on its own port. */
	char q[256];
	snprintf(q, sizeof(q), "http://127.0.0.1:%d/" ACCOUNT "/jobs", azurite.port2);
	tu_ok(perform("PUT", q, NULL, &out, NULL, 1));
	snprintf(q, sizeof(q), "http://127.0.0.1:%d/" ACCOUNT "/jobs/messages", azurite.port2);
	const char *xml[] = {"Content-Type", "application/xml", NULL};
	tu_ok(perform("POST", q,
		      "<QueueMessage><MessageText>backup vm-1</MessageText></QueueMessage>", &out,
		      xml, 1));
	tu_ok(perform("GET", q, NULL, &out, NULL, 1));
	ck_assert_ptr_nonnull(strstr(out.ptr, "backup vm-1"));

	/* A wrong key is refused, and the error says so with Azure's request id. */
	cp_creds_free(creds);
	tu_ok(cp_creds_new_static(&creds, "test", ACCOUNT,
				  "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25n",
				  NULL, 0));
	ck_assert_int_eq(
		perform("GET", blob_url("/skc?restype=container&comp=list"), NULL, &out, NULL, 1),
		CP_EAUTH);
	ck_assert_str_eq(cp_error_last()->cloud_code, "AuthorizationFailure");
	ck_assert_ptr_nonnull(cp_error_last()->request_id);
	cp_buf_dispose(&out);
}
END_TEST

START_TEST(azurite_accepts_sas)
{
	cp_buf out = CP_BUF_INIT;
	tu_ok(perform("PUT", blob_url("/sasc?restype=container"), NULL, &out, NULL, 1));
	cp_azure_sas_options o = {.permissions = "rcw", .expiry = time(NULL) + 3600};
	char *token = NULL, *url = NULL;
	/* A blob SAS with write permission creates the blob, no key involved. */
	tu_ok(cp_azure_sas_blob(&token, ACCOUNT, KEY, "sasc", "dir/file one.bin", &o));
	tu_ok(cp_azure_sas_apply(&url, blob_url("/sasc/dir/file%20one.bin"), token));
	const char *bh[] = {"x-ms-blob-type", "BlockBlob", NULL};
	tu_ok(perform("PUT", url, "via sas", &out, bh, 0));
	free(token);
	free(url);

	/* An account SAS reads it back. */
	cp_azure_sas_options a = {.permissions = "rl",
				  .services = "b",
				  .resource_types = "sco",
				  .start = time(NULL) - 300,
				  .expiry = time(NULL) + 3600};
	tu_ok(cp_azure_sas_account(&token, ACCOUNT, KEY, &a));
	tu_ok(cp_azure_sas_apply(&url, blob_url("/sasc/dir/file%20one.bin"), token));
	tu_ok(perform("GET", url, NULL, &out, NULL, 0));
	ck_assert_str_eq(out.ptr, "via sas");
	free(url);

	/* Tampering with the token breaks it. */
	char *bad = strdup(token);
	char *perm = strstr(bad, "sp=rl");
	ck_assert_ptr_nonnull(perm);
	memcpy(perm, "sp=rw", 5);
	tu_ok(cp_azure_sas_apply(&url, blob_url("/sasc/dir/file%20one.bin"), bad));
	ck_assert_int_eq(perform("GET", url, NULL, &out, NULL, 0), CP_EAUTH);
	ck_assert_str_eq(cp_error_last()->cloud_code, "AuthorizationFailure");
	/* ...and the signature never shows in the error. */
	char *sig = sig_of(token);
	ck_assert_ptr_null(strstr(cp_error_last()->message, sig));
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "sig=REDACTED"));
	free(sig);
	free(url);
	free(bad);
	free(token);

	/* A read-only SAS cannot write. */
	a.permissions = "r";
	tu_ok(cp_azure_sas_account(&token, ACCOUNT, KEY, &a));
	tu_ok(cp_azure_sas_apply(&url, blob_url("/sasc/other"), token));
	ck_assert_int_eq(perform("PUT", url, "x", &out, bh, 0), CP_EAUTH);
	free(url);
	free(token);
	cp_buf_dispose(&out);
}
END_TEST

static tu_sim identity;
static cp_buf idlog;

static void identity_up(void)
{
	tu_sim_start(&identity, NULL, "azure_identity.py", NULL);
}

static void identity_down(void)
{
	tu_sim_stop(&identity);
}

static void capture_log(cp_log_level level, const char *message, void *payload)
{
	cp_buf_put(&idlog, message, strlen(message));
	cp_buf_put(&idlog, "\n", 1);
}

START_TEST(azure_identity_chain)
{
	const char *vars[] = {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
			      "AZURE_AUTHORITY_HOST"};
	for (size_t i = 0; i < 4; i++)
		unsetenv(vars[i]);
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:1", 1);
	cp_ctx_options co;
	cp_ctx_options_init(&co, CP_CTX_OPTIONS_VERSION);
	co.log_cb = capture_log;
	co.log_level = CP_LOG_TRACE;
	cp_ctx *ctx = NULL;
	tu_ok(cp_ctx_new(&ctx, &co));
	cp_creds *c = NULL;
	cp_creds_value v;

	/* Nothing configured: both sources named. */
	ck_assert_int_eq(cp_azure_creds_chain(&c, ctx, NULL), CP_EAUTH);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "AZURE_CLIENT_SECRET not set"));
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "no IMDS at http://127.0.0.1:1"));

	/* Managed identity, with a user-assigned client id and the storage scope. */
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", identity.base, 1);
	cp_azure_creds_options o = {.scope = CP_AZURE_SCOPE_STORAGE, .client_id = "mi-client-1"};
	tu_ok(cp_azure_creds_chain(&c, ctx, &o));
	ck_assert_ptr_nonnull(strstr(c->source, "managed identity"));
	tu_ok(cp_creds_get(c, &v));
	ck_assert_ptr_nonnull(strstr(v.token, ".imds-"));
	ck_assert_int_gt(v.expires_at, time(NULL) + 3000);
	cp_creds_value_dispose(&v);
	cp_creds_free(c);
	cp_buf calls = CP_BUF_INIT;
	tu_sim_get(&identity, "/_sim/calls", &calls);
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"resource\": \"https://storage.azure.com\""));
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"client_id\": \"mi-client-1\""));

	/* A service principal comes first when configured. */
	setenv("AZURE_CLIENT_ID", "sp-app-id", 1);
	setenv("AZURE_TENANT_ID", "tenant-1", 1);
	setenv("AZURE_CLIENT_SECRET", "client-secret-SHOULDNOTLEAK", 1);
	setenv("AZURE_AUTHORITY_HOST", identity.base, 1);
	tu_ok(cp_azure_creds_chain(&c, ctx, NULL));
	ck_assert_ptr_nonnull(strstr(c->source, "service principal sp-app-id"));
	tu_ok(cp_creds_get(c, &v));
	ck_assert_ptr_nonnull(strstr(v.token, ".aad-"));
	cp_creds_value_dispose(&v);
	cp_creds_free(c);
	tu_sim_get(&identity, "/_sim/calls", &calls);
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"tenant\": \"tenant-1\""));
	ck_assert_ptr_nonnull(strstr(calls.ptr, CP_AZURE_SCOPE_ARM));

	/* A wrong secret: Entra's error code comes through. */
	setenv("AZURE_CLIENT_SECRET", "wrong-SHOULDNOTLEAK", 1);
	tu_ok(cp_azure_creds_chain(&c, ctx, NULL));
	ck_assert_int_eq(cp_creds_get(c, &v), CP_EAUTH);
	ck_assert_str_eq(cp_error_last()->cloud_code, "invalid_client");
	ck_assert_ptr_null(strstr(cp_error_last()->message, "SHOULDNOTLEAK"));
	cp_creds_free(c);

	/* The bearer signer puts the token on storage requests. */
	tu_ok(cp_creds_new_static(&c, "test", NULL, NULL, "tok-SHOULDNOTLEAK", 0));
	cp_bearer_signer bs = {.creds = c, .storage_version = CP_AZURE_STORAGE_VERSION};
	cp_http_request req = {.method = "GET", .url = "https://a.blob.core.windows.net/c"};
	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	tu_ok(cp_bearer_sign_request(&bs, &req, &h));
	ck_assert_str_eq(cp_http_headers_get(&h, "Authorization"), "Bearer tok-SHOULDNOTLEAK");
	ck_assert_str_eq(cp_http_headers_get(&h, "x-ms-version"), CP_AZURE_STORAGE_VERSION);
	cp_http_headers_dispose(&h);
	cp_creds_free(c);

	ck_assert_msg(!strstr(idlog.ptr, "SHOULDNOTLEAK"), "a secret reached the log:\n%s",
		      idlog.ptr);
	ck_assert_ptr_nonnull(strstr(idlog.ptr, "http: POST"));
	cp_buf_dispose(&calls);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(storage_env)
{
	cp_azure_storage_env e;
	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
	unsetenv("AZURE_STORAGE_ACCOUNT");
	ck_assert_int_eq(cp_azure_storage_from_env(&e), CP_ENOTFOUND);
	setenv("AZURE_STORAGE_CONNECTION_STRING",
	       "DefaultEndpointsProtocol=http;AccountName=" ACCOUNT ";AccountKey=" KEY
	       ";BlobEndpoint=http://127.0.0.1:10000/" ACCOUNT ";",
	       1);
	tu_ok(cp_azure_storage_from_env(&e));
	ck_assert_str_eq(e.account, ACCOUNT);
	ck_assert_str_eq(e.key, KEY);
	ck_assert_str_eq(e.blob_endpoint, "http://127.0.0.1:10000/" ACCOUNT);
	cp_azure_storage_env_dispose(&e);
	setenv("AZURE_STORAGE_CONNECTION_STRING",
	       "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=?sv=1&sig=x", 1);
	tu_ok(cp_azure_storage_from_env(&e));
	ck_assert_str_eq(e.sas, "sv=1&sig=x");
	cp_azure_storage_env_dispose(&e);
	setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=a", 1);
	ck_assert_int_eq(cp_azure_storage_from_env(&e), CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "AZURE_STORAGE_CONNECTION_STRING"));
	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
	setenv("AZURE_STORAGE_ACCOUNT", "acct", 1);
	setenv("AZURE_STORAGE_SAS_TOKEN", "?sv=2&sig=y", 1);
	tu_ok(cp_azure_storage_from_env(&e));
	ck_assert_str_eq(e.sas, "sv=2&sig=y");
	ck_assert_ptr_null(e.key);
	cp_azure_storage_env_dispose(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("azure");
	TCase *oracle = tcase_create("sdk");
	tcase_add_checked_fixture(oracle, setup, teardown);
	tcase_set_timeout(oracle, 60);
	tcase_add_test(oracle, equal_to_azure_sdk);
	suite_add_tcase(s, oracle);
	TCase *emu = tcase_create("azurite");
	tcase_add_unchecked_fixture(emu, azurite_up, azurite_down);
	tcase_add_checked_fixture(emu, setup, teardown);
	tcase_set_timeout(emu, 120);
	tcase_add_test(emu, azurite_accepts_sharedkey);
	tcase_add_test(emu, azurite_accepts_sas);
	suite_add_tcase(s, emu);
	TCase *id = tcase_create("identity");
	tcase_add_unchecked_fixture(id, identity_up, identity_down);
	tcase_set_timeout(id, 60);
	tcase_add_test(id, azure_identity_chain);
	tcase_add_test(id, storage_env);
	suite_add_tcase(s, id);
	return tu_run(s);
}
