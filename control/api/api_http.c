/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP server: libmicrohttpd setup, routing, authentication, body
 * accumulation within the limits, replies, and the shared helpers of the
 * handlers (query parameters, transactions, events, audit).
 *
 * A request's life: the first callback (headers only) picks the route and
 * checks the token and role; what fails there (404, 405, 401, 403) is
 * answered after the upload is drained, like an oversized body (413), so a
 * client that writes its whole body before reading always gets the answer
 * rather than a reset.  The last callback parses the body and runs the
 * handler with the store lock held.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_priv.h"

static const struct api_route routes[] = {
	{ "GET", "/healthz", API_PERM_NONE, API_BODY_NONE, API_LIMIT_BODY, api_h_healthz },
	{ "GET", "/metrics", API_PERM_NONE, API_BODY_NONE, API_LIMIT_BODY, api_h_metrics },
	{ "POST", "/api/v1/ingest", API_PERM_SENSOR, API_BODY_INGEST, API_LIMIT_INGEST, api_h_ingest },
	{ "POST", "/api/v1/heartbeat", API_PERM_SENSOR, API_BODY_HEARTBEAT, API_LIMIT_BODY, api_h_heartbeat },
	{ "GET", "/api/v1/sensors", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_sensors },
	{ "GET", "/api/v1/alerts", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_alerts },
	{ "GET", "/api/v1/flows", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_flows },
	{ "GET", "/api/v1/incidents", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_incidents },
	{ "GET", "/api/v1/incidents/{id}", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_incident },
	{ "POST", "/api/v1/incidents/{id}/ack", API_PERM_RESPOND, API_BODY_ACK, API_LIMIT_BODY, api_h_ack },
	{ "POST", "/api/v1/incidents/{id}/assign", API_PERM_RESPOND, API_BODY_ASSIGN, API_LIMIT_BODY, api_h_assign },
	{ "POST", "/api/v1/incidents/{id}/note", API_PERM_RESPOND, API_BODY_NOTE, API_LIMIT_BODY, api_h_note },
	{ "POST", "/api/v1/incidents/{id}/status", API_PERM_RESPOND, API_BODY_STATUS, API_LIMIT_BODY, api_h_status },
	{ "POST", "/api/v1/incidents/{id}/block", API_PERM_RESPOND, API_BODY_BLOCK, API_LIMIT_BODY, api_h_block },
	{ "POST", "/api/v1/incidents/{id}/unblock", API_PERM_RESPOND, API_BODY_UNBLOCK, API_LIMIT_BODY, api_h_unblock },
	{ "GET", "/api/v1/blocks", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_blocks },
	{ "GET", "/api/v1/escalation", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_escalation_get },
	{ "PUT", "/api/v1/escalation", API_PERM_MANAGE, API_BODY_ESCALATION, API_LIMIT_BODY, api_h_escalation_put },
	{ "GET", "/api/v1/notify", API_PERM_ADMIN, API_BODY_NONE, API_LIMIT_BODY, api_h_notify_get },
	{ "PUT", "/api/v1/notify", API_PERM_ADMIN, API_BODY_NOTIFY, API_LIMIT_BODY, api_h_notify_put },
	{ "GET", "/api/v1/users", API_PERM_ADMIN, API_BODY_NONE, API_LIMIT_BODY, api_h_users_get },
	{ "POST", "/api/v1/users", API_PERM_ADMIN, API_BODY_USER, API_LIMIT_BODY, api_h_users_post },
	{ "POST", "/api/v1/users/{name}/tokens", API_PERM_ADMIN, API_BODY_NONE, API_LIMIT_BODY, api_h_token_create },
	{ "DELETE", "/api/v1/tokens/{id}", API_PERM_ADMIN, API_BODY_NONE, API_LIMIT_BODY, api_h_token_revoke },
	{ "GET", "/api/v1/audit", API_PERM_ADMIN, API_BODY_NONE, API_LIMIT_BODY, api_h_audit },
	{ "POST", "/api/v1/tick", API_PERM_ADMIN, API_BODY_NONE, API_LIMIT_BODY, api_h_tick },
	{ "POST", "/api/v1/rulesets", API_PERM_AUTHOR, API_BODY_RULESET, API_LIMIT_RULESET, api_h_ruleset_submit },
	{ "GET", "/api/v1/rulesets", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_rulesets },
	{ "GET", "/api/v1/rulesets/{name}", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_ruleset },
	{ "GET", "/api/v1/rulesets/{name}/content", API_PERM_READ, API_BODY_NONE, API_LIMIT_BODY,
	  api_h_ruleset_content },
	{ "GET", "/api/v1/rulesets/{name}/diff", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_ruleset_diff },
	{ "POST", "/api/v1/rulesets/{name}/edit", API_PERM_AUTHOR, API_BODY_RULE_EDIT, API_LIMIT_BODY,
	  api_h_ruleset_edit },
	{ "POST", "/api/v1/rulesets/{name}/validate", API_PERM_AUTHOR, API_BODY_NONE, API_LIMIT_BODY,
	  api_h_ruleset_validate },
	{ "POST", "/api/v1/rulesets/{name}/approve", API_PERM_APPROVE, API_BODY_APPROVE, API_LIMIT_BODY,
	  api_h_ruleset_approve },
	{ "POST", "/api/v1/rulesets/{name}/reject", API_PERM_APPROVE, API_BODY_REJECT, API_LIMIT_BODY,
	  api_h_ruleset_reject },
	{ "POST", "/api/v1/deployments", API_PERM_MANAGE, API_BODY_DEPLOY, API_LIMIT_BODY, api_h_deploy },
	{ "POST", "/api/v1/deployments/rollback", API_PERM_MANAGE, API_BODY_ROLLBACK, API_LIMIT_BODY,
	  api_h_rollback },
	{ "GET", "/api/v1/deployments", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_deployments },
	{ "GET", "/api/v1/fleet", API_PERM_VIEW, API_BODY_NONE, API_LIMIT_BODY, api_h_fleet },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

bool api_role_may(enum api_role role, enum api_perm perm)
{
	switch (perm) {
	case API_PERM_NONE:
		return true;
	case API_PERM_SENSOR:
		return role == API_ROLE_SENSOR || role == API_ROLE_ADMIN;
	case API_PERM_VIEW:
		return role != API_ROLE_SENSOR && role < API_ROLE_N;
	case API_PERM_RESPOND:
		return role == API_ROLE_RESPONDER || role == API_ROLE_INCIDENT_MANAGER ||
		       role == API_ROLE_ADMIN;
	case API_PERM_MANAGE:
		return role == API_ROLE_INCIDENT_MANAGER || role == API_ROLE_ADMIN;
	case API_PERM_ADMIN:
		return role == API_ROLE_ADMIN;
	case API_PERM_AUTHOR:
		return role == API_ROLE_RULE_AUTHOR || role == API_ROLE_ADMIN;
	case API_PERM_APPROVE:
		return role == API_ROLE_RULE_APPROVER || role == API_ROLE_ADMIN;
	case API_PERM_READ:
		return role < API_ROLE_N;
	}
	return false;
}

void api_config_default(struct api_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = "127.0.0.1:8470";
	c->max_body = 1u << 20;
	c->max_ingest_body = 8u << 20;
	c->max_ruleset_body = 96u << 20;
	c->max_discard = 64u << 20;
	c->default_limit = 100;
	c->max_limit = 10000;
	c->connection_limit = 256;
	c->connection_timeout_s = 30;
	incident_cfg_default(&c->incident);
}

/* --- replies ---------------------------------------------------------- */

void api_reply_text(struct api_req *rq, unsigned status, char *text, size_t len, const char *ctype)
{
	free(rq->resp);
	rq->status = status;
	rq->resp = text;
	rq->resp_len = len;
	rq->ctype = ctype;
}

void api_reply_json(struct api_req *rq, unsigned status, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY) : NULL, *t;
	size_t n;

	json_decref(o);
	if (!s) {
		static const char oom[] = "{\"error\":\"out of memory\"}\n";
		t = strdup(oom);
		api_reply_text(rq, 500, t, t ? strlen(t) : 0, "application/json");
		return;
	}
	n = strlen(s);
	t = realloc(s, n + 2);    /* a final newline, for terminals */
	if (t) {
		s = t;
		s[n++] = '\n';
		s[n] = '\0';
	}
	api_reply_text(rq, status, s, n, "application/json");
}

