/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * control/store against real SQLite files in a scratch directory:
 * migrations (also from a version-1 database to the flows table of
 * migration 2), WAL and foreign keys, idempotent alert and flow inserts,
 * queries, an incident's flow records, users and tokens (hashes only), the
 * append-only audit log, sensors, policies and targets, transactions.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../unit/check.h"
#include "ctl_test.h"
#include "store_priv.h"

static int64_t scalar(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void test_open_migrations(void)
{
	const char *path = tmp_db("mig.db");
	const char *migs[5] = { store_migrations[0], store_migrations[1], store_migrations[2],
				store_migrations[3], "ALTER TABLE incidents ADD COLUMN runbook TEXT;" };
	struct store *st = NULL;
	sqlite3_stmt *s;
	int v = -1;

	cur_test = "open_migrations";
	CHECK_EQ(store_n_migrations, 4);
	CHECK_EQ(store_open(path, &st), 0);
	CHECK_EQ(store_schema_version(st, &v), 0);
	CHECK_EQ(v, 4);
	/* WAL, foreign keys, busy timeout */
	CHECK(sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0);
	sqlite3_finalize(s);
	CHECK_EQ(scalar(st, "PRAGMA foreign_keys"), 1);
	CHECK_EQ(scalar(st, "PRAGMA synchronous"), 2);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM schema_migrations"), 4);
	store_close(st);

	/* reopening applies nothing again */
	CHECK_EQ(store_open(path, &st), 0);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM schema_migrations"), 4);
	CHECK_EQ(scalar(st, "PRAGMA foreign_keys"), 1);
	store_close(st);

	/* a later migration adds a column to the existing database */
	CHECK_EQ(store_open_ex(path, migs, 5, &st), 0);
	CHECK_EQ(store_schema_version(st, &v), 0);
	CHECK_EQ(v, 5);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM pragma_table_info('incidents') WHERE name = 'runbook'"), 1);
	store_close(st);

	/* a binary that knows only migrations 1 to 4 refuses the newer database */
	st = NULL;
	CHECK_EQ(store_open(path, &st), -EPROTO);
	CHECK(st == NULL);

	/* a broken migration rolls back and leaves the version alone */
	const char *bad[5] = { store_migrations[0], store_migrations[1], store_migrations[2],
			       store_migrations[3], "CREATE TABLE alerts(x);" };
	CHECK_EQ(store_open(tmp_db("mig2.db"), &st), 0);
	store_close(st);
	st = NULL;
	CHECK(store_open_ex(tmp_db("mig2.db"), bad, 5, &st) < 0);
	CHECK_EQ(store_open(tmp_db("mig2.db"), &st), 0);
	CHECK_EQ(store_schema_version(st, &v), 0);
	CHECK_EQ(v, 4);
	store_close(st);

	/* an unopenable path */
	CHECK(store_open("/nonexistent-dir/x.db", &st) < 0);
	store_close(NULL);
}

/* A database of version 1 (an older vigil-control's) with an alert and a
 * user in it: opening it with every migration applies migrations 2 and 3,
 * keeps the data and adds the flows table and its index. */
static void test_migrate_from_v1(void)
{
	const char *path = tmp_db("v1.db");
	struct store_alert a = mk_alert("s1:old", 1000, "10.0.0.1", "10.0.0.2", 1700000000, 2);
	struct store_flow f = mk_flow("s1:oldflow", "s1", 42, 1700000010);
	struct store_alert_filter af = { .sid = -1, .incident = -1, .since = STORE_NO_TIME,
					 .until = STORE_NO_TIME, .limit = 10 };
	struct store *st = NULL;
	json_t *arr = NULL;
	char role[32];
	int64_t n = -1;
	int v = -1;

	cur_test = "migrate_from_v1";
	a.flow_id = 42;
	CHECK_EQ(store_open_ex(path, store_migrations, 1, &st), 0);
	if (!st)
		return;
	CHECK_EQ(store_schema_version(st, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM sqlite_master WHERE name = 'flows'"), 0);
	CHECK_EQ(store_alert_insert(st, &a, 5), 1);
	CHECK_EQ(store_user_add(st, "alice", "admin", 5), 0);
	store_close(st);
	st = NULL;

	CHECK_EQ(store_open(path, &st), 0);
	if (!st)
		return;
	CHECK_EQ(store_schema_version(st, &v), 0);
	CHECK_EQ(v, (int)store_n_migrations);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM schema_migrations"), store_n_migrations);
	/* the data is kept */
	CHECK_EQ(store_alert_count(st, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(store_alerts_json(st, &af, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "id")), "s1:old") == 0);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(arr, 0), "flow_id")), 42);
	json_decref(arr);
	CHECK_EQ(store_user_role(st, "alice", role, sizeof(role)), 0);
	CHECK(strcmp(role, "admin") == 0);
	/* the flows table, its columns and the (sensor, flow_id) index */
	CHECK_EQ(scalar(st, "SELECT count(*) FROM pragma_table_info('flows')"), 19);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM pragma_table_info('flows') WHERE pk = 1 AND name = 'id'"), 1);
	CHECK_EQ(scalar(st, "SELECT group_concat(name, ',') = 'sensor,flow_id' FROM "
			"(SELECT name FROM pragma_index_info('flows_flow') ORDER BY seqno)"), 1);
	CHECK_EQ(store_flow_count(st, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(store_flow_insert(st, &f, 6), 1);
	CHECK_EQ(store_flow_insert(st, &f, 7), 0);
	CHECK_EQ(store_flow_count(st, &n), 0);
	CHECK_EQ(n, 1);
	store_close(st);
}

/* A database of version 2 with an incident, its alert, evidence and
 * timeline: migration 3 rebuilds incidents (kind may be 'drift') with the
 * rows, ids and links kept, foreign keys on and consistent afterwards. */
static void test_migrate_from_v2(void)
{
	const char *path = tmp_db("v2.db");
	struct store_alert a = mk_alert("s1:x", 1000, "10.0.0.1", "10.0.0.2", 1700000000, 2);
	struct store_incident inc, got;
	struct store *st = NULL;
	int v = -1;

	cur_test = "migrate_from_v2";
	CHECK_EQ(store_open_ex(path, store_migrations, 2, &st), 0);
	if (!st)
		return;
	memset(&inc, 0, sizeof(inc));
	snprintf(inc.key, sizeof(inc.key), "blind:s1:silent");
	snprintf(inc.kind, sizeof(inc.kind), "blind_spot");
	snprintf(inc.title, sizeof(inc.title), "old");
	snprintf(inc.status, sizeof(inc.status), "open");
	inc.severity = 2;
	inc.sid = -1;
	inc.first_seen = inc.last_seen = inc.opened_at = inc.esc_since = 5;
	inc.notified_at = inc.acked_at = inc.mitigated_at = inc.resolved_at = inc.closed_at = STORE_NO_TIME;
	inc.escalation_tier = 1;
	CHECK_EQ(store_incident_insert(st, &inc), 0);
	CHECK_EQ(store_incident_insert(st, &inc), 0);   /* a second one: ids 1 and 2 */
	CHECK_EQ(store_alert_insert(st, &a, 5), 1);
	CHECK_EQ(store_alert_set_incident(st, "s1:x", 2), 0);
	CHECK_EQ(store_evidence_add(st, 2, "s1:x"), 0);
	CHECK_EQ(store_timeline_add(st, 2, 5, "system", "opened", "old"), 0);
	/* version 2 refuses the new kind */
	snprintf(inc.kind, sizeof(inc.kind), "drift");
	CHECK(store_incident_insert(st, &inc) < 0);
	store_close(st);
	st = NULL;

	CHECK_EQ(store_open(path, &st), 0);
	if (!st)
		return;
	CHECK_EQ(store_schema_version(st, &v), 0);
	CHECK_EQ(v, (int)store_n_migrations);
	CHECK_EQ(scalar(st, "PRAGMA foreign_keys"), 1);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM incidents"), 2);
	CHECK_EQ(store_incident_get(st, 2, &got), 0);
	CHECK(strcmp(got.kind, "blind_spot") == 0 && strcmp(got.title, "old") == 0);
	CHECK_EQ(scalar(st, "SELECT incident_id FROM alerts WHERE id = 's1:x'"), 2);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM evidence WHERE incident_id = 2"), 1);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM timeline WHERE incident_id = 2"), 1);
	/* the indexes are back; the children still point at incidents */
	CHECK_EQ(scalar(st, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
			"name IN ('incidents_key', 'incidents_status')"), 2);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM pragma_foreign_key_list('alerts') "
			"WHERE \"table\" = 'incidents'"), 1);
	/* drift incidents now, other kinds still refused, links still enforced */
	CHECK_EQ(store_incident_insert(st, &inc), 0);
	CHECK_EQ(inc.id, 3);
	snprintf(inc.kind, sizeof(inc.kind), "other");
	CHECK(store_incident_insert(st, &inc) < 0);
	CHECK(store_alert_set_incident(st, "s1:x", 99) < 0);
	/* the sensors' new columns */
	CHECK_EQ(scalar(st, "SELECT count(*) FROM pragma_table_info('sensors') WHERE name IN "
			"('config_hash', 'load', 'config_base', 'rules_drift_since')"), 4);
	store_close(st);
}

