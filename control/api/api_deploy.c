/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deployments and rollbacks of ruleset versions to sensors, the fleet
 * view, and the heartbeat answer that makes a sensor fetch its desired
 * version.  A deployment is append-only history: each sensor's desired
 * version is its newest target row (else the fleet's), and a rollback is
 * a new row that undoes the newest deployment like a stack pop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"

json_t *api_heartbeat_ruleset(struct api_server *srv, const char *sensor, const char *running, int *err)
{
	char id[STORE_ID_HEX + 1], engine[STORE_ENGINE_MAX + 1], url[STORE_ID_HEX + 40];

	*err = store_sensor_desired(srv->cfg.store, sensor, id, engine);
	if (*err == -ENOENT)
		*err = 0;
	if (*err || !engine[0] || (running && strcmp(running, engine) == 0))
		return NULL;
	snprintf(url, sizeof(url), "/api/v1/rulesets/%s/content", id);
	return json_pack("{s:s, s:s, s:s}", "id", id, "engine_id", engine, "url", url);
}

/* "a, b, c" of up to 10 names, then "and N more". */
static void name_list(json_t *names, char *buf, size_t len)
{
	size_t n = 0, i;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(names, i, v) {
		if (n >= len)
			break;
		if (i == 10) {
			snprintf(buf + n, len - n, " and %zu more", json_array_size(names) - 10);
			break;
		}
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", json_string_value(v));
	}
}

/* The named sensors as a new array, or every known one (*fleet set). */
static int targets(struct api_server *srv, struct api_req *rq, json_t **out, bool *fleet)
{
	*fleet = rq->b.u.deploy.sensors == NULL;
	if (*fleet)
		return store_known_sensors(srv->cfg.store, out);
	*out = json_array();
	for (size_t i = 0; *out && i < rq->b.u.deploy.nsensors; i++)
		json_array_append_new(*out, json_string(rq->b.u.deploy.sensors[i]));
	return *out ? 0 : -ENOMEM;
}

/* One deployment row with its targets (plus the fleet's when fleet), in
 * the caller's transaction. */
static int record(struct api_server *srv, struct api_req *rq, const char *id, const char *kind,
		  json_t *sensors, bool fleet, int64_t *did)
{
	size_t i;
	json_t *s;
	int err = store_deployment_add(srv->cfg.store, id, kind, fleet, rq->user, rq->now,
				       rq->b.u.deploy.reason, did);

	json_array_foreach(sensors, i, s) {
		if (err)
			break;
		err = store_deployment_target_add(srv->cfg.store, *did, json_string_value(s), id);
	}
	if (!err && fleet)
		err = store_deployment_target_add(srv->cfg.store, *did, STORE_FLEET, id);
	if (!err)
		atomic_fetch_add(&srv->ctr[API_CTR_DEPLOYMENTS], 1);
	return err;
}

/* 409 / 403 unless the version may be deployed by rq. */
static bool deployable(struct api_req *rq, const struct store_ruleset_info *info, bool *override)
{
	*override = false;
	if (!info->engine_id[0]) {
		api_reply_error(rq, 409, "ruleset %.12s has no engine id yet (status %s): validate it first",
				info->id, info->status);
		return false;
	}
	if (strcmp(info->status, "approved") == 0)
		return true;
	if (!rq->b.u.deploy.override) {
		api_reply_error(rq, 409, "ruleset %.12s is %s, not approved (an admin may override with a "
				"reason)", info->id, info->status);
		return false;
	}
	if (rq->role != API_ROLE_ADMIN) {
		api_reply_error(rq, 403, "override: only an admin may deploy an unapproved version");
		return false;
	}
	*override = true;
	return true;
}

void api_h_deploy(struct api_server *srv, struct api_req *rq)
{
	const char *reason = rq->b.u.deploy.reason;
	struct store_ruleset_info info;
	char id[STORE_ID_HEX + 1], object[STORE_ID_HEX + 16], names[800], detail[API_REASON_MAX + 1024];
	json_t *sensors = NULL, *o = NULL;
	bool fleet, over;
	int64_t did = 0;
	int err;

	if (!api_no_params(rq) || !api_ruleset_resolve(srv, rq, rq->b.u.deploy.ruleset, "ruleset", id))
		return;
	err = store_ruleset_info(srv->cfg.store, id, &info);
	if (err || !deployable(rq, &info, &over)) {
		if (err)
			api_reply_errno(rq, err, "ruleset");
		return;
	}
	err = targets(srv, rq, &sensors, &fleet);
	if (!err && json_array_size(sensors) == 0) {
		api_reply_error(rq, 409, "sensors: no sensor is known yet; name them");
		json_decref(sensors);
		return;
	}
	snprintf(object, sizeof(object), "ruleset:%s", id);
	if (!err)
		err = api_begin(srv);
	if (!err)
		err = record(srv, rq, id, "deploy", sensors, fleet, &did);
	if (!err && over) {
		snprintf(detail, sizeof(detail), "deployed while %s: %s", info.status, reason);
		err = api_audit(srv, rq, "ruleset.override", object, detail);
	}
	if (!err) {
		name_list(sensors, names, sizeof(names));
		snprintf(detail, sizeof(detail), "deployment %lld to %s%s%s%s", (long long)did, names,
			 fleet ? " (the fleet)" : "", reason ? ": " : "", reason ? reason : "");
		err = api_audit(srv, rq, "ruleset.deploy", object, detail);
	}
	err = api_commit_emit(srv, err);
	if (!err)
		err = store_deployment_json(srv->cfg.store, did, &o);
	json_decref(sensors);
	if (err)
		api_reply_errno(rq, err, "deployment");
	else
		api_reply_json(rq, 201, o);
}

/* --- rollback ------------------------------------------------------------ */

/* The version a target goes back to: its history replayed as a stack
 * (a deployment pushes its version unless it is the top already, a
 * rollback pops), the entry under the top.  False when there is none. */
static bool previous(const struct store_deploy_step *h, size_t n, char out[STORE_ID_HEX + 1])
{
	size_t *stack = malloc((n ? n : 1) * sizeof(*stack)), top = 0;
	bool found;

	if (!stack)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool deploy = strcmp(h[i].kind, "deploy") == 0;
		if (!deploy && top > 0)
			top--;
		if (top == 0 || strcmp(h[stack[top - 1]].ruleset, h[i].ruleset) != 0)
			stack[top++] = i;
	}
	found = top >= 2;
	if (found)
		memcpy(out, h[stack[top - 2]].ruleset, STORE_ID_HEX + 1);
	free(stack);
	return found;
}

