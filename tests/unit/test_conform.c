/* SPDX-License-Identifier: MIT */
/*
 * Differences an independent conformance suite (written from Xen's
 * xen/common/grant_table.c at HEAD) found, one case or more per class of
 * issue 9: frame-mode gmfn width, unmap address matching, bad_page before
 * the XSA-500 frame check, rollback of guest-preset flags, whole-call
 * errors, zombie domids and the Xen-exact lifetime of copy pins. Each case
 * states the Xen path it follows.
 *
 * World (tw_std): dom 0 (privileged), A=1 granter, B=2 caller, C=3.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcommon.h"

#define SELF GNTDP_DOMID_SELF
#define PA GNTDP_GTF_PERMIT_ACCESS
#define RD GNTDP_GTF_READING
#define WR GNTDP_GTF_WRITING
#define HOST GNTDP_GNTMAP_HOST_MAP
#define RO GNTDP_GNTMAP_READONLY

/* ---- 1. frame mode compares the whole 64-bit gmfn ------------------------------ */

static int
test_frame_mode_gmfn_high_bits_bad_page(void)
{
	static const uint64_t wide[] = {1ull << 63 | 30, 1ull << 62 | 30, 1ull << 40 | 30,
					1ull << 32 | 30, UINT64_MAX};
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	tw_fill(w, DA, 20, 0x11);
	tw_fill(w, DB, 30, 0x33);
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		/* Source side: not a gfn of the caller, nothing moves. */
		tw_memset(w, DA, 20, 0x11);
		T_ST(tw_copy(w, DB, tw_gfn(SELF, wide[i], 0), tw_ref(DA, 10, 0), 64),
		     GNTDP_GNTST_BAD_PAGE);
		T_TRUE(tw_all(w, DA, 20, 0, 64, 0x11));
		/* Destination side. */
		T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, wide[i], 0), 64),
		     GNTDP_GNTST_BAD_PAGE);
		T_TRUE(tw_has_pat(w, DB, 30, 0, 4096, 0x33, 0));
	}
	/* After the low gfn was used in the same batch, the wide value still misses. */
	{
		struct gntdp_gnttab_copy ops[2];

		ops[0] = tw_copy_op(tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8);
		ops[1] = tw_copy_op(tw_gfn(SELF, 1ull << 63 | 30, 0), tw_ref(DA, 10, 0), 8);
		T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 2), 0);
		T_ST(ops[0].status, GNTDP_GNTST_OKAY);
		T_ST(ops[1].status, GNTDP_GNTST_BAD_PAGE);
	}
	return TC_PASS;
}

/* ---- 2. unmap needs a grant mapping of the frame at host_addr, ro or rw ---------- */

static int
test_unmap_matches_any_grant_mapping_of_the_frame(void)
{
	struct tw *w = tw_std();
	uint32_t hro, hrw;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &hro, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1001, &hrw, NULL), GNTDP_GNTST_OKAY);
	/* The read-only handle, with the address of the writable mapping: okay (Xen:
	 * replace_grant_p2m_mapping only asks for a grant type and the same frame). */
	T_ST(tw_unmap(w, DB, hro, 1001ull << 12, 0), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1001), NULL);
	T_TRUE(tw_frame(w, DB, 1000) != NULL);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	/* And the reverse: the writable handle with the read-only mapping's address. */
	T_ST(tw_unmap(w, DB, hrw, 1000ull << 12, 0), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	/* Another frame at the address still does not qualify. */
	T_EQ(tw_grant(w, DA, 11, DB, 21, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1002, &hrw, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 11, HOST, 1003, &hro, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, hrw, 1003ull << 12, 0), GNTDP_GNTST_GENERAL_ERROR);
	/* Nor does a RAM gfn. */
	T_ST(tw_unmap(w, DB, hrw, 5ull << 12, 0), GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

/* ---- 3. frame lookup (bad_page) comes before the XSA-500 frame check ------------- */

static int
test_upgrade_to_bad_frame_is_bad_page(void)
{
	struct tw *w = tw_std();
	uint32_t h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	/* The granter points the pinned entry at a frame that does not exist. */
	tw_ent(w, DA, 10)->frame = 0x7fffffff;
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_BAD_PAGE);
	/* The writable status set for the attempt is rolled back. */
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	/* A valid but different frame: general_error (XSA-500). */
	tw_ent(w, DA, 10)->frame = 21;
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 10), PA | RD);
	T_ST(tw_unmap(w, DB, h, 1000ull << 12, 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

/* ---- 4. a read-only first pin that fails clears only GTF_reading ----------------- */

static int
test_readonly_rollback_keeps_guest_writing(void)
{
	struct tw *w = tw_std();
	uint32_t h;

	T_TRUE(w != NULL);
	/* The guest set GTF_writing itself; the frame does not exist. */
	tw_set_entry(w, DA, 10, PA | WR, DB, 0x7fffffff);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h, NULL), GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_flags(w, DA, 10), PA | WR);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_flags(w, DA, 10), PA | WR);
	/* A writable request rolls back both bits. */
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &h, NULL), GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_flags(w, DA, 10), PA);
	tw_set_entry(w, DA, 10, PA | WR, DB, 0x7fffffff);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

