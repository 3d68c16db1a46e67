/* SPDX-License-Identifier: MIT */
/*
 * gntdp_hcall (gntdp/hcall.h): the op array and every guest handle are
 * guest addresses in the caller's own RAM, copied in once and written back
 * as Xen's do_grant_table_op does. Cases: copy-in/copy-out, arrays that
 * cross frames, arrays and frame lists outside the caller's RAM (-EFAULT,
 * bad_virt_addr, nothing else written), a client rewriting its memory
 * between copy-in and execution (through the test hook), ops that rewrite
 * or read their own array (Xen's op-by-op order), the command table, the
 * whole-call errors, and the ring layout's client side.
 *
 * The file includes gnttab/hcall.c to reach its test hook (STYLE.md 3.9).
 *
 * World: dom 0 (privileged), A=1 granter, B=2 caller, C=3.
 *   A ref 10 -> B, gfn 20, writable (pattern 0x11)
 */
#define HCALL_TEST_HOOK 1
#include "../../gnttab/hcall.c"

#include <stdlib.h>

#include "tcommon.h"

#define SELF GNTDP_DOMID_SELF
#define GA(gfn, off) (((uint64_t)(gfn) << GNTDP_PAGE_SHIFT) | (uint64_t)(off))
#define RAM 256u /* default nr_frames: gfns 0..255 are RAM */

/* Copy @n bytes to or from guest address @ga of @dom (may cross frames; all must exist). */
static bool
gcopy(struct tw *w, gntdp_domid_t dom, uint64_t ga, void *buf, size_t n, bool to_guest)
{
	uint8_t *p = buf;

	while (n > 0) {
		uint8_t *f = tw_frame(w, dom, ga >> GNTDP_PAGE_SHIFT);
		size_t in = ga & (GNTDP_PAGE_SIZE - 1);
		size_t k = GNTDP_PAGE_SIZE - in < n ? GNTDP_PAGE_SIZE - in : n;

		if (f == NULL)
			return false;
		memmove(to_guest ? f + in : p, to_guest ? p : f + in, k);
		p += k;
		ga += k;
		n -= k;
	}
	return true;
}

static bool
gwrite(struct tw *w, gntdp_domid_t dom, uint64_t ga, const void *src, size_t n)
{
	return gcopy(w, dom, ga, (void *)(uintptr_t)src, n, true);
}

static bool
gread(struct tw *w, gntdp_domid_t dom, uint64_t ga, void *dst, size_t n)
{
	return gcopy(w, dom, ga, dst, n, false);
}

/* Status of copy op @i of an array at @ga in B's memory. */
static int16_t
copy_status(struct tw *w, uint64_t ga, unsigned int i)
{
	struct gntdp_gnttab_copy op;

	if (!gread(w, DB, ga + i * sizeof(op), &op, sizeof(op)))
		return TW_CALL_FAILED;
	return op.status;
}

/* A copy of 64 bytes from A's ref 10 at @soff to B's own gfn @gfn at @doff. */
static struct gntdp_gnttab_copy
from_ref(uint16_t soff, uint64_t gfn, uint16_t doff, uint16_t len)
{
	return tw_copy_op(tw_ref(DA, 10, soff), tw_gfn(SELF, gfn, doff), len);
}

static struct tw *
hw(void)
{
	struct tw *w = tw_std();

	if (w == NULL)
		return NULL;
	if (tw_grant(w, DA, 10, DB, 20, false) != 0) {
		tc_fail(__FILE__, __LINE__, "tw_grant", "error", "0");
		return NULL;
	}
	tw_fill(w, DA, 20, 0x11);
	return w;
}

/* Checksum of every RAM frame of @dom (to prove nothing else changed). */
static uint64_t
ram_sum(struct tw *w, gntdp_domid_t dom)
{
	uint64_t h = 1469598103934665603ull;

	for (uint64_t g = 0; g < RAM; g++) {
		const uint8_t *f = tw_frame(w, dom, g);

		for (unsigned int i = 0; f != NULL && i < GNTDP_PAGE_SIZE; i++)
			h = (h ^ f[i]) * 1099511628211ull;
	}
	return h;
}

/* ---- copy in, copy out ------------------------------------------------------ */

