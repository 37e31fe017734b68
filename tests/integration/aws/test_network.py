#!/usr/bin/env python3
"""Network export and restore through the CLI, against moto's EC2 with SigV4 checked.

Usage: test_network.py CLOUDPROTECT_BINARY
Builds a VPC (secondary CIDR, DNS hostnames) with two subnets, an internet
gateway, a NAT gateway, a route table with routes and an association, two
security groups that reference each other, a network ACL with entries and a
subnet, an S3 gateway endpoint and tags on everything in us-east-1; exports
it into a file:// repository; restores it with --dry-run (every resource is
in the plan, nothing is made), then for real into eu-west-1, and compares
the copy with boto3 modulo ids. A second restore into the same region is
refused naming the overlap; malformed documents fail with their JSON path.

Where moto differs from AWS (and what the test does about it):
- moto's signature check rebuilds the form body from the parsed fields with
  urlencode (space as '+'); we encode spaces as '+' as botocore does, and the
  descriptions here have spaces to keep it so.
- moto's eu-west-1 has three availability zones to us-east-1's six, so three
  default subnets of the source's default VPC are reported as skipped.
- moto's default security groups lack the all-from-itself ingress rule AWS
  gives them; apply revokes it from a new VPC's default group when the
  document lacks it, and takes moto's "rule not found" as already done.
- NAT gateways are "available" at once and moto makes no default DHCP options
  set; on AWS the NAT gateway is pending for a minute or two (routes to it
  are accepted meanwhile).
"""

import http.client
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "cloudsim", "aws"))
from moto_server import MotoServer  # noqa: E402

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


class PagingProxy:
    """Pages EC2 Describe* answers the way AWS does, in front of moto (which does not).

    Requests go to moto byte for byte (so moto still checks every signature);
    an answer to a call with MaxResults is cut to that many items from the
    offset in NextToken, with a nextToken when more remain.
    """

    def __init__(self, upstream):
        self.upstream = urllib.parse.urlparse(upstream)
        self.continued = {}  # action -> requests that carried a NextToken
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port,
                                                  timeout=60)
                conn.request("POST", self.path, body, dict(self.headers))
                resp = conn.getresponse()
                data = resp.read()
                form = urllib.parse.parse_qs(body.decode())
                if resp.status == 200 and "MaxResults" in form:
                    data = proxy.page(form, data)
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                         "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, form, data):
        action = form["Action"][0]
        size = int(form["MaxResults"][0])
        offset = int(form.get("NextToken", ["0"])[0])
        if offset:
            self.continued[action] = self.continued.get(action, 0) + 1
        root = ET.fromstring(data)
        ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
        ET.register_namespace("", ns)
        q = "{%s}" % ns if ns else ""
        sets = [c for c in root if c.tag.endswith("Set") or c.tag == q + "securityGroupInfo"]
        if not sets:
            return data
        items = list(sets[0])
        for i in items:
            sets[0].remove(i)
        for i in items[offset:offset + size]:
            sets[0].append(i)
        for old in root.findall(q + "nextToken"):
            root.remove(old)
        if offset + size < len(items):
            ET.SubElement(root, q + "nextToken").text = str(offset + size)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def tags_of(obj):
    return {t["Key"]: t["Value"] for t in obj.get("Tags", [])}


TAGS = [{"Key": "Name", "Value": "prod"}, {"Key": "team", "Value": "net"}]


