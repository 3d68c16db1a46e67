/* SPDX-License-Identifier: MIT */
/*
 * The worker poll loop: per iteration, set the clock of every context the
 * worker owns, age their grant caches and announce their quiescent states,
 * then call each poller once. A worker starts with no poller: the
 * hypercall rings (hcall.c) and the applications' pollers are what it
 * runs. Nothing here is per op; the work and its counters are the
 * pollers'.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_cycles.h>

#include "dp_internal.h"

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

	DP_LOG(DEBUG, "worker %u on lcore %u: %u pollers\n", w->idx, w->lcore_id, w->nb_pollers);
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
