/*
 * EBS direct API requests (REST + JSON, SigV4 service "ebs"), their
 * errors, and adaptive concurrency for the block calls.
 *
 * EBS direct allows about 1000 GetSnapshotBlock calls a second per
 * snapshot, and fewer for PutSnapshotBlock; a fixed worker count either
 * wastes the limit or gets throttled for minutes. So block calls pass a
 * limiter that halves the calls in flight whenever one meets throttling
 * (the transport had to retry it, or it failed throttled) and adds one
 * back after a run of clean answers (AIMD, as TCP does).
 */
#include "auth/digest.h"
#include "ctx.h"
#include "error.h"
#include "json.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* AWS REST-JSON errors: the type in x-amzn-ErrorType ("ThrottlingException:http://..."). */
static void parse_ebs_error(const cp_http_response *resp, const char *body, size_t len,
			    cp_http_cloud_error *err)
{
	cp_http_parse_error_json(resp, body, len, err);
	const char *type = resp ? cp_http_headers_get(&resp->headers, "x-amzn-ErrorType") : NULL;
	if (type && *type) {
		size_t n = strcspn(type, ":");
		if (n >= sizeof(err->code))
			n = sizeof(err->code) - 1;
		memcpy(err->code, type, n);
		err->code[n] = 0;
	}
	const char *rid = resp ? cp_http_headers_get(&resp->headers, "x-amzn-RequestId") : NULL;
	if (rid && !err->request_id[0])
		snprintf(err->request_id, sizeof(err->request_id), "%s", rid);
}

int ebs_req_init(ebs_req *r, aws_provider *p, const char *method, const char *path_and_query,
		 const char *what)
{
	memset(r, 0, sizeof(*r));
	char base[256];
	if (p->ebs_url)
		snprintf(base, sizeof(base), "%s", p->ebs_url);
	else
		snprintf(base, sizeof(base), "https://ebs.%s.amazonaws.com", p->region);
	int rc = cp_buf_put(&r->url, base, strlen(base));
	rc = rc ? rc : cp_buf_put(&r->url, path_and_query, strlen(path_and_query));
	if (rc) {
		cp_buf_dispose(&r->url);
		return rc;
	}
	r->signer.params.dialect = CP_SIGV4_AWS;
	r->signer.params.region = p->region;
	r->signer.params.service = "ebs";
	r->signer.creds = p->creds;
	r->http.method = method;
	r->http.url = r->url.ptr;
	r->http.response_body = &r->body;
	r->http.sign = cp_sigv4_sign_request;
	r->http.sign_payload = &r->signer;
	r->http.parse_error = parse_ebs_error;
	r->http.what = what;
	return 0;
}

void ebs_req_dispose(ebs_req *r)
{
	cp_http_request_dispose(&r->http);
	cp_http_response_dispose(&r->resp);
	cp_buf_dispose(&r->url);
	cp_buf_dispose(&r->body);
}

static int translate(aws_provider *p, ebs_req *r, int rc, const char *snapshot_id)
{
	const char *code = r->resp.error.code;
	const char *msg = r->resp.error.message[0] ? r->resp.error.message : "no message";
	const char *what = r->http.what ? r->http.what : "EBS direct";
	int status = (int)r->resp.status;
	const char *rid = r->resp.error.request_id;
	if (!strcmp(code, "ResourceNotFoundException") || rc == CP_ENOTFOUND)
		return cp_error_set_cloud(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER, status, code, rid,
					  "%s: snapshot %s not found in %s (%s: %s); check the id "
					  "and region, and that the snapshot is completed",
					  what, snapshot_id, p->region, code, msg);
	if (rc == CP_EAUTH || !strcmp(code, "AccessDeniedException")) {
		cp_creds_value v = {0};
		char id[64] = "(unknown)";
		if (!cp_creds_get(p->creds, &v) && v.access_key)
			snprintf(id, sizeof(id), "%s", v.access_key);
		cp_creds_value_dispose(&v);
		return cp_error_set_cloud(CP_EAUTH, CP_ERRCLASS_AUTH, status, code, rid,
					  "%s of snapshot %s refused access key id '%s' (from "
					  "%s): %s (%s); grant the ebs:* direct API actions "
					  "(and kms:Decrypt for encrypted snapshots)",
					  what, snapshot_id, id,
					  p->creds->source ? p->creds->source : "the AWS chain",
					  msg, code);
	}
	if (rc == CP_ETHROTTLED)
		return cp_error_prefix(rc,
				       "%s of snapshot %s kept being throttled; lower "
				       "max_block_requests or retry later: ",
				       what, snapshot_id);
	return cp_error_prefix(rc, "%s of snapshot %s in %s: ", what, snapshot_id, p->region);
}

