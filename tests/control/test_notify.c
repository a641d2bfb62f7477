/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the notification library (control/notify).
 *
 * The targets are real: notify_receiver.py (spawned per test) is an HTTP
 * server or a UDP syslog listener on 127.0.0.1 that answers from a script
 * ("503,503,200", "hang", "close", ...) and records every request (time,
 * path, headers, body, client port) or datagram (raw and split by an RFC
 * 5424 regex) as JSON lines, which the checks read back.  Results come from
 * the library's callback.
 *
 * Usage: test_notify [PYTHON3 [notify_receiver.py]]
 * Standalone: prints each failed check with its line; exit 0 iff all pass,
 * 77 (skip) if python3 cannot be started.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "notify.h"
#include "notify_int.h"

#include "check.h"

extern char **environ;

static const char *python = "python3";
static const char *receiver_py = "tests/control/notify_receiver.py";
static char tmpdir[256];

#define CHECK_STR(got, want) check_str(__FILE__, __LINE__, #got, (got), (want))

static void check_str(const char *file, int line, const char *expr, const char *got, const char *want)
{
	if ((!got && !want) || (got && want && strcmp(got, want) == 0))
		return;
	printf("FAIL %s:%d [%s]: %s\n    got:  %s%s%s\n    want: %s%s%s\n", file, line, cur_test, expr,
	       got ? "'" : "", got ? got : "NULL", got ? "'" : "", want ? "'" : "", want ? want : "NULL",
	       want ? "'" : "");
	failures++;
}

static double now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------- receiver */

struct rcv {
	pid_t pid;
	int in_fd;          /* the receiver's stdin: it exits when we close it */
	int port;
	char log[320];
	char url[128];
};

static int rcv_no;

/* Start a receiver; 0 or -1 (reported).  path: the URL path for HTTP. */
static int rcv_start(struct rcv *r, const char *script, bool udp, const char *path)
{
	int in[2], out[2];
	posix_spawn_file_actions_t fa;
	char buf[32] = "";
	size_t got = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->log, sizeof(r->log), "%s/rcv%d.jsonl", tmpdir, ++rcv_no);
	if (pipe(in) || pipe(out))
		return -1;
	char *argv[] = { (char *)python, (char *)receiver_py, "--log", r->log, "--script",
			 (char *)(script ? script : "200"), udp ? "--udp" : NULL, NULL };
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	int rc = posix_spawnp(&r->pid, python, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (rc) {
		close(in[1]);
		close(out[0]);
		printf("cannot start %s: %s\n", python, strerror(rc));
		return -1;
	}
	r->in_fd = in[1];
	while (got < sizeof(buf) - 1) {
		ssize_t k = read(out[0], buf + got, 1);
		if (k <= 0 || buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = 0;
	close(out[0]);
	r->port = atoi(buf);
	if (r->port <= 0) {
		printf("receiver %s did not start\n", receiver_py);
		return -1;
	}
	if (udp)
		snprintf(r->url, sizeof(r->url), "udp://127.0.0.1:%d", r->port);
	else
		snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%d%s", r->port, path ? path : "/");
	return 0;
}

static void rcv_stop(struct rcv *r)
{
	if (r->pid <= 0)
		return;
	close(r->in_fd);
	kill(r->pid, SIGTERM);
	waitpid(r->pid, NULL, 0);
	unlink(r->log);
	r->pid = 0;
}

/* The records so far, as a JSON array (never NULL). */
static json_t *rcv_records(const struct rcv *r)
{
	json_t *a = json_array();
	FILE *f = fopen(r->log, "r");
	char *line = NULL;
	size_t cap = 0;

	while (f && getline(&line, &cap, f) > 0) {
		json_error_t e;
		json_t *o = json_loads(line, 0, &e);
		if (o)
			json_array_append_new(a, o);
	}
	free(line);
	if (f)
		fclose(f);
	return a;
}

/* Wait until at least n records or timeout_s; returns the records. */
static json_t *rcv_wait(const struct rcv *r, size_t n, double timeout_s)
{
	double end = now_mono() + timeout_s;
	json_t *a;

	for (;;) {
		a = rcv_records(r);
		if (json_array_size(a) >= n || now_mono() > end)
			return a;
		json_decref(a);
		sleep_s(0.01);
	}
}

static const char *rec_str(const json_t *rec, const char *k)
{
	return json_string_value(json_object_get(rec, k));
}

static double rec_t(const json_t *a, size_t i)
{
	return json_number_value(json_object_get(json_array_get(a, i), "t"));
}

/* a record's body parsed as JSON (caller decrefs) */
static json_t *rec_body(const json_t *a, size_t i)
{
	const char *b = rec_str(json_array_get(a, i), "body");
	return b ? json_loads(b, 0, NULL) : NULL;
}

/* a port on 127.0.0.1 where nothing listens */
static int closed_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, type, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd);
	return ntohs(a.sin_port);
}

/* -------------------------------------------------------------- results */

struct res {
	char target[64], event[16], error[256];
	int64_t id;
	bool delivered, has_error;
	unsigned tries;
	int status;
	double ts;
};

struct col {
	pthread_mutex_t m;
	size_t n;
	struct res r[2048];
	/* optional: queue this event from inside the first callback */
	struct notify *requeue_n;
	json_t *requeue_inc;
	int requeue_rc;
};

static void col_init(struct col *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->m, NULL);
	c->requeue_rc = 1;
}

static void on_result(void *arg, const struct notify_result *r)
{
	struct col *c = arg;

	pthread_mutex_lock(&c->m);
	if (c->n < sizeof(c->r) / sizeof(c->r[0])) {
		struct res *x = &c->r[c->n];
		snprintf(x->target, sizeof(x->target), "%s", r->target);
		snprintf(x->event, sizeof(x->event), "%s", r->event);
		snprintf(x->error, sizeof(x->error), "%s", r->error ? r->error : "");
		x->has_error = r->error != NULL;
		x->id = r->incident_id;
		x->delivered = r->delivered;
		x->tries = r->tries;
		x->status = r->http_status;
		x->ts = r->ts;
	}
	c->n++;
	bool requeue = c->requeue_inc && c->n == 1;
	pthread_mutex_unlock(&c->m);
	if (requeue) {
		struct notify_stats st;
		notify_get_stats(c->requeue_n, &st);     /* must not deadlock either */
		c->requeue_rc = notify_event(c->requeue_n, "resolved", c->requeue_inc);
	}
}

static size_t col_count(struct col *c)
{
	pthread_mutex_lock(&c->m);
	size_t n = c->n;
	pthread_mutex_unlock(&c->m);
	return n;
}

static const struct res *col_find(struct col *c, const char *target, const char *event, int64_t id)
{
	for (size_t i = 0; i < c->n && i < sizeof(c->r) / sizeof(c->r[0]); i++)
		if (strcmp(c->r[i].target, target) == 0 && strcmp(c->r[i].event, event) == 0 && c->r[i].id == id)
			return &c->r[i];
	return NULL;
}

/* ------------------------------------------------------------ fixtures */

/* An INCIDENT as the contract has it, written the way jansson dumps it
 * compact, so the exact webhook body can be spelled out. */