static void test_alerts(struct store *st)
{
	struct store_alert a = mk_alert("s1:1", 1000, "10.0.0.1", "10.0.0.2", 1700000000, 2);
	struct store_alert b = mk_alert("s1:2", 1001, "10.0.0.3", "10.0.0.2", 1700000100, 1);
	struct store_alert_filter f = { .sid = -1, .incident = -1, .since = STORE_NO_TIME,
					.until = STORE_NO_TIME, .limit = 100 };
	json_t *arr = NULL;
	int64_t n = 0;

	cur_test = "alerts";
	a.payload = "aGVsbG8=";
	a.flow_id = 123456789012345;
	CHECK_EQ(store_alert_insert(st, &a, 1), 1);
	CHECK_EQ(store_alert_insert(st, &a, 2), 0);     /* a resend */
	CHECK_EQ(store_alert_insert(st, &b, 3), 1);
	CHECK_EQ(store_alert_count(st, &n), 0);
	CHECK_EQ(n, 2);

	CHECK_EQ(store_alerts_json(st, &f, &arr), 0);
	CHECK_EQ(json_array_size(arr), 2);
	/* newest first, contract fields, absent ones left out */
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "id")), "s1:2") == 0);
	json_t *o = json_array_get(arr, 1);
	CHECK_EQ(json_integer_value(json_object_get(o, "sid")), 1000);
	CHECK_EQ(json_integer_value(json_object_get(o, "flow_id")), 123456789012345);
	CHECK(strcmp(json_string_value(json_object_get(o, "payload")), "aGVsbG8=") == 0);
	CHECK(strcmp(json_string_value(json_object_get(o, "ts")), "2023-11-14T22:13:20Z") == 0);
	CHECK(json_object_get(json_array_get(arr, 0), "payload") == NULL);
	json_decref(arr);

	f.sid = 1000;
	CHECK_EQ(store_alerts_json(st, &f, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	json_decref(arr);
	f.sid = -1;
	f.src_ip = "10.0.0.3";
	CHECK_EQ(store_alerts_json(st, &f, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	json_decref(arr);
	f.src_ip = NULL;
	f.dest_ip = "10.0.0.2";
	f.since = 1700000050;
	CHECK_EQ(store_alerts_json(st, &f, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	json_decref(arr);
	f.since = STORE_NO_TIME;
	f.until = 1700000050;
	f.limit = 1;
	CHECK_EQ(store_alerts_json(st, &f, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "id")), "s1:1") == 0);
	json_decref(arr);

	/* foreign keys: evidence of an unknown incident is refused */
	CHECK_EQ(store_evidence_add(st, 999, "s1:1"), -EEXIST);
	CHECK_EQ(store_alert_set_incident(st, "nope", 1), -ENOENT);
}

static void test_flows(struct store *st)
{
	struct store_flow f1 = mk_flow("s1:f1", "s1", 7001, 1700001000);
	struct store_flow f2 = mk_flow("s1:f2", "s1", 7001, 1700001100);     /* the same flow, cut later */
	struct store_flow f3 = mk_flow("s1:f3", "s1", 7002, 1700001050);
	struct store_flow g = mk_flow("s2:f1", "s2", 7001, 1700001200);      /* another sensor's 7001 */
	struct store_flow_filter ff = { .sensor = NULL, .flow_id = -1, .limit = 100 };
	struct store_incident inc;
	json_t *arr = NULL, *o;
	int64_t n = 0;
	char id[32];

	cur_test = "flows";
	f3.src_port = f3.dest_port = -1;     /* e.g. ICMP: no ports */
	f3.proto = "ICMP";
	f3.state = f3.reason = NULL;
	CHECK_EQ(store_flow_insert(st, &f1, 1), 1);
	CHECK_EQ(store_flow_insert(st, &f1, 2), 0);     /* a resend */
	CHECK_EQ(store_flow_insert(st, &f2, 3), 1);
	CHECK_EQ(store_flow_insert(st, &f3, 3), 1);
	CHECK_EQ(store_flow_insert(st, &g, 3), 1);
	CHECK_EQ(store_flow_count(st, &n), 0);
	CHECK_EQ(n, 4);

	/* newest (by end) first, the contract's fields, absent ones left out */
	CHECK_EQ(store_flows_json(st, &ff, &arr), 0);
	CHECK_EQ(json_array_size(arr), 4);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "id")), "s2:f1") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 1), "id")), "s1:f2") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 2), "id")), "s1:f3") == 0);
	o = json_array_get(arr, 3);
	CHECK_EQ(json_object_size(o), 16);
	CHECK(json_object_get(o, "type") == NULL && json_object_get(o, "received_at") == NULL);
	CHECK(strcmp(json_string_value(json_object_get(o, "sensor")), "s1") == 0);
	CHECK_EQ(json_integer_value(json_object_get(o, "flow_id")), 7001);
	CHECK(strcmp(json_string_value(json_object_get(o, "start")), "2023-11-14T22:29:50Z") == 0);
	CHECK(strcmp(json_string_value(json_object_get(o, "end")), "2023-11-14T22:30:00Z") == 0);
	CHECK_EQ(json_integer_value(json_object_get(o, "src_port")), 40000);
	CHECK_EQ(json_integer_value(json_object_get(o, "pkts_toserver")), 3);
	CHECK_EQ(json_integer_value(json_object_get(o, "pkts_toclient")), 2);
	CHECK_EQ(json_integer_value(json_object_get(o, "bytes_toserver")), 300);
	CHECK_EQ(json_integer_value(json_object_get(o, "bytes_toclient")), 200);
	CHECK(strcmp(json_string_value(json_object_get(o, "state")), "closed") == 0);
	CHECK(strcmp(json_string_value(json_object_get(o, "reason")), "timeout") == 0);
	o = json_array_get(arr, 2);
	CHECK(json_object_get(o, "src_port") == NULL && json_object_get(o, "dest_port") == NULL);
	CHECK(json_object_get(o, "state") == NULL && json_object_get(o, "reason") == NULL);
	CHECK(strcmp(json_string_value(json_object_get(o, "proto")), "ICMP") == 0);
	json_decref(arr);

	/* filters and limit */
	ff.sensor = "s1";
	CHECK_EQ(store_flows_json(st, &ff, &arr), 0);
	CHECK_EQ(json_array_size(arr), 3);
	json_decref(arr);
	ff.flow_id = 7001;
	CHECK_EQ(store_flows_json(st, &ff, &arr), 0);
	CHECK_EQ(json_array_size(arr), 2);
	json_decref(arr);
	ff.sensor = NULL;
	CHECK_EQ(store_flows_json(st, &ff, &arr), 0);
	CHECK_EQ(json_array_size(arr), 3);
	json_decref(arr);
	ff.limit = 1;
	CHECK_EQ(store_flows_json(st, &ff, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "id")), "s2:f1") == 0);
	json_decref(arr);

	/* an incident's flow records: those of its alerts' (sensor, flow_id),
	 * not another sensor's flow of the same number, newest first */
	memset(&inc, 0, sizeof(inc));
	snprintf(inc.key, sizeof(inc.key), "sid:9:dst:10.0.0.1");
	snprintf(inc.kind, sizeof(inc.kind), "alert");
	snprintf(inc.title, sizeof(inc.title), "flows");
	snprintf(inc.status, sizeof(inc.status), "open");
	inc.severity = 3;
	inc.sid = 9;
	inc.first_seen = inc.last_seen = inc.opened_at = inc.esc_since = 1700001000;
	inc.notified_at = inc.acked_at = inc.mitigated_at = STORE_NO_TIME;
	inc.resolved_at = inc.closed_at = STORE_NO_TIME;
	inc.escalation_tier = 1;
	CHECK_EQ(store_incident_insert(st, &inc), 0);
	CHECK_EQ(store_incident_flows_json(st, inc.id, &arr), 0);
	CHECK_EQ(json_array_size(arr), 0);
	json_decref(arr);
	for (int i = 0; i < 3; i++) {
		struct store_alert a = mk_alert(i == 0 ? "s1:fa0" : i == 1 ? "s1:fa1" : "s1:fa2", 9,
						"192.0.2.1", "10.0.0.1", 1700000990 + i, 3);
		a.flow_id = i == 2 ? -1 : 7001;    /* two alerts of one flow, one without a flow */
		CHECK_EQ(store_alert_insert(st, &a, 4), 1);
		CHECK_EQ(store_alert_set_incident(st, a.id, inc.id), 0);
	}
	CHECK_EQ(store_incident_flows_json(st, inc.id, &arr), 0);
	CHECK_EQ(json_array_size(arr), 2);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "id")), "s1:f2") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 1), "id")), "s1:f1") == 0);
	json_decref(arr);
	CHECK_EQ(store_incident_detail_json(st, inc.id, &o), 0);
	CHECK_EQ(json_array_size(json_object_get(o, "flows")), 2);
	json_decref(o);
	/* at most STORE_INCIDENT_FLOWS_MAX, the newest */
	for (int i = 0; i < STORE_INCIDENT_FLOWS_MAX + 20; i++) {
		snprintf(id, sizeof(id), "s1:many%d", i);
		struct store_flow m = mk_flow(id, "s1", 7001, 1700002000 + i);
		CHECK_EQ(store_flow_insert(st, &m, 5), 1);
	}
	CHECK_EQ(store_incident_flows_json(st, inc.id, &arr), 0);
	CHECK_EQ(json_array_size(arr), STORE_INCIDENT_FLOWS_MAX);
	snprintf(id, sizeof(id), "s1:many%d", STORE_INCIDENT_FLOWS_MAX + 19);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "id")), id) == 0);
	json_decref(arr);
}

