/* SPDX-License-Identifier: MIT */
/*
 * The gntshr half of the drop-in libxengnttab.so.1: open, close, fd, and
 * the shares. Shares need share segments (gntdp_client_share_alloc(),
 * docs/daemon.md "Physmap layout"); until the client library has them
 * share_pages and share_page_notify fail with ENOSYS.
 */
#include <errno.h>

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
	if (h == NULL)
		return xg_fail(-EINVAL);
	return gntdp_client_ring_fd(h->r);
}

void *
xengntshr_share_pages(struct xg_handle *h, uint32_t domid, int count, uint32_t *refs, int writable)
{
	(void)h, (void)domid, (void)count, (void)refs, (void)writable;
	return xg_fail_ptr(-ENOSYS);
}

void *
xengntshr_share_page_notify(struct xg_handle *h, uint32_t domid, uint32_t *ref, int writable,
			    uint32_t notify_offset, uint32_t notify_port)
{
	(void)notify_offset, (void)notify_port;
	return xengntshr_share_pages(h, domid, 1, ref, writable);
}

int
xengntshr_unshare(struct xg_handle *h, void *start_address, uint32_t count)
{
	(void)h, (void)start_address, (void)count;
	return xg_fail(-EINVAL);
}

void
xg_shares_close(struct xg_handle *h)
{
	(void)h;
}