/* ---- 5. whole-call errors --------------------------------------------------------- */

static int
test_null_op_array_efault(void)
{
	static const unsigned int cmds[] = {
		GNTDP_GNTTABOP_MAP_GRANT_REF, GNTDP_GNTTABOP_UNMAP_GRANT_REF,
		GNTDP_GNTTABOP_TRANSFER,      GNTDP_GNTTABOP_COPY,
		GNTDP_GNTTABOP_SETUP_TABLE,   GNTDP_GNTTABOP_QUERY_SIZE,
	};
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		T_EQ(tw_op(w, DB, cmds[i], NULL, 1), -EFAULT);
	/* count 0 reads nothing: fine with NULL. */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, NULL, 0), 0);
	return TC_PASS;
}

/*
 * When several whole-call conditions hold, the first in do_grant_table_op()'s
 * order wins (Xen HEAD): a count above INT_MAX (-EINVAL), cmd bits >= 12 on
 * anything but cache_flush (-EINVAL), an unknown command (-ENOSYS), the
 * command's own count rule (-EINVAL), then the copy from guest memory
 * (-EFAULT). gntdp's dead-caller -ESRCH has no Xen counterpart: it comes last.
 */
static int
test_whole_call_error_order(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_get_status_frames sf = {.nr_frames = 0, .dom = SELF};
	struct gntdp_gnttab_set_version sv = {.version = 1};
	const unsigned int hi = 1u << 12;

	T_TRUE(w != NULL);
	/* count before the cmd bits, the command and NULL ops */
	T_EQ(tw_op(w, DNONE, 13 | hi, NULL, 0x80000000u), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, NULL, 0x80000000u), -EINVAL);
	/* cmd bits before an unknown command; cache_flush is exempt */
	T_EQ(tw_op(w, DB, 13 | hi, NULL, 0), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_UNMAP_AND_REPLACE | hi, NULL, 1), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_CACHE_FLUSH | hi, NULL, 1), -EFAULT);
	/* an unknown command before NULL ops and a dead caller */
	T_EQ(tw_op(w, DNONE, 13, NULL, 1), -ENOSYS);
	/* the count rule before the copy from guest memory */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_GET_STATUS_FRAMES, NULL, 2), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_SETUP_TABLE, NULL, 0), -EINVAL);
	T_EQ(tw_op(w, DNONE, GNTDP_GNTTABOP_QUERY_SIZE, NULL, 2), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_GET_STATUS_FRAMES, NULL, 1), -EFAULT);
	/* set_version / get_version read one struct whatever the count */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_SET_VERSION, NULL, 0), -EFAULT);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_GET_VERSION, NULL, 0), -EFAULT);
	/* NULL ops before the dead caller; a dead caller with valid ops: -ESRCH */
	T_EQ(tw_op(w, DNONE, GNTDP_GNTTABOP_UNMAP_AND_REPLACE, NULL, 3), -EFAULT);
	T_EQ(tw_op(w, DNONE, GNTDP_GNTTABOP_SET_VERSION, NULL, 0), -EFAULT);
	T_EQ(tw_op(w, DNONE, GNTDP_GNTTABOP_SET_VERSION, &sv, 1), -ESRCH);
	T_EQ(tw_op(w, DNONE, GNTDP_GNTTABOP_GET_STATUS_FRAMES, &sf, 1), -ESRCH);
	/* nothing holds: count 0 with NULL ops is a successful no-op */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_UNMAP_AND_REPLACE, NULL, 0), 0);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_SWAP_GRANT_REF, NULL, 0), 0);
	return TC_PASS;
}

