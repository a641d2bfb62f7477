/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the flow table (dataplane/flow/flow_table.c).
 *
 * struct pkt values are built directly (no decoder) and fed to a small
 * table with explicit timeouts; an emit callback records every ended flow
 * record and its reason, and the counters are compared exactly.
 *
 * Standalone: prints each failed check with its line; exit 0 iff all pass.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr.h"
#include "flow.h"
#include "pkt.h"

#include "check.h"
#include "check_ctr.h"

#define S 1000000000ull
#define MS 1000000ull

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* ------------------------------------------------------------ recording */

struct rec {
	struct flow f;
	enum flow_end_reason r;
	uint64_t id;
};

static struct rec recs[256];
static unsigned nrecs;

static void emit_cb(void *arg, const struct flow *f, enum flow_end_reason r)
{
	unsigned *calls = arg;
	(*calls)++;
	if (nrecs < sizeof(recs) / sizeof(recs[0])) {
		recs[nrecs].f = *f;
		recs[nrecs].r = r;
		recs[nrecs].id = flow_id(f);
	}
	nrecs++;
}

static struct ctr_block ctrs;
static unsigned emit_calls;

static struct flow_table_cfg base_cfg(void)
{
	struct flow_table_cfg c;

	memset(&c, 0, sizeof(c));
	c.max_flows = 8;
	c.seed = 0x5eed;
	c.timeout_ns[FLOW_PG_TCP][FLOW_ST_NEW] = 60 * S;
	c.timeout_ns[FLOW_PG_TCP][FLOW_ST_ESTABLISHED] = 600 * S;
	c.timeout_ns[FLOW_PG_TCP][FLOW_ST_CLOSED] = 10 * S;
	c.timeout_ns[FLOW_PG_UDP][FLOW_ST_NEW] = 30 * S;
	c.timeout_ns[FLOW_PG_UDP][FLOW_ST_ESTABLISHED] = 300 * S;
	c.timeout_ns[FLOW_PG_UDP][FLOW_ST_CLOSED] = 30 * S;
	c.timeout_ns[FLOW_PG_ICMP][FLOW_ST_NEW] = 20 * S;
	c.timeout_ns[FLOW_PG_ICMP][FLOW_ST_ESTABLISHED] = 200 * S;
	c.timeout_ns[FLOW_PG_ICMP][FLOW_ST_CLOSED] = 20 * S;
	c.timeout_ns[FLOW_PG_OTHER][FLOW_ST_NEW] = 40 * S;
	c.timeout_ns[FLOW_PG_OTHER][FLOW_ST_ESTABLISHED] = 400 * S;
	c.timeout_ns[FLOW_PG_OTHER][FLOW_ST_CLOSED] = 40 * S;
	c.active_ns = 0;
	c.frag_trackers = 64;
	c.frag_timeout_ns = 60 * S;
	return c;
}

static struct flow_table *mk_table(const struct flow_table_cfg *c)
{
	struct flow_table *ft = NULL;

	memset(&ctrs, 0, sizeof(ctrs));
	nrecs = 0;
	emit_calls = 0;
	int rc = flow_table_create(&ft, c, &ctrs, emit_cb, &emit_calls);
	if (rc != 0 || !ft) {
		printf("flow_table_create failed: %d\n", rc);
		exit(1);
	}
	return ft;
}

/* Exact flow counters: the (id, value) pairs given, every other flow.*
 * counter 0 (decoder counters are never touched by the flow table). */
static void expect_ctrs(int line, const int *pairs)
{
	check_ctrs(__FILE__, line, &ctrs, NULL, pairs);
}

#define EXPECT_CTRS(...) expect_ctrs(__LINE__, (const int[]){ __VA_ARGS__, -1 })

/* --------------------------------------------------------------- packets */

static struct pkt mkpkt(const char *src, const char *dst, uint8_t proto, uint16_t sp, uint16_t dp,
			uint8_t tcpfl, uint32_t len, uint64_t ts)
{
	struct pkt p;
	bool v6 = strchr(src, ':') != NULL;

	memset(&p, 0, sizeof(p));
	p.ipver = v6 ? 6 : 4;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, src, p.src) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, dst, p.dst) != 1)
		abort();
	p.flags = (v6 ? PKT_F_IPV6 : PKT_F_IPV4) | PKT_F_L4;
	p.proto = proto;
	p.sport = sp;
	p.dport = dp;
	p.tcp_flags = tcpfl;
	p.len = len;
	p.ts_ns = ts;
	return p;
}

#define C4 "192.0.2.10"
#define S4 "198.51.100.20"

static struct pkt tcp_cs(uint8_t fl, uint32_t len, uint64_t ts)
{
	return mkpkt(C4, S4, 6, 40000, 80, fl, len, ts);
}

static struct pkt tcp_sc(uint8_t fl, uint32_t len, uint64_t ts)
{
	return mkpkt(S4, C4, 6, 80, 40000, fl, len, ts);
}

static struct flow *upd(struct flow_table *ft, struct pkt p, int *ts)
{
	*ts = -1;
	return flow_table_update(ft, &p, ts);
}

/* ------------------------------------------------------------------ tests */