int ebs_req_perform(aws_provider *p, ebs_req *r, const char *snapshot_id)
{
	int rc = cp_http_pool_perform(p->pool, &r->http, &r->resp);
	return rc ? translate(p, r, rc, snapshot_id) : 0;
}

int ebs_snapshot_readable(aws_provider *p, const char *snapshot_id)
{
	char path[256];
	snprintf(path, sizeof(path), "/snapshots/%s/blocks?maxResults=100", snapshot_id);
	ebs_req r;
	int rc = ebs_req_init(&r, p, "GET", path, "EBS ListSnapshotBlocks");
	rc = rc ? rc : cp_http_pool_perform(p->pool, &r.http, &r.resp);
	/* EC2 already said completed: a refusal now means "not yet", not "never". */
	if (rc == CP_ENOTFOUND || rc == CP_EINVALID) {
		cp_log(p->ctx, CP_LOG_DEBUG, "aws: snapshot %s completed but not readable yet (%s)",
		       snapshot_id, r.resp.error.code);
		rc = CP_EBUSY;
	} else if (rc) {
		rc = translate(p, &r, rc, snapshot_id);
	}
	ebs_req_dispose(&r);
	return rc;
}

int ebs_checksum(char out[64], const void *data, size_t len)
{
	unsigned char md[CP_SHA256_LEN];
	cp_auth_sha256(data, len, md);
	cp_buf b = CP_BUF_INIT;
	int rc = cp_base64_encode(&b, md, sizeof(md), 0);
	if (!rc)
		snprintf(out, 64, "%s", b.ptr);
	cp_buf_dispose(&b);
	return rc;
}

void ebs_limiter_init(ebs_limiter *l, cp_ctx *ctx, unsigned int max)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->max = l->limit = l->lowest = max ? max : 1;
	l->ctx = ctx;
}

void ebs_limiter_dispose(ebs_limiter *l)
{
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
}

void ebs_limiter_acquire(ebs_limiter *l)
{
	pthread_mutex_lock(&l->mu);
	while (l->in_flight >= l->limit)
		pthread_cond_wait(&l->cv, &l->mu);
	l->in_flight++;
	pthread_mutex_unlock(&l->mu);
}

void ebs_limiter_release(ebs_limiter *l, int throttled)
{
	pthread_mutex_lock(&l->mu);
	l->in_flight--;
	if (throttled) {
		l->throttled++;
		l->successes = 0;
		if (l->limit > 1) {
			l->limit /= 2;
			if (l->limit < l->lowest)
				l->lowest = l->limit;
			cp_log(l->ctx, CP_LOG_INFO,
			       "aws: EBS direct throttled; block requests in flight now %u",
			       l->limit);
		}
	} else if (++l->successes >= 2 * l->limit && l->limit < l->max) {
		l->successes = 0;
		l->limit++;
	}
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ebs_block_request(aws_provider *p, ebs_limiter *l, ebs_req *r, const char *snapshot_id)
{
	int64_t deadline = now_ms() + p->http.time_budget_ms;
	/* Few transport retries: throttling is better answered by fewer requests in flight. */
	r->http.max_attempts = 3;
	r->http.idempotency = CP_HTTP_IDEMPOTENT;
	for (unsigned int round = 0;; round++) {
		ebs_limiter_acquire(l);
		int rc = cp_http_pool_perform(p->pool, &r->http, &r->resp);
		int throttled =
			rc == CP_ETHROTTLED || (r->resp.attempts > 1 && (!rc || rc == CP_EIO));
		ebs_limiter_release(l, throttled);
		if (rc != CP_ETHROTTLED || now_ms() > deadline)
			return rc ? translate(p, r, rc, snapshot_id) : 0;
		cp_http_response_dispose(&r->resp);
		memset(&r->resp, 0, sizeof(r->resp));
		cp_buf_clear(&r->body);
		unsigned int ms = 100u << (round < 6 ? round : 6);
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}
