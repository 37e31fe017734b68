/*
 * The second half of cp_network_apply for AWS: route tables with their
 * routes and associations, security groups (all groups first, then their
 * rules, since rules refer to each other), network ACL entries and
 * associations, and VPC endpoints. Targets the document does not
 * re-create (peering connections, transit gateways, instances, ...) are
 * reported as skipped steps, never silently dropped.
 */
#include "json.h"
#include "vpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_or(yajl_val o, const char *key, const char *dflt)
{
	const char *s = cp_json_str(o, key);
	return s && *s ? s : dflt;
}

/* An integer member as text into buf; NULL when absent or null. */
static const char *int_text(yajl_val o, const char *key, char *buf, size_t cap)
{
	yajl_val v = cp_json_get(o, key);
	if (!v || !YAJL_IS_INTEGER(v))
		return NULL;
	snprintf(buf, cap, "%lld", (long long)YAJL_GET_INTEGER(v));
	return buf;
}

/* ---- route tables ---- */

static int apply_route(vpc_apply *a, yajl_val rt, const char *table, yajl_val r)
{
	const char *src = cp_json_str(rt, "id");
	const char *dest = cp_json_str(r, "destination_cidr_block");
	const char *dest6 = cp_json_str(r, "destination_ipv6_cidr_block");
	const char *dest_pl = cp_json_str(r, "destination_prefix_list_id");
	const char *ttype = str_or(r, "target_type", "");
	const char *target = cp_json_str(r, "target_id");
	const char *origin = str_or(r, "origin", "");
	const char *shown = dest ? dest : dest6 ? dest6 : dest_pl ? dest_pl : "?";
	if (!strcmp(ttype, "local") || !strcmp(origin, "CreateRouteTable"))
		return 0; /* the VPC's own route: EC2 makes it */
	if (target && !strncmp(target, "vpce-", 5))
		return vpc_step(a, "skip", "route", src, NULL,
				"%s -> %s: gateway endpoint routes come with the endpoint", shown,
				target);
	if (!strcmp(origin, "EnableVgwRoutePropagation"))
		return vpc_step(a, "skip", "route", src, NULL,
				"%s -> %s: propagated by a virtual private gateway", shown,
				target ? target : "?");
	const char *param = NULL;
	if (!strcmp(ttype, "nat-gateway"))
		param = "NatGatewayId";
	else if (!strcmp(ttype, "egress-only-internet-gateway"))
		param = "EgressOnlyInternetGatewayId";
	else if (!strcmp(ttype, "gateway") && target && !strncmp(target, "igw-", 4))
		param = "GatewayId";
	const char *new_target = param ? vpc_mapped(a, target) : NULL;
	if (!new_target)
		return vpc_step(a, "skip", "route", src, NULL,
				"%s -> %s %s: that target is not part of the document's network "
				"(re-create it and add the route by hand)",
				shown, ttype, target ? target : "?");
	if (dest_pl && !dest && !dest6)
		return vpc_step(a, "skip", "route", src, NULL,
				"%s -> %s: prefix lists differ between regions; add the route by "
				"hand",
				dest_pl, target);
	ec2_params q;
	ec2_params_init(&q, "CreateRoute");
	ec2_param(&q, "RouteTableId", table);
	ec2_param(&q, dest ? "DestinationCidrBlock" : "DestinationIpv6CidrBlock", shown);
	ec2_param(&q, param, new_target);
	int rc = vpc_call(a, &q);
	if (rc && !strcmp(vpc_last_code(), "RouteAlreadyExists")) {
		cp_error_clear();
		return vpc_step(a, "exists", "route", src, table, "%s -> %s already there", shown,
				new_target);
	}
	if (rc)
		return cp_error_prefix(rc, "adding route %s -> %s to %s: ", shown, new_target,
				       table);
	return vpc_step(a, "create", "route", src, table, "%s -> %s", shown, new_target);
}

