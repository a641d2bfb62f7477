/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the validation worker: one job (a version being validated) and
 * the four steps of control/DESIGN.md (rules_steps.c).
 */
#ifndef VIGIL_RULES_PRIV_H
#define VIGIL_RULES_PRIV_H

#include <limits.h>

#include "rules.h"

#define RULES_FILE "ruleset.rules"   /* the name every file:line:col carries */
#define RULES_DIAG_MAX 50             /* diagnostics / lint messages kept in a step */

/* What a job knows while it runs, in its scratch directory. */
struct rules_job {
	const struct rules_validate_cfg *cfg;
	struct rules_run_ctl ctl;
	char dir[PATH_MAX];
	double deadline;               /* CLOCK_MONOTONIC */
	struct store_case_data *cases;
	size_t ncases;
	bool baseline;                 /* baseline.rules written (a deployed version exists) */
	/* from the compile step */
	char engine_id[STORE_ENGINE_MAX + 1];
	int64_t loaded, skipped;
	bool compiled;                 /* vigil built an engine from the rules */
	bool stopped;                  /* a tool was killed by a stop: the result is void */
};

/* Each step returns a new step object {"name", "ok", "detail", ...}. */
json_t *rules_step_compile(struct rules_job *j);
json_t *rules_step_lint(struct rules_job *j);
json_t *rules_step_regression(struct rules_job *j);
json_t *rules_step_performance(struct rules_job *j);

#endif
