/* SPDX-License-Identifier: MIT */
/*
 * Domains: creation with RAM and a grant table, the physmap, and teardown
 * with Xen's semantics (mappings released, granted frames kept alive while
 * other domains still map them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void
gntdp_domain_conf_init(struct gntdp_domain_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->nr_frames = 256;
	conf->max_grant_frames = GNTDP_DEFAULT_MAX_GRANT_FRAMES;
	conf->max_maptrack_frames = GNTDP_DEFAULT_MAX_MAPTRACK_FRAMES;
	conf->max_grant_version = 2;
	conf->socket = -1;
}

static void
dom_free(struct domain *d)
{
	if (d->mt_frames != NULL) {
		for (uint32_t i = 0; i < d->mt_max_frames; i++)
			free(d->mt_frames[i]);
		free(d->mt_frames);
	}
	if (d->st_seg != NULL) {
		for (uint32_t i = 0; i < d->st_seg->nb_frames; i++)
			page_put(&d->st_seg->pages[i]);
		seg_put(d->st_seg);
	}
	if (d->gt_seg != NULL) {
		/* Grant frames are owned by nobody; drop their allocation refs. */
		for (uint32_t i = 0; i < d->gt_seg->nb_frames; i++)
			page_put(&d->gt_seg->pages[i]);
		seg_put(d->gt_seg);
	}
	free(d->active);
	free(d->p2m);
	free(d);
}

/*
 * Drop a domain reference. The last one cannot free the domain at once: a
 * context inside a batch may still hold a pointer to it read from a
 * maptrack entry or an active entry (two racing unmaps of one handle of a
 * dead granter: the winner drops the last pin while the loser is about to
 * lock the entry). So the domain goes to the graveyard, and control-plane
 * calls free it after a grace period (graveyard_reclaim). Lock-free push:
 * callable from any context.
 */
void
dom_put(struct domain *d)
{
	struct domain *head;

	if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Only a destroyed domain reaches 0: its domid may be created again. */
	atomic_store_explicit(&d->gt->zombie[d->domid], 0, memory_order_release);
	head = atomic_load_explicit(&d->gt->graveyard, memory_order_relaxed);
	do {
		d->grave_next = head;
	} while (!atomic_compare_exchange_weak_explicit(&d->gt->graveyard, &head, d,
							memory_order_release, memory_order_relaxed));
}

/*
 * Free every domain in the graveyard once every context that might have
 * read a pointer to one of them has left its batch. Control plane only.
 */
void
graveyard_reclaim(struct gntdp_gnttab *gt)
{
	struct domain *d = atomic_exchange_explicit(&gt->graveyard, NULL, memory_order_acquire);

	if (d == NULL)
		return;
	qsbr_wait(gt);
	while (d != NULL) {
		struct domain *next = d->grave_next;

		dom_free(d);
		d = next;
	}
}

void
gntdp_gnttab_reclaim(struct gntdp_gnttab *gt)
{
	graveyard_reclaim(gt);
}

static int
conf_check(const struct gntdp_domain_conf *c, uint32_t *p2m_size)
{
	uint64_t size = c->p2m_size != 0 ? c->p2m_size : (uint64_t)c->nr_frames + 65536;

	if (c->domid >= NR_DOMIDS || c->nr_frames == 0 || size < c->nr_frames ||
	    size > (1u << 28) || c->max_grant_frames == 0 ||
	    c->max_grant_frames > GNTDP_MAX_GRANT_FRAMES_LIMIT ||
	    c->max_maptrack_frames > GNTDP_MAX_MAPTRACK_FRAMES_LIMIT ||
	    c->max_grant_version > 2)
		return -EINVAL;
	*p2m_size = (uint32_t)size;
	return 0;
}

static int
dom_alloc(struct gntdp_gnttab *gt, const struct gntdp_domain_conf *c, uint32_t p2m_size,
	  struct domain **out)
{
	struct domain *d = calloc(1, sizeof(*d));
	uint32_t max_entries = c->max_grant_frames * ENTRIES_PER_FRAME;

