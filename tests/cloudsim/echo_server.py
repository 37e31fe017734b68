#!/usr/bin/env python3
"""A generic HTTP endpoint for the transport engine's tests.

Not a model of any cloud: it answers the shapes the engine must handle.
Error bodies follow the formats in
  https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
  https://learn.microsoft.com/rest/api/storageservices/status-and-error-codes2
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
and Retry-After per RFC 9110 section 10.2.3.

  GET  /blob/<n>    n deterministic bytes (byte i = i*7 mod 251)
  PUT|POST /upload  consumes the body, answers {"sha256":..., "length":...}
  ANY  /echo        (?sleep=seconds first) answers the method, path, query and headers it saw
  GET  /status/<n>  answers status n with an S3-style error body
"""

import hashlib
import sys
import time

import simcore


def blob(n):
    return bytes((i * 7) % 251 for i in range(n))


class Echo(simcore.Handler):
    def handle_service(self, url, q, body):
        parts = url.path.strip("/").split("/")
        if parts[0] == "blob" and len(parts) == 2:
            data = blob(int(parts[1]))
            if self.slow:
                return self.send_slow(200, data)
            return self.reply(200, data)
        if parts[0] == "upload":
            return self.reply_json(200, {"sha256": hashlib.sha256(body).hexdigest(),
                                         "length": len(body), "method": self.command})
        if parts[0] == "echo":
            if "sleep" in q:
                simcore.SIM.enter_busy()
                time.sleep(float(q["sleep"][0]))
                simcore.SIM.leave_busy()
            return self.reply_json(200, {"method": self.command, "path": url.path,
                                         "query": url.query,
                                         "headers": [[k, v] for k, v in self.headers.items()],
                                         "length": len(body)})
        if parts[0] == "status" and len(parts) == 2:
            ctype, text = simcore.error_body("xml", "Status" + parts[1], "status on request")
            return self.reply(int(parts[1]), text, ctype)
        return super().handle_service(url, q, body)


if __name__ == "__main__":
    simcore.serve(Echo, sys.argv)
