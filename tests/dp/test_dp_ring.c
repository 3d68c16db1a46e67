/* SPDX-License-Identifier: MIT */
/*
 * Ring wrap-around: far more requests than the rings hold (16-entry rings,
 * 200,000 requests, so each ring index wraps 12,500 times) through one
 * worker. Every completion must arrive once, in submission order, with the
 * status the request deserves; the copies must have landed; the counters
 * must add up. Mixed commands check the run grouping: copy runs broken by
 * query_size (count-1 command), an unknown command and a request with
 * non-zero reserved bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_common.h"

#define N_REQS 200000u
#define RING 16u
#define NB_REFS 8u
#define FIRST_REF 8u

enum kind { K_COPY, K_QUERY, K_NOSYS, K_RSVD };

static enum kind
classify(uint32_t i)
{
	if (i % 17u == 5u)
		return K_QUERY;
	if (i % 1000u == 999u)
		return K_NOSYS;
	if (i % 1000u == 500u)
		return K_RSVD;
	return K_COPY;
}

static void
make_req(struct gntdp_dp_req *r, uint32_t i)
{
	uint32_t k = i % NB_REFS;
	uint16_t off = (uint16_t)(((i / NB_REFS) * 64u) % 4096u);

	if (classify(i) == K_QUERY) {
		memset(r, 0, sizeof(*r));
		r->user_data = i;
		r->cmd = GNTDP_GNTTABOP_QUERY_SIZE;
		r->op.query_size.dom = GNTDP_DOMID_SELF;
		return;
	}
	dp_req_copy_to_gref(r, i, k, off, DOM_GRANTER, FIRST_REF + k, off, 64);
	/* 13, or 0xff (every bit of the cmd byte: not a reserved bit, -ENOSYS). */
	if (classify(i) == K_NOSYS)
		r->cmd = (i / 1000u) % 2u ? 0xff : GNTDP_DP_NB_CMDS;
	/* One reserved bit set, a different byte and bit each time: -EINVAL. */
	if (classify(i) == K_RSVD)
		r->rsvd[(i / 1000u) % 7u] = (uint8_t)(0x80u >> ((i / 1000u) % 8u));
}

static int
check_cpl(const struct gntdp_dp_cpl *c, uint32_t i)
{
	CHECKF(c->user_data == i, "completion %u has user_data %llu", i,
	       (unsigned long long)c->user_data);
	switch (classify(i)) {
	case K_QUERY:
		CHECKF(c->status == GNTDP_GNTST_OKAY && c->cmd == GNTDP_GNTTABOP_QUERY_SIZE,
		       "query_size %u: status %d", i, c->status);
		CHECK(c->out.query_size.nr_frames >= 1 && c->out.query_size.max_nr_frames >= 1);
		break;
	case K_NOSYS:
		CHECK(c->status == GNTDP_GNTST_GENERAL_ERROR && c->rc == -ENOSYS);
		break;
	case K_RSVD:
		CHECK(c->status == GNTDP_GNTST_GENERAL_ERROR && c->rc == -EINVAL);
		break;
	case K_COPY:
		CHECKF(c->status == GNTDP_GNTST_OKAY && c->rc == 0, "copy %u: status %d rc %d", i,
		       c->status, c->rc);
		break;
	}
	return 0;
}

