/* SPDX-License-Identifier: MIT */
/*
 * The run: client loops that post request bursts to the data plane's
 * hypercall rings as backends would (the requests themselves are built in
 * gen.c) and reap the completions, and the controller that walks the phases
 * (calibrate, warm up, measure, drain) and prints progress.
 *
 * Per queue (a hypercall ring), request number seq uses slot seq % depth.
 * A burst goes into the backend's own RAM as op arrays, one hypercall per
 * run of one command, each op with status HC_STATUS_UNSET (gen.c); the
 * hypercall starting at seq with n ops carries user_data = n << 48 | seq.
 * At most depth ops are in flight, so a slot is never reused before its
 * completion arrives; completions come back in submission order
 * (gntdp/hcall.h), so each one must carry exactly the next expected
 * user_data: a duplicate, a loss or a reordering of a hypercall shows up at
 * once as a mismatch. Each op's status is then read back from the op array
 * (an op the worker never wrote back still holds HC_STATUS_UNSET and fails)
 * and checked op by op (complete_one).
 *
 * In connect mode (connect.c) the same client loop runs in each backend
 * process on rings of gntdpd (cq->cr), and backend 0's loop runs the
 * controller (b->ticker), as the main lcore's client does in process.
 *
 * Latency is the TSC at the completion burst minus the TSC at the submit
 * burst of the same request: both ends stamp once per burst, which is when
 * the requests become visible and when the client sees them done.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <gntdp/client.h>

#include "bench.h"

/* How long the drain may take before the remaining requests count as lost. */
#define DRAIN_TIMEOUT_S 2.0
/* The controller looks at the clock this often when it shares the main lcore with a client. */
#define TICK_US 500

/* ---- completion handling ---- */

static void __attribute__((format(printf, 2, 3)))
record_error(struct client *c, const char *fmt, ...)
{
	va_list ap;

	if (c->first_error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->first_error, sizeof(c->first_error), fmt, ap);
	va_end(ap);
}

/* One op of a completed hypercall: the next sequence number of the queue. */
static inline void
complete_one(struct bench *b, struct client *c, struct cqueue *cq, const struct bench_cpl *cpl,
	     uint64_t tsc, bool measuring)
{
	uint64_t seq = cq->tail;
	struct slot *sl = &cq->slots[seq & (cq->depth - 1)];
	int16_t st = cpl->status;

	cq->tail++;
	c->st.completed++;
	if (likely(st <= 0 && st > -GNTDP_GNTST_COUNT))
		c->st.by_status[-st]++;
	if (unlikely(st != sl->expect)) {
		c->st.bad_status++;
		if (c->first_error[0] == '\0')
			snprintf(c->first_error, sizeof(c->first_error),
				 "queue %u seq %" PRIu64
				 " kind %u (%s): status %s (rc %d), expected %s",
				 cq->qid, seq, sl->kind,
				 sl->kind == RK_INVALID
					 ? invalid_kind_name((enum invalid_kind)sl->inv)
					 : "valid",
				 gntdp_gntst_name(st), cpl->rc, gntdp_gntst_name(sl->expect));
	}
	switch (sl->kind) {
	case RK_COPY_GG:
	case RK_COPY_GF:
		c->st.copies++;
		c->st.copy_bytes += sl->len;
		break;
	case RK_MAP:
		c->st.maps++;
		if (st == GNTDP_GNTST_OKAY) {
			struct pending_unmap *pu =
				&cq->unmap_fifo[cq->unmap_head++ & (cq->depth - 1)];

			pu->handle = cpl->handle;
			pu->gfn_idx = sl->gfn_idx;
		} else {
			cq->gfn_free[cq->nb_gfn_free++] = sl->gfn_idx;
		}
		break;
	case RK_UNMAP:
		c->st.unmaps++;
		/* A failed unmap may have left the mapping: that gfn is not reused. */
		if (st == GNTDP_GNTST_OKAY)
			cq->gfn_free[cq->nb_gfn_free++] = sl->gfn_idx;
		break;
	default:
		c->st.invalid++;
		break;
	}
	if (measuring)
		hist_add(&c->lat, tsc - sl->tsc);
	if (b->sc.verify)
		verify_effect(b, c, cq, seq, sl, cpl);
}

