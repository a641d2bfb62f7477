/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Incidents, their timeline and their notification records.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_priv.h"

/* The columns read into struct store_incident, in read_incident()'s order. */
#define INC_COLS \
	"id, key, title, kind, status, assignee, severity, sid, alert_count, first_seen, " \
	"last_seen, opened_at, notified_at, acked_at, mitigated_at, resolved_at, closed_at, " \
	"escalation_tier, esc_since"

/* The INCIDENT object of the contract. */
#define INC_JSON_COLS \
	"i.id, i.key, i.title, i.severity, i.status, i.assignee, " \
	STORE_RFC3339("i.first_seen") " AS first_seen, " \
	STORE_RFC3339("i.last_seen") " AS last_seen, " \
	"i.alert_count, i.sid, i.kind, " \
	STORE_RFC3339("i.opened_at") " AS opened_at, " \
	STORE_RFC3339("i.notified_at") " AS notified_at, " \
	STORE_RFC3339("i.acked_at") " AS acked_at, " \
	STORE_RFC3339("i.mitigated_at") " AS mitigated_at, " \
	STORE_RFC3339("i.resolved_at") " AS resolved_at, " \
	STORE_RFC3339("i.closed_at") " AS closed_at, " \
	"i.escalation_tier, " \
	"i.notified_at - i.opened_at AS time_to_notify_s, " \
	"i.acked_at - i.opened_at AS time_to_ack_s"

static void read_incident(sqlite3_stmt *s, struct store_incident *o)
{
	o->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, o->key, sizeof(o->key));
	store_col_text(s, 2, o->title, sizeof(o->title));
	store_col_text(s, 3, o->kind, sizeof(o->kind));
	store_col_text(s, 4, o->status, sizeof(o->status));
	store_col_text(s, 5, o->assignee, sizeof(o->assignee));
	o->severity = sqlite3_column_int64(s, 6);
	o->sid = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 7);
	o->alert_count = sqlite3_column_int64(s, 8);
	o->first_seen = store_col_time(s, 9);
	o->last_seen = store_col_time(s, 10);
	o->opened_at = store_col_time(s, 11);
	o->notified_at = store_col_time(s, 12);
	o->acked_at = store_col_time(s, 13);
	o->mitigated_at = store_col_time(s, 14);
	o->resolved_at = store_col_time(s, 15);
	o->closed_at = store_col_time(s, 16);
	o->escalation_tier = sqlite3_column_int64(s, 17);
	o->esc_since = store_col_time(s, 18);
}

/* Steps a statement expected to return at most one incident row. */
static int one_incident(struct store *st, sqlite3_stmt *s, struct store_incident *out)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		read_incident(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
}

int store_incident_insert(struct store *st, struct store_incident *inc)
{
	static const char sql[] =
		"INSERT INTO incidents(key, title, kind, status, assignee, severity, sid, alert_count, "
		"first_seen, last_seen, opened_at, notified_at, acked_at, mitigated_at, resolved_at, "
		"closed_at, escalation_tier, esc_since) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, inc->key);
	store_bind_text(s, 2, inc->title);
	store_bind_text(s, 3, inc->kind);
	store_bind_text(s, 4, inc->status);
	store_bind_text(s, 5, inc->assignee[0] ? inc->assignee : NULL);
	sqlite3_bind_int64(s, 6, inc->severity);
	store_bind_opt_int(s, 7, inc->sid);
	sqlite3_bind_int64(s, 8, inc->alert_count);
	store_bind_time(s, 9, inc->first_seen);
	store_bind_time(s, 10, inc->last_seen);
	store_bind_time(s, 11, inc->opened_at);
	store_bind_time(s, 12, inc->notified_at);
	store_bind_time(s, 13, inc->acked_at);
	store_bind_time(s, 14, inc->mitigated_at);
	store_bind_time(s, 15, inc->resolved_at);
	store_bind_time(s, 16, inc->closed_at);
	sqlite3_bind_int64(s, 17, inc->escalation_tier);
	store_bind_time(s, 18, inc->esc_since);
	err = store_step_done(st, s);
	if (!err)
		inc->id = sqlite3_last_insert_rowid(st->db);
	return err;
}

int store_incident_update(struct store *st, const struct store_incident *inc)
{
	static const char sql[] =
		"UPDATE incidents SET title = ?2, status = ?3, assignee = ?4, severity = ?5, "
		"alert_count = ?6, first_seen = ?7, last_seen = ?8, notified_at = ?9, acked_at = ?10, "
		"mitigated_at = ?11, resolved_at = ?12, closed_at = ?13, escalation_tier = ?14, "
		"esc_since = ?15 WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, inc->id);
	store_bind_text(s, 2, inc->title);
	store_bind_text(s, 3, inc->status);
	store_bind_text(s, 4, inc->assignee[0] ? inc->assignee : NULL);
	sqlite3_bind_int64(s, 5, inc->severity);
	sqlite3_bind_int64(s, 6, inc->alert_count);
	store_bind_time(s, 7, inc->first_seen);
	store_bind_time(s, 8, inc->last_seen);
	store_bind_time(s, 9, inc->notified_at);
	store_bind_time(s, 10, inc->acked_at);
	store_bind_time(s, 11, inc->mitigated_at);
	store_bind_time(s, 12, inc->resolved_at);
	store_bind_time(s, 13, inc->closed_at);
	sqlite3_bind_int64(s, 14, inc->escalation_tier);
	store_bind_time(s, 15, inc->esc_since);
	err = store_step_done(st, s);
	if (!err && sqlite3_changes(st->db) != 1)
		err = -ENOENT;
	return err;
}

