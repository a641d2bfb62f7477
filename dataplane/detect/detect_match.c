/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hot half of detection: pick the rule groups of a buffer, run their
 * Hyperscan database, and verify candidates and non-MPM rules in engine
 * order.  Owned by one worker; allocation only at create.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect_priv.h"

#define PM_BACKTRACK_BUDGET 1024   /* content positions tried per rule evaluation */

struct detect_thread {
	const struct detect_engine *de;
	struct ctr_block *ctr;
	hs_scratch_t *scratch;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	const struct dgroup *g;      /* the group being scanned (match callback) */
	uint32_t *cand;
	uint32_t ncand;
	uint32_t *stamp;             /* per rule: gen when it became a candidate */
	uint32_t gen;
};

int detect_thread_create(struct detect_thread **out, const struct detect_engine *de,
			 struct ctr_block *ctr)
{
	struct detect_thread *dt = calloc(1, sizeof(*dt));

	*out = NULL;
	if (!dt)
		return -ENOMEM;
	dt->de = de;
	dt->ctr = ctr;
	dt->cand = malloc((de->nrules + 1) * sizeof(*dt->cand));
	dt->stamp = calloc(de->nrules + 1, sizeof(*dt->stamp));
	dt->md = pcre2_match_data_create(32, NULL);
	dt->mctx = pcre2_match_context_create(NULL);
	dt->jit = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (!dt->cand || !dt->stamp || !dt->md || !dt->mctx || !dt->jit)
		goto fail;
	pcre2_set_match_limit(dt->mctx, de->cfg.pcre_match_limit ? de->cfg.pcre_match_limit : 3500);
	pcre2_jit_stack_assign(dt->mctx, NULL, dt->jit);
	if (de->proto_scratch && hs_clone_scratch(de->proto_scratch, &dt->scratch) != HS_SUCCESS)
		goto fail;
	*out = dt;
	return 0;
fail:
	detect_thread_destroy(dt);
	return -ENOMEM;
}

void detect_thread_destroy(struct detect_thread *dt)
{
	if (!dt)
		return;
	hs_free_scratch(dt->scratch);
	pcre2_match_data_free(dt->md);
	pcre2_match_context_free(dt->mctx);
	pcre2_jit_stack_free(dt->jit);
	free(dt->cand);
	free(dt->stamp);
	free(dt);
}

/* ------------------------------------------------------------ flowbits */

static bool fb_isset(const struct detect_flow *df, uint16_t id)
{
	if (!df)
		return false;
	for (uint16_t i = 0; i < df->nbits; i++)
		if (df->fb[i] == id)
			return true;
	return false;
}

static void fb_set(struct detect_flow *df, uint16_t id)
{
	if (!df || fb_isset(df, id) || df->nbits >= DETECT_FLOWBITS_MAX)
		return;
	df->fb[df->nbits++] = id;
}

static void fb_unset(struct detect_flow *df, uint16_t id)
{
	if (!df)
		return;
	for (uint16_t i = 0; i < df->nbits; i++) {
		if (df->fb[i] == id) {
			df->fb[i] = df->fb[--df->nbits];
			return;
		}
	}
}

static bool fb_check(const struct detect_engine *de, const struct drule *d, const struct detect_flow *df)
{
	if (!df)
		return false;   /* no flow: no flowbit condition holds, isnotset included */
	for (uint16_t k = 0; k < d->nfb; k++) {
		const struct dfb *f = &de->fbs[d->fb + k];
		if (f->cmd != RULE_FB_ISSET && f->cmd != RULE_FB_ISNOTSET)
			continue;
		uint32_t hits = 0;
		for (uint16_t m = 0; m < f->n; m++)
			hits += fb_isset(df, de->fb_ids[f->ids + m]);
		bool want_set = f->cmd == RULE_FB_ISSET;
		bool ok;
		if (f->group == RULE_FB_OR)
			ok = want_set ? hits > 0 : hits < f->n;
		else
			ok = want_set ? hits == f->n : hits == 0;
		if (!ok)
			return false;
	}
	return true;
}

