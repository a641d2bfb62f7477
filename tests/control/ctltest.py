# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of the control-plane tests: run vigil-control on a temporary
SQLite file on a free loopback port, talk to it over real HTTP (urllib),
build alerts, flow records, captures and rules.  Standard library only."""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
from vigiltest import Failed, check, main  # noqa: E402,F401  (re-exported)

T0 = 1700000000


class Server:
    """vigil-control init + serve on 127.0.0.1:0; .url, .admin (token)."""

    def __init__(self, exe, args=(), clock=None, workdir=None, admin=None):
        self.exe = exe
        self.admin = admin
        self.dir = workdir or tempfile.mkdtemp(prefix='vigil-ctl-')
        self.db = os.path.join(self.dir, 'control.db')
        self.clock_file = None
        if clock is not None:
            self.clock_file = os.path.join(self.dir, 'clock')
            self.set_clock(clock)
        if not os.path.exists(self.db):
            p = subprocess.run([exe, 'init', '--db', self.db], capture_output=True, text=True, timeout=30)
            check(p.returncode == 0, 'init failed: %s' % p.stderr)
            self.admin = p.stdout.strip()
            check(p.stdout.count('\n') == 1 and self.admin.startswith('vgl_') and len(self.admin) == 47,
                  'init did not print one token line: %r' % p.stdout)
        cmd = [exe, 'serve', '--db', self.db, '--listen', '127.0.0.1:0'] + list(args)
        if self.clock_file:
            cmd += ['--clock-file', self.clock_file]
        self.errlog = open(os.path.join(self.dir, 'stderr.log'), 'w+')
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errlog, text=True)
        line = self.proc.stdout.readline()
        check(line.startswith('vigil-control: listening on http'), 'serve did not start: %r %s' %
              (line, self.stderr()))
        self.url = line.split(' on ', 1)[1].strip()

    def stderr(self):
        self.errlog.flush()
        self.errlog.seek(0)
        return self.errlog.read()

    def set_clock(self, t):
        tmp = self.clock_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%s\n' % t)
        os.replace(tmp, self.clock_file)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns the exit status (a clean shutdown is 0)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failed('vigil-control did not stop on SIGTERM')
        self.proc.stdout.close()
        self.log = self.stderr()
        self.errlog.close()
        return self.proc.returncode

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def http(url, method='GET', path='/', body=None, token=None, raw=None, headers=None, timeout=60):
    """One request; returns (status, headers, parsed JSON or text)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url + path, data=data, method=method)
    if token:
        req.add_header('Authorization', 'Bearer ' + token)
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, hdrs, text = r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        status, hdrs, text = e.code, e.headers, e.read().decode()
    if hdrs.get('Content-Type', '').startswith('application/json'):
        return status, hdrs, json.loads(text)
    return status, hdrs, text


class Client:
    """Calls as one token; expect() checks the status."""

    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None, **kw):
        return http(self.url, method, path, body, self.token, **kw)

    def expect(self, status, method, path, body=None, **kw):
        st, _, ans = self.call(method, path, body, **kw)
        check(st == status, '%s %s: HTTP %d (expected %d): %s' % (method, path, st, status, ans))
        return ans


def alert(i, sid=2000001, src='192.0.2.1', dst='10.0.0.1', ts=None, severity=3, sensor='s1',
          category='Misc activity', signature='TEST alert'):
    t = time.gmtime(ts if ts is not None else T0 + i)
    return {
        'id': '%s:%d' % (sensor, i), 'ts': time.strftime('%Y-%m-%dT%H:%M:%S.000000+0000', t),
        'sid': sid, 'gid': 1, 'rev': 1, 'signature': signature, 'category': category,
        'severity': severity, 'action': 'allowed', 'ruleset': 'r1', 'src_ip': src, 'src_port': 40000,
        'dest_ip': dst, 'dest_port': 80, 'proto': 'TCP', 'flow_id': 1000 + i,
    }


def flow(i, flow_id, sensor='s1', src='192.0.2.1', dst='10.0.0.1', start=None, end=None, src_port=40000,
         dest_port=80, proto='TCP', state='closed', reason='timeout'):
    """A FLOW object as the dataplane ships it (times as T0 + seconds)."""
    s = start if start is not None else T0 + i
    e = end if end is not None else s + 10
    f = {
        'type': 'flow', 'id': '%s:%d' % (sensor, i), 'flow_id': flow_id,
        'start': time.strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', time.gmtime(s)),
        'end': time.strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', time.gmtime(e)),
        'src_ip': src, 'dest_ip': dst, 'proto': proto, 'pkts_toserver': 3, 'pkts_toclient': 2,
        'bytes_toserver': 300, 'bytes_toclient': 200, 'state': state, 'reason': reason,
    }
    if src_port is not None:
        f['src_port'] = src_port
    if dest_port is not None:
        f['dest_port'] = dest_port
    return f


def add_user(admin, name, role):
    """Creates a user and a token; returns the token."""
    admin.expect(201, 'POST', '/api/v1/users', {'name': name, 'role': role})
    return admin.expect(201, 'POST', '/api/v1/users/%s/tokens' % name, {})['token']


# --- captures and rules for the rule change management tests ----------------

def _csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def udp_frame(i, payload, dport=9999):
    """An Ethernet frame of one UDP datagram 192.0.2.x -> 198.51.100.7
    (documentation addresses)."""
    udp = struct.pack('!HHHH', 10000 + i % 50000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1 + i % 200]), bytes([198, 51, 100, 7]))
    ip = ip[:10] + struct.pack('!H', _csum(ip)) + ip[12:]
    return b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + ip + udp


PCAP_HEADER = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)


def pcap_record(frame, t):
    return struct.pack('<IIII', int(t), int(t % 1 * 1e6), len(frame), len(frame)) + frame


def pcap_bytes(payloads, t0=T0):
    """A pcap of one UDP datagram per payload, a second apart."""
    return PCAP_HEADER + b''.join(pcap_record(udp_frame(i, p), t0 + i) for i, p in enumerate(payloads))


def rule(sid, content, msg=None, port=9999):
    return ('alert udp any any -> any %d (msg:"%s"; content:"%s"; sid:%d; rev:1;)' %
            (port, msg or 'test %d' % sid, content, sid))


def ruleset_text(*lines):
    return ''.join(ln + '\n' for ln in lines)


def wait_validated(client, vid, timeout=120):
    """Polls a version until its validation is done; returns the VERSION."""
    deadline = time.time() + timeout
    while True:
        v = client.expect(200, 'GET', '/api/v1/rulesets/' + vid)
        if v['status'] not in ('validating', 'submitted'):
            return v
        if time.time() > deadline:
            raise Failed('version %s still %s after %d s' % (vid[:12], v['status'], timeout))
        time.sleep(0.1)


def step(version, name):
    """The named step of a version's validation."""
    for s in version['validation']['steps']:
        if s['name'] == name:
            return s
    raise Failed('no %s step in %s' % (name, version['validation']))
