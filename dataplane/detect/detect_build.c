/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cold half of detection: order the rules, resolve flowbit names,
 * compile pcre, build the rule groups and their Hyperscan databases (or load
 * them from the cache of serialized databases).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <nettle/sha2.h>

#include "detect_priv.h"

/* ------------------------------------------------------------ helpers */

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t hash_u32s(const uint32_t *v, uint32_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (uint32_t i = 0; i < n; i++) {
		h ^= v[i];
		h *= 1099511628211ULL;
	}
	return h ^ n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ----------------------------------------------------------- flowbits */

static int fb_names_build(struct detect_engine *de, const struct rule **rv, uint32_t n)
{
	size_t cap = 0, k = 0;
	char **names = NULL;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < rv[i]->n_flowbits; j++)
			cap += rv[i]->flowbits[j].n;
	if (!cap)
		return 0;
	names = malloc(cap * sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < rv[i]->n_flowbits; j++)
			for (uint32_t m = 0; m < rv[i]->flowbits[j].n; m++)
				names[k++] = (char *)rv[i]->flowbits[j].names[m];
	qsort(names, k, sizeof(*names), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || strcmp(names[u - 1], names[i]))
			names[u++] = names[i];
	if (u > 0xffff) {
		free(names);
		return -E2BIG;
	}
	de->fbnames = names;
	de->nfbnames = (uint32_t)u;
	de->fbs = calloc(cap, sizeof(*de->fbs));
	de->fb_ids = calloc(cap, sizeof(*de->fb_ids));
	return de->fbs && de->fb_ids ? 0 : -ENOMEM;
}

/* The id of a flowbit name: from the shared registry when there is one
 * (stable across reloads), else its rank among this engine's names. */
static int fb_id(const struct detect_engine *de, const char *name)
{
	if (de->cfg.fbreg)
		return detect_fbreg_id(de->cfg.fbreg, name);
	char **hit = bsearch(&name, de->fbnames, de->nfbnames, sizeof(char *), cmp_str);

	return (int)(hit - de->fbnames);
}

/* --------------------------------------------------------- rule order */

static int action_rank(enum rule_action a)
{
	switch (a) {
	case RULE_ACTION_PASS: return 0;
	case RULE_ACTION_DROP: return 1;
	case RULE_ACTION_REJECT: return 2;
	default: return 3;
	}
}

/* flowbit setters before rules that both set and read, before readers */
static int fb_rank(const struct rule *r)
{
	bool rd = false, wr = false;

	for (uint32_t i = 0; i < r->n_flowbits; i++) {
		if (r->flowbits[i].cmd == RULE_FB_ISSET || r->flowbits[i].cmd == RULE_FB_ISNOTSET)
			rd = true;
		else
			wr = true;
	}
	return wr && !rd ? 0 : wr ? 1 : rd ? 2 : 3;
}

struct order_key {
	const struct rule *r;
	uint32_t load;
};

static int cmp_order(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;
	int d = action_rank(x->r->action) - action_rank(y->r->action);

	if (!d)
		d = fb_rank(x->r) - fb_rank(y->r);
	if (!d)
		d = (int)x->r->priority - (int)y->r->priority;
	if (!d)
		d = x->load < y->load ? -1 : x->load > y->load;
	return d;
}

/* ------------------------------------------------------ rule analysis */

static uint8_t rule_pcls(const struct rule *r)
{
	switch (r->proto) {
	case RULE_PROTO_TCP:
	case RULE_PROTO_TCP_PKT:
	case RULE_PROTO_TCP_STREAM:
		return 1u << DPC_TCP;
	case RULE_PROTO_UDP:
		return 1u << DPC_UDP;
	case RULE_PROTO_ICMP:
		return 1u << DPC_ICMP;
	default:
		return (1u << DPC__N) - 1;
	}
}

static uint8_t rule_insp(const struct rule *r)
{
	if (r->proto == RULE_PROTO_TCP_PKT || r->n_pm == 0 || r->dsize.op != RULE_CMP_NONE ||
	    (r->flow & RULE_FLOW_NO_STREAM))
		return DINSP_PKT;
	return DINSP_STREAM;
}

