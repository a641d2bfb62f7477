/* SPDX-License-Identifier: BSD-3-Clause */
#include "flow.h"

#include "hash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define NCLS (FLOW_PG__N * FLOW_ST__N)

/* Remembers, for a fragmented datagram, the ports its first fragment
 * carried, so later fragments are accounted to the same flow. */
struct frag_trk {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t proto, ipver;
	uint16_t sport, dport;
	uint64_t expire_ns;
};

struct lru_list {
	uint32_t head, tail;
	uint64_t timeout_ns;
};

struct flow_table {
	struct flow *flows;
	uint32_t *buckets;
	uint32_t mask;
	uint32_t cap;
	uint32_t live;
	uint32_t free_head;
	uint32_t seed;
	uint64_t active_ns;
	struct lru_list lru[NCLS];
	struct frag_trk *frags;
	uint32_t frag_mask;
	uint64_t frag_timeout_ns;
	struct ctr_block *ctr;
	flow_emit_fn emit;
	void *emit_arg;
	flow_keep_fn keep;
	void *keep_arg;
};


static uint64_t key_hash64(const struct flow_key *k, uint64_t seed)
{
	uint64_t w[5], h = seed ^ 0x9e3779b97f4a7c15ULL;
	uint32_t t;

	memcpy(w, k, sizeof(w));
	memcpy(&t, (const uint8_t *)k + 40, 4);
	for (int i = 0; i < 5; i++)
		h = mix64(h ^ w[i]);
	return mix64(h ^ t);
}

static void lru_unlink(struct flow_table *ft, struct flow *f)
{
	struct lru_list *l = &ft->lru[f->cls];
	uint32_t idx = (uint32_t)(f - ft->flows);

	if (f->lru_prev != FLOW_NIL)
		ft->flows[f->lru_prev].lru_next = f->lru_next;
	else if (l->head == idx)
		l->head = f->lru_next;
	if (f->lru_next != FLOW_NIL)
		ft->flows[f->lru_next].lru_prev = f->lru_prev;
	else if (l->tail == idx)
		l->tail = f->lru_prev;
	f->lru_prev = f->lru_next = FLOW_NIL;
}

static void lru_append(struct flow_table *ft, struct flow *f, uint8_t cls)
{
	struct lru_list *l = &ft->lru[cls];
	uint32_t idx = (uint32_t)(f - ft->flows);

	f->cls = cls;
	f->lru_next = FLOW_NIL;
	f->lru_prev = l->tail;
	if (l->tail != FLOW_NIL)
		ft->flows[l->tail].lru_next = idx;
	else
		l->head = idx;
	l->tail = idx;
}

static inline enum flow_pg proto_group(uint8_t proto)
{
	switch (proto) {
	case 6:
		return FLOW_PG_TCP;
	case 17:
		return FLOW_PG_UDP;
	case 1:
	case 58:
		return FLOW_PG_ICMP;
	default:
		return FLOW_PG_OTHER;
	}
}

static inline uint8_t class_of(const struct flow *f)
{
	return (uint8_t)(proto_group(f->key.proto) * FLOW_ST__N + f->state);
}

int flow_table_create(struct flow_table **out, const struct flow_table_cfg *cfg,
		      struct ctr_block *ctr, flow_emit_fn emit, void *emit_arg)
{
	struct flow_table *ft;
	uint32_t nb = 1, nf = 1;

