/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigilctl rules: ruleset versions (submit, edit, list, show, diff,
 * validate, approve, reject), deployments (deploy, rollback) and the fleet
 * (status).  IDs go to the server as typed: it resolves unique prefixes.
 * Tables show IDs by their first 12 digits; show and diff in full.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigilctl.h"

#define SHORT_ID 12

static const struct ctl_col version_cols[] = {
	{ "ID", "id_short", 0 }, { "STATUS", "status", 0 }, { "AUTHOR", "author", 0 },
	{ "CREATED", "created_at", 0 }, { "RULES", "rules", 0 }, { "SKIPPED", "skipped", 0 },
	{ "ENGINE", "engine_id", 0 }, { "PARENT", "parent_short", 0 }, { "MESSAGE", "message", 50 },
};
#define N_VERSION_COLS (sizeof(version_cols) / sizeof(version_cols[0]))

static const struct ctl_col deploy_cols[] = {
	{ "ID", "id", 0 }, { "KIND", "kind", 0 }, { "RULESET", "ruleset_short", 0 },
	{ "SENSORS", "sensors", 40 }, { "FLEET", "fleet", 0 }, { "BY", "by", 0 }, { "TS", "ts", 0 },
	{ "REASON", "reason", 40 },
};
#define N_DEPLOY_COLS (sizeof(deploy_cols) / sizeof(deploy_cols[0]))

/* key + "_short": the first SHORT_ID digits of each row's id in key. */
static void add_short(json_t *rows, const char *key)
{
	char k[32], v[SHORT_ID + 1];
	size_t i;
	json_t *r;

	snprintf(k, sizeof(k), "%s_short", key);
	json_array_foreach(rows, i, r) {
		const char *id = json_string_value(json_object_get(r, key));
		if (!id)
			continue;
		snprintf(v, sizeof(v), "%s", id);
		json_object_set_new(r, k, json_string(v));
	}
}

/* One object (or an array of them) as a table. */
static void table(json_t *j, const struct ctl_col *cols, size_t n, const char *const *keys)
{
	json_t *rows = json_is_array(j) ? json_incref(j) : json_pack("[O]", j);

	for (const char *const *k = keys; *k; k++)
		add_short(rows, *k);
	ctl_out_table(stdout, rows, cols, n);
	json_decref(rows);
}

static void version_table(json_t *j)
{
	static const char *const keys[] = { "id", "parent", NULL };

	table(j, version_cols, N_VERSION_COLS, keys);
}

static void deploy_table(json_t *j)
{
	static const char *const keys[] = { "ruleset", NULL };

	table(j, deploy_cols, N_DEPLOY_COLS, keys);
}

/* METHOD path with body (taken), the answer printed by show(). */
static int request(struct ctl *c, const char *method, const char *path, json_t *body,
		   void (*show)(json_t *))
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_t *j = NULL;
	int rc;

	json_decref(body);
	if (body && !text)
		return EXIT_SERVER;
	rc = ctl_call(c, method, path, text, &j);
	free(text);
	if (!rc && !c->json && show)
		show(j);
	json_decref(j);
	return rc;
}

/* The path segment of a user-given id (escaped). */
static int id_path(struct ctl *c, char *buf, size_t len, const char *id, const char *rest)
{
	char *e = curl_easy_escape(c->curl, id, 0);

	if (!e)
		return -ENOMEM;
	snprintf(buf, len, "/api/v1/rulesets/%s%s", e, rest);
	curl_free(e);
	return 0;
}

/* --- submit ------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "vigilctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap ? 2 * cap : 1 << 20;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t k = fread(buf + n, 1, 65536, f);
		n += k;
		if (k < 65536)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *base64(const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		*o++ = t[v >> 18 & 63];
		*o++ = t[v >> 12 & 63];
		*o++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? t[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* "1,2,3" as an array of sids; NULL if not such a list. */
static json_t *sid_list(const char *s)
{
	json_t *arr = json_array();
	char *end;

	while (arr && *s) {
		unsigned long long v = strtoull(s, &end, 10);
		if (end == s || v == 0 || v > 4294967295ull || (*end && *end != ',')) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, json_integer((json_int_t)v));
		s = *end ? end + 1 : end;
	}
	return arr;
}

