/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_copy against spec §8.1 (per-op check order), §8.2/§8.3 (batch and
 * buffer-cache rules), §12 items 10-14 and the §14 cheat sheet. Every status
 * copy can produce gets its own case, and ordering probes pair two faults
 * to prove which check runs first (source before dest, domain step before
 * either buffer, bad_copy_arg only after both sides were acquired).
 *
 * World: dom 0 (privileged), A=1 granter, B=2 caller, C=3.
 *   A ref 10 -> B, gfn 20, writable  (A gfn 20 holds pattern 0x11)
 *   A ref 11 -> B, gfn 21, read-only (A gfn 21 holds pattern 0x22)
 *   A ref 12 -> C, gfn 22, writable
 *   A ref 13 -> B, gfn 23, writable
 */
#include <errno.h>
#include <string.h>

#include "tcommon.h"

#define SELF GNTDP_DOMID_SELF
#define PA GNTDP_GTF_PERMIT_ACCESS
#define RD GNTDP_GTF_READING
#define WR GNTDP_GTF_WRITING
#define HOST GNTDP_GNTMAP_HOST_MAP
#define DEV GNTDP_GNTMAP_DEVICE_MAP
#define RO GNTDP_GNTMAP_READONLY

static struct tw *
copy_world(void)
{
	struct tw *w = tw_std();

	if (w == NULL)
		return NULL;
	if (tw_grant(w, DA, 10, DB, 20, false) != 0 || tw_grant(w, DA, 11, DB, 21, true) != 0 ||
	    tw_grant(w, DA, 12, DC, 22, false) != 0 || tw_grant(w, DA, 13, DB, 23, false) != 0) {
		tc_fail(__FILE__, __LINE__, "copy_world grants", "error", "0");
		return NULL;
	}
	tw_fill(w, DA, 20, 0x11);
	tw_fill(w, DA, 21, 0x22);
	return w;
}

/* ---- data movement -------------------------------------------------------- */

static int
test_gref_to_frame_full_page(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_memset(w, DB, 30, 0xee);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 4096, 0x11, 0));
	/* Default cache is Xen-exact: nothing stays pinned after the call. */
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	return TC_PASS;
}

static int
test_frame_to_gref_full_page(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_fill(w, DB, 31, 0x33);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 31, 0), tw_ref(DA, 10, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DA, 20, 0, 4096, 0x33, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_offsets_and_lengths(void)
{
	static const struct {
		uint16_t soff, doff, len;
	} v[] = {
		{0, 0, 1},     {0, 0, 4096},     {1, 0, 4095},      {0, 1, 4095},
		{4095, 0, 1},  {0, 4095, 1},     {100, 3000, 1096}, {2048, 0, 2048},
		{17, 33, 333}, {4000, 4000, 96}, {255, 256, 257},
	};
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* grant -> frame */
		tw_memset(w, DB, 30, 0xee);
		T_ST(tw_copy(w, DB, tw_ref(DA, 10, v[i].soff), tw_gfn(SELF, 30, v[i].doff),
			     v[i].len),
		     GNTDP_GNTST_OKAY);
		T_TRUE(tw_has_pat(w, DB, 30, v[i].doff, v[i].len, 0x11, v[i].soff));
		T_TRUE(tw_all(w, DB, 30, 0, v[i].doff, 0xee));
		T_TRUE(tw_all(w, DB, 30, v[i].doff + v[i].len, 4096u - v[i].doff - v[i].len, 0xee));
		/* frame -> grant */
		tw_fill(w, DB, 31, (uint8_t)(0x40 + i));
		tw_memset(w, DA, 23, 0xdd);
		T_ST(tw_copy(w, DB, tw_gfn(SELF, 31, v[i].soff), tw_ref(DA, 13, v[i].doff),
			     v[i].len),
		     GNTDP_GNTST_OKAY);
		T_TRUE(tw_has_pat(w, DA, 23, v[i].doff, v[i].len, (uint8_t)(0x40 + i), v[i].soff));
		T_TRUE(tw_all(w, DA, 23, 0, v[i].doff, 0xdd));
		T_TRUE(tw_all(w, DA, 23, v[i].doff + v[i].len, 4096u - v[i].doff - v[i].len, 0xdd));
	}
	return TC_PASS;
}

static int
test_gref_to_gref(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_memset(w, DA, 23, 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 11, 8), tw_ref(DA, 13, 16), 1000), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DA, 23, 16, 1000, 0x22, 8));
	T_EQ(tw_flags(w, DA, 11), PA | GNTDP_GTF_READONLY);
	T_EQ(tw_flags(w, DA, 13), PA);
	return TC_PASS;
}

static int
test_frame_to_frame_self(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_fill(w, DB, 1, 0x55);
	tw_memset(w, DB, 2, 0);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 10), tw_gfn(SELF, 2, 20), 300), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 2, 20, 300, 0x55, 10));
	T_TRUE(tw_all(w, DB, 2, 0, 20, 0));
	return TC_PASS;
}

