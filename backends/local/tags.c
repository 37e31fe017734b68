/* Tags: owned copies, filter matching, and setting or removing a record's tags. */
#include "error.h"
#include "local_cloud.h"

#include <stdlib.h>
#include <string.h>

int local_tags_check(const cp_tag *tags, size_t ntags)
{
	if (ntags && !tags)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "%zu tags announced but no tag array given", ntags);
	for (size_t i = 0; i < ntags; i++) {
		if (!tags[i].key || !*tags[i].key)
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
					    "tag %zu has an empty key; tags are KEY=VALUE with a "
					    "non-empty KEY",
					    i + 1);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(tags[i].key, tags[j].key))
				return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
						    "tag key '%s' is given twice; give each key "
						    "once",
						    tags[i].key);
	}
	return 0;
}

int local_tags_copy(local_tags *out, const cp_tag *tags, size_t ntags)
{
	out->items = NULL;
	out->count = 0;
	if (!ntags)
		return 0;
	out->items = calloc(ntags, sizeof(*out->items));
	if (!out->items)
		return cp_error_oom();
	for (size_t i = 0; i < ntags; i++) {
		out->items[i].key = strdup(tags[i].key);
		out->items[i].value = strdup(tags[i].value ? tags[i].value : "");
		out->count++;
		if (!out->items[i].key || !out->items[i].value) {
			local_tags_dispose(out);
			return cp_error_oom();
		}
	}
	return 0;
}

void local_tags_dispose(local_tags *tags)
{
	for (size_t i = 0; i < tags->count; i++) {
		free((char *)tags->items[i].key);
		free((char *)tags->items[i].value);
	}
	free(tags->items);
	tags->items = NULL;
	tags->count = 0;
}

int local_tags_match(const local_tags *have, const cp_tag *want, size_t nwant)
{
	for (size_t i = 0; i < nwant; i++) {
		size_t k = 0;
		while (k < have->count && strcmp(have->items[k].key, want[i].key))
			k++;
		if (k == have->count)
			return 0;
		if (want[i].value && strcmp(have->items[k].value, want[i].value))
			return 0;
	}
	return 1;
}

/* What a tag or untag call changes: keys to drop, then keys to set. */
typedef struct tag_edit {
	const cp_tag *set;
	size_t nset;
	const char *const *drop;
	size_t ndrop;
} tag_edit;

static int set_one(local_tags *have, const cp_tag *t)
{
	char *value = strdup(t->value ? t->value : "");
	if (!value)
		return cp_error_oom();
	for (size_t k = 0; k < have->count; k++) {
		if (!strcmp(have->items[k].key, t->key)) {
			free((char *)have->items[k].value);
			have->items[k].value = value;
			return 0;
		}
	}
	cp_tag *grown = realloc(have->items, (have->count + 1) * sizeof(*grown));
	char *key = strdup(t->key);
	if (grown)
		have->items = grown;
	if (!grown || !key) {
		free(value);
		free(key);
		return cp_error_oom();
	}
	have->items[have->count].key = key;
	have->items[have->count].value = value;
	have->count++;
	return 0;
}

static void drop_one(local_tags *have, const char *key)
{
	for (size_t k = 0; k < have->count; k++) {
		if (!strcmp(have->items[k].key, key)) {
			free((char *)have->items[k].key);
			free((char *)have->items[k].value);
			have->count--;
			/* The last tag fills the hole; its old slot must not keep the pointers. */
			have->items[k] = have->items[have->count];
			have->items[have->count] = (cp_tag){NULL, NULL};
			return;
		}
	}
}

static int apply_edit(local_tags *have, const tag_edit *e)
{
	for (size_t i = 0; i < e->ndrop; i++)
		drop_one(have, e->drop[i]);
	int rc = 0;
	for (size_t i = 0; !rc && i < e->nset; i++)
		rc = set_one(have, &e->set[i]);
	return rc;
}

static int edit_instance(const local_cloud *cloud, const char *id, const tag_edit *e)
{
	local_instance rec;
	int rc = local_instance_load(&rec, cloud, id);
	if (rc)
		return rc;
	rc = apply_edit(&rec.tags, e);
	if (!rc)
		rc = local_instance_save(cloud, &rec);
	local_instance_dispose(&rec);
	return rc;
}

static int edit_disk(const local_cloud *cloud, const char *id, const tag_edit *e)
{
	local_disk rec;
	int rc = local_disk_load(&rec, cloud, id);
	if (rc)
		return rc;
	rc = apply_edit(&rec.tags, e);
	if (!rc)
		rc = local_disk_save(cloud, &rec);
	local_disk_dispose(&rec);
	return rc;
}

static int edit_snapshot(const local_cloud *cloud, const char *id, const tag_edit *e)
{
	local_snapshot rec;
	int rc = local_snapshot_load(&rec, cloud, id);
	if (rc)
		return rc;
	rc = apply_edit(&rec.tags, e);
	if (!rc)
		rc = local_snapshot_save(cloud, &rec);
	local_snapshot_dispose(&rec);
	return rc;
}

static int edit_tags(local_cloud *cloud, const char *id, const tag_edit *e)
{
	local_kind kind;
	int rc = local_require_init(cloud);
	if (!rc)
		rc = local_id_kind(&kind, id);
	if (rc)
		return rc;
	/* Exclusive, so a concurrent delete cannot be undone by our rewrite. */
	local_lock lock = LOCAL_LOCK_INIT;
	rc = local_lock_take(&lock, cloud, kind, id, 1, 0);
	if (rc)
		return rc;
	switch (kind) {
	case LOCAL_INSTANCE: rc = edit_instance(cloud, id, e); break;
	case LOCAL_DISK: rc = edit_disk(cloud, id, e); break;
	case LOCAL_SNAPSHOT: rc = edit_snapshot(cloud, id, e); break;
	}
	local_lock_release(&lock);
	return rc;
}

int local_tag(void *state, const char *id, const cp_tag *tags, size_t ntags)
{
	int rc = local_tags_check(tags, ntags);
	tag_edit e = {tags, ntags, NULL, 0};
	return rc ? rc : edit_tags(state, id, &e);
}

int local_untag(void *state, const char *id, const char *const *keys, size_t nkeys)
{
	tag_edit e = {NULL, 0, keys, nkeys};
	return edit_tags(state, id, &e);
}
