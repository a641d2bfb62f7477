/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of TCP stream reassembly (dataplane/stream/stream.c).
 *
 * Segments are given by stream offset (sequence number = base + offset, so
 * the same cases run across the 32-bit wrap by changing the base).  A sink
 * records every delivery (offset, length, gap flag) and the delivered
 * bytes back to back, and checks as it goes that each delivery starts where
 * the previous one ended (or, with gap set, past it).  Each test asserts the
 * exact deliveries, the exact bytes, every counter of the block and that the
 * pool holds no chunk memory once the directions are finished.
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
#include "stream.h"

#include "check.h"
#include "check_ctr.h"

#define CAT_MAX (256 * 1024)
#define EV_MAX 4096

static struct ctr_block ctrs;

/* ---------------------------------------------------------------- sink */

struct ev {
	uint64_t off;
	uint32_t len;
	bool gap;
};

struct sink {
	uint8_t cat[CAT_MAX];     /* delivered bytes back to back */
	uint32_t catlen;
	struct ev ev[EV_MAX];
	unsigned nev;
	uint64_t end;             /* offset after the last delivery */
	bool keep;                /* false: only check and count (huge streams) */
};

static struct sink S;

static void sink_reset(void)
{
	S.catlen = 0;
	S.nev = 0;
	S.end = 0;
	S.keep = true;
}

static void sink_cb(void *arg, const uint8_t *data, uint32_t len, uint64_t off, bool gap)
{
	struct sink *s = arg;

	if (len == 0 || (gap ? off <= s->end : off != s->end)) {
		printf("FAIL [%s]: delivery at %llu (%u bytes, gap %d) after end %llu\n", cur_test,
		       (unsigned long long)off, len, gap, (unsigned long long)s->end);
		failures++;
	}
	s->end = off + len;
	if (!s->keep)
		return;
	if (s->nev < EV_MAX)
		s->ev[s->nev++] = (struct ev){ off, len, gap };
	if (s->catlen + len <= CAT_MAX) {
		memcpy(s->cat + s->catlen, data, len);
		s->catlen += len;
	}
}

static void expect_evs(int line, const struct ev *want, unsigned n)
{
	bool same = S.nev == n;

	for (unsigned i = 0; same && i < n; i++)
		same = S.ev[i].off == want[i].off && S.ev[i].len == want[i].len &&
		       S.ev[i].gap == want[i].gap;
	if (same)
		return;
	printf("FAIL %s:%d [%s]: deliveries (off,len,gap)\n    got: ", __FILE__, line, cur_test);
	for (unsigned i = 0; i < S.nev; i++)
		printf(" (%llu,%u,%d)", (unsigned long long)S.ev[i].off, S.ev[i].len, S.ev[i].gap);
	printf("\n    want:");
	for (unsigned i = 0; i < n; i++)
		printf(" (%llu,%u,%d)", (unsigned long long)want[i].off, want[i].len, want[i].gap);
	printf("\n");
	failures++;
}

#define EXPECT_EVS(...) \
	expect_evs(__LINE__, (const struct ev[]){ __VA_ARGS__ }, \
		   sizeof((const struct ev[]){ __VA_ARGS__ }) / sizeof(struct ev))

static void expect_cat(int line, const void *want, uint32_t n)
{
	if (S.catlen == n && memcmp(S.cat, want, n) == 0)
		return;
	printf("FAIL %s:%d [%s]: delivered bytes\n    got:  %u \"%.*s\"\n    want: %u \"%.*s\"\n",
	       __FILE__, line, cur_test, S.catlen, (int)(S.catlen < 80 ? S.catlen : 80), S.cat, n,
	       (int)(n < 80 ? n : 80), (const char *)want);
	failures++;
}

#define EXPECT_CAT(str) expect_cat(__LINE__, str, (uint32_t)strlen(str))

/* Exact counters: the (id, value) pairs given, every other counter 0. */
static void expect_ctrs(int line, const int *pairs)
{
	check_ctrs(__FILE__, line, &ctrs, NULL, pairs);
}

#define EXPECT_CTRS(...) expect_ctrs(__LINE__, (const int[]){ __VA_ARGS__, -1 })

/* ------------------------------------------------------------- fixture */

static struct stream_pool *P;
static struct stream_dir D, D2;
static uint32_t base;

static struct stream_cfg base_cfg(void)
{
	struct stream_cfg c = { .depth = 0, .memcap = 256 * STREAM_CHUNK_SIZE, .max_segs = 64,
				.policy = STREAM_FIRST };
	return c;
}

