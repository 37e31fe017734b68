/* Listing backups and resolving "latest", id prefixes and full ids. */
#include "job/list.h"
#include "cloudprotect/backup.h"
#include "format/bytes.h"
#include "format/manifest_io.h"

#include "ctx.h"
#include "error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	cp_manifest *ms;
	char (*ids)[CP_HEX_ID_LEN + 1];
	size_t n;
} list_priv;

static int collect(const char *key, const cp_object_info *info, void *payload)
{
	cp_names *l = payload;
	const char *name = strrchr(key, '/');
	name = name ? name + 1 : key;
	if (!cp_is_hex_id(name))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->names, cap * sizeof(*l->names));
		void *q = realloc(l->sizes, cap * sizeof(*l->sizes));
		if (p)
			l->names = p;
		if (q)
			l->sizes = q;
		if (!p || !q)
			return cp_error_oom();
		l->cap = cap;
	}
	memcpy(l->names[l->n], name, CP_HEX_ID_LEN + 1);
	l->sizes[l->n] = info->size;
	l->n++;
	return 0;
}

int cp_names_get(cp_names *out, cp_repository *repo, const char *dir)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%s/", dir);
	memset(out, 0, sizeof(*out));
	int rc = cp_objstore_list(repo->store, prefix, collect, out);
	if (rc) {
		cp_names_dispose(out);
		return cp_error_prefix(rc, "listing %s: ", prefix);
	}
	return 0;
}

void cp_names_dispose(cp_names *l)
{
	free(l->names);
	free(l->sizes);
	memset(l, 0, sizeof(*l));
}

static const list_priv *sorting; /* qsort has no payload; guarded by sort_mu */
static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

static int cmp_pos(const void *a, const void *b)
{
	const cp_manifest *x = &sorting->ms[*(const size_t *)a];
	const cp_manifest *y = &sorting->ms[*(const size_t *)b];
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->time_nsec != y->time_nsec)
		return x->time_nsec < y->time_nsec ? -1 : 1;
	return strcmp(sorting->ids[*(const size_t *)a], sorting->ids[*(const size_t *)b]);
}

static void fill_info(cp_backup_info *it, const cp_manifest *m, const char *id)
{
	it->id = id;
	it->parent_id = m->parent;
	it->source = m->source;
	it->provider = m->provider;
	it->snapshot_id = m->snapshot_id;
	it->instance_id = m->instance_id;
	it->group_id = m->group_id;
	it->hostname = m->hostname ? m->hostname : "";
	it->time = m->time;
	it->size = m->size;
	it->data_bytes = m->data_bytes;
	it->new_bytes = m->new_bytes;
	it->chunk_size = m->chunk_size;
	it->tags = m->tags;
	it->ntags = m->ntags;
}

int cp_backup_list_get(cp_backup_list *out, cp_repository *repo)
{
	memset(out, 0, sizeof(*out));
	cp_names names;
	int rc = cp_names_get(&names, repo, CP_DIR_MANIFESTS);
	if (rc)
		return rc;
	list_priv *p = calloc(1, sizeof(*p));
	size_t cap = names.n ? names.n : 1;
	if (p) {
		p->ms = calloc(cap, sizeof(*p->ms));
		p->ids = calloc(cap, sizeof(*p->ids));
	}
	out->items = calloc(cap, sizeof(*out->items));
	if (!p || !p->ms || !p->ids || !out->items) {
		if (p) {
			free(p->ms);
			free(p->ids);
		}
		free(p);
		free(out->items);
		out->items = NULL;
		cp_names_dispose(&names);
		return cp_error_oom();
	}
	out->priv_ = p;
	for (size_t i = 0; i < names.n; i++) {
		cp_manifest *m = &p->ms[p->n];
		rc = cp_repo_manifest_load(repo, names.names[i], 1, names.sizes[i], m);
		if (rc == CP_ENOTFOUND) {
			/* Forgotten since the listing. */
			cp_error_clear();
			rc = 0;
			continue;
		}
		if (rc == CP_ECORRUPT || rc == CP_EUNSUPPORTED) {
			cp_log(repo->ctx, CP_LOG_WARN, "skipping backup %s: %s", names.names[i],
			       cp_error_last()->message);
			cp_error_clear();
			rc = 0;
			continue;
		}
		if (rc)
			break;
		memcpy(p->ids[p->n], names.names[i], CP_HEX_ID_LEN + 1);
		p->n++;
	}
	cp_names_dispose(&names);
	if (rc) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_backup_list_dispose(out);
		cp_error_restore(&saved);
		return rc;
	}
	/* Oldest first, by the start time to the nanosecond. */
	size_t *order = malloc((p->n ? p->n : 1) * sizeof(*order));
	if (!order) {
		cp_backup_list_dispose(out);
		return cp_error_oom();
	}
	for (size_t i = 0; i < p->n; i++)
		order[i] = i;
	pthread_mutex_lock(&sort_mu);
	sorting = p;
	qsort(order, p->n, sizeof(*order), cmp_pos);
	pthread_mutex_unlock(&sort_mu);
	for (size_t i = 0; i < p->n; i++)
		fill_info(&out->items[i], &p->ms[order[i]], p->ids[order[i]]);
	free(order);
	out->count = p->n;
	return 0;
}

