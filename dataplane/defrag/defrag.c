/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP defragmenter: see defrag.h for the contract.
 *
 * Layout: trackers[] (metadata), a bucket array of chained indices, and a
 * pool of max_trackers slots, one per tracker:
 *
 *   [ DEFRAG_HDR_ROOM: header, right-aligned ][ 64 KiB data ][ 8 KiB bitmap ]
 *
 * The header is stored so it ends where the data begins: the completed
 * packet is handed out in place, without a copy.  The bitmap records which
 * data bytes arrived; it is all zero while a slot is free (cleared up to the
 * highest byte used when the slot is released, so a new datagram does not
 * pay for a full 8 KiB memset).  Merging walks the fragment a bitmap word
 * (64 data bytes) at a time: memcpy where nothing was received, memcmp where
 * everything was, single bytes only inside a word partly received.
 *
 * Trackers sit on an age list in creation order: the head is both the first
 * to time out and the one evicted when all are in use.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "defrag.h"
#include "hash.h"

#define NIL UINT32_MAX
#define DATA_ROOM 65536u
#define BM_BYTES (DATA_ROOM / 8)
#define SLOT_SIZE (DEFRAG_HDR_ROOM + DATA_ROOM + BM_BYTES)
#define MAX_IPV6_EXT 16

/* 40 bytes, zero-filled before use: hashed by words, compared with memcmp. */
struct defrag_key {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t ipver, proto;
	uint8_t pad[2];
};

struct defrag_tracker {
	struct defrag_key key;
	uint32_t hash;
	uint32_t hnext;           /* bucket chain / free list */
	uint32_t prev, next;      /* age list */
	uint64_t created_ns;
	uint32_t filled;          /* distinct data bytes received */
	uint32_t max_end;         /* highest data end received */
	uint32_t total;           /* data length, valid with has_last */
	uint32_t nfrags;
	uint16_t hlen;            /* stored header bytes, valid with has_first */
	uint16_t nh_off;          /* IPv6: header byte naming the fragment header */
	uint8_t has_first, has_last;
};

struct defrag {
	struct defrag_cfg cfg;
	struct ctr_block *ctr;
	struct defrag_tracker *t;
	uint32_t *buckets;
	uint32_t bmask;
	uint32_t free_head;
	uint32_t age_head, age_tail;
	uint32_t pending;         /* completed, buffer handed out; freed on next call */
	uint32_t live;
	uint64_t held;
	uint8_t *pool;
};

/* What a fragment says about itself, read from its own header. */
struct frag_info {
	struct defrag_key key;
	uint32_t off, len;
	bool mf;
	const uint8_t *hdr;       /* IPv4 header / IPv6 unfragmentable part */
	uint32_t hlen;
	uint32_t nh_off;
	const uint8_t *data;
};

static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline uint8_t *slot_of(const struct defrag *d, uint32_t i)
{
	return d->pool + (size_t)i * SLOT_SIZE;
}

static inline uint8_t *data_of(const struct defrag *d, uint32_t i)
{
	return slot_of(d, i) + DEFRAG_HDR_ROOM;
}

static inline uint64_t *bm_of(const struct defrag *d, uint32_t i)
{
	return (uint64_t *)(void *)(slot_of(d, i) + DEFRAG_HDR_ROOM + DATA_ROOM);
}

static uint32_t key_hash(const struct defrag_key *k, uint32_t seed)
{
	uint64_t w[5], h = seed;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++)
		h = mix64(h ^ w[i]);
	return (uint32_t)h;
}

_Static_assert(sizeof(struct defrag_key) == 40, "defrag_key is hashed as 5 words");

/* Read the fragment's own IP header at l3_off; -1 if it is not a readable
 * fragment.  Bounds: every read is inside [data + l3_off, data + len). */
