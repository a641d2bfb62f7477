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

/* Live ruleset reloads (see pipeline_reload). */
struct pipeline_ctl;

/*
 * Flow bypass below user space (XDP), supplied by the caller; the worker
 * library itself knows nothing of BPF.  Each worker gets a context of its
 * own (its own map handle: nothing is shared between workers).
 *   add:  start bypassing F (inspection is done with it); false if it
 *         could not (map full, a tunnel, no program).
 *   fold: take what was counted below user space for F since the last
 *         call and add it to F's packets and bytes; REARM keeps the bypass
 *         going (the flow lives on).  Returns the packets folded.
 */
struct pipeline_bypass {
	void *(*worker_open)(void *arg, uint16_t worker);
	void (*worker_close)(void *ctx);
	bool (*add)(void *ctx, const struct flow *f);
	uint64_t (*fold)(void *ctx, struct flow *f, bool rearm, uint64_t *bytes);
	void *arg;
};

/* Output thread (and once at the end): add counters kept outside the
 * pipeline to SUM (e.g. the XDP program's). */
typedef void (*pipeline_extra_fn)(void *arg, struct ctr_block *sum);

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
	struct pipeline_ctl *ctl;  /* NULL: no reloads; else attached while running */
	const struct pipeline_bypass *bypass;   /* NULL: no bypass */
	pipeline_extra_fn extra_counters;       /* NULL: none */
	void *extra_arg;
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
	uint64_t rules_loaded;     /* 0: no detection (of the ruleset in use at the end) */
	uint32_t reloads;          /* ruleset switches while running */
	uint64_t switch_burst_max_ns;   /* longest burst a worker spent switching rulesets in */
	uint64_t burst_max_ns;     /* longest burst of any worker (for comparison) */
};

/* Reload control, made before pipeline_run and given in cfg->ctl. */
int pipeline_ctl_create(struct pipeline_ctl **out);
void pipeline_ctl_destroy(struct pipeline_ctl *c);

struct pipeline_reload_stats {
	double publish_to_retire_ms;   /* from publishing DE to the old engine queued for freeing */
	uint32_t workers_switched;     /* workers that took DE before that (idle ones switch later) */
};

/*
 * Any thread but the pipeline's: switches the running pipeline to DE,
 * which it takes over (freed when replaced, at the end of the run, or here
 * on failure).  Workers take it at their next burst, inside a ck_epoch
 * section; the old engine is freed on the output thread once no worker can
 * be using it (ck_epoch_synchronize) and every alert it raised has been
 * written.  Flows keep their state (inspect_set_engine).  Engines must be
 * built with the detect_fbreg the first one used (cfg->de's).  Returns 0,
 * -ESRCH (not running), -ENOMEM.  Reloads are serialized.
 */
int pipeline_reload(struct pipeline_ctl *c, struct detect_engine *de, struct pipeline_reload_stats *st);

/* Runs the pipeline until the source ends (or is stopped) and every flow
 * is flushed.  Returns 0 or -errno with err filled. */
int pipeline_run(struct io_source *src, const struct pipeline_cfg *cfg,
		 struct pipeline_result *res, char *err, size_t errlen);

#endif
