/* SPDX-License-Identifier: MIT */
/*
 * One and two worker lcores. Four queues from two client domains are spread
 * over the workers (queue i -> worker i % nb_workers). Each queue writes
 * its own granter frame and all of them read one shared read-only grant,
 * so with two workers two contexts pin the same entry concurrently. Every
 * queue's completions must come back exactly once and in order, the data
 * must land, both workers must have done work, and the summed stats must
 * equal the per-worker ones.
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
#define N_PER_Q 40000u
#define SHARED_REF 20u
#define SHARED_GFN 40u

static const gntdp_domid_t q_dom[NB_Q] = { DOM_CLIENT, DOM_CLIENT2, DOM_CLIENT, DOM_CLIENT2 };

static void
make_req(struct gntdp_dp_req *r, unsigned int q, uint32_t i)
{
	uint16_t off = (uint16_t)(((i / 2u) * 16u) % 4096u);
	uint64_t ud = ((uint64_t)q << 32) | i;

	if (i % 2u == 0) /* own frame q -> granter ref 8+q */
		dp_req_copy_to_gref(r, ud, q, off, DOM_GRANTER, 8u + q, off, 16);
	else /* shared read-only ref -> own frame 16+q */
		dp_req_copy_from_gref(r, ud, DOM_GRANTER, SHARED_REF, off, 16u + q, off, 16);
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

static int
traffic(struct gntdp_dp_queue *qs[NB_Q])
{
	struct gntdp_dp_req r[32];
	struct gntdp_dp_cpl c[64];
	uint32_t sent[NB_Q] = { 0 }, done[NB_Q] = { 0 }, total = 0, i, n;
	uint64_t end = dp_now_ms() + 45000;
	unsigned int q;

	while (total < NB_Q * N_PER_Q && dp_now_ms() < end) {
		for (q = 0; q < NB_Q; q++) {
			n = N_PER_Q - sent[q] < 32 ? N_PER_Q - sent[q] : 32;
			for (i = 0; i < n; i++) {
				struct gntdp_gnttab_copy *c2 = &r[i].op.copy;

				make_req(&r[i], q, sent[q] + i);
				if (q_dom[q] == DOM_CLIENT2 && c2->source.domid == DOM_GRANTER)
					c2->source.u.ref = SHARED_REF + 1;
			}
			sent[q] += gntdp_dp_submit_burst(qs[q], r, n);
			n = gntdp_dp_complete_burst(qs[q], c, 64);
			for (i = 0; i < n; i++) {
				CHECKF(c[i].user_data == (((uint64_t)q << 32) | (done[q] + i)),
				       "queue %u completion %u", q, done[q] + i);
				CHECKF(c[i].status == GNTDP_GNTST_OKAY, "queue %u op %u status %d",
				       q, done[q] + i, c[i].status);
			}
			done[q] += n;
			total += n;
		}
	}
	CHECKF(total == NB_Q * N_PER_Q, "%u of %u completions", total, NB_Q * N_PER_Q);
	return 0;
}

static int
verify(struct test_world *w, struct gntdp_dp *dp, unsigned int nb_workers)
{
	struct gntdp_dp_stats sum, one, acc;
	struct gntdp_dp_queue_info qi;
	unsigned int q, i, wk, lcore;

	for (q = 0; q < NB_Q; q++) {
		const uint8_t *g = gntdp_domain_frame(w->gt, DOM_GRANTER, 8u + q);
		const uint8_t *l = gntdp_domain_frame(w->gt, q_dom[q], 16u + q);

		for (i = 0; i < 4096; i++) {
			CHECKF(g[i] == (uint8_t)(q * 7u + i * 3u), "queue %u granter byte %u", q,
			       i);
			CHECKF(l[i] == (uint8_t)(i ^ 0xA5u), "queue %u local byte %u", q, i);
		}
		CHECK(gntdp_dp_queue_info(dp, q, &qi) == 0);
		CHECK(qi.worker == q % nb_workers && qi.domid == q_dom[q]);
		CHECK(qi.completed == N_PER_Q && qi.reaped == N_PER_Q);
	}
	CHECK(gntdp_dp_worker_count(dp) == nb_workers);
	memset(&acc, 0, sizeof(acc));
	for (wk = 0; wk < nb_workers; wk++) {
		CHECK(gntdp_dp_worker_stats_get(dp, wk, &one, &lcore) == 0);
		CHECKF(one.ops == N_PER_Q * (NB_Q / nb_workers), "worker %u did %llu ops", wk,
		       (unsigned long long)one.ops);
		CHECK(one.busy_polls > 0);
		printf("worker %u (lcore %u): %llu ops, %llu busy / %llu idle polls\n", wk, lcore,
		       (unsigned long long)one.ops, (unsigned long long)one.busy_polls,
		       (unsigned long long)one.idle_polls);
		acc.ops += one.ops;
		acc.copy_bytes += one.copy_bytes;
		acc.batches += one.batches;
	}
	CHECK(gntdp_dp_stats_get(dp, &sum) == 0);
	CHECK(sum.ops == acc.ops && sum.copy_bytes == acc.copy_bytes && sum.batches == acc.batches);
	CHECK(sum.ops == NB_Q * N_PER_Q && sum.status[0] == sum.ops);
	CHECK(sum.copy_bytes == 16ull * NB_Q * N_PER_Q);
	return 0;
}

int
main(int argc, char **argv)
{
	struct gntdp_dp_queue *qs[NB_Q];
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
	conf.burst = 16;
	if (gntdp_dp_create(w.gt, &conf, &dp) != 0)
		return dp_test_finish(dp, &w, 1);
	for (q = 0; q < NB_Q; q++) {
		if (gntdp_dp_queue_create(dp, q_dom[q], &qs[q]) != 0)
			return dp_test_finish(dp, &w, 1);
	}
	rc = gntdp_dp_start(dp) == 0 ? traffic(qs) : 1;
	gntdp_dp_stop(dp);
	if (rc == 0)
		rc = verify(&w, dp, nb_workers);
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(dp, &w, rc);
}
