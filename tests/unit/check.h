/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The unit tests' checks: CHECK(cond) and CHECK_EQ(got, want) report the
 * file, line, current test (cur_test) and values, count failures and go on;
 * main() returns failures ? 1 : 0.
 */
#ifndef VIGIL_TEST_CHECK_H
#define VIGIL_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>

static int failures;
static const char *cur_test = "";

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, cur_test, #cond); \
		failures++; \
	} \
} while (0)

#define CHECK_EQ(got, want) check_eq(__FILE__, __LINE__, #got, (uint64_t)(got), (uint64_t)(want))

static inline void check_eq(const char *file, int line, const char *expr, uint64_t got, uint64_t want)
{
	if (got == want)
		return;
	printf("FAIL %s:%d [%s]: %s\n    got:  %llu (0x%llx)\n    want: %llu (0x%llx)\n", file,
	       line, cur_test, expr, (unsigned long long)got, (unsigned long long)got,
	       (unsigned long long)want, (unsigned long long)want);
	failures++;
}

#endif
