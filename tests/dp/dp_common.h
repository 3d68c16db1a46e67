/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the data-plane tests (tests/dp/test_dp_*.c): EAL
 * bring-up with a per-test file prefix and the hugepage / --no-huge
 * variant, skip-on-missing-resources, a small world of three domains, op
 * builders, and hypercall rings whose op arrays lie in an op area of the
 * client domain's own guest memory (gntdp/hcall.h).
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
#include <gntdp/hcall.h>

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
#define DOM_CLIENT 1 /* issues ops through hypercall rings */
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

/* Status a client posts in every op: one the worker never wrote back still reads so. */
#define DP_UNSET ((int16_t)0x7fff)

/* A copy op: local frame @p gfn of the caller -> @p dref of @p ddom; status DP_UNSET. */
void dp_copy_to_gref(struct gntdp_gnttab_copy *op, uint64_t gfn, uint16_t soff, gntdp_domid_t ddom,
		     uint32_t dref, uint16_t doff, uint16_t len);

/* A copy op: @p sref of @p sdom -> local frame @p gfn of the caller; status DP_UNSET. */
void dp_copy_from_gref(struct gntdp_gnttab_copy *op, gntdp_domid_t sdom, uint32_t sref,
		       uint16_t soff, uint64_t gfn, uint16_t doff, uint16_t len);

/*
 * Status of op @p i of an array of @p cmd's structs (gntdp_hcall_op_size()
 * apart), INT16_MIN for a command whose struct has no status.
 */
int16_t dp_op_status(unsigned int cmd, const void *ops, unsigned int i);

/*
 * Op areas: RAM populated into the client's physmap past its own frames
 * (gntdp_domain_populate(), gfns DP_AREA_GFN .. WORLD_FRAMES + 255). The
 * tests never grant these frames nor copy into them; two rings of one
 * domain need areas that do not overlap.
 */
#define DP_AREA_GFN (WORLD_FRAMES + 192u)
#define DP_AREA_MAX_FRAMES 64u

/* Options of dp_ring_create(). Fill with dp_ring_conf_init(). */
struct dp_ring_conf {
	struct gntdp_dp_hcall_conf hc; /* hc.domid is the client, the op area's owner */
	uint32_t area_gfn;             /* first gfn of the op area. Default DP_AREA_GFN */
	uint32_t area_frames;          /* frames of it. Default 8 */
	unsigned int slot_bytes;       /* bytes per op array (slot). Default 4096 */
};

/* A hypercall ring of one client domain, with its op area. */
struct dp_ring {
	struct gntdp_dp_hcall *r;
	struct gntdp_gnttab *gt;
	gntdp_domid_t dom;
	uint32_t area_gfn, area_frames;
	uint8_t *area; /* the op area in this process (frames are contiguous) */
	unsigned int slot_bytes, nb_slots;
};

/* Defaults: gntdp_dp_hcall_conf_init() for @p dom, area at DP_AREA_GFN, 8 frames, 4 KiB slots. */
void dp_ring_conf_init(struct dp_ring_conf *c, gntdp_domid_t dom);

/*
 * Populate the op area and create the ring. @return 0 or a negative errno
 * (what gntdp_domain_populate() or gntdp_dp_hcall_create() returned; nothing
 * is left behind).
 */
int dp_ring_create(struct gntdp_dp *dp, struct gntdp_gnttab *gt, const struct dp_ring_conf *c,
		   struct dp_ring *out);

/* Destroy the ring, then give the op area back. @return 0 or a negative errno. */
int dp_ring_destroy(struct gntdp_dp *dp, struct dp_ring *r);

/* Guest address of op array @p slot, and where it lies in this process. */
uint64_t dp_ring_ga(const struct dp_ring *r, unsigned int slot);
void *dp_ring_ops(const struct dp_ring *r, unsigned int slot);

/*
 * Write @p count ops of @p cmd (ops may be NULL: the slot already holds
 * them) into @p slot and submit one hypercall on it. @return 1, or 0 when
 * the SQ is full (the ops are written anyway).
 */
unsigned int dp_ring_post(struct dp_ring *r, unsigned int slot, unsigned int cmd, const void *ops,
			  unsigned int count, uint64_t user_data);

/* Take completions into c[0..n) until n arrived or timeout_ms passed. Returns the count. */
unsigned int dp_ring_drain(struct dp_ring *r, struct gntdp_hcall_cqe *c, unsigned int n,
			   unsigned int timeout_ms);

/*
 * One hypercall, waited for (nothing else in flight on @p r): @p ops go to
 * slot 0, and after the completion (which must carry @p user_data) the
 * array is read back into @p ops, statuses and outputs as the worker wrote
 * them; *rc is the call's rc. @return 0, -ETIMEDOUT (no completion within
 * 10 s), -EAGAIN (SQ full), -EPROTO (a completion with another user_data).
 */
int dp_ring_call(struct dp_ring *r, unsigned int cmd, void *ops, unsigned int count,
		 uint64_t user_data, int32_t *rc);

/* Monotonic milliseconds. */
uint64_t dp_now_ms(void);

/* Finish: destroy dp and world, EAL cleanup, return @p rc. */
int dp_test_finish(struct gntdp_dp *dp, struct test_world *w, int rc);

#endif /* DP_COMMON_H */
