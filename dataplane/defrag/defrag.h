/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 and IPv6 fragment reassembly, per worker: bounded, preallocated, no
 * locks (a worker owns its defragmenter and every datagram in it).
 *
 * A datagram in reassembly is a tracker keyed by (IP version, source,
 * destination, identification, protocol); for IPv6 the protocol is the
 * fragment header's next header.  Each tracker owns one fixed slot of a pool
 * allocated at creation: DEFRAG_HDR_ROOM bytes for the first fragment's
 * header (IPv4 header, or IPv6 unfragmentable part), 64 KiB of datagram data
 * and a 8 KiB bitmap of the bytes received, so reassembly never allocates
 * and the completed packet is handed out in place.  defrag_memory() gives
 * the exact figure (74,332 bytes per tracker on x86-64).
 *
 * Bounds, each counted when hit (defrag.* counters):
 *  - max_trackers datagrams at once; a new one evicts the oldest;
 *  - memcap bytes of fragment data held over all datagrams; a fragment that
 *    would pass it is dropped (its datagram stays);
 *  - max_frags fragments per datagram; the one past it drops the datagram;
 *  - timeout_ns from a datagram's first fragment (packet time); an older
 *    datagram is dropped by defrag_expire() or when its next fragment comes.
 *
 * Overlaps: bytes already received are compared with the new fragment's
 * (differences count defrag.overlap_conflicts) and DEFRAG_FIRST keeps the old
 * bytes, DEFRAG_LAST the new ones.  The header always comes from the first
 * fragment at offset 0 to arrive.
 *
 * Invalid (counted as defrag.invalid; the fragment's datagram is dropped):
 * data ending beyond 65535, a non-last fragment whose length is 0 or not a
 * multiple of 8, a last fragment contradicting an earlier last fragment or
 * ending before data already received, data beyond a known end, an IPv6
 * unfragmentable part larger than DEFRAG_HDR_ROOM, a reassembled datagram
 * longer than 65535 bytes.
 */
#ifndef VIGIL_DEFRAG_H
#define VIGIL_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "ctr.h"
#include "pkt.h"

#define DEFRAG_DATA_MAX 65535u   /* highest fragment data end */
#define DEFRAG_HDR_ROOM 512u     /* largest stored header / unfragmentable part */

enum defrag_policy {
	DEFRAG_FIRST,   /* first copy of overlapping bytes wins ("bsd"-like) */
	DEFRAG_LAST,    /* last copy wins */
};

struct defrag_cfg {
	uint32_t max_trackers;     /* datagrams in reassembly, >= 1 */
	uint64_t memcap;           /* bytes of fragment data held, all datagrams */
	uint32_t max_frags;        /* fragments per datagram, >= 1 */
	uint64_t timeout_ns;       /* from a datagram's first fragment, packet time */
	enum defrag_policy policy;
	uint32_t seed;             /* tracker hash seed (pick it at random) */
};

struct defrag;

/*
 * Allocate a defragmenter and its whole pool (all memory it will ever use).
 * Counts into ctr (the owning thread's block, not NULL).  Returns 0, -EINVAL
 * for a bad cfg, or -ENOMEM.  Cold path.
 */
int defrag_create(struct defrag **out, const struct defrag_cfg *cfg, struct ctr_block *ctr);

/* Free everything; defrag_destroy(NULL) does nothing. */
void defrag_destroy(struct defrag *d);

/*
 * Add one fragment: p is a decoded packet with PKT_F_FRAG set whose
 * l3_off points at the (innermost) IPv4 or IPv6 header in p->data; the
 * defragmenter re-reads that header itself (offset, MF bit, id, length) and
 * uses p->ts_ns as the time.  The fragment's bytes are copied: p may be
 * reused afterwards.
 *
 * Returns 1 when the datagram is complete: *out, *out_len is a whole IP packet
 * (IPv4: the first fragment's header with MF and offset cleared, total length
 * and checksum fixed; IPv6: the unfragmentable part with the fragment header
 * removed, next header and payload length fixed) that pkt_decode() with
 * PKT_LINK_RAW decodes as an unfragmented packet.  The buffer belongs to the
 * defragmenter and stays valid until the next defrag_feed() or
 * defrag_expire().  Returns 0 when the fragment was stored and more are
 * needed, or a negative errno when it was dropped (always counted):
 * -EINVAL invalid, -ENOSPC memcap, -E2BIG max_frags.
 * Hot path: no allocation, owning thread only.
 */
int defrag_feed(struct defrag *d, const struct pkt *p, uint8_t **out, uint32_t *out_len);

/* Drop up to budget datagrams whose first fragment is older than the timeout
 * at packet time now_ns (counted as defrag.timeouts); returns how many. */
unsigned defrag_expire(struct defrag *d, uint64_t now_ns, unsigned budget);

/* Datagrams in reassembly, and fragment data bytes they hold. */
uint32_t defrag_live(const struct defrag *d);
uint64_t defrag_held(const struct defrag *d);

/* Bytes of memory the defragmenter allocated (pool, trackers, buckets). */
size_t defrag_memory(const struct defrag *d);

#endif
