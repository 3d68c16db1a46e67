/* SPDX-License-Identifier: MIT */
/*
 * Table management (setup_table, query_size, dump_table) and page transfer.
 * Spec sections 7 and 9.
 */
#include <string.h>

#include "internal.h"

/* Resolve @dom (DOMID_SELF allowed) with the XSM "target" rule: self or a privileged caller. */
int16_t
target_domain(struct domain *ld, gntdp_domid_t dom, struct domain **out)
{
	struct domain *d = dom == GNTDP_DOMID_SELF ? ld : dom_lookup(ld->gt, dom);

	if (d == NULL)
		return GNTDP_GNTST_BAD_DOMAIN;
	if (d != ld && !ld->privileged)
		return GNTDP_GNTST_PERMISSION_DENIED;
	*out = d;
	return GNTDP_GNTST_OKAY;
}

void
op_setup_table(struct domain *ld, struct gntdp_gnttab_setup_table *op)
{
	const uint32_t want = op->nr_frames;
	gntdp_xen_pfn_t *list = op->frame_list;
	struct domain *d;
	uint32_t cur;
	int16_t rc = target_domain(ld, op->dom, &d);

	if (rc != GNTDP_GNTST_OKAY) {
		op->status = rc;
		return;
	}
	if (want > d->max_grant_frames) {
		op->status = GNTDP_GNTST_GENERAL_ERROR;
		return;
	}
	spin_lock(&d->gt_lock);
	cur = atomic_load_explicit(&d->nr_grant_frames, memory_order_relaxed);
	if (want > cur) {
		/* New frames start empty; publish the size only after zeroing. */
		memset((uint8_t *)d->gt_seg->va + (size_t)cur * GNTDP_PAGE_SIZE, 0,
		       (size_t)(want - cur) * GNTDP_PAGE_SIZE);
		if (gt_version(d) == 2) { /* v2: the status frames grow with the table */
			uint32_t scur = atomic_load_explicit(&d->nr_status_frames,
							     memory_order_relaxed);
			uint32_t swant = STATUS_FRAMES(want);

			memset((uint8_t *)d->st_seg->va + (size_t)scur * GNTDP_PAGE_SIZE, 0,
			       (size_t)(swant - scur) * GNTDP_PAGE_SIZE);
			atomic_store_explicit(&d->nr_status_frames, swant, memory_order_release);
		}
		atomic_store_explicit(&d->nr_grant_frames, want, memory_order_release);
	}
	spin_unlock(&d->gt_lock);
	/* A translated caller's frame list faults only when written: after the growth. */
	if (list == NULL && want != 0) {
		op->status = GNTDP_GNTST_BAD_VIRT_ADDR;
		return;
	}
	for (uint32_t i = 0; i < want; i++)
		list[i] = d->gt_seg->pages[i].mfn;
	op->status = GNTDP_GNTST_OKAY;
}

void
op_query_size(struct domain *ld, struct gntdp_gnttab_query_size *op)
{
	struct domain *d;
	int16_t rc = target_domain(ld, op->dom, &d);

	if (rc == GNTDP_GNTST_OKAY) {
		op->nr_frames = atomic_load_explicit(&d->nr_grant_frames, memory_order_acquire);
		op->max_nr_frames = d->max_grant_frames;
	}
	op->status = rc;
}

/* ---- dump_table -------------------------------------------------------- */

static void
dump_entries(struct domain *d)
{
	uint32_t ver = gt_version(d);
	uint32_t n = nr_entries_v(d, ver);

	for (uint32_t ref = 0; ref < n; ref++) {
		uint32_t w = __atomic_load_n(hdr_word(d, ver, ref), __ATOMIC_ACQUIRE);
		struct active_entry *act = &d->active[ref];
		uint16_t status = 0;
		uint32_t pin;
		uint64_t frame;
		gntdp_domid_t adom;

		spin_lock(&act->lock);
		pin = act->pin;
		adom = act->domid;
		if (ver == 2)
			status = __atomic_load_n(&d->status[ref], __ATOMIC_RELAXED);
		spin_unlock(&act->lock);
		if (WORD_FLAGS(w) == 0 && pin == 0 && status == 0)
			continue;
		frame = entry_frame(d, ver, ref);
		gt_log(d->gt, GNTDP_LOG_INFO,
		       "d%u ref %5u: flags 0x%04x status 0x%04x grantee d%u frame 0x%llx | pin "
		       "0x%08x (hstw %u hstr %u devw %u devr %u) by d%u",
		       d->domid, ref, WORD_FLAGS(w), status, WORD_DOMID(w), (unsigned long long)frame,
		       pin, pin & 0xff, (pin >> 8) & 0xff, (pin >> 16) & 0xff, pin >> 24,
		       pin != 0 ? adom : 0);
	}
}