void cp_backup_list_dispose(cp_backup_list *list)
{
	list_priv *p = list->priv_;
	if (p) {
		for (size_t i = 0; i < p->n; i++)
			cp_manifest_dispose(&p->ms[i]);
		free(p->ms);
		free(p->ids);
		free(p);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static int is_hex_prefix(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i > 0 && i <= CP_HEX_ID_LEN;
}

static int resolve_latest(char **id_out, cp_repository *repo, const char *source)
{
	cp_backup_list l;
	int rc = cp_backup_list_get(&l, repo);
	if (rc)
		return rc;
	const cp_backup_info *best = NULL;
	for (size_t i = 0; i < l.count; i++)
		if (!source || !strcmp(l.items[i].source, source))
			best = &l.items[i];
	if (!best)
		rc = source ? cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_REPOSITORY,
					   "the repository has no backup of '%s'", source)
			    : cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_REPOSITORY,
					   "the repository has no backups yet");
	else if (!(*id_out = strdup(best->id)))
		rc = cp_error_oom();
	cp_backup_list_dispose(&l);
	return rc;
}

int cp_backup_resolve(char **id_out, cp_repository *repo, const char *ref,
		      const char *source_filter)
{
	*id_out = NULL;
	if (!ref || !*ref)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no backup named; give an id, an id prefix or \"latest\"");
	if (!strcmp(ref, "latest"))
		return resolve_latest(id_out, repo, source_filter);
	char lower[CP_HEX_ID_LEN + 1];
	size_t n = strlen(ref);
	for (size_t i = 0; i < n && i < CP_HEX_ID_LEN; i++)
		lower[i] = (ref[i] >= 'A' && ref[i] <= 'F') ? (char)(ref[i] - 'A' + 'a') : ref[i];
	lower[n < CP_HEX_ID_LEN ? n : CP_HEX_ID_LEN] = '\0';
	if (n > CP_HEX_ID_LEN || !is_hex_prefix(lower))
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"'%s' is not a backup id: use hex digits of an id, or \"latest\"", ref);
	cp_names names;
	int rc = cp_names_get(&names, repo, CP_DIR_MANIFESTS);
	if (rc)
		return rc;
	size_t found = 0, which = 0;
	char candidates[256] = "";
	for (size_t i = 0; i < names.n; i++) {
		if (strncmp(names.names[i], lower, n))
			continue;
		if (found < 4) {
			size_t l = strlen(candidates);
			snprintf(candidates + l, sizeof(candidates) - l, "%s%.16s", l ? ", " : "",
				 names.names[i]);
		}
		found++;
		which = i;
	}
	if (!found)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_REPOSITORY,
				  "no backup id starts with '%s'; list them with `cloudprotect "
				  "snapshots`",
				  ref);
	else if (found > 1)
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				  "backup id prefix '%s' is ambiguous: %zu backups match (%s%s); "
				  "give more digits",
				  ref, found, candidates, found > 4 ? ", ..." : "");
	else if (!(*id_out = strdup(names.names[which])))
		rc = cp_error_oom();
	cp_names_dispose(&names);
	return rc;
}
