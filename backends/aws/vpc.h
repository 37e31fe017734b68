/*
 * Network configuration of a region (VPCs and everything in them) as the
 * versioned "cloudprotect-network" JSON document of doc/network.md:
 * exported by vpc_export.c, re-created by vpc_apply*.c.
 */
#ifndef CP_BACKENDS_AWS_VPC_H
#define CP_BACKENDS_AWS_VPC_H

#include "provider_aws.h"

#define VPC_DOC_FORMAT	"cloudprotect-network"
#define VPC_DOC_VERSION 1

int aws_network_export(void *state, const char *region, char **json_out);
int aws_network_apply(void *state, const char *json, const cp_network_apply_options *opts);

/*
 * Call fn for every <item> of set_name in every page of a Describe action.
 * filters: name, value, name, value, ..., NULL (or NULL for none).
 * max_page: the action's own MaxResults ceiling.
 */
typedef int (*vpc_item_fn)(aws_provider *p, const char *region, xmlNode *item, void *arg);
int vpc_describe_all(aws_provider *p, const char *region, const char *action,
		     const char *const *filters, const char *set_name, unsigned int max_page,
		     vpc_item_fn fn, void *arg);

/* ---- applying a document (vpc_apply*.c, vpc_validate.c) ---- */

#include <yajl/yajl_tree.h>

/* Check a parsed document's version and shape; errors name the JSON path. */
int vpc_validate(yajl_val doc);

typedef struct vpc_id_pair {
	char *from, *to;
} vpc_id_pair;

typedef struct vpc_apply {
	aws_provider *p;
	const cp_network_apply_options *o;
	const char *region;	/* the target */
	const char *src_region; /* the document's */
	const char *account;	/* the document's, or NULL */
	int dry;
	yajl_val doc;
	vpc_id_pair *map; /* document id -> new id (in a dry run: the document id itself) */
	size_t nmap, amap;
	cp_buf created; /* "type id, ..." of what this run made */
	size_t ncreated;
} vpc_apply;

/* The new id of a document id, or NULL when it was not (or cannot be) re-created. */
const char *vpc_mapped(vpc_apply *a, const char *from);
int vpc_map(vpc_apply *a, const char *from, const char *to);
/* Report one step through the caller's callback; CP_ECANCELLED when it says stop. */
int vpc_step(vpc_apply *a, const char *action, const char *type, const char *source_id,
	     const char *new_id, const char *fmt, ...) CP_PRINTF(6, 7);
/*
 * A create call: in a dry run only the step is reported (and the id maps to
 * itself); otherwise the call is made, the id read from <wrap><field> (wrap
 * NULL: <field> at the root), recorded as created, mapped and reported.
 */
int vpc_create(vpc_apply *a, ec2_params *q, const char *type, const char *source_id,
	       const char *wrap, const char *field, const char *detail);
/* A call whose answer is not needed; in a dry run nothing is sent. q is disposed. */
int vpc_call(vpc_apply *a, ec2_params *q);
/* The cloud error code of the last failure ("" when none). */
const char *vpc_last_code(void);
/* CreateTags for a document item's "tags" (aws:* keys skipped) on new_id. */
int vpc_tag(vpc_apply *a, yajl_val item, const char *type);

/* First match of field in a Describe action's items (malloc'd, NULL when none). */
int vpc_lookup(vpc_apply *a, const char *action, const char *set, const char *field,
	       const char *const *filters, char **out);

/* DHCP options, VPCs, gateways, subnets, NAT gateways (vpc_apply_skeleton.c). */
int vpc_apply_skeleton(vpc_apply *a, const char *target_default_vpc);

/* Steps after the network skeleton (vpc_apply_rules.c). */
int vpc_apply_routes(vpc_apply *a);
int vpc_apply_security_groups(vpc_apply *a);
int vpc_apply_network_acls(vpc_apply *a);
int vpc_apply_endpoints(vpc_apply *a);

/* Small readers over the parsed document. */
size_t vpc_len(yajl_val array);
yajl_val vpc_at(yajl_val array, size_t i);
yajl_val vpc_section(vpc_apply *a, const char *key);
int vpc_bool(yajl_val obj, const char *key);
/* Whether the document marks this VPC id as its region's default VPC. */
int vpc_is_default(vpc_apply *a, const char *vpc_id);

#endif