static int apply_association(vpc_apply *a, yajl_val rt, const char *table, yajl_val as)
{
	const char *src = cp_json_str(rt, "id");
	const char *old = cp_json_str(as, "subnet_id");
	const char *param = "SubnetId";
	if (!old) {
		old = cp_json_str(as, "gateway_id");
		param = "GatewayId";
	}
	const char *target = vpc_mapped(a, old);
	if (!target)
		return vpc_step(a, "skip", "route-table-association", src, NULL,
				"with %s: not re-created", old ? old : "?");
	ec2_params q;
	ec2_params_init(&q, "AssociateRouteTable");
	ec2_param(&q, "RouteTableId", table);
	ec2_param(&q, param, target);
	int rc = vpc_call(a, &q);
	if (rc && !strcmp(vpc_last_code(), "Resource.AlreadyAssociated")) {
		cp_error_clear();
		return vpc_step(a, "skip", "route-table-association", src, NULL,
				"%s is already associated with another route table in the target",
				target);
	}
	if (rc)
		return cp_error_prefix(rc, "associating %s with route table %s: ", target, table);
	return vpc_step(a, "associate", "route-table", src, table, "with %s", target);
}

int vpc_apply_routes(vpc_apply *a)
{
	yajl_val items = vpc_section(a, "route_tables");
	int rc = 0;
	/* Tables first, then routes and associations, which may name other tables' targets. */
	for (size_t i = 0; !rc && i < vpc_len(items); i++) {
		yajl_val rt = vpc_at(items, i);
		const char *src = cp_json_str(rt, "id");
		const char *old_vpc = cp_json_str(rt, "vpc_id");
		const char *vpc = vpc_mapped(a, old_vpc);
		if (vpc_mapped(a, src))
			continue; /* a main table, mapped with its VPC */
		if (!vpc) {
			rc = vpc_step(a, "skip", "route-table", src, NULL,
				      "its VPC %s is not re-created", old_vpc);
			continue;
		}
		ec2_params q;
		ec2_params_init(&q, "CreateRouteTable");
		ec2_param(&q, "VpcId", vpc);
		char detail[120];
		snprintf(detail, sizeof(detail), "route table in VPC %s", vpc);
		rc = vpc_create(a, &q, "route-table", src, "routeTable", "routeTableId", detail);
		rc = rc ? rc : vpc_tag(a, rt, "route-table");
	}
	for (size_t i = 0; !rc && i < vpc_len(items); i++) {
		yajl_val rt = vpc_at(items, i);
		const char *table = vpc_mapped(a, cp_json_str(rt, "id"));
		if (!table)
			continue;
		yajl_val routes = cp_json_get(rt, "routes");
		for (size_t k = 0; !rc && k < vpc_len(routes); k++)
			rc = apply_route(a, rt, table, vpc_at(routes, k));
		yajl_val assocs = cp_json_get(rt, "associations");
		for (size_t k = 0; !rc && k < vpc_len(assocs); k++)
			rc = apply_association(a, rt, table, vpc_at(assocs, k));
	}
	return rc;
}

/* ---- security groups ---- */

/* The rule EC2 gives every new group: all traffic out to anywhere. */
static int is_allow_all_out(yajl_val perm)
{
	yajl_val v4 = cp_json_get(perm, "ipv4_ranges");
	return !strcmp(str_or(perm, "protocol", ""), "-1") && vpc_len(v4) == 1 &&
	       !strcmp(str_or(vpc_at(v4, 0), "id", ""), "0.0.0.0/0");
}

static int has_allow_all_out(yajl_val sg)
{
	yajl_val egress = cp_json_get(sg, "egress");
	for (size_t i = 0; i < vpc_len(egress); i++)
		if (is_allow_all_out(vpc_at(egress, i)))
			return 1;
	return 0;
}

static void add_ranges(ec2_params *q, yajl_val perm, const char *key, const char *prefix,
		       const char *field, size_t *n)
{
	yajl_val list = cp_json_get(perm, key);
	for (size_t i = 0; i < vpc_len(list); i++) {
		yajl_val e = vpc_at(list, i);
		const char *id = cp_json_str(e, "id");
		const char *desc = cp_json_str(e, "description");
		if (!id)
			continue;
		++*n;
		ec2_paramf(q, id, "IpPermissions.1.%s.%zu.%s", prefix, *n, field);
		if (desc && *desc)
			ec2_paramf(q, desc, "IpPermissions.1.%s.%zu.Description", prefix, *n);
	}
}

/*
 * One permission as one Authorize call. Group references map to the new
 * groups; a reference to another account's group is kept as it is.
 * Returns 1 (with a skip step) when nothing of the rule can be applied.
 */
