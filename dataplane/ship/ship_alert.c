/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE alert line -> the control plane's ALERT object (control/DESIGN.md).
 * Runs on the output thread, once per alert: jansson parses the line and
 * writes the object, so escaping is never ours to get wrong.
 *
 * The object must pass the control plane's ingest validation, or its whole
 * batch is refused (400) again and again and shipping stalls (nothing
 * spooled is ever dropped).  So strings are cut to the lengths it accepts
 * and out-of-range numbers replaced or left out (control/api/api_parse.c,
 * parse_alert: signature 1024 bytes, category 256, action 32, ruleset 128,
 * proto 32; severity 1..255; ports 0..65535, optional; flow_id >= 0,
 * optional).
 */
#include "ship.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* A copy of s with every byte that is not part of valid UTF-8 replaced by
 * '?' (EVE escapes control characters but passes other bytes through; in
 * JSON text such bytes only occur inside strings, so this keeps the
 * structure). */
static char *utf8_fix(const char *s)
{
	size_t n = strlen(s);
	char *o = malloc(n + 1);

	if (!o)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len((const unsigned char *)s + i, n - i);
		if (!l) {
			o[i++] = '?';
			continue;
		}
		memcpy(o + i, s + i, l);
		i += l;
	}
	o[n] = '\0';
	return o;
}

static bool get_int(json_t *o, const char *key, json_int_t def, bool required, json_int_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!j) {
		*v = def;
		return !required;
	}
	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return true;
}

static bool get_str(json_t *o, const char *key, const char *def, const char **v)
{
	json_t *j = json_object_get(o, key);

	if (!j) {
		*v = def;
		return def != NULL;
	}
	*v = json_string_value(j);
	return *v != NULL;
}

/* "2026-01-15T10:00:01.176754+0000" -> "...+00:00" (RFC 3339 wants the
 * colon); other forms are passed through. */
static void ts_rfc3339(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);

	if (n >= 5 && n + 2 <= outlen && (in[n - 5] == '+' || in[n - 5] == '-') &&
	    in[n - 4] >= '0' && in[n - 4] <= '9' && in[n - 3] >= '0' && in[n - 3] <= '9' &&
	    in[n - 2] >= '0' && in[n - 2] <= '9' && in[n - 1] >= '0' && in[n - 1] <= '9') {
		memcpy(out, in, n - 2);
		out[n - 2] = ':';
		memcpy(out + n - 1, in + n - 2, 3);
		return;
	}
	snprintf(out, outlen, "%s", in);
}

static int set(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v);   /* NULL v fails (and frees nothing) */
}

/* A JSON string of S cut to at most MAX bytes, at a UTF-8 boundary (S is
 * valid UTF-8: jansson checked it). */
static json_t *str_max(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return json_string(s);
	n = max;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return json_stringn(s, n);
}

/* Parses an EVE line; bytes that are not UTF-8 become '?'.  NULL if it is
 * not JSON (or memory ran out: *NOMEM). */
static json_t *parse_line(const char *eve_line, bool *nomem)
{
	json_t *ev = json_loads(eve_line, 0, NULL);

	*nomem = false;
	if (!ev) {
		char *fixed = utf8_fix(eve_line);
		if (!fixed) {
			*nomem = true;
			return NULL;
		}
		ev = json_loads(fixed, 0, NULL);
		free(fixed);
	}
	if (ev && !json_is_object(ev)) {
		json_decref(ev);
		ev = NULL;
	}
	return ev;
}

/* Compact JSON of O in *OUT, within SPOOL_REC_MAX (dropping "payload" if
 * that makes it fit). */
static int finish(json_t *o, char **out)
{
	char *text = json_dumps(o, JSON_COMPACT);

	if (text && strlen(text) > SPOOL_REC_MAX && json_object_get(o, "payload")) {
		free(text);
		json_object_del(o, "payload");   /* optional: the alert matters more */
		text = json_dumps(o, JSON_COMPACT);
	}
	if (!text)
		return -ENOMEM;
	if (strlen(text) > SPOOL_REC_MAX) {
		free(text);
		return -E2BIG;
	}
	*out = text;
	return 0;
}

