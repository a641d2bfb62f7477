/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil and its XDP program (bpf/, the xdp.* keys): flow bypass for the
 * workers, the program's counters in vigil's stats, and the blocklist the
 * control plane sends in heartbeat answers.  Built only with the bpf parts
 * (VIGIL_HAVE_XDP).
 */
#ifndef VIGIL_XDP_MAIN_H
#define VIGIL_XDP_MAIN_H

#include <stddef.h>

#include <jansson.h>

#include "cfg.h"
#include "pipeline.h"

struct vigil_xdp;

/* When xdp.interface is set: finds vigil's XDP program there (attached by
 * vigil-xdp, or by DPDK's net_af_xdp with xdp_prog=) and fills PC's bypass
 * and counter hooks; else *OUT = NULL.  0 or -errno with ERR. */
int vigil_xdp_open(struct vigil_xdp **out, const struct cfg *c, struct pipeline_cfg *pc, char *err,
		   size_t errlen);
/* Shipper thread: make the program's blocklist the control plane's
 * ENTRIES ([{"prefix", "expires_in_s": N|null}]). */
void vigil_xdp_blocklist(void *x, json_t *entries);
void vigil_xdp_close(struct vigil_xdp *x);

#endif
