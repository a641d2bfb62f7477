/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil's link to the control plane (the `control.*` keys): the shipper of
 * dataplane/ship fed from the output thread, and heartbeats that carry the
 * pipeline's counters.
 */
#ifndef VIGIL_SHIP_MAIN_H
#define VIGIL_SHIP_MAIN_H

#include <stdio.h>

#include <jansson.h>

#include "cfg.h"
#include "eve.h"

struct vigil_ship;

/* When control.url is set: opens the spool (recovering what a previous run
 * left) and starts the shipper thread; else *OUT = NULL.  RULESET is the
 * id the heartbeats report.  0, or -errno with ERR filled. */
int vigil_ship_open(struct vigil_ship **out, const struct cfg *c, const char *logdir,
		    const char *version, const char *ruleset, char *err, size_t errlen);

/* Routes EC's alert lines and counters to the shipper (VS may be NULL). */
void vigil_ship_attach(struct vigil_ship *vs, struct eve_cfg *ec);

/* Any thread: the ruleset id the next heartbeats report (after a reload).
 * VS may be NULL. */
void vigil_ship_set_ruleset(struct vigil_ship *vs, const char *ruleset);

/* Any thread: heartbeat now (VS may be NULL). */
void vigil_ship_heartbeat_soon(struct vigil_ship *vs);

/* The reloader: heartbeats carry its load report, and a ruleset the
 * control plane names in a heartbeat answer goes to it (VS may be NULL). */
struct vigil_reload;
void vigil_ship_set_reload(struct vigil_ship *vs, struct vigil_reload *r);

/* The blocklist a heartbeat answer carries ("blocklist": [...]) goes to FN
 * on the shipper thread (NULL: ignored). */
void vigil_ship_set_blocklist(struct vigil_ship *vs, void (*fn)(void *arg, json_t *entries), void *arg);

/* The spool directory (where fetched rulesets are kept, in rules/), and
 * the sensor's token (NULL for a NULL VS). */
const char *vigil_ship_dir(const struct vigil_ship *vs);
const char *vigil_ship_token(const struct vigil_ship *vs);

/* 16 hex digits of SHA-256 over the effective configuration ("key = value"
 * lines, secrets left out), so the control plane sees config changes. */
void vigil_config_hash(const struct cfg *c, char out[17]);

/* After the pipeline ended: keeps delivering for up to control.drain,
 * sends the last heartbeat, prints a summary to F (may be NULL), frees.
 * Returns true when everything spooled was delivered.  NULL: true. */
bool vigil_ship_close(struct vigil_ship *vs, FILE *f);

#endif
