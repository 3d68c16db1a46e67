/* SPDX-License-Identifier: MIT */
/*
 * Worlds: a gntdp_gnttab world built from a world spec (domains with their
 * limits, initial table sizes, frame patterns, grants). Sequential mode
 * builds two identical ones; replay builds one or two from a trace header.
 *
 * The log callback counts dump_table lines (the oracle compares counts) and
 * implements the stall hook: the dump of the STALL domain's table sleeps
 * for the milliseconds the fault injector asked for, on the worker lcore
 * that executes it. That is the only way to stall a worker from outside
 * the data plane: a control op whose execution takes long.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "model.h"

atomic_uint g_stall_ms;
atomic_ulong g_stall_done;

static void
world_log(void *arg, enum gntdp_log_level level, const char *line)
{
	struct world *w = arg;
	static const char stall_prefix[] = "grant table of d50:";

	(void)level;
	atomic_fetch_add_explicit(&w->log_lines, 1, memory_order_relaxed);
	if (strncmp(line, "grant table of d", 16) == 0) {
		atomic_fetch_add_explicit(&w->dumps, 1, memory_order_relaxed);
		if (strncmp(line, stall_prefix, sizeof(stall_prefix) - 1) == 0) {
			unsigned int ms = atomic_exchange(&g_stall_ms, 0);

			if (ms != 0) {
				sleep_us(ms * 1000u);
				atomic_fetch_add(&g_stall_done, 1);
			}
		}
	}
}

const struct dom_spec *
spec_dom(const struct world_spec *ws, gntdp_domid_t domid)
{
	for (uint32_t i = 0; i < ws->nb_doms; i++) {
		if (ws->doms[i].domid == domid)
			return &ws->doms[i];
	}
	return NULL;
}

static int
spec_index(const struct world_spec *ws, gntdp_domid_t domid)
{
	for (uint32_t i = 0; i < ws->nb_doms; i++) {
		if (ws->doms[i].domid == domid)
			return (int)i;
	}
	return -1;
}

static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void
frame_fill(uint8_t *va, uint64_t seed, gntdp_domid_t domid, uint32_t gfn, uint32_t gen)
{
	uint64_t base = mix64(seed ^ ((uint64_t)domid << 48) ^ ((uint64_t)gen << 32) ^ gfn);
	uint64_t *p = (uint64_t *)(void *)va;

	for (unsigned int i = 0; i < GNTDP_PAGE_SIZE / 8; i++)
		p[i] = mix64(base + i);
}

bool
world_dom_alive(const struct world *w, gntdp_domid_t domid)
{
	int i = spec_index(w->spec, domid);

	return i >= 0 && w->alive[i];
}

struct gntdp_grant_entry_v1 *
world_entry(struct world *w, gntdp_domid_t domid, uint32_t ref)
{
	struct gntdp_grant_entry_v1 *e;
	uint32_t n;

	if (gntdp_guest_table(w->gt, domid, &e, &n) != 0 || ref >= n)
		return NULL;
	return &e[ref];
}

int
world_apply_grant(struct world *w, const struct grant_spec *g)
{
	struct gntdp_grant_entry_v1 *e = world_entry(w, g->domid, g->ref);
	uint16_t type = g->flags & GNTDP_GTF_TYPE_MASK;

	if (e == NULL)
		return -ENOENT;
	if (type == GNTDP_GTF_PERMIT_ACCESS &&
	    (g->flags & ~(uint16_t)GNTDP_GTF_READONLY) == GNTDP_GTF_PERMIT_ACCESS)
		return gntdp_guest_grant_access(e, g->grantee, g->frame,
						(g->flags & GNTDP_GTF_READONLY) != 0);
	if (g->flags == GNTDP_GTF_ACCEPT_TRANSFER)
		return gntdp_guest_grant_transfer(e, g->grantee, g->frame);
	/* Anything else (a corrupt-zone snapshot): the raw words, as a hostile guest writes. */
	__atomic_store_n(&e->frame, g->frame, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(void *)e, (uint32_t)g->grantee << 16 | g->flags,
			 __ATOMIC_RELEASE);
	return 0;
}

int
world_create_dom(struct world *w, gntdp_domid_t domid, uint32_t gen)
{
	int i = spec_index(w->spec, domid);
	const struct dom_spec *d;
	struct gntdp_domain_conf dc;
	int rc;

	if (i < 0)
		return -EINVAL;
	d = &w->spec->doms[i];
	gntdp_domain_conf_init(&dc);
	dc.domid = d->domid;
	dc.privileged = d->privileged != 0;
	dc.nr_frames = d->nr_frames;
	dc.p2m_size = d->p2m_size;
	dc.max_grant_frames = d->max_grant_frames;
	dc.max_maptrack_frames = d->max_maptrack_frames;
	rc = gntdp_domain_create(w->gt, &dc);
	if (rc != 0)
		return rc;
	for (uint32_t g = 0; g < d->nr_frames; g++)
		frame_fill(gntdp_domain_frame(w->gt, d->domid, g), w->spec->seed, d->domid, g, gen);
	if (d->init_grant_frames > 1) {
		gntdp_xen_pfn_t list[STRESS_MAX_GRANT_FRAMES];
		struct gntdp_gnttab_setup_table st = {
			.dom = GNTDP_DOMID_SELF,
			.nr_frames = d->init_grant_frames,
			.frame_list = list,
		};

		rc = gntdp_gnttab_op(w->ctx, d->domid, GNTDP_GNTTABOP_SETUP_TABLE, &st, 1);
		if (rc != 0 || st.status != GNTDP_GNTST_OKAY)
			return rc != 0 ? rc : -EIO;
	}
	w->alive[i] = true;
	w->gen[i] = gen;
	return 0;
}

int
world_destroy_dom(struct world *w, gntdp_domid_t domid)
{
	int i = spec_index(w->spec, domid);

	if (i < 0)
		return -EINVAL;
	w->alive[i] = false;
	return gntdp_domain_destroy(w->gt, domid);
}

int
world_build(struct world *w, int id, const struct world_spec *ws)
{
	struct gntdp_gnttab_conf gc;
	int rc;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->spec = ws;
	w->mem = mem_ops_for(w);
	gntdp_gnttab_conf_init(&gc);
	gc.mem = &w->mem;
	gc.log = world_log;
	gc.log_arg = w;
	rc = gntdp_gnttab_create(&gc, &w->gt);
	if (rc != 0)
		return rc;
	/* Xen-exact with the core's memmove: the plain reference (setup calls, mirror). */
	rc = gntdp_gnttab_ctx_create(w->gt, NULL, &w->ctx);
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < ws->nb_doms; i++) {
		rc = world_create_dom(w, ws->doms[i].domid, 0);
		if (rc != 0) {
			APP_LOG(ERR, "gntdp-stress: creating d%u: %s", ws->doms[i].domid,
				strerror(-rc));
			return rc;
		}
	}
	for (uint32_t i = 0; i < ws->nb_grants; i++) {
		rc = world_apply_grant(w, &ws->grants[i]);
		if (rc != 0) {
			APP_LOG(ERR, "gntdp-stress: grant d%u ref %u: %s", ws->grants[i].domid,
				ws->grants[i].ref, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void
world_destroy(struct world *w)
{
	gntdp_gnttab_ctx_destroy(w->ctx);
	w->ctx = NULL;
	gntdp_gnttab_destroy(w->gt);
	w->gt = NULL;
}

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void
sleep_us(unsigned int us)
{
	struct timespec ts = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ mix64(stream + 0x9e3779b97f4a7c15ull);

	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ull;
		r->s[i] = mix64(x);
	}
}
