/* SPDX-License-Identifier: MIT */
/*
 * Regression cases named after Xen security advisories (spec §12), in their
 * single-threaded form: 218, 224, 228, 230, 316, 318, 380, 448 and 500. The
 * threaded halves of 218/228 belong to the concurrency suite; XSA-217 lives
 * in test_transfer.c next to the rest of transfer.
 */
#include <errno.h>
#include <stdlib.h>
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

/* ---- XSA-218 ---------------------------------------------------------------------- */

static int
test_xsa218_halves_free_handle_once(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_unmap_grant_ref u[2];
	uint32_t h, hk, n[4];
	uint64_t dev;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, DEV | RO, 0, &hk, NULL), GNTDP_GNTST_OKAY); /* keeps a pin */
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	/* Flags follow the pins: the writable device pin is still there. */
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_ST(tw_unmap(w, DB, h, HA(1000), dev), GNTDP_GNTST_BAD_HANDLE);
	T_EQ(tw_info(w, DB).live_mappings, 1);
	/* A handle freed twice would be handed out twice: all must differ. */
	for (int i = 0; i < 4; i++)
		T_ST(tw_map(w, DB, DA, 10, DEV | RO, 0, &n[i], NULL), GNTDP_GNTST_OKAY);
	for (int i = 0; i < 4; i++) {
		T_NE(n[i], hk);
		for (int j = 0; j < i; j++)
			T_NE(n[i], n[j]);
	}
	/* Both halves in one batch. */
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1001, &h, &dev), GNTDP_GNTST_OKAY);
	u[0] = tw_unmap_op(h, HA(1001), 0);
	u[1] = tw_unmap_op(h, 0, dev);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u, 2), 0);
	T_ST(u[0].status, GNTDP_GNTST_OKAY);
	T_ST(u[1].status, GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DB).live_mappings, 5);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	for (int i = 0; i < 4; i++)
		T_ST(tw_unmap(w, DB, n[i], 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_ST(tw_unmap(w, DB, hk, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	return TC_PASS;
}

/* ---- XSA-224 ---------------------------------------------------------------------- */

static int
test_xsa224_dev_addr_low_bits(void)
{
	struct tw *w = tw_std();
	uint32_t h;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, DEV, 0, &h, &dev), GNTDP_GNTST_OKAY);
	T_EQ(dev & 0xfff, 0);
	T_ST(tw_unmap(w, DB, h, 0, dev | 1), GNTDP_GNTST_BAD_DEV_ADDR);
	T_ST(tw_unmap(w, DB, h, 0, dev | 0x800), GNTDP_GNTST_BAD_DEV_ADDR);
	T_ST(tw_unmap(w, DB, h, 0, dev | 0xfff), GNTDP_GNTST_BAD_DEV_ADDR);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_xsa224_self_grant_partial_unmaps_restore_counts(void)
{
	struct tw *w = tw_std();
	uint32_t h;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DB, 20, DB, 40, false), 0);
	T_ST(tw_map(w, DB, DB, 20, HOST | DEV, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DB, 20), PA);
	T_EQ(tw_info(w, DB).pinned_entries, 0);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DB, 20)), 0);
	/* No reference was left behind: the page can be given away (stolen). */
	T_EQ(gntdp_guest_grant_transfer(tw_ent(w, DA, 50), DB, 1000), 0);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

/* ---- XSA-228 (single-threaded part) ------------------------------------------------ */

struct live {
	uint32_t handle;
	uint32_t flags;
	uint64_t gfn;
	gntdp_grant_ref_t ref;
};

