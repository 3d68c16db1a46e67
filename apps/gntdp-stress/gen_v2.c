/* SPDX-License-Identifier: MIT */
/*
 * The v2 granter and commands 7-12 ([world] v2, docs/stress.md "v2 and commands 7-12").
 *
 * V2 (domid 12) has a queue of its own and a table it switches between v1 and
 * v2 (set_version), whose entries it swaps (swap_grant_ref), whose status frames
 * and version it reads (get_status_frames, get_version). Its guest agent grants
 * each of the first nbv clients eight slots: on v2 a full_page grant, a
 * read-only one, a sub_page grant with a random window and five transitive ones
 * (to V2T's full_page and sub_page grants, to itself, to V2T's own transitive
 * entry, to a missing domain: XSA-226's loop and depth cases); on v1 the first
 * three as whole-page grants. It ends them through the status array (v2) and
 * regrants them. V2T (domid 13) is a v2 table whose entries V2's transitive
 * grants name. Two reserved entries show the carry-over rules: V2_RSV_REF keeps
 * a grant through every switch, V2_ODD_REF is made transitive or given a frame
 * above 2^32 on v2, which makes the switch to v1 -ERANGE.
 *
 * The clients copy to and from the slots, map them, replace host mappings
 * (unmap_and_replace) and flush frames they map (cache_flush). As in gen.c each
 * op gets the statuses the spec allows: exact in sequential mode, where the model
 * knows the version, every slot's state and every mapping that pins it; wider in
 * concurrent mode where the version switches and the guest agent race the ops.
 * A version switch or a swap is exact in both modes for the spare entries, which
 * nobody else touches.
 */
#include <errno.h>
#include <string.h>

#include "gen.h"

#define V2_SPARE_DOM DOM_NONE

static struct v2cl *
v2cl_of(struct sim *s, const struct qmodel *q)
{
	return &s->v2.cl[q->client_idx];
}

bool
v2_client(const struct sim *s, const struct qmodel *q)
{
	return s->v2.on && q->role == ROLE_CLIENT && q->client_idx >= 0 &&
	       (uint32_t)q->client_idx < s->v2.nbv;
}

/* ---- World and model ---------------------------------------------------------- */

void
v2_spec(struct sim *s, struct world_spec *ws)
{
	struct v2model *v = &s->v2;
	struct dom_spec *d;

	v->on = s->conf->v2;
	if (!v->on)
		return;
	v->nbv = s->conf->clients < V2_MAX_CL ? s->conf->clients : V2_MAX_CL;
	d = &ws->doms[ws->nb_doms++];
	memset(d, 0, sizeof(*d));
	d->domid = DOM_V2;
	d->role = ROLE_V2;
	d->nr_frames = d->p2m_size = 1 + v->nbv * 3;
	d->max_grant_frames = d->init_grant_frames = 1;
	d->max_maptrack_frames = 0;
	d = &ws->doms[ws->nb_doms++];
	memset(d, 0, sizeof(*d));
	d->domid = DOM_V2T;
	d->role = ROLE_V2TARGET;
	d->nr_frames = d->p2m_size = v->nbv * 2;
	d->max_grant_frames = d->init_grant_frames = 1;
	ws->queues[ws->nb_queues].domid = DOM_V2;
	ws->queues[ws->nb_queues].role = ROLE_V2;
	ws->nb_queues++;
}

void
v2_init(struct sim *s)
{
	struct v2model *v = &s->v2;
	bool on = v->on;
	uint32_t nbv = v->nbv;

	memset(v, 0, sizeof(*v));
	v->on = on;
	v->nbv = nbv;
	v->ver = 1;
}

/* The version a slot's entry form follows; V2S_GRANTED only where the form exists. */
static bool
slot_on_v1(uint32_t k)
{
	return k <= VS_SUB;
}

/* ---- Expected statuses of the clients' ops -------------------------------------- */

/* Copy of [off, off + len) of slot k, as the model knows it (sequential mode: exact). */
static uint32_t
copy_expect(const struct v2model *v, const struct v2cl *c, uint32_t k, bool write, uint32_t off,
	    uint32_t len)
{
	bool in;

	if (c->st[k] != V2S_GRANTED)
		return M_GENERAL; /* invalid entry: "bad flags or domid" */
	if (k == VS_FULL_RO && write)
		return M_GENERAL;
	if (v->ver == 1)
		return M_OKAY; /* the first three are whole-page grants on v1 */
	switch (k) {
	case VS_FULL:
	case VS_FULL_RO:
		return M_OKAY;
	case VS_SUB:
		in = off >= c->sub_off && off + len <= (uint32_t)c->sub_off + c->sub_len;
		return in ? M_OKAY : M_GENERAL;
	case VS_TRANS:
		return c->t_ok[0] ? M_OKAY : M_GENERAL;
	case VS_TRANS_SUB:
		in = off >= c->tsub_off && off + len <= (uint32_t)c->tsub_off + c->tsub_len;
		return c->t_ok[1] && in ? M_OKAY : M_GENERAL;
	default:
		return M_GENERAL; /* loop, depth 2, missing domain */
	}
}

static uint32_t
map_expect(const struct v2model *v, const struct v2cl *c, uint32_t k, bool ro)
{
	if (c->st[k] != V2S_GRANTED)
		return M_GENERAL;
	if (k == VS_FULL_RO && !ro)
		return M_GENERAL;
	if (v->ver == 2 && k >= VS_SUB)
		return M_GENERAL; /* sub_page and transitive grants are never mappable */
	return M_OKAY;
}

/* A slot whose outcome depends on a pin (revoked while mapped): both answers, and the
 * sequential run empties the data plane's cache first (rec_needs_empty_cache). */
#define V2_UNSTABLE V2_META_UNSTABLE

static uint32_t
pick_slot(struct qmodel *q, bool map)
{
	static const uint8_t w_copy[V2_SLOTS] = {20, 10, 25, 15, 15, 5, 5, 5};
	static const uint8_t w_map[V2_SLOTS] = {45, 25, 20, 10, 0, 0, 0, 0};
	const uint8_t *w = map ? w_map : w_copy;
	uint32_t r = rng_below(&q->rng, 100);

	for (uint32_t k = 0; k < V2_SLOTS; k++) {
		if (r < w[k])
			return k;
		r -= w[k];
	}
	return VS_FULL;
}

