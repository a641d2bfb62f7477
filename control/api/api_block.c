/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mitigation from an incident: "block source" puts a prefix in the XDP
 * blocklist of every sensor (sent in heartbeat answers), for a duration,
 * with a reason, on the incident's timeline and in the audit log; "unblock"
 * lifts it, and expiry does by itself (a timeline entry by "system").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api_priv.h"

void api_h_block(struct api_server *srv, struct api_req *rq)
{
	struct store *st = srv->cfg.store;
	const struct api_body *b = &rq->b;
	struct store_incident inc;
	char prefix[64] = "", src[64], why[128], detail[1200], obj[48];
	int64_t id = 0, exp = b->u.block.duration_s ? rq->now + b->u.block.duration_s : STORE_NO_TIME;
	int err = api_begin(srv);

	snprintf(obj, sizeof(obj), "incident %lld", (long long)rq->id);
	if (!err)
		err = store_incident_get(st, rq->id, &inc);
	if (!err && b->u.block.prefix[0]) {
		snprintf(prefix, sizeof(prefix), "%s", b->u.block.prefix);
	} else if (!err) {
		err = store_incident_source(st, rq->id, src, sizeof(src));
		if (err == -ENOENT || (!err && api_prefix_canon(src, prefix, sizeof(prefix), why, sizeof(why)))) {
			api_commit_emit(srv, -ECANCELED);
			api_reply_error(rq, 400, "prefix: the incident has no source address to block; give one");
			return;
		}
	}
	if (!err)
		err = store_block_add(st, rq->id, prefix, exp, b->u.block.reason, rq->user, rq->now, &id);
	if (!err) {
		if (b->u.block.duration_s)
			snprintf(detail, sizeof(detail), "%s for %lld s: %s", prefix,
				 (long long)b->u.block.duration_s, b->u.block.reason);
		else
			snprintf(detail, sizeof(detail), "%s until unblocked: %s", prefix, b->u.block.reason);
		err = store_timeline_add(st, rq->id, rq->now, rq->user, "blocked", detail);
	}
	if (!err)
		err = store_audit_add(st, rq->now, rq->user, "incident.block", obj, detail);
	err = api_commit_emit(srv, err);
	if (err) {
		api_reply_errno(rq, err, obj);
		return;
	}
	api_reply_json(rq, 201, json_pack("{s:I, s:I, s:s, s:o, s:s, s:s}", "id", (json_int_t)id,
					  "incident", (json_int_t)rq->id, "prefix", prefix, "expires_in_s",
					  b->u.block.duration_s ? json_integer(b->u.block.duration_s) : json_null(),
					  "reason", b->u.block.reason, "by", rq->user));
}

void api_h_unblock(struct api_server *srv, struct api_req *rq)
{
	struct store *st = srv->cfg.store;
	const struct api_body *b = &rq->b;
	struct store_incident inc;
	json_t *lifted = NULL;
	char detail[1200], obj[48];
	int n = 0, err = api_begin(srv);

	snprintf(obj, sizeof(obj), "incident %lld", (long long)rq->id);
	if (!err)
		err = store_incident_get(st, rq->id, &inc);
	if (!err) {
		n = store_block_lift(st, rq->id, b->u.block.prefix[0] ? b->u.block.prefix : NULL, "unblocked",
				     rq->user, rq->now, &lifted);
		err = n < 0 ? n : 0;
	}
	if (!err && n == 0) {
		api_commit_emit(srv, -ECANCELED);
		api_reply_error(rq, 409, "incident %lld has no active block%s%s", (long long)rq->id,
				b->u.block.prefix[0] ? " of " : "", b->u.block.prefix);
		return;
	}
	for (size_t i = 0; !err && i < json_array_size(lifted); i++) {
		snprintf(detail, sizeof(detail), "%s%s%s", json_string_value(json_array_get(lifted, i)),
			 b->u.block.reason ? ": " : "", b->u.block.reason ? b->u.block.reason : "");
		err = store_timeline_add(st, rq->id, rq->now, rq->user, "unblocked", detail);
		if (!err)
			err = store_audit_add(st, rq->now, rq->user, "incident.unblock", obj, detail);
	}
	err = api_commit_emit(srv, err);
	if (err) {
		json_decref(lifted);
		api_reply_errno(rq, err, obj);
		return;
	}
	api_reply_json(rq, 200, json_pack("{s:o}", "lifted", lifted));
}

void api_h_blocks(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { "all", "limit", NULL };
	int64_t all, limit;
	json_t *arr;
	int err;

	if (!api_query_check(rq, known) || !api_query_int(rq, "all", 0, 1, 0, &all) ||
	    !api_query_int(rq, "limit", 1, srv->cfg.max_limit, srv->cfg.default_limit, &limit))
		return;
	err = store_blocks_json(srv->cfg.store, rq->now, all, limit, &arr);
	if (err)
		api_reply_errno(rq, err, "blocks");
	else
		api_reply_json(rq, 200, arr);
}

/* Under the store lock, in a transaction: blocks that expired get their
 * timeline entry (by "system").  Returns how many, or -errno. */
int api_blocks_expire(struct api_server *srv, int64_t now)
{
	struct store *st = srv->cfg.store;
	json_t *done = NULL, *e;
	size_t i;
	int err = store_block_expire(st, now, &done);

	json_array_foreach(done, i, e) {
		char detail[128], obj[48];
		json_int_t inc = json_integer_value(json_object_get(e, "incident"));
		snprintf(detail, sizeof(detail), "%s: expired", json_string_value(json_object_get(e, "prefix")));
		snprintf(obj, sizeof(obj), "incident %lld", (long long)inc);
		if (!err)
			err = store_timeline_add(st, inc, now, "system", "unblocked", detail);
		if (!err)
			err = store_audit_add(st, now, "system", "incident.unblock", obj, detail);
	}
	int n = err ? err : (int)json_array_size(done);
	json_decref(done);
	return n;
}

/* The blocklist every sensor applies: [{"prefix", "expires_in_s"}]. */
json_t *api_blocklist(struct api_server *srv, int64_t now, int *err)
{
	json_t *arr = NULL, *out, *e;
	size_t i;

	*err = store_blocks_json(srv->cfg.store, now, false, 1000000, &arr);
	if (*err)
		return NULL;
	out = json_array();
	json_array_foreach(arr, i, e)
		json_array_append_new(out, json_pack("{s:O, s:O}", "prefix", json_object_get(e, "prefix"),
						     "expires_in_s", json_object_get(e, "expires_in_s") ?
						     json_object_get(e, "expires_in_s") : json_null()));
	json_decref(arr);
	return out;
}
