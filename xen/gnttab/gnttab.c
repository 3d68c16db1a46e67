/* SPDX-License-Identifier: MIT */
/*
 * The gnttab half of the drop-in libxengnttab.so.1: open, close, fd,
 * set_max_grants, the dmabuf calls (ENOSYS) and xengnttab_grant_copy, with
 * Linux gntdev's semantics (drivers/xen/gntdev.c, gntdev_ioctl_grant_copy):
 *
 *  - count 0 is 0, whatever segs is (QEMU probes with it);
 *  - segments are taken in order; a segment with neither GNTCOPY flag (both
 *    sides virt), or a gref side with offset + len past 4096, fails the
 *    whole call with EINVAL. Chunks already issued stay done, the chunks
 *    of the batch not yet issued are dropped (Linux frees its batch
 *    unissued), and statuses already written stay written: no rollback;
 *  - a segment's status is set to GNTST_okay first, then cut into chunks
 *    that never cross a 4 KiB boundary of a virt side (a gref->gref
 *    segment is one chunk); each chunk is one GNTTABOP_copy op, and the
 *    first failing chunk's status is the segment's;
 *  - XG_COPY_BATCH chunks make one hypercall on the handle's own ring.
 *
 * A virt side is the caller's memory, which the daemon cannot reach: a
 * chunk whose virt side lies in the domain's RAM (the library's) names that
 * frame, any other is bounced through one of the handle's RAM frames
 * (copied in before the hypercall for a source, out after it for a
 * destination whose op succeeded). A bad virt pointer faults in the
 * caller, as the memcpy() it is (Linux: EFAULT).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xg.h"

struct xentoollog_logger;

/* The exported API, with Debian's <xengnttab.h> prototypes (handle types opaque there). */
struct xg_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int open_flags);
int xengnttab_close(struct xg_handle *h);
int xengnttab_fd(struct xg_handle *h);
int xengnttab_set_max_grants(struct xg_handle *h, uint32_t nr_grants);
int xengnttab_grant_copy(struct xg_handle *h, uint32_t count, struct xg_copy_seg *segs);
int xengnttab_dmabuf_exp_from_refs(struct xg_handle *h, uint32_t domid, uint32_t flags,
				   uint32_t count, const uint32_t *refs, uint32_t *fd);
int xengnttab_dmabuf_exp_wait_released(struct xg_handle *h, uint32_t fd, uint32_t wait_to_ms);
int xengnttab_dmabuf_imp_to_refs(struct xg_handle *h, uint32_t domid, uint32_t fd,
				 uint32_t count, uint32_t *refs);
int xengnttab_dmabuf_imp_release(struct xg_handle *h, uint32_t fd);

/* Ring of a gnttab handle: one synchronous call at a time, so a few entries do. */
#define XG_RING_ENTRIES 8u

struct xg_handle *
xg_handle_new(bool shr, const char *what)
{
	struct gntdp_client_ring_conf rc;
	struct xg_handle *h = calloc(1, sizeof(*h));
	int err;

	if (h == NULL)
		return xg_fail_ptr(-ENOMEM);
	h->shr = shr;
	h->pid = getpid();
	pthread_mutex_init(&h->lock, NULL);
	err = xg_self_get(&h->c);
	if (err != 0) {
		if (err == -EINVAL)
			fprintf(stderr, "%s: GNTDP_DOMID is not a domid below 32752\n", what);
		else
			fprintf(stderr, "%s: cannot reach gntdpd: %s\n", what, strerror(-err));
		goto err_free;
	}
	gntdp_client_ring_conf_init(&rc);
	rc.sq_entries = XG_RING_ENTRIES;
	rc.cq_entries = XG_RING_ENTRIES;
	rc.eventfd = true;
	err = gntdp_client_ring_create(h->c, &rc, &h->r);
	if (err != 0) {
		fprintf(stderr, "%s: gntdpd: no ring: %s (%s)\n", what, strerror(-err),
			gntdp_client_why(h->c));
		goto err_put;
	}
	return h;
err_put:
	xg_self_put(h->c);
err_free:
	pthread_mutex_destroy(&h->lock);
	free(h);
	return xg_fail_ptr(err);
}

int
xg_handle_close(struct xg_handle *h)
{
	if (h == NULL)
		return 0;
	if (h->pid != getpid()) {
		/* An inherited handle after fork(): the parent's state, not ours to tear down. */
		free(h);
		return 0;
	}
	xg_maps_close(h);
	xg_shares_close(h);
	xg_copy_free(h);
	xg_ops_free(h);
	gntdp_client_ring_destroy(h->c, h->r);
	xg_self_put(h->c);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return 0;
}

