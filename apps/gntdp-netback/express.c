/* SPDX-License-Identifier: MIT */
/*
 * vif TX, the express lane: the phases of the general path fused into one
 * pass for single-slot frames of one cached flow to one vif.
 */
#include "be_internal.h"

/* ---- vif TX: the express lane ---------------------------------------------- */

/* After a failed op in the express lane: probe the source, then blame one side (cold). */
static __attribute__((noinline)) void
express_failures(struct be *be, struct be_vif *v, struct be_vif *d, unsigned int n)
{
	struct burst *b = be->b;

	CTR_ADD(be->st.ops_failed, 1);
	for (unsigned int i = 0; i < n; i++) {
		struct xpkt *x = &b->x[i];
		const struct gntdp_gnttab_copy *op = &b->ops[i];
		struct gntdp_gnttab_copy probe;

		x->st = op->status;
		if (x->st == GNTDP_GNTST_OKAY)
			continue;
		memset(&probe, 0, sizeof(probe));
		probe.source = op->source;
		probe.dest.u.gmfn = be->scratch_gfn;
		probe.dest.domid = GNTDP_DOMID_SELF;
		probe.len = 1;
		probe.flags = GNTDP_GNTCOPY_SOURCE_GREF;
		CTR_ADD(be->st.probes, 1);
		x->src_bad = gntdp_gnttab_op(b->ctx, be->domid, GNTDP_GNTTABOP_COPY, &probe, 1) != 0 ||
			     probe.status != GNTDP_GNTST_OKAY;
		if (x->src_bad) {
			CTR_ADD(v->st.drops[DROP_TX_BAD_GREF], 1);
			if (be->conf->bad_gref == BAD_GREF_DISABLE)
				be_vif_disable(be, v, FATAL_TX_BAD_GREF, "TX grant %u: %s",
					       op->source.u.ref, gntdp_gntst_name(x->st));
		} else {
			CTR_ADD(d->st.drops[DROP_RX_BAD_GREF], 1);
			if (be->conf->bad_gref == BAD_GREF_DISABLE)
				be_vif_disable(be, d, FATAL_RX_BAD_GREF, "RX grant %u: %s",
					       op->dest.u.ref, gntdp_gntst_name(x->st));
		}
	}
}

/*
 * The express lane: the phases of vif_tx_burst() fused into one pass for
 * the frames that make up a flow: one slot, no extras, its first page
 * already in the peek cache, the same 12 address bytes as the source's
 * cached route, which names one vif with room. The checks are the general
 * path's (slot copied out once, offset + size, runt); the first frame that
 * fails any of them ends the lane and the general path takes over from it,
 * in ring order. Returns the frames moved.
 */
