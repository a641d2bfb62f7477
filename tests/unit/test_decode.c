/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the packet decoder (dataplane/pkt/pkt_decode.c).
 *
 * Packets are built byte by byte (inside out: payload first, then each header
 * is prepended with its lengths and checksums computed), decoded from a heap
 * buffer of exactly the packet's length (so ASan reports any over-read), and
 * every decoded field and every counter is compared with its exact value.
 *
 * Standalone: prints each failed check with its line; exit 0 iff all pass.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr.h"
#include "pkt.h"

/* ------------------------------------------------------------------ checks */

#include "check.h"
#include "check_ctr.h"
#include "pktbytes.h"

/* ---------------------------------------------------------- packet builder */

struct pb {
	uint8_t d[4096];
	uint32_t n;
};

static void pb_push(struct pb *b, const void *h, uint32_t hn)
{
	if (b->n + hn > sizeof(b->d)) {
		fprintf(stderr, "packet builder overflow\n");
		abort();
	}
	memmove(b->d + hn, b->d, b->n);
	memcpy(b->d, h, hn);
	b->n += hn;
}

static void pb_payload(struct pb *b, const void *p, uint32_t n)
{
	b->n = 0;
	pb_push(b, p, n);
}

static void pb_fill(struct pb *b, uint32_t n, uint8_t seed)
{
	b->n = n;
	for (uint32_t i = 0; i < n; i++)
		b->d[i] = (uint8_t)(seed + i * 7);
}

/* An IP address pair (v4 addresses in the first 4 bytes, rest zero, like
 * struct pkt stores them). */
struct ipp {
	int ver;
	uint8_t src[16], dst[16];
};

static struct ipp ip4(const char *s, const char *d)
{
	struct ipp a;
	memset(&a, 0, sizeof(a));
	a.ver = 4;
	if (inet_pton(AF_INET, s, a.src) != 1 || inet_pton(AF_INET, d, a.dst) != 1)
		abort();
	return a;
}

static struct ipp ip6(const char *s, const char *d)
{
	struct ipp a;
	memset(&a, 0, sizeof(a));
	a.ver = 6;
	if (inet_pton(AF_INET6, s, a.src) != 1 || inet_pton(AF_INET6, d, a.dst) != 1)
		abort();
	return a;
}

static struct ipp swapped(struct ipp a)
{
	struct ipp r = a;
	memcpy(r.src, a.dst, 16);
	memcpy(r.dst, a.src, 16);
	return r;
}

static uint32_t pseudo(const struct ipp *a, uint8_t proto, uint32_t len)
{
	size_t al = a->ver == 4 ? 4 : 16;
	uint32_t s = sum16(0, a->src, al);
	s = sum16(s, a->dst, al);
	return s + proto + (len & 0xffff) + (len >> 16);
}

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* TCP header (20 + optlen bytes, optlen a multiple of 4) with a correct
 * checksum over the pseudo-header of a. */
static void wrap_tcp(struct pb *b, const struct ipp *a, uint16_t sp, uint16_t dp, uint32_t seq,
		     uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *opt, uint32_t optlen)
{
	uint8_t h[60];
	uint32_t hl = 20 + optlen;

	memset(h, 0, sizeof(h));
	w16(h, sp);
	w16(h + 2, dp);
	w32(h + 4, seq);
	w32(h + 8, ack);
	h[12] = (uint8_t)((hl / 4) << 4);
	h[13] = flags;
	w16(h + 14, win);
	if (optlen)
		memcpy(h + 20, opt, optlen);
	pb_push(b, h, hl);
	uint32_t s = pseudo(a, 6, b->n);
	w16(b->d + 16, fold(sum16(s, b->d, b->n)));
}

/* UDP header with length 8 + payload and a correct checksum (or 0). */
static void wrap_udp(struct pb *b, const struct ipp *a, uint16_t sp, uint16_t dp, bool csum)
{
	uint8_t h[8];

	memset(h, 0, sizeof(h));
	w16(h, sp);
	w16(h + 2, dp);
	w16(h + 4, (uint16_t)(b->n + 8));
	pb_push(b, h, 8);
	if (csum) {
		uint16_t c = fold(sum16(pseudo(a, 17, b->n), b->d, b->n));
		w16(b->d + 6, c ? c : 0xffff);
	}
}

/* UDP header with explicit length and checksum fields. */
static void wrap_udp_raw(struct pb *b, uint16_t sp, uint16_t dp, uint16_t len, uint16_t csum)
{
	uint8_t h[8];

	w16(h, sp);
	w16(h + 2, dp);
	w16(h + 4, len);
	w16(h + 6, csum);
	pb_push(b, h, 8);
}

/* ICMP (a == NULL) or ICMPv6 (pseudo-header of a) echo-style header. */
static void wrap_icmp(struct pb *b, const struct ipp *a, uint8_t type, uint8_t code, uint16_t id,
		      uint16_t seq)
{
	uint8_t h[8];

	memset(h, 0, sizeof(h));
	h[0] = type;
	h[1] = code;
	w16(h + 4, id);
	w16(h + 6, seq);
	pb_push(b, h, 8);
	uint32_t s = a ? pseudo(a, 58, b->n) : 0;
	w16(b->d + 2, fold(sum16(s, b->d, b->n)));
}

/* IPv4 header; frag is the 16-bit flags+offset field (offset in 8-byte units). */
static void wrap_ipv4_ex(struct pb *b, const struct ipp *a, uint8_t proto, uint16_t id, uint16_t frag,
			 uint8_t ttl, const uint8_t *opt, uint32_t optlen)
{
	uint8_t h[60];
	uint32_t hl = 20 + optlen;

	memset(h, 0, sizeof(h));
	h[0] = (uint8_t)(0x40 | (hl / 4));
	h[1] = 0;
	w16(h + 2, (uint16_t)(hl + b->n));
	w16(h + 4, id);
	w16(h + 6, frag);
	h[8] = ttl;
	h[9] = proto;
	memcpy(h + 12, a->src, 4);
	memcpy(h + 16, a->dst, 4);
	if (optlen)
		memcpy(h + 20, opt, optlen);
	w16(h + 10, fold(sum16(0, h, hl)));
	pb_push(b, h, hl);
}

static void wrap_ipv4(struct pb *b, const struct ipp *a, uint8_t proto)
{
	wrap_ipv4_ex(b, a, proto, 0x1c46, 0x4000 /* DF */, 64, NULL, 0);
}

static void wrap_ipv6_ex(struct pb *b, const struct ipp *a, uint8_t nh, uint8_t hlim)
{
	uint8_t h[40];

	memset(h, 0, sizeof(h));
	h[0] = 0x60;
	h[1] = 0x0a;  /* traffic class / flow label bits, ignored */
	w16(h + 4, (uint16_t)b->n);
	h[6] = nh;
	h[7] = hlim;
	memcpy(h + 8, a->src, 16);
	memcpy(h + 24, a->dst, 16);
	pb_push(b, h, 40);
}

static void wrap_ipv6(struct pb *b, const struct ipp *a, uint8_t nh)
{
	wrap_ipv6_ex(b, a, nh, 64);
}

/* Hop-by-hop or destination options header of (len8 + 1) * 8 bytes, padded
 * with one PadN option. */
static void wrap_ip6opts(struct pb *b, uint8_t nh, uint8_t len8)
{
	uint8_t h[2048];
	uint32_t n = ((uint32_t)len8 + 1) * 8;

	memset(h, 0, n);
	h[0] = nh;
	h[1] = len8;
	h[2] = 1;                    /* PadN */
	h[3] = (uint8_t)(n - 4);
	pb_push(b, h, n);
}

static void wrap_ip6frag(struct pb *b, uint8_t nh, uint16_t off_bytes, bool more, uint32_t id)
{
	uint8_t h[8];

	h[0] = nh;
	h[1] = 0;
	w16(h + 2, (uint16_t)((off_bytes & 0xfff8) | (more ? 1 : 0)));
	w32(h + 4, id);
	pb_push(b, h, 8);
}

/* Ethernet header with up to 3 VLAN tags (tpid[i], tci[i]). */
static void wrap_eth_tags(struct pb *b, uint16_t ethertype, int ntags, const uint16_t *tpid,
			  const uint16_t *tci)
{
	uint8_t h[14 + 12];
	uint32_t n = 12;
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01 };

	memcpy(h, macs, 12);
	for (int i = 0; i < ntags; i++) {
		w16(h + n, tpid[i]);
		w16(h + n + 2, tci[i]);
		n += 4;
	}
	w16(h + n, ethertype);
	n += 2;
	pb_push(b, h, n);
}

static void wrap_eth(struct pb *b, uint16_t ethertype)
{
	wrap_eth_tags(b, ethertype, 0, NULL, NULL);
}

static void wrap_vxlan(struct pb *b, uint8_t flags, uint32_t vni)
{
	uint8_t h[8] = { flags, 0, 0, 0, (uint8_t)(vni >> 16), (uint8_t)(vni >> 8), (uint8_t)vni, 0 };
	pb_push(b, h, 8);
}

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000

/* GRE header; flags selects the optional fields (and may carry a version). */
static void wrap_gre(struct pb *b, uint16_t flags, uint16_t proto, uint32_t key, uint32_t seq)
{
	uint8_t h[16];
	uint32_t n = 4;

	memset(h, 0, sizeof(h));
	w16(h, flags);
	w16(h + 2, proto);
	if (flags & GRE_C)
		n += 4;
	if (flags & GRE_K) {
		w32(h + n, key);
		n += 4;
	}
	if (flags & GRE_S) {
		w32(h + n, seq);
		n += 4;
	}
	pb_push(b, h, n);
	if (flags & GRE_C)
		w16(b->d + 4, fold(sum16(0, b->d, b->n)));
}

/* ERSPAN type II header (8 bytes). */
static void wrap_erspan2(struct pb *b, uint16_t session, uint8_t cos, uint16_t vlan, uint32_t index)
{
	uint8_t h[8];

	h[0] = (uint8_t)(0x10 | ((vlan >> 8) & 0x0f));
	h[1] = (uint8_t)vlan;
	h[2] = (uint8_t)((cos & 7) << 5 | 3 << 3 /* En */ | 1 << 2 /* T */ | ((session >> 8) & 3));
	h[3] = (uint8_t)session;
	w32(h + 4, index & 0xfffff);
	pb_push(b, h, 8);
}

/* ERSPAN type III header (12 bytes, + 8 with the O bit). */
static void wrap_erspan3(struct pb *b, uint16_t session, bool platform)
{
	uint8_t h[20];
	uint32_t n = platform ? 20 : 12;

	memset(h, 0, sizeof(h));
	h[0] = 0x20;
	h[2] = (uint8_t)(0xe0 | ((session >> 8) & 3));
	h[3] = (uint8_t)session;
	w32(h + 4, 0x01020304);  /* timestamp */
	h[11] = platform ? 1 : 0;
	pb_push(b, h, n);
}

/* ------------------------------------------------------------ decode glue */

static struct ctr_block ctrs;   /* alignas(64) through its member */
static struct pkt P;
static uint8_t *heap;
static uint32_t last_len;

