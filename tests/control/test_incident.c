/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * control/incident against a real SQLite file: correlation (scans, floods,
 * windows), severity raising, evidence sampling, the transition table,
 * timelines, escalation, blind spots, the notification seam, and ingest
 * batches with flow records (counts and the audit entry).
 */
#include <errno.h>

#include "../unit/check.h"
#include "ctl_test.h"
#include "incident.h"
#include "store_priv.h"

#define T0 1700000000

static struct incident_cfg cfg;
static struct incident_events evs;

static int64_t scalar(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Stores and correlates one alert; returns its incident id. */
static int64_t ingest(struct store *st, const struct store_alert *a, int64_t now)
{
	int64_t id = -1;

	CHECK_EQ(store_alert_insert(st, a, now), 1);
	CHECK_EQ(incident_ingest_alert(st, &cfg, a, "sensor1", now, &evs, &id), 0);
	return id;
}

/* The timeline of an incident as "user|action|detail" lines. */
static char *timeline(struct store *st, int64_t id)
{
	static char buf[4096];
	json_t *arr = NULL, *e;
	size_t i, n = 0;

	buf[0] = '\0';
	CHECK_EQ(store_timeline_json(st, id, &arr), 0);
	json_array_foreach(arr, i, e)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s|%s|%s\n",
				      json_string_value(json_object_get(e, "user")),
				      json_string_value(json_object_get(e, "action")),
				      json_string_value(json_object_get(e, "detail")));
	json_decref(arr);
	return buf;
}

static void test_scan(struct store *st)
{
	char id[32], dst[32];
	int64_t first = -1;

	cur_test = "scan";
	incident_events_clear(&evs);
	for (int h = 1; h <= 50; h++) {
		snprintf(id, sizeof(id), "s1:scan%d", h);
		snprintf(dst, sizeof(dst), "10.0.0.%d", h);
		struct store_alert a = mk_alert(id, 2000001, "192.0.2.9", dst, T0 + h, 3);
		a.signature = "ET SCAN probe";
		a.category = h % 2 ? "Attempted Information Leak" : "attempted-recon";
		int64_t inc = ingest(st, &a, T0 + 100);
		if (h == 1)
			first = inc;
		CHECK_EQ(inc, first);
	}
	CHECK_EQ(evs.n, 1);
	CHECK(strcmp(evs.v[0].event, "opened") == 0);
	struct store_incident inc;
	CHECK_EQ(store_incident_get(st, first, &inc), 0);
	CHECK_EQ(inc.alert_count, 50);
	CHECK(strcmp(inc.key, "sid:2000001:src:192.0.2.9") == 0);
	CHECK(strcmp(inc.title, "ET SCAN probe from 192.0.2.9") == 0);
	CHECK(strcmp(inc.kind, "alert") == 0);
	CHECK_EQ(inc.first_seen, T0 + 1);
	CHECK_EQ(inc.last_seen, T0 + 50);
	CHECK_EQ(inc.opened_at, T0 + 100);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM alerts WHERE incident_id IS NULL"), 0);

	/* the same traffic under a non-scan rule: one incident per target */
	incident_events_clear(&evs);
	for (int h = 1; h <= 50; h++) {
		snprintf(id, sizeof(id), "s1:web%d", h);
		snprintf(dst, sizeof(dst), "10.0.0.%d", h);
		struct store_alert a = mk_alert(id, 2000002, "192.0.2.9", dst, T0 + h, 2);
		ingest(st, &a, T0 + 100);
	}
	CHECK_EQ(evs.n, 50);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM incidents WHERE sid = 2000002"), 50);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM incidents WHERE key = 'sid:2000002:dst:10.0.0.7'"), 1);
	incident_events_clear(&evs);
}

