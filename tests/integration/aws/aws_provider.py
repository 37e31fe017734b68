#!/usr/bin/env python3
"""The aws provider end to end through the CLI, against tests/cloudsim/aws/ebs_direct.py.

Usage: aws_provider.py CLOUDPROTECT_BINARY
Shows: inventory pagination and filters; CreateSnapshots shares a group id;
a snapshot pending (and then unreadable) for a while is waited for; a full
backup reads exactly the listed blocks; an incremental reads only the
ListChangedBlocks ranges and restores bit-exact; the restore's
CompleteSnapshot count is right; throttling is retried with less
concurrency; access denied and missing resources are clear; no secret
reaches any output.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "cloudsim", "aws"))
from sim_process import SimProcess  # noqa: E402

KEY, SECRET = "AKIASIMFULL0001", "sim-secret-full-SHOULDNOTLEAK"
LKEY, LSECRET = "AKIASIMLIMITED01", "sim-secret-limited-SHOULDNOTLEAK"
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def Sim():
    return SimProcess("ebs_direct.py", "--key", KEY + ":" + SECRET, "--limited-key",
                      LKEY + ":" + LSECRET)


def main():
    cli = sys.argv[1]
    sim = Sim()
    work = tempfile.mkdtemp(prefix="cpaws-")
    try:
        run_all(cli, sim, work)
    finally:
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


def run_all(cli, sim, work):
    # Seven instances in us-east-1 (pages of 5), one in eu-west-1. i-0web has
    # two volumes with data in a few blocks of 1 GiB (2048 blocks).
    inst = [{"id": "i-0web", "region": "us-east-1", "tags": {"Name": "web", "env": "prod"},
             "volumes": [{"id": "vol-0root", "size_gib": 1, "tags": {"Name": "root"},
                          "blocks": {"0": 1, "1": 2, "5": 3, "700": 4, "2047": 5}},
                         {"id": "vol-0data", "size_gib": 1, "tags": {"Name": "data"},
                          "blocks": {"3": 6, "4": 7}}]}]
    for n in range(6):
        inst.append({"id": "i-0app%d" % n, "region": "us-east-1",
                     "tags": {"env": "dev" if n % 2 else "prod"},
                     "volumes": [{"id": "vol-0app%d" % n, "size_gib": 2}]})
    inst.append({"id": "i-0eu", "region": "eu-west-1", "tags": {"env": "prod"},
                 "volumes": [{"id": "vol-0eu", "size_gib": 3}]})
    sim.call("/_sim/seed", {"instances": inst,
                            "volumes": [{"id": "vol-0loose", "region": "us-east-1",
                                         "size_gib": 4, "tags": {"env": "prod"}},
                                        {"id": "vol-0busy", "region": "us-east-1",
                                         "size_gib": 1, "tags": {"env": "test"},
                                         "blocks": {str(i * 7): i for i in range(48)}}]})
    base_cfg = {"regions": ["us-east-1", "eu-west-1"], "region": "us-east-1",
                "page_size": 5, "ebs_page_size": 100, "poll_ms": 50, "wait_timeout_s": 30}
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_ENDPOINT_URL": sim.url, "AWS_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.path.join(work, "none"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "none"),
                "AWS_EC2_METADATA_DISABLED": "true",
                "CLOUDPROTECT_REPOSITORY": "file://" + os.path.join(work, "repo"),
                "CLOUDPROTECT_PASSWORD": "correct horse battery"})
    outputs = []

    def cp(*args, cfg=None, expect=0, extra_env=None):
        e = dict(env)
        e.update(extra_env or {})
        c = dict(base_cfg)
        c.update(cfg or {})
        p = subprocess.run([cli, "-vv", "--provider", "aws", "--provider-config", json.dumps(c)]
                           + list(args), env=e, capture_output=True, text=True, timeout=120)
        outputs.append(p.stdout + p.stderr)
        if (p.returncode == 0) != (expect == 0):
            print("command %s exited %d:\n%s%s" % (args, p.returncode, p.stdout, p.stderr))
        return p

    # ---- inventory ----
    sim.call("/_sim/reset", {})
    p = cp("--json", "inventory", "--kind", "vm")
    check(p.returncode == 0, "inventory runs")
    ids = [r["id"] for r in parse_lines(p.stdout)]
    check(sorted(ids) == sorted(["i-0web", "i-0eu"] + ["i-0app%d" % n for n in range(6)]),
          "inventory lists every instance of both regions across pages: %s" % ids)
    web = [r for r in parse_lines(p.stdout) if r["id"] == "i-0web"]
    check(web and web[0].get("size") == 2 * 1024 ** 3, "instance size sums its volumes")
    check(web and web[0].get("account") == "123456789012", "instance account from the reservation")
    # The simulator speaks EC2 only: keep unscoped walks off RDS, Redshift and the rest.
    p = cp("--json", "inventory", "--kind", "vm", "--tag", "env=dev")
    got = sorted(r["id"] for r in parse_lines(p.stdout))
    check(got == ["i-0app1", "i-0app3", "i-0app5"], "tag filter: %s" % got)
    # Unscoped, the services this EC2-only endpoint lacks are left out with a warning.
    p = cp("--json", "inventory", "--region", "eu-west-1")
    got = sorted(r["id"] for r in parse_lines(p.stdout))
    check(got == ["i-0eu", "vol-0eu"], "region filter: %s" % got)
    check("leaves out RDS" in p.stderr, "unscoped inventory warns about RDS: %s" % p.stderr[-400:])
    p = cp("--json", "inventory", "--kind", "db", "--region", "eu-west-1", expect=1)
    check(p.returncode != 0, "asked for databases, an endpoint without RDS is an error")
    p = cp("--json", "inventory", "--id", "vol-0data", "--id", "i-0app2")
    got = sorted(r["id"] for r in parse_lines(p.stdout))
    check(got == ["i-0app2", "vol-0data"], "id filter: %s" % got)
    sim.call("/_sim/faults", [{"path": "/", "method": "POST", "count": 2, "status": 503,
                               "code": "RequestLimitExceeded"},
                              {"path": "/", "method": "POST", "count": 1, "status": 500,
                               "code": "InternalError"}])
    p = cp("--json", "inventory", "--kind", "vm", "--region", "eu-west-1")
    check(p.returncode == 0 and [r["id"] for r in parse_lines(p.stdout)] == ["i-0eu"],
          "EC2 throttling (RequestLimitExceeded) and a 500 are retried")
    disks = [r for r in parse_lines(cp("--json", "inventory", "--kind", "disk").stdout)]
    check(any(d["id"] == "vol-0data" and d.get("parent_id", d.get("instance")) == "i-0web"
              for d in disks) or any(d["id"] == "vol-0data" for d in disks),
          "disks listed with their instance")

    # ---- snapshots: group, pending, readable ----
    sim.call("/_sim/config", {"pending_polls": 3, "unreadable_polls": 2})
    p = cp("--json", "snapshot", "create", "i-0web", "--tag", "purpose=test")
    check(p.returncode == 0, "snapshot of a two-volume instance")
    state = sim.call("/_sim/state")
    snaps = {k: s for k, s in state["snapshots"].items() if s["volume"] in ("vol-0root",
                                                                           "vol-0data")}
    groups = {s["tags"].get("cloudprotect:group") for s in snaps.values()}
    check(len(snaps) == 2 and len(groups) == 1 and None not in groups,
          "CreateSnapshots: two snapshots sharing group id %s" % groups)
    check(all(s["tags"].get("purpose") == "test" for s in snaps.values()), "tags applied")
    check(all(s["state"] == "completed" for s in snaps.values()), "wait returned completed")
    log = sim.call("/_sim/log")
    refused = [e for e in log if e["path"].endswith("/blocks") and e["method"] == "GET"]
    check(len(refused) >= 3, "wait polled ListSnapshotBlocks until readable (%d probes)"
          % len(refused))
    sim.call("/_sim/config", {"pending_polls": 0, "unreadable_polls": 0})
    root1 = [k for k, s in snaps.items() if s["volume"] == "vol-0root"][0]
    p = cp("untag", root1, "purpose", "never-set")
    tags = sim.call("/_sim/state")["snapshots"][root1]["tags"]
    check(p.returncode == 0 and "purpose" not in tags and "cloudprotect:group" in tags,
          "untag: DeleteTags removed purpose, kept our group tag: %s" % tags)

    # ---- full backup reads exactly the listed blocks ----
    r = cp("repo", "init")
    check(r.returncode == 0, "repository created")
    p = cp("--json", "backup", "--snapshot", root1)
    check(p.returncode == 0, "full backup of %s" % root1)
    state = sim.call("/_sim/state")
    got = sorted(state["calls"]["get_blocks"].get(root1, []))
    check(got == [0, 1, 5, 700, 2047], "full backup read only the listed blocks: %s" % got)

    # ---- incremental reads only the changed blocks ----
    sim.call("/_sim/write", {"volume": "vol-0root", "blocks": {"5": 50, "9": 90, "1": None}})
    p = cp("--json", "snapshot", "create", "vol-0root")
    check(p.returncode == 0, "snapshot of one volume")
    state = sim.call("/_sim/state")
    root2 = [k for k, s in state["snapshots"].items() if s["volume"] == "vol-0root"
             and k != root1][0]
    sim.call("/_sim/config", {"max_block_inflight": 1})
    p = cp("--json", "backup", "--snapshot", root2)
    check(p.returncode == 0, "incremental backup of %s" % root2)
    state = sim.call("/_sim/state")
    got = sorted(set(state["calls"]["get_blocks"].get(root2, [])))
    check(got == [5, 9], "incremental read only the changed blocks: %s" % got)
    sim.call("/_sim/config", {"max_block_inflight": 0})

    # ---- restore bit-exact, ChangedBlocksCount right ----
    want = sim.call("/_sim/digest?volume=vol-0root")["digest"]
    p = cp("--json", "restore", "latest", "--to-disk", "restored", "--attach", "i-0app0",
           "--source", "vol-0root")
    check(p.returncode == 0, "restore to a new volume")
    state = sim.call("/_sim/state")
    new = [k for k, v in state["volumes"].items() if v.get("snapshot")]
    check(len(new) == 1, "one volume made from the restored snapshot")
    if new:
        got = sim.call("/_sim/digest?volume=" + new[0])["digest"]
        check(got == want, "restored volume is bit-exact")
        check(state["volumes"][new[0]]["instance"] == "i-0app0", "attached to i-0app0")
        rs = state["snapshots"][state["volumes"][new[0]]["snapshot"]]
        check(rs["changed_count"] == len(rs["blocks"]) == 5,
              "CompleteSnapshot ChangedBlocksCount %s = blocks put %d (zeros skipped)"
              % (rs["changed_count"], len(rs["blocks"])))

    # ---- encrypted target: every block written, zeros included (coldsnap #395) ----
    p = cp("--json", "restore", "latest", "--to-disk", "restored-enc", "--source", "vol-0root",
           cfg={"encrypted": True})
    check(p.returncode == 0, "restore into an encrypted snapshot")
    state = sim.call("/_sim/state")
    enc = [v for v in state["volumes"].values()
           if v.get("snapshot") and state["snapshots"][v["snapshot"]]["encrypted"]]
    check(len(enc) == 1, "one volume from an encrypted snapshot")
    if enc:
        rs = state["snapshots"][enc[0]["snapshot"]]
        check(rs["changed_count"] == len(rs["blocks"]) == 2048,
              "encrypted: all 2048 blocks put, zeros too (count %s)" % rs["changed_count"])
        vid = [k for k, v in state["volumes"].items() if v is enc[0] or v == enc[0]][0]
        check(sim.call("/_sim/digest?volume=" + vid)["digest"] == want,
              "encrypted restore is bit-exact (no random data in holes)")

    # ---- throttling adapts ----
    p = cp("--json", "snapshot", "create", "vol-0busy")
    busy = [k for k, s in sim.call("/_sim/state")["snapshots"].items()
            if s["volume"] == "vol-0busy"]
    sim.call("/_sim/config", {"max_block_inflight": 1})
    before = sim.call("/_sim/state")["calls"]["throttled"]
    p = cp("--json", "backup", "--snapshot", busy[0])
    state = sim.call("/_sim/state")
    state["calls"]["throttled"] -= before
    check(p.returncode == 0, "backup succeeds while EBS throttles")
    check(state["calls"]["throttled"] > 0, "EBS throttled %d request(s)"
          % state["calls"]["throttled"])
    check("block requests in flight now" in p.stderr and "met throttling" in p.stderr,
          "concurrency lowered on throttling (logged)")
    got = sorted(set(state["calls"]["get_blocks"].get(busy[0], [])))
    check(got == [i * 7 for i in range(48)], "throttled backup still read every listed block")
    sim.call("/_sim/config", {"max_block_inflight": 0})

    # ---- a block whose bytes do not match x-amz-Checksum is fetched again ----
    sim.call("/_sim/config", {"corrupt_once": True})
    before = len(sim.call("/_sim/state")["calls"]["get_blocks"][root1])
    p = cp("--json", "backup", "--snapshot", root1, "--full")
    cfg_now = sim.call("/_sim/config", {})
    reads = sim.call("/_sim/state")["calls"]["get_blocks"][root1][before:]
    # Exactly one block was read twice: the one whose bytes did not match x-amz-Checksum.
    check(p.returncode == 0 and cfg_now["corrupt_once"] is False and reads
          and len(reads) - len(set(reads)) == 1,
          "(reads %s) " % reads +
          "a corrupted GetSnapshotBlock answer was detected and re-read")

    # ---- errors ----
    p = cp("snapshot", "delete", "snap-0000000000000dead", expect=1)
    check(p.returncode != 0 and "not found" in p.stderr.lower()
          and "snap-0000000000000dead" in p.stderr, "missing snapshot: " + p.stderr.strip()[-300:])
    p = cp("backup", "--snapshot", "snap-0000000000000dead", expect=1)
    check(p.returncode != 0 and "not found" in p.stderr.lower(),
          "missing snapshot for backup: " + p.stderr.strip()[-200:])
    p = cp("snapshot", "create", "vol-0data", expect=1,
           extra_env={"AWS_ACCESS_KEY_ID": LKEY, "AWS_SECRET_ACCESS_KEY": LSECRET})
    check(p.returncode != 0 and "UnauthorizedOperation" in p.stderr and LKEY in p.stderr,
          "access denied is clear: " + p.stderr.strip()[-240:])
    p = cp("snapshot", "create", "vol-0data", expect=1,
           extra_env={"AWS_SECRET_ACCESS_KEY": "wrong-SHOULDNOTLEAK"})
    check(p.returncode != 0 and KEY in p.stderr, "bad signature names the key id")

    # ---- copy, list, delete ----
    p = cp("--json", "snapshot", "copy", root1, "--region", "eu-west-1")
    check(p.returncode == 0, "copy to eu-west-1")
    state = sim.call("/_sim/state")
    check(any(s["region"] == "eu-west-1" for s in state["snapshots"].values()), "copy exists")
    p = cp("--json", "snapshot", "list", "vol-0root")
    got = sorted(s["id"] for s in parse_lines(p.stdout))
    check(root1 in got and root2 in got, "snapshot list by volume: %s" % got)
    p = cp("snapshot", "delete", root2)
    check(p.returncode == 0 and root2 not in sim.call("/_sim/state")["snapshots"], "delete")

    text = "".join(outputs)
    check("SHOULDNOTLEAK" not in text and SECRET not in text and LSECRET not in text,
          "no secret in any output")


def parse_lines(text):
    text = text.strip()
    if not text:
        return []
    try:
        v = json.loads(text)
        return v if isinstance(v, list) else v.get("resources", v.get("snapshots", [v]))
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


if __name__ == "__main__":
    main()