void api_reply_error(struct api_req *rq, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_reply_json(rq, status, json_pack("{s:s}", "error", msg));
}

void api_reply_errno(struct api_req *rq, int err, const char *what)
{
	switch (-err) {
	case ENOENT:
		api_reply_error(rq, 404, "%s: not found", what);
		break;
	case EPERM:
		api_reply_error(rq, 409, "%s: not allowed in the current state", what);
		break;
	case EEXIST:
		api_reply_error(rq, 409, "%s: already exists", what);
		break;
	case EALREADY:
		api_reply_error(rq, 409, "%s: already done", what);
		break;
	case EBUSY:
		api_reply_error(rq, 503, "%s: database busy, retry", what);
		break;
	default:
		fprintf(stderr, "api: %s: %s\n", what, strerror(-err));
		api_reply_error(rq, 500, "%s: %s", what, strerror(-err));
		break;
	}
}

/* --- query parameters ------------------------------------------------- */

struct qcheck {
	const char *const *known;
	const char *bad;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct qcheck *q = cls;

	(void)kind;
	(void)value;
	for (const char *const *k = q->known; *k; k++)
		if (strcmp(*k, key) == 0)
			return MHD_YES;
	q->bad = key;
	return MHD_NO;
}

bool api_query_check(struct api_req *rq, const char *const *known)
{
	struct qcheck q = { known, NULL };

	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, check_arg, &q);
	if (q.bad) {
		api_reply_error(rq, 400, "%.64s: unknown parameter", q.bad);
		return false;
	}
	return true;
}