static bool
build_copy_v2(struct sim *s, struct qmodel *q, uint32_t i)
{
	struct gntdp_gnttab_copy *c = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	const struct v2cl *vc = v2cl_of(s, q);
	uint32_t k = pick_slot(q, false), j = (uint32_t)q->client_idx;
	bool write = rng_below(&q->rng, 2) == 0;
	uint16_t soff, doff, len, voff;
	struct gntdp_gnttab_copy_ptr *side, *other;

	rand_range(q, &soff, &doff, &len);
	voff = write ? doff : soff;
	/* Half of the sub-page copies stay inside the window they aim at. */
	if ((k == VS_SUB || k == VS_TRANS_SUB) && rng_below(&q->rng, 2)) {
		uint16_t wo = k == VS_SUB ? vc->sub_off : vc->tsub_off;
		uint16_t wl = k == VS_SUB ? vc->sub_len : vc->tsub_len;

		if (wl > 0) {
			len = (uint16_t)(1 + rng_below(&q->rng, wl));
			voff = (uint16_t)(wo + rng_below(&q->rng, wl - len + 1u));
			if (write)
				doff = voff;
			else
				soff = voff;
			if (write && soff + len > GNTDP_PAGE_SIZE)
				soff = (uint16_t)(GNTDP_PAGE_SIZE - len);
			if (!write && doff + len > GNTDP_PAGE_SIZE)
				doff = (uint16_t)(GNTDP_PAGE_SIZE - len);
		}
	}
	memset(c, 0, sizeof(*c));
	side = write ? &c->dest : &c->source;
	other = write ? &c->source : &c->dest;
	side->u.ref = v2_ref(j, k);
	side->domid = DOM_V2;
	other->u.gmfn = pick_scratch(q);
	other->domid = GNTDP_DOMID_SELF;
	c->source.offset = soff;
	c->dest.offset = doff;
	c->len = len;
	c->flags = write ? GNTDP_GNTCOPY_DEST_GREF : GNTDP_GNTCOPY_SOURCE_GREF;
	m->kind = K_CP_V2;
	m->aux = (uint8_t)k;
	/*
	 * Concurrent: a transitive pin (a copy in flight, a cached pin) that outlives its
	 * entry's end access makes the next copy bad_domain, as in Xen (the pinned page is
	 * not the granter's own). And bad_page: when the guest regrants a transitive slot
	 * while a copy acquires it, the copy may read the header as not transitive (the
	 * branch) and then as transitive (the status check accepts that type for a copy),
	 * and take the transitive body for a full_page frame. Xen reads the flags twice
	 * the same way (acquire_grant_for_copy's branch, then _set_status_v2) and answers
	 * bad_page from get_paged_frame. The granter races itself; sequential mode never.
	 */
	m->mask = racy(s, copy_expect(&s->v2, vc, k, write, voff, len),
		       M_OKAY | M_GENERAL | M_BAD_PAGE |
			       (k == VS_TRANS || k == VS_TRANS_SUB ? M_BAD_DOMAIN : 0));
	if (vc->st[k] == V2S_REVOKED_BUSY) {
		m->mask = M_OKAY | M_GENERAL;
		m->aux2 = V2_UNSTABLE;
	}
	return true;
}

static bool
build_map_v2(struct sim *s, struct qmodel *q, uint32_t i)
{
	struct gntdp_gnttab_map_grant_ref *mp = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	struct v2cl *vc = v2cl_of(s, q);
	uint32_t k = pick_slot(q, true), flags;
	bool host_ok = q->nb_gfn_free > 0;
	uint32_t limit = q->ds->max_maptrack_frames * GNTDP_MAPTRACK_PER_FRAME;

	if (vc->maps[k] >= PIN_SOFT_LIMIT / 2 || q->live_handles + 1 >= limit)
		return false;
	flags = rand_map_flags(q, k == VS_FULL_RO && rng_below(&q->rng, 4) != 0, host_ok);
	memset(mp, 0, sizeof(*mp));
	mp->dom = DOM_V2;
	mp->ref = v2_ref((uint32_t)q->client_idx, k);
	mp->flags = flags;
	if (flags & GNTDP_GNTMAP_HOST_MAP) {
		p->gfn = take_gfn(q);
		mp->host_addr = (uint64_t)p->gfn << GNTDP_PAGE_SHIFT;
	}
	m->kind = K_MP_V2;
	m->aux = Z_V2;
	m->aux2 = (uint16_t)k;
	m->mask = racy(s, map_expect(&s->v2, vc, k, (flags & GNTDP_GNTMAP_READONLY) != 0),
		       M_OKAY | M_GENERAL);
	if (vc->st[k] == V2S_REVOKED_BUSY) {
		m->mask = M_OKAY | M_GENERAL;
		m->aux2 |= V2_UNSTABLE;
	}
	if (m->mask & M_OKAY)
		q->live_handles++; /* planned; map_failed undoes it */
	/* Counted now, so that a batch never passes the pin limit; undone if it fails. */
	vc->maps[k]++;
	p->pin_inc = 1;
	return true;
}

/* ---- unmap_and_replace, cache_flush (clients) ---------------------------------- */

static int
pick_devonly(struct qmodel *q)
{
	for (int tries = 0; tries < 16 && q->nb_maps > 0; tries++) {
		uint32_t x = rng_below(&q->rng, q->nb_maps);
		const struct mapping *mm = &q->maps[x];

		if (mm->state == MS_LIVE && !(mm->flags & GNTDP_GNTMAP_HOST_MAP) &&
		    (mm->flags & GNTDP_GNTMAP_DEVICE_MAP))
			return (int)x;
	}
	return -1;
}

