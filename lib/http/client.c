/* The transfer engine: a queue of requests driven by one curl multi handle. */
#include "auth/digest.h"
#include "cancel.h"
#include "ctx.h"
#include "http/http.h"
#include "http/retry.h"
#include "http/url.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Error bodies are small; a larger one is cut, as only code and message matter. */
#define ERROR_BODY_MAX (64 * 1024)

struct transfer {
	cp_http_client *client;
	cp_http_request *req;
	cp_http_response *resp;
	cp_http_done_cb done;
	void *payload;
	CURL *easy;
	struct curl_slist *slist;
	cp_http_headers sent;
	uint64_t up_offset;
	int status_known;
	int to_error_body;
	cp_buf error_body;
	int cb_rc;
	cp_error_saved cb_err;
	uint64_t first_start_ms;
	uint64_t attempt_start_ms;
	uint64_t due_ms;
	uint64_t deadline_ms;
	unsigned int max_attempts;
	int idempotent;
	char errbuf[CURL_ERROR_SIZE];
	char *log_url;
	struct transfer *next;	      /* in the queue */
	struct transfer *next_active; /* in the list of transfers handed to curl */
};

struct cp_http_client {
	cp_ctx *ctx;
	cp_http_client_options opts;
	char *proxy, *no_proxy, *ca_file, *ca_path, *user_agent;
	CURLM *multi;
	struct transfer *queue_head, *queue_tail;
	struct transfer *active; /* handed to curl; "running" of them */
	unsigned int running;
	uint64_t rng;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void cp_http_client_options_init(cp_http_client_options *opts)
{
	memset(opts, 0, sizeof(*opts));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (v && *v)
		return v;
	v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

#define DEFAULT(field, value)                                                                      \
	do {                                                                                       \
		if (!c->opts.field)                                                                \
			c->opts.field = (value);                                                   \
	} while (0)

int cp_http_client_new(cp_http_client **out, cp_ctx *ctx, const cp_http_client_options *opts)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return cp_error_set(CP_EIO, CP_ERRCLASS_HTTP, "libcurl failed to initialise: %s",
				    curl_easy_strerror(curl_init_rc));
	cp_http_client *c = calloc(1, sizeof(*c));
	if (!c)
		return cp_error_oom();
	c->ctx = ctx;
	if (opts)
		c->opts = *opts;
	else
		cp_http_client_options_from_ctx(&c->opts, ctx, CP_HTTP_FOR_ANY);
	DEFAULT(max_concurrency, 16);
	DEFAULT(max_attempts, 5);
	DEFAULT(base_delay_ms, 200);
	DEFAULT(max_delay_ms, 20000);
	DEFAULT(connect_timeout_ms, 10000);
	DEFAULT(low_speed_time_s, 30);
	DEFAULT(low_speed_bytes, 1);
	DEFAULT(time_budget_ms, 900000);
	c->proxy = dup_or_null(c->opts.proxy);
	c->no_proxy = dup_or_null(c->opts.no_proxy);
	if (c->opts.ca_file || c->opts.ca_path) {
		c->ca_file = dup_or_null(c->opts.ca_file);
		c->ca_path = dup_or_null(c->opts.ca_path);
	} else if (c->opts.audience == CP_HTTP_FOR_AWS && env_first("AWS_CA_BUNDLE", NULL)) {
		/* The AWS CLI's variable wins for AWS, and stands alone as it does there. */
		c->ca_file = dup_or_null(env_first("AWS_CA_BUNDLE", NULL));
	} else {
		c->ca_file = dup_or_null(env_first("CURL_CA_BUNDLE", "SSL_CERT_FILE"));
		c->ca_path = dup_or_null(env_first("SSL_CERT_DIR", NULL));
	}
	c->user_agent = dup_or_null(c->opts.user_agent);
	if (!c->user_agent && asprintf(&c->user_agent, "libcloudprotect/%s", cp_version()) < 0)
		c->user_agent = NULL;
	c->multi = curl_multi_init();
	if (!c->multi || !c->user_agent) {
		cp_http_client_free(c);
		return cp_error_oom();
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->opts.max_concurrency * 2);
	c->rng = now_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
	/* Once per context: every client of it shares the setting. */
	if (c->opts.insecure && ctx && !atomic_exchange(&ctx->tls_warned, 1))
		cp_log(ctx, CP_LOG_WARN,
		       "http: TLS certificate verification is off (insecure_tls); anyone on the "
		       "path can read and change the traffic: use this only with local "
		       "emulators");
	*out = c;
	return 0;
}

static void transfer_free(struct transfer *t)
{
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->slist);
	cp_http_headers_dispose(&t->sent);
	cp_buf_dispose(&t->error_body);
	free(t->cb_err.message);
	free(t->cb_err.cloud_code);
	free(t->cb_err.request_id);
	free(t->log_url);
	free(t);
}

