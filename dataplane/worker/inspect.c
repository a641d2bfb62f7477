/* SPDX-License-Identifier: BSD-3-Clause */
#include "inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ALERTS_MAX 16
#define WIN_DATA 65536u          /* new stream bytes inspected per window */
#define SLOT_NIL UINT32_MAX

enum {
	IS_SYN = 1u << 0,            /* the session began with a SYN: reassembled */
	IS_MID = 1u << 1,            /* picked up mid-stream and reassembled (stream.midstream) */
	IS_UNTRACKED = 1u << 2,      /* picked up mid-stream, not reassembled */
	IS_TLS_OFF = 1u << 3,        /* a direction's stream is not (or no longer followed as) TLS */
	IS_TLS_APP0 = 1u << 4,       /* TLS application data seen to the server */
	IS_TLS_APP1 = 1u << 5,       /* ... and to the client */
	IS_BYPASSED = 1u << 6,       /* handed to the bypass: once */
	IS_BYPASS_FAILED = 1u << 7,  /* the bypass refused it: not again */
};

struct islot {
	struct stream_dir sd[2];
	struct detect_flow dfl;
	uint32_t tls_left[2];        /* bytes of the current TLS record still to come */
	uint16_t carry_len[2];
	uint8_t flags;
	uint32_t next_free;
};

struct inspect {
	struct inspect_cfg cfg;
	const struct detect_engine *de;
	struct detect_thread *dt;
	struct stream_pool *sp;
	struct defrag *dfr;
	struct flow_table *ft;
	struct ctr_block *ctr;
	inspect_alert_fn emit;
	void *arg;
	inspect_bypass_fn bypass;    /* NULL: no bypass */
	void *bypass_arg;
	struct islot *slots;
	uint8_t *carry;              /* [slot][direction][cfg.carry] */
	uint32_t free_head;
	uint32_t live;               /* slots in use */
	uint8_t *win;                /* cfg.carry + WIN_DATA */
	struct detect_alert al[ALERTS_MAX];
	/* the delivery in progress (stream callback context) */
	const struct pkt *cur_p;
	struct flow *cur_f;
	struct islot *cur_s;
	int cur_d;
	uint64_t cur_cnt;
	bool cur_nopkt;
	bool cur_quiet;              /* keep the bytes as carry, do not inspect them */
};

int inspect_create(struct inspect **out, const struct inspect_cfg *cfg,
		   const struct detect_engine *de, struct detect_thread *dt, struct flow_table *ft,
		   struct ctr_block *ctr, inspect_alert_fn emit, void *arg)
{
	struct inspect *in = calloc(1, sizeof(*in));
	int rc = -ENOMEM;

	*out = NULL;
	if (!in)
		return -ENOMEM;
	in->cfg = *cfg;
	in->de = de;
	in->dt = dt;
	in->ft = ft;
	in->ctr = ctr;
	in->emit = emit;
	in->arg = arg;
	if (!cfg->sessions) {
		rc = -EINVAL;
		goto fail;
	}
	in->slots = calloc(cfg->sessions, sizeof(*in->slots));
	in->carry = malloc((size_t)cfg->sessions * 2 * (cfg->carry ? cfg->carry : 1));
	in->win = malloc((size_t)cfg->carry + WIN_DATA);
	if (!in->slots || !in->carry || !in->win)
		goto fail;
	for (uint32_t i = 0; i < cfg->sessions; i++)
		in->slots[i].next_free = i + 1 < cfg->sessions ? i + 1 : SLOT_NIL;
	in->free_head = 0;
	if ((rc = stream_pool_create(&in->sp, &cfg->stream, ctr)) ||
	    (rc = defrag_create(&in->dfr, &cfg->defrag, ctr)))
		goto fail;
	*out = in;
	return 0;
fail:
	inspect_destroy(in);
	return rc;
}

void inspect_destroy(struct inspect *in)
{
	if (!in)
		return;
	if (in->slots && in->sp)
		for (uint32_t i = 0; i < in->cfg.sessions; i++)
			for (int d = 0; d < 2; d++)
				stream_dir_fini(in->sp, &in->slots[i].sd[d]);
	stream_pool_destroy(in->sp);
	defrag_destroy(in->dfr);
	free(in->slots);
	free(in->carry);
	free(in->win);
	free(in);
}

