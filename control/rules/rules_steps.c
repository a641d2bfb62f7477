/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The steps of a validation: compile (vigil -T with its rules report),
 * lint (vigil-lint), regression (vigil on each case's capture, its EVE
 * alerts against the case's sids) and performance (vigil on the reference
 * capture against the deployed baseline).  Each runs a tool in the job's
 * scratch directory and turns what it said into one step object.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules_priv.h"

static json_t *step_new(const char *name)
{
	return json_pack("{s:s, s:b, s:s}", "name", name, "ok", 0, "detail", "");
}

static void step_set(json_t *step, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void step_set(json_t *step, bool ok, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_set_new(step, "ok", json_boolean(ok));
	json_object_set_new(step, "detail", json_string(buf));
}

/* The first line of s (at most 300 bytes) into buf. */
static const char *first_line(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "\n");

	snprintf(buf, len, "%.*s", (int)(n > 300 ? 300 : n), s);
	return buf;
}

/* Runs argv in the job's directory; false (step failed, detail set) when
 * it could not run or was killed. */
static bool run(struct rules_job *j, const char *const *argv, json_t *step,
		struct rules_run_result *res)
{
	char msg[512];

	int rc = rules_run(argv, j->dir, j->deadline, &j->ctl, res, msg, sizeof(msg));

	if (rc) {
		j->stopped = j->stopped || rc == -ECANCELED;
		step_set(step, false, "%s", msg);
		return false;
	}
	if (res->stopped || res->timed_out) {
		j->stopped = j->stopped || res->stopped;
		step_set(step, false, "%s %s", argv[0], res->stopped ? "stopped (shutdown)" : "timed out");
		rules_run_result_fini(res);
		return false;
	}
	return true;
}

/* --- compile --------------------------------------------------------- */

/* "N loaded, N skipped" and the first diagnostics. */
static void compile_detail(json_t *step, bool ok, json_t *rep, const struct rules_run_result *res)
{
	char buf[1600], line[320];
	size_t n, i;
	json_t *d, *e;

	n = (size_t)snprintf(buf, sizeof(buf), "%lld loaded, %lld skipped",
			     (long long)json_integer_value(json_object_get(rep, "loaded")),
			     (long long)json_integer_value(json_object_get(rep, "skipped")));
	d = json_object_get(rep, "diagnostics");
	json_array_foreach(d, i, e) {
		if (i == 3 || n >= sizeof(buf))
			break;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "; %s: %s (%s)",
				      json_string_value(json_object_get(e, "where")),
				      json_string_value(json_object_get(e, "msg")),
				      json_string_value(json_object_get(e, "reason")));
	}
	if (json_array_size(d) > 3 && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "; %zu more", json_array_size(d) - 3);
	if (json_string_value(json_object_get(rep, "error")) && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "; error: %s",
				      json_string_value(json_object_get(rep, "error")));
	if (res->status != 0 && n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, "; vigil exited %d: %s", res->status,
			 first_line(res->err, line, sizeof(line)));
	step_set(step, ok, "%s", buf);
}

/* The report's diagnostics, at most RULES_DIAG_MAX. */
static json_t *diagnostics(json_t *rep)
{
	json_t *out = json_array(), *e;
	size_t i;

	json_array_foreach(json_object_get(rep, "diagnostics"), i, e) {
		if (i == RULES_DIAG_MAX)
			break;
		json_array_append(out, e);
	}
	return out;
}

json_t *rules_step_compile(struct rules_job *j)
{
	const char *argv[] = { j->cfg->vigil_path, "-q", "-T", "-S", RULES_FILE, "--rules-report",
			       "report.json", NULL };
	struct rules_run_result res;
	json_t *step = step_new("compile"), *rep;
	char path[PATH_MAX + 16], line[320];
	const char *engine;

	if (!run(j, argv, step, &res))
		return step;
	snprintf(path, sizeof(path), "%s/report.json", j->dir);
	rep = json_load_file(path, 0, NULL);
	if (!rep) {
		step_set(step, false, "vigil exited %d without a rules report: %s", res.status,
			 first_line(res.err, line, sizeof(line)));
		rules_run_result_fini(&res);
		return step;
	}
	engine = json_string_value(json_object_get(rep, "ruleset"));
	j->loaded = json_integer_value(json_object_get(rep, "loaded"));
	j->skipped = json_integer_value(json_object_get(rep, "skipped"));
	j->compiled = res.status == 0 && engine && *engine;
	if (j->compiled)
		snprintf(j->engine_id, sizeof(j->engine_id), "%s", engine);
	compile_detail(step, j->compiled && j->skipped == 0 && !json_object_get(rep, "error"), rep, &res);
	json_object_set_new(step, "loaded", json_integer(j->loaded));
	json_object_set_new(step, "skipped", json_integer(j->skipped));
	json_object_set_new(step, "engine_id", j->compiled ? json_string(j->engine_id) : json_null());
	json_object_set_new(step, "diagnostics", diagnostics(rep));
	json_decref(rep);
	rules_run_result_fini(&res);
	return step;
}

