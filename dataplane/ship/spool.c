/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The alert spool (see spool.h for the contract, README.md for why each
 * crash point is safe).
 *
 * Locking: one mutex guards what both threads see (the segment list, the
 * total size, the ack position, the stats).  The producer writes frames and
 * fsyncs without it, then publishes the new committed end of the last
 * segment under it; the consumer reads only below a committed end, so it
 * never sees a frame being written.  Only the producer adds segments (at the
 * end of the list), only the consumer removes them (from the front, never
 * the last one).
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ACK_MAGIC 0x4b434156u   /* "VACK" */
#define SEQ_MAGIC 0x51455356u   /* "VSEQ" */
#define ACK_LEN   28u           /* magic, version, seg, off, crc */
#define SEQ_LEN   20u           /* magic, version, next, crc */
#define NO_BAD    UINT64_MAX

struct spool_seg {
	uint64_t seq;
	uint64_t size;     /* committed end: header + whole frames */
	uint64_t disk;     /* file size (for the bound) */
	uint64_t bad_at;   /* a bad frame starts here (NO_BAD: none found) */
};

struct spool {
	uint64_t max_bytes, seg_bytes;
	uint32_t lease;
	bool nosync;
	int dirfd, lockfd;

	pthread_mutex_t mu;
	/* under mu */
	struct spool_seg *segs;
	size_t nsegs, capsegs;
	uint64_t total;          /* sum of segs[].disk */
	struct spool_pos ack;
	struct spool_stats st;

	/* producer only */
	int wfd;                 /* the last segment, open for appending; -1: roll first */
	uint64_t wseq, woff;
	uint64_t next_seg;
	uint8_t *wbuf;
	size_t wcap;
	uint64_t seq_next, seq_limit;
	bool seq_written;

	/* consumer only */
	int rfd;
	uint64_t rseq;
};

/* ---- small helpers ---- */

static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static uint32_t crc_tab[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
		crc_tab[i] = c;
	}
}

uint32_t spool_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (n--)
		crc = crc_tab[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
}

static uint32_t frame_crc(const uint8_t *lenbytes, const void *payload, uint32_t len)
{
	return spool_crc32c(spool_crc32c(0, lenbytes, 4), payload, len);
}

static bool pos_lt(struct spool_pos a, struct spool_pos b)
{
	return a.seg < b.seg || (a.seg == b.seg && a.off < b.off);
}

static void seg_name(char *buf, size_t len, uint64_t seq, const char *suffix)
{
	snprintf(buf, len, "seg-%016llu.spool%s", (unsigned long long)seq, suffix);
}

/* "seg-" 16 digits ".spool" -> seq (>= 1, small enough never to overflow). */
static bool parse_seg_name(const char *s, uint64_t *seq)
{
	uint64_t v = 0;

	if (strlen(s) != 26 || memcmp(s, "seg-", 4) != 0 || strcmp(s + 20, ".spool") != 0)
		return false;
	for (int i = 4; i < 20; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v == 0 || v >= (1ull << 62))
		return false;
	*seq = v;
	return true;
}

