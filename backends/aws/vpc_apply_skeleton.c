/*
 * The network skeleton of cp_network_apply for AWS: DHCP option sets,
 * VPCs (with what EC2 makes along with each mapped: main route table,
 * default security group and network ACL), internet and egress-only
 * gateways, subnets and NAT gateways. The default VPC of the document maps
 * onto the target's default VPC, its default subnets and gateway onto the
 * target's.
 */
#include "json.h"
#include "vpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Map the document's main route table, default security group and default
 * network ACL of old_vpc onto the ones EC2 made with new_vpc.
 */
static int map_vpc_defaults(vpc_apply *a, const char *old_vpc, const char *new_vpc)
{
	static const struct {
		const char *section, *flag, *type, *action, *set, *field, *fname, *fvalue;
	} kinds[] = {
		{"route_tables", "main", "route-table", "DescribeRouteTables", "routeTableSet",
		 "routeTableId", "association.main", "true"},
		{"security_groups", NULL, "security-group", "DescribeSecurityGroups",
		 "securityGroupInfo", "groupId", "group-name", "default"},
		{"network_acls", "default", "network-acl", "DescribeNetworkAcls", "networkAclSet",
		 "networkAclId", "default", "true"},
	};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		yajl_val items = vpc_section(a, kinds[k].section);
		for (size_t i = 0; i < vpc_len(items); i++) {
			yajl_val it = vpc_at(items, i);
			const char *vpc = cp_json_str(it, "vpc_id");
			const char *name = cp_json_str(it, "name");
			if (strcmp(vpc, old_vpc))
				continue;
			if (kinds[k].flag ? !vpc_bool(it, kinds[k].flag)
					  : !name || strcmp(name, "default"))
				continue;
			const char *src = cp_json_str(it, "id");
			char *id = NULL;
			int rc = 0;
			if (!a->dry) {
				const char *const filters[] = {"vpc-id", new_vpc, kinds[k].fname,
							       kinds[k].fvalue, NULL};
				rc = vpc_lookup(a, kinds[k].action, kinds[k].set, kinds[k].field,
						filters, &id);
				if (!rc && !id)
					rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
							  "VPC %s in %s has no default %s; EC2 "
							  "makes one with every VPC",
							  new_vpc, a->region, kinds[k].type);
			}
			rc = rc ? rc : vpc_map(a, src, id ? id : src);
			rc = rc ? rc
				: vpc_step(a, "map", kinds[k].type, src, id,
					   "the one EC2 made with VPC %s", new_vpc);
			rc = rc ? rc : vpc_tag(a, it, kinds[k].type);
			free(id);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- the network skeleton ---- */

/* The set AWS gives every region: the target has its own, with its own domain name. */
static int is_aws_default_dhcp(vpc_apply *a, yajl_val d)
{
	yajl_val c = cp_json_get(d, "configurations");
	if (!c || !YAJL_IS_OBJECT(c))
		return 0;
	char regional[128];
	snprintf(regional, sizeof(regional), "%s.compute.internal", a->src_region);
	for (size_t i = 0; i < c->u.object.len; i++) {
		const char *k = c->u.object.keys[i];
		yajl_val v = c->u.object.values[i];
		const char *first = vpc_len(v) == 1 ? YAJL_GET_STRING(vpc_at(v, 0)) : NULL;
		if (!first)
			return 0;
		if (!strcmp(k, "domain-name") &&
		    (!strcmp(first, "ec2.internal") || !strcmp(first, regional)))
			continue;
		if (!strcmp(k, "domain-name-servers") && !strcmp(first, "AmazonProvidedDNS"))
			continue;
		return 0;
	}
	return 1;
}

static int apply_dhcp_options(vpc_apply *a)
{
	yajl_val items = vpc_section(a, "dhcp_options");
	for (size_t i = 0; i < vpc_len(items); i++) {
		yajl_val d = vpc_at(items, i);
		const char *src = cp_json_str(d, "id");
		if (is_aws_default_dhcp(a, d)) {
			int rc = vpc_step(a, "skip", "dhcp-options", src, NULL,
					  "the AWS default set; VPCs in %s keep that region's own",
					  a->region);
			if (rc)
				return rc;
			continue;
		}
		ec2_params q;
		ec2_params_init(&q, "CreateDhcpOptions");
		yajl_val c = cp_json_get(d, "configurations");
		size_t n = 0;
		for (size_t k = 0; c && YAJL_IS_OBJECT(c) && k < c->u.object.len; k++) {
			yajl_val vals = c->u.object.values[k];
			n++;
			ec2_paramf(&q, c->u.object.keys[k], "DhcpConfiguration.%zu.Key", n);
			for (size_t m = 0; m < vpc_len(vals); m++) {
				const char *v = YAJL_GET_STRING(vpc_at(vals, m));
				if (v)
					ec2_paramf(&q, v, "DhcpConfiguration.%zu.Value.%zu", n,
						   m + 1);
			}
		}
		int rc = vpc_create(a, &q, "dhcp-options", src, "dhcpOptions", "dhcpOptionsId",
				    "DHCP options set");
		rc = rc ? rc : vpc_tag(a, d, "dhcp-options");
		if (rc)
			return rc;
	}
	return 0;
}

static int vpc_attribute(vpc_apply *a, const char *vpc, const char *attr, int value)
{
	ec2_params q;
	ec2_params_init(&q, "ModifyVpcAttribute");
	ec2_param(&q, "VpcId", vpc);
	char name[64];
	snprintf(name, sizeof(name), "%s.Value", attr);
	ec2_param(&q, name, value ? "true" : "false");
	int rc = vpc_call(a, &q);
	return rc ? cp_error_prefix(rc, "setting %s of VPC %s: ", attr, vpc) : 0;
}

static int apply_one_vpc(vpc_apply *a, yajl_val v, const char *default_vpc)
{
	const char *src = cp_json_str(v, "id");
	const char *cidr = cp_json_str(v, "cidr_block");
	int rc;
	if (vpc_bool(v, "is_default")) {
		if (!*default_vpc)
			return vpc_step(a, "skip", "vpc", src, NULL,
					"the default VPC: %s has none to map it onto, so what is "
					"in it is skipped",
					a->region);
		rc = vpc_map(a, src, default_vpc);
		rc = rc ? rc
			: vpc_step(a, "map", "vpc", src, default_vpc,
				   "the default VPC maps onto %s's default VPC", a->region);
		rc = rc ? rc : vpc_tag(a, v, "vpc");
		return rc ? rc : map_vpc_defaults(a, src, a->dry ? src : default_vpc);
	}
	ec2_params q;
	ec2_params_init(&q, "CreateVpc");
	ec2_param(&q, "CidrBlock", cidr);
	const char *tenancy = cp_json_str(v, "instance_tenancy");
	if (tenancy && *tenancy)
		ec2_param(&q, "InstanceTenancy", tenancy);
	char detail[160];
	snprintf(detail, sizeof(detail), "VPC %s, tenancy %s", cidr, tenancy ? tenancy : "default");
	rc = vpc_create(a, &q, "vpc", src, "vpc", "vpcId", detail);
	const char *id = rc ? NULL : vpc_mapped(a, src);
	yajl_val sec = cp_json_get(v, "secondary_cidr_blocks");
	for (size_t k = 0; !rc && k < vpc_len(sec); k++) {
		const char *block = YAJL_GET_STRING(vpc_at(sec, k));
		ec2_params_init(&q, "AssociateVpcCidrBlock");
		ec2_param(&q, "VpcId", id);
		ec2_param(&q, "CidrBlock", block);
		rc = vpc_call(a, &q);
		rc = rc ? cp_error_prefix(rc, "adding %s to VPC %s: ", block, id)
			: vpc_step(a, "associate", "vpc-cidr-block", src, id,
				   "secondary CIDR block %s", block);
	}
	if (!rc && vpc_len(cp_json_get(v, "ipv6_cidr_blocks"))) {
		ec2_params_init(&q, "AssociateVpcCidrBlock");
		ec2_param(&q, "VpcId", id);
		ec2_param(&q, "AmazonProvidedIpv6CidrBlock", "true");
		rc = vpc_call(a, &q);
		rc = rc ? cp_error_prefix(rc, "adding an IPv6 block to VPC %s: ", id)
			: vpc_step(a, "associate", "vpc-cidr-block", src, id,
				   "an Amazon-provided IPv6 block (a new range: IPv6 addresses "
				   "cannot be kept)");
	}
	int dns_support =
		!cp_json_get(v, "enable_dns_support") || vpc_bool(v, "enable_dns_support");
	int dns_hostnames = vpc_bool(v, "enable_dns_hostnames");
	/* CreateVpc turns DNS support on and hostnames off: change only what differs. */
	if (!rc && !dns_support)
		rc = vpc_attribute(a, id, "EnableDnsSupport", 0);
	if (!rc && dns_hostnames)
		rc = vpc_attribute(a, id, "EnableDnsHostnames", 1);
	if (!rc && (!dns_support || dns_hostnames))
		rc = vpc_step(a, "modify", "vpc", src, id, "DNS support %s, DNS hostnames %s",
			      dns_support ? "on" : "off", dns_hostnames ? "on" : "off");
	const char *dopt = cp_json_str(v, "dhcp_options_id");
	const char *new_dopt = dopt ? vpc_mapped(a, dopt) : NULL;
	if (!rc && new_dopt) {
		ec2_params_init(&q, "AssociateDhcpOptions");
		ec2_param(&q, "VpcId", id);
		ec2_param(&q, "DhcpOptionsId", new_dopt);
		rc = vpc_call(a, &q);
		rc = rc ? cp_error_prefix(rc, "associating DHCP options %s with VPC %s: ", new_dopt,
					  id)
			: vpc_step(a, "associate", "dhcp-options", dopt, new_dopt, "with VPC %s",
				   a->dry ? src : id);
	}
	rc = rc ? rc : vpc_tag(a, v, "vpc");
	return rc ? rc : map_vpc_defaults(a, src, id);
}

static int apply_vpcs(vpc_apply *a, const char *default_vpc)
{
	yajl_val vpcs = vpc_section(a, "vpcs");
	for (size_t i = 0; i < vpc_len(vpcs); i++) {
		int rc = apply_one_vpc(a, vpc_at(vpcs, i), default_vpc);
		if (rc)
			return rc;
	}
	return 0;
}

/* The default VPC's internet gateway already exists in the target: map onto it. */
static int map_default_igw(vpc_apply *a, yajl_val g, const char *vpc)
{
	const char *src = cp_json_str(g, "id");
	char *existing = NULL;
	int rc = 0;
	if (!a->dry) {
		const char *const f[] = {"attachment.vpc-id", vpc, NULL};
		rc = vpc_lookup(a, "DescribeInternetGateways", "internetGatewaySet",
				"internetGatewayId", f, &existing);
	}
	if (!rc && (existing || a->dry)) {
		rc = vpc_map(a, src, existing ? existing : src);
		rc = rc ? rc
			: vpc_step(a, "map", "internet-gateway", src, existing,
				   "the default VPC's internet gateway");
		rc = rc ? rc : vpc_tag(a, g, "internet-gateway");
	} else if (!rc) {
		rc = vpc_step(a, "skip", "internet-gateway", src, NULL,
			      "the default VPC's gateway: the target's default VPC has none");
	}
	free(existing);
	return rc;
}

static int apply_gateways(vpc_apply *a, const char *section, int egress_only)
{
	const char *type = egress_only ? "egress-only-internet-gateway" : "internet-gateway";
	yajl_val items = vpc_section(a, section);
	for (size_t i = 0; i < vpc_len(items); i++) {
		yajl_val g = vpc_at(items, i);
		const char *src = cp_json_str(g, "id");
		yajl_val vpcs = cp_json_get(g, "vpc_ids");
		const char *old_vpc = vpc_len(vpcs) ? YAJL_GET_STRING(vpc_at(vpcs, 0)) : NULL;
		const char *vpc = vpc_mapped(a, old_vpc);
		int rc = 0;
		ec2_params q;
		if (!vpc) {
			rc = vpc_step(a, "skip", type, src, NULL,
				      old_vpc ? "its VPC %s is not re-created"
					      : "attached to no VPC%s",
				      old_vpc ? old_vpc : "");
		} else if (!egress_only && vpc_is_default(a, old_vpc)) {
			rc = map_default_igw(a, g, vpc);
		} else if (egress_only) {
			ec2_params_init(&q, "CreateEgressOnlyInternetGateway");
			ec2_param(&q, "VpcId", vpc);
			rc = vpc_create(a, &q, type, src, "egressOnlyInternetGateway",
					"egressOnlyInternetGatewayId",
					"egress-only internet gateway");
			rc = rc ? rc : vpc_tag(a, g, type);
		} else {
			ec2_params_init(&q, "CreateInternetGateway");
			rc = vpc_create(a, &q, type, src, "internetGateway", "internetGatewayId",
					"internet gateway");
			const char *id = rc ? NULL : vpc_mapped(a, src);
			if (!rc) {
				ec2_params_init(&q, "AttachInternetGateway");
				ec2_param(&q, "InternetGatewayId", id);
				ec2_param(&q, "VpcId", vpc);
				rc = vpc_call(a, &q);
				rc = rc ? cp_error_prefix(rc, "attaching %s to %s: ", id, vpc)
					: vpc_step(a, "attach", type, src, id, "to VPC %s", vpc);
			}
			rc = rc ? rc : vpc_tag(a, g, type);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* "us-east-1b" in the document's region -> "eu-west-1b" in the target. */
static void map_zone(vpc_apply *a, const char *zone, char *out, size_t cap)
{
	size_t n = strlen(a->src_region);
	if (zone && !strncmp(zone, a->src_region, n))
		snprintf(out, cap, "%s%s", a->region, zone + n);
	else
		snprintf(out, cap, "%s", zone ? zone : "");
}

static int apply_subnets(vpc_apply *a)
{
	yajl_val items = vpc_section(a, "subnets");
	for (size_t i = 0; i < vpc_len(items); i++) {
		yajl_val s = vpc_at(items, i);
		const char *src = cp_json_str(s, "id");
		const char *old_vpc = cp_json_str(s, "vpc_id");
		const char *vpc = vpc_mapped(a, old_vpc);
		const char *cidr = cp_json_str(s, "cidr_block");
		char zone[64];
		map_zone(a, cp_json_str(s, "availability_zone"), zone, sizeof(zone));
		int rc;
		if (!vpc) {
			rc = vpc_step(a, "skip", "subnet", src, NULL,
				      "its VPC %s is not re-created", old_vpc);
		} else if (vpc_bool(s, "default_for_az")) {
			char *existing = NULL;
			rc = 0;
			if (!a->dry) {
				const char *const f[] = {
					"vpc-id", vpc, "availability-zone", zone, "default-for-az",
					"true",	  NULL};
				rc = vpc_lookup(a, "DescribeSubnets", "subnetSet", "subnetId", f,
						&existing);
			}
			if (!rc && (existing || a->dry)) {
				rc = vpc_map(a, src, existing ? existing : src);
				rc = rc ? rc
					: vpc_step(a, "map", "subnet", src, existing,
						   "the default subnet of %s", zone);
				rc = rc ? rc : vpc_tag(a, s, "subnet");
			} else if (!rc) {
				rc = vpc_step(a, "skip", "subnet", src, NULL,
					      "a default subnet; %s has no default subnet in %s",
					      a->region, zone);
			}
			free(existing);
		} else {
			ec2_params q;
			ec2_params_init(&q, "CreateSubnet");
			ec2_param(&q, "VpcId", vpc);
			ec2_param(&q, "CidrBlock", cidr);
			if (*zone)
				ec2_param(&q, "AvailabilityZone", zone);
			char detail[200];
			snprintf(detail, sizeof(detail), "subnet %s in %s of VPC %s", cidr, zone,
				 vpc);
			rc = vpc_create(a, &q, "subnet", src, "subnet", "subnetId", detail);
			const char *id = rc ? NULL : vpc_mapped(a, src);
			if (!rc && vpc_bool(s, "map_public_ip_on_launch")) {
				ec2_params_init(&q, "ModifySubnetAttribute");
				ec2_param(&q, "SubnetId", id);
				ec2_param(&q, "MapPublicIpOnLaunch.Value", "true");
				rc = vpc_call(a, &q);
				rc = rc ? cp_error_prefix(rc, "setting map-public-ip of %s: ", id)
					: vpc_step(a, "modify", "subnet", src, id,
						   "public IPv4 addresses on launch");
			}
			rc = rc ? rc : vpc_tag(a, s, "subnet");
		}
		if (rc)
			return rc;
	}
	return 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Routes to a NAT gateway need it available: poll until it is, or fail naming it. */
static int wait_nat_available(vpc_apply *a, const char *src, const char *id)
{
	time_t deadline = time(NULL) + a->p->wait_timeout_s;
	for (;;) {
		char *state = NULL;
		const char *const f[] = {"nat-gateway-id", id, NULL};
		int rc = vpc_lookup(a, "DescribeNatGateways", "natGatewaySet", "state", f, &state);
		if (rc)
			return cp_error_prefix(rc, "waiting for NAT gateway %s: ", id);
		int available = state && !strcmp(state, "available");
		int failed = state && (!strcmp(state, "failed") || !strcmp(state, "deleted"));
		char shown[32];
		snprintf(shown, sizeof(shown), "%s", state ? state : "unknown");
		free(state);
		if (available)
			return vpc_step(a, "wait", "nat-gateway", src, id, "available");
		if (failed)
			return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER,
					    "NAT gateway %s in %s is %s; see its failure message "
					    "with `aws ec2 describe-nat-gateways`",
					    id, a->region, shown);
		if (time(NULL) >= deadline)
			return cp_error_set(CP_ETIMEOUT, CP_ERRCLASS_PROVIDER,
					    "NAT gateway %s in %s is still %s after %u s; raise "
					    "wait_timeout_s in the provider config or try again",
					    id, a->region, shown, a->p->wait_timeout_s);
		sleep_ms(a->p->poll_ms);
	}
}

static int apply_nat_gateways(vpc_apply *a)
{
	yajl_val items = vpc_section(a, "nat_gateways");
	for (size_t i = 0; i < vpc_len(items); i++) {
		yajl_val g = vpc_at(items, i);
		const char *src = cp_json_str(g, "id");
		const char *old_subnet = cp_json_str(g, "subnet_id");
		const char *subnet = vpc_mapped(a, old_subnet);
		const char *type = cp_json_str(g, "connectivity_type");
		int private_nat = type && !strcmp(type, "private");
		const char *old_ip = cp_json_str(g, "public_ip");
		int rc = 0;
		if (!subnet) {
			rc = vpc_step(a, "skip", "nat-gateway", src, NULL,
				      "its subnet %s is not re-created", old_subnet);
			if (rc)
				return rc;
			continue;
		}
		char eip_src[80];
		snprintf(eip_src, sizeof(eip_src), "%s/elastic-ip", src);
		ec2_params q;
		if (!private_nat) {
			ec2_params_init(&q, "AllocateAddress");
			ec2_param(&q, "Domain", "vpc");
			char detail[200];
			snprintf(detail, sizeof(detail),
				 "a new elastic IP for the NAT gateway (the old address %s cannot "
				 "be moved to another region or recreated)",
				 old_ip ? old_ip : "(none)");
			rc = vpc_create(a, &q, "elastic-ip", eip_src, NULL, "allocationId", detail);
		}
		if (!rc) {
			ec2_params_init(&q, "CreateNatGateway");
			ec2_param(&q, "SubnetId", subnet);
			if (private_nat)
				ec2_param(&q, "ConnectivityType", "private");
			else
				ec2_param(&q, "AllocationId", vpc_mapped(a, eip_src));
			char detail[200];
			snprintf(detail, sizeof(detail), "%s NAT gateway in subnet %s",
				 private_nat ? "private" : "public", subnet);
			rc = vpc_create(a, &q, "nat-gateway", src, "natGateway", "natGatewayId",
					detail);
		}
		rc = rc ? rc : vpc_tag(a, g, "nat-gateway");
		if (rc)
			return rc;
	}
	/* Made all at once above, so they come up together; wait once for each. */
	for (size_t i = 0; !a->dry && i < vpc_len(items); i++) {
		const char *src = cp_json_str(vpc_at(items, i), "id");
		const char *id = vpc_mapped(a, src);
		int rc = id ? wait_nat_available(a, src, id) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

int vpc_apply_skeleton(vpc_apply *a, const char *default_vpc)
{
	int rc = apply_dhcp_options(a);
	rc = rc ? rc : apply_vpcs(a, default_vpc);
	rc = rc ? rc : apply_gateways(a, "internet_gateways", 0);
	rc = rc ? rc : apply_gateways(a, "egress_only_internet_gateways", 1);
	rc = rc ? rc : apply_subnets(a);
	return rc ? rc : apply_nat_gateways(a);
}