static void ctr_reset(void)
{
	memset(&ctrs, 0, sizeof(ctrs));
}

/* Decode data[0..len) from a heap copy of exactly len bytes; counters are
 * accumulated (call ctr_reset() first for a fresh count). */
static bool decode_acc(const uint8_t *data, uint32_t len, int link, bool csum)
{
	struct pkt_decode_opts o = { .linktype = link, .verify_csum = csum };

	free(heap);
	heap = malloc(len ? len : 1);
	if (!heap)
		abort();
	if (len)
		memcpy(heap, data, len);
	last_len = len;
	return pkt_decode(&P, heap, len, 123456789, &o, &ctrs);
}

static bool decode_ex(const struct pb *b, uint32_t len, int link, bool csum)
{
	ctr_reset();
	return decode_acc(b->d, len, link, csum);
}

static bool decode(const struct pb *b)
{
	return decode_ex(b, b->n, PKT_LINK_ETHERNET, false);
}

static bool decode_csum(const struct pb *b)
{
	return decode_ex(b, b->n, PKT_LINK_ETHERNET, true);
}

/* Exact counters: the (id, value) pairs given, PKTS = 1, BYTES = the decoded
 * length, and every other counter 0. */
static void expect_ctrs(int line, const int *pairs)
{
	uint64_t base[CTR__COUNT] = { 0 };

	base[CTR_PKTS] = 1;   /* every check follows exactly one decode */
	base[CTR_BYTES] = last_len;
	check_ctrs(__FILE__, line, &ctrs, base, pairs);
}

#define EXPECT_CTRS(...) expect_ctrs(__LINE__, (const int[]){ __VA_ARGS__, -1 })
#define EXPECT_NO_CTRS() expect_ctrs(__LINE__, (const int[]){ -1 })

static void check_addrs(int line, const struct ipp *a)
{
	if (memcmp(P.src, a->src, 16) || memcmp(P.dst, a->dst, 16)) {
		char s[64], d[64], ws[64], wd[64];
		int af = a->ver == 4 ? AF_INET : AF_INET6;
		inet_ntop(af, P.src, s, sizeof(s));
		inet_ntop(af, P.dst, d, sizeof(d));
		inet_ntop(af, a->src, ws, sizeof(ws));
		inet_ntop(af, a->dst, wd, sizeof(wd));
		printf("FAIL %s:%d [%s]: addresses %s -> %s, want %s -> %s\n", __FILE__, line, cur_test, s,
		       d, ws, wd);
		failures++;
	}
	if (P.ipver != a->ver) {
		printf("FAIL %s:%d [%s]: ipver %u, want %d\n", __FILE__, line, cur_test, P.ipver, a->ver);
		failures++;
	}
}

#define CHECK_ADDRS(a) check_addrs(__LINE__, (a))

/* Malformed: false, INVALID (not NON_IP). */
#define CHECK_INVALID(ret) do { \
	CHECK(!(ret)); \
	CHECK(P.flags & PKT_F_INVALID); \
	CHECK(!(P.flags & PKT_F_NON_IP)); \
} while (0)

static const uint8_t tcp_opts[20] = {
	2, 4, 0x05, 0xb4,                  /* MSS 1460 */
	4, 2,                              /* SACK permitted */
	8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0,  /* timestamps */
	1,                                 /* NOP */
	3, 3, 7,                           /* window scale 7 */
};

/* ------------------------------------------------------------------ tests */

static void sweep(const char *name, const struct pb *b, int link);
static void build_inner_eth_tcp(struct pb *b, const struct ipp *in);

static void test_ipv4_tcp(void)
{
	cur_test = "ipv4_tcp";
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct pb b;

	pb_payload(&b, "hello", 5);
	wrap_tcp(&b, &a, 43210, 443, 0x11223344, 0x55667788, TH_PSH | TH_ACK, 501, tcp_opts, 20);
	wrap_ipv4(&b, &a, 6);
	wrap_eth(&b, 0x0800);
	CHECK_EQ(b.n, 79);

	bool ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.proto, 6);
	CHECK_EQ(P.ttl, 64);
	CHECK_EQ(P.sport, 43210);
	CHECK_EQ(P.dport, 443);
	CHECK_EQ(P.tcp_flags, TH_PSH | TH_ACK);
	CHECK_EQ(P.tcp_seq, 0x11223344);
	CHECK_EQ(P.tcp_ack, 0x55667788);
	CHECK_EQ(P.tcp_win, 501);
	CHECK_EQ(P.l3_off, 14);
	CHECK_EQ(P.l4_off, 34);
	CHECK_EQ(P.payload_off, 74);
	CHECK_EQ(P.payload_len, 5);
	CHECK(memcmp(P.data + P.payload_off, "hello", 5) == 0);
	CHECK_EQ(P.len, 79);
	CHECK_EQ(P.ts_ns, 123456789);
	CHECK_EQ(P.vlan_n, 0);
	CHECK_EQ(P.tunnel, PKT_TUN_NONE);
	CHECK_EQ(P.tunnel_id, 0);
	CHECK_EQ(P.frag_off, 0);
	CHECK_EQ(P.frag_id, 0);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1);

	/* Ethernet padding after the IP packet is not payload */
	cur_test = "ipv4_tcp_eth_padding";
	pb_payload(&b, "", 0);
	wrap_tcp(&b, &a, 43210, 443, 1, 2, TH_ACK, 501, NULL, 0);
	wrap_ipv4(&b, &a, 6);
	wrap_eth(&b, 0x0800);
	CHECK_EQ(b.n, 54);
	memset(b.d + 54, 0, 6);
	b.n = 60;
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	CHECK_EQ(P.payload_off, 54);
	CHECK_EQ(P.payload_len, 0);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1);
}

static void test_ipv4_options_udp(void)
{
	cur_test = "ipv4_options_udp";
	struct ipp a = ip4("203.0.113.7", "192.0.2.200");
	struct pb b;
	/* Router Alert (4 bytes), NOP, NOP, then a 3-byte record-route stub
	 * and EOL padding: 12 bytes of options, IHL 8 */
	static const uint8_t opt[12] = { 0x94, 4, 0, 0, 1, 1, 7, 3, 4, 0, 0, 0 };

	pb_fill(&b, 30, 1);
	wrap_udp(&b, &a, 5353, 53, true);
	wrap_ipv4_ex(&b, &a, 17, 0x0101, 0, 17, opt, sizeof(opt));
	wrap_eth(&b, 0x0800);

	bool ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.proto, 17);
	CHECK_EQ(P.ttl, 17);
	CHECK_EQ(P.sport, 5353);
	CHECK_EQ(P.dport, 53);
	CHECK_EQ(P.l3_off, 14);
	CHECK_EQ(P.l4_off, 14 + 32);
	CHECK_EQ(P.payload_off, 14 + 32 + 8);
	CHECK_EQ(P.payload_len, 30);
	CHECK_EQ(P.tcp_flags, 0);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1);
}

static void test_vlan(void)
{
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct pb b;
	bool ok;

	cur_test = "vlan_8021q";
	{
		uint16_t tpid[] = { 0x8100 }, tci[] = { 0xa064 };   /* PCP 5, VID 100 */
		pb_fill(&b, 10, 3);
		wrap_udp(&b, &a, 1000, 2000, true);
		wrap_ipv4(&b, &a, 17);
		wrap_eth_tags(&b, 0x0800, 1, tpid, tci);
		ok = decode_csum(&b);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
		CHECK_EQ(P.vlan_n, 1);
		CHECK_EQ(P.vlan[0], 100);
		CHECK_EQ(P.vlan[1], 0);
		CHECK_EQ(P.l3_off, 18);
		CHECK_EQ(P.l4_off, 38);
		CHECK_EQ(P.payload_off, 46);
		CHECK_EQ(P.payload_len, 10);
		CHECK_EQ(P.sport, 1000);
		CHECK_EQ(P.dport, 2000);
		EXPECT_CTRS(CTR_ETH, 1, CTR_VLAN, 1, CTR_IPV4, 1, CTR_UDP, 1);
	}

	cur_test = "vlan_qinq_88a8";
	{
		uint16_t tpid[] = { 0x88a8, 0x8100 }, tci[] = { 0x00c8, 0x312c };   /* 200, 300 (PCP 1, DEI) */
		pb_fill(&b, 10, 3);
		wrap_udp(&b, &a, 1000, 2000, true);
		wrap_ipv4(&b, &a, 17);
		wrap_eth_tags(&b, 0x0800, 2, tpid, tci);
		ok = decode_csum(&b);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
		CHECK_EQ(P.vlan_n, 2);
		CHECK_EQ(P.vlan[0], 200);
		CHECK_EQ(P.vlan[1], 300);
		CHECK_EQ(P.l3_off, 22);
		CHECK_EQ(P.payload_off, 50);
		EXPECT_CTRS(CTR_ETH, 1, CTR_VLAN_QINQ, 1, CTR_IPV4, 1, CTR_UDP, 1);
	}

	cur_test = "vlan_qinq_9100";
	{
		uint16_t tpid[] = { 0x9100, 0x8100 }, tci[] = { 4094, 1 };
		struct ipp a6 = ip6("2001:db8::1", "2001:db8::2");
		pb_fill(&b, 4, 3);
		wrap_icmp(&b, &a6, 128, 0, 7, 8);
		wrap_ipv6(&b, &a6, 58);
		wrap_eth_tags(&b, 0x86dd, 2, tpid, tci);
		ok = decode_csum(&b);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
		CHECK_EQ(P.vlan_n, 2);
		CHECK_EQ(P.vlan[0], 4094);
		CHECK_EQ(P.vlan[1], 1);
		CHECK_EQ(P.l3_off, 22);
		EXPECT_CTRS(CTR_ETH, 1, CTR_VLAN_QINQ, 1, CTR_IPV6, 1, CTR_ICMPV6, 1);
	}
}

