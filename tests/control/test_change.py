#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Rule change management end to end, with a real vigil dataplane reading
a pcap stream from a FIFO and shipping to vigil-control.

workflow: a version whose regression case fails is validation_failed; its
fix (an edit, a child) is validated; its author may not approve it, an
approver does; deployed to sensor tap1, the running vigil (started with a
different ruleset) fetches and reloads it: the fleet shows it running with
no drift, vigil's log shows the reload and the alerts that arrive after
carry its engine id; a rollback brings back the version deployed before,
which vigil runs again; the audit log has every step with its user.

drift (drift_grace_s 0): vigil started with control.rules=no and another
ruleset than the baseline deployed to its sensor opens drift:tap2:ruleset;
restarted with another --set value, drift:tap2:config; restarted with the
baseline's rules and the first configuration, both are resolved by
"system".

usage: test_change.py workflow|drift VIGIL_CONTROL VIGIL VIGIL_LINT"""
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctltest import (PCAP_HEADER, Client, Failed, Server, add_user, check, main, pcap_bytes,  # noqa: E402
                     pcap_record, rule, ruleset_text, step, udp_frame, wait_validated)

R_A = rule(5001, 'VCHG-A', 'change A')
R_B = rule(5002, 'VCHG-B', 'change B')
R_B_BROKEN = rule(5002, 'VCHG-X', 'change B')
R_Z = rule(5999, 'VCHG-A', 'not deployed')       # what vigil starts with
PAYLOADS = [b'..VCHG-A..', b'..VCHG-B..']


class Stream(threading.Thread):
    """Writes a pcap stream of PAYLOADS, in turn, into a FIFO, for
    whichever vigil has it open; a vigil that exits ends one stream and the
    next reader gets a fresh one."""

    def __init__(self, fifo):
        super().__init__(daemon=True)
        self.fifo, self.n, self.stop = fifo, 0, False
        self.connected = False     # a stream is open: the next reader must wait for its end

    def run(self):
        while not self.stop:
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:        # no reader yet
                time.sleep(0.02)
                continue
            os.set_blocking(fd, True)
            self.connected = True
            try:
                os.write(fd, PCAP_HEADER)
                while not self.stop:
                    buf = b''
                    for _ in range(10):
                        buf += pcap_record(udp_frame(self.n, PAYLOADS[self.n % 2]), time.time())
                        self.n += 1
                    os.write(fd, buf)
                    time.sleep(0.05)
            except BrokenPipeError:
                pass
            finally:
                os.close(fd)
                self.connected = False


class Sensor:
    """One vigil process reading the stream, shipping as `name`."""

    def __init__(self, t, name, token, rules_file, extra=()):
        # a new reader of the FIFO would get the rest of the last one's stream
        wait_for('the last pcap stream to end', lambda: not t.stream.connected, timeout=30, every=0.02)
        self.log = os.path.join(t.dir, 'log-%s-%d' % (name, len(os.listdir(t.dir))))
        os.mkdir(self.log)
        self.stderr = open(os.path.join(self.log, 'stderr'), 'w+')
        self.proc = subprocess.Popen(
            [t.vigil, '--no-progress', '-r', t.fifo, '-l', self.log, '-S', rules_file,
             '--set', 'control.url=' + t.srv.url, '--set', 'control.token=' + token,
             '--set', 'control.sensor=' + name, '--set', 'control.spool-dir=' + t.spool,
             '--set', 'control.heartbeat=1s', '--set', 'control.batch=50'] + list(extra),
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)

    def err(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        """SIGTERM: a clean end (exit 0)."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        check(self.proc.returncode == 0, 'vigil exited %d:\n%s\n%s' % (self.proc.returncode, out, self.err()))
        return out


