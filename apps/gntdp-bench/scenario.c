/* SPDX-License-Identifier: MIT */
/*
 * Builds the world a scenario describes and tears it down again:
 *
 *   frontends 1..F      each with `frames` RAM frames: the lower half are TX
 *                       frames (pattern-filled, granted read-only to the
 *                       frontend's backend), the upper half RX frames
 *                       (poisoned, granted writable). TX gfn g is ref 8+g,
 *                       RX gfn T+g is ref 8+T+g (refs 0-7 are reserved).
 *   backends F+1..F+B   frontend f belongs to backend f % B. Each backend is
 *                       the caller of `per_backend` hypercall rings; its RAM
 *                       holds the gref->frame destinations and each ring's
 *                       op-array area.
 *
 * Frames come from the data plane's memzone provider, as in production.
 * The frontends grow their own grant tables with setup_table, as a guest
 * does, through a control context that is destroyed before the workers run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_lcore.h>

#include <gntdp/client.h>

#include "app.h"
#include "bench.h"

gntdp_domid_t
frontend_id(unsigned int f)
{
	return (gntdp_domid_t)(1 + f);
}

gntdp_domid_t
backend_id(const struct scenario *sc, unsigned int bk)
{
	return (gntdp_domid_t)(1 + sc->nb_frontends + bk);
}

uint32_t
backend_ram_frames(const struct scenario *sc)
{
	uint32_t n = sc->backend_frames + sc->queues_per_backend * hc_arr_frames(sc->depth);

	/* Connect mode times its raw copy from frames of the backend's own RAM (connect.c). */
	if (sc->connect[0] != '\0' && sc->raw_copy)
		n += sc->queues_per_backend * sc->depth;
	return n;
}

uint8_t *
bench_frame(struct bench *b, gntdp_domid_t d, uint64_t gfn)
{
	uint32_t nr;
	uint8_t *ram;

	if (!b->connect)
		return gntdp_domain_frame(b->gt, d, gfn);
	/* A client process holds its own RAM only. */
	ram = d == b->self ? gntdp_client_ram(b->cl, &nr) : NULL;
	return ram != NULL && gfn < nr ? ram + gfn * GNTDP_PAGE_SIZE : NULL;
}

int
scenario_resolve_lcores(struct scenario *sc)
{
	unsigned int main_lc = rte_get_main_lcore(), id;
	char v[16];

	for (unsigned int j = 0; j < sc->nb_clients; j++) {
		snprintf(v, sizeof(v), "%u", sc->client_lcores[j]);
		if (!rte_lcore_is_enabled(sc->client_lcores[j]))
			return scenario_bad(sc, "clients", "lcores", v,
					    "lcore not enabled by EAL (-l)");
	}
	if (sc->nb_workers == 0) {
		/* Every EAL worker lcore that is not a client. */
		RTE_LCORE_FOREACH_WORKER (id) {
			bool client = false;

			for (unsigned int j = 0; j < sc->nb_clients; j++)
				client |= sc->client_lcores[j] == id;
			if (!client && sc->nb_workers < BENCH_MAX_LCORES)
				sc->worker_lcores[sc->nb_workers++] = id;
		}
		if (sc->nb_workers == 0)
			return scenario_bad(
				sc, "workers", "lcores", "(default)",
				"no EAL worker lcore left for the data plane (use -l 0,1)");
	}
	for (unsigned int i = 0; i < sc->nb_workers; i++) {
		snprintf(v, sizeof(v), "%u", sc->worker_lcores[i]);
		if (!rte_lcore_is_enabled(sc->worker_lcores[i]))
			return scenario_bad(sc, "workers", "lcores", v,
					    "lcore not enabled by EAL (-l)");
		if (sc->worker_lcores[i] == main_lc)
			return scenario_bad(sc, "workers", "lcores", v,
					    "the main lcore cannot work");
		for (unsigned int j = 0; j < sc->nb_clients; j++) {
			if (sc->client_lcores[j] == sc->worker_lcores[i])
				return scenario_bad(sc, "workers", "lcores", v,
						    "also a client lcore");
		}
	}
	if (sc->nb_clients == 0) {
		sc->client_lcores[0] = main_lc;
		sc->nb_clients = 1;
	}
	return 0;
}

