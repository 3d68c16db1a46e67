/* SPDX-License-Identifier: MIT */
/*
 * The worker poll loop: per iteration, set the clock of every context the
 * worker owns, age their grant caches and announce their quiescent states,
 * then call each poller once. The built-in poller "queues" takes one burst
 * from each queue the worker serves, executes it through the core in runs
 * of one command, and publishes all of its completions with one enqueue.
 *
 * Exactly-once: a request leaves its ring only in queue_poll(), which takes
 * no more than the free space of the queue's completion ring. The worker is
 * that ring's only producer, so the space cannot shrink before the enqueue
 * at the end of the burst, and the bulk enqueue cannot fail: every consumed
 * request gets exactly one completion, and an undrained completion ring
 * stops consumption instead of dropping anything.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_debug.h>
#include <rte_ring_elem.h>

#include "dp_internal.h"

/* Commands whose results are an errno: it must belong to one request. */
#define RC_CMDS                                                                                   \
	((1u << GNTDP_GNTTABOP_SET_VERSION) | (1u << GNTDP_GNTTABOP_GET_VERSION) |                \
	 (1u << GNTDP_GNTTABOP_CACHE_FLUSH))
/* Commands run one at a time: the core needs count 1, or they answer with an errno. */
#define SINGLE_CMDS                                                                               \
	((1u << GNTDP_GNTTABOP_SETUP_TABLE) | (1u << GNTDP_GNTTABOP_DUMP_TABLE) |                 \
	 (1u << GNTDP_GNTTABOP_QUERY_SIZE) | (1u << GNTDP_GNTTABOP_GET_STATUS_FRAMES) | RC_CMDS)
/* Commands the data plane carries: all the core executes, 0-12. */
#define CARRIED_CMDS ((1u << (GNTDP_GNTTABOP_CACHE_FLUSH + 1)) - 1u)

static_assert(sizeof(((struct gntdp_dp_req *)0)->op) == 48, "scratch sized for 48-byte ops");

/* Why a whole-call error becomes one status per request (documented in dataplane.h). */
static int16_t
call_error_status(int rc)
{
	return rc == -ESRCH ? GNTDP_GNTST_BAD_DOMAIN : GNTDP_GNTST_GENERAL_ERROR;
}

static_assert(offsetof(struct gntdp_dp_req, cmd) == 8 &&
		      offsetof(struct gntdp_dp_req, rsvd) == 9 &&
		      sizeof(((struct gntdp_dp_req *)0)->rsvd) == 7,
	      "cmd and rsvd[7] fill the aligned word at offset 8");
/* The cmd byte inside that word, whatever the byte order. */
#if !defined(RTE_BYTE_ORDER)
#error "RTE_BYTE_ORDER undefined"
#elif RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
#define CMD_BYTE_MASK UINT64_C(0xff)
#else
#define CMD_BYTE_MASK (UINT64_C(0xff) << 56)
#endif

static bool
req_valid(const struct gntdp_dp_req *r, int *rc)
{
	uint64_t word;

	/*
	 * One aligned 8-byte load of cmd + rsvd[7], the cmd byte masked off.
	 * Copying the 7 bytes into a zeroed u64 on the stack compiled to an
	 * 8-byte store, two overlapping 4-byte stores and an 8-byte reload: a
	 * store-forwarding stall on every request (issue 11, 13% of
	 * worker_iter). The requests are the worker's private, 64-byte aligned
	 * copies (w->reqs), so the load never crosses a line.
	 */
	memcpy(&word, (const uint8_t *)r + offsetof(struct gntdp_dp_req, cmd), sizeof(word));
	if (unlikely((word & ~CMD_BYTE_MASK) != 0)) {
		*rc = -EINVAL;
		return false;
	}
	if (unlikely(r->cmd >= 32 || !((CARRIED_CMDS >> r->cmd) & 1u))) {
		*rc = -ENOSYS;
		return false;
	}
	return true;
}

