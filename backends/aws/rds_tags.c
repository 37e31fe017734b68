/*
 * Tags on RDS and Aurora: AddTagsToResource (ResourceName = the ARN,
 * Tags.Tag.N.Key/Value), sent to the region the ARN names. It adds or
 * overwrites the keys given and keeps every other tag, as EC2's
 * CreateTags does.
 */
#include "error.h"
#include "provider_aws.h"

#include <libxml/tree.h>

int rds_tag(aws_provider *p, const char *id, const cp_tag *tags, size_t ntags)
{
	aws_arn arn;
	int rc = rds_arn_parse(&arn, id, "resource or snapshot");
	if (rc)
		return rc;
	ec2_params q;
	aws_query_params_init(&q, "AddTagsToResource", aws_api_rds.version);
	ec2_param(&q, "ResourceName", id);
	ec2_param_tags(&q, "Tags.Tag", tags, ntags);
	xmlDoc *doc = NULL;
	rc = aws_query_call(p, &aws_api_rds, arn.region, id, &q, &doc);
	ec2_params_dispose(&q);
	xmlFreeDoc(doc);
	return rc;
}
