// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * vigil's XDP program, in front of the AF_XDP socket (or the kernel) of an
 * interface.  Per packet:
 *
 *   parse Ethernet, <= 2 VLAN tags, IPv4/IPv6 (+ extension headers), TCP/UDP
 *   source or destination blocklisted (vigil_block_v4/v6, unexpired)?
 *       inline: XDP_DROP                          (block_dropped)
 *       tap:    tag (metadata) and go on below    (block_tagged)
 *   flow bypassed (vigil_bypass, unexpired; count it per direction)?
 *       tap:    XDP_DROP, user space stops seeing it   (bypass_dropped)
 *       inline: XDP_PASS to the kernel                 (bypass_passed)
 *   xsk on and a socket on this RX queue: XDP_REDIRECT  (to_xsk)
 *   else XDP_PASS                                       (to_kernel)
 *
 * Truncated or malformed headers are counted (parse_error) and the packet
 * goes on like any other: it is never dropped for being malformed.  The
 * blocklist still applies when the IP addresses were readable (a cut TCP
 * header does not get a blocked host past an inline tap); the bypass needs
 * the whole 5-tuple.  The map layouts are in vigil_xdp.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vigil_xdp.h"

#define MAX_VLAN_TAGS 2
#define MAX_EXT_HDRS 6         /* IPv6 extension headers walked before giving up on L4 */
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP6_OFFSET 0xfff8

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIL_CTR_MAX);
	__type(key, __u32);
	__type(value, struct vigil_ctr_val);
} vigil_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VIGIL_BLOCK_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vigil_lpm_v4);
	__type(value, struct vigil_block_val);
} vigil_block_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VIGIL_BLOCK_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vigil_lpm_v6);
	__type(value, struct vigil_block_val);
} vigil_block_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIGIL_BYPASS_MAX);
	__type(key, struct vigil_flow_key);
	__type(value, struct vigil_bypass_val);
} vigil_bypass SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_config);
} vigil_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, VIGIL_XSK_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* What the parser learnt.  Addresses are IPv4-mapped for IPv4. */
struct parsed {
	__u8 src[16], dst[16];
	__u16 sport, dport;         /* host order */
	__u16 vlan;                 /* outer VLAN id */
	__u8 proto;
	__u8 tcp_flags;
	__u8 family;                /* 4, 6, or 0: no IP header read */
	bool l4;                    /* proto is final and the ports (if any) were read */
	bool frag;                  /* an IP fragment (first or not) */
};

enum parse_rc { PARSE_OK, PARSE_NON_IP, PARSE_TRUNC };

static __always_inline void count(__u32 idx, __u64 bytes)
{
	struct vigil_ctr_val *c = bpf_map_lookup_elem(&vigil_counters, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Ports and TCP flags at l4; p->proto is the transport protocol. */
static __always_inline enum parse_rc parse_l4(void *l4, void *end, struct parsed *p)
{
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end)
			return PARSE_TRUNC;
		p->sport = bpf_ntohs(th->source);
		p->dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
	} else if (p->proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end)
			return PARSE_TRUNC;
		p->sport = bpf_ntohs(uh->source);
		p->dport = bpf_ntohs(uh->dest);
	}
	p->l4 = true;
	return PARSE_OK;
}

static __always_inline enum parse_rc parse_ipv4(void *l3, void *end, struct parsed *p)
{
	struct iphdr *ip = l3;
	__u32 hlen;
	__u16 frag;

	if ((void *)(ip + 1) > end)
		return PARSE_TRUNC;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_TRUNC;
	hlen = ip->ihl * 4;
	if (l3 + hlen > end)
		return PARSE_TRUNC;
	p->family = 4;
	p->src[10] = p->src[11] = 0xff;
	p->dst[10] = p->dst[11] = 0xff;
	__builtin_memcpy(&p->src[12], &ip->saddr, 4);
	__builtin_memcpy(&p->dst[12], &ip->daddr, 4);
	p->proto = ip->protocol;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & (IP_MF | IP_OFFSET))
		p->frag = true;
	if (frag & IP_OFFSET) {
		p->l4 = true;          /* a later fragment: no transport header, no ports */
		return PARSE_OK;
	}
	return parse_l4(l3 + hlen, end, p);
}

static __always_inline enum parse_rc parse_ipv6(void *l3, void *end, struct parsed *p)
{
	struct ipv6hdr *ip6 = l3;
	void *cur = ip6 + 1;
	__u8 next;

	if ((void *)(ip6 + 1) > end)
		return PARSE_TRUNC;
	if (ip6->version != 6)
		return PARSE_TRUNC;
	p->family = 6;
	__builtin_memcpy(p->src, &ip6->saddr, 16);
	__builtin_memcpy(p->dst, &ip6->daddr, 16);
	next = ip6->nexthdr;

	for (int i = 0; i < MAX_EXT_HDRS; i++) {
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
			struct ipv6_opt_hdr *h = cur;

			if ((void *)(h + 1) > end)
				return PARSE_TRUNC;
			next = h->nexthdr;
			cur += (h->hdrlen + 1) * 8;
		} else if (next == IPPROTO_FRAGMENT) {
			struct frag_hdr { __u8 nexthdr, reserved; __be16 frag_off; __be32 id; } *f = cur;

			if ((void *)(f + 1) > end)
				return PARSE_TRUNC;
			p->frag = true;
			next = f->nexthdr;
			cur = f + 1;
			if (bpf_ntohs(f->frag_off) & IP6_OFFSET) {
				p->proto = next;
				p->l4 = true;  /* a later fragment: no ports */
				return PARSE_OK;
			}
		} else {
			p->proto = next;
			return parse_l4(cur, end, p);
		}
	}
	p->proto = next;               /* too many extension headers: L4 unknown, no bypass */
	return PARSE_OK;
}

