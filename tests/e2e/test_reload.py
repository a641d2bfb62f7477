#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live ruleset reloads under load (e2e test 'reload-live').

vigil reads a pcap stream from a FIFO that a generator thread fills as fast
as vigil takes it, while the test switches the ruleset 20 times through the
command socket (alternating rulesets A and B) and once more by SIGHUP, and
asks for one reload that must be refused.  Then:
- no packet was lost (every packet sent was decoded; no drop counter moved);
- every alert both rulesets define kept firing: one per marked UDP packet,
  one per TCP session whose pattern is split over two segments sent far
  apart (so many sessions straddle a switch: stream state carries over),
  one per flow whose flowbit was set before and checked after a switch
  (ruleset B has extra flowbit names, so only stable ids make this work);
- the rules only A or only B define both fired, from two ruleset ids;
- the refused reload (strict, a bad rule) named file:line:col, and the
  ruleset in use did not change.
Prints the compile and switch times and the longest worker burst.

usage: test_reload.py VIGIL"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from vigiltest import check, last_stats, main, tmpdir

BOTH = '''alert udp any any -> any 9999 (msg:"reload both udp"; content:"VRELOADBOTH"; sid:8000001; rev:1;)
alert tcp any any -> any 8080 (msg:"reload both stream"; flow:established,to_server; content:"VRELOADSTREAM"; sid:8000004; rev:1;)
alert udp any any -> any 9998 (msg:"reload fb set"; content:"FBSET"; flowbits:set,vr.seen; flowbits:noalert; sid:8000005; rev:1;)
alert udp any any -> any 9998 (msg:"reload fb check"; content:"FBCHECK"; flowbits:isset,vr.seen; sid:8000006; rev:1;)
'''
ONLY_A = 'alert udp any any -> any 9999 (msg:"reload only A"; content:"VRELOADONLY"; sid:8000002; rev:1;)\n'
ONLY_B = '''alert udp any any -> any 9999 (msg:"reload only B"; content:"VRELOADONLY"; sid:8000003; rev:1;)
alert udp any any -> any 7 (msg:"B flowbits"; content:"zz"; flowbits:set,aa.first; flowbits:set,ab.second; sid:8000007; rev:1;)
'''
BAD = '''alert udp any any -> any 9999 (msg:"fine"; content:"x"; sid:8000010; rev:1;)
alert udp any any -> any 9999 (msg:"broken"; content:"y"; depth:-4; sid:8000011; rev:1;)
'''
RELOADS = 20
SESSIONS_PER_ROUND = 200


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def ip4(src, dst, proto, l4):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, src, dst)
    return b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + h[:10] + struct.pack('!H', csum(h)) + h[12:] + l4


def udp(src, sport, dst, dport, pl):
    return ip4(src, dst, 17, struct.pack('!HHHH', sport, dport, 8 + len(pl), 0) + pl)


def tcp(src, sport, dst, dport, seq, ack, flags, pl=b''):
    hdr = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack('!BBH', 0, 6, len(hdr) + len(pl))
    c = csum(pseudo + hdr + pl)
    return ip4(src, dst, 6, hdr[:16] + struct.pack('!H', c) + hdr[18:] + pl)


def host(net, i):
    return bytes(net + [1 + i % 250])


