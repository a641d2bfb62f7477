/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the IP defragmenter (dataplane/defrag/defrag.c).
 *
 * Whole IPv4/IPv6 UDP and TCP datagrams are built byte by byte (checksums
 * computed), cut into fragments, each fragment decoded by pkt_decode()
 * (PKT_LINK_RAW, checksum validation on) from a heap buffer of exactly its
 * length and fed to the defragmenter.  The reassembled packet is compared
 * byte for byte with the unfragmented datagram and decoded again; the
 * defrag.* counters are checked exactly.
 *
 * Standalone: prints each failed check with its line; exit 0 iff all pass.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr.h"
#include "defrag.h"
#include "pkt.h"

#include "check.h"
#include "pktbytes.h"

#define SEC 1000000000ULL
#define BUF_MAX 70000

static struct ctr_block ctrs;

/* ----------------------------------------------------------- datagrams */

/* One datagram: addresses, id, and its L4 bytes (header + payload). */
struct dg {
	int ver;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t proto;
	bool hbh;                 /* IPv6: a hop-by-hop header (unfragmentable) */
	uint8_t l4[BUF_MAX];
	uint32_t l4len;
};

static void dg_addrs(struct dg *g, int ver, uint8_t s_last, uint8_t d_last)
{
	memset(g->src, 0, 16);
	memset(g->dst, 0, 16);
	g->ver = ver;
	if (ver == 4) {
		const uint8_t s[4] = { 192, 0, 2, s_last }, d[4] = { 198, 51, 100, d_last };
		memcpy(g->src, s, 4);
		memcpy(g->dst, d, 4);
	} else {
		g->src[0] = 0x20; g->src[1] = 0x01; g->src[2] = 0x0d; g->src[3] = 0xb8;
		memcpy(g->dst, g->src, 4);
		g->src[15] = s_last;
		g->dst[14] = 1;
		g->dst[15] = d_last;
	}
}

