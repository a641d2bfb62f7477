/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ck_epoch.h>
#include <ck_pr.h>

#include "ring.h"
#include "vlog.h"

/* A packet handed from the dispatcher to a worker: its bytes live in the
 * worker's arena at [off, off+len); vend is the arena's virtual end after
 * it, which the worker publishes once done so the space can be reused. */
struct io_desc {
	uint64_t vend;
	uint64_t ts_ns;
	uint64_t cnt;               /* packet number in the input, 1-based */
	uint32_t off;
	uint32_t len;
};

RING_DEFINE(desc, io_desc)

#define EXPIRE_EVERY 16      /* bursts between idle-flow sweeps */
#define EXPIRE_BUDGET 128    /* flows ended per sweep at most */

struct pipeline;

/* A ruleset generation: the engine and every worker's matcher for it. */
struct engine_gen {
	const struct detect_engine *de;
	struct detect_engine *owned;   /* de when the pipeline frees it (reloaded ones) */
	struct detect_thread **dt;     /* [nw] */
	uint16_t nw;
	uint64_t id;                   /* compared by the workers: never reused, unlike addresses */
};

/* One worker: everything it touches per packet, owned by its thread. */
struct wrk {
	struct ctr_block ctr;
	struct pipeline *pl;
	struct flow_table *ft;
	struct inspect *ins;        /* NULL without rules */
	struct wrk_burst *cur;      /* the burst being accounted (inspection callback) */
	uint64_t pcnt;              /* packets read (direct mode): pcap_cnt */
	struct pkt_decode_opts dopts;
	struct desc_ring in;
	struct rec_ring out;
	uint8_t *arena;
	uint64_t arena_size;
	uint64_t now_ns;            /* latest packet time seen */
	uint64_t first_ns;
	uint16_t id;
	bool offline;
	pthread_t thr;
	bool started;
	ck_epoch_record_t er;       /* its ck_epoch record: a section per burst */
	uint64_t gen_id;            /* the generation in use */
	void *bp;                   /* its bypass context (cfg->bypass), or NULL */
	uint64_t burst_max_ns, switch_burst_max_ns;
	alignas(64) uint64_t arena_tail;   /* worker writes, dispatcher reads */
	alignas(64) int input_done;        /* dispatcher writes, worker reads */
	int done;
};

struct pipeline {
	const struct pipeline_cfg *cfg;
	struct io_source *src;
	struct wrk *w;
	uint16_t nw;
	bool direct;
	struct ctr_block *rd_ctr;          /* dispatcher's counters */
	struct ctr_block *out_ctr;         /* output thread's counters */
	struct eve_writer *eve;
	struct detect_thr *thr;            /* output thread's thresholds */
	struct rec_ring **rings;
	pthread_barrier_t end_barrier;
	uint64_t end_ns;                   /* last packet time of the whole input */
	uint64_t memuse;
	uint64_t prog_last_ns, prog_last_pkts, prog_start_ns;
	ck_epoch_t epoch;
	struct engine_gen *live;           /* published; workers read it inside a section */
	uint64_t next_gen;
	uint32_t reloads;
};

struct pipeline_ctl {
	pthread_mutex_t mu;                /* serializes reloads and attach/detach */
	pthread_cond_t cv;                 /* the run started or ended */
	int state;                         /* 0 not started yet, 1 running, 2 ended */
	struct pipeline *pl;               /* NULL when not running */
	ck_epoch_record_t er;              /* the reloader's record */
	bool registered;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Idle waiting that leaves the core to others on a small machine. */
static void backoff(unsigned *n)
{
	if (++*n < 32) {
		ck_pr_stall();
	} else if (*n < 256) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 50000 };
		nanosleep(&ts, NULL);
	}
}

static void wrk_push(struct wrk *w, const struct out_rec *r)
{
	unsigned spins = 0;

	if (rec_ring_enqueue_burst(&w->out, r, 1)) {
		ctr_inc(&w->ctr, CTR_OUT_RECORDS);
		return;
	}
	if (!w->offline) {
		ctr_inc(&w->ctr, CTR_OUT_RING_DROP);
		return;
	}
	ctr_inc(&w->ctr, CTR_OUT_RING_WAIT);
	while (!rec_ring_enqueue_burst(&w->out, r, 1))
		backoff(&spins);
	ctr_inc(&w->ctr, CTR_OUT_RECORDS);
}

/* Flow table callback: an ended flow record becomes an output record. */
/* Folds what XDP counted for bypassed flow F into it (and the counters);
 * REARM keeps it bypassed.  Returns the packets folded. */
