/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Blocks: prefixes an incident's "block source" action put in the
 * sensors' XDP blocklists, until they expire or are lifted.  A row is
 * never deleted: lifting or expiry records when and why (the audit trail
 * of a mitigation).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_priv.h"

int store_block_add(struct store *st, int64_t incident, const char *prefix, int64_t expires_at,
		    const char *reason, const char *user, int64_t now, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO blocks(incident_id, prefix, created_at, created_by, expires_at, reason) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident);
	store_bind_text(s, 2, prefix);
	sqlite3_bind_int64(s, 3, now);
	store_bind_text(s, 4, user);
	store_bind_time(s, 5, expires_at);
	store_bind_text(s, 6, reason);
	err = store_step_done(st, s);
	if (!err)
		*id = sqlite3_last_insert_rowid(st->db);
	return err;
}

/* Lifts the incident's active blocks (of PREFIX, or all with NULL);
 * returns how many, their prefixes in *PREFIXES (a JSON array). */
int store_block_lift(struct store *st, int64_t incident, const char *prefix, const char *how,
		     const char *user, int64_t now, json_t **prefixes)
{
	static const char sel[] =
		"SELECT id, prefix FROM blocks WHERE incident_id = ?1 AND lifted_at IS NULL "
		"AND (?2 IS NULL OR prefix = ?2) AND (expires_at IS NULL OR expires_at > ?3) ORDER BY id";
	static const char upd[] =
		"UPDATE blocks SET lifted_at = ?2, lifted_by = ?3, lifted_how = ?4 WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sel);
	json_t *arr = json_array();
	int64_t ids[256];
	int n = 0, rc;

	if (!s || !arr) {
		json_decref(arr);
		return s ? -ENOMEM : -EIO;
	}
	sqlite3_bind_int64(s, 1, incident);
	store_bind_text(s, 2, prefix);
	sqlite3_bind_int64(s, 3, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < 256) {
		ids[n++] = sqlite3_column_int64(s, 0);
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(s, 1)));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(arr);
		return store_err(st, rc);
	}
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *u = store_stmt(st, upd);
		if (!u) {
			json_decref(arr);
			return -EIO;
		}
		sqlite3_bind_int64(u, 1, ids[i]);
		sqlite3_bind_int64(u, 2, now);
		store_bind_text(u, 3, user);
		store_bind_text(u, 4, how);
		int err = store_step_done(st, u);
		if (err) {
			json_decref(arr);
			return err;
		}
	}
	*prefixes = arr;
	return n;
}

/* Blocks that expired by NOW and were not yet marked: marks them (lifted
 * by "system", how "expired") and returns them as [{"id", "incident",
 * "prefix"}] for the timelines. */
int store_block_expire(struct store *st, int64_t now, json_t **out)
{
	static const char sel[] =
		"SELECT id, incident_id AS incident, prefix FROM blocks WHERE lifted_at IS NULL "
		"AND expires_at IS NOT NULL AND expires_at <= ?1 ORDER BY id";
	static const char upd[] =
		"UPDATE blocks SET lifted_at = expires_at, lifted_by = 'system', lifted_how = 'expired' "
		"WHERE lifted_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?1";
	sqlite3_stmt *s = store_stmt(st, sel);
	int err;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, now);
	err = store_rows_json(st, s, 0, false, out);
	if (err)
		return err;
	s = store_stmt(st, upd);
	if (!s) {
		json_decref(*out);
		return -EIO;
	}
	sqlite3_bind_int64(s, 1, now);
	err = store_step_done(st, s);
	if (err)
		json_decref(*out);
	return err;
}

/* Active blocks at NOW: [{"id", "incident", "prefix", "created_at",
 * "created_by", "expires_at" (RFC 3339 or null), "expires_in_s" (or null),
 * "reason"}], oldest first.  ALL: every row, lifted ones too (with
 * "lifted_at", "lifted_by", "lifted_how"), newest first, at most LIMIT. */
int store_blocks_json(struct store *st, int64_t now, bool all, int64_t limit, json_t **out)
{
	static const char active[] =
		"SELECT id, incident_id AS incident, prefix, " STORE_RFC3339("created_at") " AS created_at, "
		"created_by, CASE WHEN expires_at IS NULL THEN NULL ELSE " STORE_RFC3339("expires_at")
		" END AS expires_at, CASE WHEN expires_at IS NULL THEN NULL ELSE expires_at - ?1 END "
		"AS expires_in_s, reason FROM blocks WHERE lifted_at IS NULL AND "
		"(expires_at IS NULL OR expires_at > ?1) ORDER BY id LIMIT ?2";
	static const char every[] =
		"SELECT id, incident_id AS incident, prefix, " STORE_RFC3339("created_at") " AS created_at, "
		"created_by, CASE WHEN expires_at IS NULL THEN NULL ELSE " STORE_RFC3339("expires_at")
		" END AS expires_at, reason, CASE WHEN lifted_at IS NULL THEN NULL ELSE "
		STORE_RFC3339("lifted_at") " END AS lifted_at, lifted_by, lifted_how, "
		"(lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)) AS active "
		"FROM blocks ORDER BY id DESC LIMIT ?2";
	sqlite3_stmt *s = store_stmt(st, all ? every : active);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, limit);
	return store_rows_json(st, s, 0, false, out);
}

/* The source of an incident: the src_ip of its first alert.  -ENOENT for
 * an incident without alerts (blind spots, drift). */
int store_incident_source(struct store *st, int64_t incident, char *buf, size_t len)
{
	static const char sql[] =
		"SELECT src_ip FROM alerts WHERE incident_id = ?1 ORDER BY ts_epoch, rowid LIMIT 1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, incident);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		store_col_text(s, 0, buf, len);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
}
