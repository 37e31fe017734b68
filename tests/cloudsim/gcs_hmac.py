#!/usr/bin/env python3
"""A GCS XML API subset with HMAC-key authentication, for signing tests.

Follows:
  https://cloud.google.com/storage/docs/authentication/signatures
  https://cloud.google.com/storage/docs/authentication/canonical-requests
  https://cloud.google.com/storage/docs/xml-api/reference-headers

PUT, GET, HEAD and DELETE /BUCKET/OBJECT keep objects in memory. Every
request must be signed with GOOG4-HMAC-SHA256, in the Authorization header
or as a signed URL (X-Goog-Signature in the query); this file checks the
signature with its own implementation of Google's published algorithm,
written from the pages above, for the HMAC key given by --key ID:SECRET.
Errors are XML <Error><Code>SignatureDoesNotMatch</Code>... as GCS sends.
"""

import argparse
import datetime
import hashlib
import hmac
import sys
import threading
import urllib.parse

import simcore

ARGS = None
KEYS = {}
OBJECTS = {}
LOCK = threading.Lock()


def quote(s):
    return urllib.parse.quote(s, safe="-_.~")


def canonical_query(query, drop=None):
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k, v = urllib.parse.unquote(k), urllib.parse.unquote(v)
        if k == drop:
            continue
        pairs.append((quote(k), quote(v)))
    return "&".join("%s=%s" % kv for kv in sorted(pairs))


def signature(secret, stamp, scope, canonical):
    date, region, service, term = scope.split("/")
    k = hmac.new(("GOOG4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, term):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sts = "\n".join(["GOOG4-HMAC-SHA256", stamp, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


class Gcs(simcore.Handler):
    def error(self, status, code, message):
        self.reply(status, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code>"
                           "<Message>%s</Message></Error>" % (code, message), "application/xml",
                   {"x-guploader-uploadid": "sim-upload-1"})

    def check(self, url, body):
        auth = self.headers.get("Authorization", "")
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if auth.startswith("GOOG4-HMAC-SHA256 "):
            f = dict(p.strip().split("=", 1) for p in auth[18:].split(","))
            key_id, scope = f["Credential"].split("/", 1)
            signed, given = f["SignedHeaders"], f["Signature"]
            stamp = self.headers.get("x-goog-date", "")
            query = canonical_query(url.query)
            payload = self.headers.get("x-goog-content-sha256") or hashlib.sha256(body).hexdigest()
        elif "X-Goog-Signature" in q:
            key_id, scope = q["X-Goog-Credential"].split("/", 1)
            signed, given = q["X-Goog-SignedHeaders"], q["X-Goog-Signature"]
            stamp = q["X-Goog-Date"]
            t = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
            if datetime.datetime.utcnow() > t + datetime.timedelta(seconds=int(q["X-Goog-Expires"])):
                return "ExpiredToken", "The provided token has expired."
            query = canonical_query(url.query, drop="X-Goog-Signature")
            payload = "UNSIGNED-PAYLOAD"
        else:
            return "AccessDenied", "Anonymous caller does not have access."
        if key_id not in KEYS:
            return "InvalidAccessKeyId", "The access key is not known."
        headers = []
        for name in signed.split(";"):
            values = self.headers.get_all(name) or []
            headers.append("%s:%s" % (name, ",".join(" ".join(v.split()) for v in values)))
        path = urllib.parse.urlsplit(self.path).path
        canonical = "\n".join([self.command, path, query, "\n".join(headers) + "\n", signed,
                               payload])
        if not hmac.compare_digest(signature(KEYS[key_id], stamp, scope, canonical), given):
            return "SignatureDoesNotMatch", ("The request signature we calculated does not "
                                             "match the signature you provided.")
        return None

    def handle_service(self, url, q, body):
        bad = self.check(url, body)
        if bad:
            return self.error(403, *bad)
        key = urllib.parse.unquote(url.path)
        if self.command == "PUT":
            with LOCK:
                OBJECTS[key] = body
            return self.reply(200, b"", "text/plain", {"ETag": '"%s"' % hashlib.md5(body).hexdigest()})
        with LOCK:
            data = OBJECTS.get(key)
        if data is None:
            return self.error(404, "NoSuchKey", "The specified key does not exist.")
        if self.command == "DELETE":
            with LOCK:
                OBJECTS.pop(key, None)
            return self.reply(204)
        return self.reply(200, data)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--key", action="append", default=[])
    ARGS = p.parse_args()
    for k in ARGS.key:
        kid, sec = k.split(":", 1)
        KEYS[kid] = sec
    simcore.serve(Gcs, sys.argv)
