/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Detection: a ruleset compiled into rule groups with Hyperscan databases
 * (the engine, immutable once built, shared by every worker), and the
 * per-worker matcher that runs it on packets and on reassembled stream data.
 *
 * Groups.  Rules are grouped by protocol class (TCP, UDP, ICMP, other IP),
 * flow direction (to server, to client) and, for TCP, by what they inspect
 * (packets, or the reassembled stream); TCP and UDP groups are further split
 * by the server port (the destination port to the server, the source port to
 * the client): the ports most rules name get a group of their own, every
 * other port shares one.  A rule is in every group it could match.  Each
 * group has one Hyperscan block-mode database over its rules' fast patterns
 * (the fast_pattern content, else the longest) and a short list of the rules
 * without one; identical groups share one database.
 *
 * Matching.  A fast-pattern hit makes the rule a candidate; candidates and
 * the non-MPM rules are then verified in the engine's order (pass, drop,
 * reject, alert; flowbit setters before readers; priority; sid) against the
 * header conditions, flowbits and every payload keyword, with backtracking
 * across relative contents.  pcre runs in PCRE2 with JIT.
 *
 * Threading: detect_engine_* on a control thread; a struct detect_thread
 * belongs to one worker.  Nothing on the packet path allocates or locks.
 */
#ifndef VIGIL_DETECT_H
#define VIGIL_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctr.h"
#include "pkt.h"
#include "rule.h"

/* Flowbit names -> ids that stay the same across engines, so a flow keeps
 * its flowbits when the ruleset is reloaded (detect_fbreg.c).  Append-only;
 * used by engine builds only (one at a time), never on the packet path. */
struct detect_fbreg;
int detect_fbreg_create(struct detect_fbreg **out);
void detect_fbreg_destroy(struct detect_fbreg *r);
/* The id of NAME, added if new; -E2BIG past 65536 names, -ENOMEM. */
int detect_fbreg_id(struct detect_fbreg *r, const char *name);

struct detect_cfg {
	struct detect_fbreg *fbreg;  /* NULL: flowbit ids of this engine only */
	uint32_t port_groups;        /* ports with a group of their own, per protocol and direction */
	uint32_t pcre_match_limit;   /* PCRE2 match limit per evaluation */
	uint32_t alerts_per_packet;  /* alerts kept per inspected buffer (bound) */
	const char *cache_dir;       /* serialized databases are kept here; NULL: no cache */
};

struct detect_engine_stats {
	uint32_t rules, mpm_rules, groups, databases, patterns;
	uint32_t flowbits;           /* distinct flowbit names */
	uint64_t db_bytes;           /* Hyperscan databases */
	uint64_t scratch_bytes;      /* one worker's scratch */
	double compile_ms;
	uint32_t cache_hits;         /* databases loaded from the cache */
	uint32_t iponly_rules;       /* rules matched through the IP-only index */
	uint32_t keyed_rules;        /* other non-MPM rules found through an address index */
	uint64_t iponly_entries;     /* (interval, rule) entries of both indexes */
};

struct detect_engine;

/*
 * Build an engine from RS, which it takes over (freed with the engine, also
 * on failure).  Returns 0 or -errno with ERR set ("sid N: ..." for a rule
 * Hyperscan or PCRE2 refused).
 */
int detect_engine_create(struct detect_engine **out, struct ruleset *rs,
			 const struct detect_cfg *cfg, char *err, size_t errlen);
void detect_engine_destroy(struct detect_engine *de);
const struct ruleset *detect_engine_ruleset(const struct detect_engine *de);
/* The ruleset version id: 16 hex digits of SHA-256 over the loaded rules'
 * text in load order. */
const char *detect_engine_version(const struct detect_engine *de);
void detect_engine_get_stats(const struct detect_engine *de, struct detect_engine_stats *st);
/* Rule number i of the engine (0 <= i < stats.rules), in engine order. */
const struct rule *detect_engine_rule(const struct detect_engine *de, uint32_t i);