void cp_http_client_free(cp_http_client *c)
{
	if (!c)
		return;
	cp_error_saved keep;
	cp_error_save(&keep);
	while (c->queue_head) {
		struct transfer *t = c->queue_head;
		c->queue_head = t->next;
		transfer_free(t);
	}
	while (c->active) {
		struct transfer *t = c->active;
		c->active = t->next_active;
		curl_multi_remove_handle(c->multi, t->easy);
		transfer_free(t);
	}
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c->proxy);
	free(c->no_proxy);
	free(c->ca_file);
	free(c->ca_path);
	free(c->user_agent);
	free(c);
	cp_error_restore(&keep);
}

cp_ctx *cp_http_client_ctx(cp_http_client *client)
{
	return client->ctx;
}

void cp_http_response_dispose(cp_http_response *resp)
{
	cp_http_headers_dispose(&resp->headers);
}

void cp_http_request_dispose(cp_http_request *req)
{
	cp_http_headers_dispose(&req->headers);
}

static void enqueue(cp_http_client *c, struct transfer *t)
{
	t->next = NULL;
	if (c->queue_tail)
		c->queue_tail->next = t;
	else
		c->queue_head = t;
	c->queue_tail = t;
}

static int method_is_idempotent(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") ||
	       !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS");
}

int cp_http_submit(cp_http_client *c, cp_http_request *req, cp_http_response *resp,
		   cp_http_done_cb done, void *payload)
{
	if (!req->method || !req->url)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "HTTP request without %s; set req.method and req.url",
				    req->method ? "URL" : "method");
	if (req->body && req->body_read)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "HTTP request %s has both a body buffer and a body reader; "
				    "set one",
				    req->method);
	struct transfer *t = calloc(1, sizeof(*t));
	if (!t)
		return cp_error_oom();
	t->client = c;
	t->req = req;
	t->resp = resp;
	t->done = done;
	t->payload = payload;
	t->log_url = cp_url_redact(req->url);
	t->easy = curl_easy_init();
	if (!t->log_url || !t->easy) {
		transfer_free(t);
		return cp_error_oom();
	}
	t->max_attempts = req->max_attempts ? req->max_attempts : c->opts.max_attempts;
	t->idempotent =
		req->idempotency == CP_HTTP_IDEMPOTENT ||
		(req->idempotency == CP_HTTP_IDEMPOTENT_AUTO && method_is_idempotent(req->method));
	cp_http_headers_clear(&resp->headers);
	resp->status = 0;
	resp->attempts = 0;
	resp->body_bytes = 0;
	memset(&resp->error, 0, sizeof(resp->error));
	enqueue(c, t);
	return 0;
}

static const char *what(const struct transfer *t)
{
	return t->req->what ? t->req->what : t->req->method;
}

