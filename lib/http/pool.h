/*
 * A pool of HTTP clients for backends that serve many threads at once: a
 * client is not thread-safe, so each thread takes one for a request and
 * gives it back, keeping its connections warm for the next taker.
 */
#ifndef CP_LIB_HTTP_POOL_H
#define CP_LIB_HTTP_POOL_H

#include "http/http.h"

typedef struct cp_http_pool cp_http_pool;

/**
 * opts is copied (its strings must outlive the pool); ctx and opts may be
 * NULL (opts NULL: cp_http_client_options_from_ctx(ctx)).
 */
int cp_http_pool_new(cp_http_pool **out, cp_ctx *ctx, const cp_http_client_options *opts);
void cp_http_pool_free(cp_http_pool *pool);

/** An idle client, or a new one when none is idle. */
int cp_http_pool_take(cp_http_pool *pool, cp_http_client **out);
/** Return a client taken from this pool. */
void cp_http_pool_give(cp_http_pool *pool, cp_http_client *client);

/** Take a client, perform req on it, give it back. */
int cp_http_pool_perform(cp_http_pool *pool, cp_http_request *req, cp_http_response *resp);

#endif
