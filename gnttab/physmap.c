/* SPDX-License-Identifier: MIT */
/*
 * Growing and shrinking a domain's physmap at run time, as Xen's
 * XENMEM_populate_physmap and XENMEM_decrease_reservation do, and a
 * memory-safe query of one slot (gntdpd's cross-process host maps,
 * docs/daemon.md "Share segments").
 *
 * Both changes go through P2M_RESERVED, the state a transfer uses for a
 * slot it claimed: readers treat it as empty, and nothing but its claimant
 * writes it. Populate claims every slot of its range from empty before it
 * allocates, so it either gets the whole range or changes nothing.
 * Depopulate claims every slot from its RAM value (keeping the page
 * pointer in the reserved value), clears the pages' owner, waits for a
 * grace period (no context still holds a page pointer it read from the old
 * slot without a reference), and only then empties the slots and drops the
 * allocation references. A frame still pinned, mapped or held keeps its
 * reference, so it and its segment live on until that last reference goes
 * (page_put -> seg_put).
 */
#include <errno.h>

#include "internal.h"

/* Most frames one populate call may add (4 GiB): bounds the claim loops. */
#define POPULATE_MAX (1u << 20)

/* Undo the claims of populate on [gfn, gfn + n): back to empty. */
static void
unclaim(struct domain *d, uint64_t gfn, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		atomic_store_explicit(&d->p2m[gfn + i], 0, memory_order_release);
}

/* The live domain whose physmap range [gfn, gfn + nb_frames) a call changes. */
static int
range_lookup(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn, uint32_t nb_frames,
	     struct domain **out)
{
	struct domain *d;

	if (gt == NULL)
		return -EINVAL;
	d = dom_lookup(gt, domid);
	if (d == NULL || atomic_load(&d->dying))
		return -ESRCH;
	if (nb_frames == 0 || nb_frames > POPULATE_MAX || gfn >= d->p2m_size ||
	    nb_frames > d->p2m_size - gfn)
		return -EINVAL;
	*out = d;
	return 0;
}

int
gntdp_domain_populate(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn,
		      uint32_t nb_frames, void **va_out)
{
	struct domain *d;
	struct segment *seg;
	int rc;

	rc = range_lookup(gt, domid, gfn, nb_frames, &d);
	if (rc != 0)
		return rc;
	/* Claim every slot first: a concurrent host map into the range makes one fail. */
	for (uint32_t i = 0; i < nb_frames; i++) {
		uintptr_t expect = 0;

		if (!atomic_compare_exchange_strong(&d->p2m[gfn + i], &expect,
						    (uintptr_t)P2M_RESERVED)) {
			unclaim(d, gfn, i);
			return -EBUSY;
		}
	}
	seg = seg_alloc(gt, nb_frames, d->socket);
	if (seg == NULL) {
		unclaim(d, gfn, nb_frames);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nb_frames; i++)
		atomic_store_explicit(&seg->pages[i].owner, d, memory_order_relaxed);
	atomic_fetch_add(&d->owned_pages, nb_frames);
	/* Publish: the owner stores above are visible to whoever reads the slot (acquire in
	 * p2m_ram_page, page_get). */
	for (uint32_t i = 0; i < nb_frames; i++)
		atomic_store_explicit(&d->p2m[gfn + i], (uintptr_t)&seg->pages[i] | P2M_RAM,
				      memory_order_release);
	if (va_out != NULL)
		*va_out = seg->va;
	/* The segment now lives as long as its pages: drop the creator's count. */
	seg_put(seg);
	return 0;
}

