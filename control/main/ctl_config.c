/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Settings of vigil-control: one table of keys, read from a JSON object
 * file and from command-line options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_config.h"

enum key_type { K_STR, K_SIZE, K_INT, K_LIST, K_REAL };

enum key_id {
	K_LISTEN, K_TLS_CERT, K_TLS_KEY, K_MAX_BODY, K_MAX_INGEST_BODY, K_MAX_DISCARD,
	K_DEFAULT_LIMIT, K_MAX_LIMIT, K_CONN_LIMIT, K_CONN_TIMEOUT, K_WINDOW, K_HB_PERIOD,
	K_SILENT_PERIODS, K_EVIDENCE_FIRST, K_EVIDENCE_EVERY, K_BLIND_SEVERITY, K_RAISE_AT,
	K_TICK_INTERVAL, K_NOTIFY_TRIES, K_NOTIFY_BACKOFF, K_NOTIFY_TIMEOUT, K_NOTIFY_QUEUE,
	K_NOTIFY_SOURCE, K_MAX_RULESET_BODY, K_VIGIL_PATH, K_LINT_PATH, K_REFERENCE_PCAP,
	K_PERF_THRESHOLD, K_VALIDATE_TIMEOUT, K_WORK_DIR, K_DRIFT_GRACE,
};

