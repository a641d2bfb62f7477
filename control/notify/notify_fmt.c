/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * notify: the messages (webhook JSON, PagerDuty Events API v2, RFC 5424
 * syslog).  Built when the event is queued, on the caller's thread, so the
 * caller keeps its incident and retries resend the very same bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "notify_int.h"

static const char *const ev_names[] = {
	[NOTIFY_EV_OPENED] = "opened",
	[NOTIFY_EV_ESCALATED] = "escalated",
	[NOTIFY_EV_ACKNOWLEDGED] = "acknowledged",
	[NOTIFY_EV_RESOLVED] = "resolved",
};

int notify_event_parse(const char *s, enum notify_event_kind *out)
{
	for (size_t i = 0; s && i < sizeof(ev_names) / sizeof(ev_names[0]); i++) {
		if (strcmp(s, ev_names[i]) == 0) {
			*out = (enum notify_event_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *notify_event_name(enum notify_event_kind ev)
{
	return (unsigned)ev < sizeof(ev_names) / sizeof(ev_names[0]) ? ev_names[ev] : "?";
}

size_t notify_fmt_rfc3339(char *buf, size_t size, double t)
{
	double sec = floor(t);
	time_t tt = (time_t)sec;
	int ms = (int)((t - sec) * 1000.0);
	struct tm tm;

	if (ms > 999)
		ms = 999;
	if (!gmtime_r(&tt, &tm) || size < 25) {
		if (size)
			buf[0] = 0;
		return 0;
	}
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, size - n, ".%03dZ", ms);
	return n;
}

size_t notify_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t i = max;
	/* s[i] is the first byte left out: if it continues a sequence, leave out its start too */
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

void notify_syslog_hostname(char *buf, size_t size, const char *src)
{
	size_t n = 0;

	for (; src && src[n] && n < 255 && n + 1 < size; n++) {
		unsigned char c = (unsigned char)src[n];
		buf[n] = c >= 33 && c <= 126 ? (char)c : '_';
	}
	if (n == 0 && size >= 2)
		buf[n++] = '-';
	if (size)
		buf[n] = 0;
}

int notify_syslog_url_parse(const char *url, char *host, size_t hostsz, char *port, size_t portsz)
{
	const char *p, *hend, *ps = NULL;
	size_t hl;

	if (!url || strncasecmp(url, "udp://", 6) != 0)
		return -EINVAL;
	p = url + 6;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend)
			return -EINVAL;
		p++;
		hl = (size_t)(hend - p);
		if (hend[1] == ':')
			ps = hend + 2;
		else if (hend[1])
			return -EINVAL;
	} else {
		hend = strchr(p, ':');
		hl = hend ? (size_t)(hend - p) : strlen(p);
		if (hend)
			ps = hend + 1;
		if (memchr(p, '/', hl) || memchr(p, '[', hl) || memchr(p, ']', hl))
			return -EINVAL;
	}
	if (hl == 0 || hl >= hostsz)
		return -EINVAL;
	memcpy(host, p, hl);
	host[hl] = 0;
	if (!ps) {
		snprintf(port, portsz, "514");
		return 0;
	}
	size_t pl = strlen(ps);
	if (pl == 0 || pl > 5 || pl >= portsz || strspn(ps, "0123456789") != pl)
		return -EINVAL;
	long v = strtol(ps, NULL, 10);
	if (v < 1 || v > 65535)
		return -EINVAL;
	snprintf(port, portsz, "%ld", v);
	return 0;
}

/* json_dumpb into our own malloc'd, NUL-terminated buffer (so free() is
 * right whatever allocator jansson was given). */
static char *dump(const json_t *o, size_t *len)
{
	size_t need = json_dumpb(o, NULL, 0, JSON_COMPACT);
	char *s;

	if (need == 0 || !(s = malloc(need + 1)))
		return NULL;
	json_dumpb(o, s, need, JSON_COMPACT);
	s[need] = 0;
	*len = need;
	return s;
}

char *notify_fmt_webhook(const json_t *incident, const char *event, const char *target, size_t *len)
{
	/* shallow copy: the added keys never reach the caller's object */
	json_t *o = json_copy((json_t *)incident);
	char *s = NULL;

	if (!o)
		return NULL;
	if (json_object_set_new(o, "event", json_string(event)) == 0 &&
	    json_object_set_new(o, "target", json_string(target)) == 0)
		s = dump(o, len);
	json_decref(o);
	return s;
}

static const char *str_field(const json_t *inc, const char *name)
{
	const char *s = json_string_value(json_object_get(inc, name));
	return s && *s ? s : NULL;
}

static json_int_t int_field(const json_t *inc, const char *name)
{
	return json_integer_value(json_object_get(inc, name));
}

static const char *pd_severity(json_int_t sev)
{
	switch (sev) {
	case 1: return "critical";
	case 2: return "error";
	case 3: return "warning";
	default: return "info";
	}
}

/* FNV-1a 64: stable shortening of over-long dedup keys */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static json_t *pd_dedup_key(const char *key)
{
	size_t len = strlen(key);
	char buf[NOTIFY_PD_DEDUP_MAX + 1];

	if (len <= NOTIFY_PD_DEDUP_MAX)
		return json_string(key);
	/* prefix + "~" + 16 hex digits of the whole key's hash = 255 bytes at most */
	size_t keep = notify_utf8_cut(key, len, NOTIFY_PD_DEDUP_MAX - 17);
	memcpy(buf, key, keep);
	snprintf(buf + keep, sizeof(buf) - keep, "~%016" PRIx64, fnv1a(key));
	return json_string(buf);
}

static json_t *pd_summary(const json_t *inc)
{
	const char *s = str_field(inc, "title");

	if (!s)
		s = str_field(inc, "key");
	size_t len = strlen(s);
	return json_stringn(s, notify_utf8_cut(s, len, NOTIFY_PD_SUMMARY_MAX));
}

static json_t *pd_timestamp(const json_t *inc, double now)
{
	const json_t *ls = json_object_get(inc, "last_seen");
	char buf[40];

	if (json_is_string(ls) && json_string_length(ls) > 0)
		return json_string(json_string_value(ls));
	notify_fmt_rfc3339(buf, sizeof(buf), json_is_number(ls) ? json_number_value(ls) : now);
	return json_string(buf);
}

char *notify_fmt_pagerduty(const json_t *incident, enum notify_event_kind ev, const char *routing_key,
			   const char *source, double now, size_t *len)
{
	static const char *const action[] = {
		[NOTIFY_EV_OPENED] = "trigger",
		[NOTIFY_EV_ESCALATED] = "trigger",
		[NOTIFY_EV_ACKNOWLEDGED] = "acknowledge",
		[NOTIFY_EV_RESOLVED] = "resolve",
	};
	static const char *const details[] = { "id", "alert_count", "status", "escalation_tier" };
	json_t *o = json_object(), *payload = NULL, *cd = NULL;
	char *s = NULL;
	int err = 0;

	if (!o)
		return NULL;
	err |= json_object_set_new(o, "routing_key", json_string(routing_key));
	err |= json_object_set_new(o, "event_action", json_string(action[ev]));
	err |= json_object_set_new(o, "dedup_key", pd_dedup_key(str_field(incident, "key")));
	if (ev == NOTIFY_EV_OPENED || ev == NOTIFY_EV_ESCALATED) {
		payload = json_object();
		cd = json_object();
		if (!payload || !cd) {
			err = -1;
			goto out;
		}
		err |= json_object_set_new(payload, "summary", pd_summary(incident));
		err |= json_object_set_new(payload, "source", json_string(source));
		err |= json_object_set_new(payload, "severity", json_string(pd_severity(int_field(incident, "severity"))));
		err |= json_object_set_new(payload, "timestamp", pd_timestamp(incident, now));
		for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++) {
			json_t *v = json_object_get(incident, details[i]);
			if (v)
				err |= json_object_set(cd, details[i], v);
		}
		err |= json_object_set_new(payload, "custom_details", cd);
		cd = NULL;
		err |= json_object_set_new(o, "payload", payload);
		payload = NULL;
	}
out:
	if (!err)
		s = dump(o, len);
	json_decref(cd);
	json_decref(payload);
	json_decref(o);
	return s;
}