/* ---- reaping a ring ---- */

unsigned int
reap(struct bench *b, struct client *c, struct cqueue *cq, bool measuring)
{
	struct gntdp_hcall_cqe cqes[BENCH_MAX_BURST];
	unsigned int n = cq->cr != NULL ? gntdp_client_reap(cq->cr, cqes, BENCH_MAX_BURST)
					: gntdp_dp_hcall_reap_burst(cq->hc, cqes, BENCH_MAX_BURST);
	unsigned int ops = 0;
	unsigned int mask = cq->depth - 1;
	uint64_t tsc;

	if (n == 0)
		return 0;
	tsc = rte_rdtsc();
	for (unsigned int i = 0; i < n; i++) {
		uint64_t seq0 = cq->tail;
		unsigned int s0 = (unsigned int)(seq0 & mask);
		unsigned int cnt = cq->slots[s0].call_n;
		uint8_t cmd = cq->slots[s0].cmd;
		size_t sz = hc_op_size(cmd);

		cq->hc_done++;
		if (unlikely(cq->head == cq->tail || cnt == 0 ||
			     cqes[i].user_data != HC_USER_DATA(seq0, cnt))) {
			c->st.dup_or_unknown++;
			record_error(c,
				     "queue %u: hypercall completion user_data %#" PRIx64
				     ", expected seq %" PRIu64 " count %u",
				     cq->qid, cqes[i].user_data, seq0, cnt);
			continue;
		}
		if (unlikely(cqes[i].rc != 0))
			record_error(c, "queue %u: hypercall at seq %" PRIu64 " returned %d",
				     cq->qid, seq0, cqes[i].rc);
		for (unsigned int o = 0; o < cnt; o++) {
			union hc_op tmp;
			const union hc_op *g;
			size_t off = (size_t)s0 * HC_OP_STRIDE + o * sz;
			struct bench_cpl cpl = {.rc = cqes[i].rc};

			/* What the worker wrote back into the caller's memory. */
			if (hc_in_frame(off, sz)) {
				g = hc_at(cq, off);
			} else {
				hc_guest_io(cq, off, &tmp, sz, false);
				g = &tmp;
			}
			if (cmd == GNTDP_GNTTABOP_COPY) {
				cpl.status = g->copy.status;
			} else if (cmd == GNTDP_GNTTABOP_MAP_GRANT_REF) {
				cpl.status = g->map.status;
				cpl.handle = g->map.handle;
			} else {
				cpl.status = g->unmap.status;
			}
			complete_one(b, c, cq, &cpl, tsc, measuring);
		}
		ops += cnt;
	}
	return ops;
}

/* ---- client loop ---- */

struct pacing {
	double rate_per_tsc; /* requests per TSC cycle, 0 = unlimited */
	uint64_t t0;
	uint64_t posted; /* since t0 */
};

static void
pacing_reset(struct bench *b, struct client *c, struct pacing *p, uint64_t tsc)
{
	double mops = atomic_load(&b->sync->rate_mops);

	p->rate_per_tsc = mops > 0 ? mops * 1e6 * c->share / (double)b->tsc_hz : 0;
	p->t0 = tsc;
	p->posted = 0;
}

/* How many requests the pacing allows now (UINT_MAX when unpaced). */
static inline unsigned int
pacing_allow(struct pacing *p, unsigned int depth, uint64_t tsc)
{
	double due;

	if (p->rate_per_tsc == 0)
		return UINT32_MAX;
	due = (double)(tsc - p->t0) * p->rate_per_tsc - (double)p->posted;
	/* After a stall do not make up more than one queue's worth at once. */
	if (due > depth) {
		p->posted += (uint64_t)(due - depth);
		due = depth;
	}
	return due > 0 ? (unsigned int)due : 0;
}


