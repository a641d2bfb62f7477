/* SPDX-License-Identifier: BSD-3-Clause */
#include "eve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ck_pr.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>

#include "flow.h"
#include "vlog.h"

struct eve_writer {
	struct eve_cfg cfg;
	FILE *f;
	struct rec_ring **rings;
	unsigned nrings;
	struct ctr_block *ctr;
	eve_collect_fn collect;
	void *collect_arg;
	pthread_t thr;
	bool started;
	int finish;
	uint64_t start_wall_ns;
	struct eve_summary sum;
	struct jbuf jb;           /* the record being formatted */
	struct eve_pending *pend; /* per ring: the alert whose bytes are arriving */
	uint64_t *alerted;        /* flow ids that alerted (ALERTED_SLOTS, open addressing) */
	struct eve_sig_count *sigs;   /* per signature counts (SIG_SLOTS) */
	struct alert_batch {          /* this pass's alert lines, for cfg.alert_lines */
		char *buf;            /* the lines, each NUL-terminated */
		size_t len, cap;
		size_t *off;          /* where each starts in buf */
		const char **lines;
		size_t n, ncap;
		uint64_t first_ns;    /* when the oldest line was added (monotonic) */
	} ab;
	pthread_mutex_t retire_mu;    /* guards retire */
	struct eve_retire *retire;
	int have_retire;              /* retire != NULL, read without the lock */
};

/* An engine waiting to be freed (eve_writer_retire). */
struct eve_retire {
	const void *engine;
	void (*free_fn)(void *);
	void *arg;
	uint32_t *snap;           /* per ring: records produced when it was retired */
	struct eve_retire *next;
};

#define ALERTED_SLOTS 65536u
#define SIG_SLOTS 4096u

struct eve_pending {
	bool active;
	struct out_alert a;
	uint8_t *buf;
	uint32_t have, need, cap;
};

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void eve_format_ts(uint64_t ns, char *buf, size_t len)
{
	/* a flow's start and end are usually in one of the last two seconds
	 * formatted: keep both (per thread) and skip gmtime/strftime */
	static _Thread_local time_t cs[2] = { -1, -1 };
	static _Thread_local char cb[2][32];
	static _Thread_local size_t cn[2];
	static _Thread_local unsigned next;
	time_t s = (time_t)(ns / 1000000000ULL);
	int i = cs[0] == s ? 0 : cs[1] == s ? 1 : -1;
	size_t n;

	if (i < 0) {
		struct tm tm;
		i = (int)next;
		next ^= 1;
		gmtime_r(&s, &tm);
		cn[i] = strftime(cb[i], sizeof(cb[i]), "%Y-%m-%dT%H:%M:%S", &tm);
		cs[i] = s;
	}
	n = cn[i];
	if (len < n + 16) {   /* ".uuuuuu+0000" and NUL */
		snprintf(buf, len, "%s", cb[i]);
		return;
	}
	memcpy(buf, cb[i], n);
	unsigned us = (unsigned)((ns % 1000000000ULL) / 1000);
	buf[n] = '.';
	for (int k = 6; k >= 1; k--) {
		buf[n + (size_t)k] = (char)('0' + us % 10);
		us /= 10;
	}
	memcpy(buf + n + 7, "+0000", 6);
}

void eve_addr_str(const uint8_t *a, uint8_t ipver, char *buf, size_t len)
{
	if (ipver != 4 || len < 16) {
		inet_ntop(ipver == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len);
		return;
	}
	/* glibc formats IPv4 through sprintf; this is the common case */
	char *o = buf;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 3 ? '.' : 0;
	}
}

const char *eve_proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 1: return "ICMP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 58: return "IPv6-ICMP";
	case 132: return "SCTP";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