	if (cfg->max_flows == 0 || cfg->max_flows > (1u << 30) || !emit)
		return -EINVAL;
	while (nb < cfg->max_flows)
		nb <<= 1;
	while (nf < cfg->frag_trackers)
		nf <<= 1;

	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return -ENOMEM;
	ft->flows = calloc(cfg->max_flows, sizeof(*ft->flows));
	ft->buckets = malloc((size_t)nb * sizeof(*ft->buckets));
	ft->frags = calloc(nf, sizeof(*ft->frags));
	if (!ft->flows || !ft->buckets || !ft->frags) {
		flow_table_destroy(ft);
		return -ENOMEM;
	}
	memset(ft->buckets, 0xff, (size_t)nb * sizeof(*ft->buckets));
	ft->mask = nb - 1;
	ft->cap = cfg->max_flows;
	ft->seed = cfg->seed;
	ft->active_ns = cfg->active_ns;
	ft->frag_mask = nf - 1;
	ft->frag_timeout_ns = cfg->frag_timeout_ns;
	ft->ctr = ctr;
	ft->emit = emit;
	ft->emit_arg = emit_arg;
	for (uint32_t i = 0; i < ft->cap; i++) {
		ft->flows[i].hnext = i + 1 < ft->cap ? i + 1 : FLOW_NIL;
		ft->flows[i].cls = 0xff;
	}
	ft->free_head = 0;
	for (int pg = 0; pg < FLOW_PG__N; pg++)
		for (int st = 0; st < FLOW_ST__N; st++) {
			struct lru_list *l = &ft->lru[pg * FLOW_ST__N + st];
			l->head = l->tail = FLOW_NIL;
			l->timeout_ns = cfg->timeout_ns[pg][st];
		}
	*out = ft;
	return 0;
}

void flow_table_destroy(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->flows);
	free(ft->buckets);
	free(ft->frags);
	free(ft);
}

static void bucket_remove(struct flow_table *ft, struct flow *f)
{
	uint32_t *pp = &ft->buckets[f->hash & ft->mask];
	uint32_t idx = (uint32_t)(f - ft->flows);

	while (*pp != FLOW_NIL) {
		if (*pp == idx) {
			*pp = f->hnext;
			return;
		}
		pp = &ft->flows[*pp].hnext;
	}
}

/* Emit the flow's record and return it to the free list. */
static void flow_end(struct flow_table *ft, struct flow *f, enum flow_end_reason r)
{
	static const enum ctr_id rc[] = {
		[FLOW_END_TIMEOUT] = CTR_FLOW_TIMEOUT,
		[FLOW_END_FORCED] = CTR_FLOW_EVICTED,
		[FLOW_END_SHUTDOWN] = CTR_FLOW_SHUTDOWN,
		[FLOW_END_ACTIVE] = CTR_FLOW_ACTIVE,
	};

	if (f->pkts[0] + (uint64_t)f->pkts[1] > 0)
		ft->emit(ft->emit_arg, f, r);
	ctr_inc(ft->ctr, rc[r]);
	bucket_remove(ft, f);
	lru_unlink(ft, f);
	f->cls = 0xff;
	f->hnext = ft->free_head;
	ft->free_head = (uint32_t)(f - ft->flows);
	ft->live--;
}

static inline uint64_t idle_timeout(const struct flow_table *ft, const struct flow *f)
{
	return ft->lru[f->cls].timeout_ns;
}

/* Least recently used live flow over all classes, or NULL. */
static struct flow *oldest(struct flow_table *ft)
{
	struct flow *best = NULL;

	for (int c = 0; c < NCLS; c++) {
		if (ft->lru[c].head == FLOW_NIL)
			continue;
		struct flow *f = &ft->flows[ft->lru[c].head];
		if (!best || f->last_ns < best->last_ns)
			best = f;
	}
	return best;
}

static struct flow *flow_alloc(struct flow_table *ft)
{
	if (ft->free_head == FLOW_NIL) {
		struct flow *victim = oldest(ft);
		if (!victim)
			return NULL;
		flow_end(ft, victim, FLOW_END_FORCED);
	}
	uint32_t idx = ft->free_head;
	struct flow *f = &ft->flows[idx];
	ft->free_head = f->hnext;
	ft->live++;
	return f;
}

static struct frag_trk *frag_slot(struct flow_table *ft, const struct pkt *p)
{
	uint64_t h = mix64(((uint64_t)p->frag_id << 8 | p->proto) ^ ft->seed);
	uint64_t a, b;

	memcpy(&a, p->src + (p->ipver == 4 ? 0 : 8), 8);
	memcpy(&b, p->dst + (p->ipver == 4 ? 0 : 8), 8);
	h = mix64(h ^ a) + mix64(h ^ b);
	return &ft->frags[h & ft->frag_mask];
}

