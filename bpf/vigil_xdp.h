/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * What crosses the kernel/user boundary of vigil's XDP program
 * (vigil_xdp.bpf.c): map names, keys and values.  Types only, fixed-width
 * fields, no padding the compiler could fill differently on either side.
 * Included by the BPF program (clang -target bpf) and by user space
 * (bpf/xdp.c, the dataplane, the tools).
 *
 * Byte order: addresses are network order (the packet's bytes); ports,
 * VLAN ids and every counter are host order.
 * Time: CLOCK_MONOTONIC nanoseconds, the clock of bpf_ktime_get_ns().
 */
#ifndef VIGIL_XDP_H
#define VIGIL_XDP_H

#include <linux/types.h>

/* Bumped when a map's key or value layout changes; user space checks the
 * maps' key and value sizes when it opens a running program's maps. */
#define VIGIL_XDP_ABI 1

/* Map names (the kernel keeps at most 15 characters: these fit). */
#define VIGIL_MAP_COUNTERS "vigil_counters"
#define VIGIL_MAP_BLOCK_V4 "vigil_block_v4"
#define VIGIL_MAP_BLOCK_V6 "vigil_block_v6"
#define VIGIL_MAP_BYPASS "vigil_bypass"
#define VIGIL_MAP_CONFIG "vigil_config"
#define VIGIL_MAP_XSKS "xsks_map"   /* DPDK's net_af_xdp PMD looks it up by this name */
#define VIGIL_PROG_NAME "vigil_xdp"

/* Map sizes. */
#define VIGIL_BLOCK_MAX 65536       /* prefixes per family */
#define VIGIL_BYPASS_MAX 65536      /* bypassed flows (LRU: the oldest is evicted when full) */
#define VIGIL_XSK_MAX 256           /* RX queues that can redirect to an AF_XDP socket */

/* vigil_counters: a per-CPU array indexed by enum vigil_ctr.  Every packet
 * counts in RX and in exactly one verdict counter (BLOCK_DROPPED,
 * BYPASS_DROPPED, BYPASS_PASSED, TO_XSK, TO_KERNEL); PARSE_ERROR, NON_IP
 * and BLOCK_TAGGED describe packets further. */
enum vigil_ctr {
	VIGIL_CTR_RX,               /* every packet the program saw */
	VIGIL_CTR_PARSE_ERROR,      /* truncated or malformed headers (passed on, never dropped for it) */
	VIGIL_CTR_NON_IP,           /* neither IPv4 nor IPv6 after at most two VLAN tags (ARP, MPLS, ...) */
	VIGIL_CTR_BLOCK_DROPPED,    /* inline mode: source or destination blocklisted */
	VIGIL_CTR_BLOCK_TAGGED,     /* tap mode: blocklisted, tagged with VIGIL_META_BLOCKED */
	VIGIL_CTR_BYPASS_DROPPED,   /* tap mode: a bypassed flow, not delivered to user space */
	VIGIL_CTR_BYPASS_PASSED,    /* inline mode: a bypassed flow, passed to the kernel */
	VIGIL_CTR_TO_XSK,           /* redirected to the AF_XDP socket of the RX queue */
	VIGIL_CTR_TO_KERNEL,        /* passed to the kernel (xsk off, or no socket on the queue) */
	VIGIL_CTR_MAX
};

struct vigil_ctr_val {
	__u64 packets;
	__u64 bytes;                /* frame lengths from the Ethernet header on */
};

/* vigil_block_v4 / vigil_block_v6: LPM tries keyed by prefix.  A packet
 * whose source or destination address falls in an unexpired prefix is
 * dropped (inline mode) or tagged (tap mode). */
struct vigil_lpm_v4 {
	__u32 prefixlen;            /* 0..32 */
	__u8 addr[4];
};

struct vigil_lpm_v6 {
	__u32 prefixlen;            /* 0..128 */
	__u8 addr[16];
};

struct vigil_block_val {
	__u64 expires_ns;           /* ignored from this time on; 0 = never (user space deletes it) */
	__u64 hits;                 /* packets that matched (atomically added by the program) */
};

/* vigil_bypass: an LRU hash of flows user space no longer wants to see.
 * The key is the flow's 5-tuple normalised so both directions give the same
 * key: endpoint 0 is the lower (address, port), compared as addr bytes
 * (memcmp) then port; on a tie the packet's source is endpoint 0.  IPv4
 * addresses are IPv4-mapped IPv6 (::ffff:a.b.c.d).  Fragments are never
 * bypassed (they go the normal way, so a datagram's pieces stay together). */
struct vigil_flow_key {
	__u8 addr[2][16];           /* network order */
	__u16 port[2];              /* host order; 0 for protocols without ports */
	__u8 proto;                 /* IPPROTO_* after IPv6 extension headers */
	__u8 pad;                   /* must be 0 */
	__u16 vlan;                 /* outermost VLAN id (12 bits), 0 if untagged */
};                                  /* 40 bytes */

/* Index 0 counts packets sent by endpoint 0 (key.addr[0]), 1 the other way. */
struct vigil_bypass_val {
	__u64 until_ns;             /* ignored from this time on; 0 = never */
	__u64 pkts[2];              /* atomically added by the program */
	__u64 bytes[2];
	__u8 tcp_flags[2];          /* OR of the TCP flags seen per direction (best effort) */
	__u8 pad[6];
};                                  /* 48 bytes */

/* vigil_config: an array of one entry.  Until user space writes it with
 * version = VIGIL_CONFIG_VERSION, the program behaves as {tap, xsk on}:
 * that is what DPDK's net_af_xdp needs when it loads the object itself
 * (its xdp_prog= devarg) and leaves the map zeroed. */
enum vigil_mode {
	VIGIL_MODE_TAP = 0,         /* a copy of the traffic: nothing we drop is lost to the network */
	VIGIL_MODE_INLINE = 1,      /* in the path: blocklisted packets are dropped */
};

#define VIGIL_CONFIG_VERSION 1

struct vigil_config {
	__u32 mode;                 /* enum vigil_mode */
	__u32 xsk;                  /* 1: redirect to xsks_map[rx queue]; 0: pass to the kernel */
	__u32 version;              /* VIGIL_CONFIG_VERSION once written; 0 = the defaults above */
	__u32 pad;
};

/* XDP metadata (4 bytes before the packet, host order) on blocklisted
 * packets in tap mode, when the driver supports metadata. */
#define VIGIL_META_BLOCKED 0x7669b001u

#endif