void inspect_set_bypass(struct inspect *in, inspect_bypass_fn fn, void *arg)
{
	in->bypass = fn;
	in->bypass_arg = arg;
}

void inspect_set_engine(struct inspect *in, const struct detect_engine *de, struct detect_thread *dt)
{
	in->de = de;
	in->dt = dt;
}

const struct detect_engine *inspect_engine(const struct inspect *in)
{
	return in->de;
}

size_t inspect_memory(const struct inspect *in)
{
	return (size_t)in->cfg.sessions * (sizeof(struct islot) + 2u * in->cfg.carry) +
	       stream_pool_memory(in->sp) + defrag_memory(in->dfr) + in->cfg.carry + WIN_DATA;
}

/* ------------------------------------------------------------ slots */

static struct islot *slot_of(struct inspect *in, const struct flow *f)
{
	return f && f->xs ? &in->slots[f->xs - 1] : NULL;
}

static struct islot *slot_new(struct inspect *in, struct flow *f)
{
	uint32_t i = in->free_head;

	if (i == SLOT_NIL)
		return NULL;
	struct islot *s = &in->slots[i];
	in->free_head = s->next_free;
	memset(s, 0, sizeof(*s));
	stream_dir_init(&s->sd[0]);
	stream_dir_init(&s->sd[1]);
	f->xs = i + 1;
	in->live++;
	return s;
}

static void slot_free(struct inspect *in, struct flow *f)
{
	struct islot *s = slot_of(in, f);

	if (!s)
		return;
	stream_dir_fini(in->sp, &s->sd[0]);
	stream_dir_fini(in->sp, &s->sd[1]);
	s->next_free = in->free_head;
	in->free_head = f->xs - 1;
	f->xs = 0;
	in->live--;
}

/* ---------------------------------------------------------- helpers */

static bool established(const struct inspect *in, const struct flow *f)
{
	if (f->key.proto == 6) {
		if ((f->fl & FLOW_F_MIDSTREAM) && !in->cfg.midstream)
			return false;
		/* as Suricata: a FIN ends "established" (the FIN packet included) */
		return f->tcp_state == FLOW_TCP_ESTABLISHED;
	}
	return f->state == FLOW_ST_ESTABLISHED;
}

static uint32_t flow_flags(const struct inspect *in, const struct flow *f, int toserver)
{
	uint32_t fl = 0;

	if (f) {
		fl |= DETECT_F_FLOW;
		if (!toserver)
			fl |= DETECT_F_TOCLIENT;
		if (established(in, f))
			fl |= DETECT_F_ESTABLISHED;
	}
	return fl;
}

/* The flow needs no more inspection: hand it to the bypass (once).  The
 * slot remembers it (a flow without one gets one; without a free slot it
 * is not bypassed: its packets would be counted nowhere). */
static void bypass(struct inspect *in, struct flow *f, struct islot *s, enum ctr_id why)
{
	if (!in->bypass || (s && (s->flags & (IS_BYPASSED | IS_BYPASS_FAILED))))
		return;
	if (!s && !(s = slot_new(in, f))) {
		ctr_inc(in->ctr, CTR_BYPASS_ERR);
		return;
	}
	ctr_inc(in->ctr, why);
	if (in->bypass(in->bypass_arg, f)) {
		s->flags |= IS_BYPASSED;
	} else {
		s->flags |= IS_BYPASS_FAILED;
		ctr_inc(in->ctr, CTR_BYPASS_ERR);
	}
}

bool inspect_bypassed(const struct inspect *in, const struct flow *f)
{
	const struct islot *s = f->xs ? &in->slots[f->xs - 1] : NULL;

	return s && (s->flags & IS_BYPASSED);
}

static void verdict(struct inspect *in, struct flow *f, uint32_t res)
{
	if (!f)
		return;
	if ((res & DETECT_R_PASS_FLOW) && !(f->fl & FLOW_F_PASS)) {
		f->fl |= FLOW_F_PASS;
		bypass(in, f, slot_of(in, f), CTR_BYPASS_PASS);
	}
	if ((res & DETECT_R_DROP) && !(f->fl & FLOW_F_DROP)) {
		f->fl |= FLOW_F_DROP;
		ctr_inc(in->ctr, CTR_DETECT_DROP_FLOWS);
	}
}

