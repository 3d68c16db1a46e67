/* SPDX-License-Identifier: MIT */
/*
 * Completion towards the destinations: RX responses in the requests' own
 * slots, one push per RX ring touched, and the delivery of a whole burst
 * (vifs and ports, drop counters of the source).
 */
#include "be_internal.h"

/* RX responses of one destination vif for packet @p p. Returns true when delivered. */
static bool
rx_complete(struct be *be, struct burst *b, struct be_vif *d, const struct pkt *p,
	    const struct dest *ds)
{
	struct rx_acc *a = &b->acc[d->idx];
	bool ok = ds->err == GNTDP_GNTST_OKAY && !p->src_bad;
	uint32_t left = p->len;

	a->ops += ds->nb_ops;
	if (likely(ds->nb_rx == 1 && ok)) {
		rx_respond(d, ds->rx_first, ds->first_off, p->rxflags, (int16_t)left);
		a->pkts++;
		a->slots++;
		a->bytes += left;
		return true;
	}
	for (unsigned int k = 0; k < ds->nb_rx; k++) {
		uint16_t off = k == 0 ? ds->first_off : 0;
		uint32_t l = PAGE - off < left ? PAGE - off : left;
		uint16_t flags = (uint16_t)((k + 1 < ds->nb_rx ? GNTDP_NETRXF_MORE_DATA : 0) |
					    (k == 0 ? p->rxflags : 0));

		rx_respond(d, ds->rx_first + k, off, flags,
			   ok ? (int16_t)l : (int16_t)GNTDP_NETIF_RSP_ERROR);
		left -= l;
	}
	if (ok) {
		a->pkts++;
		a->slots += ds->nb_rx;
		a->bytes += p->len;
		return true;
	}
	if (!p->src_bad) {
		/* The destination's own grant failed. */
		CTR_ADD(d->st.drops[DROP_RX_BAD_GREF], 1);
		if (be->conf->bad_gref == BAD_GREF_DISABLE)
			be_vif_disable(be, d, FATAL_RX_BAD_GREF, "RX grant of slot %u failed: %d",
				       ds->rx_first, ds->err);
	}
	return false;
}

/* Publish the RX responses of every vif this burst wrote to. */
static void
rx_push_all(struct be *be, struct burst *b)
{
	uint64_t t = b->rx_touched;

	while (t != 0) {
		struct be_vif *d = &be->vifs[__builtin_ctzll(t)];
		struct rx_acc *a = &b->acc[d->idx];
		uint32_t old = d->rx_rsp;

		t &= t - 1;
		CTR_ADD(d->st.rx_pkts, a->pkts);
		CTR_ADD(d->st.rx_bytes, a->bytes);
		CTR_ADD(d->st.rx_slots, a->slots);
		CTR_ADD(d->st.rx_ops, a->ops);
		memset(a, 0, sizeof(*a));
		/* Every reserved request was answered above, so rsp catches up with cons. */
		d->rx_rsp = d->rx_cons;
		if (d->rx != NULL && ring_push_responses(&d->rx->hdr, old, d->rx_rsp))
			CTR_ADD(d->st.rx_notify, 1);
	}
}

/*
 * Deliver every planned packet of the burst: RX responses, mbufs to ports,
 * drop counters of the source (@p src_drops). Returns packets delivered
 * to at least one destination.
 */
unsigned int
deliver(struct be *be, struct burst *b, ctr_t *src_drops)
{
	unsigned int fwd = 0, dl = 0;
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < b->nb_pkts; i++) {
		struct pkt *p = &b->pkts[i];
		unsigned int ok = 0;

		for (unsigned int k = 0; k < p->nb_dests; k++) {
			const struct dest *ds = &b->dests[p->dest_first + k];

			if (!NB_MEMBER_IS_PORT(ds->member))
				ok += rx_complete(be, b, &be->vifs[ds->member], p, ds);
		}
		/* The mbuf reaches the ports only if it was filled (source grants good). */
		if (p->m != NULL && !p->src_bad &&
		    (p->stage_nb_ops == 0 ||
		     ops_status(b, p->stage_op_first, p->stage_nb_ops) == GNTDP_GNTST_OKAY))
			ok += to_ports(b, p);
		if (p->m != NULL) {
			rte_pktmbuf_free(p->m); /* not sent: a consumed source or unused staging mbuf */
			p->m = NULL;
		}
		if (p->src_bad)
			CTR_ADD(src_drops[DROP_TX_BAD_GREF], 1);
		else if (p->reason != DROP_NONE)
			CTR_ADD(src_drops[p->reason], 1);
		if (ok > 0) {
			fwd++;
			dl += ok;
			bytes += p->len;
		}
	}
	CTR_ADD(be->st.fwd_pkts, fwd);
	CTR_ADD(be->st.fwd_bytes, bytes);
	CTR_ADD(be->st.deliveries, dl);
	rx_push_all(be, b);
	port_flush(be, b);
	return fwd;
}