static int
test_setup_null_frame_list_bad_virt_addr(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_setup_table op;

	T_TRUE(w != NULL);
	memset(&op, 0, sizeof(op));
	op.dom = SELF;
	op.nr_frames = 3;
	op.frame_list = NULL;
	op.status = TW_UNSET;
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SETUP_TABLE, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_BAD_VIRT_ADDR);
	/* Xen grows the table before it writes the list. */
	T_EQ(tw_nr_entries(w, DA), 3 * 512);
	/* Checks before the write still come first. */
	op.dom = DNONE;
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SETUP_TABLE, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_BAD_DOMAIN);
	op.dom = SELF;
	op.nr_frames = GNTDP_DEFAULT_MAX_GRANT_FRAMES + 1;
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SETUP_TABLE, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_GENERAL_ERROR);
	/* No frames, no write: okay. */
	op.nr_frames = 0;
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SETUP_TABLE, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_cache_flush_exempt_from_arg_bits_check(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_cache_flush cf;

	T_TRUE(w != NULL);
	memset(&cf, 0, sizeof(cf));
	/* Bits >= 12 are cache_flush's continuation argument, never -EINVAL. */
	T_NE(tw_op(w, DB, GNTDP_GNTTABOP_CACHE_FLUSH | (1u << 12), &cf, 1), -EINVAL);
	T_NE(tw_op(w, DB, GNTDP_GNTTABOP_CACHE_FLUSH | 0xfffff000u, &cf, 1), -EINVAL);
	/* Every other command keeps the check. */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_SWAP_GRANT_REF | (1u << 12), &cf, 1), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_GET_VERSION | (1u << 31), &cf, 1), -EINVAL);
	return TC_PASS;
}

/* ---- 6. a zombie keeps its domid ------------------------------------------------- */

static int
test_zombie_domid_not_recreated(void)
{
	struct tw *w = tw_std();
	uint32_t h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	/* A is gone for lookups but alive through B's mapping: its id stays taken. */
	T_EQ(gntdp_domain_destroy(w->gt, DA), -ESRCH);
	T_EQ(tw_add(w, DA), -EEXIST);
	T_ST(tw_unmap(w, DB, h, 1000ull << 12, 0), GNTDP_GNTST_OKAY);
	/* The last mapping went: A is gone and its id is free. */
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_nr_entries(w, DA), 512);
	return TC_PASS;
}

static int
test_zombie_held_by_persistent_cache(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 8};
	struct gntdp_gnttab_ctx *ctx;
	struct gntdp_gnttab_copy op;

	T_TRUE(w != NULL);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx), 0);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8);
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_EQ(gntdp_domain_destroy(w->gt, DA), 0);
	T_EQ(tw_add(w, DA), -EEXIST);
	T_EQ(gntdp_gnttab_ctx_expire(ctx, UINT64_MAX), 2); /* the pin and the frame hold */
	T_EQ(tw_add(w, DA), 0);
	gntdp_gnttab_ctx_destroy(ctx);
	return TC_PASS;
}

/* ---- 7. Xen-exact copy pins: held and dropped where Xen's buffers are ------------ */

/*
 * The copy function runs inside an op, after both sides were acquired: it
 * plays the granter's guest between two ops of one call.
 */
