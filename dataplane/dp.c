/* SPDX-License-Identifier: MIT */
/*
 * Data plane control: configuration, copy-kernel selection, workers, their
 * contexts and pollers (hypercall rings attach theirs: hcall.c), start/stop,
 * and the stats
 * getters. Everything here runs on the control thread; the hot loop is in
 * worker.c.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "dp_internal.h"
#ifdef GNTDP_HAVE_COPY
#include "gntdp_copy.h"
#endif

void
gntdp_dp_conf_init(struct gntdp_dp_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->cache = true;
	conf->cache_entries = GNTDP_DP_DEFAULT_CACHE_ENTRIES;
	conf->hold_us = GNTDP_DP_DEFAULT_HOLD_US;
	conf->idle_after_us = GNTDP_DP_DEFAULT_IDLE_AFTER_US;
	conf->copy = NULL;
}

static bool
pow2_in(unsigned int v, unsigned int lo, unsigned int hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/* Resolve conf->workers: explicit list checked, or every EAL worker lcore. */
static int
resolve_workers(const struct gntdp_dp_conf *conf, unsigned int *lcores, unsigned int *nb)
{
	unsigned int i, j, id, n = 0;

	if (conf->nb_workers == 0) {
		RTE_LCORE_FOREACH_WORKER(id) {
			if (n == GNTDP_DP_MAX_WORKERS)
				break;
			lcores[n++] = id;
		}
	} else {
		if (conf->nb_workers > GNTDP_DP_MAX_WORKERS)
			return -EINVAL;
		for (i = 0; i < conf->nb_workers; i++) {
			id = conf->worker_lcores[i];
			/* The main lcore is allowed: a manual worker (dataplane.h). */
			if (id >= RTE_MAX_LCORE || !rte_lcore_is_enabled(id)) {
				DP_LOG(ERR, "lcore %u is not an EAL lcore\n", id);
				return -EINVAL;
			}
			for (j = 0; j < i; j++) {
				if (lcores[j] == id) {
					DP_LOG(ERR, "lcore %u listed twice\n", id);
					return -EINVAL;
				}
			}
			lcores[n++] = id;
		}
	}
	if (n == 0) {
		DP_LOG(ERR, "no worker lcore: give EAL at least two lcores (-l 0-1)\n");
		return -EINVAL;
	}
	*nb = n;
	return 0;
}

static int
check_conf(const struct gntdp_dp_conf *c)
{
	if (c->hold_us > 1000000 ||
	    c->idle_sleep_us > GNTDP_DP_MAX_IDLE_SLEEP_US ||
	    c->idle_after_us > GNTDP_DP_MAX_IDLE_AFTER_US ||
	    (c->cache && !pow2_in(c->cache_entries, 2, 4096)))
		return -EINVAL;
	return 0;
}

/* Every name gntdp_dp_copy_kernel() knows, whether or not this build or CPU has it. */
static const char *const copy_names[] = { "auto", "memmove", "scalar", "sse", "avx2", "avx512" };

int
gntdp_dp_copy_kernel(const char *name, gntdp_copy_fn *fn, const char **resolved)
{
	gntdp_copy_fn f = NULL;
	const char *res = "memmove";
	bool known = false;
	unsigned int i;

	if (name == NULL)
		name = "auto";
	for (i = 0; i < RTE_DIM(copy_names); i++)
		known |= strcmp(name, copy_names[i]) == 0;
	if (!known) {
		char list[96] = "";

		for (i = 0; i < RTE_DIM(copy_names); i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i > 0 ? ", " : "", copy_names[i]);
		DP_LOG(ERR, "unknown copy kernel '%s' (valid: %s)\n", name, list);
		return -EINVAL;
	}
	if (strcmp(name, "memmove") == 0)
		goto out;
#ifdef GNTDP_HAVE_COPY
	if (strcmp(name, "auto") == 0) {
		/* The copy module's choice: CPU flags and --force-max-simd-bitwidth. */
		enum copy_isa isa = copy_select_eal();

		f = copy_kernel(isa);
		if (f != NULL)
			res = copy_isa_name(isa);
		goto out;
	}
	for (int isa = 0; isa < COPY_ISA_COUNT; isa++) {
		if (strcmp(name, copy_isa_name((enum copy_isa)isa)) != 0)
			continue;
		f = copy_kernel((enum copy_isa)isa);
		if (f == NULL || !copy_isa_cpu_supported((enum copy_isa)isa))
			break;
		res = copy_isa_name((enum copy_isa)isa);
		goto out;
	}
#else
	if (strcmp(name, "auto") == 0)
		goto out;
#endif
	DP_LOG(ERR, "copy kernel '%s' is not available on this CPU or in this build\n", name);
	return -ENOTSUP;
out:
	if (fn != NULL)
		*fn = f;
	if (resolved != NULL)
		*resolved = res;
	return 0;
}

