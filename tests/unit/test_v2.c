/* SPDX-License-Identifier: MIT */
/*
 * Commands 7-12 and version 2 tables, from Xen's grant_table.c at HEAD
 * (spec sections 6, 7.4-7.8, 8.4 and the rows of section 12 that involve
 * swap, set_version, status frames, transitive grants or cache_flush).
 * Each status or errno a command can give has a case, in check order.
 *
 * World (tw_std): dom 0 (privileged), A=1, B=2, C=3.
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
#define HA(g) ((uint64_t)(g) << 12)

/* ---- helpers ------------------------------------------------------------------------ */

static int
set_version(struct tw *w, gntdp_domid_t caller, uint32_t version, uint32_t *out)
{
	struct gntdp_gnttab_set_version op = {.version = version};
	int rc = tw_op(w, caller, GNTDP_GNTTABOP_SET_VERSION, &op, 1);

	if (out != NULL)
		*out = op.version;
	return rc;
}

static int
get_version(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom, uint32_t *out)
{
	struct gntdp_gnttab_get_version op = {.dom = dom, .version = 0xdead};
	int rc = tw_op(w, caller, GNTDP_GNTTABOP_GET_VERSION, &op, 1);

	if (out != NULL)
		*out = op.version;
	return rc;
}

static int16_t
status_frames(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom, uint32_t nr, uint64_t *list)
{
	struct gntdp_gnttab_get_status_frames op = {
		.nr_frames = nr, .dom = dom, .status = TW_UNSET, .frame_list = list};
	int rc = tw_op(w, caller, GNTDP_GNTTABOP_GET_STATUS_FRAMES, &op, 1);

	return rc != 0 ? TW_CALL_FAILED : op.status;
}

static int16_t
swap(struct tw *w, gntdp_domid_t caller, gntdp_grant_ref_t a, gntdp_grant_ref_t b)
{
	struct gntdp_gnttab_swap_grant_ref op = {.ref_a = a, .ref_b = b, .status = TW_UNSET};
	int rc = tw_op(w, caller, GNTDP_GNTTABOP_SWAP_GRANT_REF, &op, 1);

	return rc != 0 ? TW_CALL_FAILED : op.status;
}

static int16_t
unmap_replace(struct tw *w, gntdp_domid_t caller, uint32_t handle, uint64_t host_addr,
	      uint64_t new_addr)
{
	struct gntdp_gnttab_unmap_and_replace op = {
		.host_addr = host_addr, .new_addr = new_addr, .handle = handle, .status = TW_UNSET};
	int rc = tw_op(w, caller, GNTDP_GNTTABOP_UNMAP_AND_REPLACE, &op, 1);

	return rc != 0 ? TW_CALL_FAILED : op.status;
}

static int
flush(struct tw *w, gntdp_domid_t caller, unsigned int arg, uint64_t addr, uint16_t off,
      uint16_t len, uint32_t what)
{
	struct gntdp_gnttab_cache_flush op;

	memset(&op, 0, sizeof(op));
	op.a.dev_bus_addr = addr;
	op.offset = off;
	op.length = len;
	op.op = what;
	return tw_op(w, caller, GNTDP_GNTTABOP_CACHE_FLUSH | arg, &op, 1);
}

/* Entry @ref of @dom's v2 table and its status word (NULL when not v2). */
static union gntdp_grant_entry_v2 *
v2_ent(struct tw *w, gntdp_domid_t dom, gntdp_grant_ref_t ref, gntdp_grant_status_t **st)
{
	union gntdp_grant_entry_v2 *e;
	gntdp_grant_status_t *s;
	uint32_t n;
	static gntdp_grant_status_t none = 0xffff;

	if (st != NULL)
		*st = &none;
	if (gntdp_guest_table_v2(w->gt, dom, &e, &s, &n) != 0 || ref >= n)
		return NULL;
	if (st != NULL)
		*st = &s[ref];
	return &e[ref];
}

static uint16_t
v2_status(struct tw *w, gntdp_domid_t dom, gntdp_grant_ref_t ref)
{
	gntdp_grant_status_t *st;

	return v2_ent(w, dom, ref, &st) != NULL ? *st : 0xffff;
}

/* A world where A, B and C run v2 tables. */
static struct tw *
v2_world(void)
{
	struct tw *w = tw_std();

	if (w == NULL)
		return NULL;
	if (set_version(w, DA, 2, NULL) != 0 || set_version(w, DB, 2, NULL) != 0 ||
	    set_version(w, DC, 2, NULL) != 0) {
		tc_fail(__FILE__, __LINE__, "v2_world: set_version", "error", "0");
		return NULL;
	}
	return w;
}

/* ---- get_version (10) ---------------------------------------------------------------- */

static int
test_get_version(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_get_version op = {.dom = SELF};
	uint32_t v;

	T_TRUE(w != NULL);
	T_EQ(get_version(w, DA, SELF, &v), 0);
	T_EQ(v, 1);
	T_EQ(get_version(w, DA, DA, &v), 0);
	T_EQ(v, 1);
	T_EQ(get_version(w, DA, DNONE, NULL), -ESRCH); /* an errno, not a status */
	T_EQ(get_version(w, DA, DB, NULL), -EPERM);     /* XSM target rule */
	T_EQ(get_version(w, D0, DB, &v), 0);
	T_EQ(v, 1);
	T_EQ(set_version(w, DB, 2, NULL), 0);
	T_EQ(get_version(w, D0, DB, &v), 0);
	T_EQ(v, 2);
	/* count is ignored: 0 still reads the struct; NULL faults. */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_GET_VERSION, &op, 0), 0);
	T_EQ(op.version, 2);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_GET_VERSION, NULL, 1), -EFAULT);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_GET_VERSION, NULL, 0), -EFAULT);
	return TC_PASS;
}