static int parse_frag(const struct pkt *p, struct frag_info *fi)
{
	if (!p->data || p->l3_off >= p->len)
		return -1;
	const uint8_t *b = p->data + p->l3_off;
	uint32_t n = p->len - p->l3_off;

	memset(&fi->key, 0, sizeof(fi->key));
	if (p->ipver == 4) {
		if (n < 20 || (b[0] >> 4) != 4)
			return -1;
		uint32_t hl = (uint32_t)(b[0] & 0xf) * 4;
		uint32_t tl = rd16(b + 2);
		if (hl < 20 || tl < hl || tl > n)
			return -1;
		uint16_t fo = rd16(b + 6);
		if (!(fo & 0x3fff))
			return -1;
		fi->off = (uint32_t)(fo & 0x1fff) * 8;
		fi->mf = fo & 0x2000;
		fi->key.ipver = 4;
		fi->key.proto = b[9];
		fi->key.id = rd16(b + 4);
		memcpy(fi->key.src, b + 12, 4);
		memcpy(fi->key.dst, b + 16, 4);
		fi->hdr = b;
		fi->hlen = hl;
		fi->nh_off = 0;
		fi->data = b + hl;
		fi->len = tl - hl;
		return 0;
	}
	if (p->ipver != 6 || n < 40 || (b[0] >> 4) != 6)
		return -1;
	uint32_t plen = rd16(b + 4);
	if (40 + plen > n)
		return -1;
	uint8_t nh = b[6];
	uint32_t nh_off = 6, q = 40, left = plen;
	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		switch (nh) {
		case 0:    /* hop-by-hop */
		case 43:   /* routing */
		case 60:   /* destination options */
		case 135:  /* mobility */
		case 51: { /* AH */
			if (left < 8)
				return -1;
			uint32_t el = nh == 51 ? ((uint32_t)b[q + 1] + 2) * 4 : ((uint32_t)b[q + 1] + 1) * 8;
			if (el > left)
				return -1;
			nh_off = q;
			nh = b[q];
			q += el;
			left -= el;
			continue;
		}
		case 44: {
			if (left < 8)
				return -1;
			uint16_t fo = rd16(b + q + 2);
			fi->off = fo & 0xfff8;
			fi->mf = fo & 1;
			fi->key.ipver = 6;
			fi->key.proto = b[q];
			fi->key.id = rd32(b + q + 4);
			memcpy(fi->key.src, b + 8, 16);
			memcpy(fi->key.dst, b + 24, 16);
			fi->hdr = b;
			fi->hlen = q;
			fi->nh_off = nh_off;
			fi->data = b + q + 8;
			fi->len = left - 8;
			return 0;
		}
		default:
			return -1;
		}
	}
	return -1;
}

static void age_unlink(struct defrag *d, uint32_t i)
{
	struct defrag_tracker *t = &d->t[i];

	if (t->prev != NIL)
		d->t[t->prev].next = t->next;
	else
		d->age_head = t->next;
	if (t->next != NIL)
		d->t[t->next].prev = t->prev;
	else
		d->age_tail = t->prev;
}

static void hash_unlink(struct defrag *d, uint32_t i)
{
	uint32_t *pp = &d->buckets[d->t[i].hash & d->bmask];

	while (*pp != NIL) {
		if (*pp == i) {
			*pp = d->t[i].hnext;
			return;
		}
		pp = &d->t[*pp].hnext;
	}
}

/* Return slot i to the free list: clear its bitmap and release its bytes. */
static void slot_release(struct defrag *d, uint32_t i)
{
	struct defrag_tracker *t = &d->t[i];

	memset(bm_of(d, i), 0, ((size_t)t->max_end + 63) / 64 * 8);
	d->held -= t->filled;
	d->live--;
	t->hnext = d->free_head;
	d->free_head = i;
}

/* Forget an unfinished datagram. */
static void tracker_drop(struct defrag *d, uint32_t i)
{
	hash_unlink(d, i);
	age_unlink(d, i);
	slot_release(d, i);
}

static void release_pending(struct defrag *d)
{
	if (d->pending != NIL) {
		slot_release(d, d->pending);
		d->pending = NIL;
	}
}

static uint32_t lookup(const struct defrag *d, const struct defrag_key *k, uint32_t h)
{
	for (uint32_t i = d->buckets[h & d->bmask]; i != NIL; i = d->t[i].hnext)
		if (d->t[i].hash == h && memcmp(&d->t[i].key, k, sizeof(*k)) == 0)
			return i;
	return NIL;
}

/* A fresh tracker for key k, evicting the oldest if none is free. */
static uint32_t tracker_new(struct defrag *d, const struct defrag_key *k, uint32_t h, uint64_t now)
{
	if (d->free_head == NIL) {
		tracker_drop(d, d->age_head);
		ctr_inc(d->ctr, CTR_DEFRAG_EVICTED);
	}
	uint32_t i = d->free_head;
	struct defrag_tracker *t = &d->t[i];

	d->free_head = t->hnext;
	memset(t, 0, sizeof(*t));
	t->key = *k;
	t->hash = h;
	t->created_ns = now;
	t->hnext = d->buckets[h & d->bmask];
	d->buckets[h & d->bmask] = i;
	t->next = NIL;
	t->prev = d->age_tail;
	if (d->age_tail != NIL)
		d->t[d->age_tail].next = i;
	else
		d->age_head = i;
	d->age_tail = i;
	d->live++;
	return i;
}

