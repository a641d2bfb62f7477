/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the rule parser (rules/).
 *
 * Rules are loaded from buffers named "t.rules" (and from files written to
 * a temporary directory for includes); every keyword is checked for its
 * exact values, every error for its exact file:line:col, reason and
 * message.  With the shared data directory as argv[1] (skipped when it or
 * the rulesets are absent), both Emerging Threats rulesets are loaded with
 * Suricata's stock variables and ET's classification.config; the report
 * is printed, and no rule made only of supported keywords may be skipped.
 *
 * Standalone: prints each failed check with its line; exit 0 iff all pass.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rule.h"

#include "check.h"

#define CHECK_STR(got, want) check_str(__LINE__, #got, (got), (want))

static void check_str(int line, const char *expr, const char *got, const char *want)
{
	if ((got && want && strcmp(got, want) == 0) || (!got && !want))
		return;
	printf("FAIL %s:%d [%s]: %s\n    got:  \"%s\"\n    want: \"%s\"\n", __FILE__, line, cur_test,
	       expr, got ? got : "(null)", want ? want : "(null)");
	failures++;
}

/* ------------------------------------------------------------ helpers */

static struct rule_vars *vars;
static struct rule_load_opts opts;

static struct ruleset *load_opts(const char *text, const struct rule_load_opts *o)
{
	struct ruleset *rs = NULL;
	char err[512];
	int rc = ruleset_load_buffer(&rs, "t.rules", text, strlen(text), o, err, sizeof(err));

	if (rc) {
		printf("FAIL [%s]: load: %s\n", cur_test, err);
		failures++;
		return NULL;
	}
	return rs;
}

static struct ruleset *load(const char *text)
{
	return load_opts(text, &opts);
}

/* Loads TEXT (one rule) and returns it, or NULL after reporting why. */
static struct ruleset *one_rs;
static const struct rule *one(int line, const char *text)
{
	ruleset_destroy(one_rs);
	one_rs = load(text);
	if (!one_rs)
		return NULL;
	if (ruleset_count(one_rs) != 1) {
		printf("FAIL %s:%d [%s]: rule not loaded: %s\n", __FILE__, line, cur_test, text);
		for (size_t i = 0; i < ruleset_diag_count(one_rs); i++)
			printf("    %s: %s\n", ruleset_diag(one_rs, i)->where, ruleset_diag(one_rs, i)->msg);
		failures++;
		return NULL;
	}
	return ruleset_get(one_rs, 0);
}
#define ONE(text) one(__LINE__, text)

/* Loads TEXT, expects no rule and one diagnostic exactly as given. */
static void skip_check(int line, const char *text, const char *where, enum rule_skip_reason why,
		       const char *msg)
{
	struct ruleset *rs = load(text);
	const struct rule_diag *d;

	if (!rs)
		return;
	d = ruleset_diag(rs, 0);
	if (ruleset_count(rs) != 0 || ruleset_diag_count(rs) != 1 || !d || strcmp(d->where, where) != 0 ||
	    d->reason != why || !strstr(d->msg, msg)) {
		printf("FAIL %s:%d [%s]: %s\n", __FILE__, line, cur_test, text);
		printf("    want: %s: [%s] ...%s...\n", where, rule_skip_reason_name(why), msg);
		if (d)
			printf("    got:  %s: [%s] %s (%zu rules, %zu diags)\n", d->where,
			       rule_skip_reason_name(d->reason), d->msg, ruleset_count(rs),
			       ruleset_diag_count(rs));
		else
			printf("    got:  no diagnostic, %zu rules\n", ruleset_count(rs));
		failures++;
	}
	ruleset_destroy(rs);
}
#define SKIP(text, where, why, msg) skip_check(__LINE__, text, where, why, msg)

static char tmpdir[256];   /* include tests */

/* Checks diagnostic I of RS; a WHERE starting with "~/" is in tmpdir. */
static void diag_check(int line, const struct ruleset *rs, size_t i, const char *where,
		       enum rule_skip_reason why, const char *msg)
{
	const struct rule_diag *d = ruleset_diag(rs, i);
	char w[600];

	snprintf(w, sizeof(w), "%s%s", where[0] == '~' ? tmpdir : "", where + (where[0] == '~'));
	if (d && strcmp(d->where, w) == 0 && d->reason == why && strstr(d->msg, msg))
		return;
	printf("FAIL %s:%d [%s]: diagnostic %zu\n    want: %s: [%s] ...%s...\n", __FILE__, line,
	       cur_test, i, w, rule_skip_reason_name(why), msg);
	if (d)
		printf("    got:  %s: [%s] %s\n", d->where, rule_skip_reason_name(d->reason), d->msg);
	failures++;
}
#define DIAG(rs, i, where, why, msg) diag_check(__LINE__, rs, i, where, why, msg)

#ifdef RULE_HAVE_PCRE2
#define PCRE2 1   /* patterns are compiled at load time */
#else
#define PCRE2 0
#endif

#define H "alert tcp any any -> any any ("   /* options start at column 31 */

static const struct rule_content *content_at(const struct rule *r, uint32_t i)
{
	if (!r || i >= r->n_pm || r->pm[i].type != RULE_PM_CONTENT)
		return NULL;
	return &r->pm[i].content;
}

static bool bytes_eq(const struct rule_content *c, const char *want, size_t n)
{
	return c && c->len == n && memcmp(c->pat, want, n) == 0;
}

/* TXT is IPv4 or IPv6 (has a ':') */
static bool ipm(const struct rule_addrset *s, const char *txt)
{
	uint8_t a[16] = { 0 };
	int v6 = strchr(txt, ':') != NULL;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, txt, a) != 1)
		abort();
	return rule_addr_match(s, a, v6 ? 6 : 4);
}

static struct rule_addrset *addr(const char *text)
{
	struct rule_addrset *s = NULL;
	char err[256];

	if (rule_addrset_parse(&s, text, vars, err, sizeof(err)) != 0) {
		printf("FAIL [%s]: address '%s': %s\n", cur_test, text, err);
		failures++;
	}
	return s;
}

static struct rule_portset *ports(const char *text)
{
	struct rule_portset *s = NULL;
	char err[256];

	if (rule_portset_parse(&s, text, vars, err, sizeof(err)) != 0) {
		printf("FAIL [%s]: ports '%s': %s\n", cur_test, text, err);
		failures++;
	}
	return s;
}

/* ------------------------------------------------------------ header */

static void test_header(void)
{
	static const char *const acts[] = { "alert", "drop", "pass", "reject", "rejectsrc", "rejectdst",
					    "rejectboth" };
	static const enum rule_action act[] = { RULE_ACTION_ALERT, RULE_ACTION_DROP, RULE_ACTION_PASS,
						RULE_ACTION_REJECT, RULE_ACTION_REJECT, RULE_ACTION_REJECT,
						RULE_ACTION_REJECT };
	static const enum rule_reject rej[] = { RULE_REJECT_NONE, RULE_REJECT_NONE, RULE_REJECT_NONE,
						RULE_REJECT_SRC, RULE_REJECT_SRC, RULE_REJECT_DST,
						RULE_REJECT_BOTH };
	static const char *const protos[] = { "ip", "tcp", "udp", "icmp", "tcp-pkt", "tcp-stream" };
	static const enum rule_proto proto[] = { RULE_PROTO_IP, RULE_PROTO_TCP, RULE_PROTO_UDP,
						 RULE_PROTO_ICMP, RULE_PROTO_TCP_PKT,
						 RULE_PROTO_TCP_STREAM };
	const struct rule *r;
	char buf[256];

	cur_test = "header";
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		snprintf(buf, sizeof(buf), "%s tcp any any -> any any (sid:1;)", acts[i]);
		r = ONE(buf);
		CHECK(r && r->action == act[i] && r->reject == rej[i]);
	}
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		snprintf(buf, sizeof(buf), "alert %s any any -> any any (sid:1;)", protos[i]);
		r = ONE(buf);
		CHECK(r && r->proto == proto[i]);
	}
	r = ONE("alert udp 1.2.3.4 53 <> [10.0.0.0/8, 192.168.1.1] [1024:,!2000] (sid:7;)");
	CHECK(r && r->dir == RULE_DIR_BOTH);
	if (r) {
		CHECK_STR(r->src->text, "1.2.3.4");
		CHECK_STR(r->dst->text, "[10.0.0.0/8, 192.168.1.1]");
		CHECK_STR(r->dport->text, "[1024:,!2000]");
		CHECK(!r->src->any && r->src->n4 == 1 && r->src->n6 == 0);
		CHECK(ipm(r->dst, "10.200.0.1") && ipm(r->dst, "192.168.1.1"));
		CHECK(!ipm(r->dst, "192.168.1.2"));
		CHECK(rule_port_match(r->sport, 53) && !rule_port_match(r->sport, 54));
		CHECK(rule_port_match(r->dport, 1024) && rule_port_match(r->dport, 65535));
		CHECK(!rule_port_match(r->dport, 2000) && !rule_port_match(r->dport, 1023));
		CHECK_EQ(r->gid, 1);
		CHECK_EQ(r->rev, 0);
		CHECK_EQ(r->priority, 3);
		CHECK_STR(r->msg, "");
		CHECK(r->classtype == NULL && r->fast_pattern == -1 && !r->mpm);
		CHECK_STR(r->file, "t.rules");
		CHECK_EQ(r->line, 1);
	}
	r = ONE("alert ip any any -> any any(sid:2;)");   /* '(' right after the port */
	CHECK(r && r->src->any && r->dst->any && r->sport->any && r->dport->any);
	/* the same expression is one shared set */
	{
		struct ruleset *rs = load("alert tcp $HOME_NET any -> any 80 (sid:1;)\n"
					  "alert tcp $HOME_NET any -> any 80 (sid:2;)\n");

		CHECK(rs && ruleset_count(rs) == 2);
		if (rs && ruleset_count(rs) == 2) {
			CHECK(ruleset_get(rs, 0)->src == ruleset_get(rs, 1)->src);
			CHECK(ruleset_get(rs, 0)->dport == ruleset_get(rs, 1)->dport);
			CHECK(ruleset_find(rs, 1, 2) == ruleset_get(rs, 1));
			CHECK(ruleset_find(rs, 1, 3) == NULL && ruleset_find(rs, 2, 1) == NULL);
		}
		ruleset_destroy(rs);
	}
}

/* ------------------------------------------------------------ keywords */

