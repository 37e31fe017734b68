/*
 * Executing a plan: one work unit per workload, run by up to
 * `concurrency` threads; a unit's actions run in plan order. A failed
 * snapshot or backup makes the unit skip its destructive actions, so a
 * failure never costs a restore point. Prunes run last, once.
 */
#include "runner.h"
#include "ctx.h"
#include "error.h"
#include "plan.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct made_snapshot {
	cp_snapshot snap;
	char *id, *resource_id, *instance_id, *group_id, *region;
} made_snapshot;

typedef struct made_list {
	made_snapshot *items;
	size_t count, cap;
	int failed;
} made_list;

typedef struct unit {
	const char *resource_id; /* NULL for the final prunes */
	size_t *actions;	 /* indexes into the plan */
	size_t count;
} unit;

typedef struct runner {
	const cp_policy *policy;
	const cp_plan *plan;
	const cp_policy_run_options *opts;
	const cp_policy_executor *ex;
	cp_policy_run_summary *summary;
	unit *units;
	size_t nunits, next_unit;
	int forgot[2];	      /* a forget succeeded in the primary / archive */
	int first_error;      /* code of the first failure, to return */
	pthread_mutex_t lock; /* next_unit, summary, state appends, callbacks */
	pthread_t caller;     /* keeps its last error for the caller to read */
} runner;

static int64_t now_seconds(void)
{
	return (int64_t)time(NULL);
}

static int collect_snapshot(const cp_snapshot *s, void *payload)
{
	made_list *l = payload;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		made_snapshot *grown = realloc(l->items, cap * sizeof(*grown));
		if (!grown) {
			l->failed = 1;
			return CP_ENOMEM;
		}
		l->items = grown;
		l->cap = cap;
	}
	made_snapshot *m = &l->items[l->count];
	memset(m, 0, sizeof(*m));
	m->snap = *s;
	m->snap.tags = NULL;
	m->snap.ntags = 0;
	m->id = s->id ? strdup(s->id) : NULL;
	m->resource_id = s->resource_id ? strdup(s->resource_id) : NULL;
	m->instance_id = s->instance_id ? strdup(s->instance_id) : NULL;
	m->group_id = s->group_id ? strdup(s->group_id) : NULL;
	m->region = s->region ? strdup(s->region) : NULL;
	l->count++;
	if (!m->id || (s->resource_id && !m->resource_id)) {
		l->failed = 1;
		return CP_ENOMEM;
	}
	return 0;
}

static void made_clear(made_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		made_snapshot *m = &l->items[i];
		free(m->id);
		free(m->resource_id);
		free(m->instance_id);
		free(m->group_id);
		free(m->region);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Point the copies' public fields at their owned strings (after the array stops growing). */
static void made_fix(made_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		made_snapshot *m = &l->items[i];
		m->snap.id = m->id;
		m->snap.resource_id = m->resource_id;
		m->snap.instance_id = m->instance_id;
		m->snap.group_id = m->group_id;
		m->snap.region = m->region;
	}
}

/* "a,b,c" of up to a few ids, for records. */
static void join_ids(char *buf, size_t len, const char *const *ids, size_t n)
{
	size_t pos = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && pos < len; i++) {
		int w = snprintf(buf + pos, len - pos, "%s%s", i ? "," : "", ids[i]);
		pos += w > 0 ? (size_t)w : 0;
	}
}

static void finish(runner *r, const cp_action *a, cp_run_record *rec, int rc, const char *skip)
{
	char msg[512];
	rec->end = now_seconds();
	if (skip) {
		rec->result = CP_RUN_SKIPPED;
		rec->error = skip;
	} else if (rc) {
		const cp_error *e = cp_error_last();
		snprintf(msg, sizeof(msg), "%s", e ? e->message : cp_error_code_name(rc));
		rec->result = CP_RUN_FAILED;
		rec->error_code = rc;
		rec->error = msg;
	} else {
		rec->result = CP_RUN_OK;
	}
	pthread_mutex_lock(&r->lock);
	if (rec->result == CP_RUN_OK)
		r->summary->ok++;
	else if (rec->result == CP_RUN_FAILED)
		r->summary->failed++;
	else
		r->summary->skipped++;
	r->summary->bytes += rec->bytes;
	if (rc && !skip && !r->first_error)
		r->first_error = rc;
	if (!rc && !skip && a->kind == CP_ACTION_FORGET_BACKUP)
		r->forgot[a->archive ? 1 : 0] = 1;
	if (r->opts->state && !r->opts->dry_run) {
		cp_error_saved saved;
		cp_error_save(&saved);
		/* A record that cannot be written must not turn a done action into a failure. */
		if (cp_state_append(r->opts->state, rec, 1))
			r->summary->unrecorded++;
		cp_error_restore(&saved);
	}
	if (r->opts->cb)
		r->opts->cb(a, rec, r->opts->payload);
	pthread_mutex_unlock(&r->lock);
	if (rec->error == msg)
		rec->error = NULL; /* msg ends here */
}

