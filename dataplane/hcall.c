/* SPDX-License-Identifier: MIT */
/*
 * The hypercall ring on a worker (gntdp/hcall.h, docs/hcall.md): one poller
 * per ring takes submissions (one hypercall each) from the SQ, executes
 * them with gntdp_hcall() on the worker's context and posts one completion
 * per submission on the CQ.
 *
 * Untrusted region: the client may write any byte of it at any time. The
 * worker therefore reads from the region only the client's two indices
 * (sq_tail, cq_head), checked against private copies of the sizes and of
 * its own indices, and each SQ entry, copied out once; it never reads back
 * what it wrote. An index that no client could have produced (more entries
 * than the queue holds) disables the ring: the poller stops touching it,
 * the reason goes into the header and one log line, and nothing else on
 * the worker is affected.
 *
 * Exactly once: a poll takes no more submissions than the CQ has room for,
 * and the worker is the CQ's only producer, so the room cannot shrink
 * before the post: every call taken gets exactly one completion, and a
 * client that does not drain its CQ stops only its own ring (counted as
 * cq_full here and as ring_full in the worker's stats).
 *
 * The worker's stats (struct gntdp_dp_stats) are fed from here: ops that
 * ran and their commands, hypercalls completed ("batches"), those with
 * rc != 0 ("call_errors"), CQ-full polls ("ring_full").
 *
 * The rte_ring implementation (GNTDP_DP_HCALL_RTE_RING) exists to measure
 * DPDK's ring against this one (tests/dp/bench_dp_hcall.c); it trusts the
 * size and mask stored in the region, which is why it is not the default.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <gntdp/hcall.h>

#include "dp_internal.h"

#define DEFAULT_ENTRIES 256u
#define ESZ_SQE ((unsigned int)sizeof(struct gntdp_hcall_sqe))
#define ESZ_CQE ((unsigned int)sizeof(struct gntdp_hcall_cqe))

enum hc_stat {
	HC_CALLS,
	HC_OPS,
	HC_FAULTS,
	HC_ERRORS,
	HC_WAKEUPS,
	HC_CQ_FULL,
	HC_PREEMPTED,
	HC_COUNT
};

struct gntdp_dp_hcall {
	/* Hot, worker only. */
	enum gntdp_dp_hcall_impl impl;
	struct gntdp_hcall_ring_hdr *hdr; /* native */
	const struct gntdp_hcall_sqe *sq;
	struct gntdp_hcall_cqe *cq;
	struct rte_ring *rsq, *rcq; /* rte_ring */
	uint32_t sq_entries, cq_entries;
	uint32_t sq_head;      /* private: the worker's next SQ slot */
	uint32_t cq_tail;      /* private: the worker's next CQ slot */
	uint32_t cq_head_seen; /* last client cq_head read */
	unsigned int burst;
	unsigned int budget; /* ops per poll (conf.preempt_ops; UINT_MAX: none) */
	gntdp_domid_t domid;
	/* A call that ran out of budget: taken (sq_head is past it), its CQ slot kept free. */
	bool cont;
	unsigned int cont_done;
	struct gntdp_hcall_sqe cont_sqe;
	int efd;
	_Atomic bool disabled;
	_Atomic uint32_t reason;
	/* rte_ring: what the headers held when we set them up. */
	uint32_t rsq_size, rsq_mask, rcq_size, rcq_mask;

	/* The in-process client (one producer/consumer thread). */
	alignas(64) struct gntdp_hcall_client cl;

	/* Counters, written by the worker. */
	alignas(64) counter_t st[HC_COUNT];
	counter_t *wst; /* the serving worker's (struct gntdp_dp_stats), also the worker's to write */

	/* Cold. */
	alignas(64) const struct rte_memzone *mz;
	struct gntdp_dp_poller *poller;
	unsigned int worker;
	void *mem;
	size_t mem_size;

	/* Per-poll scratch: the private copies of the submissions taken. */
	alignas(64) struct gntdp_hcall_sqe sqes[GNTDP_DP_MAX_BURST];
	struct gntdp_hcall_cqe cqes[GNTDP_DP_MAX_BURST];
};

