/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening the database, numbered migrations, transactions, the statement
 * cache and the row-to-JSON helper.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

/*
 * Migrations: entry i is migration i + 1, applied in order, each in its own
 * transaction together with its row in schema_migrations.  Never edit an
 * entry once released: add the next one (e.g. migration 4:
 * "ALTER TABLE incidents ADD COLUMN x TEXT;").
 */
static const char migration_1[] =
	"CREATE TABLE users("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE tokens("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  hash BLOB NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER);"
	"CREATE TABLE audit("
	"  id INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  detail TEXT);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TABLE incidents("
	"  id INTEGER PRIMARY KEY,"
	"  key TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK(kind IN ('alert','blind_spot')),"
	"  title TEXT NOT NULL,"
	"  severity INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  assignee TEXT,"
	"  sid INTEGER,"
	"  alert_count INTEGER NOT NULL DEFAULT 0,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  opened_at INTEGER NOT NULL,"
	"  notified_at INTEGER,"
	"  acked_at INTEGER,"
	"  mitigated_at INTEGER,"
	"  resolved_at INTEGER,"
	"  closed_at INTEGER,"
	"  escalation_tier INTEGER NOT NULL DEFAULT 1,"
	"  esc_since INTEGER NOT NULL);"
	"CREATE INDEX incidents_key ON incidents(key, id);"
	"CREATE INDEX incidents_status ON incidents(status, severity);"
	"CREATE TABLE alerts("
	"  id TEXT PRIMARY KEY,"
	"  sensor TEXT NOT NULL,"
	"  ts TEXT NOT NULL,"
	"  ts_epoch INTEGER NOT NULL,"
	"  sid INTEGER NOT NULL,"
	"  gid INTEGER,"
	"  rev INTEGER,"
	"  signature TEXT,"
	"  category TEXT,"
	"  severity INTEGER NOT NULL,"
	"  action TEXT,"
	"  ruleset TEXT,"
	"  src_ip TEXT NOT NULL,"
	"  src_port INTEGER,"
	"  dest_ip TEXT NOT NULL,"
	"  dest_port INTEGER,"
	"  proto TEXT,"
	"  flow_id INTEGER,"
	"  payload TEXT,"
	"  received_at INTEGER NOT NULL,"
	"  incident_id INTEGER REFERENCES incidents(id));"
	"CREATE INDEX alerts_ts ON alerts(ts_epoch);"
	"CREATE INDEX alerts_sid ON alerts(sid, ts_epoch);"
	"CREATE INDEX alerts_src ON alerts(src_ip, ts_epoch);"
	"CREATE INDEX alerts_dest ON alerts(dest_ip, ts_epoch);"
	"CREATE INDEX alerts_incident ON alerts(incident_id, ts_epoch);"
	"CREATE TABLE evidence("
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  alert_id TEXT NOT NULL REFERENCES alerts(id),"
	"  PRIMARY KEY(incident_id, alert_id)) WITHOUT ROWID;"
	"CREATE TABLE timeline("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  ts INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  detail TEXT);"
	"CREATE INDEX timeline_incident ON timeline(incident_id, id);"
	"CREATE TABLE notifications("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  event TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  ts INTEGER NOT NULL);"
	"CREATE INDEX notifications_incident ON notifications(incident_id, id);"
	"CREATE TABLE sensors("
	"  name TEXT PRIMARY KEY,"
	"  version TEXT,"
	"  ruleset TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  counters TEXT NOT NULL DEFAULT '{}',"
	"  silent INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE escalation_policies("
	"  severity INTEGER PRIMARY KEY CHECK(severity BETWEEN 1 AND 3),"
	"  ack_within_s INTEGER NOT NULL CHECK(ack_within_s > 0),"
	"  tiers TEXT NOT NULL);"
	"CREATE TABLE notify_targets("
	"  name TEXT PRIMARY KEY,"
	"  type TEXT NOT NULL CHECK(type IN ('webhook','pagerduty','syslog')),"
	"  url TEXT,"
	"  routing_key TEXT,"
	"  min_severity INTEGER);";

/* Migration 2: the flow records (FLOW objects) of flows that alerted,
 * found again by (sensor, flow_id), the key alerts carry too. */
static const char migration_2[] =
	"CREATE TABLE flows("
	"  id TEXT PRIMARY KEY,"
	"  sensor TEXT NOT NULL,"
	"  flow_id INTEGER NOT NULL,"
	"  start TEXT NOT NULL,"
	"  start_epoch INTEGER NOT NULL,"
	"  \"end\" TEXT NOT NULL,"
	"  end_epoch INTEGER NOT NULL,"
	"  src_ip TEXT NOT NULL,"
	"  src_port INTEGER,"
	"  dest_ip TEXT NOT NULL,"
	"  dest_port INTEGER,"
	"  proto TEXT,"
	"  pkts_toserver INTEGER NOT NULL,"
	"  pkts_toclient INTEGER NOT NULL,"
	"  bytes_toserver INTEGER NOT NULL,"
	"  bytes_toclient INTEGER NOT NULL,"
	"  state TEXT,"
	"  reason TEXT,"
	"  received_at INTEGER NOT NULL);"
	"CREATE INDEX flows_flow ON flows(sensor, flow_id);"
	"CREATE INDEX flows_end ON flows(end_epoch);";

