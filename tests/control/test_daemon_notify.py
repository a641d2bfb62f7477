#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vigil-control's notifier end to end, on loopback, with a file clock:

- targets PUT through the API reach the running notifier: a webhook (every
  severity: min_severity 0), a PagerDuty target (severity 1 only) and a
  syslog target; an incident opened by ingest is delivered to all three
  (the webhook body is the INCIDENT plus "event" and "target", PagerDuty
  Events v2 "trigger" with dedup_key = the key, one RFC 5424 datagram), a
  severity-3 one not to PagerDuty; notified_at is set at the daemon's clock,
  the timeline and the notification records show each delivery;
- ack and resolve go out as "acknowledged"/"acknowledge" and
  "resolved"/"resolve", each incident's events in order;
- after a restart the targets come from the database;
- retries: a target answering 500, 500, 200 is delivered on the third try
  with the configured backoff (notify_backoff_ms), and notified_at is the
  clock at that try; a target answering 400 is given up at once and the
  failure is on the timeline;
- escalation on POST /api/v1/tick past ack_within_s is delivered as
  "escalated" (webhook) and a second "trigger" (PagerDuty);
- SIGTERM with a delivery in flight and one waiting to retry: exit 0, and
  both are recorded as failed ("shut down ...").

usage: test_daemon_notify.py VIGIL_CONTROL"""
import json
import os
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctltest import T0, Client, Server, add_user, alert, check, http, main  # noqa: E402
from notify_receiver import parse_syslog  # noqa: E402

BACKOFF_MS = 200
SOURCE = 'vigil-test-source'
INCIDENT_KEYS = {'id', 'key', 'title', 'severity', 'status', 'assignee', 'first_seen', 'last_seen',
                 'alert_count', 'sid', 'kind', 'opened_at', 'notified_at', 'acked_at', 'mitigated_at',
                 'resolved_at', 'closed_at', 'escalation_tier', 'time_to_notify_s', 'time_to_ack_s'}


def iso(t):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


def wait_for(what, fn, timeout=15.0):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            check(False, 'timed out waiting for ' + what)
        time.sleep(0.05)


class Receiver:
    """HTTP notification targets on 127.0.0.1 (an ephemeral port), in this
    process.  Every request is recorded before it is answered; answers come
    from a per-path script (the last one repeats, default 200), and a gate
    holds the n-th request to a path until the test opens it."""

    def __init__(self):
        self.cond = threading.Condition()
        self.reqs = []
        self.scripts, self.counts, self.gates = {}, {}, {}
        rx = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
                with rx.cond:
                    n = rx.counts[self.path] = rx.counts.get(self.path, 0) + 1
                    script = rx.scripts.get(self.path, [200])
                    code = script[min(n, len(script)) - 1]
                    rx.reqs.append({'t': time.time(), 'path': self.path, 'n': n, 'raw': body,
                                    'headers': {k.lower(): v for k, v in self.headers.items()},
                                    'body': json.loads(body), 'answer': code})
                    gate = rx.gates.get((self.path, n))
                    rx.cond.notify_all()
                if gate:
                    gate.wait(10)
                out = json.dumps({'status': 'ok'} if code < 300 else {'error': 'scripted %d' % code}).encode()
                self.send_response(code)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        ThreadingHTTPServer.daemon_threads = True
        self.srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def script(self, path, answers):
        with self.cond:
            self.scripts[path] = answers

    def gate(self, path, n):
        ev = threading.Event()
        with self.cond:
            self.gates[(path, n)] = ev
        return ev

    def bodies(self, path, pred=lambda b: True):
        with self.cond:
            return [r['body'] for r in self.reqs if r['path'] == path and pred(r['body'])]

    def requests(self, path):
        with self.cond:
            return [r for r in self.reqs if r['path'] == path]

    def close(self):
        for ev in self.gates.values():
            ev.set()
        self.srv.shutdown()
        self.srv.server_close()


class SyslogSink:
    """A UDP socket on 127.0.0.1: every datagram, parsed as RFC 5424."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.msgs = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            raw = data.decode('utf-8', 'replace')
            with self.lock:
                self.msgs.append({'raw': raw, 'parsed': parse_syslog(raw)})

    def of(self, incident_id):
        with self.lock:
            return [m for m in self.msgs if m['parsed'] and m['parsed']['params'].get('id') == str(incident_id)]

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def of_incident(inc):
    return lambda b: b.get('id') == inc['id'] or b.get('dedup_key') == inc['key']


