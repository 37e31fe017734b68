/* The policy document: JSON in, a validated cp_policy out (doc/policy.md). */
#include "error.h"
#include "json.h"
#include "parse_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid_name(const char *s)
{
	/* GCP labels are the strictest place the name goes (as a tag value). */
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return 0;
	return 1;
}

static int check_url(const cp_policy *p, const char *path, const char *url)
{
	static const char *const schemes[] = {"file://", "s3://", "azblob://", "gs://"};
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(url, schemes[i], strlen(schemes[i])) && url[strlen(schemes[i])])
			return 0;
	return cp_policy_error(
		p, path,
		"must be a repository URL (file:///path, s3://bucket/prefix, "
		"azblob://account/container/prefix or gs://bucket/prefix), got \"%s\"",
		url);
}

static int parse_selection(cp_policy *p, yajl_val sel)
{
	static const char *const keys[] = {"all",     "ids",	  "tags", "kinds",
					   "regions", "accounts", NULL};
	char got[80];
	int rc;
	if (!sel)
		return cp_policy_error(
			p, "selection",
			"is required: say which workloads to protect with ids, tags, "
			"kinds, regions or accounts, or {\"all\": true}");
	if ((rc = cp_want_object(p, sel, "selection")) ||
	    (rc = cp_check_keys(p, sel, "selection", keys)) ||
	    (rc = cp_get_bool(p, sel, "selection", "all", 0, &p->select_all)) ||
	    (rc = cp_get_strings(p, sel, "selection", "ids", &p->ids, &p->nids)) ||
	    (rc = cp_get_strings(p, sel, "selection", "regions", &p->regions, &p->nregions)) ||
	    (rc = cp_get_strings(p, sel, "selection", "accounts", &p->accounts, &p->naccounts)))
		return rc;
	char **kinds = NULL;
	size_t nkinds = 0;
	if ((rc = cp_get_strings(p, sel, "selection", "kinds", &kinds, &nkinds)))
		return rc;
	for (size_t i = 0; i < nkinds; i++) {
		cp_resource_kind k;
		if (cp_resource_kind_parse(&k, kinds[i])) {
			char at[64];
			snprintf(at, sizeof(at), "selection.kinds[%zu]", i);
			rc = cp_policy_error(p, at,
					     "unknown kind \"%s\"; allowed: vm, disk, db, nosql, "
					     "warehouse, fileshare, network",
					     kinds[i]);
			break;
		}
		p->kinds |= 1u << k;
	}
	cp_strings_free(kinds, nkinds);
	if (rc)
		return rc;
	yajl_val tags = cp_json_get(sel, "tags");
	if (tags) {
		if ((rc = cp_want_object(p, tags, "selection.tags")))
			return rc;
		p->tags = calloc(tags->u.object.len + 1, sizeof(*p->tags));
		if (!p->tags)
			return cp_error_oom();
		for (size_t i = 0; i < tags->u.object.len; i++) {
			yajl_val v = tags->u.object.values[i];
			if (!YAJL_IS_STRING(v) && !YAJL_IS_NULL(v)) {
				char at[300];
				snprintf(at, sizeof(at), "selection.tags.%s",
					 tags->u.object.keys[i]);
				return cp_policy_error(
					p, at,
					"must be the tag value as a string, or null for "
					"any value; got %s",
					cp_json_repr(v, got, sizeof(got)));
			}
			p->tags[i].key = strdup(tags->u.object.keys[i]);
			p->tags[i].value = YAJL_IS_STRING(v) ? strdup(CP_JSTR(v)) : NULL;
			p->ntags++;
			if (!p->tags[i].key || (YAJL_IS_STRING(v) && !p->tags[i].value))
				return cp_error_oom();
		}
	}
	if (!p->select_all && !p->nids && !p->ntags && !p->kinds && !p->nregions && !p->naccounts)
		return cp_policy_error(p, "selection",
				       "selects nothing; give ids, tags, kinds, regions or "
				       "accounts, or {\"all\": true} to protect every workload");
	return 0;
}