/* ---- len 0 ------------------------------------------------------------------ */

static int
test_len0_okay_without_validation(void)
{
	struct tw *w = copy_world();
	struct gntdp_gnttab_copy op;

	T_TRUE(w != NULL);
	tw_fill(w, DB, 30, 0x77);
	/* Frame mode on a foreign domain, bad refs, bad domains, offsets > 4096. */
	T_ST(tw_copy(w, DB, tw_gfn(DA, 0xffffffffffULL, 60000), tw_ref(DNONE, 0xffffffff, 5000), 0),
	     GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_ref(DA, 11, 0), tw_ref(DA, 11, 4096), 0), GNTDP_GNTST_OKAY);
	op = tw_copy_op(tw_ref(0xffff, 12, 4095), tw_gfn(SELF, 30, 4095), 0);
	op.flags = 0xffff;
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 4096, 0x77, 0));
	T_EQ(tw_flags(w, DA, 11), PA | GNTDP_GTF_READONLY);
	T_EQ(tw_flags(w, DA, 12), PA);
	return TC_PASS;
}

/* ---- permission_denied: frame mode needs the literal DOMID_SELF ------------ */

static int
test_src_frame_foreign_domid_denied(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_memset(w, DB, 30, 0);
	T_ST(tw_copy(w, DB, tw_gfn(DA, 20, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	T_TRUE(tw_all(w, DB, 30, 0, 4096, 0));
	/* Privilege makes no difference (spec §8.1). */
	T_ST(tw_copy(w, D0, tw_gfn(DA, 20, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	return TC_PASS;
}

static int
test_src_frame_own_numeric_domid_denied(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_ST(tw_copy(w, DB, tw_gfn(DB, 1, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	T_ST(tw_copy(w, D0, tw_gfn(D0, 1, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	return TC_PASS;
}

static int
test_src_frame_nonexistent_domid_denied(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	/* Permission is tested before the lookup: not bad_domain. */
	T_ST(tw_copy(w, DB, tw_gfn(DNONE, 1, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	T_ST(tw_copy(w, DB, tw_gfn(GNTDP_DOMID_IO, 1, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	return TC_PASS;
}

static int
test_dst_frame_not_self_denied(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_fill(w, DA, 25, 0x99);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(DA, 25, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	T_TRUE(tw_has_pat(w, DA, 25, 0, 4096, 0x99, 0));
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(DB, 30, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(DNONE, 30, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	T_ST(tw_copy(w, D0, tw_gfn(SELF, 1, 0), tw_gfn(DA, 25, 0), 64),
	     GNTDP_GNTST_PERMISSION_DENIED);
	T_TRUE(tw_has_pat(w, DA, 25, 0, 4096, 0x99, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

/* ---- bad_domain ------------------------------------------------------------------ */

static int
test_src_bad_domain(void)
{
	static const gntdp_domid_t bad[] = {
		DNONE, GNTDP_DOMID_IO, GNTDP_DOMID_XEN, GNTDP_DOMID_INVALID, GNTDP_DOMID_IDLE,
		0xffff};
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_ST(tw_copy(w, DB, tw_ref(bad[i], 10, 0), tw_gfn(SELF, 30, 0), 64),
		     GNTDP_GNTST_BAD_DOMAIN);
	return TC_PASS;
}

static int
test_dst_bad_domain(void)
{
	static const gntdp_domid_t bad[] = {DNONE, GNTDP_DOMID_IO, GNTDP_DOMID_COW, 0x7fef};
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_ref(bad[i], 10, 0), 64),
		     GNTDP_GNTST_BAD_DOMAIN);
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

/* ---- bad_gntref --------------------------------------------------------------- */

static int
test_src_bad_gntref(void)
{
	struct tw *w = copy_world();
	uint32_t n;

	T_TRUE(w != NULL);
	n = tw_nr_entries(w, DA);
	T_EQ(n, 512);
	T_ST(tw_copy(w, DB, tw_ref(DA, n, 0), tw_gfn(SELF, 30, 0), 64), GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_copy(w, DB, tw_ref(DA, 0xffffffff, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_copy(w, DB, tw_ref(DA, 0x80000000, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_BAD_GNTREF);
	/* The last valid ref is in range: an unused entry is general_error. */
	T_ST(tw_copy(w, DB, tw_ref(DA, n - 1, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

static int
test_dst_bad_gntref(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 512, 0), 64), GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 0xffffffff, 0), 64),
	     GNTDP_GNTST_BAD_GNTREF);
	return TC_PASS;
}

/* ---- general_error ------------------------------------------------------------ */

static int
test_wrong_grantee(void)
{
	struct tw *w = copy_world();
	int16_t st;

	T_TRUE(w != NULL);
	tw_memset(w, DA, 22, 0x5a);
	/* Ref 12 is granted to C, not B: exactly -1, both directions. */
	st = tw_copy(w, DB, tw_ref(DA, 12, 0), tw_gfn(SELF, 30, 0), 64);
	T_ST(st, GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 12, 0), 64), GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_all(w, DA, 22, 0, 4096, 0x5a));
	T_EQ(tw_flags(w, DA, 12), PA);
	/* The granter itself is not the grantee either. */
	T_ST(tw_copy(w, DA, tw_ref(SELF, 12, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_GENERAL_ERROR);
	/* C, the real grantee, may. */
	T_ST(tw_copy(w, DC, tw_ref(DA, 12, 0), tw_gfn(SELF, 30, 0), 64), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_invalid_entry_types(void)
{
	static const uint16_t types[] = {
		GNTDP_GTF_INVALID,
		GNTDP_GTF_ACCEPT_TRANSFER,
		GNTDP_GTF_TRANSITIVE, /* type 3 in a v1 table */
		GNTDP_GTF_INVALID | GNTDP_GTF_READING,
		GNTDP_GTF_ACCEPT_TRANSFER | GNTDP_GTF_TRANSFER_COMMITTED,
	};
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		tw_set_entry(w, DA, 40, types[i], DB, 24);
		T_ST(tw_copy(w, DB, tw_ref(DA, 40, 0), tw_gfn(SELF, 30, 0), 64),
		     GNTDP_GNTST_GENERAL_ERROR);
		T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 40, 0), 64),
		     GNTDP_GNTST_GENERAL_ERROR);
		T_EQ(tw_flags(w, DA, 40), types[i]);
	}
	return TC_PASS;
}

static int
test_readonly_grant_as_dest(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_fill(w, DB, 31, 0x66);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 31, 0), tw_ref(DA, 11, 0), 64), GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_has_pat(w, DA, 21, 0, 4096, 0x22, 0));
	T_EQ(tw_flags(w, DA, 11), PA | GNTDP_GTF_READONLY);
	/* Reading from it is fine. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 11, 0), tw_gfn(SELF, 31, 0), 64), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 31, 0, 64, 0x22, 0));
	return TC_PASS;
}

static int
test_granter_toggles_readonly(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_set_readonly(tw_ent(w, DA, 10)), 0);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_GENERAL_ERROR);
	gntdp_guest_set_writable(tw_ent(w, DA, 10));
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_after_end_access(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 10), 0);
	return TC_PASS;
}

static int
test_pinned_by_other_grantee(void)
{
	struct tw *w = copy_world();
	uint32_t h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 14, DC, 24, false), 0);
	T_ST(tw_map(w, DC, DA, 14, HOST | RO, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	/* The granter re-points the entry at B while C's pin is live. */
	tw_ent(w, DA, 14)->domid = DB;
	T_ST(tw_copy(w, DB, tw_ref(DA, 14, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 14, 0), 8), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DA, 14), PA | RD);
	T_ST(tw_unmap(w, DC, h, 1000ULL << 12, 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 14), PA);
	/* Pin gone: the entry (now naming B) is usable by B. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 14, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_sub_page_bit_ignored_in_v1(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_fill(w, DA, 26, 0x71);
	tw_set_entry(w, DA, 41, PA | GNTDP_GTF_SUB_PAGE, DB, 26);
	tw_memset(w, DB, 30, 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 41, 0), tw_gfn(SELF, 30, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 4096, 0x71, 0));
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 100), tw_ref(DA, 41, 3000), 1096), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 41), PA | GNTDP_GTF_SUB_PAGE);
	return TC_PASS;
}

static int
test_src_pin_counter_saturated(void)
{
	struct tw *w = copy_world();
	uint32_t h[128];

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < 128; i++)
		T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000 + i, &h[i], NULL), GNTDP_GNTST_OKAY);
	/* hstr is at 128: a copy source (hstr) cannot pin; a copy dest (hstw) can. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h[0], 1000ULL << 12, 0), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_dst_pin_counter_saturated(void)
{
	struct tw *w = copy_world();
	uint32_t h[128];

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < 128; i++)
		T_ST(tw_map(w, DB, DA, 10, HOST, 1000 + i, &h[i], NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h[5], 1005ULL << 12, 0), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

/* ---- bad_page ----------------------------------------------------------------- */

static int
test_frame_mode_bad_page(void)
{
	struct tw *w = copy_world();
	struct gntdp_domain_info bi;
	uint64_t p2m_end;

	T_TRUE(w != NULL);
	bi = tw_info(w, DB);
	T_EQ(bi.nr_frames, 256);
	p2m_end = 256 + 65536; /* default p2m_size = nr_frames + 65536 */
	/* Empty gfn just past RAM, the first gfn past the physmap, absurd gfns. */
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 256, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, p2m_end - 1, 0), tw_gfn(SELF, 30, 0), 8),
	     GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, p2m_end, 0), tw_gfn(SELF, 30, 0), 8),
	     GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, UINT64_MAX, 0), tw_gfn(SELF, 30, 0), 8),
	     GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1ULL << 32, 0), tw_gfn(SELF, 30, 0), 8),
	     GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 256, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, UINT64_MAX, 0), 8),
	     GNTDP_GNTST_BAD_PAGE);
	/* The source was acquired then released: no pin remains. */
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_grant_of_missing_frame_bad_page(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 15, DB, 300, false), 0);         /* empty gfn */
	T_EQ(tw_grant(w, DA, 16, DB, 0xffffffffu, false), 0); /* beyond the physmap */
	T_ST(tw_copy(w, DB, tw_ref(DA, 15, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 15, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_ref(DA, 16, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_PAGE);
	/* The flags set while validating were rolled back. */
	T_EQ(tw_flags(w, DA, 15), PA);
	T_EQ(tw_flags(w, DA, 16), PA);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 15)), 0);
	return TC_PASS;
}

static int
test_grant_mapped_gfn_is_bad_page(void)
{
	struct tw *w = copy_world();
	uint32_t h1, h2;

	T_TRUE(w != NULL);
	/* B's gfn 1000 holds A's frame through a grant mapping: not B's RAM. */
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &h1, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1000, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_gfn(SELF, 1000, 0), 8), GNTDP_GNTST_BAD_PAGE);
	/* A grants B a gfn where A itself has C's frame mapped: bad_page too. */
	T_EQ(tw_grant(w, DC, 9, DA, 5, false), 0);
	T_ST(tw_map(w, DA, DC, 9, HOST, 900, &h2, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_grant(w, DA, 17, DB, 900, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 17, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_EQ(tw_flags(w, DA, 17), PA);
	return TC_PASS;
}

/* ---- bad_copy_arg and what precedes it ------------------------------------- */

static int
test_bad_copy_arg_src_crossing(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_memset(w, DB, 30, 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 4095), tw_gfn(SELF, 30, 0), 2),
	     GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 4096), tw_gfn(SELF, 30, 0), 1),
	     GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 4097),
	     GNTDP_GNTST_BAD_COPY_ARG);
	/* offset + len computed without u16 wrap. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0xffff), tw_gfn(SELF, 30, 0), 1),
	     GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0xf000), tw_gfn(SELF, 30, 0), 0x1001),
	     GNTDP_GNTST_BAD_COPY_ARG);
	T_TRUE(tw_all(w, DB, 30, 0, 4096, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	return TC_PASS;
}

static int
test_bad_copy_arg_dst_crossing(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	tw_memset(w, DA, 23, 0x3c);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 13, 4095), 2), GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 13, 1), 4096), GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 1, 0), tw_ref(DA, 13, 0xffff), 0xffff),
	     GNTDP_GNTST_BAD_COPY_ARG);
	T_TRUE(tw_all(w, DA, 23, 0, 4096, 0x3c));
	T_EQ(tw_flags(w, DA, 13), PA);
	return TC_PASS;
}

static int
test_crossing_with_bad_ref_is_bad_gntref(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_ST(tw_copy(w, DB, tw_ref(DA, 512, 4095), tw_gfn(SELF, 30, 0), 2), GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 0xffffffff, 4095), 2),
	     GNTDP_GNTST_BAD_GNTREF);
	return TC_PASS;
}

static int
test_crossing_with_bad_domain_is_bad_domain(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_ST(tw_copy(w, DB, tw_ref(DNONE, 10, 4095), tw_gfn(SELF, 30, 0), 2),
	     GNTDP_GNTST_BAD_DOMAIN);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_ref(DNONE, 10, 4095), 2), GNTDP_GNTST_BAD_DOMAIN);
	return TC_PASS;
}

static int
test_crossing_readonly_dest_is_general_error(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 11, 4095), 2),
	     GNTDP_GNTST_GENERAL_ERROR);
	/* Wrong grantee + crossing: general_error as well. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 12, 4000), tw_gfn(SELF, 30, 0), 200),
	     GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

static int
test_crossing_with_bad_page_is_bad_page(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 300, 4095), tw_gfn(SELF, 30, 0), 2), GNTDP_GNTST_BAD_PAGE);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 300, 4095), 2), GNTDP_GNTST_BAD_PAGE);
	return TC_PASS;
}

/* ---- check order: domain step, then source buffer, then dest buffer ------- */

static int
test_order_source_before_dest(void)
{
	static const struct {
		const char *what;
		int src, dst; /* indexes into sides[] below */
		int16_t want;
	} v[] = {
		{"src foreign frame, dst bad domain", 0, 1, GNTDP_GNTST_PERMISSION_DENIED},
		{"src bad domain, dst foreign frame", 1, 0, GNTDP_GNTST_BAD_DOMAIN},
		{"src bad ref, dst bad domain", 2, 1, GNTDP_GNTST_BAD_DOMAIN},
		{"src bad ref, dst wrong grantee", 2, 3, GNTDP_GNTST_BAD_GNTREF},
		{"src wrong grantee, dst bad ref", 3, 2, GNTDP_GNTST_GENERAL_ERROR},
		{"src bad page, dst bad ref", 4, 2, GNTDP_GNTST_BAD_PAGE},
		{"src bad ref, dst bad page", 2, 4, GNTDP_GNTST_BAD_GNTREF},
		{"src ok, dst foreign frame", 5, 0, GNTDP_GNTST_PERMISSION_DENIED},
		{"src bad page grant, dst read-only", 6, 7, GNTDP_GNTST_BAD_PAGE},
		{"src read-only ok, dst read-only", 7, 7, GNTDP_GNTST_GENERAL_ERROR},
		{"src foreign frame, dst foreign frame", 0, 0, GNTDP_GNTST_PERMISSION_DENIED},
		{"src bad domain, dst bad ref", 1, 2, GNTDP_GNTST_BAD_DOMAIN},
		{"src ok, dst bad page grant", 5, 6, GNTDP_GNTST_BAD_PAGE},
	};
	struct tw *w = copy_world();
	struct tw_side sides[8];

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 15, DB, 300, false), 0); /* grant of an empty gfn */
	sides[0] = tw_gfn(DA, 20, 0);                 /* permission_denied */
	sides[1] = tw_ref(DNONE, 10, 0);              /* bad_domain */
	sides[2] = tw_ref(DA, 512, 0);                /* bad_gntref */
	sides[3] = tw_ref(DA, 12, 0);                 /* general_error (grantee C) */
	sides[4] = tw_gfn(SELF, 300, 0);              /* bad_page */
	sides[5] = tw_ref(DA, 10, 0);                 /* fine */
	sides[6] = tw_ref(DA, 15, 0);                 /* bad_page through a grant */
	sides[7] = tw_ref(DA, 11, 0);                 /* read-only grant */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int16_t st = tw_copy(w, DB, sides[v[i].src], sides[v[i].dst], 16);

		if (st != v[i].want) {
			tc_fail_status(__FILE__, __LINE__, v[i].what, st, v[i].want);
			return TC_FAILED;
		}
	}
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DA, 11), PA | GNTDP_GTF_READONLY);
	T_EQ(tw_flags(w, DA, 15), PA);
	return TC_PASS;
}

/* ---- self grants, same gref on both sides ----------------------------------- */

static int
test_same_gref_source_and_dest(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_ref(DA, 10, 2048), 100), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DA, 20, 2048, 100, 0x11, 0));
	T_TRUE(tw_has_pat(w, DA, 20, 0, 2048, 0x11, 0));
	T_TRUE(tw_has_pat(w, DA, 20, 2148, 4096 - 2148, 0x11, 2148));
	T_EQ(tw_flags(w, DA, 10), PA);
	/* A read-only grant cannot be upgraded to write. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 11, 0), tw_ref(DA, 11, 2048), 100),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_has_pat(w, DA, 21, 0, 4096, 0x22, 0));
	T_EQ(tw_flags(w, DA, 11), PA | GNTDP_GTF_READONLY);
	return TC_PASS;
}

static int
test_self_grant_domid_self(void)
{
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DB, 20, DB, 5, false), 0); /* B grants its own gfn 5 to itself */
	T_EQ(tw_grant(w, DB, 21, DA, 6, false), 0); /* ... and gfn 6 to A */
	tw_fill(w, DB, 5, 0x5b);
	tw_memset(w, DB, 7, 0);
	T_ST(tw_copy(w, DB, tw_ref(SELF, 20, 0), tw_gfn(SELF, 7, 0), 4096), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 7, 0, 4096, 0x5b, 0));
	/* The numeric id works for gref mode too. */
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 7, 0), tw_ref(DB, 20, 8), 16), GNTDP_GNTST_OKAY);
	/* A self-table entry granted to someone else is general_error. */
	T_ST(tw_copy(w, DB, tw_ref(SELF, 21, 0), tw_gfn(SELF, 7, 0), 16),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_flags(w, DB, 20), PA);
	T_EQ(tw_flags(w, DB, 21), PA);
	return TC_PASS;
}