static void fb_apply(const struct detect_engine *de, const struct drule *d, struct detect_flow *df)
{
	for (uint16_t k = 0; k < d->nfb; k++) {
		const struct dfb *f = &de->fbs[d->fb + k];
		for (uint16_t m = 0; m < f->n; m++) {
			uint16_t id = de->fb_ids[f->ids + m];
			if (f->cmd == RULE_FB_SET)
				fb_set(df, id);
			else if (f->cmd == RULE_FB_UNSET)
				fb_unset(df, id);
			else if (f->cmd == RULE_FB_TOGGLE)
				fb_isset(df, id) ? fb_unset(df, id) : fb_set(df, id);
		}
	}
}

/* ------------------------------------------------------ header checks */

static bool flags_match(const struct rule_tcp_flags *f, uint8_t pf)
{
	uint8_t fl = (uint8_t)(pf & ~f->ignore);

	switch (f->mod) {
	case RULE_FLAGS_EXACT: return fl == f->set;
	case RULE_FLAGS_PLUS: return (fl & f->set) == f->set;
	case RULE_FLAGS_ANY: return (fl & f->set) != 0;
	case RULE_FLAGS_NOT: return (fl & f->set) != f->set;   /* Suricata: not all of them */
	default: return true;
	}
}

static bool side_match(const struct rule *r, const struct pkt *p, bool swap)
{
	const uint8_t *s = swap ? p->dst : p->src, *d = swap ? p->src : p->dst;
	uint16_t sp = swap ? p->dport : p->sport, dp = swap ? p->sport : p->dport;

	if (!r->src->any && !rule_addr_match(r->src, s, p->ipver))
		return false;
	if (!r->dst->any && !rule_addr_match(r->dst, d, p->ipver))
		return false;
	if (p->proto != 6 && p->proto != 17)
		return true;   /* ports only mean something for TCP and UDP */
	if (!(p->flags & PKT_F_L4))
		return r->sport->any && r->dport->any;
	return (r->sport->any || rule_port_match(r->sport, sp)) &&
	       (r->dport->any || rule_port_match(r->dport, dp));
}

static bool header_match(const struct drule *d, const struct detect_input *in)
{
	const struct rule *r = d->r;
	const struct pkt *p = in->p;
	uint32_t fl = r->flow, f = in->flags;

	if (fl & (RULE_FLOW_TO_SERVER | RULE_FLOW_TO_CLIENT)) {
		if (!(f & DETECT_F_FLOW))
			return false;
		if ((fl & RULE_FLOW_TO_SERVER) && (f & DETECT_F_TOCLIENT))
			return false;
		if ((fl & RULE_FLOW_TO_CLIENT) && !(f & DETECT_F_TOCLIENT))
			return false;
	}
	if ((fl & RULE_FLOW_ESTABLISHED) && !(f & DETECT_F_ESTABLISHED))
		return false;
	if ((fl & RULE_FLOW_NOT_ESTABLISHED) && (f & DETECT_F_ESTABLISHED))
		return false;
	if ((fl & RULE_FLOW_ONLY_STREAM) && !(f & DETECT_F_STREAM))
		return false;
	if ((fl & RULE_FLOW_NO_STREAM) && (f & DETECT_F_STREAM))
		return false;
	if ((fl & RULE_FLOW_ONLY_FRAG) && !(f & (DETECT_F_FRAG | DETECT_F_REASSEMBLED)))
		return false;
	if ((fl & RULE_FLOW_NO_FRAG) && (f & (DETECT_F_FRAG | DETECT_F_REASSEMBLED)))
		return false;
	if (r->proto == RULE_PROTO_TCP_STREAM && !(f & DETECT_F_STREAM))
		return false;
	if (r->proto == RULE_PROTO_TCP_PKT && (f & DETECT_F_STREAM))
		return false;
	if (!side_match(r, p, false) && !(r->dir == RULE_DIR_BOTH && side_match(r, p, true)))
		return false;
	if (r->dsize.op != RULE_CMP_NONE &&
	    ((f & DETECT_F_STREAM) || !rule_cmp_match(&r->dsize, p->payload_len) ||
	     (r->dsize.op == RULE_CMP_NE && !p->payload_len)))   /* as Suricata: "!N" wants a payload */
		return false;
	if (!rule_cmp_match(&r->ttl, p->ttl) || !rule_cmp_match(&r->ip_proto, p->proto))
		return false;
	if (r->itype.op != RULE_CMP_NONE || r->icode.op != RULE_CMP_NONE) {
		if ((p->proto != 1 && p->proto != 58) || !(p->flags & PKT_F_L4))
			return false;
		if (!rule_cmp_match(&r->itype, p->icmp_type) || !rule_cmp_match(&r->icode, p->icmp_code))
			return false;
	}
	if (r->flags.mod != RULE_FLAGS_NONE &&
	    (p->proto != 6 || !(p->flags & PKT_F_L4) || !flags_match(&r->flags, p->tcp_flags)))
		return false;
	if (r->sameip && memcmp(p->src, p->dst, p->ipver == 6 ? 16 : 4))
		return false;
	return true;
}