/* ---- set_version (8) ----------------------------------------------------------------- */

static int
test_set_version_bad_values(void)
{
	struct tw *w = tw_std();
	struct gntdp_domain_conf c = tw_dom_conf(9);
	uint32_t v;

	T_TRUE(w != NULL);
	T_EQ(set_version(w, DA, 3, &v), -EINVAL);
	T_EQ(v, 1); /* the current version is written back, even on error */
	T_EQ(set_version(w, DA, 0, &v), -EINVAL);
	T_EQ(v, 1);
	/* A domain capped at v1 behaves as if set_version did not exist (XSA-268). */
	c.max_grant_version = 1;
	T_EQ(tw_add_conf(w, &c), 0);
	T_EQ(set_version(w, 9, 2, &v), -ENOSYS);
	T_EQ(v, 1);
	T_EQ(set_version(w, 9, 1, &v), 0);
	/* Bad values before the cap. */
	T_EQ(set_version(w, 9, 7, &v), -EINVAL);
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SET_VERSION, NULL, 1), -EFAULT);
	c = tw_dom_conf(10);
	c.max_grant_version = 3;
	T_EQ(tw_add_conf(w, &c), -EINVAL);
	return TC_PASS;
}

static int
test_set_version_switch_and_layout(void)
{
	struct tw *w = tw_std();
	struct gntdp_domain_info di;
	uint32_t v, nr = 0, max = 0;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 100, DB, 20, false), 0);
	T_EQ(set_version(w, DA, 2, &v), 0);
	T_EQ(v, 2);
	T_EQ(set_version(w, DA, 2, &v), 0); /* same version: nothing to do */
	di = tw_info(w, DA);
	T_EQ(di.grant_version, 2);
	T_EQ(di.nr_status_frames, 1);
	T_ST(tw_query(w, DA, SELF, &nr, &max), GNTDP_GNTST_OKAY);
	T_EQ(nr, 1);
	/* 256 entries per frame now; ref 100 was cleared. */
	T_TRUE(v2_ent(w, DA, 255, NULL) != NULL);
	T_TRUE(v2_ent(w, DA, 256, NULL) == NULL);
	T_EQ(v2_ent(w, DA, 100, NULL)->hdr.flags, 0);
	T_ST(tw_map(w, DB, DA, 256, HOST, 1000, NULL, NULL), GNTDP_GNTST_BAD_GNTREF);
	T_EQ(set_version(w, DA, 1, &v), 0);
	T_EQ(v, 1);
	di = tw_info(w, DA);
	T_EQ(di.grant_version, 1);
	T_EQ(di.nr_status_frames, 0);
	T_EQ(tw_nr_entries(w, DA), 512);
	return TC_PASS;
}

static int
test_set_version_busy_and_reserved_entries(void)
{
	struct tw *w = tw_std();
	uint32_t h1, h100;
	union gntdp_grant_entry_v2 *e;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 1, DB, 21, false), 0);
	T_EQ(tw_grant(w, DA, 5, DB, 25, true), 0);
	T_EQ(tw_grant(w, DA, 100, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 100, HOST, 1000, &h100, NULL), GNTDP_GNTST_OKAY);
	/* A pinned entry >= 8: -EBUSY, nothing changed. */
	T_EQ(set_version(w, DA, 2, NULL), -EBUSY);
	T_EQ(tw_flags(w, DA, 100), PA | RD | WR);
	T_ST(tw_unmap(w, DB, h100, HA(1000), 0), GNTDP_GNTST_OKAY);
	/* Only a reserved entry pinned: allowed; entries 0-7 carried over. */
	T_ST(tw_map(w, DB, DA, 1, HOST, 1001, &h1, NULL), GNTDP_GNTST_OKAY);
	T_EQ(set_version(w, DA, 2, NULL), 0);
	e = v2_ent(w, DA, 1, NULL);
	T_TRUE(e != NULL);
	T_EQ(e->hdr.flags, PA);
	T_EQ(e->hdr.domid, DB);
	T_EQ(e->full_page.frame, 21);
	T_EQ(v2_status(w, DA, 1), RD | WR); /* reading/writing split into the status */
	T_EQ(v2_ent(w, DA, 5, NULL)->hdr.flags, PA | GNTDP_GTF_READONLY);
	T_EQ(v2_ent(w, DA, 5, NULL)->full_page.frame, 25);
	/* The mapping survives and unmaps on the v2 table. */
	T_ST(tw_unmap(w, DB, h1, HA(1001), 0), GNTDP_GNTST_OKAY);
	T_EQ(v2_status(w, DA, 1), 0);
	T_EQ(v2_ent(w, DA, 1, NULL)->hdr.flags, PA);
	/* And back: the status bits merge into the v1 flags. */
	T_ST(tw_map(w, DB, DA, 1, HOST | RO, 1002, &h1, NULL), GNTDP_GNTST_OKAY);
	T_EQ(set_version(w, DA, 1, NULL), 0);
	T_EQ(tw_flags(w, DA, 1), PA | RD);
	T_EQ(tw_ent(w, DA, 1)->frame, 21);
	T_EQ(tw_flags(w, DA, 100), 0);
	T_ST(tw_unmap(w, DB, h1, HA(1002), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 1), PA);
	return TC_PASS;
}