/* A fresh pool and directions D, D2 with base b; counters and sink cleared. */
static void setup(const struct stream_cfg *c, uint32_t b)
{
	memset(&ctrs, 0, sizeof(ctrs));
	sink_reset();
	if (stream_pool_create(&P, c, &ctrs) != 0) {
		printf("stream_pool_create failed\n");
		exit(1);
	}
	base = b;
	stream_dir_init(&D);
	stream_dir_init(&D2);
	stream_dir_set_base(&D, b);
	stream_dir_set_base(&D2, b);
}

/* Finish both directions: the pool must hold nothing afterwards. */
static void teardown(void)
{
	stream_dir_fini(P, &D);
	stream_dir_fini(P, &D2);
	CHECK_EQ(stream_pool_held(P), 0);
	stream_pool_destroy(P);
	P = NULL;
}

static uint32_t add_to(struct stream_dir *d, uint64_t off, const void *b, uint32_t len)
{
	return stream_dir_add(P, d, (uint32_t)(base + off), b, len, sink_cb, &S);
}

static uint32_t add(uint64_t off, const char *s)
{
	return add_to(&D, off, s, (uint32_t)strlen(s));
}

static uint32_t flush(void)
{
	return stream_dir_flush(P, &D, sink_cb, &S);
}

static uint8_t pat[200000];

static void make_pat(uint32_t seed)
{
	for (uint32_t i = 0; i < sizeof(pat); i++) {
		seed = seed * 1103515245u + 12345u;
		pat[i] = (uint8_t)('a' + (seed >> 16) % 26);
	}
}

/* --------------------------------------------------------------- tests */

static void test_in_order(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "in order";
	setup(&c, 1000);
	CHECK(stream_dir_has_base(&D));
	CHECK_EQ(add(0, "hello "), 6);
	CHECK_EQ(add(6, "world"), 5);
	EXPECT_EVS({ 0, 6, false }, { 6, 5, false });
	EXPECT_CAT("hello world");
	CHECK_EQ(stream_dir_delivered(&D), 11);
	CHECK_EQ(stream_dir_chunks(&D), 0);
	CHECK_EQ(stream_pool_held(P), 0);
	EXPECT_CTRS(CTR_STREAM_BYTES, 11);
	teardown();

	cur_test = "one byte per segment";
	setup(&c, 77);
	make_pat(1);
	for (uint32_t i = 0; i < 3000; i++)
		CHECK_EQ(add_to(&D, i, pat + i, 1), 1);
	CHECK_EQ(S.nev, 3000);
	expect_cat(__LINE__, pat, 3000);
	EXPECT_CTRS(CTR_STREAM_BYTES, 3000);
	teardown();
}

static void test_reverse(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "reverse";
	setup(&c, 5);
	make_pat(2);
	for (int k = 29; k >= 1; k--)
		CHECK_EQ(add_to(&D, (uint64_t)k * 100, pat + k * 100, 100), 0);
	CHECK_EQ(S.nev, 0);
	CHECK_EQ(stream_dir_chunks(&D), 29);   /* each lands before the previous: no top-up */
	CHECK_EQ(stream_pool_held(P), 29 * STREAM_CHUNK_SIZE);
	CHECK_EQ(add_to(&D, 0, pat, 100), 3000);
	CHECK_EQ(S.nev, 30);
	for (unsigned i = 0; i < S.nev; i++) {
		CHECK_EQ(S.ev[i].off, i * 100);
		CHECK_EQ(S.ev[i].len, 100);
	}
	expect_cat(__LINE__, pat, 3000);
	CHECK_EQ(stream_pool_held(P), 0);
	EXPECT_CTRS(CTR_STREAM_BYTES, 3000, CTR_STREAM_OOO, 29);
	teardown();

	cur_test = "one byte per segment, reverse";
	c.max_segs = 1000;
	c.memcap = 1000 * STREAM_CHUNK_SIZE;
	setup(&c, 5);
	for (int k = 499; k >= 0; k--)
		CHECK_EQ(add_to(&D, (uint64_t)k, pat + k, 1), k ? 0 : 500);
	expect_cat(__LINE__, pat, 500);
	EXPECT_CTRS(CTR_STREAM_BYTES, 500, CTR_STREAM_OOO, 499);
	teardown();
}

/*
 * Cut pat[0, n) into segments of 1..maxlen bytes, shuffle them (seeded),
 * feed them; the stream must be pat and each counter what a byte map model
 * predicts: a segment is out of order iff it starts past the bytes
 * contiguous so far (segments are disjoint, so no overlaps).
 */
