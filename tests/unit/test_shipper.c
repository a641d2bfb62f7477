/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shipper (dataplane/ship/ship.c, ship_alert.c) against
 * tests/unit/ship_receiver.py, a scripted HTTP receiver that logs every
 * request: the EVE -> ALERT conversion; batches in order with the auth
 * header and sensor; a 503 resends the same batch; a receiver that is down
 * (at start, or for 2 s in the middle) delays but loses nothing; a restart
 * resends what was not acknowledged and never reuses an id; heartbeats with
 * the engine's counters; stop drains, and is bounded when it cannot.
 *
 * Delivery is at-least-once: every check is on the alerts' first arrival
 * (all there, in enqueue order), resends allowed.
 *
 * usage: test_shipper [PATH/ship_receiver.py]; exits 77 without python3.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "ship.h"

static const char *receiver = "tests/unit/ship_receiver.py";
static char base_dir[256];
static unsigned dir_no;
static uint64_t next_flow = 1;   /* each EVE line's flow_id: enqueue order */

struct recv {
	pid_t pid;
	int port;
	char log[300];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void new_path(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "%s/%s%u", base_dir, what, dir_no++);
}

/* Starts the receiver with extra arguments (NULL-terminated); waits for its
 * port. */
static bool recv_start(struct recv *r, const char *const *extra)
{
	char pf[300];
	const char *argv[24];
	int n = 0;

	new_path(r->log, sizeof(r->log), "log");
	new_path(pf, sizeof(pf), "port");
	argv[n++] = "python3";
	argv[n++] = receiver;
	argv[n++] = "--log";
	argv[n++] = r->log;
	argv[n++] = "--port-file";
	argv[n++] = pf;
	for (int i = 0; extra && extra[i] && n < 22; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	r->pid = fork();
	if (r->pid == 0) {
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	for (double t0 = now_s(); now_s() - t0 < 15;) {
		FILE *f = fopen(pf, "r");
		if (f) {
			int ok = fscanf(f, "%d", &r->port);
			fclose(f);
			if (ok == 1)
				return true;
		}
		int st;
		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			printf("receiver exited early (status %d)\n", st);
			r->pid = 0;
			return false;
		}
		sleep_s(0.02);
	}
	return false;
}

static void recv_stop(struct recv *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
}

/* The receiver's log: an array of request objects. */
static json_t *recv_log(const struct recv *r)
{
	FILE *f = fopen(r->log, "r");
	json_t *a = json_array();
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return a;
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		if (j)
			json_array_append_new(a, j);
	}
	free(line);
	fclose(f);
	return a;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* An EVE alert line like eve_format_alert's, flow_id = next_flow++. */
static void make_eve(char *buf, size_t len)
{
	uint64_t i = next_flow++;

	snprintf(buf, len,
		 "{\"timestamp\":\"2026-01-15T10:00:01.176754+0000\",\"flow_id\":%" PRIu64 ","
		 "\"pcap_cnt\":66,\"event_type\":\"alert\",\"src_ip\":\"203.0.113.50\",\"src_port\":42896,"
		 "\"dest_ip\":\"198.51.100.11\",\"dest_port\":80,\"ip_v\":4,\"proto\":\"TCP\","
		 "\"pkt_src\":\"wire/pcap\",\"community_id\":\"1:SG4f5Lvlp84bceW6Mp44G7dY1Ms=\","
		 "\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":%" PRIu64 ",\"rev\":2,"
		 "\"signature\":\"VIGIL test \\\"%" PRIu64 "\\\"\",\"category\":\"Web Application Attack\","
		 "\"severity\":1,\"ruleset\":\"14624492e4423598\"},\"direction\":\"to_server\","
		 "\"payload\":\"R0VUIC8=\",\"payload_printable\":\"GET /\",\"stream\":1}",
		 i, 9000000 + i % 7, i);
}

/* Enqueues N fresh alerts in one call; returns the first flow_id. */
static uint64_t enqueue(struct ship *sh, size_t n)
{
	uint64_t first = next_flow;
	char (*lines)[1024] = malloc(n * sizeof(*lines));
	const char **p = malloc(n * sizeof(*p));

	for (size_t i = 0; i < n; i++) {
		make_eve(lines[i], sizeof(lines[i]));
		p[i] = lines[i];
	}
	CHECK_EQ(ship_enqueue(sh, p, n), n);
	free(lines);
	free(p);
	return first;
}

static bool wait_acked(struct ship *sh, uint64_t want, double timeout)
{
	struct ship_stats st;

	for (double t0 = now_s(); now_s() - t0 < timeout; sleep_s(0.02)) {
		ship_get_stats(sh, &st);
		if (st.acked >= want)
			return true;
	}
	ship_get_stats(sh, &st);
	printf("    timed out: acked %" PRIu64 " of %" PRIu64 ", last error \"%s\"\n", st.acked, want,
	       st.last_error);
	return false;
}

static void base_cfg(struct ship_cfg *c, const struct recv *r, char *spool, size_t len)
{
	static char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", r->port);
	new_path(spool, len, "spool");
	*c = (struct ship_cfg){ .url = url, .token = "vgl_test", .sensor = "s1", .spool_dir = spool,
				.batch = 50, .heartbeat_s = -1, .version = "0.1.0-test", .ruleset = "rs1" };
}

static struct ship *create(const struct ship_cfg *c, ship_counters_fn fn, void *arg)
{
	struct ship *sh = NULL;
	char err[256] = "";
	int rc = ship_create(&sh, c, fn, arg, err, sizeof(err));

	CHECK_EQ(rc, 0);
	if (rc)
		printf("    %s\n", err);
	if (sh)
		CHECK_EQ(ship_start(sh), 0);
	return sh;
}

/*
 * Checks the ingest requests in the log: method/auth/sensor/batch size, and
 * that the first arrivals of the alerts are exactly flow ids FIRST..LAST in
 * order, each id "s1:SEQ" with SEQ increasing.  Returns the number of
 * ingest requests (so callers can check retries).
 */
static int check_ingests(json_t *log, uint64_t first, uint64_t last, unsigned batch)
{
	uint64_t want = first, prev_seq = 0;
	size_t i;
	json_t *e;
	int n = 0;
	json_t *seen = json_object();

	json_array_foreach(log, i, e) {
		if (strcmp(jstr(e, "path"), "/api/v1/ingest") != 0)
			continue;
		n++;
		CHECK(strcmp(jstr(e, "auth"), "Bearer vgl_test") == 0);
		CHECK(strcmp(jstr(e, "content_type"), "application/json") == 0);
		json_t *body = json_object_get(e, "body");
		if (!json_is_object(body) && json_integer_value(json_object_get(e, "status")) == 400)
			continue;   /* test_poison: the malformed batch of a release build */
		CHECK(strcmp(jstr(body, "sensor"), "s1") == 0);
		json_t *alerts = json_object_get(body, "alerts");
		CHECK(json_is_array(alerts));
		CHECK(json_array_size(alerts) >= 1 && json_array_size(alerts) <= batch);
		size_t j;
		json_t *a;
		json_array_foreach(alerts, j, a) {
			const char *id = jstr(a, "id");
			unsigned long long seq = 0;
			CHECK(sscanf(id, "s1:%llu", &seq) == 1);
			if (json_object_get(seen, id))
				continue;   /* a resend */
			json_object_set_new(seen, id, json_true());
			uint64_t fid = (uint64_t)json_integer_value(json_object_get(a, "flow_id"));
			if (fid != want) {
				printf("    first arrival %" PRIu64 ", expected %" PRIu64 "\n", fid, want);
				CHECK_EQ(fid, want);
			}
			CHECK(seq > prev_seq);
			prev_seq = seq;
			want = fid + 1;
		}
	}
	CHECK_EQ(want, last + 1);
	json_decref(seen);
	return n;
}

/* ---- cases ---- */

static void test_convert(void)
{
	char line[2048], *out = NULL;
	json_t *j;

	cur_test = "ship_alert_from_eve";
	next_flow = 77;
	make_eve(line, sizeof(line));
	CHECK_EQ(ship_alert_from_eve(line, "edge-1", 42, &out), 0);
	j = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(j != NULL);
	CHECK(out && !strchr(out, '\n'));
	CHECK(strcmp(jstr(j, "id"), "edge-1:42") == 0);
	CHECK(strcmp(jstr(j, "ts"), "2026-01-15T10:00:01.176754+00:00") == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "sid")), 9000000 + 77 % 7);
	CHECK_EQ(json_integer_value(json_object_get(j, "gid")), 1);
	CHECK_EQ(json_integer_value(json_object_get(j, "rev")), 2);
	CHECK(strcmp(jstr(j, "signature"), "VIGIL test \"77\"") == 0);
	CHECK(strcmp(jstr(j, "category"), "Web Application Attack") == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "severity")), 1);
	CHECK(strcmp(jstr(j, "action"), "allowed") == 0);
	CHECK(strcmp(jstr(j, "ruleset"), "14624492e4423598") == 0);
	CHECK(strcmp(jstr(j, "src_ip"), "203.0.113.50") == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "src_port")), 42896);
	CHECK(strcmp(jstr(j, "dest_ip"), "198.51.100.11") == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "dest_port")), 80);
	CHECK(strcmp(jstr(j, "proto"), "TCP") == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "flow_id")), 77);
	CHECK(strcmp(jstr(j, "payload"), "R0VUIC8=") == 0);
	CHECK_EQ(json_object_size(j), 17);   /* nothing else of the EVE record */
	json_decref(j);
	free(out);

	/* ICMP, no flow, no payload; a sensor name that needs escaping */
	const char *icmp =
		"{\"timestamp\":\"2026-01-15T10:00:02.000001-0130\",\"event_type\":\"alert\","
		"\"src_ip\":\"2001:db8::1\",\"dest_ip\":\"2001:db8::2\",\"proto\":\"IPv6-ICMP\","
		"\"icmp_type\":128,\"alert\":{\"signature_id\":5,\"signature\":\"x\\u0001\"}}";
	CHECK_EQ(ship_alert_from_eve(icmp, "a\"b", 1, &out), 0);
	j = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(j != NULL);
	CHECK(strcmp(jstr(j, "id"), "a\"b:1") == 0);
	CHECK(strcmp(jstr(j, "ts"), "2026-01-15T10:00:02.000001-01:30") == 0);
	CHECK(json_object_get(j, "src_port") == NULL);   /* optional: no ports, no flow */
	CHECK(json_object_get(j, "dest_port") == NULL);
	CHECK(json_object_get(j, "flow_id") == NULL);
	CHECK_EQ(json_integer_value(json_object_get(j, "severity")), 3);
	CHECK_EQ(json_integer_value(json_object_get(j, "gid")), 1);
	CHECK(strcmp(jstr(j, "action"), "allowed") == 0);
	CHECK(json_object_get(j, "payload") == NULL);
	CHECK(strcmp(jstr(j, "signature"), "x\x01") == 0);
	json_decref(j);
	free(out);

	/* bytes that are not UTF-8 (EVE passes them through) */
	const char *bad8 = "{\"timestamp\":\"t\",\"event_type\":\"alert\",\"src_ip\":\"1\",\"dest_ip\":\"2\","
			   "\"proto\":\"UDP\",\"alert\":{\"signature_id\":5,\"signature\":\"caf\xe9 \xc3\xa9\"}}";
	CHECK_EQ(ship_alert_from_eve(bad8, "s", 1, &out), 0);
	j = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(strcmp(jstr(j, "signature"), "caf? \xc3\xa9") == 0);
	json_decref(j);
	free(out);

	/* Within the control plane's limits: long strings cut at a character
	 * boundary, out-of-range numbers replaced or left out. */
	char *longsig = malloc(4096);
	int ls = snprintf(longsig, 4096, "{\"timestamp\":\"2026-01-15T10:00:01Z\",\"event_type\":\"alert\","
			  "\"src_ip\":\"1.2.3.4\",\"dest_ip\":\"5.6.7.8\",\"proto\":\"TCP\",\"src_port\":70000,"
			  "\"alert\":{\"signature_id\":5,\"severity\":0,\"rev\":-1,\"signature\":\"");
	memset(longsig + ls, 'x', 1023);
	strcpy(longsig + ls + 1023, "\xc3\xa9yyy\",\"category\":\"");   /* e-acute across byte 1024 */
	ls = (int)strlen(longsig);
	memset(longsig + ls, 'c', 300);
	strcpy(longsig + ls + 300, "\"}}");
	CHECK_EQ(ship_alert_from_eve(longsig, "s", 1, &out), 0);
	j = out ? json_loads(out, 0, NULL) : NULL;
	CHECK_EQ(strlen(jstr(j, "signature")), 1023);
	CHECK_EQ(strlen(jstr(j, "category")), 256);
	CHECK_EQ(json_integer_value(json_object_get(j, "severity")), 3);
	CHECK(json_object_get(j, "src_port") == NULL);
	CHECK(json_object_get(j, "rev") == NULL);
	CHECK(strcmp(jstr(j, "ts"), "2026-01-15T10:00:01Z") == 0);
	json_decref(j);
	free(out);
	free(longsig);

	/* a payload that would pass SPOOL_REC_MAX is left out */
	size_t big = SPOOL_REC_MAX + 100;
	char *huge = malloc(big + 512);
	int k = snprintf(huge, 512, "{\"timestamp\":\"t\",\"event_type\":\"alert\",\"src_ip\":\"1\","
			 "\"dest_ip\":\"2\",\"proto\":\"UDP\",\"alert\":{\"signature_id\":5},\"payload\":\"");
	memset(huge + k, 'A', big);
	strcpy(huge + k + big, "\"}");
	CHECK_EQ(ship_alert_from_eve(huge, "s", 1, &out), 0);
	j = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(j && json_object_get(j, "payload") == NULL);
	CHECK_EQ(json_integer_value(json_object_get(j, "sid")), 5);
	json_decref(j);
	free(out);
	free(huge);

	static const char *const bad[] = {
		"", "not json", "[1,2]", "{\"event_type\":\"flow\"}",
		"{\"timestamp\":\"t\",\"event_type\":\"alert\",\"src_ip\":\"1\",\"dest_ip\":\"2\",\"proto\":\"UDP\"}",
		"{\"timestamp\":\"t\",\"event_type\":\"alert\",\"src_ip\":\"1\",\"dest_ip\":\"2\",\"proto\":\"UDP\","
		"\"alert\":{\"signature_id\":\"5\"}}",
		"{\"timestamp\":\"t\",\"event_type\":\"alert\",\"dest_ip\":\"2\",\"proto\":\"UDP\","
		"\"alert\":{\"signature_id\":5}}",
		"{\"timestamp\":\"t\",\"event_type\":\"alert\",\"src_ip\":\"1\",\"dest_ip\":\"2\",\"proto\":\"UDP\","
		"\"src_port\":\"80\",\"alert\":{\"signature_id\":5}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = (char *)1;
		CHECK_EQ(ship_alert_from_eve(bad[i], "s", 1, &out), -EINVAL);
		CHECK(out == NULL);
	}
	CHECK_EQ(ship_alert_from_eve(line, "bad\xff", 1, &out), -EINVAL);
}

