/* SPDX-License-Identifier: MIT */
/*
 * Concurrent mode: every queue at once on every worker, guest activity and
 * faults beside them, invariants checked all along.
 *
 * Every queue is a hypercall ring of its domain (docs/stress.md). The main
 * lcore runs a loop: each queue's client (generate a batch, write its op
 * arrays into the domain's op area, submit its hypercalls as the ring takes
 * them, reap completions in order, read each call's statuses back from guest
 * memory and check each op), a few
 * guest actions, the fault injector, progress lines, and every drain_every
 * seconds a drain check. Workers run the data plane's poll loop.
 *
 * Continuous invariants: completions carry the next expected user_data of
 * their ring (exactly once, in order, nothing lost: a batch that does not
 * finish within 10 s is a violation); every status is in its op's allowed
 * set; maps show the granted frame; copies on frames only one queue writes
 * leave exactly the bytes the queue's shadow predicts; revoked or read-only
 * churn frames are protected and a fault there is a violation; a poisoned
 * frame must be intact when regranted; a page that arrives by transfer is
 * the page that was sent.
 * Drain invariants: after every queue unmapped what it holds and the cache
 * hold bound passed: no live mapping, no pinned entry, no GTF_reading/
 * GTF_writing left, no zombie domain, each ring's counters (calls, ops,
 * faults, errors) equal ours, and resident memory within the tolerance of its post-warm-up
 * value.
 *
 * Faults: abandoned queues (a client stops mid-batch, half submitted, and
 * neither submits nor reaps for a while; a new client adopts the queue
 * later), domain destruction with ops in flight and mappings live (VG as
 * granter, VC as mapper, H), worker stalls (the STALL domain's dump_table
 * sleeps in the log callback on the worker), guest entry corruption and
 * garbage requests, and table/maptrack limits (P, G table growth).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "app.h"
#include "model.h"

extern atomic_uint g_stall_ms;

struct concrun {
	const struct stress_conf *c;
	struct sim s;
	struct world wa;
	struct gntdp_dp *dp;
	struct gntdp_dp_hcall *rings[STRESS_MAX_QUEUES];
	uint32_t nb_rings;
	double t0, next_progress, next_drain, next_abandon, next_destroy, next_stall;
	double create_at[3]; /* VG, VC, H: when to recreate (0: not pending) */
	bool pausing;
	bool traced;
	uint32_t victim_turn;
	uint64_t rss_base, rss_last;
	double rss_growth_max;
	uint64_t last_ops;
	double last_t;
	uint64_t drains;
	double ops_rate_sum;
	uint32_t ops_rate_n;
};

static const gntdp_domid_t victims[3] = {DOM_VG, DOM_VC, DOM_H};

static bool
role_enabled(const struct concrun *r, const struct qmodel *q)
{
	if (q->role == ROLE_HOSTILE)
		return r->c->f_garbage;
	if (q->role == ROLE_PRESSURE)
		return r->c->f_pressure;
	return q->role != ROLE_STALL;
}

/* ---- Traces of concurrent violations --------------------------------------------- */

/*
 * A concurrent failure depends on the interleaving, so the trace is a snapshot: the grant
 * entries as they are now, the failing queue's mappings as they were before its batch
 * (re-made by a prologue map batch), and the batch itself. Replay runs it deterministically;
 * if that does not reproduce it, the seed reruns the whole concurrent run.
 */
