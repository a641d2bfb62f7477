/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The inspector's bypass decisions (dataplane/worker/inspect.c): a flow is
 * handed to the bypass once when a pass rule covers it, when both stream
 * directions reach the reassembly depth, or when TLS application data
 * flows both ways; never for a flow that still needs inspection.  Packets
 * are built byte by byte, decoded, accounted by a real flow table and
 * inspected with a real engine.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "inspect.h"
#include "pktbytes.h"
#include "rule.h"

static unsigned nbypass;
static struct flow *last_bypassed;
static bool bypass_ok = true;

static bool on_bypass(void *arg, struct flow *f)
{
	(void)arg;
	nbypass++;
	last_bypassed = f;
	return bypass_ok;
}

static void on_alert(void *arg, const struct inspect_alert *ia)
{
	(void)arg, (void)ia;
}

static void on_end(void *arg, const struct flow *f, enum flow_end_reason r)
{
	(void)arg, (void)f, (void)r;
}

struct rig {
	struct ctr_block ctr;
	struct detect_engine *de;
	struct detect_thread *dt;
	struct flow_table *ft;
	struct inspect *in;
	uint64_t now;
};

static bool rig_open(struct rig *g, const char *rules, uint32_t depth)
{
	struct rule_vars *v = NULL;
	struct ruleset *rs = NULL;
	char err[256];

	memset(g, 0, sizeof(*g));
	nbypass = 0;
	last_bypassed = NULL;
	bypass_ok = true;
	struct rule_load_opts lo = { 0 };
	if (rule_vars_create(&v) || rule_vars_set_defaults(v))
		return false;
	lo.vars = v;
	int rc = ruleset_load_buffer(&rs, "test.rules", rules, strlen(rules), &lo, err, sizeof(err));
	rule_vars_destroy(v);
	struct detect_cfg dc = { .port_groups = 4, .pcre_match_limit = 3500, .alerts_per_packet = 16 };
	struct flow_table_cfg fc = { .max_flows = 64, .seed = 1, .frag_trackers = 16,
				     .frag_timeout_ns = 60000000000ULL };
	for (int p = 0; p < FLOW_PG__N; p++)
		for (int s = 0; s < FLOW_ST__N; s++)
			fc.timeout_ns[p][s] = 60000000000ULL;
	struct inspect_cfg ic = {
		.stream = { .depth = depth, .memcap = 64 * STREAM_CHUNK_SIZE, .max_segs = 16 },
		.defrag = { .max_trackers = 2, .memcap = 65536, .max_frags = 8, .timeout_ns = 1000000000ULL },
		.sessions = 16, .carry = 64, .payload_max = 64, .packet_max = 128,
	};
	if (rc || detect_engine_create(&g->de, rs, &dc, err, sizeof(err)) ||
	    detect_thread_create(&g->dt, g->de, &g->ctr) ||
	    flow_table_create(&g->ft, &fc, &g->ctr, on_end, NULL) ||
	    inspect_create(&g->in, &ic, g->de, g->dt, g->ft, &g->ctr, on_alert, NULL)) {
		printf("rig set-up failed: %s\n", err);
		return false;
	}
	inspect_set_bypass(g->in, on_bypass, NULL);
	g->now = 1700000000ULL * 1000000000ULL;
	return true;
}

static void rig_close(struct rig *g)
{
	inspect_destroy(g->in);
	flow_table_destroy(g->ft);
	detect_thread_destroy(g->dt);
	detect_engine_destroy(g->de);
}

/* One Ethernet/IPv4/TCP frame client <-> server, through decode, the flow
 * table and the inspector. */
static void tcp(struct rig *g, bool from_client, uint32_t seq, uint32_t ack, uint8_t flags,
		const void *pl, uint32_t n)
{
	static const uint8_t cli[4] = { 192, 0, 2, 10 }, srv[4] = { 198, 51, 100, 20 };
	uint8_t b[2048] = { 0 };
	uint8_t *ip = b + 14, *th = ip + 20;

	b[12] = 0x08;
	ip[0] = 0x45;
	w16(ip + 2, (uint16_t)(40 + n));
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, from_client ? cli : srv, 4);
	memcpy(ip + 16, from_client ? srv : cli, 4);
	w16(ip + 10, fold(sum16(0, ip, 20)));
	w16(th, from_client ? 40000 : 443);
	w16(th + 2, from_client ? 443 : 40000);
	w32(th + 4, seq);
	w32(th + 8, ack);
	th[12] = 5 << 4;
	th[13] = flags;
	w16(th + 14, 65535);
	memcpy(th + 20, pl, n);
	struct pkt p;
	struct pkt_decode_opts o = { .linktype = PKT_LINK_ETHERNET };
	g->now += 1000000;
	if (!pkt_decode(&p, b, 54 + n, g->now, &o, &g->ctr)) {
		CHECK(!"decoded");
		return;
	}
	int ts;
	struct flow *f = flow_table_update(g->ft, &p, &ts);
	CHECK(f != NULL);
	inspect_packet(g->in, &p, f, ts, 1);
}

/* A handshake; returns with both sides' next sequence numbers in *c, *s. */
static void handshake(struct rig *g, uint32_t *c, uint32_t *s)
{
	*c = 1001;
	*s = 5001;
	tcp(g, true, 1000, 0, 0x02, "", 0);
	tcp(g, false, 5000, 1001, 0x12, "", 0);
	tcp(g, true, 1001, 5001, 0x10, "", 0);
}

static void send_data(struct rig *g, bool from_client, uint32_t *c, uint32_t *s, const void *pl, uint32_t n)
{
	if (from_client) {
		tcp(g, true, *c, *s, 0x18, pl, n);
		*c += n;
	} else {
		tcp(g, false, *s, *c, 0x18, pl, n);
		*s += n;
	}
}