static void test_create_errors(void)
{
	struct recv r = { .port = 9 };
	struct ship_cfg c;
	struct ship *sh = NULL, *sh2 = NULL;
	char spool[300], err[256];

	cur_test = "ship_create errors";
	base_cfg(&c, &r, spool, sizeof(spool));
	c.url = NULL;
	CHECK_EQ(ship_create(&sh, &c, NULL, NULL, err, sizeof(err)), -EINVAL);
	base_cfg(&c, &r, spool, sizeof(spool));
	c.token = "vgl_a b";
	CHECK_EQ(ship_create(&sh, &c, NULL, NULL, err, sizeof(err)), -EINVAL);
	c.token = "vgl_a\r\nX-Evil: 1";
	CHECK_EQ(ship_create(&sh, &c, NULL, NULL, err, sizeof(err)), -EINVAL);
	c.token = "vgl_ok";
	c.sensor = "edge 1";
	CHECK_EQ(ship_create(&sh, &c, NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "sensor") != NULL);
	c.sensor = "s1234567890123456789012345678901234567890123456789012345678901234";   /* 65 */
	CHECK_EQ(ship_create(&sh, &c, NULL, NULL, err, sizeof(err)), -EINVAL);
	c.sensor = "s1";
	c.spool_max = 1000;
	CHECK_EQ(ship_create(&sh, &c, NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "spool-max") != NULL);
	c.spool_max = 0;
	CHECK_EQ(ship_create(&sh, &c, NULL, NULL, err, sizeof(err)), 0);
	CHECK_EQ(ship_create(&sh2, &c, NULL, NULL, err, sizeof(err)), -EBUSY);
	CHECK(sh2 == NULL);
	CHECK(strstr(err, "in use") != NULL);
	ship_destroy(sh);   /* never started */
	ship_destroy(NULL);
}

