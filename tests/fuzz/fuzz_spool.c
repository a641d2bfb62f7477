/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the alert spool's recovery and reader
 * (dataplane/ship/spool.c): segment, ack and seq files come from disk, so
 * they are outside input.
 *
 * Input: u8 ctl, then
 *   if ctl & 0x01: 28 bytes for the "ack" file; with ctl & 0x40 they are
 *                  rebuilt into a well-formed one (magic, version, crc) whose
 *                  segment is byte 8 % 4 and offset the u64 at bytes 16-23,
 *                  so the position itself is fuzzed;
 *   if ctl & 0x02: 20 bytes for the "seq" file (ctl & 0x80: made well-formed,
 *                  value from bytes 8-15);
 *   if ctl & 0x04: u16 (LE) n: the next n bytes are segment 1's body and the
 *                  rest segment 2's (segment 1 is then a closed segment, read
 *                  lazily; segment 2 is the last one, recovered at open);
 *                  otherwise the rest is segment 1's body;
 *   bodies get a valid 16-byte segment header prepended unless ctl & 0x08;
 *   ctl bits 4-5 pick the records per read: 1, 7, 64 or all.
 * The files are written to a fresh directory, the spool is opened (no
 * fsync); when the input's length is odd, three records are appended right
 * away (they must then be the last three read).  Everything is read and
 * acked in batches (each record copied to a heap buffer of exactly its
 * length, so ASan catches an over-read), then three records are appended
 * and must read back exactly, also after a reopen; ids from spool_seq_take
 * must increase.  Any broken invariant aborts.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[256];

static void put_le(uint8_t *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static void write_file(const char *dir, const char *name, const uint8_t *hdr, size_t hlen,
		       const uint8_t *p, size_t n)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		abort();
	if ((hlen && fwrite(hdr, 1, hlen, f) != hlen) || (n && fwrite(p, 1, n, f) != n))
		abort();
	fclose(f);
}