#define INC_TEXT \
	"{\"id\":42,\"key\":\"2001:10.0.0.5\",\"title\":\"ET SCAN Nmap \\\"probe\\\" \xc3\xa9\"," \
	"\"severity\":1,\"status\":\"open\",\"assignee\":null,\"first_seen\":\"2024-05-01T10:00:00Z\"," \
	"\"last_seen\":\"2024-05-01T10:05:00Z\",\"alert_count\":7,\"sid\":2001,\"kind\":\"alert\"," \
	"\"opened_at\":\"2024-05-01T10:00:01Z\",\"notified_at\":null,\"acked_at\":null," \
	"\"mitigated_at\":null,\"resolved_at\":null,\"closed_at\":null,\"escalation_tier\":0," \
	"\"time_to_notify_s\":null,\"time_to_ack_s\":null}"

static json_t *inc_full(void)
{
	json_error_t e;
	json_t *o = json_loads(INC_TEXT, 0, &e);
	if (!o)
		printf("fixture: %s\n", e.text);
	return o;
}

static json_t *inc_new(int64_t id, int sev, const char *key, const char *title)
{
	json_t *o = json_pack("{s:I, s:s, s:i, s:s, s:s, s:i, s:i}", "id", (json_int_t)id, "key", key,
			      "severity", sev, "status", "open", "last_seen", "2024-05-01T10:05:00Z",
			      "alert_count", 3, "escalation_tier", 0);
	if (title)
		json_object_set_new(o, "title", json_string(title));
	return o;
}

static struct notify *mk(struct col *c, unsigned tries, double backoff, double timeout, size_t qmax)
{
	struct notify_cfg cfg = { .max_tries = tries, .backoff_s = backoff, .timeout_s = timeout,
				  .queue_max = qmax, .source = "sensor-hq" };
	struct notify *n = NULL;

	col_init(c);
	CHECK(notify_create(&n, &cfg, on_result, c) == 0 && n);
	return n;
}

static int set1(struct notify *n, const char *name, enum notify_type type, const char *url, int min_sev)
{
	struct notify_target t = { .name = name, .type = type, .url = url, .min_severity = min_sev,
				   .routing_key = type == NOTIFY_PAGERDUTY ? "R0123456789abcdef0123456789abcdef" : NULL };
	return notify_set_targets(n, &t, 1);
}

static bool keys_are(const json_t *o, const char *const *keys, size_t nk)
{
	if (!json_is_object(o) || json_object_size(o) != nk)
		return false;
	for (size_t i = 0; i < nk; i++)
		if (!json_object_get(o, keys[i]))
			return false;
	return true;
}

/* ---------------------------------------------------------------- tests */

static void test_formatters(void)
{
	char b[64], host[64], port[8];

	cur_test = "formatters";
	CHECK_EQ(notify_fmt_rfc3339(b, sizeof(b), 0), 24);
	CHECK_STR(b, "1970-01-01T00:00:00.000Z");
	notify_fmt_rfc3339(b, sizeof(b), 1714557900.25);
	CHECK_STR(b, "2024-05-01T10:05:00.250Z");
	CHECK_EQ(notify_utf8_cut("a\xc3\xa9", 3, 2), 1);
	CHECK_EQ(notify_utf8_cut("a\xc3\xa9", 3, 3), 3);
	CHECK_EQ(notify_utf8_cut("ab\xe2\x82\xac", 5, 4), 2);
	CHECK_EQ(notify_utf8_cut("abc", 3, 10), 3);
	notify_syslog_hostname(b, sizeof(b), "ctl host\x01");
	CHECK_STR(b, "ctl_host_");
	notify_syslog_hostname(b, sizeof(b), "");
	CHECK_STR(b, "-");
	CHECK(notify_syslog_url_parse("udp://[::1]:5514", host, sizeof(host), port, sizeof(port)) == 0);
	CHECK_STR(host, "::1");
	CHECK_STR(port, "5514");
	CHECK(notify_syslog_url_parse("udp://logs.example", host, sizeof(host), port, sizeof(port)) == 0);
	CHECK_STR(host, "logs.example");
	CHECK_STR(port, "514");
	CHECK(notify_syslog_url_parse("udp://h:0", host, sizeof(host), port, sizeof(port)) == -EINVAL);
	CHECK(notify_syslog_url_parse("udp://h:65536", host, sizeof(host), port, sizeof(port)) == -EINVAL);
	CHECK(notify_syslog_url_parse("udp://h:5x", host, sizeof(host), port, sizeof(port)) == -EINVAL);
	CHECK(notify_syslog_url_parse("udp://:514", host, sizeof(host), port, sizeof(port)) == -EINVAL);
	CHECK(notify_syslog_url_parse("udp://h/x", host, sizeof(host), port, sizeof(port)) == -EINVAL);
	CHECK(notify_syslog_url_parse("udp://[::1", host, sizeof(host), port, sizeof(port)) == -EINVAL);
	CHECK(notify_syslog_url_parse("tcp://h:514", host, sizeof(host), port, sizeof(port)) == -EINVAL);

	enum notify_type ty;
	CHECK(notify_type_parse("pagerduty", &ty) == 0 && ty == NOTIFY_PAGERDUTY);
	CHECK(notify_type_parse("email", &ty) == -EINVAL);
	CHECK_STR(notify_type_name(NOTIFY_SYSLOG), "syslog");
	CHECK(notify_type_name((enum notify_type)9) == NULL);
}

