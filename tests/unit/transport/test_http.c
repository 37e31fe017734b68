/* The HTTP engine against tests/cloudsim/echo_server.py: bodies, retries, errors, concurrency. */
#include "auth/digest.h"
#include "ctx.h"
#include "error.h"
#include "http/date.h"
#include "http/http.h"
#include "http/retry.h"
#include "http/url.h"
#include "http/xml.h"
#include "objstore_common.h"
#include "sim.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static tu_sim sim;
static cp_http_client *client;

static void sim_up(void)
{
	tu_sim_start(&sim, NULL, "echo_server.py", NULL);
}

static void sim_down(void)
{
	tu_sim_stop(&sim);
}

static void fresh_client(const cp_http_client_options *opts)
{
	cp_http_client_options o;
	cp_http_client_options_init(&o);
	if (opts)
		o = *opts;
	if (!o.base_delay_ms)
		o.base_delay_ms = 5; /* keep retry tests fast */
	if (!o.max_delay_ms)
		o.max_delay_ms = 50;
	tu_ok(cp_http_client_new(&client, NULL, &o));
}

static void setup(void)
{
	tu_sim_post(&sim, "/_sim/reset", "{}");
	fresh_client(NULL);
}

static void teardown(void)
{
	cp_http_client_free(client);
	client = NULL;
}

static char *url(const char *path)
{
	static char buf[8][512];
	static int next;
	char *u = buf[next++ % 8];
	snprintf(u, 512, "%s%s", sim.base, path);
	return u;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void expect_blob(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		ck_assert_msg((unsigned char)data[i] == (i * 7) % 251, "byte %zu differs", i);
}

START_TEST(get_into_buffer)
{
	cp_buf body = CP_BUF_INIT;
	cp_http_request req = {.method = "GET", .url = url("/blob/100000"), .response_body = &body};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_int_eq(resp.status, 200);
	ck_assert_uint_eq(body.size, 100000);
	expect_blob(body.ptr, body.size);
	ck_assert_str_eq(cp_http_headers_get(&resp.headers, "content-length"), "100000");
	ck_assert_uint_eq(resp.attempts, 1);
	cp_buf_dispose(&body);
	cp_http_response_dispose(&resp);
}
END_TEST

struct stream {
	uint64_t size;
};

static int read_pattern(void *payload, uint64_t offset, char *buf, size_t len, size_t *got)
{
	struct stream *s = payload;
	size_t n = len > 65536 ? 65536 : len;
	if (offset + n > s->size)
		n = (size_t)(s->size - offset);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((offset + i) * 13 % 256);
	*got = n;
	return 0;
}

START_TEST(streaming_upload_sends_exact_bytes)
{
	struct stream s = {.size = 3 * 1024 * 1024 + 17};
	cp_buf expect = CP_BUF_INIT;
	for (uint64_t i = 0; i < s.size; i++) {
		char c = (char)(i * 13 % 256);
		cp_buf_put(&expect, &c, 1);
	}
	char hex[65];
	cp_auth_sha256_hex(expect.ptr, expect.size, hex);
	const char *methods[] = {"PUT", "POST"};
	for (int m = 0; m < 2; m++) {
		cp_buf body = CP_BUF_INIT;
		cp_http_request req = {.method = methods[m],
				       .url = url("/upload"),
				       .body_read = read_pattern,
				       .body_payload = &s,
				       .body_size = s.size,
				       .response_body = &body};
		cp_http_response resp = CP_HTTP_RESPONSE_INIT;
		tu_ok(cp_http_perform(client, &req, &resp));
		ck_assert_ptr_nonnull(strstr(body.ptr, hex));
		ck_assert_ptr_nonnull(strstr(body.ptr, methods[m]));
		cp_buf_dispose(&body);
		cp_http_response_dispose(&resp);
	}
	/* Buffer bodies and empty bodies too. */
	cp_buf body = CP_BUF_INIT;
	cp_http_request req = {.method = "POST",
			       .url = url("/upload"),
			       .body = "hello",
			       .body_len = 5,
			       .response_body = &body};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	tu_ok(cp_http_perform(client, &req, &resp));
	cp_auth_sha256_hex("hello", 5, hex);
	ck_assert_ptr_nonnull(strstr(body.ptr, hex));
	req.body = NULL;
	req.body_len = 0;
	req.method = "PUT";
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_ptr_nonnull(strstr(body.ptr, "\"length\": 0"));
	cp_buf_dispose(&body);
	cp_buf_dispose(&expect);
	cp_http_response_dispose(&resp);
}
END_TEST

struct sink {
	uint64_t bytes;
	int resets;
	int bad;
	int fail_after;
};

static int sink_write(void *payload, const char *data, size_t len)
{
	struct sink *s = payload;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)data[i] != (s->bytes + i) * 7 % 251)
			s->bad = 1;
	s->bytes += len;
	if (s->fail_after && s->bytes > (uint64_t)s->fail_after)
		return cp_error_set(CP_ENOSPC, CP_ERRCLASS_OS, "sink full");
	return 0;
}

