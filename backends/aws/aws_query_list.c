/*
 * Describe calls of the query services that are not EC2 (RDS, Redshift):
 * their lists page with MaxRecords/Marker and answer in
 * <XResult><List><Item/>...</List><Marker/></XResult>. One loop walks
 * them, so paging limits and marker handling live in one place.
 */
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int aws_query_each(aws_provider *p, const aws_query_api *api, const char *region,
		   const char *subject, const ec2_params *request, const char *list,
		   aws_query_item_cb cb, void *arg)
{
	if (request->rc)
		return request->rc;
	/* RDS and Redshift take MaxRecords from 20 to 100. */
	unsigned int page = p->page_size < 20 ? 20 : p->page_size > 100 ? 100 : p->page_size;
	char n[16];
	snprintf(n, sizeof(n), "%u", page);
	char *marker = NULL;
	int rc = 0;
	do {
		/* Every page repeats the request, then asks for the next slice. */
		ec2_params q;
		memset(&q, 0, sizeof(q));
		q.rc = cp_buf_put(&q.form, request->form.ptr, request->form.size);
		ec2_param(&q, "MaxRecords", n);
		if (marker)
			ec2_param(&q, "Marker", marker);
		free(marker);
		marker = NULL;
		xmlDoc *doc;
		rc = aws_query_call(p, api, region, subject, &q, &doc);
		ec2_params_dispose(&q);
		if (rc)
			break;
		xmlNode *result = aws_query_result(doc);
		xmlNode *set = xml_child(result, list);
		for (xmlNode *e = aws_query_next(set ? set->children : NULL); e && !rc;
		     e = aws_query_next(e->next))
			rc = cb(e, arg);
		marker = xml_child_text(result, "Marker");
		xmlFreeDoc(doc);
	} while (!rc && marker && *marker);
	free(marker);
	return rc;
}

int aws_query_describe_one(aws_provider *p, const aws_query_api *api, const char *region,
			   const char *subject, const char *action, const char *id_param,
			   const char *id, const char *list, xmlDoc **doc, xmlNode **first)
{
	ec2_params q;
	aws_query_params_init(&q, action, api->version);
	ec2_param(&q, id_param, id);
	*first = NULL;
	int rc = aws_query_call(p, api, region, subject, &q, doc);
	ec2_params_dispose(&q);
	if (rc)
		return rc;
	xmlNode *set = xml_child(aws_query_result(*doc), list);
	*first = aws_query_next(set ? set->children : NULL);
	return 0;
}
