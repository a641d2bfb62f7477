/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP stream reassembly: see stream.h for the contract.
 *
 * The pool is two arrays allocated at creation: chunk headers (offset,
 * length, next index) and their STREAM_CHUNK_DATA-byte payloads; free
 * chunks are a singly linked list.  A direction's chunks form a list in
 * offset order holding disjoint ranges, every one past the next expected
 * offset (between calls: a chunk reached by the stream is delivered in the
 * same call).  The tail index makes the common case -- segments arriving in
 * order behind one hole -- an O(1) append; a segment landing among buffered
 * chunks walks the list (at most max_segs long).
 *
 * Buffering is all or nothing: place() walks the list once without writing
 * to count the chunks the segment needs, the bounds are checked, then the
 * same walk runs again and writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define NIL UINT32_MAX

#define F_BASE 0x01   /* base set */
#define F_GAP 0x02    /* bytes were stepped over since the last delivery */
#define F_DONE 0x04   /* depth reached: nothing more */

/* What a segment met, counted once per segment at the end. */
#define M_OVERLAP 0x01
#define M_DIFF 0x02
#define M_OOO 0x04

struct stream_chunk {
	uint64_t off;             /* stream offset of data[0] */
	uint32_t len;
	uint32_t next;            /* direction's list / free list */
};

_Static_assert(sizeof(struct stream_chunk) + STREAM_CHUNK_DATA == STREAM_CHUNK_SIZE,
	       "STREAM_CHUNK_SIZE is the header plus the payload");
_Static_assert(sizeof(struct stream_dir) <= 32, "stream_dir is embedded twice per flow");

struct stream_pool {
	struct stream_cfg cfg;
	struct ctr_block *ctr;
	struct stream_chunk *c;
	uint8_t *data;
	uint32_t nchunks;
	uint32_t nfree;
	uint32_t free_head;
};

/* A call's running state: where to deliver and what was met. */
struct stream_call {
	stream_deliver_fn fn;
	void *arg;
	uint64_t total;           /* bytes delivered */
	unsigned met;             /* M_* */
};

static inline uint8_t *chunk_data(const struct stream_pool *p, uint32_t i)
{
	return p->data + (size_t)i * STREAM_CHUNK_DATA;
}

static inline uint64_t chunk_end(const struct stream_chunk *c)
{
	return c->off + c->len;
}

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Hand every chunk of d back to the pool (O(1): the list is spliced). */
static void release_all(struct stream_pool *p, struct stream_dir *d)
{
	if (d->head == NIL)
		return;
	p->c[d->tail].next = p->free_head;
	p->free_head = d->head;
	p->nfree += d->nchunks;
	d->head = d->tail = NIL;
	d->nchunks = 0;
}

static void release_head(struct stream_pool *p, struct stream_dir *d)
{
	uint32_t i = d->head;

	d->head = p->c[i].next;
	if (d->head == NIL)
		d->tail = NIL;
	d->nchunks--;
	p->c[i].next = p->free_head;
	p->free_head = i;
	p->nfree++;
}

/*
 * Deliver n bytes at d->next, cut at the depth.  When the depth is reached
 * the direction is done and its chunks are freed (after the callback: b may
 * point into one).
 */
static void emit(struct stream_pool *p, struct stream_dir *d, struct stream_call *k,
		 const uint8_t *b, uint32_t n)
{
	uint64_t off = d->next;
	bool done = false;

	if (p->cfg.depth && off + n >= p->cfg.depth) {
		n = (uint32_t)(p->cfg.depth - off);
		done = true;
	}
	if (n) {
		k->fn(k->arg, b, n, off, d->flags & F_GAP);
		d->flags &= (uint8_t)~F_GAP;
		ctr_add(p->ctr, CTR_STREAM_BYTES, n);
		k->total += n;
		d->next = off + n;
	}
	if (done) {
		d->flags |= F_DONE;
		ctr_inc(p->ctr, CTR_STREAM_DEPTH);
		release_all(p, d);
	}
}