static int do_snapshot(runner *r, const cp_action *a, made_list *made, cp_run_record *rec,
		       char *ids, size_t idslen)
{
	const cp_tag tag = {CP_POLICY_TAG, r->policy->name};
	made_clear(made);
	int rc = r->ex->snapshot(r->ex->state, a->resource_id, &tag, 1, collect_snapshot, made);
	if (!rc && made->failed)
		rc = cp_error_oom();
	if (!rc && !made->count)
		rc = cp_error_set(CP_ERROR, CP_ERRCLASS_POLICY,
				  "snapshot of %s made no snapshot; check that the resource has "
				  "disks",
				  a->resource_id);
	made_fix(made);
	const char *list[8];
	size_t n = 0;
	for (size_t i = 0; i < made->count && n < 8; i++)
		list[n++] = made->items[i].id;
	join_ids(ids, idslen, list, n);
	rec->snapshot_id = ids;
	return rc;
}

static int do_backup(runner *r, const cp_action *a, made_list *made, cp_run_record *rec, char *ids,
		     size_t idslen)
{
	const cp_tag tag = {CP_POLICY_TAG, r->policy->name};
	made_list group = {0};
	made_list *source = made;
	int rc = 0;
	if (a->snapshot_id) {
		rc = r->ex->snapshot_group(r->ex->state, a->snapshot_id, collect_snapshot, &group);
		if (!rc && group.failed)
			rc = cp_error_oom();
		made_fix(&group);
		source = &group;
		rec->snapshot_id = a->snapshot_id;
	}
	if (!rc && !source->count)
		rc = cp_error_set(CP_ERROR, CP_ERRCLASS_POLICY,
				  "no snapshot of %s to back up: the snapshot step failed or made "
				  "none",
				  a->resource_id);
	const char *list[8];
	size_t n = 0;
	char *made_ids[8] = {NULL};
	for (size_t i = 0; i < source->count && !rc; i++) {
		char *id = NULL;
		uint64_t bytes = 0;
		rc = r->ex->backup(r->ex->state, &source->items[i].snap, &tag, 1, &id, &bytes);
		rec->bytes += bytes;
		if (!rc && id && n < 8) {
			made_ids[n] = id;
			list[n] = id;
			n++;
		} else {
			cp_free(id);
		}
	}
	join_ids(ids, idslen, list, n);
	rec->backup_id = n ? ids : NULL;
	for (size_t i = 0; i < n; i++)
		cp_free(made_ids[i]);
	made_clear(&group);
	return rc;
}

static void run_unit(runner *r, const unit *u)
{
	made_list made = {0};
	int core_failed = 0;
	for (size_t i = 0; i < u->count; i++) {
		const cp_action *a = cp_plan_action(r->plan, u->actions[i]);
		char snap_ids[512], backup_ids[600];
		cp_run_record rec;
		memset(&rec, 0, sizeof(rec));
		rec.run_id = r->summary->run_id;
		rec.policy = r->policy->name;
		rec.action = a->kind;
		rec.resource_id = a->resource_id;
		rec.snapshot_id = a->snapshot_id;
		rec.backup_id = a->backup_id;
		rec.scheduled = a->scheduled;
		rec.start = now_seconds();
		if (r->opts->dry_run) {
			finish(r, a, &rec, 0, "dry run");
			continue;
		}
		int destructive = a->kind == CP_ACTION_EXPIRE_SNAPSHOT ||
				  a->kind == CP_ACTION_FORGET_BACKUP || a->kind == CP_ACTION_PRUNE;
		if (destructive && core_failed) {
			finish(r, a, &rec, 0,
			       "skipped: a snapshot or backup of this workload failed in this run, "
			       "so nothing of it is removed");
			continue;
		}
		int rc = 0;
		switch (a->kind) {
		case CP_ACTION_SNAPSHOT:
			rc = do_snapshot(r, a, &made, &rec, snap_ids, sizeof(snap_ids));
			break;
		case CP_ACTION_BACKUP:
			rc = do_backup(r, a, &made, &rec, backup_ids, sizeof(backup_ids));
			break;
		case CP_ACTION_ARCHIVE_COPY:
			rc = r->ex->archive_copy(r->ex->state, a->backup_id);
			break;
		case CP_ACTION_EXPIRE_SNAPSHOT:
			rc = r->ex->expire_snapshot(r->ex->state, a->snapshot_id);
			break;
		case CP_ACTION_FORGET_BACKUP: {
			const char *ids[2] = {a->backup_id, NULL};
			rc = r->ex->forget(r->ex->state, a->archive, ids);
			break;
		}
		case CP_ACTION_PRUNE:
			if (!r->forgot[a->archive ? 1 : 0]) {
				finish(r, a, &rec, 0, "skipped: no forget succeeded in this run");
				continue;
			}
			rc = r->ex->prune ? r->ex->prune(r->ex->state, a->archive) : 0;
			break;
		}
		if (rc && (a->kind == CP_ACTION_SNAPSHOT || a->kind == CP_ACTION_BACKUP))
			core_failed = 1;
		finish(r, a, &rec, rc, NULL);
	}
	made_clear(&made);
}

