/* SPDX-License-Identifier: MIT */
/*
 * The gnttab half's maps: xengnttab_map_grant_ref(s), map_domain_grant_refs,
 * map_grant_ref_notify and unmap, as Linux's gntdev gives them
 * (drivers/xen/gntdev.c, Xen's tools/libs/gnttab/linux.c):
 *
 *  - count frames are mapped with one GNTTABOP_map_grant_ref batch
 *    (GNTMAP_host_map at gfns of the host-map window, GNTMAP_readonly unless
 *    PROT_WRITE), then gntdp_client_map_fd() maps those foreign frames into
 *    one reserved VA range: virtually contiguous over discontiguous frames,
 *    PROT_READ honoured (the fd is read-only then);
 *  - any failure leaves no mapping: the grants that mapped are unmapped and
 *    the call is NULL with EINVAL for a bad status (a bad ref or domid,
 *    PROT_WRITE on a read-only grant: Linux's mmap fails with EINVAL),
 *    EACCES for a frame the daemon will not hand over (not in a share
 *    segment granted to us), ENOMEM when the window or RAM is full;
 *  - unmap(addr, count) must name exactly what one map call returned
 *    (EINVAL otherwise); it munmaps, then GNTTABOP_unmap_grant_ref;
 *  - a mapping the program munmapped itself (libxenvchan does on
 *    multi-page rings) is found by the next map, unmap or close of any
 *    handle (the VMAs recorded at map time no longer in /proc/self/maps)
 *    and its grants are unmapped then; what is left of it and still ours
 *    is munmapped, nothing else.
 *
 * The op arrays live in one RAM frame per handle (xg_handle.ops), taken on
 * the first map; a larger call runs in chunks of what fits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xg.h"

void *xengnttab_map_grant_ref(struct xg_handle *h, uint32_t domid, uint32_t ref, int prot);
void *xengnttab_map_grant_refs(struct xg_handle *h, uint32_t count, uint32_t *domids,
			       uint32_t *refs, int prot);
void *xengnttab_map_domain_grant_refs(struct xg_handle *h, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot);
void *xengnttab_map_grant_ref_notify(struct xg_handle *h, uint32_t domid, uint32_t ref, int prot,
				     uint32_t notify_offset, uint32_t notify_port);
int xengnttab_unmap(struct xg_handle *h, void *start_address, uint32_t count);

/* The handle's op frame in RAM, taken on first use (freed by close). */
int
xg_ops_frame(struct xg_handle *h, void **ops)
{
	int rc = 0;

	if (!h->ops_valid) {
		rc = xg_ram_alloc(1, &h->ops_gfn);
		h->ops_valid = rc == 0;
	}
	if (rc == 0)
		*ops = gntdp_client_gaddr_ptr(h->c, (uint64_t)h->ops_gfn * XG_PAGE, XG_PAGE);
	return rc;
}

#ifdef HAVE_GNTDP_CLIENT_MAP_FD

struct xg_map {
	struct xg_map *next;
	uint8_t *addr;
	uint32_t count;
	uint64_t *gfns;
	uint32_t *handles;
	struct xg_vma *vmas; /* as mapped (xg_vmas_record) */
	unsigned int nr_vmas;
	uint32_t notify_id; /* 0: none */
};

/* Gntdev limits one request to 64Ki grants (its limit parameter): so do we. */
#define XG_MAP_MAX 65536u

/* GNTTABOP_unmap_grant_ref of @p n host maps (in chunks of a frame). */
static void
grants_unmap(struct xg_handle *h, const uint64_t *gfns, const uint32_t *handles, uint32_t n)
{
	const uint32_t per = XG_PAGE / sizeof(struct gntdp_gnttab_unmap_grant_ref);
	struct gntdp_gnttab_unmap_grant_ref *ops;

	if (xg_ops_frame(h, (void **)&ops) != 0)
		return; /* no RAM: the daemon unmaps them when the domain goes */
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < per ? n - done : per;

		for (uint32_t i = 0; i < k; i++) {
			memset(&ops[i], 0, sizeof(ops[i]));
			ops[i].host_addr = gfns[done + i] * XG_PAGE;
			ops[i].handle = handles[done + i];
		}
		if (gntdp_client_hcall(h->r, GNTDP_GNTTABOP_UNMAP_GRANT_REF, ops, k) != 0)
			return;
		done += k;
	}
}

/* Unmap the ones of @p n that mapped (handle != XG_NO_HANDLE). */
static void
grants_unmap_mapped(struct xg_handle *h, const uint64_t *gfns, const uint32_t *handles, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (handles[i] != XG_NO_HANDLE)
			grants_unmap(h, &gfns[i], &handles[i], 1);
}

