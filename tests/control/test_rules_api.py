#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Rule change management through vigil-control's HTTP API (real HTTP on
loopback, a temporary SQLite file, the real vigil and vigil-lint doing the
validation): every new endpoint with a token of every role (403 for each
denial, 401 without a token), malformed bodies (400 naming the field),
oversized captures and bodies (413), ambiguous prefixes (409), idempotent
submits, the four one-rule edits (the child's text, parent, cases and
diff), validation results (a rule that does not load fails the compile
step with file:line:col; lint; a regression case that fails and one that
passes; performance skipped without a reference capture and run with
one), approval (not by the author; admin override recorded), rejection,
deployments and rollbacks, the heartbeat answer and the sensor's fetch,
the fleet view with drift, drift incidents, re-validation, a shutdown
during a validation (the tool killed, the version validated after the
restart), a tool that times out, the audit log, /metrics, and vigilctl's
rules commands.

usage: test_rules_api.py VIGIL_CONTROL VIGIL VIGIL_LINT VIGILCTL"""
import base64
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctltest import (Client, Server, add_user, check, http, main, pcap_bytes, rule,  # noqa: E402
                     ruleset_text, step, wait_validated)

ROLES = ['sensor', 'viewer', 'rule_author', 'rule_approver', 'responder', 'incident_manager', 'admin']
VIEW = set(ROLES) - {'sensor'}
AUTHOR = {'rule_author', 'admin'}
APPROVE = {'rule_approver', 'admin'}
MANAGE = {'incident_manager', 'admin'}

R1 = rule(1001, 'AAA1', 'one')
R2 = rule(1002, 'BBB2', 'two')
R3 = rule(1003, 'CCC3', 'three')
BAD = 'alert udp any any -> any 9999 (msg:"bad"; content:"DDD4"; bogus_kw:1; sid:1004; rev:1;)'
GOOD = ruleset_text('# base rules', R1, R2, R3)
HITS = pcap_bytes([b'xxAAA1yy', b'zzCCC3'])          # sids 1001 and 1003 fire, 1002 does not


def b64(data):
    return base64.b64encode(data).decode()


def case(name, must=(), must_not=(), data=HITS):
    return {'name': name, 'pcap_b64': b64(data), 'must': list(must), 'must_not': list(must_not)}


def config(d, **kw):
    path = os.path.join(d, 'cfg-%d.json' % len(os.listdir(d)))
    with open(path, 'w') as f:
        json.dump(kw, f)
    return path


class Ctx:
    pass


# --- submit, validation ---------------------------------------------------------

def submit_and_validate(t):
    author = t.c['rule_author']
    v = author.expect(201, 'POST', '/api/v1/rulesets', {
        'content': GOOD, 'message': 'first version', 'cases': [case('hits', [1001, 1003], [1002])]})
    check(v['id'] == hashlib.sha256(GOOD.encode()).hexdigest(), 'the id is not the SHA-256 of the text')
    check(v['status'] == 'validating' and v['parent'] is None and v['author'] == 'author' and
          v['message'] == 'first version' and v['engine_id'] is None and v['validation'] is None and
          v['approvals'] == [] and v['size'] == len(GOOD) and 'content' not in v, 'submit answer: %s' % v)
    check(v['cases'] == [{'name': 'hits', 'must': [1001, 1003], 'must_not': [1002], 'pcap_bytes': len(HITS)}],
          'cases: %s' % v['cases'])
    v = wait_validated(author, v['id'])
    check(v['status'] == 'validated' and v['validation']['ok'] is True, 'validation: %s' % v['validation'])
    check([s['name'] for s in v['validation']['steps']] == ['compile', 'lint', 'regression', 'performance'],
          'steps: %s' % v['validation']['steps'])
    comp = step(v, 'compile')
    check(comp['ok'] and comp['loaded'] == 3 and comp['skipped'] == 0 and comp['detail'] == '3 loaded, 0 skipped',
          'compile: %s' % comp)
    check(re.fullmatch(r'[0-9a-f]{16}', v['engine_id'] or '') and comp['engine_id'] == v['engine_id'] and
          v['rules'] == 3 and v['skipped'] == 0, 'engine id: %s' % v)
    check(step(v, 'lint')['ok'], 'lint: %s' % step(v, 'lint'))
    reg = step(v, 'regression')
    check(reg['ok'] and reg['detail'] == '1 cases, 0 failed' and
          reg['cases'] == [{'name': 'hits', 'ok': True, 'alerts': 2, 'missing': [], 'unexpected': []}],
          'regression: %s' % reg)
    perf = step(v, 'performance')
    check(perf['ok'] and perf.get('skipped') is True and perf['detail'] == 'no reference capture',
          'performance without a reference capture: %s' % perf)
    # the engine id is the one vigil itself reports for the text
    path = os.path.join(t.dir, 'good.rules')
    with open(path, 'w') as f:
        f.write(GOOD)
    p = subprocess.run([t.vigil, '-T', '-S', path, '--rules-report', path + '.json'], capture_output=True,
                       timeout=120)
    check(p.returncode == 0, 'vigil -T: %s' % p.stderr)
    with open(path + '.json') as f:
        check(json.load(f)['ruleset'] == v['engine_id'], 'engine id differs from vigil\'s')
    # the same text again: the same version, 200, nothing new
    n = len(t.c['viewer'].expect(200, 'GET', '/api/v1/rulesets'))
    again = author.expect(200, 'POST', '/api/v1/rulesets', {'content': GOOD, 'message': 'again', 'cases': []})
    check(again['id'] == v['id'] and again['message'] == 'first version' and len(again['cases']) == 1,
          'resubmit: %s' % again)
    check(len(t.c['viewer'].expect(200, 'GET', '/api/v1/rulesets')) == n, 'a resubmit added a version')
    t.good = v
    return v


def bad_rule(t):
    """A rule that does not load fails validation, with file:line:col."""
    author = t.c['rule_author']
    text = ruleset_text('# with a broken rule', R1, BAD, R3)
    v = author.expect(201, 'POST', '/api/v1/rulesets', {'content': text, 'message': 'broken',
                                                      'parent': t.good['id'][:10]})
    check(v['parent'] == t.good['id'], 'parent by prefix: %s' % v['parent'])
    check(v['cases'] == t.good['cases'], 'the parent\'s cases are not inherited: %s' % v['cases'])
    v = wait_validated(author, v['id'])
    check(v['status'] == 'validation_failed' and v['validation']['ok'] is False, 'status %s' % v['status'])
    comp = step(v, 'compile')
    check(not comp['ok'] and comp['loaded'] == 2 and comp['skipped'] == 1, 'compile: %s' % comp)
    check(len(comp['diagnostics']) == 1 and re.fullmatch(r'ruleset\.rules:3:\d+', comp['diagnostics'][0]['where'])
          and comp['diagnostics'][0]['reason'] == 'unknown keyword', 'diagnostics: %s' % comp['diagnostics'])
    check('2 loaded, 1 skipped' in comp['detail'] and 'ruleset.rules:3:' in comp['detail'] and
          'bogus_kw' in comp['detail'], 'compile detail: %s' % comp['detail'])
    lint = step(v, 'lint')
    check(not lint['ok'] and any(m.startswith('ruleset.rules:3:') and 'error' in m for m in lint['messages']),
          'lint: %s' % lint)
    check('1 error(s)' in lint['detail'], 'lint detail: %s' % lint['detail'])
    # the rules that load still ran the inherited case
    check(step(v, 'regression')['ok'], 'regression: %s' % step(v, 'regression'))
    check(v['engine_id'] and v['rules'] == 2 and v['skipped'] == 1, 'counts: %s' % v)
    t.broken = v


def regression(t):
    """A case whose must sid does not fire fails; fixed, it passes."""
    author = t.c['rule_author']
    weak = ruleset_text(R1, rule(1003, 'ZZZ9', 'three, broken'))
    v = author.expect(201, 'POST', '/api/v1/rulesets', {
        'content': weak, 'message': 'weak',
        'cases': [case('needs-1003', [1001, 1003]), case('quiet', must_not=[1001])]})
    v = wait_validated(author, v['id'])
    reg = step(v, 'regression')
    check(v['status'] == 'validation_failed' and not reg['ok'], 'regression should fail: %s' % reg)
    check(reg['cases'] == [{'name': 'needs-1003', 'ok': False, 'alerts': 1, 'missing': [1003], 'unexpected': []},
                           {'name': 'quiet', 'ok': False, 'alerts': 1, 'missing': [], 'unexpected': [1001]}],
          'cases: %s' % reg['cases'])
    check(reg['detail'].startswith('2 cases, 2 failed: needs-1003 (missing [1003]'), 'detail: %s' % reg['detail'])
    check(step(v, 'compile')['ok'] and step(v, 'lint')['ok'], 'only the regression fails')
    # the fix, as an edit of the broken rule: a child that passes
    fix = author.expect(201, 'POST', '/api/v1/rulesets/%s/edit' % v['id'][:12], {
        'action': 'edit', 'sid': 1003, 'rule': R3, 'message': 'fix 1003'})
    check(fix['parent'] == v['id'] and fix['cases'] == v['cases'], 'edit child: %s' % fix)
    fix = wait_validated(author, fix['id'])
    reg = step(fix, 'regression')
    check(not reg['ok'] and [c['ok'] for c in reg['cases']] == [True, False], 'fixed: %s' % reg)


def edits(t):
    """Each edit action: the child's text, parent, message, diff."""
    author, viewer = t.c['rule_author'], t.c['viewer']
    gid = t.good['id']

    def edit(body, status=201, base=gid):
        return author.expect(status, 'POST', '/api/v1/rulesets/%s/edit' % base, body)

    def text(v):
        return viewer.call('GET', '/api/v1/rulesets/%s/content' % v['id'])[2]

    d = edit({'action': 'disable', 'sid': 1002, 'message': 'quiet 1002'})
    check(text(d) == GOOD.replace(R2, '# ' + R2) and d['parent'] == gid and d['message'] == 'quiet 1002' and
          d['author'] == 'author' and d['cases'] == t.good['cases'], 'disable: %s' % d)
    diff = viewer.expect(200, 'GET', '/api/v1/rulesets/%s/diff' % d['id'][:8])
    check(diff['from'] == gid and diff['to'] == d['id'] and diff['removed'] == [1002] and diff['added'] == [] and
          diff['changed'] == [] and diff['too_large'] is False, 'disable diff: %s' % diff)
    want = ''.join(difflib.unified_diff(GOOD.splitlines(True), text(d).splitlines(True), gid, d['id']))
    check(diff['diff'] == want, 'diff differs from difflib:\n%s\n%s' % (diff['diff'], want))
    # enabling it again is the original text: the original version, 200
    e = edit({'action': 'enable', 'sid': 1002, 'message': 'loud again'}, 200, d['id'])
    check(e['id'] == gid, 'enable gave %s' % e['id'])
    new1 = rule(1001, 'AAA1', 'one, reworded')
    x = edit({'action': 'edit', 'sid': 1001, 'rule': new1, 'message': 'reword'})
    check(text(x) == GOOD.replace(R1, new1), 'edit text')
    diff = viewer.expect(200, 'GET', '/api/v1/rulesets/%s/diff' % x['id'])
    check(diff['changed'] == [1001] and diff['added'] == diff['removed'] == [] and
          '-' + R1 + '\n+' + new1 + '\n' in diff['diff'], 'edit diff: %s' % diff)
    a = edit({'action': 'add', 'sid': 2000, 'rule': rule(2000, 'EEE5'), 'message': 'new rule'})
    check(text(a) == GOOD + rule(2000, 'EEE5') + '\n', 'add text')
    diff = viewer.expect(200, 'GET', '/api/v1/rulesets/%s/diff?against=%s' % (a['id'], d['id']))
    check(diff['from'] == d['id'] and diff['added'] == [1002, 2000], 'diff against: %s' % diff)
    t.edited = a
    # a version without a parent diffs against the empty text
    diff = viewer.expect(200, 'GET', '/api/v1/rulesets/%s/diff' % gid)
    check(diff['from'] is None and diff['diff'].startswith('--- /dev/null\n+++ %s\n@@ -0,0 +1,4 @@\n' % gid) and
          diff['added'] == [1001, 1002, 1003], 'diff of a root: %s' % diff)
    # refusals: status and message
    for body, status, msg in [
            ({'action': 'enable', 'sid': 1001, 'message': 'm'}, 409, 'enabled already'),
            ({'action': 'disable', 'sid': 4242, 'message': 'm'}, 404, 'no such rule'),
            ({'action': 'add', 'sid': 1001, 'rule': R1, 'message': 'm'}, 409, 'exists already'),
            ({'action': 'edit', 'sid': 1001, 'rule': R2, 'message': 'm'}, 400, 'rule: must be a rule'),
            ({'action': 'edit', 'sid': 1001, 'message': 'm'}, 400, 'rule: missing'),
            ({'action': 'add', 'sid': 7, 'rule': R1 + '\n' + R2, 'message': 'm'}, 400, 'rule: must be one line'),
            ({'action': 'remove', 'sid': 1001, 'message': 'm'}, 400, 'action: must be one of enable, disable'),
            ({'action': 'disable', 'sid': 0, 'message': 'm'}, 400, 'sid: must be between 1 and 4294967295'),
            ({'action': 'disable', 'sid': 1001}, 400, 'message: missing')]:
        st, _, ans = author.call('POST', '/api/v1/rulesets/%s/edit' % gid, body)
        check(st == status and msg in ans.get('error', ''), 'edit %s: %d %s' % (body, st, ans))
    author.expect(404, 'POST', '/api/v1/rulesets/%s/edit' % ('0' * 64),
                  {'action': 'disable', 'sid': 1001, 'message': 'm'})