/* Put @p p last in @p w's list. The worker itself while running, else the control thread. */
static void
worker_link(struct worker *w, struct gntdp_dp_poller *p)
{
	w->pollers[w->nb_pollers++] = p;
}

/* Take @p p out of @p w's list, keeping the order of the others (the order they run in). */
static void
worker_unlink(struct worker *w, struct gntdp_dp_poller *p)
{
	unsigned int i;

	for (i = 0; i < w->nb_pollers && w->pollers[i] != p; i++)
		;
	if (i == w->nb_pollers)
		return;
	memmove(&w->pollers[i], &w->pollers[i + 1],
		sizeof(w->pollers[0]) * (w->nb_pollers - i - 1));
	w->nb_pollers--;
}

/* ---- Live poller changes --------------------------------------------------
 *
 * While the workers run, a worker's poller list belongs to the worker: the
 * control thread posts the change in the worker's mailbox and waits for the
 * ack (dp_internal.h, struct worker). The worker applies it at the top of
 * an iteration, when none of its pollers is running; so once the ack is
 * seen, an attached poller will be called from the next iteration on and a
 * detached one is not running and never will be again (its memory, and
 * whatever it touches, may go at once). Stopped, or on a manual worker
 * (whose iterations the control thread runs itself with gntdp_dp_poll()),
 * the change is applied directly. One poster at a time (the control-plane
 * rule of dataplane.h); nothing here needs an EAL lcore.
 */

/* How long a poster waits for a worker to take its request. */
#define MBOX_WAIT_MS 5000u

void
dp_worker_mbox(struct worker *w)
{
	/* Acquire pairs with the poster's release store: the request and its poller are written. */
	struct dp_mbox_req *req = atomic_exchange_explicit(&w->mbox, NULL, memory_order_acquire);
	uint64_t seq;

	if (req == NULL)
		return; /* the poster took it back (timeout) */
	seq = req->seq;
	if (req->add)
		worker_link(w, req->p);
	else
		worker_unlink(w, req->p);
	/* Release pairs with the poster's acquire load: the list no longer (or now) holds p.
	 * req may be gone after this store. */
	atomic_store_explicit(&w->mbox_ack, seq, memory_order_release);
}

static int
worker_change(struct gntdp_dp *dp, struct worker *w, bool add, struct gntdp_dp_poller *p)
{
	struct dp_mbox_req req = { .seq = ++w->mbox_seq, .add = add, .p = p };
	uint64_t hz = rte_get_timer_hz();
	uint64_t deadline = rte_get_timer_cycles() + hz * MBOX_WAIT_MS / 1000u;

	if (!atomic_load(&dp->running) || w->manual) {
		if (add)
			worker_link(w, p);
		else
			worker_unlink(w, p);
		return 0;
	}
	/* Release pairs with the worker's acquire exchange in dp_worker_mbox(). */
	atomic_store_explicit(&w->mbox, &req, memory_order_release);
	/* Acquire pairs with the worker's release store of the ack. */
	while (atomic_load_explicit(&w->mbox_ack, memory_order_acquire) != req.seq) {
		if (rte_get_timer_cycles() < deadline) {
			sched_yield(); /* the worker may share this CPU */
			continue;
		}
		if (atomic_exchange_explicit(&w->mbox, NULL, memory_order_acq_rel) == &req) {
			DP_LOG(ERR, "worker %u (lcore %u) did not take a poller change in %u ms\n",
			       w->idx, w->lcore_id, MBOX_WAIT_MS);
			return -ETIMEDOUT;
		}
		/* The worker has it: applying it is a few stores, wait for them. */
		while (atomic_load_explicit(&w->mbox_ack, memory_order_acquire) != req.seq)
			rte_pause();
	}
	return 0;
}