static uint64_t wrk_fold(struct wrk *w, struct flow *f, bool rearm)
{
	uint64_t bytes = 0, pk = w->pl->cfg->bypass->fold(w->bp, f, rearm, &bytes);

	ctr_add(&w->ctr, CTR_BYPASS_PKTS, pk);
	ctr_add(&w->ctr, CTR_BYPASS_BYTES, bytes);
	return pk;
}

static void wrk_emit(void *arg, const struct flow *f, enum flow_end_reason r)
{
	struct wrk *w = arg;
	struct out_rec rec;
	struct out_flow *o = &rec.u.flow;
	int c = (f->fl & FLOW_F_CLIENT_LO) ? 0 : 1;

	/* what XDP counted for a bypassed flow belongs in its record (an active
	 * cut keeps bypassing); the table hands the flow over read-only but it
	 * is this worker's own */
	if (w->bp && w->ins && inspect_bypassed(w->ins, f))
		wrk_fold(w, (struct flow *)f, r == FLOW_END_ACTIVE);
	/* its inspection state is the worker's own, released here before the
	 * slot is reused */
	if (w->ins && r != FLOW_END_ACTIVE)
		inspect_flow_end(w->ins, (struct flow *)f);
	memset(&rec, 0, sizeof(rec));
	rec.version = OUT_REC_VERSION;
	rec.type = OUT_REC_FLOW;
	rec.worker = w->id;
	memcpy(o->src, f->key.addr[c], 16);
	memcpy(o->dst, f->key.addr[!c], 16);
	o->sport = f->key.port[c];
	o->dport = f->key.port[!c];
	o->proto = f->key.proto;
	o->ipver = f->key.ipver;
	o->vlan = f->key.vlan;
	o->tunnel_id = f->key.tunnel_id;
	o->state = f->state;
	o->tcp_state = f->tcp_state;
	o->tcp_flags_ts = f->tcp_flags[0];
	o->tcp_flags_tc = f->tcp_flags[1];
	o->reason = (uint8_t)r;
	o->icmp_type = f->icmp_type;
	o->icmp_code = f->icmp_code;
	o->pkts_ts = f->pkts[0];
	o->pkts_tc = f->pkts[1];
	o->bytes_ts = f->bytes[0];
	o->bytes_tc = f->bytes[1];
	o->first_ns = f->first_ns;
	o->last_ns = f->last_ns;
	o->flow_id = flow_id(f);
	wrk_push(w, &rec);
}

/*
 * The per-packet path, a burst at a time: decode every packet, then account
 * the IP ones to their flows (the flow table overlaps the lookups' cache
 * misses across the burst).
 */
struct wrk_burst {
	struct pkt pk[IO_BURST];
	uint64_t cnt[IO_BURST];
	unsigned n;
};

/* Copy n bytes of the concatenation of up to three pieces, from offset at,
 * into dst. */
static void pieces_copy(uint8_t *dst, const uint8_t *const *pp, const uint32_t *pl, uint32_t at, uint32_t n)
{
	for (int k = 0; k < 3 && n; k++) {
		if (at >= pl[k]) {
			at -= pl[k];
			continue;
		}
		uint32_t take = pl[k] - at < n ? pl[k] - at : n;
		memcpy(dst, pp[k] + at, take);
		dst += take;
		n -= take;
		at = 0;
	}
}

/* Inspection callback: an alert becomes an alert record and the records
 * carrying its payload excerpt and packet. */
