/* The AWS credential chain against tests/cloudsim/aws_sts.py and aws_imds.py. */
#include "creds/aws.h"
#include "creds/ini.h"
#include "ctx.h"
#include "sim.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BASE_ID	    "AKIASOURCEKEY"
#define BASE_SECRET "source-secret-SHOULDNOTLEAK"

static tu_sim sts, imds;
static char *dir;
static cp_buf logbuf;
static cp_ctx *ctx;

static void sims_up(void)
{
	const char *sts_args[] = {"--key", BASE_ID ":" BASE_SECRET, NULL};
	tu_sim_start(&sts, NULL, "aws_sts.py", sts_args);
	tu_sim_start(&imds, NULL, "aws_imds.py", NULL);
}

static void sims_down(void)
{
	tu_sim_stop(&sts);
	tu_sim_stop(&imds);
}

static void capture_log(cp_log_level level, const char *message, void *payload)
{
	cp_buf_put(&logbuf, message, strlen(message));
	cp_buf_put(&logbuf, "\n", 1);
}

static void write_file(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	/* A clean slate: nothing from the machine's own AWS set-up may leak in. */
	const char *vars[] = {"AWS_ACCESS_KEY_ID",
			      "AWS_SECRET_ACCESS_KEY",
			      "AWS_SESSION_TOKEN",
			      "AWS_PROFILE",
			      "AWS_WEB_IDENTITY_TOKEN_FILE",
			      "AWS_ROLE_ARN",
			      "AWS_REGION",
			      "AWS_DEFAULT_REGION",
			      "AWS_ENDPOINT_URL",
			      "AWS_EC2_METADATA_DISABLED"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	dir = tu_tempdir("awscreds");
	char path[512];
	snprintf(path, sizeof(path), "%s/credentials", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	snprintf(path, sizeof(path), "%s/config", dir);
	setenv("AWS_CONFIG_FILE", path, 1);
	setenv("AWS_ENDPOINT_URL_STS", sts.base, 1);
	/* No instance metadata unless a test points at the sim. */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	cp_buf_clear(&logbuf);
	cp_ctx_options o;
	cp_ctx_options_init(&o, CP_CTX_OPTIONS_VERSION);
	o.log_cb = capture_log;
	o.log_level = CP_LOG_TRACE;
	tu_ok(cp_ctx_new(&ctx, &o));
}

static void teardown(void)
{
	/* Nothing secret in any log line, at the most verbose level, in any test. */
	ck_assert_msg(!logbuf.ptr || !strstr(logbuf.ptr, "SHOULDNOTLEAK"),
		      "a secret reached the log:\n%s", logbuf.ptr);
	cp_ctx_free(ctx);
	tu_rmtree(dir);
	free(dir);
}

static void get(cp_creds *c, cp_creds_value *v)
{
	tu_ok(cp_creds_get(c, v));
	ck_assert_ptr_nonnull(v->access_key);
	ck_assert_ptr_nonnull(v->secret);
}

START_TEST(env_first)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-SHOULDNOTLEAK", 1);
	setenv("AWS_SESSION_TOKEN", "env-token-SHOULDNOTLEAK", 1);
	write_file("credentials", "[default]\naws_access_key_id = AKIAFILE\n"
				  "aws_secret_access_key = file-secret\n");
	cp_creds *c = NULL;
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	ck_assert_str_eq(c->source, "environment");
	cp_creds_value v;
	get(c, &v);
	ck_assert_str_eq(v.access_key, "AKIAENV");
	ck_assert_str_eq(v.token, "env-token-SHOULDNOTLEAK");
	cp_creds_value_dispose(&v);
	cp_creds_free(c);

	unsetenv("AWS_SECRET_ACCESS_KEY");
	ck_assert_int_eq(cp_aws_creds_chain(&c, ctx, NULL), CP_EAUTH);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "AWS_SECRET_ACCESS_KEY"));
}
END_TEST