/* A new poller in a free id slot, not yet on any worker's list. */
static int
poller_new(struct gntdp_dp *dp, struct worker *w, const char *name, gntdp_dp_poller_fn fn,
	   void *arg, struct gntdp_dp_poller **out)
{
	struct gntdp_dp_poller *p;
	unsigned int id;

	if (w->nb_pollers == GNTDP_DP_MAX_WORKER_POLLERS)
		return -ENOSPC;
	for (id = 0; id < GNTDP_DP_MAX_POLLERS && dp->pollers[id] != NULL; id++)
		;
	if (id == GNTDP_DP_MAX_POLLERS)
		return -ENOSPC;
	p = rte_zmalloc_socket("gntdp_poller", sizeof(*p), 64, w->socket);
	if (p == NULL)
		p = rte_zmalloc("gntdp_poller", sizeof(*p), 64);
	if (p == NULL)
		return -ENOMEM;
	p->fn = fn;
	p->arg = arg;
	p->id = id;
	p->worker = w->idx;
	snprintf(p->name, sizeof(p->name), "%s", name);
	dp_telemetry_lock();
	dp->pollers[id] = p;
	if (id >= dp->nb_poller_slots)
		dp->nb_poller_slots = id + 1;
	dp_telemetry_unlock();
	*out = p;
	return 0;
}

static void
poller_delete(struct gntdp_dp *dp, struct gntdp_dp_poller *p)
{
	dp_telemetry_lock();
	dp->pollers[p->id] = NULL;
	dp_telemetry_unlock();
	rte_free(p);
}

/* Add @p fn as a poller of worker @p w, running or not. */
static int
poller_add(struct gntdp_dp *dp, struct worker *w, const char *name, gntdp_dp_poller_fn fn,
	   void *arg, struct gntdp_dp_poller **out)
{
	struct gntdp_dp_poller *p;
	int rc = poller_new(dp, w, name, fn, arg, &p);

	if (rc != 0)
		return rc;
	rc = worker_change(dp, w, true, p);
	if (rc != 0) {
		poller_delete(dp, p);
		return rc;
	}
	if (out != NULL)
		*out = p;
	return 0;
}

static bool
poller_name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n >= GNTDP_DP_POLLER_NAMESIZE)
		return false;
	for (i = 0; i < n; i++) {
		if (name[i] < 0x21 || name[i] > 0x7e)
			return false;
	}
	return true;
}

static bool
attach_ok(const struct gntdp_dp *dp, unsigned int worker, const char *name, gntdp_dp_poller_fn fn)
{
	return dp != NULL && fn != NULL && worker < dp->nb_workers && poller_name_ok(name);
}

/* A registered poller of @p dp. */
static bool
detach_ok(const struct gntdp_dp *dp, const struct gntdp_dp_poller *p)
{
	return dp != NULL && p != NULL && p->id < GNTDP_DP_MAX_POLLERS && dp->pollers[p->id] == p;
}

int
dp_poller_attach(struct gntdp_dp *dp, unsigned int worker, const char *name,
		 gntdp_dp_poller_fn fn, void *arg, struct gntdp_dp_poller **out)
{
	if (!attach_ok(dp, worker, name, fn))
		return -EINVAL;
	return poller_add(dp, dp->workers[worker], name, fn, arg, out);
}

