#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vigil-xdp on a real link: a veth pair whose two ends sit in network
namespaces this test creates (each has only a route to the other end:
nothing leaves them).  The receiver's end gets vigil's XDP program in
generic (skb) mode without AF_XDP; UDP datagrams from the sender must show
in the counters, stop while the sender's /32 is blocklisted in inline mode,
come back when it is removed or expires, and detach must leave no program
and no pins.

vigil-xdp runs in the receiver's namespace through `nsenter --net` (this
mount namespace: its maps are pinned under /sys/fs/bpf/vigil/IFACE), and
once through `ip netns exec`, whose fresh /sys has no pins: there it finds
the maps through the attached program.

usage: test_vigil_xdp.py VIGIL_XDP"""
import json
import os
import shutil
import subprocess
import sys
import time

SKIP = 77
SENDER, RECEIVER = '192.0.2.1', '198.51.100.1'
PORT = 9999


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def sh(*cmd, ok=True, timeout=30):
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if ok and p.returncode != 0:
        raise Failed('%s: exit %d: %s' % (' '.join(cmd), p.returncode, (p.stderr or p.stdout).strip()))
    return p


RECV = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("%s", %d))
s.settimeout(float(sys.argv[2]))
print("ready", flush=True)
n = 0
try:
    while n < int(sys.argv[1]):
        s.recv(2048)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
''' % (RECEIVER, PORT)

SEND = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("%s", 0))
for i in range(int(sys.argv[1])):
    s.sendto(b"vigil-xdp test %%d" %% i, ("%s", %d))
    time.sleep(0.02)
''' % (SENDER, RECEIVER, PORT)


class Net:
    def __init__(self, tag):
        self.rx, self.tx = tag + 'rx', tag + 'tx'
        self.dev = tag + 'a'          # the receiver's end, where the program goes
        self.peer = tag + 'b'

    def up(self):
        sh('ip', 'netns', 'add', self.rx)
        sh('ip', 'netns', 'add', self.tx)
        sh('ip', 'link', 'add', self.dev, 'netns', self.rx, 'type', 'veth', 'peer', 'name', self.peer,
           'netns', self.tx)
        for ns, dev in ((self.rx, self.dev), (self.tx, self.peer)):
            # IPv4 only, so the counters see only our traffic (and ARP)
            self.ns(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1')
            self.ns(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1')
            self.ns(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.%s.disable_ipv6=1' % dev)

    def configure(self):
        for ns, dev, mine, other in ((self.rx, self.dev, RECEIVER, SENDER),
                                     (self.tx, self.peer, SENDER, RECEIVER)):
            self.ns(ns, 'ip', 'addr', 'add', mine + '/24', 'dev', dev)
            self.ns(ns, 'ip', 'link', 'set', dev, 'up')
            # the only route out of each namespace: the other end of the veth
            self.ns(ns, 'ip', 'route', 'add', other + '/32', 'dev', dev)

    def ns(self, ns, *cmd, ok=True):
        return sh('ip', 'netns', 'exec', ns, *cmd, ok=ok)

    def down(self):
        sh('ip', 'netns', 'del', self.rx, ok=False)
        sh('ip', 'netns', 'del', self.tx, ok=False)


def body(tool):
    if os.geteuid() != 0:
        print('SKIP: needs root for network namespaces and BPF (CI runs as root)')
        return SKIP
    for t in ('ip', 'nsenter'):
        if not shutil.which(t):
            print('SKIP: %s not installed' % t)
            return SKIP
    net = Net('vx%d' % (os.getpid() % 100000))
    pins = '/sys/fs/bpf/vigil/' + net.dev
    bpffs_before = sh('findmnt', '-n', '-t', 'bpf', '/sys/fs/bpf', ok=False).returncode == 0
    if sh('ip', 'netns', 'add', net.rx, ok=False).returncode != 0:
        print('SKIP: cannot create network namespaces here')
        return SKIP
    sh('ip', 'netns', 'del', net.rx)

    def xdp(*args, rc=0, fresh_sys=False):
        """vigil-xdp in the receiver's namespace; stdout (JSON parsed with --json)."""
        if fresh_sys:
            cmd = ['ip', 'netns', 'exec', net.rx, tool] + list(args)
        else:
            cmd = ['nsenter', '--net=/run/netns/' + net.rx, tool] + list(args)
        p = sh(*cmd, ok=False)
        if rc is not None and p.returncode != rc:
            raise Failed('vigil-xdp %s: exit %d (want %d)\nstdout: %s\nstderr: %s' %
                         (' '.join(args), p.returncode, rc, p.stdout, p.stderr))
        if '--json' in args and rc == 0:
            return json.loads(p.stdout)
        return p.stdout + p.stderr

    def counters():
        return xdp('status', net.dev, '--json')['counters']

    def exchange(n, expect):
        """n datagrams sender -> receiver; returns how many arrived."""
        recv = subprocess.Popen(['ip', 'netns', 'exec', net.rx, sys.executable, '-c', RECV, str(n),
                                 '1.5' if expect == 0 else '5'],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if recv.stdout.readline().strip() != 'ready':
                recv.kill()
                raise Failed('receiver did not start: ' + recv.communicate()[1])
            net.ns(net.tx, sys.executable, '-c', SEND, str(n))
            out, err = recv.communicate(timeout=30)
        finally:
            if recv.poll() is None:
                recv.kill()
                recv.wait()
        got = int(out.strip())
        if got != expect:
            diag = [net.ns(ns, 'ip', '-s', 'link', 'show', dev, ok=False).stdout +
                    net.ns(ns, 'ip', 'neigh', ok=False).stdout + net.ns(ns, 'ss', '-uanp', ok=False).stdout + net.ns(ns, 'nstat', '-az', 'Udp*', 'Icmp*', ok=False).stdout for ns, dev in ((net.rx, net.dev), (net.tx, net.peer))]
            raise Failed('sent %d datagrams, %d arrived, want %d\n%s\n%s' % (n, got, expect, '\n'.join(diag),
                                                                           xdp('status', net.dev)))
        return got

    try:
        net.up()

        # usage and runtime errors
        xdp(rc=2)
        xdp('frobnicate', net.dev, rc=2)
        xdp('block', net.dev, 'add', rc=2)
        xdp('status', net.dev, '--for', '1s', rc=2)
        out = xdp('attach', 'vigilnone0', '--skb', rc=1)
        check('attaching to vigilnone0: No such device' in out, 'unclear error: ' + out)
        out = xdp('status', net.dev, rc=1)
        check('no XDP program is attached' in out, 'unclear error: ' + out)

        # attach before the link is up: nothing has been counted yet
        out = xdp('attach', net.dev, '--skb', '--no-xsk', rc=None)
        if 'needs root' in out or 'Operation not supported' in out or 'Function not implemented' in out:
            print('SKIP: BPF unavailable: ' + out.strip())
            return SKIP
        check(out.startswith('attached'), 'attach failed: ' + out)
        link = json.loads(net.ns(net.rx, 'ip', '-j', 'link', 'show', net.dev).stdout)[0]
        check('xdp' in link and link['xdp'].get('mode') == 2, 'no generic XDP program on the link: %s' % link)
        st = xdp('status', net.dev, '--json')
        check(st['prog_id'] == link['xdp']['prog']['id'], 'status prog_id %s != link %s' %
              (st['prog_id'], link['xdp']['prog']['id']))
        check(st['hook'] == 'skb' and st['mode'] == 'tap' and st['xsk'] is False and st['pinned'],
              'status: %s' % st)
        check(all(v == {'packets': 0, 'bytes': 0} for v in st['counters'].values()),
              'counters not zero after attach: %s' % st['counters'])
        check(sorted(os.listdir(pins)) == sorted(['vigil_counters', 'vigil_block_v4', 'vigil_block_v6',
                                                  'vigil_bypass', 'vigil_config', 'xsks_map']),
              'pins: %s' % os.listdir(pins))
        out = xdp('attach', net.dev, '--skb', rc=1)
        check('already has an XDP program' in out, 'second attach: ' + out)

        # traffic reaches the kernel and the counters
        net.configure()
        exchange(5, 5)
        c = counters()
        check(c['rx']['packets'] >= 5 and c['to_kernel']['packets'] >= 5, 'counters: %s' % c)
        check(c['rx']['bytes'] >= 5 * 42, 'rx bytes: %s' % c['rx'])
        check(c['to_xsk']['packets'] == 0 and c['block_dropped']['packets'] == 0, 'counters: %s' % c)
        check(c['rx']['packets'] == c['to_kernel']['packets'], 'rx != to_kernel: %s' % c)

        # the same maps without the pins (ip netns exec mounts a fresh /sys)
        st2 = xdp('status', net.dev, '--json', fresh_sys=True)
        check(st2['pinned'] is False and st2['prog_id'] == st['prog_id'], 'unpinned status: %s' % st2)
        check(st2['counters']['rx']['packets'] >= 5, 'unpinned status counters: %s' % st2['counters'])

        # inline mode, sender blocked: nothing arrives, block_dropped grows
        out = xdp('config', net.dev, '--mode', 'inline')
        check('mode inline' in out, out)
        xdp('block', net.dev, 'add', SENDER + '/32')
        before = counters()
        exchange(5, 0)
        c = counters()
        check(c['block_dropped']['packets'] - before['block_dropped']['packets'] >= 5, 'block_dropped: %s' % c)
        lst = xdp('block', net.dev, 'list', '--json')
        check(len(lst) == 1 and lst[0]['prefix'] == SENDER + '/32' and lst[0]['hits'] >= 5
              and lst[0]['expires_in_s'] is None, 'block list: %s' % lst)
        out = xdp('block', net.dev, 'add', '192.0.2.1/24', rc=2)
        check('host bits set (the network is 192.0.2.0/24)' in out, out)
        out = xdp('block', net.dev, 'add', SENDER, '--for', '10 minutes', rc=2)
        check('--for: a duration' in out, out)

        # removed: traffic flows again
        xdp('block', net.dev, 'del', SENDER + '/32')
        exchange(3, 3)
        check(xdp('block', net.dev, 'list', '--json') == [], 'block list not empty')
        out = xdp('block', net.dev, 'del', SENDER + '/32', rc=1)
        check('not in the blocklist' in out, out)

        # a block for 1 s: dropped, then ignored once expired, then removed
        xdp('block', net.dev, 'add', SENDER, '--for', '1s')
        exchange(2, 0)
        time.sleep(1.2)
        exchange(2, 2)
        lst = xdp('block', net.dev, 'list', '--json')
        check(len(lst) == 1 and lst[0]['expires_in_s'] == 0, 'expired entry: %s' % lst)
        out = xdp('block', net.dev, 'expire')
        check('removed 1 expired entry' in out, out)
        check(xdp('block', net.dev, 'list', '--json') == [], 'expired entry not removed')

        # bypass: nothing bypassed (the dataplane adds entries)
        check(xdp('bypass', net.dev, 'list', '--json') == [], 'bypass list')
        check('0 flows reaped' in xdp('bypass', net.dev, 'reap'), 'bypass reap')

        # the text status names every counter
        out = xdp('status', net.dev)
        for name in ('rx', 'parse_error', 'non_ip', 'block_dropped', 'block_tagged', 'bypass_dropped',
                     'bypass_passed', 'to_xsk', 'to_kernel'):
            check(name in out, 'status lacks %s:\n%s' % (name, out))

        # detach: no program, no pins
        xdp('detach', net.dev)
        link = json.loads(net.ns(net.rx, 'ip', '-j', 'link', 'show', net.dev).stdout)[0]
        check('xdp' not in link, 'program still on the link: %s' % link)
        check(not os.path.exists(pins), 'pins left in ' + pins)
        out = xdp('detach', net.dev, rc=1)
        check('no XDP program is attached' in out, out)
        exchange(2, 2)
    finally:
        if os.path.exists('/run/netns/' + net.rx):
            sh('nsenter', '--net=/run/netns/' + net.rx, tool, 'detach', net.dev, ok=False)
        net.down()
        shutil.rmtree(pins, ignore_errors=True)
        if not bpffs_before:
            # vigil-xdp mounted bpffs for its pins: leave the system as found
            if os.path.isdir('/sys/fs/bpf/vigil') and not os.listdir('/sys/fs/bpf/vigil'):
                os.rmdir('/sys/fs/bpf/vigil')
            # (the kernel's bpf_preload puts its two iterators in every bpffs)
            if not set(os.listdir('/sys/fs/bpf')) - {'maps.debug', 'progs.debug'}:
                sh('umount', '/sys/fs/bpf', ok=False)
    return 0


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    try:
        rc = body(sys.argv[1])
    except (Failed, subprocess.TimeoutExpired) as e:
        print('FAIL:', e)
        sys.exit(1)
    if rc == SKIP:
        sys.exit(SKIP)
    print('PASS')
    sys.exit(0)


main()
