/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the data plane, shared by the files of dataplane/.
 * Not installed. Ownership (STYLE.md §3.5 rule 2):
 *  - struct worker: hot fields and stats written only by the worker's lcore
 *    (or by gntdp_dp_poll's caller while stopped); other threads only read
 *    the stats, with relaxed atomic loads.
 *  - struct gntdp_dp_poller: set up by the main thread while stopped; its
 *    busy/idle counters are written only by the worker that runs it.
 *  - struct gntdp_dp: control-plane fields, written by the main thread while
 *    the workers are stopped; while they run, only `stop` and the poller
 *    slots (live hypercall rings) change. Telemetry reads the poller slots
 *    under telemetry.c's lock, which the control thread also takes to
 *    change them (dp_telemetry_lock/unlock).
 *  - struct worker's poller list: the worker's own while it runs; the
 *    control thread changes it through the worker's mailbox (dp.c, "Live
 *    poller changes"), or directly while stopped.
 */
#ifndef DP_INTERNAL_H
#define DP_INTERNAL_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>

#include <gntdp/dataplane.h>

extern int dp_logtype;
#define DP_LOG(level, ...) rte_log(RTE_LOG_##level, dp_logtype, "gntdp.dp: " __VA_ARGS__)

/* Indices of a worker's counters; see struct gntdp_dp_stats for meanings. */
enum dp_stat {
	ST_OPS,
	ST_BY_CMD,
	ST_CALL_ERRORS = ST_BY_CMD + GNTDP_DP_NB_CMDS,
	ST_BATCHES,
	ST_EXPIRED,
	ST_BUSY_POLLS,
	ST_IDLE_POLLS,
	ST_RING_FULL,
	ST_IDLE_SLEEPS,
	/* Core counters of destroyed extra contexts (gntdp_dp_worker_ctx_destroy), kept in sums. */
	ST_GONE_COPY_BYTES,
	ST_GONE_CACHE_HITS,
	ST_GONE_CACHE_MISSES,
	ST_GONE_CACHE_RELEASES,
	ST_COUNT
};

/*
 * A counter with one writer. The writer does a relaxed load + store (a
 * plain add on x86, no locked instruction); readers do relaxed loads, so
 * they see a value that was true at some point and never a torn one.
 */
typedef _Atomic uint64_t counter_t;

static inline void
counter_add(counter_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline uint64_t
counter_read(const counter_t *c)
{
	return atomic_load_explicit((counter_t *)(uintptr_t)c, memory_order_relaxed);
}

/* A registered poller (gntdp_dp_poller_register). */
struct gntdp_dp_poller {
	gntdp_dp_poller_fn fn;
	void *arg;
	unsigned int id;     /* slot in dp->pollers, stable until unregistered */
	unsigned int worker; /* index of the worker that runs it */
	char name[GNTDP_DP_POLLER_NAMESIZE];
	/* Written only by the worker that runs it; read by the getters. */
	alignas(64) counter_t busy; /* calls that returned > 0 */
	counter_t idle;             /* calls that returned 0 (or < 0) */
};

/*
 * One live change of a worker's poller list (dp_poller_attach/detach while
 * the workers run): posted by the control thread into worker.mbox, applied
 * by the worker at the top of an iteration, acknowledged in worker.mbox_ack.
 * Lives on the poster's stack until acknowledged or retracted.
 */
struct dp_mbox_req {
	uint64_t seq;
	bool add;
	struct gntdp_dp_poller *p;
};

/* Contexts a worker owns: its own one, then gntdp_dp_worker_ctx_create()'s. */
#define DP_WORKER_MAX_CTX (1 + GNTDP_DP_MAX_WORKER_CTX)

struct worker {
	/* Hot, read by the loop every iteration. */
	struct gntdp_gnttab_ctx *ctx; /* == ctxs[0], the context pollers get in their env */
	unsigned int nb_pollers;
	unsigned int nb_ctx;
	uint64_t hold_cycles;
	bool persistent;
	const _Atomic bool *stop;
	uint64_t iter;
	uint64_t tsc_hz;
	uint32_t idle_sleep_us;     /* 0: busy-poll always */
	uint64_t idle_after_cycles;
	struct gntdp_dp_poller *pollers[GNTDP_DP_MAX_WORKER_POLLERS];
	/* Every context the worker ages each iteration (ctxs[0] == ctx). */
	struct gntdp_gnttab_ctx *ctxs[DP_WORKER_MAX_CTX];

	/* Cold. */
	unsigned int idx;
	unsigned int lcore_id;
	int socket;
	bool manual; /* on the main lcore: gntdp_dp_start() does not launch it */

	/*
	 * Mailbox: the control thread stores a request (release), the worker
	 * exchanges it out (acquire) when its relaxed load sees one, applies it
	 * and stores its seq in mbox_ack (release; the poster's acquire). The
	 * poster may exchange its own request back out after a timeout: whoever
	 * gets it from the exchange owns it. mbox_seq is the poster's counter.
	 */
	alignas(64) _Atomic(struct dp_mbox_req *) mbox;
	_Atomic uint64_t mbox_ack;
	uint64_t mbox_seq;

	/* Written only by the owner; summed by readers. */
	alignas(64) counter_t stats[ST_COUNT];
};

struct gntdp_dp {
	struct gntdp_gnttab *gt;
	struct gntdp_dp_conf conf;
	unsigned int nb_workers;
	struct worker *workers[GNTDP_DP_MAX_WORKERS];
	/* Poller slots (ids); NULL when free. Changed only while stopped, under poller_lock. */
	unsigned int nb_poller_slots; /* slots used so far: ids 0 .. nb_poller_slots - 1 */
	struct gntdp_dp_poller *pollers[GNTDP_DP_MAX_POLLERS];
	gntdp_copy_fn copy_fn;
	const char *copy_name;
	_Atomic bool running;
	/* Workers poll it; the main thread sets it to leave the loops. */
	_Atomic bool stop;
};

/* dp.c: poller changes callable while the workers run (dp.c, "Live poller changes"). */
int dp_poller_attach(struct gntdp_dp *dp, unsigned int worker, const char *name,
		     gntdp_dp_poller_fn fn, void *arg, struct gntdp_dp_poller **out);
int dp_poller_detach(struct gntdp_dp *dp, struct gntdp_dp_poller *p);
/* The worker's side of the mailbox (worker.c calls it when mbox is non-NULL). */
void dp_worker_mbox(struct worker *w);

/* worker.c */
int dp_worker_main(void *arg);
int dp_worker_iter(struct worker *w);

/* mem.c: the I/O address of @p va from the memseg holding it (memzones and registered
 * external memory alike); the VA itself when DPDK has none. */
uint64_t dp_virt2iova(const void *va);

/* telemetry.c */
void dp_telemetry_register(void);
void dp_telemetry_attach(struct gntdp_dp *dp);
void dp_telemetry_detach(struct gntdp_dp *dp);
void dp_telemetry_lock(void);
void dp_telemetry_unlock(void);

/* dp.c: counters of one worker, with the context's cache and byte counters. */
void dp_worker_stats(const struct worker *w, struct gntdp_dp_stats *out);
void dp_stats_add(struct gntdp_dp_stats *sum, const struct gntdp_dp_stats *s);
/* Keep the core counters of @p ctx, about to be destroyed, in @p w's sums. */
void dp_worker_ctx_fold(struct worker *w, const struct gntdp_gnttab_ctx *ctx);

/* memfd_bus.c: the SIGBUS of a hole punched in a hugetlb memfd, repaired (memfd.c). */
int memfd_bus_install(void);
void memfd_bus_track(void *va, size_t size);   /* under mfd_lock */
void memfd_bus_untrack(void *va);              /* under mfd_lock, before the munmap */
unsigned int memfd_bus_repairs(const void *va);

#endif /* DP_INTERNAL_H */