static void
conc_trace(struct concrun *r, struct qmodel *fq)
{
	struct sim *s = &r->s;
	struct world_spec ws = s->ws;
	struct trace t;
	struct grant_spec *gs;
	uint32_t ng = 0, cap = 0;
	char path[600];
	const gntdp_domid_t granters[] = {DOM_G1, DOM_G2, DOM_VG, DOM_VC};

	if (r->traced)
		return;
	r->traced = true;
	for (unsigned int k = 0; k < 4; k++) {
		uint32_t n;
		struct gntdp_grant_entry_v1 *e;

		if (gntdp_guest_table(r->wa.gt, granters[k], &e, &n) == 0)
			cap += n;
	}
	gs = calloc(cap + 1, sizeof(*gs));
	if (gs == NULL)
		return;
	for (unsigned int k = 0; k < 4; k++) {
		struct gntdp_grant_entry_v1 *e;
		uint32_t n;

		if (gntdp_guest_table(r->wa.gt, granters[k], &e, &n) != 0)
			continue;
		for (uint32_t ref = 0; ref < n; ref++) {
			uint32_t w = __atomic_load_n((uint32_t *)(void *)&e[ref], __ATOMIC_ACQUIRE);
			uint16_t f = (uint16_t)w;

			if ((f & GNTDP_GTF_TYPE_MASK) == GNTDP_GTF_ACCEPT_TRANSFER)
				f = GNTDP_GTF_ACCEPT_TRANSFER; /* an offer, as it was made */
			else if ((f & GNTDP_GTF_TYPE_MASK) == GNTDP_GTF_PERMIT_ACCESS &&
				 (ref < ws.corrupt_lo || ref >= ws.corrupt_hi))
				f &= (uint16_t) ~(GNTDP_GTF_READING | GNTDP_GTF_WRITING);
			if (f == 0)
				continue;
			gs[ng].domid = granters[k];
			gs[ng].ref = ref;
			gs[ng].flags = f;
			gs[ng].grantee = (gntdp_domid_t)(w >> 16);
			gs[ng].frame = e[ref].frame;
			ng++;
		}
	}
	ws.grants = gs;
	ws.nb_grants = ng;
	trace_init(&t, r->c->seed, MODE_CONC, &ws);
	snprintf(t.note, sizeof(t.note), "%.250s", g_viol.first);
	if (fq != NULL && world_dom_alive(&r->wa, fq->domid)) {
		struct record pro, bat;
		uint32_t np = 0;
		struct gntdp_gnttab_map_grant_ref *mo = calloc(fq->nb_maps + 1, sizeof(*mo));
		struct op_meta *mm = calloc(fq->nb_maps + 1, sizeof(*mm));
		uint32_t *orig = calloc(fq->nb_maps + 1, sizeof(uint32_t));

		if (mo != NULL && mm != NULL && orig != NULL) {
			for (uint32_t x = 0; x < fq->nb_maps; x++) {
				const struct mapping *m = &fq->maps[x];

				if (m->orec == fq->cur_rec + 1)
					continue; /* made by the failing batch itself */
				mo[np].flags = m->flags;
				if (m->state == 0xff || m->state == MS_UNMAPPING)
					mo[np].flags |= GNTDP_GNTMAP_HOST_MAP & 0; /* as it was */
				mo[np].ref = m->ref;
				mo[np].dom = m->g;
				mo[np].host_addr = (m->gfn & 0x80000000u) || m->gfn == UINT32_MAX
							   ? 0
							   : (uint64_t)m->gfn << GNTDP_PAGE_SHIFT;
				if (mo[np].host_addr == 0)
					mo[np].flags &= ~(uint32_t)GNTDP_GNTMAP_HOST_MAP;
				if ((mo[np].flags &
				     (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP)) == 0)
					mo[np].flags |= GNTDP_GNTMAP_DEVICE_MAP;
				mm[np].kind = K_MP_STABLE;
				mm[np].mask = spec_mask(GNTDP_GNTTABOP_MAP_GRANT_REF) | RC_OK;
				orig[np] = m->orec << 16 ^ m->oop;
				np++;
			}
			memset(&pro, 0, sizeof(pro));
			pro.type = REC_BATCH;
			pro.cmd = GNTDP_GNTTABOP_MAP_GRANT_REF;
			pro.qid = (uint16_t)fq->qid;
			pro.count = np;
			pro.ops = mo;
			pro.meta = mm;
			if (np > 0)
				trace_add(&t, &pro);
			bat = fq->cur;
			bat.meta = malloc(sizeof(struct op_meta) * (fq->cur.count + 1));
			if (bat.meta != NULL) {
				memcpy(bat.meta, fq->cur.meta,
				       sizeof(struct op_meta) * fq->cur.count);
				for (uint32_t i = 0; i < bat.count; i++) {
					struct op_meta *m = &bat.meta[i];
					uint32_t key = m->orec << 16 ^ m->oop, hit = UINT32_MAX;

					for (uint32_t x = 0; x < np && m->orec != 0; x++) {
						if (orig[x] == key)
							hit = x;
					}
					if (hit != UINT32_MAX) {
						m->orec = 1;
						m->oop = hit;
					} else {
						m->orec = 0;
					}
				}
				trace_add(&t, &bat);
				free(bat.meta);
			}
		}
		free(mo);
		free(mm);
		free(orig);
	}
	if (trace_dump(&t, r->c, "conc", path, sizeof(path)) == 0)
		printf("gntdp-stress: violation trace (seed %llu): %s\n"
		       "  replay: gntdp-stress --replay %s (a snapshot: a race may need the seed's "
		       "whole run to recur)\n",
		       (unsigned long long)r->c->seed, path, path);
	trace_free(&t);
	free(gs);
}

/* ---- Clients ---------------------------------------------------------------------------- */

static void
batch_done(struct concrun *r, struct qmodel *q)
{
	finish_batch(&r->s, q);
	if (q->role == ROLE_HOSTILE)
		r->s.fc.garbage += q->cur.count;
	if (q->cur_viol)
		conc_trace(r, q);
	q->phase = QP_IDLE;
	/* A destroyed mapper: teardown released whatever its batch left mapped. */
	if (!world_dom_alive(&r->wa, q->domid) && q->role == ROLE_VCLIENT)
		qmodel_forget_maps(&r->s, q);
}

