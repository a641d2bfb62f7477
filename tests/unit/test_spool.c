/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The alert spool (dataplane/ship/spool.c): round trips, reopen, torn
 * tails, corrupt frames, the size bound, segment deletion on ack, damaged
 * ack/seq/segment files, and a crash simulation (a child appending and
 * acking in a loop, SIGKILLed at random points; seed from SPOOL_SEED or the
 * clock, printed).  Each case works in its own directory under $TMPDIR.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "spool.h"

static char base_dir[256];
static unsigned dir_no;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void rm_rf(const char *p)
{
	nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory path (not created: spool_open creates it). */
static void new_dir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/d%u", base_dir, dir_no++);
}

static struct spool *open_sp(const char *dir, uint64_t max, uint64_t seg)
{
	struct spool_cfg c = { .dir = dir, .max_bytes = max, .seg_bytes = seg };
	struct spool *sp = NULL;
	int rc = spool_open(&sp, &c);

	CHECK_EQ(rc, 0);
	return sp;
}

/* Record N: {"n":N,"s":S,"pad":"ccc..."} with PAD copies of 'a' + N % 26. */
static uint32_t make_rec(char *buf, size_t len, uint64_t n, uint64_t s, unsigned pad)
{
	int k = snprintf(buf, len, "{\"n\":%" PRIu64 ",\"s\":%" PRIu64 ",\"pad\":\"", n, s);
	memset(buf + k, 'a' + (int)(n % 26), pad);
	memcpy(buf + k + pad, "\"}", 3);
	return (uint32_t)(k + pad + 2);
}

/* Parses and checks a record made by make_rec. */
static bool parse_rec(const struct spool_rec *r, uint64_t *n, uint64_t *s)
{
	unsigned long long a, b;
	int k = 0;

	if (r->p[r->len] != '\0' || sscanf(r->p, "{\"n\":%llu,\"s\":%llu,\"pad\":\"%n", &a, &b, &k) != 2 || !k)
		return false;
	for (uint32_t i = (uint32_t)k; i + 2 < r->len; i++)
		if (r->p[i] != 'a' + (int)(a % 26))
			return false;
	if (strcmp(r->p + r->len - 2, "\"}") != 0)
		return false;
	*n = a;
	*s = b;
	return true;
}

/* Appends records FROM..TO-1 (pad PAD) in one batch; returns stored. */
static size_t append_range(struct spool *sp, uint64_t from, uint64_t to, unsigned pad)
{
	size_t cnt = (size_t)(to - from), stored;
	struct spool_rec *recs = calloc(cnt ? cnt : 1, sizeof(*recs));
	char *buf = malloc((cnt ? cnt : 1) * (pad + 64));

	for (size_t i = 0; i < cnt; i++) {
		char *p = buf + i * (pad + 64);
		recs[i].p = p;
		recs[i].len = make_rec(p, pad + 64, from + i, 0, pad);
	}
	stored = spool_append_batch(sp, recs, cnt);
	free(recs);
	free(buf);
	return stored;
}

/* Reads everything after the ack position (not acking): the record numbers
 * in *ns (malloc'd); returns the count, or -1 if a record is malformed. */
static long read_all(struct spool *sp, uint64_t **ns, struct spool_pos *end)
{
	struct spool_batch b;
	uint64_t *v = NULL;
	size_t n = 0;
	long ret = 0;

	spool_batch_init(&b);
	int r = spool_read(sp, SIZE_MAX, SIZE_MAX, &b);
	if (r < 0) {
		spool_batch_fini(&b);
		*ns = NULL;
		return -1;
	}
	v = malloc(((size_t)r + 1) * sizeof(*v));
	for (int i = 0; i < r; i++) {
		uint64_t s;
		if (!parse_rec(&b.recs[i], &v[n], &s))
			ret = -1;
		n++;
	}
	if (end)
		*end = b.end;
	spool_batch_fini(&b);
	*ns = v;
	return ret < 0 ? -1 : (long)n;
}

/* True if NS[0..n) == from, from+1, ... */
static bool is_range(const uint64_t *ns, long n, uint64_t from)
{
	for (long i = 0; i < n; i++)
		if (ns[i] != from + (uint64_t)i)
			return false;
	return true;
}

static long count_segs(const char *dir, uint64_t *last)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (last)
		*last = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		unsigned long long s;
		if (strlen(e->d_name) == 26 && sscanf(e->d_name, "seg-%16llu.spool", &s) == 1) {
			n++;
			if (last && s > *last)
				*last = s;
		}
	}
	closedir(d);
	return n;
}

static void seg_path(char *buf, size_t len, const char *dir, uint64_t seq)
{
	snprintf(buf, len, "%s/seg-%016llu.spool", dir, (unsigned long long)seq);
}

static off_t file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* Frame offsets of a segment file, parsed independently of the library
 * (stops at the first bad frame); returns their count. */
