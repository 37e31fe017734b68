/* Public provider API: checks arguments and dispatches to the backend table. */
#include "cloudprotect/sys/provider.h"
#include "ctx.h"
#include "registry.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct cp_provider {
	const cp_provider_ops *ops;
	void *state;
	cp_ctx *ctx;
};

static const char *const kind_names[] = {
	"vm", "disk", "db", "nosql", "warehouse", "fileshare", "network",
};

const char *cp_resource_kind_name(cp_resource_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[kind];
}

int cp_resource_kind_parse(cp_resource_kind *out, const char *name)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (name && !strcmp(name, kind_names[i])) {
			*out = (cp_resource_kind)i;
			return 0;
		}
	}
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "unknown resource kind '%s'; use one of vm, disk, db, nosql, "
			    "warehouse, fileshare, network",
			    name ? name : "(null)");
}

const char *cp_snapshot_state_name(cp_snapshot_state state)
{
	switch (state) {
	case CP_SNAPSHOT_PENDING: return "pending";
	case CP_SNAPSHOT_COMPLETED: return "completed";
	case CP_SNAPSHOT_ERROR: return "error";
	}
	return "unknown";
}

static void append_names(char *dst, size_t cap)
{
	const char *const *names = NULL;
	dst[0] = '\0';
	if (cp_provider_names(&names))
		return;
	for (size_t i = 0; names[i]; i++) {
		if (i)
			strncat(dst, ", ", cap - strlen(dst) - 1);
		strncat(dst, names[i], cap - strlen(dst) - 1);
	}
}

int cp_provider_open(cp_provider **out, cp_ctx *ctx, const char *name, const char *config_json)
{
	*out = NULL;
	int rc = cp_registry_init();
	if (rc)
		return rc;
	if (!name || !*name)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no provider named; use --provider NAME");
	const cp_provider_ops *ops = cp_registry_provider(name);
	if (!ops) {
		char known[256];
		append_names(known, sizeof(known));
		return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				    "unknown provider '%s'; available providers: %s", name, known);
	}
	cp_provider *p = calloc(1, sizeof(*p));
	if (!p)
		return cp_error_oom();
	p->ops = ops;
	p->ctx = ctx;
	rc = ops->open(&p->state, ctx, config_json);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void cp_provider_free(cp_provider *provider)
{
	if (!provider)
		return;
	if (provider->ops->close)
		provider->ops->close(provider->state);
	free(provider);
}

const char *cp_provider_name(const cp_provider *provider)
{
	return provider->ops->name;
}

void *cp_provider_state(cp_provider *provider)
{
	return provider->state;
}

cp_ctx *cp_provider_ctx(cp_provider *provider)
{
	return provider->ctx;
}

const cp_provider_ops *cp_provider_get_ops(cp_provider *provider)
{
	return provider->ops;
}

static int unsupported(const cp_provider *p, const char *what)
{
	return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
			    "provider '%s' does not support %s", p->ops->name, what);
}

static int need_id(const char *id, const char *what)
{
	if (!id || !*id)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID, "no %s given", what);
	return 0;
}

int cp_provider_inventory(cp_provider *provider, const cp_inventory_filter *filter,
			  cp_resource_cb cb, void *payload)
{
	if (!provider->ops->inventory)
		return unsupported(provider, "inventory");
	return provider->ops->inventory(provider->state, filter, cb, payload);
}

int cp_snapshot_create(cp_provider *provider, const char *resource_id,
		       const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload)
{
	cp_snapshot_create_options defaults = CP_SNAPSHOT_CREATE_OPTIONS_INIT;
	int rc = need_id(resource_id, "resource id to snapshot");
	if (rc)
		return rc;
	if (!provider->ops->snapshot_create)
		return unsupported(provider, "creating snapshots");
	return provider->ops->snapshot_create(provider->state, resource_id, opts ? opts : &defaults,
					      cb, payload);
}

int cp_snapshot_list(cp_provider *provider, const char *resource_id, cp_snapshot_cb cb,
		     void *payload)
{
	if (!provider->ops->snapshot_list)
		return unsupported(provider, "listing snapshots");
	return provider->ops->snapshot_list(provider->state, resource_id, cb, payload);
}