static void test_ipv6(void)
{
	struct ipp a = ip6("2001:db8::1", "2001:db8:ffff::2");
	struct pb b;
	bool ok;

	cur_test = "ipv6_tcp";
	pb_fill(&b, 100, 9);
	wrap_tcp(&b, &a, 50000, 22, 7, 0, TH_SYN, 65535, tcp_opts, 20);
	wrap_ipv6_ex(&b, &a, 6, 57);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.proto, 6);
	CHECK_EQ(P.ttl, 57);
	CHECK_EQ(P.sport, 50000);
	CHECK_EQ(P.dport, 22);
	CHECK_EQ(P.tcp_flags, TH_SYN);
	CHECK_EQ(P.tcp_seq, 7);
	CHECK_EQ(P.tcp_ack, 0);
	CHECK_EQ(P.tcp_win, 65535);
	CHECK_EQ(P.l3_off, 14);
	CHECK_EQ(P.l4_off, 54);
	CHECK_EQ(P.payload_off, 94);
	CHECK_EQ(P.payload_len, 100);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_TCP, 1);

	/* hop-by-hop (8 bytes) then destination options (16 bytes) then UDP */
	cur_test = "ipv6_exthdr_udp";
	pb_fill(&b, 12, 5);
	wrap_udp(&b, &a, 546, 547, true);
	wrap_ip6opts(&b, 17, 1);     /* dstopts */
	wrap_ip6opts(&b, 60, 0);     /* hop-by-hop, next: dstopts */
	wrap_ipv6(&b, &a, 0);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.proto, 17);
	CHECK_EQ(P.sport, 546);
	CHECK_EQ(P.dport, 547);
	CHECK_EQ(P.l4_off, 14 + 40 + 8 + 16);
	CHECK_EQ(P.payload_off, 14 + 40 + 8 + 16 + 8);
	CHECK_EQ(P.payload_len, 12);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_UDP, 1);

	/* AH: its length is in 4-byte units (minus 2), not 8-byte units */
	cur_test = "ipv6_ah";
	pb_fill(&b, 4, 5);
	wrap_tcp(&b, &a, 443, 50001, 1, 2, TH_ACK, 3, NULL, 0);
	{
		uint8_t ah[24];
		memset(ah, 0xcc, sizeof(ah));
		ah[0] = 6;
		ah[1] = 24 / 4 - 2;
		ah[2] = ah[3] = 0;
		pb_push(&b, ah, 24);
	}
	wrap_ipv6(&b, &a, 51);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
	CHECK_EQ(P.proto, 6);
	CHECK_EQ(P.l4_off, 14 + 40 + 24);
	CHECK_EQ(P.sport, 443);
	CHECK_EQ(P.payload_len, 4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_TCP, 1);

	/* at most 8 extension headers */
	cur_test = "ipv6_8_exthdrs";
	pb_fill(&b, 4, 5);
	wrap_udp(&b, &a, 7, 7, true);
	wrap_ip6opts(&b, 17, 0);
	for (int i = 0; i < 7; i++)
		wrap_ip6opts(&b, 60, 0);
	wrap_ipv6(&b, &a, 60);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.l4_off, 14 + 40 + 64);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_UDP, 1);
	cur_test = "bad_ipv6_9_exthdrs";
	pb_fill(&b, 4, 5);
	wrap_udp(&b, &a, 7, 7, true);
	wrap_ip6opts(&b, 17, 0);
	for (int i = 0; i < 8; i++)
		wrap_ip6opts(&b, 60, 0);
	wrap_ipv6(&b, &a, 60);
	wrap_eth(&b, 0x86dd);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_EV_IPV6_EXTHDR, 1, CTR_INVALID, 1);

	/* No next header after a destination option: other L4, no ports */
	cur_test = "ipv6_no_next_header";
	pb_fill(&b, 6, 5);
	wrap_ip6opts(&b, 59, 0);
	wrap_ipv6(&b, &a, 60);
	wrap_eth(&b, 0x86dd);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6);
	CHECK_EQ(P.proto, 59);
	CHECK_EQ(P.payload_off, 14 + 48);
	CHECK_EQ(P.payload_len, 6);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_OTHER_L4, 1);
}

static void test_icmp(void)
{
	struct pb b;
	bool ok;

	cur_test = "icmpv4_echo";
	struct ipp a = ip4("192.0.2.10", "203.0.113.10");
	pb_fill(&b, 32, 0x61);
	wrap_icmp(&b, NULL, 8, 0, 0x1234, 1);
	wrap_ipv4(&b, &a, 1);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.proto, 1);
	CHECK_EQ(P.icmp_type, 8);
	CHECK_EQ(P.icmp_code, 0);
	CHECK_EQ(P.sport, 0);
	CHECK_EQ(P.dport, 0);
	CHECK_EQ(P.l4_off, 34);
	CHECK_EQ(P.payload_off, 42);
	CHECK_EQ(P.payload_len, 32);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_ICMPV4, 1);

	cur_test = "icmpv4_unreach";
	pb_fill(&b, 28, 0x45);
	wrap_icmp(&b, NULL, 3, 3, 0, 0);
	wrap_ipv4(&b, &a, 1);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.icmp_type, 3);
	CHECK_EQ(P.icmp_code, 3);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_ICMPV4, 1);

	cur_test = "icmpv6_echo";
	struct ipp a6 = ip6("2001:db8:1::1", "2001:db8:2::2");
	pb_fill(&b, 56, 0x30);
	wrap_icmp(&b, &a6, 129, 0, 0xbeef, 9);
	wrap_ipv6(&b, &a6, 58);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
	CHECK_ADDRS(&a6);
	CHECK_EQ(P.proto, 58);
	CHECK_EQ(P.icmp_type, 129);
	CHECK_EQ(P.icmp_code, 0);
	CHECK_EQ(P.sport, 0);
	CHECK_EQ(P.dport, 0);
	CHECK_EQ(P.l4_off, 54);
	CHECK_EQ(P.payload_off, 62);
	CHECK_EQ(P.payload_len, 56);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_ICMPV6, 1);
}

/* Inner Ethernet frame with a VLAN tag (VID 20) carrying IPv4/TCP SYN. */
static void build_inner_eth_tcp(struct pb *b, const struct ipp *in)
{
	uint16_t tpid[] = { 0x8100 }, tci[] = { 20 };

	pb_payload(b, "", 0);
	wrap_tcp(b, in, 1234, 80, 1000, 0, TH_SYN, 8192, NULL, 0);
	wrap_ipv4(b, in, 6);
	wrap_eth_tags(b, 0x0800, 1, tpid, tci);
}

static void test_vxlan(void)
{
	struct ipp in = ip4("192.0.2.1", "198.51.100.2");
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");
	struct pb b;
	bool ok;

	cur_test = "vxlan";
	{
		uint16_t tpid[] = { 0x8100 }, tci[] = { 10 };
		build_inner_eth_tcp(&b, &in);
		wrap_vxlan(&b, 0x08, 0x123456);
		wrap_udp(&b, &out, 49152, 4789, false);
		wrap_ipv4(&b, &out, 17);
		wrap_eth_tags(&b, 0x0800, 1, tpid, tci);
		ok = decode_csum(&b);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
		CHECK_EQ(P.tunnel, PKT_TUN_VXLAN);
		CHECK_EQ(P.tunnel_id, 0x123456);
		CHECK_EQ(P.vlan_n, 1);       /* the inner tag is not recorded */
		CHECK_EQ(P.vlan[0], 10);
		CHECK_EQ(P.vlan[1], 0);
		CHECK_ADDRS(&in);
		CHECK_EQ(P.proto, 6);
		CHECK_EQ(P.sport, 1234);
		CHECK_EQ(P.dport, 80);
		CHECK_EQ(P.tcp_flags, TH_SYN);
		CHECK_EQ(P.tcp_seq, 1000);
		CHECK_EQ(P.l3_off, 18 + 20 + 8 + 8 + 18);
		CHECK_EQ(P.l4_off, 18 + 20 + 8 + 8 + 18 + 20);
		CHECK_EQ(P.payload_off, b.n);
		CHECK_EQ(P.payload_len, 0);
		EXPECT_CTRS(CTR_ETH, 2, CTR_VLAN, 2, CTR_IPV4, 2, CTR_UDP, 1, CTR_VXLAN, 1, CTR_TCP, 1);
	}

	/* IPv6 outer, IPv6 inner UDP */
	cur_test = "vxlan_ipv6";
	{
		struct ipp in6 = ip6("2001:db8:a::1", "2001:db8:b::2");
		struct ipp out6 = ip6("2001:db8::100", "2001:db8::200");
		pb_fill(&b, 20, 0);
		wrap_udp(&b, &in6, 3000, 4000, true);
		wrap_ipv6(&b, &in6, 17);
		wrap_eth(&b, 0x86dd);
		wrap_vxlan(&b, 0x08, 0xffffff);
		wrap_udp(&b, &out6, 12345, 4789, true);
		wrap_ipv6(&b, &out6, 17);
		wrap_eth(&b, 0x86dd);
		ok = decode_csum(&b);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4 | PKT_F_TUNNEL);
		CHECK_EQ(P.tunnel, PKT_TUN_VXLAN);
		CHECK_EQ(P.tunnel_id, 0xffffff);
		CHECK_ADDRS(&in6);
		CHECK_EQ(P.sport, 3000);
		CHECK_EQ(P.dport, 4000);
		CHECK_EQ(P.payload_len, 20);
		CHECK_EQ(P.vlan_n, 0);
		EXPECT_CTRS(CTR_ETH, 2, CTR_IPV6, 2, CTR_UDP, 2, CTR_VXLAN, 1);
	}

	/* Port 4789 without the I flag: an ordinary UDP datagram */
	cur_test = "vxlan_no_i_flag";
	build_inner_eth_tcp(&b, &in);
	uint32_t inner = b.n;
	wrap_vxlan(&b, 0x00, 0x123456);
	wrap_udp(&b, &out, 49152, 4789, true);
	wrap_ipv4(&b, &out, 17);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	CHECK_EQ(P.tunnel, PKT_TUN_NONE);
	CHECK_EQ(P.tunnel_id, 0);
	CHECK_ADDRS(&out);
	CHECK_EQ(P.sport, 49152);
	CHECK_EQ(P.dport, 4789);
	CHECK_EQ(P.payload_off, 42);
	CHECK_EQ(P.payload_len, 8 + inner);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1);

	/* VXLAN carrying ARP: a tunnel without IP inside */
	cur_test = "vxlan_inner_arp";
	pb_fill(&b, 28, 0);
	wrap_eth(&b, 0x0806);
	wrap_vxlan(&b, 0x08, 5);
	wrap_udp(&b, &out, 49152, 4789, false);
	wrap_ipv4(&b, &out, 17);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK(!ok);
	CHECK_EQ(P.flags, PKT_F_TUNNEL | PKT_F_NON_IP);
	CHECK_EQ(P.tunnel_id, 5);
	EXPECT_CTRS(CTR_ETH, 2, CTR_IPV4, 1, CTR_UDP, 1, CTR_VXLAN, 1, CTR_NON_IP, 1);
}

/* n VXLAN layers around an IPv4/UDP packet; the innermost VNI is 100 + n - 1. */
static void build_vxlan_nest(struct pb *b, int n)
{
	struct ipp in = ip4("192.0.2.1", "198.51.100.2");
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");

	pb_fill(b, 8, 0);
	wrap_udp(b, &in, 7, 9, true);
	wrap_ipv4(b, &in, 17);
	for (int i = n - 1; i >= 0; i--) {
		wrap_eth(b, 0x0800);
		wrap_vxlan(b, 0x08, (uint32_t)(100 + i));
		wrap_udp(b, &out, (uint16_t)(40000 + i), 4789, false);
		wrap_ipv4(b, &out, 17);
	}
	wrap_eth(b, 0x0800);
}