static void test_transactions(struct store *st)
{
	struct store_alert a = mk_alert("s1:tx", 1, "1.1.1.1", "2.2.2.2", 1700000000, 3);
	int64_t before = 0, after = 0;

	cur_test = "transactions";
	store_alert_count(st, &before);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(store_alert_insert(st, &a, 1), 1);
	store_rollback(st);
	store_alert_count(st, &after);
	CHECK_EQ(after, before);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(store_alert_insert(st, &a, 1), 1);
	CHECK_EQ(store_commit(st), 0);
	store_alert_count(st, &after);
	CHECK_EQ(after, before + 1);
	store_rollback(st);     /* no transaction: harmless */
}

static void test_incidents(struct store *st)
{
	struct store_incident inc, got;
	json_t *o = NULL, *arr = NULL;

	cur_test = "incidents";
	memset(&inc, 0, sizeof(inc));
	snprintf(inc.key, sizeof(inc.key), "sid:1:dst:2.2.2.2");
	snprintf(inc.kind, sizeof(inc.kind), "alert");
	snprintf(inc.title, sizeof(inc.title), "t");
	snprintf(inc.status, sizeof(inc.status), "open");
	inc.severity = 3;
	inc.sid = 1;
	inc.alert_count = 1;
	inc.first_seen = inc.last_seen = 1700000000;
	inc.opened_at = inc.esc_since = 1700000005;
	inc.notified_at = inc.acked_at = inc.mitigated_at = STORE_NO_TIME;
	inc.resolved_at = inc.closed_at = STORE_NO_TIME;
	inc.escalation_tier = 1;
	CHECK_EQ(store_incident_insert(st, &inc), 0);
	CHECK(inc.id > 0);
	CHECK_EQ(store_incident_find_open(st, "sid:1:dst:2.2.2.2", &got), 0);
	CHECK_EQ(got.id, inc.id);
	CHECK_EQ(got.acked_at, STORE_NO_TIME);
	CHECK_EQ(got.sid, 1);
	CHECK_EQ(store_incident_find_open(st, "sid:1:dst:9.9.9.9", &got), -ENOENT);

	inc.acked_at = 1700000065;
	snprintf(inc.status, sizeof(inc.status), "resolved");
	snprintf(inc.assignee, sizeof(inc.assignee), "alice");
	CHECK_EQ(store_incident_update(st, &inc), 0);
	CHECK_EQ(store_incident_find_open(st, "sid:1:dst:2.2.2.2", &got), -ENOENT);
	CHECK_EQ(store_incident_get(st, inc.id, &got), 0);
	CHECK(strcmp(got.assignee, "alice") == 0);

	CHECK_EQ(store_incident_json(st, inc.id, &o), 0);
	CHECK_EQ(json_integer_value(json_object_get(o, "time_to_ack_s")), 60);
	CHECK(json_is_null(json_object_get(o, "time_to_notify_s")));
	CHECK(json_is_null(json_object_get(o, "notified_at")));
	CHECK(strcmp(json_string_value(json_object_get(o, "opened_at")), "2023-11-14T22:13:25Z") == 0);
	CHECK_EQ(json_object_size(o), 20);
	json_decref(o);
	CHECK_EQ(store_incident_json(st, 4242, &o), -ENOENT);

	CHECK_EQ(store_timeline_add(st, inc.id, 1700000006, "bob", "note", "hello"), 0);
	CHECK_EQ(store_notification_add(st, inc.id, "opened", "-", "logged", 1700000006), 0);
	CHECK_EQ(store_evidence_add(st, inc.id, "s1:1"), 0);
	CHECK_EQ(store_incident_detail_json(st, inc.id, &o), 0);
	CHECK_EQ(json_array_size(json_object_get(o, "timeline")), 1);
	CHECK_EQ(json_array_size(json_object_get(o, "evidence")), 1);
	CHECK_EQ(json_array_size(json_object_get(o, "notifications")), 1);
	json_decref(o);

	CHECK_EQ(store_incidents_json(st, "resolved", -1, 10, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	json_decref(arr);
	CHECK_EQ(store_incidents_json(st, "open", -1, 10, &arr), 0);
	CHECK_EQ(json_array_size(arr), 0);
	json_decref(arr);
	inc.id = 4242;
	CHECK_EQ(store_incident_update(st, &inc), -ENOENT);
}

static void test_users_tokens(struct store *st, const char *path)
{
	char tok[STORE_TOKEN_LEN + 1], tok2[STORE_TOKEN_LEN + 1], user[80], role[32];
	uint8_t h[STORE_HASH_LEN], h2[STORE_HASH_LEN];
	int64_t id = 0, n = 0;
	json_t *arr;

	cur_test = "users_tokens";
	CHECK_EQ(store_user_add(st, "alice", "admin", 1), 0);
	CHECK_EQ(store_user_add(st, "alice", "viewer", 1), -EEXIST);
	CHECK_EQ(store_user_add(st, "bob", "viewer", 1), 0);
	CHECK_EQ(store_user_count(st, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(store_user_role(st, "bob", role, sizeof(role)), 0);
	CHECK(strcmp(role, "viewer") == 0);
	CHECK_EQ(store_user_role(st, "carol", role, sizeof(role)), -ENOENT);

	CHECK_EQ(store_token_generate(tok), 0);
	CHECK_EQ(store_token_generate(tok2), 0);
	CHECK_EQ(strlen(tok), STORE_TOKEN_LEN);
	CHECK(strncmp(tok, "vgl_", 4) == 0);
	CHECK(strcmp(tok, tok2) != 0);
	CHECK(strspn(tok + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
	store_token_hash(tok, strlen(tok), h);
	store_token_hash(tok2, strlen(tok2), h2);
	CHECK(memcmp(h, h2, sizeof(h)) != 0);
	CHECK_EQ(store_token_add(st, "alice", h, 1, &id), 0);
	CHECK_EQ(store_token_add(st, "carol", h2, 1, &id), -ENOENT);
	CHECK_EQ(store_token_lookup(st, h, user, sizeof(user), role, sizeof(role)), 0);
	CHECK(strcmp(user, "alice") == 0 && strcmp(role, "admin") == 0);
	CHECK_EQ(store_token_lookup(st, h2, user, sizeof(user), role, sizeof(role)), -ENOENT);

	CHECK_EQ(store_users_json(st, &arr), 0);
	CHECK_EQ(json_array_size(arr), 2);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(arr, 0), "tokens")), 1);
	json_decref(arr);

	/* only the hash is stored: the token text is nowhere in the files */
	{
		char p[600], *buf = malloc(1 << 22);
		const char *sfx[] = { "", "-wal" };
		for (int k = 0; k < 2; k++) {
			snprintf(p, sizeof(p), "%s%s", path, sfx[k]);
			int fd = open(p, O_RDONLY);
			ssize_t r = fd >= 0 ? read(fd, buf, (1 << 22) - 1) : 0;
			if (fd >= 0)
				close(fd);
			CHECK(r >= 0);
			CHECK(r <= 0 || memmem(buf, (size_t)r, tok + 4, 20) == NULL);
		}
		free(buf);
	}

	CHECK_EQ(store_token_revoke(st, id, 2), 0);
	CHECK_EQ(store_token_lookup(st, h, user, sizeof(user), role, sizeof(role)), -ENOENT);
	CHECK_EQ(store_token_revoke(st, id, 3), -EALREADY);
	CHECK_EQ(store_token_revoke(st, 999, 3), -ENOENT);
}

static void test_audit(struct store *st)
{
	json_t *arr;
	char *msg = NULL;

	cur_test = "audit";
	CHECK_EQ(store_audit_add(st, 1700000000, "alice", "user.add", "user:bob", "viewer"), 0);
	CHECK_EQ(store_audit_add(st, 1700000001, "alice", "token.create", "token:1", "for bob"), 0);
	CHECK_EQ(store_audit_json(st, 10, &arr), 0);
	CHECK_EQ(json_array_size(arr), 2);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "action")), "token.create") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 1), "ts")), "2023-11-14T22:13:20Z") == 0);
	json_decref(arr);
	CHECK_EQ(store_audit_json(st, 1, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	json_decref(arr);
	/* append-only, enforced by the schema too */
	CHECK(sqlite3_exec(st->db, "UPDATE audit SET user = 'mallory'", NULL, NULL, &msg) != SQLITE_OK);
	CHECK(msg && strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	CHECK(sqlite3_exec(st->db, "DELETE FROM audit", NULL, NULL, &msg) != SQLITE_OK);
	sqlite3_free(msg);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM audit"), 2);
}

static int n_silent;
static void on_silent(void *arg, const char *name, int64_t last_seen)
{
	(void)arg;
	(void)last_seen;
	CHECK(strcmp(name, "s1") == 0);
	n_silent++;
}

static void test_sensors_config(struct store *st)
{
	char *prev = (char *)"x";
	json_t *arr, *tiers = NULL;
	int64_t n = 0, ack = 0;
	struct store_policy pol[2] = {
		{ .severity = 1, .ack_within_s = 60, .tiers = "[\"oncall\",\"lead\"]" },
		{ .severity = 2, .ack_within_s = 600, .tiers = "[\"oncall\"]" },
	};
	struct store_target tg[2] = {
		{ .name = "hook", .type = "webhook", .url = "http://127.0.0.1:1/x", .min_severity = -1 },
		{ .name = "pd", .type = "pagerduty", .routing_key = "k", .min_severity = 2 },
	};

	cur_test = "sensors_config";
	CHECK_EQ(store_sensor_heartbeat(st, "s1", "0.1", "r1", "{\"a\":1}", 100, &prev), 0);
	CHECK(prev == NULL);
	CHECK_EQ(store_sensor_heartbeat(st, "s1", "0.1", "r2", "{\"a\":2}", 110, &prev), 0);
	CHECK(prev && strcmp(prev, "{\"a\":1}") == 0);
	free(prev);
	CHECK_EQ(store_sensor_count(st, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(store_sensors_json(st, &arr), 0);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(json_array_get(arr, 0), "counters"), "a")), 2);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "ruleset")), "r2") == 0);
	json_decref(arr);
	CHECK_EQ(store_sensors_mark_silent(st, 105, on_silent, NULL), 0);
	CHECK_EQ(n_silent, 0);
	CHECK_EQ(store_sensors_mark_silent(st, 200, on_silent, NULL), 0);
	CHECK_EQ(n_silent, 1);
	CHECK_EQ(store_sensors_mark_silent(st, 300, on_silent, NULL), 0);   /* once per silence */
	CHECK_EQ(n_silent, 1);

	CHECK_EQ(store_policies_replace(st, pol, 2), 0);
	CHECK_EQ(store_policy_get(st, 1, &ack, &tiers), 0);
	CHECK_EQ(ack, 60);
	CHECK_EQ(json_array_size(tiers), 2);
	json_decref(tiers);
	CHECK_EQ(store_policy_get(st, 3, &ack, &tiers), -ENOENT);
	CHECK_EQ(store_policies_replace(st, pol + 1, 1), 0);
	CHECK_EQ(store_policies_json(st, &arr), 0);
	CHECK_EQ(json_array_size(arr), 1);
	CHECK(json_is_array(json_object_get(json_array_get(arr, 0), "tiers")));
	json_decref(arr);

	CHECK_EQ(store_targets_replace(st, tg, 2), 0);
	CHECK_EQ(store_targets_json(st, &arr), 0);
	CHECK_EQ(json_array_size(arr), 2);
	CHECK(json_is_null(json_object_get(json_array_get(arr, 0), "min_severity")));
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(arr, 1), "min_severity")), 2);
	json_decref(arr);
	int64_t size = 0;
	CHECK_EQ(store_db_size(st, &size), 0);
	CHECK(size > 4096);
}

int main(void)
{
	const char *path;
	struct store *st = NULL;

	test_open_migrations();
	test_migrate_from_v2();
	test_migrate_from_v1();
	path = tmp_db("store.db");
	if (store_open(path, &st) != 0) {
		printf("FAIL: cannot open %s\n", path);
		return 1;
	}
	test_alerts(st);
	test_transactions(st);
	test_incidents(st);
	test_flows(st);
	test_users_tokens(st, path);
	test_audit(st);
	test_sensors_config(st);
	store_close(st);
	printf("%s\n", failures ? "FAILED" : "PASS");
	return failures ? 1 : 0;
}
