/* SPDX-License-Identifier: MIT */
/*
 * The batch generator and the result processing.
 *
 * gen_batch() chooses a command and a size (1..max_batch), then each op's
 * kind: a valid op on something the queue owns, or one of the invalid kinds
 * (bad domain, bad ref, page crossing, read-only destination, wrong
 * grantee, foreign frame mode, stale handle, pin saturation, len 0 with
 * garbage, ...). For each op it records the set of statuses the spec
 * allows (struct op_meta.mask): a single status wherever the queue's own
 * knowledge decides the outcome (its stable grants, its mappings, its
 * handles), a wider set where guest activity or a victim domain races with
 * it. Resources an op needs (a host gfn, pins, a mapping to unmap, a page to
 * transfer) are reserved when it is generated and released when it fails.
 *
 * apply_result() runs in op order as results arrive: it checks the status
 * against the mask, updates mappings, handles and pins, and applies every
 * successful copy to the shadow contents (the expected bytes of every frame
 * only this queue writes). finish_batch() compares the touched frames with
 * their shadows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define SHADOW_SREF 0x8000u

static inline gntdp_domid_t
gdom(uint32_t k)
{
	return k == 0 ? DOM_G1 : DOM_G2;
}

void
rand_range(struct qmodel *q, uint16_t *soff, uint16_t *doff, uint16_t *len)
{
	uint32_t r = rng_below(&q->rng, 100);
	uint32_t l = r < 45   ? 1 + rng_below(&q->rng, 256)
		     : r < 80 ? 257 + rng_below(&q->rng, 1792)
			      : GNTDP_PAGE_SIZE;

	*len = (uint16_t)l;
	*soff = (uint16_t)rng_below(&q->rng, GNTDP_PAGE_SIZE - l + 1);
	*doff = (uint16_t)rng_below(&q->rng, GNTDP_PAGE_SIZE - l + 1);
}

/* ---- Shadows ------------------------------------------------------------------ */

static uint8_t *
shadow_of(struct qmodel *q, uint16_t id)
{
	if (id == 0)
		return NULL;
	if (id & SHADOW_SREF)
		return q->sref[id & ~SHADOW_SREF].shadow;
	return q->lshadow + (size_t)(id - 1) * GNTDP_PAGE_SIZE;
}

static void
touch(struct qmodel *q, uint16_t id)
{
	if (id & SHADOW_SREF)
		q->touched_sref[id & ~SHADOW_SREF] = true;
	else if (id != 0)
		q->touched_local[id - 1] = true;
}

/* ---- Picking things ------------------------------------------------------------ */

static uint32_t
pick_sref(struct qmodel *q, bool writable)
{
	for (int tries = 0; tries < 8; tries++) {
		uint32_t k = rng_below(&q->rng, q->nb_sref);

		if (!writable || !q->sref[k].ro)
			return k;
	}
	return 0; /* index 0 is always a writable stable ref */
}

static uint32_t
pick_local(struct qmodel *q)
{
	return rng_below(&q->rng, q->verified_frames);
}

uint32_t
pick_scratch(struct qmodel *q)
{
	return q->verified_frames + rng_below(&q->rng, q->scratch_frames);
}

static uint32_t
pick_ro_sref(struct qmodel *q)
{
	uint32_t per = q->nb_sref / NB_GUESTS;

	return rng_below(&q->rng, NB_GUESTS) * per + per - 1;
}

static struct churn *
pick_churn(struct sim *s, struct qmodel *q, gntdp_domid_t *g)
{
	uint32_t k = rng_below(&q->rng, NB_GUESTS);

	*g = gdom(k);
	return &s->g[k].churn[(uint32_t)q->client_idx * s->lay.churn_refs +
			      rng_below(&q->rng, s->lay.churn_refs)];
}

static uint32_t
other_client(struct sim *s, struct qmodel *q)
{
	uint32_t j = rng_below(&q->rng, s->lay.nb_cl - 1);

	return j >= (uint32_t)q->client_idx ? j + 1 : j;
}

gntdp_domid_t
bad_domid(struct qmodel *q)
{
	static const gntdp_domid_t bad[] = {DOM_NONE,         0x7000,          GNTDP_DOMID_IO,
					    GNTDP_DOMID_XEN,  GNTDP_DOMID_COW, GNTDP_DOMID_INVALID,
					    GNTDP_DOMID_IDLE, 0xffff};

	return bad[rng_below(&q->rng, sizeof(bad) / sizeof(bad[0]))];
}

/* A gfn of the caller that is not RAM: past the physmap, or an empty map-area gfn. */
static uint64_t
bad_gmfn(struct sim *s, struct qmodel *q)
{
	uint32_t r = rng_below(&q->rng, 4);

	(void)s;
	if (r == 0 && q->nb_gfn_free > 0)
		return q->gfn_free[rng_below(&q->rng, q->nb_gfn_free)];
	if (r == 1)
		return (uint64_t)1 << (32 + rng_below(&q->rng, 30));
	return (uint64_t)q->ds->p2m_size + rng_below(&q->rng, 1000);
}

/*
 * A guest address outside the caller's RAM (docs/hcall.md: a fault): past the physmap, a
 * pointer into this process (GADDR_HOST, the executor's canary), one that wraps the address
 * space. For frame lists (bad_virt_addr) and hostile op arrays (-EFAULT).
 */
uint64_t
bad_gaddr(struct qmodel *q)
{
	switch (rng_below(&q->rng, 4)) {
	case 0:
		return GADDR_HOST;
	case 1:
		return UINT64_MAX - 8 * rng_below(&q->rng, 64);
	case 2:
		return (uint64_t)1 << (32 + rng_below(&q->rng, 31));
	default:
		return ((uint64_t)q->ds->p2m_size + rng_below(&q->rng, 1u << 16))
			       << GNTDP_PAGE_SHIFT |
		       8 * rng_below(&q->rng, 512);
	}
}

uint32_t
take_gfn(struct qmodel *q)
{
	uint32_t k;
	uint32_t g;

	if (q->nb_gfn_free == 0)
		return NO_GFN;
	k = rng_below(&q->rng, q->nb_gfn_free);
	g = q->gfn_free[k];
	q->gfn_free[k] = q->gfn_free[--q->nb_gfn_free];
	return g;
}

void
give_gfn(struct qmodel *q, uint32_t g)
{
	if (g != NO_GFN)
		q->gfn_free[q->nb_gfn_free++] = g;
}

/* ---- Copy ops -------------------------------------------------------------------- */

static void
ptr_local(struct gntdp_gnttab_copy_ptr *p, uint32_t gfn, uint16_t off)
{
	p->u.gmfn = gfn;
	p->domid = GNTDP_DOMID_SELF;
	p->offset = off;
}

static void
ptr_gref(struct gntdp_gnttab_copy_ptr *p, gntdp_domid_t d, uint32_t ref, uint16_t off)
{
	p->u.ref = ref;
	p->domid = d;
	p->offset = off;
}

static void
ptr_sref(struct gntdp_gnttab_copy_ptr *p, const struct sref *sr, uint16_t off)
{
	ptr_gref(p, sr->g, sr->ref, off);
}

/*
 * Copy op builders, one per kind: op i of the batch, with its random range
 * (offsets, length) already drawn. Each fills the op, the statuses the spec
 * allows and, for an op whose bytes the model follows, the shadows it reads
 * and writes; it returns false if the queue cannot build that kind now.
 */
struct copy_build {
	struct sim *s;
	struct qmodel *q;
	const struct layout *l;
	struct gntdp_gnttab_copy *c;
	struct op_meta *m;
	struct op_plan *p;
	uint16_t so, dof; /* source and destination offsets */
};

static bool
cp_local_to_sref(struct copy_build *x)
{
	uint32_t a = pick_local(x->q);
	uint32_t k2 = pick_sref(x->q, true);

	ptr_local(&x->c->source, a, x->so);
	ptr_sref(&x->c->dest, &x->q->sref[k2], x->dof);
	x->c->flags = GNTDP_GNTCOPY_DEST_GREF;
	x->p->cp_src = (uint16_t)(a + 1);
	x->p->cp_dst = (uint16_t)(SHADOW_SREF | k2);
	x->m->mask = M_OKAY;
	return true;
}

static bool
cp_sref_to_local(struct copy_build *x)
{
	uint32_t k1 = pick_sref(x->q, false);
	uint32_t a = pick_local(x->q);

	ptr_sref(&x->c->source, &x->q->sref[k1], x->so);
	ptr_local(&x->c->dest, a, x->dof);
	x->c->flags = GNTDP_GNTCOPY_SOURCE_GREF;
	x->p->cp_src = (uint16_t)(SHADOW_SREF | k1);
	x->p->cp_dst = (uint16_t)(a + 1);
	x->m->mask = M_OKAY;
	return true;
}

static bool
cp_sref_to_sref(struct copy_build *x)
{
	uint32_t k1 = pick_sref(x->q, false);
	uint32_t k2 = pick_sref(x->q, true);

	if (k1 == k2)
		return false;
	ptr_sref(&x->c->source, &x->q->sref[k1], x->so);
	ptr_sref(&x->c->dest, &x->q->sref[k2], x->dof);
	x->c->flags = GNTDP_GNTCOPY_SOURCE_GREF | GNTDP_GNTCOPY_DEST_GREF;
	x->p->cp_src = (uint16_t)(SHADOW_SREF | k1);
	x->p->cp_dst = (uint16_t)(SHADOW_SREF | k2);
	x->m->mask = M_OKAY;
	return true;
}

static bool
cp_local_to_local(struct copy_build *x)
{
	uint32_t a = pick_local(x->q);
	uint32_t b = pick_local(x->q);

	if (a == b)
		b = (a + 1) % x->q->verified_frames;
	ptr_local(&x->c->source, a, x->so);
	ptr_local(&x->c->dest, b, x->dof);
	x->p->cp_src = (uint16_t)(a + 1);
	x->p->cp_dst = (uint16_t)(b + 1);
	x->m->mask = M_OKAY;
	return true;
}

/* Source: grant @p ref of @p g; destination: a scratch frame of the caller. */
static bool
cp_gref_to_scratch(struct copy_build *x, gntdp_domid_t g, uint32_t ref, uint32_t mask)
{
	ptr_gref(&x->c->source, g, ref, x->so);
	ptr_local(&x->c->dest, pick_scratch(x->q), x->dof);
	x->c->flags = GNTDP_GNTCOPY_SOURCE_GREF;
	x->m->mask = mask;
	return true;
}

