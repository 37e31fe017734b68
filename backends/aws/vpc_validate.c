/*
 * Validating a "cloudprotect-network" document before anything is applied:
 * a wrong version or shape is refused with the JSON path of the first
 * problem, so a hand-edited document is fixed before it half-applies.
 */
#include "json.h"
#include "vpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int bad(const char *path, const char *fmt, ...) CP_PRINTF(2, 3);

static int bad(const char *path, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "network document: %s: %s (see doc/network.md for the format)", path,
			    what);
}

/* Fields every item of a section needs, and whether it belongs to a VPC of the document. */
static const struct shape {
	const char *section;
	const char *const strings[3];
	int in_vpc;
} shapes[] = {
	{"vpcs", {"id", "cidr_block", NULL}, 0},
	{"dhcp_options", {"id", NULL, NULL}, 0},
	{"subnets", {"id", "vpc_id", "cidr_block"}, 1},
	{"internet_gateways", {"id", NULL, NULL}, 0},
	{"egress_only_internet_gateways", {"id", NULL, NULL}, 0},
	{"nat_gateways", {"id", "subnet_id", NULL}, 0},
	{"route_tables", {"id", "vpc_id", NULL}, 1},
	{"security_groups", {"id", "vpc_id", "name"}, 1},
	{"network_acls", {"id", "vpc_id", NULL}, 1},
	{"vpc_endpoints", {"id", "vpc_id", "service_name"}, 1},
};

static int has_vpc(yajl_val vpcs, const char *id)
{
	for (size_t i = 0; i < vpc_len(vpcs); i++) {
		const char *v = cp_json_str(vpc_at(vpcs, i), "id");
		if (v && !strcmp(v, id))
			return 1;
	}
	return 0;
}

static int check_tags(yajl_val item, const char *path)
{
	yajl_val tags = cp_json_get(item, "tags");
	if (!tags)
		return 0;
	if (!YAJL_IS_OBJECT(tags))
		return bad(path, "\"tags\" must be an object of key: value strings");
	for (size_t i = 0; i < tags->u.object.len; i++)
		if (!YAJL_IS_STRING(tags->u.object.values[i]))
			return bad(path, "tag \"%s\" must have a string value",
				   tags->u.object.keys[i]);
	return 0;
}

/* Members that must be arrays (of strings when strings is set) where present. */
static int check_array(yajl_val item, const char *key, int strings, const char *path)
{
	yajl_val v = cp_json_get(item, key);
	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return bad(path, "\"%s\" must be an array", key);
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];
		if (strings ? !YAJL_IS_STRING(e) : !YAJL_IS_OBJECT(e))
			return bad(path, "\"%s\"[%zu] must be %s", key, i,
				   strings ? "a string" : "an object");
	}
	return 0;
}

static int check_item(const struct shape *s, yajl_val item, size_t i, yajl_val vpcs)
{
	char path[160];
	snprintf(path, sizeof(path), "$.%s[%zu]", s->section, i);
	if (!YAJL_IS_OBJECT(item))
		return bad(path, "must be an object");
	for (size_t k = 0; k < 3 && s->strings[k]; k++) {
		const char *v = cp_json_str(item, s->strings[k]);
		if (!v || !*v) {
			char p2[200];
			snprintf(p2, sizeof(p2), "%s.%s", path, s->strings[k]);
			return bad(p2, "missing or not a non-empty string");
		}
	}
	if (s->in_vpc && !has_vpc(vpcs, cp_json_str(item, "vpc_id"))) {
		char p2[200];
		snprintf(p2, sizeof(p2), "%s.vpc_id", path);
		return bad(p2, "\"%s\" names no VPC in $.vpcs", cp_json_str(item, "vpc_id"));
	}
	static const char *const string_arrays[] = {
		"secondary_cidr_blocks", "ipv6_cidr_blocks",  "vpc_ids", "subnet_ids",
		"route_table_ids",	 "security_group_ids"};
	static const char *const object_arrays[] = {"routes", "associations", "ingress", "egress",
						    "entries"};
	int rc = check_tags(item, path);
	for (size_t k = 0; !rc && k < sizeof(string_arrays) / sizeof(string_arrays[0]); k++)
		rc = check_array(item, string_arrays[k], 1, path);
	for (size_t k = 0; !rc && k < sizeof(object_arrays) / sizeof(object_arrays[0]); k++)
		rc = check_array(item, object_arrays[k], 0, path);
	if (!rc && !strcmp(s->section, "network_acls")) {
		yajl_val entries = cp_json_get(item, "entries");
		for (size_t e = 0; !rc && e < vpc_len(entries); e++) {
			yajl_val en = vpc_at(entries, e);
			yajl_val n = cp_json_get(en, "rule_number");
			if (!n || !YAJL_IS_INTEGER(n) || !cp_json_str(en, "protocol") ||
			    !cp_json_str(en, "action")) {
				char p2[200];
				snprintf(p2, sizeof(p2), "%s.entries[%zu]", path, e);
				rc = bad(p2, "needs an integer rule_number and string protocol and "
					     "action");
			}
		}
	}
	if (!rc && !strcmp(s->section, "dhcp_options")) {
		yajl_val c = cp_json_get(item, "configurations");
		if (c && !YAJL_IS_OBJECT(c))
			rc = bad(path, "\"configurations\" must be an object of key: [values]");
	}
	return rc;
}

int vpc_validate(yajl_val doc)
{
	if (!YAJL_IS_OBJECT(doc))
		return bad("$", "must be a JSON object");
	const char *format = cp_json_str(doc, "format");
	if (!format || strcmp(format, VPC_DOC_FORMAT))
		return bad("$.format", "must be \"%s\" (this is not a network document)",
			   VPC_DOC_FORMAT);
	yajl_val version = cp_json_get(doc, "version");
	if (!version || !YAJL_IS_INTEGER(version))
		return bad("$.version", "missing or not an integer");
	if (YAJL_GET_INTEGER(version) != VPC_DOC_VERSION)
		return bad("$.version",
			   "version %lld is not one this library reads (it reads %d); use a "
			   "cloudprotect as new as the one that exported it",
			   (long long)YAJL_GET_INTEGER(version), VPC_DOC_VERSION);
	const char *provider = cp_json_str(doc, "provider");
	if (!provider || strcmp(provider, "aws"))
		return bad("$.provider",
			   "is \"%s\"; the aws provider applies only \"aws\" documents",
			   provider ? provider : "(missing)");
	const char *region = cp_json_str(doc, "region");
	if (!region || !*region)
		return bad("$.region", "missing or not a non-empty string");
	yajl_val vpcs = cp_json_get(doc, "vpcs");
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		yajl_val arr = cp_json_get(doc, shapes[s].section);
		char path[64];
		snprintf(path, sizeof(path), "$.%s", shapes[s].section);
		if (!arr || YAJL_IS_NULL(arr))
			continue;
		if (!YAJL_IS_ARRAY(arr))
			return bad(path, "must be an array");
		for (size_t i = 0; i < arr->u.array.len; i++) {
			int rc = check_item(&shapes[s], arr->u.array.values[i], i, vpcs);
			if (rc)
				return rc;
		}
	}
	return 0;
}
