/* SPDX-License-Identifier: MIT */
/*
 * Exactly-once completions when a hypercall ring's CQ is full. Ring A has a
 * 4-entry CQ (64-entry SQ) and a client that reaps it slowly and
 * irregularly, so the worker is throttled by the CQ most of the time: every
 * call must complete exactly once and in order with every op done, and the
 * throttling must show up as cq_full polls rather than as lost or doubled
 * calls. Then nobody reaps A: with 32 calls submitted the worker takes
 * exactly the 4 the CQ has room for and no more (sq_head stops, the other
 * calls' ops never run) while it keeps counting the full CQ, and ring B, on
 * the same worker, is served promptly throughout: a full CQ stops only its
 * own ring. A's 32 complete, in order, once it is reaped again.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_common.h"

#define N_A 20000u
#define N_B 10000u
#define OPS 2u     /* copies of 8 bytes per call */
#define SLOTS 128u /* op arrays per ring: more than SQ + CQ, the most in flight */
#define SQ 64u
#define CQ_A 4u
#define STUCK 32u /* calls submitted on A while nobody reaps it */

/* Unique, non-sequential user_data so a duplicate or a swap cannot hide. */
static uint64_t
ud_of(uint32_t i)
{
	return ((uint64_t)i * 0x9E3779B97F4A7C15ull) ^ 0x5555u;
}

/* Call @i on @r: OPS copies of 8 bytes of client frame 0 into granter ref @ref. */
static unsigned int
post(struct dp_ring *r, uint32_t i, uint32_t ref)
{
	struct gntdp_gnttab_copy ops[OPS];

	for (unsigned int k = 0; k < OPS; k++) {
		uint16_t off = (uint16_t)(((i * OPS + k) * 8u) % 4096u);

		dp_copy_to_gref(&ops[k], 0, off, DOM_GRANTER, ref, off, 8);
	}
	return dp_ring_post(r, i % SLOTS, GNTDP_GNTTABOP_COPY, ops, OPS, ud_of(i));
}

/* Completion of call @i on @r: its user_data, rc 0, every op's status written back okay. */
static int
check_done(struct dp_ring *r, const struct gntdp_hcall_cqe *c, uint32_t i, const char *ring)
{
	const void *ops = dp_ring_ops(r, i % SLOTS);

	CHECKF(c->user_data == ud_of(i), "ring %s: completion %u out of order", ring, i);
	CHECKF(c->rc == 0, "ring %s: call %u rc %d", ring, i, c->rc);
	for (unsigned int k = 0; k < OPS; k++)
		CHECKF(dp_op_status(GNTDP_GNTTABOP_COPY, ops, k) == GNTDP_GNTST_OKAY,
		       "ring %s: call %u op %u status %d", ring, i, k,
		       dp_op_status(GNTDP_GNTTABOP_COPY, ops, k));
	return 0;
}

static uint32_t
sq_head(struct dp_ring *r)
{
	const struct gntdp_hcall_ring_hdr *h = gntdp_dp_hcall_mem(r->r, NULL);

	return __atomic_load_n(&h->sq_head, __ATOMIC_ACQUIRE);
}

/* Slow, irregular reaping of ring A while the client keeps its SQ full. */
static int
phase_a(struct dp_ring *a, uint8_t *seen)
{
	struct gntdp_hcall_cqe c[CQ_A];
	uint32_t sent = 0, done = 0, i, n, iter = 0;
	uint64_t end = dp_now_ms() + 30000;

	srand(12345);
	while (done < N_A && dp_now_ms() < end) {
		while (sent < N_A && sent - done < SLOTS && post(a, sent, 8) == 1)
			sent++;
		/* Take 0..3 completions; pause now and then so the worker finds the CQ full. */
		n = gntdp_dp_hcall_reap_burst(a->r, c, (unsigned int)rand() % 4u);
		for (i = 0; i < n; i++) {
			CHECK(check_done(a, &c[i], done + i, "A") == 0);
			seen[done + i]++;
		}
		done += n;
		if (++iter % 128u == 0)
			usleep(100);
	}
	CHECKF(done == N_A, "only %u of %u completions", done, N_A);
	for (i = 0; i < N_A; i++)
		CHECKF(seen[i] == 1, "call %u completed %u times", i, seen[i]);
	usleep(2000);
	CHECK(gntdp_dp_hcall_reap_burst(a->r, c, CQ_A) == 0);
	return 0;
}

