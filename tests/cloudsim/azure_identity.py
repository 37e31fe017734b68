#!/usr/bin/env python3
"""Azure identity endpoints for credential tests: IMDS managed identity and
the Microsoft Entra client-credentials token endpoint.

Follows:
  https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
  https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow

  GET  /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id=C]
       needs "Metadata: true" (else 400, as IMDS does); answers expires_in as a string.
  POST /<tenant>/oauth2/v2.0/token  grant_type=client_credentials, client_id,
       client_secret (must equal --secret), scope ending in /.default;
       errors as {"error": "invalid_client", "error_description": ...}.
GET /_sim/calls lists what was asked (resource, scope, client id, tenant).
"""

import argparse
import sys
import threading
import urllib.parse

import simcore

ARGS = None
CALLS = []
LOCK = threading.Lock()


class Identity(simcore.Handler):
    def _control(self, path):
        if path == "/_sim/calls":
            with LOCK:
                return self.reply_json(200, CALLS)
        return super()._control(path)

    def token(self, kind, extra):
        with LOCK:
            CALLS.append(dict(extra, kind=kind))
            n = len(CALLS)
        return "eyJ0eXAi.%s-%d-SHOULDNOTLEAK" % (kind, n)

    def handle_service(self, url, q, body):
        if url.path == "/metadata/identity/oauth2/token" and self.command == "GET":
            if self.headers.get("Metadata") != "true":
                return self.reply_json(400, {"error": "invalid_request",
                                             "error_description": "Required metadata header not specified"})
            if q.get("api-version", [""])[0] != "2018-02-01" or "resource" not in q:
                return self.reply_json(400, {"error": "invalid_request",
                                             "error_description": "bad api-version or resource"})
            t = self.token("imds", {"resource": q["resource"][0],
                                    "client_id": q.get("client_id", [None])[0]})
            return self.reply_json(200, {"access_token": t, "expires_in": str(ARGS.expires_in),
                                         "expires_on": "0", "resource": q["resource"][0],
                                         "token_type": "Bearer"})
        parts = url.path.strip("/").split("/")
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] and self.command == "POST":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            if form.get("grant_type") != "client_credentials":
                return self.reply_json(400, {"error": "unsupported_grant_type"})
            if form.get("client_secret") != ARGS.secret:
                return self.reply_json(401, {"error": "invalid_client",
                                             "error_description": "AADSTS7000215: Invalid client secret provided."})
            if not form.get("scope", "").endswith("/.default"):
                return self.reply_json(400, {"error": "invalid_scope"})
            t = self.token("aad", {"tenant": parts[0], "client_id": form.get("client_id"),
                                   "scope": form["scope"]})
            return self.reply_json(200, {"access_token": t, "expires_in": ARGS.expires_in,
                                         "token_type": "Bearer"})
        return super().handle_service(url, q, body)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--secret", default="client-secret-SHOULDNOTLEAK")
    p.add_argument("--expires-in", type=int, default=3599)
    ARGS = p.parse_args()
    simcore.serve(Identity, sys.argv)