static void test_flood(struct store *st)
{
	char id[32];
	int64_t first = -1;
	struct store_incident inc;

	cur_test = "flood";
	CHECK_EQ(store_begin(st), 0);
	for (int i = 1; i <= 10000; i++) {
		snprintf(id, sizeof(id), "s1:flood%d", i);
		struct store_alert a = mk_alert(id, 3000001, "198.51.100.1", "10.1.1.1", T0 + i / 10, 3);
		a.signature = "FLOOD";
		int64_t got = ingest(st, &a, T0 + 5);
		if (i == 1)
			first = got;
		if (got != first) {
			CHECK_EQ(got, first);
			break;
		}
	}
	CHECK_EQ(store_commit(st), 0);
	CHECK_EQ(store_incident_get(st, first, &inc), 0);
	CHECK_EQ(inc.alert_count, 10000);
	CHECK_EQ(inc.severity, 1);
	CHECK_EQ(inc.first_seen, T0);
	CHECK_EQ(inc.last_seen, T0 + 1000);
	CHECK(strcmp(inc.title, "FLOOD on 10.1.1.1") == 0);
	CHECK(strcmp(timeline(st, first),
		     "sensor1|opened|FLOOD on 10.1.1.1\n"
		     "system|severity|raised from 3 to 2 at 100 alerts\n"
		     "system|severity|raised from 2 to 1 at 1000 alerts\n") == 0);
	/* evidence: the first 20, then every 100th: 20 + 100 */
	char q[160];
	snprintf(q, sizeof(q), "SELECT count(*) FROM evidence WHERE incident_id = %lld", (long long)first);
	CHECK_EQ(scalar(st, q), 120);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM evidence WHERE alert_id IN "
			    "('s1:flood20', 's1:flood100', 's1:flood10000')"), 3);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM evidence WHERE alert_id IN ('s1:flood21', 's1:flood150')"), 0);
	/* one audit entry for the opening, not one per alert */
	snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE object = 'incident:%lld'", (long long)first);
	CHECK_EQ(scalar(st, q), 1);
	incident_events_clear(&evs);
}

static void test_window(struct store *st)
{
	struct store_alert a = mk_alert("s1:w1", 4000001, "1.2.3.4", "10.2.2.2", T0, 2);
	int64_t i1, i2, i3, i4;
	struct store_incident inc;

	cur_test = "window";
	i1 = ingest(st, &a, T0);
	a = mk_alert("s1:w2", 4000001, "1.2.3.4", "10.2.2.2", T0 + 3600, 2);  /* exactly the window */
	i2 = ingest(st, &a, T0 + 3600);
	CHECK_EQ(i2, i1);
	a = mk_alert("s1:w3", 4000001, "1.2.3.4", "10.2.2.2", T0 + 1800, 3);  /* late, out of order */
	i3 = ingest(st, &a, T0 + 3600);
	CHECK_EQ(i3, i1);
	a = mk_alert("s1:w4", 4000001, "1.2.3.4", "10.2.2.2", T0 + 7201, 2);  /* 3601 s after the last */
	i4 = ingest(st, &a, T0 + 7201);
	CHECK(i4 != i1);
	CHECK_EQ(store_incident_get(st, i1, &inc), 0);
	CHECK_EQ(inc.alert_count, 3);
	CHECK_EQ(inc.last_seen, T0 + 3600);
	CHECK(strcmp(inc.status, "open") == 0);   /* the old one stays open for a human */
	/* a resolved incident is never joined */
	CHECK_EQ(incident_set_status(st, i4, INCIDENT_RESOLVED, "alice", NULL, T0 + 7202, &evs), 0);
	a = mk_alert("s1:w5", 4000001, "1.2.3.4", "10.2.2.2", T0 + 7203, 2);
	CHECK(ingest(st, &a, T0 + 7203) != i4);
	/* an alert more severe than its incident raises it */
	a = mk_alert("s1:w6", 4000001, "1.2.3.4", "10.2.2.2", T0 + 7204, 1);
	int64_t i6 = ingest(st, &a, T0 + 7204);
	CHECK_EQ(store_incident_get(st, i6, &inc), 0);
	CHECK_EQ(inc.severity, 1);
	incident_events_clear(&evs);
}