static bool
build_replace(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_unmap_and_replace *u = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	struct op_plan *p = &q->plan[i];
	struct mapping *mm;
	int x;

	(void)s;
	memset(u, 0, sizeof(*u));
	x = k == K_UR_DEVONLY ? pick_devonly(q)
	    : k == K_UR_STALE ? -1
			      : pick_live_mapping(q, GNTDP_GNTMAP_HOST_MAP);
	if (x < 0 && k != K_UR_STALE)
		return false;
	m->kind = k;
	if (k == K_UR_STALE) {
		u->handle = q->nb_stale > 0 ? q->stale[rng_below(&q->rng, q->nb_stale)]
					    : 0xfffffff0u;
		u->host_addr = (uint64_t)q->map_gfn0 << GNTDP_PAGE_SHIFT;
		m->mask = M_BAD_HANDLE;
		return true;
	}
	mm = &q->maps[x];
	u->handle = mm->handle;
	m->orec = mm->orec;
	m->oop = mm->oop;
	u->host_addr = (uint64_t)(mm->gfn & 0x7fffffffu) << GNTDP_PAGE_SHIFT;
	switch (k) {
	case K_UR_VALID:
		mm->state = MS_UNMAPPING;
		p->map_idx = x;
		p->part = GNTDP_GNTMAP_HOST_MAP;
		/* The handle survives when a device part remains (the minimizer keeps it). */
		m->aux = (mm->flags & GNTDP_GNTMAP_DEVICE_MAP) ? 1 : 0;
		m->mask = M_OKAY;
		break;
	case K_UR_NEWADDR:
		/* A translated caller cannot move a PTE: general_error, the mapping stays. */
		u->new_addr = (uint64_t)(1 + rng_below(&q->rng, 1u << 20)) << GNTDP_PAGE_SHIFT;
		m->mask = M_GENERAL;
		break;
	case K_UR_BAD_HOST:
		u->host_addr ^= (uint64_t)(1 + rng_below(&q->rng, 8)) << (GNTDP_PAGE_SHIFT + 20);
		m->mask = M_GENERAL;
		break;
	default: /* K_UR_DEVONLY: no host part to replace, nothing done */
		u->host_addr = (uint64_t)q->map_gfn0 << GNTDP_PAGE_SHIFT;
		m->mask = M_OKAY;
		break;
	}
	return true;
}

static bool
build_flush(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_cache_flush *f = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	static const uint32_t ops[] = {GNTDP_GNTTAB_CACHE_CLEAN,
				       GNTDP_GNTTAB_CACHE_CLEAN | GNTDP_GNTTAB_CACHE_INVAL,
				       GNTDP_GNTTAB_CACHE_INVAL};
	uint32_t len = 1 + rng_below(&q->rng, GNTDP_PAGE_SIZE);
	int x;

	memset(f, 0, sizeof(*f));
	f->length = (uint16_t)len;
	f->offset = (uint16_t)rng_below(&q->rng, GNTDP_PAGE_SIZE - len + 1);
	f->op = ops[rng_below(&q->rng, 3)];
	m->kind = k;
	/* x86 (4.17): clean and clean+invalidate succeed, invalidate alone is unsupported. */
	m->mask = M_OKAY | (f->op == GNTDP_GNTTAB_CACHE_INVAL ? RC_EOPNOTSUPP : RC_OK);
	if (f->op == GNTDP_GNTTAB_CACHE_INVAL)
		m->mask = M_GENERAL | RC_EOPNOTSUPP;
	switch (k) {
	case K_CF_MAPPED:
		/* A frame only this client's mapping pins (stable or V2 zone): stays pinned. */
		for (int tries = 0;; tries++) {
			if (tries == 16)
				return false;
			x = pick_live_mapping(q, 0);
			if (x >= 0 && (q->maps[x].zone == Z_STABLE || q->maps[x].zone == Z_V2) &&
			    q->maps[x].dev != 0)
				break;
		}
		f->a.dev_bus_addr = q->maps[x].dev; /* abstract: each world makes it its own */
		break;
	case K_CF_OWN: {
		const uint8_t *va = gntdp_domain_frame(s->wa->gt, q->domid, pick_scratch(q));

		if (va == NULL)
			return false;
		f->a.dev_bus_addr = addr_abstract(s->wa, (uint64_t)(uintptr_t)va);
		break;
	}
	case K_CF_BAD_ARGS:
		switch (rng_below(&q->rng, 4)) {
		case 0:
			f->offset = (uint16_t)(GNTDP_PAGE_SIZE + rng_below(&q->rng, 100));
			break;
		case 1:
			f->length = (uint16_t)(GNTDP_PAGE_SIZE + 1 + rng_below(&q->rng, 100));
			f->offset = 0;
			break;
		case 2:
			f->offset = (uint16_t)(GNTDP_PAGE_SIZE - 1 - rng_below(&q->rng, 100));
			f->length = (uint16_t)(GNTDP_PAGE_SIZE - f->offset + 1 +
					       rng_below(&q->rng, 100));
			break;
		default:
			/* An op bit x86 does not know, or GNTTAB_CACHE_SOURCE_GREF (both -EINVAL:
			 * the bit check comes first). */
			f->op |= rng_below(&q->rng, 2) ? GNTDP_GNTTAB_CACHE_SOURCE_GREF
						       : 4u << rng_below(&q->rng, 20);
			break;
		}
		m->mask = M_GENERAL | RC_EINVAL;
		break;
	case K_CF_NOOP:
		if (rng_below(&q->rng, 2))
			f->length = 0;
		else
			f->op = 0;
		f->a.dev_bus_addr = rng_next(&q->rng) & ~(1ull << 63); /* not looked at */
		m->mask = M_OKAY | RC_OK;
		break;
	default: /* K_CF_UNGRANTED: a frame of V2T (pinned only by V2's transitive copies), or
		  * no frame at all */
		if (s->v2.on && rng_below(&q->rng, 3) != 0) {
			const uint8_t *va = gntdp_domain_frame(
				s->wa->gt, DOM_V2T, rng_below(&q->rng, s->v2.nbv * 2));

			if (va == NULL)
				return false;
			f->a.dev_bus_addr = addr_abstract(s->wa, (uint64_t)(uintptr_t)va);
		} else {
			f->a.dev_bus_addr = (uint64_t)(1 + rng_below(&q->rng, 1u << 20))
					    << GNTDP_PAGE_SHIFT;
		}
		m->mask = M_GENERAL | RC_EINVAL;
		break;
	}
	return true;
}

/* ---- V2's own commands ---------------------------------------------------------- */

/* Any entry beyond the reserved ones pinned by a mapping (sequential: the only pins). */
static bool
v2_pinned(const struct v2model *v)
{
	for (uint32_t j = 0; j < v->nbv; j++) {
		for (uint32_t k = 0; k < V2_SLOTS; k++) {
			if (v->cl[j].maps[k] != 0)
				return true;
		}
	}
	return false;
}

static bool
build_set_version(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_set_version *sv = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	const struct v2model *v = &s->v2;
	static const uint32_t bad[] = {0, 3, 4, 0x80000001u};

	m->kind = k;
	if (k == K_SV_BAD) {
		sv->version = bad[rng_below(&q->rng, 4)];
		m->mask = M_GENERAL | RC_EINVAL;
		return true;
	}
	sv->version = rng_below(&q->rng, 4) == 0 ? v->ver : 3 - v->ver;
	if (sv->version == v->ver)
		m->mask = M_OKAY | RC_OK;
	else if (v2_pinned(v))
		m->mask = M_GENERAL | RC_EBUSY;
	else if (v->ver == 2 && v->odd != 0)
		m->mask = M_GENERAL | RC_ERANGE;
	else
		m->mask = M_OKAY | RC_OK;
	/* Concurrent: copies and maps of the slots race it (pins, v2 ops in flight); with
	 * the pins gone an unrepresentable reserved entry is what refuses it. */
	if (s->conc && sv->version != v->ver)
		m->mask |= M_OKAY | M_GENERAL | RC_OK | RC_EBUSY | RC_EAGAIN |
			   (v->ver == 2 && v->odd != 0 ? RC_ERANGE : 0);
	return true;
}

