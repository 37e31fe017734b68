/*
 * cp_network_export for AWS: every VPC of a region and what lives in it
 * (subnets, gateways, route tables, security groups, network ACLs,
 * endpoints, DHCP options, tags), read with paged EC2 Describe* calls into
 * the "cloudprotect-network" document that doc/network.md specifies.
 * Only configuration is exported: nothing here reads data or secrets.
 */
#include "json.h"
#include "vpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct vpc_page {
	aws_provider *p;
	const char *region;
	const char *set_name;
	vpc_item_fn fn;
	void *arg;
} vpc_page;

static int each_item(xmlNode *root, void *arg)
{
	vpc_page *c = arg;
	int rc = 0;
	xmlNode *set = xml_child(root, c->set_name);
	for (xmlNode *i = xml_item(set ? set->children : NULL); i && !rc; i = xml_item(i->next))
		rc = c->fn(c->p, c->region, i, c->arg);
	return rc;
}

int vpc_describe_all(aws_provider *p, const char *region, const char *action,
		     const char *const *filters, const char *set_name, unsigned int max_page,
		     vpc_item_fn fn, void *arg)
{
	ec2_params q;
	ec2_params_init(&q, action);
	size_t nf = 0;
	for (size_t i = 0; filters && filters[i] && filters[i + 1]; i += 2) {
		ec2_paramf(&q, filters[i], "Filter.%zu.Name", ++nf);
		ec2_paramf(&q, filters[i + 1], "Filter.%zu.Value.1", nf);
	}
	vpc_page c = {p, region, set_name, fn, arg};
	unsigned int page = p->page_size < max_page ? p->page_size : max_page;
	int rc = ec2_each_page(p, region, &q, page, each_item, &c);
	ec2_params_dispose(&q);
	return rc;
}

/* ---- writing XML fields as JSON ---- */

static void kv_text(cp_json_writer *w, const char *key, xmlNode *item, const char *child)
{
	char *s = xml_child_text(item, child);
	cp_json_kv_str(w, key, s && *s ? s : NULL);
	free(s);
}

static int xml_true(xmlNode *item, const char *child)
{
	char *s = xml_child_text(item, child);
	int v = s && !strcmp(s, "true");
	free(s);
	return v;
}

static void kv_bool(cp_json_writer *w, const char *key, xmlNode *item, const char *child)
{
	cp_json_key(w, key);
	cp_json_bool(w, xml_true(item, child));
}

/* An integer field, or null when EC2 left it out (ports of "all traffic" rules). */
static void kv_int_or_null(cp_json_writer *w, const char *key, xmlNode *item, const char *child)
{
	char *s = xml_child_text(item, child);
	cp_json_key(w, key);
	if (s && *s)
		cp_json_int64(w, strtoll(s, NULL, 10));
	else
		cp_json_null(w);
	free(s);
}

static void write_tags(cp_json_writer *w, xmlNode *item)
{
	xmlNode *set = xml_child(item, "tagSet");
	cp_json_key(w, "tags");
	cp_json_begin_map(w);
	for (xmlNode *t = xml_item(set ? set->children : NULL); t; t = xml_item(t->next)) {
		char *k = xml_child_text(t, "key"), *v = xml_child_text(t, "value");
		if (k) {
			cp_json_key(w, k);
			cp_json_string(w, v ? v : "");
		}
		free(k);
		free(v);
	}
	cp_json_end_map(w);
}

/* <set><item><child>text</child></item>...</set> as an array of strings (child NULL: item text). */
static void write_texts(cp_json_writer *w, const char *key, xmlNode *parent, const char *set_name,
			const char *child)
{
	xmlNode *set = xml_child(parent, set_name);
	cp_json_key(w, key);
	cp_json_begin_array(w);
	for (xmlNode *i = xml_item(set ? set->children : NULL); i; i = xml_item(i->next)) {
		char *s = NULL;
		if (child) {
			s = xml_child_text(i, child);
		} else {
			xmlChar *t = xmlNodeGetContent(i);
			s = t ? strdup((const char *)t) : NULL;
			xmlFree(t);
		}
		if (s && *s)
			cp_json_string(w, s);
		free(s);
	}
	cp_json_end_array(w);
}

