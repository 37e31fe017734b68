#!/usr/bin/env python3
"""Google Cloud Storage XML API simulator for the gs:// object store tests.

Follows these public reference pages (the XML API):
  https://cloud.google.com/storage/docs/xml-api/put-object-upload
  https://cloud.google.com/storage/docs/xml-api/get-object-download
  https://cloud.google.com/storage/docs/xml-api/head-object
  https://cloud.google.com/storage/docs/xml-api/delete-object
  https://cloud.google.com/storage/docs/xml-api/get-bucket-list
  https://cloud.google.com/storage/docs/xml-api/post-object-multipart
  https://cloud.google.com/storage/docs/xml-api/put-object-multipart
  https://cloud.google.com/storage/docs/xml-api/post-object-complete
  https://cloud.google.com/storage/docs/xml-api/delete-multipart
  https://cloud.google.com/storage/docs/xml-api/get-bucket-uploads
  https://cloud.google.com/storage/docs/xml-api/put-object-retention
  https://cloud.google.com/storage/docs/xml-api/reference-headers
  https://cloud.google.com/storage/docs/object-lock

Objects live in memory. Every request must carry a valid GOOG4-HMAC-SHA256
signature, checked by gcs_hmac.py's own implementation of Google's
algorithm (not our C signer). Buckets are given on the command line:
--bucket NAME, or --bucket NAME:lock for one created with object retention
(HEAD bucket then answers x-goog-bucket-object-lock-enabled: true). A
retained object cannot be deleted or overwritten (403 AccessDenied, as GCS
answers). Listings (of objects and of unfinished multipart uploads) page
by --page-size (default 1000) with markers. Faults
(503, 429 with Retry-After, resets) come from simcore's /_sim/faults.
"""

import argparse
import datetime
import email.utils
import hashlib
import re
import sys
import threading
import urllib.parse
import uuid
from xml.sax.saxutils import escape

import gcs_hmac
import simcore

BUCKETS = {}   # name -> {"lock": bool, "objects": {key: obj}}
UPLOADS = {}   # upload id -> {"bucket", "key", "headers", "parts": {n: bytes}, "initiated"}
LOCK = threading.Lock()
PAGE = 1000
CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_iso(text):
    text = text.strip().replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text)


