/* cp_policy_run: gather inventory and history, plan, execute, record. */
#include "error.h"
#include "runner.h"
#include "state_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Everything gathered, deep-copied: callbacks only lend their strings. */
typedef struct gathered {
	cp_resource *resources;
	size_t nresources, capresources;
	cp_snapshot *snapshots;
	size_t nsnapshots, capsnapshots;
	cp_run_record *runs;
	size_t nruns, capruns;
	char **owned;
	size_t nowned, capowned;
	int failed;
} gathered;

static void *grow(void *array, size_t *cap, size_t count, size_t size, int *failed)
{
	if (count < *cap)
		return array;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *grown = realloc(array, ncap * size);
	if (!grown) {
		*failed = 1;
		return NULL;
	}
	*cap = ncap;
	return grown;
}

static const char *keep(gathered *g, const char *s)
{
	if (!s)
		return NULL;
	char **owned = grow(g->owned, &g->capowned, g->nowned, sizeof(char *), &g->failed);
	if (!owned)
		return NULL;
	g->owned = owned;
	char *copy = strdup(s);
	if (!copy) {
		g->failed = 1;
		return NULL;
	}
	g->owned[g->nowned++] = copy;
	return copy;
}

static const cp_tag *keep_tags(gathered *g, const cp_tag *tags, size_t n)
{
	if (!n)
		return NULL;
	char **owned = grow(g->owned, &g->capowned, g->nowned, sizeof(char *), &g->failed);
	if (!owned)
		return NULL;
	g->owned = owned;
	cp_tag *copy = calloc(n, sizeof(*copy));
	if (!copy) {
		g->failed = 1;
		return NULL;
	}
	g->owned[g->nowned++] = (char *)copy;
	for (size_t i = 0; i < n; i++) {
		copy[i].key = keep(g, tags[i].key);
		copy[i].value = keep(g, tags[i].value);
	}
	return copy;
}

static int got_resource(const cp_resource *r, void *payload)
{
	gathered *g = payload;
	cp_resource *a =
		grow(g->resources, &g->capresources, g->nresources, sizeof(*a), &g->failed);
	if (!a)
		return CP_ENOMEM;
	g->resources = a;
	cp_resource *c = &a[g->nresources++];
	*c = *r;
	c->id = keep(g, r->id);
	c->name = keep(g, r->name);
	c->region = keep(g, r->region);
	c->account = keep(g, r->account);
	c->parent_id = keep(g, r->parent_id);
	c->tags = keep_tags(g, r->tags, r->ntags);
	return g->failed ? CP_ENOMEM : 0;
}

static int got_snapshot(const cp_snapshot *s, void *payload)
{
	gathered *g = payload;
	cp_snapshot *a =
		grow(g->snapshots, &g->capsnapshots, g->nsnapshots, sizeof(*a), &g->failed);
	if (!a)
		return CP_ENOMEM;
	g->snapshots = a;
	cp_snapshot *c = &a[g->nsnapshots++];
	*c = *s;
	c->id = keep(g, s->id);
	c->resource_id = keep(g, s->resource_id);
	c->instance_id = keep(g, s->instance_id);
	c->group_id = keep(g, s->group_id);
	c->region = keep(g, s->region);
	c->tags = keep_tags(g, s->tags, s->ntags);
	return g->failed ? CP_ENOMEM : 0;
}

static int got_run(const cp_run_record *r, void *payload)
{
	gathered *g = payload;
	cp_run_record *a = grow(g->runs, &g->capruns, g->nruns, sizeof(*a), &g->failed);
	if (!a)
		return CP_ENOMEM;
	g->runs = a;
	cp_run_record *c = &a[g->nruns++];
	*c = *r;
	c->run_id = keep(g, r->run_id);
	c->policy = keep(g, r->policy);
	c->resource_id = keep(g, r->resource_id);
	c->snapshot_id = keep(g, r->snapshot_id);
	c->backup_id = keep(g, r->backup_id);
	c->error = keep(g, r->error);
	return g->failed ? CP_ENOMEM : 0;
}

static void gathered_free(gathered *g)
{
	for (size_t i = 0; i < g->nowned; i++)
		free(g->owned[i]);
	free(g->owned);
	free(g->resources);
	free(g->snapshots);
	free(g->runs);
}

