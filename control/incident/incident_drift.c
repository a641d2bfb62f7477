/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Drift: a sensor that runs something other than what was deployed to it
 * (a ruleset loaded by hand, a fetch that keeps failing) or whose
 * configuration changed behind the control plane's back.  Evaluated on
 * every heartbeat and on tick from what the sensor last reported and its
 * baseline; the incident is opened once, kept up to date while the drift
 * lasts, and resolved by "system" when the sensor is back on its
 * baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "incident_priv.h"

/* Opens the drift incident `key`, or keeps its open one up to date: a new
 * title (what runs changed) is a timeline entry. */
static int drift_open(struct store *st, const struct incident_cfg *cfg, const char *key,
		      const char *title, const char *user, int64_t now, struct incident_events *evs)
{
	struct store_incident inc;
	char t[sizeof(inc.title)];
	bool changed = false;
	int err = store_incident_find_open(st, key, &inc);

	snprintf(t, sizeof(t), "%s", title);   /* as stored */

	if (err == -ENOENT) {
		memset(&inc, 0, sizeof(inc));
		snprintf(inc.key, sizeof(inc.key), "%s", key);
		snprintf(inc.kind, sizeof(inc.kind), "drift");
		memcpy(inc.title, t, sizeof(t));
		inc.severity = cfg->drift_severity;
		inc.sid = -1;
		inc.first_seen = inc.last_seen = now;
		incident_new(&inc, now);
		inc.alert_count = 1;
		return incident_open(st, &inc, user, now, evs);
	}
	if (err)
		return err;
	if (strcmp(inc.title, t) != 0) {
		memcpy(inc.title, t, sizeof(t));
		inc.alert_count++;
		changed = true;
		err = store_timeline_add(st, inc.id, now, user, "drift", title);
	}
	if (now > inc.last_seen) {
		inc.last_seen = now;
		changed = true;
	}
	return err || !changed ? err : store_incident_update(st, &inc);
}

/* Resolves the open drift incident `key`, if any. */
static int drift_resolve(struct store *st, const char *key, const char *why, int64_t now,
			 struct incident_events *evs)
{
	struct store_incident inc;
	int err = store_incident_find_open(st, key, &inc);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	return incident_set_status(st, inc.id, INCIDENT_RESOLVED, INCIDENT_SYSTEM_USER, why, now, evs);
}

/* "version 0123456789ab" of an engine id, or what else to call it. */
static void version_of(struct store *st, const char *engine, char *buf, size_t len)
{
	char id[STORE_ID_HEX + 1];

	if (!*engine)
		snprintf(buf, len, "no rules");
	else if (store_ruleset_by_engine(st, engine, NULL, id) == 0)
		snprintf(buf, len, "version %.12s", id);
	else
		snprintf(buf, len, "not a known version");
}

/* The ruleset half: *since is the sensor's mismatch clock (updated). */
static int drift_rules(struct store *st, const struct incident_cfg *cfg, const char *sensor,
		       const struct store_sensor_drift *d, const char *want, const char *engine,
		       int64_t *since, const char *user, int64_t now, struct incident_events *evs)
{
	char key[STORE_KEY_MAX], title[512], why[400], runs[64];

	snprintf(key, sizeof(key), "drift:%s:ruleset", sensor);
	if (strcmp(d->ruleset, engine) == 0) {
		*since = STORE_NO_TIME;
		snprintf(why, sizeof(why), "%s runs its baseline again: ruleset %s (version %.12s)", sensor,
			 engine, want);
		return drift_resolve(st, key, why, now, evs);
	}
	if (*since == STORE_NO_TIME)
		*since = now;
	if (now - *since < cfg->drift_grace_s)
		return 0;
	version_of(st, d->ruleset, runs, sizeof(runs));
	snprintf(title, sizeof(title), "Drift on %s: runs ruleset %s (%s), deployed is %s (version %.12s)",
		 sensor, *d->ruleset ? d->ruleset : "-", runs, engine, want);
	int err = drift_open(st, cfg, key, title, user, now, evs);
	return err ? err : 1;
}

/* The configuration half: base is the sensor's baseline hash (updated). */
static int drift_config(struct store *st, const struct incident_cfg *cfg, const char *sensor,
			const struct store_sensor_drift *d, char *base, size_t baselen, const char *user,
			int64_t now, struct incident_events *evs)
{
	char key[STORE_KEY_MAX], title[512], why[400];

	snprintf(key, sizeof(key), "drift:%s:config", sensor);
	if (!*base)
		snprintf(base, baselen, "%s", d->config_hash);   /* the first since the baseline */
	if (strcmp(base, d->config_hash) == 0) {
		snprintf(why, sizeof(why), "%s reports its baseline configuration %s again", sensor, base);
		return drift_resolve(st, key, why, now, evs);
	}
	snprintf(title, sizeof(title), "Drift on %s: configuration %s, was %s at its deployment", sensor,
		 d->config_hash, base);
	int err = drift_open(st, cfg, key, title, user, now, evs);
	return err ? err : 1;
}

int incident_drift_sensor(struct store *st, const struct incident_cfg *cfg, const char *sensor,
			  const char *user, int64_t now, struct incident_events *evs)
{
	struct store_sensor_drift d;
	char want[STORE_ID_HEX + 1], engine[STORE_ENGINE_MAX + 1], base[sizeof(d.config_base)];
	int64_t since;
	int err, n = 0, r;

	err = store_sensor_drift_get(st, sensor, &d);
	if (!err)
		err = store_sensor_desired(st, sensor, want, engine);
	if (err)
		return err == -ENOENT ? 0 : err;
	since = d.rules_since;
	memcpy(base, d.config_base, sizeof(base));
	if (*engine) {
		r = drift_rules(st, cfg, sensor, &d, want, engine, &since, user, now, evs);
		if (r < 0)
			return r;
		n += r;
	}
	if (*d.config_hash) {
		r = drift_config(st, cfg, sensor, &d, base, sizeof(base), user, now, evs);
		if (r < 0)
			return r;
		n += r;
	}
	if (since != d.rules_since || strcmp(base, d.config_base) != 0)
		err = store_sensor_drift_set(st, sensor, base, since);
	return err ? err : n;
}

int incident_drift_due(struct store *st, const struct incident_cfg *cfg, int64_t now,
		       struct incident_events *evs)
{
	json_t *names = NULL, *name;
	size_t i;
	int err = store_sensor_names(st, &names), n = 0;

	json_array_foreach(names, i, name) {
		int r = incident_drift_sensor(st, cfg, json_string_value(name), INCIDENT_SYSTEM_USER, now, evs);
		if (r < 0) {
			err = r;
			break;
		}
		n += r;
	}
	json_decref(names);
	return err ? err : n;
}