static int sink_reset(void *payload)
{
	struct sink *s = payload;
	s->bytes = 0;
	s->resets++;
	return 0;
}

START_TEST(streaming_download_and_sink_failure)
{
	struct sink s = {0};
	cp_http_request req = {.method = "GET",
			       .url = url("/blob/2000000"),
			       .response_write = sink_write,
			       .response_reset = sink_reset,
			       .response_payload = &s};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_uint_eq(s.bytes, 2000000);
	ck_assert_int_eq(s.bad, 0);
	ck_assert_uint_eq(resp.body_bytes, 2000000);

	/* A failing sink stops the transfer with its own error, and it is not retried. */
	struct sink full = {.fail_after = 1000};
	req.response_payload = &full;
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_ENOSPC);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "sink full"));
	ck_assert_uint_eq(resp.attempts, 1);
	cp_http_response_dispose(&resp);
}
END_TEST

START_TEST(retries_5xx_then_succeeds)
{
	tu_sim_post(&sim, "/_sim/faults",
		    "{\"path\":\"/blob/\",\"kind\":\"status\",\"status\":503,\"count\":2}");
	cp_buf body = CP_BUF_INIT;
	cp_http_request req = {.method = "GET", .url = url("/blob/10"), .response_body = &body};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_uint_eq(resp.attempts, 3);
	ck_assert_uint_eq(body.size, 10); /* error bodies never reach the caller's buffer */
	expect_blob(body.ptr, 10);
	ck_assert_int_eq(tu_sim_count(&sim, "GET", "/blob/10"), 3);
	cp_buf_dispose(&body);
	cp_http_response_dispose(&resp);
}
END_TEST

START_TEST(retry_after_is_honoured)
{
	tu_sim_post(&sim, "/_sim/faults",
		    "{\"path\":\"/echo\",\"status\":429,\"code\":\"TooManyRequests\","
		    "\"retry_after\":\"1\",\"count\":1}");
	cp_http_request req = {.method = "GET", .url = url("/echo")};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	uint64_t t0 = mono_ms();
	tu_ok(cp_http_perform(client, &req, &resp));
	uint64_t took = mono_ms() - t0;
	ck_assert_uint_eq(resp.attempts, 2);
	ck_assert_msg(took >= 950, "retried after %llu ms, before Retry-After",
		      (unsigned long long)took);
	ck_assert_msg(took < 5000, "took %llu ms", (unsigned long long)took);
	cp_http_response_dispose(&resp);

	/* A Retry-After beyond the time budget fails at once rather than hanging. */
	tu_sim_post(
		&sim, "/_sim/faults",
		"{\"path\":\"/echo\",\"status\":503,\"code\":\"SlowDown\",\"retry_after\":\"30\","
		"\"count\":1}");
	req.time_budget_ms = 2000;
	t0 = mono_ms();
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_ETHROTTLED);
	ck_assert_uint_lt(mono_ms() - t0, 1500);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "time budget"));
	cp_http_response_dispose(&resp);
}
END_TEST

