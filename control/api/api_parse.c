/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request body parsers: JSON in, type-checked structs out, messages that
 * name the offending field.  No database, no HTTP (fuzzed on their own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>

#include "api_parse.h"

const char *const api_role_names[API_ROLE_N] = {
	[API_ROLE_SENSOR] = "sensor",
	[API_ROLE_VIEWER] = "viewer",
	[API_ROLE_RULE_AUTHOR] = "rule_author",
	[API_ROLE_RULE_APPROVER] = "rule_approver",
	[API_ROLE_RESPONDER] = "responder",
	[API_ROLE_INCIDENT_MANAGER] = "incident_manager",
	[API_ROLE_ADMIN] = "admin",
};

static const char *const statuses[] = {
	"open", "acknowledged", "investigating", "mitigated", "resolved", "closed", NULL,
};

static const char *const target_types[] = { "webhook", "pagerduty", "syslog", NULL };

/* api_role_names, NULL-terminated for get_enum() */
static const char *const roles[] = {
	"sensor", "viewer", "rule_author", "rule_approver", "responder", "incident_manager", "admin",
	NULL,
};

int api_role_parse(const char *name, enum api_role *out)
{
	for (int i = 0; i < API_ROLE_N; i++) {
		if (strcmp(name, api_role_names[i]) == 0) {
			*out = (enum api_role)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool api_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= STORE_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* --- RFC 3339 --------------------------------------------------------- */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int api_parse_time(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!digits(p + 1, 2, &oh))
			return -EINVAL;
		p += 3;
		if (*p == ':')
			p++;
		if (!digits(p, 2, &om))
			return -EINVAL;
		p += 2;
		if (oh > 23 || om > 59)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec) -
	       sign * (oh * 3600 + om * 60);
	return 0;
}

/* --- field helpers ---------------------------------------------------- */

struct ctx {
	char *err;
	size_t errlen;
};

/* Sets the error "PREFIX.KEY: message" (or "KEY: ..." without prefix). */
static int fail(struct ctx *c, const char *prefix, const char *key, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s%s%s: %s", prefix, *prefix && *key ? "." : "", key, msg);
	return -EINVAL;
}

/* A string member: -EINVAL if missing (when required), not a string, empty
 * or longer than max bytes.  *out stays NULL when absent and optional. */
static int get_str(struct ctx *c, json_t *o, const char *prefix, const char *key, bool required,
		   size_t max, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(c, prefix, key, "missing");
		return 0;
	}
	if (!json_is_string(v))
		return fail(c, prefix, key, "expected a string");
	if (json_string_length(v) == 0 && required)
		return fail(c, prefix, key, "must not be empty");
	if (json_string_length(v) > max)
		return fail(c, prefix, key, "longer than %zu bytes", max);
	*out = json_string_value(v);
	return 0;
}

/* An integer member in [min, max]; *out = def when absent and optional. */
static int get_int(struct ctx *c, json_t *o, const char *prefix, const char *key, bool required,
		   int64_t min, int64_t max, int64_t def, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(c, prefix, key, "missing");
		return 0;
	}
	if (!json_is_integer(v))
		return fail(c, prefix, key, "expected an integer");
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(c, prefix, key, "must be between %lld and %lld", (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

/* A required RFC 3339 time member: the text in *out, the seconds in *epoch. */
static int get_time(struct ctx *c, json_t *o, const char *prefix, const char *key, const char **out,
		    int64_t *epoch)
{
	int err = get_str(c, o, prefix, key, true, 64, out);

	if (err)
		return err;
	if (api_parse_time(*out, epoch) != 0)
		return fail(c, prefix, key, "not an RFC 3339 time");
	return 0;
}

static int get_name(struct ctx *c, json_t *o, const char *prefix, const char *key, const char **out)
{
	int err = get_str(c, o, prefix, key, true, STORE_NAME_MAX, out);

	if (!err && !api_name_valid(*out))
		return fail(c, prefix, key, "must be 1 to 64 of A-Z a-z 0-9 . _ -");
	return err;
}

static int get_enum(struct ctx *c, json_t *o, const char *prefix, const char *key,
		    const char *const *names, const char **out)
{
	char all[160];
	size_t n = 0;
	int err = get_str(c, o, prefix, key, true, 64, out);

	if (err)
		return err;
	for (const char *const *p = names; *p; p++)
		if (strcmp(*p, *out) == 0)
			return 0;
	all[0] = '\0';
	for (const char *const *p = names; *p && n < sizeof(all); p++)
		n += (size_t)snprintf(all + n, sizeof(all) - n, "%s%s", p == names ? "" : ", ", *p);
	return fail(c, prefix, key, "must be one of %s", all);
}

static int get_ip(struct ctx *c, json_t *o, const char *prefix, const char *key, const char **out)
{
	unsigned char buf[16];
	int err = get_str(c, o, prefix, key, true, 45, out);

	if (err)
		return err;
	if (inet_pton(AF_INET, *out, buf) != 1 && inet_pton(AF_INET6, *out, buf) != 1)
		return fail(c, prefix, key, "not an IP address");
	return 0;
}

static bool base64_valid(const char *s, size_t n)
{
	struct base64_decode_ctx d;
	uint8_t out[96];

	base64_decode_init(&d);
	while (n > 0) {
		size_t chunk = n > 64 ? 64 : n, dst = sizeof(out);
		if (!base64_decode_update(&d, &dst, out, chunk, s))
			return false;
		s += chunk;
		n -= chunk;
	}
	return base64_decode_final(&d) != 0;
}

bool api_id_prefix_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 8 && n <= 64 && strspn(s, "0123456789abcdefABCDEF") == n;
}

static int get_bool(struct ctx *c, json_t *o, const char *prefix, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fail(c, prefix, key, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

/* A ruleset version id or unique prefix. */
static int get_id(struct ctx *c, json_t *o, const char *prefix, const char *key, bool required,
		  const char **out)
{
	int err = get_str(c, o, prefix, key, required, SIZE_MAX, out);

	if (!err && *out && !api_id_prefix_valid(*out))
		return fail(c, prefix, key, "expected a version id (8 to 64 hex digits)");
	return err;
}

/* An optional array of sids as compact JSON text ("[]" when absent). */
static int get_sids(struct ctx *c, json_t *o, const char *prefix, const char *key, char **out)
{
	json_t *v = json_object_get(o, key), *e;
	char p[96];
	size_t i;

	*out = NULL;
	if (v && !json_is_null(v) && (!json_is_array(v) || json_array_size(v) > API_MAX_CASE_SIDS))
		return fail(c, prefix, key, "expected an array of at most %d sids", API_MAX_CASE_SIDS);
	json_array_foreach(v, i, e) {
		if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > UINT32_MAX) {
			snprintf(p, sizeof(p), "%s.%s[%zu]", prefix, key, i);
			return fail(c, p, "", "expected a sid (1 to 4294967295)");
		}
	}
	*out = v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT) : strdup("[]");
	return *out ? 0 : -ENOMEM;
}

/* The first bytes of a pcap (either byte order, micro- or nanoseconds) or
 * a pcapng section header block. */
static bool capture_magic(const uint8_t *p, size_t n)
{
	static const uint8_t magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 }, { 0x4d, 0x3c, 0xb2, 0xa1 },
		{ 0xa1, 0xb2, 0x3c, 0x4d }, { 0x0a, 0x0d, 0x0d, 0x0a },
	};

	for (size_t i = 0; n >= 4 && i < sizeof(magics) / sizeof(magics[0]); i++)
		if (memcmp(p, magics[i], 4) == 0)
			return true;
	return false;
}

