/*
 * cp_network_apply for AWS: validate the document, refuse a target region
 * whose networks overlap it, then re-create it in dependency order (the
 * skeleton in vpc_apply_skeleton.c, then routes, security groups, network
 * ACLs and endpoints in vpc_apply_rules.c), mapping the document's ids to
 * the new ones. This file holds the shared helpers: every step is
 * reported, and a failure stops the run with an error that lists exactly
 * what was created, so nothing is left half-made without the user knowing.
 */
#include "ctx.h"
#include "json.h"
#include "vpc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared with vpc_apply_rules.c ---- */

size_t vpc_len(yajl_val array)
{
	return array && YAJL_IS_ARRAY(array) ? array->u.array.len : 0;
}

yajl_val vpc_at(yajl_val array, size_t i)
{
	return array->u.array.values[i];
}

yajl_val vpc_section(vpc_apply *a, const char *key)
{
	return cp_json_get(a->doc, key);
}

int vpc_bool(yajl_val obj, const char *key)
{
	yajl_val v = cp_json_get(obj, key);
	return v && YAJL_IS_TRUE(v);
}

int vpc_is_default(vpc_apply *a, const char *vpc_id)
{
	yajl_val vpcs = vpc_section(a, "vpcs");
	for (size_t k = 0; vpc_id && k < vpc_len(vpcs); k++)
		if (!strcmp(cp_json_str(vpc_at(vpcs, k), "id"), vpc_id))
			return vpc_bool(vpc_at(vpcs, k), "is_default");
	return 0;
}

const char *vpc_mapped(vpc_apply *a, const char *from)
{
	for (size_t i = 0; from && i < a->nmap; i++)
		if (!strcmp(a->map[i].from, from))
			return a->map[i].to;
	return NULL;
}

int vpc_map(vpc_apply *a, const char *from, const char *to)
{
	if (a->nmap == a->amap) {
		size_t n = a->amap ? a->amap * 2 : 64;
		vpc_id_pair *m = realloc(a->map, n * sizeof(*m));
		if (!m)
			return cp_error_oom();
		a->map = m;
		a->amap = n;
	}
	char *f = strdup(from), *t = strdup(to);
	if (!f || !t) {
		free(f);
		free(t);
		return cp_error_oom();
	}
	a->map[a->nmap].from = f;
	a->map[a->nmap++].to = t;
	return 0;
}

int vpc_step(vpc_apply *a, const char *action, const char *type, const char *source_id,
	     const char *new_id, const char *fmt, ...)
{
	char detail[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	cp_log(a->p->ctx, CP_LOG_INFO, "network apply: %s %s %s%s%s: %s", action, type,
	       source_id ? source_id : "", new_id ? " -> " : "", new_id ? new_id : "", detail);
	if (!a->o->step_cb)
		return 0;
	cp_network_step s = {action, type, source_id, a->dry ? NULL : new_id, detail};
	if (a->o->step_cb(&s, a->o->step_payload))
		return cp_error_set(CP_ECANCELLED, CP_ERRCLASS_CALLBACK,
				    "network apply cancelled by the step callback");
	return 0;
}

static int note_created(vpc_apply *a, const char *type, const char *id)
{
	int rc = 0;
	if (a->ncreated)
		rc = cp_buf_put(&a->created, ", ", 2);
	rc = rc ? rc : cp_buf_put(&a->created, type, strlen(type));
	rc = rc ? rc : cp_buf_put(&a->created, " ", 1);
	rc = rc ? rc : cp_buf_put(&a->created, id, strlen(id));
	a->ncreated++;
	return rc;
}

int vpc_create(vpc_apply *a, ec2_params *q, const char *type, const char *source_id,
	       const char *wrap, const char *field, const char *detail)
{
	if (a->dry) {
		ec2_params_dispose(q);
		int rc = vpc_map(a, source_id, source_id);
		return rc ? rc : vpc_step(a, "create", type, source_id, NULL, "%s", detail);
	}
	xmlDoc *doc = NULL;
	int rc = ec2_call(a->p, a->region, q, &doc);
	ec2_params_dispose(q);
	if (rc)
		return cp_error_prefix(rc, "creating %s for %s (%s): ", type, source_id, detail);
	xmlNode *root = xmlDocGetRootElement(doc);
	char *id = xml_child_text(wrap ? xml_child(root, wrap) : root, field);
	if (!id || !*id)
		rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
				  "EC2 answered the creation of %s for %s without an id (%s); "
				  "check the endpoint",
				  type, source_id, field);
	rc = rc ? rc : note_created(a, type, id);
	rc = rc ? rc : vpc_map(a, source_id, id);
	rc = rc ? rc : vpc_step(a, "create", type, source_id, id, "%s", detail);
	free(id);
	xmlFreeDoc(doc);
	return rc;
}