/* ICMP "ports" for the Community ID: type and the type it pairs with. */
static bool icmp_ports(const struct out_flow *f, uint16_t *sp, uint16_t *dp)
{
	static const int8_t v4[256] = { [8] = 0, [0] = 8, [13] = 14, [14] = 13, [15] = 16, [16] = 15,
					[17] = 18, [18] = 17, [10] = 9, [9] = 10 };
	static const uint8_t v4_has[256] = { [8] = 1, [0] = 1, [13] = 1, [14] = 1, [15] = 1,
					     [16] = 1, [17] = 1, [18] = 1, [10] = 1, [9] = 1 };
	uint8_t t = f->icmp_type;

	*sp = t;
	*dp = f->icmp_code;
	if (f->proto == 1) {
		if (v4_has[t]) {
			*dp = (uint16_t)v4[t];
			return false;
		}
		return true;   /* one-way */
	}
	switch (t) {
	case 128: *dp = 129; return false;
	case 129: *dp = 128; return false;
	case 133: *dp = 134; return false;
	case 134: *dp = 133; return false;
	case 135: *dp = 136; return false;
	case 136: *dp = 135; return false;
	case 130: *dp = 131; return false;
	case 131: *dp = 130; return false;
	case 144: *dp = 145; return false;
	case 145: *dp = 144; return false;
	default: return true;
	}
}

