/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of detection (dataplane/detect/): rules parsed from text
 * (ruleset_load_buffer, strict, Suricata's default variables), compiled by
 * detect_engine_create and run by detect_inspect on hand-built packets and
 * stream windows.  Each check names the sids that must alert, in order
 * ("" for none), and where it matters the DETECT_R_* outcome and counters.
 * threshold/detection_filter are in test_detect_thr.c.
 *
 * The default packet: TCP 192.168.1.10:40000 -> 10.0.0.5:80, ttl 64,
 * ACK|PSH, on an established flow, to the server, the first of its
 * direction (DETECT_F_IPONLY: the IP-only rules run).
 *
 * Checks marked "SURICATA:" pin down Suricata's semantics where vigil first
 * differed, and "BUG:" where vigil broke its own documented contract; each
 * failed when written and is kept as the regression test of its fix.
 *
 * Standalone: prints each failed check with its line; exit 0 iff all pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctr.h"
#include "detect.h"
#include "pkt.h"
#include "rule.h"

#include "check.h"

static struct ctr_block ctrs;
static struct rule_vars *vars;
static const struct detect_cfg CFG = {
	.port_groups = 8, .pcre_match_limit = 3500, .alerts_per_packet = 16, .cache_dir = NULL,
};

#define CHECK_STR(got, want) check_str(__LINE__, #got, got, want)

static void check_str(int line, const char *what, const char *got, const char *want)
{
	if (!strcmp(got, want))
		return;
	printf("FAIL %s:%d [%s]: %s\n    got:  \"%s\"\n    want: \"%s\"\n", __FILE__, line, cur_test,
	       what, got, want);
	failures++;
}

/* ------------------------------------------------------------ engines */

static struct ruleset *load(const char *rules, bool strict)
{
	struct rule_load_opts o = { .vars = vars, .strict = strict, .no_include = true };
	struct ruleset *rs = NULL;
	char err[512];

	if (ruleset_load_buffer(&rs, "test.rules", rules, strlen(rules), &o, err, sizeof(err))) {
		printf("FAIL [%s]: rules refused: %s\n", cur_test, err);
		failures++;
		return NULL;
	}
	return rs;
}

struct eng {
	struct detect_engine *de;
	struct detect_thread *dt;
	unsigned max;                /* alerts kept per inspection */
	unsigned n;                  /* of the last inspection: alerts, */
	struct detect_alert a[64];
	uint32_t result;             /* DETECT_R_* */
	char sids[256];              /* and their sids, "1,2" */
};

static bool eng_open(struct eng *e, const char *rules, const struct detect_cfg *cfg)
{
	struct ruleset *rs = load(rules, true);
	char err[512];

	memset(e, 0, sizeof(*e));
	e->max = cfg->alerts_per_packet;
	if (!rs)
		return false;
	if (detect_engine_create(&e->de, rs, cfg, err, sizeof(err))) {
		printf("FAIL [%s]: detect_engine_create: %s\n", cur_test, err);
		failures++;
		return false;
	}
	if (detect_thread_create(&e->dt, e->de, &ctrs)) {
		printf("FAIL [%s]: detect_thread_create\n", cur_test);
		failures++;
		detect_engine_destroy(e->de);
		e->de = NULL;
		return false;
	}
	return true;
}

static void eng_close(struct eng *e)
{
	detect_thread_destroy(e->dt);
	detect_engine_destroy(e->de);
	e->dt = NULL;
	e->de = NULL;
}

/* Inspect IN; the sids that alerted, in order. */
static const char *eng_run(struct eng *e, const struct detect_input *in)
{
	size_t k = 0;

	if (!e->dt)
		return "<no engine>";
	e->n = detect_inspect(e->dt, in, e->a, e->max, &e->result);
	e->sids[0] = 0;
	for (unsigned i = 0; i < e->n && k < sizeof(e->sids) - 12; i++)
		k += (size_t)snprintf(e->sids + k, sizeof(e->sids) - k, "%s%u", i ? "," : "",
				      detect_engine_rule(e->de, e->a[i].rule)->sid);
	return e->sids;
}

static uint32_t last_result;

/* Build RULES, inspect IN once, free: the sids (last_result: DETECT_R_*). */
static const char *run_cfg(const char *rules, const struct detect_input *in, const struct detect_cfg *cfg)
{
	static char out[256];
	struct eng e;

	if (!eng_open(&e, rules, cfg))
		return "<no engine>";
	snprintf(out, sizeof(out), "%s", eng_run(&e, in));
	last_result = e.result;
	eng_close(&e);
	return out;
}

static const char *run(const char *rules, const struct detect_input *in)
{
	return run_cfg(rules, in, &CFG);
}

/* ------------------------------------------------------------ packets */

#define HDR 40   /* bytes before the payload in data[] (not read by detection) */

/* A packet and its inspection input (pointing into it: do not copy). */
struct tp {
	struct pkt p;
	struct detect_input in;
	struct detect_flow df;
	uint8_t data[HDR + 256];
};

static const uint8_t CLI[4] = { 192, 168, 1, 10 }, SRV[4] = { 10, 0, 0, 5 };

/* PROTO 6/17: 192.168.1.10:40000 -> 10.0.0.5:80 (TCP: ACK|PSH); 1: echo
 * request; other: no transport header.  Flow established, to server, the
 * first packet of its direction. */
static void tp_make(struct tp *t, uint8_t proto, const void *pl, uint32_t len)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->data + HDR, pl, len);
	t->p.data = t->data;
	t->p.len = HDR + len;
	t->p.flags = PKT_F_IPV4 | (proto == 6 || proto == 17 || proto == 1 ? PKT_F_L4 : 0);
	t->p.ipver = 4;
	t->p.proto = proto;
	t->p.ttl = 64;
	memcpy(t->p.src, CLI, 4);
	memcpy(t->p.dst, SRV, 4);
	if (proto == 6 || proto == 17) {
		t->p.sport = 40000;
		t->p.dport = 80;
	}
	if (proto == 6)
		t->p.tcp_flags = RULE_TCP_ACK | RULE_TCP_PSH;
	if (proto == 1)
		t->p.icmp_type = 8;
	t->p.l4_off = 20;
	t->p.payload_off = HDR;
	t->p.payload_len = len;
	t->in = (struct detect_input){ &t->p, t->data + HDR, len, 0,
				       DETECT_F_FLOW | DETECT_F_ESTABLISHED | DETECT_F_IPONLY, &t->df };
}

#define TP(t, proto, lit) tp_make(t, proto, lit, sizeof(lit) - 1)

/* The same flow's other direction: 10.0.0.5:80 -> 192.168.1.10:40000. */
static void tp_reply(struct tp *t)
{
	uint8_t a[16];
	uint16_t port = t->p.sport;

	memcpy(a, t->p.src, 16);
	memcpy(t->p.src, t->p.dst, 16);
	memcpy(t->p.dst, a, 16);
	t->p.sport = t->p.dport;
	t->p.dport = port;
	t->in.flags |= DETECT_F_TOCLIENT;
}

/* A reassembled stream window of the default flow. */
static void tp_stream(struct tp *t, const char *buf, uint32_t new_from)
{
	tp_make(t, 6, buf, (uint32_t)strlen(buf));
	t->in.flags |= DETECT_F_STREAM;
	t->in.new_from = new_from;
}

#define TCP_RULE(opts) "alert tcp any any -> any any (" opts " sid:1;)"

/* Rule sid 1 on a TCP packet carrying the payload: alerts or not. */
static void pay_at(int line, const char *rule, const void *pl, uint32_t len, bool fires)
{
	struct tp t;
	char what[400];

	tp_make(&t, 6, pl, len);
	snprintf(what, sizeof(what), "%s on %u bytes", rule, len);
	check_str(line, what, run(rule, &t.in), fires ? "1" : "");
}

#define PAY(opts, lit, fires) pay_at(__LINE__, TCP_RULE(opts), lit, sizeof(lit) - 1, fires)

/* RULES on packet T: the sids alerting. */
#define EXPECT(rules, t, want) check_str(__LINE__, rules, run(rules, &(t)->in), want)

/* ------------------------------------------------------------ content */

