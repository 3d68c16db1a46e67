/* SPDX-License-Identifier: MIT */
/*
 * Guest agents: what the frontends do to their own grant tables while the
 * backends' ops run.
 *  - G1/G2 churn grants: revoke (end access), regrant (read-only or not),
 *    flip read-only and back. A successful end access poisons the frame and
 *    (concurrent mode) protects it PROT_NONE; a successful read-only flip
 *    makes it PROT_READ. Before a regrant the poison must be intact.
 *  - G1/G2 corrupt zone: random writes of flags, domid and frame.
 *  - G1 accept_transfer offers for VC's pages: offer, end transfer (the page
 *    that arrives must be the one VC sent), queue it to be sent back.
 *  - VC: offers for its empty pool gfns, and ends those transfers.
 * guest_next() chooses an action as a record, exec_guest() runs it on a
 * world, guest_applied() updates the model with the result.
 */
#include <errno.h>
#include <string.h>

#include "model.h"

#define POISON_SEED 0x5eedba5eull

void
rec_guest(struct record *r, gntdp_domid_t domid, uint8_t act, uint32_t ref, uint32_t a, uint32_t b,
	  uint32_t c)
{
	memset(r, 0, sizeof(*r));
	r->type = REC_GUEST;
	r->cmd = act;
	r->qid = domid;
	r->ref = ref;
	r->a = a;
	r->b = b;
	r->c = c;
}

static bool
protecting(const struct sim *s)
{
	return s->conc && s->conf->protect && prot_available();
}

/* Concurrent mode: open the frame again, and check nobody wrote it while revoked. */
static void
churn_reopen(struct sim *s, gntdp_domid_t g, struct churn *c)
{
	uint8_t *va = gntdp_domain_frame(s->wa->gt, g, c->gfn);
	uint8_t expect[GNTDP_PAGE_SIZE];

	if (c->prot >= 0)
		prot_set(c->prot, PROT_OPEN);
	if (c->poisoned && va != NULL) {
		frame_fill(expect, POISON_SEED, g, c->gfn, c->epoch);
		if (memcmp(va, expect, GNTDP_PAGE_SIZE) != 0)
			violation("poison",
				  "d%u gfn %u (ref %u) was written after its end access "
				  "succeeded",
				  g, c->gfn, c->ref);
	}
	c->poisoned = false;
}

static bool
churn_action(struct sim *s, struct record *r)
{
	uint32_t k = rng_below(&s->grng, NB_GUESTS);
	struct gmodel *g = &s->g[k];
	struct churn *c;
	uint32_t x = rng_below(&s->grng, 100);

	if (g->nb_churn == 0)
		return false;
	c = &g->churn[rng_below(&s->grng, g->nb_churn)];
	switch (c->state) {
	case CH_INVALID:
		if (s->conc)
			churn_reopen(s, g->domid, c);
		rec_guest(r, g->domid, GA_GRANT, c->ref, s->lay.cl_dom[c->client_idx], c->gfn,
			  x < 25);
		return true;
	case CH_RW:
		rec_guest(r, g->domid, x < 60 ? GA_END : GA_SET_RO, c->ref, 0, 0, 0);
		return true;
	default:
		if (x < 50) {
			rec_guest(r, g->domid, GA_END, c->ref, 0, 0, 0);
		} else {
			/* Writable again: the page must accept writes before the flag drops. */
			if (s->conc && c->prot >= 0)
				prot_set(c->prot, PROT_OPEN);
			rec_guest(r, g->domid, GA_SET_RW, c->ref, 0, 0, 0);
		}
		return true;
	}
}

static bool
corrupt_action(struct sim *s, struct record *r)
{
	const struct layout *l = &s->lay;
	gntdp_domid_t g = rng_below(&s->grng, 2) ? DOM_G1 : DOM_G2;
	uint32_t z = rng_below(&s->grng, l->corrupt_refs);
	uint32_t x = rng_below(&s->grng, 8);
	uint16_t flags;
	gntdp_domid_t dom;
	uint32_t frame;

	if (l->corrupt_refs == 0)
		return false;
	/* Flags: random bits, a plausible grant, an offer, or nothing. */
	flags = x < 3   ? (uint16_t)rng_next(&s->grng)
		: x < 6 ? (uint16_t)(GNTDP_GTF_PERMIT_ACCESS | (rng_next(&s->grng) & 0x1fcu))
		: x < 7 ? GNTDP_GTF_ACCEPT_TRANSFER
			: 0;
	x = rng_below(&s->grng, 4);
	dom = x == 0   ? (gntdp_domid_t)rng_next(&s->grng)
	      : x == 1 ? DOM_H
		       : l->cl_dom[rng_below(&s->grng, l->nb_cl)];
	/* Frame: one of the zone's sacrificial frames, or nothing the guest has. Never a frame
	 * of another zone: then a use of it would be the guest's own doing, not a gntdp bug. */
	x = rng_below(&s->grng, 4);
	frame = x < 2 ? lay_sacrificial_gfn(l, z) : x == 2 ? BAD_FRAME : 0xffffffffu;
	rec_guest(r, g, GA_CORRUPT, lay_corrupt_ref(l, z), (uint32_t)dom << 16 | flags, frame, 0);
	return true;
}