/* ---- curl callbacks ---- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct transfer *t = userdata;
	cp_http_request *req = t->req;
	size_t want = size * nitems;
	uint64_t total = req->body_read ? req->body_size : req->body_len;
	if (t->up_offset >= total)
		return 0;
	if (want > total - t->up_offset)
		want = (size_t)(total - t->up_offset);
	size_t got = want;
	if (req->body_read) {
		got = 0;
		int rc = req->body_read(req->body_payload, t->up_offset, buf, want, &got);
		if (!rc && got == 0)
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_CALLBACK,
					  "%s %s: the body reader ended at byte %llu of %llu; "
					  "the body must not shrink while it is sent",
					  what(t), t->log_url, (unsigned long long)t->up_offset,
					  (unsigned long long)total);
		if (rc) {
			t->cb_rc = rc;
			cp_error_save(&t->cb_err);
			return CURL_READFUNC_ABORT;
		}
	} else {
		memcpy(buf, (const char *)req->body + t->up_offset, got);
	}
	t->up_offset += got;
	return got;
}

static int on_seek(void *userdata, curl_off_t offset, int origin)
{
	struct transfer *t = userdata;
	if (origin != SEEK_SET || offset < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	t->up_offset = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * nitems;
	if (len >= 5 && !memcmp(buf, "HTTP/", 5)) {
		/* A new response (after 100 Continue or a proxy CONNECT). */
		cp_http_headers_clear(&t->resp->headers);
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	char name[256];
	size_t nlen = (size_t)(colon - buf);
	if (nlen >= sizeof(name))
		return len;
	memcpy(name, buf, nlen);
	name[nlen] = '\0';
	const char *v = colon + 1;
	const char *end = buf + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	char *value = strndup(v, (size_t)(end - v));
	if (!value || cp_http_headers_add(&t->resp->headers, name, value)) {
		free(value);
		return 0;
	}
	free(value);
	return len;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	cp_http_request *req = t->req;
	size_t len = size * nmemb;
	if (!t->status_known) {
		long status = 0;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
		t->to_error_body = status < 200 || status >= 300;
		t->status_known = 1;
	}
	if (t->to_error_body) {
		size_t room = ERROR_BODY_MAX - t->error_body.size;
		if (len < room)
			room = len;
		if (room && cp_buf_put(&t->error_body, data, room))
			return 0;
		return len;
	}
	int rc = 0;
	if (req->response_body)
		rc = cp_buf_put(req->response_body, data, len);
	else if (req->response_write)
		rc = req->response_write(req->response_payload, data, len);
	if (rc) {
		t->cb_rc = rc;
		cp_error_save(&t->cb_err);
		return 0;
	}
	t->resp->body_bytes += len;
	return len;
}

/* ---- attempts ---- */

static void log_headers(cp_http_client *c, const char *dir, const cp_http_headers *h)
{
	if (!c->ctx || c->ctx->opts.log_level < CP_LOG_TRACE)
		return;
	for (size_t i = 0; i < h->count; i++)
		cp_log(c->ctx, CP_LOG_TRACE, "http: %s %s: %s", dir, h->items[i].name,
		       cp_http_header_is_secret(h->items[i].name) ? "REDACTED" : h->items[i].value);
}

static int add_header_line(struct curl_slist **list, const char *name, const char *value)
{
	char *line = NULL;
	/* "Name;" is curl's way to send a header with an empty value. */
	int n = *value ? asprintf(&line, "%s: %s", name, value) : asprintf(&line, "%s;", name);
	if (n < 0)
		return cp_error_oom();
	struct curl_slist *l = curl_slist_append(*list, line);
	cp_secret_free(line);
	if (!l)
		return cp_error_oom();
	*list = l;
	return 0;
}