static int64_t new_incident(struct store *st, const char *id)
{
	struct store_alert a = mk_alert(id, 5000001, "1.1.1.1", id, T0, 2);
	return ingest(st, &a, T0);
}

/* Puts incident id in state s by writing the row (for the table test). */
static void force_status(struct store *st, int64_t id, enum incident_status s)
{
	struct store_incident inc;

	CHECK_EQ(store_incident_get(st, id, &inc), 0);
	snprintf(inc.status, sizeof(inc.status), "%s", incident_status_name(s));
	CHECK_EQ(store_incident_update(st, &inc), 0);
}

static void test_transitions(struct store *st)
{
	char id[32];
	int allowed = 0, n = 0;

	cur_test = "transitions";
	for (int from = 0; from < INCIDENT_N_STATUS; from++) {
		for (int to = 0; to < INCIDENT_N_STATUS; to++) {
			snprintf(id, sizeof(id), "t%d.%d", from, to);
			int64_t inc = new_incident(st, id);
			force_status(st, inc, (enum incident_status)from);
			int64_t tl_before = scalar(st, "SELECT count(*) FROM timeline");
			int r = incident_set_status(st, inc, (enum incident_status)to, "alice", NULL, T0 + 1, &evs);
			bool ok = incident_transition_allowed((enum incident_status)from, (enum incident_status)to);
			CHECK_EQ(r, ok ? 0 : -EPERM);
			if (!ok)   /* a refusal changes nothing */
				CHECK_EQ(scalar(st, "SELECT count(*) FROM timeline"), tl_before);
			allowed += ok;
			n++;
		}
	}
	CHECK_EQ(n, 36);
	CHECK_EQ(allowed, 10);
	CHECK(incident_transition_allowed(INCIDENT_OPEN, INCIDENT_ACKNOWLEDGED));
	CHECK(incident_transition_allowed(INCIDENT_MITIGATED, INCIDENT_RESOLVED));
	CHECK(incident_transition_allowed(INCIDENT_CLOSED, INCIDENT_OPEN));
	CHECK(!incident_transition_allowed(INCIDENT_OPEN, INCIDENT_CLOSED));
	CHECK(!incident_transition_allowed(INCIDENT_OPEN, INCIDENT_INVESTIGATING));
	CHECK(!incident_transition_allowed(INCIDENT_CLOSED, INCIDENT_RESOLVED));
	CHECK(!incident_transition_allowed(INCIDENT_ACKNOWLEDGED, INCIDENT_OPEN));
	CHECK(incident_transition_privileged(INCIDENT_RESOLVED, INCIDENT_CLOSED));
	CHECK(incident_transition_privileged(INCIDENT_CLOSED, INCIDENT_OPEN));
	CHECK(!incident_transition_privileged(INCIDENT_OPEN, INCIDENT_RESOLVED));
	enum incident_status s;
	CHECK_EQ(incident_status_parse("mitigated", &s), 0);
	CHECK_EQ(s, INCIDENT_MITIGATED);
	CHECK_EQ(incident_status_parse("done", &s), -EINVAL);
	CHECK_EQ(incident_set_status(st, 99999, INCIDENT_RESOLVED, "alice", NULL, T0, &evs), -ENOENT);
	incident_events_clear(&evs);
}