static void test_vxlan_nesting(void)
{
	struct pb b;
	bool ok;

	cur_test = "vxlan_nest_max";
	build_vxlan_nest(&b, PKT_MAX_LAYERS);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel_id, 100 + PKT_MAX_LAYERS - 1);
	CHECK_EQ(P.sport, 7);
	CHECK_EQ(P.dport, 9);
	EXPECT_CTRS(CTR_ETH, PKT_MAX_LAYERS + 1, CTR_IPV4, PKT_MAX_LAYERS + 1, CTR_UDP,
		    PKT_MAX_LAYERS + 1, CTR_VXLAN, PKT_MAX_LAYERS);

	cur_test = "vxlan_nest_too_many";
	build_vxlan_nest(&b, PKT_MAX_LAYERS + 1);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, PKT_MAX_LAYERS + 1, CTR_IPV4, PKT_MAX_LAYERS + 1, CTR_UDP,
		    PKT_MAX_LAYERS + 1, CTR_VXLAN, PKT_MAX_LAYERS, CTR_EV_TOO_MANY_LAYERS, 1,
		    CTR_INVALID, 1);
}

static void test_gre(void)
{
	struct ipp in = ip4("192.0.2.1", "198.51.100.2");
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");
	struct pb b;
	bool ok;

	cur_test = "gre_plain";
	pb_fill(&b, 16, 2);
	wrap_udp(&b, &in, 5000, 6000, true);
	wrap_ipv4(&b, &in, 17);
	wrap_gre(&b, 0, 0x0800, 0, 0);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel, PKT_TUN_GRE);
	CHECK_EQ(P.tunnel_id, 0);
	CHECK_ADDRS(&in);
	CHECK_EQ(P.proto, 17);
	CHECK_EQ(P.sport, 5000);
	CHECK_EQ(P.dport, 6000);
	CHECK_EQ(P.l3_off, 14 + 20 + 4);
	CHECK_EQ(P.payload_len, 16);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 2, CTR_GRE, 1, CTR_UDP, 1);

	cur_test = "gre_key_ipv6";
	struct ipp in6 = ip6("2001:db8::a", "2001:db8::b");
	pb_fill(&b, 24, 2);
	wrap_icmp(&b, &in6, 128, 0, 1, 2);
	wrap_ipv6(&b, &in6, 58);
	wrap_gre(&b, GRE_K, 0x86dd, 0xdeadbeef, 0);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel, PKT_TUN_GRE);
	CHECK_EQ(P.tunnel_id, 0xdeadbeef);
	CHECK_ADDRS(&in6);
	CHECK_EQ(P.icmp_type, 128);
	CHECK_EQ(P.l3_off, 14 + 20 + 8);
	CHECK_EQ(P.payload_len, 24);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_GRE, 1, CTR_IPV6, 1, CTR_ICMPV6, 1);

	cur_test = "gre_csum";
	pb_fill(&b, 3, 2);
	wrap_tcp(&b, &in, 80, 1025, 5, 6, TH_ACK, 100, NULL, 0);
	wrap_ipv4(&b, &in, 6);
	wrap_gre(&b, GRE_C, 0x0800, 0, 0);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel, PKT_TUN_GRE);
	CHECK_EQ(P.tunnel_id, 0);
	CHECK_EQ(P.l3_off, 14 + 20 + 8);
	CHECK_EQ(P.sport, 80);
	CHECK_EQ(P.dport, 1025);
	CHECK_EQ(P.tcp_flags, TH_ACK);
	CHECK_EQ(P.payload_len, 3);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 2, CTR_GRE, 1, CTR_TCP, 1);

	cur_test = "gre_csum_key_seq";
	pb_fill(&b, 3, 2);
	wrap_tcp(&b, &in, 80, 1025, 5, 6, TH_ACK, 100, NULL, 0);
	wrap_ipv4(&b, &in, 6);
	wrap_gre(&b, GRE_C | GRE_K | GRE_S, 0x0800, 42, 7);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel_id, 42);
	CHECK_EQ(P.l3_off, 14 + 20 + 16);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 2, CTR_GRE, 1, CTR_TCP, 1);

	/* transparent Ethernet bridging: inner Ethernet, its VLAN not recorded */
	cur_test = "gre_teb";
	build_inner_eth_tcp(&b, &in);
	wrap_gre(&b, GRE_K, 0x6558, 9, 0);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel, PKT_TUN_GRE);
	CHECK_EQ(P.tunnel_id, 9);
	CHECK_EQ(P.vlan_n, 0);
	CHECK_EQ(P.l3_off, 14 + 20 + 8 + 18);
	EXPECT_CTRS(CTR_ETH, 2, CTR_VLAN, 1, CTR_IPV4, 2, CTR_GRE, 1, CTR_TCP, 1);
}

/*
 * GRE that is not decapsulated (version 1 / PPTP, or an unknown payload
 * type) stays an IP packet of protocol 47.  It must be accounted like any
 * other non-TCP/UDP/ICMP protocol: counted in decoder.other_l4 with its
 * payload at the IP payload -- exactly what the decoder already does for a
 * GRE first fragment (decode_l4's fall-through to the default case).
 */
static void test_gre_not_decapsulated(void)
{
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");
	struct pb b;
	bool ok;

	cur_test = "gre_v1_not_decapsulated";
	pb_fill(&b, 20, 2);
	wrap_gre(&b, GRE_K | 0x0001, 0x880b, 0x00100020, 0);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4);
	CHECK_EQ(P.tunnel, PKT_TUN_NONE);
	CHECK_EQ(P.proto, 47);
	CHECK_EQ(P.l4_off, 34);
	CHECK_EQ(P.payload_off, 34);
	CHECK_EQ(P.payload_len, 28);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_OTHER_L4, 1);

	cur_test = "gre_unknown_proto_not_decapsulated";
	pb_fill(&b, 20, 2);
	wrap_gre(&b, 0, 0x88cc, 0, 0);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4);
	CHECK_EQ(P.tunnel, PKT_TUN_NONE);
	CHECK_EQ(P.proto, 47);
	CHECK_EQ(P.payload_off, 34);
	CHECK_EQ(P.payload_len, 24);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_OTHER_L4, 1);
}

static void test_erspan(void)
{
	struct ipp in = ip4("192.0.2.1", "198.51.100.2");
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");
	struct pb b;
	bool ok;

	cur_test = "erspan2";
	build_inner_eth_tcp(&b, &in);
	wrap_erspan2(&b, 0x2a5, 5, 0x123, 0xabcde);
	wrap_gre(&b, GRE_S, 0x88be, 0, 42);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel, PKT_TUN_ERSPAN);
	CHECK_EQ(P.tunnel_id, 0x2a5);
	CHECK_EQ(P.vlan_n, 0);
	CHECK_ADDRS(&in);
	CHECK_EQ(P.sport, 1234);
	CHECK_EQ(P.dport, 80);
	CHECK_EQ(P.tcp_flags, TH_SYN);
	CHECK_EQ(P.l3_off, 14 + 20 + 8 + 8 + 18);
	CHECK_EQ(P.l4_off, 14 + 20 + 8 + 8 + 18 + 20);
	EXPECT_CTRS(CTR_ETH, 2, CTR_VLAN, 1, CTR_IPV4, 2, CTR_ERSPAN, 1, CTR_TCP, 1);

	/* type I: no sequence bit, no ERSPAN header */
	cur_test = "erspan1";
	build_inner_eth_tcp(&b, &in);
	wrap_gre(&b, 0, 0x88be, 0, 0);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel, PKT_TUN_ERSPAN);
	CHECK_EQ(P.tunnel_id, 0);
	CHECK_EQ(P.l3_off, 14 + 20 + 4 + 18);
	EXPECT_CTRS(CTR_ETH, 2, CTR_VLAN, 1, CTR_IPV4, 2, CTR_ERSPAN, 1, CTR_TCP, 1);

	cur_test = "erspan3";
	build_inner_eth_tcp(&b, &in);
	wrap_erspan3(&b, 0x3ff, false);
	wrap_gre(&b, GRE_S, 0x22eb, 0, 1);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.tunnel, PKT_TUN_ERSPAN);
	CHECK_EQ(P.tunnel_id, 0x3ff);
	CHECK_EQ(P.l3_off, 14 + 20 + 8 + 12 + 18);
	EXPECT_CTRS(CTR_ETH, 2, CTR_VLAN, 1, CTR_IPV4, 2, CTR_ERSPAN, 1, CTR_TCP, 1);

	cur_test = "erspan3_platform";
	build_inner_eth_tcp(&b, &in);
	wrap_erspan3(&b, 17, true);
	wrap_gre(&b, GRE_S, 0x22eb, 0, 1);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.tunnel_id, 17);
	CHECK_EQ(P.l3_off, 14 + 20 + 8 + 20 + 18);
	CHECK_EQ(P.sport, 1234);
}

/* MPLS label stack entries (label, bottom-of-stack on the last). */
static void wrap_mpls(struct pb *b, int n, uint32_t first_label, bool bos_last)
{
	uint8_t h[4 * 20];

	for (int i = 0; i < n; i++) {
		uint32_t e = ((first_label + (uint32_t)i) << 12) | 64;   /* TTL 64 */
		if (bos_last && i == n - 1)
			e |= 1u << 8;
		w32(h + 4 * i, e);
	}
	pb_push(b, h, (uint32_t)(4 * n));
}

