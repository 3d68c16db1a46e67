/* SPDX-License-Identifier: MIT */
/*
 * Domain lifecycle: creation limits, gntdp_domain_info, gntdp_domain_frame,
 * and Xen's teardown semantics as gntdp/gnttab.h states them: the domid
 * vanishes at once; mappings the dying domain holds are released (pins and
 * GTF flags of the granters drop); a destroyed granter's table and frames
 * live on until the last foreign mapping is unmapped, and those unmaps
 * succeed. A counting provider proves every frame comes back exactly once.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tcommon.h"

#define SELF GNTDP_DOMID_SELF
#define PA GNTDP_GTF_PERMIT_ACCESS
#define RD GNTDP_GTF_READING
#define WR GNTDP_GTF_WRITING
#define ROF GNTDP_GTF_READONLY
#define HOST GNTDP_GNTMAP_HOST_MAP
#define DEV GNTDP_GNTMAP_DEVICE_MAP
#define RO GNTDP_GNTMAP_READONLY
#define HA(gfn) ((uint64_t)(gfn) << GNTDP_PAGE_SHIFT)

static int
test_create_bad_domid_einval(void)
{
	static const gntdp_domid_t bad[] = {GNTDP_DOMID_FIRST_RESERVED, GNTDP_DOMID_IO,
					    GNTDP_DOMID_INVALID, GNTDP_DOMID_IDLE, 0xffff};
	struct tw *w = tw_create(NULL);

	T_TRUE(w != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ(tw_add(w, bad[i]), -EINVAL);
	T_EQ(tw_add(w, 0x7fef), 0);
	T_EQ(tw_add(w, 0), 0);
	return TC_PASS;
}

static int
test_create_duplicate_eexist(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DA), -EEXIST);
	T_EQ(tw_add(w, D0), -EEXIST);
	/* The original is untouched. */
	T_EQ(tw_info(w, DA).nr_frames, 256);
	return TC_PASS;
}

static int
test_create_bad_limits_einval(void)
{
	struct tw *w = tw_create(NULL);
	struct gntdp_domain_conf c;

	T_TRUE(w != NULL);
	c = tw_dom_conf(5);
	c.nr_frames = 100;
	c.p2m_size = 99;
	T_EQ(tw_add_conf(w, &c), -EINVAL);
	c = tw_dom_conf(5);
	c.max_grant_frames = GNTDP_MAX_GRANT_FRAMES_LIMIT + 1;
	T_EQ(tw_add_conf(w, &c), -EINVAL);
	c = tw_dom_conf(5);
	c.max_grant_frames = 0;
	T_EQ(tw_add_conf(w, &c), -EINVAL);
	c = tw_dom_conf(5);
	c.max_maptrack_frames = GNTDP_MAX_MAPTRACK_FRAMES_LIMIT + 1;
	T_EQ(tw_add_conf(w, &c), -EINVAL);
	T_EQ(tw_info(w, 5).dying, true); /* i.e. no such domain */
	/* Edge values that are legal. */
	c = tw_dom_conf(5);
	c.nr_frames = 100;
	c.p2m_size = 100;
	c.max_grant_frames = 1;
	c.max_maptrack_frames = 0;
	T_EQ(tw_add_conf(w, &c), 0);
	return TC_PASS;
}

static int
test_info_after_create(void)
{
	struct tw *w = tw_create(NULL);
	struct gntdp_domain_conf c = tw_dom_conf(5);
	struct gntdp_domain_info i;

	T_TRUE(w != NULL);
	c.nr_frames = 64;
	c.p2m_size = 1000;
	c.max_grant_frames = 7;
	c.max_maptrack_frames = 3;
	T_EQ(tw_add_conf(w, &c), 0);
	memset(&i, 0xff, sizeof(i));
	T_EQ(gntdp_domain_info(w->gt, 5, &i), 0);
	T_EQ(i.nr_frames, 64);
	T_EQ(i.nr_grant_frames, 1);
	T_EQ(i.max_grant_frames, 7);
	T_EQ(i.max_maptrack_handles, 3 * GNTDP_MAPTRACK_PER_FRAME);
	T_EQ(i.live_mappings, 0);
	T_EQ(i.pinned_entries, 0);
	T_EQ(i.owned_pages, 64);
	T_EQ(i.dying, false);
	T_TRUE(i.maptrack_limit <= i.max_maptrack_handles);
	T_EQ(gntdp_domain_info(w->gt, 6, &i), -ESRCH);
	return TC_PASS;
}