static bool
accept_action(struct sim *s, struct record *r)
{
	struct gmodel *g1 = &s->g[0];
	struct accept *a;

	if (g1->nb_acc == 0 || !s->vc_alive)
		return false;
	a = &g1->acc[rng_below(&s->grng, g1->nb_acc)];
	if (a->state == AC_FREE) {
		rec_guest(r, DOM_G1, GA_OFFER, a->ref, DOM_VC, a->slot, 0);
		return true;
	}
	if ((a->state == AC_OFFERED || a->state == AC_COMMITTED) &&
	    (!a->aimed || rng_below(&s->grng, 10) == 0)) {
		rec_guest(r, DOM_G1, GA_END_TRANSFER, a->ref, 0, 0, 0);
		return true;
	}
	return false;
}

static bool
vc_action(struct sim *s, struct record *r)
{
	struct qmodel *vc = sim_queue_of(s, DOM_VC);
	uint32_t t;

	if (vc == NULL || vc->tp == 0 || !s->vc_alive)
		return false;
	t = rng_below(&s->grng, vc->tp);
	if (vc->pool[t] == 0 && !vc->pool_offer[t]) {
		rec_guest(r, DOM_VC, GA_OFFER, RESERVED_REFS + t, DOM_G1,
			  vc->verified_frames + vc->scratch_frames + t, 0);
		return true;
	}
	if (vc->pool_offer[t] && (!vc->pool_aimed[t] || rng_below(&s->grng, 10) == 0)) {
		rec_guest(r, DOM_VC, GA_END_TRANSFER, RESERVED_REFS + t, 0, 0, 0);
		return true;
	}
	return false;
}

bool
guest_next(struct sim *s, struct record *r)
{
	uint32_t x = rng_below(&s->grng, 100);
	uint32_t cp = s->conf->f_corrupt ? s->conf->corrupt_pct : 0;

	if (x < cp && corrupt_action(s, r))
		return true;
	/* The v2 granter's agent: its own stream, so runs without it draw as before. */
	if (s->v2.on && rng_below(&s->grng, 3) == 0 && v2_guest_next(s, r))
		return true;
	if (x < cp + 15 && accept_action(s, r))
		return true;
	if (x < cp + 30 && vc_action(s, r))
		return true;
	return churn_action(s, r);
}

static void
verify_page(struct sim *s, gntdp_domid_t d, uint32_t gfn, uint32_t tag, const char *who)
{
	uint8_t expect[GNTDP_PAGE_SIZE];
	const uint8_t *va = gntdp_domain_frame(s->wa->gt, d, gfn);

	frame_fill(expect, s->ws.seed, DOM_VC, tag & 0xffffu, tag >> 16);
	if (va == NULL || memcmp(va, expect, GNTDP_PAGE_SIZE) != 0)
		violation("transfer-data",
			  "%s: the page that arrived at d%u gfn %u is not the one "
			  "sent (VC gfn %u generation %u)",
			  who, d, gfn, tag & 0xffffu, tag >> 16);
}

static void
churn_applied(struct sim *s, struct gmodel *g, const struct record *r, int res)
{
	const struct layout *l = &s->lay;
	struct churn *c = &g->churn[r->ref - lay_churn_ref(l, 0, 0)];
	uint8_t *va;

	switch (r->cmd) {
	case GA_GRANT:
		if (res != 0) {
			violation("guest",
				  "d%u: grant of ref %u failed (%d) although the guest had "
				  "ended it: flags left behind",
				  g->domid, r->ref, res);
			return;
		}
		c->state = r->c ? CH_RO : CH_RW;
		c->epoch++;
		s->fc.grants++;
		if (protecting(s) && r->c) {
			va = gntdp_domain_frame(s->wa->gt, g->domid, c->gfn);
			if (c->prot < 0)
				c->prot = prot_register(va, g->domid, c->gfn);
			prot_set(c->prot, PROT_READONLY);
		}
		break;
	case GA_END:
		if (res != 0)
			return; /* in use (-EBUSY): a client holds it */
		c->state = CH_INVALID;
		s->fc.revokes++;
		if (s->conc) {
			/* The frame is the guest's again: poison it, then fence it off. */
			va = gntdp_domain_frame(s->wa->gt, g->domid, c->gfn);
			if (c->prot < 0 && protecting(s))
				c->prot = prot_register(va, g->domid, c->gfn);
			if (c->prot >= 0)
				prot_set(c->prot, PROT_OPEN);
			frame_fill(va, POISON_SEED, g->domid, c->gfn, c->epoch);
			c->poisoned = true;
			if (protecting(s))
				prot_set(c->prot, PROT_REVOKED);
		}
		break;
	case GA_SET_RO:
		if (res != 0)
			return; /* a writable use is live (-EBUSY) */
		c->state = CH_RO;
		s->fc.ro_flips++;
		if (protecting(s)) {
			va = gntdp_domain_frame(s->wa->gt, g->domid, c->gfn);
			if (c->prot < 0)
				c->prot = prot_register(va, g->domid, c->gfn);
			prot_set(c->prot, PROT_READONLY);
		}
		break;
	case GA_SET_RW:
		c->state = CH_RW;
		s->fc.ro_flips++;
		break;
	default:
		break;
	}
}

