/* SPDX-License-Identifier: MIT */
/*
 * Table-management ops and the batch entry point: setup_table (spec §7.1),
 * query_size (§7.2), dump_table (gntdp extension of §7.3: implemented and
 * written to the log callback), whole-call errors (§4.1, §4.2, §12 items
 * 18-19 and the gntdp header), status names and per-context counters.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "tcommon.h"

#define SELF GNTDP_DOMID_SELF
#define PA GNTDP_GTF_PERMIT_ACCESS

/* ---- setup_table ---------------------------------------------------------------- */

static int
test_setup_grows_and_writes_frame_list(void)
{
	struct tw *w = tw_std();
	gntdp_xen_pfn_t fl[8];
	struct gntdp_grant_entry_v1 *e0, *e1;
	uint32_t n;

	T_TRUE(w != NULL);
	T_EQ(gntdp_guest_table(w->gt, DA, &e0, &n), 0);
	T_EQ(n, 512);
	for (int i = 0; i < 8; i++)
		fl[i] = 0xa5a5a5a5a5a5a5a5ULL;
	T_ST(tw_setup(w, DA, DA, 4, fl), GNTDP_GNTST_OKAY);
	for (int i = 0; i < 4; i++) {
		T_NE(fl[i], 0xa5a5a5a5a5a5a5a5ULL);
		for (int j = 0; j < i; j++)
			T_NE(fl[i], fl[j]);
	}
	for (int i = 4; i < 8; i++)
		T_U64(fl[i], 0xa5a5a5a5a5a5a5a5ULL);
	T_EQ(gntdp_guest_table(w->gt, DA, &e1, &n), 0);
	T_EQ(n, 4 * 512);
	/* The entry array never moves. */
	T_PTR(e1, e0);
	T_EQ(tw_info(w, DA).nr_grant_frames, 4);
	/* New entries are usable at once and start invalid. */
	T_EQ(tw_flags(w, DA, 2047), 0);
	T_EQ(tw_grant(w, DA, 2047, DB, 3, false), 0);
	T_ST(tw_copy(w, DB, tw_ref(DA, 2047, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_OKAY);
	return TC_PASS;
}

static int
test_setup_never_shrinks(void)
{
	struct tw *w = tw_std();
	gntdp_xen_pfn_t fl[4], fl2[2];
	uint32_t nr;

	T_TRUE(w != NULL);
	T_ST(tw_setup(w, DA, DA, 4, fl), GNTDP_GNTST_OKAY);
	T_ST(tw_setup(w, DA, DA, 2, fl2), GNTDP_GNTST_OKAY);
	/* The first frames are the same frames as before. */
	T_U64(fl2[0], fl[0]);
	T_U64(fl2[1], fl[1]);
	T_ST(tw_query(w, DA, SELF, &nr, NULL), GNTDP_GNTST_OKAY);
	T_EQ(nr, 4);
	T_EQ(tw_nr_entries(w, DA), 2048);
	T_ST(tw_setup(w, DA, DA, 1, fl2), GNTDP_GNTST_OKAY);
	T_EQ(tw_nr_entries(w, DA), 2048);
	return TC_PASS;
}

static int
test_setup_zero_frames(void)
{
	struct tw *w = tw_std();

	T_TRUE(w != NULL);
	T_ST(tw_setup(w, DA, DA, 0, NULL), GNTDP_GNTST_OKAY);
	T_EQ(tw_nr_entries(w, DA), 512);
	return TC_PASS;
}

static int
test_setup_above_max_general_error(void)
{
	struct tw *w = tw_create(NULL);
	struct gntdp_domain_conf c = tw_dom_conf(DA);
	gntdp_xen_pfn_t fl[9];
	uint32_t nr, max;

	T_TRUE(w != NULL);
	c.max_grant_frames = 8;
	T_EQ(tw_add_conf(w, &c), 0);
	fl[0] = 0x77;
	T_ST(tw_setup(w, DA, SELF, 9, fl), GNTDP_GNTST_GENERAL_ERROR);
	T_ST(tw_setup(w, DA, SELF, 0xffffffff, fl), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_nr_entries(w, DA), 512);
	T_ST(tw_query(w, DA, SELF, &nr, &max), GNTDP_GNTST_OKAY);
	T_EQ(nr, 1);
	T_EQ(max, 8);
	T_ST(tw_setup(w, DA, SELF, 8, fl), GNTDP_GNTST_OKAY);
	T_EQ(tw_nr_entries(w, DA), 8 * 512);
	T_ST(tw_setup(w, DA, SELF, 9, fl), GNTDP_GNTST_GENERAL_ERROR);
	return TC_PASS;
}

static int
test_setup_domid_self_and_status_only(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_setup_table op;
	gntdp_xen_pfn_t fl[2];

	T_TRUE(w != NULL);
	memset(&op, 0, sizeof(op));
	op.dom = SELF;
	op.nr_frames = 2;
	op.frame_list = fl;
	op.status = TW_UNSET;
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_SETUP_TABLE, &op, 1), 0);
	T_ST(op.status, GNTDP_GNTST_OKAY);
	T_EQ(op.dom, SELF);
	T_EQ(op.nr_frames, 2);
	T_PTR(op.frame_list, fl);
	T_EQ(tw_nr_entries(w, DB), 1024);
	T_EQ(tw_nr_entries(w, DA), 512);
	return TC_PASS;
}