static void test_content(void)
{
	cur_test = "content";
	PAY("content:\"abc\";", "xxabcxx", true);
	PAY("content:\"abc\";", "xxabxcx", false);
	PAY("content:\"abc\";", "xxABCxx", false);
	PAY("content:\"abc\"; nocase;", "xxAbCxx", true);
	PAY("content:\"aBc\"; nocase;", "xxabcxx", true);
	PAY("content:\"|41 42|\";", "zAB", true);
	PAY("content:\"a|42 43|d\";", "aBCd", true);
	PAY("content:\"a|42 43|d\";", "abcd", false);
	PAY("content:\"|00 ff|\";", "x\x00\xff" "y", true);
	PAY("content:\"|00 ff|\";", "x\x00\xfe" "y", false);

	/* negated: the rule holds when the bytes are absent */
	PAY("content:\"GET\"; content:!\"evil\";", "GET /good", true);
	PAY("content:\"GET\"; content:!\"evil\";", "GET /evil", false);
	PAY("content:!\"evil\";", "good", true);
	PAY("content:!\"evil\";", "evil", false);
	PAY("content:\"ab\"; content:!\"cd\"; distance:0; within:2;", "abcd", false);
	PAY("content:\"ab\"; content:!\"cd\"; distance:0; within:2;", "abxcd", true);

	/* offset, depth: depth counts from offset, the window is [offset, offset + depth) */
	PAY("content:\"abc\"; offset:3;", "abcabc", true);
	PAY("content:\"abc\"; offset:3;", "xabcxx", false);
	PAY("content:\"abc\"; depth:5;", "xxabc", true);
	PAY("content:\"abc\"; depth:5;", "xxxabc", false);
	PAY("content:\"abc\"; offset:2; depth:4;", "xxabcx", true);
	PAY("content:\"abc\"; offset:2; depth:4;", "xxxabc", true);
	PAY("content:\"abc\"; offset:2; depth:4;", "xxxxabc", false);
	PAY("content:\"abc\"; offset:2; depth:4;", "xabcxxx", false);

	/* distance: from the end of the previous match */
	PAY("content:\"ab\"; content:\"cd\"; distance:2;", "abxxcd", true);
	PAY("content:\"ab\"; content:\"cd\"; distance:2;", "abxcd", false);
	PAY("content:\"ab\"; content:\"cd\"; distance:0;", "abcd", true);
	PAY("content:\"ab\"; content:\"cd\"; distance:0;", "cdab", false);
	/* negative distance: the window starts before the previous end */
	PAY("content:\"xyz\"; content:\"yz\"; distance:-2; within:2;", "xyz", true);
	PAY("content:\"xyz\"; content:\"xy\"; distance:-2; within:2;", "xyz", false);
	PAY("content:\"xyz\"; content:\"xy\"; distance:-3; within:2;", "xyz", true);

	/* within: the match must end by prev_end + within */
	PAY("content:\"ab\"; content:\"cd\"; within:4;", "abxxcd", true);
	PAY("content:\"ab\"; content:\"cd\"; within:4;", "abxxxcd", false);
	/* distance + within: [prev_end + distance, prev_end + distance + within) = [4, 7) */
	PAY("content:\"ab\"; content:\"cd\"; distance:2; within:3;", "ab__cd", true);
	PAY("content:\"ab\"; content:\"cd\"; distance:2; within:3;", "ab___cd", true);
	PAY("content:\"ab\"; content:\"cd\"; distance:2; within:3;", "ab____cd", false);
	PAY("content:\"ab\"; content:\"cd\"; distance:2; within:3;", "ab_cd", false);

	/* backtracking: the first A has no B right after it, the second has */
	PAY("content:\"A\"; content:\"B\"; distance:0; within:1;", "AxAB", true);
	PAY("content:\"A\"; content:\"B\"; distance:0; within:1;", "AxAxB", false);
	PAY("content:\"ab\"; content:\"cd\"; distance:0; within:2; content:\"ef\"; distance:0; within:2;",
	    "abcdXabcdef", true);
	PAY("content:\"ab\"; content:\"cd\"; distance:0; within:2; content:\"ef\"; distance:0; within:2;",
	    "abcdXabcdXef", false);

	/* the fast pattern picks candidates; it does not change what matches */
	PAY("content:\"A\"; fast_pattern; content:\"BCDE\"; distance:0; within:4;", "xxABCDE", true);
	PAY("content:\"A\"; content:\"BCDE\"; distance:0; within:4;", "xxABCDE", true);
	PAY("content:\"A\"; fast_pattern; content:\"BCDE\"; distance:0; within:4;", "xxAxBCDE", false);
	PAY("content:\"A\"; content:\"BCDE\"; distance:0; within:4;", "xxAxBCDE", false);
	PAY("content:\"A\"; fast_pattern; content:\"BCDE\"; distance:0; within:4;", "BCDEA", false);
	PAY("content:\"A\"; content:\"BCDE\"; distance:0; within:4;", "BCDEA", false);
	PAY("content:\"abcdef\"; fast_pattern:2,2;", "xabcdefx", true);
	PAY("content:\"abcdef\"; fast_pattern:2,2;", "xxcdxx", false);
	PAY("content:\"abc\"; fast_pattern:only;", "xabcx", true);
	PAY("content:\"abc\"; nocase; fast_pattern;", "xABCx", true);
	/* rules sharing a fast pattern, with and without nocase */
	struct tp t;
	static const char shared[] =
		"alert tcp any any -> any any (content:\"abc\"; sid:1;)\n"
		"alert tcp any any -> any any (content:\"abc\"; nocase; sid:2;)\n"
		"alert tcp any any -> any any (content:\"abc\"; sid:3;)\n";
	TP(&t, 6, "xabcx");
	EXPECT(shared, &t, "1,2,3");
	TP(&t, 6, "xABcx");
	EXPECT(shared, &t, "2");
	/* SURICATA: a negated fast pattern does not gate the rule (Suricata puts such a
	 * rule with the non-prefilter ones: SIG_FLAG_MPM_NEG); vigil makes "evil" the
	 * MPM pattern, so the rule is only ever a candidate when it cannot match. */
	PAY("content:\"GET\"; content:!\"evil\"; fast_pattern;", "GET /good", true);
	PAY("content:\"GET\"; content:!\"evil\"; fast_pattern;", "GET /evil", false);
}

static void test_content_match_end(void)
{
	struct eng e;
	struct tp t;

	cur_test = "content_match_end";
	if (!eng_open(&e, TCP_RULE("content:\"abc\"; content:\"d\"; distance:1;"), &CFG))
		return;
	TP(&t, 6, "xxabcxdxx");
	CHECK_STR(eng_run(&e, &t.in), "1");
	CHECK_EQ(e.a[0].match_end, 7);
	CHECK_EQ(e.a[0].action, RULE_ACTION_ALERT);
	CHECK_EQ(e.result, 0);
	eng_close(&e);
}

/* --------------------------------------------------------------- pcre */

static void test_pcre(void)
{
	cur_test = "pcre";
	/* pcre alone: Hyperscan prefilters it */
	PAY("pcre:\"/a.c/\";", "xxabcxx", true);
	PAY("pcre:\"/a.c/\";", "xxacxx", false);
	PAY("pcre:\"/abc/\";", "xABCx", false);
	PAY("pcre:\"/abc/i\";", "xABCx", true);
	PAY("pcre:\"/a.c/\";", "a\nc", false);
	PAY("pcre:\"/a.c/s\";", "a\nc", true);
	PAY("pcre:\"/^GET/\";", "GET /", true);
	PAY("pcre:\"/^GET/\";", " GET /", false);
	PAY("pcre:\"/^b/m\";", "a\nb", true);
	PAY("pcre:\"/^b/\";", "a\nb", false);

	/* relative: from the end of the previous match; ^ anchors there */
	PAY("content:\"foo\"; pcre:\"/^bar/R\";", "foobar", true);
	PAY("content:\"foo\"; pcre:\"/^bar/R\";", "foo bar", false);
	PAY("content:\"foo\"; pcre:\"/^bar/R\";", "barfoo", false);
	PAY("content:\"foo\"; pcre:\"/^bar/R\";", "foobaz foobar", true);
	PAY("content:\"foo\"; pcre:\"/bar/R\";", "barfoo", false);
	PAY("content:\"foo\"; pcre:\"/bar/R\";", "foo--bar", true);
	PAY("pcre:\"/a+/\"; pcre:\"/^b/R\";", "xaab", true);
	PAY("pcre:\"/a+/\"; pcre:\"/^b/R\";", "xaacb", false);
	PAY("pcre:\"/x(a+)/\"; content:\"b\"; distance:0; within:1;", "xaab", true);

	/* negated */
	PAY("content:\"foo\"; pcre:!\"/bar/\";", "foo", true);
	PAY("content:\"foo\"; pcre:!\"/bar/\";", "foobar", false);
	PAY("pcre:!\"/bar/\";", "xyz", true);
	PAY("pcre:!\"/bar/\";", "xbarx", false);
	PAY("content:\"foo\"; pcre:!\"/^bar/R\";", "foobaz", true);
	PAY("content:\"foo\"; pcre:!\"/^bar/R\";", "foobar", false);

	/* Hyperscan cannot prefilter a subroutine call: the non-MPM fallback */
	PAY("pcre:\"/(ab)(?1)!/\";", "xabab!", true);
	PAY("pcre:\"/(ab)(?1)!/\";", "xab!", false);
	/* a backreference (Hyperscan prefilters it approximately) */
	PAY("pcre:\"/(a.)\\1/\";", "xaxax", true);
	PAY("pcre:\"/(a.)\\1/\";", "xaxay", false);

	/* SURICATA: a pcre followed by a relative keyword is retried at its next
	 * match when the rest fails (detect-engine-content-inspection.c,
	 * DETECT_PCRE_RELATIVE_NEXT); vigil tries the first match only. */
	PAY("pcre:\"/ab/\"; content:\"X\"; distance:0; within:1;", "ab-abX", true);
}

/* Which path a pcre-only rule takes shows in the engine's patterns. */
static void test_pcre_paths(void)
{
	struct detect_engine_stats st;
	struct eng e;

	cur_test = "pcre_paths";
	if (eng_open(&e, TCP_RULE("pcre:\"/a.c/\";"), &CFG)) {
		detect_engine_get_stats(e.de, &st);
		CHECK_EQ(st.mpm_rules, 0);
		CHECK_EQ(st.patterns, 1);     /* the prefilter */
		CHECK(st.databases >= 1);
		eng_close(&e);
	}
	if (eng_open(&e, TCP_RULE("pcre:\"/(ab)(?1)!/\";"), &CFG)) {
		detect_engine_get_stats(e.de, &st);
		CHECK_EQ(st.patterns, 0);     /* Hyperscan refused it: non-MPM */
		CHECK_EQ(st.databases, 0);
		eng_close(&e);
	}
	/* a negated or relative pcre is no prefilter either */
	if (eng_open(&e, TCP_RULE("pcre:!\"/abc/\";"), &CFG)) {
		detect_engine_get_stats(e.de, &st);
		CHECK_EQ(st.patterns, 0);
		eng_close(&e);
	}
}

