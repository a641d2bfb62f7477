/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Incidents: correlation of alerts into incidents, the lifecycle,
 * escalation and blind spots.  Pure logic over store/: no HTTP, no clock
 * (every function takes "now"), no threads.
 *
 * Transactions belong to the caller: a function here makes several writes
 * (the incident, its timeline, the audit log) and expects to run inside
 * the caller's store_begin()/store_commit(), so that a failure rolls all
 * of them back together (an ingest batch is one transaction).  Callers hold
 * store_lock().
 *
 * Notification seam: functions that change an incident in a way the
 * outside world hears about append an event to a `struct incident_events`
 * queue; after committing, the caller hands the queue to
 * incident_events_emit(), which loads each incident and calls the sink.
 * Nothing is emitted for a rolled-back change.
 */
#ifndef VIGIL_INCIDENT_H
#define VIGIL_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

/* The timeline and audit user of automatic actions. */
#define INCIDENT_SYSTEM_USER "system"

struct incident_cfg {
	int64_t window_s;             /* join an open incident whose last alert is this recent */
	int64_t raise_at[4];          /* alert counts that raise the severity one step (0: unused) */
	int64_t evidence_first;       /* the first N alerts are kept as evidence ... */
	int64_t evidence_every;       /* ... then every Nth */
	const char *const *scan_categories;  /* NULL-terminated: keyed by sid + src_ip */
	int64_t heartbeat_period_s;   /* expected heartbeat period of sensors */
	int64_t silent_periods;       /* silent for this many periods: blind spot */
	int64_t blind_severity;       /* severity of blind-spot incidents */
	int64_t drift_grace_s;        /* a ruleset differing this long is drift (30) */
	int64_t drift_severity;       /* severity of drift incidents (2) */
};

/* The contract's defaults: 3600 s window, raise at 100 and 1000, evidence
 * 20 then every 100th, attempted-recon scans, 10 s heartbeats, 3 periods,
 * drift after 30 s at severity 2. */
void incident_cfg_default(struct incident_cfg *c);

/* --- events and the notification seam (incident_events.c) ------------ */

struct incident_event {
	const char *event;            /* "opened" | "escalated" | "acknowledged" | "resolved" */
	bool reopen;                  /* "opened" again by a reopen (not a new incident) */
	int64_t incident_id;
	int64_t ts;                   /* when it happened (the caller's clock) */
	json_t *incident;             /* the INCIDENT object; borrowed for the call */
};

/* The sink: called by incident_events_emit() on the thread that emits,
 * with the store lock held.  It must not block (a real notifier queues
 * the event and delivers from its own thread, then reports the outcome
 * through incident_notified()).  It may use the store. */
struct incident_sink {
	void (*on_event)(void *arg, const struct incident_event *ev);
	void *arg;
};

struct incident_events {
	size_t n, cap;
	struct {
		const char *event;    /* static string */
		bool reopen;
		int64_t id, ts;
	} *v;
};

void incident_events_init(struct incident_events *q);
void incident_events_fini(struct incident_events *q);
int incident_events_push(struct incident_events *q, const char *event, int64_t id, int64_t ts);
void incident_events_clear(struct incident_events *q);

/* Calls sink->on_event (if any) for each queued event, in order, then
 * clears the queue.  An incident that cannot be loaded is skipped and
 * logged. */
void incident_events_emit(struct store *st, struct incident_events *q,
			  const struct incident_sink *sink);

/* Records the outcome of one delivery reported by a notifier: a
 * notifications row (status "delivered" or "failed"), a timeline entry by
 * "system" (action "notified" or "notify_failed", detail "EVENT to TARGET"
 * and ": why" when why is given, e.g. the error), and, for the first
 * successful delivery, the incident's notified_at = now.  Several writes:
 * the caller's transaction. */
int incident_notified(struct store *st, int64_t id, const char *event, const char *target,
		      bool ok, const char *why, int64_t now);

/* A stub sink (arg: the struct store *) for tests and tools that have no
 * notifier; vigil-control uses control/notify.  It logs each event on
 * stderr and records one notifications row per configured target that the
 * incident's severity reaches (min_severity null or <= 0: every
 * severity), with status "stub" (nothing is sent), or one row with target
 * "-" and status "logged" when none matches.  It never reports a
 * delivery, so notified_at stays NULL. */
void incident_stub_sink(void *arg, const struct incident_event *ev);

/* --- correlation (incident_correlate.c) ------------------------------ */

/* The correlation key of an alert into key (STORE_KEY_MAX bytes):
 * "sid:SID:src:IP" for scan categories, else "sid:SID:dst:IP". */
void incident_alert_key(const struct incident_cfg *cfg, const struct store_alert *a, char *key);

/* Correlates a newly stored alert: joins the open incident of its key if
 * that incident's last alert is within the window (by alert time), else
 * opens one (event "opened").  Updates count, first/last seen, severity
 * (raised at cfg->raise_at counts, with a timeline entry), the evidence
 * sample and the alert's incident link.  `user` is who ingested it (for
 * the timeline and audit of an opening).  Sets *incident_id if not NULL. */
int incident_ingest_alert(struct store *st, const struct incident_cfg *cfg,
			  const struct store_alert *a, const char *user, int64_t now,
			  struct incident_events *evs, int64_t *incident_id);

/* The work of one ingest batch (POST /api/v1/ingest) inside the caller's
 * transaction: each alert INSERT OR IGNOREd on its id (store_alert_insert)
 * and, if it was new, correlated (incident_ingest_alert); then, if any was
 * new, one audit entry by `user`: action "ingest", object "sensor:SENSOR",
 * detail "accepted N, duplicates N".  Stops at the first error (the caller
 * rolls back).  Sets *accepted and *duplicates (counted up to an error).
 * incident_ingest_batch_ex() without flow records. */
