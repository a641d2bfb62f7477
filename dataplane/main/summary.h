/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIGIL_SUMMARY_H
#define VIGIL_SUMMARY_H

#include <stdio.h>

#include "pipeline.h"

/* The end-of-run table: traffic, flows, decode problems, drops, top flows. */
void summary_print(FILE *f, const char *input, const char *eve_path, const struct pipeline_result *r);

#endif
