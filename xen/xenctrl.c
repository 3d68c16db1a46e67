/* SPDX-License-Identifier: MIT */
/*
 * libxenctrl.so.4.17 for gntdp: the real part of the shim. Every other
 * symbol Debian's library exports is a stub (xenctrl_stubs.c, generated
 * from xenctrl.syms by gen-stubs.py) that fails with ENOSYS.
 *
 * Real: xc_interface_open / xc_interface_close (a connection to gntdpd of
 * its own, HELLO only: it binds no domain, so a program may open it before
 * or without the drop-ins that bind $GNTDP_DOMID) and xc_domain_getinfo
 * (DOMAIN_INFO, the first domain at or above a domid, as Xen's
 * XEN_DOMCTL_getdomaininfo). That is what vchan-socket-proxy calls: it asks
 * whether its peer domain is gone (ESRCH, another domid, or dying). And
 * xc_domain_getinfolist, the same answers in the domctl's own layout.
 *
 * Errors follow libxenctrl: -1 or NULL with errno set. The logger arguments
 * are accepted and not used (nothing here logs). Handles are not
 * thread-safe, as XC_OPENFLAG_NON_REENTRANT allows; one handle per thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gntdp/client.h>

#include "xc_abi.h"

#define XC_PAGE_SHIFT 12

/* The opaque xc_interface of the callers. */
struct gntdp_xc {
	struct gntdp_client *c;
};

struct gntdp_xc *xc_interface_open(void *logger, void *dombuild_logger, unsigned int open_flags);
int xc_interface_close(struct gntdp_xc *xch);
int xc_domain_getinfo(struct gntdp_xc *xch, uint32_t first_domid, unsigned int max_doms,
		      struct gntdp_xc_dominfo *info);
int xc_domain_getinfolist(struct gntdp_xc *xch, uint32_t first_domain, unsigned int max_domains,
			  struct gntdp_xc_domaininfo *info);

struct gntdp_xc *
xc_interface_open(void *logger, void *dombuild_logger, unsigned int open_flags)
{
	struct gntdp_xc *xch;
	int rc;

	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	xch = calloc(1, sizeof(*xch));
	if (xch == NULL)
		return NULL;
	/* $GNTDP_SOCKET, else the default path (gntdp-run sets it). */
	rc = gntdp_client_connect(NULL, &xch->c);
	if (rc != 0) {
		free(xch);
		errno = -rc;
		return NULL;
	}
	return xch;
}

int
xc_interface_close(struct gntdp_xc *xch)
{
	if (xch == NULL)
		return 0;
	gntdp_client_close(xch->c);
	free(xch);
	return 0;
}

static void
fill(struct gntdp_xc_dominfo *di, const struct gntdp_ctl_domain_info_reply *ir)
{
	memset(di, 0, sizeof(*di));
	di->domid = ir->domid;
	di->dying = (ir->flags & GNTDP_CTL_DOMINFO_DYING) != 0;
	/* A bound domain's process runs; an unbound one (DOMAIN_CREATE) waits for it. */
	di->running = (ir->flags & GNTDP_CTL_DOMINFO_BOUND) != 0 && !di->dying;
	di->paused = (ir->flags & GNTDP_CTL_DOMINFO_BOUND) == 0;
	di->nr_pages = ir->nr_frames;
	di->max_memkb = (unsigned long)ir->nr_frames << (XC_PAGE_SHIFT - 10);
	di->nr_online_vcpus = 1;
	di->max_vcpu_id = 0;
}

static void
fill_list(struct gntdp_xc_domaininfo *di, const struct gntdp_ctl_domain_info_reply *ir)
{
	struct gntdp_xc_dominfo d;

	fill(&d, ir);
	memset(di, 0, sizeof(*di));
	di->domain = (uint16_t)d.domid;
	di->flags = (d.dying ? GNTDP_XC_DOMINF_DYING : 0u) |
		    (d.paused ? GNTDP_XC_DOMINF_PAUSED : 0u) |
		    (d.running ? GNTDP_XC_DOMINF_RUNNING : 0u);
	di->tot_pages = d.nr_pages;
	di->max_pages = d.nr_pages;
	di->nr_online_vcpus = d.nr_online_vcpus;
}

/*
 * The domains at or above @p first, ascending, at most @p max of them, each
 * given to @p put. The count, or -errno of the first request when none.
 */
static int
walk(struct gntdp_xc *xch, uint32_t first, unsigned int max, void *out,
     void (*put)(void *out, unsigned int i, const struct gntdp_ctl_domain_info_reply *ir))
{
	struct gntdp_ctl_domain_info_reply ir;
	uint32_t next = first;
	unsigned int n;
	int rc = 0;

	for (n = 0; n < max; n++) {
		/* Xen's domctl takes a 16-bit domid: past the last one there is none. */
		if (next >= GNTDP_DOMID_FIRST_RESERVED) {
			rc = -ESRCH;
			break;
		}
		rc = gntdp_client_domain_info(xch->c, (gntdp_domid_t)next, &ir);
		if (rc != 0)
			break;
		put(out, n, &ir);
		next = ir.domid + 1u;
	}
	return n > 0 ? (int)n : rc;
}

static void
put_info(void *out, unsigned int i, const struct gntdp_ctl_domain_info_reply *ir)
{
	fill(&((struct gntdp_xc_dominfo *)out)[i], ir);
}

static void
put_list(void *out, unsigned int i, const struct gntdp_ctl_domain_info_reply *ir)
{
	fill_list(&((struct gntdp_xc_domaininfo *)out)[i], ir);
}

int
xc_domain_getinfo(struct gntdp_xc *xch, uint32_t first_domid, unsigned int max_doms,
		  struct gntdp_xc_dominfo *info)
{
	int rc;

	if (xch == NULL || (info == NULL && max_doms > 0)) {
		errno = EINVAL;
		return -1;
	}
	/* As Xen's: -1 with the first domctl's errno (ESRCH) when none is found. */
	rc = walk(xch, first_domid, max_doms, info, put_info);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

int
xc_domain_getinfolist(struct gntdp_xc *xch, uint32_t first_domain, unsigned int max_domains,
		      struct gntdp_xc_domaininfo *info)
{
	int rc;

	if (xch == NULL || (info == NULL && max_domains > 0)) {
		errno = EINVAL;
		return -1;
	}
	/* As Xen's sysctl: no domain at or above first_domain is a count of 0. */
	rc = walk(xch, first_domain, max_domains, info, put_list);
	if (rc == -ESRCH)
		return 0;
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}
