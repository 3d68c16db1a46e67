/* SPDX-License-Identifier: MIT */
/*
 * Statuses through the rings equal statuses from calling the core directly.
 *
 * Two identical worlds get the same pseudo-random stream of ops (copies
 * with good and bad refs, domains, frames, offsets, lengths and flags;
 * maps and unmaps; query_size; requests the data plane rejects itself).
 * World A runs them through a queue and a worker, world B through
 * gntdp_gnttab_op on a Xen-exact context, in batches of random size. Every
 * completion (status, map handle, query_size outputs) must equal what the
 * direct call wrote back, and afterwards every frame and every domain's
 * counters must be identical. Done once with the persistent cache and once
 * Xen-exact, so the cache is shown not to change any outcome.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_common.h"

#define N_OPS 20000u
#define NB_REFS 48u
#define MAP_GFN0 (WORLD_FRAMES + 16u)

struct expect {
	int16_t status;
	int32_t rc;
	uint32_t handle;
	uint32_t nr_frames, max_nr_frames;
};

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (uint32_t)((rng_state >> 33) % n) : 0;
}

/* Same grants and frame contents in both worlds. */
static int
populate(struct gntdp_gnttab *gt)
{
	const gntdp_domid_t doms[] = { DOM_CLIENT, DOM_GRANTER, DOM_CLIENT2 };
	uint32_t ref, i, d;

	rng_state = 42;
	for (d = 0; d < 3; d++) {
		for (i = 0; i < WORLD_FRAMES; i++) {
			uint8_t *f = gntdp_domain_frame(gt, doms[d], i);

			CHECK(f != NULL);
			for (uint32_t b = 0; b < 4096; b++)
				f[b] = (uint8_t)(d * 89u + i * 13u + b);
		}
	}
	for (ref = 8; ref < NB_REFS; ref++) {
		uint32_t kind = rnd(10);

		if (kind >= 8)
			continue; /* left invalid */
		CHECK(dp_test_grant(gt, DOM_GRANTER, ref, kind == 7 ? DOM_CLIENT2 : DOM_CLIENT,
				    rnd(WORLD_FRAMES + 2), kind >= 5) == 0);
	}
	return 0;
}

static void
gen_ptr(struct gntdp_gnttab_copy_ptr *p, bool gref)
{
	if (gref) {
		p->u.ref = rnd(30) == 0 ? 500u + rnd(100) : rnd(NB_REFS + 4); /* 512 per frame */
		p->domid = DOM_GRANTER;
		if (rnd(20) == 0)
			p->domid = rnd(2) ? 99 : GNTDP_DOMID_SELF;
	} else {
		p->u.gmfn = rnd(WORLD_FRAMES + 4);
		p->domid = rnd(20) == 0 ? DOM_GRANTER : GNTDP_DOMID_SELF;
	}
	p->offset = (uint16_t)(rnd(8) == 0 ? rnd(4200) : rnd(64) * 64u);
}

static void
gen_req(struct gntdp_dp_req *r, uint64_t ud, const uint32_t *handles, uint32_t nb_handles)
{
	uint32_t kind = rnd(100);

	memset(r, 0, sizeof(*r));
	r->user_data = ud;
	if (kind < 70) {
		r->cmd = GNTDP_GNTTABOP_COPY;
		r->op.copy.flags = (uint16_t)rnd(4);
		if (rnd(50) == 0)
			r->op.copy.flags |= 0x10; /* unknown flag */
		gen_ptr(&r->op.copy.source, r->op.copy.flags & GNTDP_GNTCOPY_SOURCE_GREF);
		gen_ptr(&r->op.copy.dest, r->op.copy.flags & GNTDP_GNTCOPY_DEST_GREF);
		r->op.copy.len = (uint16_t)(rnd(8) == 0 ? rnd(4200) : rnd(65) * 32u);
	} else if (kind < 82) {
		r->cmd = GNTDP_GNTTABOP_MAP_GRANT_REF;
		r->op.map.flags = GNTDP_GNTMAP_HOST_MAP | (rnd(3) == 0 ? GNTDP_GNTMAP_READONLY : 0);
		if (rnd(10) == 0)
			r->op.map.flags = GNTDP_GNTMAP_DEVICE_MAP;
		r->op.map.ref = rnd(30) == 0 ? 500u + rnd(100) : rnd(NB_REFS + 2);
		r->op.map.dom = rnd(15) == 0 ? DOM_CLIENT2 : DOM_GRANTER;
		r->op.map.host_addr = (uint64_t)(MAP_GFN0 + rnd(64)) << GNTDP_PAGE_SHIFT;
	} else if (kind < 94) {
		r->cmd = GNTDP_GNTTABOP_UNMAP_GRANT_REF;
		r->op.unmap.handle = nb_handles && rnd(8) ? handles[rnd(nb_handles)] : rnd(300);
		r->op.unmap.host_addr = (uint64_t)(MAP_GFN0 + rnd(64)) << GNTDP_PAGE_SHIFT;
	} else if (kind < 97) {
		r->cmd = GNTDP_GNTTABOP_QUERY_SIZE;
		r->op.query_size.dom = rnd(3) ? GNTDP_DOMID_SELF : DOM_GRANTER;
	} else if (kind < 98) {
		r->cmd = GNTDP_DP_NB_CMDS; /* 13: not carried */
	} else {
		r->cmd = GNTDP_GNTTABOP_COPY;
		r->rsvd[6] = 0x80; /* reserved bits set */
	}
}