static int
test_setup_other_domain_needs_privilege(void)
{
	struct tw *w = tw_std();
	gntdp_xen_pfn_t fl[3];

	T_TRUE(w != NULL);
	T_ST(tw_setup(w, DB, DA, 3, fl), GNTDP_GNTST_PERMISSION_DENIED);
	T_EQ(tw_nr_entries(w, DA), 512);
	/* An unprivileged caller naming itself numerically is "self". */
	T_ST(tw_setup(w, DB, DB, 2, fl), GNTDP_GNTST_OKAY);
	T_ST(tw_setup(w, D0, DA, 3, fl), GNTDP_GNTST_OKAY);
	T_EQ(tw_nr_entries(w, DA), 3 * 512);
	return TC_PASS;
}

static int
test_setup_unknown_domain_bad_domain(void)
{
	struct tw *w = tw_std();
	gntdp_xen_pfn_t fl[1];

	T_TRUE(w != NULL);
	T_ST(tw_setup(w, DB, DNONE, 1, fl), GNTDP_GNTST_BAD_DOMAIN);
	T_ST(tw_setup(w, D0, DNONE, 1, fl), GNTDP_GNTST_BAD_DOMAIN);
	T_ST(tw_setup(w, D0, GNTDP_DOMID_IO, 1, fl), GNTDP_GNTST_BAD_DOMAIN);
	return TC_PASS;
}

static int
test_setup_whole_call_errors(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_setup_table op[2];
	gntdp_xen_pfn_t fl[2];

	T_TRUE(w != NULL);
	memset(op, 0, sizeof(op));
	op[0].dom = SELF;
	op[0].nr_frames = 2;
	op[0].frame_list = fl;
	op[0].status = TW_UNSET;
	op[1] = op[0];
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SETUP_TABLE, op, 2), -EINVAL);
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SETUP_TABLE, op, 0), -EINVAL);
	T_ST(op[0].status, TW_UNSET);
	T_EQ(tw_nr_entries(w, DA), 512);
	/* A NULL struct faults before anything is read. */
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SETUP_TABLE, NULL, 1), -EFAULT);
	T_EQ(tw_nr_entries(w, DA), 512);
	/* A NULL frame list faults only when written (translated caller): the
	 * table has grown, the status says bad_virt_addr, rc 0. */
	op[0].frame_list = NULL;
	T_EQ(tw_op(w, DA, GNTDP_GNTTABOP_SETUP_TABLE, op, 1), 0);
	T_ST(op[0].status, GNTDP_GNTST_BAD_VIRT_ADDR);
	T_EQ(tw_nr_entries(w, DA), 1024);
	return TC_PASS;
}

