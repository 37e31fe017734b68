/*
 * Transport settings on the context reach every client: proxy and no_proxy
 * (tests/cloudsim/http_proxy.py counts what went through it), CA file and
 * directory, insecure TLS and its one warning (tests/cloudsim/tls_server.py
 * with a CA made by the openssl CLI), the environment's CA variables and
 * their precedence, retry budgets, and version-1 options structs.
 */
#include "ctx.h"
#include "error.h"
#include "http/http.h"
#include "sim.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tu_sim echo, proxy, tls, gcs;
static const char *cli_path; /* the cloudprotect binary, from meson */
static char *certs;
static char proxy_url[64];

static const char *const env_vars[] = {"http_proxy",   "https_proxy",	 "HTTPS_PROXY",
				       "HTTP_PROXY",   "all_proxy",	 "ALL_PROXY",
				       "no_proxy",     "NO_PROXY",	 "SSL_CERT_FILE",
				       "SSL_CERT_DIR", "CURL_CA_BUNDLE", "AWS_CA_BUNDLE"};

static char *path_in_certs(const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", certs, name) < 0)
		abort();
	return p;
}

static char *tls_url(const char *tag)
{
	char *u = NULL;
	if (asprintf(&u, "https://127.0.0.1:%d/echo?tag=%s", tls.port, tag) < 0)
		abort();
	return u;
}

static char *plain_url(const char *tag)
{
	char *u = NULL;
	if (asprintf(&u, "%s/echo?tag=%s", echo.base, tag) < 0)
		abort();
	return u;
}

/* How many requests whose target contains tag went through the proxy. */
static int proxied(const char *tag)
{
	cp_buf log = CP_BUF_INIT;
	/* The control request itself must not go through an environment proxy. */
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		if (strstr(env_vars[i], "roxy"))
			unsetenv(env_vars[i]);
	ck_assert_int_eq(tu_sim_get(&proxy, "/_proxy/log", &log), 200);
	int n = 0;
	for (const char *p = log.ptr; p && (p = strstr(p, tag)); p += strlen(tag))
		n++;
	cp_buf_dispose(&log);
	return n;
}

/* A CONNECT through the proxy to the TLS server, counted. */
static int tunnels(void)
{
	char target[64];
	snprintf(target, sizeof(target), "\"CONNECT\", \"target\": \"127.0.0.1:%d\"", tls.port);
	return proxied(target);
}

static void capture_log(cp_log_level level, const char *message, void *payload)
{
	cp_buf *b = payload;
	if (level == CP_LOG_WARN)
		cp_buf_put(b, "WARN ", 5);
	cp_buf_put(b, message, strlen(message));
	cp_buf_put(b, "\n", 1);
}

static cp_ctx *new_ctx(const cp_ctx_options *o)
{
	cp_ctx *ctx = NULL;
	tu_ok(cp_ctx_new(&ctx, o));
	return ctx;
}

static cp_ctx_options base_options(void)
{
	cp_ctx_options o;
	tu_ok(cp_ctx_options_init(&o, CP_CTX_OPTIONS_VERSION));
	o.max_attempts = 1; /* failures here are the point: do not retry them */
	return o;
}

/* GET url with a client made the way every backend makes one. */
static int get(cp_ctx *ctx, cp_http_audience audience, const char *url, unsigned int *attempts)
{
	cp_http_client_options o;
	cp_http_client_options_from_ctx(&o, ctx, audience);
	o.base_delay_ms = 5;
	cp_http_client *c = NULL;
	tu_ok(cp_http_client_new(&c, ctx, &o));
	cp_buf body = CP_BUF_INIT;
	cp_http_request req = {.method = "GET", .url = url, .response_body = &body};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	int rc = cp_http_perform(c, &req, &resp);
	if (!rc)
		ck_assert_ptr_nonnull(strstr(body.ptr, "\"path\": \"/echo\""));
	if (attempts)
		*attempts = resp.attempts;
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&body);
	cp_http_client_free(c);
	return rc;
}

