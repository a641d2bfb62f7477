/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Alerts and the evidence links of incidents.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_priv.h"

int store_alert_insert(struct store *st, const struct store_alert *a, int64_t now)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO alerts(id, sensor, ts, ts_epoch, sid, gid, rev, signature, "
		"category, severity, action, ruleset, src_ip, src_port, dest_ip, dest_port, proto, "
		"flow_id, payload, received_at) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
		"?18, ?19, ?20)";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, a->id);
	store_bind_text(s, 2, a->sensor);
	store_bind_text(s, 3, a->ts);
	sqlite3_bind_int64(s, 4, a->ts_epoch);
	sqlite3_bind_int64(s, 5, a->sid);
	store_bind_opt_int(s, 6, a->gid);
	store_bind_opt_int(s, 7, a->rev);
	store_bind_text(s, 8, a->signature);
	store_bind_text(s, 9, a->category);
	sqlite3_bind_int64(s, 10, a->severity);
	store_bind_text(s, 11, a->action);
	store_bind_text(s, 12, a->ruleset);
	store_bind_text(s, 13, a->src_ip);
	store_bind_opt_int(s, 14, a->src_port);
	store_bind_text(s, 15, a->dest_ip);
	store_bind_opt_int(s, 16, a->dest_port);
	store_bind_text(s, 17, a->proto);
	store_bind_opt_int(s, 18, a->flow_id);
	store_bind_text(s, 19, a->payload);
	sqlite3_bind_int64(s, 20, now);
	err = store_step_done(st, s);
	if (err)
		return err;
	return sqlite3_changes(st->db) == 1 ? 1 : 0;
}

int store_alert_set_incident(struct store *st, const char *alert_id, int64_t incident_id)
{
	static const char sql[] = "UPDATE alerts SET incident_id = ?2 WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, alert_id);
	sqlite3_bind_int64(s, 2, incident_id);
	err = store_step_done(st, s);
	if (!err && sqlite3_changes(st->db) != 1)
		err = -ENOENT;
	return err;
}

int store_evidence_add(struct store *st, int64_t incident_id, const char *alert_id)
{
	static const char sql[] = "INSERT OR IGNORE INTO evidence(incident_id, alert_id) VALUES(?1, ?2)";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident_id);
	store_bind_text(s, 2, alert_id);
	return store_step_done(st, s);
}

int store_alert_count(struct store *st, int64_t *out)
{
	return store_scalar(st, "SELECT count(*) FROM alerts", out);
}

/* Filtered queries are built per call (the filter set varies); the WHERE
 * clauses all hit an index on (column, ts_epoch). */
int store_alerts_json(struct store *st, const struct store_alert_filter *f, json_t **out)
{
	char sql[1024];
	size_t n;
	sqlite3_stmt *s = NULL;
	int rc, err, i = 1;

	n = (size_t)snprintf(sql, sizeof(sql), "SELECT " STORE_ALERT_COLS " FROM alerts a WHERE 1");
	if (f->sid >= 0)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND a.sid = ?%d", i++);
	if (f->src_ip)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND a.src_ip = ?%d", i++);
	if (f->dest_ip)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND a.dest_ip = ?%d", i++);
	if (f->incident >= 0)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND a.incident_id = ?%d", i++);
	if (f->since != STORE_NO_TIME)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND a.ts_epoch >= ?%d", i++);
	if (f->until != STORE_NO_TIME)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND a.ts_epoch <= ?%d", i++);
	snprintf(sql + n, sizeof(sql) - n, " ORDER BY a.ts_epoch DESC, a.rowid DESC LIMIT ?%d", i);

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_err(st, rc);
	i = 1;
	if (f->sid >= 0)
		sqlite3_bind_int64(s, i++, f->sid);
	if (f->src_ip)
		store_bind_text(s, i++, f->src_ip);
	if (f->dest_ip)
		store_bind_text(s, i++, f->dest_ip);
	if (f->incident >= 0)
		sqlite3_bind_int64(s, i++, f->incident);
	if (f->since != STORE_NO_TIME)
		sqlite3_bind_int64(s, i++, f->since);
	if (f->until != STORE_NO_TIME)
		sqlite3_bind_int64(s, i++, f->until);
	sqlite3_bind_int64(s, i, f->limit);
	err = store_rows_json(st, s, 0, true, out);
	sqlite3_finalize(s);
	return err;
}
