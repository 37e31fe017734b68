#!/usr/bin/env python3
"""AWS Backup (REST-JSON) with on-demand backup, copy and restore jobs, plus EFS.

moto has AWS Backup vaults and plans but no jobs or recovery points, so this
server plays AWS Backup itself. DynamoDB tables and FSx file systems live in
moto: given --moto URL and --moto-key, the server asks moto about a resource
when a job names it, and a completed restore creates the new table or file
system there, so the provider's inventory sees it. moto's EFS refuses every
correctly signed GET (its signature check hashes the query string as a
body, boto3's own DescribeFileSystems included), so EFS file systems live
here: the EFS REST API's DescribeFileSystems (GET /2015-02-01/file-systems,
MaxItems/Marker/NextMarker, FileSystemId, CreationToken; FileSystemNotFound
404 with {"ErrorCode", "Message"}), signed for service "elasticfilesystem",
following https://docs.aws.amazon.com/efs/latest/ug/API_DescribeFileSystems.html;
POST /_sim/efs [{"id", "region", "name", "size", "tags": {}}] seeds them.
EFS TagResource (POST /2015-02-01/resource-tags/{ResourceId}, {"Tags": [{Key,
Value}]}) adds or overwrites tags of a file system (API_TagResource); EFS
UntagResource (DELETE /2015-02-01/resource-tags/{ResourceId}?tagKeys=K1&tagKeys=K2,
1 to 50 keys, none starting with aws:) removes keys, absent ones silently
(API_UntagResource).
Without moto, POST /_sim/resources seeds tables and FSx file systems.

Follows the AWS Backup API reference
(https://docs.aws.amazon.com/aws-backup/latest/devguide/): API_StartBackupJob,
API_DescribeBackupJob, API_ListRecoveryPointsByResource,
API_ListRecoveryPointsByBackupVault, API_DescribeRecoveryPoint,
API_DeleteRecoveryPoint, API_GetRecoveryPointRestoreMetadata,
API_StartCopyJob, API_DescribeCopyJob, API_StartRestoreJob,
API_DescribeRestoreJob (restore metadata of DynamoDB, EFS and FSx),
API_CreateBackupVault, API_DescribeBackupVault, API_TagResource,
API_UntagResource (POST /untag/{resourceArn}, {"TagKeyList": [K]}) and
API_ListTags (recovery points only), CommonErrors and the error
types of each page (x-amzn-ErrorType header + {"Code", "Message"} body;
ResourceNotFoundException, InvalidParameterValueException,
MissingParameterValueException, AlreadyExistsException,
InvalidRequestException with status 400, ThrottlingException 400,
AccessDeniedException 403), and MaxResults 1..1000 with NextToken paging.
Request bodies are checked against botocore's model of the service: a
member the API does not have is refused, as AWS's validation would.

Every request must carry a SigV4 signature (service "backup") that botocore
recomputes for a key given with --key ID:SECRET (ebs_direct.check_signature).

Jobs go CREATED -> RUNNING (PercentDone rising) -> COMPLETED over
job_seconds; a job told to fail goes FAILED half-way with a StatusMessage.
Control (no signature): POST /_sim/config {"job_seconds": S, "throttle": N,
"fail": {"backup": N, "copy": N, "restore": N}, "fail_message": TEXT};
POST /_sim/resources [{"arn", "size", "restore_metadata": {..}}];
GET /_sim/state (vaults, points, jobs, calls). Plus simcore's /_sim/faults,
/_sim/log, /_sim/reset.
"""

import argparse
import base64
import gzip
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

import botocore  # noqa: E402

import ebs_direct  # noqa: E402  (check_signature: the botocore SigV4 oracle)
import simcore  # noqa: E402

ACCOUNT = "123456789012"
LOCK = threading.RLock()
CONFIG = {"job_seconds": 0.3, "throttle": 0, "fail": {}, "fail_message":
          "Insufficient privileges to perform this action."}
VAULTS = {}     # (region, name) -> {"arn", "name", "region", "created"}
POINTS = {}     # arn -> recovery point dict (AWS field names) + "_region", "_vault"
JOBS = {}       # id -> {"kind": backup|copy|restore, "start", "fail", "body", ...}
TOKENS = {}     # (kind, IdempotencyToken) -> job id
RESOURCES = {}  # arn -> {"size", "restore_metadata"}
CALLS = []      # (operation, region)
MOTO = {}       # "url", "key", "secret"
EFS = {}        # file system id -> EFS FileSystemDescription + "_region"


class ApiError(Exception):
    def __init__(self, etype, message, status=400):
        super().__init__(message)
        self.etype, self.message, self.status = etype, message, status