static bool
build_get_version(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_get_version *gv = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];

	(void)s;
	memset(gv, 0, sizeof(*gv));
	m->kind = k;
	switch (k) {
	case K_GV_SELF:
		gv->dom = rng_below(&q->rng, 2) ? GNTDP_DOMID_SELF : q->domid;
		m->mask = M_OKAY | RC_OK;
		break;
	case K_GV_OTHER:
		/* V2 (unprivileged) about V2T: -EPERM; a privileged client about V2: its version. */
		gv->dom = q->role == ROLE_V2 ? DOM_V2T : DOM_V2;
		m->mask = q->privileged ? M_OKAY | RC_OK : M_GENERAL | RC_EPERM;
		break;
	default:
		gv->dom = bad_domid(q);
		m->mask = M_BAD_DOMAIN | RC_ESRCH;
		if (gv->dom == GNTDP_DOMID_SELF)
			m->mask = M_OKAY | RC_OK;
		break;
	}
	return true;
}

static uint32_t
status_frames(const struct v2model *v)
{
	return v->ver == 2 ? 1 : 0; /* one grant frame: 256 entries, 512 bytes of status */
}

static bool
build_status_frames(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_get_status_frames *gs = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	uint32_t nsf = status_frames(&s->v2);

	memset(gs, 0, sizeof(*gs));
	m->kind = k;
	gs->nr_frames = rng_below(&q->rng, nsf + 2);
	gs->frame_list = (uint64_t *)(uintptr_t)1; /* a list in the caller's memory */
	gs->dom = rng_below(&q->rng, 2) ? GNTDP_DOMID_SELF : q->domid;
	switch (k) {
	case K_GS_SELF:
		m->mask = gs->nr_frames > nsf ? M_GENERAL : M_OKAY; /* XSA-382 */
		break;
	case K_GS_NULL:
		gs->frame_list = (uint64_t *)(uintptr_t)bad_gaddr(q); /* outside the RAM */
		m->mask = gs->nr_frames > nsf	? M_GENERAL
			  : gs->nr_frames == 0 ? M_OKAY
					       : M_BAD_VIRT; /* the write faults */
		break;
	case K_GS_OTHER:
		gs->dom = DOM_V2T;
		m->mask = M_PERM;
		break;
	default:
		gs->dom = bad_domid(q);
		m->mask = gs->dom == GNTDP_DOMID_SELF
				  ? (gs->nr_frames > nsf ? M_GENERAL : M_OKAY)
				  : M_BAD_DOMAIN;
		break;
	}
	return true;
}

static uint32_t
nr_entries_v(uint32_t ver)
{
	return ver == 2 ? GNTDP_GRANT_ENTRIES_PER_FRAME_V2 : GNTDP_GRANT_ENTRIES_PER_FRAME_V1;
}

static bool
build_swap(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	struct gntdp_gnttab_swap_grant_ref *w = op_at(q, i);
	struct op_meta *m = &q->cur.meta[i];
	const struct v2model *v = &s->v2;
	uint32_t a = rng_below(&q->rng, V2_SPARES), b = rng_below(&q->rng, V2_SPARES - 1);

	memset(w, 0, sizeof(*w));
	m->kind = k;
	w->ref_a = v2_spare_ref(v, a);
	w->ref_b = v2_spare_ref(v, b >= a ? b + 1 : b);
	m->mask = M_OKAY;
	switch (k) {
	case K_SW_SAME:
		w->ref_b = w->ref_a;
		break;
	case K_SW_PINNED: {
		uint32_t j = rng_below(&q->rng, v->nbv), kk = rng_below(&q->rng, VS_SUB + 1);

		/* Sequential only: a mapping's pin is the one thing that stays put. */
		if (s->conc || v->cl[j].maps[kk] == 0)
			return false;
		if (rng_below(&q->rng, 2))
			w->ref_a = v2_ref(j, kk);
		else
			w->ref_b = v2_ref(j, kk);
		m->mask = M_EAGAIN; /* only the pins count, never the flags */
		if (s->conf->selftest_v2 && !s->selftest_done) {
			m->mask = M_OKAY; /* planted: as if pins did not block a swap */
			s->selftest_done = true;
		}
		break;
	}
	case K_SW_RANGE:
		/* Entries 256-511 exist on v1 only (XSA-18: the bound follows the version). */
		if (rng_below(&q->rng, 3) == 0) {
			w->ref_b = 0xffffffffu - rng_below(&q->rng, 3);
			m->mask = M_BAD_GNTREF;
		} else {
			w->ref_b = V2_HI_REF + rng_below(&q->rng, V2_HI_REFS);
			m->mask = w->ref_b < nr_entries_v(v->ver) ? M_OKAY : M_BAD_GNTREF;
		}
		if (rng_below(&q->rng, 2)) {
			uint32_t t = w->ref_a;

			w->ref_a = w->ref_b;
			w->ref_b = t;
		}
		break;
	default:
		break;
	}
	return true;
}

/* ---- Choosing ------------------------------------------------------------------------ */

uint8_t
v2_pick_cmd(struct sim *s, struct qmodel *q)
{
	uint32_t r;

	if (q->role == ROLE_V2) {
		r = rng_below(&q->rng, 100);
		return r < 25	? GNTDP_GNTTABOP_SET_VERSION
		       : r < 40 ? GNTDP_GNTTABOP_GET_VERSION
		       : r < 60 ? GNTDP_GNTTABOP_GET_STATUS_FRAMES
		       : r < 92 ? GNTDP_GNTTABOP_SWAP_GRANT_REF
				: GNTDP_GNTTABOP_QUERY_SIZE;
	}
	if (!v2_client(s, q))
		return 0xff;
	r = rng_below(&q->rng, 100);
	if (r < 6 && q->nb_maps > 0)
		return GNTDP_GNTTABOP_UNMAP_AND_REPLACE;
	if (r < 10)
		return GNTDP_GNTTABOP_CACHE_FLUSH;
	if (r < 12)
		return GNTDP_GNTTABOP_GET_VERSION;
	return 0xff;
}