static bool
cp_churn_src(struct copy_build *x)
{
	gntdp_domid_t g;
	struct churn *ch = pick_churn(x->s, x->q, &g);

	x->m->aux = Z_CHURN;
	return cp_gref_to_scratch(
		x, g, ch->ref,
		racy(x->s, ch->state == CH_INVALID ? M_GENERAL : M_OKAY, M_OKAY | M_GENERAL));
}

static bool
cp_churn_dst(struct copy_build *x)
{
	gntdp_domid_t g;
	struct churn *ch = pick_churn(x->s, x->q, &g);

	ptr_local(&x->c->source, pick_local(x->q), x->so);
	ptr_gref(&x->c->dest, g, ch->ref, x->dof);
	x->c->flags = GNTDP_GNTCOPY_DEST_GREF;
	x->m->mask = racy(x->s, ch->state == CH_RW ? M_OKAY : M_GENERAL, M_OKAY | M_GENERAL);
	x->m->aux = Z_CHURN;
	return true;
}

static bool
cp_victim(struct copy_build *x)
{
	struct qmodel *q = x->q;
	uint32_t ref = lay_victim_ref(x->l, (uint32_t)q->client_idx,
				      rng_below(&q->rng, x->l->victim_refs));

	return cp_gref_to_scratch(x, DOM_VG, ref,
				  racy(x->s, x->s->vg_alive ? M_OKAY : M_BAD_DOMAIN,
				       M_OKAY | M_GENERAL | M_BAD_DOMAIN));
}

/* One side grant @p ref of @p g, the other the caller's frame @p local. */
static void
cp_gref_either_side(struct copy_build *x, gntdp_domid_t g, uint32_t ref, bool src_gref,
		    uint32_t local)
{
	if (src_gref) {
		ptr_gref(&x->c->source, g, ref, x->so);
		ptr_local(&x->c->dest, local, x->dof);
		x->c->flags = GNTDP_GNTCOPY_SOURCE_GREF;
	} else {
		ptr_local(&x->c->source, local, x->so);
		ptr_gref(&x->c->dest, g, ref, x->dof);
		x->c->flags = GNTDP_GNTCOPY_DEST_GREF;
	}
}

static bool
cp_corrupt(struct copy_build *x)
{
	struct qmodel *q = x->q;
	gntdp_domid_t g = gdom(rng_below(&q->rng, NB_GUESTS));

	if (rng_below(&q->rng, 2)) {
		uint32_t ref = lay_corrupt_ref(x->l, rng_below(&q->rng, x->l->corrupt_refs));

		cp_gref_either_side(x, g, ref, true, pick_scratch(q));
	} else {
		uint32_t local = pick_scratch(q);

		cp_gref_either_side(x, g,
				    lay_corrupt_ref(x->l, rng_below(&q->rng, x->l->corrupt_refs)),
				    false, local);
	}
	x->m->mask = spec_mask(GNTDP_GNTTABOP_COPY);
	return true;
}

static bool
cp_bad_domain(struct copy_build *x)
{
	struct qmodel *q = x->q;
	struct gntdp_gnttab_copy *c = x->c;

	if (rng_below(&q->rng, 2)) {
		ptr_gref(&c->source, bad_domid(q), rng_below(&q->rng, 600), x->so);
		ptr_local(&c->dest,
			  q->verified_frames + q->scratch_frames > 0 ? pick_scratch(q) : 0, x->dof);
		c->flags = GNTDP_GNTCOPY_SOURCE_GREF;
	} else {
		ptr_local(&c->source, 0, x->so);
		ptr_gref(&c->dest, bad_domid(q), rng_below(&q->rng, 600), x->dof);
		c->flags = GNTDP_GNTCOPY_DEST_GREF;
	}
	x->m->mask = M_BAD_DOMAIN;
	return true;
}

static bool
cp_bad_ref(struct copy_build *x)
{
	struct qmodel *q = x->q;
	uint32_t bad = rng_below(&q->rng, 2)
			       ? 0xffffffffu
			       : STRESS_MAX_GRANT_FRAMES * GNTDP_GRANT_ENTRIES_PER_FRAME_V1 +
					 rng_below(&q->rng, 1u << 20);
	gntdp_domid_t g = gdom(rng_below(&q->rng, NB_GUESTS));

	if (rng_below(&q->rng, 2))
		cp_gref_either_side(x, g, bad, true, pick_scratch(q));
	else
		cp_gref_either_side(x, g, bad, false, pick_local(q));
	x->m->mask = M_BAD_GNTREF;
	return true;
}

static bool
cp_cross(struct copy_build *x)
{
	struct qmodel *q = x->q;
	uint32_t k1 = pick_sref(q, false);
	uint32_t k2 = pick_sref(q, true);
	uint16_t len;

	if (x->c->len < 2)
		x->c->len = 2;
	len = x->c->len;
	if (rng_below(&q->rng, 2))
		x->so = (uint16_t)(GNTDP_PAGE_SIZE - len + 1 + rng_below(&q->rng, len - 1));
	else
		x->dof = (uint16_t)(GNTDP_PAGE_SIZE - len + 1 + rng_below(&q->rng, len - 1));
	ptr_sref(&x->c->source, &q->sref[k1], x->so);
	ptr_sref(&x->c->dest, &q->sref[k2], x->dof);
	x->c->flags = GNTDP_GNTCOPY_SOURCE_GREF | GNTDP_GNTCOPY_DEST_GREF;
	x->m->mask = M_BAD_COPY_ARG;
	return true;
}

static bool
cp_ro_dest(struct copy_build *x)
{
	struct sim *s = x->s;

	ptr_local(&x->c->source, pick_local(x->q), x->so);
	ptr_sref(&x->c->dest, &x->q->sref[pick_ro_sref(x->q)], x->dof);
	x->c->flags = GNTDP_GNTCOPY_DEST_GREF;
	x->m->mask = M_GENERAL;
	if (s->conf->selftest && s->nrec >= 20 && !s->selftest_done) {
		x->m->mask = M_OKAY; /* --selftest: a deliberately wrong expectation */
		s->selftest_done = true;
	}
	return true;
}

static bool
cp_wrong_grantee(struct copy_build *x)
{
	struct qmodel *q = x->q;
	gntdp_domid_t g = gdom(rng_below(&q->rng, NB_GUESTS));
	uint32_t ref = lay_stable_ref(x->l, other_client(x->s, q),
				      rng_below(&q->rng, x->l->stable_refs + 1));

	return cp_gref_to_scratch(x, g, ref, M_GENERAL);
}

static bool
cp_foreign_frame(struct copy_build *x)
{
	struct qmodel *q = x->q;
	struct gntdp_gnttab_copy *c = x->c;
	/* Frame mode needs the literal DOMID_SELF: even the caller's own numeric id fails. */
	gntdp_domid_t fd = rng_below(&q->rng, 3) == 0 ? q->domid
			   : rng_below(&q->rng, 2)    ? DOM_G1
						      : DOM_NONE;

	if (rng_below(&q->rng, 2) || q->verified_frames == 0) {
		c->source.u.gmfn = rng_below(&q->rng, 64);
		c->source.domid = fd;
		c->source.offset = x->so;
		if (q->client_idx >= 0)
			ptr_sref(&c->dest, &q->sref[pick_sref(q, true)], x->dof);
		else
			ptr_gref(&c->dest, DOM_G1, RESERVED_REFS, x->dof);
		c->flags = GNTDP_GNTCOPY_DEST_GREF;
	} else {
		ptr_local(&c->source, pick_local(q), x->so);
		c->dest.u.gmfn = rng_below(&q->rng, 64);
		c->dest.domid = fd;
		c->dest.offset = x->dof;
	}
	x->m->mask = M_PERM;
	return true;
}

static bool
cp_len0(struct copy_build *x)
{
	struct rng *r = &x->q->rng;
	struct gntdp_gnttab_copy *c = x->c;

	c->source.u.gmfn = rng_next(r);
	c->source.domid = (gntdp_domid_t)rng_next(r);
	c->source.offset = (uint16_t)rng_next(r);
	c->dest.u.gmfn = rng_next(r);
	c->dest.domid = (gntdp_domid_t)rng_next(r);
	c->dest.offset = (uint16_t)rng_next(r);
	c->flags = (uint16_t)rng_next(r);
	c->len = 0;
	x->m->mask = M_OKAY;
	return true;
}

static bool
cp_bad_gmfn(struct copy_build *x)
{
	struct qmodel *q = x->q;
	struct gntdp_gnttab_copy *c = x->c;

	if (q->verified_frames == 0 || rng_below(&q->rng, 2)) {
		ptr_local(&c->source, 0, x->so);
		c->source.u.gmfn = bad_gmfn(x->s, q);
		ptr_local(&c->dest, 0, x->dof);
	} else {
		ptr_local(&c->source, pick_local(q), x->so);
		ptr_local(&c->dest, 0, x->dof);
		c->dest.u.gmfn = bad_gmfn(x->s, q);
	}
	x->m->mask = M_BAD_PAGE;
	return true;
}

static bool
cp_invalid_entry(struct copy_build *x)
{
	struct qmodel *q = x->q;
	gntdp_domid_t g = gdom(rng_below(&q->rng, NB_GUESTS));

	return cp_gref_to_scratch(x, g, rng_below(&q->rng, RESERVED_REFS), M_GENERAL);
}

static bool
cp_bad_page(struct copy_build *x)
{
	struct qmodel *q = x->q;
	gntdp_domid_t g = gdom(rng_below(&q->rng, NB_GUESTS));

	return cp_gref_to_scratch(x, g, lay_bad_ref(x->l, (uint32_t)q->client_idx), M_BAD_PAGE);
}

/* What a queue needs for a copy kind: grants (a client index), two verified local frames. */
#define CP_GRANTS 1u
#define CP_LOCALS 2u