static void test_tcp_lifecycle(void)
{
	cur_test = "tcp_handshake_fin";
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft = mk_table(&c);
	int ts;

	struct flow *f = upd(ft, tcp_cs(TH_SYN, 74, 1 * S), &ts);
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(ts, 1);
	CHECK_EQ(!!(f->fl & FLOW_F_CLIENT_LO), 1);   /* 192.0.2.10 < 198.51.100.20 */
	CHECK_EQ(f->key.proto, 6);
	CHECK_EQ(f->key.ipver, 4);
	CHECK_EQ(f->key.port[0], 40000);
	CHECK_EQ(f->key.port[1], 80);
	CHECK_EQ(f->pkts[0], 1);
	CHECK_EQ(f->pkts[1], 0);
	CHECK_EQ(f->bytes[0], 74);
	CHECK_EQ(f->tcp_state, FLOW_TCP_SYN_SENT);
	CHECK_EQ(f->state, FLOW_ST_NEW);
	CHECK_EQ(f->created_ns, 1 * S);
	CHECK_EQ(f->first_ns, 1 * S);
	uint64_t id = flow_id(f);
	CHECK(id != 0);
	CHECK(id < (1ull << 53));

	/* a SYN/ACK from the client's side does not answer its own SYN */
	struct flow *g = upd(ft, tcp_cs(TH_SYN | TH_ACK, 74, 1 * S + 5 * MS), &ts);
	CHECK(g == f);
	CHECK_EQ(f->tcp_state, FLOW_TCP_SYN_SENT);
	CHECK_EQ(f->pkts[0], 2);

	g = upd(ft, tcp_sc(TH_SYN | TH_ACK, 74, 1 * S + 10 * MS), &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->pkts[1], 1);
	CHECK_EQ(f->bytes[1], 74);
	CHECK_EQ(f->tcp_state, FLOW_TCP_SYN_RECV);
	CHECK_EQ(f->state, FLOW_ST_NEW);

	g = upd(ft, tcp_cs(TH_ACK, 66, 1 * S + 20 * MS), &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 1);
	CHECK_EQ(f->tcp_state, FLOW_TCP_ESTABLISHED);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);

	upd(ft, tcp_cs(TH_PSH | TH_ACK, 266, 1 * S + 30 * MS), &ts);
	CHECK_EQ(ts, 1);
	upd(ft, tcp_sc(TH_PSH | TH_ACK, 1066, 1 * S + 40 * MS), &ts);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->tcp_state, FLOW_TCP_ESTABLISHED);

	upd(ft, tcp_cs(TH_FIN | TH_ACK, 66, 2 * S), &ts);
	CHECK_EQ(f->tcp_state, FLOW_TCP_FIN_WAIT);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	upd(ft, tcp_sc(TH_FIN | TH_ACK, 66, 2 * S + 1 * MS), &ts);
	CHECK_EQ(f->tcp_state, FLOW_TCP_CLOSING);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	g = upd(ft, tcp_cs(TH_ACK, 66, 2 * S + 2 * MS), &ts);
	CHECK(g == f);
	CHECK_EQ(f->tcp_state, FLOW_TCP_CLOSED);
	CHECK_EQ(f->state, FLOW_ST_CLOSED);

	CHECK_EQ(f->pkts[0], 6);
	CHECK_EQ(f->pkts[1], 3);
	CHECK_EQ(f->bytes[0], 74 + 74 + 66 + 266 + 66 + 66);
	CHECK_EQ(f->bytes[1], 74 + 1066 + 66);
	CHECK_EQ(f->tcp_flags[0], TH_SYN | TH_ACK | TH_PSH | TH_FIN);
	CHECK_EQ(f->tcp_flags[1], TH_SYN | TH_ACK | TH_PSH | TH_FIN);
	CHECK_EQ(f->first_ns, 1 * S);
	CHECK_EQ(f->last_ns, 2 * S + 2 * MS);
	CHECK_EQ(flow_id(f), id);
	CHECK_EQ(flow_table_live(ft), 1);
	CHECK_EQ(emit_calls, 0);
	EXPECT_CTRS(CTR_FLOW_CREATED, 1, CTR_FLOW_TCP, 1);

	/* closed flows use the closed timeout (10 s), not the established one */
	CHECK_EQ(flow_table_expire(ft, 2 * S + 2 * MS + 10 * S - 1, 100), 0);
	CHECK_EQ(flow_table_expire(ft, 2 * S + 2 * MS + 10 * S, 100), 1);
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(recs[0].r, FLOW_END_TIMEOUT);
	CHECK_EQ(recs[0].id, id);
	CHECK_EQ(recs[0].f.pkts[0], 6);
	CHECK_EQ(recs[0].f.pkts[1], 3);
	CHECK_EQ(recs[0].f.state, FLOW_ST_CLOSED);
	CHECK_EQ(flow_table_live(ft), 0);
	EXPECT_CTRS(CTR_FLOW_CREATED, 1, CTR_FLOW_TCP, 1, CTR_FLOW_TIMEOUT, 1);
	flow_table_destroy(ft);

	cur_test = "tcp_rst";
	ft = mk_table(&c);
	f = upd(ft, tcp_cs(TH_SYN, 60, 1 * S), &ts);
	upd(ft, tcp_sc(TH_SYN | TH_ACK, 60, 1 * S + 1), &ts);
	upd(ft, tcp_cs(TH_ACK, 60, 1 * S + 2), &ts);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	g = upd(ft, tcp_sc(TH_RST | TH_ACK, 60, 1 * S + 3), &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->tcp_state, FLOW_TCP_CLOSED);
	CHECK_EQ(f->state, FLOW_ST_CLOSED);
	CHECK_EQ(f->tcp_flags[1], TH_SYN | TH_ACK | TH_RST);
	/* RST right after a SYN closes as well */
	struct pkt p = mkpkt(C4, S4, 6, 40001, 81, TH_SYN, 60, 2 * S);
	f = upd(ft, p, &ts);
	CHECK_EQ(f->state, FLOW_ST_NEW);
	p = mkpkt(S4, C4, 6, 81, 40001, TH_RST | TH_ACK, 60, 2 * S + 1);
	g = upd(ft, p, &ts);
	CHECK(g == f);
	CHECK_EQ(f->tcp_state, FLOW_TCP_CLOSED);
	CHECK_EQ(f->state, FLOW_ST_CLOSED);
	CHECK_EQ(flow_table_live(ft), 2);
	EXPECT_CTRS(CTR_FLOW_CREATED, 2, CTR_FLOW_TCP, 2);
	flow_table_destroy(ft);

	cur_test = "tcp_midstream";
	ft = mk_table(&c);
	f = upd(ft, tcp_sc(TH_PSH | TH_ACK, 1000, 1 * S), &ts);
	CHECK_EQ(ts, 1);             /* the first sender is the client */
	CHECK_EQ(!!(f->fl & FLOW_F_CLIENT_LO), 0);   /* and has the higher address */
	CHECK_EQ(f->pkts[0], 1);
	CHECK_EQ(f->tcp_state, FLOW_TCP_ESTABLISHED);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	g = upd(ft, tcp_cs(TH_ACK, 60, 1 * S + 1), &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->pkts[1], 1);
	CHECK_EQ(f->bytes[0], 1000);
	CHECK_EQ(f->bytes[1], 60);
	flow_table_destroy(ft);
}