void eve_community_id(const struct out_flow *f, uint16_t seed, char *buf, size_t len)
{
	uint8_t in[2 + 16 + 16 + 1 + 1 + 2 + 2];
	size_t alen = f->ipver == 4 ? 4 : 16, n = 0;
	uint16_t sp = f->sport, dp = f->dport;
	const uint8_t *sa = f->src, *da = f->dst;
	bool has_ports = f->proto == 6 || f->proto == 17 || f->proto == 132 || f->proto == 1 ||
			 f->proto == 58;
	bool one_way = false;

	if (f->proto == 1 || f->proto == 58)
		one_way = icmp_ports(f, &sp, &dp);
	/* lower (address, port) first, except for one-way ICMP messages */
	int c = memcmp(sa, da, alen);
	if (!one_way && (c > 0 || (c == 0 && sp > dp))) {
		const uint8_t *t = sa;
		uint16_t tp = sp;
		sa = da;
		da = t;
		sp = dp;
		dp = tp;
	}
	in[n++] = (uint8_t)(seed >> 8);
	in[n++] = (uint8_t)seed;
	memcpy(in + n, sa, alen);
	n += alen;
	memcpy(in + n, da, alen);
	n += alen;
	in[n++] = f->proto;
	in[n++] = 0;
	if (has_ports) {
		in[n++] = (uint8_t)(sp >> 8);
		in[n++] = (uint8_t)sp;
		in[n++] = (uint8_t)(dp >> 8);
		in[n++] = (uint8_t)dp;
	}
	struct sha1_ctx ctx;
	uint8_t dig[SHA1_DIGEST_SIZE];
	char b64[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
	sha1_init(&ctx);
	sha1_update(&ctx, n, in);
	sha1_digest(&ctx, sizeof(dig), dig);
	base64_encode_raw(b64, sizeof(dig), dig);
	b64[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = 0;
	snprintf(buf, len, "1:%s", b64);
}

/* The flow record, written straight into b (see jbuf.h for why). */
static void flow_format(struct jbuf *b, const struct out_rec *r, uint16_t seed, bool alerted)
{
	const struct out_flow *f = &r->u.flow;
	char ts[64], a[INET6_ADDRSTRLEN], pb[8], cid[64];
	bool ports = f->proto == 6 || f->proto == 17 || f->proto == 132;

	jb_open(b, NULL);
	eve_format_ts(f->first_ns, ts, sizeof(ts));
	jb_kstr(b, "timestamp", ts);
	jb_ku64(b, "flow_id", f->flow_id);
	jb_kstr(b, "event_type", "flow");
	if (f->vlan) {
		char v[16];
		int n = snprintf(v, sizeof(v), "[%u]", f->vlan);
		jb_key(b, "vlan");
		jb_raw(b, v, (size_t)n);
	}
	eve_addr_str(f->src, f->ipver, a, sizeof(a));
	jb_kstr(b, "src_ip", a);
	if (ports)
		jb_ku64(b, "src_port", f->sport);
	eve_addr_str(f->dst, f->ipver, a, sizeof(a));
	jb_kstr(b, "dest_ip", a);
	if (ports)
		jb_ku64(b, "dest_port", f->dport);
	jb_kstr(b, "proto", eve_proto_name(f->proto, pb, sizeof(pb)));
	if (f->proto == 1 || f->proto == 58) {
		jb_ku64(b, "icmp_type", f->icmp_type);
		jb_ku64(b, "icmp_code", f->icmp_code);
	}
	if (f->tunnel_id)
		jb_ku64(b, "tunnel_id", f->tunnel_id);

	jb_open(b, "flow");
	jb_ku64(b, "pkts_toserver", f->pkts_ts);
	jb_ku64(b, "pkts_toclient", f->pkts_tc);
	jb_ku64(b, "bytes_toserver", f->bytes_ts);
	jb_ku64(b, "bytes_toclient", f->bytes_tc);
	jb_kstr(b, "start", ts);
	eve_format_ts(f->last_ns, ts, sizeof(ts));
	jb_kstr(b, "end", ts);
	jb_ku64(b, "age", (f->last_ns - f->first_ns) / 1000000000ULL);
	jb_kstr(b, "state", flow_state_name((enum flow_st)f->state));
	jb_kstr(b, "reason", flow_reason_name((enum flow_end_reason)f->reason));
	jb_kbool(b, "alerted", alerted);
	jb_close(b);

	if (f->proto == 6) {
		static const char *const names[] = { "fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr" };
		uint8_t all = f->tcp_flags_ts | f->tcp_flags_tc;
		char hx[4];
		jb_open(b, "tcp");
		snprintf(hx, sizeof(hx), "%02x", all);
		jb_kstr(b, "tcp_flags", hx);
		snprintf(hx, sizeof(hx), "%02x", f->tcp_flags_ts);
		jb_kstr(b, "tcp_flags_ts", hx);
		snprintf(hx, sizeof(hx), "%02x", f->tcp_flags_tc);
		jb_kstr(b, "tcp_flags_tc", hx);
		for (int i = 0; i < 8; i++)
			if (all & (1u << i))
				jb_kbool(b, names[i], true);
		jb_kstr(b, "state", flow_tcp_state_name((enum flow_tcp_state)f->tcp_state));
		jb_close(b);
	}
	eve_community_id(f, seed, cid, sizeof(cid));
	jb_kstr(b, "community_id", cid);
	jb_close(b);
}

bool eve_format_record(struct jbuf *b, const struct out_rec *r, uint16_t community_seed)
{
	jb_reset(b);
	switch (r->type) {
	case OUT_REC_FLOW:
		flow_format(b, r, community_seed, false);
		break;
	default:
		return false;
	}
	return !b->oom;
}

/* Nested object for a dotted counter name, creating levels as needed. */
static void stats_put(json_t *root, const char *dotted, uint64_t v)
{
	char key[128];
	json_t *cur = root;
	char *save = NULL, *tok, *next;

	snprintf(key, sizeof(key), "%s", dotted);
	tok = strtok_r(key, ".", &save);
	while (tok) {
		next = strtok_r(NULL, ".", &save);
		if (!next) {
			json_object_set_new(cur, tok, json_integer((json_int_t)v));
			break;
		}
		json_t *sub = json_object_get(cur, tok);
		if (!sub) {
			sub = json_object();
			json_object_set_new(cur, tok, sub);
		}
		cur = sub;
		tok = next;
	}
}

static void write_line(struct eve_writer *w, const char *s, size_t n)
{
	if (fwrite(s, 1, n, w->f) != n || fputc('\n', w->f) == EOF)
		ctr_inc(w->ctr, CTR_OUT_WRITE_ERR);
	else
		ctr_inc(w->ctr, CTR_OUT_WRITTEN);
}

/* Keeps a copy of the alert line for the end of this pass; false when
 * memory ran out (the alert is then not handed on, and counted). */
static bool batch_add(struct alert_batch *ab, const char *s, size_t n)
{
	if (ab->n == ab->ncap) {
		size_t nc = ab->ncap ? ab->ncap * 2 : 64;
		size_t *no = realloc(ab->off, nc * sizeof(*no));
		if (!no)
			return false;
		ab->off = no;
		const char **nl = realloc(ab->lines, nc * sizeof(*nl));
		if (!nl)
			return false;
		ab->lines = nl;
		ab->ncap = nc;
	}
	if (ab->cap - ab->len < n + 1) {
		size_t nc = ab->cap ? ab->cap : 1 << 16;
		while (nc - ab->len < n + 1)
			nc *= 2;
		char *nb = realloc(ab->buf, nc);
		if (!nb)
			return false;
		ab->buf = nb;
		ab->cap = nc;
	}
	if (!ab->n)
		ab->first_ns = now_ns(CLOCK_MONOTONIC);
	ab->off[ab->n++] = ab->len;
	memcpy(ab->buf + ab->len, s, n);
	ab->buf[ab->len + n] = '\0';
	ab->len += n + 1;
	return true;
}

/* Hands this pass's alert lines on, in one call. */
static void batch_flush(struct eve_writer *w)
{
	struct alert_batch *ab = &w->ab;

	if (!ab->n)
		return;
	for (size_t i = 0; i < ab->n; i++)   /* buf may have moved while adding */
		ab->lines[i] = ab->buf + ab->off[i];
	w->cfg.alert_lines(w->cfg.alert_lines_arg, ab->lines, ab->n);
	ab->n = 0;
	ab->len = 0;
}

static void publish(struct eve_writer *w)
{
	struct ctr_block sum;
	uint64_t memuse = 0;

	if (!w->cfg.publish)
		return;
	memset(&sum, 0, sizeof(sum));
	w->collect(w->collect_arg, &sum, &memuse);
	w->cfg.publish(w->cfg.publish_arg, &sum);
}

static void write_stats(struct eve_writer *w)
{
	struct ctr_block sum;
	uint64_t memuse = 0;
	char ts[64];

	memset(&sum, 0, sizeof(sum));
	w->collect(w->collect_arg, &sum, &memuse);
	json_t *o = json_object(), *st = json_object();
	eve_format_ts(now_ns(CLOCK_REALTIME), ts, sizeof(ts));
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "event_type", json_string("stats"));
	json_object_set_new(st, "uptime",
			    json_integer((json_int_t)((now_ns(CLOCK_REALTIME) - w->start_wall_ns) / 1000000000ULL)));
	for (int i = 0; i < CTR__COUNT; i++)
		stats_put(st, ctr_name((enum ctr_id)i), sum.v[i]);
	stats_put(st, "flow.memuse", memuse);
	json_object_set_new(o, "stats", st);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s && w->f && w->cfg.stats)
		write_line(w, s, strlen(s));
	free(s);
}