static void wrk_alert(void *arg, const struct inspect_alert *ia)
{
	struct wrk *w = arg;
	const struct inspect_cfg *ic = &w->pl->cfg->inspect;
	const struct pkt *p = ia->p;
	const struct flow *f = ia->f;
	struct out_rec rec;
	struct out_alert *o = &rec.u.alert;

	memset(&rec, 0, sizeof(rec));
	rec.version = OUT_REC_VERSION;
	rec.type = OUT_REC_ALERT;
	rec.worker = w->id;
	memcpy(o->src, p->src, 16);
	memcpy(o->dst, p->dst, 16);
	o->sport = p->sport;
	o->dport = p->dport;
	o->proto = p->proto;
	o->ipver = p->ipver;
	o->icmp_type = p->icmp_type;
	o->icmp_code = p->icmp_code;
	o->vlan = p->vlan_n ? p->vlan[0] : 0;
	o->tunnel_id = p->tunnel_id;
	o->action = ia->a->action;
	o->rule = ia->a->rule;
	o->engine = inspect_engine(w->ins);
	o->flags = (ia->stream ? OUT_ALERT_F_STREAM : 0) | (ia->body ? 0 : OUT_ALERT_F_NO_PACKET);
	o->linktype = (uint16_t)w->dopts.linktype;
	o->ts_ns = ia->ts_ns;
	o->pcap_cnt = ia->pcap_cnt;
	if (f) {
		o->flags |= OUT_ALERT_F_FLOW | (ia->toserver ? 0 : OUT_ALERT_F_TOCLIENT);
		o->flow_id = flow_id(f);
		o->flow_start_ns = f->created_ns;
		o->pkts_ts = f->pkts[0];
		o->pkts_tc = f->pkts[1];
		o->bytes_ts = f->bytes[0];
		o->bytes_tc = f->bytes[1];
	}
	/* payload: the bytes up to the match, at most payload_max */
	const uint8_t *pay = ia->payload;
	uint32_t plen = ia->payload_len;
	if (plen > ic->payload_max) {
		uint32_t end = ia->a->match_end > ic->payload_max ? ia->a->match_end : ic->payload_max;
		if (end > plen)
			end = plen;
		pay += end - ic->payload_max;
		plen = ic->payload_max;
	}
	uint32_t hlen = ia->body ? ia->head_len : 0, blen = ia->body ? ia->body_len : 0;
	if (hlen > ic->packet_max)
		hlen = ic->packet_max;
	if (hlen + blen > ic->packet_max)
		blen = ic->packet_max - hlen;
	o->payload_len = plen;
	o->packet_len = hlen + blen;
	wrk_push(w, &rec);

	const uint8_t *pp[3] = { pay, ia->head, ia->body };
	uint32_t pl[3] = { plen, hlen, blen }, total = plen + hlen + blen;
	for (uint32_t at = 0; at < total; at += (uint32_t)OUT_BYTES_MAX) {
		uint32_t n = total - at < OUT_BYTES_MAX ? total - at : (uint32_t)OUT_BYTES_MAX;
		rec.type = OUT_REC_BYTES;
		rec.u.bytes.n = n;
		pieces_copy(rec.u.bytes.b, pp, pl, at, n);
		wrk_push(w, &rec);
	}
}

/* flow_pkt_fn: inspect packet i right after its flow was accounted */
/* Start of a worker's read-side section: take the live generation if it
 * changed (a reload).  Returns the section's start time when measuring. */
static inline uint64_t wrk_enter(struct wrk *w, bool *switched)
{
	*switched = false;
	if (!w->ins)
		return 0;
	ck_epoch_begin(&w->er, NULL);
	struct engine_gen *g = ck_pr_load_ptr(&w->pl->live);
	uint64_t t = mono_ns();
	if (g->id != w->gen_id) {
		inspect_set_engine(w->ins, g->de, g->dt[w->id]);
		w->gen_id = g->id;
		*switched = true;
	}
	return t;
}

static inline void wrk_leave(struct wrk *w, uint64_t t0, bool switched)
{
	if (!w->ins)
		return;
	uint64_t d = mono_ns() - t0;
	if (d > w->burst_max_ns)
		w->burst_max_ns = d;
	if (switched && d > w->switch_burst_max_ns)
		w->switch_burst_max_ns = d;
	ck_epoch_end(&w->er, NULL);
}

/* inspect_bypass_fn */
static bool wrk_bypass(void *arg, struct flow *f)
{
	struct wrk *w = arg;

	return w->pl->cfg->bypass->add(w->bp, f);
}

/* flow_keep_fn: a bypassed flow idle in user space lives on while XDP
 * still counts packets for it */
static bool wrk_keep(void *arg, struct flow *f, uint64_t now_ns)
{
	struct wrk *w = arg;

	(void)now_ns;
	return inspect_bypassed(w->ins, f) && wrk_fold(w, f, true) > 0;
}

static void wrk_inspect(void *arg, unsigned i, struct flow *f, int toserver)
{
	struct wrk *w = arg;

	inspect_packet(w->ins, &w->cur->pk[i], f, toserver, w->cur->cnt[i]);
}

static inline void wrk_burst_done(struct wrk *w, struct wrk_burst *b)
{
	if (w->ins) {
		w->cur = b;
		flow_table_update_burst_cb(w->ft, b->pk, b->n, wrk_inspect, w);
	} else {
		struct flow *f[IO_BURST];
		int toserver[IO_BURST];
		flow_table_update_burst(w->ft, b->pk, b->n, f, toserver);
	}
	b->n = 0;
}

static inline void wrk_packet(struct wrk *w, struct wrk_burst *b, const uint8_t *data, uint32_t len,
			      uint64_t ts, uint64_t cnt)
{
	if (ts > w->now_ns)
		w->now_ns = ts;
	if (!w->first_ns || ts < w->first_ns)
		w->first_ns = ts;
	struct pkt *p = &b->pk[b->n];
	if (pkt_decode(p, data, len, ts, &w->dopts, &w->ctr)) {
		b->cnt[b->n++] = cnt;
	} else if (w->ins && (p->flags & PKT_F_INVALID) && (p->flags & (PKT_F_IPV4 | PKT_F_IPV6))) {
		/* a sound IP header over a broken transport header: no flow, but
		 * IP-only rules still see it (as Suricata does) */
		struct pkt q = *p;
		q.flags &= ~(uint32_t)PKT_F_L4;
		wrk_burst_done(w, b);
		inspect_packet(w->ins, &q, NULL, 1, cnt);
	}
}