class Traffic(threading.Thread):
    """Rounds of: marked UDP packets, the first halves of TCP sessions and
    flowbit flows, then (a round later, after more reloads) their second
    halves; until told to stop, then the last second halves and EOF."""

    def __init__(self, fifo):
        super().__init__(daemon=True)
        self.fifo, self.stop = fifo, False
        self.sent = self.both = self.only = 0
        self.sessions = []       # (client ip, client port) of every TCP session
        self.fbflows = []        # (ip, port) of every flowbit flow
        self.rounds = 0
        self.error = None

    def rec(self, p):
        t = time.time()
        self.sent += 1
        return struct.pack('<IIII', int(t), int(t % 1 * 1e6), len(p), len(p)) + p

    def first_half(self, r):
        out, srv = [], bytes([198, 51, 100, 80])
        for k in range(SESSIONS_PER_ROUND):
            c, cp = host([192, 0, 2], k), 1024 + (r * SESSIONS_PER_ROUND + k) % 60000
            isn, sisn = 1000, 5000
            out += [tcp(c, cp, srv, 8080, isn, 0, 0x02), tcp(srv, 8080, c, cp, sisn, isn + 1, 0x12),
                    tcp(c, cp, srv, 8080, isn + 1, sisn + 1, 0x10),
                    tcp(c, cp, srv, 8080, isn + 1, sisn + 1, 0x18, b'GET xx VRELOAD')]
            self.sessions.append((c, cp))
            f = host([203, 0, 113], k)
            out.append(udp(f, cp, srv, 9998, b'FBSET here'))
            self.fbflows.append((f, cp))
        return out

    def second_half(self, r):
        out, srv = [], bytes([198, 51, 100, 80])
        for k in range(SESSIONS_PER_ROUND):
            c, cp = host([192, 0, 2], k), 1024 + (r * SESSIONS_PER_ROUND + k) % 60000
            out += [tcp(c, cp, srv, 8080, 1015, 5001, 0x18, b'STREAM yy'),
                    tcp(srv, 8080, c, cp, 5001, 1024, 0x10),
                    tcp(c, cp, srv, 8080, 1024, 5001, 0x11), tcp(srv, 8080, c, cp, 5001, 1025, 0x11),
                    tcp(c, cp, srv, 8080, 1025, 5002, 0x10)]
            out.append(udp(host([203, 0, 113], k), cp, srv, 9998, b'FBCHECK there'))
        return out

    def udp_burst(self, n):
        out = []
        for i in range(n):
            s = host([192, 0, 2], i)
            if i % 10 == 0:
                out.append(udp(s, 40000 + i % 1000, bytes([198, 51, 100, 9]), 9999, b'VRELOADONLY'))
                self.only += 1
            out.append(udp(s, 30000 + i % 1000, bytes([198, 51, 100, 9]), 9999,
                           b'T%010d VRELOADBOTH' % self.both))
            self.both += 1
        return out

    def run(self):
        try:
            with open(self.fifo, 'wb') as f:
                f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
                pending = None
                while True:
                    stop = self.stop
                    buf = [self.rec(p) for p in self.udp_burst(2000)]
                    if pending is not None:   # the previous round's second halves
                        buf += [self.rec(p) for p in self.second_half(pending)]
                        pending = None
                    if stop:
                        break
                    buf += [self.rec(p) for p in self.first_half(self.rounds)]
                    pending = self.rounds
                    self.rounds += 1
                    f.write(b''.join(buf))
                f.write(b''.join(buf))
        except Exception as e:   # noqa: BLE001  (reported by the test)
            self.error = e


def ask(sock_path, line, timeout=120):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall(line.encode() + b'\n')
    data = b''
    while not data.endswith(b'\n'):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)