static void note_flow(struct eve_writer *w, const struct out_flow *f)
{
	struct eve_summary *s = &w->sum;
	uint64_t b = f->bytes_ts + f->bytes_tc;

	s->flows++;
	s->flows_by_proto[f->proto == 6 ? 0 : f->proto == 17 ? 1 : (f->proto == 1 || f->proto == 58) ? 2 : 3]++;
	if (s->ntop < EVE_TOP_FLOWS) {
		s->top[s->ntop++] = *f;
	} else {
		unsigned mi = 0;
		for (unsigned i = 1; i < s->ntop; i++)
			if (s->top[i].bytes_ts + s->top[i].bytes_tc < s->top[mi].bytes_ts + s->top[mi].bytes_tc)
				mi = i;
		if (b > s->top[mi].bytes_ts + s->top[mi].bytes_tc)
			s->top[mi] = *f;
	}
}

/* The set of flows that alerted, for the flow record's "alerted". */
static bool alerted_take(struct eve_writer *w, uint64_t id, bool insert)
{
	if (!w->alerted || !id)
		return false;
	for (uint32_t i = 0; i < 16; i++) {
		uint64_t *e = &w->alerted[(id * 0x9e3779b97f4a7c15ULL + i) & (ALERTED_SLOTS - 1)];
		if (*e == id) {
			if (!insert)
				*e = 0;
			return true;
		}
		if (insert && !*e) {
			*e = id;
			return true;
		}
	}
	return false;
}

