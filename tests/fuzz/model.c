/* SPDX-License-Identifier: MIT */
/*
 * The fuzz harness's model of Xen's grant tables (see model.h). Step
 * numbers refer to shared/spec/xen-grant-semantics.md; the order of the
 * steps is that of xen/common/grant_table.c (map_grant_ref, unmap_common,
 * acquire_grant_for_copy, gnttab_transfer, gnttab_setup_table).
 */
#include "model.h"

#include <errno.h>
#include <string.h>

struct model M;

const struct m_fmt m_fmts[3] = {
	[1] = {GNTDP_GRANT_ENTRIES_PER_FRAME_V1},
};

#define RW_BITS (GNTDP_GTF_READING | GNTDP_GTF_WRITING)
#define COUNTER_TOP 128u /* Xen fails a pin whose counter already has its top bit set */
#define SLOT_OF(g, gfn) ((gfn) < (g)->p2m_size ? &(g)->p2m[(gfn)] : NULL)

/* ---- Domains, frames, entries ------------------------------------------------ */

void
m_reset(void)
{
	/* Only the bookkeeping: domains and frames are cleared as they are created. */
	M.nb_dom = 0;
	M.nb_frame = 0;
	M.nb_map = 0;
}

static int16_t
frame_new(void)
{
	struct m_frame *f;

	if (M.nb_frame == M_MAX_FRAMES)
		return -1;
	f = &M.frame[M.nb_frame];
	f->live = true;
	f->ptr = NULL;
	memset(f->data, 0, sizeof(f->data));
	return (int16_t)M.nb_frame++;
}

int
m_dom_create(gntdp_domid_t id, bool priv, uint32_t nr_frames, uint32_t p2m_size, uint32_t max_gf,
	     uint32_t maptrack_frames, uint8_t max_version)
{
	struct m_dom *d;

	if (M.nb_dom == M_MAX_DOMS || M.nb_frame + nr_frames > M_MAX_FRAMES ||
	    p2m_size > M_MAX_GFNS || max_gf > M_MAX_GF || nr_frames > p2m_size)
		return -1;
	d = &M.dom[M.nb_dom];
	memset(d, 0, sizeof(*d));
	d->used = true;
	d->alive = true;
	d->version = 1;
	d->max_version = max_version;
	d->id = id;
	d->priv = priv;
	d->nr_frames = nr_frames;
	d->p2m_size = p2m_size;
	d->max_gf = max_gf;
	d->nr_gf = 1; /* INITIAL_NR_GRANT_FRAMES */
	d->max_handles = maptrack_frames * 256u;
	d->owned = nr_frames;
	for (uint32_t g = 0; g < M_MAX_GFNS; g++)
		d->p2m[g] = (struct m_slot){SLOT_EMPTY, -1};
	for (uint32_t g = 0; g < nr_frames; g++)
		d->p2m[g] = (struct m_slot){SLOT_PAGE, frame_new()};
	return (int)M.nb_dom++;
}

int
m_dom_by_id(gntdp_domid_t id)
{
	for (unsigned int i = 0; i < M.nb_dom; i++)
		if (M.dom[i].alive && M.dom[i].id == id)
			return (int)i;
	return -1;
}

bool
m_zombie(gntdp_domid_t id)
{
	for (unsigned int i = 0; i < M.nb_map; i++) {
		const struct m_dom *g = &M.dom[M.map[i].granter];

		if (!g->alive && g->id == id)
			return true;
	}
	return false;
}

/* Refs are checked against the current size in the current format (spec 2.1). */
static uint32_t
nr_entries(const struct m_dom *g)
{
	return g->nr_gf * m_fmts[g->version].entries_per_frame;
}

uint32_t
m_nr_entries(int di)
{
	return nr_entries(&M.dom[di]);
}

static uint32_t
pin_total(const struct m_act *a)
{
	return a->hstr + a->hstw + a->devr + a->devw;
}

/*
 * The overflow guard: a counter the pin would increment already has its
 * top bit set (Xen's GNTPIN_incr2oflow_mask(); older Xen tested all four).
 */
