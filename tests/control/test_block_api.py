#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Blocking from an incident (suite 'control', test 'ctl-block'), over real
HTTP against a real SQLite file, with a file-driven clock:
- POST /api/v1/incidents/ID/block puts the incident's source (or a given
  prefix, canonicalised) on the blocklist that every heartbeat answer
  carries, with the time left; roles (responder yes, viewer and sensor no,
  no token 401); bad bodies 400 naming the field; unknown incident 404;
- unblock lifts it (409 when there is nothing to lift); expiry lifts it by
  itself (a "system" timeline entry on tick or heartbeat);
- the incident's timeline and the audit log record who, what and why;
- GET /api/v1/blocks lists the active ones, ?all=1 every one with how it
  ended; vigilctl incident block|unblock and blocks do the same.

usage: test_block_api.py VIGIL_CONTROL VIGILCTL"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctltest import T0, Client, Server, add_user, alert, check, main  # noqa: E402


def body(argv):
    exe, ctl = argv
    d = tempfile.mkdtemp(prefix='vigil-ctl-')
    cfg = os.path.join(d, 'cfg.json')
    with open(cfg, 'w') as f:
        json.dump({'tick_interval_s': 0}, f)
    srv = Server(exe, ['--config', cfg], clock=T0, workdir=d)
    try:
        admin = Client(srv.url, srv.admin)
        sensor = Client(srv.url, add_user(admin, 'tap1', 'sensor'))
        rita = Client(srv.url, add_user(admin, 'rita', 'responder'))
        vic = Client(srv.url, add_user(admin, 'vic', 'viewer'))
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'tap1', 'alerts': [
            alert(1, sid=3000001, src='203.0.113.77', dst='198.51.100.5', sensor='tap1', ts=T0),
            alert(2, sid=3000001, src='203.0.113.78', dst='198.51.100.5', sensor='tap1', ts=T0 + 1)]})
        inc = [i for i in admin.expect(200, 'GET', '/api/v1/incidents') if i['sid'] == 3000001]
        check(len(inc) == 1, 'one incident: %s' % inc)
        iid = inc[0]['id']

        def hb():
            return sensor.expect(200, 'POST', '/api/v1/heartbeat',
                                 {'sensor': 'tap1', 'version': '0.1.0', 'ruleset': 'r', 'counters': {}})

        check(hb().get('blocklist') == [], 'an empty blocklist is sent: %s' % hb())
        # roles and bad bodies
        path = '/api/v1/incidents/%d/block' % iid
        vic.expect(403, 'POST', path, {'reason': 'x'})
        sensor.expect(403, 'POST', path, {'reason': 'x'})
        Client(srv.url, None).expect(401, 'POST', path, {'reason': 'x'})
        for bad, field in (({}, 'reason'), ({'reason': ''}, 'reason'), ({'reason': 7}, 'reason'),
                           ({'reason': 'x', 'prefix': '203.0.113.0/33'}, 'prefix'),
                           ({'reason': 'x', 'prefix': '203.0.113.1/24'}, 'prefix'),
                           ({'reason': 'x', 'prefix': 'nope'}, 'prefix'),
                           ({'reason': 'x', 'duration_s': -1}, 'duration_s'),
                           ({'reason': 'x', 'duration_s': 'long'}, 'duration_s')):
            ans = rita.expect(400, 'POST', path, bad)
            check(field in ans['error'], '%s: the error names %s: %s' % (bad, field, ans))
        rita.expect(404, 'POST', '/api/v1/incidents/999/block', {'reason': 'x'})
        check(admin.expect(200, 'GET', '/api/v1/blocks') == [], 'nothing stored by the refused requests')

        # block the source (the first alert's) for 10 minutes
        b = rita.expect(201, 'POST', path, {'reason': 'scanning the DMZ', 'duration_s': 600})
        check(b['prefix'] == '203.0.113.77/32' and b['expires_in_s'] == 600 and b['by'] == 'rita', b)
        # and a v6 prefix given by hand, until lifted (canonicalised)
        b6 = rita.expect(201, 'POST', path, {'reason': 'their v6 range', 'prefix': '2001:DB8:0:0::/48',
                                             'duration_s': 0})
        check(b6['prefix'] == '2001:db8::/48' and b6['expires_in_s'] is None, b6)
        srv.set_clock(T0 + 100)
        bl = hb()['blocklist']
        check(bl == [{'prefix': '203.0.113.77/32', 'expires_in_s': 500},
                     {'prefix': '2001:db8::/48', 'expires_in_s': None}], 'heartbeat blocklist: %s' % bl)
        act = vic.expect(200, 'GET', '/api/v1/blocks')
        check([a['prefix'] for a in act] == ['203.0.113.77/32', '2001:db8::/48'] and
              act[0]['created_by'] == 'rita' and act[0]['reason'] == 'scanning the DMZ', act)

        # unblock one prefix; again: nothing to lift
        upath = '/api/v1/incidents/%d/unblock' % iid
        vic.expect(403, 'POST', upath, {})
        ans = rita.expect(200, 'POST', upath, {'prefix': '2001:db8::/48', 'reason': 'wrong range'})
        check(ans == {'lifted': ['2001:db8::/48']}, ans)
        rita.expect(409, 'POST', upath, {'prefix': '2001:db8::/48'})
        check([x['prefix'] for x in hb()['blocklist']] == ['203.0.113.77/32'], 'after unblock')

        # expiry: at T0 + 600 the block ends by itself, on tick
        srv.set_clock(T0 + 599)
        admin.expect(200, 'POST', '/api/v1/tick')
        check(len(vic.expect(200, 'GET', '/api/v1/blocks')) == 1, 'not expired yet')
        srv.set_clock(T0 + 600)
        admin.expect(200, 'POST', '/api/v1/tick')
        check(vic.expect(200, 'GET', '/api/v1/blocks') == [], 'expired')
        check(hb()['blocklist'] == [], 'the expired block is no longer sent')
        every = vic.expect(200, 'GET', '/api/v1/blocks?all=1')
        check([(e['prefix'], e['lifted_how'], e['lifted_by']) for e in every] ==
              [('2001:db8::/48', 'unblocked', 'rita'), ('203.0.113.77/32', 'expired', 'system')], every)
        vic.expect(400, 'GET', '/api/v1/blocks?all=2')

        tl = [(t['user'], t['action'], t['detail'])
              for t in admin.expect(200, 'GET', '/api/v1/incidents/%d' % iid)['timeline']]
        want = [('rita', 'blocked', '203.0.113.77/32 for 600 s: scanning the DMZ'),
                ('rita', 'blocked', '2001:db8::/48 until unblocked: their v6 range'),
                ('rita', 'unblocked', '2001:db8::/48: wrong range'),
                ('system', 'unblocked', '203.0.113.77/32: expired')]
        check([t for t in tl if t[1] in ('blocked', 'unblocked')] == want, 'timeline: %s' % tl)
        audit = [(a['user'], a['action']) for a in admin.expect(200, 'GET', '/api/v1/audit?limit=1000')]
        check(audit.count(('rita', 'incident.block')) == 2 and ('rita', 'incident.unblock') in audit and
              ('system', 'incident.unblock') in audit, 'audit: %s' % audit)

        # a blind-spot incident has no source: a prefix must be given
        sensor.expect(200, 'POST', '/api/v1/heartbeat', {'sensor': 'tap1', 'version': '0.1.0', 'ruleset': 'r',
                                                         'counters': {'capture.kernel_drops': 1}})
        sensor.expect(200, 'POST', '/api/v1/heartbeat', {'sensor': 'tap1', 'version': '0.1.0', 'ruleset': 'r',
                                                         'counters': {'capture.kernel_drops': 9}})
        blind = [i for i in admin.expect(200, 'GET', '/api/v1/incidents') if i['kind'] == 'blind_spot']
        check(blind, 'a blind-spot incident')
        ans = rita.expect(400, 'POST', '/api/v1/incidents/%d/block' % blind[0]['id'], {'reason': 'x'})
        check('no source' in ans['error'], ans)

        # vigilctl
        env = dict(os.environ, VIGIL_URL=srv.url, VIGIL_TOKEN=rita.token)

        def run(*args, rc=0):
            p = subprocess.run([ctl] + list(args), capture_output=True, text=True, env=env, timeout=60)
            check(p.returncode == rc, 'vigilctl %s: exit %d\n%s%s' % (' '.join(args), p.returncode, p.stdout,
                                                                       p.stderr))
            return p.stdout, p.stderr
        out, _ = run('incident', 'block', str(iid), '--for', '2h', '--reason', 'again', '--prefix', '203.0.113.0/24')
        check('203.0.113.0/24' in out and '7200' in out, out)
        out, _ = run('blocks')
        check(out.splitlines()[0].split()[:3] == ['ID', 'INCIDENT', 'PREFIX'] and '203.0.113.0/24' in out, out)
        out, _ = run('--json', 'blocks', '--all')
        check(len(json.loads(out)) == 3, out)
        out, _ = run('incident', 'unblock', str(iid))
        check(out.strip() == 'unblocked 203.0.113.0/24', out)
        run('incident', 'block', str(iid), rc=2)                  # no reason
        run('incident', 'block', str(iid), '--for', '5x', '--reason', 'r', rc=2)
        _, err = run('incident', 'unblock', str(iid), rc=1)
        check('no active block' in err, err)
    finally:
        srv.stop()
        srv.cleanup()
    return 0


if __name__ == '__main__':
    main(body)
