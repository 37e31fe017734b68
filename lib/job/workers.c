#include "job/workers.h"

#include "cancel.h"
#include "ctx.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define MAX_WORKERS 64

typedef struct {
	cp_worker_fn fn;
	void *arg;
	cp_failure *failure;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	unsigned int running;
} pool;

typedef struct {
	pool *pool;
	unsigned int index;
} worker;

static void *worker_main(void *p)
{
	worker *w = p;
	pool *pl = w->pool;
	/* A cancel or another worker's failure also ends this one's transfers in flight. */
	cp_cancel_watch(&pl->failure->rc);
	int rc = pl->fn(pl->arg, w->index);
	cp_cancel_watch(NULL);
	if (rc)
		cp_failure_set(pl->failure, rc);
	cp_error_clear(); /* thread-local errors are not freed at thread exit */
	pthread_mutex_lock(&pl->mu);
	pl->running--;
	pthread_cond_signal(&pl->cond);
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

unsigned int cp_workers_clamp(unsigned int n)
{
	return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : n;
}

unsigned int cp_workers_for_fetching(cp_ctx *ctx, unsigned int wanted)
{
	return cp_workers_clamp(wanted ? wanted : 2 * cp_ctx_threads(ctx, 0));
}

int cp_workers_run(unsigned int n, cp_worker_fn fn, cp_tick_fn tick, void *arg, cp_failure *failure)
{
	n = cp_workers_clamp(n);
	pool pl = {fn, arg, failure, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pl.cond, &ca);
	pthread_condattr_destroy(&ca);
	worker ws[MAX_WORKERS];
	pthread_t th[MAX_WORKERS];
	unsigned int started = 0;
	for (; started < n; started++) {
		ws[started].pool = &pl;
		ws[started].index = started;
		pthread_mutex_lock(&pl.mu);
		pl.running++;
		pthread_mutex_unlock(&pl.mu);
		if (pthread_create(&th[started], NULL, worker_main, &ws[started])) {
			pthread_mutex_lock(&pl.mu);
			pl.running--;
			pthread_mutex_unlock(&pl.mu);
			if (!started)
				cp_failure_set(failure,
					       cp_error_set(CP_ERROR, CP_ERRCLASS_OS,
							    "cannot start worker threads"));
			break;
		}
	}
	pthread_mutex_lock(&pl.mu);
	while (pl.running) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += CP_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		int w = pthread_cond_timedwait(&pl.cond, &pl.mu, &until);
		if (w == ETIMEDOUT && tick && !cp_failure_get(failure)) {
			pthread_mutex_unlock(&pl.mu);
			int rc = tick(arg);
			if (rc)
				cp_failure_set(failure, rc);
			pthread_mutex_lock(&pl.mu);
		}
	}
	pthread_mutex_unlock(&pl.mu);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (tick && !cp_failure_get(failure)) {
		int rc = tick(arg);
		if (rc)
			cp_failure_set(failure, rc);
	}
	pthread_mutex_destroy(&pl.mu);
	pthread_cond_destroy(&pl.cond);
	return cp_failure_raise(failure);
}