static void test_mpls(void)
{
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct ipp a6 = ip6("2001:db8::1", "2001:db8::2");
	struct pb b;
	bool ok;

	cur_test = "mpls_ipv4";
	pb_fill(&b, 12, 0);
	wrap_udp(&b, &a, 1000, 2000, true);
	wrap_ipv4(&b, &a, 17);
	wrap_mpls(&b, 2, 16, true);
	wrap_eth(&b, 0x8847);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.l3_off, 14 + 8);
	CHECK_EQ(P.sport, 1000);
	CHECK_EQ(P.tunnel, PKT_TUN_NONE);
	EXPECT_CTRS(CTR_ETH, 1, CTR_MPLS, 1, CTR_IPV4, 1, CTR_UDP, 1);

	cur_test = "mpls_ipv6_vlan";
	{
		uint16_t tpid[] = { 0x8100 }, tci[] = { 33 };
		pb_fill(&b, 8, 0);
		wrap_icmp(&b, &a6, 128, 0, 1, 1);
		wrap_ipv6(&b, &a6, 58);
		wrap_mpls(&b, 1, 1000, true);
		wrap_eth_tags(&b, 0x8848, 1, tpid, tci);
		ok = decode_csum(&b);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
		CHECK_EQ(P.l3_off, 18 + 4);
		CHECK_EQ(P.vlan_n, 1);
		CHECK_EQ(P.vlan[0], 33);
		EXPECT_CTRS(CTR_ETH, 1, CTR_VLAN, 1, CTR_MPLS, 1, CTR_IPV6, 1, CTR_ICMPV6, 1);
	}

	/* Ethernet pseudowire: control word, then a frame whose VLAN is the
	 * frame's own */
	cur_test = "mpls_pseudowire";
	{
		static const uint8_t cw[4] = { 0, 0, 0, 5 };
		build_inner_eth_tcp(&b, &a);
		pb_push(&b, cw, 4);
		wrap_mpls(&b, 2, 200, true);
		wrap_eth(&b, 0x8847);
		ok = decode_csum(&b);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
		CHECK_EQ(P.tunnel, PKT_TUN_NONE);
		CHECK_EQ(P.vlan_n, 1);
		CHECK_EQ(P.vlan[0], 20);
		CHECK_EQ(P.l3_off, 14 + 8 + 4 + 18);
		CHECK_EQ(P.sport, 1234);
		EXPECT_CTRS(CTR_ETH, 2, CTR_MPLS, 1, CTR_VLAN, 1, CTR_IPV4, 1, CTR_TCP, 1);
	}

	cur_test = "mpls_16_labels";
	pb_fill(&b, 8, 0);
	wrap_udp(&b, &a, 1, 2, true);
	wrap_ipv4(&b, &a, 17);
	wrap_mpls(&b, 16, 16, true);
	wrap_eth(&b, 0x8847);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.l3_off, 14 + 64);
	EXPECT_CTRS(CTR_ETH, 1, CTR_MPLS, 1, CTR_IPV4, 1, CTR_UDP, 1);

	cur_test = "bad_mpls_too_many_labels";
	pb_fill(&b, 8, 0);
	wrap_udp(&b, &a, 1, 2, true);
	wrap_ipv4(&b, &a, 17);
	wrap_mpls(&b, 17, 16, true);
	wrap_eth(&b, 0x8847);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_MPLS, 1, CTR_EV_MPLS_LABELS, 1, CTR_INVALID, 1);

	cur_test = "bad_mpls_trunc_stack";
	b.n = 0;
	wrap_mpls(&b, 1, 16, false);
	b.d[b.n++] = 0x45;
	b.d[b.n++] = 0;
	wrap_eth(&b, 0x8847);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_MPLS, 1, CTR_EV_MPLS_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_mpls_nothing_after_bos";
	b.n = 0;
	wrap_mpls(&b, 1, 16, true);
	wrap_eth(&b, 0x8847);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_MPLS, 1, CTR_EV_MPLS_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_mpls_pseudowire_short";
	pb_fill(&b, 4 + 13, 0);
	wrap_mpls(&b, 1, 16, true);
	wrap_eth(&b, 0x8847);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_MPLS, 1, CTR_EV_MPLS_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "mpls_not_ip";
	pb_fill(&b, 20, 0);
	b.d[0] = 0x50;
	wrap_mpls(&b, 1, 16, true);
	wrap_eth(&b, 0x8847);
	ok = decode(&b);
	CHECK(!ok);
	CHECK_EQ(P.flags, PKT_F_NON_IP);
	EXPECT_CTRS(CTR_ETH, 1, CTR_MPLS, 1, CTR_NON_IP, 1);

	/* prefixes of a pseudowire with QinQ inside */
	{
		static const uint8_t cw[4] = { 0, 0, 0, 0 };
		uint16_t tpid[] = { 0x88a8, 0x8100 }, tci[] = { 1, 2 };
		pb_fill(&b, 5, 0);
		wrap_tcp(&b, &a, 1, 2, 3, 4, TH_ACK, 5, tcp_opts, 20);
		wrap_ipv4(&b, &a, 6);
		wrap_eth_tags(&b, 0x0800, 2, tpid, tci);
		pb_push(&b, cw, 4);
		wrap_mpls(&b, 3, 16, true);
		wrap_eth(&b, 0x8847);
		sweep("sweep_mpls_pw", &b, PKT_LINK_ETHERNET);
	}
}

static void test_linktypes(void)
{
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct ipp a6 = ip6("2001:db8::1", "2001:db8::2");
	struct pb b;
	bool ok;

	cur_test = "link_raw";
	pb_fill(&b, 10, 0);
	wrap_tcp(&b, &a, 1, 2, 3, 4, TH_ACK, 5, NULL, 0);
	wrap_ipv4(&b, &a, 6);
	ok = decode_ex(&b, b.n, PKT_LINK_RAW, true);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.l3_off, 0);
	CHECK_EQ(P.l4_off, 20);
	CHECK_EQ(P.payload_off, 40);
	CHECK_EQ(P.payload_len, 10);
	EXPECT_CTRS(CTR_IPV4, 1, CTR_TCP, 1);

	cur_test = "link_raw_ipv6";
	pb_fill(&b, 10, 0);
	wrap_udp(&b, &a6, 1, 2, true);
	wrap_ipv6(&b, &a6, 17);
	ok = decode_ex(&b, b.n, PKT_LINK_RAW, true);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
	CHECK_EQ(P.l3_off, 0);
	EXPECT_CTRS(CTR_IPV6, 1, CTR_UDP, 1);

	cur_test = "link_null";
	{
		uint32_t af = 2;   /* AF_INET, host order */
		pb_fill(&b, 10, 0);
		wrap_udp(&b, &a, 53, 1053, true);
		wrap_ipv4(&b, &a, 17);
		pb_push(&b, &af, 4);
		ok = decode_ex(&b, b.n, PKT_LINK_NULL, true);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
		CHECK_ADDRS(&a);
		CHECK_EQ(P.l3_off, 4);
		CHECK_EQ(P.sport, 53);
		CHECK_EQ(P.dport, 1053);
		CHECK_EQ(P.payload_off, 32);
		EXPECT_CTRS(CTR_IPV4, 1, CTR_UDP, 1);
	}

	cur_test = "link_sll";
	{
		uint8_t sll[16] = { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xdd };
		pb_fill(&b, 8, 0);
		wrap_icmp(&b, &a6, 128, 0, 1, 1);
		wrap_ipv6(&b, &a6, 58);
		pb_push(&b, sll, 16);
		ok = decode_ex(&b, b.n, PKT_LINK_SLL, true);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
		CHECK_ADDRS(&a6);
		CHECK_EQ(P.l3_off, 16);
		CHECK_EQ(P.icmp_type, 128);
		EXPECT_CTRS(CTR_IPV6, 1, CTR_ICMPV6, 1);

		cur_test = "link_sll_arp";
		sll[14] = 0x08;
		sll[15] = 0x06;
		pb_fill(&b, 28, 0);
		pb_push(&b, sll, 16);
		ok = decode_ex(&b, b.n, PKT_LINK_SLL, false);
		CHECK(!ok);
		CHECK_EQ(P.flags, PKT_F_NON_IP);
		EXPECT_CTRS(CTR_NON_IP, 1);
	}

	cur_test = "link_sll2";
	{
		uint8_t sll2[20] = { 0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0 };
		pb_fill(&b, 10, 0);
		wrap_tcp(&b, &a, 8080, 40000, 9, 10, TH_SYN | TH_ACK, 5, tcp_opts, 20);
		wrap_ipv4(&b, &a, 6);
		pb_push(&b, sll2, 20);
		ok = decode_ex(&b, b.n, PKT_LINK_SLL2, true);
		CHECK(ok);
		CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
		CHECK_EQ(P.l3_off, 20);
		CHECK_EQ(P.l4_off, 40);
		CHECK_EQ(P.payload_off, 80);
		CHECK_EQ(P.tcp_flags, TH_SYN | TH_ACK);
		CHECK_EQ(P.sport, 8080);
		EXPECT_CTRS(CTR_IPV4, 1, CTR_TCP, 1);
	}

	cur_test = "link_trunc";
	pb_fill(&b, 40, 0x45);
	ok = decode_ex(&b, 0, PKT_LINK_RAW, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_EV_LINK_TRUNC, 1, CTR_INVALID, 1);
	ok = decode_ex(&b, 3, PKT_LINK_NULL, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_EV_LINK_TRUNC, 1, CTR_INVALID, 1);
	ok = decode_ex(&b, 15, PKT_LINK_SLL, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_EV_LINK_TRUNC, 1, CTR_INVALID, 1);
	ok = decode_ex(&b, 19, PKT_LINK_SLL2, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_EV_LINK_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "link_unsupported";
	ok = decode_ex(&b, 40, 147 /* LINKTYPE_USER0 */, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_EV_LINK_UNSUP, 1, CTR_INVALID, 1);

	cur_test = "link_raw_not_ip";
	b.d[0] = 0x50;
	ok = decode_ex(&b, 40, PKT_LINK_RAW, false);
	CHECK(!ok);
	CHECK_EQ(P.flags, PKT_F_NON_IP);
	EXPECT_CTRS(CTR_NON_IP, 1);
}

static void test_non_ip(void)
{
	struct pb b;

	cur_test = "arp";
	pb_fill(&b, 28, 0);
	wrap_eth(&b, 0x0806);
	bool ok = decode(&b);
	CHECK(!ok);
	CHECK_EQ(P.flags, PKT_F_NON_IP);
	CHECK_EQ(P.ipver, 0);
	EXPECT_CTRS(CTR_ETH, 1, CTR_NON_IP, 1);

	cur_test = "arp_vlan";
	uint16_t tpid[] = { 0x8100 }, tci[] = { 5 };
	pb_fill(&b, 28, 0);
	wrap_eth_tags(&b, 0x0806, 1, tpid, tci);
	ok = decode(&b);
	CHECK(!ok);
	CHECK_EQ(P.flags, PKT_F_NON_IP);
	CHECK_EQ(P.vlan_n, 1);
	CHECK_EQ(P.vlan[0], 5);
	EXPECT_CTRS(CTR_ETH, 1, CTR_VLAN, 1, CTR_NON_IP, 1);
}

