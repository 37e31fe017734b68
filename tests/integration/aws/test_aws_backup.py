#!/usr/bin/env python3
"""DynamoDB, EFS and FSx through AWS Backup, end to end through the CLI.

Usage: test_aws_backup.py CLOUDPROTECT_BINARY BACKUP_CLIENT_BINARY
DynamoDB and FSx live in moto (tests/cloudsim/aws/moto_server.py, every
signature checked); AWS Backup jobs and EFS in tests/cloudsim/aws/backup.py
(signatures checked by botocore). Shows: inventory of tables and file
systems across pages and regions, with id/tag/region/kind filters; a
missing backup_role_arn is a config error naming the field and starts no
job; a backup job is waited for with rising progress; recovery points are
listed (all, and per resource across pages) with their kind; one is looked
up by id; a copy to another region lands in our vault there; restores make
a new table and new file systems with the metadata AWS Backup needs;
`cloudprotect tag` reaches DynamoDB, EFS and FSx (TagResource of each) and
recovery points (AWS Backup TagResource), adding or overwriting, seen by
boto3; ids nothing owns and bad keys are refused before any call; a
failed job is a clear error with AWS's reason; throttling and a 500 are
retried; a wrong secret is refused by both servers; no secret reaches any
output.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CLOUDSIM = os.path.join(HERE, "..", "..", "cloudsim", "aws")
sys.path.insert(0, CLOUDSIM)

from moto_server import MotoServer  # noqa: E402
from sim_process import SimProcess  # noqa: E402

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
SUBNET = "subnet-0123456789abcdef0"
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


class BackupSim(SimProcess):
    def __init__(self, moto):
        keyspec = moto.key_id + ":" + moto.secret
        super().__init__("backup.py", "--key", keyspec, "--moto", moto.url, "--moto-key",
                         keyspec)

    def calls(self, op, region=None):
        return [c for c in self.state()["calls"]
                if c[0] == op and (region is None or c[1] == region)]


def sim_client(moto, sim, service):
    """A boto3 client of the simulator (EFS, AWS Backup) with the key moto verifies."""
    import boto3
    return boto3.client(service, endpoint_url=sim.url, region_name="us-east-1",
                        aws_access_key_id=moto.key_id, aws_secret_access_key=moto.secret)


def lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            out.extend(json.loads(line))
        elif line.startswith("{"):
            out.append(json.loads(line))
    return out


def make_resources(m):
    tables = {}
    for region, n in (("us-east-1", 7), ("eu-west-1", 1)):
        ddb = m.client("dynamodb", region)
        for i in range(n):
            name = "orders%d" % i if region == "us-east-1" else "eu-orders"
            t = ddb.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                Tags=[{"Key": "env", "Value": "dev" if i % 2 else "prod"}])
            tables[name] = t["TableDescription"]["TableArn"]
    fsx = m.client("fsx")
    fsx_arns = []
    for i in range(6):
        fs = fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200,
                                    SubnetIds=[SUBNET],
                                    Tags=[{"Key": "Name", "Value": "scratch%d" % i}])
        fsx_arns.append(fs["FileSystem"]["ResourceARN"])
    return tables, fsx_arns


def main():
    cli, client = sys.argv[1], sys.argv[2]
    with MotoServer() as moto:
        sim = BackupSim(moto)
        try:
            run_all(cli, client, moto, sim)
        finally:
            sim.stop()
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


def run_all(cli, client, moto, sim):
    tables, fsx_arns = make_resources(moto)
    efs = [{"id": "fs-0aaa%d" % i, "region": "us-east-1", "name": "home%d" % i,
            "size": 1000 * (i + 1), "tags": {"team": "a" if i < 3 else "b"}} for i in range(6)]
    efs.append({"id": "fs-0eu", "region": "eu-west-1", "name": "eu-home", "size": 7})
    sim.call("/_sim/efs", efs)
    efs_arn = "arn:aws:elasticfilesystem:us-east-1:%s:file-system/fs-0aaa2" % ACCOUNT
    sim.call("/_sim/config", {"job_seconds": 0.4})

    env = moto.env()
    env["AWS_ENDPOINT_URL_BACKUP"] = sim.url
    env["AWS_ENDPOINT_URL_EFS"] = sim.url
    base_cfg = {"regions": ["us-east-1", "eu-west-1"], "region": "us-east-1",
                "page_size": 5, "poll_ms": 50, "wait_timeout_s": 30, "backup_role_arn": ROLE}
    outputs = []

    def cfg_of(cfg, drop=()):
        c = dict(base_cfg)
        c.update(cfg or {})
        for k in drop:
            c.pop(k, None)
        return json.dumps(c)

    def cp(*args, cfg=None, drop=(), extra_env=None):
        e = dict(env)
        e.update(extra_env or {})
        p = subprocess.run([cli, "-v", "--provider", "aws", "--provider-config",
                            cfg_of(cfg, drop)] + list(args),
                           env=e, capture_output=True, text=True, timeout=120)
        outputs.append(p.stdout + p.stderr)
        return p

    def bc(*args, cfg=None):
        p = subprocess.run([client, cfg_of(cfg)] + list(args), env=env, capture_output=True,
                           text=True, timeout=120)
        outputs.append(p.stdout + p.stderr)
        return p

    # ---- inventory ----
    p = cp("--json", "inventory", "--kind", "nosql")
    got = sorted(r["id"] for r in lines(p.stdout))
    check(p.returncode == 0 and got == sorted(tables.values()),
          "tables of both regions across ListTables pages: %d of %d" % (len(got), len(tables)))
    check(all(r["kind"] == "nosql" and r.get("account") == ACCOUNT for r in lines(p.stdout)),
          "tables are kind nosql with their account")
    p = cp("--json", "inventory", "--kind", "fileshare")
    got = lines(p.stdout)
    ids = sorted(r["id"] for r in got)
    want = sorted(fsx_arns + ["arn:aws:elasticfilesystem:%s:%s:file-system/%s"
                              % (f["region"], ACCOUNT, f["id"]) for f in efs])
    check(p.returncode == 0 and ids == want,
          "EFS and FSx file systems of both regions: %d of %d" % (len(ids), len(want)))
    check(len(sim.calls("DescribeFileSystems", "us-east-1")) >= 2,
          "EFS DescribeFileSystems paged with Marker")
    home0 = [r for r in got if r["id"].endswith("/fs-0aaa0")]
    check(home0 and home0[0]["name"] == "home0" and home0[0]["size"] == 1000,
          "EFS name and size (SizeInBytes.Value)")
    scratch = [r for r in got if r["id"] == fsx_arns[0]]
    check(scratch and scratch[0]["size"] == 1200 * 2 ** 30 and scratch[0]["name"] == "scratch0",
          "FSx size from StorageCapacity GiB, name from its Name tag")
    p = cp("--json", "inventory", "--kind", "nosql", "--tag", "env=dev")
    got = sorted(r["name"] for r in lines(p.stdout))
    check(got == ["orders1", "orders3", "orders5"], "tag filter on tables: %s" % got)
    p = cp("--json", "inventory", "--region", "eu-west-1", "--kind", "nosql")
    check([r["id"] for r in lines(p.stdout)] == [tables["eu-orders"]], "region filter")
    p = cp("--json", "inventory", "--id", efs_arn, "--id", fsx_arns[1])
    got = sorted(r["id"] for r in lines(p.stdout))
    check(got == sorted([efs_arn, fsx_arns[1]]), "id filter across EFS and FSx: %s" % got)

    # ---- config: the role is required for jobs ----
    p = cp("snapshot", "create", tables["orders0"], drop=("backup_role_arn",))
    check(p.returncode != 0 and "backup_role_arn" in p.stderr and "backup_vault" in p.stderr,
          "missing backup_role_arn is a config error naming both fields: %s"
          % p.stderr.strip()[-200:])
    check(not sim.calls("StartBackupJob"), "no job was started without a role")

    # ---- backup job waited for, with progress ----
    p = bc("create", tables["orders0"])
    out = lines(p.stdout)
    prog = [o["done"] for o in out if "progress" in o]
    snap = [o for o in out if "snapshot" in o]
    check(p.returncode == 0 and len(snap) == 1, "backup job of a table: %s" % p.stderr[-300:])
    check(len(prog) >= 3 and prog == sorted(prog) and prog[-1] == 100 and
          any(0 < d < 100 for d in prog), "progress rises to 100 from PercentDone: %s" % prog)
    rp_table = snap[0]["snapshot"] if snap else ""
    check(snap and snap[0]["kind"] == "nosql" and snap[0]["state"] == "completed" and
          snap[0]["resource"] == tables["orders0"], "the recovery point is a completed nosql "
          "snapshot of the table")
    state = sim.call("/_sim/state")
    check([v["name"] for v in state["vaults"]] == ["cloudprotect"],
          "the vault was created on first use")
    job = [j for j in state["jobs"].values() if j["kind"] == "backup"]
    check(job and job[0]["body"]["IamRoleArn"] == ROLE and
          job[0]["body"].get("IdempotencyToken"), "StartBackupJob carries the role and a token")

    p = cp("--json", "snapshot", "create", efs_arn, "--tag", "purpose=test")
    got = lines(p.stdout)
    check(p.returncode == 0 and got and got[0]["state"] == "completed",
          "backup of an EFS file system through the CLI")
    rp_efs = got[0]["id"] if got else ""
    check(sim.call("/_sim/state")["points"].get(rp_efs, {}).get("tags") == {"purpose": "test"},
          "tags become RecoveryPointTags")
    p = cp("--json", "snapshot", "create", fsx_arns[0])
    got = lines(p.stdout)
    check(p.returncode == 0 and got, "backup of an FSx file system")
    rp_fsx = got[0]["id"] if got else ""
    # Five more of one table, so listing it takes two pages of 5.
    for _ in range(5):
        cp("snapshot", "create", tables["orders0"])

    # ---- recovery points listed, with their kind ----
    p = cp("--json", "snapshot", "list")
    pts = {s["id"]: s for s in lines(p.stdout) if s["id"].startswith("arn:")}
    check(p.returncode == 0 and {rp_table, rp_efs, rp_fsx} <= set(pts) and len(pts) == 8,
          "snapshot list shows every recovery point in our vault (%d)" % len(pts))
    check(pts.get(rp_efs, {}).get("kind") == "fileshare" and
          pts.get(rp_table, {}).get("kind") == "nosql",
          "listed recovery points carry their kind")
    check(pts.get(rp_efs, {}).get("size") == 3000, "size from BackupSizeInBytes")
    p = cp("--json", "snapshot", "list", tables["orders0"])
    got = [s for s in lines(p.stdout)]
    check(p.returncode == 0 and len(got) == 6 and all(s["resource"] == tables["orders0"]
                                                      for s in got),
          "per-resource listing across pages: %d" % len(got))
    check(len(sim.calls("ListRecoveryPointsByResource")) >= 2, "ListRecoveryPointsByResource "
          "followed NextToken")
    p = bc("get", rp_efs)
    got = lines(p.stdout)
    check(p.returncode == 0 and got and got[0]["resource"] == efs_arn and
          got[0]["kind"] == "fileshare", "one recovery point by id (DescribeRecoveryPoint)")

    # ---- copy to another region ----
    p = cp("--json", "snapshot", "copy", rp_table, "--region", "eu-west-1")
    got = lines(p.stdout)
    check(p.returncode == 0 and got and got[0]["region"] == "eu-west-1" and
          got[0]["id"] != rp_table and got[0]["state"] == "completed",
          "copy to eu-west-1: %s" % (p.stdout + p.stderr)[-300:])
    copied = got[0]["id"] if got else ""
    state = sim.call("/_sim/state")
    check(state["points"].get(copied, {}).get("region") == "eu-west-1" and
          state["points"].get(copied, {}).get("vault") == "cloudprotect",
          "the copy is in our vault of eu-west-1")
    p = cp("--json", "snapshot", "list")
    check(copied in [s["id"] for s in lines(p.stdout)], "the copy is listed too")

    # ---- restores to new resources ----
    p = cp("--json", "snapshot", "restore", rp_table, "--name", "orders0-restored")
    got = [dict(o, resource=o["id"]) for o in lines(p.stdout)]
    check(p.returncode == 0 and got and got[0]["resource"].endswith(":table/orders0-restored")
          and got[0]["kind"] == "nosql",
          "restore to a new table: %s" % (p.stdout + p.stderr)[-300:])
    p = cp("--json", "inventory", "--kind", "nosql")
    check(any(r["name"] == "orders0-restored" for r in lines(p.stdout)),
          "the restored table is in the inventory")
    p = bc("restore", rp_efs, "home2-copy")
    got = [o for o in lines(p.stdout) if "resource" in o]
    state = sim.call("/_sim/state")
    md = [j["body"]["Metadata"] for j in state["jobs"].values() if j["kind"] == "restore"
          and j["body"]["RecoveryPointArn"] == rp_efs]
    check(p.returncode == 0 and got and ":elasticfilesystem:" in got[0]["resource"],
          "restore to a new EFS file system: %s" % p.stderr[-300:])
    check(md and md[0].get("newFileSystem") == "true" and md[0].get("CreationToken") ==
          "home2-copy" and md[0].get("file-system-id") == "fs-0aaa2" and
          md[0].get("PerformanceMode") == "generalPurpose" and md[0].get("Encrypted") in
          ("true", "false"), "EFS restore metadata: %s" % (md[:1],))
    p = cp("--json", "inventory", "--kind", "fileshare")
    check(any(r["id"] == (got[0]["resource"] if got else None) for r in lines(p.stdout)),
          "the restored file system is in the inventory")
    p = cp("--json", "snapshot", "restore", rp_fsx, "--name", "scratch-copy", "--subnet",
           SUBNET)
    got = [dict(o, resource=o["id"]) for o in lines(p.stdout)]
    check(p.returncode == 0 and got and ":fsx:" in got[0]["resource"] and
          got[0]["resource"] not in fsx_arns, "restore to a new FSx file system: %s"
          % p.stderr[-300:])
    state = sim.call("/_sim/state")
    md = [j["body"]["Metadata"] for j in state["jobs"].values() if j["kind"] == "restore"
          and j["body"]["RecoveryPointArn"] == rp_fsx]
    check(md and md[0].get("FileSystemType") == "LUSTRE" and
          json.loads(md[0].get("SubnetIds", "[]")) == [SUBNET],
          "FSx restore passes GetRecoveryPointRestoreMetadata on, subnet set")

    # ---- tags: resources through their own services, recovery points through AWS Backup ----
    home2 = "arn:aws:elasticfilesystem:us-east-1:%s:file-system/fs-0aaa2" % ACCOUNT
    for target in (tables["orders3"], home2, fsx_arns[2], rp_efs, rp_table):
        p = cp("--json", "tag", target, "owner=ops", "env=staging")
        got = lines(p.stdout)
        check(p.returncode == 0 and got and got[0]["id"] == target
              and got[0]["tags"] == {"owner": "ops", "env": "staging"},
              "tag %s: %s" % (target, p.stderr.strip()[-200:]))
    ddb = {t["Key"]: t["Value"] for t in moto.client("dynamodb").list_tags_of_resource(
        ResourceArn=tables["orders3"])["Tags"]}
    check(ddb == {"owner": "ops", "env": "staging"},
          "DynamoDB TagResource: env overwritten, owner added (moto agrees): %s" % ddb)
    fsx = {t["Key"]: t["Value"] for t in moto.client("fsx").list_tags_for_resource(
        ResourceARN=fsx_arns[2])["Tags"]}
    check(fsx == {"Name": "scratch2", "owner": "ops", "env": "staging"},
          "FSx TagResource keeps the Name tag (moto agrees): %s" % fsx)
    efs_client = sim_client(moto, sim, "efs")
    fs = efs_client.describe_file_systems(FileSystemId="fs-0aaa2")["FileSystems"][0]
    got = {t["Key"]: t["Value"] for t in fs["Tags"]}
    check(got == {"team": "a", "Name": "home2", "owner": "ops", "env": "staging"},
          "EFS TagResource adds to the file system's tags (boto3 sees them): %s" % got)
    bk = sim_client(moto, sim, "backup")
    got = bk.list_tags(ResourceArn=rp_efs)["Tags"]
    check(got == {"purpose": "test", "owner": "ops", "env": "staging"},
          "AWS Backup TagResource on a recovery point keeps its RecoveryPointTags: %s" % got)
    state = sim.call("/_sim/state")["points"]
    check(state.get(rp_table, {}).get("tags") == {"owner": "ops", "env": "staging"}
          and state.get(copied, {}).get("tags") == {},
          "a DynamoDB recovery point is tagged through AWS Backup; its copy is not")
    p = cp("tag", copied, "where=eu")
    check(p.returncode == 0 and bk.list_tags(ResourceArn=rp_table)["Tags"].get("where") is None
          and sim.call("/_sim/state")["points"].get(copied, {}).get("tags") == {"where": "eu"},
          "the copy is tagged in its own region (eu-west-1), the source is not")
    calls = len(sim.call("/_sim/state")["calls"])
    p = cp("tag", "arn:aws:backup:us-east-1:%s:backup-vault:cloudprotect" % ACCOUNT, "k=v")
    check(p.returncode != 0 and "neither a DynamoDB table" in p.stderr,
          "a vault ARN is not a taggable resource: %s" % p.stderr.strip()[-200:])
    p = cp("tag", "arn:aws:sqs:us-east-1:%s:queue1" % ACCOUNT, "k=v")
    check(p.returncode != 0 and "not a resource or snapshot this provider knows" in p.stderr,
          "an id no service owns is refused by name")
    p = cp("tag", rp_efs, "k=1", "k=2")
    check(p.returncode != 0 and "given twice" in p.stderr, "a key given twice is refused")
    check(len(sim.call("/_sim/state")["calls"]) == calls, "refused tags reach no API")
    p = cp("tag", "arn:aws:elasticfilesystem:us-east-1:%s:file-system/fs-0gone" % ACCOUNT,
           "k=v")
    check(p.returncode != 0 and "fs-0gone" in p.stderr and "EFS TagResource" in p.stderr,
          "tagging a missing file system names it: %s" % p.stderr.strip()[-200:])

    # ---- failed jobs, throttling, 5xx ----
    sim.call("/_sim/config", {"fail": {"backup": 1}, "fail_message": "IAM role cannot "
                              "access the table"})
    p = cp("snapshot", "create", tables["orders1"])
    check(p.returncode != 0 and "FAILED" in p.stderr and "IAM role cannot access the table"
          in p.stderr, "a failed job is a clear error with AWS's reason: %s"
          % p.stderr.strip()[-250:])
    sim.call("/_sim/config", {"fail": {"restore": 1}})
    p = bc("restore", rp_table, "never-made")
    check(p.returncode != 0 and "FAILED" in p.stderr, "a failed restore job is an error")
    sim.call("/_sim/config", {"throttle": 3})
    p = cp("--json", "snapshot", "list", efs_arn)
    check(p.returncode == 0 and [s["id"] for s in lines(p.stdout)] == [rp_efs],
          "ThrottlingException is retried")
    sim.call("/_sim/faults", {"path": "/backup-jobs", "method": "PUT", "count": 1,
                              "status": 500, "style": "json", "code": "ServiceUnavailable"})
    p = cp("--json", "snapshot", "create", tables["orders2"])
    check(p.returncode == 0 and len(sim.calls("StartBackupJob")) >= 7,
          "a 500 on StartBackupJob is retried (same IdempotencyToken)")
    tokens = [j["body"]["IdempotencyToken"] for j in sim.call("/_sim/state")["jobs"].values()
              if j["kind"] == "backup"]
    check(len(tokens) == len(set(tokens)), "one job per token")

    # ---- delete, not found, signatures ----
    p = cp("snapshot", "delete", rp_fsx)
    check(p.returncode == 0 and rp_fsx not in sim.call("/_sim/state")["points"],
          "DeleteRecoveryPoint")
    p = bc("get", rp_fsx)
    check(p.returncode != 0 and "not in the backup vault 'cloudprotect'" in p.stderr,
          "a deleted recovery point is not found, naming the vault: %s" % p.stderr.strip())
    wrong = {"AWS_SECRET_ACCESS_KEY": "wrong-SHOULDNOTLEAK"}
    p = cp("snapshot", "list", tables["orders0"], extra_env=wrong)
    check(p.returncode != 0 and "AWS Backup ListRecoveryPointsByResource" in p.stderr and
          "refused access key id '%s'" % moto.key_id in p.stderr,
          "AWS Backup refuses a wrong signature: %s" % p.stderr.strip()[-200:])
    p = cp("inventory", "--kind", "fileshare", extra_env=wrong)
    check(p.returncode != 0 and "EFS DescribeFileSystems" in p.stderr,
          "EFS refuses a wrong signature")
    p = cp("inventory", "--kind", "nosql", extra_env=wrong)
    check(p.returncode != 0 and "DynamoDB ListTables" in p.stderr,
          "DynamoDB (moto) refuses a wrong signature")
    leaked = [o for o in outputs if moto.secret in o or "SHOULDNOTLEAK" in o]
    check(not leaked, "no secret in any output")
    sanitizer = [o for o in outputs if "Sanitizer" in o or "runtime error:" in o]
    check(not sanitizer, "no sanitizer report in any output: %s" % sanitizer[:1])


if __name__ == "__main__":
    main()