static __always_inline enum parse_rc parse(struct xdp_md *ctx, struct parsed *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *cur = eth + 1;
	__be16 proto;

	if ((void *)(eth + 1) > end)
		return PARSE_TRUNC;
	proto = eth->h_proto;
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vh = cur;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return PARSE_TRUNC;
		if (i == 0)
			p->vlan = bpf_ntohs(vh->tci) & 0x0fff;
		proto = vh->proto;
		cur = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(cur, end, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(cur, end, p);
	return PARSE_NON_IP;
}

/* A blocklist entry that applies at now: count the hit. */
static __always_inline bool block_hit(struct vigil_block_val *v, __u64 now)
{
	if (!v || (v->expires_ns && now >= v->expires_ns))
		return false;
	__sync_fetch_and_add(&v->hits, 1);
	return true;
}

static __always_inline bool blocked(const struct parsed *p, __u64 now)
{
	if (p->family == 4) {
		struct vigil_lpm_v4 k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, &p->src[12], 4);
		if (block_hit(bpf_map_lookup_elem(&vigil_block_v4, &k), now))
			return true;
		__builtin_memcpy(k.addr, &p->dst[12], 4);
		return block_hit(bpf_map_lookup_elem(&vigil_block_v4, &k), now);
	} else {
		struct vigil_lpm_v6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, p->src, 16);
		if (block_hit(bpf_map_lookup_elem(&vigil_block_v6, &k), now))
			return true;
		__builtin_memcpy(k.addr, p->dst, 16);
		return block_hit(bpf_map_lookup_elem(&vigil_block_v6, &k), now);
	}
}

/* True if (a, ap) sorts before or equal to (b, bp). */
static __always_inline bool endpoint_le(const __u8 *a, __u16 ap, const __u8 *b, __u16 bp)
{
	for (int i = 0; i < 16; i++)
		if (a[i] != b[i])
			return a[i] < b[i];
	return ap <= bp;
}

/* A live bypass entry for the packet's flow: count the packet in it. */
static __always_inline bool bypassed(const struct parsed *p, __u64 now, __u64 len)
{
	struct vigil_flow_key k = { .proto = p->proto, .vlan = p->vlan };
	struct vigil_bypass_val *v;
	bool src_lo = endpoint_le(p->src, p->sport, p->dst, p->dport);
	__u32 dir = src_lo ? 0 : 1;

	__builtin_memcpy(k.addr[0], src_lo ? p->src : p->dst, 16);
	__builtin_memcpy(k.addr[1], src_lo ? p->dst : p->src, 16);
	k.port[0] = src_lo ? p->sport : p->dport;
	k.port[1] = src_lo ? p->dport : p->sport;
	v = bpf_map_lookup_elem(&vigil_bypass, &k);
	if (!v || (v->until_ns && now >= v->until_ns))
		return false;
	__sync_fetch_and_add(&v->pkts[dir], 1);
	__sync_fetch_and_add(&v->bytes[dir], len);
	/* a plain OR: both directions of a flow normally meet on one CPU */
	if (p->tcp_flags & ~v->tcp_flags[dir])
		v->tcp_flags[dir] |= p->tcp_flags;
	return true;
}

/* 4 bytes of XDP metadata before the packet; ignored where unsupported. */
static __always_inline void tag_blocked(struct xdp_md *ctx)
{
	__u32 *meta;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return;
	*meta = VIGIL_META_BLOCKED;
}

SEC("xdp")
int vigil_xdp(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;
	struct vigil_config cfg = { .mode = VIGIL_MODE_TAP, .xsk = 1 };
	struct vigil_config *c;
	struct parsed p = {};
	enum parse_rc rc;
	bool tagged = false;
	__u32 zero = 0;

	count(VIGIL_CTR_RX, len);
	c = bpf_map_lookup_elem(&vigil_config, &zero);
	if (c && c->version == VIGIL_CONFIG_VERSION)
		cfg = *c;

	rc = parse(ctx, &p);
	if (rc == PARSE_TRUNC)
		count(VIGIL_CTR_PARSE_ERROR, len);
	else if (rc == PARSE_NON_IP)
		count(VIGIL_CTR_NON_IP, len);

	if (p.family) {
		__u64 now = bpf_ktime_get_ns();

		if (blocked(&p, now)) {
			if (cfg.mode == VIGIL_MODE_INLINE) {
				count(VIGIL_CTR_BLOCK_DROPPED, len);
				return XDP_DROP;
			}
			count(VIGIL_CTR_BLOCK_TAGGED, len);
			tagged = true;
		}
		if (rc == PARSE_OK && p.l4 && !p.frag && bypassed(&p, now, len)) {
			if (cfg.mode == VIGIL_MODE_TAP) {
				count(VIGIL_CTR_BYPASS_DROPPED, len);
				return XDP_DROP;
			}
			count(VIGIL_CTR_BYPASS_PASSED, len);
			return XDP_PASS;
		}
	}

	if (tagged)
		tag_blocked(ctx);
	if (cfg.xsk) {
		/* XDP_PASS when no socket is bound to this queue's slot */
		if (bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS) == XDP_REDIRECT) {
			count(VIGIL_CTR_TO_XSK, len);
			return XDP_REDIRECT;
		}
	}
	count(VIGIL_CTR_TO_KERNEL, len);
	return XDP_PASS;
}
