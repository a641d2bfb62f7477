/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil's XDP program under BPF_PROG_TEST_RUN: crafted frames through the
 * loaded skeleton (never attached to a device), checking the verdict, the
 * counters (every one, packets and bytes), the XDP metadata and the maps;
 * and the library's map functions (blocklist, bypass, config, counters) on
 * the same maps, through xdp_open_object().
 *
 * The test moves into a network namespace of its own first: BPF_PROG_TEST_RUN
 * runs the program as if received on that namespace's loopback, queue 0,
 * and an AF_XDP socket bound there fills xsks_map[0] so the redirect path
 * can be checked too.  Nothing outside the process changes.
 *
 * Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN): exits 77 otherwise.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "vigil_xdp.skel.h"
#include "xdp.h"

#define SKIP 77
#define B(c) (1u << VIGIL_CTR_##c)

static struct vigil_xdp *skel;
static struct xdp_handle *h;
static int prog_fd;
static uint8_t out[4096];
static uint32_t out_len;

/* ---- frames */

struct spec {
	int family;                /* 4 or 6 */
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	int nvlan;                 /* 0..2; two: QinQ (outer 0x88a8) */
	uint16_t vlan[2];
	bool hbh;                  /* IPv6: a hop-by-hop options header first */
	uint16_t frag;             /* IPv4: the flags/offset field (host order) */
	size_t payload;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t build(uint8_t *buf, const struct spec *s)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	size_t off = 12, l4len, l3;

	memset(buf, 0, 2048);
	memcpy(buf, macs, 12);
	for (int i = 0; i < s->nvlan; i++) {
		put16(buf + off, s->nvlan == 2 && i == 0 ? 0x88a8 : 0x8100);
		put16(buf + off + 2, s->vlan[i]);
		off += 4;
	}
	put16(buf + off, s->family == 4 ? 0x0800 : 0x86dd);
	off += 2;
	l3 = off;
	l4len = (s->proto == IPPROTO_TCP ? 20 : s->proto == IPPROTO_UDP ? 8 : 0) + s->payload;
	if (s->family == 4) {
		buf[off] = 0x45;
		put16(buf + off + 2, (uint16_t)(20 + l4len));
		put16(buf + off + 6, s->frag);
		buf[off + 8] = 64;
		buf[off + 9] = s->proto;
		inet_pton(AF_INET, s->src, buf + off + 12);
		inet_pton(AF_INET, s->dst, buf + off + 16);
		off += 20;
	} else {
		buf[off] = 0x60;
		put16(buf + off + 4, (uint16_t)(l4len + (s->hbh ? 8 : 0)));
		buf[off + 6] = s->hbh ? 0 : s->proto;
		buf[off + 7] = 64;
		inet_pton(AF_INET6, s->src, buf + off + 8);
		inet_pton(AF_INET6, s->dst, buf + off + 24);
		off += 40;
		if (s->hbh) {
			buf[off] = s->proto;   /* next header; length 0: 8 bytes; PadN */
			buf[off + 2] = 1;
			buf[off + 3] = 4;
			off += 8;
		}
	}
	(void)l3;
	if (s->proto == IPPROTO_TCP) {
		put16(buf + off, s->sport);
		put16(buf + off + 2, s->dport);
		buf[off + 12] = 5 << 4;
		buf[off + 13] = s->tcp_flags;
		off += 20;
	} else if (s->proto == IPPROTO_UDP) {
		put16(buf + off, s->sport);
		put16(buf + off + 2, s->dport);
		put16(buf + off + 4, (uint16_t)l4len);
		off += 8;
	}
	return off + s->payload;
}

/* ---- running the program */

static int run(const uint8_t *pkt, uint32_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	int rc = bpf_prog_test_run_opts(prog_fd, &o);

	if (rc) {
		printf("FAIL [%s]: BPF_PROG_TEST_RUN: %s\n", cur_test, strerror(-rc));
		failures++;
		return -1;
	}
	out_len = o.data_size_out;
	return (int)o.retval;
}

static void counters(struct xdp_counters *c)
{
	if (xdp_counters(h, c)) {
		printf("FAIL: xdp_counters: %s\n", xdp_errmsg(h));
		exit(1);
	}
}

/* Runs pkt; checks the verdict, that exactly the counters in want moved
 * (one packet, len bytes each; RX always) and whether the blocked tag
 * precedes the frame in the output. */