static void test_api_errors(void)
{
	struct col c;
	struct notify *n = NULL;
	struct notify_cfg bad = { .backoff_s = -1 };
	struct rcv r;

	cur_test = "api_errors";
	notify_destroy(NULL);
	CHECK(notify_create(&n, &bad, NULL, NULL) == -EINVAL && !n);
	bad.backoff_s = 0;
	bad.timeout_s = NAN;
	CHECK(notify_create(&n, &bad, NULL, NULL) == -EINVAL && !n);
	CHECK(notify_create(&n, NULL, NULL, NULL) == 0 && n);   /* defaults, no callback */
	notify_destroy(n);

	if (rcv_start(&r, "200", false, "/old")) {
		failures++;
		return;
	}
	n = mk(&c, 2, 0.05, 2, 0);
	CHECK(set1(n, "old", NOTIFY_WEBHOOK, r.url, 0) == 0);

	const struct notify_target bads[] = {
		{ .name = NULL, .type = NOTIFY_WEBHOOK, .url = "http://127.0.0.1/" },
		{ .name = "", .type = NOTIFY_WEBHOOK, .url = "http://127.0.0.1/" },
		{ .name = "w", .type = NOTIFY_WEBHOOK, .url = NULL },
		{ .name = "w", .type = NOTIFY_WEBHOOK, .url = "ftp://127.0.0.1/" },
		{ .name = "w", .type = NOTIFY_WEBHOOK, .url = "file:///etc/passwd" },
		{ .name = "w", .type = NOTIFY_WEBHOOK, .url = "not a url" },
		{ .name = "p", .type = NOTIFY_PAGERDUTY, .url = NULL, .routing_key = NULL },
		{ .name = "p", .type = NOTIFY_PAGERDUTY, .url = NULL, .routing_key = "" },
		{ .name = "s", .type = NOTIFY_SYSLOG, .url = "udp://" },
		{ .name = "s", .type = NOTIFY_SYSLOG, .url = "udp://h:70000" },
		{ .name = "s", .type = NOTIFY_SYSLOG, .url = "http://h:514" },
		{ .name = "s", .type = NOTIFY_SYSLOG, .url = NULL },
		{ .name = "x", .type = (enum notify_type)7, .url = "http://127.0.0.1/" },
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const char *why = NULL;
		if (notify_set_targets(n, &bads[i], 1) != -EINVAL)
			printf("FAIL %s:%d [%s]: bad target %zu accepted\n", __FILE__, __LINE__, cur_test, i), failures++;
		/* the same verdict without a notifier, with a "field: reason" */
		if (notify_target_check(&bads[i], &why) != -EINVAL || !why || !strstr(why, ": "))
			printf("FAIL %s:%d [%s]: bad target %zu passes the check (%s)\n", __FILE__, __LINE__,
			       cur_test, i, why ? why : "no reason"), failures++;
	}
	const struct notify_target dup[] = {
		{ .name = "a", .type = NOTIFY_WEBHOOK, .url = "http://127.0.0.1/" },
		{ .name = "a", .type = NOTIFY_SYSLOG, .url = "udp://127.0.0.1:514" },
	};
	CHECK(notify_set_targets(n, dup, 2) == -EINVAL);
	/* a valid one after an invalid one: nothing replaced either */
	const struct notify_target half[] = {
		{ .name = "good", .type = NOTIFY_SYSLOG, .url = "udp://127.0.0.1:514" },
		{ .name = "bad", .type = NOTIFY_WEBHOOK, .url = "gopher://x/" },
	};
	CHECK(notify_set_targets(n, half, 2) == -EINVAL);
	CHECK(notify_set_targets(NULL, NULL, 0) == -EINVAL);

	json_t *inc = inc_new(5, 2, "k5", "t5");
	CHECK(notify_event(n, "closed", inc) == -EINVAL);
	CHECK(notify_event(n, NULL, inc) == -EINVAL);
	CHECK(notify_event(n, "opened", NULL) == -EINVAL);
	json_t *arr = json_array();
	CHECK(notify_event(n, "opened", arr) == -EINVAL);
	json_decref(arr);
	json_t *x = json_deep_copy(inc);
	json_object_del(x, "id");
	CHECK(notify_event(n, "opened", x) == -EINVAL);
	json_object_set_new(x, "id", json_string("5"));
	CHECK(notify_event(n, "opened", x) == -EINVAL);
	json_object_set_new(x, "id", json_integer(5));
	json_object_del(x, "severity");
	CHECK(notify_event(n, "opened", x) == -EINVAL);
	json_object_set_new(x, "severity", json_integer(2));
	json_object_set_new(x, "key", json_string(""));
	CHECK(notify_event(n, "opened", x) == -EINVAL);
	json_object_del(x, "key");
	CHECK(notify_event(n, "opened", x) == -EINVAL);
	json_decref(x);

	/* the refused sets left "old" in place */
	CHECK(notify_event(n, "opened", inc) == 0);
	notify_flush(n, 5);
	json_t *a = rcv_wait(&r, 1, 2);
	CHECK_EQ(json_array_size(a), 1);
	CHECK_STR(rec_str(json_array_get(a, 0), "path"), "/old");
	CHECK_EQ(col_count(&c), 1);
	CHECK(c.r[0].delivered);
	json_decref(a);

	/* a PagerDuty target without a URL takes the default one */
	const struct notify_target pd = { .name = "pd", .type = NOTIFY_PAGERDUTY, .routing_key = "R" };
	const char *why = "unset";
	CHECK(notify_target_check(&pd, &why) == 0 && !why);
	CHECK(notify_target_check(&half[0], NULL) == 0);
	CHECK(notify_set_targets(n, &pd, 1) == 0);
	CHECK(notify_set_targets(n, NULL, 0) == 0);
	CHECK(notify_event(n, "opened", inc) == 0);      /* no target: nothing queued */
	struct notify_stats st;
	notify_get_stats(n, &st);
	CHECK_EQ(st.queued, 1);
	json_decref(inc);
	notify_destroy(n);
	rcv_stop(&r);
}

static void test_webhook_body(void)
{
	struct col c;
	struct rcv r;
	struct notify_stats st;

	cur_test = "webhook_body";
	if (rcv_start(&r, "200", false, "/hook?x=1")) {
		failures++;
		return;
	}
	struct notify *n = mk(&c, 5, 0.05, 2, 0);
	CHECK(set1(n, "hook", NOTIFY_WEBHOOK, r.url, 0) == 0);
	json_t *inc = inc_full();
	size_t nkeys = json_object_size(inc);
	sleep_s(0.05);                                  /* the worker is asleep now */
	double t0 = now_wall();
	CHECK(notify_event(n, "opened", inc) == 0);
	/* ours is left alone, and the library keeps its own copy: changing
	 * ours now changes nothing */
	CHECK_EQ(json_object_size(inc), nkeys);
	CHECK(!json_object_get(inc, "event") && !json_object_get(inc, "target"));
	json_object_set_new(inc, "title", json_string("changed"));
	json_decref(inc);
	notify_flush(n, 5);
	double t1 = now_wall();
	CHECK(t1 - t0 < 1.0);                            /* woken at once, not by a timer */

	json_t *a = rcv_wait(&r, 1, 2);
	CHECK_EQ(json_array_size(a), 1);
	const json_t *q = json_array_get(a, 0);
	const json_t *h = json_object_get(q, "headers");
	CHECK_STR(rec_str(q, "method"), "POST");
	CHECK_STR(rec_str(q, "path"), "/hook?x=1");
	CHECK_STR(json_string_value(json_object_get(h, "content-type")), "application/json");
	CHECK(json_object_get(h, "expect") == NULL);
	const char *ua = json_string_value(json_object_get(h, "user-agent"));
	CHECK(ua && strncmp(ua, "vigil-control/", 14) == 0);
	char want[2048];
	snprintf(want, sizeof(want), "%.*s,\"event\":\"opened\",\"target\":\"hook\"}", (int)strlen(INC_TEXT) - 1,
		 INC_TEXT);
	CHECK_STR(rec_str(q, "body"), want);
	json_decref(a);

	CHECK_EQ(col_count(&c), 1);
	CHECK_STR(c.r[0].target, "hook");
	CHECK_STR(c.r[0].event, "opened");
	CHECK_EQ(c.r[0].id, 42);
	CHECK(c.r[0].delivered);
	CHECK(!c.r[0].has_error);
	CHECK_EQ(c.r[0].tries, 1);
	CHECK_EQ(c.r[0].status, 200);
	CHECK(c.r[0].ts >= t0 - 0.001 && c.r[0].ts <= t1 + 0.001);
	notify_get_stats(n, &st);
	CHECK_EQ(st.queued, 1);
	CHECK_EQ(st.delivered, 1);
	CHECK_EQ(st.failed, 0);
	CHECK_EQ(st.retried, 0);
	CHECK_EQ(st.refused, 0);
	notify_destroy(n);
	rcv_stop(&r);
}

