/* SPDX-License-Identifier: MIT */
/*
 * gntdp-stress-mp-client: one client domain of gntdp-stress's multi-process
 * mode (mp.c starts it; docs/stress.md "Multi-process mode"). Linked to
 * libgntdp-client only: no EAL, no hugepages.
 *
 *   gntdp-stress-mp-client SOCKET SLOT SEED GRANTS BATCH DEPTH   (board on fd 3)
 *
 * It binds domid SLOT + 1, writes mp_pattern() into its GRANTS frames and
 * grants frame g read-only to every other slot p as ref p * GRANTS + g. Then,
 * until the board says stop, each iteration picks a live peer and
 *   1. maps BATCH of the peer's grants to it (model only, gfns past its RAM),
 *   2. submits DEPTH copy calls of BATCH ops each at once (gref of the peer
 *      to its own frames, random offsets and lengths) and reaps them,
 *   3. unmaps what it mapped,
 * (one iteration in 8 it aims at any slot, live or not, to race deaths),
 * checking every completion (rc 0, its user_data, once), every status and
 * every copied byte. A peer alive with the same gen before and after: every
 * op is GNTST_okay. Otherwise (it was killed or respawned meanwhile) an op on
 * its grants may also be GNTST_bad_domain (domain gone) or
 * GNTST_general_error (a fresh incarnation's entry not granted yet); an
 * unmap of a map that succeeded is always okay. Any other outcome: a line
 * on stderr and exit 1. On stop it ends every grant (each must come free
 * within 2 s: the daemon dropped the maps of dead peers) and checks its
 * frames were never written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <gntdp/client.h>

#include "mp.h"

#define MAX_BATCH 64u
#define MAX_DEPTH 16u
#define SENTINEL 1

struct cl {
	struct mp_board *b;
	struct gntdp_client *c;
	struct gntdp_client_ring *r;
	uint8_t *ram;
	uint32_t nr_frames, self, grants, batch, depth;
	uint64_t rng;
	struct gntdp_gnttab_copy *copies;         /* depth x batch */
	struct gntdp_gnttab_map_grant_ref *maps;  /* batch */
	struct gntdp_gnttab_unmap_grant_ref *unmaps;
	uint32_t dst0;                            /* first destination frame */
};

/* A violation: off the board first, so that peers do not hold its death against the daemon. */
#define FAIL(...)                                                                  \
	do {                                                                       \
		atomic_store(&w->b->slot[w->self].alive, 0);                       \
		atomic_fetch_add(&w->b->slot[w->self].gen, 1);                     \
		fprintf(stderr, "mp-client dom %u: ", w->self + 1);                \
		fprintf(stderr, __VA_ARGS__);                                      \
		fprintf(stderr, "\n");                                             \
		exit(1);                                                           \
	} while (0)

static uint32_t
rnd(struct cl *w, uint32_t n)
{
	return mp_rnd(&w->rng, n);
}

static void
setup(struct cl *w, const char *sock)
{
	struct gntdp_client_domain_conf dc;
	struct gntdp_client_ring_conf rc;
	struct gntdp_grant_entry_v1 *gt;
	uint32_t ne, nops_frames;
	size_t ops_bytes;
	int err;

	ops_bytes = (size_t)w->depth * w->batch * sizeof(struct gntdp_gnttab_copy) +
		    (size_t)w->batch * (sizeof(*w->maps) + sizeof(*w->unmaps));
	nops_frames = (uint32_t)((ops_bytes + MP_PAGE - 1) / MP_PAGE);
	w->dst0 = w->grants + nops_frames;
	err = gntdp_client_connect(sock, &w->c);
	if (err < 0)
		FAIL("connect: %s", strerror(-err));
	gntdp_client_domain_conf_init(&dc);
	dc.domid = (gntdp_domid_t)(w->self + 1);
	dc.create = true;
	dc.nr_frames = w->dst0 + w->depth * w->batch;
	dc.max_grant_version = 1;
	dc.max_grant_frames = (w->b->nb_slots * w->grants * 8 + MP_PAGE - 1) / MP_PAGE;
	/*
	 * A killed domain whose grants peers still map is a zombie until they
	 * unmap (they do within an iteration): its domid comes back, in 5 s.
	 */
	for (double t0 = mp_now_s(); (err = gntdp_client_bind(w->c, &dc)) == -EEXIST &&
				  mp_now_s() - t0 < 5.0;)
		usleep(1000);
	if (err < 0)
		FAIL("bind: %s (%s)", strerror(-err), gntdp_client_why(w->c));
	w->ram = gntdp_client_ram(w->c, &w->nr_frames);
	gntdp_client_ring_conf_init(&rc);
	rc.sq_entries = rc.cq_entries = 64;
	err = gntdp_client_ring_create(w->c, &rc, &w->r);
	if (err < 0)
		FAIL("ring: %s (%s)", strerror(-err), gntdp_client_why(w->c));
	w->copies = (void *)(w->ram + (size_t)w->grants * MP_PAGE);
	w->maps = (void *)(w->copies + w->depth * w->batch);
	w->unmaps = (void *)(w->maps + w->batch);
	for (uint32_t g = 0; g < w->grants; g++)
		for (uint32_t i = 0; i < MP_PAGE; i++)
			w->ram[(size_t)g * MP_PAGE + i] = mp_pattern(w->self + 1, g, i);
	gt = gntdp_client_table(w->c, &ne);
	for (uint32_t p = 0; p < w->b->nb_slots; p++) {
		if (p == w->self)
			continue;
		for (uint32_t g = 0; g < w->grants; g++) {
			err = gntdp_guest_grant_access(&gt[p * w->grants + g],
						       (gntdp_domid_t)(p + 1), g, true);
			if (err < 0)
				FAIL("grant %u: %s", p * w->grants + g, strerror(-err));
		}
	}
}