int cp_snapshot_get(cp_provider *provider, const char *snapshot_id, cp_snapshot_cb cb,
		    void *payload)
{
	int rc = need_id(snapshot_id, "snapshot id");
	if (rc)
		return rc;
	if (!provider->ops->snapshot_get)
		return unsupported(provider, "looking up snapshots");
	return provider->ops->snapshot_get(provider->state, snapshot_id, cb, payload);
}

int cp_snapshot_delete(cp_provider *provider, const char *snapshot_id)
{
	int rc = need_id(snapshot_id, "snapshot id");
	if (rc)
		return rc;
	if (!provider->ops->snapshot_delete)
		return unsupported(provider, "deleting snapshots");
	return provider->ops->snapshot_delete(provider->state, snapshot_id);
}

int cp_snapshot_copy(cp_provider *provider, const char *snapshot_id, const char *region,
		     cp_snapshot_cb cb, void *payload)
{
	int rc = need_id(snapshot_id, "snapshot id");
	if (!rc)
		rc = need_id(region, "target region");
	if (rc)
		return rc;
	if (!provider->ops->snapshot_copy)
		return unsupported(provider, "copying snapshots");
	return provider->ops->snapshot_copy(provider->state, snapshot_id, region, cb, payload);
}

int cp_provider_tag(cp_provider *provider, const char *id, const cp_tag *tags, size_t ntags)
{
	int rc = need_id(id, "resource id to tag");
	if (rc)
		return rc;
	if (!provider->ops->tag)
		return unsupported(provider, "tags");
	return provider->ops->tag(provider->state, id, tags, ntags);
}

int cp_provider_untag(cp_provider *provider, const char *id, const char *const *keys, size_t nkeys)
{
	int rc = need_id(id, "resource id to untag");
	if (rc)
		return rc;
	if (!nkeys || !keys)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no tag keys given to remove from '%s'; give at least one KEY",
				    id);
	for (size_t i = 0; i < nkeys; i++)
		if (!keys[i] || !*keys[i])
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
					    "tag key %zu to remove from '%s' is empty", i + 1, id);
	if (provider->ops->version < 3 || !provider->ops->untag)
		return unsupported(provider, "removing tags");
	return provider->ops->untag(provider->state, id, keys, nkeys);
}

int cp_snapshot_open(cp_block_reader **out, cp_provider *provider, const char *snapshot_id)
{
	*out = NULL;
	int rc = need_id(snapshot_id, "snapshot id");
	if (rc)
		return rc;
	if (!provider->ops->snapshot_open)
		return unsupported(provider, "reading snapshot blocks");
	return provider->ops->snapshot_open(provider->state, snapshot_id, out);
}

int cp_snapshot_changed_blocks(cp_provider *provider, const char *base_snapshot_id,
			       const char *snapshot_id, cp_block_range_cb cb, void *payload)
{
	int rc = need_id(base_snapshot_id, "base snapshot id");
	if (!rc)
		rc = need_id(snapshot_id, "snapshot id");
	if (rc)
		return rc;
	if (!provider->ops->snapshot_changed_blocks)
		return unsupported(provider, "listing changed blocks");
	return provider->ops->snapshot_changed_blocks(provider->state, base_snapshot_id,
						      snapshot_id, cb, payload);
}

int cp_disk_create(cp_block_writer **out, cp_provider *provider, const cp_disk_create_options *opts)
{
	*out = NULL;
	if (!opts || !opts->size)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a new disk needs a size greater than zero");
	if (!provider->ops->disk_create)
		return unsupported(provider, "creating disks");
	return provider->ops->disk_create(provider->state, opts, out);
}

/* Version 2 operations: present only when the backend's table says so. */
#define HAS_OP(p, op) ((p)->ops->version >= 2 && (p)->ops->op)

/* Version 1 ended before architecture; a version-1 caller's struct is no longer than that. */
#define RESTORE_OPTIONS_V1_SIZE offsetof(cp_resource_restore_options, architecture)