/* --case NAME PCAP [--must L] [--must-not L] into cases. */
static int add_case(json_t *cases, const char *name, const char *pcap)
{
	size_t len = 0;
	char *data = read_file(pcap, &len), *b64;

	if (!data)
		return EXIT_USAGE;
	b64 = base64((const unsigned char *)data, len);
	free(data);
	if (!b64)
		return EXIT_SERVER;
	json_array_append_new(cases, json_pack("{s:s, s:s, s:[], s:[]}", "name", name, "pcap_b64", b64,
					       "must", "must_not"));
	free(b64);
	return 0;
}

static int sids_opt(json_t *cases, const char *opt, const char *key, const char *value)
{
	json_t *last = json_array_get(cases, json_array_size(cases) - 1), *sids;

	if (!last) {
		fprintf(stderr, "vigilctl: %s belongs to a --case\n", opt);
		return EXIT_USAGE;
	}
	sids = sid_list(value);
	if (!sids) {
		fprintf(stderr, "vigilctl: %s %s: expected sids like 1,2,3\n", opt, value);
		return EXIT_USAGE;
	}
	json_array_extend(json_object_get(last, key), sids);
	json_decref(sids);
	return 0;
}

static int cmd_submit(struct ctl *c, int argc, char **argv)
{
	const char *file = NULL, *msg = NULL, *parent = NULL;
	json_t *cases = json_array(), *body;
	char *text;
	size_t len = 0;
	int rc = 0;

	for (int i = 0; i < argc && !rc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if ((!strcmp(a, "-m") || !strcmp(a, "--parent") || !strcmp(a, "--must") ||
		     !strcmp(a, "--must-not")) && !v)
			rc = ctl_usage("rules submit: missing value");
		else if (!strcmp(a, "-m"))
			msg = argv[++i];
		else if (!strcmp(a, "--parent"))
			parent = argv[++i];
		else if (!strcmp(a, "--case") && i + 2 < argc) {
			rc = add_case(cases, argv[i + 1], argv[i + 2]);
			i += 2;
		}
		else if (!strcmp(a, "--must"))
			rc = sids_opt(cases, a, "must", argv[++i]);
		else if (!strcmp(a, "--must-not"))
			rc = sids_opt(cases, a, "must_not", argv[++i]);
		else if (a[0] != '-' && !file)
			file = a;
		else
			rc = ctl_usage("rules submit FILE -m MSG [--parent ID] [--case NAME PCAP "
				       "[--must 1,2] [--must-not 3]]...");
	}
	if (!rc && (!file || !msg))
		rc = ctl_usage("rules submit: FILE and -m MSG are required");
	text = rc ? NULL : read_file(file, &len);
	if (!rc && !text)
		rc = EXIT_USAGE;
	if (rc) {
		json_decref(cases);
		return rc;
	}
	body = json_pack("{s:s%, s:s}", "content", text, len, "message", msg);
	free(text);
	if (!body) {
		fprintf(stderr, "vigilctl: %s: not UTF-8 text\n", file);
		json_decref(cases);
		return EXIT_USAGE;
	}
	if (parent)
		json_object_set_new(body, "parent", json_string(parent));
	if (json_array_size(cases))
		json_object_set(body, "cases", cases);
	json_decref(cases);
	return request(c, "POST", "/api/v1/rulesets", body, version_table);
}

/* rules edit ID ACTION SID [--rule TEXT] -m MSG */
static int cmd_edit(struct ctl *c, int argc, char **argv)
{
	const char *msg = NULL, *rule = NULL, *pos[3];
	char path[256], *end;
	int npos = 0;
	unsigned long long sid;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc) {
			msg = argv[++i];
		} else if (!strcmp(argv[i], "--rule") && i + 1 < argc) {
			rule = argv[++i];
		} else if (argv[i][0] != '-' && npos < 3) {
			pos[npos++] = argv[i];
		} else {
			npos = -1;
			break;
		}
	}
	if (npos != 3 || !msg)
		return ctl_usage("rules edit ID enable|disable SID -m MSG | "
				 "rules edit ID edit|add SID --rule TEXT -m MSG");
	sid = strtoull(pos[2], &end, 10);
	if (*end || end == pos[2] || sid == 0 || sid > 4294967295ull)
		return ctl_usage("rules edit: SID must be a number");
	if (id_path(c, path, sizeof(path), pos[0], "/edit"))
		return EXIT_SERVER;
	json_t *b = json_pack("{s:s, s:I, s:s}", "action", pos[1], "sid", (json_int_t)sid, "message", msg);
	if (b && rule)
		json_object_set_new(b, "rule", json_string(rule));
	return request(c, "POST", path, b, version_table);
}