int store_incident_get(struct store *st, int64_t id, struct store_incident *out)
{
	static const char sql[] = "SELECT " INC_COLS " FROM incidents WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	return one_incident(st, s, out);
}

int store_incident_find_open(struct store *st, const char *key, struct store_incident *out)
{
	static const char sql[] =
		"SELECT " INC_COLS " FROM incidents WHERE key = ?1 "
		"AND status NOT IN ('resolved', 'closed') ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, key);
	return one_incident(st, s, out);
}

int store_incidents_foreach_open(struct store *st,
				 int (*fn)(void *arg, const struct store_incident *inc), void *arg)
{
	static const char sql[] = "SELECT " INC_COLS " FROM incidents WHERE status = 'open' ORDER BY id";
	sqlite3_stmt *s = store_stmt(st, sql);
	struct store_incident inc;
	int rc, err = 0;

	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_incident(s, &inc);
		err = fn(arg, &inc);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = store_err(st, rc);
	sqlite3_reset(s);
	return err;
}

int store_incident_json(struct store *st, int64_t id, json_t **out)
{
	static const char sql[] = "SELECT " INC_JSON_COLS " FROM incidents i WHERE i.id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	json_t *arr;
	int err;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	err = store_rows_json(st, s, 0, false, &arr);
	if (err)
		return err;
	if (json_array_size(arr) != 1) {
		json_decref(arr);
		return -ENOENT;
	}
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}

int store_timeline_json(struct store *st, int64_t incident_id, json_t **out)
{
	static const char sql[] =
		"SELECT " STORE_RFC3339("ts") " AS ts, user, action, detail FROM timeline "
		"WHERE incident_id = ?1 ORDER BY id";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident_id);
	return store_rows_json(st, s, 0, false, out);
}

static int evidence_json(struct store *st, int64_t incident_id, json_t **out)
{
	static const char sql[] =
		"SELECT " STORE_ALERT_COLS " FROM evidence e JOIN alerts a ON a.id = e.alert_id "
		"WHERE e.incident_id = ?1 ORDER BY a.ts_epoch, a.rowid";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident_id);
	return store_rows_json(st, s, 0, true, out);
}

static int notifications_json(struct store *st, int64_t incident_id, json_t **out)
{
	static const char sql[] =
		"SELECT " STORE_RFC3339("ts") " AS ts, event, target, status FROM notifications "
		"WHERE incident_id = ?1 ORDER BY id";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident_id);
	return store_rows_json(st, s, 0, false, out);
}

int store_incident_detail_json(struct store *st, int64_t id, json_t **out)
{
	json_t *inc = NULL, *tl = NULL, *ev = NULL, *nt = NULL, *fl = NULL;
	int err;

	err = store_incident_json(st, id, &inc);
	if (err)
		goto out;
	err = store_timeline_json(st, id, &tl);
	if (!err)
		err = evidence_json(st, id, &ev);
	if (!err)
		err = notifications_json(st, id, &nt);
	if (!err)
		err = store_incident_flows_json(st, id, &fl);
	if (err)
		goto out;
	if (json_object_set(inc, "timeline", tl) || json_object_set(inc, "evidence", ev) ||
	    json_object_set(inc, "notifications", nt) || json_object_set(inc, "flows", fl)) {
		err = -ENOMEM;
		goto out;
	}
	*out = json_incref(inc);
out:
	json_decref(inc);
	json_decref(tl);
	json_decref(ev);
	json_decref(nt);
	json_decref(fl);
	return err;
}

int store_incidents_json(struct store *st, const char *status, int64_t severity, int64_t limit,
			 json_t **out)
{
	static const char sql[] =
		"SELECT " INC_JSON_COLS " FROM incidents i "
		"WHERE (?1 IS NULL OR i.status = ?1) AND (?2 IS NULL OR i.severity = ?2) "
		"ORDER BY i.id DESC LIMIT ?3";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, status);
	store_bind_opt_int(s, 2, severity);
	sqlite3_bind_int64(s, 3, limit);
	return store_rows_json(st, s, 0, false, out);
}

int store_incidents_open_by_severity(struct store *st,
				     void (*fn)(void *arg, int64_t severity, int64_t n), void *arg)
{
	static const char sql[] =
		"SELECT severity, count(*) FROM incidents WHERE status NOT IN ('resolved', 'closed') "
		"GROUP BY severity ORDER BY severity";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_err(st, rc);
}

int store_timeline_add(struct store *st, int64_t incident_id, int64_t ts, const char *user,
		       const char *action, const char *detail)
{
	static const char sql[] =
		"INSERT INTO timeline(incident_id, ts, user, action, detail) VALUES(?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident_id);
	sqlite3_bind_int64(s, 2, ts);
	store_bind_text(s, 3, user);
	store_bind_text(s, 4, action);
	store_bind_text(s, 5, detail);
	return store_step_done(st, s);
}

int store_notification_add(struct store *st, int64_t incident_id, const char *event,
			   const char *target, const char *status, int64_t ts)
{
	static const char sql[] =
		"INSERT INTO notifications(incident_id, event, target, status, ts) "
		"VALUES(?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident_id);
	store_bind_text(s, 2, event);
	store_bind_text(s, 3, target);
	store_bind_text(s, 4, status);
	sqlite3_bind_int64(s, 5, ts);
	return store_step_done(st, s);
}
