/*
 * Instance, disk and snapshot records: JSON files written atomically, so
 * a reader in another process sees the old record or the new one.
 */
#include "error.h"
#include "fs.h"
#include "json.h"
#include "local_cloud.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t local_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reading. */

static int load_json(yajl_val *out, const local_cloud *cloud, local_kind kind, const char *id)
{
	*out = NULL;
	int rc = local_id_check(id, kind);
	if (rc)
		return rc;
	char *path = local_path(cloud, kind, id, ".json");
	if (!path)
		return cp_error_oom();
	cp_buf text = CP_BUF_INIT;
	rc = cp_fs_read_file(path, &text);
	if (rc == CP_ENOTFOUND)
		rc = local_not_found(cloud, kind, id);
	if (!rc && cp_json_parse(out, text.ptr, path))
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
				  "%s record '%s' is damaged (%s); delete the %s and recreate it",
				  local_kind_noun(kind), path, cp_error_last()->message,
				  local_kind_noun(kind));
	cp_buf_dispose(&text);
	free(path);
	return rc;
}

static int damaged(const char *id, const char *field)
{
	return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
			    "the record of '%s' has no valid '%s'; delete it and recreate it", id,
			    field);
}

/* A string member, copied; absent or null gives NULL unless required. */
static int get_str(char **out, yajl_val v, const char *key, int required, const char *id)
{
	const char *s = cp_json_str(v, key);
	*out = NULL;
	if (!s)
		return required ? damaged(id, key) : 0;
	*out = strdup(s);
	return *out ? 0 : cp_error_oom();
}

static int get_u64(uint64_t *out, yajl_val v, const char *key, const char *id)
{
	int64_t n = 0;
	if (cp_json_int(v, key, &n, 0) || n < 0)
		return damaged(id, key);
	*out = (uint64_t)n;
	return 0;
}

static int get_bool(int *out, yajl_val v, const char *key)
{
	yajl_val b = cp_json_get(v, key);
	*out = b && YAJL_IS_TRUE(b);
	return 0;
}

static int get_tags(local_tags *out, yajl_val v, const char *id)
{
	yajl_val arr = cp_json_get(v, "tags");
	out->items = NULL;
	out->count = 0;
	if (!arr || YAJL_IS_NULL(arr))
		return 0;
	if (!YAJL_IS_ARRAY(arr))
		return damaged(id, "tags");
	size_t n = arr->u.array.len;
	cp_tag *tags = calloc(n ? n : 1, sizeof(*tags));
	if (!tags)
		return cp_error_oom();
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		tags[i].key = cp_json_str(arr->u.array.values[i], "key");
		tags[i].value = cp_json_str(arr->u.array.values[i], "value");
		if (!tags[i].key)
			rc = damaged(id, "tags");
	}
	if (!rc)
		rc = local_tags_copy(out, tags, n);
	free(tags);
	return rc;
}

int local_instance_load(local_instance *out, const local_cloud *cloud, const char *id)
{
	memset(out, 0, sizeof(*out));
	yajl_val v = NULL;
	int rc = load_json(&v, cloud, LOCAL_INSTANCE, id);
	int64_t created = 0;
	if (!rc)
		rc = get_str(&out->id, v, "id", 1, id);
	if (!rc)
		rc = get_str(&out->name, v, "name", 0, id);
	if (!rc)
		rc = get_str(&out->region, v, "region", 1, id);
	if (!rc && cp_json_int(v, "created", &created, 0))
		rc = damaged(id, "created");
	out->created = created;
	if (!rc)
		rc = get_tags(&out->tags, v, id);
	yajl_tree_free(v);
	if (rc)
		local_instance_dispose(out);
	return rc;
}

int local_disk_load(local_disk *out, const local_cloud *cloud, const char *id)
{
	memset(out, 0, sizeof(*out));
	yajl_val v = NULL;
	int rc = load_json(&v, cloud, LOCAL_DISK, id);
	int64_t created = 0, mtime = 0;
	if (!rc)
		rc = get_str(&out->id, v, "id", 1, id);
	if (!rc)
		rc = get_str(&out->name, v, "name", 0, id);
	if (!rc)
		rc = get_str(&out->region, v, "region", 1, id);
	if (!rc)
		rc = get_str(&out->instance_id, v, "instance_id", 0, id);
	if (!rc)
		rc = get_u64(&out->size, v, "size", id);
	if (!rc && cp_json_int(v, "created", &created, 0))
		rc = damaged(id, "created");
	if (!rc)
		rc = get_u64(&out->image.size, v, "image_size", id);
	if (!rc && cp_json_int(v, "image_mtime_ns", &mtime, 0))
		rc = damaged(id, "image_mtime_ns");
	if (!rc)
		rc = get_u64(&out->tracking_epoch, v, "tracking_epoch", id);
	if (!rc)
		rc = get_bool(&out->tracking_lost, v, "tracking_lost");
	if (!rc)
		rc = get_tags(&out->tags, v, id);
	out->created = created;
	out->image.mtime_ns = mtime;
	yajl_tree_free(v);
	if (rc)
		local_disk_dispose(out);
	return rc;
}

