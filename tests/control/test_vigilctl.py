#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vigilctl against a running vigil-control: every command, aligned tables
by default, --json as the server sent it, exit status 0 / 1 (server
error, message printed) / 2 (usage).

usage: test_vigilctl.py VIGIL_CONTROL VIGILCTL"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctltest import T0, Client, Server, add_user, alert, check, flow, main  # noqa: E402


def aligned(out, second):
    """The column headed `second` starts at the same offset on every line."""
    lines = [ln for ln in out.splitlines() if ln]
    col = lines[0].index(second)
    for ln in lines[1:]:
        check(len(ln) > col and ln[col - 2:col] == '  ' and ln[col] != ' ',
              'column %s not aligned in:\n%s' % (second, out))


def section(out, title):
    """The lines of out from the one starting with title to the next blank line."""
    lines = out.splitlines()
    start = [i for i, ln in enumerate(lines) if ln.startswith(title)][0]
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return '\n'.join(lines[start + 1:end]) + '\n'


def body(argv):
    exe, ctl = argv
    srv = Server(exe)
    env = dict(os.environ, VIGIL_URL=srv.url + '/', VIGIL_TOKEN=srv.admin)

    def run(*args, rc=0, token=None):
        e = dict(env)
        if token is not None:
            e['VIGIL_TOKEN'] = token
        p = subprocess.run([ctl] + list(args), capture_output=True, text=True, env=e, timeout=60)
        check(p.returncode == rc, 'vigilctl %s: exit %d (expected %d)\nstdout: %s\nstderr: %s' %
              (' '.join(args), p.returncode, rc, p.stdout, p.stderr))
        return p.stdout, p.stderr

    try:
        admin = Client(srv.url, srv.admin)
        sensor = Client(srv.url, add_user(admin, 'edge1', 'sensor'))
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'edge1', 'alerts': [
            alert(i, sid=777, src='192.0.2.%d' % (i % 3), dst='10.0.0.9', severity=2, sensor='edge1',
                  signature='ET POLICY thing') for i in range(1, 11)]})
        sensor.expect(200, 'POST', '/api/v1/heartbeat', {'sensor': 'edge1', 'version': '0.1.0', 'ruleset': 'r9'})
        # flow records: two of the sid 777 alerts' flows (1001, 1002), one unrelated
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'edge1', 'alerts': [], 'flows': [
            flow(501, 1001, sensor='edge1', src='192.0.2.1', dst='10.0.0.9', start=T0, end=T0 + 30),
            flow(502, 1002, sensor='edge1', src='2001:db8::1', dst='2001:db8::9', src_port=5353, dest_port=None,
                 proto='UDP', state='new', reason='', start=T0 + 1, end=T0 + 60),
            flow(503, 5555, sensor='edge1', start=T0 + 2, end=T0 + 5)]})
        # an alert with only the required fields: absent ones print as "-"
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'edge1', 'alerts': [
            {'id': 'edge1:min', 'ts': '2024-01-01T00:00:00Z', 'sid': 778, 'severity': 3, 'src_ip': '192.0.2.50',
             'dest_ip': '10.0.0.50'}]})
        out, _ = run('incident', 'show', str(admin.expect(200, 'GET', '/api/v1/incidents?limit=1')[0]['id']))
        check('sid 778 on 10.0.0.50' in out and '192.0.2.50  10.0.0.50  -' in out, out)
        check('Flows (0 records):\nSTART  SRC  DEST  PROTO  PKTS  BYTES  STATE\n(none)\n' in out, out)

        out, _ = run('health')
        check(out == 'ok (version 0.1.0)\n', 'health: %r' % out)
        out, _ = run('--json', 'health')
        check(json.loads(out) == {'status': 'ok', 'version': '0.1.0'}, 'health --json')

        out, _ = run('users', 'add', 'bob', 'responder')
        check('bob' in out, out)
        out, _ = run('users', 'list')
        check(out.splitlines()[0].split() == ['NAME', 'ROLE', 'TOKENS', 'CREATED'], out)
        aligned(out, 'ROLE')
        check('bob  ' in out and 'responder' in out, out)
        _, err = run('users', 'add', 'bob', 'viewer', rc=1)
        check('already exists (HTTP 409)' in err, err)
        _, err = run('users', 'add', 'eve', 'root', rc=1)
        check('role: must be one of' in err and 'HTTP 400' in err, err)

        out, _ = run('token', 'create', 'bob')
        bob = out.splitlines()[-1]
        check(bob.startswith('vgl_') and len(bob) == 47 and out.startswith('token '), out)
        tid = out.split()[1]
        out, _ = run('--token', bob, 'incidents')     # --token wins over $VIGIL_TOKEN
        check(out.splitlines()[0].split()[:3] == ['ID', 'SEV', 'STATUS'], out)
        aligned(out, 'SEV')
        _, err = run('--token', bob, 'users', rc=1)
        check('HTTP 403' in err, err)
        _, err = run('incidents', rc=1, token='')
        check('missing token' in err and 'HTTP 401' in err, err)

        out, _ = run('--json', 'incidents', 'list', '--status', 'open')
        incs = json.loads(out)
        incs = [i for i in incs if i['sid'] == 777]
        check(len(incs) == 1 and incs[0]['alert_count'] == 10, 'incidents --json: %s' % incs)
        iid = str(incs[0]['id'])
        out, _ = run('incident', 'show', iid)
        check('alert_count' in out and 'Timeline:' in out and 'Evidence (10 sampled alerts):' in out and
              'ET POLICY thing on 10.0.0.9' in out, out)
        # the flows table comes after the evidence, newest (by end) first
        check(out.index('Evidence (') < out.index('Flows (2 records):') < out.index('Notifications:'), out)
        fl = section(out, 'Flows (')
        check(fl.splitlines()[0].split() == ['START', 'SRC', 'DEST', 'PROTO', 'PKTS', 'BYTES', 'STATE'], fl)
        aligned(fl, 'SRC')
        aligned(fl, 'STATE')
        rows = [ln.split() for ln in fl.splitlines()[1:]]
        check(rows == [['2023-11-14T22:13:21.000000+00:00', '[2001:db8::1]:5353', '2001:db8::9', 'UDP', '3/2',
                        '300/200', 'new/-'],
                       ['2023-11-14T22:13:20.000000+00:00', '192.0.2.1:40000', '10.0.0.9:80', 'TCP', '3/2',
                        '300/200', 'closed/timeout']], 'flows table:\n' + fl)
        out, _ = run('incident', 'ack', iid, '--token', bob)
        check('acknowledged' in out, out)
        _, err = run('incident', 'ack', iid, rc=1)
        check('illegal transition acknowledged -> acknowledged (HTTP 409)' in err, err)
        run('incident', 'assign', 'bob', iid)
        run('incident', 'note', 'seen before, benign', iid)
        out, _ = run('incident', 'status', 'resolved', '--reason', 'false positive', iid)
        check('resolved' in out, out)
        out, _ = run('--json', 'incident', 'show', iid)
        tl = json.loads(out)['timeline']
        check([t['detail'] for t in tl][-4:] == ['open -> acknowledged', 'bob', 'seen before, benign',
                                                 'acknowledged -> resolved: false positive'], tl)
        _, err = run('incident', 'show', '99999', rc=1)
        check('not found (HTTP 404)' in err, err)
        # the status shortcuts: reopen (incident manager: admin here), then investigate, mitigate, resolve
        run('incident', 'status', 'open', '--reason', 'came back', iid)
        run('incident', 'ack', iid)
        for cmd, st in (('investigate', 'investigating'), ('mitigate', 'mitigated'), ('resolve', 'resolved')):
            out, _ = run('incident', cmd, iid)
            check(st in out, '%s: %s' % (cmd, out))
        out, _ = run('--json', 'incident', 'show', iid)
        check(json.loads(out)['status'] == 'resolved' and json.loads(out)['mitigated_at'], out)
        _, err = run('incident', 'resolve', rc=2)
        check('resolve|investigate|mitigate|close' in err, err)

        out, _ = run('alerts', '--sid', '777', '--limit', '3')
        check(len(out.splitlines()) == 4, 'alerts --limit 3:\n' + out)
        aligned(out, 'ID')
        out, _ = run('--json', 'alerts', '--src-ip', '192.0.2.1')
        check(len(json.loads(out)) == 4, 'alerts --src-ip')
        out, _ = run('flows')
        check(out.splitlines()[0].split() == ['START', 'END', 'ID', 'FLOW', 'ID', 'SRC', 'DEST', 'PROTO', 'PKTS',
                                              'BYTES', 'STATE'], out)
        check(len(out.splitlines()) == 4 and 'edge1:503' in out, out)
        aligned(out, 'FLOW ID')
        aligned(out, 'BYTES')
        check(out.splitlines()[1].split()[2:4] == ['edge1:502', '1002'], 'flows newest first:\n' + out)
        out, _ = run('flows', '--sensor', 'edge1', '--flow-id', '1001')
        check(len(out.splitlines()) == 2 and 'edge1:501' in out and '10.0.0.9:80' in out, out)
        out, _ = run('flows', '--sensor', 'edge2')
        check(out.splitlines()[1:] == ['(none)'], out)
        out, _ = run('--json', 'flows', '--limit', '1')
        fj = json.loads(out)
        check(len(fj) == 1 and fj[0]['id'] == 'edge1:502' and 'type' not in fj[0] and 'dest_port' not in fj[0], fj)
        _, err = run('flows', '--flow-id', 'x', rc=1)
        check('flow_id: expected an integer' in err and 'HTTP 400' in err, err)
        out, _ = run('--json', 'incident', 'show', iid)
        check([f['id'] for f in json.loads(out)['flows']] == ['edge1:502', 'edge1:501'], out)
        out, _ = run('sensors')
        check('edge1' in out and 'r9' in out, out)

        d = tempfile.mkdtemp(prefix='vigil-ctl-')
        esc = os.path.join(d, 'esc.json')
        with open(esc, 'w') as f:
            json.dump([{'severity': 1, 'ack_within_s': 120, 'tiers': ['oncall', 'lead']}], f)
        out, _ = run('escalation', 'set', esc)
        check('oncall,lead' in out, out)
        out, _ = run('--json', 'escalation', 'get')
        check(json.loads(out)[0]['ack_within_s'] == 120, out)
        nt = os.path.join(d, 'notify.json')
        with open(nt, 'w') as f:
            json.dump([{'name': 'hook', 'type': 'webhook', 'url': 'http://127.0.0.1:9/x'}], f)
        run('notify', 'set', nt)
        out, _ = run('notify', 'get')
        check('hook' in out and 'webhook' in out, out)
        with open(nt, 'w') as f:
            f.write('[{')
        run('notify', 'set', nt, rc=2)
        os.unlink(esc)
        os.unlink(nt)
        os.rmdir(d)

        out, _ = run('token', 'revoke', tid)
        check(out == 'token %s revoked\n' % tid, out)
        _, err = run('token', 'revoke', tid, rc=1)
        check('already done (HTTP 409)' in err, err)
        out, _ = run('audit', '--limit', '5')
        check(len(out.splitlines()) == 6 and 'token.revoke' in out, out)

        for args in ([], ['frob'], ['incident', 'ack'], ['incident', 'ack', 'abc'], ['alerts', '--bogus', '1'],
                     ['token', 'create'], ['escalation', 'set', '/nonexistent.json'], ['incidents', 'all'],
                     ['flows', 'all'], ['flows', '--bogus', '1'], ['flows', '--limit'], ['--url']):
            run(*args, rc=2)
        _, err = run('--url', 'http://127.0.0.1:1', 'health', rc=1)
        check('vigilctl: http://127.0.0.1:1/healthz:' in err, err)
        check(srv.stop() == 0, 'unclean shutdown')
    finally:
        if srv.alive():
            srv.stop()
        srv.cleanup()


if __name__ == '__main__':
    main(body)