static void test_attributes(void)
{
	const struct rule *r;

	cur_test = "attributes";
	r = ONE(H "msg:\"a \\\"q\\\" \\; \\: \\\\ \\/x\"; sid:2000001; rev:12; gid:3; "
		  "classtype:Trojan-Activity; metadata:created_at 2010_07_30, updated_at 2019_07_26, former_category TROJAN; "
		  "reference:url,www.example.com/a?b=1; reference:cve, 2014-0160; target:dest_ip; "
		  "noalert; sameip;)");
	if (r) {
		CHECK_STR(r->msg, "a \"q\" ; : \\ /x");
		CHECK_EQ(r->sid, 2000001);
		CHECK_EQ(r->rev, 12);
		CHECK_EQ(r->gid, 3);
		CHECK_STR(r->classtype, "trojan-activity");
		CHECK_STR(r->class_desc, "A Network Trojan was detected");
		CHECK_EQ(r->priority, 1);
		CHECK_EQ(r->n_metadata, 3);
		if (r->n_metadata == 3) {
			CHECK_STR(r->metadata[0].key, "created_at");
			CHECK_STR(r->metadata[0].value, "2010_07_30");
			CHECK_STR(r->metadata[2].key, "former_category");
			CHECK_STR(r->metadata[2].value, "TROJAN");
		}
		CHECK_EQ(r->n_refs, 2);
		if (r->n_refs == 2) {
			CHECK_STR(r->refs[0].key, "url");
			CHECK_STR(r->refs[0].value, "www.example.com/a?b=1");
			CHECK_STR(r->refs[1].key, "cve");
			CHECK_STR(r->refs[1].value, "2014-0160");
		}
		CHECK_EQ(r->target, RULE_TARGET_DST);
		CHECK(r->noalert && r->sameip);
		CHECK_EQ(r->n_pm, 0);
	}
	/* priority overrides the class, before or after classtype */
	r = ONE(H "priority:4; classtype:trojan-activity; sid:1;)");
	CHECK(r && r->priority == 4);
	r = ONE(H "classtype:trojan-activity; priority:2; sid:1;)");
	CHECK(r && r->priority == 2);
	r = ONE(H "target:src_ip; sid:1;)");
	CHECK(r && r->target == RULE_TARGET_SRC);
	/* the tolerant no-ops */
	r = ONE(H "sid:5; pkt_data; rev:1; metadata:policy balanced-ips drop, service http;)");
	CHECK(r && r->n_metadata == 2 && r->sid == 5);
}

static void test_content(void)
{
	const struct rule_content *c;
	const struct rule *r;

	cur_test = "content";
	r = ONE(H "content:\"ab|41 42|c|0d0A|\\\"\\;\\:\\\\\"; nocase; offset:3; depth:20; "
		  "content:!\"xyz\"; distance:-2; within:10; rawbytes; sid:1;)");
	c = content_at(r, 0);
	CHECK(bytes_eq(c, "abABc\r\n\";:\\", 11));
	if (c) {
		CHECK_EQ(c->flags, RULE_CONTENT_NOCASE | RULE_CONTENT_OFFSET | RULE_CONTENT_DEPTH);
		CHECK_EQ(c->offset, 3);
		CHECK_EQ(c->depth, 20);
	}
	c = content_at(r, 1);
	CHECK(bytes_eq(c, "xyz", 3));
	if (c) {
		CHECK_EQ(c->flags, RULE_CONTENT_NEGATED | RULE_CONTENT_DISTANCE | RULE_CONTENT_WITHIN |
				   RULE_CONTENT_RAWBYTES);
		CHECK_EQ((uint32_t)c->distance, (uint32_t)-2);
		CHECK_EQ(c->within, 10);
	}
	/* spaces around, ':' unescaped, hex with odd spacing */
	r = ONE(H "content: \"a:b| 00  ff |\" ; sid:1;)");
	CHECK(bytes_eq(content_at(r, 0), "a:b\x00\xff", 5));
	r = ONE(H "content: ! \"q\"; sid:1;)");
	c = content_at(r, 0);
	CHECK(bytes_eq(c, "q", 1) && c && c->flags == RULE_CONTENT_NEGATED);

	SKIP(H "content:\"a|4|\"; sid:1;)", "t.rules:1:43", RULE_SKIP_SYNTAX, "odd number of hex digits");
	SKIP(H "content:\"a|4g|\"; sid:1;)", "t.rules:1:43", RULE_SKIP_SYNTAX, "invalid hex character 'g'");
	SKIP(H "content:\"a|41\"; sid:1;)", "t.rules:1:41", RULE_SKIP_SYNTAX, "unterminated hex section");
	SKIP(H "content:\"a||\"; sid:1;)", "t.rules:1:41", RULE_SKIP_SYNTAX, "empty hex section");
	SKIP(H "content:\"a\\x\"; sid:1;)", "t.rules:1:41", RULE_SKIP_SYNTAX, "invalid escape '\\x'");
	SKIP(H "content:\"\"; sid:1;)", "t.rules:1:40", RULE_SKIP_INVALID, "empty content");
	SKIP(H "content:abc; sid:1;)", "t.rules:1:39", RULE_SKIP_SYNTAX, "content needs a quoted string");
	SKIP(H "content:\"a\"  b; sid:1;)", "t.rules:1:44", RULE_SKIP_SYNTAX, "after the closing quote");
	SKIP(H "content:\"a\"b\"; sid:1;)", "t.rules:1:44", RULE_SKIP_SYNTAX, "';' inside a quoted string");
	SKIP(H "nocase; content:\"a\"; sid:1;)", "t.rules:1:31", RULE_SKIP_INVALID, "'nocase' needs a preceding content");
	SKIP(H "content:\"a\"; nocase; nocase; sid:1;)", "t.rules:1:52", RULE_SKIP_INVALID, "duplicate 'nocase'");
	SKIP(H "content:\"abc\"; depth:2; sid:1;)", "t.rules:1:52", RULE_SKIP_INVALID,
	     "depth 2 is smaller than the content length 3");
	SKIP(H "content:\"abc\"; within:2; sid:1;)", "t.rules:1:53", RULE_SKIP_INVALID,
	     "within 2 is smaller than the content length 3");
	SKIP(H "content:\"a\"; depth:5; distance:1; sid:1;)", "t.rules:1:53", RULE_SKIP_INVALID,
	     "mixes relative");
	SKIP(H "content:\"a\"; offset:1; offset:2; sid:1;)", "t.rules:1:54", RULE_SKIP_INVALID,
	     "duplicate 'offset'");
	SKIP(H "content:\"a\"; offset:x1; sid:1;)", "t.rules:1:51", RULE_SKIP_UNSUPPORTED,
	     "offset from a variable");
	SKIP(H "content:\"a\"; offset:-1; sid:1;)", "t.rules:1:51", RULE_SKIP_INVALID,
	     "must not be negative");
	SKIP(H "content:\"a\"; depth:1x; sid:1;)", "t.rules:1:50", RULE_SKIP_SYNTAX, "bad number for depth");
	SKIP(H "content:\"a\"; offset:70000; sid:1;)", "t.rules:1:51", RULE_SKIP_INVALID, "out of range");
	SKIP(H "content:\"a\"; nocase:1; sid:1;)", "t.rules:1:51", RULE_SKIP_SYNTAX, "'nocase' takes no value");
}

static void test_fast_pattern(void)
{
	const struct rule *r;
	const struct rule_content *c;

	cur_test = "fast_pattern";
	/* longest positive content; negated ones never chosen; first on ties */
	r = ONE(H "content:\"abc\"; content:!\"longest-negated\"; content:\"defg\"; content:\"hijk\"; sid:1;)");
	CHECK(r && r->fast_pattern == 2 && r->mpm);
	r = ONE(H "content:\"abcd\"; pcre:\"/x/\"; content:\"efgh\"; sid:1;)");
	CHECK(r && r->fast_pattern == 0);
	/* explicit wins */
	r = ONE(H "content:\"abcdef\"; content:\"x\"; fast_pattern; sid:1;)");
	CHECK(r && r->fast_pattern == 1);
	c = content_at(r, 1);
	CHECK(c && c->flags == RULE_CONTENT_FP);
	r = ONE(H "content:\"abcdef\"; fast_pattern:only; content:\"x\"; sid:1;)");
	CHECK(r && r->fast_pattern == 0);
	c = content_at(r, 0);
	CHECK(c && c->flags == (RULE_CONTENT_FP | RULE_CONTENT_FP_ONLY));
	r = ONE(H "content:\"abcdef\"; fast_pattern:2,3; sid:1;)");
	c = content_at(r, 0);
	CHECK(c && c->flags == (RULE_CONTENT_FP | RULE_CONTENT_FP_CHOP) && c->fp_off == 2 && c->fp_len == 3);
	/* no positive content: the non-MPM list */
	r = ONE(H "content:!\"a\"; dsize:>5; sid:1;)");
	CHECK(r && r->fast_pattern == -1 && !r->mpm);
	r = ONE(H "flow:established; sid:1;)");
	CHECK(r && r->fast_pattern == -1 && !r->mpm);

	SKIP(H "content:\"ab\"; fast_pattern; content:\"cd\"; fast_pattern; sid:1;)", "t.rules:1:73",
	     RULE_SKIP_INVALID, "only one content of a rule can be the fast_pattern");
	SKIP(H "content:\"ab\"; fast_pattern:1,2; sid:1;)", "t.rules:1:58", RULE_SKIP_INVALID,
	     "beyond the content");
	SKIP(H "content:!\"ab\"; fast_pattern:only; sid:1;)", "t.rules:1:59", RULE_SKIP_INVALID,
	     "fast_pattern:only on a negated content");
	SKIP(H "content:\"ab\"; depth:4; fast_pattern:only; sid:1;)", "t.rules:1:67", RULE_SKIP_INVALID,
	     "fast_pattern:only on a content with");
	SKIP(H "content:\"ab\"; fast_pattern:only; offset:1; sid:1;)", "t.rules:1:64", RULE_SKIP_INVALID,
	     "'offset' on a content with fast_pattern:only");
	SKIP(H "content:\"ab\"; fast_pattern:x; sid:1;)", "t.rules:1:58", RULE_SKIP_SYNTAX,
	     "fast_pattern takes 'only' or 'offset,length'");
	SKIP(H "content:!\"ab\"; within:4; fast_pattern; sid:1;)", "t.rules:1:56", RULE_SKIP_INVALID,
	     "fast_pattern on a negated content with");
	SKIP(H "content:!\"ab\"; fast_pattern; depth:4; sid:1;)", "t.rules:1:60", RULE_SKIP_INVALID,
	     "'depth' on a negated content with fast_pattern");
	SKIP(H "fast_pattern; sid:1;)", "t.rules:1:31", RULE_SKIP_INVALID, "needs a preceding content");
}

static void test_pcre(void)
{
	const struct rule *r;

	cur_test = "pcre";
	r = ONE(H "content:\"a\"; pcre:\"/^b\\;c[\\\"]\\/d/ismxAEGROB\"; pcre:!\"/e/\"; sid:1;)");
	CHECK(r && r->n_pm == 3);
	if (r && r->n_pm == 3) {
		CHECK_EQ(r->pm[1].type, RULE_PM_PCRE);
		CHECK_STR(r->pm[1].pcre.re, "^b\\;c[\\\"]\\/d");
		CHECK_EQ(r->pm[1].pcre.flags,
			 RULE_PCRE_CASELESS | RULE_PCRE_DOTALL | RULE_PCRE_MULTILINE | RULE_PCRE_EXTENDED |
			 RULE_PCRE_ANCHORED | RULE_PCRE_DOLLAR_ENDONLY | RULE_PCRE_UNGREEDY |
			 RULE_PCRE_RELATIVE | RULE_PCRE_MATCH_LIMIT | RULE_PCRE_RAWBYTES);
		CHECK_STR(r->pm[2].pcre.re, "e");
		CHECK_EQ(r->pm[2].pcre.flags, RULE_PCRE_NEGATED);
		CHECK_EQ(r->fast_pattern, 0);
	}
	SKIP(H "pcre:\"/a/U\"; sid:1;)", "t.rules:1:40", RULE_SKIP_APP_LAYER,
	     "pcre modifier 'U' needs app-layer buffers");
	SKIP(H "pcre:\"/a/iH\"; sid:1;)", "t.rules:1:41", RULE_SKIP_APP_LAYER, "pcre modifier 'H'");
	SKIP(H "pcre:\"/a/q\"; sid:1;)", "t.rules:1:40", RULE_SKIP_SYNTAX, "unknown pcre modifier 'q'");
	SKIP(H "pcre:\"a/i\"; sid:1;)", "t.rules:1:37", RULE_SKIP_SYNTAX, "pcre must look like");
	SKIP(H "pcre:\"/abc\"; sid:1;)", "t.rules:1:37", RULE_SKIP_SYNTAX, "missing closing '/'");
	SKIP(H "pcre:\"/a/R\"; sid:1;)", "t.rules:1:39", RULE_SKIP_INVALID, "relative) needs a preceding");
#ifdef RULE_HAVE_PCRE2
	/* error offset 3 in "ab(c" is the end: column of '(' + 2 */
	SKIP(H "pcre:\"/ab(c/\"; sid:1;)", "t.rules:1:42", RULE_SKIP_BAD_PCRE, "pcre: missing closing parenthesis");
	SKIP(H "pcre:\"/a{2,1}/\"; sid:1;)", "t.rules:1:43", RULE_SKIP_BAD_PCRE, "pcre: numbers out of order");
#endif
}

