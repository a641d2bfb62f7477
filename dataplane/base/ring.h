/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed single-producer/single-consumer rings of fixed-size records, over
 * ck_ring.  Records are copied in and out (no pointers to shared memory
 * cross threads through them).
 *
 * RING_DEFINE(name, tag) (records are struct tag) generates:
 *   int  name_ring_init(struct name_ring *r, uint32_t cap)   cap: power of 2 >= 4
 *   void name_ring_fini(struct name_ring *r)
 *   uint32_t name_ring_enqueue_burst(struct name_ring *, const struct tag *, uint32_t n)  producer only
 *   uint32_t name_ring_dequeue_burst(struct name_ring *, struct tag *, uint32_t n)  consumer only
 *   uint32_t name_ring_count(const struct name_ring *)                              any thread
 *   uint32_t name_ring_produced(q), name_ring_consumed(q): records ever enqueued /
 *            dequeued (mod 2^32), any thread
 * Usable capacity is cap - 1 (ck_ring keeps one slot empty).
 */
#ifndef VIGIL_RING_H
#define VIGIL_RING_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <ck_ring.h>

#define RING_DEFINE(name, tag)                                                          \
	CK_RING_PROTOTYPE(name, tag)                                                      \
	struct name##_ring {                                                               \
		ck_ring_t r;                                                               \
		struct tag *buf;                                                                 \
		uint32_t cap;                                                              \
	};                                                                                 \
	static inline __attribute__((unused)) int name##_ring_init(struct name##_ring *q, uint32_t cap)            \
	{                                                                                  \
		if (cap < 4 || (cap & (cap - 1)))                                          \
			return -EINVAL;                                                    \
		q->buf = (struct tag *)aligned_alloc(64, ((sizeof(struct tag) * cap) + 63) & ~(size_t)63); \
		if (!q->buf)                                                               \
			return -ENOMEM;                                                    \
		q->cap = cap;                                                              \
		ck_ring_init(&q->r, cap);                                                  \
		return 0;                                                                  \
	}                                                                                  \
	static inline __attribute__((unused)) void name##_ring_fini(struct name##_ring *q)                         \
	{                                                                                  \
		free(q->buf);                                                              \
		q->buf = NULL;                                                             \
	}                                                                                  \
	static inline __attribute__((unused)) uint32_t name##_ring_enqueue_burst(struct name##_ring *q,            \
							 const struct tag *v, uint32_t n)        \
	{                                                                                  \
		uint32_t i;                                                                \
		for (i = 0; i < n; i++)                                                    \
			if (!ck_ring_enqueue_spsc_##name(&q->r, q->buf, (struct tag *)&v[i]))    \
				break;                                                     \
		return i;                                                                  \
	}                                                                                  \
	static inline __attribute__((unused)) uint32_t name##_ring_dequeue_burst(struct name##_ring *q, struct tag *v,   \
							 uint32_t n)                       \
	{                                                                                  \
		uint32_t i;                                                                \
		for (i = 0; i < n; i++)                                                    \
			if (!ck_ring_dequeue_spsc_##name(&q->r, q->buf, &v[i]))            \
				break;                                                     \
		return i;                                                                  \
	}                                                                                  \
	static inline __attribute__((unused)) uint32_t name##_ring_count(struct name##_ring *q)                    \
	{                                                                                  \
		return ck_ring_size(&q->r);                                                \
	}                                                                                  \
	static inline __attribute__((unused)) uint32_t name##_ring_produced(struct name##_ring *q)                 \
	{                                                                                  \
		return ck_pr_load_uint(&q->r.p_tail);                                      \
	}                                                                                  \
	static inline __attribute__((unused)) uint32_t name##_ring_consumed(struct name##_ring *q)                 \
	{                                                                                  \
		return ck_pr_load_uint(&q->r.c_head);                                      \
	}

#endif