static int parse_snapshots(cp_policy *p, yajl_val v)
{
	static const char *const keys[] = {"schedule", "retention", NULL};
	static const char *const ret_keys[] = {"days", "last", NULL};
	int rc;
	if (!v) {
		/* Snapshots taken only to back up: keep the newest as the next incremental's base. */
		p->snapshot_keep_last = 1;
		return 0;
	}
	p->has_snapshots = 1;
	if ((rc = cp_want_object(p, v, "snapshots")) ||
	    (rc = cp_check_keys(p, v, "snapshots", keys)) ||
	    (rc = cp_parse_schedule(p, cp_json_get(v, "schedule"), "snapshots.schedule",
				    &p->snapshot_schedule)))
		return rc;
	yajl_val ret = cp_json_get(v, "retention");
	if (!ret)
		return cp_policy_error(p, "snapshots.retention",
				       "is required, e.g. {\"days\": 30} or {\"last\": 7}");
	if ((rc = cp_want_object(p, ret, "snapshots.retention")) ||
	    (rc = cp_check_keys(p, ret, "snapshots.retention", ret_keys)) ||
	    (rc = cp_get_uint(p, ret, "snapshots.retention", "days", 0, 36500, 0,
			      &p->snapshot_keep_days)) ||
	    (rc = cp_get_uint(p, ret, "snapshots.retention", "last", 0, 10000, 0,
			      &p->snapshot_keep_last)))
		return rc;
	if (!p->snapshot_keep_days && !p->snapshot_keep_last)
		return cp_policy_error(
			p, "snapshots.retention",
			"keeps nothing; set \"days\" (keep snapshots this many days) "
			"and/or \"last\" (keep this many newest)");
	if (!p->snapshot_keep_last)
		p->snapshot_keep_last = 1; /* the last good restore point stays whatever its age */
	return 0;
}

static int parse_backups(cp_policy *p, yajl_val v)
{
	static const char *const keys[] = {"repository", "region", "schedule", "retention", NULL};
	static const char *const ret_keys[] = {"last",	  "daily",  "weekly",
					       "monthly", "yearly", NULL};
	const char *path = "backups.retention";
	int rc;
	if (!v)
		return 0;
	p->has_backups = 1;
	if ((rc = cp_want_object(p, v, "backups")) || (rc = cp_check_keys(p, v, "backups", keys)) ||
	    (rc = cp_get_string(p, v, "backups", "repository", 1, &p->repository)) ||
	    (rc = check_url(p, "backups.repository", p->repository)) ||
	    (rc = cp_get_string(p, v, "backups", "region", 0, &p->repository_region)) ||
	    (rc = cp_parse_schedule(p, cp_json_get(v, "schedule"), "backups.schedule",
				    &p->backup_schedule)))
		return rc;
	yajl_val ret = cp_json_get(v, "retention");
	if (!ret)
		return cp_policy_error(p, path,
				       "is required: how many backups to keep, e.g. {\"daily\": 7, "
				       "\"weekly\": 4, \"monthly\": 12}");
	if ((rc = cp_want_object(p, ret, path)) || (rc = cp_check_keys(p, ret, path, ret_keys)) ||
	    (rc = cp_get_uint(p, ret, path, "last", 0, 10000, 0, &p->gfs.last)) ||
	    (rc = cp_get_uint(p, ret, path, "daily", 0, 10000, 0, &p->gfs.daily)) ||
	    (rc = cp_get_uint(p, ret, path, "weekly", 0, 10000, 0, &p->gfs.weekly)) ||
	    (rc = cp_get_uint(p, ret, path, "monthly", 0, 10000, 0, &p->gfs.monthly)) ||
	    (rc = cp_get_uint(p, ret, path, "yearly", 0, 1000, 0, &p->gfs.yearly)))
		return rc;
	if (!p->gfs.last && !p->gfs.daily && !p->gfs.weekly && !p->gfs.monthly && !p->gfs.yearly)
		return cp_policy_error(p, path,
				       "keeps nothing; set at least one of last, daily, weekly, "
				       "monthly, yearly");
	return 0;
}