static void wrk_expire(struct wrk *w)
{
	flow_table_expire(w->ft, w->now_ns, EXPIRE_BUDGET);
	if (w->ins)
		inspect_expire(w->ins, w->now_ns);
}

static void wrk_finish(struct wrk *w, uint64_t end_ns)
{
	bool sw;
	uint64_t t = wrk_enter(w, &sw);

	flow_table_flush(w->ft, end_ns);
	wrk_leave(w, t, sw);
	ck_pr_store_int(&w->done, 1);
}

/* Direct mode: poll our own queue of the source. */
static void *wrk_direct_main(void *arg)
{
	struct wrk *w = arg;
	struct pipeline *pl = w->pl;
	struct io_pkt pk[IO_BURST];
	struct wrk_burst b = { .n = 0 };
	unsigned idle = 0, iter = 0;

	io_thread_init(pl->src);
	for (;;) {
		uint16_t n = io_rx_burst(pl->src, w->id, pk, IO_BURST);
		if (!n) {
			if (io_eof(pl->src, w->id))
				break;
			backoff(&idle);
			continue;
		}
		idle = 0;
		bool sw;
		uint64_t t = wrk_enter(w, &sw);
		for (uint16_t i = 0; i < n; i++) {
			ctr_inc(&w->ctr, CTR_CAP_PKTS);
			ctr_add(&w->ctr, CTR_CAP_BYTES, pk[i].len);
			wrk_packet(w, &b, pk[i].data, pk[i].len, pk[i].ts_ns, ++w->pcnt);
		}
		wrk_burst_done(w, &b);
		if (++iter % EXPIRE_EVERY == 0)
			wrk_expire(w);
		wrk_leave(w, t, sw);
		io_release(pl->src, w->id, pk, n);
	}
	/* every worker has seen its last packet: agree on the end of input */
	pthread_barrier_wait(&pl->end_barrier);
	uint64_t end = 0;
	for (uint16_t i = 0; i < pl->nw; i++)
		if (pl->w[i].now_ns > end)
			end = pl->w[i].now_ns;
	wrk_finish(w, end);
	io_thread_fini(pl->src);
	return NULL;
}

/* Dispatch mode: take packets from our ring. */
static void *wrk_ring_main(void *arg)
{
	struct wrk *w = arg;
	struct io_desc d[IO_BURST];
	struct wrk_burst b = { .n = 0 };
	unsigned idle = 0, iter = 0;

	for (;;) {
		uint32_t n = desc_ring_dequeue_burst(&w->in, d, IO_BURST);
		if (!n) {
			if (ck_pr_load_int(&w->input_done)) {
				ck_pr_fence_load();
				n = desc_ring_dequeue_burst(&w->in, d, IO_BURST);
				if (!n)
					break;
			} else {
				backoff(&idle);
				continue;
			}
		}
		idle = 0;
		bool sw;
		uint64_t t = wrk_enter(w, &sw);
		for (uint32_t i = 0; i < n; i++)
			wrk_packet(w, &b, w->arena + d[i].off, d[i].len, d[i].ts_ns, d[i].cnt);
		wrk_burst_done(w, &b);
		ck_pr_fence_release();
		ck_pr_store_64(&w->arena_tail, d[n - 1].vend);
		if (++iter % EXPIRE_EVERY == 0)
			wrk_expire(w);
		wrk_leave(w, t, sw);
	}
	wrk_finish(w, ck_pr_load_64(&w->pl->end_ns));
	return NULL;
}

static uint64_t total_pkts(struct pipeline *pl)
{
	uint64_t n = ctr_read(pl->rd_ctr, CTR_CAP_PKTS);

	for (uint16_t i = 0; i < pl->nw; i++)
		n += ctr_read(&pl->w[i].ctr, CTR_CAP_PKTS);
	return n;
}

