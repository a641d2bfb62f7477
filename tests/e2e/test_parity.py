#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The same capture gives the same flow records whatever the number of
workers, and through DPDK's net_pcap PMD as through libpcap.

usage: test_parity.py VIGIL PCAP workers|dpdk"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import SKIP, Failed, canonical, check, main, run_vigil, tmpdir


def diff(a, b):
    sa, sb = set(a), set(b)
    return '\n'.join(['- ' + x for x in sorted(sa - sb)[:5]] + ['+ ' + x for x in sorted(sb - sa)[:5]])


def body(argv):
    vigil, pcap, mode = argv
    _, _, base = run_vigil(vigil, ['-r', pcap], tmpdir())
    ref = canonical(base)
    check(len(ref) > 0, 'no flow records at all')
    if mode == 'workers':
        for n in (2, 3, 4):
            _, _, recs = run_vigil(vigil, ['-r', pcap, '--workers', str(n)], tmpdir())
            got = canonical(recs)
            check(got == ref, '%d workers differ from 1 worker (%d vs %d records):\n%s' %
                  (n, len(got), len(ref), diff(ref, got)))
        return 0
    if os.geteuid() != 0:
        print('SKIP: DPDK EAL needs root here (run as root, as CI does)')
        return SKIP
    for workers in (1, 2):
        out = tmpdir()
        _, err, recs = run_vigil(vigil, ['--dpdk', '--workers', str(workers), '--',
                                         '--no-huge', '--no-pci', '-m', '512', '--log-level=error',
                                         '--file-prefix=vigil%d' % os.getpid(),
                                         '--vdev=net_pcap0,rx_pcap=' + os.path.abspath(pcap)], out)
        got = canonical(recs)
        check(got == ref, 'DPDK net_pcap (%d workers) differs from libpcap (%d vs %d records):\n%s' %
              (workers, len(got), len(ref), diff(ref, got)))
    return 0


main(body)