/* React to a phase change seen by client c. */
static void
client_phase(struct bench *b, struct client *c, struct pacing *p, int ph, uint64_t tsc)
{
	if (ph == PH_WARMUP || ph == PH_MEASURE)
		pacing_reset(b, c, p, tsc);
	if (ph == PH_MEASURE) {
		c->snap0 = c->st;
		c->t0 = tsc;
	}
	if (ph >= PH_DRAIN && !c->budget_done) {
		c->snap1 = c->st;
		c->t1 = tsc;
		c->budget_done = true;
	}
}

int
client_loop(void *arg)
{
	struct client *c = arg;
	struct bench *b = c->bench;
	struct bench_op *ops = c->ops;
	struct pacing p = {0};
	unsigned int burst;
	uint64_t budget = 0, posted_measure = 0;
	int ph = -1;
	/* The controller shares the main lcore when the main lcore is a client. */
	bool tick = b->connect ? b->ticker : rte_lcore_id() == rte_get_main_lcore();
	uint64_t tsc_end;

	burst = b->sc.burst;
	if (b->sc.ops > 0)
		budget = (uint64_t)((double)b->sc.ops * c->share + 0.5);
	for (;;) {
		uint64_t tsc = rte_rdtsc();
		unsigned int did = 0;
		int now_ph = atomic_load_explicit(&b->sync->phase, memory_order_acquire);
		bool measuring, posting;
		unsigned int inflight = 0;

		if (now_ph != ph) {
			client_phase(b, c, &p, now_ph, tsc);
			ph = now_ph;
		}
		if (ph == PH_DONE)
			break;
		measuring = ph == PH_MEASURE && !c->budget_done;
		posting = ph < PH_DRAIN &&
			  !(ph == PH_MEASURE && budget > 0 && posted_measure >= budget);
		for (unsigned int i = 0; i < c->nb_q; i++) {
			struct cqueue *cq = c->q[i];
			unsigned int room, allow, n, k;

			did += reap(b, c, cq, measuring);
			room = cq->depth - (unsigned int)(cq->head - cq->tail);
			inflight += cq->depth - room;
			if (!posting || room < burst)
				continue;
			allow = pacing_allow(&p, cq->depth, tsc);
			if (allow < burst)
				continue;
			n = burst;
			if (ph == PH_MEASURE && budget > 0 && budget - posted_measure < n)
				n = (unsigned int)(budget - posted_measure);
			if (b->copies_only) {
				k = hc_post_copies(b, cq, n, tsc);
			} else {
				n = build_burst(b, cq, ops, n, tsc);
				k = hc_submit(cq, ops, n);
			}
			c->st.posted += k;
			p.posted += k;
			if (ph == PH_MEASURE)
				posted_measure += k;
			if (unlikely(k != n)) {
				/* depth <= ring_size SQ entries: a short submit breaks the contract. */
				c->st.short_submit++;
				record_error(c, "queue %u: submit took %u of %u", cq->qid, k, n);
				cq->head -= n - k;
			}
			inflight += k;
			did += k;
		}
		/*
		 * Client load: cycles of iterations that reaped or posted, over all
		 * cycles. Near 100 % the client, not the worker, limits the run.
		 */
		tsc_end = rte_rdtsc();
		c->st.loop_cycles += tsc_end - tsc;
		if (did != 0)
			c->st.busy_cycles += tsc_end - tsc;
		if (ph == PH_MEASURE && budget > 0 && !c->budget_done &&
		    c->st.completed - c->snap0.completed >= budget) {
			c->snap1 = c->st;
			c->t1 = rte_rdtsc();
			c->budget_done = true;
		}
		if (ph == PH_CALIB)
			c->calib_done = c->st.completed;
		atomic_store_explicit(&c->pub_completed, c->st.completed, memory_order_relaxed);
		atomic_store_explicit(&c->pub_bytes, c->st.copy_bytes, memory_order_relaxed);
		if (ph == PH_DRAIN && inflight == 0)
			break;
		if (tick)
			controller_tick(b, tsc);
	}
	atomic_store_explicit(&c->finished, true, memory_order_release);
	return 0;
}

