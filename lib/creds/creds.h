/*
 * Credentials: a value (keys or a token) with an expiry, and a refresh
 * function that gets a new one. A signer asks for the current value before
 * every attempt; it is refreshed shortly before it expires.
 */
#ifndef CP_LIB_CREDS_CREDS_H
#define CP_LIB_CREDS_CREDS_H

#include "cloudprotect/common.h"

#include <pthread.h>
#include <stdint.h>

/* Refresh this long before the expiry, so no request carries a token about to lapse. */
#define CP_CREDS_REFRESH_MARGIN_S 300

typedef struct cp_creds_value {
	char *access_key;   /* AWS access key id, GCS HMAC access id, Azure account name */
	char *secret;	    /* AWS secret key, HMAC secret, Azure account key */
	char *token;	    /* session token, bearer token or SAS; NULL when none */
	int64_t expires_at; /* Unix seconds; 0 = does not expire */
} cp_creds_value;

typedef struct cp_creds cp_creds;

/** Get a new value into out; must set the error on failure. */
typedef int (*cp_creds_refresh_fn)(cp_creds *creds, void *state, cp_creds_value *out);

struct cp_creds {
	char *source; /* where they came from, for messages: "environment", "IMDSv2", ... */
	cp_ctx *ctx;
	pthread_mutex_t lock;
	cp_creds_value value;
	cp_creds_refresh_fn refresh; /* NULL: static */
	void *state;
	void (*free_state)(void *state);
	int64_t (*clock)(void); /* tests move time; NULL = time() */
};

/** Static credentials (copied). token and access_key may be NULL. */
int cp_creds_new_static(cp_creds **out, const char *source, const char *access_key,
			const char *secret, const char *token, int64_t expires_at);
/** Credentials fetched by refresh; the first fetch happens on first use. state is owned. */
int cp_creds_new_refreshing(cp_creds **out, cp_ctx *ctx, const char *source,
			    cp_creds_refresh_fn refresh, void *state, void (*free_state)(void *));
void cp_creds_free(cp_creds *creds);

/**
 * A cloud's metadata endpoint (EC2 IMDS, Azure IMDS, GCE metadata server)
 * as a source: options for its client, which fail fast where nothing
 * answers (off that cloud), and a refreshing source fetched once at once,
 * so that a chain can move on. Nothing answering (CP_EIO, CP_ETIMEOUT,
 * CP_ENOTFOUND) becomes CP_ENOTFOUND "absent (why)"; state is owned.
 */
struct cp_http_client_options;
void cp_creds_metadata_client_options(struct cp_http_client_options *o, cp_ctx *ctx);
int cp_creds_new_probed(cp_creds **out, cp_ctx *ctx, const char *source,
			cp_creds_refresh_fn refresh, void *state, void (*free_state)(void *),
			const char *absent);

/**
 * A copy of the current value, refreshed first when it expires within
 * CP_CREDS_REFRESH_MARGIN_S. Thread-safe. Free with cp_creds_value_dispose.
 */
int cp_creds_get(cp_creds *creds, cp_creds_value *out);
/** Drop the cached value so the next get refreshes (after an auth error). */
void cp_creds_invalidate(cp_creds *creds);

/** Parse an RFC 3339 / ISO 8601 UTC time ("2026-01-02T03:04:05Z", fractions and offsets allowed). */
int cp_creds_parse_time(const char *text, int64_t *out);

int cp_creds_value_copy(cp_creds_value *dst, const cp_creds_value *src);
/** Wipe and free. */
void cp_creds_value_dispose(cp_creds_value *v);

#endif