static void *worker(void *arg)
{
	runner *r = arg;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		size_t i = r->next_unit < r->nunits ? r->next_unit++ : r->nunits;
		pthread_mutex_unlock(&r->lock);
		if (i == r->nunits) {
			/* The thread's last error lives in thread-local storage nobody frees later. */
			if (!pthread_equal(pthread_self(), r->caller))
				cp_error_clear();
			return NULL;
		}
		run_unit(r, &r->units[i]);
	}
}

static void free_units(unit *units, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(units[i].actions);
	free(units);
}

/* Group the plan's actions by workload, keeping plan order; prunes go to a final unit. */
static int make_units(const cp_plan *plan, unit **out, size_t *nout, unit *prunes)
{
	size_t n = cp_plan_count(plan);
	unit *units = calloc(n + 1, sizeof(*units));
	size_t nunits = 0;
	memset(prunes, 0, sizeof(*prunes));
	prunes->actions = calloc(n + 1, sizeof(size_t));
	if (!units || !prunes->actions) {
		free(units);
		free(prunes->actions);
		return cp_error_oom();
	}
	for (size_t i = 0; i < n; i++) {
		const cp_action *a = cp_plan_action(plan, i);
		if (a->kind == CP_ACTION_PRUNE || !a->resource_id) {
			prunes->actions[prunes->count++] = i;
			continue;
		}
		size_t u = 0;
		while (u < nunits && strcmp(units[u].resource_id, a->resource_id))
			u++;
		if (u == nunits) {
			units[u].resource_id = a->resource_id;
			units[u].actions = calloc(n, sizeof(size_t));
			if (!units[u].actions) {
				free_units(units, nunits);
				free(prunes->actions);
				return cp_error_oom();
			}
			nunits++;
		}
		units[u].actions[units[u].count++] = i;
	}
	*out = units;
	*nout = nunits;
	return 0;
}

static int check_executor(const cp_policy_executor *ex)
{
	if (!ex || ex->version != CP_POLICY_EXECUTOR_VERSION || !ex->snapshot || !ex->backup ||
	    !ex->snapshot_group || !ex->archive_copy || !ex->expire_snapshot || !ex->forget)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "the policy executor is incomplete or of another version (want "
				    "version %u with every operation but prune set)",
				    CP_POLICY_EXECUTOR_VERSION);
	return 0;
}

void cp_run_id_make(char *buf, size_t len, int64_t now)
{
	static unsigned int counter;
	struct tm tm;
	time_t t = (time_t)now;
	char stamp[32];
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "%s-%x-%x", stamp, (unsigned)getpid(),
		 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
}

int cp_runner_execute(const cp_policy *policy, const cp_plan *plan,
		      const cp_policy_run_options *opts, const cp_policy_executor *ex,
		      cp_policy_run_summary *summary)
{
	int rc = check_executor(ex);
	if (rc)
		return rc;
	runner r;
	memset(&r, 0, sizeof(r));
	r.policy = policy;
	r.plan = plan;
	r.opts = opts;
	r.ex = ex;
	r.summary = summary;
	unit prunes;
	if ((rc = make_units(plan, &r.units, &r.nunits, &prunes)))
		return rc;
	pthread_mutex_init(&r.lock, NULL);
	r.caller = pthread_self();
	summary->workloads = r.nunits;
	unsigned int want = opts->concurrency ? opts->concurrency : cp_policy_concurrency(policy);
	size_t nthreads = want < r.nunits ? want : r.nunits;
	pthread_t *threads = calloc(nthreads + 1, sizeof(*threads));
	size_t started = 0;
	if (threads) {
		for (; started + 1 < nthreads; started++)
			if (pthread_create(&threads[started], NULL, worker, &r))
				break;
	}
	worker(&r); /* the caller's thread works too, so a thread that failed to start costs nothing */
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	run_unit(&r, &prunes);
	free(prunes.actions);
	free_units(r.units, r.nunits);
	pthread_mutex_destroy(&r.lock);
	summary->end = now_seconds();
	if (summary->failed)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_POLICY,
				    "policy %s: %zu of %zu actions failed; see the run records of "
				    "run %s",
				    policy->name, summary->failed,
				    summary->ok + summary->failed + summary->skipped,
				    summary->run_id);
	return 0;
}