static int seg_frames(const char *path, uint64_t *offs, uint64_t *ns, int max, uint64_t *valid_end)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;
	uint64_t off = SPOOL_SEG_HDR;
	int k = 0;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)size + 1);
	if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		size = 0;
	fclose(f);
	while (off + 8 <= (uint64_t)size && k < max) {
		uint32_t len = (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8 | (uint32_t)buf[off + 2] << 16 |
			       (uint32_t)buf[off + 3] << 24;
		uint32_t crc = (uint32_t)buf[off + 4] | (uint32_t)buf[off + 5] << 8 |
			       (uint32_t)buf[off + 6] << 16 | (uint32_t)buf[off + 7] << 24;
		if (len == 0 || len > SPOOL_REC_MAX || off + 8 + len > (uint64_t)size ||
		    spool_crc32c(spool_crc32c(0, buf + off, 4), buf + off + 8, len) != crc)
			break;
		unsigned long long n = 0;
		char tmp[64];
		memcpy(tmp, buf + off + 8, len < 63 ? len : 63);
		tmp[len < 63 ? len : 63] = '\0';
		sscanf(tmp, "{\"n\":%llu", &n);
		offs[k] = off;
		ns[k] = n;
		k++;
		off += 8 + len;
	}
	if (valid_end)
		*valid_end = off;
	free(buf);
	return k;
}

static void patch(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);

	CHECK(fd >= 0);
	CHECK(pwrite(fd, p, n, (off_t)off) == (ssize_t)n);
	close(fd);
}

static void append_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	CHECK(fd >= 0);
	CHECK(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

/* A well-formed ack file for (SEG, OFF). */
static void write_ack(const char *dir, uint64_t seg, uint64_t off)
{
	char path[400];
	uint8_t b[28];
	FILE *f;

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(0x4b434156u >> (8 * i));   /* "VACK" */
	b[4] = 1, b[5] = b[6] = b[7] = 0;
	for (int i = 0; i < 8; i++) {
		b[8 + i] = (uint8_t)(seg >> (8 * i));
		b[16 + i] = (uint8_t)(off >> (8 * i));
	}
	uint32_t crc = spool_crc32c(0, b, 24);
	for (int i = 0; i < 4; i++)
		b[24 + i] = (uint8_t)(crc >> (8 * i));
	snprintf(path, sizeof(path), "%s/ack", dir);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f) {
		fwrite(b, 1, sizeof(b), f);
		fclose(f);
	}
}

/* ---- cases ---- */