/* ----------------------------------------------------- payload matching */

struct pm_st {
	struct detect_thread *dt;
	const struct drule *d;
	const uint8_t *buf;
	uint32_t len, new_from;
	uint32_t budget;
	uint32_t end;                /* max end of the positive matches that held */
};

static inline uint8_t lc(uint8_t c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* First occurrence of c in buf[from, to) (the whole pattern inside), or -1. */
static int64_t find(const struct rule_content *c, const uint8_t *buf, int64_t from, int64_t to)
{
	if (from < 0)
		from = 0;
	if (to - from < (int64_t)c->len)
		return -1;
	int64_t last = to - c->len;
	if (!(c->flags & RULE_CONTENT_NOCASE)) {
		const uint8_t *h = memmem(buf + from, (size_t)(to - from), c->pat, c->len);
		return h ? h - buf : -1;
	}
	uint8_t f0 = lc(c->pat[0]);
	for (int64_t i = from; i <= last; i++) {
		if (lc(buf[i]) != f0)
			continue;
		uint32_t k = 1;
		while (k < c->len && lc(buf[i + k]) == lc(c->pat[k]))
			k++;
		if (k == c->len)
			return i;
	}
	return -1;
}

static bool read_num(const uint8_t *p, uint32_t n, enum rule_num_base base, enum rule_endian e,
		     uint64_t *out)
{
	uint64_t v = 0;

	if (base == RULE_BASE_BINARY) {
		for (uint32_t i = 0; i < n; i++)
			v = e == RULE_ENDIAN_BIG ? (v << 8) | p[i] : v | ((uint64_t)p[i] << (8 * i));
		*out = v;
		return true;
	}
	unsigned b = base == RULE_BASE_HEX ? 16 : base == RULE_BASE_OCT ? 8 : 10;
	uint32_t i = 0, digits = 0;
	if (b == 16 && n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		i = 2;
	for (; i < n; i++) {
		unsigned dv;
		uint8_t c = p[i];
		if (c >= '0' && c <= '9')
			dv = c - '0';
		else if (b == 16 && lc(c) >= 'a' && lc(c) <= 'f')
			dv = lc(c) - 'a' + 10;
		else
			break;
		if (dv >= b)
			break;
		v = v * b + dv;
		digits++;
	}
	*out = v;
	return digits > 0;
}

static bool pm_run(struct pm_st *st, uint32_t i, int64_t prev, uint32_t end);

static bool pm_content(struct pm_st *st, uint32_t i, int64_t prev, uint32_t end)
{
	const struct rule_content *c = &st->d->r->pm[i].content;
	bool rel = c->flags & (RULE_CONTENT_DISTANCE | RULE_CONTENT_WITHIN);
	int64_t from, to = st->len;

	if (rel) {
		int64_t dist = (c->flags & RULE_CONTENT_DISTANCE) ? c->distance : 0;
		from = prev + dist;
		if (c->flags & RULE_CONTENT_WITHIN)
			to = prev + dist + c->within;
	} else if (c->flags & (RULE_CONTENT_OFFSET | RULE_CONTENT_DEPTH)) {
		/* offset/depth count from the new bytes of a stream window */
		from = (int64_t)st->new_from + ((c->flags & RULE_CONTENT_OFFSET) ? c->offset : 0);
		if (c->flags & RULE_CONTENT_DEPTH)
			to = from + c->depth;
	} else {
		from = 0;
	}
	if (from < 0)
		from = 0;
	if (to > (int64_t)st->len)
		to = st->len;
	if (c->flags & RULE_CONTENT_NEGATED)
		return find(c, st->buf, from, to) < 0 && pm_run(st, i + 1, prev, end);
	for (;;) {
		int64_t at = find(c, st->buf, from, to);
		if (at < 0)
			return false;
		uint32_t e = (uint32_t)(at + c->len);
		if (pm_run(st, i + 1, e, e > end ? e : end))
			return true;
		/* a later occurrence can only help a relative keyword after this
		 * one, or a stream window where this one lay wholly in the carry */
		if (!st->d->relnext[i] && !(st->new_from && e <= st->new_from))
			return false;
		if (!st->budget--)
			return false;
		from = at + 1;
	}
}

static bool pm_pcre(struct pm_st *st, uint32_t i, int64_t prev, uint32_t end)
{
	const struct rule_pcre *pc = &st->d->r->pm[i].pcre;
	struct detect_thread *dt = st->dt;
	/* relative: from the previous match; anchored at the start: from the
	 * new bytes of a stream window; else the whole window */
	uint32_t base = (pc->flags & RULE_PCRE_RELATIVE) ? (uint32_t)prev
		      : (pc->re[0] == '^' || (pc->flags & RULE_PCRE_ANCHORED)) ? st->new_from : 0;
	int rc;

	if (base > st->len)
		return (pc->flags & RULE_PCRE_NEGATED) && pm_run(st, i + 1, prev, end);
	for (PCRE2_SIZE from = 0;;) {
		rc = pcre2_match(st->d->re[i], st->buf + base, st->len - base, from, 0, dt->md, dt->mctx);
		if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
			ctr_inc(dt->ctr, CTR_DETECT_PCRE_LIMIT);
			return false;
		}
		if (pc->flags & RULE_PCRE_NEGATED)
			return rc < 0 && pm_run(st, i + 1, prev, end);
		if (rc < 0)
			return false;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(dt->md);
		uint32_t e = base + (uint32_t)ov[1];
		if (pm_run(st, i + 1, e, e > end ? e : end))
			return true;
		/* as Suricata: try the next match when a relative keyword follows */
		if ((!st->d->relnext[i] && !(st->new_from && e <= st->new_from)) || !st->budget--)
			return false;
		from = ov[0] + 1;
		if (from > st->len - base)
			return false;
	}
}

static bool bt_cmp(const struct rule_byte_test *t, uint64_t v)
{
	bool m;

	switch (t->op) {
	case RULE_BT_LT: m = v < t->value; break;
	case RULE_BT_GT: m = v > t->value; break;
	case RULE_BT_EQ: m = v == t->value; break;
	case RULE_BT_LE: m = v <= t->value; break;
	case RULE_BT_GE: m = v >= t->value; break;
	case RULE_BT_AND: m = (v & t->value) != 0; break;
	case RULE_BT_XOR: m = (v ^ t->value) != 0; break;
	default: m = false;
	}
	return m != t->negated;
}

static uint64_t apply_mask(uint64_t v, uint32_t mask)
{
	v &= mask;
	if (mask)
		v >>= __builtin_ctz(mask);
	return v;
}

static bool pm_run(struct pm_st *st, uint32_t i, int64_t prev, uint32_t end)
{
	const struct rule *r = st->d->r;

	if (i == r->n_pm) {
		if (st->new_from && end && end <= st->new_from)
			return false;   /* seen whole in an earlier inspection */
		st->end = end;
		return true;
	}
	const struct rule_pm *pm = &r->pm[i];
	switch (pm->type) {
	case RULE_PM_CONTENT:
		return pm_content(st, i, prev, end);
	case RULE_PM_PCRE:
		return pm_pcre(st, i, prev, end);
	case RULE_PM_BYTE_TEST: {
		const struct rule_byte_test *t = &pm->byte_test;
		int64_t at = (t->relative ? prev : (int64_t)st->new_from) + t->offset;
		uint64_t v;
		if (at < 0 || at + t->nbytes > (int64_t)st->len ||
		    !read_num(st->buf + at, t->nbytes, t->base, t->endian, &v))
			return false;
		if (t->has_bitmask)
			v = apply_mask(v, t->bitmask);
		return bt_cmp(t, v) && pm_run(st, i + 1, prev, end);
	}
	case RULE_PM_BYTE_JUMP: {
		const struct rule_byte_jump *j = &pm->byte_jump;
		int64_t at = (j->relative ? prev : (int64_t)st->new_from) + j->offset;
		uint64_t v = 0;
		if (at < 0 || at + j->nbytes > (int64_t)st->len)
			return false;
		if (j->nbytes && !read_num(st->buf + at, j->nbytes, j->base, j->endian, &v))
			return false;
		if (j->has_bitmask)
			v = apply_mask(v, j->bitmask);
		if (v > (uint64_t)st->len + 65536 * 2)
			return false;   /* beyond the buffer whatever post_offset says */
		v *= j->multiplier;
		if (j->align && v % 4)
			v += 4 - v % 4;
		if (v > (uint64_t)st->len + (uint64_t)INT32_MAX / 2)
			return false;
		int64_t to = j->from_beginning ? (int64_t)st->new_from + (int64_t)v
			   : j->from_end ? (int64_t)st->len + (int64_t)v
			   : at + j->nbytes + (int64_t)v;
		to += j->post_offset;
		if (to < 0 || to >= (int64_t)st->len)
			return false;
		return pm_run(st, i + 1, to, end);
	}
	case RULE_PM_ISDATAAT: {
		const struct rule_isdataat *d = &pm->isdataat;
		bool has = d->relative ? prev + d->n <= (int64_t)st->len : d->n < st->len - st->new_from;
		return has != d->negated && pm_run(st, i + 1, prev, end);
	}
	}
	return false;
}

/* ---------------------------------------------------------- the scan */

static void add_cands(struct detect_thread *dt, const uint32_t *v, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		uint32_t ri = v[k];
		if (dt->stamp[ri] != dt->gen) {
			dt->stamp[ri] = dt->gen;
			dt->cand[dt->ncand++] = ri;
		}
	}
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *ctx)
{
	struct detect_thread *dt = ctx;
	const struct dgroup *g = dt->g;

	(void)from;
	(void)to;
	(void)flags;
	add_cands(dt, g->pat_rules + g->pat_off[id], g->pat_off[id + 1] - g->pat_off[id]);
	return 0;
}

