/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_map_grant_ref and GNTTABOP_unmap_grant_ref against spec §5.1
 * (map check order), §5.2/§5.3 (GTF flags, pins, double maps), §6.1 (unmap
 * check order and partial unmaps), §2.2 (128-user pin counters), §2.3
 * (maptrack bound) and §12 items 1-9.
 *
 * gntdp treats every domain as translated for host_map: host_addr >> 12 is a
 * gfn of the caller where the granted frame appears (gntdp_domain_frame of
 * the caller at that gfn == the granter's frame); device_map is allowed and
 * reports the frame's I/O address (IOVA = VA with the heap provider).
 *
 * World: dom 0 (privileged), A=1 granter, B=2 mapper, C=3.
 *   A ref 10 -> B, gfn 20, writable
 *   A ref 11 -> B, gfn 21, read-only
 *   A ref 12 -> C, gfn 22, writable
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcommon.h"

#define PA GNTDP_GTF_PERMIT_ACCESS
#define RD GNTDP_GTF_READING
#define WR GNTDP_GTF_WRITING
#define ROF GNTDP_GTF_READONLY
#define HOST GNTDP_GNTMAP_HOST_MAP
#define DEV GNTDP_GNTMAP_DEVICE_MAP
#define RO GNTDP_GNTMAP_READONLY
#define HA(gfn) ((uint64_t)(gfn) << GNTDP_PAGE_SHIFT)

static struct tw *
map_world(void)
{
	struct tw *w = tw_std();

	if (w == NULL)
		return NULL;
	if (tw_grant(w, DA, 10, DB, 20, false) != 0 || tw_grant(w, DA, 11, DB, 21, true) != 0 ||
	    tw_grant(w, DA, 12, DC, 22, false) != 0) {
		tc_fail(__FILE__, __LINE__, "map_world grants", "error", "0");
		return NULL;
	}
	tw_fill(w, DA, 20, 0x11);
	tw_fill(w, DA, 21, 0x22);
	return w;
}

/* ---- successful maps ---------------------------------------------------------- */

static int
test_host_ro_map_and_unmap(void)
{
	struct tw *w = map_world();
	uint32_t h;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_NE(h, TW_HANDLE_SENTINEL);
	/* dev_bus_addr is written even for host-only maps (spec §5.1 "ok" row). */
	T_U64(dev, tw_va(w, DA, 20));
	T_PTR(tw_frame(w, DB, 1000), tw_frame(w, DA, 20));
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_EQ(tw_info(w, DA).pinned_entries, 1);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	return TC_PASS;
}

static int
test_host_rw_map_shares_the_frame(void)
{
	struct tw *w = map_world();
	uint32_t h;
	uint8_t *p;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	p = tw_frame(w, DB, 1000);
	T_TRUE(p != NULL);
	p[7] = 0xab;
	T_EQ(tw_frame(w, DA, 20)[7], 0xab);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	return TC_PASS;
}

static int
test_device_maps_report_bus_address(void)
{
	static const uint32_t fl[] = {DEV | RO, DEV, DEV | HOST, DEV | HOST | RO};
	static const uint16_t want[] = {PA | RD, PA | RD | WR, PA | RD | WR, PA | RD};
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	for (int i = 0; i < 4; i++) {
		uint32_t h;
		uint64_t dev;

		T_ST(tw_map(w, DB, DA, 10, fl[i], 1000, &h, &dev), GNTDP_GNTST_OKAY);
		T_U64(dev, tw_va(w, DA, 20));
		T_EQ(tw_flags(w, DA, 10), want[i]);
		if (fl[i] & HOST)
			T_PTR(tw_frame(w, DB, 1000), tw_frame(w, DA, 20));
		else
			T_PTR(tw_frame(w, DB, 1000), NULL); /* host_addr ignored */
		T_ST(tw_unmap(w, DB, h, (fl[i] & HOST) ? HA(1000) : 0, dev), GNTDP_GNTST_OKAY);
		T_EQ(tw_flags(w, DA, 10), PA);
		T_PTR(tw_frame(w, DB, 1000), NULL);
	}
	return TC_PASS;
}

static int
test_device_only_ignores_host_addr(void)
{
	struct tw *w = map_world();
	uint32_t h;
	uint64_t dev;

	T_TRUE(w != NULL);
	/* host_addr names a RAM gfn, but without host_map nothing is inserted there. */
	T_ST(tw_map(w, DB, DA, 10, DEV, 5, &h, &dev), GNTDP_GNTST_OKAY);
	T_NE(tw_frame(w, DB, 5), tw_frame(w, DA, 20));
	T_ST(tw_unmap(w, DB, h, HA(5), dev), GNTDP_GNTST_OKAY);
	T_TRUE(tw_frame(w, DB, 5) != NULL);
	return TC_PASS;
}

static int
test_custom_iova_is_dev_bus_addr(void)
{
	static struct tmem mem;
	struct tw *w;
	uint32_t h;
	uint64_t dev;

	tmem_init(&mem, 0x100000000000ULL);
	w = tw_create(&mem.ops);
	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_add(w, DB), 0);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_TRUE(mem.iova_calls > 0);
	T_ST(tw_map(w, DB, DA, 10, DEV | HOST, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_U64(dev, tw_va(w, DA, 20) + 0x100000000000ULL);
	/* The VA is not the bus address. */
	T_ST(tw_unmap(w, DB, h, 0, tw_va(w, DA, 20)), GNTDP_GNTST_BAD_DEV_ADDR);
	T_ST(tw_unmap(w, DB, h, HA(1000), dev), GNTDP_GNTST_OKAY);
	tw_destroy(w);
	T_EQ(mem.live_allocs, 0);
	T_EQ(mem.bad_frees, 0);
	tmem_fini(&mem);
	return TC_PASS;
}

static int
test_self_grant_with_numeric_id(void)
{
	struct tw *w = map_world();
	uint32_t h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 30, DA, 7, false), 0);
	T_ST(tw_map(w, DA, DA, 30, HOST, 500, &h, NULL), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DA, 500), tw_frame(w, DA, 7));
	T_EQ(tw_flags(w, DA, 30), PA | RD | WR);
	T_ST(tw_unmap(w, DA, h, HA(500), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 30), PA);
	return TC_PASS;
}

