/*
 * Restore of EBS snapshots to a machine image (AMI) and, if asked, an
 * instance booted from it: the last step of "restore a backup to a new
 * machine" (the backup first became a snapshot through EBS direct).
 *
 * The root snapshot becomes /dev/xvda and the data snapshots /dev/xvdb,
 * /dev/xvdc, ... in the order given; the image is HVM with ENA, of the
 * architecture asked for, else the one the launch size class runs, else
 * x86_64.
 *
 * cb receives the image first, as a CP_RESOURCE_VM whose id is the AMI id
 * ("ami-..."): an image is not a running machine, but it is what a machine
 * is made from, and the id's prefix tells the two apart. With launch, the
 * instance follows, as a CP_RESOURCE_VM with its "i-..." id.
 */
#include "ctx.h"
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEVICES 25 /* /dev/xvda .. /dev/xvdy */

static int check_snapshot_id(const char *id)
{
	if (id && !strncmp(id, "snap-", 5))
		return 0;
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "'%s' is not an EBS snapshot id (snap-...); restoring to a machine "
			    "image needs the snapshots of its disks",
			    id ? id : "(null)");
}

static int check_options(const char *snapshot_id, const cp_resource_restore_options *opts)
{
	int rc = check_snapshot_id(snapshot_id);
	for (size_t i = 0; !rc && i < opts->ndata_snapshots; i++)
		rc = check_snapshot_id(opts->data_snapshot_ids[i]);
	if (rc)
		return rc;
	if (1 + opts->ndata_snapshots > MAX_DEVICES)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "%zu data snapshots are too many for one image (at most %d)",
				    opts->ndata_snapshots, MAX_DEVICES - 1);
	if (opts->launch && (!opts->size_class || !*opts->size_class))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "launching an instance from the restored image needs an "
				    "instance type; give a size class (--size-class m5.large)");
	return 0;
}

static void add_tags(ec2_params *q, const char *type, const char *name, const cp_tag *tags,
		     size_t ntags)
{
	if (!name && !ntags)
		return;
	ec2_param(q, "TagSpecification.1.ResourceType", type);
	size_t n = 0;
	if (name) {
		ec2_paramf(q, "Name", "TagSpecification.1.Tag.%zu.Key", ++n);
		ec2_paramf(q, name, "TagSpecification.1.Tag.%zu.Value", n);
	}
	for (size_t i = 0; i < ntags; i++) {
		ec2_paramf(q, tags[i].key, "TagSpecification.1.Tag.%zu.Key", ++n);
		ec2_paramf(q, tags[i].value ? tags[i].value : "",
			   "TagSpecification.1.Tag.%zu.Value", n);
	}
}

/*
 * The image's architecture: the one asked for, else what the launch size
 * class runs (x86_64 when it runs both), else x86_64. A size class that
 * cannot run the image is refused here, before anything is registered:
 * EC2 refuses only at RunInstances, after the image exists.
 */
static int choose_architecture(aws_provider *p, const char *region,
			       const cp_resource_restore_options *opts, const char **out)
{
	/* lib/provider.c hands every backend the current layout; stay safe with older ones. */
	const char *asked = opts->version >= 2 ? opts->architecture : NULL;
	*out = asked ? asked : "x86_64";
	if (!opts->launch)
		return 0;
	unsigned int archs = 0;
	char listed[128];
	int rc = ec2_instance_type_architectures(p, region, opts->size_class, &archs, listed,
						 sizeof(listed));
	if (rc)
		return cp_error_prefix(rc, "nothing was registered: ");
	if (!listed[0])
		snprintf(listed, sizeof(listed), "no architecture EC2 named");
	if (asked) {
		int arm = !strcmp(asked, "arm64");
		if (archs & (arm ? EC2_ARCH_ARM64 : EC2_ARCH_X86_64))
			return 0;
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "instance type %s runs %s, so it cannot boot an %s image; "
				    "nothing was registered. Give a size class that runs %s (%s) "
				    "or leave the architecture out to follow the size class",
				    opts->size_class, listed, asked, asked,
				    arm ? "m7g.large, t4g.micro" : "m5.large, t3.micro");
	}
	if (archs & EC2_ARCH_X86_64)
		*out = "x86_64";
	else if (archs & EC2_ARCH_ARM64)
		*out = "arm64";
	else
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "instance type %s runs %s, but an image restored from EBS "
				    "snapshots is x86_64 or arm64; nothing was registered. Give a "
				    "size class that runs one of them",
				    opts->size_class, listed);
	return 0;
}