/* The batch's op arrays into the domain's op area, and its hypercalls. */
static void
fill_calls(struct concrun *r, struct qmodel *q)
{
	q->nb_calls = hc_prepare(&r->wa, &q->cur, NULL, (uint64_t)q->qid << 48 | q->seq_sub,
				 q->calls, q->sqes);
	q->calls_sub = q->calls_done = 0;
}

/* Up to @p max of the batch's calls onto the ring. */
static void
submit(struct concrun *r, struct qmodel *q, uint32_t max)
{
	uint32_t n = gntdp_dp_hcall_submit_burst(q->ring, q->sqes + q->calls_sub, max);

	for (uint32_t k = q->calls_sub; k < q->calls_sub + n; k++) {
		q->submitted += q->calls[k].nops;
		/* The ring counts the ops of the calls it runs (not those with flags set). */
		if (q->sqes[k].flags == 0 && q->sqes[k].rsvd == 0)
			q->ops_sub += q->sqes[k].count;
		/* A hostile client rewrites its op array while the call is in flight. */
		if (q->cur.type == REC_RAW && (q->cur.meta[k].aux2 & RAW_SCRIBBLE))
			hc_scribble(&r->wa, &q->cur, k, &q->rng);
	}
	q->calls_sub += n;
	q->seq_sub += n;
}

static void
reap(struct concrun *r, struct qmodel *q)
{
	struct gntdp_hcall_cqe cqes[64];
	unsigned int n = gntdp_dp_hcall_reap_burst(q->ring, cqes, 64);

	for (unsigned int k = 0; k < n; k++) {
		const struct gntdp_hcall_cqe *c = &cqes[k];
		uint64_t want = (uint64_t)q->qid << 48 | q->seq_cpl;
		const struct hc_call *call = &q->calls[q->calls_done];

		if (c->user_data != want || c->flags != 0 || q->calls_done >= q->calls_sub) {
			violation("exactly-once",
				  "queue %u: completion carries user_data %#llx (flags %#x), "
				  "expected %#llx (%u of %u calls completed)",
				  q->qid, (unsigned long long)c->user_data, c->flags,
				  (unsigned long long)want, q->calls_done, q->nb_calls);
			q->seq_cpl++;
			continue;
		}
		if (c->rc == -EFAULT)
			q->rc_faults++;
		else if (c->rc != 0)
			q->rc_errors++;
		/* The statuses and outputs are in the op array, in the domain's memory. */
		hc_results(&r->wa, &q->cur, call, c->rc, q->res);
		for (uint32_t i = call->first; i < call->first + call->nops; i++)
			apply_result(&r->s, q, i, &q->res[i]);
		q->completed += call->nops;
		q->calls_done++;
		q->seq_cpl++;
	}
	if (n > 0)
		q->phase_until = now_s() + 10.0;
	if (q->phase != QP_SUBMITTING && q->calls_done == q->nb_calls)
		batch_done(r, q);
}

static void
step(struct concrun *r, struct qmodel *q, double now)
{
	switch (q->phase) {
	case QP_IDLE:
		if (r->pausing || !role_enabled(r, q) || !world_dom_alive(&r->wa, q->domid))
			return;
		if (gen_batch(&r->s, q) == 0)
			return;
		fill_calls(r, q);
		q->phase = QP_SUBMITTING;
		q->phase_until = now + 10.0;
		/* fall through */
	case QP_SUBMITTING:
		submit(r, q, q->nb_calls - q->calls_sub);
		if (q->calls_sub == q->nb_calls)
			q->phase = QP_WAITING;
		reap(r, q);
		break;
	case QP_WAITING:
		reap(r, q);
		if (q->phase == QP_WAITING && now > q->phase_until) {
			violation("lost", "queue %u (d%u): %u of %u completions missing for 10 s",
				  q->qid, q->domid, q->nb_calls - q->calls_done, q->nb_calls);
			q->completed = q->cur.count; /* give up on it, keep going */
			q->calls_done = q->nb_calls;
			batch_done(r, q);
		}
		break;
	case QP_ABANDONED:
		if (now < q->phase_until && !r->pausing)
			return;
		/* A new client adopts the queue: what was never submitted never happened. */
		for (uint32_t i = q->submitted; i < q->cur.count; i++)
			rollback_op(&r->s, q, i);
		q->cur.count = q->submitted;
		q->nb_calls = q->calls_sub;
		q->phase = QP_WAITING;
		q->phase_until = now + 10.0;
		reap(r, q);
		break;
	default:
		break;
	}
}

/* ---- Faults ----------------------------------------------------------------------------- */

