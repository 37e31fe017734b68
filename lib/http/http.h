/*
 * The one HTTP transport every cloud backend uses: libcurl's multi interface
 * behind a small request/response description, with signing before every
 * attempt, retries with backoff inside a time budget, and cloud errors
 * mapped to cp_error.
 *
 * A client is not thread-safe: use one per thread (it owns the connection
 * cache). Backends describe requests; they never touch curl handles.
 */
#ifndef CP_LIB_HTTP_HTTP_H
#define CP_LIB_HTTP_HTTP_H

#include "cloudprotect/common.h"
#include "cloudprotect/sys/objstore.h"
#include "http/headers.h"

#include <stdint.h>

typedef struct cp_http_client cp_http_client;

/** Whom a client talks to, which decides the environment it honours. */
typedef enum {
	CP_HTTP_FOR_ANY = 0, /* any cloud endpoint */
	CP_HTTP_FOR_AWS,     /* AWS endpoints: $AWS_CA_BUNDLE too, as the AWS CLI does */
	/*
	 * An instance-local metadata service (IMDS, GCE metadata): never through a
	 * proxy, which would answer with its own machine's identity or not at all.
	 */
	CP_HTTP_FOR_METADATA,
} cp_http_audience;

typedef struct cp_http_client_options {
	unsigned int max_concurrency;	 /* transfers in flight at once; 0 = 16 */
	unsigned int max_attempts;	 /* per request, first try included; 0 = 5 */
	unsigned int base_delay_ms;	 /* backoff: the first retry waits up to this; 0 = 200 */
	unsigned int max_delay_ms;	 /* backoff cap; 0 = 20000 */
	unsigned int connect_timeout_ms; /* 0 = 10000 */
	/* A transfer slower than low_speed_bytes/s for low_speed_time_s is cut (and retried). */
	unsigned int low_speed_time_s;	 /* 0 = 30 */
	unsigned int low_speed_bytes;	 /* 0 = 1 */
	unsigned int attempt_timeout_ms; /* one attempt's limit; 0 = none beyond the budget */
	unsigned int time_budget_ms;	 /* one request, all retries included; 0 = 900000 */
	/* NULL: libcurl's environment (http_proxy, https_proxy, no_proxy). "" disables. */
	const char *proxy;
	const char *no_proxy;
	/*
	 * When both are NULL: $AWS_CA_BUNDLE (CP_HTTP_FOR_AWS only), else
	 * $CURL_CA_BUNDLE or $SSL_CERT_FILE with $SSL_CERT_DIR, else the system
	 * store. Setting either ignores the environment.
	 */
	const char *ca_file;
	const char *ca_path;
	/* Skip TLS verification. Only for local emulators; never the default. */
	int insecure;
	const char *user_agent; /* NULL = "libcloudprotect/VERSION" */
	cp_http_audience audience;
} cp_http_client_options;

/** Fill opts with defaults (all zero: the defaults above). */
void cp_http_client_options_init(cp_http_client_options *opts);

/**
 * Defaults plus the context's transport settings (proxy, CA, TLS checks,
 * budgets): every client made for a context starts here, so a setting on
 * the context reaches every backend. The strings point into ctx, which
 * outlives the clients. ctx may be NULL (plain defaults). Callers may then
 * override what their service needs (concurrency, short metadata timeouts).
 */
void cp_http_client_options_from_ctx(cp_http_client_options *opts, cp_ctx *ctx,
				     cp_http_audience audience);

/** ctx (for logging) may be NULL; opts NULL means cp_http_client_options_from_ctx(ctx). */
int cp_http_client_new(cp_http_client **out, cp_ctx *ctx, const cp_http_client_options *opts);
/** Free a client; transfers still queued are abandoned without callbacks. */
void cp_http_client_free(cp_http_client *client);
cp_ctx *cp_http_client_ctx(cp_http_client *client);

typedef enum {
	CP_HTTP_IDEMPOTENT_AUTO = 0, /* from the method: GET HEAD PUT DELETE OPTIONS are */
	CP_HTTP_IDEMPOTENT,	     /* safe to send twice */
	CP_HTTP_NOT_IDEMPOTENT,	     /* retried only when nothing reached the server or the
					cloud says it did not act (throttled) */
} cp_http_idempotency;

/** Read body bytes at offset (positional, so a retry simply starts over at 0). */
typedef int (*cp_http_read_cb)(void *payload, uint64_t offset, char *buf, size_t len, size_t *got);
/** Take response body bytes; a non-zero return aborts the request with that code. */
typedef int (*cp_http_write_cb)(void *payload, const char *data, size_t len);
/** Forget the bytes written so far because the request starts over (retry). */
typedef int (*cp_http_reset_cb)(void *payload);