struct xg_handle *
xengnttab_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	(void)logger;     /* no logging: the library reports through errno */
	(void)open_flags; /* ignored, as Xen's */
	return xg_handle_new(false, "xengnttab_open");
}

int
xengnttab_close(struct xg_handle *h)
{
	return xg_handle_close(h);
}

int
xengnttab_fd(struct xg_handle *h)
{
	if (h == NULL)
		return xg_fail(-EINVAL);
	/* The ring's eventfd: a real fd of the handle ("selecting on it is not useful"). */
	return gntdp_client_ring_fd(h->r);
}

int
xengnttab_set_max_grants(struct xg_handle *h, uint32_t nr_grants)
{
	(void)h;
	(void)nr_grants;
	/* Current Linux has no such ioctl and Xen's library then returns 0: no limit here either. */
	return 0;
}

/* ---- grant copy --------------------------------------------------------------- */

static int
copy_setup(struct xg_handle *h)
{
	struct xg_copy *cp;
	uint32_t first;
	int rc;

	if (h->copy != NULL)
		return 0;
	cp = calloc(1, sizeof(*cp));
	if (cp == NULL)
		return -ENOMEM;
	rc = xg_ram_alloc(1 + XG_COPY_BATCH, &first);
	if (rc != 0) {
		free(cp);
		return rc;
	}
	cp->ops_gfn = first;
	for (unsigned int i = 0; i < XG_COPY_BATCH; i++)
		cp->bounce_gfn[i] = first + 1 + i;
	cp->ops = gntdp_client_gaddr_ptr(h->c, (uint64_t)first * XG_PAGE, XG_PAGE);
	h->copy = cp;
	return 0;
}

void
xg_copy_free(struct xg_handle *h)
{
	if (h->copy == NULL)
		return;
	xg_ram_free(h->copy->ops_gfn, 1 + XG_COPY_BATCH);
	free(h->copy);
	h->copy = NULL;
}

static uint8_t *
bounce_ptr(struct xg_handle *h, unsigned int i)
{
	return gntdp_client_gaddr_ptr(h->c, (uint64_t)h->copy->bounce_gfn[i] * XG_PAGE, XG_PAGE);
}

/* Issue the batch; copy out bounced destinations; a segment keeps its first failure. */
static int
copy_flush(struct xg_handle *h)
{
	struct xg_copy *cp = h->copy;
	unsigned int n = cp->nr_ops;
	int rc;

	cp->nr_ops = 0;
	rc = gntdp_client_hcall(h->r, GNTDP_GNTTABOP_COPY, cp->ops, n);
	if (rc != 0)
		return rc;
	for (unsigned int i = 0; i < n; i++) {
		const struct gntdp_gnttab_copy *op = &cp->ops[i];
		int16_t st = op->status;

		if (st == GNTDP_GNTST_OKAY && cp->out[i] != NULL)
			memcpy(cp->out[i], bounce_ptr(h, i) + op->dest.offset, op->len);
		if (st != GNTDP_GNTST_OKAY && *cp->status[i] == GNTDP_GNTST_OKAY)
			*cp->status[i] = st;
	}
	return 0;
}

/* One side of a chunk: a gref of @p domid, or @p virt (len bytes within one page). */
static void
copy_side(struct xg_handle *h, struct gntdp_gnttab_copy_ptr *p, bool gref,
	  const union xg_copy_ptr *u, uint16_t copied, uint16_t len, bool dest)
{
	struct xg_copy *cp = h->copy;
	unsigned int i = cp->nr_ops;
	uint8_t *virt;
	uint64_t ga;

	if (gref) {
		p->u.ref = u->foreign.ref;
		p->domid = u->foreign.domid;
		p->offset = (uint16_t)(u->foreign.offset + copied);
		return;
	}
	virt = (uint8_t *)u->virt + copied;
	p->domid = GNTDP_DOMID_SELF;
	p->offset = (uint16_t)((uintptr_t)virt & (XG_PAGE - 1));
	ga = gntdp_client_gaddr(h->c, virt);
	if (ga != UINT64_MAX) {
		p->u.gmfn = ga / XG_PAGE;
		return;
	}
	p->u.gmfn = cp->bounce_gfn[i];
	if (dest)
		cp->out[i] = virt;
	else
		memcpy(bounce_ptr(h, i) + p->offset, virt, len);
}