START_TEST(proxy_from_context_and_no_proxy_bypass)
{
	cp_ctx_options o = base_options();
	o.proxy = proxy_url;
	o.no_proxy = "";
	cp_ctx *ctx = new_ctx(&o);
	char *u = plain_url("via-proxy");
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	ck_assert_int_eq(proxied("tag=via-proxy"), 1);
	free(u);
	cp_ctx_free(ctx);

	o.no_proxy = "example.invalid,127.0.0.1";
	ctx = new_ctx(&o);
	u = plain_url("bypassed");
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	ck_assert_int_eq(proxied("tag=bypassed"), 0);
	free(u);

	/* Instance metadata never goes through a proxy: it would answer for another machine. */
	cp_ctx_free(ctx);
	o.no_proxy = NULL;
	ctx = new_ctx(&o);
	u = plain_url("metadata");
	tu_ok(get(ctx, CP_HTTP_FOR_METADATA, u, NULL));
	ck_assert_int_eq(proxied("tag=metadata"), 0);
	free(u);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(environment_proxy_unless_disabled)
{
	cp_ctx_options o = base_options();
	cp_ctx *ctx = new_ctx(&o);
	char *u = plain_url("env-proxy");
	setenv("http_proxy", proxy_url, 1);
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	ck_assert_int_eq(proxied("tag=env-proxy"), 1);
	free(u);
	cp_ctx_free(ctx);

	o.proxy = ""; /* "" turns the environment's proxy off */
	ctx = new_ctx(&o);
	u = plain_url("env-disabled");
	setenv("http_proxy", proxy_url, 1);
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	ck_assert_int_eq(proxied("tag=env-disabled"), 0);
	free(u);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(https_through_proxy_tunnels)
{
	cp_ctx_options o = base_options();
	o.proxy = proxy_url;
	char *ca = path_in_certs("ca.pem");
	o.ca_file = ca;
	cp_ctx *ctx = new_ctx(&o);
	int before = tunnels();
	char *u = tls_url("tunnel");
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	ck_assert_int_eq(tunnels(), before + 1);
	/* The request itself travelled inside the tunnel, unseen by the proxy. */
	ck_assert_int_eq(proxied("tag=tunnel"), 0);
	free(u);
	free(ca);
	cp_ctx_free(ctx);
}
END_TEST

START_TEST(tls_needs_the_ca)
{
	cp_ctx_options o = base_options();
	cp_ctx *ctx = new_ctx(&o);
	char *u = tls_url("no-ca");
	int rc = get(ctx, CP_HTTP_FOR_ANY, u, NULL);
	ck_assert_int_eq(rc, CP_EIO);
	ck_assert_msg(strstr(cp_error_last()->message, "certificate") ||
			      strstr(cp_error_last()->message, "SSL"),
		      "%s", cp_error_last()->message);
	cp_ctx_free(ctx);

	char *ca = path_in_certs("ca.pem");
	o.ca_file = ca;
	ctx = new_ctx(&o);
	free(ca); /* the context keeps its own copy */
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	cp_ctx_free(ctx);

	char *dir = path_in_certs("hashed");
	o.ca_file = NULL;
	o.ca_path = dir;
	ctx = new_ctx(&o);
	tu_ok(get(ctx, CP_HTTP_FOR_AWS, u, NULL));
	cp_ctx_free(ctx);
	free(dir);
	free(u);
}
END_TEST

START_TEST(insecure_tls_accepts_and_warns_once)
{
	cp_buf log = CP_BUF_INIT;
	cp_ctx_options o = base_options();
	o.insecure_tls = 1;
	o.log_cb = capture_log;
	o.log_payload = &log;
	cp_ctx *ctx = new_ctx(&o);
	char *u = tls_url("insecure");
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	tu_ok(get(ctx, CP_HTTP_FOR_AWS, u, NULL));
	ck_assert_ptr_nonnull(log.ptr);
	const char *first = strstr(log.ptr, "WARN http: TLS certificate verification is off");
	ck_assert_msg(first, "no warning in:\n%s", log.ptr);
	size_t after = (size_t)(first - log.ptr) + 1;
	ck_assert_ptr_null(strstr(log.ptr + after, "WARN http: TLS"));
	cp_ctx_free(ctx);

	/* Another context warns again: it is its own setting. */
	ctx = new_ctx(&o);
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	ck_assert_ptr_nonnull(strstr(log.ptr + after, "WARN http: TLS"));
	cp_ctx_free(ctx);
	free(u);
	cp_buf_dispose(&log);
}
END_TEST

START_TEST(environment_ca_precedence)
{
	char *ca = path_in_certs("ca.pem");
	char *other = path_in_certs("other-ca.pem"); /* a CA, but not the server's */
	char *u = tls_url("env-ca");
	cp_ctx_options o = base_options();
	cp_ctx *ctx = new_ctx(&o);

	setenv("SSL_CERT_FILE", ca, 1);
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	/* CURL_CA_BUNDLE comes before SSL_CERT_FILE. */
	setenv("CURL_CA_BUNDLE", other, 1);
	ck_assert_int_eq(get(ctx, CP_HTTP_FOR_ANY, u, NULL), CP_EIO);
	setenv("CURL_CA_BUNDLE", ca, 1);
	unsetenv("SSL_CERT_FILE");
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));

	/* AWS_CA_BUNDLE: first for AWS clients, ignored by the others. */
	setenv("AWS_CA_BUNDLE", other, 1);
	ck_assert_int_eq(get(ctx, CP_HTTP_FOR_AWS, u, NULL), CP_EIO);
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	setenv("AWS_CA_BUNDLE", ca, 1);
	setenv("CURL_CA_BUNDLE", other, 1);
	tu_ok(get(ctx, CP_HTTP_FOR_AWS, u, NULL));
	ck_assert_int_eq(get(ctx, CP_HTTP_FOR_ANY, u, NULL), CP_EIO);
	cp_ctx_free(ctx);

	/* The context's CA beats every variable. */
	setenv("AWS_CA_BUNDLE", other, 1);
	o.ca_file = ca;
	ctx = new_ctx(&o);
	tu_ok(get(ctx, CP_HTTP_FOR_AWS, u, NULL));
	tu_ok(get(ctx, CP_HTTP_FOR_ANY, u, NULL));
	cp_ctx_free(ctx);
	free(ca);
	free(other);
	free(u);
}
END_TEST