static void test_delivery(void)
{
	struct recv r;
	struct ship_cfg c;
	struct ship *sh;
	struct ship_stats st;
	char spool[300];

	cur_test = "delivery in order";
	if (!recv_start(&r, (const char *[]){ "--token", "vgl_test", NULL })) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	sh = create(&c, NULL, NULL);
	if (!sh)
		goto out;
	uint64_t first = enqueue(sh, 1);
	enqueue(sh, 120);
	enqueue(sh, 109);
	CHECK(wait_acked(sh, 230, 20));
	ship_stop(sh, 1);
	ship_stop(sh, 1);   /* twice: fine */
	ship_get_stats(sh, &st);
	CHECK_EQ(st.enqueued, 230);
	CHECK_EQ(st.spooled, 230);
	CHECK_EQ(st.acked, 230);
	CHECK_EQ(st.retries, 0);
	CHECK_EQ(st.duplicates, 0);
	CHECK_EQ(st.spool.backlog_bytes, 0);
	CHECK_EQ(st.last_error[0], '\0');
	json_t *log = recv_log(&r);
	int n = check_ingests(log, first, first + 229, 50);
	CHECK(n >= 5 && n <= 8);   /* 50-alert batches, however the enqueues interleaved */
	json_decref(log);
	ship_destroy(sh);
out:
	recv_stop(&r);
}

