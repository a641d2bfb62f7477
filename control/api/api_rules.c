/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ruleset versions: submit, one-rule edits, reads, diffs, (re)validation,
 * approval and rejection.  Versions are content-addressed and immutable;
 * every change of state is audited in the transaction that makes it, and
 * a version is handed to the validation worker only after its row is
 * committed (the worker reads it back from the store).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"

#define DIFF_MAX_CHANGED 20000   /* lines added + removed past which a diff is not shown */

bool api_ruleset_resolve(struct api_server *srv, struct api_req *rq, const char *prefix,
			 const char *field, char id[STORE_ID_HEX + 1])
{
	int err = store_ruleset_resolve(srv->cfg.store, prefix, id);

	switch (-err) {
	case 0:
		return true;
	case EINVAL:
		api_reply_error(rq, 400, "%s: expected a version id (8 to 64 hex digits)", field);
		break;
	case ENOENT:
		api_reply_error(rq, 404, "%s: no ruleset version %.64s", field, prefix);
		break;
	case ENOTUNIQ:
		api_reply_error(rq, 409, "%s: %.64s is ambiguous (several versions start with it)", field,
				prefix);
		break;
	default:
		api_reply_errno(rq, err, field);
		break;
	}
	return false;
}

/* Answers with the VERSION (and its content when asked). */
static void reply_version(struct api_server *srv, struct api_req *rq, unsigned status, const char *id,
			  bool content)
{
	json_t *o = NULL;
	int err = store_ruleset_json(srv->cfg.store, id, content, &o);

	if (err)
		api_reply_errno(rq, err, "ruleset");
	else
		api_reply_json(rq, status, o);
}

/* Queues a committed version; a stopped worker (shutdown) leaves it
 * "validating" for the next start. */
static void queue(struct api_server *srv, const char *id)
{
	int err = srv->cfg.validator ? rules_validator_enqueue(srv->cfg.validator, id) : 0;

	if (err)
		fprintf(stderr, "api: ruleset %.16s not queued for validation: %s\n", id, strerror(-err));
}

/* The new version row, its cases (given or inherited) and the audit entry
 * of its submit, in the caller's transaction. */
static int insert_version(struct api_server *srv, struct api_req *rq, const struct store_ruleset *r,
			  const struct api_body *b, const char *detail)
{
	struct store *st = srv->cfg.store;
	char object[STORE_ID_HEX + 16];
	int err = store_ruleset_insert(st, r);

	if (!err && b && b->u.ruleset.has_cases) {
		for (size_t i = 0; !err && i < b->u.ruleset.ncases; i++) {
			const struct api_case *k = &b->u.ruleset.cases[i];
			struct store_case c = { k->name, k->must, k->must_not, k->pcap, k->pcap_len };
			err = store_case_add(st, r->id, &c);
		}
	} else if (!err && r->parent) {
		err = store_cases_inherit(st, r->id, r->parent);
	}
	snprintf(object, sizeof(object), "ruleset:%s", r->id);
	if (!err)
		err = api_audit(srv, rq, "ruleset.submit", object, detail);
	return err;
}

/* Stores a new version of text (201), or answers the existing one (200). */
static void submit(struct api_server *srv, struct api_req *rq, const char *text, size_t len,
		   const char *parent, const char *message, const struct api_body *b, const char *detail)
{
	struct store_ruleset_info info;
	char id[STORE_ID_HEX + 1];
	struct store_ruleset r = {
		.id = id, .parent = parent, .author = rq->user, .message = message,
		.created_at = rq->now, .status = srv->cfg.validator ? "validating" : "submitted",
		.content = text, .size = len,
	};
	int err;

	store_ruleset_id(text, len, id);
	err = store_ruleset_info(srv->cfg.store, id, &info);
	if (err == 0) {
		reply_version(srv, rq, 200, id, false);   /* the same text: the same version */
		return;
	}
	if (err != -ENOENT) {
		api_reply_errno(rq, err, "ruleset");
		return;
	}
	err = api_begin(srv);
	if (!err)
		err = insert_version(srv, rq, &r, b, detail);
	err = api_commit_emit(srv, err);
	if (err) {
		api_reply_errno(rq, err, "ruleset");
		return;
	}
	queue(srv, id);
	reply_version(srv, rq, 201, id, false);
}

void api_h_ruleset_submit(struct api_server *srv, struct api_req *rq)
{
	const struct api_body *b = &rq->b;
	char parent[STORE_ID_HEX + 1];

	if (!api_no_params(rq))
		return;
	if (b->u.ruleset.parent && !api_ruleset_resolve(srv, rq, b->u.ruleset.parent, "parent", parent))
		return;
	submit(srv, rq, b->u.ruleset.content, b->u.ruleset.content_len,
	       b->u.ruleset.parent ? parent : NULL, b->u.ruleset.message, b, b->u.ruleset.message);
}

