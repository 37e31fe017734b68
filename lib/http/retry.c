#include "http/retry.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cp_http_code_is_throttle(const char *code)
{
	/* AWS (botocore's throttling list), Azure and GCP spellings. */
	static const char *const codes[] = {
		"SlowDown",
		"Throttling",
		"ThrottlingException",
		"ThrottledException",
		"RequestThrottledException",
		"TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"TransactionInProgressException",
		"RequestLimitExceeded",
		"BandwidthLimitExceeded",
		"LimitExceededException",
		"RequestThrottled",
		"EC2ThrottledException",
		"PriorRequestNotComplete",
		"ServerBusy",
		"TooManyRequests",
		"rateLimitExceeded",
		"userRateLimitExceeded",
		"RESOURCE_EXHAUSTED",
	};
	if (!code || !*code)
		return 0;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

static uint64_t next_random(uint64_t *s)
{
	/* xorshift64*: jitter needs spread, not secrecy. */
	uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

uint64_t cp_http_backoff_ms(unsigned int retry, unsigned int base_ms, unsigned int cap_ms,
			    uint64_t *rng)
{
	uint64_t ceiling = base_ms;
	for (unsigned int i = 0; i < retry && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	if (!ceiling)
		return 0;
	return next_random(rng) % ceiling;
}

static int64_t parse_ms_header(const char *v)
{
	char *end;
	long long n = strtoll(v, &end, 10);
	if (end == v || n < 0)
		return -1;
	return n;
}

int64_t cp_http_retry_after_ms(const cp_http_headers *headers, int64_t now)
{
	const char *v = cp_http_headers_get(headers, "x-ms-retry-after-ms");
	if (!v)
		v = cp_http_headers_get(headers, "retry-after-ms");
	if (v)
		return parse_ms_header(v);
	v = cp_http_headers_get(headers, "retry-after");
	if (!v)
		return -1;
	char *end;
	long long secs = strtoll(v, &end, 10);
	while (*end == ' ')
		end++;
	if (end != v && !*end)
		return secs < 0 ? -1 : secs * 1000;
	time_t when = curl_getdate(v, NULL);
	if (when < 0)
		return -1;
	return when > now ? ((int64_t)when - now) * 1000 : 0;
}

int cp_http_outcome_is_throttle(const cp_http_attempt_outcome *o)
{
	return o->status == 429 || cp_http_code_is_throttle(o->code);
}

int cp_http_should_retry(const cp_http_attempt_outcome *o)
{
	if (o->status == 0) {
		/* Nothing reached the server, so nothing can happen twice. */
		if (!o->request_sent)
			return 1;
		return o->idempotent;
	}
	if (o->cloud_retriable == 0)
		return 0;
	if (o->cloud_retriable == 1 || cp_http_outcome_is_throttle(o))
		return 1;
	switch (o->status) {
	case 408:
	case 500:
	case 502:
	case 503:
	case 504: return o->idempotent;
	default: return 0;
	}
}
