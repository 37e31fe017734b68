/*
 * GCP: service account JWT to OAuth2 token (google_token.py checks the RS256
 * signature with the public key), the metadata server (gcp_metadata.py),
 * and GCS HMAC signing (gcs_hmac.py checks GOOG4-HMAC-SHA256).
 */
#include "auth/digest.h"
#include "auth/jwt.h"
#include "auth/sigv4.h"
#include "creds/gcp.h"
#include "ctx.h"
#include "fs.h"
#include "sim.h"
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HMAC_ID	    "GOOG1EXAMPLEHMACID"
#define HMAC_SECRET "hmac-secret-SHOULDNOTLEAK"

static tu_sim token_sim, md_sim, gcs_sim;
static char *dir, *key_file;
static cp_buf logbuf;
static cp_ctx *ctx;

static void sims_up(void)
{
	dir = tu_tempdir("gcp");
	if (asprintf(&key_file, "%s/key.json", dir) < 0)
		abort();
	const char *args[] = {"--write-key", key_file, NULL};
	tu_sim_start(&token_sim, NULL, "google_token.py", args);
	tu_sim_start(&md_sim, NULL, "gcp_metadata.py", NULL);
	const char *gargs[] = {"--key", HMAC_ID ":" HMAC_SECRET, NULL};
	tu_sim_start(&gcs_sim, NULL, "gcs_hmac.py", gargs);
}

static void sims_down(void)
{
	tu_sim_stop(&token_sim);
	tu_sim_stop(&md_sim);
	tu_sim_stop(&gcs_sim);
	tu_rmtree(dir);
	free(dir);
	free(key_file);
}

static void capture_log(cp_log_level level, const char *message, void *payload)
{
	cp_buf_put(&logbuf, message, strlen(message));
	cp_buf_put(&logbuf, "\n", 1);
}

static void setup(void)
{
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	setenv("GCE_METADATA_HOST", "127.0.0.1:1", 1);
	cp_buf_clear(&logbuf);
	cp_ctx_options o;
	cp_ctx_options_init(&o, CP_CTX_OPTIONS_VERSION);
	o.log_cb = capture_log;
	o.log_level = CP_LOG_TRACE;
	tu_ok(cp_ctx_new(&ctx, &o));
}

static void teardown(void)
{
	ck_assert_msg(!logbuf.ptr || !strstr(logbuf.ptr, "SHOULDNOTLEAK"),
		      "a secret reached the log:\n%s", logbuf.ptr);
	ck_assert_msg(!logbuf.ptr || !strstr(logbuf.ptr, "PRIVATE KEY"), "the key reached the log");
	cp_ctx_free(ctx);
}

static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

START_TEST(service_account_jwt_to_token)
{
	setenv("GOOGLE_APPLICATION_CREDENTIALS", key_file, 1);
	cp_creds *c = NULL;
	tu_ok(cp_gcp_creds_chain(&c, ctx, NULL));
	ck_assert_ptr_nonnull(strstr(c->source, "backup@cloudprotect-test"));
	cp_creds_value v;
	tu_ok(cp_creds_get(c, &v));
	ck_assert_str_eq(v.token, "ya29.sim-1-SHOULDNOTLEAK");
	ck_assert_int_gt(v.expires_at, time(NULL) + 3000);
	int64_t exp = v.expires_at;
	cp_creds_value_dispose(&v);

	cp_buf calls = CP_BUF_INIT;
	tu_sim_get(&token_sim, "/_sim/calls", &calls);
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"kid\": \"sim-key-1\""));
	ck_assert_ptr_nonnull(strstr(calls.ptr, CP_GCP_SCOPE_CLOUD));

	/* Cached, then renewed before it expires. */
	c->clock = fake_clock;
	fake_now = exp - 1000;
	tu_ok(cp_creds_get(c, &v));
	ck_assert_str_eq(v.token, "ya29.sim-1-SHOULDNOTLEAK");
	cp_creds_value_dispose(&v);
	fake_now = exp - 60;
	tu_ok(cp_creds_get(c, &v));
	ck_assert_str_eq(v.token, "ya29.sim-2-SHOULDNOTLEAK");
	cp_creds_value_dispose(&v);
	cp_creds_free(c);
	cp_buf_dispose(&calls);
}
END_TEST

