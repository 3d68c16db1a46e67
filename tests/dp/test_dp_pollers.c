/* SPDX-License-Identifier: MIT */
/*
 * Pollers (include/gntdp/dataplane.h, docs/dataplane.md) and copy-kernel
 * selection by name:
 *
 *  1. registration errors; a poller runs once per iteration after the
 *     pollers registered before it (here a hypercall ring's "hcall" poller,
 *     whose completion the next poller already sees), gets its worker's env
 *     (context, clock, hold, iteration, worker and lcore), and its
 *     busy/idle calls are counted; the iteration returns the sum of what
 *     the pollers returned (the ring's: the calls it took);
 *  2. while running: registration and context creation are refused with
 *     -EBUSY, the poller runs on the worker's lcore, stop stops it;
 *  3. unregister: never called again, the id is free for the next one;
 *  4. a worker-owned extra context is aged with the one bound: a pin a
 *     poller took through it is released within hold_us + one iteration on
 *     an idle worker (we allow 100 ms of scheduling slack), and stop
 *     releases one at once;
 *  5. a manual worker on the main lcore is polled by the main thread while
 *     the other worker runs; its hypercall ring completes a call only then;
 *  6. gntdp_dp_copy_kernel(): one error (-EINVAL) for any unknown name,
 *     -ENOTSUP or 0 for every known one, "memmove" is the core's default;
 *     gntdp_dp_create() refuses an unknown conf.copy with -EINVAL.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "dp_common.h"

#define REF 8u
#define FRAME 10u
#define SRC_GFN 3u

struct probe {
	int ret;                 /* what the poller returns */
	atomic_uint calls;
	struct gntdp_dp_poll_env last;
	unsigned int seq_at_call; /* value of `seq` when called */
	/* part 4: one copy through ctx, then idle */
	struct gntdp_gnttab_ctx *ctx;
	atomic_bool copy_now;
	atomic_int copy_status;
	/* part 1: a ring's CQ tail, as this poller finds it */
	const uint32_t *watch;
	uint32_t watch_seen;
};

static atomic_uint seq;

static int
probe_fn(void *arg, const struct gntdp_dp_poll_env *env)
{
	struct probe *p = arg;

	p->last = *env;
	p->seq_at_call = atomic_fetch_add(&seq, 1);
	atomic_fetch_add(&p->calls, 1);
	if (p->watch != NULL)
		p->watch_seen = __atomic_load_n(p->watch, __ATOMIC_ACQUIRE);
	if (p->ctx != NULL && atomic_exchange(&p->copy_now, false)) {
		struct gntdp_gnttab_copy op;
		int rc;

		memset(&op, 0, sizeof(op));
		op.source.u.gmfn = SRC_GFN;
		op.source.domid = GNTDP_DOMID_SELF;
		op.dest.u.ref = REF;
		op.dest.domid = DOM_GRANTER;
		op.len = 64;
		op.flags = GNTDP_GNTCOPY_DEST_GREF;
		rc = gntdp_gnttab_op(p->ctx, DOM_CLIENT, GNTDP_GNTTABOP_COPY, &op, 1);
		atomic_store(&p->copy_status, rc != 0 ? -1000 : op.status);
		return 1;
	}
	return p->ret;
}

/*
 * The data plane of the part that runs. A failed CHECK returns from the
 * part with its workers running and its pollers registered: main destroys
 * it (stopping the workers) before the world goes, and the pollers' probes
 * are static so that a worker never calls a poller on a dead stack frame.
 */
static struct gntdp_dp *g_dp;

static int
make_dp(struct test_world *w, uint32_t hold_us, const char *copy, struct gntdp_dp **dp)
{
	struct gntdp_dp_conf conf;
	int rc;

	gntdp_dp_conf_init(&conf);
	conf.nb_workers = 1;
	conf.worker_lcores[0] = 1;
	conf.hold_us = hold_us;
	conf.copy = copy;
	rc = gntdp_dp_create(w->gt, &conf, dp);
	if (rc == 0)
		g_dp = *dp;
	return rc;
}

/* The part's own teardown, when its checks passed. */
static void
drop_dp(struct gntdp_dp *dp)
{
	gntdp_dp_destroy(dp);
	g_dp = NULL;
}

