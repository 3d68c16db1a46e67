/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_cache_flush (12) as Xen 4.17 implements it on x86 (spec 7.8):
 * the per-op checks and their errnos, the frame found by its machine (I/O)
 * address, a foreign frame accepted only while the caller pins a grant of
 * it, and the x86 cache primitives: clean (and clean+invalidate) succeed,
 * invalidate alone is -EOPNOTSUPP. The cmd's bits >= 12 are the ref the
 * search of the owner's table resumes at (Xen's continuation argument).
 * gntdp has no cache to maintain (coherent memory): a successful flush
 * touches nothing. Xen HEAD builds cache_flush on Arm only (-ENOSYS on
 * x86); docs/semantics.md says why gntdp follows 4.17.
 */
#include <errno.h>

#include "internal.h"

/* Some entry of @owner pinned by @ld whose frame is @pg, searched from *cur_ref. */
static bool
grant_map_exists(struct domain *ld, struct domain *owner, const struct page *pg,
		 unsigned int *cur_ref)
{
	uint32_t n = nr_entries(owner);

	for (uint32_t ref = *cur_ref; ref < n; ref++) {
		struct active_entry *act = &owner->active[ref];
		bool hit;

		spin_lock(&act->lock);
		hit = act->pin != 0 && act->domid == ld->domid && act->page == pg;
		spin_unlock(&act->lock);
		if (hit)
			return true;
	}
	return false;
}

int
op_cache_flush(struct domain *ld, const struct gntdp_gnttab_cache_flush *op, unsigned int *cur_ref)
{
	const uint32_t offset = op->offset, length = op->length, what = op->op;
	struct domain *owner;
	struct page *pg;
	int rc = 0;

	if (offset >= GNTDP_PAGE_SIZE || length > GNTDP_PAGE_SIZE ||
	    offset + length > GNTDP_PAGE_SIZE ||
	    (what & ~(uint32_t)(GNTDP_GNTTAB_CACHE_INVAL | GNTDP_GNTTAB_CACHE_CLEAN)) != 0)
		return -EINVAL; /* GNTTAB_CACHE_SOURCE_GREF included */
	if (length == 0 || what == 0)
		return *cur_ref == 0 ? 0 : -EILSEQ;
	pg = page_by_maddr(ld->gt, op->a.dev_bus_addr);
	if (pg == NULL)
		return -EINVAL; /* not a machine frame */
	owner = atomic_load_explicit(&pg->owner, memory_order_acquire);
	if (owner == NULL) {
		rc = -EPERM; /* grant / status frames, lost pages: no owner with a table (XSA-232) */
	} else if (owner != ld && !grant_map_exists(ld, owner, pg, cur_ref)) {
		rc = -EINVAL;
	} else if ((what & GNTDP_GNTTAB_CACHE_INVAL) && !(what & GNTDP_GNTTAB_CACHE_CLEAN)) {
		rc = -EOPNOTSUPP; /* x86 4.17: invalidate_dcache_va_range */
	}
	page_put(pg);
	return rc;
}
