/*
 * The "local" provider: a cloud in a directory, for trying everything
 * without an account and for testing the backup and restore paths
 * against a provider that tracks changed blocks exactly.
 *
 * Config: {"root": "/abs/dir", "region": "local-1", "unwritten_blocks": "zero"|"garbage"}.
 *
 * Layout under root (made by cp_local_init, `cloudprotect local init`):
 *
 *   cloud.json                 {"format": "cloudprotect-local", "version": 1}
 *   instances/<i-id>.json      instance record: name, region, created, tags
 *   instances/<i-id>.lock      flock'd while the instance changes or is snapshotted
 *   disks/<vol-id>.json        disk record: name, size, instance_id (attachment),
 *                              tags, fingerprint of the image, tracking epoch
 *   disks/<vol-id>.img         the disk's bytes, a sparse file of exactly size bytes
 *   disks/<vol-id>.cbt         generation map (see cbt.c): u64 per 512 KiB block
 *   disks/<vol-id>.lock        flock'd by writes, snapshots and record updates
 *   snapshots/<snap-id>.json   snapshot record: disk, instance, group, region,
 *                              generation and tracking validity
 *   snapshots/<snap-id>.img    point-in-time copy of the disk image (reflink or sparse)
 *   snapshots/<snap-id>.cbt    copy of the disk's generation map at that moment
 *   snapshots/<snap-id>.lock
 *   workers/<w-id>/            a worker: its job, record, output and exit status
 *                              (see workers.c)
 *
 * A record's .json exists exactly while the record does; it is written
 * last on creation and removed first on deletion, always atomically, so
 * other processes sharing the root see whole records or none. Data files
 * of a record whose .json is missing are leftovers of a crash.
 */
#include "ctx.h"
#include "fs.h"
#include "json.h"
#include "local_cloud.h"
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_CONFIG "{\"root\": \"/var/lib/cloudprotect/local\", \"region\": \"local-1\"}"

static void cloud_free(local_cloud *cloud)
{
	if (!cloud)
		return;
	free(cloud->root);
	free(cloud->region);
	free(cloud);
}

static int config_error(const char *fmt, ...) CP_PRINTF(1, 2);

static int config_error(const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
			    "local provider config: %s; example: " EXAMPLE_CONFIG, what);
}

static int check_known_fields(yajl_val cfg)
{
	static const char *const known[] = {"root", "region", "unwritten_blocks"};
	for (size_t i = 0; i < cfg->u.object.len; i++) {
		const char *key = cfg->u.object.keys[i];
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) && strcmp(key, known[k]))
			k++;
		if (k == sizeof(known) / sizeof(known[0]))
			return config_error("unknown field '%s' (known: root, region, "
					    "unwritten_blocks)",
					    key);
	}
	return 0;
}

static int string_field(const char **out, yajl_val cfg, const char *key)
{
	yajl_val v = cp_json_get(cfg, key);
	*out = NULL;
	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_STRING(v))
		return config_error("field '%s' must be a string", key);
	*out = YAJL_GET_STRING(v);
	return 0;
}

static int parse_config(local_cloud *cloud, const char *config_json)
{
	if (!config_json || !*config_json)
		return config_error("%s", "no config given; the field 'root' is required");
	yajl_val cfg = NULL;
	int rc = cp_json_parse(&cfg, config_json, "it");
	if (rc) {
		/* Keep yajl's reason and add an example of a config that works. */
		char reason[200];
		snprintf(reason, sizeof(reason), "%s", cp_error_last()->message);
		return config_error("%s", reason);
	}
	const char *root = NULL, *region = NULL, *unwritten = NULL;
	if (!YAJL_IS_OBJECT(cfg)) {
		rc = config_error("%s", "it must be a JSON object");
		goto out;
	}
	if ((rc = check_known_fields(cfg)) || (rc = string_field(&root, cfg, "root")) ||
	    (rc = string_field(&region, cfg, "region")) ||
	    (rc = string_field(&unwritten, cfg, "unwritten_blocks")))
		goto out;
	if (!root || !*root) {
		rc = config_error("%s", "the field 'root' (the cloud's directory) is missing");
		goto out;
	}
	if (root[0] != '/') {
		rc = config_error("field 'root' must be an absolute path, not '%s'", root);
		goto out;
	}
	if (region && !*region) {
		rc = config_error("%s", "field 'region' is empty; leave it out for local-1");
		goto out;
	}
	if (unwritten && strcmp(unwritten, "zero") && strcmp(unwritten, "garbage")) {
		rc = config_error("field 'unwritten_blocks' must be \"zero\" or \"garbage\", "
				  "not '%s'",
				  unwritten);
		goto out;
	}
	size_t len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	cloud->root = strndup(root, len);
	cloud->region = strdup(region ? region : LOCAL_DEFAULT_REGION);
	cloud->garbage_unwritten = unwritten && !strcmp(unwritten, "garbage");
	if (!cloud->root || !cloud->region)
		rc = cp_error_oom();
out:
	yajl_tree_free(cfg);
	return rc;
}

