/* SPDX-License-Identifier: MIT */
/*
 * Guest-side helpers (gntdp_guest_*) against the protocol of spec §3.3 and
 * §10.2: publish an entry, end access only while neither GTF_reading nor
 * GTF_writing is set, read-only toggles that respect GTF_writing, and the
 * accept_transfer end (§3.3 item 4).
 */
#include <errno.h>
#include <string.h>

#include "tcommon.h"

#define SELF GNTDP_DOMID_SELF
#define PA GNTDP_GTF_PERMIT_ACCESS
#define RD GNTDP_GTF_READING
#define WR GNTDP_GTF_WRITING
#define ROF GNTDP_GTF_READONLY
#define AT GNTDP_GTF_ACCEPT_TRANSFER
#define HOST GNTDP_GNTMAP_HOST_MAP
#define DEV GNTDP_GNTMAP_DEVICE_MAP
#define RO GNTDP_GNTMAP_READONLY
#define HA(gfn) ((uint64_t)(gfn) << GNTDP_PAGE_SHIFT)

static int
test_guest_table_shape(void)
{
	struct tw *w = tw_std();
	struct gntdp_grant_entry_v1 *e;
	uint32_t n;

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_table(w->gt, DA, &e, &n), 0);
	T_EQ(n, GNTDP_GRANT_ENTRIES_PER_FRAME_V1);
	T_TRUE(e != NULL);
	/* A fresh table is all invalid entries. */
	for (uint32_t i = 0; i < n; i++) {
		T_EQ(e[i].flags, 0);
		T_EQ(e[i].domid, 0);
		T_EQ(e[i].frame, 0);
	}
	T_EQ(gntdp_guest_table(w->gt, DNONE, &e, &n), -ESRCH);
	return TC_PASS;
}

static int
test_grant_access_writes_entry(void)
{
	struct tw *w = tw_std();
	struct gntdp_grant_entry_v1 *e;

	T_TRUE(w != NULL);
	e = tw_ent(w, DA, 10);
	T_EQ(gntdp_guest_grant_access(e, DB, 0x12345, false), 0);
	T_EQ(e->flags, PA);
	T_EQ(e->domid, DB);
	T_EQ(e->frame, 0x12345);
	e = tw_ent(w, DA, 11);
	T_EQ(gntdp_guest_grant_access(e, DC, 7, true), 0);
	T_EQ(e->flags, PA | ROF);
	T_EQ(e->domid, DC);
	T_EQ(e->frame, 7);
	return TC_PASS;
}

static int
test_grant_on_used_entry_ebusy(void)
{
	struct tw *w = tw_std();
	struct gntdp_grant_entry_v1 *e;

	T_TRUE(w != NULL);
	e = tw_ent(w, DA, 10);
	T_EQ(gntdp_guest_grant_access(e, DB, 20, false), 0);
	T_EQ(gntdp_guest_grant_access(e, DC, 21, true), -EBUSY);
	T_EQ(gntdp_guest_grant_transfer(e, DC, 1000), -EBUSY);
	T_EQ(e->flags, PA);
	T_EQ(e->domid, DB);
	T_EQ(e->frame, 20);
	e = tw_ent(w, DA, 11);
	T_EQ(gntdp_guest_grant_transfer(e, DB, 1000), 0);
	T_EQ(e->flags, AT);
	T_EQ(e->domid, DB);
	T_EQ(e->frame, 1000);
	T_EQ(gntdp_guest_grant_access(e, DB, 20, false), -EBUSY);
	T_EQ(gntdp_guest_grant_transfer(e, DC, 1001), -EBUSY);
	T_EQ(e->frame, 1000);
	return TC_PASS;
}

