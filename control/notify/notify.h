/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * notify: delivers incident events (opened, escalated, acknowledged,
 * resolved) to notification targets (webhook, PagerDuty Events API v2,
 * syslog RFC 5424 over UDP) from one worker thread, with retries and
 * exponential backoff, and reports each delivery's outcome to a callback.
 * See control/DESIGN.md "Escalation and notification" and README.md here.
 *
 * A delivery is one (event, target) pair.  Targets are filtered by severity
 * when the event is queued.  Per target and incident, deliveries go out in
 * the order they were queued (a retried "opened" is never overtaken by the
 * "resolved" behind it); different incidents and different targets do not
 * wait for each other.
 *
 * Threads: every function except notify_destroy() may be called from any
 * thread at once.  The result callback runs on the notifier's own thread,
 * without internal locks held: it may call notify_event(),
 * notify_set_targets() and notify_get_stats(), but not notify_flush() or
 * notify_destroy().
 */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct notify;

enum notify_type { NOTIFY_WEBHOOK, NOTIFY_PAGERDUTY, NOTIFY_SYSLOG };

#define NOTIFY_PAGERDUTY_URL "https://events.pagerduty.com/v2/enqueue"

/* One target.  notify_set_targets() copies every string. */
struct notify_target {
	const char *name;         /* unique, non-empty */
	enum notify_type type;
	const char *url;          /* webhook: http(s) URL (required); pagerduty: NULL or ""
	                           * = NOTIFY_PAGERDUTY_URL; syslog: udp://HOST[:PORT],
	                           * HOST a name, IPv4 or [IPv6], PORT default 514 */
	const char *routing_key;  /* pagerduty: the integration key (required) */
	int min_severity;         /* deliver incidents of severity <= this (1 highest);
	                           * 0 (or negative, as the store keeps it) = all */
};

/* Zero fields take the defaults. */
struct notify_cfg {
	unsigned max_tries;       /* attempts per delivery, default 5 */
	double backoff_s;         /* delay after the first failed try, doubling after each
	                           * further one (capped at 1 h), default 1.0 */
	double timeout_s;         /* per HTTP attempt (connect included), default 5 */
	size_t queue_max;         /* deliveries pending at once, default 10000 */
	const char *source;       /* syslog HOSTNAME and PagerDuty payload.source;
	                           * default the host's name (gethostname) */
};

/* The outcome of one delivery.  Strings live until the callback returns. */
struct notify_result {
	const char *target;       /* target name */
	const char *event;        /* "opened", "escalated", "acknowledged", "resolved" */
	int64_t incident_id;
	bool delivered;
	unsigned tries;           /* attempts made (0: never attempted, e.g. shut down first) */
	int http_status;          /* status of the last HTTP answer, 0 if none (syslog: 0) */
	const char *error;        /* NULL if delivered; else why the last attempt failed,
	                           * e.g. "HTTP 400: <start of body>", a libcurl message,
	                           * "syslog: send: Connection refused", "shut down ..." */
	double ts;                /* wall clock (s since the epoch) of delivery or giving up */
};

typedef void (*notify_result_fn)(void *arg, const struct notify_result *r);

/* Counters: name and help text in one place (for /metrics: vigil_control_notify_NAME). */
#define NOTIFY_STATS(X) \
	X(queued,    "deliveries accepted (one per event and matching target)") \
	X(delivered, "deliveries that succeeded") \
	X(failed,    "deliveries given up (permanent error, tries exhausted or shut down)") \
	X(retried,   "attempts after the first one of a delivery") \
	X(refused,   "deliveries refused because the queue was full")

struct notify_stats {
#define NOTIFY_STAT_FIELD(name, help) uint64_t name;
	NOTIFY_STATS(NOTIFY_STAT_FIELD)
#undef NOTIFY_STAT_FIELD
};

/*
 * Start a notifier with no targets.  cfg may be NULL (all defaults); fn may
 * be NULL.  Returns 0, -EINVAL (negative or non-finite times), -ENOMEM or
 * another -errno from thread or libcurl setup.
 */
int notify_create(struct notify **out, const struct notify_cfg *cfg, notify_result_fn fn, void *arg);

/*
 * Replace the targets (all at once; nt may be 0).  Validates everything
 * first: on -EINVAL (missing, empty or duplicate name, bad type, URL or
 * routing key) or -ENOMEM the old set stays.  Deliveries already
 * queued finish against the target as it was when they were queued.
 */
int notify_set_targets(struct notify *n, const struct notify_target *t, size_t nt);

/*
 * The check notify_set_targets() makes of one target (all but the
 * duplicate names), without a notifier: 0, or -EINVAL with *why (if why is
 * not NULL) set to a static "field: reason", e.g. "url: not an http(s)
 * URL".  Lets a caller refuse a target before storing it.
 */
int notify_target_check(const struct notify_target *t, const char **why);

/*
 * Queue one event for every target whose min_severity admits the incident.
 * event: "opened", "escalated", "acknowledged" or "resolved".  incident: the
 * INCIDENT object of the contract; it needs an integer "id" and "severity"
 * and a string "key", and uses "title", "last_seen", "alert_count",
 * "status" and "escalation_tier" when present.  The messages are built
 * here, so the caller keeps ownership and may change or free it at once.
 * Returns 0 (also when no target matched), -EINVAL, -ENOMEM, -ENOSPC when
 * the deliveries do not all fit in the queue (then none is queued and all
 * are counted as refused), or -ESHUTDOWN from a result callback run by
 * notify_destroy().
 */
int notify_event(struct notify *n, const char *event, const json_t *incident);

/* Wait until no delivery is pending (all outcomes reported) or max_wait_s passed. */
void notify_flush(struct notify *n, double max_wait_s);

/*
 * Stop the thread: attempts in progress are aborted, and every delivery not
 * yet done is reported (from the notifier's thread, before this returns) as
 * not delivered.  NULL does nothing.
 */
void notify_destroy(struct notify *n);

void notify_get_stats(const struct notify *n, struct notify_stats *st);

/* "webhook", "pagerduty", "syslog" <-> enum notify_type (the API's names).
 * notify_type_parse returns 0 or -EINVAL; notify_type_name NULL if unknown. */
int notify_type_parse(const char *s, enum notify_type *out);
const char *notify_type_name(enum notify_type type);

#endif
