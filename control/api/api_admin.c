/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Administration: users, tokens, the audit log, notification targets, the
 * escalation policy, and the on-demand evaluation (tick).  Every change
 * is audited in the same transaction as the change.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api_priv.h"

bool api_no_params(struct api_req *rq)
{
	static const char *const known[] = { NULL };

	return api_query_check(rq, known);
}


/* Answers with a fresh listing, or the error. */
static void reply_list(struct api_req *rq, unsigned status, int err, json_t **arr, const char *what)
{
	if (err)
		api_reply_errno(rq, err, what);
	else
		api_reply_json(rq, status, *arr);
}

void api_h_escalation_get(struct api_server *srv, struct api_req *rq)
{
	json_t *arr = NULL;

	if (api_no_params(rq))
		reply_list(rq, 200, store_policies_json(srv->cfg.store, &arr), &arr, "escalation");
}

void api_h_escalation_put(struct api_server *srv, struct api_req *rq)
{
	char detail[256];
	size_t n = 0;
	json_t *arr = NULL;
	int err;

	if (!api_no_params(rq))
		return;
	detail[0] = '\0';
	for (size_t i = 0; i < rq->b.u.escalation.n && n < sizeof(detail); i++) {
		const struct store_policy *p = &rq->b.u.escalation.v[i];
		n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%ssev %lld: %lld s %s",
				      i ? "; " : "", (long long)p->severity, (long long)p->ack_within_s,
				      p->tiers);
	}
	err = api_begin(srv);
	if (!err)
		err = store_policies_replace(srv->cfg.store, rq->b.u.escalation.v, rq->b.u.escalation.n);
	if (!err)
		err = api_audit(srv, rq, "escalation.set", "escalation", n ? detail : "(none)");
	err = api_commit_emit(srv, err);
	if (!err)
		err = store_policies_json(srv->cfg.store, &arr);
	reply_list(rq, 200, err, &arr, "escalation");
}

void api_h_notify_get(struct api_server *srv, struct api_req *rq)
{
	json_t *arr = NULL;

	if (api_no_params(rq))
		reply_list(rq, 200, store_targets_json(srv->cfg.store, &arr), &arr, "notify");
}

void api_h_notify_put(struct api_server *srv, struct api_req *rq)
{
	const struct api_targets_hook *hook = &srv->cfg.targets;
	const struct store_target *v = rq->b.u.notify.v;
	size_t nv = rq->b.u.notify.n;
	char detail[256], msg[256];
	size_t n = 0;
	json_t *arr = NULL;
	int err;

	if (!api_no_params(rq))
		return;
	/* the notifier's own check (e.g. a URL libcurl cannot parse): a target
	 * it would refuse is never stored */
	if (hook->check && hook->check(hook->arg, v, nv, msg, sizeof(msg)) != 0) {
		api_reply_error(rq, 400, "%s", msg);
		return;
	}
	/* names and types only: routing keys are secrets */
	detail[0] = '\0';
	for (size_t i = 0; i < nv && n < sizeof(detail); i++)
		n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s%s (%s)", i ? ", " : "",
				      v[i].name, v[i].type);
	err = api_begin(srv);
	if (!err)
		err = store_targets_replace(srv->cfg.store, v, nv);
	if (!err)
		err = api_audit(srv, rq, "notify.set", "notify", n ? detail : "(none)");
	err = api_commit_emit(srv, err);
	/* only a committed set reaches the notifier: it follows the database */
	if (!err && hook->apply)
		hook->apply(hook->arg, v, nv);
	if (!err)
		err = store_targets_json(srv->cfg.store, &arr);
	reply_list(rq, 200, err, &arr, "notify");
}

void api_h_users_get(struct api_server *srv, struct api_req *rq)
{
	json_t *arr = NULL;

	if (api_no_params(rq))
		reply_list(rq, 200, store_users_json(srv->cfg.store, &arr), &arr, "users");
}

void api_h_users_post(struct api_server *srv, struct api_req *rq)
{
	const char *name = rq->b.u.user.name, *role = rq->b.u.user.role;
	char object[STORE_NAME_MAX + 8], what[STORE_NAME_MAX + 8];
	int err;

	if (!api_no_params(rq))
		return;
	if (strcmp(name, INCIDENT_SYSTEM_USER) == 0) {
		api_reply_error(rq, 400, "name: \"%s\" is reserved", name);
		return;
	}
	snprintf(object, sizeof(object), "user:%s", name);
	snprintf(what, sizeof(what), "user %s", name);
	err = api_begin(srv);
	if (!err)
		err = store_user_add(srv->cfg.store, name, role, rq->now);
	if (!err)
		err = api_audit(srv, rq, "user.add", object, role);
	err = api_commit_emit(srv, err);
	if (err)
		api_reply_errno(rq, err, what);
	else
		api_reply_json(rq, 201, json_pack("{s:s, s:s}", "name", name, "role", role));
}

void api_h_token_create(struct api_server *srv, struct api_req *rq)
{
	char tok[STORE_TOKEN_LEN + 1], object[32], detail[STORE_NAME_MAX + 16], what[STORE_NAME_MAX + 16];
	uint8_t hash[STORE_HASH_LEN];
	int64_t id = 0;
	int err;

	if (!api_no_params(rq))
		return;
	snprintf(what, sizeof(what), "user %s", rq->name);
	err = store_token_generate(tok);
	if (!err) {
		store_token_hash(tok, strlen(tok), hash);
		err = api_begin(srv);
	}
	if (!err)
		err = store_token_add(srv->cfg.store, rq->name, hash, rq->now, &id);
	if (!err) {
		snprintf(object, sizeof(object), "token:%lld", (long long)id);
		snprintf(detail, sizeof(detail), "for %s", rq->name);
		err = api_audit(srv, rq, "token.create", object, detail);
	}
	err = api_commit_emit(srv, err);
	if (err)
		api_reply_errno(rq, err, what);
	else
		api_reply_json(rq, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "user", rq->name,
						  "token", tok));
}

void api_h_token_revoke(struct api_server *srv, struct api_req *rq)
{
	char object[32];
	int err;

	if (!api_no_params(rq))
		return;
	snprintf(object, sizeof(object), "token:%lld", (long long)rq->id);
	err = api_begin(srv);
	if (!err)
		err = store_token_revoke(srv->cfg.store, rq->id, rq->now);
	if (!err)
		err = api_audit(srv, rq, "token.revoke", object, NULL);
	err = api_commit_emit(srv, err);
	if (err)
		api_reply_errno(rq, err, object);
	else
		api_reply_json(rq, 200, json_pack("{s:I, s:b}", "id", (json_int_t)rq->id, "revoked", 1));
}

void api_h_audit(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { "limit", NULL };
	int64_t limit;
	json_t *arr = NULL;

	if (!api_query_check(rq, known) ||
	    !api_query_int(rq, "limit", 1, srv->cfg.max_limit, srv->cfg.default_limit, &limit))
		return;
	reply_list(rq, 200, store_audit_json(srv->cfg.store, limit, &arr), &arr, "audit");
}

void api_h_tick(struct api_server *srv, struct api_req *rq)
{
	int e = 0, b = 0, d = 0, err;

	if (!api_no_params(rq))
		return;
	err = api_tick_locked(srv, rq->now, &e, &b, &d);
	if (err)
		api_reply_errno(rq, err, "tick");
	else
		api_reply_json(rq, 200, json_pack("{s:i, s:i, s:i}", "escalated", e, "blind_spots", b,
						  "drift", d));
}
