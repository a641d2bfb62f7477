/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The alert spool: a bounded, crash-safe, on-disk FIFO of records (each one
 * ALERT JSON object, one line, at most SPOOL_REC_MAX bytes) between the
 * output thread (the producer) and the shipper thread (the consumer).
 *
 * On disk, in one directory (see README.md for the durability argument):
 *   seg-%016llu.spool  segments: a 16-byte header (struct below) then frames
 *                      u32 len (LE) | u32 crc32c(len bytes, payload) (LE) | payload
 *   ack                the durable read position (segment, offset), replaced
 *                      atomically (tmp + fsync + rename + fsync dir)
 *   seq                the id-counter lease (spool_seq_take), same way
 *   lock               flock'd while open: one process per spool
 *
 * Threads: spool_append_batch() and spool_seq_take() from one producer
 * thread; spool_read() and spool_ack() from one consumer thread; the two may
 * run concurrently.  spool_stats() from any thread.  Open and close with no
 * other call running.
 */
#ifndef VIGIL_SPOOL_H
#define VIGIL_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_REC_MAX      65536u          /* largest record (payload bytes) */
#define SPOOL_FRAME_HDR    8u              /* u32 len + u32 crc */
#define SPOOL_SEG_HDR      16u             /* struct spool_seg_hdr */
#define SPOOL_SEG_DEFAULT  (4ull << 20)    /* segment size */
#define SPOOL_SEG_MIN      (SPOOL_SEG_HDR + SPOOL_FRAME_HDR + SPOOL_REC_MAX)
#define SPOOL_MAX_DEFAULT  (256ull << 20)
#define SPOOL_LEASE_DEFAULT 65536u

/* Segment file header: this layout, each field little endian (written field
 * by field, never as a struct). */
#define SPOOL_SEG_MAGIC    0x47455356u     /* "VSEG" */
#define SPOOL_VERSION      1u
struct spool_seg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_len;                  /* SPOOL_SEG_HDR */
	uint64_t seq;                      /* equals the number in the file name */
};

struct spool_cfg {
	const char *dir;          /* created if missing (one level) */
	uint64_t max_bytes;       /* bound on the segment files' total size; 0: SPOOL_MAX_DEFAULT */
	uint64_t seg_bytes;       /* 0: SPOOL_SEG_DEFAULT; clamped to [SPOOL_SEG_MIN, max_bytes / 4] */
	uint32_t seq_lease;       /* ids reserved per seq-file write; 0: SPOOL_LEASE_DEFAULT */
	bool nosync;              /* tests and fuzzing only: skip every fsync */
};

/* A position: the byte offset of a frame boundary in segment SEG. */
struct spool_pos {
	uint64_t seg, off;
};

struct spool_rec {
	const char *p;
	uint32_t len;
};

/* What spool_read() fills; reused across calls (spool_batch_init/fini). */
struct spool_batch {
	struct spool_rec *recs;   /* n records, pointing into buf */
	size_t n;
	uint64_t bytes;           /* payload bytes of the n records */
	struct spool_pos end;     /* where the next read would start: pass to spool_ack */
	/* private */
	size_t cap;
	char *buf;
	size_t buflen, bufcap;
};

struct spool_stats {
	uint64_t appended;        /* records stored (fsync'd) since open */
	uint64_t drops;           /* records not stored: max_bytes reached */
	uint64_t invalid;         /* records refused: empty or over SPOOL_REC_MAX */
	uint64_t io_errors;       /* write, fsync, rename or read failures */
	uint64_t io_drops;        /* records not stored because of an I/O error */
	uint64_t torn;            /* torn tails truncated away at open */
	uint64_t torn_bytes;      /* bytes they held */
	uint64_t corrupt;         /* bad frames in a segment: its rest was skipped */
	uint64_t corrupt_bytes;   /* bytes skipped that way */
	uint64_t bad_segments;    /* segment files with a bad header, removed at open */
	uint64_t ack_resets;      /* unreadable ack file at open: replayed from the oldest segment */
	uint64_t seq_resets;      /* missing or unreadable seq file: counter restarted from the clock */
	uint64_t bytes;           /* segment bytes on disk now */
	uint64_t backlog_bytes;   /* of them not yet acknowledged (frames and headers) */
	uint64_t segments;        /* segment files now */
	struct spool_pos ack;     /* durable read position */
};

struct spool;

/* Opens (creating if needed) and recovers the spool: removes segments wholly
 * before the ack position, truncates a torn tail of the last segment, and
 * removes segments whose header is bad (counted).  -EBUSY if another open
 * spool holds the directory; other -errno on I/O errors. */
int spool_open(struct spool **out, const struct spool_cfg *cfg);
/* Makes the id counter exact (no gap on a clean restart) and closes.
 * spool_close(NULL) does nothing. */
void spool_close(struct spool *sp);

/* Producer.  Appends records in order and makes them durable (one fdatasync
 * per call, one more when a segment fills); returns how many were stored.
 * Never blocks on the consumer: records that would take the spool past
 * max_bytes are not stored (that one and every later one of the call, so
 * what is stored is always in order) and counted as drops; empty or
 * oversize records are skipped and counted as invalid. */
size_t spool_append_batch(struct spool *sp, const struct spool_rec *recs, size_t n);

/* Producer.  Reserves N consecutive ids, *first the lowest.  Ids never
 * repeat, across restarts and crashes, as long as the seq file survives
 * (after a crash some ids are skipped; a clean close leaves no gap).  A new
 * spool starts from the wall clock in microseconds, so a wiped directory
 * does not reuse an earlier life's ids either.  0 or -errno. */
int spool_seq_take(struct spool *sp, uint64_t n, uint64_t *first);

void spool_batch_init(struct spool_batch *b);
void spool_batch_fini(struct spool_batch *b);

/* Consumer.  Fills B with up to MAX_N records following the ack position
 * (not moving it), at most MAX_BYTES payload bytes (but at least one record
 * if there is one).  Returns the count (0: nothing durable beyond the ack
 * position) or -errno on a read error.  A bad frame ends its segment: the
 * read goes on with the next segment (counted once in stats.corrupt). */
int spool_read(struct spool *sp, size_t max_n, size_t max_bytes, struct spool_batch *b);

/* Consumer.  Moves the durable read position to POS (a batch's end), then
 * deletes the segments wholly before it.  0; -EINVAL if POS is before the
 * ack position or past the stored data; other -errno if the ack file could
 * not be written (the position did not move). */
int spool_ack(struct spool *sp, const struct spool_pos *pos);

/* Any thread. */
void spool_stats(struct spool *sp, struct spool_stats *st);

/* CRC-32C (Castagnoli), as the frames use: spool_crc32c(0, "123456789", 9)
 * == 0xe3069283. */
uint32_t spool_crc32c(uint32_t crc, const void *p, size_t n);

#endif