static void progress(struct pipeline *pl, bool final)
{
	uint64_t now = mono_ns();

	if (!pl->cfg->progress || (!final && now - pl->prog_last_ns < 500000000ULL))
		return;
	uint64_t pk = total_pkts(pl);
	double dt = (double)(now - pl->prog_last_ns) / 1e9;
	double rate = dt > 0 ? (double)(pk - pl->prog_last_pkts) / dt : 0;
	struct io_progress ip;
	char pct[32] = "";

	if (final) {
		dt = (double)(now - pl->prog_start_ns) / 1e9;
		rate = dt > 0 ? (double)pk / dt : 0;
	}
	io_progress(pl->src, &ip);
	if (ip.total)
		snprintf(pct, sizeof(pct), "  %5.1f%% of file", final ? 100.0 : 100.0 * (double)ip.done / (double)ip.total);
	fprintf(stderr, "\r  %12llu packets  %8.3f Mpps%s   %s", (unsigned long long)pk, rate / 1e6, pct,
		final ? "\n" : "");
	fflush(stderr);
	pl->prog_last_ns = now;
	pl->prog_last_pkts = pk;
}

/* Hand a worker its pending descriptors; waits (offline) or drops (live). */
static void dispatch_flush(struct pipeline *pl, struct wrk *w, struct io_desc *pend, uint32_t *np)
{
	uint32_t done = 0;
	unsigned spins = 0;
	bool waited = false;

	while (done < *np) {
		done += desc_ring_enqueue_burst(&w->in, pend + done, *np - done);
		if (done == *np)
			break;
		if (pl->src->live) {
			ctr_add(pl->rd_ctr, CTR_CAP_DISPATCH_DROP, *np - done);
			break;
		}
		if (!waited) {
			ctr_inc(pl->rd_ctr, CTR_CAP_DISPATCH_WAIT);
			waited = true;
		}
		backoff(&spins);
	}
	*np = 0;
}

static void dispatch_run(struct pipeline *pl)
{
	const uint16_t nw = pl->nw;
	struct io_pkt pk[IO_BURST];
	struct io_desc (*pend)[IO_BURST] = calloc(nw, sizeof(*pend));
	uint32_t *npend = calloc(nw, sizeof(*npend));
	uint64_t *head = calloc(nw, sizeof(*head));
	struct pkt_decode_opts qo = { .linktype = pl->src->linktype, .verify_csum = false };
	uint64_t last_ts = 0, cnt = 0;
	unsigned idle = 0;

	if (!pend || !npend || !head) {
		vlog_err("dispatcher: out of memory");
		goto out;
	}
	io_thread_init(pl->src);
	for (;;) {
		progress(pl, false);
		uint16_t n = io_rx_burst(pl->src, 0, pk, IO_BURST);
		if (!n) {
			if (io_eof(pl->src, 0))
				break;
			backoff(&idle);
			continue;
		}
		idle = 0;
		for (uint16_t i = 0; i < n; i++) {
			struct pkt p;
			uint32_t h = 0;

			ctr_inc(pl->rd_ctr, CTR_CAP_PKTS);
			ctr_add(pl->rd_ctr, CTR_CAP_BYTES, pk[i].len);
			cnt++;
			if (pk[i].ts_ns > last_ts)
				last_ts = pk[i].ts_ns;
			/* malformed and non-IP frames hash to 0: some worker counts them */
			if (pkt_decode(&p, pk[i].data, pk[i].len, pk[i].ts_ns, &qo, NULL))
				h = pkt_hash_ippair(&p, pl->cfg->dispatch_seed);
			uint16_t wi = (uint16_t)(((uint64_t)h * nw) >> 32);
			struct wrk *w = &pl->w[wi];

			/* room in the worker's arena, contiguous */
			uint64_t len = pk[i].len, pos = head[wi] % w->arena_size;
			uint64_t pad = pos + len > w->arena_size ? w->arena_size - pos : 0;
			unsigned spins = 0;
			bool drop = false, waited = false;
			while (head[wi] + pad + len - ck_pr_load_64(&w->arena_tail) > w->arena_size) {
				if (npend[wi]) {
					dispatch_flush(pl, w, pend[wi], &npend[wi]);
					continue;
				}
				if (pl->src->live) {
					drop = true;
					break;
				}
				if (!waited) {
					ctr_inc(pl->rd_ctr, CTR_CAP_DISPATCH_WAIT);
					waited = true;
				}
				backoff(&spins);
			}
			if (drop) {
				ctr_inc(pl->rd_ctr, CTR_CAP_DISPATCH_DROP);
				continue;
			}
			ck_pr_fence_acquire();
			uint64_t at = (head[wi] + pad) % w->arena_size;
			memcpy(w->arena + at, pk[i].data, len);
			head[wi] += pad + len;
			pend[wi][npend[wi]++] = (struct io_desc){
				.vend = head[wi], .ts_ns = pk[i].ts_ns, .cnt = cnt, .off = (uint32_t)at,
				.len = (uint32_t)len,
			};
			if (npend[wi] == IO_BURST)
				dispatch_flush(pl, w, pend[wi], &npend[wi]);
		}
		io_release(pl->src, 0, pk, n);
		for (uint16_t wi = 0; wi < nw; wi++)
			if (npend[wi])
				dispatch_flush(pl, &pl->w[wi], pend[wi], &npend[wi]);
	}
	io_thread_fini(pl->src);
out:
	ck_pr_store_64(&pl->end_ns, last_ts);
	ck_pr_fence_store();
	for (uint16_t wi = 0; wi < nw; wi++)
		ck_pr_store_int(&pl->w[wi].input_done, 1);
	free(pend);
	free(npend);
	free(head);
}

