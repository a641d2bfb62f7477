/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit and torture test of the typed SPSC ring (dataplane/base/ring.h).
 *
 * Single-thread checks of capacity, partial bursts, empty/full behaviour and
 * init validation; then a producer and a consumer thread pass 20 million
 * {seq, checksum} records through a 1024-slot ring with random burst sizes
 * on both sides, and the consumer checks order, checksums and the total.
 *
 * Standalone: prints each failed check with its line; exit 0 iff all pass.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

#define CHECK_EQ(got, want) check_eq(__LINE__, #got, (uint64_t)(got), (uint64_t)(want))

static void check_eq(int line, const char *expr, uint64_t got, uint64_t want)
{
	if (got == want)
		return;
	printf("FAIL %s:%d: %s\n    got:  %llu\n    want: %llu\n", __FILE__, line, expr,
	       (unsigned long long)got, (unsigned long long)want);
	failures++;
}

struct rec {
	uint64_t seq;
	uint64_t ck;
};

RING_DEFINE(tr, rec)

static uint64_t ck_of(uint64_t seq)
{
	uint64_t x = seq ^ 0x9e3779b97f4a7c15ULL;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static struct rec mkrec(uint64_t seq)
{
	struct rec r = { seq, ck_of(seq) };
	return r;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* ------------------------------------------------------- single thread */

static void test_init(void)
{
	struct tr_ring r;
	static const uint32_t bad[] = { 0, 1, 2, 3, 6, 1000, 1023, 1025, 0x80000001u };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&r, 0, sizeof(r));
		int rc = tr_ring_init(&r, bad[i]);
		if (rc != -EINVAL) {
			printf("FAIL %s:%d: init(%u) = %d, want -EINVAL\n", __FILE__, __LINE__, bad[i], rc);
			failures++;
			if (rc == 0)
				tr_ring_fini(&r);
		}
	}
	CHECK_EQ(tr_ring_init(&r, 4), 0);
	CHECK_EQ(tr_ring_count(&r), 0);
	struct rec v[4] = { mkrec(1), mkrec(2), mkrec(3), mkrec(4) };
	CHECK_EQ(tr_ring_enqueue_burst(&r, v, 4), 3);
	tr_ring_fini(&r);
	CHECK(r.buf == NULL);
}

static void test_single_thread(void)
{
	struct tr_ring r;
	struct rec in[64], out[64];
	uint64_t next_in = 0, next_out = 0;

	CHECK_EQ(tr_ring_init(&r, 16), 0);

	/* empty */
	CHECK_EQ(tr_ring_dequeue_burst(&r, out, 8), 0);
	CHECK_EQ(tr_ring_count(&r), 0);

	/* fill: usable capacity is cap - 1, the burst is partial */
	for (int i = 0; i < 20; i++)
		in[i] = mkrec(next_in + (uint64_t)i);
	CHECK_EQ(tr_ring_enqueue_burst(&r, in, 20), 15);
	next_in += 15;
	CHECK_EQ(tr_ring_count(&r), 15);
	in[0] = mkrec(next_in);
	CHECK_EQ(tr_ring_enqueue_burst(&r, in, 1), 0);   /* full */
	CHECK_EQ(tr_ring_count(&r), 15);

	/* partial dequeue, in order */
	CHECK_EQ(tr_ring_dequeue_burst(&r, out, 4), 4);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(out[i].seq, next_out);
		CHECK_EQ(out[i].ck, ck_of(next_out));
		next_out++;
	}
	CHECK_EQ(tr_ring_count(&r), 11);

	/* room for exactly 4 more */
	for (int i = 0; i < 10; i++)
		in[i] = mkrec(next_in + (uint64_t)i);
	CHECK_EQ(tr_ring_enqueue_burst(&r, in, 10), 4);
	next_in += 4;
	CHECK_EQ(tr_ring_count(&r), 15);

	/* drain with a larger request than what is there */
	CHECK_EQ(tr_ring_dequeue_burst(&r, out, 64), 15);
	for (int i = 0; i < 15; i++) {
		CHECK_EQ(out[i].seq, next_out);
		CHECK_EQ(out[i].ck, ck_of(next_out));
		next_out++;
	}
	CHECK_EQ(next_out, next_in);
	CHECK_EQ(tr_ring_count(&r), 0);
	CHECK_EQ(tr_ring_dequeue_burst(&r, out, 1), 0);
	CHECK_EQ(tr_ring_enqueue_burst(&r, in, 0), 0);
	CHECK_EQ(tr_ring_dequeue_burst(&r, out, 0), 0);

	/* many wrap-arounds of the indices with varying fill levels */
	uint64_t rng = 0x1234567;
	int errs = 0;
	for (int it = 0; it < 100000 && errs < 5; it++) {
		uint32_t cnt = tr_ring_count(&r);
		uint32_t k = (uint32_t)(xorshift(&rng) % 20);
		for (uint32_t i = 0; i < k; i++)
			in[i] = mkrec(next_in + i);
		uint32_t room = 15 - cnt;
		uint32_t n = tr_ring_enqueue_burst(&r, in, k);
		if (n != (k < room ? k : room)) {
			printf("FAIL %s:%d: it %d: enqueue %u with %u queued gave %u\n", __FILE__, __LINE__,
			       it, k, cnt, n);
			failures++;
			errs++;
		}
		next_in += n;
		if (tr_ring_count(&r) != cnt + n) {
			printf("FAIL %s:%d: it %d: count %u, want %u\n", __FILE__, __LINE__, it,
			       tr_ring_count(&r), cnt + n);
			failures++;
			errs++;
		}
		k = (uint32_t)(xorshift(&rng) % 20);
		cnt = tr_ring_count(&r);
		n = tr_ring_dequeue_burst(&r, out, k);
		if (n != (k < cnt ? k : cnt)) {
			printf("FAIL %s:%d: it %d: dequeue %u with %u queued gave %u\n", __FILE__, __LINE__,
			       it, k, cnt, n);
			failures++;
			errs++;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (out[i].seq != next_out || out[i].ck != ck_of(next_out)) {
				printf("FAIL %s:%d: it %d: got seq %llu, want %llu\n", __FILE__, __LINE__, it,
				       (unsigned long long)out[i].seq, (unsigned long long)next_out);
				failures++;
				errs++;
				break;
			}
			next_out++;
		}
	}
	CHECK_EQ(next_in - next_out, tr_ring_count(&r));
	CHECK(next_in > 500000);
	tr_ring_fini(&r);
}

