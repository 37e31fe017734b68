/*
 * cp_backup_snapshot: back up a provider snapshot. Without an explicit
 * parent, the latest backup of the same source (disk) is the parent.
 * When that parent was read from an earlier snapshot of the same
 * provider, the provider is asked which blocks changed in between and
 * only those are read; when it cannot tell (tracking lost, parent
 * snapshot deleted), everything allocated is read and deduplicated.
 */
#include "cloudprotect/backup.h"
#include "format/manifest_io.h"
#include "job/job.h"

#include "ctx.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	char *resource_id, *instance_id, *group_id;
	cp_snapshot_state state;
	int found;
} snap_info;

static int take_snapshot(const cp_snapshot *s, void *payload)
{
	snap_info *i = payload;
	i->resource_id = s->resource_id ? strdup(s->resource_id) : NULL;
	i->instance_id = s->instance_id ? strdup(s->instance_id) : NULL;
	i->group_id = s->group_id ? strdup(s->group_id) : NULL;
	i->state = s->state;
	i->found = 1;
	if ((s->resource_id && !i->resource_id) || (s->instance_id && !i->instance_id) ||
	    (s->group_id && !i->group_id))
		return cp_error_oom();
	return 0;
}

typedef struct {
	cp_block_range *v;
	size_t n, cap;
} range_vec;

static int take_ranges(const cp_block_range *r, size_t n, void *payload)
{
	range_vec *rv = payload;
	if (rv->n + n > rv->cap) {
		size_t cap = rv->cap ? rv->cap : 1024;
		while (cap < rv->n + n)
			cap *= 2;
		cp_block_range *v = realloc(rv->v, cap * sizeof(*v));
		if (!v)
			return cp_error_oom();
		rv->v = v;
		rv->cap = cap;
	}
	memcpy(rv->v + rv->n, r, n * sizeof(*r));
	rv->n += n;
	return 0;
}

/* The latest backup of source, or NULL when there is none. */
static int latest_of(char **id_out, cp_repository *repo, const char *source)
{
	*id_out = NULL;
	int rc = cp_backup_resolve(id_out, repo, "latest", source);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		rc = 0;
	}
	return rc;
}

int cp_backup_snapshot(char **id_out, cp_backup_stats *stats, cp_repository *repo,
		       cp_provider *provider, const char *snapshot_id,
		       const cp_backup_options *opts)
{
	cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
	*id_out = NULL;
	if (opts) {
		if (opts->version != CP_BACKUP_OPTIONS_VERSION)
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
					    "cp_backup_options version %u is not supported (this "
					    "library knows %u)",
					    opts->version, CP_BACKUP_OPTIONS_VERSION);
		o = *opts;
	}
	snap_info si;
	memset(&si, 0, sizeof(si));
	cp_manifest parent;
	memset(&parent, 0, sizeof(parent));
	char *parent_id = NULL;
	range_vec changed = {0};
	cp_block_reader *reader = NULL;
	const char *pname = cp_provider_name(provider);

	int rc = cp_snapshot_get(provider, snapshot_id, take_snapshot, &si);
	if (!rc && !si.found)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				  "provider '%s' has no snapshot '%s'", pname, snapshot_id);
	if (!rc && si.state != CP_SNAPSHOT_COMPLETED)
		rc = cp_error_set(si.state == CP_SNAPSHOT_PENDING ? CP_EBUSY : CP_EINVALID,
				  CP_ERRCLASS_PROVIDER,
				  "snapshot '%s' is %s; back it up once it is completed",
				  snapshot_id, cp_snapshot_state_name(si.state));
	if (!rc) {
		if (!o.source)
			o.source = si.resource_id;
		if (!o.source)
			rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_PROVIDER,
					  "snapshot '%s' names no disk; give a source name",
					  snapshot_id);
		o.provider = pname;
		o.snapshot_id = snapshot_id;
		if (!o.instance_id)
			o.instance_id = si.instance_id;
		if (!o.group_id)
			o.group_id = si.group_id;
	}
	if (!rc && !o.full)
		rc = o.parent_id ? cp_backup_resolve(&parent_id, repo, o.parent_id, NULL)
				 : latest_of(&parent_id, repo, o.source);
	if (!rc && parent_id)
		rc = cp_repo_manifest_load(repo, parent_id, 1, 0, &parent);
	if (!rc && parent_id && parent.chunk_size != repo->config.chunk_size) {
		cp_log(repo->ctx, CP_LOG_INFO,
		       "backup %s has another chunk size; making a full backup of %s", parent_id,
		       o.source);
		free(parent_id);
		parent_id = NULL;
	}
	o.have_changed = 0;
	o.changed = NULL;
	o.nchanged = 0;
	if (!rc && parent_id && parent.provider && !strcmp(parent.provider, pname) &&
	    parent.snapshot_id) {
		rc = cp_snapshot_changed_blocks(provider, parent.snapshot_id, snapshot_id,
						take_ranges, &changed);
		if (!rc) {
			o.have_changed = 1;
			o.changed = changed.v;
			o.nchanged = changed.n;
			cp_log(repo->ctx, CP_LOG_INFO,
			       "%zu changed range(s) between snapshots %s and %s", changed.n,
			       parent.snapshot_id, snapshot_id);
		} else if (rc == CP_EUNSUPPORTED || rc == CP_ENOTFOUND) {
			cp_log(repo->ctx, CP_LOG_WARN,
			       "reading all of snapshot %s: the provider cannot list the blocks "
			       "changed since snapshot %s (%s); unchanged data is deduplicated",
			       snapshot_id, parent.snapshot_id,
			       cp_error_last() ? cp_error_last()->message : "unsupported");
			cp_error_clear();
			changed.n = 0;
			rc = 0;
		}
	}
	if (!rc)
		rc = cp_snapshot_open(&reader, provider, snapshot_id);
	if (!rc)
		rc = cp_job_backup(id_out, stats, repo, reader, &o, parent_id);

	cp_error_saved saved;
	cp_error_save(&saved);
	cp_block_reader_free(reader);
	free(changed.v);
	free(parent_id);
	cp_manifest_dispose(&parent);
	free(si.resource_id);
	free(si.instance_id);
	free(si.group_id);
	cp_error_restore(&saved);
	return rc;
}
