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

int ship_alert_from_eve(const char *eve_line, const char *sensor, uint64_t seq, char **out)
{
	json_t *ev, *al, *o = NULL;
	const char *type, *ts, *sig, *cat, *action, *ruleset, *sip, *dip, *proto, *payload;
	json_int_t sid, gid, rev, sev, sport, dport, flow_id;
	char tsbuf[80], *id = NULL, *text = NULL;
	int err = -EINVAL, rc = 0;

	*out = NULL;
	if (!eve_line || !sensor)
		return -EINVAL;
	ev = json_loads(eve_line, 0, NULL);
	if (!ev) {
		char *fixed = utf8_fix(eve_line);
		if (!fixed)
			return -ENOMEM;
		ev = json_loads(fixed, 0, NULL);
		free(fixed);
		if (!ev)
			return -EINVAL;
	}
	al = json_object_get(ev, "alert");
	if (!json_is_object(ev) || !json_is_object(al) || !get_str(ev, "event_type", NULL, &type) ||
	    strcmp(type, "alert") != 0 || !get_str(ev, "timestamp", NULL, &ts) ||
	    !get_int(al, "signature_id", 0, true, &sid) || !get_int(al, "gid", 1, false, &gid) ||
	    !get_int(al, "rev", 0, false, &rev) || !get_str(al, "signature", "", &sig) ||
	    !get_str(al, "category", "", &cat) || !get_int(al, "severity", 3, false, &sev) ||
	    !get_str(al, "action", "allowed", &action) || !get_str(al, "ruleset", "", &ruleset) ||
	    !get_str(ev, "src_ip", NULL, &sip) || !get_str(ev, "dest_ip", NULL, &dip) ||
	    !get_int(ev, "src_port", -1, false, &sport) || !get_int(ev, "dest_port", -1, false, &dport) ||
	    !get_str(ev, "proto", NULL, &proto) || !get_int(ev, "flow_id", -1, false, &flow_id))
		goto out;
	payload = json_string_value(json_object_get(ev, "payload"));

	err = -ENOMEM;
	if (sid < 0 || sid > UINT32_MAX)
		goto out;
	if (asprintf(&id, "%s:%llu", sensor, (unsigned long long)seq) < 0) {
		id = NULL;
		goto out;
	}
	ts_rfc3339(ts, tsbuf, sizeof(tsbuf));
	o = json_object();
	if (!o)
		goto out;
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
	rc |= set(o, "src_ip", json_string(sip));
	if (sport >= 0 && sport <= 65535)
		rc |= set(o, "src_port", json_integer(sport));
	rc |= set(o, "dest_ip", json_string(dip));
	if (dport >= 0 && dport <= 65535)
		rc |= set(o, "dest_port", json_integer(dport));
	rc |= set(o, "proto", str_max(proto, 32));
	if (flow_id >= 0)
		rc |= set(o, "flow_id", json_integer(flow_id));
	if (payload)
		rc |= set(o, "payload", json_string(payload));
	if (rc) {
		err = -EINVAL;
		goto out;
	}
	text = json_dumps(o, JSON_COMPACT);
	if (text && strlen(text) > SPOOL_REC_MAX && payload) {
		free(text);
		json_object_del(o, "payload");   /* optional: the alert matters more */
		text = json_dumps(o, JSON_COMPACT);
	}
	if (!text)
		goto out;
	if (strlen(text) > SPOOL_REC_MAX) {
		free(text);
		err = -E2BIG;
		goto out;
	}
	*out = text;
	err = 0;
out:
	free(id);
	json_decref(o);
	json_decref(ev);
	return err;
}