def load_model():
    d = os.path.join(os.path.dirname(botocore.__file__), "data", "backup")
    ver = sorted(os.listdir(d))[-1]
    path = os.path.join(d, ver, "service-2.json")
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz") as f:
            return json.load(f)
    with open(path) as f:
        return json.load(f)


MODEL = load_model()


def check_members(op, body):
    """Refuse members the operation's input shape does not have, and missing required ones."""
    shape = MODEL["shapes"][MODEL["operations"][op]["input"]["shape"]]
    body_members = {k for k, v in shape["members"].items() if "location" not in v}
    for k in body:
        if k not in body_members:
            raise ApiError("InvalidParameterValueException",
                           "%s has no parameter %s" % (op, k))
    for k in shape.get("required", []):
        if k in body_members and k not in body:
            raise ApiError("MissingParameterValueException", "%s needs %s" % (op, k))


def now():
    return time.time()


def arn_parts(arn):
    p = (arn or "").split(":", 5)
    if len(p) != 6 or p[0] != "arn":
        raise ApiError("InvalidParameterValueException", "'%s' is not an ARN" % arn)
    return {"service": p[2], "region": p[3], "account": p[4], "resource": p[5]}


RESOURCE_TYPES = {"dynamodb": "DynamoDB", "elasticfilesystem": "EFS", "fsx": "FSx"}


def moto_client(service, region):
    import boto3
    return boto3.client(service, endpoint_url=MOTO["url"], region_name=region,
                        aws_access_key_id=MOTO["key"], aws_secret_access_key=MOTO["secret"])


def lookup_resource(arn):
    """(type, size, restore metadata) of a resource, from the seed or from moto."""
    a = arn_parts(arn)
    rtype = RESOURCE_TYPES.get(a["service"])
    if not rtype:
        raise ApiError("InvalidParameterValueException",
                       "resource type of %s is not supported here" % arn)
    seeded = RESOURCES.get(arn)
    if seeded and rtype != "EFS":
        return rtype, seeded.get("size", 0), dict(seeded.get("restore_metadata", {}))
    if not MOTO and rtype != "EFS":
        raise ApiError("ResourceNotFoundException", "Resource %s not found" % arn)
    name = a["resource"].split("/", 1)[1] if "/" in a["resource"] else a["resource"]
    try:
        if rtype == "DynamoDB":
            t = moto_client("dynamodb", a["region"]).describe_table(TableName=name)["Table"]
            return rtype, t.get("TableSizeBytes", 0), {"originalTableName": name}
        if rtype == "EFS":
            fs = EFS.get(name)
            if not fs or fs["_region"] != a["region"]:
                raise ApiError("ResourceNotFoundException", "Resource %s not found" % arn)
            return rtype, fs["SizeInBytes"]["Value"], {
                "file-system-id": name, "Encrypted": str(fs.get("Encrypted", False)).lower(),
                "PerformanceMode": fs.get("PerformanceMode", "generalPurpose"),
                "CreationToken": fs.get("CreationToken", name), "newFileSystem": "false"}
        fss = moto_client("fsx", a["region"]).describe_file_systems(
            FileSystemIds=[name])["FileSystems"]
        if not fss:
            raise ApiError("ResourceNotFoundException", "Resource %s not found" % arn)
        fs = fss[0]
        return rtype, fs.get("StorageCapacity", 0) * 2 ** 30, {
            "FileSystemType": fs["FileSystemType"],
            "StorageCapacity": str(fs.get("StorageCapacity", 0)),
            "StorageType": fs.get("StorageType", "SSD"),
            "SubnetIds": json.dumps(fs.get("SubnetIds", []))}
    except ApiError:
        raise
    except Exception as e:
        raise ApiError("ResourceNotFoundException", "Resource %s not found (%s)" % (arn, e))


def point_arn(rtype, region, resource_arn, copy=False):
    if rtype == "DynamoDB" and not copy:
        return "%s/backup/%013d-%s" % (resource_arn, int(now() * 1000), uuid.uuid4().hex[:8])
    if rtype == "FSx":
        return "arn:aws:fsx:%s:%s:backup/backup-%s" % (region, ACCOUNT, uuid.uuid4().hex[:17])
    return "arn:aws:backup:%s:%s:recovery-point:%s" % (region, ACCOUNT, str(uuid.uuid4()).upper())


