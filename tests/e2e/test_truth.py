#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Flow records agree with the generator's ground truth (an independent
oracle: the generator knows every flow it wrote), packets are conserved, and
the malformed frames it planted are counted by reason in the stats."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import Failed, check, flows, last_stats, main, run_vigil, tmpdir


def body(argv):
    vigil, pcap, truth, checker = argv[:4]
    extra = argv[4:]
    out = tmpdir()
    stdout, _, recs = run_vigil(vigil, ['-r', pcap] + extra, out)
    p = subprocess.run([sys.executable, checker, truth, os.path.join(out, 'eve.json')],
                       capture_output=True, text=True)
    check(p.returncode == 0, 'flow records differ from the ground truth:\n' + p.stdout[-4000:])

    import json
    t = json.load(open(truth))
    st = last_stats(recs)
    check(st['capture']['packets'] == t['packets'], 'capture.packets %d != %d' % (st['capture']['packets'], t['packets']))
    check(st['capture']['bytes'] == t['bytes'], 'capture.bytes %d != %d' % (st['capture']['bytes'], t['bytes']))
    check(st['decoder']['invalid'] == t['malformed'],
          'decoder.invalid %d != planted malformed %d' % (st['decoder']['invalid'], t['malformed']))
    check(st['decoder']['non_ip'] == t['non_ip'], 'decoder.non_ip %d != %d' % (st['decoder']['non_ip'], t['non_ip']))
    ev = st['decoder']['event']
    reasons = sum(v for grp in ev.values() if isinstance(grp, dict) for v in grp.values())
    reasons += sum(v for v in ev.values() if isinstance(v, int))
    check(reasons == st['decoder']['invalid'], 'per-reason counters %d do not add up to decoder.invalid %d' % (reasons, st['decoder']['invalid']))
    # conservation: every packet is in exactly one flow record, or counted as not in a flow
    fl = flows(recs)
    in_flows = sum(r['flow']['pkts_toserver'] + r['flow']['pkts_toclient'] for r in fl)
    bytes_in = sum(r['flow']['bytes_toserver'] + r['flow']['bytes_toclient'] for r in fl)
    check(in_flows == t['packets'] - t['malformed'] - t['non_ip'],
          'packets in flow records %d != %d' % (in_flows, t['packets'] - t['malformed'] - t['non_ip']))
    check(st['flow']['created'] == len(fl), 'flow.created %d != %d records' % (st['flow']['created'], len(fl)))
    check(bytes_in <= t['bytes'], 'flow bytes exceed capture bytes')
    check('flow records written' in stdout and 'malformed packets' in stdout, 'summary table missing')
    ids = [r['community_id'] for r in fl]
    check(all(i.startswith('1:') and len(i) == 30 for i in ids), 'bad community_id format')


main(body)
