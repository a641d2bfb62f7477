/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * threshold and detection_filter, decided where every worker's alerts meet
 * (the output thread), so by_src/by_dst/by_rule count a host's alerts even
 * when its flows are spread over several workers.  A bounded open-addressing
 * table; an entry whose window has passed is reused.  Semantics follow
 * Suricata's (detect-engine-threshold.c): see the cases in thr_step().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

#define THR_PORTS 32             /* distinct ports remembered for unique_on */
#define THR_PROBES 16

struct thr_ent {
	uint64_t h;                  /* 0: free */
	uint64_t rule;               /* gid << 32 | sid */
	uint8_t addr[2][16];
	uint64_t flow_id;
	uint64_t start_ns;           /* window start */
	uint64_t until_ns;           /* the entry may be reused from then on */
	uint32_t count, next;        /* matches in the window; backoff: next alerting count */
	uint16_t nports;
	uint16_t ports[THR_PORTS];
};

struct detect_thr {
	struct thr_ent *t;
	uint32_t mask;
	struct ctr_block *ctr;
};

int detect_thr_create(struct detect_thr **out, uint32_t entries, struct ctr_block *ctr)
{
	struct detect_thr *d = calloc(1, sizeof(*d));
	uint32_t n = 64;

	*out = NULL;
	while (n < entries && n < (1u << 26))
		n <<= 1;
	if (!d || !(d->t = calloc(n, sizeof(*d->t)))) {
		free(d);
		return -ENOMEM;
	}
	d->mask = n - 1;
	d->ctr = ctr;
	*out = d;
	return 0;
}

void detect_thr_destroy(struct detect_thr *d)
{
	if (!d)
		return;
	free(d->t);
	free(d);
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* true: raise the alert */
static bool thr_step(const struct rule_threshold *t, bool df, struct thr_ent *e, bool fresh,
		     uint64_t ts, uint16_t port)
{
	uint64_t win = (uint64_t)t->seconds * 1000000000ULL;

	if (t->type == RULE_THR_BACKOFF) {
		if (fresh) {
			e->count = 1;
			e->next = t->count;
			if (t->count == 1) {
				e->next = t->count * t->multiplier;
				return true;
			}
			return false;
		}
		if (e->count < UINT32_MAX)
			e->count++;
		if (e->count == e->next) {
			e->next = e->next > UINT32_MAX / t->multiplier ? UINT32_MAX : e->next * t->multiplier;
			return true;
		}
		return false;
	}
	if (!fresh && ts >= e->start_ns + win)
		fresh = true;    /* the window passed: start a new one */
	if (fresh) {
		e->start_ns = ts;
		e->count = 0;
		e->nports = 0;
	}
	if (t->unique_on != RULE_UNIQUE_NONE) {
		for (uint16_t i = 0; i < e->nports; i++)
			if (e->ports[i] == port)
				return df && e->count > t->count;   /* a port already counted */
		if (e->nports < THR_PORTS)
			e->ports[e->nports++] = port;
	}
	e->count++;
	if (df)
		return e->count > t->count;   /* detection_filter: every match past count */
	switch (t->type) {
	case RULE_THR_LIMIT:
		return e->count <= t->count;
	case RULE_THR_THRESHOLD:
		if (e->count < t->count)
			return false;
		e->count = 0;
		return true;
	case RULE_THR_BOTH:
		return e->count == t->count;
	default:
		return true;
	}
}

bool detect_thr_check(struct detect_thr *d, const struct rule *r, const struct detect_thr_key *k)
{
	uint64_t rule_no = (uint64_t)r->gid << 32 | r->sid;
	const struct rule_threshold *t = r->threshold.set ? &r->threshold
				       : r->detection_filter.set ? &r->detection_filter : NULL;
	uint8_t a[2][16];
	uint64_t fid = 0;
	bool df = !r->threshold.set;

	if (!t)
		return true;
	memset(a, 0, sizeof(a));
	switch (t->track) {
	case RULE_TRACK_BY_SRC: memcpy(a[0], k->src, 16); break;
	case RULE_TRACK_BY_DST: memcpy(a[0], k->dst, 16); break;
	case RULE_TRACK_BY_BOTH: memcpy(a[0], k->src, 16); memcpy(a[1], k->dst, 16); break;
	case RULE_TRACK_BY_FLOW: fid = k->flow_id; break;
	default: break;
	}
	uint64_t h = mix(mix(mix(1469598103934665603ULL, &rule_no, 8), a, sizeof(a)), &fid, 8) | 1;
	uint16_t port = t->unique_on == RULE_UNIQUE_SRC_PORT ? k->sport : k->dport;
	struct thr_ent *victim = NULL;
	for (uint32_t i = 0; i < THR_PROBES; i++) {
		struct thr_ent *e = &d->t[(h + i) & d->mask];
		if (e->h == h && e->rule == rule_no && e->flow_id == fid && !memcmp(e->addr, a, sizeof(a))) {
			bool ok = thr_step(t, df, e, false, k->ts_ns, port);
			if (t->type != RULE_THR_BACKOFF)
				e->until_ns = e->start_ns + (uint64_t)t->seconds * 1000000000ULL;
			if (!ok)
				ctr_inc(d->ctr, CTR_DETECT_SUPPRESSED);
			return ok;
		}
		if (!victim && (!e->h || k->ts_ns >= e->until_ns))
			victim = e;
	}
	if (!victim) {
		ctr_inc(d->ctr, CTR_DETECT_THR_FULL);
		return true;
	}
	memset(victim, 0, sizeof(*victim));
	victim->h = h;
	victim->rule = rule_no;
	victim->flow_id = fid;
	memcpy(victim->addr, a, sizeof(a));
	bool ok = thr_step(t, df, victim, true, k->ts_ns, port);
	victim->until_ns = t->type == RULE_THR_BACKOFF ? UINT64_MAX
			   : victim->start_ns + (uint64_t)t->seconds * 1000000000ULL;
	if (!ok)
		ctr_inc(d->ctr, CTR_DETECT_SUPPRESSED);
	return ok;
}