static void expect(const char *name, const uint8_t *pkt, size_t len, int want_rc, unsigned want, bool tag)
{
	struct xdp_counters a, b;
	uint32_t meta;
	int rc;

	cur_test = name;
	counters(&a);
	rc = run(pkt, (uint32_t)len);
	counters(&b);
	CHECK_EQ(rc, want_rc);
	want |= B(RX);
	for (int i = 0; i < VIGIL_CTR_MAX; i++) {
		bool on = want & (1u << i);

		if (b.c[i].packets - a.c[i].packets != (on ? 1u : 0u) || b.c[i].bytes - a.c[i].bytes != (on ? len : 0)) {
			printf("FAIL [%s]: counter %s moved by %llu packets / %llu bytes, want %u / %zu\n", name,
			       xdp_counter_name((enum vigil_ctr)i),
			       (unsigned long long)(b.c[i].packets - a.c[i].packets),
			       (unsigned long long)(b.c[i].bytes - a.c[i].bytes), on ? 1u : 0u, on ? len : 0);
			failures++;
		}
	}
	if (rc == XDP_DROP)
		return;
	/* the output starts at the metadata: 4 bytes more when tagged */
	CHECK_EQ(out_len, len + (tag ? 4 : 0));
	if (tag && out_len >= 4) {
		memcpy(&meta, out, 4);
		CHECK_EQ(meta, VIGIL_META_BLOCKED);
	}
	if (out_len >= len)
		CHECK(!memcmp(out + out_len - len, pkt, len));
}

static void set_config(enum vigil_mode mode, bool xsk)
{
	if (xdp_set_config(h, mode, xsk)) {
		printf("FAIL: xdp_set_config: %s\n", xdp_errmsg(h));
		failures++;
	}
}

/* ---- AF_XDP: a socket on lo queue 0 so bpf_redirect_map finds one */

static int xsk_fd = -1;
static void *umem;