def build_source(ec2):
    """The topology in us-east-1; returns its ids by role."""
    ids = {}
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="10.21.0.0/16")
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    dopt = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example"]},
        {"Key": "domain-name-servers", "Values": ["10.20.0.2", "10.20.0.3"]},
    ])["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=vpc)
    eigw = ec2.create_egress_only_internet_gateway(
        VpcId=vpc)["EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"]
    s1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24",
                           AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.21.2.0/24",
                           AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=s1, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=s1, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    rt2 = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt2, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=s1)
    ec2.associate_route_table(RouteTableId=rt2, SubnetId=s2)
    web = ec2.create_security_group(GroupName="web", Description="web tier",
                                    VpcId=vpc)["GroupId"]
    db = ec2.create_security_group(GroupName="db", Description="db tier", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https from anywhere"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
         "UserIdGroupPairs": [{"GroupId": db}]}])
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "UserIdGroupPairs": [{"GroupId": web}]}])
    # db talks only to web: EC2's allow-all egress rule must not come back.
    ec2.revoke_security_group_egress(GroupId=db, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_egress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
         "UserIdGroupPairs": [{"GroupId": web}]}])
    # Rules on the VPC's default group come back on the new VPC's default group.
    default_sg = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}
    ])["SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=default_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6",
                                 RuleAction="allow", Egress=False, CidrBlock="0.0.0.0/0",
                                 PortRange={"From": 443, "To": 443})
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=200, Protocol="-1",
                                 RuleAction="deny", Egress=True, CidrBlock="203.0.113.0/24")
    cur = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [s2]}])["NetworkAcls"][0]
    assoc = [a for a in cur["Associations"] if a["SubnetId"] == s2][0]
    ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                        NetworkAclId=acl)
    ep = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3",
                                 VpcEndpointType="Gateway",
                                 RouteTableIds=[rt])["VpcEndpoint"]["VpcEndpointId"]
    ec2.create_tags(Resources=[vpc, s1, s2, igw, nat, rt, rt2, web, db, acl, ep, dopt, eigw],
                    Tags=TAGS)
    ec2.create_tags(Resources=[s1], Tags=[{"Key": "tier", "Value": "public"}])
    ids.update(vpc=vpc, s1=s1, s2=s2, igw=igw, nat=nat, rt=rt, rt2=rt2, web=web, db=db,
               acl=acl, ep=ep, dopt=dopt, eigw=eigw)
    return ids


