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

struct eve_cfg {
	const char *path;            /* eve.json path; NULL writes no EVE file */
	uint64_t stats_interval_ns;  /* 0: only the final stats record */
	uint16_t community_id_seed;
	bool flows;                  /* write flow records */
	bool stats;                  /* write stats records */
};

/* What the output thread saw, for the final summary. */
struct eve_summary {
	uint64_t flows, flows_by_proto[4];   /* tcp, udp, icmp, other */
	struct out_flow top[EVE_TOP_FLOWS];  /* largest flow records by bytes */
	unsigned ntop;
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
void eve_writer_destroy(struct eve_writer *w);

/* Community ID v1 of a flow ("1:base64"), into buf (>= 34 bytes). */
void eve_community_id(const struct out_flow *f, uint16_t seed, char *buf, size_t len);
/* "2026-01-15T10:00:00.123456+0000" */
void eve_format_ts(uint64_t ns, char *buf, size_t len);
/* Format a record as one EVE JSON line (no newline) into b (reset first);
 * false if the type is unknown or memory ran out. */
bool eve_format_record(struct jbuf *b, const struct out_rec *r, uint16_t community_seed);

#endif