static int check_options(const cp_policy *policy, const cp_policy_run_options *opts)
{
	if (!opts || opts->version != CP_POLICY_RUN_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_policy_run_options missing or of version %u (this library "
				    "knows %u); start from CP_POLICY_RUN_OPTIONS_INIT",
				    opts ? opts->version : 0, CP_POLICY_RUN_OPTIONS_VERSION);
	/* A dry run (a plan) may lack a repository not made yet: it then holds no backups. */
	if (!opts->executor && !opts->dry_run && policy->has_backups && !opts->repository)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_POLICY,
				    "policy %s backs up to %s; open that repository and pass it "
				    "in the run options",
				    policy->name, policy->repository);
	if (!opts->executor && !opts->dry_run && policy->has_archive && !opts->archive)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_POLICY,
				    "policy %s archives to %s; open that repository and pass it "
				    "in the run options",
				    policy->name, policy->archive_repository);
	return 0;
}

static void start_summary(cp_policy_run_summary *summary, int64_t now)
{
	memset(summary, 0, sizeof(*summary));
	summary->start = now;
	cp_run_id_make(summary->run_id, sizeof(summary->run_id), now);
}

static int execute(const cp_policy *policy, const cp_plan *plan, const cp_policy_run_options *opts,
		   cp_policy_run_summary *summary)
{
	cp_policy_executor *builtin = NULL;
	const cp_policy_executor *ex = opts->executor;
	int rc = 0;
	if (!ex) {
		rc = cp_builtin_executor_new(&builtin, opts);
		ex = builtin;
	}
	if (!rc)
		rc = cp_runner_execute(policy, plan, opts, ex, summary);
	cp_builtin_executor_free(builtin);
	return rc;
}

int cp_policy_execute(const cp_policy *policy, const cp_plan *plan,
		      const cp_policy_run_options *opts, cp_policy_run_summary *summary)
{
	cp_policy_run_summary local;
	if (!summary)
		summary = &local;
	int rc = check_options(policy, opts);
	if (rc)
		return rc;
	start_summary(summary, opts->now ? opts->now : (int64_t)time(NULL));
	int lock_fd = -1;
	if (opts->state && !opts->dry_run &&
	    (rc = cp_state_lock_policy(opts->state, policy->name, &lock_fd)))
		return rc;
	rc = execute(policy, plan, opts, summary);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

int cp_policy_run(const cp_policy *policy, const cp_policy_run_options *opts,
		  cp_policy_run_summary *summary)
{
	cp_policy_run_summary local;
	if (!summary)
		summary = &local;
	int rc = check_options(policy, opts);
	if (rc)
		return rc;
	if (!opts->provider)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_POLICY,
				    "running a policy needs a provider to list the workloads; pass "
				    "one in cp_policy_run_options.provider");
	int64_t now = opts->now ? opts->now : (int64_t)time(NULL);
	start_summary(summary, now);
	/* Hold the policy lock from gathering to the end, so two runs never plan the same work. */
	int lock_fd = -1;
	if (opts->state && !opts->dry_run &&
	    (rc = cp_state_lock_policy(opts->state, policy->name, &lock_fd)))
		return rc;
	gathered g;
	memset(&g, 0, sizeof(g));
	cp_backup_list backups = {0}, archived = {0};
	cp_plan *plan = NULL;
	int have_backups = 0, have_archived = 0;
	rc = cp_provider_inventory(opts->provider, NULL, got_resource, &g);
	if (rc)
		cp_error_prefix(rc, "listing the workloads: ");
	if (!rc && (rc = cp_snapshot_list(opts->provider, NULL, got_snapshot, &g)))
		cp_error_prefix(rc, "listing the snapshots: ");
	if (!rc && opts->repository) {
		if ((rc = cp_backup_list_get(&backups, opts->repository)))
			cp_error_prefix(rc, "listing the backups: ");
		have_backups = !rc;
	}
	if (!rc && opts->archive) {
		if ((rc = cp_backup_list_get(&archived, opts->archive)))
			cp_error_prefix(rc, "listing the archived backups: ");
		have_archived = !rc;
	}
	if (!rc && opts->state && (rc = cp_state_runs(opts->state, policy->name, got_run, &g)))
		cp_error_prefix(rc, "reading the run history: ");
	if (!rc && g.failed)
		rc = cp_error_oom();
	if (!rc) {
		cp_plan_history h = CP_PLAN_HISTORY_INIT;
		h.snapshots = g.snapshots;
		h.nsnapshots = g.nsnapshots;
		h.backups = backups.items;
		h.nbackups = backups.count;
		h.archived = archived.items;
		h.narchived = archived.count;
		h.runs = g.runs;
		h.nruns = g.nruns;
		rc = cp_policy_plan(&plan, policy, g.resources, g.nresources, &h, now);
	}
	if (!rc)
		rc = execute(policy, plan, opts, summary);
	cp_plan_free(plan);
	if (have_backups)
		cp_backup_list_dispose(&backups);
	if (have_archived)
		cp_backup_list_dispose(&archived);
	gathered_free(&g);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}