static void test_udp_icmp_state(void)
{
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft;
	struct flow *f, *g;
	int ts;

	cur_test = "udp_state";
	ft = mk_table(&c);
	/* client with the higher address: client_lo 0 */
	f = upd(ft, mkpkt("203.0.113.50", "192.0.2.53", 17, 33333, 53, 0, 80, 5 * S), &ts);
	CHECK(f != NULL);
	CHECK_EQ(ts, 1);
	CHECK_EQ(!!(f->fl & FLOW_F_CLIENT_LO), 0);
	CHECK_EQ(f->state, FLOW_ST_NEW);
	g = upd(ft, mkpkt("203.0.113.50", "192.0.2.53", 17, 33333, 53, 0, 81, 5 * S + 1), &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 1);
	CHECK_EQ(f->state, FLOW_ST_NEW);
	g = upd(ft, mkpkt("192.0.2.53", "203.0.113.50", 17, 53, 33333, 0, 200, 5 * S + 2), &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	CHECK_EQ(f->pkts[0], 2);
	CHECK_EQ(f->pkts[1], 1);
	CHECK_EQ(f->bytes[0], 161);
	CHECK_EQ(f->bytes[1], 200);
	CHECK_EQ(f->tcp_state, FLOW_TCP_NONE);
	CHECK_EQ(f->tcp_flags[0], 0);
	CHECK_EQ(f->last_ns, 5 * S + 2);
	/* a packet stamped earlier (merged capture) does not move time back */
	g = upd(ft, mkpkt("192.0.2.53", "203.0.113.50", 17, 53, 33333, 0, 10, 4 * S), &ts);
	CHECK(g == f);
	CHECK_EQ(f->pkts[1], 2);
	CHECK_EQ(f->first_ns, 5 * S);
	CHECK_EQ(f->last_ns, 5 * S + 2);
	EXPECT_CTRS(CTR_FLOW_CREATED, 1, CTR_FLOW_UDP, 1);
	flow_table_destroy(ft);

	/* same address on both ends: the ports order the endpoints */
	cur_test = "udp_same_address";
	ft = mk_table(&c);
	f = upd(ft, mkpkt("192.0.2.9", "192.0.2.9", 17, 6000, 5000, 0, 10, 1 * S), &ts);
	CHECK_EQ(ts, 1);
	CHECK_EQ(f->key.port[0], 5000);
	CHECK_EQ(f->key.port[1], 6000);
	CHECK_EQ(!!(f->fl & FLOW_F_CLIENT_LO), 0);
	g = upd(ft, mkpkt("192.0.2.9", "192.0.2.9", 17, 5000, 6000, 0, 20, 1 * S + 1), &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->bytes[1], 20);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	EXPECT_CTRS(CTR_FLOW_CREATED, 1, CTR_FLOW_UDP, 1);
	flow_table_destroy(ft);

	cur_test = "icmp_state";
	ft = mk_table(&c);
	struct pkt p = mkpkt("192.0.2.1", "198.51.100.1", 1, 0, 0, 0, 98, 1 * S);
	p.icmp_type = 8;
	f = upd(ft, p, &ts);
	CHECK_EQ(f->icmp_type, 8);
	CHECK_EQ(f->icmp_code, 0);
	CHECK_EQ(f->state, FLOW_ST_NEW);
	p = mkpkt("198.51.100.1", "192.0.2.1", 1, 0, 0, 0, 98, 1 * S + 1);
	p.icmp_type = 0;
	g = upd(ft, p, &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->icmp_type, 8);     /* of the first packet */
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	/* ICMPv6 */
	p = mkpkt("2001:db8::1", "2001:db8::2", 58, 0, 0, 0, 100, 2 * S);
	p.icmp_type = 128;
	f = upd(ft, p, &ts);
	CHECK(f != NULL && f != g);
	CHECK_EQ(f->key.ipver, 6);
	CHECK_EQ(f->icmp_type, 128);
	EXPECT_CTRS(CTR_FLOW_CREATED, 2, CTR_FLOW_ICMP, 2);
	flow_table_destroy(ft);
}

static void test_lazy_timeout(void)
{
	cur_test = "lazy_idle_timeout";
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft = mk_table(&c);
	int ts;

	struct pkt p = mkpkt("192.0.2.1", "198.51.100.1", 17, 1000, 2000, 0, 100, 1 * S);
	struct flow *f = upd(ft, p, &ts);
	uint64_t id1 = flow_id(f);
	/* one nanosecond before the UDP new timeout (30 s): same flow */
	p.ts_ns = 31 * S - 1;
	struct flow *g = upd(ft, p, &ts);
	CHECK(g == f);
	CHECK_EQ(f->pkts[0], 2);
	CHECK_EQ(emit_calls, 0);
	/* 30 s after the last packet: the old flow ends, a new one starts */
	p.ts_ns = 61 * S - 1;
	p.len = 55;
	g = upd(ft, p, &ts);
	CHECK(g != NULL);
	CHECK_EQ(emit_calls, 1);
	CHECK_EQ(recs[0].r, FLOW_END_TIMEOUT);
	CHECK_EQ(recs[0].id, id1);
	CHECK_EQ(recs[0].f.pkts[0], 2);
	CHECK_EQ(recs[0].f.bytes[0], 200);
	CHECK_EQ(recs[0].f.first_ns, 1 * S);
	CHECK_EQ(recs[0].f.last_ns, 31 * S - 1);
	CHECK_EQ(g->pkts[0], 1);
	CHECK_EQ(g->pkts[1], 0);
	CHECK_EQ(g->bytes[0], 55);
	CHECK_EQ(g->created_ns, 61 * S - 1);
	CHECK_EQ(ts, 1);
	CHECK(flow_id(g) != id1);
	CHECK_EQ(flow_table_live(ft), 1);
	EXPECT_CTRS(CTR_FLOW_CREATED, 2, CTR_FLOW_UDP, 2, CTR_FLOW_TIMEOUT, 1);
	flow_table_destroy(ft);
}

static void test_expire(void)
{
	cur_test = "expire_classes";
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft = mk_table(&c);
	int ts;

	/* TCP closed at 100 s (timeout 10 s) */
	struct pkt p = mkpkt("192.0.2.1", "198.51.100.1", 6, 1001, 80, TH_SYN, 60, 99 * S);
	upd(ft, p, &ts);
	p.ts_ns = 100 * S;
	p.tcp_flags = TH_RST;
	struct flow *closed = upd(ft, p, &ts);
	CHECK_EQ(closed->state, FLOW_ST_CLOSED);
	/* TCP established at 100 s (timeout 600 s) */
	p = mkpkt("192.0.2.1", "198.51.100.1", 6, 1002, 80, TH_ACK, 60, 100 * S);
	struct flow *est = upd(ft, p, &ts);
	CHECK_EQ(est->state, FLOW_ST_ESTABLISHED);
	/* UDP new at 100 s and at 125 s (timeout 30 s) */
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 1003, 53, 0, 60, 100 * S);
	upd(ft, p, &ts);
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 1004, 53, 0, 60, 125 * S);
	upd(ft, p, &ts);
	CHECK_EQ(flow_table_live(ft), 4);

	CHECK_EQ(flow_table_expire(ft, 109 * S, 100), 0);
	CHECK_EQ(nrecs, 0);
	CHECK_EQ(flow_table_expire(ft, 115 * S, 100), 1);
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(recs[0].r, FLOW_END_TIMEOUT);
	CHECK_EQ(recs[0].f.key.port[0], 1001);
	CHECK_EQ(flow_table_live(ft), 3);
	CHECK_EQ(flow_table_expire(ft, 130 * S, 100), 1);
	CHECK_EQ(nrecs, 2);
	CHECK_EQ(recs[1].f.key.port[0], 1003);
	CHECK_EQ(flow_table_expire(ft, 155 * S - 1, 100), 0);
	CHECK_EQ(flow_table_expire(ft, 155 * S, 100), 1);
	CHECK_EQ(recs[2].f.key.port[0], 1004);
	CHECK_EQ(flow_table_expire(ft, 699 * S, 100), 0);
	CHECK_EQ(flow_table_live(ft), 1);
	CHECK_EQ(flow_table_expire(ft, 700 * S, 100), 1);
	CHECK_EQ(recs[3].f.key.port[0], 1002);
	CHECK_EQ(recs[3].f.state, FLOW_ST_ESTABLISHED);
	CHECK_EQ(flow_table_live(ft), 0);
	CHECK_EQ(nrecs, 4);
	EXPECT_CTRS(CTR_FLOW_CREATED, 4, CTR_FLOW_TCP, 2, CTR_FLOW_UDP, 2, CTR_FLOW_TIMEOUT, 4);
	flow_table_destroy(ft);

	cur_test = "expire_budget";
	ft = mk_table(&c);
	for (int i = 0; i < 6; i++) {
		p = mkpkt("192.0.2.1", "198.51.100.1", 17, (uint16_t)(2000 + i), 53, 0, 60,
			  (uint64_t)(10 + i) * S);
		upd(ft, p, &ts);
	}
	/* flows at 10..15 s; at 44 s those of 10..14 s are idle */
	CHECK_EQ(flow_table_expire(ft, 44 * S, 2), 2);
	CHECK_EQ(nrecs, 2);
	CHECK_EQ(recs[0].f.key.port[0], 2000);   /* oldest first */
	CHECK_EQ(recs[1].f.key.port[0], 2001);
	CHECK_EQ(flow_table_live(ft), 4);
	CHECK_EQ(flow_table_expire(ft, 44 * S, 0), 0);
	CHECK_EQ(flow_table_expire(ft, 44 * S, 100), 3);
	CHECK_EQ(nrecs, 5);
	CHECK_EQ(recs[4].f.key.port[0], 2004);
	CHECK_EQ(flow_table_live(ft), 1);
	EXPECT_CTRS(CTR_FLOW_CREATED, 6, CTR_FLOW_UDP, 6, CTR_FLOW_TIMEOUT, 5);
	flow_table_destroy(ft);

	/* a packet moves its flow to the back of the line */
	cur_test = "expire_lru_touch";
	ft = mk_table(&c);
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 3000, 53, 0, 60, 10 * S);
	upd(ft, p, &ts);
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 3001, 53, 0, 60, 11 * S);
	upd(ft, p, &ts);
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 3000, 53, 0, 60, 20 * S);
	upd(ft, p, &ts);
	CHECK_EQ(flow_table_expire(ft, 45 * S, 100), 1);
	CHECK_EQ(recs[0].f.key.port[0], 3001);
	CHECK_EQ(flow_table_live(ft), 1);
	flow_table_destroy(ft);
}