/* ---- controller ---- */

static double
tsc_s(const struct bench *b, uint64_t d)
{
	return (double)d / (double)b->tsc_hz;
}

static uint64_t
sum_completed(struct bench *b, uint64_t *bytes)
{
	uint64_t n = 0, by = 0;

	for (unsigned int j = 0; j < b->nb_clients; j++) {
		n += atomic_load_explicit(&b->clients[j].pub_completed, memory_order_relaxed);
		by += atomic_load_explicit(&b->clients[j].pub_bytes, memory_order_relaxed);
	}
	if (bytes != NULL)
		*bytes = by;
	return n;
}

/* The counters of every ring of this process, summed (in process only: connect mode has none). */
static void
rings_info(const struct bench *b, struct gntdp_dp_hcall_info *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; b->cq != NULL && i < b->nb_q; i++) {
		struct gntdp_dp_hcall_info hi;

		if (b->cq[i].hc == NULL || gntdp_dp_hcall_info(b->cq[i].hc, &hi) != 0)
			continue;
		sum->calls += hi.calls;
		sum->ops += hi.ops;
		sum->cq_full += hi.cq_full;
		sum->preempted += hi.preempted;
	}
}

void
set_phase(struct bench *b, int ph, uint64_t tsc)
{
	int old = atomic_load(&b->sync->phase);

	/*
	 * Data-plane and ring counters bracket the measurement (approximate
	 * snapshots, see dataplane.h and hcall.h).
	 */
	if (ph == PH_MEASURE && b->dp != NULL) {
		gntdp_dp_stats_get(b->dp, &b->dps0);
		rings_info(b, &b->hci0);
	}
	if (old == PH_MEASURE && b->dp != NULL) {
		gntdp_dp_stats_get(b->dp, &b->dps1);
		rings_info(b, &b->hci1);
	}
	b->ph_start = tsc;
	/* Release: pairs with the clients' acquire load of phase (rate_mops is written before). */
	atomic_store_explicit(&b->sync->phase, ph, memory_order_release);
}

static bool
all_clients(struct bench *b, bool finished)
{
	for (unsigned int j = 0; j < b->nb_clients; j++) {
		struct client *c = &b->clients[j];

		if (finished ? !atomic_load(&c->finished) : !atomic_load(&c->budget_done))
			return false;
	}
	return true;
}

static const char *const phase_names[] = {"calibrate", "warmup", "measure", "drain", "done"};

static void
progress(struct bench *b, int ph, uint64_t tsc)
{
	uint64_t bytes, done = sum_completed(b, &bytes);
	double dt = tsc_s(b, tsc - b->last_progress_tsc);

	if (b->sc.progress && b->last_progress_tsc != 0 && dt > 0)
		fprintf(stderr, "[%6.1f s] %-9s %8.2f Mops/s %7.2f GB/s  %" PRIu64 " completed\n",
			tsc_s(b, tsc - b->run_start), phase_names[ph],
			(double)(done - b->last_completed) / dt / 1e6,
			(double)(bytes - b->last_bytes) / dt / 1e9, done);
	b->last_completed = done;
	b->last_bytes = bytes;
	b->last_progress_tsc = tsc;
}

