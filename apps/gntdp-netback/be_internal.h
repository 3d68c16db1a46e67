/* SPDX-License-Identifier: MIT */
/*
 * Private to the backend's files (backend.c, poller.c, tx.c, express.c,
 * peek.c, plan.c, rx.c, port_io.c): the inline helpers of the hot path and
 * the functions one file calls in another. Not used outside the backend.
 */
#ifndef NB_BE_INTERNAL_H
#define NB_BE_INTERNAL_H

#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "nb.h"
#include "ring.h"

#define RING_SIZE GNTDP_NETIF_RING_SIZE
#define PAGE GNTDP_PAGE_SIZE
/* 64-byte lines hold 5.3 TX slots and 8 RX slots: prefetch steps that touch each line. */
#define TX_SLOTS_PER_LINE 5u
#define RX_SLOTS_PER_LINE 8u

/* ---- Burst bookkeeping ---------------------------------------------------- */

static inline void
burst_reset(struct burst *b)
{
	b->nb_pkts = 0;
	b->nb_frags = 0;
	b->nb_dests = 0;
	b->nb_ops = 0;
	b->rx_touched = 0;
}

/*
 * Copy a 12-byte TX slot out of the shared ring. The compiler barrier makes
 * the copy the only read: nothing after it may re-load the ring instead of
 * the local copy (Linux's RING_COPY_REQUEST; XSA-155).
 */
static inline void
slot_read(const union gntdp_netif_tx_sring_entry *src, union gntdp_netif_tx_sring_entry *dst)
{
	memcpy(dst, src, sizeof(*dst));
	__asm__ volatile("" ::: "memory");
}

/* ---- Destinations ----------------------------------------------------------- */

enum room { ROOM_OK, ROOM_WAIT, ROOM_DROP };

static inline bool
hdr_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, b0;
	uint32_t a1, b1;

	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, a + 8, 4);
	memcpy(&b1, b + 8, 4);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* Take @p n RX requests of @p d: copy each out of the ring once. Room was checked. */
static inline uint32_t
rx_reserve(struct be_vif *d, unsigned int n)
{
	uint32_t first = d->rx_cons;

	for (unsigned int k = 0; k < n; k++) {
		uint32_t idx = GNTDP_NETIF_RING_SLOT(first + k);
		const uint32_t *s = (const uint32_t *)(const void *)&d->rx->ring[idx];
		uint32_t w0 = __atomic_load_n(&s[0], __ATOMIC_RELAXED);

		d->rx_shadow[idx].id = (uint16_t)(w0 & 0xffffu);
		d->rx_shadow[idx].gref = __atomic_load_n(&s[1], __ATOMIC_RELAXED);
	}
	d->rx_cons = first + n;
	return first;
}

/*
 * Where a frame of @p len bytes starts in the RX page of grant @p gref:
 * the page's own staggered offset (nb_stagger: fixed per buffer, so a
 * buffer's cache footprint stays one frame's lines however often it is
 * reposted; spread over all sets), or 0 when it would cross the page or
 * rx_stagger is off. The RX response carries it; netfront honours it
 * (offset + status within the page).
 */
static inline uint16_t
rx_first_off(const struct be *be, gntdp_grant_ref_t gref, uint32_t len)
{
	return be->conf->rx_stagger ? nb_stagger(gref, len) : 0;
}

/* ---- Completion ------------------------------------------------------------ */

static inline void
tx_respond(struct be_vif *v, uint32_t idx, uint16_t id, int16_t status)
{
	union gntdp_netif_tx_sring_entry *e = &v->tx->ring[GNTDP_NETIF_RING_SLOT(idx)];
	uint32_t w = (uint32_t)id | (uint32_t)(uint16_t)status << 16;

	/* Published by the release store of rsp_prod (R1 in ring_push_responses). */
	memcpy(&e->rsp, &w, sizeof(w));
}

static inline void
rx_respond(struct be_vif *d, uint32_t idx, uint16_t off, uint16_t flags, int16_t status)
{
	union gntdp_netif_rx_sring_entry *e = &d->rx->ring[GNTDP_NETIF_RING_SLOT(idx)];
	struct gntdp_netif_rx_response r = {
		.id = d->rx_shadow[GNTDP_NETIF_RING_SLOT(idx)].id,
		.offset = off,
		.flags = flags,
		.status = status,
	};

	/* In the request's own slot (netif rule); published by R1 on rsp_prod. */
	memcpy(&e->rsp, &r, sizeof(r));
}

/* peek.c */
__attribute__((noinline)) int16_t
peek_miss(struct be *be, struct be_vif *v, struct peek_ent *e, gntdp_grant_ref_t gref,
	  const uint8_t **va);

/*
 * The page of TX grant @p gref, through a read-only host mapping kept in the
 * vif's peek cache (the backend reads the frame header there to switch; the
 * packet itself still moves with grant copies). Aged like the copy pins:
 * from when it was taken, not from its last use (peek_age).
 */
static inline int16_t
peek(struct be *be, struct be_vif *v, gntdp_grant_ref_t gref, const uint8_t **va)
{
	struct peek_ent *e = &v->peek[gref & v->peek_mask];

	if (likely(e->valid && e->gref == gref)) {
		*va = e->va;
		return GNTDP_GNTST_OKAY;
	}
	return peek_miss(be, v, e, gref, va);
}

/* plan.c */
unsigned int
plan(struct burst *b, const struct frag *src, unsigned int nsrc, const struct frag *dst,
     unsigned int ndst);
enum room rx_room(struct be *be, struct be_vif *d, unsigned int need, enum nb_drop *why);
int
route_and_plan(struct be *be, struct burst *b, struct pkt *p, uint16_t src_member,
	       unsigned int bridge, const uint8_t *hdr, const struct frag *src, unsigned int nsrc,
	       bool need_stage);
bool exec_ops(struct be *be, struct burst *b);
int16_t ops_status(const struct burst *b, unsigned int first, unsigned int n);
void attribute_failures(struct be *be, struct burst *b, bool vif_source);

/* rx.c */
unsigned int deliver(struct be *be, struct burst *b, ctr_t *src_drops);

/* port_io.c */
unsigned int
mbuf_frags(const struct be *be, const struct rte_mbuf *m, struct frag *out, unsigned int max);
struct rte_mbuf *mbuf_chain(struct be *be, uint32_t len);
void port_flush(struct be *be, struct burst *b);
unsigned int to_ports(struct burst *b, struct pkt *p);
unsigned int
deliver_mbufs(struct be *be, struct gntdp_gnttab_ctx *ctx, struct route_cache *cache,
	      uint16_t src, unsigned int bridge, struct pend_q *q, ctr_t *drops, ctr_t *ops_ctr,
	      ctr_t *bounced);
unsigned int port_poll(struct be *be, struct be_port *pt);

/* tx.c */
unsigned int vif_tx_burst(struct be *be, struct be_vif *v, unsigned int max_pkts);

/* peek.c */
void peek_release_all(struct be *be, struct be_vif *v);
void peek_age(struct be *be, uint64_t now, uint64_t hold);

/* express.c */
unsigned int vif_tx_express(struct be *be, struct be_vif *v, unsigned int budget, bool *more);

#endif /* NB_BE_INTERNAL_H */
