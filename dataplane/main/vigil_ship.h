/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil's link to the control plane (the `control.*` keys): the shipper of
 * dataplane/ship fed from the output thread, and heartbeats that carry the
 * pipeline's counters.
 */
#ifndef VIGIL_SHIP_MAIN_H
#define VIGIL_SHIP_MAIN_H

#include <stdio.h>

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

/* After the pipeline ended: keeps delivering for up to control.drain,
 * sends the last heartbeat, prints a summary to F (may be NULL), frees.
 * Returns true when everything spooled was delivered.  NULL: true. */
bool vigil_ship_close(struct vigil_ship *vs, FILE *f);

#endif
