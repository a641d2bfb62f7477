/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Correlation: which incident an alert belongs to.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "incident_priv.h"

int incident_log(struct store *st, int64_t id, int64_t now, const char *user, const char *action,
		 const char *audit_action, const char *detail)
{
	char object[32];
	int err = store_timeline_add(st, id, now, user, action, detail);

	if (err)
		return err;
	snprintf(object, sizeof(object), "incident:%lld", (long long)id);
	return store_audit_add(st, now, user, audit_action, object, detail);
}

void incident_new(struct store_incident *inc, int64_t now)
{
	snprintf(inc->status, sizeof(inc->status), "open");
	inc->assignee[0] = '\0';
	inc->alert_count = 0;
	inc->opened_at = now;
	inc->notified_at = inc->acked_at = inc->mitigated_at = STORE_NO_TIME;
	inc->resolved_at = inc->closed_at = STORE_NO_TIME;
	inc->escalation_tier = 1;
	inc->esc_since = now;
}

int incident_open(struct store *st, struct store_incident *inc, const char *user, int64_t now,
		  struct incident_events *evs)
{
	int err = store_incident_insert(st, inc);

	if (!err)
		err = incident_log(st, inc->id, now, user, "opened", "incident.open", inc->title);
	if (!err)
		err = incident_events_push(evs, "opened", inc->id, now);
	return err;
}

static bool is_scan(const struct incident_cfg *cfg, const struct store_alert *a)
{
	if (!a->category || !cfg->scan_categories)
		return false;
	for (const char *const *c = cfg->scan_categories; *c; c++)
		if (strcmp(*c, a->category) == 0)
			return true;
	return false;
}

void incident_alert_key(const struct incident_cfg *cfg, const struct store_alert *a, char *key)
{
	if (is_scan(cfg, a))
		snprintf(key, STORE_KEY_MAX, "sid:%lld:src:%s", (long long)a->sid, a->src_ip);
	else
		snprintf(key, STORE_KEY_MAX, "sid:%lld:dst:%s", (long long)a->sid, a->dest_ip);
}

static void alert_title(const struct incident_cfg *cfg, const struct store_alert *a, char *title)
{
	char sig[32];
	const char *name = a->signature;

	if (!name || !*name) {
		snprintf(sig, sizeof(sig), "sid %lld", (long long)a->sid);
		name = sig;
	}
	if (is_scan(cfg, a))
		snprintf(title, STORE_TITLE_MAX, "%s from %s", name, a->src_ip);
	else
		snprintf(title, STORE_TITLE_MAX, "%s on %s", name, a->dest_ip);
}

/* One more alert in inc: count, times, severity (the alert's if higher,
 * then one step per raise_at threshold reached). */
static int account(struct store *st, const struct incident_cfg *cfg, struct store_incident *inc,
		   const struct store_alert *a, int64_t now)
{
	char detail[96];
	int err;

	inc->alert_count++;
	if (inc->alert_count == 1 || a->ts_epoch < inc->first_seen)
		inc->first_seen = a->ts_epoch;
	if (inc->alert_count == 1 || a->ts_epoch > inc->last_seen)
		inc->last_seen = a->ts_epoch;
	if (a->severity < inc->severity)
		inc->severity = a->severity;
	for (size_t i = 0; i < sizeof(cfg->raise_at) / sizeof(cfg->raise_at[0]); i++) {
		if (cfg->raise_at[i] <= 0 || inc->alert_count != cfg->raise_at[i] || inc->severity <= 1)
			continue;
		snprintf(detail, sizeof(detail), "raised from %lld to %lld at %lld alerts",
			 (long long)inc->severity, (long long)inc->severity - 1,
			 (long long)inc->alert_count);
		inc->severity--;
		err = store_timeline_add(st, inc->id, now, INCIDENT_SYSTEM_USER, "severity", detail);
		if (err)
			return err;
	}
	if (inc->alert_count <= cfg->evidence_first ||
	    (cfg->evidence_every > 0 && inc->alert_count % cfg->evidence_every == 0)) {
		err = store_evidence_add(st, inc->id, a->id);
		if (err)
			return err;
	}
	err = store_alert_set_incident(st, a->id, inc->id);
	if (err)
		return err;
	return store_incident_update(st, inc);
}