static uint8_t
pick_w(struct qmodel *q, const uint8_t *kinds, const uint8_t *w, uint32_t n)
{
	uint32_t total = 0, r;

	for (uint32_t i = 0; i < n; i++)
		total += w[i];
	r = rng_below(&q->rng, total);
	for (uint32_t i = 0; i < n; i++) {
		if (r < w[i])
			return kinds[i];
		r -= w[i];
	}
	return kinds[0];
}

#define PICK(q, k, w) pick_w(q, k, w, sizeof(k))

uint8_t
v2_choose_kind(struct sim *s, struct qmodel *q)
{
	static const uint8_t ur[] = {K_UR_VALID, K_UR_NEWADDR, K_UR_BAD_HOST, K_UR_STALE,
				     K_UR_DEVONLY};
	static const uint8_t ur_w[] = {60, 10, 10, 10, 10};
	static const uint8_t sv[] = {K_SV_SET, K_SV_BAD};
	static const uint8_t sv_w[] = {85, 15};
	static const uint8_t gv[] = {K_GV_SELF, K_GV_OTHER, K_GV_BAD_DOMAIN};
	static const uint8_t gv_w[] = {50, 30, 20};
	static const uint8_t gs[] = {K_GS_SELF, K_GS_NULL, K_GS_OTHER, K_GS_BAD_DOMAIN};
	static const uint8_t gs_w[] = {55, 20, 10, 15};
	static const uint8_t sw[] = {K_SW_SPARE, K_SW_SAME, K_SW_PINNED, K_SW_RANGE};
	static const uint8_t sw_w[] = {50, 10, 25, 15};
	static const uint8_t cf[] = {K_CF_MAPPED, K_CF_OWN, K_CF_BAD_ARGS, K_CF_NOOP,
				     K_CF_UNGRANTED};
	static const uint8_t cf_w[] = {40, 20, 15, 10, 15};

	switch (q->cur.cmd) {
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		return PICK(q, ur, ur_w);
	case GNTDP_GNTTABOP_SET_VERSION:
		return PICK(q, sv, sv_w);
	case GNTDP_GNTTABOP_GET_VERSION:
		return PICK(q, gv, gv_w);
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		return PICK(q, gs, gs_w);
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
		return PICK(q, sw, sw_w);
	case GNTDP_GNTTABOP_CACHE_FLUSH:
		return PICK(q, cf, cf_w);
	case GNTDP_GNTTABOP_COPY:
		return v2_client(s, q) && rng_below(&q->rng, 5) == 0 ? K_CP_V2 : K_NONE;
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		return v2_client(s, q) && rng_below(&q->rng, 5) == 0 ? K_MP_V2 : K_NONE;
	default:
		return K_NONE;
	}
}

bool
v2_build(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k)
{
	switch (k) {
	case K_CP_V2:
		return build_copy_v2(s, q, i);
	case K_MP_V2:
		return build_map_v2(s, q, i);
	case K_UR_VALID:
	case K_UR_NEWADDR:
	case K_UR_BAD_HOST:
	case K_UR_STALE:
	case K_UR_DEVONLY:
		return build_replace(s, q, i, k);
	case K_SV_SET:
	case K_SV_BAD:
		return build_set_version(s, q, i, k);
	case K_GV_SELF:
	case K_GV_OTHER:
	case K_GV_BAD_DOMAIN:
		return build_get_version(s, q, i, k);
	case K_GS_SELF:
	case K_GS_NULL:
	case K_GS_OTHER:
	case K_GS_BAD_DOMAIN:
		return build_status_frames(s, q, i, k);
	case K_SW_SPARE:
	case K_SW_SAME:
	case K_SW_PINNED:
	case K_SW_RANGE:
		return build_swap(s, q, i, k);
	default:
		return build_flush(s, q, i, k);
	}
}

/* ---- Results --------------------------------------------------------------------------- */

/* After a switch: every entry but the reserved ones is gone (no crud from the old version). */
static void
v2_switched(struct v2model *v, uint32_t ver)
{
	v->ver = ver;
	for (uint32_t j = 0; j < v->nbv; j++) {
		for (uint32_t k = 0; k < V2_SLOTS; k++)
			v->cl[j].st[k] = V2S_NONE;
	}
	memset(v->spare, 0, sizeof(v->spare));
	memset(v->hi, 0, sizeof(v->hi));
	v->odd = 0; /* v2 -> v1 only with it clear; v1 -> v2 carries the v1 entry (none) */
}

/* The reserved grant must survive every switch, in the new version's form. */
static void
check_reserved(struct sim *s)
{
	const struct v2model *v = &s->v2;
	uint32_t frame = 0;
	uint16_t flags = 0, domid = 0;

	if (!v->rsv_granted)
		return;
	if (v->ver == 2) {
		union gntdp_grant_entry_v2 *e;
		gntdp_grant_status_t *st;
		uint32_t n;

		if (gntdp_guest_table_v2(s->wa->gt, DOM_V2, &e, &st, &n) == 0) {
			flags = e[V2_RSV_REF].hdr.flags;
			domid = e[V2_RSV_REF].hdr.domid;
			frame = (uint32_t)e[V2_RSV_REF].full_page.frame;
		}
	} else {
		const struct gntdp_grant_entry_v1 *e = world_entry(s->wa, DOM_V2, V2_RSV_REF);

		if (e != NULL) {
			flags = e->flags;
			domid = e->domid;
			frame = e->frame;
		}
	}
	if (flags != GNTDP_GTF_PERMIT_ACCESS || domid != 1 || frame != 0)
		violation("set_version",
			  "reserved ref %u of d%u is flags %#x domid %u frame %u after the switch "
			  "to v%u: not carried over",
			  V2_RSV_REF, DOM_V2, flags, domid, frame, v->ver);
}

/*
 * get_status_frames lists the status frames: the same machine frames every time (they
 * are reserved when the domain is created, so a switch back and forth keeps them).
 */
static void
check_status_list(struct sim *s, struct qmodel *q, uint32_t i)
{
	const struct gntdp_gnttab_get_status_frames *gs = op_at(q, i);
	const uint64_t *list = opa_list(s->wa, q->qid, i);
	struct v2model *v = &s->v2;

	if (q->cur.count > STRESS_MAX_SETUP_OPS || (uintptr_t)gs->frame_list != GADDR_SLOT ||
	    gs->nr_frames == 0 || list == NULL)
		return;
	if (v->status_mfn == 0)
		v->status_mfn = list[0];
	if (list[0] != v->status_mfn || list[0] == 0)
		violation("status-frames",
			  "q%u: get_status_frames listed frame %#llx, earlier %#llx", q->qid,
			  (unsigned long long)list[0], (unsigned long long)v->status_mfn);
}