typedef struct {
	cp_json_writer *w;
	char *account;
	int rc;
} export_ctx;

/* ---- one writer per resource type ---- */

static int vpc_attribute(aws_provider *p, const char *region, const char *vpc, const char *attr,
			 int *out)
{
	ec2_params q;
	ec2_params_init(&q, "DescribeVpcAttribute");
	ec2_param(&q, "VpcId", vpc);
	ec2_param(&q, "Attribute", attr);
	xmlDoc *doc = NULL;
	int rc = ec2_call(p, region, &q, &doc);
	ec2_params_dispose(&q);
	if (!rc)
		*out = xml_true(xml_child(xmlDocGetRootElement(doc), attr), "value");
	xmlFreeDoc(doc);
	return rc;
}

static int write_vpc(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	export_ctx *x = arg;
	cp_json_writer *w = x->w;
	char *id = xml_child_text(i, "vpcId");
	if (!id)
		return 0;
	int dns_support = 1, dns_hostnames = 0;
	int rc = vpc_attribute(p, region, id, "enableDnsSupport", &dns_support);
	rc = rc ? rc : vpc_attribute(p, region, id, "enableDnsHostnames", &dns_hostnames);
	if (!rc && !x->account)
		x->account = xml_child_text(i, "ownerId");
	if (!rc) {
		cp_json_begin_map(w);
		cp_json_kv_str(w, "id", id);
		kv_text(w, "cidr_block", i, "cidrBlock");
		/* Primary first, then the secondary blocks that are still associated. */
		cp_json_key(w, "secondary_cidr_blocks");
		cp_json_begin_array(w);
		char *primary = xml_child_text(i, "cidrBlock");
		xmlNode *set = xml_child(i, "cidrBlockAssociationSet");
		for (xmlNode *b = xml_item(set ? set->children : NULL); b; b = xml_item(b->next)) {
			char *cidr = xml_child_text(b, "cidrBlock");
			char state[32];
			xml_child_copy(xml_child(b, "cidrBlockState"), "state", state,
				       sizeof(state));
			if (cidr && (!primary || strcmp(cidr, primary)) &&
			    (!*state || !strcmp(state, "associated")))
				cp_json_string(w, cidr);
			free(cidr);
		}
		free(primary);
		cp_json_end_array(w);
		write_texts(w, "ipv6_cidr_blocks", i, "ipv6CidrBlockAssociationSet",
			    "ipv6CidrBlock");
		kv_text(w, "instance_tenancy", i, "instanceTenancy");
		kv_text(w, "dhcp_options_id", i, "dhcpOptionsId");
		cp_json_key(w, "enable_dns_support");
		cp_json_bool(w, dns_support);
		cp_json_key(w, "enable_dns_hostnames");
		cp_json_bool(w, dns_hostnames);
		kv_bool(w, "is_default", i, "isDefault");
		write_tags(w, i);
		cp_json_end_map(w);
	}
	free(id);
	return rc;
}

