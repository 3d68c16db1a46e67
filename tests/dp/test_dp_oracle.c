/* SPDX-License-Identifier: MIT */
/*
 * Statuses through a hypercall ring equal statuses from calling the core
 * directly.
 *
 * Two identical worlds get the same pseudo-random stream of hypercalls
 * (arrays of 1..100 copies with good and bad refs, domains, frames,
 * offsets, lengths and flags; of maps; of unmaps; query_size; whole calls
 * the core or the ring refuses: count 2 for query_size, command 13, a
 * reserved bit in the submission). World A runs them through a ring on a
 * worker, each op array in the client's guest memory (an op area past its
 * frames, which no op of the stream touches), world B through
 * gntdp_gnttab_op on a Xen-exact context, one direct call per hypercall.
 * Every call's rc, and every op's status, map handle and query_size
 * outputs as read back from guest memory, must equal what the direct call
 * returned and wrote back (ops of a refused call: never written), and
 * afterwards every frame but the op area and every domain's counters must
 * be identical. Done once with the persistent cache and once Xen-exact, so
 * the cache is shown not to change any outcome.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_common.h"

#define N_OPS 20000u
#define NB_REFS 48u
#define MAP_GFN0 (WORLD_FRAMES + 16u)
#define MAX_CALL_OPS 100u
#define ORACLE_RING 16u

/* One op of any command the stream uses, as it lies in an op array. */
union op {
	struct gntdp_gnttab_copy copy;
	struct gntdp_gnttab_map_grant_ref map;
	struct gntdp_gnttab_unmap_grant_ref unmap;
	struct gntdp_gnttab_query_size query_size;
};

/* One hypercall of the stream: ops [first, first + count) of cmd. */
struct call {
	unsigned int cmd;
	bool rsvd; /* submitted with a reserved bit set */
	uint32_t first, count;
	int32_t rc; /* what the direct call returned (world B) */
};

