/* SPDX-License-Identifier: MIT */
/*
 * Grant-table versions and the table-wide commands: set_version (8),
 * get_status_frames (9), get_version (10) and swap_grant_ref (11), with
 * Xen's check order and results (spec 7.4-7.7).
 *
 * A version change holds the table's growth lock and every active entry
 * lock (act_lock_all, index order): no op can be between its bounds check
 * and its use of an entry, and every op re-checks its bounds under the
 * entry's lock. swap takes its two entry locks in index order too.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* The first 8 entries as a v1 table holds them (the form set_version carries them over in). */
struct reserved {
	struct gntdp_grant_entry_v1 e[GNTDP_GNTTAB_NR_RESERVED_ENTRIES];
};

static void
reserved_save(struct domain *d, uint32_t ver, struct reserved *r)
{
	if (ver == 1) {
		memcpy(r->e, d->shared, sizeof(r->e));
		return;
	}
	for (unsigned int i = 0; i < GNTDP_GNTTAB_NR_RESERVED_ENTRIES; i++) {
		const union gntdp_grant_entry_v2 *e = &d->shared_v2[i];

		if ((e->hdr.flags & GNTDP_GTF_TYPE_MASK) == GNTDP_GTF_PERMIT_ACCESS) {
			/* v2 -> v1 merges the status bits back into the flags. */
			r->e[i].flags = (uint16_t)(e->hdr.flags | d->status[i]);
			r->e[i].domid = e->hdr.domid;
			r->e[i].frame = (uint32_t)e->full_page.frame; /* checked: < 2^32 */
		} else {
			memset(&r->e[i], 0, sizeof(r->e[i])); /* not representable: dropped */
		}
	}
}

static void
reserved_restore(struct domain *d, uint32_t ver, const struct reserved *r)
{
	if (ver == 1) {
		memcpy(d->shared, r->e, sizeof(r->e));
		return;
	}
	for (unsigned int i = 0; i < GNTDP_GNTTAB_NR_RESERVED_ENTRIES; i++) {
		union gntdp_grant_entry_v2 *e = &d->shared_v2[i];
		uint16_t busy = GNTDP_GTF_READING | GNTDP_GTF_WRITING;

		/* v1 -> v2 splits reading/writing into the status array. */
		d->status[i] = (gntdp_grant_status_t)(r->e[i].flags & busy);
		e->hdr.flags = (uint16_t)(r->e[i].flags & ~busy);
		e->hdr.domid = r->e[i].domid;
		e->full_page.frame = r->e[i].frame;
	}
}

/* Step 7 for v2 -> v1: in-flight sub-page / transitive pins, unrepresentable reserved entries. */
static int
v2_to_v1_check(struct domain *d)
{
	if (atomic_load_explicit(&d->nr_v2_ops, memory_order_relaxed) != 0)
		return -EAGAIN;
	for (unsigned int i = 0; i < GNTDP_GNTTAB_NR_RESERVED_ENTRIES; i++) {
		const union gntdp_grant_entry_v2 *e = &d->shared_v2[i];

		switch (e->hdr.flags & GNTDP_GTF_TYPE_MASK) {
		case GNTDP_GTF_PERMIT_ACCESS:
			if ((e->full_page.frame >> 32) == 0)
				break;
			return -ERANGE;
		case GNTDP_GTF_TRANSITIVE:
			return -ERANGE;
		default:
			break;
		}
	}
	return 0;
}

/* Steps 4-8 with the table locked. */
static int
switch_version(struct domain *d, uint32_t want)
{
	uint32_t cur = gt_version(d);
	uint32_t frames = atomic_load_explicit(&d->nr_grant_frames, memory_order_relaxed);
	uint32_t n = nr_entries_v(d, cur);
	struct reserved saved;
	int rc;

	if (cur == want)
		return 0;
	/* Refs 0-7 may stay in use (xenstore, console); any other pin: busy. */
	for (uint32_t i = GNTDP_GNTTAB_NR_RESERVED_ENTRIES; i < n; i++)
		if (d->active[i].pin != 0)
			return -EBUSY;
	if (cur == 2) {
		rc = v2_to_v1_check(d);
		if (rc != 0)
			return rc;
	}
	reserved_save(d, cur, &saved);
	if (cur == 1) {
		/* Populate: the status frames were reserved at creation (zeroed here). */
		uint32_t sf = STATUS_FRAMES(frames);

		memset(d->st_seg->va, 0, (size_t)sf * GNTDP_PAGE_SIZE);
		atomic_store_explicit(&d->nr_status_frames, sf, memory_order_release);
	} else {
		/* Unpopulate: nothing maps status frames in gntdp (no add_to_physmap),
		 * so the XSA-255 "still mapped" refusal cannot arise. */
		atomic_store_explicit(&d->nr_status_frames, 0, memory_order_release);
	}
	/* No crud left over from the old version. */
	memset(d->gt_seg->va, 0, (size_t)frames * GNTDP_PAGE_SIZE);
	reserved_restore(d, want, &saved);
	atomic_store_explicit(&d->gt_version, want, memory_order_release);
	return 0;
}

