#!/usr/bin/env python3
"""A minimal forward HTTP proxy for the transport tests.

Follows RFC 9110 section 7.1 / RFC 9112 section 3.2.2 (absolute-form
request targets, which a client sends to a proxy for http:// URLs) and
RFC 9110 section 9.3.6 (CONNECT, the tunnel a client opens through a proxy
for https:// URLs). Hop-by-hop headers (RFC 9110 section 7.6.1) are not
forwarded.

Every proxied request is logged, so a test can prove what went through the
proxy and what did not. Origin-form requests are the control interface:
  GET  /_proxy/log    [{"method", "target"}...]; CONNECT targets are host:port
  GET  /_proxy/stats  {"requests": n, "stalled": requests held right now}
  POST /_proxy/stall  {"method": "PUT", "contains": "/data/", "seconds": 30}
                      holds matching requests (after reading them) that long
                      before forwarding: a transfer that hangs mid-flight. A
                      request whose client went away meanwhile is dropped.
  POST /_proxy/reset  clears the log and the stall rules (releasing held requests)
Prints "PORT <n>" and exits when stdin closes, like every cloudsim server.
"""

import http.client
import http.server
import json
import select
import socket
import sys
import threading
import urllib.parse

import simcore

HOP = {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "te", "trailer",
       "transfer-encoding", "upgrade"}
LOCK = threading.Lock()
LOG = []
RULES = []
STALLED = [0]
RELEASE = threading.Event()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def control(self):
        body = self.read_body()
        path = urllib.parse.urlsplit(self.path).path
        with LOCK:
            if path == "/_proxy/log":
                return self.reply_json(200, list(LOG))
            if path == "/_proxy/stats":
                return self.reply_json(200, {"requests": len(LOG), "stalled": STALLED[0]})
            if path == "/_proxy/stall" and self.command == "POST":
                RELEASE.clear()
                RULES.append(json.loads(body or b"{}"))
                return self.reply_json(200, {"ok": True})
            if path == "/_proxy/reset" and self.command == "POST":
                LOG.clear()
                RULES.clear()
                RELEASE.set()
                return self.reply_json(200, {"ok": True})
        return self.reply_json(404, {"error": "unknown control path " + path})

    def client_gone(self):
        r, _, _ = select.select([self.connection], [], [], 0)
        if not r:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def stall(self, target):
        with LOCK:
            rule = next((r for r in RULES
                         if r.get("method", self.command) == self.command
                         and r.get("contains", "") in target), None)
            if not rule:
                return False
            STALLED[0] += 1
        RELEASE.wait(float(rule.get("seconds", 30)))
        with LOCK:
            STALLED[0] -= 1
        return self.client_gone()

    def forward(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        with LOCK:
            LOG.append({"method": self.command, "target": self.path})
        if self.stall(self.path):
            self.close_connection = True
            return
        conn_cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(url.hostname, url.port or (443 if url.scheme == "https" else 80),
                        timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        if body or self.command in ("PUT", "POST", "PATCH"):
            headers["Content-Length"] = str(len(body))
        target = url.path + ("?" + url.query if url.query else "")
        try:
            # Send exactly the client's headers: signatures may cover them.
            conn.putrequest(self.command, target or "/", skip_host=True,
                            skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders(body or None)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            return self.reply_json(502, {"error": "upstream failed: %s" % e})
        finally:
            conn.close()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() in HOP or k.lower() in ("server", "date") or (
                    k.lower() == "content-length" and self.command != "HEAD"):
                continue
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.end_headers()

    def tunnel(self):
        with LOCK:
            LOG.append({"method": "CONNECT", "target": self.path})
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except OSError as e:
            return self.reply_json(502, {"error": "cannot reach %s: %s" % (self.path, e)})
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        peers = [self.connection, upstream]
        try:
            while True:
                r, _, _ = select.select(peers, [], [], 60)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is self.connection else self.connection).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()

    def dispatch(self):
        if self.command == "CONNECT":
            return self.tunnel()
        if self.path.startswith("/"):
            return self.control()
        return self.forward()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_CONNECT = dispatch


if __name__ == "__main__":
    server = simcore.Server(("127.0.0.1", 0), Proxy)
    simcore.serve_on(server)
