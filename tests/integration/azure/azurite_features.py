#!/usr/bin/env python3
"""A proxy in front of Azurite that adds the Blob service features Azurite
3.35 does not implement, following the Azure Storage REST reference:

  Get Account Information     x-ms-is-hns-enabled
      https://learn.microsoft.com/rest/api/storageservices/get-account-information
  Get Blob Service Properties ContainerDeleteRetentionPolicy
      https://learn.microsoft.com/rest/api/storageservices/get-blob-service-properties
  Get Container Properties    x-ms-immutable-storage-with-versioning-enabled
      https://learn.microsoft.com/rest/api/storageservices/get-container-properties
  Put Blob / Put Block List   x-ms-immutability-policy-until-date / -mode
  Set Blob Immutability Policy (comp=immutabilityPolicies)
      https://learn.microsoft.com/rest/api/storageservices/set-blob-immutability-policy
  Delete Blob of an immutable blob: 409 BlobImmutableDueToPolicy
      https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes

Every other request goes to Azurite unchanged (Azurite checks its
signature). Set Blob Immutability Policy is answered here without a
signature check, since Azurite does not know the operation. Features are
switched with POST /_features {"hns": bool, "container_soft_delete": bool,
"vlw": bool}; faults come from simcore (/_sim/faults, style "azure").

Usage: azurite_features.py --upstream http://127.0.0.1:BLOBPORT
"""

import argparse
import datetime
import email.utils
import http.client
import json
import os
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "cloudsim"))
import simcore  # noqa: E402

UPSTREAM = None
FEATURES = {"hns": False, "container_soft_delete": False, "vlw": False}
LOCKS = {}  # blob path -> (until datetime, mode)
LOCK = threading.Lock()


def parse_date(text):
    return email.utils.parsedate_to_datetime(text)


class Proxy(simcore.Handler):
    def azure_error(self, status, code, message):
        body = ("\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code>"
                "<Message>%s</Message></Error>" % (code, message))
        self.reply(status, body, "application/xml",
                   {"x-ms-error-code": code, "x-ms-request-id": "features-proxy"})

    def _dispatch_counted(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_features" and self.command == "POST":
            FEATURES.update(json.loads(self.read_body() or b"{}"))
            return self.reply_json(200, FEATURES)
        return super()._dispatch_counted()

    def handle_service(self, url, q, body):
        comp = q.get("comp", [""])[0]
        restype = q.get("restype", [""])[0]
        blob = url.path if not restype and url.path.count("/") >= 3 else None
        if blob and comp == "immutabilityPolicies" and self.command == "PUT":
            return self.set_policy(blob)
        if blob and self.command == "DELETE" and FEATURES["vlw"]:
            with LOCK:
                lock = LOCKS.get(blob)
            if lock and lock[0] > datetime.datetime.now(datetime.timezone.utc):
                return self.azure_error(409, "BlobImmutableDueToPolicy",
                                        "This operation is not permitted as the blob is "
                                        "immutable due to a policy.")
        status, headers, data = self.forward(body)
        if 200 <= status < 300 and blob and self.command == "PUT" and comp in ("", "blocklist"):
            until = self.headers.get("x-ms-immutability-policy-until-date")
            if until and FEATURES["vlw"]:
                with LOCK:
                    LOCKS[blob] = (parse_date(until),
                                   self.headers.get("x-ms-immutability-policy-mode", "Unlocked"))
        if 200 <= status < 300 and blob and self.command == "DELETE":
            with LOCK:
                LOCKS.pop(blob, None)
        if restype == "account" and comp == "properties":
            # Azurite says false itself; the answer must carry one value.
            headers = [(k, v) for k, v in headers if k.lower() != "x-ms-is-hns-enabled"]
            headers.append(("x-ms-is-hns-enabled", "true" if FEATURES["hns"] else "false"))
        if restype == "service" and comp == "properties" and FEATURES["container_soft_delete"]:
            text = data.decode("utf-8-sig")
            text = text.replace("</StorageServiceProperties>",
                                "<ContainerDeleteRetentionPolicy><Enabled>true</Enabled>"
                                "<Days>7</Days></ContainerDeleteRetentionPolicy>"
                                "</StorageServiceProperties>")
            data = text.encode()
        if restype == "container" and not comp and FEATURES["vlw"]:
            headers.append(("x-ms-immutable-storage-with-versioning-enabled", "true"))
        if blob and self.command in ("HEAD", "GET") and status < 300:
            with LOCK:
                lock = LOCKS.get(blob)
            if lock:
                headers.append(("x-ms-immutability-policy-until-date",
                                email.utils.format_datetime(lock[0], usegmt=True)))
                headers.append(("x-ms-immutability-policy-mode", lock[1].lower()))
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        length = dict((k.lower(), v) for k, v in headers).get("content-length")
        self.send_header("Content-Length",
                         length if self.command == "HEAD" and length else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return None

    def set_policy(self, blob):
        until = self.headers.get("x-ms-immutability-policy-until-date")
        mode = self.headers.get("x-ms-immutability-policy-mode", "Unlocked")
        if not FEATURES["vlw"]:
            return self.azure_error(409, "ContainerImmutableStorageWithVersioningNotEnabled",
                                    "Version-level immutability is not enabled.")
        new = parse_date(until)
        with LOCK:
            old = LOCKS.get(blob)
            if old and old[1].lower() == "locked" and old[0] > new:
                return self.azure_error(409, "ImmutabilityPolicyLocked",
                                        "A locked policy can only be extended.")
            LOCKS[blob] = (new, mode)
        return self.reply(200, b"", "application/xml",
                          {"x-ms-immutability-policy-until-date": until,
                           "x-ms-immutability-policy-mode": mode.lower(),
                           "x-ms-request-id": "features-proxy"})

    def forward(self, body):
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=body if body else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out = resp.getheaders()
        conn.close()
        return resp.status, list(out), data


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    args = p.parse_args()
    UPSTREAM = urllib.parse.urlsplit(args.upstream)
    simcore.serve(Proxy, sys.argv)
