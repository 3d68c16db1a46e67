/* SPDX-License-Identifier: MIT */
/*
 * Route and plan one packet of a burst, then execute the burst's copy ops
 * and attribute failures: the copy planner (ops that cross no page), the
 * destinations' RX room and reservation, the route cache and its fast path,
 * the switch, and the probes that find which side's grant failed.
 */
#include "be_internal.h"

/* ---- The copy planner ----------------------------------------------------- */

static inline void
op_fill(struct gntdp_gnttab_copy *op, const struct frag *s, uint16_t so, const struct frag *d,
	uint16_t dof, uint16_t len)
{
	op->source.u.gmfn = s->key;
	op->source.domid = s->domid;
	op->source.offset = (uint16_t)(s->off + so);
	op->dest.u.gmfn = d->key;
	op->dest.domid = d->domid;
	op->dest.offset = (uint16_t)(d->off + dof);
	op->len = len;
	op->flags = (uint16_t)((s->domid != GNTDP_DOMID_SELF ? GNTDP_GNTCOPY_SOURCE_GREF : 0) |
			       (d->domid != GNTDP_DOMID_SELF ? GNTDP_GNTCOPY_DEST_GREF : 0));
	op->status = GNTDP_GNTST_GENERAL_ERROR;
}

/*
 * Emit the ops that move the bytes of @p src into @p dst (same total), one
 * per piece that crosses no page on either side. Returns the op count.
 */
unsigned int
plan(struct burst *b, const struct frag *src, unsigned int nsrc, const struct frag *dst,
     unsigned int ndst)
{
	unsigned int i = 0, j = 0, n0 = b->nb_ops;
	uint16_t so = 0, dof = 0;

	while (i < nsrc && j < ndst) {
		uint16_t sl = (uint16_t)(src[i].len - so), dl = (uint16_t)(dst[j].len - dof);
		uint16_t len = sl < dl ? sl : dl;

		if (len > 0)
			op_fill(&b->ops[b->nb_ops++], &src[i], so, &dst[j], dof, len);
		so = (uint16_t)(so + len);
		dof = (uint16_t)(dof + len);
		if (so == src[i].len) {
			i++;
			so = 0;
		}
		if (dof == dst[j].len) {
			j++;
			dof = 0;
		}
	}
	return b->nb_ops - n0;
}

/*
 * RX slots a frame of @p len bytes takes at a vif: whole pages from offset
 * 0, or one page at a staggered offset (rx_first_off) when it fits.
 */
static inline unsigned int
rx_slots(uint32_t len)
{
	return (len + PAGE - 1) / PAGE;
}

/* Refresh a vif's view of its RX requests; false when the vif was disabled for it. */
static bool
rx_refresh(struct be *be, struct be_vif *d, uint32_t prod)
{
	/* Posted requests can only fill answered slots: more than a ring is a runaway index. */
	if (unlikely((uint32_t)(prod - d->rx_rsp) > RING_SIZE)) {
		be_vif_disable(be, d, FATAL_RX_RUNAWAY, "RX req_prod %u, rsp_prod %u", prod, d->rx_rsp);
		return false;
	}
	/* The requests the next bursts will reserve: written by the receiver's core. */
	for (uint32_t k = d->rx_prod_seen - d->rx_cons < RING_SIZE ? d->rx_prod_seen - d->rx_cons : 0;
	     k < prod - d->rx_cons && k < 64; k += RX_SLOTS_PER_LINE)
		rte_prefetch0(&d->rx->ring[GNTDP_NETIF_RING_SLOT(d->rx_cons + k)]);
	d->rx_prod_seen = prod;
	return true;
}