/* Flow summaries of alerted flows: converted to FLOW objects and posted in
 * the body's "flows", alerts in "alerts", from one spool in order. */
static void test_flows(void)
{
	static const char flow_line[] =
		"{\"timestamp\":\"2026-01-15T10:00:01.000000+0000\",\"flow_id\":%d,\"event_type\":\"flow\","
		"\"src_ip\":\"203.0.113.50\",\"src_port\":42896,\"dest_ip\":\"198.51.100.11\",\"dest_port\":80,"
		"\"proto\":\"TCP\",\"community_id\":\"1:x\",\"flow\":{\"pkts_toserver\":5,\"pkts_toclient\":4,"
		"\"bytes_toserver\":600,\"bytes_toclient\":%d,\"start\":\"2026-01-15T10:00:01.000000+0000\","
		"\"end\":\"2026-01-15T10:00:02.500000+0000\",\"age\":1,\"state\":\"closed\","
		"\"reason\":\"shutdown\",\"alerted\":true},\"tcp\":{\"tcp_flags\":\"1b\"}}";
	struct recv r;
	struct ship_cfg c;
	struct ship *sh;
	char spool[300], lines[6][1024], *out = NULL;
	const char *p[6];
	json_t *j;

	cur_test = "flow summaries";
	snprintf(lines[0], sizeof(lines[0]), flow_line, 5, 9000);
	CHECK_EQ(ship_alert_from_eve(lines[0], "s1", 3, &out), -EINVAL);   /* alerts only */
	CHECK_EQ(ship_record_from_eve(lines[0], "s1", 3, &out), 0);
	CHECK(out && ship_is_flow(out, strlen(out)));
	j = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(strcmp(jstr(j, "id"), "s1:3") == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "flow_id")), 5);
	CHECK(strcmp(jstr(j, "start"), "2026-01-15T10:00:01.000000+00:00") == 0);
	CHECK(strcmp(jstr(j, "end"), "2026-01-15T10:00:02.500000+00:00") == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "bytes_toclient")), 9000);
	CHECK_EQ(json_integer_value(json_object_get(j, "pkts_toserver")), 5);
	CHECK(strcmp(jstr(j, "state"), "closed") == 0 && strcmp(jstr(j, "reason"), "shutdown") == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "dest_port")), 80);
	CHECK_EQ(json_object_size(j), 16);
	json_decref(j);
	free(out);
	out = NULL;
	make_eve(lines[1], sizeof(lines[1]));
	CHECK_EQ(ship_record_from_eve(lines[1], "s1", 4, &out), 0);   /* alerts too */
	CHECK(out && !ship_is_flow(out, strlen(out)));
	free(out);
	CHECK_EQ(ship_record_from_eve("{\"event_type\":\"flow\",\"flow_id\":1}", "s1", 1, &out), -EINVAL);
	CHECK_EQ(ship_record_from_eve("{\"event_type\":\"stats\"}", "s1", 1, &out), -EINVAL);

	if (!recv_start(&r, (const char *[]){ "--token", "vgl_test", NULL })) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	sh = create(&c, NULL, NULL);
	if (!sh)
		goto out;
	for (int i = 0; i < 6; i++) {
		if (i % 2)
			snprintf(lines[i], sizeof(lines[i]), flow_line, 100 + i, i);
		else
			make_eve(lines[i], sizeof(lines[i]));
		p[i] = lines[i];
	}
	CHECK_EQ(ship_enqueue(sh, p, 6), 6);
	CHECK(wait_acked(sh, 6, 20));
	ship_stop(sh, 1);
	json_t *log = recv_log(&r), *e;
	size_t i, nal = 0, nfl = 0;
	json_array_foreach(log, i, e) {
		json_t *body = json_object_get(e, "body"), *x;
		size_t k;
		if (strcmp(jstr(e, "path"), "/api/v1/ingest") != 0)
			continue;
		json_array_foreach(json_object_get(body, "alerts"), k, x) {
			CHECK(json_object_get(x, "sid") && !json_object_get(x, "type"));
			nal++;
		}
		json_array_foreach(json_object_get(body, "flows"), k, x) {
			CHECK(strcmp(jstr(x, "type"), "flow") == 0);
			CHECK_EQ(json_integer_value(json_object_get(x, "flow_id")),
				 100 + json_integer_value(json_object_get(x, "bytes_toclient")));
			nfl++;
		}
	}
	CHECK_EQ(nal, 3);
	CHECK_EQ(nfl, 3);
	json_decref(log);
	ship_destroy(sh);