static int apply_permission(vpc_apply *a, yajl_val sg, const char *group, yajl_val perm, int egress)
{
	const char *src = cp_json_str(sg, "id");
	const char *proto = str_or(perm, "protocol", "-1");
	char from[24], to[24];
	const char *f = int_text(perm, "from_port", from, sizeof(from));
	const char *t = int_text(perm, "to_port", to, sizeof(to));
	ec2_params q;
	ec2_params_init(&q,
			egress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroupIngress");
	ec2_param(&q, "GroupId", group);
	ec2_param(&q, "IpPermissions.1.IpProtocol", proto);
	if (f)
		ec2_param(&q, "IpPermissions.1.FromPort", f);
	if (t)
		ec2_param(&q, "IpPermissions.1.ToPort", t);
	size_t n4 = 0, n6 = 0, npl = 0, ng = 0;
	add_ranges(&q, perm, "ipv4_ranges", "IpRanges", "CidrIp", &n4);
	add_ranges(&q, perm, "ipv6_ranges", "Ipv6Ranges", "CidrIpv6", &n6);
	cp_buf notes = CP_BUF_INIT;
	/* Customer prefix lists keep their ids only within a region. */
	if (!strcmp(a->region, a->src_region))
		add_ranges(&q, perm, "prefix_lists", "PrefixListIds", "PrefixListId", &npl);
	else if (vpc_len(cp_json_get(perm, "prefix_lists")))
		cp_buf_put(&notes, "; prefix lists left out (ids differ between regions)", 52);
	yajl_val groups = cp_json_get(perm, "groups");
	for (size_t i = 0; i < vpc_len(groups); i++) {
		yajl_val g = vpc_at(groups, i);
		const char *old = cp_json_str(g, "id");
		const char *user = cp_json_str(g, "user_id");
		const char *mapped = vpc_mapped(a, old);
		int foreign = user && a->account && strcmp(user, a->account);
		if (!mapped && !foreign) {
			char note[120];
			snprintf(note, sizeof(note), "; reference to %s left out (not re-created)",
				 old ? old : "?");
			cp_buf_put(&notes, note, strlen(note));
			continue;
		}
		ng++;
		ec2_paramf(&q, mapped ? mapped : old, "IpPermissions.1.Groups.%zu.GroupId", ng);
		if (foreign)
			ec2_paramf(&q, user, "IpPermissions.1.Groups.%zu.UserId", ng);
		const char *desc = cp_json_str(g, "description");
		if (desc && *desc)
			ec2_paramf(&q, desc, "IpPermissions.1.Groups.%zu.Description", ng);
	}
	char what[160];
	snprintf(what, sizeof(what), "%s %s %s-%s from %zu range(s) and %zu group(s)",
		 egress ? "egress" : "ingress", proto, f ? f : "all", t ? t : "all", n4 + n6 + npl,
		 ng);
	int rc = 0;
	if (!n4 && !n6 && !npl && !ng) {
		ec2_params_dispose(&q);
		rc = vpc_step(a, "skip", "security-group-rule", src, NULL, "%s%s", what,
			      notes.ptr ? notes.ptr : "");
		cp_buf_dispose(&notes);
		return rc;
	}
	rc = vpc_call(a, &q);
	if (rc && !strcmp(vpc_last_code(), "InvalidPermission.Duplicate")) {
		cp_error_clear();
		rc = vpc_step(a, "exists", "security-group-rule", src, group, "%s already there",
			      what);
	} else if (rc) {
		rc = cp_error_prefix(rc, "authorizing %s on %s: ", what, group);
	} else {
		rc = vpc_step(a, "authorize", "security-group-rule", src, group, "%s%s", what,
			      notes.ptr ? notes.ptr : "");
	}
	cp_buf_dispose(&notes);
	return rc;
}

/* The rule EC2 gives a VPC's default group: all traffic in from the group itself. */
static int has_self_in(yajl_val sg)
{
	const char *self = cp_json_str(sg, "id");
	yajl_val in = cp_json_get(sg, "ingress");
	for (size_t i = 0; i < vpc_len(in); i++) {
		yajl_val perm = vpc_at(in, i), groups = cp_json_get(perm, "groups");
		if (strcmp(str_or(perm, "protocol", ""), "-1"))
			continue;
		for (size_t k = 0; k < vpc_len(groups); k++)
			if (!strcmp(str_or(vpc_at(groups, k), "id", ""), self))
				return 1;
	}
	return 0;
}

static int revoke_self_in(vpc_apply *a, const char *src, const char *group)
{
	ec2_params q;
	ec2_params_init(&q, "RevokeSecurityGroupIngress");
	ec2_param(&q, "GroupId", group);
	ec2_param(&q, "IpPermissions.1.IpProtocol", "-1");
	ec2_param(&q, "IpPermissions.1.Groups.1.GroupId", group);
	int rc = vpc_call(a, &q);
	if (rc && !strcmp(vpc_last_code(), "InvalidPermission.NotFound")) {
		cp_error_clear();
		return vpc_step(a, "skip", "security-group-rule", src, group,
				"no all-from-itself ingress rule to remove");
	}
	if (rc)
		return cp_error_prefix(rc, "removing the default ingress rule of %s: ", group);
	return vpc_step(a, "revoke", "security-group-rule", src, group,
			"the all-from-itself ingress rule EC2 adds to a default group, which the "
			"document does not have");
}

static int revoke_allow_all_out(vpc_apply *a, const char *src, const char *group)
{
	ec2_params q;
	ec2_params_init(&q, "RevokeSecurityGroupEgress");
	ec2_param(&q, "GroupId", group);
	ec2_param(&q, "IpPermissions.1.IpProtocol", "-1");
	ec2_param(&q, "IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0");
	int rc = vpc_call(a, &q);
	if (rc && !strcmp(vpc_last_code(), "InvalidPermission.NotFound")) {
		cp_error_clear();
		return vpc_step(a, "skip", "security-group-rule", src, group,
				"no allow-all egress rule to remove");
	}
	if (rc)
		return cp_error_prefix(rc, "removing the default egress rule of %s: ", group);
	return vpc_step(a, "revoke", "security-group-rule", src, group,
			"the allow-all egress rule EC2 adds, which the document does not have");
}

int vpc_apply_security_groups(vpc_apply *a)
{
	yajl_val items = vpc_section(a, "security_groups");
	int rc = 0;
	for (size_t i = 0; !rc && i < vpc_len(items); i++) {
		yajl_val sg = vpc_at(items, i);
		const char *src = cp_json_str(sg, "id");
		const char *old_vpc = cp_json_str(sg, "vpc_id");
		const char *vpc = vpc_mapped(a, old_vpc);
		const char *group = vpc_mapped(a, src);
		/*
		 * A default group, mapped with its VPC. In a VPC made by this run it
		 * is made to match the document; the target's own default VPC keeps
		 * the rules it has.
		 */
		if (group && !vpc_is_default(a, old_vpc)) {
			if (!has_self_in(sg))
				rc = revoke_self_in(a, src, group);
			if (!rc && !has_allow_all_out(sg))
				rc = revoke_allow_all_out(a, src, group);
		}
		if (group)
			continue;
		if (!vpc) {
			rc = vpc_step(a, "skip", "security-group", src, NULL,
				      "its VPC %s is not re-created", old_vpc);
			continue;
		}
		const char *name = cp_json_str(sg, "name");
		ec2_params q;
		ec2_params_init(&q, "CreateSecurityGroup");
		ec2_param(&q, "GroupName", name);
		ec2_param(&q, "GroupDescription", str_or(sg, "description", name));
		ec2_param(&q, "VpcId", vpc);
		char detail[200];
		snprintf(detail, sizeof(detail), "security group '%s' in VPC %s", name, vpc);
		rc = vpc_create(a, &q, "security-group", src, NULL, "groupId", detail);
		rc = rc ? rc : vpc_tag(a, sg, "security-group");
		if (!rc && !has_allow_all_out(sg))
			rc = revoke_allow_all_out(a, src, vpc_mapped(a, src));
	}
	/* Every group exists now, so rules can name any of them. */
	for (size_t i = 0; !rc && i < vpc_len(items); i++) {
		yajl_val sg = vpc_at(items, i);
		const char *group = vpc_mapped(a, cp_json_str(sg, "id"));
		if (!group)
			continue;
		yajl_val in = cp_json_get(sg, "ingress"), out = cp_json_get(sg, "egress");
		for (size_t k = 0; !rc && k < vpc_len(in); k++)
			rc = apply_permission(a, sg, group, vpc_at(in, k), 0);
		for (size_t k = 0; !rc && k < vpc_len(out); k++)
			rc = apply_permission(a, sg, group, vpc_at(out, k), 1);
	}
	return rc;
}

/* ---- network ACLs ---- */

static void entry_params(ec2_params *q, const char *acl, yajl_val e)
{
	char num[24], buf[24];
	ec2_param(q, "NetworkAclId", acl);
	ec2_param(q, "RuleNumber", int_text(e, "rule_number", num, sizeof(num)));
	ec2_param(q, "Protocol", cp_json_str(e, "protocol"));
	ec2_param(q, "RuleAction", cp_json_str(e, "action"));
	ec2_param(q, "Egress", vpc_bool(e, "egress") ? "true" : "false");
	const char *c4 = cp_json_str(e, "cidr_block"), *c6 = cp_json_str(e, "ipv6_cidr_block");
	if (c4)
		ec2_param(q, "CidrBlock", c4);
	if (c6)
		ec2_param(q, "Ipv6CidrBlock", c6);
	const char *v;
	if ((v = int_text(e, "icmp_type", buf, sizeof(buf))))
		ec2_param(q, "Icmp.Type", v);
	if ((v = int_text(e, "icmp_code", buf, sizeof(buf))))
		ec2_param(q, "Icmp.Code", v);
	if ((v = int_text(e, "port_from", buf, sizeof(buf))))
		ec2_param(q, "PortRange.From", v);
	if ((v = int_text(e, "port_to", buf, sizeof(buf))))
		ec2_param(q, "PortRange.To", v);
}

static int apply_entry(vpc_apply *a, const char *src, const char *acl, yajl_val e)
{
	char num[24];
	const char *n = int_text(e, "rule_number", num, sizeof(num));
	/* 32767 is the catch-all deny every ACL has and nobody can change. */
	if (!strcmp(n, "32767"))
		return 0;
	const char *c4 = cp_json_str(e, "cidr_block"), *c6 = cp_json_str(e, "ipv6_cidr_block");
	char what[200];
	snprintf(what, sizeof(what), "%s rule %s: %s protocol %s %s",
		 vpc_bool(e, "egress") ? "egress" : "ingress", n, cp_json_str(e, "action"),
		 cp_json_str(e, "protocol"),
		 c4   ? c4
		 : c6 ? c6
		      : "");
	ec2_params q;
	ec2_params_init(&q, "CreateNetworkAclEntry");
	entry_params(&q, acl, e);
	int rc = vpc_call(a, &q);
	if (rc && !strcmp(vpc_last_code(), "NetworkAclEntryAlreadyExists")) {
		/* A default ACL's rule 100: make it what the document says. */
		cp_error_clear();
		ec2_params_init(&q, "ReplaceNetworkAclEntry");
		entry_params(&q, acl, e);
		rc = vpc_call(a, &q);
		if (!rc)
			return vpc_step(a, "replace", "network-acl-entry", src, acl, "%s", what);
	}
	if (rc)
		return cp_error_prefix(rc, "adding %s to %s: ", what, acl);
	return vpc_step(a, "create", "network-acl-entry", src, acl, "%s", what);
}

typedef struct {
	const char *subnet;
	char *association;
} acl_assoc;

static int find_assoc(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	acl_assoc *x = arg;
	xmlNode *set = xml_child(i, "associationSet");
	for (xmlNode *as = xml_item(set ? set->children : NULL); as && !x->association;
	     as = xml_item(as->next)) {
		char subnet[64];
		xml_child_copy(as, "subnetId", subnet, sizeof(subnet));
		if (!strcmp(subnet, x->subnet))
			x->association = xml_child_text(as, "networkAclAssociationId");
	}
	return 0;
}

/* A subnet is always in some ACL (the default one at first): move it to acl. */
static int associate_subnet(vpc_apply *a, const char *src, const char *acl, const char *old_subnet)
{
	const char *subnet = vpc_mapped(a, old_subnet);
	if (!subnet)
		return vpc_step(a, "skip", "network-acl-association", src, NULL,
				"with subnet %s: not re-created", old_subnet);
	if (a->dry)
		return vpc_step(a, "associate", "network-acl", src, NULL, "with subnet %s", subnet);
	acl_assoc x = {subnet, NULL};
	const char *const f[] = {"association.subnet-id", subnet, NULL};
	int rc = vpc_describe_all(a->p, a->region, "DescribeNetworkAcls", f, "networkAclSet", 1000,
				  find_assoc, &x);
	if (!rc && !x.association)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
				  "subnet %s in %s is in no network ACL; EC2 puts every subnet in "
				  "one",
				  subnet, a->region);
	if (!rc) {
		ec2_params q;
		ec2_params_init(&q, "ReplaceNetworkAclAssociation");
		ec2_param(&q, "AssociationId", x.association);
		ec2_param(&q, "NetworkAclId", acl);
		rc = vpc_call(a, &q);
		rc = rc ? cp_error_prefix(rc, "moving subnet %s into network ACL %s: ", subnet, acl)
			: vpc_step(a, "associate", "network-acl", src, acl, "with subnet %s",
				   subnet);
	}
	free(x.association);
	return rc;
}

