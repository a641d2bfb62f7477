/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigilctl: the command-line client of vigil-control's API (libcurl).
 *
 * Exit status: 0 success, 1 the server refused or could not be reached
 * (its message is printed), 2 usage error.  --json prints the server's
 * JSON as it came; otherwise answers are aligned tables.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "vigilctl.h"

static const char usage_text[] =
	"usage: vigilctl [--url URL] [--token TOKEN] [--json] [--cacert FILE] [--insecure] COMMAND\n"
	"\n"
	"  incidents [list] [--status S] [--severity N] [--limit N]\n"
	"  incident show ID\n"
	"  incident ack ID\n"
	"  incident assign USER ID\n"
	"  incident note TEXT ID\n"
	"  incident status S [--reason R] ID | incident resolve|investigate|mitigate|close ID\n"
	"  incident block ID [--prefix P] [--for DURATION] --reason R  (DURATION: 90s, 30m, 2h, 1d; 0: until unblocked)\n"
	"  incident unblock ID [--prefix P] [--reason R]\n"
	"  blocks [--all]\n"
	"  alerts [--sid N] [--src-ip A] [--dest-ip A] [--incident ID] [--since T] [--until T] [--limit N]\n"
	"  flows [--sensor S] [--flow-id N] [--limit N]\n"
	"  sensors\n"
	"  users list | users add NAME ROLE\n"
	"  token create USER | token revoke ID\n"
	"  audit [--limit N]\n"
	"  escalation get | escalation set FILE\n"
	"  notify get | notify set FILE\n"
	"  rules submit FILE -m MSG [--parent ID] [--case NAME PCAP [--must 1,2] [--must-not 3]]...\n"
	"  rules edit ID enable|disable SID -m MSG | rules edit ID edit|add SID --rule TEXT -m MSG\n"
	"  rules list [--limit N] | rules show ID | rules diff ID [--against ID2] | rules validate ID\n"
	"  rules approve ID [-m COMMENT] [--override --reason R] | rules reject ID -m COMMENT\n"
	"  rules deploy ID [--sensor S]... [--reason R] [--override]\n"
	"  rules rollback [--sensor S]... [--reason R] | rules status\n"
	"  health\n"
	"\n"
	"Ruleset IDs may be given as unique prefixes of 8 or more hex digits.\n"
	"Flow tables: PKTS and BYTES are to server/to client, STATE is state/reason.\n"
	"URL and TOKEN default to $VIGIL_URL (else http://127.0.0.1:8470) and $VIGIL_TOKEN.\n"
	"Exit status: 0 ok, 1 server error, 2 usage.\n";

int ctl_usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "vigilctl: %s\n", msg);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

/* --- HTTP ------------------------------------------------------------- */

struct buf {
	char *p;
	size_t n;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	char *p = realloc(b->p, b->n + n + 1);

	if (!p)
		return 0;
	memcpy(p + b->n, data, n);
	b->p = p;
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

int ctl_call(struct ctl *c, const char *method, const char *path, const char *body, json_t **out)
{
	struct buf b = { NULL, 0 };
	struct curl_slist *h = NULL;
	char *url, auth[512];
	long code = 0;
	CURLcode rc;
	json_t *j = NULL;
	int ret = EXIT_SERVER;

	*out = NULL;
	if (asprintf(&url, "%s%s", c->url, path) < 0)
		return EXIT_SERVER;
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	if (c->cacert)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->token && *c->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
		h = curl_slist_append(h, auth);
	}
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vigilctl: %s: %s\n", url, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	j = b.p ? json_loads(b.p, JSON_DECODE_ANY, NULL) : NULL;
	if (code < 200 || code > 299) {
		const char *msg = json_string_value(json_object_get(j, "error"));
		fprintf(stderr, "vigilctl: server: %s (HTTP %ld)\n", msg ? msg : (b.p ? b.p : "no answer"),
			code);
		json_decref(j);
		goto out;
	}
	if (c->json && b.p)
		fputs(b.p, stdout);
	*out = j;
	ret = 0;
out:
	curl_slist_free_all(h);
	free(b.p);
	free(url);
	return ret;
}

