/* The last step of a restore into AWS: a volume from the new snapshot, attached if asked. */
#include "ctx.h"
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int volume_state(aws_provider *p, const char *volume_id, char *state, size_t cap)
{
	ec2_params q;
	ec2_params_init(&q, "DescribeVolumes");
	ec2_param(&q, "VolumeId.1", volume_id);
	xmlDoc *doc;
	int rc = ec2_call(p, NULL, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	xmlNode *set = xml_child(xmlDocGetRootElement(doc), "volumeSet");
	xmlNode *v = xml_item(set ? set->children : NULL);
	state[0] = 0;
	if (v)
		xml_child_copy(v, "status", state, cap);
	xmlFreeDoc(doc);
	return 0;
}

static int wait_available(aws_provider *p, const char *volume_id)
{
	time_t deadline = time(NULL) + p->wait_timeout_s;
	char state[32];
	for (;;) {
		int rc = volume_state(p, volume_id, state, sizeof(state));
		if (rc)
			return rc;
		if (!strcmp(state, "available"))
			return 0;
		if (!strcmp(state, "error"))
			return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
					    "volume %s went into state error while being created "
					    "from its snapshot; delete it and retry the restore",
					    volume_id);
		if (time(NULL) > deadline)
			return cp_error_set(CP_ETIMEOUT, CP_ERRCLASS_PROVIDER,
					    "volume %s is not available after %u s; raise "
					    "wait_timeout_s",
					    volume_id, p->wait_timeout_s);
		struct timespec ts = {p->poll_ms / 1000, (long)(p->poll_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int ec2_volume_from_snapshot(aws_provider *p, const char *snapshot_id, uint64_t size,
			     const cp_disk_create_options *opts, char **volume_id)
{
	char az[80], gib[32];
	if (p->availability_zone)
		snprintf(az, sizeof(az), "%s", p->availability_zone);
	else
		snprintf(az, sizeof(az), "%sa", p->region);
	snprintf(gib, sizeof(gib), "%llu", (unsigned long long)((size + GIB - 1) / GIB));
	ec2_params q;
	ec2_params_init(&q, "CreateVolume");
	ec2_param(&q, "SnapshotId", snapshot_id);
	ec2_param(&q, "AvailabilityZone", az);
	ec2_param(&q, "Size", gib);
	ec2_param(&q, "VolumeType", "gp3");
	size_t n = 0;
	if (opts->name) {
		ec2_param(&q, "TagSpecification.1.ResourceType", "volume");
		ec2_paramf(&q, "Name", "TagSpecification.1.Tag.%zu.Key", ++n);
		ec2_paramf(&q, opts->name, "TagSpecification.1.Tag.%zu.Value", n);
	}
	for (size_t i = 0; i < opts->ntags; i++) {
		if (!n && !i)
			ec2_param(&q, "TagSpecification.1.ResourceType", "volume");
		ec2_paramf(&q, opts->tags[i].key, "TagSpecification.1.Tag.%zu.Key", ++n);
		ec2_paramf(&q, opts->tags[i].value ? opts->tags[i].value : "",
			   "TagSpecification.1.Tag.%zu.Value", n);
	}
	xmlDoc *doc;
	int rc = ec2_call(p, NULL, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return cp_error_prefix(rc, "creating a volume from snapshot %s: ", snapshot_id);
	*volume_id = xml_child_text(xmlDocGetRootElement(doc), "volumeId");
	xmlFreeDoc(doc);
	if (!*volume_id)
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
				    "EC2 CreateVolume from %s returned no volume id", snapshot_id);
	rc = wait_available(p, *volume_id);
	if (!rc && opts->attach_to) {
		ec2_params_init(&q, "AttachVolume");
		ec2_param(&q, "VolumeId", *volume_id);
		ec2_param(&q, "InstanceId", opts->attach_to);
		ec2_param(&q, "Device", "/dev/sdf");
		rc = ec2_call(p, NULL, &q, &doc);
		ec2_params_dispose(&q);
		xmlFreeDoc(doc);
		if (rc)
			rc = cp_error_prefix(rc, "volume %s was made but not attached to %s: ",
					     *volume_id, opts->attach_to);
	}
	if (rc) {
		free(*volume_id);
		*volume_id = NULL;
	}
	return rc;
}
