#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Command line and configuration: every option documented, bad input
refused with a clear message and file:line:col, -T validates.

usage: test_cli.py VIGIL EXAMPLE_YAML PCAP"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import check, main, run_vigil, tmpdir


def run(vigil, args):
    return subprocess.run([vigil] + args, capture_output=True, text=True, timeout=60)


def body(argv):
    vigil, example, pcap = argv
    h = run(vigil, ['--help'])
    check(h.returncode == 0, '--help failed')
    for opt in ('-r CAPTURE', '-i IFACE', '--dpdk', '-c FILE', '--set KEY=VALUE', '-l DIR', '-k all|none',
                '-S RULES', '-T', '-v', '--workers', '--syslog', '--help-config'):
        check(opt in h.stdout, '--help does not document %s' % opt)
    hc = run(vigil, ['--help-config'])
    check(hc.returncode == 0 and 'flow.max-flows' in hc.stdout and 'flow.timeouts.tcp.established' in hc.stdout,
          '--help-config does not list the keys')

    t = run(vigil, ['-T', '-c', example])
    check(t.returncode == 0 and 'valid' in t.stdout, 'example config refused: ' + t.stderr)
    tv = run(vigil, ['-T', '-v', '-c', example, '--set', 'flow.max-flows=4096'])
    check('flow.max-flows' in tv.stdout and '4096' in tv.stdout and '--set' in tv.stdout,
          '-T -v does not show the effective value and origin')

    d = tmpdir()
    bad = os.path.join(d, 'bad.yaml')
    with open(bad, 'w') as f:
        f.write('flow:\n  max-flows: 100\n  timeouts:\n    tcp:\n      new: ten seconds\n')
    r = run(vigil, ['-T', '-c', bad])
    check(r.returncode == 2, 'bad duration accepted')
    check('bad.yaml:5:12' in r.stderr and 'flow.timeouts.tcp.new' in r.stderr, 'no file:line:col: ' + r.stderr)
    with open(bad, 'w') as f:
        f.write('flow:\n  max-flow: 100\n')
    r = run(vigil, ['-T', '-c', bad])
    check(r.returncode == 2 and 'bad.yaml:2:3' in r.stderr and 'max-flows' in r.stderr,
          'unknown key not refused with a suggestion: ' + r.stderr)
    with open(bad, 'w') as f:
        f.write('flow: [unclosed\n')
    r = run(vigil, ['-T', '-c', bad])
    check(r.returncode == 2 and 'bad.yaml:' in r.stderr, 'YAML syntax error not reported: ' + r.stderr)
    bad_rules = os.path.join(d, 'bad.rules')
    with open(bad_rules, 'w') as f:
        f.write('alert tcp any any -> any any (msg:"ok"; content:"a"; sid:1;)\n'
                'alert tcp any any -> any any (msg:"x"; foo; sid:2;)\n')

    for args, words in ((['--set', 'flow.max-flows=0', '-T'], 'flow.max-flows'),
                        (['--set', 'no.such.key=1', '-T'], 'no.such.key'),
                        (['-k', 'maybe', '-T'], '-k'),
                        (['--workers', '0', '-T'], '--workers'),
                        ([], 'exactly one input'),
                        (['-r', pcap, '-i', 'lo'], 'exactly one input'),
                        (['-r', pcap, '-S', '/nonexistent.rules'], 'No such file'),
                        (['-r', pcap, '-S', bad_rules, '--strict-rules'], 'bad.rules:2:40: unknown keyword'),
                        (['-r', '/nonexistent.pcap'], 'cannot open'),
                        (['-r', pcap, '-l', '/nonexistent-dir'], 'does not exist')):
        r = run(vigil, args)
        check(r.returncode in (1, 2), '%s: exit %d' % (args, r.returncode))
        check(words in r.stderr, '%s: message lacks %r: %s' % (args, words, r.stderr))

    # a run with an override visibly changes behaviour: a 16-flow table evicts
    out, _, recs = run_vigil(vigil, ['-r', pcap, '--set', 'flow.max-flows=16', '-c', example], tmpdir())
    st = [x for x in recs if x['event_type'] == 'stats'][-1]['stats']
    check(st['flow']['emerg_evicted'] > 0, 'flow.max-flows=16 did not evict')


main(body)