/* Whether vif @p d can take @p need RX slots now (see enum room). */
enum room
rx_room(struct be *be, struct be_vif *d, unsigned int need, enum nb_drop *why)
{
	if (unlikely(d->state != VIF_UP)) {
		*why = DROP_DEST_DOWN;
		return ROOM_DROP;
	}
	/*
	 * Re-read req_prod once per iteration (new buffers, and a runaway index
	 * is caught at once), and whenever the cached view is short.
	 * A1: pairs with the frontend's R1 on the RX req_prod.
	 */
	if (d->rx_seen_iter != be->iter || d->rx_prod_seen - d->rx_cons < need) {
		d->rx_seen_iter = be->iter;
		if (!rx_refresh(be, d, ring_load_acquire(&d->rx->hdr.req_prod)))
			goto down;
	}
	if (likely(d->rx_prod_seen - d->rx_cons >= need))
		goto ok;
	/* Ask for a notification once enough are posted, and look again (F2). */
	CTR_ADD(d->st.rx_arm, 1);
	if (!rx_refresh(be, d, ring_want_requests(&d->rx->hdr, d->rx_cons, need)))
		goto down;
	if (d->rx_prod_seen - d->rx_cons >= need)
		goto ok;
	/*
	 * The wait's start is the clock itself, with its own flag: a wait that
	 * began at this clock (this iteration, any source) has lasted 0, and a
	 * clock that never runs backwards past it cannot wrap the difference.
	 */
	if (!d->rx_waiting) {
		d->rx_waiting = true;
		d->rx_full_since = be->now;
		CTR_ADD(d->st.rx_ring_full, 1);
	} else if (be->now > d->rx_full_since && be->now - d->rx_full_since > be->stall_cycles) {
		d->rx_stalled = true;
	}
	if (d->rx_stalled) {
		*why = DROP_RX_STALLED;
		return ROOM_DROP;
	}
	return ROOM_WAIT;
ok:
	d->rx_waiting = false;
	d->rx_stalled = false;
	return ROOM_OK;
down:
	*why = DROP_DEST_DOWN;
	return ROOM_DROP;
}

/*
 * Plan a packet's delivery to vif @p d: reserve its RX slots and emit the
 * copies from @p src. Room was checked.
 */
static void
plan_to_vif(struct be *be, struct burst *b, struct pkt *p, struct be_vif *d, struct dest *ds,
	    const struct frag *src, unsigned int nsrc)
{
	struct frag pages[NB_RX_SLOTS_MAX];
	uint32_t left = p->len;
	unsigned int k;

	ds->nb_rx = (uint16_t)rx_slots(p->len);
	ds->rx_first = rx_reserve(d, ds->nb_rx);
	ds->first_off = rx_first_off(be, d->rx_shadow[GNTDP_NETIF_RING_SLOT(ds->rx_first)].gref,
				     p->len);
	for (k = 0; k < ds->nb_rx; k++) {
		uint16_t off = k == 0 ? ds->first_off : 0;
		uint32_t l = PAGE - off < left ? PAGE - off : left;

		pages[k].key = d->rx_shadow[GNTDP_NETIF_RING_SLOT(ds->rx_first + k)].gref;
		pages[k].domid = d->domid;
		pages[k].off = off;
		pages[k].len = (uint16_t)l;
		left -= l;
	}
	ds->op_first = (uint16_t)b->nb_ops;
	ds->nb_ops = (uint16_t)plan(b, src, nsrc, pages, ds->nb_rx);
	b->rx_touched |= 1ull << d->idx;
}

/*
 * The common case, without the general loop: the same flow as the previous
 * frame to one vif, one source piece, one RX page with room already seen
 * this iteration. Returns false to take the general path.
 */
static inline bool
fast_to_vif(struct be *be, struct burst *b, struct pkt *p, struct be_vif *d,
	    const struct frag *src)
{
	struct dest *ds;
	struct frag page;
	uint32_t idx;
	uint16_t off;

	if (unlikely(d->state != VIF_UP || d->rx_seen_iter != be->iter ||
		     d->rx_prod_seen == d->rx_cons || p->len > PAGE || p->len > d->max_frame ||
		     b->nb_dests == NELEM(b->dests) || b->nb_ops == NB_MAX_OPS))
		return false;
	idx = rx_reserve(d, 1);
	off = rx_first_off(be, d->rx_shadow[GNTDP_NETIF_RING_SLOT(idx)].gref, p->len);
	ds = &b->dests[b->nb_dests];
	ds->member = d->idx;
	ds->nb_rx = 1;
	ds->rx_first = idx;
	ds->first_off = off;
	ds->op_first = (uint16_t)b->nb_ops;
	ds->nb_ops = 1;
	ds->err = GNTDP_GNTST_OKAY;
	ds->src_err = false;
	page.key = d->rx_shadow[GNTDP_NETIF_RING_SLOT(idx)].gref;
	page.domid = d->domid;
	page.off = off;
	page.len = (uint16_t)p->len;
	op_fill(&b->ops[b->nb_ops++], src, 0, &page, 0, (uint16_t)p->len);
	p->dest_first = (uint16_t)b->nb_dests++;
	p->nb_dests = 1;
	b->rx_touched |= 1ull << d->idx;
	return true;
}

