#!/usr/bin/env python3
"""EBS direct APIs plus the EC2 calls around them, sharing one set of snapshots.

moto's EBS direct is unfaithful (512-byte blocks, no parent snapshots, no
pagination, cannot read snapshots that EC2 made), so this one server plays
both sides: the EC2 query API subset that protecting an instance needs and
the EBS direct REST API over the same in-memory volumes and snapshots.

Follows the AWS references:
  EBS direct: https://docs.aws.amazon.com/ebs/latest/APIReference/
    API_ListSnapshotBlocks.html, API_ListChangedBlocks.html,
    API_GetSnapshotBlock.html, API_StartSnapshot.html,
    API_PutSnapshotBlock.html, API_CompleteSnapshot.html, CommonErrors.html
    (errors: x-amzn-ErrorType header + {"Message", "Reason"} body;
    ValidationException 400, ResourceNotFoundException 404,
    AccessDeniedException 403, ThrottlingException 429)
  EC2: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/
    API_DescribeInstances.html, API_DescribeVolumes.html,
    API_DescribeSnapshots.html, API_CreateSnapshot.html,
    API_CreateSnapshots.html, API_DeleteSnapshot.html, API_CopySnapshot.html,
    API_CreateTags.html, API_DeleteTags.html, API_CreateVolume.html, API_AttachVolume.html,
    errors-overview.html (<Response><Errors><Error>; *.NotFound 400,
    UnauthorizedOperation 403, RequestLimitExceeded 503), Query-Requests
    pagination (MaxResults 5..1000, NextToken).

Every request must carry a SigV4 signature that botocore recomputes for a
key given with --key ID:SECRET (service "ec2" for the query API, "ebs" for
EBS direct). --limited-key ID:SECRET may only Describe* (everything else is
UnauthorizedOperation / AccessDeniedException). --latency-ms N delays every
block request's answer; --bench (bench/ebs.sh only) verifies 1 block request
in 16 (see bench_skips).

Blocks are 512 KiB. Block data lives in memory; a volume's unwritten blocks
are zeros, except volumes made from an encrypted snapshot, whose blocks
absent from the snapshot read as random bytes (coldsnap #395).

Control (no signature): POST /_sim/seed {"instances": [{"id", "region",
"tags", "volumes": [{"id", "size_gib", "tags", "blocks": {"IDX": SEED}}]}],
"volumes": [...unattached...]}; POST /_sim/write {"volume", "blocks":
{"IDX": SEED or null}}; POST /_sim/config {"pending_polls": N,
"unreadable_polls": N, "max_block_inflight": N, "corrupt_once": bool,
"latency_ms": N (every GetSnapshotBlock/PutSnapshotBlock answer waits that
long, each on its own thread, no lock held; also --latency-ms)};
GET /_sim/state (snapshots, volumes, calls); GET /_sim/digest?volume=ID
(SHA-256 over the volume's effective non-zero blocks, for bit-exact
comparisons). Plus simcore's /_sim/faults, /_sim/log, /_sim/reset.

Compute (see the section "EC2 instances and images"): RunInstances (ClientToken
idempotency, pending -> running, test jobs that stop themselves),
TerminateInstances, RegisterImage (snapshots must exist and be completed;
Architecture one of EC2's ArchitectureValues), DescribeImages (pending ->
available), DescribeInstanceTypes (a few types and their
processorInfo/supportedArchitectures; InvalidInstanceType for others);
RunInstances refuses an instance type unknown to it or of another
architecture than the image's (InvalidParameterValue, as EC2 words it);
DescribeInstances reports their states and filters on instance-state-name.
References: API_RunInstances.html, API_TerminateInstances.html,
API_RegisterImage.html, API_DescribeImages.html,
API_DescribeInstanceTypes.html, API_ProcessorInfo.html,
Run_Instance_Idempotency.html. GET /_sim/state also lists instances and images.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import botocore.auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

import simcore  # noqa: E402

BLOCK = 512 * 1024
NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
OWNER = "123456789012"
LOCK = threading.RLock()
BENCH = {"on": False, "n": 0, "sums": {}}  # --bench, see bench_skips
BENCH_SAMPLE = 16
KEYS = {}      # key id -> secret
LIMITED = set()
TOKEN_KEY = os.urandom(16)
CONFIG = {"pending_polls": 0, "unreadable_polls": 0, "max_block_inflight": 0,
          "corrupt_once": False, "latency_ms": 0}
INSTANCES = {}  # id -> {"id", "region", "tags": {}, "volumes": [ids]}
VOLUMES = {}    # id -> {"id", "region", "size", "tags", "instance", "blocks": {idx: bytes},
                #        "garbage": seed or None, "state"}
SNAPSHOTS = {}  # id -> {"id", "volume", "region", "size", "tags", "blocks", "state",
                #        "polls", "unreadable", "encrypted", "direct", "puts", "changed_count"}
CALLS = {"get_blocks": {}, "put_blocks": {}, "actions": [], "throttled": 0,
         "max_block_inflight_seen": 0}
INFLIGHT = [0]
SEQ = [0]


def new_id(prefix):
    with LOCK:
        SEQ[0] += 1
        return "%s-%017x" % (prefix, 0xabc0000 + SEQ[0])


def block_data(seed):
    return random.Random(seed).randbytes(BLOCK)


def frozen_clock(when):
    if hasattr(botocore.auth, "get_current_datetime"):
        return mock.patch("botocore.auth.get_current_datetime", return_value=when)

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    return mock.patch("botocore.auth.datetime.datetime", Frozen)


def check_signature(h, body, service):
    """None when the request is signed right, else (code, message)."""
    auth = h.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "MissingAuthenticationToken", "Request is missing Authentication Token"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, _, region, svc, _ = fields["Credential"].split("/")
    if key_id not in KEYS:
        return "AuthFailure", "AWS was not able to validate the provided access credentials"
    if svc != service:
        return "SignatureDoesNotMatch", "credential scope names service %s, not %s" % (svc, service)
    req = AWSRequest(method=h.command, url="http://%s%s" % (h.headers["Host"], h.path), data=body)
    for name in fields["SignedHeaders"].split(";"):
        for value in h.headers.get_all(name) or []:
            req.headers.add_header(name, value)
    when = datetime.datetime.strptime(h.headers.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ")
    signer = botocore.auth.SigV4Auth(Credentials(key_id, KEYS[key_id]), service, region)
    with frozen_clock(when):
        signer.add_auth(req)
    if req.headers["Authorization"].rsplit("Signature=", 1)[1] != fields["Signature"]:
        return "SignatureDoesNotMatch", ("The request signature we calculated does not match "
                                         "the signature you provided")
    h.key_id, h.region = key_id, region
    return None


def page_token(i):
    return base64.urlsafe_b64encode(json.dumps({"i": i}).encode()).decode()


def from_token(t):
    try:
        return int(json.loads(base64.urlsafe_b64decode(t.encode()))["i"])
    except Exception:
        return None


def block_token(snap, idx):
    mac = hmac.new(TOKEN_KEY, ("%s:%d" % (snap, idx)).encode(), hashlib.sha256).digest()
    return base64.b64encode(mac[:24]).decode()


def isotime(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


# ---------------------------------------------------------------- EC2 ----

def tag_xml(tags):
    return "<tagSet>%s</tagSet>" % "".join(
        "<item><key>%s</key><value>%s</value></item>" % (xe(k), xe(v)) for k, v in tags.items())


def xe(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Ec2Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def indexed(form, prefix):
    """Values of Prefix.1, Prefix.2, ... in order."""
    out, i = [], 1
    while "%s.%d" % (prefix, i) in form:
        out.append(form["%s.%d" % (prefix, i)])
        i += 1
    return out


def filters(form):
    out, i = [], 1
    while "Filter.%d.Name" % i in form:
        out.append((form["Filter.%d.Name" % i], indexed(form, "Filter.%d.Value" % i)))
        i += 1
    return out


def tag_specs(form, rtype):
    tags, i = {}, 1
    while "TagSpecification.%d.ResourceType" % i in form:
        if form["TagSpecification.%d.ResourceType" % i] == rtype:
            j = 1
            while "TagSpecification.%d.Tag.%d.Key" % (i, j) in form:
                tags[form["TagSpecification.%d.Tag.%d.Key" % (i, j)]] = \
                    form.get("TagSpecification.%d.Tag.%d.Value" % (i, j), "")
                j += 1
        i += 1
    return tags


def match_filters(obj_tags, flt, extra):
    for name, values in flt:
        if name.startswith("tag:"):
            if obj_tags.get(name[4:]) not in values:
                return False
        elif name == "tag-key":
            if not any(v in obj_tags for v in values):
                return False
        elif name in extra:
            if extra[name] not in values and not (
                    isinstance(extra[name], list) and set(extra[name]) & set(values)):
                return False
        else:
            raise Ec2Error(400, "InvalidParameterValue", "The filter '%s' is invalid" % name)
    return True


def paginate(form, items, allow_max=True):
    """(page, next token) per EC2's MaxResults/NextToken rules."""
    start = 0
    if form.get("NextToken"):
        start = from_token(form["NextToken"])
        if start is None:
            raise Ec2Error(400, "InvalidParameterValue", "The token is invalid")
    if "MaxResults" not in form:
        return items[start:], None
    if not allow_max:
        raise Ec2Error(400, "InvalidParameterCombination",
                       "The parameter instancesSet cannot be used with the parameter maxResults")
    n = int(form["MaxResults"])
    if n < 5 or n > 1000:
        raise Ec2Error(400, "InvalidParameterValue", "MaxResults must be 5..1000")
    nxt = page_token(start + n) if start + n < len(items) else None
    return items[start:start + n], nxt