def malformed(t):
    """400 naming the field, 413 past the bounds, 404/409 for ids."""
    author = t.c['rule_author']
    good_case = case('c')
    for body, msg in [
            ({'message': 'm'}, 'content: missing'),
            ({'content': 5, 'message': 'm'}, 'content: expected a string'),
            ({'content': '', 'message': 'm'}, 'content: must not be empty'),
            ({'content': 'x'}, 'message: missing'),
            ({'content': 'x', 'message': 'm' * 4097}, 'message: longer than 4096 bytes'),
            ({'content': 'x', 'message': 'm', 'parent': 'xyz'}, 'parent: expected a version id'),
            ({'content': 'x', 'message': 'm', 'parent': 'abc'}, 'parent: expected a version id'),
            ({'content': 'x', 'message': 'm', 'cases': {}}, 'cases: expected an array'),
            ({'content': 'x', 'message': 'm', 'cases': [5]}, 'cases[0]: expected an object'),
            ({'content': 'x', 'message': 'm', 'cases': [{'pcap_b64': good_case['pcap_b64']}]}, 'cases[0].name: missing'),
            ({'content': 'x', 'message': 'm', 'cases': [{'name': 'c'}]}, 'cases[0].pcap_b64: missing'),
            ({'content': 'x', 'message': 'm', 'cases': [dict(good_case, pcap_b64='!!!')]}, 'cases[0].pcap_b64: not base64'),
            ({'content': 'x', 'message': 'm', 'cases': [dict(good_case, pcap_b64=b64(b'hello world'))]},
             'cases[0].pcap_b64: not a pcap or pcapng capture'),
            ({'content': 'x', 'message': 'm', 'cases': [dict(good_case, must=['1'])]}, 'cases[0].must[0]: expected a sid'),
            ({'content': 'x', 'message': 'm', 'cases': [dict(good_case, must_not=5)]}, 'cases[0].must_not: expected an array'),
            ({'content': 'x', 'message': 'm', 'cases': [good_case, good_case]}, 'cases[1].name: duplicate "c"'),
            ({'content': 'x', 'message': 'm', 'cases': [good_case] * 65}, 'cases: expected an array of at most 64')]:
        st, _, ans = author.call('POST', '/api/v1/rulesets', body)
        check(st == 400 and msg in ans.get('error', ''), 'submit %s: %d %s (expected "%s")' %
              (str(body)[:80], st, ans, msg))
    for raw, msg in [(b'', 'body: empty'), (b'{"content": ', 'body: malformed JSON'), (b'[]', 'body: expected a JSON object')]:
        st, _, ans = author.call('POST', '/api/v1/rulesets', raw=raw)
        check(st == 400 and msg in ans['error'], 'submit %r: %d %s' % (raw, st, ans))
    st, _, ans = author.call('POST', '/api/v1/rulesets', {'content': 'x', 'message': 'm', 'parent': 'deadbeef00'})
    check(st == 404 and 'parent' in ans['error'], 'unknown parent: %d %s' % (st, ans))
    st, _, ans = author.call('GET', '/api/v1/rulesets?since=1')
    check(st == 400 and 'since: unknown parameter' in ans['error'], 'unknown parameter: %s' % ans)
    author.expect(400, 'GET', '/api/v1/rulesets?limit=0')
    check(len(author.expect(200, 'GET', '/api/v1/rulesets?limit=1')) == 1, 'limit')
    for path, status in [('/api/v1/rulesets/xyz', 400), ('/api/v1/rulesets/1234567', 400),
                         ('/api/v1/rulesets/%s' % ('f' * 64), 404), ('/api/v1/rulesets/%s/content' % ('f' * 12), 404),
                         ('/api/v1/rulesets/%s/diff?against=nothex' % t.good['id'], 400)]:
        st, _, ans = author.call('GET', path)
        check(st == status, 'GET %s: %d %s (expected %d)' % (path, st, ans, status))
    # decision and deployment bodies
    a, ap = t.c['admin'], t.c['rule_approver']
    vid = t.good['id']
    for c, path, body, msg in [
            (ap, '/approve', {'comment': 5}, 'comment: expected a string'),
            (a, '/approve', {'override': True}, 'reason: missing (required with override)'),
            (a, '/approve', {'override': 'yes', 'reason': 'r'}, 'override: expected true or false'),
            (ap, '/reject', {}, 'comment: missing'),
            (ap, '/reject', {'comment': 'x' * 1025}, 'comment: longer than 1024 bytes')]:
        st, _, ans = c.call('POST', '/api/v1/rulesets/%s%s' % (vid, path), body)
        check(st == 400 and msg in ans.get('error', ''), '%s %s: %d %s' % (path, body, st, ans))
    m = t.c['incident_manager']
    for path, body, msg in [
            ('/api/v1/deployments', {}, 'ruleset: missing'),
            ('/api/v1/deployments', {'ruleset': 'zz'}, 'ruleset: expected a version id'),
            ('/api/v1/deployments', {'ruleset': vid, 'sensors': []}, 'sensors: expected an array of 1 to 1024'),
            ('/api/v1/deployments', {'ruleset': vid, 'sensors': ['bad name']}, 'sensors[0]: expected a sensor name'),
            ('/api/v1/deployments', {'ruleset': vid, 'sensors': ['a', 'a']}, 'sensors[1]: duplicate "a"'),
            ('/api/v1/deployments', {'ruleset': vid, 'override': True}, 'reason: missing'),
            ('/api/v1/deployments/rollback', {'sensors': 5}, 'sensors: expected an array'),
            ('/api/v1/deployments/rollback', {'reason': 7}, 'reason: expected a string')]:
        st, _, ans = m.call('POST', path, body)
        check(st == 400 and msg in ans.get('error', ''), '%s %s: %d %s' % (path, body, st, ans))