def test(vigil):
    d = tmpdir()
    rules = {}
    for name, text in (('a', BOTH + ONLY_A), ('b', ONLY_B + BOTH), ('bad', BAD)):
        rules[name] = os.path.join(d, name + '.rules')
        with open(rules[name], 'w') as f:
            f.write(text)
    fifo = os.path.join(d, 'fifo')
    os.mkfifo(fifo)
    log = os.path.join(d, 'log')
    os.mkdir(log)
    sock = os.path.join(log, 'vigil.sock')
    v = subprocess.Popen([vigil, '--no-progress', '-r', fifo, '-l', log, '-S', rules['a'],
                          '--set', 'unix-command.enabled=yes', '--set', 'outputs.eve-log.types.flow=no',
                          '--workers', '2'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    gen = Traffic(fifo)
    gen.start()
    for _ in range(300):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    check(os.path.exists(sock), 'vigil did not open its command socket')
    st0 = ask(sock, 'status')
    check(st0['ok'] and st0['rules'] == 5, 'status at start: %s' % st0)
    ids, compile_ms, switch_ms = {st0['ruleset']}, [], []
    for i in range(RELOADS):
        time.sleep(0.1)
        path = rules['b'] if i % 2 == 0 else rules['a']
        if i == 7:   # a reload that must be refused, changing nothing
            before = ask(sock, 'status')
            bad = ask(sock, 'reload strict ' + rules['bad'])
            check(not bad['ok'] and (rules['bad'] + ':2:') in bad['error'],
                  'the strict reload of a bad rule was not refused with file:line:col: %s' % bad)
            after = ask(sock, 'status')
            check(after['ruleset'] == before['ruleset'] and after['rules'] == before['rules'],
                  'a refused reload changed the ruleset: %s -> %s' % (before, after))
        if i == 13:  # SIGHUP: the current file again (same id)
            cur = ask(sock, 'status')
            v.send_signal(signal.SIGHUP)
            for _ in range(100):
                if ask(sock, 'status')['reloads'] > cur['reloads']:
                    break
                time.sleep(0.05)
            check(ask(sock, 'status')['reloads'] == cur['reloads'] + 1, 'SIGHUP did not reload')
        a = ask(sock, 'reload ' + path)
        check(a['ok'], 'reload %d refused: %s' % (i, a))
        check(a['rules'] == (5 if path == rules['a'] else 6), 'reload %d: %s' % (i, a))
        ids.add(a['ruleset'])
        compile_ms.append(a['ms']['compile'])
        switch_ms.append(a['ms']['switch'])
    st = ask(sock, 'status')
    check(st['reloads'] == RELOADS + 1 and st['failed_reloads'] == 1, 'status at the end: %s' % st)
    gen.stop = True
    out, err = v.communicate(timeout=300)
    gen.join(timeout=30)
    check(gen.error is None, 'generator: %s' % gen.error)
    check(v.returncode == 0, 'vigil exited %d:\n%s\n%s' % (v.returncode, out, err))
    check(not os.path.exists(sock), 'the command socket was not removed at exit')
    check(len(ids) == 2, 'expected the ids of rulesets A and B, got %s' % ids)

    recs = [json.loads(line) for line in open(os.path.join(log, 'eve.json'))]
    stats = last_stats(recs)
    check(stats['capture']['packets'] == gen.sent, 'packets: vigil read %d of %d sent' %
          (stats['capture']['packets'], gen.sent))
    check(stats['decoder']['pkts'] == gen.sent and stats['decoder']['invalid'] == 0,
          'decoder: %s' % {k: stats['decoder'][k] for k in ('pkts', 'invalid')})
    for k in ('kernel_drops', 'dispatch_drops'):
        check(stats['capture'][k] == 0, 'capture.%s = %d' % (k, stats['capture'][k]))
    check(stats['output']['ring_drops'] == 0, 'output ring drops')
    alerts = [r for r in recs if r.get('event_type') == 'alert']
    by = {}
    for a in alerts:
        by.setdefault(a['alert']['signature_id'], []).append(a)
    check(len(by.get(8000001, [])) == gen.both, 'the UDP rule both rulesets define: %d alerts for %d '
          'packets' % (len(by.get(8000001, [])), gen.both))
    nums = sorted(int(__import__('base64').b64decode(a['payload'])[1:11]) for a in by[8000001])
    check(nums == list(range(gen.both)), 'UDP alerts are not one per packet')
    sess = sorted((a['src_ip'], a['src_port']) for a in by.get(8000004, []))
    want = sorted(('.'.join(map(str, c)), p) for c, p in gen.sessions)
    check(sess == want, 'stream rule: %d alerts for %d sessions split across reloads (missing e.g. %s)' %
          (len(sess), len(want), sorted(set(want) - set(sess))[:3]))
    fb = sorted((a['src_ip'], a['src_port']) for a in by.get(8000006, []))
    want = sorted(('.'.join(map(str, c)), p) for c, p in gen.fbflows)
    check(fb == want, 'flowbits: %d alerts for %d flows that set the bit before a reload' %
          (len(fb), len(want)))
    check(by.get(8000002) and by.get(8000003), 'the rules only one ruleset has did not both fire: '
          'A %d, B %d' % (len(by.get(8000002, [])), len(by.get(8000003, []))))
    check({a['alert']['ruleset'] for a in alerts} == ids, 'alerts do not name both ruleset ids')
    check(gen.rounds >= 3, 'the traffic was too short to straddle reloads (%d rounds)' % gen.rounds)
    burst = [line for line in out.splitlines() if 'longest burst' in line]
    print('%d packets, %d TCP sessions and %d flowbit flows across %d reloads' %
          (gen.sent, len(gen.sessions), len(gen.fbflows), RELOADS + 1))
    print('compile ms: max %.1f, median %.1f; switch ms (publish to old ruleset retired): max %.2f, '
          'median %.2f' % (max(compile_ms), sorted(compile_ms)[len(compile_ms) // 2], max(switch_ms),
                           sorted(switch_ms)[len(switch_ms) // 2]))
    for line in burst:
        print(line.strip())


if __name__ == '__main__':
    main(lambda argv: test(argv[0]))