/* Deliver the buffered chunks the stream has reached. */
static void drain(struct stream_pool *p, struct stream_dir *d, struct stream_call *k)
{
	while (!(d->flags & F_DONE) && d->head != NIL) {
		struct stream_chunk *c = &p->c[d->head];
		if (c->off > d->next)
			break;
		uint32_t skip = (uint32_t)(d->next - c->off);   /* < len: chunks end past next */
		emit(p, d, k, chunk_data(p, d->head) + skip, c->len - skip);
		if (!(d->flags & F_DONE))
			release_head(p, d);
	}
}

/*
 * The segment data[0, e - d->next) starts at the next expected offset:
 * deliver it, from the segment except where it runs over buffered chunks
 * (there the policy picks the copy), then whatever it unblocked.
 */
static void in_order(struct stream_pool *p, struct stream_dir *d, struct stream_call *k,
		     const uint8_t *data, uint64_t e)
{
	uint64_t s = d->next;

	while (d->next < e && !(d->flags & F_DONE)) {
		uint64_t cur = d->next;
		const uint8_t *mine = data + (cur - s);

		if (d->head == NIL || p->c[d->head].off >= e) {
			emit(p, d, k, mine, (uint32_t)(e - cur));
			break;
		}
		struct stream_chunk *c = &p->c[d->head];
		if (c->off > cur) {
			emit(p, d, k, mine, (uint32_t)(c->off - cur));
			continue;
		}
		uint32_t n = (uint32_t)(min64(e, chunk_end(c)) - cur);
		const uint8_t *theirs = chunk_data(p, d->head) + (cur - c->off);
		k->met |= M_OVERLAP;
		if (memcmp(mine, theirs, n) != 0)
			k->met |= M_DIFF;
		emit(p, d, k, p->cfg.policy == STREAM_LAST ? mine : theirs, n);
		if (!(d->flags & F_DONE) && d->next == chunk_end(c))
			release_head(p, d);
	}
	drain(p, d, k);
}

/*
 * Buffer src[0, n) at offset off into new chunks linked after *prev (NIL:
 * at the head), topping up *prev first when it ends at off.  Returns the
 * new chunks needed; writes only when commit (the caller has checked that
 * they are free), leaving *prev at the last chunk written.
 */
static uint32_t fill(struct stream_pool *p, struct stream_dir *d, uint32_t *prev, uint64_t off,
		     const uint8_t *src, uint64_t n, bool commit)
{
	uint32_t need = 0;

	if (*prev != NIL && chunk_end(&p->c[*prev]) == off && p->c[*prev].len < STREAM_CHUNK_DATA) {
		struct stream_chunk *pc = &p->c[*prev];
		uint32_t take = (uint32_t)min64(n, STREAM_CHUNK_DATA - pc->len);
		if (commit) {
			memcpy(chunk_data(p, *prev) + pc->len, src, take);
			pc->len += take;
		}
		off += take;
		src += take;
		n -= take;
	}
	if (!commit)
		return (uint32_t)((n + STREAM_CHUNK_DATA - 1) / STREAM_CHUNK_DATA);
	while (n > 0) {
		uint32_t i = p->free_head;
		struct stream_chunk *c = &p->c[i];
		uint32_t *link = *prev == NIL ? &d->head : &p->c[*prev].next;

		p->free_head = c->next;
		p->nfree--;
		c->off = off;
		c->len = (uint32_t)min64(n, STREAM_CHUNK_DATA);
		memcpy(chunk_data(p, i), src, c->len);
		c->next = *link;
		*link = i;
		if (c->next == NIL)
			d->tail = i;
		d->nchunks++;
		*prev = i;
		off += c->len;
		src += c->len;
		n -= c->len;
		need++;
	}
	return need;
}

