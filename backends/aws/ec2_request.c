/*
 * EC2 query API requests: the shared query protocol (aws_query.c) with
 * EC2's version, signing name and endpoint override.
 */
#include "provider_aws.h"

#define EC2_API_VERSION "2016-11-15"

void ec2_params_init(ec2_params *p, const char *action)
{
	aws_query_params_init(p, action, EC2_API_VERSION);
}

int ec2_call(aws_provider *p, const char *region, ec2_params *params, xmlDoc **doc)
{
	const aws_query_api ec2 = {
		.name = "EC2",
		.env_name = "EC2",
		.host_prefix = "ec2",
		.iam_prefix = "ec2",
		.version = EC2_API_VERSION,
		.url = p->ec2_url,
	};
	return aws_query_call(p, &ec2, region, NULL, params, doc);
}
