/*
 * Running a job on a worker and reaping forgotten workers, over the
 * provider's worker operations. A worker costs money while it lives, so
 * cp_worker_run terminates it on every way out, including the ways that
 * fail.
 */
#include "cloudprotect/sys/provider.h"
#include "ctx.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_POLL_MS	    5000u
#define DEFAULT_TTL_SECONDS 3600u
/*
 * A cloud may not know an instance for a moment after launching it
 * (EC2's DescribeInstances is eventually consistent); this many "not
 * found" answers in a row are tolerated before the worker was first seen.
 */
#define UNSEEN_POLLS_TOLERATED 5

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts))
		;
}

static int take_state(const cp_worker_info *w, void *payload)
{
	*(cp_worker_state *)payload = w->state;
	return 0;
}

typedef struct run {
	cp_provider *provider;
	const cp_worker_run_options *opts;
	const char *id;
	int64_t started_ms;
	unsigned int timeout_s;
} run;

static int report(run *r, const char *phase)
{
	uint64_t elapsed = (uint64_t)((now_ms() - r->started_ms) / 1000);
	cp_progress pr = {phase, elapsed, r->timeout_s, 0, r->id};
	return cp_progress_report(r->opts->progress_cb, r->opts->progress_payload, &pr);
}

/* Poll until the job ends; 0 when it finished, else the error that ends the run. */
static int wait_for_job(run *r, const char *job)
{
	unsigned int poll_ms = r->opts->poll_ms ? r->opts->poll_ms : DEFAULT_POLL_MS;
	int64_t deadline = r->started_ms + (int64_t)r->timeout_s * 1000;
	int seen = 0, unseen = 0;
	for (;;) {
		cp_worker_state state = CP_WORKER_STARTING;
		int rc = cp_worker_get(r->provider, r->id, take_state, &state);
		if (rc == CP_ENOTFOUND && !seen && ++unseen <= UNSEEN_POLLS_TOLERATED)
			rc = 0;
		else if (!rc)
			seen = 1;
		if (rc)
			return cp_error_prefix(rc, "watching worker %s: ", r->id);
		switch (state) {
		case CP_WORKER_FINISHED: return 0;
		case CP_WORKER_FAILED:
			return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
					    "the job '%s' on worker %s failed; read the worker's "
					    "console output or logs for why",
					    job, r->id);
		case CP_WORKER_TERMINATED:
			return cp_error_set(
				CP_ERROR, CP_ERRCLASS_PROVIDER,
				"worker %s running job '%s' was terminated by someone "
				"else (cloudprotect worker reap, or the console) before "
				"the job ended",
				r->id, job);
		case CP_WORKER_STARTING:
		case CP_WORKER_RUNNING: break;
		}
		rc = report(r, cp_worker_state_name(state));
		if (rc)
			return rc;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return cp_error_set(
				CP_ETIMEOUT, CP_ERRCLASS_PROVIDER,
				"the job '%s' on worker %s did not end within %u s; the "
				"worker was terminated; raise the timeout if the job "
				"needs longer",
				job, r->id, r->timeout_s);
		sleep_ms(left < poll_ms ? left : poll_ms);
	}
}

int cp_worker_run(cp_provider *provider, const cp_worker_options *opts,
		  const cp_worker_run_options *run_opts)
{
	cp_worker_run_options defaults = CP_WORKER_RUN_OPTIONS_INIT;
	if (!run_opts)
		run_opts = &defaults;
	if (!opts)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no worker options given; set at least image and size_class");
	run r = {provider, run_opts, NULL, now_ms(), 0};
	r.timeout_s = run_opts->timeout_seconds ? run_opts->timeout_seconds
		      : opts->ttl_seconds	? opts->ttl_seconds
						: DEFAULT_TTL_SECONDS;
	const char *job = opts->job ? opts->job : "(unnamed)";
	char *id = NULL;
	int rc = cp_worker_launch(&id, provider, opts);
	if (rc)
		return cp_error_prefix(rc, "launching a worker for job '%s': ", job);
	r.id = id;
	cp_log(cp_provider_ctx(provider), CP_LOG_INFO, "worker %s launched for job '%s'", id, job);
	rc = report(&r, "launch");
	if (!rc)
		rc = wait_for_job(&r, job);

	/* Terminate on every path; a failure here must not hide the job's own error. */
	cp_error_saved saved;
	if (rc)
		cp_error_save(&saved);
	int trc = cp_worker_terminate(provider, id);
	if (trc)
		cp_log(cp_provider_ctx(provider), CP_LOG_ERROR,
		       "worker %s could not be terminated: %s; terminate it with `cloudprotect "
		       "worker terminate %s`",
		       id, cp_error_last() ? cp_error_last()->message : "unknown error", id);
	if (rc) {
		cp_error_restore(&saved);
	} else if (trc) {
		rc = cp_error_prefix(
			trc, "the job '%s' finished but worker %s is still there: ", job, id);
	} else {
		/* The work is done and the worker gone: a late cancel changes nothing. */
		(void)report(&r, "terminate");
		cp_log(cp_provider_ctx(provider), CP_LOG_INFO, "worker %s finished job '%s'", id,
		       job);
	}
	free(id);
	return rc;
}

typedef struct expired {
	int64_t now;
	char **ids;
	size_t count, cap;
	int rc;
} expired;

static int collect_expired(const cp_worker_info *w, void *payload)
{
	expired *e = payload;
	if (!w->expires || w->expires >= e->now || w->state == CP_WORKER_TERMINATED)
		return 0;
	if (e->count == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 8;
		char **ids = realloc(e->ids, cap * sizeof(*ids));
		if (!ids)
			return e->rc = cp_error_oom();
		e->ids = ids;
		e->cap = cap;
	}
	if (!(e->ids[e->count] = strdup(w->id)))
		return e->rc = cp_error_oom();
	e->count++;
	return 0;
}

int cp_worker_reap(cp_provider *provider, int64_t now, size_t *count_out)
{
	if (count_out)
		*count_out = 0;
	expired e = {now, NULL, 0, 0, 0};
	/* Collect first: terminating while the provider lists could skip or repeat workers. */
	int rc = cp_worker_list(provider, collect_expired, &e);
	if (e.rc)
		rc = e.rc;
	size_t reaped = 0;
	int first = 0;
	cp_error_saved saved;
	for (size_t i = 0; !rc && i < e.count; i++) {
		int trc = cp_worker_terminate(provider, e.ids[i]);
		if (!trc) {
			cp_log(cp_provider_ctx(provider), CP_LOG_INFO,
			       "reaped worker %s (past its ttl)", e.ids[i]);
			reaped++;
		} else if (!first) {
			/* Keep going: one stuck worker must not keep the others alive. */
			first = cp_error_prefix(trc, "reaping worker %s: ", e.ids[i]);
			cp_error_save(&saved);
		}
	}
	if (first) {
		cp_error_restore(&saved);
		rc = first;
	}
	for (size_t i = 0; i < e.count; i++)
		free(e.ids[i]);
	free(e.ids);
	if (count_out)
		*count_out = reaped;
	return rc;
}