static int
test_set_version_v2_to_v1_erange_eagain(void)
{
	struct tw *w = v2_world();
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 8};
	struct gntdp_gnttab_ctx *ctx;
	struct gntdp_gnttab_copy op;
	union gntdp_grant_entry_v2 *e;

	T_TRUE(w != NULL);
	e = v2_ent(w, DA, 3, NULL);
	/* A full-page frame beyond 32 bits cannot be written as v1. */
	T_EQ(gntdp_guest_grant_access_v2(e, DB, 1ull << 32, false), 0);
	T_EQ(set_version(w, DA, 1, NULL), -ERANGE);
	e->hdr.flags = 0;
	/* A transitive reserved entry neither. */
	T_EQ(gntdp_guest_grant_transitive(e, DB, DC, 9, false), 0);
	T_EQ(set_version(w, DA, 1, NULL), -ERANGE);
	e->hdr.flags = 0;
	/* A sub-page copy pin in flight (held by a persistent cache): -EAGAIN. */
	T_EQ(gntdp_guest_grant_sub_page(e, DB, 20, 0, 64, false), 0);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx), 0);
	op = tw_copy_op(tw_ref(DA, 3, 0), tw_gfn(SELF, 30, 0), 16);
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_EQ(set_version(w, DA, 1, NULL), -EAGAIN);
	gntdp_gnttab_ctx_expire(ctx, UINT64_MAX);
	gntdp_gnttab_ctx_destroy(ctx);
	/* A sub-page entry is a permit_access one: carried over with its flags
	 * (the sub-page bit means nothing to v1) and its frame. */
	T_EQ(set_version(w, DA, 1, NULL), 0);
	T_EQ(tw_flags(w, DA, 3), PA | GNTDP_GTF_SUB_PAGE);
	T_EQ(tw_ent(w, DA, 3)->frame, 20);
	return TC_PASS;
}

