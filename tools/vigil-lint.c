/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil-lint: check rules files without starting the engine.
 *
 *   vigil-lint [-c classification.config] [--var NAME=VALUE]... [--strict] [-q] RULES...
 *
 * Prints, as FILE:LINE:COL: severity: message
 *  - errors: rules that will not load (syntax, invalid values, unknown or
 *    unsupported keywords, duplicate sids, bad variables or pcre), from the
 *    parser's diagnostics;
 *  - warnings from the parser (e.g. an unknown classtype);
 *  - lint warnings about rules that load: contents that can never match
 *    (longer than a depth/dsize allows), rules without a fast pattern
 *    (checked on every packet of their protocol and ports), short fast
 *    patterns, pcre without any content to prefilter it, flowbits that are
 *    checked but never set by any rule (and set but never checked).
 * Then the load report.  Exit status: 0 no errors, 1 errors, 2 usage or
 * unreadable input.  With --strict, warnings count as errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"

#define SHORT_FP 3   /* a fast pattern of this many bytes or fewer is a performance warning */

struct lint {
	unsigned warnings;
	bool quiet;
};

static void warn(struct lint *l, const struct rule *r, const char *fmt, const char *detail)
{
	l->warnings++;
	if (l->quiet)
		return;
	printf("%s:%u:1: warning: sid %u: ", r->file, r->line, r->sid);
	printf(fmt, detail);
	putchar('\n');
}

/* The smallest payload a content can match in, or 0 if unbounded. */
static void check_contents(struct lint *l, const struct rule *r)
{
	bool has_content = false, has_pcre = false;
	char buf[160];

	for (uint32_t i = 0; i < r->n_pm; i++) {
		const struct rule_pm *pm = &r->pm[i];
		if (pm->type == RULE_PM_PCRE)
			has_pcre = true;
		if (pm->type != RULE_PM_CONTENT)
			continue;
		const struct rule_content *c = &pm->content;
		if (!(c->flags & RULE_CONTENT_NEGATED))
			has_content = true;
		if (c->flags & RULE_CONTENT_NEGATED)
			continue;
		/* dsize bounds the payload: a content that needs more can never match */
		uint32_t need = c->len + ((c->flags & RULE_CONTENT_OFFSET) ? (uint32_t)c->offset : 0);
		uint32_t max = 0;
		switch (r->dsize.op) {
		case RULE_CMP_EQ: max = r->dsize.lo; break;
		case RULE_CMP_LT: max = r->dsize.lo ? r->dsize.lo - 1 : 0; break;
		case RULE_CMP_LE: max = r->dsize.lo; break;
		case RULE_CMP_RANGE: max = r->dsize.hi ? r->dsize.hi - 1 : 0; break;
		default: break;
		}
		if (r->dsize.op != RULE_CMP_NONE && max && need > max) {
			snprintf(buf, sizeof(buf), "content %u of %u bytes (+offset) cannot fit dsize %s%u",
				 i + 1, c->len, r->dsize.op == RULE_CMP_EQ ? "" : "<=", max);
			warn(l, r, "never matches: %s", buf);
		}
		if (r->dsize.op == RULE_CMP_EQ && r->dsize.lo == 0 && !(c->flags & RULE_CONTENT_NEGATED))
			warn(l, r, "never matches: %s", "content with dsize:0");
	}
	if (!r->mpm) {
		if (has_pcre)
			warn(l, r, "performance: %s", "pcre without a content to prefilter it runs on every packet of the rule's protocol and ports");
		else if (!has_content && r->n_pm == 0 && r->src->any && r->dst->any && r->sport->any &&
			 r->dport->any && r->flags.mod == RULE_FLAGS_NONE && r->dsize.op == RULE_CMP_NONE &&
			 r->n_flowbits == 0 && r->itype.op == RULE_CMP_NONE)
			warn(l, r, "performance: %s", "no content and no header restriction: evaluated on every packet");
		else if (!has_content)
			warn(l, r, "performance: %s", "no fast pattern (no content): evaluated on every packet of its protocol and ports");
	} else {
		const struct rule_content *fp = &r->pm[r->fast_pattern].content;
		uint32_t len = (fp->flags & RULE_CONTENT_FP_CHOP) ? fp->fp_len : fp->len;
		if (len <= SHORT_FP) {
			snprintf(buf, sizeof(buf), "%u byte(s)", len);
			warn(l, r, "performance: short fast pattern, %s: many candidate matches", buf);
		}
	}
}