/* Per-flow detection state, kept by the caller with the flow. */
#define DETECT_FLOWBITS_MAX 14
struct detect_flow {
	uint16_t nbits;              /* set flowbits */
	uint16_t fb[DETECT_FLOWBITS_MAX];   /* their ids, unsorted */
};

/* What the caller knows about the packet's flow. */
enum {
	DETECT_F_FLOW = 1u << 0,         /* the packet has a flow (dir is meaningful) */
	DETECT_F_TOCLIENT = 1u << 1,     /* else to server */
	DETECT_F_ESTABLISHED = 1u << 2,
	DETECT_F_STREAM = 1u << 3,       /* the buffer is reassembled stream data */
	DETECT_F_STREAM_TRACKED = 1u << 4, /* packet: its stream is reassembled and inspected apart */
	DETECT_F_FRAG = 1u << 5,         /* the packet is an IP fragment */
	DETECT_F_REASSEMBLED = 1u << 6,  /* the packet is a defragmented datagram */
	DETECT_F_IPONLY = 1u << 7,       /* run the IP-only rules: the first packet of its flow
					    direction, or a packet without a flow (Suricata's rule) */
};

struct detect_input {
	const struct pkt *p;         /* header facts (addresses, ports, flags, ttl, ...) */
	const uint8_t *buf;          /* the payload inspected: packet payload or stream window */
	uint32_t len;
	uint32_t new_from;           /* stream: bytes before this were inspected before; a
					match must end after it.  0 for packets */
	uint32_t flags;              /* DETECT_F_* */
	struct detect_flow *df;      /* flowbits; NULL: flowbits never match/are not kept */
};

struct detect_alert {
	uint32_t rule;               /* engine rule number */
	uint8_t action;              /* enum rule_action */
	uint32_t match_end;          /* end of the last payload match in the buffer (0: none) */
};

/* The outcome of one inspection. */
enum {
	DETECT_R_PASS = 1u << 0,         /* a pass rule matched: no more rules for this packet */
	DETECT_R_DROP = 1u << 1,         /* a drop or reject rule matched */
	DETECT_R_PASS_FLOW = 1u << 2,    /* ... and it looks at addresses and ports only (Suricata's
					    "IP-only" rules): pass the whole flow */
};

struct detect_thread;

int detect_thread_create(struct detect_thread **out, const struct detect_engine *de,
			 struct ctr_block *ctr);
void detect_thread_destroy(struct detect_thread *dt);

/*
 * Inspect one buffer.  Writes up to max alerts (in engine order) to out and
 * returns their number; *result gets DETECT_R_* bits.  Flowbits of in->df
 * are updated by the rules that matched.  Hot path.
 */
unsigned detect_inspect(struct detect_thread *dt, const struct detect_input *in,
			struct detect_alert *out, unsigned max, uint32_t *result);

/*
 * threshold / detection_filter bookkeeping, for the one thread that sees
 * every worker's alerts.  At most ENTRIES tracked keys (rule + tracked
 * address(es) or flow); when every probed slot is live the alert is raised
 * and counted (detect.threshold_table_full).
 */
struct detect_thr;
struct detect_thr_key {
	const uint8_t *src, *dst;    /* 16 bytes each, as the packet travelled */
	uint16_t sport, dport;
	uint64_t flow_id;
	uint64_t ts_ns;              /* packet time */
};
int detect_thr_create(struct detect_thr **out, uint32_t entries, struct ctr_block *ctr);
void detect_thr_destroy(struct detect_thr *t);
/* true: raise the alert of rule R; false: suppressed (counted as
 * detect.alerts_suppressed).  State is kept per gid:sid, so it carries over
 * a ruleset reload for the rules both rulesets have. */
bool detect_thr_check(struct detect_thr *t, const struct rule *r, const struct detect_thr_key *k);

#endif