void
controller_tick(struct bench *b, uint64_t tsc)
{
	const struct scenario *sc = &b->sc;
	int ph;
	double el;

	if (tsc < b->next_tick)
		return;
	b->next_tick = tsc + b->tsc_hz / (1000000 / TICK_US);
	ph = atomic_load(&b->sync->phase);
	el = tsc_s(b, tsc - b->ph_start);
	if (tsc >= b->next_progress) {
		progress(b, ph, tsc);
		b->next_progress = tsc + b->tsc_hz;
	}
	if (ph < PH_DRAIN && gntdp_dp_stop_requested()) {
		b->stop_phase = ph;
		set_phase(b, PH_DRAIN, tsc);
		return;
	}
	switch (ph) {
	case PH_CALIB:
		if (el >= sc->calib_s) {
			b->peak_mops = (double)sum_completed(b, NULL) / el / 1e6;
			atomic_store(&b->sync->rate_mops, b->peak_mops * sc->rate_pct / 100.0);
			set_phase(b, PH_WARMUP, tsc);
		}
		break;
	case PH_WARMUP:
		if (el >= sc->warmup_s)
			set_phase(b, PH_MEASURE, tsc);
		break;
	case PH_MEASURE:
		if ((sc->duration_s > 0 && el >= sc->duration_s) ||
		    (sc->ops > 0 && all_clients(b, false)))
			set_phase(b, PH_DRAIN, tsc);
		break;
	case PH_DRAIN:
		if (all_clients(b, true) || el >= DRAIN_TIMEOUT_S)
			set_phase(b, PH_DONE, tsc);
		break;
	default:
		break;
	}
}

/* ---- results ---- */

static void
stats_add(struct client_stats *d, const struct client_stats *a, const struct client_stats *s)
{
	/* Every field is a uint64_t counter: d += a - s, field by field. */
	const uint64_t *pa = (const uint64_t *)a, *ps = (const uint64_t *)s;
	uint64_t *pd = (uint64_t *)d;

	for (size_t i = 0; i < sizeof(*d) / sizeof(uint64_t); i++)
		pd[i] += pa[i] - (ps != NULL ? ps[i] : 0);
}

void
collect_clients(struct bench *b, struct run_result *r)
{
	uint64_t t0 = UINT64_MAX, t1 = 0;

	memset(r, 0, sizeof(*r));
	r->tsc_hz = b->tsc_hz;
	for (unsigned int j = 0; j < b->nb_clients; j++) {
		struct client *c = &b->clients[j];

		stats_add(&r->win, &c->snap1, &c->snap0);
		stats_add(&r->tot, &c->st, NULL);
		hist_merge(&r->lat, &c->lat);
		if (c->t0 != 0 && c->t0 < t0)
			t0 = c->t0;
		if (c->t1 > t1)
			t1 = c->t1;
		if (r->first_error[0] == '\0' && c->first_error[0] != '\0')
			snprintf(r->first_error, sizeof(r->first_error), "%s", c->first_error);
	}
	r->elapsed_s = t1 > t0 ? tsc_s(b, t1 - t0) : 0;
	r->peak_mops = b->peak_mops;
	r->rate_mops = atomic_load(&b->sync->rate_mops);
	r->nb_workers = b->sc.nb_workers;
	/* A signal after the window (in the drain) still stops the raw copy: interrupted too. */
	r->interrupted = b->stop_phase >= 0 || gntdp_dp_stop_requested();
	r->stopped_in = b->stop_phase >= 0 ? phase_names[b->stop_phase] : r->interrupted ? "drain" : "";
}