static int
test_xsa228_no_duplicate_live_handles(void)
{
	struct tw *w = tw_std();
	struct gntdp_domain_conf c = tw_dom_conf(5);
	struct live *lv;
	unsigned int nb = 0, no_space = 0;
	uint64_t rnd = 228, next_gfn = 1000;
	uint64_t dev[16];
	int rc = TC_FAILED;

	T_TRUE(w != NULL);
	c.max_maptrack_frames = 2;
	T_EQ(tw_add_conf(w, &c), 0);
	for (uint32_t r = 0; r < 16; r++) {
		T_EQ(tw_grant(w, DA, 100 + r, 5, 30 + r, false), 0);
		dev[r] = tw_va(w, DA, 30 + r);
	}
	lv = calloc(1024, sizeof(*lv));
	T_TRUE(lv != NULL);
	for (unsigned int step = 0; step < 20000; step++) {
		uint64_t x = tw_rand(&rnd);

		if (nb > 0 && (x & 7) < 3) {
			unsigned int k = (unsigned int)((x >> 8) % nb);
			struct live *m = &lv[k];
			int16_t st = tw_unmap(w, 5, m->handle, (m->flags & HOST) ? HA(m->gfn) : 0,
					      (m->flags & DEV) ? dev[m->ref - 100] : 0);

			if (st != GNTDP_GNTST_OKAY) {
				tc_fail_status(__FILE__, __LINE__, "unmap of a live handle", st, 0);
				goto out;
			}
			lv[k] = lv[--nb];
		} else {
			static const uint32_t kinds[4] = {DEV | RO, DEV, HOST | RO, HOST | DEV};
			uint32_t fl = kinds[(x >> 4) & 3];
			gntdp_grant_ref_t ref = 100 + (gntdp_grant_ref_t)((x >> 16) % 16);
			uint32_t h;
			int16_t st = tw_map(w, 5, DA, ref, fl, next_gfn, &h, NULL);

			if (st == GNTDP_GNTST_NO_SPACE) {
				/* Only when (nearly) all 512 handles are live. */
				if (nb < 510) {
					tc_fail_ll(__FILE__, __LINE__, "live handles at no_space",
						   nb, 510);
					goto out;
				}
				no_space++;
				continue;
			}
			if (st != GNTDP_GNTST_OKAY) {
				tc_fail_status(__FILE__, __LINE__, "map", st, 0);
				goto out;
			}
			for (unsigned int i = 0; i < nb; i++) {
				if (lv[i].handle == h) {
					tc_fail_ll(__FILE__, __LINE__, "duplicate live handle", h,
						   -1);
					goto out;
				}
			}
			lv[nb].handle = h;
			lv[nb].flags = fl;
			lv[nb].gfn = next_gfn++;
			lv[nb].ref = ref;
			nb++;
		}
		if (nb >= 1024)
			break;
	}
	if (tw_info(w, 5).live_mappings != nb) {
		tc_fail_ll(__FILE__, __LINE__, "live_mappings", tw_info(w, 5).live_mappings, nb);
		goto out;
	}
	while (nb > 0) {
		struct live *m = &lv[--nb];

		if (tw_unmap(w, 5, m->handle, (m->flags & HOST) ? HA(m->gfn) : 0,
			     (m->flags & DEV) ? dev[m->ref - 100] : 0) != GNTDP_GNTST_OKAY) {
			tc_fail(__FILE__, __LINE__, "final unmap", "error", "okay");
			goto out;
		}
	}
	for (uint32_t r = 0; r < 16; r++) {
		if (tw_flags(w, DA, 100 + r) != PA) {
			tc_fail_ll(__FILE__, __LINE__, "flags after all unmaps",
				   tw_flags(w, DA, 100 + r), PA);
			goto out;
		}
	}
	rc = TC_PASS;
out:
	free(lv);
	return rc;
}

/* ---- XSA-230 ---------------------------------------------------------------------- */

