/* Loading, freeing and reading a policy; which workloads it selects. */
#include "error.h"
#include "fs.h"
#include "parse_util.h"

#include <stdlib.h>
#include <string.h>

int cp_policy_load(cp_policy **out, const char *path)
{
	cp_buf text = CP_BUF_INIT;
	*out = NULL;
	int rc = cp_fs_read_file(path, &text);
	if (rc) {
		cp_buf_dispose(&text);
		return cp_error_prefix(rc, "cannot read policy file %s: ", path);
	}
	const char *base = strrchr(path, '/');
	rc = cp_policy_parse(out, text.ptr ? text.ptr : "", base ? base + 1 : path);
	cp_buf_dispose(&text);
	return rc;
}

void cp_policy_free(cp_policy *p)
{
	if (!p)
		return;
	free(p->origin);
	free(p->name);
	free(p->timezone);
	cp_strings_free(p->ids, p->nids);
	for (size_t i = 0; i < p->ntags; i++) {
		free((char *)p->tags[i].key);
		free((char *)p->tags[i].value);
	}
	free(p->tags);
	cp_strings_free(p->regions, p->nregions);
	cp_strings_free(p->accounts, p->naccounts);
	free(p->repository);
	free(p->repository_region);
	free(p->archive_repository);
	free(p->archive_region);
	free(p->archive_class);
	free(p);
}

const char *cp_policy_name(const cp_policy *p)
{
	return p->name;
}

const char *cp_policy_timezone(const cp_policy *p)
{
	return p->timezone;
}

const char *cp_policy_repository(const cp_policy *p)
{
	return p->repository;
}

const char *cp_policy_archive_repository(const cp_policy *p)
{
	return p->archive_repository;
}

unsigned int cp_policy_immutable_days(const cp_policy *p)
{
	return p->immutable_days;
}

unsigned int cp_policy_concurrency(const cp_policy *p)
{
	return p->concurrency ? p->concurrency : 1;
}

static int in_list(char *const *list, size_t n, const char *value)
{
	if (!n)
		return 1;
	for (size_t i = 0; value && i < n; i++)
		if (!strcmp(list[i], value))
			return 1;
	return 0;
}

/* Every selector given must match (AND); within one selector any value may (OR). */
int cp_policy_selects(const cp_policy *p, const cp_resource *r)
{
	if (!in_list(p->ids, p->nids, r->id) || !in_list(p->regions, p->nregions, r->region) ||
	    !in_list(p->accounts, p->naccounts, r->account))
		return 0;
	if (p->kinds && !((p->kinds >> r->kind) & 1))
		return 0;
	for (size_t i = 0; i < p->ntags; i++) {
		int found = 0;
		for (size_t j = 0; j < r->ntags && !found; j++)
			found = r->tags[j].key && !strcmp(r->tags[j].key, p->tags[i].key) &&
				(!p->tags[i].value ||
				 (r->tags[j].value && !strcmp(r->tags[j].value, p->tags[i].value)));
		if (!found)
			return 0;
	}
	return 1;
}

int cp_policy_tagged(const cp_tag *tags, size_t ntags, const char *name)
{
	for (size_t i = 0; i < ntags; i++)
		if (tags[i].key && tags[i].value && !strcmp(tags[i].key, CP_POLICY_TAG) &&
		    !strcmp(tags[i].value, name))
			return 1;
	return 0;
}

int cp_policy_next_run(const cp_policy *p, int64_t now, int64_t *next)
{
	int64_t a = p->has_snapshots ? cp_schedule_next(&p->snapshot_schedule, p->timezone, now)
				     : INT64_MAX;
	int64_t b = p->has_backups ? cp_schedule_next(&p->backup_schedule, p->timezone, now)
				   : INT64_MAX;
	*next = a < b ? a : b;
	if (*next == INT64_MAX)
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_POLICY,
				    "policy %s schedules nothing in the next year", p->name);
	return 0;
}

static const char *const action_names[] = {"snapshot",	      "backup",	       "archive-copy",
					   "expire-snapshot", "forget-backup", "prune"};

const char *cp_action_kind_name(cp_action_kind kind)
{
	return (unsigned)kind < sizeof(action_names) / sizeof(action_names[0]) ? action_names[kind]
									       : NULL;
}

int cp_action_kind_parse(cp_action_kind *out, const char *name)
{
	for (size_t i = 0; name && i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (!strcmp(name, action_names[i])) {
			*out = (cp_action_kind)i;
			return 0;
		}
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_POLICY,
			    "unknown action \"%s\"; known: snapshot, backup, archive-copy, "
			    "expire-snapshot, forget-backup, prune",
			    name ? name : "(null)");
}

const char *cp_run_result_name(cp_run_result result)
{
	switch (result) {
	case CP_RUN_OK: return "ok";
	case CP_RUN_FAILED: return "failed";
	case CP_RUN_SKIPPED: return "skipped";
	}
	return NULL;
}