/* "pcap_b64" decoded into k; *total counts every case's bytes.  -EFBIG
 * past the bounds (413). */
static int get_pcap(struct ctx *c, json_t *o, const char *prefix, size_t *total, struct api_case *k)
{
	struct base64_decode_ctx d;
	const char *b64;
	size_t n, dst = 0;
	int err = get_str(c, o, prefix, "pcap_b64", true, SIZE_MAX, &b64);

	if (err)
		return err;
	n = json_string_length(json_object_get(o, "pcap_b64"));
	if (n / 4 * 3 > API_CASE_PCAP_MAX + 3) {
		fail(c, prefix, "pcap_b64", "larger than %u MiB decoded", API_CASE_PCAP_MAX >> 20);
		return -EFBIG;
	}
	k->pcap = malloc(BASE64_DECODE_LENGTH(n) + 1);
	if (!k->pcap)
		return -ENOMEM;
	base64_decode_init(&d);
	if (!base64_decode_update(&d, &dst, k->pcap, n, b64) || !base64_decode_final(&d))
		return fail(c, prefix, "pcap_b64", "not base64");
	k->pcap_len = dst;
	if (dst > API_CASE_PCAP_MAX) {
		fail(c, prefix, "pcap_b64", "larger than %u MiB decoded", API_CASE_PCAP_MAX >> 20);
		return -EFBIG;
	}
	*total += dst;
	if (*total > API_CASES_PCAP_MAX) {
		fail(c, "", "cases", "more than %u MiB of captures", API_CASES_PCAP_MAX >> 20);
		return -EFBIG;
	}
	if (!capture_magic(k->pcap, dst))
		return fail(c, prefix, "pcap_b64", "not a pcap or pcapng capture");
	return 0;
}