def oversized(t):
    """413: a capture over 16 MiB, captures over 64 MiB in all; nothing stored."""
    author = t.c['rule_author']
    n = len(author.expect(200, 'GET', '/api/v1/rulesets?limit=10000'))
    big = pcap_bytes([b'x']) + b'\0' * (16 << 20)
    st, _, ans = author.call('POST', '/api/v1/rulesets', {'content': 'big1', 'message': 'm',
                                                        'cases': [case('big', data=big)]})
    check(st == 413 and 'cases[0].pcap_b64: larger than 16 MiB' in ans['error'], 'one big capture: %d %s' % (st, ans))
    part = pcap_bytes([b'x']) + b'\0' * (13 << 20)
    st, _, ans = author.call('POST', '/api/v1/rulesets', {
        'content': 'big2', 'message': 'm', 'cases': [case('p%d' % i, data=part) for i in range(5)]})
    check(st == 413 and 'cases: more than 64 MiB of captures' in ans['error'], 'captures in all: %d %s' % (st, ans))
    check(len(author.expect(200, 'GET', '/api/v1/rulesets?limit=10000')) == n, 'an oversized submit was stored')


def body_limit(t):
    """max_ruleset_body is the submit's limit; the other bodies keep theirs."""
    d = os.path.join(t.dir, 'small')
    os.mkdir(d)
    srv = Server(t.exe, ['--config', config(t.dir, max_ruleset_body='64k', vigil_path=t.vigil,
                                            vigil_lint_path=t.lint)], workdir=d)
    try:
        admin = Client(srv.url, srv.admin)
        st, _, ans = admin.call('POST', '/api/v1/rulesets', {'content': 'x' * 70000, 'message': 'm'})
        check(st == 413 and 'larger than 65536 bytes' in ans['error'], 'max_ruleset_body: %d %s' % (st, ans))
        v = admin.expect(201, 'POST', '/api/v1/rulesets', {'content': 'x' * 60000, 'message': 'm'})
        # an edit has the ordinary limit (1 MiB), and its own bound on a rule
        st, _, ans = admin.call('POST', '/api/v1/rulesets/%s/edit' % v['id'], {
            'action': 'add', 'sid': 5, 'rule': rule(5, 'x' * 70000), 'message': 'm'})
        check(st == 400 and 'rule: longer than 65536 bytes' in ans['error'], 'edit body: %d %s' % (st, ans))
        wait_validated(admin, v['id'])
    finally:
        check(srv.stop() == 0, 'unclean shutdown of the small server')