static bool frag_match(const struct frag_trk *t, const struct pkt *p)
{
	return t->expire_ns && t->id == p->frag_id && t->proto == p->proto && t->ipver == p->ipver &&
	       !memcmp(t->src, p->src, 16) && !memcmp(t->dst, p->dst, 16);
}

/* Ports for this packet: from its own header, or for a later fragment from
 * the first fragment of its datagram.  False if unknown (orphan fragment). */
static bool packet_ports(struct flow_table *ft, const struct pkt *p, uint16_t *sp, uint16_t *dp)
{
	if (!(p->flags & PKT_F_FRAG)) {
		*sp = p->sport;
		*dp = p->dport;
		return true;
	}
	struct frag_trk *t = frag_slot(ft, p);
	if (p->flags & PKT_F_FRAG_FIRST) {
		if (t->expire_ns && t->expire_ns > p->ts_ns && !frag_match(t, p))
			ctr_inc(ft->ctr, CTR_FLOW_FRAG_EVICT);
		memcpy(t->src, p->src, 16);
		memcpy(t->dst, p->dst, 16);
		t->id = p->frag_id;
		t->proto = p->proto;
		t->ipver = p->ipver;
		t->sport = p->sport;
		t->dport = p->dport;
		t->expire_ns = p->ts_ns + ft->frag_timeout_ns;
		*sp = p->sport;
		*dp = p->dport;
		return true;
	}
	if (frag_match(t, p) && t->expire_ns > p->ts_ns) {
		*sp = t->sport;
		*dp = t->dport;
		return true;
	}
	ctr_inc(ft->ctr, CTR_FLOW_FRAG_ORPHAN);
	return false;
}