static void test_pcre_limit(void)
{
	struct detect_cfg cfg = CFG;
	struct tp t;
	uint8_t pl[40];

	cur_test = "pcre_limit";
	cfg.pcre_match_limit = 1000;
	memset(pl, 'a', sizeof(pl));
	pl[sizeof(pl) - 1] = 'b';
	tp_make(&t, 6, pl, sizeof(pl));
	/* catastrophic backtracking: the limit ends it, counted as no match */
	uint64_t before = ctr_read(&ctrs, CTR_DETECT_PCRE_LIMIT);
	CHECK_STR(run_cfg(TCP_RULE("pcre:\"/(a|aa)+$/\"; content:\"aaaa\";"), &t.in, &cfg), "");
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_PCRE_LIMIT) - before, 1);
	/* SURICATA: a keyword that is not relative does not depend on where the
	 * content before it matched, so Suricata does not retry it at the
	 * content's later occurrences (DETECT_CONTENT_RELATIVE_NEXT); vigil
	 * re-runs the pcre at each of the 36 "aaaa" (up to its backtracking
	 * budget of 1024), each time up to the match limit. */
	before = ctr_read(&ctrs, CTR_DETECT_PCRE_LIMIT);
	CHECK_STR(run_cfg(TCP_RULE("content:\"aaaa\"; pcre:\"/(a|aa)+$/\";"), &t.in, &cfg), "");
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_PCRE_LIMIT) - before, 1);
	/* the same pattern on a short subject stays under it */
	TP(&t, 6, "aaaa");
	before = ctr_read(&ctrs, CTR_DETECT_PCRE_LIMIT);
	CHECK_STR(run_cfg(TCP_RULE("content:\"aaaa\"; pcre:\"/(a|aa)+$/\";"), &t.in, &cfg), "1");
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_PCRE_LIMIT) - before, 0);
}

/* ------------------------------------------- byte_test, byte_jump, isdataat */

static void test_byte_test(void)
{
	cur_test = "byte_test";
	PAY("byte_test:2,=,258,0;", "\x01\x02", true);
	PAY("byte_test:2,=,513,0;", "\x01\x02", false);
	PAY("byte_test:2,=,513,0,little;", "\x01\x02", true);
	PAY("byte_test:2,=,258,0,big;", "\x01\x02", true);
	PAY("byte_test:4,=,16909060,1;", "x\x01\x02\x03\x04", true);
	PAY("byte_test:4,=,67305985,1,little;", "x\x01\x02\x03\x04", true);
	/* every operator on 0x10 */
	PAY("byte_test:1,<,17,0;", "\x10", true);
	PAY("byte_test:1,<,16,0;", "\x10", false);
	PAY("byte_test:1,>,15,0;", "\x10", true);
	PAY("byte_test:1,>,16,0;", "\x10", false);
	PAY("byte_test:1,=,16,0;", "\x10", true);
	PAY("byte_test:1,=,17,0;", "\x10", false);
	PAY("byte_test:1,<=,16,0;", "\x10", true);
	PAY("byte_test:1,<=,15,0;", "\x10", false);
	PAY("byte_test:1,>=,16,0;", "\x10", true);
	PAY("byte_test:1,>=,17,0;", "\x10", false);
	PAY("byte_test:1,&,0x30,0;", "\x10", true);
	PAY("byte_test:1,&,0x20,0;", "\x10", false);
	PAY("byte_test:1,^,0x10,0;", "\x10", false);
	PAY("byte_test:1,^,0x11,0;", "\x10", true);
	/* negation */
	PAY("byte_test:1,!=,16,0;", "\x10", false);
	PAY("byte_test:1,!=,17,0;", "\x10", true);
	PAY("byte_test:1,!<,16,0;", "\x10", true);
	PAY("byte_test:1,!>,15,0;", "\x10", false);
	PAY("byte_test:1,!&,0x20,0;", "\x10", true);
	/* strings */
	PAY("byte_test:3,=,123,0,string,dec;", "123x", true);
	PAY("byte_test:3,=,124,0,string,dec;", "123x", false);
	PAY("byte_test:3,>,122,0,string,dec;", "123x", true);
	PAY("byte_test:2,=,255,0,string,hex;", "ffx", true);
	PAY("byte_test:2,=,0x1f,1,string,hex;", "x1F", true);
	PAY("byte_test:2,=,8,0,string,oct;", "10", true);
	PAY("byte_test:3,=,0,0,string,dec;", "abc", false);   /* no digits */
	/* relative: from the end of the previous match (negative offsets reach back) */
	PAY("content:\"ab\"; byte_test:1,=,65,1,relative;", "abXA", true);
	PAY("content:\"ab\"; byte_test:1,=,65,1,relative;", "abAX", false);
	PAY("content:\"ab\"; byte_test:1,=,65,-3,relative;", "Aab", true);
	PAY("content:\"ab\"; byte_test:1,=,65,0,relative;", "abXabA", true);   /* backtracks */
	/* bitmask: masked, then shifted right by the mask's trailing zeros */
	PAY("byte_test:2,=,0x0a,0,bitmask 0x0ff0;", "\x00\xa0", true);
	PAY("byte_test:2,=,0xa0,0,bitmask 0x0ff0;", "\x00\xa0", false);
	PAY("byte_test:1,=,1,0,bitmask 0x80;", "\x80", true);
	/* beyond the buffer */
	PAY("byte_test:4,>,0,0;", "\x01\x02\x03", false);
	PAY("content:\"ab\"; byte_test:2,>,0,0,relative;", "xab\x01", false);
}

/* byte_jump, then a one-byte content that must sit exactly where it landed */
#define AT(what) "content:\"" what "\"; distance:0; within:1;"

static void test_byte_jump(void)
{
	cur_test = "byte_jump";
	/* from the end of the bytes read */
	PAY("byte_jump:1,0; " AT("X"), "\x03" "abcXYZ", true);
	PAY("byte_jump:1,0; " AT("X"), "\x02" "abcXYZ", false);
	PAY("byte_jump:2,0; " AT("X"), "\x00\x03" "abcX", true);
	PAY("byte_jump:2,0,little; " AT("X"), "\x03\x00" "abcX", true);
	PAY("byte_jump:2,0; " AT("X"), "\x03\x00" "abcX", false);
	PAY("byte_jump:2,0,string,dec; " AT("X"), "03abcX", true);
	/* relative */
	PAY("content:\"len=\"; byte_jump:1,0,relative; " AT("!"), "len=\x02" "ab!", true);
	PAY("content:\"len=\"; byte_jump:1,0,relative; " AT("!"), "len=\x01" "ab!", false);
	PAY("content:\"len=\"; byte_jump:1,1,relative; " AT("!"), "len=-\x01" "a!", true);
	/* multiplier, align */
	PAY("byte_jump:1,0,multiplier 2; " AT("X"), "\x02" "abcdX", true);
	PAY("byte_jump:1,0; " AT("X"), "\x02" "abcdX", false);
	PAY("byte_jump:1,0,align; " AT("X"), "\x01" "abcdX", true);
	PAY("byte_jump:1,0; " AT("X"), "\x01" "abcdX", false);
	/* from_beginning: the value is an offset from the start */
	PAY("byte_jump:1,2,from_beginning; " AT("X"), "ab\x05" "xxX", true);
	PAY("byte_jump:1,2; " AT("X"), "ab\x05" "xxX", false);
	/* post_offset */
	PAY("byte_jump:1,0,post_offset 2; " AT("X"), "\x01" "abcX", true);
	PAY("byte_jump:1,0,post_offset -1; " AT("a"), "\x01" "ab", true);
	/* from_end: from the end of the buffer */
	PAY("byte_jump:0,0,from_end,post_offset -1; " AT("X"), "abcX", true);
	PAY("byte_jump:1,0,from_end,post_offset -3; " AT("c"), "\x01" "abcX", true);
	/* SURICATA: the value is checked after post_offset is added: 10 - 5
	 * lands inside this 8-byte buffer (detect-bytejump.c); vigil refuses
	 * any value above the buffer length first (detect_match.c). */
	PAY("byte_jump:1,0,post_offset -5; " AT("f"), "\x0a" "abcdefg", true);
	/* nbytes 0: a jump by offset and post_offset alone */
	PAY("byte_jump:0,0,post_offset 3; " AT("X"), "abcX", true);
	PAY("byte_jump:0,1,post_offset 3;", "abcX", false);    /* lands on the end */
	/* the landing point must be inside the buffer */
	PAY("byte_jump:1,0;", "\x01" "ab", true);
	PAY("byte_jump:1,0;", "\x02" "ab", false);
	PAY("byte_jump:1,0;", "\x09" "ab", false);
	PAY("byte_jump:4,0;", "\x00\x00", false);
}

static void test_isdataat(void)
{
	cur_test = "isdataat";
	PAY("isdataat:4;", "abcde", true);
	PAY("isdataat:4;", "abcd", false);
	PAY("isdataat:!4;", "abcd", true);
	PAY("isdataat:!4;", "abcde", false);
	PAY("content:\"ab\"; isdataat:2,relative;", "abcd", true);
	PAY("content:\"ab\"; isdataat:2,relative;", "abc", false);
	PAY("content:\"ab\"; isdataat:!1,relative;", "xab", true);
	PAY("content:\"ab\"; isdataat:!1,relative;", "xabc", false);
	PAY("content:\"ab\"; isdataat:!1,relative;", "abxab", true);   /* backtracks */
}