START_TEST(non_idempotent_post_not_resent)
{
	/* 503 without a throttling code: the server may have acted, so no retry. */
	tu_sim_post(&sim, "/_sim/faults", "{\"path\":\"/upload\",\"status\":503,\"count\":5}");
	cp_http_request req = {.method = "POST", .url = url("/upload"), .body = "x", .body_len = 1};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_EIO);
	ck_assert_int_eq(tu_sim_count(&sim, "POST", "/upload"), 1);
	ck_assert_int_eq(cp_error_last()->http_status, 503);

	/* The connection drops after the server read the body: never resent. */
	tu_sim_post(&sim, "/_sim/reset", "{}");
	tu_sim_post(&sim, "/_sim/faults",
		    "{\"path\":\"/upload\",\"kind\":\"reset_after_body\",\"count\":5}");
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_EIO);
	ck_assert_int_eq(tu_sim_count(&sim, "POST", "/upload"), 1);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "not idempotent"));

	/* ...unless the caller marks it safe to repeat. */
	tu_sim_post(&sim, "/_sim/reset", "{}");
	tu_sim_post(&sim, "/_sim/faults",
		    "{\"path\":\"/upload\",\"kind\":\"reset_after_body\",\"count\":1}");
	req.idempotency = CP_HTTP_IDEMPOTENT;
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_int_eq(tu_sim_count(&sim, "POST", "/upload"), 2);

	/* A throttling answer means the cloud did nothing: retried even for POST. */
	tu_sim_post(&sim, "/_sim/reset", "{}");
	tu_sim_post(&sim, "/_sim/faults",
		    "{\"path\":\"/upload\",\"status\":503,\"code\":\"SlowDown\",\"count\":1}");
	req.idempotency = CP_HTTP_NOT_IDEMPOTENT;
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_int_eq(tu_sim_count(&sim, "POST", "/upload"), 2);
	cp_http_response_dispose(&resp);
}
END_TEST

START_TEST(connection_reset_on_get_is_retried)
{
	tu_sim_post(&sim, "/_sim/faults", "{\"path\":\"/blob/\",\"kind\":\"reset\",\"count\":2}");
	cp_buf body = CP_BUF_INIT;
	cp_http_request req = {.method = "GET", .url = url("/blob/1000"), .response_body = &body};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_uint_eq(resp.attempts, 3);
	ck_assert_uint_eq(body.size, 1000);
	cp_buf_dispose(&body);
	cp_http_response_dispose(&resp);
}
END_TEST

START_TEST(slow_body_times_out_and_is_retried)
{
	cp_http_client_free(client);
	cp_http_client_options o;
	cp_http_client_options_init(&o);
	o.low_speed_time_s = 1;
	o.low_speed_bytes = 100;
	fresh_client(&o);
	tu_sim_post(&sim, "/_sim/faults",
		    "{\"path\":\"/blob/\",\"kind\":\"slow\",\"delay\":4,\"count\":1}");
	struct sink s = {0};
	cp_http_request req = {.method = "GET",
			       .url = url("/blob/5000"),
			       .response_write = sink_write,
			       .response_reset = sink_reset,
			       .response_payload = &s};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	uint64_t t0 = mono_ms();
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_uint_lt(mono_ms() - t0, 3900);
	ck_assert_uint_eq(resp.attempts, 2);
	ck_assert_int_eq(s.resets, 1); /* the stalled attempt had delivered a byte */
	ck_assert_uint_eq(s.bytes, 5000);
	ck_assert_int_eq(s.bad, 0);

	/* Without a reset callback, bytes already handed over forbid a retry. */
	tu_sim_post(&sim, "/_sim/faults",
		    "{\"path\":\"/blob/\",\"kind\":\"slow\",\"delay\":4,\"count\":1}");
	struct sink s2 = {0};
	req.response_payload = &s2;
	req.response_reset = NULL;
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_ETIMEOUT);
	ck_assert_uint_eq(resp.attempts, 1);
	cp_http_response_dispose(&resp);
}
END_TEST

