/* Inventory: instances (with the sum of their disks' sizes) and disks, filtered. */
#include "error.h"
#include "local_cloud.h"

#include <stdlib.h>
#include <string.h>

#define LOCAL_ACCOUNT "local"

static int in_list(const char *const *list, const char *value)
{
	if (!list)
		return 1;
	for (size_t i = 0; list[i]; i++)
		if (value && !strcmp(list[i], value))
			return 1;
	return 0;
}

static int wanted(const cp_inventory_filter *f, const cp_resource *r, const local_tags *tags)
{
	if (!f)
		return 1;
	return (f->kind < 0 || f->kind == (int)r->kind) && in_list(f->ids, r->id) &&
	       in_list(f->regions, r->region) && local_tags_match(tags, f->tags, f->ntags);
}

static int list_instances(const local_cloud *cloud, const local_disk *disks, size_t ndisks,
			  const cp_inventory_filter *filter, cp_resource_cb cb, void *payload)
{
	char **ids = NULL;
	size_t nids = 0;
	int rc = local_list_ids(&ids, &nids, cloud, LOCAL_INSTANCE);
	for (size_t i = 0; !rc && i < nids; i++) {
		local_instance inst;
		rc = local_instance_load(&inst, cloud, ids[i]);
		if (rc == CP_ENOTFOUND) { /* deleted since we listed it */
			rc = 0;
			continue;
		}
		if (rc)
			break;
		cp_resource r = {.kind = CP_RESOURCE_VM,
				 .id = inst.id,
				 .name = inst.name,
				 .region = inst.region,
				 .account = LOCAL_ACCOUNT,
				 .tags = inst.tags.items,
				 .ntags = inst.tags.count};
		for (size_t d = 0; d < ndisks; d++)
			if (disks[d].instance_id && !strcmp(disks[d].instance_id, inst.id))
				r.size += disks[d].size;
		if (wanted(filter, &r, &inst.tags))
			rc = cb(&r, payload);
		local_instance_dispose(&inst);
	}
	local_ids_free(ids, nids);
	return rc;
}

static int list_disks(const local_disk *disks, size_t ndisks, const cp_inventory_filter *filter,
		      cp_resource_cb cb, void *payload)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < ndisks; i++) {
		const local_disk *d = &disks[i];
		cp_resource r = {.kind = CP_RESOURCE_DISK,
				 .id = d->id,
				 .name = d->name,
				 .region = d->region,
				 .account = LOCAL_ACCOUNT,
				 .parent_id = d->instance_id,
				 .size = d->size,
				 .tags = d->tags.items,
				 .ntags = d->tags.count};
		if (wanted(filter, &r, &d->tags))
			rc = cb(&r, payload);
	}
	return rc;
}

int local_inventory(void *state, const cp_inventory_filter *filter, cp_resource_cb cb,
		    void *payload)
{
	local_cloud *cloud = state;
	int rc = local_require_init(cloud);
	if (rc)
		return rc;
	if (!cb)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no callback given to receive the inventory");
	if (filter && filter->version < 1)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "inventory filter has no version; start from "
				    "CP_INVENTORY_FILTER_INIT");
	if (filter && filter->ntags && !filter->tags)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "inventory filter announces %zu tags but gives none",
				    filter->ntags);
	for (size_t i = 0; filter && i < filter->ntags; i++)
		if (!filter->tags[i].key)
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
					    "inventory filter tag %zu has no key", i + 1);
	local_disk *disks = NULL;
	size_t ndisks = 0;
	rc = local_load_disks(&disks, &ndisks, cloud);
	int want_vms = !filter || filter->kind < 0 || filter->kind == CP_RESOURCE_VM;
	int want_disks = !filter || filter->kind < 0 || filter->kind == CP_RESOURCE_DISK;
	if (!rc && want_vms)
		rc = list_instances(cloud, disks, ndisks, filter, cb, payload);
	if (!rc && want_disks)
		rc = list_disks(disks, ndisks, filter, cb, payload);
	local_disks_free(disks, ndisks);
	return rc;
}