def check_webhook(rx, inc, event, status):
    """The n-th webhook body of inc: the INCIDENT + event + target."""
    b = wait_for('webhook %s of incident %d' % (event, inc['id']),
                 lambda: [x for x in rx.bodies('/hook', of_incident(inc)) if x['event'] == event])
    check(len(b) == 1, 'webhook %s sent %d times' % (event, len(b)))
    b = b[0]
    check(set(b) == INCIDENT_KEYS | {'event', 'target'}, 'webhook keys: %s' % sorted(set(b) ^ INCIDENT_KEYS))
    want = {k: inc[k] for k in ('id', 'key', 'title', 'severity', 'sid', 'kind', 'opened_at', 'first_seen')}
    check({k: b[k] for k in want} == want and b['target'] == 'hook' and b['status'] == status,
          'webhook %s body: %s (incident %s)' % (event, b, want))
    return b


def check_syslog(sink, inc, event):
    m = wait_for('syslog %s of incident %d' % (event, inc['id']),
                 lambda: [x for x in sink.of(inc['id']) if x['parsed']['params'].get('event') == event])
    check(len(m) == 1, 'syslog %s sent %d times' % (event, len(m)))
    p = m[0]['parsed']
    pri = 16 * 8 + {1: 2, 2: 3, 3: 4}.get(inc['severity'], 5)
    check(p['pri'] == pri and p['version'] == '1' and p['hostname'] == SOURCE and p['app'] == 'vigil-control' and
          p['msgid'] == 'incident' and p['sdid'] == 'vigil@32473' and p['msg'] == inc['title'] and
          p['params'] == {'id': str(inc['id']), 'event': event, 'severity': str(inc['severity']), 'key': inc['key']},
          'syslog %s: %r' % (event, m[0]['raw']))


def notified(admin, inc, n):
    """The incident once n delivery outcomes are recorded."""
    path = '/api/v1/incidents/%d' % inc['id']
    return wait_for('%d notification records of incident %d' % (n, inc['id']),
                    lambda: (lambda a: a if len(a['notifications']) >= n else None)(admin.expect(200, 'GET', path)))


def incident_of(admin, sid):
    incs = [i for i in admin.expect(200, 'GET', '/api/v1/incidents?limit=1000') if i['sid'] == sid]
    check(len(incs) == 1, 'incidents of sid %d: %s' % (sid, incs))
    return admin.expect(200, 'GET', '/api/v1/incidents/%d' % incs[0]['id'])


def metric(srv, name):
    text = http(srv.url, 'GET', '/metrics')[2]
    for line in text.splitlines():
        if line.startswith(name + ' '):
            return float(line.split()[1])
    check(False, 'metric %s missing' % name)