/* Length of the run of requests with the same cmd starting at @p i. */
static unsigned int
run_length(const struct gntdp_dp_req *reqs, unsigned int i, unsigned int n)
{
	uint8_t cmd = reqs[i].cmd;
	unsigned int j = i + 1;
	int rc;

	if ((SINGLE_CMDS >> cmd) & 1u)
		return 1;
	while (j < n && reqs[j].cmd == cmd && req_valid(&reqs[j], &rc))
		j++;
	return j - i;
}

/*
 * Write the statuses (and outputs) the core left in the requests' op structs
 * into the completions. The core ran the ops in place in w->reqs (strided),
 * so nothing was gathered.
 */
static void
scatter(const struct gntdp_dp_req *reqs, uint8_t cmd, struct gntdp_dp_cpl *cpl, unsigned int cnt)
{
	unsigned int k;

	switch (cmd) {
	case GNTDP_GNTTABOP_COPY:
		for (k = 0; k < cnt; k++)
			cpl[k].status = reqs[k].op.copy.status;
		break;
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		for (k = 0; k < cnt; k++) {
			cpl[k].status = reqs[k].op.map.status;
			if (reqs[k].op.map.status == GNTDP_GNTST_OKAY) {
				cpl[k].out.map.handle = reqs[k].op.map.handle;
				cpl[k].out.map.dev_bus_addr = reqs[k].op.map.dev_bus_addr;
			}
		}
		break;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		for (k = 0; k < cnt; k++)
			cpl[k].status = reqs[k].op.unmap.status;
		break;
	case GNTDP_GNTTABOP_TRANSFER:
		for (k = 0; k < cnt; k++)
			cpl[k].status = reqs[k].op.transfer.status;
		break;
	case GNTDP_GNTTABOP_SETUP_TABLE:
		cpl[0].status = reqs[0].op.setup_table.status;
		break;
	case GNTDP_GNTTABOP_DUMP_TABLE:
		cpl[0].status = reqs[0].op.dump_table.status;
		break;
	case GNTDP_GNTTABOP_QUERY_SIZE:
		cpl[0].status = reqs[0].op.query_size.status;
		if (reqs[0].op.query_size.status == GNTDP_GNTST_OKAY) {
			cpl[0].out.query_size.nr_frames = reqs[0].op.query_size.nr_frames;
			cpl[0].out.query_size.max_nr_frames = reqs[0].op.query_size.max_nr_frames;
		}
		break;
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		for (k = 0; k < cnt; k++)
			cpl[k].status = reqs[k].op.unmap_and_replace.status;
		break;
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		cpl[0].status = reqs[0].op.get_status_frames.status;
		break;
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
		for (k = 0; k < cnt; k++)
			cpl[k].status = reqs[k].op.swap_grant_ref.status;
		break;
	case GNTDP_GNTTABOP_SET_VERSION:
		cpl[0].out.version.version = reqs[0].op.set_version.version;
		break;
	case GNTDP_GNTTABOP_GET_VERSION:
		cpl[0].out.version.version = reqs[0].op.get_version.version;
		break;
	case GNTDP_GNTTABOP_CACHE_FLUSH:
		break; /* no status: okay, rc 0 */
	default:
		RTE_ASSERT(0);
	}
}

/* Execute one run of @p cnt requests with the same valid cmd; fill their completions. */
static void
exec_run(struct worker *w, struct gntdp_gnttab_ctx *ctx, const struct gntdp_dp_queue *q,
	 const struct gntdp_dp_req *reqs, unsigned int i, unsigned int cnt)
{
	struct gntdp_dp_cpl *cpl = &w->cpls[i];
	uint8_t cmd = reqs[i].cmd;
	unsigned int k;
	int rc;

	/* The op structs are executed in place in the dequeued requests (w->reqs is the
	 * worker's private copy of the ring entries, so the core may write them). */
	rc = gntdp_gnttab_op_strided(ctx, q->domid, cmd, &w->reqs[i].op, sizeof(*reqs), cnt);
	counter_add(&w->stats[ST_BATCHES], 1);
	if (likely(rc == 0)) {
		scatter(&reqs[i], cmd, cpl, cnt);
		return;
	}
	/* The core refused the whole call and did nothing: one status each, so none is lost.
	 * (An errno-result command is a run of one: the errno is its result.) */
	for (k = 0; k < cnt; k++) {
		cpl[k].status = call_error_status(rc);
		cpl[k].rc = rc;
	}
	if (cmd == GNTDP_GNTTABOP_SET_VERSION) /* Xen writes the version back even then */
		cpl[0].out.version.version = reqs[i].op.set_version.version;
	counter_add(&w->stats[ST_CALL_ERRORS], cnt);
}

