/*
 * Inventory: EC2 DescribeInstances and DescribeVolumes in every configured
 * region, page by page (NextToken), with ids and tags pushed down to EC2 as
 * filters so only matching resources cross the wire.
 */
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Ids go in as a filter (instance-id / volume-id), not as InstanceId.N: an id
 * list fails the whole call in every region that lacks one of the ids, and
 * forbids MaxResults. Returns 1 when the filter named ids of this kind.
 */
static int add_id_filter(ec2_params *q, const cp_inventory_filter *f, const char *prefix,
			 const char *name, size_t *nfilter)
{
	size_t n = 0;
	for (size_t i = 0; f && f->ids && f->ids[i]; i++) {
		if (strncmp(f->ids[i], prefix, strlen(prefix)))
			continue;
		if (!n)
			ec2_paramf(q, name, "Filter.%zu.Name", ++*nfilter);
		ec2_paramf(q, f->ids[i], "Filter.%zu.Value.%zu", *nfilter, ++n);
	}
	return n > 0;
}

static void add_tag_filters(ec2_params *q, const cp_inventory_filter *f, size_t *nfilter)
{
	for (size_t i = 0; f && i < f->ntags; i++) {
		size_t k = ++*nfilter;
		if (f->tags[i].value) {
			char name[300];
			snprintf(name, sizeof(name), "tag:%s", f->tags[i].key);
			ec2_paramf(q, name, "Filter.%zu.Name", k);
			ec2_paramf(q, f->tags[i].value, "Filter.%zu.Value.1", k);
		} else {
			ec2_paramf(q, "tag-key", "Filter.%zu.Name", k);
			ec2_paramf(q, f->tags[i].key, "Filter.%zu.Value.1", k);
		}
	}
}

static int has_ids_of(const cp_inventory_filter *f, const char *prefix)
{
	for (size_t i = 0; f && f->ids && f->ids[i]; i++)
		if (!strncmp(f->ids[i], prefix, strlen(prefix)))
			return 1;
	return 0;
}

static int add_volume_sizes(xmlNode *root, void *arg)
{
	uint64_t *out = arg;
	xmlNode *set = xml_child(root, "volumeSet");
	for (xmlNode *v = xml_item(set ? set->children : NULL); v; v = xml_item(v->next))
		*out += xml_child_u64(v, "size") * GIB;
	return 0;
}

/* Sum of the sizes of the volumes attached to one instance. */
static int instance_disk_bytes(aws_provider *p, const char *region, const char *instance,
			       uint64_t *out)
{
	*out = 0;
	ec2_params q;
	ec2_params_init(&q, "DescribeVolumes");
	ec2_param(&q, "Filter.1.Name", "attachment.instance-id");
	ec2_param(&q, "Filter.1.Value.1", instance);
	int rc = ec2_each_page(p, region, &q, 0, add_volume_sizes, out);
	ec2_params_dispose(&q);
	return rc;
}

static int emit_instance(aws_provider *p, const char *region, const char *owner, xmlNode *inst,
			 cp_resource_cb cb, void *payload)
{
	char id[64];
	xml_child_copy(inst, "instanceId", id, sizeof(id));
	aws_tags tags;
	int rc = aws_tags_parse(&tags, xml_child(inst, "tagSet"));
	uint64_t size = 0;
	rc = rc ? rc : instance_disk_bytes(p, region, id, &size);
	if (!rc) {
		cp_resource r;
		memset(&r, 0, sizeof(r));
		r.kind = CP_RESOURCE_VM;
		r.id = id;
		r.name = aws_tags_get(&tags, "Name");
		r.region = region;
		r.account = owner[0] ? owner : NULL;
		r.size = size;
		r.tags = tags.items;
		r.ntags = tags.count;
		rc = cb(&r, payload);
	}
	aws_tags_dispose(&tags);
	return rc;
}

/* What a page of a listing hands to its emitter. */
typedef struct page_ctx {
	aws_provider *p;
	const char *region;
	cp_resource_cb cb;
	void *payload;
} page_ctx;

