/* SPDX-License-Identifier: MIT */
/*
 * The gntshr half of the drop-in libxengnttab.so.1: open, close, fd, and
 * the shares, as Linux's gntalloc gives them: each share_pages call is one
 * share segment (gntdp_client_share_alloc(): a memfd of its own that only
 * the grantee may map across processes) with one v1 grant entry per frame;
 * unshare ends the grants, keeping those the grantee still maps until it
 * lets go (gntalloc's deferred end of foreign access), and frees the
 * segment once none is granted. Mappings outlive the granter: the
 * grantee's keep their frames and contents (the daemon frees them on its
 * unmap).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xg.h"

struct xentoollog_logger;

struct xg_handle *xengntshr_open(struct xentoollog_logger *logger, unsigned int open_flags);
int xengntshr_close(struct xg_handle *h);
int xengntshr_fd(struct xg_handle *h);
void *xengntshr_share_pages(struct xg_handle *h, uint32_t domid, int count, uint32_t *refs,
			    int writable);
void *xengntshr_share_page_notify(struct xg_handle *h, uint32_t domid, uint32_t *ref,
				  int writable, uint32_t notify_offset, uint32_t notify_port);
int xengntshr_unshare(struct xg_handle *h, void *start_address, uint32_t count);

struct xg_handle *
xengntshr_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	(void)logger;
	(void)open_flags;
	return xg_handle_new(true, "xengntshr_open");
}

int
xengntshr_close(struct xg_handle *h)
{
	return xg_handle_close(h);
}

int
xengntshr_fd(struct xg_handle *h)
{
	return xg_handle_fd(h);
}

struct xg_share {
	struct xg_share *next;
	void *addr;
	uint32_t count;
	uint32_t *refs;
	uint32_t nr_ended; /* refs[0..nr_ended) no longer granted */
	struct xg_vma *vmas; /* as mapped (xg_vmas_record) */
	unsigned int nr_vmas;
	uint64_t gfn;       /* of the segment's first frame */
	uint32_t notify_id; /* 0: none */
};

/* Grow the own grant table (GNTTABOP_setup_table) so that @p ref exists. */
static int
table_cover(struct xg_handle *h, uint32_t ref)
{
	struct gntdp_gnttab_query_size *q;
	struct gntdp_gnttab_setup_table *st;
	uint32_t want = ref / GNTDP_GRANT_ENTRIES_PER_FRAME_V1 + 1;
	uint8_t *ops;
	int rc;

	rc = xg_ops_frame(h, (void **)&ops);
	if (rc != 0)
		return rc;
	q = (void *)ops;
	memset(q, 0, sizeof(*q));
	q->dom = GNTDP_DOMID_SELF;
	rc = xg_hcall(h, GNTDP_GNTTABOP_QUERY_SIZE, q, 1);
	if (rc != 0 || q->status != GNTDP_GNTST_OKAY)
		return rc != 0 ? rc : -ENOSPC;
	if (q->nr_frames >= want)
		return 0;
	st = (void *)ops;
	memset(st, 0, sizeof(*st));
	st->dom = GNTDP_DOMID_SELF;
	st->nr_frames = want;
	/* The frame list after the op, in the same RAM frame (a guest address). */
	st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)(h->ops_gfn * (uint64_t)XG_PAGE + 64);
	if (want > (XG_PAGE - 64) / sizeof(gntdp_xen_pfn_t))
		return -ENOSPC;
	rc = xg_hcall(h, GNTDP_GNTTABOP_SETUP_TABLE, st, 1);
	if (rc == 0 && st->status != GNTDP_GNTST_OKAY)
		rc = -ENOSPC;
	return rc;
}

/* End access to what is left of @p s; true once none is granted any more. */
static bool
share_end(struct xg_handle *h, struct xg_share *s)
{
	struct gntdp_grant_entry_v1 *gt = gntdp_client_table(h->c, NULL);

	while (s->nr_ended < s->count) {
		if (gntdp_guest_end_access(&gt[s->refs[s->nr_ended]]) != 0)
			return false; /* still mapped by the grantee: try again later */
		s->nr_ended++;
	}
	return true;
}

/* The record of a share only: its refs, frames and mapping are not touched. */
static void
record_free(struct xg_share *s)
{
	free(s->vmas);
	free(s->refs);
	free(s);
}

/*
 * Give the segment back. gntdp_client_share_free() munmaps the range: when
 * the program munmapped it itself (libxenvchan does with multi-page
 * rings), a placeholder goes there first so that nothing of the program's
 * is unmapped; a range it has reused meanwhile keeps the segment (the
 * daemon frees it with the domain).
 */
