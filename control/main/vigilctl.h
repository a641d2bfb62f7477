/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigilctl's shared parts: the HTTP call (vigilctl.c), the output helpers
 * (vigilctl_out.c) and the rules commands (vigilctl_rules.c).
 */
#ifndef VIGIL_VIGILCTL_H
#define VIGIL_VIGILCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>

#define EXIT_SERVER 1
#define EXIT_USAGE 2

/* One invocation: where, as whom, how to print. */
struct ctl {
	const char *url, *token, *cacert;
	bool json, insecure;
	CURL *curl;
};

/* Performs METHOD path (with the query already encoded) with an optional
 * JSON body.  On 2xx sets *out to the parsed answer (or NULL if not JSON)
 * and returns 0; otherwise prints the server's message and returns
 * EXIT_SERVER.  In --json mode the raw answer is printed as well. */
int ctl_call(struct ctl *c, const char *method, const char *path, const char *body, json_t **out);

/* Prints msg (if any) and the usage; EXIT_USAGE. */
int ctl_usage(const char *msg);

/* vigilctl rules ... (vigilctl_rules.c). */
int ctl_cmd_rules(struct ctl *c, int argc, char **argv);

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