static int
test_copy_batch_in_out(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy ops[32], back[32];
	const uint64_t ga = GA(5, 0);

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < 32; i++)
		ops[i] = from_ref((uint16_t)(i * 64), 30, (uint16_t)(i * 64), 64);
	T_TRUE(gwrite(w, DB, ga, ops, sizeof(ops)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 32), 0);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 2048, 0x11, 0));
	T_TRUE(gread(w, DB, ga, back, sizeof(back)));
	for (unsigned int i = 0; i < 32; i++) {
		ops[i].status = GNTDP_GNTST_OKAY;
		T_TRUE(memcmp(&ops[i], &back[i], sizeof(ops[i])) == 0); /* only status changed */
	}
	/* A bad op still gets its status; the batch goes on. */
	ops[3] = from_ref(0, 30, 4090, 64);
	ops[3].status = TW_UNSET;
	T_TRUE(gwrite(w, DB, ga, ops, sizeof(ops)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 32), 0);
	T_ST(copy_status(w, ga, 3), GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(copy_status(w, ga, 31), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_array_crosses_frames(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy ops[100];
	const uint64_t ga = GA(5, 4096 - 100); /* op 2 straddles gfn 5 and gfn 6 */

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < 100; i++)
		ops[i] = from_ref((uint16_t)(i * 8), 40 + i / 64, (uint16_t)((i % 64) * 64), 8);
	T_TRUE(gwrite(w, DB, ga, ops, sizeof(ops)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 100), 0);
	for (unsigned int i = 0; i < 100; i++) {
		T_ST(copy_status(w, ga, i), GNTDP_GNTST_OKAY);
		T_TRUE(tw_has_pat(w, DB, 40 + i / 64, (i % 64) * 64, 8, 0x11, i * 8));
	}
	return TC_PASS;
}

static int
test_map_and_query_write_whole_struct(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_map_grant_ref m = tw_map_op(DA, 10, GNTDP_GNTMAP_HOST_MAP, 1000), mb;
	struct gntdp_gnttab_query_size q = {.dom = SELF, .status = TW_UNSET}, qb;

	T_TRUE(w != NULL);
	T_TRUE(gwrite(w, DB, GA(6, 8), &m, sizeof(m)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, GA(6, 8), 1), 0);
	T_TRUE(gread(w, DB, GA(6, 8), &mb, sizeof(mb)));
	T_ST(mb.status, GNTDP_GNTST_OKAY);
	T_NE(mb.handle, TW_HANDLE_SENTINEL);
	T_U64(mb.dev_bus_addr, tw_va(w, DA, 20));
	T_TRUE(gwrite(w, DB, GA(7, 4094), &q, sizeof(q))); /* crosses into gfn 8 */
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_QUERY_SIZE, GA(7, 4094), 1), 0);
	T_TRUE(gread(w, DB, GA(7, 4094), &qb, sizeof(qb)));
	T_ST(qb.status, GNTDP_GNTST_OKAY);
	T_EQ(qb.nr_frames, 1);
	T_EQ(qb.max_nr_frames, GNTDP_DEFAULT_MAX_GRANT_FRAMES);
	return TC_PASS;
}

/* ---- faults ----------------------------------------------------------------- */

static int
test_array_outside_ram_is_efault(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy op = from_ref(0, 30, 0, 64);
	const uint64_t sum = ram_sum(w, DB);

	T_TRUE(w != NULL);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, GA(RAM, 0), 1), -EFAULT);  /* empty gfn */
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, GA(1ull << 40, 0), 1), -EFAULT);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, UINT64_MAX - 8, 1), -EFAULT); /* wraps */
	/* A host pointer is no guest address. */
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, (uint64_t)(uintptr_t)&op, 1), -EFAULT);
	T_EQ(ram_sum(w, DB), sum);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	return TC_PASS;
}

static int
test_array_running_off_ram_runs_the_prefix(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy ops[3];
	const uint64_t ga = GA(RAM - 1, 4096 - 60); /* op 0 fits, op 1 straddles into no RAM */

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < 3; i++)
		ops[i] = from_ref(0, 30 + i, 0, 64);
	T_TRUE(gwrite(w, DB, ga, ops, sizeof(ops[0])));
	tw_memset(w, DB, 30, 0);
	tw_memset(w, DB, 31, 0);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 3), -EFAULT);
	T_ST(copy_status(w, ga, 0), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 64, 0x11, 0)); /* op 0 ran */
	T_TRUE(tw_all(w, DB, 31, 0, 64, 0));          /* op 1 did not */
	return TC_PASS;
}

static int
test_array_in_mapped_or_given_frame_is_efault(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy op = from_ref(0, 30, 0, 64);
	struct gntdp_grant_entry_v1 *e = tw_ent(w, DA, 50);

	T_TRUE(w != NULL);
	/* A grant host-mapped into B's physmap is A's frame, not B's RAM. */
	T_ST(tw_map(w, DB, DA, 10, GNTDP_GNTMAP_HOST_MAP, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	T_TRUE(gwrite(w, DB, GA(1000, 0), &op, sizeof(op)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, GA(1000, 0), 1), -EFAULT);
	T_ST(copy_status(w, GA(1000, 0), 0), TW_UNSET);
	/* A frame B gave away is no longer its memory. */
	T_TRUE(e != NULL && gntdp_guest_grant_transfer(e, DB, 2000) == 0);
	T_TRUE(gwrite(w, DB, GA(9, 0), &op, sizeof(op)));
	T_ST(tw_transfer(w, DB, 9, DA, 50), GNTDP_GNTST_OKAY);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, GA(9, 0), 1), -EFAULT);
	/* A received the page: it is A's RAM now, and A's hypercalls can use it. */
	T_EQ(gntdp_hcall(w->ctx, DA, GNTDP_GNTTABOP_QUERY_SIZE, GA(2000, 0), 1), 0);
	return TC_PASS;
}