class GcsXml(gcs_hmac.Gcs):
    def handle_service(self, url, q, body):
        bad = self.check(url, body)
        if bad:
            return self.error(403, *bad)
        parts = url.path.lstrip("/").split("/", 1)
        bucket = urllib.parse.unquote(parts[0])
        key = urllib.parse.unquote(parts[1]) if len(parts) > 1 and parts[1] else None
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        with LOCK:
            b = BUCKETS.get(bucket)
            if b is None:
                return self.error(404, "NoSuchBucket", "The specified bucket does not exist.")
            if key is None:
                return self.bucket_op(bucket, b, query)
            return self.object_op(bucket, b, key, query, body)

    # -- buckets --
    def bucket_op(self, name, b, query):
        if self.command == "HEAD":
            hdrs = {"x-goog-bucket-object-lock-enabled": "true"} if b["lock"] else {}
            return self.reply(200, b"", "application/xml", hdrs)
        if self.command != "GET":
            return self.error(405, "MethodNotAllowed", "Not supported by the simulator.")
        if "uploads" in query:
            return self.list_uploads(name, query)
        prefix = query.get("prefix", [""])[0]
        marker = query.get("marker", [""])[0]
        limit = min(int(query.get("max-keys", ["1000"])[0]), PAGE)
        keys = sorted(k for k in b["objects"] if k.startswith(prefix) and k > marker)
        page, more = keys[:limit], len(keys) > limit
        out = ["<?xml version='1.0' encoding='UTF-8'?>",
               "<ListBucketResult xmlns='http://doc.s3.amazonaws.com/2006-03-01'>",
               "<Name>%s</Name><Prefix>%s</Prefix><Marker>%s</Marker>" % (
                   escape(name), escape(prefix), escape(marker)),
               "<IsTruncated>%s</IsTruncated>" % ("true" if more else "false")]
        if more:
            out.append("<NextMarker>%s</NextMarker>" % escape(page[-1]))
        for k in page:
            o = b["objects"][k]
            out.append("<Contents><Key>%s</Key><Generation>%d</Generation>"
                       "<LastModified>%s</LastModified><ETag>\"%s\"</ETag><Size>%d</Size>"
                       "<StorageClass>%s</StorageClass></Contents>" % (
                           escape(k), o["generation"], iso(o["mtime"]), o["etag"],
                           len(o["data"]), o["class"]))
        out.append("</ListBucketResult>")
        return self.reply(200, "".join(out), "application/xml")

    def list_uploads(self, name, query):
        prefix = query.get("prefix", [""])[0]
        key_marker = query.get("key-marker", [""])[0]
        id_marker = query.get("upload-id-marker", [""])[0]
        limit = min(int(query.get("max-uploads", ["1000"])[0]), PAGE)
        # Ordered by key, then by upload id; markers resume after (key, id).
        ups = sorted((u["key"], uid) for uid, u in UPLOADS.items()
                     if u["bucket"] == name and u["key"].startswith(prefix))
        if key_marker:
            ups = [u for u in ups if u[0] > key_marker or
                   (u[0] == key_marker and id_marker and u[1] > id_marker)]
        page, more = ups[:limit], len(ups) > limit
        out = ["<?xml version='1.0' encoding='UTF-8'?>",
               "<ListMultipartUploadsResult xmlns='http://s3.amazonaws.com/doc/2006-03-01/'>",
               "<Bucket>%s</Bucket><KeyMarker>%s</KeyMarker>"
               "<UploadIdMarker>%s</UploadIdMarker><Prefix>%s</Prefix>" % (
                   escape(name), escape(key_marker), escape(id_marker), escape(prefix)),
               "<MaxUploads>%d</MaxUploads><IsTruncated>%s</IsTruncated>" % (
                   limit, "true" if more else "false")]
        if more:
            out.append("<NextKeyMarker>%s</NextKeyMarker>"
                       "<NextUploadIdMarker>%s</NextUploadIdMarker>" % (
                           escape(page[-1][0]), page[-1][1]))
        for key, uid in page:
            u = UPLOADS[uid]
            out.append("<Upload><Key>%s</Key><UploadId>%s</UploadId>"
                       "<StorageClass>%s</StorageClass><Initiated>%s</Initiated></Upload>" % (
                           escape(key), uid,
                           (u["headers"].get("x-goog-storage-class") or "STANDARD").upper(),
                           iso(u["initiated"])))
        out.append("</ListMultipartUploadsResult>")
        return self.reply(200, "".join(out), "application/xml")

    # -- objects --
    def retained(self, o):
        return o and o.get("retain_until") and o["retain_until"] > now()

    def lock_from(self, b, headers):
        until = headers.get("x-goog-object-lock-retain-until-date")
        mode = headers.get("x-goog-object-lock-mode")
        if not until and not mode:
            return None, None, None
        if not b["lock"]:
            return None, None, ("InvalidArgument",
                                "Object retention is not enabled on this bucket.")
        if mode not in ("GOVERNANCE", "COMPLIANCE") or not until:
            return None, None, ("InvalidArgument", "Invalid object lock mode or date.")
        return mode, parse_iso(until), None

    def store(self, b, key, data, headers, code_on_exists):
        old = b["objects"].get(key)
        if headers.get("x-goog-if-generation-match") == "0" and old is not None:
            return self.error(412, "PreconditionFailed",
                              "At least one of the pre-conditions you specified did not hold.")
        if self.retained(old):
            return self.error(403, "AccessDenied",
                              "Object is subject to object retention and cannot be replaced.")
        cls = (headers.get("x-goog-storage-class") or "STANDARD").upper()
        if cls not in CLASSES:
            return self.error(400, "InvalidStorageClass", "Unknown storage class %s." % cls)
        mode, until, bad = self.lock_from(b, headers)
        if bad:
            return self.error(400, *bad)
        gen = int(datetime.datetime.now().timestamp() * 1e6)
        b["objects"][key] = {"data": data, "class": cls, "mtime": now(), "generation": gen,
                             "etag": hashlib.md5(data).hexdigest(), "mode": mode,
                             "retain_until": until}
        return gen

    def object_headers(self, o):
        h = {"Last-Modified": email.utils.format_datetime(o["mtime"], usegmt=True),
             "ETag": '"%s"' % o["etag"], "x-goog-generation": str(o["generation"]),
             "x-goog-storage-class": o["class"],
             "x-goog-stored-content-length": str(len(o["data"]))}
        if o.get("retain_until"):
            h["x-goog-object-lock-mode"] = o["mode"]
            h["x-goog-object-lock-retain-until-date"] = o["retain_until"].strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        return h

    def object_op(self, bucket, b, key, query, body):
        objs = b["objects"]
        o = objs.get(key)
        if self.command == "POST" and "uploads" in query:
            uid = uuid.uuid4().hex
            UPLOADS[uid] = {"bucket": bucket, "key": key, "parts": {}, "initiated": now(),
                            "headers": {k.lower(): v for k, v in self.headers.items()}}
            return self.reply(200, "<?xml version='1.0' encoding='UTF-8'?>"
                                   "<InitiateMultipartUploadResult><Bucket>%s</Bucket>"
                                   "<Key>%s</Key><UploadId>%s</UploadId>"
                                   "</InitiateMultipartUploadResult>" % (
                                       escape(bucket), escape(key), uid), "application/xml")
        if "uploadId" in query:
            up = UPLOADS.get(query["uploadId"][0])
            if not up or up["bucket"] != bucket or up["key"] != key:
                return self.error(404, "NoSuchUpload", "The requested upload was not found.")
            if self.command == "PUT":
                n = int(query["partNumber"][0])
                up["parts"][n] = body
                return self.reply(200, b"", "text/plain",
                                  {"ETag": '"%s"' % hashlib.md5(body).hexdigest()})
            if self.command == "DELETE":
                UPLOADS.pop(query["uploadId"][0], None)
                return self.reply(204)
            if self.command == "POST":
                listed = re.findall(r"<PartNumber>(\d+)</PartNumber>\s*<ETag>([^<]*)</ETag>",
                                    body.decode())
                data = b""
                for num, etag in listed:
                    part = up["parts"].get(int(num))
                    if part is None or etag.strip('"') != hashlib.md5(part).hexdigest():
                        return self.error(400, "InvalidPart", "A listed part was not found.")
                    data += part
                headers = dict(up["headers"])
                if self.headers.get("x-goog-if-generation-match"):
                    headers["x-goog-if-generation-match"] = self.headers[
                        "x-goog-if-generation-match"]
                gen = self.store(b, key, data, headers, 412)
                if gen is None:
                    return None
                UPLOADS.pop(query["uploadId"][0], None)
                return self.reply(200, "<?xml version='1.0' encoding='UTF-8'?>"
                                       "<CompleteMultipartUploadResult><Bucket>%s</Bucket>"
                                       "<Key>%s</Key><ETag>\"%s\"</ETag>"
                                       "</CompleteMultipartUploadResult>" % (
                                           escape(bucket), escape(key), objs[key]["etag"]),
                                  "application/xml")
        if self.command == "PUT" and "retention" in query:
            if o is None:
                return self.error(404, "NoSuchKey", "The specified key does not exist.")
            if not b["lock"]:
                return self.error(400, "InvalidArgument",
                                  "Object retention is not enabled on this bucket.")
            text = body.decode()
            mode = re.search(r"<Mode>([^<]*)</Mode>", text).group(1)
            until = parse_iso(re.search(r"<RetainUntilDate>([^<]*)</RetainUntilDate>",
                                        text).group(1))
            if o.get("mode") == "COMPLIANCE" and o["retain_until"] > until:
                return self.error(403, "AccessDenied",
                                  "A COMPLIANCE retention cannot be shortened.")
            o["mode"], o["retain_until"] = mode, until
            return self.reply(200, b"", "application/xml")
        if self.command == "PUT":
            gen = self.store(b, key, body, self.headers, 412)
            if gen is None:
                return None
            return self.reply(200, b"", "text/plain",
                              {"ETag": '"%s"' % objs[key]["etag"],
                               "x-goog-generation": str(gen)})
        if o is None:
            return self.error(404, "NoSuchKey", "The specified key does not exist.")
        if self.command == "DELETE":
            if self.retained(o):
                return self.error(403, "AccessDenied",
                                  "Object '%s/%s' is subject to object retention and cannot "
                                  "be deleted, overwritten or archived until %s." % (
                                      bucket, key, iso(o["retain_until"])))
            del objs[key]
            return self.reply(204)
        if self.command == "HEAD":
            h = self.object_headers(o)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(o["data"])))
            for k, v in h.items():
                self.send_header(k, v)
            self.end_headers()
            return None
        if self.command == "GET":
            data, status = o["data"], 200
            rng = self.headers.get("Range")
            m = re.match(r"bytes=(\d+)-(\d*)$", rng or "")
            h = self.object_headers(o)
            if m:
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else len(data) - 1
                if start >= len(data):
                    return self.error(416, "InvalidRange",
                                      "The requested range cannot be satisfied.")
                end = min(end, len(data) - 1)
                h["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(data))
                data, status = data[start:end + 1], 206
            return self.reply(status, data, "application/octet-stream", h)
        return self.error(405, "MethodNotAllowed", "Not supported by the simulator.")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--key", action="append", default=[], help="ID:SECRET of an HMAC key")
    p.add_argument("--bucket", action="append", default=[], help="NAME or NAME:lock")
    p.add_argument("--page-size", type=int, default=1000)
    args = p.parse_args()
    for k in args.key:
        kid, sec = k.split(":", 1)
        gcs_hmac.KEYS[kid] = sec
    for spec in args.bucket:
        name, _, flag = spec.partition(":")
        BUCKETS[name] = {"lock": flag == "lock", "objects": {}}
    PAGE = args.page_size
    simcore.serve(GcsXml, sys.argv)