/* --- bodies ----------------------------------------------------------- */

static int parse_alert(struct ctx *c, json_t *o, size_t i, const char *sensor, struct store_alert *a)
{
	char p[32];
	int err;

	snprintf(p, sizeof(p), "alerts[%zu]", i);
	if (!json_is_object(o))
		return fail(c, p, "", "expected an object");
	a->sensor = sensor;
	if ((err = get_str(c, o, p, "id", true, 200, &a->id)) ||
	    (err = get_time(c, o, p, "ts", &a->ts, &a->ts_epoch)) ||
	    (err = get_int(c, o, p, "sid", true, 0, UINT32_MAX, 0, &a->sid)) ||
	    (err = get_int(c, o, p, "gid", false, 0, UINT32_MAX, -1, &a->gid)) ||
	    (err = get_int(c, o, p, "rev", false, 0, UINT32_MAX, -1, &a->rev)) ||
	    (err = get_int(c, o, p, "severity", true, 1, 255, 0, &a->severity)) ||
	    (err = get_str(c, o, p, "signature", false, 1024, &a->signature)) ||
	    (err = get_str(c, o, p, "category", false, 256, &a->category)) ||
	    (err = get_str(c, o, p, "action", false, 32, &a->action)) ||
	    (err = get_str(c, o, p, "ruleset", false, 128, &a->ruleset)) ||
	    (err = get_str(c, o, p, "proto", false, 32, &a->proto)) ||
	    (err = get_ip(c, o, p, "src_ip", &a->src_ip)) ||
	    (err = get_ip(c, o, p, "dest_ip", &a->dest_ip)) ||
	    (err = get_int(c, o, p, "src_port", false, 0, 65535, -1, &a->src_port)) ||
	    (err = get_int(c, o, p, "dest_port", false, 0, 65535, -1, &a->dest_port)) ||
	    (err = get_int(c, o, p, "flow_id", false, 0, INT64_MAX, -1, &a->flow_id)) ||
	    (err = get_str(c, o, p, "payload", false, SIZE_MAX, &a->payload)))
		return err;
	if (a->payload && !base64_valid(a->payload, strlen(a->payload)))
		return fail(c, p, "payload", "not base64");
	return 0;
}

/* FLOW: the limits of ALERT for the id, addresses, ports and proto;
 * "type", when given, must say "flow" (the dataplane sends it). */
static int parse_flow(struct ctx *c, json_t *o, size_t i, const char *sensor, struct store_flow *f)
{
	const char *type;
	char p[32];
	int err;

	snprintf(p, sizeof(p), "flows[%zu]", i);
	if (!json_is_object(o))
		return fail(c, p, "", "expected an object");
	f->sensor = sensor;
	if ((err = get_str(c, o, p, "id", true, 200, &f->id)) ||
	    (err = get_str(c, o, p, "type", false, 32, &type)))
		return err;
	if (type && strcmp(type, "flow") != 0)
		return fail(c, p, "type", "must be \"flow\"");
	if ((err = get_int(c, o, p, "flow_id", true, 0, INT64_MAX, 0, &f->flow_id)) ||
	    (err = get_time(c, o, p, "start", &f->start, &f->start_epoch)) ||
	    (err = get_time(c, o, p, "end", &f->end, &f->end_epoch)) ||
	    (err = get_ip(c, o, p, "src_ip", &f->src_ip)) ||
	    (err = get_ip(c, o, p, "dest_ip", &f->dest_ip)) ||
	    (err = get_int(c, o, p, "src_port", false, 0, 65535, -1, &f->src_port)) ||
	    (err = get_int(c, o, p, "dest_port", false, 0, 65535, -1, &f->dest_port)) ||
	    (err = get_str(c, o, p, "proto", false, 32, &f->proto)) ||
	    (err = get_int(c, o, p, "pkts_toserver", true, 0, INT64_MAX, 0, &f->pkts_toserver)) ||
	    (err = get_int(c, o, p, "pkts_toclient", true, 0, INT64_MAX, 0, &f->pkts_toclient)) ||
	    (err = get_int(c, o, p, "bytes_toserver", true, 0, INT64_MAX, 0, &f->bytes_toserver)) ||
	    (err = get_int(c, o, p, "bytes_toclient", true, 0, INT64_MAX, 0, &f->bytes_toclient)) ||
	    (err = get_str(c, o, p, "state", false, 32, &f->state)) ||
	    (err = get_str(c, o, p, "reason", false, 32, &f->reason)))
		return err;
	return 0;
}