int
dp_poller_detach(struct gntdp_dp *dp, struct gntdp_dp_poller *p)
{
	int rc;

	if (!detach_ok(dp, p))
		return -EINVAL;
	rc = worker_change(dp, dp->workers[p->worker], false, p);
	if (rc == 0)
		poller_delete(dp, p);
	return rc;
}

int
gntdp_dp_poller_register(struct gntdp_dp *dp, unsigned int worker, const char *name,
			 gntdp_dp_poller_fn fn, void *arg, struct gntdp_dp_poller **out)
{
	if (!attach_ok(dp, worker, name, fn))
		return -EINVAL;
	if (atomic_load(&dp->running))
		return -EBUSY;
	return poller_add(dp, dp->workers[worker], name, fn, arg, out);
}

int
gntdp_dp_poller_unregister(struct gntdp_dp *dp, struct gntdp_dp_poller *p)
{
	if (!detach_ok(dp, p))
		return -EINVAL;
	if (atomic_load(&dp->running))
		return -EBUSY;
	return dp_poller_detach(dp, p);
}

unsigned int
gntdp_dp_poller_id(const struct gntdp_dp_poller *p)
{
	return p->id;
}

unsigned int
gntdp_dp_poller_slots(const struct gntdp_dp *dp)
{
	return dp->nb_poller_slots;
}

int
gntdp_dp_poller_info(const struct gntdp_dp *dp, unsigned int id, struct gntdp_dp_poller_info *out)
{
	const struct gntdp_dp_poller *p;

	if (dp == NULL || out == NULL)
		return -EINVAL;
	if (id >= GNTDP_DP_MAX_POLLERS || (p = dp->pollers[id]) == NULL)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->id = p->id;
	out->worker = p->worker;
	out->lcore_id = dp->workers[p->worker]->lcore_id;
	memcpy(out->name, p->name, sizeof(out->name));
	out->busy = counter_read(&p->busy);
	out->idle = counter_read(&p->idle);
	return 0;
}

/* A context for worker @p w with the data plane's cache policy and copy kernel. */
static int
ctx_new(struct gntdp_dp *dp, struct worker *w, unsigned int entries, struct gntdp_gnttab_ctx **out)
{
	const struct gntdp_dp_conf *c = &dp->conf;
	struct gntdp_gnttab_cache_conf cache = { .persistent = w->persistent, .nb_entries = 64 };
	int rc;

	if (c->cache)
		cache.nb_entries = entries;
	rc = gntdp_gnttab_ctx_create(dp->gt, &cache, out);
	if (rc == 0)
		gntdp_gnttab_ctx_set_copy(*out, dp->copy_fn);
	return rc;
}

int
gntdp_dp_worker_ctx_create(struct gntdp_dp *dp, unsigned int worker, unsigned int cache_entries,
			   struct gntdp_gnttab_ctx **out)
{
	struct worker *w;
	int rc;

	if (dp == NULL || out == NULL || worker >= dp->nb_workers ||
	    (cache_entries != 0 && !pow2_in(cache_entries, 2, 4096)))
		return -EINVAL;
	if (atomic_load(&dp->running))
		return -EBUSY;
	w = dp->workers[worker];
	if (w->nb_ctx == DP_WORKER_MAX_CTX)
		return -ENOSPC;
	rc = ctx_new(dp, w, cache_entries != 0 ? cache_entries : dp->conf.cache_entries, out);
	if (rc != 0)
		return rc;
	w->ctxs[w->nb_ctx++] = *out;
	return 0;
}