static int
test_no_page_reference_left_behind(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy ops[40];
	struct gntdp_grant_entry_v1 *e = tw_ent(w, DA, 51);

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < 40; i++)
		ops[i] = from_ref(0, 30, 0, 8);
	T_TRUE(gwrite(w, DB, GA(11, 4000), ops, sizeof(ops)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, GA(11, 4000), 40), 0);
	/* Transfer needs refs == 1: it succeeds only if the call dropped every reference. */
	T_TRUE(e != NULL && gntdp_guest_grant_transfer(e, DB, 2001) == 0);
	T_ST(tw_transfer(w, DB, 12, DA, 51), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

/* ---- frame lists ------------------------------------------------------------ */

static struct gntdp_gnttab_setup_table
setup_op(uint32_t nr, uint64_t list_ga)
{
	struct gntdp_gnttab_setup_table st;

	memset(&st, 0, sizeof(st));
	st.dom = SELF;
	st.nr_frames = nr;
	st.status = TW_UNSET;
	memcpy(&st.frame_list, &list_ga, sizeof(list_ga));
	return st;
}

static int16_t
setup_status(struct tw *w, uint64_t ga)
{
	struct gntdp_gnttab_setup_table st;

	if (!gread(w, DB, ga, &st, sizeof(st)))
		return TW_CALL_FAILED;
	return st.status;
}

static int
test_setup_table_list_in_guest_memory(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_setup_table st = setup_op(3, GA(14, 4096 - 8)); /* list crosses frames */
	gntdp_xen_pfn_t want[3], got[3];

	T_TRUE(w != NULL);
	T_TRUE(gwrite(w, DB, GA(13, 0), &st, sizeof(st)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, GA(13, 0), 1), 0);
	T_ST(setup_status(w, GA(13, 0)), GNTDP_GNTST_OKAY);
	T_TRUE(gread(w, DB, GA(14, 4096 - 8), got, sizeof(got)));
	T_ST(tw_setup(w, DB, SELF, 3, want), GNTDP_GNTST_OKAY);
	T_TRUE(memcmp(want, got, sizeof(want)) == 0);
	return TC_PASS;
}

/*
 * The exploit: frame_list pointing at memory of the host process.
 * bad_virt_addr, the host variable intact, no byte of any domain's RAM
 * changed but the status; the table grows as Xen's does (it grows before it
 * writes the list).
 */
static int
test_setup_table_list_outside_is_bad_virt_addr(void)
{
	static volatile uint64_t host_var[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct tw *w = hw();
	const uint64_t lists[] = {(uint64_t)(uintptr_t)host_var, GA(RAM, 0), GA(1000, 0),
				  UINT64_MAX - 7};
	uint64_t sa, sc;

	T_TRUE(w != NULL);
	T_ST(tw_map(w, DB, DA, 10, GNTDP_GNTMAP_HOST_MAP, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	for (unsigned int i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct gntdp_gnttab_setup_table st = setup_op(4, lists[i]), back;
		uint64_t sb;

		T_TRUE(gwrite(w, DB, GA(13, 0), &st, sizeof(st)));
		sa = ram_sum(w, DA);
		sc = ram_sum(w, DC);
		st.status = GNTDP_GNTST_BAD_VIRT_ADDR;
		T_TRUE(gwrite(w, DB, GA(13, 0), &st, sizeof(st)));
		sb = ram_sum(w, DB); /* B's RAM as it must be afterwards */
		st.status = TW_UNSET;
		T_TRUE(gwrite(w, DB, GA(13, 0), &st, sizeof(st)));
		T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, GA(13, 0), 1), 0);
		T_ST(setup_status(w, GA(13, 0)), GNTDP_GNTST_BAD_VIRT_ADDR);
		T_EQ(ram_sum(w, DB), sb);
		T_EQ(ram_sum(w, DA), sa);
		T_EQ(ram_sum(w, DC), sc);
		T_TRUE(gread(w, DB, GA(13, 0), &back, sizeof(back)));
		T_U64((uint64_t)(uintptr_t)back.frame_list, lists[i]);
		for (unsigned int k = 0; k < 8; k++)
			T_EQ(host_var[k], k + 1);
		T_EQ(tw_info(w, DB).nr_grant_frames, 4);
	}
	return TC_PASS;
}

static int
test_setup_table_list_running_off_ram_stops(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_setup_table st = setup_op(4, GA(RAM - 1, 4096 - 16));
	gntdp_xen_pfn_t want[4], got[2];

	T_TRUE(w != NULL);
	T_TRUE(gwrite(w, DB, GA(13, 0), &st, sizeof(st)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, GA(13, 0), 1), 0);
	T_ST(setup_status(w, GA(13, 0)), GNTDP_GNTST_BAD_VIRT_ADDR);
	T_TRUE(gread(w, DB, GA(RAM - 1, 4096 - 16), got, sizeof(got)));
	T_ST(tw_setup(w, DB, SELF, 4, want), GNTDP_GNTST_OKAY);
	T_TRUE(memcmp(want, got, sizeof(got)) == 0); /* the elements before the fault are there */
	return TC_PASS;
}

static int
test_setup_table_errors_write_no_list(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_setup_table st = setup_op(5000, GA(14, 0));

	T_TRUE(w != NULL);
	tw_memset(w, DB, 14, 0xab);
	T_TRUE(gwrite(w, DB, GA(13, 0), &st, sizeof(st)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, GA(13, 0), 1), 0);
	T_ST(setup_status(w, GA(13, 0)), GNTDP_GNTST_GENERAL_ERROR);
	st = setup_op(2, GA(14, 0));
	st.dom = DA; /* B is not privileged */
	T_TRUE(gwrite(w, DB, GA(13, 0), &st, sizeof(st)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, GA(13, 0), 1), 0);
	T_ST(setup_status(w, GA(13, 0)), GNTDP_GNTST_PERMISSION_DENIED);
	T_TRUE(tw_all(w, DB, 14, 0, 4096, 0xab));
	return TC_PASS;
}

/* ---- no double fetch ---------------------------------------------------------- */

static struct tw *hook_w;
static unsigned int hook_calls;

/* A hostile client: after copy-in, rewrite every op of the array in guest memory. */
static void
hostile_copy(uint64_t gaddr, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct gntdp_gnttab_copy evil = from_ref(0, 60, 0, 4096);

		evil.flags = 0; /* frame mode both sides */
		evil.status = 0x1234;
		gwrite(hook_w, DB, gaddr + i * sizeof(evil), &evil, sizeof(evil));
	}
	hook_calls++;
}

static int
test_rewrite_after_copy_in_changes_nothing(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy ops[8], back;

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < 8; i++)
		ops[i] = from_ref((uint16_t)(i * 64), 30, (uint16_t)(i * 64), 64);
	T_TRUE(gwrite(w, DB, GA(5, 0), ops, sizeof(ops)));
	tw_memset(w, DB, 60, 0x5a);
	hook_w = w;
	hook_calls = 0;
	hcall_test_fetched = hostile_copy;
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, GA(5, 0), 8), 0);
	hcall_test_fetched = NULL;
	T_EQ(hook_calls, 1);
	/* The ops ran as fetched, the rewritten ones did not. */
	T_TRUE(tw_has_pat(w, DB, 30, 0, 512, 0x11, 0));
	T_TRUE(tw_all(w, DB, 60, 0, 4096, 0x5a));
	/* Only status was written back: the rest is what the client wrote last. */
	for (unsigned int i = 0; i < 8; i++) {
		T_TRUE(gread(w, DB, GA(5, i * sizeof(back)), &back, sizeof(back)));
		T_ST(back.status, GNTDP_GNTST_OKAY);
		T_EQ(back.len, 4096);
		T_U64(back.dest.u.gmfn, 60);
	}
	return TC_PASS;
}

