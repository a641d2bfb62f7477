/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * notify internals shared by notify.c and notify_fmt.c (and the unit test):
 * the message formatters.  They are pure functions of their arguments (the
 * time is passed in), called on the thread that queues the event.
 */
#ifndef VIGIL_NOTIFY_INT_H
#define VIGIL_NOTIFY_INT_H

#include <stddef.h>

#include <jansson.h>

enum notify_event_kind { NOTIFY_EV_OPENED, NOTIFY_EV_ESCALATED, NOTIFY_EV_ACKNOWLEDGED, NOTIFY_EV_RESOLVED };

#define NOTIFY_PD_DEDUP_MAX 255     /* Events API v2: dedup_key at most 255 characters */
#define NOTIFY_PD_SUMMARY_MAX 1024  /* Events API v2: payload.summary at most 1024 characters */
#define NOTIFY_SYSLOG_MAX 2048      /* RFC 5424 6.1: receivers SHOULD accept 2048 octets */
#define NOTIFY_SYSLOG_APP "vigil-control"
#define NOTIFY_SYSLOG_SDID "vigil@32473"

/* 0 or -EINVAL. */
int notify_event_parse(const char *s, enum notify_event_kind *out);
const char *notify_event_name(enum notify_event_kind ev);

/*
 * The body sent to one target, malloc'd and NUL-terminated, its length in
 * *len; NULL on allocation failure.  now: wall clock, seconds since the epoch.
 * Webhook: the incident object plus "event" and "target" (compact JSON).
 * PagerDuty: Events API v2 (see README.md).  Syslog: one RFC 5424 message;
 * host must already be a valid HOSTNAME (notify_syslog_hostname).
 */
char *notify_fmt_webhook(const json_t *incident, const char *event, const char *target, size_t *len);
char *notify_fmt_pagerduty(const json_t *incident, enum notify_event_kind ev, const char *routing_key,
			   const char *source, double now, size_t *len);
char *notify_fmt_syslog(const json_t *incident, enum notify_event_kind ev, const char *host, double now,
			size_t *len);

/* "2024-05-01T12:34:56.789Z" (UTC, milliseconds); returns strlen, needs size >= 25. */
size_t notify_fmt_rfc3339(char *buf, size_t size, double t);

/* The longest prefix of s[0..len) of at most max bytes that does not split a UTF-8 sequence. */
size_t notify_utf8_cut(const char *s, size_t len, size_t max);

/* RFC 5424 HOSTNAME from any string: printable US-ASCII (33..126) kept, others '_',
 * at most 255, "-" if empty.  Writes into buf (size >= 256). */
void notify_syslog_hostname(char *buf, size_t size, const char *src);

/* "udp://HOST[:PORT]", HOST a name, IPv4 or [IPv6]; PORT 1..65535, default "514".
 * 0 or -EINVAL. */
int notify_syslog_url_parse(const char *url, char *host, size_t hostsz, char *port, size_t portsz);

#endif
