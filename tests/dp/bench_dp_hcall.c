/* SPDX-License-Identifier: MIT */
/*
 * The hypercall ring's two implementations (docs/hcall.md): 64-byte
 * GNTTABOP_copy ops (a local frame of the client to a grant ref of the
 * granter), one client on the main lcore, one worker on lcore 1, in the
 * same run (the per-op queue this used to be measured against is retired):
 *  - hcall:     one submission per 32 ops, the op array in the client's
 *               guest memory (rebuilt for every call, as a client does),
 *               the hand-written SQ/CQ of gntdp/hcall.h;
 *  - hcall_rte: the same calls through two rte_rings initialised in one
 *               memzone (rte_ring_init).
 * Every op's status is checked by the client in both. Repetitions
 * interleave the modes so that drift on the shared machine hits all of
 * them alike. One JSON line per mode; suite 'perf'.
 *
 *   bench_dp_hcall huge|nohuge 0-1 [reps]
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include <gntdp/hcall.h>

#include "dp_common.h"

#define OPS 32u
#define LEN 64u
#define NB_REFS 8u
#define FIRST_REF 8u
#define RING 32u
#define SLOTS (3u * RING) /* calls in flight at most: SQ + CQ + one worker burst */
#define ARR_GFN 16u
#define PER_FRAME 3u
#define N_OPS (2u * 1000u * 1000u)
#define MAX_REPS 15

enum mode { M_HCALL, M_HCALL_RTE, M_COUNT };
static const char *const mode_names[M_COUNT] = {"hcall", "hcall_rte"};

static uint64_t
slot_ga(unsigned int slot)
{
	return ((uint64_t)(ARR_GFN + slot / PER_FRAME) << 12) |
	       (slot % PER_FRAME) * OPS * sizeof(struct gntdp_gnttab_copy);
}

static struct gntdp_gnttab_copy *
slot_ops(struct gntdp_gnttab *gt, unsigned int slot)
{
	uint64_t ga = slot_ga(slot);

	return (struct gntdp_gnttab_copy *)(void *)((uint8_t *)gntdp_domain_frame(gt, DOM_CLIENT,
										  ga >> 12) +
						    (ga & 4095));
}

/* The j-th op of the run: 64 bytes of client frame j % 8 into granter ref 8 + j % 8. */
static void
fill_op(struct gntdp_gnttab_copy *op, uint64_t j)
{
	op->source.u.gmfn = j % NB_REFS;
	op->source.domid = GNTDP_DOMID_SELF;
	op->source.offset = 0;
	op->dest.u.ref = FIRST_REF + (uint32_t)(j % NB_REFS);
	op->dest.domid = DOM_GRANTER;
	op->dest.offset = (uint16_t)((j * 64) % 4096);
	op->len = LEN;
	op->flags = GNTDP_GNTCOPY_DEST_GREF;
	op->status = 1;
}