static int
create_domains(struct bench *b)
{
	const struct scenario *sc = &b->sc;
	unsigned int depth = sc->depth;
	struct gntdp_domain_conf dc;
	int rc;

	for (unsigned int f = 0; f < sc->nb_frontends; f++) {
		gntdp_domain_conf_init(&dc);
		dc.domid = frontend_id(f);
		dc.nr_frames = sc->frames;
		dc.max_grant_frames = sc->grant_frames;
		dc.max_maptrack_frames = 0; /* frontends never map */
		dc.socket = -1;
		rc = gntdp_domain_create(b->gt, &dc);
		if (rc < 0) {
			APP_LOG(ERR, "frontend %u: gntdp_domain_create: %s", dc.domid,
				strerror(-rc));
			return rc;
		}
	}
	for (unsigned int bk = 0; bk < sc->nb_backends; bk++) {
		gntdp_domain_conf_init(&dc);
		dc.domid = backend_id(sc, bk);
		/* RAM: the copy destinations, then each queue's op-array area. */
		dc.nr_frames = backend_ram_frames(sc);
		/* Room above the RAM for one host mapping per slot of each queue. */
		dc.p2m_size = dc.nr_frames + sc->queues_per_backend * depth;
		dc.max_maptrack_frames = sc->maptrack_frames;
		dc.socket = -1;
		rc = gntdp_domain_create(b->gt, &dc);
		if (rc < 0) {
			APP_LOG(ERR, "backend %u: gntdp_domain_create: %s", dc.domid,
				strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* What a frontend does at boot: size its grant table, grant its frames, fill its TX pages. */
static int
grant_frames(struct bench *b, struct gntdp_gnttab_ctx *ctx, unsigned int f)
{
	const struct scenario *sc = &b->sc;
	gntdp_domid_t d = frontend_id(f), be = backend_id(sc, f % sc->nb_backends);
	uint32_t nb_tx = sc->frames / 2, nb_ent;
	uint32_t need = (GNTDP_GNTTAB_NR_RESERVED_ENTRIES + sc->frames +
			 GNTDP_GRANT_ENTRIES_PER_FRAME_V1 - 1) /
			GNTDP_GRANT_ENTRIES_PER_FRAME_V1;
	gntdp_xen_pfn_t *list = calloc(need, sizeof(*list));
	struct gntdp_gnttab_setup_table st = {.dom = GNTDP_DOMID_SELF, .nr_frames = need};
	struct gntdp_grant_entry_v1 *e;
	int rc;

	if (list == NULL)
		return -ENOMEM;
	st.frame_list = list;
	rc = gntdp_gnttab_op(ctx, d, GNTDP_GNTTABOP_SETUP_TABLE, &st, 1);
	free(list);
	if (rc < 0 || st.status != GNTDP_GNTST_OKAY) {
		APP_LOG(ERR, "frontend %u: setup_table(%u frames): rc %d status %s", d, need,
			rc, gntdp_gntst_name(st.status));
		return -EINVAL;
	}
	rc = gntdp_guest_table(b->gt, d, &e, &nb_ent);
	if (rc < 0 || nb_ent < GNTDP_GNTTAB_NR_RESERVED_ENTRIES + sc->frames) {
		APP_LOG(ERR, "frontend %u: grant table has %u entries", d, nb_ent);
		return -EINVAL;
	}
	for (uint32_t g = 0; g < sc->frames; g++) {
		uint8_t *fp = gntdp_domain_frame(b->gt, d, g);
		bool tx = g < nb_tx;

		if (fp == NULL)
			return -EINVAL;
		if (tx)
			pattern_fill(fp, d, g, sc->seed);
		else
			memset(fp, POISON_BYTE, GNTDP_PAGE_SIZE);
		rc = gntdp_guest_grant_access(&e[GNTDP_GNTTAB_NR_RESERVED_ENTRIES + g], be, g, tx);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void
shuffle(uint8_t *t, unsigned int n, uint64_t *rng)
{
	for (unsigned int i = n - 1; i > 0; i--) {
		unsigned int j;
		uint8_t tmp;

		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		j = (unsigned int)(*rng % (i + 1));
		tmp = t[i];
		t[i] = t[j];
		t[j] = tmp;
	}
}

/* Exact shares over every 100 requests, in a seeded order. */
void
build_mix(struct bench *b)
{
	const struct scenario *sc = &b->sc;
	uint64_t rng = sc->seed * 0x9E3779B97F4A7C15ull + 1;
	unsigned int i = 0;

	for (unsigned int k = 0; k < sc->pct_map_unmap; k++)
		b->class_tab[i++] = RK_MAP;
	for (unsigned int k = 0; k < sc->pct_invalid; k++)
		b->class_tab[i++] = RK_INVALID;
	b->copies_only = i == 0;
	b->mapunmap_only = sc->pct_map_unmap == 100;
	while (i < 100)
		b->class_tab[i++] = RK_COPY_GG;
	shuffle(b->class_tab, 100, &rng);
	for (i = 0; i < 100; i++)
		b->gg_tab[i] = i < sc->pct_gref_to_gref;
	shuffle(b->gg_tab, 100, &rng);
	b->nb_inv_kinds = 0;
	for (i = 0; i < INV_COUNT; i++) {
		if (sc->invalid_mask & (1u << i))
			b->inv_kinds[b->nb_inv_kinds++] = (uint8_t)i;
	}
}

int
init_cqueue(struct bench *b, struct cqueue *cq, unsigned int bk, unsigned int ql)
{
	const struct scenario *sc = &b->sc;
	unsigned int depth = sc->depth, nb_fe = 0;
	uint32_t nb_tx = sc->frames / 2;
	gntdp_domid_t fe[BENCH_MAX_LCORES * 16];

	for (unsigned int f = bk; f < sc->nb_frontends && nb_fe < RTE_DIM(fe); f += sc->nb_backends)
		fe[nb_fe++] = frontend_id(f);
	cq->backend = backend_id(sc, bk);
	cq->depth = depth;
	cq->slots = calloc(depth, sizeof(*cq->slots));
	cq->fr = calloc(depth, sizeof(*cq->fr));
	cq->gfn_free = calloc(depth, sizeof(*cq->gfn_free));
	cq->unmap_fifo = calloc(depth, sizeof(*cq->unmap_fifo));
	cq->tmpl = calloc(2 * (size_t)depth, sizeof(*cq->tmpl));
	if (b->connect)
		cq->tx_shadow = aligned_alloc(64, (size_t)depth * GNTDP_PAGE_SIZE);
	if (cq->slots == NULL || cq->fr == NULL || cq->gfn_free == NULL || cq->unmap_fifo == NULL ||
	    cq->tmpl == NULL || (b->connect && cq->tx_shadow == NULL))
		return -ENOMEM;
	uint32_t arr_frames = hc_arr_frames(depth);
	uint64_t gfn0 = sc->backend_frames + (uint64_t)ql * arr_frames;

	/* Host maps go to gfns above the RAM, one per slot of each queue. */
	cq->map_gfn0 = backend_ram_frames(sc) + (uint64_t)ql * depth;
	/* The op-array area: after the copy destinations, in the backend's own RAM. */
	cq->arr = calloc(arr_frames, sizeof(*cq->arr));
	if (cq->arr == NULL)
		return -ENOMEM;
	cq->arr_gaddr = gfn0 << GNTDP_PAGE_SHIFT;
	for (uint32_t k = 0; k < arr_frames; k++) {
		cq->arr[k] = bench_frame(b, cq->backend, gfn0 + k);
		if (cq->arr[k] == NULL)
			return -EINVAL;
	}
	for (unsigned int s = 0; s < depth; s++) {
		struct slot_frames *fr = &cq->fr[s];
		uint32_t i = ql * depth + s;

		/* Source and destination belong to different frontends when there are two. */
		fr->tx_dom = fe[s % nb_fe];
		fr->rx_dom = fe[(s + 1) % nb_fe];
		fr->tx_ref = GNTDP_GNTTAB_NR_RESERVED_ENTRIES + i;
		fr->rx_ref = GNTDP_GNTTAB_NR_RESERVED_ENTRIES + nb_tx + i;
		fr->bf_gfn = i;
		fr->tx = bench_frame(b, fr->tx_dom, i);
		fr->rx = bench_frame(b, fr->rx_dom, nb_tx + i);
		fr->bf = bench_frame(b, cq->backend, i);
		if (b->connect && fr->tx == NULL && cq->tx_shadow != NULL) {
			/* Not held here: what the frontend's TX frame holds, to compare with. */
			fr->tx = cq->tx_shadow + (size_t)s * GNTDP_PAGE_SIZE;
			pattern_fill(fr->tx, fr->tx_dom, i, sc->seed);
		}
		if (fr->tx == NULL || (fr->rx == NULL && !b->connect) || fr->bf == NULL)
			return -EINVAL;
		cq->gfn_free[s] = depth - 1 - s;
		for (unsigned int gg = 0; gg < 2; gg++)
			fill_copy(&cq->tmpl[gg ? s : depth + s], fr, gg, sc->src_offset,
				  sc->dst_offset, sc->copy_sizes[0]);
	}
	cq->nb_gfn_free = depth;
	return 0;
}

void
free_cqueue(struct cqueue *cq)
{
	free(cq->slots);
	free(cq->fr);
	free(cq->gfn_free);
	free(cq->unmap_fifo);
	free(cq->tmpl);
	free(cq->arr);
	free(cq->tx_shadow);
	cq->slots = NULL;
	cq->fr = NULL;
	cq->gfn_free = NULL;
	cq->unmap_fifo = NULL;
	cq->tmpl = NULL;
	cq->arr = NULL;
	cq->tx_shadow = NULL;
}

static int
create_dp(struct bench *b)
{
	const struct scenario *sc = &b->sc;
	struct gntdp_dp_conf dc;
	int rc;

	gntdp_dp_conf_init(&dc);
	for (unsigned int i = 0; i < sc->nb_workers; i++)
		dc.worker_lcores[i] = sc->worker_lcores[i];
	dc.nb_workers = sc->nb_workers;
	dc.cache = sc->cache;
	dc.cache_entries = sc->cache_entries;
	dc.hold_us = sc->hold_us;
	dc.idle_sleep_us = sc->idle_sleep_us;
	dc.idle_after_us = sc->idle_after_us;
	dc.copy = strcmp(sc->copy_kernel, "auto") == 0 ? NULL : sc->copy_kernel;
	rc = gntdp_dp_create(b->gt, &dc, &b->dp);
	if (rc < 0) {
		APP_LOG(ERR, "gntdp_dp_create: %s", strerror(-rc));
		return rc;
	}
	snprintf(b->copy_name, sizeof(b->copy_name), "%s", gntdp_dp_copy_name(b->dp));
	return 0;
}

/*
 * Queue number i is a hypercall ring of its backend on worker i %
 * nb_workers, with ring_size SQ and CQ entries. Every in-flight hypercall
 * holds at least one slot, and depth <= ring_size (scenario_validate), so
 * the SQ never refuses a call and the CQ always has room for the calls in
 * flight. The worker takes its default burst of calls per poll.
 */
static int
create_ring(struct bench *b, struct cqueue *cq, unsigned int i)
{
	struct gntdp_dp_hcall_conf hc;
	int rc;

	gntdp_dp_hcall_conf_init(&hc);
	hc.domid = cq->backend;
	hc.worker = i % b->sc.nb_workers;
	hc.sq_entries = b->sc.ring_size;
	hc.cq_entries = b->sc.ring_size;
	rc = gntdp_dp_hcall_create(b->dp, &hc, &cq->hc);
	if (rc < 0) {
		APP_LOG(ERR, "gntdp_dp_hcall_create: %s", strerror(-rc));
		return rc;
	}
	cq->qid = i;
	return 0;
}

static int
create_queues(struct bench *b)
{
	const struct scenario *sc = &b->sc;
	int rc;

	b->nb_q = sc->nb_backends * sc->queues_per_backend;
	b->cq = calloc(b->nb_q, sizeof(*b->cq));
	if (b->cq == NULL)
		return -ENOMEM;
	/* Queue-local index major, so one backend's queues spread over the workers. */
	for (unsigned int ql = 0, i = 0; ql < sc->queues_per_backend; ql++) {
		for (unsigned int bk = 0; bk < sc->nb_backends; bk++, i++) {
			struct cqueue *cq = &b->cq[i];

			rc = init_cqueue(b, cq, bk, ql);
			if (rc == 0)
				rc = create_ring(b, cq, i);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int
create_clients(struct bench *b)
{
	const struct scenario *sc = &b->sc;

	b->nb_clients = sc->nb_clients;
	b->clients = calloc(b->nb_clients, sizeof(*b->clients));
	if (b->clients == NULL)
		return -ENOMEM;
	for (unsigned int j = 0; j < b->nb_clients; j++) {
		struct client *c = &b->clients[j];

		c->bench = b;
		c->lcore = sc->client_lcores[j];
		/* The burst buffer off the stack: 24 KiB at the maximum burst. */
		c->ops = aligned_alloc(64, BENCH_MAX_BURST * sizeof(*c->ops));
		if (c->ops == NULL)
			return -ENOMEM;
		c->q = calloc(b->nb_q, sizeof(*c->q));
		if (c->q == NULL)
			return -ENOMEM;
		for (unsigned int i = j; i < b->nb_q; i += b->nb_clients)
			c->q[c->nb_q++] = &b->cq[i];
		c->share = (double)c->nb_q / b->nb_q;
		if (c->lcore == rte_get_main_lcore())
			b->main_is_client = true;
	}
	return 0;
}

int
bench_setup(struct bench *b)
{
	struct gntdp_gnttab_conf gc;
	struct gntdp_gnttab_ctx *ctx = NULL;
	int rc;

	if (b->sc.depth == 0)
		b->sc.depth = b->sc.ring_size;
	b->mem = gntdp_dp_mem_ops(-1);
	gntdp_gnttab_conf_init(&gc);
	gc.mem = &b->mem;
	gc.max_ctx = b->sc.nb_workers + 2;
	rc = gntdp_gnttab_create(&gc, &b->gt);
	if (rc < 0) {
		APP_LOG(ERR, "gntdp_gnttab_create: %s", strerror(-rc));
		return rc;
	}
	rc = create_domains(b);
	if (rc < 0)
		return rc;
	rc = gntdp_gnttab_ctx_create(b->gt, NULL, &ctx);
	if (rc < 0)
		return rc;
	for (unsigned int f = 0; f < b->sc.nb_frontends && rc == 0; f++)
		rc = grant_frames(b, ctx, f);
	gntdp_gnttab_ctx_destroy(ctx);
	if (rc < 0)
		return rc;
	/* Backend frames are gref->frame destinations: poisoned like the RX frames. */
	for (unsigned int bk = 0; bk < b->sc.nb_backends; bk++) {
		for (uint32_t g = 0; g < b->sc.backend_frames; g++)
			memset(gntdp_domain_frame(b->gt, backend_id(&b->sc, bk), g), POISON_BYTE,
			       GNTDP_PAGE_SIZE);
	}
	build_mix(b);
	rc = create_dp(b);
	if (rc == 0)
		rc = create_queues(b);
	if (rc == 0)
		rc = create_clients(b);
	return rc;
}

void
bench_teardown(struct bench *b)
{
	for (unsigned int i = 0; b->cq != NULL && i < b->nb_q; i++) {
		gntdp_dp_hcall_destroy(b->dp, b->cq[i].hc);
		b->cq[i].hc = NULL;
	}
	gntdp_dp_destroy(b->dp);
	b->dp = NULL;
	gntdp_gnttab_destroy(b->gt);
	b->gt = NULL;
	for (unsigned int j = 0; b->clients != NULL && j < b->nb_clients; j++) {
		free(b->clients[j].q);
		free(b->clients[j].ops);
	}
	free(b->clients);
	b->clients = NULL;
	for (unsigned int i = 0; b->cq != NULL && i < b->nb_q; i++)
		free_cqueue(&b->cq[i]);
	free(b->cq);
	b->cq = NULL;
}