/* --- reads ------------------------------------------------------------------ */

static void show_version(json_t *j)
{
	static const char *const fields[] = {
		"id", "parent", "author", "message", "created_at", "status", "engine_id", "rules",
		"skipped", "size", NULL,
	};
	static const struct ctl_col steps[] = {
		{ "STEP", "name", 0 }, { "OK", "ok", 0 }, { "DETAIL", "detail", 100 },
	};
	static const struct ctl_col approvals[] = {
		{ "TS", "ts", 0 }, { "USER", "user", 0 }, { "DECISION", "decision", 0 },
		{ "COMMENT", "comment", 70 },
	};
	static const struct ctl_col cases[] = {
		{ "NAME", "name", 0 }, { "MUST", "must", 40 }, { "MUST NOT", "must_not", 40 },
		{ "PCAP BYTES", "pcap_bytes", 0 },
	};
	json_t *v = json_object_get(j, "validation");

	ctl_out_fields(stdout, j, fields);
	if (json_is_object(v))
		printf("\nValidation: %s at %s\n", json_is_true(json_object_get(v, "ok")) ? "passed" : "failed",
		       json_string_value(json_object_get(v, "ts")));
	else
		printf("\nValidation: not yet\n");
	ctl_out_table(stdout, json_object_get(v, "steps"), steps, 3);
	printf("\nApprovals:\n");
	ctl_out_table(stdout, json_object_get(j, "approvals"), approvals, 4);
	printf("\nCases:\n");
	ctl_out_table(stdout, json_object_get(j, "cases"), cases, 4);
}

static void show_diff(json_t *j)
{
	static const char *const keys[] = { "added", "removed", "changed" };

	fputs(json_string_value(json_object_get(j, "diff")), stdout);
	for (int i = 0; i < 3; i++) {
		char *s = json_dumps(json_object_get(j, keys[i]), JSON_COMPACT);
		printf("%s%s %s\n", i ? "" : "\n", keys[i], s ? s : "?");
		free(s);
	}
}

static void show_fleet(json_t *j)
{
	static const struct ctl_col cols[] = {
		{ "SENSOR", "sensor", 0 }, { "DESIRED", "desired_short", 0 },
		{ "DESIRED ENGINE", "desired_engine_id", 0 }, { "RUNNING", "running", 0 },
		{ "RUNNING VERSION", "running_version_short", 0 }, { "DRIFT", "drift", 0 },
		{ "LOAD", "load_text", 50 }, { "LAST SEEN", "last_seen", 0 },
	};
	static const char *const keys[] = { "desired", "running_version", NULL };
	size_t i;
	json_t *r;

	/* LOAD: loaded/skipped, and the error if any */
	json_array_foreach(j, i, r) {
		json_t *l = json_object_get(r, "load");
		char buf[300];
		const char *e = json_string_value(json_object_get(l, "error"));
		if (!json_is_object(l))
			continue;
		snprintf(buf, sizeof(buf), "%lld/%lld%s%.250s",
			 (long long)json_integer_value(json_object_get(l, "loaded")),
			 (long long)json_integer_value(json_object_get(l, "skipped")), e ? " " : "", e ? e : "");
		json_object_set_new(r, "load_text", json_string(buf));
	}
	table(j, cols, sizeof(cols) / sizeof(cols[0]), keys);
}

static void say_queued(json_t *j)
{
	printf("ruleset %s queued for validation\n", json_string_value(json_object_get(j, "id")));
}

/* --- decisions and deployments ------------------------------------------ */