/* ---- batches ------------------------------------------------------------------- */

static int
test_frame_mode_after_gref_op_same_domain_denied(void)
{
	struct tw *w = copy_world();
	struct gntdp_gnttab_copy ops[4];

	T_TRUE(w != NULL);
	tw_memset(w, DB, 30, 0);
	tw_memset(w, DB, 31, 0);
	tw_fill(w, DB, 32, 0x44);
	tw_fill(w, DA, 10, 0x45); /* A's gfn 10 = the number of the ref used below */
	/*
	 * op0 reads ref 10 of A; op1 names the same domains but asks for A's
	 * gfn 10 in frame mode: the cached domain pair must not skip the rule.
	 */
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64);
	ops[1] = tw_copy_op(tw_gfn(DA, 10, 0), tw_gfn(SELF, 31, 0), 64);
	/* Same on the destination side. */
	ops[2] = tw_copy_op(tw_gfn(SELF, 32, 0), tw_ref(DA, 10, 0), 64);
	ops[3] = tw_copy_op(tw_gfn(SELF, 32, 0), tw_gfn(DA, 10, 0), 64);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 4), 0);
	T_ST(ops[0].status, GNTDP_GNTST_OKAY);
	T_ST(ops[1].status, GNTDP_GNTST_PERMISSION_DENIED);
	T_ST(ops[2].status, GNTDP_GNTST_OKAY);
	T_ST(ops[3].status, GNTDP_GNTST_PERMISSION_DENIED);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 64, 0x11, 0));
	T_TRUE(tw_all(w, DB, 31, 0, 4096, 0));
	T_TRUE(tw_has_pat(w, DA, 10, 0, 4096, 0x45, 0));
	T_TRUE(tw_has_pat(w, DA, 20, 0, 64, 0x44, 0));
	return TC_PASS;
}