const char *api_query_str(struct api_req *rq, const char *name)
{
	const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);

	return v && *v ? v : NULL;
}

bool api_query_int(struct api_req *rq, const char *name, int64_t min, int64_t max, int64_t def,
		   int64_t *out)
{
	const char *v = api_query_str(rq, name);
	char *end;
	long long x;

	*out = def;
	if (!v)
		return true;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || *end || end == v || x < min || x > max) {
		api_reply_error(rq, 400, "%s: expected an integer between %lld and %lld", name,
				(long long)min, (long long)max);
		return false;
	}
	*out = x;
	return true;
}

/* --- transactions, events, audit -------------------------------------- */

int api_begin(struct api_server *srv)
{
	incident_events_clear(&srv->evs);
	return store_begin(srv->cfg.store);
}

static void on_event(void *arg, const struct incident_event *ev)
{
	struct api_server *srv = arg;

	if (strcmp(ev->event, "opened") == 0 && !ev->reopen) {
		const char *kind = json_string_value(json_object_get(ev->incident, "kind"));
		enum api_ctr c = !kind ? API_CTR_OPENED_ALERT :
				 strcmp(kind, "blind_spot") == 0 ? API_CTR_OPENED_BLIND :
				 strcmp(kind, "drift") == 0 ? API_CTR_OPENED_DRIFT : API_CTR_OPENED_ALERT;
		atomic_fetch_add(&srv->ctr[c], 1);
	} else if (strcmp(ev->event, "escalated") == 0) {
		atomic_fetch_add(&srv->ctr[API_CTR_ESCALATIONS], 1);
	}
	if (srv->cfg.sink.on_event)
		srv->cfg.sink.on_event(srv->cfg.sink.arg, ev);
}

