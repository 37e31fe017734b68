/*
 * A fake world for planner tests: snapshots, backups and archived backups
 * in arrays, and a way to "execute" a plan on it at a fake time.
 */
#ifndef CP_TEST_POLICY_FIXTURE_H
#define CP_TEST_POLICY_FIXTURE_H

#include "cloudprotect.h"
#include "policy_internal.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FW_MAX 4096

typedef struct fake_world {
	const char *policy_name;
	cp_tag tag[1];
	cp_snapshot snaps[FW_MAX];
	size_t nsnaps;
	cp_backup_info backups[FW_MAX];
	size_t nbackups;
	cp_backup_info archived[FW_MAX];
	size_t narchived;
	cp_run_record runs[FW_MAX];
	size_t nruns;
	char *strings[4 * FW_MAX];
	size_t nstrings;
	unsigned int next_id;
} fake_world;

static inline fake_world *fw_new(const char *policy_name)
{
	fake_world *w = calloc(1, sizeof(*w));
	w->policy_name = policy_name;
	w->tag[0].key = CP_POLICY_TAG;
	w->tag[0].value = policy_name;
	return w;
}

static inline const char *fw_str(fake_world *w, const char *s)
{
	if (!s)
		return NULL;
	ck_assert_uint_lt(w->nstrings, 4 * FW_MAX);
	return w->strings[w->nstrings++] = strdup(s);
}

static inline void fw_free(fake_world *w)
{
	for (size_t i = 0; i < w->nstrings; i++)
		free(w->strings[i]);
	free(w);
}

static inline int64_t utc(int y, int mo, int d, int h, int mi)
{
	return cp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static inline cp_snapshot *fw_snapshot(fake_world *w, const char *disk, const char *instance,
				       const char *group, int64_t created)
{
	char id[32];
	snprintf(id, sizeof(id), "snap-%u", ++w->next_id);
	ck_assert_uint_lt(w->nsnaps, FW_MAX);
	cp_snapshot *s = &w->snaps[w->nsnaps++];
	memset(s, 0, sizeof(*s));
	s->id = fw_str(w, id);
	s->resource_id = fw_str(w, disk);
	s->instance_id = fw_str(w, instance);
	s->group_id = fw_str(w, group);
	s->created = created;
	s->state = CP_SNAPSHOT_COMPLETED;
	s->tags = w->tag;
	s->ntags = 1;
	return s;
}

static inline cp_backup_info *fw_backup(fake_world *w, const char *source, const char *instance,
					int64_t time)
{
	char id[32];
	snprintf(id, sizeof(id), "bk-%u", ++w->next_id);
	ck_assert_uint_lt(w->nbackups, FW_MAX);
	cp_backup_info *b = &w->backups[w->nbackups++];
	memset(b, 0, sizeof(*b));
	b->id = fw_str(w, id);
	b->source = fw_str(w, source);
	b->instance_id = fw_str(w, instance);
	b->time = time;
	b->tags = w->tag;
	b->ntags = 1;
	return b;
}

static inline int fw_plan(fake_world *w, const cp_policy *p, const cp_resource *inv, size_t ninv,
			  int64_t now, cp_plan **plan)
{
	cp_plan_history h = CP_PLAN_HISTORY_INIT;
	h.snapshots = w->snaps;
	h.nsnapshots = w->nsnaps;
	h.backups = w->backups;
	h.nbackups = w->nbackups;
	h.archived = w->archived;
	h.narchived = w->narchived;
	h.runs = w->runs;
	h.nruns = w->nruns;
	return cp_policy_plan(plan, p, inv, ninv, &h, now);
}

static inline size_t fw_count(const cp_plan *plan, cp_action_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < cp_plan_count(plan); i++)
		n += cp_plan_action(plan, i)->kind == kind;
	return n;
}

static inline void fw_remove_snapshot(fake_world *w, const char *id)
{
	for (size_t i = 0; i < w->nsnaps; i++)
		if (!strcmp(w->snaps[i].id, id)) {
			w->snaps[i] = w->snaps[--w->nsnaps];
			return;
		}
	ck_abort_msg("expired snapshot %s does not exist", id);
}

static inline void fw_remove_backup(cp_backup_info *list, size_t *n, const char *id)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(list[i].id, id)) {
			memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof(*list));
			(*n)--;
			return;
		}
	ck_abort_msg("forgotten backup %s does not exist", id);
}

/* Do what the plan says, as a perfect cloud would, at time now. Disks only. */
static inline void fw_apply(fake_world *w, const cp_plan *plan, int64_t now)
{
	const char *last_snapshot = NULL;
	for (size_t i = 0; i < cp_plan_count(plan); i++) {
		const cp_action *a = cp_plan_action(plan, i);
		switch (a->kind) {
		case CP_ACTION_SNAPSHOT:
			last_snapshot = fw_snapshot(w, a->resource_id, NULL, NULL, now)->id;
			break;
		case CP_ACTION_BACKUP: {
			ck_assert(a->snapshot_id || last_snapshot);
			cp_backup_info *b = fw_backup(w, a->resource_id, NULL, now);
			b->snapshot_id = a->snapshot_id ? a->snapshot_id : last_snapshot;
			break;
		}
		case CP_ACTION_ARCHIVE_COPY:
			for (size_t j = 0; j < w->nbackups; j++)
				if (!strcmp(w->backups[j].id, a->backup_id))
					w->archived[w->narchived++] = w->backups[j];
			break;
		case CP_ACTION_EXPIRE_SNAPSHOT: fw_remove_snapshot(w, a->snapshot_id); break;
		case CP_ACTION_FORGET_BACKUP:
			if (a->archive)
				fw_remove_backup(w->archived, &w->narchived, a->backup_id);
			else
				fw_remove_backup(w->backups, &w->nbackups, a->backup_id);
			break;
		case CP_ACTION_PRUNE: break;
		}
	}
}

static inline cp_policy *fw_policy(const char *json)
{
	cp_policy *p = NULL;
	int rc = cp_policy_parse(&p, json, "test.json");
	ck_assert_msg(rc == 0, "policy does not parse: %s", tu_last_message());
	return p;
}

#endif
