/* SPDX-License-Identifier: MIT */
/*
 * Transport choice for a ring of 64-byte entries (docs/dataplane.md): cycles
 * per 64-byte element moved from a client on the main lcore to a consumer on
 * lcore 1 that reads every element, for
 *  - elem:    rte_ring of 64-byte elements, copy in, copy out;
 *  - zc:      the same ring through the zero-copy peek API, written and read in place;
 *  - ptr+mp:  pointer ring + rte_mempool of 64-byte objects (get, fill, enqueue;
 *             dequeue, read, put);
 * and then the whole data plane: GNTTABOP_copy ops of 64 or 1500 bytes, 32
 * per hypercall, the op array in the client's guest memory, submitted on a
 * hypercall ring, executed by one worker, completed and every status
 * checked (round trip).
 * Prints one JSON line per configuration. Suite 'perf'.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

#include "dp_common.h"

#define BURST 32u
#define N_ELEMS (2u * 1000u * 1000u)
#define RING_SZ 1024u
/*
 * Repetitions per configuration; the JSON line gives the minimum and the
 * median, since this 2-core machine is shared and single runs are noisy.
 */
#define REPS 7

enum mode { M_ELEM, M_ZC, M_PTR };

/* One transport element: a cache line, as a ring entry of that size would be. */
struct elem {
	uint64_t user_data;
	uint16_t len;
	uint8_t pad[54];
};

_Static_assert(sizeof(struct elem) == 64, "one cache line");

struct bench {
	enum mode mode;
	struct rte_ring *r;
	struct rte_mempool *mp;
	uint64_t sum;
};

static void
fill(struct elem *q, uint64_t i)
{
	q->user_data = i;
	q->len = 64;
}

static int
consumer(void *arg)
{
	struct bench *b = arg;
	struct elem local[BURST];
	void *ptrs[BURST];
	struct rte_ring_zc_data zcd;
	uint64_t got = 0, sum = 0;
	unsigned int n, i;

	while (got < N_ELEMS) {
		switch (b->mode) {
		case M_ELEM:
			n = rte_ring_sc_dequeue_burst_elem(b->r, local, sizeof(local[0]), BURST,
							   NULL);
			for (i = 0; i < n; i++)
				sum += local[i].user_data + local[i].len;
			break;
		case M_ZC:
			n = rte_ring_dequeue_zc_burst_elem_start(b->r, sizeof(local[0]), BURST,
								 &zcd, NULL);
			for (i = 0; i < n; i++) {
				const struct elem *q = i < zcd.n1 ?
					(const struct elem *)zcd.ptr1 + i :
					(const struct elem *)zcd.ptr2 + (i - zcd.n1);

				sum += q->user_data + q->len;
			}
			rte_ring_dequeue_zc_elem_finish(b->r, n);
			break;
		default:
			n = rte_ring_sc_dequeue_burst(b->r, ptrs, BURST, NULL);
			for (i = 0; i < n; i++) {
				const struct elem *q = ptrs[i];

				sum += q->user_data + q->len;
			}
			if (n)
				rte_mempool_put_bulk(b->mp, ptrs, n);
		}
		got += n;
	}
	b->sum = sum;
	return 0;
}

static unsigned int
produce(struct bench *b, uint64_t base, unsigned int n)
{
	struct elem local[BURST];
	struct rte_ring_zc_data zcd;
	void *ptrs[BURST];
	unsigned int i, done;

	switch (b->mode) {
	case M_ELEM:
		for (i = 0; i < n; i++)
			fill(&local[i], base + i);
		return rte_ring_sp_enqueue_burst_elem(b->r, local, sizeof(local[0]), n, NULL);
	case M_ZC:
		done = rte_ring_enqueue_zc_burst_elem_start(b->r, sizeof(local[0]), n, &zcd, NULL);
		for (i = 0; i < done; i++)
			fill(i < zcd.n1 ? (struct elem *)zcd.ptr1 + i :
					  (struct elem *)zcd.ptr2 + (i - zcd.n1), base + i);
		rte_ring_enqueue_zc_elem_finish(b->r, done);
		return done;
	default:
		if (rte_mempool_get_bulk(b->mp, ptrs, n) != 0)
			return 0;
		for (i = 0; i < n; i++)
			fill(ptrs[i], base + i);
		done = rte_ring_sp_enqueue_burst(b->r, ptrs, n, NULL);
		if (done < n)
			rte_mempool_put_bulk(b->mp, ptrs + done, n - done);
		return done;
	}
}

