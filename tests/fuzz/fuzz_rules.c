/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the rule parser (rules/).
 *
 * Input: a rules file.  It is loaded with a small variables table (nested
 * variables, a cycle) and the built-in classes, includes refused; every
 * rule and diagnostic is then walked and checked against the parser's
 * contract (counts add up, every skip explains itself, the fast pattern is
 * a content, sets match what they say); the same input is loaded again in
 * strict mode, which must fail exactly when a rule was skipped or warned
 * about.  The first
 * line is also parsed as a bare address and port expression.
 *
 * The header is reached by a relative path so that the target builds both
 * with rules_dep and from the rules/ sources alone.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"

static struct rule_vars *vars;

static void setup(void)
{
	static const char *const defs[][2] = {
		{ "HOME_NET", "[10.0.0.0/8,192.168.0.0/16,2001:db8::/32]" },
		{ "EXTERNAL_NET", "!$HOME_NET" },
		{ "HTTP_SERVERS", "[$HOME_NET,!10.1.0.0/16]" },
		{ "HTTP_PORTS", "[80,8000:8100]" },
		{ "SHELLCODE_PORTS", "!80" },
		{ "LOOP_A", "[$LOOP_B,1.2.3.4]" },
		{ "LOOP_B", "$LOOP_A" },
		{ "BAD", "[1.2.3.4," },
	};

	if (vars)
		return;
	if (rule_vars_create(&vars))
		abort();
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (rule_vars_set(vars, defs[i][0], defs[i][1]))
			abort();
}

