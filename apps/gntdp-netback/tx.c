/* SPDX-License-Identifier: MIT */
/*
 * vif TX, the general path: snapshot and validate the TX ring, resolve
 * frame headers through the peek cache, stage or route and plan each
 * packet, copy, and answer every slot.
 */
#include "be_internal.h"

/* TX responses for the consumed slots of every packet, in ring order. */
static void
tx_complete(struct be_vif *v, struct burst *b)
{
	uint32_t idx = v->tx_cons;

	for (unsigned int i = 0; i < b->nb_pkts; i++) {
		const struct pkt *p = &b->pkts[i];
		int16_t st = p->state == PKT_ERR || p->src_bad ? GNTDP_NETIF_RSP_ERROR
							       : GNTDP_NETIF_RSP_OKAY;
		uint16_t first_id = b->slots[p->slot_first].req.id;
		bool extra = (b->slots[p->slot_first].req.flags & GNTDP_NETTXF_EXTRA_INFO) != 0;

		for (unsigned int k = 0; k < p->nb_slots; k++) {
			const struct gntdp_netif_tx_request *r = &b->slots[p->slot_first + k].req;

			/* Extras follow the first slot, chained by their MORE flag. */
			if (k > 0 && extra) {
				const struct gntdp_netif_extra_info *x = (const void *)r;

				tx_respond(v, idx++, first_id, GNTDP_NETIF_RSP_NULL);
				extra = (x->flags & GNTDP_NETIF_EXTRA_FLAG_MORE) != 0;
				continue;
			}
			tx_respond(v, idx++, r->id, st);
		}
	}
	v->tx_cons = idx;
}

/* ---- vif TX: validate ------------------------------------------------------ */

/*
 * Validate the packet whose first slot is burst slot @p k (ring index
 * tx_cons + k), with @p avail unconsumed slots in the snapshot. Copies each
 * slot it looks at into b->slots exactly once and fills @p p. Returns
 * FATAL_NONE, or why the vif must be disabled (@p detail says more).
 */