static int
test_batch_every_status_written(void)
{
	struct tw *w = copy_world();
	struct gntdp_gnttab_copy ops[9];
	static const int16_t want[9] = {
		GNTDP_GNTST_OKAY,
		GNTDP_GNTST_BAD_GNTREF,
		GNTDP_GNTST_OKAY,
		GNTDP_GNTST_BAD_DOMAIN,
		GNTDP_GNTST_GENERAL_ERROR,
		GNTDP_GNTST_BAD_COPY_ARG,
		GNTDP_GNTST_PERMISSION_DENIED,
		GNTDP_GNTST_BAD_PAGE,
		GNTDP_GNTST_OKAY,
	};

	T_TRUE(w != NULL);
	tw_memset(w, DB, 30, 0);
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 10);
	ops[1] = tw_copy_op(tw_ref(DA, 600, 0), tw_gfn(SELF, 30, 10), 10);
	ops[2] = tw_copy_op(tw_ref(DA, 10, 10), tw_gfn(SELF, 30, 10), 10);
	ops[3] = tw_copy_op(tw_ref(DNONE, 10, 0), tw_gfn(SELF, 30, 20), 10);
	ops[4] = tw_copy_op(tw_ref(DA, 12, 0), tw_gfn(SELF, 30, 20), 10);
	ops[5] = tw_copy_op(tw_ref(DA, 10, 4090), tw_gfn(SELF, 30, 20), 10);
	ops[6] = tw_copy_op(tw_gfn(DA, 20, 0), tw_gfn(SELF, 30, 20), 10);
	ops[7] = tw_copy_op(tw_gfn(SELF, 400, 0), tw_gfn(SELF, 30, 20), 10);
	ops[8] = tw_copy_op(tw_ref(DA, 10, 20), tw_gfn(SELF, 30, 20), 10);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 9), 0);
	for (int i = 0; i < 9; i++)
		T_ST(ops[i].status, want[i]);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 30, 0x11, 0));
	T_TRUE(tw_all(w, DB, 30, 30, 4096 - 30, 0));
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DA, 12), PA);
	return TC_PASS;
}

