/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What sensors send (ingest, heartbeat) and what viewers read back of it
 * (sensors, alerts, flows).
 *
 * Ingest is idempotent and durable: a batch is one transaction (every
 * alert and flow record INSERT OR IGNOREd on its id, alerts correlated,
 * audited) committed with synchronous=FULL before the 200 goes out, so a
 * sensor that advances its spool only on a 2xx never loses a record, and
 * one that resends after a timeout only produces duplicates, counted as
 * such.  "accepted" and "duplicates" count alerts and flow records
 * together (the shipper counts its duplicates against everything it
 * sent); "alerts_*" and "flows_*" break them down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"

void api_h_ingest(struct api_server *srv, struct api_req *rq)
{
	const struct api_body *b = &rq->b;
	struct incident_ingest_counts k = { 0, 0, 0, 0 };
	int err = api_begin(srv);

	if (!err)
		err = incident_ingest_batch_ex(srv->cfg.store, &srv->cfg.incident, b->u.ingest.sensor,
					       b->u.ingest.alerts, b->u.ingest.n, b->u.ingest.flows,
					       b->u.ingest.nflows, rq->user, rq->now, &srv->evs, &k);
	err = api_commit_emit(srv, err);
	if (err) {
		api_reply_errno(rq, err, "ingest");
		return;
	}
	atomic_fetch_add(&srv->ctr[API_CTR_ALERTS], (uint_fast64_t)k.alerts_accepted);
	atomic_fetch_add(&srv->ctr[API_CTR_DUPLICATES], (uint_fast64_t)k.alerts_duplicates);
	atomic_fetch_add(&srv->ctr[API_CTR_FLOWS], (uint_fast64_t)k.flows_accepted);
	atomic_fetch_add(&srv->ctr[API_CTR_FLOW_DUPLICATES], (uint_fast64_t)k.flows_duplicates);
	api_reply_json(rq, 200, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		"accepted", (json_int_t)(k.alerts_accepted + k.flows_accepted),
		"duplicates", (json_int_t)(k.alerts_duplicates + k.flows_duplicates),
		"alerts_accepted", (json_int_t)k.alerts_accepted,
		"alerts_duplicates", (json_int_t)k.alerts_duplicates,
		"flows_accepted", (json_int_t)k.flows_accepted,
		"flows_duplicates", (json_int_t)k.flows_duplicates));
}

/* Records the heartbeat (and the configuration and load it reports),
 * looks for blind spots and drift, and tells the sensor which ruleset
 * version to fetch when it does not run its baseline. */
void api_h_heartbeat(struct api_server *srv, struct api_req *rq)
{
	struct store *st = srv->cfg.store;
	const struct api_body *b = &rq->b;
	const char *sensor = b->u.heartbeat.sensor;
	json_t *want = NULL, *ans;
	char *prev = NULL;
	int err = api_begin(srv);

	if (!err)
		err = store_sensor_heartbeat(st, sensor, b->u.heartbeat.version, b->u.heartbeat.ruleset,
					     b->u.heartbeat.counters_text, rq->now, &prev);
	if (!err)
		err = store_sensor_state_set(st, sensor, b->u.heartbeat.config_hash,
					     b->u.heartbeat.load_text);
	if (!err && b->u.heartbeat.counters) {
		int r = incident_heartbeat(st, &srv->cfg.incident, sensor, prev, b->u.heartbeat.counters,
					   rq->user, rq->now, &srv->evs);
		err = r < 0 ? r : 0;
	}
	if (!err) {
		int r = incident_drift_sensor(st, &srv->cfg.incident, sensor, rq->user, rq->now, &srv->evs);
		err = r < 0 ? r : 0;
	}
	if (!err)
		want = api_heartbeat_ruleset(srv, sensor, b->u.heartbeat.ruleset, &err);
	json_t *blocks = NULL;
	if (!err) {
		int x = api_blocks_expire(srv, rq->now);
		err = x < 0 ? x : 0;
	}
	if (!err)
		blocks = api_blocklist(srv, rq->now, &err);
	free(prev);
	err = api_commit_emit(srv, err);
	if (err) {
		json_decref(want);
		json_decref(blocks);
		api_reply_errno(rq, err, "heartbeat");
		return;
	}
	atomic_fetch_add(&srv->ctr[API_CTR_HEARTBEATS], 1);
	ans = json_pack("{s:b}", "ok", 1);
	if (ans && want)
		json_object_set_new(ans, "ruleset", want);
	else
		json_decref(want);
	if (ans && blocks)   /* the XDP blocklist every sensor applies (control/DESIGN.md) */
		json_object_set_new(ans, "blocklist", blocks);
	else
		json_decref(blocks);
	api_reply_json(rq, 200, ans);
}

void api_h_sensors(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { NULL };
	json_t *arr;
	int err;

	if (!api_query_check(rq, known))
		return;
	err = store_sensors_json(srv->cfg.store, &arr);
	if (err)
		api_reply_errno(rq, err, "sensors");
	else
		api_reply_json(rq, 200, arr);
}

/* A time parameter: RFC 3339 or integer seconds since the epoch. */
static bool query_time(struct api_req *rq, const char *name, int64_t *out)
{
	const char *v = api_query_str(rq, name);
	char *end;

	*out = STORE_NO_TIME;
	if (!v)
		return true;
	if (api_parse_time(v, out) == 0)
		return true;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (!errno && *end == '\0' && end != v)
		return true;
	api_reply_error(rq, 400, "%s: expected an RFC 3339 time or seconds since the epoch", name);
	return false;
}

void api_h_alerts(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = {
		"sid", "src_ip", "dest_ip", "incident", "since", "until", "limit", NULL,
	};
	struct store_alert_filter f;
	json_t *arr;
	int err;

	if (!api_query_check(rq, known) ||
	    !api_query_int(rq, "sid", 0, UINT32_MAX, -1, &f.sid) ||
	    !api_query_int(rq, "incident", 1, INT64_MAX, -1, &f.incident) ||
	    !api_query_int(rq, "limit", 1, srv->cfg.max_limit, srv->cfg.default_limit, &f.limit) ||
	    !query_time(rq, "since", &f.since) || !query_time(rq, "until", &f.until))
		return;
	f.src_ip = api_query_str(rq, "src_ip");
	f.dest_ip = api_query_str(rq, "dest_ip");
	err = store_alerts_json(srv->cfg.store, &f, &arr);
	if (err)
		api_reply_errno(rq, err, "alerts");
	else
		api_reply_json(rq, 200, arr);
}

void api_h_flows(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { "sensor", "flow_id", "limit", NULL };
	struct store_flow_filter f;
	json_t *arr;
	int err;

	if (!api_query_check(rq, known) ||
	    !api_query_int(rq, "flow_id", 0, INT64_MAX, -1, &f.flow_id) ||
	    !api_query_int(rq, "limit", 1, srv->cfg.max_limit, srv->cfg.default_limit, &f.limit))
		return;
	f.sensor = api_query_str(rq, "sensor");
	err = store_flows_json(srv->cfg.store, &f, &arr);
	if (err)
		api_reply_errno(rq, err, "flows");
	else
		api_reply_json(rq, 200, arr);
}
