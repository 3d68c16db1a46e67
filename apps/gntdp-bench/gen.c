/* SPDX-License-Identifier: MIT */
/*
 * Request generation: what a client posts. Per queue, request number seq
 * uses slot seq % depth (slot_frames fixed at setup) and is built from the
 * op mix (a copy, a map or unmap, or one of the invalid kinds), and the
 * slot records what must come back (struct slot). A burst is built as an
 * array of struct bench_op, then written into the backend's own RAM as op
 * arrays, one hypercall per run of one command (hc_submit); a copies-only
 * burst goes straight from the slot templates into the op array
 * (hc_post_copies). run.c reaps the completions.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include <gntdp/client.h>

#include "bench.h"

static inline void
op_init(struct bench_op *r, uint8_t cmd)
{
	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
}

void
fill_copy(struct gntdp_gnttab_copy *c, const struct slot_frames *fr, bool gg, uint16_t src_off,
	  uint16_t dst_off, uint16_t len)
{
	c->source.u.ref = fr->tx_ref;
	c->source.domid = fr->tx_dom;
	c->source.offset = src_off;
	if (gg) {
		c->dest.u.ref = fr->rx_ref;
		c->dest.domid = fr->rx_dom;
		c->flags = GNTDP_GNTCOPY_SOURCE_GREF | GNTDP_GNTCOPY_DEST_GREF;
	} else {
		c->dest.u.gmfn = fr->bf_gfn;
		c->dest.domid = GNTDP_DOMID_SELF;
		c->flags = GNTDP_GNTCOPY_SOURCE_GREF;
	}
	c->dest.offset = dst_off;
	c->len = len;
}

/* Turn a copy request into the invalid op k; sets the slot's offset and length. */
static void
make_invalid_copy(struct bench_op *r, struct slot *sl, const struct slot_frames *fr,
		  enum invalid_kind k)
{
	struct gntdp_gnttab_copy *c = &r->op.copy;

	switch (k) {
	case INV_BAD_REF:
		c->source.u.ref = 0x7FFFFFF0u; /* beyond any table */
		break;
	case INV_CROSS_PAGE:
		/* Valid grants on both sides; the range ends one byte into the next page. */
		if (c->len < 2)
			c->len = 2;
		c->dest.offset = (uint16_t)(GNTDP_PAGE_SIZE - c->len + 1);
		break;
	case INV_RO_DEST:
		c->dest.u.ref = fr->tx_ref; /* granted read-only */
		c->dest.domid = fr->tx_dom;
		break;
	case INV_FOREIGN_FRAME:
		c->flags = GNTDP_GNTCOPY_DEST_GREF; /* source by frame number... */
		c->source.u.gmfn = 0;
		c->source.domid = fr->tx_dom; /* ...of a foreign domain */
		break;
	case INV_LEN0:
		c->source.u.ref = 0xDEADBEEFu;
		c->source.domid = 0x7FF5; /* reserved, unused */
		c->dest.u.ref = 0xFEEDFACEu;
		c->dest.domid = 0x7FF5;
		c->len = 0;
		break;
	case INV_BAD_DOMAIN:
		c->dest.domid = 0x7000; /* below DOMID_FIRST_RESERVED, never created */
		break;
	default:
		break;
	}
	sl->off = c->dest.offset;
	sl->len = c->len;
}

/* Group of a request: unmaps, then maps, then copies, so each burst is at most three hypercalls. */
enum grp { G_UNMAP, G_MAP, G_COPY };

static inline enum grp
class_group(uint8_t cls, uint8_t inv)
{
	if (cls == RK_MAP)
		return G_MAP; /* becomes a map or an unmap in emit_mapunmap */
	if (cls == RK_INVALID)
		return inv == INV_MAP_NOFLAGS ? G_MAP : inv == INV_BAD_HANDLE ? G_UNMAP : G_COPY;
	return G_COPY;
}

