/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for a worker's whole inspection path: decode, flow
 * accounting, defragmentation, TCP reassembly and detection with a fixed
 * ruleset that uses every payload and header keyword.
 *
 * Input: a sequence of chunks { u8 ctl; u16 len (big endian); len bytes },
 * each a raw IP packet (PKT_LINK_RAW).  ctl bits 0-5 advance packet time by
 * that many 100 ms steps; bit 6 swaps the packet's addresses and ports in
 * place (so both directions of a flow are easy to reach); bit 7 turns on
 * stream.midstream for the whole input when set on the first chunk.  Every
 * packet is copied to a buffer of exactly its length (ASan catches any
 * over-read).  A small flow table, session pool, segment memcap and
 * defragmenter make every bound reachable.  Checks: alerts name a rule of the
 * engine and carry an excerpt inside the buffer they came from; after the
 * final flush every session slot is free again.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "inspect.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char RULES[] =
	"alert tcp any any -> any any (msg:\"c1\"; content:\"GET \"; depth:4; content:\"HTTP/1.\"; "
	"distance:0; flowbits:set,get; sid:1;)\n"
	"alert tcp any any -> any any (msg:\"c2\"; flow:to_client,established; flowbits:isset,get; "
	"content:\"200\"; offset:9; depth:3; sid:2;)\n"
	"alert tcp any any -> any any (msg:\"c3\"; content:\"AB\"; nocase; content:!\"CD\"; within:8; "
	"pcre:\"/^[0-9]{2,}x/R\"; sid:3;)\n"
	"alert ip any any -> any any (msg:\"c4\"; content:\"|00 01|\"; byte_test:2,>,1000,0,relative; "
	"byte_jump:1,0,relative,multiplier 2,post_offset -1; isdataat:1,relative; sid:4;)\n"
	"alert tcp any any -> any any (msg:\"c5\"; content:\"LEN=\"; byte_test:4,=,1234,0,relative,"
	"string,dec; byte_jump:2,0,relative,string,hex,align; sid:5;)\n"
	"alert udp any any -> any any (msg:\"c6\"; dsize:>10; pcre:\"/(a|b)+c\\d/i\"; sid:6;)\n"
	"alert tcp any any -> any any (msg:\"c7\"; flags:SA,12; ttl:<200; sid:7;)\n"
	"alert icmp any any -> any any (msg:\"c8\"; itype:8; icode:0; content:\"ping\"; sid:8;)\n"
	"alert tcp any any -> any any (msg:\"c9\"; flow:only_stream; content:\"split-me\"; sid:9;)\n"
	"pass tcp any any -> any any (msg:\"c10\"; content:\"PASSME\"; sid:10;)\n"
	"drop udp any any -> any 53 (msg:\"c11\"; content:\"|01 00 00 01|\"; offset:2; depth:4; sid:11;)\n"
	"alert ip 10.0.0.0/8 any -> any any (msg:\"c12\"; sid:12;)\n"
	"alert tcp any any -> any any (msg:\"c13\"; flow:no_stream; dsize:1; flowbits:toggle,x; "
	"flowbits:noalert; sid:13;)\n"
	"alert tcp any any -> any any (msg:\"c14\"; flowbits:isnotset,x; content:\"Z\"; sid:14;)\n";

static struct detect_engine *engine;
static struct ctr_block ctr_blk;
static struct inspect *cur_in;
static const uint8_t *cur_buf;
static uint32_t cur_len;

static void on_alert(void *arg, const struct inspect_alert *ia)
{
	(void)arg;
	if (!detect_engine_rule(engine, ia->a->rule))
		abort();
	if (ia->payload_len && !ia->payload)
		abort();
	for (uint32_t i = 0; i < ia->payload_len; i += 64)
		(void)*(volatile const uint8_t *)(ia->payload + i);
	if (ia->body && ia->body == cur_buf && ia->body_len > cur_len)
		abort();
}