int local_snapshot_load(local_snapshot *out, const local_cloud *cloud, const char *id)
{
	memset(out, 0, sizeof(*out));
	yajl_val v = NULL;
	int rc = load_json(&v, cloud, LOCAL_SNAPSHOT, id);
	int64_t created = 0, created_ns = 0;
	if (!rc)
		rc = get_str(&out->id, v, "id", 1, id);
	if (!rc)
		rc = get_str(&out->disk_id, v, "disk_id", 1, id);
	if (!rc)
		rc = get_str(&out->instance_id, v, "instance_id", 0, id);
	if (!rc)
		rc = get_str(&out->group_id, v, "group_id", 0, id);
	if (!rc)
		rc = get_str(&out->region, v, "region", 1, id);
	if (!rc)
		rc = get_str(&out->description, v, "description", 0, id);
	if (!rc)
		rc = get_str(&out->copied_from, v, "copied_from", 0, id);
	if (!rc)
		rc = get_u64(&out->size, v, "size", id);
	if (!rc && (cp_json_int(v, "created", &created, 0) ||
		    cp_json_int(v, "created_ns", &created_ns, 0)))
		rc = damaged(id, "created");
	if (!rc)
		rc = get_u64(&out->generation, v, "generation", id);
	if (!rc)
		rc = get_u64(&out->tracking_epoch, v, "tracking_epoch", id);
	if (!rc) {
		const char *tracking = cp_json_str(v, "tracking");
		out->tracking_valid = tracking && !strcmp(tracking, "valid");
		rc = get_tags(&out->tags, v, id);
	}
	out->created = created;
	out->created_ns = created_ns;
	yajl_tree_free(v);
	if (rc)
		local_snapshot_dispose(out);
	return rc;
}

/* Writing. */

static void put_tags(cp_json_writer *w, const local_tags *tags)
{
	cp_json_key(w, "tags");
	cp_json_begin_array(w);
	for (size_t i = 0; i < tags->count; i++) {
		cp_json_begin_map(w);
		cp_json_kv_str(w, "key", tags->items[i].key);
		cp_json_kv_str(w, "value", tags->items[i].value);
		cp_json_end_map(w);
	}
	cp_json_end_array(w);
}

static void put_u64(cp_json_writer *w, const char *key, uint64_t value)
{
	cp_json_key(w, key);
	cp_json_uint64(w, value);
}

static int save_json(cp_json_writer *w, const local_cloud *cloud, local_kind kind, const char *id)
{
	cp_buf text = CP_BUF_INIT;
	char *path = local_path(cloud, kind, id, ".json");
	int rc = path ? cp_json_writer_finish(w, &text) : cp_error_oom();
	if (!rc)
		rc = cp_fs_write_atomic(path, text.ptr, text.size, 0);
	cp_json_writer_dispose(w);
	cp_buf_dispose(&text);
	free(path);
	return rc;
}

int local_instance_save(const local_cloud *cloud, const local_instance *rec)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 1);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "id", rec->id);
	cp_json_kv_str(&w, "name", rec->name);
	cp_json_kv_str(&w, "region", rec->region);
	cp_json_kv_int(&w, "created", rec->created);
	put_tags(&w, &rec->tags);
	cp_json_end_map(&w);
	return save_json(&w, cloud, LOCAL_INSTANCE, rec->id);
}

int local_disk_save(const local_cloud *cloud, const local_disk *rec)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 1);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "id", rec->id);
	cp_json_kv_str(&w, "name", rec->name);
	cp_json_kv_str(&w, "region", rec->region);
	cp_json_kv_str(&w, "instance_id", rec->instance_id);
	put_u64(&w, "size", rec->size);
	cp_json_kv_int(&w, "created", rec->created);
	put_u64(&w, "image_size", rec->image.size);
	cp_json_kv_int(&w, "image_mtime_ns", rec->image.mtime_ns);
	put_u64(&w, "tracking_epoch", rec->tracking_epoch);
	cp_json_key(&w, "tracking_lost");
	cp_json_bool(&w, rec->tracking_lost);
	put_tags(&w, &rec->tags);
	cp_json_end_map(&w);
	return save_json(&w, cloud, LOCAL_DISK, rec->id);
}