static void test_malformed_link_ip(void)
{
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct ipp a6 = ip6("2001:db8::1", "2001:db8::2");
	struct pb b, good;
	bool ok;

	cur_test = "bad_eth_short";
	pb_fill(&b, 13, 0);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_EV_LINK_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_vlan_trunc";
	{
		uint16_t tpid[] = { 0x8100 }, tci[] = { 7 };
		b.n = 0;
		wrap_eth_tags(&b, 0x0800, 1, tpid, tci);   /* 18 bytes */
		ok = decode_ex(&b, 16, PKT_LINK_ETHERNET, false);
		CHECK_INVALID(ok);
		EXPECT_CTRS(CTR_ETH, 1, CTR_EV_VLAN_TRUNC, 1, CTR_INVALID, 1);
	}

	cur_test = "bad_vlan_three_tags";
	{
		uint16_t tpid[] = { 0x88a8, 0x8100, 0x8100 }, tci[] = { 1, 2, 3 };
		pb_fill(&b, 8, 0);
		wrap_udp(&b, &a, 1, 2, true);
		wrap_ipv4(&b, &a, 17);
		wrap_eth_tags(&b, 0x0800, 3, tpid, tci);
		ok = decode(&b);
		CHECK_INVALID(ok);
		CHECK(P.vlan_n <= 2);
		EXPECT_CTRS(CTR_ETH, 1, CTR_EV_VLAN_TOO_MANY, 1, CTR_INVALID, 1);
	}

	/* a good IPv4/UDP packet to break */
	pb_fill(&good, 8, 0);
	wrap_udp(&good, &a, 1, 2, true);
	wrap_ipv4(&good, &a, 17);
	wrap_eth(&good, 0x0800);

	cur_test = "bad_ipv4_short";
	ok = decode_ex(&good, 14 + 19, PKT_LINK_ETHERNET, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_IPV4_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_ipv4_version";
	b = good;
	b.d[14] = 0x65;
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_IPV4_VERSION, 1, CTR_INVALID, 1);

	cur_test = "bad_ipv4_ihl4";
	b = good;
	b.d[14] = 0x44;
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_IPV4_HLEN, 1, CTR_INVALID, 1);

	cur_test = "bad_ipv4_tl_below_hl";
	b = good;
	w16(b.d + 16, 19);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_IPV4_IPLEN, 1, CTR_INVALID, 1);

	cur_test = "bad_ipv4_tl_beyond_capture";
	ok = decode_ex(&good, good.n - 1, PKT_LINK_ETHERNET, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_IPV4_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_ipv4_option_len";
	{
		static const uint8_t opt_long[4] = { 0x94, 9, 0, 0 };   /* length beyond the header */
		static const uint8_t opt_short[4] = { 1, 0x83, 1, 0 };  /* length 1 < 2 */
		static const uint8_t opt_cut[4] = { 1, 1, 1, 0x44 };    /* no length byte */
		const uint8_t *opts[] = { opt_long, opt_short, opt_cut };
		for (int i = 0; i < 3; i++) {
			pb_fill(&b, 8, 0);
			wrap_udp(&b, &a, 1, 2, true);
			wrap_ipv4_ex(&b, &a, 17, 1, 0, 64, opts[i], 4);
			wrap_eth(&b, 0x0800);
			ok = decode(&b);
			CHECK_INVALID(ok);
			EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_IPV4_OPT, 1, CTR_INVALID, 1);
		}
	}

	cur_test = "bad_ipv6_short";
	pb_fill(&b, 8, 0);
	wrap_udp(&b, &a6, 1, 2, true);
	wrap_ipv6(&b, &a6, 17);
	wrap_eth(&b, 0x86dd);
	good = b;
	ok = decode_ex(&b, 14 + 39, PKT_LINK_ETHERNET, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_EV_IPV6_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_ipv6_plen_beyond_capture";
	ok = decode_ex(&good, good.n - 1, PKT_LINK_ETHERNET, false);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_EV_IPV6_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_ipv6_version";
	b = good;
	b.d[14] = 0x40;
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_EV_IPV6_VERSION, 1, CTR_INVALID, 1);

	cur_test = "bad_ipv6_exthdr_trunc";
	/* hop-by-hop claiming 16 bytes with 8 bytes of payload */
	pb_fill(&b, 8, 0);
	b.d[0] = 17;
	b.d[1] = 1;
	wrap_ipv6(&b, &a6, 0);
	wrap_eth(&b, 0x86dd);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_EV_IPV6_EXTHDR, 1, CTR_INVALID, 1);
	/* destination options with fewer than 8 bytes */
	pb_fill(&b, 6, 0);
	wrap_ipv6(&b, &a6, 60);
	wrap_eth(&b, 0x86dd);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_EV_IPV6_EXTHDR, 1, CTR_INVALID, 1);
	/* fragment header with fewer than 8 bytes */
	pb_fill(&b, 7, 0);
	wrap_ipv6(&b, &a6, 44);
	wrap_eth(&b, 0x86dd);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_EV_IPV6_EXTHDR, 1, CTR_INVALID, 1);
}

static void test_malformed_l4(void)
{
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct ipp a6 = ip6("2001:db8::1", "2001:db8::2");
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");
	struct pb b;
	bool ok;

	cur_test = "bad_tcp_short";
	pb_fill(&b, 19, 0x50);
	wrap_ipv4(&b, &a, 6);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1, CTR_EV_TCP_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_tcp_doff_below_5";
	pb_payload(&b, "", 0);
	wrap_tcp(&b, &a, 1, 2, 3, 4, TH_ACK, 5, NULL, 0);
	b.d[12] = 0x40;
	wrap_ipv4(&b, &a, 6);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1, CTR_EV_TCP_HLEN, 1, CTR_INVALID, 1);

	cur_test = "bad_tcp_doff_beyond_packet";
	pb_fill(&b, 16, 0);
	wrap_tcp(&b, &a, 1, 2, 3, 4, TH_ACK, 5, NULL, 0);
	b.d[12] = 0xf0;   /* 60 bytes, 36 available */
	wrap_ipv4(&b, &a, 6);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1, CTR_EV_TCP_HLEN, 1, CTR_INVALID, 1);

	cur_test = "bad_tcp_option_len";
	{
		static const uint8_t o_zero[4] = { 2, 0, 5, 0xb4 };     /* MSS with length 0 */
		static const uint8_t o_over[8] = { 1, 1, 8, 10, 0, 0, 0, 0 };  /* TS overruns */
		static const uint8_t o_cut[4] = { 1, 1, 1, 3 };         /* kind without length */
		static const uint8_t o_one[4] = { 1, 1, 5, 1 };          /* length 1 < 2 */
		const uint8_t *opts[] = { o_zero, o_over, o_cut, o_one };
		const uint32_t lens[] = { 4, 8, 4, 4 };
		for (int i = 0; i < 4; i++) {
			pb_fill(&b, 4, 0);
			wrap_tcp(&b, &a, 1, 2, 3, 4, TH_SYN, 5, opts[i], lens[i]);
			wrap_ipv4(&b, &a, 6);
			wrap_eth(&b, 0x0800);
			ok = decode(&b);
			CHECK_INVALID(ok);
			EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1, CTR_EV_TCP_OPT, 1, CTR_INVALID, 1);
		}
		/* EOL ends the list: what follows is not parsed */
		static const uint8_t o_eol[4] = { 1, 0, 0xff, 0xff };
		pb_fill(&b, 4, 0);
		wrap_tcp(&b, &a, 1, 2, 3, 4, TH_SYN, 5, o_eol, 4);
		wrap_ipv4(&b, &a, 6);
		wrap_eth(&b, 0x0800);
		ok = decode(&b);
		CHECK(ok);
		EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1);
	}

	cur_test = "bad_udp_short";
	pb_fill(&b, 7, 0);
	wrap_ipv4(&b, &a, 17);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1, CTR_EV_UDP_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_udp_len_beyond_packet";
	pb_fill(&b, 10, 0);
	wrap_udp_raw(&b, 1, 2, 19, 0);
	wrap_ipv4(&b, &a, 17);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1, CTR_EV_UDP_LEN, 1, CTR_INVALID, 1);

	cur_test = "bad_udp_len_below_8";
	pb_fill(&b, 10, 0);
	wrap_udp_raw(&b, 1, 2, 7, 0);
	wrap_ipv4(&b, &a, 17);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1, CTR_EV_UDP_LEN, 1, CTR_INVALID, 1);

	/* UDP length shorter than the IP payload: the datagram ends there */
	cur_test = "udp_len_shorter_than_ip";
	pb_fill(&b, 10, 0);
	wrap_udp_raw(&b, 1, 2, 12, 0);
	wrap_ipv4(&b, &a, 17);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.payload_len, 4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1);

	cur_test = "bad_icmp_short";
	pb_fill(&b, 7, 8);
	wrap_ipv4(&b, &a, 1);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_ICMPV4, 1, CTR_EV_ICMPV4_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_icmpv6_short";
	pb_fill(&b, 7, 8);
	wrap_ipv6(&b, &a6, 58);
	wrap_eth(&b, 0x86dd);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_ICMPV6, 1, CTR_EV_ICMPV6_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_vxlan_inner_short";
	pb_fill(&b, 13, 0);
	wrap_vxlan(&b, 0x08, 1);
	wrap_udp(&b, &out, 1, 4789, false);
	wrap_ipv4(&b, &out, 17);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1, CTR_EV_VXLAN_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_gre_short";
	pb_fill(&b, 3, 0);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_GRE_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_gre_key_trunc";
	pb_payload(&b, "", 0);
	wrap_gre(&b, GRE_K, 0x0800, 0x01020304, 0);
	b.n = 6;
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_GRE_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_gre_seq_trunc";
	pb_payload(&b, "", 0);
	wrap_gre(&b, GRE_C | GRE_S, 0x0800, 0, 1);
	b.n = 10;
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_GRE_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_erspan_short";
	pb_fill(&b, 7, 0x10);
	wrap_gre(&b, GRE_S, 0x88be, 0, 1);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_ERSPAN_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_erspan3_short";
	pb_payload(&b, "", 0);
	wrap_erspan3(&b, 1, false);
	b.n = 10;              /* type III header is 12 bytes */
	wrap_gre(&b, GRE_S, 0x22eb, 0, 1);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_ERSPAN_TRUNC, 1, CTR_INVALID, 1);

	cur_test = "bad_erspan3_platform_short";
	pb_fill(&b, 8, 0);
	wrap_erspan3(&b, 1, false);
	b.d[11] = 1;           /* O bit, but no platform sub-header */
	b.n = 12 + 7;
	wrap_gre(&b, GRE_S, 0x22eb, 0, 1);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK_INVALID(ok);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_EV_ERSPAN_TRUNC, 1, CTR_INVALID, 1);
}

static void flip_last(struct pb *b)
{
	b->d[b->n - 1] ^= 0x5a;
}

static void test_checksums(void)
{
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct ipp a6 = ip6("2001:db8::1", "2001:db8::2");
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");
	struct pb b;
	bool ok;

	cur_test = "csum_tcp4";
	pb_fill(&b, 33, 1);
	wrap_tcp(&b, &a, 1, 2, 3, 4, TH_ACK, 5, tcp_opts, 20);
	wrap_ipv4(&b, &a, 6);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1);
	flip_last(&b);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1, CTR_BAD_CSUM, 1);
	cur_test = "csum_off";
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1);

	cur_test = "csum_ipv4_header";
	pb_fill(&b, 33, 1);
	wrap_tcp(&b, &a, 1, 2, 3, 4, TH_ACK, 5, NULL, 0);
	wrap_ipv4(&b, &a, 6);
	wrap_eth(&b, 0x0800);
	b.d[14 + 8] = 63;   /* TTL: in the IP header checksum, not in the pseudo-header */
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1, CTR_BAD_CSUM, 1);
	ok = decode(&b);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_TCP, 1);

	cur_test = "csum_udp4";
	pb_fill(&b, 21, 1);   /* odd length */
	wrap_udp(&b, &a, 1, 2, true);
	wrap_ipv4(&b, &a, 17);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1);
	flip_last(&b);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1, CTR_BAD_CSUM, 1);

	cur_test = "csum_udp4_zero";
	pb_fill(&b, 21, 1);
	wrap_udp(&b, &a, 1, 2, false);
	wrap_ipv4(&b, &a, 17);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_UDP, 1);

	cur_test = "csum_icmp4";
	pb_fill(&b, 32, 1);
	wrap_icmp(&b, NULL, 0, 0, 1, 2);
	wrap_ipv4(&b, &a, 1);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_ICMPV4, 1);
	flip_last(&b);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_ICMPV4, 1, CTR_BAD_CSUM, 1);

	cur_test = "csum_icmp6";
	pb_fill(&b, 32, 1);
	wrap_icmp(&b, &a6, 128, 0, 1, 2);
	wrap_ipv6(&b, &a6, 58);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_ICMPV6, 1);
	flip_last(&b);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4 | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_ICMPV6, 1, CTR_BAD_CSUM, 1);
	/* ICMPv6 covers the pseudo-header: a different destination breaks it */
	flip_last(&b);
	b.d[14 + 39] ^= 1;
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4 | PKT_F_BAD_CSUM);

	cur_test = "csum_tcp6";
	pb_fill(&b, 7, 1);
	wrap_tcp(&b, &a6, 1, 2, 3, 4, TH_ACK, 5, NULL, 0);
	wrap_ip6opts(&b, 6, 0);
	wrap_ipv6(&b, &a6, 0);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_TCP, 1);
	flip_last(&b);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4 | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_TCP, 1, CTR_BAD_CSUM, 1);

	cur_test = "csum_udp6";
	pb_fill(&b, 9, 1);
	wrap_udp(&b, &a6, 1, 2, true);
	wrap_ipv6(&b, &a6, 17);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4);
	flip_last(&b);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4 | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_UDP, 1, CTR_BAD_CSUM, 1);

	cur_test = "csum_inner_vxlan_tcp";
	pb_fill(&b, 9, 1);
	wrap_tcp(&b, &a, 1, 2, 3, 4, TH_ACK, 5, NULL, 0);
	wrap_ipv4(&b, &a, 6);
	wrap_eth(&b, 0x0800);
	wrap_vxlan(&b, 0x08, 3);
	wrap_udp(&b, &out, 5, 4789, false);
	wrap_ipv4(&b, &out, 17);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
	EXPECT_CTRS(CTR_ETH, 2, CTR_IPV4, 2, CTR_UDP, 1, CTR_VXLAN, 1, CTR_TCP, 1);
	flip_last(&b);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 2, CTR_IPV4, 2, CTR_UDP, 1, CTR_VXLAN, 1, CTR_TCP, 1, CTR_BAD_CSUM, 1);
	ok = decode(&b);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_TUNNEL);
}

