/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deployments (append-only: a rollback is a new row), each sensor's (and
 * the fleet's) history of target versions, and the per-sensor state the
 * drift checks keep: the configuration hash reported, the one it is
 * compared with, and since when the ruleset has differed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

/* The DEPLOYMENT object: the named sensors, never the fleet's row. */
#define DEPLOY_COLS \
	"d.id, d.ruleset, " \
	"(SELECT json_group_array(t.sensor) FROM (SELECT sensor FROM deployment_targets t " \
	"  WHERE t.deployment = d.id AND t.sensor != '" STORE_FLEET "' ORDER BY t.sensor) t) " \
	"AS sensors, d.fleet, d.user AS \"by\", " STORE_RFC3339("d.ts") " AS ts, d.kind, d.reason"

int store_deployment_add(struct store *st, const char *ruleset, const char *kind, bool fleet,
			 const char *user, int64_t ts, const char *reason, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO deployments(ruleset, kind, fleet, user, ts, reason) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, ruleset);
	store_bind_text(s, 2, kind);
	sqlite3_bind_int(s, 3, fleet);
	store_bind_text(s, 4, user);
	sqlite3_bind_int64(s, 5, ts);
	store_bind_text(s, 6, reason);
	err = store_step_done(st, s);
	if (!err)
		*id = sqlite3_last_insert_rowid(st->db);
	return err;
}

int store_deployment_target_add(struct store *st, int64_t deployment, const char *sensor,
				const char *ruleset)
{
	static const char sql[] =
		"INSERT INTO deployment_targets(deployment, sensor, ruleset) VALUES(?1, ?2, ?3)";
	static const char reset[] =
		"UPDATE sensors SET config_base = NULL, rules_drift_since = NULL WHERE name = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, deployment);
	store_bind_text(s, 2, sensor);
	store_bind_text(s, 3, ruleset);
	err = store_step_done(st, s);
	if (err)
		return err;
	/* a deployment restarts the sensor's drift clocks */
	s = store_stmt(st, reset);
	if (!s)
		return -EIO;
	store_bind_text(s, 1, sensor);
	return store_step_done(st, s);
}

/* "fleet" as a JSON boolean in every object of arr. */
static void fleet_bools(json_t *arr)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		json_object_set_new(o, "fleet", json_boolean(json_integer_value(json_object_get(o, "fleet"))));
}

int store_deployment_json(struct store *st, int64_t id, json_t **out)
{
	static const char sql[] = "SELECT " DEPLOY_COLS " FROM deployments d WHERE d.id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	json_t *arr;
	int err;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	err = store_rows_json(st, s, STORE_JSON_COL(2), false, &arr);
	if (err)
		return err;
	if (json_array_size(arr) != 1) {
		json_decref(arr);
		return -ENOENT;
	}
	fleet_bools(arr);
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}

int store_deployments_json(struct store *st, int64_t limit, json_t **out)
{
	static const char sql[] = "SELECT " DEPLOY_COLS " FROM deployments d ORDER BY d.id DESC LIMIT ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, limit);
	err = store_rows_json(st, s, STORE_JSON_COL(2), false, out);
	if (!err)
		fleet_bools(*out);
	return err;
}

/* One text column of the first row of s into buf ("" and -ENOENT if none). */
static int one_text(struct store *st, sqlite3_stmt *s, char *buf, size_t len)
{
	int rc = sqlite3_step(s);

	buf[0] = '\0';
	if (rc == SQLITE_ROW)
		store_col_text(s, 0, buf, len);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
}

int store_last_deployed(struct store *st, char id[STORE_ID_HEX + 1])
{
	static const char sql[] = "SELECT ruleset FROM deployments ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	return one_text(st, s, id, STORE_ID_HEX + 1);
}

/* A new array of the first column of every row of s. */
static int names_json(struct store *st, sqlite3_stmt *s, json_t **out)
{
	json_t *arr = json_array();
	int rc;

	if (!arr)
		return -ENOMEM;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (json_array_append_new(arr, json_string((const char *)sqlite3_column_text(s, 0)))) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_err(st, rc);
	}
	*out = arr;
	return 0;
}