static const struct {
	bool (*build)(struct copy_build *x);
	uint8_t needs;
} copy_kinds[K_COUNT] = {
	[K_CP_L2S] = {cp_local_to_sref, CP_GRANTS | CP_LOCALS},
	[K_CP_S2L] = {cp_sref_to_local, CP_GRANTS | CP_LOCALS},
	[K_CP_S2S] = {cp_sref_to_sref, CP_GRANTS},
	[K_CP_L2L] = {cp_local_to_local, CP_LOCALS},
	[K_CP_CHURN_SRC] = {cp_churn_src, CP_GRANTS},
	[K_CP_CHURN_DST] = {cp_churn_dst, CP_GRANTS},
	[K_CP_VICTIM] = {cp_victim, CP_GRANTS},
	[K_CP_CORRUPT] = {cp_corrupt, CP_GRANTS},
	[K_CP_BAD_DOMAIN] = {cp_bad_domain, 0},
	[K_CP_BAD_REF] = {cp_bad_ref, CP_GRANTS},
	[K_CP_CROSS] = {cp_cross, CP_GRANTS},
	[K_CP_RO_DEST] = {cp_ro_dest, CP_GRANTS},
	[K_CP_WRONG_GRANTEE] = {cp_wrong_grantee, CP_GRANTS},
	[K_CP_FOREIGN_FRAME] = {cp_foreign_frame, 0},
	[K_CP_LEN0] = {cp_len0, 0},
	[K_CP_BAD_GMFN] = {cp_bad_gmfn, 0},
	[K_CP_INVALID_ENTRY] = {cp_invalid_entry, CP_GRANTS},
	[K_CP_BAD_PAGE] = {cp_bad_page, CP_GRANTS},
};

/* One copy op of kind @p k; returns false if the queue cannot build it now. */
static bool
build_copy(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct copy_build x = {
		.s = s,
		.q = q,
		.l = &s->lay,
		.c = op_at(q, i),
		.m = &q->cur.meta[i],
		.p = &q->plan[i],
	};
	uint16_t len;

	memset(x.c, 0, sizeof(*x.c));
	rand_range(q, &x.so, &x.dof, &len);
	x.c->len = len;
	if (k >= K_COUNT || copy_kinds[k].build == NULL ||
	    (q->client_idx < 0 && (copy_kinds[k].needs & CP_GRANTS)) ||
	    (q->verified_frames < 2 && (copy_kinds[k].needs & CP_LOCALS)))
		return false;
	if (!copy_kinds[k].build(&x))
		return false;
	x.m->kind = k;
	return true;
}

/* ---- Map ops ----------------------------------------------------------------------- */

/* Pin counter index (hstw, hstr, devw, devr) of each part of a map. */
static uint32_t
pins_of(uint32_t flags, uint16_t *cnt)
{
	bool ro = (flags & GNTDP_GNTMAP_READONLY) != 0;
	uint32_t inc = 0;

	if (flags & GNTDP_GNTMAP_HOST_MAP)
		inc |= 1u << (ro ? 1 : 0);
	if (flags & GNTDP_GNTMAP_DEVICE_MAP)
		inc |= 1u << (ro ? 3 : 2);
	if (cnt != NULL) {
		for (int b = 0; b < 4; b++) {
			if ((inc & (1u << b)) && cnt[b] >= PIN_SOFT_LIMIT)
				return 0;
		}
	}
	return inc;
}

static void
pins_add(uint16_t *cnt, uint32_t inc, int dir)
{
	for (int b = 0; b < 4; b++) {
		if (inc & (1u << b))
			cnt[b] = (uint16_t)(cnt[b] + dir);
	}
}

uint32_t
rand_map_flags(struct qmodel *q, bool ro_only, bool need_host_gfn)
{
	uint32_t r = rng_below(&q->rng, 10);
	uint32_t f = r < 5   ? GNTDP_GNTMAP_HOST_MAP
		     : r < 8 ? GNTDP_GNTMAP_DEVICE_MAP
			     : GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP;

	if (!need_host_gfn)
		f = GNTDP_GNTMAP_DEVICE_MAP;
	if (ro_only || rng_below(&q->rng, 3) == 0)
		f |= GNTDP_GNTMAP_READONLY;
	return f;
}

static uint32_t
count_zone(const struct qmodel *q, uint8_t zone)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < q->nb_maps; i++)
		n += q->maps[i].zone == zone && q->maps[i].state != 0xff;
	return n;
}

static bool
build_map(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_map_grant_ref *mp = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	const struct layout *l = &s->lay;
	uint32_t flags, kk, gfn;
	gntdp_domid_t g;
	struct churn *ch;
	bool host_ok = q->nb_gfn_free > 0;
	uint32_t limit = q->ds->max_maptrack_frames * GNTDP_MAPTRACK_PER_FRAME;
	/* A handle exists unless the maptrack is full (only the pressure domain gets there). */
	bool handle_ok = q->live_handles < limit;

	memset(mp, 0, sizeof(*mp));
	p->gfn = NO_GFN;
	p->map_idx = -1;
	if (q->client_idx < 0)
		return false;
	switch (k) {
	case K_MP_STABLE:
	case K_MP_PRESSURE:
		kk = pick_sref(q, false);
		flags = rand_map_flags(q, q->sref[kk].ro, host_ok && k == K_MP_STABLE);
		if (pins_of(flags, q->sref[kk].pins) == 0)
			return false;
		mp->ref = q->sref[kk].ref;
		mp->dom = q->sref[kk].g;
		p->map_idx = (int32_t)kk;
		p->pin_inc = pins_of(flags, NULL);
		pins_add(q->sref[kk].pins, p->pin_inc, 1);
		m->aux = Z_STABLE;
		m->mask = handle_ok ? M_OKAY : M_NO_SPACE;
		break;
	case K_MP_CHURN:
		ch = pick_churn(s, q, &g);
		if (ch->maps >= PIN_SOFT_LIMIT)
			return false;
		flags = rand_map_flags(q, false, host_ok);
		mp->ref = ch->ref;
		mp->dom = g;
		m->aux = Z_CHURN;
		m->mask = racy(s,
			       ch->state == CH_INVALID || (ch->state == CH_RO &&
							   !(flags & GNTDP_GNTMAP_READONLY))
				       ? M_GENERAL
				       : M_OKAY,
			       M_OKAY | M_GENERAL);
		ch->maps++;
		p->map_idx = (int32_t)(ch - s->g[g == DOM_G1 ? 0 : 1].churn);
		p->aux_g = g;
		break;
	case K_MP_VICTIM:
		if (count_zone(q, Z_VICTIM) >= 100)
			return false;
		flags = rand_map_flags(q, false, host_ok);
		mp->ref = lay_victim_ref(l, (uint32_t)q->client_idx,
					 rng_below(&q->rng, l->victim_refs));
		mp->dom = DOM_VG;
		m->aux = Z_VICTIM;
		m->mask = racy(s, s->vg_alive ? M_OKAY : M_BAD_DOMAIN,
			       M_OKAY | M_GENERAL | M_BAD_DOMAIN);
		break;
	case K_MP_CORRUPT:
		if (count_zone(q, Z_CORRUPT) >= 32)
			return false;
		flags = rand_map_flags(q, false, host_ok);
		mp->ref = lay_corrupt_ref(l, rng_below(&q->rng, l->corrupt_refs));
		mp->dom = gdom(rng_below(&q->rng, NB_GUESTS));
		m->aux = Z_CORRUPT;
		m->mask = spec_mask(GNTDP_GNTTABOP_MAP_GRANT_REF);
		break;
	case K_MP_SAT:
		kk = rng_below(&q->rng, NB_GUESTS);
		flags = GNTDP_GNTMAP_DEVICE_MAP | GNTDP_GNTMAP_READONLY;
		mp->ref = lay_sat_ref(l, (uint32_t)q->client_idx);
		mp->dom = gdom(kk);
		/* Xen's counters saturate at 128 users (spec 2.2); copies never pin devr. */
		m->mask = q->sat_devr[kk] < 128 ? M_OKAY : M_GENERAL;
		q->sat_devr[kk]++;
		m->aux = Z_SAT;
		p->aux_g = gdom(kk);
		break;
	case K_MP_NOFLAGS:
		mp->flags = rng_below(&q->rng, 2) ? GNTDP_GNTMAP_READONLY : 0;
		mp->ref = q->sref[pick_sref(q, false)].ref;
		mp->dom = DOM_G1;
		mp->host_addr = rng_next(&q->rng);
		m->mask = M_BAD_GNTREF;
		m->kind = k;
		return true;
	case K_MP_BAD_DOMAIN:
		mp->flags = GNTDP_GNTMAP_HOST_MAP;
		mp->dom = rng_below(&q->rng, 3) == 0 ? GNTDP_DOMID_SELF : bad_domid(q);
		mp->ref = q->sref[0].ref;
		mp->host_addr = (uint64_t)(q->map_gfn0) << GNTDP_PAGE_SHIFT;
		m->mask = M_BAD_DOMAIN;
		m->kind = k;
		return true;
	case K_MP_BAD_REF:
		mp->flags = GNTDP_GNTMAP_DEVICE_MAP;
		mp->dom = gdom(rng_below(&q->rng, NB_GUESTS));
		mp->ref = rng_below(&q->rng, 2)
				  ? 0xffffffffu
				  : STRESS_MAX_GRANT_FRAMES * GNTDP_GRANT_ENTRIES_PER_FRAME_V1;
		m->mask = handle_ok ? M_BAD_GNTREF : M_NO_SPACE;
		m->kind = k;
		return true;
	case K_MP_RO_WRITABLE:
		kk = pick_ro_sref(q);
		mp->flags = GNTDP_GNTMAP_DEVICE_MAP;
		mp->ref = q->sref[kk].ref;
		mp->dom = q->sref[kk].g;
		m->mask = handle_ok ? M_GENERAL : M_NO_SPACE;
		m->kind = k;
		return true;
	case K_MP_WRONG_GRANTEE:
		mp->flags = GNTDP_GNTMAP_DEVICE_MAP |
			    (rng_below(&q->rng, 2) ? GNTDP_GNTMAP_READONLY : 0);
		mp->ref = lay_stable_ref(l, other_client(s, q), rng_below(&q->rng, l->stable_refs));
		mp->dom = gdom(rng_below(&q->rng, NB_GUESTS));
		m->mask = handle_ok ? M_GENERAL : M_NO_SPACE;
		m->kind = k;
		return true;
	case K_MP_APP_MAP:
		mp->flags = GNTDP_GNTMAP_HOST_MAP |
			    (rng_below(&q->rng, 2) ? GNTDP_GNTMAP_APPLICATION_MAP
						   : GNTDP_GNTMAP_CONTAINS_PTE);
		mp->ref = q->sref[0].ref;
		mp->dom = q->sref[0].g;
		mp->host_addr = (uint64_t)q->map_gfn0 << GNTDP_PAGE_SHIFT;
		m->mask = M_GENERAL;
		m->kind = k;
		return true;
	case K_MP_GFN_BUSY:
		kk = pick_sref(q, false);
		flags = GNTDP_GNTMAP_HOST_MAP | (q->sref[kk].ro ? GNTDP_GNTMAP_READONLY : 0);
		if (pins_of(flags, q->sref[kk].pins) == 0)
			return false;
		mp->flags = flags;
		mp->ref = q->sref[kk].ref;
		mp->dom = q->sref[kk].g;
		/* Own RAM, or past the physmap: the translated insert must fail. */
		gfn = q->verified_frames > 0 && rng_below(&q->rng, 2)
			      ? pick_local(q)
			      : q->ds->p2m_size + rng_below(&q->rng, 64);
		mp->host_addr = (uint64_t)gfn << GNTDP_PAGE_SHIFT;
		m->mask = handle_ok ? M_GENERAL : M_NO_SPACE;
		m->kind = k;
		return true;
	case K_MP_BAD_PAGE:
		mp->flags = GNTDP_GNTMAP_DEVICE_MAP;
		mp->ref = lay_bad_ref(l, (uint32_t)q->client_idx);
		mp->dom = gdom(rng_below(&q->rng, NB_GUESTS));
		m->mask = handle_ok ? M_BAD_PAGE : M_NO_SPACE;
		m->kind = k;
		return true;
	default:
		return false;
	}
	/* A map that may succeed: host part on a gfn of our own. */
	if (flags & GNTDP_GNTMAP_HOST_MAP) {
		p->gfn = take_gfn(q);
		mp->host_addr = (uint64_t)p->gfn << GNTDP_PAGE_SHIFT;
	}
	mp->flags = flags;
	/* Step 5 (maptrack handle) comes before every check but the domain lookup. */
	if (!handle_ok)
		m->mask = (m->mask & M_BAD_DOMAIN) | M_NO_SPACE;
	else if (m->mask & M_OKAY)
		q->live_handles++; /* planned; undone if it fails */
	m->kind = k;
	p->part = (uint8_t)flags;
	return true;
}

