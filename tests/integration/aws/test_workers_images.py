#!/usr/bin/env python3
"""Workers and restores of disk snapshots to images and instances, through the CLI.

Usage: test_workers_images.py CLOUDPROTECT_BINARY
Runs against tests/cloudsim/aws/ebs_direct.py (SigV4 checked by botocore).
Shows: `worker run` terminates the instance whether the job succeeds, fails
or times out; a RunInstances whose answer is lost (a 503 after the
simulator launched) is repeated with its client token and launches one
instance; list/reap/terminate find workers by their tags and reap only the
expired; `snapshot restore` registers an AMI with one device per snapshot
and, with --launch, boots a running instance from it; the image is arm64
when asked for or when the launch size class is Graviton (m7g.large), and a
size class that cannot run it is refused before RegisterImage; errors are
clear; no secret reaches any output.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import botocore.session

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "cloudsim", "aws"))
from sim_process import SimProcess  # noqa: E402

KEY, SECRET = "AKIASIMWORKER001", "sim-secret-worker-SHOULDNOTLEAK"
IMAGE = "ami-0sim0000000000001"
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)




def main():
    cli = sys.argv[1]
    sim = SimProcess("ebs_direct.py", "--key", KEY + ":" + SECRET)
    work = tempfile.mkdtemp(prefix="cpworkers-")
    try:
        run_all(cli, sim, work)
    finally:
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


def run_all(cli, sim, work):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_ENDPOINT_URL": sim.url, "AWS_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.path.join(work, "none"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "none"),
                "AWS_EC2_METADATA_DISABLED": "true"})
    cfg = json.dumps({"region": "us-east-1", "poll_ms": 20, "wait_timeout_s": 30})
    outputs = []

    def cp(*args):
        p = subprocess.run([cli, "-v", "--provider", "aws", "--provider-config", cfg] + list(args),
                           env=env, capture_output=True, text=True, timeout=120)
        outputs.append(p.stdout + p.stderr)
        return p

    def instance_of(p):
        try:
            return json.loads(p.stdout)["worker"]
        except (ValueError, KeyError):
            return None

    run_args = ["--json", "worker", "run", "--image", IMAGE, "--size-class", "t3.micro",
                "--poll-ms", "20"]
    sim.call("/_sim/config", {"instance_pending_polls": 1, "job_polls": 2})

    # ---- a job that succeeds: the instance carries everything, and is terminated ----
    script = "#!/bin/sh\nrestore-things --fast\nshutdown -h now # exit 0\n"
    ud = os.path.join(work, "job.sh")
    with open(ud, "w") as f:
        f.write(script)
    t0 = time.time()
    p = cp(*run_args, "--user-data", ud, "--job", "nightly", "--subnet", "subnet-0abc",
           "--identity", "arn:aws:iam::123456789012:instance-profile/cp-worker",
           "--tag", "team=storage")
    iid = instance_of(p)
    check(p.returncode == 0 and iid and iid.startswith("i-"),
          "worker run of a job that stops itself succeeds: %s %s" % (p.stdout, p.stderr[-300:]))
    st = sim.state()
    inst = st["instances"].get(iid or "", {})
    check(inst.get("state") == "terminated" and inst.get("terminated_by") == "TerminateInstances",
          "the finished worker was terminated by us: %s" % inst.get("state"))
    tags = inst.get("tags") or {}
    check(tags.get("cloudprotect:worker") == "nightly" and tags.get("team") == "storage",
          "worker tagged with its job and the caller's tags: %s" % tags)
    expires = int(tags.get("cloudprotect:expires", "0"))
    check(abs(expires - (t0 + 3600)) < 120, "expires is an hour out by default: %s" % expires)
    check(inst.get("user_data") == script, "user data arrives intact (base64 round trip)")
    check(inst.get("shutdown") == "stop" and inst.get("image") == IMAGE
          and inst.get("type") == "t3.micro" and inst.get("subnet") == "subnet-0abc"
          and inst.get("profile", "").endswith("instance-profile/cp-worker")
          and len(inst.get("token") or "") > 8,
          "RunInstances got image, type, subnet, profile ARN, stop-on-shutdown, a client "
          "token: %s" % {k: inst.get(k) for k in ("shutdown", "image", "type", "subnet",
                                                   "profile", "token")})

    # ---- a job that fails: run fails, instance terminated ----
    p = cp(*run_args, "--script", "do-backup || exit 1", "--job", "doomed",
           "--identity", "cp-worker-profile")
    ids = [k for k, v in sim.state()["instances"].items()
           if (v.get("tags") or {}).get("cloudprotect:worker") == "doomed"]
    check(p.returncode == 1 and "failed" in p.stderr and ids and ids[0] in p.stderr,
          "worker run of a failing job fails naming the worker: %s" % p.stderr[-300:])
    inst = sim.state()["instances"].get(ids[0] if ids else "", {})
    check(inst.get("state") == "terminated" and inst.get("profile") == "cp-worker-profile",
          "the failed worker was terminated too (profile by name): %s" % inst.get("state"))

    # ---- a job that never ends: timeout, terminated ----
    t0 = time.time()
    p = cp(*run_args, "--script", "sleep infinity", "--job", "stuck", "--timeout", "1")
    ids = [k for k, v in sim.state()["instances"].items()
           if (v.get("tags") or {}).get("cloudprotect:worker") == "stuck"]
    check(p.returncode == 1 and "did not end within 1 s" in p.stderr and time.time() - t0 < 20,
          "a job past its timeout fails: %s" % p.stderr[-300:])
    check(ids and sim.state()["instances"][ids[0]]["state"] == "terminated",
          "the timed-out worker was terminated")

    # ---- RunInstances answered 503 after launching: the retry launches nothing new ----
    before = len(sim.state()["calls"].get("launched", []))
    runs_before = sim.state()["calls"]["actions"].count("RunInstances")
    sim.call("/_sim/config", {"fail_after_accept": {"RunInstances": 1}})
    p = cp(*run_args, "--script", "exit 0", "--job", "retried")
    st = sim.state()
    launched = st["calls"].get("launched", [])[before:]
    check(p.returncode == 0, "worker run survives a lost RunInstances answer: %s"
          % p.stderr[-300:])
    check(st["calls"]["actions"].count("RunInstances") - runs_before == 2,
          "RunInstances was sent twice")
    check(len(launched) == 1 and instance_of(p) == launched[0],
          "exactly one instance launched for the two attempts: %s" % launched)
    check(launched and st["instances"][launched[0]]["state"] == "terminated",
          "and it was terminated")

    # ---- list, reap, terminate: workers found by tag, only expired ones reaped ----
    ec2 = botocore.session.get_session().create_client(
        "ec2", region_name="us-east-1", endpoint_url=sim.url, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET)
    now = int(time.time())

    def launch(job, expires):
        r = ec2.run_instances(ImageId=IMAGE, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                              TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                  {"Key": "cloudprotect:worker", "Value": job},
                                  {"Key": "cloudprotect:expires", "Value": str(expires)}]}])
        return r["Instances"][0]["InstanceId"]

    old = launch("forgotten", now - 60)
    young = launch("busy", now + 3600)
    other = ec2.run_instances(ImageId=IMAGE, InstanceType="t3.nano", MinCount=1,
                              MaxCount=1)["Instances"][0]["InstanceId"]
    p = cp("--json", "worker", "list")
    listed = {w["id"]: w for w in parse(p.stdout)}
    check(p.returncode == 0 and set(listed) == {old, young},
          "worker list shows our live workers only: %s" % sorted(listed))
    check(listed.get(young, {}).get("job") == "busy"
          and listed.get(young, {}).get("expires") == now + 3600
          and listed.get(young, {}).get("address", "").startswith("10."),
          "list reports job, expiry and address: %s" % listed.get(young))
    p = cp("--json", "worker", "reap")
    check(p.returncode == 0 and parse(p.stdout) == [{"reaped": 1}],
          "reap terminates one worker: %s" % p.stdout)
    st = sim.state()["instances"]
    check(st[old]["state"] == "terminated" and st[young]["state"] != "terminated"
          and st[other]["state"] != "terminated",
          "only the expired worker was reaped")
    p = cp("--json", "worker", "get", young)
    check(p.returncode == 0 and parse(p.stdout)[0].get("state") == "running",
          "worker get reports a running worker: %s" % p.stdout)
    p = cp("worker", "terminate", young, young, "i-00000000000000000")
    check(p.returncode == 0 and sim.state()["instances"][young]["state"] == "terminated",
          "terminate is idempotent and tolerates unknown ids: %s" % p.stderr[-300:])
    p = cp("--json", "worker", "get", young)
    check(p.returncode == 0 and parse(p.stdout)[0].get("state") == "terminated",
          "worker get says terminated afterwards")
    p = cp("worker", "get", "vol-123")
    check(p.returncode != 0 and "not an aws worker id" in p.stderr, "bad worker id is clear")

    # ---- snapshot restore: an AMI with two disks, then --launch ----
    sim.call("/_sim/seed", {"instances": [{
        "id": "i-0web", "region": "us-east-1", "tags": {"Name": "web"},
        "volumes": [{"id": "vol-0root", "size_gib": 8, "blocks": {"0": 1, "9": 2}},
                    {"id": "vol-0data", "size_gib": 20, "blocks": {"3": 3}}]}]})
    p = cp("--json", "snapshot", "create", "i-0web")
    snaps = {s["resource"]: s["id"] for s in parse(p.stdout)}
    check(p.returncode == 0 and set(snaps) == {"vol-0root", "vol-0data"},
          "instance snapshot made: %s %s" % (snaps, p.stderr[-300:]))
    root, data = snaps.get("vol-0root"), snaps.get("vol-0data")
    p = cp("--json", "snapshot", "restore", root, "--data-snapshot", data, "--name",
           "web-restored", "--tag", "restored-from=i-0web")
    made = parse(p.stdout)
    check(p.returncode == 0 and len(made) == 1 and made[0]["id"].startswith("ami-")
          and made[0]["kind"] == "vm" and made[0]["name"] == "web-restored"
          and made[0]["size"] == 28 * 1024 ** 3,
          "restore without --launch makes one image: %s %s" % (made, p.stderr[-300:]))
    img = sim.state()["images"].get(made[0]["id"] if made else "", {})
    check(img.get("mappings") == [["/dev/xvda", root, 8], ["/dev/xvdb", data, 20]]
          and img.get("root") == "/dev/xvda" and img.get("state") == "available",
          "the image maps root then data snapshot and is available: %s" % img)
    check(img.get("arch") == "x86_64" and img.get("virt") == "hvm" and img.get("ena")
          and img.get("tags") == {"restored-from": "i-0web"},
          "image is hvm/x86_64 with ENA and the tags: %s" % img)
    if made:
        ami = made[0]["id"]
        p = cp("tag", ami, "owner=ops", "tier=gold")
        q = cp("untag", ami, "restored-from")
        tags = {t["Key"]: t["Value"] for t in
                ec2.describe_images(ImageIds=[ami])["Images"][0].get("Tags", [])}
        check(p.returncode == 0 and q.returncode == 0
              and tags == {"owner": "ops", "tier": "gold"},
              "an image takes tag and untag: %s %s %s" % (tags, p.stderr[-200:], q.stderr[-200:]))
        p = cp("snapshot", "delete", ami)
        check(p.returncode != 0 and "EC2 images" in p.stderr and "does not support" in p.stderr,
              "other calls on an image say the images service does not take them: %s"
              % p.stderr[-200:])

    p = cp("--json", "snapshot", "restore", root, "--data-snapshot", data, "--name",
           "web-launched", "--launch", "--size-class", "m5.large", "--subnet", "subnet-0web")
    made = parse(p.stdout)
    check(p.returncode == 0 and len(made) == 2 and made[0]["id"].startswith("ami-")
          and made[1]["id"].startswith("i-"),
          "--launch gives the image, then the instance: %s %s" % (made, p.stderr[-300:]))
    if len(made) == 2:
        inst = sim.state()["instances"].get(made[1]["id"], {})
        vols = sim.state()["volumes"]
        check(inst.get("state") == "running" and inst.get("type") == "m5.large"
              and inst.get("subnet") == "subnet-0web" and inst.get("image") == made[0]["id"],
              "the instance is running, of the size class, in the subnet: %s" % inst)
        check(sorted(vols[v]["snapshot"] for v in inst.get("volumes", []))
              == sorted([root, data]), "its disks come from the two snapshots")
        check((inst.get("tags") or {}).get("Name") == "web-launched", "instance named")

    check_architectures(cp, sim, ec2, root, data)

    # ---- errors ----
    images_before = len(sim.state()["images"])
    p = cp("snapshot", "restore", root, "--launch")
    check(p.returncode != 0 and "--size-class" in p.stderr
          and len(sim.state()["images"]) == images_before,
          "--launch without a size class is refused before anything is made: %s"
          % p.stderr[-300:])
    p = cp("snapshot", "restore", "snap-0000000000000dead")
    check(p.returncode != 0 and "snap-0000000000000dead" in p.stderr
          and "not found" in p.stderr, "restore of a missing snapshot is clear: %s"
          % p.stderr[-300:])
    p = cp("snapshot", "restore", root, "--name", "web-restored")
    check(p.returncode != 0 and "web-restored" in p.stderr, "a taken image name is named: %s"
          % p.stderr[-300:])
    p = cp("worker", "run", "--image", "ami-0nothere", "--size-class", "t3.micro",
           "--script", "exit 0")
    check(p.returncode != 0 and "ami-0nothere" in p.stderr and "not found" in p.stderr,
          "worker from a missing image is clear: %s" % p.stderr[-300:])

    leaked = [o for o in outputs if SECRET in o]
    check(not leaked, "no secret in any output")


def check_architectures(cp, sim, ec2, root, data):
    """arm64 images: derived from the launch size class, asked for, or refused early."""
    def arch_of(image_id):
        return ec2.describe_images(ImageIds=[image_id])["Images"][0].get("Architecture")

    def actions():
        return sim.state()["calls"]["actions"]

    # The simulator answers as EC2 does, through botocore's own parser.
    t = ec2.describe_instance_types(InstanceTypes=["m7g.large", "t3.micro"])["InstanceTypes"]
    check({i["InstanceType"]: i["ProcessorInfo"]["SupportedArchitectures"] for i in t}
          == {"m7g.large": ["arm64"], "t3.micro": ["x86_64"]},
          "DescribeInstanceTypes gives each type's architectures: %s" % t)
    try:
        ec2.describe_instance_types(InstanceTypes=["z9.huge"])
        code = None
    except ec2.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
    check(code == "InvalidInstanceType", "an unknown instance type is InvalidInstanceType: %s"
          % code)

    # Default: no --architecture, no --launch: x86_64 as before, no type looked up.
    before = len(actions())
    p = cp("--json", "snapshot", "restore", root, "--name", "web-default-arch")
    made = parse(p.stdout)
    check(p.returncode == 0 and len(made) == 1 and arch_of(made[0]["id"]) == "x86_64"
          and "DescribeInstanceTypes" not in actions()[before:],
          "without --architecture or --launch the image is x86_64: %s %s"
          % (made, p.stderr[-300:]))

    # Derived: --launch on a Graviton size class makes an arm64 image and boots it.
    before = len(actions())
    p = cp("--json", "snapshot", "restore", root, "--data-snapshot", data, "--name",
           "web-graviton", "--launch", "--size-class", "m7g.large")
    made = parse(p.stdout)
    check(p.returncode == 0 and len(made) == 2 and made[0]["id"].startswith("ami-")
          and made[1]["id"].startswith("i-"),
          "--launch --size-class m7g.large gives an image and an instance: %s %s"
          % (made, p.stderr[-300:]))
    if len(made) == 2:
        check(arch_of(made[0]["id"]) == "arm64",
              "the image made for m7g.large is arm64: %s" % arch_of(made[0]["id"]))
        inst = sim.state()["instances"].get(made[1]["id"], {})
        check(inst.get("state") == "running" and inst.get("type") == "m7g.large"
              and inst.get("image") == made[0]["id"],
              "an m7g.large instance runs from it: %s" % inst)
        seen = actions()[before:]
        check("DescribeInstanceTypes" in seen and seen.index("DescribeInstanceTypes")
              < seen.index("RegisterImage"),
              "the size class was looked up before registering: %s" % seen)

    # Asked for, without launch: arm64 whatever the default would be.
    before = len(actions())
    p = cp("--json", "snapshot", "restore", root, "--name", "web-arm-image",
           "--architecture", "arm64")
    made = parse(p.stdout)
    check(p.returncode == 0 and len(made) == 1 and arch_of(made[0]["id"]) == "arm64"
          and "DescribeInstanceTypes" not in actions()[before:],
          "--architecture arm64 without --launch makes an arm64 image: %s %s"
          % (made, p.stderr[-300:]))
    arm_image = made[0]["id"] if made else None

    # Asked for and launchable: an explicit arm64 on t4g.micro.
    p = cp("--json", "snapshot", "restore", root, "--name", "web-arm-t4g", "--architecture",
           "arm64", "--launch", "--size-class", "t4g.micro")
    made = parse(p.stdout)
    check(p.returncode == 0 and len(made) == 2 and arch_of(made[0]["id"]) == "arm64"
          and sim.state()["instances"].get(made[1]["id"], {}).get("type") == "t4g.micro",
          "--architecture arm64 --launch --size-class t4g.micro works: %s %s"
          % (made, p.stderr[-300:]))

    # EC2 refuses a mismatched launch only after the image exists; we refuse before.
    if arm_image:
        try:
            ec2.run_instances(ImageId=arm_image, InstanceType="t3.micro", MinCount=1,
                              MaxCount=1)
            err = None
        except ec2.exceptions.ClientError as e:
            err = e.response["Error"]
        check(err and err["Code"] == "InvalidParameterValue"
              and "architecture 'x86_64' of the specified instance type" in err["Message"]
              and "'arm64' of the specified AMI" in err["Message"],
              "the simulator's RunInstances refuses an x86_64 type for an arm64 image: %s"
              % err)

    refusals = [
        (["--architecture", "arm64", "--launch", "--size-class", "t3.micro"],
         ["t3.micro", "arm64", "x86_64"], "arm64 asked for with an x86_64 size class"),
        (["--architecture", "x86_64", "--launch", "--size-class", "m7g.large"],
         ["m7g.large", "x86_64", "arm64"], "x86_64 asked for with an arm64 size class"),
        (["--launch", "--size-class", "mac1.metal"], ["mac1.metal", "x86_64_mac"],
         "a size class that runs neither x86_64 nor arm64"),
        (["--launch", "--size-class", "z9.huge"], ["z9.huge"], "an unknown size class"),
        (["--architecture", "sparc"], ["sparc", "x86_64", "arm64"], "an unknown architecture"),
        (["--architecture", "sparc", "--launch", "--size-class", "m5.large"],
         ["sparc", "x86_64", "arm64"], "an unknown architecture with --launch"),
    ]
    for i, (args, named, what) in enumerate(refusals):
        before = len(actions())
        images_before = len(sim.state()["images"])
        p = cp("snapshot", "restore", root, "--name", "web-refused-%d" % i, *args)
        seen = actions()[before:]
        check(p.returncode in (1, 2) and all(n in p.stderr for n in named)
              and "RegisterImage" not in seen and "RunInstances" not in seen
              and len(sim.state()["images"]) == images_before,
              "%s is refused before RegisterImage, naming %s: rc %d, %s, calls %s"
              % (what, named, p.returncode, p.stderr[-400:], seen))


def parse(text):
    """One JSON document (object or array) per line; flattened."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        v = json.loads(line)
        out.extend(v if isinstance(v, list) else [v])
    return out


if __name__ == "__main__":
    main()