/* Rewrite the setup_table op: a host pointer as list and the largest count. */
static void
hostile_setup(uint64_t gaddr, unsigned int n)
{
	static uint64_t host_list[4];
	struct gntdp_gnttab_setup_table st = setup_op(64, (uint64_t)(uintptr_t)host_list);

	(void)n;
	gwrite(hook_w, DB, gaddr, &st, sizeof(st));
	hook_calls++;
}

static int
test_rewrite_of_frame_list_changes_nothing(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_setup_table st = setup_op(2, GA(14, 0));
	gntdp_xen_pfn_t got[3], want[2];

	T_TRUE(w != NULL);
	tw_memset(w, DB, 14, 0xcd);
	T_TRUE(gwrite(w, DB, GA(13, 0), &st, sizeof(st)));
	hook_w = w;
	hook_calls = 0;
	hcall_test_fetched = hostile_setup;
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, GA(13, 0), 1), 0);
	hcall_test_fetched = NULL;
	T_EQ(hook_calls, 1);
	T_ST(setup_status(w, GA(13, 0)), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DB).nr_grant_frames, 2); /* the fetched count, not 64 */
	T_TRUE(gread(w, DB, GA(14, 0), got, sizeof(got)));
	T_ST(tw_setup(w, DB, SELF, 2, want), GNTDP_GNTST_OKAY);
	T_TRUE(memcmp(got, want, sizeof(want)) == 0);
	T_TRUE(tw_all(w, DB, 14, 16, 4096 - 16, 0xcd));
	return TC_PASS;
}