/* approve|reject ID [-m C] [--override] [--reason R] */
static int cmd_decide(struct ctl *c, const char *what, int argc, char **argv)
{
	const char *id = NULL, *comment = NULL, *reason = NULL;
	bool override = false, bad = false;
	char path[256], rest[16];

	for (int i = 0; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc)
			comment = argv[++i];
		else if (!strcmp(argv[i], "--reason") && i + 1 < argc)
			reason = argv[++i];
		else if (!strcmp(argv[i], "--override") && !strcmp(what, "approve"))
			override = true;
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else
			bad = true;
	}
	if (!id || bad || (!strcmp(what, "reject") && !comment))
		return ctl_usage("rules approve ID [-m COMMENT] [--override --reason R] | "
				 "rules reject ID -m COMMENT");
	snprintf(rest, sizeof(rest), "/%s", what);
	if (id_path(c, path, sizeof(path), id, rest))
		return EXIT_SERVER;
	json_t *b = json_object();
	if (comment)
		json_object_set_new(b, "comment", json_string(comment));
	if (reason)
		json_object_set_new(b, "reason", json_string(reason));
	if (override)
		json_object_set_new(b, "override", json_true());
	return request(c, "POST", path, b, version_table);
}

/* deploy ID | rollback, with [--sensor S]... [--reason R] [--override] */
static int cmd_deploy(struct ctl *c, bool rollback, int argc, char **argv)
{
	json_t *b = json_object(), *sensors = json_array();
	const char *id = NULL;
	bool bad = false;

	for (int i = 0; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--sensor") && i + 1 < argc)
			json_array_append_new(sensors, json_string(argv[++i]));
		else if (!strcmp(argv[i], "--reason") && i + 1 < argc)
			json_object_set_new(b, "reason", json_string(argv[++i]));
		else if (!strcmp(argv[i], "--override") && !rollback)
			json_object_set_new(b, "override", json_true());
		else if (argv[i][0] != '-' && !id && !rollback)
			id = argv[i];
		else
			bad = true;
	}
	if (bad || (!rollback && !id)) {
		json_decref(b);
		json_decref(sensors);
		return ctl_usage("rules deploy ID [--sensor S]... [--reason R] [--override] | "
				 "rules rollback [--sensor S]... [--reason R]");
	}
	if (id)
		json_object_set_new(b, "ruleset", json_string(id));
	if (json_array_size(sensors))
		json_object_set(b, "sensors", sensors);
	json_decref(sensors);
	return request(c, "POST", rollback ? "/api/v1/deployments/rollback" : "/api/v1/deployments", b,
		       deploy_table);
}

int ctl_cmd_rules(struct ctl *c, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";
	char path[256];

	if (!strcmp(sub, "submit"))
		return cmd_submit(c, argc - 1, argv + 1);
	if (!strcmp(sub, "edit"))
		return cmd_edit(c, argc - 1, argv + 1);
	if (!strcmp(sub, "approve") || !strcmp(sub, "reject"))
		return cmd_decide(c, sub, argc - 1, argv + 1);
	if (!strcmp(sub, "deploy") || !strcmp(sub, "rollback"))
		return cmd_deploy(c, !strcmp(sub, "rollback"), argc - 1, argv + 1);
	if (!strcmp(sub, "list") && (argc == 1 || (argc == 3 && !strcmp(argv[1], "--limit")))) {
		char *e = argc == 3 ? curl_easy_escape(c->curl, argv[2], 0) : NULL;
		snprintf(path, sizeof(path), "/api/v1/rulesets%s%s", e ? "?limit=" : "", e ? e : "");
		curl_free(e);
		return request(c, "GET", path, NULL, version_table);
	}
	if (!strcmp(sub, "status") && argc == 1)
		return request(c, "GET", "/api/v1/fleet", NULL, show_fleet);
	if (!strcmp(sub, "show") && argc == 2 && !id_path(c, path, sizeof(path), argv[1], ""))
		return request(c, "GET", path, NULL, show_version);
	if (!strcmp(sub, "validate") && argc == 2 && !id_path(c, path, sizeof(path), argv[1], "/validate"))
		return request(c, "POST", path, json_object(), say_queued);
	if (!strcmp(sub, "diff") && (argc == 2 || (argc == 4 && !strcmp(argv[2], "--against")))) {
		char *e = argc == 4 ? curl_easy_escape(c->curl, argv[3], 0) : NULL;
		char rest[128];
		snprintf(rest, sizeof(rest), "/diff%s%s", e ? "?against=" : "", e ? e : "");
		curl_free(e);
		if (id_path(c, path, sizeof(path), argv[1], rest))
			return EXIT_SERVER;
		return request(c, "GET", path, NULL, show_diff);
	}
	return ctl_usage("rules submit|edit|list|show|diff|validate|approve|reject|deploy|rollback|status ...");
}
