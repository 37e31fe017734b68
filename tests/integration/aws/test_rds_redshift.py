#!/usr/bin/env python3
"""RDS, Aurora and Redshift through the aws provider and the CLI, against moto.

Usage: test_rds_redshift.py CLOUDPROTECT_BINARY

moto runs in server mode with SigV4 checked (tests/cloudsim/aws/moto_server.py).
The CLI talks to it through a small proxy in this file that forwards every
request unchanged (so signatures still verify) and can answer the next N
requests with RDS's 400 <Code>Throttling</Code>, which moto cannot do.

Shows: DB inventory over several pages (MaxRecords/Marker) with ARN ids and
id/tag/region filters; Redshift clusters as warehouses; snapshot create
(waited for), list, get, copy to another region and delete, for DB instances
and Aurora clusters (an encrypted DB snapshot's copy with KmsKeyId, default
and per-region, and a PreSignedUrl for the source region whose signature
botocore recomputes; unencrypted copies send neither); restore to a new
instance, and to a new cluster with its first instance; Redshift snapshot create/list/delete/restore and a clear
refusal of per-snapshot copy; `cloudprotect tag` on an EC2 volume, DB instances, clusters,
both snapshot kinds, Redshift clusters and snapshots (added or overwritten,
other keys kept, as moto reports them; unknown ids, reserved keys refused);
clear errors for a missing snapshot and an unknown access key; throttling retried; no secret in any output.

Where moto differs from the AWS reference (we follow the reference):
- moto does not take ARNs as DBSnapshotIdentifier in Describe/Restore calls;
  we send identifiers to the ARN's region anyway, which AWS also accepts.
- moto reports Redshift clusters without ClusterNamespaceArn, so the
  account in cluster ARNs comes from STS GetCallerIdentity.
- moto's snapshots are available at once; waiting is covered by polling,
  which moto's "creating" restored clusters exercise.
"""
import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "cloudsim", "aws"))
from moto_server import MotoServer  # noqa: E402

FAILS = []
ACCOUNT = "123456789012"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


THROTTLE = (b'<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error>'
            b'<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>'
            b'</Error><RequestId>throttle-1</RequestId></ErrorResponse>')


class Proxy(http.server.ThreadingHTTPServer):
    """Forwards to moto; records actions; throttles the next `throttle` requests."""

    def __init__(self, target):
        self.target = urllib.parse.urlparse(target)
        self.lock = threading.Lock()
        self.throttle = 0
        self.throttled = 0
        self.actions = []
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.url = "http://127.0.0.1:%d" % self.server_address[1]


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        form = urllib.parse.parse_qs(body.decode(errors="replace"))
        srv = self.server
        with srv.lock:
            srv.actions.append(form)
            throttle = srv.throttle > 0
            if throttle:
                srv.throttle -= 1
                srv.throttled += 1
        if throttle:
            self.send_response(400)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(THROTTLE)))
            self.end_headers()
            self.wfile.write(THROTTLE)
            return
        conn = http.client.HTTPConnection(srv.target.hostname, srv.target.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()}
        conn.request("POST", self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server",
                                 "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()


def parse(text):
    text = text.strip()
    if not text:
        return []
    v = json.loads(text)
    return v if isinstance(v, list) else [v]


def main():
    cli = sys.argv[1]
    with MotoServer() as moto:
        proxy = Proxy(moto.url)
        t = threading.Thread(target=proxy.serve_forever, daemon=True)
        t.start()
        try:
            run_all(cli, moto, proxy)
        finally:
            proxy.shutdown()
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


def seed(moto):
    rds = moto.client("rds")
    for n in range(23):
        rds.create_db_instance(
            DBInstanceIdentifier="db%02d" % n, DBInstanceClass="db.t3.micro",
            Engine="postgres", AllocatedStorage=20 + n, MasterUsername="admin",
            MasterUserPassword="not-a-real-password",
            Tags=[{"Key": "env", "Value": "prod" if n % 2 == 0 else "dev"}])
    moto.client("rds", "eu-west-1").create_db_instance(
        DBInstanceIdentifier="eudb", DBInstanceClass="db.t3.micro", Engine="mysql",
        AllocatedStorage=30, MasterUsername="admin", MasterUserPassword="not-a-real-password")
    rds.create_db_cluster(DBClusterIdentifier="aurora1", Engine="aurora-postgresql",
                          MasterUsername="admin", MasterUserPassword="not-a-real-password",
                          Tags=[{"Key": "env", "Value": "prod"}])
    moto.client("redshift").create_cluster(
        ClusterIdentifier="wh1", NodeType="dc2.large", MasterUsername="admin",
        MasterUserPassword="NotReal123", ClusterType="single-node",
        Tags=[{"Key": "env", "Value": "prod"}])


def presign_matches(url, key_id, secret):
    """Re-sign the presigned URL's request with botocore; True when the signatures agree."""
    import datetime
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from ebs_direct import frozen_clock
    u = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    amz = {k: v for k, v in q if k.startswith("X-Amz-")}
    plain = [(k, v) for k, v in q if not k.startswith("X-Amz-")]
    _, _, region, service, _ = amz["X-Amz-Credential"].split("/")
    req = AWSRequest(method="GET", url="%s://%s%s" % (u.scheme, u.netloc, u.path or "/"),
                     params=dict(plain))
    when = datetime.datetime.strptime(amz["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    signer = botocore.auth.SigV4QueryAuth(Credentials(key_id, secret), service, region,
                                          expires=int(amz["X-Amz-Expires"]))
    with frozen_clock(when):
        signer.add_auth(req)
    mine = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(req.prepare().url).query))
    return mine.get("X-Amz-Signature") == amz.get("X-Amz-Signature")


