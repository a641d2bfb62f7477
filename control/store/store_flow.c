/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow records: the summaries of flows that alerted, shipped by the
 * dataplane next to the alerts and tied to them by (sensor, flow_id).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_priv.h"

int store_flow_insert(struct store *st, const struct store_flow *f, int64_t now)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO flows(id, sensor, flow_id, start, start_epoch, \"end\", "
		"end_epoch, src_ip, src_port, dest_ip, dest_port, proto, pkts_toserver, pkts_toclient, "
		"bytes_toserver, bytes_toclient, state, reason, received_at) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
		"?18, ?19)";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, f->id);
	store_bind_text(s, 2, f->sensor);
	sqlite3_bind_int64(s, 3, f->flow_id);
	store_bind_text(s, 4, f->start);
	sqlite3_bind_int64(s, 5, f->start_epoch);
	store_bind_text(s, 6, f->end);
	sqlite3_bind_int64(s, 7, f->end_epoch);
	store_bind_text(s, 8, f->src_ip);
	store_bind_opt_int(s, 9, f->src_port);
	store_bind_text(s, 10, f->dest_ip);
	store_bind_opt_int(s, 11, f->dest_port);
	store_bind_text(s, 12, f->proto);
	sqlite3_bind_int64(s, 13, f->pkts_toserver);
	sqlite3_bind_int64(s, 14, f->pkts_toclient);
	sqlite3_bind_int64(s, 15, f->bytes_toserver);
	sqlite3_bind_int64(s, 16, f->bytes_toclient);
	store_bind_text(s, 17, f->state);
	store_bind_text(s, 18, f->reason);
	sqlite3_bind_int64(s, 19, now);
	err = store_step_done(st, s);
	if (err)
		return err;
	return sqlite3_changes(st->db) == 1 ? 1 : 0;
}

int store_flow_count(struct store *st, int64_t *out)
{
	return store_scalar(st, "SELECT count(*) FROM flows", out);
}

/* As store_alerts_json(): the WHERE clause varies, so the query is built
 * per call; with a sensor it hits flows_flow, else flows_end. */
int store_flows_json(struct store *st, const struct store_flow_filter *f, json_t **out)
{
	char sql[768];
	size_t n;
	sqlite3_stmt *s = NULL;
	int rc, err, i = 1;

	n = (size_t)snprintf(sql, sizeof(sql), "SELECT " STORE_FLOW_COLS " FROM flows f WHERE 1");
	if (f->sensor)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND f.sensor = ?%d", i++);
	if (f->flow_id >= 0)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND f.flow_id = ?%d", i++);
	snprintf(sql + n, sizeof(sql) - n, " ORDER BY f.end_epoch DESC, f.rowid DESC LIMIT ?%d", i);

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_err(st, rc);
	i = 1;
	if (f->sensor)
		store_bind_text(s, i++, f->sensor);
	if (f->flow_id >= 0)
		sqlite3_bind_int64(s, i++, f->flow_id);
	sqlite3_bind_int64(s, i, f->limit);
	err = store_rows_json(st, s, 0, true, out);
	sqlite3_finalize(s);
	return err;
}

/* The distinct (sensor, flow_id) of the incident's alerts (alerts_incident),
 * then each one's records (flows_flow). */
int store_incident_flows_json(struct store *st, int64_t incident_id, json_t **out)
{
	static const char sql[] =
		"SELECT " STORE_FLOW_COLS " FROM "
		"(SELECT DISTINCT a.sensor, a.flow_id FROM alerts a "
		" WHERE a.incident_id = ?1 AND a.flow_id IS NOT NULL) k "
		"JOIN flows f ON f.sensor = k.sensor AND f.flow_id = k.flow_id "
		"ORDER BY f.end_epoch DESC, f.rowid DESC LIMIT ?2";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident_id);
	sqlite3_bind_int64(s, 2, STORE_INCIDENT_FLOWS_MAX);
	return store_rows_json(st, s, 0, true, out);
}
