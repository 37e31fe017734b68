#!/usr/bin/env python3
"""The GCE metadata server's service account token, for credential tests.

Follows:
  https://cloud.google.com/compute/docs/metadata/querying-metadata
  https://cloud.google.com/compute/docs/access/authenticate-workloads

  GET /computeMetadata/v1/instance/service-accounts/default/token
Requests without "Metadata-Flavor: Google" are refused with 403, as the
real server does; answers carry Metadata-Flavor: Google. Each answer is a
new token. Options: --expires-in SECONDS.
"""

import argparse
import sys
import threading

import simcore

ARGS = None
COUNT = [0]
LOCK = threading.Lock()


class Metadata(simcore.Handler):
    def handle_service(self, url, q, body):
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(403, "Missing Metadata-Flavor:Google header.", "text/html")
        if url.path == "/computeMetadata/v1/instance/service-accounts/default/token":
            with LOCK:
                COUNT[0] += 1
                n = COUNT[0]
            return self.reply_json(200, {"access_token": "ya29.gce-%d-SHOULDNOTLEAK" % n,
                                         "expires_in": ARGS.expires_in, "token_type": "Bearer"},
                                   {"Metadata-Flavor": "Google"})
        return self.reply(404, "not found", "text/html", {"Metadata-Flavor": "Google"})


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--expires-in", type=int, default=3599)
    ARGS = p.parse_args()
    simcore.serve(Metadata, sys.argv)
