/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil -S: load a rules file with the configuration's variables, report
 * what was loaded and skipped (stderr, and as JSON with --rules-report), and
 * build the detection engine.
 */
#include "vigil_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vlog.h"

struct var_ctx {
	struct rule_vars *v;
	int rc;
	char bad[128];
};

static void add_var(const char *key, const char *value, void *arg)
{
	struct var_ctx *c = arg;
	const char *name = strrchr(key, '.');

	if (!name || c->rc)
		return;
	if (rule_vars_set(c->v, name + 1, value)) {
		c->rc = -EINVAL;
		snprintf(c->bad, sizeof(c->bad), "%s", key);
	}
}

static json_t *make_report(const struct ruleset *rs)
{
	struct ruleset_stats st;
	json_t *o = json_object(), *d = json_array();

	ruleset_get_stats(rs, &st);
	json_object_set_new(o, "loaded", json_integer((json_int_t)st.loaded));
	json_object_set_new(o, "skipped", json_integer((json_int_t)st.skipped));
	json_object_set_new(o, "warnings", json_integer((json_int_t)st.warnings));
	json_t *by = json_object();
	for (int r = 1; r < RULE_SKIP__COUNT; r++)
		if (st.by_reason[r])
			json_object_set_new(by, rule_skip_reason_name((enum rule_skip_reason)r),
					    json_integer((json_int_t)st.by_reason[r]));
	json_object_set_new(o, "by_reason", by);
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rule_diag *g = ruleset_diag(rs, i);
		json_t *e = json_object();
		json_object_set_new(e, "where", json_string(g->where));
		json_object_set_new(e, "reason", json_string(rule_skip_reason_name(g->reason)));
		json_object_set_new(e, "keyword", g->keyword ? json_string(g->keyword) : json_null());
		json_object_set_new(e, "sid", json_integer(g->sid));
		json_object_set_new(e, "msg", json_string(g->msg));
		json_array_append_new(d, e);
	}
	json_object_set_new(o, "diagnostics", d);
	return o;
}

static int write_report(json_t *o, const char *path, char *err, size_t errlen)
{
	int rc = json_dump_file(o, path, JSON_INDENT(1));

	if (rc) {
		snprintf(err, errlen, "--rules-report %s: cannot write", path);
		return -EIO;
	}
	return 0;
}

int vigil_rules_load(const struct cfg *c, const char *path, bool strict, const char *report,
		     struct detect_fbreg *fbreg, json_t **report_json, struct detect_engine **out,
		     char *err, size_t errlen)
{
	struct var_ctx vc = { 0 };
	struct ruleset *rs = NULL;
	int rc;

	*out = NULL;
	if (report_json)
		*report_json = NULL;
	rc = rule_vars_create(&vc.v);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	cfg_foreach(c, "vars.address-groups", add_var, &vc);
	cfg_foreach(c, "vars.port-groups", add_var, &vc);
	if (vc.rc) {
		snprintf(err, errlen, "%s: not a valid variable name", vc.bad);
		rule_vars_destroy(vc.v);
		return vc.rc;
	}
	struct rule_load_opts lo = { .vars = vc.v, .strict = strict };
	rc = ruleset_load_file(&rs, path, &lo, err, errlen);
	rule_vars_destroy(vc.v);
	if (rc)
		return rc;

	struct ruleset_stats st;
	ruleset_get_stats(rs, &st);
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rule_diag *g = ruleset_diag(rs, i);
		if (g->reason == RULE_SKIP_NONE)
			vlog_info("%s: warning: %s", g->where, g->msg);
		else
			vlog_notice("%s: %s (rule skipped: %s)", g->where, g->msg,
				    rule_skip_reason_name(g->reason));
	}
	vlog_notice("rules: %zu loaded, %zu skipped (%zu without a fast pattern) from %s", st.loaded,
		    st.skipped, st.non_mpm, path);
	json_t *o = report || report_json ? make_report(rs) : NULL;
	struct detect_cfg dc = {
		.fbreg = fbreg,
		.port_groups = (uint32_t)cfg_get_u64(c, "detect.port-groups"),
		.pcre_match_limit = (uint32_t)cfg_get_u64(c, "detect.pcre-match-limit"),
		.alerts_per_packet = 16,
		.cache_dir = cfg_get_str(c, "detect.cache-dir")[0] ? cfg_get_str(c, "detect.cache-dir") : NULL,
	};
	rc = detect_engine_create(out, rs, &dc, err, errlen);   /* takes RS over */
	/* the report says which engine id the rules make, or why they made none */
	if (o && !rc)
		json_object_set_new(o, "ruleset", json_string(detect_engine_version(*out)));
	else if (o)
		json_object_set_new(o, "error", json_string(err));
	if (report) {
		char werr[256];
		int wrc = write_report(o, report, werr, sizeof(werr));
		if (wrc && !rc) {
			snprintf(err, errlen, "%s", werr);
			detect_engine_destroy(*out);
			*out = NULL;
			rc = wrc;
		}
	}
	if (report_json && !rc)
		*report_json = json_incref(o);
	json_decref(o);
	if (rc)
		return rc;
	struct detect_engine_stats ds;
	detect_engine_get_stats(*out, &ds);
	vlog_info("detect: %u rules in %u groups, %u databases (%u from cache), %u patterns, "
		  "%.1f MiB, compiled in %.0f ms; ruleset %s",
		  ds.rules, ds.groups, ds.databases, ds.cache_hits, ds.patterns,
		  (double)ds.db_bytes / 1048576.0, ds.compile_ms, detect_engine_version(*out));
	return 0;
}
