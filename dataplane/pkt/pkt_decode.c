/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The decoder.  Every function takes a pointer and the number of bytes that
 * remain in the captured frame from that pointer; nothing is read beyond it.
 */
#include "pkt.h"

#include "hash.h"

#include <string.h>

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ_OLD 0x9100
#define ETH_P_TEB 0x6558      /* transparent Ethernet bridging in GRE */
#define ETH_P_ERSPAN2 0x88be  /* ERSPAN type I/II */
#define ETH_P_ERSPAN3 0x22eb
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define MPLS_MAX_LABELS 16

#define IPP_HOPOPTS 0
#define IPP_ICMP 1
#define IPP_TCP 6
#define IPP_UDP 17
#define IPP_ROUTING 43
#define IPP_FRAGMENT 44
#define IPP_GRE 47
#define IPP_ESP 50
#define IPP_AH 51
#define IPP_ICMPV6 58
#define IPP_NONE 59
#define IPP_DSTOPTS 60
#define IPP_MOBILITY 135

#define VXLAN_PORT 4789
#define MAX_IPV6_EXT 8

struct dctx {
	struct pkt *p;
	const struct pkt_decode_opts *o;
	struct ctr_block *c;
	int layers;
};

static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)((b[0] << 8) | b[1]);
}

static inline uint32_t rd32(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static inline void cnt(struct dctx *d, enum ctr_id id)
{
	if (d->c)
		ctr_inc(d->c, id);
}

/* Marks the packet malformed and counts the reason; returns false. */
static bool bad(struct dctx *d, enum ctr_id reason)
{
	d->p->flags |= PKT_F_INVALID;
	if (d->c) {
		ctr_inc(d->c, reason);
		ctr_inc(d->c, CTR_INVALID);
	}
	return false;
}

static inline uint32_t off(const struct dctx *d, const uint8_t *b)
{
	return (uint32_t)(b - d->p->data);
}

/*
 * Ones-complement sum of n bytes as big-endian 16-bit words, folded later by
 * csum_fold().  Adds 32-bit words into a 64-bit accumulator (RFC 1071: the
 * sum may be taken in any word size and folded), 4x fewer steps than 16-bit
 * words; measured ~10 ns of a 64-byte packet's decode.
 */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, uint32_t n)
{
	uint64_t acc = sum;

	while (n >= 16) {
		acc += (uint64_t)rd32(b) + rd32(b + 4) + rd32(b + 8) + rd32(b + 12);
		b += 16;
		n -= 16;
	}
	while (n >= 4) {
		acc += rd32(b);
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		acc += rd16(b);   /* 2^16 = 1 (mod 2^16 - 1): a word's position does not matter */
		b += 2;
		n -= 2;
	}
	if (n)
		acc += (uint64_t)b[0] << 8;
	/* fold to 16 bits in a fixed number of steps (2^32 = 2^16 = 1 mod 2^16 - 1) */
	acc = (acc & 0xffffffffULL) + (acc >> 32);
	acc = (acc & 0xffffffffULL) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Pseudo-header sum for the current IP layer. */
static uint32_t csum_pseudo(const struct pkt *p, uint8_t proto, uint32_t l4len)
{
	uint32_t sum = 0;
	int alen = p->ipver == 4 ? 4 : 16;

	sum = csum_add(sum, p->src, (uint32_t)alen);
	sum = csum_add(sum, p->dst, (uint32_t)alen);
	sum += proto;
	sum += l4len & 0xffff;
	sum += l4len >> 16;
	return sum;
}

static bool decode_eth(struct dctx *d, const uint8_t *b, uint32_t n, bool outer);
static bool decode_ipv4(struct dctx *d, const uint8_t *b, uint32_t n);
static bool decode_ipv6(struct dctx *d, const uint8_t *b, uint32_t n);

static bool enter_tunnel(struct dctx *d, enum pkt_tunnel t, uint32_t id)
{
	if (++d->layers > PKT_MAX_LAYERS)
		return bad(d, CTR_EV_TOO_MANY_LAYERS);
	d->p->flags |= PKT_F_TUNNEL;
	d->p->flags &= ~(uint32_t)(PKT_F_IPV4 | PKT_F_IPV6 | PKT_F_L4 | PKT_F_FRAG | PKT_F_FRAG_FIRST);
	d->p->tunnel = (uint8_t)t;
	d->p->tunnel_id = id;
	return true;
}

/* VXLAN: 8-byte header (flags with I bit, 24-bit VNI) then an Ethernet frame. */
static bool try_vxlan(struct dctx *d, const uint8_t *b, uint32_t n)
{
	if (n < 8 || !(b[0] & 0x08))
		return true;   /* not VXLAN after all: keep the UDP packet */
	if (n < 8 + 14)
		return bad(d, CTR_EV_VXLAN_TRUNC);
	if (!enter_tunnel(d, PKT_TUN_VXLAN, ((uint32_t)b[4] << 16) | ((uint32_t)b[5] << 8) | b[6]))
		return false;
	cnt(d, CTR_VXLAN);
	return decode_eth(d, b + 8, n - 8, false);
}

/* GRE we do not decapsulate stays an IP packet of protocol 47. */
static bool gre_opaque(struct dctx *d, const uint8_t *gre, uint32_t n)
{
	cnt(d, CTR_OTHER_L4);
	d->p->payload_off = off(d, gre);
	d->p->payload_len = n;
	return true;
}

static bool decode_gre(struct dctx *d, const uint8_t *b, uint32_t n)
{
	const uint8_t *gre = b;
	uint32_t gre_len = n;

	if (n < 4)
		return bad(d, CTR_EV_GRE_TRUNC);
	uint16_t fl = rd16(b), proto = rd16(b + 2);
	uint32_t hl = 4, key = 0;

	/* Only version 0 with no source routing is decapsulated; anything
	 * else (PPTP's enhanced GRE) stays an IP packet of protocol 47. */
	if ((fl & 0x7) != 0 || (fl & 0x4000))
		return gre_opaque(d, gre, gre_len);
	if (fl & 0x8000)
		hl += 4;
	if (fl & 0x2000) {
		if (n < hl + 4)
			return bad(d, CTR_EV_GRE_TRUNC);
		key = rd32(b + hl);
		hl += 4;
	}
	if (fl & 0x1000)
		hl += 4;
	if (n < hl)
		return bad(d, CTR_EV_GRE_TRUNC);
	b += hl;
	n -= hl;

	switch (proto) {
	case ETH_P_IPV4:
		if (!enter_tunnel(d, PKT_TUN_GRE, key))
			return false;
		cnt(d, CTR_GRE);
		return decode_ipv4(d, b, n);
	case ETH_P_IPV6:
		if (!enter_tunnel(d, PKT_TUN_GRE, key))
			return false;
		cnt(d, CTR_GRE);
		return decode_ipv6(d, b, n);
	case ETH_P_TEB:
		if (!enter_tunnel(d, PKT_TUN_GRE, key))
			return false;
		cnt(d, CTR_GRE);
		return decode_eth(d, b, n, false);
	case ETH_P_ERSPAN2:
	case ETH_P_ERSPAN3: {
		uint32_t eh, session = 0;
		if (proto == ETH_P_ERSPAN2 && !(fl & 0x1000)) {
			eh = 0;   /* type I: no ERSPAN header */
		} else {
			if (n < 8)
				return bad(d, CTR_EV_ERSPAN_TRUNC);
			session = rd16(b + 2) & 0x3ff;
			eh = 8;
			if (proto == ETH_P_ERSPAN3) {
				eh = 12;
				if (n < 12)
					return bad(d, CTR_EV_ERSPAN_TRUNC);
				if (b[11] & 0x01)   /* O bit: platform sub-header */
					eh += 8;
			}
		}
		if (n < eh)
			return bad(d, CTR_EV_ERSPAN_TRUNC);
		if (!enter_tunnel(d, PKT_TUN_ERSPAN, session))
			return false;
		cnt(d, CTR_ERSPAN);
		return decode_eth(d, b + eh, n - eh, false);
	}
	default:
		return gre_opaque(d, gre, gre_len);   /* unknown payload: keep the outer packet */
	}
}

/* TCP and IPv4 options share one layout: EOL (0), NOP (1), else
 * kind, length (>= 2, within the header), data. */
static bool options_ok(const uint8_t *o, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		if (o[i] == 0)
			return true;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return false;
		i += o[i + 1];
	}
	return true;
}

