/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packet decoder and the flow table behind it.
 *
 * Input: byte 0 picks the link type, byte 1 bit 0 turns checksum
 * validation on, the rest is the frame.  The frame is copied to a heap
 * buffer of exactly its length so AddressSanitizer catches any over-read.
 * Decoded packets go through one long-lived small flow table (so eviction,
 * fragments and timeouts are exercised across inputs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int linktypes[] = {
	PKT_LINK_ETHERNET, PKT_LINK_RAW, PKT_LINK_NULL, PKT_LINK_LOOP, PKT_LINK_SLL,
	PKT_LINK_SLL2, PKT_LINK_IPV4, PKT_LINK_IPV6, 9999,
};

static uint64_t emitted;

static void count_emit(void *arg, const struct flow *f, enum flow_end_reason r)
{
	(void)arg;
	/* touch the record the way the output does */
	emitted += f->pkts[0] + f->pkts[1] + (uint64_t)r + flow_id(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctr_block ctr;
	static struct flow_table *ft;
	static uint64_t ts = 1000000000ULL;

	if (size < 2)
		return 0;
	if (!ft) {
		struct flow_table_cfg c = { .max_flows = 64, .seed = 1, .active_ns = 5000000000ULL,
					    .frag_trackers = 16, .frag_timeout_ns = 3000000000ULL };
		for (int p = 0; p < FLOW_PG__N; p++)
			for (int s = 0; s < FLOW_ST__N; s++)
				c.timeout_ns[p][s] = (uint64_t)(1 + p + s) * 1000000000ULL;
		if (flow_table_create(&ft, &c, &ctr, count_emit, NULL) != 0)
			abort();
	}
	struct pkt_decode_opts o = {
		.linktype = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))],
		.verify_csum = data[1] & 1,
	};
	size_t n = size - 2;
	uint8_t *frame = malloc(n ? n : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 2, n);

	struct pkt p;
	ts += 100000000ULL;   /* 100 ms per input: timeouts fire over a run */
	if (pkt_decode(&p, frame, (uint32_t)n, ts, &o, &ctr)) {
		int toserver;
		if (p.payload_off + (uint64_t)p.payload_len > n || p.l4_off > n || p.l3_off > n)
			abort();   /* offsets must stay inside the frame */
		flow_table_update(ft, &p, &toserver);
		(void)pkt_hash_ippair(&p, 7);
	}
	if ((ts / 100000000ULL) % 32 == 0)
		flow_table_expire(ft, ts, 16);
	free(frame);
	return 0;
}