static uint64_t
in_flight(struct concrun *r)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < r->s.nb_q; i++)
		n += r->s.q[i].submitted - r->s.q[i].completed;
	return n;
}

static void
fault_abandon(struct concrun *r, double now)
{
	struct sim *s = &r->s;

	for (int tries = 0; tries < 8; tries++) {
		struct qmodel *q = &s->q[rng_below(&s->frng, s->nb_q)];

		if ((q->role != ROLE_CLIENT && q->role != ROLE_HOSTILE) || !role_enabled(r, q))
			continue;
		if (q->phase == QP_IDLE) {
			uint32_t half;

			/* Mid-batch: submit half of a fresh batch's calls, then walk away. */
			if (gen_batch(s, q) == 0)
				continue;
			fill_calls(r, q);
			half = q->nb_calls > 1 ? q->nb_calls / 2 : 1;
			submit(r, q, half);
		} else if (q->phase != QP_SUBMITTING && q->phase != QP_WAITING) {
			continue;
		}
		s->fc.abandon++;
		s->fc.abandon_inflight += q->submitted - q->completed;
		q->phase = QP_ABANDONED;
		q->phase_until = now + 0.02 + rng_below(&s->frng, 280) * 1e-3;
		return;
	}
}

static void
recreate(struct concrun *r, unsigned int v)
{
	struct sim *s = &r->s;
	gntdp_domid_t d = victims[v];
	uint32_t *gen = v == 0 ? &s->vg_gen : v == 1 ? &s->vc_gen : &s->h_gen;
	struct qmodel *q = sim_queue_of(s, d);
	int rc;

	if (q != NULL && q->phase != QP_IDLE)
		return; /* its last batch has not come back yet */
	rc = world_create_dom(&r->wa, d, *gen + 1);
	if (rc == -EEXIST)
		return; /* the old domain is still a zombie (mapped or cached): try later */
	++*gen;
	if (rc != 0) {
		violation("control", "recreating d%u failed: %s", d, strerror(-rc));
		return;
	}
	r->create_at[v] = 0;
	if (q != NULL) {
		qmodel_forget_maps(s, q);
		qmodel_reset(s, q);
	}
	if (d == DOM_VG) {
		struct record g[512];
		uint32_t n = guest_vg_grants(s, g, 512);

		for (uint32_t i = 0; i < n; i++)
			if (exec_guest(&r->wa, &g[i]) != 0)
				violation("control", "VG grant %u failed after recreation",
					  g[i].ref);
		s->vg_alive = true;
	} else if (d == DOM_VC) {
		s->vc_alive = true;
	} else {
		s->h_alive = true;
	}
}

static void
fault_destroy(struct concrun *r, double now)
{
	struct sim *s = &r->s;
	unsigned int v = r->victim_turn++ % 3;
	gntdp_domid_t d = victims[v];
	struct qmodel *q = sim_queue_of(s, d);
	uint64_t maps = 0;

	if (!world_dom_alive(&r->wa, d) || (d == DOM_H && !r->c->f_garbage))
		return;
	if (d == DOM_VG) {
		for (uint32_t i = 0; i < s->nb_q; i++) {
			for (uint32_t x = 0; x < s->q[i].nb_maps; x++)
				maps += s->q[i].maps[x].g == DOM_VG &&
					s->q[i].maps[x].state != 0xff;
		}
		s->vg_alive = false;
	} else if (q != NULL) {
		maps = q->nb_maps;
	}
	if (d == DOM_VC)
		s->vc_alive = false;
	if (d == DOM_H)
		s->h_alive = false;
	s->fc.destroy++;
	s->fc.destroy_inflight += in_flight(r);
	s->fc.destroy_maps += maps;
	/* Xen's teardown with ops in flight on the workers and mappings live. */
	if (world_destroy_dom(&r->wa, d) != 0)
		violation("control", "destroying d%u failed", d);
	if (q != NULL && q->phase == QP_IDLE && d == DOM_VC)
		qmodel_forget_maps(s, q);
	r->create_at[v] = now + 0.005 + rng_below(&s->frng, 45) * 1e-3;
}