/* Execute a burst of @p n requests in ring order; w->cpls[0..n) receive the completions. */
static void
exec_burst(struct worker *w, struct gntdp_gnttab_ctx *ctx, const struct gntdp_dp_queue *q,
	   unsigned int n)
{
	const struct gntdp_dp_req *reqs = w->reqs;
	struct gntdp_dp_cpl *cpls = w->cpls;
	unsigned int i, cnt, k;
	int rc;

	for (i = 0; i < n; i++) {
		memset(&cpls[i], 0, sizeof(cpls[i]));
		cpls[i].user_data = reqs[i].user_data;
		cpls[i].cmd = reqs[i].cmd;
	}
	for (i = 0; i < n; i += cnt) {
		if (unlikely(!req_valid(&reqs[i], &rc))) {
			cpls[i].status = GNTDP_GNTST_GENERAL_ERROR;
			cpls[i].rc = rc;
			counter_add(&w->stats[ST_CALL_ERRORS], 1);
			cnt = 1;
			continue;
		}
		cnt = run_length(reqs, i, n);
		exec_run(w, ctx, q, reqs, i, cnt);
	}
	/* Per-completion counters: status codes are 0..-13 once the core is done. */
	for (k = 0; k < n; k++) {
		int16_t st = cpls[k].status;

		if (likely(st <= 0 && st > -GNTDP_GNTST_COUNT))
			counter_add(&w->stats[ST_STATUS + (unsigned int)-st], 1);
		if (likely(cpls[k].cmd < GNTDP_DP_NB_CMDS))
			counter_add(&w->stats[ST_BY_CMD + cpls[k].cmd], 1);
	}
	counter_add(&w->stats[ST_OPS], n);
}

/*
 * One burst from @p q. Takes min(burst, free completion slots) requests, so
 * that the completions of everything taken fit (file comment).
 */
static unsigned int
queue_poll(struct worker *w, struct gntdp_gnttab_ctx *ctx, struct gntdp_dp_queue *q)
{
	unsigned int space, want, n, left, done;

	space = rte_ring_free_count(q->cpl);
	want = RTE_MIN(w->burst, space);
	n = rte_ring_sc_dequeue_burst_elem(q->req, w->reqs, sizeof(struct gntdp_dp_req), want,
					   &left);
	/* Back-pressure: requests wait that the completion ring has no room for. */
	if (unlikely(want < w->burst && left > 0)) {
		counter_add(&q->ring_full, 1);
		counter_add(&w->stats[ST_RING_FULL], 1);
	}
	if (n == 0)
		return 0;
	exec_burst(w, ctx, q, n);
	done = rte_ring_sp_enqueue_bulk_elem(q->cpl, w->cpls, sizeof(struct gntdp_dp_cpl), n,
					     NULL);
	/* Cannot fail: we are the only producer and checked the space above. */
	RTE_VERIFY(done == n);
	counter_add(&q->completed, n);
	return n;
}

int
dp_queues_poll(void *arg, const struct gntdp_dp_poll_env *env)
{
	struct worker *w = arg;
	unsigned int i, done = 0;

	for (i = 0; i < w->nb_queues; i++)
		done += queue_poll(w, env->ctx, w->queues[i]);
	return (int)done;
}