static void
collect(struct bench *b, struct run_result *r)
{
	collect_clients(b, r);
	for (unsigned int i = 0; i < b->nb_q; i++) {
		const struct cqueue *cq = &b->cq[i];
		struct gntdp_dp_hcall_info hi;

		r->lost += cq->head - cq->tail;
		if (cq->hc == NULL || gntdp_dp_hcall_info(cq->hc, &hi) != 0)
			continue;
		r->hc_calls += hi.calls;
		r->hc_ops += hi.ops;
		/* Exactly once: the ring counted as many calls as were posted and reaped, no op more. */
		if (hi.calls != cq->hc_calls || hi.calls != cq->hc_done || hi.ops != cq->head ||
		    hi.disabled) {
			r->tot.dup_or_unknown++;
			if (r->first_error[0] == '\0')
				snprintf(r->first_error, sizeof(r->first_error),
					 "queue %u: ring counted %" PRIu64 " hypercalls of %" PRIu64
					 " ops (disabled %d); client posted %" PRIu64
					 ", reaped %" PRIu64 " of %" PRIu64 " ops",
					 cq->qid, hi.calls, hi.ops, hi.disabled, cq->hc_calls,
					 cq->hc_done, cq->head);
		}
	}
	r->cache_hits = b->dps1.cache_hits - b->dps0.cache_hits;
	r->cache_misses = b->dps1.cache_misses - b->dps0.cache_misses;
	r->busy_polls = b->dps1.busy_polls - b->dps0.busy_polls;
	r->idle_polls = b->dps1.idle_polls - b->dps0.idle_polls;
	r->hc_win_calls = b->hci1.calls - b->hci0.calls;
	r->hc_win_ops = b->hci1.ops - b->hci0.ops;
	r->cq_full = b->hci1.cq_full - b->hci0.cq_full;
	r->preempted = b->hci1.preempted - b->hci0.preempted;
	snprintf(r->copy_kernel, sizeof(r->copy_kernel), "%s", b->copy_name);
	r->hugepages = gntdp_dp_eal_hugepages();
	r->src_corrupt = verify_sources(b, r->first_error, sizeof(r->first_error));
}

int
bench_run(struct bench *b, struct run_result *r)
{
	const struct scenario *sc = &b->sc;
	unsigned int main_lc = rte_get_main_lcore();
	struct client *main_client = NULL;
	double rtt0;
	uint64_t tsc;
	int rc, ph;

	b->tsc_hz = rte_get_tsc_hz();
	b->stop_phase = -1;
	b->sync = &b->sync_local;
	atomic_store(&b->sync->rate_mops, sc->rate_mops);
	rtt0 = xcore_rtt_ns(b);
	ph = sc->rate_pct > 0 ? PH_CALIB : sc->warmup_s > 0 ? PH_WARMUP : PH_MEASURE;
	rc = gntdp_dp_start(b->dp);
	if (rc < 0) {
		fprintf(stderr, "gntdp_dp_start: %s\n", strerror(-rc));
		return rc;
	}
	tsc = rte_rdtsc();
	b->run_start = tsc;
	b->next_progress = tsc + b->tsc_hz;
	b->last_progress_tsc = tsc;
	set_phase(b, ph, tsc);
	for (unsigned int j = 0; j < b->nb_clients; j++) {
		struct client *c = &b->clients[j];

		if (c->lcore == main_lc) {
			main_client = c;
			continue;
		}
		rc = rte_eal_remote_launch(client_loop, c, c->lcore);
		if (rc < 0) {
			fprintf(stderr, "client lcore %u: launch failed: %s\n", c->lcore,
				strerror(-rc));
			atomic_store(&c->finished, true);
			set_phase(b, PH_DRAIN, tsc);
		}
	}
	if (main_client != NULL)
		client_loop(main_client);
	while (atomic_load(&b->sync->phase) != PH_DONE) {
		controller_tick(b, rte_rdtsc());
		if (main_client == NULL)
			rte_delay_us_sleep(TICK_US / 5);
	}
	for (unsigned int j = 0; j < b->nb_clients; j++) {
		if (b->clients[j].lcore != main_lc)
			rte_eal_wait_lcore(b->clients[j].lcore);
	}
	gntdp_dp_stop(b->dp);
	collect(b, r);
	r->rtt_before_ns = rtt0;
	r->rtt_after_ns = xcore_rtt_ns(b);
	return 0;
}