static int parse_ingest(struct ctx *c, struct api_body *b)
{
	json_t *alerts, *flows, *o;
	size_t i;
	int err = get_name(c, b->root, "", "sensor", &b->u.ingest.sensor);

	if (err)
		return err;
	alerts = json_object_get(b->root, "alerts");
	if (!alerts)
		return fail(c, "", "alerts", "missing");
	if (!json_is_array(alerts))
		return fail(c, "", "alerts", "expected an array");
	b->u.ingest.n = json_array_size(alerts);
	b->u.ingest.alerts = calloc(b->u.ingest.n ? b->u.ingest.n : 1, sizeof(struct store_alert));
	if (!b->u.ingest.alerts)
		return -ENOMEM;
	json_array_foreach(alerts, i, o) {
		err = parse_alert(c, o, i, b->u.ingest.sensor, &b->u.ingest.alerts[i]);
		if (err)
			return err;
	}
	flows = json_object_get(b->root, "flows");
	if (!flows || json_is_null(flows))
		return 0;
	if (!json_is_array(flows))
		return fail(c, "", "flows", "expected an array");
	b->u.ingest.nflows = json_array_size(flows);
	if (b->u.ingest.nflows == 0)
		return 0;
	b->u.ingest.flows = calloc(b->u.ingest.nflows, sizeof(struct store_flow));
	if (!b->u.ingest.flows)
		return -ENOMEM;
	json_array_foreach(flows, i, o) {
		err = parse_flow(c, o, i, b->u.ingest.sensor, &b->u.ingest.flows[i]);
		if (err)
			return err;
	}
	return 0;
}

/* "load": {"loaded", "skipped", "error"} of the last (re)load, kept as
 * text with only those keys. */
static int parse_load(struct ctx *c, struct api_body *b)
{
	json_t *load = json_object_get(b->root, "load");
	int64_t loaded, skipped;
	const char *error;
	json_t *o;
	int err;

	if (!load || json_is_null(load))
		return 0;
	if (!json_is_object(load))
		return fail(c, "", "load", "expected an object");
	if ((err = get_int(c, load, "load", "loaded", false, 0, INT64_MAX, 0, &loaded)) ||
	    (err = get_int(c, load, "load", "skipped", false, 0, INT64_MAX, 0, &skipped)) ||
	    (err = get_str(c, load, "load", "error", false, API_REASON_MAX, &error)))
		return err;
	o = json_pack("{s:I, s:I, s:s?}", "loaded", (json_int_t)loaded, "skipped", (json_int_t)skipped,
		      "error", error);
	if (o && !error)
		json_object_set_new(o, "error", json_null());
	b->u.heartbeat.load_text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return b->u.heartbeat.load_text ? 0 : -ENOMEM;
}

static int parse_heartbeat(struct ctx *c, struct api_body *b)
{
	json_t *rs, *counters, *v;
	const char *k;
	int err;

	if ((err = get_name(c, b->root, "", "sensor", &b->u.heartbeat.sensor)) ||
	    (err = get_str(c, b->root, "", "version", false, 64, &b->u.heartbeat.version)))
		return err;
	rs = json_object_get(b->root, "ruleset");
	if (json_is_integer(rs)) {
		snprintf(b->u.heartbeat.ruleset_buf, sizeof(b->u.heartbeat.ruleset_buf), "%lld",
			 (long long)json_integer_value(rs));
		b->u.heartbeat.ruleset = b->u.heartbeat.ruleset_buf;
	} else if ((err = get_str(c, b->root, "", "ruleset", false, 128, &b->u.heartbeat.ruleset))) {
		return fail(c, "", "ruleset", "expected a string or an integer");
	}
	counters = json_object_get(b->root, "counters");
	if (counters && !json_is_null(counters)) {
		if (!json_is_object(counters))
			return fail(c, "", "counters", "expected an object");
		if (json_object_size(counters) > 4096)
			return fail(c, "", "counters", "more than 4096 counters");
		json_object_foreach(counters, k, v) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return fail(c, "counters", k, "expected a non-negative integer");
			if (strlen(k) > 128)
				return fail(c, "counters", "", "a name is longer than 128 bytes");
		}
		b->u.heartbeat.counters = counters;
	}
	b->u.heartbeat.counters_text = b->u.heartbeat.counters ?
		json_dumps(b->u.heartbeat.counters, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
	if (!b->u.heartbeat.counters_text)
		return -ENOMEM;
	if ((err = get_str(c, b->root, "", "config_hash", false, API_CONFIG_HASH_MAX,
			   &b->u.heartbeat.config_hash)))
		return err;
	return parse_load(c, b);
}

