/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_map_grant_ref, GNTTABOP_unmap_grant_ref, GNTTABOP_unmap_and_replace
 * and the maptrack handle allocator (pins and status flags: entry.c).
 *
 * Check order and statuses follow spec sections 5 and 6 step by step; the
 * step numbers in comments refer to the tables there.
 */
#include <stdlib.h>

#include "internal.h"

/* ---- Maptrack ----------------------------------------------------------- */

static inline struct maptrack *
mt_entry(struct domain *d, uint32_t handle)
{
	return &d->mt_frames[handle / GNTDP_MAPTRACK_PER_FRAME][handle % GNTDP_MAPTRACK_PER_FRAME];
}

/*
 * Handles in use (gntdp_gnttab_domain_info's live_mappings) change only
 * under mt_lock: handles a context holds in its batch stack count as in
 * use until the batch gives them back. A plain load and store, not a
 * locked read-modify-write; readers are relaxed snapshots.
 */
static inline void
mt_live_add(struct domain *d, int delta)
{
	unsigned int n = atomic_load_explicit(&d->mt_live, memory_order_relaxed);

	atomic_store_explicit(&d->mt_live, n + (unsigned int)delta, memory_order_relaxed);
}

/*
 * Refill @ctx's empty batch stack with up to @want handles of @d, under
 * mt_lock: the free list's head first; a new frame of 256 only when the
 * list is empty before the first handle (below the limit). The stack ends up in list order (h[n - 1] is the
 * old head), so a batch hands out exactly the handles, in exactly the order,
 * that one mt_lock section per op did. Returns the number taken (0: the
 * domain is at its limit, or out of memory: no_space).
 */
static uint32_t
mt_refill(struct gntdp_gnttab_ctx *ctx, struct domain *d, uint32_t want)
{
	uint32_t got[MT_STACK];
	uint32_t k = 0;

	spin_lock(&d->mt_lock);
	while (k < want) {
		uint32_t h = d->mt_free;

		if (h == MT_FREE_END) {
			/* Grow only for the op that needs a handle now, as one op at a
			 * time would: a batch's later ops must not grow the table early
			 * (maptrack_limit is observable, and may fail in between). */
			if (k != 0)
				break;
			uint32_t limit = atomic_load_explicit(&d->mt_limit, memory_order_relaxed);
			uint32_t f = limit / GNTDP_MAPTRACK_PER_FRAME;
			struct maptrack *frame;

			if (f >= d->mt_max_frames ||
			    (frame = calloc(GNTDP_MAPTRACK_PER_FRAME, sizeof(*frame))) == NULL)
				break;
			/* Chain handles limit .. limit+255 as the free list. */
			for (uint32_t i = 0; i < GNTDP_MAPTRACK_PER_FRAME; i++)
				frame[i].ref = i + 1 < GNTDP_MAPTRACK_PER_FRAME ? limit + i + 1
										 : MT_FREE_END;
			d->mt_frames[f] = frame;
			d->mt_free = limit;
			/* Pairs with the acquire in unmap: the frame pointer is visible first. */
			atomic_store_explicit(&d->mt_limit, limit + GNTDP_MAPTRACK_PER_FRAME,
					      memory_order_release);
			continue;
		}
		d->mt_free = __atomic_load_n(&mt_entry(d, h)->ref, __ATOMIC_RELAXED);
		got[k++] = h;
	}
	mt_live_add(d, (int)k);
	spin_unlock(&d->mt_lock);
	for (uint32_t i = 0; i < k; i++)
		ctx->mt.h[k - 1 - i] = got[i];
	ctx->mt.n = k;
	ctx->mt.d = d;
	return k;
}

/* A handle for the next map op of this batch; MT_FREE_END when none is left. */
static inline uint32_t
mt_get(struct gntdp_gnttab_ctx *ctx, struct domain *d)
{
	uint32_t want = ctx->mt.left;

	if (want != 0)
		ctx->mt.left = want - 1;
	if (unlikely(ctx->mt.n != 0 && ctx->mt.d != d))
		mt_flush(ctx); /* a batch has one caller; never mix two domains' handles */
	if (unlikely(ctx->mt.n == 0)) {
		if (want == 0) /* a caller outside run_ops' map loop: one at a time */
			want = 1;
		if (mt_refill(ctx, d, want < MT_STACK ? want : MT_STACK) == 0)
			return MT_FREE_END;
	}
	return ctx->mt.h[--ctx->mt.n];
}

/*
 * Give every handle on @ctx's batch stack back to its domain's free list:
 * the stack is chained outside the lock (the handles are this context's
 * alone), so the locked section is two stores. h[0] is pushed first, as
 * one mt_put per op pushed them, so h[n - 1] becomes the head.
 */
