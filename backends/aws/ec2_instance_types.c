/*
 * What an EC2 instance type can run, from DescribeInstanceTypes
 * (ProcessorInfo.SupportedArchitectures): a restored image must match the
 * instance launched from it, and EC2 only says so after the image exists.
 */
#include "error.h"
#include "provider_aws.h"

#include <stdio.h>
#include <string.h>

static unsigned int architecture_bit(const char *name)
{
	if (!strcmp(name, "x86_64"))
		return EC2_ARCH_X86_64;
	if (!strcmp(name, "arm64"))
		return EC2_ARCH_ARM64;
	return 0;
}

static void append(char *out, size_t cap, const char *name)
{
	size_t len = strlen(out);
	if (len + 1 >= cap)
		return;
	snprintf(out + len, cap - len, "%s%s", len ? ", " : "", name);
}

static int read_architectures(xmlNode *root, const char *type, unsigned int *archs, char *listed,
			      size_t cap)
{
	xmlNode *set = xml_child(root, "instanceTypeSet");
	for (xmlNode *it = xml_item(set ? set->children : NULL); it; it = xml_item(it->next)) {
		char name[64];
		xml_child_copy(it, "instanceType", name, sizeof(name));
		if (strcmp(name, type))
			continue;
		xmlNode *list = xml_child(xml_child(it, "processorInfo"), "supportedArchitectures");
		for (xmlNode *a = xml_item(list ? list->children : NULL); a;
		     a = xml_item(a->next)) {
			xmlChar *text = xmlNodeGetContent(a);
			if (!text)
				return cp_error_oom();
			*archs |= architecture_bit((const char *)text);
			append(listed, cap, (const char *)text);
			xmlFree(text);
		}
		return 0;
	}
	return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
			    "EC2 DescribeInstanceTypes did not describe instance type '%s'; check "
			    "the size class and that the region offers it",
			    type);
}

static int explain_failure(int rc, const char *region, const char *type)
{
	const cp_error *e = cp_error_last();
	if (!e || !e->cloud_code || strcmp(e->cloud_code, "InvalidInstanceType"))
		return cp_error_prefix(rc, "looking up what instance type '%s' runs: ", type);
	/* Setting the new error frees the old one's strings: keep copies. */
	int status = e->http_status;
	char request_id[128] = "";
	if (e->request_id)
		snprintf(request_id, sizeof(request_id), "%s", e->request_id);
	return cp_error_set_cloud(CP_EINVALID, CP_ERRCLASS_INVALID, status, "InvalidInstanceType",
				  request_id[0] ? request_id : NULL,
				  "EC2 knows no instance type '%s' in %s; give a size class that "
				  "exists there (m5.large runs x86_64, m7g.large arm64)",
				  type, region);
}

int ec2_instance_type_architectures(aws_provider *p, const char *region, const char *type,
				    unsigned int *archs, char *listed, size_t cap)
{
	*archs = 0;
	if (cap)
		listed[0] = '\0';
	ec2_params q;
	ec2_params_init(&q, "DescribeInstanceTypes");
	ec2_param(&q, "InstanceType.1", type);
	xmlDoc *doc = NULL;
	int rc = ec2_call(p, region, &q, &doc);
	ec2_params_dispose(&q);
	if (rc)
		return explain_failure(rc, region ? region : p->region, type);
	rc = read_architectures(xmlDocGetRootElement(doc), type, archs, listed, cap);
	xmlFreeDoc(doc);
	return rc;
}
