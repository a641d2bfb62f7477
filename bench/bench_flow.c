/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_flow: decode + flow accounting alone, without I/O, dispatch or
 * output, on captures held in memory.
 *
 *   bench_flow [--workers N[,N...]] [--min-seconds S] [--max-flows N]
 *              [--no-csum] [--no-pin] [--no-header] CAPTURE...
 *
 * Each capture is read whole with libpcap into one contiguous buffer,
 * partitioned among the workers by pkt_hash_ippair() of a quiet decode
 * (what the engine's dispatcher does, so each worker sees whole flows) and
 * laid out again so that each worker's packets are contiguous.  Then N
 * threads, started together by a barrier, replay their packets in passes:
 *
 *  phase 1 (decode + flow): pkt_decode() per packet + flow_table_update_burst() per burst,
 *          flow_table_expire(now, 128) every 16 bursts of 32 packets, as the
 *          engine's worker does.  Pass r adds r * (capture span + 1 s) to
 *          the timestamps so packet time only moves forward.
 *  phase 2 (decode only): pkt_decode() alone, to split the cost.
 *
 * Each phase runs until every worker has done at least one full pass and
 * at least --min-seconds (phase 2: half of it) have elapsed.  Figures are
 * printed, never checked: the machine may be shared and noisy.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "ctr.h"
#include "flow.h"
#include "pkt.h"
#include "hash.h"

#define BURST 32            /* packets per burst, as IO_BURST in the engine */
#define EXPIRE_EVERY 16     /* bursts between idle-flow sweeps (pipeline.c) */
#define EXPIRE_BUDGET 128   /* flows ended per sweep at most (pipeline.c) */
#define MAX_WORKERS 64
#define MAX_WLIST 8
#define NS 1000000000ULL

/* Targets from the issue, reported against (never asserted). */
#define TARGET_MPPS_PER_CORE 10.0
#define TARGET_FLOWS 100000
#define TARGET_BYTES_PER_FLOW 128.0
#define ENGINE_DEFAULT_MAX_FLOWS 262144   /* flow.max-flows in vigil.yaml */

struct pdesc {
	uint64_t off;
	uint64_t ts;
	uint32_t len;
	uint32_t pad;
};

struct capture {
	const char *path;
	char name[64];
	int linktype;
	uint8_t *buf;
	uint64_t buf_len;
	struct pdesc *pk;
	uint64_t n;
	uint64_t bytes;
	uint64_t first_ts, last_ts;
	uint32_t minlen, maxlen;
};

struct bench;

struct worker {
	struct ctr_block ctr;              /* first: 64-byte aligned */
	struct ctr_block dctr;             /* decode-only phase */
	struct bench *b;
	unsigned id;
	const uint8_t *buf;
	const struct pdesc *pk;
	uint64_t n;                        /* packets in this worker's share */
	uint64_t share_bytes;
	uint64_t flows_est;                /* distinct flow keys in the share */
	struct flow_table *ft;
	pthread_t thr;
	int cpu;                           /* pinned to, or -1 */
	int err;
	/* results */
	uint64_t records;                  /* flow records emitted by the table */
	uint64_t pkts, bytes;              /* phase 1 */
	uint64_t secs_ns;
	uint64_t cpu_ns;                   /* thread CPU time of phase 1 */
	uint64_t passes;
	uint64_t created_pass1;
	uint32_t live_pass1;
	uint64_t dpkts, dsecs_ns;          /* phase 2 */
	uint64_t sink;                     /* keeps phase 2 honest */
};

struct bench {
	const struct capture *cap;
	unsigned nw;
	uint64_t min_ns;
	uint64_t shift_ns;                 /* span + 1 s: time added per pass */
	bool verify_csum;
	struct flow_table_cfg fcfg;
	pthread_barrier_t barrier;
	atomic_uint satisfied;
	struct worker *w;
};

struct row {
	char name[64];
	uint64_t pkts, flows;
	unsigned nw;
	double mpps, mpps_wrk, ns_pkt, dec_ns, flow_ns, gbps, b_flow, b_live, cpu_pct;
	bool all64;
	uint64_t evicted, noflow;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *a)
{
	fprintf(stderr, "bench_flow: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "\n");
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory%s", "");
	return p;
}

static uint32_t pow2_at_least(uint64_t v)
{
	uint64_t p = 1;

	while (p < v && p < (1u << 30))
		p <<= 1;
	return (uint32_t)p;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

static void capture_name(struct capture *c)
{
	const char *s = strrchr(c->path, '/');

	s = s ? s + 1 : c->path;
	snprintf(c->name, sizeof(c->name), "%s", s);
	char *dot = strrchr(c->name, '.');
	if (dot && (!strcmp(dot, ".pcap") || !strcmp(dot, ".pcapng") || !strcmp(dot, ".cap")))
		*dot = 0;
}

static int capture_load(struct capture *c, const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t cap_pk = 1024, cap_buf = 1 << 20;
	int rc;

	memset(c, 0, sizeof(*c));
	c->path = path;
	capture_name(c);
	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!pc) {
		fprintf(stderr, "bench_flow: %s: %s\n", path, ebuf);
		return -1;
	}
	c->linktype = pcap_datalink(pc);
	c->pk = xmalloc(cap_pk * sizeof(*c->pk));
	c->buf = xmalloc(cap_buf);
	c->minlen = UINT32_MAX;
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * NS + (uint64_t)h->ts.tv_usec;

		if (c->n == cap_pk) {
			cap_pk *= 2;
			c->pk = realloc(c->pk, cap_pk * sizeof(*c->pk));
			if (!c->pk)
				die("out of memory%s", "");
		}
		while (c->buf_len + h->caplen > cap_buf) {
			cap_buf *= 2;
			c->buf = realloc(c->buf, cap_buf);
			if (!c->buf)
				die("out of memory%s", "");
		}
		memcpy(c->buf + c->buf_len, data, h->caplen);
		c->pk[c->n] = (struct pdesc){ .off = c->buf_len, .ts = ts, .len = h->caplen };
		c->buf_len += h->caplen;
		c->bytes += h->caplen;
		if (!c->n || ts < c->first_ts)
			c->first_ts = ts;
		if (ts > c->last_ts)
			c->last_ts = ts;
		if (h->caplen < c->minlen)
			c->minlen = h->caplen;
		if (h->caplen > c->maxlen)
			c->maxlen = h->caplen;
		c->n++;
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "bench_flow: %s: %s (using the %" PRIu64 " packets read)\n", path,
			pcap_geterr(pc), c->n);
	pcap_close(pc);
	if (!c->n) {
		fprintf(stderr, "bench_flow: %s: no packets\n", path);
		return -1;
	}
	return 0;
}

static void capture_free(struct capture *c)
{
	free(c->buf);
	free(c->pk);
	c->buf = NULL;
	c->pk = NULL;
}

/* ---------------------------------------------------------------------- */
/* Partitioning (as the engine's dispatcher) and flow counting             */

/* Hash of the engine's flow key (normalised 5-tuple + outer VLAN + tunnel
 * id); only used to size the tables, so later fragments are skipped. */
static bool flow_key_hash(const struct pkt *p, uint64_t *out)
{
	uint64_t a[2], b[2], h;
	int c;
	bool lo;

	if ((p->flags & PKT_F_FRAG) && !(p->flags & PKT_F_FRAG_FIRST))
		return false;
	c = memcmp(p->src, p->dst, 16);
	lo = c < 0 || (c == 0 && p->sport <= p->dport);
	memcpy(a, lo ? p->src : p->dst, 16);
	memcpy(b, lo ? p->dst : p->src, 16);
	h = mix64(a[0] ^ 0x9e3779b97f4a7c15ULL);
	h = mix64(h ^ a[1]);
	h = mix64(h ^ b[0]);
	h = mix64(h ^ b[1]);
	h = mix64(h ^ ((uint64_t)(lo ? p->sport : p->dport) << 48 | (uint64_t)(lo ? p->dport : p->sport) << 32 |
		       (uint64_t)p->proto << 24 | (uint64_t)(p->vlan_n ? p->vlan[0] : 0)));
	h = mix64(h ^ p->tunnel_id);
	*out = h ? h : 1;
	return true;
}

/* Distinct flows per worker share: an open-addressing set of key hashes. */
static void count_flows(const struct capture *c, const uint16_t *wi, const uint64_t *keys,
			const uint8_t *haskey, unsigned nw, uint64_t *flows)
{
	uint64_t size = pow2_at_least(2 * c->n + 16);
	uint64_t *set;

	if (size < 2 * c->n)
		size = 1ULL << 31;
	set = calloc(size, sizeof(*set));
	if (!set)
		die("out of memory%s", "");
	for (unsigned i = 0; i < nw; i++)
		flows[i] = 0;
	for (uint64_t i = 0; i < c->n; i++) {
		if (!haskey[i])
			continue;
		uint64_t k = keys[i], j = k & (size - 1);
		while (set[j] && set[j] != k)
			j = (j + 1) & (size - 1);
		if (!set[j]) {
			set[j] = k;
			flows[wi[i]]++;
		}
	}
	free(set);
}

/* Share c's packets among nw workers; returns one contiguous buffer in
 * which worker i's packets are [pk + start[i], pk + start[i] + cnt[i]). */
static void partition(const struct capture *c, unsigned nw, struct worker *w, uint8_t **buf_out,
		      struct pdesc **pk_out)
{
	struct pkt_decode_opts qo = { .linktype = c->linktype, .verify_csum = false };
	uint16_t *wi = xmalloc(c->n * sizeof(*wi));
	uint64_t *keys = xmalloc(c->n * sizeof(*keys));
	uint8_t *haskey = xmalloc(c->n);
	uint64_t cnt[MAX_WORKERS] = { 0 }, bytes[MAX_WORKERS] = { 0 }, flows[MAX_WORKERS];
	uint64_t pos[MAX_WORKERS], bpos[MAX_WORKERS];

	for (uint64_t i = 0; i < c->n; i++) {
		struct pkt p;
		uint32_t h = 0;

		haskey[i] = 0;
		if (pkt_decode(&p, c->buf + c->pk[i].off, c->pk[i].len, c->pk[i].ts, &qo, NULL)) {
			h = pkt_hash_ippair(&p, 0);     /* dispatch.hash-seed default */
			haskey[i] = flow_key_hash(&p, &keys[i]);
		}
		wi[i] = (uint16_t)(((uint64_t)h * nw) >> 32);
		cnt[wi[i]]++;
		bytes[wi[i]] += c->pk[i].len;
	}
	count_flows(c, wi, keys, haskey, nw, flows);

	uint8_t *buf = xmalloc(c->buf_len);
	struct pdesc *pk = xmalloc(c->n * sizeof(*pk));
	uint64_t p0 = 0, b0 = 0;
	for (unsigned i = 0; i < nw; i++) {
		pos[i] = p0;
		bpos[i] = b0;
		w[i].pk = pk + p0;
		w[i].n = cnt[i];
		w[i].share_bytes = bytes[i];
		w[i].flows_est = flows[i];
		p0 += cnt[i];
		b0 += bytes[i];
	}
	for (uint64_t i = 0; i < c->n; i++) {
		unsigned k = wi[i];
		memcpy(buf + bpos[k], c->buf + c->pk[i].off, c->pk[i].len);
		pk[pos[k]++] = (struct pdesc){ .off = bpos[k], .ts = c->pk[i].ts, .len = c->pk[i].len };
		bpos[k] += c->pk[i].len;
	}
	for (unsigned i = 0; i < nw; i++)
		w[i].buf = buf;
	free(wi);
	free(keys);
	free(haskey);
	*buf_out = buf;
	*pk_out = pk;
}

/* ---------------------------------------------------------------------- */
/* Workers                                                                 */

static void count_emit(void *arg, const struct flow *f, enum flow_end_reason r)
{
	struct worker *w = arg;

	(void)f;
	(void)r;
	w->records++;
}

static void default_flow_cfg(struct flow_table_cfg *f, uint32_t max_flows)
{
	static const uint64_t to[FLOW_PG__N][FLOW_ST__N] = {
		[FLOW_PG_TCP] = { 60, 600, 60 },
		[FLOW_PG_UDP] = { 30, 300, 30 },
		[FLOW_PG_ICMP] = { 30, 300, 30 },
		[FLOW_PG_OTHER] = { 30, 300, 30 },
	};

	memset(f, 0, sizeof(*f));
	f->max_flows = max_flows;
	f->seed = 0x5eed1234u | 1;       /* fixed: runs are comparable */
	for (int p = 0; p < FLOW_PG__N; p++)
		for (int s = 0; s < FLOW_ST__N; s++)
			f->timeout_ns[p][s] = to[p][s] * NS;
	f->active_ns = 1800 * NS;
	f->frag_trackers = 4096;
	f->frag_timeout_ns = 60 * NS;
}

/* True when every worker has asked to stop.  A worker asks once it has
 * done a full pass and min_ns has elapsed since t0. */
static inline bool should_stop(struct worker *w, bool *asked, uint64_t passes, uint64_t t0,
			       uint64_t min_ns)
{
	struct bench *b = w->b;

	if (!*asked && passes >= 1 && mono_ns() - t0 >= min_ns) {
		*asked = true;
		atomic_fetch_add_explicit(&b->satisfied, 1, memory_order_relaxed);
	}
	return *asked && atomic_load_explicit(&b->satisfied, memory_order_relaxed) >= b->nw;
}

static void run_flow_phase(struct worker *w)
{
	struct bench *b = w->b;
	struct pkt_decode_opts o = { .linktype = b->cap->linktype, .verify_csum = b->verify_csum };
	uint64_t now_ns = 0, pkts = 0, bytes = 0, passes = 0, bursts = 0;
	bool asked = false;
	uint64_t c0 = thread_cpu_ns();
	uint64_t t0 = mono_ns();

	if (!w->n) {        /* nothing to do: do not hold the others back */
		should_stop(w, &asked, 1, t0, 0);
		w->secs_ns = 0;
		return;
	}
	for (;;) {
		const uint64_t shift = passes * b->shift_ns;
		bool stop = false;

		for (uint64_t i = 0; i < w->n; i += BURST) {
			uint64_t end = i + BURST < w->n ? i + BURST : w->n;

			/* as the engine's workers do: decode the burst, then
			 * account it with the flow table's burst lookup */
			struct pkt p[BURST];
			struct flow *fl[BURST];
			int toserver[BURST];
			unsigned np = 0;

			for (uint64_t j = i; j < end; j++) {
				const struct pdesc *d = &w->pk[j];
				uint64_t ts = d->ts + shift;

				if (ts > now_ns)
					now_ns = ts;
				if (pkt_decode(&p[np], w->buf + d->off, d->len, ts, &o, &w->ctr))
					np++;
				bytes += d->len;
			}
			flow_table_update_burst(w->ft, p, np, fl, toserver);
			pkts += end - i;
			if (++bursts % EXPIRE_EVERY == 0) {
				flow_table_expire(w->ft, now_ns, EXPIRE_BUDGET);
				if (passes && should_stop(w, &asked, passes, t0, b->min_ns)) {
					stop = true;
					break;
				}
			}
		}
		if (stop)
			break;
		if (++passes == 1) {
			w->created_pass1 = ctr_read(&w->ctr, CTR_FLOW_CREATED);
			w->live_pass1 = flow_table_live(w->ft);
		}
		if (should_stop(w, &asked, passes, t0, b->min_ns))
			break;
	}
	w->secs_ns = mono_ns() - t0;
	w->cpu_ns = thread_cpu_ns() - c0;
	w->pkts = pkts;
	w->bytes = bytes;
	w->passes = passes;
}

static void run_decode_phase(struct worker *w)
{
	struct bench *b = w->b;
	struct pkt_decode_opts o = { .linktype = b->cap->linktype, .verify_csum = b->verify_csum };
	uint64_t pkts = 0, passes = 0, sink = 0, bursts = 0;
	uint64_t min_ns = b->min_ns / 2;
	bool asked = false;
	uint64_t t0 = mono_ns();

	if (!w->n) {
		should_stop(w, &asked, 1, t0, 0);
		return;
	}
	for (;;) {
		bool stop = false;

		for (uint64_t i = 0; i < w->n; i += BURST) {
			uint64_t end = i + BURST < w->n ? i + BURST : w->n;

			for (uint64_t j = i; j < end; j++) {
				const struct pdesc *d = &w->pk[j];
				struct pkt p;

				if (pkt_decode(&p, w->buf + d->off, d->len, d->ts, &o, &w->dctr))
					sink += p.sport ^ p.flags;
			}
			pkts += end - i;
			if (++bursts % EXPIRE_EVERY == 0 && passes &&
			    should_stop(w, &asked, passes, t0, min_ns)) {
				stop = true;
				break;
			}
		}
		if (stop)
			break;
		passes++;
		if (should_stop(w, &asked, passes, t0, min_ns))
			break;
	}
	w->dsecs_ns = mono_ns() - t0;
	w->dpkts = pkts;
	w->sink = sink;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;

	/* phase 1: decode + flow accounting */
	pthread_barrier_wait(&b->barrier);
	run_flow_phase(w);
	pthread_barrier_wait(&b->barrier);
	if (w->id == 0)
		atomic_store(&b->satisfied, 0);
	pthread_barrier_wait(&b->barrier);
	/* phase 2: decode alone */
	run_decode_phase(w);
	return NULL;
}

static int pin_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

/* ---------------------------------------------------------------------- */
/* One (capture, workers) measurement                                      */

static int bench_one(const struct capture *c, unsigned nw, const struct bench *tmpl, uint32_t max_flows_opt,
		     bool pin, struct row *r)
{
	struct bench b = *tmpl;
	struct worker *w;
	uint8_t *buf;
	struct pdesc *pk;
	int cpus[CPU_SETSIZE], ncpu = pin ? pin_cpus(cpus, CPU_SETSIZE) : 0;
	uint64_t maxshare = 0;
	int rc = 0;

	w = aligned_alloc(64, sizeof(*w) * nw);
	if (!w)
		die("out of memory%s", "");
	memset(w, 0, sizeof(*w) * nw);
	b.cap = c;
	b.nw = nw;
	b.w = w;
	atomic_init(&b.satisfied, 0);
	b.shift_ns = c->last_ts - c->first_ts + NS;
	partition(c, nw, w, &buf, &pk);

	for (unsigned i = 0; i < nw; i++)
		if (w[i].flows_est > maxshare)
			maxshare = w[i].flows_est;
	uint32_t max_flows = max_flows_opt ? max_flows_opt : pow2_at_least(2 * maxshare < 1024 ? 1024 : 2 * maxshare);
	default_flow_cfg(&b.fcfg, max_flows);

	for (unsigned i = 0; i < nw; i++) {
		w[i].b = &b;
		w[i].id = i;
		w[i].cpu = -1;
		int e = flow_table_create(&w[i].ft, &b.fcfg, &w[i].ctr, count_emit, &w[i]);
		if (e) {
			fprintf(stderr, "bench_flow: flow_table_create(%u flows): %s\n", max_flows, strerror(-e));
			for (unsigned j = 0; j < i; j++)
				flow_table_destroy(w[j].ft);
			free(buf);
			free(pk);
			free(w);
			return -1;
		}
	}
	pthread_barrier_init(&b.barrier, NULL, nw);
	for (unsigned i = 0; i < nw; i++) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		if (ncpu > 0) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(cpus[i % (unsigned)ncpu], &set);
			if (pthread_attr_setaffinity_np(&attr, sizeof(set), &set) == 0)
				w[i].cpu = cpus[i % (unsigned)ncpu];
		}
		int e = pthread_create(&w[i].thr, &attr, worker_main, &w[i]);
		if (e && w[i].cpu >= 0) {          /* pinning refused: run unpinned */
			pthread_attr_destroy(&attr);
			pthread_attr_init(&attr);
			w[i].cpu = -1;
			e = pthread_create(&w[i].thr, &attr, worker_main, &w[i]);
		}
		pthread_attr_destroy(&attr);
		if (e) {
			fprintf(stderr, "bench_flow: pthread_create: %s\n", strerror(e));
			abort();     /* the barrier expects nw threads */
		}
	}
	for (unsigned i = 0; i < nw; i++)
		pthread_join(w[i].thr, NULL);
	pthread_barrier_destroy(&b.barrier);

	/* aggregate */
	double agg_pps = 0, agg_bps = 0, dec_secs = 0, flow_secs = 0, cpu_secs = 0;
	uint64_t pk_all = 0, dpk_all = 0, created = 0, live = 0;
	size_t mem = 0;
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < nw; i++) {
		if (w[i].secs_ns) {
			agg_pps += (double)w[i].pkts / ((double)w[i].secs_ns / 1e9);
			agg_bps += (double)w[i].bytes * 8 / ((double)w[i].secs_ns / 1e9);
		}
		flow_secs += (double)w[i].secs_ns / 1e9;
		cpu_secs += (double)w[i].cpu_ns / 1e9;
		dec_secs += (double)w[i].dsecs_ns / 1e9;
		pk_all += w[i].pkts;
		dpk_all += w[i].dpkts;
		created += w[i].created_pass1;
		live += w[i].live_pass1;
		mem += flow_table_memory(w[i].ft);
		r->evicted += ctr_read(&w[i].ctr, CTR_FLOW_EVICTED);
		r->noflow += ctr_read(&w[i].ctr, CTR_FLOW_NOFLOW);
	}
	snprintf(r->name, sizeof(r->name), "%s", c->name);
	r->pkts = c->n;
	r->flows = created;
	r->nw = nw;
	r->mpps = agg_pps / 1e6;
	r->mpps_wrk = r->mpps / nw;
	r->ns_pkt = pk_all ? flow_secs * 1e9 / (double)pk_all : 0;
	r->dec_ns = dpk_all ? dec_secs * 1e9 / (double)dpk_all : 0;
	r->flow_ns = r->ns_pkt - r->dec_ns;
	r->gbps = agg_bps / 1e9;
	r->b_flow = (double)mem / ((double)max_flows * nw);
	r->b_live = live ? (double)mem / (double)live : 0;
	r->all64 = c->minlen == 64 && c->maxlen == 64;
	r->cpu_pct = flow_secs > 0 ? 100.0 * cpu_secs / flow_secs : 0;

	if (getenv("BENCH_FLOW_DEBUG")) {
		for (unsigned i = 0; i < nw; i++)
			fprintf(stderr,
				"  [%s w%u cpu %d] share %" PRIu64 " pkts, ~%" PRIu64 " flows, table %u; phase1 %" PRIu64
				" pkts in %.3f s (%" PRIu64 " passes), %" PRIu64 " records; phase2 %" PRIu64
				" pkts in %.3f s\n",
				c->name, i, w[i].cpu, w[i].n, w[i].flows_est, max_flows, w[i].pkts,
				(double)w[i].secs_ns / 1e9, w[i].passes, w[i].records, w[i].dpkts,
				(double)w[i].dsecs_ns / 1e9);
	}
	for (unsigned i = 0; i < nw; i++)
		flow_table_destroy(w[i].ft);
	free(buf);
	free(pk);
	free(w);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */

static void print_header(void)
{
	printf("%-30s %9s %9s %4s %7s %9s %7s %10s %8s %7s %14s %9s %5s\n", "capture", "pkts", "flows", "wrk",
	       "Mpps", "Mpps/wrk", "ns/pkt", "decode ns", "flow ns", "Gbit/s", "B/flow(table)", "B/live", "cpu%");
}

static void print_row(const struct row *r)
{
	printf("%-30.30s %9" PRIu64 " %9" PRIu64 " %4u %7.2f %9.2f %7.1f %10.1f %8.1f %7.2f %14.1f %9.1f %5.0f\n",
	       r->name, r->pkts, r->flows, r->nw, r->mpps, r->mpps_wrk, r->ns_pkt, r->dec_ns, r->flow_ns,
	       r->gbps, r->b_flow, r->b_live, r->cpu_pct);
	fflush(stdout);
}

/* Distance of a flow count from the target's 100k, as a log ratio. */
static double flows_dist(uint64_t flows)
{
	double r = (double)flows / TARGET_FLOWS;
	return r >= 1 ? r : 1 / r;
}

static void print_targets(const struct row *t1, const struct row *t2)
{
	struct flow_table_cfg cfg;
	struct flow_table *ft;
	struct ctr_block *ctr = aligned_alloc(64, sizeof(*ctr));
	struct worker dummy;
	double def = 0;

	if (t1) {
		printf("target %.0f Mpps/core for 64B over %dk flows: measured %.2f Mpps/core "
		       "(%.0f%% of target) on %s (%" PRIu64 " flows, 1 worker)",
		       TARGET_MPPS_PER_CORE, TARGET_FLOWS / 1000, t1->mpps_wrk,
		       100.0 * t1->mpps_wrk / TARGET_MPPS_PER_CORE, t1->name, t1->flows);
		if (t2)
			printf("; %.2f Mpps/core with 2 workers (%.2f Mpps total)", t2->mpps_wrk, t2->mpps);
		printf("\n");
	} else {
		printf("target %.0f Mpps/core for 64B over %dk flows: no 64-byte capture measured with 1 worker\n",
		       TARGET_MPPS_PER_CORE, TARGET_FLOWS / 1000);
	}
	if (ctr) {
		memset(ctr, 0, sizeof(*ctr));
		default_flow_cfg(&cfg, ENGINE_DEFAULT_MAX_FLOWS);
		if (flow_table_create(&ft, &cfg, ctr, count_emit, &dummy) == 0) {
			def = (double)flow_table_memory(ft) / ENGINE_DEFAULT_MAX_FLOWS;
			flow_table_destroy(ft);
		}
		free(ctr);
	}
	printf("target < %.0f B/flow: measured %.1f B per table slot with the engine's default %u slots "
	       "(sizeof(struct flow) %zu + 4 B bucket + fragment trackers)",
	       TARGET_BYTES_PER_FLOW, def, ENGINE_DEFAULT_MAX_FLOWS, sizeof(struct flow));
	if (t1)
		printf("; %.1f B per slot and %.1f B per live flow on %s (table %.0f%% full)", t1->b_flow,
		       t1->b_live, t1->name, t1->b_live > 0 ? 100.0 * t1->b_flow / t1->b_live : 0.0);
	printf(" -> %s\n", def > 0 && def < TARGET_BYTES_PER_FLOW ? "per slot: met" : "per slot: not met");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_flow [--workers N[,N...]] [--min-seconds S] [--max-flows N]\n"
		"                  [--no-csum] [--no-pin] [--no-header] [--no-target] CAPTURE...\n"
		"Measures decode + flow accounting on captures loaded into memory.\n"
		"  --workers N       worker threads; a comma list gives one row each (default 1)\n"
		"  --min-seconds S   least time per phase and row (default 2; decode-only phase: S/2)\n"
		"  --max-flows N     flow table slots per worker (default: a power of two >= 2x the\n"
		"                    flows of the worker's share, at least 1024)\n"
		"  --no-csum         do not validate checksums (the engine's -k none)\n"
		"  --no-pin          do not pin worker i to CPU i %% nproc\n"
		"  --no-header       do not print the column header\n"
		"  --no-target       do not print the lines comparing with the targets\n");
}