def encrypted_copy(cp, actions, moto, cfg, endpoint):
    """An encrypted snapshot's copy carries KmsKeyId and a PreSignedUrl signed for the source."""
    moto.client("rds").create_db_instance(
        DBInstanceIdentifier="encdb", DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="not-a-real-password",
        StorageEncrypted=True)
    encdb = "arn:aws:rds:us-east-1:%s:db:encdb" % ACCOUNT
    # moto resolves the copy's key in the target region: the alias must exist there.
    kms = moto.client("kms", "eu-west-1")
    kms.create_alias(AliasName="alias/eu-copies",
                     TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    p = cp("--json", "snapshot", "create", encdb)
    snaps = parse(p.stdout) if p.returncode == 0 else []
    esid = snaps[0]["id"] if snaps else ""
    check(":snapshot:cloudprotect-encdb-" in esid, "snapshot of an encrypted DB instance")
    for key_cfg, want in ((None, "alias/aws/rds"),
                          ({"eu-west-1": "alias/eu-copies", "us-west-2": "x"}, "alias/eu-copies")):
        saved = dict(cfg)
        if key_cfg:
            cfg["rds_copy_kms_key"] = key_cfg
        p = cp("--json", "snapshot", "copy", esid, "--region", "eu-west-1")
        cfg.clear()
        cfg.update(saved)
        copies = parse(p.stdout) if p.returncode == 0 else []
        check(copies and copies[0]["id"].startswith("arn:aws:rds:eu-west-1:"),
              "encrypted snapshot copied to eu-west-1 (key %s)" % want)
        sent = actions("CopyDBSnapshot")[-1] if actions("CopyDBSnapshot") else {}
        check(sent.get("KmsKeyId") == [want], "KmsKeyId %s was sent: %s"
              % (want, sent.get("KmsKeyId")))
        url = (sent.get("PreSignedUrl") or [""])[0]
        u = urllib.parse.urlsplit(url)
        q = dict(urllib.parse.parse_qsl(u.query))
        check(q.get("Action") == "CopyDBSnapshot" and q.get("DestinationRegion") == "eu-west-1"
              and q.get("SourceDBSnapshotIdentifier") == esid and q.get("KmsKeyId") == want
              and q.get("TargetDBSnapshotIdentifier") == esid.split(":")[-1]
              and "X-Amz-Signature" in q, "the PreSignedUrl is the same copy request: %s"
              % sorted(q))
        # Every region's endpoint is the proxy here (AWS_ENDPOINT_URL, as the SDKs do), so
        # the source region shows in the credential scope; on AWS the host is rds.us-east-1.
        check(url.startswith(endpoint + "/?")
              and q.get("X-Amz-Credential", "").split("/")[2:] == ["us-east-1", "rds",
                                                                    "aws4_request"],
              "the PreSignedUrl targets us-east-1's RDS endpoint: %s" % url[:120])
        check(url and presign_matches(url, moto.key_id, moto.secret),
              "botocore computes the same signature for the PreSignedUrl")
        if copies:
            check(cp("snapshot", "delete", copies[0]["id"]).returncode == 0,
                  "delete the encrypted copy")
    saved = dict(cfg)
    cfg["rds_copy_kms_key"] = {"eu-west-1": ""}
    p = cp("snapshot", "copy", esid, "--region", "eu-west-1")
    cfg.clear()
    cfg.update(saved)
    check(p.returncode != 0 and "'rds_copy_kms_key' for 'eu-west-1'" in p.stderr,
          "an empty rds_copy_kms_key is a config error naming the region")
    check(cp("snapshot", "delete", esid).returncode == 0, "delete the encrypted snapshot")


def run_all(cli, moto, proxy):
    seed(moto)
    env = moto.env()
    env["AWS_ENDPOINT_URL"] = proxy.url
    cfg = {"regions": ["us-east-1", "eu-west-1"], "region": "us-east-1", "page_size": 20,
           "poll_ms": 20, "wait_timeout_s": 30}
    outputs = []

    def cp(*args, extra_env=None):
        e = dict(env)
        e.update(extra_env or {})
        p = subprocess.run([cli, "--provider", "aws", "--provider-config", json.dumps(cfg)]
                           + list(args), env=e, capture_output=True, text=True, timeout=120)
        outputs.append(p.stdout + p.stderr)
        if p.returncode != 0:
            print("  (%s exited %d: %s)" % (" ".join(args[:3]), p.returncode,
                                            p.stderr.strip()[:300]))
        return p

    def actions(name):
        return [a for a in proxy.actions if a.get("Action") == [name]]

    arn = "arn:aws:rds:%s:%s:%s:%s"
    db00 = arn % ("us-east-1", ACCOUNT, "db", "db00")
    aurora = arn % ("us-east-1", ACCOUNT, "cluster", "aurora1")
    wh1 = "arn:aws:redshift:us-east-1:%s:cluster:wh1" % ACCOUNT

    # ---- inventory ----
    proxy.actions.clear()
    p = cp("--json", "inventory", "--kind", "db")
    res = parse(p.stdout) if p.returncode == 0 else []
    ids = {r["id"] for r in res}
    check(len(res) == 25, "inventory --kind db lists 23 + 1 instances and 1 cluster (%d)"
          % len(res))
    check(db00 in ids and aurora in ids and arn % ("eu-west-1", ACCOUNT, "db", "eudb") in ids,
          "DB ids are ARNs in their regions")
    pages = [a for a in actions("DescribeDBInstances")]
    check(len(pages) >= 3 and any("Marker" in a for a in pages)
          and all(a.get("MaxRecords") == ["20"] for a in pages),
          "DescribeDBInstances is paged with MaxRecords=20 and Marker (%d calls)" % len(pages))
    r00 = [r for r in res if r["id"] == db00]
    check(r00 and r00[0]["kind"] == "db" and r00[0]["size"] == 20 * 2**30
          and r00[0].get("tags", {}).get("env") == "prod", "a DB instance's size and tags")
    p = cp("--json", "inventory", "--kind", "db", "--tag", "env=prod", "--region", "us-east-1")
    got = {r["id"] for r in parse(p.stdout)} if p.returncode == 0 else set()
    check(len(got) == 13 and aurora in got, "tag and region filters (%d)" % len(got))
    proxy.actions.clear()
    p = cp("--json", "inventory", "--id", db00)
    got = [r["id"] for r in parse(p.stdout)] if p.returncode == 0 else []
    check(got == [db00], "id filter finds exactly one instance")
    check(not actions("DescribeClusters"), "an RDS id filter does not ask Redshift")
    p = cp("--json", "inventory", "--kind", "warehouse")
    got = parse(p.stdout) if p.returncode == 0 else []
    check([r["id"] for r in got] == [wh1] and got[0]["kind"] == "warehouse",
          "Redshift cluster as a warehouse with an ARN id")

    # ---- DB instance snapshots ----
    p = cp("--json", "snapshot", "create", db00, "--tag", "purpose=test")
    snaps = parse(p.stdout) if p.returncode == 0 else []
    check(len(snaps) == 1, "snapshot create of a DB instance")
    sid = snaps[0]["id"] if snaps else ""
    check(sid.startswith("arn:aws:rds:us-east-1:%s:snapshot:cloudprotect-db00-" % ACCOUNT)
          and snaps[0]["state"] == "completed" and snaps[0]["kind"] == "db"
          and snaps[0]["resource"] == db00 and snaps[0]["size"] == 20 * 2**30
          and snaps[0]["tags"].get("purpose") == "test",
          "the snapshot is an ARN, completed, of kind db, with size and tags")
    p = cp("--json", "snapshot", "list", db00)
    listed = parse(p.stdout) if p.returncode == 0 else []
    check(sid in [s["id"] for s in listed] and all(s["resource"] == db00 for s in listed),
          "snapshot list of the instance (manual and automated)")
    p = cp("snapshot", "list", db00)
    check(p.returncode == 0 and sid in p.stdout and " db " in p.stdout and "KIND" in p.stdout,
          "snapshot list shows the kind")
    p = cp("--json", "snapshot", "copy", sid, "--region", "eu-west-1")
    copies = parse(p.stdout) if p.returncode == 0 else []
    copy_id = copies[0]["id"] if copies else ""
    check(copy_id.startswith("arn:aws:rds:eu-west-1:") and copies[0]["region"] == "eu-west-1",
          "copy to eu-west-1 makes a snapshot there")
    src = [a for a in actions("CopyDBSnapshot")]
    check(src and src[-1].get("SourceDBSnapshotIdentifier") == [sid],
          "the copy names the source by ARN")
    check(src and "KmsKeyId" not in src[-1] and "PreSignedUrl" not in src[-1],
          "an unencrypted copy sends neither KmsKeyId nor PreSignedUrl")
    p = cp("--json", "snapshot", "delete", copy_id)
    check(p.returncode == 0, "delete the copy")
    names = [s["DBSnapshotIdentifier"] for s in
             moto.client("rds", "eu-west-1").describe_db_snapshots()["DBSnapshots"]]
    check(copy_id.split(":")[-1] not in names, "the copy is gone")

    # ---- restore to a new instance ----
    p = cp("--json", "snapshot", "restore", sid, "--name", "restored1", "--size-class",
           "db.t3.small", "--tag", "restored=yes")
    made = parse(p.stdout) if p.returncode == 0 else []
    check([m["id"] for m in made] == [arn % ("us-east-1", ACCOUNT, "db", "restored1")]
          and made[0]["kind"] == "db", "restore makes a DB instance and reports it")
    inst = moto.client("rds").describe_db_instances(
        DBInstanceIdentifier="restored1")["DBInstances"][0]
    check(inst["DBInstanceClass"] == "db.t3.small", "the instance class was given")

    # ---- Aurora cluster snapshots ----
    p = cp("--json", "snapshot", "create", aurora)
    csnaps = parse(p.stdout) if p.returncode == 0 else []
    cid = csnaps[0]["id"] if csnaps else ""
    check(":cluster-snapshot:cloudprotect-aurora1-" in cid and csnaps[0]["kind"] == "db"
          and csnaps[0]["resource"] == aurora, "snapshot create of an Aurora cluster")
    p = cp("--json", "snapshot", "list", aurora)
    listed = parse(p.stdout) if p.returncode == 0 else []
    check(cid in [s["id"] for s in listed] and all(s["resource"] == aurora for s in listed),
          "snapshot list of the cluster")
    p = cp("--json", "snapshot", "copy", cid, "--region", "eu-west-1")
    ccopy = parse(p.stdout)[0]["id"] if p.returncode == 0 else ""
    check(ccopy.startswith("arn:aws:rds:eu-west-1:%s:cluster-snapshot:" % ACCOUNT),
          "cluster snapshot copied to eu-west-1")
    src = actions("CopyDBClusterSnapshot")
    check(src and "KmsKeyId" not in src[-1] and "PreSignedUrl" not in src[-1],
          "an unencrypted cluster copy sends neither KmsKeyId nor PreSignedUrl")
    check(cp("snapshot", "delete", ccopy).returncode == 0, "delete the cluster snapshot copy")
    p = cp("--json", "snapshot", "restore", cid, "--name", "aurora2", "--size-class",
           "db.r6g.large")
    made = parse(p.stdout) if p.returncode == 0 else []
    check([m["id"] for m in made] == [arn % ("us-east-1", ACCOUNT, "cluster", "aurora2"),
                                      arn % ("us-east-1", ACCOUNT, "db", "aurora2-1")],
          "cluster restore reports the cluster, then its first instance")
    members = moto.client("rds").describe_db_clusters(
        DBClusterIdentifier="aurora2")["DBClusters"][0].get("DBClusterMembers", [])
    check([m["DBInstanceIdentifier"] for m in members] == ["aurora2-1"],
          "the new instance is a member of the restored cluster")
    check(any(a.get("Engine") == ["aurora-postgresql"]
              for a in actions("RestoreDBClusterFromSnapshot")),
          "the cluster restore passes the snapshot's engine")

    # ---- Redshift ----
    p = cp("--json", "snapshot", "create", wh1, "--tag", "k=v")
    rs = parse(p.stdout) if p.returncode == 0 else []
    rid = rs[0]["id"] if rs else ""
    check(rid.startswith("arn:aws:redshift:us-east-1:%s:snapshot:wh1/cloudprotect-wh1-"
                         % ACCOUNT) and rs[0]["kind"] == "warehouse"
          and rs[0]["state"] == "completed" and rs[0]["resource"] == wh1,
          "Redshift snapshot create")
    p = cp("--json", "snapshot", "list", wh1)
    listed = parse(p.stdout) if p.returncode == 0 else []
    check(rid in [s["id"] for s in listed] and all(s["resource"] == wh1 for s in listed)
          and all(s["kind"] == "warehouse" for s in listed),
          "Redshift snapshot list of the cluster")
    p = cp("snapshot", "copy", rid, "--region", "eu-west-1")
    check(p.returncode != 0 and "enable-snapshot-copy" in p.stderr,
          "Redshift per-snapshot copy is refused with the way to do it")
    p = cp("--json", "snapshot", "restore", rid, "--name", "wh2", "--size-class", "dc2.large",
           "--tag", "restored=yes")
    made = parse(p.stdout) if p.returncode == 0 else []
    check([m["id"] for m in made] == ["arn:aws:redshift:us-east-1:%s:cluster:wh2" % ACCOUNT]
          and made[0]["kind"] == "warehouse", "Redshift restore reports the new cluster")
    check(len(actions("DescribeClusters")) >= 2, "the restore waited for the cluster")
    tags = moto.client("redshift").describe_clusters(
        ClusterIdentifier="wh2")["Clusters"][0].get("Tags", [])
    check({"Key": "restored", "Value": "yes"} in tags, "the restored cluster is tagged")
    # ---- tags: add or overwrite, other keys kept, in the ARN's region ----
    proxy.actions.clear()
    eudb = arn % ("eu-west-1", ACCOUNT, "db", "eudb")
    rds_tags = {}
    for target, region in ((db00, "us-east-1"), (aurora, "us-east-1"), (sid, "us-east-1"),
                           (cid, "us-east-1"), (eudb, "eu-west-1")):
        p = cp("--json", "tag", target, "env=staging", "owner=ops team")
        got = parse(p.stdout) if p.returncode == 0 else []
        tl = moto.client("rds", region).list_tags_for_resource(ResourceName=target)["TagList"]
        rds_tags[target] = {t["Key"]: t["Value"] for t in tl}
        check(got and got[0]["id"] == target and got[0]["tags"].get("owner") == "ops team",
              "tag %s reports what it set" % target.split(":", 5)[-1])
    check(all(t.get("env") == "staging" and t.get("owner") == "ops team"
              for t in rds_tags.values()),
          "RDS instances, clusters and both snapshot kinds carry the tags (moto agrees)")
    check(rds_tags[sid].get("purpose") == "test",
          "a key not given (purpose) is kept: tags are added or overwritten")
    adds = actions("AddTagsToResource")
    check(len(adds) == 5 and all(a.get("ResourceName") and a.get("Tags.Tag.1.Key") == ["env"]
                                 and a.get("Tags.Tag.2.Value") == ["ops team"] for a in adds),
          "AddTagsToResource with ResourceName and Tags.Tag.N.Key/Value")
    for target in (wh1, rid):
        p = cp("tag", target, "env=staging", "cost-center=42")
        check(p.returncode == 0 and "tagged" in p.stdout, "tag Redshift %s"
              % target.split(":", 5)[-1])
    rs_tags = {}
    for t in moto.client("redshift").describe_tags()["TaggedResources"]:
        rs_tags.setdefault(t["ResourceName"], {})[t["Tag"]["Key"]] = t["Tag"]["Value"]
    check(rs_tags.get(wh1, {}).get("cost-center") == "42"
          and rs_tags.get(wh1, {}).get("env") == "staging"
          and rs_tags.get(rid, {}).get("cost-center") == "42"
          and rs_tags.get(rid, {}).get("k") == "v",
          "Redshift cluster and snapshot tagged through CreateTags; other keys kept: %s"
          % {k.split(":", 5)[-1]: v for k, v in rs_tags.items()})
    check([a.get("Tags.Tag.2.Key") for a in actions("CreateTags")] == [["cost-center"]] * 2,
          "Redshift CreateTags with Tags.Tag.N")
    ec2 = moto.client("ec2")
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1,
                            TagSpecifications=[{"ResourceType": "volume",
                                                "Tags": [{"Key": "env", "Value": "dev"},
                                                         {"Key": "keep", "Value": "me"}]}])
    p = cp("tag", vol["VolumeId"], "env=staging")
    got = {t["Key"]: t["Value"] for t in ec2.describe_volumes(
        VolumeIds=[vol["VolumeId"]])["Volumes"][0].get("Tags", [])}
    check(p.returncode == 0 and got == {"env": "staging", "keep": "me"},
          "an EC2 volume is still tagged through EC2 CreateTags: %s" % got)
    proxy.actions.clear()
    p = cp("tag", "arn:aws:s3:::some-bucket", "k=v")
    check(p.returncode != 0 and "arn:aws:s3:::some-bucket" in p.stderr
          and "not a resource or snapshot this provider knows" in p.stderr,
          "an id no service owns is refused by name: %s" % p.stderr.strip()[-200:])
    p = cp("tag", db00, "aws:owner=x")
    check(p.returncode != 0 and "reserves" in p.stderr, "the aws: key prefix is refused")
    check(not proxy.actions, "refused ids and keys reach no API")
    # (A missing DB is not checked here: AWS answers DBInstanceNotFound, moto tags anyway.)
    p = cp("tag", "arn:aws:redshift:us-east-1:%s:cluster:nosuch" % ACCOUNT, "k=v")
    check(p.returncode != 0 and "nosuch" in p.stderr and "Redshift CreateTags" in p.stderr,
          "tagging a missing Redshift cluster fails, naming it: %s" % p.stderr.strip()[-200:])
    p = cp("tag", db00, "novalue")
    check(p.returncode == 2 and "KEY=VALUE" in p.stderr, "a tag without = is a usage error")

    check(cp("snapshot", "delete", rid).returncode == 0, "Redshift snapshot delete")
    p = cp("snapshot", "list", wh1)
    check(p.returncode == 0 and rid not in p.stdout, "the Redshift snapshot is gone")

    encrypted_copy(cp, actions, moto, cfg, env["AWS_ENDPOINT_URL"])

    # ---- errors ----
    missing = arn % ("us-east-1", ACCOUNT, "snapshot", "nope")
    p = cp("snapshot", "restore", missing)
    check(p.returncode != 0 and "not found" in p.stderr and missing in p.stderr,
          "a missing snapshot is named as not found")
    p = cp("snapshot", "delete", "arn:aws:redshift:us-east-1:%s:snapshot:wh1/nope" % ACCOUNT)
    check(p.returncode != 0 and "not found" in p.stderr, "a missing Redshift snapshot")
    p = cp("snapshot", "list", "arn:aws:rds:us-east-1:1:snapshot")
    check(p.returncode != 0 and "ARN" in p.stderr, "a malformed ARN is refused clearly")
    bad_secret = "wrong-secret-SHOULDNOTLEAK"
    p = cp("inventory", "--kind", "db", extra_env={"AWS_ACCESS_KEY_ID": "AKIANOSUCHKEY0000000",
                                                   "AWS_SECRET_ACCESS_KEY": bad_secret})
    check(p.returncode != 0 and "AKIANOSUCHKEY0000000" in p.stderr and "rds:" in p.stderr,
          "an unknown key is refused, naming the key id and the permission")

    # ---- throttling ----
    with proxy.lock:
        proxy.throttle, proxy.throttled = 2, 0
    p = cp("--json", "snapshot", "list", db00)
    check(p.returncode == 0 and proxy.throttled == 2 and sid in [s["id"] for s in
                                                                 parse(p.stdout)],
          "RDS Throttling is retried until the call succeeds")

    check(cp("snapshot", "delete", sid).returncode == 0, "delete the DB snapshot")
    check(cp("snapshot", "delete", cid).returncode == 0, "delete the cluster snapshot")
    leaked = [o for o in outputs if moto.secret in o or bad_secret in o]
    check(not leaked, "no secret in any output")


if __name__ == "__main__":
    main()