static int build_header_list(struct transfer *t)
{
	curl_slist_free_all(t->slist);
	t->slist = NULL;
	for (size_t i = 0; i < t->sent.count; i++) {
		int rc = add_header_line(&t->slist, t->sent.items[i].name, t->sent.items[i].value);
		if (rc)
			return rc;
	}
	/* Keep curl from adding headers that a signature did not cover. */
	static const char *const suppress[] = {"Content-Type", "Accept", "Expect"};
	for (size_t i = 0; i < sizeof(suppress) / sizeof(suppress[0]); i++) {
		if (cp_http_headers_get(&t->sent, suppress[i]))
			continue;
		char line[32];
		snprintf(line, sizeof(line), "%s:", suppress[i]);
		struct curl_slist *l = curl_slist_append(t->slist, line);
		if (!l)
			return cp_error_oom();
		t->slist = l;
	}
	return 0;
}

static void set_method(struct transfer *t)
{
	CURL *e = t->easy;
	cp_http_request *req = t->req;
	int has_body = req->body || req->body_read;
	curl_off_t len = (curl_off_t)(req->body_read ? req->body_size : req->body_len);
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "POST") && !has_body) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	} else if (has_body || !strcmp(req->method, "PUT")) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, has_body ? len : (curl_off_t)0);
		if (strcmp(req->method, "PUT"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		if (strcmp(req->method, "GET"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (has_body) {
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, t);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, t);
	}
}

static void set_options(struct transfer *t, uint64_t timeout_ms)
{
	cp_http_client *c = t->client;
	CURL *e = t->easy;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, t->req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->slist);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->opts.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)c->opts.low_speed_time_s);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)c->opts.low_speed_bytes);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->proxy)
		curl_easy_setopt(e, CURLOPT_PROXY, c->proxy);
	if (c->no_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, c->no_proxy);
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	if (c->ca_path)
		curl_easy_setopt(e, CURLOPT_CAPATH, c->ca_path);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->opts.insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->opts.insecure ? 0L : 2L);
	/*
	 * libcurl silently resends a request whose reused connection died
	 * before any answer; for a request that must not run twice, start on a
	 * fresh connection so that cannot happen.
	 */
	if (!t->idempotent)
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	set_method(t);
}

static void finish(struct transfer *t, int rc);

/* Sign and hand one attempt to curl; on failure the transfer is finished. */
static void start_attempt(struct transfer *t)
{
	cp_http_client *c = t->client;
	cp_http_request *req = t->req;
	uint64_t now = now_ms();
	if (!t->first_start_ms) {
		t->first_start_ms = now;
		unsigned int budget =
			req->time_budget_ms ? req->time_budget_ms : c->opts.time_budget_ms;
		t->deadline_ms = now + budget;
	}
	t->resp->attempts++;
	t->resp->status = 0;
	t->resp->body_bytes = 0;
	cp_http_headers_clear(&t->resp->headers);
	memset(&t->resp->error, 0, sizeof(t->resp->error));
	t->up_offset = 0;
	t->status_known = 0;
	t->to_error_body = 0;
	t->errbuf[0] = '\0';
	cp_buf_clear(&t->error_body);
	if (req->response_body)
		cp_buf_clear(req->response_body);

	int rc = cp_http_headers_copy(&t->sent, &req->headers);
	if (!rc && req->sign)
		rc = req->sign(req->sign_payload, req, &t->sent);
	if (!rc)
		rc = build_header_list(t);
	if (rc) {
		finish(t, cp_error_prefix(rc, "%s %s: ", what(t), t->log_url));
		return;
	}
	uint64_t timeout = t->deadline_ms > now ? t->deadline_ms - now : 1;
	unsigned int per = req->timeout_ms ? req->timeout_ms : c->opts.attempt_timeout_ms;
	if (per && per < timeout)
		timeout = per;
	set_options(t, timeout);
	t->attempt_start_ms = now;
	cp_log(c->ctx, CP_LOG_TRACE, "http: %s %s (attempt %u)", req->method, t->log_url,
	       t->resp->attempts);
	log_headers(c, ">", &t->sent);
	CURLMcode mc = curl_multi_add_handle(c->multi, t->easy);
	if (mc != CURLM_OK) {
		finish(t, cp_error_set(CP_EIO, CP_ERRCLASS_HTTP,
				       "%s %s: libcurl refused the transfer: %s", what(t),
				       t->log_url, curl_multi_strerror(mc)));
		return;
	}
	t->next_active = c->active;
	c->active = t;
	c->running++;
}