struct stream {
	union op *in;  /* the ops as the client writes them */
	union op *out; /* world B's ops after its direct call: statuses and outputs */
	struct call *calls;
	uint32_t nb_ops, nb_calls;
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

/* The struct a call's ops have: 13 has none, its ops are never read. */
static unsigned int
op_cmd(const struct call *c)
{
	return c->cmd < GNTDP_HCALL_NB_CMDS ? c->cmd : GNTDP_GNTTABOP_COPY;
}

/* One op of @p cmd; unmaps name handles world B handed out, mostly. */
static void
gen_op(union op *o, unsigned int cmd, const uint32_t *handles, uint32_t nb_handles)
{
	memset(o, 0, sizeof(*o));
	switch (cmd) {
	case GNTDP_GNTTABOP_COPY:
		o->copy.flags = (uint16_t)rnd(4);
		if (rnd(50) == 0)
			o->copy.flags |= 0x10; /* unknown flag */
		gen_ptr(&o->copy.source, o->copy.flags & GNTDP_GNTCOPY_SOURCE_GREF);
		gen_ptr(&o->copy.dest, o->copy.flags & GNTDP_GNTCOPY_DEST_GREF);
		o->copy.len = (uint16_t)(rnd(8) == 0 ? rnd(4200) : rnd(65) * 32u);
		o->copy.status = DP_UNSET;
		break;
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		o->map.flags = GNTDP_GNTMAP_HOST_MAP | (rnd(3) == 0 ? GNTDP_GNTMAP_READONLY : 0);
		if (rnd(10) == 0)
			o->map.flags = GNTDP_GNTMAP_DEVICE_MAP;
		o->map.ref = rnd(30) == 0 ? 500u + rnd(100) : rnd(NB_REFS + 2);
		o->map.dom = rnd(15) == 0 ? DOM_CLIENT2 : DOM_GRANTER;
		o->map.host_addr = (uint64_t)(MAP_GFN0 + rnd(64)) << GNTDP_PAGE_SHIFT;
		o->map.status = DP_UNSET;
		break;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		o->unmap.handle = nb_handles && rnd(8) ? handles[rnd(nb_handles)] : rnd(300);
		o->unmap.host_addr = (uint64_t)(MAP_GFN0 + rnd(64)) << GNTDP_PAGE_SHIFT;
		o->unmap.status = DP_UNSET;
		break;
	default:
		o->query_size.dom = rnd(3) ? GNTDP_DOMID_SELF : DOM_GRANTER;
		o->query_size.status = DP_UNSET;
	}
}

/*
 * The next call of the stream: copies, maps, unmaps in arrays of 1..100
 * ops (so some cross the core's 64-op chunks and the frames of the op
 * area), query_size alone (or, now and then, two: -EINVAL for the whole
 * call), a command the core does not run (13), a submission with a
 * reserved bit. World B runs it at once with gntdp_gnttab_op() on a copy
 * of the ops (for a reserved bit, which the ring refuses before any op
 * runs, it records -EINVAL), so that later unmaps can name handles that
 * exist.
 */
static void
gen_call(struct gntdp_gnttab_ctx *ctx, struct stream *st, uint32_t *handles, uint32_t *nb_handles)
{
	struct call *c = &st->calls[st->nb_calls];
	uint32_t kind = rnd(100), k;
	uint8_t arr[MAX_CALL_OPS * sizeof(union op)];
	size_t osz;

	memset(c, 0, sizeof(*c));
	c->first = st->nb_ops;
	c->count = 1u + rnd(rnd(2) ? 8u : MAX_CALL_OPS);
	if (kind < 55) {
		c->cmd = GNTDP_GNTTABOP_COPY;
	} else if (kind < 75) {
		c->cmd = GNTDP_GNTTABOP_MAP_GRANT_REF;
	} else if (kind < 92) {
		c->cmd = GNTDP_GNTTABOP_UNMAP_GRANT_REF;
	} else if (kind < 96) {
		c->cmd = GNTDP_GNTTABOP_QUERY_SIZE;
		c->count = rnd(10) == 0 ? 2 : 1;
	} else if (kind < 98) {
		c->cmd = GNTDP_HCALL_NB_CMDS; /* 13: no such command */
		c->count = 1;
	} else {
		c->cmd = GNTDP_GNTTABOP_COPY;
		c->rsvd = true;
		c->count = 1;
	}
	if (c->count > N_OPS - st->nb_ops)
		c->count = N_OPS - st->nb_ops;
	/* World B: the ops packed as the core's array of the command's structs. */
	osz = gntdp_hcall_op_size(op_cmd(c));
	for (k = 0; k < c->count; k++) {
		gen_op(&st->in[c->first + k], op_cmd(c), handles, *nb_handles);
		memcpy(arr + k * osz, &st->in[c->first + k], osz);
	}
	c->rc = c->rsvd ? -EINVAL : gntdp_gnttab_op(ctx, DOM_CLIENT, c->cmd, arr, c->count);
	for (k = 0; k < c->count; k++) {
		union op *o = &st->out[c->first + k];

		memset(o, 0, sizeof(*o));
		memcpy(o, arr + k * osz, osz);
		if (c->cmd == GNTDP_GNTTABOP_MAP_GRANT_REF && c->rc == 0 &&
		    o->map.status == GNTDP_GNTST_OKAY)
			handles[(*nb_handles)++] = o->map.handle;
	}
	st->nb_ops += c->count;
	st->nb_calls++;
}

/* Call @p i through the ring: its rc, then every op's status and outputs, as world B had them. */
static int
compare_call(const struct stream *st, uint32_t i, const struct gntdp_hcall_cqe *cqe,
	     const uint8_t *arr)
{
	const struct call *c = &st->calls[i];
	unsigned int cmd = op_cmd(c);
	size_t osz = gntdp_hcall_op_size(cmd);

	CHECKF(cqe->user_data == i, "completion %u has user_data %llu", i,
	       (unsigned long long)cqe->user_data);
	CHECKF(cqe->rc == c->rc, "call %u (cmd %u, %u ops%s): ring rc %d, direct rc %d", i, c->cmd,
	       c->count, c->rsvd ? ", reserved bit" : "", cqe->rc, c->rc);
	for (uint32_t k = 0; k < c->count; k++) {
		const union op *e = &st->out[c->first + k];
		union op r;

		memset(&r, 0, sizeof(r));
		memcpy(&r, arr + k * osz, osz);
		CHECKF(dp_op_status(cmd, &r, 0) == dp_op_status(cmd, e, 0),
		       "call %u op %u (cmd %u): ring status %d, direct status %d", i, k, c->cmd,
		       dp_op_status(cmd, &r, 0), dp_op_status(cmd, e, 0));
		if (cmd == GNTDP_GNTTABOP_MAP_GRANT_REF && e->map.status == GNTDP_GNTST_OKAY)
			CHECKF(r.map.handle == e->map.handle, "call %u op %u: handle %u vs %u", i,
			       k, r.map.handle, e->map.handle);
		if (cmd == GNTDP_GNTTABOP_QUERY_SIZE && e->query_size.status == GNTDP_GNTST_OKAY)
			CHECK(r.query_size.nr_frames == e->query_size.nr_frames &&
			      r.query_size.max_nr_frames == e->query_size.max_nr_frames);
	}
	return 0;
}

/* World A: every call through the ring, each array in its own slot until its completion is read. */
static int
run_ring(const struct stream *st, struct dp_ring *q)
{
	struct gntdp_hcall_cqe c[ORACLE_RING];
	uint32_t sent = 0, done = 0, n;
	uint64_t end = dp_now_ms() + 30000;

	while (done < st->nb_calls && dp_now_ms() < end) {
		while (sent < st->nb_calls && sent - done < q->nb_slots) {
			const struct call *cl = &st->calls[sent];
			size_t osz = gntdp_hcall_op_size(op_cmd(cl));
			uint8_t *arr = dp_ring_ops(q, sent);
			struct gntdp_hcall_sqe s = {.user_data = sent,
						    .gaddr = dp_ring_ga(q, sent),
						    .cmd = cl->cmd,
						    .count = cl->count,
						    .rsvd = cl->rsvd ? 1u << (sent % 32u) : 0};

			for (uint32_t k = 0; k < cl->count; k++)
				memcpy(arr + k * osz, &st->in[cl->first + k], osz);
			if (gntdp_dp_hcall_submit_burst(q->r, &s, 1) != 1)
				break;
			sent++;
		}
		n = gntdp_dp_hcall_reap_burst(q->r, c, ORACLE_RING);
		for (uint32_t i = 0; i < n; i++)
			CHECK(compare_call(st, done + i, &c[i], dp_ring_ops(q, done + i)) == 0);
		done += n;
	}
	CHECKF(done == st->nb_calls, "%u of %u calls", done, st->nb_calls);
	return 0;
}

static int
compare_worlds(struct gntdp_gnttab *a, struct gntdp_gnttab *b, uint32_t area_gfn,
	       uint32_t area_frames)
{
	const gntdp_domid_t doms[] = { DOM_CLIENT, DOM_GRANTER, DOM_CLIENT2 };
	struct gntdp_domain_info ia, ib;
	uint32_t d, g;

	for (d = 0; d < 3; d++) {
		for (g = 0; g < WORLD_FRAMES + 256; g++) {
			const void *fa = gntdp_domain_frame(a, doms[d], g);
			const void *fb = gntdp_domain_frame(b, doms[d], g);

			/* World A's client keeps its op arrays there; B has no such frames. */
			if (doms[d] == DOM_CLIENT && g >= area_gfn && g < area_gfn + area_frames)
				continue;

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
report(const struct stream *st, bool cache, uint32_t nb_handles)
{
	uint32_t hist[GNTDP_GNTST_COUNT] = { 0 }, refused = 0, i;

	for (i = 0; i < st->nb_calls; i++) {
		const struct call *cl = &st->calls[i];

		refused += cl->rc != 0;
		for (uint32_t k = 0; k < cl->count && cl->rc == 0; k++)
			hist[-dp_op_status(op_cmd(cl), &st->out[cl->first + k], 0)]++;
	}
	printf("oracle (cache %s): %u ops in %u hypercalls (%u refused whole), %u maps made,"
	       " all rcs, statuses and frames equal; statuses:", cache ? "on" : "off", st->nb_ops,
	       st->nb_calls, refused, nb_handles);
	for (i = 0; i < GNTDP_GNTST_COUNT; i++) {
		if (hist[i] != 0)
			printf(" %s=%u", gntdp_gntst_name((int16_t)-(int)i), hist[i]);
	}
	printf("\n");
	/* The stream must exercise success, the main failure classes and whole-call errors. */
	CHECK(hist[0] > N_OPS / 5 && hist[1] > 0 && hist[2] > 0 && hist[3] > 0 && refused > 0);
	return 0;
}

static int
pass(bool cache)
{
	struct test_world wa, wb;
	struct gntdp_gnttab_ctx *ctx = NULL;
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;
	struct dp_ring_conf rconf;
	struct dp_ring q = {0};
	struct stream st = {0};
	uint32_t *handles = calloc(N_OPS, sizeof(*handles));
	uint32_t nb_handles = 0;
	int rc = 1;

	st.in = calloc(N_OPS, sizeof(*st.in));
	st.out = calloc(N_OPS, sizeof(*st.out));
	st.calls = calloc(N_OPS, sizeof(*st.calls));
	CHECK(st.in != NULL && st.out != NULL && st.calls != NULL && handles != NULL);
	CHECK(dp_test_world(&wa) == 0 && dp_test_world(&wb) == 0);
	CHECK(populate(wa.gt) == 0 && populate(wb.gt) == 0);
	/* Generate against world B so unmaps can name handles that exist. */
	CHECK(gntdp_gnttab_ctx_create(wb.gt, NULL, &ctx) == 0);
	rng_state = 7;
	while (st.nb_ops < N_OPS)
		gen_call(ctx, &st, handles, &nb_handles);
	gntdp_gnttab_ctx_destroy(ctx);

	gntdp_dp_conf_init(&conf);
	conf.cache = cache;
	/* World B copies with the core's memmove; overlapping copies differ between kernels. */
	conf.copy = "memmove";
	CHECK(gntdp_dp_create(wa.gt, &conf, &dp) == 0);
	/* Arrays of up to 100 ops, 4000 bytes apart: many cross a frame of the op area. */
	dp_ring_conf_init(&rconf, DOM_CLIENT);
	rconf.hc.sq_entries = ORACLE_RING;
	rconf.hc.cq_entries = ORACLE_RING;
	rconf.area_frames = 16;
	rconf.slot_bytes = 4000;
	CHECK(MAX_CALL_OPS * sizeof(union op) <= rconf.slot_bytes);
	CHECK(dp_ring_create(dp, wa.gt, &rconf, &q) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	if (run_ring(&st, &q) != 0)
		goto out;
	gntdp_dp_stop(dp);
	CHECK(gntdp_dp_flush_cache(dp) >= 0);
	if (compare_worlds(wa.gt, wb.gt, q.area_gfn, q.area_frames) != 0 ||
	    report(&st, cache, nb_handles) != 0)
		goto out;
	rc = 0;
out:
	gntdp_dp_stop(dp);
	if (dp_ring_destroy(dp, &q) != 0)
		rc = 1;
	gntdp_dp_destroy(dp);
	dp_test_world_destroy(&wa);
	dp_test_world_destroy(&wb);
	free(st.in);
	free(st.out);
	free(st.calls);
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