START_TEST(errors_carry_cloud_details)
{
	cp_http_request req = {.method = "GET", .url = url("/status/404"), .what = "S3 GetObject"};
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_ENOTFOUND);
	const cp_error *e = cp_error_last();
	ck_assert_int_eq(e->http_status, 404);
	ck_assert_str_eq(e->cloud_code, "Status404");
	ck_assert_ptr_nonnull(e->request_id);
	ck_assert_ptr_nonnull(strstr(e->message, "S3 GetObject"));
	ck_assert_ptr_nonnull(strstr(e->message, "status on request"));
	ck_assert_uint_eq(resp.attempts, 1);

	req.url = url("/status/403");
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_EAUTH);
	req.url = url("/status/412");
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_EEXISTS);

	/* Azure: code in x-ms-error-code, body with a byte order mark. */
	tu_sim_post(
		&sim, "/_sim/faults",
		"{\"path\":\"/echo\",\"status\":503,\"code\":\"ServerBusy\",\"style\":\"azure\","
		"\"count\":10}");
	req.url = url("/echo");
	req.max_attempts = 3;
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_ETHROTTLED);
	e = cp_error_last();
	ck_assert_str_eq(e->cloud_code, "ServerBusy");
	ck_assert_str_eq(e->request_id, "sim-azure-req");
	ck_assert_uint_eq(resp.attempts, 3);
	ck_assert_ptr_nonnull(strstr(e->message, "retry budget"));

	/* AWS JSON protocols: {"__type": "...#ThrottlingException"}. */
	tu_sim_post(&sim, "/_sim/reset", "{}");
	tu_sim_post(&sim, "/_sim/faults",
		    "{\"path\":\"/echo\",\"status\":400,\"code\":\"ThrottlingException\","
		    "\"style\":\"json\",\"count\":10}");
	req.max_attempts = 2;
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_ETHROTTLED);
	ck_assert_str_eq(cp_error_last()->cloud_code, "ThrottlingException");
	ck_assert_int_eq(tu_sim_count(&sim, "GET", "/echo"), 2);

	/* Nothing listening: a transport error, named. */
	req.url = "http://127.0.0.1:1/nothing";
	req.max_attempts = 2;
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_EIO);
	ck_assert_int_eq(cp_error_last()->http_status, 0);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "127.0.0.1:1"));
	cp_http_response_dispose(&resp);
}
END_TEST

struct batch {
	int done;
	int failed;
};

static void batch_done(void *payload, int rc, cp_http_request *req, cp_http_response *resp)
{
	struct batch *b = payload;
	b->done++;
	if (rc || resp->status != 200)
		b->failed++;
}

static int count_distinct_ports(const char *log)
{
	long ports[1024];
	int n = 0;
	for (const char *p = log; (p = strstr(p, "\"peer_port\": ")); p++) {
		char *end = NULL;
		long port = strtol(p + 13, &end, 10);
		ck_assert_msg(end != p + 13, "no port number after \"peer_port\" in the log");
		int seen = 0;
		for (int i = 0; i < n; i++)
			seen |= ports[i] == port;
		if (!seen && n < 1024)
			ports[n++] = port;
	}
	return n;
}

START_TEST(many_in_flight_bounded_and_reused)
{
	cp_http_client_free(client);
	cp_http_client_options o;
	cp_http_client_options_init(&o);
	o.max_concurrency = 8;
	fresh_client(&o);
	enum {
		N = 64
	};
	cp_http_request reqs[N];
	cp_http_response resps[N];
	struct batch b = {0};
	for (int i = 0; i < N; i++) {
		cp_http_request r = {.method = "GET", .url = url("/echo?sleep=0.05")};
		reqs[i] = r;
		memset(&resps[i], 0, sizeof(resps[i]));
		tu_ok(cp_http_submit(client, &reqs[i], &resps[i], batch_done, &b));
	}
	uint64_t t0 = mono_ms();
	tu_ok(cp_http_run(client));
	uint64_t took = mono_ms() - t0;
	ck_assert_int_eq(b.done, N);
	ck_assert_int_eq(b.failed, 0);
	cp_buf stats = CP_BUF_INIT;
	tu_sim_get(&sim, "/_sim/stats", &stats);
	ck_assert_ptr_nonnull(stats.ptr);
	const char *field = strstr(stats.ptr, "\"max_active\": ");
	ck_assert_msg(field != NULL, "no max_active in the stats: %s", stats.ptr);
	char *end = NULL;
	long max_active = strtol(field + 14, &end, 10);
	ck_assert_msg(end != field + 14, "max_active is not a number: %s", stats.ptr);
	ck_assert_msg(max_active <= 8 && max_active >= 4, "max in flight %ld", max_active);
	/* 64 x 50 ms one by one would take 3.2 s. */
	ck_assert_msg(took < 2000, "took %llu ms", (unsigned long long)took);
	tu_sim_get(&sim, "/_sim/log", &stats);
	int conns = count_distinct_ports(stats.ptr);
	ck_assert_msg(conns <= 16, "%d connections for %d requests: no reuse", conns, N);
	for (int i = 0; i < N; i++)
		cp_http_response_dispose(&resps[i]);
	cp_buf_dispose(&stats);
}
END_TEST