static int emit_instance_page(xmlNode *root, void *arg)
{
	page_ctx *c = arg;
	int rc = 0;
	xmlNode *rs = xml_child(root, "reservationSet");
	for (xmlNode *r = xml_item(rs ? rs->children : NULL); r && !rc; r = xml_item(r->next)) {
		char owner[32];
		xml_child_copy(r, "ownerId", owner, sizeof(owner));
		xmlNode *is = xml_child(r, "instancesSet");
		for (xmlNode *i = xml_item(is ? is->children : NULL); i && !rc;
		     i = xml_item(i->next))
			rc = emit_instance(c->p, c->region, owner, i, c->cb, c->payload);
	}
	return rc;
}

static int list_instances(aws_provider *p, const char *region, const cp_inventory_filter *f,
			  cp_resource_cb cb, void *payload)
{
	ec2_params q;
	ec2_params_init(&q, "DescribeInstances");
	size_t nfilter = 0;
	add_id_filter(&q, f, "i-", "instance-id", &nfilter);
	add_tag_filters(&q, f, &nfilter);
	page_ctx c = {p, region, cb, payload};
	int rc = ec2_each_page(p, region, &q, p->page_size, emit_instance_page, &c);
	ec2_params_dispose(&q);
	return rc;
}

static int emit_volume(const char *region, xmlNode *v, cp_resource_cb cb, void *payload)
{
	char id[64], instance[64] = "";
	xml_child_copy(v, "volumeId", id, sizeof(id));
	xmlNode *att = xml_child(v, "attachmentSet");
	xmlNode *a = xml_item(att ? att->children : NULL);
	if (a)
		xml_child_copy(a, "instanceId", instance, sizeof(instance));
	aws_tags tags;
	int rc = aws_tags_parse(&tags, xml_child(v, "tagSet"));
	if (!rc) {
		cp_resource r;
		memset(&r, 0, sizeof(r));
		r.kind = CP_RESOURCE_DISK;
		r.id = id;
		r.name = aws_tags_get(&tags, "Name");
		r.region = region;
		r.parent_id = instance[0] ? instance : NULL;
		r.size = xml_child_u64(v, "size") * GIB;
		r.tags = tags.items;
		r.ntags = tags.count;
		rc = cb(&r, payload);
	}
	aws_tags_dispose(&tags);
	return rc;
}

static int emit_volume_page(xmlNode *root, void *arg)
{
	page_ctx *c = arg;
	int rc = 0;
	xmlNode *set = xml_child(root, "volumeSet");
	for (xmlNode *v = xml_item(set ? set->children : NULL); v && !rc; v = xml_item(v->next))
		rc = emit_volume(c->region, v, c->cb, c->payload);
	return rc;
}

static int list_volumes(aws_provider *p, const char *region, const cp_inventory_filter *f,
			cp_resource_cb cb, void *payload)
{
	ec2_params q;
	ec2_params_init(&q, "DescribeVolumes");
	size_t nfilter = 0;
	add_id_filter(&q, f, "vol-", "volume-id", &nfilter);
	add_tag_filters(&q, f, &nfilter);
	page_ctx c = {p, region, cb, payload};
	int rc = ec2_each_page(p, region, &q, p->page_size, emit_volume_page, &c);
	ec2_params_dispose(&q);
	return rc;
}

typedef struct inventory {
	const cp_inventory_filter *filter;
	int want_vm, want_disk;
	cp_resource_cb cb;
	void *payload;
} inventory;

static int inventory_region(aws_provider *p, const char *region, void *arg)
{
	const inventory *in = arg;
	int rc = 0;
	if (in->want_vm)
		rc = list_instances(p, region, in->filter, in->cb, in->payload);
	if (!rc && in->want_disk)
		rc = list_volumes(p, region, in->filter, in->cb, in->payload);
	return rc;
}

int ec2_inventory(void *state, const cp_inventory_filter *filter, cp_resource_cb cb, void *payload)
{
	int kind = filter ? filter->kind : -1;
	/* With an id list, only ask for the kinds it names (EC2 rejects foreign ids). */
	int ids = filter && filter->ids;
	inventory in = {filter, 0, 0, cb, payload};
	in.want_vm = (kind < 0 || kind == CP_RESOURCE_VM) && (!ids || has_ids_of(filter, "i-"));
	in.want_disk =
		(kind < 0 || kind == CP_RESOURCE_DISK) && (!ids || has_ids_of(filter, "vol-"));
	return aws_each_region(state, filter, inventory_region, &in);
}