int main(int argc, char **argv)
{
	unsigned wl[MAX_WLIST] = { 1 }, nwl = 1;
	double min_s = 2.0;
	uint32_t max_flows = 0;
	bool pin = true, header = true, target = true, verify_csum = true;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "--workers") && v) {
			char tmp[128];
			snprintf(tmp, sizeof(tmp), "%s", v);
			nwl = 0;
			for (char *s = strtok(tmp, ","); s; s = strtok(NULL, ",")) {
				long n = strtol(s, &end, 10);
				if (*end || n < 1 || n > MAX_WORKERS || nwl == MAX_WLIST)
					die("--workers: '%s' is not a list of numbers from 1 to 64", v);
				wl[nwl++] = (unsigned)n;
			}
			if (!nwl)
				die("--workers: '%s' is empty", v);
			i++;
		} else if (!strcmp(a, "--min-seconds") && v) {
			min_s = strtod(v, &end);
			if (*end || min_s < 0 || min_s > 3600)
				die("--min-seconds: '%s' is not a number of seconds", v);
			i++;
		} else if (!strcmp(a, "--max-flows") && v) {
			unsigned long long n = strtoull(v, &end, 10);
			if (*end || n < 1 || n > (1u << 30))
				die("--max-flows: '%s' is not a number from 1 to 2^30", v);
			max_flows = (uint32_t)n;
			i++;
		} else if (!strcmp(a, "--no-csum")) {
			verify_csum = false;
		} else if (!strcmp(a, "--no-pin")) {
			pin = false;
		} else if (!strcmp(a, "--no-header")) {
			header = false;
		} else if (!strcmp(a, "--no-target")) {
			target = false;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (a[0] == '-') {
			usage(stderr);
			return 2;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}

	struct bench tmpl;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.min_ns = (uint64_t)(min_s * 1e9);
	tmpl.verify_csum = verify_csum;

	struct row t1, t2;
	bool have1 = false, have2 = false;
	uint64_t evicted = 0, noflow = 0;
	int failed = 0;

	if (header)
		print_header();
	for (; i < argc; i++) {
		struct capture c;

		if (capture_load(&c, argv[i]) != 0) {
			failed++;
			continue;
		}
		for (unsigned k = 0; k < nwl; k++) {
			struct row r;
			if (bench_one(&c, wl[k], &tmpl, max_flows, pin, &r) != 0) {
				failed++;
				continue;
			}
			print_row(&r);
			evicted += r.evicted;
			noflow += r.noflow;
			/* the target's row: 1 worker, 64-byte packets, flows nearest 100k */
			if (r.nw == 1 && r.all64 && r.flows &&
			    (!have1 || flows_dist(r.flows) < flows_dist(t1.flows))) {
				t1 = r;
				have1 = true;
				have2 = false;
			}
			if (r.nw == 2 && have1 && !strcmp(r.name, t1.name)) {
				t2 = r;
				have2 = true;
			}
		}
		capture_free(&c);
	}
	if (evicted || noflow)
		printf("note: %" PRIu64 " flows evicted and %" PRIu64 " packets without a flow: the table was "
		       "too small (--max-flows), figures include eviction\n", evicted, noflow);
	if (target)
		print_targets(have1 ? &t1 : NULL, have2 ? &t2 : NULL);
	return failed ? 1 : 0;
}
