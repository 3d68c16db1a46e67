/* SPDX-License-Identifier: MIT */
/*
 * The hostile client's hypercalls (docs/stress.md "Hypercalls"): one call
 * per op of a raw record (struct raw_call), each with the rc and statuses
 * it must get. Random ops of random commands with their numbers nudged
 * towards real objects; calls the hypercall entry refuses whole (flags,
 * commands, counts, op arrays outside the caller's RAM); an array that runs
 * off the RAM after its first op; frame lists outside the RAM; and, in
 * concurrent mode, ops the client rewrites while the call is in flight.
 */
#include <string.h>

#include "gen.h"

static const gntdp_domid_t real_doms[] = {1,      2,     3,     DOM_G1,    DOM_G2,          DOM_VG,
					  DOM_VC, DOM_H, DOM_P, DOM_STALL, GNTDP_DOMID_SELF};

/* Keep a frame-mode gfn of the hostile client off its own op area. */
static uint64_t
off_area(const struct sim *s, const struct qmodel *q, uint64_t gfn)
{
	uint32_t lo = s->ws.queues[q->qid].op_gfn;

	return gfn >= lo && gfn < (uint64_t)lo + OPA_FRAMES && lo > 0 ? gfn % lo : gfn;
}

/* The commands the core takes with count 1 only (docs/hcall.md: others -EINVAL). */
static bool
count_one_only(uint32_t cmd)
{
	return cmd_one_by_one((uint8_t)cmd) && cmd != GNTDP_GNTTABOP_CACHE_FLUSH;
}

/*
 * One hostile hypercall: a random op of a random command, its numbers nudged towards real
 * objects so that some of it reaches deep checks, or a call the entry refuses as a whole
 * (flags, commands, counts, op arrays outside the caller's RAM, an array that runs off its
 * RAM after its first op), frame lists outside the RAM, and (concurrent mode) an op the
 * client rewrites while the call is in flight.
 */