static bool
pin_saturated(const struct m_act *a, uint32_t map_flags, bool copy_write)
{
	bool ro = (map_flags & GNTDP_GNTMAP_READONLY) != 0;

	if (map_flags == 0) /* a copy: hstr for the source, hstw for the destination */
		return (copy_write ? a->hstw : a->hstr) >= COUNTER_TOP;
	return ((map_flags & GNTDP_GNTMAP_DEVICE_MAP) && (ro ? a->devr : a->devw) >= COUNTER_TOP) ||
	       ((map_flags & GNTDP_GNTMAP_HOST_MAP) && (ro ? a->hstr : a->hstw) >= COUNTER_TOP);
}

static bool
pin_writable(const struct m_act *a)
{
	return a->hstw + a->devw != 0;
}

bool
m_pinned(int di, uint32_t ref)
{
	return pin_total(&M.dom[di].act[ref]) != 0;
}

uint32_t
m_pinned_entries(int di)
{
	const struct m_dom *d = &M.dom[di];
	uint32_t n = 0;

	for (uint32_t r = 0; r < nr_entries(d); r++)
		n += pin_total(&d->act[r]) != 0;
	return n;
}

unsigned int
m_nb_maps(int ci)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < M.nb_map; i++)
		n += M.map[i].caller == ci;
	return n;
}

struct m_map *
m_map_find(int ci, uint32_t handle)
{
	for (unsigned int i = 0; i < M.nb_map; i++)
		if (M.map[i].caller == ci && M.map[i].handle == handle)
			return &M.map[i];
	return NULL;
}

/* get_paged_frame(): the gfn must hold a page the domain owns (not a grant mapping). */
static int16_t
lookup_page(const struct m_dom *d, uint64_t gfn, int16_t *fid)
{
	const struct m_slot *s = SLOT_OF(d, gfn);

	if (s == NULL || s->kind != SLOT_PAGE)
		return GNTDP_GNTST_BAD_PAGE;
	*fid = s->fid;
	return GNTDP_GNTST_OKAY;
}

/*
 * _set_status_v1(): validate the entry (type and grantee only when not yet
 * pinned; GTF_readonly for a writable use) and set GTF_reading/writing.
 */
static int16_t
set_status(struct m_entry *e, const struct m_act *a, bool readonly, bool mapflag,
	   gntdp_domid_t ldom)
{
	uint16_t mask = (uint16_t)(GNTDP_GTF_TYPE_MASK | (mapflag ? GNTDP_GTF_SUB_PAGE : 0));

	if (pin_total(a) == 0 && ((e->flags & mask) != GNTDP_GTF_PERMIT_ACCESS || e->domid != ldom))
		return GNTDP_GNTST_GENERAL_ERROR;
	if (!readonly && (e->flags & GNTDP_GTF_READONLY))
		return GNTDP_GNTST_GENERAL_ERROR;
	e->flags |= (uint16_t)(GNTDP_GTF_READING | (readonly ? 0 : GNTDP_GTF_WRITING));
	return GNTDP_GNTST_OKAY;
}

/* "Reduce status for pin" (§5.2), after the pin change; the unlock_out_clear path too. */
static void
reduce_status(struct m_entry *e, const struct m_act *a, bool was_write)
{
	if (was_write && !pin_writable(a))
		e->flags &= (uint16_t)~GNTDP_GTF_WRITING;
	if (pin_total(a) == 0)
		e->flags &= (uint16_t)~GNTDP_GTF_READING;
}

static uint32_t *
map_counter(struct m_act *a, uint32_t part, bool ro)
{
	if (part == GNTDP_GNTMAP_DEVICE_MAP)
		return ro ? &a->devr : &a->devw;
	return ro ? &a->hstr : &a->hstw;
}

