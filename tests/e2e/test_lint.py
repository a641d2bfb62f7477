#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vigil-lint: errors with file:line:col, lint warnings, exit status.

usage: test_lint.py VIGIL_LINT"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import check, main, tmpdir

RULES = r'''# a comment
alert tcp any any -> any 80 (msg:"ok"; content:"GET /admin"; flowbits:set,seen.admin; sid:1; rev:1;)
alert tcp any any -> any 80 (msg:"dup"; content:"GET /x"; sid:1; rev:1;)
alert tcp any any -> any any (msg:"unknown kw"; content:"abc"; foo:bar; sid:2;)
alert udp any any -> any 53 (msg:"never"; content:"AAAAAAAAAA"; dsize:<5; sid:3;)
alert ip any any -> any any (msg:"every packet"; sid:4;)
alert tcp any any -> any 80 (msg:"pcre only"; pcre:"/a+b/"; sid:5;)
alert tcp any any -> any 80 (msg:"short"; content:"ab"; sid:6;)
alert tcp any any -> any 80 (msg:"isset"; flowbits:isset,never.set; content:"zzzz"; sid:7;)
alert tcp any any -> any 80 (msg:"isset ok"; flowbits:isset,seen.admin; content:"yyyy"; sid:9;)
alert tcp any any -> any 80 (msg:"bad quote; content:"x"; sid:8;)
'''


def body(argv):
    lint = argv[0]
    d = tmpdir()
    path = os.path.join(d, 'lint.rules')
    with open(path, 'w') as f:
        f.write(RULES)
    p = subprocess.run([lint, path], capture_output=True, text=True, timeout=60)
    out = p.stdout
    check(p.returncode == 1, 'exit %d with errors (expected 1)\n%s' % (p.returncode, out))
    for want in ('%s:3:63: error: duplicate sid 1' % path,
                 "%s:4:64: error: unknown keyword 'foo'" % path,
                 '%s:11:44: error:' % path,
                 '%s:5:1: warning: sid 3: never matches' % path,
                 '%s:6:1: warning: sid 4: performance' % path,
                 '%s:7:1: warning: sid 5: performance: pcre without a content' % path,
                 '%s:8:1: warning: sid 6: performance: short fast pattern, 2 byte' % path,
                 "%s:9:1: warning: sid 7: never matches: flowbit 'never.set'" % path,
                 '3 error(s), 5 warning(s)'):
        check(want in out, 'missing %r in:\n%s' % (want, out))
    check('seen.admin' not in out, 'a flowbit that is set was reported')
    check('loaded  7' in out, 'load report missing or wrong:\n' + out)
    # a clean file exits 0; --strict turns warnings into failure
    clean = os.path.join(d, 'clean.rules')
    with open(clean, 'w') as f:
        f.write('alert tcp any any -> any 80 (msg:"ok"; content:"GET /admin"; sid:1;)\n'
                'alert tcp any any -> any 80 (msg:"short"; content:"ab"; sid:2;)\n')
    p = subprocess.run([lint, clean], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, 'clean file: exit %d\n%s' % (p.returncode, p.stdout))
    p = subprocess.run([lint, '--strict', clean], capture_output=True, text=True, timeout=60)
    check(p.returncode == 1, '--strict with a warning: exit %d' % p.returncode)
    p = subprocess.run([lint, os.path.join(d, 'missing.rules')], capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and 'missing.rules' in p.stderr, 'unreadable file: exit %d %s' % (p.returncode, p.stderr))


main(body)
