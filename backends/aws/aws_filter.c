/*
 * Inventory filters as every AWS service applies them: which regions to
 * walk, which ids and tags pass. Services whose APIs cannot filter (RDS,
 * Redshift, the JSON services) match here, so a filter means the same
 * thing whichever service answers.
 */
#include "provider_aws.h"

#include <string.h>

/* NULL list: no restriction. */
static int in_list(const char *const *list, const char *s)
{
	if (!list)
		return 1;
	for (size_t i = 0; list[i]; i++)
		if (s && !strcmp(list[i], s))
			return 1;
	return 0;
}

int aws_filter_region(const cp_inventory_filter *f, const char *region)
{
	return !f || in_list(f->regions, region);
}

int aws_filter_id(const cp_inventory_filter *f, const char *id)
{
	return !f || in_list(f->ids, id);
}

int aws_filter_names_service(const cp_inventory_filter *f, const char *service)
{
	if (!f || !f->ids)
		return 1;
	for (size_t i = 0; f->ids[i]; i++)
		if (aws_arn_is(f->ids[i], service))
			return 1;
	return 0;
}

int aws_tags_match(const aws_tags *have, const cp_inventory_filter *f)
{
	for (size_t i = 0; f && i < f->ntags; i++) {
		const char *v = aws_tags_get(have, f->tags[i].key);
		if (!v || (f->tags[i].value && strcmp(v, f->tags[i].value)))
			return 0;
	}
	return 1;
}

int aws_filter_match(const cp_inventory_filter *f, const cp_resource *r)
{
	if (!f)
		return 1;
	if (f->kind >= 0 && f->kind != (int)r->kind)
		return 0;
	if (!aws_filter_id(f, r->id) || !aws_filter_region(f, r->region))
		return 0;
	for (size_t i = 0; i < f->ntags; i++) {
		size_t k = 0;
		while (k < r->ntags && strcmp(r->tags[k].key, f->tags[i].key))
			k++;
		if (k == r->ntags ||
		    (f->tags[i].value && strcmp(f->tags[i].value, r->tags[k].value)))
			return 0;
	}
	return 1;
}

int aws_each_region(aws_provider *p, const cp_inventory_filter *f, aws_region_fn fn, void *arg)
{
	int rc = 0;
	for (size_t i = 0; !rc && p->regions[i]; i++)
		if (aws_filter_region(f, p->regions[i]))
			rc = fn(p, p->regions[i], arg);
	return rc;
}