static void
fault_stall(struct concrun *r)
{
	struct sim *s = &r->s;
	uint32_t w = rng_below(&s->frng, s->lay.nb_workers);
	unsigned int ms = 1 + rng_below(&s->frng, r->c->stall_ms_max);

	for (uint32_t i = 0; i < s->nb_q; i++) {
		struct qmodel *q = &s->q[i];
		struct gntdp_gnttab_dump_table *dt = q->cur.ops;

		if (q->role != ROLE_STALL || q->worker != w || q->phase != QP_IDLE ||
		    atomic_load(&g_stall_ms) != 0)
			continue;
		/* The worker that dumps the STALL domain's table sleeps in the log callback. */
		atomic_store(&g_stall_ms, ms);
		q->cur.type = REC_BATCH;
		q->cur.cmd = GNTDP_GNTTABOP_DUMP_TABLE;
		q->cur.qid = (uint16_t)q->qid;
		q->cur.count = 1;
		memset(dt, 0, sizeof(*dt));
		dt->dom = GNTDP_DOMID_SELF;
		memset(q->cur.meta, 0, sizeof(*q->cur.meta));
		q->cur.meta[0].kind = K_DT_STALL;
		q->cur.meta[0].mask = M_OKAY | RC_OK;
		q->cur_rec = s->nrec++;
		q->cur_viol = false;
		q->submitted = q->completed = 0;
		fill_calls(r, q);
		q->phase = QP_SUBMITTING;
		q->phase_until = now_s() + 10.0 + ms * 1e-3;
		s->fc.stall++;
		s->fc.stall_ms += ms;
		return;
	}
}

/* ---- Drain ------------------------------------------------------------------------------ */

static void
pump(struct concrun *r, double timeout, const char *why)
{
	double end = now_s() + timeout;

	for (;;) {
		bool busy = false;
		double now = now_s();

		for (uint32_t i = 0; i < r->s.nb_q; i++) {
			struct qmodel *q = &r->s.q[i];

			step(r, q, now);
			busy |= q->phase != QP_IDLE;
		}
		if (!busy)
			return;
		if (now > end) {
			violation("lost", "%s: queues still busy after %.0f s", why, timeout);
			return;
		}
	}
}

/*
 * Sanitizer builds hold freed memory in a quarantine (ASan: up to 256 MiB) that fills over
 * the run: resident memory is reported there but not held to the tolerance.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_ASSERT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_ASSERT 0
#endif
#endif
#ifndef RSS_ASSERT
#define RSS_ASSERT 1
#endif

static void
rss_check(struct concrun *r, double t)
{
	/*
	 * A page VC transferred keeps the whole RAM segment of its VC incarnation alive (the
	 * leak check counts these segments); how many there are at a drain varies with the
	 * workload. Their frames are not counted, so what is compared is what the run keeps.
	 */
	const struct dom_spec *vc = spec_dom(&r->s.ws, DOM_VC);
	uint64_t extra =
		(uint64_t)sim_extra_segments(&r->s) * vc->nr_frames * (GNTDP_PAGE_SIZE / 1024);
	uint64_t raw = rss_kib();
	uint64_t kib = raw > extra ? raw - extra : raw;

	r->rss_last = kib;
	if (t < r->c->warmup)
		return;
	if (r->rss_base == 0) {
		r->rss_base = kib;
		return;
	}
	{
		double growth = ((double)kib - (double)r->rss_base) * 100.0 / (double)r->rss_base;

		if (growth > r->rss_growth_max)
			r->rss_growth_max = growth;
		if (RSS_ASSERT && growth > r->c->rss_tolerance &&
		    (double)(kib - r->rss_base) > r->c->rss_slack_mb * 1024.0)
			violation("rss",
				  "resident memory grew %.2f%% (%llu -> %llu KiB) since the "
				  "warm-up",
				  growth, (unsigned long long)r->rss_base, (unsigned long long)kib);
	}
}

