/* SPDX-License-Identifier: MIT */
/*
 * What the demo's domains do: the frontend grants, the backend copies, maps
 * and unmaps, and the table-management ops. Each op's status is printed and
 * compared with the status Xen gives for it; every byte moved is verified.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

unsigned int nb_failed;

void
fail(const char *what)
{
	printf("FAIL: %s\n", what);
	nb_failed++;
}

/* Print one op's status and compare it with what Xen's rules give. */
static void
expect_status(const char *op, unsigned int i, const char *what, int16_t got, int16_t want)
{
	printf("  %-15s[%2u] %-40s %s", op, i, what, gntdp_gntst_name(got));
	if (got != want) {
		printf("  <-- expected %s", gntdp_gntst_name(want));
		nb_failed++;
	}
	printf("\n");
}

static uint8_t
pattern(unsigned int seed, size_t i)
{
	return (uint8_t)(seed * 37u + i * 7u + (i >> 8));
}

static uint8_t *
frame(struct gntdp_gnttab *gt, gntdp_domid_t dom, uint64_t gfn)
{
	uint8_t *p = gntdp_domain_frame(gt, dom, gfn);

	if (p == NULL) {
		fprintf(stderr, "gntdp-demo: no frame at gfn %" PRIu64 " of domain %u\n", gfn,
			(unsigned int)dom);
		exit(EXIT_FAILURE);
	}
	return p;
}

/* p[0..n) holds the pattern of @seed from byte @from on. */
static bool
holds_pattern(const uint8_t *p, unsigned int seed, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(seed, from + i))
			return false;
	return true;
}

static bool
is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void
fill(uint8_t *p, unsigned int seed)
{
	for (size_t i = 0; i < PAGE; i++)
		p[i] = pattern(seed, i);
}

static void
call(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd, void *ops,
     unsigned int n)
{
	int rc = gntdp_gnttab_op(ctx, caller, cmd, ops, n);

	if (rc != 0) {
		fprintf(stderr, "gntdp-demo: GNTTABOP %u by domain %u: %s\n", cmd,
			(unsigned int)caller, strerror(-rc));
		nb_failed++;
	}
}

/* Frontend side: grant frames FRONT_GFN0.. to the backend, writable, and fill them. */
struct gntdp_grant_entry_v1 *
grant_frames(struct gntdp_gnttab *gt, unsigned int n)
{
	struct gntdp_grant_entry_v1 *table;
	uint32_t nr_entries;

	if (gntdp_guest_table(gt, DOM_FRONT, &table, &nr_entries) != 0 ||
	    nr_entries < FIRST_REF + n) {
		fail("frontend grant table");
		return NULL;
	}
	for (unsigned int i = 0; i < n; i++) {
		fill(frame(gt, DOM_FRONT, FRONT_GFN0 + i), i);
		if (gntdp_guest_grant_access(&table[FIRST_REF + i], DOM_BACK, FRONT_GFN0 + i,
					     false) != 0)
			fail("gntdp_guest_grant_access");
	}
	printf("frontend: granted refs %u..%u (gfns %u..%u) to domain %u\n", FIRST_REF,
	       FIRST_REF + n - 1, FRONT_GFN0, FRONT_GFN0 + n - 1, DOM_BACK);
	return table;
}

static void
copy_ptr(struct gntdp_gnttab_copy_ptr *p, uint64_t ref_or_gfn, gntdp_domid_t dom, uint16_t off)
{
	if (dom == GNTDP_DOMID_SELF)
		p->u.gmfn = ref_or_gfn;
	else
		p->u.ref = (gntdp_grant_ref_t)ref_or_gfn;
	p->domid = dom;
	p->offset = off;
}

