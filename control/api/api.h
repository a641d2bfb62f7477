/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's HTTP API (libmicrohttpd): the endpoints of
 * control/DESIGN.md, bearer-token auth with roles, request limits,
 * Prometheus metrics, and the periodic evaluation (escalation, blind
 * spots) shared by POST /api/v1/tick and the daemon's timer.
 *
 * Threads: libmicrohttpd's one internal polling thread runs every
 * request; api_tick() and api_notify_result() may be called from any
 * other thread.  All of them take store_lock() for the duration of their
 * database work.
 */
#ifndef VIGIL_API_H
#define VIGIL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "incident.h"
#include "rules.h"
#include "store.h"

struct api_server;

/* Notification targets, for a notifier that must follow the database.
 * PUT /api/v1/notify hands the new set to check() before storing it (an
 * error answers 400 with msg, and nothing is stored) and to apply() once
 * it is committed.  Both run with the store lock held and must not block.
 * Unset functions are not called. */
struct api_targets_hook {
	int (*check)(void *arg, const struct store_target *t, size_t n, char *msg, size_t msglen);
	void (*apply)(void *arg, const struct store_target *t, size_t n);
	void *arg;
};

struct api_config {
	const char *listen;            /* "HOST:PORT" or "[V6]:PORT"; port 0: any free */
	const char *tls_cert, *tls_key;/* PEM files: both for HTTPS, or neither */
	size_t max_body;               /* 413 past this (1 MiB) ... */
	size_t max_ingest_body;        /* ... or this for ingest (8 MiB) ... */
	size_t max_ruleset_body;       /* ... or this for POST /api/v1/rulesets (96 MiB) */
	size_t max_discard;            /* an oversized or refused upload is read and dropped up
					* to this many bytes for a clean answer; past it the
					* connection is closed (64 MiB) */
	int64_t default_limit, max_limit;  /* list answers (100, 10000) */
	unsigned connection_limit;     /* simultaneous connections (256) */
	unsigned connection_timeout_s; /* idle connections are closed (30) */
	struct incident_cfg incident;
	struct store *store;           /* borrowed; outlives the server */
	int64_t (*now)(void *arg);     /* the clock (seconds since the epoch) */
	void *now_arg;
	struct incident_sink sink;     /* where incident events go */
	struct api_targets_hook targets;
	/* Where submitted versions are validated (borrowed; outlives the
	 * server, stopped first).  NULL: versions stay "submitted" and
	 * POST .../validate answers 503. */
	struct rules_validator *validator;
};

/* Defaults as in the contract; store, now and sink must be set. */
void api_config_default(struct api_config *c);

/* Starts serving (returns once the socket listens).  -EINVAL: bad listen
 * address or options (message on stderr); -ENOTSUP: TLS asked for but
 * libmicrohttpd lacks it; -EADDRINUSE and friends from bind. */
int api_server_create(const struct api_config *cfg, struct api_server **out);

/* The port actually bound (useful with port 0). */
unsigned api_server_port(const struct api_server *srv);

/* Stops serving and frees; api_server_destroy(NULL) does nothing. */
void api_server_destroy(struct api_server *srv);

/* Runs escalation, blind-spot and drift evaluation at the configured
 * clock's "now" in one transaction, then emits the events.  Sets the
 * counts if not NULL.  0 or -errno. */
int api_tick(struct api_server *srv, int *escalated, int *blind_spots);

/* For the notifier: records the outcome of a delivery at the configured
 * clock's "now" (incident_notified(), in one transaction; why: the error,
 * or NULL) and counts it in the metrics.  Takes the store lock: not for a
 * sink, which runs with it held. */
int api_notify_result(struct api_server *srv, int64_t incident_id, const char *event,
		      const char *target, bool ok, const char *why);

#endif