/* Transport layer of the current IP layer; l4len is the IP payload length. */
static bool decode_l4(struct dctx *d, uint8_t proto, const uint8_t *b, uint32_t n)
{
	struct pkt *p = d->p;
	bool whole = !(p->flags & PKT_F_FRAG);   /* the entire L4 message is here */

	p->l4_off = off(d, b);
	switch (proto) {
	case IPP_TCP: {
		cnt(d, CTR_TCP);
		if (n < 20)
			return bad(d, CTR_EV_TCP_TRUNC);
		uint32_t hl = (uint32_t)(b[12] >> 4) * 4;
		if (hl < 20 || hl > n)
			return bad(d, CTR_EV_TCP_HLEN);
		if (!options_ok(b + 20, hl - 20))
			return bad(d, CTR_EV_TCP_OPT);
		p->sport = rd16(b);
		p->dport = rd16(b + 2);
		p->tcp_seq = rd32(b + 4);
		p->tcp_ack = rd32(b + 8);
		p->tcp_flags = b[13];
		p->tcp_win = rd16(b + 14);
		p->payload_off = off(d, b + hl);
		p->payload_len = n - hl;
		if (d->o->verify_csum && whole &&
		    csum_fold(csum_add(csum_pseudo(p, IPP_TCP, n), b, n)) != 0) {
			p->flags |= PKT_F_BAD_CSUM;
			cnt(d, CTR_BAD_CSUM);
		}
		break;
	}
	case IPP_UDP: {
		cnt(d, CTR_UDP);
		if (n < 8)
			return bad(d, CTR_EV_UDP_TRUNC);
		uint32_t ul = rd16(b + 4);
		if (whole && (ul < 8 || ul > n))
			return bad(d, CTR_EV_UDP_LEN);
		if (!whole)
			ul = n;
		p->sport = rd16(b);
		p->dport = rd16(b + 2);
		p->payload_off = off(d, b + 8);
		p->payload_len = ul - 8;
		if (d->o->verify_csum && whole && rd16(b + 6) != 0 &&
		    csum_fold(csum_add(csum_pseudo(p, IPP_UDP, ul), b, ul)) != 0) {
			p->flags |= PKT_F_BAD_CSUM;
			cnt(d, CTR_BAD_CSUM);
		}
		p->flags |= PKT_F_L4;
		if (whole && p->dport == VXLAN_PORT)
			return try_vxlan(d, b + 8, ul - 8);
		return true;
	}
	case IPP_ICMP:
	case IPP_ICMPV6: {
		bool v6 = proto == IPP_ICMPV6;
		cnt(d, v6 ? CTR_ICMPV6 : CTR_ICMPV4);
		if (n < 8)
			return bad(d, v6 ? CTR_EV_ICMPV6_TRUNC : CTR_EV_ICMPV4_TRUNC);
		p->icmp_type = b[0];
		p->icmp_code = b[1];
		p->sport = p->dport = 0;
		p->payload_off = off(d, b + 8);
		p->payload_len = n - 8;
		if (d->o->verify_csum && whole) {
			uint32_t s = v6 ? csum_pseudo(p, IPP_ICMPV6, n) : 0;
			if (csum_fold(csum_add(s, b, n)) != 0) {
				p->flags |= PKT_F_BAD_CSUM;
				cnt(d, CTR_BAD_CSUM);
			}
		}
		break;
	}
	case IPP_GRE:
		if (whole)
			return decode_gre(d, b, n);
		/* fall through */
	default:
		cnt(d, CTR_OTHER_L4);
		p->payload_off = off(d, b);
		p->payload_len = n;
		return true;
	}
	p->flags |= PKT_F_L4;
	return true;
}