/* ---- Unmap ops ----------------------------------------------------------------------- */

int
pick_live_mapping(struct qmodel *q, uint8_t need)
{
	if (q->nb_maps == 0)
		return -1;
	for (int tries = 0; tries < 16; tries++) {
		uint32_t k = rng_below(&q->rng, q->nb_maps);
		struct mapping *mm = &q->maps[k];

		if (mm->state == MS_LIVE && (mm->flags & need) == need)
			return (int)k;
	}
	return -1;
}

static void
unmap_fill(struct gntdp_gnttab_unmap_grant_ref *u, struct op_meta *m, const struct mapping *mm,
	   uint8_t parts)
{
	u->handle = mm->handle;
	u->host_addr = (parts & GNTDP_GNTMAP_HOST_MAP) ? (uint64_t)mm->gfn << GNTDP_PAGE_SHIFT : 0;
	u->dev_bus_addr = (parts & GNTDP_GNTMAP_DEVICE_MAP) ? mm->dev : 0;
	m->orec = mm->orec;
	m->oop = mm->oop;
}

static bool
build_unmap(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_unmap_grant_ref *u = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	struct mapping *mm;
	int x;

	(void)s;
	memset(u, 0, sizeof(*u));
	p->map_idx = -1;
	switch (k) {
	case K_UM_VALID:
		x = pick_live_mapping(q, 0);
		if (x < 0)
			return false;
		mm = &q->maps[x];
		unmap_fill(u, m, mm, mm->flags);
		mm->state = MS_UNMAPPING;
		p->map_idx = x;
		p->part = mm->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP);
		m->mask = M_OKAY;
		break;
	case K_UM_PARTIAL:
		x = pick_live_mapping(q, GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP);
		if (x < 0)
			return false;
		mm = &q->maps[x];
		p->part = rng_below(&q->rng, 2) ? GNTDP_GNTMAP_HOST_MAP : GNTDP_GNTMAP_DEVICE_MAP;
		unmap_fill(u, m, mm, p->part);
		mm->state = MS_UNMAPPING;
		p->map_idx = x;
		m->mask = M_OKAY;
		break;
	case K_UM_ZERO:
		x = pick_live_mapping(q, 0);
		if (x < 0)
			return false;
		unmap_fill(u, m, &q->maps[x], 0);
		m->mask = M_OKAY;
		break;
	case K_UM_BAD_HOST:
		x = pick_live_mapping(q, GNTDP_GNTMAP_HOST_MAP);
		if (x < 0 || (q->nb_gfn_free == 0 && q->verified_frames == 0))
			return false;
		mm = &q->maps[x];
		unmap_fill(u, m, mm, 0);
		/* A gfn holding nothing of this frame: free map-area gfn or own RAM. */
		/* Never gfn 0: host_addr 0 means "leave the host part" (a no-op, okay). */
		u->host_addr = (uint64_t)(q->nb_gfn_free > 0 && rng_below(&q->rng, 2)
						  ? q->gfn_free[rng_below(&q->rng, q->nb_gfn_free)]
						  : 1 + rng_below(&q->rng, q->verified_frames - 1))
			       << GNTDP_PAGE_SHIFT;
		m->mask = M_GENERAL;
		break;
	case K_UM_BAD_DEV:
		x = pick_live_mapping(q, GNTDP_GNTMAP_DEVICE_MAP);
		if (x < 0)
			return false;
		mm = &q->maps[x];
		unmap_fill(u, m, mm, GNTDP_GNTMAP_DEVICE_MAP);
		/* Differs only in the low 12 bits or only above them (XSA-224: full compare). */
		u->dev_bus_addr =
			mm->dev ^ (rng_below(&q->rng, 2) ? 1u + rng_below(&q->rng, 0xfff)
							 : (uint64_t)GNTDP_PAGE_SIZE << 4);
		m->mask = M_BAD_DEV_ADDR;
		break;
	case K_UM_STALE:
		if (q->nb_stale > 0 && rng_below(&q->rng, 3) != 0)
			u->handle = q->stale[rng_below(&q->rng, q->nb_stale)];
		else
			u->handle = rng_below(&q->rng, 2) ? 0xffffffffu
							  : (1u << 24) + rng_below(&q->rng, 99);
		u->host_addr = (uint64_t)q->map_gfn0 << GNTDP_PAGE_SHIFT;
		u->dev_bus_addr = rng_next(&q->rng) | 1;
		m->mask = M_BAD_HANDLE;
		break;
	case K_UM_DOUBLE:
		/* The same handle as a full unmap earlier in this batch: freed by then. */
		for (uint32_t t = 0; t < 8 && i > 0; t++) {
			uint32_t e = rng_below(&q->rng, i);

			if (q->cur.meta[e].kind == K_UM_VALID) {
				*u = *(const struct gntdp_gnttab_unmap_grant_ref *)op_at(q, e);
				m->orec = q->cur.meta[e].orec;
				m->oop = q->cur.meta[e].oop;
				m->mask = M_BAD_HANDLE;
				m->kind = k;
				return true;
			}
		}
		return false;
	default:
		return false;
	}
	m->kind = k;
	return true;
}

/* ---- Table ops, transfers ---------------------------------------------------------- */

static gntdp_domid_t
other_live_domid(struct sim *s, struct qmodel *q)
{
	(void)s;
	if (q->domid == DOM_G1 || q->domid == DOM_G2)
		return q->domid == DOM_G1 ? DOM_G2 : DOM_G1;
	return rng_below(&q->rng, 2) ? DOM_G1 : DOM_G2;
}

static bool
build_setup(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_setup_table *st = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	uint32_t max = q->ds->max_grant_frames;

	memset(st, 0, sizeof(*st));
	st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)1;
	switch (k) {
	case K_ST_SELF:
		st->dom = rng_below(&q->rng, 2) ? GNTDP_DOMID_SELF : q->domid;
		st->nr_frames = 1 + rng_below(&q->rng, max);
		m->mask = M_OKAY;
		break;
	case K_ST_TOO_BIG:
		st->dom = GNTDP_DOMID_SELF;
		st->nr_frames = max + 1 + rng_below(&q->rng, 2) * rng_below(&q->rng, 4000);
		m->mask = M_GENERAL;
		break;
	case K_ST_OTHER_UNPRIV:
		if (q->privileged)
			return false;
		st->dom = other_live_domid(s, q);
		st->nr_frames = 1;
		m->mask = M_PERM;
		break;
	case K_ST_OTHER_PRIV:
		if (!q->privileged)
			return false;
		st->dom = other_live_domid(s, q);
		st->nr_frames = rng_below(&q->rng, 2); /* never grows someone else's table */
		m->mask = M_OKAY;
		break;
	case K_ST_BAD_DOMAIN:
		st->dom = DOM_NONE;
		st->nr_frames = 1;
		m->mask = M_BAD_DOMAIN;
		break;
	case K_ST_NULL_LIST:
		st->dom = GNTDP_DOMID_SELF;
		st->nr_frames = 1 + rng_below(&q->rng, 4);
		st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)bad_gaddr(q);
		/* Translated caller (Xen): the table grows, then the write faults. */
		m->mask = st->nr_frames > max ? M_GENERAL : ST(GNTDP_GNTST_BAD_VIRT_ADDR);
		m->kind = k;
		return true;
	case K_ST_ZERO:
		st->dom = GNTDP_DOMID_SELF;
		st->nr_frames = 0;
		m->mask = M_OKAY;
		break;
	default:
		return false;
	}
	m->kind = k;
	return true;
}

static bool
build_query(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	uint8_t cmd = q->cur.cmd;
	struct op_meta *m = &q->cur.meta[i];
	gntdp_domid_t dom;

	switch (k) {
	case K_QS_SELF:
	case K_DT_SELF:
		dom = rng_below(&q->rng, 2) ? GNTDP_DOMID_SELF : q->domid;
		m->mask = M_OKAY;
		break;
	case K_QS_OTHER_UNPRIV:
	case K_DT_OTHER_UNPRIV:
		if (q->privileged)
			return false;
		dom = other_live_domid(s, q);
		m->mask = M_PERM;
		break;
	case K_QS_OTHER_PRIV:
	case K_DT_OTHER_PRIV:
		if (!q->privileged)
			return false;
		dom = other_live_domid(s, q);
		m->mask = M_OKAY;
		break;
	case K_QS_BAD_DOMAIN:
	case K_DT_BAD_DOMAIN:
		dom = bad_domid(q);
		m->mask = M_BAD_DOMAIN;
		break;
	default:
		return false;
	}
	if (cmd == GNTDP_GNTTABOP_QUERY_SIZE) {
		struct gntdp_gnttab_query_size *qs = op_at(q, i);

		memset(qs, 0, sizeof(*qs));
		qs->dom = dom;
	} else {
		struct gntdp_gnttab_dump_table *dt = op_at(q, i);

		memset(dt, 0, sizeof(*dt));
		dt->dom = dom;
	}
	m->kind = k;
	return true;
}

static int
pick_pool(struct qmodel *q, uint8_t want)
{
	for (int t = 0; t < 8; t++) {
		uint32_t x = rng_below(&q->rng, q->tp);

		if (q->pool[x] == want)
			return (int)x;
	}
	return -1;
}

static bool
build_transfer(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_transfer *t = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	struct gmodel *g1 = &s->g[0];
	int x, a;

	memset(t, 0, sizeof(*t));
	switch (k) {
	case K_TR_BAD_GFN:
		t->mfn = bad_gmfn(s, q);
		t->domid = DOM_G1;
		t->ref = lay_accept_ref(&s->lay, 0);
		m->mask = M_BAD_PAGE;
		break;
	case K_TR_MAPPED_GFN:
		x = pick_live_mapping(q, GNTDP_GNTMAP_HOST_MAP);
		if (x < 0)
			return false;
		t->mfn = q->maps[x].gfn; /* a foreign frame mapped here is not ours to give */
		t->domid = DOM_G1;
		t->ref = lay_accept_ref(&s->lay, 0);
		m->mask = M_BAD_PAGE;
		break;
	case K_TR_VALID:
	case K_TR_BAD_DOMAIN:
	case K_TR_NOT_OFFERED:
	case K_TR_SELF:
		if (q->role != ROLE_VCLIENT || (x = pick_pool(q, 1)) < 0)
			return false;
		t->mfn = q->verified_frames + q->scratch_frames + (uint32_t)x;
		p->pool = (uint8_t)(x + 1);
		q->pool[x] = 2;
		if (k == K_TR_VALID) {
			a = -1;
			for (uint32_t tries = 0; tries < 8 && a < 0; tries++) {
				uint32_t c = rng_below(&q->rng, g1->nb_acc);

				if (g1->acc[c].state == AC_OFFERED && !g1->acc[c].aimed)
					a = (int)c;
			}
			if (a < 0) {
				q->pool[x] = 1;
				p->pool = 0;
				return false;
			}
			/* At most one transfer aims at an offer, so whatever lands there is this
			 * page. */
			g1->acc[a].aimed = true;
			g1->acc[a].tag = q->pool_tag[x];
			t->domid = DOM_G1;
			t->ref = g1->acc[a].ref;
			p->map_idx = a;
			m->mask = racy(s, M_OKAY, M_OKAY | M_GENERAL);
		} else if (k == K_TR_BAD_DOMAIN || k == K_TR_SELF) {
			t->domid = k == K_TR_SELF ? GNTDP_DOMID_SELF : DOM_NONE;
			t->ref = 0;
			m->mask = M_BAD_DOMAIN; /* the page is lost (seed header) */
		} else {
			t->domid = DOM_G1;
			t->ref = q->sref[0].ref; /* a permit_access entry, not an offer */
			m->mask = M_GENERAL;
		}
		break;
	case K_TR_RETURN: {
		struct qmodel *vc = sim_queue_of(s, DOM_VC);
		int tp = -1;

		if (q->domid != DOM_G1 || vc == NULL || q->nb_ret_pending == 0)
			return false;
		for (uint32_t c = 0; c < vc->tp && tp < 0; c++) {
			if (vc->pool[c] == 0 && vc->pool_offer[c] && !vc->pool_aimed[c])
				tp = (int)c;
		}
		if (tp < 0)
			return false;
		a = (int)q->ret_pending[--q->nb_ret_pending] - 1;
		t->mfn = g1->acc[a].slot;
		t->domid = DOM_VC;
		t->ref = RESERVED_REFS + (uint32_t)tp;
		vc->pool_aimed[tp] = 1;
		vc->pool_tag[tp] = g1->acc[a].tag;
		p->map_idx = a;
		p->pool = (uint8_t)(tp + 1);
		m->mask = racy(s, s->vc_alive ? M_OKAY : M_BAD_DOMAIN,
			       M_OKAY | M_GENERAL | M_BAD_DOMAIN);
		break;
	}
	default:
		return false;
	}
	m->kind = k;
	return true;
}

/* ---- Choosing a batch ------------------------------------------------------------------ */

struct kind_w {
	uint8_t kind;
	uint8_t weight;
};

static const struct kind_w copy_valid[] = {
	{K_CP_L2S, 30},      {K_CP_S2L, 25},      {K_CP_S2S, 15},   {K_CP_L2L, 10},
	{K_CP_CHURN_SRC, 8}, {K_CP_CHURN_DST, 8}, {K_CP_VICTIM, 3}, {K_CP_CORRUPT, 1},
};
static const struct kind_w copy_invalid[] = {
	{K_CP_BAD_DOMAIN, 10},    {K_CP_BAD_REF, 10},       {K_CP_CROSS, 10}, {K_CP_RO_DEST, 10},
	{K_CP_WRONG_GRANTEE, 10}, {K_CP_FOREIGN_FRAME, 10}, {K_CP_LEN0, 10},  {K_CP_BAD_GMFN, 8},
	{K_CP_INVALID_ENTRY, 6},  {K_CP_BAD_PAGE, 6},
};
static const struct kind_w map_valid[] = {
	{K_MP_STABLE, 60},
	{K_MP_CHURN, 25},
	{K_MP_VICTIM, 8},
	{K_MP_CORRUPT, 3},
};
static const struct kind_w map_invalid[] = {
	{K_MP_NOFLAGS, 10},     {K_MP_BAD_DOMAIN, 10},    {K_MP_BAD_REF, 10},
	{K_MP_RO_WRITABLE, 10}, {K_MP_WRONG_GRANTEE, 10}, {K_MP_APP_MAP, 8},
	{K_MP_GFN_BUSY, 8},     {K_MP_BAD_PAGE, 8},       {K_MP_SAT, 6},
};
static const struct kind_w unmap_valid[] = {
	{K_UM_VALID, 80},
	{K_UM_PARTIAL, 15},
	{K_UM_ZERO, 5},
};
static const struct kind_w unmap_invalid[] = {
	{K_UM_BAD_HOST, 10},
	{K_UM_BAD_DEV, 10},
	{K_UM_STALE, 15},
	{K_UM_DOUBLE, 10},
};
static const struct kind_w setup_kinds[] = {
	{K_ST_SELF, 30},       {K_ST_TOO_BIG, 15},   {K_ST_OTHER_UNPRIV, 10}, {K_ST_OTHER_PRIV, 10},
	{K_ST_BAD_DOMAIN, 10}, {K_ST_NULL_LIST, 10}, {K_ST_ZERO, 5},
};
static const struct kind_w query_kinds[] = {
	{K_QS_SELF, 40},
	{K_QS_OTHER_UNPRIV, 20},
	{K_QS_OTHER_PRIV, 20},
	{K_QS_BAD_DOMAIN, 20},
};
static const struct kind_w dump_kinds[] = {
	{K_DT_SELF, 50},
	{K_DT_OTHER_UNPRIV, 20},
	{K_DT_OTHER_PRIV, 5},
	{K_DT_BAD_DOMAIN, 25},
};
static const struct kind_w transfer_vc[] = {
	{K_TR_VALID, 70}, {K_TR_BAD_DOMAIN, 6}, {K_TR_NOT_OFFERED, 6},
	{K_TR_SELF, 4},   {K_TR_BAD_GFN, 8},    {K_TR_MAPPED_GFN, 6},
};
static const struct kind_w transfer_client[] = {
	{K_TR_BAD_GFN, 60},
	{K_TR_MAPPED_GFN, 40},
};

#define NW(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t
pick_kind(struct qmodel *q, const struct kind_w *t, size_t n)
{
	uint32_t total = 0, r;

	for (size_t i = 0; i < n; i++)
		total += t[i].weight;
	r = rng_below(&q->rng, total);
	for (size_t i = 0; i < n; i++) {
		if (r < t[i].weight)
			return t[i].kind;
		r -= t[i].weight;
	}
	return t[0].kind;
}

/* Batch size: mostly small, sometimes up to max_batch (log-uniform above 256). */
static uint32_t
pick_count(struct sim *s, struct qmodel *q)
{
	uint32_t max = s->conf->max_batch;

	if (rng_pct(&q->rng, s->conf->big_batch_pct) && max > 256) {
		uint32_t span = max - 256;
		uint32_t bits = 1 + rng_below(&q->rng, 12);
		uint32_t n = 257 + rng_below(&q->rng, (1u << bits) < span ? (1u << bits) : span);

		return n < max ? n : max;
	}
	if (rng_below(&q->rng, 4) == 0)
		return 1 + rng_below(&q->rng, 8);
	return 1 + rng_below(&q->rng, max < 256 ? max : 256);
}

static uint8_t
pick_cmd(struct sim *s, struct qmodel *q)
{
	uint32_t r = rng_below(&q->rng, 100);

	if (s->v2.on) {
		uint8_t c = v2_pick_cmd(s, q);

		if (c != 0xff)
			return c;
	}
	switch (q->role) {
	case ROLE_GUEST:
		if (q->nb_ret_pending > 0 && r < 60)
			return GNTDP_GNTTABOP_TRANSFER;
		return r < 70   ? GNTDP_GNTTABOP_SETUP_TABLE
		       : r < 95 ? GNTDP_GNTTABOP_QUERY_SIZE
				: GNTDP_GNTTABOP_DUMP_TABLE;
	case ROLE_PRESSURE:
		if (r < 45)
			return GNTDP_GNTTABOP_MAP_GRANT_REF;
		if (r < 75)
			return q->nb_maps > 0 ? GNTDP_GNTTABOP_UNMAP_GRANT_REF
					      : GNTDP_GNTTABOP_MAP_GRANT_REF;
		if (r < 85)
			return GNTDP_GNTTABOP_SETUP_TABLE;
		return GNTDP_GNTTABOP_COPY;
	case ROLE_VCLIENT:
		if (r < 25)
			return GNTDP_GNTTABOP_TRANSFER;
		r = rng_below(&q->rng, 100);
		break;
	default:
		break;
	}
	/* Clients: mostly copies; maps and unmaps; the rest rarely. */
	if (q->nb_maps > 1500 && r < 60)
		return GNTDP_GNTTABOP_UNMAP_GRANT_REF;
	if (r < 50)
		return GNTDP_GNTTABOP_COPY;
	if (r < 70)
		return GNTDP_GNTTABOP_MAP_GRANT_REF;
	if (r < 90)
		return q->nb_maps > 0 ? GNTDP_GNTTABOP_UNMAP_GRANT_REF
				      : GNTDP_GNTTABOP_MAP_GRANT_REF;
	if (r < 93)
		return GNTDP_GNTTABOP_SETUP_TABLE;
	if (r < 96)
		return GNTDP_GNTTABOP_QUERY_SIZE;
	if (r < 97)
		return GNTDP_GNTTABOP_DUMP_TABLE;
	return GNTDP_GNTTABOP_TRANSFER;
}

