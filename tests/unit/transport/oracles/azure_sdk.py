#!/usr/bin/python3
"""Sign Azure Storage requests and make SAS tokens with the Azure SDK for Python.

For test_azure: reads a JSON document on stdin and prints what the SDK
(azure-storage-blob's SharedKeyCredentialPolicy, generate_account_sas,
generate_container_sas, generate_blob_sas) produces for the same inputs.
Debian's python3-azure loads only in /usr/bin/python3.
"""

import json
import sys

from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob import (AccountSasPermissions, BlobSasPermissions,
                                ContainerSasPermissions, ResourceTypes,
                                generate_account_sas, generate_blob_sas,
                                generate_container_sas)
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy


def sharedkey(account, key, case):
    req = HttpRequest(case["method"], case["url"], headers=dict(case["headers"]))
    if case.get("content_length"):
        req.headers["Content-Length"] = str(case["content_length"])
    pipeline_request = PipelineRequest(req, PipelineContext(None))
    SharedKeyCredentialPolicy(account, key).on_request(pipeline_request)
    return req.headers["Authorization"]


def opt(case, name):
    return case.get(name) or None


def sas_account(account, key, case):
    return generate_account_sas(
        account, key, ResourceTypes.from_string(case["resource_types"]),
        AccountSasPermissions.from_string(case["permissions"]), case["expiry"],
        start=opt(case, "start"), ip=opt(case, "ip"), protocol=opt(case, "protocol"))


def sas_blob(account, key, case):
    extra = {k: case[k] for k in ("cache_control", "content_disposition", "content_encoding",
                                  "content_language", "content_type") if case.get(k)}
    if case.get("blob"):
        return generate_blob_sas(
            account, case["container"], case["blob"], account_key=key,
            permission=BlobSasPermissions.from_string(case["permissions"]),
            expiry=case["expiry"], start=opt(case, "start"), ip=opt(case, "ip"),
            protocol=opt(case, "protocol"), **extra)
    return generate_container_sas(
        account, case["container"], account_key=key,
        permission=ContainerSasPermissions.from_string(case["permissions"]),
        expiry=case["expiry"], start=opt(case, "start"), ip=opt(case, "ip"),
        protocol=opt(case, "protocol"), **extra)


def main():
    doc = json.load(sys.stdin)
    a, k = doc["account"], doc["key"]
    json.dump({"sharedkey": [sharedkey(a, k, c) for c in doc.get("sharedkey", [])],
               "sas_account": [sas_account(a, k, c) for c in doc.get("sas_account", [])],
               "sas_blob": [sas_blob(a, k, c) for c in doc.get("sas_blob", [])]}, sys.stdout)


if __name__ == "__main__":
    main()