def not_found(kind, ids):
    raise Ec2Error(400, "Invalid%s.NotFound" % kind,
                   "The %s ID '%s' does not exist" % (kind.lower(), ", ".join(ids)))


def snap_state(s, poll):
    """A created snapshot stays pending for CONFIG['pending_polls'] describes."""
    if s["state"] == "pending" and poll and s["polls"] > 0:
        s["polls"] -= 1
        return "pending"
    if s["state"] == "pending" and s["polls"] <= 0 and not s["direct"]:
        s["state"] = "completed"
    return s["state"]


def snapshot_xml(s, state_tag="status"):
    return ("<item><snapshotId>%s</snapshotId><volumeId>%s</volumeId><%s>%s</%s>"
            "<startTime>%s</startTime><progress>%s</progress><ownerId>%s</ownerId>"
            "<volumeSize>%d</volumeSize><description>%s</description>"
            "<encrypted>%s</encrypted>%s</item>" % (
                s["id"], s["volume"], state_tag, s["state"], state_tag, isotime(s["time"]),
                "100%" if s["state"] == "completed" else "42%", OWNER, s["size"],
                xe(s.get("description", "")), "true" if s["encrypted"] else "false",
                tag_xml(s["tags"])))


def make_snapshot(vol, region, tags, description):
    sid = new_id("snap")
    s = {"id": sid, "volume": vol["id"], "region": region, "size": vol["size"],
         "tags": dict(tags), "blocks": dict(vol["blocks"]), "state": "pending",
         "polls": CONFIG["pending_polls"], "unreadable": CONFIG["unreadable_polls"],
         "encrypted": False, "direct": False, "time": time.time(), "description": description,
         "garbage": vol.get("garbage")}
    SNAPSHOTS[sid] = s
    return s


def volume_xml(v):
    att = ""
    if v.get("instance"):
        att = ("<item><volumeId>%s</volumeId><instanceId>%s</instanceId><device>%s</device>"
               "<status>attached</status></item>" % (v["id"], v["instance"], v.get("device", "/dev/xvda")))
    return ("<item><volumeId>%s</volumeId><size>%d</size><snapshotId>%s</snapshotId>"
            "<availabilityZone>%sa</availabilityZone><status>%s</status>"
            "<createTime>%s</createTime><attachmentSet>%s</attachmentSet>%s"
            "<volumeType>gp3</volumeType></item>" % (
                v["id"], v["size"], v.get("snapshot", ""), v["region"],
                "in-use" if v.get("instance") else "available", isotime(time.time()), att,
                tag_xml(v["tags"])))


def tag_target(form):
    """The snapshot, volume, instance or image ResourceId.1 names (CreateTags, DeleteTags)."""
    rid = form.get("ResourceId.1", "")
    target = SNAPSHOTS.get(rid) or VOLUMES.get(rid) or INSTANCES.get(rid) or IMAGES.get(rid)
    if not target:
        raise Ec2Error(400, "InvalidID", "The ID '%s' is not valid" % rid)
    return target