/* Phase 1 of depopulate: each slot from RAM owned by @d to reserved (pointer kept). */
static int
depop_claim(struct domain *d, uint64_t gfn, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uintptr_t v = atomic_load_explicit(&d->p2m[gfn + i], memory_order_acquire);
		struct page *pg = p2m_page(v);

		if (p2m_type(v) != P2M_RAM ||
		    atomic_load_explicit(&pg->owner, memory_order_relaxed) != d ||
		    !atomic_compare_exchange_strong(&d->p2m[gfn + i], &v,
						    (uintptr_t)pg | P2M_RESERVED)) {
			/* Put back what was claimed: the domain's own racing transfer, or a
			 * range that was not all RAM. Nothing was visible but bad_page. */
			for (uint32_t j = 0; j < i; j++) {
				uintptr_t r = atomic_load(&d->p2m[gfn + j]);

				atomic_store_explicit(&d->p2m[gfn + j],
						      (uintptr_t)p2m_page(r) | P2M_RAM,
						      memory_order_release);
			}
			return -EINVAL;
		}
	}
	return 0;
}

int
gntdp_domain_depopulate(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn,
			uint32_t nb_frames)
{
	struct domain *d;
	int rc;

	rc = range_lookup(gt, domid, gfn, nb_frames, &d);
	if (rc == 0)
		rc = depop_claim(d, gfn, nb_frames);
	if (rc != 0)
		return rc;
	/* Ownership goes first: page_get (pin, frame hold) rechecks it after taking its
	 * reference, and a cached frame-mode hold rechecks it on every hit (copy.c). */
	for (uint32_t i = 0; i < nb_frames; i++) {
		struct page *pg = p2m_page(atomic_load(&d->p2m[gfn + i]));

		atomic_store_explicit(&pg->owner, NULL, memory_order_release);
	}
	atomic_fetch_sub(&d->owned_pages, nb_frames);
	/* Grace period: a context that read the RAM value before the claim either took its
	 * reference already (page_get) or has left its batch. Then the allocation
	 * references can go. */
	qsbr_wait(gt);
	for (uint32_t i = 0; i < nb_frames; i++) {
		uintptr_t v = atomic_exchange(&d->p2m[gfn + i], 0);

		page_put(p2m_page(v));
	}
	return 0;
}

/* Whether @pg is a page of a live segment. Under gt->seg_lock. */
static bool
page_in_live_segment(struct gntdp_gnttab *gt, const struct page *pg)
{
	for (const struct segment *seg = gt->segs; seg != NULL; seg = seg->next) {
		if (pg >= &seg->pages[0] && pg < &seg->pages[seg->nb_frames])
			return true;
	}
	return false;
}

int
gntdp_domain_p2m_query(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn,
		       enum gntdp_p2m_kind *kind, void **va)
{
	enum gntdp_p2m_kind k = GNTDP_P2M_EMPTY;
	struct domain *d;
	void *frame = NULL;
	int rc = 0;

	if (gt == NULL || kind == NULL)
		return -EINVAL;
	ctl_enter(gt);
	d = dom_lookup(gt, domid);
	if (d == NULL) {
		rc = -ESRCH;
	} else if (gfn >= d->p2m_size) {
		rc = -EINVAL;
	} else {
		uintptr_t v = atomic_load_explicit(&d->p2m[gfn], memory_order_acquire);
		struct page *pg = p2m_page(v);

		k = (enum gntdp_p2m_kind)p2m_type(v);
		if (k == GNTDP_P2M_RAM || k == GNTDP_P2M_GRANT_RO || k == GNTDP_P2M_GRANT_RW) {
			/* A grant's page may be unmapped and freed by a running context
			 * meanwhile: read it only if its segment is still live (seg_put
			 * unlinks under the same lock before it frees). */
			spin_lock(&gt->seg_lock);
			if (page_in_live_segment(gt, pg) &&
			    atomic_load_explicit(&pg->refs, memory_order_relaxed) != 0)
				frame = pg->va;
			spin_unlock(&gt->seg_lock);
			if (frame == NULL)
				k = GNTDP_P2M_EMPTY;
		} else {
			k = GNTDP_P2M_EMPTY;
		}
	}
	ctl_leave(gt);
	*kind = k;
	if (va != NULL)
		*va = frame;
	return rc;
}