void api_emit(struct api_server *srv)
{
	struct incident_sink s = { on_event, srv };

	incident_events_emit(srv->cfg.store, &srv->evs, &s);
}

int api_commit_emit(struct api_server *srv, int err)
{
	if (!err)
		err = store_commit(srv->cfg.store);
	if (err) {
		store_rollback(srv->cfg.store);
		incident_events_clear(&srv->evs);
		return err;
	}
	api_emit(srv);
	return 0;
}

int api_audit(struct api_server *srv, struct api_req *rq, const char *action, const char *object,
	      const char *detail)
{
	return store_audit_add(srv->cfg.store, rq->now, rq->user, action, object, detail);
}

int api_tick_locked(struct api_server *srv, int64_t now, int *escalated, int *blind_spots, int *drift)
{
	struct store *st = srv->cfg.store;
	int e = 0, b = 0, d = 0, err;

	err = api_begin(srv);
	if (!err) {
		e = incident_escalate_due(st, now, &srv->evs);
		b = e < 0 ? 0 : incident_blind_spots_due(st, &srv->cfg.incident, now, &srv->evs);
		d = e < 0 || b < 0 ? 0 : incident_drift_due(st, &srv->cfg.incident, now, &srv->evs);
		err = e < 0 ? e : b < 0 ? b : d < 0 ? d : 0;
		if (!err) {
			int x = api_blocks_expire(srv, now);
			err = x < 0 ? x : 0;
		}
	}
	err = api_commit_emit(srv, err);
	atomic_fetch_add(&srv->ctr[API_CTR_TICKS], 1);
	if (escalated)
		*escalated = err ? 0 : e;
	if (blind_spots)
		*blind_spots = err ? 0 : b;
	if (drift)
		*drift = err ? 0 : d;
	return err;
}

int api_tick(struct api_server *srv, int *escalated, int *blind_spots)
{
	int err;

	store_lock(srv->cfg.store);
	err = api_tick_locked(srv, srv->cfg.now(srv->cfg.now_arg), escalated, blind_spots, NULL);
	store_unlock(srv->cfg.store);
	return err;
}

int api_notify_result(struct api_server *srv, int64_t incident_id, const char *event,
		      const char *target, bool ok, const char *why)
{
	struct store *st = srv->cfg.store;
	int err;

	atomic_fetch_add(&srv->ctr[ok ? API_CTR_NOTIFY_SENT : API_CTR_NOTIFY_FAILED], 1);
	store_lock(st);
	err = store_begin(st);
	if (!err)
		err = incident_notified(st, incident_id, event, target, ok, why,
					srv->cfg.now(srv->cfg.now_arg));
	if (!err)
		err = store_commit(st);
	if (err)
		store_rollback(st);
	store_unlock(st);
	return err;
}

/* --- routing and auth ------------------------------------------------- */

/* Matches url against pattern, filling the captures of rq. */
static bool match(const char *pattern, const char *url, struct api_req *rq)
{
	const char *p = pattern, *u = url;

	while (*p && *u) {
		if (*p == '{') {
			bool num = strncmp(p, "{id}", 4) == 0;
			size_t n = strcspn(u, "/");
			p = strchr(p, '}') + 1;
			if (n == 0 || n >= sizeof(rq->name))
				return false;
			if (num) {
				char *end;
				errno = 0;
				long long v = strtoll(u, &end, 10);
				if (errno || end != u + n || v <= 0 || u[0] == '+' || u[0] == '-')
					return false;
				rq->id = v;
			} else {
				memcpy(rq->name, u, n);
				rq->name[n] = '\0';
			}
			u += n;
			continue;
		}
		if (*p++ != *u++)
			return false;
	}
	return *p == '\0' && *u == '\0';
}

static void early(struct api_req *rq, unsigned status, const char *msg)
{
	rq->early_status = status;
	snprintf(rq->early_msg, sizeof(rq->early_msg), "%s", msg);
}