static int local_open(void **state, cp_ctx *ctx, const char *config_json)
{
	*state = NULL;
	local_cloud *cloud = calloc(1, sizeof(*cloud));
	if (!cloud)
		return cp_error_oom();
	cloud->ctx = ctx;
	/* An uninitialised root is fine here: cp_local_init needs an open handle. */
	int rc = parse_config(cloud, config_json);
	if (rc) {
		cloud_free(cloud);
		return rc;
	}
	*state = cloud;
	return 0;
}

static void local_close(void *state)
{
	cloud_free(state);
}

int local_from_provider(local_cloud **out, cp_provider *provider)
{
	*out = NULL;
	if (!provider)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no provider given; open one with cp_provider_open(..., "
				    "\"local\", ...)");
	if (cp_provider_get_ops(provider) != &cp_local_provider_ops)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "provider '%s' is not the local provider; this call works "
				    "only on a provider opened as \"local\"",
				    cp_provider_name(provider));
	*out = cp_provider_state(provider);
	return 0;
}

static int check_marker(const local_cloud *cloud, const char *path, const cp_buf *text)
{
	yajl_val v = NULL;
	int rc = cp_json_parse(&v, text->ptr, path);
	if (rc)
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
				    "'%s' is damaged (%s); if '%s' holds nothing else, remove it "
				    "and run `cloudprotect local init` again",
				    path, cp_error_last()->message, cloud->root);
	const char *format = cp_json_str(v, "format");
	int64_t version = 0;
	if (!format || strcmp(format, LOCAL_FORMAT_MARKER))
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_PROVIDER,
				  "'%s' is not a local cloud (its cloud.json has no format "
				  "\"" LOCAL_FORMAT_MARKER "\"); choose another root",
				  cloud->root);
	else if (cp_json_int(v, "version", &version, 0) || version < 1)
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
				  "'%s' has no valid version number", path);
	else if (version > LOCAL_FORMAT_VERSION)
		rc = cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
				  "the local cloud at '%s' has layout version %lld but this "
				  "library reads only up to %d; upgrade libcloudprotect",
				  cloud->root, (long long)version, LOCAL_FORMAT_VERSION);
	yajl_tree_free(v);
	return rc;
}

int local_require_init(const local_cloud *cloud)
{
	char *path = cp_path_join(cloud->root, "cloud.json");
	if (!path)
		return cp_error_oom();
	cp_buf text = CP_BUF_INIT;
	int rc = cp_fs_read_file(path, &text);
	if (rc == CP_ENOTFOUND)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				  "no local cloud at '%s'; create it with `cloudprotect local "
				  "init` (cp_local_init)",
				  cloud->root);
	else if (!rc)
		rc = check_marker(cloud, path, &text);
	cp_buf_dispose(&text);
	free(path);
	return rc;
}

static int write_marker(const char *path)
{
	cp_json_writer w;
	cp_buf text = CP_BUF_INIT;
	int rc = cp_json_writer_init(&w, 1);
	if (rc)
		return rc;
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "format", LOCAL_FORMAT_MARKER);
	cp_json_kv_int(&w, "version", LOCAL_FORMAT_VERSION);
	cp_json_end_map(&w);
	rc = cp_json_writer_finish(&w, &text);
	cp_json_writer_dispose(&w);
	if (!rc)
		rc = cp_fs_write_atomic(path, text.ptr, text.size, 1);
	cp_buf_dispose(&text);
	return rc;
}

int cp_local_init(cp_provider *provider)
{
	local_cloud *cloud = NULL;
	int rc = local_from_provider(&cloud, provider);
	for (int k = LOCAL_INSTANCE; !rc && k <= LOCAL_SNAPSHOT; k++) {
		char *dir = cp_path_join(cloud->root, local_kind_dir((local_kind)k));
		rc = dir ? cp_fs_mkdir_p(dir, 0755) : cp_error_oom();
		free(dir);
	}
	if (rc)
		return rc;
	char *path = cp_path_join(cloud->root, "cloud.json");
	if (!path)
		return cp_error_oom();
	rc = write_marker(path);
	/* Initialising twice is fine, as long as what is there is a local cloud. */
	if (rc == CP_EEXISTS)
		rc = local_require_init(cloud);
	else if (!rc)
		cp_log(cloud->ctx, CP_LOG_INFO, "created local cloud at '%s'", cloud->root);
	free(path);
	return rc;
}

const cp_provider_ops cp_local_provider_ops = {
	.version = CP_PROVIDER_OPS_VERSION,
	.name = "local",
	.description = "a cloud in a directory: instances, sparse disks, snapshots with "
		       "changed-block tracking",
	.open = local_open,
	.close = local_close,
	.inventory = local_inventory,
	.snapshot_create = local_snapshot_create,
	.snapshot_list = local_snapshot_list,
	.snapshot_get = local_snapshot_get,
	.snapshot_delete = local_snapshot_delete,
	.snapshot_copy = local_snapshot_copy,
	.tag = local_tag,
	.snapshot_open = local_snapshot_open,
	.snapshot_changed_blocks = local_changed_blocks,
	.disk_create = local_disk_create_writer,
	.worker_launch = local_worker_launch,
	.worker_get = local_worker_get,
	.worker_list = local_worker_list,
	.worker_terminate = local_worker_terminate,
	.untag = local_untag,
};