static _Atomic unsigned int hcall_seq; /* unique memzone names */

void
gntdp_dp_hcall_conf_init(struct gntdp_dp_hcall_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->sq_entries = DEFAULT_ENTRIES;
	conf->cq_entries = DEFAULT_ENTRIES;
	conf->burst = GNTDP_DP_DEFAULT_BURST;
	conf->eventfd = -1;
	conf->impl = GNTDP_DP_HCALL_NATIVE;
	conf->preempt_ops = GNTDP_DP_HCALL_DEFAULT_PREEMPT_OPS;
}

/* ---- Worker side ------------------------------------------------------------ */

static const char *
reason_str(uint32_t reason)
{
	switch (reason) {
	case GNTDP_HCALL_REASON_SQ_INDEX:
		return "SQ tail out of range";
	case GNTDP_HCALL_REASON_CQ_INDEX:
		return "CQ head out of range";
	case GNTDP_HCALL_REASON_RING_HEADER:
		return "rte_ring header changed";
	default:
		return "?";
	}
}

/* Stop serving @r for good. Cold: once per ring lifetime, hence the one log line. */
static void __rte_noinline
hcall_disable(struct gntdp_dp_hcall *r, uint32_t reason, uint32_t seen, uint32_t mine)
{
	atomic_store_explicit(&r->reason, reason, memory_order_relaxed);
	atomic_store_explicit(&r->disabled, true, memory_order_release);
	if (r->hdr != NULL) {
		__atomic_store_n(&r->hdr->reason, reason, __ATOMIC_RELAXED);
		__atomic_store_n(&r->hdr->state, GNTDP_HCALL_RING_DISABLED, __ATOMIC_RELEASE);
	}
	DP_LOG(ERR, "hypercall ring of d%u on worker %u disabled: %s (client wrote %u, worker at %u)\n",
	       r->domid, r->worker, reason_str(reason), seen, mine);
}

/*
 * One submission, from its private copy, ops *@done.. of it within *@budget
 * ops (charged at least one). GNTDP_HCALL_PREEMPTED: the rest waits.
 */
static int32_t
exec_one(struct gntdp_dp_hcall *r, struct gntdp_gnttab_ctx *ctx, const struct gntdp_hcall_sqe *s,
	 unsigned int *done, unsigned int *budget)
{
	unsigned int before = *done, ran;
	int rc;

	if (unlikely((s->flags | s->rsvd) != 0)) {
		rc = -EINVAL;
	} else {
		rc = gntdp_hcall_resume(ctx, r->domid, s->cmd, s->gaddr, s->count, *budget, done);
		ran = *done > before ? *done - before : 0;
		/* The worker's counters: ops that ran, by command. */
		if (ran > 0) {
			counter_add(&r->wst[ST_OPS], ran);
			/* cache_flush may carry an argument in bits >= 12 */
			if ((s->cmd & GNTDP_GNTTABOP_CMD_MASK) < GNTDP_DP_NB_CMDS)
				counter_add(&r->wst[ST_BY_CMD + (s->cmd & GNTDP_GNTTABOP_CMD_MASK)],
					    ran);
		}
		ran = RTE_MAX(ran, 1u); /* charged at least one */
		*budget = *budget == UINT_MAX ? UINT_MAX : *budget - RTE_MIN(ran, *budget);
		if (rc == GNTDP_HCALL_PREEMPTED) {
			counter_add(&r->st[HC_PREEMPTED], 1);
			return rc;
		}
		counter_add(&r->st[HC_OPS], s->count);
	}
	if (unlikely(rc != 0)) {
		counter_add(&r->st[rc == -EFAULT ? HC_FAULTS : HC_ERRORS], 1);
		counter_add(&r->wst[ST_CALL_ERRORS], 1);
	}
	counter_add(&r->st[HC_CALLS], 1);
	counter_add(&r->wst[ST_BATCHES], 1);
	return rc;
}

/* Whole calls only (the rte_ring impl, which cannot leave an entry half taken). */
static void
exec_all(struct gntdp_dp_hcall *r, struct gntdp_gnttab_ctx *ctx, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int done = 0, budget = UINT_MAX;

		r->cqes[i].user_data = r->sqes[i].user_data;
		r->cqes[i].rc = exec_one(r, ctx, &r->sqes[i], &done, &budget);
		r->cqes[i].flags = 0;
	}
}