/* The keep hook (XDP bypass): kept flows get another idle period with
 * what the hook folded in; a flow the hook lets go ends as usual. */
static unsigned keep_calls, keep_left;

static bool keep_cb(void *arg, struct flow *f, uint64_t now)
{
	(void)arg, (void)now;
	keep_calls++;
	if (!keep_left)
		return false;
	keep_left--;
	f->pkts[0] += 10;   /* what the kernel counted meanwhile */
	f->bytes[0] += 1000;
	return true;
}

static void test_keep(void)
{
	cur_test = "expire_keep";
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft = mk_table(&c);
	int ts;

	flow_table_set_keep(ft, keep_cb, NULL);
	struct pkt p = mkpkt("192.0.2.1", "198.51.100.1", 17, 4000, 53, 0, 60, 10 * S);
	upd(ft, p, &ts);
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 4001, 53, 0, 60, 12 * S);
	upd(ft, p, &ts);
	keep_left = 1;   /* the first due flow is kept once */
	CHECK_EQ(flow_table_expire(ft, 41 * S, 100), 1);   /* 4000 due at 40 s: kept; 4001 not due */
	CHECK_EQ(nrecs, 0);
	CHECK_EQ(keep_calls, 1);
	CHECK_EQ(flow_table_live(ft), 2);
	CHECK_EQ(flow_table_expire(ft, 42 * S, 100), 1);   /* 4001 due at 42 s, hook says no */
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(recs[0].f.key.port[0], 4001);
	CHECK_EQ(flow_table_expire(ft, 70 * S, 100), 0);   /* 4000 restarted its idle period at 41 s */
	CHECK_EQ(flow_table_expire(ft, 71 * S, 100), 1);
	CHECK_EQ(nrecs, 2);
	CHECK_EQ(recs[1].f.key.port[0], 4000);
	CHECK_EQ(recs[1].f.pkts[0], 11);     /* its own packet and the 10 folded in */
	CHECK_EQ(recs[1].f.bytes[0], 1060);
	CHECK_EQ(recs[1].f.last_ns, 41 * S);
	CHECK_EQ(flow_table_live(ft), 0);
	flow_table_destroy(ft);
}