int
dp_worker_iter(struct worker *w)
{
	struct gntdp_dp_poll_env env;
	uint64_t now = rte_rdtsc();
	unsigned int i, expired = 0;
	int done = 0;

	/*
	 * A poller list change from the control thread (dp.c): applied here,
	 * between iterations, so no poller of this worker is running while its
	 * list changes and a detached poller is never called again once acked.
	 * Relaxed: the exchange in dp_worker_mbox() is the acquire.
	 */
	if (unlikely(atomic_load_explicit(&w->mbox, memory_order_relaxed) != NULL))
		dp_worker_mbox(w);
	/*
	 * Every context the worker owns, every iteration, busy or idle: the
	 * clock stamps the pins taken in this iteration, and ageing them here
	 * is what bounds how long a cached pin lives after it was taken
	 * (docs/cache.md). Pollers cannot opt out.
	 */
	for (i = 0; i < w->nb_ctx; i++) {
		gntdp_gnttab_ctx_set_now(w->ctxs[i], now);
		if (w->persistent && now > w->hold_cycles)
			expired += gntdp_gnttab_ctx_expire(w->ctxs[i], now - w->hold_cycles);
		gntdp_gnttab_ctx_quiescent(w->ctxs[i]);
	}
	if (expired > 0)
		counter_add(&w->stats[ST_EXPIRED], expired);

	env.ctx = w->ctx;
	env.now = now;
	env.hold_cycles = w->persistent ? w->hold_cycles : 0;
	env.tsc_hz = w->tsc_hz;
	env.iter = w->iter;
	env.worker = w->idx;
	env.lcore_id = w->lcore_id;
	/* One indirect call per poller per iteration; nothing per op. */
	for (i = 0; i < w->nb_pollers; i++) {
		struct gntdp_dp_poller *p = w->pollers[i];
		int r = p->fn(p->arg, &env);

		if (r > 0) {
			counter_add(&p->busy, 1);
			done += r;
		} else {
			counter_add(&p->idle, 1);
		}
	}
	w->iter++;
	counter_add(&w->stats[done > 0 ? ST_BUSY_POLLS : ST_IDLE_POLLS], 1);
	return done;
}

/*
 * The loop with idle back-off (gntdp_dp_conf.idle_sleep_us): busy while any
 * poller finds work; once none has for idle_after_cycles, one sleep of
 * idle_sleep_us between iterations. A timed sleep, not a wake-up fd: a
 * poller needs no arm-and-recheck protocol with its producers, and a
 * producer never makes a system call (the hypercall ring stays syscall-free
 * for clients); the cost is up to idle_sleep_us of latency for the first
 * request after a quiet spell.
 */
static void
idle_loop(struct worker *w)
{
	const struct timespec ts = {.tv_sec = w->idle_sleep_us / 1000000u,
				    .tv_nsec = (long)(w->idle_sleep_us % 1000000u) * 1000};
	uint64_t idle_since = 0;

	while (!atomic_load_explicit(w->stop, memory_order_acquire)) {
		uint64_t now;

		if (dp_worker_iter(w) > 0) {
			idle_since = 0;
			continue;
		}
		now = rte_rdtsc();
		if (idle_since == 0) {
			idle_since = now;
		} else if (now - idle_since >= w->idle_after_cycles) {
			nanosleep(&ts, NULL);
			counter_add(&w->stats[ST_IDLE_SLEEPS], 1);
		}
	}
}

int
dp_worker_main(void *arg)
{
	struct worker *w = arg;

	DP_LOG(DEBUG, "worker %u on lcore %u: %u queues, %u pollers\n", w->idx, w->lcore_id,
	       w->nb_queues, w->nb_pollers);
	if (w->idle_sleep_us > 0) {
		/* A sleep of a few us should not become the default 50 us slack. */
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
		idle_loop(w);
		return 0;
	}
	/* Acquire pairs with the release store in gntdp_dp_stop(). */
	while (!atomic_load_explicit(w->stop, memory_order_acquire))
		dp_worker_iter(w);
	return 0;
}
