/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the API: the server, one request, the route table, replies,
 * metrics.  Handlers run on libmicrohttpd's polling thread with the
 * store lock held and answer through api_reply_*().
 */
#ifndef VIGIL_API_PRIV_H
#define VIGIL_API_PRIV_H

#include <stdatomic.h>

#include <microhttpd.h>

#include "api.h"
#include "api_parse.h"

/* What a route needs, checked by api_role_may(). */
enum api_perm {
	API_PERM_NONE,          /* no token needed */
	API_PERM_SENSOR,        /* sensor (and admin) */
	API_PERM_VIEW,          /* every role but sensor */
	API_PERM_RESPOND,       /* responder, incident_manager, admin */
	API_PERM_MANAGE,        /* incident_manager, admin */
	API_PERM_ADMIN,
	API_PERM_AUTHOR,        /* rule_author, admin */
	API_PERM_APPROVE,       /* rule_approver, admin */
	API_PERM_READ,          /* every role, sensor too (a ruleset's content) */
};

bool api_role_may(enum api_role role, enum api_perm perm);

/* Counters (monotonic, process lifetime): one table of name, label and
 * help text from which /metrics is written. */
enum api_ctr {
	API_CTR_ALERTS,
	API_CTR_DUPLICATES,
	API_CTR_FLOWS,
	API_CTR_FLOW_DUPLICATES,
	API_CTR_OPENED_ALERT,
	API_CTR_OPENED_BLIND,
	API_CTR_OPENED_DRIFT,
	API_CTR_ESCALATIONS,
	API_CTR_NOTIFY_SENT,
	API_CTR_NOTIFY_FAILED,
	API_CTR_HEARTBEATS,
	API_CTR_TICKS,
	API_CTR_DEPLOYMENTS,
	API_CTR_N,
};

struct api_ctr_desc {
	const char *name, *label, *help;
};

extern const struct api_ctr_desc api_ctr_descs[API_CTR_N];

#define API_MAX_CODE 600

struct api_server {
	struct api_config cfg;
	struct MHD_Daemon *mhd;
	char *tls_cert, *tls_key;       /* PEM text */
	unsigned port;
	struct incident_events evs;     /* filled and emitted under the store lock */
	atomic_uint_fast64_t ctr[API_CTR_N];
	atomic_uint_fast64_t by_code[API_MAX_CODE];
};

struct api_req;
typedef void api_handler_fn(struct api_server *srv, struct api_req *rq);

/* Which body limit a route has. */
enum api_limit {
	API_LIMIT_BODY,         /* max_body */
	API_LIMIT_INGEST,       /* max_ingest_body */
	API_LIMIT_RULESET,      /* max_ruleset_body */
};

struct api_route {
	const char *method;
	const char *pattern;    /* "/api/v1/incidents/{id}/ack": {id} a positive integer,
				 * {name} any segment */
	enum api_perm perm;
	enum api_body_kind body;
	enum api_limit limit;
	api_handler_fn *fn;
};

struct api_req {
	struct MHD_Connection *conn;
	const struct api_route *route;
	int64_t id;                     /* the {id} capture */
	char name[STORE_NAME_MAX + 8];  /* the {name} capture */
	char user[STORE_NAME_MAX + 1];  /* authenticated user */
	enum api_role role;
	int64_t now;                    /* the clock when the request was handled */

	/* decided from the headers: answered once the upload is drained */
	unsigned early_status;
	char early_msg[160];
	char allow[64];                 /* for 405 */

	char *body;
	size_t len, cap, limit, discarded;
	bool too_big;
	struct api_body b;              /* the parsed body */

	unsigned status;
	char *resp;                     /* malloc'd */
	size_t resp_len;
	const char *ctype;
};

/* Answers (each sets the response; the last call wins).  api_reply_json()
 * takes the reference to o (NULL: 500). */
