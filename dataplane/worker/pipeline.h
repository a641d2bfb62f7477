/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet pipeline: source -> (dispatcher) -> workers -> output thread.
 *
 * Direct mode (the source has one queue per worker: one worker, or a NIC
 * spreading traffic by symmetric RSS): each worker polls its own queue and
 * runs to completion.  Dispatch mode (one queue, several workers): the
 * calling thread reads bursts, hashes each packet by its innermost IP pair
 * (so both directions and every fragment of a flow meet on one worker), and
 * copies it into that worker's arena and SPSC ring.
 *
 * Offline input (files, net_pcap) never loses a packet or a record: when a
 * ring is full the producer waits.  Live input drops and counts instead.
 */
#ifndef VIGIL_PIPELINE_H
#define VIGIL_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "ctr.h"
#include "eve.h"
#include "detect.h"
#include "flow.h"
#include "inspect.h"
#include "io.h"
#include "pkt.h"

struct pipeline_cfg {
	uint16_t workers;
	struct flow_table_cfg flow;
	bool verify_csum;
	uint32_t in_ring;          /* packet descriptors per worker (power of 2) */
	uint64_t arena_bytes;      /* packet bytes in flight per worker (dispatch mode) */
	uint32_t out_ring;         /* records per worker (power of 2) */
	uint32_t dispatch_seed;
	struct eve_cfg eve;
	bool progress;             /* progress line on stderr */
	const struct detect_engine *de;   /* NULL: flow accounting only, no inspection */
	struct inspect_cfg inspect;
	uint32_t thresholds;       /* threshold/detection_filter entries tracked */
};

struct pipeline_result {
	struct ctr_block total;
	uint64_t flow_memuse;      /* bytes, all workers */
	uint64_t flow_capacity;    /* flows, all workers */
	double wall_s;             /* from the first packet read to the last record written */
	double setup_s;            /* allocating tables and pools before that */
	uint64_t first_ns, last_ns;   /* packet time span */
	bool direct;
	uint16_t workers;
	struct eve_summary eve;
	uint64_t rules_loaded;     /* 0: no detection */
};

/* Runs the pipeline until the source ends (or is stopped) and every flow
 * is flushed.  Returns 0 or -errno with err filled. */
int pipeline_run(struct io_source *src, const struct pipeline_cfg *cfg,
		 struct pipeline_result *res, char *err, size_t errlen);

#endif