int vpc_call(vpc_apply *a, ec2_params *q)
{
	if (a->dry) {
		ec2_params_dispose(q);
		return 0;
	}
	xmlDoc *doc = NULL;
	int rc = ec2_call(a->p, a->region, q, &doc);
	ec2_params_dispose(q);
	xmlFreeDoc(doc);
	return rc;
}

const char *vpc_last_code(void)
{
	const cp_error *e = cp_error_last();
	return e && e->cloud_code ? e->cloud_code : "";
}

int vpc_tag(vpc_apply *a, yajl_val item, const char *type)
{
	yajl_val tags = cp_json_get(item, "tags");
	const char *src = cp_json_str(item, "id");
	const char *id = vpc_mapped(a, src);
	if (!tags || !YAJL_IS_OBJECT(tags) || !id)
		return 0;
	ec2_params q;
	ec2_params_init(&q, "CreateTags");
	ec2_param(&q, "ResourceId.1", id);
	size_t n = 0;
	cp_buf keys = CP_BUF_INIT;
	for (size_t i = 0; i < tags->u.object.len; i++) {
		const char *k = tags->u.object.keys[i];
		const char *v = YAJL_GET_STRING(tags->u.object.values[i]);
		/* aws:* tags are AWS's own (CloudFormation, ...): they cannot be set. */
		if (!strncmp(k, "aws:", 4) || !v)
			continue;
		n++;
		ec2_paramf(&q, k, "Tag.%zu.Key", n);
		ec2_paramf(&q, v, "Tag.%zu.Value", n);
		if (keys.size)
			cp_buf_put(&keys, ", ", 2);
		cp_buf_put(&keys, k, strlen(k));
	}
	int rc = 0;
	if (n) {
		rc = vpc_call(a, &q);
		if (rc)
			rc = cp_error_prefix(rc, "tagging %s %s: ", type, id);
		else
			rc = vpc_step(a, "tag", type, src, id, "%zu tag(s): %s", n, keys.ptr);
	} else {
		ec2_params_dispose(&q);
	}
	cp_buf_dispose(&keys);
	return rc;
}

/* ---- the target region ---- */

typedef struct {
	uint32_t lo, hi;
	char cidr[48];
	char vpc[32];
} cidr_range;

static int parse_cidr(const char *text, cidr_range *out)
{
	const char *s = text;
	char *end = NULL;
	uint32_t ip = 0;
	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		unsigned long v = strtoul(s, &end, 10);
		if (v > 255)
			return -1;
		ip = ip << 8 | (uint32_t)v;
		s = end;
		if (*s != (i < 3 ? '.' : '/'))
			return -1;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	unsigned long bits = strtoul(s, &end, 10);
	if (*end || bits > 32)
		return -1;
	uint32_t mask = bits ? ~0u << (32 - bits) : 0;
	out->lo = ip & mask;
	out->hi = out->lo | ~mask;
	snprintf(out->cidr, sizeof(out->cidr), "%s", text);
	return 0;
}

typedef struct {
	cidr_range *v;
	size_t n, a;
	char default_vpc[32];
} target_state;

static int collect_vpc(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	target_state *t = arg;
	char id[32];
	xml_child_copy(i, "vpcId", id, sizeof(id));
	char *def = xml_child_text(i, "isDefault");
	int is_default = def && !strcmp(def, "true");
	free(def);
	if (is_default) {
		snprintf(t->default_vpc, sizeof(t->default_vpc), "%s", id);
		return 0;
	}
	xmlNode *set = xml_child(i, "cidrBlockAssociationSet");
	for (xmlNode *b = xml_item(set ? set->children : NULL); b; b = xml_item(b->next)) {
		char cidr[48], state[32];
		xml_child_copy(b, "cidrBlock", cidr, sizeof(cidr));
		xml_child_copy(xml_child(b, "cidrBlockState"), "state", state, sizeof(state));
		if (*state && strcmp(state, "associated") && strcmp(state, "associating"))
			continue;
		if (t->n == t->a) {
			size_t n = t->a ? t->a * 2 : 16;
			cidr_range *v = realloc(t->v, n * sizeof(*v));
			if (!v)
				return cp_error_oom();
			t->v = v;
			t->a = n;
		}
		if (!parse_cidr(cidr, &t->v[t->n])) {
			snprintf(t->v[t->n].vpc, sizeof(t->v[t->n].vpc), "%s", id);
			t->n++;
		}
	}
	return 0;
}