def body(argv):
    exe = argv[0]
    d = tempfile.mkdtemp(prefix='vigil-ctl-')
    cfg = os.path.join(d, 'cfg.json')
    with open(cfg, 'w') as f:
        json.dump({'tick_interval_s': 0, 'notify_backoff_ms': BACKOFF_MS, 'notify_source': SOURCE}, f)
    rx, sink = Receiver(), SyslogSink()
    srv = Server(exe, ['--config', cfg], clock=T0, workdir=d)
    try:
        admin = Client(srv.url, srv.admin)
        sensor = Client(srv.url, add_user(admin, 'edge1', 'sensor'))
        resp = Client(srv.url, add_user(admin, 'alice', 'responder'))
        mgr = Client(srv.url, add_user(admin, 'carol', 'incident_manager'))

        # --- three targets, an incident of each severity class ------------
        tg = [{'name': 'hook', 'type': 'webhook', 'url': rx.url + '/hook', 'routing_key': None, 'min_severity': 0},
              {'name': 'pd', 'type': 'pagerduty', 'url': rx.url + '/pd', 'routing_key': 'R0UT1NG-KEY',
               'min_severity': 1},
              {'name': 'sys', 'type': 'syslog', 'url': 'udp://127.0.0.1:%d' % sink.port, 'routing_key': None}]
        got = admin.expect(200, 'PUT', '/api/v1/notify', tg)
        check([t['min_severity'] for t in got] == [None, 1, None], 'stored targets: %s' % got)
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'edge1', 'alerts': [
            alert(1, sid=1111, severity=1, dst='10.0.0.5', sensor='edge1', signature='TROJAN beacon'),
            alert(2, sid=1111, severity=1, dst='10.0.0.5', sensor='edge1', signature='TROJAN beacon'),
            alert(3, sid=3333, severity=3, dst='10.0.0.6', sensor='edge1', signature='POLICY curl')]})
        a, b = incident_of(admin, 1111), incident_of(admin, 3333)
        check(a['severity'] == 1 and a['alert_count'] == 2 and b['severity'] == 3, 'incidents: %s %s' % (a, b))

        w = check_webhook(rx, a, 'opened', 'open')
        check(w['alert_count'] == 2 and w['notified_at'] is None, 'webhook opened: %s' % w)
        check(rx.requests('/hook')[0]['headers'].get('content-type') == 'application/json' and
              rx.requests('/hook')[0]['headers'].get('user-agent', '').startswith('vigil-control/'),
              'webhook headers: %s' % rx.requests('/hook')[0]['headers'])
        check_webhook(rx, b, 'opened', 'open')
        pd = wait_for('PagerDuty trigger', lambda: rx.bodies('/pd', of_incident(a)))
        check(len(pd) == 1 and set(pd[0]) == {'routing_key', 'event_action', 'dedup_key', 'payload'},
              'PagerDuty trigger: %s' % pd)
        p = pd[0]
        check(p['routing_key'] == 'R0UT1NG-KEY' and p['event_action'] == 'trigger' and p['dedup_key'] == a['key'],
              'PagerDuty trigger: %s' % p)
        check(p['payload']['summary'] == a['title'] and p['payload']['severity'] == 'critical' and
              p['payload']['source'] == SOURCE and p['payload']['custom_details']['id'] == a['id'],
              'PagerDuty payload: %s' % p['payload'])
        check_syslog(sink, a, 'opened')
        check_syslog(sink, b, 'opened')

        # notified_at: the first delivery, at the daemon's (file) clock; each delivery recorded
        a = notified(admin, a, 3)
        check(a['notified_at'] == iso(T0) and a['time_to_notify_s'] == 0, 'notified_at: %s %s' %
              (a['notified_at'], a['time_to_notify_s']))
        check(sorted((n['event'], n['target'], n['status']) for n in a['notifications']) ==
              [('opened', t, 'delivered') for t in ('hook', 'pd', 'sys')], 'records: %s' % a['notifications'])
        tl = [(t['user'], t['action'], t['detail']) for t in a['timeline'] if t['action'].startswith('notif')]
        check(sorted(tl) == [('system', 'notified', 'opened to %s' % t) for t in ('hook', 'pd', 'sys')],
              'timeline: %s' % a['timeline'])
        # min_severity 1: the severity-3 incident went to the other two only
        b = notified(admin, b, 2)
        time.sleep(0.3)
        check(sorted(n['target'] for n in admin.expect(200, 'GET', '/api/v1/incidents/%d' % b['id'])['notifications'])
              == ['hook', 'sys'] and not rx.bodies('/pd', of_incident(b)), 'severity 3 went to PagerDuty')

        # --- ack and resolve -----------------------------------------------
        base = '/api/v1/incidents/%d' % a['id']
        srv.set_clock(T0 + 30)
        resp.expect(200, 'POST', base + '/ack', {})
        w = check_webhook(rx, a, 'acknowledged', 'acknowledged')
        check(w['acked_at'] == iso(T0 + 30), 'webhook ack: %s' % w)
        ack = wait_for('PagerDuty acknowledge', lambda: [x for x in rx.bodies('/pd', of_incident(a))
                                                         if x['event_action'] == 'acknowledge'])
        check(ack == [{'routing_key': 'R0UT1NG-KEY', 'event_action': 'acknowledge', 'dedup_key': a['key']}],
              'PagerDuty acknowledge: %s' % ack)
        check_syslog(sink, a, 'acknowledged')
        srv.set_clock(T0 + 60)
        resp.expect(200, 'POST', base + '/status', {'status': 'resolved', 'reason': 'cleaned'})
        check_webhook(rx, a, 'resolved', 'resolved')
        res = wait_for('PagerDuty resolve', lambda: [x for x in rx.bodies('/pd', of_incident(a))
                                                     if x['event_action'] == 'resolve'])
        check(res == [{'routing_key': 'R0UT1NG-KEY', 'event_action': 'resolve', 'dedup_key': a['key']}],
              'PagerDuty resolve: %s' % res)
        check_syslog(sink, a, 'resolved')
        check([x['event'] for x in rx.bodies('/hook', of_incident(a))] == ['opened', 'acknowledged', 'resolved'] and
              [x['event_action'] for x in rx.bodies('/pd', of_incident(a))] == ['trigger', 'acknowledge', 'resolve'],
              'events out of order')
        a = notified(admin, a, 9)
        check(a['notified_at'] == iso(T0), 'notified_at moved: %s' % a['notified_at'])
        check(srv.stop() == 0, 'unclean shutdown')

        # --- a restart: the targets come from the database ---------------------
        srv = Server(exe, ['--config', cfg], clock=T0 + 500, workdir=d, admin=srv.admin)
        for c in (admin, sensor, resp, mgr):
            c.url = srv.url
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'edge1', 'alerts': [
            alert(4, sid=5555, severity=2, dst='10.0.0.7', sensor='edge1')]})
        c5 = incident_of(admin, 5555)
        check_webhook(rx, c5, 'opened', 'open')
        check_syslog(sink, c5, 'opened')
        c5 = notified(admin, c5, 2)
        check(c5['notified_at'] == iso(T0 + 500) and not rx.bodies('/pd', of_incident(c5)),
              'after a restart: %s' % c5)

        # --- retries: new targets reach the running notifier -------------------
        rx.script('/flaky', [500, 500, 200])
        rx.script('/broken', [400])
        gate = rx.gate('/flaky', 3)
        admin.expect(200, 'PUT', '/api/v1/notify', [
            {'name': 'flaky', 'type': 'webhook', 'url': rx.url + '/flaky'},
            {'name': 'broken', 'type': 'webhook', 'url': rx.url + '/broken'}])
        srv.set_clock(T0 + 1000)
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'edge1', 'alerts': [
            alert(5, sid=7777, severity=2, dst='10.0.0.8', sensor='edge1')]})
        dd = incident_of(admin, 7777)
        path = '/api/v1/incidents/%d' % dd['id']
        wait_for('the third try', lambda: len(rx.requests('/flaky')) == 3)
        # the third try is held: two failures so far are no notification
        dd = notified(admin, dd, 1)
        check(dd['notified_at'] is None and dd['time_to_notify_s'] is None, 'notified before delivery: %s' % dd)
        check([(n['target'], n['status']) for n in dd['notifications']] == [('broken', 'failed')],
              'records: %s' % dd['notifications'])
        fail = [t for t in dd['timeline'] if t['action'] == 'notify_failed']
        check(len(fail) == 1 and fail[0]['user'] == 'system' and
              fail[0]['detail'].startswith('opened to broken: HTTP 400: ') and fail[0]['detail'].endswith('(1 try)'),
              'failure on the timeline: %s' % dd['timeline'])
        srv.set_clock(T0 + 1042)
        gate.set()
        dd = wait_for('notified_at after the third try',
                      lambda: (lambda x: x if x['notified_at'] else None)(admin.expect(200, 'GET', path)))
        check(dd['notified_at'] == iso(T0 + 1042) and dd['time_to_notify_s'] == 42, 'notified: %s' % dd)
        check([t['detail'] for t in dd['timeline'] if t['action'] == 'notified'] == ['opened to flaky: on try 3'],
              'delivery on the timeline: %s' % dd['timeline'])
        tries = rx.requests('/flaky')
        check(len(tries) == 3 and len({r['raw'] for r in tries}) == 1 and len(rx.requests('/broken')) == 1,
              'tries: %s' % [(r['path'], r['answer']) for r in tries + rx.requests('/broken')])
        g1, g2 = tries[1]['t'] - tries[0]['t'], tries[2]['t'] - tries[1]['t']
        check(BACKOFF_MS / 1000 * 0.9 <= g1 < 1.0 and 2 * BACKOFF_MS / 1000 * 0.9 <= g2 < 2.0,
              'backoff gaps %.3f %.3f s (notify_backoff_ms %d)' % (g1, g2, BACKOFF_MS))
        check(not rx.bodies('/hook', of_incident(dd)) and not sink.of(dd['id']), 'old targets still notified')
        check(metric(srv, 'vigil_control_notifications_sent_total') == 3 and
              metric(srv, 'vigil_control_notifications_failed_total') == 1, 'notification metrics')

        # --- escalation: the tick past ack_within_s is notified -----------------
        mgr.expect(200, 'PUT', '/api/v1/escalation', [{'severity': 1, 'ack_within_s': 60, 'tiers': ['oncall', 'lead']}])
        admin.expect(200, 'PUT', '/api/v1/notify', tg)
        srv.set_clock(T0 + 2000)
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'edge1', 'alerts': [
            alert(6, sid=9999, severity=1, dst='10.0.0.9', sensor='edge1')]})
        e = incident_of(admin, 9999)
        check_webhook(rx, e, 'opened', 'open')
        srv.set_clock(T0 + 2059)
        check(admin.expect(200, 'POST', '/api/v1/tick')['escalated'] == 0, 'escalated early')
        srv.set_clock(T0 + 2061)
        check(admin.expect(200, 'POST', '/api/v1/tick')['escalated'] == 1, 'not escalated')
        w = check_webhook(rx, e, 'escalated', 'open')
        check(w['escalation_tier'] == 2, 'escalated webhook: %s' % w)
        trig = wait_for('the second trigger', lambda: (lambda t: t if len(t) == 2 else None)(
            [x for x in rx.bodies('/pd', of_incident(e)) if x['event_action'] == 'trigger']))
        check(trig[1]['dedup_key'] == e['key'] and trig[1]['payload']['custom_details']['escalation_tier'] == 2,
              'PagerDuty escalation: %s' % trig[1])
        check_syslog(sink, e, 'escalated')
        e = notified(admin, e, 6)
        check(sorted(n['target'] for n in e['notifications'] if n['event'] == 'escalated') == ['hook', 'pd', 'sys'],
              'escalation records: %s' % e['notifications'])
        check(e['notified_at'] == iso(T0 + 2000), 'notified_at of the escalated incident: %s' % e['notified_at'])

        # --- shutdown with one delivery in flight and one waiting to retry ------
        rx.gate('/hang', 1)             # never opened: in flight at SIGTERM
        rx.script('/down', [503])
        admin.expect(200, 'PUT', '/api/v1/notify', [{'name': 'hang', 'type': 'webhook', 'url': rx.url + '/hang'},
                                                     {'name': 'down', 'type': 'webhook', 'url': rx.url + '/down'}])
        sensor.expect(200, 'POST', '/api/v1/ingest', {'sensor': 'edge1', 'alerts': [
            alert(7, sid=4444, severity=2, dst='10.0.0.10', sensor='edge1')]})
        f = incident_of(admin, 4444)
        wait_for('the pending deliveries', lambda: rx.requests('/hang') and rx.requests('/down'))
        check(srv.alive(), 'the server died')
        check(srv.stop() == 0, 'unclean shutdown with deliveries pending')
        check('opened of incident %d to broken failed: HTTP 400' % dd['id'] in srv.log,
              'the give-up is not logged: %s' % srv.log[-2000:])
        # the notifier's drain was recorded through the server before it went away
        con = sqlite3.connect(srv.db)
        try:
            recs = sorted(con.execute('SELECT target, status FROM notifications WHERE incident_id = ?', (f['id'],)))
            tl = dict(con.execute("SELECT substr(detail, 1, instr(detail, ':') - 1), detail FROM timeline "
                                  "WHERE incident_id = ? AND action = 'notify_failed'", (f['id'],)))
        finally:
            con.close()
        check(recs == [('down', 'failed'), ('hang', 'failed')], 'records at shutdown: %s' % recs)
        check(tl.get('opened to hang', '').startswith('opened to hang: shut down during an attempt') and
              tl.get('opened to down', '').startswith('opened to down: shut down'), 'timeline at shutdown: %s' % tl)
    finally:
        if srv.alive():
            srv.stop()
        srv.cleanup()
        rx.close()
        sink.close()


if __name__ == '__main__':
    main(body)
