/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Incidents: list, detail, and the responder's workflow (ack, assign,
 * note, status).  Every change answers with the incident as it now is.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api_priv.h"

void api_h_incidents(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { "status", "severity", "limit", NULL };
	enum incident_status s;
	const char *status;
	int64_t sev, limit;
	json_t *arr;
	int err;

	if (!api_query_check(rq, known) || !api_query_int(rq, "severity", 1, 255, -1, &sev) ||
	    !api_query_int(rq, "limit", 1, srv->cfg.max_limit, srv->cfg.default_limit, &limit))
		return;
	status = api_query_str(rq, "status");
	if (status && incident_status_parse(status, &s) != 0) {
		api_reply_error(rq, 400, "status: must be one of open, acknowledged, investigating, "
				"mitigated, resolved, closed");
		return;
	}
	err = store_incidents_json(srv->cfg.store, status, sev, limit, &arr);
	if (err)
		api_reply_errno(rq, err, "incidents");
	else
		api_reply_json(rq, 200, arr);
}

void api_h_incident(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { NULL };
	char what[48];
	json_t *o;
	int err;

	if (!api_query_check(rq, known))
		return;
	snprintf(what, sizeof(what), "incident %lld", (long long)rq->id);
	err = store_incident_detail_json(srv->cfg.store, rq->id, &o);
	if (err)
		api_reply_errno(rq, err, what);
	else
		api_reply_json(rq, 200, o);
}

/* Commits (or rolls back) the change and answers with the incident. */
static void finish(struct api_server *srv, struct api_req *rq, int err, const char *what)
{
	json_t *o;

	err = api_commit_emit(srv, err);
	if (!err)
		err = store_incident_json(srv->cfg.store, rq->id, &o);
	if (err)
		api_reply_errno(rq, err, what);
	else
		api_reply_json(rq, 200, o);
}

static void change_status(struct api_server *srv, struct api_req *rq, enum incident_status to,
			  const char *reason)
{
	struct store_incident inc;
	enum incident_status from;
	char what[48];
	int err;

	snprintf(what, sizeof(what), "incident %lld", (long long)rq->id);
	err = store_incident_get(srv->cfg.store, rq->id, &inc);
	if (err) {
		api_reply_errno(rq, err, what);
		return;
	}
	if (incident_status_parse(inc.status, &from) != 0) {
		api_reply_errno(rq, -EIO, what);
		return;
	}
	if (incident_transition_privileged(from, to) &&
	    !api_role_may(rq->role, API_PERM_MANAGE)) {
		api_reply_error(rq, 403, "status: %s needs the incident_manager role",
				to == INCIDENT_CLOSED ? "closing" : "reopening");
		return;
	}
	if (!incident_transition_allowed(from, to)) {
		api_reply_error(rq, 409, "status: illegal transition %s -> %s",
				incident_status_name(from), incident_status_name(to));
		return;
	}
	err = api_begin(srv);
	if (!err)
		err = incident_set_status(srv->cfg.store, rq->id, to, rq->user, reason, rq->now,
					  &srv->evs);
	finish(srv, rq, err, what);
}

void api_h_ack(struct api_server *srv, struct api_req *rq)
{
	change_status(srv, rq, INCIDENT_ACKNOWLEDGED, NULL);
}

void api_h_status(struct api_server *srv, struct api_req *rq)
{
	enum incident_status to;

	if (incident_status_parse(rq->b.u.status.status, &to) != 0) {
		api_reply_error(rq, 400, "status: unknown");
		return;
	}
	change_status(srv, rq, to, rq->b.u.status.reason);
}

void api_h_assign(struct api_server *srv, struct api_req *rq)
{
	char role[32], what[48];
	int err;

	snprintf(what, sizeof(what), "incident %lld", (long long)rq->id);
	err = store_user_role(srv->cfg.store, rq->b.u.assign.assignee, role, sizeof(role));
	if (err == -ENOENT) {
		api_reply_error(rq, 400, "assignee: no such user \"%s\"", rq->b.u.assign.assignee);
		return;
	}
	err = err ? err : api_begin(srv);
	if (!err)
		err = incident_assign(srv->cfg.store, rq->id, rq->b.u.assign.assignee, rq->user, rq->now);
	finish(srv, rq, err, what);
}

void api_h_note(struct api_server *srv, struct api_req *rq)
{
	char what[48];
	int err = api_begin(srv);

	snprintf(what, sizeof(what), "incident %lld", (long long)rq->id);
	if (!err)
		err = incident_note(srv->cfg.store, rq->id, rq->b.u.note.text, rq->user, rq->now);
	finish(srv, rq, err, what);
}