/* Appends "&name=value" (value escaped) to a query under construction. */
static void qadd(struct ctl *c, char *q, size_t len, const char *name, const char *value)
{
	char *e = curl_easy_escape(c->curl, value, 0);
	size_t n = strlen(q);

	snprintf(q + n, len - n, "%s%s=%s", n ? "&" : "?", name, e ? e : "");
	curl_free(e);
}

/* --- commands --------------------------------------------------------- */

static const struct ctl_col incident_cols[] = {
	{ "ID", "id", 0 }, { "SEV", "severity", 0 }, { "STATUS", "status", 0 },
	{ "TIER", "escalation_tier", 0 }, { "ALERTS", "alert_count", 0 },
	{ "ASSIGNEE", "assignee", 0 }, { "LAST SEEN", "last_seen", 0 }, { "TITLE", "title", 60 },
};

/* Option NAME VALUE pairs of a command: fills values for the known names
 * (query parameter names in q), positional arguments into pos. */
struct opt_map {
	const char *opt, *param;
};

static int parse_args(struct ctl *c, int argc, char **argv, const struct opt_map *m, char *q,
		      size_t qlen, char **pos, int maxpos, int *npos, const char **reason)
{
	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const struct opt_map *o = NULL;
		if (strncmp(argv[i], "--", 2) == 0) {
			for (const struct opt_map *k = m; k && k->opt; k++)
				if (strcmp(k->opt, argv[i]) == 0)
					o = k;
			if (!o || i + 1 >= argc) {
				fprintf(stderr, "vigilctl: %s: unknown option or missing value\n", argv[i]);
				return -EINVAL;
			}
			if (reason && strcmp(o->opt, "--reason") == 0)
				*reason = argv[i + 1];
			else
				qadd(c, q, qlen, o->param, argv[i + 1]);
			i++;
			continue;
		}
		if (*npos >= maxpos) {
			fprintf(stderr, "vigilctl: unexpected argument %s\n", argv[i]);
			return -EINVAL;
		}
		pos[(*npos)++] = argv[i];
	}
	return 0;
}

static bool is_id(const char *s)
{
	return s && *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 19;
}

static int get_list(struct ctl *c, const char *path, const struct ctl_col *cols, size_t n)
{
	json_t *j = NULL;
	int rc = ctl_call(c, "GET", path, NULL, &j);

	if (!rc && !c->json)
		ctl_out_table(stdout, j, cols, n);
	json_decref(j);
	return rc;
}

static int cmd_incidents(struct ctl *c, int argc, char **argv)
{
	static const struct opt_map m[] = {
		{ "--status", "status" }, { "--severity", "severity" }, { "--limit", "limit" }, { NULL, NULL },
	};
	char q[512] = "", path[600], *pos[1];
	int npos;

	if (parse_args(c, argc, argv, m, q, sizeof(q), pos, 1, &npos, NULL) != 0 ||
	    (npos == 1 && strcmp(pos[0], "list") != 0))
		return ctl_usage("incidents [list] [--status S] [--severity N] [--limit N]");
	snprintf(path, sizeof(path), "/api/v1/incidents%s", q);
	return get_list(c, path, incident_cols, sizeof(incident_cols) / sizeof(incident_cols[0]));
}

/* --- flow records ------------------------------------------------------ */

/* "IP:PORT" ("[IP]:PORT" for IPv6), the IP alone without a port. */
static void endpoint(json_t *o, const char *ip_key, const char *port_key, char *buf, size_t len)
{
	const char *ip = json_string_value(json_object_get(o, ip_key));
	json_t *port = json_object_get(o, port_key);

	if (!ip)
		ip = "-";
	if (!json_is_integer(port))
		snprintf(buf, len, "%s", ip);
	else if (strchr(ip, ':'))
		snprintf(buf, len, "[%s]:%lld", ip, (long long)json_integer_value(port));
	else
		snprintf(buf, len, "%s:%lld", ip, (long long)json_integer_value(port));
}

/* "A/B" of two members ("-" for an absent or empty one). */
static void pair(json_t *o, const char *a, const char *b, char *buf, size_t len)
{
	char t[2][80];
	const char *k[2] = { a, b };

	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(o, k[i]);
		if (json_is_integer(v))
			snprintf(t[i], sizeof(t[i]), "%lld", (long long)json_integer_value(v));
		else if (json_is_string(v) && json_string_length(v) > 0)
			snprintf(t[i], sizeof(t[i]), "%s", json_string_value(v));
		else
			snprintf(t[i], sizeof(t[i]), "-");
	}
	snprintf(buf, len, "%s/%s", t[0], t[1]);
}