/* ---- Xen's op-by-op order ------------------------------------------------------ */

/* Op 0 copies a new op 1 over op 1 in the array: op 1 runs as rewritten, as in Xen. */
static int
test_op_rewriting_a_later_op_is_seen(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy ops[3], repl = from_ref(0, 71, 0, 32);
	const uint64_t ga = GA(5, 0);

	T_TRUE(w != NULL);
	ops[1] = from_ref(0, 70, 0, 32);
	ops[2] = from_ref(0, 72, 0, 32);
	T_TRUE(gwrite(w, DB, GA(16, 0), &repl, sizeof(repl)));
	/* op 0: B's gfn 16 -> B's gfn 5 at op 1's offset (frame mode both sides). */
	ops[0] = tw_copy_op(tw_gfn(SELF, 16, 0), tw_gfn(SELF, 5, sizeof(repl)), sizeof(repl));
	T_TRUE(gwrite(w, DB, ga, ops, sizeof(ops)));
	tw_memset(w, DB, 70, 0);
	tw_memset(w, DB, 71, 0);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 3), 0);
	T_TRUE(tw_all(w, DB, 70, 0, 32, 0));
	T_TRUE(tw_has_pat(w, DB, 71, 0, 32, 0x11, 0));
	T_TRUE(tw_has_pat(w, DB, 72, 0, 32, 0x11, 0));
	T_ST(copy_status(w, ga, 1), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

/* Op 1 copies op 0 out of the array: it sees op 0's written-back status. */
static int
test_op_reading_an_earlier_status_sees_it(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy ops[2], seen;
	const uint64_t ga = GA(5, 0);

	T_TRUE(w != NULL);
	ops[0] = from_ref(0, 30, 0, 64);
	ops[1] = tw_copy_op(tw_gfn(SELF, 5, 0), tw_gfn(SELF, 17, 0), sizeof(seen));
	T_TRUE(gwrite(w, DB, ga, ops, sizeof(ops)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 2), 0);
	T_TRUE(gread(w, DB, GA(17, 0), &seen, sizeof(seen)));
	T_ST(seen.status, GNTDP_GNTST_OKAY);
	return TC_PASS;
}

/* Transfer of the frame holding the array: it runs, its write-back faults (Xen: -EFAULT). */
static int
test_transfer_of_own_array_frame(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_transfer t[2];
	struct gntdp_grant_entry_v1 *e = tw_ent(w, DA, 52);
	uint32_t owned = tw_info(w, DB).owned_pages;

	T_TRUE(w != NULL);
	T_TRUE(e != NULL && gntdp_guest_grant_transfer(e, DB, 2002) == 0);
	memset(t, 0, sizeof(t));
	t[0].mfn = 18; /* the frame that holds this array */
	t[0].domid = DA;
	t[0].ref = 52;
	t[0].status = TW_UNSET;
	t[1] = t[0];
	t[1].mfn = 19;
	T_TRUE(gwrite(w, DB, GA(18, 0), t, sizeof(t)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_TRANSFER, GA(18, 0), 2), -EFAULT);
	T_EQ(tw_info(w, DB).owned_pages, owned - 1); /* op 1 never ran */
	T_PTR(tw_frame(w, DB, 18), NULL);
	T_TRUE(tw_frame(w, DB, 19) != NULL);
	T_TRUE(tw_frame(w, DA, 2002) != NULL);
	return TC_PASS;
}

/* ---- whole-call checks and the command table ------------------------------------ */

static int
test_command_table(void)
{
	static const size_t want[GNTDP_HCALL_NB_CMDS] = {
		sizeof(struct gntdp_gnttab_map_grant_ref),
		sizeof(struct gntdp_gnttab_unmap_grant_ref),
		sizeof(struct gntdp_gnttab_setup_table),
		sizeof(struct gntdp_gnttab_dump_table),
		sizeof(struct gntdp_gnttab_transfer),
		sizeof(struct gntdp_gnttab_copy),
		sizeof(struct gntdp_gnttab_query_size),
		sizeof(struct gntdp_gnttab_unmap_and_replace),
		sizeof(struct gntdp_gnttab_set_version),
		sizeof(struct gntdp_gnttab_get_status_frames),
		sizeof(struct gntdp_gnttab_get_version),
		sizeof(struct gntdp_gnttab_swap_grant_ref),
		sizeof(struct gntdp_gnttab_cache_flush),
	};

	for (unsigned int c = 0; c < GNTDP_HCALL_NB_CMDS; c++) {
		T_EQ(gntdp_hcall_op_size(c), want[c]);
		/* Where the core runs a command, it agrees on the size. */
		if (gntdp_gnttab_op_size(c) != 0)
			T_EQ(gntdp_gnttab_op_size(c), want[c]);
	}
	T_EQ(gntdp_hcall_op_size(GNTDP_HCALL_NB_CMDS), 0);
	/* hcall_ring.c's table (what clients see) and the core's cmds[] agree. */
	for (unsigned int c = 0; c < GNTDP_HCALL_NB_CMDS; c++) {
		T_EQ(cmds[c].size, gntdp_hcall_op_size(c));
		/* ... and on where each status is (the clients read it there). */
		T_EQ(gntdp_hcall_status_offset(c),
		     cmds[c].status_off == NO_FIELD ? -1 : (int)cmds[c].status_off);
	}
	T_EQ(gntdp_hcall_status_offset(GNTDP_GNTTABOP_COPY),
	     (int)offsetof(struct gntdp_gnttab_copy, status));
	T_EQ(gntdp_hcall_status_offset(GNTDP_HCALL_NB_CMDS), -1);
	T_EQ(gntdp_hcall_status_offset(UINT_MAX), -1);
	return TC_PASS;
}

static int
test_whole_call_errors_before_memory(void)
{
	struct tw *w = hw();
	const uint64_t bad = GA(1ull << 40, 0);

	T_TRUE(w != NULL);
	T_EQ(gntdp_hcall(w->ctx, DB, 13, bad, 1), -ENOSYS);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY | (1u << 12), bad, 1), -EINVAL);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, bad, (unsigned int)INT_MAX + 1), -EINVAL);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, bad, 2), -EINVAL);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_QUERY_SIZE, bad, 0), -EINVAL);
	T_EQ(gntdp_hcall(w->ctx, DNONE, GNTDP_GNTTABOP_COPY, GA(5, 0), 1), -ESRCH);
	T_EQ(gntdp_hcall(w->ctx, DNONE, GNTDP_GNTTABOP_COPY, GA(5, 0), 0), -ESRCH);
	/* A dead caller is -ESRCH wherever its array would be: outside RAM, or wrapping. */
	T_EQ(gntdp_hcall(w->ctx, DNONE, GNTDP_GNTTABOP_COPY, bad, 1), -ESRCH);
	T_EQ(gntdp_hcall(w->ctx, DNONE, GNTDP_GNTTABOP_COPY, UINT64_MAX - 8, 1), -ESRCH);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, UINT64_MAX - 8, 1), -EFAULT);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_QUERY_SIZE, UINT64_MAX - 8, 1), -EFAULT);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, UINT64_MAX - 8, 1), -EFAULT);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, bad, 0), 0);
	/* A command the core does not run answers what gntdp_gnttab_op answers. */
	for (unsigned int c = 0; c < GNTDP_HCALL_NB_CMDS; c++) {
		if (gntdp_gnttab_op_size(c) == 0)
			T_EQ(gntdp_hcall(w->ctx, DB, c, bad, 1),
			     gntdp_gnttab_op(w->ctx, DB, c, NULL, 1));
	}
	return TC_PASS;
}

