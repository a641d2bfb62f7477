/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The incident lifecycle: a table of allowed transitions and the changes
 * that go with each.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "incident_priv.h"

static const char *const status_names[INCIDENT_N_STATUS] = {
	[INCIDENT_OPEN] = "open",
	[INCIDENT_ACKNOWLEDGED] = "acknowledged",
	[INCIDENT_INVESTIGATING] = "investigating",
	[INCIDENT_MITIGATED] = "mitigated",
	[INCIDENT_RESOLVED] = "resolved",
	[INCIDENT_CLOSED] = "closed",
};

#define T(s) (1u << INCIDENT_##s)
/* allowed[from] is the set of states `from` may move to. */
static const unsigned allowed[INCIDENT_N_STATUS] = {
	[INCIDENT_OPEN] = T(ACKNOWLEDGED) | T(RESOLVED),
	[INCIDENT_ACKNOWLEDGED] = T(INVESTIGATING) | T(RESOLVED),
	[INCIDENT_INVESTIGATING] = T(MITIGATED) | T(RESOLVED),
	[INCIDENT_MITIGATED] = T(RESOLVED),
	[INCIDENT_RESOLVED] = T(CLOSED) | T(OPEN),
	[INCIDENT_CLOSED] = T(OPEN),
};
#undef T

int incident_status_parse(const char *name, enum incident_status *out)
{
	for (int i = 0; i < INCIDENT_N_STATUS; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum incident_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *incident_status_name(enum incident_status s)
{
	return (unsigned)s < INCIDENT_N_STATUS ? status_names[s] : "?";
}

bool incident_transition_allowed(enum incident_status from, enum incident_status to)
{
	if ((unsigned)from >= INCIDENT_N_STATUS || (unsigned)to >= INCIDENT_N_STATUS)
		return false;
	return (allowed[from] >> to) & 1u;
}

bool incident_transition_privileged(enum incident_status from, enum incident_status to)
{
	(void)from;
	return to == INCIDENT_CLOSED || to == INCIDENT_OPEN;
}

int incident_set_status(struct store *st, int64_t id, enum incident_status to, const char *user,
			const char *reason, int64_t now, struct incident_events *evs)
{
	struct store_incident inc;
	enum incident_status from;
	char detail[600];
	const char *event = NULL;
	int err = store_incident_get(st, id, &inc);

	if (err)
		return err;
	if (incident_status_parse(inc.status, &from) != 0)
		return -EIO;
	if (!incident_transition_allowed(from, to))
		return -EPERM;
	switch (to) {
	case INCIDENT_OPEN:
		/* a reopen starts a new cycle: the old times go, escalation
		 * restarts at the first tier */
		inc.acked_at = inc.mitigated_at = inc.resolved_at = inc.closed_at = STORE_NO_TIME;
		inc.escalation_tier = 1;
		inc.esc_since = now;
		event = "opened";
		break;
	case INCIDENT_ACKNOWLEDGED:
		inc.acked_at = now;
		event = "acknowledged";
		break;
	case INCIDENT_INVESTIGATING:
		break;
	case INCIDENT_MITIGATED:
		inc.mitigated_at = now;
		break;
	case INCIDENT_RESOLVED:
		inc.resolved_at = now;
		event = "resolved";
		break;
	case INCIDENT_CLOSED:
		inc.closed_at = now;
		break;
	default:
		return -EINVAL;
	}
	snprintf(inc.status, sizeof(inc.status), "%s", status_names[to]);
	if (reason && *reason)
		snprintf(detail, sizeof(detail), "%s -> %s: %.500s", status_names[from], status_names[to],
			 reason);
	else
		snprintf(detail, sizeof(detail), "%s -> %s", status_names[from], status_names[to]);
	err = store_incident_update(st, &inc);
	if (!err)
		err = incident_log(st, id, now, user, "status", "incident.status", detail);
	if (!err && event)
		err = incident_events_push(evs, event, id, now);
	if (!err && to == INCIDENT_OPEN)
		evs->v[evs->n - 1].reopen = true;
	return err;
}

int incident_assign(struct store *st, int64_t id, const char *assignee, const char *user,
		    int64_t now)
{
	struct store_incident inc;
	int err = store_incident_get(st, id, &inc);

	if (err)
		return err;
	if (strcmp(inc.status, "closed") == 0)
		return -EPERM;
	snprintf(inc.assignee, sizeof(inc.assignee), "%s", assignee);
	err = store_incident_update(st, &inc);
	if (!err)
		err = incident_log(st, id, now, user, "assign", "incident.assign", assignee);
	return err;
}

int incident_note(struct store *st, int64_t id, const char *text, const char *user, int64_t now)
{
	struct store_incident inc;
	int err = store_incident_get(st, id, &inc);

	if (err)
		return err;
	return incident_log(st, id, now, user, "note", "incident.note", text);
}