def topology(ec2, vpc):
    """What a VPC holds, with ids replaced by names (tag Name + CIDR/group name)."""
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    sname = {s["SubnetId"]: s["CidrBlock"] for s in subnets}
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    gname = {g["GroupId"]: g["GroupName"] for g in groups}
    igws = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    nats = [n for n in ec2.describe_nat_gateways()["NatGateways"]
            if n["VpcId"] == vpc and n["State"] not in ("deleted", "failed")]
    target = {g["InternetGatewayId"]: "igw" for g in igws}
    target.update({n["NatGatewayId"]: "nat@" + sname.get(n["SubnetId"], "?") for n in nats})
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    rts = set()
    for t in tables:
        main = any(a.get("Main") for a in t["Associations"])
        routes = tuple(sorted((r.get("DestinationCidrBlock", ""),
                               target.get(r.get("GatewayId") or r.get("NatGatewayId"),
                                          r.get("GatewayId", "")[:4]))
                              for r in t["Routes"] if r.get("DestinationCidrBlock")))
        assocs = tuple(sorted(sname.get(a.get("SubnetId"), "?") for a in t["Associations"]
                              if not a.get("Main")))
        rts.add((main, routes, assocs, tuple(sorted(tags_of(t).items()))))

    def perms(ps):
        out = set()
        for p in ps:
            for r in p.get("IpRanges", []):
                out.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"],
                         r.get("Description")))
            for g in p.get("UserIdGroupPairs", []):
                out.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"),
                         "sg:" + gname.get(g["GroupId"], g["GroupId"]), None))
        return frozenset(out)

    sgs = {g["GroupName"]: (g["Description"], perms(g["IpPermissions"]),
                            perms(g["IpPermissionsEgress"]), tuple(sorted(tags_of(g).items())))
           for g in groups}
    acls = set()
    for a in ec2.describe_network_acls(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]:
        entries = tuple(sorted((e["RuleNumber"], e["Protocol"], e["RuleAction"], e["Egress"],
                                e.get("CidrBlock"), str(e.get("PortRange")))
                               for e in a["Entries"]))
        subnets_in = tuple(sorted(sname[s["SubnetId"]] for s in a["Associations"]
                                  if s.get("SubnetId") in sname))
        acls.add((a["IsDefault"], entries, subnets_in, tuple(sorted(tags_of(a).items()))))
    # A route table is known by the subnets it serves.
    rtname = {t["RouteTableId"]: tuple(sorted(sname.get(a.get("SubnetId"), "?")
                                              for a in t["Associations"] if not a.get("Main")))
              for t in tables}
    eps = set()
    for e in ec2.describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]:
        eps.add((e["ServiceName"].split(".")[-1], e["VpcEndpointType"],
                 tuple(sorted(rtname.get(r, ("?",)) for r in e.get("RouteTableIds", []))),
                 tuple(sorted(tags_of(e).items()))))
    v = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]
    dhcp = ec2.describe_dhcp_options(DhcpOptionsIds=[v["DhcpOptionsId"]])["DhcpOptions"][0]
    eigws = [g for g in ec2.describe_egress_only_internet_gateways()[
        "EgressOnlyInternetGateways"] if any(a["VpcId"] == vpc for a in g["Attachments"])]
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")
    return {
        "cidrs": sorted(b["CidrBlock"] for b in v["CidrBlockAssociationSet"]
                        if b["CidrBlockState"]["State"] in ("associated", "associating")),
        "dns_hostnames": hostnames["EnableDnsHostnames"]["Value"],
        "vpc_tags": tags_of(v),
        "subnets": sorted((s["CidrBlock"], s["AvailabilityZone"][-1], s["MapPublicIpOnLaunch"],
                           tuple(sorted(tags_of(s).items()))) for s in subnets),
        "igws": sorted(tuple(sorted(tags_of(g).items())) for g in igws),
        "egress_only_igws": sorted(tuple(sorted(tags_of(g).items())) for g in eigws),
        "dhcp_options": (sorted((c["Key"], sorted(x["Value"] for x in c["Values"]))
                                for c in dhcp["DhcpConfigurations"]),
                         tuple(sorted(tags_of(dhcp).items()))),
        "nats": sorted((sname.get(n["SubnetId"]), tuple(sorted(tags_of(n).items())))
                       for n in nats),
        "route_tables": rts, "security_groups": sgs, "network_acls": acls, "endpoints": eps,
    }