def ambiguous(t):
    """Two versions sharing their first 8 digits: that prefix is a 409."""
    seen = {}
    i = 0
    while True:
        text = '# %d\n' % i
        p = hashlib.sha256(text.encode()).hexdigest()[:8]
        if p in seen:
            break
        seen[p] = text
        i += 1
    author = t.c['rule_author']
    a = author.expect(201, 'POST', '/api/v1/rulesets', {'content': seen[p], 'message': 'twin a'})
    b = author.expect(201, 'POST', '/api/v1/rulesets', {'content': text, 'message': 'twin b'})
    check(a['id'][:8] == b['id'][:8] == p, 'no twins')
    st, _, ans = t.c['viewer'].call('GET', '/api/v1/rulesets/' + p)
    check(st == 409 and 'ambiguous' in ans['error'], 'ambiguous prefix: %d %s' % (st, ans))
    st, _, ans = t.c['viewer'].call('GET', '/api/v1/rulesets/%s/diff?against=%s' % (a['id'], p))
    check(st == 409 and 'against' in ans['error'], 'ambiguous against: %d %s' % (st, ans))
    k = next(k for k in range(9, 65) if a['id'][:k] != b['id'][:k])
    check(t.c['viewer'].expect(200, 'GET', '/api/v1/rulesets/' + a['id'][:k].upper())['id'] == a['id'],
          'a longer (upper case) prefix is unique')
    for v in (a, b):
        wait_validated(author, v['id'])


# --- approval, deployment, fleet ------------------------------------------------

def approvals(t):
    author, ap, admin = t.c['rule_author'], t.c['rule_approver'], t.c['admin']
    gid = t.good['id']
    # validation is done: re-run it (202), then approve
    v = author.expect(202, 'POST', '/api/v1/rulesets/%s/validate' % gid[:8])
    check(v['status'] == 'validating', 're-validate: %s' % v['status'])
    author.expect(409, 'POST', '/api/v1/rulesets/%s/validate' % gid)   # queued already
    v = wait_validated(author, gid)
    check(v['status'] == 'validated', 're-validated: %s' % v['status'])
    # the author's own version: not by its author, even an admin
    mine = admin.expect(201, 'POST', '/api/v1/rulesets', {'content': GOOD + '# admin\n', 'message': 'admin\'s'})
    mine = wait_validated(admin, mine['id'])
    check('its author may not approve it' in admin.expect(403, 'POST', '/api/v1/rulesets/%s/approve' % mine['id'],
                                                          {})['error'], 'admin approved their own')
    v = ap.expect(200, 'POST', '/api/v1/rulesets/%s/approve' % gid, {'comment': 'looks right'})
    check(v['status'] == 'approved' and [(a['user'], a['decision'], a['comment']) for a in v['approvals']] ==
          [('approver', 'approve', 'looks right')] and v['approvals'][0]['ts'], 'approve: %s' % v)
    ap.expect(409, 'POST', '/api/v1/rulesets/%s/approve' % gid, {})
    author.expect(409, 'POST', '/api/v1/rulesets/%s/validate' % gid)   # approved: not again
    # a failed version: not approvable, but an admin may override with a reason
    bid = t.broken['id']
    check('validated' in ap.expect(409, 'POST', '/api/v1/rulesets/%s/approve' % bid, {})['error'], '409 text')
    ap.expect(403, 'POST', '/api/v1/rulesets/%s/approve' % bid, {'override': True, 'reason': 'r'})
    v = admin.expect(200, 'POST', '/api/v1/rulesets/%s/approve' % bid, {'override': True, 'reason': 'hotfix'})
    check(v['status'] == 'approved' and v['approvals'][-1]['decision'] == 'override' and
          v['approvals'][-1]['comment'] == 'hotfix', 'override: %s' % v['approvals'])
    # reject: a comment, once
    eid = wait_validated(author, t.edited['id'])['id']
    v = ap.expect(200, 'POST', '/api/v1/rulesets/%s/reject' % eid, {'comment': 'not now'})
    check(v['status'] == 'rejected' and v['approvals'][-1]['decision'] == 'reject', 'reject: %s' % v)
    ap.expect(409, 'POST', '/api/v1/rulesets/%s/reject' % eid, {'comment': 'again'})
    ap.expect(409, 'POST', '/api/v1/rulesets/%s/approve' % eid, {})
    ap.expect(409, 'POST', '/api/v1/rulesets/%s/reject' % gid, {'comment': 'too late'})
    t.mine = mine


