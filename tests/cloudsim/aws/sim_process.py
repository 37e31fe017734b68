"""Run one of the project's simulators (ebs_direct.py, backup.py) for a test.

The simulator prints "PORT <n>" on its first line (tests/cloudsim/simcore.py)
and stops when its stdin closes; its /_sim/* paths seed, configure and
report its state.

    sim = SimProcess("ebs_direct.py", "--key", "AKID:SECRET")
    sim.call("/_sim/seed", {...}); sim.state(); sim.stop()
"""
import json
import os
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class SimProcess:
    def __init__(self, script, *args):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.url = "http://127.0.0.1:%d" % int(line.split()[1])

    def call(self, path, body=None):
        """GET path, or POST body as JSON; the JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data,
                                     method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def state(self):
        return self.call("/_sim/state")

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