def ec2_action(h, action, form):
    region = h.region
    CALLS["actions"].append(action)
    if h.key_id in LIMITED and not action.startswith("Describe"):
        raise Ec2Error(403, "UnauthorizedOperation",
                       "You are not authorized to perform this operation. User: "
                       "arn:aws:iam::%s:user/limited is not authorized to perform: ec2:%s"
                       % (OWNER, action))
    if action == "DescribeInstances":
        ids = indexed(form, "InstanceId")
        missing = [i for i in ids if i not in INSTANCES or INSTANCES[i]["region"] != region]
        if missing:
            not_found("InstanceID", missing)
        flt = filters(form)
        for i in INSTANCES.values():
            if i["region"] == region and (not ids or i["id"] in ids):
                instance_tick(i)
        items = [i for i in sorted(INSTANCES.values(), key=lambda x: x["id"])
                 if i["region"] == region and (not ids or i["id"] in ids)
                 and match_filters(i["tags"], flt, {"instance-id": i["id"],
                                                    "instance-state-name": i.get("state",
                                                                                 "running")})]
        page, nxt = paginate(form, items, allow_max=not ids)
        body = "<reservationSet>%s</reservationSet>" % "".join(
            "<item><reservationId>r-%s</reservationId><ownerId>%s</ownerId><instancesSet>"
            "<item><instanceId>%s</instanceId>%s"
            "<placement><availabilityZone>%sa</availabilityZone></placement>"
            "<blockDeviceMapping>%s</blockDeviceMapping>%s</item></instancesSet></item>" % (
                i["id"][2:], OWNER, i["id"], instance_detail_xml(i), i["region"],
                "".join("<item><deviceName>/dev/xvd%s</deviceName><ebs><volumeId>%s</volumeId>"
                        "</ebs></item>" % (chr(97 + n), v) for n, v in enumerate(i["volumes"])),
                tag_xml(i["tags"])) for i in page)
        return body + ("<nextToken>%s</nextToken>" % nxt if nxt else "")
    if action == "DescribeVolumes":
        ids = indexed(form, "VolumeId")
        missing = [i for i in ids if i not in VOLUMES]
        if missing:
            not_found("Volume", missing)
        flt = filters(form)
        items = [v for v in sorted(VOLUMES.values(), key=lambda x: x["id"])
                 if v["region"] == region and (not ids or v["id"] in ids)
                 and match_filters(v["tags"], flt,
                                   {"attachment.instance-id": v.get("instance") or "",
                                    "volume-id": v["id"]})]
        page, nxt = paginate(form, items, allow_max=not ids)
        return "<volumeSet>%s</volumeSet>%s" % ("".join(volume_xml(v) for v in page),
                                               "<nextToken>%s</nextToken>" % nxt if nxt else "")
    if action == "DescribeSnapshots":
        ids = indexed(form, "SnapshotId")
        missing = [i for i in ids if i not in SNAPSHOTS or SNAPSHOTS[i]["region"] != region]
        if missing:
            not_found("Snapshot", missing)
        flt = filters(form)
        items = [s for s in sorted(SNAPSHOTS.values(), key=lambda x: x["id"])
                 if s["region"] == region and (not ids or s["id"] in ids)
                 and match_filters(s["tags"], flt, {"volume-id": s["volume"]})]
        page, nxt = paginate(form, items, allow_max=not ids)
        for s in page:
            snap_state(s, True)
        return "<snapshotSet>%s</snapshotSet>%s" % (
            "".join(snapshot_xml(s) for s in page),
            "<nextToken>%s</nextToken>" % nxt if nxt else "")
    if action == "CreateSnapshot":
        vid = form.get("VolumeId", "")
        if vid not in VOLUMES:
            not_found("Volume", [vid])
        s = make_snapshot(VOLUMES[vid], region, tag_specs(form, "snapshot"),
                          form.get("Description", ""))
        return snapshot_xml(s)[len("<item>"):-len("</item>")]
    if action == "CreateSnapshots":
        iid = form.get("InstanceSpecification.InstanceId", "")
        if iid not in INSTANCES:
            not_found("InstanceID", [iid])
        tags = tag_specs(form, "snapshot")
        made = []
        for vid in INSTANCES[iid]["volumes"]:
            t = dict(VOLUMES[vid]["tags"]) if form.get("CopyTagsFromSource") == "volume" else {}
            t.update(tags)
            made.append(make_snapshot(VOLUMES[vid], region, t, form.get("Description", "")))
        # The reference's CreateSnapshots answer names the field "state" (moto omits it).
        return "<snapshotSet>%s</snapshotSet>" % "".join(snapshot_xml(s, "state") for s in made)
    if action == "DeleteSnapshot":
        sid = form.get("SnapshotId", "")
        if sid not in SNAPSHOTS:
            not_found("Snapshot", [sid])
        del SNAPSHOTS[sid]
        return "<return>true</return>"
    if action == "CopySnapshot":
        src = form.get("SourceSnapshotId", "")
        if src not in SNAPSHOTS or SNAPSHOTS[src]["region"] != form.get("SourceRegion"):
            not_found("Snapshot", [src])
        s = dict(SNAPSHOTS[src])
        s.update({"id": new_id("snap"), "region": region, "state": "pending",
                  "polls": CONFIG["pending_polls"], "tags": dict(s["tags"]),
                  "description": form.get("Description", "")})
        SNAPSHOTS[s["id"]] = s
        return "<snapshotId>%s</snapshotId>" % s["id"]
    if action == "CreateTags":
        target = tag_target(form)
        j = 1
        while "Tag.%d.Key" % j in form:
            target["tags"][form["Tag.%d.Key" % j]] = form.get("Tag.%d.Value" % j, "")
            j += 1
        return "<return>true</return>"
    if action == "DeleteTags":
        # Tag.N.Key alone deletes whatever the value; with Tag.N.Value only on a match.
        target = tag_target(form)
        j = 1
        while "Tag.%d.Key" % j in form:
            key = form["Tag.%d.Key" % j]
            if key.startswith("aws:"):
                raise Ec2Error(400, "InvalidParameterValue",
                               "Tag keys starting with 'aws:' are reserved for internal use")
            want = form.get("Tag.%d.Value" % j)
            if key in target["tags"] and (want is None or target["tags"][key] == want):
                del target["tags"][key]
            j += 1
        return "<return>true</return>"
    if action == "CreateVolume":
        sid = form.get("SnapshotId", "")
        if sid not in SNAPSHOTS:
            not_found("Snapshot", [sid])
        s = SNAPSHOTS[sid]
        if snap_state(s, False) != "completed":
            raise Ec2Error(400, "IncorrectState", "Snapshot '%s' is not completed" % sid)
        size = int(form.get("Size", s["size"]))
        v = {"id": new_id("vol"), "region": region, "size": size,
             "tags": tag_specs(form, "volume"), "instance": None, "blocks": dict(s["blocks"]),
             "snapshot": sid,
             "garbage": random.randrange(1 << 30) if s["encrypted"] else s.get("garbage")}
        VOLUMES[v["id"]] = v
        return "<volumeId>%s</volumeId><size>%d</size><status>creating</status>" % (v["id"], size)
    if action == "AttachVolume":
        vid, iid = form.get("VolumeId", ""), form.get("InstanceId", "")
        if vid not in VOLUMES:
            not_found("Volume", [vid])
        if iid not in INSTANCES:
            not_found("InstanceID", [iid])
        VOLUMES[vid]["instance"] = iid
        VOLUMES[vid]["device"] = form.get("Device", "")
        INSTANCES[iid]["volumes"].append(vid)
        return "<volumeId>%s</volumeId><instanceId>%s</instanceId><status>attaching</status>" % (
            vid, iid)
    if action in COMPUTE_ACTIONS:
        return COMPUTE_ACTIONS[action](h, region, form)
    raise Ec2Error(400, "InvalidAction", "The action %s is not valid for this web service" % action)


