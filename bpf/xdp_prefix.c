/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prefix strings for the blocklist: "192.0.2.0/24", "2001:db8::/32", or an
 * address alone.  Pure functions (no libbpf): the fuzz target
 * tests/fuzz/fuzz_xdp_prefix.c builds this file on its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xdp.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int xdp_prefix_parse(const char *s, struct xdp_prefix *p, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t alen;
	unsigned max, len;

	memset(p, 0, sizeof(*p));
	if (!s || !*s) {
		seterr(err, errlen, "empty prefix");
		return -EINVAL;
	}
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr)) {
		seterr(err, errlen, "'%.64s': not an IP address or prefix", s);
		return -EINVAL;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (memchr(addr, ':', alen)) {
		p->family = 6;
		max = 128;
		if (inet_pton(AF_INET6, addr, p->addr) != 1) {
			seterr(err, errlen, "'%.64s': not an IPv6 address", addr);
			return -EINVAL;
		}
	} else {
		p->family = 4;
		max = 32;
		if (inet_pton(AF_INET, addr, p->addr) != 1) {
			seterr(err, errlen, "'%.64s': not an IPv4 address", addr);
			return -EINVAL;
		}
	}
	len = max;
	if (slash) {
		const char *d = slash + 1;

		len = 0;
		if (!*d || strlen(d) > 3 || strspn(d, "0123456789") != strlen(d)) {
			seterr(err, errlen, "'%.64s': the prefix length must be a number from 0 to %u", s, max);
			return -EINVAL;
		}
		for (; *d; d++)
			len = len * 10 + (unsigned)(*d - '0');
		if (len > max) {
			seterr(err, errlen, "'%.64s': the prefix length must be a number from 0 to %u", s, max);
			return -EINVAL;
		}
	}
	p->len = (uint8_t)len;
	for (unsigned bit = len; bit < max; bit++) {
		if (p->addr[bit / 8] & (0x80u >> (bit % 8))) {
			struct xdp_prefix net = *p;
			char want[XDP_PREFIX_STRLEN];

			for (unsigned b = len; b < max; b++)
				net.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
			xdp_prefix_format(&net, want, sizeof(want));
			seterr(err, errlen, "'%.64s': host bits set (the network is %s)", s, want);
			return -EINVAL;
		}
	}
	return 0;
}

void xdp_prefix_format(const struct xdp_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, p->len);
}
