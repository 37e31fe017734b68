/*
 * Tags on RDS and Aurora, sent to the region the ARN names with
 * ResourceName = the ARN: AddTagsToResource (Tags.Tag.N.Key/Value) adds
 * or overwrites the keys given and keeps every other tag, as EC2's
 * CreateTags does; RemoveTagsFromResource (TagKeys.member.N) removes keys
 * whatever their values, and keys the resource lacks are no error.
 */
#include "error.h"
#include "provider_aws.h"

#include <libxml/tree.h>

static int tags_call(aws_provider *p, const char *action, const char *id, const cp_tag *tags,
		     size_t ntags, const char *const *keys, size_t nkeys)
{
	aws_arn arn;
	int rc = rds_arn_parse(&arn, id, "resource or snapshot");
	if (rc)
		return rc;
	ec2_params q;
	aws_query_params_init(&q, action, aws_api_rds.version);
	ec2_param(&q, "ResourceName", id);
	ec2_param_tags(&q, "Tags.Tag", tags, ntags);
	ec2_param_keys(&q, "TagKeys.member", "", keys, nkeys);
	xmlDoc *doc = NULL;
	rc = aws_query_call(p, &aws_api_rds, arn.region, id, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	return rc;
}

int rds_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags)
{
	return tags_call(p, "AddTagsToResource", id, tags, ntags, NULL, 0);
}

int rds_untag(aws_provider *p, const char *id, const char *const *keys, size_t nkeys)
{
	return tags_call(p, "RemoveTagsFromResource", id, NULL, 0, keys, nkeys);
}
