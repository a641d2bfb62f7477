/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live ruleset reloads while vigil runs: a thread that, on SIGHUP or on a
 * command from the unix socket (unix-command.*), loads and compiles the
 * rules off the packet path and switches the pipeline to them
 * (pipeline_reload).  A load that fails changes nothing and says why.
 *
 * Socket protocol: one command line, one JSON answer line, then close.
 *   reload [strict] [PATH]  load PATH (default: the current rules file);
 *                           strict: refuse the whole reload on any bad rule
 *   status                  the ruleset in use, rules, reloads so far
 * Answers: {"ok": true, "ruleset": ID, "loaded": N, "skipped": N,
 * "diagnostics": [{"where": "file:line:col", "reason", "msg"}...], "ms": {...}}
 * or {"ok": false, "error": "file:line:col: ..."}.
 */
#ifndef VIGIL_RELOAD_H
#define VIGIL_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cfg.h"
#include "detect.h"
#include "pipeline.h"
#include "vigil_ship.h"

struct vigil_reload;

struct vigil_reload_cfg {
	const struct cfg *cfg;
	const char *rules;            /* the rules file in use */
	bool strict;                  /* --strict-rules */
	const char *ruleset;          /* its version id */
	uint64_t rules_loaded;
	struct detect_fbreg *fbreg;   /* the one the first engine was built with */
	struct pipeline_ctl *ctl;
	struct vigil_ship *ship;      /* NULL: no control plane */
	const char *socket;           /* NULL: no command socket */
	uint64_t rules_skipped;       /* of the first load */
	/* rulesets from the control plane (NULL url: none) */
	const char *control_url, *token, *rules_dir;
};

/* Starts the thread (and binds the socket).  0 or -errno with ERR. */
int vigil_reload_start(struct vigil_reload **out, const struct vigil_reload_cfg *c, char *err,
		       size_t errlen);
/* Async-signal-safe: ask for a reload of the current rules file (SIGHUP). */
void vigil_reload_signal(void);
/* Shipper thread: the heartbeat's "load" object ({"loaded", "skipped",
 * "error"}: the last load or reload) and the id of the ruleset in use. */
void vigil_reload_fill(struct vigil_reload *r, json_t *hb);

/* Shipper thread: the control plane wants ruleset version ID (engine id
 * ENGINE_ID) from URL (a path on control.url): unless it runs already, the
 * reloader fetches it, stores it in rules_dir and reloads it. */
void vigil_reload_want(struct vigil_reload *r, const char *id, const char *engine_id, const char *url);

/* Stops the thread, removes the socket.  NULL: nothing. */
void vigil_reload_stop(struct vigil_reload *r);

#endif