def deployments(t):
    mgr, admin, sensor, viewer = t.c['incident_manager'], t.c['admin'], t.c['sensor'], t.c['viewer']
    gid, bid, mid = t.good['id'], t.broken['id'], t.mine['id']
    st, _, ans = mgr.call('POST', '/api/v1/deployments', {'ruleset': gid})
    check(st == 409 and 'no sensor is known' in ans['error'], 'deploy with no sensor: %d %s' % (st, ans))
    # validated but not approved: 409; an admin may override (recorded), a manager not
    check('not approved' in mgr.expect(409, 'POST', '/api/v1/deployments', {'ruleset': mid, 'sensors': ['s1']})['error'],
          'unapproved deployed')
    mgr.expect(403, 'POST', '/api/v1/deployments', {'ruleset': mid, 'sensors': ['s1'], 'override': True, 'reason': 'r'})
    d = admin.expect(201, 'POST', '/api/v1/deployments', {'ruleset': mid[:9], 'sensors': ['s1'], 'override': True,
                                                          'reason': 'emergency'})
    check(d['ruleset'] == mid and d['sensors'] == ['s1'] and d['kind'] == 'deploy' and d['by'] == 'admin' and
          d['reason'] == 'emergency' and d['fleet'] is False and d['id'] >= 1 and d['ts'], 'deployment: %s' % d)
    d1 = mgr.expect(201, 'POST', '/api/v1/deployments', {'ruleset': gid, 'sensors': ['s1'], 'reason': 'go'})
    # the sensor's heartbeat is answered with what it should run
    hb = {'sensor': 's1', 'version': '0.1.0', 'ruleset': 'ffffffffffffffff', 'counters': {},
          'config_hash': '00112233aabbccdd', 'load': {'loaded': 7, 'skipped': 1, 'error': None}}
    ans = sensor.expect(200, 'POST', '/api/v1/heartbeat', hb)
    check(ans == {'ok': True, 'ruleset': {'id': gid, 'engine_id': t.good['engine_id'],
                                          'url': '/api/v1/rulesets/%s/content' % gid}, 'blocklist': []},
          'heartbeat answer: %s' % ans)
    st, hdrs, text = sensor.call('GET', ans['ruleset']['url'])
    check(st == 200 and text == GOOD and hdrs['Content-Type'].startswith('text/plain'), 'sensor fetch: %d' % st)
    # running something else: drift (grace 0), an incident
    fleet = viewer.expect(200, 'GET', '/api/v1/fleet')
    check(fleet == [{'sensor': 's1', 'desired': gid, 'desired_engine_id': t.good['engine_id'],
                     'running': 'ffffffffffffffff', 'running_version': None, 'config_hash': '00112233aabbccdd',
                     'load': {'loaded': 7, 'skipped': 1, 'error': None}, 'drift': True,
                     'last_seen': fleet[0]['last_seen']}] and fleet[0]['last_seen'], 'fleet: %s' % fleet)
    inc = [i for i in viewer.expect(200, 'GET', '/api/v1/incidents') if i['kind'] == 'drift']
    check(len(inc) == 1 and inc[0]['key'] == 'drift:s1:ruleset' and inc[0]['severity'] == 2 and
          'ffffffffffffffff' in inc[0]['title'] and t.good['engine_id'] in inc[0]['title'] and
          inc[0]['status'] == 'open', 'drift incident: %s' % inc)
    # it runs its baseline now: no ruleset in the answer, no drift, resolved by system
    hb['ruleset'] = t.good['engine_id']
    ans = sensor.expect(200, 'POST', '/api/v1/heartbeat', hb)
    check(ans == {'ok': True, 'blocklist': []}, 'answer when up to date: %s' % ans)
    row = viewer.expect(200, 'GET', '/api/v1/fleet')[0]
    check(row['drift'] is False and row['running_version'] == gid, 'fleet after: %s' % row)
    detail = viewer.expect(200, 'GET', '/api/v1/incidents/%d' % inc[0]['id'])
    check(detail['status'] == 'resolved' and detail['timeline'][-1]['user'] == 'system', 'resolved: %s' % detail)
    # the config changes behind its back: drift:s1:config; back: resolved
    hb['config_hash'] = '99999999aaaaaaaa'
    sensor.expect(200, 'POST', '/api/v1/heartbeat', hb)
    cfg = [i for i in viewer.expect(200, 'GET', '/api/v1/incidents?status=open') if i['key'] == 'drift:s1:config']
    check(len(cfg) == 1 and '99999999aaaaaaaa' in cfg[0]['title'] and '00112233aabbccdd' in cfg[0]['title'],
          'config drift: %s' % cfg)
    check(viewer.expect(200, 'GET', '/api/v1/fleet')[0]['drift'] is True, 'config drift not in the fleet view')
    hb['config_hash'] = '00112233aabbccdd'
    sensor.expect(200, 'POST', '/api/v1/heartbeat', hb)
    check(not [i for i in viewer.expect(200, 'GET', '/api/v1/incidents?status=open') if i['kind'] == 'drift'],
          'drift incidents still open')
    # the fleet: a deployment without sensors reaches every known one
    d2 = mgr.expect(201, 'POST', '/api/v1/deployments', {'ruleset': bid, 'reason': 'fleet'})
    check(d2['sensors'] == ['s1'] and d2['fleet'] is True, 'fleet deployment: %s' % d2)
    # a new sensor gets the fleet's version, and runs nothing yet: drift
    ans = sensor.expect(200, 'POST', '/api/v1/heartbeat', {'sensor': 's2', 'ruleset': ''})
    check(ans['ruleset']['id'] == bid, 'new sensor answer: %s' % ans)
    check([i['key'] for i in viewer.expect(200, 'GET', '/api/v1/incidents?status=open')
           if i['kind'] == 'drift'] == ['drift:s2:ruleset'], 'drift of a new sensor')
    # on tick too, without a heartbeat: s1 still reports gid's engine, its baseline is bid's now
    check(admin.expect(200, 'POST', '/api/v1/tick')['drift'] == 2, 'tick: drift of s1 and s2')
    check(sorted(i['key'] for i in viewer.expect(200, 'GET', '/api/v1/incidents?status=open')
                 if i['kind'] == 'drift') == ['drift:s1:ruleset', 'drift:s2:ruleset'], 'drift on tick')
    # rollback: s1 goes back to gid, the fleet to nothing (s2 never deployed: skipped)
    rb = mgr.expect(201, 'POST', '/api/v1/deployments/rollback', {'reason': 'bad idea'})
    check(len(rb) == 1 and rb[0]['kind'] == 'rollback' and rb[0]['ruleset'] == gid and rb[0]['sensors'] == ['s1'] and
          rb[0]['reason'] == 'bad idea', 'rollback: %s' % rb)
    check(viewer.expect(200, 'GET', '/api/v1/fleet')[0]['desired'] == gid, 'desired after rollback')
    # s1 runs its baseline again: resolved on the next tick; s2 still drifts
    check(admin.expect(200, 'POST', '/api/v1/tick')['drift'] == 1, 'tick after the rollback')
    check([i['key'] for i in viewer.expect(200, 'GET', '/api/v1/incidents?status=open')
           if i['kind'] == 'drift'] == ['drift:s2:ruleset'], 'drift after the rollback')
    # again: s1 goes back to mid (the override deployment), then nothing is left
    rb = mgr.expect(201, 'POST', '/api/v1/deployments/rollback', {'sensors': ['s1']})
    check([(r['ruleset'], r['sensors']) for r in rb] == [(mid, ['s1'])], 'second rollback: %s' % rb)
    st, _, ans = mgr.call('POST', '/api/v1/deployments/rollback', {'sensors': ['s1']})
    check(st == 409 and 's1 has no earlier deployment' in ans['error'], 'third rollback: %d %s' % (st, ans))
    deps = viewer.expect(200, 'GET', '/api/v1/deployments')
    check([x['kind'] for x in deps] == ['rollback', 'rollback', 'deploy', 'deploy', 'deploy'] and
          deps[-1]['id'] == d['id'] and deps[-2]['id'] == d1['id'], 'deployments: %s' % deps)
    check(len(viewer.expect(200, 'GET', '/api/v1/deployments?limit=2')) == 2, 'deployments limit')


