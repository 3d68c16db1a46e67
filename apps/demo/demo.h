/* SPDX-License-Identifier: MIT */
/*
 * gntdp-demo internals shared by main.c (setup, options, teardown) and
 * scenario.c (what the frontend and backend do).
 */
#ifndef DEMO_H
#define DEMO_H

#include <stdint.h>

#include <gntdp/gnttab.h>

enum { DOM_CTRL = 0, DOM_FRONT = 1, DOM_BACK = 2 };

#define MAX_GRANTS 64
#define RAM_FRAMES 256u
#define FRONT_GFN0 16u      /* frontend frames granted: FRONT_GFN0 + i */
#define BACK_GFN0 32u       /* backend's copy targets: BACK_GFN0 + i, sources: + MAX_GRANTS */
#define MAP_GFN0 RAM_FRAMES /* host maps go just above the backend's RAM */
/* Refs 0-7 are reserved for the console and xenstore; a guest grants from 8 up. */
#define FIRST_REF GNTDP_GNTTAB_NR_RESERVED_ENTRIES
#define PAGE GNTDP_PAGE_SIZE

/** Checks that did not hold so far. */
extern unsigned int nb_failed;

/** Frontend: grant frames FRONT_GFN0.. to the backend and fill them; NULL on failure. */
struct gntdp_grant_entry_v1 *grant_frames(struct gntdp_gnttab *gt, unsigned int n);
/** Backend: a copy batch in both directions plus ops that must fail. */
void run_copies(struct gntdp_gnttab *gt, struct gntdp_gnttab_ctx *ctx, unsigned int n);
/** Backend: map every grant above its RAM, use the mappings, unmap them. */
void run_maps(struct gntdp_gnttab *gt, struct gntdp_gnttab_ctx *ctx,
	      struct gntdp_grant_entry_v1 *table, unsigned int n);
/** query_size, setup_table and dump_table. */
void run_table_ops(struct gntdp_gnttab *gt, struct gntdp_gnttab_ctx *ctx);
/** Record a failed check. */
void fail(const char *what);

#endif /* DEMO_H */