START_TEST(profiles_from_both_files)
{
	write_file("credentials", "# comment\n[default]\naws_access_key_id = AKIADEFAULT\n"
				  "aws_secret_access_key = default-secret\n\n[dev]\n"
				  "aws_access_key_id=AKIADEV\naws_secret_access_key=dev-secret\n"
				  "aws_session_token = dev-token\n");
	write_file("config", "[default]\nregion = eu-west-1\n[profile cfgonly]\n"
			     "aws_access_key_id = AKIACFG\naws_secret_access_key = cfg-secret\n"
			     "s3 =\n  max_concurrent_requests = 20\n");
	cp_creds *c = NULL;
	cp_creds_value v;
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	ck_assert_str_eq(c->source, "profile default");
	get(c, &v);
	ck_assert_str_eq(v.access_key, "AKIADEFAULT");
	ck_assert_ptr_null(v.token);
	cp_creds_value_dispose(&v);
	cp_creds_free(c);

	setenv("AWS_PROFILE", "dev", 1);
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	get(c, &v);
	ck_assert_str_eq(v.access_key, "AKIADEV");
	ck_assert_str_eq(v.token, "dev-token");
	cp_creds_value_dispose(&v);
	cp_creds_free(c);

	cp_aws_creds_options o = {.profile = "cfgonly"};
	tu_ok(cp_aws_creds_chain(&c, ctx, &o));
	get(c, &v);
	ck_assert_str_eq(v.access_key, "AKIACFG");
	cp_creds_value_dispose(&v);
	cp_creds_free(c);

	/* A profile asked for by name must exist: no silent fallback to another source. */
	setenv("AWS_PROFILE", "nosuch", 1);
	ck_assert_int_eq(cp_aws_creds_chain(&c, ctx, NULL), CP_EAUTH);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "'nosuch'"));
}
END_TEST

START_TEST(assume_role_with_source_profile_and_external_id)
{
	write_file("credentials", "[base]\naws_access_key_id = " BASE_ID "\n"
				  "aws_secret_access_key = " BASE_SECRET "\n");
	write_file("config",
		   "[profile prod]\n"
		   "role_arn = arn:aws:iam::210987654321:role/needs-external-id\n"
		   "source_profile = base\nexternal_id = ext-42\n"
		   "role_session_name = nightly-backup\nduration_seconds = 1800\n"
		   "region = eu-central-1\n"
		   "[profile noext]\n"
		   "role_arn = arn:aws:iam::210987654321:role/needs-external-id\n"
		   "source_profile = base\n"
		   "[profile chained]\nrole_arn = arn:aws:iam::111111111111:role/second\n"
		   "source_profile = prod\n"
		   "[profile loop]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = loop\n");
	setenv("AWS_PROFILE", "prod", 1);
	cp_creds *c = NULL;
	cp_creds_value v;
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	ck_assert_ptr_nonnull(strstr(c->source, "needs-external-id"));
	get(c, &v);
	ck_assert_ptr_nonnull(strstr(v.access_key, "ASIASTS"));
	ck_assert_ptr_nonnull(v.token);
	ck_assert_int_gt(v.expires_at, time(NULL) + 3000);
	cp_creds_value_dispose(&v);
	cp_creds_free(c);
	cp_buf calls = CP_BUF_INIT;
	tu_sim_get(&sts, "/_sim/calls", &calls);
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"external_id\": \"ext-42\""));
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"session\": \"nightly-backup\""));
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"duration\": \"1800\""));
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"caller\": \"" BASE_ID "\""));

	/* Without the external id the role refuses; the STS error comes through. */
	setenv("AWS_PROFILE", "noext", 1);
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	ck_assert_int_eq(cp_creds_get(c, &v), CP_EAUTH);
	ck_assert_str_eq(cp_error_last()->cloud_code, "AccessDenied");
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "needs-external-id"));
	cp_creds_free(c);

	/* Role chaining: the second AssumeRole is signed with the first one's session keys. */
	setenv("AWS_PROFILE", "chained", 1);
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	get(c, &v);
	cp_creds_value_dispose(&v);
	cp_creds_free(c);
	tu_sim_get(&sts, "/_sim/calls", &calls);
	ck_assert_ptr_nonnull(strstr(calls.ptr, "\"caller\": \"ASIASTS"));

	ck_assert_ptr_nonnull(strstr(logbuf.ptr, "http: POST"));
	setenv("AWS_PROFILE", "loop", 1);
	ck_assert_int_eq(cp_aws_creds_chain(&c, ctx, NULL), CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "loop"));
	cp_buf_dispose(&calls);
}
END_TEST

