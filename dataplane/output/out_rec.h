/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fixed-size record a worker hands to the output thread.  Types only:
 * this is what crosses from the packet path to output (and, later, to the
 * control plane's ingest), so fields are fixed-width and versioned.
 */
#ifndef VIGIL_OUT_REC_H
#define VIGIL_OUT_REC_H

#include <stdint.h>

#define OUT_REC_VERSION 1

enum out_rec_type {
	OUT_REC_FLOW = 1,
	OUT_REC_ALERT = 2,          /* followed by OUT_REC_BYTES records: payload, then packet */
	OUT_REC_BYTES = 3,
};

struct out_flow {
	uint8_t src[16], dst[16];   /* client, server (IPv4 in the first 4 bytes) */
	uint16_t sport, dport;
	uint8_t proto, ipver;
	uint8_t state;              /* enum flow_st */
	uint8_t tcp_state;          /* enum flow_tcp_state */
	uint8_t tcp_flags_ts, tcp_flags_tc;
	uint8_t reason;             /* enum flow_end_reason */
	uint8_t icmp_type, icmp_code;
	uint8_t pad[3];
	uint16_t vlan;
	uint32_t tunnel_id;
	uint32_t pkts_ts, pkts_tc;
	uint64_t bytes_ts, bytes_tc;
	uint64_t first_ns, last_ns;
	uint64_t flow_id;
};

/* out_alert.flags */
enum {
	OUT_ALERT_F_STREAM = 1u << 0,    /* matched on reassembled stream data */
	OUT_ALERT_F_TOCLIENT = 1u << 1,
	OUT_ALERT_F_FLOW = 1u << 2,      /* the flow fields are set */
	OUT_ALERT_F_NO_PACKET = 1u << 3, /* raised at flow end: no packet */
};

struct out_alert {
	uint8_t src[16], dst[16];   /* as the packet travelled (IPv4 in the first 4 bytes) */
	uint16_t sport, dport;
	uint8_t proto, ipver;
	uint8_t action;             /* enum rule_action */
	uint8_t flags;              /* OUT_ALERT_F_* */
	uint8_t icmp_type, icmp_code;
	uint16_t linktype;          /* of the packet bytes that follow */
	uint32_t rule;              /* engine rule number, in ENGINE */
	uint32_t payload_len;       /* bytes of payload excerpt that follow */
	uint32_t packet_len;        /* then bytes of packet */
	uint32_t pkts_ts, pkts_tc;
	uint64_t bytes_ts, bytes_tc;
	uint64_t ts_ns;
	uint64_t pcap_cnt;          /* packet number in the input (1-based), 0: unknown */
	uint64_t flow_id;
	uint64_t flow_start_ns;
	uint16_t vlan;
	uint16_t pad;
	uint32_t tunnel_id;
	const void *engine;         /* the detect_engine that raised it: live until the
				       output thread has consumed this record */
};

#define OUT_BYTES_MAX (sizeof(struct out_alert) - 4)
struct out_bytes {
	uint32_t n;
	uint8_t b[OUT_BYTES_MAX];
};

struct out_rec {
	uint16_t version;
	uint16_t type;              /* enum out_rec_type */
	uint16_t worker;
	uint16_t pad;
	union {
		struct out_flow flow;
		struct out_alert alert;
		struct out_bytes bytes;
	} u;
};

#endif
