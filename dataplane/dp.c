/* SPDX-License-Identifier: MIT */
/*
 * Data plane control: configuration, workers and their contexts, queues and
 * their rings, start/stop, and the stats getters. Everything here runs on
 * the control thread; the hot loop is in worker.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_internal.h"
#ifdef GNTDP_HAVE_COPY
#include "gntdp_copy.h"
#endif

static atomic_uint dp_instances;

static unsigned int
queue_count(const struct gntdp_dp *dp)
{
	/* Acquire pairs with the release store in gntdp_dp_queue_create(). */
	return atomic_load_explicit(&((struct gntdp_dp *)(uintptr_t)dp)->nb_queues,
				    memory_order_acquire);
}

void
gntdp_dp_conf_init(struct gntdp_dp_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->req_ring_size = GNTDP_DP_DEFAULT_REQ_RING;
	conf->cpl_ring_size = GNTDP_DP_DEFAULT_CPL_RING;
	conf->burst = GNTDP_DP_DEFAULT_BURST;
	conf->cache = true;
	conf->cache_entries = GNTDP_DP_DEFAULT_CACHE_ENTRIES;
	conf->hold_us = GNTDP_DP_DEFAULT_HOLD_US;
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
			if (id >= RTE_MAX_LCORE || !rte_lcore_is_enabled(id) ||
			    id == rte_get_main_lcore()) {
				DP_LOG(ERR, "lcore %u is not an EAL worker lcore\n", id);
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
	if (!pow2_in(c->req_ring_size, 2, GNTDP_DP_MAX_RING_SIZE) ||
	    !pow2_in(c->cpl_ring_size, 2, GNTDP_DP_MAX_RING_SIZE) || c->burst == 0 ||
	    c->burst > GNTDP_DP_MAX_BURST || c->hold_us > 1000000 ||
	    (c->cache && !pow2_in(c->cache_entries, 2, 4096)))
		return -EINVAL;
	return 0;
}

/*
 * Pick the copy kernel: the copy module's choice (CPU flags and
 * --force-max-simd-bitwidth), a named one, or the core's memmove.
 */
static int
select_copy(struct gntdp_dp *dp, const char *want)
{
	bool autosel = want == NULL || strcmp(want, "auto") == 0;

	dp->copy_fn = NULL;
	dp->copy_name = "memmove";
	if (want != NULL && strcmp(want, "memmove") == 0)
		return 0;
#ifdef GNTDP_HAVE_COPY
	if (autosel) {
		enum copy_isa isa = copy_select_eal();

		dp->copy_fn = copy_kernel(isa);
		dp->copy_name = copy_isa_name(isa);
		if (dp->copy_fn == NULL)
			dp->copy_name = "memmove";
		return 0;
	}
	for (int isa = 0; isa < COPY_ISA_COUNT; isa++) {
		if (strcmp(want, copy_isa_name((enum copy_isa)isa)) != 0)
			continue;
		if (copy_kernel((enum copy_isa)isa) == NULL ||
		    !copy_isa_cpu_supported((enum copy_isa)isa)) {
			DP_LOG(ERR, "copy kernel %s not available on this CPU or build\n", want);
			return -EINVAL;
		}
		dp->copy_fn = copy_kernel((enum copy_isa)isa);
		dp->copy_name = copy_isa_name((enum copy_isa)isa);
		return 0;
	}
#else
	if (autosel)
		return 0;
#endif
	DP_LOG(ERR, "unknown copy kernel '%s'\n", want);
	return -EINVAL;
}

static int
worker_create(struct gntdp_dp *dp, unsigned int idx, unsigned int lcore)
{
	const struct gntdp_dp_conf *c = &dp->conf;
	struct gntdp_gnttab_cache_conf cache = { .persistent = false, .nb_entries = 64 };
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
	w->burst = c->burst;
	w->stop = &dp->stop;
	/* hold_us 0 means Xen-exact: the core releases pins before each call returns. */
	w->persistent = c->cache && c->hold_us > 0;
	w->hold_cycles = (uint64_t)c->hold_us * rte_get_tsc_hz() / 1000000u;
	if (c->cache)
		cache.nb_entries = c->cache_entries;
	cache.persistent = w->persistent;
	rc = gntdp_gnttab_ctx_create(dp->gt, &cache, &w->ctx);
	if (rc != 0) {
		rte_free(w);
		return rc;
	}
	gntdp_gnttab_ctx_set_copy(w->ctx, dp->copy_fn);
	dp->workers[idx] = w;
	return 0;
}

static void
worker_destroy(struct worker *w)
{
	if (w == NULL)
		return;
	gntdp_gnttab_ctx_destroy(w->ctx);
	rte_free(w->queues);
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
	dp->inst = atomic_fetch_add(&dp_instances, 1);
	rc = select_copy(dp, conf->copy);
	if (rc != 0)
		goto err;
	for (i = 0; i < nb; i++) {
		rc = worker_create(dp, i, lcores[i]);
		if (rc != 0)
			goto err;
		dp->nb_workers++;
	}
	dp_telemetry_register();
	dp_telemetry_attach(dp);
	DP_LOG(INFO, "%u workers, copy kernel %s, cache %s, hold %u us, burst %u\n",
	       dp->nb_workers, dp->copy_name,
	       conf->cache ? (conf->hold_us ? "persistent" : "per-call") : "off", conf->hold_us,
	       conf->burst);
	*out = dp;
	return 0;
err:
	for (i = 0; i < dp->nb_workers; i++)
		worker_destroy(dp->workers[i]);
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
		worker_destroy(dp->workers[i]);
	for (i = 0; i < queue_count(dp); i++) {
		rte_ring_free(dp->queues[i]->req);
		rte_ring_free(dp->queues[i]->cpl);
		rte_free(dp->queues[i]);
	}
	rte_free(dp);
}

static struct rte_ring *
ring_create(const struct gntdp_dp *dp, unsigned int qid, const char *kind, unsigned int esize,
	    unsigned int count, int socket)
{
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	snprintf(name, sizeof(name), "gntdp%u_q%u_%s", dp->inst, qid, kind);
	/* SP/SC: one client thread and one worker per side. EXACT_SZ: capacity == count. */
	r = rte_ring_create_elem(name, esize, count, socket,
				 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (r == NULL && socket != SOCKET_ID_ANY)
		r = rte_ring_create_elem(name, esize, count, SOCKET_ID_ANY,
					 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	return r;
}

/* Add @p q to its worker's queue list (grown by one; control path only). */
static int
worker_add_queue(struct worker *w, struct gntdp_dp_queue *q)
{
	struct gntdp_dp_queue **qs;

	qs = rte_realloc_socket(w->queues, sizeof(*qs) * (w->nb_queues + 1), 64, w->socket);
	if (qs == NULL)
		return -ENOMEM;
	qs[w->nb_queues] = q;
	w->queues = qs;
	w->nb_queues++;
	return 0;
}

int
gntdp_dp_queue_create(struct gntdp_dp *dp, gntdp_domid_t domid, struct gntdp_dp_queue **out)
{
	struct gntdp_dp_queue *q;
	struct worker *w;
	unsigned int qid;
	int rc = -ENOMEM;

	if (dp == NULL || domid >= GNTDP_DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (atomic_load(&dp->running))
		return -EBUSY;
	qid = atomic_load_explicit(&dp->nb_queues, memory_order_relaxed);
	if (qid == GNTDP_DP_MAX_QUEUES)
		return -ENOSPC;
	w = dp->workers[qid % dp->nb_workers];
	q = rte_zmalloc_socket("gntdp_queue", sizeof(*q), 64, w->socket);
	if (q == NULL)
		return -ENOMEM;
	q->dp = dp;
	q->domid = domid;
	q->qid = qid;
	q->worker = w->idx;
	q->req = ring_create(dp, qid, "rq", sizeof(struct gntdp_dp_req), dp->conf.req_ring_size,
			     w->socket);
	q->cpl = ring_create(dp, qid, "cq", sizeof(struct gntdp_dp_cpl), dp->conf.cpl_ring_size,
			     w->socket);
	if (q->req == NULL || q->cpl == NULL)
		goto err;
	rc = worker_add_queue(w, q);
	if (rc != 0)
		goto err;
	dp->queues[qid] = q;
	/* Release pairs with the acquire loads of the getters (any thread). */
	atomic_store_explicit(&dp->nb_queues, qid + 1, memory_order_release);
	if (out != NULL)
		*out = q;
	return 0;
err:
	rte_ring_free(q->req);
	rte_ring_free(q->cpl);
	rte_free(q);
	return rc;
}

unsigned int
gntdp_dp_queue_count(const struct gntdp_dp *dp)
{
	return queue_count(dp);
}

struct gntdp_dp_queue *
gntdp_dp_queue_get(struct gntdp_dp *dp, unsigned int qid)
{
	return qid < queue_count(dp) ? dp->queues[qid] : NULL;
}

unsigned int
gntdp_dp_queue_id(const struct gntdp_dp_queue *q)
{
	return q->qid;
}

gntdp_domid_t
gntdp_dp_queue_domid(const struct gntdp_dp_queue *q)
{
	return q->domid;
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
		rc = rte_eal_remote_launch(worker_main, dp->workers[i], dp->workers[i]->lcore_id);
		if (rc != 0) {
			DP_LOG(ERR, "lcore %u is busy\n", dp->workers[i]->lcore_id);
			/* Release pairs with the acquire load in worker_main(). */
			atomic_store_explicit(&dp->stop, true, memory_order_release);
			while (i-- > 0)
				rte_eal_wait_lcore(dp->workers[i]->lcore_id);
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
	/* Release pairs with the acquire load in worker_main(). */
	atomic_store_explicit(&dp->stop, true, memory_order_release);
	for (i = 0; i < dp->nb_workers; i++)
		rte_eal_wait_lcore(dp->workers[i]->lcore_id);
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
	if (worker >= dp->nb_workers)
		return -EINVAL;
	if (atomic_load(&dp->running))
		return -EBUSY;
	return (int)worker_iter(dp->workers[worker]);
}

int
gntdp_dp_flush_cache(struct gntdp_dp *dp)
{
	unsigned int i, n = 0, r;

	if (atomic_load(&dp->running))
		return -EBUSY;
	for (i = 0; i < dp->nb_workers; i++) {
		r = gntdp_gnttab_ctx_expire(dp->workers[i]->ctx, UINT64_MAX);
		counter_add(&dp->workers[i]->stats[ST_EXPIRED], r);
		n += r;
	}
	return (int)n;
}

const char *
gntdp_dp_copy_name(const struct gntdp_dp *dp)
{
	return dp->copy_name;
}

/* ---- Client side --------------------------------------------------------- */

unsigned int
gntdp_dp_submit_burst(struct gntdp_dp_queue *q, const struct gntdp_dp_req *reqs, unsigned int n)
{
	unsigned int done;

	done = rte_ring_sp_enqueue_burst_elem(q->req, reqs, sizeof(*reqs), n, NULL);
	counter_add(&q->submitted, done);
	return done;
}

unsigned int
gntdp_dp_complete_burst(struct gntdp_dp_queue *q, struct gntdp_dp_cpl *cpls, unsigned int n)
{
	unsigned int done;

	done = rte_ring_sc_dequeue_burst_elem(q->cpl, cpls, sizeof(*cpls), n, NULL);
	counter_add(&q->reaped, done);
	return done;
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
	for (i = 0; i < GNTDP_GNTST_COUNT; i++)
		out->status[i] = counter_read(&w->stats[ST_STATUS + i]);
	out->call_errors = counter_read(&w->stats[ST_CALL_ERRORS]);
	out->batches = counter_read(&w->stats[ST_BATCHES]);
	out->expired = counter_read(&w->stats[ST_EXPIRED]);
	out->busy_polls = counter_read(&w->stats[ST_BUSY_POLLS]);
	out->idle_polls = counter_read(&w->stats[ST_IDLE_POLLS]);
	out->ring_full = counter_read(&w->stats[ST_RING_FULL]);
	/* The core allows an approximate read from another thread. */
	gntdp_gnttab_ctx_stats(w->ctx, &cs);
	out->copy_bytes = cs.copy_bytes;
	out->cache_hits = cs.cache_hits;
	out->cache_misses = cs.cache_misses;
	out->cache_releases = cs.cache_releases;
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

int
gntdp_dp_queue_info(const struct gntdp_dp *dp, unsigned int qid,
		    struct gntdp_dp_queue_info *out)
{
	const struct gntdp_dp_queue *q;

	if (dp == NULL || out == NULL || qid >= queue_count(dp))
		return -EINVAL;
	q = dp->queues[qid];
	memset(out, 0, sizeof(*out));
	out->qid = q->qid;
	out->domid = q->domid;
	out->worker = q->worker;
	out->lcore_id = dp->workers[q->worker]->lcore_id;
	out->submitted = counter_read(&q->submitted);
	out->completed = counter_read(&q->completed);
	out->reaped = counter_read(&q->reaped);
	out->req_pending = rte_ring_count(q->req);
	out->cpl_pending = rte_ring_count(q->cpl);
	out->ring_full = counter_read(&q->ring_full);
	return 0;
}
