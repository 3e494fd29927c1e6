"""A local stand-in in front of moto, for what moto does not do.

It speaks the services' own wire protocols (AWS JSON 1.1 for Config, the query protocol
for IAM and STS): requests it has a rule for get the rule's answer; everything else is
forwarded to moto unchanged. Rules come from a JSON file:

    {"rules": [{"operation": "DescribeComplianceByConfigRule", "status": 200,
                "body": {...}, "times": -1, "content_type": "application/x-amz-json-1.1"}]}

`times` is how often the rule answers (-1: always); after that, requests pass through.
A rule with `"match": "text"` answers only requests whose (URL-decoded) body contains
the text, e.g. one role ARN of several AssumeRole calls. Operations are named by the
`X-Amz-Target` header (JSON protocols), the `Action` parameter (query protocol), or the
last path segment (REST-JSON: `/listRegions` is `ListRegions`).
A rule `{"operation": ..., "fix_timestamps": true}` forwards to moto and rewrites the
timestamps moto writes as "YYYY-MM-DD HH:MM:SS" strings into epoch seconds, as AWS's
JSON 1.1 protocol sends them (moto deviates there, and the real SDK rejects it).
With `{"chaos": {"rate": 0.3, "seed": 7}}` beside the rules, that share of requests
(deterministically, by seed) fails instead of passing through: a throttling error, a
500, a connection reset, a slow answer past the client's timeout budget, or a body cut
in half. It listens on 127.0.0.1 only, on the port given, and counts the requests it saw
(GET /_standin/count).

Usage: python standin.py PORT MOTO_URL RULES.json
"""

import datetime
import json
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, MOTO, RULES = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]
with open(RULES) as f:
    config = json.load(f)
rules = config.get("rules", [])
chaos = config.get("chaos")
import random
import socket
import time
rng = random.Random(chaos.get("seed", 7) if chaos else 0)
lock = threading.Lock()
seen = {"count": 0}


def operation(headers, body, path):
    target = headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    try:
        return urllib.parse.parse_qs(body.decode())["Action"][0]
    except Exception:
        pass
    last = path.split("?")[0].rstrip("/").split("/")[-1]
    return last[:1].upper() + last[1:] if last else None


def matches(rule, op, body):
    if rule["operation"] != op or rule.get("times", -1) == 0:
        return False
    text = rule.get("match")
    return text is None or text in urllib.parse.unquote_plus(body.decode(errors="replace"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_standin/count":
            return self.reply(200, json.dumps(seen).encode(), "application/json")
        return self.forward(b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            seen["count"] += 1
        op = operation(self.headers, body, self.path)
        with lock:
            rule = next((r for r in rules if matches(r, op, body)), None)
            if rule is not None and rule.get("times", -1) > 0:
                rule["times"] -= 1
        if chaos is not None:
            with lock:
                roll, kind = rng.random(), rng.choice(["throttle", "500", "reset", "truncate", "throttle"])
            if roll < chaos.get("rate", 0.3):
                return self.fault(kind, body)
        if rule is not None and rule.get("fix_timestamps"):
            return self.forward(body, fix=True)
        if rule is not None:
            payload = rule["body"]
            payload = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            return self.reply(rule.get("status", 200), payload, rule.get("content_type", "application/x-amz-json-1.1"), rule.get("headers"))
        return self.forward(body)

    def fault(self, kind, body):
        json_protocol = "X-Amz-Target" in self.headers
        if kind == "throttle":
            if json_protocol:
                payload = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded (chaos)"}).encode()
                return self.reply(400, payload, "application/x-amz-json-1.1")
            payload = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded (chaos)</Message></Error><RequestId>c</RequestId></ErrorResponse>"
            return self.reply(400, payload, "text/xml")
        if kind == "500":
            return self.reply(500, b"internal error (chaos)", "text/plain")
        if kind == "reset":
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            finally:
                self.connection.close()
            return None
        # truncate: a real answer, cut in half, with the full length announced.
        status, data, ctype = self.fetch(body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True
        return None

    def fetch(self, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        request = urllib.request.Request(MOTO + self.path, data=body or None, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers.get("Content-Type", "text/xml")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type", "text/xml")

    def forward(self, body, fix=False):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        request = urllib.request.Request(MOTO + self.path, data=body or None, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, data, ctype = response.status, response.read(), response.headers.get("Content-Type", "text/xml")
        except urllib.error.HTTPError as e:
            status, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "text/xml")
        if fix and status == 200:
            data = json.dumps(epoch_seconds(json.loads(data))).encode()
        self.reply(status, data, ctype)


STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?$")


def epoch_seconds(value):
    if isinstance(value, dict):
        return {k: epoch_seconds(v) for k, v in value.items()}
    if isinstance(value, list):
        return [epoch_seconds(v) for v in value]
    if isinstance(value, str) and STAMP.match(value):
        t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
        if t.tzinfo is None:
            t = t.replace(tzinfo=datetime.timezone.utc)
        return t.timestamp()
    return value


ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