static int register_image(aws_provider *p, const char *region, const char *name,
			  const char *snapshot_id, const char *architecture,
			  const cp_resource_restore_options *opts, char **image_id)
{
	char description[160];
	snprintf(description, sizeof(description), "restored by cloudprotect from %s", snapshot_id);
	ec2_params q;
	ec2_params_init(&q, "RegisterImage");
	ec2_param(&q, "Name", name);
	ec2_param(&q, "Description", description);
	ec2_param(&q, "Architecture", architecture);
	ec2_param(&q, "VirtualizationType", "hvm");
	ec2_param(&q, "EnaSupport", "true");
	ec2_param(&q, "RootDeviceName", "/dev/xvda");
	for (size_t i = 0; i <= opts->ndata_snapshots; i++) {
		char device[16];
		snprintf(device, sizeof(device), "/dev/xvd%c", (char)('a' + i));
		const char *snap = i ? opts->data_snapshot_ids[i - 1] : snapshot_id;
		ec2_paramf(&q, device, "BlockDeviceMapping.%zu.DeviceName", i + 1);
		ec2_paramf(&q, snap, "BlockDeviceMapping.%zu.Ebs.SnapshotId", i + 1);
		ec2_paramf(&q, "true", "BlockDeviceMapping.%zu.Ebs.DeleteOnTermination", i + 1);
		ec2_paramf(&q, "gp3", "BlockDeviceMapping.%zu.Ebs.VolumeType", i + 1);
	}
	add_tags(&q, "image", NULL, opts->tags, opts->ntags);
	xmlDoc *doc = NULL;
	int rc = ec2_call(p, region, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return cp_error_prefix(rc, "registering image '%s' from %s: ", name, snapshot_id);
	*image_id = xml_child_text(xmlDocGetRootElement(doc), "imageId");
	xmlFreeDoc(doc);
	if (!*image_id)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "EC2 RegisterImage '%s' answered without an image id", name);
	return 0;
}

/* ---- waiting ---- */

typedef struct image_wait {
	const char *region, *image_id;
	uint64_t size; /* bytes, summed over the image's volumes */
} image_wait;

static int poll_image(aws_provider *p, void *arg, int *done, unsigned int *percent, char *status,
		      size_t cap)
{
	image_wait *w = arg;
	ec2_params q;
	ec2_params_init(&q, "DescribeImages");
	ec2_param(&q, "ImageId.1", w->image_id);
	xmlDoc *doc = NULL;
	int rc = ec2_call(p, w->region, &q, &doc);
	ec2_params_dispose(&q);
	if (rc == CP_ENOTFOUND) {
		/* Describe calls may not see a new image for a moment. */
		cp_error_clear();
		snprintf(status, cap, "registering");
		return 0;
	}
	if (rc)
		return rc;
	xmlNode *set = xml_child(xmlDocGetRootElement(doc), "imagesSet");
	xmlNode *img = xml_item(set ? set->children : NULL);
	char reason[256] = "";
	status[0] = 0;
	if (img) {
		xml_child_copy(img, "imageState", status, cap);
		xml_child_copy(xml_child(img, "stateReason"), "message", reason, sizeof(reason));
		xmlNode *bdm = xml_child(img, "blockDeviceMapping");
		w->size = 0;
		for (xmlNode *m = xml_item(bdm ? bdm->children : NULL); m; m = xml_item(m->next))
			w->size += xml_child_u64(xml_child(m, "ebs"), "volumeSize") * GIB;
	}
	xmlFreeDoc(doc);
	*done = !strcmp(status, "available");
	*percent = *done ? 100 : 50;
	if (!strcmp(status, "failed") || !strcmp(status, "error") || !strcmp(status, "invalid"))
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "image %s in %s became '%s' (%s); deregister it, check its "
				    "snapshots, and restore again",
				    w->image_id, w->region, status,
				    reason[0] ? reason : "no reason");
	return 0;
}

typedef struct instance_wait {
	const char *region, *instance_id;
	char address[64];
} instance_wait;

