/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte-level helpers for the unit tests that build packets by hand:
 * big-endian writes and an Internet checksum written independently of the
 * decoder's (16-bit words, the textbook way), so the tests check it.
 */
#ifndef VIGIL_TEST_PKTBYTES_H
#define VIGIL_TEST_PKTBYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void w32(uint8_t *p, uint32_t v)
{
	w16(p, (uint16_t)(v >> 16));
	w16(p + 2, (uint16_t)v);
}

/* Ones-complement sum of n bytes as big-endian 16-bit words. */
static inline uint32_t sum16(uint32_t s, const uint8_t *b, size_t n)
{
	for (; n > 1; n -= 2, b += 2)
		s += (uint32_t)(b[0] << 8 | b[1]);
	if (n)
		s += (uint32_t)b[0] << 8;
	return s;
}

/* The checksum field value for a sum. */
static inline uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif
