/* SPDX-License-Identifier: MIT */
/*
 * gntdp_domain_populate / gntdp_domain_depopulate (Xen's populate_physmap
 * and decrease_reservation) and gntdp_domain_p2m_query, as gntdp/gnttab.h
 * states them: a populated range is RAM like any other (grantable, copied
 * in frame mode); populate over an occupied gfn changes nothing; a
 * depopulated frame that another domain maps stays alive with its contents
 * until the unmap, and its segment is freed then (a counting provider
 * shows it); the gfn itself is bad_page at once, through the cache too.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tcommon.h"

#define SELF GNTDP_DOMID_SELF
#define HOST GNTDP_GNTMAP_HOST_MAP
#define RO GNTDP_GNTMAP_READONLY
#define HA(gfn) ((uint64_t)(gfn) << GNTDP_PAGE_SHIFT)
#define NR 256u          /* tw_dom_conf's RAM frames */
#define SHARE (NR + 100) /* a gfn above RAM */

static int
test_populate_is_ram(void)
{
	struct tw *w = tw_std();
	enum gntdp_p2m_kind k;
	void *va = NULL, *q = NULL;

	T_TRUE(w != NULL);
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE, 4, &va), 0);
	T_TRUE(va != NULL);
	T_EQ((uintptr_t)va % GNTDP_PAGE_SIZE, 0);
	for (unsigned int i = 0; i < 4; i++) {
		T_PTR(tw_frame(w, DA, SHARE + i), (uint8_t *)va + i * GNTDP_PAGE_SIZE);
		T_TRUE(tw_all(w, DA, SHARE + i, 0, 4096, 0));
		T_EQ(gntdp_domain_p2m_query(w->gt, DA, SHARE + i, &k, &q), 0);
		T_EQ(k, GNTDP_P2M_RAM);
		T_PTR(q, (uint8_t *)va + i * GNTDP_PAGE_SIZE);
	}
	T_EQ(tw_info(w, DA).owned_pages, NR + 4);
	/* Granted and copied both ways like RAM. */
	tw_fill(w, DA, SHARE + 1, 0x31);
	T_EQ(tw_grant(w, DA, 10, DB, SHARE + 1, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 5, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 5, 0, 4096, 0x31, 0));
	tw_fill(w, DB, 6, 0x32);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 6, 0), tw_ref(DA, 10, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DA, SHARE + 1, 0, 4096, 0x32, 0));
	T_ST(tw_copy(w, DA, tw_gfn(SELF, SHARE + 1, 0), tw_gfn(SELF, SHARE + 3, 0), 4096),
	     GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DA, SHARE + 3, 0, 4096, 0x32, 0));
	return TC_PASS;
}