static void test_retry_backoff(void)
{
	struct col c;
	struct rcv r;
	struct notify_stats st;
	const double B = 0.05;

	cur_test = "retry_backoff";
	if (rcv_start(&r, "503,503,200", false, "/h")) {
		failures++;
		return;
	}
	struct notify *n = mk(&c, 5, B, 2, 0);
	CHECK(set1(n, "hook", NOTIFY_WEBHOOK, r.url, 0) == 0);
	json_t *inc = inc_new(7, 2, "k7", "seven");
	CHECK(notify_event(n, "opened", inc) == 0);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 1);
	CHECK(c.r[0].delivered);
	CHECK_EQ(c.r[0].tries, 3);
	CHECK_EQ(c.r[0].status, 200);
	notify_get_stats(n, &st);
	CHECK_EQ(st.retried, 2);
	CHECK_EQ(st.delivered, 1);
	CHECK_EQ(st.failed, 0);

	json_t *a = rcv_wait(&r, 3, 2);
	CHECK_EQ(json_array_size(a), 3);
	if (json_array_size(a) == 3) {
		double g1 = rec_t(a, 1) - rec_t(a, 0), g2 = rec_t(a, 2) - rec_t(a, 1);
		/* after the 1st failure B, after the 2nd 2B; and not wildly more */
		if (!(g1 >= B && g1 < B + 0.5) || !(g2 >= 2 * B && g2 < 2 * B + 0.5))
			printf("FAIL %s:%d [%s]: gaps %.3f %.3f, want >= %.2f, >= %.2f\n", __FILE__, __LINE__,
			       cur_test, g1, g2, B, 2 * B), failures++;
		/* all three on one kept-alive connection */
		json_int_t p0 = json_integer_value(json_object_get(json_array_get(a, 0), "client_port"));
		CHECK(p0 > 0);
		CHECK_EQ(json_integer_value(json_object_get(json_array_get(a, 1), "client_port")), p0);
		CHECK_EQ(json_integer_value(json_object_get(json_array_get(a, 2), "client_port")), p0);
		/* every try sends the same bytes */
		CHECK_STR(rec_str(json_array_get(a, 1), "body"), rec_str(json_array_get(a, 0), "body"));
		CHECK_STR(rec_str(json_array_get(a, 2), "body"), rec_str(json_array_get(a, 0), "body"));
	}
	json_decref(a);

	/* 429 is retried too; and the next delivery reuses the connection */
	rcv_stop(&r);
	if (rcv_start(&r, "429,200", false, "/h")) {
		failures++;
		goto out;
	}
	CHECK(set1(n, "hook2", NOTIFY_WEBHOOK, r.url, 0) == 0);
	CHECK(notify_event(n, "escalated", inc) == 0);
	notify_flush(n, 5);
	CHECK(notify_event(n, "acknowledged", inc) == 0);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 3);
	CHECK(c.r[1].delivered && c.r[1].tries == 2 && c.r[1].status == 200);
	CHECK(c.r[2].delivered && c.r[2].tries == 1);
	a = rcv_wait(&r, 3, 2);
	CHECK_EQ(json_array_size(a), 3);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(a, 2), "client_port")),
		 json_integer_value(json_object_get(json_array_get(a, 0), "client_port")));
	json_decref(a);
	notify_get_stats(n, &st);
	CHECK_EQ(st.retried, 3);
out:
	json_decref(inc);
	notify_destroy(n);
	rcv_stop(&r);
}

static void test_give_up_4xx(void)
{
	struct col c;
	struct rcv r;
	struct notify_stats st;

	cur_test = "give_up_4xx";
	if (rcv_start(&r, "400,404,200", false, "/h")) {
		failures++;
		return;
	}
	struct notify *n = mk(&c, 5, 0.02, 2, 0);
	CHECK(set1(n, "hook", NOTIFY_WEBHOOK, r.url, 0) == 0);
	json_t *inc = inc_new(8, 2, "k8", "eight");
	/* the callback of the first result queues a "resolved" from inside */
	c.requeue_n = n;
	c.requeue_inc = inc;
	CHECK(notify_event(n, "opened", inc) == 0);
	notify_flush(n, 5);
	sleep_s(0.2);                                   /* 10 backoffs: no retry may come */
	notify_flush(n, 5);
	CHECK_EQ(c.requeue_rc, 0);
	CHECK_EQ(col_count(&c), 2);
	CHECK(!c.r[0].delivered);
	CHECK_EQ(c.r[0].tries, 1);
	CHECK_EQ(c.r[0].status, 400);
	CHECK(strncmp(c.r[0].error, "HTTP 400", 8) == 0 && strstr(c.r[0].error, "scripted 400"));
	CHECK_STR(c.r[1].event, "resolved");
	CHECK(!c.r[1].delivered && c.r[1].tries == 1 && c.r[1].status == 404);
	json_t *a = rcv_wait(&r, 2, 1);
	CHECK_EQ(json_array_size(a), 2);
	json_decref(a);
	notify_get_stats(n, &st);
	CHECK_EQ(st.queued, 2);
	CHECK_EQ(st.failed, 2);
	CHECK_EQ(st.retried, 0);
	CHECK_EQ(st.delivered, 0);
	json_decref(inc);
	notify_destroy(n);
	rcv_stop(&r);
}

static void test_unreachable(void)
{
	struct col c;
	struct notify_stats st;
	char url[64];

	cur_test = "unreachable";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/h", closed_port(SOCK_STREAM));
	struct notify *n = mk(&c, 3, 0.02, 2, 0);
	CHECK(set1(n, "down", NOTIFY_WEBHOOK, url, 0) == 0);
	json_t *inc = inc_new(9, 1, "k9", "nine");
	double t0 = now_wall();
	CHECK(notify_event(n, "opened", inc) == 0);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 1);
	CHECK(!c.r[0].delivered);
	CHECK_EQ(c.r[0].tries, 3);
	CHECK_EQ(c.r[0].status, 0);
	CHECK(c.r[0].has_error && c.r[0].error[0]);
	CHECK(c.r[0].ts - t0 >= 0.02 + 0.04);          /* the two backoffs were waited */
	notify_get_stats(n, &st);
	CHECK_EQ(st.failed, 1);
	CHECK_EQ(st.retried, 2);
	CHECK_EQ(st.delivered, 0);
	json_decref(inc);
	notify_destroy(n);
}

static void test_timeouts(void)
{
	struct col c;
	struct rcv r;

	cur_test = "timeouts";
	/* no answer (timeout), connection closed without answer, then 200 */
	if (rcv_start(&r, "hang,close,200", false, "/h")) {
		failures++;
		return;
	}
	struct notify *n = mk(&c, 5, 0.05, 0.3, 0);
	CHECK(set1(n, "hook", NOTIFY_WEBHOOK, r.url, 0) == 0);
	json_t *inc = inc_new(10, 1, "k10", "ten");
	double t0 = now_wall();
	CHECK(notify_event(n, "opened", inc) == 0);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 1);
	CHECK(c.r[0].delivered);
	CHECK_EQ(c.r[0].tries, 3);
	json_t *a = rcv_wait(&r, 3, 2);
	CHECK_EQ(json_array_size(a), 3);
	if (json_array_size(a) == 3) {
		/* the 1st try began after t0 and ran into the timeout, then the
		 * backoff; the 2nd failed once recorded, then twice the backoff */
		CHECK(rec_t(a, 1) - t0 >= 0.3 + 0.05);
		CHECK(rec_t(a, 1) - t0 < 0.3 + 0.05 + 0.5);
		CHECK(rec_t(a, 2) - rec_t(a, 1) >= 0.1);
	}
	json_decref(a);
	json_decref(inc);
	notify_destroy(n);
	rcv_stop(&r);
}

