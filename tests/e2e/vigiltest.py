# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the end-to-end tests: run the vigil binary on a capture
and read back what it wrote.  Standard library only."""
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def run_vigil(vigil, args, logdir=None, timeout=300, expect_rc=0):
    """Run vigil; returns (stdout, stderr, eve records)."""
    cmd = [vigil, '--no-progress'] + (['-l', logdir] if logdir else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if expect_rc is not None and p.returncode != expect_rc:
        raise Failed('%s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s' %
                     (' '.join(cmd), p.returncode, expect_rc, p.stdout, p.stderr))
    recs = []
    if logdir and os.path.exists(os.path.join(logdir, 'eve.json')):
        with open(os.path.join(logdir, 'eve.json')) as f:
            for n, line in enumerate(f, 1):
                try:
                    recs.append(json.loads(line))
                except ValueError as e:
                    raise Failed('eve.json line %d is not JSON: %s' % (n, e))
    return p.stdout, p.stderr, recs


def flows(recs):
    return [r for r in recs if r.get('event_type') == 'flow']


def last_stats(recs):
    st = [r for r in recs if r.get('event_type') == 'stats']
    check(st, 'no stats record in eve.json')
    return st[-1]['stats']


def canonical(recs):
    """Flow records as sorted JSON strings: equal iff the record sets are equal."""
    return sorted(json.dumps(r, sort_keys=True) for r in flows(recs))


def flow_key(r):
    return (r['proto'], r['src_ip'], r.get('src_port', 0), r['dest_ip'], r.get('dest_port', 0),
            tuple(r.get('vlan', [])), r.get('tunnel_id', 0))


def tmpdir():
    return tempfile.mkdtemp(prefix='vigil-e2e-')


def main(fn):
    """Run a test body: exit 0 pass, 1 fail, 77 skip (body returns SKIP)."""
    try:
        rc = fn(sys.argv[1:])
    except Failed as e:
        print('FAIL:', e)
        sys.exit(1)
    if rc == SKIP:
        sys.exit(SKIP)
    print('PASS')
    sys.exit(0)