static void test_lifecycle(struct store *st)
{
	int64_t id = new_incident(st, "10.3.3.3");
	struct store_incident inc;

	cur_test = "lifecycle";
	incident_events_clear(&evs);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_ACKNOWLEDGED, "alice", NULL, T0 + 30, &evs), 0);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_ACKNOWLEDGED, "alice", NULL, T0 + 31, &evs), -EPERM);
	CHECK_EQ(incident_assign(st, id, "bob", "alice", T0 + 40), 0);
	CHECK_EQ(incident_note(st, id, "looking at pcap", "bob", T0 + 50), 0);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_INVESTIGATING, "bob", NULL, T0 + 60, &evs), 0);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_MITIGATED, "bob", "blocked at fw", T0 + 70, &evs), 0);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_RESOLVED, "bob", NULL, T0 + 80, &evs), 0);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_CLOSED, "carol", NULL, T0 + 90, &evs), 0);
	CHECK_EQ(incident_assign(st, id, "dave", "alice", T0 + 95), -EPERM);
	CHECK_EQ(store_incident_get(st, id, &inc), 0);
	CHECK_EQ(inc.acked_at, T0 + 30);
	CHECK_EQ(inc.mitigated_at, T0 + 70);
	CHECK_EQ(inc.resolved_at, T0 + 80);
	CHECK_EQ(inc.closed_at, T0 + 90);
	CHECK(strcmp(inc.assignee, "bob") == 0);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_OPEN, "carol", "recurred", T0 + 100, &evs), 0);
	CHECK_EQ(store_incident_get(st, id, &inc), 0);
	CHECK(strcmp(inc.status, "open") == 0);
	CHECK_EQ(inc.acked_at, STORE_NO_TIME);
	CHECK_EQ(inc.closed_at, STORE_NO_TIME);
	CHECK_EQ(inc.esc_since, T0 + 100);
	CHECK(strcmp(timeline(st, id),
		     "sensor1|opened|TEST signature on 10.3.3.3\n"
		     "alice|status|open -> acknowledged\n"
		     "alice|assign|bob\n"
		     "bob|note|looking at pcap\n"
		     "bob|status|acknowledged -> investigating\n"
		     "bob|status|investigating -> mitigated: blocked at fw\n"
		     "bob|status|mitigated -> resolved\n"
		     "carol|status|resolved -> closed\n"
		     "carol|status|closed -> open: recurred\n") == 0);
	char q[160];
	snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE object = 'incident:%lld'", (long long)id);
	CHECK_EQ(scalar(st, q), 9);
	/* events: acknowledged, resolved, opened (a reopen) */
	CHECK_EQ(evs.n, 3);
	CHECK(evs.n == 3 && strcmp(evs.v[0].event, "acknowledged") == 0 &&
	      strcmp(evs.v[1].event, "resolved") == 0 && strcmp(evs.v[2].event, "opened") == 0 &&
	      evs.v[2].reopen && !evs.v[0].reopen);
	incident_events_clear(&evs);
}