static void
dump_maptrack(struct domain *d)
{
	uint32_t limit = atomic_load_explicit(&d->mt_limit, memory_order_acquire);

	for (uint32_t h = 0; h < limit; h++) {
		struct maptrack *mt =
			&d->mt_frames[h / GNTDP_MAPTRACK_PER_FRAME][h % GNTDP_MAPTRACK_PER_FRAME];
		uint32_t flags = atomic_load_explicit(&mt->flags, memory_order_acquire);

		if (flags == 0)
			continue;
		gt_log(d->gt, GNTDP_LOG_INFO, "d%u handle %u: d%u ref %u flags%s%s%s", d->domid, h,
		       __atomic_load_n(&mt->rd, __ATOMIC_RELAXED)->domid,
		       __atomic_load_n(&mt->ref, __ATOMIC_RELAXED),
		       (flags & GNTDP_GNTMAP_HOST_MAP) ? " host" : "",
		       (flags & GNTDP_GNTMAP_DEVICE_MAP) ? " device" : "",
		       (flags & GNTDP_GNTMAP_READONLY) ? " readonly" : "");
	}
}

void
op_dump_table(struct domain *ld, struct gntdp_gnttab_dump_table *op)
{
	struct domain *d;
	int16_t rc = target_domain(ld, op->dom, &d);

	if (rc == GNTDP_GNTST_OKAY) {
		gt_log(d->gt, GNTDP_LOG_INFO,
		       "grant table of d%u: v%u, %u/%u frames (%u entries), maptrack %u handles, %u live",
		       d->domid, gt_version(d), atomic_load(&d->nr_grant_frames), d->max_grant_frames,
		       nr_entries(d), atomic_load(&d->mt_limit), atomic_load(&d->mt_live));
		dump_entries(d);
		dump_maptrack(d);
		gt_log(d->gt, GNTDP_LOG_INFO, "end of grant table of d%u", d->domid);
	}
	op->status = rc;
}

/* ---- transfer ------------------------------------------------------------ */

/*
 * Steal @gfn from @ld: it must be RAM @ld owns with no reference but the
 * allocation one (a pinned or copied page cannot move: XSA-217). On success
 * the page is out of the physmap and ownerless; the caller holds its ref.
 */
static int16_t
steal_page(struct domain *ld, uint64_t gfn, struct page **out)
{
	struct page *pg = p2m_ram_page(ld, gfn);
	unsigned int one = 1;
	uintptr_t expect;

	if (pg == NULL || atomic_load_explicit(&pg->owner, memory_order_acquire) != ld)
		return GNTDP_GNTST_BAD_PAGE; /* 1 */
	if (!atomic_compare_exchange_strong(&pg->refs, &one, 1 | PAGE_LOCKED))
		return GNTDP_GNTST_BAD_PAGE; /* 2: extra references */
	expect = (uintptr_t)pg | P2M_RAM;
	if (!atomic_compare_exchange_strong(&ld->p2m[gfn], &expect, 0)) {
		atomic_store(&pg->refs, 1); /* raced with another transfer of the same gfn */
		return GNTDP_GNTST_BAD_PAGE;
	}
	atomic_store_explicit(&pg->owner, NULL, memory_order_release);
	atomic_store_explicit(&pg->refs, 1, memory_order_release);
	atomic_fetch_sub(&ld->owned_pages, 1);
	*out = pg;
	return GNTDP_GNTST_OKAY;
}

/*
 * Step 8: commit the receiver's accept_transfer entry. It must be exactly
 * GTF_accept_transfer, granted to the caller, and name an empty gfn of the
 * receiver, which we reserve before committing so completion cannot fail.
 */