int vpc_apply_network_acls(vpc_apply *a)
{
	yajl_val items = vpc_section(a, "network_acls");
	int rc = 0;
	for (size_t i = 0; !rc && i < vpc_len(items); i++) {
		yajl_val acl = vpc_at(items, i);
		const char *src = cp_json_str(acl, "id");
		const char *old_vpc = cp_json_str(acl, "vpc_id");
		const char *vpc = vpc_mapped(a, old_vpc);
		int is_default = vpc_mapped(a, src) != NULL;
		if (!vpc) {
			rc = vpc_step(a, "skip", "network-acl", src, NULL,
				      "its VPC %s is not re-created", old_vpc);
			continue;
		}
		if (!is_default) {
			ec2_params q;
			ec2_params_init(&q, "CreateNetworkAcl");
			ec2_param(&q, "VpcId", vpc);
			char detail[120];
			snprintf(detail, sizeof(detail), "network ACL in VPC %s", vpc);
			rc = vpc_create(a, &q, "network-acl", src, "networkAcl", "networkAclId",
					detail);
			rc = rc ? rc : vpc_tag(a, acl, "network-acl");
		}
		const char *id = rc ? NULL : vpc_mapped(a, src);
		yajl_val entries = cp_json_get(acl, "entries");
		for (size_t k = 0; !rc && k < vpc_len(entries); k++)
			rc = apply_entry(a, src, id, vpc_at(entries, k));
		/* Subnets start in the default ACL: only the others need moving. */
		yajl_val subnets = cp_json_get(acl, "subnet_ids");
		for (size_t k = 0; !rc && !is_default && k < vpc_len(subnets); k++)
			rc = associate_subnet(a, src, id, YAJL_GET_STRING(vpc_at(subnets, k)));
	}
	return rc;
}