static bool decode_ipv4(struct dctx *d, const uint8_t *b, uint32_t n)
{
	struct pkt *p = d->p;

	cnt(d, CTR_IPV4);
	if (n < 20)
		return bad(d, CTR_EV_IPV4_TRUNC);
	if ((b[0] >> 4) != 4)
		return bad(d, CTR_EV_IPV4_VERSION);
	uint32_t hl = (uint32_t)(b[0] & 0xf) * 4;
	if (hl < 20)
		return bad(d, CTR_EV_IPV4_HLEN);
	uint32_t tl = rd16(b + 2);
	if (tl < hl)
		return bad(d, CTR_EV_IPV4_IPLEN);
	if (hl > n || tl > n)
		return bad(d, CTR_EV_IPV4_TRUNC);
	if (!options_ok(b + 20, hl - 20))
		return bad(d, CTR_EV_IPV4_OPT);

	p->flags |= PKT_F_IPV4;
	p->ipver = 4;
	p->l3_off = off(d, b);
	p->ttl = b[8];
	p->proto = b[9];
	memset(p->src, 0, sizeof(p->src));
	memset(p->dst, 0, sizeof(p->dst));
	memcpy(p->src, b + 12, 4);
	memcpy(p->dst, b + 16, 4);
	p->sport = p->dport = 0;

	if (d->o->verify_csum && csum_fold(csum_add(0, b, hl)) != 0) {
		p->flags |= PKT_F_BAD_CSUM;
		cnt(d, CTR_BAD_CSUM);
	}
	uint16_t fo = rd16(b + 6);
	if (fo & 0x3fff) {   /* MF set or offset != 0 */
		p->flags |= PKT_F_FRAG;
		p->frag_off = (uint16_t)((fo & 0x1fff) * 8);
		p->frag_id = rd16(b + 4);
		cnt(d, CTR_IPV4_FRAG);
		if (p->frag_off != 0) {
			p->payload_off = off(d, b + hl);
			p->payload_len = tl - hl;
			return true;
		}
		p->flags |= PKT_F_FRAG_FIRST;
	}
	return decode_l4(d, p->proto, b + hl, tl - hl);
}