static int
copy_seg(struct xg_handle *h, struct xg_copy_seg *seg)
{
	struct xg_copy *cp = h->copy;
	union xg_copy_ptr src = seg->source, dst = seg->dest;
	uint16_t seg_len = seg->len, flags = seg->flags, copied = 0;
	bool sg = flags & GNTDP_GNTCOPY_SOURCE_GREF, dg = flags & GNTDP_GNTCOPY_DEST_GREF;
	int rc;

	if (!sg && !dg)
		return -EINVAL; /* local -> local: Linux refuses the whole call */
	if ((sg && src.foreign.offset + seg_len > XG_PAGE) ||
	    (dg && dst.foreign.offset + seg_len > XG_PAGE))
		return -EINVAL;
	seg->status = GNTDP_GNTST_OKAY;
	while (copied < seg_len) {
		struct gntdp_gnttab_copy *op;
		uint16_t len = (uint16_t)(seg_len - copied);
		uintptr_t va;

		if (cp->nr_ops == XG_COPY_BATCH) {
			rc = copy_flush(h);
			if (rc != 0)
				return rc;
		}
		/* A chunk ends at the next 4 KiB boundary of each virt side. */
		if (!sg) {
			va = (uintptr_t)src.virt + copied;
			len = (uint16_t)(len < XG_PAGE - (va & (XG_PAGE - 1)) ? len :
					 XG_PAGE - (va & (XG_PAGE - 1)));
		}
		if (!dg) {
			va = (uintptr_t)dst.virt + copied;
			len = (uint16_t)(len < XG_PAGE - (va & (XG_PAGE - 1)) ? len :
					 XG_PAGE - (va & (XG_PAGE - 1)));
		}
		op = &cp->ops[cp->nr_ops];
		memset(op, 0, sizeof(*op));
		cp->out[cp->nr_ops] = NULL;
		copy_side(h, &op->source, sg, &src, copied, len, false);
		copy_side(h, &op->dest, dg, &dst, copied, len, true);
		op->len = len;
		op->flags = (uint16_t)((sg ? GNTDP_GNTCOPY_SOURCE_GREF : 0) |
				       (dg ? GNTDP_GNTCOPY_DEST_GREF : 0));
		cp->status[cp->nr_ops++] = &seg->status;
		copied = (uint16_t)(copied + len);
	}
	return 0;
}

int
xengnttab_grant_copy(struct xg_handle *h, uint32_t count, struct xg_copy_seg *segs)
{
	int rc = 0;

	if (count == 0)
		return 0;
	if (h == NULL || h->shr)
		return xg_fail(-EINVAL);
	if (segs == NULL)
		return xg_fail(-EFAULT);
	pthread_mutex_lock(&h->lock);
	rc = copy_setup(h);
	for (uint32_t i = 0; rc == 0 && i < count; i++)
		rc = copy_seg(h, &segs[i]);
	if (rc == 0 && h->copy->nr_ops > 0)
		rc = copy_flush(h);
	if (h->copy != NULL)
		h->copy->nr_ops = 0; /* a failed call drops the chunks it had not issued */
	pthread_mutex_unlock(&h->lock);
	return rc == 0 ? 0 : xg_fail(rc);
}

/* ---- dmabuf: no DMA buffers without a kernel driver ------------------------------ */

int
xengnttab_dmabuf_exp_from_refs(struct xg_handle *h, uint32_t domid, uint32_t flags,
			       uint32_t count, const uint32_t *refs, uint32_t *fd)
{
	(void)h, (void)domid, (void)flags, (void)count, (void)refs, (void)fd;
	return xg_fail(-ENOSYS);
}

int
xengnttab_dmabuf_exp_wait_released(struct xg_handle *h, uint32_t fd, uint32_t wait_to_ms)
{
	(void)h, (void)fd, (void)wait_to_ms;
	return xg_fail(-ENOSYS);
}

int
xengnttab_dmabuf_imp_to_refs(struct xg_handle *h, uint32_t domid, uint32_t fd, uint32_t count,
			     uint32_t *refs)
{
	(void)h, (void)domid, (void)fd, (void)count, (void)refs;
	return xg_fail(-ENOSYS);
}

int
xengnttab_dmabuf_imp_release(struct xg_handle *h, uint32_t fd)
{
	(void)h, (void)fd;
	return xg_fail(-ENOSYS);
}