static void test_packet_keywords(void)
{
	const struct rule *r;

	cur_test = "packet keywords";
	r = ONE(H "flow:to_server, established,no_stream; dsize:<10; ttl:>=64; itype:8; icode:0<>3; "
		  "ip_proto:!tcp; flags:SA+,12; sid:1;)");
	if (r) {
		CHECK_EQ(r->flow, RULE_FLOW_TO_SERVER | RULE_FLOW_ESTABLISHED | RULE_FLOW_NO_STREAM);
		CHECK(r->dsize.op == RULE_CMP_LT && r->dsize.lo == 10);
		CHECK(r->ttl.op == RULE_CMP_GE && r->ttl.lo == 64);
		CHECK(r->itype.op == RULE_CMP_EQ && r->itype.lo == 8);
		CHECK(r->icode.op == RULE_CMP_RANGE && r->icode.lo == 0 && r->icode.hi == 3);
		CHECK(rule_cmp_match(&r->icode, 1) && !rule_cmp_match(&r->icode, 3));
		CHECK(r->ip_proto.op == RULE_CMP_NE && r->ip_proto.lo == 6);
		CHECK(r->flags.mod == RULE_FLAGS_PLUS && r->flags.set == (RULE_TCP_SYN | RULE_TCP_ACK));
		CHECK_EQ(r->flags.ignore, RULE_TCP_CWR | RULE_TCP_ECE);
		CHECK(rule_cmp_match(&r->dsize, 9) && !rule_cmp_match(&r->dsize, 10));
	}
	r = ONE(H "flow:from_client,stateless,only_stream; dsize:300<>400; ttl:3; flags:*FPU,CE; ip_proto:>50; sid:1;)");
	if (r) {
		CHECK_EQ(r->flow, RULE_FLOW_TO_SERVER | RULE_FLOW_STATELESS | RULE_FLOW_ONLY_STREAM);
		CHECK(r->dsize.op == RULE_CMP_RANGE && r->dsize.lo == 300 && r->dsize.hi == 400);
		CHECK(r->ttl.op == RULE_CMP_EQ && r->ttl.lo == 3);
		CHECK(r->flags.mod == RULE_FLAGS_ANY);
		CHECK_EQ(r->flags.set, RULE_TCP_FIN | RULE_TCP_PSH | RULE_TCP_URG);
		CHECK_EQ(r->flags.ignore, RULE_TCP_CWR | RULE_TCP_ECE);
		CHECK(r->ip_proto.op == RULE_CMP_GT && r->ip_proto.lo == 50);
	}
	r = ONE(H "flow:to_client,not_established; flags:!R; dsize:>1000; ip_proto:47; itype:!3; sid:1;)");
	if (r) {
		CHECK_EQ(r->flow, RULE_FLOW_TO_CLIENT | RULE_FLOW_NOT_ESTABLISHED);
		CHECK(r->flags.mod == RULE_FLAGS_NOT && r->flags.set == RULE_TCP_RST && r->flags.ignore == 0);
		CHECK(r->dsize.op == RULE_CMP_GT && r->dsize.lo == 1000);
		CHECK(r->ip_proto.op == RULE_CMP_EQ && r->ip_proto.lo == 47);
		CHECK(r->itype.op == RULE_CMP_NE && r->itype.lo == 3);
	}
	/* "!= 0", "<= 8" with spaces (Suricata 7), prefilter accepted, byte_jump of 0 bytes */
	r = ONE(H "itype: != 0; icode: <= 8; prefilter; sid:1;)");
	CHECK(r && r->itype.op == RULE_CMP_NE && r->itype.lo == 0 && r->icode.op == RULE_CMP_LE &&
	      r->icode.lo == 8);
	r = ONE(H "content:\"ab\"; byte_jump:0,0,relative,post_offset -2; sid:1;)");
	CHECK(r && r->pm[1].type == RULE_PM_BYTE_JUMP && r->pm[1].byte_jump.nbytes == 0 &&
	      r->pm[1].byte_jump.post_offset == -2);
	r = ONE(H "flags:0; flow:from_server; ip_proto:ipv6-icmp; sid:1;)");
	CHECK(r && r->flags.mod == RULE_FLAGS_EXACT && r->flags.set == 0 && r->flow == RULE_FLOW_TO_CLIENT &&
	      r->ip_proto.lo == 58);
	r = ONE(H "flags:SFU12; sid:1;)");
	CHECK(r && r->flags.set == (RULE_TCP_SYN | RULE_TCP_FIN | RULE_TCP_URG | RULE_TCP_CWR | RULE_TCP_ECE));
	r = ONE(H "sid:1;)");
	CHECK(r && r->flags.mod == RULE_FLAGS_NONE && r->dsize.op == RULE_CMP_NONE && r->flow == 0);

	SKIP(H "flow:to_server,to_client; sid:1;)", "t.rules:1:46", RULE_SKIP_INVALID, "contradicts");
	SKIP(H "flow:established,sideways; sid:1;)", "t.rules:1:48", RULE_SKIP_SYNTAX,
	     "unknown flow option 'sideways'");
	SKIP(H "dsize:5<>3; sid:1;)", "t.rules:1:37", RULE_SKIP_INVALID, "range 5<>3 is empty");
	SKIP(H "dsize:70000; sid:1;)", "t.rules:1:37", RULE_SKIP_INVALID, "out of range");
	SKIP(H "dsize:1; dsize:2; sid:1;)", "t.rules:1:40", RULE_SKIP_INVALID, "duplicate 'dsize'");
	SKIP(H "ttl:256; sid:1;)", "t.rules:1:35", RULE_SKIP_INVALID, "out of range");
	SKIP(H "flags:SX; sid:1;)", "t.rules:1:38", RULE_SKIP_SYNTAX, "unknown TCP flag 'X'");
	SKIP(H "flags:+S*; sid:1;)", "t.rules:1:39", RULE_SKIP_SYNTAX, "more than one flags modifier");
	SKIP(H "flags:S,Q; sid:1;)", "t.rules:1:39", RULE_SKIP_SYNTAX, "in the mask");
	SKIP(H "flags:SS; sid:1;)", "t.rules:1:38", RULE_SKIP_SYNTAX, "TCP flag 'S' given twice");
	SKIP(H "flags:+; sid:1;)", "t.rules:1:37", RULE_SKIP_SYNTAX, "flags needs at least one flag");
	SKIP(H "flags:0S; sid:1;)", "t.rules:1:37", RULE_SKIP_SYNTAX, "flag '0' (no flags) with other flags");
	SKIP(H "ip_proto:bogus; sid:1;)", "t.rules:1:40", RULE_SKIP_SYNTAX, "unknown ip_proto 'bogus'");
	SKIP(H "ip_proto:6; ip_proto:!17; sid:1;)", "t.rules:1:43", RULE_SKIP_UNSUPPORTED,
	     "more than one ip_proto");
}

static void test_flowbits(void)
{
	const struct rule *r;

	cur_test = "flowbits";
	r = ONE(H "flowbits:set,ET.foo; flowbits:isset,a&b&c; flowbits:isnotset, x|y; "
		  "flowbits:unset,z; flowbits:toggle,t; flowbits:noalert; sid:1;)");
	CHECK(r && r->n_flowbits == 5 && r->noalert);
	if (r && r->n_flowbits == 5) {
		CHECK(r->flowbits[0].cmd == RULE_FB_SET && r->flowbits[0].group == RULE_FB_ONE &&
		      r->flowbits[0].n == 1);
		CHECK_STR(r->flowbits[0].names[0], "ET.foo");
		CHECK(r->flowbits[1].cmd == RULE_FB_ISSET && r->flowbits[1].group == RULE_FB_AND &&
		      r->flowbits[1].n == 3);
		CHECK_STR(r->flowbits[1].names[2], "c");
		CHECK(r->flowbits[2].cmd == RULE_FB_ISNOTSET && r->flowbits[2].group == RULE_FB_OR &&
		      r->flowbits[2].n == 2);
		CHECK_STR(r->flowbits[2].names[0], "x");
		CHECK_STR(r->flowbits[2].names[1], "y");
		CHECK(r->flowbits[3].cmd == RULE_FB_UNSET && r->flowbits[4].cmd == RULE_FB_TOGGLE);
	}
	SKIP(H "flowbits:set,a|b; sid:1;)", "t.rules:1:44", RULE_SKIP_INVALID, "takes one name");
	SKIP(H "flowbits:isset,a|b&c; sid:1;)", "t.rules:1:49", RULE_SKIP_SYNTAX, "mix '&' and '|'");
	SKIP(H "flowbits:frob,a; sid:1;)", "t.rules:1:40", RULE_SKIP_SYNTAX, "unknown flowbits command 'frob'");
	SKIP(H "flowbits:noalert,x; sid:1;)", "t.rules:1:40", RULE_SKIP_SYNTAX, "flowbits:noalert takes no name");
	SKIP(H "flowbits:set,a b; sid:1;)", "t.rules:1:45", RULE_SKIP_SYNTAX, "bad character ' ' in flowbit name");
	SKIP(H "flowbits:isset; sid:1;)", "t.rules:1:40", RULE_SKIP_SYNTAX, "needs a name");
	SKIP(H "flowbits:isset,a||b; sid:1;)", "t.rules:1:48", RULE_SKIP_SYNTAX, "empty flowbit name");
}

