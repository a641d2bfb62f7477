/* SPDX-License-Identifier: BSD-3-Clause */
/* The EVE writer's pieces: JSON escaping, timestamps, a flow record's text,
 * and the Community ID (reference values from Wireshark 4.0's implementation,
 * cross-checked on every shared capture by the tshark-oracle e2e test). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "eve.h"
#include "flow.h"

static int fails;

#define CHECK(c)                                                                 \
	do {                                                                     \
		if (!(c)) {                                                      \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
			fails++;                                                 \
		}                                                                \
	} while (0)

static void test_escape(void)
{
	struct jbuf b = { 0 };

	jb_reset(&b);
	jb_open(&b, NULL);
	jb_kstr(&b, "msg", "a\"b\\c\n\x01 d\xc3\xa9");
	jb_ku64(&b, "n", 9223372036854775807ULL);
	jb_kbool(&b, "t", true);
	jb_open(&b, "o");
	jb_kstr(&b, "e", "");
	jb_close(&b);
	jb_close(&b);
	jb_raw(&b, "", 1);
	CHECK(!strcmp(b.p, "{\"msg\":\"a\\\"b\\\\c\\u000a\\u0001 d\xc3\xa9\",\"n\":9223372036854775807,"
			   "\"t\":true,\"o\":{\"e\":\"\"}}"));
	json_error_t e;
	json_t *j = json_loads(b.p, 0, &e);
	CHECK(j != NULL);
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "msg")), "a\"b\\c\n\x01 d\xc3\xa9"));
	json_decref(j);
	jb_fini(&b);
}

static void test_ts(void)
{
	char buf[64];

	eve_format_ts(1768471201074253123ULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "2026-01-15T10:00:01.074253+0000"));
	eve_format_ts(1768471202000000000ULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "2026-01-15T10:00:02.000000+0000"));
	eve_format_ts(1768471201999999999ULL, buf, sizeof(buf));   /* cached second, other micros */
	CHECK(!strcmp(buf, "2026-01-15T10:00:01.999999+0000"));
	eve_format_ts(0, buf, sizeof(buf));
	CHECK(!strcmp(buf, "1970-01-01T00:00:00.000000+0000"));
}

static struct out_rec flow_rec(const char *s, const char *d, uint16_t sp, uint16_t dp, uint8_t proto)
{
	struct out_rec r;

	memset(&r, 0, sizeof(r));
	r.type = OUT_REC_FLOW;
	r.u.flow.ipver = strchr(s, ':') ? 6 : 4;
	inet_pton(r.u.flow.ipver == 4 ? AF_INET : AF_INET6, s, r.u.flow.src);
	inet_pton(r.u.flow.ipver == 4 ? AF_INET : AF_INET6, d, r.u.flow.dst);
	r.u.flow.sport = sp;
	r.u.flow.dport = dp;
	r.u.flow.proto = proto;
	return r;
}

static void test_community_id(void)
{
	char cid[64];
	struct out_rec r = flow_rec("10.0.0.11", "10.0.0.12", 49208, 445, 6);

	/* zeek__smb2.pcap's connection, as Wireshark computes it */
	eve_community_id(&r.u.flow, 0, cid, sizeof(cid));
	CHECK(!strcmp(cid, "1:27w2kQNEvTyGuI/K3C9gomO4K3c="));
	/* symmetric */
	struct out_rec q = flow_rec("10.0.0.12", "10.0.0.11", 445, 49208, 6);
	char cid2[64];
	eve_community_id(&q.u.flow, 0, cid2, sizeof(cid2));
	CHECK(!strcmp(cid, cid2));
	/* the seed changes it */
	eve_community_id(&r.u.flow, 1, cid2, sizeof(cid2));
	CHECK(strcmp(cid, cid2) != 0);
}

static void test_flow_record(void)
{
	struct jbuf b = { 0 };
	struct out_rec r = flow_rec("2001:db8::1", "2001:db8::2", 40000, 53, 17);

	r.u.flow.pkts_ts = 3;
	r.u.flow.pkts_tc = 2;
	r.u.flow.bytes_ts = 300;
	r.u.flow.bytes_tc = 200;
	r.u.flow.first_ns = 1768471201000000000ULL;
	r.u.flow.last_ns = 1768471263500000000ULL;
	r.u.flow.vlan = 100;
	r.u.flow.state = FLOW_ST_ESTABLISHED;
	r.u.flow.reason = FLOW_END_TIMEOUT;
	r.u.flow.flow_id = 12345;
	CHECK(eve_format_record(&b, &r, 0));
	jb_raw(&b, "", 1);
	json_error_t e;
	json_t *j = json_loads(b.p, 0, &e);
	CHECK(j != NULL);
	if (j) {
		json_t *f = json_object_get(j, "flow");
		CHECK(!strcmp(json_string_value(json_object_get(j, "event_type")), "flow"));
		CHECK(!strcmp(json_string_value(json_object_get(j, "src_ip")), "2001:db8::1"));
		CHECK(json_integer_value(json_object_get(j, "dest_port")) == 53);
		CHECK(!strcmp(json_string_value(json_object_get(j, "proto")), "UDP"));
		CHECK(json_integer_value(json_array_get(json_object_get(j, "vlan"), 0)) == 100);
		CHECK(json_integer_value(json_object_get(j, "flow_id")) == 12345);
		CHECK(json_integer_value(json_object_get(f, "pkts_toserver")) == 3);
		CHECK(json_integer_value(json_object_get(f, "bytes_toclient")) == 200);
		CHECK(json_integer_value(json_object_get(f, "age")) == 62);
		CHECK(!strcmp(json_string_value(json_object_get(f, "state")), "established"));
		CHECK(!strcmp(json_string_value(json_object_get(f, "reason")), "timeout"));
		CHECK(!strcmp(json_string_value(json_object_get(f, "end")), "2026-01-15T10:01:03.500000+0000"));
		CHECK(json_object_get(j, "tcp") == NULL);
		CHECK(!strncmp(json_string_value(json_object_get(j, "community_id")), "1:", 2));
		json_decref(j);
	}
	r.type = 99;
	CHECK(!eve_format_record(&b, &r, 0));
	jb_fini(&b);
}

int main(void)
{
	test_escape();
	test_ts();
	test_community_id();
	test_flow_record();
	if (fails)
		fprintf(stderr, "%d check(s) failed\n", fails);
	return fails ? 1 : 0;
}
