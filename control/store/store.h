/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's SQLite store: the only module that speaks SQL.
 *
 * One `struct store` is one SQLite connection (WAL, foreign keys on,
 * synchronous=FULL so a committed ingest survives power loss, busy
 * timeout) plus a mutex.  The connection may be used from any thread, but
 * only by the holder of store_lock(): the API thread holds it for one
 * request, the timer thread for one evaluation, so every multi-statement
 * change is one transaction that nobody else interleaves with.
 *
 * Every function returns 0 (or a documented non-negative value) or -errno:
 * -ENOENT (no such row), -EEXIST (unique key taken), -EBUSY (database
 * locked past the busy timeout), -ENOMEM, -ENOSPC, -EIO (anything else;
 * the SQLite message is in store_errmsg()).  SQLite result codes never
 * leave this module.  Times are seconds since the epoch (int64); in JSON
 * answers they are RFC 3339 UTC strings, formatted by SQL.
 *
 * This header does not include <sqlite3.h>: users (and the fuzz build of
 * the API body parsers) need only the row structs.
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct store;

/* An unset time (SQL NULL). */
#define STORE_NO_TIME INT64_MIN

/* Tokens: "vgl_" + base64url (no padding) of 32 random bytes. */
#define STORE_TOKEN_PREFIX "vgl_"
#define STORE_TOKEN_LEN (4 + 43)
#define STORE_HASH_LEN 32

#define STORE_NAME_MAX 64       /* user, sensor and target names */
#define STORE_KEY_MAX 192       /* incident keys */
#define STORE_TITLE_MAX 256

/* --- opening, migrations, transactions (store.c) --------------------- */

/* Opens (creating if needed) the database at path and brings its schema to
 * the newest migration this binary knows.  Refuses (-EPROTO) a database
 * migrated by a newer binary. */
int store_open(const char *path, struct store **out);

/* As store_open() with an explicit migration list (SQL scripts; entry i is
 * migration i + 1).  For tests of the migration machinery. */
int store_open_ex(const char *path, const char *const *migrations, size_t n, struct store **out);

/* Closes the connection; store_close(NULL) does nothing. */
void store_close(struct store *st);

/* The newest applied migration. */
int store_schema_version(struct store *st, int *out);

/* The migrations this binary carries: store_migrations[i] is migration i+1. */
extern const char *const store_migrations[];
extern const size_t store_n_migrations;