static const struct key {
	const char *name;
	enum key_id id;
	enum key_type type;
	int64_t min, max;
} keys[] = {
	{ "listen", K_LISTEN, K_STR, 0, 0 },
	{ "tls_cert", K_TLS_CERT, K_STR, 0, 0 },
	{ "tls_key", K_TLS_KEY, K_STR, 0, 0 },
	{ "max_body", K_MAX_BODY, K_SIZE, 1024, 1ll << 30 },
	{ "max_ingest_body", K_MAX_INGEST_BODY, K_SIZE, 1024, 1ll << 30 },
	{ "max_discard", K_MAX_DISCARD, K_SIZE, 0, 1ll << 34 },
	{ "default_limit", K_DEFAULT_LIMIT, K_INT, 1, 1000000 },
	{ "max_limit", K_MAX_LIMIT, K_INT, 1, 10000000 },
	{ "connection_limit", K_CONN_LIMIT, K_INT, 1, 65536 },
	{ "connection_timeout_s", K_CONN_TIMEOUT, K_INT, 1, 3600 },
	{ "window_s", K_WINDOW, K_INT, 1, 30 * 86400 },
	{ "heartbeat_period_s", K_HB_PERIOD, K_INT, 1, 86400 },
	{ "silent_periods", K_SILENT_PERIODS, K_INT, 1, 1000 },
	{ "evidence_first", K_EVIDENCE_FIRST, K_INT, 0, 1000000 },
	{ "evidence_every", K_EVIDENCE_EVERY, K_INT, 0, 1000000000 },
	{ "blind_severity", K_BLIND_SEVERITY, K_INT, 1, 255 },
	{ "raise_at", K_RAISE_AT, K_LIST, 1, 1000000000 },
	{ "tick_interval_s", K_TICK_INTERVAL, K_INT, 0, 3600 },
	{ "notify_max_tries", K_NOTIFY_TRIES, K_INT, 1, 100 },
	{ "notify_backoff_ms", K_NOTIFY_BACKOFF, K_INT, 1, 3600000 },
	{ "notify_timeout_s", K_NOTIFY_TIMEOUT, K_INT, 1, 3600 },
	{ "notify_queue_max", K_NOTIFY_QUEUE, K_INT, 1, 10000000 },
	{ "notify_source", K_NOTIFY_SOURCE, K_STR, 0, 0 },
	{ "max_ruleset_body", K_MAX_RULESET_BODY, K_SIZE, 1024, 1ll << 33 },
	{ "vigil_path", K_VIGIL_PATH, K_STR, 0, 0 },
	{ "vigil_lint_path", K_LINT_PATH, K_STR, 0, 0 },
	{ "reference_pcap", K_REFERENCE_PCAP, K_STR, 0, 0 },
	{ "perf_threshold", K_PERF_THRESHOLD, K_REAL, 1, 1000 },
	{ "validate_timeout_s", K_VALIDATE_TIMEOUT, K_INT, 1, 86400 },
	{ "work_dir", K_WORK_DIR, K_STR, 0, 0 },
	{ "drift_grace_s", K_DRIFT_GRACE, K_INT, 0, 30 * 86400 },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* "123", "64k", "8m", "1g" (binary multiples). */
static int parse_size(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

void ctl_settings_default(struct ctl_settings *s)
{
	api_config_default(&s->api);
	/* the notifier's own defaults (5 tries, 1 s backoff, 5 s timeout,
	 * 10000 queued, the host name) are what zero asks for */
	memset(&s->notify, 0, sizeof(s->notify));
	s->tick_interval_s = 1;
	memset(&s->rules, 0, sizeof(s->rules));
	s->rules.perf_threshold = 1.25;
	s->rules.timeout_s = 300;
}

static void set(struct ctl_settings *cs, enum key_id id, int64_t v, const char *s)
{
	struct api_config *c = &cs->api;

	switch (id) {
	case K_LISTEN: c->listen = s; break;
	case K_TLS_CERT: c->tls_cert = s; break;
	case K_TLS_KEY: c->tls_key = s; break;
	case K_MAX_BODY: c->max_body = (size_t)v; break;
	case K_MAX_INGEST_BODY: c->max_ingest_body = (size_t)v; break;
	case K_MAX_DISCARD: c->max_discard = (size_t)v; break;
	case K_DEFAULT_LIMIT: c->default_limit = v; break;
	case K_MAX_LIMIT: c->max_limit = v; break;
	case K_CONN_LIMIT: c->connection_limit = (unsigned)v; break;
	case K_CONN_TIMEOUT: c->connection_timeout_s = (unsigned)v; break;
	case K_WINDOW: c->incident.window_s = v; break;
	case K_HB_PERIOD: c->incident.heartbeat_period_s = v; break;
	case K_SILENT_PERIODS: c->incident.silent_periods = v; break;
	case K_EVIDENCE_FIRST: c->incident.evidence_first = v; break;
	case K_EVIDENCE_EVERY: c->incident.evidence_every = v; break;
	case K_BLIND_SEVERITY: c->incident.blind_severity = v; break;
	case K_TICK_INTERVAL: cs->tick_interval_s = v; break;
	case K_NOTIFY_TRIES: cs->notify.max_tries = (unsigned)v; break;
	case K_NOTIFY_BACKOFF: cs->notify.backoff_s = (double)v / 1000.0; break;
	case K_NOTIFY_TIMEOUT: cs->notify.timeout_s = (double)v; break;
	case K_NOTIFY_QUEUE: cs->notify.queue_max = (size_t)v; break;
	case K_NOTIFY_SOURCE: cs->notify.source = s; break;
	case K_MAX_RULESET_BODY: c->max_ruleset_body = (size_t)v; break;
	case K_VIGIL_PATH: cs->rules.vigil_path = s; break;
	case K_LINT_PATH: cs->rules.lint_path = s; break;
	case K_REFERENCE_PCAP: cs->rules.reference_pcap = s; break;
	case K_VALIDATE_TIMEOUT: cs->rules.timeout_s = v; break;
	case K_WORK_DIR: cs->rules.work_dir = s; break;
	case K_DRIFT_GRACE: c->incident.drift_grace_s = v; break;
	case K_RAISE_AT: break;
	case K_PERF_THRESHOLD: break;
	}
}

/* One value, from JSON (j) or text (s); messages name where it came from. */
static int apply(struct ctl_settings *c, const struct key *k, json_t *j, const char *s,
		 const char *where)
{
	int64_t v = 0;
	size_t i;
	json_t *e;

	switch (k->type) {
	case K_STR:
		if (j && !json_is_string(j))
			goto bad;
		set(c, k->id, 0, j ? json_string_value(j) : s);
		return 0;
	case K_REAL:
		if (!json_is_number(j) || json_number_value(j) < (double)k->min ||
		    json_number_value(j) > (double)k->max)
			goto bad;
		c->rules.perf_threshold = json_number_value(j);
		return 0;
	case K_SIZE:
	case K_INT:
		if (j && json_is_integer(j))
			v = json_integer_value(j);
		else if (j && json_is_string(j) && k->type == K_SIZE)
			s = json_string_value(j);
		else if (j)
			goto bad;
		if (s && (k->type == K_SIZE ? parse_size(s, &v) : parse_int(s, &v)) != 0)
			goto bad;
		if (v < k->min || v > k->max)
			goto bad;
		set(c, k->id, v, NULL);
		return 0;
	case K_LIST:
		if (!json_is_array(j) || json_array_size(j) > 4)
			goto bad;
		memset(c->api.incident.raise_at, 0, sizeof(c->api.incident.raise_at));
		json_array_foreach(j, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < k->min ||
			    json_integer_value(e) > k->max)
				goto bad;
			c->api.incident.raise_at[i] = json_integer_value(e);
		}
		return 0;
	}
bad:
	if (k->type == K_STR)
		fprintf(stderr, "vigil-control: %s%s: expected a string\n", where, k->name);
	else if (k->type == K_REAL)
		fprintf(stderr, "vigil-control: %s%s: expected a number between %lld and %lld\n", where,
			k->name, (long long)k->min, (long long)k->max);
	else if (k->type == K_LIST)
		fprintf(stderr, "vigil-control: %s%s: expected up to 4 alert counts\n", where, k->name);
	else
		fprintf(stderr, "vigil-control: %s%s: expected %s between %lld and %lld\n", where, k->name,
			k->type == K_SIZE ? "a size (bytes, or with k/m/g)" : "an integer",
			(long long)k->min, (long long)k->max);
	return -EINVAL;
}

static const struct key *find(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int ctl_config_load(const char *path, struct ctl_settings *cfg, json_t **keep)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *v;
	const char *name;
	char where[512];

	*keep = NULL;
	if (!root) {
		fprintf(stderr, "vigil-control: %s:%d:%d: %s\n", path, je.line, je.column, je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		fprintf(stderr, "vigil-control: %s: expected a JSON object\n", path);
		json_decref(root);
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "%s: ", path);
	json_object_foreach(root, name, v) {
		const struct key *k = find(name);
		if (!k) {
			fprintf(stderr, "vigil-control: %s: %s: unknown setting\n", path, name);
			json_decref(root);
			return -EINVAL;
		}
		if (apply(cfg, k, v, NULL, where) != 0) {
			json_decref(root);
			return -EINVAL;
		}
	}
	*keep = root;
	return 0;
}

int ctl_override_opt(struct ctl_overrides *ov, int c, const char *arg)
{
	switch (c) {
	case 'l': ov->listen = arg; return 0;
	case 'C': ov->tls_cert = arg; return 0;
	case 'K': ov->tls_key = arg; return 0;
	case 'b': ov->max_body = arg; return 0;
	case 'B': ov->max_ingest_body = arg; return 0;
	case 'm': ov->max_limit = arg; return 0;
	case 'p': ov->heartbeat_period = arg; return 0;
	case 'w': ov->window = arg; return 0;
	default: return -EINVAL;
	}
}

int ctl_overrides_apply(const struct ctl_overrides *ov, struct ctl_settings *cfg)
{
	const struct {
		const char *val, *key, *opt;
	} m[] = {
		{ ov->listen, "listen", "--listen " },
		{ ov->tls_cert, "tls_cert", "--tls-cert " },
		{ ov->tls_key, "tls_key", "--tls-key " },
		{ ov->max_body, "max_body", "--max-body " },
		{ ov->max_ingest_body, "max_ingest_body", "--max-ingest-body " },
		{ ov->max_limit, "max_limit", "--max-limit " },
		{ ov->heartbeat_period, "heartbeat_period_s", "--heartbeat-period " },
		{ ov->window, "window_s", "--window " },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (m[i].val && apply(cfg, find(m[i].key), NULL, m[i].val, "") != 0) {
			fprintf(stderr, "vigil-control: (from %s%s)\n", m[i].opt, m[i].val);
			return -EINVAL;
		}
	}
	if (cfg->api.default_limit > cfg->api.max_limit) {
		fprintf(stderr, "vigil-control: default_limit %lld exceeds max_limit %lld\n",
			(long long)cfg->api.default_limit, (long long)cfg->api.max_limit);
		return -EINVAL;
	}
	return 0;
}