/* XSA-26: switching back and forth neither leaks nor corrupts. */
static int
test_xsa26_version_flips_leak_nothing(void)
{
	static struct tmem mem;
	struct tw *w;
	size_t base;

	tmem_init(&mem, 0);
	w = tw_create(&mem.ops);
	T_TRUE(w != NULL);
	T_EQ(tw_add(w, DA), 0);
	T_EQ(tw_add(w, DB), 0);
	T_ST(tw_setup(w, DA, SELF, 9, (gntdp_xen_pfn_t[9]){0}), GNTDP_GNTST_OKAY);
	base = mem.live_allocs;
	for (int i = 0; i < 500; i++) {
		T_EQ(set_version(w, DA, 2, NULL), 0);
		T_EQ(tw_info(w, DA).nr_status_frames, 2); /* 9 frames x 256 / 2048, rounded up */
		T_EQ(set_version(w, DA, 1, NULL), 0);
		T_EQ(tw_info(w, DA).nr_status_frames, 0);
	}
	T_EQ(mem.live_allocs, base);
	T_EQ(tw_grant(w, DA, 600, DB, 20, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 600, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_OKAY);
	tw_destroy(w);
	T_EQ(mem.live_allocs, 0);
	T_EQ(mem.bad_frees, 0);
	tmem_fini(&mem);
	return TC_PASS;
}

/* ---- get_status_frames (9) ----------------------------------------------------------- */

static int
test_get_status_frames(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_get_status_frames op2[2];
	uint64_t list[4] = {~0ull, ~0ull, ~0ull, ~0ull};
	gntdp_xen_pfn_t fl[9];

	T_TRUE(w != NULL);
	memset(op2, 0, sizeof(op2));
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_GET_STATUS_FRAMES, op2, 2), -EINVAL);
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_GET_STATUS_FRAMES, op2, 0), -EINVAL);
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_GET_STATUS_FRAMES, NULL, 1), -EFAULT);
	/* Check order: domain, target rule, count, write. */
	T_ST(status_frames(w, DA, DNONE, 1, list), GNTDP_GNTST_BAD_DOMAIN);
	T_ST(status_frames(w, DA, DB, 1, list), GNTDP_GNTST_PERMISSION_DENIED);
	/* v1: there are no status frames. */
	T_ST(status_frames(w, DA, SELF, 1, list), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(status_frames(w, DA, SELF, 0, list), GNTDP_GNTST_OKAY);
	T_EQ(set_version(w, DA, 2, NULL), 0);
	T_ST(status_frames(w, DA, SELF, 1, list), GNTDP_GNTST_OKAY);
	T_TRUE(list[0] != ~0ull);
	T_EQ(list[1], ~0ull);
	/* XSA-382: bounded by status frames, not grant frames. */
	T_ST(tw_setup(w, DA, SELF, 8, fl), GNTDP_GNTST_OKAY);
	T_ST(status_frames(w, DA, SELF, 2, list), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_setup(w, DA, SELF, 9, fl), GNTDP_GNTST_OKAY);
	T_ST(status_frames(w, DA, SELF, 2, list), GNTDP_GNTST_OKAY);
	T_TRUE(list[1] != list[0] && list[1] != ~0ull);
	T_ST(status_frames(w, DA, SELF, 3, list), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(status_frames(w, D0, DA, 2, list), GNTDP_GNTST_OKAY);
	/* A NULL list faults on the write (translated caller). */
	T_ST(status_frames(w, DA, SELF, 1, NULL), GNTDP_GNTST_BAD_VIRT_ADDR);
	/* Back to v1: the status frames are released. */
	T_EQ(set_version(w, DA, 1, NULL), 0);
	T_ST(status_frames(w, DA, SELF, 1, list), GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

/* ---- swap_grant_ref (11) ------------------------------------------------------------ */

static int
test_swap_grant_ref(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_swap_grant_ref ops[3];
	uint32_t h;

	T_TRUE(w != NULL);
	/* XSA-134: a fresh table. XSA-18: bounds. */
	T_ST(swap(w, DA, 10, 11), GNTDP_GNTST_OKAY);
	T_ST(swap(w, DA, 512, 1), GNTDP_GNTST_BAD_GNTREF);
	T_ST(swap(w, DA, 1, 512), GNTDP_GNTST_BAD_GNTREF);
	T_ST(swap(w, DA, 0xffffffffu, 0xffffffffu), GNTDP_GNTST_BAD_GNTREF);
	T_ST(swap(w, DA, 7, 7), GNTDP_GNTST_OKAY);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_EQ(tw_grant(w, DA, 11, DC, 21, true), 0);
	T_ST(swap(w, DA, 10, 11), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | GNTDP_GTF_READONLY);
	T_EQ(tw_ent(w, DA, 10)->domid, DC);
	T_EQ(tw_ent(w, DA, 10)->frame, 21);
	T_EQ(tw_ent(w, DA, 11)->domid, DB);
	T_EQ(tw_ent(w, DA, 11)->frame, 20);
	/* Only pins count: a pinned side gives eagain, a and b in order. */
	T_ST(tw_map(w, DB, DA, 11, HOST, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	T_ST(swap(w, DA, 11, 10), GNTDP_GNTST_EAGAIN);
	T_ST(swap(w, DA, 10, 11), GNTDP_GNTST_EAGAIN);
	T_ST(swap(w, DA, 11, 11), GNTDP_GNTST_OKAY); /* same ref before the pin check */
	T_ST(swap(w, DA, 600, 11), GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	/* Flags are not examined: GTF_reading set by the guest moves along. */
	tw_set_entry(w, DA, 12, PA | RD, DB, 22);
	T_ST(swap(w, DA, 12, 13), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 13), PA | RD);
	/* A batch: every status written. */
	ops[0] = (struct gntdp_gnttab_swap_grant_ref){.ref_a = 1, .ref_b = 2, .status = TW_UNSET};
	ops[1] = (struct gntdp_gnttab_swap_grant_ref){.ref_a = 1, .ref_b = 9999, .status = TW_UNSET};
	ops[2] = (struct gntdp_gnttab_swap_grant_ref){.ref_a = 2, .ref_b = 1, .status = TW_UNSET};
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SWAP_GRANT_REF, ops, 3), 0);
	T_ST(ops[0].status, GNTDP_GNTST_OKAY);
	T_ST(ops[1].status, GNTDP_GNTST_BAD_GNTREF);
	T_ST(ops[2].status, GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_swap_v2_moves_status(void)
{
	struct tw *w = v2_world();
	gntdp_grant_status_t *s10, *s11;
	union gntdp_grant_entry_v2 *e10 = NULL, *e11 = NULL;

	T_TRUE(w != NULL);
	e10 = v2_ent(w, DA, 10, &s10);
	e11 = v2_ent(w, DA, 11, &s11);
	T_TRUE(e10 != NULL && e11 != NULL);
	T_EQ(gntdp_guest_grant_access_v2(e10, DB, 20, false), 0);
	T_EQ(gntdp_guest_grant_sub_page(e11, DC, 21, 8, 16, true), 0);
	*s10 = RD; /* stale status the guest left */
	T_ST(swap(w, DA, 10, 11), GNTDP_GNTST_OKAY);
	T_EQ(e10->hdr.flags, PA | GNTDP_GTF_SUB_PAGE | GNTDP_GTF_READONLY);
	T_EQ(e10->sub_page.page_off, 8);
	T_EQ(e10->sub_page.length, 16);
	T_EQ(e11->full_page.frame, 20);
	T_EQ(*s11, RD);
	T_EQ(*s10, 0);
	T_ST(swap(w, DA, 10, 256), GNTDP_GNTST_BAD_GNTREF); /* 256 entries per frame in v2 */
	return TC_PASS;
}

/* ---- unmap_and_replace (7) ---------------------------------------------------------- */

static int
test_unmap_and_replace(void)
{
	struct tw *w = tw_std();
	uint32_t h, hd;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(unmap_replace(w, DB, 0xffffffffu, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	/* Translated caller: new_addr must be 0 (general_error, mapping intact). */
	T_ST(unmap_replace(w, DB, h, HA(1000), HA(1001)), GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_frame(w, DB, 1000) != NULL);
	/* Wrong address: general_error. */
	T_ST(unmap_replace(w, DB, h, HA(1001), 0), GNTDP_GNTST_GENERAL_ERROR);
	/* host_addr 0: nothing to do, okay, still mapped. */
	T_ST(unmap_replace(w, DB, h, 0, 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_ST(unmap_replace(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_PTR(tw_frame(w, DB, 1000), NULL);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_ST(unmap_replace(w, DB, h, HA(1000), 0), GNTDP_GNTST_BAD_HANDLE);
	/* Never touches a device mapping: the handle stays. */
	T_ST(tw_map(w, DB, DA, 10, HOST | DEV, 1002, &hd, &dev), GNTDP_GNTST_OKAY);
	T_ST(unmap_replace(w, DB, hd, HA(1002), 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DB).live_mappings, 1);
	T_EQ(tw_flags(w, DA, 10), PA | RD | WR);
	T_ST(tw_unmap(w, DB, hd, 0, dev), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(tw_info(w, DB).live_mappings, 0);
	return TC_PASS;
}

/* ---- cache_flush (12) ---------------------------------------------------------------- */

static int
test_cache_flush_arguments(void)
{
	struct tw *w = tw_std();
	const uint32_t C = GNTDP_GNTTAB_CACHE_CLEAN, I = GNTDP_GNTTAB_CACHE_INVAL;
	uint64_t own = tw_va(w, DB, 5);

	T_TRUE(w != NULL);
	/* Argument checks first, whatever the address. */
	T_EQ(flush(w, DB, 0, 0, 4096, 1, C), -EINVAL);
	T_EQ(flush(w, DB, 0, 0, 0, 4097, C), -EINVAL);
	T_EQ(flush(w, DB, 0, 0, 4000, 97, C), -EINVAL);
	T_EQ(flush(w, DB, 0, own, 0, 8, C | GNTDP_GNTTAB_CACHE_SOURCE_GREF), -EINVAL);
	T_EQ(flush(w, DB, 0, own, 0, 8, 0x4), -EINVAL);
	/* Nothing to do: 0, or -EILSEQ in a continuation. */
	T_EQ(flush(w, DB, 0, 0, 0, 0, C), 0);
	T_EQ(flush(w, DB, 0, 0, 0, 8, 0), 0);
	T_EQ(flush(w, DB, 1u << 12, 0, 0, 0, C), -EILSEQ);
	/* The caller's own frame; x86 4.17: clean works, invalidate alone does not. */
	T_EQ(flush(w, DB, 0, own, 0, 4096, C), 0);
	T_EQ(flush(w, DB, 0, own + 100, 100, 8, C | I), 0);
	T_EQ(flush(w, DB, 0, own, 0, 8, I), -EOPNOTSUPP);
	/* Not a frame of this world. */
	T_EQ(flush(w, DB, 0, 0x1000, 0, 8, C), -EINVAL);
	return TC_PASS;
}

static int
test_cache_flush_foreign_frames(void)
{
	struct tw *w = tw_std();
	const uint32_t C = GNTDP_GNTTAB_CACHE_CLEAN;
	struct gntdp_grant_entry_v1 *ents;
	struct gntdp_gnttab_cache_flush ops[2];
	uint32_t h, nr;
	uint64_t dev;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	/* A's frame, not pinned for B: -EINVAL. */
	T_EQ(flush(w, DB, 0, tw_va(w, DA, 20), 0, 8, C), -EINVAL);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h, &dev), GNTDP_GNTST_OKAY);
	T_EQ(flush(w, DB, 0, dev, 0, 8, C), 0);
	/* The continuation argument starts the search at that ref: past 10, not found. */
	T_EQ(flush(w, DB, 1u << 12, dev, 0, 8, C), -EINVAL);
	/* Another domain that holds no pin of it. */
	T_EQ(flush(w, DC, 0, dev, 0, 8, C), -EINVAL);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(flush(w, DB, 0, dev, 0, 8, C), -EINVAL);
	/* A grant frame has no owner with a grant table (XSA-232 class): -EPERM. */
	T_EQ(gntdp_guest_table(w->gt, DA, &ents, &nr), 0);
	T_EQ(flush(w, DB, 0, (uint64_t)(uintptr_t)ents, 0, 8, C), -EPERM);
	/* No status field: the first failing op's errno ends the call. */
	memset(ops, 0, sizeof(ops));
	ops[0].a.dev_bus_addr = tw_va(w, DB, 1);
	ops[0].length = 8;
	ops[0].op = C;
	ops[1] = ops[0];
	ops[1].offset = 4096;
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_CACHE_FLUSH, ops, 2), -EINVAL);
	ops[1].offset = 0;
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_CACHE_FLUSH, ops, 2), 0);
	return TC_PASS;
}

/* ---- v2 map / copy -------------------------------------------------------------------- */

static int
test_v2_full_page_map_and_copy(void)
{
	struct tw *w = v2_world();
	union gntdp_grant_entry_v2 *e;
	gntdp_grant_status_t *st;
	uint32_t h;

	T_TRUE(w != NULL);
	e = v2_ent(w, DA, 10, &st);
	T_EQ(gntdp_guest_grant_access_v2(e, DB, 20, false), 0);
	tw_fill(w, DA, 20, 0x11);
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	/* The bits go to the status word; the header is never written. */
	T_EQ(*st, RD | WR);
	T_EQ(e->hdr.flags, PA);
	T_PTR(tw_frame(w, DB, 1000), tw_frame(w, DA, 20));
	/* Revocation while mapped: the header clears, the status says busy. */
	T_EQ(gntdp_guest_end_access_v2(e, st), -EBUSY);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1001, NULL, NULL), GNTDP_GNTST_OKAY); /* pinned */
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(*st, RD);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 64, 0x11, 0));
	return TC_PASS;
}

static int
test_v2_copy_statuses(void)
{
	struct tw *w = v2_world();
	gntdp_grant_status_t *st;

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_grant_access_v2(v2_ent(w, DA, 10, &st), DB, 20, true), 0);
	tw_fill(w, DA, 20, 0x22);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64), GNTDP_GNTST_OKAY);
	T_EQ(*st, 0);
	/* Read-only as destination. */
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 64),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(*st, 0);
	/* Wrong grantee, out of range, bad frame. */
	T_ST(tw_copy(w, DC, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_ref(DA, 256, 0), tw_gfn(SELF, 30, 0), 64), GNTDP_GNTST_BAD_GNTREF);
	T_EQ(gntdp_guest_grant_access_v2(v2_ent(w, DA, 11, &st), DB, 1ull << 40, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 11, 0), tw_gfn(SELF, 30, 0), 64), GNTDP_GNTST_BAD_PAGE);
	T_EQ(*st, 0);
	/* A v2 accept_transfer / invalid entry is no grant for copy. */
	v2_ent(w, DA, 12, NULL)->hdr.domid = DB;
	v2_ent(w, DA, 12, NULL)->hdr.flags = GNTDP_GTF_ACCEPT_TRANSFER;
	T_ST(tw_copy(w, DB, tw_ref(DA, 12, 0), tw_gfn(SELF, 30, 0), 64),
	     GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

static int
test_v2_sub_page_window(void)
{
	struct tw *w = v2_world();
	gntdp_grant_status_t *st;

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_grant_sub_page(v2_ent(w, DA, 10, &st), DB, 20, 100, 200, false), 0);
	tw_fill(w, DA, 20, 0x33);
	tw_memset(w, DB, 30, 0xee);
	/* Inside the window. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 100), tw_gfn(SELF, 30, 0), 200), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 200, 0x33, 100));
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 150), tw_gfn(SELF, 30, 0), 10), GNTDP_GNTST_OKAY);
	/* Outside, either end: general_error, nothing copied. */
	tw_memset(w, DB, 31, 0xee);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 99), tw_gfn(SELF, 31, 0), 10),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 100), tw_gfn(SELF, 31, 0), 201),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_all(w, DB, 31, 0, 4096, 0xee));
	/* The destination window too. */
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 31, 0), tw_ref(DA, 10, 299), 2),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 31, 0), tw_ref(DA, 10, 299), 1), GNTDP_GNTST_OKAY);
	/* bad_copy_arg (page crossing) is judged before the window. */
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 4095), tw_gfn(SELF, 31, 0), 2),
	     GNTDP_GNTST_BAD_COPY_ARG);
	T_EQ(*st, 0);
	/* Never mappable. */
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(*st, 0);
	return TC_PASS;
}

