/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's inspection: IP defragmentation, TCP stream reassembly and
 * detection for the packets of the flows it owns.  Per flow it keeps a slot
 * of inspection state (two stream directions, flowbits, the tail of each
 * direction's inspected data) from a bounded pool; a flow that finds the
 * pool empty gets packet inspection only (counted).
 *
 * Stream inspection: in-order data is inspected as it becomes contiguous,
 * as a window of the last `carry` bytes already inspected followed by the
 * new bytes, so a pattern split across segments (down to one byte each) is
 * found; a match must end in the new bytes, so nothing alerts twice.
 * offset/depth count from the start of that window.
 *
 * Owned by one worker thread; no locks, no allocation after create.
 */
#ifndef VIGIL_INSPECT_H
#define VIGIL_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "ctr.h"
#include "defrag.h"
#include "detect.h"
#include "flow.h"
#include "pkt.h"
#include "stream.h"

struct inspect_cfg {
	struct stream_cfg stream;
	struct defrag_cfg defrag;
	uint32_t sessions;           /* inspection state slots per worker */
	uint32_t carry;              /* bytes of inspected stream kept per direction */
	bool midstream;              /* reassemble TCP sessions picked up without a handshake */
	uint32_t payload_max;        /* alert payload excerpt */
	uint32_t packet_max;         /* alert packet excerpt */
};

/* An alert as the worker hands it to its output. */
struct inspect_alert {
	const struct detect_alert *a;
	const struct pkt *p;         /* header facts (NULL at flow end) */
	const struct flow *f;        /* NULL: no flow */
	bool toserver;
	bool stream;
	uint64_t pcap_cnt;
	uint64_t ts_ns;
	const uint8_t *payload;
	uint32_t payload_len;
	const uint8_t *head;         /* packet bytes: head (link header of a reassembled */
	uint32_t head_len;           /* datagram, else empty) then body */
	const uint8_t *body;
	uint32_t body_len;
};

typedef void (*inspect_alert_fn)(void *arg, const struct inspect_alert *ia);

/* The flow needs no more inspection (a pass rule; both stream directions at
 * the depth; TLS application data both ways): the worker may stop its
 * packets before user space (XDP bypass).  Called once per flow; false:
 * it could not (counted bypass.insert_errors). */
typedef bool (*inspect_bypass_fn)(void *arg, struct flow *f);

struct inspect;

/* DT is this worker's matcher for DE; the caller owns both (and frees DT
 * after inspect_destroy). */
int inspect_create(struct inspect **out, const struct inspect_cfg *cfg,
		   const struct detect_engine *de, struct detect_thread *dt, struct flow_table *ft,
		   struct ctr_block *ctr, inspect_alert_fn emit, void *arg);

/* Ask for bypass decisions (NULL: none, the default). */
void inspect_set_bypass(struct inspect *in, inspect_bypass_fn fn, void *arg);
/* Was F handed to the bypass (and taken)? */
bool inspect_bypassed(const struct inspect *in, const struct flow *f);

/* A ruleset reload, between packets: from now on inspect with DE through
 * DT (the caller's, as above).  Flows in progress keep their reassembly,
 * their inspected-stream carry windows and their flowbits (ids are stable
 * across engines built with one detect_fbreg); the next packet and the next
 * in-order stream bytes of every flow are inspected by DE only, and bytes
 * inspected before the switch are not inspected again (a match must end in
 * new bytes, as across deliveries).  Nothing is allocated or freed. */
void inspect_set_engine(struct inspect *in, const struct detect_engine *de, struct detect_thread *dt);
/* The engine in use. */
const struct detect_engine *inspect_engine(const struct inspect *in);
void inspect_destroy(struct inspect *in);
size_t inspect_memory(const struct inspect *in);

/* One packet, right after the flow table accounted it (f may be NULL). */
void inspect_packet(struct inspect *in, const struct pkt *p, struct flow *f, int toserver,
		    uint64_t pcap_cnt);

/* The flow ends (not for FLOW_END_ACTIVE): inspect what the stream still
 * holds beyond gaps, then free its slot. */
void inspect_flow_end(struct inspect *in, struct flow *f);

/* Slots in use, and bytes of out-of-order segment memory held. */
uint32_t inspect_sessions_live(const struct inspect *in);
uint64_t inspect_stream_held(const struct inspect *in);

/* Periodic housekeeping at packet time now_ns (defragmenter timeouts). */
void inspect_expire(struct inspect *in, uint64_t now_ns);

#endif
