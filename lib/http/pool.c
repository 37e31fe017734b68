#include "http/pool.h"
#include "error.h"

#include <pthread.h>
#include <stdlib.h>

struct cp_http_pool {
	cp_ctx *ctx;
	cp_http_client_options opts;
	pthread_mutex_t mu; /* guards idle */
	cp_http_client **idle;
	size_t nidle, aidle;
};

int cp_http_pool_new(cp_http_pool **out, cp_ctx *ctx, const cp_http_client_options *opts)
{
	cp_http_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return cp_error_oom();
	p->ctx = ctx;
	if (opts)
		p->opts = *opts;
	else
		cp_http_client_options_from_ctx(&p->opts, ctx, CP_HTTP_FOR_ANY);
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return 0;
}

void cp_http_pool_free(cp_http_pool *pool)
{
	if (!pool)
		return;
	for (size_t i = 0; i < pool->nidle; i++)
		cp_http_client_free(pool->idle[i]);
	free(pool->idle);
	pthread_mutex_destroy(&pool->mu);
	free(pool);
}

int cp_http_pool_take(cp_http_pool *pool, cp_http_client **out)
{
	pthread_mutex_lock(&pool->mu);
	*out = pool->nidle ? pool->idle[--pool->nidle] : NULL;
	pthread_mutex_unlock(&pool->mu);
	if (*out)
		return 0;
	return cp_http_client_new(out, pool->ctx, &pool->opts);
}

void cp_http_pool_give(cp_http_pool *pool, cp_http_client *client)
{
	if (!client)
		return;
	pthread_mutex_lock(&pool->mu);
	if (pool->nidle == pool->aidle) {
		size_t n = pool->aidle ? 2 * pool->aidle : 8;
		cp_http_client **grown = realloc(pool->idle, n * sizeof(cp_http_client *));
		if (!grown) {
			/* Dropping a client only costs its warm connections. */
			pthread_mutex_unlock(&pool->mu);
			cp_http_client_free(client);
			return;
		}
		pool->idle = grown;
		pool->aidle = n;
	}
	pool->idle[pool->nidle++] = client;
	pthread_mutex_unlock(&pool->mu);
}

int cp_http_pool_perform(cp_http_pool *pool, cp_http_request *req, cp_http_response *resp)
{
	cp_http_client *c;
	int rc = cp_http_pool_take(pool, &c);
	if (rc)
		return rc;
	rc = cp_http_perform(c, req, resp);
	cp_http_pool_give(pool, c);
	return rc;
}