/* Drop the pins of the parts @p gone of mapping @p m (unmap_common_complete). */
static void
map_release(const struct m_map *m, uint32_t gone)
{
	struct m_dom *g = &M.dom[m->granter];
	bool ro = (m->flags & GNTDP_GNTMAP_READONLY) != 0;

	if (gone & GNTDP_GNTMAP_DEVICE_MAP)
		(*map_counter(&g->act[m->ref], GNTDP_GNTMAP_DEVICE_MAP, ro))--;
	if (gone & GNTDP_GNTMAP_HOST_MAP)
		(*map_counter(&g->act[m->ref], GNTDP_GNTMAP_HOST_MAP, ro))--;
	reduce_status(&g->ent[m->ref], &g->act[m->ref], !ro);
}

static void
map_drop(struct m_map *m)
{
	*m = M.map[--M.nb_map];
}

void
m_dom_destroy(int di)
{
	struct m_dom *d = &M.dom[di];

	d->alive = false;
	for (unsigned int i = 0; i < M.nb_map;) {
		struct m_map *m = &M.map[i];

		if (m->caller == di) {
			map_release(m, m->parts);
			map_drop(m);
		} else {
			i++;
		}
	}
}

/* ---- Guest side ------------------------------------------------------------------ */

int
m_guest_grant(int di, uint32_t ref, uint16_t type_flags, gntdp_domid_t grantee, uint32_t frame)
{
	struct m_entry *e = &M.dom[di].ent[ref];

	if (e->flags != 0)
		return -EBUSY;
	*e = (struct m_entry){type_flags, grantee, frame};
	return 0;
}

int
m_guest_end_access(int di, uint32_t ref)
{
	struct m_entry *e = &M.dom[di].ent[ref];

	if (e->flags & RW_BITS)
		return -EBUSY;
	e->flags = 0;
	return 0;
}

int
m_guest_set_readonly(int di, uint32_t ref)
{
	struct m_entry *e = &M.dom[di].ent[ref];

	if ((e->flags & GNTDP_GTF_TYPE_MASK) != GNTDP_GTF_PERMIT_ACCESS)
		return -EINVAL;
	if (e->flags & GNTDP_GTF_WRITING)
		return -EBUSY;
	e->flags |= GNTDP_GTF_READONLY;
	return 0;
}

void
m_guest_set_writable(int di, uint32_t ref)
{
	M.dom[di].ent[ref].flags &= (uint16_t)~GNTDP_GTF_READONLY;
}

int
m_guest_end_transfer(int di, uint32_t ref, uint32_t *frame)
{
	struct m_entry *e = &M.dom[di].ent[ref];

	if ((e->flags & GNTDP_GTF_TYPE_MASK) != GNTDP_GTF_ACCEPT_TRANSFER)
		return -EINVAL;
	if (!(e->flags & GNTDP_GTF_TRANSFER_COMMITTED)) {
		e->flags = 0;
		return -ENOENT;
	}
	*frame = e->frame;
	e->flags = 0;
	return 0;
}

void
m_guest_raw(int di, uint32_t ref, uint16_t flags, gntdp_domid_t grantee, uint32_t frame)
{
	struct m_entry *e = &M.dom[di].ent[ref];
	uint16_t nf = flags;

	if (m_pinned(di, ref))
		nf = (uint16_t)((flags & ~RW_BITS) | (e->flags & RW_BITS));
	*e = (struct m_entry){nf, grantee, frame};
}

bool
m_guest_write(int di, uint64_t gfn, uint32_t off, uint32_t len, const uint8_t *buf)
{
	const struct m_slot *s = SLOT_OF(&M.dom[di], gfn);

	/* A read-only grant mapping faults; an empty slot has nothing to write. */
	if (s == NULL || (s->kind != SLOT_PAGE && s->kind != SLOT_GRANT_RW))
		return false;
	memcpy(M.frame[s->fid].data + off, buf, len);
	return true;
}

/* ---- map_grant_ref ---------------------------------------------------------------- */