/* GNTTABOP_map_grant_ref of @p n refs at @p gfns; all or none. */
static int
grants_map(struct xg_handle *h, uint32_t n, const uint32_t *domids, size_t dstride,
	   const uint32_t *refs, bool writable, const uint64_t *gfns, uint32_t *handles)
{
	const uint32_t per = XG_PAGE / sizeof(struct gntdp_gnttab_map_grant_ref);
	struct gntdp_gnttab_map_grant_ref *ops;
	int rc;

	for (uint32_t i = 0; i < n; i++)
		handles[i] = XG_NO_HANDLE;
	rc = xg_ops_frame(h, (void **)&ops);
	for (uint32_t done = 0; rc == 0 && done < n; done += per) {
		uint32_t k = n - done < per ? n - done : per;

		for (uint32_t i = 0; i < k; i++) {
			memset(&ops[i], 0, sizeof(ops[i]));
			ops[i].host_addr = gfns[done + i] * XG_PAGE;
			ops[i].flags = GNTDP_GNTMAP_HOST_MAP | (writable ? 0 : GNTDP_GNTMAP_READONLY);
			ops[i].ref = refs[done + i];
			ops[i].dom = (gntdp_domid_t)domids[(done + i) * dstride];
			ops[i].status = 1; /* not run */
		}
		rc = gntdp_client_hcall(h->r, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, k);
		for (uint32_t i = 0; i < k; i++) {
			if (ops[i].status == GNTDP_GNTST_OKAY)
				handles[done + i] = ops[i].handle;
			else if (rc == 0)
				rc = -EINVAL; /* Linux: the mmap of a batch with a bad op */
		}
	}
	if (rc != 0)
		grants_unmap_mapped(h, gfns, handles, n);
	return rc;
}

static void
map_free(struct xg_map *m)
{
	free(m->gfns);
	free(m->handles);
	free(m->vmas);
	free(m);
}

/* Tear one mapping down: munmap what is still ours (@p all NULL: all of it), then the grants. */
static void
map_teardown(struct xg_handle *h, struct xg_map *m, const struct xg_vma *all, unsigned int n)
{
	if (all == NULL)
		munmap(m->addr, (size_t)m->count * XG_PAGE);
	else
		xg_vmas_munmap_ours(m->vmas, m->nr_vmas, all, n);
	grants_unmap(h, m->gfns, m->handles, m->count);
	xg_mapgfn_free(m->gfns, m->count);
	map_free(m);
}

/* Unmapped, by the program or by us: its notification first, while the frame is still mapped. */
static void
map_gone(struct xg_handle *h, struct xg_map *m, const struct xg_vma *all, unsigned int n)
{
	xg_notify_fire(h, m->notify_id);
	map_teardown(h, m, all, n);
}

/* Mappings the program munmapped (wholly or partly) behind our back: clean them up. */
static void
maps_sweep(struct xg_handle *h)
{
	struct xg_vma *all;
	unsigned int n;

	if (h->maps == NULL || xg_vmas_read(&all, &n) != 0)
		return;
	for (struct xg_map **pp = &h->maps; *pp != NULL;) {
		struct xg_map *m = *pp;

		if (xg_vmas_intact(m->vmas, m->nr_vmas, all, n)) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		map_gone(h, m, all, n);
	}
	free(all);
}

