/*
 * The planner: (policy, inventory, history, now) -> actions. Pure: it
 * reads nothing but its arguments. Due work is decided by the latest
 * schedule slot at or before now: if nothing of this policy happened
 * since that slot, one action serves it. However many slots were missed,
 * only the latest counts, so a missed run is caught up once.
 */
#include "error.h"
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct planner {
	const cp_policy *p;
	const cp_plan_history *h;
	int64_t now;
	cp_plan *plan;
	int forgot_primary, forgot_archive;
} planner;

static int add(planner *pl, cp_action_kind kind, const char *rid, const char *snap,
	       const char *backup, int archive, int64_t scheduled, const char *reason)
{
	cp_action a = {kind, rid, snap, backup, archive, scheduled, reason};
	return cp_plan_add(pl->plan, &a);
}

static int belongs(const char *rid, const char *id, const char *instance_id)
{
	return (id && !strcmp(id, rid)) || (instance_id && !strcmp(instance_id, rid));
}

/* An attempt recorded since the slot: a failure waits for the next slot instead of hammering. */
static int attempted_since(const planner *pl, cp_action_kind kind, const char *rid, int64_t slot)
{
	for (size_t i = 0; i < pl->h->nruns; i++) {
		const cp_run_record *r = &pl->h->runs[i];
		if (r->action == kind && r->start >= slot && r->result != CP_RUN_SKIPPED &&
		    r->resource_id && !strcmp(r->resource_id, rid) && r->policy &&
		    !strcmp(r->policy, pl->p->name))
			return 1;
	}
	return 0;
}

static const char *schedule_reason(const planner *pl, const cp_schedule *s, const char *what,
				   char *buf, size_t len)
{
	char desc[160];
	snprintf(buf, len, "%s %s (%s)", what, cp_schedule_describe(s, desc, sizeof(desc)),
		 pl->p->timezone);
	return buf;
}

/* Snapshot restore points: the snapshots of one consistency group count as one. */
typedef struct point {
	const char *group; /* group id, or the snapshot id */
	int64_t created;
	int completed;
	const cp_snapshot *first;
} point;

static const char *group_of(const cp_snapshot *s)
{
	return s->group_id ? s->group_id : s->id;
}

static int cmp_points_newest_first(const void *a, const void *b)
{
	const point *x = a, *y = b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->group, y->group);
}

/* Collect this resource's policy snapshots as restore points, newest first. */
static int snapshot_points(const planner *pl, const char *rid, point **out, size_t *count)
{
	const cp_plan_history *h = pl->h;
	point *pts = calloc(h->nsnapshots + 1, sizeof(*pts));
	size_t n = 0;
	if (!pts)
		return cp_error_oom();
	for (size_t i = 0; i < h->nsnapshots; i++) {
		const cp_snapshot *s = &h->snapshots[i];
		if (!belongs(rid, s->resource_id, s->instance_id) ||
		    !cp_policy_tagged(s->tags, s->ntags, pl->p->name))
			continue;
		size_t j = 0;
		while (j < n && strcmp(pts[j].group, group_of(s)))
			j++;
		if (j == n) {
			pts[n].group = group_of(s);
			pts[n].created = s->created;
			pts[n].completed = 1;
			pts[n].first = s;
			n++;
		}
		if (s->created < pts[j].created)
			pts[j].created = s->created;
		if (s->state != CP_SNAPSHOT_COMPLETED)
			pts[j].completed = 0;
	}
	qsort(pts, n, sizeof(*pts), cmp_points_newest_first);
	*out = pts;
	*count = n;
	return 0;
}

/*
 * Image backups read a snapshot's blocks, which only disk snapshots have.
 * Databases, warehouses, tables and file shares are protected by their
 * provider-native snapshots and recovery points alone.
 */
static int has_block_snapshots(const cp_resource *r)
{
	return r->kind == CP_RESOURCE_VM || r->kind == CP_RESOURCE_DISK;
}