/*
 * cache_flush's continuation argument (cmd bits >= 12, Xen's opaque_in): it
 * reaches the core with the array copied in, for the call's first op only.
 * With a non-zero starting ref, an op that flushes nothing is -EILSEQ.
 */
static int
test_cache_flush_continuation_argument(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_cache_flush f[2], mine[2];
	const uint64_t ga = GA(7, 0);
	const unsigned int arg = 1u << 12;

	T_TRUE(w != NULL);
	memset(f, 0, sizeof(f)); /* length 0, op 0: nothing to flush */
	T_TRUE(gwrite(w, DB, ga, f, sizeof(f)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_CACHE_FLUSH, ga, 2), 0);
	memcpy(mine, f, sizeof(f));
	T_EQ(gntdp_gnttab_op(w->ctx, DB, GNTDP_GNTTABOP_CACHE_FLUSH | arg, mine, 2), -EILSEQ);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_CACHE_FLUSH | arg, ga, 2), -EILSEQ);
	/* The argument is the first op's: a call resumed past op 0 does not see it again. */
	{
		unsigned int done = 1;

		T_EQ(gntdp_hcall_resume(w->ctx, DB, GNTDP_GNTTABOP_CACHE_FLUSH | arg, ga, 2, UINT_MAX,
					&done),
		     0);
		T_EQ(done, 2);
	}
	/* Only cache_flush takes one; nothing of the array is read for the others. */
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY | arg, GA(1ull << 40, 0), 1), -EINVAL);
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_CACHE_FLUSH | arg, GA(1ull << 40, 0), 1),
	     -EFAULT);
	return TC_PASS;
}

