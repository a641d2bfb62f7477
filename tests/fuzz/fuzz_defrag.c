/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the IP defragmenter behind the packet decoder.
 *
 * Input: a sequence of chunks { u8 ctl; u16 len (big endian); len bytes },
 * each a raw IP packet (PKT_LINK_RAW).  ctl bits 0-6 advance packet time by
 * that many 50 ms steps (so timeouts fire), bit 7 turns checksum validation
 * on.  Each packet is copied to a heap buffer of exactly its length (ASan
 * catches any over-read), decoded, and fed, when it is a fragment (even one
 * whose transport header did not decode), to two long-lived small
 * defragmenters (first-wins and last-wins policies, so eviction, memcap,
 * timeouts and overlaps are exercised across inputs).  A reassembled packet
 * is checked (length fields agree with the buffer, IPv4 header checksum
 * right, MF/offset cleared) and decoded again from an exact-size copy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defrag.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static void check_out(const uint8_t *out, uint32_t len, uint64_t ts, struct ctr_block *ctr)
{
	struct pkt_decode_opts o = { .linktype = PKT_LINK_RAW, .verify_csum = true };
	struct pkt q;

	if (len < 20 || len > 65535 + 40)
		abort();
	if ((out[0] >> 4) == 4) {
		uint32_t sum = 0;
		uint32_t hl = (uint32_t)(out[0] & 0xf) * 4;
		if (rd16(out + 2) != len || (rd16(out + 6) & 0x3fff) != 0 || hl > len)
			abort();
		for (uint32_t i = 0; i + 1 < hl; i += 2)
			sum += rd16(out + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		if (sum != 0xffff)
			abort();
	} else if ((out[0] >> 4) == 6) {
		if (len < 40 || 40u + rd16(out + 4) != len)
			abort();
	} else {
		abort();
	}
	uint8_t *copy = malloc(len);
	if (!copy)
		return;
	memcpy(copy, out, len);
	if (pkt_decode(&q, copy, len, ts, &o, ctr)) {
		if (q.payload_off + (uint64_t)q.payload_len > len || q.l3_off > len)
			abort();
		if (q.ipver == 4 && q.l3_off == 0 && (q.flags & PKT_F_FRAG))
			abort();   /* the reassembled IPv4 header is never a fragment */
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctr_block ctr;
	static struct defrag *d[2];
	static uint64_t ts = 1000000000ULL;

	if (!d[0]) {
		struct defrag_cfg c = { .max_trackers = 4, .memcap = 100000, .max_frags = 24,
					.timeout_ns = 2000000000ULL, .policy = DEFRAG_FIRST, .seed = 7 };
		if (defrag_create(&d[0], &c, &ctr) != 0)
			abort();
		c.policy = DEFRAG_LAST;
		c.max_trackers = 2;
		c.memcap = 70000;
		if (defrag_create(&d[1], &c, &ctr) != 0)
			abort();
	}
	while (size >= 3) {
		uint8_t ctl = data[0];
		size_t n = rd16(data + 1);
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		struct pkt_decode_opts o = { .linktype = PKT_LINK_RAW, .verify_csum = ctl & 0x80 };
		uint8_t *pk = malloc(n ? n : 1);
		if (!pk)
			return 0;
		memcpy(pk, data, n);
		data += n;
		size -= n;
		ts += (uint64_t)(ctl & 0x7f) * 50000000ULL;

		struct pkt p;
		/* fed even when a later layer failed: the IP header was checked */
		pkt_decode(&p, pk, (uint32_t)n, ts, &o, NULL);
		if (p.flags & PKT_F_FRAG) {
			for (int k = 0; k < 2; k++) {
				uint8_t *out = NULL;
				uint32_t out_len = 0;
				int rc = defrag_feed(d[k], &p, &out, &out_len);
				if (rc == 1)
					check_out(out, out_len, ts, NULL);
				else if (rc > 1)
					abort();
			}
		}
		free(pk);
		if ((ctl & 0x7f) > 20)
			for (int k = 0; k < 2; k++)
				defrag_expire(d[k], ts, 4);
		for (int k = 0; k < 2; k++)
			if (defrag_held(d[k]) > (k ? 70000u : 100000u) || defrag_live(d[k]) > (k ? 2u : 4u))
				abort();
	}
	return 0;
}