/*
 * Route packet @p p (frame header at @p hdr) entering at member @p src and
 * plan its delivery. Returns 0 (planned, or dropped with p->state set),
 * -EAGAIN (a destination has no RX room yet: do not consume the packet) or
 * -ENOSPC (the burst's arrays are full).
 */
int
route_and_plan(struct be *be, struct burst *b, struct pkt *p, uint16_t src_member,
	       unsigned int bridge, const uint8_t *hdr, const struct frag *src, unsigned int nsrc,
	       bool need_stage)
{
	uint16_t members[NB_MAX_MEMBERS];
	enum nb_drop why = DROP_HAIRPIN;
	unsigned int n, i, nvif = 0, nport = 0, kept = 0;

	struct route_cache *rc = b->rc;

	if (rc->valid && rc->gen == be->sw_gen && hdr_equal(rc->hdr, hdr)) {
		if (likely(rc->n == 1 && !NB_MEMBER_IS_PORT(rc->members[0]) && nsrc == 1) &&
		    fast_to_vif(be, b, p, &be->vifs[rc->members[0]], src))
			return 0;
		n = rc->n;
		why = (enum nb_drop)rc->why;
		memcpy(members, rc->members, n * sizeof(members[0]));
	} else {
		n = sw_route(be, bridge, src_member, hdr, members, &why);
		rc->valid = n <= NB_BRIDGE_MEMBERS_MAX;
		rc->gen = be->sw_gen; /* after sw_route: its own learning is part of the answer */
		memcpy(rc->hdr, hdr, sizeof(rc->hdr));
		rc->n = n;
		rc->why = (uint8_t)why;
		memcpy(rc->members, members, n * sizeof(members[0]));
	}
	/* Room first, for every vif destination, so that nothing is reserved for a packet that waits. */
	for (i = 0; i < n; i++) {
		struct be_vif *d;
		enum room r;

		if (NB_MEMBER_IS_PORT(members[i])) {
			/* A port takes frames up to its MTU; nothing segments a GSO frame. */
			if (unlikely(p->len > be->ports[members[i] - NB_MAX_VIFS].max_frame)) {
				why = DROP_TOO_BIG;
				continue;
			}
			members[kept++] = members[i];
			nport++;
			continue;
		}
		d = &be->vifs[members[i]];
		/* A vif takes frames up to its MTU, GSO ones up to what the protocol carries. */
		if (unlikely(p->len > (p->gso ? GNTDP_NETIF_MAX_TX_SIZE : d->max_frame))) {
			why = DROP_TOO_BIG;
			continue;
		}
		r = rx_room(be, d, rx_slots(p->len), &why);
		if (r == ROOM_WAIT)
			return -EAGAIN;
		if (r == ROOM_OK) {
			members[kept++] = members[i];
			nvif++;
		}
	}
	if (kept == 0) {
		p->state = PKT_DROP;
		p->reason = (uint8_t)why;
		return 0;
	}
	if (b->nb_dests + kept > RTE_DIM(b->dests) ||
	    b->nb_ops + (nvif + 1) * (nsrc + NB_RX_SLOTS_MAX + 8) > NB_MAX_OPS)
		return -ENOSPC;
	if (kept < n) /* some destinations dropped it: count it where it entered */
		p->reason = (uint8_t)why;
	p->dest_first = (uint16_t)b->nb_dests;
	p->nb_dests = (uint16_t)kept;
	for (i = 0; i < kept; i++) {
		struct dest *ds = &b->dests[b->nb_dests++];

		memset(ds, 0, sizeof(*ds));
		ds->member = members[i];
		if (!NB_MEMBER_IS_PORT(members[i]))
			plan_to_vif(be, b, p, &be->vifs[members[i]], ds, src, nsrc);
	}
	/* Wire destinations of a guest's packet: one mbuf chain, shared by reference. */
	if (nport > 0 && need_stage) {
		struct frag mf[NB_PKT_FRAGS_MAX];
		unsigned int nm;

		p->m = mbuf_chain(be, p->len);
		nm = p->m != NULL ? mbuf_frags(be, p->m, mf, NB_PKT_FRAGS_MAX) : 0;
		if (nm == 0) {
			rte_pktmbuf_free(p->m);
			p->m = NULL;
			p->reason = DROP_NO_MBUF;
		} else {
			p->stage_op_first = (uint16_t)b->nb_ops;
			p->stage_nb_ops = (uint16_t)plan(b, src, nsrc, mf, nm);
		}
	}
	return 0;
}

