/*
 * Tags on Redshift clusters and snapshots: CreateTags (ResourceName = the
 * ARN, Tags.Tag.N.Key/Value), sent to the region the ARN names. Like
 * EC2's CreateTags it adds or overwrites the keys given and keeps others.
 */
#include "error.h"
#include "provider_aws.h"

#include <libxml/tree.h>
#include <string.h>

int redshift_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags)
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
	aws_query_params_init(&q, "CreateTags", aws_api_redshift.version);
	ec2_param(&q, "ResourceName", id);
	ec2_param_tags(&q, "Tags.Tag", tags, ntags);
	xmlDoc *doc = NULL;
	int rc = aws_query_call(p, &aws_api_redshift, arn.region, id, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	return rc;
}
