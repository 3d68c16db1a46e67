/* SPDX-License-Identifier: MIT */
/*
 * The hypercall path of the core alone, made to be counted: gntdp_hcall()
 * on an op array in the caller's RAM, as gntdpd's worker runs it, without
 * the rings. Meant for callgrind, which counts instructions where the
 * machine has no hardware counters (a VM) and is deaf to other processes:
 *
 *   valgrind --tool=callgrind --toggle-collect=gntdp_hcall_resume \
 *       hcall_icount copy|map ITERS
 *
 * then "Collected" / (ITERS * 32) is instructions per op (copy) or per
 * map+unmap pair (map). World: A (1) grants refs 8..71 to B (2), B calls.
 *   copy: 32 x 64 B gref->gref copies per call, A's refs 8..39 into A's
 *         refs 40..63 (B's persistent cache of 1024 entries, all hits after
 *         the first call), the array rewritten before each call as a client does;
 *   map:  32 host maps of A's refs 8..39 at B's gfns 300..331, then the 32 unmaps.
 * Every status is checked; exit 1 on any failure (the 'perf' suite runs it short).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gntdp/hcall.h>

#include "tcommon.h"

#define OPS 32u
#define GA(gfn) ((uint64_t)(gfn) << GNTDP_PAGE_SHIFT)

/* Write @n bytes at the start of B's frame @gfn (the arrays fit in one frame). */
static void
put(struct tw *w, uint64_t gfn, const void *p, size_t n)
{
	memcpy(tw_frame(w, DB, gfn), p, n);
}

static int
run_copy(struct tw *w, struct gntdp_gnttab_ctx *ctx, unsigned int iters)
{
	struct gntdp_gnttab_copy ops[OPS], back[OPS];

	for (unsigned int i = 0; i < OPS; i++)
		ops[i] = tw_copy_op(tw_ref(DA, 8 + i, (uint16_t)(i * 64)),
				    tw_ref(DA, 40 + i % 24, (uint16_t)(i * 64)), 64);
	for (unsigned int it = 0; it < iters; it++) {
		put(w, 5, ops, sizeof(ops));
		if (gntdp_hcall(ctx, DB, GNTDP_GNTTABOP_COPY, GA(5), OPS) != 0)
			return 1;
	}
	memcpy(back, tw_frame(w, DB, 5), sizeof(back));
	for (unsigned int i = 0; i < OPS; i++)
		if (back[i].status != GNTDP_GNTST_OKAY)
			return 1;
	return 0;
}

static int
run_map(struct tw *w, struct gntdp_gnttab_ctx *ctx, unsigned int iters)
{
	struct gntdp_gnttab_map_grant_ref m[OPS];
	struct gntdp_gnttab_unmap_grant_ref u[OPS];

	for (unsigned int it = 0; it < iters; it++) {
		memset(m, 0, sizeof(m));
		for (unsigned int i = 0; i < OPS; i++) {
			m[i].host_addr = GA(300 + i);
			m[i].flags = GNTDP_GNTMAP_HOST_MAP;
			m[i].ref = 8 + i;
			m[i].dom = DA;
		}
		put(w, 5, m, sizeof(m));
		if (gntdp_hcall(ctx, DB, GNTDP_GNTTABOP_MAP_GRANT_REF, GA(5), OPS) != 0)
			return 1;
		memcpy(m, tw_frame(w, DB, 5), sizeof(m));
		memset(u, 0, sizeof(u));
		for (unsigned int i = 0; i < OPS; i++) {
			if (m[i].status != GNTDP_GNTST_OKAY)
				return 1;
			u[i].host_addr = m[i].host_addr;
			u[i].handle = m[i].handle;
		}
		put(w, 6, u, sizeof(u));
		if (gntdp_hcall(ctx, DB, GNTDP_GNTTABOP_UNMAP_GRANT_REF, GA(6), OPS) != 0)
			return 1;
		memcpy(u, tw_frame(w, DB, 6), sizeof(u));
		for (unsigned int i = 0; i < OPS; i++)
			if (u[i].status != GNTDP_GNTST_OKAY)
				return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 1024};
	struct gntdp_gnttab_ctx *ctx = NULL;
	unsigned long iters = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
	struct tw *w;
	int rc;

	if (argc != 3 || iters == 0 || iters > 100000000ul ||
	    (strcmp(argv[1], "copy") != 0 && strcmp(argv[1], "map") != 0)) {
		fprintf(stderr, "usage: %s copy|map ITERS\n", argv[0]);
		return 2;
	}
	w = tw_create(NULL);
	if (w == NULL || tw_add(w, DA) != 0 || tw_add(w, DB) != 0)
		return 1;
	for (gntdp_grant_ref_t r = 0; r < 64; r++)
		if (tw_grant(w, DA, 8 + r, DB, 40 + r, false) != 0)
			return 1;
	if (gntdp_gnttab_ctx_create(w->gt, &cc, &ctx) != 0)
		return 1;
	rc = strcmp(argv[1], "copy") == 0 ? run_copy(w, ctx, (unsigned int)iters)
					  : run_map(w, ctx, (unsigned int)iters);
	printf("%s: %lu calls of %u ops: %s\n", argv[1], iters, OPS, rc == 0 ? "ok" : "FAILED");
	gntdp_gnttab_ctx_destroy(ctx);
	tw_destroy(w);
	return rc;
}