static void
share_free(struct xg_handle *h, struct xg_share *s)
{
	size_t len = (size_t)s->count * XG_PAGE;
	struct xg_vma *all;
	unsigned int n;
	bool give_back = true;

	xg_gref_free(s->refs, s->count);
	if (xg_vmas_read(&all, &n) == 0) {
		if (!xg_vmas_intact(s->vmas, s->nr_vmas, all, n)) {
			void *p;

			xg_vmas_munmap_ours(s->vmas, s->nr_vmas, all, n);
			p = mmap(s->addr, len, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			give_back = p == s->addr;
			if (p != MAP_FAILED && p != s->addr)
				munmap(p, len);
		}
		free(all);
	}
	if (give_back)
		gntdp_client_share_free(h->c, s->addr);
	record_free(s);
}

/* Unshared shares whose grantee still mapped them: end their access again, free the ended. */
static void
shares_retry(struct xg_handle *h)
{
	for (struct xg_share **pp = &h->unshared; *pp != NULL;) {
		struct xg_share *s = *pp;

		if (!share_end(h, s)) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		share_free(h, s);
	}
}

void *
xengntshr_share_pages(struct xg_handle *h, uint32_t domid, int count, uint32_t *refs, int writable)
{
	struct gntdp_grant_entry_v1 *gt;
	struct xg_share *s;
	uint32_t maxref = 0;
	uint64_t gfn;
	int rc;

	if (h == NULL || !h->shr || count <= 0 || domid >= GNTDP_DOMID_FIRST_RESERVED)
		return xg_fail_ptr(-EINVAL);
	if (refs == NULL)
		return xg_fail_ptr(-EFAULT);
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->refs = calloc((size_t)count, sizeof(*s->refs))) == NULL) {
		free(s);
		return xg_fail_ptr(-ENOMEM);
	}
	s->count = (uint32_t)count;
	pthread_mutex_lock(&h->lock);
	shares_retry(h);
	rc = xg_gref_alloc(s->count, s->refs);
	if (rc != 0)
		goto err_free;
	for (uint32_t i = 0; i < s->count; i++)
		maxref = s->refs[i] > maxref ? s->refs[i] : maxref;
	rc = table_cover(h, maxref);
	if (rc == 0)
		rc = gntdp_client_share_alloc(h->c, (gntdp_domid_t)domid, s->count, writable != 0,
					      &s->addr, &gfn);
	if (rc != 0)
		goto err_refs;
	rc = xg_vmas_record(s->addr, (size_t)s->count * XG_PAGE, &s->vmas, &s->nr_vmas);
	if (rc != 0) {
		gntdp_client_share_free(h->c, s->addr);
		goto err_refs;
	}
	s->gfn = gfn;
	gt = gntdp_client_table(h->c, NULL);
	for (uint32_t i = 0; i < s->count; i++) {
		if (gntdp_guest_grant_access(&gt[s->refs[i]], (gntdp_domid_t)domid,
					     (uint32_t)(gfn + i), writable == 0) != 0) {
			/* An entry in use that the allocator thought free: never ours to reuse. */
			for (uint32_t k = 0; k < i; k++)
				gntdp_guest_end_access(&gt[s->refs[k]]);
			xg_gref_free(s->refs, i);
			xg_gref_free(s->refs + i + 1, s->count - i - 1);
			gntdp_client_share_free(h->c, s->addr);
			free(s->vmas);
			rc = -EBUSY;
			goto err_free;
		}
	}
	s->next = h->shares;
	h->shares = s;
	memcpy(refs, s->refs, sizeof(*refs) * s->count);
	pthread_mutex_unlock(&h->lock);
	return s->addr;
err_refs:
	xg_gref_free(s->refs, s->count);
err_free:
	pthread_mutex_unlock(&h->lock);
	free(s->refs);
	free(s);
	return xg_fail_ptr(rc);
}

int
xengntshr_unshare(struct xg_handle *h, void *start_address, uint32_t count)
{
	struct xg_share **pp, *s;

	if (h == NULL || !h->shr)
		return xg_fail(-EINVAL);
	pthread_mutex_lock(&h->lock);
	for (pp = &h->shares; *pp != NULL && (*pp)->addr != start_address; pp = &(*pp)->next)
		;
	s = *pp;
	if (s == NULL || s->count != count) {
		pthread_mutex_unlock(&h->lock);
		return xg_fail(-EINVAL);
	}
	*pp = s->next;
	xg_notify_fire(h, s->notify_id);
	/* Ended now, or kept (still mapped here) until the grantee lets go. */
	s->next = h->unshared;
	h->unshared = s;
	shares_retry(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void
xg_shares_close(struct xg_handle *h)
{
	while (h->shares != NULL) {
		struct xg_share *s = h->shares;

		h->shares = s->next;
		xg_notify_fire(h, s->notify_id);
		s->next = h->unshared;
		h->unshared = s;
	}
	shares_retry(h);
	/*
	 * Still mapped by a grantee: the grant entries, their refs and the
	 * frames stay until this domain goes (as gntalloc keeps a gref its
	 * file no longer names); only the records go with the handle.
	 */
	while (h->unshared != NULL) {
		struct xg_share *s = h->unshared;

		h->unshared = s->next;
		record_free(s);
	}
}


void *
xengntshr_share_page_notify(struct xg_handle *h, uint32_t domid, uint32_t *ref, int writable,
			    uint32_t notify_offset, uint32_t notify_port)
{
	void *va = xengntshr_share_pages(h, domid, 1, ref, writable);
	struct xg_share *s;
	int rc;

	if (va == NULL)
		return NULL;
	pthread_mutex_lock(&h->lock);
	for (s = h->shares; s != NULL && s->addr != va; s = s->next)
		;
	rc = s == NULL ? -EINVAL :
			 xg_notify_set(h, GNTDP_CTL_NOTIFY_SHARE, s->gfn, notify_offset, notify_port,
				       0, 0, &s->notify_id);
	pthread_mutex_unlock(&h->lock);
	if (rc != 0) {
		xengntshr_unshare(h, va, 1);
		return xg_fail_ptr(rc);
	}
	return va;
}