def handle_ec2(h, body):
    form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
    action = form.get("Action", "")
    bad = check_signature(h, body, "ec2")
    try:
        if bad:
            raise Ec2Error(401 if bad[0] == "AuthFailure" else 403, bad[0], bad[1])
        with LOCK:
            inner = ec2_action(h, action, form)
    except Ec2Error as e:
        h.reply(e.status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                "<Code>%s</Code><Message>%s</Message></Error></Errors>"
                "<RequestID>ec2-%s</RequestID></Response>" % (e.code, xe(e.message), new_id("r")),
                "text/xml;charset=UTF-8")
        return
    h.reply(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><%sResponse xmlns=\"%s\">"
            "<requestId>%s</requestId>%s</%sResponse>" % (action, NS, new_id("req"), inner, action),
            "text/xml;charset=UTF-8")


# ------------------------------------ EC2 instances and images (compute) ----
# Workers (RunInstances with a client token, a job in the user data) and the
# restore of snapshots to an AMI (RegisterImage) and an instance booted from it.
#
# A test job's outcome is read from its user data: a job whose script holds
# "exit N" stops itself CONFIG["job_polls"] (default 2) DescribeInstances after
# it was seen running; with N != 0 it tags itself cloudprotect:result=failed
# first (what a real job does through its instance profile). A script without
# "exit N" runs until terminated. New instances stay pending for
# CONFIG["instance_pending_polls"] (default 1) describes, new images for
# CONFIG["image_pending_polls"] (default 1). CONFIG["fail_after_accept"] =
# {"RunInstances": N} answers the next N RunInstances calls with a 503 *after*
# launching, as when an answer is lost on the way back.

PUBLIC_IMAGES = ("ami-0sim0000000000001",)  # boots anything: the workers' image
# What DescribeInstanceTypes knows: type -> (supported architectures, vCPUs, MiB).
INSTANCE_TYPES = {
    "t2.micro": (["i386", "x86_64"], 1, 1024),
    "t3.nano": (["x86_64"], 2, 512),
    "t3.micro": (["x86_64"], 2, 1024),
    "m5.large": (["x86_64"], 2, 8192),
    "t4g.micro": (["arm64"], 2, 1024),
    "m7g.large": (["arm64"], 2, 8192),
    "mac1.metal": (["x86_64_mac"], 12, 32768),
    "mac2.metal": (["arm64_mac"], 8, 16384),
}
# RegisterImage's ArchitectureValues.
ARCHITECTURES = ("i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac")
IMAGES = {}  # id -> {"id", "region", "name", "state", "polls", "mappings": [(dev, snap, size)],
             #        "root", "arch", "virt", "ena", "tags", "time"}


def instance_tick(i):
    """One DescribeInstances' worth of time passing for a launched instance."""
    if "launched" not in i:
        return
    i["ticks"] += 1
    if i["state"] == "pending" and i["ticks"] > CONFIG.get("instance_pending_polls", 1):
        i["state"], i["ticks"] = "running", 0
    elif i["state"] == "running" and i["exit"] is not None \
            and i["ticks"] > CONFIG.get("job_polls", 2):
        if i["exit"] != 0:
            i["tags"]["cloudprotect:result"] = "failed"
        i["state"] = "stopped" if i["shutdown"] == "stop" else "terminated"
        i["reason"] = "Client.InstanceInitiatedShutdown"


def instance_detail_xml(i):
    """instanceState and the fields of a launched instance (seeded ones just run)."""
    state = i.get("state", "running")
    codes = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
             "stopping": 64, "stopped": 80}
    out = "<instanceState><code>%d</code><name>%s</name></instanceState>" % (codes[state], state)
    if "launched" in i:
        out += ("<imageId>%s</imageId><instanceType>%s</instanceType><launchTime>%s</launchTime>"
                "<privateIpAddress>%s</privateIpAddress>" % (
                    i["image"], i["type"], isotime(i["launched"]), i["ip"]))
        if i.get("subnet"):
            out += "<subnetId>%s</subnetId>" % xe(i["subnet"])
        if i.get("reason"):
            out += "<stateReason><code>%s</code><message>%s</message></stateReason>" % (
                i["reason"], i["reason"])
    return out


def instance_state_xml(i, previous):
    codes = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
             "stopping": 64, "stopped": 80}
    return ("<item><instanceId>%s</instanceId><currentState><code>%d</code><name>%s</name>"
            "</currentState><previousState><code>%d</code><name>%s</name></previousState>"
            "</item>" % (i["id"], codes[i.get("state", "running")], i.get("state", "running"),
                         codes[previous], previous))