static void test_byte_keywords(void)
{
	const struct rule *r;

	cur_test = "byte_test/byte_jump/isdataat";
	r = ONE(H "content:\"a\"; byte_test:4,!&,0x0F,-2,relative,little,bitmask 0x3F; "
		  "byte_test:3,>=,010,0,string,hex; byte_test: 2 , = , 7 , 4 ; sid:1;)");
	CHECK(r && r->n_pm == 4);
	if (r && r->n_pm == 4) {
		const struct rule_byte_test *b = &r->pm[1].byte_test;

		CHECK_EQ(r->pm[1].type, RULE_PM_BYTE_TEST);
		CHECK(b->nbytes == 4 && b->op == RULE_BT_AND && b->negated && b->value == 15);
		CHECK(b->offset == -2 && b->relative && b->endian == RULE_ENDIAN_LITTLE);
		CHECK(b->base == RULE_BASE_BINARY && b->has_bitmask && b->bitmask == 0x3f);
		b = &r->pm[2].byte_test;
		CHECK(b->nbytes == 3 && b->op == RULE_BT_GE && !b->negated && b->value == 8);   /* 010: octal */
		CHECK(b->base == RULE_BASE_HEX && !b->relative && b->endian == RULE_ENDIAN_BIG && !b->has_bitmask);
		b = &r->pm[3].byte_test;
		CHECK(b->nbytes == 2 && b->op == RULE_BT_EQ && b->value == 7 && b->offset == 4);
	}
	r = ONE(H "byte_test:1,<,5,0; byte_test:1,>,5,0; byte_test:1,<=,5,0; byte_test:1,^,5,0; "
		  "byte_test:5,!=,5,0,string,dec; byte_test:2,=,5,0,oct; sid:1;)");
	CHECK(r && r->n_pm == 6);
	if (r && r->n_pm == 6) {
		CHECK(r->pm[0].byte_test.op == RULE_BT_LT && r->pm[1].byte_test.op == RULE_BT_GT);
		CHECK(r->pm[2].byte_test.op == RULE_BT_LE && r->pm[3].byte_test.op == RULE_BT_XOR);
		CHECK(r->pm[4].byte_test.op == RULE_BT_EQ && r->pm[4].byte_test.negated &&
		      r->pm[4].byte_test.base == RULE_BASE_DEC);
		CHECK(r->pm[5].byte_test.base == RULE_BASE_OCT);   /* a base implies string */
	}
	r = ONE(H "content:\"a\"; byte_jump:4,12,relative,multiplier 2,little,align,from_beginning,"
		  "post_offset -3,bitmask 0xff00; byte_jump:2,0,from_end; byte_jump:10,0,string,dec; sid:1;)");
	CHECK(r && r->n_pm == 4);
	if (r && r->n_pm == 4) {
		const struct rule_byte_jump *j = &r->pm[1].byte_jump;

		CHECK_EQ(r->pm[1].type, RULE_PM_BYTE_JUMP);
		CHECK(j->nbytes == 4 && j->offset == 12 && j->relative && j->multiplier == 2);
		CHECK(j->endian == RULE_ENDIAN_LITTLE && j->align && j->from_beginning && !j->from_end);
		CHECK(j->post_offset == -3 && j->has_bitmask && j->bitmask == 0xff00);
		j = &r->pm[2].byte_jump;
		CHECK(j->nbytes == 2 && j->from_end && j->multiplier == 1 && !j->relative && j->post_offset == 0);
		j = &r->pm[3].byte_jump;
		CHECK(j->nbytes == 10 && j->base == RULE_BASE_DEC);
	}
	r = ONE(H "content:\"a\"; isdataat:!1,relative; isdataat:50; isdataat:2,rawbytes; sid:1;)");
	CHECK(r && r->n_pm == 4);
	if (r && r->n_pm == 4) {
		CHECK_EQ(r->pm[1].type, RULE_PM_ISDATAAT);
		CHECK(r->pm[1].isdataat.n == 1 && r->pm[1].isdataat.negated && r->pm[1].isdataat.relative);
		CHECK(r->pm[2].isdataat.n == 50 && !r->pm[2].isdataat.negated && !r->pm[2].isdataat.relative);
		CHECK(r->pm[3].isdataat.rawbytes);
	}
	SKIP(H "byte_test:4,>,1; sid:1;)", "t.rules:1:41", RULE_SKIP_SYNTAX, "byte_test needs bytes,operator,value,offset");
	SKIP(H "byte_test:4,~,1,0; sid:1;)", "t.rules:1:43", RULE_SKIP_SYNTAX, "unknown byte_test operator '~'");
	SKIP(H "byte_test:9,>,1,0; sid:1;)", "t.rules:1:41", RULE_SKIP_INVALID, "9 bytes (binary reads 1 to 8)");
	SKIP(H "byte_test:4,>,1,0,sideways; sid:1;)", "t.rules:1:49", RULE_SKIP_SYNTAX,
	     "unknown byte_test option 'sideways'");
	SKIP(H "byte_test:4,>,1,0,big,little; sid:1;)", "t.rules:1:53", RULE_SKIP_INVALID, "endianness given twice");
	SKIP(H "byte_test:4,>,1,0,dce; sid:1;)", "t.rules:1:49", RULE_SKIP_APP_LAYER, "'dce' needs the DCE/RPC");
	SKIP(H "byte_test:4,>,myvar,0; sid:1;)", "t.rules:1:45", RULE_SKIP_UNSUPPORTED, "value from a variable");
	SKIP(H "byte_test:4,>,1,0,bitmask zz; sid:1;)", "t.rules:1:57", RULE_SKIP_SYNTAX, "bad number for bitmask");
	SKIP(H "byte_jump:4; sid:1;)", "t.rules:1:41", RULE_SKIP_SYNTAX, "byte_jump needs bytes,offset");
	SKIP(H "byte_jump:4,0,from_end,from_beginning; sid:1;)", "t.rules:1:41", RULE_SKIP_INVALID,
	     "from_beginning and from_end");
	SKIP(H "byte_jump:4,0,multiplier 0; sid:1;)", "t.rules:1:56", RULE_SKIP_INVALID, "out of range");
	SKIP(H "byte_jump:4,0,string,little; sid:1;)", "t.rules:1:41", RULE_SKIP_INVALID,
	     "endianness does not apply to 'string'");
	SKIP(H "byte_jump:4,0,hop; sid:1;)", "t.rules:1:45", RULE_SKIP_SYNTAX, "unknown byte_jump option 'hop'");
	SKIP(H "byte_jump:4,0,string,hex,dec; sid:1;)", "t.rules:1:56", RULE_SKIP_INVALID, "number base given twice");
	SKIP(H "isdataat:1,forward; sid:1;)", "t.rules:1:42", RULE_SKIP_SYNTAX, "unknown isdataat option 'forward'");
	SKIP(H "isdataat:!x; sid:1;)", "t.rules:1:41", RULE_SKIP_UNSUPPORTED, "isdataat length from a variable");
}

static void test_threshold(void)
{
	const struct rule *r;

	cur_test = "threshold";
	r = ONE(H "threshold: type both, track by_dst, count 5, seconds 60; sid:1;)");
	CHECK(r && r->threshold.set && r->threshold.type == RULE_THR_BOTH &&
	      r->threshold.track == RULE_TRACK_BY_DST && r->threshold.count == 5 &&
	      r->threshold.seconds == 60 && !r->detection_filter.set);
	r = ONE(H "threshold:seconds 1,count 2,track by_rule,type limit; sid:1;)");
	CHECK(r && r->threshold.type == RULE_THR_LIMIT && r->threshold.track == RULE_TRACK_BY_RULE &&
	      r->threshold.count == 2 && r->threshold.seconds == 1);
	r = ONE(H "threshold:type threshold,track by_both,count 3,seconds 4; sid:1;)");
	CHECK(r && r->threshold.type == RULE_THR_THRESHOLD && r->threshold.track == RULE_TRACK_BY_BOTH);
	r = ONE(H "detection_filter: track by_src, count 10, seconds 30; sid:1;)");
	CHECK(r && r->detection_filter.set && r->detection_filter.track == RULE_TRACK_BY_SRC &&
	      r->detection_filter.count == 10 && r->detection_filter.seconds == 30 && !r->threshold.set);
	SKIP(H "threshold:type limit,track by_src,count 1; sid:1;)", "t.rules:1:31", RULE_SKIP_SYNTAX,
	     "threshold needs type, track, count and seconds");
	SKIP(H "threshold:type often,track by_src,count 1,seconds 1; sid:1;)", "t.rules:1:46",
	     RULE_SKIP_SYNTAX, "type must be limit, threshold, both or backoff");
	SKIP(H "threshold:type limit,track by_dog,count 1,seconds 1; sid:1;)", "t.rules:1:58",
	     RULE_SKIP_SYNTAX, "track must be");
	SKIP(H "threshold:type limit,track by_src,count 1,seconds 1,count 2; sid:1;)", "t.rules:1:83",
	     RULE_SKIP_INVALID, "'count' given twice");
	SKIP(H "detection_filter:type limit,track by_src,count 1,seconds 1; sid:1;)", "t.rules:1:48",
	     RULE_SKIP_SYNTAX, "unknown detection_filter option 'type'");
	SKIP(H "threshold:type limit,track by_src,count 1,seconds 1; "
	       "detection_filter:track by_src,count 1,seconds 1; sid:1;)", "t.rules:1:84",
	     RULE_SKIP_INVALID, "only one threshold or detection_filter");
	/* Suricata 7: backoff with a multiplier, unique_on */
	r = ONE(H "threshold:type backoff,track by_flow,count 3,multiplier 2; sid:1;)");
	CHECK(r && r->threshold.type == RULE_THR_BACKOFF && r->threshold.count == 3 &&
	      r->threshold.multiplier == 2 && r->threshold.track == RULE_TRACK_BY_FLOW);
	r = ONE(H "detection_filter:track by_dst,count 3,seconds 60,unique_on dst_port; sid:1;)");
	CHECK(r && r->detection_filter.unique_on == RULE_UNIQUE_DST_PORT);
	SKIP(H "threshold:type backoff,track by_flow,count 3; sid:1;)", "t.rules:1:31",
	     RULE_SKIP_SYNTAX, "backoff needs track, count and multiplier");
	SKIP(H "threshold:type backoff,track by_flow,count 3,multiplier 1; sid:1;)", "t.rules:1:87",
	     RULE_SKIP_INVALID, "multiplier out of range");
	SKIP(H "threshold:type limit,track by_src,count 1,seconds 1,multiplier 2; sid:1;)",
	     "t.rules:1:31", RULE_SKIP_SYNTAX, "multiplier only with backoff");
	SKIP(H "threshold:type limit,track by_src,count 1,seconds 1,unique_on dst_port; sid:1;)",
	     "t.rules:1:31", RULE_SKIP_INVALID, "unique_on needs detection_filter");
	SKIP(H "detection_filter:track by_rule,count 1,seconds 1,unique_on src_port; sid:1;)",
	     "t.rules:1:31", RULE_SKIP_INVALID, "unique_on needs detection_filter with track by_src or by_dst");
	SKIP(H "detection_filter:track by_src,count 1,seconds 1,unique_on port; sid:1;)",
	     "t.rules:1:89", RULE_SKIP_SYNTAX, "unique_on must be src_port or dst_port");
}

/* ------------------------------------------------------------ skips */