	if (d == NULL)
		return -ENOMEM;
	d->p2m = calloc(p2m_size, sizeof(*d->p2m));
	d->active = calloc(max_entries, sizeof(*d->active));
	d->mt_frames = calloc(c->max_maptrack_frames + 1u, sizeof(*d->mt_frames));
	d->gt_seg = seg_alloc(gt, c->max_grant_frames, c->socket);
	d->ram = seg_alloc(gt, c->nr_frames, c->socket);
	/* Status frames for the largest v2 table, reserved now: set_version never allocates. */
	if (c->max_grant_version != 1)
		d->st_seg = seg_alloc(gt, STATUS_FRAMES(c->max_grant_frames), c->socket);
	if (d->p2m == NULL || d->active == NULL || d->mt_frames == NULL || d->gt_seg == NULL ||
	    d->ram == NULL || (c->max_grant_version != 1 && d->st_seg == NULL)) {
		if (d->ram != NULL) {
			for (uint32_t i = 0; i < d->ram->nb_frames; i++)
				page_put(&d->ram->pages[i]);
			seg_put(d->ram);
		}
		d->mt_max_frames = c->max_maptrack_frames;
		dom_free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

int
gntdp_domain_create(struct gntdp_gnttab *gt, const struct gntdp_domain_conf *c)
{
	struct domain *d;
	uint32_t p2m_size;
	int rc;

	if (gt == NULL || c == NULL)
		return -EINVAL;
	graveyard_reclaim(gt);
	rc = conf_check(c, &p2m_size);
	if (rc != 0)
		return rc;
	/* In use, or a zombie still held alive by pins (Xen: the domid stays taken until it is gone). */
	if (dom_lookup(gt, c->domid) != NULL ||
	    atomic_load_explicit(&gt->zombie[c->domid], memory_order_acquire) != 0)
		return -EEXIST;
	rc = dom_alloc(gt, c, p2m_size, &d);
	if (rc != 0)
		return rc;
	d->gt = gt;
	d->uid = atomic_fetch_add(&gt->next_uid, 1);
	d->domid = c->domid;
	d->privileged = c->privileged;
	d->socket = c->socket;
	d->nr_frames = c->nr_frames;
	d->p2m_size = p2m_size;
	d->max_grant_frames = c->max_grant_frames;
	d->shared = (struct gntdp_grant_entry_v1 *)d->gt_seg->va;
	d->shared_v2 = (union gntdp_grant_entry_v2 *)d->gt_seg->va;
	d->status = d->st_seg != NULL ? (gntdp_grant_status_t *)d->st_seg->va : NULL;
	d->max_version = c->max_grant_version == 1 ? 1 : 2; /* 0: the default, 2 */
	atomic_init(&d->gt_version, 1);
	d->mt_max_frames = c->max_maptrack_frames;
	d->mt_free = MT_FREE_END;
	atomic_init(&d->refs, 1);
	atomic_init(&d->nr_grant_frames, 1); /* INITIAL_NR_GRANT_FRAMES */
	atomic_init(&d->owned_pages, c->nr_frames);
	for (uint32_t gfn = 0; gfn < c->nr_frames; gfn++) {
		struct page *pg = &d->ram->pages[gfn];

		atomic_init(&pg->owner, d);
		atomic_init(&d->p2m[gfn], (uintptr_t)pg | P2M_RAM);
	}
	/* The RAM segment now lives as long as its pages: drop the creator's count. */
	seg_put(d->ram);
	/* Publish: everything above is visible to whoever finds the domain. */
	struct domain *expect = NULL;

	if (!atomic_compare_exchange_strong(&gt->doms[c->domid], &expect, d)) {
		atomic_store(&d->refs, 1);
		for (uint32_t gfn = 0; gfn < c->nr_frames; gfn++)
			page_put(&d->ram->pages[gfn]);
		dom_put(d);
		return -EEXIST;
	}
	return 0;
}

/* Release every page in the physmap: own RAM loses its allocation reference. */
static void
p2m_release(struct domain *d)
{
	for (uint32_t gfn = 0; gfn < d->p2m_size; gfn++) {
		uintptr_t v = atomic_exchange_explicit(&d->p2m[gfn], 0, memory_order_acq_rel);

		if (p2m_type(v) == P2M_RAM) {
			struct page *pg = p2m_page(v);

			atomic_store_explicit(&pg->owner, NULL, memory_order_release);
			page_put(pg);
		}
	}
	atomic_store(&d->owned_pages, 0);
}

int
gntdp_domain_destroy(struct gntdp_gnttab *gt, gntdp_domid_t domid)
{
	struct domain *d = dom_lookup(gt, domid);

	if (d == NULL)
		return -ESRCH;
	atomic_store(&d->dying, true);
	atomic_store(&gt->zombie[domid], 1); /* cleared by the last dom_put */
	atomic_store(&gt->doms[domid], NULL);
	/* After this no context can still be using a pointer to d obtained by lookup. */
	qsbr_wait(gt);
	maptrack_release_all(d);
	p2m_release(d);
	dom_put(d);
	graveyard_reclaim(gt);
	return 0;
}

struct page *
p2m_ram_page(struct domain *d, uint64_t gfn)
{
	uintptr_t v;

	if (unlikely(gfn >= d->p2m_size))
		return NULL;
	v = atomic_load_explicit(&d->p2m[gfn], memory_order_acquire);
	if (unlikely(p2m_type(v) != P2M_RAM))
		return NULL;
	return p2m_page(v);
}

void *
gntdp_domain_frame(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn)
{
	struct domain *d;
	void *va = NULL;

	ctl_enter(gt);
	d = dom_lookup(gt, domid);
	if (d != NULL && gfn < d->p2m_size) {
		uintptr_t v = atomic_load_explicit(&d->p2m[gfn], memory_order_acquire);

		if (p2m_type(v) != P2M_EMPTY && p2m_type(v) != P2M_RESERVED)
			va = p2m_page(v)->va;
	}
	ctl_leave(gt);
	return va;
}

static void domain_info_fill(struct domain *d, struct gntdp_domain_info *out);

int
gntdp_domain_info(struct gntdp_gnttab *gt, gntdp_domid_t domid, struct gntdp_domain_info *out)
{
	struct domain *d;

	if (out == NULL)
		return -ESRCH;
	ctl_enter(gt);
	d = dom_lookup(gt, domid);
	if (d != NULL)
		domain_info_fill(d, out);
	ctl_leave(gt);
	return d != NULL ? 0 : -ESRCH;
}

static void
domain_info_fill(struct domain *d, struct gntdp_domain_info *out)
{
	uint32_t n;

	memset(out, 0, sizeof(*out));
	out->nr_frames = d->nr_frames;
	out->nr_grant_frames = atomic_load(&d->nr_grant_frames);
	out->max_grant_frames = d->max_grant_frames;
	out->maptrack_limit = atomic_load(&d->mt_limit);
	out->max_maptrack_handles = d->mt_max_frames * GNTDP_MAPTRACK_PER_FRAME;
	out->live_mappings = atomic_load(&d->mt_live);
	out->owned_pages = atomic_load(&d->owned_pages);
	out->dying = atomic_load(&d->dying);
	out->grant_version = gt_version(d);
	out->nr_status_frames = atomic_load(&d->nr_status_frames);
	n = nr_entries(d);
	for (uint32_t ref = 0; ref < n; ref++) {
		struct active_entry *act = &d->active[ref];

		spin_lock(&act->lock);
		if (act->pin != 0)
			out->pinned_entries++;
		spin_unlock(&act->lock);
	}
}
