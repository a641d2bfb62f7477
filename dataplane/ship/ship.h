/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Alert shipping to the control plane (control/DESIGN.md, "Dataplane ->
 * control plane"): the output thread converts each alert to the contract's
 * ALERT object and appends it to a durable spool (spool.h); a shipper thread
 * POSTs the spooled alerts in order, in batches, to URL/api/v1/ingest and
 * moves the spool's durable read position only on a 2xx answer, so no
 * spooled alert is ever dropped (at-least-once; the ids make resends
 * harmless).  It also POSTs a heartbeat to URL/api/v1/heartbeat every
 * heartbeat_s and once at exit.
 *
 * Threads: ship_enqueue() from one thread (the output thread);
 * ship_set_ruleset() and ship_get_stats() from any thread; the rest from
 * the thread that owns the ship.
 */
#ifndef VIGIL_SHIP_H
#define VIGIL_SHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "spool.h"

#define SHIP_BATCH_DEFAULT      500u
#define SHIP_BODY_MAX           (1u << 20)   /* bytes per ingest POST */
#define SHIP_HEARTBEAT_DEFAULT  10.0
#define SHIP_RETRY_MIN_MS       500u
#define SHIP_RETRY_MAX_MS       30000u
#define SHIP_TIMEOUT_MS         30000u

/* Shipper thread, each heartbeat: add fields to the heartbeat object HB
 * (it already has "sensor", "version", "ruleset", "counters"). */
typedef void (*ship_hb_fill_fn)(void *arg, json_t *hb);
/* Shipper thread: the parsed answer of every heartbeat answered 2xx (a
 * JSON object; control/DESIGN.md: it may name a ruleset to run). */
typedef void (*ship_hb_answer_fn)(void *arg, json_t *answer);

struct ship_cfg {
	const char *url;          /* "http://127.0.0.1:8470" (https too); paths are appended */
	const char *token;        /* sent as "Authorization: Bearer TOKEN" */
	const char *sensor;       /* 1 to 64 of A-Z a-z 0-9 . _ - (the control plane's
				   * rule); alert ids are "SENSOR:SEQ" */
	const char *spool_dir;
	uint64_t spool_max;       /* bytes; 0: SPOOL_MAX_DEFAULT; at least 4 * SPOOL_SEG_MIN */
	uint32_t batch;           /* alerts per POST; 0: SHIP_BATCH_DEFAULT */
	double heartbeat_s;       /* 0: SHIP_HEARTBEAT_DEFAULT; < 0: no heartbeats */
	const char *version;      /* engine version, for the heartbeat */
	const char *ruleset;      /* ruleset id, for the heartbeat (see ship_set_ruleset) */
	/* tuning, 0 for the defaults */
	uint64_t spool_seg;       /* segment size; SPOOL_SEG_DEFAULT */
	uint32_t retry_min_ms;    /* first backoff after a failed POST, doubling */
	uint32_t retry_max_ms;    /* backoff ceiling */
	uint32_t timeout_ms;      /* per request */
	const char *ca_file;      /* CA bundle for https; NULL: the system's */
	ship_hb_fill_fn hb_fill;  /* NULL: none */
	ship_hb_answer_fn hb_answer;   /* NULL: none */
	void *hb_arg;
};

/* Called from the shipper thread before each heartbeat: add the engine's
 * counters to OBJ as "dotted.name": integer (ctr_read() is safe there). */
typedef void (*ship_counters_fn)(void *arg, json_t *obj);

struct ship_stats {
	uint64_t enqueued;        /* alerts given to ship_enqueue */
	uint64_t spooled;         /* of them stored in the spool */
	uint64_t unconverted;     /* not an EVE alert line we could convert (not spooled) */
	uint64_t enqueue_errors;  /* not spooled: no memory, or the id lease could not be written
				   * (the spool's own drops are in spool.drops and spool.io_drops) */
	uint64_t posts;           /* ingest requests made */
	uint64_t sent;            /* alerts posted, resends included */
	uint64_t acked;           /* alerts acknowledged by a 2xx answer */
	uint64_t duplicates;      /* of them, already known to the control plane (its answer) */
	uint64_t retries;         /* failed ingest requests (each retried after a backoff) */
	uint64_t rejected;        /* spooled records that were not JSON objects: skipped */
	uint64_t heartbeats;      /* heartbeats answered 2xx */
	uint64_t heartbeat_errors;
	uint64_t ack_errors;      /* delivered batches whose ack could not be written (resent) */
	uint64_t backoff_ms;      /* current backoff (0: the last request succeeded) */
	char last_error[200];     /* "" or the last failure, e.g. "ingest: HTTP 503: ..." */
	struct spool_stats spool; /* spool.backlog_bytes: what is still to be delivered */
};

struct ship;

/* Opens (and recovers) the spool and prepares the HTTP client; the thread
 * starts with ship_start().  COUNTERS may be NULL.  0 or -errno, with a
 * message in ERR. */
int ship_create(struct ship **out, const struct ship_cfg *cfg, ship_counters_fn counters,
		void *counters_arg, char *err, size_t errlen);
/* Starts the shipper thread.  0 or -errno. */
int ship_start(struct ship *sh);

/* Output thread.  Converts N EVE alert lines (eve_format_alert's output),
 * and flow lines of flows that alerted, to ALERT and FLOW objects with fresh ids and appends them to the spool with one
 * fsync; returns how many were stored.  Never waits for the network: when
 * the spool is full, alerts are dropped and counted (spool.drops).  Give it
 * every alert of one pass over the rings at once: the fsync is per call. */
int ship_enqueue(struct ship *sh, const char *const *eve_lines, size_t n);

/* Any thread: the ruleset id reported by the next heartbeats. */
void ship_set_ruleset(struct ship *sh, const char *ruleset);

/* Any thread: send a heartbeat now rather than at the next period (after a
 * reload, so the control plane hears of it promptly). */
void ship_heartbeat_soon(struct ship *sh);

/* Stops the thread: it keeps delivering for up to DRAIN_S seconds while
 * there is a backlog, sends a last heartbeat and exits; joins it.  What was
 * not delivered stays spooled for the next run.  Safe to call twice. */
void ship_stop(struct ship *sh, double drain_s);

/* Stops (without draining) if running, closes the spool, frees.
 * ship_destroy(NULL) does nothing. */
void ship_destroy(struct ship *sh);

/* Any thread. */
void ship_get_stats(struct ship *sh, struct ship_stats *st);

/* The ALERT object (control/DESIGN.md) of one EVE alert line, compact JSON
 * on one line, in *OUT (free() it): "id" = "SENSOR:SEQ", "ts" in RFC 3339
 * ("+00:00"), sid/gid/rev/signature/category/severity/action/ruleset from
 * "alert", the addresses, ports (left out when the protocol has none),
 * proto, flow_id (left out without a flow) and payload (base64, when the
 * line has it and the object stays within SPOOL_REC_MAX).  Strings are cut
 * to the control plane's ingest limits (signature 1024 bytes, category 256,
 * action 32, ruleset 128, proto 32) so no alert can stall the queue; bytes
 * that are not UTF-8 become '?'.  0, -EINVAL (not an EVE alert line),
 * -E2BIG or -ENOMEM. */
int ship_alert_from_eve(const char *eve_line, const char *sensor, uint64_t seq, char **out);

/* As ship_alert_from_eve, and also an EVE flow line (the summary of a flow
 * that alerted) to the contract's FLOW object: "type": "flow" (always
 * first), "id", "flow_id", "start", "end", the addresses, ports, proto,
 * pkts/bytes to server and client, "state", "reason". */
int ship_record_from_eve(const char *eve_line, const char *sensor, uint64_t seq, char **out);

/* Is this spooled record a FLOW object (ship_record_from_eve's output)? */
bool ship_is_flow(const char *rec, size_t len);

#endif
