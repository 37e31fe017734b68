#!/usr/bin/env python3
"""AWS STS AssumeRole and AssumeRoleWithWebIdentity, for credential tests.

Follows the STS API reference:
  https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
  https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
  https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html

AssumeRole must be signed with SigV4 (service sts): the signature is
checked by recomputing it with botocore's signer for the key pair given by
--key ID:SECRET (or a pair this server issued earlier, with its session
token), so a wrong signature is refused with SignatureDoesNotMatch.
AssumeRoleWithWebIdentity is unsigned; its token must equal --web-token.
GET /_sim/calls lists the calls (action, role, external id, session name,
caller key id). Options: --expires-in SECONDS.
"""

import argparse
import datetime
import json
import secrets
import sys
import threading
import urllib.parse
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import simcore

ARGS = None
KEYS = {}  # access key id -> (secret, session token or None)
CALLS = []
LOCK = threading.Lock()
NS = "https://sts.amazonaws.com/doc/2011-06-15/"



def frozen_clock(when):
    """Make botocore sign at `when`, whichever clock its version reads."""
    if hasattr(botocore.auth, "get_current_datetime"):
        return mock.patch("botocore.auth.get_current_datetime", return_value=when)

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    return mock.patch("botocore.auth.datetime.datetime", Frozen)

def sts_error(handler, status, code, message):
    body = ('<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code>'
            '<Message>%s</Message></Error><RequestId>sts-%s</RequestId></ErrorResponse>'
            % (NS, code, message, secrets.token_hex(4)))
    handler.reply(status, body, "text/xml")


def check_signature(handler, body):
    auth = handler.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "MissingAuthenticationToken", "Request is missing Authentication Token"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, date, region, service, _ = fields["Credential"].split("/")
    with LOCK:
        known = KEYS.get(key_id)
    if not known:
        return "InvalidClientTokenId", "The security token included in the request is invalid"
    secret, token = known
    if token and handler.headers.get("X-Amz-Security-Token") != token:
        return "InvalidClientTokenId", "The security token included in the request is invalid"
    signed = fields["SignedHeaders"].split(";")
    url = "http://%s%s" % (handler.headers["Host"], handler.path)
    req = AWSRequest(method=handler.command, url=url, data=body)
    for name in signed:
        for value in handler.headers.get_all(name) or []:
            req.headers.add_header(name, value)
    stamp = handler.headers.get("X-Amz-Date")
    when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    signer = botocore.auth.SigV4Auth(Credentials(key_id, secret, token), service, region)
    with frozen_clock(when):
        signer.add_auth(req)
    expect = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    if expect != fields["Signature"]:
        return "SignatureDoesNotMatch", ("The request signature we calculated does not match "
                                         "the signature you provided")
    return None


def issue(handler, action, role, session, caller):
    n = secrets.token_hex(4).upper()
    key_id, secret, token = "ASIASTS" + n, "sts-secret-%s-SHOULDNOTLEAK" % n, \
        "sts-session-%s-SHOULDNOTLEAK" % n
    with LOCK:
        KEYS[key_id] = (secret, token)
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=ARGS.expires_in)
    account = role.split(":")[4] if role.count(":") >= 5 else "123456789012"
    rolename = role.rsplit("/", 1)[-1]
    body = ('<{a}Response xmlns="{ns}"><{a}Result><Credentials>'
            '<AccessKeyId>{k}</AccessKeyId><SecretAccessKey>{s}</SecretAccessKey>'
            '<SessionToken>{t}</SessionToken><Expiration>{e}</Expiration></Credentials>'
            '<AssumedRoleUser><Arn>arn:aws:sts::{acct}:assumed-role/{r}/{sess}</Arn>'
            '<AssumedRoleId>AROA{n}:{sess}</AssumedRoleId></AssumedRoleUser></{a}Result>'
            '<ResponseMetadata><RequestId>sts-{n}</RequestId></ResponseMetadata></{a}Response>'
            ).format(a=action, ns=NS, k=key_id, s=secret, t=token,
                     e=exp.strftime("%Y-%m-%dT%H:%M:%SZ"), acct=account, r=rolename,
                     sess=session, n=n)
    handler.reply(200, body, "text/xml")


class Sts(simcore.Handler):
    def _control(self, path):
        if path == "/_sim/calls":
            with LOCK:
                return self.reply_json(200, CALLS)
        return super()._control(path)

    def handle_service(self, url, q, body):
        if self.command != "POST" or url.path != "/":
            return sts_error(self, 404, "NotFound", "unknown path")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(),
                                                          keep_blank_values=True).items()}
        action = form.get("Action")
        role = form.get("RoleArn", "")
        session = form.get("RoleSessionName", "")
        call = {"action": action, "role": role, "session": session,
                "external_id": form.get("ExternalId"), "duration": form.get("DurationSeconds")}
        if action == "AssumeRole":
            bad = check_signature(self, body)
            call["caller"] = self.headers.get("Authorization", "").split("Credential=")[-1] \
                .split("/")[0]
            with LOCK:
                CALLS.append(call)
            if bad:
                return sts_error(self, 403, bad[0], bad[1])
            if not role or not session:
                return sts_error(self, 400, "ValidationError", "RoleArn and RoleSessionName needed")
            if role.endswith("/needs-external-id") and form.get("ExternalId") != "ext-42":
                return sts_error(self, 403, "AccessDenied", "not authorized to assume role")
            return issue(self, action, role, session, call["caller"])
        if action == "AssumeRoleWithWebIdentity":
            with LOCK:
                CALLS.append(call)
            if form.get("WebIdentityToken") != ARGS.web_token:
                return sts_error(self, 400, "InvalidIdentityToken", "token not valid")
            return issue(self, action, role, session, None)
        return sts_error(self, 400, "InvalidAction", "unknown action")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--key", action="append", default=[])
    p.add_argument("--web-token", default="web-identity-token-SHOULDNOTLEAK")
    p.add_argument("--expires-in", type=int, default=3600)
    ARGS = p.parse_args()
    for k in ARGS.key:
        kid, sec = k.split(":", 1)
        KEYS[kid] = (sec, None)
    simcore.serve(Sts, sys.argv)