/* Signal the client if it asked; the fence pairs with gntdp_hcall_client_arm_wakeup's. */
static void
wake(struct gntdp_dp_hcall *r)
{
	static const uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->hdr->wakeup, __ATOMIC_RELAXED) == 0)
		return;
	__atomic_store_n(&r->hdr->wakeup, 0, __ATOMIC_RELAXED);
	if (write(r->efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		counter_add(&r->st[HC_WAKEUPS], 1);
}

/* CQ room, re-reading the client's head only when the cached one is short. 0 = disabled. */
static bool
cq_room(struct gntdp_dp_hcall *r, unsigned int want, unsigned int *room)
{
	uint32_t used = r->cq_tail - r->cq_head_seen;

	if (r->cq_entries - used < want) {
		/* Acquire pairs with the client's release of cq_head: its reads of the slots are done. */
		uint32_t head = __atomic_load_n(&r->hdr->cq_head, __ATOMIC_ACQUIRE);

		used = r->cq_tail - head;
		if (unlikely(used > r->cq_entries)) {
			hcall_disable(r, GNTDP_HCALL_REASON_CQ_INDEX, head, r->cq_tail);
			return false;
		}
		r->cq_head_seen = head;
	}
	*room = r->cq_entries - used;
	return true;
}

/* Publish completions cqes[0..n) and wake the client if it asked. */
static void
post(struct gntdp_dp_hcall *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		r->cq[(r->cq_tail + i) & (r->cq_entries - 1)] = r->cqes[i];
	r->cq_tail += n;
	/* Release pairs with the client's acquire of cq_tail: the completions are written. */
	__atomic_store_n(&r->hdr->cq_tail, r->cq_tail, __ATOMIC_RELEASE);
	if (r->efd >= 0)
		wake(r);
}

static void
cqe_set(struct gntdp_hcall_cqe *c, const struct gntdp_hcall_sqe *s, int32_t rc)
{
	c->user_data = s->user_data;
	c->rc = rc;
	c->flags = 0;
}

/* Go on with the preempted call; the poll takes nothing else until it completes. */
static int
native_resume(struct gntdp_dp_hcall *r, struct gntdp_gnttab_ctx *ctx)
{
	unsigned int budget = r->budget;
	int32_t rc = exec_one(r, ctx, &r->cont_sqe, &r->cont_done, &budget);

	if (rc == GNTDP_HCALL_PREEMPTED)
		return 1;
	r->cont = false;
	/* Its slot: room was there when it was taken, and only this worker posts. */
	cqe_set(&r->cqes[0], &r->cont_sqe, rc);
	post(r, 1);
	return 1;
}

static int
native_poll(struct gntdp_dp_hcall *r, struct gntdp_gnttab_ctx *ctx)
{
	/* Acquire pairs with the client's release of sq_tail: the entries are written. */
	uint32_t tail = __atomic_load_n(&r->hdr->sq_tail, __ATOMIC_ACQUIRE);
	uint32_t avail = tail - r->sq_head;
	unsigned int want, room, n, taken, budget = r->budget;

	if (unlikely(r->cont))
		return native_resume(r, ctx);
	if (avail == 0)
		return 0;
	if (unlikely(avail > r->sq_entries)) {
		hcall_disable(r, GNTDP_HCALL_REASON_SQ_INDEX, tail, r->sq_head);
		return 0;
	}
	want = RTE_MIN(avail, r->burst);
	if (!cq_room(r, want, &room))
		return 0;
	n = RTE_MIN(want, room);
	if (unlikely(n < want)) {
		counter_add(&r->st[HC_CQ_FULL], 1);
		counter_add(&r->wst[ST_RING_FULL], 1);
	}
	if (n == 0)
		return 0;
	/*
	 * Each entry taken is read once, here; the rest of the poll uses the
	 * copies. Calls run in order within the poll's budget of ops: the
	 * poll takes those it ran or began (one preempted call at most, the
	 * last); the copies of the others are dropped and read afresh later.
	 */
	for (unsigned int i = 0; i < n; i++)
		r->sqes[i] = r->sq[(r->sq_head + i) & (r->sq_entries - 1)];
	for (taken = 0; taken < n;) {
		unsigned int done = 0;
		int32_t rc = exec_one(r, ctx, &r->sqes[taken], &done, &budget);

		if (unlikely(rc == GNTDP_HCALL_PREEMPTED)) {
			r->cont = true;
			r->cont_done = done;
			r->cont_sqe = r->sqes[taken++];
			break;
		}
		cqe_set(&r->cqes[taken], &r->sqes[taken], rc);
		if (++taken < n && budget == 0)
			break;
	}
	r->sq_head += taken;
	/* Release pairs with the client's acquire of sq_head: our reads of the slots are done. */
	__atomic_store_n(&r->hdr->sq_head, r->sq_head, __ATOMIC_RELEASE);
	post(r, taken - (r->cont ? 1u : 0u));
	return (int)taken;
}

static int
rte_poll(struct gntdp_dp_hcall *r, struct gntdp_gnttab_ctx *ctx)
{
	unsigned int n, room, done;

	if (unlikely(r->rsq->size != r->rsq_size || r->rsq->mask != r->rsq_mask ||
		     r->rcq->size != r->rcq_size || r->rcq->mask != r->rcq_mask)) {
		hcall_disable(r, GNTDP_HCALL_REASON_RING_HEADER, r->rsq->size, r->rsq_size);
		return 0;
	}
	room = rte_ring_free_count(r->rcq);
	n = rte_ring_sc_dequeue_burst_elem(r->rsq, r->sqes, ESZ_SQE, RTE_MIN(r->burst, room), NULL);
	if (n == 0)
		return 0;
	exec_all(r, ctx, n);
	done = rte_ring_sp_enqueue_bulk_elem(r->rcq, r->cqes, ESZ_CQE, n, NULL);
	RTE_VERIFY(done == n); /* only producer, room checked */
	return (int)n;
}

static int
hcall_poll(void *arg, const struct gntdp_dp_poll_env *env)
{
	struct gntdp_dp_hcall *r = arg;

	if (unlikely(atomic_load_explicit(&r->disabled, memory_order_relaxed)))
		return 0;
	return r->impl == GNTDP_DP_HCALL_NATIVE ? native_poll(r, env->ctx) : rte_poll(r, env->ctx);
}

/* ---- Control plane ---------------------------------------------------------- */

static bool
entries_ok(unsigned int n)
{
	return n >= 2 && n <= GNTDP_HCALL_RING_MAX_ENTRIES && (n & (n - 1)) == 0;
}

static int
conf_check(const struct gntdp_dp *dp, const struct gntdp_dp_hcall_conf *c)
{
	if (c->domid >= GNTDP_DOMID_FIRST_RESERVED || c->worker >= dp->nb_workers ||
	    !entries_ok(c->sq_entries) || !entries_ok(c->cq_entries) || c->burst == 0 ||
	    c->burst > GNTDP_DP_MAX_BURST ||
	    (c->impl != GNTDP_DP_HCALL_NATIVE && c->impl != GNTDP_DP_HCALL_RTE_RING))
		return -EINVAL;
	if (c->impl == GNTDP_DP_HCALL_RTE_RING && (c->mem != NULL || c->eventfd >= 0))
		return -EINVAL;
	if (c->mem != NULL &&
	    (((uintptr_t)c->mem & 63) != 0 ||
	     c->mem_size < gntdp_hcall_ring_mem_size(c->sq_entries, c->cq_entries)))
		return -EINVAL;
	return 0;
}

/* A memzone of @size bytes on @socket (any socket if that one has no memory). */
static const struct rte_memzone *
zone(size_t size, int socket)
{
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;

	snprintf(name, sizeof(name), "gntdp_hc_%u", atomic_fetch_add(&hcall_seq, 1));
	mz = rte_memzone_reserve_aligned(name, size, socket, 0, RTE_CACHE_LINE_SIZE);
	if (mz == NULL && socket != SOCKET_ID_ANY)
		mz = rte_memzone_reserve_aligned(name, size, SOCKET_ID_ANY, 0, RTE_CACHE_LINE_SIZE);
	return mz;
}

static int
setup_native(struct gntdp_dp_hcall *r, const struct gntdp_dp_hcall_conf *c, int socket)
{
	size_t size = gntdp_hcall_ring_mem_size(c->sq_entries, c->cq_entries);
	int rc;

	if (c->mem != NULL) {
		r->mem = c->mem;
		r->mem_size = c->mem_size;
	} else {
		r->mz = zone(size, socket);
		if (r->mz == NULL)
			return -ENOMEM;
		r->mem = r->mz->addr;
		r->mem_size = size;
	}
	rc = gntdp_hcall_ring_format(r->mem, r->mem_size, c->sq_entries, c->cq_entries);
	if (rc == 0)
		rc = gntdp_hcall_client_init(&r->cl, r->mem, r->mem_size);
	if (rc != 0)
		return rc;
	/* The layout gntdp_hcall_ring_format() wrote, from the conf, never read from the region. */
	r->hdr = r->mem;
	r->sq = (const void *)((uint8_t *)r->mem + sizeof(struct gntdp_hcall_ring_hdr));
	r->cq = (void *)((uint8_t *)r->mem + sizeof(struct gntdp_hcall_ring_hdr) +
			 RTE_ALIGN_CEIL((size_t)c->sq_entries * ESZ_SQE, RTE_CACHE_LINE_SIZE));
	RTE_VERIFY((void *)r->cq == (void *)r->cl.cq);
	return 0;
}

static int
setup_rte(struct gntdp_dp_hcall *r, const struct gntdp_dp_hcall_conf *c, int socket)
{
	/* RING_F_EXACT_SZ: capacity = entries, storage for the next power of two above. */
	ssize_t sqb = rte_ring_get_memsize_elem(ESZ_SQE, rte_align32pow2(c->sq_entries + 1));
	ssize_t cqb = rte_ring_get_memsize_elem(ESZ_CQE, rte_align32pow2(c->cq_entries + 1));
	const unsigned int fl = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;

	if (sqb < 0 || cqb < 0)
		return -EINVAL;
	r->mz = zone((size_t)sqb + (size_t)cqb, socket);
	if (r->mz == NULL)
		return -ENOMEM;
	r->rsq = r->mz->addr;
	r->rcq = (struct rte_ring *)(void *)((uint8_t *)r->mz->addr + sqb);
	/* In place, as a region both sides could map: no memzone pointer inside. */
	if (rte_ring_init(r->rsq, "hc_sq", c->sq_entries, fl) != 0 ||
	    rte_ring_init(r->rcq, "hc_cq", c->cq_entries, fl) != 0)
		return -EINVAL;
	r->rsq_size = r->rsq->size;
	r->rsq_mask = r->rsq->mask;
	r->rcq_size = r->rcq->size;
	r->rcq_mask = r->rcq->mask;
	return 0;
}

static void
hcall_free(struct gntdp_dp_hcall *r)
{
	rte_memzone_free(r->mz);
	rte_free(r);
}

int
gntdp_dp_hcall_create(struct gntdp_dp *dp, const struct gntdp_dp_hcall_conf *conf,
		      struct gntdp_dp_hcall **out)
{
	struct gntdp_dp_hcall_conf def;
	struct gntdp_dp_hcall *r;
	int socket, rc;

	if (dp == NULL || out == NULL)
		return -EINVAL;
	if (conf == NULL) {
		gntdp_dp_hcall_conf_init(&def);
		conf = &def;
	}
	rc = conf_check(dp, conf);
	if (rc != 0)
		return rc;
	socket = dp->workers[conf->worker]->socket;
	r = rte_zmalloc_socket("gntdp_hcall", sizeof(*r), 64, socket);
	if (r == NULL)
		return -ENOMEM;
	r->impl = conf->impl;
	r->sq_entries = conf->sq_entries;
	r->cq_entries = conf->cq_entries;
	r->burst = conf->burst;
	r->budget = conf->preempt_ops == 0 ? UINT_MAX : conf->preempt_ops;
	r->domid = conf->domid;
	r->efd = conf->eventfd;
	r->worker = conf->worker;
	r->wst = dp->workers[conf->worker]->stats;
	rc = r->impl == GNTDP_DP_HCALL_NATIVE ? setup_native(r, conf, socket)
					      : setup_rte(r, conf, socket);
	if (rc == 0)
		rc = dp_poller_attach(dp, conf->worker, "hcall", hcall_poll, r, &r->poller);
	if (rc != 0) {
		hcall_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int
gntdp_dp_hcall_destroy(struct gntdp_dp *dp, struct gntdp_dp_hcall *r)
{
	int rc;

	if (r == NULL)
		return 0;
	/* Once detached the worker is between iterations and will never call hcall_poll(r)
	 * again: every call it took has its completion in the CQ, and the region (caller
	 * memory or our memzone) may go at once. */
	rc = dp_poller_detach(dp, r->poller);
	if (rc != 0)
		return rc;
	/* A preempted call was taken: it gets its completion (its ops before cont_done ran). */
	if (r->cont && !atomic_load_explicit(&r->disabled, memory_order_relaxed)) {
		cqe_set(&r->cqes[0], &r->cont_sqe, -ECANCELED);
		post(r, 1);
	}
	hcall_free(r);
	return 0;
}

void *
gntdp_dp_hcall_mem(const struct gntdp_dp_hcall *r, size_t *size)
{
	if (r->impl != GNTDP_DP_HCALL_NATIVE)
		return NULL;
	if (size != NULL)
		*size = r->mem_size;
	return r->mem;
}

/* ---- In-process client --------------------------------------------------------- */

unsigned int
gntdp_dp_hcall_submit_burst(struct gntdp_dp_hcall *r, const struct gntdp_hcall_sqe *sqes,
			    unsigned int n)
{
	if (r->impl == GNTDP_DP_HCALL_NATIVE)
		return gntdp_hcall_client_submit(&r->cl, sqes, n);
	if (atomic_load_explicit(&r->disabled, memory_order_relaxed))
		return 0;
	return rte_ring_sp_enqueue_burst_elem(r->rsq, sqes, ESZ_SQE, n, NULL);
}

unsigned int
gntdp_dp_hcall_reap_burst(struct gntdp_dp_hcall *r, struct gntdp_hcall_cqe *cqes, unsigned int n)
{
	if (r->impl == GNTDP_DP_HCALL_NATIVE)
		return gntdp_hcall_client_reap(&r->cl, cqes, n);
	return rte_ring_sc_dequeue_burst_elem(r->rcq, cqes, ESZ_CQE, n, NULL);
}

int
gntdp_dp_hcall_wait(struct gntdp_dp_hcall *r, int timeout_ms)
{
	struct pollfd pfd;
	uint64_t v;
	int n;

	if (r->impl != GNTDP_DP_HCALL_NATIVE || r->efd < 0)
		return -EINVAL;
	if (gntdp_hcall_client_arm_wakeup(&r->cl))
		return 1;
	pfd.fd = r->efd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (read(r->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	return 1;
}

int
gntdp_dp_hcall_info(const struct gntdp_dp_hcall *r, struct gntdp_dp_hcall_info *out)
{
	if (r == NULL || out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->domid = r->domid;
	out->worker = r->worker;
	out->calls = counter_read(&r->st[HC_CALLS]);
	out->ops = counter_read(&r->st[HC_OPS]);
	out->faults = counter_read(&r->st[HC_FAULTS]);
	out->errors = counter_read(&r->st[HC_ERRORS]);
	out->wakeups = counter_read(&r->st[HC_WAKEUPS]);
	out->cq_full = counter_read(&r->st[HC_CQ_FULL]);
	out->preempted = counter_read(&r->st[HC_PREEMPTED]);
	out->disabled = atomic_load_explicit((_Atomic bool *)(uintptr_t)&r->disabled,
					     memory_order_acquire);
	out->reason = atomic_load_explicit((_Atomic uint32_t *)(uintptr_t)&r->reason,
					   memory_order_relaxed);
	return 0;
}