struct signer {
	int calls;
};

static int test_sign(void *payload, const cp_http_request *req, cp_http_headers *h)
{
	struct signer *s = payload;
	char v[128];
	s->calls++;
	snprintf(v, sizeof(v), "Bearer SUPERSECRETTOKEN-%d", s->calls);
	return cp_http_headers_set(h, "Authorization", v);
}

static void capture_log(cp_log_level level, const char *message, void *payload)
{
	cp_buf *b = payload;
	cp_buf_put(b, message, strlen(message));
	cp_buf_put(b, "\n", 1);
}

START_TEST(signer_runs_every_attempt_and_secrets_stay_out_of_logs)
{
	cp_buf log = CP_BUF_INIT;
	cp_ctx_options co;
	cp_ctx_options_init(&co, CP_CTX_OPTIONS_VERSION);
	co.log_cb = capture_log;
	co.log_payload = &log;
	co.log_level = CP_LOG_TRACE;
	cp_ctx *ctx = NULL;
	tu_ok(cp_ctx_new(&ctx, &co));
	cp_http_client_free(client);
	cp_http_client_options o;
	cp_http_client_options_init(&o);
	o.base_delay_ms = 5;
	tu_ok(cp_http_client_new(&client, ctx, &o));

	tu_sim_post(&sim, "/_sim/faults", "{\"path\":\"/echo\",\"status\":500,\"count\":2}");
	struct signer s = {0};
	cp_buf body = CP_BUF_INIT;
	cp_http_request req = {
		.method = "GET",
		.url = url("/echo?X-Amz-Signature=SUPERSECRETSIG&sig=SUPERSECRETSAS&plain=visible"),
		.sign = test_sign,
		.sign_payload = &s,
		.response_body = &body};
	cp_http_headers_add(&req.headers, "x-amz-security-token", "SUPERSECRETSESSION");
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	tu_ok(cp_http_perform(client, &req, &resp));
	ck_assert_int_eq(s.calls, 3);
	ck_assert_uint_eq(resp.attempts, 3);
	/* The server saw the last attempt's fresh signature. */
	ck_assert_ptr_nonnull(strstr(body.ptr, "SUPERSECRETTOKEN-3"));
	ck_assert_ptr_nonnull(strstr(log.ptr, "plain=visible"));
	ck_assert_ptr_nonnull(strstr(log.ptr, "retrying"));
	ck_assert_ptr_nonnull(strstr(log.ptr, "Authorization: REDACTED"));
	ck_assert_msg(!strstr(log.ptr, "SUPERSECRET"), "a secret reached the log:\n%s", log.ptr);

	/* Failures: the message names the URL without its secrets. */
	req.url = url("/status/403?X-Amz-Signature=SUPERSECRETSIG");
	ck_assert_int_eq(cp_http_perform(client, &req, &resp), CP_EAUTH);
	ck_assert_ptr_null(strstr(cp_error_last()->message, "SUPERSECRET"));
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "/status/403"));
	ck_assert_msg(!strstr(log.ptr, "SUPERSECRET"), "a secret reached the log:\n%s", log.ptr);
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_buf_dispose(&body);
	cp_http_client_free(client);
	client = NULL;
	cp_ctx_free(ctx);
	cp_buf_dispose(&log);
}
END_TEST

