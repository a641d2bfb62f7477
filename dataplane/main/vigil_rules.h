/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"
#include "detect.h"

#include <jansson.h>

/* Load PATH with the variables of C (vars.address-groups.*, vars.port-groups.*),
 * log skipped rules and the load line, write the JSON load report to REPORT
 * (NULL: none), hand it to *REPORT_JSON too when that is not NULL (the
 * caller decrefs), and build the engine with flowbit ids from FBREG (NULL:
 * the engine's own).  Strict: the first bad rule fails the load.  Returns 0
 * or -errno with ERR set ("file:line:col: ..." for a rule). */
int vigil_rules_load(const struct cfg *c, const char *path, bool strict, const char *report,
		     struct detect_fbreg *fbreg, json_t **report_json, struct detect_engine **out,
		     char *err, size_t errlen);

#endif