out:
	recv_stop(&r);
}

static void test_retry(void)
{
	struct recv r;
	struct ship_cfg c;
	struct ship *sh;
	struct ship_stats st;
	char spool[300];

	cur_test = "503 then resend";
	if (!recv_start(&r, (const char *[]){ "--script", "503,200,200", NULL })) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	sh = create(&c, NULL, NULL);   /* default backoff: 0.5 s */
	if (!sh)
		goto out;
	double t0 = now_s();
	uint64_t first = enqueue(sh, 120);
	CHECK(wait_acked(sh, 120, 20));
	CHECK(now_s() - t0 >= 0.45);
	ship_stop(sh, 1);
	ship_get_stats(sh, &st);
	CHECK_EQ(st.retries, 1);
	CHECK_EQ(st.acked, 120);
	CHECK_EQ(st.sent, 170);        /* the first 50 twice */
	CHECK(strstr(st.last_error, "HTTP 503") != NULL);
	json_t *log = recv_log(&r);
	CHECK_EQ(check_ingests(log, first, first + 119, 50), 4);
	json_t *a0 = json_object_get(json_object_get(json_array_get(log, 0), "body"), "alerts");
	json_t *a1 = json_object_get(json_object_get(json_array_get(log, 1), "body"), "alerts");
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(log, 0), "status")), 503);
	CHECK(json_equal(a0, a1));     /* the same batch, same ids */
	json_decref(log);
	ship_destroy(sh);