static uint32_t pcre_opts(uint32_t f)
{
	uint32_t o = 0;

	if (f & RULE_PCRE_CASELESS)
		o |= PCRE2_CASELESS;
	if (f & RULE_PCRE_DOTALL)
		o |= PCRE2_DOTALL;
	if (f & RULE_PCRE_MULTILINE)
		o |= PCRE2_MULTILINE;
	if (f & RULE_PCRE_EXTENDED)
		o |= PCRE2_EXTENDED;
	if (f & RULE_PCRE_ANCHORED)
		o |= PCRE2_ANCHORED;
	if (f & RULE_PCRE_DOLLAR_ENDONLY)
		o |= PCRE2_DOLLAR_ENDONLY;
	if (f & RULE_PCRE_UNGREEDY)
		o |= PCRE2_UNGREEDY;
	return o;
}

static int rule_prepare(struct detect_engine *de, struct drule *d, const struct rule *r, uint32_t *fbpos,
			uint32_t *idpos, char *err, size_t errlen)
{
	d->r = r;
	d->pcls = rule_pcls(r);
	d->dirs = (r->flow & RULE_FLOW_TO_SERVER) ? 1u << DDIR_TS
		: (r->flow & RULE_FLOW_TO_CLIENT) ? 1u << DDIR_TC : 3u;
	d->insp = rule_insp(r);
	d->iponly = !r->n_pm && !r->flow && r->dsize.op == RULE_CMP_NONE &&
		    r->ttl.op == RULE_CMP_NONE && r->itype.op == RULE_CMP_NONE &&
		    r->icode.op == RULE_CMP_NONE && r->ip_proto.op == RULE_CMP_NONE &&
		    r->flags.mod == RULE_FLAGS_NONE && !r->sameip;
	if (r->n_flowbits) {
		d->fb = *fbpos;
		d->nfb = (uint16_t)r->n_flowbits;
		for (uint32_t j = 0; j < r->n_flowbits; j++) {
			const struct rule_flowbit *f = &r->flowbits[j];
			struct dfb *o = &de->fbs[(*fbpos)++];
			o->cmd = (uint8_t)f->cmd;
			o->group = (uint8_t)f->group;
			o->n = (uint16_t)f->n;
			o->ids = *idpos;
			for (uint32_t m = 0; m < f->n; m++) {
				int id = fb_id(de, f->names[m]);
				if (id < 0) {
					snprintf(err, errlen, "%s:%u: sid %u: flowbit '%s': %s", r->file, r->line,
						 r->sid, f->names[m],
						 id == -E2BIG ? "more than 65536 flowbit names since start"
							      : "out of memory");
					return id;
				}
				de->fb_ids[(*idpos)++] = (uint16_t)id;
			}
			if (f->cmd == RULE_FB_ISSET || f->cmd == RULE_FB_ISNOTSET)
				d->has_fb_check = true;
			else
				d->has_fb_write = true;
		}
	}
	for (uint32_t j = 0; j < r->n_flowbits; j++)
		if (r->flowbits[j].cmd != RULE_FB_SET)
			d->iponly = false;   /* as Suricata: only flowbits:set keeps a rule IP-only */
	if (r->n_pm) {
		/* relnext[i]: a keyword after i is relative, so i's later matches must be tried */
		d->relnext = calloc(r->n_pm, 1);
		if (!d->relnext)
			return -ENOMEM;
		bool rel = false;
		for (uint32_t i = r->n_pm; i-- > 0;) {
			d->relnext[i] = rel;
			const struct rule_pm *pm = &r->pm[i];
			rel = rel || (pm->type == RULE_PM_CONTENT &&
				      (pm->content.flags & (RULE_CONTENT_DISTANCE | RULE_CONTENT_WITHIN))) ||
			      (pm->type == RULE_PM_PCRE && (pm->pcre.flags & RULE_PCRE_RELATIVE)) ||
			      (pm->type == RULE_PM_BYTE_TEST && pm->byte_test.relative) ||
			      (pm->type == RULE_PM_BYTE_JUMP && pm->byte_jump.relative) ||
			      (pm->type == RULE_PM_ISDATAAT && pm->isdataat.relative);
		}
	}
	for (uint32_t i = 0; i < r->n_pm; i++) {
		if (r->pm[i].type != RULE_PM_PCRE)
			continue;
		if (!d->re) {
			d->re = calloc(r->n_pm, sizeof(*d->re));
			if (!d->re)
				return -ENOMEM;
		}
		int ec;
		PCRE2_SIZE eo;
		d->re[i] = pcre2_compile((PCRE2_SPTR)r->pm[i].pcre.re, PCRE2_ZERO_TERMINATED,
					 pcre_opts(r->pm[i].pcre.flags), &ec, &eo, NULL);
		if (!d->re[i]) {
			PCRE2_UCHAR msg[128];
			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errlen, "%s:%u: sid %u: pcre at offset %zu: %s", r->file, r->line,
				 r->sid, (size_t)eo, (const char *)msg);
			return -EINVAL;
		}
		pcre2_jit_compile(d->re[i], PCRE2_JIT_COMPLETE);   /* falls back to the interpreter */
	}
	return 0;
}