static int check_architecture(const char *arch)
{
	if (!arch || !strcmp(arch, "x86_64") || !strcmp(arch, "arm64"))
		return 0;
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "unknown architecture '%s'; use x86_64 or arm64, or none to derive "
			    "it from the size class",
			    arch);
}

int cp_resource_restore(cp_provider *provider, const char *snapshot_id,
			const cp_resource_restore_options *opts, cp_resource_cb cb, void *payload)
{
	cp_resource_restore_options o = CP_RESOURCE_RESTORE_OPTIONS_INIT;
	int rc = need_id(snapshot_id, "snapshot id to restore");
	if (rc)
		return rc;
	if (opts && (opts->version < 1 || opts->version > CP_RESOURCE_RESTORE_OPTIONS_VERSION))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_resource_restore_options version %u is not supported (this "
				    "library knows 1 to %u)",
				    opts->version, CP_RESOURCE_RESTORE_OPTIONS_VERSION);
	/* Backends see one layout: fields newer than the caller's version keep their defaults. */
	if (opts)
		memcpy(&o, opts, opts->version >= 2 ? sizeof(o) : RESTORE_OPTIONS_V1_SIZE);
	o.version = CP_RESOURCE_RESTORE_OPTIONS_VERSION;
	rc = check_architecture(o.architecture);
	if (rc)
		return rc;
	if (!HAS_OP(provider, resource_restore))
		return unsupported(provider, "restoring snapshots to new resources");
	return provider->ops->resource_restore(provider->state, snapshot_id, &o, cb, payload);
}

const char *cp_worker_state_name(cp_worker_state state)
{
	switch (state) {
	case CP_WORKER_STARTING: return "starting";
	case CP_WORKER_RUNNING: return "running";
	case CP_WORKER_FINISHED: return "finished";
	case CP_WORKER_TERMINATED: return "terminated";
	case CP_WORKER_FAILED: return "failed";
	}
	return "unknown";
}

int cp_worker_launch(char **id_out, cp_provider *provider, const cp_worker_options *opts)
{
	*id_out = NULL;
	if (!opts || !opts->image || !*opts->image || !opts->size_class || !*opts->size_class)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a worker needs an image and a size class (instance type)");
	if (!HAS_OP(provider, worker_launch))
		return unsupported(provider, "workers");
	return provider->ops->worker_launch(provider->state, opts, id_out);
}

int cp_worker_get(cp_provider *provider, const char *id, cp_worker_cb cb, void *payload)
{
	int rc = need_id(id, "worker id");
	if (rc)
		return rc;
	if (!HAS_OP(provider, worker_get))
		return unsupported(provider, "workers");
	return provider->ops->worker_get(provider->state, id, cb, payload);
}

int cp_worker_list(cp_provider *provider, cp_worker_cb cb, void *payload)
{
	if (!HAS_OP(provider, worker_list))
		return unsupported(provider, "workers");
	return provider->ops->worker_list(provider->state, cb, payload);
}

int cp_worker_terminate(cp_provider *provider, const char *id)
{
	int rc = need_id(id, "worker id");
	if (rc)
		return rc;
	if (!HAS_OP(provider, worker_terminate))
		return unsupported(provider, "workers");
	return provider->ops->worker_terminate(provider->state, id);
}

int cp_network_export(char **json_out, cp_provider *provider, const char *region)
{
	*json_out = NULL;
	if (!HAS_OP(provider, network_export))
		return unsupported(provider, "exporting network configuration");
	return provider->ops->network_export(provider->state, region, json_out);
}

int cp_network_apply(cp_provider *provider, const char *json, const cp_network_apply_options *opts)
{
	cp_network_apply_options defaults = CP_NETWORK_APPLY_OPTIONS_INIT;
	if (!json || !*json)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no network document given; export one with "
				    "`cloudprotect network export`");
	if (!HAS_OP(provider, network_apply))
		return unsupported(provider, "applying network configuration");
	return provider->ops->network_apply(provider->state, json, opts ? opts : &defaults);
}