/* Targets do not wait for each other: a hanging one does not hold back a quick one. */
static void test_targets_independent(void)
{
	struct col c;
	struct rcv slow, fast;

	cur_test = "targets_independent";
	if (rcv_start(&slow, "hang", false, "/s")) {
		failures++;
		return;
	}
	if (rcv_start(&fast, "200", false, "/f")) {
		failures++;
		rcv_stop(&slow);
		return;
	}
	struct notify *n = mk(&c, 1, 0.05, 1.0, 0);
	const struct notify_target ts[] = {
		{ .name = "slow", .type = NOTIFY_WEBHOOK, .url = slow.url },
		{ .name = "fast", .type = NOTIFY_WEBHOOK, .url = fast.url },
	};
	CHECK(notify_set_targets(n, ts, 2) == 0);
	json_t *inc = inc_new(11, 1, "k11", "eleven");
	CHECK(notify_event(n, "opened", inc) == 0);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 2);
	const struct res *f = col_find(&c, "fast", "opened", 11), *s = col_find(&c, "slow", "opened", 11);
	CHECK(f && f->delivered && f->tries == 1);
	CHECK(s && !s->delivered && s->tries == 1 && s->status == 0);
	CHECK(s && strstr(s->error, "imed out"));        /* "Operation timed out ..." */
	CHECK(f && s && s->ts - f->ts >= 0.7);
	json_decref(inc);
	notify_destroy(n);
	rcv_stop(&slow);
	rcv_stop(&fast);
}

/* Per target and incident, events are delivered in order even across retries;
 * other incidents go on meanwhile. */
static void test_order(void)
{
	struct col c;
	struct rcv r;

	cur_test = "order";
	if (rcv_start(&r, "503,200", false, "/h")) {
		failures++;
		return;
	}
	struct notify *n = mk(&c, 5, 0.1, 2, 0);
	CHECK(set1(n, "hook", NOTIFY_WEBHOOK, r.url, 0) == 0);
	json_t *i1 = inc_new(1, 1, "k1", "one"), *i2 = inc_new(2, 1, "k2", "two");
	CHECK(notify_event(n, "opened", i1) == 0);
	CHECK(notify_event(n, "resolved", i1) == 0);
	CHECK(notify_event(n, "opened", i2) == 0);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 3);
	json_t *a = rcv_wait(&r, 4, 2);
	static const char *const want[][2] = { { "opened", "1" }, { "opened", "2" }, { "opened", "1" },
					       { "resolved", "1" } };
	CHECK_EQ(json_array_size(a), 4);
	for (size_t i = 0; i < 4 && i < json_array_size(a); i++) {
		json_t *b = rec_body(a, i);
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(b, "id")));
		if (strcmp(json_string_value(json_object_get(b, "event")), want[i][0]) || strcmp(id, want[i][1]))
			printf("FAIL %s:%d [%s]: request %zu is %s %s, want %s %s\n", __FILE__, __LINE__, cur_test, i,
			       json_string_value(json_object_get(b, "event")), id, want[i][0], want[i][1]), failures++;
		json_decref(b);
	}
	json_decref(a);
	const struct res *o1 = col_find(&c, "hook", "opened", 1), *r1 = col_find(&c, "hook", "resolved", 1);
	CHECK(o1 && o1->delivered && o1->tries == 2);
	CHECK(r1 && r1->delivered && r1->tries == 1);
	json_decref(i1);
	json_decref(i2);
	notify_destroy(n);
	rcv_stop(&r);
}

static json_t *pd_expect_trigger(const json_t *a, size_t i, const char *severity)
{
	static const char *const top[] = { "routing_key", "event_action", "dedup_key", "payload" };
	static const char *const pay[] = { "summary", "source", "severity", "timestamp", "custom_details" };
	json_t *b = rec_body(a, i);
	const json_t *p = json_object_get(b, "payload");

	CHECK(keys_are(b, top, 4));
	CHECK(keys_are(p, pay, 5));
	CHECK_STR(json_string_value(json_object_get(b, "routing_key")), "R0123456789abcdef0123456789abcdef");
	CHECK_STR(json_string_value(json_object_get(b, "event_action")), "trigger");
	CHECK_STR(json_string_value(json_object_get(p, "source")), "sensor-hq");
	CHECK_STR(json_string_value(json_object_get(p, "severity")), severity);
	return b;
}

static void pd_expect_short(const json_t *a, size_t i, const char *action, const char *key)
{
	static const char *const top[] = { "routing_key", "event_action", "dedup_key" };
	json_t *b = rec_body(a, i);

	CHECK(keys_are(b, top, 3));
	CHECK_STR(json_string_value(json_object_get(b, "routing_key")), "R0123456789abcdef0123456789abcdef");
	CHECK_STR(json_string_value(json_object_get(b, "event_action")), action);
	CHECK_STR(json_string_value(json_object_get(b, "dedup_key")), key);
	json_decref(b);
}

