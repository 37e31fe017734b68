/*
 * Tags on EC2 ids (instances, volumes, snapshots, images): CreateTags adds
 * or overwrites the keys given and keeps the others; DeleteTags removes
 * keys. DeleteTags gets Tag.N.Key only: with a Tag.N.Value, EC2 deletes a
 * tag only while it has that value, and we remove whatever the value.
 * Keys a resource does not carry are no error to EC2.
 */
#include "error.h"
#include "provider_aws.h"

#include <libxml/tree.h>

void ec2_param_keys(ec2_params *p, const char *prefix, const char *suffix, const char *const *keys,
		    size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++)
		ec2_paramf(p, keys[i], "%s.%zu%s", prefix, i + 1, suffix);
}

/* EC2 names the action but not always the id in its errors: we add it. */
static int tags_call(aws_provider *p, const char *action, const char *doing, const char *id,
		     const cp_tag *tags, size_t ntags, const char *const *keys, size_t nkeys)
{
	ec2_params q;
	ec2_params_init(&q, action);
	ec2_param(&q, "ResourceId.1", id);
	ec2_param_tags(&q, "Tag", tags, ntags);
	ec2_param_keys(&q, "Tag", ".Key", keys, nkeys);
	xmlDoc *doc = NULL;
	int rc = ec2_call(p, NULL, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	return rc ? cp_error_prefix(rc, "aws: %s %s: ", doing, id) : 0;
}

int ec2_tag(void *state, const char *id, const cp_tag *tags, size_t ntags)
{
	return tags_call(state, "CreateTags", "tagging", id, tags, ntags, NULL, 0);
}

int ec2_untag(aws_provider *p, const char *id, const char *const *keys, size_t nkeys)
{
	return tags_call(p, "DeleteTags", "removing tags from", id, NULL, 0, keys, nkeys);
}