static void on_flow_end(void *arg, const struct flow *f, enum flow_end_reason r)
{
	(void)arg;
	if (r != FLOW_END_ACTIVE)
		inspect_flow_end(cur_in, (struct flow *)f);
}

static int init(void)
{
	struct rule_vars *v;
	struct ruleset *rs;
	char err[512];

	if (rule_vars_create(&v) || rule_vars_set_defaults(v))
		abort();
	struct rule_load_opts lo = { .vars = v, .strict = true, .no_include = true };
	if (ruleset_load_buffer(&rs, "fuzz.rules", RULES, sizeof(RULES) - 1, &lo, err, sizeof(err)))
		abort();
	rule_vars_destroy(v);
	struct detect_cfg dc = { .port_groups = 4, .pcre_match_limit = 1000, .alerts_per_packet = 8 };
	if (detect_engine_create(&engine, rs, &dc, err, sizeof(err)))
		abort();
	return 0;
}

static uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct flow_table *ft = NULL;
	struct inspect *in = NULL;
	uint64_t t = 1000000000ULL;
	size_t pos = 0;

	if (!once)
		once = !init();
	memset(&ctr_blk, 0, sizeof(ctr_blk));
	struct flow_table_cfg fc = { .max_flows = 16, .seed = 1, .active_ns = 0, .frag_trackers = 16,
				     .frag_timeout_ns = 5000000000ULL };
	for (int p = 0; p < FLOW_PG__N; p++)
		for (int s = 0; s < FLOW_ST__N; s++)
			fc.timeout_ns[p][s] = 2000000000ULL;
	struct inspect_cfg ic = {
		.stream = { .depth = 4096, .memcap = 8 * STREAM_CHUNK_SIZE, .max_segs = 4 },
		.defrag = { .max_trackers = 2, .memcap = 8192, .max_frags = 8, .timeout_ns = 3000000000ULL,
			    .seed = 7 },
		.sessions = 4, .carry = 32, .midstream = size && (data[0] & 0x80),
		.payload_max = 64, .packet_max = 128,
	};
	struct detect_thread *dt;
	if (flow_table_create(&ft, &fc, &ctr_blk, on_flow_end, NULL) ||
	    detect_thread_create(&dt, engine, &ctr_blk) ||
	    inspect_create(&in, &ic, engine, dt, ft, &ctr_blk, on_alert, NULL))
		abort();
	cur_in = in;
	uint64_t n = 0;
	while (pos + 3 <= size) {
		uint8_t ctl = data[pos];
		uint16_t len = rd16(data + pos + 1);
		pos += 3;
		if (len > size - pos)
			len = (uint16_t)(size - pos);
		uint8_t *pk = malloc(len ? len : 1);
		memcpy(pk, data + pos, len);
		pos += len;
		t += (uint64_t)(ctl & 0x3f) * 100000000ULL;
		if ((ctl & 0x40) && len >= 20 && (pk[0] >> 4) == 4) {
			uint8_t a[4];
			memcpy(a, pk + 12, 4);
			memcpy(pk + 12, pk + 16, 4);
			memcpy(pk + 16, a, 4);
		}
		struct pkt p;
		struct pkt_decode_opts o = { .linktype = PKT_LINK_RAW, .verify_csum = false };
		cur_buf = pk;
		cur_len = len;
		if (pkt_decode(&p, pk, len, t, &o, &ctr_blk)) {
			int ts;
			struct flow *f = flow_table_update(ft, &p, &ts);
			inspect_packet(in, &p, f, ts, ++n);
		}
		inspect_expire(in, t);
		free(pk);
	}
	flow_table_flush(ft, t);
	if (inspect_sessions_live(in) != 0 || inspect_stream_held(in) != 0)
		abort();   /* every flow ended: its slot and its segments were returned */
	inspect_destroy(in);
	detect_thread_destroy(dt);
	flow_table_destroy(ft);
	return 0;
}
