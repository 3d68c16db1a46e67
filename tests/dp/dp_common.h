/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the data-plane tests (tests/dp/test_dp_*.c): EAL
 * bring-up with a per-test file prefix and the hugepage / --no-huge
 * variant, skip-on-missing-resources, a small world of two domains, and
 * request builders.
 *
 * Every test program takes its variant as argv[1]: "huge" (skip with 77
 * when no hugepages are free) or "nohuge" (--no-huge -m 512), and an lcore
 * spec as argv[2] ("-l 0-1" style value, e.g. "0-1", or "lcores:<map>" for
 * --lcores=<map>).
 */
#ifndef DP_COMMON_H
#define DP_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <gntdp/dataplane.h>

#define TEST_SKIP 77

#define CHECK(cond)                                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define CHECKF(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

/* Domains of the standard test world. */
#define DOM_CLIENT 1 /* issues ops through the queues */
#define DOM_GRANTER 2 /* grants its frames to DOM_CLIENT */
#define DOM_CLIENT2 3 /* a second client */
#define WORLD_FRAMES 64

struct test_world {
	struct gntdp_mem_ops mem;
	struct gntdp_gnttab *gt;
};

/*
 * EAL init for test @p name: argv[1] = variant, argv[2] = lcores.
 * @return 0, or TEST_SKIP (reason printed), or 1 on bad usage.
 */
int dp_test_eal(const char *name, int argc, char **argv);

/* World with DOM_CLIENT, DOM_GRANTER and DOM_CLIENT2 (WORLD_FRAMES frames each). */
int dp_test_world(struct test_world *w);

void dp_test_world_destroy(struct test_world *w);

/* Guest side: grant @p ref of @p granter on @p frame (gfn) to @p grantee. */
int dp_test_grant(struct gntdp_gnttab *gt, gntdp_domid_t granter, uint32_t ref,
		  gntdp_domid_t grantee, uint32_t frame, bool readonly);

/* The shared entry @p ref of @p domid, or NULL. */
struct gntdp_grant_entry_v1 *dp_test_entry(struct gntdp_gnttab *gt, gntdp_domid_t domid,
					   uint32_t ref);

/* A copy request: local frame @p gfn of the caller -> @p dref of @p ddom. */
void dp_req_copy_to_gref(struct gntdp_dp_req *r, uint64_t ud, uint64_t gfn, uint16_t soff,
			 gntdp_domid_t ddom, uint32_t dref, uint16_t doff, uint16_t len);

/* A copy request: @p sref of @p sdom -> local frame @p gfn of the caller. */
void dp_req_copy_from_gref(struct gntdp_dp_req *r, uint64_t ud, gntdp_domid_t sdom, uint32_t sref,
			   uint16_t soff, uint64_t gfn, uint16_t doff, uint16_t len);

/* Take completions into cpls[0..n) until n arrived or timeout_ms passed. Returns the count. */
unsigned int dp_drain(struct gntdp_dp_queue *q, struct gntdp_dp_cpl *cpls, unsigned int n,
		      unsigned int timeout_ms);

/* Monotonic milliseconds. */
uint64_t dp_now_ms(void);

/* Finish: destroy dp and world, EAL cleanup, return @p rc. */
int dp_test_finish(struct gntdp_dp *dp, struct test_world *w, int rc);

#endif /* DP_COMMON_H */
