/* The runner with a fake executor, and the state store it records into. */
#include "error.h"
#include "policy_fixture.h"
#include "state_internal.h"

#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A fake cloud: fails everything for the disk named "bad", counts overlap. */
typedef struct fake_exec {
	pthread_mutex_t lock;
	int in_flight, max_in_flight;
	unsigned int next;
	int snapshots, backups, expired, forgotten, prunes;
	char forgotten_ids[16][32];
} fake_exec;

static void enter(fake_exec *f)
{
	pthread_mutex_lock(&f->lock);
	if (++f->in_flight > f->max_in_flight)
		f->max_in_flight = f->in_flight;
	pthread_mutex_unlock(&f->lock);
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

static void leave(fake_exec *f)
{
	pthread_mutex_lock(&f->lock);
	f->in_flight--;
	pthread_mutex_unlock(&f->lock);
}

static int fx_snapshot(void *state, const char *rid, const cp_tag *tags, size_t ntags,
		       cp_policy_snapshot_made_cb cb, void *payload)
{
	fake_exec *f = state;
	enter(f);
	int rc = 0;
	ck_assert_uint_eq(ntags, 1);
	ck_assert_str_eq(tags[0].key, CP_POLICY_TAG);
	if (!strcmp(rid, "bad")) {
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER, "disk bad is on fire");
	} else {
		char id[32];
		pthread_mutex_lock(&f->lock);
		snprintf(id, sizeof(id), "new-%u", ++f->next);
		f->snapshots++;
		pthread_mutex_unlock(&f->lock);
		cp_snapshot s = {id,   rid,   NULL,
				 NULL, "r1",  100,
				 512,  0,     CP_SNAPSHOT_COMPLETED,
				 tags, ntags, CP_RESOURCE_DISK};
		rc = cb(&s, payload);
	}
	leave(f);
	return rc;
}

static int fx_backup(void *state, const cp_snapshot *snap, const cp_tag *tags, size_t ntags,
		     char **backup_id, uint64_t *bytes)
{
	fake_exec *f = state;
	enter(f);
	pthread_mutex_lock(&f->lock);
	f->backups++;
	pthread_mutex_unlock(&f->lock);
	char id[64];
	snprintf(id, sizeof(id), "bk-of-%s", snap->id);
	*backup_id = strdup(id);
	*bytes = 1000;
	leave(f);
	return 0;
}

static int fx_group(void *state, const char *snapshot_id, cp_policy_snapshot_made_cb cb,
		    void *payload)
{
	cp_snapshot s = {snapshot_id, "d-x", NULL,
			 NULL,	      "r1",  100,
			 512,	      0,     CP_SNAPSHOT_COMPLETED,
			 NULL,	      0,     CP_RESOURCE_DISK};
	return cb(&s, payload);
}

static int fx_copy(void *state, const char *backup_id)
{
	return 0;
}