static void route_and_auth(struct api_server *srv, struct api_req *rq, const char *url,
			   const char *method)
{
	const char *auth, *tok;
	uint8_t hash[STORE_HASH_LEN];
	char role[32];
	size_t n = 0;
	int err;

	for (size_t i = 0; i < N_ROUTES; i++) {
		if (!match(routes[i].pattern, url, rq))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			rq->route = &routes[i];
			break;
		}
		n += (size_t)snprintf(rq->allow + n, sizeof(rq->allow) - n, "%s%s", n ? ", " : "",
				      routes[i].method);
	}
	if (!rq->route) {
		if (n)
			early(rq, 405, "method not allowed");
		else
			early(rq, 404, "no such endpoint");
		return;
	}
	rq->limit = rq->route->limit == API_LIMIT_INGEST ? srv->cfg.max_ingest_body :
		    rq->route->limit == API_LIMIT_RULESET ? srv->cfg.max_ruleset_body : srv->cfg.max_body;
	if (rq->route->perm == API_PERM_NONE)
		return;
	auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!auth) {
		early(rq, 401, "missing token (Authorization: Bearer TOKEN)");
		return;
	}
	if (strncasecmp(auth, "Bearer ", 7) != 0) {
		early(rq, 401, "expected Authorization: Bearer TOKEN");
		return;
	}
	for (tok = auth + 7; *tok == ' '; tok++)
		;
	store_token_hash(tok, strlen(tok), hash);
	store_lock(srv->cfg.store);
	err = store_token_lookup(srv->cfg.store, hash, rq->user, sizeof(rq->user), role, sizeof(role));
	store_unlock(srv->cfg.store);
	if (err == -ENOENT) {
		early(rq, 401, "unknown or revoked token");
		return;
	}
	if (err || api_role_parse(role, &rq->role) != 0) {
		early(rq, 500, "cannot check the token");
		return;
	}
	if (!api_role_may(rq->role, rq->route->perm))
		early(rq, 403, "this role may not do that");
}

/* --- the libmicrohttpd callbacks -------------------------------------- */

static void handle(struct api_server *srv, struct api_req *rq)
{
	char err[300];
	int rc;

	if (rq->early_status) {
		api_reply_error(rq, rq->early_status, "%s", rq->early_msg);
		return;
	}
	if (rq->too_big) {
		api_reply_error(rq, 413, "body: larger than %zu bytes", rq->limit);
		return;
	}
	rc = api_body_parse(&rq->b, rq->route->body, rq->body ? rq->body : "", rq->len, err,
			    sizeof(err));
	if (rc == -EINVAL || rc == -EFBIG) {
		api_reply_error(rq, rc == -EFBIG ? 413 : 400, "%s", err);
		return;
	}
	if (rc) {
		api_reply_error(rq, 500, "out of memory");
		return;
	}
	store_lock(srv->cfg.store);
	rq->now = srv->cfg.now(srv->cfg.now_arg);
	rq->route->fn(srv, rq);
	store_unlock(srv->cfg.store);
	api_body_fini(&rq->b);
	if (!rq->status)
		api_reply_error(rq, 500, "no answer");
}

static enum MHD_Result respond(struct api_server *srv, struct api_req *rq)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(rq->resp_len, rq->resp, MHD_RESPMEM_MUST_FREE);
	if (!r)
		return MHD_NO;
	rq->resp = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rq->ctype);
	if (rq->status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rq->allow);
	if (rq->status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ok = MHD_queue_response(rq->conn, rq->status, r);
	MHD_destroy_response(r);
	atomic_fetch_add(&srv->by_code[rq->status < API_MAX_CODE ? rq->status : 0], 1);
	return ok;
}

/* Appends upload data within the limit; past it the body is dropped and
 * the rest only counted. */
