/* SPDX-License-Identifier: BSD-3-Clause */
/* Small integer hashing shared by the packet path. */
#ifndef VIGIL_HASH_H
#define VIGIL_HASH_H

#include <stdint.h>

/* MurmurHash3's 64-bit finaliser: a bijective mix of all 64 bits. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#endif