/* Fill request and slot for class cls at the queue's head. Returns false if it cannot be posted. */
static bool
emit_one(struct bench *b, struct cqueue *cq, struct bench_op *r, uint8_t cls, uint8_t inv,
	 bool want_unmap, uint64_t tsc)
{
	const struct scenario *sc = &b->sc;
	uint64_t seq = cq->head;
	unsigned int s = (unsigned int)(seq & (cq->depth - 1));
	struct slot *sl = &cq->slots[s];
	const struct slot_frames *fr = &cq->fr[s];

	sl->tsc = tsc;
	sl->expect = GNTDP_GNTST_OKAY;
	if (cls == RK_MAP && want_unmap) {
		struct pending_unmap *pu = &cq->unmap_fifo[cq->unmap_tail++ & (cq->depth - 1)];

		if (unlikely(cq->chk != NULL))
			prepare_map(b, cq, pu->gfn_idx);
		op_init(r, GNTDP_GNTTABOP_UNMAP_GRANT_REF);
		r->op.unmap.host_addr = (cq->map_gfn0 + pu->gfn_idx) << GNTDP_PAGE_SHIFT;
		r->op.unmap.handle = pu->handle;
		sl->kind = RK_UNMAP;
		sl->gfn_idx = pu->gfn_idx;
	} else if (cls == RK_MAP) {
		uint32_t g = cq->gfn_free[--cq->nb_gfn_free];

		if (unlikely(cq->chk != NULL))
			prepare_map(b, cq, g);
		op_init(r, GNTDP_GNTTABOP_MAP_GRANT_REF);
		r->op.map.host_addr = (cq->map_gfn0 + g) << GNTDP_PAGE_SHIFT;
		r->op.map.flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY;
		r->op.map.ref = cq->fr[g].tx_ref;
		r->op.map.dom = cq->fr[g].tx_dom;
		sl->kind = RK_MAP;
		sl->gfn_idx = g;
	} else if (cls == RK_INVALID && inv == INV_MAP_NOFLAGS) {
		op_init(r, GNTDP_GNTTABOP_MAP_GRANT_REF);
		r->op.map.host_addr = (cq->map_gfn0 + s) << GNTDP_PAGE_SHIFT;
		r->op.map.ref = fr->tx_ref;
		r->op.map.dom = fr->tx_dom;
	} else if (cls == RK_INVALID && inv == INV_BAD_HANDLE) {
		op_init(r, GNTDP_GNTTABOP_UNMAP_GRANT_REF);
		r->op.unmap.host_addr = (cq->map_gfn0 + s) << GNTDP_PAGE_SHIFT;
		r->op.unmap.handle = 0xFFFFFFF0u;
	} else {
		uint16_t len = sc->copy_sizes[seq % sc->nb_sizes];
		/* Invalid copies are built on gref->gref so each fails for the intended reason. */
		bool gg = cls == RK_INVALID || b->gg_tab[seq % 100];

		op_init(r, GNTDP_GNTTABOP_COPY);
		fill_copy(&r->op.copy, fr, gg, sc->src_offset, sc->dst_offset, len);
		sl->kind = gg ? RK_COPY_GG : RK_COPY_GF;
		sl->off = sc->dst_offset;
		sl->len = len;
		if (cls == RK_INVALID)
			make_invalid_copy(r, sl, fr, (enum invalid_kind)inv);
		if (sc->verify)
			prepare_dest(b, cq, s,
				     sl->kind == RK_COPY_GF && cls != RK_INVALID ? fr->bf : fr->rx,
				     sl->off, sl->len);
	}
	if (cls == RK_INVALID) {
		sl->kind = RK_INVALID;
		sl->inv = inv;
		sl->expect = invalid_expected_status((enum invalid_kind)inv);
	}
	cq->head++;
	return true;
}

/*
 * Valid copies only (no map/unmap, no invalid share): the common benchmark
 * case, so it copies a per-slot template instead of building each request.
 * Worth about half of the client's cycles per request at 64 B (the client
 * must stay well under the worker's ~40 ns per request to measure it).
 */
static inline const struct gntdp_gnttab_copy *
copy_slot(struct bench *b, struct cqueue *cq, uint64_t seq, uint64_t tsc, uint16_t *len_out)
{
	const struct scenario *sc = &b->sc;
	unsigned int s = (unsigned int)(seq & (cq->depth - 1));
	bool gg = sc->pct_gref_to_gref == 100 || b->gg_tab[seq % 100];
	uint16_t len = sc->nb_sizes == 1 ? sc->copy_sizes[0] : sc->copy_sizes[seq % sc->nb_sizes];
	struct slot *sl = &cq->slots[s];

	sl->tsc = tsc;
	sl->expect = GNTDP_GNTST_OKAY;
	sl->kind = gg ? RK_COPY_GG : RK_COPY_GF;
	sl->len = len;
	sl->off = sc->dst_offset;
	if (sc->verify)
		prepare_dest(b, cq, s, gg ? cq->fr[s].rx : cq->fr[s].bf, sl->off, len);
	*len_out = len;
	return &cq->tmpl[gg ? s : cq->depth + s];
}

/*
 * Map/unmap pairs only (map_unmap = 100): every completed map's unmap first,
 * then maps on free host gfns. Like hc_post_copies, a straight-line path:
 * the client's cycles per request bound this mix, the worker's are few.
 */