/* Flowbit names checked but never set anywhere, and set but never checked. */
static void check_flowbits(struct lint *l, const struct ruleset *rs)
{
	size_t n = ruleset_count(rs), cap = 64, nn = 0;
	struct fbname { const char *name; bool set, checked; const struct rule *first_check; } *fb;

	fb = calloc(cap, sizeof(*fb));
	if (!fb)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = ruleset_get(rs, i);
		for (uint32_t j = 0; j < r->n_flowbits; j++) {
			const struct rule_flowbit *b = &r->flowbits[j];
			bool set = b->cmd == RULE_FB_SET || b->cmd == RULE_FB_TOGGLE || b->cmd == RULE_FB_UNSET;
			for (uint32_t k = 0; k < b->n; k++) {
				size_t x;
				for (x = 0; x < nn && strcmp(fb[x].name, b->names[k]); x++)
					;
				if (x == nn) {
					if (nn == cap) {
						void *p = realloc(fb, 2 * cap * sizeof(*fb));
						if (!p)
							goto out;
						fb = p;
						cap *= 2;
					}
					fb[nn++] = (struct fbname){ .name = b->names[k] };
				}
				if (set && b->cmd != RULE_FB_UNSET)
					fb[x].set = true;
				if (!set) {
					fb[x].checked = true;
					if (!fb[x].first_check)
						fb[x].first_check = r;
				}
			}
		}
	}
	for (size_t x = 0; x < nn; x++)
		if (fb[x].checked && !fb[x].set)
			warn(l, fb[x].first_check, "never matches: flowbit '%s' is checked but no loaded rule sets it",
			     fb[x].name);
out:
	free(fb);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil-lint [-c classification.config] [--var NAME=VALUE]... [--strict] [-q] RULES...\n"
		   "  -c FILE           classification.config (default: Suricata's standard classes)\n"
		   "  --var NAME=VALUE  set an address or port variable (Suricata's defaults are preset)\n"
		   "  --strict          warnings are errors\n"
		   "  -q                only the load report and the exit status\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "var", required_argument, NULL, 'V' },
		{ "strict", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rule_vars *vars = NULL;
	struct rule_classes *classes = NULL;
	const char *cfile = NULL;
	struct lint l = { 0 };
	bool strict = false;
	char err[512];
	int opt, rc = 2;
	unsigned errors = 0;

	if (rule_vars_create(&vars) || rule_vars_set_defaults(vars))
		return 2;
	while ((opt = getopt_long(argc, argv, "c:qh", lo, NULL)) != -1) {
		switch (opt) {
		case 'c': cfile = optarg; break;
		case 'q': l.quiet = true; break;
		case 'S': strict = true; break;
		case 'V': {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "vigil-lint: --var %s: expected NAME=VALUE\n", optarg);
				goto out;
			}
			*eq = 0;
			if (rule_vars_set(vars, optarg, eq + 1)) {
				fprintf(stderr, "vigil-lint: --var: bad variable name '%s'\n", optarg);
				goto out;
			}
			break;
		}
		case 'h': usage(stdout); rc = 0; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	if (cfile ? rule_classes_load(&classes, cfile, err, sizeof(err))
		  : rule_classes_create_default(&classes)) {
		fprintf(stderr, "vigil-lint: %s\n", cfile ? err : "out of memory");
		goto out;
	}
	rc = 0;
	for (int i = optind; i < argc; i++) {
		struct rule_load_opts o = { .vars = vars, .classes = classes };
		struct ruleset *rs;

		if (ruleset_load_file(&rs, argv[i], &o, err, sizeof(err)) != 0) {
			fprintf(stderr, "vigil-lint: %s\n", err);
			rc = 2;
			continue;
		}
		for (size_t d = 0; d < ruleset_diag_count(rs); d++) {
			const struct rule_diag *g = ruleset_diag(rs, d);
			bool is_err = g->reason != RULE_SKIP_NONE;
			if (is_err)
				errors++;
			else
				l.warnings++;
			if (!l.quiet)
				printf("%s: %s: %s\n", g->where, is_err ? "error" : "warning", g->msg);
		}
		for (size_t k = 0; k < ruleset_count(rs); k++)
			check_contents(&l, ruleset_get(rs, k));
		check_flowbits(&l, rs);
		ruleset_report(rs, stdout);
		ruleset_destroy(rs);
	}
	printf("%u error(s), %u warning(s)\n", errors, l.warnings);
	if (rc == 0 && (errors || (strict && l.warnings)))
		rc = 1;
out:
	rule_classes_destroy(classes);
	rule_vars_destroy(vars);
	return rc;
}