START_TEST(retry_budget_from_context)
{
	char *u = NULL;
	ck_assert_int_ge(asprintf(&u, "%s/status/503", echo.base), 0);
	unsigned int attempts = 0;
	cp_ctx_options o = base_options();
	o.max_attempts = 3;
	cp_ctx *ctx = new_ctx(&o);
	ck_assert_int_eq(get(ctx, CP_HTTP_FOR_ANY, u, &attempts), CP_EIO);
	ck_assert_uint_eq(attempts, 3);
	cp_ctx_free(ctx);
	o.max_attempts = 1;
	ctx = new_ctx(&o);
	ck_assert_int_eq(get(ctx, CP_HTTP_FOR_ANY, u, &attempts), CP_EIO);
	ck_assert_uint_eq(attempts, 1);
	cp_ctx_free(ctx);
	free(u);
}
END_TEST

static int run_cli(const char *const *argv)
{
	cp_buf out = CP_BUF_INIT;
	int status = tu_run_capture(argv, NULL, 0, &out);
	cp_buf_dispose(&out);
	return status;
}

START_TEST(cli_global_options_reach_every_request)
{
	setenv("GCS_HMAC_ACCESS_ID", "GOOG1SETTINGSTESTKEY", 1);
	setenv("GCS_HMAC_SECRET", "sim-secret-for-settings-tests", 1);
	setenv("CLOUDPROTECT_PASSWORD", "settings-test-password", 1);
	char repo[128];
	snprintf(repo, sizeof(repo), "gs://backups/cli?endpoint=http://127.0.0.1:%d", gcs.port);
	const char *init[] = {cli_path, "--proxy", proxy_url, "--no-proxy", "",	    "--repo",
			      repo,	"repo",	   "init",    "--kdf-n",    "1024", NULL};
	ck_assert_int_eq(run_cli(init), 0);
	ck_assert_int_gt(proxied("/backups/cli/config"), 0);

	/* Bypassed: the next command's requests do not show up at the proxy. */
	int before = proxied("/backups/cli/");
	const char *info[] = {cli_path, "--proxy", proxy_url, "--no-proxy", "127.0.0.1",
			      "--repo", repo,	   "repo",    "info",	    NULL};
	ck_assert_int_eq(run_cli(info), 0);
	ck_assert_int_eq(proxied("/backups/cli/"), before);

	/* A CA file that is not there is a usage error, not a TLS failure later. */
	const char *bad[] = {cli_path, "--ca-file", "/nonexistent/ca.pem", "--repo", repo, "repo",
			     "info",   NULL};
	ck_assert_int_eq(run_cli(bad), 2);
}
END_TEST