/* --------------------------------------------------------- patterns */

/* The expression a rule contributes to its groups' databases: its fast
 * pattern as an escaped literal, or (no fast pattern) its first positive,
 * absolute pcre as a prefilter.  Returns false when it has neither. */
struct dpat {
	char *expr;
	unsigned flags;
	uint32_t rule;
};

static bool rule_pattern(const struct drule *d, bool allow_pcre, struct dpat *out)
{
	const struct rule *r = d->r;

	if (r->fast_pattern >= 0 && !(r->pm[r->fast_pattern].content.flags & RULE_CONTENT_NEGATED)) {
		/* a negated fast_pattern cannot prefilter: such rules are always
		 * inspected (as Suricata does) */
		const struct rule_content *c = &r->pm[r->fast_pattern].content;
		const uint8_t *p = c->pat;
		uint32_t n = c->len;
		if (c->flags & RULE_CONTENT_FP_CHOP) {
			p += c->fp_off;
			n = c->fp_len;
		}
		out->expr = malloc((size_t)n * 4 + 1);
		if (!out->expr)
			return false;
		for (uint32_t i = 0; i < n; i++)
			snprintf(out->expr + i * 4, 5, "\\x%02x", p[i]);
		out->expr[n * 4] = 0;
		out->flags = HS_FLAG_SINGLEMATCH | ((c->flags & RULE_CONTENT_NOCASE) ? HS_FLAG_CASELESS : 0);
		return true;
	}
	if (!allow_pcre || r->fast_pattern >= 0)
		return false;
	for (uint32_t i = 0; i < r->n_pm; i++) {
		const struct rule_pm *pm = &r->pm[i];
		if (pm->type != RULE_PM_PCRE)
			continue;
		uint32_t f = pm->pcre.flags;
		if (f & (RULE_PCRE_NEGATED | RULE_PCRE_RELATIVE | RULE_PCRE_ANCHORED | RULE_PCRE_UNGREEDY |
			 RULE_PCRE_EXTENDED | RULE_PCRE_DOLLAR_ENDONLY))
			continue;
		if (pm->pcre.re[0] == '^')
			continue;   /* anchored at the window's new bytes by the matcher, not at byte 0 */
		out->expr = strdup(pm->pcre.re);
		if (!out->expr)
			return false;
		out->flags = HS_FLAG_SINGLEMATCH | HS_FLAG_PREFILTER |
			     ((f & RULE_PCRE_CASELESS) ? HS_FLAG_CASELESS : 0) |
			     ((f & RULE_PCRE_DOTALL) ? HS_FLAG_DOTALL : 0) |
			     ((f & RULE_PCRE_MULTILINE) ? HS_FLAG_MULTILINE : 0);
		return true;
	}
	return false;
}

static int cmp_dpat(const void *a, const void *b)
{
	const struct dpat *x = a, *y = b;
	int d = strcmp(x->expr, y->expr);

	if (!d)
		d = (int)x->flags - (int)y->flags;
	if (!d)
		d = x->rule < y->rule ? -1 : x->rule > y->rule;
	return d;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The cache file of a database: SHA-256 over the patterns and the
 * Hyperscan version, so a changed library never loads a stale image. */
static void cache_path(const struct detect_engine *de, const struct dpat *u, uint32_t n, char *buf,
		       size_t len)
{
	struct sha256_ctx h;
	uint8_t dg[SHA256_DIGEST_SIZE];
	const char *v = hs_version();

	sha256_init(&h);
	sha256_update(&h, strlen(v), (const uint8_t *)v);
	for (uint32_t i = 0; i < n; i++) {
		sha256_update(&h, strlen(u[i].expr) + 1, (const uint8_t *)u[i].expr);
		sha256_update(&h, sizeof(u[i].flags), (const uint8_t *)&u[i].flags);
	}
	sha256_digest(&h, sizeof(dg), dg);
	int k = snprintf(buf, len, "%s/", de->cfg.cache_dir);
	for (int i = 0; i < 16 && k > 0 && (size_t)k + 2 < len; i++)
		k += snprintf(buf + k, len - (size_t)k, "%02x", dg[i]);
	snprintf(buf + k, len - (size_t)k, ".hsdb");
}

static hs_database_t *cache_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	hs_database_t *db = NULL;
	char *img = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (img = malloc((size_t)n)) && fread(img, 1, (size_t)n, f) == (size_t)n) {
		if (hs_deserialize_database(img, (size_t)n, &db) != HS_SUCCESS)
			db = NULL;
	}
	free(img);
	fclose(f);
	return db;
}

