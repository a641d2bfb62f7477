/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for TCP stream reassembly, checked against a model.
 *
 * Input: a sequence of ops { u8 op; u16 delta; u16 len (both big endian);
 * data }, on two long-lived small pools (first-wins: 24 chunks, max_segs 8,
 * depth 20000; last-wins: 16 chunks, max_segs 6, depth 0) with two
 * directions each.  op bits:
 *   0-1  0, 1: add a segment; 2: flush; 3: end the direction (fini) and
 *        start a new one with base 0xfffff000 + delta * 0x10001 (none at
 *        all when bits 4-5 are 3)
 *   2    direction, 3 pool
 *   4-5  segment sequence number: 0: base + delta; 1: next + delta - 32768;
 *        2: next + delta; 3: next + (delta >> 1) * 2^17 + (delta & 1), all
 *        of the sequence space (delta 0x4000/0x4001: 1 GiB ahead and one
 *        past; 0xc000: 1 GiB behind) (next: the direction's next expected
 *        sequence number)
 *   6    the data is the input's next len bytes (fewer if the input ends
 *        first), otherwise the bytes every honest copy of the stream carries
 *        (a fixed function of the offset)
 *   7    len as given, otherwise len & 0x7ff
 * Every direction ends each input flushed (until nothing is left) and
 * finished.
 *
 * Checked (abort() on failure): each delivery starts where the previous one
 * ended, or strictly later with the gap flag, and gaps happen only in a
 * flush or an add that hit a bound; nothing at or past the depth; every
 * delivered byte was sent at that offset, and is the one value sent there
 * when only one was; an add's return value is what it delivered and the
 * direction's offset where the deliveries ended; a segment at or before
 * the next expected byte is delivered through its end (up to the depth) by
 * its own add; a segment ahead delivers nothing unless a bound was hit;
 * chunks per direction within max_segs; pool memory held equals the chunks
 * the directions hold, and 0 once they are finished.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODEL (1u << 18)   /* offsets whose bytes are checked */
#define WORDS (MODEL / 64)
#define PERIOD 65521u      /* honest bytes repeat with this (prime) period */

/*
 * The model of one direction, per offset below MODEL: sent (some copy
 * arrived), lied (a copy other than the honest bytes arrived) and, where
 * lied, the value of the copies (cnt 1: all the same, val; 2: several).
 * The model's work is bulk (memcmp, word-wise bitmaps) and per byte only
 * for the input's own bytes: traced comparisons per byte would cost most
 * of the fuzzing time.
 */
struct fdir {
	struct stream_dir d;
	bool has_base;
	uint32_t base;
	uint32_t depth;
	uint64_t end;             /* where the last delivery ended */
	uint64_t call_total;      /* delivered during the current call */
	bool call_gap;            /* a delivery with gap during the current call */
	uint32_t model_hi;        /* the model is clear from here */
	uint64_t *sent, *lied;    /* WORDS each */
	uint8_t *val, *cnt;       /* MODEL each */
};

static struct ctr_block ctr;
static struct stream_pool *pools[2];
static const struct stream_cfg cfgs[2] = {
	{ .depth = 20000, .memcap = 24 * STREAM_CHUNK_SIZE, .max_segs = 8, .policy = STREAM_FIRST },
	{ .depth = 0, .memcap = 16 * STREAM_CHUNK_SIZE, .max_segs = 6, .policy = STREAM_LAST },
};
static struct fdir dirs[2][2];
static uint8_t honest_tbl[PERIOD + 65536];

static uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

/* The honest bytes from offset o on (at least 65536 of them). */
static const uint8_t *honest(int64_t o)
{
	return honest_tbl + ((o % PERIOD) + PERIOD) % PERIOD;
}

static uint64_t word_mask(uint32_t w, uint32_t lo, uint32_t hi)
{
	uint32_t a = w * 64 > lo ? 0 : lo - w * 64;
	uint32_t b = (w + 1) * 64 < hi ? 64 : hi - w * 64;
	uint64_t m = b == 64 ? ~(uint64_t)0 : ((uint64_t)1 << b) - 1;
	return m & ~(((uint64_t)1 << a) - 1);
}

static void bits_set(uint64_t *bm, uint32_t lo, uint32_t hi)
{
	for (uint32_t w = lo / 64; w * 64 < hi; w++)
		bm[w] |= word_mask(w, lo, hi);
}

/* Whether every bit (all) or any bit (!all) of [lo, hi) is set. */
static bool bits_test(const uint64_t *bm, uint32_t lo, uint32_t hi, bool all)
{
	for (uint32_t w = lo / 64; w * 64 < hi; w++) {
		uint64_t m = word_mask(w, lo, hi);
		if (all && (bm[w] & m) != m)
			return false;
		if (!all && (bm[w] & m) != 0)
			return true;
	}
	return all;
}

static bool bit(const uint64_t *bm, uint32_t o)
{
	return bm[o / 64] >> (o % 64) & 1;
}