static enum nb_fatal
tx_parse(struct be_vif *v, struct burst *b, unsigned int k, uint32_t avail, struct pkt *p,
	 char *detail, size_t dlen)
{
	const struct gntdp_netif_tx_request *first = &b->slots[k].req;
	uint32_t total, rest = 0;
	unsigned int n = 1, nd = 1, ne = 0;
	uint16_t flags;
	bool ctrl = false, gso = false;

	memset(p, 0, sizeof(*p));
	p->slot_first = (uint16_t)k;
	slot_read(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_cons + k)], &b->slots[k]);
	flags = first->flags;
	total = first->size;
	/* One slot, no extras: most frames. The same checks as below, in a straight line. */
	if (likely(!(flags & (GNTDP_NETTXF_EXTRA_INFO | GNTDP_NETTXF_MORE_DATA)))) {
		struct frag *f = &b->frags[b->nb_frags];

		if (unlikely((uint32_t)first->offset + total > PAGE)) {
			snprintf(detail, dlen, "first slot: offset %u + size %u > 4096",
				 first->offset, total);
			return FATAL_OVERSIZED_SLOT;
		}
		f->key = first->gref;
		f->domid = v->domid;
		f->off = first->offset;
		f->len = (uint16_t)total;
		p->frag_first = (uint16_t)b->nb_frags;
		p->nb_frags = 1;
		p->nb_slots = 1;
		p->len = total;
		if (unlikely(total < NB_ETH_HLEN)) {
			p->state = PKT_ERR;
			p->reason = DROP_RUNT;
		} else if (unlikely(total > v->max_frame)) {
			p->state = PKT_DROP;
			p->reason = DROP_TOO_BIG;
		} else if (flags & (GNTDP_NETTXF_CSUM_BLANK | GNTDP_NETTXF_DATA_VALIDATED)) {
			p->rxflags = (flags & GNTDP_NETTXF_CSUM_BLANK)
					     ? GNTDP_NETRXF_CSUM_BLANK | GNTDP_NETRXF_DATA_VALIDATED
					     : GNTDP_NETRXF_DATA_VALIDATED;
		}
		return FATAL_NONE;
	}
	if (flags & GNTDP_NETTXF_EXTRA_INFO) {
		bool more = true;

		while (more) {
			const struct gntdp_netif_extra_info *x = (const void *)&b->slots[k + n];

			if (k + n >= avail) {
				snprintf(detail, dlen, "extra info slot %u beyond req_prod", n);
				return FATAL_CHAIN_PROD;
			}
			if (ne == NB_EXTRAS_MAX) {
				snprintf(detail, dlen, "more than %u extra info slots", NB_EXTRAS_MAX);
				return FATAL_BAD_EXTRA;
			}
			slot_read(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_cons + k + n)],
				  &b->slots[k + n]);
			n++;
			ne++;
			if (x->type == GNTDP_NETIF_EXTRA_TYPE_NONE ||
			    x->type >= GNTDP_NETIF_EXTRA_TYPE_MAX) {
				snprintf(detail, dlen, "extra info type %u", x->type);
				return FATAL_BAD_EXTRA;
			}
			if (x->type == GNTDP_NETIF_EXTRA_TYPE_GSO) {
				if (x->u.gso.size == 0 ||
				    (x->u.gso.type != GNTDP_NETIF_GSO_TYPE_TCPV4 &&
				     x->u.gso.type != GNTDP_NETIF_GSO_TYPE_TCPV6)) {
					snprintf(detail, dlen, "GSO size %u type %u", x->u.gso.size,
						 x->u.gso.type);
					return FATAL_BAD_GSO;
				}
				gso = true;
			}
			if (x->type == GNTDP_NETIF_EXTRA_TYPE_MCAST_ADD ||
			    x->type == GNTDP_NETIF_EXTRA_TYPE_MCAST_DEL)
				ctrl = true;
			more = (x->flags & GNTDP_NETIF_EXTRA_FLAG_MORE) != 0;
		}
	}
	p->frag_first = (uint16_t)b->nb_frags;
	b->frags[b->nb_frags] = (struct frag){ .key = first->gref, .domid = v->domid,
					       .off = first->offset };
	while (flags & GNTDP_NETTXF_MORE_DATA) {
		const struct gntdp_netif_tx_request *r = &b->slots[k + n].req;

		if (k + n >= avail) {
			snprintf(detail, dlen, "more_data chain of %u slots beyond req_prod", nd);
			return FATAL_CHAIN_PROD;
		}
		if (nd >= NB_SLOTS_FATAL) {
			snprintf(detail, dlen, "more than %u slots in one packet", NB_SLOTS_FATAL);
			return FATAL_CHAIN_SLOTS;
		}
		slot_read(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_cons + k + n)], &b->slots[k + n]);
		n++;
		if ((uint32_t)r->offset + r->size > PAGE) {
			snprintf(detail, dlen, "slot %u: offset %u + size %u > 4096", nd, r->offset,
				 r->size);
			return FATAL_OVERSIZED_SLOT;
		}
		/* Linux netback drops (not disables) a chain bigger than its first size. */
		if (r->size > total - rest && p->reason == 0) {
			p->state = PKT_ERR;
			p->reason = DROP_BAD_SIZE;
		}
		if (p->state != PKT_ERR)
			rest += r->size;
		b->frags[b->nb_frags + nd] = (struct frag){ .key = r->gref, .domid = v->domid,
							    .off = r->offset, .len = r->size };
		nd++;
		flags = r->flags;
	}
	p->nb_slots = (uint16_t)n;
	p->nb_frags = (uint16_t)nd;
	p->len = total;
	b->frags[b->nb_frags].len = (uint16_t)(total - rest);
	if (p->state != PKT_ERR && (uint32_t)first->offset + (total - rest) > PAGE) {
		snprintf(detail, dlen, "first slot: offset %u + size %u > 4096", first->offset,
			 total - rest);
		return FATAL_OVERSIZED_SLOT;
	}
	p->gso = gso;
	if (p->state == PKT_ERR)
		return FATAL_NONE;
	if (nd > NB_SLOTS_MAX) {
		p->state = PKT_ERR;
		p->reason = DROP_TOO_MANY_SLOTS;
	} else if (ctrl) {
		p->state = PKT_CTRL;
	} else if (total < NB_ETH_HLEN) {
		p->state = PKT_ERR;
		p->reason = DROP_RUNT;
	} else if (!gso && total > v->max_frame) {
		/* Above the vif's MTU: consumed (OKAY, as the bridge drops it in Linux), not sent. */
		p->state = PKT_DROP;
		p->reason = DROP_TOO_BIG;
	} else {
		p->state = PKT_FWD;
		/* Checksum state travels to the receiver as netback passes it on. */
		if (first->flags & GNTDP_NETTXF_CSUM_BLANK)
			p->rxflags = GNTDP_NETRXF_CSUM_BLANK | GNTDP_NETRXF_DATA_VALIDATED;
		else if (first->flags & GNTDP_NETTXF_DATA_VALIDATED)
			p->rxflags = GNTDP_NETRXF_DATA_VALIDATED;
	}
	return FATAL_NONE;
}

/* ---- vif TX: the burst ------------------------------------------------------- */

