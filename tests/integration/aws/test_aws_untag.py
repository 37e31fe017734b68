#!/usr/bin/env python3
"""Removing tags (cp_provider_untag) in every AWS service the provider tags.

Usage: test_aws_untag.py CLOUDPROTECT_BINARY

EC2, RDS, Redshift, DynamoDB and FSx live in moto (tests/cloudsim/aws/
moto_server.py, every signature checked); EFS file systems and AWS Backup
recovery points in tests/cloudsim/aws/backup.py (signatures checked by
botocore). For an EC2 volume and snapshot, an RDS instance (in the default
region and in another), a Redshift cluster, a DynamoDB table, an FSx and an
EFS file system and a recovery point: `cloudprotect tag` sets two keys, one
is removed with `cloudprotect untag`, and the service, asked through boto3, still has exactly the other one and the tags it had before.
Removing a key the resource lacks succeeds and changes nothing. The key
removed has a space, '/' and '+', so the query-string and form encodings
and their signatures are exercised. An "aws:" key and a key given twice are
refused (CP_EINVALID) before any request; unknown ids and missing file
systems are named in the error. (A missing EC2 volume is not checked here:
AWS answers InvalidVolume.NotFound, moto deletes nothing and says yes.)
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "cloudsim", "aws"))
sys.path.insert(0, HERE)

from moto_server import MotoServer  # noqa: E402
from test_aws_backup import BackupSim, lines, sim_client  # noqa: E402

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
SUBNET = "subnet-0123456789abcdef0"
ODD_KEY = "cost center/q+1"  # space, '/' and '+': each must be encoded
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def as_dict(tags):
    return {t["Key"]: t["Value"] for t in tags or []}


def make_targets(moto, sim):
    """id -> a function reading its tags back through the service, as a dict."""
    ec2 = moto.client("ec2")
    keep = [{"Key": "keep", "Value": "yes"}]
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, TagSpecifications=[
        {"ResourceType": "volume", "Tags": keep}])["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    rds, rds_eu = moto.client("rds"), moto.client("rds", "eu-west-1")
    for client, name in ((rds, "db1"), (rds_eu, "eudb")):
        client.create_db_instance(
            DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
            AllocatedStorage=20, MasterUsername="admin",
            MasterUserPassword="not-a-real-password", Tags=keep)
    redshift = moto.client("redshift")
    redshift.create_cluster(ClusterIdentifier="wh1", NodeType="dc2.large",
                            MasterUsername="admin", MasterUserPassword="NotReal123",
                            ClusterType="single-node", Tags=keep)
    ddb = moto.client("dynamodb")
    table = ddb.create_table(
        TableName="orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        Tags=keep)["TableDescription"]["TableArn"]
    fsx = moto.client("fsx")
    fsx_arn = fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200,
                                     SubnetIds=[SUBNET], Tags=keep)["FileSystem"]["ResourceARN"]
    sim.call("/_sim/efs", [{"id": "fs-0aaa1", "region": "us-east-1", "name": "home",
                            "tags": {"keep": "yes"}}])
    efs_arn = "arn:aws:elasticfilesystem:us-east-1:%s:file-system/fs-0aaa1" % ACCOUNT
    efs = sim_client(moto, sim, "efs")
    backup = sim_client(moto, sim, "backup")

    def db_arn(region, name):
        return "arn:aws:rds:%s:%s:db:%s" % (region, ACCOUNT, name)

    wh1 = "arn:aws:redshift:us-east-1:%s:cluster:wh1" % ACCOUNT

    def redshift_tags():
        out = {}
        for t in redshift.describe_tags(ResourceName=wh1)["TaggedResources"]:
            out[t["Tag"]["Key"]] = t["Tag"]["Value"]
        return out

    return {
        vol: lambda: as_dict(ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0].get("Tags")),
        snap: lambda: as_dict(ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]
                              .get("Tags")),
        db_arn("us-east-1", "db1"): lambda: as_dict(rds.list_tags_for_resource(
            ResourceName=db_arn("us-east-1", "db1"))["TagList"]),
        db_arn("eu-west-1", "eudb"): lambda: as_dict(rds_eu.list_tags_for_resource(
            ResourceName=db_arn("eu-west-1", "eudb"))["TagList"]),
        wh1: redshift_tags,
        table: lambda: as_dict(ddb.list_tags_of_resource(ResourceArn=table)["Tags"]),
        fsx_arn: lambda: as_dict(fsx.list_tags_for_resource(ResourceARN=fsx_arn)["Tags"]),
        efs_arn: lambda: as_dict(efs.describe_file_systems(
            FileSystemId="fs-0aaa1")["FileSystems"][0]["Tags"]),
    }, backup, efs_arn


def main():
    cli = sys.argv[1]
    with MotoServer() as moto:
        sim = BackupSim(moto)
        try:
            run_all(cli, moto, sim)
        finally:
            sim.stop()
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


def run_all(cli, moto, sim):
    targets, backup, efs_arn = make_targets(moto, sim)
    sim.call("/_sim/config", {"job_seconds": 0.1})
    env = moto.env()
    env["AWS_ENDPOINT_URL_BACKUP"] = sim.url
    env["AWS_ENDPOINT_URL_EFS"] = sim.url
    cfg = json.dumps({"region": "us-east-1", "regions": ["us-east-1"], "poll_ms": 50,
                      "wait_timeout_s": 30, "backup_role_arn": ROLE})
    outputs = []

    def cp(*args):
        p = subprocess.run([cli, "--provider", "aws", "--provider-config", cfg] + list(args),
                           env=env, capture_output=True, text=True, timeout=60)
        outputs.append(p.stdout + p.stderr)
        return p

    def untag(target, *keys):
        return cp("untag", target, *keys)

    def refused(target, *keys):
        """Untag with --json; (refused as CP_EINVALID, the message) when it failed so."""
        p = cp("--json", "untag", target, *keys)
        err = [o.get("error", {}) for o in lines(p.stdout)]
        code = err[0].get("code") if err else None
        return p.returncode != 0 and code == "invalid input", p.stderr

    # A recovery point of the EFS file system, tagged through AWS Backup.
    p = cp("--json", "snapshot", "create", efs_arn, "--tag", "keep=yes")
    made = lines(p.stdout)
    point = made[0]["id"] if p.returncode == 0 and made else None
    check(point is not None, "a recovery point to untag: %s" % p.stderr.strip()[-200:])
    if point:
        targets[point] = lambda: backup.list_tags(ResourceArn=point)["Tags"]

    for target, read in targets.items():
        name = target.split(":", 5)[-1]
        before = read()
        p = cp("tag", target, "team=ops", ODD_KEY + "=42")
        tagged = read()
        check(p.returncode == 0 and tagged == dict(before, team="ops", **{ODD_KEY: "42"}),
              "%s tagged with two keys: %s %s" % (name, tagged, p.stderr.strip()[-200:]))
        p = untag(target, ODD_KEY)
        got = read()
        check(p.returncode == 0 and got == dict(before, team="ops"),
              "%s: one key removed, the other and the earlier ones stay: %s %s"
              % (name, got, p.stderr.strip()[-200:]))
        p = untag(target, "never-set")
        check(p.returncode == 0 and read() == got,
              "%s: removing a key it lacks succeeds and changes nothing: %s"
              % (name, p.stderr.strip()[-200:]))

    # Several keys in one call.
    vol = next(t for t in targets if t.startswith("vol-"))
    cp("tag", vol, "a=1", "b=2")
    p = untag(vol, "a", "b", "team")
    check(p.returncode == 0 and targets[vol]() == {"keep": "yes"},
          "several keys removed at once: %s" % targets[vol]())

    # Refused before any request: reserved prefix, a key twice.
    calls = len(sim.call("/_sim/state")["calls"])
    ok, err = refused(efs_arn, "aws:cloudformation:stack-name")
    check(ok and "reserves" in err and efs_arn in err,
          "an aws: key is refused (CP_EINVALID), naming the resource: %s" % err.strip()[-250:])
    ok, err = refused(efs_arn, "team", "team")
    check(ok and "given twice" in err and efs_arn in err,
          "a key given twice is refused (CP_EINVALID): %s" % err.strip()[-250:])
    ok, err = refused(vol, "aws:x")
    check(ok and "reserves" in err and vol in err, "an aws: key is refused for EC2 too")
    ok, err = refused(vol, "AWS:Name")
    check(ok and "reserves" in err, "the reserved prefix in capitals too: %s" % err.strip()[-200:])
    check(len(sim.call("/_sim/state")["calls"]) == calls, "refused keys reach no API")
    check(targets[efs_arn]().get("team") == "ops", "and nothing was removed")

    # Unknown ids and missing resources are named.
    p = untag("arn:aws:sqs:us-east-1:%s:queue1" % ACCOUNT, "k")
    check(p.returncode != 0 and "not a resource or snapshot this provider knows" in p.stderr,
          "an id no service owns is refused by name")
    p = untag("arn:aws:backup:us-east-1:%s:backup-vault:cloudprotect" % ACCOUNT, "k")
    check(p.returncode != 0 and "neither a DynamoDB table" in p.stderr,
          "a vault ARN cannot be untagged: %s" % p.stderr.strip()[-200:])
    p = untag("arn:aws:elasticfilesystem:us-east-1:%s:file-system/fs-0gone" % ACCOUNT, "k")
    check(p.returncode != 0 and "fs-0gone" in p.stderr and "EFS UntagResource" in p.stderr,
          "untagging a missing file system names it: %s" % p.stderr.strip()[-200:])

    leaked = [o for o in outputs if moto.secret in o]
    check(not leaked, "no secret in any output")
    sanitizer = [o for o in outputs if "Sanitizer" in o or "runtime error:" in o]
    check(not sanitizer, "no sanitizer report in any output: %s" % sanitizer[:1])


if __name__ == "__main__":
    main()