/* The one poller called @p name; -ENOENT when none, -EEXIST when several. */
static int
poller_named(struct gntdp_dp *dp, const char *name, struct gntdp_dp_poller_info *out)
{
	struct gntdp_dp_poller_info pi;
	unsigned int found = 0;

	for (unsigned int id = 0; id < gntdp_dp_poller_slots(dp); id++) {
		if (gntdp_dp_poller_info(dp, id, &pi) == 0 && strcmp(pi.name, name) == 0) {
			*out = pi;
			found++;
		}
	}
	return found == 1 ? 0 : found == 0 ? -ENOENT : -EEXIST;
}

static int
part_basics(struct test_world *w)
{
	static struct probe a, b;
	static struct dp_ring ring;
	struct gntdp_dp_poller *pa, *pb, *px;
	struct gntdp_dp_poller_info pi;
	struct gntdp_hcall_cqe cqe;
	struct gntdp_gnttab_copy op;
	struct dp_ring_conf rc;
	struct gntdp_dp *dp;
	char longname[GNTDP_DP_POLLER_NAMESIZE + 1];
	unsigned int id;
	uint64_t now0;

	a = (struct probe){ .ret = 0 };
	b = (struct probe){ .ret = 3 };
	CHECK(make_dp(w, 1000, NULL, &dp) == 0);
	/* A hypercall ring first: its poller comes before the probes. */
	dp_ring_conf_init(&rc, DOM_CLIENT);
	CHECK(dp_ring_create(dp, w->gt, &rc, &ring) == 0);
	a.watch = &((const struct gntdp_hcall_ring_hdr *)gntdp_dp_hcall_mem(ring.r, NULL))->cq_tail;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(gntdp_dp_poller_register(dp, 0, "a", NULL, &a, NULL) == -EINVAL);
	CHECK(gntdp_dp_poller_register(dp, 1, "a", probe_fn, &a, NULL) == -EINVAL);
	CHECK(gntdp_dp_poller_register(dp, 0, "", probe_fn, &a, NULL) == -EINVAL);
	CHECK(gntdp_dp_poller_register(dp, 0, "a b", probe_fn, &a, NULL) == -EINVAL);
	CHECK(gntdp_dp_poller_register(dp, 0, NULL, probe_fn, &a, NULL) == -EINVAL);
	CHECK(gntdp_dp_poller_register(dp, 0, longname, probe_fn, &a, NULL) == -EINVAL);
	CHECK(gntdp_dp_poller_register(dp, 0, "idle", probe_fn, &a, &pa) == 0);
	CHECK(gntdp_dp_poller_register(dp, 0, "busy", probe_fn, &b, &pb) == 0);

	/* The ring's poller is listed, on its worker. */
	CHECK(poller_named(dp, "hcall", &pi) == 0 && pi.worker == 0 && pi.lcore_id == 1);
	CHECK(gntdp_dp_poller_info(dp, GNTDP_DP_MAX_POLLERS, &pi) == -ENOENT);

	/*
	 * One iteration: each poller once, in registration order; sum of busy
	 * returns. The ring took one call and posted its completion before
	 * probe a ran.
	 */
	dp_copy_to_gref(&op, SRC_GFN, 0, DOM_GRANTER, REF, 0, 64);
	CHECK(dp_test_grant(w->gt, DOM_GRANTER, REF, DOM_CLIENT, FRAME, false) == 0);
	CHECK(dp_ring_post(&ring, 0, GNTDP_GNTTABOP_COPY, &op, 1, 5) == 1);
	CHECK(gntdp_dp_poll(dp, 0) == 3 + 1);
	CHECK(a.calls == 1 && b.calls == 1);
	CHECK(a.seq_at_call + 1 == b.seq_at_call);
	CHECKF(a.watch_seen == 1, "probe a ran before the ring's completion (cq_tail %u)",
	       a.watch_seen);
	CHECK(gntdp_dp_hcall_reap_burst(ring.r, &cqe, 1) == 1 && cqe.user_data == 5 && cqe.rc == 0);
	CHECK(dp_op_status(GNTDP_GNTTABOP_COPY, dp_ring_ops(&ring, 0), 0) == GNTDP_GNTST_OKAY);
	CHECK(a.last.worker == 0 && a.last.lcore_id == 1 && a.last.ctx != NULL);
	CHECK(a.last.iter == 0 && b.last.now == a.last.now);
	CHECK(a.last.tsc_hz == (uint64_t)rte_get_tsc_hz());
	CHECKF(a.last.hold_cycles == 1000ull * rte_get_tsc_hz() / 1000000u, "hold %llu cycles",
	       (unsigned long long)a.last.hold_cycles);
	now0 = a.last.now;
	CHECK(gntdp_dp_poll(dp, 0) == 3);
	CHECK(a.last.iter == 1 && a.last.now > now0);
	CHECK(gntdp_dp_poller_info(dp, gntdp_dp_poller_id(pa), &pi) == 0);
	CHECKF(strcmp(pi.name, "idle") == 0 && pi.busy == 0 && pi.idle == 2 && pi.worker == 0 &&
		       pi.lcore_id == 1,
	       "%s busy %llu idle %llu", pi.name, (unsigned long long)pi.busy,
	       (unsigned long long)pi.idle);
	CHECK(gntdp_dp_poller_info(dp, gntdp_dp_poller_id(pb), &pi) == 0);
	CHECK(strcmp(pi.name, "busy") == 0 && pi.busy == 2 && pi.idle == 0);

	/* Part 2: running. */
	CHECK(gntdp_dp_start(dp) == 0);
	CHECK(gntdp_dp_poller_register(dp, 0, "late", probe_fn, &a, NULL) == -EBUSY);
	CHECK(gntdp_dp_poller_unregister(dp, pa) == -EBUSY);
	{
		struct gntdp_gnttab_ctx *c;

		CHECK(gntdp_dp_worker_ctx_create(dp, 0, 0, &c) == -EBUSY);
	}
	CHECK(gntdp_dp_poll(dp, 0) == -EBUSY);
	{
		uint64_t t0 = dp_now_ms();

		while (a.calls < 1000 && dp_now_ms() - t0 < 5000)
			usleep(100);
	}
	gntdp_dp_stop(dp);
	CHECKF(a.calls >= 1000, "poller called %u times on the worker lcore", a.calls);
	{
		unsigned int c = a.calls;

		usleep(2000);
		CHECK(a.calls == c); /* stopped means stopped */
	}

	/* Part 3: unregister; the freed id is reused. */
	id = gntdp_dp_poller_id(pa);
	CHECK(gntdp_dp_poller_unregister(dp, pa) == 0);
	CHECK(gntdp_dp_poller_info(dp, id, &pi) == -ENOENT);
	a.calls = 0;
	CHECK(gntdp_dp_poll(dp, 0) == 3);
	CHECK(a.calls == 0 && b.calls > 0);
	CHECK(gntdp_dp_poller_register(dp, 0, "again", probe_fn, &a, &px) == 0);
	CHECK(gntdp_dp_poller_id(px) == id);
	/* The ring's poller: busy for the one poll that took the call, idle ever since. */
	CHECK(poller_named(dp, "hcall", &pi) == 0);
	CHECKF(pi.busy == 1 && pi.idle > 1000, "ring poller busy %llu idle %llu",
	       (unsigned long long)pi.busy, (unsigned long long)pi.idle);
	a.watch = NULL; /* the header goes with the ring */
	CHECK(dp_ring_destroy(dp, &ring) == 0);
	CHECK(poller_named(dp, "hcall", &pi) == -ENOENT);
	CHECK(gntdp_dp_poll(dp, 0) == 3);
	CHECK(gntdp_guest_end_access(dp_test_entry(w->gt, DOM_GRANTER, REF)) == 0);
	drop_dp(dp);
	printf("basics: order, env, counters, running and unregister checked\n");
	return 0;
}