void
mt_flush(struct gntdp_gnttab_ctx *ctx)
{
	struct domain *d = ctx->mt.d;
	uint32_t n = ctx->mt.n;

	if (n == 0)
		return;
	for (uint32_t i = 1; i < n; i++)
		__atomic_store_n(&mt_entry(d, ctx->mt.h[i])->ref, ctx->mt.h[i - 1], __ATOMIC_RELAXED);
	spin_lock(&d->mt_lock);
	__atomic_store_n(&mt_entry(d, ctx->mt.h[0])->ref, d->mt_free, __ATOMIC_RELAXED);
	d->mt_free = ctx->mt.h[n - 1];
	mt_live_add(d, -(int)n);
	spin_unlock(&d->mt_lock);
	ctx->mt.n = 0;
}

/* Free a handle: onto the batch stack, which mt_flush empties at the batch's end or when full. */
static inline void
mt_put(struct gntdp_gnttab_ctx *ctx, struct domain *d, uint32_t h)
{
	if (unlikely(ctx->mt.n == MT_STACK || (ctx->mt.n != 0 && ctx->mt.d != d)))
		mt_flush(ctx);
	ctx->mt.d = d;
	ctx->mt.h[ctx->mt.n++] = h;
}

/* ---- GNTTABOP_map_grant_ref -------------------------------------------- */

static uint32_t
map_pin_inc(uint32_t flags)
{
	uint32_t inc = 0;

	if (flags & GNTDP_GNTMAP_DEVICE_MAP)
		inc += (flags & GNTDP_GNTMAP_READONLY) ? PIN_DEVR_INC : PIN_DEVW_INC;
	if (flags & GNTDP_GNTMAP_HOST_MAP)
		inc += (flags & GNTDP_GNTMAP_READONLY) ? PIN_HSTR_INC : PIN_HSTW_INC;
	return inc;
}

/* Steps 7-10: validate and pin the entry. Returns a status; on okay *pg is the frame. */
static int16_t
map_pin(struct domain *ld, struct domain *rd, gntdp_grant_ref_t ref, uint32_t flags, uint32_t inc,
	struct page **pg)
{
	struct active_entry *act = &rd->active[ref];
	bool readonly = (flags & GNTDP_GNTMAP_READONLY) != 0;
	int16_t rc = GNTDP_GNTST_OKAY;

	spin_lock(&act->lock);
	if (unlikely(ref >= nr_entries(rd))) { /* 6 again: a version change shrank the table */
		rc = GNTDP_GNTST_BAD_GNTREF;
		goto out;
	}
	/* 7: pinned by another grantee, counter at 128, or a sub-page / transitive copy pin. */
	if (act->pin != 0 && (act->domid != ld->domid || (act->pin & PIN_OVERFLOW_MASK(inc)) != 0 ||
			      act->is_sub_page)) {
		rc = GNTDP_GNTST_GENERAL_ERROR;
		goto out;
	}
	if (act->pin == 0 || (!readonly && (act->pin & (PIN_HSTW_MASK | PIN_DEVW_MASK)) == 0)) {
		rc = pin_set_status(rd, ref, act, readonly, true, ld->domid);
		if (rc != GNTDP_GNTST_OKAY)
			goto out;
		if (act->pin == 0) {
			rc = pin_first(rd, ref, act, ld->domid, readonly);
			if (rc != GNTDP_GNTST_OKAY)
				goto out;
		}
	}
	act->pin += inc;
	*pg = act->page;
out:
	spin_unlock(&act->lock);
	return rc;
}