/* Output thread callback: the sum of every thread's counters. */
static void collect(void *arg, struct ctr_block *sum, uint64_t *memuse)
{
	struct pipeline *pl = arg;

	ctr_accumulate(sum, pl->rd_ctr);
	ctr_accumulate(sum, pl->out_ctr);
	for (uint16_t i = 0; i < pl->nw; i++)
		ctr_accumulate(sum, &pl->w[i].ctr);
	sum->v[CTR_CAP_KERNEL_DROP] += io_drops(pl->src);
	if (pl->cfg->extra_counters)
		pl->cfg->extra_counters(pl->cfg->extra_arg, sum);
	*memuse = pl->memuse;
}

/* Output thread: rule facts for an alert record, and its thresholds. */
static bool resolve_alert(void *arg, const struct out_alert *a, struct eve_rule_info *ri)
{
	struct pipeline *pl = arg;
	const struct detect_engine *de = a->engine;
	const struct rule *r = detect_engine_rule(de, a->rule);

	if (!r)
		return false;
	if (r->threshold.set || r->detection_filter.set) {
		struct detect_thr_key k = {
			.src = a->src, .dst = a->dst, .sport = a->sport, .dport = a->dport,
			.flow_id = a->flow_id, .ts_ns = a->ts_ns,
		};
		if (!detect_thr_check(pl->thr, r, &k))
			return false;
	}
	ri->gid = r->gid;
	ri->sid = r->sid;
	ri->rev = r->rev;
	ri->priority = r->priority;
	ri->msg = r->msg;
	ri->category = r->class_desc;
	ri->ruleset = detect_engine_version(de);
	ri->rule_action = r->action == RULE_ACTION_DROP ? "drop"
			  : r->action == RULE_ACTION_REJECT ? "reject" : NULL;
	return true;
}

static void gen_free(void *arg)
{
	struct engine_gen *g = arg;

	if (!g)
		return;
	for (uint16_t i = 0; i < g->nw && g->dt; i++)
		detect_thread_destroy(g->dt[i]);
	free(g->dt);
	detect_engine_destroy(g->owned);
	free(g);
}

/* A generation for DE with a matcher per worker (their counters in the
 * workers' blocks: each matcher only ever runs on its worker). */