/* Migration 3: rule change management (versions, their approvals and
 * regression cases, deployments), the sensors' configuration and drift
 * state, and incidents of kind 'drift'.  The kind is a CHECK, which SQLite
 * cannot alter: the incidents table is rebuilt (its rows and ids kept),
 * which is why migrations run with foreign keys off (see migrate()). */
static const char migration_3[] =
	"CREATE TABLE incidents_new("
	"  id INTEGER PRIMARY KEY,"
	"  key TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK(kind IN ('alert','blind_spot','drift')),"
	"  title TEXT NOT NULL,"
	"  severity INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  assignee TEXT,"
	"  sid INTEGER,"
	"  alert_count INTEGER NOT NULL DEFAULT 0,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  opened_at INTEGER NOT NULL,"
	"  notified_at INTEGER,"
	"  acked_at INTEGER,"
	"  mitigated_at INTEGER,"
	"  resolved_at INTEGER,"
	"  closed_at INTEGER,"
	"  escalation_tier INTEGER NOT NULL DEFAULT 1,"
	"  esc_since INTEGER NOT NULL);"
	"INSERT INTO incidents_new(id, key, kind, title, severity, status, assignee, sid, alert_count,"
	"  first_seen, last_seen, opened_at, notified_at, acked_at, mitigated_at, resolved_at,"
	"  closed_at, escalation_tier, esc_since)"
	"  SELECT id, key, kind, title, severity, status, assignee, sid, alert_count, first_seen,"
	"  last_seen, opened_at, notified_at, acked_at, mitigated_at, resolved_at, closed_at,"
	"  escalation_tier, esc_since FROM incidents;"
	"DROP TABLE incidents;"
	"ALTER TABLE incidents_new RENAME TO incidents;"
	"CREATE INDEX incidents_key ON incidents(key, id);"
	"CREATE INDEX incidents_status ON incidents(status, severity);"
	"CREATE TABLE rulesets("
	"  id TEXT PRIMARY KEY CHECK(length(id) = 64),"
	"  parent TEXT REFERENCES rulesets(id),"
	"  author TEXT NOT NULL,"
	"  message TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK(status IN ('submitted','validating','validated',"
	"    'validation_failed','approved','rejected')),"
	"  engine_id TEXT,"
	"  loaded INTEGER,"
	"  skipped INTEGER,"
	"  validation TEXT,"
	"  size INTEGER NOT NULL,"
	"  content TEXT NOT NULL);"
	"CREATE INDEX rulesets_engine ON rulesets(engine_id);"
	"CREATE INDEX rulesets_status ON rulesets(status);"
	"CREATE TRIGGER rulesets_immutable BEFORE UPDATE OF id, parent, author, message, created_at,"
	"  size, content ON rulesets"
	"  BEGIN SELECT RAISE(ABORT, 'a ruleset version is immutable'); END;"
	"CREATE TRIGGER rulesets_no_delete BEFORE DELETE ON rulesets"
	"  BEGIN SELECT RAISE(ABORT, 'ruleset versions are never deleted'); END;"
	"CREATE TABLE ruleset_approvals("
	"  id INTEGER PRIMARY KEY,"
	"  ruleset TEXT NOT NULL REFERENCES rulesets(id),"
	"  user TEXT NOT NULL,"
	"  decision TEXT NOT NULL CHECK(decision IN ('approve','reject','override')),"
	"  comment TEXT,"
	"  ts INTEGER NOT NULL);"
	"CREATE INDEX ruleset_approvals_ruleset ON ruleset_approvals(ruleset, id);"
	"CREATE TABLE case_pcaps("
	"  sha TEXT PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  data BLOB NOT NULL);"
	"CREATE TABLE ruleset_cases("
	"  ruleset TEXT NOT NULL REFERENCES rulesets(id),"
	"  name TEXT NOT NULL,"
	"  must TEXT NOT NULL,"
	"  must_not TEXT NOT NULL,"
	"  pcap TEXT NOT NULL REFERENCES case_pcaps(sha),"
	"  PRIMARY KEY(ruleset, name)) WITHOUT ROWID;"
	"CREATE TABLE deployments("
	"  id INTEGER PRIMARY KEY,"
	"  ruleset TEXT NOT NULL REFERENCES rulesets(id),"
	"  kind TEXT NOT NULL CHECK(kind IN ('deploy','rollback')),"
	"  fleet INTEGER NOT NULL DEFAULT 0,"
	"  user TEXT NOT NULL,"
	"  ts INTEGER NOT NULL,"
	"  reason TEXT);"
	"CREATE TABLE deployment_targets("
	"  deployment INTEGER NOT NULL REFERENCES deployments(id),"
	"  sensor TEXT NOT NULL,"
	"  ruleset TEXT NOT NULL REFERENCES rulesets(id),"
	"  PRIMARY KEY(sensor, deployment)) WITHOUT ROWID;"
	"CREATE TRIGGER deployments_no_update BEFORE UPDATE ON deployments"
	"  BEGIN SELECT RAISE(ABORT, 'deployments are append-only'); END;"
	"CREATE TRIGGER deployments_no_delete BEFORE DELETE ON deployments"
	"  BEGIN SELECT RAISE(ABORT, 'deployments are append-only'); END;"
	"CREATE TRIGGER deployment_targets_no_update BEFORE UPDATE ON deployment_targets"
	"  BEGIN SELECT RAISE(ABORT, 'deployments are append-only'); END;"
	"CREATE TRIGGER deployment_targets_no_delete BEFORE DELETE ON deployment_targets"
	"  BEGIN SELECT RAISE(ABORT, 'deployments are append-only'); END;"
	"ALTER TABLE sensors ADD COLUMN config_hash TEXT;"
	"ALTER TABLE sensors ADD COLUMN load TEXT;"
	"ALTER TABLE sensors ADD COLUMN config_base TEXT;"
	"ALTER TABLE sensors ADD COLUMN rules_drift_since INTEGER;";