static void note_sig(struct eve_writer *w, const struct eve_rule_info *ri)
{
	if (!w->sigs)
		return;
	uint64_t h = ((uint64_t)ri->gid << 32 | ri->sid) * 0x9e3779b97f4a7c15ULL;
	for (uint32_t i = 0; i < 64; i++) {
		struct eve_sig_count *e = &w->sigs[(h + i) & (SIG_SLOTS - 1)];
		if (e->n && (e->gid != ri->gid || e->sid != ri->sid))
			continue;
		if (!e->n) {
			e->gid = ri->gid;
			e->sid = ri->sid;
			snprintf(e->msg, sizeof(e->msg), "%s", ri->msg);
		}
		e->n++;
		return;
	}
}

static void alert_finish(struct eve_writer *w, struct eve_pending *pa)
{
	struct eve_rule_info ri;

	pa->active = false;
	if (!w->cfg.alert_fn)
		return;
	if (!w->cfg.alert_fn(w->cfg.alert_arg, &pa->a, &ri)) {
		w->sum.alerts_suppressed++;
		return;
	}
	w->sum.alerts++;
	note_sig(w, &ri);
	if (pa->a.flags & OUT_ALERT_F_FLOW)
		alerted_take(w, pa->a.flow_id, true);
	bool to_file = w->f && w->cfg.alerts;
	if (!to_file && !w->cfg.alert_lines)
		return;
	if (!eve_format_alert(&w->jb, &pa->a, &ri, pa->buf, pa->have, w->cfg.community_id_seed)) {
		ctr_inc(w->ctr, CTR_OUT_WRITE_ERR);
		return;
	}
	if (to_file)
		write_line(w, w->jb.p, w->jb.len);
	if (w->cfg.alert_lines && !batch_add(&w->ab, w->jb.p, w->jb.len))
		ctr_inc(w->ctr, CTR_OUT_WRITE_ERR);
}

static void handle_record(struct eve_writer *w, struct eve_pending *pa, const struct out_rec *r)
{
	if (r->type == OUT_REC_BYTES) {
		if (!pa->active)
			return;
		uint32_t n = r->u.bytes.n < pa->need - pa->have ? r->u.bytes.n : pa->need - pa->have;
		memcpy(pa->buf + pa->have, r->u.bytes.b, n);
		pa->have += n;
		if (pa->have == pa->need)
			alert_finish(w, pa);
		return;
	}
	if (pa->active)
		alert_finish(w, pa);   /* its bytes were lost (live input, full ring) */
	if (r->type == OUT_REC_ALERT) {
		uint32_t need = r->u.alert.payload_len + r->u.alert.packet_len;
		if (need > pa->cap) {
			uint8_t *nb = realloc(pa->buf, need);
			if (!nb) {
				ctr_inc(w->ctr, CTR_OUT_WRITE_ERR);
				return;
			}
			pa->buf = nb;
			pa->cap = need;
		}
		pa->active = true;
		pa->a = r->u.alert;
		pa->have = 0;
		pa->need = need;
		if (!need)
			alert_finish(w, pa);
		return;
	}
	if (r->type != OUT_REC_FLOW)
		return;
	note_flow(w, &r->u.flow);
	bool alerted = r->u.flow.reason == FLOW_END_ACTIVE ? alerted_take(w, r->u.flow.flow_id, true)
							    : alerted_take(w, r->u.flow.flow_id, false);
	bool to_file = w->f && w->cfg.flows, to_sink = alerted && w->cfg.alert_lines;
	if (!to_file && !to_sink)
		return;
	jb_reset(&w->jb);
	flow_format(&w->jb, r, w->cfg.community_id_seed, alerted);
	if (w->jb.oom) {
		ctr_inc(w->ctr, CTR_OUT_WRITE_ERR);
		return;
	}
	if (to_file)
		write_line(w, w->jb.p, w->jb.len);
	if (to_sink && !batch_add(&w->ab, w->jb.p, w->jb.len))
		ctr_inc(w->ctr, CTR_OUT_WRITE_ERR);
}

