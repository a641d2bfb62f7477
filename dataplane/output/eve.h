/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The output thread: drains every worker's record ring and writes EVE JSON
 * (one object per line, Suricata's schema where the concept is the same),
 * plus a periodic and a final "stats" record.  It is the only thread that
 * formats JSON or touches the output file.
 */
#ifndef VIGIL_EVE_H
#define VIGIL_EVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctr.h"
#include "jbuf.h"
#include "out_rec.h"
#include "ring.h"

RING_DEFINE(rec, out_rec)

#define EVE_TOP_FLOWS 10

/* Gathers the sum of all threads' counters (called from the output thread). */
typedef void (*eve_collect_fn)(void *arg, struct ctr_block *sum, uint64_t *flow_memuse);

/* What an alert record needs from the rule that raised it. */
struct eve_rule_info {
	uint32_t gid, sid, rev;
	uint8_t priority;
	const char *msg, *category, *ruleset;
	const char *rule_action;     /* "drop", "reject" or NULL (alert) */
};

/* Output thread: fill RI for the alert (its rule number), or return false to
 * suppress it (threshold, detection_filter). */
typedef bool (*eve_alert_fn)(void *arg, const struct out_alert *a, struct eve_rule_info *ri);

/* Output thread: the alert lines (eve_format_alert's, after thresholds) and
 * the flow lines of flows that alerted, in order, a batch at a time so a
 * consumer can batch its work (the shipper fsyncs once per call).  The
 * lines are valid during the call. */
typedef void (*eve_alert_lines_fn)(void *arg, const char *const *lines, size_t n);

/* Output thread: the sum of every thread's counters, about once a second
 * and once at the end, for a consumer on another thread (heartbeats). */
typedef void (*eve_publish_fn)(void *arg, const struct ctr_block *sum);

#define EVE_TOP_SIGS 10

struct eve_sig_count {
	uint32_t gid, sid;
	uint64_t n;
	char msg[120];
};

struct eve_cfg {
	const char *path;            /* eve.json path; NULL writes no EVE file */
	uint64_t stats_interval_ns;  /* 0: only the final stats record */
	uint16_t community_id_seed;
	bool flows;                  /* write flow records */
	bool stats;                  /* write stats records */
	bool alerts;                 /* write alert records */
	eve_alert_fn alert_fn;       /* NULL: alert records are counted, not written */
	void *alert_arg;
	eve_alert_lines_fn alert_lines;   /* NULL: none; else every alert and alerted flow, file or not */
	void *alert_lines_arg;
	eve_publish_fn publish;      /* NULL: none */
	void *publish_arg;
};

/* What the output thread saw, for the final summary. */
struct eve_summary {
	uint64_t flows, flows_by_proto[4];   /* tcp, udp, icmp, other */
	struct out_flow top[EVE_TOP_FLOWS];  /* largest flow records by bytes */
	unsigned ntop;
	uint64_t alerts;                     /* written (after thresholds) */
	uint64_t alerts_suppressed;
	struct eve_sig_count sigs[EVE_TOP_SIGS];   /* most frequent signatures */
	unsigned nsigs;
};

struct eve_writer;

int eve_writer_create(struct eve_writer **out, const struct eve_cfg *cfg, struct rec_ring **rings,
		      unsigned nrings, struct ctr_block *ctr, eve_collect_fn collect,
		      void *collect_arg, char *err, size_t errlen);
/* Starts the output thread. */
int eve_writer_start(struct eve_writer *w);
/* Tells the thread that producers are done; it drains the rings, writes the
 * final stats record and exits.  Joins it. */
void eve_writer_finish(struct eve_writer *w);
void eve_writer_summary(const struct eve_writer *w, struct eve_summary *s);

/* Any thread, after no producer can push another record naming ENGINE
 * (out_alert.engine): FREE_FN(ARG) runs on the output thread once every
 * record pushed before this call has been consumed and no alert naming
 * ENGINE is still waiting for its bytes; at the latest when the writer
 * finishes.  -ENOMEM: not queued (the caller keeps the engine). */
int eve_writer_retire(struct eve_writer *w, const void *engine, void (*free_fn)(void *), void *arg);
void eve_writer_destroy(struct eve_writer *w);

/* Community ID v1 of a flow ("1:base64"), into buf (>= 34 bytes). */
void eve_community_id(const struct out_flow *f, uint16_t seed, char *buf, size_t len);
/* "192.0.2.1" / "2001:db8::1" */
void eve_addr_str(const uint8_t *a, uint8_t ipver, char *buf, size_t len);
/* "TCP", "UDP", ... or the number */
const char *eve_proto_name(uint8_t p, char *buf, size_t len);
/* "2026-01-15T10:00:00.123456+0000" */
void eve_format_ts(uint64_t ns, char *buf, size_t len);
/* Format a record as one EVE JSON line (no newline) into b (reset first);
 * false if the type is unknown or memory ran out. */
bool eve_format_record(struct jbuf *b, const struct out_rec *r, uint16_t community_seed);

/* Format an alert record as one EVE JSON line (no newline) into b (reset
 * first); BYTES holds the payload excerpt then the packet.  False when
 * memory ran out. */
bool eve_format_alert(struct jbuf *b, const struct out_alert *a, const struct eve_rule_info *ri,
		      const uint8_t *bytes, uint32_t nbytes, uint16_t seed);

#endif