START_TEST(backoff_has_full_jitter_and_cap)
{
	uint64_t rng = 42, max_seen = 0, min_seen = UINT64_MAX;
	for (int i = 0; i < 2000; i++) {
		uint64_t d = cp_http_backoff_ms(3, 100, 10000, &rng);
		ck_assert_uint_lt(d, 800);
		max_seen = d > max_seen ? d : max_seen;
		min_seen = d < min_seen ? d : min_seen;
	}
	ck_assert_uint_gt(max_seen, 700); /* spread over the whole window */
	ck_assert_uint_lt(min_seen, 100);
	for (int i = 0; i < 100; i++)
		ck_assert_uint_lt(cp_http_backoff_ms(30, 100, 5000, &rng), 5000);

	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	ck_assert_int_eq(cp_http_retry_after_ms(&h, 0), -1);
	cp_http_headers_set(&h, "Retry-After", "7");
	ck_assert_int_eq(cp_http_retry_after_ms(&h, 0), 7000);
	cp_http_headers_set(&h, "Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT");
	ck_assert_int_eq(cp_http_retry_after_ms(&h, 1445412470), 10000);
	cp_http_headers_set(&h, "x-ms-retry-after-ms", "250");
	ck_assert_int_eq(cp_http_retry_after_ms(&h, 0), 250);
	cp_http_headers_dispose(&h);

	cp_http_attempt_outcome o = {.status = 503, .cloud_retriable = -1, .code = ""};
	ck_assert_int_eq(cp_http_should_retry(&o), 0);
	o.idempotent = 1;
	ck_assert_int_eq(cp_http_should_retry(&o), 1);
	o.idempotent = 0;
	o.code = "RequestLimitExceeded";
	ck_assert_int_eq(cp_http_should_retry(&o), 1);
	o.code = "";
	o.status = 0;
	o.request_sent = 0;
	ck_assert_int_eq(cp_http_should_retry(&o), 1);
	o.request_sent = 1;
	ck_assert_int_eq(cp_http_should_retry(&o), 0);
	o.status = 400;
	o.idempotent = 1;
	ck_assert_int_eq(cp_http_should_retry(&o), 0);
}
END_TEST

START_TEST(url_helpers)
{
	cp_url u;
	tu_ok(cp_url_parse(&u, "https://user:pw@Bucket.s3.amazonaws.com:8443/a%20b/c?x=1&y#frag"));
	ck_assert_str_eq(u.scheme, "https");
	ck_assert_str_eq(u.host, "Bucket.s3.amazonaws.com");
	ck_assert_int_eq(u.port, 8443);
	ck_assert_str_eq(u.path, "/a%20b/c");
	ck_assert_str_eq(u.query, "x=1&y");
	cp_buf b = CP_BUF_INIT;
	tu_ok(cp_url_host_header(&u, &b));
	ck_assert_str_eq(b.ptr, "Bucket.s3.amazonaws.com:8443");
	cp_url_dispose(&u);
	tu_ok(cp_url_parse(&u, "http://[::1]:80"));
	ck_assert_str_eq(u.host, "::1");
	ck_assert_str_eq(u.path, "/");
	cp_buf_clear(&b);
	tu_ok(cp_url_host_header(&u, &b));
	ck_assert_str_eq(b.ptr, "[::1]");
	cp_url_dispose(&u);
	ck_assert_int_eq(cp_url_parse(&u, "no-scheme/x"), CP_EINVALID);

	cp_buf_clear(&b);
	tu_ok(cp_url_encode(&b, "a b/ü~", strlen("a b/ü~"), "/"));
	ck_assert_str_eq(b.ptr, "a%20b/%C3%BC~");
	cp_buf_clear(&b);
	tu_ok(cp_url_decode(&b, "a%20b+c%zz%4", 12, 1));
	ck_assert_str_eq(b.ptr, "a b c%zz%4");
	char *r = cp_url_redact("https://u:p@h/p?X-Amz-Credential=AKIA&a=1&sig=s&AccessToken=t");
	ck_assert_str_eq(r, "https://REDACTED@h/p?X-Amz-Credential=REDACTED&a=1&sig=REDACTED&"
			    "AccessToken=REDACTED");
	free(r);

	cp_buf_clear(&b);
	tu_ok(cp_base64_encode(&b, "\xfb\xff", 2, 0));
	ck_assert_str_eq(b.ptr, "+/8=");
	cp_buf_clear(&b);
	tu_ok(cp_base64_encode(&b, "\xfb\xff", 2, 1));
	ck_assert_str_eq(b.ptr, "-_8");
	cp_buf_clear(&b);
	tu_ok(cp_base64_decode(&b, "aGVsbG8gd29ybGQ=", 16, "test"));
	ck_assert_str_eq(b.ptr, "hello world");
	ck_assert_int_eq(cp_base64_decode(&b, "a$b", 3, "the key"), CP_EINVALID);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "the key"));
	cp_buf_dispose(&b);
}
END_TEST