def role_matrix(t):
    """Every new endpoint with every role: the allowed ones pass the role
    check (any status but 401/403), the others 403; no token 401."""
    gid = t.good['id']
    endpoints = [
        ('POST', '/api/v1/rulesets', {'content': GOOD, 'message': 'm'}, AUTHOR),
        ('POST', '/api/v1/rulesets/%s/edit' % gid, {'action': 'disable', 'sid': 1002, 'message': 'm'}, AUTHOR),
        ('GET', '/api/v1/rulesets', None, VIEW),
        ('GET', '/api/v1/rulesets/%s' % gid, None, VIEW),
        ('GET', '/api/v1/rulesets/%s/content' % gid, None, set(ROLES)),
        ('GET', '/api/v1/rulesets/%s/diff' % gid, None, VIEW),
        ('POST', '/api/v1/rulesets/%s/validate' % gid, None, AUTHOR),
        ('POST', '/api/v1/rulesets/%s/approve' % gid, {}, APPROVE),
        ('POST', '/api/v1/rulesets/%s/reject' % gid, {'comment': 'c'}, APPROVE),
        ('POST', '/api/v1/deployments', {'ruleset': gid, 'sensors': ['s9']}, MANAGE),
        ('POST', '/api/v1/deployments/rollback', {'sensors': ['s9']}, MANAGE),
        ('GET', '/api/v1/deployments', None, VIEW),
        ('GET', '/api/v1/fleet', None, VIEW),
    ]
    for method, path, body, allowed in endpoints:
        for who in ROLES + [None]:
            st, hdrs, ans = http(t.url, method, path, body, t.tok.get(who))
            if who is None:
                check(st == 401 and hdrs.get('WWW-Authenticate') == 'Bearer', '%s %s without a token: %d' %
                      (method, path, st))
            elif who in allowed:
                check(st not in (401, 403), '%s %s as %s: %d %s' % (method, path, who, st, ans))
            else:
                check(st == 403 and 'error' in ans, '%s %s as %s: %d (expected 403)' % (method, path, who, st))
    # the sensor may read a version's content only
    sensor = t.c['sensor']
    check(sensor.call('GET', '/api/v1/rulesets/%s/content' % gid)[2] == GOOD, 'sensor content')
    st, _, _ = http(t.url, 'PUT', '/api/v1/rulesets', {}, t.tok['admin'])
    check(st == 405, 'PUT rulesets: %d' % st)


def metrics_and_audit(t):
    st, _, text = http(t.url, 'GET', '/metrics')
    check(st == 200, '/metrics')
    m = dict(re.findall(r'^(vigil_control_\S+) (\d+)$', text, re.M))
    check(int(m.get('vigil_control_validations_total{result="passed"}', 0)) >= 3 and
          int(m.get('vigil_control_validations_total{result="failed"}', 0)) >= 3, 'validations metric: %s' % m)
    check(int(m.get('vigil_control_deployments_total', 0)) >= 6, 'deployments metric')
    check(int(m.get('vigil_control_incidents_opened_total{kind="drift"}', 0)) == 4, 'drift metric: %s' %
          m.get('vigil_control_incidents_opened_total{kind="drift"}'))
    log = t.c['admin'].expect(200, 'GET', '/api/v1/audit?limit=10000')
    have = {(e['user'], e['action']) for e in log}
    for want in [('author', 'ruleset.submit'), ('system', 'ruleset.validate'), ('author', 'ruleset.validate'),
                 ('approver', 'ruleset.approve'), ('approver', 'ruleset.reject'), ('admin', 'ruleset.override'),
                 ('mgr', 'ruleset.deploy'), ('admin', 'ruleset.deploy'), ('mgr', 'ruleset.rollback')]:
        check(want in have, 'audit lacks %s' % (want,))
    gid = t.good['id']
    mine = [(e['user'], e['action'], e['detail']) for e in reversed(log) if e['object'] == 'ruleset:' + gid]
    check(mine[0] == ('author', 'ruleset.submit', 'first version') and
          ('system', 'ruleset.validate', 'passed') in mine and
          ('approver', 'ruleset.approve', 'looks right') in mine, 'audit of a version: %s' % mine)
    bad = [e['detail'] for e in log if e['object'] == 'ruleset:' + t.broken['id'] and e['action'] == 'ruleset.validate']
    check(bad == ['failed: compile, lint'], 'failed validation audit: %s' % bad)
    check(any(e['action'] == 'ruleset.override' and 'emergency' in e['detail'] for e in log), 'override reason')


