/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the blocklist's prefix parser (bpf/xdp_prefix.c),
 * which reads prefixes from the command line and from the dataplane.
 *
 * Input: the bytes of a string (cut at the first NUL).  Every accepted
 * prefix must be canonical (family 4 or 6, length in range, no host bits)
 * and survive the round trip through xdp_prefix_format; every refusal must
 * explain itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256], buf[XDP_PREFIX_STRLEN];
	struct xdp_prefix p, q;
	unsigned max;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (xdp_prefix_parse(s, &p, err, sizeof(err)) != 0) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();   /* a refusal always says why */
		free(s);
		return 0;
	}
	if (p.family != 4 && p.family != 6)
		abort();
	max = p.family == 4 ? 32 : 128;
	if (p.len > max)
		abort();
	for (unsigned bit = p.len; bit < 128; bit++)
		if (p.addr[bit / 8] & (0x80u >> (bit % 8)))
			abort();   /* host bits (and the unused bytes of IPv4) are zero */
	xdp_prefix_format(&p, buf, sizeof(buf));
	if (xdp_prefix_parse(buf, &q, err, sizeof(err)) != 0 || memcmp(&p, &q, sizeof(p)) != 0)
		abort();   /* what we print, we read back as the same prefix */
	free(s);
	return 0;
}