static int
test_refs_beyond_size_until_grown(void)
{
	struct tw *w = tw_std();
	gntdp_xen_pfn_t fl[2];
	uint32_t h;

	T_TRUE(w != NULL);
	T_PTR(tw_ent(w, DA, 512), NULL);
	T_ST(tw_map(w, DB, DA, 512, GNTDP_GNTMAP_DEVICE_MAP, 0, NULL, NULL),
	     GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_copy(w, DB, tw_ref(DA, 512, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_setup(w, DA, SELF, 2, fl), GNTDP_GNTST_OKAY);
	T_EQ(tw_grant(w, DA, 512, DB, 4, false), 0);
	T_EQ(tw_grant(w, DA, 1023, DB, 5, false), 0);
	T_ST(tw_map(w, DB, DA, 512, GNTDP_GNTMAP_DEVICE_MAP, 0, &h, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_copy(w, DB, tw_ref(DA, 1023, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_OKAY);
	T_ST(tw_map(w, DB, DA, 1024, GNTDP_GNTMAP_DEVICE_MAP, 0, NULL, NULL),
	     GNTDP_GNTST_BAD_GNTREF);
	T_ST(tw_copy(w, DB, tw_ref(DA, 1024, 0), tw_gfn(SELF, 30, 0), 8), GNTDP_GNTST_BAD_GNTREF);
	return TC_PASS;
}

static int
test_growth_keeps_live_pins(void)
{
	struct tw *w = tw_std();
	gntdp_xen_pfn_t fl[4];
	uint32_t h;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 10, GNTDP_GNTMAP_HOST_MAP, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	T_ST(tw_setup(w, DA, SELF, 4, fl), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA | GNTDP_GTF_READING | GNTDP_GTF_WRITING);
	T_EQ(tw_info(w, DA).pinned_entries, 1);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), -EBUSY);
	T_ST(tw_unmap(w, DB, h, 1000ULL << GNTDP_PAGE_SHIFT, 0), GNTDP_GNTST_OKAY);
	T_EQ(tw_flags(w, DA, 10), PA);
	T_EQ(gntdp_guest_end_access(tw_ent(w, DA, 10)), 0);
	return TC_PASS;
}

static int
test_setup_with_max_one_frame(void)
{
	struct tw *w = tw_create(NULL);
	struct gntdp_domain_conf c = tw_dom_conf(DA);
	gntdp_xen_pfn_t fl[2];

	T_TRUE(w != NULL);
	c.max_grant_frames = 1;
	T_EQ(tw_add_conf(w, &c), 0);
	T_ST(tw_setup(w, DA, SELF, 1, fl), GNTDP_GNTST_OKAY);
	T_ST(tw_setup(w, DA, SELF, 2, fl), GNTDP_GNTST_GENERAL_ERROR);
	T_EQ(tw_nr_entries(w, DA), 512);
	return TC_PASS;
}

/* ---- query_size ------------------------------------------------------------------- */

static int
test_query_size_values(void)
{
	struct tw *w = tw_std();
	struct gntdp_domain_conf c = tw_dom_conf(9);
	gntdp_xen_pfn_t fl[3];
	uint32_t nr, max;

	T_TRUE(w != NULL);
	c.max_grant_frames = 16;
	T_EQ(tw_add_conf(w, &c), 0);
	T_ST(tw_query(w, DA, SELF, &nr, &max), GNTDP_GNTST_OKAY);
	T_EQ(nr, 1);
	T_EQ(max, GNTDP_DEFAULT_MAX_GRANT_FRAMES);
	T_ST(tw_query(w, 9, 9, &nr, &max), GNTDP_GNTST_OKAY);
	T_EQ(nr, 1);
	T_EQ(max, 16);
	T_ST(tw_setup(w, 9, SELF, 3, fl), GNTDP_GNTST_OKAY);
	T_ST(tw_query(w, 9, SELF, &nr, &max), GNTDP_GNTST_OKAY);
	T_EQ(nr, 3);
	T_EQ(max, 16);
	/* Privileged may query others. */
	T_ST(tw_query(w, D0, 9, &nr, &max), GNTDP_GNTST_OKAY);
	T_EQ(nr, 3);
	T_EQ(max, 16);
	return TC_PASS;
}

static int
test_query_size_errors(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_query_size q[2];

	T_TRUE(w != NULL);
	T_ST(tw_query(w, DB, DA, NULL, NULL), GNTDP_GNTST_PERMISSION_DENIED);
	T_ST(tw_query(w, DB, DNONE, NULL, NULL), GNTDP_GNTST_BAD_DOMAIN);
	T_ST(tw_query(w, D0, DNONE, NULL, NULL), GNTDP_GNTST_BAD_DOMAIN);
	memset(q, 0, sizeof(q));
	q[0].dom = SELF;
	q[0].status = TW_UNSET;
	q[1] = q[0];
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_QUERY_SIZE, q, 2), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_QUERY_SIZE, q, 0), -EINVAL);
	T_ST(q[0].status, TW_UNSET);
	T_EQ(q[0].nr_frames, 0);
	return TC_PASS;
}