static int parse_policies(struct ctx *c, struct api_body *b)
{
	json_t *o, *t;
	size_t i, j;
	unsigned seen = 0;
	int err;

	b->u.escalation.n = json_array_size(b->root);
	if (b->u.escalation.n > 3)
		return fail(c, "", "body", "at most 3 policies (severities 1 to 3)");
	b->u.escalation.v = calloc(3, sizeof(struct store_policy));
	if (!b->u.escalation.v)
		return -ENOMEM;
	json_array_foreach(b->root, i, o) {
		struct store_policy *p = &b->u.escalation.v[i];
		json_t *tiers;
		char pfx[32];
		snprintf(pfx, sizeof(pfx), "[%zu]", i);
		if (!json_is_object(o))
			return fail(c, pfx, "", "expected an object");
		if ((err = get_int(c, o, pfx, "severity", true, 1, 3, 0, &p->severity)) ||
		    (err = get_int(c, o, pfx, "ack_within_s", true, 1, 365 * 86400, 0, &p->ack_within_s)))
			return err;
		if (seen & (1u << p->severity))
			return fail(c, pfx, "severity", "duplicate %lld", (long long)p->severity);
		seen |= 1u << p->severity;
		tiers = json_object_get(o, "tiers");
		if (!tiers)
			return fail(c, pfx, "tiers", "missing");
		if (!json_is_array(tiers) || json_array_size(tiers) < 1 ||
		    json_array_size(tiers) > API_MAX_TIERS)
			return fail(c, pfx, "tiers", "expected an array of 1 to %d names", API_MAX_TIERS);
		json_array_foreach(tiers, j, t) {
			if (!json_is_string(t) || json_string_length(t) < 1 || json_string_length(t) > 64) {
				char tp[64];
				snprintf(tp, sizeof(tp), "%s.tiers[%zu]", pfx, j);
				return fail(c, tp, "", "expected a name of 1 to 64 bytes");
			}
		}
		p->tiers = json_dumps(tiers, JSON_COMPACT);
		if (!p->tiers)
			return -ENOMEM;
	}
	return 0;
}

static int parse_targets(struct ctx *c, struct api_body *b)
{
	json_t *o;
	size_t i;
	int err;

	b->u.notify.n = json_array_size(b->root);
	if (b->u.notify.n > API_MAX_TARGETS)
		return fail(c, "", "body", "at most %d targets", API_MAX_TARGETS);
	b->u.notify.v = calloc(b->u.notify.n ? b->u.notify.n : 1, sizeof(struct store_target));
	if (!b->u.notify.v)
		return -ENOMEM;
	json_array_foreach(b->root, i, o) {
		struct store_target *t = &b->u.notify.v[i];
		char pfx[32];
		snprintf(pfx, sizeof(pfx), "[%zu]", i);
		if (!json_is_object(o))
			return fail(c, pfx, "", "expected an object");
		if ((err = get_name(c, o, pfx, "name", &t->name)) ||
		    (err = get_enum(c, o, pfx, "type", target_types, &t->type)) ||
		    (err = get_str(c, o, pfx, "url", false, 2048, &t->url)) ||
		    (err = get_str(c, o, pfx, "routing_key", false, 256, &t->routing_key)) ||
		    (err = get_int(c, o, pfx, "min_severity", false, INT64_MIN, INT64_MAX, -1,
				   &t->min_severity)))
			return err;
		if (t->min_severity > 255)
			return fail(c, pfx, "min_severity",
				    "must be at most 255 (0 or less, or null: every severity)");
		/* 0 or less means every severity, as absent or null does: one
		 * stored form (NULL), so GET answers null for all of them */
		if (t->min_severity <= 0)
			t->min_severity = -1;
		for (size_t k = 0; k < i; k++)
			if (strcmp(b->u.notify.v[k].name, t->name) == 0)
				return fail(c, pfx, "name", "duplicate \"%s\"", t->name);
		if (strcmp(t->type, "pagerduty") == 0) {
			if (!t->routing_key)
				return fail(c, pfx, "routing_key", "missing (pagerduty)");
		} else if (!t->url) {
			return fail(c, pfx, "url", "missing (%s)", t->type);
		}
		if (strcmp(t->type, "syslog") == 0 && strncmp(t->url, "udp://", 6) != 0)
			return fail(c, pfx, "url", "must be udp://HOST:PORT");
		if (strcmp(t->type, "syslog") != 0 && t->url && strncmp(t->url, "http://", 7) != 0 &&
		    strncmp(t->url, "https://", 8) != 0)
			return fail(c, pfx, "url", "must be an http:// or https:// URL");
	}
	return 0;
}