static int
run_hcall(struct gntdp_gnttab *gt, struct gntdp_dp *dp, bool manual, struct gntdp_dp_hcall *r,
	  uint64_t *bad)
{
	const uint64_t calls = N_OPS / OPS;
	struct gntdp_hcall_cqe cqes[RING];
	uint64_t sent = 0, done = 0;

	while (done < calls) {
		unsigned int n;

		/* One call at a time onto the SQ, while an array slot is free. */
		if (sent < calls && sent - done < SLOTS) {
			unsigned int slot = (unsigned int)(sent % SLOTS);
			struct gntdp_gnttab_copy *ops = slot_ops(gt, slot);
			struct gntdp_hcall_sqe s = {.user_data = slot,
						    .gaddr = slot_ga(slot),
						    .cmd = GNTDP_GNTTABOP_COPY,
						    .count = OPS};

			for (unsigned int i = 0; i < OPS; i++)
				fill_op(&ops[i], sent * OPS + i);
			sent += gntdp_dp_hcall_submit_burst(r, &s, 1);
		}
		/* Same thread: a worker iteration once a burst's worth of calls waits. */
		if (manual && (sent - done >= OPS || sent == calls))
			gntdp_dp_poll(dp, 0);
		n = gntdp_dp_hcall_reap_burst(r, cqes, RING);
		for (unsigned int i = 0; i < n; i++) {
			const struct gntdp_gnttab_copy *ops = slot_ops(gt, (unsigned int)cqes[i].user_data);

			*bad += cqes[i].rc != 0;
			for (unsigned int k = 0; k < OPS; k++)
				*bad += ops[k].status != 0;
		}
		done += n;
	}
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * One placement: "cross" (worker on lcore 1, client on the main lcore;
 * wall-clock rate) or "same" (the client thread runs the worker's
 * iterations with gntdp_dp_poll(); rate per CPU second of that thread, which
 * time slicing on a loaded machine does not distort).
 */
static int
placement(struct test_world *w, bool manual, int reps, double hz)
{
	struct gntdp_dp_hcall *rings[M_COUNT] = {NULL};
	struct gntdp_dp_hcall_conf hc;
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;
	double mops[M_COUNT][MAX_REPS];

	gntdp_dp_conf_init(&conf); /* cache on */
	if (manual) {
		conf.worker_lcores[0] = rte_get_main_lcore();
		conf.nb_workers = 1;
	}
	CHECK(gntdp_dp_create(w->gt, &conf, &dp) == 0);
	for (int m = 0; m < M_COUNT; m++) {
		gntdp_dp_hcall_conf_init(&hc);
		hc.domid = DOM_CLIENT;
		hc.sq_entries = RING;
		hc.cq_entries = RING;
		/* Default burst: 32 calls per poll. */
		hc.impl = m == M_HCALL ? GNTDP_DP_HCALL_NATIVE : GNTDP_DP_HCALL_RTE_RING;
		CHECK(gntdp_dp_hcall_create(dp, &hc, &rings[m]) == 0);
	}
	CHECK(gntdp_dp_start(dp) == 0);
	for (int rep = 0; rep < reps; rep++) {
		for (int m = 0; m < M_COUNT; m++) {
			uint64_t bad = 0, t0 = rte_rdtsc(), t1;
			double c0 = thread_cpu_s(), c1;

			CHECK(run_hcall(w->gt, dp, manual, rings[m], &bad) == 0);
			t1 = rte_rdtsc();
			c1 = thread_cpu_s();
			CHECKF(bad == 0, "%s: %" PRIu64 " bad statuses", mode_names[m], bad);
			mops[m][rep] = manual ? (double)N_OPS / (c1 - c0) / 1e6
					      : (double)N_OPS * hz / (double)(t1 - t0) / 1e6;
		}
	}
	gntdp_dp_stop(dp);
	for (int m = 0; m < M_COUNT; m++) {
		qsort(mops[m], (size_t)reps, sizeof(double), cmp_double);
		printf("{\"bench\":\"dp_hcall\",\"placement\":\"%s\",\"rate\":\"%s\","
		       "\"mode\":\"%s\",\"op\":\"copy\",\"len\":%u,\"ops_per_call\":%u,"
		       "\"copy\":\"%s\",\"n_ops\":%u,\"reps\":%d,\"mops_best\":%.2f,"
		       "\"mops_median\":%.2f,\"mops_worst\":%.2f}\n",
		       manual ? "same" : "cross", manual ? "per_cpu_second" : "wall", mode_names[m],
		       LEN, OPS, gntdp_dp_copy_name(dp), N_OPS, reps, mops[m][reps - 1],
		       mops[m][reps / 2], mops[m][0]);
	}
	for (int m = 0; m < M_COUNT; m++)
		CHECK(gntdp_dp_hcall_destroy(dp, rings[m]) == 0);
	gntdp_dp_destroy(dp);
	return 0;
}

int
main(int argc, char **argv)
{
	struct test_world w;
	double hz;
	int reps = 7, rc;

	rc = dp_test_eal("bench_dp_hcall", argc, argv);
	if (rc != 0)
		return rc;
	if (argc > 3) {
		char *end;
		unsigned long v = strtoul(argv[3], &end, 10);

		CHECKF(*end == '\0' && v >= 1 && v <= MAX_REPS, "reps: 1..%d", MAX_REPS);
		reps = (int)v;
	}
	hz = (double)rte_get_tsc_hz();
	CHECK(dp_test_world(&w) == 0);
	for (uint32_t k = 0; k < NB_REFS; k++)
		CHECK(dp_test_grant(w.gt, DOM_GRANTER, FIRST_REF + k, DOM_CLIENT, k, false) == 0);
	rc = placement(&w, false, reps, hz);
	rc |= placement(&w, true, reps, hz);
	return dp_test_finish(NULL, &w, rc);
}