static int
test_status_only_written_back(void)
{
	struct tw *w = copy_world();
	struct gntdp_gnttab_copy ops[2], before[2];

	T_TRUE(w != NULL);
	ops[0] = tw_copy_op(tw_ref(DA, 10, 3), tw_gfn(SELF, 30, 5), 77);
	ops[1] = tw_copy_op(tw_ref(DA, 12, 3), tw_gfn(SELF, 30, 5), 77);
	memcpy(before, ops, sizeof(ops));
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 2), 0);
	T_ST(ops[0].status, GNTDP_GNTST_OKAY);
	T_ST(ops[1].status, GNTDP_GNTST_GENERAL_ERROR);
	for (int i = 0; i < 2; i++) {
		ops[i].status = before[i].status;
		T_TRUE(memcmp(&ops[i], &before[i], sizeof(ops[i])) == 0);
	}
	return TC_PASS;
}

static int
test_flags_clear_after_batch(void)
{
	struct tw *w = copy_world();
	struct gntdp_gnttab_copy ops[6];

	T_TRUE(w != NULL);
	/* Consecutive ops share buffers (Xen keeps them pinned within the call). */
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_ref(DA, 13, 0), 100);
	ops[1] = tw_copy_op(tw_ref(DA, 10, 100), tw_ref(DA, 13, 100), 100);
	ops[2] = tw_copy_op(tw_ref(DA, 11, 0), tw_ref(DA, 13, 200), 100);
	ops[3] = tw_copy_op(tw_ref(DA, 11, 4095), tw_ref(DA, 13, 300), 100); /* bad_copy_arg */
	ops[4] = tw_copy_op(tw_ref(DA, 10, 0), tw_ref(DA, 13, 300), 100);
	ops[5] = tw_copy_op(tw_ref(DA, 10, 0), tw_ref(DA, 10, 3000), 100);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 6), 0);
	T_ST(ops[0].status, GNTDP_GNTST_OKAY);
	T_ST(ops[1].status, GNTDP_GNTST_OKAY);
	T_ST(ops[2].status, GNTDP_GNTST_OKAY);
	T_ST(ops[3].status, GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(ops[4].status, GNTDP_GNTST_OKAY);
	T_ST(ops[5].status, GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_flags(w, DA, 11), PA | GNTDP_GTF_READONLY);
	T_EQ(tw_flags(w, DA, 13), PA);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 13)), 0);
	return TC_PASS;
}