/* ---- endpoints ---- */

static void write_value(cp_json_writer *w, yajl_val v)
{
	if (YAJL_IS_STRING(v)) {
		cp_json_string(w, YAJL_GET_STRING(v));
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(w->gen, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_OBJECT(v)) {
		cp_json_begin_map(w);
		for (size_t i = 0; i < v->u.object.len; i++) {
			cp_json_key(w, v->u.object.keys[i]);
			write_value(w, v->u.object.values[i]);
		}
		cp_json_end_map(w);
	} else if (YAJL_IS_ARRAY(v)) {
		cp_json_begin_array(w);
		for (size_t i = 0; i < v->u.array.len; i++)
			write_value(w, v->u.array.values[i]);
		cp_json_end_array(w);
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		cp_json_bool(w, YAJL_IS_TRUE(v));
	} else {
		cp_json_null(w);
	}
}

/*
 * The policy without insignificant whitespace. Same meaning to IAM, and a
 * smaller request; moto's signature check also re-encodes form values and
 * disagrees with us about spaces (see tests/integration/aws/test_network.py).
 */
static int compact_policy(const char *policy, cp_buf *out)
{
	yajl_val v = NULL;
	int rc = cp_json_parse(&v, policy, "an endpoint policy in the network document");
	cp_json_writer w;
	if (!rc && !(rc = cp_json_writer_init(&w, 0))) {
		write_value(&w, v);
		rc = cp_json_writer_finish(&w, out);
		cp_json_writer_dispose(&w);
	}
	yajl_tree_free(v);
	return rc;
}

/* "com.amazonaws.us-east-1.s3" names its region: point it at the target's. */
static void map_service(vpc_apply *a, const char *name, char *out, size_t cap)
{
	char from[80];
	snprintf(from, sizeof(from), ".%s.", a->src_region);
	const char *at = strstr(name, from);
	if (at)
		snprintf(out, cap, "%.*s.%s.%s", (int)(at - name), name, a->region,
			 at + strlen(from));
	else
		snprintf(out, cap, "%s", name);
}

static size_t add_mapped(vpc_apply *a, ec2_params *q, yajl_val ids, const char *prefix,
			 cp_buf *skipped)
{
	size_t n = 0;
	for (size_t i = 0; i < vpc_len(ids); i++) {
		const char *old = YAJL_GET_STRING(vpc_at(ids, i));
		const char *id = vpc_mapped(a, old);
		if (!id) {
			cp_buf_put(skipped, " ", 1);
			cp_buf_put(skipped, old, strlen(old));
			continue;
		}
		ec2_paramf(q, id, "%s.%zu", prefix, ++n);
	}
	return n;
}

int vpc_apply_endpoints(vpc_apply *a)
{
	yajl_val items = vpc_section(a, "vpc_endpoints");
	int rc = 0;
	for (size_t i = 0; !rc && i < vpc_len(items); i++) {
		yajl_val ep = vpc_at(items, i);
		const char *src = cp_json_str(ep, "id");
		const char *old_vpc = cp_json_str(ep, "vpc_id");
		const char *vpc = vpc_mapped(a, old_vpc);
		if (!vpc) {
			rc = vpc_step(a, "skip", "vpc-endpoint", src, NULL,
				      "its VPC %s is not re-created", old_vpc);
			continue;
		}
		const char *type = str_or(ep, "type", "Gateway");
		char service[200];
		map_service(a, cp_json_str(ep, "service_name"), service, sizeof(service));
		ec2_params q;
		ec2_params_init(&q, "CreateVpcEndpoint");
		ec2_param(&q, "VpcId", vpc);
		ec2_param(&q, "ServiceName", service);
		ec2_param(&q, "VpcEndpointType", type);
		cp_buf skipped = CP_BUF_INIT;
		size_t nrt = add_mapped(a, &q, cp_json_get(ep, "route_table_ids"), "RouteTableId",
					&skipped);
		size_t nsub =
			add_mapped(a, &q, cp_json_get(ep, "subnet_ids"), "SubnetId", &skipped);
		size_t nsg = add_mapped(a, &q, cp_json_get(ep, "security_group_ids"),
					"SecurityGroupId", &skipped);
		const char *policy = cp_json_str(ep, "policy");
		cp_buf compact = CP_BUF_INIT;
		if (policy && *policy) {
			rc = compact_policy(policy, &compact);
			if (rc) {
				ec2_params_dispose(&q);
				cp_buf_dispose(&skipped);
				return cp_error_prefix(rc, "endpoint %s: ", src);
			}
			ec2_param(&q, "PolicyDocument", compact.ptr);
		}
		cp_buf_dispose(&compact);
		if (!strcmp(type, "Interface"))
			ec2_param(&q, "PrivateDnsEnabled",
				  vpc_bool(ep, "private_dns_enabled") ? "true" : "false");
		char detail[400];
		snprintf(detail, sizeof(detail),
			 "%s endpoint for %s: %zu route table(s), %zu subnet(s), %zu group(s)%s%s",
			 type, service, nrt, nsub, nsg, skipped.ptr ? "; not re-created:" : "",
			 skipped.ptr ? skipped.ptr : "");
		cp_buf_dispose(&skipped);
		rc = vpc_create(a, &q, "vpc-endpoint", src, "vpcEndpoint", "vpcEndpointId", detail);
		rc = rc ? rc : vpc_tag(a, ep, "vpc-endpoint");
	}
	return rc;
}