static void test_escalation(struct store *st)
{
	struct store_policy pol[] = {
		{ .severity = 1, .ack_within_s = 60, .tiers = "[\"oncall\",\"lead\",\"manager\"]" },
	};
	struct store_alert a = mk_alert("s1:esc1", 6000001, "1.1.1.1", "10.4.4.4", T0, 1);
	struct store_alert b = mk_alert("s1:esc2", 6000002, "1.1.1.1", "10.4.4.4", T0, 1);
	struct store_alert c = mk_alert("s1:esc3", 6000003, "1.1.1.1", "10.4.4.4", T0, 3);
	struct store_incident inc;
	int64_t e1, e2, e3;

	cur_test = "escalation";
	/* close everything older so only these incidents are open */
	CHECK(sqlite3_exec(st->db, "UPDATE incidents SET status = 'closed'", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_EQ(store_policies_replace(st, pol, 1), 0);
	e1 = ingest(st, &a, T0);
	e2 = ingest(st, &b, T0);
	e3 = ingest(st, &c, T0);   /* severity 3: no policy */
	incident_events_clear(&evs);
	CHECK_EQ(incident_set_status(st, e2, INCIDENT_ACKNOWLEDGED, "alice", NULL, T0 + 10, &evs), 0);
	incident_events_clear(&evs);

	CHECK_EQ(incident_escalate_due(st, T0 + 59, &evs), 0);
	CHECK_EQ(incident_escalate_due(st, T0 + 60, &evs), 1);
	CHECK_EQ(evs.n, 1);
	CHECK(evs.n == 1 && evs.v[0].id == e1 && strcmp(evs.v[0].event, "escalated") == 0);
	CHECK_EQ(incident_escalate_due(st, T0 + 61, &evs), 0);    /* the clock restarted */
	CHECK_EQ(incident_escalate_due(st, T0 + 120, &evs), 1);
	CHECK_EQ(incident_escalate_due(st, T0 + 10000, &evs), 0); /* last tier */
	CHECK_EQ(store_incident_get(st, e1, &inc), 0);
	CHECK_EQ(inc.escalation_tier, 3);
	CHECK(strstr(timeline(st, e1),
		     "system|escalated|tier 1 -> 2 (lead): not acknowledged within 60 s\n"
		     "system|escalated|tier 2 -> 3 (manager): not acknowledged within 60 s\n") != NULL);
	CHECK_EQ(store_incident_get(st, e2, &inc), 0);
	CHECK_EQ(inc.escalation_tier, 1);
	CHECK_EQ(store_incident_get(st, e3, &inc), 0);
	CHECK_EQ(inc.escalation_tier, 1);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM audit WHERE action = 'incident.escalate'"), 2);
	/* a reopened incident escalates again from its reopening */
	CHECK_EQ(incident_set_status(st, e2, INCIDENT_RESOLVED, "alice", NULL, T0 + 20, &evs), 0);
	CHECK_EQ(incident_set_status(st, e2, INCIDENT_OPEN, "carol", NULL, T0 + 20000, &evs), 0);
	CHECK_EQ(incident_escalate_due(st, T0 + 20059, &evs), 0);
	CHECK_EQ(incident_escalate_due(st, T0 + 20060, &evs), 1);
	incident_events_clear(&evs);
}

static void test_blind_spots(struct store *st)
{
	json_t *c1 = json_pack("{s:i, s:i}", "capture.kernel_drops", 5, "decoder.pkts", 100);
	json_t *c2 = json_pack("{s:i, s:i}", "capture.kernel_drops", 9, "decoder.pkts", 200);
	json_t *c3 = json_pack("{s:i, s:i}", "capture.kernel_drops", 12, "output.ring_drops", 1);
	json_t *c4 = json_pack("{s:i}", "capture.kernel_drops", 0);
	char *prev = NULL, *t1 = json_dumps(c1, 0), *t2 = json_dumps(c2, 0), *t3 = json_dumps(c3, 0);
	struct store_incident inc;

	cur_test = "blind_spots";
	incident_events_clear(&evs);
	CHECK_EQ(incident_heartbeat(st, &cfg, "edge1", NULL, c1, "sensor1", T0, &evs), 0);
	CHECK_EQ(incident_heartbeat(st, &cfg, "edge1", t1, c2, "sensor1", T0 + 10, &evs), 1);
	CHECK_EQ(store_incident_find_open(st, "blind:edge1:capture.kernel_drops", &inc), 0);
	CHECK(strcmp(inc.kind, "blind_spot") == 0);
	CHECK(strcmp(inc.title, "Blind spot on edge1: capture.kernel_drops growing") == 0);
	CHECK_EQ(inc.severity, 2);
	CHECK_EQ(inc.alert_count, 1);
	/* grows again: joins; a counter first seen now is a baseline */
	CHECK_EQ(incident_heartbeat(st, &cfg, "edge1", t2, c3, "sensor1", T0 + 20, &evs), 1);
	CHECK_EQ(store_incident_find_open(st, "blind:edge1:capture.kernel_drops", &inc), 0);
	CHECK_EQ(inc.alert_count, 2);
	CHECK_EQ(inc.last_seen, T0 + 20);
	CHECK(strcmp(timeline(st, inc.id),
		     "sensor1|opened|Blind spot on edge1: capture.kernel_drops growing\n"
		     "sensor1|blind_spot|capture.kernel_drops +4 (9)\n"
		     "sensor1|blind_spot|capture.kernel_drops +3 (12)\n") == 0);
	/* a restart (counter went down) is a new baseline */
	CHECK_EQ(incident_heartbeat(st, &cfg, "edge1", t3, c4, "sensor1", T0 + 30, &evs), 0);
	CHECK_EQ(evs.n, 1);

	/* silence: 3 periods of 10 s */
	CHECK_EQ(store_sensor_heartbeat(st, "edge1", "1", "r", t1, T0 + 30, &prev), 0);
	free(prev);
	CHECK_EQ(incident_blind_spots_due(st, &cfg, T0 + 60, &evs), 0);
	CHECK_EQ(incident_blind_spots_due(st, &cfg, T0 + 61, &evs), 1);
	CHECK_EQ(incident_blind_spots_due(st, &cfg, T0 + 90, &evs), 0);   /* once per silence */
	CHECK_EQ(store_incident_find_open(st, "blind:edge1:silent", &inc), 0);
	CHECK(strcmp(inc.title, "Blind spot on edge1: sensor silent") == 0);
	CHECK(strstr(timeline(st, inc.id), "system|blind_spot|no heartbeat for 31 s\n") != NULL);
	CHECK_EQ(store_sensor_heartbeat(st, "edge1", "1", "r", t1, T0 + 100, &prev), 0);   /* re-arms */
	free(prev);
	CHECK_EQ(incident_blind_spots_due(st, &cfg, T0 + 200, &evs), 1);
	CHECK_EQ(store_incident_find_open(st, "blind:edge1:silent", &inc), 0);
	CHECK_EQ(inc.alert_count, 2);   /* joined the open one */
	CHECK_EQ(evs.n, 2);             /* opened (counter), opened (silent) */
	incident_events_clear(&evs);

	/* alerts the sensor's spool dropped: we are blind to them */
	json_t *d1 = json_pack("{s:i}", "control.spool_drops", 0), *d2 = json_pack("{s:i}", "control.spool_drops", 7);
	char *td1 = json_dumps(d1, 0);
	CHECK_EQ(incident_heartbeat(st, &cfg, "edge2", NULL, d1, "sensor1", T0 + 300, &evs), 0);
	CHECK_EQ(incident_heartbeat(st, &cfg, "edge2", td1, d2, "sensor1", T0 + 310, &evs), 1);
	CHECK_EQ(store_incident_find_open(st, "blind:edge2:control.spool_drops", &inc), 0);
	free(td1);
	json_decref(d1);
	json_decref(d2);

	CHECK_EQ(evs.n, 1);
	incident_events_clear(&evs);
	json_decref(c1);
	json_decref(c2);
	json_decref(c3);
	json_decref(c4);
	free(t1);
	free(t2);
	free(t3);
}

struct seen {
	int n;
	char last[32];
	int64_t id;
};

static void on_event(void *arg, const struct incident_event *ev)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", ev->event);
	s->id = json_integer_value(json_object_get(ev->incident, "id"));
}

static void test_seam(struct store *st)
{
	struct seen seen = { 0 };
	struct incident_sink sink = { on_event, &seen };
	struct incident_sink stub = { incident_stub_sink, st };
	struct store_target tg[] = {
		{ .name = "pd", .type = "pagerduty", .routing_key = "k", .min_severity = 1 },
		{ .name = "hook", .type = "webhook", .url = "http://127.0.0.1:9/", .min_severity = -1 },
	};
	int64_t id = new_incident(st, "10.5.5.5");
	json_t *o = NULL;
	char q[512];

	cur_test = "seam";
	CHECK_EQ(evs.n, 1);
	incident_events_emit(st, &evs, &sink);
	CHECK_EQ(evs.n, 0);
	CHECK_EQ(seen.n, 1);
	CHECK(strcmp(seen.last, "opened") == 0);
	CHECK_EQ(seen.id, id);

	/* the stub: one row per target the severity (2) reaches, status "stub" */
	CHECK_EQ(store_targets_replace(st, tg, 2), 0);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_ACKNOWLEDGED, "alice", NULL, T0 + 5, &evs), 0);
	incident_events_emit(st, &evs, &stub);
	snprintf(q, sizeof(q), "SELECT count(*) FROM notifications WHERE incident_id = %lld AND "
		 "target = 'hook' AND status = 'stub' AND event = 'acknowledged'", (long long)id);
	CHECK_EQ(scalar(st, q), 1);
	snprintf(q, sizeof(q), "SELECT count(*) FROM notifications WHERE incident_id = %lld", (long long)id);
	CHECK_EQ(scalar(st, q), 1);
	CHECK_EQ(store_targets_replace(st, NULL, 0), 0);
	CHECK_EQ(incident_set_status(st, id, INCIDENT_RESOLVED, "alice", NULL, T0 + 6, &evs), 0);
	incident_events_emit(st, &evs, &stub);
	snprintf(q, sizeof(q), "SELECT count(*) FROM notifications WHERE incident_id = %lld AND "
		 "target = '-' AND status = 'logged'", (long long)id);
	CHECK_EQ(scalar(st, q), 1);

	/* the stub never delivers: notified_at stays NULL; a real delivery sets it once */
	CHECK_EQ(store_incident_json(st, id, &o), 0);
	CHECK(json_is_null(json_object_get(o, "notified_at")));
	json_decref(o);
	CHECK_EQ(incident_notified(st, id, "opened", "hook", false, "HTTP 500: down (5 tries)", T0 + 7), 0);
	CHECK_EQ(store_incident_json(st, id, &o), 0);
	CHECK(json_is_null(json_object_get(o, "notified_at")));     /* a failure is not a notification */
	json_decref(o);
	CHECK_EQ(incident_notified(st, id, "opened", "hook", true, NULL, T0 + 9), 0);
	CHECK_EQ(incident_notified(st, id, "resolved", "hook", true, "on try 2", T0 + 20), 0);
	CHECK_EQ(store_incident_json(st, id, &o), 0);
	CHECK_EQ(json_integer_value(json_object_get(o, "time_to_notify_s")), 9);
	json_decref(o);
	/* each outcome: a notifications row and a timeline entry by system */
	snprintf(q, sizeof(q), "SELECT count(*) FROM notifications WHERE incident_id = %lld AND "
		 "status IN ('delivered', 'failed')", (long long)id);
	CHECK_EQ(scalar(st, q), 3);
	snprintf(q, sizeof(q), "SELECT count(*) FROM timeline WHERE incident_id = %lld AND user = 'system' "
		 "AND ((ts = %d AND action = 'notify_failed' AND detail = 'opened to hook: HTTP 500: down (5 tries)') "
		 "OR (ts = %d AND action = 'notified' AND detail = 'opened to hook') "
		 "OR (ts = %d AND action = 'notified' AND detail = 'resolved to hook: on try 2'))",
		 (long long)id, T0 + 7, T0 + 9, T0 + 20);
	CHECK_EQ(scalar(st, q), 3);
	CHECK_EQ(incident_notified(st, 99999, "opened", "hook", true, NULL, T0), -ENOENT);
}

