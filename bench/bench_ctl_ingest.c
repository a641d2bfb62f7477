/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_ctl_ingest: the control plane's durable ingest rate, without HTTP.
 *
 *   bench_ctl_ingest [--alerts N] [--batch B] [--dir DIR] [--seed S]
 *                    [--stub-sink] [--keep]
 *
 * A real SQLite file in a fresh temporary folder under DIR (default
 * $TMPDIR or /tmp; it must be a real file system, or "durable" means
 * nothing), opened with store_open(): the daemon's migrations, WAL and
 * synchronous=FULL (every commit fsyncs the WAL).  N synthetic alerts
 * (default 100000) are generated in memory first, then ingested in batches
 * of B (default 500, the shipper's control.batch), each batch exactly as
 * POST /api/v1/ingest does it: store_begin(), incident_ingest_batch()
 * (INSERT OR IGNORE + correlation per alert, the audit entry), store_commit(),
 * then incident_events_emit() of the queued events.  Three passes, each on
 * a new database:
 *
 *   ingest       the daemon's path above, timed per batch (alerts/s, us per
 *                alert, batch latency, first vs last 10k alerts, size)
 *   split        the same calls written out, each timed on its own: insert,
 *                correlation, audit, commit, emit (what correlation costs,
 *                and whether it slows as the tables grow)
 *   insert-only  the split pass without incident_ingest_alert(): plain
 *                inserts (and the batch's audit entry) in the same
 *                transactions, correlation switched off
 *
 * The sink counts the events (it does not notify); --stub-sink adds a pass
 * whose sink also calls incident_stub_sink(), which writes one
 * notifications row per event after the commit, each its own (fsync'd)
 * transaction (its log lines go to /dev/null).
 *
 * The alerts: 200 signatures with Zipf-like popularity, each aimed at its
 * own few hosts of 198.51.100.0/24 and 203.0.113.0/24 from a few sources in
 * 192.0.2.0/24; 8% are one scan signature (classtype attempted-recon, whose
 * EVE category is "Attempted Information Leak") from 192.0.2.66 across all
 * 512 hosts; ~10% carry a base64 payload of 200-600 bytes; alert times
 * advance ~0.25 s per alert (100k alerts span ~7 h, so the 3600 s window
 * closes on quiet keys).  Deterministic for a seed.
 *
 * Figures are printed, never asserted; exit 1 only if the store fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "incident.h"
#include "store.h"

#define N_SIDS 200
#define N_HOSTS 512
#define SCAN_SID 2009582
#define SCAN_SRC "192.0.2.66"
#define SENSOR "bench-sensor"
#define USER "bench-sensor"

/* --- the alerts --------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

struct sig {
	int64_t sid, rev, severity, dest_port;
	const char *proto;
	char signature[96];
	const char *category;
	uint32_t hosts[24], n_hosts;
	uint32_t srcs[8], n_srcs;
};

static const struct {
	const char *prefix, *category;
	int64_t severity;
	int64_t ports[3];
} families[] = {
	{ "ET POLICY", "Potential Corporate Privacy Violation", 1, { 443, 80, 8080 } },
	{ "ET TROJAN", "A Network Trojan was detected", 1, { 443, 80, 8443 } },
	{ "ET WEB_SERVER", "Web Application Attack", 1, { 80, 443, 8080 } },
	{ "ET EXPLOIT", "Attempted Administrator Privilege Gain", 1, { 445, 3389, 22 } },
	{ "ET INFO", "Misc activity", 3, { 53, 123, 80 } },
	{ "ET DNS", "Potentially Bad Traffic", 2, { 53, 53, 5353 } },
	{ "ET MALWARE", "Malware Command and Control Activity Detected", 1, { 443, 80, 8000 } },
	{ "ET USER_AGENTS", "A suspicious string was detected", 2, { 80, 8080, 3128 } },
};

static struct sig sigs[N_SIDS];
static double sig_cdf[N_SIDS];

static void host_ip(uint32_t h, char *out, size_t len)
{
	snprintf(out, len, "%s.%u", h < 256 ? "198.51.100" : "203.0.113", h % 256);
}

static void make_sigs(void)
{
	double sum = 0;

	for (size_t i = 0; i < N_SIDS; i++) {
		struct sig *s = &sigs[i];
		size_t f = rnd_below(sizeof(families) / sizeof(families[0]));
		s->sid = 2010000 + (int64_t)i * 37;
		s->rev = 1 + rnd_below(9);
		s->severity = families[f].severity;
		s->dest_port = families[f].ports[rnd_below(3)];
		s->proto = s->dest_port == 53 || s->dest_port == 123 || s->dest_port == 5353 ? "UDP" : "TCP";
		snprintf(s->signature, sizeof(s->signature), "%s bench signature %zu (port %lld)",
			 families[f].prefix, i, (long long)s->dest_port);
		s->category = families[f].category;
		s->n_hosts = 1 + rnd_below(24);
		for (uint32_t k = 0; k < s->n_hosts; k++)
			s->hosts[k] = rnd_below(N_HOSTS);
		s->n_srcs = 1 + rnd_below(8);
		for (uint32_t k = 0; k < s->n_srcs; k++)
			s->srcs[k] = 1 + rnd_below(254);
		sum += 1.0 / pow((double)(i + 1), 1.1);
		sig_cdf[i] = sum;
	}
	for (size_t i = 0; i < N_SIDS; i++)
		sig_cdf[i] /= sum;
}

static const struct sig *pick_sig(void)
{
	double u = rnd01();
	size_t lo = 0, hi = N_SIDS - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sig_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return &sigs[lo];
}

static char *b64(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Strings of one alert (the struct store_alert borrows them). */
struct alert_text {
	char id[40], ts[112], src[16], dst[16];
	char *payload;
};

struct corpus {
	struct store_alert *a;
	struct alert_text *t;
	size_t n, n_payload, payload_bytes, n_scan;
};

static int make_corpus(struct corpus *c, size_t n, uint64_t seed)
{
	const int64_t t0 = 1795737600;  /* 2026-11-27T00:00:00Z */
	double ts = (double)t0;
	unsigned char raw[600];

	rng_state = seed;
	make_sigs();
	memset(c, 0, sizeof(*c));
	c->a = calloc(n, sizeof(*c->a));
	c->t = calloc(n, sizeof(*c->t));
	if (!c->a || !c->t)
		return -ENOMEM;
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		struct store_alert *a = &c->a[i];
		struct alert_text *t = &c->t[i];
		struct tm tm;
		time_t sec;
		int64_t usec;

		ts += -0.25 * log(1.0 - rnd01());
		sec = (time_t)ts;
		usec = (int64_t)((ts - (double)sec) * 1e6);
		gmtime_r(&sec, &tm);
		snprintf(t->ts, sizeof(t->ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+0000",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (long long)usec);
		snprintf(t->id, sizeof(t->id), SENSOR ":%zu", i + 1);
		a->id = t->id;
		a->sensor = SENSOR;
		a->ts = t->ts;
		a->ts_epoch = (int64_t)sec;
		a->gid = 1;
		a->action = "allowed";
		a->ruleset = "et-open-2017";
		a->src_port = 1024 + rnd_below(64511);
		a->flow_id = (int64_t)(rnd() >> 12);
		if (rnd01() < 0.08) {
			c->n_scan++;
			a->sid = SCAN_SID;
			a->rev = 3;
			a->severity = 2;
			a->signature = "ET SCAN NMAP -sS window 1024";
			a->category = "Attempted Information Leak";   /* classtype attempted-recon */
			a->proto = "TCP";
			snprintf(t->src, sizeof(t->src), "%s", SCAN_SRC);
			host_ip(rnd_below(N_HOSTS), t->dst, sizeof(t->dst));
			a->dest_port = 1 + rnd_below(1024);
		} else {
			const struct sig *s = pick_sig();
			a->sid = s->sid;
			a->rev = s->rev;
			a->severity = s->severity;
			a->signature = s->signature;
			a->category = s->category;
			a->proto = s->proto;
			snprintf(t->src, sizeof(t->src), "192.0.2.%u", s->srcs[rnd_below(s->n_srcs)]);
			host_ip(s->hosts[rnd_below(s->n_hosts)], t->dst, sizeof(t->dst));
			a->dest_port = s->dest_port;
		}
		a->src_ip = t->src;
		a->dest_ip = t->dst;
		if (rnd01() < 0.10) {
			size_t len = 200 + rnd_below(401);
			for (size_t k = 0; k < len; k++)
				raw[k] = (unsigned char)rnd();
			t->payload = b64(raw, len);
			if (!t->payload)
				return -ENOMEM;
			c->n_payload++;
			c->payload_bytes += strlen(t->payload);
		}
		a->payload = t->payload;
	}
	return 0;
}

static void free_corpus(struct corpus *c)
{
	for (size_t i = 0; c->t && i < c->n; i++)
		free(c->t[i].payload);
	free(c->t);
	free(c->a);
}

/* --- timing ----------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Bytes this process caused to be written to storage (Linux /proc/self/io):
 * the WAL and the checkpoints into the database file; -1 if unknown. */
static int64_t write_bytes(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/self/io", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --- one pass ----------------------------------------------------------- */

enum mode { MODE_INGEST, MODE_SPLIT, MODE_INSERT, MODE_STUB };

static const char *const mode_names[] = { "ingest", "split", "insert-only", "ingest+stub-sink" };

/* Per-call times of the split pass. */
enum part { P_BEGIN, P_INSERT, P_CORRELATE, P_AUDIT, P_COMMIT, P_EMIT, P_N };

static const char *const part_names[] = { "begin", "insert", "correlate", "audit", "commit", "emit" };

struct result {
	double wall, cpu;
	int64_t written;               /* write_bytes during the pass (-1: unknown) */
	double *batch;                 /* wall time per batch (whole batch: begin to emit) */
	size_t n_batches;
	double part[P_N];              /* split: sums */
	double first[P_N], last[P_N];  /* split: sums over the first / last window */
	int64_t accepted, dups, opened, events;
	int64_t page_bytes, wal_bytes, file_bytes;
	int64_t rows_incidents, rows_evidence, rows_timeline, rows_audit, rows_notifications;
	char tables[1024];             /* the largest tables and indexes (dbstat) */
};

struct counting_sink {
	int64_t events, opened;
	struct store *stub;        /* also call incident_stub_sink() with it */
};

static void count_event(void *arg, const struct incident_event *ev)
{
	struct counting_sink *c = arg;

	c->events++;
	if (strcmp(ev->event, "opened") == 0 && !ev->reopen)
		c->opened++;
	if (c->stub)
		incident_stub_sink(c->stub, ev);
}

static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Row counts and the space of the largest tables/indexes, read with a
 * separate read-only connection after the store is closed. */
static void db_stats(const char *path, struct result *r)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	size_t n = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return;
	}
	r->rows_incidents = one_int(db, "SELECT count(*) FROM incidents");
	r->rows_evidence = one_int(db, "SELECT count(*) FROM evidence");
	r->rows_timeline = one_int(db, "SELECT count(*) FROM timeline");
	r->rows_audit = one_int(db, "SELECT count(*) FROM audit");
	r->rows_notifications = one_int(db, "SELECT count(*) FROM notifications");
	r->tables[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name "
			       "ORDER BY 2 DESC LIMIT 8", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW && n < sizeof(r->tables) - 64)
			n += (size_t)snprintf(r->tables + n, sizeof(r->tables) - n, "%s%s %.1f MB",
					      n ? ", " : "", (const char *)sqlite3_column_text(s, 0),
					      (double)sqlite3_column_int64(s, 1) / 1e6);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
}

static void rm_db(const char *path)
{
	char p[4200];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int run_pass(enum mode mode, const struct corpus *c, size_t batch, const char *dir,
		    bool keep, struct result *r)
{
	const struct incident_cfg *cfg;
	struct incident_cfg icfg;
	struct incident_events evs;
	struct counting_sink cs = { 0, 0, NULL };
	struct incident_sink sink = { count_event, &cs };
	struct store *st = NULL;
	char path[4096], wal[4200];
	size_t window, nb = (c->n + batch - 1) / batch;
	int devnull = -1, saved_err = -1;
	double t0, c0;
	int64_t w0;
	int err;

	memset(r, 0, sizeof(*r));
	r->batch = calloc(nb ? nb : 1, sizeof(double));
	if (!r->batch)
		return -ENOMEM;
	r->n_batches = nb;
	/* first/last window: 10k alerts, or a tenth of a smaller run, in whole batches */
	window = c->n >= 20000 ? 10000 : c->n / 10;
	window = (window + batch - 1) / batch * batch;

	snprintf(path, sizeof(path), "%s/%s.db", dir, mode_names[mode]);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	rm_db(path);
	err = store_open(path, &st);
	if (err) {
		fprintf(stderr, "bench_ctl_ingest: %s: %s\n", path, strerror(-err));
		return err;
	}
	incident_cfg_default(&icfg);   /* the daemon's defaults (api_config_default) */
	cfg = &icfg;
	incident_events_init(&evs);
	if (mode == MODE_STUB) {
		cs.stub = st;
		fflush(stderr);
		devnull = open("/dev/null", O_WRONLY);
		saved_err = dup(2);
		if (devnull >= 0 && saved_err >= 0)
			dup2(devnull, 2);
	}

	w0 = write_bytes();
	t0 = now_s();
	c0 = cpu_s();
	for (size_t b = 0; b < nb && !err; b++) {
		const struct store_alert *a = &c->a[b * batch];
		size_t n = b + 1 < nb ? batch : c->n - b * batch, first_alert = b * batch;
		bool in_first = first_alert < window, in_last = first_alert >= c->n - window;
		int64_t now = (int64_t)time(NULL), acc = 0, dups = 0;
		double tb = now_s(), t, p[P_N] = { 0 };

		/* what api_h_ingest() does under the store lock */
		incident_events_clear(&evs);
		if (mode == MODE_INGEST || mode == MODE_STUB) {
			err = store_begin(st);
			if (!err)
				err = incident_ingest_batch(st, cfg, SENSOR, a, n, USER, now, &evs, &acc, &dups);
			if (!err)
				err = store_commit(st);
			if (err)
				store_rollback(st);
			else
				incident_events_emit(st, &evs, &sink);
		} else {
			/* incident_ingest_batch() written out, each call timed;
			 * insert-only: without incident_ingest_alert() */
			t = now_s();
			err = store_begin(st);
			p[P_BEGIN] += now_s() - t;
			for (size_t i = 0; !err && i < n; i++) {
				t = now_s();
				int rr = store_alert_insert(st, &a[i], now);
				double t2 = now_s();
				p[P_INSERT] += t2 - t;
				if (rr < 0) {
					err = rr;
				} else if (rr == 0) {
					dups++;
				} else {
					acc++;
					if (mode == MODE_SPLIT) {
						err = incident_ingest_alert(st, cfg, &a[i], USER, now, &evs, NULL);
						p[P_CORRELATE] += now_s() - t2;
					}
				}
			}
			if (!err && acc) {
				char detail[64];
				snprintf(detail, sizeof(detail), "accepted %lld, duplicates %lld",
					 (long long)acc, (long long)dups);
				t = now_s();
				err = store_audit_add(st, now, USER, "ingest", "sensor:" SENSOR, detail);
				p[P_AUDIT] += now_s() - t;
			}
			t = now_s();
			if (!err)
				err = store_commit(st);
			p[P_COMMIT] += now_s() - t;
			if (err) {
				store_rollback(st);
			} else {
				t = now_s();
				incident_events_emit(st, &evs, &sink);
				p[P_EMIT] += now_s() - t;
			}
			for (int k = 0; k < P_N; k++) {
				r->part[k] += p[k];
				if (in_first)
					r->first[k] += p[k];
				if (in_last)
					r->last[k] += p[k];
			}
		}
		r->batch[b] = now_s() - tb;
		r->accepted += acc;
		r->dups += dups;
	}
	r->wall = now_s() - t0;
	r->cpu = cpu_s() - c0;
	r->written = w0 >= 0 ? write_bytes() - w0 : -1;
	if (saved_err >= 0) {
		fflush(stderr);
		dup2(saved_err, 2);
		close(saved_err);
	}
	if (devnull >= 0)
		close(devnull);
	if (err)
		fprintf(stderr, "bench_ctl_ingest: %s pass: %s (%s)\n", mode_names[mode], strerror(-err),
			store_errmsg(st));
	r->events = cs.events;
	r->opened = cs.opened;
	store_db_size(st, &r->page_bytes);
	r->wal_bytes = file_size(wal);
	incident_events_fini(&evs);
	store_close(st);             /* the last connection: checkpoints and removes the WAL */
	r->file_bytes = file_size(path) + file_size(wal);
	db_stats(path, r);
	if (!keep)
		rm_db(path);
	return err;
}

/* --- report ----------------------------------------------------------- */

static double window_us(const struct result *r, size_t batch, size_t n_alerts, bool last)
{
	size_t window = n_alerts >= 20000 ? 10000 : n_alerts / 10, nb;
	double sum = 0;
	size_t alerts = 0;

	window = (window + batch - 1) / batch * batch;
	nb = window / batch;
	for (size_t i = 0; i < nb && i < r->n_batches; i++) {
		size_t b = last ? r->n_batches - 1 - i : i;
		sum += r->batch[b];
		alerts += b + 1 < r->n_batches ? batch : n_alerts - b * batch;
	}
	return alerts ? sum / (double)alerts * 1e6 : 0;
}

static size_t window_alerts(size_t batch, size_t n_alerts)
{
	size_t window = n_alerts >= 20000 ? 10000 : n_alerts / 10;

	return (window + batch - 1) / batch * batch;
}

static void print_ingest(const char *name, const struct result *r, const struct corpus *c,
			 size_t batch)
{
	double *lat = malloc(r->n_batches * sizeof(double));
	double n = (double)c->n;

	printf("%s: %" PRId64 " alerts accepted, %" PRId64 " duplicates, in %.2f s: "
	       "%.0f alerts/s durable, %.1f us/alert (process CPU %.0f%% of wall)\n",
	       name, r->accepted, r->dups, r->wall, n / r->wall, r->wall / n * 1e6,
	       100.0 * r->cpu / r->wall);
	if (lat) {
		memcpy(lat, r->batch, r->n_batches * sizeof(double));
		qsort(lat, r->n_batches, sizeof(double), cmp_double);
		printf("  batch of %zu (begin .. commit + emit): p50 %.2f ms, p99 %.2f ms, max %.2f ms "
		       "(%zu batches)\n", batch, lat[r->n_batches / 2] * 1e3,
		       lat[(size_t)((double)(r->n_batches - 1) * 0.99)] * 1e3,
		       lat[r->n_batches - 1] * 1e3, r->n_batches);
		free(lat);
	}
	printf("  first %zu alerts %.1f us/alert, last %zu %.1f us/alert (last/first %.2f)\n",
	       window_alerts(batch, c->n), window_us(r, batch, c->n, false),
	       window_alerts(batch, c->n), window_us(r, batch, c->n, true),
	       window_us(r, batch, c->n, true) / window_us(r, batch, c->n, false));
	printf("  incidents opened %" PRId64 " (events %" PRId64 "); rows: incidents %" PRId64
	       ", evidence %" PRId64 ", timeline %" PRId64 ", audit %" PRId64
	       ", notifications %" PRId64 "\n", r->opened, r->events, r->rows_incidents,
	       r->rows_evidence, r->rows_timeline, r->rows_audit, r->rows_notifications);
	printf("  database: %" PRId64 " B in pages + %" PRId64 " B WAL before close; file %" PRId64
	       " B after close (checkpointed): %.0f B/alert\n", r->page_bytes, r->wal_bytes,
	       r->file_bytes, (double)r->file_bytes / n);
	if (r->tables[0])
		printf("  largest: %s\n", r->tables);
	if (r->written >= 0)
		printf("  written to storage during the pass (WAL + checkpoints): %.1f MB, %.1f KB/alert, "
		       "%.2f MB/batch\n", (double)r->written / 1e6, (double)r->written / n / 1e3,
		       (double)r->written / (double)r->n_batches / 1e6);
}

/* The per-call table of a timed pass. */
static void print_parts(const struct result *r, const struct corpus *c, size_t batch)
{
	double n = (double)c->n, ws = (double)window_alerts(batch, c->n);

	printf("  %-10s %9s %9s %14s %13s %10s\n", "call", "total s", "us/alert",
	       "first us/alert", "last us/alert", "last/first");
	for (int k = 0; k < P_N; k++) {
		if (r->part[k] == 0)
			continue;
		printf("  %-10s %9.3f %9.2f %14.2f %13.2f %10.2f\n", part_names[k], r->part[k],
		       r->part[k] / n * 1e6, r->first[k] / ws * 1e6, r->last[k] / ws * 1e6,
		       r->first[k] > 0 ? r->last[k] / r->first[k] : 0.0);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_ctl_ingest [--alerts N] [--batch B] [--dir DIR] [--seed S]\n"
		   "                        [--stub-sink] [--keep]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alerts", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "dir", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "stub-sink", no_argument, NULL, 'S' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n_alerts = 100000, batch = 500;
	uint64_t seed = 1;
	bool stub = false, keep = false;
	const char *parent = getenv("TMPDIR");
	char dir[4000];
	struct corpus c;
	struct result ing, split, ins, stubr;
	int opt, err;

	memset(&ing, 0, sizeof(ing));
	memset(&split, 0, sizeof(split));
	memset(&ins, 0, sizeof(ins));
	memset(&stubr, 0, sizeof(stubr));
	if (!parent || !*parent)
		parent = "/tmp";
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': n_alerts = strtoull(optarg, NULL, 10); break;
		case 'b': batch = strtoull(optarg, NULL, 10); break;
		case 'd': parent = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'S': stub = true; break;
		case 'k': keep = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || n_alerts < 10 || batch < 1) {
		usage(stderr);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/vigil-bench-ctl-XXXXXX", parent);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "bench_ctl_ingest: mkdtemp %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (make_corpus(&c, n_alerts, seed) != 0) {
		fprintf(stderr, "bench_ctl_ingest: out of memory\n");
		return 1;
	}
	printf("bench_ctl_ingest: %zu alerts in batches of %zu, SQLite %s, WAL + synchronous=FULL "
	       "(store_open), database in %s\n", c.n, batch, sqlite3_libversion(), dir);
	printf("alerts: %d signatures + 1 scan signature (%zu alerts, %.1f%%), %zu with a payload "
	       "(%.1f%%, %.0f B base64 on average), times over %.1f h\n", N_SIDS, c.n_scan,
	       100.0 * (double)c.n_scan / (double)c.n, c.n_payload,
	       100.0 * (double)c.n_payload / (double)c.n,
	       c.n_payload ? (double)c.payload_bytes / (double)c.n_payload : 0.0,
	       (double)(c.a[c.n - 1].ts_epoch - c.a[0].ts_epoch) / 3600.0);
	fflush(stdout);

	err = run_pass(MODE_INGEST, &c, batch, dir, keep, &ing);
	if (!err) {
		print_ingest("ingest (the daemon's path: incident_ingest_batch)", &ing, &c, batch);
		fflush(stdout);
		err = run_pass(MODE_SPLIT, &c, batch, dir, keep, &split);
	}
	if (!err) {
		print_ingest("split (the same calls, each timed)", &split, &c, batch);
		print_parts(&split, &c, batch);
		fflush(stdout);
		err = run_pass(MODE_INSERT, &c, batch, dir, keep, &ins);
	}
	if (!err) {
		double n = (double)c.n, ws = (double)window_alerts(batch, c.n);
		double cor = split.part[P_CORRELATE] / n * 1e6;
		double dcommit = (split.part[P_COMMIT] - ins.part[P_COMMIT]) / n * 1e6;
		double dcommit_last = (split.last[P_COMMIT] - ins.last[P_COMMIT]) / ws * 1e6;

		print_ingest("insert-only (correlation off)", &ins, &c, batch);
		print_parts(&ins, &c, batch);
		printf("correlation at %zu alerts: incident_ingest_alert() %.1f us/alert (first %.0f "
		       "alerts %.1f, last %.1f: x%.2f) + %.1f us/alert more commit than insert-only "
		       "(last %.0f: %.1f) = %.1f us/alert; plain insert %.1f us/alert + commit %.1f\n",
		       c.n, cor, ws, split.first[P_CORRELATE] / ws * 1e6,
		       split.last[P_CORRELATE] / ws * 1e6,
		       split.first[P_CORRELATE] > 0 ? split.last[P_CORRELATE] / split.first[P_CORRELATE] : 0,
		       dcommit, ws, dcommit_last, cor + dcommit, ins.part[P_INSERT] / n * 1e6,
		       ins.part[P_COMMIT] / n * 1e6);
		printf("whole batches: ingest %.1f us/alert vs insert-only %.1f (correlation: +%.1f "
		       "us/alert, %.0f%% of the ingest time); +%.0f B/alert on disk\n",
		       ing.wall / n * 1e6, ins.wall / n * 1e6, (ing.wall - ins.wall) / n * 1e6,
		       100.0 * (ing.wall - ins.wall) / ing.wall,
		       (double)(ing.file_bytes - ins.file_bytes) / n);
		fflush(stdout);
	}
	if (!err && stub) {
		err = run_pass(MODE_STUB, &c, batch, dir, keep, &stubr);
		if (!err)
			print_ingest("ingest + incident_stub_sink", &stubr, &c, batch);
	}
	free(ing.batch);
	free(split.batch);
	free(ins.batch);
	free(stubr.batch);
	free_corpus(&c);
	if (!keep)
		rmdir(dir);
	else
		printf("kept %s\n", dir);
	return err ? 1 : 0;
}