void
guest_applied(struct sim *s, const struct record *r, int res)
{
	const struct layout *l = &s->lay;
	gntdp_domid_t d = r->qid;

	if (r->type != REC_GUEST)
		return;
	if (d == DOM_V2 || d == DOM_V2T) {
		v2_guest_applied(s, r, res);
		return;
	}
	if (r->cmd == GA_CORRUPT) {
		s->fc.corrupt++;
		return;
	}
	if (d == DOM_G1 || d == DOM_G2) {
		struct gmodel *g = sim_gmodel(s, d);

		if (r->ref >= lay_churn_ref(l, 0, 0) && r->ref < lay_churn_ref(l, l->nb_cl, 0)) {
			churn_applied(s, g, r, res);
			return;
		}
		if (d == DOM_G1 && r->ref >= lay_accept_ref(l, 0) &&
		    r->ref < lay_accept_ref(l, l->accept_refs)) {
			struct accept *a = &g->acc[r->ref - lay_accept_ref(l, 0)];

			if (r->cmd == GA_OFFER) {
				if (res != 0)
					violation("guest",
						  "G1: offer on free accept entry %u failed "
						  "(%d)",
						  r->ref, res);
				else
					a->state = AC_OFFERED;
			} else if (r->cmd == GA_END_TRANSFER) {
				if (res >= 0) {
					struct qmodel *g1q = sim_queue_of(s, DOM_G1);

					if ((uint32_t)res != a->slot)
						violation("transfer",
							  "G1: page arrived at gfn %d, "
							  "offered gfn %u",
							  res, a->slot);
					verify_page(s, DOM_G1, a->slot, a->tag, "G1");
					a->state = AC_HELD;
					g1q->ret_pending[g1q->nb_ret_pending++] =
						(uint32_t)(a - g->acc) + 1;
					s->fc.transfers_in++;
				} else if (res == -ENOENT) {
					a->state = AC_FREE;
				} else {
					violation("guest", "G1: end transfer of %u: %d", r->ref,
						  res);
				}
			}
		}
		return;
	}
	if (d == DOM_VC) {
		struct qmodel *vc = sim_queue_of(s, DOM_VC);
		uint32_t t = r->ref - RESERVED_REFS;

		if (t >= vc->tp)
			return;
		if (r->cmd == GA_OFFER) {
			if (res != 0)
				violation("guest", "VC: offer on free entry %u failed (%d)", r->ref,
					  res);
			else
				vc->pool_offer[t] = 1;
		} else if (r->cmd == GA_END_TRANSFER) {
			vc->pool_offer[t] = 0;
			if (res >= 0) {
				if ((uint32_t)res != vc->verified_frames + vc->scratch_frames + t)
					violation("transfer",
						  "VC: page arrived at gfn %d, offered %u", res,
						  vc->verified_frames + vc->scratch_frames + t);
				verify_page(s, DOM_VC, vc->verified_frames + vc->scratch_frames + t,
					    vc->pool_tag[t], "VC");
				vc->pool[t] = 1;
				s->fc.transfers_back++;
			} else if (res != -ENOENT) {
				violation("guest", "VC: end transfer of %u: %d", r->ref, res);
			}
		}
	}
}

uint32_t
guest_vg_grants(struct sim *s, struct record *out, uint32_t max)
{
	const struct layout *l = &s->lay;
	uint32_t n = 0;

	for (uint32_t j = 0; j < l->nb_cl; j++) {
		for (uint32_t i = 0; i < l->victim_refs && n < max; i++)
			rec_guest(&out[n++], DOM_VG, GA_GRANT, lay_victim_ref(l, j, i),
				  l->cl_dom[j], lay_victim_gfn(l, j, i), 0);
	}
	return n;
}

uint32_t
guest_quiesce(struct sim *s, struct record *out, uint32_t max)
{
	(void)s;
	(void)out;
	(void)max;
	return 0;
}