static void test_skips(void)
{
	cur_test = "skips";
	SKIP("alert http any any -> any any (msg:\"x\"; sid:1;)", "t.rules:1:7",
	     RULE_SKIP_UNSUPPORTED_PROTO, "unsupported protocol 'http'");
	SKIP("alert dns any any -> any any (sid:1;)", "t.rules:1:7", RULE_SKIP_UNSUPPORTED_PROTO,
	     "unsupported protocol 'dns'");
	SKIP("alert tcpx any any -> any any (sid:1;)", "t.rules:1:7", RULE_SKIP_SYNTAX,
	     "unknown protocol 'tcpx'");
	SKIP(H "content:\"a\"; http_uri; sid:1;)", "t.rules:1:44", RULE_SKIP_APP_LAYER,
	     "app-layer keyword 'http_uri'");
	SKIP(H "http.uri; content:\"a\"; sid:1;)", "t.rules:1:31", RULE_SKIP_APP_LAYER,
	     "app-layer keyword 'http.uri'");
	SKIP(H "dns.query; sid:1;)", "t.rules:1:31", RULE_SKIP_APP_LAYER, "'dns.query'");
	SKIP(H "tls.sni; sid:1;)", "t.rules:1:31", RULE_SKIP_APP_LAYER, "'tls.sni'");
	SKIP(H "file_data; sid:1;)", "t.rules:1:31", RULE_SKIP_APP_LAYER, "'file_data'");
	SKIP(H "uricontent:\"a\"; sid:1;)", "t.rules:1:31", RULE_SKIP_APP_LAYER, "'uricontent'");
	SKIP(H "foo:bar; sid:1;)", "t.rules:1:31", RULE_SKIP_UNKNOWN_KEYWORD, "unknown keyword 'foo'");
	SKIP(H "tag:session,10,packets; sid:1;)", "t.rules:1:31", RULE_SKIP_UNSUPPORTED,
	     "keyword 'tag' is not supported");
	SKIP(H "content:\"a\"; byte_extract:1,0,x; sid:1;)", "t.rules:1:44", RULE_SKIP_UNSUPPORTED,
	     "keyword 'byte_extract' is not supported");
	SKIP(H "msg:\"no sid\";)", "t.rules:1:1", RULE_SKIP_MISSING_SID, "rule has no sid");
	SKIP("  " H "sid:0;)", "t.rules:1:37", RULE_SKIP_INVALID, "sid out of range");
	SKIP(H "sid:1; sid:2;)", "t.rules:1:38", RULE_SKIP_INVALID, "duplicate 'sid'");
	SKIP(H "sid:1; msg:\"a\"; msg:\"b\";)", "t.rules:1:47", RULE_SKIP_INVALID, "duplicate 'msg'");
	SKIP(H "classtype:no such; sid:1;)", "t.rules:1:41", RULE_SKIP_SYNTAX, "bad classtype");
	SKIP(H "priority:0; sid:1;)", "t.rules:1:40", RULE_SKIP_INVALID, "priority out of range");
	SKIP(H "target:both; sid:1;)", "t.rules:1:38", RULE_SKIP_SYNTAX, "target must be src_ip or dest_ip");
	SKIP(H "reference:nocomma; sid:1;)", "t.rules:1:41", RULE_SKIP_SYNTAX, "reference needs 'type,value'");
	SKIP(H "sid:1; rev:x;)", "t.rules:1:42", RULE_SKIP_SYNTAX, "bad number for rev");
	SKIP(H "sid:4294967296;)", "t.rules:1:35", RULE_SKIP_INVALID, "sid out of range");
	/* duplicate (gid, sid): the first is kept, at its line */
	{
		struct ruleset *rs = load(H "msg:\"one\"; sid:9;)\n" H "msg:\"two\"; sid:9;)\n"
					  H "gid:2; sid:9;)\n");

		CHECK(rs && ruleset_count(rs) == 2 && ruleset_diag_count(rs) == 1);
		if (rs && ruleset_count(rs) == 2) {
			CHECK_STR(ruleset_get(rs, 0)->msg, "one");
			CHECK_EQ(ruleset_get(rs, 1)->gid, 2);
			DIAG(rs, 0, "t.rules:2:46", RULE_SKIP_DUPLICATE_SID,
			     "duplicate sid 9 (gid 1): first defined at t.rules:1");
			CHECK(ruleset_diag(rs, 0) && ruleset_diag(rs, 0)->sid == 9);
		}
		ruleset_destroy(rs);
	}
}

static void test_syntax(void)
{
	cur_test = "syntax";
	SKIP("alarm tcp any any -> any any (sid:1;)", "t.rules:1:1", RULE_SKIP_SYNTAX, "unknown action 'alarm'");
	SKIP("alert tcp any any", "t.rules:1:18", RULE_SKIP_SYNTAX, "missing direction");
	SKIP("alert tcp any any => any any (sid:1;)", "t.rules:1:19", RULE_SKIP_SYNTAX, "bad direction '=>'");
	SKIP("alert tcp any any -> any any sid:1;", "t.rules:1:30", RULE_SKIP_SYNTAX, "expected '('");
	SKIP(H "msg:\"x\"; sid:1;", "t.rules:1:46", RULE_SKIP_SYNTAX, "missing ')' at the end of the rule");
	SKIP(H "msg:\"x\"; sid:1)", "t.rules:1:45", RULE_SKIP_SYNTAX, "missing ';' after 'sid' option");
	SKIP(H "msg:\"x\"; sid:1; ) x", "t.rules:1:49", RULE_SKIP_SYNTAX, "unexpected text after ')'");
	SKIP(H "msg:\"hello)", "t.rules:1:35", RULE_SKIP_SYNTAX, "unterminated quoted string");
	SKIP(H "msg:\"hello; sid:1;)", "t.rules:1:41", RULE_SKIP_SYNTAX,
	     "';' inside a quoted string must be escaped");
	SKIP(H "msg \"x\"; sid:1;)", "t.rules:1:35", RULE_SKIP_SYNTAX, "expected ':' or ';' after 'msg'");
	SKIP(H "msg:\"x\"; ; sid:1;)", "t.rules:1:40", RULE_SKIP_SYNTAX, "expected a keyword");
	SKIP(H "sid:1; msg;)", "t.rules:1:41", RULE_SKIP_SYNTAX, "'msg' needs a value");
	SKIP(H "sid:1; msg)", "t.rules:1:41", RULE_SKIP_SYNTAX, "missing ';' after 'msg'");
	SKIP(H "sid: 12ab;)", "t.rules:1:36", RULE_SKIP_SYNTAX, "bad number for sid: '12ab'");
	/* addresses and ports point at the faulty element */
	SKIP("alert tcp [1.2.3.4,300.1.1.1] any -> any any (sid:1;)", "t.rules:1:20", RULE_SKIP_SYNTAX,
	     "bad address '300.1.1.1'");
	SKIP("alert tcp 1.2.3.4/33 any -> any any (sid:1;)", "t.rules:1:11", RULE_SKIP_SYNTAX,
	     "prefix length 33 too long");
	SKIP("alert tcp [1.2.3.4 any -> any any (sid:1;)", "t.rules:1:11", RULE_SKIP_SYNTAX,
	     "unbalanced '['");
	SKIP("alert tcp any any -> [] any (sid:1;)", "t.rules:1:22", RULE_SKIP_SYNTAX, "empty list");
	SKIP("alert tcp any any -> !any any (sid:1;)", "t.rules:1:22", RULE_SKIP_INVALID,
	     "address '!any' matches nothing");
	SKIP("alert tcp any [80,90:80] -> any any (sid:1;)", "t.rules:1:19", RULE_SKIP_SYNTAX,
	     "empty port range '90:80'");
	SKIP("alert tcp any 65536 -> any any (sid:1;)", "t.rules:1:15", RULE_SKIP_SYNTAX,
	     "port out of range");
	SKIP("alert tcp any [1,2]x -> any any (sid:1;)", "t.rules:1:20", RULE_SKIP_SYNTAX, "unexpected 'x'");
	SKIP("alert tcp any any -> any [!1:65535,!0] (sid:1;)", "t.rules:1:26", RULE_SKIP_INVALID,
	     "matches nothing");
	SKIP("alert tcp any any -> any $NOPE (sid:1;)", "t.rules:1:26", RULE_SKIP_BAD_VARIABLE,
	     "undefined variable $NOPE");
}

/* ------------------------------------------------------------ lines */

static void test_multiline(void)
{
	const char *text =
		"# a comment, then a blank line\n"
		"\n"
		"   # indented comment\n"
		"#alert tcp any any -> any any (msg:\"commented out\"; sid:99;)\n"
		"alert tcp any any -> any any ( \\\n"
		"    msg:\"two\\\n"
		" lines\"; \\\n"
		"    sid:1;)\r\n"
		"alert tcp any any -> any any (msg:\"x\"; \\\n"
		"  content:\"a\"; \\\n"
		"  depth:0; sid:2;)\n"
		"alert tcp any any -> any any (msg:\"x\"; \\\n"
		"  sid:3;\n";
	struct ruleset *rs;
	struct ruleset_stats st;

	cur_test = "multi-line";
	rs = load(text);
	CHECK(rs && ruleset_count(rs) == 1 && ruleset_diag_count(rs) == 2);
	if (!rs)
		return;
	if (ruleset_count(rs) == 1) {
		const struct rule *r = ruleset_get(rs, 0);

		CHECK_STR(r->msg, "two lines");
		CHECK_EQ(r->line, 5);
		CHECK_STR(r->text, "alert tcp any any -> any any (     msg:\"two lines\";     sid:1;)");
	}
	/* "  depth:0;": the value is at column 9 of line 11; the last rule ends
	 * with the input, just after "  sid:3;" */
	DIAG(rs, 0, "t.rules:11:9", RULE_SKIP_INVALID, "depth out of range");
	CHECK(ruleset_diag(rs, 0) && ruleset_diag(rs, 0)->line == 11 && ruleset_diag(rs, 0)->col == 9 &&
	      ruleset_diag(rs, 0)->sid == 2);
	DIAG(rs, 1, "t.rules:13:9", RULE_SKIP_SYNTAX, "missing ')'");
	ruleset_get_stats(rs, &st);
	CHECK_EQ(st.lines, 13);
	CHECK_EQ(st.rules, 3);
	CHECK_EQ(st.commented_rules, 1);
	CHECK_EQ(st.loaded, 1);
	CHECK_EQ(st.skipped, 2);
	ruleset_destroy(rs);
	/* an error on a continuation line points at it */
	SKIP("alert tcp any any -> any any (msg:\"x\"; \\\n  foo:1; sid:1;)", "t.rules:2:3",
	     RULE_SKIP_UNKNOWN_KEYWORD, "unknown keyword 'foo'");
	SKIP("alert tcp any any \\\n-> any any \\\n(sid:1; \\\n  flow:sideways;)", "t.rules:4:8",
	     RULE_SKIP_SYNTAX, "unknown flow option");
}