/* A status of an op on peer @p q's grants: okay, or (when @p raced) the peer-death set. */
static void
check_status(struct cl *w, const char *what, int16_t st, bool raced, uint32_t q)
{
	if (st == GNTDP_GNTST_OKAY)
		return;
	if (raced && (st == GNTDP_GNTST_BAD_DOMAIN || st == GNTDP_GNTST_GENERAL_ERROR))
		return;
	FAIL("%s on dom %u's grants: status %d%s", what, q + 1, st, raced ? " while it died" : ", it was alive throughout");
}

static void
fill_copies(struct cl *w, uint32_t q)
{
	for (uint32_t k = 0; k < w->depth * w->batch; k++) {
		struct gntdp_gnttab_copy *op = &w->copies[k];
		uint16_t off = (uint16_t)rnd(w, MP_PAGE), len = (uint16_t)(1 + rnd(w, 512));

		if (off + len > MP_PAGE)
			len = (uint16_t)(MP_PAGE - off);
		memset(op, 0, sizeof(*op));
		op->source.u.ref = w->self * w->grants + rnd(w, w->grants);
		op->source.domid = (gntdp_domid_t)(q + 1);
		op->source.offset = off;
		op->dest.u.gmfn = w->dst0 + k;
		op->dest.domid = GNTDP_DOMID_SELF;
		op->dest.offset = (uint16_t)rnd(w, MP_PAGE - len + 1u);
		op->len = len;
		op->flags = GNTDP_GNTCOPY_SOURCE_GREF;
		op->status = SENTINEL;
		memset(w->ram + (size_t)op->dest.u.gmfn * MP_PAGE, 0xee, MP_PAGE);
	}
}

/* Every copied byte: the pattern at the source; nothing else in the frame moved. */
static void
check_copy(struct cl *w, const struct gntdp_gnttab_copy *op, bool raced, uint32_t q)
{
	const uint8_t *d = w->ram + (size_t)op->dest.u.gmfn * MP_PAGE;
	uint32_t g = op->source.u.ref - w->self * w->grants;

	check_status(w, "copy", op->status, raced, q);
	for (uint32_t i = 0; i < MP_PAGE; i++) {
		bool in = i >= op->dest.offset && i < (uint32_t)op->dest.offset + op->len;
		uint8_t want = in && op->status == GNTDP_GNTST_OKAY
				       ? mp_pattern(q + 1, g, op->source.offset + i - op->dest.offset)
				       : 0xee;

		if (d[i] != want)
			FAIL("copy of dom %u ref %u off %u len %u: byte %u is 0x%02x, want 0x%02x "
			     "(status %d)", q + 1, op->source.u.ref, op->source.offset, op->len, i,
			     d[i], want, op->status);
	}
}