/* What the model knows of an entry a swap may move: a spare or a v1-only ref. */
static bool *
swap_state(struct v2model *v, uint32_t ref)
{
	uint32_t lo = v2_spare_ref(v, 0);

	if (ref >= lo && ref < lo + V2_SPARES)
		return &v->spare[ref - lo];
	if (ref >= V2_HI_REF && ref < V2_HI_REF + V2_HI_REFS)
		return &v->hi[ref - V2_HI_REF];
	return NULL;
}

static void
apply_own(struct sim *s, struct qmodel *q, uint32_t i, const struct op_result *r)
{
	struct v2model *v = &s->v2;
	const struct op_meta *m = &q->cur.meta[i];

	switch (q->cur.cmd) {
	case GNTDP_GNTTABOP_SET_VERSION: {
		const struct gntdp_gnttab_set_version *sv = op_at(q, i);
		/* Xen writes the table's version back whatever the call returns. */
		if (r->version != 1 && r->version != 2)
			violation("set_version", "q%u: set_version wrote back version %u", q->qid,
				  r->version);
		if (r->rc == -EBUSY)
			v->sv_busy++;
		if (r->rc == -ERANGE)
			v->sv_range++;
		if (r->rc == 0 && m->kind == K_SV_SET && sv->version != v->ver) {
			v->sv_ok++;
			v2_switched(v, sv->version);
			check_reserved(s);
		}
		if (r->version != v->ver && (r->version == 1 || r->version == 2))
			violation("set_version",
				  "q%u: set_version(%u) got rc %d and version %u, the table is at "
				  "v%u",
				  q->qid, sv->version, r->rc, r->version, v->ver);
		break;
	}
	case GNTDP_GNTTABOP_GET_VERSION:
		if (r->rc == 0 && (m->kind == K_GV_SELF || q->role == ROLE_V2) &&
		    r->version != v->ver)
			violation("get_version", "q%u: get_version says v%u, the table is at v%u",
				  q->qid, r->version, v->ver);
		break;
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		if (r->status == GNTDP_GNTST_OKAY && r->rc == 0 && m->kind == K_GS_SELF)
			check_status_list(s, q, i);
		break;
	case GNTDP_GNTTABOP_SWAP_GRANT_REF: {
		const struct gntdp_gnttab_swap_grant_ref *w = op_at(q, i);
		bool *a = swap_state(v, w->ref_a), *b = swap_state(v, w->ref_b);

		if (r->status != GNTDP_GNTST_OKAY || r->rc != 0 || w->ref_a == w->ref_b)
			break;
		v->swaps++;
		/* The model's knowledge moves with the entries (spares and the v1-only refs). */
		if (a != NULL && b != NULL) {
			bool t = *a;

			*a = *b;
			*b = t;
		}
		break;
	}
	default:
		break;
	}
}

bool
v2_apply(struct sim *s, struct qmodel *q, uint32_t i, const struct op_result *r)
{
	const struct op_meta *m = &q->cur.meta[i];
	bool ok = r->status == GNTDP_GNTST_OKAY && r->rc == 0;

	if (!s->v2.on)
		return false;
	if (m->kind == K_MP_V2) {
		if (!ok)
			v2_rollback(s, q, i);
		return true;
	}
	if (q->cur.cmd == GNTDP_GNTTABOP_UNMAP_AND_REPLACE && ok)
		s->v2.replaces++;
	if (q->cur.cmd == GNTDP_GNTTABOP_CACHE_FLUSH && r->rc == 0)
		s->v2.flushes++;
	if (q->role == ROLE_V2) {
		apply_own(s, q, i, r);
	} else if (q->cur.cmd == GNTDP_GNTTABOP_GET_VERSION && r->rc == 0 && !s->conc) {
		/* A client's own table stays v1; a privileged one reads V2's. */
		uint32_t want = m->kind == K_GV_OTHER ? s->v2.ver : 1;

		if (r->version != want)
			violation("get_version", "q%u: get_version (%s) says v%u, expected v%u",
				  q->qid, kind_name(m->kind), r->version, want);
	}
	return true;
}

void
v2_rollback(struct sim *s, struct qmodel *q, uint32_t i)
{
	const struct gntdp_gnttab_map_grant_ref *mp = op_at(q, i);
	struct op_plan *p = &q->plan[i];
	struct v2cl *c = v2cl_of(s, q);
	uint32_t k = mp->ref - v2_ref((uint32_t)q->client_idx, 0);

	if (q->cur.meta[i].kind != K_MP_V2 || p->pin_inc == 0 || k >= V2_SLOTS)
		return;
	p->pin_inc = 0;
	if (c->maps[k] > 0 && --c->maps[k] == 0 && c->st[k] == V2S_REVOKED_BUSY)
		c->st[k] = V2S_NONE;
}

void
v2_mapping_gone(struct sim *s, struct qmodel *q, const struct mapping *mm)
{
	struct v2cl *c;
	uint32_t k;

	if (!v2_client(s, q) || mm->g != DOM_V2)
		return;
	c = v2cl_of(s, q);
	k = mm->ref - v2_ref((uint32_t)q->client_idx, 0);
	if (k >= V2_SLOTS || c->maps[k] == 0)
		return;
	if (--c->maps[k] == 0 && c->st[k] == V2S_REVOKED_BUSY)
		c->st[k] = V2S_NONE; /* the status word is clear now: the slot may be reused */
}

/* ---- Counts ------------------------------------------------------------------------------ */

/* Outcomes by kind: okay (rc 0), another status, a non-zero rc. */
static uint64_t tally[K_COUNT - K_CP_V2][3];

void
v2_tally(uint8_t kind, const struct op_result *r)
{
	uint64_t *t = tally[kind - K_CP_V2];

	t[r->rc != 0 ? 2 : r->status == GNTDP_GNTST_OKAY ? 0 : 1]++;
}