static int fx_expire(void *state, const char *snapshot_id)
{
	fake_exec *f = state;
	pthread_mutex_lock(&f->lock);
	f->expired++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fx_forget(void *state, int archive, const char *const *ids)
{
	fake_exec *f = state;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; ids[i]; i++)
		snprintf(f->forgotten_ids[f->forgotten++ % 16], 32, "%s", ids[i]);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fx_prune(void *state, int archive)
{
	fake_exec *f = state;
	f->prunes++;
	return 0;
}

static cp_policy_executor fake_executor(fake_exec *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	cp_policy_executor ex = {CP_POLICY_EXECUTOR_VERSION,
				 fx_snapshot,
				 fx_backup,
				 fx_group,
				 fx_copy,
				 fx_expire,
				 fx_forget,
				 fx_prune,
				 f};
	return ex;
}

static const char policy_json[] =
	"{\"name\":\"p\",\"selection\":{\"all\":true},\"snapshots\":{\"schedule\":{\"every\":"
	"\"day\",\"at\":\"01:00\"},\"retention\":{\"last\":1}},\"backups\":{\"repository\":"
	"\"file:///r\",\"schedule\":{\"every\":\"day\",\"at\":\"01:00\"},\"retention\":{"
	"\"last\":1}},\"workers\":{\"concurrency\":3}}";

#define NDISKS 6
static cp_resource disks[NDISKS] = {
	{CP_RESOURCE_DISK, "d-1", NULL, "r1", NULL, NULL, 1, NULL, 0},
	{CP_RESOURCE_DISK, "d-2", NULL, "r1", NULL, NULL, 1, NULL, 0},
	{CP_RESOURCE_DISK, "bad", NULL, "r1", NULL, NULL, 1, NULL, 0},
	{CP_RESOURCE_DISK, "d-4", NULL, "r1", NULL, NULL, 1, NULL, 0},
	{CP_RESOURCE_DISK, "d-5", NULL, "r1", NULL, NULL, 1, NULL, 0},
	{CP_RESOURCE_DISK, "d-6", NULL, "r1", NULL, NULL, 1, NULL, 0},
};

/* Each disk has an old snapshot and two old backups, so the plan also expires and forgets. */
static fake_world *old_world(void)
{
	fake_world *w = fw_new("p");
	for (int i = 0; i < NDISKS; i++) {
		fw_snapshot(w, disks[i].id, NULL, NULL, utc(2026, 1, 1, 1, 0));
		fw_snapshot(w, disks[i].id, NULL, NULL, utc(2026, 1, 2, 1, 0));
		fw_backup(w, disks[i].id, NULL, utc(2026, 1, 1, 1, 0));
		fw_backup(w, disks[i].id, NULL, utc(2026, 1, 2, 1, 0));
	}
	return w;
}

typedef struct seen {
	int failed_bad, skipped_bad, ok;
} seen;

static void on_action(const cp_action *a, const cp_run_record *r, void *payload)
{
	seen *s = payload;
	if (a->kind == CP_ACTION_PRUNE)
		return;
	if (!strcmp(a->resource_id, "bad")) {
		s->failed_bad += r->result == CP_RUN_FAILED;
		s->skipped_bad += r->result == CP_RUN_SKIPPED;
		if (a->kind == CP_ACTION_SNAPSHOT)
			ck_assert_ptr_nonnull(strstr(r->error, "on fire"));
	} else {
		s->ok += r->result == CP_RUN_OK;
	}
}

static int count_record(const cp_run_record *r, void *payload)
{
	(*(int *)payload)++;
	return 0;
}

START_TEST(one_failure_does_not_stop_the_others_nor_cost_a_restore_point)
{
	char *dir = tu_tempdir("runner");
	cp_state *state = NULL;
	tu_ok(cp_state_open(&state, dir));
	cp_policy *p = fw_policy(policy_json);
	fake_world *w = old_world();
	cp_plan *plan = NULL;
	int64_t now = utc(2026, 1, 3, 1, 5);
	tu_ok(fw_plan(w, p, disks, NDISKS, now, &plan));
	/* Per disk: snapshot, backup, forget the older backup, expire the older snapshot. */
	ck_assert_uint_eq(cp_plan_count(plan), NDISKS * 4 + 1);

	fake_exec f;
	cp_policy_executor ex = fake_executor(&f);
	seen s = {0};
	cp_policy_run_options o = CP_POLICY_RUN_OPTIONS_INIT;
	o.executor = &ex;
	o.state = state;
	o.now = now;
	o.cb = on_action;
	o.payload = &s;
	cp_policy_run_summary sum;
	ck_assert_int_eq(cp_policy_execute(p, plan, &o, &sum), CP_ERROR);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "2 of 25 actions failed"));
	ck_assert_int_eq(s.failed_bad, 2);  /* its snapshot, then its backup */
	ck_assert_int_eq(s.skipped_bad, 2); /* its forget and expiry */
	ck_assert_int_eq(s.ok, (NDISKS - 1) * 4);
	ck_assert_uint_eq(sum.ok, (NDISKS - 1) * 4 + 1); /* and the prune */
	ck_assert_uint_eq(sum.failed, 2);
	ck_assert_uint_eq(sum.skipped, 2);
	ck_assert_uint_eq(sum.workloads, NDISKS);
	ck_assert_uint_eq(sum.bytes, (NDISKS - 1) * 1000);
	ck_assert_int_eq(f.snapshots, NDISKS - 1);
	ck_assert_int_eq(f.expired, NDISKS - 1);
	ck_assert_int_eq(f.forgotten, NDISKS - 1);
	ck_assert_int_eq(f.prunes, 1);
	ck_assert_int_le(f.max_in_flight, 3);
	ck_assert_int_ge(f.max_in_flight, 2);

	/* Every action is on record, and the failed attempt is not retried at once. */
	int records = 0;
	tu_ok(cp_state_runs(state, "p", count_record, &records));
	ck_assert_int_eq(records, NDISKS * 4 + 1);
	records = 0;
	tu_ok(cp_state_runs(state, "another", count_record, &records));
	ck_assert_int_eq(records, 0);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
	cp_state_free(state);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(concurrency_one_runs_one_at_a_time)
{
	cp_policy *p = fw_policy(policy_json);
	fake_world *w = old_world();
	cp_plan *plan = NULL;
	tu_ok(fw_plan(w, p, disks, NDISKS, utc(2026, 1, 3, 1, 5), &plan));
	fake_exec f;
	cp_policy_executor ex = fake_executor(&f);
	cp_policy_run_options o = CP_POLICY_RUN_OPTIONS_INIT;
	o.executor = &ex;
	o.concurrency = 1;
	cp_policy_run_summary sum;
	ck_assert_int_eq(cp_policy_execute(p, plan, &o, &sum), CP_ERROR);
	ck_assert_int_eq(f.max_in_flight, 1);
	/* Dry run: nothing is called. */
	o.dry_run = 1;
	fake_exec g;
	ex = fake_executor(&g);
	tu_ok(cp_policy_execute(p, plan, &o, &sum));
	ck_assert_int_eq(g.snapshots + g.backups + g.expired + g.forgotten, 0);
	ck_assert_uint_eq(sum.skipped, cp_plan_count(plan));
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
}
END_TEST