void
build_garbage(struct sim *s, struct qmodel *q, uint32_t i)
{
	struct raw_call *r = (struct raw_call *)q->cur.ops + i;
	struct op_meta *m = &q->cur.meta[i];
	uint64_t *w = (uint64_t *)(void *)r->op;
	uint32_t what = rng_below(&q->rng, 100);
	union {
		struct gntdp_gnttab_map_grant_ref map;
		struct gntdp_gnttab_unmap_grant_ref unmap;
		struct gntdp_gnttab_setup_table setup_table;
		struct gntdp_gnttab_query_size query_size;
		struct gntdp_gnttab_transfer transfer;
		struct gntdp_gnttab_copy copy;
	} *op = (void *)r->op;

	memset(r, 0, sizeof(*r));
	for (unsigned int k = 0; k < OPA_SLOT / 8; k++)
		w[k] = rng_next(&q->rng);
	r->count = 1;
	r->gaddr = GADDR_SLOT;
	r->cmd = rng_below(&q->rng, s->v2.on ? 13 : 7);
	m->kind = K_GARBAGE;
	if (what < 6) {
		/* Non-zero flags or reserved word: the ring refuses it, nothing runs. */
		if (rng_below(&q->rng, 2))
			r->flags = 1u << rng_below(&q->rng, 32);
		else
			r->rsvd = 1 + (uint32_t)rng_below(&q->rng, UINT32_MAX);
		m->kind = K_HC_FLAGS;
		m->mask = M_GENERAL | RC_EINVAL;
		return;
	}
	if (what < 12) {
		/* Not a command: above 12 -ENOSYS, bits 12 and up -EINVAL (before any read). */
		m->kind = K_HC_BAD_CMD;
		if (rng_below(&q->rng, 2)) {
			r->cmd = 13 + rng_below(&q->rng, 4096 - 13);
			m->mask = M_GENERAL | RC_ENOSYS;
		} else {
			r->cmd = 4096 + rng_below(&q->rng, UINT32_MAX - 4096);
			/* Not cache_flush: its bits 12 and up are a continuation's start. */
			if ((r->cmd & GNTDP_GNTTABOP_CMD_MASK) == GNTDP_GNTTABOP_CACHE_FLUSH)
				r->cmd ^= 1;
			m->mask = M_GENERAL | RC_EINVAL;
		}
		return;
	}
	if (what < 15) {
		r->count = 0x80000000u + rng_below(&q->rng, 0x7fffffff); /* > INT_MAX */
		m->kind = K_HC_BAD_COUNT;
		m->mask = M_GENERAL | RC_EINVAL;
		return;
	}
	if (what < 18 && count_one_only(r->cmd)) {
		r->count = rng_below(&q->rng, 2) ? 0 : 2 + rng_below(&q->rng, 100);
		m->kind = K_HC_BAD_COUNT;
		m->mask = M_GENERAL | RC_EINVAL;
		return;
	}
	if (what < 26) {
		/* The op array outside the caller's RAM: -EFAULT, nothing runs. */
		r->gaddr =
			rng_below(&q->rng, 5) == 0
				? (uint64_t)(q->ds->nr_frames +
					     rng_below(&q->rng, q->ds->p2m_size - q->ds->nr_frames))
					  << GNTDP_PAGE_SHIFT
				: bad_gaddr(q);
		if (r->gaddr == GADDR_HOST || rng_below(&q->rng, 2) || count_one_only(r->cmd))
			r->count = 1;
		else
			r->count = 1 + rng_below(&q->rng, 64);
		m->kind = K_HC_BAD_ARRAY;
		m->mask = M_GENERAL | RC_EFAULT;
		if (s->conf->selftest_hcall && r->gaddr == GADDR_HOST && s->nrec >= 20 &&
		    !s->selftest_done && world_dom_alive(s->wa, q->domid)) {
			m->mask = M_OKAY | RC_OK; /* --selftest-hcall: a deliberately wrong one */
			s->selftest_done = true;
		}
		return;
	}
	if (what < 28 && !count_one_only(r->cmd) && r->cmd != GNTDP_GNTTABOP_CACHE_FLUSH) {
		/* Nothing to run: 0 (or -ESRCH for a dead caller). */
		r->count = 0;
		m->kind = K_HC_EMPTY;
		m->mask = M_OKAY | RC_OK;
		return;
	}
	m->mask = spec_mask((uint8_t)r->cmd) | RC_OK;
	if (r->cmd >= GNTDP_GNTTABOP_UNMAP_AND_REPLACE) {
		v2_garbage(s, q, r, m);
		return;
	}
	switch (r->cmd) {
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		op->map.dom = real_doms[rng_below(&q->rng, sizeof(real_doms) / 2)];
		op->map.ref = rng_below(&q->rng, 1200);
		op->map.flags &= 0x1f;
		op->map.host_addr &= 0x1ffffful;
		break;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		op->unmap.handle = rng_below(&q->rng, 1100);
		op->unmap.host_addr &= 0x1ffffful;
		break;
	case GNTDP_GNTTABOP_SETUP_TABLE:
		op->setup_table.dom = real_doms[rng_below(&q->rng, sizeof(real_doms) / 2)];
		op->setup_table.nr_frames =
			rng_below(&q->rng, 3) ? rng_below(&q->rng, 8) : (uint32_t)rng_next(&q->rng);
		/* A list in the op area, or outside the RAM: the checks run, the table may
		 * grow, then the write faults (Xen, translated caller: bad_virt_addr, rc 0). */
		op->setup_table.frame_list =
			(gntdp_xen_pfn_t *)(uintptr_t)(rng_below(&q->rng, 4) ? GADDR_SLOT
									     : bad_gaddr(q));
		if ((uintptr_t)op->setup_table.frame_list != GADDR_SLOT) {
			m->kind = K_HC_BAD_LIST;
			if (op->setup_table.nr_frames > 0)
				m->mask |= M_BAD_VIRT;
		}
		break;
	case GNTDP_GNTTABOP_DUMP_TABLE:
	case GNTDP_GNTTABOP_QUERY_SIZE:
		op->query_size.dom = real_doms[rng_below(&q->rng, sizeof(real_doms) / 2)];
		break;
	case GNTDP_GNTTABOP_TRANSFER:
		op->transfer.mfn = off_area(s, q, rng_below(&q->rng, 64));
		op->transfer.domid = real_doms[rng_below(&q->rng, sizeof(real_doms) / 2)];
		op->transfer.ref = rng_below(&q->rng, 1200);
		break;
	default: /* copy */
		op->copy.source.domid = real_doms[rng_below(&q->rng, sizeof(real_doms) / 2)];
		op->copy.dest.domid = real_doms[rng_below(&q->rng, sizeof(real_doms) / 2)];
		op->copy.source.u.ref = rng_below(&q->rng, 1200);
		op->copy.dest.u.ref = rng_below(&q->rng, 1200);
		op->copy.flags &= 3;
		if (!(op->copy.flags & GNTDP_GNTCOPY_SOURCE_GREF))
			op->copy.source.u.gmfn = off_area(s, q, op->copy.source.u.gmfn);
		if (!(op->copy.flags & GNTDP_GNTCOPY_DEST_GREF))
			op->copy.dest.u.gmfn = off_area(s, q, op->copy.dest.u.gmfn);
		op->copy.len &= 0x1fff;
		op->copy.source.offset &= 0x1fff;
		op->copy.dest.offset &= 0x1fff;
		break;
	}
	if ((r->cmd == GNTDP_GNTTABOP_COPY || r->cmd == GNTDP_GNTTABOP_UNMAP_GRANT_REF) &&
	    what < 31 && !q->end_used) {
		/* The array runs off the RAM after its first op: that one ran, then -EFAULT. */
		q->end_used = true; /* one per record: the calls share the place */
		r->gaddr = GADDR_END;
		r->count = 2;
		m->kind = K_HC_RUNOFF;
		m->mask = (m->mask & M_STATUS_ALL) | RC_EFAULT;
	} else if ((r->cmd == GNTDP_GNTTABOP_COPY || r->cmd == GNTDP_GNTTABOP_UNMAP_GRANT_REF) &&
		   s->conc && what >= 90) {
		/* Rewritten while in flight (conc.c): whatever the worker fetched runs. */
		m->aux2 |= RAW_SCRIBBLE;
		m->kind = K_HC_SCRIBBLE;
		m->mask = spec_mask((uint8_t)r->cmd) | RC_OK;
	}
}