void
v2_summary(FILE *out)
{
	uint64_t any = 0;

	for (unsigned int k = 0; k < K_COUNT - K_CP_V2; k++)
		any += tally[k][0] + tally[k][1] + tally[k][2];
	if (any == 0)
		return;
	fprintf(out, "gntdp-stress: v2 kinds (okay/other status/errno):");
	for (unsigned int k = 0; k < K_COUNT - K_CP_V2; k++) {
		if (tally[k][0] + tally[k][1] + tally[k][2] != 0)
			fprintf(out, " [%s] %llu/%llu/%llu", kind_name((uint8_t)(K_CP_V2 + k)),
				(unsigned long long)tally[k][0], (unsigned long long)tally[k][1],
				(unsigned long long)tally[k][2]);
	}
	fprintf(out, "\n");
}

/* ---- Guest agents of V2 and V2T ----------------------------------------------------- */

static void
rand_window(struct rng *g, uint16_t *off, uint16_t *len)
{
	uint32_t l = 1 + rng_below(g, rng_below(g, 2) ? 256 : GNTDP_PAGE_SIZE);

	*len = (uint16_t)l;
	*off = (uint16_t)rng_below(g, GNTDP_PAGE_SIZE - l + 1);
}

/* V2T's set-up, one action per call: switch to v2, then three grants per client. */
static bool
v2t_setup(struct sim *s, struct record *r)
{
	struct v2model *v = &s->v2;
	uint32_t step = v->t_step, j, k;

	if (step == 0) {
		rec_guest(r, DOM_V2T, GA_SET_VERSION, 0, 2, 0, 0);
		return true;
	}
	if (step == 1) {
		/* A toolstack-style reserved grant, in the form of the version V2 is at. */
		rec_guest(r, DOM_V2, v->ver == 2 ? GA_V2_FULL : GA_GRANT, V2_RSV_REF, 1, 0, 0);
		return true;
	}
	j = (step - 2) / 3;
	k = (step - 2) % 3;
	if (j >= v->nbv)
		return false;
	if (k == 0) {
		rec_guest(r, DOM_V2T, GA_V2_FULL, v2t_ref(j, 0), DOM_V2, j * 2, 0);
	} else if (k == 1) {
		rand_window(&s->grng, &v->cl[j].tsub_off, &v->cl[j].tsub_len);
		rec_guest(r, DOM_V2T, GA_V2_SUB, v2t_ref(j, 1), DOM_V2, j * 2 + 1,
		       (uint32_t)v->cl[j].tsub_off << 16 | v->cl[j].tsub_len);
	} else {
		rec_guest(r, DOM_V2T, GA_V2_TRANS, v2t_ref(j, 2), DOM_V2, DOM_V2, v2_ref(j, VS_FULL));
	}
	return true;
}

/* Grant slot k of client j in the form of the current version. */
static void
grant_slot(struct sim *s, struct record *r, uint32_t j, uint32_t k)
{
	struct v2model *v = &s->v2;
	gntdp_domid_t cl = (gntdp_domid_t)(1 + j);
	uint32_t ref = v2_ref(j, k);

	if (v->ver == 1) {
		rec_guest(r, DOM_V2, GA_GRANT, ref, cl, v2_gfn(j, k), k == VS_FULL_RO);
		return;
	}
	switch (k) {
	case VS_FULL:
	case VS_FULL_RO:
		rec_guest(r, DOM_V2, GA_V2_FULL, ref, cl, v2_gfn(j, k), k == VS_FULL_RO);
		break;
	case VS_SUB:
		rand_window(&s->grng, &v->cl[j].sub_off, &v->cl[j].sub_len);
		rec_guest(r, DOM_V2, GA_V2_SUB, ref, cl, v2_gfn(j, k),
		       (uint32_t)v->cl[j].sub_off << 16 | v->cl[j].sub_len);
		break;
	case VS_TRANS:
		rec_guest(r, DOM_V2, GA_V2_TRANS, ref, cl, DOM_V2T, v2t_ref(j, 0));
		break;
	case VS_TRANS_SUB:
		rec_guest(r, DOM_V2, GA_V2_TRANS, ref, cl, DOM_V2T, v2t_ref(j, 1));
		break;
	case VS_LOOP:
		rec_guest(r, DOM_V2, GA_V2_TRANS, ref, cl, DOM_V2, ref);
		break;
	case VS_DEPTH2:
		rec_guest(r, DOM_V2, GA_V2_TRANS, ref, cl, DOM_V2T, v2t_ref(j, 2));
		break;
	default:
		rec_guest(r, DOM_V2, GA_V2_TRANS, ref, cl, DOM_NONE, 9);
		break;
	}
}

bool
v2_guest_next(struct sim *s, struct record *r)
{
	struct v2model *v = &s->v2;
	struct qmodel *vq = sim_queue_of(s, DOM_V2);
	uint32_t j, k, x;

	if (!v->on)
		return false;
	/* Concurrent: never while V2's own batch (a switch, a swap) may be running. */
	if (s->conc && vq != NULL && vq->phase != QP_IDLE)
		return false;
	if (v2t_setup(s, r))
		return true;
	x = rng_below(&s->grng, 100);
	if (x < 8) {
		k = rng_below(&s->grng, V2_SPARES);
		if (v->spare[k])
			return false;
		if (v->ver == 1)
			rec_guest(r, DOM_V2, GA_GRANT, v2_spare_ref(v, k), V2_SPARE_DOM, 100 + k, 0);
		else
			rec_guest(r, DOM_V2, GA_V2_FULL, v2_spare_ref(v, k), V2_SPARE_DOM, 100 + k, 0);
		return true;
	}
	if (x < 12 && v->ver == 2) {
		/* The reserved entry switch to v1 must refuse (-ERANGE), and its removal. */
		if (v->odd != 0)
			rec_guest(r, DOM_V2, GA_V2_END, V2_ODD_REF, 0, 0, 0);
		else if (rng_below(&s->grng, 2))
			rec_guest(r, DOM_V2, GA_V2_TRANS, V2_ODD_REF, 1, DOM_V2T, v2t_ref(0, 0));
		else
			rec_guest(r, DOM_V2, GA_RAW_V2, V2_ODD_REF,
			       GNTDP_GTF_PERMIT_ACCESS | 1u << 16, 5, 1 + rng_below(&s->grng, 8));
		return true;
	}
	j = rng_below(&s->grng, v->nbv);
	k = rng_below(&s->grng, V2_SLOTS);
	if (v->ver == 1 && !slot_on_v1(k))
		k = rng_below(&s->grng, VS_SUB + 1);
	switch (v->cl[j].st[k]) {
	case V2S_NONE:
		grant_slot(s, r, j, k);
		return true;
	case V2S_GRANTED:
		/* Revoke: mostly when nothing maps it (v2's end access revokes even when busy). */
		if (v->cl[j].maps[k] != 0 && rng_below(&s->grng, 4) != 0)
			return false;
		rec_guest(r, DOM_V2, v->ver == 2 ? GA_V2_END : GA_END, v2_ref(j, k), 0, 0, 0);
		return true;
	default:
		return false;
	}
}