/* World B: run reqs[0..n) directly, in batches of one command of random size. */
static int
run_direct(struct gntdp_gnttab_ctx *ctx, const struct gntdp_dp_req *reqs, unsigned int n,
	   struct expect *ex)
{
	union {
		struct gntdp_gnttab_copy copy[64];
		struct gntdp_gnttab_map_grant_ref map[64];
		struct gntdp_gnttab_unmap_grant_ref unmap[64];
		struct gntdp_gnttab_query_size qs[64];
	} b;
	unsigned int i = 0, j, k, cnt;

	while (i < n) {
		uint8_t cmd = reqs[i].cmd;
		bool rsvd = reqs[i].rsvd[6] != 0;
		unsigned int max = 1 + rnd(40);

		if (rsvd || cmd >= GNTDP_DP_NB_CMDS) {
			/* The data plane refuses these without calling the core. */
			ex[i].status = GNTDP_GNTST_GENERAL_ERROR;
			ex[i].rc = rsvd ? -EINVAL : -ENOSYS;
			i++;
			continue;
		}
		for (j = i + 1; j < n && j - i < max && reqs[j].cmd == cmd && !reqs[j].rsvd[6] &&
				cmd != GNTDP_GNTTABOP_QUERY_SIZE; j++)
			;
		cnt = j - i;
		for (k = 0; k < cnt; k++) {
			const struct gntdp_dp_req *rq = &reqs[i + k];

			switch (cmd) {
			case GNTDP_GNTTABOP_COPY: b.copy[k] = rq->op.copy; break;
			case GNTDP_GNTTABOP_MAP_GRANT_REF: b.map[k] = rq->op.map; break;
			case GNTDP_GNTTABOP_UNMAP_GRANT_REF: b.unmap[k] = rq->op.unmap; break;
			default: b.qs[k] = rq->op.query_size; break;
			}
		}
		CHECK(gntdp_gnttab_op(ctx, DOM_CLIENT, cmd, &b, cnt) == 0);
		for (k = 0; k < cnt; k++) {
			struct expect *e = &ex[i + k];

			memset(e, 0, sizeof(*e));
			switch (cmd) {
			case GNTDP_GNTTABOP_COPY: e->status = b.copy[k].status; break;
			case GNTDP_GNTTABOP_MAP_GRANT_REF:
				e->status = b.map[k].status;
				if (e->status == 0)
					e->handle = b.map[k].handle;
				break;
			case GNTDP_GNTTABOP_UNMAP_GRANT_REF: e->status = b.unmap[k].status; break;
			default:
				e->status = b.qs[k].status;
				e->nr_frames = b.qs[k].nr_frames;
				e->max_nr_frames = b.qs[k].max_nr_frames;
			}
		}
		i = j;
	}
	return 0;
}

static int
compare_cpl(const struct gntdp_dp_cpl *c, const struct expect *e, uint32_t i,
	    const struct gntdp_dp_req *r)
{
	CHECKF(c->status == e->status && c->rc == e->rc,
	       "op %u (cmd %u): ring status %d rc %d, direct status %d rc %d", i, r->cmd, c->status,
	       c->rc, e->status, e->rc);
	if (r->cmd == GNTDP_GNTTABOP_MAP_GRANT_REF && c->status == 0)
		CHECKF(c->out.map.handle == e->handle, "op %u: handle %u vs %u", i,
		       c->out.map.handle, e->handle);
	if (r->cmd == GNTDP_GNTTABOP_QUERY_SIZE && c->status == 0)
		CHECK(c->out.query_size.nr_frames == e->nr_frames &&
		      c->out.query_size.max_nr_frames == e->max_nr_frames);
	return 0;
}