/* ----------------------------------------------------- header conditions */

static void test_dsize_ttl(void)
{
	struct tp t;

	cur_test = "dsize_ttl";
	TP(&t, 6, "hello");
	EXPECT(TCP_RULE("dsize:5;"), &t, "1");
	EXPECT(TCP_RULE("dsize:4;"), &t, "");
	EXPECT(TCP_RULE("dsize:>4;"), &t, "1");
	EXPECT(TCP_RULE("dsize:>5;"), &t, "");
	EXPECT(TCP_RULE("dsize:<6;"), &t, "1");
	EXPECT(TCP_RULE("dsize:<5;"), &t, "");
	EXPECT(TCP_RULE("dsize:<=5;"), &t, "1");
	EXPECT(TCP_RULE("dsize:<=4;"), &t, "");
	EXPECT(TCP_RULE("dsize:>=5;"), &t, "1");
	EXPECT(TCP_RULE("dsize:>=6;"), &t, "");
	EXPECT(TCP_RULE("dsize:!5;"), &t, "");
	EXPECT(TCP_RULE("dsize:!4;"), &t, "1");
	EXPECT(TCP_RULE("dsize:4<>6;"), &t, "1");       /* exclusive */
	EXPECT(TCP_RULE("dsize:5<>7;"), &t, "");
	EXPECT(TCP_RULE("dsize:3<>5;"), &t, "");
	EXPECT(TCP_RULE("dsize:4-6;"), &t, "1");
	TP(&t, 6, "");
	EXPECT(TCP_RULE("dsize:0;"), &t, "1");
	EXPECT(TCP_RULE("dsize:<5;"), &t, "1");
	EXPECT(TCP_RULE("dsize:!5;"), &t, "");           /* "!N" wants a payload */
	/* dsize is about packets, never a stream window */
	tp_stream(&t, "hello", 0);
	EXPECT(TCP_RULE("dsize:5;"), &t, "");

	TP(&t, 6, "x");
	EXPECT(TCP_RULE("ttl:64;"), &t, "1");
	EXPECT(TCP_RULE("ttl:63;"), &t, "");
	EXPECT(TCP_RULE("ttl:<65;"), &t, "1");
	EXPECT(TCP_RULE("ttl:>64;"), &t, "");
	EXPECT(TCP_RULE("ttl:60-70;"), &t, "1");
}

#define IP_RULE(opts) "alert ip any any -> any any (" opts " sid:1;)"
#define ICMP_RULE(opts) "alert icmp any any -> any any (" opts " sid:1;)"

static void test_icmp_proto(void)
{
	struct tp t, u, i;

	cur_test = "icmp_proto";
	TP(&i, 1, "ping");
	EXPECT(ICMP_RULE("itype:8;"), &i, "1");
	EXPECT(ICMP_RULE("itype:0;"), &i, "");
	EXPECT(ICMP_RULE("itype:>5;"), &i, "1");
	EXPECT(ICMP_RULE("icode:0;"), &i, "1");
	EXPECT(ICMP_RULE("icode:1;"), &i, "");
	EXPECT(ICMP_RULE("itype:8; icode:0;"), &i, "1");
	i.p.icmp_type = 3;
	i.p.icmp_code = 4;
	EXPECT(ICMP_RULE("itype:3; icode:4;"), &i, "1");
	EXPECT(ICMP_RULE("itype:3; icode:<4;"), &i, "");
	EXPECT(IP_RULE("itype:3;"), &i, "1");
	/* never on TCP, whose icmp fields are 0 */
	TP(&t, 6, "x");
	EXPECT(IP_RULE("itype:0;"), &t, "");
	EXPECT(IP_RULE("icode:0;"), &t, "");

	TP(&u, 17, "x");
	EXPECT(IP_RULE("ip_proto:17;"), &u, "1");
	EXPECT(IP_RULE("ip_proto:17;"), &t, "");
	EXPECT(IP_RULE("ip_proto:tcp;"), &t, "1");
	EXPECT(IP_RULE("ip_proto:!6;"), &t, "");
	EXPECT(IP_RULE("ip_proto:!6;"), &u, "1");
	EXPECT(IP_RULE("ip_proto:<17;"), &t, "1");
	EXPECT(IP_RULE("ip_proto:<17;"), &u, "");

	/* the rule's protocol */
	static const char rules[] =
		"alert ip any any -> any any (sid:1;)\n"
		"alert tcp any any -> any any (sid:2;)\n"
		"alert udp any any -> any any (sid:3;)\n"
		"alert icmp any any -> any any (sid:4;)\n";
	struct tp g;
	TP(&g, 47, "gre");
	EXPECT(rules, &t, "1,2");
	EXPECT(rules, &u, "1,3");
	EXPECT(rules, &i, "1,4");
	EXPECT(rules, &g, "1");
}

static void test_flags(void)
{
	struct tp t;

	cur_test = "flags";
	TP(&t, 6, "");
	t.p.tcp_flags = RULE_TCP_SYN | RULE_TCP_ACK;
	EXPECT(TCP_RULE("flags:SA;"), &t, "1");
	EXPECT(TCP_RULE("flags:AS;"), &t, "1");
	EXPECT(TCP_RULE("flags:S;"), &t, "");           /* exact */
	EXPECT(TCP_RULE("flags:SAF;"), &t, "");
	EXPECT(TCP_RULE("flags:+S;"), &t, "1");         /* these and maybe others */
	EXPECT(TCP_RULE("flags:+SF;"), &t, "");
	EXPECT(TCP_RULE("flags:*FS;"), &t, "1");        /* any of these */
	EXPECT(TCP_RULE("flags:*FR;"), &t, "");
	EXPECT(TCP_RULE("flags:!R;"), &t, "1");
	EXPECT(TCP_RULE("flags:!S;"), &t, "");
	/* the mask after ',' ignores bits */
	t.p.tcp_flags = RULE_TCP_SYN | RULE_TCP_ACK | RULE_TCP_ECE | RULE_TCP_CWR;
	EXPECT(TCP_RULE("flags:SA,12;"), &t, "1");
	EXPECT(TCP_RULE("flags:SA,CE;"), &t, "1");
	EXPECT(TCP_RULE("flags:SA,C;"), &t, "");
	EXPECT(TCP_RULE("flags:SA;"), &t, "");
	/* 0: no flag at all */
	t.p.tcp_flags = 0;
	EXPECT(TCP_RULE("flags:0;"), &t, "1");
	t.p.tcp_flags = RULE_TCP_ACK;
	EXPECT(TCP_RULE("flags:0;"), &t, "");
	/* only TCP has flags */
	struct tp u;
	TP(&u, 17, "");
	EXPECT(IP_RULE("flags:0;"), &u, "");
	/* SURICATA: '!' matches unless all the given flags are set
	 * (detect-tcp-flags.c: (flags & dflags) != dflags); vigil reads it as
	 * "none of them" (Snort 2's, and rule.h's comment). */
	t.p.tcp_flags = RULE_TCP_SYN;
	EXPECT(TCP_RULE("flags:!SA;"), &t, "1");
}

static void test_addresses_ports(void)
{
	struct tp t;

	cur_test = "addresses_ports";
	TP(&t, 6, "x");
	EXPECT("alert tcp 192.168.1.0/24 any -> any any (sid:1;)", &t, "1");
	EXPECT("alert tcp 192.168.2.0/24 any -> any any (sid:1;)", &t, "");
	EXPECT("alert tcp [10.0.0.1,192.168.1.10] any -> any any (sid:1;)", &t, "1");
	EXPECT("alert tcp !192.168.1.10 any -> any any (sid:1;)", &t, "");
	EXPECT("alert tcp !192.168.1.11 any -> any any (sid:1;)", &t, "1");
	EXPECT("alert tcp [192.168.0.0/16,!192.168.1.10] any -> any any (sid:1;)", &t, "");
	EXPECT("alert tcp [192.168.0.0/16,!192.168.1.11] any -> any any (sid:1;)", &t, "1");
	EXPECT("alert tcp $HOME_NET any -> $HOME_NET any (sid:1;)", &t, "1");
	EXPECT("alert tcp $EXTERNAL_NET any -> any any (sid:1;)", &t, "");
	EXPECT("alert tcp any any -> 10.0.0.4/31 any (sid:1;)", &t, "1");
	EXPECT("alert tcp any any -> 10.0.0.6/31 any (sid:1;)", &t, "");
	EXPECT("alert tcp any any -> 192.168.1.10 any (sid:1;)", &t, "");   /* that is the source */

	EXPECT("alert tcp any 40000 -> any 80 (sid:1;)", &t, "1");
	EXPECT("alert tcp any 80 -> any any (sid:1;)", &t, "");
	EXPECT("alert tcp any any -> any [80,443] (sid:1;)", &t, "1");
	EXPECT("alert tcp any any -> any [443,8080] (sid:1;)", &t, "");
	EXPECT("alert tcp any any -> any 1:1024 (sid:1;)", &t, "1");
	EXPECT("alert tcp any any -> any :80 (sid:1;)", &t, "1");
	EXPECT("alert tcp any any -> any 81: (sid:1;)", &t, "");
	EXPECT("alert tcp any any -> any !80 (sid:1;)", &t, "");
	EXPECT("alert tcp any any -> any [1:100,!80] (sid:1;)", &t, "");
	EXPECT("alert tcp any any -> any ![81,82] (sid:1;)", &t, "1");

	/* <>: either direction */
	EXPECT("alert tcp 10.0.0.5 80 <> 192.168.1.10 40000 (sid:1;)", &t, "1");
	EXPECT("alert tcp 10.0.0.5 80 -> 192.168.1.10 40000 (sid:1;)", &t, "");
	EXPECT("alert tcp 10.0.0.5 any <> any any (sid:1;)", &t, "1");
	EXPECT("alert tcp 10.0.0.6 any <> any any (sid:1;)", &t, "");

	/* sameip */
	EXPECT(IP_RULE("sameip;"), &t, "");
	memcpy(t.p.dst, t.p.src, 16);
	EXPECT(IP_RULE("sameip;"), &t, "1");

	/* IPv6 */
	struct tp s;
	TP(&s, 6, "x");
	memset(s.p.src, 0, 16);
	s.p.src[0] = 0x20, s.p.src[1] = 0x01, s.p.src[2] = 0x0d, s.p.src[3] = 0xb8, s.p.src[15] = 1;
	s.p.ipver = 6;
	s.p.flags = PKT_F_IPV6 | PKT_F_L4;
	EXPECT("alert tcp 2001:db8::/32 any -> any any (sid:1;)", &s, "1");
	EXPECT("alert tcp 2001:db9::/32 any -> any any (sid:1;)", &s, "");
	EXPECT("alert tcp 192.168.1.0/24 any -> any any (sid:1;)", &s, "");
	TP(&t, 6, "x");
	EXPECT("alert tcp 2001:db8::/32 any -> any any (sid:1;)", &t, "");
}

