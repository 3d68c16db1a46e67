/* SPDX-License-Identifier: MIT */
/*
 * Guest side of the shared-entry protocol, the part that needs the core:
 * finding a domain's own entries in an in-process world. What a guest does
 * on an entry is in guest_entry.c (also linked by libgntdp-client).
 */
#include <errno.h>

#include "internal.h"

int
gntdp_guest_table(struct gntdp_gnttab *gt, gntdp_domid_t domid,
		  struct gntdp_grant_entry_v1 **entries, uint32_t *nr)
{
	struct domain *d;
	int rc = -ESRCH;

	ctl_enter(gt);
	d = dom_lookup(gt, domid);
	if (d != NULL) {
		*entries = d->shared;
		*nr = nr_entries(d);
		rc = 0;
	}
	ctl_leave(gt);
	return rc;
}

/* ---- Version 2 ------------------------------------------------------------ */

int
gntdp_guest_table_v2(struct gntdp_gnttab *gt, gntdp_domid_t domid,
		     union gntdp_grant_entry_v2 **entries, gntdp_grant_status_t **status,
		     uint32_t *nr)
{
	struct domain *d;
	int rc = -ESRCH;

	ctl_enter(gt);
	d = dom_lookup(gt, domid);
	if (d != NULL) {
		rc = -EINVAL;
		if (gt_version(d) == 2) {
			*entries = d->shared_v2;
			*status = d->status;
			*nr = nr_entries_v(d, 2);
			rc = 0;
		}
	}
	ctl_leave(gt);
	return rc;
}