/* A bad TX grant found while resolving: Linux drops the packet; strict mode disables. */
static bool
tx_bad_gref(struct be *be, struct pkt *p, gntdp_grant_ref_t gref, int16_t st,
	    enum nb_fatal *fatal, char *detail, size_t dlen)
{
	if (be->conf->bad_gref == BAD_GREF_DISABLE) {
		*fatal = FATAL_TX_BAD_GREF;
		snprintf(detail, dlen, "TX grant %u: %s", gref, gntdp_gntst_name(st));
		return false;
	}
	p->state = PKT_ERR;
	p->reason = DROP_TX_BAD_GREF;
	return true;
}

/* Stage packet @p p into an mbuf chain (routed from there after the copy). */
static int
tx_stage(struct be *be, struct burst *b, struct be_vif *v, struct pkt *p)
{
	struct frag mf[NB_PKT_FRAGS_MAX];
	unsigned int nm;

	if (b->nb_ops + p->nb_frags + NB_PKT_FRAGS_MAX > NB_MAX_OPS || v->staged.n >= NB_PEND_MAX)
		return -ENOSPC;
	p->m = mbuf_chain(be, p->len);
	nm = p->m != NULL ? mbuf_frags(be, p->m, mf, NB_PKT_FRAGS_MAX) : 0;
	/* GSO marks the staged frame for the MTU checks (no ol_flags: the PMDs ignore it). */
	if (p->m != NULL)
		p->m->tso_segsz = p->gso;
	if (nm == 0) {
		rte_pktmbuf_free(p->m);
		p->m = NULL;
		p->state = PKT_ERR;
		p->reason = DROP_NO_MBUF;
		return 0;
	}
	p->stage_op_first = (uint16_t)b->nb_ops;
	p->stage_nb_ops = (uint16_t)plan(b, &b->frags[p->frag_first], p->nb_frags, mf, nm);
	return 0;
}

/* Snapshot and validate: whole packets, each slot copied out once. Returns slots seen. */
static uint32_t
tx_snapshot(struct be *be, struct be_vif *v, unsigned int max_pkts, enum nb_fatal *fatal,
	    char *detail, size_t dlen)
{
	struct burst *b = be->b;
	uint32_t prod, avail, k = 0;
	bool armed;

	/* A1: pairs with the frontend's R1 on req_prod. */
	prod = ring_load_acquire(&v->tx->hdr.req_prod);
	if (prod == v->tx_cons) {
		prod = ring_final_check_requests(&v->tx->hdr, v->tx_cons, &armed);
		if (armed)
			CTR_ADD(v->st.tx_arm, 1);
		if (prod == v->tx_cons)
			return 0;
	}
	avail = prod - v->tx_cons;
	if (unlikely(avail > RING_SIZE)) {
		*fatal = FATAL_TX_RUNAWAY;
		snprintf(detail, dlen, "TX req_prod %u, req_cons %u", prod, v->tx_cons);
		return 0;
	}
	/*
	 * Ask for every ring line this burst will read at once: they were
	 * written by the frontend's core, and the parse below walks them in
	 * order, one dependent slot at a time.
	 */
	for (k = 0; k < avail && k < max_pkts + NB_SLOTS_FATAL; k += TX_SLOTS_PER_LINE)
		rte_prefetch0(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_cons + k)]);
	k = 0;
	while (b->nb_pkts < max_pkts && k < avail &&
	       b->nb_frags + NB_PKT_FRAGS_MAX <= RTE_DIM(b->frags)) {
		struct pkt *p = &b->pkts[b->nb_pkts];

		*fatal = tx_parse(v, b, k, avail, p, detail, dlen);
		if (*fatal != FATAL_NONE)
			break;
		b->nb_frags += p->nb_frags;
		k += p->nb_slots;
		b->nb_pkts++;
	}
	return k;
}

/*
 * Resolve: the header of each forwardable packet through the peek cache,
 * prefetched for the route phase. Returns how many packets stay in the
 * burst (fewer when a bad grant disables the vif).
 */
static unsigned int
tx_resolve(struct be *be, struct be_vif *v, const uint8_t **hdrs, enum nb_fatal *fatal,
	   char *detail, size_t dlen)
{
	struct burst *b = be->b;

	for (unsigned int i = 0; i < b->nb_pkts; i++) {
		struct pkt *p = &b->pkts[i];
		const struct frag *f = &b->frags[p->frag_first];
		const uint8_t *va;
		int16_t st;

		hdrs[i] = NULL;
		/* A header split over slots (or staged mode): through an mbuf instead. */
		if (p->state != PKT_FWD || be->conf->g2g == G2G_STAGED || f->len < NB_ETH_HLEN)
			continue;
		st = peek(be, v, (gntdp_grant_ref_t)f->key, &va);
		if (unlikely(st != GNTDP_GNTST_OKAY)) {
			if (!tx_bad_gref(be, p, (gntdp_grant_ref_t)f->key, st, fatal, detail, dlen))
				return i; /* packets before it still go; this one disables the vif */
			continue;
		}
		hdrs[i] = va + f->off;
		rte_prefetch0(hdrs[i]);
	}
	return b->nb_pkts;
}