int16_t
m_map(int ci, const struct gntdp_gnttab_map_grant_ref *op, int16_t *fid, int *gi_out)
{
	struct m_dom *c = &M.dom[ci], *g;
	uint32_t flags = op->flags;
	bool ro = (flags & GNTDP_GNTMAP_READONLY) != 0;
	struct m_entry *e;
	struct m_act *a;
	struct m_slot *slot = NULL;
	bool first;
	int gi;
	int16_t st;

	if (!(flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP)))
		return GNTDP_GNTST_BAD_GNTREF; /* 1 */
	/* 2: gntdp allows device_map (docs/semantics.md); no PTEs to write */
	if (flags & (GNTDP_GNTMAP_APPLICATION_MAP | GNTDP_GNTMAP_CONTAINS_PTE))
		return GNTDP_GNTST_GENERAL_ERROR;
	gi = m_dom_by_id(op->dom); /* 3: DOMID_SELF is not translated */
	if (gi < 0)
		return GNTDP_GNTST_BAD_DOMAIN;
	if (m_nb_maps(ci) >= c->max_handles) /* 5 */
		return GNTDP_GNTST_NO_SPACE;
	g = &M.dom[gi];
	if (op->ref >= nr_entries(g)) /* 6 */
		return GNTDP_GNTST_BAD_GNTREF;
	e = &g->ent[op->ref];
	a = &g->act[op->ref];
	first = pin_total(a) == 0;
	if (!first && (a->domid != c->id || pin_saturated(a, flags, false))) /* 7 */
		return GNTDP_GNTST_GENERAL_ERROR;
	if (first || (!ro && !pin_writable(a))) { /* 8 */
		st = set_status(e, a, ro, true, c->id);
		if (st != GNTDP_GNTST_OKAY)
			return st;
		if (first) { /* 9 */
			int16_t f;

			st = lookup_page(g, e->frame, &f);
			if (st != GNTDP_GNTST_OKAY) {
				reduce_status(e, a, !ro); /* a preset GTF_writing stays */
				return st;
			}
			a->domid = c->id;
			a->fid = f;
		}
	}
	/* 10 */
	if (flags & GNTDP_GNTMAP_DEVICE_MAP)
		(*map_counter(a, GNTDP_GNTMAP_DEVICE_MAP, ro))++;
	if (flags & GNTDP_GNTMAP_HOST_MAP)
		(*map_counter(a, GNTDP_GNTMAP_HOST_MAP, ro))++;
	if (flags & GNTDP_GNTMAP_HOST_MAP) { /* 13, translated: an empty slot of the physmap */
		slot = SLOT_OF(c, op->host_addr >> GNTDP_PAGE_SHIFT);
		if ((flags & ~(uint32_t)(GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY |
					 GNTDP_GNTMAP_DEVICE_MAP)) != 0 ||
		    slot == NULL || slot->kind != SLOT_EMPTY) {
			if (flags & GNTDP_GNTMAP_DEVICE_MAP)
				(*map_counter(a, GNTDP_GNTMAP_DEVICE_MAP, ro))--;
			(*map_counter(a, GNTDP_GNTMAP_HOST_MAP, ro))--;
			reduce_status(e, a, !ro);
			return GNTDP_GNTST_GENERAL_ERROR;
		}
		*slot = (struct m_slot){ro ? SLOT_GRANT_RO : SLOT_GRANT_RW, a->fid};
	}
	*fid = a->fid;
	*gi_out = gi;
	return GNTDP_GNTST_OKAY;
}

void
m_map_add(int ci, int gi, const struct gntdp_gnttab_map_grant_ref *op, uint32_t handle,
	  int16_t fid)
{
	M.map[M.nb_map++] = (struct m_map){
		.caller = ci,
		.granter = gi,
		.ref = op->ref,
		.handle = handle,
		.flags = op->flags,
		.parts = op->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP),
		.fid = fid,
	};
}

/* ---- unmap_grant_ref --------------------------------------------------------------- */