/* ---- dump_table ------------------------------------------------------------------ */

static int
test_dump_table_access_rules(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_dump_table d[2];

	T_TRUE(w != NULL);
	tw_log_clear(w);
	T_ST(tw_dump(w, DB, SELF), GNTDP_GNTST_OKAY);
	T_TRUE(w->log_lines > 0);
	T_ST(tw_dump(w, DB, DB), GNTDP_GNTST_OKAY);
	tw_log_clear(w);
	T_ST(tw_dump(w, DB, DA), GNTDP_GNTST_PERMISSION_DENIED);
	T_ST(tw_dump(w, DB, DNONE), GNTDP_GNTST_BAD_DOMAIN);
	T_EQ(w->log_lines, 0);
	T_ST(tw_dump(w, D0, DA), GNTDP_GNTST_OKAY);
	T_TRUE(w->log_lines > 0);
	T_ST(tw_dump(w, D0, DNONE), GNTDP_GNTST_BAD_DOMAIN);
	memset(d, 0, sizeof(d));
	d[0].dom = SELF;
	d[0].status = TW_UNSET;
	d[1] = d[0];
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_DUMP_TABLE, d, 2), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_DUMP_TABLE, d, 0), -EINVAL);
	T_ST(d[0].status, TW_UNSET);
	return TC_PASS;
}

static int
test_dump_table_mentions_live_state(void)
{
	struct tw *w = tw_std();
	uint32_t h;
	unsigned int idle_lines;

	T_TRUE(w != NULL);
	tw_log_clear(w);
	T_ST(tw_dump(w, DA, SELF), GNTDP_GNTST_OKAY);
	idle_lines = w->log_lines;
	T_TRUE(idle_lines > 0);
	T_EQ(tw_grant(w, DA, 333, DB, 20, false), 0);
	T_ST(tw_map(w, DB, DA, 333, GNTDP_GNTMAP_HOST_MAP, 1000, &h, NULL), GNTDP_GNTST_OKAY);
	tw_log_clear(w);
	T_ST(tw_dump(w, DA, SELF), GNTDP_GNTST_OKAY);
	/* The live entry (ref 333, grantee 2, gfn 20) shows up, with its pin. */
	T_TRUE(w->log_lines > idle_lines);
	T_TRUE(strstr(w->log, "333") != NULL);
	T_TRUE(strstr(w->log, "pin") != NULL);
	/* The mapper's dump shows its maptrack use. */
	tw_log_clear(w);
	T_ST(tw_dump(w, DB, SELF), GNTDP_GNTST_OKAY);
	T_TRUE(strstr(w->log, "maptrack") != NULL);
	T_TRUE(strstr(w->log, "333") != NULL);
	return TC_PASS;
}

/* ---- whole-call errors -------------------------------------------------------------- */

static int
test_unknown_cmds_enosys(void)
{
	struct tw *w = tw_std();
	uint8_t buf[64];

	T_TRUE(w != NULL);
	/* 0-12 are all executed (test_conform covers 7-12); 13 and up are unknown. */
	for (unsigned int cmd = 13; cmd <= 20; cmd++) {
		memset(buf, 0x5a, sizeof(buf));
		T_EQ(tw_op(w, DA, cmd, buf, 1), -ENOSYS);
		for (size_t i = 0; i < sizeof(buf); i++)
			T_EQ(buf[i], 0x5a);
	}
	T_EQ(tw_op(w, DA, 100, buf, 1), -ENOSYS);
	T_EQ(tw_op(w, DA, 0xfff, buf, 1), -ENOSYS);
	return TC_PASS;
}

static int
test_cmd_high_bits_einval(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_copy op;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY | (1u << 12), &op, 1), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY | 0x80000000u, &op, 1), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_MAP_GRANT_REF | (5u << 12), &op, 1), -EINVAL);
	T_EQ(tw_op(w, DB, 13u | (1u << 20), &op, 1), -EINVAL);
	T_ST(op.status, TW_UNSET);
	return TC_PASS;
}