static int
part_ctx_bound(struct test_world *w)
{
	const uint32_t hold_us = 100000;
	struct gntdp_grant_entry_v1 *e = dp_test_entry(w->gt, DOM_GRANTER, REF);
	static struct probe p;
	struct gntdp_dp_stats st;
	struct gntdp_dp *dp;
	struct gntdp_gnttab_ctx *c;
	uint64_t t0, t1;
	unsigned int busy = 0;

	p = (struct probe){ .ret = 0 };
	CHECK(e != NULL);
	CHECK(make_dp(w, hold_us, NULL, &dp) == 0);
	CHECK(gntdp_dp_worker_ctx_create(dp, 0, 3, &c) == -EINVAL);
	CHECK(gntdp_dp_worker_ctx_create(dp, 1, 0, &c) == -EINVAL);
	CHECK(gntdp_dp_worker_ctx_create(dp, 0, 16, &c) == 0);
	p.ctx = c;
	CHECK(gntdp_dp_poller_register(dp, 0, "copier", probe_fn, &p, NULL) == 0);
	CHECK(dp_test_grant(w->gt, DOM_GRANTER, REF, DOM_CLIENT, FRAME, false) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	atomic_store(&p.copy_status, 1);
	atomic_store(&p.copy_now, true);
	while (atomic_load(&p.copy_status) == 1)
		usleep(10);
	t0 = dp_now_ms();
	CHECKF(atomic_load(&p.copy_status) == GNTDP_GNTST_OKAY, "copy status %d",
	       atomic_load(&p.copy_status));
	/* The extra context caches the write pin. */
	if (gntdp_guest_end_access(e) == 0) {
		CHECKF(dp_now_ms() - t0 >= hold_us / 2000u,
		       "end access succeeded while the extra context holds a pin");
		printf("ctx bound: descheduled past the hold bound, cannot check the held pin\n");
	} else {
		/* The bound is hold_us plus one worker iteration; a loaded machine can deschedule
		 * the worker for a long while, so wall time can only show that ageing happens at
		 * all (a pin never released), not the bound itself: 50 holds. */
		while (gntdp_guest_end_access(e) != 0 && dp_now_ms() - t0 < 50u * hold_us / 1000u) {
			busy++;
			usleep(50);
		}
		t1 = dp_now_ms();
		CHECKF(t1 - t0 < 50u * hold_us / 1000u,
		       "extra context's pin not released %llu ms after the copy (hold %u us)",
		       (unsigned long long)(t1 - t0), hold_us);
		printf("ctx bound: end access busy %u times, succeeded %llu ms after the copy "
		       "(hold %u ms), worker idle\n",
		       busy, (unsigned long long)(t1 - t0), hold_us / 1000u);
	}
	/* Stop releases what the extra context holds. */
	CHECK(dp_test_grant(w->gt, DOM_GRANTER, REF, DOM_CLIENT, FRAME, false) == 0);
	atomic_store(&p.copy_status, 1);
	atomic_store(&p.copy_now, true);
	while (atomic_load(&p.copy_status) == 1)
		usleep(10);
	CHECK(atomic_load(&p.copy_status) == GNTDP_GNTST_OKAY);
	gntdp_dp_stop(dp);
	CHECKF(gntdp_guest_end_access(e) == 0, "a pin of the extra context survived stop");
	CHECK(gntdp_dp_stats_get(dp, &st) == 0);
	CHECKF(st.cache_misses >= 2 && st.expired >= 2,
	       "the worker's stats include its extra context: misses %llu expired %llu",
	       (unsigned long long)st.cache_misses, (unsigned long long)st.expired);
	/* Destroying it keeps its counters in the sums. */
	CHECK(gntdp_dp_worker_ctx_destroy(dp, c) == 0);
	CHECK(gntdp_dp_worker_ctx_destroy(dp, c) == -EINVAL);
	{
		struct gntdp_dp_stats st2;

		CHECK(gntdp_dp_stats_get(dp, &st2) == 0);
		CHECK(st2.cache_misses == st.cache_misses && st2.copy_bytes == st.copy_bytes);
	}
	drop_dp(dp);
	return 0;
}

static int
part_manual(struct test_world *w)
{
	static struct dp_ring q;
	struct gntdp_dp_conf conf;
	struct dp_ring_conf rc;
	struct gntdp_gnttab_copy op;
	struct gntdp_hcall_cqe cpl;
	struct gntdp_dp *dp;
	unsigned int got = 0;

	gntdp_dp_conf_init(&conf);
	conf.nb_workers = 2;
	conf.worker_lcores[0] = rte_get_main_lcore();
	conf.worker_lcores[1] = 1;
	CHECK(gntdp_dp_create(w->gt, &conf, &dp) == 0);
	g_dp = dp;
	dp_ring_conf_init(&rc, DOM_CLIENT);
	rc.hc.worker = 0; /* the manual worker */
	CHECK(dp_ring_create(dp, w->gt, &rc, &q) == 0);
	CHECK(dp_test_grant(w->gt, DOM_GRANTER, REF, DOM_CLIENT, FRAME, false) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	CHECK(gntdp_dp_poll(dp, 1) == -EBUSY);
	dp_copy_to_gref(&op, SRC_GFN, 0, DOM_GRANTER, REF, 0, 64);
	CHECK(dp_ring_post(&q, 0, GNTDP_GNTTABOP_COPY, &op, 1, 77) == 1);
	/* Nobody else serves worker 0: only this thread's polls complete it. */
	usleep(2000);
	CHECK(gntdp_dp_hcall_reap_burst(q.r, &cpl, 1) == 0);
	CHECK(dp_op_status(GNTDP_GNTTABOP_COPY, dp_ring_ops(&q, 0), 0) == DP_UNSET);
	CHECK(gntdp_dp_poll(dp, 0) == 1);
	got = gntdp_dp_hcall_reap_burst(q.r, &cpl, 1);
	CHECK(got == 1 && cpl.user_data == 77 && cpl.rc == 0);
	CHECK(dp_op_status(GNTDP_GNTTABOP_COPY, dp_ring_ops(&q, 0), 0) == GNTDP_GNTST_OKAY);
	gntdp_dp_stop(dp);
	CHECK(gntdp_guest_end_access(dp_test_entry(w->gt, DOM_GRANTER, REF)) == 0);
	CHECK(dp_ring_destroy(dp, &q) == 0);
	drop_dp(dp);
	printf("manual worker: polled by the main thread while worker 1 ran\n");
	return 0;
}

static int
part_copy_names(struct test_world *w)
{
	static const char *const known[] = { "auto", "memmove", "scalar", "sse", "avx2", "avx512" };
	static const char *const bad[] = { "avx9000", "turbo", "", "AVX2", "auto ", "memmove2" };
	const char *res;
	gntdp_copy_fn fn;
	struct gntdp_dp *dp;
	int rc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(gntdp_dp_copy_kernel(bad[i], &fn, &res) == -EINVAL, "'%s' accepted", bad[i]);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		res = NULL;
		rc = gntdp_dp_copy_kernel(known[i], &fn, &res);
		CHECKF(rc == 0 || (rc == -ENOTSUP && i >= 2), "%s: %d", known[i], rc);
		if (rc == 0)
			CHECK(res != NULL && (i < 2 || strcmp(res, known[i]) == 0));
		printf("copy kernel %s: %s\n", known[i], rc == 0 ? res : "not on this CPU");
	}
	CHECK(gntdp_dp_copy_kernel("memmove", &fn, &res) == 0 && fn == NULL &&
	      strcmp(res, "memmove") == 0);
	CHECK(gntdp_dp_copy_kernel(NULL, NULL, &res) == 0);
	CHECK(make_dp(w, 1000, "avx9000", &dp) == -EINVAL);
	CHECK(make_dp(w, 1000, "memmove", &dp) == 0);
	CHECK(strcmp(gntdp_dp_copy_name(dp), "memmove") == 0);
	drop_dp(dp);
	return 0;
}

int
main(int argc, char **argv)
{
	struct test_world w;
	uint8_t *src;
	int rc;

	rc = dp_test_eal("dp_pollers", argc, argv);
	if (rc != 0)
		return rc;
	if (dp_test_world(&w) != 0)
		return dp_test_finish(NULL, &w, 1);
	src = gntdp_domain_frame(w.gt, DOM_CLIENT, SRC_GFN);
	if (src == NULL)
		return dp_test_finish(NULL, &w, 1);
	memset(src, 0x5a, 4096);
	rc = part_basics(&w);
	if (rc == 0)
		rc = part_ctx_bound(&w);
	if (rc == 0)
		rc = part_manual(&w);
	if (rc == 0)
		rc = part_copy_names(&w);
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	/* After a failed check: the failed part's data plane, stopped before the world goes. */
	return dp_test_finish(g_dp, &w, rc);
}
