/*
 * EC2 query API requests: the shared query protocol (aws_query.c) with
 * EC2's version, signing name and endpoint override.
 */
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int ec2_each_page(aws_provider *p, const char *region, const ec2_params *request,
		  unsigned int page_size, ec2_page_cb cb, void *arg)
{
	if (request->rc)
		return request->rc;
	char n[16];
	snprintf(n, sizeof(n), "%u", page_size);
	char *token = NULL;
	int rc = 0;
	do {
		/* Every page repeats the request, then asks for the next slice. */
		ec2_params q;
		memset(&q, 0, sizeof(q));
		q.rc = cp_buf_put(&q.form, request->form.ptr, request->form.size);
		if (page_size)
			ec2_param(&q, "MaxResults", n);
		if (token)
			ec2_param(&q, "NextToken", token);
		free(token);
		token = NULL;
		xmlDoc *doc;
		rc = ec2_call(p, region, &q, &doc);
		ec2_params_dispose(&q);
		if (rc)
			break;
		xmlNode *root = xmlDocGetRootElement(doc);
		rc = cb(root, arg);
		token = xml_child_text(root, "nextToken");
		xmlFreeDoc(doc);
	} while (!rc && token && *token);
	free(token);
	return rc;
}
