#!/usr/bin/env python3
"""EC2 instance metadata service, version 2 only, for credential tests.

Follows:
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html

  PUT /latest/api/token                       needs X-aws-ec2-metadata-token-ttl-seconds (1..21600)
  GET /latest/meta-data/iam/security-credentials/        the role name
  GET /latest/meta-data/iam/security-credentials/<role>  the role's keys as JSON
Every GET needs a valid X-aws-ec2-metadata-token (else 401), as IMDSv2
requires. Each credentials answer mints new keys (ASIAIMDS0001, ...) so
tests see refreshes. Options: --role NAME, --expires-in SECONDS.
"""

import argparse
import datetime
import secrets
import sys
import threading

import simcore

ARGS = None
TOKENS = set()
COUNTER = [0]
LOCK = threading.Lock()


class Imds(simcore.Handler):
    def handle_service(self, url, q, body):
        path = url.path
        if path == "/latest/api/token":
            if self.command != "PUT":
                return self.reply(405, "token needs PUT", "text/plain")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.reply(400, "missing or bad ttl", "text/plain")
            token = "imdstoken-" + secrets.token_hex(16)
            with LOCK:
                TOKENS.add(token)
            return self.reply(200, token, "text/plain",
                              {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        if self.headers.get("X-aws-ec2-metadata-token") not in TOKENS:
            return self.reply(401, "", "text/plain")
        base = "/latest/meta-data/iam/security-credentials/"
        if path == base:
            return self.reply(200, ARGS.role, "text/plain")
        if path == base + ARGS.role:
            with LOCK:
                COUNTER[0] += 1
                n = COUNTER[0]
            now = datetime.datetime.now(datetime.timezone.utc)
            exp = now + datetime.timedelta(seconds=ARGS.expires_in)
            return self.reply_json(200, {
                "Code": "Success", "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Type": "AWS-HMAC", "AccessKeyId": "ASIAIMDS%04d" % n,
                "SecretAccessKey": "imds-secret-%04d-SHOULDNOTLEAK" % n,
                "Token": "imds-session-token-%04d-SHOULDNOTLEAK" % n,
                "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")})
        return self.reply(404, "", "text/plain")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--role", default="cp-test-role")
    p.add_argument("--expires-in", type=int, default=3600)
    ARGS = p.parse_args()
    simcore.serve(Imds, sys.argv)
