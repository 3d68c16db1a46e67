/* SPDX-License-Identifier: MIT */
/*
 * Sequential mode: the oracle by replay.
 *
 * Two identical worlds. World A runs every batch through the data plane (one
 * worker, its grant cache on, the configured copy kernel): its op array in the
 * caller's op area, one hypercall on the queue's ring; world B runs the same
 * hypercall with gntdp_hcall() on the plain core (Xen-exact context, memmove).
 * Batches, guest actions and control actions (domain destroy and create) run
 * one at a time, in the same order on both worlds, and after each batch
 * every status and output, then every frame of every domain and every grant
 * entry, must be equal; every status must also be in the set the spec
 * allows for its op. Before a guest or control action the data plane's
 * cached pins are let expire (within hold_us), so both worlds see the guest
 * act on the same state. Every record goes into a trace: on the first
 * violation the trace is written and `--replay` reruns it.
 *
 * Without EAL (replay-only machines) world A uses a persistent-cache context
 * of the core instead of the data plane.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "app.h"
#include "model.h"

struct seqrun {
	const struct stress_conf *c;
	struct sim s;
	struct world wa, wb;
	struct gntdp_dp *dp;
	struct gntdp_dp_hcall *rings[STRESS_MAX_QUEUES];
	uint32_t nb_rings;
	struct gntdp_gnttab_ctx *cctx; /* no EAL: world A's persistent-cache context */
	struct trace log;
	uint64_t seq[STRESS_MAX_QUEUES];
	struct op_result *resb;
	uint32_t since_drain;
	uint32_t victim_turn;
	bool quiet; /* not the first episode */
};

static void
drain_cache(struct seqrun *r, const char *when)
{
	if (r->dp != NULL)
		wait_pins(&r->wa, &r->wb, 2.0, when, 0);
	else
		gntdp_gnttab_ctx_expire(r->cctx, UINT64_MAX);
}

static void
exec_a(struct seqrun *r, struct qmodel *q)
{
	if (r->dp != NULL) {
		dp_run_record(q->ring, &r->wa, &q->cur, NULL, q->res, &r->seq[q->qid], 10.0);
		return;
	}
	{
		struct gntdp_gnttab_ctx *plain = r->wa.ctx;

		/* The same execution as world B, but through a persistent cache. */
		r->wa.ctx = r->cctx;
		exec_plain(&r->wa, &q->cur, NULL, q->res);
		r->wa.ctx = plain;
	}
}

/*
 * Whether a batch may touch a corrupt-zone entry. A pin the cache still holds on such an
 * entry skips the entry re-check a later op of another kind would make (a map after a copy
 * of a v1 entry with GTF_sub_page set: see docs/stress.md, "findings"), so the two worlds
 * would legitimately part. Those batches start with the cache empty.
 */
static bool
touches_corrupt_zone(const struct record *x)
{
	if (x->type == REC_RAW)
		return true;
	for (uint32_t i = 0; i < x->count; i++) {
		if (x->meta[i].kind == K_CP_CORRUPT || x->meta[i].kind == K_MP_CORRUPT)
			return true;
	}
	return false;
}

static void
run_batch_record(struct seqrun *r, struct qmodel *q)
{
	struct sim *s = &r->s;
	uint32_t rec = r->log.nb_recs;

	if (touches_corrupt_zone(&q->cur))
		drain_cache(r, "before a corrupt-zone batch");
	else if (rec_needs_empty_cache(&s->ws, &q->cur))
		drain_cache(r, "before a v2 batch");

	trace_add(&r->log, &q->cur);
	exec_a(r, q);
	exec_plain(&r->wb, &q->cur, NULL, r->resb);
	compare_results(&r->wa, &r->wb, &q->cur, q->res, r->resb, rec);
	for (uint32_t i = 0; i < q->cur.count; i++)
		apply_result(s, q, i, &q->res[i]);
	if (q->role == ROLE_HOSTILE)
		s->fc.garbage += q->cur.count;
	finish_batch(s, q);
	compare_worlds(&r->wa, &r->wb, rec);
}

static void
run_batch(struct seqrun *r, struct qmodel *q)
{
	if (gen_batch(&r->s, q) == 0)
		return;
	run_batch_record(r, q);
}