START_TEST(token_endpoint_refuses_a_foreign_key)
{
	/* Same account, another RSA key: the endpoint's signature check must fail. */
	cp_buf text = CP_BUF_INIT;
	tu_ok(cp_fs_read_file(key_file, &text));
	EVP_PKEY *other = EVP_RSA_gen(2048);
	BIO *bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, other, NULL, NULL, 0, NULL, NULL);
	char *pem = NULL;
	long n = BIO_get_mem_data(bio, &pem);
	cp_buf escaped = CP_BUF_INIT;
	for (long i = 0; i < n; i++)
		cp_buf_put(&escaped, pem[i] == '\n' ? "\\n" : &pem[i], pem[i] == '\n' ? 2 : 1);
	const char *start = strstr(text.ptr, "-----BEGIN PRIVATE KEY-----");
	const char *end = strstr(text.ptr, "-----END PRIVATE KEY-----\\n") + 27;
	char *forged = NULL;
	ck_assert_int_gt(
		asprintf(&forged, "%.*s%s%s", (int)(start - text.ptr), text.ptr, escaped.ptr, end),
		0);
	char path[512];
	snprintf(path, sizeof(path), "%s/forged.json", dir);
	FILE *f = fopen(path, "w");
	fputs(forged, f);
	fclose(f);
	cp_creds *c = NULL;
	tu_ok(cp_gcp_creds_service_account(&c, ctx, path, NULL));
	cp_creds_value v;
	ck_assert_int_eq(cp_creds_get(&*c, &v), CP_EINVALID);
	ck_assert_str_eq(cp_error_last()->cloud_code, "invalid_grant");
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "Invalid JWT Signature"));
	cp_creds_free(c);

	/* Not a key file at all. */
	f = fopen(path, "w");
	fputs("{\"type\": \"authorized_user\"}", f);
	fclose(f);
	ck_assert_int_eq(cp_gcp_creds_service_account(&c, ctx, path, NULL), CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "not a service account key"));
	free(forged);
	cp_buf_dispose(&escaped);
	cp_buf_dispose(&text);
	BIO_free(bio);
	EVP_PKEY_free(other);
}
END_TEST

START_TEST(metadata_server_and_empty_chain)
{
	cp_creds *c = NULL;
	ck_assert_int_eq(cp_gcp_creds_chain(&c, ctx, NULL), CP_EAUTH);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "GOOGLE_APPLICATION_CREDENTIALS"));
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "127.0.0.1:1"));

	char host[64];
	snprintf(host, sizeof(host), "127.0.0.1:%d", md_sim.port);
	setenv("GCE_METADATA_HOST", host, 1);
	tu_sim_post(&md_sim, "/_sim/faults",
		    "{\"path\":\"/computeMetadata/\",\"status\":503,\"count\":1}");
	tu_ok(cp_gcp_creds_chain(&c, ctx, NULL));
	ck_assert_ptr_nonnull(strstr(c->source, "metadata"));
	cp_creds_value v;
	tu_ok(cp_creds_get(c, &v));
	ck_assert_ptr_nonnull(strstr(v.token, "ya29.gce-"));
	cp_creds_value_dispose(&v);
	cp_creds_free(c);
	ck_assert_ptr_nonnull(strstr(logbuf.ptr, "Metadata-Flavor: Google"));
}
END_TEST

static int gcs(cp_http_client *client, const char *method, const char *path, const char *body,
	       const char *secret, cp_buf *out)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", gcs_sim.base, path);
	cp_sigv4_signer s = {.params = {.dialect = CP_SIGV4_GOOG,
					.access_key = HMAC_ID,
					.secret_key = secret,
					.region = "auto",
					.service = "storage",
					.raw_path = 1,
					.content_sha256_header = 1}};
	cp_http_request req = {.method = method,
			       .url = url,
			       .body = body,
			       .body_len = body ? strlen(body) : 0,
			       .response_body = out,
			       .sign = cp_sigv4_sign_request,
			       .sign_payload = &s};
	cp_http_headers_add(&req.headers, "x-goog-meta-kind", "pack");
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = cp_http_perform(client, &req, &resp);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	return rc;
}