struct m_unmap_plan
m_unmap_plan(int ci, const struct gntdp_gnttab_unmap_grant_ref *op)
{
	struct m_unmap_plan p = {.st = GNTDP_GNTST_OKAY};
	struct m_map *m = m_map_find(ci, op->handle);
	uint64_t frame_addr;

	if (m == NULL) { /* 1, 2 */
		p.st = GNTDP_GNTST_BAD_HANDLE;
		return p;
	}
	/* 3 (granter gone) cannot happen: a mapped granter stays as a zombie. */
	p.map = m;
	frame_addr = (uint64_t)(uintptr_t)M.frame[m->fid].ptr; /* heap provider: IOVA = VA */
	if (op->dev_bus_addr != 0 && (m->parts & GNTDP_GNTMAP_DEVICE_MAP) &&
	    op->dev_bus_addr != frame_addr) { /* 7, XSA-224: the whole 64 bits */
		p.st = GNTDP_GNTST_BAD_DEV_ADDR;
		return p;
	}
	if (op->host_addr != 0 && (m->parts & GNTDP_GNTMAP_HOST_MAP)) { /* 8 */
		const struct m_slot *s = SLOT_OF(&M.dom[ci], op->host_addr >> GNTDP_PAGE_SHIFT);

		/* Translated: the slot must hold a grant mapping (either kind) of the same frame. */
		if (s == NULL || (s->kind != SLOT_GRANT_RO && s->kind != SLOT_GRANT_RW) ||
		    s->fid != m->fid) {
			p.st = GNTDP_GNTST_GENERAL_ERROR;
			return p;
		}
		p.gone |= GNTDP_GNTMAP_HOST_MAP;
		p.gfn = op->host_addr >> GNTDP_PAGE_SHIFT;
	}
	if (op->dev_bus_addr != 0 && (m->parts & GNTDP_GNTMAP_DEVICE_MAP))
		p.gone |= GNTDP_GNTMAP_DEVICE_MAP;
	return p;
}

void
m_unmap_apply(const struct m_unmap_plan *p)
{
	struct m_map *m = p->map;

	if (m == NULL || p->gone == 0)
		return;
	if (p->gone & GNTDP_GNTMAP_HOST_MAP)
		M.dom[m->caller].p2m[p->gfn] = (struct m_slot){SLOT_EMPTY, -1};
	map_release(m, p->gone);
	m->parts &= ~p->gone;
	if (m->parts == 0)
		map_drop(m);
}

/* ---- copy ---------------------------------------------------------------------------- */

/* acquire_grant_for_copy() for v1: the pin is taken on the model's active entry. */
static int16_t
acquire_copy(int gi, uint32_t ref, gntdp_domid_t ldom, bool write, int16_t *fid)
{
	struct m_dom *g = &M.dom[gi];
	struct m_entry *e;
	struct m_act *a;
	bool pinned;
	int16_t st, f = -1;

	if (ref >= nr_entries(g)) /* 2a */
		return GNTDP_GNTST_BAD_GNTREF;
	e = &g->ent[ref];
	a = &g->act[ref];
	pinned = pin_total(a) != 0;
	if (pinned && (a->domid != ldom || pin_saturated(a, 0, write))) /* 2b */
		return GNTDP_GNTST_GENERAL_ERROR;
	if (!pinned || (write && !pin_writable(a))) {
		st = set_status(e, a, !write, false, ldom); /* 2c */
		if (st != GNTDP_GNTST_OKAY)
			return st;
		st = lookup_page(g, e->frame, &f); /* 2d (sub-page bit ignored in v1) */
		if (st == GNTDP_GNTST_OKAY && pinned && f != a->fid)
			st = GNTDP_GNTST_GENERAL_ERROR; /* 2f, XSA-500: the frame must not move */
		if (st != GNTDP_GNTST_OKAY) {
			reduce_status(e, a, write);
			return st;
		}
		if (!pinned) {
			a->domid = ldom;
			a->fid = f;
		}
	}
	/* 2e: a pinned page stays the granter's (transfer refuses pinned pages). */
	if (write)
		a->hstw++;
	else
		a->hstr++;
	*fid = a->fid;
	return GNTDP_GNTST_OKAY;
}

static void
release_copy(int gi, uint32_t ref, bool write)
{
	struct m_dom *g = &M.dom[gi];
	struct m_act *a = &g->act[ref];

	if (write)
		a->hstw--;
	else
		a->hstr--;
	reduce_status(&g->ent[ref], a, write);
}

