/* SPDX-License-Identifier: BSD-3-Clause */
/* The engine's layout, shared by the builder (detect_build.c) and the
 * matcher (detect_match.c).  Nothing outside detect/ includes this. */
#ifndef VIGIL_DETECT_PRIV_H
#define VIGIL_DETECT_PRIV_H

#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "detect.h"

struct key128;

/* protocol classes, directions, inspection kinds */
enum { DPC_TCP, DPC_UDP, DPC_ICMP, DPC_OTHER, DPC__N };
enum { DDIR_TS, DDIR_TC, DDIR__N };
enum { DINSP_PKT, DINSP_STREAM, DINSP__N };

/* A flowbit operation with the name resolved to an id. */
struct dfb {
	uint8_t cmd;                 /* enum rule_fb_cmd */
	uint8_t group;               /* enum rule_fb_group */
	uint16_t n;
	uint32_t ids;                /* index of the first id in detect_engine.fb_ids */
};

/* A rule as the matcher sees it (engine order). */
struct drule {
	const struct rule *r;
	uint8_t pcls;                /* bit per DPC_* it applies to */
	uint8_t dirs;                /* bit per DDIR_* */
	uint8_t insp;                /* DINSP_* (TCP); others are always PKT */
	bool has_fb_check, has_fb_write;
	bool iponly;                 /* addresses, ports and protocol only */
	bool keyed;                  /* no fast pattern: found through the address index */
	uint16_t nfb;
	uint32_t fb;                 /* index of the first struct dfb in detect_engine.fbs */
	pcre2_code **re;             /* [n_pm]: compiled pcre of each RULE_PM_PCRE, else NULL */
	uint8_t *relnext;            /* [n_pm]: a later keyword is relative (retry later matches) */
};

/* One rule group: a database over its candidates' patterns and the rules
 * that have none.  Pattern id i makes rules pat_rules[pat_off[i] ..
 * pat_off[i+1]) candidates. */
struct dgroup {
	hs_database_t *db;           /* NULL when no rule has a pattern */
	uint32_t npat;
	uint32_t *pat_off;           /* npat + 1 */
	uint32_t *pat_rules;
	uint32_t nnon;
	uint32_t *non;               /* rule numbers without a pattern, ascending */
	uint32_t *members;           /* all member rule numbers, ascending (build only) */
	uint32_t nmembers;
	uint64_t key;                /* hash of members (build only) */
};

/* IP-only index of one side and IP version (detect_iponly.c): interval i
 * starts at starts[i] (IPv4 in .lo) and lists rules[off[i] .. off[i+1]). */
struct dip_index {
	uint32_t n;
	struct key128 *starts;
	uint32_t *off;
	uint32_t *rules;
};

struct dip_set {
	struct dip_index idx[2][2];    /* [source, destination][IPv4, IPv6] */
	uint32_t *broad;               /* keyed on neither side, ascending */
	uint32_t nbroad;
};

struct detect_engine {
	struct ruleset *rs;
	struct detect_cfg cfg;
	uint32_t nrules;
	struct drule *rules;
	uint32_t ngroups;
	struct dgroup *groups;
	/* group of each (class, direction, kind): for TCP and UDP a port map
	 * (65536 group numbers), else one group */
	uint16_t *portmap[2][DDIR__N][DINSP__N];
	uint16_t single[DPC__N][DDIR__N][DINSP__N];
	uint32_t nfbnames;
	char **fbnames;
	struct dfb *fbs;
	uint16_t *fb_ids;
	char version[17];
	struct detect_engine_stats st;
	hs_scratch_t *proto_scratch;   /* cloned by each worker */
	struct dip_set ipo;            /* IP-only rules */
	struct dip_set keyed;          /* other non-MPM rules with a small address side */
};

/* Could D match a packet of class PC, direction DIR, inspection kind INSP? */
bool detect_rule_eligible(const struct drule *d, int pc, int dir, int insp);
int detect_iponly_build(struct detect_engine *de);
void detect_iponly_free(struct detect_engine *de);
uint32_t detect_iponly_lookup(const struct dip_set *set, int side, const uint8_t *a, uint8_t ipver,
			      const uint32_t **out);

#define DGROUP_NONE 0xffffu

#endif
