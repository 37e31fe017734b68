/*
 * The built-in executor: policy actions as provider and repository calls.
 * Handles are not shared between threads unless documented, so each
 * handle is used under its own mutex; workloads still overlap where they
 * use different handles (one snapshotting while another backs up).
 */
#include "error.h"
#include "runner.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct builtin {
	cp_policy_executor ops;
	cp_provider *provider;
	cp_repository *repo, *archive;
	pthread_mutex_t provider_lock, repo_lock, archive_lock;
} builtin;

static int need(const void *handle, const char *what)
{
	if (handle)
		return 0;
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_POLICY,
			    "the policy needs %s, but none was opened; pass it in the run options",
			    what);
}

static int ex_snapshot(void *state, const char *resource_id, const cp_tag *tags, size_t ntags,
		       cp_policy_snapshot_made_cb cb, void *cb_payload)
{
	builtin *b = state;
	cp_snapshot_create_options o = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
	o.description = "taken by a cloudprotect policy";
	o.tags = tags;
	o.ntags = ntags;
	o.wait = 1;
	pthread_mutex_lock(&b->provider_lock);
	int rc = cp_snapshot_create(b->provider, resource_id, &o, cb, cb_payload);
	pthread_mutex_unlock(&b->provider_lock);
	return rc;
}

static int ex_backup(void *state, const cp_snapshot *snap, const cp_tag *tags, size_t ntags,
		     char **backup_id, uint64_t *bytes_read)
{
	builtin *b = state;
	int rc = need(b->repo, "a backup repository");
	if (rc)
		return rc;
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	cp_backup_stats stats;
	memset(&stats, 0, sizeof(stats));
	o.source = snap->resource_id;
	o.provider = cp_provider_name(b->provider);
	o.snapshot_id = snap->id;
	o.instance_id = snap->instance_id;
	o.group_id = snap->group_id;
	o.tags = tags;
	o.ntags = ntags;
	char *parent = NULL;
	pthread_mutex_lock(&b->repo_lock);
	/* Incremental to the newest backup of the same disk, when there is one. */
	rc = cp_backup_resolve(&parent, b->repo, "latest", snap->resource_id);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		rc = 0;
	}
	o.parent_id = parent;
	if (!rc) {
		pthread_mutex_lock(&b->provider_lock);
		rc = cp_backup_snapshot(backup_id, &stats, b->repo, b->provider, snap->id, &o);
		pthread_mutex_unlock(&b->provider_lock);
	}
	pthread_mutex_unlock(&b->repo_lock);
	cp_free(parent);
	*bytes_read = stats.read_bytes;
	return rc;
}

typedef struct group_find {
	const char *group_id;
	cp_policy_snapshot_made_cb cb;
	void *payload;
	char *instance; /* where to list the group's other snapshots */
	char *group;
	int found;
} group_find;

static int found_one(const cp_snapshot *s, void *payload)
{
	group_find *g = payload;
	g->found = 1;
	if (!s->group_id)
		return g->cb(s, g->payload);
	g->group = strdup(s->group_id);
	g->instance = strdup(s->instance_id ? s->instance_id : s->resource_id);
	return g->group && g->instance ? 0 : CP_ENOMEM;
}

static int group_member(const cp_snapshot *s, void *payload)
{
	group_find *g = payload;
	if (s->group_id && !strcmp(s->group_id, g->group))
		return g->cb(s, g->payload);
	return 0;
}

static int ex_snapshot_group(void *state, const char *snapshot_id, cp_policy_snapshot_made_cb cb,
			     void *cb_payload)
{
	builtin *b = state;
	group_find g = {NULL, cb, cb_payload, NULL, NULL, 0};
	pthread_mutex_lock(&b->provider_lock);
	int rc = cp_snapshot_get(b->provider, snapshot_id, found_one, &g);
	if (!rc && g.group)
		rc = cp_snapshot_list(b->provider, g.instance, group_member, &g);
	pthread_mutex_unlock(&b->provider_lock);
	free(g.group);
	free(g.instance);
	return rc;
}

static int ex_archive_copy(void *state, const char *backup_id)
{
	builtin *b = state;
	int rc = need(b->archive, "an archive repository");
	if (rc)
		return rc;
	const char *ids[2] = {backup_id, NULL};
	pthread_mutex_lock(&b->repo_lock);
	pthread_mutex_lock(&b->archive_lock);
	rc = cp_backup_copy(b->archive, b->repo, ids, NULL, NULL);
	pthread_mutex_unlock(&b->archive_lock);
	pthread_mutex_unlock(&b->repo_lock);
	return rc;
}

static int ex_expire(void *state, const char *snapshot_id)
{
	builtin *b = state;
	pthread_mutex_lock(&b->provider_lock);
	int rc = cp_snapshot_delete(b->provider, snapshot_id);
	pthread_mutex_unlock(&b->provider_lock);
	return rc;
}

static int ex_forget(void *state, int archive, const char *const *ids)
{
	builtin *b = state;
	cp_repository *repo = archive ? b->archive : b->repo;
	pthread_mutex_t *lock = archive ? &b->archive_lock : &b->repo_lock;
	int rc = need(repo, archive ? "an archive repository" : "a backup repository");
	if (rc)
		return rc;
	cp_forget_options o = CP_FORGET_OPTIONS_INIT;
	pthread_mutex_lock(lock);
	rc = cp_forget(repo, &o, ids, NULL, NULL);
	pthread_mutex_unlock(lock);
	return rc;
}

static int ex_prune(void *state, int archive)
{
	builtin *b = state;
	cp_repository *repo = archive ? b->archive : b->repo;
	pthread_mutex_t *lock = archive ? &b->archive_lock : &b->repo_lock;
	int rc = need(repo, archive ? "an archive repository" : "a backup repository");
	if (rc)
		return rc;
	cp_prune_options o = CP_PRUNE_OPTIONS_INIT;
	cp_prune_stats stats;
	pthread_mutex_lock(lock);
	rc = cp_prune(repo, &o, &stats);
	pthread_mutex_unlock(lock);
	return rc;
}

int cp_builtin_executor_new(cp_policy_executor **out, const cp_policy_run_options *opts)
{
	*out = NULL;
	if (!opts->provider)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_POLICY,
				    "running a policy needs a provider; open one and pass it in "
				    "cp_policy_run_options.provider");
	builtin *b = calloc(1, sizeof(*b));
	if (!b)
		return cp_error_oom();
	b->provider = opts->provider;
	b->repo = opts->repository;
	b->archive = opts->archive;
	pthread_mutex_init(&b->provider_lock, NULL);
	pthread_mutex_init(&b->repo_lock, NULL);
	pthread_mutex_init(&b->archive_lock, NULL);
	b->ops.version = CP_POLICY_EXECUTOR_VERSION;
	b->ops.snapshot = ex_snapshot;
	b->ops.backup = ex_backup;
	b->ops.snapshot_group = ex_snapshot_group;
	b->ops.archive_copy = ex_archive_copy;
	b->ops.expire_snapshot = ex_expire;
	b->ops.forget = ex_forget;
	b->ops.prune = ex_prune;
	b->ops.state = b;
	*out = &b->ops;
	return 0;
}

void cp_builtin_executor_free(cp_policy_executor *ex)
{
	if (!ex)
		return;
	builtin *b = ex->state;
	pthread_mutex_destroy(&b->provider_lock);
	pthread_mutex_destroy(&b->repo_lock);
	pthread_mutex_destroy(&b->archive_lock);
	free(b);
}
