/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters: one table of name + help text, from which the per-thread
 * counter block, the EVE "stats" record and the final summary are built.
 *
 * Each thread (reader, worker, output) owns one struct ctr_block and is the
 * only writer of it.  Increments are plain relaxed stores (no locked
 * instruction on the hot path); the stats thread reads other threads' blocks
 * with ctr_read(), which may see a slightly stale value but never a torn one
 * (aligned 64-bit accesses through ck_pr).
 */
#ifndef VIGIL_CTR_H
#define VIGIL_CTR_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include <ck_pr.h>

/* X(ID, "dotted.name", "help") -- names follow Suricata's stats schema where
 * the concept is the same, so dashboards carry over. */
#define CTR_TABLE(X) \
	X(CAP_PKTS,          "capture.packets",        "packets received from the source") \
	X(CAP_BYTES,         "capture.bytes",          "bytes received from the source (captured length)") \
	X(CAP_DISPATCH_DROP, "capture.dispatch_drops", "packets dropped because a worker's input ring was full (live input only)") \
	X(CAP_DISPATCH_WAIT, "capture.dispatch_waits", "times the reader waited for room in a worker's input ring (offline input)") \
	X(CAP_KERNEL_DROP,   "capture.kernel_drops",   "packets the capture source reported as dropped (pcap/NIC)") \
	X(PKTS,              "decoder.pkts",           "packets decoded") \
	X(BYTES,             "decoder.bytes",          "bytes decoded (captured length)") \
	X(ETH,               "decoder.ethernet",       "Ethernet frames") \
	X(VLAN,              "decoder.vlan",           "802.1Q tagged frames") \
	X(VLAN_QINQ,         "decoder.vlan_qinq",      "802.1ad/QinQ double-tagged frames") \
	X(IPV4,              "decoder.ipv4",           "IPv4 packets (each layer)") \
	X(IPV6,              "decoder.ipv6",           "IPv6 packets (each layer)") \
	X(TCP,               "decoder.tcp",            "TCP segments") \
	X(UDP,               "decoder.udp",            "UDP datagrams") \
	X(ICMPV4,            "decoder.icmpv4",         "ICMPv4 messages") \
	X(ICMPV6,            "decoder.icmpv6",         "ICMPv6 messages") \
	X(OTHER_L4,          "decoder.other_l4",       "IP packets with another transport protocol") \
	X(MPLS,              "decoder.mpls",           "MPLS-labelled packets") \
	X(VXLAN,             "decoder.vxlan",          "VXLAN-encapsulated packets decapsulated") \
	X(GRE,               "decoder.gre",            "GRE-encapsulated packets decapsulated") \
	X(ERSPAN,            "decoder.erspan",         "ERSPAN-encapsulated packets decapsulated") \
	X(IPV4_FRAG,         "decoder.ipv4_frag",      "IPv4 fragments") \
	X(IPV6_FRAG,         "decoder.ipv6_frag",      "IPv6 fragments") \
	X(NON_IP,            "decoder.non_ip",         "frames that carry no IP (ARP, LLDP, ...); not malformed") \
	X(BAD_CSUM,          "decoder.invalid_checksum", "packets with a bad IPv4/TCP/UDP/ICMP checksum (only with checksum validation)") \
	X(INVALID,           "decoder.invalid",        "malformed packets skipped (the sum of decoder.event.*)") \
	X(EV_LINK_TRUNC,     "decoder.event.link.trunc_pkt",         "frame shorter than its link header") \
	X(EV_LINK_UNSUP,     "decoder.event.link.unsupported",       "link type not supported") \
	X(EV_VLAN_TRUNC,     "decoder.event.vlan.trunc_pkt",         "frame ends inside a VLAN tag") \
	X(EV_VLAN_TOO_MANY,  "decoder.event.vlan.too_many_layers",   "more than 2 VLAN tags") \
	X(EV_MPLS_TRUNC,     "decoder.event.mpls.trunc_pkt",         "frame ends inside the MPLS label stack or pseudowire header") \
	X(EV_MPLS_LABELS,    "decoder.event.mpls.too_many_labels",   "more MPLS labels than supported") \
	X(EV_IPV4_TRUNC,     "decoder.event.ipv4.trunc_pkt",         "packet shorter than the IPv4 header or total length") \
	X(EV_IPV4_HLEN,      "decoder.event.ipv4.hlen_too_small",    "IPv4 header length below 20") \
	X(EV_IPV4_IPLEN,     "decoder.event.ipv4.iplen_smaller_than_hlen", "IPv4 total length below header length") \
	X(EV_IPV4_VERSION,   "decoder.event.ipv4.wrong_ip_version",  "IPv4 header with another version") \
	X(EV_IPV4_OPT,       "decoder.event.ipv4.opt_invalid",       "malformed IPv4 option") \
	X(EV_IPV6_TRUNC,     "decoder.event.ipv6.trunc_pkt",         "packet shorter than the IPv6 header or payload length") \
	X(EV_IPV6_VERSION,   "decoder.event.ipv6.wrong_ip_version",  "IPv6 header with another version") \
	X(EV_IPV6_EXTHDR,    "decoder.event.ipv6.exthdr_invalid",    "truncated or malformed IPv6 extension header") \
	X(EV_TCP_TRUNC,      "decoder.event.tcp.pkt_too_small",      "packet shorter than the TCP header") \
	X(EV_TCP_HLEN,       "decoder.event.tcp.hlen_too_small",     "TCP data offset below 5 or beyond the packet") \
	X(EV_TCP_OPT,        "decoder.event.tcp.invalid_optlen",     "malformed TCP option") \
	X(EV_UDP_TRUNC,      "decoder.event.udp.pkt_too_small",      "packet shorter than the UDP header") \
	X(EV_UDP_LEN,        "decoder.event.udp.len_invalid",        "UDP length field disagrees with the packet") \
	X(EV_ICMPV4_TRUNC,   "decoder.event.icmpv4.pkt_too_small",   "packet shorter than the ICMPv4 header") \
	X(EV_ICMPV6_TRUNC,   "decoder.event.icmpv6.pkt_too_small",   "packet shorter than the ICMPv6 header") \
	X(EV_VXLAN_TRUNC,    "decoder.event.vxlan.trunc_pkt",        "truncated VXLAN header or inner frame") \
	X(EV_GRE_TRUNC,      "decoder.event.gre.pkt_too_small",      "truncated GRE header") \
	X(EV_ERSPAN_TRUNC,   "decoder.event.erspan.trunc_pkt",       "truncated ERSPAN header") \
	X(EV_TOO_MANY_LAYERS,"decoder.event.too_many_layers",        "more tunnel layers than supported") \
	X(FLOW_CREATED,      "flow.created",           "flows created") \
	X(FLOW_TCP,          "flow.tcp",               "TCP flows created") \
	X(FLOW_UDP,          "flow.udp",               "UDP flows created") \
	X(FLOW_ICMP,         "flow.icmp",              "ICMP/ICMPv6 flows created") \
	X(FLOW_OTHER,        "flow.other",             "flows of other IP protocols created") \
	X(FLOW_TIMEOUT,      "flow.timeout",           "flows ended by idle timeout") \
	X(FLOW_ACTIVE,       "flow.active_timeout",    "flow records cut by the active timeout (flow continues)") \
	X(FLOW_EVICTED,      "flow.emerg_evicted",     "flows evicted early because the flow table was full (oldest first)") \
	X(FLOW_SHUTDOWN,     "flow.shutdown",          "flows flushed at end of input") \
	X(FLOW_NOFLOW,       "flow.no_flow",           "packets that could not be given a flow (table full and nothing evictable)") \
	X(FLOW_FRAG_ORPHAN,  "flow.frag_orphans",      "non-first IP fragments whose first fragment was not seen (not accounted to a flow)") \
	X(FLOW_FRAG_EVICT,   "flow.frag_tracker_evicted", "fragment trackers overwritten because the tracker table was full") \
	X(DEFRAG_IPV4_FRAGS, "defrag.ipv4.fragments", "IPv4 fragments given to the defragmenter") \
	X(DEFRAG_IPV6_FRAGS, "defrag.ipv6.fragments", "IPv6 fragments given to the defragmenter") \
	X(DEFRAG_REASSEMBLED,"defrag.reassembled",     "datagrams reassembled") \
	X(DEFRAG_TIMEOUTS,   "defrag.timeouts",        "datagrams dropped unfinished after the reassembly timeout") \
	X(DEFRAG_EVICTED,    "defrag.tracker_evicted", "unfinished datagrams evicted (oldest first) because every tracker was in use") \
	X(DEFRAG_OVERLAPS,   "defrag.overlaps",        "fragments overlapping data already received for their datagram") \
	X(DEFRAG_OVERLAP_CONFLICTS, "defrag.overlap_conflicts", "overlapping fragments whose overlapping bytes differ from those received") \
	X(DEFRAG_MEMCAP_DROPS, "defrag.memcap_drops",  "fragments dropped because the fragment data memcap was reached") \
	X(DEFRAG_MAX_FRAGS_DROPS, "defrag.max_frags_drops", "datagrams dropped because they exceeded the fragments-per-datagram bound") \
	X(DEFRAG_INVALID,    "defrag.invalid",         "invalid fragments (beyond 65535, bad length, inconsistent last fragment); their datagram is dropped") \
	X(STREAM_SESSIONS,   "stream.sessions",        "TCP flows given reassembly state") \
	X(STREAM_NO_SESSION, "stream.session_memcap",  "TCP flows not reassembled because every session slot was in use (packet inspection only)") \
	X(STREAM_MIDSTREAM,  "stream.midstream_pickups", "TCP sessions picked up without a handshake (stream.midstream)") \
	X(STREAM_BYTES,      "stream.reassembled_bytes", "bytes delivered in order to stream inspection") \
	X(STREAM_OOO,        "stream.out_of_order",    "segments buffered because they arrived ahead of a gap") \
	X(STREAM_OVERLAP,    "stream.overlaps",        "segments overlapping data already received") \
	X(STREAM_OVERLAP_DIFF, "stream.overlap_diff_data", "overlapping segments whose overlapping bytes differ from those received") \
	X(STREAM_GAP,        "stream.reassembly_gap",  "gaps skipped: data never seen (lost or bounds hit) was stepped over") \
	X(STREAM_DEPTH,      "stream.depth_reached",   "stream directions that reached the reassembly depth (rest not inspected)") \
	X(STREAM_MEMCAP,     "stream.memcap_drops",    "out-of-order segments not buffered because the segment memcap was reached") \
	X(STREAM_SEG_LIMIT,  "stream.segment_limit_drops", "out-of-order segments not buffered because the direction held its maximum") \
	X(DETECT_ALERTS,     "detect.alert",           "alerts raised (before thresholds)") \
	X(DETECT_SUPPRESSED, "detect.alerts_suppressed", "alerts suppressed by threshold or detection_filter") \
	X(DETECT_QUEUE_OVERFLOW, "detect.alert_queue_overflow", "alerts lost because one packet matched more rules than the per-packet alert bound") \
	X(DETECT_CANDIDATES, "detect.mpm_candidates",  "rules verified after a fast-pattern match") \
	X(DETECT_PCRE_LIMIT, "detect.pcre_match_limit", "pcre evaluations that hit the match limit (counted as no match)") \
	X(DETECT_PASSED,     "detect.passed",          "packets a pass rule exempted from further inspection") \
	X(DETECT_DROP_FLOWS, "detect.drop_flows",      "flows marked for dropping by a drop or reject rule") \
	X(DETECT_THR_FULL,   "detect.threshold_table_full", "threshold entries not tracked because the threshold table was full (the alert is raised)") \
	X(BYPASS_PASS,       "bypass.pass_rule",       "flows handed to the XDP bypass: a pass rule matched") \
	X(BYPASS_DEPTH,      "bypass.stream_depth",    "flows handed to the XDP bypass: both directions reached the reassembly depth") \
	X(BYPASS_TLS,        "bypass.encrypted",       "flows handed to the XDP bypass: TLS application data both ways (encrypted bulk)") \
	X(BYPASS_ERR,        "bypass.insert_errors",   "flows that could not be put in the XDP bypass map (full, or no program)") \
	X(BYPASS_PKTS,       "bypass.packets",         "packets of bypassed flows counted in XDP and folded into their flow records") \
	X(BYPASS_BYTES,      "bypass.bytes",           "bytes of bypassed flows counted in XDP and folded into their flow records") \
	X(XDP_RX,            "xdp.packets",            "packets the XDP program saw (xdp.interface)") \
	X(XDP_BYTES,         "xdp.bytes",              "bytes the XDP program saw") \
	X(XDP_PARSE_ERR,     "xdp.parse_errors",       "packets with truncated or malformed headers in XDP (passed on)") \
	X(XDP_NON_IP,        "xdp.non_ip",             "packets without IP seen in XDP") \
	X(XDP_BLOCK_DROP,    "xdp.block_dropped",      "packets dropped in XDP: blocklisted source or destination (inline mode)") \
	X(XDP_BLOCK_TAG,     "xdp.block_tagged",       "blocklisted packets tagged in XDP and handed on (tap mode)") \
	X(XDP_BYPASS_DROP,   "xdp.bypass_dropped",     "packets of bypassed flows kept from user space in XDP (tap mode)") \
	X(XDP_BYPASS_PASS,   "xdp.bypass_passed",      "packets of bypassed flows passed to the kernel in XDP (inline mode)") \
	X(XDP_TO_XSK,        "xdp.to_xsk",             "packets XDP redirected to an AF_XDP socket") \
	X(XDP_TO_KERNEL,     "xdp.to_kernel",          "packets XDP passed to the kernel") \
	X(OUT_RECORDS,       "output.records",         "records pushed to the output thread") \
	X(OUT_RING_DROP,     "output.ring_drops",      "records dropped because the output ring was full (live input only)") \
	X(OUT_RING_WAIT,     "output.ring_waits",      "times a worker waited for room in its output ring (offline input)") \
	X(OUT_WRITTEN,       "output.eve_written",     "EVE records written") \
	X(OUT_WRITE_ERR,     "output.write_errors",    "EVE records that could not be written (I/O error)")

enum ctr_id {
#define CTR_ENUM(id, name, help) CTR_##id,
	CTR_TABLE(CTR_ENUM)
#undef CTR_ENUM
	CTR__COUNT
};

/* One thread's counters, alone on its cache lines. */
struct ctr_block {
	alignas(64) uint64_t v[CTR__COUNT];
};

/* Hot path: owner thread only. */
static inline void ctr_add(struct ctr_block *b, enum ctr_id id, uint64_t n)
{
	ck_pr_store_64(&b->v[id], b->v[id] + n);
}

static inline void ctr_inc(struct ctr_block *b, enum ctr_id id)
{
	ctr_add(b, id, 1);
}

/* Any thread. */
static inline uint64_t ctr_read(const struct ctr_block *b, enum ctr_id id)
{
	return ck_pr_load_64((uint64_t *)&b->v[id]);
}

const char *ctr_name(enum ctr_id id);
const char *ctr_help(enum ctr_id id);

/* Add every counter of src into dst (a private snapshot). */
void ctr_accumulate(struct ctr_block *dst, const struct ctr_block *src);

#endif