void
op_map(struct gntdp_gnttab_ctx *ctx, struct domain *ld, struct gntdp_gnttab_map_grant_ref *op)
{
	/* Read guest-written fields once. */
	const uint32_t flags = op->flags;
	const gntdp_grant_ref_t ref = op->ref;
	const uint64_t gfn = op->host_addr >> GNTDP_PAGE_SHIFT;
	uint32_t inc = map_pin_inc(flags);
	struct domain *rd;
	struct page *pg = NULL;
	struct maptrack *mt;
	uint32_t handle;
	int16_t rc;

	if (unlikely(inc == 0)) { /* 1: neither host nor device */
		op->status = GNTDP_GNTST_BAD_GNTREF;
		return;
	}
	if (unlikely(flags & (GNTDP_GNTMAP_APPLICATION_MAP | GNTDP_GNTMAP_CONTAINS_PTE))) {
		op->status = GNTDP_GNTST_GENERAL_ERROR; /* 2: no PTE semantics here */
		return;
	}
	rd = dom_lookup(ld->gt, op->dom); /* 3: DOMID_SELF is not translated */
	if (unlikely(rd == NULL)) {
		op->status = GNTDP_GNTST_BAD_DOMAIN;
		return;
	}
	handle = mt_get(ctx, ld); /* 5 */
	if (unlikely(handle == MT_FREE_END)) {
		op->status = GNTDP_GNTST_NO_SPACE;
		return;
	}
	if (unlikely(ref >= nr_entries(rd))) { /* 6 */
		rc = GNTDP_GNTST_BAD_GNTREF;
		goto free_handle;
	}
	rc = map_pin(ld, rd, ref, flags, inc, &pg); /* 7-10 */
	if (unlikely(rc != GNTDP_GNTST_OKAY))
		goto free_handle;
	if (flags & GNTDP_GNTMAP_HOST_MAP) { /* 13: insert into the caller's physmap */
		uintptr_t expect = 0;
		uintptr_t v = (uintptr_t)pg |
			      ((flags & GNTDP_GNTMAP_READONLY) ? P2M_GRANT_RO : P2M_GRANT_RW);

		if (unlikely((flags & ~(uint32_t)(GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY |
						  GNTDP_GNTMAP_DEVICE_MAP)) != 0 ||
			     gfn >= ld->p2m_size ||
			     !atomic_compare_exchange_strong_explicit(&ld->p2m[gfn], &expect, v,
									 memory_order_release,
									 memory_order_relaxed))) {
			unpin(rd, ref, inc);
			rc = GNTDP_GNTST_GENERAL_ERROR;
			goto free_handle;
		}
	}
	mt = mt_entry(ld, handle);
	__atomic_store_n(&mt->ref, ref, __ATOMIC_RELAXED);
	__atomic_store_n(&mt->rd, rd, __ATOMIC_RELAXED);
	/* Written last: an in-use entry is always complete (XSA-218). */
	atomic_store_explicit(&mt->flags, flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP |
						   GNTDP_GNTMAP_READONLY),
			      memory_order_release);
	op->handle = handle;
	op->dev_bus_addr = pg->iova;
	op->status = GNTDP_GNTST_OKAY;
	return;

free_handle:
	mt_put(ctx, ld, handle);
	op->status = rc;
}

/* ---- GNTTABOP_unmap_grant_ref ------------------------------------------ */

/*
 * Remove a host mapping of @pg at @gfn; false if the slot doesn't hold one.
 * As Xen's translated unmap, any grant mapping of the same frame at that
 * address qualifies, read-only or writable, whichever handle created it.
 */
static bool
host_unmap(struct domain *ld, uint64_t gfn, struct page *pg)
{
	uintptr_t v;

	if (gfn >= ld->p2m_size)
		return false;
	v = atomic_load_explicit(&ld->p2m[gfn], memory_order_relaxed);
	do {
		if (p2m_page(v) != pg || (p2m_type(v) != P2M_GRANT_RO && p2m_type(v) != P2M_GRANT_RW))
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&ld->p2m[gfn], &v, 0, memory_order_acq_rel,
							memory_order_relaxed));
	return true;
}

/*
 * Unmap the parts of @handle the addresses name and drop their pins in the
 * same locked section of the entry (there is no TLB flush to wait for
 * between the two, unlike Xen's unmap_common/_complete); the frame and
 * domain references go after the lock, in unpin_finish().
 */
