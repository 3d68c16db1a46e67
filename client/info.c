/* SPDX-License-Identifier: MIT */
/*
 * DOMAIN_INFO from the client side (gntdp/client.h): the first domain at or
 * above a domid, for the libxenctrl shim's xc_domain_getinfo(). Works on a
 * connection that bound no domain.
 */
#include <errno.h>

#include "client_internal.h"

int
gntdp_client_domain_info(struct gntdp_client *c, gntdp_domid_t domid,
			 struct gntdp_ctl_domain_info_reply *out)
{
	struct gntdp_ctl_domain_info m = {.domid = domid};
	struct gntdp_ctl_domain_info_reply ir;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_DOMAIN_INFO,
			   .body = &ir, .body_min = sizeof(ir), .body_max = sizeof(ir)};
	int rc;

	if (c == NULL || out == NULL)
		return -EINVAL;
	rc = cl_request(c, &q);
	if (rc != 0)
		return rc;
	/* The daemon answers the first domain at or above domid, never below. */
	if (ir.domid < domid || ir.domid >= GNTDP_DOMID_FIRST_RESERVED)
		return cl_fail(c, -EPROTO, "DOMAIN_INFO reply: domid out of range");
	*out = ir;
	return 0;
}