static int
test_v2_sub_page_pin_blocks_map(void)
{
	struct tw *w = v2_world();
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 8};
	struct gntdp_gnttab_ctx *ctx;
	struct gntdp_gnttab_copy op;
	gntdp_grant_status_t *st;
	union gntdp_grant_entry_v2 *e;

	T_TRUE(w != NULL);
	e = v2_ent(w, DA, 10, &st);
	T_EQ(gntdp_guest_grant_sub_page(e, DB, 20, 0, 4096, false), 0);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16);
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_EQ(*st, RD);
	/* The guest turns it into a full-page grant: the sub-page pin still blocks maps (step 7). */
	e->hdr.flags = PA;
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(gntdp_gnttab_ctx_expire(ctx, UINT64_MAX), 2);
	T_EQ(*st, 0);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, NULL, NULL), GNTDP_GNTST_OKAY);
	gntdp_gnttab_ctx_destroy(ctx);
	return TC_PASS;
}

/* XSA-500 for v2: an upgrade must see the same frame and the same window. */
static int
test_v2_upgrade_checks_window(void)
{
	struct tw *w = v2_world();
	struct gntdp_gnttab_copy ops[2];
	union gntdp_grant_entry_v2 *e;
	gntdp_grant_status_t *st;
	uint32_t h;

	T_TRUE(w != NULL);
	e = v2_ent(w, DA, 10, &st);
	T_EQ(gntdp_guest_grant_access_v2(e, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, HOST | RO, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	e->full_page.frame = 21;
	ops[0] = tw_copy_op(tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 1), 0);
	T_ST(ops[0].status, GNTDP_GNTST_GENERAL_ERROR);
	e->full_page.frame = (1ull << 40);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_BAD_PAGE);
	T_EQ(*st, RD);
	e->full_page.frame = 20;
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 8), GNTDP_GNTST_OKAY);
	T_ST(tw_unmap(w, DB, h, HA(1000), 0), GNTDP_GNTST_OKAY);
	T_EQ(*st, 0);
	return TC_PASS;
}