static int16_t
unmap_one(struct gntdp_gnttab_ctx *ctx, struct domain *ld, uint32_t handle, uint64_t host_addr,
	  uint64_t dev_bus_addr, uint64_t new_addr)
{
	struct unpin_rel rel;
	struct maptrack *mt;
	struct active_entry *act;
	struct domain *rd;
	gntdp_grant_ref_t ref;
	uint32_t flags, keep, inc = 0;
	bool ro;

	/* 1-2: pairs with the release store of mt_limit in mt_refill. */
	if (handle >= atomic_load_explicit(&ld->mt_limit, memory_order_acquire))
		return GNTDP_GNTST_BAD_HANDLE;
	mt = mt_entry(ld, handle);
	flags = atomic_load_explicit(&mt->flags, memory_order_acquire);
	if (flags == 0)
		return GNTDP_GNTST_BAD_HANDLE;
	/*
	 * rd and ref are two loads: if the handle was freed and reissued in
	 * between they may not belong together, so bound ref by rd's table
	 * before indexing (also spec step 5); the re-check under the lock
	 * below rejects the mismatch. rd stays allocated until this batch ends
	 * even if its last pin goes meanwhile (graveyard, domain.c).
	 */
	rd = __atomic_load_n(&mt->rd, __ATOMIC_RELAXED);
	ref = __atomic_load_n(&mt->ref, __ATOMIC_RELAXED);
	if (ref >= nr_entries(rd))
		return GNTDP_GNTST_BAD_HANDLE;
	act = &rd->active[ref];
	spin_lock(&act->lock);
	/*
	 * 6: re-check under the entry lock. A racing unmap of the same handle
	 * either freed it (flags 0, or reissued for another ref) or removed the
	 * other part: then act on what is left (XSA-218: freed exactly once).
	 */
	flags = atomic_load_explicit(&mt->flags, memory_order_relaxed);
	if (flags == 0 || __atomic_load_n(&mt->rd, __ATOMIC_RELAXED) != rd ||
	    __atomic_load_n(&mt->ref, __ATOMIC_RELAXED) != ref) {
		spin_unlock(&act->lock);
		return GNTDP_GNTST_BAD_HANDLE;
	}
	ro = (flags & GNTDP_GNTMAP_READONLY) != 0;
	/* 7: full 64-bit compare (XSA-224). */
	if (dev_bus_addr != 0 && (flags & GNTDP_GNTMAP_DEVICE_MAP) && dev_bus_addr != act->page->iova) {
		spin_unlock(&act->lock);
		return GNTDP_GNTST_BAD_DEV_ADDR;
	}
	keep = flags;
	if (host_addr != 0 && (flags & GNTDP_GNTMAP_HOST_MAP)) { /* 8 */
		/* Translated: unmap_and_replace's new_addr must be 0. */
		if (new_addr != 0 || !host_unmap(ld, host_addr >> GNTDP_PAGE_SHIFT, act->page)) {
			spin_unlock(&act->lock);
			return GNTDP_GNTST_GENERAL_ERROR;
		}
		keep &= ~GNTDP_GNTMAP_HOST_MAP;
		inc += ro ? PIN_HSTR_INC : PIN_HSTW_INC;
	}
	if (dev_bus_addr != 0 && (flags & GNTDP_GNTMAP_DEVICE_MAP)) {
		keep &= ~GNTDP_GNTMAP_DEVICE_MAP;
		inc += ro ? PIN_DEVR_INC : PIN_DEVW_INC;
	}
	/* 9: clear the parts removed; free the handle when nothing remains. */
	if ((keep & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP)) == 0)
		keep = 0;
	atomic_store_explicit(&mt->flags, keep, memory_order_release);
	if (inc == 0) {
		spin_unlock(&act->lock);
		return GNTDP_GNTST_OKAY;
	}
	/* Phase 2 ("complete"): drop the pins of what was removed. */
	unpin_locked(rd, ref, act, inc, &rel);
	spin_unlock(&act->lock);
	if (keep == 0)
		mt_put(ctx, ld, handle);
	unpin_finish(&rel);
	return GNTDP_GNTST_OKAY;
}

void
op_unmap(struct gntdp_gnttab_ctx *ctx, struct domain *ld, struct gntdp_gnttab_unmap_grant_ref *op)
{
	op->status = unmap_one(ctx, ld, op->handle, op->host_addr, op->dev_bus_addr, 0);
}

/* GNTTABOP_unmap_and_replace: the host part only; a translated caller must pass new_addr 0. */
void
op_unmap_and_replace(struct gntdp_gnttab_ctx *ctx, struct domain *ld,
		     struct gntdp_gnttab_unmap_and_replace *op)
{
	op->status = unmap_one(ctx, ld, op->handle, op->host_addr, 0, op->new_addr);
}

/* Domain teardown: release every mapping @d still holds (bounded by its handles). */
void
maptrack_release_all(struct domain *d)
{
	uint32_t limit = atomic_load(&d->mt_limit);

	for (uint32_t h = 0; h < limit; h++) {
		struct maptrack *mt = mt_entry(d, h);
		uint32_t flags = atomic_load(&mt->flags);
		uint32_t inc;
		bool ro;

		if (flags == 0)
			continue;
		ro = (flags & GNTDP_GNTMAP_READONLY) != 0;
		inc = 0;
		if (flags & GNTDP_GNTMAP_HOST_MAP)
			inc += ro ? PIN_HSTR_INC : PIN_HSTW_INC;
		if (flags & GNTDP_GNTMAP_DEVICE_MAP)
			inc += ro ? PIN_DEVR_INC : PIN_DEVW_INC;
		atomic_store(&mt->flags, 0);
		unpin(mt->rd, mt->ref, inc);
	}
	atomic_store(&d->mt_live, 0);
}