/* A guest or control record on both worlds; returns world A's result. */
static int
run_action(struct seqrun *r, struct record *x)
{
	int ra, rb;

	drain_cache(r, "before a guest action");
	ra = exec_guest(&r->wa, x);
	rb = exec_guest(&r->wb, x);
	if (ra != rb)
		violation("oracle/guest",
			  "rec %u: %s action %u on d%u ref %u: %d through the data "
			  "plane's world, %d on the plain core's",
			  r->log.nb_recs, x->type == REC_GUEST ? "guest" : "control", x->cmd,
			  x->qid, x->ref, ra, rb);
	x->result = ra;
	trace_add(&r->log, x);
	r->s.nrec++;
	return ra;
}

/* A burst of guest actions: the cache is emptied once, before the first. */
static void
run_guest(struct seqrun *r)
{
	uint32_t n = 1 + rng_below(&r->s.frng, 8);

	for (uint32_t i = 0; i < n; i++) {
		struct record x;

		if (guest_next(&r->s, &x))
			guest_applied(&r->s, &x, run_action(r, &x));
	}
}

static void
ctrl(struct record *x, uint8_t act, gntdp_domid_t d, uint32_t gen)
{
	memset(x, 0, sizeof(*x));
	x->type = REC_CTRL;
	x->cmd = act;
	x->qid = d;
	x->a = gen;
}

static void
destroy_create(struct seqrun *r, gntdp_domid_t d)
{
	struct sim *s = &r->s;
	struct record x;
	bool *alive = d == DOM_VG ? &s->vg_alive : d == DOM_VC ? &s->vc_alive : &s->h_alive;
	uint32_t *gen = d == DOM_VG ? &s->vg_gen : d == DOM_VC ? &s->vc_gen : &s->h_gen;
	struct qmodel *q = sim_queue_of(s, d);
	int rc;

	if (*alive) {
		ctrl(&x, CA_DESTROY, d, 0);
		if (run_action(r, &x) != 0)
			violation("control", "destroying d%u failed", d);
		*alive = false;
		s->fc.destroy++;
		if (q != NULL) {
			s->fc.destroy_maps += q->nb_maps;
			qmodel_forget_maps(s, q); /* teardown released them */
		}
		return;
	}
	ctrl(&x, CA_CREATE, d, ++*gen);
	rc = run_action(r, &x);
	if (rc == -EEXIST)
		return; /* the old domain is still a zombie (mapped by others): try later */
	if (rc != 0) {
		violation("control", "creating d%u failed", d);
		return;
	}
	*alive = true;
	if (q != NULL)
		qmodel_reset(s, q);
	if (d == DOM_VG) {
		struct record g[512];
		uint32_t n = guest_vg_grants(s, g, 512);

		for (uint32_t i = 0; i < n; i++)
			run_action(r, &g[i]);
	}
}

static void
drain(struct seqrun *r)
{
	struct sim *s = &r->s;
	struct record x;

	/* Unmap everything, queue by queue, as ordinary checked batches. */
	for (uint32_t i = 0; i < s->nb_q; i++) {
		struct qmodel *q = &s->q[i];

		/* One batch takes at most STRESS_MAX_BATCH unmaps: as many rounds as needed. */
		while (q->nb_maps > 0 && world_dom_alive(&r->wa, q->domid) && gen_unmap_all(s, q) > 0)
			run_batch_record(r, q);
	}
	/* The hostile client's mappings go with it. */
	if (s->h_alive)
		destroy_create(r, DOM_H);
	destroy_create(r, DOM_H);
	drain_cache(r, "drain");
	ctrl(&x, CA_DRAIN, 0, 0);
	trace_add(&r->log, &x);
	s->nrec++;
	check_drained(&r->wa, "drain", (int)sim_extra_segments(s));
	check_drained(&r->wb, "drain (plain core)", (int)sim_extra_segments(s));
	for (uint32_t i = 0; i < s->nb_q; i++)
		qmodel_verify_all(s, &s->q[i], "drain");
	compare_worlds(&r->wa, &r->wb, r->log.nb_recs - 1);
	r->since_drain = 0;
}

static struct qmodel *
pick_queue(struct seqrun *r)
{
	struct sim *s = &r->s;

	for (int tries = 0; tries < 16; tries++) {
		struct qmodel *q = &s->q[rng_below(&s->frng, s->nb_q)];

		if (q->role == ROLE_STALL || (q->role == ROLE_HOSTILE && !r->c->f_garbage) ||
		    (q->role == ROLE_PRESSURE && !r->c->f_pressure))
			continue;
		/* Clients get most batches; the others their share. */
		if (q->role != ROLE_CLIENT && rng_below(&s->frng, 3) != 0)
			continue;
		return q;
	}
	return &s->q[0];
}