static void test_eviction(void)
{
	cur_test = "evict_lru";
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft = mk_table(&c);
	int ts;
	struct pkt p;

	/* 8 flows, alternating TCP and UDP (different LRU classes), at 1..8 s */
	for (int i = 0; i < 8; i++) {
		p = mkpkt("192.0.2.1", "198.51.100.1", i % 2 ? 17 : 6, (uint16_t)(4000 + i), 443,
			  i % 2 ? 0 : TH_SYN, 100, (uint64_t)(1 + i) * S);
		CHECK(upd(ft, p, &ts) != NULL);
	}
	CHECK_EQ(flow_table_live(ft), 8);
	/* touch flow 0 (TCP): flow 1 (UDP, 2 s) becomes the least recently used */
	p = mkpkt("192.0.2.1", "198.51.100.1", 6, 4000, 443, TH_SYN, 100, 9 * S);
	upd(ft, p, &ts);
	CHECK_EQ(emit_calls, 0);
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 4100, 443, 0, 100, 10 * S);
	struct flow *f = upd(ft, p, &ts);
	CHECK(f != NULL);
	CHECK_EQ(flow_table_live(ft), 8);
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(recs[0].r, FLOW_END_FORCED);
	CHECK_EQ(recs[0].f.key.port[0], 4001);
	CHECK_EQ(recs[0].f.key.proto, 17);
	/* next: flow 2 (TCP, 3 s) */
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 4101, 443, 0, 100, 11 * S);
	upd(ft, p, &ts);
	CHECK_EQ(nrecs, 2);
	CHECK_EQ(recs[1].r, FLOW_END_FORCED);
	CHECK_EQ(recs[1].f.key.port[0], 4002);
	CHECK_EQ(recs[1].f.key.proto, 6);
	/* the evicted flow is really gone: its next packet makes a new flow */
	p = mkpkt("192.0.2.1", "198.51.100.1", 17, 4001, 443, 0, 100, 12 * S);
	f = upd(ft, p, &ts);
	CHECK_EQ(f->pkts[0], 1);
	CHECK_EQ(f->created_ns, 12 * S);
	CHECK_EQ(nrecs, 3);
	CHECK_EQ(recs[2].f.key.port[0], 4003);
	EXPECT_CTRS(CTR_FLOW_CREATED, 11, CTR_FLOW_TCP, 4, CTR_FLOW_UDP, 7, CTR_FLOW_EVICTED, 3);

	flow_table_flush(ft, 12 * S);
	CHECK_EQ(nrecs, 3 + 8);
	CHECK_EQ(flow_table_live(ft), 0);
	for (unsigned i = 3; i < nrecs; i++)
		CHECK_EQ(recs[i].r, FLOW_END_SHUTDOWN);
	flow_table_destroy(ft);
}

static void test_active_timeout(void)
{
	cur_test = "active_timeout";
	struct flow_table_cfg c = base_cfg();
	c.active_ns = 100 * S;
	struct flow_table *ft = mk_table(&c);
	int ts;

	struct pkt cs = mkpkt("192.0.2.7", "198.51.100.7", 17, 5000, 5001, 0, 100, 1 * S);
	struct pkt sc = mkpkt("198.51.100.7", "192.0.2.7", 17, 5001, 5000, 0, 300, 10 * S);
	struct flow *f = upd(ft, cs, &ts);
	uint64_t id = flow_id(f);
	upd(ft, sc, &ts);
	cs.ts_ns = 50 * S;
	upd(ft, cs, &ts);
	cs.ts_ns = 101 * S - 1;
	upd(ft, cs, &ts);
	CHECK_EQ(emit_calls, 0);
	cs.ts_ns = 101 * S;       /* first_ns + active */
	cs.len = 77;
	struct flow *g = upd(ft, cs, &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 1);
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(recs[0].r, FLOW_END_ACTIVE);
	CHECK_EQ(recs[0].id, id);
	CHECK_EQ(recs[0].f.pkts[0], 3);
	CHECK_EQ(recs[0].f.pkts[1], 1);
	CHECK_EQ(recs[0].f.bytes[0], 300);
	CHECK_EQ(recs[0].f.bytes[1], 300);
	CHECK_EQ(recs[0].f.first_ns, 1 * S);
	CHECK_EQ(recs[0].f.last_ns, 101 * S - 1);
	/* the flow goes on: same id and creation time, fresh counters */
	CHECK_EQ(flow_id(f), id);
	CHECK_EQ(f->created_ns, 1 * S);
	CHECK_EQ(f->first_ns, 101 * S);
	CHECK_EQ(f->last_ns, 101 * S);
	CHECK_EQ(f->pkts[0], 1);
	CHECK_EQ(f->pkts[1], 0);
	CHECK_EQ(f->bytes[0], 77);
	CHECK_EQ(f->bytes[1], 0);
	CHECK_EQ(flow_table_live(ft), 1);
	EXPECT_CTRS(CTR_FLOW_CREATED, 1, CTR_FLOW_UDP, 1, CTR_FLOW_ACTIVE, 1);

	sc.ts_ns = 120 * S;
	g = upd(ft, sc, &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->pkts[1], 1);
	flow_table_flush(ft, 125 * S);
	CHECK_EQ(nrecs, 2);
	CHECK_EQ(recs[1].r, FLOW_END_SHUTDOWN);
	CHECK_EQ(recs[1].id, id);
	CHECK_EQ(recs[1].f.pkts[0], 1);
	CHECK_EQ(recs[1].f.pkts[1], 1);
	CHECK_EQ(recs[1].f.first_ns, 101 * S);
	EXPECT_CTRS(CTR_FLOW_CREATED, 1, CTR_FLOW_UDP, 1, CTR_FLOW_ACTIVE, 1, CTR_FLOW_SHUTDOWN, 1);
	flow_table_destroy(ft);

	/* TCP: the record's flags restart, the connection state does not */
	cur_test = "active_timeout_tcp";
	ft = mk_table(&c);
	f = upd(ft, tcp_cs(TH_SYN, 60, 1 * S), &ts);
	upd(ft, tcp_sc(TH_SYN | TH_ACK, 60, 1 * S + 1), &ts);
	upd(ft, tcp_cs(TH_ACK, 60, 1 * S + 2), &ts);
	upd(ft, tcp_cs(TH_PSH | TH_ACK, 60, 101 * S), &ts);
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(recs[0].r, FLOW_END_ACTIVE);
	CHECK_EQ(recs[0].f.tcp_flags[0], TH_SYN | TH_ACK);
	CHECK_EQ(recs[0].f.tcp_flags[1], TH_SYN | TH_ACK);
	CHECK_EQ(f->tcp_flags[0], TH_PSH | TH_ACK);
	CHECK_EQ(f->tcp_flags[1], 0);
	CHECK_EQ(f->tcp_state, FLOW_TCP_ESTABLISHED);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	flow_table_destroy(ft);
}

/*
 * A flow's connection state must survive an active-timeout cut: only the
 * record (counters, flags) restarts.  These fail if the state machine reads
 * per-record fields (pkts[], tcp_flags[]) that reset_record() clears.
 */