/* A TLS record of TYPE with N body bytes at B (header included). */
static uint32_t tls_record(uint8_t *b, uint8_t type, uint16_t n)
{
	b[0] = type;
	b[1] = 3;
	b[2] = 3;
	w16(b + 3, n);
	memset(b + 5, 0xa5, n);
	return 5u + n;
}

static const char RULES[] =
	"alert tcp any any -> any any (msg:\"never\"; content:\"no-such-bytes\"; sid:1;)\n";

static void test_tls(void)
{
	struct rig g;
	uint8_t b[1500];
	uint32_t c, s, n;

	cur_test = "tls: application data both ways";
	if (!rig_open(&g, RULES, 0))
		return;
	handshake(&g, &c, &s);
	n = tls_record(b, 22, 200);                     /* ClientHello */
	send_data(&g, true, &c, &s, b, n);
	n = tls_record(b, 22, 900);                     /* ServerHello ... */
	n += tls_record(b + n, 20, 1);                  /* ChangeCipherSpec */
	send_data(&g, false, &c, &s, b, n);
	CHECK_EQ(nbypass, 0);
	n = tls_record(b, 20, 1);
	n += tls_record(b + n, 23, 300);                /* client application data */
	send_data(&g, true, &c, &s, b, n);
	CHECK_EQ(nbypass, 0);                           /* one way is not enough */
	/* a record split over two segments: the walker follows it */
	n = tls_record(b, 23, 1000);
	send_data(&g, false, &c, &s, b, 600);
	CHECK_EQ(nbypass, 1);                           /* its header said application data */
	send_data(&g, false, &c, &s, b + 600, n - 600);
	n = tls_record(b, 23, 100);
	send_data(&g, true, &c, &s, b, n);
	CHECK_EQ(nbypass, 1);                           /* once */
	CHECK_EQ(g.ctr.v[CTR_BYPASS_TLS], 1);
	CHECK_EQ(g.ctr.v[CTR_BYPASS_ERR], 0);
	rig_close(&g);

	cur_test = "tls: not TLS";
	if (!rig_open(&g, RULES, 0))
		return;
	handshake(&g, &c, &s);
	send_data(&g, true, &c, &s, "GET / HTTP/1.1\r\n\r\n", 18);
	n = tls_record(b, 23, 100);                     /* looks like TLS later: the start decides */
	send_data(&g, false, &c, &s, b, n);
	send_data(&g, true, &c, &s, b, n);
	CHECK_EQ(nbypass, 0);
	rig_close(&g);

	cur_test = "tls: broken framing";
	if (!rig_open(&g, RULES, 0))
		return;
	handshake(&g, &c, &s);
	n = tls_record(b, 22, 200);
	b[n] = 0x99;                                    /* garbage where a record header should be */
	send_data(&g, true, &c, &s, b, n + 10);
	n = tls_record(b, 22, 100);
	n += tls_record(b + n, 23, 50);
	send_data(&g, false, &c, &s, b, n);
	n = tls_record(b, 23, 50);
	send_data(&g, true, &c, &s, b, n);
	CHECK_EQ(nbypass, 0);
	rig_close(&g);
}

static void test_depth(void)
{
	struct rig g;
	uint8_t b[600];
	uint32_t c, s;

	cur_test = "depth: both directions";
	memset(b, 'x', sizeof(b));
	if (!rig_open(&g, RULES, 1000))
		return;
	handshake(&g, &c, &s);
	send_data(&g, true, &c, &s, b, 600);
	send_data(&g, true, &c, &s, b, 600);            /* client at depth */
	CHECK_EQ(nbypass, 0);
	send_data(&g, false, &c, &s, b, 600);
	CHECK_EQ(nbypass, 0);
	send_data(&g, false, &c, &s, b, 600);           /* server too */
	CHECK_EQ(nbypass, 1);
	CHECK_EQ(g.ctr.v[CTR_BYPASS_DEPTH], 1);
	send_data(&g, false, &c, &s, b, 600);
	CHECK_EQ(nbypass, 1);
	rig_close(&g);

	cur_test = "depth: unlimited";
	if (!rig_open(&g, RULES, 0))
		return;
	handshake(&g, &c, &s);
	for (int i = 0; i < 10; i++) {
		send_data(&g, true, &c, &s, b, 600);
		send_data(&g, false, &c, &s, b, 600);
	}
	CHECK_EQ(nbypass, 0);
	rig_close(&g);
}

static void test_pass(void)
{
	static const char pass[] = "pass tcp 192.0.2.10 any -> 198.51.100.20 443 (msg:\"trusted\"; sid:2;)\n";
	struct rig g;
	uint32_t c, s;

	cur_test = "pass rule";
	if (!rig_open(&g, pass, 0))
		return;
	bypass_ok = false;                              /* the map is full: counted */
	handshake(&g, &c, &s);
	CHECK_EQ(nbypass, 1);
	CHECK(last_bypassed && (last_bypassed->fl & FLOW_F_PASS));
	send_data(&g, true, &c, &s, "hello", 5);
	CHECK_EQ(nbypass, 1);
	CHECK_EQ(g.ctr.v[CTR_BYPASS_PASS], 1);
	CHECK_EQ(g.ctr.v[CTR_BYPASS_ERR], 1);
	rig_close(&g);
}

int main(void)
{
	test_tls();
	test_depth();
	test_pass();
	if (failures)
		printf("%d check(s) failed\n", failures);
	else
		printf("all bypass checks passed\n");
	return failures ? 1 : 0;
}
