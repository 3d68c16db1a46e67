/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_transfer against spec §9 and the gntdp rules in gntdp/gnttab.h:
 * `mfn` is a gfn of the caller; the receiver's accept_transfer entry names
 * the empty gfn where the page lands. bad_page leaves the page with the
 * sender; every later failure loses it (the sender's gfn is empty and its
 * page count drops). XSA-217: a page still mapped or pinned is never
 * stolen.
 *
 * World: dom 0 (privileged), A=1 receiver, B=2 sender, C=3.
 */
#include <errno.h>
#include <string.h>

#include <gntdp/hcall.h>

#include "tcommon.h"

#define SELF GNTDP_DOMID_SELF
#define AT GNTDP_GTF_ACCEPT_TRANSFER
#define COMMITTED GNTDP_GTF_TRANSFER_COMMITTED
#define COMPLETED GNTDP_GTF_TRANSFER_COMPLETED
#define PA GNTDP_GTF_PERMIT_ACCESS
#define HOST GNTDP_GNTMAP_HOST_MAP
#define DEV GNTDP_GNTMAP_DEVICE_MAP
#define RO GNTDP_GNTMAP_READONLY
#define HA(gfn) ((uint64_t)(gfn) << GNTDP_PAGE_SHIFT)

/* A offers to accept one page from B into its empty gfn @slot through ref @ref. */
static int
offer(struct tw *w, gntdp_grant_ref_t ref, uint32_t slot)
{
	struct gntdp_grant_entry_v1 *e = tw_ent(w, DA, ref);

	if (e == NULL || gntdp_guest_grant_transfer(e, DB, slot) != 0) {
		tc_fail(__FILE__, __LINE__, "gntdp_guest_grant_transfer", "error", "0");
		return TC_FAILED;
	}
	return TC_PASS;
}

/* The sender's page at @gfn is gone and nothing arrived anywhere. */
static int
page_lost(struct tw *w, uint64_t gfn, uint32_t owned_b, uint32_t owned_a)
{
	T_PTR(tw_frame(w, DB, gfn), NULL);
	T_EQ(tw_info(w, DB).owned_pages, owned_b - 1);
	T_EQ(tw_info(w, DA).owned_pages, owned_a);
	/* B cannot use the gfn any more. */
	T_ST(tw_copy(w, DB, tw_gfn(SELF, gfn, 0), tw_gfn(SELF, 1, 0), 8), GNTDP_GNTST_BAD_PAGE);
	return TC_PASS;
}

static int
test_protocol_success(void)
{
	struct tw *w = tw_std();
	struct gntdp_grant_entry_v1 *e;
	uint32_t frame = 0;
	uint8_t *before;

	T_TRUE(w != NULL);
	T_OK(offer(w, 50, 1000));
	e = tw_ent(w, DA, 50);
	T_EQ(e->flags, AT);
	T_EQ(tw_info(w, DA).owned_pages, 256);
	tw_fill(w, DB, 40, 0x61);
	before = tw_frame(w, DB, 40);
	T_TRUE(before != NULL);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_OKAY);
	T_EQ(e->flags, AT | COMMITTED | COMPLETED);
	T_EQ(e->frame, 1000);
	T_EQ(e->domid, DB);
	T_EQ(gntdp_guest_end_transfer(e, &frame), 0);
	T_EQ(frame, 1000);
	T_EQ(e->flags, 0);
	/* The page moved: same content at the receiver's gfn, sender's gfn empty. */
	T_TRUE(tw_has_pat(w, DA, 1000, 0, 4096, 0x61, 0));
	T_PTR(tw_frame(w, DB, 40), NULL);
	T_EQ(tw_info(w, DB).owned_pages, 255);
	T_EQ(tw_info(w, DA).owned_pages, 257);
	/* The receiver owns it like RAM: frame mode works, so does granting it. */
	T_ST(tw_copy(w, DA, tw_gfn(SELF, 1000, 0), tw_gfn(SELF, 2, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DA, 2, 0, 4096, 0x61, 0));
	T_EQ(tw_grant(w, DA, 51, DC, 1000, true), 0);
	T_ST(tw_copy(w, DC, tw_ref(DA, 51, 4), tw_gfn(SELF, 3, 0), 16), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DC, 3, 0, 16, 0x61, 4));
	/* The sender's emptied gfn takes a host mapping, like any empty gfn. */
	T_EQ(tw_grant(w, DA, 52, DB, 7, false), 0);
	T_ST(tw_map(w, DB, DA, 52, HOST, 40, NULL, NULL), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 40), tw_frame(w, DA, 7));
	return TC_PASS;
}