static int
run(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_queue *q)
{
	struct gntdp_dp_req reqs[64];
	struct gntdp_dp_cpl cpls[64];
	struct gntdp_dp_stats st;
	struct gntdp_dp_queue_info qi;
	uint32_t sent = 0, done = 0, k, i, n;
	uint64_t end = dp_now_ms() + 40000;
	uint64_t count[4] = { 0 };

	/* Client frames hold a pattern; granter frames start zeroed. */
	for (k = 0; k < NB_REFS; k++) {
		uint8_t *f = gntdp_domain_frame(w->gt, DOM_CLIENT, k);

		CHECK(f != NULL);
		for (i = 0; i < 4096; i++)
			f[i] = (uint8_t)(k * 31u + i);
		CHECK(dp_test_grant(w->gt, DOM_GRANTER, FIRST_REF + k, DOM_CLIENT, k, false) == 0);
	}
	CHECK(gntdp_dp_start(dp) == 0);
	while (done < N_REQS && dp_now_ms() < end) {
		/* Submit in odd-sized chunks so ring indices wrap at every position. */
		n = 1u + sent % 23u;
		if (n > N_REQS - sent)
			n = N_REQS - sent;
		for (i = 0; i < n; i++)
			make_req(&reqs[i], sent + i);
		sent += gntdp_dp_submit_burst(q, reqs, n);
		n = gntdp_dp_complete_burst(q, cpls, 64);
		for (i = 0; i < n; i++) {
			if (check_cpl(&cpls[i], done + i) != 0)
				return 1;
		}
		done += n;
	}
	gntdp_dp_stop(dp);
	CHECKF(done == N_REQS, "only %u of %u completions", done, N_REQS);
	CHECK(gntdp_dp_complete_burst(q, cpls, 64) == 0); /* nothing extra */

	for (k = 0; k < NB_REFS; k++) {
		const uint8_t *f = gntdp_domain_frame(w->gt, DOM_GRANTER, k);

		for (i = 0; i < 4096; i++)
			CHECKF(f[i] == (uint8_t)(k * 31u + i), "frame %u byte %u", k, i);
	}
	for (i = 0; i < N_REQS; i++)
		count[classify(i)]++;
	CHECK(gntdp_dp_stats_get(dp, &st) == 0);
	CHECK(st.ops == N_REQS);
	CHECK(st.ops_by_cmd[GNTDP_GNTTABOP_COPY] == count[K_COPY] + count[K_RSVD]);
	CHECK(st.ops_by_cmd[GNTDP_GNTTABOP_QUERY_SIZE] == count[K_QUERY]);
	/* cmd 13 is not counted by cmd; every other completion is. */
	{
		uint64_t by_cmd = 0;

		for (k = 0; k < GNTDP_DP_NB_CMDS; k++)
			by_cmd += st.ops_by_cmd[k];
		CHECK(by_cmd == N_REQS - count[K_NOSYS]);
	}
	CHECK(st.status[0] == count[K_COPY] + count[K_QUERY]);
	CHECK(st.status[1] == count[K_NOSYS] + count[K_RSVD]);
	CHECK(st.call_errors == count[K_NOSYS] + count[K_RSVD]);
	CHECKF(st.copy_bytes == count[K_COPY] * 64u, "copy_bytes %llu",
	       (unsigned long long)st.copy_bytes);
	CHECK(st.busy_polls > 0);
	CHECK(gntdp_dp_queue_info(dp, 0, &qi) == 0);
	CHECK(qi.submitted == N_REQS && qi.completed == N_REQS && qi.reaped == N_REQS);
	CHECK(qi.req_pending == 0 && qi.cpl_pending == 0);
	printf("ring: %u requests through %u-entry rings, %llu bursts, "
	       "%llu busy / %llu idle polls, cache %llu hits %llu misses\n", N_REQS, RING,
	       (unsigned long long)st.batches,
	       (unsigned long long)st.busy_polls, (unsigned long long)st.idle_polls,
	       (unsigned long long)st.cache_hits, (unsigned long long)st.cache_misses);
	return 0;
}

int
main(int argc, char **argv)
{
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;
	struct gntdp_dp_queue *q;
	struct test_world w;
	int rc;

	rc = dp_test_eal("dp_ring", argc, argv);
	if (rc != 0)
		return rc;
	if (dp_test_world(&w) != 0)
		return dp_test_finish(NULL, &w, 1);
	gntdp_dp_conf_init(&conf);
	conf.req_ring_size = RING;
	conf.cpl_ring_size = RING;
	conf.burst = 8;
	if (gntdp_dp_create(w.gt, &conf, &dp) != 0 ||
	    gntdp_dp_queue_create(dp, DOM_CLIENT, &q) != 0)
		return dp_test_finish(dp, &w, 1);
	rc = run(&w, dp, q);
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(dp, &w, rc);
}