/* The detail of the newest audit entry. */
static const char *last_audit(struct store *st)
{
	static char buf[256];
	json_t *arr = NULL;

	buf[0] = '\0';
	CHECK_EQ(store_audit_json(st, 1, &arr), 0);
	snprintf(buf, sizeof(buf), "%s|%s|%s",
		 json_string_value(json_object_get(json_array_get(arr, 0), "action")),
		 json_string_value(json_object_get(json_array_get(arr, 0), "object")),
		 json_string_value(json_object_get(json_array_get(arr, 0), "detail")));
	json_decref(arr);
	return buf;
}

static void test_ingest_batch(struct store *st)
{
	struct store_alert al[2] = {
		mk_alert("b1:1", 8000001, "1.2.3.4", "10.8.8.8", T0, 2),
		mk_alert("b1:2", 8000001, "1.2.3.4", "10.8.8.8", T0 + 1, 2),
	};
	struct store_flow fl[2] = {
		mk_flow("b1:3", "b1", 77, T0 + 5),
		mk_flow("b1:4", "b1", 77, T0 + 65),
	};
	struct store_alert more = mk_alert("b1:5", 8000001, "1.2.3.4", "10.8.8.8", T0 + 2, 2);
	struct incident_ingest_counts k;
	int64_t acc = -1, dups = -1, flows_before = scalar(st, "SELECT count(*) FROM flows");

	cur_test = "ingest_batch";
	al[0].sensor = al[1].sensor = more.sensor = "b1";
	al[0].flow_id = al[1].flow_id = 77;
	CHECK_EQ(incident_ingest_batch_ex(st, &cfg, "b1", al, 2, fl, 2, "sensor1", T0 + 100, &evs, &k), 0);
	CHECK_EQ(k.alerts_accepted, 2);
	CHECK_EQ(k.alerts_duplicates, 0);
	CHECK_EQ(k.flows_accepted, 2);
	CHECK_EQ(k.flows_duplicates, 0);
	CHECK(strcmp(last_audit(st), "ingest|sensor:b1|alerts accepted 2, duplicates 0; flows accepted 2, "
		     "duplicates 0") == 0);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM flows") - flows_before, 2);
	/* a resend: duplicates only, no audit entry */
	CHECK_EQ(incident_ingest_batch_ex(st, &cfg, "b1", al, 2, fl, 2, "sensor1", T0 + 101, &evs, &k), 0);
	CHECK(k.alerts_accepted == 0 && k.alerts_duplicates == 2 && k.flows_accepted == 0 &&
	      k.flows_duplicates == 2);
	CHECK(strstr(last_audit(st), "flows accepted 2") != NULL);
	/* only a new flow record: still audited */
	fl[1] = mk_flow("b1:6", "b1", 77, T0 + 125);
	CHECK_EQ(incident_ingest_batch_ex(st, &cfg, "b1", al, 2, fl, 2, "sensor1", T0 + 102, &evs, &k), 0);
	CHECK(k.alerts_accepted == 0 && k.alerts_duplicates == 2 && k.flows_accepted == 1 &&
	      k.flows_duplicates == 1);
	CHECK(strcmp(last_audit(st), "ingest|sensor:b1|alerts accepted 0, duplicates 2; flows accepted 1, "
		     "duplicates 1") == 0);
	/* without flow records: the old detail, and incident_ingest_batch() is the same */
	CHECK_EQ(incident_ingest_batch(st, &cfg, "b1", &more, 1, "sensor1", T0 + 103, &evs, &acc, &dups), 0);
	CHECK(acc == 1 && dups == 0);
	CHECK(strcmp(last_audit(st), "ingest|sensor:b1|accepted 1, duplicates 0") == 0);
	CHECK_EQ(scalar(st, "SELECT alert_count FROM incidents WHERE key = 'sid:8000001:dst:10.8.8.8'"), 3);
	incident_events_clear(&evs);
}

int main(void)
{
	struct store *st = NULL;

	incident_cfg_default(&cfg);
	incident_events_init(&evs);
	if (store_open(tmp_db("incident.db"), &st) != 0) {
		printf("FAIL: cannot open the database\n");
		return 1;
	}
	test_scan(st);
	test_flood(st);
	test_window(st);
	test_transitions(st);
	test_lifecycle(st);
	test_escalation(st);
	test_blind_spots(st);
	test_seam(st);
	test_ingest_batch(st);
	incident_events_fini(&evs);
	store_close(st);
	printf("%s\n", failures ? "FAILED" : "PASS");
	return failures ? 1 : 0;
}
