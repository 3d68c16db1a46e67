/* SPDX-License-Identifier: MIT */
/*
 * The backend's poller on the data plane's worker: one call serves every
 * port and every vif, one burst each (express lane and general path in
 * turn for a vif).
 */
#include <pthread.h>

#include "be_internal.h"

static unsigned int
vif_staged(struct be *be, struct be_vif *v)
{
	return deliver_mbufs(be, v->ctx, &v->rc, v->idx, v->bridge, &v->staged, v->st.drops,
			     &v->st.tx_ops, NULL);
}

/*
 * Express lane and general path in turn, in ring order, up to burst_max
 * frames: the general path takes the frames the lane leaves (one at a time
 * while the lane can go on, so a jumbo frame in a flow does not push the
 * rest of the burst off the lane).
 */
static unsigned int
vif_poll(struct be *be, struct be_vif *v)
{
	unsigned int done = 0, budget = be->burst_max, n;
	bool more = true;

	if (v->staged.n > 0) {
		done = vif_staged(be, v);
		if (v->staged.n > 0)
			return done; /* still waiting: the TX ring keeps its order behind them */
	}
	while (budget > 0 && v->state == VIF_UP) {
		n = vif_tx_express(be, v, budget, &more);
		done += n;
		budget -= n;
		if (!more || budget == 0 || v->state != VIF_UP)
			break;
		/* The lane stopped at a frame it does not take (or took none). */
		n = vif_tx_burst(be, v, n > 0 && v->rc.valid ? 1 : budget);
		done += n;
		if (n == 0 || n >= budget || v->staged.n > 0)
			break;
		budget -= n;
	}
	if (v->staged.n > 0)
		vif_staged(be, v);
	return done;
}

/* ---- The poller ------------------------------------------------------------------ */

/*
 * One call of the backend's poller on its worker: the worker has set the
 * clock of, aged and quiesced every backend context already (env->now).
 * Returns the packets handled (> 0: busy).
 */
int
be_poll(void *arg, const struct gntdp_dp_poll_env *env)
{
	struct be *be = arg;
	unsigned int done = 0, i;

	be->now = env->now;
	be->iter++;
	/* The CPU time of the thread that runs the backend (stats.c), published once. */
	if (unlikely(!be->cpu_clock_ok)) {
		if (pthread_getcpuclockid(pthread_self(), &be->cpu_clock) == 0)
			/* Release: the main lcore reads cpu_clock after seeing the flag. */
			__atomic_store_n(&be->cpu_clock_ok, true, __ATOMIC_RELEASE);
	}
	peek_age(be, env->now, env->hold_cycles);
	for (i = 0; i < be->nb_ports; i++)
		done += port_poll(be, &be->ports[i]);
	for (i = 0; i < be->nb_vifs; i++) {
		if (be->vifs[i].state == VIF_UP || be->vifs[i].staged.n > 0)
			done += vif_poll(be, &be->vifs[i]);
	}
	CTR_ADD(be->st.iters, 1);
	if (done > 0) {
		CTR_ADD(be->st.busy_iters, 1);
		CTR_ADD(be->st.busy_cycles, rte_rdtsc() - env->now);
	}
	return (int)done;
}
