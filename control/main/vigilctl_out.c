/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigilctl's human output: aligned tables and key/value blocks from the
 * server's JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigilctl.h"

/* The text of a JSON value in a cell: "-" for null/absent, arrays joined
 * with ",", strings as they are. */
static void cell(json_t *v, char *buf, size_t len)
{
	size_t i, n = 0;
	json_t *e;

	if (!v) {
		snprintf(buf, len, "-");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "yes");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "no");
		break;
	case JSON_ARRAY:
		buf[0] = '\0';
		json_array_foreach(v, i, e) {
			char sub[128];
			cell(e, sub, sizeof(sub));
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", i ? "," : "", sub);
			if (n >= len)
				break;
		}
		break;
	case JSON_OBJECT: {
		char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		snprintf(buf, len, "%s", s ? s : "?");
		free(s);
		break;
	}
	default:
		snprintf(buf, len, "-");
		break;
	}
	/* one line per cell */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

void ctl_out_table(FILE *f, json_t *arr, const struct ctl_col *cols, size_t ncols)
{
	size_t w[16] = { 0 }, i;
	char buf[1024];
	json_t *row;

	if (ncols > 16)
		ncols = 16;
	for (size_t c = 0; c < ncols; c++)
		w[c] = strlen(cols[c].head);
	json_array_foreach(arr, i, row) {
		for (size_t c = 0; c < ncols; c++) {
			size_t n;
			cell(json_object_get(row, cols[c].key), buf, sizeof(buf));
			n = strlen(buf);
			if (cols[c].max && n > cols[c].max)
				n = cols[c].max;
			if (n > w[c])
				w[c] = n;
		}
	}
	for (size_t c = 0; c < ncols; c++)
		fprintf(f, "%-*s%s", c + 1 < ncols ? (int)w[c] : 0, cols[c].head, c + 1 < ncols ? "  " : "\n");
	json_array_foreach(arr, i, row) {
		for (size_t c = 0; c < ncols; c++) {
			cell(json_object_get(row, cols[c].key), buf, sizeof(buf));
			if (cols[c].max && strlen(buf) > cols[c].max && cols[c].max > 3)
				memcpy(buf + cols[c].max - 3, "...", 4);
			fprintf(f, "%-*s%s", c + 1 < ncols ? (int)w[c] : 0, buf, c + 1 < ncols ? "  " : "\n");
		}
	}
	if (json_array_size(arr) == 0)
		fprintf(f, "(none)\n");
}

void ctl_out_fields(FILE *f, json_t *obj, const char *const *keys)
{
	size_t w = 0;
	char buf[1024];

	for (const char *const *k = keys; *k; k++)
		if (strlen(*k) > w)
			w = strlen(*k);
	for (const char *const *k = keys; *k; k++) {
		cell(json_object_get(obj, *k), buf, sizeof(buf));
		fprintf(f, "%-*s  %s\n", (int)w, *k, buf);
	}
}