/* Fallback kinds that can always be built (no resources needed). */
static uint8_t
fallback_kind(uint8_t cmd)
{
	switch (cmd) {
	case GNTDP_GNTTABOP_COPY:
		return K_CP_LEN0;
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		return K_MP_NOFLAGS;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		return K_UM_STALE;
	case GNTDP_GNTTABOP_SETUP_TABLE:
		return K_ST_BAD_DOMAIN;
	case GNTDP_GNTTABOP_QUERY_SIZE:
		return K_QS_BAD_DOMAIN;
	case GNTDP_GNTTABOP_DUMP_TABLE:
		return K_DT_BAD_DOMAIN;
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		return K_UR_STALE;
	case GNTDP_GNTTABOP_SET_VERSION:
		return K_SV_BAD;
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		return K_GS_BAD_DOMAIN;
	case GNTDP_GNTTABOP_GET_VERSION:
		return K_GV_BAD_DOMAIN;
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
		return K_SW_RANGE;
	case GNTDP_GNTTABOP_CACHE_FLUSH:
		return K_CF_BAD_ARGS;
	default:
		return K_TR_BAD_GFN;
	}
}

static bool
build_one(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	if (k >= K_CP_V2)
		return v2_build(s, q, i, k);
	switch (q->cur.cmd) {
	case GNTDP_GNTTABOP_COPY:
		return build_copy(s, q, i, k);
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		return build_map(s, q, i, k);
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		return build_unmap(s, q, i, k);
	case GNTDP_GNTTABOP_SETUP_TABLE:
		return build_setup(s, q, i, k);
	case GNTDP_GNTTABOP_QUERY_SIZE:
	case GNTDP_GNTTABOP_DUMP_TABLE:
		return build_query(s, q, i, k);
	case GNTDP_GNTTABOP_TRANSFER:
		return build_transfer(s, q, i, k);
	default:
		return false;
	}
}

static uint8_t
choose_kind(struct sim *s, struct qmodel *q, bool sat_batch)
{
	bool inv;

	if (s->v2.on) {
		uint8_t k = v2_choose_kind(s, q);

		if (k != K_NONE)
			return k;
	}
	inv = rng_pct(&q->rng, s->conf->invalid_pct);

	switch (q->cur.cmd) {
	case GNTDP_GNTTABOP_COPY:
		return inv ? pick_kind(q, copy_invalid, NW(copy_invalid))
			   : pick_kind(q, copy_valid, NW(copy_valid));
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		if (sat_batch)
			return K_MP_SAT;
		if (q->role == ROLE_PRESSURE && !inv)
			return K_MP_PRESSURE;
		return inv ? pick_kind(q, map_invalid, NW(map_invalid))
			   : pick_kind(q, map_valid, NW(map_valid));
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		return inv ? pick_kind(q, unmap_invalid, NW(unmap_invalid))
			   : pick_kind(q, unmap_valid, NW(unmap_valid));
	case GNTDP_GNTTABOP_SETUP_TABLE:
		if (q->role == ROLE_GUEST || q->role == ROLE_PRESSURE)
			return rng_below(&q->rng, 3) ? K_ST_SELF : K_ST_TOO_BIG;
		return pick_kind(q, setup_kinds, NW(setup_kinds));
	case GNTDP_GNTTABOP_QUERY_SIZE:
		return pick_kind(q, query_kinds, NW(query_kinds));
	case GNTDP_GNTTABOP_DUMP_TABLE:
		return pick_kind(q, dump_kinds, NW(dump_kinds));
	default:
		if (q->role == ROLE_GUEST)
			return K_TR_RETURN;
		return q->role == ROLE_VCLIENT ? pick_kind(q, transfer_vc, NW(transfer_vc))
					       : pick_kind(q, transfer_client, NW(transfer_client));
	}
}

static void
batch_begin(struct sim *s, struct qmodel *q, uint8_t type, uint8_t cmd)
{
	q->cur.type = type;
	q->cur.cmd = cmd;
	q->cur.qid = (uint16_t)q->qid;
	q->cur.count = 0;
	q->cur_rec = s->nrec; /* origin of the handles this batch makes */
	q->cur_viol = false;
	q->submitted = q->completed = 0;
	memset(q->touched_local, 0, sizeof(q->touched_local));
	memset(q->touched_sref, 0, sizeof(q->touched_sref));
}

/* Whole-batch adjustments: callers that may be destroyed under the batch. */
static void
batch_end(struct sim *s, struct qmodel *q)
{
	bool mortal = q->role == ROLE_VCLIENT || q->role == ROLE_HOSTILE;
	bool dead = !world_dom_alive(s->wa, q->domid);

	for (uint32_t i = 0; i < q->cur.count; i++) {
		struct op_meta *m = &q->cur.meta[i];

		if (m->mask & M_STATUS_ALL && !(m->mask & RC_ANY))
			m->mask |= RC_OK;
		/* Refusals that come before the caller is looked up stay as they are (the errnos
		 * of commands 8-12 come after it: garbage marks them with aux). */
		if ((m->mask & (RC_EINVAL | RC_ENOSYS)) && !(m->kind == K_GARBAGE && m->aux))
			continue;
		if (mortal && s->conc)
			m->mask |= M_DEAD_CALLER;
		else if (dead && (m->mask & RC_EFAULT))
			m->mask |= M_DEAD_CALLER; /* an array that wraps faults before the lookup */
		else if (dead)
			m->mask = M_DEAD_CALLER;
	}
	s->nrec++;
}

uint32_t
gen_batch(struct sim *s, struct qmodel *q)
{
	uint8_t cmd;
	uint32_t n;
	bool sat = false;

	if (q->role == ROLE_HOSTILE) {
		batch_begin(s, q, REC_RAW, 0);
		q->end_used = false;
		n = pick_count(s, q);
		for (uint32_t i = 0; i < n; i++) {
			memset(&q->plan[i], 0, sizeof(q->plan[i]));
			memset(&q->cur.meta[i], 0, sizeof(q->cur.meta[i]));
			build_garbage(s, q, i);
		}
		q->cur.count = n;
		batch_end(s, q);
		return n;
	}
	cmd = pick_cmd(s, q);
	batch_begin(s, q, REC_BATCH, cmd);
	n = pick_count(s, q);
	/* One switch per batch: the model checks each against the table it leaves. */
	if (cmd >= GNTDP_GNTTABOP_UNMAP_AND_REPLACE)
		n = cmd == GNTDP_GNTTABOP_SET_VERSION ? 1 : 1 + rng_below(&q->rng, 12);
	if (cmd == GNTDP_GNTTABOP_SETUP_TABLE || cmd == GNTDP_GNTTABOP_QUERY_SIZE ||
	    cmd == GNTDP_GNTTABOP_DUMP_TABLE)
		n = 1 +
		    rng_below(&q->rng, cmd == GNTDP_GNTTABOP_DUMP_TABLE ? 2 : STRESS_MAX_SETUP_OPS);
	if (cmd == GNTDP_GNTTABOP_UNMAP_GRANT_REF && n > q->nb_maps + 8)
		n = q->nb_maps + 1 + rng_below(&q->rng, 8);
	if (cmd == GNTDP_GNTTABOP_TRANSFER && n > 16)
		n = 1 + rng_below(&q->rng, 16);
	if (cmd == GNTDP_GNTTABOP_MAP_GRANT_REF && q->client_idx >= 0 &&
	    rng_below(&q->rng, 30) == 0) {
		sat = true; /* a saturation batch: pass Xen's 128-user limit on one counter */
		n = 120 + rng_below(&q->rng, 30);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct op_meta *m = &q->cur.meta[i];
		struct op_plan *p = &q->plan[i];
		bool ok = false;

		for (int tries = 0; tries < 4 && !ok; tries++) {
			memset(m, 0, sizeof(*m));
			memset(p, 0, sizeof(*p));
			p->gfn = NO_GFN;
			p->map_idx = -1;
			ok = build_one(s, q, i, choose_kind(s, q, sat));
		}
		if (!ok) {
			memset(m, 0, sizeof(*m));
			memset(p, 0, sizeof(*p));
			p->gfn = NO_GFN;
			p->map_idx = -1;
			if (!build_one(s, q, i, fallback_kind(cmd)))
				break;
		}
		q->cur.count = i + 1;
	}
	batch_end(s, q);
	return q->cur.count;
}

uint32_t
gen_unmap_all(struct sim *s, struct qmodel *q)
{
	uint32_t n = 0;

	batch_begin(s, q, REC_BATCH, GNTDP_GNTTABOP_UNMAP_GRANT_REF);
	for (uint32_t x = 0; x < q->nb_maps && n < STRESS_MAX_BATCH; x++) {
		struct mapping *mm = &q->maps[x];
		struct gntdp_gnttab_unmap_grant_ref *u = op_at(q, n);
		struct op_meta *m = &q->cur.meta[n];
		struct op_plan *p = &q->plan[n];

		if (mm->state != MS_LIVE)
			continue;
		memset(u, 0, sizeof(*u));
		memset(m, 0, sizeof(*m));
		memset(p, 0, sizeof(*p));
		p->gfn = NO_GFN;
		unmap_fill(u, m, mm, mm->flags);
		mm->state = MS_UNMAPPING;
		p->map_idx = (int32_t)x;
		p->part = mm->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP);
		m->kind = K_UM_VALID;
		m->mask = M_OKAY;
		n++;
	}
	q->cur.count = n;
	if (n == 0)
		return 0;
	batch_end(s, q);
	return n;
}

/* ---- Results ------------------------------------------------------------------------- */