/* --------------------------------------------------------------- flow */

static void test_flow(void)
{
	struct tp t;

	cur_test = "flow";
	TP(&t, 6, "x");
	EXPECT(TCP_RULE("flow:to_server;"), &t, "1");
	EXPECT(TCP_RULE("flow:from_client;"), &t, "1");
	EXPECT(TCP_RULE("flow:to_client;"), &t, "");
	EXPECT(TCP_RULE("flow:established;"), &t, "1");
	EXPECT(TCP_RULE("flow:not_established;"), &t, "");
	EXPECT(TCP_RULE("flow:stateless;"), &t, "1");
	EXPECT(TCP_RULE("flow:to_server,established;"), &t, "1");
	EXPECT(TCP_RULE("flow:to_client,established;"), &t, "");
	tp_reply(&t);
	EXPECT("alert tcp any any -> any any (flow:to_server; sid:1;)", &t, "");
	EXPECT("alert tcp any any -> any any (flow:to_client; sid:1;)", &t, "1");
	EXPECT("alert tcp any any -> any any (flow:from_server; sid:1;)", &t, "1");
	TP(&t, 6, "x");
	t.in.flags = DETECT_F_FLOW;
	EXPECT(TCP_RULE("flow:established;"), &t, "");
	EXPECT(TCP_RULE("flow:not_established;"), &t, "1");
	EXPECT(TCP_RULE("flow:stateless;"), &t, "1");
	EXPECT(TCP_RULE("flow:to_server,not_established;"), &t, "1");
	t.in.flags = DETECT_F_FLOW | DETECT_F_FRAG;
	EXPECT(TCP_RULE("flow:no_frag;"), &t, "");
	EXPECT(TCP_RULE("flow:only_frag;"), &t, "1");
	t.in.flags = DETECT_F_FLOW | DETECT_F_REASSEMBLED;
	EXPECT(TCP_RULE("flow:only_frag;"), &t, "1");
	t.in.flags = DETECT_F_FLOW;
	EXPECT(TCP_RULE("flow:no_frag;"), &t, "1");
	EXPECT(TCP_RULE("flow:only_frag;"), &t, "");
	/* no flow: no direction */
	t.in.flags = 0;
	EXPECT(TCP_RULE("flow:to_server;"), &t, "");
	EXPECT(TCP_RULE("flow:to_client;"), &t, "");

	/* only_stream / no_stream, and the protocols tcp-stream / tcp-pkt */
	TP(&t, 6, "x");
	EXPECT(TCP_RULE("content:\"x\"; flow:only_stream;"), &t, "");
	EXPECT(TCP_RULE("content:\"x\"; flow:no_stream;"), &t, "1");
	EXPECT("alert tcp-stream any any -> any any (content:\"x\"; sid:1;)", &t, "");
	EXPECT("alert tcp-pkt any any -> any any (content:\"x\"; sid:1;)", &t, "1");
	tp_stream(&t, "x", 0);
	EXPECT(TCP_RULE("content:\"x\"; flow:only_stream;"), &t, "1");
	EXPECT(TCP_RULE("content:\"x\"; flow:no_stream;"), &t, "");
	EXPECT("alert tcp-stream any any -> any any (content:\"x\"; sid:1;)", &t, "1");
	EXPECT("alert tcp-pkt any any -> any any (content:\"x\"; sid:1;)", &t, "");
	EXPECT(TCP_RULE("content:\"x\"; flow:to_server,established;"), &t, "1");
}

/* ----------------------------------------------------------- flowbits */

/* One packet "payload" of the default flow with flowbits DF. */
static const char *step(struct eng *e, struct detect_flow *df, const char *payload)
{
	struct tp t;

	tp_make(&t, 6, payload, (uint32_t)strlen(payload));
	t.in.df = df;
	return eng_run(e, &t.in);
}

static void test_flowbits(void)
{
	static const char rules[] =
		"alert tcp any any -> any any (content:\"login\"; flowbits:set,auth; flowbits:noalert; sid:1;)\n"
		"alert tcp any any -> any any (content:\"data\"; flowbits:isset,auth; sid:2;)\n"
		"alert tcp any any -> any any (content:\"data\"; flowbits:isnotset,auth; sid:3;)\n"
		"alert tcp any any -> any any (content:\"logout\"; flowbits:unset,auth; sid:4;)\n";
	struct detect_flow df = { 0 }, df2 = { 0 };
	struct eng e;

	cur_test = "flowbits";
	if (!eng_open(&e, rules, &CFG))
		return;
	CHECK_STR(step(&e, &df, "data"), "3");
	CHECK_STR(step(&e, &df, "login"), "");          /* noalert, but the bit is set */
	CHECK_EQ(df.nbits, 1);
	CHECK_STR(step(&e, &df, "data"), "2");
	CHECK_STR(step(&e, &df2, "data"), "3");         /* another flow */
	CHECK_STR(step(&e, &df, "logout"), "4");
	CHECK_EQ(df.nbits, 0);
	CHECK_STR(step(&e, &df, "data"), "3");
	/* set and read in one packet: the setter runs first */
	CHECK_STR(step(&e, &df, "login data"), "2");
	CHECK_EQ(df.nbits, 1);
	CHECK_STR(step(&e, &df, "logout data"), "4,3");
	eng_close(&e);

	/* toggle */
	static const char toggle[] =
		"alert tcp any any -> any any (content:\"T\"; flowbits:toggle,t; noalert; sid:1;)\n"
		"alert tcp any any -> any any (content:\"Q\"; flowbits:isset,t; sid:2;)\n";
	memset(&df, 0, sizeof(df));
	if (eng_open(&e, toggle, &CFG)) {
		CHECK_STR(step(&e, &df, "Q"), "");
		CHECK_STR(step(&e, &df, "T"), "");
		CHECK_STR(step(&e, &df, "Q"), "2");
		CHECK_STR(step(&e, &df, "T"), "");
		CHECK_STR(step(&e, &df, "Q"), "");
		CHECK_STR(step(&e, &df, "TQ"), "2");
		CHECK_EQ(df.nbits, 1);
		eng_close(&e);
	}
}

/* A ruleset reload: a flow's flowbits set under one engine are read by
 * the next, built with the same registry, although the second engine has
 * other names that sort first (its own ids would differ). */
static void test_flowbits_reload(void)
{
	static const char one[] =
		"alert tcp any any -> any any (content:\"login\"; flowbits:set,auth; noalert; sid:1;)\n";
	static const char two[] =
		"alert tcp any any -> any any (content:\"zz\"; flowbits:set,aaa; flowbits:set,aab; sid:5;)\n"
		"alert tcp any any -> any any (content:\"data\"; flowbits:isset,auth; sid:2;)\n";
	struct detect_fbreg *reg = NULL;
	struct detect_flow df = { 0 };
	struct eng e;

	cur_test = "flowbits across engines (reload)";
	CHECK_EQ(detect_fbreg_create(&reg), 0);
	if (!reg)
		return;
	CHECK_EQ(detect_fbreg_id(reg, "first"), 0);
	CHECK_EQ(detect_fbreg_id(reg, "first"), 0);
	struct detect_cfg cfg = CFG;
	cfg.fbreg = reg;
	if (eng_open(&e, one, &cfg)) {
		CHECK_STR(step(&e, &df, "login"), "");
		CHECK_EQ(df.nbits, 1);
		CHECK_EQ(df.fb[0], 1);   /* "auth": the registry's next id */
		eng_close(&e);
	}
	if (eng_open(&e, two, &cfg)) {
		CHECK_STR(step(&e, &df, "data"), "2");
		eng_close(&e);
	}
	CHECK_EQ(detect_fbreg_id(reg, "aab"), 3);   /* names stay in order of first use */
	/* without a registry the second engine's ids start again at 0 */
	struct detect_flow df2 = { 0 };
	if (eng_open(&e, one, &CFG)) {
		CHECK_STR(step(&e, &df2, "login"), "");
		eng_close(&e);
	}
	if (eng_open(&e, two, &CFG)) {
		CHECK_STR(step(&e, &df2, "data"), "");   /* "auth" is id 0 there: "aaa" */
		eng_close(&e);
	}
	/* many names: the table grows and keeps every id */
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		if (detect_fbreg_id(reg, name) != 4 + i) {
			CHECK_EQ(detect_fbreg_id(reg, name), 4 + i);
			break;
		}
	}
	CHECK_EQ(detect_fbreg_id(reg, "auth"), 1);
	CHECK_EQ(detect_fbreg_id(reg, "n4999"), 5003);
	detect_fbreg_destroy(reg);
}

