#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A notification target for tests/control/test_notify.c.  Standard library only.

  notify_receiver.py --log FILE [--script ANSWERS]          HTTP on 127.0.0.1
  notify_receiver.py --log FILE --udp                       syslog over UDP

Listens on 127.0.0.1, an ephemeral port, and prints the port on the first
line of stdout.  Every request (or datagram) becomes one JSON line in FILE,
written and flushed before it is answered:

  HTTP: {"t", "method", "path", "headers": {lower-case name: value},
         "body", "client_port", "answer"}
  UDP:  {"t", "raw", "parsed"} where parsed is the RFC 5424 message split by
        a regex ({"pri", "version", "timestamp", "hostname", "app", "procid",
        "msgid", "sdid", "params": {name: unescaped value}, "msg"}) or null
        when it does not match.

ANSWERS is a comma-separated list used one per request, the last repeated
when the list runs out (default "200"): a status code, "hang" (read the
request, never answer; the connection is closed after 10 s), or "close"
(close the connection without answering).

The receiver exits when its stdin reaches end of file, so it never outlives
the test that started it.
"""
import argparse
import http.server
import json
import os
import re
import socket
import sys
import threading
import time

SD_NAME = r'[^ =\]"]{1,32}'
PARAM_VALUE = r'(?:[^"\\\]]|\\["\\\]])*'
RFC5424 = re.compile(
    r'<(?P<pri>\d{1,3})>(?P<version>[1-9]\d{0,2}) '
    r'(?P<timestamp>-|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)) '
    r'(?P<hostname>[!-~]{1,255}) (?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) '
    r'(?P<sd>-|(?:\[' + SD_NAME + r'(?: ' + SD_NAME + r'="' + PARAM_VALUE + r'")*\])+)'
    r'(?: (?P<msg>.*))?', re.S)
SD_ELEMENT = re.compile(r'\[(?P<id>' + SD_NAME + r')(?P<params>(?: ' + SD_NAME + r'="' + PARAM_VALUE + r'")*)\]')
SD_PARAM = re.compile(r' (' + SD_NAME + r')="(' + PARAM_VALUE + r')"')


def parse_syslog(raw):
    m = RFC5424.fullmatch(raw)
    if not m:
        return None
    out = {k: m.group(k) for k in ('pri', 'version', 'timestamp', 'hostname', 'app', 'procid', 'msgid', 'msg')}
    out['pri'] = int(out['pri'])
    out['sdid'] = None
    out['params'] = {}
    if m.group('sd') != '-':
        el = SD_ELEMENT.match(m.group('sd'))
        out['sdid'] = el.group('id')
        for name, value in SD_PARAM.findall(el.group('params')):
            out['params'][name] = re.sub(r'\\(["\\\]])', r'\1', value)
    return out


class Recorder:
    def __init__(self, path, script):
        self.f = open(path, 'a', encoding='utf-8')
        self.lock = threading.Lock()
        self.script = script
        self.n = 0

    def next_answer(self):
        with self.lock:
            a = self.script[min(self.n, len(self.script) - 1)]
            self.n += 1
            return a

    def write(self, rec):
        with self.lock:
            self.f.write(json.dumps(rec) + '\n')
            self.f.flush()


def serve_http(rec):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'     # keep-alive: lets the test see connection reuse
        disable_nagle_algorithm = True    # headers and body are two writes

        def log_message(self, *args):
            pass

        def handle_any(self):
            n = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(n) if n else b''
            answer = rec.next_answer()
            rec.write({'t': time.time(), 'method': self.command, 'path': self.path,
                       'headers': {k.lower(): v for k, v in self.headers.items()},
                       'body': body.decode('utf-8', 'replace'),
                       'client_port': self.client_address[1], 'answer': answer})
            if answer == 'hang':
                time.sleep(10)
                self.close_connection = True
                return
            if answer == 'close':
                self.close_connection = True
                return
            code = int(answer)
            out = json.dumps({'status': 'ok'} if code < 300 else {'error': 'scripted %d' % code}).encode()
            self.send_response(code)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_POST = do_PUT = do_GET = handle_any

    http.server.ThreadingHTTPServer.daemon_threads = True
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


def serve_udp(rec):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    print(s.getsockname()[1], flush=True)
    while True:
        data, _ = s.recvfrom(65536)
        try:
            raw = data.decode('utf-8')
        except UnicodeDecodeError:
            rec.write({'t': time.time(), 'raw': None, 'raw_hex': data.hex(), 'parsed': None})
            continue
        rec.write({'t': time.time(), 'raw': raw, 'parsed': parse_syslog(raw)})


def watch_stdin():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--log', required=True)
    ap.add_argument('--script', default='200')
    ap.add_argument('--udp', action='store_true')
    a = ap.parse_args()
    script = [x.strip() for x in a.script.split(',') if x.strip()]
    for x in script:
        if x not in ('hang', 'close') and not x.isdigit():
            ap.error('bad answer %r' % x)
    rec = Recorder(a.log, script or ['200'])
    threading.Thread(target=watch_stdin, daemon=True).start()
    (serve_udp if a.udp else serve_http)(rec)


if __name__ == '__main__':
    main()