static void test_pagerduty(void)
{
	struct col c;
	struct rcv r;
	static const char *const cd_keys[] = { "id", "alert_count", "status", "escalation_tier" };

	cur_test = "pagerduty";
	if (rcv_start(&r, "202", false, "/v2/enqueue")) {
		failures++;
		return;
	}
	struct notify *n = mk(&c, 5, 0.05, 2, 0);
	CHECK(set1(n, "pd", NOTIFY_PAGERDUTY, r.url, 0) == 0);

	json_t *inc = inc_full();
	CHECK(notify_event(n, "opened", inc) == 0);
	json_object_set_new(inc, "escalation_tier", json_integer(1));
	json_object_set_new(inc, "alert_count", json_integer(120));
	CHECK(notify_event(n, "escalated", inc) == 0);
	json_object_set_new(inc, "status", json_string("acknowledged"));
	CHECK(notify_event(n, "acknowledged", inc) == 0);
	CHECK(notify_event(n, "resolved", inc) == 0);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 4);
	for (size_t i = 0; i < 4; i++)
		CHECK(c.r[i].delivered && c.r[i].status == 202);

	json_t *a = rcv_wait(&r, 4, 2);
	CHECK_EQ(json_array_size(a), 4);
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *q = json_array_get(a, i);
		CHECK_STR(rec_str(q, "path"), "/v2/enqueue");
		CHECK_STR(json_string_value(json_object_get(json_object_get(q, "headers"), "content-type")),
			  "application/json");
	}
	json_t *b = pd_expect_trigger(a, 0, "critical");
	const json_t *p = json_object_get(b, "payload"), *cd = json_object_get(p, "custom_details");
	CHECK_STR(json_string_value(json_object_get(b, "dedup_key")), "2001:10.0.0.5");
	CHECK_STR(json_string_value(json_object_get(p, "summary")), "ET SCAN Nmap \"probe\" \xc3\xa9");
	CHECK_STR(json_string_value(json_object_get(p, "timestamp")), "2024-05-01T10:05:00Z");
	CHECK(keys_are(cd, cd_keys, 4));
	CHECK_EQ(json_integer_value(json_object_get(cd, "id")), 42);
	CHECK_EQ(json_integer_value(json_object_get(cd, "alert_count")), 7);
	CHECK_STR(json_string_value(json_object_get(cd, "status")), "open");
	CHECK_EQ(json_integer_value(json_object_get(cd, "escalation_tier")), 0);
	json_decref(b);
	b = pd_expect_trigger(a, 1, "critical");
	cd = json_object_get(json_object_get(b, "payload"), "custom_details");
	CHECK_STR(json_string_value(json_object_get(b, "dedup_key")), "2001:10.0.0.5");
	CHECK_EQ(json_integer_value(json_object_get(cd, "escalation_tier")), 1);
	CHECK_EQ(json_integer_value(json_object_get(cd, "alert_count")), 120);
	json_decref(b);
	pd_expect_short(a, 2, "acknowledge", "2001:10.0.0.5");
	pd_expect_short(a, 3, "resolve", "2001:10.0.0.5");
	json_decref(a);
	json_decref(inc);

	/* severities 2, 3, 4; last_seen as a number, and missing (now) */
	static const char *const sevname[] = { "error", "warning", "info" };
	for (int s = 2; s <= 4; s++) {
		inc = inc_new(100 + s, s, "ks", "sev");
		if (s == 3)
			json_object_set_new(inc, "last_seen", json_real(1714557900.25));
		if (s == 4)
			json_object_del(inc, "last_seen");
		CHECK(notify_event(n, "opened", inc) == 0);
		json_decref(inc);
		notify_flush(n, 5);
	}
	double now = now_wall();
	a = rcv_wait(&r, 7, 2);
	CHECK_EQ(json_array_size(a), 7);
	for (int s = 2; s <= 4 && json_array_size(a) == 7; s++) {
		b = pd_expect_trigger(a, 2 + (size_t)s, sevname[s - 2]);
		const char *ts = json_string_value(json_object_get(json_object_get(b, "payload"), "timestamp"));
		if (s == 2)
			CHECK_STR(ts, "2024-05-01T10:05:00Z");
		if (s == 3)
			CHECK_STR(ts, "2024-05-01T10:05:00.250Z");
		if (s == 4) {
			struct tm tm = { 0 };
			const char *end = ts ? strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
			CHECK(end && end[0] == '.' && strlen(end) == 5 && end[4] == 'Z');
			CHECK(end && fabs((double)timegm(&tm) - now) < 5);
		}
		json_decref(b);
	}
	json_decref(a);

	/* over-long key and title: dedup_key <= 255 and the same for every event,
	 * summary <= 1024 bytes, cut between characters */
	char key[301], title[1501];
	memset(key, 'k', 300);
	key[300] = 0;
	for (size_t i = 0; i < 1500; i += 3)
		memcpy(title + i, "\xe2\x82\xac", 3);              /* 500 x U+20AC */
	title[1500] = 0;
	inc = inc_new(200, 1, key, title);
	CHECK(notify_event(n, "opened", inc) == 0);
	CHECK(notify_event(n, "resolved", inc) == 0);
	json_decref(inc);
	notify_flush(n, 5);
	a = rcv_wait(&r, 9, 2);
	CHECK_EQ(json_array_size(a), 9);
	if (json_array_size(a) == 9) {
		json_t *b1 = rec_body(a, 7), *b2 = rec_body(a, 8);
		const char *d1 = json_string_value(json_object_get(b1, "dedup_key"));
		const char *d2 = json_string_value(json_object_get(b2, "dedup_key"));
		const char *sum = json_string_value(json_object_get(json_object_get(b1, "payload"), "summary"));
		CHECK(d1 && strlen(d1) <= 255 && strncmp(d1, key, 200) == 0);
		CHECK_STR(d2, d1);
		CHECK(sum && strlen(sum) == 1023 && strncmp(sum, title, 1023) == 0);
		json_decref(b1);
		json_decref(b2);
	}
	json_decref(a);
	notify_destroy(n);
	rcv_stop(&r);
}

static void test_syslog(void)
{
	struct col c;
	struct rcv r;
	struct notify_stats st;
	static const int want_pri[] = { 130, 131, 132, 133 };

	cur_test = "syslog";
	if (rcv_start(&r, NULL, true, NULL)) {
		failures++;
		return;
	}
	struct notify_cfg cfg = { .max_tries = 3, .backoff_s = 0.02, .timeout_s = 1, .source = "ctl host" };
	struct notify *n = NULL;
	col_init(&c);
	CHECK(notify_create(&n, &cfg, on_result, &c) == 0);
	CHECK(set1(n, "log", NOTIFY_SYSLOG, r.url, 0) == 0);

	json_t *inc = inc_new(42, 1, "a\"b\\c]d", "Port scan from 10.0.0.1\nsecond line");
	double t0 = now_wall();
	CHECK(notify_event(n, "opened", inc) == 0);
	json_decref(inc);
	for (int s = 2; s <= 4; s++) {
		inc = inc_new(42 + s, s, "k", s == 4 ? NULL : "t");
		CHECK(notify_event(n, "escalated", inc) == 0);
		json_decref(inc);
	}
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 4);
	for (size_t i = 0; i < 4; i++)
		CHECK(c.r[i].delivered && c.r[i].tries == 1 && c.r[i].status == 0 && !c.r[i].has_error);

	json_t *a = rcv_wait(&r, 4, 2);
	CHECK_EQ(json_array_size(a), 4);
	const json_t *q = json_array_get(a, 0), *p = json_object_get(q, "parsed");
	const json_t *pp = json_object_get(p, "params");
	CHECK(json_is_object(p));                        /* the RFC 5424 regex matched */
	CHECK_EQ(json_integer_value(json_object_get(p, "pri")), 130);
	CHECK_STR(json_string_value(json_object_get(p, "version")), "1");
	CHECK_STR(json_string_value(json_object_get(p, "hostname")), "ctl_host");
	CHECK_STR(json_string_value(json_object_get(p, "app")), "vigil-control");
	CHECK_STR(json_string_value(json_object_get(p, "procid")), "-");
	CHECK_STR(json_string_value(json_object_get(p, "msgid")), "incident");
	CHECK_STR(json_string_value(json_object_get(p, "sdid")), "vigil@32473");
	static const char *const pk[] = { "id", "event", "severity", "key" };
	CHECK(keys_are(pp, pk, 4));
	CHECK_STR(json_string_value(json_object_get(pp, "id")), "42");
	CHECK_STR(json_string_value(json_object_get(pp, "event")), "opened");
	CHECK_STR(json_string_value(json_object_get(pp, "severity")), "1");
	CHECK_STR(json_string_value(json_object_get(pp, "key")), "a\"b\\c]d");
	CHECK_STR(json_string_value(json_object_get(p, "msg")), "Port scan from 10.0.0.1 second line");
	/* the exact wire form: escaped SD value, params in order */
	const char *raw = rec_str(q, "raw");
	CHECK(raw && strstr(raw, " ctl_host vigil-control - incident [vigil@32473 id=\"42\" event=\"opened\" "
			    "severity=\"1\" key=\"a\\\"b\\\\c\\]d\"] Port scan"));
	const char *ts = json_string_value(json_object_get(p, "timestamp"));
	struct tm tm = { 0 };
	const char *end = ts ? strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	CHECK(end && strlen(end) == 5 && end[4] == 'Z');
	CHECK(end && fabs((double)timegm(&tm) - t0) < 5);
	for (size_t i = 1; i < 4 && i < json_array_size(a); i++) {
		p = json_object_get(json_array_get(a, i), "parsed");
		CHECK(json_is_object(p));
		CHECK_EQ(json_integer_value(json_object_get(p, "pri")), want_pri[i]);
		CHECK_STR(json_string_value(json_object_get(json_object_get(p, "params"), "event")), "escalated");
	}
	/* no title: no MSG part at all */
	raw = rec_str(json_array_get(a, 3), "raw");
	CHECK(raw && raw[strlen(raw) - 1] == ']');
	json_decref(a);
	rcv_stop(&r);

	/* a port that refuses: each send fails, retried, given up */
	char url[64];
	snprintf(url, sizeof(url), "udp://127.0.0.1:%d", closed_port(SOCK_DGRAM));
	CHECK(set1(n, "nolog", NOTIFY_SYSLOG, url, 0) == 0);
	inc = inc_new(50, 1, "k50", "fifty");
	CHECK(notify_event(n, "opened", inc) == 0);
	json_decref(inc);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 5);
	CHECK(!c.r[4].delivered && c.r[4].tries == 3 && strstr(c.r[4].error, "refused"));
	notify_get_stats(n, &st);
	CHECK_EQ(st.delivered, 4);
	CHECK_EQ(st.failed, 1);
	CHECK_EQ(st.retried, 2);
	notify_destroy(n);
}