/* 4: blocks, the prefixes an incident's "block source" put in the sensors'
 * XDP blocklists; rows stay (lifted_* records when and how they ended). */
static const char migration_4[] =
	"CREATE TABLE blocks("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  prefix TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  expires_at INTEGER,"
	"  reason TEXT NOT NULL,"
	"  lifted_at INTEGER,"
	"  lifted_by TEXT,"
	"  lifted_how TEXT);"
	"CREATE INDEX blocks_active ON blocks(lifted_at, expires_at);"
	"CREATE INDEX blocks_incident ON blocks(incident_id);";

const char *const store_migrations[] = { migration_1, migration_2, migration_3, migration_4 };
const size_t store_n_migrations = sizeof(store_migrations) / sizeof(store_migrations[0]);

int store_err(struct store *st, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	default:
		if (st)
			fprintf(stderr, "store: sqlite: %s (%d)\n", sqlite3_errmsg(st->db), rc);
		return -EIO;
	}
}

const char *store_errmsg(struct store *st)
{
	return sqlite3_errmsg(st->db);
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % STORE_STMT_SLOTS;

	for (size_t i = 0; i < STORE_STMT_SLOTS; i++) {
		size_t k = (h + i) % STORE_STMT_SLOTS;
		if (st->cache[k].sql == sql) {
			sqlite3_reset(st->cache[k].stmt);
			sqlite3_clear_bindings(st->cache[k].stmt);
			return st->cache[k].stmt;
		}
		if (!st->cache[k].sql) {
			sqlite3_stmt *s;
			int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
			if (rc != SQLITE_OK) {
				fprintf(stderr, "store: prepare: %s\n  in: %s\n", sqlite3_errmsg(st->db), sql);
				return NULL;
			}
			st->cache[k].sql = sql;
			st->cache[k].stmt = s;
			return s;
		}
	}
	fprintf(stderr, "store: statement cache full (raise STORE_STMT_SLOTS)\n");
	return NULL;
}

int store_step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	int err = rc == SQLITE_DONE ? 0 : store_err(st, rc);

	sqlite3_reset(s);
	return err;
}

int store_scalar(struct store *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_err(st, rc);
}

int store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

int store_bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	return v < 0 ? sqlite3_bind_null(s, i) : sqlite3_bind_int64(s, i, v);
}

int store_bind_time(sqlite3_stmt *s, int i, int64_t v)
{
	return v == STORE_NO_TIME ? sqlite3_bind_null(s, i) : sqlite3_bind_int64(s, i, v);
}

int64_t store_col_time(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? STORE_NO_TIME : sqlite3_column_int64(s, i);
}

void store_col_text(sqlite3_stmt *s, int i, char *dst, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static json_t *col_json(sqlite3_stmt *s, int i, bool parse)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(s, i));
	case SQLITE_NULL:
		return json_null();
	default: {
		const char *t = (const char *)sqlite3_column_text(s, i);
		size_t n = (size_t)sqlite3_column_bytes(s, i);
		if (parse) {
			json_t *v = json_loadb(t ? t : "null", t ? n : 4, JSON_DECODE_ANY, NULL);
			return v ? v : json_null();
		}
		return json_stringn(t ? t : "", n);
	}
	}
}

