/* Local workers and cp_worker_run/cp_worker_reap over them. */
#include "error.h"
#include "local_fixture.h"
#include "registry.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static cp_worker_options job(const char *script)
{
	cp_worker_options o = CP_WORKER_OPTIONS_INIT;
	o.image = "local-image";
	o.size_class = "small";
	o.user_data = script;
	o.job = "unit";
	return o;
}

typedef struct {
	char id[64];
	char phases[16][16];
	size_t calls;
	size_t cancel_at; /* 0: never */
} progress_log;

static int log_progress(const cp_progress *p, void *payload)
{
	progress_log *l = payload;
	if (p->item)
		snprintf(l->id, sizeof(l->id), "%s", p->item);
	if (l->calls < 16)
		snprintf(l->phases[l->calls], sizeof(l->phases[0]), "%s", p->phase);
	l->calls++;
	return l->cancel_at && l->calls >= l->cancel_at;
}

static int saw_phase(const progress_log *l, const char *phase)
{
	for (size_t i = 0; i < l->calls && i < 16; i++)
		if (!strcmp(l->phases[i], phase))
			return 1;
	return 0;
}

static cp_worker_run_options run_opts(progress_log *l, unsigned int timeout)
{
	cp_worker_run_options r = CP_WORKER_RUN_OPTIONS_INIT;
	r.poll_ms = 20;
	r.timeout_seconds = timeout;
	r.progress_cb = log_progress;
	r.progress_payload = l;
	return r;
}

static int take_state(const cp_worker_info *w, void *payload)
{
	*(int *)payload = (int)w->state;
	return 0;
}

static int state_of(cp_provider *p, const char *id)
{
	int state = -1;
	tu_ok(cp_worker_get(p, id, take_state, &state));
	return state;
}

static int wait_state(cp_provider *p, const char *id, int want)
{
	for (int i = 0; i < 500; i++) {
		int s = state_of(p, id);
		if (s == want)
			return s;
		usleep(10000);
	}
	return state_of(p, id);
}

/* Gone, or a zombie nobody reaped yet (it runs no more). */
static int pid_gone(pid_t pid)
{
	for (int i = 0; i < 300; i++) {
		if (kill(pid, 0) && errno == ESRCH)
			return 1;
		char path[64], text[512] = "";
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (f) {
			size_t n = fread(text, 1, sizeof(text) - 1, f);
			text[n] = 0;
			fclose(f);
			char *paren = strrchr(text, ')');
			if (paren && paren[1] == ' ' && paren[2] == 'Z')
				return 1;
		}
		usleep(10000);
	}
	return 0;
}

static char *worker_file(lf_cloud *c, const char *id, const char *name)
{
	char *path = NULL;
	ck_assert_int_ge(asprintf(&path, "%s/workers/%s/%s", c->root, id, name), 0);
	return path;
}

static int count_worker(const cp_worker_info *w, void *payload)
{
	(void)w;
	(*(int *)payload)++;
	return 0;
}

START_TEST(job_that_succeeds_is_terminated_after)
{
	lf_cloud c;
	lf_open(&c, NULL);
	cp_worker_options o = job("echo hello from $CLOUDPROTECT_WORKER_ID; exit 0");
	progress_log l = {0};
	cp_worker_run_options r = run_opts(&l, 20);
	tu_ok(cp_worker_run(c.p, &o, &r));
	ck_assert_msg(!strncmp(l.id, "w-", 2), "progress named no worker: '%s'", l.id);
	ck_assert(saw_phase(&l, "launch"));
	ck_assert(saw_phase(&l, "terminate"));
	ck_assert_int_eq(state_of(c.p, l.id), CP_WORKER_TERMINATED);

	/* The job really ran, with its id in the environment. */
	char *out = worker_file(&c, l.id, "output");
	uint64_t size = 0;
	unsigned char *text = lf_read_file(out, &size);
	char want[96];
	snprintf(want, sizeof(want), "hello from %s\n", l.id);
	ck_assert_uint_eq(size, strlen(want));
	ck_assert(!memcmp(text, want, size));
	free(text);
	free(out);

	int n = 0;
	tu_ok(cp_worker_list(c.p, count_worker, &n));
	ck_assert_int_eq(n, 0);
	lf_close(&c);
}
END_TEST

