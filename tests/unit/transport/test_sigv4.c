/*
 * SigV4 against botocore: every case is signed by us and, in the same run,
 * by botocore (oracles/sigv4_botocore.py); the signatures must be equal.
 */
#include "auth/digest.h"
#include "auth/sigv4.h"
#include "creds/creds.h"
#include "http/url.h"
#include "json.h"
#include "sim.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AK    "AKIDEXAMPLE"
#define SK    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="

typedef struct sv_case {
	const char *name;
	const char *method;
	const char *origin;	 /* scheme://host[:port] */
	const char *path;	 /* raw, encoded by the test */
	const char *params[16];	 /* raw key, value (NULL value: no '='), ... */
	const char *headers[16]; /* name, value, ... */
	const char *body;
	size_t stream_len; /* > 0: a streamed body of this many pattern bytes */
	int unsigned_payload;
	int s3;
	const char *service;
	const char *region;
	const char *token;
	unsigned int presign;
	int64_t now;
} sv_case;

static const sv_case cases[] = {
	{"s3 get object",
	 "GET",
	 "https://examplebucket.s3.amazonaws.com",
	 "/test.txt",
	 {NULL},
	 {"Range", "bytes=0-9", NULL},
	 NULL,
	 0,
	 0,
	 1,
	 "s3",
	 "us-east-1",
	 NULL,
	 0,
	 0},
	{"s3 put unicode key",
	 "PUT",
	 "https://b.s3.eu-central-1.amazonaws.com",
	 "/dir/\xc3\xbcn\xc3\xaf c\xc3\xb8"
	 "d\xc3\xa9 file+name~(1)&=.txt",
	 {NULL},
	 {"Content-Type", "text/plain", "x-amz-storage-class", "STANDARD", NULL},
	 "hello",
	 0,
	 0,
	 1,
	 "s3",
	 "eu-central-1",
	 TOKEN,
	 0,
	 0},
	{"s3 list odd query",
	 "GET",
	 "https://b.s3.us-west-2.amazonaws.com",
	 "/",
	 {"list-type", "2", "prefix", "a b/\xc3\xbc*:@,", "continuation-token", "abc+/=x",
	  "max-keys", "1000", "encoding-type", "url", NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 1,
	 "s3",
	 "us-west-2",
	 NULL,
	 0,
	 0},
	{"s3 subresource without value",
	 "GET",
	 "https://b.s3.amazonaws.com",
	 "/k",
	 {"acl", NULL, "versionId", "3/L4kqtJl40Nr8X8gdRQBpUMLUo", NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 1,
	 "s3",
	 "us-east-1",
	 NULL,
	 0,
	 0},
	{"repeated and messy headers",
	 "PUT",
	 "https://b.s3.amazonaws.com",
	 "/obj",
	 {NULL},
	 {"X-Amz-Meta-Tag", "  first   value ", "x-amz-meta-tag", "second\tvalue",
	  "X-Amz-Meta-Empty", "", "My-Header", "a  b   c", "User-Agent", "not-signed/1.0", NULL},
	 "data",
	 0,
	 0,
	 1,
	 "s3",
	 "us-east-1",
	 NULL,
	 0,
	 0},
	{"s3 streamed body hashed",
	 "PUT",
	 "https://b.s3.amazonaws.com",
	 "/big",
	 {NULL},
	 {NULL},
	 NULL,
	 300001,
	 0,
	 1,
	 "s3",
	 "us-east-1",
	 NULL,
	 0,
	 0},
	{"s3 streamed body unsigned",
	 "PUT",
	 "https://b.s3.amazonaws.com",
	 "/big2",
	 {"partNumber", "3", "uploadId", "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5t", NULL},
	 {"Content-Length", "300001", NULL},
	 NULL,
	 300001,
	 1,
	 1,
	 "s3",
	 "us-east-1",
	 TOKEN,
	 0,
	 0},
	{"s3 compatible endpoint with port",
	 "POST",
	 "http://127.0.0.1:9000",
	 "/bucket/key",
	 {"uploads", "", NULL},
	 {NULL},
	 "",
	 0,
	 0,
	 1,
	 "s3",
	 "us-east-1",
	 NULL,
	 0,
	 0},
	{"s3 empty body delete",
	 "DELETE",
	 "https://b.s3.ap-southeast-2.amazonaws.com",
	 "/a/b/c",
	 {NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 1,
	 "s3",
	 "ap-southeast-2",
	 TOKEN,
	 0,
	 0},
	{"sts form post",
	 "POST",
	 "https://sts.amazonaws.com",
	 "/",
	 {NULL},
	 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8", NULL},
	 "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&"
	 "RoleSessionName=s&ExternalId=ext-1&Version=2011-06-15",
	 0,
	 0,
	 0,
	 "sts",
	 "us-east-1",
	 TOKEN,
	 0,
	 0},
	{"ec2 query repeated keys",
	 "GET",
	 "https://ec2.eu-west-1.amazonaws.com",
	 "/",
	 {"Action", "DescribeSnapshots", "Version", "2016-11-15", "Filter.1.Name", "tag:Name",
	  "Filter.1.Value.1", "a*b ?", "Owner.1", "self", "Owner.2", "amazon", NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 0,
	 "ec2",
	 "eu-west-1",
	 NULL,
	 0,
	 0},
	{"ebs direct path normalised",
	 "PUT",
	 "https://ebs.us-east-1.amazonaws.com",
	 "/snapshots//snap-0123/./blocks/../blocks/7",
	 {NULL},
	 {"x-amz-Data-Length", "524288", "x-amz-Checksum", "q1w2e3==", "x-amz-Checksum-Algorithm",
	  "SHA256", NULL},
	 "block",
	 0,
	 0,
	 0,
	 "ebs",
	 "us-east-1",
	 NULL,
	 0,
	 0},
	{"non-s3 path encoded twice",
	 "GET",
	 "https://backup.eu-west-3.amazonaws.com",
	 "/backup-vaults/my vault/recovery-points/arn:aws:ec2:eu-west-3::snapshot/snap-1",
	 {"maxResults", "10", NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 0,
	 "backup",
	 "eu-west-3",
	 TOKEN,
	 0,
	 0},
	{"unicode query and trailing slash",
	 "GET",
	 "https://rds.us-east-2.amazonaws.com",
	 "/dir/",
	 {"Action", "DescribeDBSnapshots", "Marker", "\xe6\x97\xa5\xe6\x9c\xac", NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 0,
	 "rds",
	 "us-east-2",
	 NULL,
	 0,
	 0},
	{"json protocol",
	 "POST",
	 "https://dynamodb.us-east-1.amazonaws.com",
	 "/",
	 {NULL},
	 {"X-Amz-Target", "DynamoDB_20120810.ListTables", "Content-Type",
	  "application/x-amz-json-1.0", NULL},
	 "{}",
	 0,
	 0,
	 0,
	 "dynamodb",
	 "us-east-1",
	 NULL,
	 0,
	 0},
	{"unsigned non-s3",
	 "PUT",
	 "https://ebs.us-east-1.amazonaws.com",
	 "/snapshots/s/blocks/1",
	 {NULL},
	 {NULL},
	 NULL,
	 1000,
	 1,
	 0,
	 "ebs",
	 "us-east-1",
	 NULL,
	 0,
	 0},
	{"presign s3 get",
	 "GET",
	 "https://examplebucket.s3.amazonaws.com",
	 "/test.txt",
	 {NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 1,
	 "s3",
	 "us-east-1",
	 NULL,
	 86400,
	 0},
	{"presign s3 put with token and query",
	 "PUT",
	 "https://b.s3.eu-west-1.amazonaws.com",
	 "/dir/file name.bin",
	 {"versionId", "v1", "x-id", "PutObject", NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 1,
	 "s3",
	 "eu-west-1",
	 TOKEN,
	 900,
	 0},
	{"presign rds iam token",
	 "GET",
	 "https://db.abc.us-east-1.rds.amazonaws.com:5432",
	 "/",
	 {"Action", "connect", "DBUser", "app_user", NULL},
	 {NULL},
	 NULL,
	 0,
	 0,
	 0,
	 "rds-db",
	 "us-east-1",
	 NULL,
	 900,
	 0},
	{"presign with signed header",
	 "GET",
	 "https://b.s3.amazonaws.com",
	 "/k",
	 {NULL},
	 {"x-amz-server-side-encryption-customer-algorithm", "AES256", NULL},
	 NULL,
	 0,
	 0,
	 1,
	 "s3",
	 "us-east-1",
	 NULL,
	 3600,
	 0},
};

static int pattern_read(void *payload, uint64_t offset, char *buf, size_t len, size_t *got)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((offset + i) * 31 % 256);
	*got = len;
	return 0;
}

static char *pattern(size_t len)
{
	char *p = malloc(len + 1);
	size_t got;
	pattern_read(NULL, 0, p, len, &got);
	return p;
}

static int64_t case_now(const sv_case *c)
{
	return c->now ? c->now : 1440938160 + (int64_t)(c - cases) * 86399;
}

static void build_url(const sv_case *c, cp_buf *base, cp_buf *full)
{
	cp_buf_put(base, c->origin, strlen(c->origin));
	cp_url_encode(base, c->path, strlen(c->path), "/");
	cp_buf_put(full, base->ptr, base->size);
	for (int i = 0; c->params[i]; i += 2) {
		cp_buf_put(full, i ? "&" : "?", 1);
		/* Encode loosely (characters a query may carry as they are) to prove we re-encode. */
		cp_url_encode(full, c->params[i], strlen(c->params[i]), ":@,*/");
		if (c->params[i + 1]) {
			cp_buf_put(full, "=", 1);
			cp_url_encode(full, c->params[i + 1], strlen(c->params[i + 1]), ":@,*/");
		}
	}
}

static void write_case(cp_json_writer *w, const sv_case *c)
{
	cp_buf base = CP_BUF_INIT, full = CP_BUF_INIT;
	build_url(c, &base, &full);
	cp_json_begin_map(w);
	cp_json_kv_str(w, "method", c->method);
	cp_json_kv_str(w, "base_url", base.ptr);
	cp_json_kv_str(w, "service", c->service);
	cp_json_kv_str(w, "region", c->region);
	cp_json_kv_str(w, "access_key", AK);
	cp_json_kv_str(w, "secret_key", SK);
	if (c->token)
		cp_json_kv_str(w, "token", c->token);
	cp_json_kv_int(w, "now", case_now(c));
	cp_json_key(w, "s3");
	cp_json_bool(w, c->s3);
	cp_json_key(w, "unsigned");
	cp_json_bool(w, c->unsigned_payload);
	cp_json_key(w, "stream");
	cp_json_bool(w, c->stream_len > 0);
	if (c->presign)
		cp_json_kv_int(w, "presign", c->presign);
	cp_json_key(w, "params");
	cp_json_begin_array(w);
	for (int i = 0; c->params[i]; i += 2) {
		cp_json_begin_array(w);
		cp_json_string(w, c->params[i]);
		cp_json_string(w, c->params[i + 1] ? c->params[i + 1] : "");
		cp_json_end_array(w);
	}
	cp_json_end_array(w);
	cp_json_key(w, "headers");
	cp_json_begin_array(w);
	for (int i = 0; c->headers[i]; i += 2) {
		cp_json_begin_array(w);
		cp_json_string(w, c->headers[i]);
		cp_json_string(w, c->headers[i + 1]);
		cp_json_end_array(w);
	}
	cp_json_end_array(w);
	cp_buf hex = CP_BUF_INIT;
	size_t len = c->stream_len ? c->stream_len : (c->body ? strlen(c->body) : 0);
	char *body = c->stream_len ? pattern(len) : NULL;
	const char *b = body ? body : c->body;
	cp_buf_grow(&hex, 2 * len + 1);
	cp_auth_hex((const unsigned char *)(b ? b : ""), len, hex.ptr);
	cp_json_kv_str(w, "body_hex", hex.ptr);
	cp_json_end_map(w);
	free(body);
	cp_buf_dispose(&hex);
	cp_buf_dispose(&base);
	cp_buf_dispose(&full);
}

/* Our Authorization header (or presigned URL's signature) for case c. */
static void sign_ours(const sv_case *c, char **auth, char **url_out, cp_buf *canonical)
{
	cp_buf base = CP_BUF_INIT, full = CP_BUF_INIT;
	build_url(c, &base, &full);
	cp_sigv4_params p = {.dialect = CP_SIGV4_AWS,
			     .access_key = AK,
			     .secret_key = SK,
			     .session_token = c->token,
			     .region = c->region,
			     .service = c->service,
			     .raw_path = c->s3,
			     .content_sha256_header = c->s3 || c->unsigned_payload,
			     .now = case_now(c)};
	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	for (int i = 0; c->headers[i]; i += 2)
		cp_http_headers_add(&h, c->headers[i], c->headers[i + 1]);
	if (c->presign) {
		if (c->s3)
			p.payload_hash = CP_SIGV4_UNSIGNED_PAYLOAD;
		tu_ok(cp_sigv4_presign(&p, c->method, full.ptr, &h, c->presign, url_out));
	} else {
		/* Through the cp_http_sign_cb adapter, as the engine calls it. */
		char hash[65];
		char *body = NULL;
		cp_http_request req = {.method = c->method, .url = full.ptr};
		if (c->stream_len) {
			req.body_read = pattern_read;
			req.body_size = c->stream_len;
			if (!c->unsigned_payload) {
				body = pattern(c->stream_len);
				cp_auth_sha256_hex(body, c->stream_len, hash);
				p.payload_hash = hash;
			}
		} else if (c->body) {
			req.body = c->body;
			req.body_len = strlen(c->body);
		}
		if (c->unsigned_payload)
			p.payload_hash = CP_SIGV4_UNSIGNED_PAYLOAD;
		cp_sigv4_signer signer = {.params = p};
		tu_ok(cp_sigv4_sign_request(&signer, &req, &h));
		*auth = strdup(cp_http_headers_get(&h, "Authorization"));
		/* The same again, for the canonical request shown on mismatch. */
		cp_http_headers h2 = CP_HTTP_HEADERS_INIT;
		for (int i = 0; c->headers[i]; i += 2)
			cp_http_headers_add(&h2, c->headers[i], c->headers[i + 1]);
		if (!p.payload_hash && c->stream_len)
			p.payload_hash = CP_SIGV4_UNSIGNED_PAYLOAD;
		cp_sigv4_sign(&p, c->method, full.ptr, &h2, req.body, req.body_len, canonical);
		cp_http_headers_dispose(&h2);
		free(body);
	}
	cp_http_headers_dispose(&h);
	cp_buf_dispose(&base);
	cp_buf_dispose(&full);
}

static const char *query_param(const char *url, const char *name, char *out, size_t cap)
{
	const char *p = strstr(url, name);
	if (!p)
		return NULL;
	p += strlen(name);
	size_t n = strcspn(p, "&");
	snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
	return out;
}

START_TEST(signatures_equal_botocore)
{
	size_t n = sizeof(cases) / sizeof(cases[0]);
	cp_json_writer w;
	tu_ok(cp_json_writer_init(&w, 0));
	cp_json_begin_array(&w);
	for (size_t i = 0; i < n; i++)
		write_case(&w, &cases[i]);
	cp_json_end_array(&w);
	cp_buf in = CP_BUF_INIT, out = CP_BUF_INIT;
	tu_ok(cp_json_writer_finish(&w, &in));
	cp_json_writer_dispose(&w);

	char *script = tu_source_path("tests/unit/transport/oracles/sigv4_botocore.py");
	const char *argv[] = {"python3", script, NULL};
	int status = tu_run_capture(argv, in.ptr, in.size, &out);
	ck_assert_msg(status == 0,
		      "botocore oracle failed (exit %d): is botocore installed for "
		      "python3? output: %s",
		      status, out.ptr ? out.ptr : "");
	yajl_val results = NULL;
	tu_ok(cp_json_parse(&results, out.ptr, "botocore oracle output"));
	ck_assert(YAJL_IS_ARRAY(results));
	ck_assert_uint_eq(results->u.array.len, n);

	for (size_t i = 0; i < n; i++) {
		const sv_case *c = &cases[i];
		yajl_val r = results->u.array.values[i];
		char *auth = NULL, *url = NULL;
		cp_buf canonical = CP_BUF_INIT;
		sign_ours(c, &auth, &url, &canonical);
		if (c->presign) {
			char sig[80];
			ck_assert_ptr_nonnull(
				query_param(url, "X-Amz-Signature=", sig, sizeof(sig)));
			ck_assert_msg(!strcmp(sig, cp_json_str(r, "signature")),
				      "case '%s': presigned signature differs\nours: %s\nbotocore: "
				      "%s\nbotocore canonical:\n%s",
				      c->name, url, cp_json_str(r, "url"),
				      cp_json_str(r, "canonical"));
			if (c->token)
				ck_assert_ptr_nonnull(strstr(url, "X-Amz-Security-Token="));
		} else {
			ck_assert_msg(!strcmp(auth, cp_json_str(r, "authorization")),
				      "case '%s': signature differs\nours: %s\nbotocore: %s\nour "
				      "canonical:\n%s\nbotocore canonical:\n%s",
				      c->name, auth, cp_json_str(r, "authorization"), canonical.ptr,
				      cp_json_str(r, "canonical"));
		}
		free(auth);
		free(url);
		cp_buf_dispose(&canonical);
	}
	yajl_tree_free(results);
	free(script);
	cp_buf_dispose(&in);
	cp_buf_dispose(&out);
}
END_TEST

START_TEST(signature_changes_with_every_input)
{
	/* Guards against a signer that ignores a field (and an oracle test that cannot fail). */
	cp_sigv4_params p = {.access_key = AK,
			     .secret_key = SK,
			     .region = "us-east-1",
			     .service = "s3",
			     .raw_path = 1,
			     .now = 1440938160};
	const char *url = "https://b.s3.amazonaws.com/k?x=1";
	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	tu_ok(cp_sigv4_sign(&p, "GET", url, &h, NULL, 0, NULL));
	char *base = strdup(cp_http_headers_get(&h, "Authorization"));
	ck_assert_ptr_nonnull(strstr(base, "Credential=" AK "/20150830/us-east-1/s3/aws4_request"));
	ck_assert_str_eq(cp_http_headers_get(&h, "X-Amz-Date"), "20150830T123600Z");
	struct {
		const char *what;
		cp_sigv4_params p;
		const char *method, *url, *body;
	} variants[] = {
		{"method", p, "PUT", url, NULL},
		{"path", p, "GET", "https://b.s3.amazonaws.com/K?x=1", NULL},
		{"query", p, "GET", "https://b.s3.amazonaws.com/k?x=2", NULL},
		{"host", p, "GET", "https://c.s3.amazonaws.com/k?x=1", NULL},
		{"body", p, "GET", url, "b"},
	};
	size_t nv = sizeof(variants) / sizeof(variants[0]);
	for (size_t i = 0; i < nv; i++) {
		cp_http_headers_clear(&h);
		tu_ok(cp_sigv4_sign(&variants[i].p, variants[i].method, variants[i].url, &h,
				    variants[i].body, variants[i].body ? 1 : 0, NULL));
		ck_assert_msg(strcmp(base, cp_http_headers_get(&h, "Authorization")),
			      "changing the %s did not change the signature", variants[i].what);
	}
	cp_sigv4_params q = p;
	q.secret_key = "other";
	cp_http_headers_clear(&h);
	tu_ok(cp_sigv4_sign(&q, "GET", url, &h, NULL, 0, NULL));
	ck_assert_str_ne(base, cp_http_headers_get(&h, "Authorization"));
	q = p;
	q.region = "eu-west-1";
	cp_http_headers_clear(&h);
	tu_ok(cp_sigv4_sign(&q, "GET", url, &h, NULL, 0, NULL));
	ck_assert_str_ne(base, cp_http_headers_get(&h, "Authorization"));

	/* Missing inputs are named. */
	q = p;
	q.region = NULL;
	ck_assert_int_eq(cp_sigv4_sign(&q, "GET", url, &h, NULL, 0, NULL), CP_EAUTH);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "region"));
	char *out = NULL;
	ck_assert_int_eq(cp_sigv4_presign(&p, "GET", url, NULL, 0, &out), CP_EINVALID);
	ck_assert_int_eq(cp_sigv4_presign(&p, "GET", url, NULL, 604801, &out), CP_EINVALID);
	free(base);
	cp_http_headers_dispose(&h);
}
END_TEST

START_TEST(signer_fetches_credentials_each_time)
{
	cp_creds *creds = NULL;
	tu_ok(cp_creds_new_static(&creds, "test", AK, SK, TOKEN, 0));
	cp_sigv4_signer s = {.params = {.region = "us-east-1", .service = "sts"}, .creds = creds};
	cp_http_request req = {.method = "GET", .url = "https://sts.amazonaws.com/"};
	cp_http_headers h = CP_HTTP_HEADERS_INIT;
	tu_ok(cp_sigv4_sign_request(&s, &req, &h));
	ck_assert_str_eq(cp_http_headers_get(&h, "X-Amz-Security-Token"), TOKEN);
	ck_assert_ptr_nonnull(strstr(cp_http_headers_get(&h, "Authorization"), AK "/"));
	cp_http_headers_dispose(&h);
	cp_creds_free(creds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("sigv4");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, signatures_equal_botocore);
	tcase_add_test(tc, signature_changes_with_every_input);
	tcase_add_test(tc, signer_fetches_credentials_each_time);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