static int
seq_setup(struct seqrun *r, bool eal)
{
	const struct stress_conf *c = r->c;
	int rc;

	rc = sim_init(&r->s, c, false);
	if (rc != 0)
		return rc;
	rc = world_build(&r->wa, 0, &r->s.ws);
	if (rc == 0)
		rc = world_build(&r->wb, 1, &r->s.ws);
	if (rc != 0)
		return rc;
	r->s.wa = &r->wa;
	r->s.wb = &r->wb;
	r->resb = calloc(STRESS_MAX_BATCH, sizeof(*r->resb));
	if (r->resb == NULL)
		return -ENOMEM;
	if (eal) {
		struct gntdp_dp_conf dc;

		gntdp_dp_conf_init(&dc);
		dc.nb_workers = 1;
		dc.worker_lcores[0] = rte_get_next_lcore((unsigned int)-1, 1, 0);
		dc.cache = c->cache;
		dc.cache_entries = c->cache_entries;
		dc.hold_us = c->hold_us;
		dc.idle_sleep_us = c->idle_sleep_us;
		dc.idle_after_us = c->idle_after_us;
		dc.copy = c->copy;
		rc = gntdp_dp_create(r->wa.gt, &dc, &r->dp);
		if (rc != 0) {
			APP_LOG(ERR, "gntdp-stress: data plane: %s", strerror(-rc));
			return rc;
		}
		/* Every queue a hypercall ring of its domain, on the one worker. */
		rc = rings_create(r->dp, &r->s.ws, c, c->ring_size, r->rings);
		if (rc != 0) {
			APP_LOG(ERR, "gntdp-stress: hypercall rings: %s", strerror(-rc));
			return rc;
		}
		r->nb_rings = r->s.ws.nb_queues;
		for (uint32_t i = 0; i < r->s.ws.nb_queues; i++)
			r->s.q[i].ring = r->rings[i];
		rc = gntdp_dp_start(r->dp);
		if (rc != 0)
			return rc;
		if (!r->quiet)
			printf("gntdp-stress: sequential: 1 worker (lcore %u), copy kernel %s, "
			       "cache %s, episodes of up to 3000 records\n",
			       dc.worker_lcores[0], gntdp_dp_copy_name(r->dp),
			       c->cache ? "on" : "off");
	} else {
		struct gntdp_gnttab_cache_conf cc = {.persistent = true,
						     .nb_entries = c->cache_entries};

		rc = gntdp_gnttab_ctx_create(r->wa.gt, &cc, &r->cctx);
		if (rc != 0)
			return rc;
		if (!r->quiet)
			printf("gntdp-stress: sequential: no EAL, world A uses a persistent-cache "
			       "context\n");
	}
	trace_init(&r->log, c->seed, MODE_SEQ, &r->s.ws);
	r->s.log = &r->log;
	return 0;
}

static void
seq_teardown(struct seqrun *r)
{
	if (r->dp != NULL) {
		gntdp_dp_stop(r->dp);
		rings_destroy(r->dp, r->rings, r->nb_rings);
		gntdp_dp_destroy(r->dp);
	}
	gntdp_gnttab_ctx_destroy(r->cctx);
	if (r->wa.gt != NULL)
		world_destroy(&r->wa);
	if (r->wb.gt != NULL)
		world_destroy(&r->wb);
	trace_free(&r->log);
	free(r->resb);
	sim_free(&r->s);
}

/* Seed of episode @p ep: the run's own seed first, then derived ones. */
static uint64_t
episode_seed(uint64_t seed, uint32_t ep)
{
	uint64_t x = seed + 0x9e3779b97f4a7c15ull * ep;

	if (ep == 0)
		return seed;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return (x ^ (x >> 29)) % 1000000000000ull;
}

/*
 * One episode: fresh worlds, a fresh trace, at most @p max_recs records. Returns
 * EXIT_SUCCESS, EXIT_VIOLATION or EXIT_USAGE; *recs and *ops are added to.
 */