/*
 * The IPv4 header checksum covers every IPv4 header, fragment or not: a
 * non-first fragment with a corrupted header must be flagged too.
 */
static void test_csum_ipv4_later_fragment(void)
{
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct pb b;
	bool ok;

	cur_test = "csum_ipv4_hdr_later_fragment";
	pb_fill(&b, 64, 1);
	wrap_ipv4_ex(&b, &a, 17, 0x4242, 185 /* offset 1480, last */, 64, NULL, 0);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_FRAG);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_IPV4_FRAG, 1);
	b.d[14 + 8] ^= 0x10;   /* TTL */
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_FRAG | PKT_F_BAD_CSUM);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_IPV4_FRAG, 1, CTR_BAD_CSUM, 1);
}

static void test_fragments(void)
{
	struct ipp a = ip4("192.0.2.1", "198.51.100.2");
	struct ipp a6 = ip6("2001:db8::1", "2001:db8::2");
	struct pb b;
	bool ok;

	cur_test = "frag4_first";
	pb_fill(&b, 1472, 1);
	wrap_udp_raw(&b, 5001, 5002, 8 + 2000, 0x1234 /* of the whole datagram */);
	wrap_ipv4_ex(&b, &a, 17, 0xbeef, 0x2000 /* MF, offset 0 */, 64, NULL, 0);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4 | PKT_F_FRAG | PKT_F_FRAG_FIRST);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.proto, 17);
	CHECK_EQ(P.sport, 5001);
	CHECK_EQ(P.dport, 5002);
	CHECK_EQ(P.frag_off, 0);
	CHECK_EQ(P.frag_id, 0xbeef);
	CHECK_EQ(P.payload_off, 42);
	CHECK_EQ(P.payload_len, 1472);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_IPV4_FRAG, 1, CTR_UDP, 1);

	cur_test = "frag4_later";
	pb_fill(&b, 536, 2);
	wrap_ipv4_ex(&b, &a, 17, 0xbeef, 185 /* 1480 bytes, last */, 64, NULL, 0);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_FRAG);
	CHECK_ADDRS(&a);
	CHECK_EQ(P.proto, 17);
	CHECK_EQ(P.sport, 0);
	CHECK_EQ(P.dport, 0);
	CHECK_EQ(P.frag_off, 1480);
	CHECK_EQ(P.frag_id, 0xbeef);
	CHECK_EQ(P.payload_off, 34);
	CHECK_EQ(P.payload_len, 536);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV4, 1, CTR_IPV4_FRAG, 1);

	cur_test = "frag4_middle";
	pb_fill(&b, 8, 2);
	wrap_ipv4_ex(&b, &a, 6, 7, 0x2000 | 0x1fff /* MF, max offset */, 64, NULL, 0);
	wrap_eth(&b, 0x0800);
	ok = decode(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_FRAG);
	CHECK_EQ(P.frag_off, 0x1fff * 8);
	CHECK_EQ(P.frag_id, 7);

	/* DF alone is not a fragment */
	cur_test = "frag4_df_only";
	pb_fill(&b, 8, 2);
	wrap_udp(&b, &a, 1, 2, true);
	wrap_ipv4_ex(&b, &a, 17, 9, 0x4000, 64, NULL, 0);
	wrap_eth(&b, 0x0800);
	ok = decode_csum(&b);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_L4);
	CHECK_EQ(P.frag_id, 0);

	cur_test = "frag6_first";
	pb_fill(&b, 1000, 3);
	wrap_udp_raw(&b, 6001, 6002, 8 + 3000, 0x4321);
	wrap_ip6frag(&b, 17, 0, true, 0x12345678);
	wrap_ip6opts(&b, 44, 0);    /* hop-by-hop before the fragment header */
	wrap_ipv6(&b, &a6, 0);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4 | PKT_F_FRAG | PKT_F_FRAG_FIRST);
	CHECK_ADDRS(&a6);
	CHECK_EQ(P.proto, 17);
	CHECK_EQ(P.sport, 6001);
	CHECK_EQ(P.dport, 6002);
	CHECK_EQ(P.frag_off, 0);
	CHECK_EQ(P.frag_id, 0x12345678);
	CHECK_EQ(P.l4_off, 14 + 40 + 8 + 8);
	CHECK_EQ(P.payload_len, 1000);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_IPV6_FRAG, 1, CTR_UDP, 1);

	cur_test = "frag6_later";
	pb_fill(&b, 200, 3);
	wrap_ip6frag(&b, 17, 1448, true, 0xfedcba98);
	wrap_ipv6(&b, &a6, 44);
	wrap_eth(&b, 0x86dd);
	ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_FRAG);
	CHECK_ADDRS(&a6);
	CHECK_EQ(P.proto, 17);
	CHECK_EQ(P.sport, 0);
	CHECK_EQ(P.dport, 0);
	CHECK_EQ(P.frag_off, 1448);
	CHECK_EQ(P.frag_id, 0xfedcba98);
	CHECK_EQ(P.payload_off, 14 + 40 + 8);
	CHECK_EQ(P.payload_len, 200);
	EXPECT_CTRS(CTR_ETH, 1, CTR_IPV6, 1, CTR_IPV6_FRAG, 1);
}

/* ---------------------------------------------------------- truncation */

/* Weak sweep over every proper prefix: decoded from an exact-size heap
 * buffer, each is either usable or flagged INVALID / NON_IP, and
 * decoder.invalid counts exactly the INVALID ones. */
static void sweep(const char *name, const struct pb *b, int link)
{
	uint32_t ninv = 0;

	cur_test = name;
	ctr_reset();
	for (uint32_t len = 0; len < b->n; len++) {
		bool ok = decode_acc(b->d, len, link, true);
		bool inv = P.flags & PKT_F_INVALID, nonip = P.flags & PKT_F_NON_IP;
		if (!(ok || inv || nonip)) {
			printf("FAIL %s:%d [%s]: prefix %u: false without INVALID/NON_IP (flags 0x%x)\n",
			       __FILE__, __LINE__, name, len, P.flags);
			failures++;
		}
		if (ok && (inv || nonip)) {
			printf("FAIL %s:%d [%s]: prefix %u: true with flags 0x%x\n", __FILE__, __LINE__, name,
			       len, P.flags);
			failures++;
		}
		ninv += inv;
	}
	CHECK_EQ(ctr_read(&ctrs, CTR_INVALID), ninv);
	CHECK_EQ(ctr_read(&ctrs, CTR_PKTS), b->n);
}

/*
 * Outer Eth / IPv4 with a 4-byte option / UDP (csum 0) / VXLAN 77 /
 * inner Eth / IPv6 / dest-options (8) / TCP with 20 bytes of options / 16
 * bytes of payload.  Layer offsets below.
 */
enum {
	SW_IP4 = 14, SW_UDP = 38, SW_VXLAN = 46, SW_IETH = 54, SW_IP6 = 68, SW_DST = 108,
	SW_TCP = 116, SW_PAY = 156, SW_END = 172,
};

static void build_sweep_pkt(struct pb *b)
{
	struct ipp in = ip6("2001:db8:1::10", "2001:db8:2::20");
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");
	static const uint8_t ra[4] = { 0x94, 4, 0, 0 };

	pb_payload(b, "0123456789abcdef", 16);
	wrap_tcp(b, &in, 44321, 8443, 0xa0a0a0a0, 0x0b0b0b0b, TH_PSH | TH_ACK, 1024, tcp_opts, 20);
	wrap_ip6opts(b, 6, 0);
	wrap_ipv6(b, &in, 60);
	wrap_eth(b, 0x86dd);
	wrap_vxlan(b, 0x08, 77);
	wrap_udp(b, &out, 50000, 4789, false);
	wrap_ipv4_ex(b, &out, 17, 1, 0, 64, ra, 4);
	wrap_eth(b, 0x0800);
}

