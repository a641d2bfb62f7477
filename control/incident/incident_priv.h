/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the incident_*.c files.
 */
#ifndef VIGIL_INCIDENT_PRIV_H
#define VIGIL_INCIDENT_PRIV_H

#include "incident.h"

/* A timeline entry (action) and an audit entry (audit_action, object
 * "incident:ID") with the same user and detail. */
int incident_log(struct store *st, int64_t id, int64_t now, const char *user, const char *action,
		 const char *audit_action, const char *detail);

/* Fills the fields every new incident shares (status open, tier 1, opened
 * now, count 0) in inc, after the caller set key, kind, title, severity,
 * sid, first/last seen. */
void incident_new(struct store_incident *inc, int64_t now);

/* Inserts inc, logs "opened" (detail: the title) and queues "opened". */
int incident_open(struct store *st, struct store_incident *inc, const char *user, int64_t now,
		  struct incident_events *evs);

#endif