static int
transport_once(enum mode mode, const char *name, double *cycles)
{
	struct bench b = { .mode = mode };
	uint64_t sent = 0, t0, t1, expect = 0;

	b.r = rte_ring_create_elem(name,
				   mode == M_PTR ? sizeof(void *) : sizeof(struct elem),
				   RING_SZ, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	CHECK(b.r != NULL);
	if (mode == M_PTR) {
		b.mp = rte_mempool_create("bench_mp", 4095, sizeof(struct elem), 256, 0,
					  NULL, NULL, NULL, NULL, (int)rte_socket_id(), 0);
		CHECK(b.mp != NULL);
	}
	CHECK(rte_eal_remote_launch(consumer, &b, 1) == 0);
	t0 = rte_rdtsc();
	while (sent < N_ELEMS)
		sent += produce(&b, sent, (unsigned int)RTE_MIN((uint64_t)BURST, N_ELEMS - sent));
	rte_eal_wait_lcore(1);
	t1 = rte_rdtsc();
	for (uint64_t i = 0; i < N_ELEMS; i++)
		expect += i + 64;
	CHECK(b.sum == expect);
	*cycles = (double)(t1 - t0) / N_ELEMS;
	rte_ring_free(b.r);
	rte_mempool_free(b.mp);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
print_line(const char *head, double *c, const char *tail)
{
	double hz = (double)rte_get_tsc_hz();

	qsort(c, REPS, sizeof(*c), cmp_double);
	printf("{%s,\"reps\":%d,\"cycles_min\":%.1f,\"cycles_median\":%.1f,"
	       "\"mops_best\":%.2f,\"mops_median\":%.2f%s}\n", head, REPS, c[0], c[REPS / 2],
	       hz / c[0] / 1e6, hz / c[REPS / 2] / 1e6, tail);
}

static int
transport(enum mode mode, const char *name)
{
	double c[REPS];
	char head[160];

	for (int i = 0; i < REPS; i++)
		CHECK(transport_once(mode, name, &c[i]) == 0);
	snprintf(head, sizeof(head),
		 "\"bench\":\"ring_transport\",\"mode\":\"%s\",\"elem_bytes\":64,\"burst\":%u,"
		 "\"copy\":\"none (ring transport only)\",\"n\":%u", name, BURST, N_ELEMS);
	print_line(head, c, "");
	return 0;
}

/* CPU time of this thread, in TSC cycles (the "same" placement's clock). */
static double
thread_cycles(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9) * (double)rte_get_tsc_hz();
}

/*
 * Whole data plane: hypercalls of BURST copies, one worker executes, the
 * client reaps and checks every status in guest memory.
 * same: the worker is a manual one on this thread (gntdp_dp_poll() after each
 * submit) and the clock is this thread's CPU time, which time slicing on a
 * loaded machine does not inflate: client + worker cycles per op.
 */
static int
round_trip_once(unsigned int len, bool cache, bool same, double *cycles, double *idle, char *copy,
		size_t copy_size)
{
	struct gntdp_hcall_cqe cqes[64];
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;
	struct dp_ring_conf rc;
	struct dp_ring q;
	struct test_world w;
	const uint64_t calls = 1000u * 1000u / BURST;
	uint64_t sent = 0, done = 0, bad = 0;
	double t0, t1;

	CHECK(dp_test_world(&w) == 0);
	for (uint32_t k = 0; k < 8; k++)
		CHECK(dp_test_grant(w.gt, DOM_GRANTER, 8 + k, DOM_CLIENT, k, false) == 0);
	gntdp_dp_conf_init(&conf);
	conf.cache = cache;
	if (same) {
		conf.worker_lcores[0] = rte_get_main_lcore();
		conf.nb_workers = 1;
	}
	CHECK(gntdp_dp_create(w.gt, &conf, &dp) == 0);
	dp_ring_conf_init(&rc, DOM_CLIENT);
	rc.hc.sq_entries = 64;
	rc.hc.cq_entries = 64;
	rc.area_frames = 32;
	rc.slot_bytes = BURST * sizeof(struct gntdp_gnttab_copy);
	CHECK(dp_ring_create(dp, w.gt, &rc, &q) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	t0 = same ? thread_cycles() : (double)rte_rdtsc();
	while (done < calls) {
		unsigned int n;

		/* One call onto the SQ while an array slot is free, the array rebuilt in place. */
		if (sent < calls && sent - done < q.nb_slots) {
			struct gntdp_gnttab_copy *ops = dp_ring_ops(&q, (unsigned int)sent);

			for (unsigned int i = 0; i < BURST; i++) {
				uint64_t j = sent * BURST + i;

				dp_copy_to_gref(&ops[i], j % 8, 0, DOM_GRANTER,
						8 + (uint32_t)(j % 8),
						(uint16_t)((j * 64) % (4096 - len + 1) & ~63u),
						(uint16_t)len);
			}
			sent += dp_ring_post(&q, (unsigned int)sent, GNTDP_GNTTABOP_COPY, NULL,
					     BURST, sent);
		}
		if (same)
			gntdp_dp_poll(dp, 0);
		n = gntdp_dp_hcall_reap_burst(q.r, cqes, 64);
		for (unsigned int i = 0; i < n; i++) {
			const void *ops = dp_ring_ops(&q, (unsigned int)cqes[i].user_data);

			bad += cqes[i].rc != 0;
			for (unsigned int k = 0; k < BURST; k++)
				bad += dp_op_status(GNTDP_GNTTABOP_COPY, ops, k) !=
				       GNTDP_GNTST_OKAY;
		}
		done += n;
	}
	t1 = same ? thread_cycles() : (double)rte_rdtsc();
	gntdp_dp_stop(dp);
	CHECKF(bad == 0, "%" PRIu64 " bad rcs or statuses", bad);
	*cycles = (t1 - t0) / (double)(calls * BURST);
	{
		struct gntdp_dp_stats st;

		/* Who limits the round trip: a worker that often finds nothing waits on the client. */
		CHECK(gntdp_dp_stats_get(dp, &st) == 0);
		*idle = (double)st.idle_polls / (double)(st.idle_polls + st.busy_polls);
	}
	snprintf(copy, copy_size, "%s", gntdp_dp_copy_name(dp));
	CHECK(dp_ring_destroy(dp, &q) == 0);
	gntdp_dp_destroy(dp);
	dp_test_world_destroy(&w);
	return 0;
}

static int
round_trip(unsigned int len, bool cache, bool same)
{
	double c[REPS], idle[REPS];
	char head[240], copy[32], tail[64];

	for (int i = 0; i < REPS; i++)
		CHECK(round_trip_once(len, cache, same, &c[i], &idle[i], copy, sizeof(copy)) == 0);
	qsort(idle, REPS, sizeof(idle[0]), cmp_double);
	snprintf(tail, sizeof(tail), ",\"worker_idle_poll_frac_median\":%.2f", idle[REPS / 2]);
	snprintf(head, sizeof(head),
		 "\"bench\":\"dp_round_trip\",\"placement\":\"%s\",\"op\":\"copy\","
		 "\"len\":%u,\"cache\":%s,\"interface\":\"hcall\",\"ops_per_call\":%u,"
		 "\"copy\":\"%s\",\"n\":%u",
		 same ? "same" : "cross", len, cache ? "true" : "false", BURST, copy,
		 1000u * 1000u / BURST * BURST);
	print_line(head, c, tail);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	rc = dp_test_eal("bench_dp_ring", argc, argv);
	if (rc != 0)
		return rc;
	/* argv[3]: "round-trip" runs only the round trips, "same" only the same-thread ones. */
	const char *only = argc > 3 ? argv[3] : "";

	if (strcmp(only, "round-trip") != 0 && strcmp(only, "same") != 0) {
		rc = transport(M_ELEM, "elem");
		rc |= transport(M_ZC, "zc");
		rc |= transport(M_PTR, "ptr_mempool");
	}
	for (int same = strcmp(only, "same") == 0; same < 2; same++) {
		rc |= round_trip(64, true, same);
		rc |= round_trip(64, false, same);
		rc |= round_trip(1500, true, same);
	}
	return dp_test_finish(NULL, NULL, rc);
}