static void test_flowbits_groups(void)
{
	static const char rules[] =
		"alert tcp any any -> any any (content:\"A\"; flowbits:set,a; noalert; sid:1;)\n"
		"alert tcp any any -> any any (content:\"B\"; flowbits:set,b; noalert; sid:2;)\n"
		"alert tcp any any -> any any (content:\"?\"; flowbits:isset,a|b; sid:10;)\n"
		"alert tcp any any -> any any (content:\"?\"; flowbits:isset,a&b; sid:11;)\n"
		"alert tcp any any -> any any (content:\"?\"; flowbits:isnotset,a|b; sid:12;)\n"
		"alert tcp any any -> any any (content:\"?\"; flowbits:isnotset,a&b; sid:13;)\n";
	struct detect_flow df;
	struct eng e;

	cur_test = "flowbits_groups";
	if (!eng_open(&e, rules, &CFG))
		return;
	memset(&df, 0, sizeof(df));
	CHECK_STR(step(&e, &df, "?"), "12,13");
	CHECK_STR(step(&e, &df, "A"), "");
	CHECK_STR(step(&e, &df, "?"), "10,12");
	memset(&df, 0, sizeof(df));
	CHECK_STR(step(&e, &df, "B?"), "10,12");
	CHECK_STR(step(&e, &df, "A?"), "10,11");
	eng_close(&e);
}

static void test_flowbits_order(void)
{
	/* file order: readers first; engine order: setters, set+read, readers
	 * (then priority) */
	static const char rules[] =
		"alert tcp any any -> any any (content:\"X\"; flowbits:isset,g; priority:1; sid:13;)\n"
		"alert tcp any any -> any any (content:\"X\"; flowbits:isset,f; priority:1; sid:10;)\n"
		"alert tcp any any -> any any (content:\"X\"; flowbits:isset,f; flowbits:set,g; sid:12;)\n"
		"alert tcp any any -> any any (content:\"X\"; flowbits:set,f; priority:3; sid:11;)\n";
	struct detect_flow df = { 0 };
	struct eng e;

	cur_test = "flowbits_order";
	if (!eng_open(&e, rules, &CFG))
		return;
	CHECK_EQ(detect_engine_rule(e.de, 0)->sid, 11);
	CHECK_EQ(detect_engine_rule(e.de, 1)->sid, 12);
	CHECK_STR(step(&e, &df, "X"), "11,12,13,10");
	CHECK_EQ(df.nbits, 2);
	eng_close(&e);
}

static void test_flowbits_noflow(void)
{
	struct tp t;

	cur_test = "flowbits_noflow";
	TP(&t, 6, "login data");
	t.in.df = NULL;
	/* nothing is kept without a flow: isset never holds; a setter still alerts */
	EXPECT("alert tcp any any -> any any (content:\"login\"; flowbits:set,auth; sid:1;)\n"
	       "alert tcp any any -> any any (content:\"data\"; flowbits:isset,auth; sid:2;)\n",
	       &t, "1");
	/* SURICATA: isnotset needs a flow too (detect-flowbits.c:
	 * DetectFlowbitMatchIsnotset returns 0 when p->flow == NULL), and
	 * detect.h says "NULL: flowbits never match". */
	EXPECT("alert tcp any any -> any any (content:\"data\"; flowbits:isnotset,auth; sid:3;)\n",
	       &t, "");
}

/* ------------------------------------------------------------ IP-only */

static void test_iponly(void)
{
	static const char rules[] =
		"alert tcp 192.168.1.10 any -> any 80 (sid:1;)\n"                    /* IP-only */
		"alert tcp 192.168.1.10 any -> any any (ttl:64; sid:2;)\n"           /* keyed */
		"alert ip any any -> any any (sid:3;)\n"                             /* IP-only, broad */
		"alert tcp 10.0.0.5 80 <> any any (sid:4;)\n"                        /* IP-only, broad */
		"alert tcp 10.0.0.5 80 -> any any (flow:to_client; ttl:64; sid:5;)\n" /* keyed */
		"alert udp 192.168.1.10 any -> any any (ttl:64; sid:6;)\n"           /* keyed */
		"alert tcp 192.168.1.10 any -> any any (content:!\"zz\"; sid:7;)\n";   /* keyed, stream kind */
	struct detect_engine_stats st;
	struct eng e;
	struct tp t;

	cur_test = "iponly";
	if (!eng_open(&e, rules, &CFG))
		return;
	detect_engine_get_stats(e.de, &st);
	CHECK_EQ(st.iponly_rules, 3);
	CHECK_EQ(st.keyed_rules, 4);
	CHECK(st.iponly_entries > 0);
	/* IP-only rules run on the first packet of a direction, keyed ones on all */
	TP(&t, 6, "x");
	CHECK_STR(eng_run(&e, &t.in), "1,2,3,4,7");
	t.in.flags &= ~DETECT_F_IPONLY;
	CHECK_STR(eng_run(&e, &t.in), "2,7");
	t.in.flags |= DETECT_F_STREAM_TRACKED;
	CHECK_STR(eng_run(&e, &t.in), "2");
	tp_stream(&t, "x", 0);                         /* never on a stream window */
	CHECK_STR(eng_run(&e, &t.in), "7");
	TP(&t, 6, "x");
	tp_reply(&t);
	CHECK_STR(eng_run(&e, &t.in), "3,4,5");
	t.in.flags &= ~DETECT_F_IPONLY;
	CHECK_STR(eng_run(&e, &t.in), "5");
	TP(&t, 17, "x");
	CHECK_STR(eng_run(&e, &t.in), "3,6");
	/* a packet without a flow */
	TP(&t, 6, "x");
	t.in.flags = DETECT_F_IPONLY;
	t.in.df = NULL;
	CHECK_STR(eng_run(&e, &t.in), "1,2,3,4,7");
	/* other addresses */
	TP(&t, 6, "x");
	t.p.src[3] = 11;
	CHECK_STR(eng_run(&e, &t.in), "3,4");
	memset(t.p.src, 0, 16);
	t.p.src[0] = 0x20, t.p.src[1] = 0x01, t.p.src[2] = 0x0d, t.p.src[3] = 0xb8, t.p.src[15] = 1;
	memcpy(t.p.dst, t.p.src, 16);
	t.p.dst[15] = 2;
	t.p.ipver = 6;
	t.p.flags = PKT_F_IPV6 | PKT_F_L4;
	CHECK_STR(eng_run(&e, &t.in), "3");
	eng_close(&e);

	/* an IP-only pass rule passes the flow, on the packets it runs on */
	static const char pass[] =
		"pass ip 192.168.1.10 any -> any any (sid:1;)\n"
		"alert tcp any any -> any any (content:\"x\"; sid:2;)\n";
	if (eng_open(&e, pass, &CFG)) {
		TP(&t, 6, "x");
		CHECK_STR(eng_run(&e, &t.in), "");
		CHECK_EQ(e.result, DETECT_R_PASS | DETECT_R_PASS_FLOW);
		t.in.flags &= ~DETECT_F_IPONLY;
		CHECK_STR(eng_run(&e, &t.in), "2");
		CHECK_EQ(e.result, 0);
		eng_close(&e);
	}

	/* SURICATA: only "flowbits:set" keeps a rule IP-only
	 * (detect-engine-build.c SignatureIsIPOnly); a toggle (or unset) rule
	 * runs on every packet.  vigil makes it IP-only, so the second packet
	 * does not toggle the bit back. */
	static const char toggle[] =
		"alert tcp 192.168.1.10 any -> any any (flowbits:toggle,t; noalert; sid:1;)\n"
		"alert tcp any any -> any any (content:\"Q\"; flowbits:isset,t; sid:2;)\n";
	struct detect_flow df = { 0 };
	if (eng_open(&e, toggle, &CFG)) {
		TP(&t, 6, "Q");
		t.in.df = &df;
		CHECK_STR(eng_run(&e, &t.in), "2");
		t.in.flags &= ~DETECT_F_IPONLY;
		CHECK_STR(eng_run(&e, &t.in), "");
		eng_close(&e);
	}
}

/* ------------------------------------------------------------ actions */