static int
test_page_lands_in_emptied_ram_gfn_and_moves_on(void)
{
	struct tw *w = tw_std();
	uint32_t frame;

	T_TRUE(w != NULL);
	/* B gives gfn 40 to A at A's gfn 1000. */
	T_OK(offer(w, 50, 1000));
	tw_fill(w, DB, 40, 0x62);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_guest_end_transfer(tw_ent(w, DA, 50), &frame), 0);
	/* A gives it back into B's now-empty RAM gfn 40. */
	T_EQ(gntdp_guest_grant_transfer(tw_ent(w, DB, 60), DA, 40), 0);
	T_ST(tw_transfer(w, DA, 1000, DB, 60), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_guest_end_transfer(tw_ent(w, DB, 60), &frame), 0);
	T_EQ(frame, 40);
	T_TRUE(tw_has_pat(w, DB, 40, 0, 4096, 0x62, 0));
	T_PTR(tw_frame(w, DA, 1000), NULL);
	T_EQ(tw_info(w, DB).owned_pages, 256);
	T_EQ(tw_info(w, DA).owned_pages, 256);
	return TC_PASS;
}

/* ---- bad_page: the page stays ------------------------------------------------------ */

static int
test_not_ram_of_caller_bad_page(void)
{
	struct tw *w = tw_std();
	uint32_t h;

	T_TRUE(w != NULL);
	T_OK(offer(w, 50, 1000));
	T_ST(tw_transfer(w, DB, 300, DA, 50), GNTDP_GNTST_BAD_PAGE);         /* empty */
	T_ST(tw_transfer(w, DB, 256 + 65536, DA, 50), GNTDP_GNTST_BAD_PAGE); /* past p2m */
	T_ST(tw_transfer(w, DB, UINT64_MAX, DA, 50), GNTDP_GNTST_BAD_PAGE);
	/* A gfn holding a grant mapping is not B's page. */
	T_EQ(tw_grant(w, DC, 9, DB, 5, false), 0);
	tw_fill(w, DC, 5, 0x63);
	T_ST(tw_map(w, DB, DC, 9, HOST, 2000, &h, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_transfer(w, DB, 2000, DA, 50), GNTDP_GNTST_BAD_PAGE);
	T_PTR(tw_frame(w, DB, 2000), tw_frame(w, DC, 5));
	T_TRUE(tw_has_pat(w, DC, 5, 0, 4096, 0x63, 0));
	T_EQ(tw_info(w, DC).owned_pages, 256);
	/* The receiver's entry was not touched and is still usable. */
	T_EQ(tw_flags(w, DA, 50), AT);
	T_EQ(tw_info(w, DB).owned_pages, 256);
	T_ST(tw_transfer(w, DB, 41, DA, 50), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_mapped_page_is_not_stolen(void)
{
	/* XSA-217: a page another domain maps stays where it is. */
	struct tw *w = tw_std();
	uint32_t hh, hd;
	uint64_t dev;
	uint8_t *page;

	T_TRUE(w != NULL);
	T_OK(offer(w, 50, 1000));
	tw_fill(w, DB, 40, 0x64);
	page = tw_frame(w, DB, 40);
	T_EQ(tw_grant(w, DB, 20, DC, 40, false), 0);
	T_ST(tw_map(w, DC, DB, 20, HOST, 3000, &hh, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_BAD_PAGE);
	T_PTR(tw_frame(w, DB, 40), page);
	T_PTR(tw_frame(w, DC, 3000), page);
	T_TRUE(tw_has_pat(w, DB, 40, 0, 4096, 0x64, 0));
	T_EQ(tw_flags(w, DA, 50), AT);
	T_PTR(tw_frame(w, DA, 1000), NULL);
	T_EQ(tw_info(w, DB).owned_pages, 256);
	/* Device-only pin: same. */
	T_ST(tw_unmap(w, DC, hh, HA(3000), 0), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DC, DB, 20, DEV | RO, 0, &hd, &dev), GNTDP_GNTST_OKAY);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_BAD_PAGE);
	T_PTR(tw_frame(w, DB, 40), page);
	T_ST(tw_unmap(w, DC, hd, 0, dev), GNTDP_GNTST_OKAY);
	/* Pins gone: now it can go. */
	T_EQ(gntdp_guest_end_access(tw_ent(w, DB, 20)), 0);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DA, 1000, 0, 4096, 0x64, 0));
	return TC_PASS;
}