/* Refuse a target whose non-default VPCs overlap the document's: routing would clash. */
static int check_target(vpc_apply *a, target_state *t)
{
	int rc = vpc_describe_all(a->p, a->region, "DescribeVpcs", NULL, "vpcSet", 1000,
				  collect_vpc, t);
	if (rc)
		return cp_error_prefix(rc, "looking at the VPCs already in %s: ", a->region);
	yajl_val vpcs = vpc_section(a, "vpcs");
	for (size_t i = 0; i < vpc_len(vpcs); i++) {
		yajl_val v = vpc_at(vpcs, i);
		if (vpc_bool(v, "is_default"))
			continue;
		yajl_val sec = cp_json_get(v, "secondary_cidr_blocks");
		for (size_t k = 0; k <= vpc_len(sec); k++) {
			const char *cidr = k == 0 ? cp_json_str(v, "cidr_block")
						  : YAJL_GET_STRING(vpc_at(sec, k - 1));
			cidr_range r;
			if (!cidr || parse_cidr(cidr, &r))
				return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
						    "network document: $.vpcs[%zu]: '%s' is not "
						    "an IPv4 CIDR block like 10.0.0.0/16",
						    i, cidr ? cidr : "(null)");
			for (size_t j = 0; j < t->n; j++)
				if (r.lo <= t->v[j].hi && t->v[j].lo <= r.hi)
					return cp_error_set(
						CP_EEXISTS, CP_ERRCLASS_PROVIDER,
						"%s already holds VPC %s with %s, which overlaps "
						"%s of %s in the document; apply into a region "
						"(or account) without it, or delete that VPC first",
						a->region, t->v[j].vpc, t->v[j].cidr, cidr,
						cp_json_str(v, "id"));
		}
	}
	return 0;
}

/* ---- lookups ---- */

typedef struct {
	const char *field;
	char *out;
} first_item;

static int take_first(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	first_item *f = arg;
	if (!f->out)
		f->out = xml_child_text(i, f->field);
	return 0;
}

int vpc_lookup(vpc_apply *a, const char *action, const char *set, const char *field,
	       const char *const *filters, char **out)
{
	first_item f = {field, NULL};
	int rc = vpc_describe_all(a->p, a->region, action, filters, set, 1000, take_first, &f);
	if (rc) {
		free(f.out);
		f.out = NULL;
	}
	*out = f.out;
	return rc;
}

static int run(vpc_apply *a)
{
	target_state t;
	memset(&t, 0, sizeof(t));
	int rc = check_target(a, &t);
	if (!rc)
		rc = vpc_step(a, "plan", "region", a->src_region, NULL,
			      "%s network of %s (account %s) into %s%s",
			      a->dry ? "would re-create the" : "re-creating the", a->src_region,
			      a->account ? a->account : "?", a->region,
			      a->dry ? " (dry run: nothing is changed)" : "");
	rc = rc ? rc : vpc_apply_skeleton(a, t.default_vpc);
	rc = rc ? rc : vpc_apply_routes(a);
	rc = rc ? rc : vpc_apply_security_groups(a);
	rc = rc ? rc : vpc_apply_network_acls(a);
	rc = rc ? rc : vpc_apply_endpoints(a);
	free(t.v);
	return rc;
}

int aws_network_apply(void *state, const char *json, const cp_network_apply_options *opts)
{
	cp_network_apply_options defaults = CP_NETWORK_APPLY_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != CP_NETWORK_APPLY_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_network_apply_options version %u is not supported (this "
				    "library knows %u)",
				    opts->version, CP_NETWORK_APPLY_OPTIONS_VERSION);
	vpc_apply a;
	memset(&a, 0, sizeof(a));
	a.p = state;
	a.o = opts;
	a.dry = opts->dry_run;
	int rc = cp_json_parse(&a.doc, json, "network document");
	rc = rc ? rc : vpc_validate(a.doc);
	if (!rc) {
		a.src_region = cp_json_str(a.doc, "region");
		a.account = cp_json_str(a.doc, "account");
		a.region = opts->region && *opts->region ? opts->region : a.src_region;
		rc = run(&a);
	}
	if (rc && a.ncreated)
		rc = cp_error_prefix(rc,
				     "applying the network document to %s stopped after creating "
				     "%zu resource(s) there: %s (they remain; delete them newest "
				     "first to undo, or keep them and apply the rest by hand): ",
				     a.region, a.ncreated, a.created.ptr);
	else if (rc && !a.dry && a.region)
		rc = cp_error_prefix(rc,
				     "applying the network document to %s (nothing was "
				     "created): ",
				     a.region);
	for (size_t i = 0; i < a.nmap; i++) {
		free(a.map[i].from);
		free(a.map[i].to);
	}
	free(a.map);
	cp_buf_dispose(&a.created);
	yajl_tree_free(a.doc);
	return rc;
}