static void test_min_severity(void)
{
	struct col c;
	struct rcv r;
	struct notify_stats st;
	char ua[160], ub[160], uc[160];

	cur_test = "min_severity";
	if (rcv_start(&r, "200", false, "/")) {
		failures++;
		return;
	}
	snprintf(ua, sizeof(ua), "%sa", r.url);
	snprintf(ub, sizeof(ub), "%sb", r.url);
	snprintf(uc, sizeof(uc), "%sc", r.url);
	struct notify *n = mk(&c, 5, 0.05, 2, 0);
	const struct notify_target ts[] = {
		{ .name = "all", .type = NOTIFY_WEBHOOK, .url = ua, .min_severity = -1 },  /* the store's "all" */
		{ .name = "upto2", .type = NOTIFY_WEBHOOK, .url = ub, .min_severity = 2 },
		{ .name = "only1", .type = NOTIFY_WEBHOOK, .url = uc, .min_severity = 1 },
	};
	CHECK(notify_set_targets(n, ts, 3) == 0);
	for (int s = 1; s <= 3; s++) {
		json_t *inc = inc_new(s, s, "k", "t");
		CHECK(notify_event(n, "opened", inc) == 0);
		json_decref(inc);
	}
	notify_flush(n, 5);
	notify_get_stats(n, &st);
	CHECK_EQ(st.queued, 6);
	CHECK_EQ(st.delivered, 6);
	CHECK(col_find(&c, "all", "opened", 1) && col_find(&c, "all", "opened", 2) && col_find(&c, "all", "opened", 3));
	CHECK(col_find(&c, "upto2", "opened", 1) && col_find(&c, "upto2", "opened", 2));
	CHECK(!col_find(&c, "upto2", "opened", 3));
	CHECK(col_find(&c, "only1", "opened", 1));
	CHECK(!col_find(&c, "only1", "opened", 2) && !col_find(&c, "only1", "opened", 3));
	json_t *a = rcv_wait(&r, 6, 2);
	int per[3] = { 0 };
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *path = rec_str(json_array_get(a, i), "path");
		if (path && strlen(path) == 2 && path[1] >= 'a' && path[1] <= 'c')
			per[path[1] - 'a']++;
	}
	CHECK_EQ(json_array_size(a), 6);
	CHECK(per[0] == 3 && per[1] == 2 && per[2] == 1);
	json_decref(a);

	/* no target admits severity 4 but "all": one more; with only "only1", none */
	CHECK(notify_set_targets(n, &ts[2], 1) == 0);
	json_t *inc = inc_new(4, 4, "k", "t");
	CHECK(notify_event(n, "opened", inc) == 0);
	json_decref(inc);
	notify_get_stats(n, &st);
	CHECK_EQ(st.queued, 6);
	notify_destroy(n);
	rcv_stop(&r);
}

static void test_queue_max(void)
{
	struct col c;
	struct notify_stats st;
	char url[64];

	cur_test = "queue_max";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/h", closed_port(SOCK_STREAM));
	struct notify *n = mk(&c, 5, 10.0, 2, 3);
	const struct notify_target ts[] = {
		{ .name = "t1", .type = NOTIFY_WEBHOOK, .url = url },
		{ .name = "t2", .type = NOTIFY_WEBHOOK, .url = url, .min_severity = 1 },
	};
	CHECK(notify_set_targets(n, ts, 2) == 0);
	json_t *i2 = inc_new(1, 2, "k1", "sev2"), *i1 = inc_new(2, 1, "k2", "sev1");
	CHECK(notify_event(n, "opened", i2) == 0);            /* t1: 1 pending */
	CHECK(notify_event(n, "opened", i1) == 0);            /* t1, t2: 3 pending */
	CHECK(notify_event(n, "escalated", i2) == -ENOSPC);   /* 1 refused */
	CHECK(notify_event(n, "escalated", i1) == -ENOSPC);   /* 2 refused, all or nothing */
	notify_get_stats(n, &st);
	CHECK_EQ(st.queued, 3);
	CHECK_EQ(st.refused, 3);
	/* a callback queueing an event while destroy drains is refused, not lost */
	c.requeue_n = n;
	c.requeue_inc = i1;
	double t0 = now_mono();
	notify_destroy(n);                                    /* backoff 10 s: all still pending */
	CHECK(now_mono() - t0 < 1);
	CHECK_EQ(c.requeue_rc, -ESHUTDOWN);
	CHECK_EQ(col_count(&c), 3);
	for (size_t i = 0; i < 3; i++)
		CHECK(!c.r[i].delivered && strncmp(c.r[i].error, "shut down", 9) == 0);
	json_decref(i1);
	json_decref(i2);
}