static int parse_case(struct ctx *c, json_t *o, size_t i, size_t *total, struct api_body *b)
{
	struct api_case *k = &b->u.ruleset.cases[i];
	char p[32];
	int err;

	snprintf(p, sizeof(p), "cases[%zu]", i);
	if (!json_is_object(o))
		return fail(c, p, "", "expected an object");
	if ((err = get_name(c, o, p, "name", &k->name)))
		return err;
	for (size_t j = 0; j < i; j++)
		if (strcmp(b->u.ruleset.cases[j].name, k->name) == 0)
			return fail(c, p, "name", "duplicate \"%s\"", k->name);
	if ((err = get_pcap(c, o, p, total, k)) || (err = get_sids(c, o, p, "must", &k->must)) ||
	    (err = get_sids(c, o, p, "must_not", &k->must_not)))
		return err;
	return 0;
}

static int parse_ruleset(struct ctx *c, struct api_body *b)
{
	json_t *cases = json_object_get(b->root, "cases"), *o;
	size_t i, total = 0;
	int err;

	if ((err = get_str(c, b->root, "", "content", true, SIZE_MAX, &b->u.ruleset.content)) ||
	    (err = get_str(c, b->root, "", "message", true, API_MESSAGE_MAX, &b->u.ruleset.message)) ||
	    (err = get_id(c, b->root, "", "parent", false, &b->u.ruleset.parent)))
		return err;
	b->u.ruleset.content_len = json_string_length(json_object_get(b->root, "content"));
	if (!cases || json_is_null(cases))
		return 0;
	if (!json_is_array(cases) || json_array_size(cases) > API_MAX_CASES)
		return fail(c, "", "cases", "expected an array of at most %d cases", API_MAX_CASES);
	b->u.ruleset.has_cases = true;
	b->u.ruleset.ncases = json_array_size(cases);
	if (b->u.ruleset.ncases == 0)
		return 0;
	b->u.ruleset.cases = calloc(b->u.ruleset.ncases, sizeof(struct api_case));
	if (!b->u.ruleset.cases)
		return -ENOMEM;
	json_array_foreach(cases, i, o) {
		if ((err = parse_case(c, o, i, &total, b)))
			return err;
	}
	return 0;
}

static const char *const edit_actions[] = { "enable", "disable", "edit", "add", NULL };

static int parse_edit(struct ctx *c, struct api_body *b)
{
	const char *a;
	int err;

	if ((err = get_enum(c, b->root, "", "action", edit_actions, &b->u.edit.action)) ||
	    (err = get_int(c, b->root, "", "sid", true, 1, UINT32_MAX, 0, &b->u.edit.sid)) ||
	    (err = get_str(c, b->root, "", "rule", false, API_RULE_MAX, &b->u.edit.rule)) ||
	    (err = get_str(c, b->root, "", "message", true, API_MESSAGE_MAX, &b->u.edit.message)))
		return err;
	a = b->u.edit.action;
	if ((strcmp(a, "edit") == 0 || strcmp(a, "add") == 0) && (!b->u.edit.rule || !*b->u.edit.rule))
		return fail(c, "", "rule", "missing (required to %s)", a);
	if (b->u.edit.rule && strpbrk(b->u.edit.rule, "\r\n"))
		return fail(c, "", "rule", "must be one line");
	return 0;
}

/* approve (comment optional) and reject (comment required). */
static int parse_decision(struct ctx *c, struct api_body *b, bool reject)
{
	int err;

	if ((err = get_str(c, b->root, "", "comment", reject, API_REASON_MAX, &b->u.decision.comment)) ||
	    (err = get_str(c, b->root, "", "reason", false, API_REASON_MAX, &b->u.decision.reason)))
		return err;
	if (reject)
		return 0;
	if ((err = get_bool(c, b->root, "", "override", &b->u.decision.override)))
		return err;
	if (b->u.decision.override && (!b->u.decision.reason || !*b->u.decision.reason))
		return fail(c, "", "reason", "missing (required with override)");
	return 0;
}