static int
test_end_access_unused(void)
{
	struct tw *w = tw_std();
	struct gntdp_grant_entry_v1 *e;

	T_TRUE(w != NULL);
	e = tw_ent(w, DA, 10);
	T_EQ(gntdp_guest_grant_access(e, DB, 20, true), 0);
	T_EQ(gntdp_guest_end_access(e), 0);
	T_EQ(e->flags, 0);
	/* The entry is reusable, for a different grantee. */
	T_EQ(gntdp_guest_grant_access(e, DC, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_map(w, DC, DA, 10, HOST, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_end_access_busy_while_mapped(void)
{
	static const uint32_t fl[] = {HOST | RO, HOST, DEV | RO, DEV, HOST | DEV};
	struct tw *w = tw_std();
	struct gntdp_grant_entry_v1 *e;

	T_TRUE(w != NULL);
	e = tw_ent(w, DA, 10);
	T_EQ(gntdp_guest_grant_access(e, DB, 20, false), 0);
	for (int i = 0; i < 5; i++) {
		uint32_t h;
		uint64_t dev;
		uint16_t before;

		T_ST(tw_map(w, DB, DA, 10, fl[i], 1000, &h, &dev), GNTDP_GNTST_OKAY);
		before = e->flags;
		T_EQ(gntdp_guest_end_access(e), -EBUSY);
		T_EQ(e->flags, before);
		T_ST(tw_unmap(w, DB, h, (fl[i] & HOST) ? HA(1000) : 0, (fl[i] & DEV) ? dev : 0),
		     GNTDP_GNTST_OKAY);
	}
	T_EQ(gntdp_guest_end_access(e), 0);
	T_EQ(e->flags, 0);
	/* Ended: gntdp never touches the frame through this entry again. */
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

static int
test_set_readonly_rules(void)
{
	struct tw *w = tw_std();
	struct gntdp_grant_entry_v1 *e;
	uint32_t hr, hw;

	T_TRUE(w != NULL);
	e = tw_ent(w, DA, 10);
	T_EQ(gntdp_guest_grant_access(e, DB, 20, false), 0);
	/* Writing set: refused. */
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &hw, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_guest_set_readonly(e), -EBUSY);
	T_EQ(e->flags, PA | RD | WR);
	/* Reading only: allowed, and the reading bit survives. */
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1001, &hr, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, hw, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(e->flags, PA | RD);
	T_EQ(gntdp_guest_set_readonly(e), 0);
	T_EQ(e->flags, PA | RD | ROF);
	T_EQ(gntdp_guest_set_readonly(e), 0); /* idempotent */
	T_ST(tw_unmap(w, DB, hr, HA(1001), 0), GNTDP_GNTST_OKAY);
	T_EQ(e->flags, PA | ROF);
	gntdp_guest_set_writable(e);
	T_EQ(e->flags, PA);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &hw, NULL), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_set_readonly_not_permit_access_einval(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_set_readonly(tw_ent(w, DA, 10)), -EINVAL);
	T_EQ(tw_flags(w, DA, 10), 0);
	T_EQ(gntdp_guest_grant_transfer(tw_ent(w, DA, 11), DB, 1000), 0);
	T_EQ(gntdp_guest_set_readonly(tw_ent(w, DA, 11)), -EINVAL);
	T_EQ(tw_flags(w, DA, 11), AT);
	return TC_PASS;
}

static int
test_end_transfer_rules(void)
{
	struct tw *w = tw_std();
	struct gntdp_grant_entry_v1 *e;
	uint32_t frame = 0xabc;

	T_TRUE(w != NULL);
	e = tw_ent(w, DA, 10);
	/* Nothing committed: cleared, -ENOENT. */
	T_EQ(gntdp_guest_grant_transfer(e, DB, 1000), 0);
	T_EQ(gntdp_guest_end_transfer(e, &frame), -ENOENT);
	T_EQ(e->flags, 0);
	/* Not an accept_transfer entry. */
	T_EQ(gntdp_guest_grant_access(e, DB, 20, false), 0);
	T_EQ(gntdp_guest_end_transfer(e, &frame), -EINVAL);
	T_EQ(e->flags, PA);
	T_EQ(gntdp_guest_end_access(e), 0);
	/* Committed and completed: returns the gfn. */
	T_EQ(gntdp_guest_grant_transfer(e, DB, 1000), 0);
	T_ST(tw_transfer(w, DB, 40, DA, 10), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_guest_end_transfer(e, &frame), 0);
	T_EQ(frame, 1000);
	T_EQ(e->flags, 0);
	/* The entry can be offered again. */
	T_EQ(gntdp_guest_grant_transfer(e, DB, 1001), 0);
	T_EQ(gntdp_guest_end_transfer(e, &frame), -ENOENT);
	return TC_PASS;
}

static int
test_reserved_refs_are_ordinary_for_the_core(void)
{
	/* Refs 0-7 are reserved by guest convention only: the core serves them. */
	struct tw *w = tw_std();
	uint32_t h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, GNTDP_GNTTAB_RESERVED_CONSOLE, DB, 20, false), 0);
	T_EQ(tw_grant(w, DA, GNTDP_GNTTAB_RESERVED_XENSTORE, DB, 21, false), 0);
	T_ST(tw_map(w, DB, DA, 0, HOST, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_ref(DA, 1, 0), tw_gfn(SELF, 2, 0), 8), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_guest_table_shape),
	TC(test_grant_access_writes_entry),
	TC(test_grant_on_used_entry_ebusy),
	TC(test_end_access_unused),
	TC(test_end_access_busy_while_mapped),
	TC(test_set_readonly_rules),
	TC(test_set_readonly_not_permit_access_einval),
	TC(test_end_transfer_rules),
	TC(test_reserved_refs_are_ordinary_for_the_core),
};

TC_MAIN(cases)
