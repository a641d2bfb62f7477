/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * User-space side of vigil's XDP program (vigil_xdp.bpf.c): attach and
 * detach it, and work its maps (blocklist, flow bypass, counters, config)
 * from any process.
 *
 * Attaching pins the maps under XDP_PIN_ROOT/IFACE/ (bpffs is mounted at
 * /sys/fs/bpf if it is not).  xdp_open() finds the maps of the program
 * attached to an interface: through those pins, or else through the
 * program's map ids (the case when DPDK's net_af_xdp PMD loaded our object
 * itself from its xdp_prog= devarg).
 *
 * Errors: functions return 0 (or a count) on success and -errno on failure.
 * Those without a handle write a message to err (errlen bytes, may be
 * NULL); those with one keep it for xdp_errmsg().  Everything here needs
 * CAP_BPF and CAP_NET_ADMIN (root) except xdp_prefix_*, xdp_flow_key_make
 * and xdp_now_ns.  A handle may be used by one thread at a time; several
 * processes may share the maps (the kernel's map operations are atomic
 * per entry).
 */
#ifndef VIGIL_BPF_XDP_H
#define VIGIL_BPF_XDP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil_xdp.h"

#define XDP_PIN_ROOT "/sys/fs/bpf/vigil"

/* Where the program is hooked. */
enum xdp_hook {
	XDP_HOOK_AUTO,            /* the driver's native XDP if it has one, else generic */
	XDP_HOOK_SKB,             /* generic XDP (any device, slower) */
	XDP_HOOK_DRV,             /* native XDP in the driver; fails where there is none */
};

struct xdp_handle;
struct bpf_object;

/* Loads the program, writes its config ({mode, xsk}), attaches it to iface
 * (failing if the interface already has an XDP program) and pins its maps.
 * The program stays attached after the process exits.  Not to be called
 * from two threads at once (it swaps libbpf's process-wide print hook). */
int xdp_attach(const char *iface, enum vigil_mode mode, enum xdp_hook hook, bool xsk,
	       char *err, size_t errlen);
/* Detaches vigil's program from iface (refusing any other program) and
 * removes the pins.  -ENOENT if iface has no XDP program. */
int xdp_detach(const char *iface, char *err, size_t errlen);

/* A handle on the maps of vigil's program on iface. */
int xdp_open(const char *iface, struct xdp_handle **out, char *err, size_t errlen);
/* A handle on the maps of a loaded object (the skeleton's obj), attached
 * or not: for tests.  The handle has its own descriptors. */
int xdp_open_object(struct bpf_object *obj, struct xdp_handle **out, char *err, size_t errlen);
void xdp_close(struct xdp_handle *h);
/* The message of the handle's last failure ("" if none). */
const char *xdp_errmsg(const struct xdp_handle *h);

struct xdp_info {
	char iface[IF_NAMESIZE];   /* "" for xdp_open_object */
	uint32_t prog_id;          /* 0 if not known (maps from pins, iface in another netns) */
	const char *hook;          /* "skb", "drv", "hw", "multi" or "" */
	bool pinned;               /* maps found through XDP_PIN_ROOT */
	enum vigil_mode mode;
	bool xsk;
	bool configured;           /* vigil_config written (else the defaults: tap, xsk) */
};
int xdp_info(struct xdp_handle *h, struct xdp_info *info);
int xdp_set_config(struct xdp_handle *h, enum vigil_mode mode, bool xsk);

/* CLOCK_MONOTONIC in ns: the program's clock (bpf_ktime_get_ns). */
uint64_t xdp_now_ns(void);

/* Counters summed over every CPU. */
struct xdp_counters {
	struct vigil_ctr_val c[VIGIL_CTR_MAX];
};
int xdp_counters(struct xdp_handle *h, struct xdp_counters *sum);
const char *xdp_counter_name(enum vigil_ctr i);   /* "rx", "parse_error", ... */
const char *xdp_counter_help(enum vigil_ctr i);

/* Prefixes: "192.0.2.0/24", "2001:db8::/32"; an address alone is /32 or
 * /128.  Bits beyond the length must be zero. */
struct xdp_prefix {
	uint8_t family;            /* 4 or 6 */
	uint8_t len;               /* 0..32 or 0..128 */
	uint8_t addr[16];          /* network order; IPv4 in the first 4 bytes, the rest 0 */
};
#define XDP_PREFIX_STRLEN 50       /* "ffff:...:ffff/128" and the NUL, with room */
int xdp_prefix_parse(const char *s, struct xdp_prefix *p, char *err, size_t errlen);
/* Writes "ADDR/LEN" to buf (XDP_PREFIX_STRLEN bytes are enough). */
void xdp_prefix_format(const struct xdp_prefix *p, char *buf, size_t len);

/* Blocklist.  expires_ns: CLOCK_MONOTONIC, 0 = never. */
struct xdp_block_entry {
	struct xdp_prefix prefix;
	uint64_t expires_ns;
	uint64_t hits;
};
/* Adds or replaces prefix (its hit count restarts); duration_ns 0 = forever. */
int xdp_block_add(struct xdp_handle *h, const char *prefix, uint64_t duration_ns);
/* -ENOENT if prefix is not in the list. */
int xdp_block_del(struct xdp_handle *h, const char *prefix);
/* Calls cb (may be NULL) for every entry, IPv4 first; returns how many. */
int xdp_block_list(struct xdp_handle *h, void (*cb)(const struct xdp_block_entry *e, void *arg),
		   void *arg);
/* Removes the entries expired at now_ns; returns how many. */
int xdp_block_expire(struct xdp_handle *h, uint64_t now_ns);

/* Flow bypass.  Builds the normalised key of a packet from src to dst
 * (addresses of family 4 or 6 in network order: 4 or 16 bytes; ports and
 * vlan in host order) and returns the index of its direction in the
 * counters (0: src is endpoint 0, 1: the other).  Both directions of a flow
 * give the same key. */
unsigned xdp_flow_key_make(struct vigil_flow_key *k, int family, const void *src, uint16_t sport,
			   const void *dst, uint16_t dport, uint8_t proto, uint16_t vlan);
/* Starts bypassing k until until_ns (0 = no expiry).  An existing entry
 * keeps its counts and gets the new until_ns. */
int xdp_bypass_add(struct xdp_handle *h, const struct vigil_flow_key *k, uint64_t until_ns);
/* Stops bypassing k: its entry is read and deleted in one step; counts gets
 * what the kernel counted.  -ENOENT if there is none (never added, taken,
 * or evicted from the LRU map). */
int xdp_bypass_take(struct xdp_handle *h, const struct vigil_flow_key *k,
		    struct vigil_bypass_val *counts);
/* Takes every entry expired at now_ns, calling cb (may be NULL) with each;
 * returns how many. */
int xdp_bypass_reap(struct xdp_handle *h, uint64_t now_ns,
		    void (*cb)(const struct vigil_flow_key *k, const struct vigil_bypass_val *v, void *arg),
		    void *arg);
/* Calls cb (may be NULL) for every entry; returns how many. */
int xdp_bypass_list(struct xdp_handle *h,
		    void (*cb)(const struct vigil_flow_key *k, const struct vigil_bypass_val *v, void *arg),
		    void *arg);

#endif