/* Route and plan in ring order, stopping at the first packet that must wait. */
static void
tx_plan(struct be *be, struct be_vif *v, const uint8_t *const *hdrs, unsigned int npk,
	enum nb_fatal *fatal)
{
	struct burst *b = be->b;
	uint64_t bytes = 0, slots = 0, extras = 0, gso = 0, ctrl = 0;
	unsigned int ops0 = b->nb_ops, i;

	for (i = 0; i < npk; i++) {
		struct pkt *p = &b->pkts[i];
		unsigned int o = b->nb_ops;
		int rc = 0;

		if (p->state == PKT_FWD && hdrs[i] != NULL) {
			uint8_t hdr[12];

			/* One read of the guest's header; routing uses only this copy. */
			memcpy(hdr, hdrs[i], sizeof(hdr));
			__asm__ volatile("" ::: "memory");
			rc = route_and_plan(be, b, p, v->idx, v->bridge, hdr,
					    &b->frags[p->frag_first], p->nb_frags, true);
		} else if (p->state == PKT_FWD) {
			rc = tx_stage(be, b, v, p);
		}
		if (rc != 0) {
			b->nb_ops = o;
			*fatal = FATAL_NONE; /* not reached this time: seen again later */
			break;
		}
		bytes += p->len;
		slots += p->nb_frags;
		extras += p->nb_slots - p->nb_frags;
		gso += p->gso;
		ctrl += p->state == PKT_CTRL;
	}
	b->nb_pkts = i;
	/* Per burst, not per packet: one store per counter. */
	CTR_ADD(v->st.tx_ops, b->nb_ops - ops0);
	CTR_ADD(v->st.tx_pkts, i);
	CTR_ADD(v->st.tx_bytes, bytes);
	CTR_ADD(v->st.tx_slots, slots);
	CTR_ADD(v->st.tx_extras, extras);
	if (unlikely(gso + ctrl > 0)) {
		CTR_ADD(v->st.tx_gso, gso);
		CTR_ADD(v->st.tx_ctrl, ctrl);
	}
}

unsigned int
vif_tx_burst(struct be *be, struct be_vif *v, unsigned int max_pkts)
{
	struct burst *b = be->b;
	enum nb_fatal fatal = FATAL_NONE;
	const uint8_t *hdrs[NB_MAX_BURST];
	char detail[96];
	unsigned int npk, i;
	uint32_t old;

	burst_reset(b);
	b->ctx = v->ctx;
	b->rc = &v->rc;
	tx_snapshot(be, v, max_pkts, &fatal, detail, sizeof(detail));
	npk = tx_resolve(be, v, hdrs, &fatal, detail, sizeof(detail));
	tx_plan(be, v, hdrs, npk, &fatal);
	if (b->nb_pkts == 0 && fatal == FATAL_NONE)
		return 0;
	/* Copy. */
	if (b->nb_ops > 0 && unlikely(exec_ops(be, b)))
		attribute_failures(be, b, true);
	/* Complete. Staged mbufs queue up, in order, for routing after this burst. */
	for (i = 0; i < b->nb_pkts; i++) {
		struct pkt *p = &b->pkts[i];

		if (p->m != NULL && p->nb_dests == 0) {
			if (!p->src_bad)
				v->staged.m[v->staged.head + v->staged.n++] = p->m;
			else
				rte_pktmbuf_free(p->m);
			p->m = NULL;
		}
		if (p->src_bad && be->conf->bad_gref == BAD_GREF_DISABLE && fatal == FATAL_NONE) {
			fatal = FATAL_TX_BAD_GREF;
			snprintf(detail, sizeof(detail), "a TX grant of a %u-slot packet failed",
				 p->nb_frags);
		}
	}
	tx_complete(v, b);
	deliver(be, b, v->st.drops);
	old = v->tx_rsp;
	v->tx_rsp = v->tx_cons;
	if (ring_push_responses(&v->tx->hdr, old, v->tx_rsp))
		CTR_ADD(v->st.tx_notify, 1);
	if (fatal != FATAL_NONE)
		be_vif_disable(be, v, fatal, "%s", detail);
	return b->nb_pkts;
}