void api_reply_json(struct api_req *rq, unsigned status, json_t *o);
void api_reply_error(struct api_req *rq, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void api_reply_text(struct api_req *rq, unsigned status, char *text, size_t len, const char *ctype);

/* Maps -errno from store/incident to an HTTP answer (ENOENT 404, EPERM and
 * EEXIST and EALREADY 409, else 500 and logged) with "what: reason". */
void api_reply_errno(struct api_req *rq, int err, const char *what);

/* Query parameters.  api_query_check(): 400 naming any parameter not in
 * the NULL-terminated list (returns false).  api_query_int(): the value in
 * [min, max] or def when absent; false after a 400. */
bool api_query_check(struct api_req *rq, const char *const *known);
bool api_query_int(struct api_req *rq, const char *name, int64_t min, int64_t max, int64_t def,
		   int64_t *out);
const char *api_query_str(struct api_req *rq, const char *name);

/* Runs the caller's change through a transaction:
 * api_begin(); ...; api_commit_emit() commits and emits srv->evs, or rolls
 * back and discards them on error. */
int api_begin(struct api_server *srv);
int api_commit_emit(struct api_server *srv, int err);

/* An audit entry by the request's user. */
int api_audit(struct api_server *srv, struct api_req *rq, const char *action, const char *object,
	      const char *detail);

/* api_tick() for a caller that holds the store lock (POST /api/v1/tick);
 * drift: how many drift incidents are open after the evaluation. */
int api_tick_locked(struct api_server *srv, int64_t now, int *escalated, int *blind_spots, int *drift);

/* The full id of the version rq names by id or prefix in `what` (the
 * path's {name} or a body field, named in the messages); false after
 * answering 400 (not 8 to 64 hex digits), 404 or 409 (ambiguous). */
bool api_ruleset_resolve(struct api_server *srv, struct api_req *rq, const char *prefix,
			 const char *field, char id[STORE_ID_HEX + 1]);

/* 400 naming any query parameter (none expected); false after answering. */
bool api_no_params(struct api_req *rq);

/* Emits the queued events through the sink, counting openings and
 * escalations. */
void api_emit(struct api_server *srv);

/* Handlers (api_ingest.c, api_incidents.c, api_admin.c, api_metrics.c). */
api_handler_fn api_h_healthz, api_h_metrics;
api_handler_fn api_h_ingest, api_h_heartbeat, api_h_sensors, api_h_alerts, api_h_flows;
api_handler_fn api_h_incidents, api_h_incident, api_h_ack, api_h_assign, api_h_note, api_h_status;
api_handler_fn api_h_escalation_get, api_h_escalation_put, api_h_notify_get, api_h_notify_put;
api_handler_fn api_h_users_get, api_h_users_post, api_h_token_create, api_h_token_revoke;
api_handler_fn api_h_audit, api_h_tick;
/* Rule change management (api_rules.c, api_deploy.c). */
api_handler_fn api_h_ruleset_submit, api_h_rulesets, api_h_ruleset, api_h_ruleset_content;
api_handler_fn api_h_ruleset_diff, api_h_ruleset_edit, api_h_ruleset_validate;
api_handler_fn api_h_ruleset_approve, api_h_ruleset_reject;
api_handler_fn api_h_deploy, api_h_rollback, api_h_deployments, api_h_fleet;
api_handler_fn api_h_block, api_h_unblock, api_h_blocks;
/* api_block.c: expiry (timeline entries; in the caller's transaction) and
 * the blocklist heartbeat answers carry. */
int api_blocks_expire(struct api_server *srv, int64_t now);
json_t *api_blocklist(struct api_server *srv, int64_t now, int *err);

/* The heartbeat answer's "ruleset" for a sensor that reported `running`
 * (NULL: nothing): a new object, or NULL when it runs its baseline or has
 * none (api_deploy.c).  -errno in *err. */
json_t *api_heartbeat_ruleset(struct api_server *srv, const char *sensor, const char *running, int *err);

#endif