/*
 * Xen keeps a sub-page grant's start in a 15-bit field (active_grant_entry.start:15)
 * and compares it with the entry's whole 16-bit page_off when a first writer
 * follows read-only pins: with bit 15 set the two never match, so the upgrade
 * fails with general_error, while a read alone uses the truncated window.
 */
static int
test_v2_upgrade_compares_16bit_page_off(void)
{
	struct tw *w = v2_world();
	struct gntdp_gnttab_copy op;
	gntdp_grant_status_t *st;

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_grant_sub_page(v2_ent(w, DA, 10, &st), DB, 20, 0x8100, 256, false), 0);
	tw_fill(w, DA, 20, 0x44);
	/* A read: the window starts at 0x100 (bit 15 dropped). */
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0x100), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0xff), tw_gfn(SELF, 30, 0), 8),
	     GNTDP_GNTST_GENERAL_ERROR);
	/* Source and destination the same ref: the writable pin upgrades the read pin. */
	op = tw_copy_op(tw_ref(DA, 10, 0x100), tw_ref(DA, 10, 0x180), 8);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_GENERAL_ERROR);
	T_TRUE(tw_has_pat(w, DA, 20, 0x180, 8, 0x44, 0x180));
	T_EQ(*st, 0);
	/* Without bit 15 the same upgrade is fine. */
	T_EQ(gntdp_guest_end_access_v2(v2_ent(w, DA, 10, NULL), st), 0);
	T_EQ(gntdp_guest_grant_sub_page(v2_ent(w, DA, 10, NULL), DB, 20, 0x100, 256, false), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0x100), tw_ref(DA, 10, 0x180), 8);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_EQ(*st, 0);
	return TC_PASS;
}