START_TEST(wrong_secret_is_refused_by_the_signature_check)
{
	cp_creds *base = NULL, *c = NULL;
	tu_ok(cp_creds_new_static(&base, "test", BASE_ID, "wrong-secret", NULL, 0));
	tu_ok(cp_aws_creds_assume_role(&c, ctx, base, "arn:aws:iam::1:role/r", NULL, NULL, 0,
				       NULL));
	cp_creds_value v;
	ck_assert_int_eq(cp_creds_get(c, &v), CP_EAUTH);
	ck_assert_str_eq(cp_error_last()->cloud_code, "SignatureDoesNotMatch");
	ck_assert_int_eq(cp_error_last()->http_status, 403);
	ck_assert_ptr_nonnull(cp_error_last()->request_id);
	cp_creds_free(c);
}
END_TEST

START_TEST(web_identity_from_env)
{
	write_file("token", "web-identity-token-SHOULDNOTLEAK\n");
	char path[512];
	snprintf(path, sizeof(path), "%s/token", dir);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/k8s-backup", 1);
	cp_creds *c = NULL;
	cp_creds_value v;
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	ck_assert_ptr_nonnull(strstr(c->source, "web identity"));
	get(c, &v);
	ck_assert_ptr_nonnull(strstr(v.access_key, "ASIASTS"));
	cp_creds_value_dispose(&v);
	cp_creds_free(c);

	/* The file is read at every renewal: a rotated, wrong token is refused. */
	write_file("token", "stale");
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	ck_assert_int_eq(cp_creds_get(c, &v), CP_EINVALID);
	ck_assert_str_eq(cp_error_last()->cloud_code, "InvalidIdentityToken");
	cp_creds_free(c);
}
END_TEST

static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

START_TEST(imds_v2_token_first_and_refresh_before_expiry)
{
	tu_sim_post(&imds, "/_sim/reset", "{}");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.base, 1);
	/* A throttled token request is retried. */
	tu_sim_post(&imds, "/_sim/faults",
		    "{\"path\":\"/latest/api/token\",\"status\":503,\"count\":1}");
	cp_creds *c = NULL;
	cp_creds_value v;
	tu_ok(cp_aws_creds_chain(&c, ctx, NULL));
	ck_assert_ptr_nonnull(strstr(c->source, "IMDSv2"));
	get(c, &v);
	ck_assert_str_eq(v.access_key, "ASIAIMDS0001");
	ck_assert_ptr_nonnull(v.token);
	int64_t expires = v.expires_at;
	cp_creds_value_dispose(&v);
	/* Every metadata read carried a session token (the sim answers 401 otherwise). */
	ck_assert_int_eq(tu_sim_count(&imds, "PUT", "/latest/api/token"), 2);
	ck_assert_int_eq(tu_sim_count(&imds, "GET", NULL), 2);

	/* Cached while far from expiry; renewed once inside the margin. */
	c->clock = fake_clock;
	fake_now = expires - 3000;
	get(c, &v);
	ck_assert_str_eq(v.access_key, "ASIAIMDS0001");
	cp_creds_value_dispose(&v);
	fake_now = expires - CP_CREDS_REFRESH_MARGIN_S + 10;
	get(c, &v);
	ck_assert_str_eq(v.access_key, "ASIAIMDS0002");
	int64_t expires2 = v.expires_at;
	cp_creds_value_dispose(&v);

	/* A failed renewal keeps the still-valid keys rather than failing requests. */
	tu_sim_post(&imds, "/_sim/faults", "{\"path\":\"/latest/\",\"status\":500,\"count\":50}");
	fake_now = expires2 - 100;
	get(c, &v);
	ck_assert_str_eq(v.access_key, "ASIAIMDS0002");
	cp_creds_value_dispose(&v);
	cp_creds_free(c);
	ck_assert_ptr_nonnull(strstr(logbuf.ptr, "X-aws-ec2-metadata-token: REDACTED"));
}
END_TEST

