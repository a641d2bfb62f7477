#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Flow records agree with an independent decoder: tshark dissects every
frame of each public capture in ../shared/data/pcaps, and this script groups
the frames into bidirectional flows (5-tuple + outer VLAN; the client is the
first sender; non-first IP fragments join their datagram's flow) and compares
flow count, packets and bytes per direction with vigil's EVE flow records.
Timeouts are set long so one 5-tuple is one flow on both sides.

usage: test_tshark_oracle.py VIGIL PCAP_DIR"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import SKIP, Failed, check, flows, main, run_vigil, tmpdir

FIELDS = ['frame.cap_len', 'eth.type', 'vlan.id', 'ip.version', 'ip.src', 'ip.dst', 'ip.proto',
          'ip.id', 'ip.flags.mf', 'ip.frag_offset', 'ipv6.src', 'ipv6.dst', 'ipv6.nxt',
          'ipv6.fraghdr.ident', 'ipv6.fraghdr.offset', 'tcp.srcport', 'tcp.dstport',
          'udp.srcport', 'udp.dstport', '_ws.malformed', '_ws.expert.message', 'communityid']

# Frames whose IP header claims more bytes than were captured are malformed
# for vigil (as for Suricata: decoder.event.ipv4.trunc_pkt); tshark dissects
# them anyway, so the oracle leaves them out.
TRUNCATED = ('total length exceeds packet length', 'IPv6 payload length exceeds framing length')

LONG = ['--set', 'flow.active-timeout=0']
for pg in ('tcp', 'udp', 'icmp', 'default'):
    for st in ('new', 'established', 'closed'):
        LONG += ['--set', 'flow.timeouts.%s.%s=168h' % (pg, st)]


def first(v):
    return v.split(',')[0] if v else ''


def oracle(pcap):
    cmd = ['tshark', '-n', '--enable-protocol', 'communityid', '-r', pcap, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE',
           '-o', 'tcp.desegment_tcp_streams:FALSE', '-T', 'fields', '-E', 'separator=\t',
           '-E', 'occurrence=a', '-E', 'aggregator=,']
    for f in FIELDS:
        cmd += ['-e', f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    fl, frags, order = {}, {}, []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split('\t')))
        ln = int(v['frame.cap_len'])
        if any(t in v.get('_ws.expert.message', '') for t in TRUNCATED):
            continue
        vlan = int(first(v['vlan.id']) or 0)
        if v['ip.version'] and first(v['ip.version']) == '4' and v['ip.src']:
            src, dst, proto = first(v['ip.src']), first(v['ip.dst']), int(first(v['ip.proto']))
            fid, mf, off = first(v['ip.id']), first(v['ip.flags.mf']), first(v['ip.frag_offset'])
            frag = (mf in ('1', 'True') or (off not in ('', '0')))
            later = off not in ('', '0')
        elif v['ipv6.src']:
            src, dst = first(v['ipv6.src']), first(v['ipv6.dst'])
            proto = int(v['ipv6.nxt'].split(',')[-1])
            fid, off = first(v['ipv6.fraghdr.ident']), first(v['ipv6.fraghdr.offset'])
            frag = fid != ''
            later = off not in ('', '0')
            if frag:
                proto = int(v['ipv6.nxt'].split(',')[-1])
        else:
            continue
        sp = dp = 0
        if proto == 6 and v['tcp.srcport']:
            sp, dp = int(first(v['tcp.srcport'])), int(first(v['tcp.dstport']))
        elif proto == 17 and v['udp.srcport']:
            sp, dp = int(first(v['udp.srcport'])), int(first(v['udp.dstport']))
        fkey = (src, dst, proto, fid)
        if frag and later:
            if fkey not in frags:
                continue  # orphan fragment: not accounted by vigil either
            sp, dp = frags[fkey]
        elif frag:
            frags[fkey] = (sp, dp)
        a, b = (src, sp), (dst, dp)
        key = (proto, vlan) + tuple(sorted([a, b]))
        if key not in fl:
            # Community ID as Wireshark computes it, from the flow's first frame
            # (fragments have no ports there: not comparable)
            fl[key] = {'client': a, 'ts': [0, 0], 'tc': [0, 0],
                       'cid': None if frag else (first(v.get('communityid', '')) or None)}
            order.append(key)
        d = 'ts' if a == fl[key]['client'] else 'tc'
        fl[key][d][0] += 1
        fl[key][d][1] += ln
    return fl


def pname(p):
    return {'TCP': 6, 'UDP': 17, 'ICMP': 1, 'IPv6-ICMP': 58, 'GRE': 47, 'ESP': 50, 'AH': 51,
            'SCTP': 132}.get(p) or int(p)


def body(argv):
    vigil, pdir = argv
    if not os.path.isdir(pdir):
        print('SKIP: %s not present' % pdir)
        return SKIP
    if not shutil.which('tshark'):
        print('SKIP: tshark not installed')
        return SKIP
    caps = sorted(f for f in os.listdir(pdir) if f.endswith(('.pcap', '.pcapng')))
    check(caps, 'no captures in ' + pdir)
    problems = []
    for cap in caps:
        path = os.path.join(pdir, cap)
        want = oracle(path)
        _, _, recs = run_vigil(vigil, ['-r', path, '-k', 'none'] + LONG, tmpdir())
        got = {}
        for r in flows(recs):
            import ipaddress
            a = (str(ipaddress.ip_address(r['src_ip'])), r.get('src_port', 0))
            b = (str(ipaddress.ip_address(r['dest_ip'])), r.get('dest_port', 0))
            key = (pname(r['proto']), (r.get('vlan') or [0])[0]) + tuple(sorted([a, b]))
            f = r['flow']
            check(key not in got, '%s: two records for %s' % (cap, key))
            got[key] = {'client': a, 'ts': [f['pkts_toserver'], f['bytes_toserver']],
                        'tc': [f['pkts_toclient'], f['bytes_toclient']], 'cid': r['community_id']}
        # tshark prints addresses in canonical text; normalise its keys the same way
        import ipaddress
        norm = {}
        for k, v in want.items():
            ends = tuple(sorted((str(ipaddress.ip_address(h)), p) for h, p in k[2:]))
            v['client'] = (str(ipaddress.ip_address(v['client'][0])), v['client'][1])
            norm[k[:2] + ends] = v
        bad = 0
        cids = 0
        for k, v in norm.items():
            if k in got:
                if v['cid'] is None:
                    v['cid'] = got[k]['cid']   # not comparable (fragmented first frame)
                else:
                    cids += 1
        for k in sorted(set(norm) | set(got), key=str):
            if norm.get(k) != got.get(k):
                bad += 1
                if bad <= 5:
                    problems.append('%s: %s\n   tshark: %s\n   vigil:  %s' % (cap, k, norm.get(k), got.get(k)))
        print('%-45s %5d flows (tshark %5d), %5d community ids compared  %s' %
              (cap, len(got), len(norm), cids, 'OK' if not bad else '%d differ' % bad))
        if bad > 5:
            problems.append('%s: ... %d flows differ in all' % (cap, bad))
    check(not problems, 'flow records disagree with tshark:\n' + '\n'.join(problems))
    return 0


main(body)