def wait_for(what, fn, timeout=90, every=0.2, state=None):
    """Polls fn until it is true; state() says what was seen instead."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise Failed('timed out waiting for %s%s' % (what, '; seen: %r' % (state(),) if state else ''))
        time.sleep(every)


def fleet_row(viewer, sensor):
    return next((r for r in viewer.expect(200, 'GET', '/api/v1/fleet') if r['sensor'] == sensor), None)


def setup(argv, extra_cfg):
    exe, vigil, lint = argv
    t = type('T', (), {})()
    t.vigil = vigil
    cfg_dir = __import__('tempfile').mkdtemp(prefix='vigil-change-')
    t.dir = cfg_dir
    cfg = os.path.join(cfg_dir, 'cfg.json')
    with open(cfg, 'w') as f:
        json.dump(dict(vigil_path=vigil, vigil_lint_path=lint, **extra_cfg), f)
    srv_dir = os.path.join(cfg_dir, 'srv')
    os.mkdir(srv_dir)
    t.srv = Server(exe, ['--config', cfg], workdir=srv_dir)
    t.fifo = os.path.join(cfg_dir, 'fifo')
    os.mkfifo(t.fifo)
    t.spool = os.path.join(cfg_dir, 'spool')
    os.mkdir(t.spool)
    t.stream = Stream(t.fifo)
    t.stream.start()
    return t


def teardown(t):
    t.stream.stop = True
    if t.srv.alive():
        rc = t.srv.stop()
        check(rc == 0, 'vigil-control exited %s: %s' % (rc, t.srv.log[-2000:]))
    t.srv.cleanup()
    __import__('shutil').rmtree(t.dir, ignore_errors=True)


def newest_alert(viewer, sid):
    a = viewer.expect(200, 'GET', '/api/v1/alerts?sid=%d&limit=1' % sid)
    return a[0] if a else None


# --- workflow -----------------------------------------------------------------------

def workflow(argv):
    t = setup(argv, {})
    vg = None
    try:
        admin = Client(t.srv.url, t.srv.admin)
        author = Client(t.srv.url, add_user(admin, 'alice', 'rule_author'))
        approver = Client(t.srv.url, add_user(admin, 'bob', 'rule_approver'))
        mgr = Client(t.srv.url, add_user(admin, 'carol', 'incident_manager'))
        viewer = Client(t.srv.url, add_user(admin, 'dave', 'viewer'))
        sensor_tok = add_user(admin, 'tap1-sensor', 'sensor')
        cap = pcap_bytes(PAYLOADS)

        # the earlier approved version: deployed first, so there is something to roll back to
        v0 = author.expect(201, 'POST', '/api/v1/rulesets', {
            'content': ruleset_text('# v0', R_A), 'message': 'v0: A only',
            'cases': [{'name': 'a', 'pcap_b64': __import__('base64').b64encode(cap).decode(), 'must': [5001]}]})
        v0 = wait_validated(viewer, v0['id'])
        check(v0['status'] == 'validated', 'v0: %s' % v0['validation'])
        approver.expect(200, 'POST', '/api/v1/rulesets/%s/approve' % v0['id'][:8], {'comment': 'baseline'})
        mgr.expect(201, 'POST', '/api/v1/deployments', {'ruleset': v0['id'], 'sensors': ['tap1'], 'reason': 'v0'})

        # v1 adds B with the wrong content: its regression case fails
        v1 = author.expect(201, 'POST', '/api/v1/rulesets', {
            'content': ruleset_text('# v0', R_A, R_B_BROKEN), 'message': 'v1: add B', 'parent': v0['id'],
            'cases': [{'name': 'a-and-b', 'pcap_b64': __import__('base64').b64encode(cap).decode(),
                       'must': [5001, 5002]}]})
        v1 = wait_validated(viewer, v1['id'])
        reg = step(v1, 'regression')
        check(v1['status'] == 'validation_failed' and reg['cases'][0]['missing'] == [5002],
              'v1 should fail its case: %s' % v1['validation'])
        # the fix, as a child
        v2 = author.expect(201, 'POST', '/api/v1/rulesets/%s/edit' % v1['id'][:10], {
            'action': 'edit', 'sid': 5002, 'rule': R_B, 'message': 'v2: fix B'})
        check(v2['parent'] == v1['id'], 'v2 parent')
        v2 = wait_validated(viewer, v2['id'])
        check(v2['status'] == 'validated' and step(v2, 'regression')['ok'], 'v2: %s' % v2['validation'])
        # its author may not approve it; another user does
        author.expect(403, 'POST', '/api/v1/rulesets/%s/approve' % v2['id'], {})
        v2 = approver.expect(200, 'POST', '/api/v1/rulesets/%s/approve' % v2['id'], {'comment': 'ship it'})
        check(v2['status'] == 'approved', 'v2 not approved')
        mgr.expect(201, 'POST', '/api/v1/deployments', {'ruleset': v2['id'], 'sensors': ['tap1'],
                                                         'reason': 'add B'})

        # the dataplane starts with another ruleset and converges on v2
        init = os.path.join(t.dir, 'init.rules')
        with open(init, 'w') as f:
            f.write(ruleset_text(R_Z))
        vg = Sensor(t, 'tap1', sensor_tok, init)
        row = wait_for('tap1 to run v2', lambda: (lambda r: r if r and r['running'] == v2['engine_id']
                                                  else None)(fleet_row(viewer, 'tap1')),
                       state=lambda: (fleet_row(viewer, 'tap1'), vg.proc.poll(), vg.err()[-3000:]))
        check(row['desired'] == v2['id'] and row['desired_engine_id'] == v2['engine_id'] and
              row['running_version'] == v2['id'] and row['drift'] is False and row['config_hash'] and
              row['load']['error'] is None and row['load']['loaded'] == 2, 'fleet: %s' % row)
        err = vg.err()
        check(re.search(r'ruleset version %s .*fetching' % v2['id'][:16], err) and
              re.search(r'reload: ruleset %s in use' % v2['engine_id'], err), 'vigil\'s log:\n' + err[-3000:])
        fetched = re.findall(r'reload: loading (\S+)', err)
        # alerts after the reload carry v2's engine id (sid 5002 is only in v2)
        a = wait_for('an alert of sid 5002', lambda: newest_alert(viewer, 5002))
        check(a['ruleset'] == v2['engine_id'], 'sid 5002 alert ruleset %s' % a['ruleset'])
        t_reload = time.time()
        wait_for('a fresh sid 5001 alert of v2', lambda: (lambda x: x and x['ruleset'] == v2['engine_id'])(
            newest_alert(viewer, 5001)))
        check(not [i for i in viewer.expect(200, 'GET', '/api/v1/incidents') if i['kind'] == 'drift'],
              'a drift incident during a deployment within the grace period')

        # rollback: tap1 back to v0
        rb = mgr.expect(201, 'POST', '/api/v1/deployments/rollback', {'sensors': ['tap1'], 'reason': 'undo B'})
        check([(r['ruleset'], r['sensors'], r['kind']) for r in rb] == [(v0['id'], ['tap1'], 'rollback')],
              'rollback: %s' % rb)
        row = wait_for('tap1 to run v0 again', lambda: (lambda r: r if r and r['running'] == v0['engine_id']
                                                        else None)(fleet_row(viewer, 'tap1')))
        check(row['desired'] == v0['id'] and row['running_version'] == v0['id'] and row['drift'] is False,
              'fleet after the rollback: %s' % row)
        wait_for('a sid 5001 alert of v0', lambda: (lambda x: x and x['ruleset'] == v0['engine_id'])(
            newest_alert(viewer, 5001)))
        check(re.search(r'reload: ruleset %s in use' % v0['engine_id'], vg.err()), 'no reload to v0 logged')
        out = vg.stop()
        check('rules loaded' in out, 'vigil summary')
        check(time.time() - t_reload < 600, 'slow')

        # the audit log: every step with its user
        log = admin.expect(200, 'GET', '/api/v1/audit?limit=10000')
        steps = [(e['user'], e['action'], e['object'][8:20], e['detail']) for e in reversed(log)
                 if e['action'].startswith('ruleset.')]
        want = [
            ('alice', 'ruleset.submit', v0['id'][:12]), ('system', 'ruleset.validate', v0['id'][:12]),
            ('bob', 'ruleset.approve', v0['id'][:12]), ('carol', 'ruleset.deploy', v0['id'][:12]),
            ('alice', 'ruleset.submit', v1['id'][:12]), ('system', 'ruleset.validate', v1['id'][:12]),
            ('alice', 'ruleset.submit', v2['id'][:12]), ('system', 'ruleset.validate', v2['id'][:12]),
            ('bob', 'ruleset.approve', v2['id'][:12]), ('carol', 'ruleset.deploy', v2['id'][:12]),
            ('carol', 'ruleset.rollback', v0['id'][:12]),
        ]
        check([s[:3] for s in steps] == want, 'audit steps:\n%s' % '\n'.join(map(str, steps)))
        details = {(s[1], s[2]): s[3] for s in steps}
        check(details[('ruleset.validate', v1['id'][:12])] == 'failed: regression' and
              details[('ruleset.validate', v2['id'][:12])] == 'passed' and
              'tap1' in details[('ruleset.deploy', v2['id'][:12])] and
              'undo B' in details[('ruleset.rollback', v0['id'][:12])], 'audit details: %s' % details)
        check(all(re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', e['ts']) for e in log), 'audit times')
        # last, as it is the dataplane's part: the fetched version was kept
        # as SPOOL-DIR/rules/VERSION-ID.rules
        want = os.path.join(t.spool, 'rules', v2['id'] + '.rules')
        check(fetched and fetched[0] == want and os.path.exists(want),
              'vigil stored the fetched version as %s, not %s' % (fetched, want))
    finally:
        if vg and vg.proc.poll() is None:
            vg.proc.kill()
            vg.proc.wait()
        # a vigil that lost its rules directory wrote VERSION-ID.rules elsewhere
        # (e.g. "/"): our own files, named by their SHA-256, are removed
        for p in re.findall(r'reload: loading (\S+)', vg.err()) if vg else []:
            if re.fullmatch(r'.*/[0-9a-f]{64}\.rules', p) and not p.startswith(t.dir) and os.path.isfile(p):
                os.unlink(p)
        teardown(t)


# --- drift --------------------------------------------------------------------------

def drift(argv):
    t = setup(argv, {'drift_grace_s': 0})
    try:
        admin = Client(t.srv.url, t.srv.admin)
        viewer = Client(t.srv.url, add_user(admin, 'dave', 'viewer'))
        sensor_tok = add_user(admin, 'tap2-sensor', 'sensor')
        base_text = ruleset_text('# baseline', R_A, R_B)
        b = admin.expect(201, 'POST', '/api/v1/rulesets', {'content': base_text, 'message': 'baseline'})
        b = wait_validated(viewer, b['id'])
        admin.expect(200, 'POST', '/api/v1/rulesets/%s/approve' % b['id'], {'override': True, 'reason': 'test'})
        admin.expect(201, 'POST', '/api/v1/deployments', {'ruleset': b['id'], 'sensors': ['tap2']})
        other = os.path.join(t.dir, 'other.rules')
        with open(other, 'w') as f:
            f.write(ruleset_text(R_Z))
        base = os.path.join(t.dir, 'base.rules')
        with open(base, 'w') as f:
            f.write(base_text)

        def open_drift(key):
            return [i for i in viewer.expect(200, 'GET', '/api/v1/incidents?status=open') if i['key'] == key]

        # 1: an unapproved ruleset, and it will not fetch
        vg = Sensor(t, 'tap2', sensor_tok, other, ['--set', 'control.rules=no'])
        inc = wait_for('drift:tap2:ruleset', lambda: open_drift('drift:tap2:ruleset'))[0]
        row = fleet_row(viewer, 'tap2')
        check(inc['kind'] == 'drift' and inc['severity'] == 2 and b['engine_id'] in inc['title'] and
              row['running'] in inc['title'] and row['running'] != b['engine_id'], 'incident: %s' % inc)
        check(row['drift'] is True and row['desired'] == b['id'] and row['running_version'] is None,
              'fleet: %s' % row)
        check(not open_drift('drift:tap2:config'), 'config drift without a change')
        time.sleep(2.5)                              # more heartbeats: joined, not opened again
        check(len([i for i in viewer.expect(200, 'GET', '/api/v1/incidents') if i['kind'] == 'drift']) == 1,
              'a second drift incident')
        first_hash = fleet_row(viewer, 'tap2')['config_hash']
        vg.stop()
        # 2: the same rules, another configuration value
        vg = Sensor(t, 'tap2', sensor_tok, other, ['--set', 'control.rules=no',
                                                   '--set', 'detect.alert-payload-max=512'])
        cinc = wait_for('drift:tap2:config', lambda: open_drift('drift:tap2:config'),
                        state=lambda: (fleet_row(viewer, 'tap2'), first_hash, vg.err()[-1500:]))[0]
        now_hash = fleet_row(viewer, 'tap2')['config_hash']
        check(now_hash != first_hash and now_hash in cinc['title'] and first_hash in cinc['title'] and
              cinc['severity'] == 2, 'config incident: %s' % cinc)
        check(open_drift('drift:tap2:ruleset')[0]['id'] == inc['id'], 'the ruleset drift was not joined')
        vg.stop()
        # 3: the baseline's rules and the first configuration: both resolved by system
        vg = Sensor(t, 'tap2', sensor_tok, base, ['--set', 'control.rules=no'])
        wait_for('the drift to be resolved', lambda: not open_drift('drift:tap2:ruleset') and
                 not open_drift('drift:tap2:config'))
        for i in (inc, cinc):
            d = viewer.expect(200, 'GET', '/api/v1/incidents/%d' % i['id'])
            last = d['timeline'][-1]
            check(d['status'] == 'resolved' and last['user'] == 'system' and 'resolved' in last['detail'],
                  'resolution of %s: %s' % (i['key'], d['timeline']))
        row = fleet_row(viewer, 'tap2')
        check(row['drift'] is False and row['running'] == b['engine_id'] and row['running_version'] == b['id'],
              'fleet at the end: %s' % row)
        vg.stop()
    finally:
        teardown(t)


if __name__ == '__main__':
    main(lambda argv: {'workflow': workflow, 'drift': drift}[argv[0]](argv[1:]))
