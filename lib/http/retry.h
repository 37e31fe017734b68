/* When to retry a failed HTTP attempt, and how long to wait first. */
#ifndef CP_LIB_HTTP_RETRY_H
#define CP_LIB_HTTP_RETRY_H

#include "http/headers.h"

#include <stdint.h>

/** 1 for codes with which a cloud says "too fast, nothing done, try later". */
int cp_http_code_is_throttle(const char *code);

/**
 * Full jitter: a uniform delay in [0, min(cap, base * 2^retry)) where retry
 * counts from 0. rng is a caller-owned state word.
 */
uint64_t cp_http_backoff_ms(unsigned int retry, unsigned int base_ms, unsigned int cap_ms,
			    uint64_t *rng);

/**
 * The server's requested wait from Retry-After (seconds or HTTP date),
 * retry-after-ms or x-ms-retry-after-ms; -1 when none. now is Unix seconds.
 */
int64_t cp_http_retry_after_ms(const cp_http_headers *headers, int64_t now);

typedef struct cp_http_attempt_outcome {
	long status;	       /* 0: no HTTP answer (transport failure) */
	int transport_timeout; /* the attempt timed out */
	int request_sent;      /* bytes of the request reached the wire */
	int idempotent;
	int cloud_retriable; /* -1 unknown, 0 no, 1 yes (from the error parser) */
	const char *code;    /* the cloud's error code or "" */
} cp_http_attempt_outcome;

/** 1 when the attempt may be repeated without risking a double effect. */
int cp_http_should_retry(const cp_http_attempt_outcome *o);

/** 1 when the outcome is throttling (so giving up means CP_ETHROTTLED). */
int cp_http_outcome_is_throttle(const cp_http_attempt_outcome *o);

#endif