static int gen_create(struct pipeline *pl, const struct detect_engine *de, struct detect_engine *owned,
		      struct engine_gen **out)
{
	struct engine_gen *g = calloc(1, sizeof(*g));
	int rc = 0;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->de = de;
	g->owned = owned;
	g->id = ++pl->next_gen;
	g->dt = calloc(pl->nw, sizeof(*g->dt));
	if (!g->dt) {
		g->owned = NULL;
		gen_free(g);
		return -ENOMEM;
	}
	g->nw = pl->nw;
	for (uint16_t i = 0; i < pl->nw && !rc; i++)
		rc = detect_thread_create(&g->dt[i], de, &pl->w[i].ctr);
	if (rc) {
		g->owned = NULL;   /* the caller still owns it */
		gen_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

int pipeline_ctl_create(struct pipeline_ctl **out)
{
	struct pipeline_ctl *c = calloc(1, sizeof(*c));

	*out = c;
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	return 0;
}

void pipeline_ctl_destroy(struct pipeline_ctl *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

int pipeline_reload(struct pipeline_ctl *c, struct detect_engine *de, struct pipeline_reload_stats *st)
{
	struct engine_gen *g, *old;
	struct pipeline *pl;
	int rc;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&c->mu);
	while (c->state == 0)   /* asked while the pipeline is still being set up */
		pthread_cond_wait(&c->cv, &c->mu);
	pl = c->pl;
	if (!pl) {
		pthread_mutex_unlock(&c->mu);
		detect_engine_destroy(de);
		return -ESRCH;
	}
	rc = gen_create(pl, de, de, &g);
	if (rc) {
		pthread_mutex_unlock(&c->mu);
		detect_engine_destroy(de);
		return rc;
	}
	uint64_t t0 = mono_ns();
	old = pl->live;
	ck_pr_fence_store();
	ck_pr_store_ptr(&pl->live, g);
	/* Every section that may have loaded OLD ends before this returns;
	 * later sections load G.  Idle workers keep OLD's pointers without
	 * using them and switch at their next burst. */
	ck_epoch_synchronize(&c->er);
	for (uint16_t i = 0; i < pl->nw; i++)
		st->workers_switched += ck_pr_load_64(&pl->w[i].gen_id) == g->id;
	if (eve_writer_retire(pl->eve, old->de, gen_free, old) != 0)
		vlog_warn("reload: out of memory retiring the old ruleset; it stays allocated");
	st->publish_to_retire_ms = (double)(mono_ns() - t0) / 1e6;
	pl->reloads++;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* The run is over (or never started): reloads from now on get -ESRCH. */
static void ctl_end(struct pipeline_ctl *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->pl = NULL;
	c->registered = false;   /* its record belonged to this run's epoch */
	c->state = 2;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void pipeline_free(struct pipeline *pl)
{
	gen_free(pl->live);
	pl->live = NULL;
	if (pl->w) {
		for (uint16_t i = 0; i < pl->nw; i++) {
			if (pl->w[i].bp)
				pl->cfg->bypass->worker_close(pl->w[i].bp);
			inspect_destroy(pl->w[i].ins);
			flow_table_destroy(pl->w[i].ft);
			desc_ring_fini(&pl->w[i].in);
			rec_ring_fini(&pl->w[i].out);
			free(pl->w[i].arena);
		}
	}
	eve_writer_destroy(pl->eve);
	detect_thr_destroy(pl->thr);
	free(pl->w);
	free(pl->rings);
	free(pl->rd_ctr);
	free(pl->out_ctr);
}

int pipeline_run(struct io_source *src, const struct pipeline_cfg *cfg,
		 struct pipeline_result *res, char *err, size_t errlen)
{
	struct pipeline pl;
	uint64_t t0 = mono_ns();
	int rc = 0;

	memset(&pl, 0, sizeof(pl));
	memset(res, 0, sizeof(*res));
	pl.cfg = cfg;
	pl.src = src;
	pl.nw = cfg->workers ? cfg->workers : 1;
	pl.direct = src->nb_queues == pl.nw;
	if (!pl.direct && src->nb_queues != 1) {
		snprintf(err, errlen, "source has %u queues for %u workers", src->nb_queues, pl.nw);
		ctl_end(cfg->ctl);
		return -EINVAL;
	}
	pl.w = aligned_alloc(64, sizeof(struct wrk) * pl.nw);
	pl.rings = calloc(pl.nw, sizeof(*pl.rings));
	pl.rd_ctr = aligned_alloc(64, sizeof(struct ctr_block));
	pl.out_ctr = aligned_alloc(64, sizeof(struct ctr_block));
	if (!pl.w || !pl.rings || !pl.rd_ctr || !pl.out_ctr) {
		free(pl.w);
		pl.w = NULL;
		rc = -ENOMEM;
		goto fail_msg;
	}
	memset(pl.w, 0, sizeof(struct wrk) * pl.nw);
	memset(pl.rd_ctr, 0, sizeof(*pl.rd_ctr));
	memset(pl.out_ctr, 0, sizeof(*pl.out_ctr));

	for (uint16_t i = 0; i < pl.nw; i++) {
		struct wrk *w = &pl.w[i];
		w->pl = &pl;
		w->id = i;
		w->offline = !src->live;
		w->dopts.linktype = src->linktype;
		w->dopts.verify_csum = cfg->verify_csum;
		w->arena_size = cfg->arena_bytes;
		rc = flow_table_create(&w->ft, &cfg->flow, &w->ctr, wrk_emit, w);
		if (rc)
			goto fail_msg;
		pl.memuse += flow_table_memory(w->ft);
		if (cfg->de) {
			rc = inspect_create(&w->ins, &cfg->inspect, cfg->de, NULL, w->ft, &w->ctr, wrk_alert, w);
			if (rc)
				goto fail_msg;
			if (cfg->bypass && (w->bp = cfg->bypass->worker_open(cfg->bypass->arg, i))) {
				inspect_set_bypass(w->ins, wrk_bypass, w);
				flow_table_set_keep(w->ft, wrk_keep, w);
			}
			pl.memuse += inspect_memory(w->ins);
		}
		rc = rec_ring_init(&w->out, cfg->out_ring);
		if (rc)
			goto fail_msg;
		pl.rings[i] = &w->out;
		if (!pl.direct) {
			rc = desc_ring_init(&w->in, cfg->in_ring);
			if (rc)
				goto fail_msg;
			w->arena = malloc(w->arena_size);
			if (!w->arena) {
				rc = -ENOMEM;
				goto fail_msg;
			}
		}
	}
	ck_epoch_init(&pl.epoch);
	if (cfg->de) {
		/* generation 1: the caller's engine (not ours to free) */
		rc = gen_create(&pl, cfg->de, NULL, &pl.live);
		if (rc)
			goto fail_msg;
		for (uint16_t i = 0; i < pl.nw; i++) {
			inspect_set_engine(pl.w[i].ins, cfg->de, pl.live->dt[i]);
			pl.w[i].gen_id = pl.live->id;
			ck_epoch_register(&pl.epoch, &pl.w[i].er, NULL);
		}
	}
	struct eve_cfg ec = cfg->eve;
	if (cfg->de) {
		rc = detect_thr_create(&pl.thr, cfg->thresholds, pl.out_ctr);
		if (rc)
			goto fail_msg;
		ec.alert_fn = resolve_alert;
		ec.alert_arg = &pl;
	}
	rc = eve_writer_create(&pl.eve, &ec, pl.rings, pl.nw, pl.out_ctr, collect, &pl, err, errlen);
	if (rc)
		goto fail;
	rc = eve_writer_start(pl.eve);
	if (rc)
		goto fail_msg;
	pthread_barrier_init(&pl.end_barrier, NULL, pl.nw);
	if (cfg->ctl && cfg->de) {
		pthread_mutex_lock(&cfg->ctl->mu);
		if (!cfg->ctl->registered)
			ck_epoch_register(&pl.epoch, &cfg->ctl->er, NULL);
		cfg->ctl->registered = true;
		cfg->ctl->pl = &pl;
		cfg->ctl->state = 1;
		pthread_cond_broadcast(&cfg->ctl->cv);
		pthread_mutex_unlock(&cfg->ctl->mu);
	}
	pl.prog_start_ns = pl.prog_last_ns = mono_ns();
	res->setup_s = (double)(pl.prog_start_ns - t0) / 1e9;

	for (uint16_t i = 0; i < pl.nw; i++) {
		rc = -pthread_create(&pl.w[i].thr, NULL, pl.direct ? wrk_direct_main : wrk_ring_main, &pl.w[i]);
		if (rc) {
			/* cannot run with fewer workers than the barrier expects */
			vlog_err("cannot start worker %u: %s", i, strerror(-rc));
			abort();
		}
		pl.w[i].started = true;
	}
	if (pl.direct) {
		for (;;) {
			bool all = true;
			for (uint16_t i = 0; i < pl.nw; i++)
				all = all && ck_pr_load_int(&pl.w[i].done);
			if (all)
				break;
			progress(&pl, false);
			struct timespec ts = { 0, 1000000 };   /* 1 ms: the end of a short capture is noticed promptly */
			nanosleep(&ts, NULL);
		}
	} else {
		dispatch_run(&pl);
	}
	for (uint16_t i = 0; i < pl.nw; i++)
		pthread_join(pl.w[i].thr, NULL);
	ctl_end(cfg->ctl);   /* waits for a reload in progress */
	progress(&pl, true);
	eve_writer_finish(pl.eve);
	pthread_barrier_destroy(&pl.end_barrier);

	res->wall_s = (double)(mono_ns() - pl.prog_start_ns) / 1e9;
	res->direct = pl.direct;
	res->workers = pl.nw;
	res->flow_memuse = pl.memuse;
	res->flow_capacity = (uint64_t)cfg->flow.max_flows * pl.nw;
	collect(&pl, &res->total, &res->flow_memuse);
	for (uint16_t i = 0; i < pl.nw; i++) {
		if (pl.w[i].first_ns && (!res->first_ns || pl.w[i].first_ns < res->first_ns))
			res->first_ns = pl.w[i].first_ns;
		if (pl.w[i].now_ns > res->last_ns)
			res->last_ns = pl.w[i].now_ns;
	}
	eve_writer_summary(pl.eve, &res->eve);
	if (cfg->de) {
		struct detect_engine_stats ds;
		detect_engine_get_stats(pl.live->de, &ds);
		res->rules_loaded = ds.rules;
		res->reloads = pl.reloads;
		for (uint16_t i = 0; i < pl.nw; i++) {
			if (pl.w[i].switch_burst_max_ns > res->switch_burst_max_ns)
				res->switch_burst_max_ns = pl.w[i].switch_burst_max_ns;
			if (pl.w[i].burst_max_ns > res->burst_max_ns)
				res->burst_max_ns = pl.w[i].burst_max_ns;
		}
	}
	pipeline_free(&pl);
	return 0;
fail_msg:
	snprintf(err, errlen, "pipeline set-up failed: %s", strerror(-rc));
fail:
	ctl_end(cfg->ctl);
	pipeline_free(&pl);
	return rc;
}
