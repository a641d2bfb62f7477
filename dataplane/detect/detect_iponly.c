/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address indexes.  Rules without a fast pattern would be verified one by
 * one on every packet; IP reputation lists alone are thousands of them.
 * Instead each is keyed on the side (source or destination) whose address
 * set is smaller, the address space of each side is cut into elementary
 * intervals at every range boundary, and each interval lists the rules whose
 * keyed set covers it.  A packet looks up its source and destination (two
 * binary searches) and verifies only the rules listed there.
 *
 * Two indexes: the IP-only rules (addresses, ports, protocol; run on the
 * first packet of each flow direction), where rules huge on both sides are
 * kept in a "broad" list; and the other non-MPM rules with a small side
 * (run on every packet), the rest of which stay in their groups' lists.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect_priv.h"

#define BROAD_V4 (1ull << 24)        /* a side covering more IPv4 addresses is "huge" */

struct key128 {
	uint64_t hi, lo;
};

static int kcmp(const struct key128 *a, const struct key128 *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static int kcmp_q(const void *a, const void *b)
{
	return kcmp(a, b);
}

static struct key128 k6(const uint8_t a[16])
{
	struct key128 k = { 0, 0 };

	for (int i = 0; i < 8; i++) {
		k.hi = k.hi << 8 | a[i];
		k.lo = k.lo << 8 | a[8 + i];
	}
	return k;
}

static bool kinc(struct key128 *k)   /* false on overflow */
{
	if (++k->lo)
		return true;
	return ++k->hi != 0;
}

/* Index of the last start <= k, or -1. */
static int64_t find(const struct key128 *starts, uint32_t n, const struct key128 *k)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (kcmp(&starts[mid], k) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int64_t)lo - 1;
}

static uint64_t size4(const struct rule_addrset *s)
{
	uint64_t n = 0;

	if (s->any)
		return 1ull << 32;
	for (uint32_t i = 0; i < s->n4; i++)
		n += (uint64_t)s->v4[i].hi - s->v4[i].lo + 1;
	return n;
}

/* The ranges of one IP version of a set, as keys. */
static uint32_t ranges(const struct rule_addrset *s, int v6, uint32_t i, struct key128 *lo,
		       struct key128 *hi)
{
	if (!v6) {
		if (i >= s->n4)
			return 0;
		*lo = (struct key128){ 0, s->v4[i].lo };
		*hi = (struct key128){ 0, s->v4[i].hi };
		return 1;
	}
	if (i >= s->n6)
		return 0;
	*lo = k6(s->v6[i].lo);
	*hi = k6(s->v6[i].hi);
	return 1;
}

static void idx_free(struct dip_index *x)
{
	free(x->starts);
	free(x->off);
	free(x->rules);
	memset(x, 0, sizeof(*x));
}

/* Build the interval index of one side and IP version over the rules keyed
 * on that side (key[r] == side). */
static int idx_build(struct detect_engine *de, struct dip_index *x, const uint8_t *key, int side, int v6)
{
	uint32_t nb = 0, cap = 0;
	struct key128 *b = NULL, lo, hi;

	for (uint32_t r = 0; r < de->nrules; r++) {
		if (key[r] != side)
			continue;
		const struct rule_addrset *s = side ? de->rules[r].r->dst : de->rules[r].r->src;
		for (uint32_t i = 0; ranges(s, v6, i, &lo, &hi); i++) {
			if (nb + 2 > cap) {
				cap = cap ? cap * 2 : 256;
				struct key128 *nbp = realloc(b, cap * sizeof(*b));
				if (!nbp) {
					free(b);
					return -ENOMEM;
				}
				b = nbp;
			}
			b[nb++] = lo;
			if (kinc(&hi))
				b[nb++] = hi;
		}
	}
	if (!nb) {
		free(b);
		return 0;
	}
	qsort(b, nb, sizeof(*b), kcmp_q);
	uint32_t u = 0;
	for (uint32_t i = 0; i < nb; i++)
		if (!u || kcmp(&b[u - 1], &b[i]))
			b[u++] = b[i];
	x->starts = b;
	x->n = u;
	x->off = calloc(u + 1, sizeof(*x->off));
	if (!x->off)
		return -ENOMEM;
	/* two passes: count the entries of each interval, then fill them */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t r = 0; r < de->nrules; r++) {
			if (key[r] != side)
				continue;
			const struct rule_addrset *s = side ? de->rules[r].r->dst : de->rules[r].r->src;
			for (uint32_t i = 0; ranges(s, v6, i, &lo, &hi); i++) {
				int64_t a = find(b, u, &lo), z = find(b, u, &hi);
				for (int64_t k = a; k <= z; k++) {
					if (pass == 0)
						x->off[k + 1]++;
					else
						x->rules[x->off[k]++] = r;
				}
			}
		}
		if (pass == 0) {
			for (uint32_t i = 0; i < u; i++)
				x->off[i + 1] += x->off[i];
			x->rules = malloc((x->off[u] ? x->off[u] : 1) * sizeof(*x->rules));
			if (!x->rules)
				return -ENOMEM;
		} else {
			for (uint32_t i = u; i > 0; i--)   /* the fill moved each start to the next's */
				x->off[i] = x->off[i - 1];
			x->off[0] = 0;
		}
	}
	de->st.iponly_entries += x->off[u];
	return 0;
}