static int parse_sensors(struct ctx *c, struct api_body *b)
{
	json_t *v = json_object_get(b->root, "sensors"), *e;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > API_MAX_SENSORS)
		return fail(c, "", "sensors", "expected an array of 1 to %d sensor names", API_MAX_SENSORS);
	b->u.deploy.sensors = calloc(json_array_size(v), sizeof(char *));
	if (!b->u.deploy.sensors)
		return -ENOMEM;
	json_array_foreach(v, i, e) {
		const char *n = json_string_value(e);
		char p[32];
		snprintf(p, sizeof(p), "sensors[%zu]", i);
		if (!n || !api_name_valid(n))
			return fail(c, p, "", "expected a sensor name (1 to 64 of A-Z a-z 0-9 . _ -)");
		for (size_t j = 0; j < i; j++)
			if (strcmp(b->u.deploy.sensors[j], n) == 0)
				return fail(c, p, "", "duplicate \"%s\"", n);
		b->u.deploy.sensors[b->u.deploy.nsensors++] = n;
	}
	return 0;
}

static int parse_deploy(struct ctx *c, struct api_body *b, bool rollback)
{
	int err;

	if ((!rollback && (err = get_id(c, b->root, "", "ruleset", true, &b->u.deploy.ruleset))) ||
	    (err = parse_sensors(c, b)) ||
	    (err = get_str(c, b->root, "", "reason", false, API_REASON_MAX, &b->u.deploy.reason)))
		return err;
	if (rollback)
		return 0;
	if ((err = get_bool(c, b->root, "", "override", &b->u.deploy.override)))
		return err;
	if (b->u.deploy.override && (!b->u.deploy.reason || !*b->u.deploy.reason))
		return fail(c, "", "reason", "missing (required with override)");
	return 0;
}

static int parse_block(struct ctx *c, struct api_body *b, bool block);

static int parse_kind(struct ctx *c, struct api_body *b)
{
	int err;

	switch (b->kind) {
	case API_BODY_INGEST:
		return parse_ingest(c, b);
	case API_BODY_HEARTBEAT:
		return parse_heartbeat(c, b);
	case API_BODY_ACK:
		return 0;
	case API_BODY_ASSIGN:
		return get_name(c, b->root, "", "assignee", &b->u.assign.assignee);
	case API_BODY_NOTE:
		return get_str(c, b->root, "", "text", true, API_TEXT_MAX, &b->u.note.text);
	case API_BODY_STATUS:
		if ((err = get_enum(c, b->root, "", "status", statuses, &b->u.status.status)))
			return err;
		return get_str(c, b->root, "", "reason", false, API_REASON_MAX, &b->u.status.reason);
	case API_BODY_ESCALATION:
		return parse_policies(c, b);
	case API_BODY_NOTIFY:
		return parse_targets(c, b);
	case API_BODY_USER:
		if ((err = get_name(c, b->root, "", "name", &b->u.user.name)) ||
		    (err = get_enum(c, b->root, "", "role", roles, &b->u.user.role)))
			return err;
		return 0;
	case API_BODY_RULESET:
		return parse_ruleset(c, b);
	case API_BODY_RULE_EDIT:
		return parse_edit(c, b);
	case API_BODY_APPROVE:
	case API_BODY_REJECT:
		return parse_decision(c, b, b->kind == API_BODY_REJECT);
	case API_BODY_DEPLOY:
	case API_BODY_ROLLBACK:
		return parse_deploy(c, b, b->kind == API_BODY_ROLLBACK);
	case API_BODY_BLOCK:
	case API_BODY_UNBLOCK:
		return parse_block(c, b, b->kind == API_BODY_BLOCK);
	default:
		return 0;
	}
}