static int poll_instance(aws_provider *p, void *arg, int *done, unsigned int *percent, char *status,
			 size_t cap)
{
	instance_wait *w = arg;
	ec2_params q;
	ec2_params_init(&q, "DescribeInstances");
	ec2_param(&q, "InstanceId.1", w->instance_id);
	xmlDoc *doc = NULL;
	int rc = ec2_call(p, w->region, &q, &doc);
	ec2_params_dispose(&q);
	if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		snprintf(status, cap, "launching");
		return 0;
	}
	if (rc)
		return rc;
	xmlNode *rs = xml_child(xmlDocGetRootElement(doc), "reservationSet");
	xmlNode *r = xml_item(rs ? rs->children : NULL);
	xmlNode *is = r ? xml_child(r, "instancesSet") : NULL;
	xmlNode *inst = xml_item(is ? is->children : NULL);
	status[0] = 0;
	if (inst) {
		xml_child_copy(xml_child(inst, "instanceState"), "name", status, cap);
		xml_child_copy(inst, "privateIpAddress", w->address, sizeof(w->address));
	}
	xmlFreeDoc(doc);
	*done = !strcmp(status, "running");
	*percent = *done ? 100 : 50;
	if (!strcmp(status, "shutting-down") || !strcmp(status, "terminated") ||
	    !strcmp(status, "stopped"))
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "instance %s in %s is '%s' instead of running; read its "
				    "console output in the EC2 console (the restored disks may "
				    "not boot on this instance type)",
				    w->instance_id, w->region, status);
	return 0;
}

/* ---- the restore ---- */

static int emit(const char *id, const char *name, const char *region, uint64_t size,
		const cp_resource_restore_options *opts, cp_resource_cb cb, void *payload)
{
	if (!cb)
		return 0;
	cp_resource r;
	memset(&r, 0, sizeof(r));
	r.kind = CP_RESOURCE_VM;
	r.id = id;
	r.name = name;
	r.region = region;
	r.size = size;
	r.tags = opts->tags;
	r.ntags = opts->ntags;
	return cb(&r, payload);
}

static int launch(aws_provider *p, const char *region, const char *image_id, const char *name,
		  uint64_t size, const cp_resource_restore_options *opts, cp_resource_cb cb,
		  void *payload)
{
	ec2_launch l;
	memset(&l, 0, sizeof(l));
	l.region = region;
	l.image = image_id;
	l.instance_type = opts->size_class;
	l.subnet = opts->subnet;
	l.name = name;
	l.tags = opts->tags;
	l.ntags = opts->ntags;
	char *instance = NULL;
	int rc = ec2_run_instance(p, &l, &instance);
	if (rc)
		return cp_error_prefix(
			rc, "image %s was made but no instance launched from it: ", image_id);
	if (opts->wait) {
		instance_wait w = {region, instance, ""};
		rc = aws_wait(p, "instance", instance, poll_instance, &w, opts->progress_cb,
			      opts->progress_payload);
	}
	if (!rc)
		rc = emit(instance, name, region, size, opts, cb, payload);
	free(instance);
	return rc;
}

int ec2_image_restore(aws_provider *p, const char *snapshot_id,
		      const cp_resource_restore_options *opts, cp_resource_cb cb, void *payload)
{
	int rc = check_options(snapshot_id, opts);
	if (rc)
		return rc;
	const char *region = opts->region ? opts->region : p->region;
	char name[256];
	if (opts->name)
		snprintf(name, sizeof(name), "%s", opts->name);
	else /* AMI names are unique per region: the time keeps a second restore apart. */
		snprintf(name, sizeof(name), "cloudprotect-%s-%lld", snapshot_id,
			 (long long)time(NULL));
	const char *architecture = NULL;
	rc = choose_architecture(p, region, opts, &architecture);
	if (rc)
		return rc;
	char *image_id = NULL;
	rc = register_image(p, region, name, snapshot_id, architecture, opts, &image_id);
	if (rc)
		return rc;
	cp_log(p->ctx, CP_LOG_INFO, "aws: registered %s image %s ('%s') from %s", architecture,
	       image_id, name, snapshot_id);
	image_wait w = {region, image_id, 0};
	/* An instance can only be launched from an available image. */
	if (opts->wait || opts->launch)
		rc = aws_wait(p, "image", image_id, poll_image, &w, opts->progress_cb,
			      opts->progress_payload);
	if (!rc)
		rc = emit(image_id, name, region, w.size, opts, cb, payload);
	if (!rc && opts->launch)
		rc = launch(p, region, image_id, name, w.size, opts, cb, payload);
	free(image_id);
	return rc;
}