START_TEST(job_that_fails_fails_and_is_terminated)
{
	lf_cloud c;
	lf_open(&c, NULL);
	cp_worker_options o = job("echo about to fail >&2; exit 3");
	progress_log l = {0};
	cp_worker_run_options r = run_opts(&l, 20);
	ck_assert_int_eq(cp_worker_run(c.p, &o, &r), CP_ERROR);
	ck_assert_msg(lf_error_mentions("failed") && lf_error_mentions(l.id), "'%s'",
		      tu_last_message());
	ck_assert_int_eq(state_of(c.p, l.id), CP_WORKER_TERMINATED);

	/* Without run: the state says failed until someone terminates it, from any process. */
	char *id = NULL;
	tu_ok(cp_worker_launch(&id, c.p, &o));
	cp_provider *other = lf_open_again(&c);
	ck_assert_int_eq(wait_state(other, id, CP_WORKER_FAILED), CP_WORKER_FAILED);
	int n = 0;
	tu_ok(cp_worker_list(other, count_worker, &n));
	ck_assert_int_eq(n, 1);
	tu_ok(cp_worker_terminate(other, id));
	tu_ok(cp_worker_terminate(other, id)); /* twice is fine */
	ck_assert_int_eq(state_of(c.p, id), CP_WORKER_TERMINATED);
	cp_provider_free(other);
	free(id);
	lf_close(&c);
}
END_TEST

START_TEST(job_that_runs_too_long_is_killed_with_its_group)
{
	lf_cloud c;
	lf_open(&c, NULL);
	char *pidfile = NULL, *script = NULL;
	ck_assert_int_ge(asprintf(&pidfile, "%s/pids", c.dir), 0);
	/* A child in the background as well: terminate must reach the whole group. */
	ck_assert_int_ge(asprintf(&script,
				  "sleep 30 & echo $! > %s.tmp; echo $$ >> %s.tmp; "
				  "mv %s.tmp %s; wait",
				  pidfile, pidfile, pidfile, pidfile),
			 0);
	cp_worker_options o = job(script);
	progress_log l = {0};
	cp_worker_run_options r = run_opts(&l, 1);
	time_t t0 = time(NULL);
	ck_assert_int_eq(cp_worker_run(c.p, &o, &r), CP_ETIMEOUT);
	ck_assert_msg(time(NULL) - t0 < 6, "timeout took %lld s", (long long)(time(NULL) - t0));
	ck_assert_msg(lf_error_mentions("1 s"), "'%s'", tu_last_message());
	ck_assert(saw_phase(&l, "running"));
	ck_assert_int_eq(state_of(c.p, l.id), CP_WORKER_TERMINATED);

	uint64_t size = 0;
	unsigned char *text = lf_read_file(pidfile, &size);
	char *end = NULL;
	long bg = strtol((char *)text, &end, 10);
	long sh = strtol(end, NULL, 10);
	ck_assert_msg(bg > 0 && sh > 0, "pid file '%s'", (char *)text);
	ck_assert_msg(pid_gone((pid_t)bg), "background sleep %ld survived", bg);
	ck_assert_msg(pid_gone((pid_t)sh), "job shell %ld survived", sh);
	free(text);
	free(pidfile);
	free(script);
	lf_close(&c);
}
END_TEST

START_TEST(cancel_from_progress_terminates)
{
	lf_cloud c;
	lf_open(&c, NULL);
	cp_worker_options o = job("sleep 30");
	progress_log l = {0};
	l.cancel_at = 3;
	cp_worker_run_options r = run_opts(&l, 60);
	time_t t0 = time(NULL);
	ck_assert_int_eq(cp_worker_run(c.p, &o, &r), CP_ECANCELLED);
	ck_assert(time(NULL) - t0 < 5);
	ck_assert_int_eq(l.calls, 3);
	ck_assert_int_eq(state_of(c.p, l.id), CP_WORKER_TERMINATED);
	lf_close(&c);
}
END_TEST

/* The local provider with a worker_get that stops answering after a few calls. */
static int gets_left;

static int flaky_get(void *state, const char *id, cp_worker_cb cb, void *payload)
{
	if (gets_left-- <= 0)
		return cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				    "injected: the provider stopped answering");
	return cp_local_provider_ops.worker_get(state, id, cb, payload);
}

static cp_provider_ops flaky_ops;

