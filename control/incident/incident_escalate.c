/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Time-driven evaluation: escalation of unacknowledged incidents and blind
 * spots (counters of lost visibility that grow, sensors that fall silent).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident_priv.h"

const char *const incident_blind_counters[] = {
	"capture.kernel_drops",
	"capture.dispatch_drops",
	"output.ring_drops",
	"flow.emerg_evicted",
	"flow.no_flow",
	"stream.session_memcap",
	"control.spool_drops",   /* alerts the dataplane could not keep for us */
	NULL,
};

struct due {
	int64_t id, severity, tier, esc_since;
};

struct due_list {
	size_t n, cap;
	struct due *v;
};

static int collect_open(void *arg, const struct store_incident *inc)
{
	struct due_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct due *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct due){ inc->id, inc->severity, inc->escalation_tier, inc->esc_since };
	return 0;
}

/* The policy set, loaded once per evaluation. */
struct policies {
	int64_t ack_within[4];        /* by severity 1..3; 0: no policy */
	json_t *tiers[4];
};

static int escalate_one(struct store *st, const struct policies *p, const struct due *d,
			int64_t now, struct incident_events *out)
{
	struct store_incident inc;
	int64_t ack_within;
	json_t *tiers;
	char detail[160];
	int err;

	if (d->severity < 1 || d->severity > 3 || !p->ack_within[d->severity])
		return 0;
	ack_within = p->ack_within[d->severity];
	tiers = p->tiers[d->severity];
	if (d->tier >= (int64_t)json_array_size(tiers) || now - d->esc_since < ack_within)
		return 0;
	err = store_incident_get(st, d->id, &inc);
	if (err)
		return err;
	snprintf(detail, sizeof(detail), "tier %lld -> %lld (%s): not acknowledged within %lld s",
		 (long long)inc.escalation_tier, (long long)inc.escalation_tier + 1,
		 json_string_value(json_array_get(tiers, (size_t)inc.escalation_tier)),
		 (long long)ack_within);
	inc.escalation_tier++;
	inc.esc_since = now;
	err = store_incident_update(st, &inc);
	if (!err)
		err = incident_log(st, inc.id, now, INCIDENT_SYSTEM_USER, "escalated", "incident.escalate",
				   detail);
	if (!err)
		err = incident_events_push(out, "escalated", inc.id, now);
	return err ? err : 1;
}

int incident_escalate_due(struct store *st, int64_t now, struct incident_events *out)
{
	struct policies p = { 0 };
	struct due_list l = { 0 };
	int err = 0, n = 0;

	for (int sev = 1; !err && sev <= 3; sev++) {
		err = store_policy_get(st, sev, &p.ack_within[sev], &p.tiers[sev]);
		if (err == -ENOENT) {
			p.ack_within[sev] = 0;
			err = 0;
		}
	}
	if (!err && (p.ack_within[1] || p.ack_within[2] || p.ack_within[3]))
		err = store_incidents_foreach_open(st, collect_open, &l);
	for (size_t i = 0; !err && i < l.n; i++) {
		int r = escalate_one(st, &p, &l.v[i], now, out);
		if (r < 0)
			err = r;
		else
			n += r;
	}
	for (int sev = 1; sev <= 3; sev++)
		json_decref(p.tiers[sev]);
	free(l.v);
	return err ? err : n;
}

/* Opens the blind-spot incident `key`, or adds one occurrence to its open
 * one, with a timeline entry saying what was seen. */
static int blind_spot(struct store *st, const struct incident_cfg *cfg, const char *key,
		      const char *title, const char *detail, const char *user, int64_t now,
		      struct incident_events *evs)
{
	struct store_incident inc;
	int err = store_incident_find_open(st, key, &inc);

	if (err == -ENOENT) {
		memset(&inc, 0, sizeof(inc));
		snprintf(inc.key, sizeof(inc.key), "%s", key);
		snprintf(inc.kind, sizeof(inc.kind), "blind_spot");
		snprintf(inc.title, sizeof(inc.title), "%s", title);
		inc.severity = cfg->blind_severity;
		inc.sid = -1;
		inc.first_seen = inc.last_seen = now;
		incident_new(&inc, now);
		err = incident_open(st, &inc, user, now, evs);
	}
	if (err)
		return err;
	inc.alert_count++;
	if (now > inc.last_seen)
		inc.last_seen = now;
	err = store_incident_update(st, &inc);
	if (!err)
		err = store_timeline_add(st, inc.id, now, user, "blind_spot", detail);
	return err;
}

int incident_heartbeat(struct store *st, const struct incident_cfg *cfg, const char *sensor,
		       const char *prev_counters, json_t *counters, const char *user, int64_t now,
		       struct incident_events *evs)
{
	json_t *prev = prev_counters ? json_loads(prev_counters, 0, NULL) : NULL;
	int err = 0, grew = 0;

	for (const char *const *c = incident_blind_counters; !err && *c; c++) {
		json_t *nv = json_object_get(counters, *c);
		json_t *pv = json_object_get(prev, *c);
		char key[STORE_KEY_MAX], title[STORE_TITLE_MAX], detail[160];
		json_int_t was, is;

		/* growth since the previous heartbeat: the first one (or the
		 * first carrying this counter) is the baseline */
		if (!json_is_integer(nv) || !json_is_integer(pv))
			continue;
		is = json_integer_value(nv);
		was = json_integer_value(pv);
		if (is <= was)
			continue;
		snprintf(key, sizeof(key), "blind:%s:%s", sensor, *c);
		snprintf(title, sizeof(title), "Blind spot on %s: %s growing", sensor, *c);
		snprintf(detail, sizeof(detail), "%s +%lld (%lld)", *c, (long long)(is - was),
			 (long long)is);
		err = blind_spot(st, cfg, key, title, detail, user, now, evs);
		grew++;
	}
	json_decref(prev);
	return err ? err : grew;
}

struct silent_list {
	size_t n, cap;
	struct silent {
		char name[STORE_NAME_MAX + 1];
		int64_t last_seen;
	} *v;
	int err;
};

static void collect_silent(void *arg, const char *name, int64_t last_seen)
{
	struct silent_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct silent *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->err = -ENOMEM;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n].name, sizeof(l->v[l->n].name), "%s", name ? name : "");
	l->v[l->n].last_seen = last_seen;
	l->n++;
}

int incident_blind_spots_due(struct store *st, const struct incident_cfg *cfg, int64_t now,
			     struct incident_events *evs)
{
	struct silent_list l = { 0 };
	int64_t silence = cfg->heartbeat_period_s * cfg->silent_periods;
	int err = store_sensors_mark_silent(st, now - silence, collect_silent, &l);

	if (!err)
		err = l.err;
	for (size_t i = 0; !err && i < l.n; i++) {
		char key[STORE_KEY_MAX], title[STORE_TITLE_MAX], detail[96];
		snprintf(key, sizeof(key), "blind:%s:silent", l.v[i].name);
		snprintf(title, sizeof(title), "Blind spot on %s: sensor silent", l.v[i].name);
		snprintf(detail, sizeof(detail), "no heartbeat for %lld s",
			 (long long)(now - l.v[i].last_seen));
		err = blind_spot(st, cfg, key, title, detail, INCIDENT_SYSTEM_USER, now, evs);
	}
	free(l.v);
	return err ? err : (int)l.n;
}