int
gntdp_dp_worker_ctx_destroy(struct gntdp_dp *dp, struct gntdp_gnttab_ctx *ctx)
{
	unsigned int i, k;

	if (dp == NULL || ctx == NULL)
		return -EINVAL;
	if (atomic_load(&dp->running))
		return -EBUSY;
	for (i = 0; i < dp->nb_workers; i++) {
		struct worker *w = dp->workers[i];

		/* ctxs[0] is the worker's own: not destroyable here. */
		for (k = 1; k < w->nb_ctx; k++) {
			if (w->ctxs[k] != ctx)
				continue;
			counter_add(&w->stats[ST_EXPIRED],
				    gntdp_gnttab_ctx_expire(ctx, UINT64_MAX));
			dp_worker_ctx_fold(w, ctx);
			gntdp_gnttab_ctx_destroy(ctx);
			memmove(&w->ctxs[k], &w->ctxs[k + 1],
				sizeof(w->ctxs[0]) * (w->nb_ctx - k - 1));
			w->nb_ctx--;
			return 0;
		}
	}
	return -EINVAL;
}

static int
worker_create(struct gntdp_dp *dp, unsigned int idx, unsigned int lcore)
{
	const struct gntdp_dp_conf *c = &dp->conf;
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct worker *w;
	int rc;

	w = rte_zmalloc_socket("gntdp_worker", sizeof(*w), 64, socket);
	if (w == NULL)
		w = rte_zmalloc("gntdp_worker", sizeof(*w), 64);
	if (w == NULL)
		return -ENOMEM;
	w->idx = idx;
	w->lcore_id = lcore;
	w->socket = socket;
	w->manual = lcore == rte_get_main_lcore();
	w->stop = &dp->stop;
	/* hold_us 0 means Xen-exact: the core releases pins before each call returns. */
	w->persistent = c->cache && c->hold_us > 0;
	w->tsc_hz = rte_get_tsc_hz();
	w->hold_cycles = (uint64_t)c->hold_us * w->tsc_hz / 1000000u;
	w->idle_sleep_us = c->idle_sleep_us;
	w->idle_after_cycles = (uint64_t)c->idle_after_us * w->tsc_hz / 1000000u;
	rc = ctx_new(dp, w, c->cache_entries, &w->ctx);
	if (rc != 0) {
		rte_free(w);
		return rc;
	}
	w->ctxs[0] = w->ctx;
	w->nb_ctx = 1;
	dp->workers[idx] = w;
	return 0;
}

static void
worker_destroy(struct gntdp_dp *dp, struct worker *w)
{
	unsigned int i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nb_pollers; i++) {
		dp_telemetry_lock();
		dp->pollers[w->pollers[i]->id] = NULL;
		dp_telemetry_unlock();
		rte_free(w->pollers[i]);
	}
	for (i = 0; i < w->nb_ctx; i++)
		gntdp_gnttab_ctx_destroy(w->ctxs[i]);
	rte_free(w);
}

int
gntdp_dp_create(struct gntdp_gnttab *gt, const struct gntdp_dp_conf *conf, struct gntdp_dp **out)
{
	unsigned int lcores[GNTDP_DP_MAX_WORKERS];
	struct gntdp_dp_conf defaults;
	struct gntdp_dp *dp;
	unsigned int i, nb;
	int rc;

	if (gt == NULL || out == NULL)
		return -EINVAL;
	if (conf == NULL) {
		gntdp_dp_conf_init(&defaults);
		conf = &defaults;
	}
	rc = check_conf(conf);
	if (rc == 0)
		rc = resolve_workers(conf, lcores, &nb);
	if (rc != 0)
		return rc;

	dp = rte_zmalloc("gntdp_dp", sizeof(*dp), 64);
	if (dp == NULL)
		return -ENOMEM;
	dp->gt = gt;
	dp->conf = *conf;
	dp->conf.copy = NULL; /* not kept: the caller's string may go away */
	rc = gntdp_dp_copy_kernel(conf->copy, &dp->copy_fn, &dp->copy_name);
	if (rc != 0)
		goto err;
	dp_telemetry_register();
	for (i = 0; i < nb; i++) {
		rc = worker_create(dp, i, lcores[i]);
		if (rc != 0)
			goto err;
		dp->nb_workers++;
	}
	dp_telemetry_attach(dp);
	DP_LOG(INFO, "%u workers, copy kernel %s, cache %s, hold %u us, idle %s\n",
	       dp->nb_workers, dp->copy_name,
	       conf->cache ? (conf->hold_us ? "persistent" : "per-call") : "off", conf->hold_us,
	       conf->idle_sleep_us ? "sleep" : "busy-poll");
	*out = dp;
	return 0;
err:
	for (i = 0; i < dp->nb_workers; i++)
		worker_destroy(dp, dp->workers[i]);
	rte_free(dp);
	return rc;
}

