/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of threshold and detection_filter bookkeeping
 * (dataplane/detect/detect_thr.c): rules parsed from text, then
 * detect_thr_check() called as the output thread would for each alert, with
 * explicit packet times.  A run of matches is written as a string, one
 * character per match: '1' raised, '0' suppressed.  Semantics are
 * Suricata's (detect-engine-threshold.c).
 *
 * Standalone: prints each failed check with its line; exit 0 iff all pass.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctr.h"
#include "detect.h"
#include "rule.h"

#include "check.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

static struct ctr_block ctrs;

#define CHECK_STR(got, want) check_str(__LINE__, #got, got, want)

static void check_str(int line, const char *what, const char *got, const char *want)
{
	if (!strcmp(got, want))
		return;
	printf("FAIL %s:%d [%s]: %s\n    got:  \"%s\"\n    want: \"%s\"\n", __FILE__, line, cur_test,
	       what, got, want);
	failures++;
}

/* One rule "alert tcp any any -> any any (OPTS sid:1;)". */
static struct ruleset *rule_of(const char *opts)
{
	struct rule_load_opts o = { .strict = true, .no_include = true };
	struct ruleset *rs = NULL;
	char text[512], err[512];

	snprintf(text, sizeof(text), "alert tcp any any -> any any (%s sid:1;)", opts);
	if (ruleset_load_buffer(&rs, "thr.rules", text, strlen(text), &o, err, sizeof(err)) ||
	    ruleset_count(rs) != 1) {
		printf("FAIL [%s]: rule refused: %s\n", cur_test, err);
		failures++;
		ruleset_destroy(rs);
		return NULL;
	}
	return rs;
}

/* Addresses 10.0.0.S -> 10.0.0.D (as 16 bytes), ports 40000 -> DPORT. */
struct key {
	uint8_t src[16], dst[16];
	struct detect_thr_key k;
};

static const struct detect_thr_key *key(struct key *k, int s, int d, uint64_t flow, uint16_t dport,
					uint64_t ts)
{
	memset(k, 0, sizeof(*k));
	k->src[0] = k->dst[0] = 10;
	k->src[2] = (uint8_t)(s >> 8);
	k->src[3] = (uint8_t)s;
	k->dst[3] = (uint8_t)d;
	k->k = (struct detect_thr_key){ k->src, k->dst, 40000, dport, flow, ts };
	return &k->k;
}

/* N matches of rule R from one key, 1 ms apart from T0. */
static const char *seq(struct detect_thr *t, const struct rule *r, unsigned n, uint64_t t0)
{
	static char out[64];
	struct key k;

	for (unsigned i = 0; i < n && i < sizeof(out) - 1; i++)
		out[i] = detect_thr_check(t, r, key(&k, 1, 2, 7, 80, t0 + i * MS)) ? '1' : '0';
	out[n < sizeof(out) - 1 ? n : sizeof(out) - 1] = 0;
	return out;
}

/* One match from src S to dst D on flow F, dport P, at TS. */
static char one(struct detect_thr *t, const struct rule *r, int s, int d, uint64_t f,
		uint16_t p, uint64_t ts)
{
	struct key k;

	return detect_thr_check(t, r, key(&k, s, d, f, p, ts)) ? '1' : '0';
}

static bool setup(struct detect_thr **t, struct ruleset **rs, const char *opts)
{
	memset(&ctrs, 0, sizeof(ctrs));
	*rs = rule_of(opts);
	if (!*rs)
		return false;
	if (detect_thr_create(t, 1024, &ctrs)) {
		printf("FAIL [%s]: detect_thr_create\n", cur_test);
		failures++;
		ruleset_destroy(*rs);
		return false;
	}
	return true;
}

static void teardown(struct detect_thr *t, struct ruleset *rs)
{
	detect_thr_destroy(t);
	ruleset_destroy(rs);
}

static void test_limit(void)
{
	struct detect_thr *t;
	struct ruleset *rs;

	cur_test = "limit";
	if (!setup(&t, &rs, "threshold:type limit, track by_src, count 2, seconds 60;"))
		return;
	const struct rule *r = ruleset_get(rs, 0);
	/* the first 2 of each 60 s window, counted from the window's first match */
	CHECK_STR(seq(t, r, 5, 0), "11000");
	CHECK_STR(seq(t, r, 1, 60 * SEC - 1), "0");
	CHECK_STR(seq(t, r, 3, 60 * SEC), "110");
	CHECK_STR(seq(t, r, 1, 119 * SEC), "0");
	CHECK_STR(seq(t, r, 2, 200 * SEC), "11");
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_SUPPRESSED), 6);
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_THR_FULL), 0);
	teardown(t, rs);
}