static void write_seg(const char *dir, uint64_t seq, bool raw, const uint8_t *p, size_t n)
{
	uint8_t h[SPOOL_SEG_HDR];
	char name[64];

	put_le(h, SPOOL_SEG_MAGIC, 4);
	put_le(h + 4, SPOOL_VERSION | SPOOL_SEG_HDR << 16, 4);
	put_le(h + 8, seq, 8);
	snprintf(name, sizeof(name), "seg-%016llu.spool", (unsigned long long)seq);
	write_file(dir, name, h, raw ? 0 : sizeof(h), p, n);
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[600];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void rm_base(void)
{
	rmdir(base);
}

static void check_rec(const struct spool_rec *r)
{
	if (r->len == 0 || r->len > SPOOL_REC_MAX || r->p[r->len] != '\0')
		abort();
	char *copy = malloc(r->len);
	if (!copy)
		return;
	memcpy(copy, r->p, r->len);
	volatile uint8_t sum = 0;
	for (uint32_t i = 0; i < r->len; i++)
		sum ^= (uint8_t)copy[i];
	(void)sum;
	free(copy);
}

static struct spool *open_sp(const char *dir)
{
	struct spool_cfg c = { .dir = dir, .max_bytes = 4 * SPOOL_SEG_MIN, .seg_bytes = SPOOL_SEG_MIN,
			       .seq_lease = 4, .nosync = true };
	struct spool *sp = NULL;

	return spool_open(&sp, &c) == 0 ? sp : NULL;
}

static const char *const mine[3] = { "{\"id\":\"f:1\"}", "{\"id\":\"f:2\",\"x\":[1,2,3]}", "{}" };

/* The next read returns exactly our three records, in order. */
static void expect_mine(struct spool *sp, struct spool_batch *b)
{
	int r = spool_read(sp, 100, SIZE_MAX, b);

	if (r != 3)
		abort();
	for (int i = 0; i < 3; i++)
		if (b->recs[i].len != strlen(mine[i]) || memcmp(b->recs[i].p, mine[i], b->recs[i].len) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t per_read[4] = { 1, 7, 64, SIZE_MAX };
	static unsigned serial;
	char dir[300];
	struct spool *sp;
	struct spool_batch b;
	uint8_t ctl;

	if (!base[0]) {
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		snprintf(base, sizeof(base), "%s/fuzz_spool.XXXXXX", tmp);
		if (!mkdtemp(base))
			abort();
		atexit(rm_base);
	}
	if (size < 1)
		return 0;
	ctl = data[0];
	data++, size--;
	snprintf(dir, sizeof(dir), "%s/%u", base, serial++);
	if (mkdir(dir, 0700) != 0)
		abort();

	if (ctl & 0x01) {
		uint8_t a[28] = { 0 };
		size_t n = size < 28 ? size : 28;
		memcpy(a, data, n);
		data += n, size -= n;
		if (ctl & 0x40) {
			uint64_t seg = a[8] % 4, off = 0;
			for (int i = 0; i < 8; i++)
				off |= (uint64_t)a[16 + i] << (8 * i);
			put_le(a, 0x4b434156u, 4);
			put_le(a + 4, SPOOL_VERSION, 4);
			put_le(a + 8, seg, 8);
			put_le(a + 16, off, 8);
			put_le(a + 24, spool_crc32c(0, a, 24), 4);
		}
		write_file(dir, "ack", NULL, 0, a, n == 28 ? 28 : n);
	}
	if (ctl & 0x02) {
		uint8_t s[20] = { 0 };
		size_t n = size < 20 ? size : 20;
		memcpy(s, data, n);
		data += n, size -= n;
		if (ctl & 0x80) {
			put_le(s, 0x51455356u, 4);
			put_le(s + 4, SPOOL_VERSION, 4);
			put_le(s + 16, spool_crc32c(0, s, 16), 4);
			n = 20;
		}
		write_file(dir, "seq", NULL, 0, s, n);
	}
	bool raw = ctl & 0x08;
	if ((ctl & 0x04) && size >= 2) {
		size_t n = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2, size -= 2;
		if (n > size)
			n = size;
		write_seg(dir, 1, raw, data, n);
		write_seg(dir, 2, raw, data + n, size - n);
	} else {
		write_seg(dir, 1, raw, data, size);
	}

	sp = open_sp(dir);
	if (!sp)
		abort();   /* damaged files are recovered from, never refused */
	spool_batch_init(&b);
	struct spool_rec recs[3];
	for (int i = 0; i < 3; i++)
		recs[i] = (struct spool_rec){ mine[i], (uint32_t)strlen(mine[i]) };
	size_t early = (size & 1) ? spool_append_batch(sp, recs, 3) : 0;
	size_t max_n = per_read[(ctl >> 4) & 3];
	unsigned last3 = 0;   /* how many of the last records read were mine[0..], in order */
	for (int iter = 0; iter < 100000; iter++) {
		int r = spool_read(sp, max_n, SPOOL_REC_MAX, &b);
		if (r < 0)
			abort();
		if (r == 0)
			break;
		if ((size_t)r > max_n)
			abort();
		for (int i = 0; i < r; i++) {
			const struct spool_rec *q = &b.recs[i];
			check_rec(q);
			bool is = last3 < 3 && q->len == recs[last3].len && memcmp(q->p, recs[last3].p, q->len) == 0;
			last3 = is ? last3 + 1 : (q->len == recs[0].len && memcmp(q->p, recs[0].p, q->len) == 0);
		}
		if (spool_ack(sp, &b.end) != 0)
			abort();
	}
	if (early == 3 && last3 != 3)
		abort();   /* appended records lost or out of order */
	if (spool_read(sp, 10, SIZE_MAX, &b) != 0)
		abort();

	size_t stored = spool_append_batch(sp, recs, 3);
	if (stored == 3)
		expect_mine(sp, &b);
	uint64_t s1 = 0, s2 = 0;
	bool seq_ok = spool_seq_take(sp, 3, &s1) == 0 && spool_seq_take(sp, 5, &s2) == 0;
	if (seq_ok && s2 != s1 + 3)
		abort();
	spool_close(sp);

	sp = open_sp(dir);
	if (!sp)
		abort();
	if (stored == 3) {
		expect_mine(sp, &b);
		if (spool_ack(sp, &b.end) != 0)
			abort();
	}
	if (spool_read(sp, 10, SIZE_MAX, &b) != 0)
		abort();
	uint64_t s3;
	if (seq_ok && spool_seq_take(sp, 1, &s3) == 0 && s3 < s2 + 5)
		abort();   /* an id handed out before the close came back */
	spool_batch_fini(&b);
	spool_close(sp);
	rm_dir(dir);
	return 0;
}
