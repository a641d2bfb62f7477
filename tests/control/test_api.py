#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vigil-control's HTTP API over real HTTP on loopback against a temporary
SQLite file: every endpoint of control/DESIGN.md with a token of each
role, the error answers (400 naming the field, 401, 403, 404, 405, 409,
413), idempotent ingest (alerts and flow records), correlation, an
incident's flow records, the lifecycle, the audit log, /metrics, bounds,
TLS, and that the server is still up at the end.

usage: test_api.py VIGIL_CONTROL"""
import json
import os
import random
import re
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctltest import T0, Client, Server, add_user, alert, check, flow, http, main  # noqa: E402

ROLES = ['sensor', 'viewer', 'rule_author', 'rule_approver', 'responder', 'incident_manager', 'admin']
VIEW = set(ROLES) - {'sensor'}
RESPOND = {'responder', 'incident_manager', 'admin'}
MANAGE = {'incident_manager', 'admin'}
ADMIN = {'admin'}
SENSOR = {'sensor', 'admin'}


def db_count(srv, sql):
    con = sqlite3.connect(srv.db, timeout=10)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def answer(acc, dup, facc=0, fdup=0):
    """The ingest answer: "accepted" and "duplicates" count alerts and flow
    records together, the others break them down."""
    return {'accepted': acc + facc, 'duplicates': dup + fdup, 'alerts_accepted': acc, 'alerts_duplicates': dup,
            'flows_accepted': facc, 'flows_duplicates': fdup}


def ingest(c, alerts, sensor='s1', status=200):
    return c.expect(status, 'POST', '/api/v1/ingest', {'sensor': sensor, 'alerts': alerts})


def role_matrix(srv, tok, admin):
    """Every endpoint with every role: allowed calls succeed, the others are
    403; no token or an unknown one is 401."""
    sensor = Client(srv.url, tok['sensor'])
    ingest(sensor, [alert(700000, sid=1, dst='10.9.0.1', severity=2)])
    inc = admin.expect(200, 'GET', '/api/v1/incidents?limit=1')[0]['id']
    spare = admin.expect(201, 'POST', '/api/v1/users', {'name': 'spare', 'role': 'viewer'})
    check(spare == {'name': 'spare', 'role': 'viewer'}, 'POST users answer: %s' % spare)
    n = [0]

    def fresh_token():
        return admin.expect(201, 'POST', '/api/v1/users/spare/tokens')['id']

    def nxt():
        n[0] += 1
        return n[0]

    endpoints = [
        # method, path (callable for fresh state), body (callable), allowed roles, good statuses
        ('GET', '/api/v1/sensors', None, VIEW, {200}),
        ('GET', '/api/v1/alerts', None, VIEW, {200}),
        ('GET', '/api/v1/flows', None, VIEW, {200}),
        ('GET', '/api/v1/flows?sensor=s1&flow_id=1&limit=5', None, VIEW, {200}),
        ('GET', '/api/v1/incidents', None, VIEW, {200}),
        ('GET', '/api/v1/incidents/%d' % inc, None, VIEW, {200}),
        ('POST', '/api/v1/incidents/%d/note' % inc, {'text': 'matrix'}, RESPOND, {200}),
        ('POST', '/api/v1/incidents/%d/assign' % inc, {'assignee': 'admin'}, RESPOND, {200}),
        ('POST', '/api/v1/incidents/%d/ack' % inc, {}, RESPOND, {200, 409}),
        ('GET', '/api/v1/escalation', None, VIEW, {200}),
        ('PUT', '/api/v1/escalation', [], MANAGE, {200}),
        ('GET', '/api/v1/notify', None, ADMIN, {200}),
        ('PUT', '/api/v1/notify', [], ADMIN, {200}),
        ('GET', '/api/v1/users', None, ADMIN, {200}),
        ('POST', '/api/v1/users', lambda: {'name': 'm%d' % nxt(), 'role': 'viewer'}, ADMIN, {201}),
        ('POST', '/api/v1/users/spare/tokens', {}, ADMIN, {201}),
        ('DELETE', lambda: '/api/v1/tokens/%d' % fresh_token(), None, ADMIN, {200}),
        ('GET', '/api/v1/audit', None, ADMIN, {200}),
        ('POST', '/api/v1/tick', None, ADMIN, {200}),
        ('POST', '/api/v1/ingest', lambda: {'sensor': 's1', 'alerts': [alert(700100 + nxt(), sid=1, dst='10.9.0.1')]},
         SENSOR, {200}),
        ('POST', '/api/v1/heartbeat', {'sensor': 's1', 'version': '0.1', 'ruleset': 'r1', 'counters': {}},
         SENSOR, {200}),
        ('GET', '/healthz', None, set(ROLES), {200}),
        ('GET', '/metrics', None, set(ROLES), {200}),
    ]
    for method, path, body, allowed, good in endpoints:
        for who in ROLES + [None, 'unknown']:
            p = path() if callable(path) else path
            b = body() if callable(body) else body
            token = tok.get(who) if who != 'unknown' else 'vgl_' + 'A' * 43
            st, hdrs, ans = http(srv.url, method, p, b, token)
            if p in ('/healthz', '/metrics'):
                check(st == 200, '%s %s as %s: %d' % (method, p, who, st))
            elif who is None or who == 'unknown':
                check(st == 401, '%s %s without a valid token: %d (expected 401)' % (method, p, st))
                check(hdrs.get('WWW-Authenticate') == 'Bearer', '401 without WWW-Authenticate')
                check('token' in ans['error'], '401 message: %s' % ans)
            elif who in allowed:
                check(st in good, '%s %s as %s: HTTP %d %s (expected %s)' % (method, p, who, st, ans, good))
            else:
                check(st == 403, '%s %s as %s: HTTP %d (expected 403)' % (method, p, who, st))
                check(isinstance(ans, dict) and 'error' in ans, '403 without {"error"}')
    # a malformed Authorization header is 401 too
    st, _, _ = http(srv.url, 'GET', '/api/v1/incidents', headers={'Authorization': 'Basic eDp5'})
    check(st == 401, 'Basic auth: %d' % st)


def errors(srv, tok, admin):
    """400 names the field; 404; 405; 413."""
    sensor = Client(srv.url, tok['sensor'])
    resp = Client(srv.url, tok['responder'])
    good = alert(7, sid=7)
    cases = [
        (b'{"sensor": "s1", "alerts": [', 'body: malformed JSON'),
        (b'', 'body: empty'),
        (b'[1,2]', 'body: expected a JSON object'),
        (b'{"sensor": "s1", "sensor": "s2", "alerts": []}', 'body: malformed JSON'),
        (json.dumps({'alerts': []}).encode(), 'sensor: missing'),
        (json.dumps({'sensor': 5, 'alerts': []}).encode(), 'sensor: expected a string'),
        (json.dumps({'sensor': 'bad name!', 'alerts': []}).encode(), 'sensor: must be'),
        (json.dumps({'sensor': 's1'}).encode(), 'alerts: missing'),
        (json.dumps({'sensor': 's1', 'alerts': {}}).encode(), 'alerts: expected an array'),
        (json.dumps({'sensor': 's1', 'alerts': [5]}).encode(), 'alerts[0]: expected an object'),
    ]
    for field, value, msg in [('sid', '7', 'alerts[1].sid: expected an integer'),
                              ('sid', -1, 'alerts[1].sid: must be between'),
                              ('sid', 1.5, 'alerts[1].sid: expected an integer'),
                              ('severity', None, 'alerts[1].severity: missing'),
                              ('severity', 0, 'alerts[1].severity: must be between 1 and 255'),
                              ('id', '', 'alerts[1].id: must not be empty'),
                              ('id', None, 'alerts[1].id: missing'),
                              ('ts', 'yesterday', 'alerts[1].ts: not an RFC 3339 time'),
                              ('ts', '2024-02-30T00:00:00Z', 'alerts[1].ts: not an RFC 3339 time'),
                              ('src_ip', '300.1.1.1', 'alerts[1].src_ip: not an IP address'),
                              ('dest_ip', None, 'alerts[1].dest_ip: missing'),
                              ('dest_port', 70000, 'alerts[1].dest_port: must be between 0 and 65535'),
                              ('signature', 5, 'alerts[1].signature: expected a string'),
                              ('payload', 'not base64!', 'alerts[1].payload: not base64'),
                              ('flow_id', 'x', 'alerts[1].flow_id: expected an integer')]:
        bad = dict(alert(8, sid=8))
        if value is None:
            del bad[field]
        else:
            bad[field] = value
        cases.append((json.dumps({'sensor': 's1', 'alerts': [good, bad]}).encode(), msg))
    before = db_count(srv, 'SELECT count(*) FROM alerts')
    for raw, msg in cases:
        st, _, ans = sensor.call('POST', '/api/v1/ingest', raw=raw)
        check(st == 400 and msg in ans.get('error', ''), 'ingest %r: HTTP %d %s (expected 400 "%s")' %
              (raw[:80], st, ans, msg))
    check(db_count(srv, 'SELECT count(*) FROM alerts') == before, 'a refused batch stored alerts')

    inc = admin.expect(200, 'GET', '/api/v1/incidents?limit=1')[0]['id']
    for path, body, msg in [
            ('/api/v1/incidents/%d/assign' % inc, {}, 'assignee: missing'),
            ('/api/v1/incidents/%d/assign' % inc, {'assignee': 3}, 'assignee: expected a string'),
            ('/api/v1/incidents/%d/assign' % inc, {'assignee': 'nobody'}, 'assignee: no such user'),
            ('/api/v1/incidents/%d/note' % inc, {'txt': 'x'}, 'text: missing'),
            ('/api/v1/incidents/%d/note' % inc, {'text': ['x']}, 'text: expected a string'),
            ('/api/v1/incidents/%d/status' % inc, {'reason': 'x'}, 'status: missing'),
            ('/api/v1/incidents/%d/status' % inc, {'status': 'done'}, 'status: must be one of open,'),
            ('/api/v1/incidents/%d/status' % inc, {'status': 'resolved', 'reason': 5},
             'reason: expected a string'),
            ('/api/v1/incidents/%d/ack' % inc, [], 'body: expected a JSON object'),
            ('/api/v1/heartbeat', {'sensor': 's1', 'counters': []}, 'counters: expected an object'),
            ('/api/v1/heartbeat', {'sensor': 's1', 'counters': {'a.b': -1}}, 'counters.a.b: expected a non-negative'),
            ('/api/v1/heartbeat', {'sensor': 's1', 'ruleset': []}, 'ruleset: expected a string or an integer'),
            ('/api/v1/escalation', {}, 'body: expected a JSON array'),
            ('/api/v1/escalation', [{'severity': 4, 'ack_within_s': 60, 'tiers': ['a']}], '[0].severity: must be between 1 and 3'),
            ('/api/v1/escalation', [{'severity': 1, 'tiers': ['a']}], '[0].ack_within_s: missing'),
            ('/api/v1/escalation', [{'severity': 1, 'ack_within_s': 60}], '[0].tiers: missing'),
            ('/api/v1/escalation', [{'severity': 1, 'ack_within_s': 60, 'tiers': [1]}], '[0].tiers[0]: expected a name'),
            ('/api/v1/escalation', [{'severity': 1, 'ack_within_s': 60, 'tiers': ['a']}] * 2, '[1].severity: duplicate 1'),
            ('/api/v1/notify', [{'name': 'x', 'type': 'email', 'url': 'http://x/'}], '[0].type: must be one of webhook, pagerduty, syslog'),
            ('/api/v1/notify', [{'name': 'x', 'type': 'pagerduty'}], '[0].routing_key: missing'),
            ('/api/v1/notify', [{'name': 'x', 'type': 'syslog', 'url': 'http://x/'}], '[0].url: must be udp://'),
            ('/api/v1/notify', [{'name': 'x', 'type': 'webhook', 'url': 'http://x/', 'min_severity': '1'}], '[0].min_severity: expected an integer'),
            ('/api/v1/notify', [{'name': 'x', 'type': 'webhook', 'url': 'http://x/', 'min_severity': 256}], '[0].min_severity: must be at most 255'),
            # passes the parser, refused by the notifier's own check: never stored
            ('/api/v1/notify', [{'name': 'ok', 'type': 'syslog', 'url': 'udp://127.0.0.1:514'},
                                {'name': 'x', 'type': 'syslog', 'url': 'udp://127.0.0.1:99999'}], '[1].url: expected udp://HOST[:PORT]'),
            ('/api/v1/users', {'name': 'x'}, 'role: missing'),
            ('/api/v1/users', {'name': 'x', 'role': 'root'}, 'role: must be one of sensor, viewer'),
            ('/api/v1/users', {'name': 'system', 'role': 'viewer'}, 'name: "system" is reserved'),
    ]:
        method = 'PUT' if path in ('/api/v1/escalation', '/api/v1/notify') else 'POST'
        st, _, ans = admin.call(method, path, body)
        check(st == 400 and msg in ans.get('error', ''), '%s %s %s: HTTP %d %s (expected 400 "%s")' %
              (method, path, body, st, ans, msg))
    # query parameters
    for path, msg in [('/api/v1/alerts?limit=10001', 'limit: expected an integer between 1 and 10000'),
                      ('/api/v1/alerts?limit=0', 'limit:'), ('/api/v1/alerts?sid=abc', 'sid:'),
                      ('/api/v1/alerts?since=yesterday', 'since:'), ('/api/v1/alerts?colour=red', 'colour: unknown parameter'),
                      ('/api/v1/incidents?status=done', 'status: must be one of'),
                      ('/api/v1/incidents?severity=x', 'severity:'), ('/api/v1/audit?limit=-5', 'limit:')]:
        st, _, ans = admin.call('GET', path)
        check(st == 400 and msg in ans['error'], 'GET %s: %d %s (expected 400 "%s")' % (path, st, ans, msg))
    # 404, 405
    for method, path in [('GET', '/'), ('GET', '/api/v1/nope'), ('GET', '/api/v1/incidents/abc'),
                         ('GET', '/api/v1/incidents/0'), ('GET', '/api/v1/incidents/999999'),
                         ('POST', '/api/v1/incidents/999999/ack'), ('GET', '/api/v1/incidents/1/extra'),
                         ('POST', '/api/v1/users/nobody/tokens'), ('DELETE', '/api/v1/tokens/999999')]:
        st, _, ans = admin.call(method, path, {} if method == 'POST' else None)
        check(st == 404 and 'error' in ans, '%s %s: %d (expected 404)' % (method, path, st))
    for method, path, allow in [('DELETE', '/api/v1/incidents', 'GET'), ('PUT', '/healthz', 'GET'),
                                ('GET', '/api/v1/ingest', 'POST'), ('POST', '/api/v1/notify', 'GET, PUT'),
                                ('PATCH', '/api/v1/users', 'GET, POST')]:
        st, hdrs, ans = admin.call(method, path, {})
        check(st == 405 and hdrs.get('Allow') == allow, '%s %s: %d Allow=%s (expected 405, %s)' %
              (method, path, st, hdrs.get('Allow'), allow))
    # 413: 1 MiB for most bodies, 8 MiB for ingest
    big_note = json.dumps({'text': 'x' * (1 << 20)}).encode()
    st, _, ans = resp.call('POST', '/api/v1/incidents/%d/note' % inc, raw=big_note)
    check(st == 413 and 'larger than 1048576' in ans['error'], 'big note: %d %s' % (st, ans))
    fat = [dict(alert(50000 + i, sid=9), signature='s' * 900) for i in range(2500)]   # ~3 MiB
    raw = json.dumps({'sensor': 's1', 'alerts': fat}).encode()
    check((1 << 20) < len(raw) < (8 << 20), 'test batch size %d' % len(raw))
    ans = sensor.expect(200, 'POST', '/api/v1/ingest', raw=raw)
    check(ans == answer(2500, 0), 'a 3 MiB batch: %s' % ans)
    raw = b'{"sensor": "s1", "alerts": [' + b' ' * (8 << 20) + b']}'
    st, _, ans = sensor.call('POST', '/api/v1/ingest', raw=raw)
    check(st == 413 and 'larger than 8388608' in ans['error'], 'a 8 MiB+ batch: %d %s' % (st, ans))
    # an unauthenticated upload is drained and answered 401, not reset
    st, _, _ = http(srv.url, 'POST', '/api/v1/ingest', raw=b'x' * (2 << 20))
    check(st == 401, 'big upload without a token: %d' % st)


def ingest_and_correlate(srv, tok, admin):
    sensor = Client(srv.url, tok['sensor'])
    viewer = Client(srv.url, tok['viewer'])
    batch = [alert(i, sid=3000001, dst='10.1.0.%d' % i, severity=2) for i in range(1, 6)]
    batch[0]['payload'] = 'aGVsbG8gd29ybGQ='
    check(ingest(sensor, batch) == answer(5, 0), 'first batch')
    check(ingest(sensor, batch) == answer(0, 5), 'same batch again is all duplicates')
    check(db_count(srv, "SELECT count(*) FROM alerts WHERE sid = 3000001") == 5, 'each alert stored once')
    check(db_count(srv, "SELECT count(DISTINCT id) FROM alerts WHERE sid = 3000001") == 5, 'unique ids')
    got = viewer.expect(200, 'GET', '/api/v1/alerts?sid=3000001')
    check([a['id'] for a in got] == ['s1:%d' % i for i in range(5, 0, -1)], 'alerts newest first: %s' %
          [a['id'] for a in got])
    a1 = [a for a in got if a['id'] == 's1:1'][0]
    for k in ('ts', 'sid', 'gid', 'rev', 'signature', 'category', 'severity', 'action', 'ruleset', 'src_ip',
              'src_port', 'dest_ip', 'dest_port', 'proto', 'flow_id', 'payload', 'incident', 'sensor'):
        check(k in a1, 'ALERT lacks %s: %s' % (k, a1))
    check(a1['payload'] == 'aGVsbG8gd29ybGQ=' and a1['ts'] == batch[0]['ts'], 'ALERT fields kept as sent')
    check(len(viewer.expect(200, 'GET', '/api/v1/alerts?sid=3000001&limit=2')) == 2, 'limit')
    check(len(viewer.expect(200, 'GET', '/api/v1/alerts?dest_ip=10.1.0.3')) == 1, 'dest_ip filter')
    check(len(viewer.expect(200, 'GET', '/api/v1/alerts?sid=3000001&since=%d&until=%d' % (T0 + 2, T0 + 3))) == 2,
          'since/until (epoch seconds)')
    check(len(viewer.expect(200, 'GET', '/api/v1/alerts?sid=3000001&since=2023-11-14T22:13:23Z')) == 3,
          'since (RFC 3339)')
    check(len(viewer.expect(200, 'GET', '/api/v1/alerts?incident=%d' % a1['incident'])) == 1, 'incident filter')

    # a scan across 50 hosts: one incident keyed on the source
    scan = [alert(1000 + h, sid=2010935, src='203.0.113.7', dst='10.2.0.%d' % h,
                  category='Attempted Information Leak', signature='ET SCAN probe') for h in range(1, 51)]
    check(ingest(sensor, scan) == answer(50, 0), 'scan batch')
    incs = [i for i in viewer.expect(200, 'GET', '/api/v1/incidents?limit=1000') if i['sid'] == 2010935]
    check(len(incs) == 1 and incs[0]['alert_count'] == 50, 'scan -> one incident of 50: %s' % incs)
    check(incs[0]['title'] == 'ET SCAN probe from 203.0.113.7' and incs[0]['key'] == 'sid:2010935:src:203.0.113.7',
          'scan incident: %s' % incs[0])

    # 10,000 alerts for one sid and host, in batches of 500: one incident
    for b in range(20):
        batch = [alert(100000 + b * 500 + i, sid=2020202, src='198.51.100.1', dst='10.3.3.3', severity=3,
                       ts=T0 + (b * 500 + i) // 10, signature='FLOOD') for i in range(500)]
        check(ingest(sensor, batch) == answer(500, 0), 'flood batch %d' % b)
    check(ingest(sensor, batch) == answer(0, 500), 'flood resend')
    incs = [i for i in viewer.expect(200, 'GET', '/api/v1/incidents?limit=1000') if i['sid'] == 2020202]
    check(len(incs) == 1, 'flood -> %d incidents' % len(incs))
    inc = viewer.expect(200, 'GET', '/api/v1/incidents/%d' % incs[0]['id'])
    check(inc['alert_count'] == 10000 and inc['severity'] == 1, 'flood incident: %s' %
          {k: inc[k] for k in ('alert_count', 'severity')})
    check([(t['action'], t['detail']) for t in inc['timeline']] ==
          [('opened', 'FLOOD on 10.3.3.3'), ('severity', 'raised from 3 to 2 at 100 alerts'),
           ('severity', 'raised from 2 to 1 at 1000 alerts')], 'flood timeline: %s' % inc['timeline'])
    check(len(inc['evidence']) == 120, 'evidence sample: %d (expected 20 + 100)' % len(inc['evidence']))
    check(db_count(srv, 'SELECT count(*) FROM alerts WHERE sid = 2020202') == 10000, 'flood stored once each')
    for k in ('id', 'key', 'title', 'severity', 'status', 'assignee', 'first_seen', 'last_seen', 'alert_count',
              'sid', 'kind', 'opened_at', 'notified_at', 'acked_at', 'mitigated_at', 'resolved_at', 'closed_at',
              'escalation_tier', 'time_to_notify_s', 'time_to_ack_s', 'timeline', 'evidence', 'notifications',
              'flows'):
        check(k in inc, 'INCIDENT lacks %s' % k)
    # no targets yet: nobody is notified and nothing is recorded (delivery: test_daemon_notify.py)
    check(inc['notifications'] == [] and inc['notified_at'] is None and inc['time_to_notify_s'] is None,
          'notified without targets: %s' % {k: inc[k] for k in ('notifications', 'notified_at')})
    check(len(viewer.expect(200, 'GET', '/api/v1/incidents?severity=1&status=open')) >= 1, 'incident filters')

    # concurrent sensors: overlapping batches from 4 threads
    errs = []

    def worker(k):
        c = Client(srv.url, tok['sensor'])
        try:
            for b in range(5):
                ids = range(200000 + b * 100, 200000 + b * 100 + 100 + k * 10)
                c.expect(200, 'POST', '/api/v1/ingest',
                         {'sensor': 's2', 'alerts': [alert(i, sid=4040404, sensor='s2') for i in ids]})
        except Exception as e:  # noqa: BLE001
            errs.append(e)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errs, 'concurrent ingest: %s' % errs)
    want = len({200000 + b * 100 + i for b in range(5) for i in range(130)})
    check(db_count(srv, 'SELECT count(*) FROM alerts WHERE sid = 4040404') == want, 'concurrent ingest stored')

    # heartbeats and sensors
    hb = {'sensor': 's1', 'version': '0.1.0', 'ruleset': 7, 'counters': {'capture.kernel_drops': 0, 'decoder.pkts': 5}}
    ans = sensor.expect(200, 'POST', '/api/v1/heartbeat', hb)
    check(ans == {'ok': True, 'blocklist': []}, 'heartbeat answer (no block yet): %s' % ans)
    hb['counters'] = {'capture.kernel_drops': 25, 'decoder.pkts': 9}
    sensor.expect(200, 'POST', '/api/v1/heartbeat', hb)
    s = [x for x in viewer.expect(200, 'GET', '/api/v1/sensors') if x['name'] == 's1'][0]
    check(s['version'] == '0.1.0' and s['ruleset'] == '7' and s['counters']['capture.kernel_drops'] == 25 and
          'last_seen' in s, 'sensor entry: %s' % s)
    blind = [i for i in viewer.expect(200, 'GET', '/api/v1/incidents?limit=1000') if i['kind'] == 'blind_spot']
    check(len(blind) == 1 and blind[0]['key'] == 'blind:s1:capture.kernel_drops', 'blind spot: %s' % blind)


def ingest_flows(srv, tok, admin):
    """FLOW records in the ingest body: counted with the alerts, idempotent,
    listed in the incident of their flow's alerts whether they came before
    or after them, validated like alerts (a bad one refuses the batch)."""
    sensor = Client(srv.url, tok['sensor'])
    viewer = Client(srv.url, tok['viewer'])

    def post(body):
        return sensor.expect(200, 'POST', '/api/v1/ingest', body)

    def ids(arr):
        return [f['id'] for f in arr]

    sid, src, dst = 6060606, '192.0.2.60', '10.60.0.1'
    fa, fb = 9100001, 9100002      # flow A's first record comes before its alerts, B's after
    early = flow(910001, fa, src=src, dst=dst, start=T0 + 100, end=T0 + 160)
    check(post({'sensor': 's1', 'alerts': [], 'flows': [early]}) == answer(0, 0, 1, 0), 'a batch of one flow record')
    alerts = [dict(alert(910010 + i, sid=sid, src=src, dst=dst, ts=T0 + 120 + i), flow_id=fa if i < 2 else fb)
              for i in range(4)]
    # A's second record (cut by the active timeout) comes with the alerts
    cut = flow(910002, fa, src=src, dst=dst, start=T0 + 100, end=T0 + 220, state='established')
    check(post({'sensor': 's1', 'alerts': alerts, 'flows': [cut]}) == answer(4, 0, 1, 0), 'alerts and a flow record')
    late = flow(910003, fb, src=src, dst=dst, start=T0 + 110, end=T0 + 300, src_port=None, dest_port=None,
                proto='ICMP', state='', reason='')
    check(post({'sensor': 's1', 'alerts': [], 'flows': [late]}) == answer(0, 0, 1, 0), 'a record after its alerts')
    other = flow(910004, fa, sensor='s3', start=T0 + 100, end=T0 + 200)      # another sensor's flow A
    check(post({'sensor': 's3', 'alerts': [], 'flows': [other]}) == answer(0, 0, 1, 0), 'another sensor')
    check(db_count(srv, "SELECT count(*) FROM flows WHERE sensor = 's1' AND flow_id IN (%d, %d)" % (fa, fb)) == 3,
          'flow records stored')

    incs = [i for i in viewer.expect(200, 'GET', '/api/v1/incidents?limit=1000') if i['sid'] == sid]
    check(len(incs) == 1 and incs[0]['alert_count'] == 4, 'flow test incident: %s' % incs)
    inc = viewer.expect(200, 'GET', '/api/v1/incidents/%d' % incs[0]['id'])
    check(ids(inc['flows']) == ['s1:910003', 's1:910002', 's1:910001'],
          "the incident's flows (before and after the alerts, newest first, not s3's): %s" % ids(inc['flows']))
    want = dict(early, sensor='s1')
    del want['type']
    got = {f['id']: f for f in inc['flows']}
    check(got['s1:910001'] == want, 'FLOW as stored: %s (sent %s)' % (got['s1:910001'], early))
    g = got['s1:910003']
    check('src_port' not in g and 'dest_port' not in g and g['proto'] == 'ICMP' and g['state'] == '' and
          g['reason'] == '', 'FLOW without ports: %s' % g)
    none = [i for i in viewer.expect(200, 'GET', '/api/v1/incidents?limit=1000') if i['kind'] == 'blind_spot'][0]
    check(viewer.expect(200, 'GET', '/api/v1/incidents/%d' % none['id'])['flows'] == [], 'a blind spot has no flows')

    # resends: everything a duplicate, nothing stored twice, nothing correlated again
    before = db_count(srv, 'SELECT count(*) FROM flows')
    check(post({'sensor': 's1', 'alerts': alerts, 'flows': [early, cut, late]}) == answer(0, 4, 0, 3), 'resend')
    check(db_count(srv, 'SELECT count(*) FROM flows') == before, 'a resent flow record stored twice')
    newer = flow(910005, fb, src=src, dst=dst, start=T0 + 110, end=T0 + 400)
    check(post({'sensor': 's1', 'alerts': alerts[:1], 'flows': [late, newer]}) == answer(0, 1, 1, 1),
          'partial resend')
    check(viewer.expect(200, 'GET', '/api/v1/incidents/%d' % incs[0]['id'])['alert_count'] == 4, 'correlated again')
    check(ids(viewer.expect(200, 'GET', '/api/v1/incidents/%d' % incs[0]['id'])['flows'])[0] == 's1:910005',
          'the newest record first')
    # "flows" absent, null or empty
    for extra in ({}, {'flows': None}, {'flows': []}):
        check(post(dict({'sensor': 's1', 'alerts': []}, **extra)) == answer(0, 0), 'flows %s' % extra)
    # unknown keys are ignored, as in alerts
    odd = dict(flow(910006, 9100006, start=T0), alerted=True, app_proto='http', flow={'age': 3})
    check(post({'sensor': 's1', 'alerts': [], 'flows': [odd]}) == answer(0, 0, 1, 0), 'unknown keys')

    log = admin.expect(200, 'GET', '/api/v1/audit?limit=100')
    check(any(e['action'] == 'ingest' and e['object'] == 'sensor:s1' and
              e['detail'] == 'alerts accepted 4, duplicates 0; flows accepted 1, duplicates 0' for e in log),
          'ingest audit with flows: %s' % [e['detail'] for e in log if e['action'] == 'ingest'][:5])

    # GET /api/v1/flows: filters, newest first, limits
    check(ids(viewer.expect(200, 'GET', '/api/v1/flows?sensor=s1&flow_id=%d' % fa)) == ['s1:910002', 's1:910001'],
          'flows?sensor&flow_id')
    got = viewer.expect(200, 'GET', '/api/v1/flows?flow_id=%d' % fa)
    check(ids(got) == ['s1:910002', 's3:910004', 's1:910001'], 'flows?flow_id: %s' % ids(got))
    check(all('type' not in f and f['sensor'] in ('s1', 's3') for f in got), 'stored FLOW objects: %s' % got)
    check(ids(viewer.expect(200, 'GET', '/api/v1/flows?sensor=s3')) == ['s3:910004'], 'flows?sensor')
    check(viewer.expect(200, 'GET', '/api/v1/flows?sensor=nobody') == [], 'flows of an unknown sensor')
    check(len(viewer.expect(200, 'GET', '/api/v1/flows?limit=2')) == 2, 'flows?limit')
    many = [flow(920000 + i, 9200000 + i, start=T0 + 1000, end=T0 + 1000 + i) for i in range(150)]
    check(post({'sensor': 's1', 'alerts': [], 'flows': many}) == answer(0, 0, 150, 0), '150 flow records')
    got = viewer.expect(200, 'GET', '/api/v1/flows')
    check(len(got) == 100 and got[0]['id'] == 's1:920149', 'default limit 100, newest first')
    check(len(viewer.expect(200, 'GET', '/api/v1/flows?limit=10000')) == db_count(srv, 'SELECT count(*) FROM flows'),
          'flows?limit=10000')
    for path, msg in [('/api/v1/flows?limit=10001', 'limit: expected an integer between 1 and 10000'),
                      ('/api/v1/flows?limit=0', 'limit:'), ('/api/v1/flows?flow_id=-1', 'flow_id:'),
                      ('/api/v1/flows?flow_id=x', 'flow_id:'), ('/api/v1/flows?src_ip=1.2.3.4', 'src_ip: unknown parameter')]:
        st, _, ans = viewer.call('GET', path)
        check(st == 400 and msg in ans['error'], 'GET %s: %d %s (expected 400 "%s")' % (path, st, ans, msg))

    # a bad FLOW: 400 naming the field and its index, nothing of the batch stored (its alert neither)
    good_alert = alert(930001, sid=6060607)
    good = flow(930002, 9300002)
    cases = [({'flows': {}}, 'flows: expected an array'), ({'flows': 'x'}, 'flows: expected an array'),
             ({'flows': [good, 5]}, 'flows[1]: expected an object')]
    for field, value, msg in [
            ('id', None, 'flows[1].id: missing'), ('id', '', 'flows[1].id: must not be empty'),
            ('id', 'x' * 201, 'flows[1].id: longer than 200 bytes'),
            ('type', 'alert', 'flows[1].type: must be "flow"'), ('type', 5, 'flows[1].type: expected a string'),
            ('flow_id', None, 'flows[1].flow_id: missing'), ('flow_id', -1, 'flows[1].flow_id: must be between 0 and'),
            ('flow_id', '7', 'flows[1].flow_id: expected an integer'),
            ('flow_id', 1.5, 'flows[1].flow_id: expected an integer'),
            ('start', None, 'flows[1].start: missing'), ('start', 'yesterday', 'flows[1].start: not an RFC 3339 time'),
            ('end', '2024-02-30T00:00:00Z', 'flows[1].end: not an RFC 3339 time'),
            ('end', 5, 'flows[1].end: expected a string'),
            ('src_ip', '300.1.1.1', 'flows[1].src_ip: not an IP address'), ('dest_ip', None, 'flows[1].dest_ip: missing'),
            ('src_ip', '1' * 46, 'flows[1].src_ip: longer than 45 bytes'),
            ('src_port', 70000, 'flows[1].src_port: must be between 0 and 65535'),
            ('dest_port', -1, 'flows[1].dest_port: must be between 0 and 65535'),
            ('dest_port', '80', 'flows[1].dest_port: expected an integer'),
            ('proto', 'x' * 33, 'flows[1].proto: longer than 32 bytes'), ('proto', 6, 'flows[1].proto: expected a string'),
            ('pkts_toserver', None, 'flows[1].pkts_toserver: missing'),
            ('pkts_toclient', -1, 'flows[1].pkts_toclient: must be between 0 and'),
            ('bytes_toserver', '1', 'flows[1].bytes_toserver: expected an integer'),
            ('bytes_toclient', 2.5, 'flows[1].bytes_toclient: expected an integer'),
            ('state', 's' * 33, 'flows[1].state: longer than 32 bytes'),
            ('reason', ['x'], 'flows[1].reason: expected a string')]:
        bad = flow(930003, 9300003)
        if value is None:
            del bad[field]
        else:
            bad[field] = value
        cases.append(({'flows': [good, bad]}, msg))
    n_alerts, n_flows = db_count(srv, 'SELECT count(*) FROM alerts'), db_count(srv, 'SELECT count(*) FROM flows')
    for extra, msg in cases:
        st, _, ans = sensor.call('POST', '/api/v1/ingest', dict({'sensor': 's1', 'alerts': [good_alert]}, **extra))
        check(st == 400 and msg in ans.get('error', ''), 'ingest %s: HTTP %d %s (expected 400 "%s")' %
              (json.dumps(extra)[:120], st, ans, msg))
    check(db_count(srv, 'SELECT count(*) FROM alerts') == n_alerts, 'a refused batch stored alerts')
    check(db_count(srv, 'SELECT count(*) FROM flows') == n_flows, 'a refused batch stored flow records')
    # the limits are inclusive: 32-byte state and reason, 45-byte addresses pass
    edge = dict(flow(930004, 9300004), state='s' * 32, reason='r' * 32, proto='p' * 32,
                src_ip='0000:0000:0000:0000:0000:ffff:192.168.100.228')
    check(len(edge['src_ip']) == 45, 'test address length')
    check(post({'sensor': 's1', 'alerts': [], 'flows': [edge]}) == answer(0, 0, 1, 0), 'limits inclusive')


def lifecycle(srv, tok, admin):
    sensor = Client(srv.url, tok['sensor'])
    resp = Client(srv.url, tok['responder'])
    mgr = Client(srv.url, tok['incident_manager'])
    viewer = Client(srv.url, tok['viewer'])
    ingest(sensor, [alert(900000, sid=5050505, dst='10.5.5.5', severity=2)])
    iid = [i for i in viewer.expect(200, 'GET', '/api/v1/incidents') if i['sid'] == 5050505][0]['id']
    base = '/api/v1/incidents/%d' % iid
    check(resp.expect(409, 'POST', base + '/status', {'status': 'mitigated'})['error'] ==
          'status: illegal transition open -> mitigated', 'illegal transition message')
    inc = resp.expect(200, 'POST', base + '/ack')
    check(inc['status'] == 'acknowledged' and inc['acked_at'] and inc['time_to_ack_s'] is not None, 'ack: %s' % inc)
    resp.expect(409, 'POST', base + '/ack', {})
    check(resp.expect(200, 'POST', base + '/assign', {'assignee': 'resp'})['assignee'] == 'resp', 'assign')
    resp.expect(200, 'POST', base + '/note', {'text': 'pcap shows a scanner'})
    resp.expect(200, 'POST', base + '/status', {'status': 'investigating'})
    resp.expect(200, 'POST', base + '/status', {'status': 'mitigated', 'reason': 'blocked'})
    check('incident_manager' in resp.expect(403, 'POST', base + '/status', {'status': 'closed'})['error'],
          'responder may not close')
    inc = resp.expect(200, 'POST', base + '/status', {'status': 'resolved', 'reason': 'fixed'})
    check(inc['status'] == 'resolved' and inc['resolved_at'], 'resolved')
    resp.expect(403, 'POST', base + '/status', {'status': 'open'})
    mgr.expect(200, 'POST', base + '/status', {'status': 'closed'})
    resp.expect(409, 'POST', base + '/assign', {'assignee': 'resp'})
    mgr.expect(409, 'POST', base + '/status', {'status': 'resolved'})
    inc = mgr.expect(200, 'POST', base + '/status', {'status': 'open', 'reason': 'recurred'})
    check(inc['status'] == 'open' and inc['acked_at'] is None and inc['closed_at'] is None, 'reopen: %s' % inc)
    tl = viewer.expect(200, 'GET', base)['timeline']
    check([(t['user'], t['action'], t['detail']) for t in tl] == [
        ('sensor', 'opened', 'TEST alert on 10.5.5.5'),
        ('resp', 'status', 'open -> acknowledged'),
        ('resp', 'assign', 'resp'),
        ('resp', 'note', 'pcap shows a scanner'),
        ('resp', 'status', 'acknowledged -> investigating'),
        ('resp', 'status', 'investigating -> mitigated: blocked'),
        ('resp', 'status', 'mitigated -> resolved: fixed'),
        ('mgr', 'status', 'resolved -> closed'),
        ('mgr', 'status', 'closed -> open: recurred')], 'timeline: %s' % tl)
    # no targets: no delivery recorded, no timeline entry for one
    check(viewer.expect(200, 'GET', base)['notifications'] == [], 'notifications without targets')


def admin_api(srv, tok, admin):
    pol = [{'severity': 1, 'ack_within_s': 300, 'tiers': ['oncall', 'lead']},
           {'severity': 2, 'ack_within_s': 3600, 'tiers': ['oncall']}]
    check(Client(srv.url, tok['incident_manager']).expect(200, 'PUT', '/api/v1/escalation', pol) == pol, 'PUT escalation')
    check(Client(srv.url, tok['viewer']).expect(200, 'GET', '/api/v1/escalation') == pol, 'GET escalation')
    tg = [{'name': 'hook', 'type': 'webhook', 'url': 'http://127.0.0.1:9/hook', 'routing_key': None, 'min_severity': 2},
          {'name': 'pd', 'type': 'pagerduty', 'url': None, 'routing_key': 'R0UT1NG', 'min_severity': None},
          {'name': 'sys', 'type': 'syslog', 'url': 'udp://127.0.0.1:514', 'routing_key': None, 'min_severity': 1}]
    check(admin.expect(200, 'PUT', '/api/v1/notify', tg) == tg, 'PUT notify')
    check(admin.expect(200, 'GET', '/api/v1/notify') == tg, 'GET notify')
    # min_severity 0 or less is "every severity", stored and answered as null
    t0 = [{'name': 'all', 'type': 'syslog', 'url': 'udp://127.0.0.1:9', 'min_severity': 0},
          {'name': 'all2', 'type': 'syslog', 'url': 'udp://127.0.0.1:9', 'min_severity': -3}]
    check([t['min_severity'] for t in admin.expect(200, 'PUT', '/api/v1/notify', t0)] == [None, None],
          'min_severity <= 0 not stored as null')
    # a refused set leaves the stored one alone
    admin.expect(400, 'PUT', '/api/v1/notify', [{'name': 'x', 'type': 'webhook', 'url': 'http://[::1/'}])
    check([t['name'] for t in admin.expect(200, 'GET', '/api/v1/notify')] == ['all', 'all2'], 'refused PUT stored')
    # the rest of this test notifies nobody: pd's default URL is PagerDuty's, off loopback
    check(admin.expect(200, 'PUT', '/api/v1/notify', []) == [], 'PUT no targets')
    admin.expect(409, 'POST', '/api/v1/users', {'name': 'viewer', 'role': 'viewer'})
    users = admin.expect(200, 'GET', '/api/v1/users')
    check({u['name']: u['role'] for u in users}.get('mgr') == 'incident_manager', 'users list: %s' % users)
    t = admin.expect(201, 'POST', '/api/v1/users/viewer/tokens')
    check(set(t) == {'id', 'token', 'user'} and t['token'].startswith('vgl_') and len(t['token']) == 47, 'token: %s' % t)
    Client(srv.url, t['token']).expect(200, 'GET', '/api/v1/incidents')
    check(admin.expect(200, 'DELETE', '/api/v1/tokens/%d' % t['id']) == {'id': t['id'], 'revoked': True}, 'revoke')
    Client(srv.url, t['token']).expect(401, 'GET', '/api/v1/incidents')
    admin.expect(409, 'DELETE', '/api/v1/tokens/%d' % t['id'])
    check(db_count(srv, "SELECT count(*) FROM tokens WHERE length(hash) = 32") >= 8,
          'tokens stored as 32-byte hashes')
    con = sqlite3.connect(srv.db)
    dump = '\n'.join(con.iterdump())
    con.close()
    check(t['token'] not in dump and srv.admin not in dump, 'a token is stored in clear')
    res = admin.expect(200, 'POST', '/api/v1/tick')
    check(set(res) == {'escalated', 'blind_spots', 'drift'}, 'tick answer: %s' % res)


def audit(srv, tok, admin):
    log = admin.expect(200, 'GET', '/api/v1/audit?limit=10000')
    check(all(set(e) >= {'ts', 'user', 'action', 'object', 'detail'} for e in log), 'audit entry fields')
    have = {(e['user'], e['action']) for e in log}
    for want in [('system', 'user.add'), ('admin', 'user.add'), ('admin', 'token.create'), ('admin', 'token.revoke'),
                 ('mgr', 'escalation.set'), ('admin', 'notify.set'), ('sensor', 'ingest'), ('sensor', 'incident.open'),
                 ('resp', 'incident.status'), ('resp', 'incident.assign'), ('resp', 'incident.note'),
                 ('mgr', 'incident.status')]:
        check(want in have, 'audit lacks %s' % (want,))
    check(len(admin.expect(200, 'GET', '/api/v1/audit?limit=3')) == 3, 'audit limit')
    check([e['id'] for e in log] == sorted((e['id'] for e in log), reverse=True), 'audit newest first')
    pd = [e for e in log if e['action'] == 'notify.set' and 'pd (pagerduty)' in e['detail']]
    check('R0UT1NG' not in json.dumps(log) and len(pd) == 1, 'notify audit: %s' % pd)


def metrics(srv, tok, admin):
    st, hdrs, text = http(srv.url, 'GET', '/metrics')
    check(st == 200 and hdrs['Content-Type'].startswith('text/plain; version=0.0.4'), 'metrics content type')
    vals, typed = {}, set()
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*)?\})? (-?[0-9.e+]+)$')
    for line in text.splitlines():
        if line.startswith('# TYPE '):
            _, _, name, kind = line.split(' ', 3)
            check(kind in ('counter', 'gauge'), 'metric type %s' % kind)
            typed.add(name)
            continue
        if line.startswith('# HELP ') or not line:
            continue
        m = line_re.match(line)
        check(m, 'not Prometheus text: %r' % line)
        check(m.group(1) in typed, '%s without # TYPE' % m.group(1))
        vals[m.group(1) + (m.group(2) or '')] = float(m.group(5))
    stored = db_count(srv, 'SELECT count(*) FROM alerts')
    check(vals['vigil_control_alerts_ingested_total'] == stored, 'ingested %s, stored %d' %
          (vals['vigil_control_alerts_ingested_total'], stored))
    check(vals['vigil_control_alerts_duplicate_total'] >= 5 + 500, 'duplicates counted')
    flows = db_count(srv, 'SELECT count(*) FROM flows')
    check(vals['vigil_control_flows_ingested_total'] == flows, 'flows ingested %s, stored %d' %
          (vals['vigil_control_flows_ingested_total'], flows))
    check(vals['vigil_control_flows_duplicate_total'] >= 3 + 1, 'flow duplicates counted')
    opened = db_count(srv, "SELECT count(*) FROM incidents WHERE kind = 'alert'")
    check(vals['vigil_control_incidents_opened_total{kind="alert"}'] == opened, 'incidents opened')
    check(vals['vigil_control_incidents_opened_total{kind="blind_spot"}'] == 1, 'blind spots opened')
    for code in ('200', '201', '400', '401', '403', '404', '405', '409', '413'):
        check(vals.get('vigil_control_http_requests_total{code="%s"}' % code, 0) > 0, 'no %s counted' % code)
    open_by_sev = db_count(srv, "SELECT count(*) FROM incidents WHERE status NOT IN ('resolved','closed') AND severity = 1")
    check(vals['vigil_control_incidents_open{severity="1"}'] == open_by_sev, 'open incidents gauge')
    check(vals['vigil_control_sensors'] == 1 and vals['vigil_control_db_size_bytes'] > 100000, 'gauges')
    for k in ('vigil_control_notifications_sent_total', 'vigil_control_notifications_failed_total',
              'vigil_control_escalations_total', 'vigil_control_heartbeats_total'):
        check(k in vals, 'metric %s missing' % k)


def garbage(srv, tok, admin):
    """Random mutations of valid bodies at every endpoint: never a 5xx, never a crash."""
    rnd = random.Random(7)
    seeds = [(b'/api/v1/ingest', json.dumps({'sensor': 's1', 'alerts': [alert(1)]}).encode()),
             (b'/api/v1/ingest', json.dumps({'sensor': 's1', 'alerts': [], 'flows': [flow(1, 1001)]}).encode()),
             (b'/api/v1/heartbeat', json.dumps({'sensor': 's1', 'counters': {'a': 1}}).encode()),
             (b'/api/v1/incidents/1/status', b'{"status":"resolved","reason":"x"}'),
             (b'/api/v1/incidents/1/note', b'{"text":"x"}'),
             (b'/api/v1/escalation', b'[{"severity":1,"ack_within_s":5,"tiers":["a"]}]'),
             (b'/api/v1/notify', b'[{"name":"n","type":"webhook","url":"http://127.0.0.1:9/"}]'),
             (b'/api/v1/users', b'{"name":"g","role":"viewer"}')]
    cases = []
    for _ in range(300):
        path, body = rnd.choice(seeds)
        b = bytearray(body)
        for _ in range(rnd.randint(1, 4)):
            op = rnd.randint(0, 2)
            pos = rnd.randrange(len(b) + 1)
            if op == 0 and b:
                del b[pos % len(b)]
            elif op == 1:
                b[pos:pos] = bytes([rnd.choice(b'{}[]":,0\\\x00\xff a1-')])
            elif b:
                b[pos % len(b)] = rnd.randrange(256)
        cases.append((path, bytes(b)))
    # the target sets last, with no escalation due, then none: a mutated URL
    # (a host name) never gets an event, so nothing leaves loopback, not even DNS
    for last in (False, True):
        if last:
            admin.expect(200, 'PUT', '/api/v1/escalation', [])
        for path, b in cases:
            if (path == b'/api/v1/notify') != last:
                continue
            method = 'PUT' if path in (b'/api/v1/escalation', b'/api/v1/notify') else 'POST'
            st, _, ans = admin.call(method, path.decode(), raw=b)
            check(st < 500, '%s %s %r -> %d %s' % (method, path, b, st, ans))
    admin.expect(200, 'PUT', '/api/v1/notify', [])


def bounds_and_config(exe):
    d = tempfile.mkdtemp(prefix='vigil-ctl-')
    try:
        cfg = os.path.join(d, 'cfg.json')
        with open(cfg, 'w') as f:
            json.dump({'max_body': 4096, 'max_limit': 50, 'default_limit': 20}, f)
        srv = Server(exe, ['--config', cfg, '--max-ingest-body', '16k'], workdir=d)
        try:
            admin = Client(srv.url, srv.admin)
            admin.expect(400, 'GET', '/api/v1/alerts?limit=51')
            admin.expect(200, 'GET', '/api/v1/alerts?limit=50')
            st, _, ans = admin.call('POST', '/api/v1/users', raw=b'{"name":"' + b'x' * 5000 + b'"}')
            check(st == 413 and '4096' in ans['error'], 'config max_body: %d %s' % (st, ans))
            st, _, ans = admin.call('POST', '/api/v1/ingest', raw=b' ' * 17000)
            check(st == 413 and '16384' in ans['error'], '--max-ingest-body: %d %s' % (st, ans))
        finally:
            check(srv.stop() == 0, 'unclean shutdown')
        for args, msg in [(['--config', cfg, '--max-limit', 'lots'], 'max_limit'),
                          (['--listen', 'nowhere'], '--listen'),
                          (['--tls-cert', cfg], '--tls-cert and --tls-key'),
                          (['--clock-file', os.path.join(d, 'missing')], '--clock-file')]:
            p = subprocess.run([exe, 'serve', '--db', os.path.join(d, 'control.db')] + args,
                               capture_output=True, text=True, timeout=30)
            check(p.returncode == 2 and msg in p.stderr, '%s: rc %d %s' % (args, p.returncode, p.stderr))
        with open(cfg, 'w') as f:
            json.dump({'max_bodyy': 1}, f)
        p = subprocess.run([exe, 'serve', '--db', os.path.join(d, 'control.db'), '--config', cfg],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and 'max_bodyy: unknown setting' in p.stderr, 'unknown setting: %s' % p.stderr)
        p = subprocess.run([exe, 'init', '--db', os.path.join(d, 'control.db')], capture_output=True, text=True)
        check(p.returncode == 1 and 'already has users' in p.stderr, 'second init: %s' % p.stderr)
        p = subprocess.run([exe, 'frobnicate'], capture_output=True, text=True)
        check(p.returncode == 2 and 'usage' in p.stderr, 'bad command')
    finally:
        shutil.rmtree(d, ignore_errors=True)


def tls(exe):
    if not shutil.which('openssl'):
        print('openssl not found: TLS part skipped')
        return
    d = tempfile.mkdtemp(prefix='vigil-ctl-')
    try:
        cert, key = os.path.join(d, 'cert.pem'), os.path.join(d, 'key.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                        '-days', '1', '-subj', '/CN=127.0.0.1'], check=True, capture_output=True, timeout=60)
        srv = Server(exe, ['--tls-cert', cert, '--tls-key', key], workdir=d)
        try:
            check(srv.url.startswith('https://'), 'TLS server URL %s' % srv.url)
            ctx = ssl.create_default_context(cafile=cert)
            ctx.check_hostname = False
            with urllib.request.urlopen(srv.url + '/healthz', context=ctx, timeout=30) as r:
                check(r.status == 200 and json.loads(r.read())['status'] == 'ok', 'healthz over TLS')
        finally:
            check(srv.stop() == 0, 'unclean TLS shutdown')
    finally:
        shutil.rmtree(d, ignore_errors=True)


def body(argv):
    exe = argv[0]
    srv = Server(exe)
    try:
        admin = Client(srv.url, srv.admin)
        tok = {'admin': srv.admin}
        for role, name in [('sensor', 'sensor'), ('viewer', 'viewer'), ('rule_author', 'author'),
                           ('rule_approver', 'approver'), ('responder', 'resp'), ('incident_manager', 'mgr')]:
            tok[role] = add_user(admin, name, role)
        check(http(srv.url, 'GET', '/healthz')[2] == {'status': 'ok', 'version': '0.1.0'}, 'healthz')
        role_matrix(srv, tok, admin)
        errors(srv, tok, admin)
        ingest_and_correlate(srv, tok, admin)
        ingest_flows(srv, tok, admin)
        lifecycle(srv, tok, admin)
        admin_api(srv, tok, admin)
        audit(srv, tok, admin)
        metrics(srv, tok, admin)
        garbage(srv, tok, admin)
        check(srv.alive() and http(srv.url, 'GET', '/healthz')[0] == 200, 'the server is not up at the end')
        rc = srv.stop()
        check(rc == 0, 'vigil-control exited %s on SIGTERM' % rc)
        check('SIGTERM, shutting down' in srv.log, 'no shutdown message: %s' % srv.log[-500:])
    finally:
        if srv.alive():
            srv.stop()
        srv.cleanup()
    bounds_and_config(exe)
    tls(exe)


if __name__ == '__main__':
    main(body)