int incident_ingest_alert(struct store *st, const struct incident_cfg *cfg,
			  const struct store_alert *a, const char *user, int64_t now,
			  struct incident_events *evs, int64_t *incident_id)
{
	struct store_incident inc;
	int err;

	memset(&inc, 0, sizeof(inc));
	incident_alert_key(cfg, a, inc.key);
	err = store_incident_find_open(st, inc.key, &inc);
	if (err && err != -ENOENT)
		return err;
	if (err == -ENOENT || a->ts_epoch - inc.last_seen > cfg->window_s) {
		char key[STORE_KEY_MAX];
		memcpy(key, inc.key, sizeof(key));
		memset(&inc, 0, sizeof(inc));
		memcpy(inc.key, key, sizeof(key));
		snprintf(inc.kind, sizeof(inc.kind), "alert");
		alert_title(cfg, a, inc.title);
		inc.severity = a->severity;
		inc.sid = a->sid;
		inc.first_seen = inc.last_seen = a->ts_epoch;
		incident_new(&inc, now);
		err = incident_open(st, &inc, user, now, evs);
		if (err)
			return err;
	}
	err = account(st, cfg, &inc, a, now);
	if (!err && incident_id)
		*incident_id = inc.id;
	return err;
}

int incident_ingest_batch_ex(struct store *st, const struct incident_cfg *cfg, const char *sensor,
			     const struct store_alert *alerts, size_t n,
			     const struct store_flow *flows, size_t nflows, const char *user,
			     int64_t now, struct incident_events *evs,
			     struct incident_ingest_counts *out)
{
	char object[STORE_NAME_MAX + 16], detail[160];
	struct incident_ingest_counts k = { 0, 0, 0, 0 };
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		int r = store_alert_insert(st, &alerts[i], now);
		if (r < 0) {
			err = r;
		} else if (r == 0) {
			k.alerts_duplicates++;
		} else {
			k.alerts_accepted++;
			err = incident_ingest_alert(st, cfg, &alerts[i], user, now, evs, NULL);
		}
	}
	for (size_t i = 0; !err && i < nflows; i++) {
		int r = store_flow_insert(st, &flows[i], now);
		if (r < 0)
			err = r;
		else if (r == 0)
			k.flows_duplicates++;
		else
			k.flows_accepted++;
	}
	if (!err && (k.alerts_accepted || k.flows_accepted)) {
		snprintf(object, sizeof(object), "sensor:%s", sensor);
		if (nflows)
			snprintf(detail, sizeof(detail),
				 "alerts accepted %lld, duplicates %lld; flows accepted %lld, duplicates %lld",
				 (long long)k.alerts_accepted, (long long)k.alerts_duplicates,
				 (long long)k.flows_accepted, (long long)k.flows_duplicates);
		else
			snprintf(detail, sizeof(detail), "accepted %lld, duplicates %lld",
				 (long long)k.alerts_accepted, (long long)k.alerts_duplicates);
		err = store_audit_add(st, now, user, "ingest", object, detail);
	}
	*out = k;
	return err;
}

int incident_ingest_batch(struct store *st, const struct incident_cfg *cfg, const char *sensor,
			  const struct store_alert *alerts, size_t n, const char *user, int64_t now,
			  struct incident_events *evs, int64_t *accepted, int64_t *duplicates)
{
	struct incident_ingest_counts k;
	int err = incident_ingest_batch_ex(st, cfg, sensor, alerts, n, NULL, 0, user, now, evs, &k);

	*accepted = k.alerts_accepted;
	*duplicates = k.alerts_duplicates;
	return err;
}