static int parse_archive(cp_policy *p, yajl_val v)
{
	static const char *const keys[] = {"repository", "region", "after_days", "storage_class",
					   NULL};
	int rc;
	if (!v)
		return 0;
	p->has_archive = 1;
	if ((rc = cp_want_object(p, v, "archive")) || (rc = cp_check_keys(p, v, "archive", keys)))
		return rc;
	if (!p->has_backups)
		return cp_policy_error(p, "archive",
				       "needs a \"backups\" section: only backups move to the "
				       "archive");
	if ((rc = cp_get_string(p, v, "archive", "repository", 1, &p->archive_repository)) ||
	    (rc = check_url(p, "archive.repository", p->archive_repository)) ||
	    (rc = cp_get_string(p, v, "archive", "region", 0, &p->archive_region)) ||
	    (rc = cp_get_string(p, v, "archive", "storage_class", 0, &p->archive_class)) ||
	    (rc = cp_get_uint(p, v, "archive", "after_days", 1, 36500, 0, &p->archive_after_days)))
		return rc;
	if (!p->archive_after_days)
		return cp_policy_error(p, "archive.after_days",
				       "is required: move backups to the archive once they are "
				       "this many days old (1..36500)");
	if (!strcmp(p->archive_repository, p->repository))
		return cp_policy_error(p, "archive.repository",
				       "is the same as backups.repository; the archive must be "
				       "another repository (e.g. one in a cold storage class)");
	return 0;
}

static int parse_document(cp_policy *p, yajl_val doc)
{
	static const char *const keys[] = {
		"name",	   "description",	"timezone", "selection", "snapshots", "backups",
		"archive", "immutability_days", "workers",  "prune",	 NULL};
	static const char *const worker_keys[] = {"concurrency", NULL};
	char got[80];
	int rc;
	if (!YAJL_IS_OBJECT(doc))
		return cp_policy_error(p, "(top level)", "must be a JSON object, got %s",
				       cp_json_repr(doc, got, sizeof(got)));
	if ((rc = cp_check_keys(p, doc, "", keys)) ||
	    (rc = cp_get_string(p, doc, "", "name", 1, &p->name)))
		return rc;
	if (!valid_name(p->name))
		return cp_policy_error(p, "name",
				       "must be 1..63 lower-case letters, digits, '-' or '_', "
				       "starting with a letter or digit (it becomes a tag value); "
				       "got \"%s\"",
				       p->name);
	if (cp_json_get(doc, "description") && !YAJL_IS_STRING(cp_json_get(doc, "description")))
		return cp_policy_error(p, "description", "must be a string");
	if ((rc = cp_get_string(p, doc, "", "timezone", 0, &p->timezone)))
		return rc;
	if (!p->timezone && !(p->timezone = strdup("UTC")))
		return cp_error_oom();
	if (!cp_tz_valid(p->timezone))
		return cp_policy_error(p, "timezone",
				       "unknown time zone \"%s\"; use an IANA name such as "
				       "\"Europe/Berlin\" or \"UTC\" (see /usr/share/zoneinfo)",
				       p->timezone);
	if ((rc = parse_selection(p, cp_json_get(doc, "selection"))) ||
	    (rc = parse_backups(p, cp_json_get(doc, "backups"))) ||
	    (rc = parse_snapshots(p, cp_json_get(doc, "snapshots"))) ||
	    (rc = parse_archive(p, cp_json_get(doc, "archive"))))
		return rc;
	if (!p->has_snapshots && !p->has_backups)
		return cp_policy_error(p, "(top level)",
				       "does nothing; give a \"snapshots\" section, a \"backups\" "
				       "section, or both");
	if ((rc = cp_get_uint(p, doc, "", "immutability_days", 0, 36500, 0, &p->immutable_days)) ||
	    (rc = cp_get_bool(p, doc, "", "prune", 1, &p->prune)))
		return rc;
	yajl_val workers = cp_json_get(doc, "workers");
	if ((rc = cp_want_object(p, workers, "workers")) ||
	    (workers && (rc = cp_check_keys(p, workers, "workers", worker_keys))) ||
	    (rc = cp_get_uint(p, workers, "workers", "concurrency", 1, 256, 2, &p->concurrency)))
		return rc;
	if (p->immutable_days && !p->has_backups)
		return cp_policy_error(
			p, "immutability_days",
			"applies to backups; add a \"backups\" section or remove it");
	return 0;
}

int cp_policy_parse(cp_policy **out, const char *json, const char *origin)
{
	*out = NULL;
	cp_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return cp_error_oom();
	p->origin = strdup(origin ? origin : "policy");
	if (!p->origin) {
		free(p);
		return cp_error_oom();
	}
	yajl_val doc = NULL;
	int rc = cp_json_parse(&doc, json, p->origin);
	if (!rc)
		rc = parse_document(p, doc);
	yajl_tree_free(doc);
	if (rc) {
		cp_policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}