/* -errno of rules_edit() as an answer. */
static void edit_error(struct api_req *rq, int err, const char *msg)
{
	switch (-err) {
	case ENOENT:
		api_reply_error(rq, 404, "%s", msg);
		break;
	case EALREADY:
	case EEXIST:
	case ENOTUNIQ:
		api_reply_error(rq, 409, "%s", msg);
		break;
	case EINVAL:
		api_reply_error(rq, 400, "%s", msg);
		break;
	default:
		api_reply_errno(rq, err, "edit");
		break;
	}
}

void api_h_ruleset_edit(struct api_server *srv, struct api_req *rq)
{
	const struct api_body *b = &rq->b;
	enum rules_edit_action a;
	char pid[STORE_ID_HEX + 1], msg[256], *text = NULL, *out = NULL, *detail = NULL;
	size_t len = 0, outlen = 0;
	int err;

	if (!api_no_params(rq) || !api_ruleset_resolve(srv, rq, rq->name, "id", pid))
		return;
	if (rules_edit_action_parse(b->u.edit.action, &a) != 0) {
		api_reply_error(rq, 400, "action: unknown");
		return;
	}
	err = store_ruleset_content(srv->cfg.store, pid, &text, &len);
	if (err) {
		api_reply_errno(rq, err, "ruleset");
		return;
	}
	err = rules_edit(text, len, a, (uint32_t)b->u.edit.sid, b->u.edit.rule, &out, &outlen, msg,
			 sizeof(msg));
	free(text);
	if (err) {
		edit_error(rq, err, msg);
		return;
	}
	if (asprintf(&detail, "%s sid %lld of %.12s: %s", b->u.edit.action, (long long)b->u.edit.sid,
		     pid, b->u.edit.message) < 0)
		detail = NULL;
	if (detail)
		submit(srv, rq, out, outlen, pid, b->u.edit.message, NULL, detail);
	else
		api_reply_errno(rq, -ENOMEM, "edit");
	free(detail);
	free(out);
}

void api_h_rulesets(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { "limit", NULL };
	int64_t limit;
	json_t *arr;
	int err;

	if (!api_query_check(rq, known) ||
	    !api_query_int(rq, "limit", 1, srv->cfg.max_limit, srv->cfg.default_limit, &limit))
		return;
	err = store_rulesets_json(srv->cfg.store, limit, &arr);
	if (err)
		api_reply_errno(rq, err, "rulesets");
	else
		api_reply_json(rq, 200, arr);
}

void api_h_ruleset(struct api_server *srv, struct api_req *rq)
{
	char id[STORE_ID_HEX + 1];

	if (api_no_params(rq) && api_ruleset_resolve(srv, rq, rq->name, "id", id))
		reply_version(srv, rq, 200, id, true);
}

void api_h_ruleset_content(struct api_server *srv, struct api_req *rq)
{
	char id[STORE_ID_HEX + 1], *text = NULL;
	size_t len = 0;
	int err;

	if (!api_no_params(rq) || !api_ruleset_resolve(srv, rq, rq->name, "id", id))
		return;
	err = store_ruleset_content(srv->cfg.store, id, &text, &len);
	if (err)
		api_reply_errno(rq, err, "ruleset");
	else
		api_reply_text(rq, 200, text, len, "text/plain; charset=utf-8");
}

/* The diff answer of from (NULL: the empty text) -> to. */
static json_t *diff_json(struct api_server *srv, const char *from, const char *to, int *err)
{
	char *a = NULL, *b = NULL, *d = NULL;
	size_t alen = 0, blen = 0;
	json_t *added = NULL, *removed = NULL, *changed = NULL, *o = NULL;
	bool big = false;

	*err = from ? store_ruleset_content(srv->cfg.store, from, &a, &alen) : 0;
	if (!*err)
		*err = store_ruleset_content(srv->cfg.store, to, &b, &blen);
	if (!*err)
		*err = rules_diff(a ? a : "", alen, b, blen, from ? from : "/dev/null", to, DIFF_MAX_CHANGED,
				  &d, &big);
	if (!*err)
		*err = rules_sid_changes(a ? a : "", alen, b, blen, &added, &removed, &changed);
	if (!*err) {
		o = json_pack("{s:s?, s:s, s:s, s:o, s:o, s:o, s:b}", "from", from, "to", to, "diff", d,
			      "added", added, "removed", removed, "changed", changed, "too_large", big);
		if (!o)
			*err = -ENOMEM;
	}
	free(a);
	free(b);
	free(d);
	return o;
}

void api_h_ruleset_diff(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { "against", NULL };
	struct store_ruleset_info info;
	char to[STORE_ID_HEX + 1], from[STORE_ID_HEX + 1];
	const char *against;
	json_t *o;
	int err;

	if (!api_query_check(rq, known) || !api_ruleset_resolve(srv, rq, rq->name, "id", to))
		return;
	against = api_query_str(rq, "against");
	if (against && !api_ruleset_resolve(srv, rq, against, "against", from))
		return;
	if (!against) {
		err = store_ruleset_info(srv->cfg.store, to, &info);
		if (err) {
			api_reply_errno(rq, err, "ruleset");
			return;
		}
		memcpy(from, info.parent, sizeof(from));
	}
	o = diff_json(srv, from[0] ? from : NULL, to, &err);
	if (err)
		api_reply_errno(rq, err, "diff");
	else
		api_reply_json(rq, 200, o);
}