void
gntdp_dp_destroy(struct gntdp_dp *dp)
{
	unsigned int i;

	if (dp == NULL)
		return;
	gntdp_dp_stop(dp);
	dp_telemetry_detach(dp);
	for (i = 0; i < dp->nb_workers; i++)
		worker_destroy(dp, dp->workers[i]);
	rte_free(dp);
}

int
gntdp_dp_start(struct gntdp_dp *dp)
{
	unsigned int i;
	int rc;

	if (atomic_load(&dp->running))
		return -EALREADY;
	atomic_store_explicit(&dp->stop, false, memory_order_relaxed);
	for (i = 0; i < dp->nb_workers; i++) {
		if (dp->workers[i]->manual)
			continue; /* the main thread runs it with gntdp_dp_poll() */
		rc = rte_eal_remote_launch(dp_worker_main, dp->workers[i],
					   dp->workers[i]->lcore_id);
		if (rc != 0) {
			DP_LOG(ERR, "lcore %u is busy\n", dp->workers[i]->lcore_id);
			/* Release pairs with the acquire load in dp_worker_main(). */
			atomic_store_explicit(&dp->stop, true, memory_order_release);
			while (i-- > 0) {
				if (!dp->workers[i]->manual)
					rte_eal_wait_lcore(dp->workers[i]->lcore_id);
			}
			return -EBUSY;
		}
	}
	atomic_store(&dp->running, true);
	return 0;
}

void
gntdp_dp_stop(struct gntdp_dp *dp)
{
	unsigned int i;

	if (dp == NULL || !atomic_load(&dp->running))
		return;
	/* Release pairs with the acquire load in dp_worker_main(). */
	atomic_store_explicit(&dp->stop, true, memory_order_release);
	for (i = 0; i < dp->nb_workers; i++) {
		if (!dp->workers[i]->manual)
			rte_eal_wait_lcore(dp->workers[i]->lcore_id);
	}
	atomic_store(&dp->running, false);
	/*
	 * Stopped workers no longer age their caches, so drop every cached pin
	 * now: the hold bound then holds across stop (docs/cache.md).
	 */
	gntdp_dp_flush_cache(dp);
}

bool
gntdp_dp_running(const struct gntdp_dp *dp)
{
	return atomic_load(&((struct gntdp_dp *)(uintptr_t)dp)->running);
}

int
gntdp_dp_poll(struct gntdp_dp *dp, unsigned int worker)
{
	if (dp == NULL || worker >= dp->nb_workers)
		return -EINVAL;
	if (atomic_load(&dp->running) && !dp->workers[worker]->manual)
		return -EBUSY;
	return dp_worker_iter(dp->workers[worker]);
}

int
gntdp_dp_flush_cache(struct gntdp_dp *dp)
{
	unsigned int i, k, n = 0, r;

	if (atomic_load(&dp->running))
		return -EBUSY;
	for (i = 0; i < dp->nb_workers; i++) {
		struct worker *w = dp->workers[i];

		for (k = 0; k < w->nb_ctx; k++) {
			r = gntdp_gnttab_ctx_expire(w->ctxs[k], UINT64_MAX);
			counter_add(&w->stats[ST_EXPIRED], r);
			n += r;
		}
	}
	return (int)n;
}

const char *
gntdp_dp_copy_name(const struct gntdp_dp *dp)
{
	return dp->copy_name;
}