static int write_subnet(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	cp_json_begin_map(w);
	kv_text(w, "id", i, "subnetId");
	kv_text(w, "vpc_id", i, "vpcId");
	kv_text(w, "cidr_block", i, "cidrBlock");
	write_texts(w, "ipv6_cidr_blocks", i, "ipv6CidrBlockAssociationSet", "ipv6CidrBlock");
	kv_text(w, "availability_zone", i, "availabilityZone");
	kv_bool(w, "map_public_ip_on_launch", i, "mapPublicIpOnLaunch");
	kv_bool(w, "default_for_az", i, "defaultForAz");
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

static int write_igw(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	cp_json_begin_map(w);
	kv_text(w, "id", i, "internetGatewayId");
	write_texts(w, "vpc_ids", i, "attachmentSet", "vpcId");
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

static int write_eigw(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	cp_json_begin_map(w);
	kv_text(w, "id", i, "egressOnlyInternetGatewayId");
	write_texts(w, "vpc_ids", i, "attachmentSet", "vpcId");
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

static int write_nat(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	char state[32];
	xml_child_copy(i, "state", state, sizeof(state));
	/* Deleted and failed gateways linger in listings for an hour: not configuration. */
	if (!strcmp(state, "deleted") || !strcmp(state, "deleting") || !strcmp(state, "failed"))
		return 0;
	xmlNode *addrs = xml_child(i, "natGatewayAddressSet");
	xmlNode *a = xml_item(addrs ? addrs->children : NULL);
	cp_json_begin_map(w);
	kv_text(w, "id", i, "natGatewayId");
	kv_text(w, "vpc_id", i, "vpcId");
	kv_text(w, "subnet_id", i, "subnetId");
	char *ct = xml_child_text(i, "connectivityType");
	cp_json_kv_str(w, "connectivity_type", ct && *ct ? ct : "public");
	free(ct);
	/* The elastic IP is recorded for reference: a restore allocates a new address. */
	kv_text(w, "allocation_id", a, "allocationId");
	kv_text(w, "public_ip", a, "publicIp");
	kv_text(w, "private_ip", a, "privateIp");
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

static void write_route(cp_json_writer *w, xmlNode *r)
{
	static const struct {
		const char *xml, *type;
	} targets[] = {
		{"natGatewayId", "nat-gateway"},
		{"egressOnlyInternetGatewayId", "egress-only-internet-gateway"},
		{"vpcPeeringConnectionId", "vpc-peering-connection"},
		{"transitGatewayId", "transit-gateway"},
		{"networkInterfaceId", "network-interface"},
		{"instanceId", "instance"},
		{"carrierGatewayId", "carrier-gateway"},
		{"localGatewayId", "local-gateway"},
		{"gatewayId", "gateway"},
	};
	cp_json_begin_map(w);
	kv_text(w, "destination_cidr_block", r, "destinationCidrBlock");
	kv_text(w, "destination_ipv6_cidr_block", r, "destinationIpv6CidrBlock");
	kv_text(w, "destination_prefix_list_id", r, "destinationPrefixListId");
	const char *type = NULL;
	char *id = NULL;
	/* An instance route also names its interface: the first match is the real target. */
	for (size_t k = 0; k < sizeof(targets) / sizeof(targets[0]) && !type; k++) {
		id = xml_child_text(r, targets[k].xml);
		if (id && *id)
			type = targets[k].type;
		else {
			free(id);
			id = NULL;
		}
	}
	if (type && !strcmp(type, "network-interface")) {
		char *inst = xml_child_text(r, "instanceId");
		if (inst && *inst) {
			free(id);
			id = inst;
			type = "instance";
		} else {
			free(inst);
		}
	}
	if (id && !strcmp(id, "local"))
		type = "local";
	cp_json_kv_str(w, "target_type", type);
	cp_json_kv_str(w, "target_id", id);
	free(id);
	kv_text(w, "origin", r, "origin");
	kv_text(w, "state", r, "state");
	cp_json_end_map(w);
}

static int write_route_table(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	cp_json_begin_map(w);
	kv_text(w, "id", i, "routeTableId");
	kv_text(w, "vpc_id", i, "vpcId");
	int main_table = 0;
	xmlNode *assocs = xml_child(i, "associationSet");
	for (xmlNode *a = xml_item(assocs ? assocs->children : NULL); a; a = xml_item(a->next))
		main_table |= xml_true(a, "main");
	cp_json_key(w, "main");
	cp_json_bool(w, main_table);
	cp_json_key(w, "routes");
	cp_json_begin_array(w);
	xmlNode *routes = xml_child(i, "routeSet");
	for (xmlNode *r = xml_item(routes ? routes->children : NULL); r; r = xml_item(r->next))
		write_route(w, r);
	cp_json_end_array(w);
	cp_json_key(w, "associations");
	cp_json_begin_array(w);
	for (xmlNode *a = xml_item(assocs ? assocs->children : NULL); a; a = xml_item(a->next)) {
		if (xml_true(a, "main"))
			continue;
		cp_json_begin_map(w);
		kv_text(w, "subnet_id", a, "subnetId");
		kv_text(w, "gateway_id", a, "gatewayId");
		cp_json_end_map(w);
	}
	cp_json_end_array(w);
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

static void write_permissions(cp_json_writer *w, const char *key, xmlNode *sg, const char *set_name)
{
	xmlNode *set = xml_child(sg, set_name);
	cp_json_key(w, key);
	cp_json_begin_array(w);
	for (xmlNode *r = xml_item(set ? set->children : NULL); r; r = xml_item(r->next)) {
		cp_json_begin_map(w);
		kv_text(w, "protocol", r, "ipProtocol");
		kv_int_or_null(w, "from_port", r, "fromPort");
		kv_int_or_null(w, "to_port", r, "toPort");
		static const struct {
			const char *key, *set, *field;
		} lists[] = {{"ipv4_ranges", "ipRanges", "cidrIp"},
			     {"ipv6_ranges", "ipv6Ranges", "cidrIpv6"},
			     {"prefix_lists", "prefixListIds", "prefixListId"},
			     {"groups", "groups", "groupId"}};
		for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
			xmlNode *ls = xml_child(r, lists[k].set);
			cp_json_key(w, lists[k].key);
			cp_json_begin_array(w);
			for (xmlNode *e = xml_item(ls ? ls->children : NULL); e;
			     e = xml_item(e->next)) {
				cp_json_begin_map(w);
				kv_text(w, "id", e, lists[k].field);
				kv_text(w, "description", e, "description");
				if (k == 3)
					kv_text(w, "user_id", e, "userId");
				cp_json_end_map(w);
			}
			cp_json_end_array(w);
		}
		cp_json_end_map(w);
	}
	cp_json_end_array(w);
}

static int write_security_group(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	/* EC2-Classic groups belong to no VPC: nothing to re-create them in. */
	if (!xml_child(i, "vpcId"))
		return 0;
	cp_json_begin_map(w);
	kv_text(w, "id", i, "groupId");
	kv_text(w, "vpc_id", i, "vpcId");
	kv_text(w, "name", i, "groupName");
	kv_text(w, "description", i, "groupDescription");
	write_permissions(w, "ingress", i, "ipPermissions");
	write_permissions(w, "egress", i, "ipPermissionsEgress");
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

static int write_network_acl(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	cp_json_begin_map(w);
	kv_text(w, "id", i, "networkAclId");
	kv_text(w, "vpc_id", i, "vpcId");
	kv_bool(w, "default", i, "default");
	cp_json_key(w, "entries");
	cp_json_begin_array(w);
	xmlNode *set = xml_child(i, "entrySet");
	for (xmlNode *e = xml_item(set ? set->children : NULL); e; e = xml_item(e->next)) {
		cp_json_begin_map(w);
		kv_int_or_null(w, "rule_number", e, "ruleNumber");
		kv_text(w, "protocol", e, "protocol");
		kv_text(w, "action", e, "ruleAction");
		kv_bool(w, "egress", e, "egress");
		kv_text(w, "cidr_block", e, "cidrBlock");
		kv_text(w, "ipv6_cidr_block", e, "ipv6CidrBlock");
		xmlNode *icmp = xml_child(e, "icmpTypeCode");
		kv_int_or_null(w, "icmp_type", icmp, "type");
		kv_int_or_null(w, "icmp_code", icmp, "code");
		xmlNode *ports = xml_child(e, "portRange");
		kv_int_or_null(w, "port_from", ports, "from");
		kv_int_or_null(w, "port_to", ports, "to");
		cp_json_end_map(w);
	}
	cp_json_end_array(w);
	write_texts(w, "subnet_ids", i, "associationSet", "subnetId");
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

static int write_endpoint(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	char state[32];
	xml_child_copy(i, "state", state, sizeof(state));
	if (!strcmp(state, "deleted") || !strcmp(state, "deleting") || !strcmp(state, "failed"))
		return 0;
	cp_json_begin_map(w);
	kv_text(w, "id", i, "vpcEndpointId");
	kv_text(w, "vpc_id", i, "vpcId");
	kv_text(w, "service_name", i, "serviceName");
	kv_text(w, "type", i, "vpcEndpointType");
	write_texts(w, "route_table_ids", i, "routeTableIdSet", NULL);
	write_texts(w, "subnet_ids", i, "subnetIdSet", NULL);
	write_texts(w, "security_group_ids", i, "groupSet", "groupId");
	kv_bool(w, "private_dns_enabled", i, "privateDnsEnabled");
	kv_text(w, "policy", i, "policyDocument");
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

static int write_dhcp_options(aws_provider *p, const char *region, xmlNode *i, void *arg)
{
	cp_json_writer *w = ((export_ctx *)arg)->w;
	cp_json_begin_map(w);
	kv_text(w, "id", i, "dhcpOptionsId");
	cp_json_key(w, "configurations");
	cp_json_begin_map(w);
	xmlNode *set = xml_child(i, "dhcpConfigurationSet");
	for (xmlNode *c = xml_item(set ? set->children : NULL); c; c = xml_item(c->next)) {
		char *key = xml_child_text(c, "key");
		if (key && *key)
			write_texts(w, key, c, "valueSet", "value");
		free(key);
	}
	cp_json_end_map(w);
	write_tags(w, i);
	cp_json_end_map(w);
	return 0;
}

/* The sections of the document, in the order apply needs them. */
static const struct section {
	const char *key, *action, *set;
	unsigned int max_page;
	vpc_item_fn fn;
} sections[] = {
	{"vpcs", "DescribeVpcs", "vpcSet", 1000, write_vpc},
	{"dhcp_options", "DescribeDhcpOptions", "dhcpOptionsSet", 1000, write_dhcp_options},
	{"subnets", "DescribeSubnets", "subnetSet", 1000, write_subnet},
	{"internet_gateways", "DescribeInternetGateways", "internetGatewaySet", 1000, write_igw},
	{"egress_only_internet_gateways", "DescribeEgressOnlyInternetGateways",
	 "egressOnlyInternetGatewaySet", 255, write_eigw},
	{"nat_gateways", "DescribeNatGateways", "natGatewaySet", 1000, write_nat},
	{"route_tables", "DescribeRouteTables", "routeTableSet", 100, write_route_table},
	{"security_groups", "DescribeSecurityGroups", "securityGroupInfo", 1000,
	 write_security_group},
	{"network_acls", "DescribeNetworkAcls", "networkAclSet", 1000, write_network_acl},
	{"vpc_endpoints", "DescribeVpcEndpoints", "vpcEndpointSet", 1000, write_endpoint},
};

int aws_network_export(void *state, const char *region, char **json_out)
{
	aws_provider *p = state;
	*json_out = NULL;
	if (!region || !*region)
		region = p->region;
	cp_json_writer w;
	int rc = cp_json_writer_init(&w, 1);
	if (rc)
		return rc;
	export_ctx x = {&w, NULL, 0};
	cp_json_begin_map(&w);
	cp_json_kv_str(&w, "format", VPC_DOC_FORMAT);
	cp_json_kv_int(&w, "version", VPC_DOC_VERSION);
	cp_json_kv_str(&w, "provider", "aws");
	cp_json_kv_str(&w, "region", region);
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]) && !rc; s++) {
		cp_json_key(&w, sections[s].key);
		cp_json_begin_array(&w);
		rc = vpc_describe_all(p, region, sections[s].action, NULL, sections[s].set,
				      sections[s].max_page, sections[s].fn, &x);
		cp_json_end_array(&w);
		if (rc)
			rc = cp_error_prefix(rc, "exporting the %s of %s: ", sections[s].key,
					     region);
	}
	if (!rc) {
		cp_json_kv_str(&w, "account", x.account);
		cp_json_kv_int(&w, "exported", (int64_t)time(NULL));
		cp_json_end_map(&w);
		cp_buf out = CP_BUF_INIT;
		rc = cp_json_writer_finish(&w, &out);
		rc = rc ? rc : cp_buf_put(&out, "\n", 1);
		if (!rc)
			*json_out = out.ptr;
		else
			cp_buf_dispose(&out);
	}
	free(x.account);
	cp_json_writer_dispose(&w);
	return rc;
}