START_TEST(dates_ranges_xml_and_listing_queries)
{
	/* HTTP dates, written and read without the locale. */
	char d[CP_HTTP_DATE_LEN];
	cp_http_date_format(784111777, d);
	ck_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert_int_eq(cp_http_date_parse(d), 784111777);
	ck_assert_int_eq(cp_http_date_parse("Tue, 29 Feb 2028 23:59:60 GMT"), 1835481600);
	ck_assert_int_eq(cp_http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT"), 0);
	ck_assert_int_eq(cp_http_date_parse("1994-11-06T08:49:37Z"), 0);
	ck_assert_int_eq(cp_http_date_parse(NULL), 0);

	/* Range headers: none for the whole object, open-ended from an offset. */
	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	tu_ok(cp_http_headers_set_range(&h, "Range", 0, 0));
	ck_assert_ptr_null(cp_http_headers_get(&h, "Range"));
	tu_ok(cp_http_headers_set_range(&h, "Range", 10, 5));
	ck_assert_str_eq(cp_http_headers_get(&h, "Range"), "bytes=10-14");
	tu_ok(cp_http_headers_set_range(&h, "x-ms-range", 7, 0));
	ck_assert_str_eq(cp_http_headers_get(&h, "x-ms-range"), "bytes=7-");
	cp_http_headers_dispose(&h);

	/* XML: children by name, siblings by name, deep search. */
	const char *xml = "<R><A>1</A><B><C>x</C></B><A>2</A><!-- c --><A>3</A></R>";
	xmlDoc *doc = cp_xml_parse(xml, strlen(xml));
	ck_assert_ptr_nonnull(doc);
	xmlNode *root = xmlDocGetRootElement(doc);
	int n = 0;
	for (xmlNode *a = cp_xml_child(root, "A"); a; a = cp_xml_next(a, "A"))
		n++;
	ck_assert_int_eq(n, 3);
	char *t = cp_xml_child_text(cp_xml_child(root, "B"), "C");
	ck_assert_str_eq(t, "x");
	xmlFree(t);
	ck_assert_ptr_null(cp_xml_child(NULL, "A"));
	ck_assert_ptr_null(cp_xml_child_text(root, "Z"));
	ck_assert_ptr_nonnull(cp_xml_find(root, "C"));
	xmlFreeDoc(doc);
	ck_assert_ptr_null(cp_xml_parse("not xml", 7));
	ck_assert_ptr_null(cp_xml_parse("", 0));

	/* Listing queries: the store's root and the prefix encoded as one, then the marker. */
	cp_buf q = CP_BUF_INIT;
	tu_ok(cp_objstore_list_query(&q, "prefix=", "root/", "data/a b", "marker", NULL));
	ck_assert_str_eq(q.ptr, "prefix=root%2Fdata%2Fa%20b");
	cp_buf_clear(&q);
	tu_ok(cp_objstore_list_query(&q, "list-type=2&prefix=", "", "", "continuation-token",
				     "x/y="));
	ck_assert_str_eq(q.ptr, "list-type=2&prefix=&continuation-token=x%2Fy%3D");
	cp_buf_dispose(&q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http");
	TCase *net = tcase_create("engine");
	tcase_add_unchecked_fixture(net, sim_up, sim_down);
	tcase_add_checked_fixture(net, setup, teardown);
	tcase_set_timeout(net, 60);
	tcase_add_test(net, get_into_buffer);
	tcase_add_test(net, streaming_upload_sends_exact_bytes);
	tcase_add_test(net, streaming_download_and_sink_failure);
	tcase_add_test(net, retries_5xx_then_succeeds);
	tcase_add_test(net, retry_after_is_honoured);
	tcase_add_test(net, non_idempotent_post_not_resent);
	tcase_add_test(net, connection_reset_on_get_is_retried);
	tcase_add_test(net, slow_body_times_out_and_is_retried);
	tcase_add_test(net, errors_carry_cloud_details);
	tcase_add_test(net, many_in_flight_bounded_and_reused);
	tcase_add_test(net, signer_runs_every_attempt_and_secrets_stay_out_of_logs);
	suite_add_tcase(s, net);
	TCase *pure = tcase_create("policy");
	tcase_add_test(pure, backoff_has_full_jitter_and_cap);
	tcase_add_test(pure, url_helpers);
	tcase_add_test(pure, dates_ranges_xml_and_listing_queries);
	suite_add_tcase(s, pure);
	return tu_run(s);
}