static void run_permutation(uint32_t seed, uint32_t n, uint32_t maxlen)
{
	static uint32_t so[20000], sl[20000], order[20000];
	static bool have[200000];
	uint32_t nseg = 0, r = seed, ooo = 0, next = 0;
	struct stream_cfg c = base_cfg();

	c.max_segs = STREAM_MAX_SEGS;
	c.memcap = 20000ull * STREAM_CHUNK_SIZE;
	setup(&c, seed * 2654435761u);   /* bases all over the sequence space */
	make_pat(seed);
	for (uint32_t off = 0; off < n; nseg++) {
		r = r * 1103515245u + 12345u;
		uint32_t len = 1 + (r >> 8) % maxlen;
		if (len > n - off)
			len = n - off;
		so[nseg] = off;
		sl[nseg] = len;
		order[nseg] = nseg;
		off += len;
	}
	for (uint32_t i = nseg - 1; i > 0; i--) {
		r = r * 1103515245u + 12345u;
		uint32_t j = (r >> 8) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	memset(have, 0, n);
	for (uint32_t k = 0; k < nseg; k++) {
		uint32_t i = order[k];
		uint32_t before = next;
		if (so[i] > next)
			ooo++;
		memset(have + so[i], 1, sl[i]);
		while (next < n && have[next])
			next++;
		CHECK_EQ(add_to(&D, so[i], pat + so[i], sl[i]), next - before);
	}
	expect_cat(__LINE__, pat, n);
	CHECK_EQ(stream_dir_delivered(&D), n);
	EXPECT_CTRS(CTR_STREAM_BYTES, (int)n, CTR_STREAM_OOO, (int)ooo);
	teardown();
}

static void test_permutations(void)
{
	static const uint32_t maxlens[] = { 1, 3, 17, 600, 3000, 9000 };
	char name[64];

	for (unsigned m = 0; m < sizeof(maxlens) / sizeof(maxlens[0]); m++)
		for (uint32_t seed = 1; seed <= 4; seed++) {
			snprintf(name, sizeof(name), "permutation 1..%u bytes, seed %u", maxlens[m], seed);
			cur_test = name;
			run_permutation(seed, maxlens[m] < 100 ? 5000 : 100000, maxlens[m]);
		}
}

static void test_retransmission(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "retransmission";
	setup(&c, 0);
	CHECK_EQ(add(0, "abcdef"), 6);
	CHECK_EQ(add(0, "abcdef"), 0);         /* same bytes */
	CHECK_EQ(add(2, "XY"), 0);             /* different bytes: not compared */
	CHECK_EQ(add(4, "efghij"), 4);         /* half old, half new */
	EXPECT_EVS({ 0, 6, false }, { 6, 4, false });
	EXPECT_CAT("abcdefghij");
	EXPECT_CTRS(CTR_STREAM_BYTES, 10, CTR_STREAM_OVERLAP, 3);

	cur_test = "data before the base";
	CHECK_EQ(stream_dir_add(P, &D, base - 5, (const uint8_t *)"12345", 5, sink_cb, &S), 0);
	CHECK_EQ(stream_dir_add(P, &D, base - 2, (const uint8_t *)"..abcdefghijKL", 14, sink_cb, &S), 2);
	EXPECT_CAT("abcdefghijKL");
	EXPECT_CTRS(CTR_STREAM_BYTES, 12, CTR_STREAM_OVERLAP, 5);
	teardown();
}

/* Buffered "XXXX" at 10; "yyyyyyyy" at 8 over it; then the hole is filled. */
static void overlap_ahead(enum stream_policy pol, const char *want)
{
	struct stream_cfg c = base_cfg();

	c.policy = pol;
	setup(&c, 0xfffffff0u);
	CHECK_EQ(add(10, "XXXX"), 0);
	CHECK_EQ(add(8, "yyyyyyyy"), 0);
	CHECK_EQ(stream_dir_chunks(&D), 2);   /* [8,10) new; [10,16) topped up */
	CHECK_EQ(add(0, "01234567"), 16);
	EXPECT_EVS({ 0, 8, false }, { 8, 2, false }, { 10, 6, false });
	EXPECT_CAT(want);
	EXPECT_CTRS(CTR_STREAM_BYTES, 16, CTR_STREAM_OOO, 2, CTR_STREAM_OVERLAP, 1,
		    CTR_STREAM_OVERLAP_DIFF, 1);
	teardown();
}

/* Buffered "XXXX" at 4; the in-order segment "yyyyyyyyyy" at 0 runs over it. */
static void overlap_in_order(enum stream_policy pol, const char *want)
{
	struct stream_cfg c = base_cfg();

	c.policy = pol;
	setup(&c, 100);
	CHECK_EQ(add(4, "XXXX"), 0);
	CHECK_EQ(add(0, "yyyyyyyyyy"), 10);
	EXPECT_EVS({ 0, 4, false }, { 4, 4, false }, { 8, 2, false });
	EXPECT_CAT(want);
	EXPECT_CTRS(CTR_STREAM_BYTES, 10, CTR_STREAM_OOO, 1, CTR_STREAM_OVERLAP, 1,
		    CTR_STREAM_OVERLAP_DIFF, 1);
	teardown();
}

/* "AAAA" at 10, "BBBB" at 20, "CCCC" at 30; 20 'z' at 12 span all three. */
static void overlap_span(enum stream_policy pol, const char *want)
{
	struct stream_cfg c = base_cfg();

	c.policy = pol;
	setup(&c, 0);
	CHECK_EQ(add(10, "AAAA"), 0);
	CHECK_EQ(add(20, "BBBB"), 0);
	CHECK_EQ(add(30, "CCCC"), 0);
	CHECK_EQ(add(12, "zzzzzzzzzzzzzzzzzzzz"), 0);
	CHECK_EQ(stream_dir_chunks(&D), 3);   /* the holes topped up A and B */
	CHECK_EQ(add(0, "0123456789"), 34);
	EXPECT_EVS({ 0, 10, false }, { 10, 10, false }, { 20, 10, false }, { 30, 4, false });
	EXPECT_CAT(want);
	EXPECT_CTRS(CTR_STREAM_BYTES, 34, CTR_STREAM_OOO, 4, CTR_STREAM_OVERLAP, 1,
		    CTR_STREAM_OVERLAP_DIFF, 1);
	teardown();
}

static void test_overlaps(void)
{
	cur_test = "overlap ahead, first";
	overlap_ahead(STREAM_FIRST, "01234567yyXXXXyy");
	cur_test = "overlap ahead, last";
	overlap_ahead(STREAM_LAST, "01234567yyyyyyyy");
	cur_test = "overlap in order, first";
	overlap_in_order(STREAM_FIRST, "yyyyXXXXyy");
	cur_test = "overlap in order, last";
	overlap_in_order(STREAM_LAST, "yyyyyyyyyy");
	cur_test = "overlap spanning, first";
	overlap_span(STREAM_FIRST, "0123456789AAAAzzzzzzBBBBzzzzzzCCCC");
	cur_test = "overlap spanning, last";
	overlap_span(STREAM_LAST, "0123456789AAzzzzzzzzzzzzzzzzzzzzCC");

	struct stream_cfg c = base_cfg();
	for (int pol = 0; pol < 2; pol++) {
		cur_test = pol ? "overlap last buffered byte, last" : "overlap last buffered byte, first";
		c.policy = pol ? STREAM_LAST : STREAM_FIRST;
		setup(&c, 0);
		CHECK_EQ(add(10, "abc"), 0);
		CHECK_EQ(add(12, "Cde"), 0);
		CHECK_EQ(stream_dir_chunks(&D), 1);   /* compared, then topped up */
		CHECK_EQ(add(0, "0123456789"), 15);
		EXPECT_EVS({ 0, 10, false }, { 10, 5, false });
		EXPECT_CAT(pol ? "0123456789abCde" : "0123456789abcde");
		EXPECT_CTRS(CTR_STREAM_BYTES, 15, CTR_STREAM_OOO, 2, CTR_STREAM_OVERLAP, 1,
			    CTR_STREAM_OVERLAP_DIFF, 1);
		teardown();
	}

	cur_test = "overlap same bytes";
	c = base_cfg();
	setup(&c, 9);
	CHECK_EQ(add(5, "fghij"), 0);
	CHECK_EQ(add(7, "hij"), 0);            /* wholly buffered already: not out of order */
	CHECK_EQ(add(3, "defgh"), 0);
	CHECK_EQ(add(0, "abcdefg"), 10);
	EXPECT_CAT("abcdefghij");
	EXPECT_CTRS(CTR_STREAM_BYTES, 10, CTR_STREAM_OOO, 2, CTR_STREAM_OVERLAP, 3);
	teardown();
}

static void test_gap_flush(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "gap then flush";
	setup(&c, 4000000000u);
	CHECK_EQ(add(0, "01234"), 5);
	CHECK_EQ(add(10, "ABCDE"), 0);
	CHECK_EQ(add(15, "FGHIJ"), 0);
	CHECK_EQ(stream_dir_chunks(&D), 1);   /* appended to the same chunk */
	CHECK_EQ(add(30, "vwxyz"), 0);
	CHECK_EQ(add(40, "VWXYZ"), 0);
	CHECK_EQ(flush(), 10);
	CHECK_EQ(stream_dir_delivered(&D), 20);
	CHECK_EQ(add(5, "late!"), 0);          /* the stepped-over bytes, too late */
	CHECK_EQ(add(20, "klmno"), 5);
	CHECK_EQ(flush(), 5);
	CHECK_EQ(flush(), 5);
	CHECK_EQ(flush(), 0);                  /* nothing buffered: no gap */
	CHECK_EQ(add(45, "!"), 1);
	EXPECT_EVS({ 0, 5, false }, { 10, 10, true }, { 20, 5, false }, { 30, 5, true },
		   { 40, 5, true }, { 45, 1, false });
	EXPECT_CAT("01234ABCDEFGHIJklmnovwxyzVWXYZ!");
	EXPECT_CTRS(CTR_STREAM_BYTES, 31, CTR_STREAM_OOO, 4, CTR_STREAM_GAP, 3, CTR_STREAM_OVERLAP, 1);
	teardown();

	cur_test = "flush on a new direction";
	setup(&c, 1);
	CHECK_EQ(flush(), 0);
	stream_dir_init(&D2);
	CHECK(!stream_dir_has_base(&D2));
	CHECK_EQ(add_to(&D2, 0, "abc", 3), 0);   /* no base: ignored */
	CHECK_EQ(stream_dir_add(P, &D, base, (const uint8_t *)"x", 0, sink_cb, &S), 0);
	EXPECT_CTRS(-1, 0);
	teardown();
}

static void test_wraparound(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "wraparound";
	setup(&c, 0xfffffff0u);
	CHECK_EQ(stream_dir_add(P, &D, 0xfffffff0u, (const uint8_t *)"AAAAAAAA", 8, sink_cb, &S), 8);
	CHECK_EQ(stream_dir_add(P, &D, 0x00000008u, (const uint8_t *)"CCCCCCCCCCCCCCCC", 16, sink_cb,
				&S), 0);
	CHECK_EQ(stream_dir_add(P, &D, 0xfffffff8u, (const uint8_t *)"BBBBBBBBBBBBBBBB", 16, sink_cb,
				&S), 32);
	CHECK_EQ(stream_dir_add(P, &D, 0xfffffff0u, (const uint8_t *)"AAAAAAAA", 8, sink_cb, &S), 0);
	CHECK_EQ(stream_dir_add(P, &D, 0x00000018u, (const uint8_t *)"D", 1, sink_cb, &S), 1);
	EXPECT_EVS({ 0, 8, false }, { 8, 16, false }, { 24, 16, false }, { 40, 1, false });
	EXPECT_CAT("AAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCD");
	EXPECT_CTRS(CTR_STREAM_BYTES, 41, CTR_STREAM_OOO, 1, CTR_STREAM_OVERLAP, 1);
	teardown();
}

static uint8_t big[65536];

/* Offsets are 64-bit: past 4 GiB the sequence numbers have wrapped twice. */
static void test_past_4g(void)
{
	struct stream_cfg c = base_cfg();
	uint64_t off = 0;

	cur_test = "offsets past 4 GiB";
	setup(&c, 0x7fffffffu);
	S.keep = false;
	for (int i = 0; i < 65537; i++) {
		CHECK_EQ(add_to(&D, off, big, sizeof(big)), sizeof(big));
		off += sizeof(big);
	}
	CHECK_EQ(stream_dir_delivered(&D), 65537ull * 65536);
	S.keep = true;
	CHECK_EQ(add(off + 3, "def"), 0);
	CHECK_EQ(add(off, "abc"), 6);
	EXPECT_EVS({ off, 3, false }, { off + 3, 3, false });
	EXPECT_CAT("abcdef");
	CHECK_EQ(ctr_read(&ctrs, CTR_STREAM_BYTES), off + 6);
	CHECK_EQ(ctr_read(&ctrs, CTR_STREAM_OOO), 1);
	teardown();
}

static void test_window(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "window";
	setup(&c, 0x80000000u);
	CHECK_EQ(add(0, "0123456789"), 10);
	/* more than 1 GiB either side: ignored, counted nowhere */
	CHECK_EQ(add(10 + STREAM_WINDOW + 1ull, "far"), 0);
	CHECK_EQ(stream_dir_add(P, &D, base + 10 - STREAM_WINDOW - 1, (const uint8_t *)"old", 3,
				sink_cb, &S), 0);
	EXPECT_CTRS(CTR_STREAM_BYTES, 10);
	/* exactly 1 GiB: taken (buffered ahead, a retransmission behind) */
	CHECK_EQ(add(10 + STREAM_WINDOW, "far"), 0);
	CHECK_EQ(stream_dir_chunks(&D), 1);
	CHECK_EQ(stream_dir_add(P, &D, base + 10 - STREAM_WINDOW, (const uint8_t *)"old", 3, sink_cb,
				&S), 0);
	EXPECT_CTRS(CTR_STREAM_BYTES, 10, CTR_STREAM_OOO, 1, CTR_STREAM_OVERLAP, 1);
	teardown();
}

static void test_depth(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "depth truncation";
	c.depth = 100;
	setup(&c, 12345);
	make_pat(3);
	CHECK_EQ(add_to(&D, 0, pat, 30), 30);
	CHECK_EQ(add_to(&D, 150, pat + 150, 10), 0);   /* past depth: not buffered */
	CHECK_EQ(add_to(&D, 90, pat + 90, 3000), 0);   /* kept up to 100: one chunk */
	CHECK_EQ(stream_dir_chunks(&D), 1);
	CHECK_EQ(stream_pool_held(P), STREAM_CHUNK_SIZE);
	CHECK_EQ(add_to(&D, 30, pat + 30, 70), 70);
	CHECK_EQ(stream_dir_delivered(&D), 100);
	CHECK_EQ(ctr_read(&ctrs, CTR_STREAM_DEPTH), 1);   /* on reaching it, not on the next byte */
	CHECK_EQ(stream_pool_held(P), 0);
	CHECK_EQ(add_to(&D, 100, pat + 100, 50), 0);   /* done */
	CHECK_EQ(add_to(&D, 0, pat, 10), 0);           /* done: not even an overlap */
	CHECK_EQ(flush(), 0);
	EXPECT_EVS({ 0, 30, false }, { 30, 60, false }, { 90, 10, false });
	expect_cat(__LINE__, pat, 100);
	EXPECT_CTRS(CTR_STREAM_BYTES, 100, CTR_STREAM_OOO, 1, CTR_STREAM_OVERLAP, 1,
		    CTR_STREAM_DEPTH, 1);

	cur_test = "depth cut inside one segment";
	sink_reset();
	CHECK_EQ(add_to(&D2, 0, pat, 60), 60);
	CHECK_EQ(add_to(&D2, 60, pat + 60, 60), 40);
	EXPECT_EVS({ 0, 60, false }, { 60, 40, false });
	expect_cat(__LINE__, pat, 100);
	EXPECT_CTRS(CTR_STREAM_BYTES, 200, CTR_STREAM_OOO, 1, CTR_STREAM_OVERLAP, 1,
		    CTR_STREAM_DEPTH, 2);
	teardown();

	cur_test = "depth counts offsets, gaps included";
	setup(&c, 0);
	CHECK_EQ(add_to(&D, 0, pat, 10), 10);
	CHECK_EQ(add_to(&D, 50, pat + 50, 10), 0);
	CHECK_EQ(flush(), 10);
	CHECK_EQ(add_to(&D, 60, pat + 60, 140), 40);
	EXPECT_EVS({ 0, 10, false }, { 50, 10, true }, { 60, 40, false });
	EXPECT_CTRS(CTR_STREAM_BYTES, 60, CTR_STREAM_OOO, 1, CTR_STREAM_GAP, 1, CTR_STREAM_DEPTH, 1);
	teardown();
}

static void test_memcap(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "memcap";
	c.memcap = 4 * STREAM_CHUNK_SIZE + STREAM_CHUNK_SIZE - 1;   /* 4 chunks */
	setup(&c, 0);
	make_pat(4);
	for (uint64_t off = 1000; off <= 7000; off += 2000)
		CHECK_EQ(add_to(&D, off, pat + off, 100), 0);
	CHECK_EQ(stream_pool_held(P), 4 * STREAM_CHUNK_SIZE);
	/* D2 holds nothing: its segment is dropped, nothing to flush */
	CHECK_EQ(add_to(&D2, 500, pat + 500, 100), 0);
	CHECK_EQ(stream_dir_chunks(&D2), 0);
	/* in order needs no memory */
	CHECK_EQ(add_to(&D2, 0, pat, 100), 100);
	EXPECT_EVS({ 0, 100, false });
	EXPECT_CTRS(CTR_STREAM_BYTES, 100, CTR_STREAM_OOO, 4, CTR_STREAM_MEMCAP, 1);
	/* D holds data: the hole [0, 1000) is stepped over to make room */
	sink_reset();
	CHECK_EQ(add_to(&D, 9000, pat + 9000, 100), 100);
	EXPECT_EVS({ 1000, 100, true });
	CHECK_EQ(stream_dir_chunks(&D), 4);   /* 3000, 5000, 7000, 9000 */
	EXPECT_CTRS(CTR_STREAM_BYTES, 200, CTR_STREAM_OOO, 5, CTR_STREAM_MEMCAP, 2, CTR_STREAM_GAP, 1);
	/* too big even after the flush (3 chunks, 1 free): dropped */
	CHECK_EQ(add_to(&D, 20000, pat + 20000, 5000), 100);
	CHECK_EQ(stream_dir_chunks(&D), 3);
	CHECK_EQ(stream_pool_held(P), 3 * STREAM_CHUNK_SIZE);
	/* later flushes deliver around the holes */
	while (flush())
		;
	EXPECT_EVS({ 1000, 100, true }, { 3000, 100, true }, { 5000, 100, true }, { 7000, 100, true },
		   { 9000, 100, true });
	CHECK_EQ(stream_dir_delivered(&D), 9100);
	EXPECT_CTRS(CTR_STREAM_BYTES, 600, CTR_STREAM_OOO, 5, CTR_STREAM_MEMCAP, 3, CTR_STREAM_GAP, 5);
	teardown();

	cur_test = "memcap 0";
	c.memcap = STREAM_CHUNK_SIZE - 1;
	setup(&c, 0);
	CHECK_EQ(add(1, "b"), 0);
	CHECK_EQ(add(0, "a"), 1);
	CHECK_EQ(flush(), 0);
	EXPECT_CAT("a");
	EXPECT_CTRS(CTR_STREAM_BYTES, 1, CTR_STREAM_MEMCAP, 1);
	teardown();

	cur_test = "memory released at fini";
	c = base_cfg();
	c.memcap = 8 * STREAM_CHUNK_SIZE;
	setup(&c, 0);
	CHECK_EQ(add_to(&D, 10, pat, 5000), 0);       /* 3 chunks */
	CHECK_EQ(add_to(&D2, 10, pat, 9000), 0);      /* 5 chunks */
	CHECK_EQ(stream_pool_held(P), 8 * STREAM_CHUNK_SIZE);
	stream_dir_fini(P, &D);
	CHECK_EQ(stream_pool_held(P), 5 * STREAM_CHUNK_SIZE);
	stream_dir_fini(P, &D);
	CHECK_EQ(stream_pool_held(P), 5 * STREAM_CHUNK_SIZE);
	CHECK_EQ(add_to(&D, 10, pat, 6000), 0);       /* the freed chunks serve again */
	CHECK_EQ(stream_dir_chunks(&D), 3);
	EXPECT_CTRS(CTR_STREAM_OOO, 3);
	teardown();
}

static void test_max_segs(void)
{
	struct stream_cfg c = base_cfg();

	cur_test = "max_segs";
	c.max_segs = 2;
	setup(&c, 0);
	CHECK_EQ(add(10, "AA"), 0);
	CHECK_EQ(add(20, "BB"), 0);
	CHECK_EQ(add(12, "aa"), 0);            /* appended: still 2 chunks */
	CHECK_EQ(stream_dir_chunks(&D), 2);
	CHECK_EQ(add(30, "CC"), 4);            /* limit: [0,10) stepped over, then buffered */
	CHECK_EQ(stream_dir_chunks(&D), 2);
	CHECK_EQ(add(14, "xyz"), 3);           /* in order again */
	CHECK_EQ(add(17, "www"), 5);
	CHECK_EQ(add(22, "dddddddd"), 10);
	EXPECT_EVS({ 10, 4, true }, { 14, 3, false }, { 17, 3, false }, { 20, 2, false },
		   { 22, 8, false }, { 30, 2, false });
	EXPECT_CAT("AAaaxyzwwwBBddddddddCC");
	EXPECT_CTRS(CTR_STREAM_BYTES, 22, CTR_STREAM_OOO, 4, CTR_STREAM_SEG_LIMIT, 1, CTR_STREAM_GAP, 1);
	/* a segment needing more chunks than a direction may ever hold */
	sink_reset();
	CHECK_EQ(add_to(&D, 100, pat, 3 * STREAM_CHUNK_DATA), 0);
	CHECK_EQ(stream_dir_chunks(&D), 0);
	CHECK_EQ(add_to(&D, 100, pat, 2 * STREAM_CHUNK_DATA), 0);
	CHECK_EQ(stream_dir_chunks(&D), 2);
	EXPECT_CTRS(CTR_STREAM_BYTES, 22, CTR_STREAM_OOO, 5, CTR_STREAM_SEG_LIMIT, 2, CTR_STREAM_GAP, 1);
	teardown();
}

static void test_big_segments(void)
{
	struct stream_cfg c = base_cfg();
	uint32_t a = STREAM_CHUNK_DATA * 2 + 904;    /* 5000: three chunks */

	for (int pol = 0; pol < 2; pol++) {
		cur_test = pol ? "segments larger than a chunk, last" : "segments larger than a chunk, first";
		c.policy = pol ? STREAM_LAST : STREAM_FIRST;
		setup(&c, 0xffff0000u);
		make_pat(5);
		static uint8_t x[8000], want[12000];
		memset(x, 'X', sizeof(x));
		CHECK_EQ(add_to(&D, 1000, pat + 1000, a), 0);
		CHECK_EQ(stream_dir_chunks(&D), 3);
		CHECK_EQ(add_to(&D, 6000, pat + 6000, 100), 0);      /* tops up the third */
		CHECK_EQ(stream_dir_chunks(&D), 3);
		/* X over [3000, 8000): across chunk boundaries and 1900 bytes past the
		 * end: 1044 top up the third chunk, 856 take a fourth */
		CHECK_EQ(add_to(&D, 3000, x, 5000), 0);
		CHECK_EQ(stream_dir_chunks(&D), 4);
		CHECK_EQ(add_to(&D, 0, pat, 1000), 8000);
		memcpy(want, pat, 8000);
		memset(want + (pol ? 3000 : 6100), 'X', pol ? 5000 : 1900);
		expect_cat(__LINE__, want, 8000);
		EXPECT_EVS({ 0, 1000, false }, { 1000, 2048, false }, { 3048, 2048, false },
			   { 5096, 2048, false }, { 7144, 856, false });
		EXPECT_CTRS(CTR_STREAM_BYTES, 8000, CTR_STREAM_OOO, 3, CTR_STREAM_OVERLAP, 1,
			    CTR_STREAM_OVERLAP_DIFF, 1);
		teardown();
	}
}

static void test_cfg(void)
{
	struct stream_cfg c = base_cfg();
	struct stream_pool *p = (struct stream_pool *)&c;

	cur_test = "bad cfg";
	c.max_segs = 0;
	CHECK_EQ(stream_pool_create(&p, &c, &ctrs), -EINVAL);
	CHECK(p == NULL);
	c.max_segs = STREAM_MAX_SEGS + 1;
	CHECK_EQ(stream_pool_create(&p, &c, &ctrs), -EINVAL);
	c = base_cfg();
	c.policy = (enum stream_policy)7;
	CHECK_EQ(stream_pool_create(&p, &c, &ctrs), -EINVAL);
	c = base_cfg();
	c.memcap = (uint64_t)UINT32_MAX * STREAM_CHUNK_SIZE;
	CHECK_EQ(stream_pool_create(&p, &c, &ctrs), -EINVAL);
	CHECK_EQ(stream_pool_create(&p, NULL, &ctrs), -EINVAL);
	c = base_cfg();
	CHECK_EQ(stream_pool_create(&p, &c, NULL), -EINVAL);
	stream_pool_destroy(NULL);

	cur_test = "memory";
	CHECK_EQ(stream_pool_create(&p, &c, &ctrs), 0);
	CHECK(stream_pool_memory(p) >= 256 * (size_t)STREAM_CHUNK_SIZE);
	CHECK_EQ(stream_pool_held(p), 0);
	printf("memory: %zu bytes for %llu chunks; stream_dir %zu bytes\n", stream_pool_memory(p),
	       (unsigned long long)(c.memcap / STREAM_CHUNK_SIZE), sizeof(struct stream_dir));
	stream_pool_destroy(p);
}

int main(void)
{
	test_in_order();
	test_reverse();
	test_permutations();
	test_retransmission();
	test_overlaps();
	test_gap_flush();
	test_wraparound();
	test_past_4g();
	test_window();
	test_depth();
	test_memcap();
	test_max_segs();
	test_big_segments();
	test_cfg();
	if (failures)
		printf("%d check(s) failed\n", failures);
	else
		printf("all stream checks passed\n");
	return failures ? 1 : 0;
}