/* One side of a copy: domain step done, acquire the buffer (steps 2 and 3). */
static int16_t
copy_side(int ci, int di, bool gref, const struct gntdp_gnttab_copy_ptr *p, bool write,
	  int16_t *fid)
{
	if (gref)
		return acquire_copy(di, p->u.ref, M.dom[ci].id, write, fid);
	/* 2h: frame mode, the caller's own gfn; the whole 64-bit value counts */
	return lookup_page(&M.dom[ci], p->u.gmfn, fid);
}

struct m_copy_res
m_copy(int ci, const struct gntdp_gnttab_copy *op)
{
	struct m_copy_res r = {.st = GNTDP_GNTST_OKAY, .src_gi = -1, .dst_gi = -1};
	bool sgref = (op->flags & GNTDP_GNTCOPY_SOURCE_GREF) != 0;
	bool dgref = (op->flags & GNTDP_GNTCOPY_DEST_GREF) != 0;
	int sd, dd;
	int16_t sf = -1, df = -1;

	if (op->len == 0) /* 0 */
		return r;
	if (!sgref && op->source.domid != GNTDP_DOMID_SELF) { /* 1a */
		r.st = GNTDP_GNTST_PERMISSION_DENIED;
		return r;
	}
	sd = op->source.domid == GNTDP_DOMID_SELF ? ci : m_dom_by_id(op->source.domid);
	if (sd < 0) { /* 1b */
		r.st = GNTDP_GNTST_BAD_DOMAIN;
		return r;
	}
	if (!dgref && op->dest.domid != GNTDP_DOMID_SELF) { /* 1c */
		r.st = GNTDP_GNTST_PERMISSION_DENIED;
		return r;
	}
	dd = op->dest.domid == GNTDP_DOMID_SELF ? ci : m_dom_by_id(op->dest.domid);
	if (dd < 0) { /* 1d */
		r.st = GNTDP_GNTST_BAD_DOMAIN;
		return r;
	}
	r.st = copy_side(ci, sd, sgref, &op->source, false, &sf); /* 2 */
	if (r.st != GNTDP_GNTST_OKAY)
		return r;
	if (sgref)
		r.src_gi = sd;
	r.st = copy_side(ci, dd, dgref, &op->dest, true, &df); /* 3 */
	if (r.st == GNTDP_GNTST_OKAY && dgref)
		r.dst_gi = dd;
	if (r.st == GNTDP_GNTST_OKAY &&
	    ((uint32_t)op->source.offset + op->len > GNTDP_PAGE_SIZE ||
	     (uint32_t)op->dest.offset + op->len > GNTDP_PAGE_SIZE))
		r.st = GNTDP_GNTST_BAD_COPY_ARG; /* 4; 5 and 6 need v2 windows */
	if (r.st == GNTDP_GNTST_OKAY) /* 7 */
		memmove(M.frame[df].data + op->dest.offset, M.frame[sf].data + op->source.offset,
			op->len);
	if (r.dst_gi >= 0)
		release_copy(dd, op->dest.u.ref, true);
	if (r.src_gi >= 0)
		release_copy(sd, op->source.u.ref, false);
	return r;
}

/* ---- transfer ---------------------------------------------------------------------------- */

static bool
frame_pinned(int16_t fid)
{
	for (unsigned int i = 0; i < M.nb_dom; i++) {
		const struct m_dom *d = &M.dom[i];

		for (uint32_t r = 0; r < nr_entries(d); r++)
			if (pin_total(&d->act[r]) != 0 && d->act[r].fid == fid)
				return true;
	}
	return false;
}