static int
test_count_and_ops_checks(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_copy op;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8);
	/* count > INT_MAX: nothing read, nothing done. */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, &op, (unsigned int)INT_MAX + 1u), -EINVAL);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, &op, UINT_MAX), -EINVAL);
	T_ST(op.status, TW_UNSET);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, NULL, 1), -EFAULT);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, NULL, 3), -EFAULT);
	/* count 0: success, nothing touched. */
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, NULL, 0), 0);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, &op, 0), 0);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_UNMAP_GRANT_REF, NULL, 0), 0);
	T_ST(op.status, TW_UNSET);
	return TC_PASS;
}

static int
test_unknown_caller_esrch(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_copy op;

	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DNONE, 20, false), 0);
	op = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 8);
	T_EQ(tw_op(w, DNONE, GNTDP_GNTTABOP_COPY, &op, 1), -ESRCH);
	T_EQ(tw_op(w, GNTDP_DOMID_SELF, GNTDP_GNTTABOP_COPY, &op, 1), -ESRCH);
	T_EQ(tw_op(w, 0xffff, GNTDP_GNTTABOP_COPY, &op, 1), -ESRCH);
	T_ST(op.status, TW_UNSET);
	T_ST(tw_query(w, DNONE, GNTDP_DOMID_SELF, NULL, NULL), TW_CALL_FAILED);
	T_EQ(w->last_rc, -ESRCH);
	return TC_PASS;
}

/* ---- status strings and counters ------------------------------------------------------ */

static int
test_status_strings(void)
{
	static const char *const msgs[] = GNTDP_GNTTABOP_ERROR_MSGS;

	for (int s = 0; s > -GNTDP_GNTST_COUNT; s--) {
		T_TRUE(strcmp(gntdp_gntst_str((int16_t)s), msgs[-s]) == 0);
		T_TRUE(strncmp(gntdp_gntst_name((int16_t)s), "GNTST_", 6) == 0);
	}
	T_TRUE(strcmp(gntdp_gntst_str(0), "okay") == 0);
	T_TRUE(strcmp(gntdp_gntst_str(-13), "out of space") == 0);
	T_TRUE(strcmp(gntdp_gntst_str(1), "unknown status") == 0);
	T_TRUE(strcmp(gntdp_gntst_str(-14), "unknown status") == 0);
	T_TRUE(strcmp(gntdp_gntst_str(INT16_MIN), "unknown status") == 0);
	T_TRUE(strcmp(gntdp_gntst_name(GNTDP_GNTST_OKAY), "GNTST_okay") == 0);
	T_TRUE(strcmp(gntdp_gntst_name(GNTDP_GNTST_BAD_DOMAIN), "GNTST_bad_domain") == 0);
	T_TRUE(strcmp(gntdp_gntst_name(GNTDP_GNTST_NO_SPACE), "GNTST_no_space") == 0);
	T_TRUE(strcmp(gntdp_gntst_name(2), "GNTST_?") == 0);
	T_TRUE(strcmp(gntdp_gntst_name(-14), "GNTST_?") == 0);
	return TC_PASS;
}

static int
test_ctx_stats_count_ops_and_statuses(void)
{
	struct tw *w = tw_std();
	struct gntdp_gnttab_ctx_stats a, b;
	struct gntdp_gnttab_copy ops[3];

	if (!TW_STATS)
		return tc_skip("counters compiled out (-Dstats=false)");
	T_TRUE(w != NULL);
	T_EQ(tw_grant(w, DA, 10, DB, 20, false), 0);
	gntdp_gnttab_ctx_stats(w->ctx, &a);
	ops[0] = tw_copy_op(tw_ref(DA, 10, 0), tw_gfn(SELF, 30, 0), 100);
	ops[1] = tw_copy_op(tw_ref(DA, 999, 0), tw_gfn(SELF, 30, 0), 100);
	ops[2] = tw_copy_op(tw_ref(DA, 998, 0), tw_gfn(SELF, 30, 0), 100);
	T_EQ(tw_op(w, DB, GNTDP_GNTTABOP_COPY, ops, 3), 0);
	T_ST(tw_query(w, DB, GNTDP_DOMID_SELF, NULL, NULL), GNTDP_GNTST_OKAY);
	gntdp_gnttab_ctx_stats(w->ctx, &b);
	T_EQ(b.calls - a.calls, 2);
	T_EQ(b.ops[GNTDP_GNTTABOP_COPY] - a.ops[GNTDP_GNTTABOP_COPY], 3);
	T_EQ(b.ops[GNTDP_GNTTABOP_QUERY_SIZE] - a.ops[GNTDP_GNTTABOP_QUERY_SIZE], 1);
	T_EQ(b.status[0] - a.status[0], 2);
	T_EQ(b.status[-GNTDP_GNTST_BAD_GNTREF] - a.status[-GNTDP_GNTST_BAD_GNTREF], 2);
	T_EQ(b.copy_bytes - a.copy_bytes, 100);
	return TC_PASS;
}

