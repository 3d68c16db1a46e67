/* SPDX-License-Identifier: MIT */
/*
 * The peek cache: read-only host mappings of TX pages through which the
 * backend reads frame headers, and their ageing with the data plane's hold
 * bound (taken + hold_us + one iteration).
 */
#include "be_internal.h"

void
peek_release_all(struct be *be, struct be_vif *v)
{
	if (v->peek == NULL)
		return;
	for (uint32_t i = 0; i <= v->peek_mask; i++) {
		struct peek_ent *e = &v->peek[i];
		struct gntdp_gnttab_unmap_grant_ref u = {
			.host_addr = (v->peek_gfn + i) << GNTDP_PAGE_SHIFT,
			.handle = e->handle,
		};

		if (!e->valid)
			continue;
		gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
		e->valid = false;
		CTR_ADD(v->st.peek_unmaps, 1);
	}
}

/* ---- vif TX: resolve (peek cache) -------------------------------------------- */

__attribute__((noinline)) int16_t
peek_miss(struct be *be, struct be_vif *v, struct peek_ent *e, gntdp_grant_ref_t gref,
	  const uint8_t **va)
{
	uint64_t gfn = v->peek_gfn + (uint64_t)(e - v->peek);
	struct gntdp_gnttab_map_grant_ref m = {
		.host_addr = gfn << GNTDP_PAGE_SHIFT,
		.flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY,
		.ref = gref,
		.dom = v->domid,
	};

	if (e->valid) {
		struct gntdp_gnttab_unmap_grant_ref u = {
			.host_addr = gfn << GNTDP_PAGE_SHIFT,
			.handle = e->handle,
		};

		gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
		e->valid = false;
		CTR_ADD(v->st.peek_unmaps, 1);
	}
	if (gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_MAP_GRANT_REF, &m, 1) != 0)
		return GNTDP_GNTST_GENERAL_ERROR;
	if (m.status != GNTDP_GNTST_OKAY)
		return m.status;
	e->va = gntdp_domain_frame(be->gt, be->domid, gfn);
	if (e->va == NULL) {
		struct gntdp_gnttab_unmap_grant_ref u = {
			.host_addr = gfn << GNTDP_PAGE_SHIFT,
			.handle = m.handle,
		};

		gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
		return GNTDP_GNTST_GENERAL_ERROR;
	}
	e->gref = gref;
	e->handle = m.handle;
	e->valid = true;
	/* Taken now: released by the hold bound from now, however often it is used. */
	e->taken = be->now;
	if (be->now < v->peek_oldest)
		v->peek_oldest = be->now;
	CTR_ADD(v->st.peek_maps, 1);
	*va = e->va;
	return GNTDP_GNTST_OKAY;
}

/* Unmap the peek mappings of @p v taken before @p older_than; recompute the oldest stamp. */
static void
peek_expire(struct be *be, struct be_vif *v, uint64_t older_than)
{
	uint64_t oldest = UINT64_MAX;

	for (uint32_t i = 0; i <= v->peek_mask; i++) {
		struct peek_ent *e = &v->peek[i];

		if (e->valid && e->taken < older_than) {
			struct gntdp_gnttab_unmap_grant_ref u = {
				.host_addr = (v->peek_gfn + i) << GNTDP_PAGE_SHIFT,
				.handle = e->handle,
			};

			gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
			e->valid = false;
			CTR_ADD(v->st.peek_unmaps, 1);
			CTR_ADD(be->st.pins_expired, 1);
		} else if (e->valid && e->taken < oldest) {
			oldest = e->taken;
		}
	}
	v->peek_oldest = oldest;
	CTR_ADD(be->st.expire_walks, 1);
}

/*
 * The hold bound for the peek mappings, on every call of the poller, busy or
 * idle, as the worker does for the cached pins: a mapping taken at @p now'
 * is unmapped by the first call with now > now' + hold, hence at most
 * hold_us plus one iteration after it was taken. A vif is walked only when
 * its oldest mapping is due; the walk then also releases the mappings taken
 * in the first half of the hold (early release is always allowed), so that
 * a vif is walked at most about once per hold / 2.
 */
void
peek_age(struct be *be, uint64_t now, uint64_t hold)
{
	uint64_t due = now > hold ? now - hold : 0;
	uint64_t early = now > hold / 2 ? now - hold / 2 : 0;

	for (unsigned int i = 0; i < be->nb_vifs; i++) {
		struct be_vif *v = &be->vifs[i];

		/* Disabled vifs too: their mappings obey the bound as well. */
		if (unlikely(v->peek_oldest < due) && v->peek != NULL)
			peek_expire(be, v, early);
	}
}