static int set_build(struct detect_engine *de, struct dip_set *set, const uint8_t *key)
{
	int rc = 0;

	for (int side = 0; side < 2 && !rc; side++)
		for (int v6 = 0; v6 < 2 && !rc; v6++)
			rc = idx_build(de, &set->idx[side][v6], key, side, v6);
	return rc;
}

int detect_iponly_build(struct detect_engine *de)
{
	uint8_t *key = malloc(de->nrules ? de->nrules : 1);
	struct dip_set *io = &de->ipo;
	int rc;

	if (!key)
		return -ENOMEM;
	io->broad = malloc((de->nrules ? de->nrules : 1) * sizeof(*io->broad));
	if (!io->broad) {
		free(key);
		return -ENOMEM;
	}
	/* IP-only rules */
	for (uint32_t r = 0; r < de->nrules; r++) {
		const struct drule *d = &de->rules[r];
		key[r] = 0xff;
		if (!d->iponly)
			continue;
		de->st.iponly_rules++;
		uint64_t s = size4(d->r->src), t = size4(d->r->dst);
		if (d->r->dir == RULE_DIR_BOTH || (s > BROAD_V4 && t > BROAD_V4))
			io->broad[io->nbroad++] = r;
		else
			key[r] = s <= t ? 0 : 1;
	}
	rc = set_build(de, io, key);
	if (rc)
		goto out;
	/* other rules without a fast pattern, when one side is small */
	for (uint32_t r = 0; r < de->nrules; r++) {
		struct drule *d = &de->rules[r];
		key[r] = 0xff;
		if (d->iponly || d->r->fast_pattern >= 0 || d->r->dir == RULE_DIR_BOTH)
			continue;
		uint64_t s = size4(d->r->src), t = size4(d->r->dst);
		if (s > BROAD_V4 && t > BROAD_V4)
			continue;
		key[r] = s <= t ? 0 : 1;
		d->keyed = true;
		de->st.keyed_rules++;
	}
	rc = set_build(de, &de->keyed, key);
out:
	free(key);
	return rc;
}

static void set_free(struct dip_set *set)
{
	for (int side = 0; side < 2; side++)
		for (int v6 = 0; v6 < 2; v6++)
			idx_free(&set->idx[side][v6]);
	free(set->broad);
	set->broad = NULL;
}

void detect_iponly_free(struct detect_engine *de)
{
	set_free(&de->ipo);
	set_free(&de->keyed);
}

/* The rules listed for address A on one side: *out points into the index. */
uint32_t detect_iponly_lookup(const struct dip_set *set, int side, const uint8_t *a, uint8_t ipver,
			      const uint32_t **out)
{
	const struct dip_index *x = &set->idx[side][ipver == 6];
	struct key128 k;

	if (!x->n || (ipver != 4 && ipver != 6))
		return 0;
	if (ipver == 4)
		k = (struct key128){ 0, (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3] };
	else
		k = k6(a);
	int64_t i = find(x->starts, x->n, &k);
	if (i < 0)
		return 0;
	*out = x->rules + x->off[i];
	return x->off[i + 1] - x->off[i];
}
