/* SPDX-License-Identifier: MIT */
/*
 * The gnttab half's maps: xengnttab_map_grant_ref(s), map_domain_grant_refs,
 * map_grant_ref_notify and unmap. They need cross-process host maps
 * (gntdp_client_map_fd(), docs/daemon.md "Physmap layout"); until the
 * client library has them every map fails with ENOSYS and unmap with
 * EINVAL (nothing is ever mapped).
 */
#include <errno.h>

#include "xg.h"

void *xengnttab_map_grant_ref(struct xg_handle *h, uint32_t domid, uint32_t ref, int prot);
void *xengnttab_map_grant_refs(struct xg_handle *h, uint32_t count, uint32_t *domids,
			       uint32_t *refs, int prot);
void *xengnttab_map_domain_grant_refs(struct xg_handle *h, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot);
void *xengnttab_map_grant_ref_notify(struct xg_handle *h, uint32_t domid, uint32_t ref, int prot,
				     uint32_t notify_offset, uint32_t notify_port);
int xengnttab_unmap(struct xg_handle *h, void *start_address, uint32_t count);

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

void *
xengnttab_map_grant_ref(struct xg_handle *h, uint32_t domid, uint32_t ref, int prot)
{
	return xengnttab_map_domain_grant_refs(h, 1, domid, &ref, prot);
}

void *
xengnttab_map_grant_ref_notify(struct xg_handle *h, uint32_t domid, uint32_t ref, int prot,
			       uint32_t notify_offset, uint32_t notify_port)
{
	(void)notify_offset, (void)notify_port;
	return xengnttab_map_domain_grant_refs(h, 1, domid, &ref, prot);
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