static struct {
	struct tw *w;
	unsigned int calls;
	unsigned int at;   /* act during this call (1-based) */
	int mode; /* 0: end access on ref 10; 1: also re-grant it to gfn 25; 2: to C; 3: set frame 25 */
	int end_rc;
} guest;

static void
guest_copy(void *dst, const void *src, size_t n)
{
	memmove(dst, src, n);
	if (++guest.calls != guest.at)
		return;
	if (guest.mode == 3) { /* a hostile guest re-points the entry while it is pinned */
		tw_ent(guest.w, DA, 10)->frame = 25;
		return;
	}
	guest.end_rc = gntdp_guest_end_access(tw_ent(guest.w, DA, 10));
	if (guest.end_rc != 0 || guest.mode == 0)
		return;
	tw_grant(guest.w, DA, 10, guest.mode == 1 ? DB : DC, 25, false);
}

static void
guest_setup(struct tw *w, unsigned int at, int mode)
{
	memset(&guest, 0, sizeof(guest));
	guest.w = w;
	guest.at = at;
	guest.mode = mode;
	guest.end_rc = 1;
	gntdp_gnttab_ctx_set_copy(w->ctx, guest_copy);
}

static struct tw *
pin_world(void)
{
	struct tw *w = tw_std();

	if (w == NULL)
		return NULL;
	if (tw_grant(w, DA, 10, DB, 20, false) != 0 || tw_grant(w, DA, 13, DB, 23, false) != 0)
		return NULL;
	tw_fill(w, DA, 20, 0x11);
	tw_fill(w, DA, 23, 0x44);
	tw_fill(w, DA, 25, 0x55);
	return w;
}

static int
test_copy_pin_dropped_when_next_op_names_another_ref(void)
{
	struct tw *w = pin_world();
	struct gntdp_gnttab_copy ops[3];

	T_TRUE(w != NULL);
	/* op0 pins ref 10; op1 names ref 13 as source, so Xen drops ref 10 first. */
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64);
	ops[1] = tw_copy_op(tw_ref(DA, 13, 0), tw_gfn(SELF, 31, 0), 64);
	ops[2] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 32, 0), 64);
	guest_setup(w, 2, 1); /* during op1: end access on 10, grant it again on gfn 25 */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 3), 0);
	T_EQ(guest.end_rc, 0);
	T_ST(ops[0].status, GNTDP_GNTST_OKAY);
	T_ST(ops[1].status, GNTDP_GNTST_OKAY);
	T_ST(ops[2].status, GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 64, 0x11, 0));
	/* op2 re-validated ref 10 and read the new frame. */
	T_TRUE(tw_has_pat(w, DB, 32, 0, 64, 0x55, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_copy_pin_revalidated_after_grantee_change(void)
{
	struct tw *w = pin_world();
	struct gntdp_gnttab_copy ops[3];

	T_TRUE(w != NULL);
	tw_memset(w, DB, 32, 0xee);
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64);
	ops[1] = tw_copy_op(tw_ref(DA, 13, 0), tw_gfn(SELF, 31, 0), 64);
	ops[2] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 32, 0), 64);
	guest_setup(w, 2, 2); /* during op1: ref 10 now granted to C */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 3), 0);
	T_EQ(guest.end_rc, 0);
	T_ST(ops[2].status, GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_all(w, DB, 32, 0, 4096, 0xee));
	return TC_PASS;
}

