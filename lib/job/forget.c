/*
 * cp_forget: remove backups (manifests only; prune reclaims the data).
 * GFS rules work like restic's: per group (source), newest first, a rule
 * with n left keeps a backup whose bucket (the hour, day, ISO week,
 * month or year of its local start time; for "last", the backup itself)
 * differs from the last bucket that rule kept. A backup kept by any rule
 * is kept, and the reason lists those rules. Backups that started after
 * opts->now (the current time unless given) are always kept.
 */
#include "cloudprotect/backup.h"
#include "format/lock.h"
#include "format/repository.h"

#include "ctx.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	R_LAST,
	R_HOURLY,
	R_DAILY,
	R_WEEKLY,
	R_MONTHLY,
	R_YEARLY,
	NRULES
};

static const char *const rule_names[NRULES] = {"last",	 "hourly",  "daily",
					       "weekly", "monthly", "yearly"};

static int64_t bucket(int rule, int64_t t, size_t nth)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char iso[16];
	localtime_r(&tt, &tm);
	int64_t year = tm.tm_year + 1900;
	switch (rule) {
	case R_LAST: return (int64_t)nth;
	case R_HOURLY: return ((year * 1000 + tm.tm_yday) * 24) + tm.tm_hour;
	case R_DAILY: return year * 1000 + tm.tm_yday;
	case R_WEEKLY: strftime(iso, sizeof(iso), "%G%V", &tm); return strtoll(iso, NULL, 10);
	case R_MONTHLY: return year * 100 + tm.tm_mon;
	default: return year;
	}
}

static int remove_backup(cp_repository *repo, const char *id)
{
	char key[CP_KEY_MAX];
	cp_repo_key(key, CP_DIR_MANIFESTS, id);
	int rc = cp_objstore_remove(repo->store, key);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		rc = 0;
	}
	if (rc)
		return cp_error_prefix(rc, "removing backup %s: ", id);
	cp_log(repo->ctx, CP_LOG_INFO, "removed backup %s", id);
	return 0;
}

static int forget_ids(cp_repository *repo, const cp_forget_options *o, const char *const *ids,
		      cp_forget_cb cb, void *payload)
{
	cp_backup_list l;
	int rc = cp_backup_list_get(&l, repo);
	for (size_t k = 0; !rc && ids[k]; k++) {
		char *id = NULL;
		rc = cp_backup_resolve(&id, repo, ids[k], NULL);
		if (rc)
			break;
		for (size_t i = 0; i < l.count; i++)
			if (!strcmp(l.items[i].id, id) && cb)
				cb(&l.items[i], 0, "named", payload);
		if (!o->dry_run)
			rc = remove_backup(repo, id);
		free(id);
	}
	if (l.items)
		cp_backup_list_dispose(&l);
	return rc;
}

typedef struct {
	int64_t last[NRULES];
	unsigned int left[NRULES];
} rules;

static int forget_group(cp_repository *repo, const cp_forget_options *o, cp_backup_list *l,
			const char *source, char *done, int64_t now, cp_forget_cb cb, void *payload)
{
	rules r;
	unsigned int keep[NRULES] = {o->keep_last,   o->keep_hourly,  o->keep_daily,
				     o->keep_weekly, o->keep_monthly, o->keep_yearly};
	for (int k = 0; k < NRULES; k++) {
		r.left[k] = keep[k];
		r.last[k] = INT64_MIN;
	}
	int rc = 0;
	size_t nth = 0;
	/* Newest first: the list is oldest first. */
	for (size_t i = l->count; !rc && i-- > 0;) {
		const cp_backup_info *b = &l->items[i];
		if (done[i] || strcmp(b->source, source))
			continue;
		done[i] = 1;
		char reason[96] = "";
		if (b->time > now) {
			snprintf(reason, sizeof(reason), "newer than now");
		} else {
			for (int k = 0; k < NRULES; k++) {
				if (!r.left[k])
					continue;
				int64_t v = bucket(k, b->time, nth);
				if (v == r.last[k])
					continue;
				r.last[k] = v;
				r.left[k]--;
				size_t n = strlen(reason);
				snprintf(reason + n, sizeof(reason) - n, "%s%s", n ? ", " : "",
					 rule_names[k]);
			}
			nth++;
		}
		int kept = reason[0] != '\0';
		if (cb)
			cb(b, kept, kept ? reason : "no rule keeps it", payload);
		if (!kept && !o->dry_run)
			rc = remove_backup(repo, b->id);
	}
	return rc;
}

int cp_forget(cp_repository *repo, const cp_forget_options *opts, const char *const *ids,
	      cp_forget_cb cb, void *payload)
{
	cp_forget_options defaults = CP_FORGET_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != CP_FORGET_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_forget_options version %u is not supported (this library "
				    "knows %u)",
				    opts->version, CP_FORGET_OPTIONS_VERSION);
	if (!ids && !(opts->keep_last || opts->keep_hourly || opts->keep_daily ||
		      opts->keep_weekly || opts->keep_monthly || opts->keep_yearly))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no keep rule given: forget would remove every backup; give "
				    "at least one keep rule (e.g. keep-last 1) or the ids to "
				    "remove");
	cp_repo_lock *lock = NULL;
	int rc = cp_repo_lock_acquire(&lock, repo, 0, "forget");
	if (rc)
		return rc;
	if (ids) {
		rc = forget_ids(repo, opts, ids, cb, payload);
	} else {
		cp_backup_list l;
		rc = cp_backup_list_get(&l, repo);
		char *done = rc ? NULL : calloc(l.count ? l.count : 1, 1);
		if (!rc && !done)
			rc = cp_error_oom();
		int64_t now = opts->now ? opts->now : (int64_t)time(NULL);
		for (size_t i = l.count; !rc && i-- > 0;) {
			/* One group per source, newest backups first. */
			if (done[i] || (opts->source && strcmp(l.items[i].source, opts->source)))
				continue;
			rc = forget_group(repo, opts, &l, l.items[i].source, done, now, cb,
					  payload);
		}
		free(done);
		if (l.items)
			cp_backup_list_dispose(&l);
	}
	cp_error_saved saved;
	cp_error_save(&saved);
	cp_repo_lock_release(lock);
	cp_error_restore(&saved);
	return rc;
}