out:
	recv_stop(&r);
}

static void test_down(void)
{
	struct recv r;
	struct ship_cfg c;
	struct ship *sh;
	struct ship_stats st;
	char spool[300];

	cur_test = "receiver down at start";
	if (!recv_start(&r, (const char *[]){ "--down-first", "2", NULL })) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	sh = create(&c, NULL, NULL);
	if (!sh)
		goto out;
	uint64_t first = enqueue(sh, 100);
	sleep_s(0.8);
	ship_get_stats(sh, &st);
	CHECK(st.retries >= 1);
	CHECK_EQ(st.acked, 0);
	CHECK(st.backoff_ms >= 500);
	uint64_t backlog = st.spool.backlog_bytes;
	CHECK(backlog > 100 * 300);
	CHECK(strstr(st.last_error, "ingest:") != NULL);
	enqueue(sh, 100);
	ship_get_stats(sh, &st);
	CHECK(st.spool.backlog_bytes > backlog);   /* the spool grows */
	CHECK(wait_acked(sh, 200, 20));
	ship_stop(sh, 1);
	ship_get_stats(sh, &st);
	CHECK_EQ(st.spool.backlog_bytes, 0);
	CHECK_EQ(st.spool.drops, 0);
	json_t *log = recv_log(&r);
	check_ingests(log, first, first + 199, 50);
	json_decref(log);
	ship_destroy(sh);
out:
	recv_stop(&r);

	cur_test = "receiver down for 2 s";
	if (!recv_start(&r, (const char *[]){ "--down-after", "2", "--down-for", "2", NULL })) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	c.batch = 20;
	c.retry_min_ms = 100;
	c.retry_max_ms = 400;
	sh = create(&c, NULL, NULL);
	if (!sh)
		goto out2;
	first = enqueue(sh, 150);
	double t0 = now_s();
	CHECK(wait_acked(sh, 150, 20));
	CHECK(now_s() - t0 >= 1.5);
	ship_stop(sh, 1);
	ship_get_stats(sh, &st);
	CHECK(st.retries >= 3);
	CHECK(st.backoff_ms == 0);
	log = recv_log(&r);
	check_ingests(log, first, first + 149, 20);
	json_decref(log);
	ship_destroy(sh);
out2:
	recv_stop(&r);
}