/* Resolves the path's version and loads what the workflow checks. */
static bool load_info(struct api_server *srv, struct api_req *rq, struct store_ruleset_info *info)
{
	char id[STORE_ID_HEX + 1];
	int err;

	if (!api_no_params(rq) || !api_ruleset_resolve(srv, rq, rq->name, "id", id))
		return false;
	err = store_ruleset_info(srv->cfg.store, id, info);
	if (err)
		api_reply_errno(rq, err, "ruleset");
	return !err;
}

void api_h_ruleset_validate(struct api_server *srv, struct api_req *rq)
{
	struct store_ruleset_info info;
	char object[STORE_ID_HEX + 16];
	int err;

	if (!load_info(srv, rq, &info))
		return;
	if (strcmp(info.status, "submitted") != 0 && strcmp(info.status, "validated") != 0 &&
	    strcmp(info.status, "validation_failed") != 0) {
		api_reply_error(rq, 409, "ruleset %.12s is %s: only a submitted, validated or failed "
				"version is validated again", info.id, info.status);
		return;
	}
	if (!srv->cfg.validator) {
		api_reply_error(rq, 503, "validation is not available in this daemon");
		return;
	}
	snprintf(object, sizeof(object), "ruleset:%s", info.id);
	err = api_begin(srv);
	if (!err)
		err = store_ruleset_set_status(srv->cfg.store, info.id, "validating");
	if (!err)
		err = api_audit(srv, rq, "ruleset.validate", object, "requested");
	err = api_commit_emit(srv, err);
	if (err) {
		api_reply_errno(rq, err, "ruleset");
		return;
	}
	queue(srv, info.id);
	reply_version(srv, rq, 202, info.id, false);
}

/* The decision's row, the new status and the audit entry, committed. */
static int decide(struct api_server *srv, struct api_req *rq, const char *id, const char *status,
		  const char *decision, const char *comment, const char *action, const char *detail)
{
	char object[STORE_ID_HEX + 16];
	int err = api_begin(srv);

	snprintf(object, sizeof(object), "ruleset:%s", id);
	if (!err)
		err = store_ruleset_set_status(srv->cfg.store, id, status);
	if (!err)
		err = store_approval_add(srv->cfg.store, id, rq->user, decision, comment, rq->now);
	if (!err)
		err = api_audit(srv, rq, action, object, detail);
	return api_commit_emit(srv, err);
}

void api_h_ruleset_approve(struct api_server *srv, struct api_req *rq)
{
	const struct api_body *b = &rq->b;
	struct store_ruleset_info info;
	char detail[API_REASON_MAX + 64];
	bool over = b->u.decision.override;
	int err;

	if (!load_info(srv, rq, &info))
		return;
	if (over && rq->role != API_ROLE_ADMIN) {
		api_reply_error(rq, 403, "override: only an admin may approve past validation");
		return;
	}
	if (!over && strcmp(info.author, rq->user) == 0) {
		api_reply_error(rq, 403, "ruleset %.12s: its author may not approve it", info.id);
		return;
	}
	if (strcmp(info.status, "approved") == 0 || (!over && strcmp(info.status, "validated") != 0)) {
		api_reply_error(rq, 409, "ruleset %.12s is %s: only a validated version is approved%s",
				info.id, info.status, over ? "" : " (or an admin overrides)");
		return;
	}
	if (over)
		snprintf(detail, sizeof(detail), "approved while %s: %s", info.status, b->u.decision.reason);
	else
		snprintf(detail, sizeof(detail), "%s", b->u.decision.comment ? b->u.decision.comment : "");
	err = decide(srv, rq, info.id, "approved", over ? "override" : "approve",
		     over ? b->u.decision.reason : b->u.decision.comment,
		     over ? "ruleset.override" : "ruleset.approve", detail);
	if (err)
		api_reply_errno(rq, err, "ruleset");
	else
		reply_version(srv, rq, 200, info.id, false);
}

void api_h_ruleset_reject(struct api_server *srv, struct api_req *rq)
{
	const struct api_body *b = &rq->b;
	struct store_ruleset_info info;
	int err;

	if (!load_info(srv, rq, &info))
		return;
	if (strcmp(info.status, "approved") == 0 || strcmp(info.status, "rejected") == 0) {
		api_reply_error(rq, 409, "ruleset %.12s is %s already", info.id, info.status);
		return;
	}
	err = decide(srv, rq, info.id, "rejected", "reject", b->u.decision.comment, "ruleset.reject",
		     b->u.decision.comment);
	if (err)
		api_reply_errno(rq, err, "ruleset");
	else
		reply_version(srv, rq, 200, info.id, false);
}