static bool decode_ipv6(struct dctx *d, const uint8_t *b, uint32_t n)
{
	struct pkt *p = d->p;

	cnt(d, CTR_IPV6);
	if (n < 40)
		return bad(d, CTR_EV_IPV6_TRUNC);
	if ((b[0] >> 4) != 6)
		return bad(d, CTR_EV_IPV6_VERSION);
	uint32_t plen = rd16(b + 4);
	if (40 + plen > n)
		return bad(d, CTR_EV_IPV6_TRUNC);

	p->flags |= PKT_F_IPV6;
	p->ipver = 6;
	p->l3_off = off(d, b);
	p->ttl = b[7];
	memcpy(p->src, b + 8, 16);
	memcpy(p->dst, b + 24, 16);
	p->sport = p->dport = 0;

	uint8_t nh = b[6];
	const uint8_t *q = b + 40;
	uint32_t left = plen;

	for (int i = 0;; i++) {
		if (i > MAX_IPV6_EXT)
			return bad(d, CTR_EV_IPV6_EXTHDR);
		switch (nh) {
		case IPP_HOPOPTS:
		case IPP_ROUTING:
		case IPP_DSTOPTS:
		case IPP_MOBILITY:
		case IPP_AH: {
			if (left < 8)
				return bad(d, CTR_EV_IPV6_EXTHDR);
			uint32_t el = nh == IPP_AH ? ((uint32_t)q[1] + 2) * 4 : ((uint32_t)q[1] + 1) * 8;
			if (el > left)
				return bad(d, CTR_EV_IPV6_EXTHDR);
			nh = q[0];
			q += el;
			left -= el;
			continue;
		}
		case IPP_FRAGMENT: {
			if (left < 8)
				return bad(d, CTR_EV_IPV6_EXTHDR);
			uint16_t fo = rd16(q + 2);
			p->flags |= PKT_F_FRAG;
			p->frag_off = (uint16_t)(fo & 0xfff8);
			p->frag_id = rd32(q + 4);
			cnt(d, CTR_IPV6_FRAG);
			nh = q[0];
			q += 8;
			left -= 8;
			if (p->frag_off != 0) {
				p->proto = nh;
				p->payload_off = off(d, q);
				p->payload_len = left;
				return true;
			}
			p->flags |= PKT_F_FRAG_FIRST;
			continue;
		}
		default:
			break;
		}
		break;
	}
	p->proto = nh;
	if (nh == IPP_NONE || nh == IPP_ESP) {
		p->payload_off = off(d, q);
		p->payload_len = left;
		cnt(d, CTR_OTHER_L4);
		return true;
	}
	return decode_l4(d, nh, q, left);
}