int api_prefix_canon(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	char addr[64], *slash, *end;
	unsigned char a[16];
	long len;
	int fam, bits;

	if (strlen(in) >= sizeof(addr)) {
		snprintf(err, errlen, "not an IPv4 or IPv6 prefix");
		return -EINVAL;
	}
	snprintf(addr, sizeof(addr), "%s", in);
	slash = strchr(addr, '/');
	if (slash)
		*slash++ = '\0';
	fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bits = fam == AF_INET6 ? 128 : 32;
	if (inet_pton(fam, addr, a) != 1) {
		snprintf(err, errlen, "'%.64s' is not an IPv%d address", addr, fam == AF_INET6 ? 6 : 4);
		return -EINVAL;
	}
	len = bits;
	if (slash) {
		errno = 0;
		len = strtol(slash, &end, 10);
		if (!*slash || *end || errno || len < 0 || len > bits || !(*slash >= '0' && *slash <= '9')) {
			snprintf(err, errlen, "prefix length must be 0 to %d", bits);
			return -EINVAL;
		}
	}
	for (int i = (int)len; i < bits; i++)
		if (a[i / 8] & (0x80 >> (i % 8))) {
			snprintf(err, errlen, "bits beyond /%ld are set", len);
			return -EINVAL;
		}
	char txt[INET6_ADDRSTRLEN];
	inet_ntop(fam, a, txt, sizeof(txt));
	snprintf(out, outlen, "%s/%ld", txt, len);
	return 0;
}

static int parse_block(struct ctx *c, struct api_body *b, bool block)
{
	const char *p = NULL;
	char why[128];
	int err;

	if ((err = get_str(c, b->root, "", "prefix", false, 64, &p)) ||
	    (err = get_str(c, b->root, "", "reason", block, API_REASON_MAX, &b->u.block.reason)))
		return err;
	if (p && api_prefix_canon(p, b->u.block.prefix, sizeof(b->u.block.prefix), why, sizeof(why)))
		return fail(c, "", "prefix", "%s", why);
	if (block && (err = get_int(c, b->root, "", "duration_s", false, 0, 366LL * 86400, 3600,
				    &b->u.block.duration_s)))
		return err;
	return 0;
}

int api_body_parse(struct api_body *b, enum api_body_kind kind, const char *buf, size_t len, char *err,
		   size_t errlen)
{
	struct ctx c = { err, errlen };
	bool want_array = kind == API_BODY_ESCALATION || kind == API_BODY_NOTIFY;
	json_error_t je;
	int rc;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	if (kind <= API_BODY_NONE || kind >= API_BODY_N)
		return 0;
	/* bodies whose every field is optional may be left out */
	bool optional = kind == API_BODY_ACK || kind == API_BODY_APPROVE || kind == API_BODY_ROLLBACK ||
			kind == API_BODY_UNBLOCK;
	if (len == 0 || (len == 2 && kind == API_BODY_ACK && memcmp(buf, "{}", 2) == 0))
		return optional ? 0 :
		       fail(&c, "", "body", "empty, expected a JSON %s", want_array ? "array" : "object");
	b->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!b->root)
		return fail(&c, "", "body", "malformed JSON at line %d column %d: %s", je.line,
			    je.column, je.text);
	if (want_array ? !json_is_array(b->root) : !json_is_object(b->root))
		rc = fail(&c, "", "body", "expected a JSON %s", want_array ? "array" : "object");
	else
		rc = parse_kind(&c, b);
	if (rc)
		api_body_fini(b);
	return rc;
}

void api_body_fini(struct api_body *b)
{
	switch (b->kind) {
	case API_BODY_INGEST:
		free(b->u.ingest.alerts);
		free(b->u.ingest.flows);
		break;
	case API_BODY_HEARTBEAT:
		free(b->u.heartbeat.counters_text);
		free(b->u.heartbeat.load_text);
		break;
	case API_BODY_RULESET:
		for (size_t i = 0; b->u.ruleset.cases && i < b->u.ruleset.ncases; i++) {
			free(b->u.ruleset.cases[i].pcap);
			free(b->u.ruleset.cases[i].must);
			free(b->u.ruleset.cases[i].must_not);
		}
		free(b->u.ruleset.cases);
		break;
	case API_BODY_DEPLOY:
	case API_BODY_ROLLBACK:
		free(b->u.deploy.sensors);
		break;
	case API_BODY_ESCALATION:
		for (size_t i = 0; b->u.escalation.v && i < 3; i++)
			free((char *)b->u.escalation.v[i].tiers);
		free(b->u.escalation.v);
		break;
	case API_BODY_NOTIFY:
		free(b->u.notify.v);
		break;
	default:
		break;
	}
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

int api_parse_body(enum api_body_kind kind, const char *buf, size_t len, char *err, size_t errlen)
{
	struct api_body b;
	int rc = api_body_parse(&b, kind, buf, len, err, errlen);

	if (rc == 0)
		api_body_fini(&b);
	return rc;
}