static int
test_copy_into_self_mapped_gfn_is_bad_page(void)
{
	/* A domain mapping its own grant: the mapped gfn is not RAM for frame mode. */
	struct tw *w = copy_world();
	uint32_t h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DB, 22, DB, 8, false), 0);
	T_ST(tw_map(w, DB, DB, 22, HOST, 2000, &h, NULL), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 2000), tw_frame(w, DB, 8));
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 2000, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_PAGE);
	/* Through the grant itself it works. */
	T_ST(tw_copy(w, DB, tw_ref(SELF, 22, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DB, 22), PA | RD | WR);
	T_ST(tw_unmap(w, DB, h, 2000ULL << 12, 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DB, 22), PA);
	return TC_PASS;
}

static size_t fn_calls, fn_bytes, fn_bad;

static void
counting_copy(void *dst, const void *src, size_t n)
{
	fn_calls++;
	fn_bytes += n;
	if (n == 0 || n > 4096)
		fn_bad++;
	memmove(dst, src, n);
}

static int
test_installed_copy_fn(void)
{
	struct tw *w = copy_world();
	struct gntdp_gnttab_ctx_stats st;

	T_TRUE(w != NULL);
	fn_calls = fn_bytes = fn_bad = 0;
	gntdp_gnttab_ctx_set_copy(w->ctx, counting_copy);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 123), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 0), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 4095), tw_gfn(SELF, 30, 0), 2),
	     GNTDP_GNTST_BAD_COPY_ARG);
	T_EQ(fn_calls, 1);
	T_EQ(fn_bytes, 123);
	T_EQ(fn_bad, 0);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 123, 0x11, 0));
	gntdp_gnttab_ctx_set_copy(w->ctx, NULL);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 31, 0), 50), GNTDP_GNTST_OKAY);
	T_EQ(fn_calls, 1);
	T_TRUE(tw_has_pat(w, DB, 31, 0, 50, 0x11, 0));
	gntdp_gnttab_ctx_stats(w->ctx, &st);
	if (TW_STATS)
		T_EQ(st.copy_bytes, 173);
	return TC_PASS;
}