static void
map_failed(struct sim *s, struct qmodel *q, uint32_t i)
{
	const struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];

	give_gfn(q, p->gfn);
	p->gfn = NO_GFN;
	if (p->map_idx >= 0 && m->kind == K_MP_CHURN) {
		struct gmodel *g = &s->g[p->aux_g == DOM_G1 ? 0 : 1];

		g->churn[p->map_idx].maps--;
	} else if (p->map_idx >= 0 && (m->kind == K_MP_STABLE || m->kind == K_MP_PRESSURE)) {
		pins_add(q->sref[p->map_idx].pins, p->pin_inc, -1);
	}
	if (m->kind == K_MP_SAT)
		q->sat_devr[p->aux_g == DOM_G1 ? 0 : 1]--;
	if (m->mask & M_OKAY)
		q->live_handles--;
	p->map_idx = -1;
}

/* The frame a mapping of (g, ref) must show, when the layout fixes it. */
static uint8_t *
expected_frame(struct sim *s, struct qmodel *q, gntdp_domid_t g, uint32_t ref, uint8_t zone)
{
	const struct layout *l = &s->lay;
	uint32_t j = (uint32_t)q->client_idx;

	if (g != DOM_G1 && g != DOM_G2)
		return NULL;
	if (zone == Z_STABLE) {
		for (uint32_t i = 0; i <= l->stable_refs; i++) {
			if (lay_stable_ref(l, j, i) == ref)
				return gntdp_domain_frame(s->wa->gt, g, lay_stable_gfn(l, j, i));
		}
	}
	if (zone == Z_SAT)
		return gntdp_domain_frame(s->wa->gt, g, lay_stable_gfn(l, j, l->stable_refs + 1));
	if (zone == Z_CHURN && ref >= lay_churn_ref(l, j, 0) &&
	    ref < lay_churn_ref(l, j, l->churn_refs))
		return gntdp_domain_frame(s->wa->gt, g,
					  lay_churn_gfn(l, j, ref - lay_churn_ref(l, j, 0)));
	return NULL;
}

static void
map_succeeded(struct sim *s, struct qmodel *q, uint32_t i, const struct op_result *r)
{
	const struct gntdp_gnttab_map_grant_ref *mp = op_at(q, i);
	const struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	struct mapping *mm;
	uint8_t *frame;
	uint8_t zone = m->aux;

	if (!(m->mask & M_OKAY)) {
		/* Success the spec rules out (already reported): keep it so the drain unmaps it. */
		q->live_handles++;
		zone = 0;
	}
	for (uint32_t x = 0; x < q->nb_maps; x++) {
		if (q->maps[x].state != 0xff && q->maps[x].handle == r->handle) {
			violation("handle",
				  "q%u d%u: map returned handle %u, already live for d%u "
				  "ref %u",
				  q->qid, q->domid, r->handle, q->maps[x].g, q->maps[x].ref);
			break;
		}
	}
	if (q->nb_maps == q->cap_maps) {
		uint32_t cap = q->cap_maps ? q->cap_maps * 2 : 256;
		struct mapping *nm = realloc(q->maps, cap * sizeof(*nm));

		if (nm == NULL) {
			violation("internal", "out of memory");
			return;
		}
		q->maps = nm;
		q->cap_maps = cap;
	}
	mm = &q->maps[q->nb_maps++];
	memset(mm, 0, sizeof(*mm));
	mm->handle = r->handle;
	mm->g = mp->dom;
	mm->zone = zone;
	mm->flags = (uint8_t)(mp->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP |
					   GNTDP_GNTMAP_READONLY));
	mm->state = MS_LIVE;
	mm->sidx =
		(int16_t)((m->kind == K_MP_STABLE || m->kind == K_MP_PRESSURE) ? p->map_idx : -1);
	mm->ref = mp->ref;
	mm->gfn = (mp->flags & GNTDP_GNTMAP_HOST_MAP)
			  ? (uint32_t)(mp->host_addr >> GNTDP_PAGE_SHIFT)
			  : NO_GFN;
	mm->dev = addr_abstract(s->wa, r->dev_bus_addr);
	mm->orec = q->cur_rec + 1;
	mm->oop = i;
	if (m->kind == K_MP_CHURN)
		mm->sidx = (int16_t)(-2 - (p->aux_g == DOM_G1 ? 0 : 1) * 4096 - p->map_idx);
	if (p->gfn == NO_GFN && (mp->flags & GNTDP_GNTMAP_HOST_MAP))
		mm->gfn |= 0x80000000u; /* not from our free list: never given back */
	for (uint32_t x = 0; x < q->nb_stale; x++) {
		if (q->stale[x] == r->handle)
			q->stale[x] = q->stale[--q->nb_stale];
	}
	/* The mapping must show the granted frame: device address, physmap slot. */
	frame = expected_frame(s, q, mp->dom, mp->ref, zone);
	if (frame != NULL) {
		if (r->dev_bus_addr != (uint64_t)(uintptr_t)frame)
			violation("map-frame",
				  "q%u d%u: map of d%u ref %u returned dev_bus_addr "
				  "%#llx, the frame is at %p",
				  q->qid, q->domid, mp->dom, mp->ref,
				  (unsigned long long)r->dev_bus_addr, (void *)frame);
		/* (A mapper destroyed since lost its mappings with its physmap: teardown.) */
		if ((mp->flags & GNTDP_GNTMAP_HOST_MAP) && world_dom_alive(s->wa, q->domid) &&
		    gntdp_domain_frame(s->wa->gt, q->domid, mm->gfn & 0x7fffffffu) != frame)
			violation("map-frame",
				  "q%u d%u: host map of d%u ref %u at gfn %u does not "
				  "show the granted frame",
				  q->qid, q->domid, mp->dom, mp->ref, mm->gfn);
		/* A backend touches what it mapped: read, and write if writable (churn only; in
		 * sequential mode the two worlds must stay byte-identical). Not once the mapper
		 * was destroyed: teardown released the mapping and the guest may have revoked it. */
		if (zone == Z_CHURN && s->conc && world_dom_alive(s->wa, q->domid)) {
			volatile uint8_t *b = frame + (i * 64u) % GNTDP_PAGE_SIZE;
			uint8_t v = *b;

			if (!(mp->flags & GNTDP_GNTMAP_READONLY))
				*b = (uint8_t)(v + 1);
		}
	}
	p->map_idx = -1; /* the pins now belong to the mapping */
}

static void
drop_mapping_pins(struct sim *s, struct qmodel *q, struct mapping *mm, uint8_t parts)
{
	uint32_t flags = (mm->flags & GNTDP_GNTMAP_READONLY) | parts;

	if (mm->sidx >= 0)
		pins_add(q->sref[mm->sidx].pins, pins_of(flags, NULL), -1);
	else if (mm->sidx <= -2 &&
		 (mm->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP)) == parts) {
		int v = -2 - mm->sidx;

		s->g[v / 4096].churn[v % 4096].maps--;
	}
	if (mm->zone == Z_SAT && (parts & GNTDP_GNTMAP_DEVICE_MAP))
		q->sat_devr[mm->g == DOM_G1 ? 0 : 1]--;
	if (mm->zone == Z_V2 && (mm->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP)) == parts)
		v2_mapping_gone(s, q, mm);
}

static void
unmap_done(struct sim *s, struct qmodel *q, uint32_t i, bool ok)
{
	const struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	struct mapping *mm;

	if (p->map_idx < 0)
		return;
	mm = &q->maps[p->map_idx];
	p->map_idx = -1;
	if (!ok) {
		mm->state = MS_LIVE;
		return;
	}
	drop_mapping_pins(s, q, mm, p->part);
	mm->flags &= (uint8_t)~p->part;
	if ((mm->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP)) != 0 &&
	    (m->kind == K_UM_PARTIAL || m->kind == K_UR_VALID)) {
		if ((p->part & GNTDP_GNTMAP_HOST_MAP) && !(mm->gfn & 0x80000000u))
			give_gfn(q, mm->gfn);
		mm->state = MS_LIVE;
		return;
	}
	if (mm->gfn != NO_GFN && !(mm->gfn & 0x80000000u) && (p->part & GNTDP_GNTMAP_HOST_MAP))
		give_gfn(q, mm->gfn);
	if (q->nb_stale < sizeof(q->stale) / sizeof(q->stale[0]))
		q->stale[q->nb_stale++] = mm->handle;
	q->live_handles--;
	mm->state = 0xff; /* dead; compacted in finish_batch */
}

static void
transfer_done(struct sim *s, struct qmodel *q, uint32_t i, const struct op_result *r)
{
	const struct gntdp_gnttab_transfer *t = op_at(q, i);
	const struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	struct gmodel *g1 = &s->g[0];
	bool ok = r->status == GNTDP_GNTST_OKAY && r->rc == 0;
	/* bad_page (and a refused call) leave the page with the sender; anything else moved
	 * or lost it (seed header). */
	bool keep = r->status == GNTDP_GNTST_BAD_PAGE || r->rc != 0;

	if (r->lost && m->kind == K_TR_VALID && p->pool != 0) {
		/* VC died before its statuses could be read: G1's slot says if the page came. */
		struct accept *a = &g1->acc[p->map_idx];
		bool came = gntdp_domain_frame(s->wa->gt, DOM_G1, a->slot) != NULL;

		a->aimed = false;
		if (came && a->state == AC_OFFERED)
			a->state = AC_COMMITTED;
		q->pool[p->pool - 1u] = came ? 0 : 1;
		return;
	}
	if (m->kind == K_TR_RETURN) {
		struct qmodel *vc = sim_queue_of(s, DOM_VC);
		struct accept *a = &g1->acc[p->map_idx];

		vc->pool_aimed[p->pool - 1] = 0;
		/* Arriving: not a target again until VC's agent collected it. */
		if (ok && vc->pool[p->pool - 1] == 0 && vc->pool_offer[p->pool - 1])
			vc->pool[p->pool - 1] = 3;
		if (keep) {
			a->state = AC_HELD; /* still G1's: send it again later */
			q->ret_pending[q->nb_ret_pending++] = (uint32_t)p->map_idx + 1;
		} else {
			a->state = AC_FREE;
			if (gntdp_domain_frame(s->wa->gt, DOM_G1, a->slot) != NULL)
				violation("transfer",
					  "G1 gfn %u still holds a page after its transfer "
					  "got %s",
					  a->slot, gntdp_gntst_name(r->status));
		}
		(void)ok;
		return;
	}
	if (p->pool == 0)
		return;
	{
		uint32_t x = p->pool - 1u;
		void *va = gntdp_domain_frame(s->wa->gt, q->domid, t->mfn);

		if (m->kind == K_TR_VALID) {
			struct accept *a = &g1->acc[p->map_idx];

			a->aimed = false;
			/* Unless the guest already ended it, the offer is used up now. */
			if (ok && a->state == AC_OFFERED)
				a->state = AC_COMMITTED;
		}
		q->pool[x] = keep ? 1 : 0;
		if (r->rc == 0 && (va != NULL) != keep)
			violation("transfer",
				  "q%u d%u: transfer of gfn %llu got %s, yet the page is "
				  "%s",
				  q->qid, q->domid, (unsigned long long)t->mfn,
				  gntdp_gntst_name(r->status), va ? "still there" : "gone");
	}
}