static void test_active_timeout_keeps_state(void)
{
	struct flow_table_cfg c = base_cfg();
	c.active_ns = 100 * S;
	struct flow_table *ft;
	struct flow *f, *g;
	int ts;

	cur_test = "active_timeout_keeps_udp_established";
	ft = mk_table(&c);
	struct pkt cs = mkpkt("192.0.2.7", "198.51.100.7", 17, 5000, 5001, 0, 100, 1 * S);
	struct pkt sc = mkpkt("198.51.100.7", "192.0.2.7", 17, 5001, 5000, 0, 100, 2 * S);
	f = upd(ft, cs, &ts);
	uint64_t id = flow_id(f);
	upd(ft, sc, &ts);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	cs.ts_ns = 101 * S;       /* record cut; the flow has seen both directions */
	upd(ft, cs, &ts);
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(recs[0].r, FLOW_END_ACTIVE);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	/* 40 s of silence: within the established UDP timeout (300 s), beyond
	 * the new one (30 s) -- still the same flow */
	cs.ts_ns = 141 * S;
	g = upd(ft, cs, &ts);
	CHECK(g != NULL && flow_id(g) == id);
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(ctr_read(&ctrs, CTR_FLOW_TIMEOUT), 0);
	CHECK_EQ(ctr_read(&ctrs, CTR_FLOW_CREATED), 1);
	flow_table_destroy(ft);

	cur_test = "active_timeout_keeps_tcp_fin";
	ft = mk_table(&c);
	f = upd(ft, tcp_cs(TH_SYN, 60, 1 * S), &ts);
	upd(ft, tcp_sc(TH_SYN | TH_ACK, 60, 1 * S + 1), &ts);
	upd(ft, tcp_cs(TH_ACK, 60, 1 * S + 2), &ts);
	upd(ft, tcp_cs(TH_FIN | TH_ACK, 60, 100 * S), &ts);    /* client FIN */
	CHECK_EQ(f->tcp_state, FLOW_TCP_FIN_WAIT);
	upd(ft, tcp_sc(TH_FIN | TH_ACK, 60, 101 * S), &ts);    /* cut, then server FIN */
	CHECK_EQ(nrecs, 1);
	CHECK_EQ(recs[0].r, FLOW_END_ACTIVE);
	CHECK_EQ(f->tcp_state, FLOW_TCP_CLOSING);
	upd(ft, tcp_cs(TH_ACK, 60, 101 * S + 1), &ts);           /* last ACK */
	CHECK_EQ(f->tcp_state, FLOW_TCP_CLOSED);
	CHECK_EQ(f->state, FLOW_ST_CLOSED);
	flow_table_destroy(ft);
}

static void test_flush(void)
{
	cur_test = "flush";
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft = mk_table(&c);
	int ts;

	struct pkt a = mkpkt("192.0.2.1", "198.51.100.1", 17, 1, 2, 0, 10, 10 * S);
	struct pkt b = mkpkt("192.0.2.1", "198.51.100.1", 17, 3, 4, 0, 20, 40 * S);
	struct pkt t = mkpkt("192.0.2.1", "198.51.100.1", 6, 5, 6, TH_ACK, 30, 5 * S);
	struct flow *fa = upd(ft, a, &ts);
	uint64_t ida = flow_id(fa);
	struct flow *fb = upd(ft, b, &ts);
	uint64_t idb = flow_id(fb);
	upd(ft, t, &ts);   /* established TCP, idle 40 s at the end: within 600 s */
	flow_table_flush(ft, 45 * S);
	CHECK_EQ(nrecs, 3);
	CHECK_EQ(flow_table_live(ft), 0);
	int seen = 0;
	for (unsigned i = 0; i < nrecs && i < 3; i++) {
		if (recs[i].id == ida) {
			CHECK_EQ(recs[i].r, FLOW_END_TIMEOUT);   /* idle 35 s >= 30 s */
			CHECK_EQ(recs[i].f.bytes[0], 10);
			seen |= 1;
		} else if (recs[i].id == idb) {
			CHECK_EQ(recs[i].r, FLOW_END_SHUTDOWN);
			CHECK_EQ(recs[i].f.bytes[0], 20);
			seen |= 2;
		} else {
			CHECK_EQ(recs[i].r, FLOW_END_SHUTDOWN);
			CHECK_EQ(recs[i].f.key.proto, 6);
			seen |= 4;
		}
	}
	CHECK_EQ(seen, 7);
	EXPECT_CTRS(CTR_FLOW_CREATED, 3, CTR_FLOW_UDP, 2, CTR_FLOW_TCP, 1, CTR_FLOW_TIMEOUT, 1,
		    CTR_FLOW_SHUTDOWN, 2);
	/* idle exactly its timeout at the end of input: a timeout */
	a.ts_ns = 100 * S;
	upd(ft, a, &ts);
	flow_table_flush(ft, 130 * S);
	CHECK_EQ(nrecs, 4);
	CHECK_EQ(recs[3].r, FLOW_END_TIMEOUT);
	a.ts_ns = 200 * S;
	upd(ft, a, &ts);
	flow_table_flush(ft, 230 * S - 1);
	CHECK_EQ(nrecs, 5);
	CHECK_EQ(recs[4].r, FLOW_END_SHUTDOWN);
	nrecs = 3;
	/* flushing an empty table emits nothing */
	flow_table_flush(ft, 100 * S);
	CHECK_EQ(nrecs, 3);
	/* the table is reusable after a flush */
	CHECK(upd(ft, a, &ts) != NULL);
	CHECK_EQ(flow_table_live(ft), 1);
	flow_table_destroy(ft);
}

static void test_fragments(void)
{
	cur_test = "fragments";
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft = mk_table(&c);
	int ts;

	struct pkt first = mkpkt("192.0.2.1", "198.51.100.1", 17, 7000, 7001, 0, 1514, 1 * S);
	first.flags |= PKT_F_FRAG | PKT_F_FRAG_FIRST;
	first.frag_id = 0x4242;
	struct flow *f = upd(ft, first, &ts);
	CHECK(f != NULL);
	CHECK_EQ(f->key.port[0], 7000);
	CHECK_EQ(f->key.port[1], 7001);

	struct pkt later = mkpkt("192.0.2.1", "198.51.100.1", 17, 0, 0, 0, 600, 1 * S + 1);
	later.flags = PKT_F_IPV4 | PKT_F_FRAG;
	later.frag_id = 0x4242;
	later.frag_off = 1480;
	struct flow *g = upd(ft, later, &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 1);
	CHECK_EQ(f->pkts[0], 2);
	CHECK_EQ(f->bytes[0], 2114);
	CHECK_EQ(flow_table_live(ft), 1);

	/* a later fragment of an unknown datagram */
	later.frag_id = 0x4243;
	g = upd(ft, later, &ts);
	CHECK(g == NULL);
	CHECK_EQ(f->pkts[0], 2);
	/* same id but another protocol or source: unknown as well */
	later.frag_id = 0x4242;
	later.proto = 6;
	CHECK(upd(ft, later, &ts) == NULL);
	later.proto = 17;
	later.src[3] ^= 1;
	CHECK(upd(ft, later, &ts) == NULL);
	later.src[3] ^= 1;
	/* after the fragment timeout (60 s) the tracker is stale */
	later.ts_ns = 61 * S;
	CHECK(upd(ft, later, &ts) == NULL);
	CHECK_EQ(flow_table_live(ft), 1);
	EXPECT_CTRS(CTR_FLOW_CREATED, 1, CTR_FLOW_UDP, 1, CTR_FLOW_FRAG_ORPHAN, 4);

	/* IPv6, reply direction fragmented */
	cur_test = "fragments_ipv6";
	struct pkt q = mkpkt("2001:db8::1", "2001:db8::2", 17, 9000, 9001, 0, 100, 2 * S);
	f = upd(ft, q, &ts);
	struct pkt r1 = mkpkt("2001:db8::2", "2001:db8::1", 17, 9001, 9000, 0, 1400, 2 * S + 1);
	r1.flags |= PKT_F_FRAG | PKT_F_FRAG_FIRST;
	r1.frag_id = 0x89abcdef;
	g = upd(ft, r1, &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	struct pkt r2 = mkpkt("2001:db8::2", "2001:db8::1", 17, 0, 0, 0, 300, 2 * S + 2);
	r2.flags = PKT_F_IPV6 | PKT_F_FRAG;
	r2.frag_id = 0x89abcdef;
	r2.frag_off = 1448;
	g = upd(ft, r2, &ts);
	CHECK(g == f);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f->pkts[0], 1);
	CHECK_EQ(f->pkts[1], 2);
	CHECK_EQ(f->bytes[1], 1700);
	CHECK_EQ(f->state, FLOW_ST_ESTABLISHED);
	EXPECT_CTRS(CTR_FLOW_CREATED, 2, CTR_FLOW_UDP, 2, CTR_FLOW_FRAG_ORPHAN, 4);
	flow_table_destroy(ft);
}