/* --- lint ------------------------------------------------------------ */

json_t *rules_step_lint(struct rules_job *j)
{
	const char *argv[] = { j->cfg->lint_path, RULES_FILE, NULL };
	struct rules_run_result res;
	json_t *step = step_new("lint"), *msgs = json_array();
	char first[320] = "", summary[160] = "", line[320];
	char *save = NULL;

	if (!run(j, argv, step, &res)) {
		json_decref(msgs);
		return step;
	}
	for (char *l = strtok_r(res.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, RULES_FILE ":", sizeof(RULES_FILE)) == 0) {
			if (!first[0])
				snprintf(first, sizeof(first), "%.300s", l);
			if (json_array_size(msgs) < RULES_DIAG_MAX)
				json_array_append_new(msgs, json_string(l));
		} else if (strstr(l, "error(s),") && strstr(l, "warning(s)")) {
			snprintf(summary, sizeof(summary), "%.150s", l);
		}
	}
	if (res.status == 0 || res.status == 1)
		step_set(step, res.status == 0, "%s%s%s", first, first[0] && summary[0] ? "; " : "",
			 summary[0] ? summary : first[0] ? "" : "no messages");
	else
		step_set(step, false, "vigil-lint exited %d: %s", res.status,
			 first_line(res.err, line, sizeof(line)));
	json_object_set_new(step, "messages", msgs);
	rules_run_result_fini(&res);
	return step;
}

/* --- regression ------------------------------------------------------ */

/* The sids of the alerts in DIR/eve.json into fired (an object used as a
 * set, keys the sids as text); the number of alerts, or -errno. */
static int64_t eve_alerts(const char *dir, json_t *fired)
{
	char path[PATH_MAX + 512], *line = NULL, key[16];
	size_t cap = 0;
	int64_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/eve.json", dir);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) > 0) {
		json_t *r = json_loads(line, 0, NULL);
		const char *type = json_string_value(json_object_get(r, "event_type"));
		json_t *sid = json_object_get(json_object_get(r, "alert"), "signature_id");
		if (type && strcmp(type, "alert") == 0 && json_is_integer(sid)) {
			snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(sid));
			json_object_set_new(fired, key, json_true());
			n++;
		}
		json_decref(r);
	}
	free(line);
	fclose(f);
	return n;
}

/* The sids of want that are (fired true) or are not (false) in fired. */
static json_t *sids_where(json_t *want, json_t *fired, bool in)
{
	json_t *out = json_array(), *s;
	char key[24];
	size_t i;

	json_array_foreach(want, i, s) {
		snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(s));
		if ((json_object_get(fired, key) != NULL) == in)
			json_array_append(out, s);
	}
	return out;
}

/* One case: case-N.pcap (written by the job) into case-N/. */
static json_t *run_case(struct rules_job *j, size_t k, bool *stop)
{
	const struct store_case_data *c = &j->cases[k];
	char pcap[32], dir[32], path[PATH_MAX + 400], line[320];
	const char *argv[] = { j->cfg->vigil_path, "-q", "-r", pcap, "-S", RULES_FILE, "-l", dir, NULL };
	struct rules_run_result res;
	json_t *r = json_pack("{s:s, s:b}", "name", c->name, "ok", 0), *fired = json_object();
	json_t *tmp = step_new("case");
	int64_t n;

	snprintf(pcap, sizeof(pcap), "case-%zu.pcap", k);
	snprintf(dir, sizeof(dir), "case-%zu", k);
	snprintf(path, sizeof(path), "%s/%s", j->dir, dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		json_object_set_new(r, "error", json_string(strerror(errno)));
	} else if (!run(j, argv, tmp, &res)) {
		json_object_set(r, "error", json_object_get(tmp, "detail"));
		*stop = j->stopped;
	} else {
		if (res.status != 0) {
			snprintf(path, sizeof(path), "vigil exited %d: %s", res.status,
				 first_line(res.err, line, sizeof(line)));
			json_object_set_new(r, "error", json_string(path));
		}
		snprintf(path, sizeof(path), "%s/%s", j->dir, dir);
		n = eve_alerts(path, fired);
		json_object_set_new(r, "alerts", json_integer(n < 0 ? 0 : n));
		rules_run_result_fini(&res);
	}
	json_object_set_new(r, "missing", sids_where(c->must, fired, false));
	json_object_set_new(r, "unexpected", sids_where(c->must_not, fired, true));
	json_object_set_new(r, "ok", json_boolean(!json_object_get(r, "error") &&
					      !json_array_size(json_object_get(r, "missing")) &&
					      !json_array_size(json_object_get(r, "unexpected"))));
	json_decref(fired);
	json_decref(tmp);
	return r;
}