typedef struct cp_http_request cp_http_request;
typedef struct cp_http_response cp_http_response;

/**
 * Called before every attempt, since signatures embed the time: add
 * authentication to headers (a fresh copy of req->headers each time).
 */
typedef int (*cp_http_sign_cb)(void *payload, const cp_http_request *req, cp_http_headers *headers);

/** What a cloud said about a failed request. */
typedef struct cp_http_cloud_error {
	char code[128];	      /* "SlowDown", "ServerBusy", "invalid_grant" */
	char message[512];    /* the cloud's message, never a secret */
	char request_id[160]; /* for support tickets */
	/* -1: decide from status and code; 0: do not retry; 1: the cloud did not act, retry */
	int retriable;
} cp_http_cloud_error;

/** Fill err from a failed response; fields not found stay empty. */
typedef void (*cp_http_error_parser)(const cp_http_response *resp, const char *body, size_t len,
				     cp_http_cloud_error *err);

struct cp_http_request {
	const char *method; /* "GET", "PUT", ... */
	const char *url;
	cp_http_headers headers;
	/* Body: a buffer, or a read callback with a known length, or none. */
	const void *body;
	size_t body_len;
	cp_http_read_cb body_read;
	void *body_payload;
	uint64_t body_size;
	/* Response body of a 2xx answer: into a buffer, or a write callback, or dropped. */
	cp_buf *response_body;
	cp_http_write_cb response_write;
	cp_http_reset_cb response_reset; /* NULL: no retry once bytes were written */
	void *response_payload;
	cp_http_idempotency idempotency;
	unsigned int timeout_ms;     /* this request's attempt timeout; 0 = the client's */
	unsigned int max_attempts;   /* 0 = the client's */
	unsigned int time_budget_ms; /* 0 = the client's */
	cp_http_sign_cb sign;
	void *sign_payload;
	cp_http_error_parser parse_error; /* NULL = cp_http_parse_error_any */
	/* Describes the call in errors and logs ("S3 PutObject"); NULL = method. */
	const char *what;
};

struct cp_http_response {
	long status;		 /* of the last attempt; 0 when nothing was answered */
	cp_http_headers headers; /* of the last attempt */
	unsigned int attempts;
	uint64_t body_bytes;	   /* bytes delivered to the sink by the last attempt */
	cp_http_cloud_error error; /* when status is not 2xx */
};

#define CP_HTTP_REQUEST_INIT                                                                       \
	{                                                                                          \
		0                                                                                  \
	}
#define CP_HTTP_RESPONSE_INIT                                                                      \
	{                                                                                          \
		0                                                                                  \
	}

void cp_http_response_dispose(cp_http_response *resp);
/** Free the request's headers (the rest belongs to the caller). */
void cp_http_request_dispose(cp_http_request *req);

/**
 * Send a request and wait for its final answer (retries included). Other
 * queued transfers progress meanwhile. Returns 0 for a 2xx answer; else a
 * CP_E* code with the error set: CP_ENOTFOUND (404), CP_EAUTH (401, 403),
 * CP_EEXISTS (409, 412), CP_EINVALID (other 4xx), CP_ETHROTTLED (still
 * throttled when retries ran out), CP_ETIMEOUT, CP_EIO.
 */
int cp_http_perform(cp_http_client *client, cp_http_request *req, cp_http_response *resp);

/** Called once per submitted request with the result cp_http_perform would return. */
typedef void (*cp_http_done_cb)(void *payload, int rc, cp_http_request *req,
				cp_http_response *resp);

/**
 * Queue a request; it starts when a slot is free inside cp_http_run or
 * cp_http_perform. req and resp must stay valid until done is called. While
 * done runs, cp_error_last() describes the failure; done may submit more.
 */
int cp_http_submit(cp_http_client *client, cp_http_request *req, cp_http_response *resp,
		   cp_http_done_cb done, void *payload);
/** Drive queued transfers until none is left. Returns 0 unless the engine itself fails. */
int cp_http_run(cp_http_client *client);

/* Error parsers for the clouds' formats. */
void cp_http_parse_error_xml(const cp_http_response *resp, const char *body, size_t len,
			     cp_http_cloud_error *err);
void cp_http_parse_error_json(const cp_http_response *resp, const char *body, size_t len,
			      cp_http_cloud_error *err);
/** Tries the request id headers, x-ms-error-code, XML and JSON bodies. */
void cp_http_parse_error_any(const cp_http_response *resp, const char *body, size_t len,
			     cp_http_cloud_error *err);

#endif