static void test_crc(void)
{
	cur_test = "crc32c";
	CHECK_EQ(spool_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ(spool_crc32c(spool_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

static void test_round_trip(void)
{
	char dir[300];
	struct spool *sp;
	struct spool_batch b;
	struct spool_stats st;
	struct spool_pos end;
	uint64_t *ns;
	long n;

	cur_test = "round trip";
	new_dir(dir, sizeof(dir));
	sp = open_sp(dir, 0, 0);
	if (!sp)
		return;
	spool_batch_init(&b);
	CHECK_EQ(spool_read(sp, 100, SIZE_MAX, &b), 0);
	CHECK_EQ(append_range(sp, 0, 1, 10), 1);
	CHECK_EQ(append_range(sp, 1, 11, 100), 10);
	CHECK_EQ(append_range(sp, 11, 111, 1000), 100);
	n = read_all(sp, &ns, NULL);
	CHECK_EQ(n, 111);
	CHECK(is_range(ns, n, 0));
	free(ns);
	n = read_all(sp, &ns, NULL);   /* not acked: the same again */
	CHECK_EQ(n, 111);
	CHECK(is_range(ns, n, 0));
	free(ns);

	/* max_n, max_bytes (but always one record) */
	CHECK_EQ(spool_read(sp, 5, SIZE_MAX, &b), 5);
	CHECK_EQ(spool_read(sp, 100, 1, &b), 1);
	CHECK_EQ(spool_read(sp, 100, b.recs[0].len + 200, &b), 2);   /* 30 + 2 * ~130 bytes */
	CHECK_EQ(spool_read(sp, 5, SIZE_MAX, &b), 5);
	CHECK_EQ(spool_ack(sp, &b.end), 0);
	n = read_all(sp, &ns, &end);
	CHECK_EQ(n, 106);
	CHECK(is_range(ns, n, 5));
	free(ns);
	spool_stats(sp, &st);
	CHECK_EQ(st.appended, 111);
	CHECK(st.backlog_bytes > 0);
	CHECK_EQ(spool_ack(sp, &end), 0);
	CHECK_EQ(spool_read(sp, 100, SIZE_MAX, &b), 0);
	CHECK_EQ(spool_ack(sp, &end), 0);   /* same position again: fine */
	spool_stats(sp, &st);
	CHECK_EQ(st.backlog_bytes, 0);
	CHECK_EQ(st.corrupt + st.torn + st.drops + st.invalid + st.io_errors, 0);

	/* positions from nowhere */
	struct spool_pos bad = { end.seg, end.off + 8 };
	CHECK_EQ(spool_ack(sp, &bad), -EINVAL);
	bad = (struct spool_pos){ end.seg, SPOOL_SEG_HDR };
	CHECK_EQ(spool_ack(sp, &bad), -EINVAL);
	bad = (struct spool_pos){ end.seg + 5, SPOOL_SEG_HDR };
	CHECK_EQ(spool_ack(sp, &bad), -EINVAL);

	/* invalid records are skipped, the rest stored in order */
	char big[SPOOL_REC_MAX + 2];
	memset(big, 'x', sizeof(big));
	char r1[64], r2[64];
	struct spool_rec recs[4] = {
		{ r1, make_rec(r1, sizeof(r1), 111, 0, 1) },
		{ "", 0 },
		{ big, SPOOL_REC_MAX + 1 },
		{ r2, make_rec(r2, sizeof(r2), 112, 0, 1) },
	};
	CHECK_EQ(spool_append_batch(sp, recs, 4), 2);
	spool_stats(sp, &st);
	CHECK_EQ(st.invalid, 2);
	n = read_all(sp, &ns, NULL);
	CHECK_EQ(n, 2);
	CHECK(is_range(ns, n, 111));
	free(ns);
	/* the largest record fits */
	memcpy(big, "\"", 1);
	memcpy(big + SPOOL_REC_MAX - 1, "\"", 1);
	recs[0] = (struct spool_rec){ big, SPOOL_REC_MAX };
	CHECK_EQ(spool_append_batch(sp, recs, 1), 1);
	CHECK_EQ(spool_read(sp, 10, SIZE_MAX, &b), 3);
	CHECK_EQ(b.recs[2].len, SPOOL_REC_MAX);
	CHECK(memcmp(b.recs[2].p, big, SPOOL_REC_MAX) == 0);
	spool_batch_fini(&b);
	spool_close(sp);
	spool_close(NULL);
}

static void test_reopen(void)
{
	char dir[300];
	struct spool *sp, *sp2 = NULL;
	struct spool_batch b;
	struct spool_cfg c;
	uint64_t *ns, s1, s2;
	long n;

	cur_test = "reopen";
	new_dir(dir, sizeof(dir));
	sp = open_sp(dir, 0, 0);
	if (!sp)
		return;
	spool_batch_init(&b);
	CHECK_EQ(append_range(sp, 0, 50, 200), 50);
	CHECK_EQ(spool_read(sp, 20, SIZE_MAX, &b), 20);
	CHECK_EQ(spool_ack(sp, &b.end), 0);
	CHECK_EQ(spool_seq_take(sp, 5, &s1), 0);
	CHECK(s1 > 1000000000000000ull);   /* a new spool starts from the clock */

	/* one process per spool */
	c = (struct spool_cfg){ .dir = dir };
	CHECK_EQ(spool_open(&sp2, &c), -EBUSY);
	CHECK(sp2 == NULL);
	c.max_bytes = 4 * SPOOL_SEG_MIN - 1;
	CHECK_EQ(spool_open(&sp2, &c), -EINVAL);
	spool_close(sp);

	sp = open_sp(dir, 0, 0);
	if (!sp)
		return;
	n = read_all(sp, &ns, NULL);
	CHECK_EQ(n, 30);
	CHECK(is_range(ns, n, 20));
	free(ns);
	CHECK_EQ(append_range(sp, 50, 60, 200), 10);
	n = read_all(sp, &ns, NULL);
	CHECK_EQ(n, 40);
	CHECK(is_range(ns, n, 20));
	free(ns);
	CHECK_EQ(spool_seq_take(sp, 3, &s2), 0);
	CHECK_EQ(s2, s1 + 5);               /* a clean close leaves no gap */
	spool_close(sp);

	/* a crash (a child takes an id and exits without closing): the rest of
	 * its lease is skipped, never reused */
	pid_t pid = fork();
	if (pid == 0) {
		struct spool *csp;
		uint64_t cs;
		struct spool_cfg cc = { .dir = dir };
		if (spool_open(&csp, &cc) != 0 || spool_seq_take(csp, 1, &cs) != 0 || cs != s2 + 3)
			_exit(1);
		_exit(0);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK_EQ(status, 0);
	sp = open_sp(dir, 0, 0);
	if (!sp)
		return;
	CHECK_EQ(spool_seq_take(sp, 1, &s1), 0);
	CHECK_EQ(s1, s2 + 3 + 1 + SPOOL_LEASE_DEFAULT);
	{
		struct spool_stats st;
		spool_stats(sp, &st);
		CHECK_EQ(st.seq_resets, 0);
	}
	spool_batch_fini(&b);
	spool_close(sp);
}

static void test_torn_tail(void)
{
	static const struct {
		const char *name;
		size_t len;
	} kinds[] = { { "3 header bytes", 3 }, { "half a payload", 58 }, { "bad checksum", 108 },
		      { "zeros", 4096 }, { "length too big", 8 } };

	for (unsigned k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char dir[300], path[400];
		uint8_t junk[4096] = { 0 };
		struct spool *sp;
		struct spool_stats st;
		uint64_t last, *ns;
		off_t before;
		long n;

		cur_test = kinds[k].name;
		new_dir(dir, sizeof(dir));
		sp = open_sp(dir, 0, 0);
		if (!sp)
			return;
		CHECK_EQ(append_range(sp, 0, 10, 100), 10);
		spool_close(sp);
		count_segs(dir, &last);
		seg_path(path, sizeof(path), dir, last);
		before = file_size(path);

		/* a frame of 100 bytes, cut or with a wrong checksum */
		if (k == 1 || k == 2) {
			junk[0] = 100;
			memset(junk + 4, 0x5a, 4);
			memset(junk + 8, '{', 100);
		} else if (k == 4) {
			junk[0] = 0xff;
			junk[1] = 0xff;
			junk[2] = 0x10;
		}
		append_bytes(path, junk, kinds[k].len);
		CHECK_EQ(file_size(path), before + (off_t)kinds[k].len);

		sp = open_sp(dir, 0, 0);
		if (!sp)
			return;
		spool_stats(sp, &st);
		CHECK_EQ(st.torn, 1);
		CHECK_EQ(st.torn_bytes, kinds[k].len);
		CHECK_EQ(file_size(path), before);
		n = read_all(sp, &ns, NULL);
		CHECK_EQ(n, 10);
		CHECK(is_range(ns, n, 0));
		free(ns);
		CHECK_EQ(append_range(sp, 10, 12, 100), 2);
		n = read_all(sp, &ns, NULL);
		CHECK_EQ(n, 12);
		CHECK(is_range(ns, n, 0));
		free(ns);
		spool_close(sp);
		sp = open_sp(dir, 0, 0);
		if (!sp)
			return;
		spool_stats(sp, &st);
		CHECK_EQ(st.torn, 0);
		n = read_all(sp, &ns, NULL);
		CHECK_EQ(n, 12);
		free(ns);
		spool_close(sp);
	}
}

/* Corruption inside a closed segment: reading stops at the bad frame and
 * goes on with the next segment (counted once). */
static void test_corrupt_mid(void)
{
	char dir[300], path[400];
	struct spool *sp;
	struct spool_stats st;
	uint64_t offs[200], fns[200], *ns, valid_end;
	long n;
	int nf;

	for (int variant = 0; variant < 2; variant++) {
		cur_test = variant ? "corrupt length mid-file" : "corrupt checksum mid-file";
		new_dir(dir, sizeof(dir));
		sp = open_sp(dir, 64 << 20, SPOOL_SEG_MIN);
		if (!sp)
			return;
		CHECK_EQ(append_range(sp, 0, 200, 1000), 200);
		spool_close(sp);
		CHECK(count_segs(dir, NULL) >= 3);
		seg_path(path, sizeof(path), dir, 1);
		nf = seg_frames(path, offs, fns, 200, &valid_end);
		CHECK(nf > 20);
		CHECK_EQ(valid_end, (uint64_t)file_size(path));
		if (variant == 0) {
			uint8_t x = 'Z';
			patch(path, offs[10] + 8 + 20, &x, 1);   /* a payload byte */
		} else {
			uint8_t big[4] = { 0xff, 0xff, 0, 0 };
			patch(path, offs[10], big, 4);           /* a length past the end */
		}
		sp = open_sp(dir, 64 << 20, SPOOL_SEG_MIN);
		if (!sp)
			return;
		n = read_all(sp, &ns, NULL);
		CHECK_EQ(n, 200 - (nf - 10));
		CHECK(is_range(ns, 10, 0));
		CHECK(is_range(ns + 10, n - 10, (uint64_t)nf));
		free(ns);
		spool_stats(sp, &st);
		CHECK_EQ(st.corrupt, 1);
		CHECK_EQ(st.corrupt_bytes, (uint64_t)file_size(path) - offs[10]);
		n = read_all(sp, &ns, NULL);   /* again: counted once */
		free(ns);
		spool_stats(sp, &st);
		CHECK_EQ(st.corrupt, 1);
		/* acking past it removes the damaged segment */
		struct spool_batch b;
		spool_batch_init(&b);
		CHECK_EQ(spool_read(sp, 15, SIZE_MAX, &b), 15);
		CHECK_EQ(spool_ack(sp, &b.end), 0);
		CHECK(file_size(path) < 0);
		spool_batch_fini(&b);
		spool_close(sp);
	}

	/* Corruption inside the last segment is indistinguishable from a torn
	 * write: it is truncated there at open, the frames after it go. */
	cur_test = "corrupt mid last segment";
	new_dir(dir, sizeof(dir));
	sp = open_sp(dir, 0, 0);
	if (!sp)
		return;
	CHECK_EQ(append_range(sp, 0, 30, 100), 30);
	spool_close(sp);
	seg_path(path, sizeof(path), dir, 1);
	nf = seg_frames(path, offs, fns, 200, NULL);
	CHECK_EQ(nf, 30);
	uint8_t x = 0;
	patch(path, offs[20] + 4, &x, 1);
	sp = open_sp(dir, 0, 0);
	if (!sp)
		return;
	spool_stats(sp, &st);
	CHECK_EQ(st.torn, 1);
	CHECK_EQ((uint64_t)file_size(path), offs[20]);
	n = read_all(sp, &ns, NULL);
	CHECK_EQ(n, 20);
	CHECK(is_range(ns, n, 0));
	free(ns);
	spool_close(sp);
}

static void test_bound(void)
{
	char dir[300];
	struct spool *sp;
	struct spool_stats st;
	struct spool_batch b;
	uint64_t *ns, max = 4 * SPOOL_SEG_MIN;
	size_t s1, s2;
	long n;

	cur_test = "max_bytes";
	new_dir(dir, sizeof(dir));
	sp = open_sp(dir, max, 0);
	if (!sp)
		return;
	s1 = append_range(sp, 0, 1000, 1000);
	CHECK(s1 > 200 && s1 < 1000);
	spool_stats(sp, &st);
	CHECK_EQ(st.drops, 1000 - s1);
	CHECK_EQ(st.appended, s1);
	CHECK(st.bytes <= max);
	CHECK(st.bytes > max - 2000);
	CHECK_EQ(append_range(sp, 1000, 1010, 1000), 0);   /* never blocks: drops */
	spool_stats(sp, &st);
	CHECK_EQ(st.drops, 1010 - s1);
	n = read_all(sp, &ns, NULL);
	CHECK_EQ(n, (long)s1);
	CHECK(is_range(ns, n, 0));
	free(ns);

	/* acknowledged segments make room again */
	spool_batch_init(&b);
	CHECK_EQ(spool_read(sp, SIZE_MAX, SIZE_MAX, &b), (int)s1);
	CHECK_EQ(spool_ack(sp, &b.end), 0);
	spool_stats(sp, &st);
	CHECK(st.bytes <= SPOOL_SEG_MIN);
	s2 = append_range(sp, 2000, 3000, 1000);
	CHECK(s2 >= s1 * 3 / 4);
	n = read_all(sp, &ns, NULL);
	CHECK_EQ(n, (long)s2);
	CHECK(is_range(ns, n, 2000));
	free(ns);
	spool_batch_fini(&b);
	spool_close(sp);
}

static void test_ack_deletes(void)
{
	char dir[300], path[400];
	struct spool *sp;
	struct spool_batch b;
	struct spool_stats st;
	uint64_t last, *ns;
	long n;

	cur_test = "ack deletes segments";
	new_dir(dir, sizeof(dir));
	sp = open_sp(dir, 64 << 20, SPOOL_SEG_MIN);
	if (!sp)
		return;
	CHECK_EQ(append_range(sp, 0, 300, 1000), 300);
	CHECK_EQ(count_segs(dir, &last), 5);
	spool_batch_init(&b);
	CHECK_EQ(spool_read(sp, 150, SIZE_MAX, &b), 150);
	CHECK_EQ(spool_ack(sp, &b.end), 0);
	spool_stats(sp, &st);
	CHECK_EQ(count_segs(dir, NULL), (long)st.segments);
	CHECK_EQ(st.segments, 5 - (b.end.seg - 1));
	CHECK_EQ(st.ack.seg, b.end.seg);
	CHECK_EQ(spool_read(sp, SIZE_MAX, SIZE_MAX, &b), 150);
	CHECK_EQ(spool_ack(sp, &b.end), 0);
	CHECK_EQ(count_segs(dir, NULL), 1);

	/* an unlink that a crash interrupted: done again at open */
	spool_close(sp);
	seg_path(path, sizeof(path), dir, last);
	char old[400];
	seg_path(old, sizeof(old), dir, 2);
	{
		FILE *in = fopen(path, "rb"), *out = fopen(old, "wb");
		uint8_t h[SPOOL_SEG_HDR];
		CHECK(in && out);
		if (in && out && fread(h, 1, sizeof(h), in) == sizeof(h)) {
			h[8] = 2;   /* seq 2 in the header */
			fwrite(h, 1, sizeof(h), out);
		}
		if (in)
			fclose(in);
		if (out)
			fclose(out);
	}
	sp = open_sp(dir, 64 << 20, SPOOL_SEG_MIN);
	if (!sp)
		return;
	CHECK(file_size(old) < 0);
	CHECK_EQ(spool_read(sp, SIZE_MAX, SIZE_MAX, &b), 0);
	CHECK_EQ(append_range(sp, 300, 310, 1000), 10);
	n = read_all(sp, &ns, NULL);
	CHECK_EQ(n, 10);
	CHECK(is_range(ns, n, 300));
	free(ns);
	spool_batch_fini(&b);
	spool_close(sp);
}

static void test_damaged_files(void)
{
	char dir[300], path[400];
	struct spool *sp;
	struct spool_batch b;
	struct spool_stats st;
	uint64_t *ns;
	long n;

	cur_test = "damaged ack and seq files";
	new_dir(dir, sizeof(dir));
	sp = open_sp(dir, 64 << 20, SPOOL_SEG_MIN);
	if (!sp)
		return;
	uint64_t s1, s2;
	CHECK_EQ(spool_seq_take(sp, 1, &s1), 0);
	CHECK_EQ(append_range(sp, 0, 150, 1000), 150);
	spool_batch_init(&b);
	CHECK_EQ(spool_read(sp, 100, SIZE_MAX, &b), 100);
	CHECK_EQ(spool_ack(sp, &b.end), 0);
	spool_close(sp);
	snprintf(path, sizeof(path), "%s/ack", dir);
	uint8_t x = 0x55;
	patch(path, 12, &x, 1);
	snprintf(path, sizeof(path), "%s/seq", dir);
	patch(path, 9, &x, 1);
	sp = open_sp(dir, 64 << 20, SPOOL_SEG_MIN);
	if (!sp)
		return;
	spool_stats(sp, &st);
	CHECK_EQ(st.ack_resets, 1);
	CHECK_EQ(st.seq_resets, 1);
	n = read_all(sp, &ns, NULL);
	CHECK(n > 50 && n <= 150);   /* from the oldest segment left: resent, not lost */
	CHECK(is_range(ns, n, 150 - (uint64_t)n));
	free(ns);
	CHECK_EQ(spool_seq_take(sp, 1, &s2), 0);
	CHECK(s2 > s1);   /* the clock moved on */
	spool_close(sp);

	cur_test = "bad segment header";
	seg_path(path, sizeof(path), dir, 2);
	CHECK(file_size(path) > 0);
	x = 'X';
	patch(path, 0, &x, 1);
	sp = open_sp(dir, 64 << 20, SPOOL_SEG_MIN);
	if (!sp)
		return;
	spool_stats(sp, &st);
	CHECK_EQ(st.bad_segments, 1);
	CHECK(file_size(path) < 0);
	n = read_all(sp, &ns, NULL);
	CHECK(n > 0 && n < 150);
	CHECK(is_range(ns, n, 150 - (uint64_t)n));
	free(ns);
	spool_close(sp);

	cur_test = "stale temporary files";
	snprintf(path, sizeof(path), "%s/ack.tmp", dir);
	{
		FILE *f = fopen(path, "w");
		fclose(f);
	}
	sp = open_sp(dir, 64 << 20, SPOOL_SEG_MIN);
	CHECK(file_size(path) < 0);
	spool_batch_fini(&b);
	spool_close(sp);

	/* An ack file (well-formed) pointing past the data or into a frame:
	 * moved to the frame boundary at or before it, durably. */
	for (int k = 0; k < 2; k++) {
		uint64_t offs[64], fns[64];
		cur_test = k ? "ack inside a frame" : "ack past the data";
		new_dir(dir, sizeof(dir));
		sp = open_sp(dir, 0, 0);
		if (!sp)
			return;
		CHECK_EQ(append_range(sp, 0, 10, 100), 10);
		spool_close(sp);
		seg_path(path, sizeof(path), dir, 1);
		CHECK_EQ(seg_frames(path, offs, fns, 64, NULL), 10);
		write_ack(dir, 1, k ? offs[3] + 5 : (uint64_t)file_size(path) + 50);
		sp = open_sp(dir, 0, 0);
		if (!sp)
			return;
		n = read_all(sp, &ns, NULL);
		CHECK_EQ(n, k ? 7 : 0);
		CHECK(is_range(ns, n, 3));
		free(ns);
		CHECK_EQ(append_range(sp, 10, 12, 100), 2);
		spool_close(sp);
		sp = open_sp(dir, 0, 0);
		if (!sp)
			return;
		n = read_all(sp, &ns, NULL);
		CHECK_EQ(n, k ? 9 : 2);
		CHECK(is_range(ns, n, k ? 3 : 10));
		free(ns);
		spool_stats(sp, &st);
		CHECK_EQ(st.corrupt, 0);
		spool_close(sp);
	}
}

/* ---- producer and consumer threads at once ---- */

#define CONC_N 20000

static void *conc_producer(void *arg)
{
	struct spool *sp = arg;
	static char buf[64][700];
	struct spool_rec recs[64];
	uint64_t x = 88172645463325252ull, n = 0;

	while (n < CONC_N) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned k = 1 + (unsigned)(x % 64);
		if (k > CONC_N - n)
			k = (unsigned)(CONC_N - n);
		for (unsigned i = 0; i < k; i++) {
			recs[i].p = buf[i];
			recs[i].len = make_rec(buf[i], sizeof(buf[i]), n + i, 0, (unsigned)((x >> 8) % 600));
		}
		size_t got = spool_append_batch(sp, recs, k);
		n += got;   /* full: the same records again later */
		if (got < k)
			sched_yield();
	}
	return NULL;
}

static void test_concurrent(void)
{
	char dir[300];
	struct spool_cfg c;
	struct spool *sp;
	struct spool_batch b;
	struct spool_stats st;
	pthread_t thr;
	uint64_t want = 0, x = 1234567;
	bool ok = true;

	cur_test = "producer and consumer threads";
	new_dir(dir, sizeof(dir));
	c = (struct spool_cfg){ .dir = dir, .max_bytes = 8 * SPOOL_SEG_MIN, .seg_bytes = SPOOL_SEG_MIN,
				.nosync = true };
	CHECK_EQ(spool_open(&sp, &c), 0);
	if (!sp)
		return;
	spool_batch_init(&b);
	CHECK_EQ(pthread_create(&thr, NULL, conc_producer, sp), 0);
	while (want < CONC_N && ok) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int r = spool_read(sp, 1 + x % 200, SIZE_MAX, &b);
		CHECK(r >= 0);
		for (int i = 0; i < r; i++) {
			uint64_t n, s;
			if (!parse_rec(&b.recs[i], &n, &s) || n != want + (uint64_t)i) {
				ok = false;
				break;
			}
		}
		if (r > 0 && (x >> 20) % 4) {   /* sometimes read again without acking */
			CHECK_EQ(spool_ack(sp, &b.end), 0);
			want += (uint64_t)r;
		} else if (r <= 0) {
			sched_yield();
		}
	}
	CHECK(ok);
	pthread_join(thr, NULL);
	CHECK_EQ(want, CONC_N);
	CHECK_EQ(spool_read(sp, 10, SIZE_MAX, &b), 0);
	spool_stats(sp, &st);
	CHECK_EQ(st.appended, CONC_N);
	CHECK(st.drops > 0);   /* the bound was hit and recovered from */
	CHECK_EQ(st.corrupt + st.io_errors, 0);
	CHECK(st.segments <= 2);
	spool_batch_fini(&b);
	spool_close(sp);
}

/* ---- crash simulation ---- */

enum { MSG_DONE = 1, MSG_ACK_TRY, MSG_ACKED };
struct msg {
	uint32_t type;
	uint64_t v;
};

static uint64_t rnd_state;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static struct spool_cfg crash_cfg(const char *dir)
{
	return (struct spool_cfg){ .dir = dir, .max_bytes = 64 << 20, .seg_bytes = SPOOL_SEG_MIN,
				   .seq_lease = 16 };
}

/* The child: appends batches of records N, N+1, ... forever, reporting each
 * batch after spool_append_batch returned; now and then reads and acks a
 * prefix, reporting before and after. */
static void crash_child(const char *dir, uint64_t n, int wfd, uint64_t seed)
{
	struct spool_cfg c = crash_cfg(dir);
	struct spool *sp;
	struct spool_batch b;
	static char buf[40][4200];
	struct spool_rec recs[40];

	rnd_state = seed;
	if (spool_open(&sp, &c) != 0)
		_exit(2);
	spool_batch_init(&b);
	for (;;) {
		unsigned k = 1 + (unsigned)(rnd() % 30);
		uint64_t s;
		if (spool_seq_take(sp, k, &s) != 0)
			_exit(3);
		for (unsigned i = 0; i < k; i++) {
			recs[i].p = buf[i];
			recs[i].len = make_rec(buf[i], sizeof(buf[i]), n + i, s + i, (unsigned)(rnd() % 4000));
		}
		if (spool_append_batch(sp, recs, k) != k)
			_exit(4);
		n += k;
		struct msg m = { MSG_DONE, n };
		if (write(wfd, &m, sizeof(m)) != sizeof(m))
			_exit(5);
		if (rnd() % 6 == 0) {
			int r = spool_read(sp, 1 + rnd() % 60, SIZE_MAX, &b);
			uint64_t rn, rs;
			if (r <= 0 || !parse_rec(&b.recs[r - 1], &rn, &rs))
				_exit(6);
			m = (struct msg){ MSG_ACK_TRY, rn + 1 };
			if (write(wfd, &m, sizeof(m)) != sizeof(m))
				_exit(5);
			if (spool_ack(sp, &b.end) != 0)
				_exit(7);
			m.type = MSG_ACKED;
			if (write(wfd, &m, sizeof(m)) != sizeof(m))
				_exit(5);
		}
	}
}

static void test_crash(void)
{
	char dir[300];
	uint64_t seed = getenv("SPOOL_SEED") ? strtoull(getenv("SPOOL_SEED"), NULL, 0)
					     : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	uint64_t next_n = 0, acked = 0, max_seq = 0, prev_last = 0;
	bool any = false;
	unsigned rounds = 40, chopped = 0;

	cur_test = "crash simulation";
	printf("crash simulation: SPOOL_SEED=%llu\n", (unsigned long long)seed);
	rnd_state = seed | 1;
	new_dir(dir, sizeof(dir));
	for (unsigned round = 0; round < rounds; round++) {
		int pfd[2];
		uint64_t reported = next_n, ack_lo = acked, ack_hi = acked;
		unsigned kill_after = (unsigned)(rnd() % 25);
		unsigned done = 0;

		CHECK(pipe(pfd) == 0);
		uint64_t child_seed = rnd() | 1;
		pid_t pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			crash_child(dir, next_n, pfd[1], child_seed);
		}
		close(pfd[1]);
		struct msg m;
		while (done < kill_after && read(pfd[0], &m, sizeof(m)) == sizeof(m)) {
			if (m.type == MSG_DONE) {
				reported = m.v;
				done++;
			} else if (m.type == MSG_ACK_TRY) {
				ack_hi = m.v;
			} else if (m.type == MSG_ACKED) {
				ack_lo = m.v;
			}
		}
		struct timespec ts = { 0, (long)(rnd() % 3000) * 1000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status));   /* else the child failed: exit code */
		if (!WIFSIGNALED(status))
			printf("    child exit status %d\n", WEXITSTATUS(status));
		while (read(pfd[0], &m, sizeof(m)) == sizeof(m)) {
			if (m.type == MSG_DONE)
				reported = m.v;
			else if (m.type == MSG_ACK_TRY)
				ack_hi = m.v;
			else if (m.type == MSG_ACKED)
				ack_lo = m.v;
		}
		close(pfd[0]);
		if (ack_hi < ack_lo)
			ack_hi = ack_lo;

		/* A power cut loses what was not synced: chop the last segment
		 * somewhere after the last reported record, maybe add garbage. */
		if (rnd() % 2) {
			char path[400];
			uint64_t last, offs[4096], ns[4096], durable = SPOOL_SEG_HDR, vend;
			count_segs(dir, &last);
			seg_path(path, sizeof(path), dir, last);
			int nf = seg_frames(path, offs, ns, 4096, &vend);
			for (int i = 0; i < nf; i++)   /* the end of the last reported frame here */
				if (ns[i] < reported)
					durable = i + 1 < nf ? offs[i + 1] : vend;
			off_t size = file_size(path);
			if (size > 0 && (uint64_t)size > durable) {
				off_t cut = (off_t)(durable + rnd() % ((uint64_t)size - durable + 1));
				CHECK(truncate(path, cut) == 0);
				if (rnd() % 2) {
					uint8_t g[200];
					for (size_t i = 0; i < sizeof(g); i++)
						g[i] = (uint8_t)rnd();
					append_bytes(path, g, 1 + rnd() % sizeof(g));
				}
				chopped++;
			}
		}

		/* Reopen: every reported batch present exactly once, in order;
		 * nothing acked comes back. */
		struct spool_cfg c = crash_cfg(dir);
		struct spool *sp;
		struct spool_batch b;
		int rc = spool_open(&sp, &c);
		CHECK_EQ(rc, 0);
		if (rc)
			return;
		spool_batch_init(&b);
		int r = spool_read(sp, SIZE_MAX, SIZE_MAX, &b);
		CHECK(r >= 0);
		uint64_t first = 0, last = 0, prev_s = 0;
		bool ok = true;
		for (int i = 0; i < r; i++) {
			uint64_t n, s;
			if (!parse_rec(&b.recs[i], &n, &s)) {
				ok = false;
				break;
			}
			if (i == 0)
				first = n;
			else if (n != last + 1 || s <= prev_s)
				ok = false;
			if (any && n > prev_last && s <= max_seq)
				ok = false;   /* a new record reused an id */
			last = n;
			prev_s = s;
		}
		CHECK(ok);
		if (r > 0) {
			CHECK(first >= ack_lo && first <= ack_hi);
			CHECK(last + 1 >= reported);
			if (first < ack_lo || first > ack_hi || last + 1 < reported)
				printf("    round %u: read %llu..%llu, acked [%llu, %llu], reported %llu\n", round,
				       (unsigned long long)first, (unsigned long long)last,
				       (unsigned long long)ack_lo, (unsigned long long)ack_hi,
				       (unsigned long long)reported);
			if (prev_s > max_seq)
				max_seq = prev_s;
			prev_last = last;
			any = true;
			next_n = last + 1;
		} else {
			CHECK(ack_hi >= reported);
			next_n = reported > ack_hi ? reported : ack_hi;
		}
		/* the parent acks a random prefix (durable when spool_ack returns) */
		if (r > 0) {
			size_t cut = (size_t)(rnd() % ((uint64_t)r + 1));
			acked = first;
			if (cut) {
				CHECK_EQ(spool_read(sp, cut, SIZE_MAX, &b), (int)cut);
				CHECK_EQ(spool_ack(sp, &b.end), 0);
				acked = first + cut;
			}
		} else {
			acked = next_n;
		}
		spool_batch_fini(&b);
		spool_close(sp);
	}
	printf("crash simulation: %u rounds, %llu records, %u power-cut tails\n", rounds,
	       (unsigned long long)next_n, chopped);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(base_dir, sizeof(base_dir), "%s/test_spool.XXXXXX", tmp);
	if (!mkdtemp(base_dir)) {
		perror(base_dir);
		return 1;
	}
	test_crc();
	test_round_trip();
	test_reopen();
	test_torn_tail();
	test_corrupt_mid();
	test_bound();
	test_ack_deletes();
	test_damaged_files();
	test_concurrent();
	test_crash();
	if (failures) {
		printf("%d check(s) failed (files kept in %s)\n", failures, base_dir);
	} else {
		rm_rf(base_dir);
		printf("all spool checks passed\n");
	}
	return failures ? 1 : 0;
}