int store_rows_json(struct store *st, sqlite3_stmt *s, uint64_t json_cols, bool skip_null, json_t **out)
{
	json_t *arr = json_array();
	int rc, err = 0;

	if (!arr) {
		err = -ENOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();
		int ncol = sqlite3_column_count(s);
		if (!o || json_array_append_new(arr, o) != 0) {
			err = -ENOMEM;
			goto out;
		}
		for (int i = 0; i < ncol; i++) {
			if (skip_null && sqlite3_column_type(s, i) == SQLITE_NULL)
				continue;
			json_t *v = col_json(s, i, i < 64 && (json_cols & STORE_JSON_COL(i)));
			if (!v || json_object_set_new(o, sqlite3_column_name(s, i), v) != 0) {
				err = -ENOMEM;
				goto out;
			}
		}
	}
	if (rc != SQLITE_DONE)
		err = store_err(st, rc);
out:
	sqlite3_reset(s);
	if (err) {
		json_decref(arr);
		return err;
	}
	*out = arr;
	return 0;
}

static int exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		fprintf(stderr, "store: %s\n", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		rc = store_err(NULL, rc);
		return rc ? rc : -EIO;
	}
	return 0;
}

int store_begin(struct store *st)
{
	return exec(st, "BEGIN IMMEDIATE");
}

int store_commit(struct store *st)
{
	return exec(st, "COMMIT");
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

void store_lock(struct store *st)
{
	pthread_mutex_lock(&st->lock);
}

void store_unlock(struct store *st)
{
	pthread_mutex_unlock(&st->lock);
}

int store_schema_version(struct store *st, int *out)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
				    -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_err(st, rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_err(st, rc);
}

int store_db_size(struct store *st, int64_t *out)
{
	static const char sql[] =
		"SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_err(st, rc);
}

/* -EIO (logged) if the schema has a dangling foreign key. */
static int fk_check(struct store *st)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_err(st, rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		fprintf(stderr, "store: foreign key violation in table %s\n", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return -EIO;
	return rc == SQLITE_DONE ? 0 : store_err(st, rc);
}

/* Runs with foreign keys off: a migration that rebuilds a table others
 * refer to (SQLite's 12-step procedure) would otherwise have its DROP
 * delete-check every child row.  Each one ends with a foreign key check
 * inside its transaction instead. */
static int migrate(struct store *st, const char *const *migs, size_t n)
{
	char ins[128];
	int cur, err;

	err = exec(st, "CREATE TABLE IF NOT EXISTS schema_migrations("
		       "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
	if (err)
		return err;
	err = store_schema_version(st, &cur);
	if (err)
		return err;
	if ((size_t)cur > n) {
		fprintf(stderr, "store: the database is at schema %d, newer than this binary's %zu\n",
			cur, n);
		return -EPROTO;
	}
	for (size_t v = (size_t)cur + 1; v <= n; v++) {
		err = store_begin(st);
		if (err)
			return err;
		snprintf(ins, sizeof(ins),
			 "INSERT INTO schema_migrations VALUES(%zu, CAST(strftime('%%s') AS INTEGER))", v);
		err = exec(st, migs[v - 1]);
		if (!err)
			err = fk_check(st);
		if (!err)
			err = exec(st, ins);
		if (!err)
			err = store_commit(st);
		if (err) {
			fprintf(stderr, "store: migration %zu failed\n", v);
			store_rollback(st);
			return err;
		}
	}
	return 0;
}

int store_open_ex(const char *path, const char *const *migs, size_t n, struct store **out)
{
	struct store *st = calloc(1, sizeof(*st));
	sqlite3_stmt *s = NULL;
	int rc, err;

	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "store: %s: %s\n", path, st->db ? sqlite3_errmsg(st->db) : "cannot open");
		err = store_err(NULL, rc);
		if (!err)
			err = -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	/* WAL: readers never block the writer; FULL: a commit (an answered
	 * ingest) is on disk before we answer. */
	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
		fprintf(stderr, "store: %s: cannot switch to WAL mode: %s\n", path, sqlite3_errmsg(st->db));
		err = rc == SQLITE_ROW ? -EIO : store_err(st, rc);
		if (!err)
			err = -EIO;
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	err = exec(st, "PRAGMA foreign_keys=OFF; PRAGMA synchronous=FULL");
	if (!err)
		err = migrate(st, migs, n);
	if (!err)
		err = exec(st, "PRAGMA foreign_keys=ON");
	if (err)
		goto fail;
	*out = st;
	return 0;
fail:
	sqlite3_finalize(s);
	store_close(st);
	return err;
}

int store_open(const char *path, struct store **out)
{
	return store_open_ex(path, store_migrations, store_n_migrations, out);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < STORE_STMT_SLOTS; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->lock);
	free(st);
}