static bool decode_l3(struct dctx *d, uint16_t et, const uint8_t *b, uint32_t n)
{
	switch (et) {
	case ETH_P_IPV4:
		return decode_ipv4(d, b, n);
	case ETH_P_IPV6:
		return decode_ipv6(d, b, n);
	default:
		d->p->flags |= PKT_F_NON_IP;
		cnt(d, CTR_NON_IP);
		return false;
	}
}

static bool decode_eth(struct dctx *d, const uint8_t *b, uint32_t n, bool outer);

/*
 * MPLS: labels up to the bottom-of-stack bit, then IPv4/IPv6 by the version
 * nibble, or a pseudowire control word (first nibble 0) and an Ethernet
 * frame.  A pseudowire is a transport, not a tunnel we key flows by: its
 * VLAN tags count as the frame's own (as Wireshark shows them).
 */
static bool decode_mpls(struct dctx *d, const uint8_t *b, uint32_t n, bool outer)
{
	cnt(d, CTR_MPLS);
	for (int i = 0;; i++) {
		if (i >= MPLS_MAX_LABELS)
			return bad(d, CTR_EV_MPLS_LABELS);
		if (n < 4)
			return bad(d, CTR_EV_MPLS_TRUNC);
		bool bos = b[2] & 0x01;
		b += 4;
		n -= 4;
		if (bos)
			break;
	}
	if (n < 1)
		return bad(d, CTR_EV_MPLS_TRUNC);
	switch (b[0] >> 4) {
	case 4:
		return decode_ipv4(d, b, n);
	case 6:
		return decode_ipv6(d, b, n);
	case 0:
		if (n < 4 + 14)
			return bad(d, CTR_EV_MPLS_TRUNC);
		if (++d->layers > PKT_MAX_LAYERS)
			return bad(d, CTR_EV_TOO_MANY_LAYERS);
		return decode_eth(d, b + 4, n - 4, outer);
	default:
		d->p->flags |= PKT_F_NON_IP;
		cnt(d, CTR_NON_IP);
		return false;
	}
}

static bool decode_eth(struct dctx *d, const uint8_t *b, uint32_t n, bool outer)
{
	struct pkt *p = d->p;
	int tags = 0;

	cnt(d, CTR_ETH);
	if (n < 14)
		return bad(d, CTR_EV_LINK_TRUNC);
	uint16_t et = rd16(b + 12);
	b += 14;
	n -= 14;
	while (et == ETH_P_8021Q || et == ETH_P_8021AD || et == ETH_P_QINQ_OLD) {
		if (n < 4)
			return bad(d, CTR_EV_VLAN_TRUNC);
		if (++tags > 2)
			return bad(d, CTR_EV_VLAN_TOO_MANY);
		if (outer && p->vlan_n < 2)
			p->vlan[p->vlan_n++] = rd16(b) & 0x0fff;
		et = rd16(b + 2);
		b += 4;
		n -= 4;
	}
	if (tags)
		cnt(d, tags == 2 ? CTR_VLAN_QINQ : CTR_VLAN);
	if (et == ETH_P_MPLS_UC || et == ETH_P_MPLS_MC)
		return decode_mpls(d, b, n, outer);
	return decode_l3(d, et, b, n);
}

/* The IP version nibble decides for raw and loopback link types. */
static bool decode_raw_ip(struct dctx *d, const uint8_t *b, uint32_t n)
{
	if (n < 1)
		return bad(d, CTR_EV_LINK_TRUNC);
	switch (b[0] >> 4) {
	case 4:
		return decode_ipv4(d, b, n);
	case 6:
		return decode_ipv6(d, b, n);
	default:
		d->p->flags |= PKT_F_NON_IP;
		cnt(d, CTR_NON_IP);
		return false;
	}
}

/* PPP (RFC 1661/1662): optional address/control 0xff 0x03, then a 1- or
 * 2-byte protocol (an odd first byte is a compressed one-byte field). */
