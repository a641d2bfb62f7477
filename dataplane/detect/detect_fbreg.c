/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flowbit name registry: ids that mean the same name in every engine
 * built with it, so the flowbits a flow carries (struct detect_flow) stay
 * valid across a ruleset reload without remapping.  Open addressing over
 * strdup'd names; grows by doubling.  Only engine builds use it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

#define FBREG_MAX 65536u

struct detect_fbreg {
	char **names;        /* by id */
	uint32_t n;
	uint32_t *slots;     /* id + 1; 0: empty */
	uint32_t mask;
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int detect_fbreg_create(struct detect_fbreg **out)
{
	struct detect_fbreg *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->mask = 255;
	r->slots = calloc(r->mask + 1, sizeof(*r->slots));
	r->names = calloc((r->mask + 1) / 2, sizeof(*r->names));
	if (!r->slots || !r->names) {
		detect_fbreg_destroy(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void detect_fbreg_destroy(struct detect_fbreg *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n; i++)
		free(r->names[i]);
	free(r->names);
	free(r->slots);
	free(r);
}

/* Doubles the table (kept at most half full). */
static int grow(struct detect_fbreg *r)
{
	uint32_t nmask = r->mask * 2 + 1;
	uint32_t *ns = calloc(nmask + 1, sizeof(*ns));
	char **nn = realloc(r->names, (nmask + 1) / 2 * sizeof(*nn));

	if (nn)
		r->names = nn;
	if (!ns || !nn) {
		free(ns);
		return -ENOMEM;
	}
	for (uint32_t id = 0; id < r->n; id++) {
		uint32_t i = hash(r->names[id]) & nmask;
		while (ns[i])
			i = (i + 1) & nmask;
		ns[i] = id + 1;
	}
	free(r->slots);
	r->slots = ns;
	r->mask = nmask;
	return 0;
}

int detect_fbreg_id(struct detect_fbreg *r, const char *name)
{
	uint32_t i = hash(name) & r->mask;

	for (; r->slots[i]; i = (i + 1) & r->mask)
		if (!strcmp(r->names[r->slots[i] - 1], name))
			return (int)(r->slots[i] - 1);
	if (r->n >= FBREG_MAX)
		return -E2BIG;
	if ((r->n + 1) * 2 > r->mask + 1) {
		int rc = grow(r);
		if (rc)
			return rc;
		return detect_fbreg_id(r, name);
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	r->names[r->n] = copy;
	r->slots[i] = ++r->n;
	return (int)(r->n - 1);
}
