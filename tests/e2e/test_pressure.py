#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every bound hit at once: a tiny flow table, tiny rings and arena, several
workers.  The engine degrades (evicts, waits) and counts it; offline input
loses nothing: every packet still lands in exactly one flow record.

usage: test_pressure.py VIGIL PCAP TRUTH"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import check, flows, last_stats, main, run_vigil, tmpdir


def body(argv):
    vigil, pcap, truth = argv
    t = json.load(open(truth))
    want = t['packets'] - t['malformed'] - t['non_ip']
    for workers in (1, 3):
        _, _, recs = run_vigil(vigil, ['-r', pcap, '--workers', str(workers),
                                       '--set', 'flow.max-flows=16', '--set', 'output.ring-size=64',
                                       '--set', 'dispatch.ring-size=64', '--set', 'dispatch.arena-size=1mb',
                                       '--set', 'flow.frag-trackers=16'], tmpdir())
        st = last_stats(recs)
        fl = flows(recs)
        got = sum(r['flow']['pkts_toserver'] + r['flow']['pkts_toclient'] for r in fl)
        check(got == want, '%d workers: %d packets in flow records, expected %d' % (workers, got, want))
        check(st['flow']['emerg_evicted'] > 0, 'no eviction counted with a 16-flow table')
        check(st['flow']['created'] == len(fl), 'flow.created %d != %d records' % (st['flow']['created'], len(fl)))
        check(st['output']['ring_drops'] == 0 and st['capture']['dispatch_drops'] == 0,
              'offline input dropped records or packets')
        check(st['output']['records'] == len(fl), 'output.records %d != %d' % (st['output']['records'], len(fl)))
        evicted = [r for r in fl if r['flow']['reason'] == 'forced']
        check(len(evicted) == st['flow']['emerg_evicted'], 'evicted records do not match the counter')


main(body)
