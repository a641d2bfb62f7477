/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The blocklist's prefix parser (bpf/xdp_prefix.c): what it accepts, what
 * it refuses and how it says so, and the round trip through
 * xdp_prefix_format.  No privileges needed.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "xdp.h"

static const struct {
	const char *in;
	const char *out;           /* formatted back; NULL: refused */
	const char *err;           /* a piece of the message when refused */
} cases[] = {
	{ "192.0.2.0/24", "192.0.2.0/24", NULL },
	{ "192.0.2.1", "192.0.2.1/32", NULL },
	{ "0.0.0.0/0", "0.0.0.0/0", NULL },
	{ "198.51.100.128/25", "198.51.100.128/25", NULL },
	{ "2001:db8::/32", "2001:db8::/32", NULL },
	{ "2001:0db8:0000::/48", "2001:db8::/48", NULL },
	{ "::/0", "::/0", NULL },
	{ "2001:db8::1", "2001:db8::1/128", NULL },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.1/128", NULL },
	{ "192.0.2.1/24", NULL, "host bits set (the network is 192.0.2.0/24)" },
	{ "2001:db8::1/32", NULL, "host bits set (the network is 2001:db8::/32)" },
	{ "192.0.2.0/33", NULL, "from 0 to 32" },
	{ "2001:db8::/129", NULL, "from 0 to 128" },
	{ "192.0.2.0/", NULL, "prefix length" },
	{ "192.0.2.0/+8", NULL, "prefix length" },
	{ "192.0.2.0/-1", NULL, "prefix length" },
	{ "192.0.2.0/0024", NULL, "prefix length" },
	{ "192.0.2.0/24/1", NULL, "prefix length" },
	{ "192.0.2.0/ 24", NULL, "prefix length" },
	{ "192.0.2", NULL, "not an IPv4 address" },
	{ "192.0.2.256", NULL, "not an IPv4 address" },
	{ " 192.0.2.1", NULL, "not an IPv4 address" },
	{ "2001:db8:::1", NULL, "not an IPv6 address" },
	{ "example.com", NULL, "not an IPv4 address" },
	{ "/24", NULL, "not an IP address" },
	{ "", NULL, "empty prefix" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999/64", NULL, "not an IP" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xdp_prefix p;
		char err[256] = "", buf[XDP_PREFIX_STRLEN];
		int rc;

		cur_test = cases[i].in;
		rc = xdp_prefix_parse(cases[i].in, &p, err, sizeof(err));
		if (cases[i].out) {
			CHECK_EQ(rc, 0);
			if (rc)
				printf("    error: %s\n", err);
			xdp_prefix_format(&p, buf, sizeof(buf));
			if (strcmp(buf, cases[i].out)) {
				printf("FAIL [%s]: formatted as %s, want %s\n", cases[i].in, buf, cases[i].out);
				failures++;
			}
		} else {
			CHECK_EQ(rc, -22);
			if (!strstr(err, cases[i].err)) {
				printf("FAIL [%s]: message '%s' lacks '%s'\n", cases[i].in, err, cases[i].err);
				failures++;
			}
		}
	}
	cur_test = "NULL";
	CHECK(xdp_prefix_parse(NULL, &(struct xdp_prefix){ 0 }, NULL, 0) == -22);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