static int
test_self_mapped_page_is_not_stolen(void)
{
	struct tw *w = tw_std();
	uint32_t h;

	T_TRUE(w != NULL);
	T_OK(offer(w, 50, 1000));
	T_EQ(tw_grant(w, DB, 20, DB, 40, false), 0);
	T_ST(tw_map(w, DB, DB, 20, HOST, 3000, &h, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_BAD_PAGE);
	T_PTR(tw_frame(w, DB, 3000), tw_frame(w, DB, 40));
	T_ST(tw_unmap(w, DB, h, HA(3000), 0), GNTDP_GNTST_OKAY);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

/* Checks while a persistent context holds C's cached pin on B's ref 20 (gfn 40). */
static int
pinned_by_cache(struct tw *w, struct gntdp_gnttab_ctx *pctx)
{
	struct gntdp_gnttab_copy op = tw_copy_op(tw_ref(DB, 20, 0), tw_gfn(SELF, 1, 0), 64);

	T_EQ(gntdp_gnttab_op(pctx, DC, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	/* The cached pin keeps GTF_reading set and the page pinned. */
	T_EQ(tw_flags(w, DB, 20), PA | GNTDP_GTF_READONLY | GNTDP_GTF_READING);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_BAD_PAGE);
	T_TRUE(tw_frame(w, DB, 40) != NULL);
	T_EQ(tw_flags(w, DA, 50), AT);
	T_TRUE(gntdp_gnttab_ctx_expire(pctx, UINT64_MAX) >= 1);
	return TC_PASS;
}

static int
test_persistent_copy_pin_blocks_transfer(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_cache_conf cc;
	struct gntdp_gnttab_ctx *pctx = NULL;
	int rc;

	T_TRUE(w != NULL);
	T_OK(offer(w, 50, 1000));
	T_EQ(tw_grant(w, DB, 20, DC, 40, true), 0);
	memset(&cc, 0, sizeof(cc));
	cc.persistent = true;
	cc.nb_entries = 64;
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &pctx), 0);
	rc = pinned_by_cache(w, pctx);
	gntdp_gnttab_ctx_destroy(pctx);
	T_OK(rc);
	T_EQ(tw_flags(w, DB, 20), PA | GNTDP_GTF_READONLY);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DB, 20)), 0);
	T_ST(tw_transfer(w, DB, 40, DA, 50), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_granted_but_unpinned_page_moves(void)
{
	/* A grant that nobody uses does not pin; after the transfer it is stale. */
	struct tw *w = tw_std();
	uint32_t frame;

	T_TRUE(w != NULL);
	T_OK(offer(w, 50, 1000));
	T_EQ(tw_grant(w, DB, 20, DC, 41, false), 0);
	T_ST(tw_transfer(w, DB, 41, DA, 50), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_guest_end_transfer(tw_ent(w, DA, 50), &frame), 0);
	T_ST(tw_map(w, DC, DB, 20, HOST, 3000, NULL, NULL), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DC, tw_ref(DB, 20, 0), tw_gfn(SELF, 1, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DC, tw_gfn(SELF, 1, 0), tw_ref(DB, 20, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_flags(w, DB, 20), PA);
	T_PTR(tw_frame(w, DC, 3000), NULL);
	return TC_PASS;
}

/* ---- every later failure loses the page ------------------------------------------ */

static int
test_bad_domain_loses_page(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_ST(tw_transfer(w, DB, 42, DNONE, 50), GNTDP_GNTST_BAD_DOMAIN);
	T_OK(page_lost(w, 42, 256, 256));
	/* DOMID_SELF is not accepted as the receiver. */
	T_EQ(gntdp_guest_grant_transfer(tw_ent(w, DB, 50), DB, 1000), 0);
	T_ST(tw_transfer(w, DB, 43, SELF, 50), GNTDP_GNTST_BAD_DOMAIN);
	T_OK(page_lost(w, 43, 255, 256));
	T_EQ(tw_flags(w, DB, 50), AT);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	T_ST(tw_transfer(w, DB, 44, GNTDP_DOMID_IO, 50), GNTDP_GNTST_BAD_DOMAIN);
	T_OK(page_lost(w, 44, 254, 256));
	return TC_PASS;
}

static int
test_ref_out_of_range_loses_page(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_ST(tw_transfer(w, DB, 42, DA, 512), GNTDP_GNTST_GENERAL_ERROR);
	T_OK(page_lost(w, 42, 256, 256));
	T_ST(tw_transfer(w, DB, 43, DA, 0xffffffff), GNTDP_GNTST_GENERAL_ERROR);
	T_OK(page_lost(w, 43, 255, 256));
	return TC_PASS;
}

static int
test_entry_not_exactly_accept_transfer_loses_page(void)
{
	static const uint16_t flags[] = {
		0,
		PA,
		AT | COMMITTED,
		AT | COMMITTED | COMPLETED,
		AT | GNTDP_GTF_WRITING,
		AT | GNTDP_GTF_SUB_PAGE,
		GNTDP_GTF_TRANSITIVE,
	};
	struct tw *w = tw_std();
	uint32_t owned = 256;

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		tw_set_entry(w, DA, 50, flags[i], DB, 1000);
		T_ST(tw_transfer(w, DB, 42 + i, DA, 50), GNTDP_GNTST_GENERAL_ERROR);
		T_OK(page_lost(w, 42 + i, owned, 256));
		owned--;
		T_EQ(tw_flags(w, DA, 50), flags[i]);
		T_PTR(tw_frame(w, DA, 1000), NULL);
	}
	return TC_PASS;
}

static int
test_wrong_grantee_loses_page(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_grant_transfer(tw_ent(w, DA, 50), DC, 1000), 0);
	T_ST(tw_transfer(w, DB, 42, DA, 50), GNTDP_GNTST_GENERAL_ERROR);
	T_OK(page_lost(w, 42, 256, 256));
	/* Not committed: the receiver's entry can still be ended cleanly. */
	T_EQ(tw_flags(w, DA, 50), AT);
	T_PTR(tw_frame(w, DA, 1000), NULL);
	/* C, the named grantee, succeeds. */
	T_ST(tw_transfer(w, DC, 42, DA, 50), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_occupied_slot_loses_page(void)
{
	struct tw *w = tw_std();
	uint8_t *ram5;

	T_TRUE(w != NULL);
	tw_fill(w, DA, 5, 0x65);
	ram5 = tw_frame(w, DA, 5);
	T_OK(offer(w, 50, 5)); /* slot is A's RAM */
	T_ST(tw_transfer(w, DB, 42, DA, 50), GNTDP_GNTST_GENERAL_ERROR);
	T_OK(page_lost(w, 42, 256, 256));
	T_PTR(tw_frame(w, DA, 5), ram5);
	T_TRUE(tw_has_pat(w, DA, 5, 0, 4096, 0x65, 0));
	/* A slot beyond the physmap. */
	tw_set_entry(w, DA, 51, AT, DB, 0xffffffffu);
	T_ST(tw_transfer(w, DB, 43, DA, 51), GNTDP_GNTST_GENERAL_ERROR);
	T_OK(page_lost(w, 43, 255, 256));
	return TC_PASS;
}

/* ---- batches ---------------------------------------------------------------------- */

static int
test_batch_statuses_and_status_only_writeback(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_transfer ops[4], before[4];

	T_TRUE(w != NULL);
	T_OK(offer(w, 50, 1000));
	T_OK(offer(w, 51, 1001));
	memset(ops, 0, sizeof(ops));
	ops[0].mfn = 40;
	ops[0].domid = DA;
	ops[0].ref = 50;
	ops[1] = ops[0]; /* same gfn again: it is gone -> bad_page */
	ops[1].ref = 51;
	ops[2].mfn = 41;
	ops[2].domid = DA;
	ops[2].ref = 50; /* already committed -> general_error, page lost */
	ops[3].mfn = 45;
	ops[3].domid = DA;
	ops[3].ref = 51;
	for (int i = 0; i < 4; i++)
		ops[i].status = TW_UNSET;
	memcpy(before, ops, sizeof(ops));
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_TRANSFER, ops, 4), 0);
	T_ST(ops[0].status, GNTDP_GNTST_OKAY);
	T_ST(ops[1].status, GNTDP_GNTST_BAD_PAGE);
	T_ST(ops[2].status, GNTDP_GNTST_GENERAL_ERROR);
	T_ST(ops[3].status, GNTDP_GNTST_OKAY);
	for (int i = 0; i < 4; i++) {
		ops[i].status = TW_UNSET;
		T_TRUE(memcmp(&ops[i], &before[i], sizeof(ops[i])) == 0);
	}
	T_PTR(tw_frame(w, DB, 41), NULL);
	T_TRUE(tw_frame(w, DA, 1000) != NULL);
	T_TRUE(tw_frame(w, DA, 1001) != NULL);
	T_EQ(tw_info(w, DB).owned_pages, 253);
	T_EQ(tw_info(w, DA).owned_pages, 258);
	return TC_PASS;
}

/* ---- transfer off (gntdp_gnttab_conf.no_transfer) ------------------------------------ */

/*
 * Xen HEAD, gnttab_transfer(): `if ( !opt_grant_transfer ) return -EOPNOTSUPP;`
 * before the op loop, after do_grant_table_op's count/opaque checks and
 * guest_handle_okay (always true for a translated caller). So every call
 * is refused whole, count 0 included, and nothing is read, run or written
 * back; the other commands are unaffected.
 */
static int
test_no_transfer_refused_as_xen(void)
{
	struct gntdp_gnttab_conf gc;
	struct gntdp_domain_conf dc;
	struct gntdp_gnttab *gt;
	struct gntdp_gnttab_ctx *ctx;
	struct gntdp_grant_entry_v1 *e;
	struct gntdp_gnttab_transfer op, arr;
	struct gntdp_gnttab_copy cp;
	uint8_t *b40;
	uint32_t n;

	gntdp_gnttab_conf_init(&gc);
	T_TRUE(!gc.no_transfer); /* default: transfer on */
	gc.no_transfer = true;
	T_EQ(gntdp_gnttab_create(&gc, &gt), 0);
	for (gntdp_domid_t d = DA; d <= DB; d++) {
		gntdp_domain_conf_init(&dc);
		dc.domid = d;
		T_EQ(gntdp_domain_create(gt, &dc), 0);
	}
	T_EQ(gntdp_gnttab_ctx_create(gt, NULL, &ctx), 0);
	T_EQ(gntdp_guest_table(gt, DA, &e, &n), 0);
	T_EQ(gntdp_guest_grant_transfer(&e[50], DB, 1000), 0);
	b40 = gntdp_domain_frame(gt, DB, 40);
	T_TRUE(b40 != NULL);
	memset(&op, 0, sizeof(op));
	op.mfn = 40;
	op.domid = DA;
	op.ref = 50;
	op.status = TW_UNSET;
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_TRANSFER, &op, 1), -EOPNOTSUPP);
	T_ST(op.status, TW_UNSET);
	T_PTR(gntdp_domain_frame(gt, DB, 40), b40);
	T_PTR(gntdp_domain_frame(gt, DA, 1000), NULL);
	T_EQ(e[50].flags, AT); /* not committed */
	/* Any count, and before the caller is looked up. */
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_TRANSFER, NULL, 0), -EOPNOTSUPP);
	T_EQ(gntdp_gnttab_op(ctx, DNONE, GNTDP_GNTTABOP_TRANSFER, &op, 1), -EOPNOTSUPP);
	/* The whole-call -EINVAL and -EFAULT checks come first, as in Xen. */
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_TRANSFER, &op, 0x80000000u), -EINVAL);
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_TRANSFER | (1u << 12), &op, 1), -EINVAL);
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_TRANSFER, NULL, 1), -EFAULT);
	/* Through the hypercall: refused before any guest memory is read. */
	memcpy(b40 + 64, &op, sizeof(op));
	T_EQ(gntdp_hcall(ctx, DB, GNTDP_GNTTABOP_TRANSFER, (40ull << 12) | 64, 1), -EOPNOTSUPP);
	memcpy(&arr, b40 + 64, sizeof(arr));
	T_ST(arr.status, TW_UNSET);
	T_EQ(gntdp_hcall(ctx, DB, GNTDP_GNTTABOP_TRANSFER, ~0ull << 12, 3), -EOPNOTSUPP);
	T_EQ(gntdp_hcall(ctx, DB, GNTDP_GNTTABOP_TRANSFER, 0, 0), -EOPNOTSUPP);
	/* Other commands still run. */
	memset(&cp, 0, sizeof(cp));
	cp.source.u.gmfn = 40;
	cp.source.domid = GNTDP_DOMID_SELF;
	cp.dest.u.gmfn = 41;
	cp.dest.domid = GNTDP_DOMID_SELF;
	cp.len = 8;
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, &cp, 1), 0);
	T_ST(cp.status, GNTDP_GNTST_OKAY);
	gntdp_gnttab_ctx_destroy(ctx);
	gntdp_gnttab_destroy(gt);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_protocol_success),
	TC(test_page_lands_in_emptied_ram_gfn_and_moves_on),
	TC(test_not_ram_of_caller_bad_page),
	TC(test_mapped_page_is_not_stolen),
	TC(test_self_mapped_page_is_not_stolen),
	TC(test_persistent_copy_pin_blocks_transfer),
	TC(test_granted_but_unpinned_page_moves),
	TC(test_bad_domain_loses_page),
	TC(test_ref_out_of_range_loses_page),
	TC(test_entry_not_exactly_accept_transfer_loses_page),
	TC(test_wrong_grantee_loses_page),
	TC(test_occupied_slot_loses_page),
	TC(test_batch_statuses_and_status_only_writeback),
	TC(test_no_transfer_refused_as_xen),
};

TC_MAIN(cases)