static int
test_xsa230_device_pin_keeps_writing_after_copy(void)
{
	struct tw *w = tw_std();
	uint32_t h, h2;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, DEV, 0, &h, &dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 10, 0), 64), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 2, 0), 64), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_EQ(gntdp_guest_set_readonly(tw_ent(w, DA, 10)), -EBUSY);
	/* A read-only device pin: the copy's write use ends, writing clears, reading stays. */
	T_ST(tw_map(w, DB, DA, 10, DEV | RO, 0, &h2, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 10, 0), 64), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_ST(tw_unmap(w, DB, h2, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

/* ---- XSA-316 ---------------------------------------------------------------------- */

static int
test_xsa316_map_errors_are_negative(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_map_grant_ref ops[8];

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 12, DC, 22, false), 0);
	T_EQ(tw_grant(w, DA, 11, DB, 21, true), 0);
	T_EQ(tw_grant(w, DA, 13, DB, 300, false), 0);
	tw_set_entry(w, DA, 14, GNTDP_GTF_ACCEPT_TRANSFER, DB, 23);
	ops[0] = tw_map_op(DA, 12, HOST, 1000);   /* not granted to B */
	ops[1] = tw_map_op(DA, 15, HOST, 1000);   /* invalid entry */
	ops[2] = tw_map_op(DA, 14, DEV, 0);       /* accept_transfer */
	ops[3] = tw_map_op(DA, 11, HOST, 1000);   /* writable on read-only */
	ops[4] = tw_map_op(DA, 13, HOST, 1000);   /* no page */
	ops[5] = tw_map_op(DA, 11, HOST | RO, 5); /* occupied gfn */
	ops[6] = tw_map_op(DA, 999, 0, 0);
	ops[7] = tw_map_op(DA, 9999, DEV, 0);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, 8), 0);
	T_EQ(ops[0].status, -1);
	T_EQ(ops[1].status, -1);
	T_EQ(ops[2].status, -1);
	T_EQ(ops[3].status, -1);
	T_ST(ops[4].status, GNTDP_GNTST_BAD_PAGE);
	T_EQ(ops[5].status, -1);
	T_ST(ops[6].status, GNTDP_GNTST_BAD_GNTREF);
	T_ST(ops[7].status, GNTDP_GNTST_BAD_GNTREF);
	for (int i = 0; i < 8; i++)
		T_TRUE(ops[i].status <= 0 && ops[i].status > -GNTDP_GNTST_COUNT);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	return TC_PASS;
}

/* ---- XSA-318 ---------------------------------------------------------------------- */

static int
test_xsa318_huge_copy_batch_every_status_written(void)
{
	enum { N = 100000 };
	struct tw *w = tw_std();
	struct gntdp_gnttab_copy *ops;
	unsigned int bad = 0;
	int rc;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(tw_grant(w, DA, 11, DB, 21, false), 0);
	tw_fill(w, DA, 20, 0x18);
	ops = malloc(sizeof(*ops) * N);
	T_TRUE(ops != NULL);
	for (unsigned int i = 0; i < N; i++) {
		uint16_t off = (uint16_t)(((i / 2) % 512) * 8);

		if (i % 7 == 3)
			ops[i] = tw_copy_op(tw_ref(DA, 600 + i % 100, 0), tw_gfn(SELF, 30, off), 8);
		else if (i % 11 == 5)
			ops[i] = tw_copy_op(tw_ref(DA, 10, 4092), tw_gfn(SELF, 30, off), 8);
		else if (i % 2)
			ops[i] = tw_copy_op(tw_ref(DA, 10, off), tw_gfn(SELF, 30, off), 8);
		else
			ops[i] = tw_copy_op(tw_gfn(SELF, 31, off), tw_ref(DA, 11, off), 8);
		ops[i].status = TW_UNSET;
	}
	rc = tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, N);
	for (unsigned int i = 0; i < N && rc == 0; i++) {
		int16_t want = GNTDP_GNTST_OKAY;

		if (i % 7 == 3)
			want = GNTDP_GNTST_BAD_GNTREF;
		else if (i % 11 == 5)
			want = GNTDP_GNTST_BAD_COPY_ARG;
		if (ops[i].status != want && bad++ == 0)
			tc_fail_status(__FILE__, __LINE__, "ops[first mismatch].status",
				       ops[i].status, want);
	}
	free(ops);
	T_EQ(rc, 0);
	T_EQ(bad, 0);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 4096, 0x18, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DA, 11), PA);
	return TC_PASS;
}

/* ---- XSA-380 ---------------------------------------------------------------------- */

enum { XSA380_MAPS = 100000, XSA380_PER_REF = 128, XSA380_REF0 = 8 };

/* Mapper 5 holds 100,000 live mappings (host+device) of granter 6's grants. */
static int
xsa380_world(struct tw **out)
{
	struct tw *w = tw_create(NULL);
	struct gntdp_domain_conf m = tw_dom_conf(5), g = tw_dom_conf(6);
	struct gntdp_gnttab_map_grant_ref *ops;
	gntdp_xen_pfn_t fl[2];
	uint32_t nrefs = (XSA380_MAPS + XSA380_PER_REF - 1) / XSA380_PER_REF;
	unsigned int bad = 0;
	int rc;

	*out = w;
	T_TRUE(w != NULL);
	m.nr_frames = 16;
	m.p2m_size = 16 + XSA380_MAPS + 16;
	m.max_maptrack_frames = 400;
	T_EQ(tw_add_conf(w, &m), 0);
	T_EQ(tw_add_conf(w, &g), 0);
	T_ST(tw_setup(w, 6, SELF, 2, fl), GNTDP_GNTST_OKAY);
	for (uint32_t r = 0; r < nrefs; r++)
		T_EQ(tw_grant(w, 6, XSA380_REF0 + r, 5, r % 256, r % 2 != 0), 0);
	ops = malloc(sizeof(*ops) * XSA380_MAPS);
	T_TRUE(ops != NULL);
	for (uint32_t i = 0; i < XSA380_MAPS; i++) {
		uint32_t r = i / XSA380_PER_REF;

		ops[i] = tw_map_op(6, XSA380_REF0 + r, HOST | DEV | (r % 2 ? RO : 0), 16 + i);
	}
	rc = tw_op(w, 5, GNTDP_GNTTABOP_MAP_GRANT_REF, ops, XSA380_MAPS);
	for (uint32_t i = 0; i < XSA380_MAPS && rc == 0; i++) {
		if (ops[i].status != GNTDP_GNTST_OKAY && bad++ == 0)
			tc_fail_status(__FILE__, __LINE__, "ops[first failure].status",
				       ops[i].status, 0);
	}
	free(ops);
	T_EQ(rc, 0);
	T_EQ(bad, 0);
	T_EQ(tw_info(w, 5).live_mappings, XSA380_MAPS);
	T_EQ(tw_info(w, 6).pinned_entries, nrefs);
	T_EQ(tw_flags(w, 6, XSA380_REF0), PA | RD | WR);
	T_EQ(tw_flags(w, 6, XSA380_REF0 + 1), PA | ROF | RD);
	return TC_PASS;
}

static int
test_xsa380_destroy_mapper_with_100k_mappings(void)
{
	struct tw *w;
	uint32_t nrefs = (XSA380_MAPS + XSA380_PER_REF - 1) / XSA380_PER_REF;

	T_OK(xsa380_world(&w));
	T_EQ(gntdp_domain_destroy(w->gt, 5), 0);
	T_EQ(tw_info(w, 6).pinned_entries, 0);
	for (uint32_t r = 0; r < nrefs; r++) {
		T_EQ(tw_flags(w, 6, XSA380_REF0 + r), PA | (r % 2 ? ROF : 0));
		T_EQ(gntdp_guest_end_access(tw_ent(w, 6, XSA380_REF0 + r)), 0);
	}
	return TC_PASS;
}

static int
test_xsa380_destroy_granter_then_mapper(void)
{
	struct tw *w;

	T_OK(xsa380_world(&w));
	T_EQ(gntdp_domain_destroy(w->gt, 6), 0);
	T_EQ(tw_info(w, 5).live_mappings, XSA380_MAPS);
	T_TRUE(tw_frame(w, 5, 16 + XSA380_MAPS - 1) != NULL);
	T_EQ(gntdp_domain_destroy(w->gt, 5), 0);
	return TC_PASS;
}

/* ---- XSA-448 ---------------------------------------------------------------------- */

static int
test_xsa448_len0_garbage_no_side_effects(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_copy ops[6];
	struct gntdp_gnttab_ctx_stats a, b;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(tw_grant(w, DA, 11, DB, 21, true), 0);
	tw_fill(w, DA, 20, 0x48);
	tw_memset(w, DB, 30, 0);
	ops[0] = tw_copy_op(tw_ref(DNONE, 0xffffffff, 0xffff), tw_gfn(DA, UINT64_MAX, 0xffff), 0);
	ops[0].flags = 0xfffc; /* unknown flag bits, frame mode on both sides */
	ops[1] = tw_copy_op(tw_gfn(DA, 20, 0), tw_ref(DA, 11, 0), 0);
	ops[2] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16);
	ops[3] = tw_copy_op(tw_ref(0x7ff0, 12, 9000), tw_ref(0xffff, 13, 9000), 0);
	ops[4] = tw_copy_op(tw_ref(DA, 10, 5000), tw_gfn(SELF, 30, 5000), 0);
	ops[5] = tw_copy_op(tw_gfn(SELF, 300, 0), tw_gfn(SELF, 30, 0), 0);
	gntdp_gnttab_ctx_stats(w->ctx, &a);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 6), 0);
	gntdp_gnttab_ctx_stats(w->ctx, &b);
	for (int i = 0; i < 6; i++)
		T_ST(ops[i].status, GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 16, 0x48, 0));
	T_TRUE(tw_all(w, DB, 30, 16, 4096 - 16, 0));
	T_TRUE(tw_has_pat(w, DA, 20, 0, 4096, 0x48, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DA, 11), PA | ROF);
	if (TW_STATS)
		T_EQ(b.copy_bytes - a.copy_bytes, 16);
	return TC_PASS;
}

/* ---- XSA-500 ---------------------------------------------------------------------- */

static int
test_xsa500_map_ro_frame_change_then_write_copy(void)
{
	struct tw *w = tw_std();
	uint32_t h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	tw_fill(w, DA, 20, 0x50);
	tw_fill(w, DA, 25, 0x55);
	tw_fill(w, DB, 1, 0x01);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	tw_ent(w, DA, 10)->frame = 25; /* the guest re-points its pinned entry */
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 10, 0), 4096),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_has_pat(w, DA, 25, 0, 4096, 0x55, 0));
	T_TRUE(tw_has_pat(w, DA, 20, 0, 4096, 0x50, 0));
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	/* Reading through the existing read pin still sees the pinned frame. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 2, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 2, 0, 4096, 0x50, 0));
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	/* With no pin left the entry is resolved afresh, and the write is legal. */
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 10, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DA, 25, 0, 4096, 0x01, 0));
	T_TRUE(tw_has_pat(w, DA, 20, 0, 4096, 0x50, 0));
	return TC_PASS;
}

static int
test_xsa500_writable_map_uses_pinned_frame(void)
{
	/* Spec §5.3: map upgrades reuse the pinned frame; the new frame is never mapped. */
	struct tw *w = tw_std();
	uint32_t h, h2;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	tw_ent(w, DA, 10)->frame = 25;
	T_ST(tw_map(w, DB, DA, 10, HOST, 1001, &h2, NULL), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1001), tw_frame(w, DA, 20));
	T_NE(tw_frame(w, DB, 1001), tw_frame(w, DA, 25));
	return TC_PASS;
}

/* Checks while a persistent context caches a read pin of A's ref 10. */
static int
xsa500_cached(struct tw *w, struct gntdp_gnttab_ctx *pctx)
{
	struct gntdp_gnttab_copy op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 2, 0), 64);

	T_EQ(gntdp_gnttab_op(pctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	tw_ent(w, DA, 10)->frame = 25;
	op = tw_copy_op(tw_gfn(SELF, 1, 0), tw_ref(DA, 10, 0), 4096);
	T_EQ(gntdp_gnttab_op(pctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_has_pat(w, DA, 25, 0, 4096, 0x55, 0));
	T_TRUE(tw_has_pat(w, DA, 20, 0, 4096, 0x50, 0));
	T_TRUE(tw_has_pat(w, DA, 25, 0, 4096, 0x55, 0));
	gntdp_gnttab_ctx_expire(pctx, UINT64_MAX);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_xsa500_persistent_cache_frame_change_then_write_copy(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_cache_conf cc;
	struct gntdp_gnttab_ctx *pctx = NULL;
	int rc;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	tw_fill(w, DA, 20, 0x50);
	tw_fill(w, DA, 25, 0x55);
	memset(&cc, 0, sizeof(cc));
	cc.persistent = true;
	cc.nb_entries = 64;
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &pctx), 0);
	rc = xsa500_cached(w, pctx);
	gntdp_gnttab_ctx_destroy(pctx);
	T_OK(rc);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_xsa218_halves_free_handle_once),
	TC(test_xsa224_dev_addr_low_bits),
	TC(test_xsa224_self_grant_partial_unmaps_restore_counts),
	TC(test_xsa228_no_duplicate_live_handles),
	TC(test_xsa230_device_pin_keeps_writing_after_copy),
	TC(test_xsa316_map_errors_are_negative),
	TC(test_xsa318_huge_copy_batch_every_status_written),
	TC(test_xsa380_destroy_mapper_with_100k_mappings),
	TC(test_xsa380_destroy_granter_then_mapper),
	TC(test_xsa448_len0_garbage_no_side_effects),
	TC(test_xsa500_map_ro_frame_change_then_write_copy),
	TC(test_xsa500_writable_map_uses_pinned_frame),
	TC(test_xsa500_persistent_cache_frame_change_then_write_copy),
};

TC_MAIN(cases)