static void check_rule(const struct rule *r)
{
	static const uint8_t probes[][16] = {
		{ 10, 1, 2, 3 }, { 192, 168, 0, 1 }, { 8, 8, 8, 8 }, { 0, 0, 0, 0 },
		{ 255, 255, 255, 255 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	volatile unsigned acc = 0;

	if (!r || !r->src || !r->dst || !r->sport || !r->dport || !r->msg || !r->text || !r->file)
		abort();
	if (r->sid == 0 || r->line == 0)
		abort();
	if (r->mpm != (r->fast_pattern >= 0) || r->fast_pattern >= (int32_t)r->n_pm)
		abort();
	if (r->fast_pattern >= 0 && r->pm[r->fast_pattern].type != RULE_PM_CONTENT)
		abort();
	for (uint32_t i = 0; i < r->n_pm; i++) {
		const struct rule_pm *pm = &r->pm[i];

		switch (pm->type) {
		case RULE_PM_CONTENT:
			if (pm->content.len == 0 || !pm->content.pat)
				abort();
			if ((pm->content.flags & RULE_CONTENT_FP_CHOP) &&
			    (uint32_t)pm->content.fp_off + pm->content.fp_len > pm->content.len)
				abort();
			acc += pm->content.pat[pm->content.len - 1];
			break;
		case RULE_PM_PCRE:
			acc += (unsigned)strlen(pm->pcre.re);
			break;
		case RULE_PM_BYTE_TEST:
		case RULE_PM_BYTE_JUMP:
		case RULE_PM_ISDATAAT:
			break;
		default:
			abort();
		}
	}
	for (uint32_t i = 0; i < r->n_flowbits; i++) {
		if (r->flowbits[i].n == 0)
			abort();
		for (uint32_t k = 0; k < r->flowbits[i].n; k++)
			acc += (unsigned)strlen(r->flowbits[i].names[k]);
	}
	for (uint32_t i = 0; i < r->n_metadata; i++)
		acc += (unsigned)strlen(r->metadata[i].key) + (unsigned)strlen(r->metadata[i].value);
	for (uint32_t i = 0; i < r->n_refs; i++)
		acc += (unsigned)strlen(r->refs[i].key) + (unsigned)strlen(r->refs[i].value);
	/* the sets are sorted and disjoint, and match their own bounds */
	for (const struct rule_addrset *s = r->src;; s = r->dst) {
		for (uint32_t i = 0; i < s->n4; i++) {
			uint8_t a[16] = { (uint8_t)(s->v4[i].lo >> 24), (uint8_t)(s->v4[i].lo >> 16),
					  (uint8_t)(s->v4[i].lo >> 8), (uint8_t)s->v4[i].lo };

			if (s->v4[i].lo > s->v4[i].hi || (i && s->v4[i].lo <= s->v4[i - 1].hi) ||
			    !rule_addr_match(s, a, 4))
				abort();
		}
		for (uint32_t i = 0; i < s->n6; i++)
			if (memcmp(s->v6[i].lo, s->v6[i].hi, 16) > 0 || !rule_addr_match(s, s->v6[i].hi, 6))
				abort();
		for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++)
			acc += rule_addr_match(s, probes[k], k < 5 ? 4 : 6);
		if (s == r->dst)
			break;
	}
	for (const struct rule_portset *p = r->sport;; p = r->dport) {
		for (uint32_t i = 0; i < p->n; i++)
			if (p->r[i].lo > p->r[i].hi || (i && p->r[i].lo <= p->r[i - 1].hi) ||
			    !rule_port_match(p, p->r[i].lo) || !rule_port_match(p, p->r[i].hi))
				abort();
		acc += rule_port_match(p, 80);
		if (p == r->dport)
			break;
	}
	(void)acc;
}

static void bare_sets(const uint8_t *data, size_t size)
{
	char line[256];
	size_t n = 0;
	struct rule_addrset *a = NULL;
	struct rule_portset *p = NULL;
	char err[128];

	while (n < size && n < sizeof(line) - 1 && data[n] != '\n' && data[n] != '\0') {
		line[n] = (char)data[n];
		n++;
	}
	line[n] = '\0';
	if (rule_addrset_parse(&a, line, vars, err, sizeof(err)) == 0) {
		if (!a || (a->n4 == 0 && a->n6 == 0))
			abort();
	} else if (a || !err[0]) {
		abort();
	}
	if (rule_portset_parse(&p, line, vars, err, sizeof(err)) == 0) {
		if (!p || p->n == 0)
			abort();
	} else if (p || !err[0]) {
		abort();
	}
	rule_addrset_destroy(a);
	rule_portset_destroy(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_load_opts o = { 0 };
	struct ruleset *rs = NULL, *strict = NULL;
	struct ruleset_stats st;
	static FILE *sink;
	size_t skips = 0;
	char err[512];
	int rc;

	setup();
	o.vars = vars;
	o.no_include = true;
	rc = ruleset_load_buffer(&rs, "fuzz.rules", (const char *)data, size, &o, err, sizeof(err));
	if (rc) {
		if (rs || !err[0])
			abort();
		return 0;
	}
	ruleset_get_stats(rs, &st);
	if (st.loaded != ruleset_count(rs) || st.loaded + st.skipped != st.rules)
		abort();
	for (size_t i = 0; i < ruleset_count(rs); i++)
		check_rule(ruleset_get(rs, i));
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rule_diag *d = ruleset_diag(rs, i);

		if (!d->where || !d->msg || !d->msg[0] || !d->file || d->line == 0 || d->col == 0 ||
		    (unsigned)d->reason >= RULE_SKIP__COUNT)
			abort();
		if (d->reason != RULE_SKIP_NONE)
			skips++;
	}
	if (skips != st.skipped + st.by_reason[RULE_SKIP_INCLUDE])
		abort();
	if (!sink)
		sink = fopen("/dev/null", "w");
	if (sink)
		ruleset_report(rs, sink);

	o.strict = true;
	rc = ruleset_load_buffer(&strict, "fuzz.rules", (const char *)data, size, &o, err, sizeof(err));
	/* strict turns every skip and the one warning (unknown classtype) into a failure */
	if ((rc != 0) != (skips != 0 || st.warnings != 0) || (rc && (strict || !err[0])))
		abort();
	if (strict && ruleset_count(strict) != ruleset_count(rs))
		abort();
	ruleset_destroy(strict);
	ruleset_destroy(rs);
	bare_sets(data, size);
	return 0;
}
