/* SPDX-License-Identifier: MIT */
/*
 * One and two worker lcores. Four hypercall rings from two client domains
 * are spread over the workers (ring i on worker i % nb_workers), each with
 * its op arrays in its client's guest memory. Each ring writes its own
 * granter frame and all of them read one shared read-only grant, so with
 * two workers two contexts pin the same entry concurrently. Every ring's
 * completions must come back exactly once and in order with every op done,
 * the data must land, each worker must have copied exactly the bytes of
 * its own rings, and the summed stats must equal the per-worker ones.
 *
 * argv[3] is the expected number of workers. The machine has two cores;
 * the two-worker variant runs the main lcore (the client) and two workers
 * as three EAL threads floating over both CPUs (--lcores=(0-2)@(0-1)), so
 * the workers are time-sliced: slow, but the semantics are the same.
 */
#include <stdlib.h>
#include <string.h>

#include "dp_common.h"

#define NB_Q 4u
#define N_PER_Q 160000u /* ops per ring */
#define OPS 16u         /* ops per call */
#define RING 32u
#define SHARED_REF 20u
#define SHARED_GFN 40u

static const gntdp_domid_t q_dom[NB_Q] = { DOM_CLIENT, DOM_CLIENT2, DOM_CLIENT, DOM_CLIENT2 };

/* Op @i of ring @q. */
static void
make_op(struct gntdp_gnttab_copy *op, unsigned int q, uint32_t i)
{
	uint16_t off = (uint16_t)(((i / 2u) * 16u) % 4096u);
	/* One entry, one grantee: the shared ref serves DOM_CLIENT; DOM_CLIENT2 gets its twin. */
	uint32_t shared = q_dom[q] == DOM_CLIENT ? SHARED_REF : SHARED_REF + 1;

	if (i % 2u == 0) /* own frame q -> granter ref 8+q */
		dp_copy_to_gref(op, q, off, DOM_GRANTER, 8u + q, off, 16);
	else /* shared read-only ref -> own frame 16+q */
		dp_copy_from_gref(op, DOM_GRANTER, shared, off, 16u + q, off, 16);
}

static int
setup(struct test_world *w)
{
	unsigned int q, i;
	uint8_t *f;

	for (q = 0; q < NB_Q; q++) {
		f = gntdp_domain_frame(w->gt, q_dom[q], q);
		CHECK(f != NULL);
		for (i = 0; i < 4096; i++)
			f[i] = (uint8_t)(q * 7u + i * 3u);
		CHECK(dp_test_grant(w->gt, DOM_GRANTER, 8u + q, q_dom[q], 8u + q, false) == 0);
	}
	f = gntdp_domain_frame(w->gt, DOM_GRANTER, SHARED_GFN);
	for (i = 0; i < 4096; i++)
		f[i] = (uint8_t)(i ^ 0xA5u);
	/* One entry, one grantee: the shared ref serves DOM_CLIENT; DOM_CLIENT2 gets its twin. */
	CHECK(dp_test_grant(w->gt, DOM_GRANTER, SHARED_REF, DOM_CLIENT, SHARED_GFN, true) == 0);
	CHECK(dp_test_grant(w->gt, DOM_GRANTER, SHARED_REF + 1, DOM_CLIENT2, SHARED_GFN, true) ==
	      0);
	return 0;
}

#define CALLS (N_PER_Q / OPS)

static int
traffic(struct dp_ring rs[NB_Q])
{
	struct gntdp_gnttab_copy ops[OPS];
	struct gntdp_hcall_cqe c[64];
	uint32_t sent[NB_Q] = { 0 }, done[NB_Q] = { 0 }, total = 0, i, n;
	uint64_t end = dp_now_ms() + 45000;
	unsigned int q;

	while (total < NB_Q * CALLS && dp_now_ms() < end) {
		for (q = 0; q < NB_Q; q++) {
			struct dp_ring *r = &rs[q];

			/* A few calls per ring per round, while op array slots are free. */
			for (unsigned int k = 0;
			     k < 4 && sent[q] < CALLS && sent[q] - done[q] < r->nb_slots; k++) {
				for (i = 0; i < OPS; i++)
					make_op(&ops[i], q, sent[q] * OPS + i);
				if (dp_ring_post(r, sent[q], GNTDP_GNTTABOP_COPY, ops, OPS,
						 ((uint64_t)q << 32) | sent[q]) == 0)
					break;
				sent[q]++;
			}
			n = gntdp_dp_hcall_reap_burst(r->r, c, 64);
			for (i = 0; i < n; i++) {
				const void *st = dp_ring_ops(r, done[q] + i);

				CHECKF(c[i].user_data == (((uint64_t)q << 32) | (done[q] + i)) &&
					       c[i].rc == 0,
				       "ring %u completion %u: rc %d", q, done[q] + i, c[i].rc);
				for (unsigned int k = 0; k < OPS; k++)
					CHECKF(dp_op_status(GNTDP_GNTTABOP_COPY, st, k) ==
						       GNTDP_GNTST_OKAY,
					       "ring %u call %u op %u status %d", q, done[q] + i, k,
					       dp_op_status(GNTDP_GNTTABOP_COPY, st, k));
			}
			done[q] += n;
			total += n;
		}
	}
	CHECKF(total == NB_Q * CALLS, "%u of %u completions", total, NB_Q * CALLS);
	return 0;
}

