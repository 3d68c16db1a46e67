/* SPDX-License-Identifier: MIT */
/*
 * Exactly-once completions under back-pressure. Queue A has a 4-entry
 * completion ring and a client that drains it slowly and irregularly, so
 * the worker is throttled most of the time; every user_data must complete
 * exactly once and in order, and the throttling must show up as ring_full
 * events rather than as drops. Queue B, on the same worker, is drained
 * promptly while A is not drained at all: back-pressure on one queue must
 * not stall another.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_common.h"

#define N_A 20000u
#define N_B 10000u

/* Unique, non-sequential user_data so a duplicate or a swap cannot hide. */
static uint64_t
ud_of(uint32_t i)
{
	return ((uint64_t)i * 0x9E3779B97F4A7C15ull) ^ 0x5555u;
}

static void
fill(struct gntdp_dp_req *r, uint32_t i, uint32_t ref)
{
	uint16_t off = (uint16_t)((i * 8u) % 4096u);

	dp_req_copy_to_gref(r, ud_of(i), 0, off, DOM_GRANTER, ref, off, 8);
}

/* Queue B runs to completion while nobody drains queue A. */
static int
phase_b(struct gntdp_dp_queue *qa, struct gntdp_dp_queue *qb)
{
	struct gntdp_dp_req r[32];
	struct gntdp_dp_cpl c[32];
	uint32_t sent = 0, done = 0, i, n;
	uint64_t end = dp_now_ms() + 20000;

	/* Fill A's request ring; its 4 completions fill A's completion ring. */
	for (i = 0; i < 32; i++)
		fill(&r[i], N_A + i, 9);
	CHECK(gntdp_dp_submit_burst(qa, r, 32) == 32);
	while (done < N_B && dp_now_ms() < end) {
		n = N_B - sent < 32 ? N_B - sent : 32;
		for (i = 0; i < n; i++)
			fill(&r[i], sent + i, 10);
		sent += gntdp_dp_submit_burst(qb, r, n);
		n = gntdp_dp_complete_burst(qb, c, 32);
		for (i = 0; i < n; i++)
			CHECKF(c[i].user_data == ud_of(done + i) && c[i].status == 0,
			       "queue B completion %u", done + i);
		done += n;
	}
	CHECKF(done == N_B, "queue B stalled behind queue A: %u of %u", done, N_B);
	/* Now A: exactly its 32, in order. */
	done = dp_drain(qa, c, 32, 5000);
	CHECK(done == 32);
	for (i = 0; i < 32; i++)
		CHECK(c[i].user_data == ud_of(N_A + i) && c[i].status == 0);
	usleep(2000);
	CHECK(gntdp_dp_complete_burst(qa, c, 32) == 0);
	return 0;
}

/* Slow, irregular drain of queue A while the client keeps its request ring full. */
static int
phase_a(struct gntdp_dp_queue *qa, uint8_t *seen)
{
	struct gntdp_dp_req r[64];
	struct gntdp_dp_cpl c[4];
	uint32_t sent = 0, done = 0, i, n, iter = 0;
	uint64_t end = dp_now_ms() + 30000;

	srand(12345);
	while (done < N_A && dp_now_ms() < end) {
		n = N_A - sent < 64 ? N_A - sent : 64;
		for (i = 0; i < n; i++)
			fill(&r[i], sent + i, 8);
		sent += gntdp_dp_submit_burst(qa, r, n);
		/* Take 0..3 completions; pause now and then so the worker hits the full ring. */
		n = gntdp_dp_complete_burst(qa, c, (unsigned int)rand() % 4u);
		for (i = 0; i < n; i++) {
			CHECKF(c[i].user_data == ud_of(done + i), "completion %u out of order",
			       done + i);
			CHECK(c[i].status == GNTDP_GNTST_OKAY);
			seen[done + i]++;
		}
		done += n;
		if (++iter % 128u == 0)
			usleep(100);
	}
	CHECKF(done == N_A, "only %u of %u completions", done, N_A);
	for (i = 0; i < N_A; i++)
		CHECKF(seen[i] == 1, "request %u completed %u times", i, seen[i]);
	usleep(2000);
	CHECK(gntdp_dp_complete_burst(qa, c, 4) == 0);
	return 0;
}

static int
run(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_queue *qa,
    struct gntdp_dp_queue *qb)
{
	struct gntdp_dp_queue_info qi;
	struct gntdp_dp_stats st;
	uint8_t *seen = calloc(N_A, 1);
	int rc;

	CHECK(seen != NULL);
	for (uint32_t ref = 8; ref <= 10; ref++)
		CHECK(dp_test_grant(w->gt, DOM_GRANTER, ref, DOM_CLIENT, ref, false) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	rc = phase_a(qa, seen);
	if (rc == 0)
		rc = phase_b(qa, qb);
	gntdp_dp_stop(dp);
	free(seen);
	if (rc != 0)
		return rc;
	CHECK(gntdp_dp_queue_info(dp, 0, &qi) == 0);
	CHECK(qi.submitted == N_A + 32 && qi.completed == N_A + 32 && qi.reaped == N_A + 32);
	CHECKF(qi.ring_full > 0, "no back-pressure event recorded on queue A");
	CHECK(gntdp_dp_stats_get(dp, &st) == 0);
	CHECK(st.ops == N_A + 32 + N_B && st.status[0] == st.ops);
	CHECK(st.ring_full >= qi.ring_full);
	printf("backpressure: %u + %u requests exactly once; %llu ring-full events on queue A\n",
	       N_A + 32, N_B, (unsigned long long)qi.ring_full);
	return 0;
}

int
main(int argc, char **argv)
{
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;
	struct gntdp_dp_queue *qa, *qb;
	struct test_world w;
	int rc;

	rc = dp_test_eal("dp_backpressure", argc, argv);
	if (rc != 0)
		return rc;
	if (dp_test_world(&w) != 0)
		return dp_test_finish(NULL, &w, 1);
	gntdp_dp_conf_init(&conf);
	conf.nb_workers = 1;
	conf.worker_lcores[0] = 1;
	conf.req_ring_size = 64;
	conf.cpl_ring_size = 4;
	conf.burst = 32;
	if (gntdp_dp_create(w.gt, &conf, &dp) != 0 ||
	    gntdp_dp_queue_create(dp, DOM_CLIENT, &qa) != 0 ||
	    gntdp_dp_queue_create(dp, DOM_CLIENT, &qb) != 0)
		return dp_test_finish(dp, &w, 1);
	rc = run(&w, dp, qa, qb);
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(dp, &w, rc);
}