int store_known_sensors(struct store *st, json_t **out)
{
	static const char sql[] =
		"SELECT name FROM sensors UNION "
		"SELECT sensor FROM deployment_targets WHERE sensor != '" STORE_FLEET "' ORDER BY 1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	return names_json(st, s, out);
}

int store_sensor_names(struct store *st, json_t **out)
{
	static const char sql[] = "SELECT name FROM sensors ORDER BY name";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	return names_json(st, s, out);
}

/* The sensor's own newest target row wins over the fleet's. */
int store_sensor_desired(struct store *st, const char *sensor, char id[STORE_ID_HEX + 1],
			 char engine[STORE_ENGINE_MAX + 1])
{
	static const char sql[] =
		"SELECT t.ruleset, r.engine_id FROM deployment_targets t JOIN rulesets r ON r.id = t.ruleset "
		"WHERE t.sensor IN (?1, '" STORE_FLEET "') "
		"ORDER BY t.sensor = '" STORE_FLEET "', t.deployment DESC LIMIT 1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, sensor);
	rc = sqlite3_step(s);
	id[0] = engine[0] = '\0';
	if (rc == SQLITE_ROW) {
		store_col_text(s, 0, id, STORE_ID_HEX + 1);
		store_col_text(s, 1, engine, STORE_ENGINE_MAX + 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
}

int store_sensor_history(struct store *st, const char *sensor, struct store_deploy_step **out,
			 size_t *n)
{
	static const char sql[] =
		"SELECT d.kind, t.ruleset FROM deployment_targets t JOIN deployments d ON d.id = t.deployment "
		"WHERE t.sensor = ?1 ORDER BY t.deployment";
	sqlite3_stmt *s = store_stmt(st, sql);
	struct store_deploy_step *v = NULL;
	size_t k = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -EIO;
	store_bind_text(s, 1, sensor);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? 2 * cap : 8;
			struct store_deploy_step *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
		}
		store_col_text(s, 0, v[k].kind, sizeof(v[k].kind));
		store_col_text(s, 1, v[k].ruleset, sizeof(v[k].ruleset));
		k++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_err(st, rc);
	}
	*out = v;
	*n = k;
	return 0;
}

/* --- the sensors' drift state -------------------------------------------- */

int store_sensor_state_set(struct store *st, const char *name, const char *config_hash,
			   const char *load)
{
	static const char sql[] = "UPDATE sensors SET config_hash = ?2, load = ?3 WHERE name = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, config_hash);
	store_bind_text(s, 3, load);
	return store_step_done(st, s);
}

int store_sensor_drift_get(struct store *st, const char *name, struct store_sensor_drift *out)
{
	static const char sql[] =
		"SELECT ruleset, config_hash, config_base, rules_drift_since, last_seen FROM sensors "
		"WHERE name = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_col_text(s, 0, out->ruleset, sizeof(out->ruleset));
		store_col_text(s, 1, out->config_hash, sizeof(out->config_hash));
		store_col_text(s, 2, out->config_base, sizeof(out->config_base));
		out->rules_since = store_col_time(s, 3);
		out->last_seen = store_col_time(s, 4);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
}

int store_sensor_drift_set(struct store *st, const char *name, const char *config_base,
			   int64_t rules_since)
{
	static const char sql[] =
		"UPDATE sensors SET config_base = ?2, rules_drift_since = ?3 WHERE name = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, config_base && *config_base ? config_base : NULL);
	store_bind_time(s, 3, rules_since);
	return store_step_done(st, s);
}

int store_sensor_fleet_json(struct store *st, const char *name, json_t **out)
{
	static const char sql[] =
		"SELECT " STORE_RFC3339("last_seen") " AS last_seen, ruleset AS running, config_hash, "
		"load FROM sensors WHERE name = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	json_t *arr;
	int err;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, name);
	err = store_rows_json(st, s, STORE_JSON_COL(3), false, &arr);
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