/* Copy src into [off, off+len) of tracker i's data under the policy, one
 * bitmap word (64 data bytes) at a time: a run with none of its bytes
 * received is copied, a run with all of them compared, and only a run with
 * some of them goes byte by byte. */
static void merge(struct defrag *d, uint32_t i, uint32_t off, const uint8_t *src, uint32_t len,
		  bool *overlap, bool *conflict)
{
	struct defrag_tracker *t = &d->t[i];
	uint8_t *data = data_of(d, i);
	uint64_t *bm = bm_of(d, i);
	bool last = d->cfg.policy == DEFRAG_LAST;
	uint32_t end = off + len;

	for (uint32_t x = off; x < end;) {
		uint32_t wi = x / 64, lo = x & 63;
		uint32_t n = end - x < 64 - lo ? end - x : 64 - lo;
		uint64_t mask = n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1) << lo;
		uint64_t have = bm[wi] & mask;
		const uint8_t *s = src + (x - off);

		if (have == 0) {
			/* and every following word wholly inside and empty: one memcpy */
			bm[wi] |= mask;
			while (end - (x + n) >= 64 && bm[++wi] == 0) {
				bm[wi] = ~(uint64_t)0;
				n += 64;
			}
			memcpy(data + x, s, n);
			t->filled += n;
		} else if (have == mask) {
			*overlap = true;
			if (memcmp(data + x, s, n) != 0) {
				*conflict = true;
				if (last)
					memcpy(data + x, s, n);
			}
		} else {
			*overlap = true;
			for (uint32_t k = 0; k < n; k++) {
				uint64_t bit = (uint64_t)1 << (lo + k);
				if (bm[wi] & bit) {
					if (data[x + k] != s[k]) {
						*conflict = true;
						if (last)
							data[x + k] = s[k];
					}
				} else {
					data[x + k] = s[k];
					bm[wi] |= bit;
					t->filled++;
				}
			}
		}
		x += n;
	}
}

static uint16_t ip_csum(const uint8_t *b, uint32_t n)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		sum += rd16(b + i);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Fix the stored header into a whole packet; -1 if it would pass 65535. */
static int finish(struct defrag *d, uint32_t i, uint8_t **out, uint32_t *out_len)
{
	struct defrag_tracker *t = &d->t[i];
	uint8_t *h = data_of(d, i) - t->hlen;
	uint32_t len = t->hlen + t->total;

	if (t->key.ipver == 4) {
		if (len > 65535)
			return -1;
		wr16(h + 2, (uint16_t)len);
		wr16(h + 6, rd16(h + 6) & 0x4000);   /* keep DF, clear MF and offset */
		h[10] = h[11] = 0;
		wr16(h + 10, ip_csum(h, t->hlen));
	} else {
		if (len - 40 > 65535)
			return -1;
		wr16(h + 4, (uint16_t)(len - 40));
		h[t->nh_off] = t->key.proto;
	}
	*out = h;
	*out_len = len;
	return 0;
}