/* Where each target goes: an object {version: [targets...]} in order. */
static int plan_rollback(struct api_server *srv, struct api_req *rq, json_t *names, bool fleet,
			 json_t *plan)
{
	struct store_deploy_step *h = NULL;
	char to[STORE_ID_HEX + 1];
	size_t n, i;
	json_t *s;
	int err = 0;

	if (fleet)
		json_array_append_new(names, json_string(STORE_FLEET));
	json_array_foreach(names, i, s) {
		const char *name = json_string_value(s);
		err = store_sensor_history(srv->cfg.store, name, &h, &n);
		if (err)
			return err;
		bool back = previous(h, n, to);
		free(h);
		if (!back && !fleet) {
			api_reply_error(rq, 409, "sensors: %s has no earlier deployment to roll back to", name);
			return -ECANCELED;
		}
		if (!back)
			continue;
		if (!json_object_get(plan, to))
			json_object_set_new(plan, to, json_array());
		json_array_append(json_object_get(plan, to), s);
	}
	if (json_object_size(plan) == 0) {
		api_reply_error(rq, 409, "nothing to roll back: no sensor has an earlier deployment");
		return -ECANCELED;
	}
	return 0;
}

/* One rollback deployment per version gone back to, audited. */
static int do_rollback(struct api_server *srv, struct api_req *rq, json_t *plan, json_t *out)
{
	const char *reason = rq->b.u.deploy.reason, *to;
	char object[STORE_ID_HEX + 16], names[800], detail[API_REASON_MAX + 1024];
	json_t *group, *o;
	int err = api_begin(srv);

	json_object_foreach(plan, to, group) {
		json_t *sensors = json_array(), *s;
		bool fleet = false;
		int64_t did = 0;
		size_t i;
		if (err || !sensors) {
			json_decref(sensors);
			err = err ? err : -ENOMEM;
			break;
		}
		json_array_foreach(group, i, s) {
			if (strcmp(json_string_value(s), STORE_FLEET) == 0)
				fleet = true;
			else
				json_array_append(sensors, s);
		}
		err = record(srv, rq, to, "rollback", sensors, fleet, &did);
		name_list(sensors, names, sizeof(names));
		snprintf(object, sizeof(object), "ruleset:%s", to);
		snprintf(detail, sizeof(detail), "deployment %lld: %s%s%s back%s%s", (long long)did, names,
			 fleet && json_array_size(sensors) ? ", " : "", fleet ? "the fleet" : "",
			 reason ? ": " : "", reason ? reason : "");
		if (!err)
			err = api_audit(srv, rq, "ruleset.rollback", object, detail);
		if (!err)
			err = store_deployment_json(srv->cfg.store, did, &o);
		if (!err)
			json_array_append_new(out, o);
		json_decref(sensors);
	}
	return api_commit_emit(srv, err);
}