/* Backend: gref->frame and frame->gref copies, plus three ops that must fail. */
void
run_copies(struct gntdp_gnttab *gt, struct gntdp_gnttab_ctx *ctx, unsigned int n)
{
	struct gntdp_gnttab_copy ops[2 * MAX_GRANTS + 3];
	int16_t want[2 * MAX_GRANTS + 3];
	unsigned int k = 0;

	memset(ops, 0, sizeof(ops));
	for (unsigned int i = 0; i < n; i++, k++) {
		/* Read 1000+i bytes at offset 40*i of the grant into the backend's frame. */
		copy_ptr(&ops[k].source, FIRST_REF + i, DOM_FRONT, (uint16_t)(40 * i));
		copy_ptr(&ops[k].dest, BACK_GFN0 + i, GNTDP_DOMID_SELF, (uint16_t)(20 * i));
		ops[k].len = (uint16_t)(1000 + i);
		ops[k].flags = GNTDP_GNTCOPY_SOURCE_GREF;
		want[k] = GNTDP_GNTST_OKAY;
	}
	for (unsigned int i = 0; i < n; i++, k++) {
		/* Write the upper half of each granted frame from a backend frame. */
		fill(frame(gt, DOM_BACK, BACK_GFN0 + MAX_GRANTS + i), 100 + i);
		copy_ptr(&ops[k].source, BACK_GFN0 + MAX_GRANTS + i, GNTDP_DOMID_SELF, 0);
		copy_ptr(&ops[k].dest, FIRST_REF + i, DOM_FRONT, PAGE / 2);
		ops[k].len = PAGE / 2;
		ops[k].flags = GNTDP_GNTCOPY_DEST_GREF;
		want[k] = GNTDP_GNTST_OKAY;
	}
	/* Crosses the end of the source frame. */
	copy_ptr(&ops[k].source, FIRST_REF, DOM_FRONT, PAGE - 100);
	copy_ptr(&ops[k].dest, BACK_GFN0, GNTDP_DOMID_SELF, 0);
	ops[k].len = 200;
	ops[k].flags = GNTDP_GNTCOPY_SOURCE_GREF;
	want[k++] = GNTDP_GNTST_BAD_COPY_ARG;
	/* A ref beyond the frontend's table. */
	copy_ptr(&ops[k].source, 1u << 20, DOM_FRONT, 0);
	copy_ptr(&ops[k].dest, BACK_GFN0, GNTDP_DOMID_SELF, 0);
	ops[k].len = 64;
	ops[k].flags = GNTDP_GNTCOPY_SOURCE_GREF;
	want[k++] = GNTDP_GNTST_BAD_GNTREF;
	/* Frame mode names another domain's gfn: only DOMID_SELF frames may be used. */
	copy_ptr(&ops[k].source, FRONT_GFN0, DOM_FRONT, 0);
	copy_ptr(&ops[k].dest, BACK_GFN0, GNTDP_DOMID_SELF, 0);
	ops[k].len = 64;
	want[k++] = GNTDP_GNTST_PERMISSION_DENIED;

	printf("backend: GNTTABOP_copy x%u\n", k);
	for (unsigned int i = 0; i < k; i++)
		ops[i].status = 1; /* as Linux does: catch ops never processed */
	call(ctx, DOM_BACK, GNTDP_GNTTABOP_COPY, ops, k);
	for (unsigned int i = 0; i < k; i++) {
		char what[64];

		snprintf(what, sizeof(what), "%s len %u",
			 i < n       ? "gref->frame"
			 : i < 2 * n ? "frame->gref"
				     : "(must fail)",
			 (unsigned int)ops[i].len);
		expect_status("copy", i, what, ops[i].status, want[i]);
	}

	/*
	 * The bytes. Ops run in array order, so each gref->frame op read the
	 * grant before the frame->gref ops rewrote its upper half.
	 */
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *front = frame(gt, DOM_FRONT, FRONT_GFN0 + i);
		const uint8_t *back = frame(gt, DOM_BACK, BACK_GFN0 + i);
		const uint8_t *back_src = frame(gt, DOM_BACK, BACK_GFN0 + MAX_GRANTS + i);
		size_t at = 20 * i, len = 1000 + i;

		if (!holds_pattern(back + at, i, 40 * i, len))
			fail("gref->frame: copied bytes differ");
		if (!is_zero(back, at) || !is_zero(back + at + len, PAGE - at - len))
			fail("gref->frame: bytes outside the copy changed");
		if (!holds_pattern(front, i, 0, PAGE / 2))
			fail("frame->gref: bytes below the copy changed");
		if (memcmp(front + PAGE / 2, back_src, PAGE / 2) != 0)
			fail("frame->gref: copied bytes differ");
	}
}