int incident_ingest_batch(struct store *st, const struct incident_cfg *cfg, const char *sensor,
			  const struct store_alert *alerts, size_t n, const char *user, int64_t now,
			  struct incident_events *evs, int64_t *accepted, int64_t *duplicates);

/* What incident_ingest_batch_ex() stored (new ids) and found already
 * stored (resends), alerts and flow records apart. */
struct incident_ingest_counts {
	int64_t alerts_accepted, alerts_duplicates;
	int64_t flows_accepted, flows_duplicates;
};

/* incident_ingest_batch() with the batch's flow records too (the body's
 * "flows"): after the alerts, each flow record INSERT OR IGNOREd on its id
 * (store_flow_insert; flow records are not correlated: an incident finds
 * them by its alerts' sensor and flow_id).  One audit entry if anything
 * was new: detail "accepted N, duplicates N" (alerts) as above when the
 * batch has no flow record, else "alerts accepted N, duplicates N; flows
 * accepted N, duplicates N".  Stops at the first error (the caller rolls
 * back).  Sets *out (counted up to an error). */
int incident_ingest_batch_ex(struct store *st, const struct incident_cfg *cfg, const char *sensor,
			     const struct store_alert *alerts, size_t n,
			     const struct store_flow *flows, size_t nflows, const char *user,
			     int64_t now, struct incident_events *evs,
			     struct incident_ingest_counts *out);

/* --- lifecycle (incident_lifecycle.c) -------------------------------- */

enum incident_status {
	INCIDENT_OPEN,
	INCIDENT_ACKNOWLEDGED,
	INCIDENT_INVESTIGATING,
	INCIDENT_MITIGATED,
	INCIDENT_RESOLVED,
	INCIDENT_CLOSED,
	INCIDENT_N_STATUS,
};

/* -EINVAL for an unknown name. */
int incident_status_parse(const char *name, enum incident_status *out);
const char *incident_status_name(enum incident_status s);

/* The transition table: open -> acknowledged -> investigating -> mitigated
 * -> resolved -> closed; any state before resolved -> resolved; resolved
 * and closed -> open (reopen).  Nothing else, and never to itself. */
bool incident_transition_allowed(enum incident_status from, enum incident_status to);

/* Close and reopen need the incident_manager role. */
bool incident_transition_privileged(enum incident_status from, enum incident_status to);

/* Moves incident id to `to`: -ENOENT if absent, -EPERM if the table
 * forbids it.  Sets the matching *_at time; reopening clears them and
 * restarts escalation at tier 1.  Timeline + audit entry ("a -> b" and
 * ": reason" if given); events "acknowledged", "resolved", and "opened"
 * with reopen set for a reopen. */
int incident_set_status(struct store *st, int64_t id, enum incident_status to, const char *user,
			const char *reason, int64_t now, struct incident_events *evs);

/* Sets the assignee (any non-closed incident; -EPERM if closed). */
int incident_assign(struct store *st, int64_t id, const char *assignee, const char *user,
		    int64_t now);

/* Adds a note to the timeline. */
int incident_note(struct store *st, int64_t id, const char *text, const char *user, int64_t now);

/* --- escalation and blind spots (incident_escalate.c) ---------------- */

/* Escalates every unacknowledged ("open") incident whose severity has a
 * policy and that has waited ack_within_s since it was opened (or last
 * escalated, or reopened) and is not at the last tier yet: one tier up,
 * timeline + audit entry, event "escalated".  Returns how many escalated. */
int incident_escalate_due(struct store *st, int64_t now, struct incident_events *out);

/* The heartbeat counters that reveal a blind spot when they grow. */
extern const char *const incident_blind_counters[];

/* Compares a heartbeat's counters with the previous heartbeat's (JSON
 * object text, NULL for the first): each watched counter that grew opens
 * or joins the incident "blind:SENSOR:COUNTER".  A counter that went down
 * (sensor restart) is a new baseline.  Returns how many grew. */
int incident_heartbeat(struct store *st, const struct incident_cfg *cfg, const char *sensor,
		       const char *prev_counters, json_t *counters, const char *user, int64_t now,
		       struct incident_events *evs);

/* Opens "blind:SENSOR:silent" for every sensor silent for
 * silent_periods * heartbeat_period_s (once per silence: the next
 * heartbeat re-arms it).  Returns how many opened or joined. */
int incident_blind_spots_due(struct store *st, const struct incident_cfg *cfg, int64_t now,
			     struct incident_events *evs);

/* --- drift from the deployed baseline (incident_drift.c) ------------ */

/* Compares what the sensor last reported (store_sensor_drift_get) with
 * its baseline (store_sensor_desired): a ruleset other than the
 * baseline's engine id for cfg->drift_grace_s or longer opens or joins
 * "drift:SENSOR:ruleset"; a config_hash other than the first one reported
 * since the baseline (recorded here on first sight) opens or joins
 * "drift:SENSOR:config".  Opened by `user`; each is resolved (by
 * "system", event "resolved") when the sensor reports its baseline again.
 * No baseline, or a sensor that never sent a heartbeat: nothing.  Returns
 * how many drift incidents are open for the sensor afterwards. */
int incident_drift_sensor(struct store *st, const struct incident_cfg *cfg, const char *sensor,
			  const char *user, int64_t now, struct incident_events *evs);

/* incident_drift_sensor() for every sensor, by "system" (the grace period
 * runs out between heartbeats).  Returns how many drift incidents are
 * open. */
int incident_drift_due(struct store *st, const struct incident_cfg *cfg, int64_t now,
		       struct incident_events *evs);

#endif