def job_state(job):
    """(state, percent) of a job at this moment."""
    d = max(CONFIG["job_seconds"], 0.001)
    e = now() - job["start"]
    if job["fail"] and e >= d / 2:
        return "FAILED", "50.0"
    if e >= d:
        return "COMPLETED", "100.0"
    if e < d / 10:
        return "CREATED", "0.0"
    return "RUNNING", "%.1f" % (100.0 * e / d)


def take_fail(kind):
    n = CONFIG["fail"].get(kind, 0)
    if n > 0:
        CONFIG["fail"][kind] = n - 1
        return True
    return False


def settle(job):
    """Apply a job's outcome to the points and resources once it is over."""
    state, _ = job_state(job)
    if job.get("settled") or state not in ("COMPLETED", "FAILED"):
        return state
    job["settled"] = True
    p = POINTS.get(job.get("point"))
    if state == "FAILED":
        if p and job["kind"] in ("backup", "copy"):
            POINTS.pop(job["point"], None)
        return state
    if p:
        p["Status"] = "COMPLETED"
        p["CompletionDate"] = now()
    if job["kind"] == "restore":
        job["created"] = create_restored(job)
    return state


def create_restored(job):
    src = POINTS[job["body"]["RecoveryPointArn"]]
    md, region = job["body"]["Metadata"], src["_region"]
    rtype = src["ResourceType"]
    if rtype == "EFS":
        fs = add_efs({"id": "fs-%s" % uuid.uuid4().hex[:17], "region": region,
                      "creation_token": md["CreationToken"], "size": src["BackupSizeInBytes"],
                      "performance_mode": md["PerformanceMode"],
                      "encrypted": md["Encrypted"] == "true"})
        return fs["FileSystemArn"]
    if not MOTO:
        name = md.get("targetTableName") or uuid.uuid4().hex[:8]
        if rtype == "DynamoDB":
            return "arn:aws:dynamodb:%s:%s:table/%s" % (region, ACCOUNT, name)
        return "arn:aws:fsx:%s:%s:file-system/fs-%s" % (region, ACCOUNT, uuid.uuid4().hex[:17])
    if rtype == "DynamoDB":
        t = moto_client("dynamodb", region).create_table(
            TableName=md["targetTableName"], BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        return t["TableDescription"]["TableArn"]
    fs = moto_client("fsx", region).create_file_system(
        FileSystemType=md["FileSystemType"], StorageCapacity=int(md["StorageCapacity"]),
        SubnetIds=json.loads(md["SubnetIds"]))["FileSystem"]
    return fs["ResourceARN"]


def add_efs(spec):
    fid = spec["id"]
    EFS[fid] = {"OwnerId": ACCOUNT, "CreationToken": spec.get("creation_token", fid),
                "FileSystemId": fid, "CreationTime": now(), "LifeCycleState": "available",
                "FileSystemArn": "arn:aws:elasticfilesystem:%s:%s:file-system/%s" % (
                    spec["region"], ACCOUNT, fid),
                "NumberOfMountTargets": 0, "SizeInBytes": {"Value": spec.get("size", 6144)},
                "PerformanceMode": spec.get("performance_mode", "generalPurpose"),
                "Encrypted": spec.get("encrypted", False), "ThroughputMode": "bursting",
                "Tags": [{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()],
                "_region": spec["region"]}
    if spec.get("name"):
        EFS[fid]["Name"] = spec["name"]
        EFS[fid]["Tags"].append({"Key": "Name", "Value": spec["name"]})
    return EFS[fid]


class EfsError(ApiError):
    pass


def merge_tags(have, given):
    """Tags given ([{Key, Value}]) overwrite those with their key; other keys stay."""
    if not isinstance(given, list) or not given:
        raise EfsError("BadRequest", "Tags must be a non-empty list")
    for t in given:
        if not isinstance(t, dict) or not t.get("Key") or not isinstance(t.get("Value"), str):
            raise EfsError("BadRequest", "every tag needs a Key and a Value")
        if t["Key"].startswith("aws:"):
            raise EfsError("BadRequest", "tag keys starting with aws: are reserved")
        have[:] = [h for h in have if h["Key"] != t["Key"]] + [{"Key": t["Key"],
                                                                "Value": t["Value"]}]


def efs_tag(region, fid, body):
    """TagResource of a file system: add or overwrite; Name also names the file system."""
    fs = EFS.get(fid)
    if not fs or fs["_region"] != region:
        raise EfsError("FileSystemNotFound", "File system '%s' does not exist." % fid, 404)
    if set(body) - {"Tags"}:
        raise EfsError("BadRequest", "TagResource has no parameter %s"
                       % sorted(set(body) - {"Tags"})[0])
    merge_tags(fs["Tags"], body.get("Tags"))
    for t in fs["Tags"]:
        if t["Key"] == "Name":
            fs["Name"] = t["Value"]


def efs_untag(region, fid, q):
    """UntagResource of a file system: remove the keys given; absent keys are no error."""
    fs = EFS.get(fid)
    if not fs or fs["_region"] != region:
        raise EfsError("FileSystemNotFound", "File system '%s' does not exist." % fid, 404)
    keys = q.get("tagKeys", [])
    if not 1 <= len(keys) <= 50 or any(not k or k.startswith("aws:") for k in keys):
        raise EfsError("BadRequest", "tagKeys must be 1 to 50 non-empty keys, none starting "
                       "with aws:")
    fs["Tags"] = [t for t in fs["Tags"] if t["Key"] not in keys]
    if "Name" in keys:
        fs.pop("Name", None)


def efs_describe(region, q):
    """DescribeFileSystems: MaxItems/Marker paging, by id or creation token."""
    items = [fs for fs in sorted(EFS.values(), key=lambda f: f["CreationTime"])
             if fs["_region"] == region]
    if q.get("FileSystemId"):
        items = [fs for fs in items if fs["FileSystemId"] == q["FileSystemId"][0]]
        if not items:
            raise EfsError("FileSystemNotFound", "File system '%s' does not exist."
                           % q["FileSystemId"][0], 404)
    if q.get("CreationToken"):
        items = [fs for fs in items if fs["CreationToken"] == q["CreationToken"][0]]
    try:
        n = int(q.get("MaxItems", ["100"])[0])
    except ValueError:
        n = 0
    if n < 1:
        raise EfsError("BadRequest", "MaxItems must be at least 1")
    start = 0
    if q.get("Marker"):
        ids = [fs["FileSystemId"] for fs in items]
        if q["Marker"][0] not in ids:
            raise EfsError("BadRequest", "Marker is not valid")
        start = ids.index(q["Marker"][0])
    out = {"FileSystems": [public(fs) for fs in items[start:start + n]]}
    if q.get("Marker"):
        out["Marker"] = q["Marker"][0]
    if start + n < len(items):
        out["NextMarker"] = items[start + n]["FileSystemId"]
    return out


def vault_arn(region, name):
    return "arn:aws:backup:%s:%s:backup-vault:%s" % (region, ACCOUNT, name)


def get_vault(region, name):
    v = VAULTS.get((region, name))
    if not v:
        raise ApiError("ResourceNotFoundException",
                       "Backup vault %s does not exist in %s" % (name, region))
    return v


def get_point(region, vault, arn):
    get_vault(region, vault)
    p = POINTS.get(arn)
    if not p or p["_region"] != region or p["_vault"] != vault:
        raise ApiError("ResourceNotFoundException",
                       "Recovery point %s not found in vault %s" % (arn, vault))
    return p


def public(p):
    return {k: v for k, v in p.items() if not k.startswith("_")}


def page(q, items):
    mr = q.get("maxResults", [None])[0]
    n = 1000
    if mr is not None:
        try:
            n = int(mr)
        except ValueError:
            n = 0
        if not 1 <= n <= 1000:
            raise ApiError("InvalidParameterValueException", "maxResults must be 1..1000")
    start = 0
    tok = q.get("nextToken", [None])[0]
    if tok:
        try:
            start = json.loads(base64.urlsafe_b64decode(tok.encode()))["i"]
        except Exception:
            raise ApiError("InvalidParameterValueException", "nextToken is not valid")
    out = {}
    if start + n < len(items):
        out["NextToken"] = base64.urlsafe_b64encode(
            json.dumps({"i": start + n}).encode()).decode()
    return items[start:start + n], out


def required(body, *names):
    for n in names:
        if not body.get(n):
            raise ApiError("MissingParameterValueException", "%s is required" % n)


def check_role(body):
    role = body.get("IamRoleArn", "")
    if not role.startswith("arn:aws:iam::") or ":role/" not in role:
        raise ApiError("InvalidParameterValueException",
                       "IamRoleArn '%s' is not a role ARN" % role)


def new_job(kind, body, **extra):
    tok = body.get("IdempotencyToken")
    if tok and (kind, tok) in TOKENS:
        return JOBS[TOKENS[(kind, tok)]], False
    jid = str(uuid.uuid4()).upper()
    job = {"id": jid, "kind": kind, "start": now(), "fail": take_fail(kind), "body": body}
    job.update(extra)
    JOBS[jid] = job
    if tok:
        TOKENS[(kind, tok)] = jid
    return job, True


def op_start_backup(region, body):
    check_members("StartBackupJob", body)
    required(body, "BackupVaultName", "ResourceArn", "IamRoleArn")
    check_role(body)
    v = get_vault(region, body["BackupVaultName"])
    if arn_parts(body["ResourceArn"])["region"] != region:
        raise ApiError("InvalidParameterValueException",
                       "Resource %s is not in %s" % (body["ResourceArn"], region))
    rtype, size, md = lookup_resource(body["ResourceArn"])
    job, fresh = new_job("backup", body, region=region)
    if fresh:
        arn = point_arn(rtype, region, body["ResourceArn"])
        job["point"] = arn
        POINTS[arn] = {"RecoveryPointArn": arn, "BackupVaultName": v["name"],
                       "BackupVaultArn": v["arn"], "ResourceArn": body["ResourceArn"],
                       "ResourceType": rtype, "IamRoleArn": body["IamRoleArn"],
                       "Status": "CREATING", "CreationDate": job["start"],
                       "BackupSizeInBytes": size, "IsEncrypted": False,
                       "_region": region, "_vault": v["name"], "_md": md,
                       "_tags": body.get("RecoveryPointTags", {})}
    return {"BackupJobId": job["id"], "RecoveryPointArn": job["point"],
            "CreationDate": job["start"], "IsParent": False}


def describe_backup(job):
    state, pct = job_state(job)
    body = job["body"]
    out = {"AccountId": ACCOUNT, "BackupJobId": job["id"],
           "BackupVaultName": body["BackupVaultName"],
           "BackupVaultArn": vault_arn(job["region"], body["BackupVaultName"]),
           "RecoveryPointArn": job["point"], "ResourceArn": body["ResourceArn"],
           "ResourceType": RESOURCE_TYPES[arn_parts(body["ResourceArn"])["service"]],
           "CreationDate": job["start"], "State": state, "PercentDone": pct,
           "IamRoleArn": body["IamRoleArn"]}
    p = POINTS.get(job["point"])
    if p:
        out["BackupSizeInBytes"] = p["BackupSizeInBytes"]
    if state == "COMPLETED":
        out["CompletionDate"] = job["start"] + CONFIG["job_seconds"]
    if state == "FAILED":
        out["StatusMessage"] = CONFIG["fail_message"]
    return out


def op_start_copy(region, body):
    check_members("StartCopyJob", body)
    required(body, "RecoveryPointArn", "SourceBackupVaultName", "DestinationBackupVaultArn",
             "IamRoleArn")
    check_role(body)
    src = get_point(region, body["SourceBackupVaultName"], body["RecoveryPointArn"])
    if src["Status"] != "COMPLETED":
        raise ApiError("InvalidRequestException",
                       "Recovery point %s is not completed" % body["RecoveryPointArn"])
    d = arn_parts(body["DestinationBackupVaultArn"])
    if not d["resource"].startswith("backup-vault:"):
        raise ApiError("InvalidParameterValueException",
                       "DestinationBackupVaultArn %s is not a vault ARN"
                       % body["DestinationBackupVaultArn"])
    dv = get_vault(d["region"], d["resource"].split(":", 1)[1])
    job, fresh = new_job("copy", body, region=region)
    if fresh:
        arn = point_arn(src["ResourceType"], d["region"], src["ResourceArn"], copy=True)
        job["point"] = arn
        POINTS[arn] = dict(src, RecoveryPointArn=arn, BackupVaultName=dv["name"],
                           BackupVaultArn=dv["arn"], Status="CREATING",
                           CreationDate=job["start"],
                           SourceBackupVaultArn=vault_arn(region, src["_vault"]),
                           _region=d["region"], _vault=dv["name"])
    return {"CopyJobId": job["id"], "CreationDate": job["start"], "IsParent": False}


def describe_copy(job):
    state, _ = job_state(job)
    body = job["body"]
    src = POINTS.get(body["RecoveryPointArn"], {})
    out = {"AccountId": ACCOUNT, "CopyJobId": job["id"],
           "SourceBackupVaultArn": vault_arn(job["region"], body["SourceBackupVaultName"]),
           "SourceRecoveryPointArn": body["RecoveryPointArn"],
           "DestinationBackupVaultArn": body["DestinationBackupVaultArn"],
           "DestinationRecoveryPointArn": job["point"],
           "ResourceArn": src.get("ResourceArn"), "ResourceType": src.get("ResourceType"),
           "CreationDate": job["start"], "State": state,
           "BackupSizeInBytes": src.get("BackupSizeInBytes", 0),
           "IamRoleArn": body["IamRoleArn"]}
    if state == "FAILED":
        out["StatusMessage"] = CONFIG["fail_message"]
    return {"CopyJob": out}


def check_restore_metadata(rtype, md, src):
    def bad(msg):
        raise ApiError("InvalidParameterValueException", msg)
    if rtype == "DynamoDB":
        if not md.get("targetTableName"):
            bad("Metadata targetTableName is required to restore a DynamoDB table")
    elif rtype == "EFS":
        if md.get("newFileSystem") != "true":
            bad("Metadata newFileSystem must be \"true\" here (restoring into the source "
                "file system is not simulated)")
        for k in ("file-system-id", "CreationToken", "PerformanceMode", "Encrypted"):
            if not md.get(k):
                bad("Metadata %s is required to restore an EFS file system" % k)
        if md["PerformanceMode"] not in ("generalPurpose", "maxIO"):
            bad("PerformanceMode must be generalPurpose or maxIO")
        if md["Encrypted"] not in ("true", "false"):
            bad("Encrypted must be \"true\" or \"false\"")
    elif rtype == "FSx":
        for k in src["_md"]:
            if k not in md:
                bad("Metadata %s (from GetRecoveryPointRestoreMetadata) is required to "
                    "restore an FSx file system" % k)
        try:
            if not isinstance(json.loads(md["SubnetIds"]), list):
                raise ValueError
        except ValueError:
            bad("SubnetIds must be a JSON array of subnet ids")


def op_start_restore(region, body):
    check_members("StartRestoreJob", body)
    required(body, "RecoveryPointArn", "Metadata", "IamRoleArn")
    check_role(body)
    src = POINTS.get(body["RecoveryPointArn"])
    if not src or src["_region"] != region:
        raise ApiError("ResourceNotFoundException",
                       "Recovery point %s not found" % body["RecoveryPointArn"])
    if src["Status"] != "COMPLETED":
        raise ApiError("InvalidRequestException", "Recovery point is not completed")
    if body.get("ResourceType") and body["ResourceType"] != src["ResourceType"]:
        raise ApiError("InvalidParameterValueException", "ResourceType does not match")
    check_restore_metadata(src["ResourceType"], body["Metadata"], src)
    job, _ = new_job("restore", body, region=region)
    return {"RestoreJobId": job["id"]}


def describe_restore(job):
    state, pct = job_state(job)
    src = POINTS.get(job["body"]["RecoveryPointArn"], {})
    out = {"AccountId": ACCOUNT, "RestoreJobId": job["id"],
           "RecoveryPointArn": job["body"]["RecoveryPointArn"],
           "SourceResourceArn": src.get("ResourceArn"), "CreationDate": job["start"],
           "Status": "PENDING" if state == "CREATED" else state, "PercentDone": pct,
           "BackupSizeInBytes": src.get("BackupSizeInBytes", 0),
           "IamRoleArn": job["body"]["IamRoleArn"], "ResourceType": src.get("ResourceType")}
    if state == "COMPLETED" and job.get("created"):
        out["CreatedResourceArn"] = job["created"]
    if state == "FAILED":
        out["StatusMessage"] = CONFIG["fail_message"]
    return out


def route(h, region, method, segs, q, body):
    """(operation, answer) for a request; segs are the decoded path segments."""
    n = len(segs)
    if n == 2 and segs[0] == "backup-vaults":
        name = segs[1]
        if method == "PUT":
            check_members("CreateBackupVault", body)
            if (region, name) in VAULTS:
                raise ApiError("AlreadyExistsException", "Backup vault %s already exists"
                               % name)
            VAULTS[(region, name)] = {"name": name, "region": region, "created": now(),
                                      "arn": vault_arn(region, name)}
            v = VAULTS[(region, name)]
            return "CreateBackupVault", {"BackupVaultName": name, "BackupVaultArn": v["arn"],
                                         "CreationDate": v["created"]}
        if method == "GET":
            v = get_vault(region, name)
            count = sum(1 for p in POINTS.values()
                        if p["_region"] == region and p["_vault"] == name)
            return "DescribeBackupVault", {"BackupVaultName": name, "BackupVaultArn": v["arn"],
                                           "CreationDate": v["created"],
                                           "NumberOfRecoveryPoints": count}
    if n == 3 and segs[0] == "backup-vaults" and segs[2] == "recovery-points" \
            and method == "GET":
        get_vault(region, segs[1])
        items = [public(p) for p in sorted(POINTS.values(), key=lambda p: p["CreationDate"])
                 if p["_region"] == region and p["_vault"] == segs[1]
                 and (not q.get("resourceArn") or p["ResourceArn"] == q["resourceArn"][0])]
        got, out = page(q, items)
        out["RecoveryPoints"] = got
        return "ListRecoveryPointsByBackupVault", out
    if n in (4, 5) and segs[0] == "backup-vaults" and segs[2] == "recovery-points":
        p = get_point(region, segs[1], segs[3])
        if n == 5 and segs[4] == "restore-metadata" and method == "GET":
            return "GetRecoveryPointRestoreMetadata", {
                "BackupVaultArn": p["BackupVaultArn"], "RecoveryPointArn": p["RecoveryPointArn"],
                "RestoreMetadata": p["_md"], "ResourceType": p["ResourceType"]}
        if n == 4 and method == "GET":
            return "DescribeRecoveryPoint", public(p)
        if n == 4 and method == "DELETE":
            if p["Status"] == "CREATING":
                raise ApiError("InvalidResourceStateException",
                               "Recovery point %s is still being created" % segs[3])
            del POINTS[segs[3]]
            return "DeleteRecoveryPoint", {}
    if n == 3 and segs[0] == "resources" and segs[2] == "recovery-points" and method == "GET":
        res = segs[1]
        if arn_parts(res)["region"] != region:
            raise ApiError("InvalidParameterValueException", "Resource is not in %s" % region)
        items = [{"RecoveryPointArn": p["RecoveryPointArn"], "CreationDate": p["CreationDate"],
                  "Status": p["Status"], "BackupSizeBytes": p["BackupSizeInBytes"],
                  "BackupVaultName": p["BackupVaultName"]}
                 for p in sorted(POINTS.values(), key=lambda p: p["CreationDate"])
                 if p["ResourceArn"] == res and p["_region"] == region]
        got, out = page(q, items)
        out["RecoveryPoints"] = got
        return "ListRecoveryPointsByResource", out
    if n == 2 and segs[0] == "tags":
        p = POINTS.get(segs[1])
        if not p or p["_region"] != region:
            raise ApiError("ResourceNotFoundException",
                           "Resource %s not found in %s" % (segs[1], region))
        if method == "POST":
            check_members("TagResource", body)
            tags = body["Tags"]
            if not isinstance(tags, dict) or any(
                    not isinstance(v, str) or not k or k.startswith("aws:")
                    for k, v in tags.items()):
                raise ApiError("InvalidParameterValueException",
                               "Tags must map non-empty keys (not aws:*) to strings")
            # A copy may share its source's dict (dict(src, ...)): never update in place.
            p["_tags"] = dict(p["_tags"], **tags)
            return "TagResource", {}
        if method == "GET":
            return "ListTags", {"Tags": dict(p["_tags"])}
    if n == 2 and segs[0] == "untag" and method == "POST":
        p = POINTS.get(segs[1])
        if not p or p["_region"] != region:
            raise ApiError("ResourceNotFoundException",
                           "Resource %s not found in %s" % (segs[1], region))
        check_members("UntagResource", body)
        keys = body["TagKeyList"]
        if not isinstance(keys, list) or any(not isinstance(k, str) or not k for k in keys):
            raise ApiError("InvalidParameterValueException",
                           "TagKeyList must be a list of non-empty keys")
        # Never in place: a copy may share its source's dict.
        p["_tags"] = {k: v for k, v in p["_tags"].items() if k not in keys}
        return "UntagResource", {}
    starts = {"backup-jobs": ("StartBackupJob", op_start_backup),
              "copy-jobs": ("StartCopyJob", op_start_copy),
              "restore-jobs": ("StartRestoreJob", op_start_restore)}
    describes = {"backup-jobs": ("DescribeBackupJob", "backup", describe_backup),
                 "copy-jobs": ("DescribeCopyJob", "copy", describe_copy),
                 "restore-jobs": ("DescribeRestoreJob", "restore", describe_restore)}
    if n == 1 and segs[0] in starts and method == "PUT":
        name, fn = starts[segs[0]]
        return name, fn(region, body)
    if n == 2 and segs[0] in describes and method == "GET":
        name, kind, fn = describes[segs[0]]
        job = JOBS.get(segs[1])
        if not job or job["kind"] != kind or job["region"] != region:
            raise ApiError("ResourceNotFoundException", "Job %s not found" % segs[1])
        settle(job)
        return name, fn(job)
    raise ApiError("InvalidRequestException", "no operation %s %s" % (method, h.path), 404)


class Sim(simcore.Handler):
    def _control(self, path):
        if path == "/_sim/config" and self.command == "POST":
            spec = json.loads(self.read_body() or b"{}")
            with LOCK:
                CONFIG.update(spec)
            return self.reply_json(200, {"ok": True})
        if path == "/_sim/efs" and self.command == "POST":
            with LOCK:
                for r in json.loads(self.read_body() or b"[]"):
                    add_efs(r)
            return self.reply_json(200, {"ok": True})
        if path == "/_sim/resources" and self.command == "POST":
            with LOCK:
                for r in json.loads(self.read_body() or b"[]"):
                    RESOURCES[r["arn"]] = r
            return self.reply_json(200, {"ok": True})
        if path == "/_sim/state":
            with LOCK:
                for j in JOBS.values():
                    settle(j)
                return self.reply_json(200, {
                    "vaults": [dict(v) for v in VAULTS.values()],
                    "points": {a: dict(public(p), region=p["_region"], vault=p["_vault"],
                                       tags=p["_tags"]) for a, p in POINTS.items()},
                    "jobs": {i: {"kind": j["kind"], "state": job_state(j)[0],
                                 "region": j["region"], "body": j["body"],
                                 "created": j.get("created")} for i, j in JOBS.items()},
                    "calls": list(CALLS)})
        return super()._control(path)

    def handle_service(self, url, q, body):
        self.key_id = self.region = None
        rid = str(uuid.uuid4())
        if url.path.startswith("/2015-02-01/"):
            return self.handle_efs(url, q, body, rid)
        try:
            bad = ebs_direct.check_signature(self, body, "backup")
            if bad:
                raise ApiError("AccessDeniedException" if bad[0] == "AuthFailure"
                               else "InvalidSignatureException", bad[1], 403)
            with LOCK:
                if CONFIG["throttle"] > 0:
                    CONFIG["throttle"] -= 1
                    raise ApiError("ThrottlingException", "Rate exceeded")
            try:
                data = json.loads(body) if body else {}
            except ValueError:
                raise ApiError("InvalidParameterValueException", "body is not JSON")
            segs = [urllib.parse.unquote(s) for s in url.path.strip("/").split("/")]
            with LOCK:
                op, out = route(self, self.region, self.command, segs, q, data)
                CALLS.append([op, self.region])
            self.reply(200, json.dumps(out), "application/json", {"x-amzn-RequestId": rid})
        except ApiError as e:
            self.reply(e.status, json.dumps({"Code": e.etype, "Message": e.message}),
                       "application/json",
                       {"x-amzn-RequestId": rid, "x-amzn-ErrorType": e.etype})

    def handle_efs(self, url, q, body, rid):
        try:
            bad = ebs_direct.check_signature(self, body, "elasticfilesystem")
            if bad:
                raise EfsError("IncorrectSignature" if bad[0] != "AuthFailure"
                               else "AccessDeniedException", bad[1], 403)
            with LOCK:
                if CONFIG["throttle"] > 0:
                    CONFIG["throttle"] -= 1
                    raise EfsError("ThrottlingException", "Rate exceeded", 429)
                tag_path = "/2015-02-01/resource-tags/"
                if url.path.startswith(tag_path) and self.command == "POST":
                    try:
                        data = json.loads(body) if body else {}
                    except ValueError:
                        raise EfsError("BadRequest", "body is not JSON")
                    efs_tag(self.region, urllib.parse.unquote(url.path[len(tag_path):]), data)
                    out, op = {}, "TagResource"
                elif url.path.startswith(tag_path) and self.command == "DELETE":
                    efs_untag(self.region, urllib.parse.unquote(url.path[len(tag_path):]), q)
                    out, op = {}, "UntagResource"
                elif url.path.rstrip("/") == "/2015-02-01/file-systems" \
                        and self.command == "GET":
                    out, op = efs_describe(self.region, q), "DescribeFileSystems"
                else:
                    raise EfsError("BadRequest", "only DescribeFileSystems, TagResource and "
                                   "UntagResource are simulated", 404)
                CALLS.append([op, self.region])
            self.reply(200, json.dumps(out), "application/json", {"x-amzn-RequestId": rid})
        except ApiError as e:
            self.reply(e.status, json.dumps({"ErrorCode": e.etype, "Message": e.message}),
                       "application/json",
                       {"x-amzn-RequestId": rid, "x-amzn-ErrorType": e.etype})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", action="append", default=[])
    ap.add_argument("--moto")
    ap.add_argument("--moto-key")
    args = ap.parse_args()
    for k in args.key:
        kid, sec = k.split(":", 1)
        ebs_direct.KEYS[kid] = sec
    if args.moto:
        kid, sec = args.moto_key.split(":", 1)
        MOTO.update(url=args.moto, key=kid, secret=sec)
    simcore.serve(Sim, sys.argv)
