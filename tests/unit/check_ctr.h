/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole-table counter checks for the unit tests (with check.h): every
 * counter of a block must equal its expected value, so a test also catches
 * counters that moved when they should not have.
 */
#ifndef VIGIL_TEST_CHECK_CTR_H
#define VIGIL_TEST_CHECK_CTR_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ctr.h"

/* want: base values for every counter (NULL: all 0), then the -1-terminated
 * (counter, value) pairs override them. */
static inline void check_ctrs(const char *file, int line, const struct ctr_block *c,
			      const uint64_t *base, const int *pairs)
{
	uint64_t want[CTR__COUNT];

	if (base)
		memcpy(want, base, sizeof(want));
	else
		memset(want, 0, sizeof(want));
	for (int i = 0; pairs[i] >= 0; i += 2)
		want[pairs[i]] = (uint64_t)pairs[i + 1];
	for (int i = 0; i < CTR__COUNT; i++) {
		uint64_t got = ctr_read(c, (enum ctr_id)i);
		if (got != want[i]) {
			printf("FAIL %s:%d [%s]: counter %s\n    got:  %llu\n    want: %llu\n", file, line,
			       cur_test, ctr_name((enum ctr_id)i), (unsigned long long)got,
			       (unsigned long long)want[i]);
			failures++;
		}
	}
}

#endif