int
op_set_version(struct domain *ld, struct gntdp_gnttab_set_version *op)
{
	const uint32_t want = op->version;
	int rc;

	if (want != 1 && want != 2) {
		rc = -EINVAL;
	} else if (want == 2 && ld->max_version == 1) {
		rc = -ENOSYS; /* as if set_version did not exist */
	} else {
		spin_lock(&ld->gt_lock);
		act_lock_all(ld);
		rc = switch_version(ld, want);
		act_unlock_all(ld);
		spin_unlock(&ld->gt_lock);
	}
	op->version = gt_version(ld); /* always written back, even on error */
	return rc;
}

void
op_get_status_frames(struct domain *ld, struct gntdp_gnttab_get_status_frames *op)
{
	const uint32_t want = op->nr_frames;
	uint64_t *list = op->frame_list;
	struct domain *d;
	int16_t rc = target_domain(ld, op->dom, &d);

	if (rc == GNTDP_GNTST_OKAY) {
		spin_lock(&d->gt_lock); /* keeps the version and the status frames stable */
		if (want > atomic_load_explicit(&d->nr_status_frames, memory_order_relaxed)) {
			rc = GNTDP_GNTST_GENERAL_ERROR; /* XSA-382: counted in status frames */
		} else if (list == NULL && want != 0) {
			rc = GNTDP_GNTST_BAD_VIRT_ADDR; /* a translated caller faults on the write */
		} else {
			for (uint32_t i = 0; i < want; i++)
				list[i] = d->st_seg->pages[i].mfn;
		}
		spin_unlock(&d->gt_lock);
	}
	op->status = rc;
}

int
op_get_version(struct domain *ld, struct gntdp_gnttab_get_version *op)
{
	struct domain *d;

	switch (target_domain(ld, op->dom, &d)) {
	case GNTDP_GNTST_OKAY:
		op->version = gt_version(d);
		return 0;
	case GNTDP_GNTST_PERMISSION_DENIED:
		return -EPERM;
	default:
		return -ESRCH;
	}
}

/* Swap two whole entries (v2: and their status words). Both entry locks are held. */
static void
swap_entries(struct domain *d, uint32_t ver, gntdp_grant_ref_t a, gntdp_grant_ref_t b)
{
	if (ver == 1) {
		struct gntdp_grant_entry_v1 t = d->shared[a];

		d->shared[a] = d->shared[b];
		d->shared[b] = t;
	} else {
		union gntdp_grant_entry_v2 t = d->shared_v2[a];
		gntdp_grant_status_t st = d->status[a];

		d->shared_v2[a] = d->shared_v2[b];
		d->status[a] = d->status[b];
		d->shared_v2[b] = t;
		d->status[b] = st;
	}
}

static int16_t
swap_grant_ref(struct domain *d, gntdp_grant_ref_t a, gntdp_grant_ref_t b)
{
	struct active_entry *lo, *hi;
	uint32_t ver;
	int16_t rc = GNTDP_GNTST_OKAY;

	if (a >= nr_entries(d) || b >= nr_entries(d)) /* XSA-18 */
		return GNTDP_GNTST_BAD_GNTREF;
	if (a == b)
		return GNTDP_GNTST_OKAY;
	lo = &d->active[a < b ? a : b];
	hi = &d->active[a < b ? b : a];
	spin_lock(&lo->lock);
	spin_lock(&hi->lock);
	ver = gt_version(d); /* stable now: set_version needs both locks */
	if (a >= nr_entries_v(d, ver))
		rc = GNTDP_GNTST_BAD_GNTREF;
	else if (b >= nr_entries_v(d, ver))
		rc = GNTDP_GNTST_BAD_GNTREF;
	else if (d->active[a].pin != 0 || d->active[b].pin != 0)
		rc = GNTDP_GNTST_EAGAIN; /* only the pins count, never the flags */
	else
		swap_entries(d, ver, a, b);
	spin_unlock(&hi->lock);
	spin_unlock(&lo->lock);
	return rc;
}

void
op_swap_grant_ref(struct domain *ld, struct gntdp_gnttab_swap_grant_ref *op)
{
	op->status = swap_grant_ref(ld, op->ref_a, op->ref_b);
}