/* Xen's gnttab_set_version writes op.version back whatever its result (its "out:" label). */
static int
test_set_version_error_writes_version_back(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_set_version sv;
	const uint64_t ga = GA(6, 8);

	T_TRUE(w != NULL);
	sv.version = 7;
	T_TRUE(gwrite(w, DB, ga, &sv, sizeof(sv)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SET_VERSION, ga, 1), -EINVAL);
	T_TRUE(gread(w, DB, ga, &sv, sizeof(sv)));
	T_EQ(sv.version, 1); /* the table's version, not the 7 asked for */
	sv.version = 2;
	T_TRUE(gwrite(w, DB, ga, &sv, sizeof(sv)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SET_VERSION, ga, 1), 0);
	sv.version = 0;
	T_TRUE(gwrite(w, DB, ga, &sv, sizeof(sv)));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_SET_VERSION, ga, 1), -EINVAL);
	T_TRUE(gread(w, DB, ga, &sv, sizeof(sv)));
	T_EQ(sv.version, 2);
	/* get_version writes nothing on an error (Xen returns before its copy-out). */
	{
		struct gntdp_gnttab_get_version gv = {.dom = 77, .pad = 0, .version = 0xabcd};

		T_TRUE(gwrite(w, DB, ga, &gv, sizeof(gv)));
		T_TRUE(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_GET_VERSION, ga, 1) != 0);
		T_TRUE(gread(w, DB, ga, &gv, sizeof(gv)));
		T_EQ(gv.version, 0xabcd);
	}
	return TC_PASS;
}

/* ---- ring layout, client side ----------------------------------------------------- */

static int
test_ring_client_round_trip(void)
{
	size_t size = gntdp_hcall_ring_mem_size(4, 4);
	void *mem = aligned_alloc(64, size);
	struct gntdp_hcall_client c;
	struct gntdp_hcall_sqe s[6];
	struct gntdp_hcall_cqe q[6];
	struct gntdp_hcall_ring_hdr *h = mem;
	struct gntdp_hcall_sqe *sq;
	struct gntdp_hcall_cqe *cq;
	uint32_t why = 0;

	T_TRUE(mem != NULL);
	T_EQ(gntdp_hcall_ring_mem_size(3, 4), 0);
	T_EQ(gntdp_hcall_ring_format(mem, size - 1, 4, 4), -EINVAL);
	T_EQ(gntdp_hcall_ring_format(mem, size, 4, 4), 0);
	T_EQ(gntdp_hcall_client_init(&c, mem, size - 1), -EINVAL);
	T_EQ(gntdp_hcall_client_init(&c, mem, size), 0);
	memset(s, 0, sizeof(s));
	for (unsigned int i = 0; i < 6; i++)
		s[i].user_data = 100 + i;
	T_EQ(gntdp_hcall_client_submit(&c, s, 6), 4); /* SQ full at 4 */
	T_EQ(__atomic_load_n(&h->sq_tail, __ATOMIC_RELAXED), 4);
	/* Play the worker: take 2, complete them. */
	sq = (struct gntdp_hcall_sqe *)(void *)((uint8_t *)mem + h->sq_off);
	cq = (struct gntdp_hcall_cqe *)(void *)((uint8_t *)mem + h->cq_off);
	T_U64(sq[1].user_data, 101);
	h->sq_head = 2;
	cq[0].user_data = 100;
	cq[1].user_data = 101;
	cq[1].rc = -EFAULT;
	T_TRUE(!gntdp_hcall_client_arm_wakeup(&c));
	T_EQ(h->wakeup, 1);
	h->cq_tail = 2;
	T_TRUE(gntdp_hcall_client_arm_wakeup(&c));
	T_EQ(gntdp_hcall_client_reap(&c, q, 6), 2);
	T_U64(q[1].user_data, 101);
	T_EQ(q[1].rc, -EFAULT);
	T_EQ(h->cq_head, 2);
	T_EQ(gntdp_hcall_client_submit(&c, s + 4, 2), 2);
	/* A garbage tail from "the worker" yields nothing, not a huge count. */
	h->cq_tail = 1000;
	T_EQ(gntdp_hcall_client_reap(&c, q, 6), 0);
	h->state = GNTDP_HCALL_RING_DISABLED;
	h->reason = GNTDP_HCALL_REASON_SQ_INDEX;
	T_TRUE(gntdp_hcall_client_disabled(&c, &why));
	T_EQ(why, GNTDP_HCALL_REASON_SQ_INDEX);
	T_EQ(gntdp_hcall_client_submit(&c, s, 1), 0);
	free(mem);
	return TC_PASS;
}

/* ---- preemption (gntdp_hcall_resume) --------------------------------------------- */

#define NSLICE 300u /* 5 chunks of 64 ops, the array over 3 frames */

/* 300 copies of 64 bytes from A's ref 10 into B's gfns 30..34, every 7th one bad. */
static bool
slice_ops(struct tw *w, uint64_t ga)
{
	for (unsigned int i = 0; i < NSLICE; i++) {
		struct gntdp_gnttab_copy op = from_ref((uint16_t)((i % 64) * 64), 30 + i / 64,
						       (uint16_t)((i % 64) * 64), 64);

		if (i % 7 == 3)
			op.len = 4096; /* crosses the frame: bad_copy_arg */
		op.status = TW_UNSET;
		if (!gwrite(w, DB, ga + i * sizeof(op), &op, sizeof(op)))
			return false;
	}
	for (uint64_t g = 30; g < 35; g++)
		tw_memset(w, DB, g, 0);
	return true;
}