static void
drain(struct concrun *r)
{
	struct sim *s = &r->s;
	unsigned int v0 = atomic_load(&g_viol.count);

	r->pausing = true;
	pump(r, 15.0, "drain");
	for (unsigned int v = 0; v < 3; v++) {
		if (!world_dom_alive(&r->wa, victims[v]))
			recreate(r, v);
	}
	/* The core's count of each client's mappings must be what the client knows it holds. */
	for (uint32_t i = 0; i < s->nb_q; i++) {
		struct qmodel *q = &s->q[i];
		struct gntdp_domain_info di;
		uint32_t live = 0;

		if (q->client_idx < 0 || !world_dom_alive(&r->wa, q->domid) ||
		    gntdp_domain_info(r->wa.gt, q->domid, &di) != 0)
			continue;
		for (uint32_t x = 0; x < q->nb_maps; x++)
			live += q->maps[x].state == MS_LIVE;
		if (di.live_mappings != live)
			violation("mappings", "drain: d%u (%s, generation %u) holds %u mappings, its "
				  "client made and kept %u (%u recorded)", q->domid, role_name(q->role),
				  q->domid == DOM_VC ? s->vc_gen : 0, di.live_mappings, live,
				  q->nb_maps);
	}
	/* Every client unmaps what it holds: ordinary batches with exact expectations (several
	 * rounds when a client holds more than one batch's worth). */
	for (int round = 0; round < 64; round++) {
		bool more = false;

		for (uint32_t i = 0; i < s->nb_q; i++) {
			struct qmodel *q = &s->q[i];

			if (q->nb_maps == 0 || !world_dom_alive(&r->wa, q->domid) ||
			    gen_unmap_all(s, q) == 0)
				continue;
			fill_calls(r, q);
			q->phase = QP_SUBMITTING;
			q->phase_until = now_s() + 10.0;
			more = true;
		}
		if (!more)
			break;
		pump(r, 15.0, "drain unmaps");
	}
	/* The hostile client's garbage mappings go with it. */
	if (r->c->f_garbage && world_dom_alive(&r->wa, DOM_H)) {
		world_destroy_dom(&r->wa, DOM_H);
		recreate(r, 2);
	}
	wait_pins(&r->wa, NULL, 2.0, "drain", sim_extra_segments(s));
	/* A victim still a zombie at the start (mapped, or pinned by a cache) is gone now. */
	for (unsigned int v = 0; v < 3; v++) {
		if (!world_dom_alive(&r->wa, victims[v]))
			recreate(r, v);
	}
	check_drained(&r->wa, "drain", (int)sim_extra_segments(s));
	for (uint32_t i = 0; i < s->nb_q; i++) {
		struct qmodel *q = &s->q[i];
		struct gntdp_dp_hcall_info hi;

		qmodel_verify_all(s, q, "drain");
		/* The ring's counters against the client's: every call completed, once. */
		if (gntdp_dp_hcall_info(q->ring, &hi) != 0 || hi.disabled ||
		    hi.calls != q->seq_sub || q->seq_cpl != q->seq_sub || hi.ops != q->ops_sub ||
		    hi.faults != q->rc_faults || hi.errors != q->rc_errors)
			violation("exactly-once",
				  "queue %u: %llu calls of %llu ops submitted, %llu reaped "
				  "(%llu -EFAULT, %llu other errors); the ring counts %llu calls, "
				  "%llu ops, %llu faults, %llu errors%s",
				  q->qid, (unsigned long long)q->seq_sub,
				  (unsigned long long)q->ops_sub, (unsigned long long)q->seq_cpl,
				  (unsigned long long)q->rc_faults,
				  (unsigned long long)q->rc_errors, (unsigned long long)hi.calls,
				  (unsigned long long)hi.ops, (unsigned long long)hi.faults,
				  (unsigned long long)hi.errors, hi.disabled ? ", disabled" : "");
	}
	rss_check(r, now_s() - r->t0);
	r->drains++;
	if (atomic_load(&g_viol.count) != v0)
		conc_trace(r, NULL);
	r->pausing = false;
}

/* ---- Setup, loop, report ------------------------------------------------------------- */

static int
conc_setup(struct concrun *r)
{
	const struct stress_conf *c = r->c;
	struct gntdp_dp_conf dc;
	int rc;

	rc = sim_init(&r->s, c, true);
	if (rc != 0)
		return rc;
	rc = world_build(&r->wa, 0, &r->s.ws);
	if (rc != 0)
		return rc;
	r->s.wa = &r->wa;
	gntdp_dp_conf_init(&dc);
	dc.nb_workers = 0; /* every EAL worker lcore... */
	dc.cache = c->cache;
	dc.cache_entries = c->cache_entries;
	dc.hold_us = c->hold_us;
	dc.idle_sleep_us = c->idle_sleep_us;
	dc.idle_after_us = c->idle_after_us;
	dc.copy = c->copy;
	{
		/* ...or the first c->workers of them. */
		unsigned int lc = (unsigned int)-1, n = 0;

		while (n < c->workers && (lc = rte_get_next_lcore(lc, 1, 0)) < RTE_MAX_LCORE)
			dc.worker_lcores[n++] = lc;
		if (n < c->workers) {
			APP_LOG(ERR, "gntdp-stress: %u workers wanted, EAL has %u worker lcores "
				"(give EAL more lcores, e.g. --lcores='(0-%u)@(0-1)')",
				c->workers, n, c->workers);
			return -EINVAL;
		}
		dc.nb_workers = n;
	}
	rc = gntdp_dp_create(r->wa.gt, &dc, &r->dp);
	if (rc != 0)
		return rc;
	/* Every queue a hypercall ring of its domain: queue i on worker i % workers. */
	rc = rings_create(r->dp, &r->s.ws, c, c->ring_size, r->rings);
	if (rc != 0)
		return rc;
	r->nb_rings = r->s.ws.nb_queues;
	for (uint32_t i = 0; i < r->s.ws.nb_queues; i++) {
		r->s.q[i].ring = r->rings[i];
		r->s.q[i].worker = i % gntdp_dp_worker_count(r->dp);
	}
	rc = gntdp_dp_start(r->dp);
	if (rc != 0)
		return rc;
	printf("gntdp-stress: concurrent: %u workers (lcores", gntdp_dp_worker_count(r->dp));
	for (unsigned int w = 0; w < gntdp_dp_worker_count(r->dp); w++)
		printf(" %u", dc.worker_lcores[w]);
	printf("), %u queues, copy kernel %s, %u domains\n", r->s.nb_q, gntdp_dp_copy_name(r->dp),
	       r->s.ws.nb_doms);
	return 0;
}