unsigned int
vif_tx_express(struct be *be, struct be_vif *v, unsigned int budget, bool *more)
{
	const struct route_cache *rc = &v->rc;
	struct burst *b = be->b;
	struct be_vif *d;
	enum nb_drop why;
	uint32_t cons = v->tx_cons, prod, limit, n, old, mtu_lim;
	uint64_t bytes = 0;
	unsigned int fwd = 0;
	bool failed = false;

	*more = true;
	if (!rc->valid || rc->gen != be->sw_gen || rc->n != 1 || NB_MEMBER_IS_PORT(rc->members[0]) ||
	    be->conf->g2g != G2G_DIRECT)
		return 0;
	d = &be->vifs[rc->members[0]];
	/* A1: pairs with the frontend's R1 on req_prod. */
	prod = ring_load_acquire(&v->tx->hdr.req_prod);
	limit = prod - cons;
	if (limit == 0 || limit > RING_SIZE || rx_room(be, d, 1, &why) != ROOM_OK)
		return 0; /* empty, runaway (the general path disables) or no room */
	if (limit > budget)
		limit = budget;
	/* Frames above either MTU leave the lane: the general path drops and counts them. */
	mtu_lim = v->max_frame < d->max_frame ? v->max_frame : d->max_frame;
	if (limit > d->rx_prod_seen - d->rx_cons)
		limit = d->rx_prod_seen - d->rx_cons;
	for (uint32_t k = 0; k < limit; k += TX_SLOTS_PER_LINE)
		rte_prefetch0(&v->tx->ring[GNTDP_NETIF_RING_SLOT(cons + k)]);
	b->ctx = v->ctx;
	for (n = 0; n < limit; n++) {
		union gntdp_netif_tx_sring_entry e;
		const struct gntdp_netif_tx_request *r = &e.req;
		struct peek_ent *pe;
		struct xpkt *x = &b->x[n];
		struct gntdp_gnttab_copy *op = &b->ops[n];
		uint16_t off;
		uint32_t idx;

		slot_read(&v->tx->ring[GNTDP_NETIF_RING_SLOT(cons + n)], &e);
		if (r->flags & ~(GNTDP_NETTXF_CSUM_BLANK | GNTDP_NETTXF_DATA_VALIDATED))
			break;
		if (r->size < NB_ETH_HLEN || (uint32_t)r->offset + r->size > PAGE || r->size > mtu_lim)
			break;
		pe = &v->peek[r->gref & v->peek_mask];
		if (!pe->valid || pe->gref != r->gref || !hdr_equal(pe->va + r->offset, rc->hdr))
			break;
		idx = rx_reserve(d, 1);
		off = rx_first_off(be, d->rx_shadow[GNTDP_NETIF_RING_SLOT(idx)].gref, r->size);
		op->source.u.gmfn = r->gref;
		op->source.domid = v->domid;
		op->source.offset = r->offset;
		op->dest.u.gmfn = d->rx_shadow[GNTDP_NETIF_RING_SLOT(idx)].gref;
		op->dest.domid = d->domid;
		op->dest.offset = off;
		op->len = r->size;
		op->flags = GNTDP_GNTCOPY_SOURCE_GREF | GNTDP_GNTCOPY_DEST_GREF;
		op->status = GNTDP_GNTST_GENERAL_ERROR;
		x->tx_id = r->id;
		x->len = r->size;
		x->rx_idx = idx;
		x->off = off;
		x->rxflags = (r->flags & GNTDP_NETTXF_CSUM_BLANK)
				     ? GNTDP_NETRXF_CSUM_BLANK | GNTDP_NETRXF_DATA_VALIDATED
				     : (r->flags & GNTDP_NETTXF_DATA_VALIDATED ? GNTDP_NETRXF_DATA_VALIDATED : 0);
		x->st = GNTDP_GNTST_OKAY;
		x->src_bad = false;
		bytes += r->size;
	}
	if (n == 0)
		return 0;
	/* A whole lane run is this vif's burst for the iteration; else the general path goes on. */
	*more = n < limit;
	b->nb_ops = n;
	if (unlikely(exec_ops(be, b))) {
		express_failures(be, v, d, n);
		failed = true;
	}
	/* Complete: TX responses in ring order, RX responses in the requests' slots. */
	for (uint32_t i = 0; i < n; i++) {
		const struct xpkt *x = &b->x[i];
		bool ok = x->st == GNTDP_GNTST_OKAY;

		tx_respond(v, cons + i, x->tx_id,
			   x->src_bad ? GNTDP_NETIF_RSP_ERROR : GNTDP_NETIF_RSP_OKAY);
		rx_respond(d, x->rx_idx, x->off, x->rxflags,
			   ok ? (int16_t)x->len : (int16_t)GNTDP_NETIF_RSP_ERROR);
		fwd += ok;
	}
	if (unlikely(failed)) {
		bytes = 0;
		for (uint32_t i = 0; i < n; i++)
			bytes += b->x[i].st == GNTDP_GNTST_OKAY ? b->x[i].len : 0;
	}
	v->tx_cons = cons + n;
	old = v->tx_rsp;
	v->tx_rsp = v->tx_cons;
	if (ring_push_responses(&v->tx->hdr, old, v->tx_rsp))
		CTR_ADD(v->st.tx_notify, 1);
	old = d->rx_rsp;
	d->rx_rsp = d->rx_cons;
	if (ring_push_responses(&d->rx->hdr, old, d->rx_rsp))
		CTR_ADD(d->st.rx_notify, 1);
	/* Per lane run, not per frame. The TX side counts what it consumed. */
	CTR_ADD(v->st.tx_pkts, n);
	CTR_ADD(v->st.tx_slots, n);
	CTR_ADD(v->st.tx_ops, n);
	CTR_ADD(d->st.rx_ops, n);
	CTR_ADD(d->st.rx_pkts, fwd);
	CTR_ADD(d->st.rx_slots, fwd);
	CTR_ADD(d->st.rx_bytes, bytes);
	CTR_ADD(be->st.fwd_pkts, fwd);
	CTR_ADD(be->st.express_pkts, fwd);
	CTR_ADD(be->st.fwd_bytes, bytes);
	CTR_ADD(be->st.deliveries, fwd);
	{
		uint64_t txb = 0;

		for (uint32_t i = 0; i < n; i++)
			txb += b->x[i].len;
		CTR_ADD(v->st.tx_bytes, txb);
	}
	/* The flow's source address stays learned (refreshed at most once a second). */
	sw_touch(be, v->bridge, v->idx, rc->hdr);
	return n;
}