static void
copies(struct cl *w, uint32_t q, bool *raced_out, uint32_t gen0)
{
	struct gntdp_hcall_sqe sqe[MAX_DEPTH];
	struct gntdp_hcall_cqe cqe[MAX_DEPTH];
	bool seen[MAX_DEPTH] = {false};
	unsigned int got = 0;
	bool raced;

	fill_copies(w, q);
	for (uint32_t i = 0; i < w->depth; i++)
		sqe[i] = (struct gntdp_hcall_sqe){
			.user_data = i, .gaddr = gntdp_client_gaddr(w->c, &w->copies[i * w->batch]),
			.cmd = GNTDP_GNTTABOP_COPY, .count = w->batch};
	if (gntdp_client_submit(w->r, sqe, w->depth) != w->depth)
		FAIL("submit of %u calls refused", w->depth);
	for (double t0 = mp_now_s(); got < w->depth;) {
		unsigned int n = gntdp_client_reap(w->r, cqe, MAX_DEPTH);

		if (n == 0 && mp_now_s() - t0 > 5.0)
			FAIL("%u of %u copy calls not completed in 5 s", w->depth - got, w->depth);
		for (unsigned int i = 0; i < n; i++) {
			if (cqe[i].user_data >= w->depth || seen[cqe[i].user_data] || cqe[i].rc != 0)
				FAIL("completion user_data %llu rc %d (seen %d)",
				     (unsigned long long)cqe[i].user_data, cqe[i].rc,
				     cqe[i].user_data < w->depth ? seen[cqe[i].user_data] : -1);
			seen[cqe[i].user_data] = true;
		}
		got += n;
		if (n == 0 && gntdp_client_wait(w->r, 0) < 0)
			usleep(10);
	}
	raced = *raced_out || atomic_load(&w->b->slot[q].alive) == 0 ||
		atomic_load(&w->b->slot[q].gen) != gen0;
	atomic_fetch_add(&w->b->slot[w->self].calls, w->depth);
	atomic_fetch_add(&w->b->slot[w->self].ops, (uint64_t)w->depth * w->batch);
	for (uint32_t k = 0; k < w->depth * w->batch; k++) {
		check_copy(w, &w->copies[k], raced, q);
		atomic_fetch_add(w->copies[k].status == 0 ? &w->b->slot[w->self].okay
							 : &w->b->slot[w->self].raced, 1);
	}
	*raced_out = raced;
}

/*
 * Map BATCH of peer @p q's grants (or unmap them). *@p raced: in, whether the
 * peer was not alive when picked; out, also whether it died or was respawned
 * (its gen moved from @p gen) by the call's end.
 */
static void
maps(struct cl *w, uint32_t q, bool unmap, uint32_t gen, bool *raced_io)
{
	bool raced;
	int rc;

	for (uint32_t i = 0; i < w->batch; i++) {
		if (!unmap) {
			w->maps[i] = (struct gntdp_gnttab_map_grant_ref){
				.host_addr = (uint64_t)(w->nr_frames + 16 + i) << 12,
				.flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY,
				.ref = w->self * w->grants + rnd(w, w->grants),
				.dom = (gntdp_domid_t)(q + 1), .status = SENTINEL};
		} else {
			w->unmaps[i] = (struct gntdp_gnttab_unmap_grant_ref){
				.host_addr = w->maps[i].host_addr, .handle = w->maps[i].handle,
				.status = SENTINEL};
		}
	}
	rc = gntdp_client_hcall(w->r, unmap ? GNTDP_GNTTABOP_UNMAP_GRANT_REF
					    : GNTDP_GNTTABOP_MAP_GRANT_REF,
				unmap ? (void *)w->unmaps : (void *)w->maps, w->batch);
	if (rc != 0)
		FAIL("%s call: rc %d", unmap ? "unmap" : "map", rc);
	atomic_fetch_add(&w->b->slot[w->self].calls, 1);
	raced = *raced_io || atomic_load(&w->b->slot[q].alive) == 0 ||
		atomic_load(&w->b->slot[q].gen) != gen;
	*raced_io = raced;
	for (uint32_t i = 0; i < w->batch; i++) {
		if (!unmap)
			check_status(w, "map", w->maps[i].status, raced, q);
		else if (w->maps[i].status == GNTDP_GNTST_OKAY &&
			 w->unmaps[i].status != GNTDP_GNTST_OKAY)
			FAIL("unmap of a live map of dom %u ref %u: status %d", q + 1,
			     w->maps[i].ref, w->unmaps[i].status);
	}
}