static void emit_all(struct inspect *in, unsigned n, struct inspect_alert *ia)
{
	for (unsigned i = 0; i < n; i++) {
		ia->a = &in->al[i];
		ctr_inc(in->ctr, CTR_DETECT_ALERTS);
		in->emit(in->arg, ia);
	}
}

/* ----------------------------------------------------------- stream */

static void stream_inspect(struct inspect *in, const uint8_t *buf, uint32_t len, uint32_t new_from)
{
	struct flow *f = in->cur_f;
	int toserver = in->cur_d == 0;
	struct detect_input di = {
		.p = in->cur_p, .buf = buf, .len = len, .new_from = new_from,
		.flags = flow_flags(in, f, toserver) | DETECT_F_STREAM | DETECT_F_STREAM_TRACKED,
		.df = &in->cur_s->dfl,
	};
	uint32_t res;
	unsigned n = detect_inspect(in->dt, &di, in->al, ALERTS_MAX, &res);

	if (n) {
		const struct pkt *p = in->cur_p;
		struct inspect_alert ia = {
			.p = p, .f = f, .toserver = toserver, .stream = true, .pcap_cnt = in->cur_cnt,
			.ts_ns = in->cur_nopkt ? f->last_ns : p->ts_ns,
			.payload = buf, .payload_len = len,
			.body = in->cur_nopkt ? NULL : p->data, .body_len = in->cur_nopkt ? 0 : p->len,
		};
		emit_all(in, n, &ia);
	}
	verdict(in, f, res);
}

/*
 * Encrypted bulk: follow the TLS record layer of each direction from its
 * first byte (type 20-23, version 3.x, length <= 2^14 + 2048); records of
 * type 23 (application data) both ways mean the handshake is over and the
 * rest is ciphertext no rule can read: bypass.  A direction that does not
 * start as TLS, breaks the framing or has a gap is not followed further.
 */
static void tls_walk(struct inspect *in, struct islot *s, int d, const uint8_t *b, uint32_t n,
		     uint64_t off, bool gap)
{
	if (!in->bypass || (s->flags & (IS_TLS_OFF | IS_BYPASSED)))
		return;
	if (gap || (off == 0 && (n < 3 || b[0] != 22 || b[1] != 3))) {
		s->flags |= IS_TLS_OFF;
		return;
	}
	while (n) {
		if (s->tls_left[d]) {
			uint32_t k = n < s->tls_left[d] ? n : s->tls_left[d];
			s->tls_left[d] -= k;
			b += k;
			n -= k;
			continue;
		}
		if (n < 5 || b[0] < 20 || b[0] > 23 || b[1] != 3) {   /* a header split across deliveries, or not TLS */
			s->flags |= IS_TLS_OFF;
			return;
		}
		uint32_t len = (uint32_t)b[3] << 8 | b[4];
		if (len > 16384 + 2048) {
			s->flags |= IS_TLS_OFF;
			return;
		}
		if (b[0] == 23)
			s->flags |= d == 0 ? IS_TLS_APP0 : IS_TLS_APP1;
		s->tls_left[d] = len;
		b += 5;
		n -= 5;
	}
	if ((s->flags & (IS_TLS_APP0 | IS_TLS_APP1)) == (IS_TLS_APP0 | IS_TLS_APP1))
		bypass(in, in->cur_f, s, CTR_BYPASS_TLS);
}

/* stream_deliver_fn: new in-order bytes of the current direction */
static void deliver(void *arg, const uint8_t *data, uint32_t len, uint64_t off, bool gap)
{
	struct inspect *in = arg;
	struct islot *s = in->cur_s;
	int d = in->cur_d;
	uint32_t cap = in->cfg.carry;
	uint8_t *carry = in->carry + ((size_t)(s - in->slots) * 2 + (size_t)d) * cap;
	uint32_t cl = gap ? 0 : s->carry_len[d];

	ctr_add(in->ctr, CTR_STREAM_BYTES, len);
	tls_walk(in, s, d, data, len, off, gap);
	while (len && !(in->cur_f->fl & FLOW_F_PASS)) {
		uint32_t take = len < WIN_DATA ? len : WIN_DATA;
		memcpy(in->win, carry, cl);
		memcpy(in->win + cl, data, take);
		if (!in->cur_quiet)
			stream_inspect(in, in->win, cl + take, cl);
		uint32_t total = cl + take, keep = total < cap ? total : cap;
		memcpy(carry, in->win + total - keep, keep);
		cl = keep;
		data += take;
		len -= take;
	}
	s->carry_len[d] = (uint16_t)cl;
}