/*
 * Merge src (bytes [s, e), all past the next expected offset) into the
 * direction's chunks: holes go to new chunks, bytes already buffered are
 * compared and, with STREAM_LAST, overwritten.  Without commit nothing is
 * written or counted; returns the new chunks needed either way.
 */
static uint32_t place(struct stream_pool *p, struct stream_dir *d, struct stream_call *k,
		      uint64_t s, uint64_t e, const uint8_t *src, bool commit)
{
	uint32_t prev = NIL, i = d->head, need = 0;
	uint64_t cur = s;

	if (d->tail != NIL && s >= chunk_end(&p->c[d->tail])) {
		prev = d->tail;
		i = NIL;
	}
	while (cur < e) {
		uint64_t hole_end = e;
		if (i != NIL) {
			struct stream_chunk *c = &p->c[i];
			if (chunk_end(c) <= cur) {
				prev = i;
				i = c->next;
				continue;
			}
			if (c->off <= cur) {
				uint32_t n = (uint32_t)(min64(e, chunk_end(c)) - cur);
				uint8_t *theirs = chunk_data(p, i) + (cur - c->off);
				if (commit) {
					k->met |= M_OVERLAP;
					if (memcmp(theirs, src + (cur - s), n) != 0) {
						k->met |= M_DIFF;
						if (p->cfg.policy == STREAM_LAST)
							memcpy(theirs, src + (cur - s), n);
					}
				}
				cur += n;
				prev = i;
				i = c->next;
				continue;
			}
			hole_end = min64(e, c->off);
		}
		need += fill(p, d, &prev, cur, src + (cur - s), hole_end - cur, commit);
		if (commit)
			k->met |= M_OOO;
		cur = hole_end;
	}
	return need;
}

/*
 * Take bytes [s, e) (signed: may start before the base).  Returns 0, or
 * -E2BIG (max_segs) / -ENOSPC (memcap) when they would have to be buffered
 * and cannot be; then nothing was written.
 */
static int take(struct stream_pool *p, struct stream_dir *d, struct stream_call *k,
		int64_t s, int64_t e, const uint8_t *data)
{
	int64_t next = (int64_t)d->next;

	if (d->flags & F_DONE)
		return 0;
	if (s < next) {
		k->met |= M_OVERLAP;
		if (e <= next)
			return 0;
		data += next - s;
		s = next;
	}
	if (s == next) {
		in_order(p, d, k, data, (uint64_t)e);
		return 0;
	}
	if (p->cfg.depth) {
		if (s >= (int64_t)p->cfg.depth)
			return 0;   /* never delivered: not worth a chunk */
		if (e > (int64_t)p->cfg.depth)
			e = p->cfg.depth;
	}
	uint32_t need = place(p, d, k, (uint64_t)s, (uint64_t)e, data, false);
	if (need > p->cfg.max_segs - d->nchunks)
		return -E2BIG;
	if (need > p->nfree)
		return -ENOSPC;
	place(p, d, k, (uint64_t)s, (uint64_t)e, data, true);
	return 0;
}

/* Step over the hole before the first chunk; deliver what follows. */
static void step_gap(struct stream_pool *p, struct stream_dir *d, struct stream_call *k)
{
	if ((d->flags & F_DONE) || d->head == NIL)
		return;
	if (p->c[d->head].off > d->next) {
		d->next = p->c[d->head].off;
		d->flags |= F_GAP;
		ctr_inc(p->ctr, CTR_STREAM_GAP);
	}
	drain(p, d, k);
}

