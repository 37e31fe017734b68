#!/usr/bin/env python3
"""Sign requests with botocore, the AWS SDK for Python, for test_sigv4.

Reads a JSON list of cases on stdin and prints, for each, what botocore's
own signers (SigV4Auth, S3SigV4Auth and their query/presign variants)
produce at the given time. Nothing here re-implements the algorithm: an
independent implementation to compare ours with.
"""

import datetime
import io
import json
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials



def frozen_clock(when):
    """Make botocore sign at `when`, whichever clock its version reads."""
    if hasattr(botocore.auth, "get_current_datetime"):
        return mock.patch("botocore.auth.get_current_datetime", return_value=when)

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    return mock.patch("botocore.auth.datetime.datetime", Frozen)

def sign(case):
    creds = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    when = datetime.datetime.fromtimestamp(case["now"], datetime.timezone.utc).replace(tzinfo=None)
    body = bytes.fromhex(case.get("body_hex", ""))
    data = io.BytesIO(body) if case.get("stream") else body
    req = AWSRequest(method=case["method"], url=case["base_url"], data=data,
                     params=[tuple(p) for p in case.get("params", [])])
    for name, value in case.get("headers", []):
        req.headers.add_header(name, value)  # appends: repeated headers stay repeated
    if case.get("unsigned"):
        req.context["payload_signing_enabled"] = False
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    s3 = case.get("s3", False)
    if case.get("presign"):
        cls = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
        signer = cls(creds, case["service"], case["region"], expires=case["presign"])
    else:
        cls = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
        signer = cls(creds, case["service"], case["region"])
    with frozen_clock(when):
        signer.add_auth(req)
        # Recompute the canonical request for messages on mismatch.
        try:
            canonical = signer.canonical_request(req)
        except Exception:  # noqa: BLE001 - only for diagnostics
            canonical = ""
    out = {"canonical": canonical}
    if case.get("presign"):
        out["url"] = req.url
        out["signature"] = req.url.rsplit("X-Amz-Signature=", 1)[1]
    else:
        out["authorization"] = req.headers["Authorization"]
        out["signature"] = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    return out


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