/* ---- Executing and attributing -------------------------------------------- */

bool
exec_ops(struct be *be, struct burst *b)
{
	/* Two TSC reads a burst (up to 64 ops): the copy's own cost, per op, in the reports. */
	uint64_t t0 = rte_rdtsc();
	int16_t acc = 0;
	unsigned int i, n;

	for (i = 0; i < b->nb_ops; i += n) {
		int rc;

		n = b->nb_ops - i < be->batch_ops ? b->nb_ops - i : be->batch_ops;
		rc = gntdp_gnttab_op(b->ctx, be->domid, GNTDP_GNTTABOP_COPY, &b->ops[i], n);
		if (unlikely(rc != 0)) {
			for (unsigned int k = 0; k < n; k++)
				b->ops[i + k].status = GNTDP_GNTST_GENERAL_ERROR;
		}
		CTR_ADD(be->st.calls, 1);
	}
	CTR_ADD(be->st.copy_cycles, rte_rdtsc() - t0);
	CTR_ADD(be->st.ops, b->nb_ops);
	/* One OR over the statuses: a clean burst takes one branch. */
	for (i = 0; i < b->nb_ops; i++)
		acc |= b->ops[i].status;
	return acc != 0;
}

/* First failed status among ops [first, first + n), or 0. */
int16_t
ops_status(const struct burst *b, unsigned int first, unsigned int n)
{
	for (unsigned int i = first; i < first + n; i++) {
		if (b->ops[i].status != GNTDP_GNTST_OKAY)
			return b->ops[i].status;
	}
	return GNTDP_GNTST_OKAY;
}

/*
 * Whether every source grant of @p p still copies: one 1-byte copy per
 * fragment into the scratch frame. Only after a failure (cold).
 */
static __attribute__((noinline)) bool
probe_source(struct be *be, const struct burst *b, const struct pkt *p)
{
	struct gntdp_gnttab_copy ops[NB_PKT_FRAGS_MAX];
	unsigned int n = 0;

	for (unsigned int i = 0; i < p->nb_frags; i++) {
		const struct frag *f = &b->frags[p->frag_first + i];

		if (f->len == 0 || f->domid == GNTDP_DOMID_SELF)
			continue;
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].source.u.ref = (gntdp_grant_ref_t)f->key;
		ops[n].source.domid = f->domid;
		ops[n].source.offset = f->off;
		ops[n].dest.u.gmfn = be->scratch_gfn;
		ops[n].dest.domid = GNTDP_DOMID_SELF;
		ops[n].len = 1;
		ops[n].flags = GNTDP_GNTCOPY_SOURCE_GREF;
		n++;
	}
	CTR_ADD(be->st.probes, n);
	if (n == 0 || gntdp_gnttab_op(b->ctx, be->domid, GNTDP_GNTTABOP_COPY, ops, n) != 0)
		return n == 0;
	for (unsigned int i = 0; i < n; i++) {
		if (ops[i].status != GNTDP_GNTST_OKAY)
			return false;
	}
	return true;
}

/* After a burst with failed ops: mark which sources and destinations failed. */
__attribute__((noinline)) void
attribute_failures(struct be *be, struct burst *b, bool vif_source)
{
	CTR_ADD(be->st.ops_failed, 1);
	for (unsigned int i = 0; i < b->nb_pkts; i++) {
		struct pkt *p = &b->pkts[i];
		bool any = false;

		for (unsigned int k = 0; k < p->nb_dests; k++) {
			struct dest *ds = &b->dests[p->dest_first + k];

			ds->err = ops_status(b, ds->op_first, ds->nb_ops);
			any |= ds->err != GNTDP_GNTST_OKAY;
		}
		if (p->m != NULL && p->stage_nb_ops > 0 &&
		    ops_status(b, p->stage_op_first, p->stage_nb_ops) != GNTDP_GNTST_OKAY)
			any = true;
		if (any && vif_source && !probe_source(be, b, p))
			p->src_bad = true;
	}
}
