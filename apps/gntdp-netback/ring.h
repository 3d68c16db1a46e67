/* SPDX-License-Identifier: MIT */
/*
 * The io/ring.h protocol on a shared ring page (struct gntdp_netif_sring_hdr),
 * for both ends, with C11 memory orders instead of Xen's xen_rmb/wmb/mb.
 *
 * Who writes what: the frontend writes req_prod and rsp_event, the backend
 * rsp_prod and req_event. Each end keeps its own producer and consumer
 * indexes privately and never reads back a value it published: the page
 * belongs to the frontend, which may scribble on any of it, so the backend
 * trusts nothing it reads there except as an untrusted snapshot.
 *
 * Orderings, with the labels the callers' comments use:
 *  - R1 / A1: the producer stores its slots, then release-stores *_prod (R1);
 *    the consumer acquire-loads *_prod (A1) before reading those slots.
 *    This is Xen's wmb before the index store and rmb after the index load.
 *  - F1 / F2: the notify check (RING_PUSH_*_AND_CHECK_NOTIFY) and the
 *    final check (RING_FINAL_CHECK_FOR_*) each put a full fence between a
 *    store of one index and the load of the other: the producer's
 *    "store prod; fence; load event" (F1) against the consumer's
 *    "store event; fence; load prod" (F2). Whichever runs second sees the
 *    other's store, so a wakeup is never lost: either the producer sees the
 *    new event and notifies, or the consumer sees the new prod and goes on.
 *
 * The index words are plain uint32_t in the ABI struct, so the accesses use
 * the __atomic builtins (the C11 orders on a non-_Atomic object).
 */
#ifndef NB_RING_H
#define NB_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <gntdp/netif.h>

static inline uint32_t
ring_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint32_t
ring_load_relaxed(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void
ring_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void
ring_store_relaxed(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void
ring_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Xen's notify rule: the new range (old, new] passed the event mark. */
static inline bool
ring_event_passed(uint32_t event, uint32_t old, uint32_t new_idx)
{
	return (uint32_t)(new_idx - event) < (uint32_t)(new_idx - old);
}

/*
 * Backend: publish responses [old, new_idx) and tell whether the frontend
 * asked to be notified (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY). @p old is the
 * backend's private previous value, never the page's.
 */
static inline bool
ring_push_responses(struct gntdp_netif_sring_hdr *h, uint32_t old, uint32_t new_idx)
{
	if (old == new_idx)
		return false;
	/* R1: response slots before rsp_prod; pairs with the frontend's A1 on rsp_prod. */
	ring_store_release(&h->rsp_prod, new_idx);
	/* F1: rsp_prod store before the rsp_event load; pairs with the frontend's F2. */
	ring_fence();
	return ring_event_passed(ring_load_relaxed(&h->rsp_event), old, new_idx);
}

/* Frontend: publish requests [old, new_idx) (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY). */
static inline bool
ring_push_requests(struct gntdp_netif_sring_hdr *h, uint32_t old, uint32_t new_idx)
{
	if (old == new_idx)
		return false;
	/* R1: request slots before req_prod; pairs with the backend's A1 on req_prod. */
	ring_store_release(&h->req_prod, new_idx);
	/* F1: req_prod store before the req_event load; pairs with the backend's F2. */
	ring_fence();
	return ring_event_passed(ring_load_relaxed(&h->req_event), old, new_idx);
}

/*
 * Backend, finding no requests (RING_FINAL_CHECK_FOR_REQUESTS): ask to be
 * notified at the next request, then look once more. Returns the re-read
 * req_prod. The event store is skipped when it already holds the value, so
 * an idle poller does not keep dirtying the frontend's cache line.
 */
static inline uint32_t
ring_final_check_requests(struct gntdp_netif_sring_hdr *h, uint32_t cons, bool *armed)
{
	*armed = false;
	if (ring_load_relaxed(&h->req_event) != cons + 1) {
		ring_store_relaxed(&h->req_event, cons + 1);
		*armed = true;
	}
	/* F2: req_event store before the req_prod re-load; pairs with the frontend's F1. */
	ring_fence();
	/* A1: pairs with the frontend's R1 on req_prod. */
	return ring_load_acquire(&h->req_prod);
}

/*
 * Backend, needing @p need more requests than it has: set req_event so the
 * frontend notifies once that many are posted (Linux rx.c does the same),
 * then re-read req_prod.
 */
static inline uint32_t
ring_want_requests(struct gntdp_netif_sring_hdr *h, uint32_t cons, uint32_t need)
{
	if (ring_load_relaxed(&h->req_event) != cons + need)
		ring_store_relaxed(&h->req_event, cons + need);
	/* F2: as in ring_final_check_requests. */
	ring_fence();
	return ring_load_acquire(&h->req_prod);
}

/* Frontend, finding no responses (RING_FINAL_CHECK_FOR_RESPONSES). Returns re-read rsp_prod. */
static inline uint32_t
ring_final_check_responses(struct gntdp_netif_sring_hdr *h, uint32_t cons)
{
	if (ring_load_relaxed(&h->rsp_event) != cons + 1)
		ring_store_relaxed(&h->rsp_event, cons + 1);
	/* F2: rsp_event store before the rsp_prod re-load; pairs with the backend's F1. */
	ring_fence();
	/* A1: pairs with the backend's R1 on rsp_prod. */
	return ring_load_acquire(&h->rsp_prod);
}

/* FRONT_RING_INIT / SHARED_RING_INIT: zero indexes, events at 1. */
static inline void
ring_init_shared(struct gntdp_netif_sring_hdr *h)
{
	ring_store_relaxed(&h->req_prod, 0);
	ring_store_relaxed(&h->rsp_prod, 0);
	ring_store_relaxed(&h->req_event, 1);
	ring_store_relaxed(&h->rsp_event, 1);
}

#endif /* NB_RING_H */