/* Address, ports and protocol, shared by ALERT and FLOW objects. */
static int set_tuple(json_t *o, const char *sip, json_int_t sport, const char *dip, json_int_t dport,
		     const char *proto)
{
	int rc = set(o, "src_ip", json_string(sip));

	if (sport >= 0 && sport <= 65535)
		rc |= set(o, "src_port", json_integer(sport));
	rc |= set(o, "dest_ip", json_string(dip));
	if (dport >= 0 && dport <= 65535)
		rc |= set(o, "dest_port", json_integer(dport));
	rc |= set(o, "proto", str_max(proto, 32));
	return rc;
}

static int alert_obj(json_t *ev, const char *id, char **out)
{
	json_t *al = json_object_get(ev, "alert"), *o;
	const char *ts, *sig, *cat, *action, *ruleset, *sip, *dip, *proto, *payload;
	json_int_t sid, gid, rev, sev, sport, dport, flow_id;
	char tsbuf[80];
	int rc = 0;

	if (!json_is_object(al) || !get_str(ev, "timestamp", NULL, &ts) ||
	    !get_int(al, "signature_id", 0, true, &sid) || !get_int(al, "gid", 1, false, &gid) ||
	    !get_int(al, "rev", 0, false, &rev) || !get_str(al, "signature", "", &sig) ||
	    !get_str(al, "category", "", &cat) || !get_int(al, "severity", 3, false, &sev) ||
	    !get_str(al, "action", "allowed", &action) || !get_str(al, "ruleset", "", &ruleset) ||
	    !get_str(ev, "src_ip", NULL, &sip) || !get_str(ev, "dest_ip", NULL, &dip) ||
	    !get_int(ev, "src_port", -1, false, &sport) || !get_int(ev, "dest_port", -1, false, &dport) ||
	    !get_str(ev, "proto", NULL, &proto) || !get_int(ev, "flow_id", -1, false, &flow_id))
		return -EINVAL;
	payload = json_string_value(json_object_get(ev, "payload"));
	if (sid < 0 || sid > UINT32_MAX)
		return -EINVAL;
	ts_rfc3339(ts, tsbuf, sizeof(tsbuf));
	o = json_object();
	if (!o)
		return -ENOMEM;
	rc |= set(o, "id", json_string(id));     /* NULL if SENSOR is not UTF-8 */
	rc |= set(o, "ts", json_string(tsbuf));
	rc |= set(o, "sid", json_integer(sid));
	if (gid >= 0 && gid <= UINT32_MAX)
		rc |= set(o, "gid", json_integer(gid));
	if (rev >= 0 && rev <= UINT32_MAX)
		rc |= set(o, "rev", json_integer(rev));
	rc |= set(o, "signature", str_max(sig, 1024));
	rc |= set(o, "category", str_max(cat, 256));
	rc |= set(o, "severity", json_integer(sev >= 1 && sev <= 255 ? sev : 3));
	rc |= set(o, "action", str_max(action, 32));
	rc |= set(o, "ruleset", str_max(ruleset, 128));
	rc |= set_tuple(o, sip, sport, dip, dport, proto);
	if (flow_id >= 0)
		rc |= set(o, "flow_id", json_integer(flow_id));
	if (payload)
		rc |= set(o, "payload", json_string(payload));
	rc = rc ? -EINVAL : finish(o, out);
	json_decref(o);
	return rc;
}

/* FLOW: the summary of a flow that alerted, "type": "flow" first (the
 * shipper sorts records into the ingest body's "alerts" and "flows" by
 * that prefix). */