static void test_truncation_sweep(void)
{
	struct pb b;

	build_sweep_pkt(&b);
	cur_test = "sweep_full";
	CHECK_EQ(b.n, SW_END);
	bool ok = decode_csum(&b);
	CHECK(ok);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_L4 | PKT_F_TUNNEL);
	CHECK_EQ(P.tunnel_id, 77);
	CHECK_EQ(P.l3_off, SW_IP6);
	CHECK_EQ(P.l4_off, SW_TCP);
	CHECK_EQ(P.payload_off, SW_PAY);
	CHECK_EQ(P.payload_len, 16);
	CHECK_EQ(P.sport, 44321);
	CHECK_EQ(P.dport, 8443);
	EXPECT_CTRS(CTR_ETH, 2, CTR_IPV4, 1, CTR_UDP, 1, CTR_VXLAN, 1, CTR_IPV6, 1, CTR_TCP, 1);

	/* plain prefixes: the outer IPv4 total length always exceeds them */
	sweep("sweep_vxlan_ipv6_tcp", &b, PKT_LINK_ETHERNET);
	cur_test = "sweep_vxlan_ipv6_tcp_exact";
	CHECK_EQ(ctr_read(&ctrs, CTR_INVALID), SW_END);
	CHECK_EQ(ctr_read(&ctrs, CTR_EV_LINK_TRUNC), 14);
	CHECK_EQ(ctr_read(&ctrs, CTR_EV_IPV4_TRUNC), SW_END - 14);
	CHECK_EQ(ctr_read(&ctrs, CTR_VXLAN), 0);

	/* prefixes with every length field cut to match: each layer in turn
	 * meets its own truncation */
	cur_test = "sweep_consistent_lengths";
	for (uint32_t cut = 14; cut < SW_END; cut++) {
		struct pb t = b;
		t.n = cut;
		if (cut >= SW_IP4 + 4) {
			w16(t.d + SW_IP4 + 2, (uint16_t)(cut - SW_IP4));
			if (cut >= SW_UDP) {
				w16(t.d + SW_IP4 + 10, 0);
				w16(t.d + SW_IP4 + 10, fold(sum16(0, t.d + SW_IP4, 24)));
			}
		}
		if (cut >= SW_UDP + 6)
			w16(t.d + SW_UDP + 4, (uint16_t)(cut - SW_UDP));
		if (cut >= SW_IP6 + 6)
			w16(t.d + SW_IP6 + 4, (uint16_t)(cut >= SW_DST ? cut - SW_DST : 0));

		bool want_ok;
		enum ctr_id reason = CTR_INVALID;
		if (cut < SW_IP4 + 20) {
			want_ok = false, reason = CTR_EV_IPV4_TRUNC;
		} else if (cut < SW_UDP) {
			want_ok = false, reason = CTR_EV_IPV4_IPLEN;
		} else if (cut < SW_VXLAN) {
			want_ok = false, reason = CTR_EV_UDP_TRUNC;
		} else if (cut < SW_VXLAN + 8) {
			want_ok = true;    /* too short for VXLAN: plain UDP */
		} else if (cut < SW_IP6) {
			want_ok = false, reason = CTR_EV_VXLAN_TRUNC;
		} else if (cut < SW_DST) {
			want_ok = false, reason = CTR_EV_IPV6_TRUNC;
		} else if (cut < SW_TCP) {
			want_ok = false, reason = CTR_EV_IPV6_EXTHDR;
		} else if (cut < SW_TCP + 20) {
			want_ok = false, reason = CTR_EV_TCP_TRUNC;
		} else if (cut < SW_PAY) {
			want_ok = false, reason = CTR_EV_TCP_HLEN;
		} else {
			want_ok = true;
		}

		ctr_reset();
		bool got = decode_acc(t.d, cut, PKT_LINK_ETHERNET, true);
		if (got != want_ok || ((P.flags & PKT_F_INVALID) != 0) == want_ok) {
			printf("FAIL %s:%d [%s]: cut %u: ret %d flags 0x%x, want ret %d\n", __FILE__,
			       __LINE__, cur_test, cut, got, P.flags, want_ok);
			failures++;
			continue;
		}
		if (!want_ok) {
			if (ctr_read(&ctrs, reason) != 1 || ctr_read(&ctrs, CTR_INVALID) != 1) {
				printf("FAIL %s:%d [%s]: cut %u: %s = %llu, invalid = %llu\n", __FILE__,
				       __LINE__, cur_test, cut, ctr_name(reason),
				       (unsigned long long)ctr_read(&ctrs, reason),
				       (unsigned long long)ctr_read(&ctrs, CTR_INVALID));
				failures++;
			}
		} else if (cut < SW_IP6) {
			CHECK(!(P.flags & PKT_F_TUNNEL));
			CHECK_EQ(P.dport, 4789);
			CHECK_EQ(P.payload_len, cut - SW_VXLAN);
		} else {
			CHECK(P.flags & PKT_F_TUNNEL);
			CHECK_EQ(P.tunnel_id, 77);
			CHECK_EQ(P.dport, 8443);
			CHECK_EQ(P.payload_off, SW_PAY);
			CHECK_EQ(P.payload_len, cut - SW_PAY);
		}
	}

	/* more shapes, weak sweep only */
	struct ipp in4 = ip4("192.0.2.1", "198.51.100.2");
	struct ipp in6 = ip6("2001:db8::1", "2001:db8::2");
	struct ipp out = ip4("203.0.113.1", "203.0.113.2");

	build_inner_eth_tcp(&b, &in4);
	wrap_erspan2(&b, 3, 0, 0, 0);
	wrap_gre(&b, GRE_S | GRE_K | GRE_C, 0x88be, 1, 2);
	wrap_ipv4(&b, &out, 47);
	wrap_eth(&b, 0x0800);
	sweep("sweep_erspan", &b, PKT_LINK_ETHERNET);

	pb_fill(&b, 20, 0);
	wrap_icmp(&b, &in6, 128, 0, 1, 1);
	wrap_ipv6(&b, &in6, 58);
	wrap_gre(&b, GRE_K, 0x86dd, 5, 0);
	wrap_ipv6(&b, &in6, 47);
	{
		uint16_t tpid[] = { 0x88a8, 0x8100 }, tci[] = { 1, 2 };
		wrap_eth_tags(&b, 0x86dd, 2, tpid, tci);
	}
	sweep("sweep_qinq_gre6", &b, PKT_LINK_ETHERNET);

	pb_fill(&b, 30, 0);
	wrap_udp_raw(&b, 1, 2, 100, 0);
	wrap_ip6frag(&b, 17, 0, true, 9);
	wrap_ip6opts(&b, 44, 1);
	wrap_ipv6(&b, &in6, 0);
	sweep("sweep_raw_frag6", &b, PKT_LINK_RAW);

	uint8_t sll2[20] = { 0x08, 0x00 };
	pb_fill(&b, 4, 0);
	wrap_tcp(&b, &in4, 1, 2, 3, 4, TH_SYN, 5, tcp_opts, 20);
	wrap_ipv4(&b, &in4, 6);
	pb_push(&b, sll2, 20);
	sweep("sweep_sll2_tcp", &b, PKT_LINK_SLL2);

	pb_fill(&b, 28, 0);
	wrap_eth(&b, 0x0806);
	sweep("sweep_arp", &b, PKT_LINK_ETHERNET);
}

/* ---------------------------------------------------------------- hash */

static uint32_t hash_of(const struct pb *b, uint32_t seed)
{
	bool ok = decode(b);
	CHECK(ok);
	return pkt_hash_ippair(&P, seed);
}

static void test_hash(void)
{
	struct pb b;
	cur_test = "hash_ippair";

	struct ipp ab = ip4("192.0.2.1", "198.51.100.2");
	struct ipp ac = ip4("192.0.2.1", "198.51.100.3");
	struct ipp cb = ip4("203.0.113.9", "198.51.100.2");
	struct ipp v6 = ip6("2001:db8::1", "2001:db8::2");
	struct ipp v6b = ip6("2001:db8::1", "2001:db8:0:1::2");
	const struct ipp *pairs[] = { &ab, &ac, &cb, &v6, &v6b };
	uint32_t h[5];

	for (int seed = 0; seed < 2; seed++) {
		uint32_t s = seed ? 0x9e3779b9u : 0;
		for (int i = 0; i < 5; i++) {
			struct ipp fw = *pairs[i], rv = swapped(*pairs[i]);
			pb_fill(&b, 10, 0);
			wrap_udp(&b, &fw, 1111, 2222, true);
			if (fw.ver == 4) {
				wrap_ipv4(&b, &fw, 17);
				wrap_eth(&b, 0x0800);
			} else {
				wrap_ipv6(&b, &fw, 17);
				wrap_eth(&b, 0x86dd);
			}
			h[i] = hash_of(&b, s);
			/* reverse direction, other ports and protocol */
			pb_fill(&b, 10, 0);
			wrap_tcp(&b, &rv, 2222, 3333, 1, 1, TH_ACK, 1, NULL, 0);
			if (rv.ver == 4) {
				wrap_ipv4(&b, &rv, 6);
				wrap_eth(&b, 0x0800);
			} else {
				wrap_ipv6(&b, &rv, 6);
				wrap_eth(&b, 0x86dd);
			}
			CHECK_EQ(hash_of(&b, s), h[i]);
		}
		for (int i = 0; i < 5; i++)
			for (int j = i + 1; j < 5; j++)
				if (h[i] == h[j]) {
					printf("FAIL %s:%d [%s]: pairs %d and %d hash alike (seed %u)\n", __FILE__,
					       __LINE__, cur_test, i, j, s);
					failures++;
				}
	}

	/* the seed matters */
	pb_fill(&b, 10, 0);
	wrap_udp(&b, &ab, 1, 2, true);
	wrap_ipv4(&b, &ab, 17);
	wrap_eth(&b, 0x0800);
	CHECK(hash_of(&b, 1) != hash_of(&b, 2));

	/* every fragment of a datagram hashes like its first fragment */
	cur_test = "hash_fragments";
	pb_fill(&b, 64, 1);
	wrap_udp_raw(&b, 5001, 5002, 8 + 200, 0);
	wrap_ipv4_ex(&b, &ab, 17, 0x77, 0x2000, 64, NULL, 0);
	wrap_eth(&b, 0x0800);
	uint32_t hf = hash_of(&b, 5);
	CHECK(P.flags & PKT_F_FRAG_FIRST);
	pb_fill(&b, 64, 1);
	wrap_ipv4_ex(&b, &ab, 17, 0x77, 0x2000 | 9, 64, NULL, 0);
	wrap_eth(&b, 0x0800);
	CHECK_EQ(hash_of(&b, 5), hf);
	CHECK_EQ(P.flags, PKT_F_IPV4 | PKT_F_FRAG);
	pb_fill(&b, 64, 1);
	wrap_ipv4_ex(&b, &ab, 17, 0x77, 18, 64, NULL, 0);
	wrap_eth(&b, 0x0800);
	CHECK_EQ(hash_of(&b, 5), hf);

	pb_fill(&b, 64, 1);
	wrap_udp_raw(&b, 5001, 5002, 8 + 200, 0);
	wrap_ip6frag(&b, 17, 0, true, 99);
	wrap_ipv6(&b, &v6, 44);
	wrap_eth(&b, 0x86dd);
	hf = hash_of(&b, 5);
	pb_fill(&b, 64, 1);
	wrap_ip6frag(&b, 17, 72, false, 99);
	wrap_ipv6(&b, &v6, 44);
	wrap_eth(&b, 0x86dd);
	CHECK_EQ(hash_of(&b, 5), hf);
	CHECK_EQ(P.flags, PKT_F_IPV6 | PKT_F_FRAG);
}

int main(void)
{
	test_ipv4_tcp();
	test_ipv4_options_udp();
	test_vlan();
	test_ipv6();
	test_icmp();
	test_vxlan();
	test_vxlan_nesting();
	test_gre();
	test_gre_not_decapsulated();
	test_erspan();
	test_mpls();
	test_linktypes();
	test_non_ip();
	test_malformed_link_ip();
	test_malformed_l4();
	test_checksums();
	test_csum_ipv4_later_fragment();
	test_fragments();
	test_truncation_sweep();
	test_hash();

	free(heap);
	if (failures) {
		printf("test_decode: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_decode: all checks passed\n");
	return 0;
}