def main():
    cli = sys.argv[1]
    work = tempfile.mkdtemp(prefix="cpnet-")
    try:
        with MotoServer(log_path=os.path.join(work, "moto.log")) as moto:
            run_all(cli, moto, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


def run_all(cli, moto, work):
    east, west = moto.client("ec2", "us-east-1"), moto.client("ec2", "eu-west-1")
    ids = build_source(east)
    env = moto.env()
    env.update(CLOUDPROTECT_PROVIDER="aws", CLOUDPROTECT_PASSWORD="correct horse battery",
               AWS_CONFIG_FILE=os.path.join(work, "none"),
               AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "none"))
    repo = "file://" + os.path.join(work, "repo")
    outputs = []

    def cp(*args):
        p = subprocess.run([cli] + list(args), env=env, capture_output=True, text=True,
                           timeout=120)
        outputs.append(p.stdout + p.stderr)
        if p.returncode:
            print("  (exit %d) %s" % (p.returncode, p.stderr.strip()[:600]))
        return p

    check(cp("--repo", repo, "repo", "init").returncode == 0, "repository created")

    # ---- export ----
    p = cp("network", "export", "--region", "us-east-1")
    check(p.returncode == 0, "export prints a document")
    doc = json.loads(p.stdout or "{}")
    check(doc.get("format") == "cloudprotect-network" and doc.get("version") == 1 and
          doc.get("provider") == "aws" and doc.get("region") == "us-east-1" and
          doc.get("account") == "123456789012" and isinstance(doc.get("exported"), int),
          "the document says what it is, where and when it came from")
    vpcs = {v["id"]: v for v in doc.get("vpcs", [])}
    check(vpcs.get(ids["vpc"], {}).get("secondary_cidr_blocks") == ["10.21.0.0/16"] and
          vpcs[ids["vpc"]]["enable_dns_hostnames"] is True and
          vpcs[ids["vpc"]]["tags"] == {"Name": "prod", "team": "net"},
          "VPC with secondary CIDR, DNS attributes and tags exported")
    check(any(v["is_default"] for v in vpcs.values()), "the default VPC is exported, marked")
    nat = [n for n in doc.get("nat_gateways", []) if n["id"] == ids["nat"]]
    check(len(nat) == 1 and nat[0]["subnet_id"] == ids["s1"] and nat[0]["public_ip"],
          "NAT gateway exported with its subnet and (old) address")
    counts = {k: len(doc.get(k, [])) for k in ("subnets", "route_tables", "security_groups",
                                               "network_acls", "vpc_endpoints")}
    check(all(counts.values()), "every section has items: %s" % counts)

    # Pages of five: every Describe* must follow NextToken to the end.
    proxy = PagingProxy(moto.url)
    try:
        saved = env["AWS_ENDPOINT_URL"]
        env["AWS_ENDPOINT_URL"] = proxy.url
        p = cp("--provider-config", '{"page_size": 5}', "network", "export")
        env["AWS_ENDPOINT_URL"] = saved
    finally:
        proxy.close()
    paged = json.loads(p.stdout or "{}")
    paged["exported"] = doc.get("exported")
    check(paged == doc, "an export in pages of five equals the one-page export")
    # Eight subnets (two ours, six of the default VPC) need a second page.
    check(proxy.continued.get("DescribeSubnets", 0) >= 1,
          "later pages were asked for (%s)" % proxy.continued)

    p = cp("--repo", repo, "--json", "network", "export")
    check(p.returncode == 0, "export into the repository")
    backup_id = json.loads(p.stdout or "{}").get("id", "")
    check(len(backup_id) == 64, "export prints the backup id")
    p = cp("--repo", repo, "--json", "snapshots")
    listed = [b for b in json.loads(p.stdout or "[]") if b["id"] == backup_id]
    check(len(listed) == 1 and listed[0]["source"] == "network:aws:us-east-1" and
          listed[0]["tags"].get("content-type") == "application/vnd.cloudprotect.network+json",
          "snapshots lists it as network:aws:us-east-1 with its content type")
    p = cp("--repo", repo, "snapshots")
    check("network:aws:us-east-1" in p.stdout, "the table shows the network source")
    p = cp("--repo", repo, "network", "export")
    second = p.stdout.strip()
    p = cp("--repo", repo, "--json", "snapshots")
    added = [b["new_bytes"] for b in json.loads(p.stdout or "[]") if b["id"] == second]
    # Only the export time changed: one small chunk, not a copy of everything.
    check(added and added[0] < 4096, "a re-export of an unchanged network adds one small "
          "chunk (%s bytes)" % added)

    # ---- dry run ----
    p = cp("--repo", repo, "--json", "network", "restore", backup_id, "--region", "eu-west-1",
           "--dry-run")
    check(p.returncode == 0, "dry run succeeds")
    steps = json.loads(p.stdout or "[]")
    made = {(s["type"], s["source_id"]) for s in steps if s["action"] == "create"}
    wanted = [("vpc", "vpc"), ("dhcp-options", "dopt"), ("egress-only-internet-gateway", "eigw"), ("subnet", "s1"), ("subnet", "s2"), ("internet-gateway", "igw"),
              ("nat-gateway", "nat"), ("route-table", "rt"), ("route-table", "rt2"),
              ("security-group", "web"), ("security-group", "db"), ("network-acl", "acl"),
              ("vpc-endpoint", "ep")]
    check(all((t, ids[k]) in made for t, k in wanted), "the plan creates every resource")
    check(all(s["new_id"] is None for s in steps), "a dry run names no new ids")
    check(any(s["action"] == "authorize" and s["source_id"] == ids["db"] for s in steps) and
          any(s["action"] == "tag" for s in steps) and
          any(s["type"] == "route" and s["action"] == "create" for s in steps),
          "the plan has rules, routes and tags")
    west_vpcs = west.describe_vpcs()["Vpcs"]
    check(len(west_vpcs) == 1 and west_vpcs[0]["IsDefault"],
          "a dry run creates nothing (eu-west-1 holds only its default VPC)")

    # ---- restore into eu-west-1 ----
    p = cp("--repo", repo, "network", "restore", backup_id, "--region", "eu-west-1")
    check(p.returncode == 0, "restore into eu-west-1")
    check("create    vpc" in p.stdout and "elastic IP" in p.stdout,
          "the steps are printed, saying the NAT address is new")
    new_vpcs = [v for v in west.describe_vpcs()["Vpcs"] if not v["IsDefault"]]
    check(len(new_vpcs) == 1, "one VPC made in eu-west-1")
    if new_vpcs:
        want, got = topology(east, ids["vpc"]), topology(west, new_vpcs[0]["VpcId"])
        for key in want:
            check(want[key] == got[key], "same %s%s" % (
                key, "" if want[key] == got[key] else ": %r != %r" % (want[key], got[key])))

    # ---- refusals ----
    p = cp("--repo", repo, "network", "restore", backup_id, "--region", "eu-west-1")
    check(p.returncode != 0 and "overlaps" in p.stderr and
          (new_vpcs and new_vpcs[0]["VpcId"] in p.stderr),
          "a second restore into eu-west-1 is refused, naming the overlapping VPC")
    check(len([v for v in west.describe_vpcs()["Vpcs"] if not v["IsDefault"]]) == 1,
          "the refused restore made nothing")
    bad = json.loads(json.dumps(doc))
    bad["subnets"][1]["vpc_id"] = 42
    path = os.path.join(work, "bad.json")
    with open(path, "w") as f:
        json.dump(bad, f)
    p = cp("network", "restore", path, "--region", "ap-south-1", "--dry-run")
    check(p.returncode != 0 and "$.subnets[1].vpc_id" in p.stderr,
          "a malformed document names the JSON path")
    bad = json.loads(json.dumps(doc))
    bad["version"] = 2
    with open(path, "w") as f:
        json.dump(bad, f)
    p = cp("network", "restore", path, "--dry-run")
    check(p.returncode != 0 and "$.version" in p.stderr, "a newer version is refused")
    # A subnet outside its VPC fails after the VPC was made: the error must say so.
    bad = json.loads(json.dumps(doc))
    for sub in bad["subnets"]:
        if sub["id"] == ids["s2"]:
            sub["cidr_block"] = "192.168.7.0/24"
    with open(path, "w") as f:
        json.dump(bad, f)
    p = cp("network", "restore", path, "--region", "ap-south-1")
    south = [v["VpcId"] for v in moto.client("ec2", "ap-south-1").describe_vpcs()["Vpcs"]
             if not v["IsDefault"]]
    check(p.returncode != 0 and "stopped after creating" in p.stderr and len(south) == 1 and
          south[0] in p.stderr and "192.168.7.0/24" in p.stderr,
          "a failure midway names every resource it created (%s)" % south)
    p = cp("--repo", repo, "network", "restore", ids["vpc"])
    check(p.returncode != 0 and "backup id" in p.stderr,
          "a name that is neither a file nor a backup id is refused")
    check(all(moto.secret not in o for o in outputs), "no secret in any output")


if __name__ == "__main__":
    main()