static void cache_store(const char *path, const hs_database_t *db)
{
	char *img = NULL, tmp[4200];
	size_t n;
	FILE *f;

	if (hs_serialize_database(db, &img, &n) != HS_SUCCESS)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (f) {
		bool ok = fwrite(img, 1, n, f) == n;
		ok = fclose(f) == 0 && ok;
		if (!ok || rename(tmp, path) != 0)
			remove(tmp);
	}
	free(img);
}

/* Compile group g: patterns of its members; a pcre Hyperscan cannot take as
 * a prefilter leaves its rule in the non-MPM list. */
static int group_compile(struct detect_engine *de, struct dgroup *g, char *err, size_t errlen)
{
	struct dpat *pv = calloc(g->nmembers ? g->nmembers : 1, sizeof(*pv));
	uint32_t *non = calloc(g->nmembers ? g->nmembers : 1, sizeof(*non));
	uint32_t np = 0, nn = 0;
	int rc = 0;

	if (!pv || !non) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < g->nmembers; i++) {
		uint32_t ri = g->members[i];
		if (rule_pattern(&de->rules[ri], true, &pv[np])) {
			pv[np++].rule = ri;
		} else {
			non[nn++] = ri;
		}
	}
	for (;;) {
		qsort(pv, np, sizeof(*pv), cmp_dpat);
		/* unique expressions; pattern i covers pv[off[i]..off[i+1]) */
		uint32_t nu = 0;
		const char **ex = malloc((np ? np : 1) * sizeof(*ex));
		unsigned *fl = malloc((np ? np : 1) * sizeof(*fl));
		unsigned *ids = malloc((np ? np : 1) * sizeof(*ids));
		struct dpat *uniq = malloc((np ? np : 1) * sizeof(*uniq));
		free(g->pat_off);
		g->pat_off = malloc((np + 1) * sizeof(*g->pat_off));
		if (!ex || !fl || !ids || !uniq || !g->pat_off) {
			free(ex); free(fl); free(ids); free(uniq);
			rc = -ENOMEM;
			goto out;
		}
		for (uint32_t i = 0; i < np; i++) {
			if (nu && !strcmp(pv[i].expr, ex[nu - 1]) && pv[i].flags == fl[nu - 1])
				continue;
			g->pat_off[nu] = i;
			ex[nu] = pv[i].expr;
			fl[nu] = pv[i].flags;
			ids[nu] = nu;
			uniq[nu] = pv[i];
			nu++;
		}
		g->pat_off[nu] = np;
		g->npat = nu;
		if (!nu) {
			free(ex); free(fl); free(ids); free(uniq);
			break;
		}
		char path[4096] = "";
		if (de->cfg.cache_dir) {
			cache_path(de, uniq, nu, path, sizeof(path));
			g->db = cache_load(path);
			if (g->db) {
				de->st.cache_hits++;
				free(ex); free(fl); free(ids); free(uniq);
				break;
			}
		}
		hs_compile_error_t *ce = NULL;
		hs_error_t he = hs_compile_multi(ex, fl, ids, nu, HS_MODE_BLOCK, NULL, &g->db, &ce);
		if (he == HS_SUCCESS) {
			if (path[0])
				cache_store(path, g->db);
			free(ex); free(fl); free(ids); free(uniq);
			break;
		}
		int bad = ce ? ce->expression : -1;
		if (bad < 0 || !(fl[bad] & HS_FLAG_PREFILTER)) {
			snprintf(err, errlen, "hyperscan: %s%s%s", ce ? ce->message : "compile failed",
				 bad >= 0 ? " in pattern " : "", bad >= 0 ? ex[bad] : "");
			hs_free_compile_error(ce);
			free(ex); free(fl); free(ids); free(uniq);
			rc = -EINVAL;
			goto out;
		}
		hs_free_compile_error(ce);
		/* drop that pcre prefilter: its rules go to the non-MPM list */
		char *bad_expr = strdup(ex[bad]);
		unsigned bad_fl = fl[bad];
		free(ex); free(fl); free(ids); free(uniq);
		if (!bad_expr) {
			rc = -ENOMEM;
			goto out;
		}
		uint32_t w = 0;
		for (uint32_t i = 0; i < np; i++) {
			if (!strcmp(pv[i].expr, bad_expr) && pv[i].flags == bad_fl) {
				non[nn++] = pv[i].rule;
				free(pv[i].expr);
				continue;
			}
			pv[w++] = pv[i];
		}
		for (uint32_t i = w; i < np; i++)
			pv[i].expr = NULL;
		np = w;
		free(bad_expr);
	}
	g->pat_rules = malloc((np ? np : 1) * sizeof(*g->pat_rules));
	if (!g->pat_rules) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < np; i++)
		g->pat_rules[i] = pv[i].rule;
	qsort(non, nn, sizeof(*non), cmp_u32);
	g->non = non;
	g->nnon = nn;
	non = NULL;
	de->st.patterns += g->npat;
	if (g->db) {
		size_t sz = 0;
		hs_database_size(g->db, &sz);
		de->st.db_bytes += sz;
		de->st.databases++;
		if (hs_alloc_scratch(g->db, &de->proto_scratch) != HS_SUCCESS) {
			snprintf(err, errlen, "hyperscan: cannot allocate scratch");
			rc = -ENOMEM;
		}
	}