static int do_sync(const struct spool *sp, int fd)
{
	if (sp->nosync)
		return 0;
	return fdatasync(fd) == 0 ? 0 : -errno;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t r = pwrite(fd, b, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* Reads up to n bytes at off; the count read (short only at EOF) or -errno. */
static ssize_t pread_all(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *b = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, b + got, n - got, (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Replaces NAME with DATA: write NAME.tmp, fsync, rename, fsync the dir. */
static int write_atomic(struct spool *sp, const char *name, const void *data, size_t len)
{
	char tmp[64];
	int fd, err;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(sp->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	err = pwrite_all(fd, data, len, 0);
	if (!err)
		err = do_sync(sp, fd);
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && renameat(sp->dirfd, tmp, sp->dirfd, name) != 0)
		err = -errno;
	if (!err)
		err = do_sync(sp, sp->dirfd);
	if (err)
		unlinkat(sp->dirfd, tmp, 0);
	return err;
}

/* Reads a small file whole: its length (at most len; longer files give
 * len + 1), -ENOENT or another -errno. */
static ssize_t read_small(struct spool *sp, const char *name, uint8_t *buf, size_t len)
{
	uint8_t extra;
	ssize_t n;
	int fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = pread_all(fd, buf, len, 0);
	if (n == (ssize_t)len && pread_all(fd, &extra, 1, len) == 1)
		n++;
	close(fd);
	return n;
}

static uint64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int seg_push(struct spool *sp, const struct spool_seg *s)
{
	if (sp->nsegs == sp->capsegs) {
		size_t nc = sp->capsegs ? sp->capsegs * 2 : 16;
		struct spool_seg *ns = realloc(sp->segs, nc * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		sp->segs = ns;
		sp->capsegs = nc;
	}
	sp->segs[sp->nsegs++] = *s;
	sp->total += s->disk;
	return 0;
}

/* Index of the first segment with seq >= SEQ (nsegs if none).  Under mu. */
static size_t seg_find(const struct spool *sp, uint64_t seq)
{
	size_t lo = 0, hi = sp->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sp->segs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Checks one frame at OFF (below END): its payload length, or 0 if the frame
 * is bad (short, length out of range, checksum) and -errno on a read error.
 * BUF holds at least SPOOL_REC_MAX bytes; the payload is left in it. */
static int64_t frame_check(int fd, uint64_t off, uint64_t end, uint8_t *buf)
{
	uint8_t fh[SPOOL_FRAME_HDR];
	ssize_t r;
	uint32_t len;

	if (off >= end || end - off < SPOOL_FRAME_HDR)
		return 0;
	r = pread_all(fd, fh, sizeof(fh), off);
	if (r < 0)
		return r;
	if (r < (ssize_t)sizeof(fh))
		return 0;
	len = get32(fh);
	if (len == 0 || len > SPOOL_REC_MAX || len > end - off - SPOOL_FRAME_HDR)
		return 0;
	r = pread_all(fd, buf, len, off + SPOOL_FRAME_HDR);
	if (r < 0)
		return r;
	if (r < (ssize_t)len || frame_crc(fh, buf, len) != get32(fh + 4))
		return 0;
	return len;
}

/* ---- open and recovery ---- */

static int ack_write(struct spool *sp, struct spool_pos pos)
{
	uint8_t b[ACK_LEN];

	put32(b, ACK_MAGIC);
	put32(b + 4, SPOOL_VERSION);
	put64(b + 8, pos.seg);
	put64(b + 16, pos.off);
	put32(b + 24, spool_crc32c(0, b, 24));
	return write_atomic(sp, "ack", b, sizeof(b));
}

static int read_ack(struct spool *sp)
{
	uint8_t b[ACK_LEN + 1];
	ssize_t n = read_small(sp, "ack", b, ACK_LEN);

	sp->ack = (struct spool_pos){ 0, 0 };
	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return (int)n;
	if (n != ACK_LEN || get32(b) != ACK_MAGIC || get32(b + 4) != SPOOL_VERSION ||
	    spool_crc32c(0, b, 24) != get32(b + 24) || get64(b + 8) >= (1ull << 62)) {
		sp->st.ack_resets++;
		return 0;
	}
	sp->ack.seg = get64(b + 8);
	sp->ack.off = get64(b + 16);
	return 0;
}

static int read_seq(struct spool *sp, bool had_data)
{
	uint8_t b[SEQ_LEN + 1];
	ssize_t n = read_small(sp, "seq", b, SEQ_LEN);

	if (n < 0 && n != -ENOENT)
		return (int)n;
	if (n == SEQ_LEN && get32(b) == SEQ_MAGIC && get32(b + 4) == SPOOL_VERSION &&
	    spool_crc32c(0, b, 16) == get32(b + 16) && get64(b + 8) < (1ull << 62)) {
		sp->seq_next = sp->seq_limit = get64(b + 8);
		if (sp->seq_next == 0)
			sp->seq_next = sp->seq_limit = 1;
		return 0;
	}
	if (n >= 0 || had_data)
		sp->st.seq_resets++;
	sp->seq_next = sp->seq_limit = realtime_us() | 1;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Lists the segment files (sorted) and removes stale temporary files. */
static int list_dir(struct spool *sp, uint64_t **out, size_t *nout)
{
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	int fd = openat(sp->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		uint64_t seq;
		if (l > 4 && strcmp(e->d_name + l - 4, ".tmp") == 0) {
			unlinkat(sp->dirfd, e->d_name, 0);
			continue;
		}
		if (!parse_seg_name(e->d_name, &seq))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			uint64_t *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = seq;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_u64);
	*out = v;
	*nout = n;
	return 0;
}

/* Opens segment SEQ and checks its header: 1 with the fd in *fdp and the
 * file size in *size, 0 if the file is not a valid segment, or -errno. */
static int seg_open_check(struct spool *sp, uint64_t seq, int flags, int *fdp, uint64_t *size)
{
	char name[64];
	uint8_t h[SPOOL_SEG_HDR];
	struct stat st;
	int fd;

	seg_name(name, sizeof(name), seq, "");
	fd = openat(sp->dirfd, name, flags | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || pread_all(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    get32(h) != SPOOL_SEG_MAGIC || (get32(h + 4) & 0xffff) != SPOOL_VERSION ||
	    (get32(h + 4) >> 16) != SPOOL_SEG_HDR || get64(h + 8) != seq) {
		close(fd);
		return 0;
	}
	*fdp = fd;
	*size = (uint64_t)st.st_size;
	return 1;
}

/* An ack position inside a segment we have must be a frame boundary within
 * its data; anything else (a damaged disk, a truncated tail below it) moves
 * it to the last boundary at or before it (resending rather than skipping),
 * durably: else records appended past the boundary would be skipped.  BUF
 * holds SPOOL_REC_MAX bytes (or is NULL: allocated here). */
static int snap_ack(struct spool *sp, uint8_t *buf)
{
	size_t i = seg_find(sp, sp->ack.seg);
	uint64_t size, target, off = SPOOL_SEG_HDR;
	uint8_t *own = NULL;
	int64_t r = 0;
	int fd;

	if (i == sp->nsegs || sp->segs[i].seq != sp->ack.seg)
		return 0;
	size = sp->segs[i].size;
	target = sp->ack.off < SPOOL_SEG_HDR ? SPOOL_SEG_HDR : sp->ack.off > size ? size : sp->ack.off;
	if (target > SPOOL_SEG_HDR) {
		if (!buf && !(buf = own = malloc(SPOOL_REC_MAX)))
			return -ENOMEM;
		int rc = seg_open_check(sp, sp->ack.seg, O_RDONLY, &fd, &size);
		if (rc <= 0) {
			free(own);
			return rc < 0 ? rc : -EIO;
		}
		while (off < target) {
			r = frame_check(fd, off, size, buf);
			if (r <= 0 || off + SPOOL_FRAME_HDR + (uint64_t)r > target)
				break;
			off += SPOOL_FRAME_HDR + (uint64_t)r;
		}
		close(fd);
		free(own);
		if (r < 0)
			return (int)r;
		if (off < target && r == 0)
			off = target;   /* a bad frame before it (closed segment): reads stop there anyway */
	}
	if (off == sp->ack.off)
		return 0;
	sp->ack.off = off;
	return ack_write(sp, sp->ack);
}

static int recover(struct spool *sp)
{
	uint64_t *seqs = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	int err;

	err = list_dir(sp, &seqs, &n);
	if (err)
		return err;
	err = read_ack(sp);
	if (!err)
		err = read_seq(sp, n > 0);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char name[64];
		uint64_t size = 0;
		int fd = -1, rc;

		seg_name(name, sizeof(name), seqs[i], "");
		if (seqs[i] < sp->ack.seg) {          /* acknowledged: the unlink was interrupted */
			unlinkat(sp->dirfd, name, 0);
			continue;
		}
		rc = seg_open_check(sp, seqs[i], O_RDONLY, &fd, &size);
		if (rc < 0) {
			err = rc;
			goto out;
		}
		if (rc == 0) {
			sp->st.bad_segments++;
			unlinkat(sp->dirfd, name, 0);
			continue;
		}
		close(fd);
		struct spool_seg s = { .seq = seqs[i], .size = size, .disk = size, .bad_at = NO_BAD };
		err = seg_push(sp, &s);
		if (err)
			goto out;
	}

	/* The last segment: keep the whole frames, truncate a torn tail. */
	if (sp->nsegs) {
		struct spool_seg *l = &sp->segs[sp->nsegs - 1];
		uint64_t size = 0, off = SPOOL_SEG_HDR;
		int64_t r;
		int fd = -1, rc = seg_open_check(sp, l->seq, O_RDWR, &fd, &size);

		if (rc <= 0) {
			err = rc < 0 ? rc : -EIO;
			goto out;
		}
		buf = malloc(SPOOL_REC_MAX);
		if (!buf) {
			close(fd);
			err = -ENOMEM;
			goto out;
		}
		while ((r = frame_check(fd, off, size, buf)) > 0)
			off += SPOOL_FRAME_HDR + (uint64_t)r;
		if (r < 0) {
			close(fd);
			err = (int)r;
			goto out;
		}
		if (off < size) {
			if (ftruncate(fd, (off_t)off) != 0 || (err = do_sync(sp, fd)) != 0) {
				err = err ? err : -errno;
				close(fd);
				goto out;
			}
			sp->st.torn++;
			sp->st.torn_bytes += size - off;
			sp->total -= size - off;
			l->size = l->disk = off;
		}
		sp->wfd = fd;
		sp->wseq = l->seq;
		sp->woff = off;
	}

	err = snap_ack(sp, buf);
	if (err)
		goto out;
	sp->next_seg = sp->nsegs ? sp->segs[sp->nsegs - 1].seq + 1 : 1;
	if (sp->ack.seg >= sp->next_seg)   /* everything acked: number on after it */
		sp->next_seg = sp->ack.seg + 1;
out:
	free(buf);
	free(seqs);
	return err;
}

int spool_open(struct spool **out, const struct spool_cfg *cfg)
{
	struct spool *sp;
	int err;

	*out = NULL;
	if (!cfg || !cfg->dir || !*cfg->dir)
		return -EINVAL;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->dirfd = sp->lockfd = sp->wfd = sp->rfd = -1;
	sp->max_bytes = cfg->max_bytes ? cfg->max_bytes : SPOOL_MAX_DEFAULT;
	sp->seg_bytes = cfg->seg_bytes ? cfg->seg_bytes : SPOOL_SEG_DEFAULT;
	sp->lease = cfg->seq_lease ? cfg->seq_lease : SPOOL_LEASE_DEFAULT;
	sp->nosync = cfg->nosync;
	if (sp->max_bytes < 4 * SPOOL_SEG_MIN) {
		free(sp);
		return -EINVAL;
	}
	if (sp->seg_bytes > sp->max_bytes / 4)
		sp->seg_bytes = sp->max_bytes / 4;
	if (sp->seg_bytes < SPOOL_SEG_MIN)
		sp->seg_bytes = SPOOL_SEG_MIN;
	if (pthread_mutex_init(&sp->mu, NULL) != 0) {
		free(sp);
		return -ENOMEM;
	}
	if (mkdir(cfg->dir, 0750) != 0 && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	sp->dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0) {
		err = -errno;
		goto fail;
	}
	sp->lockfd = openat(sp->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (sp->lockfd < 0) {
		err = -errno;
		goto fail;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	err = recover(sp);
	if (err)
		goto fail;
	*out = sp;
	return 0;
fail:
	spool_close(sp);
	return err;
}

static int seq_write(struct spool *sp, uint64_t next)
{
	uint8_t b[SEQ_LEN];

	put32(b, SEQ_MAGIC);
	put32(b + 4, SPOOL_VERSION);
	put64(b + 8, next);
	put32(b + 16, spool_crc32c(0, b, 16));
	return write_atomic(sp, "seq", b, sizeof(b));
}

void spool_close(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->seq_written && sp->seq_next != sp->seq_limit)
		seq_write(sp, sp->seq_next);
	if (sp->wfd >= 0)
		close(sp->wfd);
	if (sp->rfd >= 0)
		close(sp->rfd);
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	pthread_mutex_destroy(&sp->mu);
	free(sp->segs);
	free(sp->wbuf);
	free(sp);
}

/* ---- producer ---- */

int spool_seq_take(struct spool *sp, uint64_t n, uint64_t *first)
{
	if (n > UINT32_MAX)
		return -EINVAL;
	if (sp->seq_next > UINT64_MAX - n - sp->lease)
		return -EOVERFLOW;
	if (!sp->seq_written || sp->seq_next + n > sp->seq_limit) {
		uint64_t limit = sp->seq_next + n + sp->lease;
		int err = seq_write(sp, limit);
		if (err) {
			pthread_mutex_lock(&sp->mu);
			sp->st.io_errors++;
			pthread_mutex_unlock(&sp->mu);
			return err;
		}
		sp->seq_limit = limit;
		sp->seq_written = true;
	}
	*first = sp->seq_next;
	sp->seq_next += n;
	return 0;
}

/* Starts segment next_seg: header written to a temporary file, synced, then
 * renamed into place (a segment file always has a whole header). */
static int seg_roll(struct spool *sp)
{
	char name[64], tmp[64];
	uint8_t h[SPOOL_SEG_HDR];
	uint64_t seq = sp->next_seg++;
	int fd, err;

	if (sp->wfd >= 0) {
		close(sp->wfd);
		sp->wfd = -1;
	}
	seg_name(name, sizeof(name), seq, "");
	seg_name(tmp, sizeof(tmp), seq, ".tmp");
	put32(h, SPOOL_SEG_MAGIC);
	put32(h + 4, SPOOL_VERSION | SPOOL_SEG_HDR << 16);
	put64(h + 8, seq);
	fd = openat(sp->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	err = pwrite_all(fd, h, sizeof(h), 0);
	if (!err)
		err = do_sync(sp, fd);
	if (!err && renameat(sp->dirfd, tmp, sp->dirfd, name) != 0)
		err = -errno;
	if (!err && (err = do_sync(sp, sp->dirfd)) != 0)
		unlinkat(sp->dirfd, name, 0);
	if (err) {
		unlinkat(sp->dirfd, tmp, 0);
		close(fd);
		return err;
	}
	struct spool_seg s = { .seq = seq, .size = SPOOL_SEG_HDR, .disk = SPOOL_SEG_HDR, .bad_at = NO_BAD };
	pthread_mutex_lock(&sp->mu);
	err = seg_push(sp, &s);
	pthread_mutex_unlock(&sp->mu);
	if (err) {
		unlinkat(sp->dirfd, name, 0);
		close(fd);
		return err;
	}
	sp->wfd = fd;
	sp->wseq = seq;
	sp->woff = SPOOL_SEG_HDR;
	return 0;
}

/* Writes LEN bytes of frames (NREC records) at the end of the last segment,
 * syncs them and publishes the new committed end.  On failure the segment is
 * cut back to its committed end and closed for appending. */
static int flush(struct spool *sp, size_t len, size_t nrec)
{
	int err = pwrite_all(sp->wfd, sp->wbuf, len, sp->woff);

	if (!err)
		err = do_sync(sp, sp->wfd);
	pthread_mutex_lock(&sp->mu);
	struct spool_seg *l = &sp->segs[sp->nsegs - 1];
	if (err) {
		struct stat st;
		sp->st.io_errors++;
		if (ftruncate(sp->wfd, (off_t)sp->woff) != 0 && fstat(sp->wfd, &st) == 0 &&
		    (uint64_t)st.st_size > l->disk) {
			sp->total += (uint64_t)st.st_size - l->disk;
			l->disk = (uint64_t)st.st_size;
		}
		pthread_mutex_unlock(&sp->mu);
		close(sp->wfd);
		sp->wfd = -1;
		return err;
	}
	l->size += len;
	l->disk += len;
	sp->total += len;
	sp->st.appended += nrec;
	pthread_mutex_unlock(&sp->mu);
	sp->woff += len;
	return 0;
}

size_t spool_append_batch(struct spool *sp, const struct spool_rec *recs, size_t n)
{
	size_t stored = 0, pend = 0, blen = 0, invalid = 0, drops = 0, io_drops = 0, i;
	uint64_t total;
	bool sealed;

	pthread_mutex_lock(&sp->mu);
	total = sp->total;
	sealed = sp->nsegs && sp->segs[sp->nsegs - 1].seq == sp->wseq &&
		 sp->segs[sp->nsegs - 1].bad_at != NO_BAD;
	pthread_mutex_unlock(&sp->mu);
	if (sealed && sp->wfd >= 0) {   /* the consumer found a bad frame in it */
		close(sp->wfd);
		sp->wfd = -1;
	}
	for (i = 0; i < n; i++) {
		const struct spool_rec *r = &recs[i];
		if (!r->p || r->len == 0 || r->len > SPOOL_REC_MAX) {
			invalid++;
			continue;
		}
		uint64_t fsz = SPOOL_FRAME_HDR + (uint64_t)r->len;
		bool roll = sp->wfd < 0 || sp->woff + blen + fsz > sp->seg_bytes;
		if (total + blen + fsz + (roll ? SPOOL_SEG_HDR : 0) > sp->max_bytes) {
			drops = n - i;
			break;
		}
		if (roll) {
			if (blen) {
				if (flush(sp, blen, pend) != 0) {
					io_drops = pend + (n - i);
					pend = blen = 0;
					break;
				}
				stored += pend;
				total += blen;
				pend = blen = 0;
			}
			if (seg_roll(sp) != 0) {
				pthread_mutex_lock(&sp->mu);
				sp->st.io_errors++;
				pthread_mutex_unlock(&sp->mu);
				io_drops = n - i;
				break;
			}
			total += SPOOL_SEG_HDR;
		}
		if (blen + fsz > sp->wcap) {
			size_t nc = sp->wcap ? sp->wcap : 65536;
			while (nc < blen + fsz)
				nc *= 2;
			uint8_t *nb = realloc(sp->wbuf, nc);
			if (!nb) {
				io_drops = n - i;
				break;
			}
			sp->wbuf = nb;
			sp->wcap = nc;
		}
		uint8_t *f = sp->wbuf + blen;
		put32(f, r->len);
		memcpy(f + SPOOL_FRAME_HDR, r->p, r->len);
		put32(f + 4, frame_crc(f, r->p, r->len));
		blen += fsz;
		pend++;
	}
	if (blen) {
		if (flush(sp, blen, pend) == 0)
			stored += pend;
		else
			io_drops += pend;
	}
	if (invalid || drops || io_drops) {
		pthread_mutex_lock(&sp->mu);
		sp->st.invalid += invalid;
		sp->st.drops += drops;
		sp->st.io_drops += io_drops;
		pthread_mutex_unlock(&sp->mu);
	}
	return stored;
}

/* ---- consumer ---- */

void spool_batch_init(struct spool_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void spool_batch_fini(struct spool_batch *b)
{
	free(b->recs);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

static int reader_fd(struct spool *sp, uint64_t seq)
{
	char name[64];

	if (sp->rfd >= 0 && sp->rseq == seq)
		return sp->rfd;
	if (sp->rfd >= 0)
		close(sp->rfd);
	seg_name(name, sizeof(name), seq, "");
	sp->rfd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
	sp->rseq = seq;
	return sp->rfd >= 0 ? sp->rfd : -errno;
}

/* A bad frame at OFF in segment SEQ: the segment ends there for readers
 * (and for the producer, who starts a new one). */
static void mark_bad(struct spool *sp, uint64_t seq, uint64_t off)
{
	pthread_mutex_lock(&sp->mu);
	size_t i = seg_find(sp, seq);
	if (i < sp->nsegs && sp->segs[i].seq == seq && sp->segs[i].bad_at > off) {
		struct spool_seg *s = &sp->segs[i];
		uint64_t was = s->bad_at < s->size ? s->bad_at : s->size;
		if (s->bad_at == NO_BAD)
			sp->st.corrupt++;
		sp->st.corrupt_bytes += was > off ? was - off : 0;
		s->bad_at = off;
	}
	pthread_mutex_unlock(&sp->mu);
}

static bool batch_room(struct spool_batch *b, uint32_t len)
{
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		struct spool_rec *nr = realloc(b->recs, nc * sizeof(*nr));
		if (!nr)
			return false;
		b->recs = nr;
		b->cap = nc;
	}
	if (b->buflen + len + 1 > b->bufcap) {
		size_t nc = b->bufcap ? b->bufcap : 65536;
		while (nc < b->buflen + len + 1)
			nc *= 2;
		char *nb = realloc(b->buf, nc);
		if (!nb)
			return false;
		b->buf = nb;
		b->bufcap = nc;
	}
	return true;
}

int spool_read(struct spool *sp, size_t max_n, size_t max_bytes, struct spool_batch *b)
{
	struct spool_pos pos;
	int err = 0;

	b->n = 0;
	b->bytes = 0;
	b->buflen = 0;
	if (max_n > INT32_MAX)
		max_n = INT32_MAX;
	pthread_mutex_lock(&sp->mu);
	pos = sp->ack;
	pthread_mutex_unlock(&sp->mu);
	while (b->n < max_n) {
		uint8_t fh[SPOOL_FRAME_HDR];
		uint64_t end, next_seq = 0;
		bool has_next;
		ssize_t r;
		uint32_t len;
		int fd;

		pthread_mutex_lock(&sp->mu);
		size_t i = seg_find(sp, pos.seg);
		if (i == sp->nsegs) {
			pthread_mutex_unlock(&sp->mu);
			break;
		}
		struct spool_seg s = sp->segs[i];
		has_next = i + 1 < sp->nsegs;
		if (has_next)
			next_seq = sp->segs[i + 1].seq;
		pthread_mutex_unlock(&sp->mu);

		if (s.seq != pos.seg)   /* pos.seg is gone (removed at open): next one */
			pos = (struct spool_pos){ s.seq, SPOOL_SEG_HDR };
		if (pos.off < SPOOL_SEG_HDR)
			pos.off = SPOOL_SEG_HDR;
		end = s.size < s.bad_at ? s.size : s.bad_at;
		if (pos.off >= end) {
			if (!has_next)
				break;
			pos = (struct spool_pos){ next_seq, SPOOL_SEG_HDR };
			continue;
		}
		fd = reader_fd(sp, s.seq);
		if (fd < 0) {
			err = fd;
			break;
		}
		if (end - pos.off < SPOOL_FRAME_HDR) {
			mark_bad(sp, s.seq, pos.off);
			continue;
		}
		r = pread_all(fd, fh, sizeof(fh), pos.off);
		if (r < 0) {
			err = (int)r;
			break;
		}
		len = get32(fh);
		if (r < (ssize_t)sizeof(fh) || len == 0 || len > SPOOL_REC_MAX ||
		    len > end - pos.off - SPOOL_FRAME_HDR) {
			mark_bad(sp, s.seq, pos.off);
			continue;
		}
		if (b->n && b->bytes + len > max_bytes)
			break;
		if (!batch_room(b, len)) {
			err = -ENOMEM;
			break;
		}
		r = pread_all(fd, b->buf + b->buflen, len, pos.off + SPOOL_FRAME_HDR);
		if (r < 0) {
			err = (int)r;
			break;
		}
		if (r < (ssize_t)len || frame_crc(fh, b->buf + b->buflen, len) != get32(fh + 4)) {
			mark_bad(sp, s.seq, pos.off);
			continue;
		}
		b->buf[b->buflen + len] = '\0';
		b->recs[b->n].p = (const char *)(uintptr_t)b->buflen;   /* fixed up below */
		b->recs[b->n].len = len;
		b->n++;
		b->buflen += len + 1;
		b->bytes += len;
		pos.off += SPOOL_FRAME_HDR + len;
	}
	for (size_t i = 0; i < b->n; i++)
		b->recs[i].p = b->buf + (uintptr_t)b->recs[i].p;
	b->end = pos;
	if (err) {
		pthread_mutex_lock(&sp->mu);
		sp->st.io_errors++;
		pthread_mutex_unlock(&sp->mu);
		if (!b->n)
			return err;
	}
	return (int)b->n;
}

int spool_ack(struct spool *sp, const struct spool_pos *pos)
{
	struct spool_pos np = *pos;
	uint64_t *gone = NULL;
	size_t ngone = 0;
	int err;

	pthread_mutex_lock(&sp->mu);
	if (pos_lt(np, sp->ack) || !sp->nsegs ||
	    pos_lt((struct spool_pos){ sp->segs[sp->nsegs - 1].seq, sp->segs[sp->nsegs - 1].size }, np)) {
		bool same = np.seg == sp->ack.seg && np.off == sp->ack.off;
		pthread_mutex_unlock(&sp->mu);
		return same ? 0 : -EINVAL;
	}
	/* At the end of a segment that has a successor: the successor's start
	 * (so the finished segment can go). */
	size_t i = seg_find(sp, np.seg);
	if (i < sp->nsegs && sp->segs[i].seq != np.seg)
		np = (struct spool_pos){ sp->segs[i].seq, SPOOL_SEG_HDR };
	else if (i + 1 < sp->nsegs &&
		 np.off >= (sp->segs[i].size < sp->segs[i].bad_at ? sp->segs[i].size : sp->segs[i].bad_at))
		np = (struct spool_pos){ sp->segs[i + 1].seq, SPOOL_SEG_HDR };
	pthread_mutex_unlock(&sp->mu);
	if (np.seg == sp->ack.seg && np.off == sp->ack.off)
		return 0;

	err = ack_write(sp, np);
	pthread_mutex_lock(&sp->mu);
	if (err) {
		sp->st.io_errors++;
		pthread_mutex_unlock(&sp->mu);
		return err;
	}
	sp->ack = np;
	i = seg_find(sp, np.seg);   /* segments [0, i) are wholly before the ack */
	if (i) {
		gone = malloc(i * sizeof(*gone));
		if (gone) {
			ngone = i;
			for (size_t k = 0; k < i; k++) {
				gone[k] = sp->segs[k].seq;
				sp->total -= sp->segs[k].disk;
			}
			memmove(sp->segs, sp->segs + i, (sp->nsegs - i) * sizeof(*sp->segs));
			sp->nsegs -= i;
		}
	}
	pthread_mutex_unlock(&sp->mu);
	for (size_t k = 0; k < ngone; k++) {
		char name[64];
		if (sp->rfd >= 0 && sp->rseq == gone[k]) {
			close(sp->rfd);
			sp->rfd = -1;
		}
		seg_name(name, sizeof(name), gone[k], "");
		unlinkat(sp->dirfd, name, 0);
	}
	free(gone);
	return 0;
}

void spool_stats(struct spool *sp, struct spool_stats *st)
{
	pthread_mutex_lock(&sp->mu);
	*st = sp->st;
	st->bytes = sp->total;
	st->segments = sp->nsegs;
	st->ack = sp->ack;
	st->backlog_bytes = 0;
	for (size_t i = 0; i < sp->nsegs; i++) {
		const struct spool_seg *s = &sp->segs[i];
		if (s->seq < sp->ack.seg)
			continue;
		uint64_t from = s->seq == sp->ack.seg ? sp->ack.off : 0;
		st->backlog_bytes += s->size > from ? s->size - from : 0;
	}
	pthread_mutex_unlock(&sp->mu);
}