static bool decode_ppp(struct dctx *d, const uint8_t *b, uint32_t n)
{
	uint16_t proto;

	if (n >= 2 && b[0] == 0xff && b[1] == 0x03) {
		b += 2;
		n -= 2;
	}
	if (n < 1)
		return bad(d, CTR_EV_LINK_TRUNC);
	if (b[0] & 1) {
		proto = b[0];
		b++;
		n--;
	} else {
		if (n < 2)
			return bad(d, CTR_EV_LINK_TRUNC);
		proto = rd16(b);
		b += 2;
		n -= 2;
	}
	if (proto == 0x0021)
		return decode_ipv4(d, b, n);
	if (proto == 0x0057)
		return decode_ipv6(d, b, n);
	d->p->flags |= PKT_F_NON_IP;
	cnt(d, CTR_NON_IP);
	return false;
}

bool pkt_decode(struct pkt *p, const uint8_t *data, uint32_t len, uint64_t ts_ns,
		const struct pkt_decode_opts *o, struct ctr_block *ctr)
{
	struct dctx d = { .p = p, .o = o, .c = ctr, .layers = 0 };
	bool ok;

	/* Field by field: a memset() of the struct compiled to "rep stos",
	 * 2/3 of this function's time for a 64-byte packet.  src/dst are
	 * written by the IP layer (valid when ipver != 0). */
	p->data = data;
	p->len = len;
	p->flags = 0;
	p->ts_ns = ts_ns;
	p->ipver = p->proto = p->ttl = p->tcp_flags = 0;
	p->icmp_type = p->icmp_code = p->vlan_n = p->tunnel = 0;
	p->vlan[0] = p->vlan[1] = 0;
	p->sport = p->dport = 0;
	p->tunnel_id = 0;
	p->l3_off = p->l4_off = p->payload_off = p->payload_len = 0;
	p->tcp_seq = p->tcp_ack = 0;
	p->tcp_win = p->frag_off = 0;
	p->frag_id = 0;
	if (ctr) {
		ctr_inc(ctr, CTR_PKTS);
		ctr_add(ctr, CTR_BYTES, len);
	}

	switch (o->linktype) {
	case PKT_LINK_ETHERNET:
		ok = decode_eth(&d, data, len, true);
		break;
	case PKT_LINK_RAW:
	case PKT_LINK_RAW_OLD:
	case PKT_LINK_RAW_OBSD:
	case PKT_LINK_IPV4:
	case PKT_LINK_IPV6:
		ok = decode_raw_ip(&d, data, len);
		break;
	case PKT_LINK_NULL:
	case PKT_LINK_LOOP:
		/* 4-byte address family; IP version nibble decides. */
		if (len < 4)
			return bad(&d, CTR_EV_LINK_TRUNC);
		ok = decode_raw_ip(&d, data + 4, len - 4);
		break;
	case PKT_LINK_SLL:
		if (len < 16)
			return bad(&d, CTR_EV_LINK_TRUNC);
		ok = decode_l3(&d, rd16(data + 14), data + 16, len - 16);
		break;
	case PKT_LINK_SLL2:
		if (len < 20)
			return bad(&d, CTR_EV_LINK_TRUNC);
		ok = decode_l3(&d, rd16(data), data + 20, len - 20);
		break;
	case PKT_LINK_PPP:
		ok = decode_ppp(&d, data, len);
		break;
	case PKT_LINK_C_HDLC:
		/* address, control, then an Ethernet type */
		if (len < 4)
			return bad(&d, CTR_EV_LINK_TRUNC);
		ok = decode_l3(&d, rd16(data + 2), data + 4, len - 4);
		break;
	default:
		return bad(&d, CTR_EV_LINK_UNSUP);
	}
	return ok && !(p->flags & PKT_F_INVALID) && (p->flags & (PKT_F_IPV4 | PKT_F_IPV6));
}


static inline uint64_t addr_hash(const uint8_t a[16])
{
	uint64_t w0, w1;

	memcpy(&w0, a, 8);
	memcpy(&w1, a + 8, 8);
	return mix64(w0 ^ mix64(w1));
}

uint32_t pkt_hash_ippair(const struct pkt *p, uint32_t seed)
{
	/* addition is symmetric: both directions hash alike */
	return (uint32_t)mix64(addr_hash(p->src) + addr_hash(p->dst) + seed);
}