static int
test_populate_occupied_ebusy(void)
{
	struct tw *w = tw_std();
	uint32_t h;
	void *va;

	T_TRUE(w != NULL);
	/* Own RAM. */
	T_EQ(gntdp_domain_populate(w->gt, DA, NR - 1, 2, &va), -EBUSY);
	/* A populated range, overlapping by one. */
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE, 4, &va), 0);
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE + 3, 4, &va), -EBUSY);
	/* A host-mapped grant. */
	T_EQ(tw_grant(w, DB, 1, DA, 1, true), 0);
	T_ST(tw_map(w, DA, DB, 1, HOST | RO, SHARE + 10, &h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE + 8, 4, &va), -EBUSY);
	/* Nothing changed: the free gfns around stay empty and usable. */
	for (uint64_t g = SHARE + 4; g < SHARE + 10; g++)
		T_PTR(tw_frame(w, DA, g), NULL);
	T_EQ(tw_info(w, DA).owned_pages, NR + 4);
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE + 4, 6, &va), 0);
	T_ST(tw_unmap(w, DA, h, HA(SHARE + 10), 0), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_populate_bad_args(void)
{
	struct tw *w = tw_std();
	struct gntdp_domain_conf c = tw_dom_conf(5);
	void *va;

	T_TRUE(w != NULL);
	c.nr_frames = 16;
	c.p2m_size = 32;
	T_EQ(tw_add_conf(w, &c), 0);
	T_EQ(gntdp_domain_populate(w->gt, 5, 16, 0, &va), -EINVAL);
	T_EQ(gntdp_domain_populate(w->gt, 5, 30, 3, &va), -EINVAL);
	T_EQ(gntdp_domain_populate(w->gt, 5, 32, 1, &va), -EINVAL);
	T_EQ(gntdp_domain_populate(w->gt, 5, UINT64_MAX, 2, &va), -EINVAL);
	T_EQ(gntdp_domain_populate(w->gt, 5, 16, UINT32_MAX, &va), -EINVAL);
	T_EQ(gntdp_domain_populate(w->gt, DNONE, 16, 1, &va), -ESRCH);
	T_EQ(gntdp_domain_populate(w->gt, 5, 16, 16, NULL), 0); /* the exact rest */
	T_EQ(gntdp_domain_depopulate(w->gt, 5, 31, 2), -EINVAL);
	T_EQ(gntdp_domain_depopulate(w->gt, 5, 16, 0), -EINVAL);
	T_EQ(gntdp_domain_depopulate(w->gt, DNONE, 16, 1), -ESRCH);
	T_EQ(gntdp_domain_depopulate(w->gt, 5, 16, 16), 0);
	T_EQ(tw_info(w, 5).owned_pages, 16);
	return TC_PASS;
}

static int
test_depopulate_needs_ram(void)
{
	struct tw *w = tw_std();
	uint32_t h;
	void *va;

	T_TRUE(w != NULL);
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE, 2, &va), 0);
	tw_fill(w, DA, SHARE, 0x41);
	/* The range runs into an empty gfn: nothing removed. */
	T_EQ(gntdp_domain_depopulate(w->gt, DA, SHARE, 3), -EINVAL);
	T_TRUE(tw_has_pat(w, DA, SHARE, 0, 4096, 0x41, 0));
	T_EQ(tw_info(w, DA).owned_pages, NR + 2);
	/* A host-mapped grant is not the domain's RAM. */
	T_EQ(tw_grant(w, DB, 1, DA, 1, false), 0);
	T_ST(tw_map(w, DA, DB, 1, HOST, SHARE + 2, &h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_depopulate(w->gt, DA, SHARE, 3), -EINVAL);
	T_EQ(gntdp_domain_depopulate(w->gt, DA, SHARE + 2, 1), -EINVAL);
	T_ST(tw_copy(w, DA, tw_gfn(SELF, SHARE, 0), tw_gfn(SELF, 1, 0), 64), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DA, h, HA(SHARE + 2), 0), GNTDP_GNTST_OKAY);
	/* Own RAM may go too (decrease_reservation). */
	T_EQ(gntdp_domain_depopulate(w->gt, DA, 0, 1), 0);
	T_ST(tw_copy(w, DA, tw_gfn(SELF, 0, 0), tw_gfn(SELF, 1, 0), 64), GNTDP_GNTST_BAD_PAGE);
	return TC_PASS;
}

/*
 * The mapper keeps the frame: A depopulates a frame B host-maps. B still
 * reads (and writes) the old contents through its map; A's gfn is gone at
 * once; the segment is freed only after B's unmap.
 */
