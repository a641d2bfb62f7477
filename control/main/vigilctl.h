/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigilctl's output helpers (vigilctl_out.c).
 */
#ifndef VIGIL_VIGILCTL_H
#define VIGIL_VIGILCTL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* A table column: header, JSON key of each row, width cap (0: none). */
struct ctl_col {
	const char *head, *key;
	size_t max;
};

/* An aligned table of the objects in arr ("(none)" when empty). */
void ctl_out_table(FILE *f, json_t *arr, const struct ctl_col *cols, size_t ncols);

/* "key  value" lines for the NULL-terminated keys of obj. */
void ctl_out_fields(FILE *f, json_t *obj, const char *const *keys);

#endif