def run_instances(h, region, form):
    image, itype = form.get("ImageId", ""), form.get("InstanceType", "")
    if not image or not itype:
        raise Ec2Error(400, "MissingParameter", "ImageId and InstanceType are required")
    if form.get("MinCount") != "1" or form.get("MaxCount") != "1":
        raise Ec2Error(400, "InvalidParameterValue", "this simulator launches one instance")
    behavior = form.get("InstanceInitiatedShutdownBehavior", "stop")
    if behavior not in ("stop", "terminate"):
        raise Ec2Error(400, "InvalidParameterValue",
                       "InstanceInitiatedShutdownBehavior must be stop or terminate")
    token = form.get("ClientToken")
    if token and len(token) > 64:
        raise Ec2Error(400, "InvalidParameterValue", "ClientToken is longer than 64 characters")
    mine = [i for i in INSTANCES.values() if token and i.get("token") == token]
    if mine:
        i = mine[0]
        if i["image"] != image or i["type"] != itype:
            raise Ec2Error(400, "IdempotentParameterMismatch",
                           "The client token %s was used with other parameters" % token)
    else:
        img = IMAGES.get(image)
        if image not in PUBLIC_IMAGES and (not img or img["region"] != region):
            raise Ec2Error(400, "InvalidAMIID.NotFound", "The image id '[%s]' does not exist"
                           % image)
        if itype not in INSTANCE_TYPES:
            raise Ec2Error(400, "InvalidParameterValue",
                           "Invalid value '%s' for InstanceType." % itype)
        type_archs = INSTANCE_TYPES[itype][0]
        if img and img["arch"] not in type_archs:
            raise Ec2Error(400, "InvalidParameterValue",
                           "The architecture '%s' of the specified instance type does not match "
                           "the architecture '%s' of the specified AMI. Specify an instance type "
                           "and an AMI that have matching architectures, and try again. You can "
                           "use 'describe-instance-types' or 'describe-images' to discover the "
                           "architecture of the instance type or AMI." % (
                               type_archs[-1], img["arch"]))
        if img and img["state"] != "available":
            raise Ec2Error(400, "IncorrectInstanceState", "The image '%s' is not available"
                           % image)
        ud = form.get("UserData")
        try:
            script = base64.b64decode(ud, validate=True).decode() if ud else ""
        except Exception:
            raise Ec2Error(400, "InvalidParameterValue", "Invalid BASE64 encoding of user data")
        m = re.search(r"\bexit (\d+)", script)
        iid = new_id("i")
        i = {"id": iid, "region": region, "tags": tag_specs(form, "instance"), "volumes": [],
             "state": "pending", "ticks": 0, "image": image, "type": itype,
             "subnet": form.get("SubnetId"), "user_data": script,
             "profile": form.get("IamInstanceProfile.Arn") or form.get("IamInstanceProfile.Name"),
             "shutdown": behavior, "token": token, "launched": time.time(),
             "ip": "10.0.%d.%d" % (SEQ[0] // 250 % 250, SEQ[0] % 250 + 2),
             "exit": int(m.group(1)) if m else None, "reason": None}
        INSTANCES[iid] = i
        for dev, snap, size in (img["mappings"] if img else []):
            s = SNAPSHOTS.get(snap, {"blocks": {}, "garbage": None})
            vid = new_id("vol")
            VOLUMES[vid] = {"id": vid, "region": region, "size": size, "tags": {},
                            "instance": iid, "device": dev, "blocks": dict(s["blocks"]),
                            "snapshot": snap, "garbage": s.get("garbage")}
            i["volumes"].append(vid)
        CALLS.setdefault("launched", []).append(iid)
    lost = CONFIG.get("fail_after_accept", {})
    if lost.get("RunInstances", 0) > 0:
        lost["RunInstances"] -= 1
        raise Ec2Error(503, "Unavailable", "The service is unavailable. Please try again shortly.")
    return ("<reservationId>r-%s</reservationId><ownerId>%s</ownerId><instancesSet><item>"
            "<instanceId>%s</instanceId>%s</item></instancesSet>" % (
                i["id"][2:], OWNER, i["id"], instance_detail_xml(i)))


def terminate_instances(h, region, form):
    ids = indexed(form, "InstanceId")
    missing = [i for i in ids if i not in INSTANCES or INSTANCES[i]["region"] != region]
    if missing:
        not_found("InstanceID", missing)
    out = []
    for iid in ids:
        i = INSTANCES[iid]
        previous = i.get("state", "running")
        i["state"] = "terminated"
        i.setdefault("ticks", 0)
        i.setdefault("exit", None)
        i["terminated_by"] = "TerminateInstances"
        for vid in i["volumes"]:
            VOLUMES.get(vid, {})["instance"] = None
        out.append(instance_state_xml(i, previous))
    return "<instancesSet>%s</instancesSet>" % "".join(out)


def register_image(h, region, form):
    name = form.get("Name", "")
    if not name or len(name) > 128:
        raise Ec2Error(400, "InvalidAMIName.Malformed", "AMI names must be 1..128 characters")
    if any(m["name"] == name and m["region"] == region for m in IMAGES.values()):
        raise Ec2Error(400, "InvalidAMIName.Duplicate", "AMI name %s is already in use" % name)
    arch = form.get("Architecture", "i386")
    if arch not in ARCHITECTURES:
        raise Ec2Error(400, "InvalidParameterValue",
                       "Value (%s) for parameter architecture is invalid. Valid values: %s"
                       % (arch, ", ".join(ARCHITECTURES)))
    virt = form.get("VirtualizationType", "paravirtual")
    if virt not in ("hvm", "paravirtual"):
        raise Ec2Error(400, "InvalidParameterValue", "Invalid VirtualizationType %s" % virt)
    mappings, n = [], 1
    while "BlockDeviceMapping.%d.DeviceName" % n in form:
        dev = form["BlockDeviceMapping.%d.DeviceName" % n]
        snap = form.get("BlockDeviceMapping.%d.Ebs.SnapshotId" % n)
        if not snap:
            raise Ec2Error(400, "InvalidBlockDeviceMapping", "%s has no snapshot" % dev)
        s = SNAPSHOTS.get(snap)
        if not s or s["region"] != region:
            not_found("Snapshot", [snap])
        if snap_state(s, False) != "completed":
            raise Ec2Error(400, "IncorrectState", "Snapshot '%s' is not completed" % snap)
        if any(d == dev for d, _, _ in mappings):
            raise Ec2Error(400, "InvalidBlockDeviceMapping", "device %s given twice" % dev)
        mappings.append((dev, snap, s["size"]))
        n += 1
    root = form.get("RootDeviceName", "")
    if not mappings or root not in [d for d, _, _ in mappings]:
        raise Ec2Error(400, "InvalidBlockDeviceMapping",
                       "The root device name %s has no block device mapping" % root)
    aid = new_id("ami")
    IMAGES[aid] = {"id": aid, "region": region, "name": name, "state": "pending",
                   "polls": CONFIG.get("image_pending_polls", 1), "mappings": mappings,
                   "root": root, "arch": arch, "virt": virt,
                   "ena": form.get("EnaSupport") == "true", "tags": tag_specs(form, "image"),
                   "description": form.get("Description", ""), "time": time.time()}
    return "<imageId>%s</imageId>" % aid


def image_xml(m):
    return ("<item><imageId>%s</imageId><name>%s</name><description>%s</description>"
            "<imageState>%s</imageState><imageOwnerId>%s</imageOwnerId>"
            "<creationDate>%s</creationDate><architecture>%s</architecture>"
            "<virtualizationType>%s</virtualizationType><enaSupport>%s</enaSupport>"
            "<rootDeviceType>ebs</rootDeviceType><rootDeviceName>%s</rootDeviceName>"
            "<blockDeviceMapping>%s</blockDeviceMapping>%s</item>" % (
                m["id"], xe(m["name"]), xe(m["description"]), m["state"], OWNER,
                isotime(m["time"]), m["arch"], m["virt"], "true" if m["ena"] else "false",
                m["root"], "".join(
                    "<item><deviceName>%s</deviceName><ebs><snapshotId>%s</snapshotId>"
                    "<volumeSize>%d</volumeSize><deleteOnTermination>true</deleteOnTermination>"
                    "<volumeType>gp3</volumeType></ebs></item>" % (d, s, size)
                    for d, s, size in m["mappings"]), tag_xml(m["tags"])))


def describe_images(h, region, form):
    ids = indexed(form, "ImageId")
    missing = [i for i in ids if i not in IMAGES or IMAGES[i]["region"] != region]
    if missing:
        raise Ec2Error(400, "InvalidAMIID.NotFound",
                       "The image id '[%s]' does not exist" % ", ".join(missing))
    out = []
    for m in sorted(IMAGES.values(), key=lambda x: x["id"]):
        if m["region"] != region or (ids and m["id"] not in ids):
            continue
        if m["state"] == "pending":
            m["polls"] -= 1
            if m["polls"] < 0:
                m["state"] = "available"
        out.append(image_xml(m))
    return "<imagesSet>%s</imagesSet>" % "".join(out)


def instance_type_xml(name):
    archs, vcpus, mib = INSTANCE_TYPES[name]
    return ("<item><instanceType>%s</instanceType><currentGeneration>true</currentGeneration>"
            "<processorInfo><supportedArchitectures>%s</supportedArchitectures>"
            "<manufacturer>%s</manufacturer></processorInfo>"
            "<vCpuInfo><defaultVCpus>%d</defaultVCpus></vCpuInfo>"
            "<memoryInfo><sizeInMiB>%d</sizeInMiB></memoryInfo></item>" % (
                name, "".join("<item>%s</item>" % a for a in archs),
                "AWS" if archs[0].startswith("arm64") else "Intel", vcpus, mib))


def describe_instance_types(h, region, form):
    names = indexed(form, "InstanceType")
    missing = [n for n in names if n not in INSTANCE_TYPES]
    if missing:
        raise Ec2Error(400, "InvalidInstanceType",
                       "The following supplied instance types do not exist: [%s]"
                       % ", ".join(missing))
    flt = filters(form)
    chosen = [n for n in sorted(INSTANCE_TYPES) if (not names or n in names) and match_filters(
        {}, flt, {"instance-type": n,
                  "processor-info.supported-architecture": INSTANCE_TYPES[n][0]})]
    page, nxt = paginate(form, chosen)
    return "<instanceTypeSet>%s</instanceTypeSet>%s" % (
        "".join(instance_type_xml(n) for n in page),
        "<nextToken>%s</nextToken>" % nxt if nxt else "")


COMPUTE_ACTIONS = {"RunInstances": run_instances, "TerminateInstances": terminate_instances,
                   "RegisterImage": register_image, "DescribeImages": describe_images,
                   "DescribeInstanceTypes": describe_instance_types}


# ---------------------------------------------------------- EBS direct ----

class EbsError(Exception):
    def __init__(self, status, etype, message, reason=None):
        super().__init__(message)
        self.status, self.etype, self.message, self.reason = status, etype, message, reason


def ebs_snapshot(sid, readable=True):
    s = SNAPSHOTS.get(sid)
    if not s:
        raise EbsError(404, "ResourceNotFoundException",
                       "The snapshot '%s' does not exist." % sid, "SNAPSHOT_NOT_FOUND")
    if readable:
        if snap_state(s, False) != "completed":
            raise EbsError(400, "ValidationException",
                           "The snapshot '%s' is not in completed state." % sid,
                           "INVALID_SNAPSHOT_ID")
        # coldsnap #141: completed in EC2, still refused by EBS direct for a while.
        if s["unreadable"] > 0:
            s["unreadable"] -= 1
            raise EbsError(404, "ResourceNotFoundException",
                           "The snapshot '%s' does not exist." % sid, "SNAPSHOT_NOT_FOUND")
    return s


def int_param(q, name, default, lo, hi):
    if name not in q:
        return default
    try:
        v = int(q[name][0])
    except ValueError:
        v = lo - 1
    if v < lo or v > hi:
        raise EbsError(400, "ValidationException", "%s must be %d..%d" % (name, lo, hi),
                       "INVALID_PARAMETER_VALUE")
    return v


def list_page(q, indices):
    """EBS pagination: pageToken (ours) or startingBlockIndex, then maxResults."""
    maxr = int_param(q, "maxResults", 10000, 100, 10000)
    start = int_param(q, "startingBlockIndex", 0, 0, 1 << 40)
    if "pageToken" in q:
        pos = from_token(q["pageToken"][0])
        if pos is None:
            raise EbsError(400, "ValidationException", "The pagination token is invalid.",
                           "INVALID_PAGE_TOKEN")
    else:
        pos = next((n for n, i in enumerate(indices) if i >= start), len(indices))
    page = indices[pos:pos + maxr]
    nxt = page_token(pos + maxr) if pos + maxr < len(indices) else None
    return page, nxt


def bench_skips(h, url):
    """--bench (bench/ebs.sh): this simulator is one Python process, and at hundreds of
    block requests a second its own CPU would be what a benchmark measures. So in bench
    mode only one block request in BENCH_SAMPLE has its signature and PUT checksum
    verified; the others are taken at their word (the benchmark compares the data end
    to end instead). Every other request is always verified."""
    parts = url.path.strip("/").split("/")
    if not BENCH["on"] or len(parts) != 4 or parts[2] != "blocks":
        return False
    with LOCK:
        BENCH["n"] += 1
        if BENCH["n"] % BENCH_SAMPLE == 0:
            return False
    auth = h.headers.get("Authorization", "")
    cred = auth.split("Credential=", 1)[1].split(",")[0].split("/") if "Credential=" in auth else []
    if len(cred) != 5 or cred[0] not in KEYS:
        return False  # checked, so refused as usual
    h.key_id, h.region = cred[0], cred[2]
    return True


def block_checksum(data):
    """Base64 SHA-256 of a block; --bench remembers it per block (blocks are immutable)."""
    if not BENCH["on"]:
        return base64.b64encode(hashlib.sha256(data).digest()).decode()
    with LOCK:
        hit = BENCH["sums"].get(id(data))
    if hit and hit[0] is data:
        return hit[1]
    sumb64 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    with LOCK:
        BENCH["sums"][id(data)] = (data, sumb64)  # data kept, so its id stays its own
    return sumb64


def block_gate(h):
    """Model EBS's per-snapshot request rate as a cap on requests in flight."""
    cap = CONFIG["max_block_inflight"]
    with LOCK:
        INFLIGHT[0] += 1
        CALLS["max_block_inflight_seen"] = max(CALLS["max_block_inflight_seen"], INFLIGHT[0])
        over = cap and INFLIGHT[0] > cap
        if over:
            CALLS["throttled"] += 1
            INFLIGHT[0] -= 1
    if over:
        raise EbsError(429, "ThrottlingException", "Rate exceeded")
    simcore.SIM.enter_busy()  # /_sim/stats: the most block requests in flight since a reset


def ebs_route(h, url, q, body):
    parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
    if h.key_id in LIMITED and not (h.command == "GET" and parts[-1] in ("blocks",
                                                                          "changedblocks")):
        raise EbsError(403, "AccessDeniedException",
                       "User: arn:aws:iam::%s:user/limited is not authorized to perform "
                       "this action" % OWNER, "UNAUTHORIZED_ACCOUNT")
    if h.command == "GET" and len(parts) == 3 and parts[2] == "blocks":
        with LOCK:
            s = ebs_snapshot(parts[1])
            indices = sorted(s["blocks"])
            page, nxt = list_page(q, indices)
            out = {"Blocks": [{"BlockIndex": i, "BlockToken": block_token(s["id"], i)}
                              for i in page],
                   "ExpiryTime": time.time() + 3600, "VolumeSize": s["size"], "BlockSize": BLOCK}
        if nxt:
            out["NextToken"] = nxt
        return h.reply_json(200, out)
    if h.command == "GET" and len(parts) == 3 and parts[2] == "changedblocks":
        with LOCK:
            second = ebs_snapshot(parts[1])
            first_id = q.get("firstSnapshotId", [None])[0]
            first = ebs_snapshot(first_id) if first_id else None
            if first and first["volume"] != second["volume"]:
                raise EbsError(400, "ValidationException",
                               "The snapshots are not from the same lineage.",
                               "UNRELATED_SNAPSHOTS")
            fb = first["blocks"] if first else {}
            sb = second["blocks"]
            indices = sorted(i for i in set(fb) | set(sb) if fb.get(i) is not sb.get(i))
            page, nxt = list_page(q, indices)
            out = {"ChangedBlocks": [], "ExpiryTime": time.time() + 3600,
                   "VolumeSize": second["size"], "BlockSize": BLOCK}
            for i in page:
                e = {"BlockIndex": i}
                if i in fb:
                    e["FirstBlockToken"] = block_token(first["id"], i)
                if i in sb:
                    e["SecondBlockToken"] = block_token(second["id"], i)
                out["ChangedBlocks"].append(e)
        if nxt:
            out["NextToken"] = nxt
        return h.reply_json(200, out)
    if h.command == "GET" and len(parts) == 4 and parts[2] == "blocks":
        block_gate(h)
        try:
            # Long enough for parallel readers to overlap; --latency-ms models distance.
            # Never under LOCK: every block request waits on its own.
            time.sleep(max(0.01, CONFIG["latency_ms"] / 1000.0))
            with LOCK:
                s = ebs_snapshot(parts[1])
                idx = int(parts[3])
                tok = q.get("blockToken", [""])[0]
                if idx not in s["blocks"] or not hmac.compare_digest(tok, block_token(s["id"], idx)):
                    raise EbsError(400, "ValidationException", "The block token is not valid.",
                                   "INVALID_BLOCK_TOKEN")
                data = s["blocks"][idx]
                calls = CALLS["get_blocks"].setdefault(s["id"], [])
                calls.append(idx)
                corrupt = CONFIG["corrupt_once"]
                CONFIG["corrupt_once"] = False
            sent = data if not corrupt else bytes([data[0] ^ 1]) + data[1:]
            return h.reply(200, sent, "application/octet-stream", {
                "x-amz-Checksum": block_checksum(data),
                "x-amz-Checksum-Algorithm": "SHA256", "x-amz-Data-Length": str(len(data))})
        finally:
            simcore.SIM.leave_busy()
            with LOCK:
                INFLIGHT[0] -= 1
    if h.command == "POST" and parts == ["snapshots"]:
        req = json.loads(body or b"{}")
        size = req.get("VolumeSize")
        if not isinstance(size, int) or size < 1 or size > 65536:
            raise EbsError(400, "ValidationException", "VolumeSize must be 1..65536 GiB",
                           "INVALID_VOLUME_SIZE")
        with LOCK:
            token = req.get("ClientToken")
            for s in SNAPSHOTS.values():
                if token and s.get("client_token") == token:
                    return h.reply_json(201, start_answer(s))
            sid = new_id("snap")
            s = {"id": sid, "volume": "vol-ffffffff", "region": h.region, "size": size,
                 "tags": {t["Key"]: t["Value"] for t in req.get("Tags", [])},
                 "blocks": {}, "state": "pending", "polls": 0,
                 "unreadable": 0, "encrypted": bool(req.get("Encrypted")), "direct": True,
                 "time": time.time(), "description": req.get("Description", ""),
                 "client_token": token, "puts": 0, "changed_count": None}
            SNAPSHOTS[sid] = s
        return h.reply_json(201, start_answer(s))
    if h.command == "PUT" and len(parts) == 4 and parts[2] == "blocks":
        block_gate(h)
        try:
            with LOCK:
                s = ebs_snapshot(parts[1], readable=False)
                if not s["direct"] or s["state"] != "pending":
                    raise EbsError(400, "ValidationException",
                                   "The snapshot is not in pending state.", "INVALID_SNAPSHOT_ID")
            idx = int(parts[3])
            if idx >= s["size"] * 1024 * 1024 * 1024 // BLOCK:
                raise EbsError(400, "ValidationException", "BlockIndex is past the volume size.",
                               "INVALID_BLOCK")
            if (h.headers.get("x-amz-Data-Length") != str(BLOCK) or len(body) != BLOCK):
                raise EbsError(400, "ValidationException",
                               "DataLength must be 524288 and match the body.",
                               "INVALID_PARAMETER_VALUE")
            want = (base64.b64encode(hashlib.sha256(body).digest()).decode() if h.checked
                    else h.headers.get("x-amz-Checksum"))  # --bench: trusted, see bench_skips
            if (h.headers.get("x-amz-Checksum-Algorithm") != "SHA256"
                    or h.headers.get("x-amz-Checksum") != want):
                raise EbsError(400, "ValidationException", "The checksum is not valid.",
                               "INVALID_CHECKSUM")
            with LOCK:
                s["blocks"][idx] = bytes(body)
                s["puts"] += 1
                CALLS["put_blocks"].setdefault(s["id"], []).append(idx)
            if CONFIG["latency_ms"]:
                time.sleep(CONFIG["latency_ms"] / 1000.0)
            return h.reply_json(201, {"Checksum": want, "ChecksumAlgorithm": "SHA256"})
        finally:
            simcore.SIM.leave_busy()
            with LOCK:
                INFLIGHT[0] -= 1
    if h.command == "POST" and len(parts) == 3 and parts[1] == "completion":
        with LOCK:
            s = ebs_snapshot(parts[2], readable=False)
            count = h.headers.get("x-amz-ChangedBlocksCount")
            if count is None or not count.isdigit():
                raise EbsError(400, "ValidationException", "ChangedBlocksCount is required.",
                               "INVALID_PARAMETER_VALUE")
            s["changed_count"] = int(count)
            # AWS fails the snapshot when fewer blocks arrived than the count announced.
            s["state"] = "completed" if int(count) == len(s["blocks"]) else "error"
        return h.reply_json(202, {"Status": "pending"})
    raise EbsError(400, "ValidationException", "Unknown operation %s %s" % (h.command, url.path))


def start_answer(s):
    out = {"SnapshotId": s["id"], "OwnerId": OWNER, "Status": "pending",
           "StartTime": s["time"], "VolumeSize": s["size"], "BlockSize": BLOCK,
           "Description": s["description"]}
    if s["encrypted"]:
        out["KmsKeyArn"] = "arn:aws:kms:%s:%s:key/sim-default" % (s["region"], OWNER)
    return out


def volume_digest(vid):
    v = VOLUMES[vid]
    d = hashlib.sha256()
    nblocks = v["size"] * 1024 * 1024 * 1024 // BLOCK
    indices = set(v["blocks"])
    if v.get("garbage") is not None:
        indices = range(nblocks)
    for i in sorted(indices):
        data = v["blocks"].get(i)
        if data is None:
            data = random.Random(v["garbage"] * 1000003 + i).randbytes(BLOCK)
        if data.count(0) != len(data):
            d.update(b"%d:" % i + data)
    return d.hexdigest()


class Sim(simcore.Handler):
    # An answer goes out as two writes (headers, body); with Nagle on, the second waits for
    # the client's delayed ACK of the first: 40 ms on every small answer (PutSnapshotBlock).
    disable_nagle_algorithm = True

    def _control(self, path):
        if path == "/_sim/seed" and self.command == "POST":
            spec = json.loads(self.read_body())
            with LOCK:
                for inst in spec.get("instances", []):
                    INSTANCES[inst["id"]] = {"id": inst["id"], "region": inst["region"],
                                             "tags": inst.get("tags", {}), "volumes": []}
                    for v in inst.get("volumes", []):
                        add_volume(v, inst["region"], inst["id"])
                for v in spec.get("volumes", []):
                    add_volume(v, v["region"], None)
            return self.reply_json(200, {"ok": True})
        if path == "/_sim/write" and self.command == "POST":
            spec = json.loads(self.read_body())
            with LOCK:
                v = VOLUMES[spec["volume"]]
                for k, seed in spec["blocks"].items():
                    if seed is None:
                        v["blocks"].pop(int(k), None)
                    else:
                        v["blocks"][int(k)] = block_data(seed)
            return self.reply_json(200, {"ok": True})
        if path == "/_sim/config" and self.command == "POST":
            with LOCK:
                CONFIG.update(json.loads(self.read_body()))
            return self.reply_json(200, CONFIG)
        if path == "/_sim/state":
            with LOCK:
                return self.reply_json(200, {
                    "snapshots": {k: {"volume": s["volume"], "region": s["region"],
                                      "state": s["state"], "tags": s["tags"],
                                      "blocks": sorted(s["blocks"]), "encrypted": s["encrypted"],
                                      "changed_count": s.get("changed_count"),
                                      "puts": s.get("puts", 0)}
                                  for k, s in SNAPSHOTS.items()},
                    "volumes": {k: {"instance": v["instance"], "size": v["size"],
                                    "tags": v["tags"], "snapshot": v.get("snapshot")}
                                for k, v in VOLUMES.items()},
                    "instances": {k: {f: i.get(f) for f in (
                        "region", "state", "tags", "volumes", "image", "type", "subnet",
                        "profile", "shutdown", "token", "user_data", "terminated_by")}
                        for k, i in INSTANCES.items()},
                    "images": {k: {"name": m["name"], "state": m["state"], "region": m["region"],
                                   "mappings": m["mappings"], "arch": m["arch"],
                                   "virt": m["virt"], "ena": m["ena"], "root": m["root"],
                                   "tags": m["tags"]}
                               for k, m in IMAGES.items()},
                    "calls": CALLS})
        if path == "/_sim/digest":
            vid = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["volume"][0]
            with LOCK:
                return self.reply_json(200, {"digest": volume_digest(vid)})
        return super()._control(path)

    def handle_service(self, url, q, body):
        self.key_id = self.region = None
        if self.command == "POST" and url.path == "/":
            return handle_ec2(self, body)
        try:
            self.checked = not bench_skips(self, url)
            bad = check_signature(self, body, "ebs") if self.checked else None
            if bad:
                raise EbsError(403, "AccessDeniedException", bad[1], "UNAUTHORIZED_ACCOUNT")
            ebs_route(self, url, q, body)
        except EbsError as e:
            out = {"Message": e.message}
            if e.reason:
                out["Reason"] = e.reason
            self.reply(e.status, json.dumps(out), "application/json",
                       {"x-amzn-ErrorType": e.etype, "x-amzn-RequestId": new_id("ebsreq")})


def add_volume(v, region, instance):
    VOLUMES[v["id"]] = {"id": v["id"], "region": region, "size": v.get("size_gib", 1),
                        "tags": v.get("tags", {}), "instance": instance, "garbage": None,
                        "blocks": {int(k): block_data(s) for k, s in v.get("blocks", {}).items()}}
    if instance:
        INSTANCES[instance]["volumes"].append(v["id"])


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--key", action="append", default=[])
    p.add_argument("--limited-key", action="append", default=[])
    p.add_argument("--latency-ms", type=float,
                   default=float(os.environ.get("CLOUDSIM_LATENCY_MS") or 0),
                   help="delay every GetSnapshotBlock / PutSnapshotBlock answer by this "
                   "much (default $CLOUDSIM_LATENCY_MS or 0)")
    p.add_argument("--bench", action="store_true",
                   help="verify signatures and PUT checksums of 1 in %d block requests only "
                   "and cache block checksums (benchmarks; see bench_skips)" % BENCH_SAMPLE)
    args = p.parse_args()
    CONFIG["latency_ms"] = args.latency_ms
    BENCH["on"] = args.bench
    if args.bench:
        # Hundreds of requests a second on one GIL: hand it over sooner than every 5 ms,
        # or a thread that read 64 KiB of a PUT body waits its turn to read the next.
        sys.setswitchinterval(0.0005)
    for k in args.key + args.limited_key:
        kid, sec = k.split(":", 1)
        KEYS[kid] = sec
    for k in args.limited_key:
        LIMITED.add(k.split(":", 1)[0])
    simcore.serve(Sim, sys.argv)