static void
progress(struct concrun *r, double now)
{
	struct fault_counts *f = &r->s.fc;
	double dt = now - r->last_t;
	double rate = dt > 0 ? (double)(r->s.total_ops - r->last_ops) / dt : 0;

	if (now - r->t0 >= r->c->warmup) {
		r->ops_rate_sum += rate;
		r->ops_rate_n++;
	}
	r->last_ops = r->s.total_ops;
	r->last_t = now;
	printf("gntdp-stress: [%6.1fs] %llu ops (%.0f ops/s), violations %u, rss %.1f MiB",
	       now - r->t0, (unsigned long long)r->s.total_ops, rate, atomic_load(&g_viol.count),
	       (double)rss_kib() / 1024.0);
	/* The change is measured at drains (the last one), net of transferred-page segments. */
	if (r->rss_base != 0)
		printf(" (%+.2f%%)",
		       ((double)r->rss_last - (double)r->rss_base) * 100.0 / (double)r->rss_base);
	printf(" | abandon %llu destroy %llu stall %llu corrupt %llu garbage %llu nospace %llu "
	       "limit %llu\n",
	       (unsigned long long)f->abandon, (unsigned long long)f->destroy,
	       (unsigned long long)f->stall, (unsigned long long)f->corrupt,
	       (unsigned long long)f->garbage, (unsigned long long)f->no_space,
	       (unsigned long long)f->table_limit);
	fflush(stdout);
}

static void
summary(struct concrun *r, double secs)
{
	struct fault_counts *f = &r->s.fc;
	struct gntdp_dp_stats st;
	struct gntdp_dp_hcall_info sum = {0};

	gntdp_dp_stats_get(r->dp, &st);
	for (uint32_t i = 0; i < r->nb_rings; i++) {
		struct gntdp_dp_hcall_info hi;

		if (gntdp_dp_hcall_info(r->rings[i], &hi) != 0)
			continue;
		sum.calls += hi.calls;
		sum.ops += hi.ops;
		sum.faults += hi.faults;
		sum.errors += hi.errors;
		sum.cq_full += hi.cq_full;
		sum.preempted += hi.preempted;
	}
	printf("gntdp-stress: concurrent: %.1f s, %llu ops in %llu batches, %.0f ops/s overall, "
	       "%.0f ops/s sustained after warm-up; data plane: %llu hypercalls (%llu -EFAULT, "
	       "%llu other errors), %llu cache hits, %llu CQ-full polls, %llu preempted slices\n",
	       secs, (unsigned long long)r->s.total_ops, (unsigned long long)r->s.total_batches,
	       (double)r->s.total_ops / secs,
	       r->ops_rate_n ? r->ops_rate_sum / r->ops_rate_n : (double)r->s.total_ops / secs,
	       (unsigned long long)sum.calls, (unsigned long long)sum.faults,
	       (unsigned long long)sum.errors, (unsigned long long)st.cache_hits,
	       (unsigned long long)sum.cq_full, (unsigned long long)sum.preempted);
	printf("gntdp-stress: faults injected: abandoned queues %llu (%llu requests in flight), "
	       "domains destroyed %llu (%llu requests in flight, %llu live mappings), worker "
	       "stalls %llu (%llu ms), entry corruptions %llu, garbage requests %llu, no_space "
	       "%llu, table-limit refusals %llu, statuses lost with their caller %llu\n",
	       (unsigned long long)f->abandon, (unsigned long long)f->abandon_inflight,
	       (unsigned long long)f->destroy, (unsigned long long)f->destroy_inflight,
	       (unsigned long long)f->destroy_maps, (unsigned long long)f->stall,
	       (unsigned long long)f->stall_ms, (unsigned long long)f->corrupt,
	       (unsigned long long)f->garbage, (unsigned long long)f->no_space,
	       (unsigned long long)f->table_limit, (unsigned long long)f->lost);
	if (!RSS_ASSERT)
		printf("gntdp-stress: sanitizer build: resident memory is not held to the "
		       "tolerance (quarantine)\n");
	printf("gntdp-stress: guest activity: %llu revokes, %llu grants, %llu read-only flips, "
	       "%llu pages transferred in, %llu back; %llu drain checks; resident memory %.1f MiB "
	       "after warm-up, %.1f MiB at the last drain (max growth %+.2f%%; net of segments "
	       "kept by transferred pages)\n",
	       (unsigned long long)f->revokes, (unsigned long long)f->grants,
	       (unsigned long long)f->ro_flips, (unsigned long long)f->transfers_in,
	       (unsigned long long)f->transfers_back, (unsigned long long)r->drains,
	       (double)r->rss_base / 1024.0, (double)r->rss_last / 1024.0, r->rss_growth_max);
	printf("gntdp-stress: statuses:");
	for (int i = 0; i < GNTDP_GNTST_COUNT; i++) {
		if (r->s.status_hist[i] != 0)
			printf(" %s=%llu", gntdp_gntst_name((int16_t)-i) + 6,
			       (unsigned long long)r->s.status_hist[i]);
	}
	printf("\n");
	v2_summary(stdout);
	hostile_summary(stdout, true, r->c->f_garbage);
}