/* ------------------------------------------------------------ includes */

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[768];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Loads NAME from tmpdir. */
static struct ruleset *load_tmp(const char *name)
{
	struct ruleset *rs = NULL;
	char path[512], err[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (ruleset_load_file(&rs, path, &opts, err, sizeof(err)) != 0) {
		printf("FAIL [%s]: %s\n", cur_test, err);
		failures++;
	}
	return rs;
}

static void test_include(void)
{
	struct ruleset *rs = NULL;
	char path[600], err[512];

	cur_test = "include";
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_rules.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		failures++;
		return;
	}
	snprintf(path, sizeof(path), "%s/sub", tmpdir);
	mkdir(path, 0700);
	write_file("main.rules", "alert tcp any any -> any any (sid:1;)\n"
				 "include sub/a.rules\n"
				 "include \"missing.rules\"\n"
				 "alert tcp any any -> any any (sid:4;)\n");
	write_file("sub/a.rules", "alert tcp any any -> any any (sid:2;)\n"
				  "  include b.rules\n");
	write_file("sub/b.rules", "alert tcp any any -> any any (sid:3;)\n"
				  "alert tcp any any -> any any (bad:1; sid:5;)\n");
	rs = load_tmp("main.rules");
	CHECK(rs && ruleset_count(rs) == 4 && ruleset_diag_count(rs) == 2 && ruleset_find(rs, 1, 3));
	if (rs && ruleset_find(rs, 1, 3)) {
		snprintf(path, sizeof(path), "%s/sub/b.rules", tmpdir);
		CHECK_STR(ruleset_find(rs, 1, 3)->file, path);
		CHECK_EQ(ruleset_find(rs, 1, 3)->line, 1);
		DIAG(rs, 0, "~/sub/b.rules:2:31", RULE_SKIP_UNKNOWN_KEYWORD, "unknown keyword 'bad'");
		DIAG(rs, 1, "~/main.rules:3:10", RULE_SKIP_INCLUDE, "missing.rules': No such file");
	}
	ruleset_destroy(rs);
	/* a cycle: cyc -> c1 -> c2 -> c1; a file including itself */
	write_file("cyc.rules", "include c1.rules\n");
	write_file("c1.rules", "alert tcp any any -> any any (sid:10;)\ninclude c2.rules\n");
	write_file("c2.rules", "alert tcp any any -> any any (sid:11;)\ninclude c1.rules\n");
	rs = load_tmp("cyc.rules");
	CHECK(rs && ruleset_count(rs) == 2 && ruleset_diag_count(rs) == 1);
	if (rs) {
		DIAG(rs, 0, "~/c2.rules:2:9", RULE_SKIP_INCLUDE, "include cycle: ");
		snprintf(path, sizeof(path), "c1.rules -> %s/c2.rules -> %s/c1.rules", tmpdir, tmpdir);
		CHECK(ruleset_diag(rs, 0) && strstr(ruleset_diag(rs, 0)->msg, path) != NULL);
	}
	ruleset_destroy(rs);
	write_file("self.rules", "include self.rules\n");
	rs = load_tmp("self.rules");
	CHECK(rs && ruleset_diag_count(rs) == 1);
	if (rs)
		DIAG(rs, 0, "~/self.rules:1:9", RULE_SKIP_INCLUDE, "include cycle");
	ruleset_destroy(rs);
	/* depth: d0 -> d1 -> ... -> d9 */
	for (int i = 0; i <= 9; i++) {
		char name[32], text[128];

		snprintf(name, sizeof(name), "d%d.rules", i);
		snprintf(text, sizeof(text), "alert tcp any any -> any any (sid:%d;)\ninclude d%d.rules\n",
			 100 + i, i + 1);
		write_file(name, text);
	}
	rs = load_tmp("d0.rules");
	CHECK(rs && ruleset_count(rs) == 9 && ruleset_diag_count(rs) == 1);   /* d0 .. d8: depth 8 */
	if (rs)
		DIAG(rs, 0, "~/d8.rules:2:9", RULE_SKIP_INCLUDE, "include depth exceeds 8");
	ruleset_destroy(rs);
	/* no file name; a last rule continued by '\' at the end of the input */
	rs = load("include  \nalert tcp any any -> any any (sid:1;) \\");
	CHECK(rs && ruleset_count(rs) == 1 && ruleset_diag_count(rs) == 1);
	if (rs)
		DIAG(rs, 0, "t.rules:1:10", RULE_SKIP_INCLUDE, "include needs a file name");
	ruleset_destroy(rs);
	/* disabled includes, a missing top file */
	{
		struct rule_load_opts o = opts;

		o.no_include = true;
		rs = load_opts("include x.rules\n", &o);
		CHECK(rs && ruleset_diag_count(rs) == 1);
		if (rs)
			DIAG(rs, 0, "t.rules:1:9", RULE_SKIP_INCLUDE, "include is disabled");
		ruleset_destroy(rs);
	}
	snprintf(path, sizeof(path), "%s/nope.rules", tmpdir);
	rs = (struct ruleset *)1;
	CHECK(ruleset_load_file(&rs, path, &opts, err, sizeof(err)) == -2 && rs == NULL);
	CHECK(strstr(err, "nope.rules: No such file") != NULL);
	rm_tree(tmpdir);
}

/* ------------------------------------------------------------ variables */

static void test_vars(void)
{
	static const char *const defs[][2] = {
		{ "$NET", "[10.0.0.0/8, $DMZ]" }, { "DMZ", "192.0.2.0/24" }, { "NOT_NET", "!$NET" },
		{ "WEB", "[80,$ALT]" }, { "ALT", "8080:8081" }, { "A", "[1.1.1.1,$B]" }, { "B", "$C" },
		{ "C", "$A" }, { "BAD", "[10.0.0.0/8,1.2.3]" }, { "SELF", "$SELF" },
	};
	struct rule_vars *v;
	struct rule_load_opts o = opts;
	const struct rule *r;

	cur_test = "variables";
	CHECK(rule_vars_create(&v) == 0);
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		CHECK(rule_vars_set(v, defs[i][0], defs[i][1]) == 0);
	CHECK(rule_vars_set(v, "bad name", "x") == -22);
	CHECK(rule_vars_set(v, "", "x") == -22);
	CHECK_STR(rule_vars_get(v, "$DMZ"), "192.0.2.0/24");
	CHECK(rule_vars_get(v, "NOPE") == NULL);
	CHECK(rule_vars_set(v, "DMZ", "198.51.100.0/24") == 0);   /* replaced */
	CHECK_STR(rule_vars_get(v, "DMZ"), "198.51.100.0/24");
	o.vars = v;
	{
		struct ruleset *rs = load_opts("alert tcp $NET any -> $NOT_NET $WEB (sid:1;)", &o);

		r = rs && ruleset_count(rs) == 1 ? ruleset_get(rs, 0) : NULL;
		CHECK(r != NULL);
		if (r) {
			CHECK(ipm(r->src, "10.9.9.9") && ipm(r->src, "198.51.100.7"));
			CHECK(!ipm(r->src, "192.0.2.1") && !ipm(r->src, "::1"));
			CHECK(!ipm(r->dst, "10.9.9.9") && ipm(r->dst, "192.0.2.1"));
			CHECK(ipm(r->dst, "2001:db8::1"));
			CHECK(rule_port_match(r->dport, 80) && rule_port_match(r->dport, 8081));
			CHECK(!rule_port_match(r->dport, 8082) && !rule_port_match(r->dport, 81));
		}
		ruleset_destroy(rs);
		rs = load_opts("alert tcp $A any -> any any (sid:1;)\n"
			       "alert tcp any any -> [$BAD] any (sid:2;)\n"
			       "alert tcp any any -> any $SELF (sid:3;)\n"
			       "alert tcp any any -> any $DMZ (sid:4;)\n"
			       "alert tcp any $ (sid:5;)\n", &o);
		CHECK(rs && ruleset_count(rs) == 0 && ruleset_diag_count(rs) == 5);
		if (rs) {
			DIAG(rs, 0, "t.rules:1:11", RULE_SKIP_BAD_VARIABLE,
			     "variable $A: variable $B: variable $C: variable cycle: $A -> $B -> $C -> $A");
			DIAG(rs, 1, "t.rules:2:23", RULE_SKIP_BAD_VARIABLE, "variable $BAD: bad address '1.2.3'");
			DIAG(rs, 2, "t.rules:3:26", RULE_SKIP_BAD_VARIABLE,
			     "variable $SELF: variable cycle: $SELF -> $SELF");
			/* an address variable used as a port */
			DIAG(rs, 3, "t.rules:4:26", RULE_SKIP_BAD_VARIABLE,
			     "variable $DMZ: bad port '198.51.100.0/24'");
			DIAG(rs, 4, "t.rules:5:15", RULE_SKIP_SYNTAX, "missing variable name after '$'");
		}
		ruleset_destroy(rs);
	}
	/* fan-out is bounded (a "billion laughs" of variables) */
	{
		struct rule_vars *w;
		struct rule_load_opts ow = opts;
		struct ruleset *rs;

		CHECK(rule_vars_create(&w) == 0);
		CHECK(rule_vars_set(w, "L0", "1.2.3.4") == 0);
		for (int i = 1; i <= 12; i++) {
			char name[16], val[64];

			snprintf(name, sizeof(name), "L%d", i);
			snprintf(val, sizeof(val), "[$L%d,$L%d,$L%d,$L%d]", i - 1, i - 1, i - 1, i - 1);
			CHECK(rule_vars_set(w, name, val) == 0);
		}
		ow.vars = w;
		rs = load_opts("alert tcp $L12 any -> any any (sid:1;)\nalert tcp $L5 any -> any any (sid:2;)\n", &ow);
		CHECK(rs && ruleset_count(rs) == 1 && ruleset_diag_count(rs) == 1);
		if (rs)
			DIAG(rs, 0, "t.rules:1:11", RULE_SKIP_BAD_VARIABLE, "more than 4096 variable references");
		ruleset_destroy(rs);
		rule_vars_destroy(w);
	}
	/* a long list is linear-ish: 50000 addresses */
	{
		size_t cap = 50000 * 16 + 128, w = 0;
		char *big = malloc(cap);
		struct ruleset *rs;

		w += (size_t)snprintf(big + w, cap - w, "alert tcp [");
		for (int i = 0; i < 50000; i++)
			w += (size_t)snprintf(big + w, cap - w, "%s10.%d.%d.1", i ? "," : "", i / 256 % 256, i % 256);
		snprintf(big + w, cap - w, "] any -> any any (sid:1;)");
		rs = load(big);
		CHECK(rs && ruleset_count(rs) == 1);
		if (rs && ruleset_count(rs) == 1)   /* 10.x.y.1: none adjacent */
			CHECK_EQ(ruleset_get(rs, 0)->src->n4, 50000);
		ruleset_destroy(rs);
		free(big);
	}
	/* Suricata's stock variables */
	{
		struct rule_addrset *s = addr("$EXTERNAL_NET");
		struct rule_portset *p = ports("$FILE_DATA_PORTS");

		if (s) {
			CHECK(ipm(s, "8.8.8.8") && !ipm(s, "172.16.0.1") && !ipm(s, "10.1.1.1"));
			CHECK(ipm(s, "172.32.0.0") && ipm(s, "::"));
			CHECK_EQ(s->n4, 4);
			CHECK(s->n6 == 1 && !s->any);
		}
		if (p)
			CHECK(p->n == 3 && rule_port_match(p, 80) && rule_port_match(p, 143) && !rule_port_match(p, 81));
		rule_addrset_destroy(s);
		rule_portset_destroy(p);
	}
	rule_vars_destroy(v);
	rule_vars_destroy(NULL);
}

/* ------------------------------------------------------------ matching */