static void test_actions(void)
{
	struct tp t;
	struct eng e;

	cur_test = "actions";
	TP(&t, 6, "ok");
	/* pass: no alert, later rules skipped, whatever the file order */
	EXPECT("alert tcp any any -> any any (content:\"ok\"; sid:2;)\n"
	       "pass tcp any any -> any any (content:\"ok\"; sid:1;)\n", &t, "");
	CHECK_EQ(last_result, DETECT_R_PASS);
	EXPECT("alert tcp any any -> any any (content:\"ok\"; sid:2;)\n"
	       "pass tcp any any -> any any (content:\"no\"; sid:1;)\n", &t, "2");
	CHECK_EQ(last_result, 0);
	/* an address-only pass rule passes the flow */
	EXPECT("pass ip 192.168.1.10 any -> any any (sid:1;)\n"
	       "alert tcp any any -> any any (content:\"ok\"; sid:2;)\n", &t, "");
	CHECK_EQ(last_result, DETECT_R_PASS | DETECT_R_PASS_FLOW);
	EXPECT("pass tcp any any -> any any (flow:established; sid:1;)\n", &t, "");
	CHECK_EQ(last_result, DETECT_R_PASS);
	EXPECT("pass tcp any any -> any any (ttl:64; sid:1;)\n", &t, "");
	CHECK_EQ(last_result, DETECT_R_PASS);

	/* drop and reject alert and mark the packet */
	if (eng_open(&e, "drop tcp any any -> any any (content:\"ok\"; sid:1;)\n", &CFG)) {
		CHECK_STR(eng_run(&e, &t.in), "1");
		CHECK_EQ(e.result, DETECT_R_DROP);
		CHECK_EQ(e.a[0].action, RULE_ACTION_DROP);
		eng_close(&e);
	}
	if (eng_open(&e, "reject tcp any any -> any any (content:\"ok\"; sid:1;)\n", &CFG)) {
		CHECK_STR(eng_run(&e, &t.in), "1");
		CHECK_EQ(e.result, DETECT_R_DROP);
		CHECK_EQ(e.a[0].action, RULE_ACTION_REJECT);
		eng_close(&e);
	}
	EXPECT("drop tcp any any -> any any (content:\"ok\"; noalert; sid:1;)\n", &t, "");
	CHECK_EQ(last_result, DETECT_R_DROP);

	/* order: pass, drop, reject, alert; then priority; then file order */
	EXPECT("alert tcp any any -> any any (content:\"ok\"; priority:3; sid:5;)\n"
	       "alert tcp any any -> any any (content:\"ok\"; priority:2; sid:4;)\n"
	       "alert tcp any any -> any any (content:\"ok\"; priority:1; sid:1;)\n"
	       "reject tcp any any -> any any (content:\"ok\"; sid:2;)\n"
	       "drop tcp any any -> any any (content:\"ok\"; sid:3;)\n"
	       "alert tcp any any -> any any (content:\"ok\"; priority:2; sid:6;)\n", &t, "3,2,1,4,6,5");
	CHECK_EQ(last_result, DETECT_R_DROP);
	/* a pass rule comes before the drop */
	EXPECT("drop tcp any any -> any any (content:\"ok\"; sid:1;)\n"
	       "pass tcp any any -> any any (content:\"ok\"; sid:2;)\n", &t, "");
	CHECK_EQ(last_result, DETECT_R_PASS);

	/* more alerts than the bound: the first ones are kept, the rest counted */
	if (eng_open(&e, "alert tcp any any -> any any (content:\"ok\"; sid:1;)\n"
			 "alert tcp any any -> any any (content:\"o\"; sid:2;)\n"
			 "alert tcp any any -> any any (content:\"k\"; sid:3;)\n", &CFG)) {
		uint64_t before = ctr_read(&ctrs, CTR_DETECT_QUEUE_OVERFLOW);
		e.max = 1;
		CHECK_STR(eng_run(&e, &t.in), "1");
		CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_QUEUE_OVERFLOW) - before, 2);
		eng_close(&e);
	}
}

/* ------------------------------------------------------ stream windows */

static void test_stream_window(void)
{
	struct tp t;
	struct eng e;

	cur_test = "stream_window";
	/* a match must end after new_from */
	tp_stream(&t, "abcdefgh", 4);
	EXPECT(TCP_RULE("content:\"abc\";"), &t, "");
	tp_stream(&t, "abcdefgh", 3);
	EXPECT(TCP_RULE("content:\"abc\";"), &t, "");
	tp_stream(&t, "abcdefgh", 2);
	EXPECT(TCP_RULE("content:\"abc\";"), &t, "1");
	tp_stream(&t, "abcdefgh", 0);
	EXPECT(TCP_RULE("content:\"abc\";"), &t, "1");
	tp_stream(&t, "xxabcxxx", 4);
	EXPECT(TCP_RULE("content:\"abc\";"), &t, "1");
	tp_stream(&t, "abcxxabc", 4);                  /* the second one counts */
	EXPECT(TCP_RULE("content:\"abc\";"), &t, "1");
	tp_stream(&t, "abcXabcY", 4);
	EXPECT(TCP_RULE("content:\"abc\"; content:\"Y\"; distance:0; within:1;"), &t, "1");

	/* offset and depth count from new_from */
	tp_stream(&t, "xxxxSMBxxxxxxxSMBxxx", 10);
	EXPECT(TCP_RULE("content:\"SMB\"; depth:8;"), &t, "1");
	tp_stream(&t, "xxxxSMBxxxxxxxxxxxxx", 10);
	EXPECT(TCP_RULE("content:\"SMB\"; depth:8;"), &t, "");
	tp_stream(&t, "xxxxxxxxxxxxxxxxSMBx", 10);
	EXPECT(TCP_RULE("content:\"SMB\"; depth:8;"), &t, "");
	tp_stream(&t, "xxxxxxxxxxxxSMBxx", 10);
	EXPECT(TCP_RULE("content:\"SMB\"; offset:2; depth:3;"), &t, "1");
	tp_stream(&t, "xxxxxxxxxxxSMBxxx", 10);
	EXPECT(TCP_RULE("content:\"SMB\"; offset:2; depth:3;"), &t, "");
	/* so do byte_test and isdataat */
	tp_stream(&t, "AAAB", 3);
	EXPECT(TCP_RULE("byte_test:1,=,66,0;"), &t, "1");
	tp_stream(&t, "AAAB", 2);
	EXPECT(TCP_RULE("byte_test:1,=,66,0;"), &t, "");
	tp_stream(&t, "xxxxabcde", 4);
	EXPECT(TCP_RULE("isdataat:4;"), &t, "1");
	tp_stream(&t, "xxxxabcd", 4);
	EXPECT(TCP_RULE("isdataat:4;"), &t, "");
	/* and ^ of an absolute pcre (detect_match.c: "anchored at the start: from
	 * the new bytes of a stream window") */
	tp_stream(&t, "SMBxSMBx", 4);
	EXPECT(TCP_RULE("content:\"SMB\"; pcre:\"/^SMB/\";"), &t, "1");
	/* BUG: a pcre-only rule's Hyperscan prefilter
	 * anchors ^ at byte 0 of the window, so the rule is never a candidate
	 * when the new bytes start later (detect_build.c rule_pattern() takes
	 * ^-patterns as prefilters). */
	tp_stream(&t, "xxxxSMBx", 4);
	EXPECT(TCP_RULE("pcre:\"/^SMB/\";"), &t, "1");

	/* match_end is in window coordinates */
	if (eng_open(&e, TCP_RULE("content:\"abc\";"), &CFG)) {
		tp_stream(&t, "xxxxxabc", 4);
		CHECK_STR(eng_run(&e, &t.in), "1");
		CHECK_EQ(e.a[0].match_end, 8);
		eng_close(&e);
	}
}

/* ------------------------------------------------------------- groups */

static void test_groups(void)
{
	static const char rules[] =
		"alert tcp any any -> any 80 (content:\"x\"; sid:1;)\n"
		"alert tcp any any -> any any (content:\"x\"; sid:2;)\n"
		"alert tcp any 80 -> any any (flow:to_client; content:\"x\"; sid:3;)\n"
		"alert udp any any -> any 53 (content:\"x\"; sid:4;)\n"
		"alert tcp any any -> any 1024: (content:\"x\"; sid:6;)\n"
		"alert tcp any any -> any 8080 (content:\"x\"; sid:7;)\n"
		"alert tcp any any -> any [80,9000] (content:\"x\"; sid:8;)\n";
	static const uint32_t pg[3] = { 8, 1, 0 };
	static const char *const names[3] = { "groups (port_groups 8)", "groups (port_groups 1)",
					       "groups (port_groups 0)" };
	uint32_t ngroups[3] = { 0, 0, 0 };
	struct detect_cfg cfg = CFG;
	struct detect_engine_stats st;
	struct eng e;
	struct tp t;

	/* a port with a group of its own, or one of the shared rest: same results */
	for (int i = 0; i < 3; i++) {
		cur_test = names[i];
		cfg.port_groups = pg[i];
		if (!eng_open(&e, rules, &cfg))
			continue;
		detect_engine_get_stats(e.de, &st);
		ngroups[i] = st.groups;
		TP(&t, 6, "x");
		CHECK_STR(eng_run(&e, &t.in), "1,2,8");
		t.p.dport = 81;
		CHECK_STR(eng_run(&e, &t.in), "2");
		t.p.dport = 5000;
		CHECK_STR(eng_run(&e, &t.in), "2,6");
		t.p.dport = 8080;
		CHECK_STR(eng_run(&e, &t.in), "2,6,7");
		t.p.dport = 9000;
		CHECK_STR(eng_run(&e, &t.in), "2,6,8");
		/* to client: the server port is the source port */
		TP(&t, 6, "x");
		tp_reply(&t);                          /* 10.0.0.5:80 -> ...:40000 */
		CHECK_STR(eng_run(&e, &t.in), "2,3,6");
		t.p.sport = 81;
		CHECK_STR(eng_run(&e, &t.in), "2,6");
		TP(&t, 17, "x");
		t.p.dport = 53;
		CHECK_STR(eng_run(&e, &t.in), "4");
		t.p.dport = 54;
		CHECK_STR(eng_run(&e, &t.in), "");
		eng_close(&e);
	}
	cur_test = "groups";
	CHECK(ngroups[0] > ngroups[1]);
	CHECK(ngroups[1] > ngroups[2]);
}

