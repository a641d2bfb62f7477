#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The kill test (suite 'control'): vigil streams alerts to vigil-control
while each of them is SIGKILLed and restarted several times; afterwards the
database holds every alert exactly once.

Traffic: a generator thread writes a pcap stream into a FIFO that vigil
reads with -r (no network, no root).  Every packet is one UDP datagram whose
payload carries a unique number "T%010d" before the rule's content, so every
alert can be told apart by its payload.  No packet is ever sent twice, so
any number seen twice in the database is a duplicate.

What "nothing lost" is checked against:
- right after each SIGKILL of vigil, the test reads the spool files the way
  vigil's recovery does (frames up to the first bad one) and notes every
  alert id there: each must reach the database;
- the last vigil run ends cleanly: every alert in its eve.json must be in
  the database and its spool must be empty;
- alerts vigil had already seen acknowledged were committed by
  vigil-control before it answered (checked by the above: the database is
  the union, and SIGKILLs of vigil-control in between must not lose them).
Flow records: the flows of the last (clean) run that alerted (its eve.json
flow records with "alerted": true) were shipped too, and at least one of
them is in the database's flows table, with an alert of the same flow.

usage: test_kill.py VIGIL VIGIL-CONTROL"""
import base64
import json
import os
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time

from ctltest import Client, Server, add_user, check, main

RULE = 'alert udp any any -> any 9999 (msg:"kill test marker"; content:"VKILLTEST"; sid:7000001; rev:1;)\n'
RATE_SLEEP = 0.01      # seconds between bursts of BURST packets: ~3000 alerts/s
BURST = 30


def crc32c(data, _t=[]):
    if not _t:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _t.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = _t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def spool_ack(spool_dir):
    """The durable read position (segment, offset) from the 'ack' file."""
    try:
        with open(os.path.join(spool_dir, 'ack'), 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        return (0, 0)
    check(len(data) == 28 and data[:4] == b'VACK' and
          crc32c(data[:24]) == struct.unpack_from('<I', data, 24)[0], 'the spool ack file is damaged')
    return struct.unpack_from('<QQ', data, 8)


def spool_ids(spool_dir, unacked=False):
    """Alert ids in the spool as vigil's recovery would find them: in each
    segment, frames up to the first one that is short or fails its CRC;
    UNACKED: only those at or after the acknowledged position."""
    ids = set()
    ack = spool_ack(spool_dir) if unacked else (0, 0)
    for name in sorted(os.listdir(spool_dir)):
        if not re.fullmatch(r'seg-\d{16}\.spool', name):
            continue
        seq = int(name[4:20])
        with open(os.path.join(spool_dir, name), 'rb') as f:
            data = f.read()
        if len(data) < 16 or data[:4] != b'VSEG':
            continue
        off = struct.unpack_from('<H', data, 6)[0]
        while off + 8 <= len(data):
            n, crc = struct.unpack_from('<II', data, off)
            if n == 0 or off + 8 + n > len(data):
                break
            payload = data[off + 8:off + 8 + n]
            if crc32c(data[off:off + 4] + payload) != crc:
                break
            if (seq, off) >= ack:
                ids.add(json.loads(payload)['id'])
            off += 8 + n
    return ids


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def packet(i):
    pl = b'T%010d VKILLTEST' % i
    src = bytes([192, 0, 2, 1 + i % 200])
    udp = struct.pack('!HHHH', 10000 + i % 50000, 9999, 8 + len(pl), 0) + pl
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src,
                     bytes([198, 51, 100, 7]))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + ip + udp


class Generator(threading.Thread):
    """Feeds whichever vigil has the FIFO open; a killed reader ends one
    pcap stream (EPIPE) and the next reader gets a fresh one."""

    def __init__(self, fifo):
        super().__init__(daemon=True)
        self.fifo, self.next, self.stop, self.streams = fifo, 0, False, 0

    def open_writer(self):
        while not self.stop:
            try:
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:   # ENXIO: no reader yet
                time.sleep(0.01)
        return None

    def run(self):
        while not self.stop:
            fd = self.open_writer()
            if fd is None:
                return
            os.set_blocking(fd, True)
            self.streams += 1
            try:
                os.write(fd, struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
                while not self.stop:
                    buf = b''
                    for _ in range(BURST):
                        p, t = packet(self.next), time.time()
                        buf += struct.pack('<IIII', int(t), int(t % 1 * 1e6), len(p), len(p)) + p
                        self.next += 1
                    os.write(fd, buf)
                    time.sleep(RATE_SLEEP)
            except BrokenPipeError:
                pass   # the reader was killed; packets not read were never seen
            finally:
                os.close(fd)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test(vigil, ctl_exe):
    port = free_port()
    listen = ['--listen', '127.0.0.1:%d' % port]
    srv = Server(ctl_exe, listen)
    work = srv.dir
    admin = Client(srv.url, srv.admin)
    sensor_tok = add_user(admin, 'tap', 'sensor')
    rules = os.path.join(work, 'kill.rules')
    with open(rules, 'w') as f:
        f.write(RULE)
    fifo = os.path.join(work, 'fifo')
    os.mkfifo(fifo)
    spool = os.path.join(work, 'spool')
    os.mkdir(spool)
    gen = Generator(fifo)
    runs = []

    def start_vigil():
        log = os.path.join(work, 'log%d' % len(runs))
        os.mkdir(log)
        p = subprocess.Popen(
            [vigil, '--no-progress', '-r', fifo, '-l', log, '-S', rules,
             '--set', 'control.url=http://127.0.0.1:%d' % port, '--set', 'control.token=' + sensor_tok,
             '--set', 'control.sensor=tap', '--set', 'control.spool-dir=' + spool,
             '--set', 'control.batch=200', '--set', 'control.retry-max=1s',
             '--set', 'control.heartbeat=1s', '--set', 'control.drain=60s'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs.append((p, log))
        return p

    spooled_at_kill = set()

    def kill_vigil(p):
        p.kill()
        p.communicate()
        ids = spool_ids(spool)
        spooled_at_kill.update(ids)
        print('vigil SIGKILLed: %d alerts in its spool' % len(ids))

    def kill_ctl():
        srv.proc.kill()
        srv.proc.wait()
        srv.proc.stdout.close()
        srv.errlog.close()
        print('vigil-control SIGKILLed')

    def restart_ctl():
        nonlocal srv
        srv = Server(ctl_exe, listen, workdir=work, admin=admin.token)

    v = start_vigil()
    gen.start()
    time.sleep(1.5)
    kill_ctl()                 # vigil keeps spooling while nobody listens
    time.sleep(1.0)
    restart_ctl()
    time.sleep(1.0)
    kill_ctl()                 # and again, restarted at once: mid-ingest
    restart_ctl()
    time.sleep(1.0)
    kill_vigil(v)              # the dataplane dies with a backlog
    v = start_vigil()
    time.sleep(1.5)
    kill_vigil(v)              # both at once
    kill_ctl()
    restart_ctl()
    v = start_vigil()
    time.sleep(1.0)
    kill_ctl()
    time.sleep(0.3)
    kill_vigil(v)              # the dataplane dies while the control plane is down
    restart_ctl()
    v = start_vigil()
    time.sleep(1.5)
    gen.stop = True            # EOF: the last run ends cleanly and drains its spool
    out, err = v.communicate(timeout=120)
    gen.join(timeout=10)
    check(v.returncode == 0, 'the last vigil run exited %d:\n%s\n%s' % (v.returncode, out, err))
    check(re.search(r'still spooled\s+0 bytes', out), 'the last run left a backlog:\n' + out)
    check(not spool_ids(spool, unacked=True), 'the spool still holds unacknowledged alerts after a clean end')
    srv.stop()

    db = sqlite3.connect(os.path.join(work, 'control.db'))
    rows = db.execute("SELECT id, payload FROM alerts WHERE sensor = 'tap'").fetchall()
    flow_ids = {r[0] for r in db.execute("SELECT id FROM flows WHERE sensor = 'tap'")}
    db.close()
    ids = {r[0] for r in rows}
    numbers = {}
    for aid, payload in rows:
        m = re.match(rb'T(\d{10}) ', base64.b64decode(payload or ''))
        check(m, 'alert %s has no test number in its payload' % aid)
        numbers.setdefault(int(m.group(1)), []).append(aid)
    dups = {n: a for n, a in numbers.items() if len(a) > 1}
    print('%d packets sent in %d streams, %d alerts in the database, %d spooled at a vigil kill' %
          (gen.next, gen.streams, len(rows), len(spooled_at_kill)))
    check(len(rows) >= 5000, 'too few alerts reached the database (%d): the test did not stream' % len(rows))
    check(len(ids) == len(rows), 'an alert id is stored twice')
    check(not dups, '%d packets are stored as more than one alert, e.g. %s' %
          (len(dups), sorted(dups.items())[:3]))
    lost = spooled_at_kill - ids - flow_ids   # the spool holds the flow records of alerted flows too
    check(not lost, '%d records (alerts, flows) that were in the spool when vigil was killed never '
          'reached the database, e.g. %s' % (len(lost), sorted(lost)[:5]))
    check(spooled_at_kill, 'no alert was in the spool at any vigil kill: the kills tested nothing')
    last_log = runs[-1][1]
    last = set()
    alerted_flows = set()
    with open(os.path.join(last_log, 'eve.json')) as f:
        for line in f:
            r = json.loads(line)
            if r.get('event_type') == 'alert':
                last.add(int(base64.b64decode(r['payload'])[1:11]))
            elif r.get('event_type') == 'flow' and r.get('flow', {}).get('alerted') is True:
                alerted_flows.add(r['flow_id'])
    check(last, 'the last run raised no alert')
    missing = last - set(numbers)
    check(not missing, '%d alerts of the last (clean) run are not in the database, e.g. %s' %
          (len(missing), sorted(missing)[:5]))
    # the flow records of alerted flows reached the flows table
    check(alerted_flows, 'the last run wrote no flow record of an alerted flow')
    db = sqlite3.connect(os.path.join(work, 'control.db'))
    stored = {r[0] for r in db.execute("SELECT flow_id FROM flows WHERE sensor = 'tap'")}
    linked = {r[0] for r in db.execute("SELECT DISTINCT f.flow_id FROM flows f JOIN alerts a "
                                       "ON a.sensor = f.sensor AND a.flow_id = f.flow_id WHERE f.sensor = 'tap'")}
    db.close()
    print('%d alerted flows in the last run\'s eve.json, %d of them in the flows table (%d flow ids there)' %
          (len(alerted_flows), len(alerted_flows & stored), len(stored)))
    check(alerted_flows & stored, 'none of the %d alerted flows of the last run has a row in the flows table '
          '(it has %d rows of sensor tap)' % (len(alerted_flows), len(stored)))
    check(alerted_flows & linked, 'no flow record of the last run shares its flow_id with a stored alert')
    srv.cleanup()


if __name__ == '__main__':
    main(lambda argv: test(argv[0], argv[1]))