static int16_t
transfer_commit(struct domain *ld, struct domain *rd, uint32_t ver, gntdp_grant_ref_t ref,
		uint32_t *gfn)
{
	uint32_t *word = hdr_word(rd, ver, ref);
	uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	for (int tries = 0;; tries++) {
		uintptr_t empty = 0;
		uint64_t f;

		if (WORD_FLAGS(old) != GNTDP_GTF_ACCEPT_TRANSFER || WORD_DOMID(old) != ld->domid)
			return GNTDP_GNTST_GENERAL_ERROR;
		f = entry_frame(rd, ver, ref);
		if (f >= rd->p2m_size ||
		    !atomic_compare_exchange_strong(&rd->p2m[f], &empty, (uintptr_t)P2M_RESERVED))
			return GNTDP_GNTST_GENERAL_ERROR;
		if (__atomic_compare_exchange_n(word, &old, old | GNTDP_GTF_TRANSFER_COMMITTED, false,
						__ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE)) {
			*gfn = (uint32_t)f;
			return GNTDP_GNTST_OKAY;
		}
		atomic_store(&rd->p2m[f], 0); /* guest raced us: drop the reservation */
		if (tries == SET_STATUS_TRIES - 1)
			return GNTDP_GNTST_GENERAL_ERROR;
	}
}

void
op_transfer(struct domain *ld, struct gntdp_gnttab_transfer *op)
{
	const uint64_t gfn = op->mfn;
	const gntdp_domid_t domid = op->domid;
	const gntdp_grant_ref_t ref = op->ref;
	struct domain *rd;
	struct active_entry *act;
	struct page *pg;
	uint32_t slot, ver;
	int16_t rc;

	rc = steal_page(ld, gfn, &pg); /* 1-3 */
	if (rc != GNTDP_GNTST_OKAY) {
		op->status = rc; /* bad_page: the page stays with the caller */
		return;
	}
	/* From here on the caller has lost the page whatever happens (seed header). */
	rd = dom_lookup(ld->gt, domid); /* 4: DOMID_SELF is not accepted */
	if (rd == NULL) {
		rc = GNTDP_GNTST_BAD_DOMAIN;
		goto lost;
	}
	if (atomic_load(&rd->dying)) { /* 7 */
		rc = GNTDP_GNTST_GENERAL_ERROR;
		goto lost;
	}
	if (ref >= nr_entries(rd)) { /* 8 */
		rc = GNTDP_GNTST_GENERAL_ERROR;
		goto lost;
	}
	/* The entry's lock keeps the receiver's version stable from commit to
	 * completion (XSA-501: no stale layout). */
	act = &rd->active[ref];
	spin_lock(&act->lock);
	ver = gt_version(rd);
	rc = ref < nr_entries_v(rd, ver) ? transfer_commit(ld, rd, ver, ref, &slot)
					 : GNTDP_GNTST_GENERAL_ERROR;
	if (rc != GNTDP_GNTST_OKAY) {
		spin_unlock(&act->lock);
		goto lost;
	}
	/* 9: hand the page over and place it; the reserved slot cannot be taken. */
	atomic_store_explicit(&pg->owner, rd, memory_order_release);
	atomic_fetch_add(&rd->owned_pages, 1);
	atomic_store_explicit(&rd->p2m[slot], (uintptr_t)pg | P2M_RAM, memory_order_release);
	/* Frame written, then completed: the guest reads frame after seeing completed. */
	if (ver == 1)
		__atomic_store_n(&rd->shared[ref].frame, slot, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&rd->shared_v2[ref].full_page.frame, (uint64_t)slot,
				 __ATOMIC_RELAXED);
	__atomic_fetch_or(hdr_word(rd, ver, ref), GNTDP_GTF_TRANSFER_COMPLETED, __ATOMIC_RELEASE);
	spin_unlock(&act->lock);
	op->status = GNTDP_GNTST_OKAY;
	return;

lost:
	memset(pg->va, 0, GNTDP_PAGE_SIZE); /* scrub before the page dies */
	page_put(pg);
	op->status = rc;
}
