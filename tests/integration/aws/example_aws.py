#!/usr/bin/env python3
"""Run examples/aws/protect_aws against the EC2/EBS simulator and check what it made.

Usage: example_aws.py PROTECT_AWS_BINARY
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_provider import KEY, SECRET, Sim  # noqa: E402


def main():
    sim = Sim()
    work = tempfile.mkdtemp(prefix="cpawsex-")
    try:
        sim.call("/_sim/seed", {"instances": [{
            "id": "i-0example", "region": "us-east-1", "tags": {"Name": "example"},
            "volumes": [{"id": "vol-0exroot", "size_gib": 1,
                         "blocks": {"0": 11, "17": 12, "1000": 13}},
                        {"id": "vol-0exdata", "size_gib": 1, "blocks": {"2": 14}}]}]})
        sim.call("/_sim/config", {"pending_polls": 1, "unreadable_polls": 1})
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                    "AWS_ENDPOINT_URL": sim.url, "AWS_REGION": "us-east-1",
                    "AWS_CONFIG_FILE": os.path.join(work, "none"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "none"),
                    "AWS_EC2_METADATA_DISABLED": "true",
                    "CLOUDPROTECT_PASSWORD": "example password",
                    "CLOUDPROTECT_PROVIDER_CONFIG": json.dumps({"poll_ms": 50,
                                                                "wait_timeout_s": 30})})
        p = subprocess.run([sys.argv[1], "i-0example", "file://" + os.path.join(work, "repo")],
                           env=env, capture_output=True, text=True, timeout=120)
        sys.stdout.write(p.stdout + p.stderr)
        state = sim.call("/_sim/state")
        made = [v for v in state["volumes"].values() if v.get("snapshot")]
        ok = (p.returncode == 0 and len(made) == 1 and "verified" in p.stdout
              and "cloudprotect restore latest" in p.stdout and SECRET not in p.stdout + p.stderr)
        print("example %s" % ("ok" if ok else "FAILED"))
        sys.exit(0 if ok else 1)
    finally:
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