START_TEST(error_while_watching_still_terminates)
{
	lf_cloud c;
	lf_open(&c, NULL);
	flaky_ops = cp_local_provider_ops;
	flaky_ops.name = "flaky-local";
	flaky_ops.worker_get = flaky_get;
	int rc = cp_provider_register(&flaky_ops);
	ck_assert(rc == 0 || rc == CP_EEXISTS);
	char *cfg = NULL;
	ck_assert_int_ge(asprintf(&cfg, "{\"root\": \"%s\"}", c.root), 0);
	cp_provider *flaky = NULL;
	tu_ok(cp_provider_open(&flaky, c.ctx, "flaky-local", cfg));
	gets_left = 2;
	cp_worker_options o = job("sleep 30");
	progress_log l = {0};
	cp_worker_run_options r = run_opts(&l, 60);
	ck_assert_int_eq(cp_worker_run(flaky, &o, &r), CP_EIO);
	ck_assert_msg(lf_error_mentions("injected") && lf_error_mentions(l.id), "'%s'",
		      tu_last_message());
	ck_assert_int_eq(state_of(c.p, l.id), CP_WORKER_TERMINATED);
	cp_provider_free(flaky);
	free(cfg);
	lf_close(&c);
}
END_TEST

START_TEST(reap_terminates_only_expired_workers)
{
	lf_cloud c;
	lf_open(&c, NULL);
	cp_worker_options o = job("sleep 30");
	char *old = NULL, *young = NULL, *gone = NULL;
	o.ttl_seconds = 100;
	tu_ok(cp_worker_launch(&old, c.p, &o));
	tu_ok(cp_worker_launch(&gone, c.p, &o));
	tu_ok(cp_worker_terminate(c.p, gone));
	o.ttl_seconds = 100000;
	tu_ok(cp_worker_launch(&young, c.p, &o));

	size_t count = 99;
	tu_ok(cp_worker_reap(c.p, (int64_t)time(NULL) + 50, &count));
	ck_assert_uint_eq(count, 0);
	tu_ok(cp_worker_reap(c.p, (int64_t)time(NULL) + 1000, &count));
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(state_of(c.p, old), CP_WORKER_TERMINATED);
	ck_assert_int_eq(state_of(c.p, young), CP_WORKER_RUNNING);
	tu_ok(cp_worker_reap(c.p, (int64_t)time(NULL) + 1000, &count));
	ck_assert_uint_eq(count, 0);
	tu_ok(cp_worker_terminate(c.p, young));
	free(old);
	free(young);
	free(gone);
	lf_close(&c);
}
END_TEST

START_TEST(unknown_and_malformed_ids)
{
	lf_cloud c;
	lf_open(&c, NULL);
	ck_assert_int_eq(cp_worker_get(c.p, "w-0123456789abcdef", take_state, NULL), CP_ENOTFOUND);
	ck_assert_msg(lf_error_mentions("w-0123456789abcdef") && lf_error_mentions("worker list"),
		      "'%s'", tu_last_message());
	ck_assert_int_eq(cp_worker_get(c.p, "../etc", take_state, NULL), CP_EINVALID);
	tu_ok(cp_worker_terminate(c.p, "w-0123456789abcdef"));
	int n = 0;
	tu_ok(cp_worker_list(c.p, count_worker, &n)); /* no workers directory yet */
	ck_assert_int_eq(n, 0);

	cp_worker_options o = job("exit 0");
	o.image = NULL;
	char *id = NULL;
	ck_assert_int_eq(cp_worker_launch(&id, c.p, &o), CP_EINVALID);
	ck_assert_int_eq(cp_worker_run(c.p, &o, NULL), CP_EINVALID);
	ck_assert(lf_error_mentions("image"));
	lf_close(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("local workers");
	TCase *tc = tcase_create("workers");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, job_that_succeeds_is_terminated_after);
	tcase_add_test(tc, job_that_fails_fails_and_is_terminated);
	tcase_add_test(tc, job_that_runs_too_long_is_killed_with_its_group);
	tcase_add_test(tc, cancel_from_progress_terminates);
	tcase_add_test(tc, error_while_watching_still_terminates);
	tcase_add_test(tc, reap_terminates_only_expired_workers);
	tcase_add_test(tc, unknown_and_malformed_ids);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