/* [s, s + len) clipped to the model; false when nothing is left. */
static bool clip(int64_t s, uint64_t len, uint32_t *lo, uint32_t *hi)
{
	int64_t e = s + (int64_t)len;

	if (s < 0)
		s = 0;
	if (e > MODEL)
		e = MODEL;
	if (s >= e)
		return false;
	*lo = (uint32_t)s;
	*hi = (uint32_t)e;
	return true;
}

static void deliver(void *arg, const uint8_t *data, uint32_t len, uint64_t off, bool gap)
{
	struct fdir *f = arg;
	uint32_t lo, hi;

	if (len == 0 || (gap ? off <= f->end : off != f->end))
		abort();
	if (f->depth && off + len > f->depth)
		abort();
	if (off < MODEL && clip((int64_t)off, len, &lo, &hi)) {
		if (!bits_test(f->sent, lo, hi, true))
			abort();   /* never sent */
		if (!bits_test(f->lied, lo, hi, false)) {
			if (memcmp(data, honest(lo), hi - lo) != 0)
				abort();
		} else {
			for (uint32_t o = lo; o < hi; o++) {
				uint8_t b = data[o - lo];
				if (bit(f->lied, o) ? f->cnt[o] == 1 && f->val[o] != b : b != *honest(o))
					abort();
			}
		}
	}
	f->end = off + len;
	f->call_total += len;
	f->call_gap |= gap;
}

/* Honest bytes were sent at [s, s + len): lied offsets now have several
 * values where the liar's differed. */
static void sent_honest(struct fdir *f, int64_t s, uint32_t len)
{
	uint32_t lo, hi;

	if (!clip(s, len, &lo, &hi))
		return;
	for (uint32_t w = lo / 64; w * 64 < hi; w++) {
		uint64_t m = f->lied[w] & word_mask(w, lo, hi);
		while (m) {
			uint32_t o = w * 64 + (uint32_t)__builtin_ctzll(m);
			m &= m - 1;
			if (f->val[o] != *honest(o))
				f->cnt[o] = 2;
		}
	}
	bits_set(f->sent, lo, hi);
	if (hi > f->model_hi)
		f->model_hi = hi;
}

/* The input's bytes b were sent at [s, s + len). */
static void sent_bytes(struct fdir *f, int64_t s, const uint8_t *b, uint32_t len)
{
	uint32_t lo, hi;

	if (!clip(s, len, &lo, &hi))
		return;
	for (uint32_t o = lo; o < hi; o++) {
		uint8_t v = b[o - s];
		if (!bit(f->sent, o)) {
			f->lied[o / 64] |= (uint64_t)1 << (o % 64);
			f->val[o] = v;
			f->cnt[o] = 1;
		} else if (!bit(f->lied, o)) {
			if (v != *honest(o)) {
				f->lied[o / 64] |= (uint64_t)1 << (o % 64);
				f->cnt[o] = 2;
			}
		} else if (f->cnt[o] == 1 && f->val[o] != v) {
			f->cnt[o] = 2;
		}
	}
	bits_set(f->sent, lo, hi);
	if (hi > f->model_hi)
		f->model_hi = hi;
}

static void dir_start(struct fdir *f, bool with_base, uint32_t base)
{
	memset(f->sent, 0, (f->model_hi + 63) / 64 * 8);
	memset(f->lied, 0, (f->model_hi + 63) / 64 * 8);
	f->model_hi = 0;
	f->end = 0;
	f->has_base = with_base;
	f->base = base;
	stream_dir_init(&f->d);
	if (with_base)
		stream_dir_set_base(&f->d, base);
}

static void call_begin(struct fdir *f)
{
	f->call_total = 0;
	f->call_gap = false;
}

/* After every call: the return value, the offset and the pool's accounting. */
static void call_end(int k, struct fdir *f, uint32_t ret)
{
	if (ret != f->call_total || stream_dir_delivered(&f->d) != f->end)
		abort();
	if (stream_dir_chunks(&f->d) > cfgs[k].max_segs)
		abort();
	uint64_t chunks = (uint64_t)stream_dir_chunks(&dirs[k][0].d) + stream_dir_chunks(&dirs[k][1].d);
	if (stream_pool_held(pools[k]) != chunks * STREAM_CHUNK_SIZE ||
	    stream_pool_held(pools[k]) > cfgs[k].memcap)
		abort();
}

static void flush_all(int k, struct fdir *f)
{
	for (uint32_t n = 0;; n++) {
		if (n > cfgs[k].max_segs)
			abort();   /* each flush delivers at least one chunk */
		call_begin(f);
		uint32_t r = stream_dir_flush(pools[k], &f->d, deliver, f);
		call_end(k, f, r);
		if (r == 0)
			break;
	}
	if (stream_dir_chunks(&f->d) != 0)
		abort();
}

/* The segment's sequence number, from op bits 4-5. */
static uint32_t seg_seq(const struct fdir *f, uint8_t op, uint16_t delta)
{
	uint32_t next_seq = f->base + (uint32_t)stream_dir_delivered(&f->d);

	switch ((op >> 4) & 3) {
	case 0: return f->base + delta;
	case 1: return next_seq + delta - 32768u;
	case 2: return next_seq + delta;
	default: return next_seq + ((uint32_t)(delta >> 1) << 17) + (delta & 1u);
	}
}