/* Backend: host-map every grant above its RAM, use the mappings, unmap them. */
void
run_maps(struct gntdp_gnttab *gt, struct gntdp_gnttab_ctx *ctx, struct gntdp_grant_entry_v1 *table,
	 unsigned int n)
{
	struct gntdp_gnttab_map_grant_ref map[MAX_GRANTS + 1];
	struct gntdp_gnttab_unmap_grant_ref unmap[MAX_GRANTS + 1];

	memset(map, 0, sizeof(map));
	memset(unmap, 0, sizeof(unmap));
	for (unsigned int i = 0; i <= n; i++) {
		map[i].host_addr = (uint64_t)(MAP_GFN0 + i) << GNTDP_PAGE_SHIFT;
		map[i].flags = GNTDP_GNTMAP_HOST_MAP | (i % 2 ? GNTDP_GNTMAP_READONLY : 0);
		map[i].ref = FIRST_REF + i;
		map[i].dom = DOM_FRONT;
		map[i].status = 1;
	}
	/* Last op: map_grant_ref does not translate DOMID_SELF (Xen's rule). */
	map[n].ref = FIRST_REF;
	map[n].dom = GNTDP_DOMID_SELF;

	printf("backend: GNTTABOP_map_grant_ref x%u\n", n + 1);
	call(ctx, DOM_BACK, GNTDP_GNTTABOP_MAP_GRANT_REF, map, n + 1);
	for (unsigned int i = 0; i <= n; i++)
		expect_status("map_grant_ref", i,
			      i == n  ? "dom DOMID_SELF (must fail)"
			      : i % 2 ? "host_map|readonly"
				      : "host_map",
			      map[i].status, i == n ? GNTDP_GNTST_BAD_DOMAIN : GNTDP_GNTST_OKAY);

	for (unsigned int i = 0; i < n; i++) {
		uint8_t *front = frame(gt, DOM_FRONT, FRONT_GFN0 + i);
		uint8_t *mapped;
		uint16_t want = GNTDP_GTF_READING | (i % 2 ? 0 : GNTDP_GTF_WRITING);

		if (map[i].status != GNTDP_GNTST_OKAY)
			continue;
		mapped = frame(gt, DOM_BACK, MAP_GFN0 + i);
		if (memcmp(mapped, front, PAGE) != 0)
			fail("mapped frame differs from the granted one");
		if (i % 2 == 0) {
			/* Writable: the same memory, not a copy. */
			mapped[7] ^= 0xff;
			if (front[7] != mapped[7])
				fail("write through a writable mapping not seen by the granter");
			mapped[7] ^= 0xff;
		}
		if ((table[FIRST_REF + i].flags & (GNTDP_GTF_READING | GNTDP_GTF_WRITING)) != want)
			fail("GTF_reading/GTF_writing while mapped");
		if (map[i].dev_bus_addr != (uint64_t)(uintptr_t)front)
			fail("dev_bus_addr is not the frame's IOVA (heap provider: IOVA = VA)");
		unmap[i].host_addr = map[i].host_addr;
		unmap[i].handle = map[i].handle;
		unmap[i].status = 1;
	}
	/* Last op: a handle never issued. */
	unmap[n].host_addr = (uint64_t)MAP_GFN0 << GNTDP_PAGE_SHIFT;
	unmap[n].handle = 0xfffffu;

	printf("backend: GNTTABOP_unmap_grant_ref x%u\n", n + 1);
	call(ctx, DOM_BACK, GNTDP_GNTTABOP_UNMAP_GRANT_REF, unmap, n + 1);
	for (unsigned int i = 0; i <= n; i++)
		expect_status("unmap_grant_ref", i,
			      i == n ? "unknown handle (must fail)" : "host_addr", unmap[i].status,
			      i == n ? GNTDP_GNTST_BAD_HANDLE : GNTDP_GNTST_OKAY);
	for (unsigned int i = 0; i < n; i++) {
		if (table[FIRST_REF + i].flags != GNTDP_GTF_PERMIT_ACCESS)
			fail("GTF_reading/GTF_writing left set after unmap");
		if (gntdp_domain_frame(gt, DOM_BACK, MAP_GFN0 + i) != NULL)
			fail("gfn still mapped after unmap");
	}
}

static void
query(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, gntdp_domid_t dom, int16_t want,
      uint32_t want_frames)
{
	struct gntdp_gnttab_query_size q = {.dom = dom, .status = 1};
	char what[64];

	call(ctx, caller, GNTDP_GNTTABOP_QUERY_SIZE, &q, 1);
	snprintf(what, sizeof(what), "by dom %u on dom %#x: %u of %u frames", (unsigned int)caller,
		 (unsigned int)dom, q.nr_frames, q.max_nr_frames);
	expect_status("query_size", 0, what, q.status, want);
	if (want == GNTDP_GNTST_OKAY && q.nr_frames != want_frames)
		fail("query_size nr_frames");
}

/* Table management: query_size, setup_table (grows the table), dump_table. */
void
run_table_ops(struct gntdp_gnttab *gt, struct gntdp_gnttab_ctx *ctx)
{
	gntdp_xen_pfn_t gfns[2] = {0, 0};
	struct gntdp_gnttab_setup_table st = {
		.dom = GNTDP_DOMID_SELF, .nr_frames = 2, .status = 1, .frame_list = gfns};
	struct gntdp_gnttab_dump_table dt = {.dom = DOM_FRONT, .status = 1};
	struct gntdp_grant_entry_v1 *table;
	uint32_t nr_entries = 0;

	printf("table ops\n");
	query(ctx, DOM_BACK, GNTDP_DOMID_SELF, GNTDP_GNTST_OKAY, 1);
	/* An unprivileged domain may not look at another domain's table. */
	query(ctx, DOM_BACK, DOM_FRONT, GNTDP_GNTST_PERMISSION_DENIED, 0);

	call(ctx, DOM_FRONT, GNTDP_GNTTABOP_SETUP_TABLE, &st, 1);
	expect_status("setup_table", 0, "frontend, DOMID_SELF, 2 frames", st.status,
		      GNTDP_GNTST_OKAY);
	printf("  frontend grant frames at gfns %#" PRIx64 " %#" PRIx64 "\n", gfns[0], gfns[1]);
	if (gntdp_guest_table(gt, DOM_FRONT, &table, &nr_entries) != 0 ||
	    nr_entries != 2 * GNTDP_GRANT_ENTRIES_PER_FRAME_V1)
		fail("frontend table did not grow to 2 frames");
	query(ctx, DOM_CTRL, DOM_FRONT, GNTDP_GNTST_OKAY, 2);

	printf("  dump_table of domain %u by domain %u (to stderr):\n", DOM_FRONT, DOM_CTRL);
	fflush(stdout);
	call(ctx, DOM_CTRL, GNTDP_GNTTABOP_DUMP_TABLE, &dt, 1);
	expect_status("dump_table", 0, "by the control domain", dt.status, GNTDP_GNTST_OKAY);
}