static int
compare_worlds(struct gntdp_gnttab *a, struct gntdp_gnttab *b)
{
	const gntdp_domid_t doms[] = { DOM_CLIENT, DOM_GRANTER, DOM_CLIENT2 };
	struct gntdp_domain_info ia, ib;
	uint32_t d, g;

	for (d = 0; d < 3; d++) {
		for (g = 0; g < WORLD_FRAMES + 256; g++) {
			const void *fa = gntdp_domain_frame(a, doms[d], g);
			const void *fb = gntdp_domain_frame(b, doms[d], g);

			CHECKF((fa == NULL) == (fb == NULL), "dom %u gfn %u presence", doms[d], g);
			if (fa != NULL)
				CHECKF(memcmp(fa, fb, 4096) == 0, "dom %u gfn %u differs", doms[d],
				       g);
		}
		CHECK(gntdp_domain_info(a, doms[d], &ia) == 0);
		CHECK(gntdp_domain_info(b, doms[d], &ib) == 0);
		CHECKF(ia.live_mappings == ib.live_mappings &&
		       ia.pinned_entries == ib.pinned_entries &&
		       ia.nr_grant_frames == ib.nr_grant_frames,
		       "dom %u counters: mappings %u/%u pinned %u/%u", doms[d], ia.live_mappings,
		       ib.live_mappings, ia.pinned_entries, ib.pinned_entries);
	}
	return 0;
}

static int
pass(bool cache)
{
	struct test_world wa, wb;
	struct gntdp_gnttab_ctx *ctx = NULL;
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;
	struct gntdp_dp_queue *q;
	struct gntdp_dp_req *reqs = calloc(N_OPS, sizeof(*reqs));
	struct expect *ex = calloc(N_OPS, sizeof(*ex));
	uint32_t *handles = calloc(N_OPS, sizeof(*handles));
	struct gntdp_dp_cpl c[64];
	uint32_t i, sent = 0, done = 0, nb_handles = 0, n;
	uint64_t end;
	int rc = 1;

	CHECK(reqs != NULL && ex != NULL && handles != NULL);
	CHECK(dp_test_world(&wa) == 0 && dp_test_world(&wb) == 0);
	CHECK(populate(wa.gt) == 0 && populate(wb.gt) == 0);
	/* Generate against world B so unmaps can name handles that exist. */
	CHECK(gntdp_gnttab_ctx_create(wb.gt, NULL, &ctx) == 0);
	rng_state = 7;
	for (i = 0; i < N_OPS; i += n) {
		n = N_OPS - i < 64 ? N_OPS - i : 64;
		for (uint32_t k = 0; k < n; k++)
			gen_req(&reqs[i + k], i + k, handles, nb_handles);
		CHECK(run_direct(ctx, reqs + i, n, ex + i) == 0);
		for (uint32_t k = 0; k < n; k++) {
			const struct gntdp_dp_req *rq = &reqs[i + k];

			if (rq->cmd == GNTDP_GNTTABOP_MAP_GRANT_REF && ex[i + k].status == 0 &&
			    !rq->rsvd[6])
				handles[nb_handles++] = ex[i + k].handle;
		}
	}
	gntdp_gnttab_ctx_destroy(ctx);

	gntdp_dp_conf_init(&conf);
	conf.cache = cache;
	conf.burst = 24;
	/* World B copies with the core's memmove; overlapping copies differ between kernels. */
	conf.copy = "memmove";
	CHECK(gntdp_dp_create(wa.gt, &conf, &dp) == 0);
	CHECK(gntdp_dp_queue_create(dp, DOM_CLIENT, &q) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	end = dp_now_ms() + 30000;
	while (done < N_OPS && dp_now_ms() < end) {
		n = N_OPS - sent < 64 ? N_OPS - sent : 64;
		sent += gntdp_dp_submit_burst(q, reqs + sent, n);
		n = gntdp_dp_complete_burst(q, c, 64);
		for (i = 0; i < n; i++) {
			CHECK(c[i].user_data == done + i);
			if (compare_cpl(&c[i], &ex[done + i], done + i, &reqs[done + i]) != 0)
				goto out;
		}
		done += n;
	}
	gntdp_dp_stop(dp);
	CHECK(done == N_OPS);
	CHECK(gntdp_dp_flush_cache(dp) >= 0);
	if (compare_worlds(wa.gt, wb.gt) != 0)
		goto out;
	{
		uint32_t hist[GNTDP_GNTST_COUNT] = { 0 };

		for (i = 0; i < N_OPS; i++)
			hist[-ex[i].status]++;
		printf("oracle (cache %s): %u ops, %u maps made, all statuses and frames equal;"
		       " statuses:", cache ? "on" : "off", N_OPS, nb_handles);
		for (i = 0; i < GNTDP_GNTST_COUNT; i++) {
			if (hist[i] != 0)
				printf(" %s=%u", gntdp_gntst_name((int16_t)-(int)i), hist[i]);
		}
		printf("\n");
		/* The stream must exercise success and the main failure classes. */
		CHECK(hist[0] > N_OPS / 5 && hist[1] > 0 && hist[2] > 0 && hist[3] > 0);
	}
	rc = 0;
out:
	gntdp_dp_destroy(dp);
	dp_test_world_destroy(&wa);
	dp_test_world_destroy(&wb);
	free(reqs);
	free(ex);
	free(handles);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc;

	rc = dp_test_eal("dp_oracle", argc, argv);
	if (rc != 0)
		return rc;
	rc = pass(true);
	if (rc == 0)
		rc = pass(false);
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(NULL, NULL, rc);
}