int defrag_feed(struct defrag *d, const struct pkt *p, uint8_t **out, uint32_t *out_len)
{
	struct frag_info fi;
	uint32_t i;

	release_pending(d);
	if (p->ipver == 4)
		ctr_inc(d->ctr, CTR_DEFRAG_IPV4_FRAGS);
	else if (p->ipver == 6)
		ctr_inc(d->ctr, CTR_DEFRAG_IPV6_FRAGS);
	if (!(p->flags & PKT_F_FRAG) || parse_frag(p, &fi) != 0) {
		ctr_inc(d->ctr, CTR_DEFRAG_INVALID);
		return -EINVAL;
	}

	uint32_t h = key_hash(&fi.key, d->cfg.seed);
	uint32_t end = fi.off + fi.len;
	struct defrag_tracker *t = NULL;

	i = lookup(d, &fi.key, h);
	if (i != NIL && p->ts_ns > d->t[i].created_ns &&
	    p->ts_ns - d->t[i].created_ns > d->cfg.timeout_ns) {
		tracker_drop(d, i);
		ctr_inc(d->ctr, CTR_DEFRAG_TIMEOUTS);
		i = NIL;
	}
	if (i != NIL)
		t = &d->t[i];

	bool bad = end > DEFRAG_DATA_MAX ||
		   (fi.mf && (fi.len == 0 || (fi.len & 7) != 0)) ||
		   (fi.off == 0 && fi.hlen > DEFRAG_HDR_ROOM);
	if (t && !bad) {
		if (t->has_last)
			bad = fi.mf ? end > t->total : end != t->total;
		else if (!fi.mf)
			bad = end < t->max_end;
	}
	if (bad) {
		if (t)
			tracker_drop(d, i);
		ctr_inc(d->ctr, CTR_DEFRAG_INVALID);
		return -EINVAL;
	}
	if (t && t->nfrags >= d->cfg.max_frags) {
		tracker_drop(d, i);
		ctr_inc(d->ctr, CTR_DEFRAG_MAX_FRAGS_DROPS);
		return -E2BIG;
	}
	if (d->held + fi.len > d->cfg.memcap) {
		ctr_inc(d->ctr, CTR_DEFRAG_MEMCAP_DROPS);
		return -ENOSPC;
	}
	if (!t) {
		i = tracker_new(d, &fi.key, h, p->ts_ns);
		t = &d->t[i];
	}

	t->nfrags++;
	if (fi.off == 0 && !t->has_first) {
		memcpy(data_of(d, i) - fi.hlen, fi.hdr, fi.hlen);
		t->hlen = (uint16_t)fi.hlen;
		t->nh_off = (uint16_t)fi.nh_off;
		t->has_first = 1;
	}
	if (!fi.mf) {
		t->has_last = 1;
		t->total = end;
	}
	bool overlap = false, conflict = false;
	uint32_t before = t->filled;
	merge(d, i, fi.off, fi.data, fi.len, &overlap, &conflict);
	d->held += t->filled - before;
	if (overlap)
		ctr_inc(d->ctr, CTR_DEFRAG_OVERLAPS);
	if (conflict)
		ctr_inc(d->ctr, CTR_DEFRAG_OVERLAP_CONFLICTS);
	if (end > t->max_end)
		t->max_end = end;

	if (!t->has_first || !t->has_last || t->filled != t->total)
		return 0;
	if (finish(d, i, out, out_len) != 0) {
		tracker_drop(d, i);
		ctr_inc(d->ctr, CTR_DEFRAG_INVALID);
		return -EINVAL;
	}
	hash_unlink(d, i);
	age_unlink(d, i);
	d->pending = i;
	ctr_inc(d->ctr, CTR_DEFRAG_REASSEMBLED);
	return 1;
}

unsigned defrag_expire(struct defrag *d, uint64_t now_ns, unsigned budget)
{
	unsigned n = 0;

	release_pending(d);
	while (n < budget && d->age_head != NIL) {
		uint32_t i = d->age_head;
		if (now_ns <= d->t[i].created_ns || now_ns - d->t[i].created_ns <= d->cfg.timeout_ns)
			break;
		tracker_drop(d, i);
		ctr_inc(d->ctr, CTR_DEFRAG_TIMEOUTS);
		n++;
	}
	return n;
}

int defrag_create(struct defrag **out, const struct defrag_cfg *cfg, struct ctr_block *ctr)
{
	struct defrag *d;
	uint32_t nb = 1;

	*out = NULL;
	if (!cfg || !ctr || cfg->max_trackers == 0 || cfg->max_frags == 0 ||
	    cfg->max_trackers > (1u << 24) ||
	    (cfg->policy != DEFRAG_FIRST && cfg->policy != DEFRAG_LAST))
		return -EINVAL;
	while (nb < cfg->max_trackers)
		nb <<= 1;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->ctr = ctr;
	d->bmask = nb - 1;
	d->t = calloc(cfg->max_trackers, sizeof(*d->t));
	d->buckets = malloc((size_t)nb * sizeof(*d->buckets));
	/* zeroed: every bitmap starts empty (pages are mapped on first use) */
	d->pool = calloc(cfg->max_trackers, SLOT_SIZE);
	if (!d->t || !d->buckets || !d->pool)
		goto fail;
	for (uint32_t b = 0; b < nb; b++)
		d->buckets[b] = NIL;
	for (uint32_t i = 0; i < cfg->max_trackers; i++)
		d->t[i].hnext = i + 1 < cfg->max_trackers ? i + 1 : NIL;
	d->free_head = 0;
	d->age_head = d->age_tail = NIL;
	d->pending = NIL;
	*out = d;
	return 0;

fail:
	defrag_destroy(d);
	return -ENOMEM;
}

void defrag_destroy(struct defrag *d)
{
	if (!d)
		return;
	free(d->pool);
	free(d->buckets);
	free(d->t);
	free(d);
}

uint32_t defrag_live(const struct defrag *d)
{
	return d->live - (d->pending != NIL);   /* the handed-out one is done */
}

uint64_t defrag_held(const struct defrag *d)
{
	return d->held;
}

size_t defrag_memory(const struct defrag *d)
{
	return sizeof(*d) + (size_t)d->cfg.max_trackers * (sizeof(*d->t) + SLOT_SIZE) +
	       ((size_t)d->bmask + 1) * sizeof(*d->buckets);
}