static int
test_ctx_create_limits(void)
{
	struct tw *w = tw_create_ex(NULL, 3);
	struct gntdp_gnttab_ctx *c1 = NULL, *c2 = NULL, *c3 = NULL;
	struct gntdp_gnttab_cache_conf cc;
	int rc;

	T_TRUE(w != NULL);
	/* The world already holds one context. */
	T_EQ(gntdp_gnttab_ctx_create(w->gt, NULL, &c1), 0);
	T_EQ(gntdp_gnttab_ctx_create(w->gt, NULL, &c2), 0);
	rc = gntdp_gnttab_ctx_create(w->gt, NULL, &c3);
	gntdp_gnttab_ctx_destroy(c2);
	c2 = NULL;
	if (rc == 0)
		gntdp_gnttab_ctx_destroy(c3);
	T_EQ(rc, -ENOSPC);
	rc = gntdp_gnttab_ctx_create(w->gt, NULL, &c2);
	gntdp_gnttab_ctx_destroy(c2);
	T_EQ(rc, 0);
	memset(&cc, 0, sizeof(cc));
	cc.persistent = true;
	for (unsigned int bad = 0; bad < 4; bad++) {
		static const unsigned int v[4] = {1, 3, 100, 8192};

		cc.nb_entries = v[bad];
		c3 = NULL;
		rc = gntdp_gnttab_ctx_create(w->gt, &cc, &c3);
		if (rc == 0)
			gntdp_gnttab_ctx_destroy(c3);
		T_EQ(rc, -EINVAL);
	}
	cc.nb_entries = 4096;
	T_EQ(gntdp_gnttab_ctx_create(w->gt, &cc, &c3), 0);
	gntdp_gnttab_ctx_destroy(c3);
	gntdp_gnttab_ctx_destroy(c1);
	gntdp_gnttab_ctx_destroy(NULL);
	return TC_PASS;
}

static int
test_conf_defaults(void)
{
	struct gntdp_gnttab_conf g;
	struct gntdp_domain_conf d;

	memset(&g, 0xff, sizeof(g));
	gntdp_gnttab_conf_init(&g);
	T_PTR(g.mem, &gntdp_mem_ops_heap);
	T_EQ(g.max_ctx, 64);
	memset(&d, 0xff, sizeof(d));
	gntdp_domain_conf_init(&d);
	T_EQ(d.domid, 0);
	T_EQ(d.privileged, false);
	T_EQ(d.nr_frames, 256);
	T_EQ(d.p2m_size, 0);
	T_EQ(d.max_grant_frames, GNTDP_DEFAULT_MAX_GRANT_FRAMES);
	T_EQ(d.max_maptrack_frames, GNTDP_DEFAULT_MAX_MAPTRACK_FRAMES);
	T_EQ(d.socket, -1);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_setup_grows_and_writes_frame_list),
	TC(test_setup_never_shrinks),
	TC(test_setup_zero_frames),
	TC(test_setup_above_max_general_error),
	TC(test_setup_domid_self_and_status_only),
	TC(test_setup_other_domain_needs_privilege),
	TC(test_setup_unknown_domain_bad_domain),
	TC(test_setup_whole_call_errors),
	TC(test_refs_beyond_size_until_grown),
	TC(test_growth_keeps_live_pins),
	TC(test_setup_with_max_one_frame),
	TC(test_query_size_values),
	TC(test_query_size_errors),
	TC(test_dump_table_access_rules),
	TC(test_dump_table_mentions_live_state),
	TC(test_unknown_cmds_enosys),
	TC(test_cmd_high_bits_einval),
	TC(test_count_and_ops_checks),
	TC(test_unknown_caller_esrch),
	TC(test_status_strings),
	TC(test_ctx_stats_count_ops_and_statuses),
	TC(test_ctx_create_limits),
	TC(test_conf_defaults),
};

TC_MAIN(cases)
