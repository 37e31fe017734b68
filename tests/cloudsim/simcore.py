"""Shared plumbing for the cloudsim fake servers.

Every server binds 127.0.0.1 on a free port, prints "PORT <n>" on stdout,
serves with ThreadingHTTPServer (HTTP/1.1, keep-alive) and exits when its
stdin closes, so a test that dies never leaves one behind.

Faults are injected on demand, either with a control request
    POST /_sim/faults  {"path": "/x", "method": "POST", "count": 2,
                        "kind": "status"|"reset"|"reset_after_body"|"slow",
                        "status": 503, "code": "SlowDown", "style": "xml"|"json"|"azure",
                        "retry_after": "1", "delay": 2.0}
or with a query flag on the request itself: ?sim_fault=503 (once per distinct
URL). GET /_sim/log returns every request seen (method, path, body length, the
client's port), so tests can prove what was and was not sent twice and that
connections were reused; GET /_sim/stats gives the most requests in flight
at once; POST /_sim/reset clears faults, the log and the stats.
"""

import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse


class Sim:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.log = []
        self.flagged = set()
        self.active = 0
        self.max_active = 0
        self.busy = 0
        self.max_busy = 0

    def enter_busy(self):
        # Counted while a handler works, before its answer is written, so a client
        # cannot have started its next request yet: an exact in-flight count.
        with self.lock:
            self.busy += 1
            self.max_busy = max(self.max_busy, self.busy)

    def leave_busy(self):
        with self.lock:
            self.busy -= 1

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.get("count", 1) <= 0:
                    continue
                if f.get("path") and not path.startswith(f["path"]):
                    continue
                if f.get("method") and f["method"] != method:
                    continue
                f["count"] = f.get("count", 1) - 1
                return dict(f)
        return None


SIM = Sim()


def error_body(style, code, message):
    if style == "json":
        return "application/json", json.dumps({"__type": "com.amazon#" + code, "message": message})
    if style == "oauth":
        return "application/json", json.dumps({"error": code, "error_description": message})
    if style == "azure":
        return "application/xml", (
            "\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code>"
            "<Message>%s</Message></Error>" % (code, message))
    return "application/xml", (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message>"
        "<RequestId>sim-req-%d</RequestId></Error>" % (code, message, int(time.time() * 1000)))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudsim/1"

    def log_message(self, fmt, *args):
        if os.environ.get("CLOUDSIM_VERBOSE"):
            sys.stderr.write("cloudsim: " + (fmt % args) + "\n")

    # -- helpers for service handlers --
    def read_body(self):
        if hasattr(self, "_body"):
            return self._body
        n = int(self.headers.get("Content-Length") or 0)
        self._body = self.rfile.read(n) if n else b""
        return self._body

    def reply(self, status, body=b"", ctype="application/octet-stream", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if not any(k.lower() in ("x-ms-request-id", "x-guploader-uploadid", "x-amz-request-id")
                   for k in (headers or {})):
            self.send_header("x-amz-request-id", "sim-%d" % id(self))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reply_json(self, status, obj, headers=None):
        self.reply(status, json.dumps(obj), "application/json", headers)

    # -- dispatch --
    def _dispatch(self):
        with SIM.lock:
            SIM.active += 1
            SIM.max_active = max(SIM.max_active, SIM.active)
        try:
            self._dispatch_counted()
        finally:
            with SIM.lock:
                SIM.active -= 1

    def _dispatch_counted(self):
        # One handler object serves every request of a keep-alive connection.
        self.__dict__.pop("_body", None)
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/_sim/"):
            return self._control(url.path)
        fault = SIM.take_fault(self.command, url.path)
        q = urllib.parse.parse_qs(url.query)
        if not fault and "sim_fault" in q:
            with SIM.lock:
                fresh = self.path not in SIM.flagged
                SIM.flagged.add(self.path)
            if fresh:
                fault = {"kind": "status", "status": int(q["sim_fault"][0]),
                         "retry_after": q.get("sim_retry_after", [None])[0]}
        if fault and fault.get("kind") == "reset":
            # Drop the connection before reading the request: nothing was acted on
            # from the server's point of view, but the client had sent it.
            self._record(url.path, None, "reset")
            self._reset()
            return
        body = self.read_body()
        self._record(url.path, body, fault.get("kind") if fault else None)
        if fault and fault.get("kind") == "reset_after_body":
            self._reset()
            return
        if fault and fault.get("kind", "status") == "status":
            ctype, text = error_body(fault.get("style", "xml"), fault.get("code", "InternalError"),
                                     fault.get("message", "injected fault"))
            hdrs = {}
            if fault.get("retry_after") is not None:
                hdrs["Retry-After"] = str(fault["retry_after"])
            if fault.get("style") == "azure":
                hdrs["x-ms-error-code"] = fault.get("code", "InternalError")
                hdrs["x-ms-request-id"] = "sim-azure-req"
            self.reply(int(fault.get("status", 503)), text, ctype, hdrs)
            return
        self.slow = fault.get("delay", 2.0) if fault and fault.get("kind") == "slow" else 0
        self.handle_service(url, q, body)

    def _reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        except OSError:
            pass
        self.close_connection = True
        self.connection.close()

    def _record(self, path, body, fault):
        with SIM.lock:
            SIM.log.append({"method": self.command, "path": path,
                            "query": urllib.parse.urlsplit(self.path).query,
                            "length": None if body is None else len(body), "fault": fault,
                            "peer_port": self.client_address[1]})

    def _control(self, path):
        if path == "/_sim/faults" and self.command == "POST":
            spec = json.loads(self.read_body() or b"{}")
            with SIM.lock:
                SIM.faults.extend(spec if isinstance(spec, list) else [spec])
            return self.reply_json(200, {"ok": True})
        if path == "/_sim/stats":
            with SIM.lock:
                return self.reply_json(200, {"max_active": SIM.max_busy,
                                             "requests": len(SIM.log)})
        if path == "/_sim/log":
            with SIM.lock:
                return self.reply_json(200, SIM.log)
        if path == "/_sim/reset" and self.command == "POST":
            self.read_body()
            with SIM.lock:
                SIM.faults.clear()
                SIM.log.clear()
                SIM.flagged.clear()
                SIM.max_active = 0
                SIM.max_busy = 0
            return self.reply_json(200, {"ok": True})
        return self.reply_json(404, {"error": "unknown control path"})

    def send_slow(self, status, body, ctype="application/octet-stream", headers=None):
        """Headers now, then the body a byte at a time with pauses (a stalled download)."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body[:1])
            self.wfile.flush()
            time.sleep(self.slow)
            self.wfile.write(body[1:])
        except OSError:
            pass

    def handle_service(self, url, q, body):
        self.reply_json(404, {"error": {"code": "NotFound", "message": "no such path " + url.path}})

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _dispatch


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: 32 clients connecting at once would
    # see SYNs dropped and retried a second later, timing the kernel instead of the client.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Injected resets end connections mid-request; that is the point, not news.
        if os.environ.get("CLOUDSIM_VERBOSE"):
            super().handle_error(request, client_address)


def serve(handler_class, argv=None):
    serve_on(Server(("127.0.0.1", 0), handler_class))


def serve_on(server):
    """Announce the port, serve, and stop when stdin closes."""
    print("PORT %d" % server.server_address[1], flush=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        # Exit when the parent test closes our stdin (or dies).
        while sys.stdin.read(1):
            pass
    except KeyboardInterrupt:
        pass
    server.shutdown()