int local_snapshot_save(const local_cloud *cloud, const local_snapshot *rec)
{
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 1);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "id", rec->id);
	cp_json_kv_str(&w, "disk_id", rec->disk_id);
	cp_json_kv_str(&w, "instance_id", rec->instance_id);
	cp_json_kv_str(&w, "group_id", rec->group_id);
	cp_json_kv_str(&w, "region", rec->region);
	cp_json_kv_str(&w, "description", rec->description);
	cp_json_kv_str(&w, "copied_from", rec->copied_from);
	cp_json_kv_str(&w, "state", "completed");
	put_u64(&w, "size", rec->size);
	put_u64(&w, "block_size", LOCAL_BLOCK_SIZE);
	cp_json_kv_int(&w, "created", rec->created);
	cp_json_kv_int(&w, "created_ns", rec->created_ns);
	put_u64(&w, "generation", rec->generation);
	put_u64(&w, "tracking_epoch", rec->tracking_epoch);
	cp_json_kv_str(&w, "tracking", rec->tracking_valid ? "valid" : "invalid");
	put_tags(&w, &rec->tags);
	cp_json_end_map(&w);
	return save_json(&w, cloud, LOCAL_SNAPSHOT, rec->id);
}

void local_instance_dispose(local_instance *rec)
{
	free(rec->id);
	free(rec->name);
	free(rec->region);
	local_tags_dispose(&rec->tags);
	memset(rec, 0, sizeof(*rec));
}

void local_disk_dispose(local_disk *rec)
{
	free(rec->id);
	free(rec->name);
	free(rec->region);
	free(rec->instance_id);
	local_tags_dispose(&rec->tags);
	memset(rec, 0, sizeof(*rec));
}

void local_snapshot_dispose(local_snapshot *rec)
{
	free(rec->id);
	free(rec->disk_id);
	free(rec->instance_id);
	free(rec->group_id);
	free(rec->region);
	free(rec->description);
	free(rec->copied_from);
	local_tags_dispose(&rec->tags);
	memset(rec, 0, sizeof(*rec));
}

void local_snapshot_to_public(cp_snapshot *out, const local_snapshot *rec)
{
	memset(out, 0, sizeof(*out));
	out->id = rec->id;
	out->resource_id = rec->disk_id;
	out->instance_id = rec->instance_id;
	out->group_id = rec->group_id;
	out->region = rec->region;
	out->size = rec->size;
	out->block_size = LOCAL_BLOCK_SIZE;
	out->created = rec->created;
	out->state = CP_SNAPSHOT_COMPLETED;
	out->kind = CP_RESOURCE_DISK;
	out->tags = rec->tags.items;
	out->ntags = rec->tags.count;
}

/* Listing. */

static int compare_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void local_ids_free(char **ids, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(ids[i]);
	free(ids);
}

static int add_id(char ***ids, size_t *count, size_t *cap, const char *name, size_t len)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **grown = realloc(*ids, ncap * sizeof(**ids));
		if (!grown)
			return cp_error_oom();
		*ids = grown;
		*cap = ncap;
	}
	(*ids)[*count] = strndup(name, len);
	if (!(*ids)[*count])
		return cp_error_oom();
	(*count)++;
	return 0;
}

int local_list_ids(char ***out, size_t *count, const local_cloud *cloud, local_kind kind)
{
	*out = NULL;
	*count = 0;
	char *dir_path = cp_path_join(cloud->root, local_kind_dir(kind));
	if (!dir_path)
		return cp_error_oom();
	DIR *dir = opendir(dir_path);
	if (!dir) {
		int rc = cp_error_set_os(CP_EIO, errno, "cannot list '%s'", dir_path);
		free(dir_path);
		return rc;
	}
	char **ids = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	char id[LOCAL_ID_LEN];
	while (!rc && (e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		/* Only NAME.json where NAME is an id: temp files and leftovers are not records. */
		if (len < 6 || len - 5 >= sizeof(id) || strcmp(e->d_name + len - 5, ".json"))
			continue;
		memcpy(id, e->d_name, len - 5);
		id[len - 5] = '\0';
		if (local_id_is(id, kind))
			rc = add_id(&ids, &n, &cap, id, len - 5);
	}
	closedir(dir);
	free(dir_path);
	if (rc) {
		local_ids_free(ids, n);
		return rc;
	}
	if (n)
		qsort(ids, n, sizeof(*ids), compare_ids);
	*out = ids;
	*count = n;
	return 0;
}

void local_disks_free(local_disk *disks, size_t count)
{
	for (size_t i = 0; i < count; i++)
		local_disk_dispose(&disks[i]);
	free(disks);
}

int local_load_disks(local_disk **out, size_t *count, const local_cloud *cloud)
{
	*out = NULL;
	*count = 0;
	char **ids = NULL;
	size_t nids = 0, n = 0;
	int rc = local_list_ids(&ids, &nids, cloud, LOCAL_DISK);
	if (rc)
		return rc;
	local_disk *disks = calloc(nids ? nids : 1, sizeof(*disks));
	if (!disks)
		rc = cp_error_oom();
	for (size_t i = 0; !rc && i < nids; i++) {
		rc = local_disk_load(&disks[n], cloud, ids[i]);
		if (rc == CP_ENOTFOUND) /* deleted since we listed it */
			rc = 0;
		else if (!rc)
			n++;
	}
	local_ids_free(ids, nids);
	if (rc) {
		local_disks_free(disks, n);
		return rc;
	}
	*out = disks;
	*count = n;
	return 0;
}