static int
test_depopulate_while_mapped(void)
{
	static struct tmem mem;
	enum gntdp_p2m_kind k;
	struct tw *w;
	size_t base;
	uint32_t h;
	uint8_t *p;
	void *va, *q;

	tmem_init(&mem, 0);
	w = tw_create(&mem.ops);
	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_add(w, DB), 0);
	base = mem.live_allocs;
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE, 2, &va), 0);
	T_EQ(mem.live_allocs, base + 1);
	tw_fill(w, DA, SHARE + 1, 0x51);
	T_EQ(tw_grant(w, DA, 9, DB, SHARE + 1, false), 0);
	T_ST(tw_map(w, DB, DA, 9, HOST, SHARE + 7, &h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_p2m_query(w->gt, DB, SHARE + 7, &k, &q), 0);
	T_EQ(k, GNTDP_P2M_GRANT_RW);
	T_PTR(q, (uint8_t *)va + GNTDP_PAGE_SIZE);

	T_EQ(gntdp_domain_depopulate(w->gt, DA, SHARE, 2), 0);
	T_PTR(tw_frame(w, DA, SHARE + 1), NULL);
	T_EQ(gntdp_domain_p2m_query(w->gt, DA, SHARE + 1, &k, &q), 0);
	T_EQ(k, GNTDP_P2M_EMPTY);
	T_PTR(q, NULL);
	T_EQ(tw_info(w, DA).owned_pages, NR);
	/* The unmapped frame of the pair died, the mapped one lives: one allocation. */
	T_EQ(mem.live_allocs, base + 1);
	p = tw_frame(w, DB, SHARE + 7);
	T_PTR(p, (uint8_t *)va + GNTDP_PAGE_SIZE);
	T_TRUE(tw_has_pat(w, DB, SHARE + 7, 0, 4096, 0x51, 0));
	p[100] = 0xee;
	/* The granter's gfn is bad_page for A, and a new pin of the ref is too. */
	T_ST(tw_copy(w, DA, tw_gfn(SELF, SHARE + 1, 0), tw_gfn(SELF, 1, 0), 64),
	     GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_grant(w, DA, 10, DB, SHARE, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 1, 0), 64), GNTDP_GNTST_BAD_PAGE);
	/* B's copy from its own mapping still sees the old page. */
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_gfn(SELF, 2, 0), 64), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, HA(SHARE + 7), 0), GNTDP_GNTST_OKAY);
	T_EQ(mem.live_allocs, base);
	T_EQ(mem.bad_frees, 0);
	T_EQ(tw_flags(w, DA, 9), GNTDP_GTF_PERMIT_ACCESS);
	tw_destroy(w);
	T_EQ(mem.live_allocs, 0);
	T_EQ(mem.bad_frees, 0);
	tmem_fini(&mem);
	return TC_PASS;
}