/* ---- step 1: no host/device flag -> bad_gntref ----------------------------- */

static int
test_flags_without_host_or_device_bad_gntref(void)
{
	static const uint32_t fl[] = {0, RO, GNTDP_GNTMAP_GUEST_AVAIL_MASK,
				      GNTDP_GNTMAP_APPLICATION_MAP | RO};
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	for (int i = 0; i < 4; i++) {
		/* Step 1 precedes the domain and ref checks. */
		T_ST(tw_map(w, DB, DA, 10, fl[i], 1000, NULL, NULL), GNTDP_GNTST_BAD_GNTREF);
		T_ST(tw_map(w, DB, DNONE, 10, fl[i], 1000, NULL, NULL), GNTDP_GNTST_BAD_GNTREF);
		T_ST(tw_map(w, DB, GNTDP_DOMID_SELF, 10, fl[i], 1000, NULL, NULL),
		     GNTDP_GNTST_BAD_GNTREF);
	}
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

/* ---- step 2: application_map / contains_pte -> general_error --------------- */

static int
test_application_map_and_contains_pte_general_error(void)
{
	static const uint32_t fl[] = {
		HOST | GNTDP_GNTMAP_APPLICATION_MAP,
		HOST | GNTDP_GNTMAP_CONTAINS_PTE,
		DEV | GNTDP_GNTMAP_CONTAINS_PTE | RO,
		HOST | DEV | GNTDP_GNTMAP_APPLICATION_MAP | GNTDP_GNTMAP_CONTAINS_PTE,
	};
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	for (int i = 0; i < 4; i++) {
		T_ST(tw_map(w, DB, DA, 10, fl[i], 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
		/* Step 2 precedes the domain lookup (step 3). */
		T_ST(tw_map(w, DB, DNONE, 10, fl[i], 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	}
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	return TC_PASS;
}

/* ---- step 3: domain ---------------------------------------------------------- */

static int
test_bad_domain(void)
{
	static const gntdp_domid_t bad[] = {GNTDP_DOMID_SELF,    DNONE,
					    GNTDP_DOMID_IO,      GNTDP_DOMID_XEN,
					    GNTDP_DOMID_INVALID, 0xffff};
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_ST(tw_map(w, DB, bad[i], 10, HOST, 1000, NULL, NULL), GNTDP_GNTST_BAD_DOMAIN);
		/* Before the ref check. */
		T_ST(tw_map(w, DB, bad[i], 0xffffffff, DEV, 0, NULL, NULL), GNTDP_GNTST_BAD_DOMAIN);
	}
	/* DOMID_SELF is not translated even for a self-grant. */
	T_EQ(tw_grant(w, DB, 30, DB, 7, false), 0);
	T_ST(tw_map(w, DB, GNTDP_DOMID_SELF, 30, HOST, 1000, NULL, NULL), GNTDP_GNTST_BAD_DOMAIN);
	T_EQ(tw_flags(w, DB, 30), PA);
	return TC_PASS;
}

/* ---- step 5: maptrack ------------------------------------------------------------ */

static int
test_no_maptrack_frames_no_space(void)
{
	struct tw *w = map_world();
	struct gntdp_domain_conf c = tw_dom_conf(5);

	T_TRUE(w != NULL);
	c.max_maptrack_frames = 0;
	T_EQ(tw_add_conf(w, &c), 0);
	T_EQ(tw_grant(w, DA, 31, 5, 9, false), 0);
	T_ST(tw_map(w, 5, DA, 31, HOST, 1000, NULL, NULL), GNTDP_GNTST_NO_SPACE);
	T_ST(tw_map(w, 5, DA, 31, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_NO_SPACE);
	/* Step 5 precedes the ref check (step 6) but follows the domain check. */
	T_ST(tw_map(w, 5, DA, 0xffffffff, DEV, 0, NULL, NULL), GNTDP_GNTST_NO_SPACE);
	T_ST(tw_map(w, 5, DNONE, 31, DEV, 0, NULL, NULL), GNTDP_GNTST_BAD_DOMAIN);
	T_EQ(tw_flags(w, DA, 31), PA);
	return TC_PASS;
}

static int
test_maptrack_exhaustion_no_space(void)
{
	struct tw *w = map_world();
	struct gntdp_domain_conf c = tw_dom_conf(6);
	uint32_t handles[300];
	unsigned int ok = 0;
	int16_t st = GNTDP_GNTST_OKAY;

	T_TRUE(w != NULL);
	c.max_maptrack_frames = 1;
	T_EQ(tw_add_conf(w, &c), 0);
	T_EQ(tw_info(w, 6).max_maptrack_handles, GNTDP_MAPTRACK_PER_FRAME);
	/* One grant frame = refs 0..511; 300 distinct refs, one device map each. */
	for (uint32_t r = 100; r < 400; r++)
		T_EQ(tw_grant(w, DA, r, 6, r % 256, true), 0);
	for (uint32_t r = 100; r < 400; r++) {
		st = tw_map(w, 6, DA, r, DEV | RO, 0, &handles[ok], NULL);
		if (st != GNTDP_GNTST_OKAY)
			break;
		ok++;
	}
	/* Any allocator may keep a sentinel, but the total is bounded by the limit. */
	T_TRUE(ok >= 255);
	T_TRUE(ok <= 256);
	T_ST(st, GNTDP_GNTST_NO_SPACE);
	T_EQ(tw_flags(w, DA, 100 + ok), PA | ROF); /* the failed map left no flag */
	T_ST(tw_map(w, 6, DA, 399, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_NO_SPACE);
	for (unsigned int i = 0; i < ok; i++) {
		for (unsigned int j = 0; j < i; j++)
			T_NE(handles[i], handles[j]);
	}
	T_EQ(tw_info(w, 6).live_mappings, ok);
	T_ST(tw_unmap(w, 6, handles[17], 0, tw_va(w, DA, 117 % 256)), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, 6, DA, 399, DEV | RO, 0, &handles[17], NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, 6, DA, 398, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_NO_SPACE);
	return TC_PASS;
}

/* Domain 6 with one maptrack frame (256 handles) and refs 100..399 of DA granted to it. */
static struct tw *
maptrack_world(void)
{
	struct tw *w = map_world();
	struct gntdp_domain_conf c = tw_dom_conf(6);

	if (w == NULL)
		return NULL;
	c.max_maptrack_frames = 1;
	if (tw_add_conf(w, &c) != 0)
		return NULL;
	for (uint32_t r = 100; r < 400; r++)
		if (tw_grant(w, DA, r, 6, r % 256, true) != 0)
			return NULL;
	return w;
}

/*
 * Maptrack handles move between the caller's free list and a context once
 * per batch, not once per op (map.c, mt_stack): a batch hands out exactly the
 * handles, in the order, that one op per call does (failed maps give theirs
 * back to the next op), and no handle stays with the context after its batch:
 * another context of the same caller then reaches exactly the limit.
 */
static int
test_maptrack_batches_keep_no_handles(void)
{
	struct tw *w = maptrack_world(), *w1 = maptrack_world();
	struct gntdp_gnttab_map_grant_ref ops[256];
	struct gntdp_gnttab_unmap_grant_ref un[256];
	struct gntdp_gnttab_ctx *c2 = NULL;
	uint32_t h;

	T_TRUE(w != NULL && w1 != NULL);
	/* 100 maps, every 7th of an ungranted ref: one batch in w, one op per call in w1. */
	for (unsigned int i = 0; i < 100; i++)
		ops[i] = tw_map_op(DA, i % 7 == 3 ? 600 : 100 + i, DEV | RO, 0);
	T_EQ(tw_op(w, 6, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 100), 0);
	for (unsigned int i = 0; i < 100; i++) {
		T_ST(tw_map(w1, 6, DA, i % 7 == 3 ? 600 : 100 + i, DEV | RO, 0, &h, NULL),
		     ops[i].status);
		T_EQ(ops[i].handle, h);
	}
	T_EQ(tw_info(w, 6).live_mappings, 100 - 14); /* i = 3, 10, ..., 94 failed */
	/* Unmap every third mapping in one batch (w) and one by one (w1), then map again. */
	unsigned int nu = 0;
	uint64_t dev1[100]; /* the same frames' bus addresses in w1 */

	for (unsigned int i = 0; i < 100; i += 3)
		if (ops[i].status == GNTDP_GNTST_OKAY) {
			dev1[nu] = tw_va(w1, DA, (100 + i) % 256);
			un[nu++] = tw_unmap_op(ops[i].handle, 0, ops[i].dev_bus_addr);
		}
	T_EQ(tw_op(w, 6, GNTDP_GNTTABOP_UNMAP_GRANT_REF, un, nu), 0);
	for (unsigned int i = 0; i < nu; i++) {
		T_ST(un[i].status, GNTDP_GNTST_OKAY);
		T_ST(tw_unmap(w1, 6, un[i].handle, 0, dev1[i]), GNTDP_GNTST_OKAY);
	}
	T_EQ(tw_info(w, 6).live_mappings, 86 - nu);
	for (unsigned int i = 0; i < 40; i++)
		ops[i] = tw_map_op(DA, 200 + i, DEV | RO, 0);
	T_EQ(tw_op(w, 6, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 40), 0);
	for (unsigned int i = 0; i < 40; i++) {
		T_ST(tw_map(w1, 6, DA, 200 + i, DEV | RO, 0, &h, NULL), GNTDP_GNTST_OKAY);
		T_ST(ops[i].status, GNTDP_GNTST_OKAY);
		T_EQ(ops[i].handle, h); /* the freed handles first, last freed first */
	}
	tw_destroy(w1);

	/* A second context maps and unmaps 150 in batches; the first then gets all 256. */
	T_TRUE(w != NULL);
	w1 = maptrack_world();
	T_TRUE(w1 != NULL);
	T_EQ(gntdp_gnttab_ctx_create(w1->gt, NULL, &c2), 0);
	for (unsigned int i = 0; i < 150; i++)
		ops[i] = tw_map_op(DA, 100 + i, DEV | RO, 0);
	T_EQ(gntdp_gnttab_op(c2, 6, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 150), 0);
	for (unsigned int i = 0; i < 150; i++) {
		T_ST(ops[i].status, GNTDP_GNTST_OKAY);
		un[i] = tw_unmap_op(ops[i].handle, 0, ops[i].dev_bus_addr);
	}
	T_EQ(tw_info(w1, 6).live_mappings, 150);
	T_EQ(gntdp_gnttab_op(c2, 6, GNTDP_GNTTABOP_UNMAP_GRANT_REF, un, 150), 0);
	for (unsigned int i = 0; i < 150; i++)
		T_ST(un[i].status, GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w1, 6).live_mappings, 0);
	for (unsigned int i = 0; i < 256; i++)
		ops[i] = tw_map_op(DA, 100 + i, DEV | RO, 0);
	T_EQ(tw_op(w1, 6, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 256), 0);
	for (unsigned int i = 0; i < 256; i++)
		T_ST(ops[i].status, GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w1, 6).live_mappings, 256);
	T_ST(tw_map(w1, 6, DA, 399, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_NO_SPACE);
	ops[0] = tw_map_op(DA, 399, DEV | RO, 0);
	T_EQ(gntdp_gnttab_op(c2, 6, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 1), 0);
	T_ST(ops[0].status, GNTDP_GNTST_NO_SPACE);
	gntdp_gnttab_ctx_destroy(c2);
	return TC_PASS;
}

/*
 * A batch grows the maptrack only when the op that needs a handle finds the
 * free list empty, as one op per call does: with 255 of 256 handles in use,
 * a batch of a failing map and a good one takes the last handle twice and
 * leaves the table at one frame (maptrack_limit is visible in
 * gntdp_domain_info and decides when no_space comes).
 */
static int
test_maptrack_batch_grows_only_when_needed(void)
{
	struct tw *w = map_world();
	struct gntdp_domain_conf c = tw_dom_conf(6);
	struct gntdp_gnttab_map_grant_ref ops[2];

	T_TRUE(w != NULL);
	c.max_maptrack_frames = 2;
	T_EQ(tw_add_conf(w, &c), 0);
	for (uint32_t r = 100; r < 400; r++)
		T_EQ(tw_grant(w, DA, r, 6, r % 256, true), 0);
	for (uint32_t i = 0; i < 255; i++)
		T_ST(tw_map(w, 6, DA, 100 + i, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, 6).maptrack_limit, 256);
	ops[0] = tw_map_op(DA, 600, DEV | RO, 0); /* not granted */
	ops[1] = tw_map_op(DA, 355, DEV | RO, 0);
	T_EQ(tw_op(w, 6, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 2), 0);
	T_ST(ops[0].status, GNTDP_GNTST_BAD_GNTREF);
	T_ST(ops[1].status, GNTDP_GNTST_OKAY);
	T_EQ(ops[1].handle, 255);
	T_EQ(tw_info(w, 6).maptrack_limit, 256);
	T_EQ(tw_info(w, 6).live_mappings, 256);
	return TC_PASS;
}

static int
test_failed_maps_do_not_leak_handles(void)
{
	/* Every failure after step 5 must give its handle back. */
	struct tw *w = map_world();
	struct gntdp_domain_conf c = tw_dom_conf(6);
	unsigned int ok = 0;

	T_TRUE(w != NULL);
	c.max_maptrack_frames = 1;
	T_EQ(tw_add_conf(w, &c), 0);
	T_EQ(tw_grant(w, DA, 20, 6, 20, true), 0);
	T_EQ(tw_grant(w, DA, 21, 6, 300, false), 0);
	for (unsigned int i = 0; i < 1000; i++) {
		T_ST(tw_map(w, 6, DA, 600, DEV, 0, NULL, NULL), GNTDP_GNTST_BAD_GNTREF);
		T_ST(tw_map(w, 6, DA, 10, DEV, 0, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
		T_ST(tw_map(w, 6, DA, 20, DEV, 0, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
		T_ST(tw_map(w, 6, DA, 21, DEV, 0, NULL, NULL), GNTDP_GNTST_BAD_PAGE);
		T_ST(tw_map(w, 6, DA, 20, HOST | RO, 3, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	}
	T_EQ(tw_info(w, 6).live_mappings, 0);
	while (ok < 300 && tw_map(w, 6, DA, 20, DEV | RO, 0, NULL, NULL) == GNTDP_GNTST_OKAY)
		ok++;
	/* Reaching the limit through devr pins of one ref stops at 128: use host maps too. */
	while (ok < 300 &&
	       tw_map(w, 6, DA, 20, HOST | RO, 1000 + ok, NULL, NULL) == GNTDP_GNTST_OKAY)
		ok++;
	T_TRUE(ok >= 255);
	T_TRUE(ok <= 256);
	return TC_PASS;
}

/* ---- step 6: ref range ------------------------------------------------------- */

static int
test_ref_out_of_range_bad_gntref(void)
{
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	T_EQ(tw_nr_entries(w, DA), 512);
	T_ST(tw_map(w, DB, DA, 512, HOST, 1000, NULL, NULL), GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_map(w, DB, DA, 0xffffffff, DEV, 0, NULL, NULL), GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_map(w, DB, DA, 64 * 512, DEV, 0, NULL, NULL), GNTDP_GNTST_BAD_GNTREF);
	/* 511 is in range: unused entry -> general_error. */
	T_ST(tw_map(w, DB, DA, 511, DEV, 0, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	return TC_PASS;
}

/* ---- steps 7-8: entry validation --------------------------------------------- */

static int
test_not_granted_to_caller_exactly_minus_one(void)
{
	struct tw *w = map_world();
	int16_t st;

	T_TRUE(w != NULL);
	st = tw_map(w, DB, DA, 12, HOST, 1000, NULL, NULL); /* granted to C */
	T_EQ(st, -1);
	T_EQ(tw_flags(w, DA, 12), PA);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	return TC_PASS;
}

static int
test_bad_entry_types_general_error(void)
{
	static const uint16_t types[] = {
		GNTDP_GTF_INVALID,       GNTDP_GTF_ACCEPT_TRANSFER, GNTDP_GTF_TRANSITIVE,
		PA | GNTDP_GTF_SUB_PAGE, /* sub-page grants can never be mapped */
		GNTDP_GTF_INVALID | ROF,
	};
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		tw_set_entry(w, DA, 40, types[i], DB, 24);
		T_ST(tw_map(w, DB, DA, 40, HOST | RO, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
		T_ST(tw_map(w, DB, DA, 40, DEV, 0, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
		T_EQ(tw_flags(w, DA, 40), types[i]);
	}
	T_EQ(tw_info(w, DB).live_mappings, 0);
	return TC_PASS;
}

static int
test_writable_map_of_readonly_grant(void)
{
	struct tw *w = map_world();
	uint32_t h;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 11, HOST, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_map(w, DB, DA, 11, DEV, 0, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_map(w, DB, DA, 11, DEV | HOST, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 11), PA | ROF);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	/* Read-only works and sets only GTF_reading. */
	T_ST(tw_map(w, DB, DA, 11, HOST | RO, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 11), PA | ROF | RD);
	/* And a writable map is still refused while the read-only pin exists. */
	T_ST(tw_map(w, DB, DA, 11, DEV, 0, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 11), PA | ROF | RD);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 11), PA | ROF);
	return TC_PASS;
}

static int
test_first_writable_pin_rechecks_readonly(void)
{
	struct tw *w = map_world();
	uint32_t h1, h2;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h1, NULL), GNTDP_GNTST_OKAY);
	/* Writing is clear, so the granter may make the entry read-only. */
	T_EQ(gntdp_guest_set_readonly(tw_ent(w, DA, 10)), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1001, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 10), PA | ROF | RD);
	T_PTR(tw_frame(w, DB, 1001), NULL);
	gntdp_guest_set_writable(tw_ent(w, DA, 10));
	T_ST(tw_map(w, DB, DA, 10, HOST, 1001, &h2, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_ST(tw_unmap(w, DB, h2, HA(1001), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_ST(tw_unmap(w, DB, h1, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_later_maps_reuse_pinned_frame(void)
{
	/* Spec §5.3: once pinned, same-kind maps reuse the pinned frame. */
	struct tw *w = map_world();
	uint32_t h1, h2;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h1, NULL), GNTDP_GNTST_OKAY);
	tw_ent(w, DA, 10)->frame = 25;
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1001, &h2, NULL), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1001), tw_frame(w, DA, 20));
	T_ST(tw_unmap(w, DB, h2, HA(1001), 0), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h1, HA(1000), 0), GNTDP_GNTST_OKAY);
	/* Pin gone: the next map resolves the entry again. */
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1002, &h1, NULL), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1002), tw_frame(w, DA, 25));
	return TC_PASS;
}

static int
test_pinned_by_other_domain_general_error(void)
{
	struct tw *w = map_world();
	uint32_t hb;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &hb, NULL), GNTDP_GNTST_OKAY);
	/* The granter re-points the entry at C while B holds a pin. */
	tw_ent(w, DA, 10)->domid = DC;
	T_ST(tw_map(w, DC, DA, 10, HOST | RO, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_map(w, DC, DA, 10, DEV, 0, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_PTR(tw_frame(w, DC, 1000), NULL);
	/* B keeps using its pin (the entry's domid is not re-read while pinned). */
	T_ST(tw_map(w, DB, DA, 10, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DC).live_mappings, 0);
	return TC_PASS;
}

static int
test_map_after_end_access_fails(void)
{
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 10), 0);
	return TC_PASS;
}

static int
test_extra_flag_bits_only_matter_for_host_maps(void)
{
	/* Spec 5.1 step 13 (translated): host_map with any flag besides readonly fails. */
	static const uint32_t extra[] = {0x10000, 0x80000000u, 0x20, 0x100};
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	for (int i = 0; i < 4; i++) {
		uint32_t h;
		uint64_t dev;

		T_ST(tw_map(w, DB, DA, 10, HOST | extra[i], 1000, NULL, NULL),
		     GNTDP_GNTST_GENERAL_ERROR);
		T_ST(tw_map(w, DB, DA, 10, HOST | RO | extra[i], 1000, NULL, NULL),
		     GNTDP_GNTST_GENERAL_ERROR);
		T_PTR(tw_frame(w, DB, 1000), NULL);
		T_EQ(tw_flags(w, DA, 10), PA);
		T_EQ(tw_info(w, DB).live_mappings, 0);
		/* A device-only map creates no host mapping, so the bits are ignored. */
		T_ST(tw_map(w, DB, DA, 10, DEV | extra[i], 0, &h, &dev), GNTDP_GNTST_OKAY);
		T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
		T_EQ(tw_flags(w, DA, 10), PA);
	}
	return TC_PASS;
}

static int
test_privilege_does_not_bypass_grants(void)
{
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	T_ST(tw_map(w, D0, DA, 12, HOST, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_map(w, D0, DA, 20, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, D0, tw_ref(DA, 12, 0), tw_gfn(GNTDP_DOMID_SELF, 1, 0), 8),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 12), PA);
	return TC_PASS;
}

/* ---- step 9: frame resolution -------------------------------------------------- */

static int
test_grant_of_missing_frame_bad_page(void)
{
	struct tw *w = map_world();
	uint32_t hc;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 15, DB, 300, false), 0);
	T_EQ(tw_grant(w, DA, 16, DB, 0xffffffffu, true), 0);
	T_ST(tw_map(w, DB, DA, 15, HOST, 1000, NULL, NULL), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_map(w, DB, DA, 16, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_flags(w, DA, 15), PA);
	T_EQ(tw_flags(w, DA, 16), PA | ROF);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	/* A gfn where the granter has a foreign frame mapped is not its page. */
	T_EQ(tw_grant(w, DC, 9, DA, 5, false), 0);
	T_ST(tw_map(w, DA, DC, 9, HOST, 900, &hc, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_grant(w, DA, 17, DB, 900, false), 0);
	T_ST(tw_map(w, DB, DA, 17, HOST | RO, 1000, NULL, NULL), GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_flags(w, DA, 17), PA);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	return TC_PASS;
}

/* ---- step 13: host mapping slot -------------------------------------------------- */

static int
test_host_addr_occupied_general_error(void)
{
	struct tw *w = map_world();
	uint32_t h;
	uint64_t bad[3];

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 11, HOST | RO, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	bad[0] = 5;           /* B's own RAM */
	bad[1] = 1000;        /* already holds a grant mapping */
	bad[2] = 256 + 65536; /* beyond the physmap */
	for (int i = 0; i < 3; i++) {
		struct gntdp_gnttab_map_grant_ref op = tw_map_op(DA, 10, HOST, bad[i]);

		T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, &op, 1), 0);
		T_ST(op.status, GNTDP_GNTST_GENERAL_ERROR);
		T_EQ(op.handle, TW_HANDLE_SENTINEL);
		T_U64(op.dev_bus_addr, TW_DEV_SENTINEL);
		/* No pin left behind: the entry is idle, the granter can revoke it. */
		T_EQ(tw_flags(w, DA, 10), PA);
	}
	T_NE(tw_frame(w, DB, 5), tw_frame(w, DA, 20));
	T_PTR(tw_frame(w, DB, 1000), tw_frame(w, DA, 21));
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_EQ(tw_info(w, DA).pinned_entries, 1);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	/* The same failure on an already pinned entry keeps the old pin intact. */
	T_ST(tw_map(w, DB, DA, 11, HOST | RO, 5, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 11), PA | ROF | RD);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 11), PA | ROF);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	return TC_PASS;
}

/* ---- outputs ------------------------------------------------------------------ */

static int
test_failure_leaves_handle_and_dev_bus_addr(void)
{
	struct tw *w = map_world();
	struct gntdp_gnttab_map_grant_ref ops[6];
	static const int16_t want[6] = {
		GNTDP_GNTST_BAD_GNTREF, GNTDP_GNTST_GENERAL_ERROR, GNTDP_GNTST_BAD_DOMAIN,
		GNTDP_GNTST_OKAY,       GNTDP_GNTST_BAD_GNTREF,    GNTDP_GNTST_GENERAL_ERROR,
	};

	T_TRUE(w != NULL);
	ops[0] = tw_map_op(DA, 10, 0, 1000);
	ops[1] = tw_map_op(DA, 10, HOST | GNTDP_GNTMAP_CONTAINS_PTE, 1000);
	ops[2] = tw_map_op(DNONE, 10, HOST, 1000);
	ops[3] = tw_map_op(DA, 10, HOST | RO, 1000);
	ops[4] = tw_map_op(DA, 9999, HOST, 1001);
	ops[5] = tw_map_op(DA, 12, HOST, 1001);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 6), 0);
	for (int i = 0; i < 6; i++) {
		T_ST(ops[i].status, want[i]);
		/* Inputs come back unchanged (whole struct written back). */
		T_EQ(ops[i].host_addr, i < 4 ? HA(1000) : HA(1001));
		if (i == 3)
			continue;
		T_EQ(ops[i].handle, TW_HANDLE_SENTINEL);
		T_U64(ops[i].dev_bus_addr, TW_DEV_SENTINEL);
	}
	T_NE(ops[3].handle, TW_HANDLE_SENTINEL);
	T_U64(ops[3].dev_bus_addr, tw_va(w, DA, 20));
	T_EQ(ops[3].flags, HOST | RO);
	T_EQ(ops[3].ref, 10);
	T_EQ(ops[3].dom, DA);
	return TC_PASS;
}

/* ---- flags and pins across several mappings ------------------------------------ */

static int
test_two_maps_same_ref_distinct_handles(void)
{
	struct tw *w = map_world();
	uint32_t h1, h2;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h1, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1001, &h2, NULL), GNTDP_GNTST_OKAY);
	T_NE(h1, h2);
	T_PTR(tw_frame(w, DB, 1001), tw_frame(w, DA, 20));
	T_EQ(tw_info(w, DB).live_mappings, 2);
	T_EQ(tw_info(w, DA).pinned_entries, 1);
	T_ST(tw_unmap(w, DB, h1, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), -EBUSY);
	T_ST(tw_unmap(w, DB, h2, HA(1001), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	return TC_PASS;
}

static int
test_writing_clears_with_last_writable_pin(void)
{
	struct tw *w = map_world();
	uint32_t hro, hrw, hdev;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &hro, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1001, &hrw, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, DEV, 0, &hdev, &dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_ST(tw_unmap(w, DB, hrw, HA(1001), 0), GNTDP_GNTST_OKAY);
	/* A writable device pin remains (XSA-230: device pins count). */
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_EQ(gntdp_guest_set_readonly(tw_ent(w, DA, 10)), -EBUSY);
	T_ST(tw_unmap(w, DB, hdev, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_ST(tw_unmap(w, DB, hro, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

/* Saturate one pin counter (spec §2.2): 128 users ok, the 129th general_error. */
static int
saturate(struct tw *w, uint32_t flags, uint64_t gfn0)
{
	uint32_t *h = calloc(128, sizeof(*h));
	uint64_t dev = 0;
	struct gntdp_gnttab_map_grant_ref op;
	int rc = TC_FAILED;

	if (h == NULL)
		return TC_FAILED;
	for (unsigned int i = 0; i < 128; i++) {
		int16_t st = tw_map(w, DB, DA, 10, flags, gfn0 + i, &h[i], &dev);

		if (st != GNTDP_GNTST_OKAY) {
			tc_fail_status(__FILE__, __LINE__, "map number i < 128", st, 0);
			goto out;
		}
	}
	op = tw_map_op(DA, 10, flags, gfn0 + 128);
	if (tw_op(w, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, &op, 1) != 0 ||
	    op.status != GNTDP_GNTST_GENERAL_ERROR) {
		tc_fail_status(__FILE__, __LINE__, "129th map", op.status, -1);
		goto out;
	}
	if (op.handle != TW_HANDLE_SENTINEL || op.dev_bus_addr != TW_DEV_SENTINEL) {
		tc_fail(__FILE__, __LINE__, "129th map outputs", "written", "untouched");
		goto out;
	}
	if ((flags & HOST) && tw_frame(w, DB, gfn0 + 128) != NULL) {
		tc_fail(__FILE__, __LINE__, "129th map gfn", "mapped", "empty");
		goto out;
	}
	if (tw_unmap(w, DB, h[64], (flags & HOST) ? HA(gfn0 + 64) : 0, (flags & HOST) ? 0 : dev) !=
	    GNTDP_GNTST_OKAY) {
		tc_fail(__FILE__, __LINE__, "unmap one", "error", "okay");
		goto out;
	}
	if (tw_map(w, DB, DA, 10, flags, gfn0 + 128, &h[64], NULL) != GNTDP_GNTST_OKAY) {
		tc_fail(__FILE__, __LINE__, "map after unmapping one", "error", "okay");
		goto out;
	}
	rc = TC_PASS;
out:
	free(h);
	return rc;
}

static int
test_pin_saturation_host_ro(void)
{
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	T_OK(saturate(w, HOST | RO, 1000));
	/* The other three counters are independent. */
	T_ST(tw_map(w, DB, DA, 10, HOST, 2000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, DEV, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	/* host+device requests both counters: fails because hstr is full. */
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV | RO, 2001, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

static int
test_pin_saturation_host_rw(void)
{
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	T_OK(saturate(w, HOST, 1000));
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 2000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, DEV, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_pin_saturation_device_ro(void)
{
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	T_OK(saturate(w, DEV | RO, 0));
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 2000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, DEV, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_pin_saturation_device_rw(void)
{
	struct tw *w = map_world();

	T_TRUE(w != NULL);
	T_OK(saturate(w, DEV, 0));
	T_ST(tw_map(w, DB, DA, 10, HOST, 2000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, DEV | RO, 0, NULL, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, DEV | HOST, 2001, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

/* ---- unmap -------------------------------------------------------------------------- */

static int
test_unmap_bad_handles(void)
{
	struct tw *w = map_world();
	uint32_t h;

	T_TRUE(w != NULL);
	T_ST(tw_unmap(w, DB, 0xffffffff, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE);
	T_ST(tw_unmap(w, DB, 0, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE); /* nothing mapped yet */
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	/* Another domain's handle number means nothing in C's maptrack. */
	T_ST(tw_unmap(w, DC, h, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE);
	T_ST(tw_unmap(w, DB, h ^ 1, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE);
	T_ST(tw_unmap(w, DB, h + 0x100000, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE);
	T_ST(tw_unmap(w, DB, h, 0, 0), GNTDP_GNTST_BAD_HANDLE);
	return TC_PASS;
}

static int
test_unmap_both_addresses_zero_is_noop(void)
{
	struct tw *w = map_world();
	uint32_t h;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, 0, 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_PTR(tw_frame(w, DB, 1000), tw_frame(w, DA, 20));
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_ST(tw_unmap(w, DB, h, HA(1000), dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	return TC_PASS;
}

static int
test_unmap_wrong_host_addr_general_error(void)
{
	struct tw *w = map_world();
	uint32_t h, h2;
	uint64_t bad[5];

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 11, HOST | RO, 1001, &h2, NULL), GNTDP_GNTST_OKAY);
	bad[0] = HA(1002);         /* empty gfn */
	bad[1] = HA(5);            /* RAM */
	bad[2] = HA(1001);         /* a grant mapping of another handle */
	bad[3] = HA(0xffffffffff); /* beyond the physmap */
	bad[4] = HA(999);
	for (int i = 0; i < 5; i++) {
		T_ST(tw_unmap(w, DB, h, bad[i], 0), GNTDP_GNTST_GENERAL_ERROR);
		T_PTR(tw_frame(w, DB, 1000), tw_frame(w, DA, 20));
		T_PTR(tw_frame(w, DB, 1001), tw_frame(w, DA, 21));
		T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	}
	T_EQ(tw_info(w, DB).live_mappings, 2);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h2, HA(1001), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DA, 11), PA | ROF);
	return TC_PASS;
}

static int
test_unmap_wrong_dev_bus_addr(void)
{
	struct tw *w = map_world();
	uint32_t h;
	uint64_t dev;
	uint64_t bad[5];

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	bad[0] = dev + 1; /* low 12 bits (XSA-224) */
	bad[1] = dev | 0xfff;
	bad[2] = dev + 4096;         /* the next frame */
	bad[3] = dev ^ (1ULL << 40); /* high bits */
	bad[4] = tw_va(w, DA, 21);
	for (int i = 0; i < 5; i++) {
		T_ST(tw_unmap(w, DB, h, 0, bad[i]), GNTDP_GNTST_BAD_DEV_ADDR);
		/* Step 7 precedes step 8: the valid host part is not removed either. */
		T_ST(tw_unmap(w, DB, h, HA(1000), bad[i]), GNTDP_GNTST_BAD_DEV_ADDR);
		T_PTR(tw_frame(w, DB, 1000), tw_frame(w, DA, 20));
		T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	}
	/* Both wrong: bad_dev_addr. */
	T_ST(tw_unmap(w, DB, h, HA(1001), dev + 1), GNTDP_GNTST_BAD_DEV_ADDR);
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_ST(tw_unmap(w, DB, h, HA(1000), dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_unmap_partial_host_then_device(void)
{
	struct tw *w = map_world();
	uint32_t h;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_BAD_HANDLE);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	return TC_PASS;
}

static int
test_unmap_partial_device_then_host(void)
{
	struct tw *w = map_world();
	uint32_t h;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 11, HOST | DEV | RO, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1000), tw_frame(w, DA, 21));
	T_EQ(tw_flags(w, DA, 11), PA | ROF | RD);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	T_EQ(tw_flags(w, DA, 11), PA | ROF);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 11)), 0);
	return TC_PASS;
}

static int
test_unmap_repeated_half_is_noop(void)
{
	/* XSA-394: unmapping the same half again must not drop anything twice. */
	struct tw *w = map_world();
	uint32_t h, h2;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, DEV, 0, &h2, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
	for (int i = 0; i < 3; i++) {
		T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
		T_EQ(tw_info(w, DB).live_mappings, 2);
	}
	/* The other handle's device pin is still there. */
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), -EBUSY);
	T_ST(tw_unmap(w, DB, h2, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	return TC_PASS;
}

static int
test_unmap_ignores_absent_half(void)
{
	struct tw *w = map_world();
	uint32_t hh, hd;
	uint64_t dev;

	T_TRUE(w != NULL);
	/* Host-only mapping: dev_bus_addr is not compared (no device part). */
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &hh, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, hh, HA(1000), 0x1234), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	/* Device-only mapping: host_addr is not examined. */
	T_ST(tw_map(w, DB, DA, 10, DEV, 0, &hd, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, hd, HA(5), dev), GNTDP_GNTST_OKAY);
	T_TRUE(tw_frame(w, DB, 5) != NULL);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_unmap_batch_across_chunks(void)
{
	/* 100 unmaps in one call: more than three of Xen's 32-op chunks. */
	struct tw *w = map_world();
	struct gntdp_gnttab_map_grant_ref m[100];
	struct gntdp_gnttab_unmap_grant_ref u[102];

	T_TRUE(w != NULL);
	for (int i = 0; i < 100; i++)
		m[i] = tw_map_op(DA, i % 2 ? 10 : 11, HOST | RO, 1000 + (uint64_t)i);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, m, 100), 0);
	for (int i = 0; i < 100; i++) {
		T_ST(m[i].status, GNTDP_GNTST_OKAY);
		u[i] = tw_unmap_op(m[i].handle, HA(1000 + (uint64_t)i), 0);
	}
	u[100] = tw_unmap_op(m[3].handle, HA(1003), 0); /* repeated: bad_handle */
	u[101] = tw_unmap_op(0xfffffffe, HA(1000), 0);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u, 102), 0);
	for (int i = 0; i < 100; i++)
		T_ST(u[i].status, GNTDP_GNTST_OKAY);
	T_ST(u[100].status, GNTDP_GNTST_BAD_HANDLE);
	T_ST(u[101].status, GNTDP_GNTST_BAD_HANDLE);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DA, 11), PA | ROF);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	/* Only status is written back. */
	T_EQ(u[5].handle, m[5].handle);
	T_U64(u[5].host_addr, HA(1005));
	return TC_PASS;
}

static int
test_map_batch_statuses(void)
{
	struct tw *w = map_world();
	struct gntdp_gnttab_map_grant_ref ops[5];

	T_TRUE(w != NULL);
	ops[0] = tw_map_op(DA, 10, HOST | RO, 1000);
	ops[1] = tw_map_op(DA, 10, HOST | RO, 1000); /* same gfn again: occupied */
	ops[2] = tw_map_op(DA, 11, DEV | RO, 0);
	ops[3] = tw_map_op(DA, 12, DEV | RO, 0); /* not ours */
	ops[4] = tw_map_op(DA, 10, DEV, 0);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 5), 0);
	T_ST(ops[0].status, GNTDP_GNTST_OKAY);
	T_ST(ops[1].status, GNTDP_GNTST_GENERAL_ERROR);
	T_ST(ops[2].status, GNTDP_GNTST_OKAY);
	T_ST(ops[3].status, GNTDP_GNTST_GENERAL_ERROR);
	T_ST(ops[4].status, GNTDP_GNTST_OKAY);
	T_NE(ops[0].handle, ops[2].handle);
	T_NE(ops[0].handle, ops[4].handle);
	T_NE(ops[2].handle, ops[4].handle);
	T_EQ(tw_info(w, DB).live_mappings, 3);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_EQ(tw_flags(w, DA, 11), PA | ROF | RD);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_host_ro_map_and_unmap),
	TC(test_host_rw_map_shares_the_frame),
	TC(test_device_maps_report_bus_address),
	TC(test_device_only_ignores_host_addr),
	TC(test_custom_iova_is_dev_bus_addr),
	TC(test_self_grant_with_numeric_id),
	TC(test_flags_without_host_or_device_bad_gntref),
	TC(test_application_map_and_contains_pte_general_error),
	TC(test_bad_domain),
	TC(test_no_maptrack_frames_no_space),
	TC(test_maptrack_exhaustion_no_space),
	TC(test_failed_maps_do_not_leak_handles),
	TC(test_maptrack_batches_keep_no_handles),
	TC(test_maptrack_batch_grows_only_when_needed),
	TC(test_ref_out_of_range_bad_gntref),
	TC(test_not_granted_to_caller_exactly_minus_one),
	TC(test_bad_entry_types_general_error),
	TC(test_writable_map_of_readonly_grant),
	TC(test_first_writable_pin_rechecks_readonly),
	TC(test_later_maps_reuse_pinned_frame),
	TC(test_pinned_by_other_domain_general_error),
	TC(test_map_after_end_access_fails),
	TC(test_extra_flag_bits_only_matter_for_host_maps),
	TC(test_privilege_does_not_bypass_grants),
	TC(test_grant_of_missing_frame_bad_page),
	TC(test_host_addr_occupied_general_error),
	TC(test_failure_leaves_handle_and_dev_bus_addr),
	TC(test_two_maps_same_ref_distinct_handles),
	TC(test_writing_clears_with_last_writable_pin),
	TC(test_pin_saturation_host_ro),
	TC(test_pin_saturation_host_rw),
	TC(test_pin_saturation_device_ro),
	TC(test_pin_saturation_device_rw),
	TC(test_map_batch_statuses),
	TC(test_unmap_bad_handles),
	TC(test_unmap_both_addresses_zero_is_noop),
	TC(test_unmap_wrong_host_addr_general_error),
	TC(test_unmap_wrong_dev_bus_addr),
	TC(test_unmap_partial_host_then_device),
	TC(test_unmap_partial_device_then_host),
	TC(test_unmap_repeated_half_is_noop),
	TC(test_unmap_ignores_absent_half),
	TC(test_unmap_batch_across_chunks),
};

TC_MAIN(cases)