START_TEST(records_round_trip_and_a_second_run_is_locked_out)
{
	char *dir = tu_tempdir("state");
	cp_state *state = NULL;
	tu_ok(cp_state_open(&state, dir));
	cp_run_record r = {"run-1",
			   "p",
			   CP_ACTION_BACKUP,
			   "d-1",
			   "snap-1",
			   "bk-1",
			   100,
			   160,
			   90,
			   12345,
			   CP_RUN_FAILED,
			   CP_EIO,
			   "quote \" and newline \n in it"};
	tu_ok(cp_state_append(state, &r, 1));
	int n = 0;
	tu_ok(cp_state_runs(state, NULL, count_record, &n));
	ck_assert_int_eq(n, 1);

	int fd = -1;
	tu_ok(cp_state_lock_policy(state, "p", &fd));
	cp_policy *p = fw_policy(policy_json);
	cp_plan *plan = NULL;
	fake_world *w = old_world();
	tu_ok(fw_plan(w, p, disks, NDISKS, utc(2026, 1, 3, 1, 5), &plan));
	fake_exec f;
	cp_policy_executor ex = fake_executor(&f);
	cp_policy_run_options o = CP_POLICY_RUN_OPTIONS_INIT;
	o.executor = &ex;
	o.state = state;
	ck_assert_int_eq(cp_policy_execute(p, plan, &o, NULL), CP_ELOCKED);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "another run of policy p"));
	ck_assert_int_eq(f.snapshots, 0);
	close(fd);
	cp_plan_free(plan);
	fw_free(w);
	cp_policy_free(p);
	cp_state_free(state);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static int check_record(const cp_run_record *r, void *payload)
{
	int *n = payload;
	ck_assert_str_eq(r->policy, "p");
	ck_assert_int_eq(r->action, CP_ACTION_SNAPSHOT);
	ck_assert_uint_eq(r->bytes, 7);
	(*n)++;
	return 0;
}

START_TEST(concurrent_writers_lose_nothing)
{
	char *dir = tu_tempdir("state");
	enum {
		WRITERS = 4,
		EACH = 25
	};
	for (int i = 0; i < WRITERS; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			cp_state *st = NULL;
			if (cp_state_open(&st, dir))
				_exit(1);
			for (int j = 0; j < EACH; j++) {
				char id[32];
				snprintf(id, sizeof(id), "w%d-%d", i, j);
				cp_run_record r = {
					id, "p", CP_ACTION_SNAPSHOT, "d-1", NULL, NULL, 1, 2,
					0,  7,	 CP_RUN_OK,	     0,	    NULL};
				if (cp_state_append(st, &r, 1))
					_exit(2);
			}
			cp_state_free(st);
			_exit(0);
		}
	}
	for (int i = 0; i < WRITERS; i++) {
		int status = 0;
		wait(&status);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	cp_state *state = NULL;
	tu_ok(cp_state_open(&state, dir));
	int n = 0;
	tu_ok(cp_state_runs(state, "p", check_record, &n));
	ck_assert_int_eq(n, WRITERS * EACH);
	cp_state_free(state);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy_runner");
	TCase *tc = tcase_create("runner");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, one_failure_does_not_stop_the_others_nor_cost_a_restore_point);
	tcase_add_test(tc, concurrency_one_runs_one_at_a_time);
	tcase_add_test(tc, records_round_trip_and_a_second_run_is_locked_out);
	tcase_add_test(tc, concurrent_writers_lose_nothing);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