START_TEST(gcs_accepts_goog4_hmac)
{
	cp_http_client *client = NULL;
	tu_ok(cp_http_client_new(&client, ctx, NULL));
	cp_buf out = CP_BUF_INIT;
	tu_ok(gcs(client, "PUT", "/bucket/packs/a%20b.pack?x-id=1", "pack bytes", HMAC_SECRET,
		  &out));
	tu_ok(gcs(client, "GET", "/bucket/packs/a%20b.pack", NULL, HMAC_SECRET, &out));
	ck_assert_str_eq(out.ptr, "pack bytes");
	ck_assert_int_eq(gcs(client, "GET", "/bucket/packs/a%20b.pack", NULL, "wrong", &out),
			 CP_EAUTH);
	ck_assert_str_eq(cp_error_last()->cloud_code, "SignatureDoesNotMatch");
	ck_assert_str_eq(cp_error_last()->request_id, "sim-upload-1");

	/* A signed URL works with no headers at all. */
	cp_sigv4_params p = {.dialect = CP_SIGV4_GOOG,
			     .access_key = HMAC_ID,
			     .secret_key = HMAC_SECRET,
			     .region = "auto",
			     .service = "storage",
			     .raw_path = 1,
			     .payload_hash = CP_SIGV4_UNSIGNED_PAYLOAD};
	char base[256], *url = NULL;
	snprintf(base, sizeof(base), "%s/bucket/packs/a%%20b.pack", gcs_sim.base);
	tu_ok(cp_sigv4_presign(&p, "GET", base, NULL, 600, &url));
	ck_assert_ptr_nonnull(strstr(url, "X-Goog-Algorithm=GOOG4-HMAC-SHA256"));
	cp_http_request req = {.method = "GET", .url = url, .response_body = &out};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_str_eq(out.ptr, "pack bytes");
	/* An expired one is refused. */
	free(url);
	p.now = time(NULL) - 3600;
	tu_ok(cp_sigv4_presign(&p, "GET", base, NULL, 600, &url));
	req.url = url;
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_EAUTH);
	ck_assert_str_eq(cp_error_last()->cloud_code, "ExpiredToken");
	free(url);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&out);
	cp_http_client_free(client);
}
END_TEST

START_TEST(jwt_shape)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	BIO *bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	char *pem = NULL;
	long n = BIO_get_mem_data(bio, &pem);
	char *pemz = strndup(pem, (size_t)n);
	cp_jwt_claims c = {.issuer = "a@b", .audience = "https://x/token", .issued_at = 1000};
	char *jwt = NULL;
	tu_ok(cp_jwt_sign_rs256(&jwt, pemz, &c));
	/* header.claims.signature, base64url without padding; the signature verifies. */
	char *dot1 = strchr(jwt, '.'), *dot2 = strrchr(jwt, '.');
	ck_assert_ptr_ne(dot1, dot2);
	ck_assert_ptr_null(strpbrk(jwt, "=+/"));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	cp_buf sig = CP_BUF_INIT;
	tu_ok(cp_base64_decode(&sig, dot2 + 1, strlen(dot2 + 1), "sig"));
	EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key);
	ck_assert_int_eq(EVP_DigestVerify(md, (unsigned char *)sig.ptr, sig.size,
					  (unsigned char *)jwt, (size_t)(dot2 - jwt)),
			 1);
	free(jwt);
	ck_assert_int_eq(cp_jwt_sign_rs256(&jwt, "not a key", &c), CP_EAUTH);
	free(pemz);
	cp_buf_dispose(&sig);
	EVP_MD_CTX_free(md);
	BIO_free(bio);
	EVP_PKEY_free(key);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gcp");
	TCase *tc = tcase_create("gcp");
	tcase_add_unchecked_fixture(tc, sims_up, sims_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, service_account_jwt_to_token);
	tcase_add_test(tc, token_endpoint_refuses_a_foreign_key);
	tcase_add_test(tc, metadata_server_and_empty_chain);
	tcase_add_test(tc, gcs_accepts_goog4_hmac);
	tcase_add_test(tc, jwt_shape);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