static int plan_snapshot_and_backup(planner *pl, const cp_resource *r, const point *pts,
				    size_t npts)
{
	const char *rid = r->id;
	const cp_policy *p = pl->p;
	char reason[256];
	int rc, snapshot_planned = 0;
	if (p->has_snapshots) {
		int64_t slot = cp_schedule_prev(&p->snapshot_schedule, p->timezone, pl->now);
		int done = npts && pts[0].created >= slot;
		if (slot != INT64_MIN && !done &&
		    !attempted_since(pl, CP_ACTION_SNAPSHOT, rid, slot)) {
			schedule_reason(pl, &p->snapshot_schedule, "snapshots", reason,
					sizeof(reason));
			if ((rc = add(pl, CP_ACTION_SNAPSHOT, rid, NULL, NULL, 0, slot, reason)))
				return rc;
			snapshot_planned = 1;
		}
	}
	if (!p->has_backups || !has_block_snapshots(r))
		return 0;
	int64_t slot = cp_schedule_prev(&p->backup_schedule, p->timezone, pl->now);
	if (slot == INT64_MIN || attempted_since(pl, CP_ACTION_BACKUP, rid, slot))
		return 0;
	for (size_t i = 0; i < pl->h->nbackups; i++) {
		const cp_backup_info *b = &pl->h->backups[i];
		if (belongs(rid, b->source, b->instance_id) && b->time >= slot &&
		    cp_policy_tagged(b->tags, b->ntags, p->name))
			return 0;
	}
	schedule_reason(pl, &p->backup_schedule, "backups", reason, sizeof(reason));
	if (snapshot_planned)
		return add(pl, CP_ACTION_BACKUP, rid, NULL, NULL, 0, slot, reason);
	/* A completed snapshot taken since the slot serves; otherwise take one for the backup. */
	for (size_t i = 0; i < npts; i++)
		if (pts[i].completed && pts[i].created >= slot)
			return add(pl, CP_ACTION_BACKUP, rid, pts[i].first->id, NULL, 0, slot,
				   reason);
	if ((rc = add(pl, CP_ACTION_SNAPSHOT, rid, NULL, NULL, 0, slot, "taken for the backup")))
		return rc;
	return add(pl, CP_ACTION_BACKUP, rid, NULL, NULL, 0, slot, reason);
}

/* One backup of a source, wherever it is kept. */
typedef struct copy {
	const cp_backup_info *primary;
	const cp_backup_info *archived;
	int64_t time;
} copy;

static const char *copy_id(const copy *c)
{
	return c->primary ? c->primary->id : c->archived->id;
}

static int cmp_copies_newest_first(const void *a, const void *b)
{
	const copy *x = a, *y = b;
	if (x->time != y->time)
		return x->time > y->time ? -1 : 1;
	return strcmp(copy_id(y), copy_id(x)); /* same second: any fixed order */
}

static int locked(const planner *pl, const cp_backup_info *b)
{
	return pl->p->immutable_days && b->time + (int64_t)pl->p->immutable_days * 86400 > pl->now;
}

static int plan_source_retention(planner *pl, const char *source)
{
	const cp_policy *p = pl->p;
	const cp_plan_history *h = pl->h;
	size_t cap = h->nbackups + h->narchived + 1, n = 0;
	copy *copies = calloc(cap, sizeof(*copies));
	cp_retention_item *items = calloc(cap, sizeof(*items));
	int rc = 0;
	if (!copies || !items) {
		rc = cp_error_oom();
		goto out;
	}
	for (int side = 0; side < 2; side++) {
		const cp_backup_info *list = side ? h->archived : h->backups;
		size_t count = side ? h->narchived : h->nbackups;
		for (size_t i = 0; i < count; i++) {
			const cp_backup_info *b = &list[i];
			if (!b->source || strcmp(b->source, source) ||
			    !cp_policy_tagged(b->tags, b->ntags, p->name))
				continue;
			/*
			 * A copy keeps its source, time and snapshot, which is how an archived
			 * backup finds its primary; two backups of one side never merge.
			 */
			size_t j = n;
			for (size_t k = 0; side && k < n && j == n; k++)
				if (copies[k].primary && copies[k].time == b->time &&
				    !copies[k].archived &&
				    (!copies[k].primary->snapshot_id || !b->snapshot_id ||
				     !strcmp(copies[k].primary->snapshot_id, b->snapshot_id)))
					j = k;
			if (j == n)
				copies[n++].time = b->time;
			if (side)
				copies[j].archived = b;
			else
				copies[j].primary = b;
		}
	}
	qsort(copies, n, sizeof(*copies), cmp_copies_newest_first);
	for (size_t i = 0; i < n; i++)
		items[i].time = copies[i].time;
	cp_retention_gfs(items, n, &p->gfs, p->timezone);

	/* The newest copy on each side is never removed: it is the last good restore point there. */
	const cp_backup_info *newest_primary = NULL;
	for (size_t i = 0; i < n && !newest_primary; i++)
		newest_primary = copies[i].primary;
	int64_t archive_age = (int64_t)p->archive_after_days * 86400;
	for (size_t i = 0; i < n && !rc; i++) {
		const copy *c = &copies[i];
		const cp_backup_info *pb = c->primary, *ab = c->archived;
		int old = p->has_archive && pl->now - c->time >= archive_age;
		if (items[i].keep) {
			if (pb && old && !ab) {
				char why[96];
				snprintf(why, sizeof(why), "older than %u days, kept (%s)",
					 p->archive_after_days, items[i].reason);
				rc = add(pl, CP_ACTION_ARCHIVE_COPY, source, NULL, pb->id, 0, 0,
					 why);
			} else if (pb && old && ab && pb != newest_primary && !locked(pl, pb)) {
				rc = add(pl, CP_ACTION_FORGET_BACKUP, source, NULL, pb->id, 0, 0,
					 "moved to the archive");
				pl->forgot_primary = 1;
			}
			continue;
		}
		if (pb && pb != newest_primary && !locked(pl, pb)) {
			rc = add(pl, CP_ACTION_FORGET_BACKUP, source, NULL, pb->id, 0, 0,
				 "not kept by the retention rules");
			pl->forgot_primary = 1;
		}
		if (!rc && ab && !locked(pl, ab)) {
			rc = add(pl, CP_ACTION_FORGET_BACKUP, source, NULL, ab->id, 1, 0,
				 "not kept by the retention rules");
			pl->forgot_archive = 1;
		}
	}
out:
	free(copies);
	free(items);
	return rc;
}