/* ------------------------------------------------------------- torture */

#define TORTURE_N 20000000ull
#define TORTURE_CAP 1024u
#define MAX_BURST 64u

static struct tr_ring tring;

struct cons_result {
	uint64_t received;
	uint64_t order_errors;
	uint64_t ck_errors;
	uint64_t count_errors;
	uint64_t first_bad_seq, first_bad_want;
	uint64_t empty_polls;
};

static void relax(unsigned *spins)
{
	if (++*spins >= 64) {
		*spins = 0;
		sched_yield();
	}
}

static void *producer(void *arg)
{
	uint64_t *full_polls = arg;
	uint64_t rng = 0xdeadbeefcafef00dULL, seq = 0;
	struct rec buf[MAX_BURST];
	unsigned spins = 0;

	while (seq < TORTURE_N) {
		uint32_t k = 1 + (uint32_t)(xorshift(&rng) % MAX_BURST);
		if (k > TORTURE_N - seq)
			k = (uint32_t)(TORTURE_N - seq);
		for (uint32_t i = 0; i < k; i++)
			buf[i] = mkrec(seq + i);
		uint32_t done = 0;
		while (done < k) {
			uint32_t n = tr_ring_enqueue_burst(&tring, buf + done, k - done);
			if (n == 0) {
				(*full_polls)++;
				relax(&spins);
			}
			done += n;
		}
		seq += k;
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct cons_result *res = arg;
	uint64_t rng = 0x0123456789abcdefULL, want = 0;
	struct rec buf[MAX_BURST];
	unsigned spins = 0;

	while (want < TORTURE_N) {
		uint32_t k = 1 + (uint32_t)(xorshift(&rng) % MAX_BURST);
		uint32_t c = tr_ring_count(&tring);
		if (c > TORTURE_CAP - 1)
			res->count_errors++;
		uint32_t n = tr_ring_dequeue_burst(&tring, buf, k);
		if (n == 0) {
			res->empty_polls++;
			relax(&spins);
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (buf[i].seq != want) {
				if (!res->order_errors && !res->ck_errors) {
					res->first_bad_seq = buf[i].seq;
					res->first_bad_want = want;
				}
				res->order_errors++;
				want = buf[i].seq;   /* resynchronise to count distinct breaks */
			}
			if (buf[i].ck != ck_of(buf[i].seq))
				res->ck_errors++;
			want++;
		}
		res->received += n;
	}
	return NULL;
}

static void test_torture(void)
{
	pthread_t pt, ct;
	struct cons_result res;
	uint64_t full_polls = 0;
	struct timespec t0, t1;

	memset(&res, 0, sizeof(res));
	CHECK_EQ(tr_ring_init(&tring, TORTURE_CAP), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pthread_create(&ct, NULL, consumer, &res) != 0 ||
	    pthread_create(&pt, NULL, producer, &full_polls) != 0) {
		printf("FAIL: pthread_create\n");
		failures++;
		return;
	}
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("ring torture: %llu records in %.2f s (%.1f M/s), producer full polls %llu, "
	       "consumer empty polls %llu\n",
	       (unsigned long long)res.received, secs, (double)res.received / secs / 1e6,
	       (unsigned long long)full_polls, (unsigned long long)res.empty_polls);
	if (res.order_errors)
		printf("    first order break: got seq %llu, want %llu\n",
		       (unsigned long long)res.first_bad_seq, (unsigned long long)res.first_bad_want);
	CHECK_EQ(res.received, TORTURE_N);
	CHECK_EQ(res.order_errors, 0);
	CHECK_EQ(res.ck_errors, 0);
	CHECK_EQ(res.count_errors, 0);
	CHECK_EQ(tr_ring_count(&tring), 0);
	tr_ring_fini(&tring);
}

int main(void)
{
	test_init();
	test_single_thread();
	test_torture();

	if (failures) {
		printf("test_ring: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_ring: all checks passed\n");
	return 0;
}