/* Whether the session's stream is reassembled; sets the direction's base. */
static bool stream_setup(struct inspect *in, struct islot *s, const struct pkt *p, int d)
{
	if (s->flags & IS_UNTRACKED)
		return false;
	if (!(s->flags & (IS_SYN | IS_MID))) {
		if (p->tcp_flags & 0x02) {
			s->flags |= IS_SYN;
		} else if (in->cfg.midstream) {
			s->flags |= IS_MID;
			ctr_inc(in->ctr, CTR_STREAM_MIDSTREAM);
		} else {
			s->flags |= IS_UNTRACKED;
			return false;
		}
	}
	if (!stream_dir_has_base(&s->sd[d])) {
		bool syn = p->tcp_flags & 0x02, ack = p->tcp_flags & 0x10;
		if (syn && (d == 0) == !ack)   /* the client's SYN, the server's SYN/ACK */
			stream_dir_set_base(&s->sd[d], p->tcp_seq + 1);
		else if (!syn && p->payload_len)
			stream_dir_set_base(&s->sd[d], p->tcp_seq);
	}
	return true;
}

/* ----------------------------------------------------------- packets */

static void inspect_one(struct inspect *in, const struct pkt *p, struct flow *f, int toserver,
			uint64_t cnt, const uint8_t *head, uint32_t head_len, bool reassembled)
{
	if (f && (f->fl & FLOW_F_PASS)) {
		ctr_inc(in->ctr, CTR_DETECT_PASSED);
		return;
	}
	uint32_t fl = flow_flags(in, f, toserver);
	struct islot *s = slot_of(in, f);
	bool tcp = f && p->proto == 6 && (p->flags & PKT_F_L4) && !(p->flags & PKT_F_FRAG);
	bool tracked = false;
	int d = toserver ? 0 : 1;

	if (p->flags & PKT_F_FRAG)
		fl |= DETECT_F_FRAG;
	if (reassembled)
		fl |= DETECT_F_REASSEMBLED;
	else if (!f || f->pkts[d] == 1)
		fl |= DETECT_F_IPONLY;   /* the first packet of its direction */
	if (tcp) {
		if (!s) {
			s = slot_new(in, f);
			ctr_inc(in->ctr, s ? CTR_STREAM_SESSIONS : CTR_STREAM_NO_SESSION);
		}
		if (s)
			tracked = stream_setup(in, s, p, d);
	}
	/* before the handshake completes, payloads are inspected as packets (as
	 * Suricata does) and enter the stream without being inspected again */
	bool quiet = tracked && !(s->flags & IS_MID) && f->tcp_state < FLOW_TCP_ESTABLISHED;
	if (tracked && !quiet)
		fl |= DETECT_F_STREAM_TRACKED;

	struct detect_flow tmp = { 0 };
	struct detect_input di = {
		.p = p, .buf = p->data + p->payload_off, .len = p->payload_len, .new_from = 0,
		.flags = fl, .df = f ? (s ? &s->dfl : &tmp) : NULL,
	};
	uint32_t res;
	unsigned n = detect_inspect(in->dt, &di, in->al, ALERTS_MAX, &res);
	if (n) {
		struct inspect_alert ia = {
			.p = p, .f = f, .toserver = toserver, .stream = false, .pcap_cnt = cnt,
			.ts_ns = p->ts_ns, .payload = di.buf, .payload_len = di.len,
			.head = head, .head_len = head_len, .body = p->data, .body_len = p->len,
		};
		emit_all(in, n, &ia);
	}
	verdict(in, f, res);
	if (f && !s && tmp.nbits && (s = slot_new(in, f)))
		s->dfl = tmp;   /* flowbits set on a flow without state yet */
	if (res & DETECT_R_PASS) {
		ctr_inc(in->ctr, CTR_DETECT_PASSED);
		quiet = true;   /* the packet is passed: its bytes enter the stream uninspected */
	}

	if (!tracked || (f->fl & FLOW_F_PASS))
		return;
	if ((p->tcp_flags & 0x12) == 0x02 && d == 1)
		return;   /* a SYN from the server: not part of the session's stream */
	in->cur_p = p;
	in->cur_f = f;
	in->cur_s = s;
	in->cur_d = d;
	in->cur_cnt = cnt;
	in->cur_nopkt = false;
	in->cur_quiet = quiet;
	if (p->payload_len) {
		stream_dir_add(in->sp, &s->sd[d], p->tcp_seq + ((p->tcp_flags & 0x02) ? 1 : 0),
			       p->data + p->payload_off, p->payload_len, deliver, in);
		if (stream_dir_done(&s->sd[0]) && stream_dir_done(&s->sd[1]))
			bypass(in, f, s, CTR_BYPASS_DEPTH);
	}
	if (p->tcp_flags & 0x05)   /* FIN or RST: nothing fills the gaps any more */
		while (stream_dir_chunks(&s->sd[d]) && stream_dir_flush(in->sp, &s->sd[d], deliver, in))
			;
}