/* ---- Statistics ---------------------------------------------------------- */

void
dp_worker_stats(const struct worker *w, struct gntdp_dp_stats *out)
{
	struct gntdp_gnttab_ctx_stats cs;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->ops = counter_read(&w->stats[ST_OPS]);
	for (i = 0; i < GNTDP_DP_NB_CMDS; i++)
		out->ops_by_cmd[i] = counter_read(&w->stats[ST_BY_CMD + i]);
	out->call_errors = counter_read(&w->stats[ST_CALL_ERRORS]);
	out->batches = counter_read(&w->stats[ST_BATCHES]);
	out->expired = counter_read(&w->stats[ST_EXPIRED]);
	out->busy_polls = counter_read(&w->stats[ST_BUSY_POLLS]);
	out->idle_polls = counter_read(&w->stats[ST_IDLE_POLLS]);
	out->ring_full = counter_read(&w->stats[ST_RING_FULL]);
	out->idle_sleeps = counter_read(&w->stats[ST_IDLE_SLEEPS]);
	out->copy_bytes = counter_read(&w->stats[ST_GONE_COPY_BYTES]);
	out->cache_hits = counter_read(&w->stats[ST_GONE_CACHE_HITS]);
	out->cache_misses = counter_read(&w->stats[ST_GONE_CACHE_MISSES]);
	out->cache_releases = counter_read(&w->stats[ST_GONE_CACHE_RELEASES]);
	/*
	 * Every context the worker owns. The core allows an approximate read
	 * from another thread; the list changes only while stopped.
	 */
	for (i = 0; i < w->nb_ctx; i++) {
		gntdp_gnttab_ctx_stats(w->ctxs[i], &cs);
		out->copy_bytes += cs.copy_bytes;
		out->cache_hits += cs.cache_hits;
		out->cache_misses += cs.cache_misses;
		out->cache_releases += cs.cache_releases;
	}
}

void
dp_worker_ctx_fold(struct worker *w, const struct gntdp_gnttab_ctx *ctx)
{
	struct gntdp_gnttab_ctx_stats cs;

	gntdp_gnttab_ctx_stats(ctx, &cs);
	counter_add(&w->stats[ST_GONE_COPY_BYTES], cs.copy_bytes);
	counter_add(&w->stats[ST_GONE_CACHE_HITS], cs.cache_hits);
	counter_add(&w->stats[ST_GONE_CACHE_MISSES], cs.cache_misses);
	counter_add(&w->stats[ST_GONE_CACHE_RELEASES], cs.cache_releases);
}

void
dp_stats_add(struct gntdp_dp_stats *sum, const struct gntdp_dp_stats *s)
{
	const uint64_t *src = (const uint64_t *)(const void *)s;
	uint64_t *dst = (uint64_t *)(void *)sum;
	size_t i;

	/* struct gntdp_dp_stats is all uint64_t. */
	for (i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

int
gntdp_dp_stats_get(const struct gntdp_dp *dp, struct gntdp_dp_stats *sum)
{
	struct gntdp_dp_stats s;
	unsigned int i;

	if (dp == NULL || sum == NULL)
		return -EINVAL;
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < dp->nb_workers; i++) {
		dp_worker_stats(dp->workers[i], &s);
		dp_stats_add(sum, &s);
	}
	return 0;
}

unsigned int
gntdp_dp_worker_count(const struct gntdp_dp *dp)
{
	return dp->nb_workers;
}

int
gntdp_dp_worker_stats_get(const struct gntdp_dp *dp, unsigned int worker,
			  struct gntdp_dp_stats *out, unsigned int *lcore_id)
{
	if (dp == NULL || out == NULL || worker >= dp->nb_workers)
		return -EINVAL;
	dp_worker_stats(dp->workers[worker], out);
	if (lcore_id != NULL)
		*lcore_id = dp->workers[worker]->lcore_id;
	return 0;
}