static void group_collect(struct detect_thread *dt, const struct dgroup *g, const struct detect_input *in)
{
	if (g->db && in->len) {
		uint32_t before = dt->ncand;
		dt->g = g;
		hs_scan(g->db, (const char *)in->buf, in->len, 0, dt->scratch, on_match, dt);
		ctr_add(dt->ctr, CTR_DETECT_CANDIDATES, dt->ncand - before);
	}
	add_cands(dt, g->non, g->nnon);
}

/* Rules of an address index listed for the packet's addresses, and its
 * broad ones (<> rules are broad: they may match from either side). */
static void addr_collect(struct detect_thread *dt, const struct dip_set *set, const struct pkt *p)
{
	const uint32_t *v;
	uint32_t n;

	add_cands(dt, set->broad, set->nbroad);
	for (int side = 0; side < 2; side++) {
		n = detect_iponly_lookup(set, side, side ? p->dst : p->src, p->ipver, &v);
		add_cands(dt, v, n);
	}
}

static const struct dgroup *group_of(const struct detect_engine *de, int pc, int dir, int insp,
				     const struct pkt *p)
{
	uint16_t gi;

	if (pc == DPC_TCP || pc == DPC_UDP) {
		const uint16_t *map = de->portmap[pc == DPC_TCP ? 0 : 1][dir][insp];
		if (!map)
			return NULL;
		gi = map[dir == DDIR_TS ? p->dport : p->sport];
	} else {
		gi = de->single[pc][dir][insp];
	}
	return gi == DGROUP_NONE ? NULL : &de->groups[gi];
}