static int xsk_on_lo(char *why, size_t len)
{
	struct xdp_umem_reg mr = { .len = 16 * 4096, .chunk_size = 4096 };
	struct sockaddr_xdp sx = { .sxdp_family = AF_XDP, .sxdp_flags = XDP_COPY };
	struct ifreq ifr = { .ifr_flags = IFF_UP };
	int n = 16, s, zero = 0;

	umem = aligned_alloc(4096, mr.len);
	if (!umem) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	mr.addr = (uintptr_t)umem;
	/* lo of our own namespace: up, so the socket can bind */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr)) {
		snprintf(why, len, "lo up: %s", strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	close(s);
	xsk_fd = socket(AF_XDP, SOCK_RAW, 0);
	sx.sxdp_ifindex = if_nametoindex("lo");
	if (xsk_fd < 0 || setsockopt(xsk_fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) ||
	    setsockopt(xsk_fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) ||
	    setsockopt(xsk_fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)) ||
	    setsockopt(xsk_fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)) ||
	    bind(xsk_fd, (struct sockaddr *)&sx, sizeof(sx))) {
		snprintf(why, len, "AF_XDP socket on lo: %s", strerror(errno));
		return -1;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.xsks_map), &zero, &xsk_fd, BPF_ANY)) {
		snprintf(why, len, "xsks_map[0]: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the cases */

static const struct spec tcp4 = { 4, "192.0.2.1", "198.51.100.2", IPPROTO_TCP, 40000, 80, 0x02, .payload = 10 };
static const struct spec udp4 = { 4, "192.0.2.1", "198.51.100.2", IPPROTO_UDP, 5353, 53, .payload = 30 };
static const struct spec tcp6 = { 6, "2001:db8::1", "3fff::2", IPPROTO_TCP, 40001, 443, 0x18, .hbh = true, .payload = 7 };
static const struct spec udp6 = { 6, "2001:db8::1", "3fff::2", IPPROTO_UDP, 5000, 6000, .payload = 3 };
static const struct spec vlan1 = { 4, "198.51.100.7", "192.0.2.9", IPPROTO_UDP, 1111, 2222, .nvlan = 1, .vlan = { 100 } };
static const struct spec qinq = { 4, "198.51.100.7", "192.0.2.9", IPPROTO_TCP, 1111, 2222, 0x10, .nvlan = 2, .vlan = { 200, 300 } };

static struct vigil_flow_key key_of(const struct spec *s, unsigned *dir)
{
	uint8_t src[16], dst[16];
	struct vigil_flow_key k;
	int af = s->family == 4 ? AF_INET : AF_INET6;

	inet_pton(af, s->src, src);
	inet_pton(af, s->dst, dst);
	*dir = xdp_flow_key_make(&k, s->family, src, s->sport, dst, s->dport, s->proto,
				 s->nvlan ? s->vlan[0] : 0);
	return k;
}

static struct spec reversed(const struct spec *s)
{
	struct spec r = *s;

	r.src = s->dst;
	r.dst = s->src;
	r.sport = s->dport;
	r.dport = s->sport;
	return r;
}

/* Pass path for everything parseable: xsk on (default config) with nothing
 * in xsks_map -> the helper's fallback, XDP_PASS, counted to_kernel. */
static void test_parse(int pass_rc, unsigned pass_ctr)
{
	uint8_t pkt[2048];
	size_t n;

	n = build(pkt, &tcp4);
	expect("ipv4 tcp", pkt, n, pass_rc, pass_ctr, false);
	n = build(pkt, &udp4);
	expect("ipv4 udp", pkt, n, pass_rc, pass_ctr, false);
	n = build(pkt, &tcp6);
	expect("ipv6 hop-by-hop tcp", pkt, n, pass_rc, pass_ctr, false);
	n = build(pkt, &udp6);
	expect("ipv6 udp", pkt, n, pass_rc, pass_ctr, false);
	n = build(pkt, &vlan1);
	expect("vlan ipv4 udp", pkt, n, pass_rc, pass_ctr, false);
	n = build(pkt, &qinq);
	expect("qinq ipv4 tcp", pkt, n, pass_rc, pass_ctr, false);

	/* ARP request: not IP */
	memset(pkt, 0, 60);
	memset(pkt, 0xff, 6);
	pkt[6] = 2;
	put16(pkt + 12, 0x0806);
	expect("arp", pkt, 60, pass_rc, pass_ctr | B(NON_IP), false);

	/* truncated: Ethernet alone, IPv4 header cut, TCP header cut,
	 * VLAN tag cut, IPv6 extension header cut, IHL < 5 */
	n = build(pkt, &tcp4);
	expect("14 bytes", pkt, 14, pass_rc, pass_ctr | B(PARSE_ERROR), false);
	expect("ipv4 header cut", pkt, 14 + 12, pass_rc, pass_ctr | B(PARSE_ERROR), false);
	expect("tcp header cut", pkt, 14 + 20 + 10, pass_rc, pass_ctr | B(PARSE_ERROR), false);
	n = build(pkt, &qinq);
	expect("vlan tag cut", pkt, 14 + 2, pass_rc, pass_ctr | B(PARSE_ERROR), false);
	n = build(pkt, &tcp6);
	expect("ipv6 ext header cut", pkt, 14 + 40 + 1, pass_rc, pass_ctr | B(PARSE_ERROR), false);
	n = build(pkt, &udp4);
	pkt[14] = 0x44;
	expect("ipv4 ihl 4", pkt, n, pass_rc, pass_ctr | B(PARSE_ERROR), false);
}

struct block_hits {
	uint64_t v4, v6;
	int n;
};

static void block_hits_cb(const struct xdp_block_entry *e, void *arg)
{
	struct block_hits *bh = arg;
	char buf[XDP_PREFIX_STRLEN];

	xdp_prefix_format(&e->prefix, buf, sizeof(buf));
	bh->n++;
	CHECK_EQ(e->expires_ns, 0);
	if (!strcmp(buf, "192.0.2.0/24"))
		bh->v4 = e->hits;
	else if (!strcmp(buf, "2001:db8::/32"))
		bh->v6 = e->hits;
	else
		CHECK(!"unexpected prefix");
}

static void test_block(void)
{
	struct block_hits hits = { 0 };
	struct spec s;
	uint8_t pkt[2048];
	size_t n;
	int rc;

	set_config(VIGIL_MODE_TAP, false);
	CHECK_EQ(xdp_block_add(h, "192.0.2.0/24", 0), 0);
	CHECK_EQ(xdp_block_add(h, "2001:db8::/32", 0), 0);

	/* tap: tagged, handed on */
	n = build(pkt, &tcp4);
	expect("tap: v4 source blocked", pkt, n, XDP_PASS, B(BLOCK_TAGGED) | B(TO_KERNEL), true);
	s = reversed(&tcp4);
	n = build(pkt, &s);
	expect("tap: v4 destination blocked", pkt, n, XDP_PASS, B(BLOCK_TAGGED) | B(TO_KERNEL), true);
	n = build(pkt, &udp6);
	expect("tap: v6 source blocked", pkt, n, XDP_PASS, B(BLOCK_TAGGED) | B(TO_KERNEL), true);
	n = build(pkt, &tcp6);
	expect("tap: v6 (hop-by-hop) source blocked", pkt, n, XDP_PASS, B(BLOCK_TAGGED) | B(TO_KERNEL), true);
	n = build(pkt, &tcp4);
	expect("tap: blocked, truncated tcp", pkt, 14 + 20 + 4, XDP_PASS,
	       B(BLOCK_TAGGED) | B(TO_KERNEL) | B(PARSE_ERROR), true);

	/* inline: dropped */
	set_config(VIGIL_MODE_INLINE, false);
	n = build(pkt, &tcp4);
	expect("inline: v4 source blocked", pkt, n, XDP_DROP, B(BLOCK_DROPPED), false);
	s = reversed(&udp4);
	n = build(pkt, &s);
	expect("inline: v4 destination blocked", pkt, n, XDP_DROP, B(BLOCK_DROPPED), false);
	n = build(pkt, &udp6);
	expect("inline: v6 source blocked", pkt, n, XDP_DROP, B(BLOCK_DROPPED), false);
	s = reversed(&udp6);
	n = build(pkt, &s);
	expect("inline: v6 destination blocked", pkt, n, XDP_DROP, B(BLOCK_DROPPED), false);
	n = build(pkt, &tcp4);
	expect("inline: blocked, truncated tcp still dropped", pkt, 14 + 20 + 4, XDP_DROP,
	       B(BLOCK_DROPPED) | B(PARSE_ERROR), false);
	n = build(pkt, &vlan1);   /* 198.51.100.7 -> 192.0.2.9: destination in the /24 */
	expect("inline: vlan, destination blocked", pkt, n, XDP_DROP, B(BLOCK_DROPPED), false);
	n = build(pkt, &tcp4);
	expect("inline: blocked, 14 bytes: no address, passed", pkt, 14, XDP_PASS,
	       B(PARSE_ERROR) | B(TO_KERNEL), false);

	/* hits on the v4 /24: 3 tap (the truncated tcp too), 4 inline (the
	 * 14-byte frame has no address); v6: 2 tap, 2 inline */
	cur_test = "block list";
	rc = xdp_block_list(h, block_hits_cb, &hits);
	CHECK_EQ(rc, 2);
	CHECK_EQ(hits.n, 2);
	CHECK_EQ(hits.v4, 3 + 4);
	CHECK_EQ(hits.v6, 2 + 2);

	/* an expired entry is ignored; expire removes it */
	CHECK_EQ(xdp_block_del(h, "192.0.2.0/24"), 0);
	CHECK_EQ(xdp_block_add(h, "192.0.2.1", 1), 0);   /* 1 ns: expired at once */
	n = build(pkt, &tcp4);
	expect("inline: expired block entry ignored", pkt, n, XDP_PASS, B(TO_KERNEL), false);
	cur_test = "block expire";
	CHECK_EQ(xdp_block_expire(h, xdp_now_ns()), 1);
	CHECK_EQ(xdp_block_list(h, NULL, NULL), 1);       /* the v6 /32 is left */
	CHECK_EQ(xdp_block_del(h, "2001:db8::/32"), 0);
	CHECK_EQ(xdp_block_list(h, NULL, NULL), 0);
	n = build(pkt, &udp6);
	expect("inline: v6 entry deleted", pkt, n, XDP_PASS, B(TO_KERNEL), false);
}

/* A flow sent both ways: 1 packet of n0 bytes src->dst, 2 of n1 dst->src. */
static void bypass_flow(const char *name, const struct spec *s, enum vigil_mode mode)
{
	struct spec r = reversed(s);
	struct vigil_flow_key k, kr;
	struct vigil_bypass_val v;
	unsigned dir, rdir;
	uint8_t pkt[2048];
	size_t n0, n1;
	char what[96];
	int rc = mode == VIGIL_MODE_TAP ? XDP_DROP : XDP_PASS;
	unsigned ctr = mode == VIGIL_MODE_TAP ? B(BYPASS_DROPPED) : B(BYPASS_PASSED);

	set_config(mode, false);
	k = key_of(s, &dir);
	kr = key_of(&r, &rdir);
	cur_test = name;
	CHECK(!memcmp(&k, &kr, sizeof(k)));
	CHECK_EQ(dir + rdir, 1);
	CHECK_EQ(xdp_bypass_add(h, &k, 0), 0);

	n0 = build(pkt, s);
	snprintf(what, sizeof(what), "%s: forward", name);
	expect(what, pkt, n0, rc, ctr, false);
	r.payload += 100;
	n1 = build(pkt, &r);
	snprintf(what, sizeof(what), "%s: reverse", name);
	expect(what, pkt, n1, rc, ctr, false);
	expect(what, pkt, n1, rc, ctr, false);

	cur_test = name;
	CHECK_EQ(xdp_bypass_take(h, &k, &v), 0);
	CHECK_EQ(v.pkts[dir], 1);
	CHECK_EQ(v.bytes[dir], n0);
	CHECK_EQ(v.pkts[!dir], 2);
	CHECK_EQ(v.bytes[!dir], 2 * n1);
	CHECK_EQ(v.tcp_flags[dir], s->proto == IPPROTO_TCP ? s->tcp_flags : 0);
	CHECK_EQ(v.tcp_flags[!dir], s->proto == IPPROTO_TCP ? s->tcp_flags : 0);
	CHECK_EQ(xdp_bypass_take(h, &k, &v), -ENOENT);

	/* taken back: the normal path again */
	n0 = build(pkt, s);
	snprintf(what, sizeof(what), "%s: taken back", name);
	expect(what, pkt, n0, XDP_PASS, B(TO_KERNEL), false);
}

static void rcb(const struct vigil_flow_key *k, const struct vigil_bypass_val *v, void *arg)
{
	struct vigil_flow_key *want = arg;

	CHECK(!memcmp(k, want, sizeof(*k)));
	CHECK_EQ(v->pkts[0] + v->pkts[1], 1);
	CHECK_EQ(v->until_ns, 1);
}

static void test_bypass(void)
{
	struct vigil_flow_key k;
	struct spec frag;
	uint8_t pkt[2048];
	unsigned dir;
	size_t n;

	bypass_flow("tap: bypass ipv4 tcp", &tcp4, VIGIL_MODE_TAP);
	bypass_flow("tap: bypass ipv6 hop-by-hop tcp", &tcp6, VIGIL_MODE_TAP);
	bypass_flow("tap: bypass ipv6 udp", &udp6, VIGIL_MODE_TAP);
	bypass_flow("tap: bypass vlan udp", &vlan1, VIGIL_MODE_TAP);
	bypass_flow("tap: bypass qinq tcp (outer vlan)", &qinq, VIGIL_MODE_TAP);
	bypass_flow("inline: bypass ipv4 udp", &udp4, VIGIL_MODE_INLINE);
	bypass_flow("inline: bypass ipv6 tcp", &tcp6, VIGIL_MODE_INLINE);

	/* the outer VLAN id is part of the key */
	set_config(VIGIL_MODE_TAP, false);
	k = key_of(&vlan1, &dir);
	k.vlan = 101;
	CHECK_EQ(xdp_bypass_add(h, &k, 0), 0);
	n = build(pkt, &vlan1);
	expect("tap: bypass on another vlan: not matched", pkt, n, XDP_PASS, B(TO_KERNEL), false);
	CHECK_EQ(xdp_bypass_take(h, &k, &(struct vigil_bypass_val){ 0 }), 0);

	/* fragments are never bypassed */
	k = key_of(&udp4, &dir);
	CHECK_EQ(xdp_bypass_add(h, &k, 0), 0);
	frag = udp4;
	frag.frag = 0x2000;   /* MF: the first fragment */
	n = build(pkt, &frag);
	expect("tap: first fragment of a bypassed flow", pkt, n, XDP_PASS, B(TO_KERNEL), false);
	frag.frag = 0x0010;   /* a later one: no ports */
	n = build(pkt, &frag);
	expect("tap: later fragment", pkt, n, XDP_PASS, B(TO_KERNEL), false);

	/* refresh keeps the counts */
	n = build(pkt, &udp4);
	expect("tap: bypassed", pkt, n, XDP_DROP, B(BYPASS_DROPPED), false);
	cur_test = "bypass refresh";
	CHECK_EQ(xdp_bypass_add(h, &k, 0), 0);
	CHECK_EQ(xdp_bypass_list(h, NULL, NULL), 1);

	/* expired: ignored, then reaped with its counts */
	CHECK_EQ(xdp_bypass_add(h, &k, 1), 0);
	expect("tap: expired bypass entry ignored", pkt, n, XDP_PASS, B(TO_KERNEL), false);
	cur_test = "bypass reap";
	CHECK_EQ(xdp_bypass_reap(h, xdp_now_ns(), rcb, &k), 1);
	CHECK_EQ(xdp_bypass_list(h, NULL, NULL), 0);
	CHECK_EQ(xdp_bypass_reap(h, xdp_now_ns(), rcb, &k), 0);

	/* blocked and bypassed in tap mode: tagged, then the bypass drops it */
	CHECK_EQ(xdp_bypass_add(h, &k, 0), 0);
	CHECK_EQ(xdp_block_add(h, "198.51.100.0/24", 0), 0);
	expect("tap: blocked and bypassed", pkt, n, XDP_DROP, B(BLOCK_TAGGED) | B(BYPASS_DROPPED), false);
	set_config(VIGIL_MODE_INLINE, false);
	expect("inline: blocked and bypassed", pkt, n, XDP_DROP, B(BLOCK_DROPPED), false);
	cur_test = "cleanup";
	CHECK_EQ(xdp_block_del(h, "198.51.100.0/24"), 0);
	CHECK_EQ(xdp_bypass_take(h, &k, &(struct vigil_bypass_val){ 0 }), 0);
}

static void test_library(void)
{
	struct vigil_flow_key a, b;
	struct xdp_info info;
	struct xdp_prefix p;
	char buf[XDP_PREFIX_STRLEN], err[256];
	uint8_t s4[4] = { 192, 0, 2, 1 }, d4[4] = { 192, 0, 2, 1 };

	cur_test = "library";
	/* errors carry a message */
	CHECK_EQ(xdp_block_add(h, "192.0.2.1/24", 0), -EINVAL);
	CHECK(strstr(xdp_errmsg(h), "host bits") != NULL);
	CHECK_EQ(xdp_block_add(h, "nonsense", 0), -EINVAL);
	CHECK(strstr(xdp_errmsg(h), "not an IPv4 address") != NULL);
	CHECK_EQ(xdp_block_del(h, "203.0.113.0/24"), -ENOENT);
	CHECK(strstr(xdp_errmsg(h), "not in the blocklist") != NULL);
	/* replace keeps one entry; a duration gives an expiry in the future */
	CHECK_EQ(xdp_block_add(h, "203.0.113.0/24", 0), 0);
	CHECK_EQ(xdp_block_add(h, "203.0.113.0/24", 60000000000ull), 0);
	CHECK_EQ(xdp_block_list(h, NULL, NULL), 1);
	CHECK_EQ(xdp_block_expire(h, xdp_now_ns()), 0);
	CHECK_EQ(xdp_block_expire(h, xdp_now_ns() + 61000000000ull), 1);
	CHECK_EQ(xdp_block_list(h, NULL, NULL), 0);
	/* prefixes */
	CHECK_EQ(xdp_prefix_parse("2001:db8::/32", &p, err, sizeof(err)), 0);
	xdp_prefix_format(&p, buf, sizeof(buf));
	CHECK(!strcmp(buf, "2001:db8::/32"));
	CHECK_EQ(xdp_prefix_parse("192.0.2.7", &p, err, sizeof(err)), 0);
	CHECK_EQ(p.len, 32);
	/* keys: the same endpoints both ways -> direction 0 for the lower port */
	CHECK_EQ(xdp_flow_key_make(&a, 4, s4, 80, d4, 1000, IPPROTO_TCP, 0x1005), 0);
	CHECK_EQ(xdp_flow_key_make(&b, 4, d4, 1000, s4, 80, IPPROTO_TCP, 5), 1);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	CHECK_EQ(a.vlan, 5);
	CHECK_EQ(a.addr[0][10], 0xff);
	CHECK_EQ(a.addr[0][12], 192);
	CHECK_EQ(a.port[0], 80);
	a.pad = 1;
	CHECK_EQ(xdp_bypass_add(h, &a, 0), -EINVAL);
	/* config and info */
	CHECK_EQ(xdp_set_config(h, (enum vigil_mode)7, true), -EINVAL);
	set_config(VIGIL_MODE_INLINE, false);
	CHECK_EQ(xdp_info(h, &info), 0);
	CHECK_EQ(info.mode, VIGIL_MODE_INLINE);
	CHECK(!info.xsk && info.configured && !info.pinned && info.prog_id == 0);
	/* xdp_open on a device that does not exist */
	struct xdp_handle *x = NULL;
	CHECK_EQ(xdp_open("vigil-none0", &x, err, sizeof(err)), -ENODEV);
	CHECK(x == NULL && strstr(err, "vigil-none0") != NULL);
	CHECK_EQ(xdp_attach("vigil-none0", VIGIL_MODE_TAP, XDP_HOOK_SKB, true, err, sizeof(err)), -ENODEV);
	CHECK(!strcmp(err, "attaching to vigil-none0: No such device"));
	CHECK_EQ(xdp_open("../x", &x, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	char err[256];
	struct xdp_info info;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: needs root (BPF_PROG_TEST_RUN, its own network namespace); CI runs as root\n");
		return SKIP;
	}
	if (unshare(CLONE_NEWNET)) {
		printf("SKIP: cannot create a network namespace: %s\n", strerror(errno));
		return SKIP;
	}
	skel = vigil_xdp__open_and_load();
	if (!skel) {
		rc = errno;
		if (rc == EPERM || rc == ENOSYS || rc == EOPNOTSUPP) {
			printf("SKIP: cannot load BPF programs here: %s\n", strerror(rc));
			return SKIP;
		}
		printf("FAIL: loading the XDP program: %s\n", strerror(rc));
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.vigil_xdp);
	if (xdp_open_object(skel->obj, &h, err, sizeof(err))) {
		printf("FAIL: xdp_open_object: %s\n", err);
		return 1;
	}

	/* a fresh object: config never written -> tap, xsk on */
	cur_test = "defaults";
	CHECK_EQ(xdp_info(h, &info), 0);
	CHECK(!info.configured && info.mode == VIGIL_MODE_TAP && info.xsk);

	/* xsk on but xsks_map empty: bpf_redirect_map returns its fallback
	 * (XDP_PASS) on this kernel, so the program passes and counts to_kernel */
	test_parse(XDP_PASS, B(TO_KERNEL));

	/* with a socket in xsks_map[0] (the test run's queue): XDP_REDIRECT */
	if (xsk_on_lo(err, sizeof(err)) == 0) {
		uint8_t pkt[2048];
		size_t n = build(pkt, &tcp4);

		test_parse(XDP_REDIRECT, B(TO_XSK));
		CHECK_EQ(xdp_block_add(h, "192.0.2.0/24", 0), 0);
		expect("tap, xsk: blocked, tagged and redirected", pkt, n, XDP_REDIRECT,
		       B(BLOCK_TAGGED) | B(TO_XSK), true);
		CHECK_EQ(xdp_block_del(h, "192.0.2.0/24"), 0);
		set_config(VIGIL_MODE_TAP, false);
		expect("xsk=0: passed to the kernel", pkt, n, XDP_PASS, B(TO_KERNEL), false);
		set_config(VIGIL_MODE_INLINE, true);
		expect("inline, xsk=1: redirected", pkt, n, XDP_REDIRECT, B(TO_XSK), false);
	} else {
		printf("note: redirect path not checked (%s)\n", err);
	}
	test_block();
	test_bypass();
	test_library();

	/* every packet got exactly one verdict */
	struct xdp_counters c;
	counters(&c);
	cur_test = "verdicts";
	CHECK_EQ(c.c[VIGIL_CTR_RX].packets,
		 c.c[VIGIL_CTR_BLOCK_DROPPED].packets + c.c[VIGIL_CTR_BYPASS_DROPPED].packets +
		 c.c[VIGIL_CTR_BYPASS_PASSED].packets + c.c[VIGIL_CTR_TO_XSK].packets +
		 c.c[VIGIL_CTR_TO_KERNEL].packets);

	xdp_close(h);
	vigil_xdp__destroy(skel);
	if (xsk_fd >= 0)
		close(xsk_fd);
	free(umem);
	printf("%s: %llu packets run\n", failures ? "FAILED" : "ok", (unsigned long long)c.c[VIGIL_CTR_RX].packets);
	return failures ? 1 : 0;
}