static int plan_backup_retention(planner *pl, const char *rid)
{
	/* Sources are disks: the resource itself, or the disks of an instance. */
	const cp_plan_history *h = pl->h;
	const char **sources = calloc(h->nbackups + h->narchived + 1, sizeof(*sources));
	size_t nsources = 0;
	if (!sources)
		return cp_error_oom();
	for (int side = 0; side < 2; side++) {
		const cp_backup_info *list = side ? h->archived : h->backups;
		size_t count = side ? h->narchived : h->nbackups;
		for (size_t i = 0; i < count; i++) {
			const cp_backup_info *b = &list[i];
			if (!b->source || !belongs(rid, b->source, b->instance_id) ||
			    !cp_policy_tagged(b->tags, b->ntags, pl->p->name))
				continue;
			size_t j = 0;
			while (j < nsources && strcmp(sources[j], b->source))
				j++;
			if (j == nsources)
				sources[nsources++] = b->source;
		}
	}
	int rc = 0;
	for (size_t i = 0; i < nsources && !rc; i++)
		rc = plan_source_retention(pl, sources[i]);
	free(sources);
	return rc;
}

static int plan_snapshot_expiry(planner *pl, const char *rid, const point *pts, size_t npts)
{
	const cp_policy *p = pl->p;
	char why[128];
	size_t newest_completed = npts;
	for (size_t i = 0; i < npts && newest_completed == npts; i++)
		if (pts[i].completed)
			newest_completed = i;
	int64_t horizon = pl->now - (int64_t)p->snapshot_keep_days * 86400;
	for (size_t i = 0; i < npts; i++) {
		const point *pt = &pts[i];
		if (i < p->snapshot_keep_last || i == newest_completed)
			continue;
		if (p->snapshot_keep_days && pt->created >= horizon)
			continue;
		if (!pt->completed && pt->first->state == CP_SNAPSHOT_PENDING)
			continue; /* still being taken */
		if (p->snapshot_keep_days)
			snprintf(why, sizeof(why), "older than %u days and not among the %u newest",
				 p->snapshot_keep_days, p->snapshot_keep_last);
		else
			snprintf(why, sizeof(why), "not among the %u newest",
				 p->snapshot_keep_last);
		/* Every disk snapshot of the group goes. */
		for (size_t j = 0; j < pl->h->nsnapshots; j++) {
			const cp_snapshot *s = &pl->h->snapshots[j];
			if (strcmp(group_of(s), pt->group) ||
			    !belongs(rid, s->resource_id, s->instance_id) ||
			    !cp_policy_tagged(s->tags, s->ntags, p->name))
				continue;
			int rc = add(pl, CP_ACTION_EXPIRE_SNAPSHOT, rid, s->id, NULL, 0, 0, why);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int cp_policy_plan(cp_plan **out, const cp_policy *policy, const cp_resource *inventory,
		   size_t ninventory, const cp_plan_history *history, int64_t now)
{
	static const cp_plan_history empty = CP_PLAN_HISTORY_INIT;
	*out = NULL;
	if (!history)
		history = &empty;
	if (history->version != CP_PLAN_HISTORY_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_plan_history version %u is not supported (this library "
				    "knows %u)",
				    history->version, CP_PLAN_HISTORY_VERSION);
	planner pl = {policy, history, now, NULL, 0, 0};
	int rc = cp_plan_new(&pl.plan);
	for (size_t i = 0; i < ninventory && !rc; i++) {
		const cp_resource *r = &inventory[i];
		if (!r->id || !cp_policy_selects(policy, r))
			continue;
		point *pts = NULL;
		size_t npts = 0;
		rc = snapshot_points(&pl, r->id, &pts, &npts);
		if (!rc)
			rc = plan_snapshot_and_backup(&pl, r, pts, npts);
		if (!rc && policy->has_backups)
			rc = plan_backup_retention(&pl, r->id);
		if (!rc)
			rc = plan_snapshot_expiry(&pl, r->id, pts, npts);
		free(pts);
	}
	if (!rc && policy->prune && pl.forgot_primary)
		rc = add(&pl, CP_ACTION_PRUNE, NULL, NULL, NULL, 0, 0,
			 "free the data of forgotten backups");
	if (!rc && policy->prune && pl.forgot_archive)
		rc = add(&pl, CP_ACTION_PRUNE, NULL, NULL, NULL, 1, 0,
			 "free the data of forgotten archived backups");
	if (rc) {
		cp_plan_free(pl.plan);
		return rc;
	}
	*out = pl.plan;
	return 0;
}