static void test_addr_match(void)
{
	struct rule_addrset *s;
	struct rule_portset *p;
	char err[256];

	cur_test = "address/port matching";
	s = addr("any");
	CHECK(s && s->any && ipm(s, "0.0.0.0") && ipm(s, "255.255.255.255") &&
	      ipm(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	if (s) {
		uint8_t a[16] = { 0 };

		CHECK(!rule_addr_match(s, a, 0) && !rule_addr_match(s, a, 5));
	}
	rule_addrset_destroy(s);
	s = addr("[10.0.0.0/8,![10.1.0.0/16,!10.1.2.0/24],192.168.1.0/255.255.255.0,1.1.1.5-1.1.1.9]");
	if (s) {
		CHECK(ipm(s, "10.0.0.1") && ipm(s, "10.255.255.255"));
		CHECK(!ipm(s, "10.1.0.0") && !ipm(s, "10.1.1.255") && !ipm(s, "10.1.3.0"));
		CHECK(ipm(s, "10.1.2.0") && ipm(s, "10.1.2.255"));
		CHECK(ipm(s, "192.168.1.77") && !ipm(s, "192.168.2.1"));
		CHECK(ipm(s, "1.1.1.5") && ipm(s, "1.1.1.9") && !ipm(s, "1.1.1.10"));
		CHECK(!ipm(s, "1.1.1.4") && !ipm(s, "::a01:1"));
		CHECK_EQ(s->n6, 0);
		CHECK(s->n4 == 5 && s->v4[0].lo == 0x01010105 && s->v4[0].hi == 0x01010109);
	}
	rule_addrset_destroy(s);
	/* negation alone: everything else, both families; host bits masked */
	s = addr("![192.168.0.0/16, 2001:db8::/32]");
	if (s) {
		CHECK(!ipm(s, "192.168.3.4") && ipm(s, "192.169.0.0") && ipm(s, "192.167.255.255"));
		CHECK(!ipm(s, "2001:db8:ffff::1") && ipm(s, "2001:db9::") && ipm(s, "::1"));
		CHECK(s->n4 == 2 && s->n6 == 2);
	}
	rule_addrset_destroy(s);
	s = addr("[2001:db8::1:2/112, ::ffff:0:0/96, fe80::1-fe80::ff, 1.2.3.99/24]");
	if (s) {
		CHECK(ipm(s, "2001:db8::1:0") && ipm(s, "2001:db8::1:ffff") && !ipm(s, "2001:db8::2:0"));
		CHECK(ipm(s, "::ffff:1.2.3.4") && ipm(s, "fe80::80") && !ipm(s, "fe80::100"));
		CHECK(ipm(s, "1.2.3.0") && ipm(s, "1.2.3.255") && !ipm(s, "1.2.4.0"));
		CHECK(s->n6 == 3 && s->n4 == 1);
	}
	rule_addrset_destroy(s);
	s = addr("[0.0.0.0/0,::/0]");
	CHECK(s && s->any);
	rule_addrset_destroy(s);
	s = addr("[1.0.0.0/8, 2.0.0.0/8, 1.128.0.0/9]");   /* adjacent ranges merge */
	CHECK(s && s->n4 == 1 && s->v4[0].lo == 0x01000000 && s->v4[0].hi == 0x02ffffff);
	rule_addrset_destroy(s);
	CHECK(rule_addrset_parse(&s, "[1.2.3.4, 5.6.7]", NULL, err, sizeof(err)) == -22 && s == NULL);
	CHECK_STR(err, "col 11: bad address '5.6.7'");
	CHECK(rule_addrset_parse(&s, "1.2.3.4/255.0.255.0", NULL, err, sizeof(err)) == -22);
	CHECK_STR(err, "col 1: non-contiguous netmask in '1.2.3.4/255.0.255.0'");
	CHECK(rule_addrset_parse(&s, "[1.2.3.4,![1.2.3.4]]", NULL, err, sizeof(err)) == -22);
	CHECK_STR(err, "col 1: address '[1.2.3.4,![1.2.3.4]]' matches nothing");

	p = ports("[1:1023,!80,![100:200,!150],8080]");
	if (p) {
		CHECK(rule_port_match(p, 1) && rule_port_match(p, 79) && !rule_port_match(p, 80));
		CHECK(!rule_port_match(p, 0) && !rule_port_match(p, 100) && rule_port_match(p, 150));
		CHECK(!rule_port_match(p, 200) && rule_port_match(p, 201) && rule_port_match(p, 1023));
		CHECK(!rule_port_match(p, 1024) && rule_port_match(p, 8080) && !rule_port_match(p, 8081));
		CHECK(p->n == 5 && !p->any);
	}
	rule_portset_destroy(p);
	p = ports(":1023");
	CHECK(p && p->n == 1 && p->r[0].lo == 0 && p->r[0].hi == 1023);
	rule_portset_destroy(p);
	p = ports("!80");
	CHECK(p && p->n == 2 && rule_port_match(p, 0) && rule_port_match(p, 65535) && !rule_port_match(p, 80));
	rule_portset_destroy(p);
	p = ports("[0:,any]");
	CHECK(p && p->any);
	rule_portset_destroy(p);
	CHECK(rule_portset_parse(&p, "[80,:]", NULL, err, sizeof(err)) == -22);
	CHECK_STR(err, "col 5: bad port ':'");
	{
		static const char *const bad[][2] = {
			{ "1.2.3.4/255.255.0.x", "col 1: bad netmask in '1.2.3.4/255.255.0.x'" },
			{ "1.2.3.4/2x", "col 1: bad prefix length in '1.2.3.4/2x'" },
			{ "1.2.3.4/", "col 1: missing prefix length in '1.2.3.4/'" },
			{ "1.2.3.4-::1", "col 1: bad address range '1.2.3.4-::1'" },
			{ "1.2.3.9-1.2.3.4", "col 1: empty address range '1.2.3.9-1.2.3.4'" },
			{ "[1.2.3.4", "col 1: unterminated '['" },
			{ "[1.2.3.4 5.6.7.8]", "col 10: expected ',' or ']' at '5'" },
			{ "[1.2.3.4,]", "col 10: missing address" },
			{ "!", "col 2: missing address" },
			{ "]", "col 1: missing address" },
			{ "1.2.3.4[", "col 8: unexpected '['" },
			{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1.1.1.1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
			  "col 65: lists nested too deep" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			s = (struct rule_addrset *)1;
			CHECK(rule_addrset_parse(&s, bad[i][0], NULL, err, sizeof(err)) == -22 && s == NULL);
			CHECK_STR(err, bad[i][1]);
		}
	}
	rule_addrset_destroy(NULL);
	rule_portset_destroy(NULL);
}

/* ------------------------------------------------------------ classes */

static void test_classes(void)
{
	static const char cfg[] =
		"# comment\n"
		"\n"
		"config classification: not-suspicious,Not Suspicious Traffic,3\n"
		"config classification:  Trojan-Activity , A Network Trojan, was detected , 1\n"
		"config classification: my-class,Mine,7\n";
	struct rule_classes *c = NULL, *d = NULL;
	struct rule_load_opts o = opts;
	char err[256];
	const struct rule *r;

	cur_test = "classification";
	CHECK(rule_classes_load_buffer(&c, "c.config", cfg, sizeof(cfg) - 1, err, sizeof(err)) == 0);
	if (!c)
		return;
	CHECK_EQ(rule_classes_count(c), 3);
	CHECK(rule_classes_find(c, "TROJAN-activity") != NULL);
	if (rule_classes_find(c, "trojan-activity")) {
		CHECK_STR(rule_classes_find(c, "trojan-activity")->name, "trojan-activity");
		CHECK_STR(rule_classes_find(c, "trojan-activity")->desc, "A Network Trojan, was detected");
		CHECK_EQ(rule_classes_find(c, "trojan-activity")->priority, 1);
	}
	o.classes = c;
	r = ONE(H "classtype:my-class; sid:1;)");   /* the built-in table: unknown */
	CHECK(r && r->class_desc == NULL && r->priority == 3);
	ruleset_destroy(one_rs);
	one_rs = load_opts(H "classtype:my-class; sid:1;)", &o);
	r = one_rs && ruleset_count(one_rs) == 1 ? ruleset_get(one_rs, 0) : NULL;
	CHECK(r && r->priority == 7 && strcmp(r->classtype, "my-class") == 0 && strcmp(r->class_desc, "Mine") == 0);
	/* unknown classtype: a warning, priority 3; strict: an error */
	ruleset_destroy(one_rs);
	one_rs = load_opts(H "classtype:attempted-admin; sid:1;)", &o);
	CHECK(one_rs && ruleset_count(one_rs) == 1 && ruleset_diag_count(one_rs) == 1);
	if (one_rs && ruleset_count(one_rs) == 1) {
		r = ruleset_get(one_rs, 0);
		CHECK(r->priority == 3 && r->class_desc == NULL && strcmp(r->classtype, "attempted-admin") == 0);
		DIAG(one_rs, 0, "t.rules:1:41", RULE_SKIP_NONE, "unknown classtype 'attempted-admin', priority 3");
	}
	o.strict = true;
	{
		struct ruleset *rs = (struct ruleset *)1;
		const char *t = H "classtype:attempted-admin; sid:1;)";
		int rc = ruleset_load_buffer(&rs, "t.rules", t, strlen(t), &o, err, sizeof(err));

		CHECK(rc == -22 && rs == NULL);
		CHECK_STR(err, "t.rules:1:41: unknown classtype 'attempted-admin'");
	}
	rule_classes_destroy(c);
	/* the built-in table */
	CHECK(rule_classes_create_default(&d) == 0 && d);
	if (d) {
		CHECK(rule_classes_count(d) >= 40);
		CHECK(rule_classes_find(d, "attempted-admin") && rule_classes_find(d, "attempted-admin")->priority == 1);
		CHECK(rule_classes_find(d, "icmp-event") && rule_classes_find(d, "icmp-event")->priority == 3);
	}
	rule_classes_destroy(d);
	rule_classes_destroy(NULL);
	/* malformed files */
	{
		static const struct {
			const char *text, *err;
		} bad[] = {
			{ "config classification: a,b\n", "c:1:27: missing priority" },
			{ "\nconfig classification: a,b,x\n", "c:2:28: bad priority 'x' (1-255)" },
			{ "config classification: a,b,0\n", "c:1:28: bad priority '0' (1-255)" },
			{ "config classif: a,b,1\n", "c:1:8: expected 'config classification: name,description,priority'" },
			{ "config classification: a b,c,1\n", "c:1:24: bad classtype name 'a b'" },
			{ "config classification: ,c,1\n", "c:1:24: expected 'name,description,priority'" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			c = (struct rule_classes *)1;
			CHECK(rule_classes_load_buffer(&c, "c", bad[i].text, strlen(bad[i].text), err, sizeof(err)) == -22);
			CHECK(c == NULL);
			CHECK_STR(err, bad[i].err);
		}
	}
	CHECK(rule_classes_load(&c, "/nonexistent/classification.config", err, sizeof(err)) == -2);
}

/* ------------------------------------------------------------ report */

static void test_report(void)
{
	static const char text[] =
		H "msg:\"ok\"; content:\"abc\"; sid:1;)\n"
		H "msg:\"ok\"; sid:2;)\n"
		"alert http any any -> any any (sid:3;)\n"
		"alert dns any any -> any any (sid:4;)\n"
		"alert http any any -> any any (sid:5;)\n"
		H "foo; sid:6;)\n"
		H "foo; sid:7;)\n"
		H "bar; sid:8;)\n"
		H "content:\"a\"; http_uri; sid:9;)\n"
		H "content:\"a\"; sid:1;)\n"
		H "msg:\"x\";)\n"
		H "pcre:\"/(/\"; sid:10;)\n"
		"alert tcp $X any -> any any (sid:11;)\n"
		H "tag:session,1,packets; sid:12;)\n"
		H "sid:13\n"
		H "classtype:nope; sid:14;)\n";
	static const size_t want[RULE_SKIP__COUNT] = {
		[RULE_SKIP_NONE] = 1, [RULE_SKIP_SYNTAX] = 1, [RULE_SKIP_UNSUPPORTED_PROTO] = 3,
		[RULE_SKIP_APP_LAYER] = 1, [RULE_SKIP_UNKNOWN_KEYWORD] = 3, [RULE_SKIP_UNSUPPORTED] = 1,
		[RULE_SKIP_MISSING_SID] = 1, [RULE_SKIP_DUPLICATE_SID] = 1, [RULE_SKIP_BAD_VARIABLE] = 1,
		[RULE_SKIP_BAD_PCRE] = PCRE2,
	};
	struct ruleset *rs;
	struct ruleset_stats st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	cur_test = "report";
	rs = load(text);
	if (!rs)
		return;
	ruleset_get_stats(rs, &st);
	CHECK(st.files == 1 && st.lines == 16 && st.rules == 16 && st.warnings == 1);
	CHECK_EQ(st.loaded, 3 + !PCRE2);   /* without PCRE2, "/(/" is not checked */
	CHECK_EQ(st.skipped, 13 - !PCRE2);
	CHECK_EQ(st.non_mpm, 2 + !PCRE2);
	for (int r = 0; r < RULE_SKIP__COUNT; r++)
		CHECK_EQ(st.by_reason[r], want[r]);
	CHECK_EQ(ruleset_diag_count(rs), 14 - !PCRE2);
	for (size_t i = 0; i < ruleset_diag_count(rs); i++)
		CHECK(ruleset_diag(rs, i)->sid != 0 || ruleset_diag(rs, i)->reason == RULE_SKIP_MISSING_SID);
	f = open_memstream(&buf, &len);
	if (f) {
		ruleset_report(rs, f);
		fclose(f);
		CHECK(strstr(buf, "rules: 1 files, 16 lines, 16 rule statements (0 more commented out)\n") != NULL);
		CHECK(!PCRE2 || strstr(buf, "  loaded  3 (2 without a fast pattern: non-MPM list)\n  skipped 13\n"));
		CHECK(strstr(buf, "    unsupported protocol        3  http 2, dns 1\n") != NULL);
		CHECK(strstr(buf, "    unknown keyword             3  foo 2, bar 1\n") != NULL);
		CHECK(strstr(buf, "    app-layer keyword           1  http_uri 1\n") != NULL);
		CHECK(strstr(buf, "    unsupported keyword         1  tag 1\n") != NULL);
		CHECK(strstr(buf, "    duplicate sid               1\n") != NULL);
		CHECK(strstr(buf, "  warnings 1\n") != NULL);
		if (failures)
			fputs(buf, stdout);
		free(buf);
	}
	for (int r = 0; r < RULE_SKIP__COUNT; r++)
		CHECK(strcmp(rule_skip_reason_name((enum rule_skip_reason)r), "?") != 0);
	ruleset_destroy(rs);
	/* strict: the first bad rule fails the load, with where and why */
	{
		struct rule_load_opts o = opts;
		struct ruleset *s = (struct ruleset *)1;
		char err[256];
		int rc;

		o.strict = true;
		rc = ruleset_load_buffer(&s, "t.rules", text, sizeof(text) - 1, &o, err, sizeof(err));
		CHECK(rc == -22 && s == NULL);
		CHECK_STR(err, "t.rules:3:7: unsupported protocol 'http'");
	}
	CHECK(ruleset_count(NULL) == 0 && ruleset_get(NULL, 0) == NULL && ruleset_diag(NULL, 0) == NULL);
	ruleset_destroy(NULL);
}

/* ------------------------------------------------- the public rulesets */

static const char *const supported_kw[] = {
	"msg", "sid", "rev", "gid", "classtype", "priority", "metadata", "reference", "target",
	"content", "nocase", "offset", "depth", "distance", "within", "fast_pattern", "rawbytes",
	"pcre", "flow", "dsize", "flags", "ttl", "itype", "icode", "ip_proto", "sameip", "flowbits",
	"byte_test", "byte_jump", "isdataat", "threshold", "detection_filter", "noalert", "pkt_data",
};

/* An independent look at a rule: protocol and keyword names (split at ';'
 * outside quotes).  True when everything it uses is on the supported
 * list, i.e. the parser must have loaded it. */
static bool only_supported(const char *l)
{
	static const char *const protos[] = { "ip", "tcp", "udp", "icmp", "tcp-pkt", "tcp-stream" };
	char proto[32] = "";
	const char *p = strchr(l, '(');
	bool ok = false, inq = false;

	if (sscanf(l, "%*s %31s", proto) != 1 || !p)
		return false;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		ok |= strcmp(proto, protos[i]) == 0;
	if (!ok)
		return false;
	for (const char *opt = p + 1; *opt && ok;) {
		const char *q = opt, *e;
		char name[64];
		size_t n;

		while (*q == ' ')
			q++;
		for (e = q; *e; e++) {
			if (*e == '\\' && e[1]) {
				e++;
				continue;
			}
			if (*e == '"')
				inq = !inq;
			else if (*e == ';' && !inq)
				break;
		}
		if (!*e)
			break;
		n = strcspn(q, ":;");
		while (n && q[n - 1] == ' ')
			n--;
		snprintf(name, sizeof(name), "%.*s", (int)n, q);
		ok = false;
		for (size_t i = 0; i < sizeof(supported_kw) / sizeof(supported_kw[0]); i++)
			ok |= strcmp(name, supported_kw[i]) == 0;
		if (ok && strcmp(name, "pcre") == 0) {
			/* the modifiers after the last '/' */
			const char *last = NULL;

			for (const char *k = q; k < e; k++)
				if (*k == '/')
					last = k;
			for (const char *k = last ? last + 1 : e; k < e && *k != '"'; k++)
				ok &= strchr("UIPQHDMCSYVWZK", *k) == NULL;
		}
		if (ok && (strcmp(name, "byte_test") == 0 || strcmp(name, "byte_jump") == 0)) {
			char v[256];

			snprintf(v, sizeof(v), "%.*s", (int)(e - q), q);
			ok = strstr(v, "dce") == NULL;
		}
		opt = e + 1;
	}
	return ok;
}

struct lines {
	char **l;
	size_t n;
};

static void read_lines(const char *path, struct lines *out)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;

	out->l = NULL;
	out->n = 0;
	if (!f)
		return;
	while ((got = getline(&line, &cap, f)) >= 0) {
		out->l = realloc(out->l, (out->n + 1) * sizeof(*out->l));
		out->l[out->n++] = strdup(line);
	}
	free(line);
	fclose(f);
}

static void free_lines(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->l[i]);
	free(ls->l);
}

static void check_public(const char *label, const char *path, const struct rule_load_opts *o)
{
	struct ruleset *rs = NULL;
	struct ruleset_stats st;
	struct timespec a, b;
	struct lines ls = { NULL, 0 };
	const char *lfile = NULL;
	char err[512];
	size_t bad = 0, skips = 0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = ruleset_load_file(&rs, path, o, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(rc == 0);
	if (rc) {
		printf("    %s: %s\n", label, err);
		return;
	}
	ruleset_get_stats(rs, &st);
	printf("\n== %s: %zu loaded, %zu skipped, %.1f ms\n", label, st.loaded, st.skipped,
	       (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
	ruleset_report(rs, stdout);
	CHECK_EQ(st.loaded + st.skipped, st.rules);
	CHECK_EQ(st.loaded, ruleset_count(rs));
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rule_diag *d = ruleset_diag(rs, i);

		if (d->reason == RULE_SKIP_NONE || d->reason == RULE_SKIP_INCLUDE)
			continue;
		skips++;
		CHECK(d->msg[0] != '\0');
		switch (d->reason) {
		case RULE_SKIP_UNSUPPORTED_PROTO:
		case RULE_SKIP_APP_LAYER:
		case RULE_SKIP_UNKNOWN_KEYWORD:
		case RULE_SKIP_UNSUPPORTED:
			CHECK(d->keyword != NULL);
			break;
		default:
			if (bad++ < 20)
				printf("FAIL [%s]: %s: [%s] %s\n", cur_test, d->where,
				       rule_skip_reason_name(d->reason), d->msg);
			failures++;
			continue;
		}
		/* the independent check, on the rule's own line (diagnostics come
		 * in file order: one file's lines are read once) */
		if (!lfile || strcmp(lfile, d->file) != 0) {
			free_lines(&ls);
			read_lines(d->file, &ls);
			lfile = d->file;
		}
		if (d->line >= 1 && d->line <= ls.n && only_supported(ls.l[d->line - 1])) {
			if (bad++ < 20)
				printf("FAIL [%s]: %s: skipped but only uses supported keywords: %s\n",
				       cur_test, d->where, d->msg);
			failures++;
		}
	}
	free_lines(&ls);
	CHECK_EQ(skips, st.skipped);
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_get(rs, i);

		CHECK(r->sid != 0 && r->src && r->dst && r->sport && r->dport && r->text && r->file);
		CHECK(r->mpm == (r->fast_pattern >= 0));
		if (r->fast_pattern >= 0)
			CHECK(r->pm[r->fast_pattern].type == RULE_PM_CONTENT);
	}
	ruleset_destroy(rs);
}

static void test_public(const char *data)
{
	char p17[1024], etdir[1024], cls[1024], idx[] = "/tmp/test_rules_et.XXXXXX";
	struct rule_classes *classes = NULL;
	struct rule_load_opts o = { 0 };
	struct stat st;
	glob_t g;
	char err[512];
	int fd;

	cur_test = "public rulesets";
	/* the independent classifier itself */
	CHECK(only_supported("alert tcp any any -> any 80 (msg:\"a;b\"; content:\"x\"; nocase; sid:1;)\n"));
	CHECK(!only_supported("alert tcp any any -> any 80 (content:\"x\"; http_uri; sid:1;)\n"));
	CHECK(!only_supported("alert tcp any any -> any 80 (pcre:\"/a/Ui\"; sid:1;)\n"));
	CHECK(!only_supported("alert http any any -> any 80 (sid:1;)\n"));
	snprintf(p17, sizeof(p17), "%s/rules/et-open-2017/et-open-2017-snort29-all.rules", data);
	snprintf(etdir, sizeof(etdir), "%s/rules/et-open", data);
	snprintf(cls, sizeof(cls), "%s/rules/et-open/classification.config", data);
	if (stat(p17, &st) != 0 && stat(etdir, &st) != 0) {
		printf("public rulesets: not found under %s, skipped\n", data);
		return;
	}
	if (rule_classes_load(&classes, cls, err, sizeof(err)) != 0) {
		printf("public rulesets: %s; built-in classes used\n", err);
		classes = NULL;
	}
	o.vars = vars;
	o.classes = classes;
	if (stat(p17, &st) == 0)
		check_public("et-open-2017 (snort 2.9)", p17, &o);
	/* et-open: one index file including every *.rules, so that sids are
	 * checked across files */
	snprintf(etdir, sizeof(etdir), "%s/rules/et-open/*.rules", data);
	if (glob(etdir, 0, NULL, &g) == 0) {
		fd = mkstemp(idx);
		if (fd >= 0) {
			FILE *f = fdopen(fd, "w");

			for (size_t i = 0; f && i < g.gl_pathc; i++) {
				char *abs = realpath(g.gl_pathv[i], NULL);

				fprintf(f, "include %s\n", abs ? abs : g.gl_pathv[i]);
				free(abs);
			}
			if (f)
				fclose(f);
			check_public("et-open (suricata 5)", idx, &o);
			unlink(idx);
		}
		globfree(&g);
	}
	rule_classes_destroy(classes);
}

int main(int argc, char **argv)
{
	if (rule_vars_create(&vars) || rule_vars_set_defaults(vars)) {
		printf("cannot create the variables\n");
		return 1;
	}
	opts.vars = vars;
	test_header();
	test_attributes();
	test_content();
	test_fast_pattern();
	test_pcre();
	test_packet_keywords();
	test_flowbits();
	test_byte_keywords();
	test_threshold();
	test_skips();
	test_syntax();
	test_multiline();
	test_include();
	test_vars();
	test_addr_match();
	test_classes();
	test_report();
	ruleset_destroy(one_rs);
	one_rs = NULL;
	if (argc > 1)
		test_public(argv[1]);
	else
		printf("public rulesets: no data directory given, skipped\n");
	rule_vars_destroy(vars);
	if (failures) {
		printf("%d check(s) failed\n", failures);
		return 1;
	}
	printf("all rules checks passed\n");
	return 0;
}