int16_t
m_transfer(int ci, const struct gntdp_gnttab_transfer *op)
{
	struct m_dom *c = &M.dom[ci], *r;
	struct m_slot *s = SLOT_OF(c, op->mfn);
	struct m_entry *e;
	int16_t fid;
	int ri;

	if (s == NULL || s->kind != SLOT_PAGE) /* 1: mfn is a gfn of the caller in gntdp */
		return GNTDP_GNTST_BAD_PAGE;
	fid = s->fid;
	if (frame_pinned(fid)) /* 2: an extra reference: the page stays */
		return GNTDP_GNTST_BAD_PAGE;
	*s = (struct m_slot){SLOT_EMPTY, -1}; /* 3: from here a failure loses the page */
	c->owned--;
	ri = op->domid == GNTDP_DOMID_SELF ? -1 : m_dom_by_id(op->domid);
	if (ri < 0) /* 4 */
		return GNTDP_GNTST_BAD_DOMAIN;
	r = &M.dom[ri];
	if (op->ref >= nr_entries(r)) /* 8 */
		return GNTDP_GNTST_GENERAL_ERROR;
	e = &r->ent[op->ref];
	if (e->flags != GNTDP_GTF_ACCEPT_TRANSFER || e->domid != c->id)
		return GNTDP_GNTST_GENERAL_ERROR;
	s = SLOT_OF(r, e->frame); /* gntdp: the slot must be empty, checked before commit */
	if (s == NULL || s->kind != SLOT_EMPTY)
		return GNTDP_GNTST_GENERAL_ERROR;
	*s = (struct m_slot){SLOT_PAGE, fid};
	r->owned++;
	e->flags |= GNTDP_GTF_TRANSFER_COMMITTED | GNTDP_GTF_TRANSFER_COMPLETED;
	return GNTDP_GNTST_OKAY;
}

/* ---- table ops ------------------------------------------------------------------------------ */

/* The domain step of setup_table / query_size / dump_table: lookup, then the XSM target rule. */
static int16_t
target_dom(int ci, gntdp_domid_t dom, int *di)
{
	*di = dom == GNTDP_DOMID_SELF ? ci : m_dom_by_id(dom);
	if (*di < 0)
		return GNTDP_GNTST_BAD_DOMAIN;
	if (*di != ci && !M.dom[ci].priv)
		return GNTDP_GNTST_PERMISSION_DENIED;
	return GNTDP_GNTST_OKAY;
}

int16_t
m_setup_table(int ci, const struct gntdp_gnttab_setup_table *op)
{
	int di;
	int16_t st = target_dom(ci, op->dom, &di);

	if (st != GNTDP_GNTST_OKAY)
		return st;
	if (op->nr_frames > M.dom[di].max_gf)
		return GNTDP_GNTST_GENERAL_ERROR;
	if (op->nr_frames > M.dom[di].nr_gf)
		M.dom[di].nr_gf = op->nr_frames; /* grows, never shrinks */
	return GNTDP_GNTST_OKAY;
}

int16_t
m_query_size(int ci, gntdp_domid_t dom, uint32_t *nr, uint32_t *max)
{
	int di;
	int16_t st = target_dom(ci, dom, &di);

	if (st == GNTDP_GNTST_OKAY) {
		*nr = M.dom[di].nr_gf;
		*max = M.dom[di].max_gf;
	}
	return st;
}

int16_t
m_dump_table(int ci, gntdp_domid_t dom)
{
	int di;

	return target_dom(ci, dom, &di);
}

/* ---- errno-result commands and swap ----------------------------------------------------- */

int
m_get_version(int ci, gntdp_domid_t dom, uint32_t *version)
{
	int di;

	switch (target_dom(ci, dom, &di)) {
	case GNTDP_GNTST_OKAY:
		*version = M.dom[di].version;
		return 0;
	case GNTDP_GNTST_PERMISSION_DENIED:
		return -EPERM; /* the XSM hook's errno */
	default:
		return -ESRCH; /* rcu_lock_domain_by_any_id() failed */
	}
}

/* Pins outside the reserved refs 0-7 make a version change -EBUSY. */
static bool
pinned_beyond_reserved(const struct m_dom *d)
{
	for (uint32_t r = GNTDP_GNTTAB_NR_RESERVED_ENTRIES; r < nr_entries(d); r++)
		if (pin_total(&d->act[r]) != 0)
			return true;
	return false;
}