# --- the worker: shutdown, restart, timeouts, performance -----------------------

def fake_tool(d, name, seconds):
    path = os.path.join(d, name)
    with open(path, 'w') as f:
        f.write('#!/bin/sh\nsleep %d\n' % seconds)
    os.chmod(path, 0o755)
    return path


def worker_lifecycle(t):
    """A shutdown kills a running tool; the next start validates again. A
    tool past validate_timeout_s is killed and the step fails."""
    d = os.path.join(t.dir, 'worker')
    os.mkdir(d)
    slow = fake_tool(t.dir, 'slow-vigil', 60)
    srv = Server(t.exe, ['--config', config(t.dir, vigil_path=slow, vigil_lint_path=t.lint)], workdir=d)
    admin = Client(srv.url, srv.admin)
    v = admin.expect(201, 'POST', '/api/v1/rulesets', {'content': GOOD, 'message': 'slow'})
    w = admin.expect(201, 'POST', '/api/v1/rulesets', {'content': GOOD + '# w\n', 'message': 'queued'})
    time.sleep(0.5)
    check(admin.expect(200, 'GET', '/api/v1/rulesets/' + v['id'])['status'] == 'validating', 'not validating')
    # approved past validation while queued: still no engine id, not deployable
    admin.expect(200, 'POST', '/api/v1/rulesets/%s/approve' % w['id'], {'override': True, 'reason': 'r'})
    st, _, ans = admin.call('POST', '/api/v1/deployments', {'ruleset': w['id'], 'sensors': ['x']})
    check(st == 409 and 'no engine id' in ans['error'], 'deploy without engine id: %d %s' % (st, ans))
    check([p for p in os.listdir(d + '/control.db.work') if p.startswith('job-')], 'no scratch directory')
    t0 = time.time()
    check(srv.stop() == 0, 'unclean shutdown during a validation: %s' % srv.log[-800:])
    check(time.time() - t0 < 10, 'the shutdown waited for the tool (%.1f s)' % (time.time() - t0))
    # the next start, with the real vigil: both are validated, w keeps its approval
    srv = Server(t.exe, ['--config', config(t.dir, vigil_path=t.vigil, vigil_lint_path=t.lint)], workdir=d,
                 admin=srv.admin)
    try:
        c = Client(srv.url, srv.admin)
        v = wait_validated(c, v['id'])
        check(v['status'] == 'validated', 'after the restart: %s' % v['validation'])
        deadline = time.time() + 120
        while c.expect(200, 'GET', '/api/v1/rulesets/' + w['id'])['validation'] is None and time.time() < deadline:
            time.sleep(0.1)
        w = c.expect(200, 'GET', '/api/v1/rulesets/' + w['id'])
        check(w['status'] == 'approved' and w['validation']['ok'] and w['engine_id'], 'w after the restart: %s' % w)
        c.expect(201, 'POST', '/api/v1/deployments', {'ruleset': w['id'], 'sensors': ['x']})
        check(not [p for p in os.listdir(d + '/control.db.work') if p.startswith('job-')],
              'scratch directories left behind')
    finally:
        check(srv.stop() == 0, 'unclean shutdown after the restart')
    # a timeout
    srv = Server(t.exe, ['--config', config(t.dir, vigil_path=slow, vigil_lint_path=t.lint,
                                            validate_timeout_s=1)], workdir=d, admin=srv.admin)
    try:
        c = Client(srv.url, srv.admin)
        v = c.expect(201, 'POST', '/api/v1/rulesets', {'content': GOOD + '# t\n', 'message': 'times out'})
        v = wait_validated(c, v['id'], timeout=60)
        comp = step(v, 'compile')
        check(v['status'] == 'validation_failed' and not comp['ok'] and 'timed out' in comp['detail'],
              'timeout: %s' % comp)
        check(step(v, 'regression')['detail'].startswith('not run'), 'regression after a timeout')
    finally:
        check(srv.stop() == 0, 'unclean shutdown after a timeout')


def performance(t):
    """With a reference capture and a deployed baseline, the step runs."""
    d = os.path.join(t.dir, 'perf')
    os.mkdir(d)
    ref = os.path.join(t.dir, 'ref.pcap')
    with open(ref, 'wb') as f:
        f.write(pcap_bytes([b'AAA1 CCC3 %d' % i for i in range(2000)]))
    srv = Server(t.exe, ['--config', config(t.dir, vigil_path=t.vigil, vigil_lint_path=t.lint, reference_pcap=ref,
                                            perf_threshold=1000)], workdir=d)
    try:
        admin = Client(srv.url, srv.admin)
        add = add_user(admin, 'author', 'rule_author')
        a = Client(srv.url, add)
        v1 = wait_validated(a, a.expect(201, 'POST', '/api/v1/rulesets', {'content': GOOD, 'message': 'm'})['id'])
        check(step(v1, 'performance')['detail'] == 'no baseline', 'no baseline: %s' % step(v1, 'performance'))
        admin.expect(201, 'POST', '/api/v1/deployments', {'ruleset': v1['id'], 'sensors': ['x'], 'override': True,
                                                          'reason': 'baseline'})
        v2 = a.expect(201, 'POST', '/api/v1/rulesets/%s/edit' % v1['id'], {'action': 'disable', 'sid': 1002,
                                                                           'message': 'faster'})
        perf = step(wait_validated(a, v2['id']), 'performance')
        check(perf['ok'] and 'skipped' not in perf and perf['seconds'] >= 0 and perf['baseline_seconds'] >= 0 and
              perf['ratio'] > 0 and 'threshold 1000.00' in perf['detail'], 'performance: %s' % perf)
    finally:
        check(srv.stop() == 0, 'unclean shutdown of the performance server')


# --- vigilctl ---------------------------------------------------------------------