static uint32_t pseudo(const struct dg *g, uint32_t len)
{
	uint8_t ph[40];
	if (g->ver == 4) {
		memcpy(ph, g->src, 4);
		memcpy(ph + 4, g->dst, 4);
		ph[8] = 0;
		ph[9] = g->proto;
		w16(ph + 10, (uint16_t)len);
		return sum16(0, ph, 12);
	}
	memcpy(ph, g->src, 16);
	memcpy(ph + 16, g->dst, 16);
	w32(ph + 32, len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = g->proto;
	return sum16(0, ph, 40);
}

/* payload of plen bytes (pattern from seed) behind a UDP or TCP header */
static void dg_make(struct dg *g, int ver, uint8_t proto, uint32_t id, uint32_t plen, uint8_t seed)
{
	uint32_t hl = proto == 6 ? 20 : 8;

	dg_addrs(g, ver, 10, 20);
	g->id = id;
	g->proto = proto;
	g->hbh = false;
	g->l4len = hl + plen;
	memset(g->l4, 0, hl);
	for (uint32_t i = 0; i < plen; i++)
		g->l4[hl + i] = (uint8_t)(seed + i * 13 + (i >> 8));
	w16(g->l4, 40000);
	w16(g->l4 + 2, proto == 6 ? 80 : 53);
	if (proto == 6) {
		w32(g->l4 + 4, 1000);
		g->l4[12] = 5 << 4;
		g->l4[13] = 0x18;
		w16(g->l4 + 14, 8192);
		w16(g->l4 + 16, fold(sum16(pseudo(g, g->l4len), g->l4, g->l4len)));
	} else {
		w16(g->l4 + 4, (uint16_t)g->l4len);
		uint16_t c = fold(sum16(pseudo(g, g->l4len), g->l4, g->l4len));
		w16(g->l4 + 6, c ? c : 0xffff);
	}
}

/*
 * Build into buf the packet carrying data[0..len) at offset off of g's L4
 * bytes; frag false: the unfragmented datagram (off 0, all of it).
 * Returns its length.
 */
static uint32_t mk(uint8_t *buf, const struct dg *g, bool frag, uint32_t off, bool mf,
		   const uint8_t *data, uint32_t len)
{
	if (g->ver == 4) {
		memset(buf, 0, 20);
		buf[0] = 0x45;
		w16(buf + 2, (uint16_t)(20 + len));
		w16(buf + 4, (uint16_t)g->id);
		w16(buf + 6, frag ? (uint16_t)((off / 8) | (mf ? 0x2000 : 0)) : 0);
		buf[8] = 64;
		buf[9] = g->proto;
		memcpy(buf + 12, g->src, 4);
		memcpy(buf + 16, g->dst, 4);
		w16(buf + 10, fold(sum16(0, buf, 20)));
		memcpy(buf + 20, data, len);
		return 20 + len;
	}
	uint32_t h = 40;
	memset(buf, 0, 40);
	buf[0] = 0x60;
	buf[7] = 64;
	memcpy(buf + 8, g->src, 16);
	memcpy(buf + 24, g->dst, 16);
	uint8_t *nh = buf + 6;
	if (g->hbh) {   /* 8 bytes: next header, len 0, PadN of 4 */
		*nh = 0;
		memset(buf + h, 0, 8);
		buf[h + 2] = 1;
		buf[h + 3] = 4;
		nh = buf + h;
		h += 8;
	}
	if (frag) {
		*nh = 44;
		buf[h] = g->proto;
		buf[h + 1] = 0;
		w16(buf + h + 2, (uint16_t)(off | (mf ? 1 : 0)));
		w32(buf + h + 4, g->id);
		h += 8;
	} else {
		*nh = g->proto;
	}
	memcpy(buf + h, data, len);
	w16(buf + 4, (uint16_t)(h - 40 + len));
	return h + len;
}

/* ------------------------------------------------------------- feeding */

static uint8_t got[BUF_MAX];
static uint32_t got_len;

/* Decode pkt[0..n) from an exact-size heap copy and feed it; a complete
 * datagram is copied to got/got_len. */
static int feed_raw(struct defrag *d, const uint8_t *pkt, uint32_t n, uint64_t ts)
{
	struct pkt_decode_opts o = { .linktype = PKT_LINK_RAW, .verify_csum = true };
	struct pkt p;
	uint8_t *heap = malloc(n);
	uint8_t *out = NULL;
	uint32_t out_len = 0;
	int rc;

	memcpy(heap, pkt, n);
	if (!pkt_decode(&p, heap, n, ts, &o, NULL) || !(p.flags & PKT_F_FRAG) ||
	    (p.flags & PKT_F_BAD_CSUM)) {
		printf("  fragment did not decode as a fragment (flags 0x%x)\n", p.flags);
		free(heap);
		return -1000;
	}
	rc = defrag_feed(d, &p, &out, &out_len);
	free(heap);
	if (rc == 1) {
		memcpy(got, out, out_len);
		got_len = out_len;
	}
	return rc;
}

static uint8_t fbuf[BUF_MAX];

/* Fragment [off, off+len) of g's own bytes. */
static int feed(struct defrag *d, const struct dg *g, uint32_t off, uint32_t len, bool mf, uint64_t ts)
{
	return feed_raw(d, fbuf, mk(fbuf, g, true, off, mf, g->l4 + off, len), ts);
}

/* The same with other bytes. */
static int feed_bytes(struct defrag *d, const struct dg *g, uint32_t off, const uint8_t *b,
		      uint32_t len, bool mf, uint64_t ts)
{
	return feed_raw(d, fbuf, mk(fbuf, g, true, off, mf, b, len), ts);
}

static uint8_t want[BUF_MAX];

/* got must be g unfragmented, decoding cleanly with the right ports. */
static void check_whole(const struct dg *g)
{
	uint32_t n = mk(want, g, false, 0, false, g->l4, g->l4len);
	CHECK_EQ(got_len, n);
	CHECK(got_len == n && memcmp(got, want, n) == 0);

	struct pkt_decode_opts o = { .linktype = PKT_LINK_RAW, .verify_csum = true };
	struct pkt p;
	uint8_t *heap = malloc(got_len);
	memcpy(heap, got, got_len);
	CHECK(pkt_decode(&p, heap, got_len, 0, &o, NULL));
	CHECK(!(p.flags & (PKT_F_FRAG | PKT_F_BAD_CSUM | PKT_F_INVALID)));
	CHECK(p.flags & PKT_F_L4);
	CHECK_EQ(p.ipver, g->ver);
	CHECK_EQ(p.proto, g->proto);
	CHECK_EQ(p.sport, 40000);
	CHECK_EQ(p.dport, g->proto == 6 ? 80 : 53);
	CHECK_EQ(p.payload_len, g->l4len - (g->proto == 6 ? 20 : 8));
	free(heap);
}

static struct defrag_cfg base_cfg(void)
{
	struct defrag_cfg c = { .max_trackers = 8, .memcap = 1u << 20, .max_frags = 256,
				.timeout_ns = 30 * SEC, .policy = DEFRAG_FIRST, .seed = 12345 };
	return c;
}

static struct defrag *mkd(const struct defrag_cfg *c)
{
	struct defrag *d = NULL;
	memset(&ctrs, 0, sizeof(ctrs));
	if (defrag_create(&d, c, &ctrs) != 0) {
		printf("defrag_create failed\n");
		exit(1);
	}
	return d;
}

#define C(id) ctr_read(&ctrs, CTR_DEFRAG_##id)

/* --------------------------------------------------------------- tests */

static struct dg G, H;

/* Cut g into pieces of step bytes, fed in the order given by perm. */
static void run_order(int ver, uint8_t proto, uint32_t plen, uint32_t step, const char *how)
{
	struct defrag_cfg c = base_cfg();
	struct defrag *d = mkd(&c);
	uint32_t n = 0, order[512];

	dg_make(&G, ver, proto, 0x1234, plen, 7);
	if (ver == 6 && proto == 17)
		G.hbh = true;
	n = (G.l4len + step - 1) / step;
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	if (strcmp(how, "reverse") == 0) {
		for (uint32_t i = 0; i < n; i++)
			order[i] = n - 1 - i;
	} else if (strcmp(how, "random") == 0) {
		uint32_t r = 99;
		for (uint32_t i = n - 1; i > 0; i--) {
			r = r * 1103515245u + 12345u;
			uint32_t j = (r >> 8) % (i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t off = order[k] * step;
		uint32_t len = off + step > G.l4len ? G.l4len - off : step;
		int rc = feed(d, &G, off, len, off + len < G.l4len, SEC + k);
		CHECK_EQ(rc, k + 1 == n ? 1 : 0);
	}
	check_whole(&G);
	CHECK_EQ(C(REASSEMBLED), 1);
	CHECK_EQ(ver == 4 ? C(IPV4_FRAGS) : C(IPV6_FRAGS), n);
	CHECK_EQ(C(OVERLAPS) + C(INVALID) + C(MEMCAP_DROPS) + C(TIMEOUTS), 0);
	CHECK_EQ(defrag_live(d), 0);
	defrag_expire(d, 2 * SEC, 10);
	CHECK_EQ(defrag_held(d), 0);
	defrag_destroy(d);
}

static void test_orders(void)
{
	static const char *hows[] = { "in-order", "reverse", "random" };
	for (int v = 4; v <= 6; v += 2)
		for (int pr = 0; pr < 2; pr++)
			for (int h = 0; h < 3; h++) {
				char name[64];
				snprintf(name, sizeof(name), "order ipv%d %s %s", v, pr ? "tcp" : "udp", hows[h]);
				cur_test = name;
				run_order(v, pr ? 6 : 17, 3000, 1480, hows[h]);
				run_order(v, pr ? 6 : 17, 5000, 104, hows[h]);   /* 49 pieces, unaligned to 64 */
				run_order(v, pr ? 6 : 17, 4000, 64, hows[h]);
			}
	cur_test = "order ipv4 big";
	run_order(4, 17, 65000, 1480, "random");
	cur_test = "order ipv6 big";
	run_order(6, 6, 65000, 1448, "random");
}

static void test_duplicates(void)
{
	cur_test = "duplicates";
	struct defrag_cfg c = base_cfg();
	struct defrag *d = mkd(&c);
	dg_make(&G, 4, 17, 77, 2000, 1);
	CHECK_EQ(feed(d, &G, 0, 1000, true, SEC), 0);
	CHECK_EQ(feed(d, &G, 0, 1000, true, SEC), 0);
	CHECK_EQ(feed(d, &G, 1000, 1000, true, SEC), 0);   /* 1000..2000 */
	CHECK_EQ(feed(d, &G, 1000, 1000, true, SEC), 0);
	CHECK_EQ(feed(d, &G, 2000, 8, false, SEC), 1);
	check_whole(&G);
	CHECK_EQ(C(OVERLAPS), 2);
	CHECK_EQ(C(OVERLAP_CONFLICTS), 0);

	/* a fragment after completion starts a new datagram */
	cur_test = "after completion";
	CHECK_EQ(feed(d, &G, 0, 1000, true, SEC), 0);
	CHECK_EQ(defrag_live(d), 1);
	CHECK_EQ(defrag_held(d), 1000);
	CHECK_EQ(C(REASSEMBLED), 1);
	CHECK_EQ(feed(d, &G, 1000, 1008, false, SEC), 1);
	check_whole(&G);
	CHECK_EQ(C(REASSEMBLED), 2);
	defrag_destroy(d);
}

/* A: [0,sa) own bytes; B: [ob, ob+lb) of 'X' bytes; then the rest. */
static void overlap_case(enum defrag_policy pol, uint32_t sa, uint32_t ob, uint32_t lb, bool b_first)
{
	struct defrag_cfg c = base_cfg();
	c.policy = pol;
	struct defrag *d = mkd(&c);
	static uint8_t x[4096];
	uint32_t end = ob + lb > sa ? ob + lb : sa;

	dg_make(&G, 6, 17, 0xabcdef, 1024 - 8, 3);
	memset(x, 'X', sizeof(x));
	if (b_first) {
		CHECK_EQ(feed_bytes(d, &G, ob, x, lb, true, SEC), 0);
		CHECK_EQ(feed(d, &G, 0, sa, true, SEC), 0);
	} else {
		CHECK_EQ(feed(d, &G, 0, sa, true, SEC), 0);
		CHECK_EQ(feed_bytes(d, &G, ob, x, lb, true, SEC), 0);
	}
	CHECK_EQ(feed(d, &G, end, G.l4len - end, false, SEC), 1);
	CHECK_EQ(C(OVERLAPS), 1);
	CHECK_EQ(C(OVERLAP_CONFLICTS), 1);

	/* expected: G's bytes, B's where B wins or alone */
	uint8_t *e = malloc(G.l4len);
	memcpy(e, G.l4, G.l4len);
	for (uint32_t i = ob; i < ob + lb; i++) {
		bool in_a = i < sa;
		bool b_wins = !in_a || (pol == DEFRAG_FIRST) == b_first;
		if (b_wins)
			e[i] = 'X';
	}
	CHECK_EQ(got_len, 40 + G.l4len);
	CHECK(got_len == 40 + G.l4len && memcmp(got + 40, e, G.l4len) == 0);
	CHECK_EQ(got[6], 17);
	CHECK_EQ(got[4] << 8 | got[5], G.l4len);
	free(e);
	defrag_destroy(d);
}

static void test_overlaps(void)
{
	cur_test = "overlap first small";
	overlap_case(DEFRAG_FIRST, 24, 16, 16, false);
	cur_test = "overlap last small";
	overlap_case(DEFRAG_LAST, 24, 16, 16, false);
	cur_test = "overlap first big";
	overlap_case(DEFRAG_FIRST, 512, 64, 256, false);
	cur_test = "overlap last big";
	overlap_case(DEFRAG_LAST, 512, 64, 256, false);
	cur_test = "overlap first, new bytes first";
	overlap_case(DEFRAG_FIRST, 512, 136, 520, true);
	cur_test = "overlap last, new bytes first";
	overlap_case(DEFRAG_LAST, 512, 136, 520, true);
}

static void test_timeout(void)
{
	cur_test = "timeout";
	struct defrag_cfg c = base_cfg();
	c.timeout_ns = 10 * SEC;
	struct defrag *d = mkd(&c);
	dg_make(&G, 4, 6, 5, 3000, 9);
	CHECK_EQ(feed(d, &G, 0, 1480, true, SEC), 0);
	CHECK_EQ(defrag_expire(d, 11 * SEC, 10), 0);   /* exactly the timeout: kept */
	CHECK_EQ(defrag_live(d), 1);
	CHECK_EQ(defrag_expire(d, 11 * SEC + 1, 10), 1);
	CHECK_EQ(defrag_live(d), 0);
	CHECK_EQ(defrag_held(d), 0);
	CHECK_EQ(C(TIMEOUTS), 1);
	/* the rest now cannot complete: the head is gone */
	CHECK_EQ(feed(d, &G, 1480, 1480, true, 12 * SEC), 0);
	CHECK_EQ(feed(d, &G, 2960, G.l4len - 2960, false, 12 * SEC), 0);
	/* lazily: a fragment after the timeout drops the old datagram */
	CHECK_EQ(feed(d, &G, 0, 1480, true, 30 * SEC), 0);
	CHECK_EQ(C(TIMEOUTS), 2);
	CHECK_EQ(defrag_live(d), 1);
	CHECK_EQ(feed(d, &G, 1480, 1480, true, 31 * SEC), 0);
	CHECK_EQ(feed(d, &G, 2960, G.l4len - 2960, false, 32 * SEC), 1);
	check_whole(&G);
	/* budget */
	for (uint32_t id = 100; id < 105; id++) {
		G.id = id;
		CHECK_EQ(feed(d, &G, 0, 1480, true, 40 * SEC), 0);
	}
	CHECK_EQ(defrag_expire(d, 60 * SEC, 3), 3);
	CHECK_EQ(defrag_expire(d, 60 * SEC, 3), 2);
	CHECK_EQ(C(TIMEOUTS), 7);
	defrag_destroy(d);
}

static void test_bounds(void)
{
	cur_test = "max_trackers";
	struct defrag_cfg c = base_cfg();
	c.max_trackers = 2;
	struct defrag *d = mkd(&c);
	dg_make(&G, 4, 17, 1, 2000, 1);
	dg_make(&H, 4, 17, 3, 2000, 2);
	CHECK_EQ(feed(d, &G, 0, 1000, true, SEC), 0);
	G.id = 2;
	CHECK_EQ(feed(d, &G, 0, 1000, true, 2 * SEC), 0);
	CHECK_EQ(feed(d, &H, 0, 1000, true, 3 * SEC), 0);   /* evicts id 1 */
	CHECK_EQ(C(EVICTED), 1);
	CHECK_EQ(defrag_live(d), 2);
	CHECK_EQ(defrag_held(d), 2000);
	G.id = 1;
	CHECK_EQ(feed(d, &G, 1000, 1008, false, 4 * SEC), 0);   /* evicts id 2 */
	CHECK_EQ(C(EVICTED), 2);
	CHECK_EQ(feed(d, &H, 1000, 1008, false, 4 * SEC), 1);
	check_whole(&H);
	defrag_destroy(d);

	cur_test = "memcap";
	c = base_cfg();
	c.memcap = 2500;
	d = mkd(&c);
	dg_make(&G, 6, 17, 1, 3000, 1);
	CHECK_EQ(feed(d, &G, 0, 1480, true, SEC), 0);
	H = G;
	H.id = 2;
	CHECK_EQ(feed(d, &H, 0, 1480, true, SEC), -ENOSPC);
	CHECK_EQ(C(MEMCAP_DROPS), 1);
	CHECK_EQ(defrag_live(d), 1);
	CHECK_EQ(feed(d, &G, 1480, 1480, true, SEC), -ENOSPC);
	CHECK_EQ(C(MEMCAP_DROPS), 2);
	CHECK_EQ(feed(d, &G, 1480, 1000, true, SEC), 0);   /* fits: 2480 */
	CHECK_EQ(defrag_held(d), 2480);
	defrag_destroy(d);

	cur_test = "max_frags";
	c = base_cfg();
	c.max_frags = 2;
	d = mkd(&c);
	dg_make(&G, 4, 6, 9, 3000, 1);
	CHECK_EQ(feed(d, &G, 0, 1000, true, SEC), 0);
	CHECK_EQ(feed(d, &G, 1000, 1000, true, SEC), 0);
	CHECK_EQ(feed(d, &G, 2000, G.l4len - 2000, false, SEC), -E2BIG);
	CHECK_EQ(C(MAX_FRAGS_DROPS), 1);
	CHECK_EQ(defrag_live(d), 0);
	CHECK_EQ(defrag_held(d), 0);
	/* two fragments are enough for another datagram */
	CHECK_EQ(feed(d, &G, 0, 1504, true, SEC), 0);
	CHECK_EQ(feed(d, &G, 1504, G.l4len - 1504, false, SEC), 1);
	check_whole(&G);
	defrag_destroy(d);
}

static void test_invalid(void)
{
	struct defrag_cfg c = base_cfg();
	struct defrag *d = mkd(&c);
	static uint8_t zero[65536];
	uint64_t inv = 0;

	dg_make(&G, 4, 17, 1, 3000, 1);
	cur_test = "invalid beyond 65535";
	CHECK_EQ(feed_bytes(d, &G, 65528, zero, 16, false, SEC), -EINVAL);
	CHECK_EQ(C(INVALID), ++inv);
	CHECK_EQ(defrag_live(d), 0);

	cur_test = "invalid zero-length non-last";
	CHECK_EQ(feed(d, &G, 0, 1000, true, SEC), 0);
	CHECK_EQ(feed_bytes(d, &G, 1000, zero, 0, true, SEC), -EINVAL);
	CHECK_EQ(C(INVALID), ++inv);
	CHECK_EQ(defrag_live(d), 0);   /* the datagram went with it */

	cur_test = "invalid non-last not multiple of 8";
	CHECK_EQ(feed(d, &G, 1000, 12, true, SEC), -EINVAL);
	CHECK_EQ(C(INVALID), ++inv);

	cur_test = "invalid two different last fragments";
	CHECK_EQ(feed(d, &G, 1000, 1000, false, SEC), 0);
	CHECK_EQ(feed(d, &G, 1000, 1000, false, SEC), 0);   /* same last again: fine */
	CHECK_EQ(feed(d, &G, 1000, 1008, false, SEC), -EINVAL);
	CHECK_EQ(C(INVALID), ++inv);
	CHECK_EQ(defrag_live(d), 0);

	cur_test = "invalid data past the end";
	CHECK_EQ(feed(d, &G, 1000, 1000, false, SEC), 0);
	CHECK_EQ(feed(d, &G, 1000, 1200, true, SEC), -EINVAL);
	CHECK_EQ(C(INVALID), ++inv);

	cur_test = "invalid last before data";
	CHECK_EQ(feed(d, &G, 1000, 1000, true, SEC), 0);
	CHECK_EQ(feed(d, &G, 1000, 504, false, SEC), -EINVAL);
	CHECK_EQ(C(INVALID), ++inv);
	CHECK_EQ(defrag_live(d), 0);

	cur_test = "invalid reassembled IPv4 over 65535";
	dg_make(&G, 4, 17, 2, 65520, 1);   /* L4 65528 + header 20 */
	CHECK_EQ(feed(d, &G, 0, 65000, true, SEC), 0);
	CHECK_EQ(feed(d, &G, 65000, 528, false, SEC), -EINVAL);
	CHECK_EQ(C(INVALID), ++inv);
	CHECK_EQ(defrag_live(d), 0);
	CHECK_EQ(defrag_held(d), 0);

	cur_test = "not a fragment";
	struct pkt p;
	struct pkt_decode_opts o = { .linktype = PKT_LINK_RAW };
	dg_make(&G, 4, 17, 3, 100, 1);
	uint32_t n = mk(fbuf, &G, false, 0, false, G.l4, G.l4len);
	uint8_t *out;
	uint32_t ol;
	CHECK(pkt_decode(&p, fbuf, n, SEC, &o, NULL));
	CHECK_EQ(defrag_feed(d, &p, &out, &ol), -EINVAL);
	CHECK_EQ(C(INVALID), ++inv);
	CHECK_EQ(C(REASSEMBLED), 0);
	defrag_destroy(d);

	cur_test = "bad cfg";
	struct defrag *bad = (struct defrag *)&c;
	c.max_trackers = 0;
	CHECK_EQ(defrag_create(&bad, &c, &ctrs), -EINVAL);
	CHECK(bad == NULL);
	defrag_destroy(NULL);
}

static void test_interleaved(void)
{
	cur_test = "interleaved same id";
	struct defrag_cfg c = base_cfg();
	struct defrag *d = mkd(&c);
	for (int v = 4; v <= 6; v += 2) {
		dg_make(&G, v, 17, 42, 3000, 1);
		dg_make(&H, v, 17, 42, 3000, 200);
		dg_addrs(&H, v, 11, 20);
		/* checksum over H's new source */
		w16(H.l4 + 6, 0);
		uint16_t s = fold(sum16(pseudo(&H, H.l4len), H.l4, H.l4len));
		w16(H.l4 + 6, s ? s : 0xffff);
		CHECK_EQ(feed(d, &G, 0, 1480, true, SEC), 0);
		CHECK_EQ(feed(d, &H, 1480, 1480, true, SEC), 0);
		CHECK_EQ(feed(d, &H, 0, 1480, true, SEC), 0);
		CHECK_EQ(feed(d, &G, 2960, G.l4len - 2960, false, SEC), 0);
		CHECK_EQ(defrag_live(d), 2);
		CHECK_EQ(feed(d, &H, 2960, H.l4len - 2960, false, SEC), 1);
		check_whole(&H);
		CHECK_EQ(feed(d, &G, 1480, 1480, true, SEC), 1);
		check_whole(&G);
	}
	CHECK_EQ(C(REASSEMBLED), 4);
	CHECK_EQ(C(OVERLAPS), 0);
	printf("memory: %zu bytes for %u trackers (%zu per tracker)\n", defrag_memory(d),
	       c.max_trackers, defrag_memory(d) / c.max_trackers);
	defrag_destroy(d);
}

int main(void)
{
	test_orders();
	test_duplicates();
	test_overlaps();
	test_timeout();
	test_bounds();
	test_invalid();
	test_interleaved();
	if (failures)
		printf("%d check(s) failed\n", failures);
	else
		printf("all defrag checks passed\n");
	return failures ? 1 : 0;
}