static void *
map_refs(struct xg_handle *h, uint32_t count, const uint32_t *domids, size_t dstride,
	 const uint32_t *refs, int prot)
{
	bool writable = (prot & PROT_WRITE) != 0;
	struct xg_map *m;
	void *va;
	int rc;

	if (h == NULL || h->shr || count == 0 || count > XG_MAP_MAX)
		return xg_fail_ptr(-EINVAL);
	if (domids == NULL || refs == NULL)
		return xg_fail_ptr(-EFAULT);
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return xg_fail_ptr(-ENOMEM);
	m->count = count;
	m->gfns = calloc(count, sizeof(*m->gfns));
	m->handles = calloc(count, sizeof(*m->handles));
	if (m->gfns == NULL || m->handles == NULL) {
		map_free(m);
		return xg_fail_ptr(-ENOMEM);
	}
	pthread_mutex_lock(&h->lock);
	maps_sweep(h);
	rc = xg_mapgfn_alloc(count, m->gfns);
	if (rc != 0) {
		rc = -ENOMEM;
		goto err_free;
	}
	rc = grants_map(h, count, domids, dstride, refs, writable, m->gfns, m->handles);
	if (rc != 0)
		goto err_gfns;
	va = mmap(NULL, (size_t)count * XG_PAGE, PROT_NONE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (va == MAP_FAILED) {
		rc = -ENOMEM;
		goto err_grants;
	}
	m->addr = va;
	rc = gntdp_client_map_fd(h->c, m->gfns, count, va, prot & (PROT_READ | PROT_WRITE));
	if (rc == 0)
		rc = xg_vmas_record(va, (size_t)count * XG_PAGE, &m->vmas, &m->nr_vmas);
	if (rc != 0)
		goto err_va;
	m->next = h->maps;
	h->maps = m;
	pthread_mutex_unlock(&h->lock);
	return va;
err_va:
	munmap(va, (size_t)count * XG_PAGE);
err_grants:
	grants_unmap(h, m->gfns, m->handles, count);
err_gfns:
	xg_mapgfn_free(m->gfns, count);
err_free:
	pthread_mutex_unlock(&h->lock);
	map_free(m);
	return xg_fail_ptr(rc);
}

void *
xengnttab_map_grant_refs(struct xg_handle *h, uint32_t count, uint32_t *domids, uint32_t *refs,
			 int prot)
{
	return map_refs(h, count, domids, 1, refs, prot);
}

/* Register (byte, port) for the single-page map at @p va; on failure, unmap it. */
static void *
map_notify(struct xg_handle *h, void *va, uint32_t domid, uint32_t ref, uint32_t offset,
	   uint32_t port)
{
	struct xg_map *m;
	int rc;

	pthread_mutex_lock(&h->lock);
	for (m = h->maps; m != NULL && m->addr != va; m = m->next)
		;
	rc = m == NULL ? -EINVAL :
			 xg_notify_set(h, GNTDP_CTL_NOTIFY_MAP, m->gfns[0], offset, port, domid,
				       ref, &m->notify_id);
	pthread_mutex_unlock(&h->lock);
	if (rc == 0)
		return va;
	xengnttab_unmap(h, va, 1);
	return xg_fail_ptr(rc);
}

void *
xengnttab_map_domain_grant_refs(struct xg_handle *h, uint32_t count, uint32_t domid,
				uint32_t *refs, int prot)
{
	return map_refs(h, count, &domid, 0, refs, prot);
}

int
xengnttab_unmap(struct xg_handle *h, void *start_address, uint32_t count)
{
	struct xg_map **pp, *m;

	if (h == NULL || h->shr || start_address == NULL)
		return xg_fail(-EINVAL);
	pthread_mutex_lock(&h->lock);
	for (pp = &h->maps; *pp != NULL && (*pp)->addr != start_address; pp = &(*pp)->next)
		;
	m = *pp;
	if (m == NULL || m->count != count) {
		pthread_mutex_unlock(&h->lock);
		return xg_fail(-EINVAL); /* gntdev: exactly what one map call mapped */
	}
	*pp = m->next;
	map_gone(h, m, NULL, 0);
	maps_sweep(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void
xg_maps_close(struct xg_handle *h)
{
	maps_sweep(h);
	while (h->maps != NULL) {
		struct xg_map *m = h->maps;

		h->maps = m->next;
			map_teardown(h, m, NULL, 0);
	}
}

#else /* !HAVE_GNTDP_CLIENT_MAP_FD: the client library cannot map foreign frames yet */

void *
xengnttab_map_grant_refs(struct xg_handle *h, uint32_t count, uint32_t *domids, uint32_t *refs,
			 int prot)
{
	(void)h, (void)count, (void)domids, (void)refs, (void)prot;
	return xg_fail_ptr(-ENOSYS);
}

void *
xengnttab_map_domain_grant_refs(struct xg_handle *h, uint32_t count, uint32_t domid,
				uint32_t *refs, int prot)
{
	(void)h, (void)count, (void)domid, (void)refs, (void)prot;
	return xg_fail_ptr(-ENOSYS);
}

int
xengnttab_unmap(struct xg_handle *h, void *start_address, uint32_t count)
{
	(void)h, (void)start_address, (void)count;
	return xg_fail(-EINVAL);
}

void
xg_maps_close(struct xg_handle *h)
{
	(void)h;
}

#endif

void
xg_ops_free(struct xg_handle *h)
{
	if (h->ops_valid)
		xg_ram_free(h->ops_gfn, 1);
	h->ops_valid = false;
}

void *
xengnttab_map_grant_ref(struct xg_handle *h, uint32_t domid, uint32_t ref, int prot)
{
	return xengnttab_map_domain_grant_refs(h, 1, domid, &ref, prot);
}

void *
xengnttab_map_grant_ref_notify(struct xg_handle *h, uint32_t domid, uint32_t ref, int prot,
			       uint32_t notify_offset, uint32_t notify_port)
{
	void *va;

	/* gntdev: clearing a byte of a read-only map is EINVAL. */
	if (notify_offset < XG_PAGE && !(prot & PROT_WRITE))
		return xg_fail_ptr(-EINVAL);
	va = xengnttab_map_domain_grant_refs(h, 1, domid, &ref, prot);
#ifdef HAVE_GNTDP_CLIENT_MAP_FD
	if (va != NULL)
		va = map_notify(h, va, domid, ref, notify_offset, notify_port);
#else
	(void)notify_port;
#endif
	return va;
}