static int
test_copy_pin_kept_while_consecutive_ops_share_it(void)
{
	struct tw *w = pin_world();
	struct gntdp_gnttab_copy ops[3];

	T_TRUE(w != NULL);
	/* Consecutive ops on ref 10 reuse the buffer: the pin is held across them. */
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64);
	ops[1] = tw_copy_op(tw_ref(DA, 10, 64), tw_gfn(SELF, 31, 0), 64);
	ops[2] = tw_copy_op(tw_ref(DA, 10, 128), tw_gfn(SELF, 32, 0), 64);
	guest_setup(w, 2, 0);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 3), 0);
	T_EQ(guest.end_rc, -EBUSY);
	T_ST(ops[2].status, GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_copy_pins_dropped_after_failing_op(void)
{
	struct tw *w = pin_world();
	struct gntdp_gnttab_copy ops[3];

	T_TRUE(w != NULL);
	/* op1 fails (bad dest ref): Xen releases both buffers, so ref 10 is free
	 * during op2 even though op2 names ref 13 only as its destination. */
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64);
	ops[1] = tw_copy_op(tw_ref(DA, 10, 0), tw_ref(DA, 99999, 0), 64);
	ops[2] = tw_copy_op(tw_gfn(SELF, 40, 0), tw_ref(DA, 13, 0), 64);
	guest_setup(w, 2, 0); /* the 2nd copy function call is op2's */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 3), 0);
	T_ST(ops[1].status, GNTDP_GNTST_BAD_GNTREF);
	T_ST(ops[2].status, GNTDP_GNTST_OKAY);
	T_EQ(guest.end_rc, 0);
	return TC_PASS;
}

static int
test_copy_pins_dropped_on_new_domid_pair(void)
{
	struct tw *w = pin_world();
	struct gntdp_gnttab_copy ops[2];

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DC, 5, DB, 50, false), 0);
	/* op1 has the same source as op0 but another dest domid: Xen re-locks both
	 * domains and drops both buffers, then pins ref 10 again. */
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64);
	ops[1] = tw_copy_op(tw_ref(DA, 10, 0), tw_ref(DC, 5, 0), 64);
	guest_setup(w, 1, 3); /* during op0: the entry now names gfn 25 */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 2), 0);
	T_ST(ops[1].status, GNTDP_GNTST_OKAY);
	/* The first pin of op1 read the frame again. */
	T_TRUE(tw_has_pat(w, DC, 50, 0, 64, 0x55, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DC, 5), PA);
	return TC_PASS;
}

/* ---- core API edges: strides that overflow ---------------------------------------- */

static int
test_strided_overflow_einval_before_any_op(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_copy op[2];
	const size_t big = (size_t)1 << (sizeof(size_t) * 8 - 2); /* 8-aligned; 8 of them wrap */

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	op[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8);
	op[1] = op[0];
	/* A stride above PTRDIFF_MAX. */
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, op,
				     (size_t)PTRDIFF_MAX + 1, 2),
	     -EINVAL);
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, op, SIZE_MAX & ~(size_t)7,
				     2),
	     -EINVAL);
	/* count x stride beyond the end of the address space. */
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, op, big, 8), -EINVAL);
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, op, (size_t)1 << 40,
				     1u << 24),
	     -EINVAL);
	/* Checked before the loop: not even the first op ran. */
	T_ST(op[0].status, TW_UNSET);
	T_ST(op[1].status, TW_UNSET);
	/* One op never strides: any valid stride runs it. */
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, op, big, 1), 0);
	T_ST(op[0].status, GNTDP_GNTST_OKAY);
	/* A stride that fits still works. */
	op[0].status = op[1].status = TW_UNSET;
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, op, sizeof(op[0]), 2), 0);
	T_ST(op[1].status, GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_frame_mode_gmfn_high_bits_bad_page),
	TC(test_unmap_matches_any_grant_mapping_of_the_frame),
	TC(test_upgrade_to_bad_frame_is_bad_page),
	TC(test_readonly_rollback_keeps_guest_writing),
	TC(test_null_op_array_efault),
	TC(test_whole_call_error_order),
	TC(test_setup_null_frame_list_bad_virt_addr),
	TC(test_cache_flush_exempt_from_arg_bits_check),
	TC(test_zombie_domid_not_recreated),
	TC(test_zombie_held_by_persistent_cache),
	TC(test_copy_pin_dropped_when_next_op_names_another_ref),
	TC(test_copy_pin_revalidated_after_grantee_change),
	TC(test_copy_pin_kept_while_consecutive_ops_share_it),
	TC(test_copy_pins_dropped_after_failing_op),
	TC(test_copy_pins_dropped_on_new_domid_pair),
	TC(test_strided_overflow_einval_before_any_op),
};

TC_MAIN(cases)
