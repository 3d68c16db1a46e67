/* SPDX-License-Identifier: MIT */
/* libgntdp-client's unmap notifications: NOTIFY_SET and NOTIFY_FIRE (gntdp/ctl.h). */
#include <errno.h>

#include "client_internal.h"

int
gntdp_client_notify_set(struct gntdp_client *c, const struct gntdp_client_notify *n, uint32_t *id)
{
	struct gntdp_ctl_notify_set m = {0};
	struct gntdp_ctl_notify_set_reply rep;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_NOTIFY_SET,
			   .body = &rep, .body_min = sizeof(rep), .body_max = sizeof(rep)};
	int rc;

	if (c == NULL || n == NULL || id == NULL)
		return -EINVAL;
	m.kind = n->kind;
	m.flags = n->flags;
	m.gfn = n->gfn;
	m.offset = n->offset;
	m.port = n->port;
	m.granter = n->granter;
	m.ref = n->ref;
	rc = cl_request(c, &q);
	if (rc == 0)
		*id = rep.id;
	return rc;
}

int
gntdp_client_notify_fire(struct gntdp_client *c, uint32_t id, bool drop)
{
	struct gntdp_ctl_notify_fire m = {0};
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_NOTIFY_FIRE};

	if (c == NULL)
		return -EINVAL;
	m.id = id;
	m.flags = drop ? GNTDP_CTL_NOTIFY_DROP : 0;
	return cl_request(c, &q);
}
