/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet decoding.  pkt_decode() walks link, VLAN, IPv4/IPv6 (with
 * extension headers), TCP/UDP/ICMP/ICMPv6 and decapsulates VXLAN, GRE and
 * ERSPAN, filling a struct pkt with the innermost IP layer's facts.
 *
 * It never reads outside [data, data+len): every header is checked against
 * the bytes that remain.  A malformed packet is reported by its reason
 * (a decoder.event.* counter) and flagged PKT_F_INVALID; the caller skips it.
 */
#ifndef VIGIL_PKT_H
#define VIGIL_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include "ctr.h"

/* pcap link types we decode (values from the tcpdump LINKTYPE registry). */
enum pkt_link {
	PKT_LINK_NULL = 0,        /* BSD loopback, host-order AF */
	PKT_LINK_ETHERNET = 1,
	PKT_LINK_PPP = 9,
	PKT_LINK_RAW_OLD = 12,    /* DLT_RAW on most BSD-derived headers */
	PKT_LINK_RAW_OBSD = 14,
	PKT_LINK_RAW = 101,
	PKT_LINK_C_HDLC = 104,    /* Cisco HDLC */
	PKT_LINK_LOOP = 108,      /* OpenBSD loopback, network-order AF */
	PKT_LINK_SLL = 113,
	PKT_LINK_IPV4 = 228,
	PKT_LINK_IPV6 = 229,
	PKT_LINK_SLL2 = 276,
};

enum {
	PKT_F_IPV4 = 1u << 0,
	PKT_F_IPV6 = 1u << 1,
	PKT_F_L4 = 1u << 2,        /* transport header decoded: ports/flags valid */
	PKT_F_FRAG = 1u << 3,      /* IP fragment (first or not) */
	PKT_F_FRAG_FIRST = 1u << 4,/* fragment at offset 0 (carries the L4 header) */
	PKT_F_TUNNEL = 1u << 5,    /* innermost layer came out of a tunnel */
	PKT_F_BAD_CSUM = 1u << 6,  /* checksum validated and wrong */
	PKT_F_INVALID = 1u << 7,   /* malformed: skip */
	PKT_F_NON_IP = 1u << 8,    /* valid frame without IP */
};

enum pkt_tunnel { PKT_TUN_NONE, PKT_TUN_VXLAN, PKT_TUN_GRE, PKT_TUN_ERSPAN };

#define PKT_MAX_LAYERS 4      /* nested tunnels we follow */

/* Decoded facts about one packet; addresses/ports/ids in host order except
 * the raw address bytes (network order, IPv4 in the first 4 bytes). */
struct pkt {
	const uint8_t *data;
	uint32_t len;             /* captured length */
	uint32_t flags;
	uint64_t ts_ns;

	uint8_t ipver;            /* 4, 6 or 0 */
	uint8_t proto;            /* innermost IP protocol (after ext. headers) */
	uint8_t ttl;              /* or hop limit */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t vlan_n;           /* VLAN tags on the outer frame */
	uint8_t tunnel;           /* enum pkt_tunnel of the innermost decapsulation */
	uint16_t vlan[2];         /* outermost first */
	uint16_t sport, dport;    /* 0 when !PKT_F_L4 (ICMP: 0) */
	uint32_t tunnel_id;       /* VNI, GRE key or ERSPAN session */
	uint8_t src[16], dst[16]; /* valid when ipver != 0 */

	uint32_t l3_off, l4_off, payload_off, payload_len;
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	uint16_t frag_off;        /* fragment offset in bytes */
	uint32_t frag_id;         /* IPv4 id or IPv6 fragment identification */
};

struct pkt_decode_opts {
	int linktype;             /* enum pkt_link */
	bool verify_csum;         /* validate IPv4/TCP/UDP/ICMP checksums */
};

/*
 * Decode data[0..len) into *p.  Counts into ctr (may be NULL for a quiet
 * pre-decode, e.g. the dispatcher computing a hash).  Returns true if the
 * packet carries IP and is usable for flow accounting; false for
 * malformed (PKT_F_INVALID set, reason counted) or non-IP frames.
 */
bool pkt_decode(struct pkt *p, const uint8_t *data, uint32_t len, uint64_t ts_ns,
		const struct pkt_decode_opts *o, struct ctr_block *ctr);

/* Symmetric hash of the innermost address pair (both directions of a host
 * pair, and every fragment of a datagram, hash alike). */
uint32_t pkt_hash_ippair(const struct pkt *p, uint32_t seed);

#endif
