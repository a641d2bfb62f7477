/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event queue, the notification seam, delivery records and a stub sink.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident.h"

static const char *const default_scan_categories[] = {
	"attempted-recon",            /* the classtype */
	"Attempted Information Leak", /* its description, which EVE's alert.category carries */
	NULL,
};

void incident_cfg_default(struct incident_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->window_s = 3600;
	c->raise_at[0] = 100;
	c->raise_at[1] = 1000;
	c->evidence_first = 20;
	c->evidence_every = 100;
	c->scan_categories = default_scan_categories;
	c->heartbeat_period_s = 10;
	c->silent_periods = 3;
	c->blind_severity = 2;
	c->drift_grace_s = 30;
	c->drift_severity = 2;
}

void incident_events_init(struct incident_events *q)
{
	memset(q, 0, sizeof(*q));
}

void incident_events_fini(struct incident_events *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}

void incident_events_clear(struct incident_events *q)
{
	q->n = 0;
}

int incident_events_push(struct incident_events *q, const char *event, int64_t id, int64_t ts)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		void *v = realloc(q->v, cap * sizeof(q->v[0]));
		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	q->v[q->n].event = event;
	q->v[q->n].reopen = false;
	q->v[q->n].id = id;
	q->v[q->n].ts = ts;
	q->n++;
	return 0;
}

void incident_events_emit(struct store *st, struct incident_events *q,
			  const struct incident_sink *sink)
{
	for (size_t i = 0; i < q->n; i++) {
		struct incident_event ev = {
			.event = q->v[i].event, .reopen = q->v[i].reopen, .incident_id = q->v[i].id,
			.ts = q->v[i].ts,
		};
		int err = store_incident_json(st, ev.incident_id, &ev.incident);
		if (err) {
			fprintf(stderr, "incident: event %s of incident %lld lost: %s\n", ev.event,
				(long long)ev.incident_id, strerror(-err));
			continue;
		}
		if (sink && sink->on_event)
			sink->on_event(sink->arg, &ev);
		json_decref(ev.incident);
	}
	q->n = 0;
}

int incident_notified(struct store *st, int64_t id, const char *event, const char *target,
		      bool ok, const char *why, int64_t now)
{
	struct store_incident inc;
	char detail[STORE_NAME_MAX + 400];
	int err = store_incident_get(st, id, &inc);

	if (err)
		return err;
	err = store_notification_add(st, id, event, target, ok ? "delivered" : "failed", now);
	if (err)
		return err;
	/* the timeline is what a responder reads: who was told, or why not */
	snprintf(detail, sizeof(detail), "%.16s to %.64s%s%.300s", event, target, why && *why ? ": " : "",
		 why ? why : "");
	err = store_timeline_add(st, id, now, INCIDENT_SYSTEM_USER, ok ? "notified" : "notify_failed",
				 detail);
	if (err || !ok || inc.notified_at != STORE_NO_TIME)
		return err;
	inc.notified_at = now;
	return store_incident_update(st, &inc);
}

void incident_stub_sink(void *arg, const struct incident_event *ev)
{
	struct store *st = arg;
	json_t *targets = NULL, *t;
	int64_t sev = json_integer_value(json_object_get(ev->incident, "severity"));
	size_t i, matched = 0;

	fprintf(stderr, "notify(stub): %s%s incident %lld [sev %lld] %s\n", ev->event,
		ev->reopen ? " (reopen)" : "",
		(long long)ev->incident_id, (long long)sev,
		json_string_value(json_object_get(ev->incident, "title")));
	if (store_targets_json(st, &targets) == 0) {
		json_array_foreach(targets, i, t) {
			json_t *min = json_object_get(t, "min_severity");
			if (json_integer_value(min) > 0 && sev > json_integer_value(min))
				continue;
			store_notification_add(st, ev->incident_id, ev->event,
					       json_string_value(json_object_get(t, "name")), "stub", ev->ts);
			matched++;
		}
	}
	if (matched == 0)
		store_notification_add(st, ev->incident_id, ev->event, "-", "logged", ev->ts);
	json_decref(targets);
}