static int
verify(struct test_world *w, struct gntdp_dp *dp, struct dp_ring rs[NB_Q], unsigned int nb_workers)
{
	struct gntdp_dp_stats sum, one, acc;
	struct gntdp_dp_hcall_info hi;
	unsigned int q, i, wk, lcore;

	for (q = 0; q < NB_Q; q++) {
		const uint8_t *g = gntdp_domain_frame(w->gt, DOM_GRANTER, 8u + q);
		const uint8_t *l = gntdp_domain_frame(w->gt, q_dom[q], 16u + q);

		for (i = 0; i < 4096; i++) {
			CHECKF(g[i] == (uint8_t)(q * 7u + i * 3u), "queue %u granter byte %u", q,
			       i);
			CHECKF(l[i] == (uint8_t)(i ^ 0xA5u), "queue %u local byte %u", q, i);
		}
		CHECK(gntdp_dp_hcall_info(rs[q].r, &hi) == 0);
		CHECK(hi.worker == q % nb_workers && hi.domid == q_dom[q]);
		CHECKF(hi.calls == CALLS && hi.ops == N_PER_Q && hi.faults == 0 && hi.errors == 0 &&
			       !hi.disabled,
		       "ring %u: %llu calls %llu ops", q, (unsigned long long)hi.calls,
		       (unsigned long long)hi.ops);
	}
	CHECK(gntdp_dp_worker_count(dp) == nb_workers);
	memset(&acc, 0, sizeof(acc));
	for (wk = 0; wk < nb_workers; wk++) {
		CHECK(gntdp_dp_worker_stats_get(dp, wk, &one, &lcore) == 0);
		/* Each worker copied the 16 bytes of every op of its own rings, and only those. */
		CHECKF(one.copy_bytes == 16ull * N_PER_Q * (NB_Q / nb_workers),
		       "worker %u copied %llu bytes", wk, (unsigned long long)one.copy_bytes);
		CHECK(one.busy_polls > 0);
		/* The worker counts its rings' ops and calls. */
		CHECK(one.ops == N_PER_Q * (NB_Q / nb_workers));
		CHECK(one.batches == CALLS * (NB_Q / nb_workers));
		printf("worker %u (lcore %u): %llu bytes copied, %llu busy / %llu idle polls\n", wk,
		       lcore, (unsigned long long)one.copy_bytes,
		       (unsigned long long)one.busy_polls, (unsigned long long)one.idle_polls);
		acc.ops += one.ops;
		acc.copy_bytes += one.copy_bytes;
		acc.batches += one.batches;
		acc.busy_polls += one.busy_polls;
		acc.cache_hits += one.cache_hits;
	}
	CHECK(gntdp_dp_stats_get(dp, &sum) == 0);
	CHECK(sum.ops == acc.ops && sum.copy_bytes == acc.copy_bytes && sum.batches == acc.batches);
	CHECK(sum.busy_polls == acc.busy_polls && sum.cache_hits == acc.cache_hits);
	CHECK(sum.copy_bytes == 16ull * NB_Q * N_PER_Q);
	CHECK(sum.ops == NB_Q * N_PER_Q && sum.batches == NB_Q * CALLS);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dp_ring rs[NB_Q];
	struct dp_ring_conf rc_conf;
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;
	struct test_world w;
	unsigned int q, nb_workers;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: %s huge|nohuge <lcores> <nb_workers>\n", argv[0]);
		return 1;
	}
	nb_workers = (unsigned int)strtoul(argv[3], NULL, 10);
	rc = dp_test_eal("dp_workers", argc, argv);
	if (rc != 0)
		return rc;
	if (dp_test_world(&w) != 0 || setup(&w) != 0)
		return dp_test_finish(NULL, &w, 1);
	gntdp_dp_conf_init(&conf);
	if (gntdp_dp_create(w.gt, &conf, &dp) != 0)
		return dp_test_finish(dp, &w, 1);
	memset(rs, 0, sizeof(rs));
	for (q = 0; q < NB_Q; q++) {
		/* Rings of one domain get op areas of their own. */
		dp_ring_conf_init(&rc_conf, q_dom[q]);
		rc_conf.hc.worker = q % nb_workers;
		rc_conf.hc.sq_entries = RING;
		rc_conf.hc.cq_entries = RING;
		rc_conf.hc.burst = 16;
		rc_conf.area_gfn = DP_AREA_GFN + (q / 2u) * rc_conf.area_frames;
		rc_conf.slot_bytes = OPS * sizeof(struct gntdp_gnttab_copy);
		if (dp_ring_create(dp, w.gt, &rc_conf, &rs[q]) != 0)
			return dp_test_finish(dp, &w, 1);
	}
	rc = gntdp_dp_start(dp) == 0 ? traffic(rs) : 1;
	gntdp_dp_stop(dp);
	if (rc == 0)
		rc = verify(&w, dp, rs, nb_workers);
	for (q = 0; q < NB_Q; q++) {
		if (dp_ring_destroy(dp, &rs[q]) != 0)
			rc = 1;
	}
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(dp, &w, rc);
}
