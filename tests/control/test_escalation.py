#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Escalation and blind spots with a file-driven clock (--clock-file):
an unacknowledged severity-1 incident goes to tier 2 once the policy's
ack_within_s has passed (through POST /api/v1/tick with the timer off, then
through the daemon's 1 s timer alone, on the same database), the timeline and the audit log show it, an ack stops
further escalation, time_to_ack_s is reported, and a silent sensor opens a
blind-spot incident.

usage: test_escalation.py VIGIL_CONTROL"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctltest import T0, Client, Server, add_user, alert, check, http, main  # noqa: E402


def wait_for(what, fn, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    check(False, 'timed out waiting for ' + what)


def body(argv):
    exe = argv[0]
    # phase 1: the timer off (tick_interval_s 0): only POST /api/v1/tick evaluates
    d = tempfile.mkdtemp(prefix='vigil-ctl-')
    cfg = os.path.join(d, 'cfg.json')
    with open(cfg, 'w') as f:
        json.dump({'tick_interval_s': 0}, f)
    srv = Server(exe, ['--config', cfg], clock=T0, workdir=d)
    try:
        admin = Client(srv.url, srv.admin)
        sensor = Client(srv.url, add_user(admin, 'edge1', 'sensor'))
        resp = Client(srv.url, add_user(admin, 'alice', 'responder'))
        mgr = Client(srv.url, add_user(admin, 'carol', 'incident_manager'))
        pol = [{'severity': 1, 'ack_within_s': 60, 'tiers': ['oncall', 'lead', 'manager']}]
        mgr.expect(200, 'PUT', '/api/v1/escalation', pol)

        def incident(sid):
            incs = [i for i in admin.expect(200, 'GET', '/api/v1/incidents') if i['sid'] == sid]
            check(len(incs) == 1, 'incidents of sid %d: %s' % (sid, incs))
            return admin.expect(200, 'GET', '/api/v1/incidents/%d' % incs[0]['id'])

        sensor.expect(200, 'POST', '/api/v1/ingest',
                      {'sensor': 'edge1', 'alerts': [alert(1, sid=1111, severity=1, sensor='edge1'),
                                                     alert(2, sid=3333, severity=3, sensor='edge1')]})
        a = incident(1111)
        check(a['opened_at'] == '2023-11-14T22:13:20Z' and a['escalation_tier'] == 1, 'opened at the file clock: %s' % a)
        base = '/api/v1/incidents/%d' % a['id']

        check(admin.expect(200, 'POST', '/api/v1/tick') == {'escalated': 0, 'blind_spots': 0, 'drift': 0}, 'nothing due at T0')
        srv.set_clock(T0 + 59)
        check(admin.expect(200, 'POST', '/api/v1/tick')['escalated'] == 0, 'escalated before ack_within_s')
        srv.set_clock(T0 + 61)
        time.sleep(1.5)
        check(incident(1111)['escalation_tier'] == 1, 'escalated with the timer off')
        check(admin.expect(200, 'POST', '/api/v1/tick')['escalated'] == 1, 'not escalated after 61 s')
        a = admin.expect(200, 'GET', base)
        check(a['escalation_tier'] == 2, 'tier %d (expected 2)' % a['escalation_tier'])
        check(a['timeline'][-1] == {'ts': '2023-11-14T22:14:21Z', 'user': 'system', 'action': 'escalated',
                                    'detail': 'tier 1 -> 2 (lead): not acknowledged within 60 s'},
              'timeline: %s' % a['timeline'][-1])
        check(a['notifications'] == [], 'notified without targets: %s' % a['notifications'])
        audit = admin.expect(200, 'GET', '/api/v1/audit')
        esc = [e for e in audit if e['action'] == 'incident.escalate']
        check(len(esc) == 1 and esc[0]['user'] == 'system' and esc[0]['object'] == 'incident:%d' % a['id'] and
              'tier 1 -> 2' in esc[0]['detail'], 'audit: %s' % esc)
        check(admin.expect(200, 'POST', '/api/v1/tick')['escalated'] == 0, 'escalated twice at one clock value')
        check(incident(3333)['escalation_tier'] == 1, 'severity 3 has no policy: not escalated')

        # the ack stops escalation; time to ack is from opening
        srv.set_clock(T0 + 100)
        a = resp.expect(200, 'POST', base + '/ack', {})
        check(a['time_to_ack_s'] == 100 and a['acked_at'] == '2023-11-14T22:15:00Z', 'ack: %s' % a)
        check(a['time_to_notify_s'] is None, 'no targets, yet notified: %s' % a['time_to_notify_s'])
        srv.set_clock(T0 + 1000)
        check(admin.expect(200, 'POST', '/api/v1/tick')['escalated'] == 0, 'escalated after the ack')
        check(admin.expect(200, 'GET', base)['escalation_tier'] == 2, 'tier changed after the ack')
        check(srv.stop() == 0, 'unclean shutdown')

        # phase 2: the same database, the 1 s timer on: it alone escalates at the file clock
        srv = Server(exe, clock=T0 + 1000, workdir=srv.dir, admin=srv.admin)
        admin.url = sensor.url = srv.url
        sensor.expect(200, 'POST', '/api/v1/ingest',
                      {'sensor': 'edge1', 'alerts': [alert(3, sid=2222, severity=1, sensor='edge1')]})
        sensor.expect(200, 'POST', '/api/v1/heartbeat', {'sensor': 'edge1', 'version': '1', 'ruleset': 'r',
                                                       'counters': {}})
        b = incident(2222)
        check(b['opened_at'] == '2023-11-14T22:30:00Z', 'second incident opened at %s' % b['opened_at'])
        time.sleep(1.5)
        check(incident(2222)['escalation_tier'] == 1, 'escalated before its time')
        srv.set_clock(T0 + 1061)
        wait_for('the timer to escalate', lambda: incident(2222)['escalation_tier'] == 2)
        time.sleep(2.5)   # the frozen clock must not escalate it again
        check(incident(2222)['escalation_tier'] == 2, 'escalated twice at one clock value')
        srv.set_clock(T0 + 1121)
        wait_for('the third tier', lambda: incident(2222)['escalation_tier'] == 3)
        srv.set_clock(T0 + 5000)
        time.sleep(2.5)
        check(incident(2222)['escalation_tier'] == 3, 'escalated past the last tier')
        check(incident(1111)['escalation_tier'] == 2, 'the acknowledged incident moved')

        # a sensor silent for 3 heartbeat periods (10 s) opens a blind spot
        blind = wait_for('the silent-sensor blind spot', lambda: [
            i for i in admin.expect(200, 'GET', '/api/v1/incidents') if i['key'] == 'blind:edge1:silent'])
        check(blind[0]['kind'] == 'blind_spot' and blind[0]['title'] == 'Blind spot on edge1: sensor silent',
              'blind spot: %s' % blind[0])

        st, _, text = http(srv.url, 'GET', '/metrics')
        check('vigil_control_escalations_total 2\n' in text, 'escalations metric (this process):\n' + text)
        check('vigil_control_incidents_opened_total{kind="blind_spot"} 1\n' in text, 'blind-spot metric')
        check(srv.alive(), 'the server died')
        check(srv.stop() == 0, 'unclean shutdown')
    finally:
        if srv.alive():
            srv.stop()
        srv.cleanup()


if __name__ == '__main__':
    main(body)