static unsigned int
build_mapunmap(struct bench *b, struct cqueue *cq, struct bench_op *ops, unsigned int n,
	       uint64_t tsc)
{
	unsigned int mask = cq->depth - 1, out = 0;
	unsigned int nu = (unsigned int)(cq->unmap_head - cq->unmap_tail), nm;

	nu = nu < n ? nu : n;
	nm = n - nu < cq->nb_gfn_free ? n - nu : cq->nb_gfn_free;
	for (unsigned int i = 0; i < nu; i++, out++) {
		uint64_t seq = cq->head + out;
		const struct pending_unmap *pu = &cq->unmap_fifo[cq->unmap_tail++ & mask];
		struct slot *sl = &cq->slots[seq & mask];
		struct bench_op *r = &ops[out];

		if (unlikely(cq->chk != NULL))
			prepare_map(b, cq, pu->gfn_idx);
		/* Only the op's own struct: hc_submit copies no more of the union. */
		r->cmd = GNTDP_GNTTABOP_UNMAP_GRANT_REF;
		r->op.unmap = (struct gntdp_gnttab_unmap_grant_ref){
			.host_addr = (cq->map_gfn0 + pu->gfn_idx) << GNTDP_PAGE_SHIFT,
			.handle = pu->handle,
		};
		sl->tsc = tsc;
		sl->expect = GNTDP_GNTST_OKAY;
		sl->kind = RK_UNMAP;
		sl->gfn_idx = pu->gfn_idx;
	}
	for (unsigned int i = 0; i < nm; i++, out++) {
		uint64_t seq = cq->head + out;
		uint32_t g = cq->gfn_free[--cq->nb_gfn_free];
		struct slot *sl = &cq->slots[seq & mask];
		struct bench_op *r = &ops[out];

		if (unlikely(cq->chk != NULL))
			prepare_map(b, cq, g);
		r->cmd = GNTDP_GNTTABOP_MAP_GRANT_REF;
		r->op.map = (struct gntdp_gnttab_map_grant_ref){
			.host_addr = (cq->map_gfn0 + g) << GNTDP_PAGE_SHIFT,
			.flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY,
			.ref = cq->fr[g].tx_ref,
			.dom = cq->fr[g].tx_dom,
		};
		sl->tsc = tsc;
		sl->expect = GNTDP_GNTST_OKAY;
		sl->kind = RK_MAP;
		sl->gfn_idx = g;
	}
	cq->head += out;
	return out;
}

/*
 * Build up to n requests at the queue's head, grouped by command. Map/unmap
 * class: an unmap when a completed map waits for one, else a map when a host
 * gfn is free, else nothing (the burst gets shorter). (Copies only go
 * through hc_post_copies instead.)
 */
unsigned int
build_burst(struct bench *b, struct cqueue *cq, struct bench_op *ops, unsigned int n,
	    uint64_t tsc)
{
	uint8_t cls[BENCH_MAX_BURST], inv[BENCH_MAX_BURST];
	unsigned int out = 0, nb_unmap_ready = (unsigned int)(cq->unmap_head - cq->unmap_tail);
	unsigned int nb_gfn = cq->nb_gfn_free;

	if (b->mapunmap_only)
		return build_mapunmap(b, cq, ops, n, tsc);

	for (unsigned int i = 0; i < n; i++) {
		cls[i] = b->class_tab[cq->mix++ % 100];
		inv[i] = cls[i] == RK_INVALID ? b->inv_kinds[cq->inv_rr++ % b->nb_inv_kinds] : 0;
		if (cls[i] == RK_MAP) {
			if (nb_unmap_ready > 0) {
				nb_unmap_ready--;
				inv[i] = 1; /* marks "unmap" for the map/unmap class */
			} else if (nb_gfn > 0) {
				nb_gfn--;
			} else {
				cls[i] = 0xFF; /* nothing to do: skipped */
			}
		}
	}
	for (unsigned int g = G_UNMAP; g <= G_COPY; g++) {
		for (unsigned int i = 0; i < n; i++) {
			bool unmap;

			if (cls[i] == 0xFF)
				continue;
			unmap = cls[i] == RK_MAP && inv[i] == 1;
			if ((cls[i] == RK_MAP ? (unmap ? G_UNMAP : G_MAP)
					      : class_group(cls[i], inv[i])) != g)
				continue;
			emit_one(b, cq, &ops[out++], cls[i], inv[i], unmap, tsc);
		}
	}
	return out;
}

/* ---- into the op arrays, onto the ring ---- */

static inline void
hc_call(struct cqueue *cq, struct gntdp_hcall_sqe *sqe, uint64_t seq, unsigned int s0,
	unsigned int n, uint8_t cmd)
{
	cq->slots[s0].call_n = (uint16_t)n;
	*sqe = (struct gntdp_hcall_sqe){
		.user_data = HC_USER_DATA(seq, n),
		.gaddr = cq->arr_gaddr + (uint64_t)s0 * HC_OP_STRIDE,
		.cmd = cmd,
		.count = n,
	};
}