static int
test_resume_slices_do_what_one_call_does(void)
{
	struct tw *w = hw();
	const uint64_t ga = GA(5, 8);
	int16_t whole[NSLICE];
	uint64_t sum;
	unsigned int done = 0, slices = 0;
	int rc;

	T_TRUE(w != NULL);
	T_TRUE(slice_ops(w, ga));
	T_EQ(gntdp_hcall(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, NSLICE), 0);
	for (unsigned int i = 0; i < NSLICE; i++)
		whole[i] = copy_status(w, ga, i);
	T_ST(whole[3], GNTDP_GNTST_BAD_COPY_ARG);
	T_ST(whole[NSLICE - 1], GNTDP_GNTST_OKAY);
	sum = ram_sum(w, DB);

	T_TRUE(slice_ops(w, ga));
	/* Budget 1: every slice runs one chunk; statuses of a slice are out when it returns. */
	while ((rc = gntdp_hcall_resume(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, NSLICE, 1, &done)) ==
	       GNTDP_HCALL_PREEMPTED) {
		slices++;
		T_EQ(done, slices * 64);
		T_ST(copy_status(w, ga, done - 1), whole[done - 1]);
		T_ST(copy_status(w, ga, done), TW_UNSET);
	}
	T_EQ(rc, 0);
	T_EQ(done, NSLICE);
	T_EQ(slices, 4);
	T_EQ(ram_sum(w, DB), sum); /* same bytes and statuses as the whole call */
	T_EQ(tw_info(w, DA).pinned_entries, 0);

	/* A budget of the whole array, or UINT_MAX, never preempts. */
	T_TRUE(slice_ops(w, ga));
	done = 0;
	T_EQ(gntdp_hcall_resume(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, NSLICE, NSLICE, &done), 0);
	T_EQ(done, NSLICE);
	T_EQ(ram_sum(w, DB), sum);
	return TC_PASS;
}

static int
test_resume_fault_and_misuse(void)
{
	struct tw *w = hw();
	struct gntdp_gnttab_copy op = from_ref(0, 30, 0, 64);
	/* 100 ops, the last 36 past the end of RAM: the second slice faults at op 64. */
	const uint64_t ga = GA(RAM, 0) - 64 * sizeof(op);
	unsigned int done = 0;

	T_TRUE(w != NULL);
	for (unsigned int i = 0; i < 64; i++)
		T_TRUE(gwrite(w, DB, ga + i * sizeof(op), &op, sizeof(op)));
	T_EQ(gntdp_hcall_resume(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 100, 10, &done),
	     GNTDP_HCALL_PREEMPTED);
	T_EQ(done, 64);
	T_EQ(gntdp_hcall_resume(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 100, 10, &done), -EFAULT);
	T_EQ(done, 64);
	/* Whole-call errors are the same in every slice. */
	done = 0;
	T_EQ(gntdp_hcall_resume(w->ctx, DB, GNTDP_GNTTABOP_SETUP_TABLE, ga, 2, 1, &done), -EINVAL);
	done = 5;
	T_EQ(gntdp_hcall_resume(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 4, 1, &done), -EINVAL);
	T_EQ(gntdp_hcall_resume(w->ctx, DB, GNTDP_GNTTABOP_COPY, ga, 4, 1, NULL), -EINVAL);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_copy_batch_in_out),
	TC(test_array_crosses_frames),
	TC(test_map_and_query_write_whole_struct),
	TC(test_array_outside_ram_is_efault),
	TC(test_array_running_off_ram_runs_the_prefix),
	TC(test_array_in_mapped_or_given_frame_is_efault),
	TC(test_no_page_reference_left_behind),
	TC(test_setup_table_list_in_guest_memory),
	TC(test_setup_table_list_outside_is_bad_virt_addr),
	TC(test_setup_table_list_running_off_ram_stops),
	TC(test_setup_table_errors_write_no_list),
	TC(test_rewrite_after_copy_in_changes_nothing),
	TC(test_rewrite_of_frame_list_changes_nothing),
	TC(test_op_rewriting_a_later_op_is_seen),
	TC(test_op_reading_an_earlier_status_sees_it),
	TC(test_transfer_of_own_array_frame),
	TC(test_command_table),
	TC(test_whole_call_errors_before_memory),
	TC(test_set_version_error_writes_version_back),
	TC(test_cache_flush_continuation_argument),
	TC(test_ring_client_round_trip),
	TC(test_resume_slices_do_what_one_call_does),
	TC(test_resume_fault_and_misuse),
};

TC_MAIN(cases)