static void test_restart(void)
{
	struct recv r;
	struct ship_cfg c;
	struct ship *sh;
	struct ship_stats st;
	char spool[300];

	cur_test = "restart resends, ids never reused";
	if (!recv_start(&r, (const char *[]){ "--down-first", "60", NULL })) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	c.heartbeat_s = 0.2;   /* the final heartbeat cannot go either */
	sh = create(&c, NULL, NULL);
	if (!sh)
		goto out;
	uint64_t first = enqueue(sh, 60);
	sleep_s(0.2);
	double t0 = now_s();
	ship_stop(sh, 0.5);             /* cannot drain: bounded */
	CHECK(now_s() - t0 < 3.0);
	ship_get_stats(sh, &st);
	CHECK_EQ(st.acked, 0);
	CHECK(st.spool.backlog_bytes > 0);
	ship_destroy(sh);
	recv_stop(&r);

	if (!recv_start(&r, NULL)) {
		CHECK(!"receiver started");
		return;
	}
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", r.port);
	c.url = url;
	c.heartbeat_s = -1;
	sh = create(&c, NULL, NULL);    /* same spool */
	if (!sh)
		goto out;
	CHECK(wait_acked(sh, 60, 20));
	enqueue(sh, 10);
	CHECK(wait_acked(sh, 70, 20));
	ship_stop(sh, 1);
	json_t *log = recv_log(&r);
	check_ingests(log, first, first + 69, 50);   /* checks ids increase across the restart */
	json_decref(log);
	ship_destroy(sh);
out:
	recv_stop(&r);
}

static void test_drain(void)
{
	struct recv r;
	struct ship_cfg c;
	struct ship *sh;
	struct ship_stats st;
	char spool[300];

	cur_test = "stop drains";
	if (!recv_start(&r, NULL)) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	c.batch = 10;
	c.heartbeat_s = 30;   /* so exactly two: at start and at exit */
	sh = create(&c, NULL, NULL);
	if (!sh)
		goto out;
	uint64_t first = enqueue(sh, 300);
	ship_stop(sh, 20);
	ship_get_stats(sh, &st);
	CHECK_EQ(st.acked, 300);
	CHECK_EQ(st.heartbeats, 2);
	CHECK_EQ(st.spool.backlog_bytes, 0);
	json_t *log = recv_log(&r);
	CHECK_EQ(check_ingests(log, first, first + 299, 10), 30);
	json_decref(log);
	/* enqueue after stop: spooled for the next run */
	enqueue(sh, 5);
	ship_get_stats(sh, &st);
	CHECK_EQ(st.spooled, 305);
	CHECK(st.spool.backlog_bytes > 0);
	ship_destroy(sh);
out:
	recv_stop(&r);
}

struct hb_arg {
	int calls;
};

static void counters(void *arg, json_t *obj)
{
	struct hb_arg *h = arg;

	h->calls++;
	json_object_set_new(obj, "capture.kernel_drops", json_integer(7));
	json_object_set_new(obj, "test.calls", json_integer(h->calls));
}

