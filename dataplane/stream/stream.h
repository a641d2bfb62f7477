/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP stream reassembly, per worker: bounded, preallocated, no locks (a
 * worker owns its stream pool and every flow direction that uses it).
 *
 * A flow direction is a caller-owned struct stream_dir (32 bytes, embedded
 * twice in the caller's per-flow state).  Its bytes are numbered by stream
 * offset: 64 bits, 0 at the base (the direction's first data byte), never
 * wrapping.  Segments arrive by 32-bit sequence number (modular arithmetic,
 * so wraparound is transparent) and every byte that becomes contiguous is
 * handed to a callback, in order: straight from the segment when it is next
 * (zero copy), from the pool's chunks when it had to wait.
 *
 * Out-of-order bytes wait in fixed chunks of the pool (STREAM_CHUNK_DATA
 * payload bytes each; a segment may take several, and the chunk before it
 * is topped up first when the two are adjacent).  A direction's chunks
 * hold disjoint byte ranges in offset order.
 *
 * Bounds, each counted when hit (stream.* counters):
 *  - depth: stream offsets at or past depth are never delivered nor
 *    buffered; when a direction's next offset reaches depth it is done
 *    (stream.depth_reached, once), its chunks are freed and further
 *    segments are ignored;
 *  - memcap: the pool's chunks (memcap / STREAM_CHUNK_SIZE of them), shared
 *    by all directions (stream.memcap_drops);
 *  - max_segs: chunks one direction may hold (stream.segment_limit_drops).
 * A segment that does not fit is not buffered at all.  When the direction
 * holds buffered data, the hole before it is then stepped over (as by
 * stream_dir_flush(), counted stream.reassembly_gap) and the segment is
 * tried once more: for an inspector a hole that has waited for max_segs
 * segments is almost always data the capture lost and no retransmission
 * will fill, and delivering is better than stalling until the flow ends.
 * The bound counters count segments that found the bound reached, whether
 * or not the flush then made room for them.
 *
 * Overlaps: bytes before the next expected offset were delivered (or
 * stepped over) and are dropped; bytes already buffered are compared with
 * the new ones (stream.overlaps once per segment that overlaps anything,
 * stream.overlap_diff_data when buffered bytes differ) and STREAM_FIRST
 * keeps the buffered copy, STREAM_LAST the new one -- including when the
 * segment that fills a hole runs on over buffered bytes.
 *
 * Window: a segment whose sequence number is more than STREAM_WINDOW
 * (1 GiB) before or after the next expected one is ignored and counted
 * nowhere: no TCP window is that large (65535 << 14 < 1 GiB), so it is not
 * data of this stream as the caller's TCP tracking sees it, and that
 * tracking is where out-of-window segments are judged and counted.
 */
#ifndef VIGIL_STREAM_H
#define VIGIL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctr.h"

#define STREAM_CHUNK_DATA 2048u                       /* payload bytes per chunk */
#define STREAM_CHUNK_SIZE (STREAM_CHUNK_DATA + 16u)   /* with its header: the unit of memcap */
#define STREAM_WINDOW (1u << 30)                      /* farthest sequence distance accepted */
#define STREAM_MAX_SEGS (1u << 20)                    /* highest max_segs (2 GiB per direction) */

enum stream_policy {
	STREAM_FIRST,   /* first copy of overlapping bytes wins */
	STREAM_LAST,    /* last copy wins */
};

struct stream_cfg {
	uint32_t depth;            /* bytes per direction, offsets [0, depth); 0 = unlimited */
	uint64_t memcap;           /* bytes of chunk memory per pool, STREAM_CHUNK_SIZE each */
	uint32_t max_segs;         /* chunks one direction may hold, 1..STREAM_MAX_SEGS */
	enum stream_policy policy;
};

struct stream_pool;

/* One direction of a TCP flow; caller-owned.  Fields are private. */
struct stream_dir {
	uint64_t next;             /* stream offset of the next byte to deliver */
	uint32_t base;             /* sequence number of stream offset 0 */
	uint32_t head, tail;       /* buffered chunks in offset order (pool indexes) */
	uint32_t nchunks;          /* chunks held */
	uint8_t flags;
};

/*
 * Called with contiguous in-order data: off is the stream offset of data[0],
 * gap is true when bytes before off were never seen and were stepped over.
 * data is valid only during the call.  The callback must not call back into
 * this direction.
 */
typedef void (*stream_deliver_fn)(void *arg, const uint8_t *data, uint32_t len, uint64_t off,
				  bool gap);

/*
 * Allocate a pool and all its chunks.  Counts into ctr (the owning thread's
 * block, not NULL).  Returns 0, -EINVAL for a bad cfg (max_segs out of
 * range, unknown policy, more than 2^32 - 2 chunks) or -ENOMEM.  Cold path.
 */
int stream_pool_create(struct stream_pool **out, const struct stream_cfg *cfg, struct ctr_block *ctr);

/* Free the pool; stream_pool_destroy(NULL) does nothing.  Directions that
 * still hold chunks must not be used afterwards. */
void stream_pool_destroy(struct stream_pool *p);

/* Bytes the pool allocated, and bytes of chunk memory in use (chunks held
 * times STREAM_CHUNK_SIZE). */
size_t stream_pool_memory(const struct stream_pool *p);
uint64_t stream_pool_held(const struct stream_pool *p);

/* An empty direction without a base; segments are ignored until one is set. */
void stream_dir_init(struct stream_dir *d);

/* The sequence number of the direction's first data byte (ISN + 1 from a
 * SYN, or the first data segment's seq for a midstream pickup); stream
 * offset 0.  On an initialised direction that holds no chunks. */
void stream_dir_set_base(struct stream_dir *d, uint32_t seq);
bool stream_dir_has_base(const struct stream_dir *d);
/* The direction reached the depth: nothing more will be delivered. */
bool stream_dir_done(const struct stream_dir *d);

/*
 * Add one segment: len bytes at sequence number seq.  Delivers through fn,
 * in order and possibly in several calls, every byte that becomes
 * contiguous: the segment itself when it is next and any buffered bytes it
 * unblocks; buffers it when it is ahead of a hole (stream.out_of_order).
 * Returns the bytes delivered by this call (saturating at UINT32_MAX).
 * len 0, no base yet, depth reached or out of the window: nothing happens.
 * Hot path: no allocation, owning thread only.
 */
uint32_t stream_dir_add(struct stream_pool *p, struct stream_dir *d, uint32_t seq,
			const uint8_t *data, uint32_t len, stream_deliver_fn fn, void *arg);

/*
 * Step over the hole before the first buffered chunk (stream.reassembly_gap)
 * and deliver what follows as far as it is contiguous; the next delivery
 * has gap set.  One hole per call: at flow end, call it until it returns 0.
 * Returns the bytes delivered (0 when nothing is buffered).
 */
uint32_t stream_dir_flush(struct stream_pool *p, struct stream_dir *d, stream_deliver_fn fn,
			  void *arg);

/* Return every chunk the direction holds to the pool (flow end); the
 * direction keeps its offsets.  Calling it twice is harmless. */
void stream_dir_fini(struct stream_pool *p, struct stream_dir *d);

/* Stream offset of the next byte to deliver (delivered plus stepped-over
 * bytes), and chunks the direction holds. */
uint64_t stream_dir_delivered(const struct stream_dir *d);
uint32_t stream_dir_chunks(const struct stream_dir *d);

#endif
