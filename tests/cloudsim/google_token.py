#!/usr/bin/env python3
"""Google's OAuth2 token endpoint for service account keys, for credential tests.

Follows:
  https://developers.google.com/identity/protocols/oauth2/service-account
  (JWT bearer grant, RFC 7523; RS256 JWT per RFC 7515/7519)

At start it makes an RSA key and writes a service account JSON key file to
--write-key PATH whose token_uri is this server. POST /token with
grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and assertion=JWT:
the JWT's signature is verified with the public key (the `cryptography`
module), and iss, aud, iat/exp (at most an hour) and scope are checked;
errors answer {"error": "invalid_grant", ...} as Google does. Each token is
new (ya29.sim-N). GET /_sim/calls lists the verified claims.
Options: --expires-in SECONDS.
"""

import argparse
import base64
import json
import sys
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import simcore

ARGS = None
KEY = None
EMAIL = "backup@cloudprotect-test.iam.gserviceaccount.com"
CALLS = []
LOCK = threading.Lock()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Token(simcore.Handler):
    def _control(self, path):
        if path == "/_sim/calls":
            with LOCK:
                return self.reply_json(200, CALLS)
        return super()._control(path)

    def grant_error(self, description):
        self.reply_json(400, {"error": "invalid_grant", "error_description": description})

    def handle_service(self, url, q, body):
        if url.path != "/token" or self.command != "POST":
            return super().handle_service(url, q, body)
        import urllib.parse
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.reply_json(400, {"error": "unsupported_grant_type"})
        parts = form.get("assertion", "").split(".")
        if len(parts) != 3:
            return self.grant_error("Invalid JWT: malformed")
        header, claims = (json.loads(b64url_decode(p)) for p in parts[:2])
        try:
            KEY.public_key().verify(b64url_decode(parts[2]), (parts[0] + "." + parts[1]).encode(),
                                    padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return self.grant_error("Invalid JWT Signature.")
        now = time.time()
        expected_aud = "http://127.0.0.1:%d/token" % self.server.server_address[1]
        if header.get("alg") != "RS256":
            return self.grant_error("Invalid JWT: alg must be RS256")
        if claims.get("iss") != EMAIL or claims.get("aud") != expected_aud:
            return self.grant_error("Invalid JWT: iss or aud do not match")
        if not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0)) or \
                claims["exp"] - claims["iat"] > 3600:
            return self.grant_error("Invalid JWT: Token must be a short-lived token")
        if not claims.get("scope"):
            return self.grant_error("Invalid JWT: no scope")
        with LOCK:
            CALLS.append({"header": header, "claims": claims})
            n = len(CALLS)
        self.reply_json(200, {"access_token": "ya29.sim-%d-SHOULDNOTLEAK" % n,
                              "expires_in": ARGS.expires_in, "token_type": "Bearer"})


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--write-key", required=True)
    p.add_argument("--expires-in", type=int, default=3599)
    ARGS = p.parse_args()
    KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    server = simcore.Server(("127.0.0.1", 0), Token)
    port = server.server_address[1]
    with open(ARGS.write_key, "w") as f:
        json.dump({"type": "service_account", "project_id": "cloudprotect-test",
                   "private_key_id": "sim-key-1", "private_key": pem, "client_email": EMAIL,
                   "client_id": "1234567890", "token_uri": "http://127.0.0.1:%d/token" % port}, f)
    simcore.serve_on(server)