/* Submit nb hypercalls; returns the ops in those the ring took. */
static inline unsigned int
hc_flush(struct cqueue *cq, const struct gntdp_hcall_sqe *sqes, unsigned int nb)
{
	unsigned int k = cq->cr != NULL ? gntdp_client_submit(cq->cr, sqes, nb)
					: gntdp_dp_hcall_submit_burst(cq->hc, sqes, nb);
	unsigned int done = 0;

	for (unsigned int c = 0; c < k; c++)
		done += sqes[c].count;
	cq->hc_calls += k;
	return done;
}

/*
 * Post n requests (sequence numbers cq->head - n ..) as hypercalls: one per
 * run of the same command that does not wrap the slot ring, so a burst of
 * one command is one hypercall. Each op goes into the backend's own RAM at
 * its slot's place with status HC_STATUS_UNSET. Returns the ops posted.
 */
unsigned int
hc_submit(struct cqueue *cq, const struct bench_op *ops, unsigned int n)
{
	struct gntdp_hcall_sqe sqes[BENCH_MAX_BURST];
	uint64_t seq0 = cq->head - n;
	unsigned int mask = cq->depth - 1, nb = 0, i = 0;

	while (i < n) {
		unsigned int s0 = (unsigned int)((seq0 + i) & mask), j = i;
		uint8_t cmd = ops[i].cmd;
		size_t sz = hc_op_size(cmd);

		while (j < n && ops[j].cmd == cmd && s0 + (j - i) <= mask)
			j++;
		for (unsigned int o = i; o < j; o++) {
			union hc_op tmp, *g;
			struct slot *sl = &cq->slots[(seq0 + o) & mask];
			size_t off = (size_t)s0 * HC_OP_STRIDE + (o - i) * sz;
			bool in_frame = hc_in_frame(off, sz);

			/* Straight into guest memory unless the op crosses a frame. */
			g = in_frame ? hc_at(cq, off) : &tmp;
			if (cmd == GNTDP_GNTTABOP_COPY) {
				g->copy = ops[o].op.copy;
				g->copy.status = HC_STATUS_UNSET;
			} else if (cmd == GNTDP_GNTTABOP_MAP_GRANT_REF) {
				g->map = ops[o].op.map;
				g->map.status = HC_STATUS_UNSET;
			} else {
				g->unmap = ops[o].op.unmap;
				g->unmap.status = HC_STATUS_UNSET;
			}
			if (!in_frame)
				hc_guest_io(cq, off, &tmp, sz, true);
			sl->cmd = cmd;
			sl->call_n = 0;
		}
		hc_call(cq, &sqes[nb++], seq0 + i, s0, j - i, cmd);
		i = j;
	}
	return hc_flush(cq, sqes, nb);
}

/*
 * Valid copies only: each op from its slot's template straight into the op
 * array, one hypercall per burst (two when it wraps the slot ring).
 * Advances cq->head by n; returns the ops posted.
 */
unsigned int
hc_post_copies(struct bench *b, struct cqueue *cq, unsigned int n, uint64_t tsc)
{
	struct gntdp_hcall_sqe sqes[2];
	uint64_t seq0 = cq->head;
	unsigned int mask = cq->depth - 1, nb = 0, i = 0;

	while (i < n) {
		unsigned int s0 = (unsigned int)((seq0 + i) & mask);
		unsigned int j = n - i < mask + 1 - s0 ? n : i + mask + 1 - s0;

		for (unsigned int o = i; o < j; o++) {
			unsigned int s = s0 + (o - i);
			size_t off = (size_t)s * HC_OP_STRIDE; /* a copy op is HC_OP_STRIDE bytes */
			bool in_frame = hc_in_frame(off, sizeof(struct gntdp_gnttab_copy));
			union hc_op tmp, *g = in_frame ? hc_at(cq, off) : &tmp;
			uint16_t len;

			g->copy = *copy_slot(b, cq, seq0 + o, tsc, &len);
			g->copy.len = len;
			g->copy.status = HC_STATUS_UNSET;
			if (!in_frame)
				hc_guest_io(cq, off, &tmp, sizeof(tmp.copy), true);
			cq->slots[s].cmd = GNTDP_GNTTABOP_COPY;
			cq->slots[s].call_n = 0;
		}
		hc_call(cq, &sqes[nb++], seq0 + i, s0, j - i, GNTDP_GNTTABOP_COPY);
		i = j;
	}
	cq->head += n;
	return hc_flush(cq, sqes, nb);
}