START_TEST(nothing_configured_lists_what_was_tried)
{
	cp_creds *c = NULL;
	ck_assert_int_eq(cp_aws_creds_chain(&c, ctx, NULL), CP_EAUTH);
	const char *m = cp_error_last()->message;
	ck_assert_ptr_nonnull(strstr(m, "AWS_ACCESS_KEY_ID not set"));
	ck_assert_ptr_nonnull(strstr(m, "profile 'default'"));
	ck_assert_ptr_nonnull(strstr(m, "AWS_WEB_IDENTITY_TOKEN_FILE not set"));
	ck_assert_ptr_nonnull(strstr(m, "IMDSv2 at http://127.0.0.1:1"));
	ck_assert_ptr_nonnull(strstr(m, "aws configure"));
	ck_assert_ptr_null(c);

	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	ck_assert_int_eq(cp_aws_creds_chain(&c, ctx, NULL), CP_EAUTH);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "AWS_EC2_METADATA_DISABLED"));
}
END_TEST

START_TEST(ini_parser)
{
	write_file("x.ini", "[a]\nk = 1\nK = 2\n[b]\n  indented = skipped\nempty =\n");
	char path[512];
	snprintf(path, sizeof(path), "%s/x.ini", dir);
	cp_ini *ini = NULL;
	tu_ok(cp_ini_load(&ini, path));
	ck_assert_str_eq(cp_ini_get(ini, "a", "k"), "2");
	ck_assert_ptr_null(cp_ini_get(ini, "b", "indented"));
	ck_assert_ptr_null(cp_ini_get(ini, "b", "empty"));
	ck_assert_int_eq(cp_ini_has_section(ini, "b"), 1);
	ck_assert_int_eq(cp_ini_has_section(ini, "c"), 0);
	cp_ini_free(ini);
	write_file("bad.ini", "[a]\nno equals sign\n");
	snprintf(path, sizeof(path), "%s/bad.ini", dir);
	ck_assert_int_eq(cp_ini_load(&ini, path), CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "line 2"));

	int64_t t;
	tu_ok(cp_creds_parse_time("2026-01-02T03:04:05Z", &t));
	ck_assert_int_eq(t, 1767323045);
	tu_ok(cp_creds_parse_time("2026-01-02T04:04:05.123+01:00", &t));
	ck_assert_int_eq(t, 1767323045);
	ck_assert_int_eq(cp_creds_parse_time("yesterday", &t), CP_EINVALID);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("creds_aws");
	TCase *tc = tcase_create("aws");
	tcase_add_unchecked_fixture(tc, sims_up, sims_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, env_first);
	tcase_add_test(tc, profiles_from_both_files);
	tcase_add_test(tc, assume_role_with_source_profile_and_external_id);
	tcase_add_test(tc, wrong_secret_is_refused_by_the_signature_check);
	tcase_add_test(tc, web_identity_from_env);
	tcase_add_test(tc, imds_v2_token_first_and_refresh_before_expiry);
	tcase_add_test(tc, nothing_configured_lists_what_was_tried);
	tcase_add_test(tc, ini_parser);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
