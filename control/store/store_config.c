/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sensors (heartbeats), the escalation policy and the notification
 * targets: the small tables an operator or a sensor rewrites.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

int store_sensor_heartbeat(struct store *st, const char *name, const char *version,
			   const char *ruleset, const char *counters, int64_t now, char **prev)
{
	static const char get[] = "SELECT counters FROM sensors WHERE name = ?1";
	static const char put[] =
		"INSERT INTO sensors(name, version, ruleset, first_seen, last_seen, counters, silent) "
		"VALUES(?1, ?2, ?3, ?4, ?4, ?5, 0) ON CONFLICT(name) DO UPDATE SET "
		"version = excluded.version, ruleset = excluded.ruleset, last_seen = excluded.last_seen, "
		"counters = excluded.counters, silent = 0";
	sqlite3_stmt *s = store_stmt(st, get);
	int rc;

	*prev = NULL;
	if (!s)
		return -EIO;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		*prev = strdup(t ? t : "{}");
		if (!*prev) {
			sqlite3_reset(s);
			return -ENOMEM;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(st, rc);
	s = store_stmt(st, put);
	if (!s)
		rc = -EIO;
	else {
		store_bind_text(s, 1, name);
		store_bind_text(s, 2, version);
		store_bind_text(s, 3, ruleset);
		sqlite3_bind_int64(s, 4, now);
		store_bind_text(s, 5, counters ? counters : "{}");
		rc = store_step_done(st, s);
	}
	if (rc) {
		free(*prev);
		*prev = NULL;
	}
	return rc;
}

int store_sensors_mark_silent(struct store *st, int64_t before,
			      void (*fn)(void *arg, const char *name, int64_t last_seen), void *arg)
{
	static const char sql[] =
		"UPDATE sensors SET silent = 1 WHERE silent = 0 AND last_seen < ?1 "
		"RETURNING name, last_seen";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, before);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_err(st, rc);
}

int store_sensor_count(struct store *st, int64_t *out)
{
	return store_scalar(st, "SELECT count(*) FROM sensors", out);
}

int store_sensors_json(struct store *st, json_t **out)
{
	static const char sql[] =
		"SELECT name, version, ruleset, " STORE_RFC3339("last_seen") " AS last_seen, counters, "
		STORE_RFC3339("first_seen") " AS first_seen, silent = 1 AS silent "
		"FROM sensors ORDER BY name";
	sqlite3_stmt *s = store_stmt(st, sql);
	json_t *arr;
	size_t i;
	json_t *o;
	int err;

	if (!s)
		return -EIO;
	err = store_rows_json(st, s, STORE_JSON_COL(4), false, &arr);
	if (err)
		return err;
	json_array_foreach(arr, i, o)
		json_object_set_new(o, "silent", json_boolean(json_integer_value(json_object_get(o, "silent"))));
	*out = arr;
	return 0;
}

int store_policies_replace(struct store *st, const struct store_policy *p, size_t n)
{
	static const char del[] = "DELETE FROM escalation_policies";
	static const char ins[] =
		"INSERT INTO escalation_policies(severity, ack_within_s, tiers) VALUES(?1, ?2, ?3)";
	sqlite3_stmt *s = store_stmt(st, del);
	int err;

	if (!s)
		return -EIO;
	err = store_step_done(st, s);
	for (size_t i = 0; !err && i < n; i++) {
		s = store_stmt(st, ins);
		if (!s)
			return -EIO;
		sqlite3_bind_int64(s, 1, p[i].severity);
		sqlite3_bind_int64(s, 2, p[i].ack_within_s);
		store_bind_text(s, 3, p[i].tiers);
		err = store_step_done(st, s);
	}
	return err;
}

int store_policy_get(struct store *st, int64_t severity, int64_t *ack_within_s, json_t **tiers)
{
	static const char sql[] = "SELECT ack_within_s, tiers FROM escalation_policies WHERE severity = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc, err = 0;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, severity);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 1);
		*ack_within_s = sqlite3_column_int64(s, 0);
		*tiers = json_loads(t ? t : "[]", 0, NULL);
		if (!*tiers || !json_is_array(*tiers)) {
			json_decref(*tiers);
			*tiers = NULL;
			err = -EIO;
		}
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
	}
	sqlite3_reset(s);
	return err;
}

int store_policies_json(struct store *st, json_t **out)
{
	static const char sql[] =
		"SELECT severity, ack_within_s, tiers FROM escalation_policies ORDER BY severity";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	return store_rows_json(st, s, STORE_JSON_COL(2), false, out);
}

int store_targets_replace(struct store *st, const struct store_target *t, size_t n)
{
	static const char del[] = "DELETE FROM notify_targets";
	static const char ins[] =
		"INSERT INTO notify_targets(name, type, url, routing_key, min_severity) "
		"VALUES(?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *s = store_stmt(st, del);
	int err;

	if (!s)
		return -EIO;
	err = store_step_done(st, s);
	for (size_t i = 0; !err && i < n; i++) {
		s = store_stmt(st, ins);
		if (!s)
			return -EIO;
		store_bind_text(s, 1, t[i].name);
		store_bind_text(s, 2, t[i].type);
		store_bind_text(s, 3, t[i].url);
		store_bind_text(s, 4, t[i].routing_key);
		store_bind_opt_int(s, 5, t[i].min_severity);
		err = store_step_done(st, s);
	}
	return err;
}

int store_targets_json(struct store *st, json_t **out)
{
	static const char sql[] =
		"SELECT name, type, url, routing_key, min_severity FROM notify_targets ORDER BY name";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	return store_rows_json(st, s, 0, false, out);
}