out:
	if (pv)
		for (uint32_t i = 0; i < g->nmembers; i++)
			free(pv[i].expr);
	free(pv);
	free(non);
	return rc;
}

/* ------------------------------------------------------------- groups */

static int group_intern(struct detect_engine *de, uint32_t *members, uint32_t n, uint16_t *out)
{
	uint64_t key = hash_u32s(members, n);

	for (uint32_t i = 0; i < de->ngroups; i++) {
		struct dgroup *g = &de->groups[i];
		if (g->key == key && g->nmembers == n && !memcmp(g->members, members, n * sizeof(*members))) {
			free(members);
			*out = (uint16_t)i;
			return 0;
		}
	}
	if (de->ngroups >= DGROUP_NONE) {
		free(members);
		return -E2BIG;
	}
	struct dgroup *ng = realloc(de->groups, (de->ngroups + 1) * sizeof(*ng));
	if (!ng) {
		free(members);
		return -ENOMEM;
	}
	de->groups = ng;
	memset(&ng[de->ngroups], 0, sizeof(*ng));
	ng[de->ngroups].members = members;
	ng[de->ngroups].nmembers = n;
	ng[de->ngroups].key = key;
	*out = (uint16_t)de->ngroups++;
	return 0;
}

static const struct rule_portset *group_port(const struct rule *r, int dir)
{
	if (r->dir == RULE_DIR_BOTH)
		return NULL;   /* either side: any */
	return dir == DDIR_TS ? r->dport : r->sport;
}

static uint32_t portset_size(const struct rule_portset *s)
{
	uint32_t n = 0;

	if (!s || s->any)
		return 65536;
	for (uint32_t i = 0; i < s->n; i++)
		n += (uint32_t)s->r[i].hi - s->r[i].lo + 1;
	return n;
}

/* Does s hold a port outside the chosen ones (sorted)? */
static bool portset_beyond(const struct rule_portset *s, const uint16_t *chosen, uint32_t nc)
{
	if (!s || s->any)
		return true;
	for (uint32_t i = 0; i < s->n; i++) {
		uint32_t inside = 0;
		for (uint32_t c = 0; c < nc; c++)
			inside += chosen[c] >= s->r[i].lo && chosen[c] <= s->r[i].hi;
		if (inside < (uint32_t)s->r[i].hi - s->r[i].lo + 1)
			return true;
	}
	return false;
}

bool detect_rule_eligible(const struct drule *d, int pc, int dir, int insp)
{
	if (!(d->pcls & (1u << pc)) || !(d->dirs & (1u << dir)))
		return false;
	return pc != DPC_TCP || d->insp == insp;
}