/* Slot (j, k) of a guest record on V2, false when the ref is no slot. */
static bool
slot_of(const struct v2model *v, uint32_t ref, uint32_t *j, uint32_t *k)
{
	if (ref < RESERVED_REFS || ref >= v2_ref(v->nbv, 0))
		return false;
	*j = (ref - RESERVED_REFS) / V2_SLOTS;
	*k = (ref - RESERVED_REFS) % V2_SLOTS;
	return true;
}

static void
expect_result(const struct record *r, int res, int want)
{
	if (res != want)
		violation("guest-v2", "guest action %u on d%u ref %u returned %d, expected %d",
			  r->cmd, r->qid, r->ref, res, want);
}

void
v2_guest_applied(struct sim *s, const struct record *r, int res)
{
	struct v2model *v = &s->v2;
	uint32_t j, k;

	if (!v->on || (r->qid != DOM_V2 && r->qid != DOM_V2T))
		return;
	if (r->qid == DOM_V2T) {
		expect_result(r, res, 0);
		if (v->t_step >= 2 && res == 0)
			v->cl[(v->t_step - 2) / 3].t_ok[(v->t_step - 2) % 3] = true;
		v->t_step++;
		return;
	}
	if (r->ref == V2_RSV_REF && v->t_step == 1) {
		expect_result(r, res, 0);
		v->rsv_granted = res == 0;
		v->t_step++;
		return;
	}
	if (r->ref == V2_ODD_REF) {
		expect_result(r, res, 0);
		v->odd = r->cmd == GA_V2_END ? 0 : r->cmd == GA_V2_TRANS ? 1 : 2;
		return;
	}
	if (r->ref >= v2_spare_ref(v, 0) && r->ref < v2_spare_ref(v, V2_SPARES)) {
		expect_result(r, res, 0);
		v->spare[r->ref - v2_spare_ref(v, 0)] = res == 0;
		return;
	}
	if (!slot_of(v, r->ref, &j, &k))
		return;
	switch (r->cmd) {
	case GA_GRANT:
	case GA_V2_FULL:
	case GA_V2_SUB:
	case GA_V2_TRANS:
		expect_result(r, res, 0);
		if (res == 0)
			v->cl[j].st[k] = V2S_GRANTED;
		break;
	case GA_END:
		/* v1: refused while mapped (GTF_reading/writing set); the entry stays. */
		if (!s->conc)
			expect_result(r, res, v->cl[j].maps[k] != 0 ? -EBUSY : 0);
		if (res == 0)
			v->cl[j].st[k] = V2S_NONE;
		break;
	case GA_V2_END:
		/* v2: the header is cleared whatever the status says; busy while mapped. */
		if (!s->conc && v->cl[j].maps[k] != 0)
			expect_result(r, res, -EBUSY);
		v->cl[j].st[k] = res == 0 ? V2S_NONE : V2S_REVOKED_BUSY;
		if (res != 0 && v->cl[j].maps[k] == 0)
			v->cl[j].st[k] = V2S_NONE; /* a copy pin that has gone since */
		break;
	default:
		break;
	}
}

/* ---- Hostile garbage for commands 7-12 ------------------------------------------------ */

void
v2_garbage(struct sim *s, struct qmodel *q, struct raw_call *rc, struct op_meta *m)
{
	static const gntdp_domid_t doms[] = {1, DOM_G1, DOM_V2, DOM_V2T, DOM_H, DOM_NONE,
					     GNTDP_DOMID_SELF};
	union {
		struct gntdp_gnttab_unmap_and_replace unmap_and_replace;
		struct gntdp_gnttab_set_version set_version;
		struct gntdp_gnttab_get_status_frames get_status_frames;
		struct gntdp_gnttab_get_version get_version;
		struct gntdp_gnttab_swap_grant_ref swap_grant_ref;
		struct gntdp_gnttab_cache_flush cache_flush;
	} *op = (void *)rc->op;

	(void)s;
	m->aux = 1; /* the errnos of these commands come after the caller lookup */
	switch (rc->cmd) {
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		op->unmap_and_replace.handle = rng_below(&q->rng, 1100);
		op->unmap_and_replace.host_addr &= 0x1ffffful;
		if (rng_below(&q->rng, 2))
			op->unmap_and_replace.new_addr = 0;
		m->aux = 0;
		break;
	case GNTDP_GNTTABOP_SET_VERSION:
		op->set_version.version = rng_below(&q->rng, 4);
		m->mask = M_OKAY | M_GENERAL | RC_OK | RC_EINVAL | RC_EBUSY | RC_EAGAIN | RC_ERANGE;
		break;
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		op->get_status_frames.dom = doms[rng_below(&q->rng, sizeof(doms) / 2)];
		op->get_status_frames.nr_frames =
			rng_below(&q->rng, 3) ? rng_below(&q->rng, 4) : (uint32_t)rng_next(&q->rng);
		/* A list in the op area, or outside the RAM (bad_virt_addr). */
		op->get_status_frames.frame_list =
			(uint64_t *)(uintptr_t)(rng_below(&q->rng, 4) ? GADDR_SLOT : bad_gaddr(q));
		if ((uintptr_t)op->get_status_frames.frame_list != GADDR_SLOT)
			m->kind = K_HC_BAD_LIST;
		m->aux = 0;
		break;
	case GNTDP_GNTTABOP_GET_VERSION:
		op->get_version.dom = doms[rng_below(&q->rng, sizeof(doms) / 2)];
		m->mask = M_OKAY | M_GENERAL | M_BAD_DOMAIN | RC_OK | RC_ESRCH | RC_EPERM;
		break;
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
		op->swap_grant_ref.ref_a = rng_below(&q->rng, 1200);
		op->swap_grant_ref.ref_b = rng_below(&q->rng, 1200);
		m->aux = 0;
		break;
	default: /* cache_flush */
		op->cache_flush.a.dev_bus_addr &= ~(1ull << 63);
		op->cache_flush.offset &= 0x1fff;
		op->cache_flush.length &= 0x1fff;
		op->cache_flush.op &= rng_below(&q->rng, 2) ? 3u : 0x80000007u;
		m->mask = M_OKAY | M_GENERAL | RC_OK | RC_EINVAL | RC_EPERM | RC_EOPNOTSUPP;
		break;
	}
}