/* The rows of a flow table: each FLOW object with "src" and "dest"
 * (IP:PORT), "pkts" and "bytes" (to server/to client) and "state_reason"
 * added.  A new array. */
static json_t *flow_rows(json_t *flows)
{
	json_t *rows = json_array(), *f;
	size_t i;

	json_array_foreach(flows, i, f) {
		json_t *r = json_copy(f);
		char buf[160];
		if (!r)
			continue;
		endpoint(f, "src_ip", "src_port", buf, sizeof(buf));
		json_object_set_new(r, "src", json_string(buf));
		endpoint(f, "dest_ip", "dest_port", buf, sizeof(buf));
		json_object_set_new(r, "dest", json_string(buf));
		pair(f, "pkts_toserver", "pkts_toclient", buf, sizeof(buf));
		json_object_set_new(r, "pkts", json_string(buf));
		pair(f, "bytes_toserver", "bytes_toclient", buf, sizeof(buf));
		json_object_set_new(r, "bytes", json_string(buf));
		pair(f, "state", "reason", buf, sizeof(buf));
		json_object_set_new(r, "state_reason", json_string(buf));
		json_array_append_new(rows, r);
	}
	return rows;
}

static void flow_table(json_t *flows, const struct ctl_col *cols, size_t ncols)
{
	json_t *rows = flow_rows(flows);

	ctl_out_table(stdout, rows, cols, ncols);
	json_decref(rows);
}

static int cmd_flows(struct ctl *c, int argc, char **argv)
{
	static const struct opt_map m[] = {
		{ "--sensor", "sensor" }, { "--flow-id", "flow_id" }, { "--limit", "limit" }, { NULL, NULL },
	};
	static const struct ctl_col cols[] = {
		{ "START", "start", 0 }, { "END", "end", 0 }, { "ID", "id", 0 }, { "FLOW ID", "flow_id", 0 },
		{ "SRC", "src", 0 }, { "DEST", "dest", 0 }, { "PROTO", "proto", 0 }, { "PKTS", "pkts", 0 },
		{ "BYTES", "bytes", 0 }, { "STATE", "state_reason", 0 },
	};
	char q[512] = "", path[600], *pos[1];
	json_t *j = NULL;
	int npos, rc;

	if (parse_args(c, argc, argv, m, q, sizeof(q), pos, 0, &npos, NULL) != 0)
		return ctl_usage("flows [--sensor S] [--flow-id N] [--limit N]");
	snprintf(path, sizeof(path), "/api/v1/flows%s", q);
	rc = ctl_call(c, "GET", path, NULL, &j);
	if (!rc && !c->json)
		flow_table(j, cols, sizeof(cols) / sizeof(cols[0]));
	json_decref(j);
	return rc;
}

static int show_incident(struct ctl *c, const char *id)
{
	static const char *const fields[] = {
		"id", "title", "key", "kind", "severity", "status", "assignee", "sid", "alert_count",
		"first_seen", "last_seen", "opened_at", "notified_at", "acked_at", "mitigated_at",
		"resolved_at", "closed_at", "escalation_tier", "time_to_notify_s", "time_to_ack_s", NULL,
	};
	static const struct ctl_col tl[] = {
		{ "TS", "ts", 0 }, { "USER", "user", 0 }, { "ACTION", "action", 0 }, { "DETAIL", "detail", 80 },
	};
	static const struct ctl_col ev[] = {
		{ "TS", "ts", 0 }, { "ID", "id", 0 }, { "SID", "sid", 0 }, { "SRC", "src_ip", 0 },
		{ "DEST", "dest_ip", 0 }, { "SIGNATURE", "signature", 50 },
	};
	static const struct ctl_col nt[] = {
		{ "TS", "ts", 0 }, { "EVENT", "event", 0 }, { "TARGET", "target", 0 }, { "STATUS", "status", 0 },
	};
	static const struct ctl_col fl[] = {
		{ "START", "start", 0 }, { "SRC", "src", 0 }, { "DEST", "dest", 0 }, { "PROTO", "proto", 0 },
		{ "PKTS", "pkts", 0 }, { "BYTES", "bytes", 0 }, { "STATE", "state_reason", 0 },
	};
	char path[64];
	json_t *j = NULL;
	int rc;

	snprintf(path, sizeof(path), "/api/v1/incidents/%s", id);
	rc = ctl_call(c, "GET", path, NULL, &j);
	if (!rc && !c->json) {
		ctl_out_fields(stdout, j, fields);
		printf("\nTimeline:\n");
		ctl_out_table(stdout, json_object_get(j, "timeline"), tl, 4);
		printf("\nEvidence (%zu sampled alerts):\n", json_array_size(json_object_get(j, "evidence")));
		ctl_out_table(stdout, json_object_get(j, "evidence"), ev, 6);
		printf("\nFlows (%zu records):\n", json_array_size(json_object_get(j, "flows")));
		flow_table(json_object_get(j, "flows"), fl, sizeof(fl) / sizeof(fl[0]));
		printf("\nNotifications:\n");
		ctl_out_table(stdout, json_object_get(j, "notifications"), nt, 4);
	}
	json_decref(j);
	return rc;
}