/* ---- transitive grants (XSA-226) ----------------------------------------------------- */

/*
 * C (origin) grants its gfn 40 to A (intermediate) at ref 20; A grants B a
 * transitive entry (ref 10) naming (C, 20).
 */
static struct tw *
trans_world(bool sub_page)
{
	struct tw *w = v2_world();

	if (w == NULL)
		return NULL;
	if (sub_page)
		gntdp_guest_grant_sub_page(v2_ent(w, DC, 20, NULL), DA, 40, 1000, 500, false);
	else
		gntdp_guest_grant_access_v2(v2_ent(w, DC, 20, NULL), DA, 40, false);
	gntdp_guest_grant_transitive(v2_ent(w, DA, 10, NULL), DB, DC, 20, false);
	tw_fill(w, DC, 40, 0x44);
	return w;
}

static int
test_transitive_copy_reaches_origin(void)
{
	struct tw *w = trans_world(false);

	T_TRUE(w != NULL);
	tw_memset(w, DB, 30, 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 8), tw_gfn(SELF, 30, 0), 100), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 100, 0x44, 8));
	/* And writing through it. */
	tw_fill(w, DB, 31, 0x55);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 31, 0), tw_ref(DA, 10, 0), 64), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DC, 40, 0, 64, 0x55, 0));
	/* Both pins released: no status anywhere, nothing pinned. */
	T_EQ(v2_status(w, DA, 10), 0);
	T_EQ(v2_status(w, DC, 20), 0);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_EQ(tw_info(w, DC).pinned_entries, 0);
	/* Copy only: never mappable. */
	T_ST(tw_map(w, DB, DA, 10, HOST, 1000, NULL, NULL), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(v2_status(w, DA, 10), 0);
	return TC_PASS;
}

static int
test_transitive_pins_held_and_released(void)
{
	struct tw *w = trans_world(false);
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 8};
	struct gntdp_gnttab_ctx *ctx;
	struct gntdp_gnttab_copy op;

	T_TRUE(w != NULL);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16);
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	/* The transitive granter's pin is taken as A: C's entry reads busy. */
	T_EQ(v2_status(w, DA, 10), RD);
	T_EQ(v2_status(w, DC, 20), RD);
	T_EQ(tw_info(w, DC).pinned_entries, 1);
	/* C cannot end access while the chain is pinned. */
	{
		gntdp_grant_status_t *st;
		union gntdp_grant_entry_v2 *c20 = v2_ent(w, DC, 20, &st);

		T_EQ(gntdp_guest_end_access_v2(c20, st), -EBUSY);
		T_EQ(gntdp_guest_grant_access_v2(c20, DA, 40, false), 0); /* grant it again */
	}
	/* C's entry is pinned by A: B cannot use it directly (wrong grantee). */
	T_ST(tw_copy(w, DB, tw_ref(DC, 20, 0), tw_gfn(SELF, 30, 0), 16),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(gntdp_gnttab_ctx_expire(ctx, UINT64_MAX), 2);
	T_EQ(v2_status(w, DA, 10), 0);
	T_EQ(v2_status(w, DC, 20), 0);
	T_EQ(tw_info(w, DC).pinned_entries, 0);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	gntdp_gnttab_ctx_destroy(ctx);
	return TC_PASS;
}

/* Xen: a pin taken through a transitive entry is on a page the intermediate does not own. */
static int
test_transitive_pin_after_entry_change_bad_domain(void)
{
	struct tw *w = trans_world(false);
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 8};
	struct gntdp_gnttab_ctx *ctx, *ctx2;
	struct gntdp_gnttab_copy op;

	T_TRUE(w != NULL);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx), 0);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &ctx2), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16);
	T_EQ(gntdp_gnttab_op(ctx, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	/* A revokes its entry (it stays pinned); a new read through it: bad_domain. */
	T_EQ(gntdp_guest_end_access_v2(v2_ent(w, DA, 10, NULL), &(gntdp_grant_status_t){0}), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16);
	T_EQ(gntdp_gnttab_op(ctx2, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_BAD_DOMAIN);
	/* A write (upgrade) re-reads the entry: general_error. */
	op = tw_copy_op(tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 16);
	T_EQ(gntdp_gnttab_op(ctx2, DB, GNTDP_GNTTABOP_COPY, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(gntdp_gnttab_ctx_expire(ctx2, UINT64_MAX), 1); /* the frame hold only */
	T_EQ(gntdp_gnttab_ctx_expire(ctx, UINT64_MAX), 2);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_EQ(tw_info(w, DC).pinned_entries, 0);
	T_EQ(v2_status(w, DC, 20), 0);
	gntdp_gnttab_ctx_destroy(ctx);
	gntdp_gnttab_ctx_destroy(ctx2);
	return TC_PASS;
}

static int
test_transitive_sub_page_window_applies(void)
{
	struct tw *w = trans_world(true);

	T_TRUE(w != NULL);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 1000), tw_gfn(SELF, 30, 0), 500), GNTDP_GNTST_OKAY);
	T_TRUE(tw_has_pat(w, DB, 30, 0, 500, 0x44, 1000));
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 999), tw_gfn(SELF, 30, 0), 2),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 1400), tw_gfn(SELF, 30, 0), 101),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_info(w, DC).pinned_entries, 0);
	return TC_PASS;
}

