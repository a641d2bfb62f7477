#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A scripted stand-in for the control plane's ingest and heartbeat endpoints
(control/DESIGN.md), for tests/unit/test_shipper.c.  Python stdlib only.

Listens on 127.0.0.1, writes its port to --port-file (atomically), and
appends one JSON line per request to --log, written before the answer:
  {"t": unix time, "method", "path", "auth", "content_type",
   "status": answered status or "drop", "body": parsed JSON or null,
   "raw": the body's start when it is not JSON}

--script "503,200,drop,..." answers the successive POSTs to /api/v1/ingest
  with those statuses ("drop": close the connection without an answer);
  after the list, 200.  A 2xx answer is {"accepted": N, "duplicates": N},
  duplicates being the alerts whose id an earlier 2xx already accepted.
/api/v1/heartbeat always answers {"ok": true}.
--token T: requests without "Authorization: Bearer T" get 401 (not scripted).
--down-first S: the port is bound (so known) but not listened on for S
  seconds: connections are refused, as when the control plane is down.
--down-after N --down-for S: after answering the Nth ingest request, stop
  listening for S seconds, then listen again on the same port.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.args = args
        self.script = [s.strip() for s in args.script.split(",") if s.strip()]
        self.lock = threading.Lock()
        self.ingests = 0
        self.seen = set()
        self.log = open(args.log, "a", encoding="utf-8")
        self.go_down = threading.Event()

    def record(self, entry):
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, obj, close=False):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(405, {"error": "POST only"})

    def do_POST(self):
        st = self.state
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        entry = {"t": time.time(), "method": "POST", "path": self.path,
                 "auth": self.headers.get("Authorization"),
                 "content_type": self.headers.get("Content-Type"), "body": None}
        try:
            entry["body"] = json.loads(raw)
        except ValueError:
            entry["raw"] = raw[:200].decode("utf-8", "replace")
        if st.args.token and entry["auth"] != "Bearer " + st.args.token:
            entry["status"] = 401
            st.record(entry)
            self.answer(401, {"error": "unknown token"})
            return
        if self.path == "/api/v1/heartbeat":
            entry["status"] = 200
            st.record(entry)
            self.answer(200, {"ok": True})
            return
        if self.path != "/api/v1/ingest":
            entry["status"] = 404
            st.record(entry)
            self.answer(404, {"error": "no such path"})
            return
        with st.lock:
            i = st.ingests
            st.ingests += 1
        action = st.script[i] if i < len(st.script) else "200"
        down = st.args.down_after and i + 1 == st.args.down_after
        if action == "drop":
            entry["status"] = "drop"
            st.record(entry)
            self.close_connection = True
            return
        status = int(action)
        entry["status"] = status
        st.record(entry)
        if 200 <= status < 300:
            alerts = (entry["body"] or {}).get("alerts") or []
            dup = 0
            with st.lock:
                for a in alerts:
                    aid = a.get("id") if isinstance(a, dict) else None
                    if aid in st.seen:
                        dup += 1
                    st.seen.add(aid)
            self.answer(status, {"accepted": len(alerts) - dup, "duplicates": dup}, close=down)
        else:
            self.answer(status, {"error": "scripted %d" % status}, close=down)
        if down:
            st.go_down.set()


def make_server(port):
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler, bind_and_activate=False)
    srv.daemon_threads = True
    srv.block_on_close = False
    srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.server_bind()
    return srv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", default="")
    ap.add_argument("--token", default="")
    ap.add_argument("--down-first", type=float, default=0)
    ap.add_argument("--down-after", type=int, default=0)
    ap.add_argument("--down-for", type=float, default=0)
    args = ap.parse_args()
    Handler.state = st = State(args)

    srv = make_server(args.port)
    port = srv.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    if args.down_first:
        time.sleep(args.down_first)
    while True:
        srv.server_activate()
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        st.go_down.wait()
        srv.shutdown()
        srv.server_close()
        time.sleep(args.down_for)
        st.go_down.clear()
        st.args.down_after = 0
        srv = make_server(port)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