/* Take a transfer back from curl. */
static void deactivate(cp_http_client *c, struct transfer *t)
{
	curl_multi_remove_handle(c->multi, t->easy);
	for (struct transfer **p = &c->active; *p; p = &(*p)->next_active) {
		if (*p == t) {
			*p = t->next_active;
			break;
		}
	}
	t->next_active = NULL;
	c->running--;
}

static int status_to_code(long status, int throttled)
{
	if (throttled)
		return CP_ETHROTTLED;
	switch (status) {
	case 401:
	case 403: return CP_EAUTH;
	case 404: return CP_ENOTFOUND;
	case 409:
	case 412: return CP_EEXISTS;
	case 408:
	case 504: return CP_ETIMEOUT;
	default: return status >= 400 && status < 500 ? CP_EINVALID : CP_EIO;
	}
}

static const char *status_hint(int code)
{
	switch (code) {
	case CP_EAUTH:
		return "check the credentials, their permissions on this resource and the "
		       "machine's clock";
	case CP_ENOTFOUND: return "check the name, the region and the account";
	case CP_EEXISTS: return "it exists already or changed meanwhile";
	case CP_ETHROTTLED:
		return "the cloud kept throttling; lower the concurrency or raise the retry "
		       "budget";
	case CP_ETIMEOUT:
		return "the service was too slow; check the network or raise the time budget";
	case CP_EINVALID: return "the request was refused as invalid";
	default: return "the service failed; try again later";
	}
}

/* The final error of a request whose last answer was an HTTP error. */
static int http_failure(struct transfer *t, const cp_http_attempt_outcome *o, const char *why)
{
	cp_http_response *r = t->resp;
	int code = status_to_code(r->status, cp_http_outcome_is_throttle(o));
	const char *rid = r->error.request_id[0] ? r->error.request_id : NULL;
	return cp_error_set_cloud(
		code, CP_ERRCLASS_HTTP, (int)r->status, r->error.code[0] ? r->error.code : NULL,
		rid, "%s %s failed with HTTP %ld%s%s%s%s%s%s (%u attempt%s%s%s); %s", what(t),
		t->log_url, r->status, r->error.code[0] ? " " : "", r->error.code,
		r->error.message[0] ? ": " : "", r->error.message, rid ? ", request id " : "",
		rid ? rid : "", r->attempts, r->attempts == 1 ? "" : "s", why ? ", " : "",
		why ? why : "", status_hint(code));
}

static int transport_failure(struct transfer *t, CURLcode res, const char *why)
{
	int code = res == CURLE_OPERATION_TIMEDOUT ? CP_ETIMEOUT : CP_EIO;
	return cp_error_set(code, CP_ERRCLASS_HTTP,
			    "%s %s failed: %s%s%s (%u attempt%s%s%s); check the endpoint, the "
			    "network and any proxy",
			    what(t), t->log_url, curl_easy_strerror(res), t->errbuf[0] ? ": " : "",
			    t->errbuf, t->resp->attempts, t->resp->attempts == 1 ? "" : "s",
			    why ? ", " : "", why ? why : "");
}

static int64_t wall_seconds(void)
{
	return (int64_t)time(NULL);
}