/* --------------------------------------------------------------- syslog */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* RFC 5424 6.3.3: in PARAM-VALUE, '"', '\' and ']' are escaped with '\' */
static void sb_sdvalue(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || *s == ']')
			sb_put(b, "\\", 1);
		sb_put(b, s, 1);
	}
}

char *notify_fmt_syslog(const json_t *incident, enum notify_event_kind ev, const char *host, double now,
			size_t *len)
{
	struct sbuf b = { 0 };
	json_int_t sev = int_field(incident, "severity");
	/* facility local0 (16); severity crit 2, err 3, warning 4, notice 5 */
	int pri = 16 * 8 + (sev == 1 ? 2 : sev == 2 ? 3 : sev == 3 ? 4 : 5);
	char num[64], ts[40];
	const char *title = str_field(incident, "title");

	notify_fmt_rfc3339(ts, sizeof(ts), now);
	snprintf(num, sizeof(num), "<%d>1 ", pri);
	sb_str(&b, num);
	sb_str(&b, ts);
	sb_str(&b, " ");
	sb_str(&b, host);
	sb_str(&b, " " NOTIFY_SYSLOG_APP " - incident [" NOTIFY_SYSLOG_SDID " id=\"");
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, int_field(incident, "id"));
	sb_str(&b, num);
	sb_str(&b, "\" event=\"");
	sb_str(&b, notify_event_name(ev));
	sb_str(&b, "\" severity=\"");
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, sev);
	sb_str(&b, num);
	sb_str(&b, "\" key=\"");
	sb_sdvalue(&b, str_field(incident, "key"));
	sb_str(&b, "\"]");
	if (title && !b.oom && b.len + 1 < NOTIFY_SYSLOG_MAX) {
		size_t tl = notify_utf8_cut(title, strlen(title), NOTIFY_SYSLOG_MAX - b.len - 1);
		sb_str(&b, " ");
		size_t start = b.len;
		sb_put(&b, title, tl);
		/* one line per message: control characters become spaces */
		for (size_t i = start; !b.oom && i < b.len; i++)
			if ((unsigned char)b.p[i] < 0x20 || b.p[i] == 0x7f)
				b.p[i] = ' ';
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
