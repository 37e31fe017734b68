/*
 * EC2 (instances, EBS volumes and snapshots) as one of the provider's
 * services; machine images (ami-, which `snapshot restore` makes) as
 * another that only takes tags, so every other call on an image says so.
 */
#include "provider_aws.h"

#include <string.h>

static int has_prefix(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

static int ec2_owns(const char *id)
{
	return has_prefix(id, "i-") || has_prefix(id, "vol-") || has_prefix(id, "snap-");
}

static int inventory(aws_provider *p, const cp_inventory_filter *filter, cp_resource_cb cb,
		     void *payload)
{
	return ec2_inventory(p, filter, cb, payload);
}

static int snapshot_create(aws_provider *p, const char *resource_id,
			   const cp_snapshot_create_options *opts, cp_snapshot_cb cb, void *payload)
{
	return ec2_snapshot_create(p, resource_id, opts, cb, payload);
}

static int snapshot_list(aws_provider *p, const char *resource_id, cp_snapshot_cb cb, void *payload)
{
	return ec2_snapshot_list(p, resource_id, cb, payload);
}

static int snapshot_get(aws_provider *p, const char *snapshot_id, cp_snapshot_cb cb, void *payload)
{
	return ec2_snapshot_get(p, snapshot_id, cb, payload);
}

static int snapshot_delete(aws_provider *p, const char *snapshot_id)
{
	return ec2_snapshot_delete(p, snapshot_id);
}

static int snapshot_copy(aws_provider *p, const char *snapshot_id, const char *region,
			 cp_snapshot_cb cb, void *payload)
{
	return ec2_snapshot_copy(p, snapshot_id, region, cb, payload);
}

static int tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags)
{
	return ec2_tag(p, id, tags, ntags);
}

const aws_service aws_service_ec2 = {
	.name = "EC2",
	.owns = ec2_owns,
	.inventory = inventory,
	.snapshot_create = snapshot_create,
	.snapshot_list = snapshot_list,
	.snapshot_get = snapshot_get,
	.snapshot_delete = snapshot_delete,
	.snapshot_copy = snapshot_copy,
	.resource_restore = ec2_image_restore,
	.tag = tag,
	.untag = ec2_untag,
};

static int ec2_image_owns(const char *id)
{
	return has_prefix(id, "ami-");
}

const aws_service aws_service_ec2_images = {
	.name = "EC2 images",
	.owns = ec2_image_owns,
	.tag = tag,
	.untag = ec2_untag,
};