/* The stream offset of seq as the reassembler sees it (negative: before the
 * base); false when it is more than STREAM_WINDOW away. */
static bool seg_off(const struct fdir *f, uint32_t seq, int64_t *s)
{
	int64_t next = (int64_t)stream_dir_delivered(&f->d);
	uint32_t ahead = seq - (f->base + (uint32_t)next);

	if (ahead <= STREAM_WINDOW)
		*s = next + ahead;
	else if (ahead >= 0u - STREAM_WINDOW)
		*s = next - (int64_t)(0u - ahead);
	else
		return false;
	return true;
}

static void add_seg(int k, struct fdir *f, uint32_t seq, const uint8_t *b, uint32_t len, bool liar)
{
	int64_t next = (int64_t)stream_dir_delivered(&f->d), s = 0;
	bool in_window = seg_off(f, seq, &s);
	int64_t e = s + len;
	bool done = f->depth && (uint64_t)next >= f->depth;

	if (f->has_base && in_window) {
		if (liar)
			sent_bytes(f, s, b, len);
		else
			sent_honest(f, s, len);
	}
	uint64_t bounds = ctr_read(&ctr, CTR_STREAM_MEMCAP) + ctr_read(&ctr, CTR_STREAM_SEG_LIMIT);
	call_begin(f);
	uint32_t r = stream_dir_add(pools[k], &f->d, seq, b, len, deliver, f);
	call_end(k, f, r);
	bool bound_hit = ctr_read(&ctr, CTR_STREAM_MEMCAP) + ctr_read(&ctr, CTR_STREAM_SEG_LIMIT) != bounds;

	if (f->call_gap && !bound_hit)
		abort();
	if (!f->has_base || !in_window || len == 0 || done) {
		if (r != 0 || bound_hit)
			abort();
		return;
	}
	if (s <= next && e > next) {
		/* in order: delivered through its end by this very call */
		uint64_t want = f->depth && (uint64_t)e > f->depth ? f->depth : (uint64_t)e;
		if (f->end < want || bound_hit)
			abort();
	} else if (s > next && r != 0 && !bound_hit) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t bases[2][2] = { { 0xfffffc00u, 0x7ffffff0u }, { 0, 0x12345678u } };

	if (!pools[0]) {
		for (uint32_t i = 0; i < sizeof(honest_tbl); i++) {
			uint32_t x = i % PERIOD;
			honest_tbl[i] = (uint8_t)(x * 131 + (x >> 8) * 7 + 1);
		}
		for (int k = 0; k < 2; k++) {
			if (stream_pool_create(&pools[k], &cfgs[k], &ctr) != 0)
				abort();
			for (int j = 0; j < 2; j++) {
				dirs[k][j].sent = calloc(WORDS, 8);
				dirs[k][j].lied = calloc(WORDS, 8);
				dirs[k][j].val = calloc(MODEL, 1);
				dirs[k][j].cnt = calloc(MODEL, 1);
				if (!dirs[k][j].sent || !dirs[k][j].lied || !dirs[k][j].val || !dirs[k][j].cnt)
					abort();
				dirs[k][j].depth = cfgs[k].depth;
			}
		}
	}
	for (int k = 0; k < 2; k++)
		for (int j = 0; j < 2; j++)
			dir_start(&dirs[k][j], true, bases[k][j]);

	while (size >= 5) {
		uint8_t op = data[0];
		uint16_t delta = rd16(data + 1);
		uint32_t len = rd16(data + 3);
		int k = (op >> 3) & 1;
		struct fdir *f = &dirs[k][(op >> 2) & 1];

		data += 5;
		size -= 5;
		if (!(op & 0x80))
			len &= 0x7ff;
		switch (op & 3) {
		case 0:
		case 1: {
			uint32_t seq = seg_seq(f, op, delta);
			bool liar = op & 0x40;
			int64_t o = 0;
			if (liar && len > size)
				len = (uint32_t)size;
			/* an exact-size copy: ASan catches any read past the segment */
			uint8_t *seg = malloc(len ? len : 1);
			if (!seg)
				return 0;
			if (liar) {
				memcpy(seg, data, len);
				data += len;
				size -= len;
			} else {
				seg_off(f, seq, &o);   /* out of the window: any bytes do */
				memcpy(seg, honest(o), len);
			}
			add_seg(k, f, seq, seg, len, liar);
			free(seg);
			break;
		}
		case 2:
			flush_all(k, f);
			break;
		default:
			flush_all(k, f);
			stream_dir_fini(pools[k], &f->d);
			dir_start(f, ((op >> 4) & 3) != 3, 0xfffff000u + (uint32_t)delta * 0x10001u);
			break;
		}
	}
	for (int k = 0; k < 2; k++) {
		for (int j = 0; j < 2; j++) {
			struct fdir *f = &dirs[k][j];
			flush_all(k, f);
			stream_dir_fini(pools[k], &f->d);
			stream_dir_fini(pools[k], &f->d);
		}
		if (stream_pool_held(pools[k]) != 0)
			abort();
	}
	return 0;
}
