/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule change management below the API: the rules text itself (one rule
 * by sid: find, enable, disable, replace, add; the sids two texts differ
 * in), the unified diff of two texts, and the validation worker that runs
 * vigil and vigil-lint on a version in its own thread.
 *
 * The text functions are pure (no store, no I/O) so they can be tested on
 * their own; the worker uses the store (taking store_lock() for each
 * short unit of work, never while a tool runs).
 */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "store.h"

/* --- the rules text (rules_text.c) ------------------------------------ */

/* The sid of a rule line: the number of its last "sid:N;" keyword (blanks
 * allowed around ':' and before ';' or ')'), after '(' or ';' or a blank.
 * *commented: the line's first non-blank character is '#'.  False when
 * the line has no sid (a comment, a blank line, a broken rule). */
bool rules_line_sid(const char *line, size_t n, uint32_t *sid, bool *commented);

enum rules_edit_action {
	RULES_ENABLE,
	RULES_DISABLE,
	RULES_EDIT,
	RULES_ADD,
};

/* -EINVAL for a name other than enable, disable, edit, add. */
int rules_edit_action_parse(const char *name, enum rules_edit_action *out);

/* Applies one change to the rule with this sid (see control/DESIGN.md,
 * Edits): the new text in *out (malloc'd, NUL-terminated; *outlen bytes).
 * rule: the new line for edit and add (must carry sid:SID;), else unused.
 * 0, or -ENOENT (no line has the sid), -EALREADY (enabled/disabled
 * already), -EEXIST (add: the sid is taken), -ENOTUNIQ (several lines
 * have it), -EINVAL (rule without that sid, or not one line), -ENOMEM;
 * msg says which. */
int rules_edit(const char *text, size_t len, enum rules_edit_action a, uint32_t sid,
	       const char *rule, char **out, size_t *outlen, char *msg, size_t msglen);

/* The enabled rules of two texts compared by sid: new arrays of sids
 * (ascending) added in b, removed from a, and changed (in both, another
 * line). */
int rules_sid_changes(const char *a, size_t alen, const char *b, size_t blen, json_t **added,
		      json_t **removed, json_t **changed);

/* --- diff (rules_diff.c) ---------------------------------------------- */

/* A unified diff of a -> b (3 lines of context, "--- aname" / "+++ bname"
 * headers, "\ No newline at end of file" markers), "" when equal.  More
 * than max_changed lines added or removed: *too_large set and *out says
 * so instead.  *out malloc'd, NUL-terminated. */
int rules_diff(const char *a, size_t alen, const char *b, size_t blen, const char *aname,
	       const char *bname, size_t max_changed, char **out, bool *too_large);

/* --- running a tool (rules_run.c) ------------------------------------- */

/* How a run is stopped from outside: the worker's lock, its condition
 * variable (signalled on stop) and stop flag, and where the child's pid
 * is published (under mu) so that a stop can kill it. */
struct rules_run_ctl {
	pthread_mutex_t *mu;
	pthread_cond_t *cond;
	const bool *stop;
	pid_t *pid;
};

struct rules_run_result {
	int status;              /* exit status, or 128 + signal */
	bool timed_out, stopped; /* killed for the deadline; a stop came (the run is void) */
	char *out, *err;         /* the start of stdout and stderr (malloc'd, NUL-terminated) */
};

/* Runs argv[0] (a path, or a name looked up in $PATH) with argv in
 * directory cwd, stdin /dev/null, stdout and stderr to files there,
 * without a shell, with default signal dispositions and mask, and no
 * inherited descriptors past stderr.  Killed (SIGKILL) at deadline (a
 * CLOCK_MONOTONIC second) or on stop.  0 when it ran (whatever its
 * status), -ECANCELED when a stop came first, -errno when it could not be
 * started (msg says why). */
int rules_run(const char *const *argv, const char *cwd, double deadline,
	      const struct rules_run_ctl *ctl, struct rules_run_result *res, char *msg, size_t msglen);

void rules_run_result_fini(struct rules_run_result *res);

/* CLOCK_MONOTONIC in seconds. */
double rules_mono_s(void);

/* --- the validation worker (rules_validate.c) -------------------------- */

struct rules_validate_cfg {
	const char *vigil_path;        /* vigil (a path, or a name for $PATH) */
	const char *lint_path;         /* vigil-lint */
	const char *reference_pcap;    /* the performance step's capture; NULL: none */
	double perf_threshold;         /* new / baseline above this fails (1.25) */
	int64_t timeout_s;             /* for a whole validation (300) */
	const char *work_dir;          /* scratch directories are made under it */
	struct store *store;           /* borrowed */
	int64_t (*now)(void *arg);     /* the daemon's clock */
	void *now_arg;
};

struct rules_validator;

/* Counters for /metrics. */
struct rules_validator_stats {
	uint64_t passed, failed, queued;
};

/* Creates work_dir (one level) and starts the worker, with every version
 * still "submitted" or "validating" queued (a restart mid-queue).  The
 * strings of cfg are borrowed for the validator's life. */
int rules_validator_create(const struct rules_validate_cfg *cfg, struct rules_validator **out);

/* Queues a version (its status is the caller's business: "validating").
 * Never blocks on a validation.  -ESHUTDOWN once stopped. */
int rules_validator_enqueue(struct rules_validator *v, const char *id);

void rules_validator_get_stats(struct rules_validator *v, struct rules_validator_stats *out);

/* Stops the worker: a running tool is killed, the queue is dropped (the
 * versions stay "validating" in the store, queued again at the next
 * start).  Returns after the thread is joined; enqueue fails from then on.
 * Safe to call twice. */
void rules_validator_stop(struct rules_validator *v);

/* Frees a stopped validator (stops it first if needed); NULL does nothing. */
void rules_validator_destroy(struct rules_validator *v);

/* Runs one validation of version id now, on the caller's thread (for
 * tests; the worker does the same): stores the result. */
int rules_validate_one(struct rules_validator *v, const char *id);

#endif