void api_h_rollback(struct api_server *srv, struct api_req *rq)
{
	json_t *names = NULL, *plan = json_object(), *out = json_array();
	bool fleet;
	int err;

	if (!api_no_params(rq))
		goto done;
	err = plan && out ? targets(srv, rq, &names, &fleet) : -ENOMEM;
	if (!err)
		err = plan_rollback(srv, rq, names, fleet, plan);
	if (!err)
		err = do_rollback(srv, rq, plan, out);
	if (!err) {
		api_reply_json(rq, 201, out);
		out = NULL;
	} else if (err != -ECANCELED) {
		api_reply_errno(rq, err, "rollback");
	}
done:
	json_decref(names);
	json_decref(plan);
	json_decref(out);
}

void api_h_deployments(struct api_server *srv, struct api_req *rq)
{
	static const char *const known[] = { "limit", NULL };
	int64_t limit;
	json_t *arr;
	int err;

	if (!api_query_check(rq, known) ||
	    !api_query_int(rq, "limit", 1, srv->cfg.max_limit, srv->cfg.default_limit, &limit))
		return;
	err = store_deployments_json(srv->cfg.store, limit, &arr);
	if (err)
		api_reply_errno(rq, err, "deployments");
	else
		api_reply_json(rq, 200, arr);
}

/* --- the fleet ------------------------------------------------------------ */

/* Whether the sensor drifts now: a ruleset other than the desired one for
 * the grace period, or a configuration other than its baseline's. */
static bool drifting(struct api_server *srv, const char *name, const char *engine, int64_t now)
{
	struct store_sensor_drift d;

	if (store_sensor_drift_get(srv->cfg.store, name, &d) != 0)
		return false;
	if (engine[0] && strcmp(d.ruleset, engine) != 0 && d.rules_since != STORE_NO_TIME &&
	    now - d.rules_since >= srv->cfg.incident.drift_grace_s)
		return true;
	return d.config_base[0] && d.config_hash[0] && strcmp(d.config_base, d.config_hash) != 0;
}

static int fleet_row(struct api_server *srv, const char *name, int64_t now, json_t **out)
{
	char id[STORE_ID_HEX + 1], engine[STORE_ENGINE_MAX + 1], rv[STORE_ID_HEX + 1];
	json_t *o = NULL, *seen = NULL;
	const char *running;
	int err = store_sensor_desired(srv->cfg.store, name, id, engine);

	if (err && err != -ENOENT)
		return err;
	err = store_sensor_fleet_json(srv->cfg.store, name, &seen);
	if (err && err != -ENOENT)
		return err;
	running = json_string_value(json_object_get(seen, "running"));
	o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:O?, s:b, s:O?}", "sensor", name,
		      "desired", id[0] ? id : NULL, "desired_engine_id", engine[0] ? engine : NULL,
		      "running", running, "running_version",
		      running && store_ruleset_by_engine(srv->cfg.store, running, id, rv) == 0 ? rv : NULL,
		      "config_hash", json_object_get(seen, "config_hash"),
		      "drift", drifting(srv, name, engine, now),
		      "last_seen", json_object_get(seen, "last_seen"));
	if (o && !json_object_get(o, "load"))
		json_object_set(o, "load", seen && json_object_get(seen, "load") ?
				json_object_get(seen, "load") : json_null());
	json_decref(seen);
	*out = o;
	return o ? 0 : -ENOMEM;
}

void api_h_fleet(struct api_server *srv, struct api_req *rq)
{
	json_t *names = NULL, *arr = json_array(), *v, *row;
	size_t i;
	int err;

	if (!api_no_params(rq)) {
		json_decref(arr);
		return;
	}
	err = arr ? store_known_sensors(srv->cfg.store, &names) : -ENOMEM;
	json_array_foreach(names, i, v) {
		if (err)
			break;
		err = fleet_row(srv, json_string_value(v), rq->now, &row);
		if (!err)
			json_array_append_new(arr, row);
	}
	json_decref(names);
	if (err) {
		json_decref(arr);
		api_reply_errno(rq, err, "fleet");
	} else {
		api_reply_json(rq, 200, arr);
	}
}