def vigilctl(t):
    ctl = t.vigilctl
    env = dict(os.environ, VIGIL_URL=t.url)

    def run(*args, rc=0, token='rule_author'):
        e = dict(env, VIGIL_TOKEN=t.tok[token])
        p = subprocess.run([ctl] + list(args), capture_output=True, text=True, env=e, timeout=120)
        check(p.returncode == rc, 'vigilctl %s: exit %d (expected %d)\n%s%s' % (' '.join(args), p.returncode, rc,
                                                                                   p.stdout, p.stderr))
        return p.stdout, p.stderr

    rules = os.path.join(t.dir, 'ctl.rules')
    pcap = os.path.join(t.dir, 'ctl.pcap')
    text = ruleset_text('# from vigilctl', R1, R3)
    with open(rules, 'w') as f:
        f.write(text)
    with open(pcap, 'wb') as f:
        f.write(HITS)
    out, _ = run('rules', 'submit', rules, '-m', 'via ctl', '--case', 'hits', pcap, '--must', '1001,1003',
                 '--must-not', '1002', '--case', 'none', pcap)
    vid = hashlib.sha256(text.encode()).hexdigest()
    check(out.splitlines()[0].split()[:3] == ['ID', 'STATUS', 'AUTHOR'] and vid[:12] in out and
          vid[:13] not in out, 'submit table:\n' + out)
    v = wait_validated(t.c['viewer'], vid)
    check(v['cases'] == [{'name': 'hits', 'must': [1001, 1003], 'must_not': [1002], 'pcap_bytes': len(HITS)},
                         {'name': 'none', 'must': [], 'must_not': [], 'pcap_bytes': len(HITS)}] and
          v['status'] == 'validated', 'submitted by vigilctl: %s' % v)
    out, _ = run('--json', 'rules', 'show', vid[:10])
    check(json.loads(out)['content'] == text, 'show --json')
    out, _ = run('rules', 'show', vid[:10])
    check(re.search(r'^id +%s$' % vid, out, re.M) and 'Validation: passed' in out and 'regression' in out and
          'Cases:' in out, 'show:\n' + out)
    out, _ = run('rules', 'edit', vid[:10], 'disable', '1003', '-m', 'off')
    cid = hashlib.sha256(text.replace(R3, '# ' + R3).encode()).hexdigest()
    check(cid[:12] in out and vid[:12] in out, 'edit table:\n' + out)
    out, _ = run('rules', 'diff', cid[:10])
    check('-' + R3 + '\n+# ' + R3 + '\n' in out and 'removed [1003]' in out, 'diff:\n' + out)
    out, _ = run('rules', 'diff', vid[:10], '--against', cid[:10])
    check('added [1003]' in out, 'diff --against:\n' + out)
    run('rules', 'edit', vid[:10], 'add', '3000', '--rule', rule(3000, 'XYZ'), '-m', 'new')
    run('rules', 'edit', vid[:10], 'enable', '1001', '-m', 'x', rc=1)
    run('rules', 'edit', vid[:10], 'disable', 'x', '-m', 'x', rc=2)
    out, _ = run('rules', 'list')
    check(vid[:12] in out and cid[:12] in out and 'MESSAGE' in out, 'list:\n' + out)
    wait_validated(t.c['viewer'], cid)
    out, _ = run('rules', 'validate', vid[:10])
    check('queued for validation' in out, 'validate: ' + out)
    wait_validated(t.c['viewer'], vid)
    run('rules', 'approve', vid[:10], '-m', 'ok', rc=1)                 # an author may not
    run('rules', 'approve', vid[:10], '-m', 'ok', token='rule_approver')
    run('rules', 'reject', cid[:10], token='rule_approver', rc=2)       # a comment is required
    run('rules', 'reject', cid[:10], '-m', 'no', token='rule_approver')
    out, _ = run('rules', 'deploy', vid[:10], '--sensor', 'ctl1', '--reason', 'try', token='incident_manager')
    check('deploy' in out and 'ctl1' in out and vid[:12] in out, 'deploy:\n' + out)
    run('rules', 'deploy', cid[:10], '--sensor', 'ctl1', token='incident_manager', rc=1)   # rejected
    run('rules', 'deploy', t.good['id'][:10], '--sensor', 'ctl1', token='incident_manager')
    out, _ = run('rules', 'rollback', '--sensor', 'ctl1', '--reason', 'undo', token='incident_manager')
    check('rollback' in out and vid[:12] in out, 'rollback:\n' + out)
    out, _ = run('rules', 'status', token='viewer')
    lines = out.splitlines()
    check(lines[0].split()[:2] == ['SENSOR', 'DESIRED'] and any(ln.startswith('ctl1 ') and vid[:12] in ln
                                                                 for ln in lines), 'status:\n' + out)
    out, _ = run('--json', 'rules', 'status', token='viewer')
    check(any(r['sensor'] == 'ctl1' and r['desired'] == vid for r in json.loads(out)), 'status --json')
    run('rules', 'frobnicate', rc=2)
    run('rules', 'submit', rules, rc=2)                                   # no -m
    run('rules', 'submit', '/nonexistent', '-m', 'x', rc=2)


def body(argv):
    exe, vigil, lint, vigilctl_exe = argv
    t = Ctx()
    t.exe, t.vigil, t.lint, t.vigilctl = exe, vigil, lint, vigilctl_exe
    t.dir = tempfile.mkdtemp(prefix='vigil-rules-')
    main_dir = os.path.join(t.dir, 'main')
    os.mkdir(main_dir)
    # drift is evaluated on heartbeats only (no timer): the counts below are exact
    srv = Server(exe, ['--config', config(t.dir, vigil_path=vigil, vigil_lint_path=lint, drift_grace_s=0,
                                          tick_interval_s=0)], workdir=main_dir)
    try:
        t.url = srv.url
        admin = Client(srv.url, srv.admin)
        t.tok = {'admin': srv.admin}
        for role, name in [('sensor', 'sensor'), ('viewer', 'viewer'), ('rule_author', 'author'),
                           ('rule_approver', 'approver'), ('responder', 'resp'), ('incident_manager', 'mgr')]:
            t.tok[role] = add_user(admin, name, role)
        t.c = {role: Client(srv.url, tok) for role, tok in t.tok.items()}
        submit_and_validate(t)
        bad_rule(t)
        regression(t)
        edits(t)
        malformed(t)
        oversized(t)
        ambiguous(t)
        approvals(t)
        deployments(t)
        role_matrix(t)
        vigilctl(t)
        metrics_and_audit(t)
        check(srv.alive() and http(srv.url, 'GET', '/healthz')[0] == 200, 'the server is not up at the end')
        rc = srv.stop()
        check(rc == 0, 'vigil-control exited %s on SIGTERM: %s' % (rc, srv.log[-2000:]))
        body_limit(t)
        worker_lifecycle(t)
        performance(t)
    finally:
        if srv.alive():
            srv.stop()
        shutil.rmtree(t.dir, ignore_errors=True)


if __name__ == '__main__':
    main(body)