/* Output thread: frees the retired engines nothing refers to any more
 * (ALL: every one, the producers are done). */
static void retire_run(struct eve_writer *w, bool all)
{
	struct eve_retire **pp, *r, *done = NULL;

	if (!ck_pr_load_int(&w->have_retire))
		return;
	pthread_mutex_lock(&w->retire_mu);
	for (pp = &w->retire; (r = *pp);) {
		bool busy = false;
		for (unsigned i = 0; !all && i < w->nrings && !busy; i++)
			busy = (int32_t)(rec_ring_consumed(w->rings[i]) - r->snap[i]) < 0 ||
			       (w->pend[i].active && w->pend[i].a.engine == r->engine);
		if (busy) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		r->next = done;
		done = r;
	}
	ck_pr_store_int(&w->have_retire, w->retire != NULL);
	pthread_mutex_unlock(&w->retire_mu);
	while ((r = done)) {
		done = r->next;
		r->free_fn(r->arg);
		free(r->snap);
		free(r);
	}
}

int eve_writer_retire(struct eve_writer *w, const void *engine, void (*free_fn)(void *), void *arg)
{
	struct eve_retire *r = calloc(1, sizeof(*r));

	if (r)
		r->snap = calloc(w->nrings ? w->nrings : 1, sizeof(*r->snap));
	if (!r || !r->snap) {
		free(r);
		return -ENOMEM;
	}
	r->engine = engine;
	r->free_fn = free_fn;
	r->arg = arg;
	for (unsigned i = 0; i < w->nrings; i++)
		r->snap[i] = rec_ring_produced(w->rings[i]);
	pthread_mutex_lock(&w->retire_mu);
	r->next = w->retire;
	w->retire = r;
	ck_pr_store_int(&w->have_retire, 1);
	pthread_mutex_unlock(&w->retire_mu);
	return 0;
}

static int cmp_sig(const void *a, const void *b)
{
	const struct eve_sig_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return x->sid < y->sid ? -1 : x->sid > y->sid;
}