static void attempt_done(struct transfer *t, CURLcode res)
{
	cp_http_client *c = t->client;
	cp_http_request *req = t->req;
	cp_http_response *resp = t->resp;
	deactivate(c, t);
	uint64_t now = now_ms();
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	long request_size = 0;
	curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &request_size);
	log_headers(c, "<", &resp->headers);

	if (t->cb_rc) {
		cp_error_restore(&t->cb_err);
		finish(t, cp_error_prefix(t->cb_rc, "%s %s: ", what(t), t->log_url));
		return;
	}
	cp_http_attempt_outcome o = {
		.status = res == CURLE_OK ? resp->status : 0,
		.transport_timeout = res == CURLE_OPERATION_TIMEDOUT,
		.request_sent = request_size > 0,
		.idempotent = t->idempotent,
		.cloud_retriable = -1,
		.code = "",
	};
	if (res == CURLE_OK && resp->status >= 200 && resp->status < 300) {
		cp_log(c->ctx, CP_LOG_DEBUG, "http: %s %s -> %ld (%llu ms, attempt %u)",
		       req->method, t->log_url, resp->status,
		       (unsigned long long)(now - t->attempt_start_ms), resp->attempts);
		finish(t, 0);
		return;
	}
	if (res == CURLE_OK) {
		resp->error.retriable = -1;
		cp_http_error_parser parse =
			req->parse_error ? req->parse_error : cp_http_parse_error_any;
		parse(resp, t->error_body.ptr ? t->error_body.ptr : "", t->error_body.size,
		      &resp->error);
		o.cloud_retriable = resp->error.retriable;
		o.code = resp->error.code;
		cp_log(c->ctx, CP_LOG_DEBUG, "http: %s %s -> %ld %s (%llu ms, attempt %u)",
		       req->method, t->log_url, resp->status, resp->error.code,
		       (unsigned long long)(now - t->attempt_start_ms), resp->attempts);
	} else {
		cp_log(c->ctx, CP_LOG_DEBUG, "http: %s %s -> %s (%llu ms, attempt %u)", req->method,
		       t->log_url, curl_easy_strerror(res),
		       (unsigned long long)(now - t->attempt_start_ms), resp->attempts);
	}

	const char *why = NULL;
	int retry = cp_http_should_retry(&o);
	if (!retry && o.status == 0 && !t->idempotent)
		why = "not retried because the request was not idempotent and may have been "
		      "acted on";
	if (retry && resp->attempts >= t->max_attempts) {
		retry = 0;
		why = "retry budget spent";
	}
	uint64_t delay = 0;
	if (retry) {
		delay = cp_http_backoff_ms(resp->attempts - 1, c->opts.base_delay_ms,
					   c->opts.max_delay_ms, &c->rng);
		int64_t asked = cp_http_retry_after_ms(&resp->headers, wall_seconds());
		if (asked >= 0 && (uint64_t)asked > delay)
			delay = (uint64_t)asked;
		if (now + delay >= t->deadline_ms) {
			retry = 0;
			why = "time budget spent";
		}
	}
	if (retry && resp->body_bytes && !req->response_body) {
		if (!req->response_reset) {
			retry = 0;
			why = "part of the body was already delivered";
		} else {
			int rc = req->response_reset(req->response_payload);
			if (rc) {
				finish(t, cp_error_prefix(rc, "%s %s: ", what(t), t->log_url));
				return;
			}
		}
	}
	if (retry) {
		cp_log(c->ctx, CP_LOG_INFO,
		       "http: retrying %s %s in %llu ms after %s%s%s (attempt %u of %u)",
		       req->method, t->log_url, (unsigned long long)delay,
		       o.status ? "HTTP " : curl_easy_strerror(res),
		       o.status ? (resp->error.code[0] ? resp->error.code : "error") : "", "",
		       resp->attempts + 1, t->max_attempts);
		t->due_ms = now + delay;
		enqueue(c, t);
		return;
	}
	if (o.status)
		finish(t, http_failure(t, &o, why));
	else
		finish(t, transport_failure(t, res, why));
}

/* rc's error is the thread's last error while done runs. */
static void finish(struct transfer *t, int rc)
{
	if (t->done)
		t->done(t->payload, rc, t->req, t->resp);
	transfer_free(t);
}