/* POSTs body to /api/v1/incidents/ID/what and prints the incident. */
static int incident_change(struct ctl *c, const char *id, const char *what, json_t *body)
{
	char path[96], *text = json_dumps(body, JSON_COMPACT);
	json_t *j = NULL;
	int rc;

	json_decref(body);
	snprintf(path, sizeof(path), "/api/v1/incidents/%s/%s", id, what);
	rc = text ? ctl_call(c, "POST", path, text, &j) : EXIT_SERVER;
	free(text);
	if (!rc && !c->json) {
		json_t *arr = json_array();
		json_array_append(arr, j);
		ctl_out_table(stdout, arr, incident_cols, sizeof(incident_cols) / sizeof(incident_cols[0]));
		json_decref(arr);
	}
	json_decref(j);
	return rc;
}

/* "90s", "30m", "2h", "1d", "600": seconds; -1 if malformed. */
static long long duration_s(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || v < 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	if (!strcmp(end, "d"))
		return v * 86400;
	return -1;
}

/* incident block|unblock ID [--prefix P] [--for D] [--reason R] */
static int incident_block(struct ctl *c, bool block, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "ID", "id", 0 }, { "INCIDENT", "incident", 0 }, { "PREFIX", "prefix", 0 },
		{ "EXPIRES IN S", "expires_in_s", 0 }, { "BY", "by", 0 }, { "REASON", "reason", 60 },
	};
	const char *id = NULL, *use = block ? "incident block ID [--prefix P] [--for DURATION] --reason R"
					    : "incident unblock ID [--prefix P] [--reason R]";
	json_t *body = json_object(), *j = NULL;
	char path[96];
	int rc;

	for (int i = 0; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--prefix") && v) {
			json_object_set_new(body, "prefix", json_string(v));
			i++;
		} else if (!strcmp(argv[i], "--reason") && v) {
			json_object_set_new(body, "reason", json_string(v));
			i++;
		} else if (block && !strcmp(argv[i], "--for") && v && duration_s(v) >= 0) {
			json_object_set_new(body, "duration_s", json_integer(duration_s(v)));
			i++;
		} else if (!id && is_id(argv[i])) {
			id = argv[i];
		} else {
			json_decref(body);
			return ctl_usage(use);
		}
	}
	if (!id || (block && !json_object_get(body, "reason"))) {
		json_decref(body);
		return ctl_usage(use);
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	snprintf(path, sizeof(path), "/api/v1/incidents/%s/%s", id, block ? "block" : "unblock");
	rc = text ? ctl_call(c, "POST", path, text, &j) : EXIT_SERVER;
	free(text);
	if (!rc && !c->json) {
		if (block) {
			json_t *arr = json_array();
			json_array_append(arr, j);
			ctl_out_table(stdout, arr, cols, sizeof(cols) / sizeof(cols[0]));
			json_decref(arr);
		} else {
			json_t *e;
			size_t i;
			json_array_foreach(json_object_get(j, "lifted"), i, e)
				printf("unblocked %s\n", json_string_value(e));
		}
	}
	json_decref(j);
	return rc;
}