/* A keyed rule came from the address index, not its groups: would one of
 * the groups inspected here have held it? */
static bool keyed_ok(const struct drule *d, int pc, int dir, const struct detect_input *in)
{
	if (pc == DPC_TCP && (in->flags & DETECT_F_STREAM))
		return detect_rule_eligible(d, pc, dir, DINSP_STREAM);
	if (detect_rule_eligible(d, pc, dir, DINSP_PKT))
		return true;
	return pc == DPC_TCP && !(in->flags & DETECT_F_STREAM_TRACKED) && in->len &&
	       detect_rule_eligible(d, pc, dir, DINSP_STREAM);
}

unsigned detect_inspect(struct detect_thread *dt, const struct detect_input *in,
			struct detect_alert *out, unsigned max, uint32_t *result)
{
	const struct detect_engine *de = dt->de;
	const struct pkt *p = in->p;
	int pc = p->proto == 6 ? DPC_TCP : p->proto == 17 ? DPC_UDP
	       : (p->proto == 1 || p->proto == 58) ? DPC_ICMP : DPC_OTHER;
	int dir = (in->flags & DETECT_F_TOCLIENT) ? DDIR_TC : DDIR_TS;
	unsigned n = 0;
	const struct dgroup *g;

	*result = 0;
	if (pc != DPC_OTHER && !(p->flags & PKT_F_L4) && !(in->flags & DETECT_F_STREAM))
		pc = DPC_OTHER;   /* a later fragment: no transport header; IP-only rules apply */
	if (++dt->gen == 0) {
		memset(dt->stamp, 0, de->nrules * sizeof(*dt->stamp));
		dt->gen = 1;
	}
	dt->ncand = 0;
	if (pc == DPC_TCP && (in->flags & DETECT_F_STREAM)) {
		if ((g = group_of(de, pc, dir, DINSP_STREAM, p)))
			group_collect(dt, g, in);
	} else {
		if ((g = group_of(de, pc, dir, DINSP_PKT, p)))
			group_collect(dt, g, in);
		/* a TCP packet whose stream is not inspected apart: stream rules
		 * look at its payload */
		if (pc == DPC_TCP && !(in->flags & DETECT_F_STREAM_TRACKED) && in->len &&
		    (g = group_of(de, pc, dir, DINSP_STREAM, p)))
			group_collect(dt, g, in);
	}
	if (p->ipver) {
		if ((in->flags & DETECT_F_IPONLY) && !(in->flags & DETECT_F_STREAM))
			addr_collect(dt, &de->ipo, p);
		addr_collect(dt, &de->keyed, p);
	}
	if (dt->ncand > 1) {
		/* engine order; insertion sort is fine for the usual handful */
		for (uint32_t i = 1; i < dt->ncand; i++) {
			uint32_t v = dt->cand[i], j = i;
			while (j && dt->cand[j - 1] > v) {
				dt->cand[j] = dt->cand[j - 1];
				j--;
			}
			dt->cand[j] = v;
		}
	}
	for (uint32_t k = 0; k < dt->ncand; k++) {
		const struct drule *d = &de->rules[dt->cand[k]];
		const struct rule *r = d->r;
		struct pm_st st = { dt, d, in->buf, in->len, in->new_from, PM_BACKTRACK_BUDGET, 0 };

		if (d->iponly && !(d->pcls & (1u << pc)))
			continue;
		if (d->keyed && !keyed_ok(d, pc, dir, in))
			continue;
		if (!header_match(d, in))
			continue;
		if (d->has_fb_check && !fb_check(de, d, in->df))
			continue;
		if (r->n_pm && !pm_run(&st, 0, 0, 0))
			continue;
		if (d->has_fb_write)
			fb_apply(de, d, in->df);
		if (r->action == RULE_ACTION_PASS) {
			*result |= DETECT_R_PASS | (d->iponly ? DETECT_R_PASS_FLOW : 0);
			break;
		}
		if (r->action == RULE_ACTION_DROP || r->action == RULE_ACTION_REJECT)
			*result |= DETECT_R_DROP;
		if (r->noalert)
			continue;
		if (n < max)
			out[n++] = (struct detect_alert){ dt->cand[k], (uint8_t)r->action, st.end };
		else
			ctr_inc(dt->ctr, CTR_DETECT_QUEUE_OVERFLOW);
	}
	return n;
}
