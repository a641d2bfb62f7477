#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live capture: vigil listens on one end of a veth pair whose both ends sit
in network namespaces this test creates (no route out), tcpreplay sends the
generator's capture from the other end, and the flow records must match the
generator's ground truth.  Covers `-i IFACE` (libpcap) and, with `dpdk`,
DPDK's net_af_packet PMD on the same interface.

usage: test_live.py VIGIL GEN CHECKER pcap|dpdk"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import SKIP, Failed, check, flows, main, tmpdir


def sh(*cmd, ok=True):
    p = subprocess.run(list(cmd), capture_output=True, text=True)
    if ok and p.returncode != 0:
        raise Failed('%s: %s' % (' '.join(cmd), p.stderr.strip()))
    return p


def drop_fragments(pcap, truth):
    """DPDK 22.11's net_af_packet joins a PACKET_FANOUT group with the
    kernel's DEFRAG flag: the kernel reassembles IP fragments before the PMD
    sees them.  For that source, remove fragmented datagrams (and their flows)
    from the capture and the truth; libpcap sees them as sent."""
    import ipaddress
    import struct

    def frames(data):
        off = 24
        while off < len(data):
            cap = struct.unpack('<IIII', data[off:off + 16])[2]
            yield data[off:off + 16], data[off + 16:off + 16 + cap]
            off += 16 + cap

    def parse(fr):
        """(src, dst, proto, frag offset or None, first 4 bytes of L4) of an untagged IP frame."""
        et = struct.unpack('!H', fr[12:14])[0] if len(fr) >= 14 else 0
        if et == 0x0800 and len(fr) >= 34:
            ihl = (fr[14] & 15) * 4
            fo = struct.unpack('!H', fr[20:22])[0]
            return (ipaddress.ip_address(fr[26:30]), ipaddress.ip_address(fr[30:34]), fr[23],
                    (fo & 0x1fff) if fo & 0x3fff else None, fr[14 + ihl:18 + ihl])
        if et == 0x86dd and len(fr) >= 58:
            if fr[20] == 44:
                fo = struct.unpack('!H', fr[56:58])[0]
                return (ipaddress.ip_address(fr[22:38]), ipaddress.ip_address(fr[38:54]), fr[54], fo >> 3, fr[62:66])
            return (ipaddress.ip_address(fr[22:38]), ipaddress.ip_address(fr[38:54]), fr[20], None, fr[54:58])
        return None

    data = open(pcap, 'rb').read()
    keys = set()
    for _, fr in frames(data):
        ip = parse(fr)
        if ip and ip[3] == 0 and len(ip[4]) == 4:
            sp, dp = struct.unpack('!HH', ip[4])
            keys.add((str(ip[0]), sp, str(ip[1]), dp))
    out, gone = [data[:24]], [0, 0]
    for hdr, fr in frames(data):
        ip = parse(fr)
        drop = False
        if ip and ip[3] is not None:
            drop = True
        elif ip and len(ip[4]) == 4:
            sp, dp = struct.unpack('!HH', ip[4])
            drop = (str(ip[0]), sp, str(ip[1]), dp) in keys or (str(ip[1]), dp, str(ip[0]), sp) in keys
        if drop:
            gone[0] += 1
            gone[1] += len(fr)
        else:
            out.append(hdr + fr)
    open(pcap, 'wb').write(b''.join(out))
    t = json.load(open(truth))
    t['packets'] -= gone[0]
    t['bytes'] -= gone[1]
    t['flows'] = [f for f in t['flows']
                  if (f['src_ip'], f['src_port'], f['dest_ip'], f['dest_port']) not in keys]
    json.dump(t, open(truth, 'w'))
    check(keys, 'expected fragmented datagrams in the capture')


def body(argv):
    vigil, gen, checker, mode = argv
    if os.geteuid() != 0:
        print('SKIP: needs root to create network namespaces (CI runs as root)')
        return SKIP
    for tool in ('ip', 'tcpreplay'):
        if not shutil.which(tool):
            print('SKIP: %s not installed' % tool)
            return SKIP
    tag = 'vg%d' % os.getpid()
    ns_tx, ns_rx = tag + 'tx', tag + 'rx'
    if sh('ip', 'netns', 'add', ns_tx, ok=False).returncode != 0:
        print('SKIP: cannot create network namespaces here')
        return SKIP
    d = tmpdir()
    proc = None
    try:
        sh('ip', 'netns', 'add', ns_rx)
        sh('ip', 'link', 'add', 'tx0', 'netns', ns_tx, 'type', 'veth', 'peer', 'name', 'rx0', 'netns', ns_rx)
        for ns, dev in ((ns_tx, 'tx0'), (ns_rx, 'rx0')):
            sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', dev, 'up', 'mtu', '9000')
            # no addresses, no routes: nothing can leave the namespaces
            sh('ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.%s.disable_ipv6=1' % dev)
        pcap, truth = os.path.join(d, 'live.pcap'), os.path.join(d, 'live.truth.json')
        sh(sys.executable, gen, '--profile', 'flows', '--seed', '3', '--truth', truth, pcap)
        if mode == 'dpdk':
            drop_fragments(pcap, truth)
        logdir = os.path.join(d, 'out')
        os.mkdir(logdir)
        cmd = ['ip', 'netns', 'exec', ns_rx, vigil, '--no-progress', '-l', logdir]
        if mode == 'pcap':
            cmd += ['-i', 'rx0']
        else:
            cmd += ['--dpdk', '--', '--no-huge', '--no-pci', '-m', '256', '--log-level=error',
                    '--file-prefix=' + tag, '--vdev=net_af_packet0,iface=rx0']
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.0)   # capture open
        if proc.poll() is not None:
            raise Failed('vigil exited early: %s' % proc.communicate()[1])
        sh('ip', 'netns', 'exec', ns_tx, 'tcpreplay', '-q', '--pps=2000', '-i', 'tx0', pcap)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        check(proc.returncode == 0, 'vigil exited %d: %s' % (proc.returncode, err))
        recs = [json.loads(l) for l in open(os.path.join(logdir, 'eve.json'))]
        st = [r for r in recs if r['event_type'] == 'stats'][-1]['stats']
        t = json.load(open(truth))
        # the kernel may add its own frames (none expected without addresses)
        check(st['capture']['packets'] >= t['packets'], 'captured %d of %d frames' % (st['capture']['packets'], t['packets']))
        p = subprocess.run([sys.executable, checker, truth, os.path.join(logdir, 'eve.json')],
                           capture_output=True, text=True)
        check(p.returncode == 0, 'live flow records differ from the ground truth:\n' + p.stdout[-3000:])
        check(st['decoder']['invalid'] == t['malformed'], 'malformed %d != %d' % (st['decoder']['invalid'], t['malformed']))
        print('%d frames captured, %d flows' % (st['capture']['packets'], len(flows(recs))))
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        sh('ip', 'netns', 'del', ns_tx, ok=False)
        sh('ip', 'netns', 'del', ns_rx, ok=False)
    return 0


main(body)