static uint32_t saturate(uint64_t n)
{
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

uint32_t stream_dir_add(struct stream_pool *p, struct stream_dir *d, uint32_t seq,
			const uint8_t *data, uint32_t len, stream_deliver_fn fn, void *arg)
{
	struct stream_call k = { .fn = fn, .arg = arg };
	int64_t s;
	int rc;

	if (!(d->flags & F_BASE) || (d->flags & F_DONE) || len == 0)
		return 0;
	uint32_t ahead = seq - (d->base + (uint32_t)d->next);
	if (ahead <= STREAM_WINDOW)
		s = (int64_t)d->next + ahead;
	else if (ahead >= 0u - STREAM_WINDOW)
		s = (int64_t)d->next - (int64_t)(0u - ahead);
	else
		return 0;

	rc = take(p, d, &k, s, s + len, data);
	if (rc != 0) {
		ctr_inc(p->ctr, rc == -ENOSPC ? CTR_STREAM_MEMCAP : CTR_STREAM_SEG_LIMIT);
		if (d->head != NIL) {
			step_gap(p, d, &k);
			take(p, d, &k, s, s + len, data);   /* dropped if it still does not fit */
		}
	}
	if (k.met & M_OVERLAP)
		ctr_inc(p->ctr, CTR_STREAM_OVERLAP);
	if (k.met & M_DIFF)
		ctr_inc(p->ctr, CTR_STREAM_OVERLAP_DIFF);
	if (k.met & M_OOO)
		ctr_inc(p->ctr, CTR_STREAM_OOO);
	return saturate(k.total);
}

uint32_t stream_dir_flush(struct stream_pool *p, struct stream_dir *d, stream_deliver_fn fn,
			  void *arg)
{
	struct stream_call k = { .fn = fn, .arg = arg };

	step_gap(p, d, &k);
	return saturate(k.total);
}

void stream_dir_fini(struct stream_pool *p, struct stream_dir *d)
{
	release_all(p, d);
}

void stream_dir_init(struct stream_dir *d)
{
	memset(d, 0, sizeof(*d));
	d->head = d->tail = NIL;
}

void stream_dir_set_base(struct stream_dir *d, uint32_t seq)
{
	d->base = seq;
	d->next = 0;
	d->flags = F_BASE;
}

bool stream_dir_has_base(const struct stream_dir *d)
{
	return d->flags & F_BASE;
}

bool stream_dir_done(const struct stream_dir *d)
{
	return d->flags & F_DONE;
}

uint64_t stream_dir_delivered(const struct stream_dir *d)
{
	return d->next;
}

uint32_t stream_dir_chunks(const struct stream_dir *d)
{
	return d->nchunks;
}

int stream_pool_create(struct stream_pool **out, const struct stream_cfg *cfg, struct ctr_block *ctr)
{
	struct stream_pool *p;
	uint64_t n;

	*out = NULL;
	if (!cfg || !ctr || cfg->max_segs == 0 || cfg->max_segs > STREAM_MAX_SEGS ||
	    (cfg->policy != STREAM_FIRST && cfg->policy != STREAM_LAST))
		return -EINVAL;
	n = cfg->memcap / STREAM_CHUNK_SIZE;
	if (n >= NIL)
		return -EINVAL;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->ctr = ctr;
	p->nchunks = (uint32_t)n;
	/* one spare entry each so a pool of 0 chunks still allocates */
	p->c = calloc(n + 1, sizeof(*p->c));
	p->data = calloc(n + 1, STREAM_CHUNK_DATA);
	if (!p->c || !p->data)
		goto fail;
	for (uint32_t i = 0; i < p->nchunks; i++)
		p->c[i].next = i + 1 < p->nchunks ? i + 1 : NIL;
	p->free_head = p->nchunks ? 0 : NIL;
	p->nfree = p->nchunks;
	*out = p;
	return 0;

fail:
	stream_pool_destroy(p);
	return -ENOMEM;
}

void stream_pool_destroy(struct stream_pool *p)
{
	if (!p)
		return;
	free(p->data);
	free(p->c);
	free(p);
}

size_t stream_pool_memory(const struct stream_pool *p)
{
	return sizeof(*p) + ((size_t)p->nchunks + 1) * STREAM_CHUNK_SIZE;
}

uint64_t stream_pool_held(const struct stream_pool *p)
{
	return (uint64_t)(p->nchunks - p->nfree) * STREAM_CHUNK_SIZE;
}