static int flow_obj(json_t *ev, const char *id, char **out)
{
	json_t *fl = json_object_get(ev, "flow"), *o;
	const char *start, *end, *state, *reason, *sip, *dip, *proto;
	json_int_t flow_id, sport, dport, pts, ptc, bts, btc;
	char b1[80], b2[80];
	int rc = 0;

	if (!json_is_object(fl) || !get_int(ev, "flow_id", 0, true, &flow_id) ||
	    !get_str(ev, "src_ip", NULL, &sip) || !get_str(ev, "dest_ip", NULL, &dip) ||
	    !get_int(ev, "src_port", -1, false, &sport) || !get_int(ev, "dest_port", -1, false, &dport) ||
	    !get_str(ev, "proto", NULL, &proto) || !get_str(fl, "start", NULL, &start) ||
	    !get_str(fl, "end", NULL, &end) || !get_str(fl, "state", "", &state) ||
	    !get_str(fl, "reason", "", &reason) || !get_int(fl, "pkts_toserver", 0, true, &pts) ||
	    !get_int(fl, "pkts_toclient", 0, true, &ptc) || !get_int(fl, "bytes_toserver", 0, true, &bts) ||
	    !get_int(fl, "bytes_toclient", 0, true, &btc))
		return -EINVAL;
	if (flow_id < 0 || pts < 0 || ptc < 0 || bts < 0 || btc < 0)
		return -EINVAL;
	ts_rfc3339(start, b1, sizeof(b1));
	ts_rfc3339(end, b2, sizeof(b2));
	o = json_object();
	if (!o)
		return -ENOMEM;
	rc |= set(o, "type", json_string("flow"));
	rc |= set(o, "id", json_string(id));
	rc |= set(o, "flow_id", json_integer(flow_id));
	rc |= set(o, "start", json_string(b1));
	rc |= set(o, "end", json_string(b2));
	rc |= set_tuple(o, sip, sport, dip, dport, proto);
	rc |= set(o, "pkts_toserver", json_integer(pts));
	rc |= set(o, "pkts_toclient", json_integer(ptc));
	rc |= set(o, "bytes_toserver", json_integer(bts));
	rc |= set(o, "bytes_toclient", json_integer(btc));
	rc |= set(o, "state", str_max(state, 32));
	rc |= set(o, "reason", str_max(reason, 32));
	rc = rc ? -EINVAL : finish(o, out);
	json_decref(o);
	return rc;
}

/* TYPES: 1 alerts, 2 flows. */
static int convert(const char *eve_line, const char *sensor, uint64_t seq, char **out, unsigned types)
{
	const char *type;
	char *id = NULL;
	bool nomem;
	json_t *ev;
	int err = -EINVAL;

	*out = NULL;
	if (!eve_line || !sensor)
		return -EINVAL;
	ev = parse_line(eve_line, &nomem);
	if (!ev)
		return nomem ? -ENOMEM : -EINVAL;
	if (!get_str(ev, "event_type", NULL, &type))
		goto out;
	if (asprintf(&id, "%s:%llu", sensor, (unsigned long long)seq) < 0) {
		id = NULL;
		err = -ENOMEM;
		goto out;
	}
	if ((types & 1) && !strcmp(type, "alert"))
		err = alert_obj(ev, id, out);
	else if ((types & 2) && !strcmp(type, "flow"))
		err = flow_obj(ev, id, out);
out:
	free(id);
	json_decref(ev);
	return err;
}

int ship_alert_from_eve(const char *eve_line, const char *sensor, uint64_t seq, char **out)
{
	return convert(eve_line, sensor, seq, out, 1);
}

int ship_record_from_eve(const char *eve_line, const char *sensor, uint64_t seq, char **out)
{
	return convert(eve_line, sensor, seq, out, 3);
}

bool ship_is_flow(const char *rec, size_t len)
{
	static const char pfx[] = "{\"type\":\"flow\"";

	return len >= sizeof(pfx) - 1 && !memcmp(rec, pfx, sizeof(pfx) - 1);
}
