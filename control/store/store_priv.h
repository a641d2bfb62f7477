/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the store: the connection, the prepared-statement cache and the
 * helpers every store_*.c file uses.  Not for other modules.
 */
#ifndef VIGIL_STORE_PRIV_H
#define VIGIL_STORE_PRIV_H

#include <pthread.h>
#include <sqlite3.h>

#include "store.h"

#define STORE_STMT_SLOTS 160

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;
	/* Prepared statements keyed by the address of their SQL text (each
	 * call site's static const string), prepared once, kept for the life
	 * of the connection. */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STORE_STMT_SLOTS];
};

/* The cached statement for sql (a string with static storage), reset and
 * with its bindings cleared; NULL on error (logged). */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);

/* Converts a SQLite result code to -errno, logging unexpected ones. */
int store_err(struct store *st, int rc);

/* Runs a cached statement that returns no rows; 0 or -errno. */
int store_step_done(struct store *st, sqlite3_stmt *s);
/* The one integer a parameterless query answers (e.g. a count) in *OUT;
 * SQL must be static, as for store_stmt() (its statement is cached). */
int store_scalar(struct store *st, const char *sql, int64_t *out);

/* Binds: text (NULL binds SQL NULL), int64 (< 0 binds NULL when
 * null_if_negative), time (STORE_NO_TIME binds NULL). */
int store_bind_text(sqlite3_stmt *s, int i, const char *v);
int store_bind_opt_int(sqlite3_stmt *s, int i, int64_t v);
int store_bind_time(sqlite3_stmt *s, int i, int64_t v);

/* A column as a time (NULL: STORE_NO_TIME) or copied text ("" for NULL). */
int64_t store_col_time(sqlite3_stmt *s, int i);
void store_col_text(sqlite3_stmt *s, int i, char *dst, size_t len);

/* Bits for store_rows_json(): which columns hold JSON text, skip nulls. */
#define STORE_JSON_COL(i) (1ull << (i))

/* Steps s to the end, appending one object per row (keys: column names;
 * INTEGER, REAL, TEXT, NULL mapped to JSON; columns in json_cols parsed as
 * JSON text; NULL columns left out when skip_null).  Returns a new array
 * in *out. */
int store_rows_json(struct store *st, sqlite3_stmt *s, uint64_t json_cols, bool skip_null,
		    json_t **out);

/* The SQL expression of a time column as RFC 3339 UTC text. */
#define STORE_RFC3339(col) "strftime('%Y-%m-%dT%H:%M:%SZ', " col ", 'unixepoch')"

/* The ALERT columns (alias a for alerts), in contract order. */
#define STORE_ALERT_COLS \
	"a.id, a.sensor, a.ts, a.sid, a.gid, a.rev, a.signature, a.category, a.severity, " \
	"a.action, a.ruleset, a.src_ip, a.src_port, a.dest_ip, a.dest_port, a.proto, " \
	"a.flow_id, a.payload, a.incident_id AS incident"

/* The FLOW columns (alias f for flows), in contract order, without
 * "type" and with "sensor". */
#define STORE_FLOW_COLS \
	"f.id, f.sensor, f.flow_id, f.start, f.\"end\" AS \"end\", f.src_ip, f.src_port, " \
	"f.dest_ip, f.dest_port, f.proto, f.pkts_toserver, f.pkts_toclient, f.bytes_toserver, " \
	"f.bytes_toclient, f.state, f.reason"

#endif
