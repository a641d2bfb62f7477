# SPDX-License-Identifier: BSD-3-Clause
"""Detection end to end on the bundled capture with the default ruleset.

The generator's ground truth labels every flow it planted an attack in.  Each
default rule is meant for some of those labels; the test checks that

 - every planted attack raises at least one alert,
 - every alert lies on a flow of an attack its rule is meant for (no alert on
   benign traffic),
 - 1 and 2 workers raise the same alerts (thresholds by source count a
   scanner's probes even when its flows land on different workers),
 - alerts carry the ruleset version, payload and packet; flow records of
   alerted flows say "alerted": true and no other does;
 - a rules file with a bad rule still loads the rest and names file:line:col.

usage: test_detect.py VIGIL CAPTURE TRUTH RULES
"""
import base64
import collections
import json
import os
import re
import sys

from vigiltest import check, main, run_vigil, tmpdir

# default rule sid -> attack labels it is written for
MEANT_FOR = {
    9000001: {'port_scan', 'ssh_scan'},
    9000002: {'ssh_scan'},
    9000010: {'sqli'},
    9000011: {'sqli'},
    9000012: {'path_traversal'},
    9000013: {'shellshock'},
    9000014: {'log4shell'},
    9000020: {'reverse_shell'},
    9000021: {'reverse_shell'},
    9000022: {'reverse_shell'},
    9000030: {'dns_exfil'},
    9000031: {'http_exfil'},
}


def tuple_of(r):
    a = (r['src_ip'], r.get('src_port', 0))
    b = (r['dest_ip'], r.get('dest_port', 0))
    return (r['proto'] if isinstance(r['proto'], int) else {'TCP': 6, 'UDP': 17}.get(r['proto'], 0),
            ) + tuple(sorted([a, b]))


def alerts_of(recs):
    return [r for r in recs if r.get('event_type') == 'alert']


def run(vigil, pcap, rules, workers):
    d = tmpdir()
    _, err, recs = run_vigil(vigil, ['-r', pcap, '-S', rules, '--workers', str(workers)], d)
    return recs, err


def body(argv):
    vigil, pcap, truth_path, rules = argv
    with open(truth_path) as f:
        truth = json.load(f)
    label_of = {}
    for fl in truth['flows']:
        label_of[tuple_of(fl)] = fl['attack']
    planted = {fl['attack'] for fl in truth['flows'] if fl['attack']}

    recs1, err1 = run(vigil, pcap, rules, 1)
    al = alerts_of(recs1)
    check(al, 'no alerts at all: ' + err1)
    seen = set()
    for a in al:
        sid = a['alert']['signature_id']
        check(sid in MEANT_FOR, 'alert from unexpected sid %d' % sid)
        lab = label_of.get(tuple_of(a))
        check(lab is not None, 'sid %d alerted on benign flow %s' % (sid, tuple_of(a)))
        check(lab in MEANT_FOR[sid], 'sid %d alerted on a %s flow, meant for %s' %
              (sid, lab, sorted(MEANT_FOR[sid])))
        seen.add(lab)
    check(planted <= seen, 'planted attacks never alerted: %s' % sorted(planted - seen))

    # every alert names its ruleset version, one for the whole run
    vers = {a['alert']['ruleset'] for a in al}
    check(len(vers) == 1 and re.fullmatch(r'[0-9a-f]{16}', vers.pop() or ''),
          'ruleset version missing or not unique')
    # payload and packet: the SQL injection alert shows the request
    sq = [a for a in al if a['alert']['signature_id'] == 9000010]
    check(sq and b'UNION' in base64.b64decode(sq[0]['payload']).upper(), 'sqli payload missing')
    check(all('packet' in a and a['packet_info']['linktype'] == 1 for a in al if a.get('pcap_cnt')),
          'alerts without their packet')
    check(all(a['alert']['severity'] in (1, 2, 3) and a['alert']['category'] for a in al),
          'severity/category missing')

    # "alerted" on flow records: exactly the flows that alerted
    alerted = {a['flow_id'] for a in al if 'flow_id' in a}
    for fr in (r for r in recs1 if r.get('event_type') == 'flow'):
        check(fr['flow']['alerted'] == (fr['flow_id'] in alerted),
              'flow %d alerted=%s' % (fr['flow_id'], fr['flow']['alerted']))

    st = [r for r in recs1 if r.get('event_type') == 'stats'][-1]['stats']
    check(st['detect']['alert'] >= len(al), 'detect.alert below alerts written')
    check(st['detect']['alerts_suppressed'] == st['detect']['alert'] - len(al),
          'suppressed alerts do not add up: %d raised, %d written, %d suppressed' %
          (st['detect']['alert'], len(al), st['detect']['alerts_suppressed']))
    check(st['stream']['reassembled_bytes'] > 300000, 'stream reassembly did not run')

    # two workers: the same alerts (sid, flow), thresholds across workers
    recs2, _ = run(vigil, pcap, rules, 2)
    c1 = collections.Counter((a['alert']['signature_id'], tuple_of(a)) for a in al)
    c2 = collections.Counter((a['alert']['signature_id'], tuple_of(a)) for a in alerts_of(recs2))
    s1 = collections.Counter(k[0] for k in c1.elements())
    s2 = collections.Counter(k[0] for k in c2.elements())
    check(s1 == s2, 'alerts per sid differ with 2 workers: %s vs %s' % (dict(s1), dict(s2)))
    unthresholded = {9000010, 9000011, 9000012, 9000013, 9000014, 9000020, 9000021, 9000022, 9000031}
    check({k: v for k, v in c1.items() if k[0] in unthresholded} ==
          {k: v for k, v in c2.items() if k[0] in unthresholded},
          'per-flow alerts differ with 2 workers')

    # a bad rule is reported with file:line:col; the rest loads and alerts
    d = tmpdir()
    bad = os.path.join(d, 'mixed.rules')
    with open(rules) as f, open(bad, 'w') as o:
        o.write('alert tcp any any -> any any (msg:"broken"; content:"x"; frobnicate; sid:1;)\n')
        o.write(f.read())
    _, err, recs = run_vigil(vigil, ['-r', pcap, '-S', bad, '--rules-report',
                                     os.path.join(d, 'report.json')], d)
    check('mixed.rules:1:58' in err and 'frobnicate' in err, 'bad rule not located: ' + err)
    with open(os.path.join(d, 'report.json')) as f:
        rep = json.load(f)
    check(rep['skipped'] == 1 and rep['loaded'] == len(MEANT_FOR) and
          rep['diagnostics'][0]['where'].endswith('mixed.rules:1:58'), 'rules report wrong: %s' % rep)
    check(len(alerts_of(recs)) == len(al), 'a bad rule changed what the others raise')
    return 0


if __name__ == '__main__':
    main(body)