static int cmd_blocks(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col active[] = {
		{ "ID", "id", 0 }, { "INCIDENT", "incident", 0 }, { "PREFIX", "prefix", 0 },
		{ "CREATED", "created_at", 0 }, { "BY", "created_by", 0 }, { "EXPIRES", "expires_at", 0 },
		{ "REASON", "reason", 50 },
	};
	static const struct ctl_col all[] = {
		{ "ID", "id", 0 }, { "INCIDENT", "incident", 0 }, { "PREFIX", "prefix", 0 },
		{ "CREATED", "created_at", 0 }, { "BY", "created_by", 0 }, { "EXPIRES", "expires_at", 0 },
		{ "LIFTED", "lifted_at", 0 }, { "HOW", "lifted_how", 0 }, { "REASON", "reason", 40 },
	};
	bool every = argc == 1 && !strcmp(argv[0], "--all");

	if (argc > 1 || (argc == 1 && !every))
		return ctl_usage("blocks [--all]");
	return every ? get_list(c, "/api/v1/blocks?all=1&limit=10000", all, sizeof(all) / sizeof(all[0]))
		     : get_list(c, "/api/v1/blocks?limit=10000", active, sizeof(active) / sizeof(active[0]));
}

static int cmd_incident(struct ctl *c, int argc, char **argv)
{
	static const struct opt_map m[] = { { "--reason", "reason" }, { NULL, NULL } };
	const char *reason = NULL, *sub = argc > 0 ? argv[0] : "";
	char q[16] = "", *pos[3];
	int npos;

	if (argc >= 1 && (!strcmp(sub, "block") || !strcmp(sub, "unblock")))
		return incident_block(c, !strcmp(sub, "block"), argc - 1, argv + 1);
	if (argc < 1 || parse_args(c, argc - 1, argv + 1, m, q, sizeof(q), pos, 3, &npos, &reason) != 0)
		return ctl_usage("incident show|ack|assign|note|status|block|unblock ...");
	if (strcmp(sub, "show") == 0 && npos == 1 && is_id(pos[0]))
		return show_incident(c, pos[0]);
	if (strcmp(sub, "ack") == 0 && npos == 1 && is_id(pos[0]))
		return incident_change(c, pos[0], "ack", json_object());
	if (strcmp(sub, "assign") == 0 && npos == 2 && is_id(pos[1]))
		return incident_change(c, pos[1], "assign", json_pack("{s:s}", "assignee", pos[0]));
	if (strcmp(sub, "note") == 0 && npos == 2 && is_id(pos[1]))
		return incident_change(c, pos[1], "note", json_pack("{s:s}", "text", pos[0]));
	/* resolve / investigate / mitigate / close ID: status shortcuts */
	static const char *const shortcut[][2] = {
		{ "resolve", "resolved" }, { "investigate", "investigating" }, { "mitigate", "mitigated" },
		{ "close", "closed" },
	};
	const char *st = NULL, *id = NULL;
	if (strcmp(sub, "status") == 0 && npos == 2 && is_id(pos[1])) {
		st = pos[0];
		id = pos[1];
	}
	for (size_t i = 0; i < sizeof(shortcut) / sizeof(shortcut[0]) && !st; i++)
		if (strcmp(sub, shortcut[i][0]) == 0 && npos == 1 && is_id(pos[0])) {
			st = shortcut[i][1];
			id = pos[0];
		}
	if (st) {
		json_t *b = json_pack("{s:s}", "status", st);
		if (reason)
			json_object_set_new(b, "reason", json_string(reason));
		return incident_change(c, id, "status", b);
	}
	return ctl_usage("incident show ID | ack ID | assign USER ID | note TEXT ID | "
		     "status S [--reason R] ID | resolve|investigate|mitigate|close [--reason R] ID");
}

static int cmd_alerts(struct ctl *c, int argc, char **argv)
{
	static const struct opt_map m[] = {
		{ "--sid", "sid" }, { "--src-ip", "src_ip" }, { "--dest-ip", "dest_ip" },
		{ "--incident", "incident" }, { "--since", "since" }, { "--until", "until" },
		{ "--limit", "limit" }, { NULL, NULL },
	};
	static const struct ctl_col cols[] = {
		{ "TS", "ts", 0 }, { "ID", "id", 0 }, { "SID", "sid", 0 }, { "SEV", "severity", 0 },
		{ "SRC", "src_ip", 0 }, { "DEST", "dest_ip", 0 }, { "INCIDENT", "incident", 0 },
		{ "SIGNATURE", "signature", 50 },
	};
	char q[1024] = "", path[1100], *pos[1];
	int npos;

	if (parse_args(c, argc, argv, m, q, sizeof(q), pos, 0, &npos, NULL) != 0)
		return ctl_usage("alerts [--sid N] [--src-ip A] [--dest-ip A] [--incident ID] [--limit N]");
	snprintf(path, sizeof(path), "/api/v1/alerts%s", q);
	return get_list(c, path, cols, 8);
}