void store_lock(struct store *st);
void store_unlock(struct store *st);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  store_rollback() is for error
 * paths and cannot fail (a failed rollback leaves SQLite's own). */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* The last SQLite error message on this connection (for logs only). */
const char *store_errmsg(struct store *st);

/* Bytes used by the database: page_count * page_size. */
int store_db_size(struct store *st, int64_t *out);

/* --- alerts and evidence (store_alert.c) ----------------------------- */

/* An alert as ingested.  Strings are borrowed (NULL: absent); integers
 * that are optional in the contract are < 0 when absent. */
struct store_alert {
	const char *id;          /* "SENSOR:SEQ", unique and stable across resends */
	const char *sensor;      /* of the batch */
	const char *ts;          /* RFC 3339, as sent */
	int64_t ts_epoch;        /* ts in whole seconds */
	int64_t sid, gid, rev;
	const char *signature, *category, *action, *ruleset, *proto;
	int64_t severity;        /* 1 highest */
	const char *src_ip, *dest_ip;
	int64_t src_port, dest_port;
	int64_t flow_id;
	const char *payload;     /* base64 */
};

/* Inserts a (INSERT OR IGNORE on id).  Returns 1 if it was new, 0 if an
 * alert with this id exists already (a resend), or -errno. */
int store_alert_insert(struct store *st, const struct store_alert *a, int64_t now);

/* Links the alert to its incident (alerts.incident_id). */
int store_alert_set_incident(struct store *st, const char *alert_id, int64_t incident_id);

/* Adds the alert to the incident's sampled evidence. */
int store_evidence_add(struct store *st, int64_t incident_id, const char *alert_id);

struct store_alert_filter {
	int64_t sid;             /* < 0: any */
	const char *src_ip, *dest_ip;   /* NULL: any */
	int64_t incident;        /* < 0: any */
	int64_t since, until;    /* STORE_NO_TIME: unbounded; inclusive */
	int64_t limit;           /* > 0 */
};

/* A new JSON array of ALERT objects, newest first. */
int store_alerts_json(struct store *st, const struct store_alert_filter *f, json_t **out);

int store_alert_count(struct store *st, int64_t *out);

/* --- flow records (store_flow.c) ------------------------------------- */

/* A flow record (the contract's FLOW: the summary of a flow that alerted,
 * one per flow end or active-timeout cut) as ingested.  Strings are
 * borrowed (NULL: absent); optional integers are < 0 when absent. */
struct store_flow {
	const char *id;          /* "SENSOR:SEQ", unique and stable across resends */
	const char *sensor;      /* of the batch */
	int64_t flow_id;         /* the key shared with the flow's alerts (with sensor) */
	const char *start, *end; /* RFC 3339, as sent */
	int64_t start_epoch, end_epoch;
	const char *src_ip, *dest_ip;
	int64_t src_port, dest_port;
	const char *proto;
	int64_t pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient;
	const char *state, *reason;
};

/* The most flow records GET /api/v1/incidents/ID answers. */
#define STORE_INCIDENT_FLOWS_MAX 100

/* Inserts f (INSERT OR IGNORE on id).  Returns 1 if it was new, 0 if a
 * record with this id exists already (a resend), or -errno. */
int store_flow_insert(struct store *st, const struct store_flow *f, int64_t now);

struct store_flow_filter {
	const char *sensor;      /* NULL: any */
	int64_t flow_id;         /* < 0: any */
	int64_t limit;           /* > 0 */
};

/* A new JSON array of FLOW objects (without "type"; with "sensor"), newest
 * (by end) first. */
int store_flows_json(struct store *st, const struct store_flow_filter *f, json_t **out);

/* The flow records of an incident: those whose (sensor, flow_id) is that
 * of one of its alerts, newest (by end) first, at most
 * STORE_INCIDENT_FLOWS_MAX.  A new JSON array of FLOW objects. */
int store_incident_flows_json(struct store *st, int64_t incident_id, json_t **out);

int store_flow_count(struct store *st, int64_t *out);

/* --- incidents, timeline, notifications (store_incident.c) ----------- */

struct store_incident {
	int64_t id;
	char key[STORE_KEY_MAX];
	char title[STORE_TITLE_MAX];
	char kind[16];           /* "alert" | "blind_spot" | "drift" */
	char status[16];
	char assignee[STORE_NAME_MAX + 1];   /* "": none */
	int64_t severity;
	int64_t sid;             /* < 0: none (blind spots) */
	int64_t alert_count;
	int64_t first_seen, last_seen;
	int64_t opened_at, notified_at, acked_at, mitigated_at, resolved_at, closed_at;
	int64_t escalation_tier; /* 1: the first tier of the policy */
	int64_t esc_since;       /* escalation clock: opened, last escalated or reopened */
};

/* Inserts inc (id ignored) and sets inc->id. */
int store_incident_insert(struct store *st, struct store_incident *inc);

/* Writes every mutable field of inc (by inc->id).  -ENOENT if absent. */
int store_incident_update(struct store *st, const struct store_incident *inc);

int store_incident_get(struct store *st, int64_t id, struct store_incident *out);

/* The newest incident with this key that is neither resolved nor closed;
 * -ENOENT if none. */
int store_incident_find_open(struct store *st, const char *key, struct store_incident *out);

/* Calls fn for every incident in status "open" (unacknowledged), oldest
 * first.  fn returns 0 to go on or -errno to stop with that error.  fn must
 * not use the store: collect ids and act afterwards. */
int store_incidents_foreach_open(struct store *st,
				 int (*fn)(void *arg, const struct store_incident *inc), void *arg);

/* A new INCIDENT object (contract fields); -ENOENT if absent. */
int store_incident_json(struct store *st, int64_t id, json_t **out);

/* INCIDENT + "timeline", "evidence" (ALERTs), "notifications", "flows"
 * (store_incident_flows_json()). */
int store_incident_detail_json(struct store *st, int64_t id, json_t **out);

/* A new array of INCIDENTs, newest first; status NULL / severity < 0: any. */
int store_incidents_json(struct store *st, const char *status, int64_t severity, int64_t limit,
			 json_t **out);

/* Open (not resolved/closed) incidents by severity: calls fn per severity. */
int store_incidents_open_by_severity(struct store *st,
				     void (*fn)(void *arg, int64_t severity, int64_t n), void *arg);

int store_timeline_add(struct store *st, int64_t incident_id, int64_t ts, const char *user,
		       const char *action, const char *detail);

/* A new array of {ts, user, action, detail}, oldest first. */
int store_timeline_json(struct store *st, int64_t incident_id, json_t **out);

int store_notification_add(struct store *st, int64_t incident_id, const char *event,
			   const char *target, const char *status, int64_t ts);

/* --- users, tokens, audit (store_user.c) ------------------------------ */

/* -EEXIST if the name is taken. */
int store_user_add(struct store *st, const char *name, const char *role, int64_t now);

/* Copies the user's role (-ENOENT if no such user). */
int store_user_role(struct store *st, const char *name, char *role, size_t rolelen);

int store_user_count(struct store *st, int64_t *out);

/* A new array of {name, role, created_at}. */
int store_users_json(struct store *st, json_t **out);

/* A fresh token (NUL-terminated, STORE_TOKEN_LEN chars) from getrandom(). */
int store_token_generate(char out[STORE_TOKEN_LEN + 1]);

/* SHA-256 of the token text (nettle). */
void store_token_hash(const char *token, size_t len, uint8_t out[STORE_HASH_LEN]);

/* Stores the hash of a token for user; sets *id.  -ENOENT: no such user. */
int store_token_add(struct store *st, const char *user, const uint8_t hash[STORE_HASH_LEN],
		    int64_t now, int64_t *id);

/* The user and role owning an unrevoked token with this hash; -ENOENT if
 * none (unknown or revoked). */
int store_token_lookup(struct store *st, const uint8_t hash[STORE_HASH_LEN], char *user,
		       size_t userlen, char *role, size_t rolelen);

/* -ENOENT: no such token; -EALREADY: revoked before. */
int store_token_revoke(struct store *st, int64_t id, int64_t now);

/* The audit log is append-only: this module has no code path that updates
 * or deletes it, and triggers in the schema refuse both. */
int store_audit_add(struct store *st, int64_t ts, const char *user, const char *action,
		    const char *object, const char *detail);

/* A new array of {ts, user, action, object, detail}, newest first. */
int store_audit_json(struct store *st, int64_t limit, json_t **out);

/* --- sensors, escalation policy, notify targets (store_config.c) ----- */

/* Records a heartbeat: version, ruleset, counters (JSON object text) and
 * last_seen = now, and clears the sensor's "silent" mark.  *prev gets the
 * counters of the previous heartbeat (malloc'd; NULL for the first). */
int store_sensor_heartbeat(struct store *st, const char *name, const char *version,
			   const char *ruleset, const char *counters, int64_t now, char **prev);

/* Marks every sensor not heard from since `before` and not marked yet as
 * silent and calls fn for each (fn must not use the store). */
int store_sensors_mark_silent(struct store *st, int64_t before,
			      void (*fn)(void *arg, const char *name, int64_t last_seen), void *arg);

int store_sensor_count(struct store *st, int64_t *out);

/* A new array of {name, version, ruleset, last_seen, counters}. */
int store_sensors_json(struct store *st, json_t **out);

struct store_policy {
	int64_t severity;        /* 1..3 */
	int64_t ack_within_s;
	const char *tiers;       /* JSON array text of tier names */
};

/* Replaces the whole policy set (caller's transaction). */
int store_policies_replace(struct store *st, const struct store_policy *p, size_t n);

/* The policy for a severity: ack_within_s and the tiers as a new JSON
 * array; -ENOENT if none. */
int store_policy_get(struct store *st, int64_t severity, int64_t *ack_within_s, json_t **tiers);

/* A new array of {severity, ack_within_s, tiers}. */
int store_policies_json(struct store *st, json_t **out);

struct store_target {
	const char *name;
	const char *type;        /* webhook | pagerduty | syslog */
	const char *url, *routing_key;  /* NULL: absent */
	int64_t min_severity;    /* notify incidents with severity <= this; < 0: all */
};

/* Replaces the whole target set (caller's transaction). */
int store_targets_replace(struct store *st, const struct store_target *t, size_t n);

/* A new array of {name, type, url, routing_key, min_severity}. */
int store_targets_json(struct store *st, json_t **out);

/* --- rule change management: versions (store_rules.c) ---------------- */

#define STORE_ID_HEX 64          /* a ruleset version id: SHA-256 of its text, lowercase hex */
#define STORE_ENGINE_MAX 64      /* an engine id (vigil reports 16 hex) */

/* A version as submitted.  Strings are borrowed; parent NULL: none. */
struct store_ruleset {
	const char *id;
	const char *parent;
	const char *author, *message;
	int64_t created_at;
	const char *status;      /* "submitted" | "validating" | ... */
	const char *content;
	size_t size;             /* bytes of content */
};

/* What the workflow checks of a version. */
struct store_ruleset_info {
	char id[STORE_ID_HEX + 1];
	char parent[STORE_ID_HEX + 1];       /* "": none */
	char author[STORE_NAME_MAX + 1];
	char status[24];
	char engine_id[STORE_ENGINE_MAX + 1];/* "": not known yet */
};

/* The version id of a text: SHA-256, lowercase hex (nettle). */
void store_ruleset_id(const char *text, size_t len, char out[STORE_ID_HEX + 1]);

/* -EEXIST if a version with this id exists. */
int store_ruleset_insert(struct store *st, const struct store_ruleset *r);

/* The full id of the one version whose id starts with prefix (8 to 64 hex
 * digits, upper case folded): 0, -EINVAL (not such a prefix), -ENOENT
 * (none), -ENOTUNIQ (more than one). */
int store_ruleset_resolve(struct store *st, const char *prefix, char id[STORE_ID_HEX + 1]);

/* -ENOENT if absent. */
int store_ruleset_info(struct store *st, const char *id, struct store_ruleset_info *out);

/* The rules text (malloc'd, NUL-terminated) and its length. */
int store_ruleset_content(struct store *st, const char *id, char **text, size_t *len);

int store_ruleset_set_status(struct store *st, const char *id, const char *status);

/* The result of a validation: status (NULL: unchanged), engine id (NULL:
 * unknown), loaded and skipped (< 0: unknown) and the VALIDATION object's
 * JSON text. */
int store_ruleset_set_validation(struct store *st, const char *id, const char *status,
				 const char *engine_id, int64_t loaded, int64_t skipped,
				 const char *validation);

/* A new VERSION object, with "content" when asked; -ENOENT if absent. */
int store_ruleset_json(struct store *st, const char *id, bool content, json_t **out);

/* A new array of VERSIONs without content, newest first. */
int store_rulesets_json(struct store *st, int64_t limit, json_t **out);

/* Calls fn for every version still "submitted" or "validating", or never
 * validated (approved by an override meanwhile), oldest first (fn must
 * not use the store). */
int store_rulesets_pending(struct store *st, void (*fn)(void *arg, const char *id), void *arg);

/* The version with this engine id, preferring `prefer` (may be NULL) when
 * it has it, else the newest; -ENOENT if none. */
int store_ruleset_by_engine(struct store *st, const char *engine_id, const char *prefer,
			    char id[STORE_ID_HEX + 1]);

/* decision: "approve" | "reject" | "override". */
int store_approval_add(struct store *st, const char *id, const char *user, const char *decision,
		       const char *comment, int64_t ts);

/* A regression case as submitted.  must and must_not: JSON array text. */
struct store_case {
	const char *name;
	const char *must, *must_not;
	const uint8_t *pcap;
	size_t pcap_len;
};

/* Adds a case to version id; its capture is stored once by SHA-256. */
int store_case_add(struct store *st, const char *id, const struct store_case *c);

/* Gives version child every case of version parent. */
int store_cases_inherit(struct store *st, const char *child, const char *parent);

/* A case with its capture copied out, for the validator. */
struct store_case_data {
	char name[STORE_NAME_MAX + 1];
	json_t *must, *must_not;      /* arrays of sids */
	uint8_t *pcap;
	size_t pcap_len;
};

/* Every case of version id, by name; free with store_cases_free(). */
int store_cases_load(struct store *st, const char *id, struct store_case_data **out, size_t *n);
void store_cases_free(struct store_case_data *v, size_t n);

/* --- deployments, the fleet, the sensors' drift state (store_deploy.c) - */

/* The deployment target that stands for the whole fleet. */
#define STORE_FLEET "*"

/* kind: "deploy" | "rollback"; fleet: no sensor was named.  Sets *id. */
int store_deployment_add(struct store *st, const char *ruleset, const char *kind, bool fleet,
			 const char *user, int64_t ts, const char *reason, int64_t *id);

/* sensor: a sensor name or STORE_FLEET. */
int store_deployment_target_add(struct store *st, int64_t deployment, const char *sensor,
				const char *ruleset);

/* A new DEPLOYMENT object; -ENOENT if absent. */
int store_deployment_json(struct store *st, int64_t id, json_t **out);

/* A new array of DEPLOYMENTs, newest first. */
int store_deployments_json(struct store *st, int64_t limit, json_t **out);

/* The version of the newest deployment or rollback; -ENOENT if none. */
int store_last_deployed(struct store *st, char id[STORE_ID_HEX + 1]);

/* A new array of the names of every known sensor (heartbeats or
 * deployment targets), sorted. */
int store_known_sensors(struct store *st, json_t **out);

/* The desired version of a sensor (its newest target row, else the
 * fleet's) and its engine id ("" if not known); -ENOENT if none.
 * STORE_FLEET asks for the fleet's only. */
int store_sensor_desired(struct store *st, const char *sensor, char id[STORE_ID_HEX + 1],
			 char engine[STORE_ENGINE_MAX + 1]);

/* One row of a sensor's deployment history. */
struct store_deploy_step {
	char kind[12];           /* "deploy" | "rollback" */
	char ruleset[STORE_ID_HEX + 1];
};

/* The sensor's (or STORE_FLEET's) target rows, oldest first; *out is
 * malloc'd (NULL when none). */
int store_sensor_history(struct store *st, const char *sensor, struct store_deploy_step **out,
			 size_t *n);

/* After a heartbeat: the reported configuration hash and load report
 * (JSON text); NULL stores NULL. */
int store_sensor_state_set(struct store *st, const char *name, const char *config_hash,
			   const char *load);

struct store_sensor_drift {
	char ruleset[129];       /* reported ("" none) */
	char config_hash[65];    /* reported ("" none) */
	char config_base[65];    /* the first one since its baseline ("" none) */
	int64_t rules_since;     /* mismatch seen since (STORE_NO_TIME: none) */
	int64_t last_seen;
};

/* -ENOENT if the sensor never sent a heartbeat. */
int store_sensor_drift_get(struct store *st, const char *name, struct store_sensor_drift *out);

/* config_base NULL or "" stores NULL; rules_since STORE_NO_TIME too. */
int store_sensor_drift_set(struct store *st, const char *name, const char *config_base,
			   int64_t rules_since);

/* A new array of the names of the sensors that sent a heartbeat. */
int store_sensor_names(struct store *st, json_t **out);

/* The sensor's row for the fleet view: {"last_seen", "running",
 * "config_hash", "load"} (JSON); -ENOENT if it never sent a heartbeat. */
int store_sensor_fleet_json(struct store *st, const char *name, json_t **out);

/* --- blocks (store_block.c): an incident's "block source" ---------- */

/* A block of PREFIX (canonical text) for INCIDENT until EXPIRES_AT
 * (STORE_NO_TIME: until lifted); its row id in *ID. */
int store_block_add(struct store *st, int64_t incident, const char *prefix, int64_t expires_at,
		    const char *reason, const char *user, int64_t now, int64_t *id);
/* Lifts the incident's active blocks of PREFIX (NULL: all of them), HOW
 * being "unblocked"; returns how many, their prefixes in *PREFIXES. */
int store_block_lift(struct store *st, int64_t incident, const char *prefix, const char *how,
		     const char *user, int64_t now, json_t **prefixes);
/* Marks the blocks expired by NOW; [{"id", "incident", "prefix"}] of them. */
int store_block_expire(struct store *st, int64_t now, json_t **out);
/* The src_ip of the incident's first alert into BUF; -ENOENT without. */
int store_incident_source(struct store *st, int64_t incident, char *buf, size_t len);
/* Active blocks at NOW (with "expires_in_s"), or ALL of them newest first. */
int store_blocks_json(struct store *st, int64_t now, bool all, int64_t limit, json_t **out);

#endif