static void test_threshold(void)
{
	struct detect_thr *t;
	struct ruleset *rs;

	cur_test = "threshold";
	if (!setup(&t, &rs, "threshold:type threshold, track by_src, count 3, seconds 60;"))
		return;
	const struct rule *r = ruleset_get(rs, 0);
	/* every 3rd match in the window */
	CHECK_STR(seq(t, r, 9, 0), "001001001");
	/* a new window starts the count again */
	CHECK_STR(seq(t, r, 2, 10 * SEC), "00");
	CHECK_STR(seq(t, r, 3, 60 * SEC), "001");
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_SUPPRESSED), 10);
	teardown(t, rs);
}

static void test_both(void)
{
	struct detect_thr *t;
	struct ruleset *rs;

	cur_test = "both";
	if (!setup(&t, &rs, "threshold:type both, track by_src, count 3, seconds 60;"))
		return;
	const struct rule *r = ruleset_get(rs, 0);
	/* once per window, at the 3rd match */
	CHECK_STR(seq(t, r, 6, 0), "001000");
	CHECK_STR(seq(t, r, 4, 30 * SEC), "0000");
	CHECK_STR(seq(t, r, 4, 60 * SEC), "0010");
	teardown(t, rs);
}

static void test_backoff(void)
{
	struct detect_thr *t;
	struct ruleset *rs;

	cur_test = "backoff";
	if (!setup(&t, &rs, "threshold:type backoff, track by_flow, count 1, multiplier 2;"))
		return;
	/* matches 1, 2, 4, 8, 16 */
	CHECK_STR(seq(t, ruleset_get(rs, 0), 20, 0), "11010001000000010000");
	/* no window: an hour later the sequence goes on (next: 32) */
	CHECK_STR(seq(t, ruleset_get(rs, 0), 12, 3600 * SEC), "000000000001");
	teardown(t, rs);

	if (!setup(&t, &rs, "threshold:type backoff, track by_src, count 3, multiplier 2;"))
		return;
	/* matches 3, 6, 12 */
	CHECK_STR(seq(t, ruleset_get(rs, 0), 14, 0), "00100100000100");
	teardown(t, rs);
}

static void test_detection_filter(void)
{
	struct detect_thr *t;
	struct ruleset *rs;

	cur_test = "detection_filter";
	if (!setup(&t, &rs, "detection_filter:track by_src, count 2, seconds 60;"))
		return;
	const struct rule *r = ruleset_get(rs, 0);
	/* every match past the 2nd in the window */
	CHECK_STR(seq(t, r, 5, 0), "00111");
	CHECK_STR(seq(t, r, 3, 60 * SEC), "001");
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_SUPPRESSED), 4);
	teardown(t, rs);

	/* unique_on dst_port: a port already seen does not count */
	if (!setup(&t, &rs, "detection_filter:track by_src, count 2, seconds 60, unique_on dst_port;"))
		return;
	r = ruleset_get(rs, 0);
	CHECK_EQ(one(t, r, 1, 2, 0, 80, 0), '0');
	CHECK_EQ(one(t, r, 1, 2, 0, 80, 1 * MS), '0');
	CHECK_EQ(one(t, r, 1, 3, 0, 81, 2 * MS), '0');
	CHECK_EQ(one(t, r, 1, 3, 0, 81, 3 * MS), '0');
	CHECK_EQ(one(t, r, 1, 2, 0, 82, 4 * MS), '1');
	CHECK_EQ(one(t, r, 1, 4, 0, 83, 5 * MS), '1');
	teardown(t, rs);

	/* without a threshold: always raised, nothing counted */
	if (!setup(&t, &rs, "content:\"x\";"))
		return;
	CHECK_STR(seq(t, ruleset_get(rs, 0), 3, 0), "111");
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_SUPPRESSED), 0);
	teardown(t, rs);
}

/* track: which matches share a count (limit 1: the second of a key is
 * suppressed) */