static int cmd_users(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name", 0 }, { "ROLE", "role", 0 }, { "TOKENS", "tokens", 0 },
		{ "CREATED", "created_at", 0 },
	};
	json_t *j = NULL;
	char *body;
	int rc;

	if (argc == 0 || (argc == 1 && strcmp(argv[0], "list") == 0))
		return get_list(c, "/api/v1/users", cols, 4);
	if (argc != 3 || strcmp(argv[0], "add") != 0)
		return ctl_usage("users list | users add NAME ROLE");
	j = json_pack("{s:s, s:s}", "name", argv[1], "role", argv[2]);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	rc = ctl_call(c, "POST", "/api/v1/users", body, &j);
	free(body);
	if (!rc && !c->json)
		printf("user %s added (%s)\n", argv[1], argv[2]);
	json_decref(j);
	return rc;
}

static int cmd_token(struct ctl *c, int argc, char **argv)
{
	char path[160], *e;
	json_t *j = NULL;
	int rc;

	if (argc == 2 && strcmp(argv[0], "create") == 0) {
		e = curl_easy_escape(c->curl, argv[1], 0);
		snprintf(path, sizeof(path), "/api/v1/users/%s/tokens", e ? e : "");
		curl_free(e);
		rc = ctl_call(c, "POST", path, "{}", &j);
		if (!rc && !c->json)
			printf("token %lld for %s (shown once):\n%s\n",
			       (long long)json_integer_value(json_object_get(j, "id")), argv[1],
			       json_string_value(json_object_get(j, "token")));
	} else if (argc == 2 && strcmp(argv[0], "revoke") == 0 && is_id(argv[1])) {
		snprintf(path, sizeof(path), "/api/v1/tokens/%s", argv[1]);
		rc = ctl_call(c, "DELETE", path, NULL, &j);
		if (!rc && !c->json)
			printf("token %s revoked\n", argv[1]);
	} else {
		return ctl_usage("token create USER | token revoke ID");
	}
	json_decref(j);
	return rc;
}

static int cmd_audit(struct ctl *c, int argc, char **argv)
{
	static const struct opt_map m[] = { { "--limit", "limit" }, { NULL, NULL } };
	static const struct ctl_col cols[] = {
		{ "TS", "ts", 0 }, { "USER", "user", 0 }, { "ACTION", "action", 0 },
		{ "OBJECT", "object", 0 }, { "DETAIL", "detail", 70 },
	};
	char q[64] = "", path[128], *pos[1];
	int npos;

	if (parse_args(c, argc, argv, m, q, sizeof(q), pos, 0, &npos, NULL) != 0)
		return ctl_usage("audit [--limit N]");
	snprintf(path, sizeof(path), "/api/v1/audit%s", q);
	return get_list(c, path, cols, 5);
}

/* escalation|notify get|set FILE */
static int cmd_config(struct ctl *c, const char *what, int argc, char **argv,
		      const struct ctl_col *cols, size_t ncols)
{
	char path[64];
	json_error_t je;
	json_t *file, *j = NULL;
	char *body;
	int rc;

	snprintf(path, sizeof(path), "/api/v1/%s", what);
	if (argc == 1 && strcmp(argv[0], "get") == 0)
		return get_list(c, path, cols, ncols);
	if (argc != 2 || strcmp(argv[0], "set") != 0) {
		fprintf(stderr, "vigilctl: %s get | %s set FILE\n", what, what);
		return EXIT_USAGE;
	}
	file = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &je);
	if (!file) {
		fprintf(stderr, "vigilctl: %s:%d:%d: %s\n", argv[1], je.line, je.column, je.text);
		return EXIT_USAGE;
	}
	body = json_dumps(file, JSON_COMPACT);
	json_decref(file);
	rc = body ? ctl_call(c, "PUT", path, body, &j) : EXIT_SERVER;
	free(body);
	if (!rc && !c->json)
		ctl_out_table(stdout, j, cols, ncols);
	json_decref(j);
	return rc;
}