static void test_stream_tracked(void)
{
	static const char rules[] =
		"alert tcp any any -> any any (content:\"x\"; sid:1;)\n"
		"alert tcp any any -> any any (flags:+A; sid:2;)\n"
		"alert tcp any any -> any any (dsize:>0; content:\"x\"; sid:3;)\n"
		"alert tcp-pkt any any -> any any (content:\"x\"; sid:4;)\n"
		"alert tcp any any -> any any (content:\"x\"; flow:no_stream; sid:5;)\n";
	struct eng e;
	struct tp t;

	cur_test = "stream_tracked";
	if (!eng_open(&e, rules, &CFG))
		return;
	TP(&t, 6, "x");
	CHECK_STR(eng_run(&e, &t.in), "1,2,3,4,5");
	/* the stream is inspected apart: its rules skip the packet */
	t.in.flags |= DETECT_F_STREAM_TRACKED;
	CHECK_STR(eng_run(&e, &t.in), "2,3,4,5");
	/* the stream window: stream rules only */
	tp_stream(&t, "x", 0);
	CHECK_STR(eng_run(&e, &t.in), "1");
	/* no payload: header rules only */
	TP(&t, 6, "");
	CHECK_STR(eng_run(&e, &t.in), "2");
	eng_close(&e);
}

/* ------------------------------------------------------------- engine */

static bool is_hex16(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static void test_engine(void)
{
	static const char rules[] =
		"alert tcp any any -> any 80 (content:\"abc\"; flowbits:set,x; sid:1;)\n"
		"alert tcp any any -> any any (content:\"def\"; flowbits:isset,x|y; sid:2;)\n"
		"alert udp any any -> any any (pcre:\"/gh+i/\"; sid:3;)\n"
		"alert icmp any any -> any any (itype:8; sid:4;)\n";
	struct detect_engine_stats st;
	struct eng a, b;
	char v1[32] = "";

	cur_test = "engine";
	if (!eng_open(&a, rules, &CFG))
		return;
	snprintf(v1, sizeof(v1), "%s", detect_engine_version(a.de));
	CHECK(is_hex16(v1));
	detect_engine_get_stats(a.de, &st);
	CHECK_EQ(st.rules, 4);
	CHECK_EQ(st.mpm_rules, 2);
	CHECK_EQ(st.flowbits, 2);
	CHECK(st.groups > 0);
	CHECK(st.databases > 0);
	CHECK(st.patterns >= 3);
	CHECK(st.db_bytes > 0);
	CHECK(st.scratch_bytes > 0);
	CHECK_EQ(st.cache_hits, 0);
	CHECK_EQ(ruleset_count(detect_engine_ruleset(a.de)), 4);
	CHECK(detect_engine_rule(a.de, 3) != NULL);
	CHECK(detect_engine_rule(a.de, 4) == NULL);
	eng_close(&a);

	/* the version follows the rules' text */
	if (eng_open(&a, rules, &CFG)) {
		CHECK_STR(detect_engine_version(a.de), v1);
		eng_close(&a);
	}
	if (eng_open(&b, "alert tcp any any -> any 80 (content:\"abc\"; flowbits:set,x; sid:1; rev:2;)\n"
			 "alert tcp any any -> any any (content:\"def\"; flowbits:isset,x|y; sid:2;)\n"
			 "alert udp any any -> any any (pcre:\"/gh+i/\"; sid:3;)\n"
			 "alert icmp any any -> any any (itype:8; sid:4;)\n", &CFG)) {
		CHECK(is_hex16(detect_engine_version(b.de)));
		CHECK(strcmp(detect_engine_version(b.de), v1) != 0);
		eng_close(&b);
	}

	/* no rules at all */
	struct tp t;
	TP(&t, 6, "abc");
	if (eng_open(&a, "", &CFG)) {
		detect_engine_get_stats(a.de, &st);
		CHECK_EQ(st.rules, 0);
		CHECK_EQ(st.databases, 0);
		CHECK(is_hex16(detect_engine_version(a.de)));
		CHECK_STR(eng_run(&a, &t.in), "");
		eng_close(&a);
	}

	/* candidates: counted per fast-pattern hit */
	if (eng_open(&a, TCP_RULE("content:\"abc\";") "\n"
			 "alert tcp any any -> any any (content:\"abd\"; sid:2;)\n", &CFG)) {
		uint64_t before = ctr_read(&ctrs, CTR_DETECT_CANDIDATES);
		CHECK_STR(eng_run(&a, &t.in), "1");
		CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_CANDIDATES) - before, 1);
		eng_close(&a);
	}

	detect_engine_destroy(NULL);
	detect_thread_destroy(NULL);
}

static int hsdb_files(const char *dir, bool corrupt, bool remove_them)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4200];
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (strstr(de->d_name, ".hsdb"))
			n++;
		if (corrupt) {
			FILE *f = fopen(path, "wb");
			if (f) {
				fputs("not a database", f);
				fclose(f);
			}
		}
		if (remove_them)
			unlink(path);
	}
	closedir(d);
	return n;
}

static void test_cache(void)
{
	static const char rules[] =
		"alert tcp any any -> any 80 (content:\"abc\"; sid:1;)\n"
		"alert tcp any any -> any any (content:\"def\"; sid:2;)\n"
		"alert tcp any any -> any any (pcre:\"/gh+i/\"; sid:3;)\n"
		"alert udp any any -> any any (content:\"jkl\"; sid:4;)\n";
	static const char *const payloads[] = { "abc def", "ghhhi", "jkl", "xyz" };
	static const char *const want[] = { "1,2", "3", "", "" };
	char dir[] = "/tmp/vigil-test-detect-XXXXXX";
	struct detect_cfg cfg = CFG;
	struct detect_engine_stats st1 = { 0 }, st;
	struct eng e;
	struct tp t;

	cur_test = "cache";
	if (!mkdtemp(dir)) {
		printf("FAIL [%s]: mkdtemp: %s\n", cur_test, strerror(errno));
		failures++;
		return;
	}
	cfg.cache_dir = dir;
	for (int round = 0; round < 4; round++) {
		/* 0: cold; 1: from the cache; 2: corrupt files, recompiled; 3: cached again */
		if (round == 2)
			CHECK(hsdb_files(dir, true, false) >= 1);
		if (!eng_open(&e, rules, &cfg))
			break;
		detect_engine_get_stats(e.de, &st);
		if (round == 0) {
			st1 = st;
			CHECK(st.databases > 0);
			int n = hsdb_files(dir, false, false);
			CHECK(n >= 1 && (uint32_t)n <= st.databases);
		} else {
			CHECK_EQ(st.databases, st1.databases);
			CHECK_EQ(st.patterns, st1.patterns);
			CHECK_EQ(st.cache_hits, round == 2 ? 0 : st.databases);
		}
		for (int i = 0; i < 4; i++) {
			tp_make(&t, 6, payloads[i], (uint32_t)strlen(payloads[i]));
			CHECK_STR(eng_run(&e, &t.in), want[i]);
		}
		TP(&t, 17, "jkl");
		CHECK_STR(eng_run(&e, &t.in), "4");
		eng_close(&e);
	}
	hsdb_files(dir, false, true);
	CHECK_EQ(rmdir(dir), 0);
}

static void test_build_errors(void)
{
	struct detect_engine *de = NULL;
	struct rule_load_opts o = { .vars = vars };
	struct ruleset *rs = NULL;
	char err[512];

	cur_test = "build_errors";
	/* the parser already refuses a pcre PCRE2 cannot compile */
	const char bad[] = "alert tcp any any -> any any (content:\"x\"; pcre:\"/(abc/\"; sid:42;)\n";
	CHECK_EQ(ruleset_load_buffer(&rs, "bad.rules", bad, strlen(bad), &o, err, sizeof(err)), 0);
	if (rs) {
		CHECK_EQ(ruleset_count(rs), 0);
		CHECK_EQ(ruleset_diag_count(rs), 1);
		if (ruleset_diag_count(rs) == 1)
			CHECK_EQ(ruleset_diag(rs, 0)->reason, RULE_SKIP_BAD_PCRE);
		ruleset_destroy(rs);
	}

	/* so the engine's own error path is reached by breaking a loaded rule's
	 * pattern in place (the rule lives in the ruleset's writable arena) */
	rs = load("alert tcp any any -> any any (content:\"x\"; pcre:\"/abc/\"; sid:42;)\n", true);
	if (!rs)
		return;
	const struct rule *r = ruleset_get(rs, 0);
	CHECK_EQ(r->n_pm, 2);
	if (r->n_pm == 2 && r->pm[1].type == RULE_PM_PCRE)
		((struct rule_pm *)&r->pm[1])->pcre.re = "(abc";
	CHECK_EQ(detect_engine_create(&de, rs, &CFG, err, sizeof(err)), -EINVAL);   /* takes rs */
	CHECK(de == NULL);
	CHECK(strstr(err, "sid 42") != NULL);
	detect_engine_destroy(de);
}

int main(void)
{
	if (rule_vars_create(&vars) || rule_vars_set_defaults(vars)) {
		printf("cannot set up rule variables\n");
		return 1;
	}
	test_content();
	test_content_match_end();
	test_pcre();
	test_pcre_paths();
	test_pcre_limit();
	test_byte_test();
	test_byte_jump();
	test_isdataat();
	test_dsize_ttl();
	test_icmp_proto();
	test_flags();
	test_addresses_ports();
	test_flow();
	test_flowbits();
	test_flowbits_reload();
	test_flowbits_groups();
	test_flowbits_order();
	test_flowbits_noflow();
	test_iponly();
	test_actions();
	test_stream_window();
	test_groups();
	test_stream_tracked();
	test_engine();
	test_cache();
	test_build_errors();
	rule_vars_destroy(vars);
	if (failures)
		printf("%d check(s) failed\n", failures);
	else
		printf("all detect checks passed\n");
	return failures ? 1 : 0;
}