static bool eligible(const struct drule *d, int pc, int dir, int insp)
{
	/* rules an address index finds are in no group */
	return !d->iponly && !d->keyed && detect_rule_eligible(d, pc, dir, insp);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* TCP or UDP, one direction and kind: a group per chosen port, one for
 * every other port. */
static int build_port_groups(struct detect_engine *de, int pc, int dir, int insp, uint32_t *votes)
{
	uint16_t *map = malloc(65536 * sizeof(*map));
	uint16_t chosen[256], gid[256], rest;
	uint32_t nc = 0, want = de->cfg.port_groups > 256 ? 256 : de->cfg.port_groups;
	int rc;

	if (!map)
		return -ENOMEM;
	de->portmap[pc == DPC_TCP ? 0 : 1][dir][insp] = map;
	memset(votes, 0, 65536 * sizeof(*votes));
	for (uint32_t i = 0; i < de->nrules; i++) {
		if (!eligible(&de->rules[i], pc, dir, insp))
			continue;
		const struct rule_portset *s = group_port(de->rules[i].r, dir);
		if (portset_size(s) > 64)
			continue;
		for (uint32_t k = 0; k < s->n; k++)
			for (uint32_t p = s->r[k].lo; p <= s->r[k].hi; p++)
				votes[p]++;
	}
	while (nc < want) {
		uint32_t best = 0, bp = 0;
		for (uint32_t p = 0; p < 65536; p++)
			if (votes[p] > best)
				best = votes[p], bp = p;
		if (!best)
			break;
		votes[bp] = 0;
		chosen[nc++] = (uint16_t)bp;
	}
	qsort(chosen, nc, sizeof(chosen[0]), cmp_u16);
	for (uint32_t c = 0; c <= nc; c++) {
		uint32_t *m = malloc((de->nrules ? de->nrules : 1) * sizeof(*m)), n = 0;
		if (!m)
			return -ENOMEM;
		for (uint32_t i = 0; i < de->nrules; i++) {
			if (!eligible(&de->rules[i], pc, dir, insp))
				continue;
			const struct rule_portset *s = group_port(de->rules[i].r, dir);
			bool in = c < nc ? (!s || rule_port_match(s, chosen[c])) : portset_beyond(s, chosen, nc);
			if (in)
				m[n++] = i;
		}
		rc = group_intern(de, m, n, c < nc ? &gid[c] : &rest);
		if (rc)
			return rc;
	}
	for (uint32_t p = 0; p < 65536; p++)
		map[p] = rest;
	for (uint32_t c = 0; c < nc; c++)
		map[chosen[c]] = gid[c];
	return 0;
}

static int build_groups(struct detect_engine *de, char *err, size_t errlen)
{
	uint32_t *votes = malloc(65536 * sizeof(*votes));
	int rc = 0;

	if (!votes)
		return -ENOMEM;
	for (int pc = 0; pc < DPC__N && !rc; pc++) {
		for (int dir = 0; dir < DDIR__N && !rc; dir++) {
			for (int insp = 0; insp < DINSP__N && !rc; insp++) {
				de->single[pc][dir][insp] = DGROUP_NONE;
				if (insp == DINSP_STREAM && pc != DPC_TCP)
					continue;
				if (pc == DPC_TCP || pc == DPC_UDP) {
					rc = build_port_groups(de, pc, dir, insp, votes);
					continue;
				}
				uint32_t *m = malloc((de->nrules ? de->nrules : 1) * sizeof(*m)), n = 0;
				if (!m) {
					rc = -ENOMEM;
					break;
				}
				for (uint32_t i = 0; i < de->nrules; i++)
					if (eligible(&de->rules[i], pc, dir, insp))
						m[n++] = i;
				rc = group_intern(de, m, n, &de->single[pc][dir][insp]);
			}
		}
	}
	free(votes);
	for (uint32_t i = 0; i < de->ngroups && !rc; i++)
		rc = group_compile(de, &de->groups[i], err, errlen);
	for (uint32_t i = 0; i < de->ngroups; i++) {
		free(de->groups[i].members);
		de->groups[i].members = NULL;
	}
	de->st.groups = de->ngroups;
	if (rc && !err[0])
		snprintf(err, errlen, "building rule groups: %s", strerror(-rc));
	return rc;
}

/* ------------------------------------------------------------- engine */

static void version_make(struct detect_engine *de)
{
	struct sha256_ctx h;
	uint8_t dg[SHA256_DIGEST_SIZE];

	sha256_init(&h);
	for (size_t i = 0; i < ruleset_count(de->rs); i++) {
		const char *t = ruleset_get(de->rs, i)->text;
		sha256_update(&h, strlen(t) + 1, (const uint8_t *)t);
	}
	sha256_digest(&h, sizeof(dg), dg);
	for (int i = 0; i < 8; i++)
		snprintf(de->version + 2 * i, 3, "%02x", dg[i]);
}

int detect_engine_create(struct detect_engine **out, struct ruleset *rs,
			 const struct detect_cfg *cfg, char *err, size_t errlen)
{
	struct detect_engine *de = calloc(1, sizeof(*de));
	struct order_key *ok = NULL;
	const struct rule **rv = NULL;
	uint32_t fbpos = 0, idpos = 0;
	double t0 = mono_ms();
	int rc;

	*out = NULL;
	err[0] = 0;
	if (!de) {
		ruleset_destroy(rs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	de->rs = rs;
	de->cfg = *cfg;
	de->nrules = (uint32_t)ruleset_count(rs);
	ok = calloc(de->nrules + 1, sizeof(*ok));
	rv = calloc(de->nrules + 1, sizeof(*rv));
	de->rules = calloc(de->nrules + 1, sizeof(*de->rules));
	if (!ok || !rv || !de->rules) {
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < de->nrules; i++) {
		ok[i].r = ruleset_get(rs, i);
		ok[i].load = i;
	}
	qsort(ok, de->nrules, sizeof(*ok), cmp_order);
	for (uint32_t i = 0; i < de->nrules; i++)
		rv[i] = ok[i].r;
	rc = fb_names_build(de, rv, de->nrules);
	if (rc)
		goto fail;
	for (uint32_t i = 0; i < de->nrules; i++) {
		rc = rule_prepare(de, &de->rules[i], rv[i], &fbpos, &idpos, err, errlen);
		if (rc)
			goto fail;
		de->st.mpm_rules += rv[i]->fast_pattern >= 0;
	}
	rc = detect_iponly_build(de);
	if (rc)
		goto fail;
	rc = build_groups(de, err, errlen);
	if (rc)
		goto fail;
	version_make(de);
	de->st.rules = de->nrules;
	de->st.flowbits = de->nfbnames;
	de->st.compile_ms = mono_ms() - t0;
	if (de->proto_scratch) {
		size_t sz = 0;
		hs_scratch_size(de->proto_scratch, &sz);
		de->st.scratch_bytes = sz;
	}
	free(ok);
	free(rv);
	*out = de;
	return 0;
fail:
	if (!err[0])
		snprintf(err, errlen, "building the detection engine: %s", strerror(-rc));
	free(ok);
	free(rv);
	detect_engine_destroy(de);
	return rc;
}

void detect_engine_destroy(struct detect_engine *de)
{
	if (!de)
		return;
	for (uint32_t i = 0; i < de->nrules && de->rules; i++) {
		if (de->rules[i].re)
			for (uint32_t k = 0; k < de->rules[i].r->n_pm; k++)
				pcre2_code_free(de->rules[i].re[k]);
		free(de->rules[i].re);
		free(de->rules[i].relnext);
	}
	for (uint32_t i = 0; i < de->ngroups; i++) {
		hs_free_database(de->groups[i].db);
		free(de->groups[i].pat_off);
		free(de->groups[i].pat_rules);
		free(de->groups[i].non);
		free(de->groups[i].members);
	}
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < DDIR__N; b++)
			for (int c = 0; c < DINSP__N; c++)
				free(de->portmap[a][b][c]);
	hs_free_scratch(de->proto_scratch);
	detect_iponly_free(de);
	free(de->groups);
	free(de->rules);
	free(de->fbnames);
	free(de->fbs);
	free(de->fb_ids);
	ruleset_destroy(de->rs);
	free(de);
}

const struct ruleset *detect_engine_ruleset(const struct detect_engine *de)
{
	return de->rs;
}

const char *detect_engine_version(const struct detect_engine *de)
{
	return de->version;
}

void detect_engine_get_stats(const struct detect_engine *de, struct detect_engine_stats *st)
{
	*st = de->st;
}

const struct rule *detect_engine_rule(const struct detect_engine *de, uint32_t i)
{
	return i < de->nrules ? de->rules[i].r : NULL;
}