/* What a caller built against the version-1 header passes: no transport fields at all. */
typedef struct {
	unsigned int version;
	cp_log_cb log_cb;
	void *log_payload;
	cp_log_level log_level;
	unsigned int threads;
} ctx_options_v1;

START_TEST(version_one_options_still_work)
{
	/* Exactly the old size on the heap, so reading or writing past it is caught by ASan. */
	ctx_options_v1 *v1 = malloc(sizeof(*v1));
	memset(v1, 0xAB, sizeof(*v1));
	tu_ok(cp_ctx_options_init((cp_ctx_options *)v1, 1));
	ck_assert_uint_eq(v1->version, 1);
	ck_assert_ptr_null(v1->log_cb);
	ck_assert_int_eq(v1->log_level, CP_LOG_INFO);
	v1->threads = 3;
	cp_ctx *ctx = NULL;
	tu_ok(cp_ctx_new(&ctx, (const cp_ctx_options *)v1));
	ck_assert_uint_eq(cp_ctx_threads(ctx, 0), 3);
	ck_assert_ptr_null(ctx->opts.proxy);
	ck_assert_ptr_null(ctx->opts.ca_file);
	ck_assert_int_eq(ctx->opts.insecure_tls, 0);
	ck_assert_uint_eq(ctx->opts.max_attempts, 0);
	cp_ctx_free(ctx);
	free(v1);
	cp_ctx_options o;
	ck_assert_int_eq(cp_ctx_options_init(&o, CP_CTX_OPTIONS_VERSION + 1), CP_EINVALID);
	ck_assert_int_eq(cp_ctx_options_init(&o, 0), CP_EINVALID);
}
END_TEST

int main(int argc, char **argv)
{
	cli_path = argc > 1 ? argv[1] : "cloudprotect";
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	certs = tu_tempdir("tls");
	const char *args[] = {"--dir", certs, NULL};
	tu_sim_start(&echo, NULL, "echo_server.py", NULL);
	tu_sim_start(&proxy, NULL, "http_proxy.py", NULL);
	tu_sim_start(&tls, NULL, "tls_server.py", args);
	const char *gcs_args[] = {"--key", "GOOG1SETTINGSTESTKEY:sim-secret-for-settings-tests",
				  "--bucket", "backups", NULL};
	tu_sim_start(&gcs, NULL, "gcs_xml.py", gcs_args);
	snprintf(proxy_url, sizeof(proxy_url), "http://127.0.0.1:%d", proxy.port);

	Suite *s = suite_create("transport settings");
	TCase *tc = tcase_create("settings");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, proxy_from_context_and_no_proxy_bypass);
	tcase_add_test(tc, environment_proxy_unless_disabled);
	tcase_add_test(tc, https_through_proxy_tunnels);
	tcase_add_test(tc, tls_needs_the_ca);
	tcase_add_test(tc, insecure_tls_accepts_and_warns_once);
	tcase_add_test(tc, environment_ca_precedence);
	tcase_add_test(tc, retry_budget_from_context);
	tcase_add_test(tc, version_one_options_still_work);
	tcase_add_test(tc, cli_global_options_reach_every_request);
	suite_add_tcase(s, tc);
	int rc = tu_run(s);
	tu_sim_stop(&gcs);
	tu_sim_stop(&tls);
	tu_sim_stop(&proxy);
	tu_sim_stop(&echo);
	tu_rmtree(certs);
	free(certs);
	return rc;
}