static void test_heartbeat(void)
{
	struct recv r;
	struct ship_cfg c;
	struct ship *sh;
	struct ship_stats st;
	struct hb_arg h = { 0 };
	char spool[300];

	cur_test = "heartbeat";
	if (!recv_start(&r, (const char *[]){ "--token", "vgl_test", NULL })) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	c.heartbeat_s = 0.25;
	sh = create(&c, counters, &h);
	if (!sh)
		goto out;
	enqueue(sh, 3);
	CHECK(wait_acked(sh, 3, 10));
	sleep_s(0.6);
	ship_set_ruleset(sh, "rs2");
	sleep_s(0.4);
	ship_get_stats(sh, &st);
	uint64_t before = st.heartbeats;
	CHECK(before >= 3);
	ship_stop(sh, 1);
	ship_get_stats(sh, &st);
	CHECK(st.heartbeats >= before + 1);   /* one more at exit (and maybe a periodic one) */
	CHECK_EQ(st.heartbeat_errors, 0);
	CHECK_EQ((uint64_t)h.calls, st.heartbeats);

	json_t *log = recv_log(&r), *e;
	size_t i;
	int n = 0;
	bool rs2 = false;
	json_array_foreach(log, i, e) {
		if (strcmp(jstr(e, "path"), "/api/v1/heartbeat") != 0)
			continue;
		json_t *b = json_object_get(e, "body"), *ctr = json_object_get(b, "counters");
		n++;
		CHECK(strcmp(jstr(e, "auth"), "Bearer vgl_test") == 0);
		CHECK(strcmp(jstr(b, "sensor"), "s1") == 0);
		CHECK(strcmp(jstr(b, "version"), "0.1.0-test") == 0);
		if (strcmp(jstr(b, "ruleset"), "rs2") == 0)
			rs2 = true;
		else
			CHECK(!rs2 && strcmp(jstr(b, "ruleset"), "rs1") == 0);
		CHECK_EQ(json_integer_value(json_object_get(ctr, "capture.kernel_drops")), 7);
		CHECK_EQ(json_integer_value(json_object_get(ctr, "test.calls")), n);
		CHECK(json_is_integer(json_object_get(ctr, "control.spooled")));
		CHECK(json_is_integer(json_object_get(ctr, "control.spool_drops")));
		CHECK(json_is_integer(json_object_get(ctr, "control.spool_backlog_bytes")));
	}
	CHECK_EQ((uint64_t)n, st.heartbeats);
	CHECK(rs2);
	/* the last one saw the delivered alerts */
	json_t *lastb = NULL;
	json_array_foreach(log, i, e)
		if (strcmp(jstr(e, "path"), "/api/v1/heartbeat") == 0)
			lastb = json_object_get(e, "body");
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(lastb, "counters"), "control.acked")), 3);
	json_decref(log);
	ship_destroy(sh);
out:
	recv_stop(&r);
}

/* A spooled record that is not JSON (a foreign or damaged spool) must not
 * block the queue: debug builds skip it on read, release builds after the
 * 400 it causes. */
static void test_poison(void)
{
	struct recv r;
	struct ship_cfg c;
	struct ship *sh;
	struct ship_stats st;
	struct spool *sp;
	char spool[300];

	cur_test = "a record that is not JSON";
	if (!recv_start(&r, (const char *[]){ "--script", "400,200", NULL })) {
		CHECK(!"receiver started");
		return;
	}
	base_cfg(&c, &r, spool, sizeof(spool));
	struct spool_cfg sc = { .dir = spool };
	CHECK_EQ(spool_open(&sp, &sc), 0);
	static const char *const texts[3] = { "{\"id\":\"s1:1\",\"flow_id\":1}", "{\"id\":",
					      "{\"id\":\"s1:2\",\"flow_id\":2}" };
	struct spool_rec recs[3];
	for (int i = 0; i < 3; i++)
		recs[i] = (struct spool_rec){ texts[i], (uint32_t)strlen(texts[i]) };
	CHECK_EQ(spool_append_batch(sp, recs, 3), 3);
	spool_close(sp);
	c.retry_min_ms = 50;
	sh = create(&c, NULL, NULL);
	if (!sh)
		goto out;
	CHECK(wait_acked(sh, 2, 10));
	ship_stop(sh, 1);
	ship_get_stats(sh, &st);
	CHECK_EQ(st.rejected, 1);
	CHECK_EQ(st.spool.backlog_bytes, 0);
	json_t *log = recv_log(&r);
	check_ingests(log, 1, 2, 50);
	json_decref(log);
	ship_destroy(sh);
out:
	recv_stop(&r);
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	if (argc > 1)
		receiver = argv[1];
	if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
		printf("SKIP: python3 is needed for the scripted receiver\n");
		return 77;
	}
	if (access(receiver, R_OK) != 0) {
		printf("cannot read %s (pass the path of ship_receiver.py)\n", receiver);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(base_dir, sizeof(base_dir), "%s/test_shipper.XXXXXX", tmp);
	if (!mkdtemp(base_dir)) {
		perror(base_dir);
		return 1;
	}
	test_convert();
	test_create_errors();
	test_delivery();
	test_flows();
	test_retry();
	test_down();
	test_restart();
	test_drain();
	test_heartbeat();
	test_poison();
	if (failures) {
		printf("%d check(s) failed (files kept in %s)\n", failures, base_dir);
	} else {
		nftw(base_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		printf("all shipper checks passed\n");
	}
	return failures ? 1 : 0;
}