static int
episode(const struct stress_conf *c, bool eal, bool quiet, double end, uint32_t max_recs,
	uint64_t *recs, uint64_t *ops, uint64_t *batches, uint64_t *hist)
{
	static struct seqrun r;
	const gntdp_domid_t victims[] = {DOM_VG, DOM_VC, DOM_H};
	double t0 = now_s(), next_progress = t0 + c->progress;
	unsigned int v0 = atomic_load(&g_viol.count);
	int rc;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.quiet = quiet;
	rc = seq_setup(&r, eal);
	if (rc != 0) {
		APP_LOG(ERR, "gntdp-stress: sequential setup failed: %s", strerror(-rc));
		seq_teardown(&r);
		return EXIT_USAGE;
	}
	while (atomic_load(&g_viol.count) == v0 && !gntdp_dp_stop_requested() &&
	       r.log.nb_recs < max_recs && now_s() < end) {
		uint32_t x = rng_below(&r.s.frng, 1000);

		if (r.since_drain >= 150)
			drain(&r);
		else if (x < 6 && c->f_destroy)
			destroy_create(&r, victims[r.victim_turn++ % 3]);
		else if (x < 80)
			run_guest(&r);
		else
			run_batch(&r, pick_queue(&r));
		r.since_drain++;
		if (c->progress > 0 && now_s() >= next_progress) {
			next_progress += c->progress;
			printf("gntdp-stress: [seq seed %llu %5.1fs] %u records, %llu ops, %llu "
			       "batches, violations %u\n",
			       (unsigned long long)c->seed, now_s() - t0, r.log.nb_recs,
			       (unsigned long long)r.s.total_ops,
			       (unsigned long long)r.s.total_batches,
			       atomic_load(&g_viol.count) - v0);
		}
	}
	if (atomic_load(&g_viol.count) == v0)
		drain(&r);
	*recs += r.log.nb_recs;
	*ops += r.s.total_ops;
	*batches += r.s.total_batches;
	for (int i = 0; i < GNTDP_GNTST_COUNT; i++)
		hist[i] += r.s.status_hist[i];
	rc = EXIT_SUCCESS;
	if (atomic_load(&g_viol.count) != v0) {
		char path[600];

		snprintf(r.log.note, sizeof(r.log.note), "%.250s", g_viol.first);
		if (trace_dump(&r.log, c, "seq", path, sizeof(path)) == 0)
			printf("gntdp-stress: FAILED (seed %llu): trace written to %s\n"
			       "  replay: gntdp-stress --replay %s\n"
			       "  minimize: gntdp-stress --minimize %s\n"
			       "  rerun:  gntdp-stress --mode seq --seed %llu (same config)\n",
			       (unsigned long long)c->seed, path, path, path,
			       (unsigned long long)c->seed);
		rc = EXIT_VIOLATION;
	}
	seq_teardown(&r);
	return rc;
}

int
seq_main(const struct stress_conf *c, bool eal)
{
	static struct stress_conf epc;
	double t0 = now_s(), end = t0 + c->seq_seconds;
	uint64_t recs = 0, ops = 0, batches = 0, hist[GNTDP_GNTST_COUNT] = {0};
	uint32_t limit = c->seq_records ? c->seq_records : UINT32_MAX;
	uint32_t ep = 0;
	int rc = EXIT_SUCCESS;

	/* Episodes keep each trace small; each has its own seed, a run of its own. */
	do {
		epc = *c;
		epc.seed = episode_seed(c->seed, ep);
		g_seed = epc.seed;
		rc = episode(&epc, eal, ep > 0, end,
			     limit - recs < 3000 ? (uint32_t)(limit - recs) : 3000, &recs, &ops,
			     &batches, hist);
		ep++;
	} while (rc == EXIT_SUCCESS && now_s() < end && recs < limit && !gntdp_dp_stop_requested());
	g_seed = c->seed;
	printf("gntdp-stress: sequential: %u episodes, %llu records, %llu ops in %llu batches, "
	       "%.1f s; statuses:",
	       ep, (unsigned long long)recs, (unsigned long long)ops, (unsigned long long)batches,
	       now_s() - t0);
	for (int i = 0; i < GNTDP_GNTST_COUNT; i++) {
		if (hist[i] != 0)
			printf(" %s=%llu", gntdp_gntst_name((int16_t)-i) + 6,
			       (unsigned long long)hist[i]);
	}
	printf("\n");
	v2_summary(stdout);
	if (hostile_summary(stdout, false, rc == EXIT_SUCCESS && c->f_garbage) != 0)
		rc = EXIT_VIOLATION;
	if (rc == EXIT_SUCCESS)
		printf("gntdp-stress: sequential phase clean: every status, output, frame and "
		       "entry equal in both worlds\n");
	fflush(stdout);
	return rc;
}