/* The strided entry point runs ops embedded in larger records, with the same results. */
static int
test_strided_records(void)
{
	struct rec {
		uint64_t tag;
		struct gntdp_gnttab_copy op;
		uint64_t tail;
	} recs[3];
	struct tw *w = copy_world();

	T_TRUE(w != NULL);
	for (int i = 0; i < 3; i++) {
		recs[i].tag = 0x1111111111111111ull * (uint64_t)(i + 1);
		recs[i].tail = ~recs[i].tag;
	}
	recs[0].op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 100);
	recs[1].op = tw_copy_op(tw_ref(DA, 10, 4000), tw_gfn(SELF, 31, 0), 100); /* crosses */
	recs[2].op = tw_copy_op(tw_ref(DA, 11, 0), tw_gfn(SELF, 32, 8), 64);
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, &recs[0].op, sizeof(recs[0]), 3),
	     0);
	T_ST(recs[0].op.status, GNTDP_GNTST_OKAY);
	T_ST(recs[1].op.status, GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(recs[2].op.status, GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 100, 0x11, 0));
	T_TRUE(tw_has_pat(w, DB, 32, 8, 64, 0x22, 0));
	for (int i = 0; i < 3; i++) {
		T_EQ(recs[i].tag, 0x1111111111111111ull * (uint64_t)(i + 1));
		T_EQ(recs[i].tail, ~recs[i].tag);
	}
	/* A stride that cuts the struct short or misaligns it refuses the whole call. */
	recs[0].op.status = TW_UNSET;
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, &recs[0].op, 32, 1), -EINVAL);
	T_EQ(gntdp_gnttab_op_strided(w->ctx, DB, GNTDP_GNTTABOP_COPY, &recs[0].op, 44, 1), -EINVAL);
	T_ST(recs[0].op.status, TW_UNSET);
	return TC_PASS;
}


/* ---- persistent grant cache ------------------------------------------------ */

/*
 * Two granters, each with half a cache half of live refs: the working set
 * fits exactly, wherever the two granters' refs land. The cache must keep
 * all of them: a second pass over the same refs is all hits. A
 * direct-mapped cache indexed by ref + a per-granter offset failed this for
 * almost every pair (issue 11: 54% hits at two queues, 27% at depth 256).
 * Every pair of 8 granters is tried, so the offsets take many distances.
 */