static enum MHD_Result upload(struct api_server *srv, struct api_req *rq, const char *data,
			      size_t n)
{
	bool keep = !rq->early_status && !rq->too_big && rq->route->body != API_BODY_NONE;

	if (keep && n > rq->limit - rq->len) {
		rq->too_big = true;
		rq->discarded = rq->len;
		free(rq->body);
		rq->body = NULL;
		rq->len = rq->cap = 0;
		keep = false;
	}
	if (!keep) {
		rq->discarded += n;
		return rq->discarded > srv->cfg.max_discard ? MHD_NO : MHD_YES;
	}
	if (rq->len + n + 1 > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 4096;
		while (cap < rq->len + n + 1)
			cap *= 2;
		char *b = realloc(rq->body, cap);
		if (!b)
			return MHD_NO;
		rq->body = b;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct api_server *srv = cls;
	struct api_req *rq = *con_cls;
	size_t n;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->conn = conn;
		*con_cls = rq;
		route_and_auth(srv, rq, url, method);
		return MHD_YES;
	}
	if (*data_size) {
		n = *data_size;
		*data_size = 0;
		return upload(srv, rq, data, n);
	}
	handle(srv, rq);
	return respond(srv, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!rq)
		return;
	api_body_fini(&rq->b);
	free(rq->body);
	free(rq->resp);
	free(rq);
	*con_cls = NULL;
}

/* --- setup ------------------------------------------------------------ */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (1 << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *ai;
	size_t n;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - listen - 1);
		port = end + 2;
		if (n >= sizeof(host))
			return -EINVAL;
		memcpy(host, listen + 1, n);
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - listen);
		port = colon + 1;
		if (n >= sizeof(host))
			return -EINVAL;
		memcpy(host, listen, n);
	}
	host[n] = '\0';
	if (!*port || strspn(port, "0123456789") != strlen(port) || atol(port) > 65535)
		return -EINVAL;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

int api_server_create(const struct api_config *cfg, struct api_server **out)
{
	struct api_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	int err;

	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	incident_events_init(&srv->evs);
	if (parse_listen(cfg->listen, &ss) != 0) {
		fprintf(stderr, "vigil-control: --listen %s: expected HOST:PORT or [IPV6]:PORT\n", cfg->listen);
		err = -EINVAL;
		goto fail;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (!!cfg->tls_cert != !!cfg->tls_key) {
		fprintf(stderr, "vigil-control: --tls-cert and --tls-key go together\n");
		err = -EINVAL;
		goto fail;
	}
	if (cfg->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			fprintf(stderr, "vigil-control: this libmicrohttpd was built without TLS; "
				"serve plain HTTP on loopback behind a TLS proxy instead\n");
			err = -ENOTSUP;
			goto fail;
		}
		srv->tls_cert = slurp(cfg->tls_cert);
		srv->tls_key = slurp(cfg->tls_key);
		if (!srv->tls_cert || !srv->tls_key) {
			fprintf(stderr, "vigil-control: cannot read %s\n", srv->tls_cert ? cfg->tls_key : cfg->tls_cert);
			err = -EINVAL;
			goto fail;
		}
		flags |= MHD_USE_TLS;
	}
	if (srv->tls_cert)
		srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
			MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit,
			MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
			MHD_OPTION_HTTPS_MEM_CERT, srv->tls_cert,
			MHD_OPTION_HTTPS_MEM_KEY, srv->tls_key,
			MHD_OPTION_END);
	else
		srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
			MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit,
			MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
			MHD_OPTION_END);
	if (!srv->mhd) {
		fprintf(stderr, "vigil-control: cannot listen on %s%s\n", cfg->listen,
			cfg->tls_cert ? " (or the TLS certificate/key is invalid)" : "");
		err = -EADDRNOTAVAIL;
		goto fail;
	}
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	*out = srv;
	return 0;
fail:
	api_server_destroy(srv);
	return err;
}

unsigned api_server_port(const struct api_server *srv)
{
	return srv->port;
}

void api_server_destroy(struct api_server *srv)
{
	if (!srv)
		return;
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	incident_events_fini(&srv->evs);
	free(srv->tls_cert);
	free(srv->tls_key);
	free(srv);
}