static void test_frag_tracker_evict(void)
{
	cur_test = "frag_tracker_evict";
	struct flow_table_cfg c = base_cfg();
	c.frag_trackers = 1;     /* one slot: every datagram shares it */
	struct flow_table *ft = mk_table(&c);
	int ts;

	struct pkt a1 = mkpkt("192.0.2.1", "198.51.100.1", 17, 100, 200, 0, 1500, 1 * S);
	a1.flags |= PKT_F_FRAG | PKT_F_FRAG_FIRST;
	a1.frag_id = 1;
	struct pkt a2 = a1;
	a2.flags = PKT_F_IPV4 | PKT_F_FRAG;
	a2.sport = a2.dport = 0;
	a2.frag_off = 1480;
	a2.ts_ns = 1 * S + 10;
	struct pkt b1 = a1;
	b1.frag_id = 2;
	b1.sport = 300;
	b1.ts_ns = 1 * S + 5;

	struct flow *fa = upd(ft, a1, &ts);
	CHECK(fa != NULL);
	/* the first fragment again (retransmission): same datagram, no eviction */
	a1.ts_ns = 1 * S + 1;
	CHECK(upd(ft, a1, &ts) == fa);
	CHECK_EQ(ctr_read(&ctrs, CTR_FLOW_FRAG_EVICT), 0);
	/* another datagram takes the slot while the first is still tracked */
	struct flow *fb = upd(ft, b1, &ts);
	CHECK(fb != NULL && fb != fa);
	CHECK_EQ(ctr_read(&ctrs, CTR_FLOW_FRAG_EVICT), 1);
	/* so the first datagram's later fragment is now an orphan */
	CHECK(upd(ft, a2, &ts) == NULL);
	/* and the second one's is accounted */
	struct pkt b2 = a2;
	b2.frag_id = 2;
	CHECK(upd(ft, b2, &ts) == fb);
	CHECK_EQ(fb->pkts[0], 2);
	/* an expired tracker (60 s) is overwritten without counting an
	 * eviction (the idle flow of a1 times out and starts again, too) */
	a1.ts_ns = 100 * S;
	CHECK(upd(ft, a1, &ts) != NULL);
	EXPECT_CTRS(CTR_FLOW_CREATED, 3, CTR_FLOW_UDP, 3, CTR_FLOW_TIMEOUT, 1, CTR_FLOW_FRAG_EVICT, 1,
		    CTR_FLOW_FRAG_ORPHAN, 1);
	flow_table_destroy(ft);
}

static void test_counters_by_proto(void)
{
	cur_test = "created_by_proto";
	struct flow_table_cfg c = base_cfg();
	c.max_flows = 16;
	struct flow_table *ft = mk_table(&c);
	int ts;
	struct pkt p;

	static const struct { uint8_t proto; uint16_t sp; } fl[] = {
		{ 6, 1 }, { 6, 2 }, { 17, 1 }, { 17, 2 }, { 17, 3 }, { 1, 0 }, { 50, 0 }, { 47, 0 },
	};
	for (unsigned i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		p = mkpkt("192.0.2.1", "198.51.100.1", fl[i].proto, fl[i].sp, 99, 0, 60, 1 * S + i);
		if (fl[i].proto == 50 || fl[i].proto == 47)
			p.flags &= ~(uint32_t)PKT_F_L4;
		CHECK(upd(ft, p, &ts) != NULL);
	}
	p = mkpkt("2001:db8::1", "2001:db8::2", 58, 0, 0, 0, 60, 2 * S);
	CHECK(upd(ft, p, &ts) != NULL);
	/* a repeat creates nothing */
	p = mkpkt("198.51.100.1", "192.0.2.1", 17, 99, 1, 0, 60, 3 * S);
	CHECK(upd(ft, p, &ts) != NULL);
	CHECK_EQ(ts, 0);
	CHECK_EQ(flow_table_live(ft), 9);
	EXPECT_CTRS(CTR_FLOW_CREATED, 9, CTR_FLOW_TCP, 2, CTR_FLOW_UDP, 3, CTR_FLOW_ICMP, 2,
		    CTR_FLOW_OTHER, 2);
	flow_table_destroy(ft);
}