int
conc_main(const struct stress_conf *c)
{
	static struct concrun r;
	unsigned int v0 = atomic_load(&g_viol.count), pv;
	double end, now;
	char first[256];
	int rc;

	memset(&r, 0, sizeof(r));
	r.c = c;
	rc = conc_setup(&r);
	if (rc != 0) {
		APP_LOG(ERR, "gntdp-stress: concurrent setup failed: %s", strerror(-rc));
		if (r.dp != NULL) {
			gntdp_dp_stop(r.dp);
			rings_destroy(r.dp, r.rings, r.nb_rings);
			gntdp_dp_destroy(r.dp);
		}
		if (r.wa.gt != NULL)
			world_destroy(&r.wa);
		sim_free(&r.s);
		return EXIT_USAGE;
	}
	pv = prot_violations(NULL, 0);
	r.t0 = r.last_t = now = now_s();
	end = r.t0 + c->duration;
	r.next_progress = r.t0 + c->progress;
	r.next_drain = r.t0 + c->drain_every;
	r.next_abandon = r.t0 + c->abandon_every;
	r.next_destroy = r.t0 + c->destroy_every;
	r.next_stall = r.t0 + c->stall_every;
	while (now < end && !gntdp_dp_stop_requested()) {
		struct record g;

		for (uint32_t i = 0; i < r.s.nb_q; i++)
			step(&r, &r.s.q[i], now);
		for (uint32_t k = 0; k < c->guest_actions; k++) {
			if (guest_next(&r.s, &g))
				guest_applied(&r.s, &g, exec_guest(&r.wa, &g));
		}
		now = now_s();
		for (unsigned int v = 0; v < 3; v++) {
			if (r.create_at[v] != 0 && now >= r.create_at[v])
				recreate(&r, v);
		}
		if (c->f_abandon && now >= r.next_abandon) {
			fault_abandon(&r, now);
			r.next_abandon =
				now + c->abandon_every * (0.5 + rng_below(&r.s.frng, 100) / 100.0);
		}
		if (c->f_destroy && now >= r.next_destroy) {
			fault_destroy(&r, now);
			r.next_destroy =
				now + c->destroy_every * (0.5 + rng_below(&r.s.frng, 100) / 100.0);
		}
		if (c->f_stall && now >= r.next_stall) {
			fault_stall(&r);
			r.next_stall =
				now + c->stall_every * (0.5 + rng_below(&r.s.frng, 100) / 100.0);
		}
		if (prot_violations(NULL, 0) != pv) {
			pv = prot_violations(first, sizeof(first));
			violation("revoked-access", "%s", first);
			conc_trace(&r, NULL);
		}
		if (now >= r.next_drain) {
			drain(&r);
			now = now_s();
			r.next_drain = now + c->drain_every;
		}
		if (c->progress > 0 && now >= r.next_progress) {
			progress(&r, now);
			r.next_progress += c->progress;
		}
	}
	drain(&r);
	now = now_s();
	gntdp_dp_stop(r.dp);
	if (prot_violations(NULL, 0) != pv) {
		prot_violations(first, sizeof(first));
		violation("revoked-access", "%s", first);
	}
	summary(&r, now - r.t0);
	rc = atomic_load(&g_viol.count) == v0 ? EXIT_SUCCESS : EXIT_VIOLATION;
	if (rc == EXIT_SUCCESS)
		printf("gntdp-stress: concurrent phase clean: 0 violations, 0 lost or duplicated "
		       "completions, every drain check passed\n");
	else
		printf("gntdp-stress: FAILED (seed %llu): %u violations, first: %s\n",
		       (unsigned long long)c->seed, atomic_load(&g_viol.count) - v0, g_viol.first);
	fflush(stdout);
	prot_reset_all();
	rings_destroy(r.dp, r.rings, r.nb_rings);
	gntdp_dp_destroy(r.dp);
	world_destroy(&r.wa);
	sim_free(&r.s);
	return rc;
}