/* A cached frame-mode hold (persistent cache) does not outlive the gfn. */
static int
test_depopulate_drops_cached_frame(void)
{
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 16};
	struct gntdp_gnttab_ctx *ctx = NULL;
	struct gntdp_gnttab_copy op;
	struct tw *w = tw_std();
	void *va;

	T_TRUE(w != NULL);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx), 0);
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE, 1, &va), 0);
	tw_fill(w, DA, 3, 0x61);
	for (int pass = 0; pass < 2; pass++) {
		op = tw_copy_op(tw_gfn(SELF, 3, 0), tw_gfn(SELF, SHARE, 0), 4096);
		T_EQ(gntdp_gnttab_op(ctx, DA, GNTDP_GNTTABOP_COPY, &op, 1), 0);
		T_ST(op.status, GNTDP_GNTST_OKAY);
	}
	T_TRUE(tw_has_pat(w, DA, SHARE, 0, 4096, 0x61, 0));
	T_EQ(gntdp_domain_depopulate(w->gt, DA, SHARE, 1), 0);
	/* Same side as the last op (the last-side shortcut) and through the set lookup. */
	op = tw_copy_op(tw_gfn(SELF, 3, 0), tw_gfn(SELF, SHARE, 0), 4096);
	T_EQ(gntdp_gnttab_op(ctx, DA, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_BAD_PAGE);
	op = tw_copy_op(tw_gfn(SELF, SHARE, 0), tw_gfn(SELF, 4, 0), 64);
	T_EQ(gntdp_gnttab_op(ctx, DA, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_BAD_PAGE);
	/* Populated again: the new (zeroed) frame, not the old one. */
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE, 1, &va), 0);
	op = tw_copy_op(tw_gfn(SELF, SHARE, 0), tw_gfn(SELF, 4, 0), 4096);
	T_EQ(gntdp_gnttab_op(ctx, DA, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_TRUE(tw_all(w, DA, 4, 0, 4096, 0));
	gntdp_gnttab_ctx_destroy(ctx);
	return TC_PASS;
}

/* A dying domain's populated frames go with it; a mapped one waits for the unmap. */
static int
test_destroy_releases_populated(void)
{
	static struct tmem mem;
	struct tw *w;
	size_t base;
	uint32_t h;
	uint8_t *p;
	void *va;

	tmem_init(&mem, 0);
	w = tw_create(&mem.ops);
	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DB), 0);
	base = mem.live_allocs;
	T_EQ(tw_add(w, DA), 0);
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE, 3, &va), 0);
	T_EQ(gntdp_domain_populate(w->gt, DA, SHARE + 3, 1, &va), 0);
	tw_fill(w, DA, SHARE + 3, 0x71);
	T_EQ(tw_grant(w, DA, 4, DB, SHARE + 3, true), 0);
	T_ST(tw_map(w, DB, DA, 4, HOST | RO, SHARE, &h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	p = tw_frame(w, DB, SHARE);
	T_TRUE(p != NULL);
	T_EQ(p[7], tw_pat(0x71, 7));
	T_ST(tw_unmap(w, DB, h, HA(SHARE), 0), GNTDP_GNTST_OKAY);
	gntdp_gnttab_reclaim(w->gt);
	T_EQ(mem.live_allocs, base);
	T_EQ(mem.bad_frees, 0);
	tw_destroy(w);
	tmem_fini(&mem);
	return TC_PASS;
}

static int
test_p2m_query(void)
{
	struct tw *w = tw_std();
	enum gntdp_p2m_kind k = GNTDP_P2M_RAM;
	uint32_t h;
	void *q = (void *)1;

	T_TRUE(w != NULL);
	T_EQ(gntdp_domain_p2m_query(w->gt, DA, 3, &k, &q), 0);
	T_EQ(k, GNTDP_P2M_RAM);
	T_PTR(q, tw_frame(w, DA, 3));
	T_EQ(gntdp_domain_p2m_query(w->gt, DA, SHARE, &k, &q), 0);
	T_EQ(k, GNTDP_P2M_EMPTY);
	T_PTR(q, NULL);
	T_EQ(tw_grant(w, DB, 2, DA, 8, true), 0);
	T_ST(tw_map(w, DA, DB, 2, HOST | RO, SHARE, &h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_p2m_query(w->gt, DA, SHARE, &k, &q), 0);
	T_EQ(k, GNTDP_P2M_GRANT_RO);
	T_PTR(q, tw_frame(w, DB, 8));
	T_EQ(gntdp_domain_p2m_query(w->gt, DA, NR + 65536, &k, &q), -EINVAL);
	T_EQ(k, GNTDP_P2M_EMPTY);
	T_EQ(gntdp_domain_p2m_query(w->gt, DNONE, 0, &k, &q), -ESRCH);
	T_EQ(gntdp_domain_p2m_query(w->gt, DA, 0, NULL, &q), -EINVAL);
	T_ST(tw_unmap(w, DA, h, HA(SHARE), 0), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_p2m_query(w->gt, DA, SHARE, &k, &q), 0);
	T_EQ(k, GNTDP_P2M_EMPTY);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_populate_is_ram),
	TC(test_populate_occupied_ebusy),
	TC(test_populate_bad_args),
	TC(test_depopulate_needs_ram),
	TC(test_depopulate_while_mapped),
	TC(test_depopulate_drops_cached_frame),
	TC(test_destroy_releases_populated),
	TC(test_p2m_query),
};

TC_MAIN(cases)