/* Ring B runs to completion while nobody reaps ring A. */
static int
phase_b(struct dp_ring *a, struct dp_ring *b)
{
	struct gntdp_hcall_cqe c[STUCK];
	struct gntdp_dp_hcall_info i0, i1;
	uint32_t sent = 0, done = 0, i, n, head0 = sq_head(a);
	uint64_t end = dp_now_ms() + 20000;

	/* A: STUCK calls; the worker takes as many as its CQ holds, then stops. */
	for (i = 0; i < STUCK; i++)
		CHECK(post(a, N_A + i, 9) == 1);
	while (sq_head(a) - head0 < CQ_A)
		CHECK(dp_now_ms() < end);
	CHECK(gntdp_dp_hcall_info(a->r, &i0) == 0);
	while (done < N_B && dp_now_ms() < end) {
		while (sent < N_B && sent - done < SLOTS && post(b, sent, 10) == 1)
			sent++;
		n = gntdp_dp_hcall_reap_burst(b->r, c, STUCK);
		for (i = 0; i < n; i++)
			CHECK(check_done(b, &c[i], done + i, "B") == 0);
		done += n;
	}
	CHECKF(done == N_B, "ring B stalled behind ring A: %u of %u", done, N_B);
	usleep(2000);
	/* Meanwhile A's worker took nothing more, ran none of the waiting calls and counted it. */
	CHECKF(sq_head(a) - head0 == CQ_A, "the worker took %u calls with a %u-entry CQ",
	       sq_head(a) - head0, CQ_A);
	for (i = CQ_A; i < STUCK; i++)
		CHECKF(dp_op_status(GNTDP_GNTTABOP_COPY, dp_ring_ops(a, (N_A + i) % SLOTS), 0) ==
			       DP_UNSET,
		       "call %u ran while the CQ was full", N_A + i);
	CHECK(gntdp_dp_hcall_info(a->r, &i1) == 0);
	CHECKF(i1.cq_full > i0.cq_full && i1.calls == N_A + CQ_A,
	       "cq_full %llu -> %llu, calls %llu", (unsigned long long)i0.cq_full,
	       (unsigned long long)i1.cq_full, (unsigned long long)i1.calls);
	/* Now A: exactly its STUCK calls, in order. */
	CHECK(dp_ring_drain(a, c, STUCK, 5000) == STUCK);
	for (i = 0; i < STUCK; i++)
		CHECK(check_done(a, &c[i], N_A + i, "A") == 0);
	usleep(2000);
	CHECK(gntdp_dp_hcall_reap_burst(a->r, c, STUCK) == 0);
	return 0;
}

static int
run(struct test_world *w, struct gntdp_dp *dp, struct dp_ring *a, struct dp_ring *b)
{
	struct gntdp_dp_hcall_info ia, ib;
	struct gntdp_dp_stats st;
	uint8_t *seen = calloc(N_A, 1);
	int rc;

	CHECK(seen != NULL);
	for (uint32_t ref = 8; ref <= 10; ref++)
		CHECK(dp_test_grant(w->gt, DOM_GRANTER, ref, DOM_CLIENT, ref, false) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	rc = phase_a(a, seen);
	if (rc == 0)
		rc = phase_b(a, b);
	gntdp_dp_stop(dp);
	free(seen);
	if (rc != 0)
		return rc;
	CHECK(gntdp_dp_hcall_info(a->r, &ia) == 0 && gntdp_dp_hcall_info(b->r, &ib) == 0);
	CHECK(ia.calls == N_A + STUCK && ia.ops == (N_A + STUCK) * OPS && ia.errors == 0);
	CHECK(ib.calls == N_B && ib.errors == 0);
	CHECKF(ia.cq_full > 0, "no full-CQ poll recorded on ring A");
	CHECK(gntdp_dp_stats_get(dp, &st) == 0);
	/* Every op copied its 8 bytes exactly once. */
	CHECK(st.copy_bytes == (uint64_t)(N_A + STUCK + N_B) * OPS * 8u);
	/* The worker counts the rings' ops and calls, and their full-CQ polls. */
	CHECK(st.ops == ia.ops + ib.ops && st.batches == ia.calls + ib.calls);
	CHECK(st.ring_full == ia.cq_full + ib.cq_full);
	printf("backpressure: %u + %u calls exactly once; %llu full-CQ polls on ring A\n",
	       N_A + STUCK, N_B, (unsigned long long)ia.cq_full);
	return 0;
}

int
main(int argc, char **argv)
{
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;
	struct dp_ring_conf rc_a, rc_b;
	struct dp_ring a, b;
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
	dp_ring_conf_init(&rc_a, DOM_CLIENT);
	rc_a.hc.sq_entries = SQ;
	rc_a.hc.cq_entries = CQ_A;
	rc_a.hc.burst = 32;
	rc_a.slot_bytes = OPS * sizeof(struct gntdp_gnttab_copy);
	rc_b = rc_a;
	rc_b.hc.cq_entries = SQ;
	rc_b.area_gfn = DP_AREA_GFN + rc_a.area_frames;
	if (gntdp_dp_create(w.gt, &conf, &dp) != 0 || dp_ring_create(dp, w.gt, &rc_a, &a) != 0 ||
	    dp_ring_create(dp, w.gt, &rc_b, &b) != 0)
		return dp_test_finish(dp, &w, 1);
	CHECK(a.nb_slots >= SLOTS && b.nb_slots >= SLOTS);
	rc = run(&w, dp, &a, &b);
	if (dp_ring_destroy(dp, &a) != 0 || dp_ring_destroy(dp, &b) != 0)
		rc = 1;
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(dp, &w, rc);
}