static int
test_xsa226_transitive_failures(void)
{
	struct tw *w = trans_world(false);
	union gntdp_grant_entry_v2 *a10;

	T_TRUE(w != NULL);
	a10 = v2_ent(w, DA, 10, NULL);
	/* Two levels: C's entry is itself transitive -> general_error. */
	v2_ent(w, DC, 20, NULL)->hdr.flags = 0;
	T_EQ(gntdp_guest_grant_transitive(v2_ent(w, DC, 20, NULL), DA, D0, 5, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(v2_status(w, DA, 10), 0);
	T_EQ(v2_status(w, DC, 20), 0);
	/* A loop A -> C -> A. */
	v2_ent(w, DC, 20, NULL)->hdr.flags = 0;
	T_EQ(gntdp_guest_grant_transitive(v2_ent(w, DC, 20, NULL), DA, DA, 10, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16),
	     GNTDP_GNTST_GENERAL_ERROR);
	/* Self-referential. */
	a10->hdr.flags = 0;
	T_EQ(gntdp_guest_grant_transitive(a10, DB, DA, 11, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16),
	     GNTDP_GNTST_GENERAL_ERROR);
	/* No such domain. */
	a10->hdr.flags = 0;
	T_EQ(gntdp_guest_grant_transitive(a10, DB, DNONE, 20, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16),
	     GNTDP_GNTST_GENERAL_ERROR);
	/* The origin's entry not granted to the intermediate. */
	a10->hdr.flags = 0;
	T_EQ(gntdp_guest_grant_transitive(a10, DB, DC, 21, false), 0);
	T_EQ(gntdp_guest_grant_access_v2(v2_ent(w, DC, 21, NULL), DB, 40, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16),
	     GNTDP_GNTST_GENERAL_ERROR);
	/* Out of range in the origin. */
	a10->hdr.flags = 0;
	T_EQ(gntdp_guest_grant_transitive(a10, DB, DC, 300, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16), GNTDP_GNTST_BAD_GNTREF);
	/* Read-only transitive entry as destination. */
	a10->hdr.flags = 0;
	T_EQ(gntdp_guest_grant_access_v2(v2_ent(w, DC, 22, NULL), DA, 40, false), 0);
	T_EQ(gntdp_guest_grant_transitive(a10, DB, DC, 22, true), 0);
	T_ST(tw_copy(w, DB, tw_gfn(SELF, 30, 0), tw_ref(DA, 10, 0), 16),
	     GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_copy(w, DB, tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 16), GNTDP_GNTST_OKAY);
	T_EQ(tw_info(w, DA).pinned_entries, 0);
	T_EQ(tw_info(w, DC).pinned_entries, 0);
	for (gntdp_grant_ref_t r = 0; r < 256; r++) {
		T_EQ(v2_status(w, DA, r), 0);
		T_EQ(v2_status(w, DC, r), 0);
	}
	return TC_PASS;
}

static int
test_transfer_on_v2_table(void)
{
	struct tw *w = v2_world();
	union gntdp_grant_entry_v2 *e;
	uint8_t *page;

	T_TRUE(w != NULL);
	e = v2_ent(w, DA, 10, NULL);
	e->hdr.domid = DB;
	e->full_page.frame = 5000; /* an empty gfn of A */
	__atomic_store_n(&e->hdr.flags, (uint16_t)GNTDP_GTF_ACCEPT_TRANSFER, __ATOMIC_RELEASE);
	tw_fill(w, DB, 7, 0x66);
	page = tw_frame(w, DB, 7);
	T_ST(tw_transfer(w, DB, 7, DA, 10), GNTDP_GNTST_OKAY);
	T_EQ(e->hdr.flags, GNTDP_GTF_ACCEPT_TRANSFER | GNTDP_GTF_TRANSFER_COMMITTED |
				   GNTDP_GTF_TRANSFER_COMPLETED);
	T_EQ(e->full_page.frame, 5000);
	T_PTR(tw_frame(w, DA, 5000), page);
	T_TRUE(tw_has_pat(w, DA, 5000, 0, 4096, 0x66, 0));
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_get_version),
	TC(test_set_version_bad_values),
	TC(test_set_version_switch_and_layout),
	TC(test_set_version_busy_and_reserved_entries),
	TC(test_set_version_v2_to_v1_erange_eagain),
	TC(test_xsa26_version_flips_leak_nothing),
	TC(test_get_status_frames),
	TC(test_swap_grant_ref),
	TC(test_swap_v2_moves_status),
	TC(test_unmap_and_replace),
	TC(test_cache_flush_arguments),
	TC(test_cache_flush_foreign_frames),
	TC(test_v2_full_page_map_and_copy),
	TC(test_v2_copy_statuses),
	TC(test_v2_sub_page_window),
	TC(test_v2_sub_page_pin_blocks_map),
	TC(test_v2_upgrade_checks_window),
	TC(test_v2_upgrade_compares_16bit_page_off),
	TC(test_transitive_copy_reaches_origin),
	TC(test_transitive_pins_held_and_released),
	TC(test_transitive_pin_after_entry_change_bad_domain),
	TC(test_transitive_sub_page_window_applies),
	TC(test_xsa226_transitive_failures),
	TC(test_transfer_on_v2_table),
};

TC_MAIN(cases)