static int
test_domain_frame_lookup(void)
{
	struct tw *w = tw_create(NULL);
	struct gntdp_domain_conf c = tw_dom_conf(5);
	uint8_t *f0, *f1, *last;

	T_TRUE(w != NULL);
	c.nr_frames = 16;
	c.p2m_size = 32;
	T_EQ(tw_add_conf(w, &c), 0);
	f0 = tw_frame(w, 5, 0);
	f1 = tw_frame(w, 5, 1);
	last = tw_frame(w, 5, 15);
	T_TRUE(f0 != NULL && f1 != NULL && last != NULL);
	T_EQ((uintptr_t)f0 % GNTDP_PAGE_SIZE, 0);
	T_EQ((uintptr_t)last % GNTDP_PAGE_SIZE, 0);
	T_NE(f0, f1);
	T_TRUE(tw_all(w, 5, 15, 0, 4096, 0)); /* zero-filled */
	T_PTR(tw_frame(w, 5, 16), NULL);      /* empty gfn inside the physmap */
	T_PTR(tw_frame(w, 5, 31), NULL);
	T_PTR(tw_frame(w, 5, 32), NULL); /* beyond it */
	T_PTR(tw_frame(w, 5, UINT64_MAX), NULL);
	T_PTR(tw_frame(w, 6, 0), NULL); /* no such domain */
	/* Distinct domains have distinct memory. */
	T_EQ(tw_add(w, 6), 0);
	T_NE(tw_frame(w, 6, 0), f0);
	return TC_PASS;
}

static int
test_destroy_unknown_esrch(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_EQ(gntdp_domain_destroy(w->gt, DNONE), -ESRCH);
	T_EQ(gntdp_domain_destroy(w->gt, GNTDP_DOMID_SELF), -ESRCH);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	T_EQ(gntdp_domain_destroy(w->gt, DA), -ESRCH);
	T_EQ(tw_info(w, DA).dying, true);
	T_PTR(tw_frame(w, DA, 0), NULL);
	/* The id can be reused at once, for a fresh domain. */
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_info(w, DA).owned_pages, 256);
	T_EQ(tw_flags(w, DA, 10), 0);
	return TC_PASS;
}

static int
test_ops_by_destroyed_caller_esrch(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_copy op;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(gntdp_domain_destroy(w->gt, DB), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, &op, 1), -ESRCH);
	T_ST(op.status, TW_UNSET);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, NULL, NULL), TW_CALL_FAILED);
	T_EQ(w->last_rc, -ESRCH);
	T_ST(tw_query(w, DB, SELF, NULL, NULL), TW_CALL_FAILED);
	T_EQ(w->last_rc, -ESRCH);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_ops_naming_destroyed_domain_bad_domain(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, NULL, NULL), GNTDP_GNTST_BAD_DOMAIN);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_DOMAIN);
	T_ST(tw_query(w, D0, DA, NULL, NULL), GNTDP_GNTST_BAD_DOMAIN);
	T_ST(tw_transfer(w, DB, 40, DA, 10), GNTDP_GNTST_BAD_DOMAIN);
	return TC_PASS;
}