static void *eve_thread(void *arg)
{
	struct eve_writer *w = arg;
	struct out_rec recs[64];
	uint64_t next_stats = w->cfg.stats_interval_ns ? now_ns(CLOCK_MONOTONIC) + w->cfg.stats_interval_ns : 0;
	uint64_t next_pub = now_ns(CLOCK_MONOTONIC);
	unsigned idle = 0;

	for (;;) {
		int finishing = ck_pr_load_int(&w->finish);
		uint32_t total = 0;

		for (unsigned i = 0; i < w->nrings; i++) {
			uint32_t n = rec_ring_dequeue_burst(w->rings[i], recs, 64);
			for (uint32_t j = 0; j < n; j++)
				handle_record(w, &w->pend[i], &recs[j]);
			total += n;
		}
		/* Batches bound the consumer's per-call cost (an fsync) without
		 * holding an alert back for long: hand on when the rings ran dry,
		 * at 4096 lines, or 100 ms after the oldest. */
		if (w->ab.n && (!total || w->ab.n >= 4096 ||
				now_ns(CLOCK_MONOTONIC) - w->ab.first_ns >= 100000000ULL))
			batch_flush(w);
		retire_run(w, false);
		if (w->cfg.publish && now_ns(CLOCK_MONOTONIC) >= next_pub) {
			publish(w);
			next_pub = now_ns(CLOCK_MONOTONIC) + 1000000000ULL;
		}
		if (next_stats && now_ns(CLOCK_MONOTONIC) >= next_stats) {
			write_stats(w);
			if (w->f)
				fflush(w->f);
			next_stats += w->cfg.stats_interval_ns;
		}
		if (total) {
			idle = 0;
			continue;
		}
		if (finishing)
			break;   /* producers were done before this empty pass */
		if (++idle < 64) {
			sched_yield();
		} else {
			struct timespec ts = { 0, 200000 };
			nanosleep(&ts, NULL);
			if (w->f && idle == 64)
				fflush(w->f);
		}
	}
	for (unsigned i = 0; i < w->nrings; i++)
		if (w->pend[i].active)
			alert_finish(w, &w->pend[i]);
	batch_flush(w);
	retire_run(w, true);
	publish(w);
	if (w->sigs) {
		qsort(w->sigs, SIG_SLOTS, sizeof(*w->sigs), cmp_sig);
		for (unsigned i = 0; i < EVE_TOP_SIGS && w->sigs[i].n; i++)
			w->sum.sigs[w->sum.nsigs++] = w->sigs[i];
	}
	write_stats(w);
	if (w->f)
		fflush(w->f);
	return NULL;
}

int eve_writer_create(struct eve_writer **out, const struct eve_cfg *cfg, struct rec_ring **rings,
		      unsigned nrings, struct ctr_block *ctr, eve_collect_fn collect,
		      void *collect_arg, char *err, size_t errlen)
{
	struct eve_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->cfg = *cfg;
	w->rings = rings;
	w->nrings = nrings;
	w->ctr = ctr;
	w->collect = collect;
	w->collect_arg = collect_arg;
	w->start_wall_ns = now_ns(CLOCK_REALTIME);
	pthread_mutex_init(&w->retire_mu, NULL);
	w->pend = calloc(nrings ? nrings : 1, sizeof(*w->pend));
	w->alerted = calloc(ALERTED_SLOTS, sizeof(*w->alerted));
	w->sigs = calloc(SIG_SLOTS, sizeof(*w->sigs));
	if (!w->pend || !w->alerted || !w->sigs) {
		free(w->pend);
		free(w->alerted);
		free(w->sigs);
		free(w);
		return -ENOMEM;
	}
	if (cfg->path) {
		w->f = fopen(cfg->path, "a");
		if (!w->f) {
			int e = errno;
			snprintf(err, errlen, "%s: cannot open for writing: %s", cfg->path, strerror(e));
			free(w->pend);
			free(w->alerted);
			free(w->sigs);
			free(w);
			return -e;
		}
		setvbuf(w->f, NULL, _IOFBF, 1 << 20);
	}
	*out = w;
	return 0;
}

int eve_writer_start(struct eve_writer *w)
{
	int rc = pthread_create(&w->thr, NULL, eve_thread, w);

	if (rc)
		return -rc;
	w->started = true;
	return 0;
}

void eve_writer_finish(struct eve_writer *w)
{
	if (!w->started)
		return;
	ck_pr_store_int(&w->finish, 1);
	pthread_join(w->thr, NULL);
	w->started = false;
}

void eve_writer_summary(const struct eve_writer *w, struct eve_summary *s)
{
	*s = w->sum;
}

void eve_writer_destroy(struct eve_writer *w)
{
	if (!w)
		return;
	eve_writer_finish(w);
	retire_run(w, true);   /* never started, or retired after the end */
	pthread_mutex_destroy(&w->retire_mu);
	if (w->f)
		fclose(w->f);
	jb_fini(&w->jb);
	for (unsigned i = 0; i < w->nrings; i++)
		free(w->pend[i].buf);
	free(w->pend);
	free(w->alerted);
	free(w->sigs);
	free(w->ab.buf);
	free(w->ab.off);
	free(w->ab.lines);
	free(w);
}