static int run(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col sensors[] = {
		{ "NAME", "name", 0 }, { "VERSION", "version", 0 }, { "RULESET", "ruleset", 0 },
		{ "LAST SEEN", "last_seen", 0 }, { "SILENT", "silent", 0 },
	};
	static const struct ctl_col esc[] = {
		{ "SEVERITY", "severity", 0 }, { "ACK WITHIN (S)", "ack_within_s", 0 }, { "TIERS", "tiers", 0 },
	};
	static const struct ctl_col notify[] = {
		{ "NAME", "name", 0 }, { "TYPE", "type", 0 }, { "URL", "url", 60 },
		{ "MIN SEVERITY", "min_severity", 0 },
	};
	const char *cmd = argv[0];

	if (strcmp(cmd, "incidents") == 0)
		return cmd_incidents(c, argc - 1, argv + 1);
	if (strcmp(cmd, "incident") == 0)
		return cmd_incident(c, argc - 1, argv + 1);
	if (strcmp(cmd, "alerts") == 0)
		return cmd_alerts(c, argc - 1, argv + 1);
	if (strcmp(cmd, "flows") == 0)
		return cmd_flows(c, argc - 1, argv + 1);
	if (strcmp(cmd, "blocks") == 0)
		return cmd_blocks(c, argc - 1, argv + 1);
	if (strcmp(cmd, "sensors") == 0 && argc == 1)
		return get_list(c, "/api/v1/sensors", sensors, 5);
	if (strcmp(cmd, "users") == 0)
		return cmd_users(c, argc - 1, argv + 1);
	if (strcmp(cmd, "token") == 0)
		return cmd_token(c, argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(c, argc - 1, argv + 1);
	if (strcmp(cmd, "escalation") == 0)
		return cmd_config(c, "escalation", argc - 1, argv + 1, esc, 3);
	if (strcmp(cmd, "notify") == 0)
		return cmd_config(c, "notify", argc - 1, argv + 1, notify, 4);
	if (strcmp(cmd, "rules") == 0)
		return ctl_cmd_rules(c, argc - 1, argv + 1);
	if (strcmp(cmd, "health") == 0 && argc == 1) {
		json_t *j = NULL;
		int rc = ctl_call(c, "GET", "/healthz", NULL, &j);
		if (!rc && !c->json)
			printf("%s (version %s)\n", json_string_value(json_object_get(j, "status")),
			       json_string_value(json_object_get(j, "version")));
		json_decref(j);
		return rc;
	}
	return ctl_usage(NULL);
}

int main(int argc, char **argv)
{
	struct ctl c = { .url = getenv("VIGIL_URL"), .token = getenv("VIGIL_TOKEN") };
	char **rest = calloc((size_t)argc + 1, sizeof(char *)), *url;
	int n = 0, rc;

	if (!rest)
		return EXIT_SERVER;
	/* global options anywhere; everything else is the command */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--url") == 0 || strcmp(a, "--token") == 0 || strcmp(a, "--cacert") == 0)) {
			if (i + 1 >= argc) {
				free(rest);
				return ctl_usage("missing value");
			}
			if (a[2] == 'u')
				c.url = argv[++i];
			else if (a[2] == 't')
				c.token = argv[++i];
			else
				c.cacert = argv[++i];
		} else if (strcmp(a, "--json") == 0) {
			c.json = true;
		} else if (strcmp(a, "--insecure") == 0) {
			c.insecure = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			free(rest);
			fputs(usage_text, stdout);
			return 0;
		} else {
			rest[n++] = argv[i];
		}
	}
	if (n == 0) {
		free(rest);
		return ctl_usage("no command");
	}
	if (!c.url || !*c.url)
		c.url = "http://127.0.0.1:8470";
	url = strdup(c.url);
	if (!url) {
		free(rest);
		return EXIT_SERVER;
	}
	for (size_t k = strlen(url); k > 0 && url[k - 1] == '/'; k--)
		url[k - 1] = '\0';
	c.url = url;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c.curl = curl_easy_init();
	rc = c.curl ? run(&c, n, rest) : EXIT_SERVER;
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	free(url);
	free(rest);
	return rc;
}