static int
test_destroy_mapper_releases_its_mappings(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(tw_grant(w, DA, 11, DB, 21, true), 0);
	T_EQ(tw_grant(w, DA, 12, DB, 22, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1001, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 11, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 12, DEV, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DA).pinned_entries, 3);
	T_EQ(gntdp_domain_destroy(w->gt, DB), 0);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DA, 11), PA | ROF);
	T_EQ(tw_flags(w, DA, 12), PA);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 11)), 0);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 12)), 0);
	/* The granter's pages can move again: nothing holds them. */
	T_EQ(gntdp_guest_grant_transfer(tw_ent(w, DC, 5), DA, 1000), 0);
	T_ST(tw_transfer(w, DA, 20, DC, 5), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_destroy_granter_while_mapped(void)
{
	static struct tmem mem;
	struct tw *w;
	uint32_t h1, h2;
	uint64_t dev, dev2;
	size_t base;
	uint8_t *p;

	tmem_init(&mem, 0);
	w = tw_create(&mem.ops);
	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DB), 0);
	base = mem.live_allocs;
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(tw_grant(w, DA, 11, DB, 21, true), 0);
	tw_fill(w, DA, 20, 0x21);
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, &h1, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 11, DEV | RO, 0, &h2, &dev2), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	/* B's mapping still reaches the frame (kept alive, not freed). */
	p = tw_frame(w, DB, 1000);
	T_TRUE(p != NULL);
	T_EQ(p[0], tw_pat(0x21, 0));
	p[1] = 0x99;
	T_TRUE(mem.live_allocs > base);
	T_EQ(tw_info(w, DB).live_mappings, 2);
	T_ST(tw_unmap(w, DB, h1, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h1, 0, dev), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_ST(tw_unmap(w, DB, h2, 0, dev2 ^ 1), GNTDP_GNTST_BAD_DEV_ADDR);
	T_ST(tw_unmap(w, DB, h2, 0, 0), GNTDP_GNTST_OKAY); /* no-op, still live */
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_TRUE(mem.live_allocs > base);
	T_ST(tw_unmap(w, DB, h2, 0, dev2), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	/* Last mapping gone: A's grant table waits for a grace period, then
	 * everything A had is returned. */
	gntdp_gnttab_reclaim(w->gt);
	T_EQ(mem.live_allocs, base);
	T_EQ(mem.bad_frees, 0);
	tw_destroy(w);
	T_EQ(mem.live_allocs, 0);
	T_EQ(mem.bad_frees, 0);
	tmem_fini(&mem);
	return TC_PASS;
}

static int
test_recreated_granter_is_independent(void)
{
	struct tw *w = tw_std();
	uint32_t old_h, new_h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &old_h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	/* Xen: the zombie keeps its domid until its last mapping goes. */
	T_EQ(tw_add(w, DA), -EEXIST);
	T_ST(tw_unmap(w, DB, old_h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_add(w, DA), 0);
	/* The new domain starts with a fresh table: nothing of the old grant. */
	T_EQ(tw_flags(w, DA, 10), 0);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1001, &new_h, NULL), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	T_PTR(tw_frame(w, DB, 1001), tw_frame(w, DA, 20));
	/* The old handle is gone; unmapping it again must not touch the new entry. */
	if (old_h != new_h) {
		T_ST(tw_unmap(w, DB, old_h, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE);
		T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	}
	T_ST(tw_unmap(w, DB, new_h, HA(1001), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_destroy_all_with_live_mappings_no_leak(void)
{
	static struct tmem mem;
	struct tw *w;
	uint32_t frame;

	tmem_init(&mem, 0);
	w = tw_create(&mem.ops);
	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_add(w, DB), 0);
	T_EQ(tw_add(w, DC), 0);
	/* A and B map each other, B maps its own grant, C received a page from B. */
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(tw_grant(w, DB, 10, DA, 20, true), 0);
	T_EQ(tw_grant(w, DB, 11, DB, 21, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DA, DB, 10, HOST | RO, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DB, 11, HOST, 1001, NULL, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_guest_grant_transfer(tw_ent(w, DC, 5), DB, 1000), 0);
	tw_fill(w, DB, 40, 0x31);
	T_ST(tw_transfer(w, DB, 40, DC, 5), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_guest_end_transfer(tw_ent(w, DC, 5), &frame), 0);
	/* B goes first: the page it gave C must stay C's. */
	T_EQ(gntdp_domain_destroy(w->gt, DB), 0);
	T_TRUE(tw_has_pat(w, DC, 1000, 0, 4096, 0x31, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	T_TRUE(tw_has_pat(w, DC, 1000, 0, 4096, 0x31, 0));
	T_EQ(gntdp_domain_destroy(w->gt, DC), 0);
	T_EQ(mem.live_allocs, 0);
	T_EQ(mem.live_frames, 0);
	T_EQ(mem.bad_frees, 0);
	/* World teardown with live cross mappings frees everything too. */
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_add(w, DB), 0);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(tw_grant(w, DB, 10, DA, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DA, DB, 10, HOST | DEV, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	tw_destroy(w);
	T_EQ(mem.live_allocs, 0);
	T_EQ(mem.bad_frees, 0);
	tmem_fini(&mem);
	return TC_PASS;
}

static int
test_create_enomem_leaks_nothing(void)
{
	static struct tmem mem;
	struct tw *w;
	int rc = -ENOMEM;

	tmem_init(&mem, 0);
	w = tw_create(&mem.ops);
	T_TRUE(w != NULL);
	/* Fail the 1st, 2nd, ... allocation of a create until one succeeds. */
	for (unsigned int k = 1; k < 64 && rc == -ENOMEM; k++) {
		size_t live = mem.live_allocs;

		mem.fail_after = mem.nb_allocs + k;
		rc = tw_add(w, 5);
		if (rc == -ENOMEM) {
			T_EQ(mem.live_allocs, live);
			T_EQ(tw_info(w, 5).dying, true);
		}
	}
	T_EQ(rc, 0);
	mem.fail_after = 0;
	T_EQ(tw_add(w, 6), 0);
	tw_destroy(w);
	T_EQ(mem.live_allocs, 0);
	T_EQ(mem.bad_frees, 0);
	tmem_fini(&mem);
	return TC_PASS;
}

static int
test_destroy_self_mapping_domain(void)
{
	static struct tmem mem;
	struct tw *w;

	tmem_init(&mem, 0);
	w = tw_create(&mem.ops);
	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_grant(w, DA, 10, DA, 20, false), 0);
	T_ST(tw_map(w, DA, DA, 10, HOST | DEV, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	T_EQ(mem.live_allocs, 0);
	T_EQ(mem.bad_frees, 0);
	tw_destroy(w);
	tmem_fini(&mem);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_create_bad_domid_einval),
	TC(test_create_duplicate_eexist),
	TC(test_create_bad_limits_einval),
	TC(test_info_after_create),
	TC(test_domain_frame_lookup),
	TC(test_destroy_unknown_esrch),
	TC(test_ops_by_destroyed_caller_esrch),
	TC(test_ops_naming_destroyed_domain_bad_domain),
	TC(test_destroy_mapper_releases_its_mappings),
	TC(test_destroy_granter_while_mapped),
	TC(test_recreated_granter_is_independent),
	TC(test_destroy_all_with_live_mappings_no_leak),
	TC(test_create_enomem_leaks_nothing),
	TC(test_destroy_self_mapping_domain),
};

TC_MAIN(cases)