/* Start queued transfers that are due while there is room; returns ms until the next is due. */
static uint64_t start_ready(cp_http_client *c)
{
	uint64_t now = now_ms();
	uint64_t wait = UINT64_MAX;
	struct transfer *prev = NULL, *t = c->queue_head;
	while (t) {
		struct transfer *next = t->next;
		if (t->due_ms <= now && c->running < c->opts.max_concurrency) {
			if (prev)
				prev->next = next;
			else
				c->queue_head = next;
			if (c->queue_tail == t)
				c->queue_tail = prev;
			t->next = NULL;
			start_attempt(t);
		} else {
			if (t->due_ms > now && t->due_ms - now < wait)
				wait = t->due_ms - now;
			prev = t;
		}
		t = next;
	}
	return wait;
}

static int cancelled(struct transfer *t, const char *when)
{
	return cp_error_set(CP_ECANCELLED, CP_ERRCLASS_CALLBACK,
			    "%s %s cancelled %s (after %u attempt%s)", what(t), t->log_url, when,
			    t->resp->attempts, t->resp->attempts == 1 ? "" : "s");
}

/*
 * The thread's job was cancelled (or failed elsewhere): end every transfer
 * now, in flight ones included, instead of letting them run out. A done
 * callback may queue more; the caller's loop cancels those in turn.
 */
static void cancel_all(cp_http_client *c)
{
	while (c->active) {
		struct transfer *t = c->active;
		deactivate(c, t);
		finish(t, cancelled(t, "while in flight"));
	}
	while (c->queue_head) {
		struct transfer *t = c->queue_head;
		c->queue_head = t->next;
		if (!c->queue_head)
			c->queue_tail = NULL;
		t->next = NULL;
		finish(t,
		       cancelled(t, t->resp->attempts ? "before its retry" : "before it started"));
	}
}

/* How long one wait may block: short enough to notice a cancel promptly. */
#define CANCEL_POLL_MS 100

static int run(cp_http_client *c, const int *stop)
{
	while (!(stop && *stop) && (c->queue_head || c->running)) {
		if (cp_cancel_requested()) {
			cancel_all(c);
			continue;
		}
		uint64_t wait = start_ready(c);
		int still = 0;
		CURLMcode mc = curl_multi_perform(c->multi, &still);
		if (mc != CURLM_OK)
			return cp_error_set(CP_EIO, CP_ERRCLASS_HTTP, "libcurl failed: %s",
					    curl_multi_strerror(mc));
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(c->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct transfer *t = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			attempt_done(t, msg->data.result);
		}
		if ((stop && *stop) || !(c->queue_head || c->running))
			break;
		if (c->queue_head && c->running < c->opts.max_concurrency && wait == UINT64_MAX)
			wait = 0;
		int timeout = wait > CANCEL_POLL_MS ? CANCEL_POLL_MS : (int)wait;
		if (c->running || timeout > 0)
			curl_multi_poll(c->multi, NULL, 0, timeout, NULL);
	}
	return 0;
}

int cp_http_run(cp_http_client *c)
{
	return run(c, NULL);
}

struct perform_state {
	int done;
	int rc;
	cp_error_saved err;
};

static void perform_done(void *payload, int rc, cp_http_request *req, cp_http_response *resp)
{
	struct perform_state *s = payload;
	s->done = 1;
	s->rc = rc;
	if (rc)
		cp_error_save(&s->err);
}

int cp_http_perform(cp_http_client *c, cp_http_request *req, cp_http_response *resp)
{
	struct perform_state s = {0};
	int rc = cp_http_submit(c, req, resp, perform_done, &s);
	if (rc)
		return rc;
	rc = run(c, &s.done);
	if (rc)
		return rc;
	if (s.rc)
		cp_error_restore(&s.err);
	return s.rc;
}