static void tcp_track(struct flow *f, int ts, uint8_t fl)
{
	uint8_t *s = &f->tcp_state;

	if (fl & TCP_RST) {
		*s = FLOW_TCP_CLOSED;
		return;
	}
	switch (*s) {
	case FLOW_TCP_NONE:
		if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN)
			*s = FLOW_TCP_SYN_SENT;
		else if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
			*s = FLOW_TCP_SYN_RECV;
		else if (fl & TCP_ACK) {
			*s = FLOW_TCP_ESTABLISHED;   /* picked up mid-stream */
			f->fl |= FLOW_F_MIDSTREAM;
		}
		break;
	case FLOW_TCP_SYN_SENT:
		if (!ts && (fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
			*s = FLOW_TCP_SYN_RECV;
		break;
	case FLOW_TCP_SYN_RECV:
		if (ts && (fl & (TCP_SYN | TCP_ACK)) == TCP_ACK)
			*s = FLOW_TCP_ESTABLISHED;
		break;
	default:
		break;
	}
	if (fl & TCP_FIN)
		f->fl |= ts ? FLOW_F_FIN_TS : FLOW_F_FIN_TC;
	if (*s >= FLOW_TCP_ESTABLISHED && *s < FLOW_TCP_CLOSED) {
		bool fin_ts = f->fl & FLOW_F_FIN_TS, fin_tc = f->fl & FLOW_F_FIN_TC;
		if (fin_ts && fin_tc) {
			/* the ACK after both FINs closes the connection */
			if (*s == FLOW_TCP_CLOSING && (fl & TCP_ACK) && !(fl & TCP_FIN))
				*s = FLOW_TCP_CLOSED;
			else
				*s = FLOW_TCP_CLOSING;
		} else if (fin_ts || fin_tc) {
			*s = FLOW_TCP_FIN_WAIT;
		}
	}
}

static uint8_t flow_state_of(const struct flow *f)
{
	if (f->key.proto == 6) {
		if (f->tcp_state == FLOW_TCP_CLOSED)
			return FLOW_ST_CLOSED;
		return f->tcp_state >= FLOW_TCP_ESTABLISHED ? FLOW_ST_ESTABLISHED : FLOW_ST_NEW;
	}
	return (f->fl & (FLOW_F_SEEN_TS | FLOW_F_SEEN_TC)) == (FLOW_F_SEEN_TS | FLOW_F_SEEN_TC)
		       ? FLOW_ST_ESTABLISHED
		       : FLOW_ST_NEW;
}

static void reset_record(struct flow *f, uint64_t ts)
{
	f->pkts[0] = f->pkts[1] = 0;
	f->bytes[0] = f->bytes[1] = 0;
	f->first_ns = f->last_ns = ts;
}

/*
 * Bucket hash: three independent 64x64->128 multiplies (wyhash's "mum"),
 * short dependency chains, seeded per table against hash flooding.  Only for
 * the buckets; flow_id() keeps the slower, stable key_hash64().
 */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__extension__ unsigned __int128 r = (unsigned __int128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint32_t bucket_hash(const struct flow_key *k, uint64_t seed)
{
	uint64_t w[5];
	uint32_t t;

	memcpy(w, k, sizeof(w));
	memcpy(&t, (const uint8_t *)k + 40, 4);
	uint64_t h = mum(w[0] ^ seed ^ 0xa0761d6478bd642fULL, w[1] ^ 0xe7037ed1a0b428dbULL) ^
		     mum(w[2] ^ 0x8ebc6af09c88c6e3ULL, w[3] ^ seed) ^
		     mum(w[4] ^ 0x589965cc75374cc3ULL, ((uint64_t)t << 32 | t) ^ 0x1d8e4e27c47d124fULL);
	return (uint32_t)(h ^ (h >> 32));
}

/* The normalised key of a non-fragment-resolved packet with ports sp/dp:
 * endpoint 0 is the lower (address, port).  Returns whether the packet's
 * source is endpoint 0. */
static inline int key_make(const struct pkt *p, uint16_t sp, uint16_t dp, struct flow_key *k)
{
	int c = memcmp(p->src, p->dst, 16);
	int src_lo = c < 0 || (c == 0 && sp <= dp);

	memcpy(k->addr[0], src_lo ? p->src : p->dst, 16);
	memcpy(k->addr[1], src_lo ? p->dst : p->src, 16);
	k->port[0] = src_lo ? sp : dp;
	k->port[1] = src_lo ? dp : sp;
	k->proto = p->proto;
	k->ipver = p->ipver;
	k->vlan = p->vlan_n ? p->vlan[0] : 0;
	k->tunnel_id = p->tunnel_id;
	return src_lo;
}

/* Lookup-or-create and account, for a packet whose key is known. */
static struct flow *update_keyed(struct flow_table *ft, const struct pkt *p, const struct flow_key *k,
				 int src_lo, uint32_t h, int *toserver)
{
	uint32_t idx = ft->buckets[h & ft->mask];
	struct flow *f = NULL;

	while (idx != FLOW_NIL) {
		struct flow *x = &ft->flows[idx];
		if (x->hash == h && !memcmp(&x->key, k, sizeof(*k))) {
			f = x;
			break;
		}
		idx = x->hnext;
	}

	if (f && p->ts_ns >= f->last_ns + idle_timeout(ft, f)) {
		flow_end(ft, f, FLOW_END_TIMEOUT);   /* idle too long: a new flow */
		f = NULL;
	}
	if (!f) {
		f = flow_alloc(ft);
		if (!f) {
			ctr_inc(ft->ctr, CTR_FLOW_NOFLOW);
			return NULL;
		}
		memset(f, 0, sizeof(*f));
		f->key = *k;
		f->hash = h;
		f->fl = src_lo ? FLOW_F_CLIENT_LO : 0;
		f->created_ns = p->ts_ns;
		f->icmp_type = p->icmp_type;
		f->icmp_code = p->icmp_code;
		reset_record(f, p->ts_ns);
		f->hnext = ft->buckets[h & ft->mask];
		ft->buckets[h & ft->mask] = (uint32_t)(f - ft->flows);
		lru_append(ft, f, class_of(f));
		ctr_inc(ft->ctr, CTR_FLOW_CREATED);
		static const enum ctr_id pc[] = { CTR_FLOW_TCP, CTR_FLOW_UDP, CTR_FLOW_ICMP, CTR_FLOW_OTHER };
		ctr_inc(ft->ctr, pc[proto_group(k->proto)]);
	} else if ((ft->active_ns && p->ts_ns >= f->first_ns + ft->active_ns) ||
		   f->pkts[0] == UINT32_MAX || f->pkts[1] == UINT32_MAX) {
		ft->emit(ft->emit_arg, f, FLOW_END_ACTIVE);
		ctr_inc(ft->ctr, CTR_FLOW_ACTIVE);
		reset_record(f, p->ts_ns);
		f->tcp_flags[0] = f->tcp_flags[1] = 0;
	}

	int d = (src_lo == !!(f->fl & FLOW_F_CLIENT_LO)) ? 0 : 1;
	f->fl |= d == 0 ? FLOW_F_SEEN_TS : FLOW_F_SEEN_TC;
	f->pkts[d]++;
	f->bytes[d] += p->len;
	if (p->ts_ns > f->last_ns)
		f->last_ns = p->ts_ns;
	if (p->proto == 6 && (p->flags & PKT_F_L4)) {
		f->tcp_flags[d] |= p->tcp_flags;
		tcp_track(f, d == 0, p->tcp_flags);
	}
	f->state = flow_state_of(f);
	uint8_t cls = class_of(f);
	if (cls != f->cls || ft->lru[cls].tail != (uint32_t)(f - ft->flows)) {
		lru_unlink(ft, f);
		lru_append(ft, f, cls);
	}
	*toserver = d == 0;
	return f;
}

struct flow *flow_table_update(struct flow_table *ft, const struct pkt *p, int *toserver)
{
	struct flow_key k;
	uint16_t sp, dp;

	if (!packet_ports(ft, p, &sp, &dp))
		return NULL;
	int src_lo = key_make(p, sp, dp, &k);
	return update_keyed(ft, p, &k, src_lo, bucket_hash(&k, ft->seed), toserver);
}

static void update_burst(struct flow_table *ft, const struct pkt *pk, unsigned n, struct flow **out,
			 int *toserver, flow_pkt_fn cb, void *arg)
{
	struct flow_key k[FLOW_BURST_MAX];
	uint32_t h[FLOW_BURST_MAX];
	int8_t lo[FLOW_BURST_MAX];

	if (n > FLOW_BURST_MAX) {
		for (unsigned i = 0; i < n; i++) {
			int ts;
			struct flow *f = flow_table_update(ft, &pk[i], &ts);
			if (cb)
				cb(arg, i, f, ts);
			else
				out[i] = f, toserver[i] = ts;
		}
		return;
	}
	/* 1: keys and hashes; start loading the buckets */
	for (unsigned i = 0; i < n; i++) {
		if (pk[i].flags & PKT_F_FRAG) {
			lo[i] = -1;   /* ports come from the tracker, in packet order */
			continue;
		}
		lo[i] = (int8_t)key_make(&pk[i], pk[i].sport, pk[i].dport, &k[i]);
		h[i] = bucket_hash(&k[i], ft->seed);
		__builtin_prefetch(&ft->buckets[h[i] & ft->mask]);
	}
	/* 2: start loading each bucket's first flow (both of its cache lines) */
	for (unsigned i = 0; i < n; i++) {
		if (lo[i] < 0)
			continue;
		uint32_t idx = ft->buckets[h[i] & ft->mask];
		if (idx != FLOW_NIL) {
			__builtin_prefetch(&ft->flows[idx]);
			__builtin_prefetch((const char *)&ft->flows[idx] + sizeof(struct flow) - 1);
		}
	}
	/* 3: account, strictly in packet order */
	for (unsigned i = 0; i < n; i++) {
		int ts;
		struct flow *f = lo[i] < 0 ? flow_table_update(ft, &pk[i], &ts)
					   : update_keyed(ft, &pk[i], &k[i], lo[i], h[i], &ts);
		if (cb)
			cb(arg, i, f, ts);
		else
			out[i] = f, toserver[i] = ts;
	}
}

void flow_table_update_burst(struct flow_table *ft, const struct pkt *pk, unsigned n,
			     struct flow **out, int *toserver)
{
	update_burst(ft, pk, n, out, toserver, NULL, NULL);
}

void flow_table_update_burst_cb(struct flow_table *ft, const struct pkt *pk, unsigned n,
				flow_pkt_fn cb, void *arg)
{
	update_burst(ft, pk, n, NULL, NULL, cb, arg);
}

struct flow *flow_table_find(struct flow_table *ft, const struct pkt *p, int *toserver)
{
	struct flow_key k;

	if (p->flags & PKT_F_FRAG)
		return NULL;
	int src_lo = key_make(p, p->sport, p->dport, &k);
	uint32_t h = bucket_hash(&k, ft->seed);
	for (uint32_t idx = ft->buckets[h & ft->mask]; idx != FLOW_NIL; idx = ft->flows[idx].hnext) {
		struct flow *x = &ft->flows[idx];
		if (x->hash == h && !memcmp(&x->key, &k, sizeof(k))) {
			*toserver = src_lo == !!(x->fl & FLOW_F_CLIENT_LO);
			return x;
		}
	}
	return NULL;
}

unsigned flow_table_expire(struct flow_table *ft, uint64_t now_ns, unsigned budget)
{
	unsigned n = 0;

	for (int c = 0; c < NCLS && n < budget; c++) {
		struct lru_list *l = &ft->lru[c];
		while (l->head != FLOW_NIL && n < budget) {
			struct flow *f = &ft->flows[l->head];
			if (now_ns < f->last_ns + l->timeout_ns)
				break;
			n++;
			if (ft->keep && ft->keep(ft->keep_arg, f, now_ns)) {
				/* still alive where we cannot see it (bypassed in the
				 * kernel): a fresh idle period */
				if (f->last_ns < now_ns)
					f->last_ns = now_ns;
				lru_unlink(ft, f);
				lru_append(ft, f, class_of(f));
				continue;
			}
			flow_end(ft, f, FLOW_END_TIMEOUT);
		}
	}
	return n;
}

void flow_table_set_keep(struct flow_table *ft, flow_keep_fn keep, void *arg)
{
	ft->keep = keep;
	ft->keep_arg = arg;
}

void flow_table_flush(struct flow_table *ft, uint64_t end_ns)
{
	for (int c = 0; c < NCLS; c++) {
		struct lru_list *l = &ft->lru[c];
		while (l->head != FLOW_NIL) {
			struct flow *f = &ft->flows[l->head];
			flow_end(ft, f, end_ns >= f->last_ns + l->timeout_ns ? FLOW_END_TIMEOUT
									     : FLOW_END_SHUTDOWN);
		}
	}
}

uint32_t flow_table_live(const struct flow_table *ft)
{
	return ft->live;
}

size_t flow_table_memory(const struct flow_table *ft)
{
	return (size_t)ft->cap * sizeof(struct flow) + ((size_t)ft->mask + 1) * sizeof(uint32_t) +
	       ((size_t)ft->frag_mask + 1) * sizeof(struct frag_trk) + sizeof(*ft);
}

uint64_t flow_id(const struct flow *f)
{
	return key_hash64(&f->key, f->created_ns) & 0x1fffffffffffffULL;   /* 53 bits: exact in JSON doubles */
}

const char *flow_state_name(enum flow_st st)
{
	static const char *const n[] = { "new", "established", "closed" };
	return (unsigned)st < FLOW_ST__N ? n[st] : "?";
}

const char *flow_tcp_state_name(enum flow_tcp_state st)
{
	static const char *const n[] = { "none", "syn_sent", "syn_recv", "established",
					 "fin_wait1", "closing", "closed" };
	return (unsigned)st <= FLOW_TCP_CLOSED ? n[st] : "?";
}

const char *flow_reason_name(enum flow_end_reason r)
{
	static const char *const n[] = { "timeout", "forced", "shutdown", "active" };
	return (unsigned)r <= FLOW_END_ACTIVE ? n[r] : "?";
}