static void test_flow_id(void)
{
	cur_test = "flow_id";
	struct flow_table_cfg c1 = base_cfg(), c2 = base_cfg();
	c2.seed = 0xabcdef;   /* bucket seed: must not change flow ids */
	struct flow_table *t1, *t2;
	int ts;
	struct ctr_block other;

	t1 = mk_table(&c1);
	memset(&other, 0, sizeof(other));
	if (flow_table_create(&t2, &c2, &other, emit_cb, &emit_calls) != 0)
		exit(1);

	/* the same flow first seen from either side at the same time */
	struct flow *f1 = upd(t1, tcp_cs(TH_SYN, 60, 7 * S), &ts);
	struct flow *f2 = upd(t2, tcp_sc(TH_SYN, 60, 7 * S), &ts);
	CHECK(memcmp(&f1->key, &f2->key, sizeof(f1->key)) == 0);
	CHECK_EQ(flow_id(f1), flow_id(f2));
	CHECK_EQ(!!(f1->fl & FLOW_F_CLIENT_LO), 1);
	CHECK_EQ(!!(f2->fl & FLOW_F_CLIENT_LO), 0);
	uint64_t id = flow_id(f1);
	CHECK(id < (1ull << 53));
	/* both directions hit the same flow, hence the same id */
	struct flow *g = upd(t1, tcp_sc(TH_SYN | TH_ACK, 60, 7 * S + 1), &ts);
	CHECK(g == f1);
	CHECK_EQ(flow_id(g), id);
	/* a later creation time gives another id */
	struct flow *f3 = upd(t2, mkpkt(C4, S4, 6, 40000, 80, TH_SYN, 60, 8 * S), &ts);
	CHECK(f3 == f2);   /* same flow in t2 (not timed out) */
	flow_table_flush(t2, 8 * S);
	f3 = upd(t2, tcp_cs(TH_SYN, 60, 9 * S), &ts);
	CHECK(flow_id(f3) != id);
	/* another port gives another id */
	struct flow *f4 = upd(t1, mkpkt(C4, S4, 6, 40002, 80, TH_SYN, 60, 7 * S), &ts);
	CHECK(flow_id(f4) != id);
	flow_table_destroy(t1);
	flow_table_destroy(t2);
}

static void test_key_vlan_tunnel(void)
{
	cur_test = "key_vlan_tunnel";
	struct flow_table_cfg c = base_cfg();
	struct flow_table *ft = mk_table(&c);
	int ts;

	struct pkt p = mkpkt("192.0.2.1", "198.51.100.1", 17, 1, 2, 0, 60, 1 * S);
	p.vlan_n = 1;
	p.vlan[0] = 10;
	struct flow *f10 = upd(ft, p, &ts);
	p.vlan[0] = 20;
	struct flow *f20 = upd(ft, p, &ts);
	CHECK(f10 != NULL && f20 != NULL && f10 != f20);
	CHECK_EQ(f10->key.vlan, 10);
	CHECK_EQ(f20->key.vlan, 20);
	CHECK(flow_id(f10) != flow_id(f20));
	/* untagged: a third flow */
	p.vlan_n = 0;
	p.vlan[0] = 0;
	struct flow *f0 = upd(ft, p, &ts);
	CHECK(f0 != f10 && f0 != f20);
	CHECK_EQ(f0->key.vlan, 0);
	/* the reply in VLAN 10 (QinQ inner tag differs) is the VLAN 10 flow */
	struct pkt r = mkpkt("198.51.100.1", "192.0.2.1", 17, 2, 1, 0, 60, 1 * S + 1);
	r.vlan_n = 2;
	r.vlan[0] = 10;
	r.vlan[1] = 99;
	CHECK(upd(ft, r, &ts) == f10);
	CHECK_EQ(ts, 0);
	CHECK_EQ(f10->pkts[1], 1);
	CHECK_EQ(f20->pkts[1], 0);
	EXPECT_CTRS(CTR_FLOW_CREATED, 3, CTR_FLOW_UDP, 3);

	/* tunnel id */
	p = mkpkt("192.0.2.1", "198.51.100.1", 6, 1, 2, TH_SYN, 60, 2 * S);
	p.flags |= PKT_F_TUNNEL;
	p.tunnel = PKT_TUN_VXLAN;
	p.tunnel_id = 5;
	struct flow *t5 = upd(ft, p, &ts);
	p.tunnel_id = 6;
	struct flow *t6 = upd(ft, p, &ts);
	CHECK(t5 != NULL && t6 != NULL && t5 != t6);
	CHECK_EQ(t5->key.tunnel_id, 5);
	CHECK_EQ(t6->key.tunnel_id, 6);
	p.tunnel_id = 5;
	CHECK(upd(ft, p, &ts) == t5);
	CHECK_EQ(t5->pkts[0], 2);
	CHECK_EQ(flow_table_live(ft), 5);
	EXPECT_CTRS(CTR_FLOW_CREATED, 5, CTR_FLOW_UDP, 3, CTR_FLOW_TCP, 2);
	flow_table_destroy(ft);
}

static void test_memory(void)
{
	cur_test = "memory";
	struct flow_table_cfg c = base_cfg();
	c.max_flows = 1u << 16;
	c.frag_trackers = 4096;   /* the default of flow.frag-trackers */
	struct flow_table *ft = mk_table(&c);
	size_t mem = flow_table_memory(ft);
	double per = (double)mem / c.max_flows;

	printf("flow table: %zu bytes for %u flows = %.2f bytes/flow (sizeof(struct flow) = %zu)\n",
	       mem, c.max_flows, per, sizeof(struct flow));
	CHECK(mem >= (size_t)c.max_flows * sizeof(struct flow));
	CHECK(mem < (size_t)c.max_flows * 128);
	CHECK_EQ(sizeof(struct flow_key), 44);
	flow_table_destroy(ft);

	/* bad configurations */
	cur_test = "create_einval";
	struct flow_table *bad = NULL;
	c = base_cfg();
	c.max_flows = 0;
	CHECK(flow_table_create(&bad, &c, &ctrs, emit_cb, NULL) < 0);
	c.max_flows = 8;
	CHECK(flow_table_create(&bad, &c, &ctrs, NULL, NULL) < 0);
}

static void test_names(void)
{
	cur_test = "names";
	CHECK(strcmp(flow_state_name(FLOW_ST_NEW), "new") == 0);
	CHECK(strcmp(flow_state_name(FLOW_ST_ESTABLISHED), "established") == 0);
	CHECK(strcmp(flow_state_name(FLOW_ST_CLOSED), "closed") == 0);
	CHECK(strcmp(flow_reason_name(FLOW_END_TIMEOUT), "timeout") == 0);
	CHECK(strcmp(flow_reason_name(FLOW_END_FORCED), "forced") == 0);
	CHECK(strcmp(flow_reason_name(FLOW_END_SHUTDOWN), "shutdown") == 0);
	CHECK(strcmp(flow_reason_name(FLOW_END_ACTIVE), "active") == 0);
	CHECK(strcmp(flow_tcp_state_name(FLOW_TCP_CLOSED), "closed") == 0);
	CHECK(strcmp(flow_tcp_state_name((enum flow_tcp_state)99), "?") == 0);
}

int main(void)
{
	test_tcp_lifecycle();
	test_udp_icmp_state();
	test_lazy_timeout();
	test_expire();
	test_keep();
	test_eviction();
	test_active_timeout();
	test_active_timeout_keeps_state();
	test_flush();
	test_fragments();
	test_frag_tracker_evict();
	test_counters_by_proto();
	test_flow_id();
	test_key_vlan_tunnel();
	test_memory();
	test_names();

	if (failures) {
		printf("test_flow: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_flow: all checks passed\n");
	return 0;
}
