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

enum out_rec_type { OUT_REC_FLOW = 1 };

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

struct out_rec {
	uint16_t version;
	uint16_t type;              /* enum out_rec_type */
	uint16_t worker;
	uint16_t pad;
	union {
		struct out_flow flow;
	} u;
};

#endif