void inspect_packet(struct inspect *in, const struct pkt *p, struct flow *f, int toserver,
		    uint64_t pcap_cnt)
{
	uint8_t *out;
	uint32_t olen;

	inspect_one(in, p, f, toserver, pcap_cnt, NULL, 0, false);
	if (!(p->flags & PKT_F_FRAG) || defrag_feed(in->dfr, p, &out, &olen) != 1)
		return;
	/* a whole datagram: inspect it as one packet of its flow */
	struct pkt q;
	struct pkt_decode_opts o = { .linktype = PKT_LINK_RAW, .verify_csum = false };
	if (!pkt_decode(&q, out, olen, p->ts_ns, &o, NULL))
		return;
	q.vlan_n = p->vlan_n;
	memcpy(q.vlan, p->vlan, sizeof(q.vlan));
	q.tunnel_id = p->tunnel_id;
	int ts = 1;
	struct flow *g = flow_table_find(in->ft, &q, &ts);
	inspect_one(in, &q, g, g ? ts : 1, pcap_cnt, p->data, p->l3_off, true);
}

void inspect_flow_end(struct inspect *in, struct flow *f)
{
	struct islot *s = slot_of(in, f);

	if (!s)
		return;
	if ((s->flags & (IS_SYN | IS_MID)) && !(f->fl & FLOW_F_PASS)) {
		/* what waited beyond a gap: inspect it with the flow's addresses */
		int c = (f->fl & FLOW_F_CLIENT_LO) ? 0 : 1;
		for (int d = 0; d < 2; d++) {
			if (!stream_dir_chunks(&s->sd[d]))
				continue;
			struct pkt p;
			memset(&p, 0, sizeof(p));
			int a = d == 0 ? c : !c;
			memcpy(p.src, f->key.addr[a], 16);
			memcpy(p.dst, f->key.addr[!a], 16);
			p.sport = f->key.port[a];
			p.dport = f->key.port[!a];
			p.proto = f->key.proto;
			p.ipver = f->key.ipver;
			p.flags = PKT_F_L4 | (p.ipver == 4 ? PKT_F_IPV4 : PKT_F_IPV6);
			p.ts_ns = f->last_ns;
			in->cur_p = &p;
			in->cur_f = f;
			in->cur_s = s;
			in->cur_d = d;
			in->cur_cnt = 0;
			in->cur_nopkt = true;
			in->cur_quiet = false;
			while (stream_dir_chunks(&s->sd[d]) &&
			       stream_dir_flush(in->sp, &s->sd[d], deliver, in))
				;
		}
	}
	slot_free(in, f);
}

uint32_t inspect_sessions_live(const struct inspect *in)
{
	return in->live;
}

uint64_t inspect_stream_held(const struct inspect *in)
{
	return stream_pool_held(in->sp);
}

void inspect_expire(struct inspect *in, uint64_t now_ns)
{
	defrag_expire(in->dfr, now_ns, 64);
}
