#!/usr/bin/env python3
"""EBS direct block requests stay in flight together (issue 8), against
tests/cloudsim/aws/ebs_direct.py with latency added to every block request.

Usage: test_ebs_in_flight.py CLOUDPROTECT_BINARY
Shows: with max_block_requests=16 and as many engine threads as CPUs, a backup keeps ~16
GetSnapshotBlock and a restore ~16 PutSnapshotBlock requests waiting at the
simulator at once (not 2, not 4), and the restored volume is bit-exact; a
PutSnapshotBlock that fails (queued, put by the writer's own threads) fails
the restore with its own error, and the half-written snapshot is deleted.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "cloudsim", "aws"))
from sim_process import SimProcess  # noqa: E402

KEY, SECRET = "AKIASIMINFLIGHT01", "sim-secret-inflight-SHOULDNOTLEAK"
FAILS = []
BLOCKS = 96


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def main():
    cli = sys.argv[1]
    sim = SimProcess("ebs_direct.py", "--key", KEY + ":" + SECRET, "--latency-ms", "60")
    work = tempfile.mkdtemp(prefix="cpebsif-")
    try:
        run(cli, sim, work)
    finally:
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


def run(cli, sim, work):
    sim.call("/_sim/seed", {"volumes": [{
        "id": "vol-0inflight", "region": "us-east-1", "size_gib": 1,
        "blocks": {str(i * 3): i + 1 for i in range(BLOCKS)}}]})
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_ENDPOINT_URL": sim.url, "AWS_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.path.join(work, "none"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "none"),
                "AWS_EC2_METADATA_DISABLED": "true",
                "CLOUDPROTECT_REPOSITORY": "file://" + os.path.join(work, "repo"),
                "CLOUDPROTECT_PASSWORD": "correct horse battery"})
    cfg = json.dumps({"region": "us-east-1", "poll_ms": 50, "wait_timeout_s": 30,
                      "max_block_requests": 16})
    outputs = []

    def cp(*args):
        p = subprocess.run([cli, "--provider", "aws", "--provider-config",
                            cfg] + list(args), env=env, capture_output=True, text=True,
                           timeout=120)
        outputs.append(p.stdout + p.stderr)
        return p

    p = cp("--json", "snapshot", "create", "vol-0inflight")
    check(p.returncode == 0, "snapshot created: " + p.stderr[-200:])
    snap = [k for k, s in sim.call("/_sim/state")["snapshots"].items()
            if s["volume"] == "vol-0inflight"][0]
    check(cp("repo", "init").returncode == 0, "repository created")

    sim.call("/_sim/reset", {})
    t0 = time.monotonic()
    p = cp("--json", "backup", "--snapshot", snap)
    secs = time.monotonic() - t0
    most = sim.call("/_sim/stats")["max_active"]
    check(p.returncode == 0, "backup of %s: %s" % (snap, p.stderr[-300:]))
    got = sorted(sim.call("/_sim/state")["calls"]["get_blocks"].get(snap, []))
    check(got == [i * 3 for i in range(BLOCKS)], "every listed block read once")
    # 2 threads reading one block at a time would show 2 here (and take 3 s).
    check(most >= 12, "backup: %d GetSnapshotBlock in flight at once (16 allowed), %.1f s"
          % (most, secs))

    want = sim.call("/_sim/digest?volume=vol-0inflight")["digest"]
    sim.call("/_sim/reset", {})
    p = cp("--json", "restore", "latest", "--to-disk", "inflight", "--source", "vol-0inflight")
    most = sim.call("/_sim/stats")["max_active"]
    check(p.returncode == 0, "restore to a new volume: " + p.stderr[-300:])
    check(most >= 12, "restore: %d PutSnapshotBlock in flight at once (16 allowed)" % most)
    state = sim.call("/_sim/state")
    made = [k for k, v in state["volumes"].items() if v.get("snapshot")]
    check(len(made) == 1, "one volume made")
    if made:
        check(sim.call("/_sim/digest?volume=" + made[0])["digest"] == want,
              "restored volume is bit-exact")
        rs = state["snapshots"][state["volumes"][made[0]]["snapshot"]]
        check(rs["changed_count"] == len(rs["blocks"]) == BLOCKS,
              "ChangedBlocksCount %s = blocks put %d" % (rs["changed_count"], len(rs["blocks"])))

    # A put that fails for good: the restore fails with it, nothing half-made remains.
    before = set(sim.call("/_sim/state")["snapshots"])
    sim.call("/_sim/faults", {"path": "/snapshots/", "method": "PUT", "count": 1,
                               "status": 400, "style": "json", "code": "ValidationException",
                               "message": "injected bad block"})
    p = cp("restore", "latest", "--to-disk", "broken", "--source", "vol-0inflight")
    check(p.returncode != 0 and "PutSnapshotBlock" in p.stderr
          and "injected bad block" in p.stderr,
          "a failed PutSnapshotBlock fails the restore: " + p.stderr.strip()[-300:])
    state = sim.call("/_sim/state")
    check(set(state["snapshots"]) == before,
          "the abandoned snapshot was deleted: %s" % (set(state["snapshots"]) - before))
    check(len([v for v in state["volumes"].values() if v.get("snapshot")]) == 1,
          "no volume made from it")
    check("SHOULDNOTLEAK" not in "".join(outputs), "no secret in any output")


if __name__ == "__main__":
    main()