void
rollback_op(struct sim *s, struct qmodel *q, uint32_t i)
{
	struct op_result r = {.status = GNTDP_GNTST_GENERAL_ERROR, .rc = -EINVAL};

	switch (q->cur.type == REC_RAW ? 0xff : q->cur.cmd) {
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		map_failed(s, q, i);
		if (q->cur.meta[i].kind == K_MP_V2)
			v2_rollback(s, q, i);
		break;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		unmap_done(s, q, i, false);
		break;
	case GNTDP_GNTTABOP_TRANSFER: {
		struct op_plan *p = &q->plan[i];

		/* Never executed: nothing moved; the offers aimed at are free again. */
		if (q->cur.meta[i].kind == K_TR_RETURN) {
			struct qmodel *vc = sim_queue_of(s, DOM_VC);

			s->g[0].acc[p->map_idx].state = AC_HELD;
			q->ret_pending[q->nb_ret_pending++] = (uint32_t)p->map_idx + 1;
			vc->pool_aimed[p->pool - 1] = 0;
		} else if (p->pool != 0) {
			q->pool[p->pool - 1] = 1;
			if (q->cur.meta[i].kind == K_TR_VALID)
				s->g[0].acc[p->map_idx].aimed = false;
		}
		p->pool = 0;
		break;
	}
	default:
		break;
	}
	(void)r;
}

void
apply_result(struct sim *s, struct qmodel *q, uint32_t i, const struct op_result *r)
{
	struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	uint32_t cmd = rec_cmd(&q->cur, i);
	bool ok = r->status == GNTDP_GNTST_OKAY && r->rc == 0;

	s->total_ops++;
	if (r->status <= 0 && r->status > -GNTDP_GNTST_COUNT)
		s->status_hist[-r->status]++;
	s->kind_hist[m->kind < K_COUNT ? m->kind : 0]++;
	if (m->kind >= K_CP_V2 && m->kind < K_COUNT)
		v2_tally(m->kind, r);
	hostile_tally(m->kind, r);
	s->fc.lost += r->lost;
	q->ops++;
	q->ops_ok += ok;
	if (!mask_allows(m->mask, r->status, r->rc)) {
		char want[160], sig[96];

		mask_str(m->mask, want, sizeof(want));
		snprintf(sig, sizeof(sig), "status/%s/%s", kind_name(m->kind),
			 gntdp_gntst_name(r->status));
		violation(sig,
			  "q%u d%u (%s) rec %u op %u/%u cmd %u %s: got %s rc %d, the spec "
			  "allows %s",
			  q->qid, q->domid, role_name(q->role), q->cur_rec, i, q->cur.count, cmd,
			  kind_name(m->kind), gntdp_gntst_name(r->status), r->rc, want);
		q->cur_viol = true;
	}
	if (q->cur.type == REC_RAW)
		return;
	switch (cmd) {
	case GNTDP_GNTTABOP_COPY:
		if (ok && p->cp_src != 0 && p->cp_dst != 0) {
			const struct gntdp_gnttab_copy *c = op_at(q, i);

			memmove(shadow_of(q, p->cp_dst) + c->dest.offset,
				shadow_of(q, p->cp_src) + c->source.offset, c->len);
			touch(q, p->cp_dst);
		}
		break;
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		if (ok)
			map_succeeded(s, q, i, r);
		else
			map_failed(s, q, i);
		if (m->kind == K_MP_V2)
			v2_apply(s, q, i, r);
		break;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		unmap_done(s, q, i, ok && m->kind != K_UM_ZERO);
		break;
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		/* Only the valid kind removes anything (the host part). */
		unmap_done(s, q, i, ok && m->kind == K_UR_VALID);
		v2_apply(s, q, i, r);
		break;
	case GNTDP_GNTTABOP_SETUP_TABLE: {
		const struct gntdp_gnttab_setup_table *st = op_at(q, i);

		if (((ok && m->kind == K_ST_SELF) ||
		     (m->kind == K_ST_NULL_LIST && r->status == GNTDP_GNTST_BAD_VIRT_ADDR)) &&
		    st->nr_frames > q->own_grant_frames)
			q->own_grant_frames = st->nr_frames; /* a NULL list faults after the growth */
		if (m->kind == K_ST_TOO_BIG && r->status == GNTDP_GNTST_GENERAL_ERROR)
			s->fc.table_limit++;
		if (ok && m->kind == K_ST_SELF && r->rc == 0) {
			const gntdp_xen_pfn_t *fl = opa_list(s->wa, q->qid, i);

			/* Only meaningful when this op's list was not reused by a later op. */
			if (q->cur.count <= STRESS_MAX_SETUP_OPS && fl != NULL) {
				for (uint32_t a = 0; a < st->nr_frames; a++) {
					for (uint32_t b = a + 1; b < st->nr_frames; b++) {
						if (fl[a] == fl[b])
							violation("setup",
								  "q%u: setup_table listed "
								  "frame %llu twice",
								  q->qid,
								  (unsigned long long)fl[a]);
					}
				}
			}
		}
		break;
	}
	case GNTDP_GNTTABOP_QUERY_SIZE:
		if (ok && m->kind == K_QS_SELF &&
		    (r->nr_frames != q->own_grant_frames ||
		     r->max_nr_frames != q->ds->max_grant_frames) &&
		    world_dom_alive(s->wa, q->domid))
			violation("query", "q%u d%u: query_size says %u/%u frames, expected %u/%u",
				  q->qid, q->domid, r->nr_frames, r->max_nr_frames,
				  q->own_grant_frames, q->ds->max_grant_frames);
		break;
	case GNTDP_GNTTABOP_TRANSFER:
		transfer_done(s, q, i, r);
		break;
	default:
		v2_apply(s, q, i, r);
		break;
	}
	if (m->kind == K_MP_PRESSURE && r->status == GNTDP_GNTST_NO_SPACE)
		s->fc.no_space++;
}

static void
verify_frame(struct qmodel *q, const char *what, gntdp_domid_t d, uint32_t gfn,
	     const uint8_t *expect, const uint8_t *have)
{
	uint32_t off;

	if (have == NULL) {
		violation("data", "q%u: %s d%u gfn %u has no frame", q->qid, what, d, gfn);
		return;
	}
	if (memcmp(expect, have, GNTDP_PAGE_SIZE) == 0)
		return;
	for (off = 0; off < GNTDP_PAGE_SIZE && expect[off] == have[off]; off++)
		;
	violation("data",
		  "q%u d%u: %s d%u gfn %u differs from what the copies wrote, first at "
		  "byte %u (%#x, expected %#x)",
		  q->qid, q->domid, what, d, gfn, off, have[off], expect[off]);
	q->cur_viol = true;
}

void
finish_batch(struct sim *s, struct qmodel *q)
{
	uint32_t w = 0;

	/* A destroyed caller's frames are gone; its shadows are rebuilt when it comes back. */
	if (!world_dom_alive(s->wa, q->domid)) {
		memset(q->touched_local, 0, sizeof(q->touched_local));
		memset(q->touched_sref, 0, sizeof(q->touched_sref));
	}
	for (uint32_t a = 0; a < q->verified_frames && a < 64; a++) {
		if (q->touched_local[a])
			verify_frame(q, "local", q->domid, a,
				     q->lshadow + (size_t)a * GNTDP_PAGE_SIZE,
				     gntdp_domain_frame(s->wa->gt, q->domid, a));
	}
	for (uint32_t k = 0; k < q->nb_sref && k < 64; k++) {
		if (q->touched_sref[k])
			verify_frame(q, "granted", q->sref[k].g, q->sref[k].gfn, q->sref[k].shadow,
				     gntdp_domain_frame(s->wa->gt, q->sref[k].g, q->sref[k].gfn));
	}
	memset(q->touched_local, 0, sizeof(q->touched_local));
	memset(q->touched_sref, 0, sizeof(q->touched_sref));
	/* Compact dead mappings (indices were stable during the batch). */
	for (uint32_t x = 0; x < q->nb_maps; x++) {
		if (q->maps[x].state != 0xff)
			q->maps[w++] = q->maps[x];
	}
	q->nb_maps = w;
	q->batches++;
	s->total_batches++;
}

void
qmodel_forget_maps(struct sim *s, struct qmodel *q)
{
	for (uint32_t x = 0; x < q->nb_maps; x++) {
		struct mapping *mm = &q->maps[x];

		if (mm->state != 0xff)
			drop_mapping_pins(
				s, q, mm,
				mm->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP));
	}
	q->nb_maps = 0;
	q->live_handles = 0;
	q->nb_stale = 0;
}

uint32_t
sim_extra_segments(struct sim *s)
{
	/*
	 * A page VC transferred away keeps the RAM segment of the VC incarnation it came from
	 * alive (the core frees a segment with its last page). Count the distinct earlier
	 * incarnations whose pages are still out there: G1 holds them, or VC got them back.
	 */
	struct qmodel *vc = sim_queue_of(s, DOM_VC);
	uint32_t gens[STRESS_MAX_BATCH], n = 0;
	uint32_t cur = s->vc_alive && s->wa != NULL ? s->vc_gen : UINT32_MAX;

	for (uint32_t a = 0; a < s->g[0].nb_acc; a++) {
		const struct accept *x = &s->g[0].acc[a];

		if (x->state == AC_COMMITTED || x->state == AC_HELD || x->aimed)
			gens[n++] = x->tag >> 16;
	}
	for (uint32_t t = 0; vc != NULL && s->vc_alive && t < vc->tp; t++) {
		if (vc->pool[t] == 1 || vc->pool[t] == 3)
			gens[n++] = vc->pool_tag[t] >> 16;
	}
	{
		uint32_t distinct = 0;

		for (uint32_t i = 0; i < n; i++) {
			bool seen = gens[i] == cur;

			for (uint32_t k = 0; k < i && !seen; k++)
				seen = gens[k] == gens[i];
			distinct += !seen;
		}
		return distinct;
	}
}
