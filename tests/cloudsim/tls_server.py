#!/usr/bin/env python3
"""The echo endpoint (echo_server.py) over TLS, for certificate tests.

At start it makes a throwaway CA and a server certificate for 127.0.0.1
and localhost with the openssl command-line tool, in the directory given
with --dir (which the test reads: ca.pem is the CA to trust, other-ca.pem one that
signed nothing here, and hashed/
holds it under its subject hash for CApath use, as `openssl rehash` names
it). TLS per RFC 8446 via Python's ssl module; certificates per RFC 5280
(subjectAltName, basicConstraints CA:TRUE on the CA).
Prints "PORT <n>" and exits when stdin closes, like every cloudsim server.
"""

import argparse
import os
import ssl
import subprocess

import echo_server
import simcore


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certs(d):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=cloudprotect test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    # A CA that signed nothing here: trusting only it must fail.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out",
            "other-ca.pem", "-days", "2", "-subj", "/CN=cloudprotect unrelated CA",
            "-addext", "basicConstraints=critical,CA:TRUE", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    hashed = os.path.join(d, "hashed")
    os.makedirs(hashed, exist_ok=True)
    h = subprocess.run(["openssl", "x509", "-noout", "-subject_hash", "-in", "ca.pem"], cwd=d,
                       check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(d, "ca.pem"), "rb") as src, \
            open(os.path.join(hashed, h + ".0"), "wb") as dst:
        dst.write(src.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    make_certs(args.dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(args.dir, "server.pem"), os.path.join(args.dir, "server.key"))
    # Handshake per connection in the handler thread, so a client that refuses
    # our certificate cannot stall the accept loop.
    ctx_wrap = ctx.wrap_socket

    class TLSServer(simcore.Server):
        def finish_request(self, request, client_address):
            try:
                request = ctx_wrap(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            super().finish_request(request, client_address)

    server = TLSServer(("127.0.0.1", 0), echo_server.Echo)
    simcore.serve_on(server)


if __name__ == "__main__":
    main()
