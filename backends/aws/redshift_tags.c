/*
 * Tags on Redshift clusters and snapshots, sent to the region the ARN
 * names with ResourceName = the ARN: CreateTags (Tags.Tag.N.Key/Value)
 * adds or overwrites the keys given and keeps others, like EC2's
 * CreateTags; DeleteTags (TagKeys.TagKey.N) removes keys whatever their
 * values.
 */
#include "error.h"
#include "provider_aws.h"

#include <libxml/tree.h>
#include <string.h>

static int tags_call(aws_provider *p, const char *action, const char *id, const cp_tag *tags,
		     size_t ntags, const char *const *keys, size_t nkeys)
{
	aws_arn arn;
	if (aws_arn_parse(&arn, id) || strcmp(arn.service, "redshift") ||
	    (strcmp(arn.type, "cluster") && strcmp(arn.type, "snapshot")))
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"aws: '%s' is not the ARN of a Redshift cluster or snapshot "
			"(arn:aws:redshift:REGION:ACCOUNT:cluster:NAME or "
			"snapshot:CLUSTER/NAME); `cloudprotect --provider aws inventory "
			"--kind warehouse` and `snapshot list` print them",
			id);
	ec2_params q;
	aws_query_params_init(&q, action, aws_api_redshift.version);
	ec2_param(&q, "ResourceName", id);
	ec2_param_tags(&q, "Tags.Tag", tags, ntags);
	ec2_param_keys(&q, "TagKeys.TagKey", "", keys, nkeys);
	xmlDoc *doc = NULL;
	int rc = aws_query_call(p, &aws_api_redshift, arn.region, id, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	return rc;
}

int redshift_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags)
{
	return tags_call(p, "CreateTags", id, tags, ntags, NULL, 0);
}

int redshift_untag(aws_provider *p, const char *id, const char *const *keys, size_t nkeys)
{
	return tags_call(p, "DeleteTags", id, NULL, 0, keys, nkeys);
}