/* "NAME (missing 1, 2; unexpected 3)" of a failed case. */
static size_t case_note(char *buf, size_t len, json_t *r)
{
	char *m = json_dumps(json_object_get(r, "missing"), JSON_COMPACT);
	char *u = json_dumps(json_object_get(r, "unexpected"), JSON_COMPACT);
	const char *e = json_string_value(json_object_get(r, "error"));
	int n = snprintf(buf, len, "%s (missing %s; unexpected %s%s%.200s)",
			 json_string_value(json_object_get(r, "name")), m ? m : "?", u ? u : "?",
			 e ? "; " : "", e ? e : "");

	free(m);
	free(u);
	return n < 0 ? 0 : (size_t)n;
}

json_t *rules_step_regression(struct rules_job *j)
{
	json_t *step = step_new("regression"), *results = json_array(), *r;
	char buf[1800];
	size_t failed = 0, n = 0;
	bool stop = false;

	if (!j->compiled) {
		step_set(step, false, "not run: the rules do not compile");
		json_object_set_new(step, "cases", results);
		return step;
	}
	for (size_t k = 0; k < j->ncases && !stop; k++) {
		r = run_case(j, k, &stop);
		if (!json_is_true(json_object_get(r, "ok"))) {
			if (failed++ == 0)
				n = (size_t)snprintf(buf, sizeof(buf), ": ");
			else if (n < sizeof(buf))
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, ", ");
			if (n < sizeof(buf))
				n += case_note(buf + n, sizeof(buf) - n, r);
		}
		json_array_append_new(results, r);
	}
	if (j->ncases == 0)
		step_set(step, true, "no cases");
	else
		step_set(step, failed == 0, "%zu cases, %zu failed%s", j->ncases, failed,
			 failed ? buf : "");
	json_object_set_new(step, "cases", results);
	return step;
}

/* --- performance ------------------------------------------------------ */

/* The wall time of vigil's summary line "  time   N s wall, ...". */
static bool wall_time(const char *out, double *s)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *q = p;
		char *end;
		while (*q == ' ')
			q++;
		if (strncmp(q, "time ", 5) != 0)
			continue;
		*s = strtod(q + 5, &end);
		if (end != q + 5 && strncmp(end, " s wall", 7) == 0)
			return true;
	}
	return false;
}

/* The best of two runs of vigil on the reference capture with rules. */
static bool best_of_two(struct rules_job *j, const char *rules, json_t *step, double *best)
{
	const char *argv[] = { j->cfg->vigil_path, "-q", "-r", j->cfg->reference_pcap, "-S", rules,
			       "-l", "perf", NULL };
	char path[PATH_MAX + 16];
	struct rules_run_result res;
	double t;

	snprintf(path, sizeof(path), "%s/perf", j->dir);
	mkdir(path, 0700);
	for (int i = 0; i < 2; i++) {
		if (!run(j, argv, step, &res))
			return false;
		snprintf(path, sizeof(path), "%s/perf/eve.json", j->dir);
		unlink(path);
		bool ok = res.status == 0 && wall_time(res.out, &t);
		if (!ok)
			step_set(step, false, "vigil on the reference capture with %s: %s %d", rules,
				 res.status ? "exited" : "no wall time in its summary; status", res.status);
		rules_run_result_fini(&res);
		if (!ok)
			return false;
		if (i == 0 || t < *best)
			*best = t;
	}
	return true;
}

json_t *rules_step_performance(struct rules_job *j)
{
	json_t *step = step_new("performance");
	double now = 0, base = 0, ratio;

	if (!j->cfg->reference_pcap || !j->baseline || !j->compiled) {
		step_set(step, true, "%s", !j->cfg->reference_pcap ? "no reference capture" :
			 !j->baseline ? "no baseline" : "not run: the rules do not compile");
		json_object_set_new(step, "skipped", json_true());
		return step;
	}
	if (!best_of_two(j, RULES_FILE, step, &now) || !best_of_two(j, "baseline.rules", step, &base))
		return step;
	/* a floor of 1 ms: vigil's summary has millisecond resolution */
	ratio = (now > 0.001 ? now : 0.001) / (base > 0.001 ? base : 0.001);
	step_set(step, ratio <= j->cfg->perf_threshold, "%.3f s against %.3f s of the baseline: "
		 "ratio %.2f (threshold %.2f)", now, base, ratio, j->cfg->perf_threshold);
	json_object_set_new(step, "seconds", json_real(now));
	json_object_set_new(step, "baseline_seconds", json_real(base));
	json_object_set_new(step, "ratio", json_real(ratio));
	return step;
}
