/* SPDX-License-Identifier: MIT */
/*
 * DOMAIN_INFO (gntdp/ctl.h): which domain comes first at or above a
 * domid, and its state, as Xen's XEN_DOMCTL_getdomaininfo answers. It is
 * what the libxenctrl shim's xc_domain_getinfo() asks (xen/xenctrl.c):
 * vchan-socket-proxy polls it to learn whether its peer domain is gone.
 *
 * Unprivileged by design: a domain's existence, size and state are what
 * every Xen guest learns from xenstore's @releaseDomain anyway; nothing of
 * a domain's memory, connection or credentials is in the reply.
 *
 * Dying: a domain's teardown (dom_conn_gone, dom_destroy) runs to its end
 * on the control thread, which serves this request too, so a live domain is
 * never seen half destroyed. A destroyed domain whose grants others still
 * map (a zombie in the core) is no longer in the daemon's table: it is
 * reported absent, as a domain Xen has finished killing would be; DYING is
 * set for a bound domain whose connection is already marked closing.
 */
#include <errno.h>
#include <string.h>

#include "gntdpd.h"

int
info_domain(struct gntdpd *d, const struct gntdp_ctl_domain_info *m, struct d_reply *r)
{
	struct gntdp_ctl_domain_info_reply ir = {0};
	const struct d_domain *best = NULL;

	if (m->domid >= GNTDP_DOMID_FIRST_RESERVED)
		return d_fail(r, -EINVAL, "domid: %u, not below DOMID_FIRST_RESERVED (%u)",
			      m->domid, GNTDP_DOMID_FIRST_RESERVED);
	for (unsigned int i = 0; i < D_MAX_DOMAINS; i++) {
		const struct d_domain *x = d->doms[i];

		if (x != NULL && x->domid >= m->domid && (best == NULL || x->domid < best->domid))
			best = x;
	}
	if (best == NULL)
		return d_fail(r, -ESRCH, "domid: no domain at or above %u", m->domid);
	ir.domid = best->domid;
	if (best->conn != NULL)
		ir.flags |= GNTDP_CTL_DOMINFO_BOUND |
			    (best->conn->closing ? GNTDP_CTL_DOMINFO_DYING : 0u);
	if (best->domid == 0)
		ir.flags |= GNTDP_CTL_DOMINFO_PRIVILEGED;
	ir.nr_frames = best->nr_frames;
	ir.max_grant_frames = best->max_grant_frames;
	ir.nr_rings = best->conn != NULL ? best->conn->nb_rings : 0;
	memcpy(r->body, &ir, sizeof(ir));
	r->body_len = sizeof(ir);
	return 0;
}