static void test_destroy_pending(void)
{
	struct col c;
	struct rcv slow, down;

	cur_test = "destroy_pending";
	if (rcv_start(&slow, "hang", false, "/s")) {
		failures++;
		return;
	}
	if (rcv_start(&down, "503", false, "/d")) {
		failures++;
		rcv_stop(&slow);
		return;
	}
	struct notify *n = mk(&c, 5, 10.0, 30, 0);
	const struct notify_target ts[] = {
		{ .name = "slow", .type = NOTIFY_WEBHOOK, .url = slow.url },
		{ .name = "down", .type = NOTIFY_WEBHOOK, .url = down.url },
	};
	CHECK(notify_set_targets(n, ts, 2) == 0);
	json_t *i1 = inc_new(1, 1, "k1", "one"), *i2 = inc_new(2, 1, "k2", "two");
	CHECK(notify_event(n, "opened", i1) == 0);
	CHECK(notify_event(n, "resolved", i1) == 0);          /* chained behind opened */
	CHECK(notify_event(n, "opened", i2) == 0);
	json_t *a = rcv_wait(&slow, 1, 3), *b = rcv_wait(&down, 2, 3);
	CHECK_EQ(json_array_size(a), 1);                      /* hanging: the others wait */
	CHECK_EQ(json_array_size(b), 2);                      /* both opened got 503 */
	json_decref(a);
	json_decref(b);
	CHECK_EQ(col_count(&c), 0);
	sleep_s(0.05);
	double t0 = now_mono();
	notify_destroy(n);
	CHECK(now_mono() - t0 < 1);                           /* the hanging attempt was aborted */
	CHECK_EQ(col_count(&c), 6);
	for (size_t i = 0; i < c.n && i < 6; i++)
		CHECK(!c.r[i].delivered && strncmp(c.r[i].error, "shut down", 9) == 0);
	const struct res *x;
	CHECK((x = col_find(&c, "slow", "opened", 1)) && x->tries == 1 && strstr(x->error, "during an attempt"));
	CHECK((x = col_find(&c, "slow", "opened", 2)) && x->tries == 0);
	CHECK((x = col_find(&c, "slow", "resolved", 1)) && x->tries == 0);
	CHECK((x = col_find(&c, "down", "opened", 1)) && x->tries == 1 && x->status == 503 &&
	      strstr(x->error, "last error: HTTP 503"));
	CHECK((x = col_find(&c, "down", "opened", 2)) && x->tries == 1);
	CHECK((x = col_find(&c, "down", "resolved", 1)) && x->tries == 0);
	json_decref(i1);
	json_decref(i2);
	rcv_stop(&slow);
	rcv_stop(&down);
}

/* Replacing targets does not touch what is queued; new events go to the new set. */
static void test_replace_targets(void)
{
	struct col c;
	struct rcv ra, rb;

	cur_test = "replace_targets";
	if (rcv_start(&ra, "503,200", false, "/a")) {
		failures++;
		return;
	}
	if (rcv_start(&rb, "200", false, "/b")) {
		failures++;
		rcv_stop(&ra);
		return;
	}
	struct notify *n = mk(&c, 5, 0.2, 2, 0);
	CHECK(set1(n, "a", NOTIFY_WEBHOOK, ra.url, 0) == 0);
	json_t *inc = inc_new(3, 1, "k3", "three");
	CHECK(notify_event(n, "opened", inc) == 0);
	json_decref(rcv_wait(&ra, 1, 2));                      /* a's first try failed, retry in 0.2 s */
	CHECK(set1(n, "b", NOTIFY_WEBHOOK, rb.url, 0) == 0);
	CHECK(notify_event(n, "resolved", inc) == 0);
	notify_flush(n, 5);
	CHECK_EQ(col_count(&c), 2);
	const struct res *x;
	CHECK((x = col_find(&c, "a", "opened", 3)) && x->delivered && x->tries == 2);
	CHECK((x = col_find(&c, "b", "resolved", 3)) && x->delivered && x->tries == 1);
	CHECK(!col_find(&c, "a", "resolved", 3));
	json_decref(inc);
	notify_destroy(n);
	rcv_stop(&ra);
	rcv_stop(&rb);
}

struct thr_arg {
	struct notify *n;
	int base;                 /* producer: first incident id */
	const char *url;          /* swapper: the target's URL */
	int refused;
};

static void *producer(void *p)
{
	struct thr_arg *t = p;

	for (int i = 0; i < 100; i++) {
		json_t *inc = inc_new(t->base + i, 1 + i % 3, "k", "t");
		int rc = notify_event(t->n, i % 2 ? "resolved" : "opened", inc);
		if (rc == -ENOSPC)
			t->refused++;
		else if (rc)
			t->refused += 1000;                          /* any other error fails the test */
		json_decref(inc);
	}
	return NULL;
}

static void *swapper(void *p)
{
	struct thr_arg *t = p;

	for (int i = 0; i < 200; i++) {
		const struct notify_target tg = { .name = "w", .type = NOTIFY_WEBHOOK, .url = t->url };
		if (notify_set_targets(t->n, &tg, 1))
			t->refused += 1000;
	}
	return NULL;
}

static void test_threads(void)
{
	struct col c;
	struct rcv r;
	struct notify_stats st;
	pthread_t th[5];
	struct thr_arg ta[5];

	cur_test = "threads";
	if (rcv_start(&r, "200", false, "/w")) {
		failures++;
		return;
	}
	struct notify *n = mk(&c, 5, 0.01, 2, 150);
	CHECK(set1(n, "w", NOTIFY_WEBHOOK, r.url, 0) == 0);
	for (int i = 0; i < 4; i++) {
		ta[i] = (struct thr_arg){ .n = n, .base = 1000 * (i + 1) };
		pthread_create(&th[i], NULL, producer, &ta[i]);
	}
	ta[4] = (struct thr_arg){ .n = n, .url = r.url };
	pthread_create(&th[4], NULL, swapper, &ta[4]);
	for (int i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	notify_flush(n, 20);
	notify_get_stats(n, &st);
	int refused = 0;
	for (int i = 0; i < 4; i++)
		refused += ta[i].refused;
	CHECK(ta[4].refused < 1000);
	CHECK(refused < 1000);
	CHECK_EQ(st.refused, (uint64_t)refused);
	CHECK_EQ(st.queued + st.refused, 400);
	CHECK_EQ(st.delivered, st.queued);
	CHECK_EQ(col_count(&c), st.queued);
	json_t *a = rcv_wait(&r, st.queued, 3);
	CHECK_EQ(json_array_size(a), st.queued);
	json_decref(a);
	notify_destroy(n);
	rcv_stop(&r);
}

#define RUN(fn) do { \
	double t_ = now_mono(); \
	int f_ = failures; \
	fn(); \
	printf("%-28s %s %.2f s\n", #fn, failures == f_ ? "ok  " : "FAIL", now_mono() - t_); \
} while (0)

int main(int argc, char **argv)
{
	if (argc > 1)
		python = argv[1];
	if (argc > 2)
		receiver_py = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(tmpdir, sizeof(tmpdir), "%s/vigil-notify-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	struct rcv probe;
	if (rcv_start(&probe, "200", false, "/")) {
		printf("SKIP: the test receiver (%s %s) cannot run\n", python, receiver_py);
		rmdir(tmpdir);
		return 77;
	}
	rcv_stop(&probe);

	RUN(test_formatters);
	RUN(test_api_errors);
	RUN(test_webhook_body);
	RUN(test_retry_backoff);
	RUN(test_give_up_4xx);
	RUN(test_unreachable);
	RUN(test_timeouts);
	RUN(test_targets_independent);
	RUN(test_order);
	RUN(test_pagerduty);
	RUN(test_syslog);
	RUN(test_min_severity);
	RUN(test_queue_max);
	RUN(test_destroy_pending);
	RUN(test_replace_targets);
	RUN(test_threads);

	rmdir(tmpdir);
	if (failures) {
		printf("test_notify: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_notify: all checks passed\n");
	return 0;
}