static void test_track(void)
{
	struct detect_thr *t;
	struct ruleset *rs;
	const struct rule *r;

	cur_test = "track by_src";
	if (setup(&t, &rs, "threshold:type limit, track by_src, count 1, seconds 60;")) {
		r = ruleset_get(rs, 0);
		CHECK_EQ(one(t, r, 1, 2, 7, 80, 0), '1');
		CHECK_EQ(one(t, r, 1, 3, 8, 81, MS), '0');      /* same source */
		CHECK_EQ(one(t, r, 4, 2, 7, 80, MS), '1');
		struct rule other = *r;
		other.sid++;
		CHECK_EQ(one(t, &other, 1, 2, 7, 80, MS), '1');    /* another rule (sid) */
		other = *r;
		CHECK_EQ(one(t, &other, 1, 2, 7, 80, MS), '0');    /* the same sid: a reloaded copy */
		teardown(t, rs);
	}
	cur_test = "track by_dst";
	if (setup(&t, &rs, "threshold:type limit, track by_dst, count 1, seconds 60;")) {
		r = ruleset_get(rs, 0);
		CHECK_EQ(one(t, r, 1, 2, 7, 80, 0), '1');
		CHECK_EQ(one(t, r, 4, 2, 8, 81, MS), '0');      /* same destination */
		CHECK_EQ(one(t, r, 1, 3, 7, 80, MS), '1');
		teardown(t, rs);
	}
	cur_test = "track by_both";
	if (setup(&t, &rs, "threshold:type limit, track by_both, count 1, seconds 60;")) {
		r = ruleset_get(rs, 0);
		CHECK_EQ(one(t, r, 1, 2, 7, 80, 0), '1');
		CHECK_EQ(one(t, r, 1, 3, 7, 80, MS), '1');
		CHECK_EQ(one(t, r, 4, 2, 7, 80, MS), '1');
		CHECK_EQ(one(t, r, 1, 2, 8, 81, MS), '0');      /* same pair */
		teardown(t, rs);
	}
	cur_test = "track by_flow";
	if (setup(&t, &rs, "threshold:type limit, track by_flow, count 1, seconds 60;")) {
		r = ruleset_get(rs, 0);
		CHECK_EQ(one(t, r, 1, 2, 7, 80, 0), '1');
		CHECK_EQ(one(t, r, 4, 5, 7, 81, MS), '0');      /* same flow id */
		CHECK_EQ(one(t, r, 1, 2, 8, 80, MS), '1');
		teardown(t, rs);
	}
	cur_test = "track by_rule";
	if (setup(&t, &rs, "threshold:type limit, track by_rule, count 1, seconds 60;")) {
		r = ruleset_get(rs, 0);
		CHECK_EQ(one(t, r, 1, 2, 7, 80, 0), '1');
		CHECK_EQ(one(t, r, 4, 5, 8, 81, MS), '0');      /* anything, same rule */
		struct rule other = *r;
		other.sid++;
		CHECK_EQ(one(t, &other, 4, 5, 8, 81, MS), '1');   /* another rule */
		teardown(t, rs);
	}
}

static void test_table_full(void)
{
	struct detect_thr *t;
	struct ruleset *rs;
	unsigned tracked = 0, raised = 0;

	cur_test = "table_full";
	memset(&ctrs, 0, sizeof(ctrs));
	rs = rule_of("threshold:type threshold, track by_src, count 2, seconds 60;");
	if (!rs)
		return;
	/* the smallest table: 64 entries */
	if (detect_thr_create(&t, 1, &ctrs)) {
		ruleset_destroy(rs);
		return;
	}
	const struct rule *r = ruleset_get(rs, 0);
	/* a tracked key's first match is suppressed; an untracked one is raised */
	for (int s = 0; s < 200; s++) {
		if (one(t, r, 256 + s, 2, 0, 80, 0) == '1')
			raised++;
		else
			tracked++;
	}
	CHECK_EQ(tracked, 64);
	CHECK_EQ(raised, 136);
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_THR_FULL), 136);
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_SUPPRESSED), 64);
	/* a tracked key goes on counting: its 2nd match is raised */
	unsigned second = 0;
	for (int s = 0; s < 200; s++)
		second += one(t, r, 256 + s, 2, 0, 80, MS) == '1';
	CHECK_EQ(second, 200);
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_THR_FULL), 272);
	/* once the windows have passed, entries are reused */
	CHECK_EQ(one(t, r, 1000, 2, 0, 80, 61 * SEC), '0');
	CHECK_EQ(ctr_read(&ctrs, CTR_DETECT_THR_FULL), 272);
	detect_thr_destroy(t);
	detect_thr_destroy(NULL);
	ruleset_destroy(rs);
}

int main(void)
{
	test_limit();
	test_threshold();
	test_both();
	test_backoff();
	test_detection_filter();
	test_track();
	test_table_full();
	if (failures)
		printf("%d check(s) failed\n", failures);
	else
		printf("all detect threshold checks passed\n");
	return failures ? 1 : 0;
}