bool
m_set_version_to_v2(int ci, uint32_t want)
{
	const struct m_dom *d = &M.dom[ci];

	return want == 2 && d->max_version == 2 && d->version != 2 && !pinned_beyond_reserved(d);
}

int
m_set_version(int ci, uint32_t want, uint32_t *version)
{
	const struct m_dom *d = &M.dom[ci];
	int rc = 0;

	if (want != 1 && want != 2)
		rc = -EINVAL;
	else if (want == 2 && d->max_version == 1)
		rc = -ENOSYS; /* as if set_version did not exist */
	else if (want != d->version && pinned_beyond_reserved(d))
		rc = -EBUSY;
	/* want == version: nothing changes (the table is not cleared). */
	*version = d->version;
	return rc;
}

int16_t
m_swap_grant_ref(int ci, uint32_t ref_a, uint32_t ref_b)
{
	struct m_dom *d = &M.dom[ci];
	struct m_entry t;

	if (ref_a >= nr_entries(d) || ref_b >= nr_entries(d)) /* XSA-18 */
		return GNTDP_GNTST_BAD_GNTREF;
	if (ref_a == ref_b)
		return GNTDP_GNTST_OKAY;
	if (pin_total(&d->act[ref_a]) != 0 || pin_total(&d->act[ref_b]) != 0)
		return GNTDP_GNTST_EAGAIN; /* the pins count, never the flags */
	t = d->ent[ref_a];
	d->ent[ref_a] = d->ent[ref_b];
	d->ent[ref_b] = t;
	return GNTDP_GNTST_OKAY;
}

/* The live domain owning the page at machine address addr (a SLOT_PAGE of its physmap). */
static int
page_owner(uint64_t addr, int16_t *fid)
{
	for (unsigned int i = 0; i < M.nb_dom; i++) {
		const struct m_dom *d = &M.dom[i];

		for (uint32_t g = 0; d->alive && g < d->p2m_size; g++) {
			const struct m_slot *s = &d->p2m[g];

			if (s->kind == SLOT_PAGE &&
			    (uint64_t)(uintptr_t)M.frame[s->fid].ptr >> GNTDP_PAGE_SHIFT ==
				    addr >> GNTDP_PAGE_SHIFT) {
				*fid = s->fid;
				return (int)i;
			}
		}
	}
	return -1;
}

int
m_cache_flush(int ci, const struct gntdp_gnttab_cache_flush *op, uint32_t *cur_ref)
{
	const uint32_t ops = GNTDP_GNTTAB_CACHE_INVAL | GNTDP_GNTTAB_CACHE_CLEAN;
	const struct m_dom *c = &M.dom[ci], *o;
	int16_t fid = -1;
	int oi;
	bool found = false;

	if (op->offset >= GNTDP_PAGE_SIZE || op->length > GNTDP_PAGE_SIZE ||
	    (uint32_t)op->offset + op->length > GNTDP_PAGE_SIZE || (op->op & ~ops) != 0)
		return -EINVAL; /* GNTTAB_CACHE_SOURCE_GREF too: it is outside ops */
	if (op->length == 0 || op->op == 0)
		return *cur_ref == 0 ? 0 : -EILSEQ;
	oi = page_owner(op->a.dev_bus_addr, &fid);
	if (oi < 0)
		return -EINVAL; /* !mfn_valid() */
	o = &M.dom[oi];
	if (oi != ci) {
		/* grant_map_exists(): a pin of the caller on this frame, from *cur_ref on */
		for (uint32_t r = *cur_ref; r < nr_entries(o) && !found; r++)
			found = pin_total(&o->act[r]) != 0 && o->act[r].domid == c->id &&
				o->act[r].fid == fid;
		if (!found)
			return -EINVAL;
	}
	if ((op->op & GNTDP_GNTTAB_CACHE_INVAL) && !(op->op & GNTDP_GNTTAB_CACHE_CLEAN))
		return -EOPNOTSUPP; /* x86: invalidate_dcache_va_range() */
	return 0;
}