static int
test_cache_two_granters_share_sets(void)
{
	enum { NB = 64, HALF = NB / 2, K = HALF / 2, NG = 8 };
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = NB};
	struct gntdp_gnttab_ctx_stats st0, st1;
	struct gntdp_gnttab_copy ops[2 * K];
	struct gntdp_gnttab_ctx *ctx = NULL;
	struct tw *w = tw_create(NULL);

	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DB), 0);
	for (gntdp_domid_t g = 10; g < 10 + NG; g++) {
		T_EQ(tw_add(w, g), 0);
		for (gntdp_grant_ref_t r = 0; r < K; r++)
			T_EQ(tw_grant(w, g, 8 + r, DB, 40 + r, false), 0);
	}
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx), 0);
	for (gntdp_domid_t a = 10; a < 10 + NG; a++) {
		for (gntdp_domid_t b = a + 1; b < 10 + NG; b++) {
			for (unsigned int i = 0; i < 2 * K; i++)
				ops[i] = tw_copy_op(tw_ref(i % 2 ? b : a, 8 + i / 2, 0),
						    tw_gfn(SELF, 30, 0), 64);
			/* Pass 1 fills the cache; pass 2 must hit on every source. */
			T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, ops, 2 * K), 0);
			gntdp_gnttab_ctx_stats(ctx, &st0);
			for (unsigned int i = 0; i < 2 * K; i++) {
				T_ST(ops[i].status, GNTDP_GNTST_OKAY);
				ops[i].status = TW_UNSET;
			}
			T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, ops, 2 * K), 0);
			gntdp_gnttab_ctx_stats(ctx, &st1);
			for (unsigned int i = 0; i < 2 * K; i++)
				T_ST(ops[i].status, GNTDP_GNTST_OKAY);
			T_EQ(st1.cache_misses - st0.cache_misses, 0);
			T_EQ(st1.cache_hits - st0.cache_hits, 2 * 2 * K);
			gntdp_gnttab_ctx_expire(ctx, UINT64_MAX);
		}
	}
	gntdp_gnttab_ctx_destroy(ctx);
	return TC_PASS;
}

/*
 * The pin-release bound on the core's clock (the dp suites can only show
 * that ageing happens: a loaded machine deschedules the worker). A pin
 * taken at tick 1000 survives an expiry of pins older than 1000 and
 * blocks end access; expiring pins older than 1001 releases it, even
 * though it was used again at 1500 (expiry counts from when it was taken),
 * and end access then succeeds.
 */
static int
test_cache_pin_expires_by_take_time(void)
{
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 16};
	struct gntdp_gnttab_ctx *ctx = NULL;
	struct gntdp_gnttab_copy op;
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx), 0);
	gntdp_gnttab_ctx_set_now(ctx, 1000);
	op = tw_copy_op(tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 64);
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	gntdp_gnttab_ctx_set_now(ctx, 1500);
	op.status = TW_UNSET;
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_EQ(gntdp_gnttab_ctx_expire(ctx, 1000), 0);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), -EBUSY); /* the cached write pin holds GTF_writing */
	T_TRUE(gntdp_gnttab_ctx_expire(ctx, 1001) >= 1);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	gntdp_gnttab_ctx_destroy(ctx);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_gref_to_frame_full_page),
	TC(test_frame_to_gref_full_page),
	TC(test_offsets_and_lengths),
	TC(test_gref_to_gref),
	TC(test_frame_to_frame_self),
	TC(test_installed_copy_fn),
	TC(test_len0_okay_without_validation),
	TC(test_src_frame_foreign_domid_denied),
	TC(test_src_frame_own_numeric_domid_denied),
	TC(test_src_frame_nonexistent_domid_denied),
	TC(test_dst_frame_not_self_denied),
	TC(test_src_bad_domain),
	TC(test_dst_bad_domain),
	TC(test_src_bad_gntref),
	TC(test_dst_bad_gntref),
	TC(test_wrong_grantee),
	TC(test_invalid_entry_types),
	TC(test_readonly_grant_as_dest),
	TC(test_granter_toggles_readonly),
	TC(test_after_end_access),
	TC(test_pinned_by_other_grantee),
	TC(test_sub_page_bit_ignored_in_v1),
	TC(test_src_pin_counter_saturated),
	TC(test_dst_pin_counter_saturated),
	TC(test_frame_mode_bad_page),
	TC(test_grant_of_missing_frame_bad_page),
	TC(test_grant_mapped_gfn_is_bad_page),
	TC(test_copy_into_self_mapped_gfn_is_bad_page),
	TC(test_bad_copy_arg_src_crossing),
	TC(test_bad_copy_arg_dst_crossing),
	TC(test_crossing_with_bad_ref_is_bad_gntref),
	TC(test_crossing_with_bad_domain_is_bad_domain),
	TC(test_crossing_readonly_dest_is_general_error),
	TC(test_crossing_with_bad_page_is_bad_page),
	TC(test_order_source_before_dest),
	TC(test_same_gref_source_and_dest),
	TC(test_self_grant_domid_self),
	TC(test_frame_mode_after_gref_op_same_domain_denied),
	TC(test_batch_every_status_written),
	TC(test_status_only_written_back),
	TC(test_flags_clear_after_batch),
	TC(test_strided_records),
	TC(test_cache_two_granters_share_sets),
	TC(test_cache_pin_expires_by_take_time),
};

TC_MAIN(cases)