/* Unmap only what mapped: the rest get an invalid handle's status, not checked. */
static void
unmap_mapped(struct cl *w, uint32_t q, uint32_t gen, bool raced)
{
	for (uint32_t i = 0; i < w->batch; i++)
		if (w->maps[i].status != GNTDP_GNTST_OKAY)
			w->maps[i].handle = UINT32_MAX;
	maps(w, q, true, gen, &raced);
}

/*
 * A live peer; one time in 8 any other slot, dead, dying or respawning
 * (its ops must then come out of the peer-death set).
 */
static int
pick_peer(struct cl *w, uint32_t *q, uint32_t *gen, bool *dead)
{
	uint32_t start = rnd(w, w->b->nb_slots);

	/* gen first, then alive: alive seen set goes with that gen or a later one. */
	if (rnd(w, 8) == 0 && start != w->self) {
		*q = start;
		*gen = atomic_load(&w->b->slot[start].gen);
		*dead = atomic_load(&w->b->slot[start].alive) == 0;
		return 0;
	}
	*dead = false;
	for (uint32_t k = 0; k < w->b->nb_slots; k++) {
		uint32_t p = (start + k) % w->b->nb_slots;

		if (p == w->self || atomic_load(&w->b->slot[p].alive) == 0)
			continue;
		*gen = atomic_load(&w->b->slot[p].gen);
		if (atomic_load(&w->b->slot[p].alive) == 0)
			continue;
		*q = p;
		return 0;
	}
	return -1;
}

static void
finish(struct cl *w)
{
	struct gntdp_grant_entry_v1 *gt = gntdp_client_table(w->c, NULL);

	for (uint32_t p = 0; p < w->b->nb_slots; p++) {
		if (p == w->self)
			continue;
		for (uint32_t g = 0; g < w->grants; g++) {
			uint32_t ref = p * w->grants + g;
			double t0 = mp_now_s();

			while (gntdp_guest_end_access(&gt[ref]) == -EBUSY && mp_now_s() - t0 < 2.0)
				usleep(200);
			if ((gt[ref].flags & GNTDP_GTF_TYPE_MASK) != 0)
				FAIL("ref %u (to dom %u) still in use 2 s after the end", ref, p + 1);
		}
	}
	for (uint32_t g = 0; g < w->grants; g++)
		for (uint32_t i = 0; i < MP_PAGE; i++)
			if (w->ram[(size_t)g * MP_PAGE + i] != mp_pattern(w->self + 1, g, i))
				FAIL("its read-only granted frame %u changed at byte %u", g, i);
	gntdp_client_close(w->c);
}

static uint32_t
arg(const char *s, uint32_t lo, uint32_t hi)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "mp-client: bad argument '%s'\n", s);
		exit(2);
	}
	return (uint32_t)v;
}

int
main(int argc, char **argv)
{
	struct cl w0 = {0}, *w = &w0;

	if (argc != 7) {
		fprintf(stderr, "usage: %s SOCKET SLOT SEED GRANTS BATCH DEPTH (board on fd %d)\n",
			argv[0], MP_BOARD_FD);
		return 2;
	}
	w->b = mmap(NULL, sizeof(*w->b), PROT_READ | PROT_WRITE, MAP_SHARED, MP_BOARD_FD, 0);
	if (w->b == MAP_FAILED)
		return fprintf(stderr, "mp-client: no board on fd %d\n", MP_BOARD_FD), 2;
	w->self = arg(argv[2], 0, w->b->nb_slots - 1);
	w->rng = (uint64_t)arg(argv[3], 0, UINT32_MAX) * 0x9e3779b97f4a7c15ull + w->self + 1;
	w->grants = arg(argv[4], 1, 16);
	w->batch = arg(argv[5], 1, MAX_BATCH);
	w->depth = arg(argv[6], 1, MAX_DEPTH);
	setup(w, argv[1]);
	atomic_store(&w->b->slot[w->self].alive, 1);
	while (atomic_load(&w->b->stop) == 0) {
		uint32_t q, gen;
		bool raced = false;

		if (pick_peer(w, &q, &gen, &raced) < 0) {
			usleep(1000);
			continue;
		}
		/* Maps stay live through the copies: a kill lands on them too. */
		maps(w, q, false, gen, &raced);
		copies(w, q, &raced, gen);
		unmap_mapped(w, q, gen, raced);
	}
	atomic_store(&w->b->slot[w->self].stopped, 1);
	while (atomic_load(&w->b->stop) < 2)
		usleep(1000);
	finish(w);
	return 0;
}
