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
	[2] = {GNTDP_GRANT_ENTRIES_PER_FRAME_V2},
};

#define RW_BITS (GNTDP_GTF_READING | GNTDP_GTF_WRITING)
#define COUNTER_TOP 128u /* Xen fails a pin whose counter already has its top bit set */
#define SLOT_OF(g, gfn) ((gfn) < (g)->p2m_size ? &(g)->p2m[(gfn)] : NULL)
#define STATUS_PER_FRAME (GNTDP_PAGE_SIZE / sizeof(uint16_t))

/* The flags Xen reads for the entry's type: v1's flags or v2's header. */
static uint16_t *
hdr_flags(struct m_dom *d, uint32_t ref)
{
	return d->version == 1 ? &d->ent[ref].flags : &d->ent[ref].e2.hdr.flags;
}

static gntdp_domid_t
hdr_domid(const struct m_dom *d, uint32_t ref)
{
	return d->version == 1 ? d->ent[ref].domid : d->ent[ref].e2.hdr.domid;
}

/* Where GTF_reading/writing live: v1's flags, v2's status word. */
static uint16_t *
rw_word(struct m_dom *d, uint32_t ref)
{
	return d->version == 1 ? &d->ent[ref].flags : &d->ent[ref].status;
}

/* The granted gfn: v1's 32-bit frame, v2's 64-bit full_page/sub_page frame. */
static uint64_t
entry_gfn(const struct m_dom *d, uint32_t ref)
{
	return d->version == 1 ? d->ent[ref].frame : d->ent[ref].e2.full_page.frame;
}

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
	for (uint32_t r = 0; r < M_MAX_ENTRIES; r++)
		d->act[r].tdi = -1;
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
m_nr_status_frames(int di)
{
	const struct m_dom *d = &M.dom[di];

	return d->version == 1 ? 0
			       : (d->nr_gf * GNTDP_GRANT_ENTRIES_PER_FRAME_V2 + STATUS_PER_FRAME - 1) /
					 STATUS_PER_FRAME;
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
 * _set_status_v1() / _set_status_v2(): validate the entry (type and
 * grantee only when not yet pinned; GTF_readonly for a writable use) and
 * set GTF_reading/writing (v2: in the status word). Type: permit_access
 * (map: without GTF_sub_page); a v2 copy also accepts transitive.
 */
static int16_t
set_status(struct m_dom *g, uint32_t ref, bool readonly, bool mapflag, gntdp_domid_t ldom)
{
	uint16_t mask = (uint16_t)(GNTDP_GTF_TYPE_MASK | (mapflag ? GNTDP_GTF_SUB_PAGE : 0));
	uint16_t fl = *hdr_flags(g, ref);
	bool type_ok = (fl & mask) == GNTDP_GTF_PERMIT_ACCESS ||
		       (g->version == 2 && !mapflag && (fl & mask) == GNTDP_GTF_TRANSITIVE);

	if (pin_total(&g->act[ref]) == 0 && (!type_ok || hdr_domid(g, ref) != ldom))
		return GNTDP_GNTST_GENERAL_ERROR;
	if (!readonly && (fl & GNTDP_GTF_READONLY))
		return GNTDP_GNTST_GENERAL_ERROR;
	*rw_word(g, ref) |= (uint16_t)(GNTDP_GTF_READING | (readonly ? 0 : GNTDP_GTF_WRITING));
	return GNTDP_GNTST_OKAY;
}

/* "Reduce status for pin" (§5.2), after the pin change; the unlock_out_clear path too. */
static void
reduce_status(struct m_dom *g, uint32_t ref, bool was_write)
{
	const struct m_act *a = &g->act[ref];

	if (was_write && !pin_writable(a))
		*rw_word(g, ref) &= (uint16_t)~GNTDP_GTF_WRITING;
	if (pin_total(a) == 0)
		*rw_word(g, ref) &= (uint16_t)~GNTDP_GTF_READING;
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
	reduce_status(g, m->ref, !ro);
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

int
m_guest_grant_v2(int di, uint32_t ref, uint16_t flags, gntdp_domid_t grantee,
		 const union gntdp_grant_entry_v2 *body)
{
	struct m_entry *e = &M.dom[di].ent[ref];

	if (e->e2.hdr.flags != 0)
		return -EBUSY;
	e->e2 = *body;
	e->e2.hdr.flags = flags;
	e->e2.hdr.domid = grantee;
	return 0;
}

int
m_guest_end_access_v2(int di, uint32_t ref)
{
	struct m_entry *e = &M.dom[di].ent[ref];

	e->e2.hdr.flags = 0;
	return (e->status & RW_BITS) ? -EBUSY : 0;
}

void
m_guest_raw_v2(int di, uint32_t ref, const union gntdp_grant_entry_v2 *v)
{
	M.dom[di].ent[ref].e2 = *v;
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
	a = &g->act[op->ref];
	first = pin_total(a) == 0;
	/* 7: a sub-page or transitive copy pin is never mappable */
	if (!first && (a->domid != c->id || pin_saturated(a, flags, false) || a->sub))
		return GNTDP_GNTST_GENERAL_ERROR;
	if (first || (!ro && !pin_writable(a))) { /* 8 */
		st = set_status(g, op->ref, ro, true, c->id);
		if (st != GNTDP_GNTST_OKAY)
			return st;
		if (first) { /* 9: v2 reads full_page.frame, all 64 bits */
			int16_t f;

			st = lookup_page(g, entry_gfn(g, op->ref), &f);
			if (st != GNTDP_GNTST_OKAY) {
				reduce_status(g, op->ref, !ro); /* a preset GTF_writing stays */
				return st;
			}
			a->domid = c->id;
			a->fid = f;
			a->start = 0;
			a->length = GNTDP_PAGE_SIZE;
			a->sub = false;
			a->tdi = -1;
			a->tref = op->ref;
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
			reduce_status(g, op->ref, !ro);
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
m_unmap_plan(int ci, uint32_t handle, uint64_t host_addr, uint64_t dev_bus_addr, uint64_t new_addr)
{
	struct m_unmap_plan p = {.st = GNTDP_GNTST_OKAY};
	struct m_map *m = m_map_find(ci, handle);
	uint64_t frame_addr;

	if (m == NULL) { /* 1, 2 */
		p.st = GNTDP_GNTST_BAD_HANDLE;
		return p;
	}
	/* 3 (granter gone) cannot happen: a mapped granter stays as a zombie. */
	p.map = m;
	frame_addr = (uint64_t)(uintptr_t)M.frame[m->fid].ptr; /* heap provider: IOVA = VA */
	if (dev_bus_addr != 0 && (m->parts & GNTDP_GNTMAP_DEVICE_MAP) &&
	    dev_bus_addr != frame_addr) { /* 7, XSA-224: the whole 64 bits */
		p.st = GNTDP_GNTST_BAD_DEV_ADDR;
		return p;
	}
	if (host_addr != 0 && (m->parts & GNTDP_GNTMAP_HOST_MAP)) { /* 8 */
		const struct m_slot *s = SLOT_OF(&M.dom[ci], host_addr >> GNTDP_PAGE_SHIFT);

		/*
		 * Translated (replace_grant_p2m_mapping): new_addr must be 0, and
		 * the slot must hold a grant mapping (either kind) of the same frame.
		 */
		if (new_addr != 0 || s == NULL ||
		    (s->kind != SLOT_GRANT_RO && s->kind != SLOT_GRANT_RW) || s->fid != m->fid) {
			p.st = GNTDP_GNTST_GENERAL_ERROR;
			return p;
		}
		p.gone |= GNTDP_GNTMAP_HOST_MAP;
		p.gfn = host_addr >> GNTDP_PAGE_SHIFT;
	}
	if (dev_bus_addr != 0 && (m->parts & GNTDP_GNTMAP_DEVICE_MAP))
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

/* ---- copy ---------------------------------------------------------------------------- */

static void release_copy(int gi, uint32_t ref, bool write);

/* What an acquired copy side may touch: the frame and its window. */
struct m_win {
	int16_t fid;
	uint16_t off, len;
};

static void
pin_inc(struct m_act *a, bool write)
{
	if (write)
		a->hstw++;
	else
		a->hstr++;
}

/*
 * acquire_grant_for_copy(): one pin of the kind (hstw / hstr) on ref of
 * gi for ldom, with v2 sub-page windows and transitive grants (followed one
 * level: allow_trans is false for the entry a transitive grant names).
 */
static int16_t
acquire_copy(int gi, uint32_t ref, gntdp_domid_t ldom, bool write, bool allow_trans,
	     struct m_win *w)
{
	struct m_dom *g = &M.dom[gi];
	struct m_act *a;
	bool pinned, need;
	int16_t st, f = -1;

	if (ref >= nr_entries(g)) /* 2a */
		return GNTDP_GNTST_BAD_GNTREF;
	a = &g->act[ref];
	pinned = pin_total(a) != 0;
	if (pinned && (a->domid != ldom || pin_saturated(a, 0, write))) /* 2b */
		return GNTDP_GNTST_GENERAL_ERROR;
	need = !pinned || (write && !pin_writable(a));
	if (g->version == 2 &&
	    (*hdr_flags(g, ref) & GNTDP_GTF_TYPE_MASK) == GNTDP_GTF_TRANSITIVE) {
		const union gntdp_grant_entry_v2 *e = &g->ent[ref].e2;
		gntdp_domid_t tdom = e->transitive.trans_domid;
		uint32_t tref = e->transitive.gref;
		struct m_win tw;
		int ti;

		if (need && (st = set_status(g, ref, !write, false, ldom)) != GNTDP_GNTST_OKAY)
			return st;
		/* XSA-226: one level only; never self-referential; the domain must exist */
		ti = tdom == g->id ? -1 : m_dom_by_id(tdom);
		if (!allow_trans || ti < 0) {
			reduce_status(g, ref, write);
			return GNTDP_GNTST_GENERAL_ERROR;
		}
		st = acquire_copy(ti, tref, g->id, write, false, &tw);
		if (st != GNTDP_GNTST_OKAY) {
			reduce_status(g, ref, write);
			return st;
		}
		if (pinned && (a->tdi != ti || a->tref != tref || a->fid != tw.fid ||
			       a->start != tw.off || a->length != tw.len || !a->sub)) {
			/*
			 * The entry now names something else than the pin holds: Xen
			 * restarts the op (forever, as nothing changes); gntdp gives up
			 * with general_error (docs/semantics.md).
			 */
			release_copy(ti, tref, write);
			reduce_status(g, ref, write);
			return GNTDP_GNTST_GENERAL_ERROR;
		}
		if (!pinned) {
			a->domid = ldom;
			a->fid = tw.fid;
			a->start = tw.off;
			a->length = tw.len;
			a->sub = true; /* blocks mappings of transitive grants */
			a->tdi = ti;
			a->tref = tref;
		}
		pin_inc(a, write);
		*w = tw;
		return GNTDP_GNTST_OKAY;
	}
	if (need) {
		bool sub = g->version == 2 && (*hdr_flags(g, ref) & GNTDP_GTF_SUB_PAGE);
		uint16_t off = sub ? g->ent[ref].e2.sub_page.page_off : 0;
		uint16_t len = sub ? g->ent[ref].e2.sub_page.length : GNTDP_PAGE_SIZE;

		st = set_status(g, ref, !write, false, ldom); /* 2c */
		if (st != GNTDP_GNTST_OKAY)
			return st;
		st = lookup_page(g, entry_gfn(g, ref), &f); /* 2d (v1 ignores the sub-page bit) */
		/* 2f, XSA-500: a first writer after read-only pins must find the same frame, window */
		if (st == GNTDP_GNTST_OKAY && pinned &&
		    (f != a->fid || a->tdi >= 0 ||
		     (a->sub && (!sub || a->start != off || a->length != len))))
			st = GNTDP_GNTST_GENERAL_ERROR;
		if (st != GNTDP_GNTST_OKAY) {
			reduce_status(g, ref, write);
			return st;
		}
		if (!pinned) {
			a->domid = ldom;
			a->fid = f;
			a->start = off & 0x7fffu; /* Xen's start is a 15-bit field */
			a->length = len;
			a->sub = sub;
			a->tdi = -1;
			a->tref = ref;
		}
	} else if (a->tdi >= 0) {
		/* 2e: pinned through a transitive grant, now something else: not rd's page */
		reduce_status(g, ref, write);
		return GNTDP_GNTST_BAD_DOMAIN;
	}
	pin_inc(a, write);
	*w = (struct m_win){a->fid, a->start, a->length};
	return GNTDP_GNTST_OKAY;
}

/* release_grant_for_copy(): a transitive pin releases the entry it holds too. */
static void
release_copy(int gi, uint32_t ref, bool write)
{
	struct m_dom *g = &M.dom[gi];
	struct m_act *a = &g->act[ref];
	int ti = a->tdi;
	uint32_t tref = a->tref;

	if (write)
		a->hstw--;
	else
		a->hstr--;
	reduce_status(g, ref, write);
	if (pin_total(a) == 0) {
		a->sub = false;
		a->tdi = -1;
	}
	if (ti >= 0)
		release_copy(ti, tref, write);
}

/* One of Xen's two copy buffers (struct gnttab_copy_buf). */
struct m_buf {
	bool locked;	     /* the domain step ran: domid and di hold */
	gntdp_domid_t domid; /* as the op named it */
	int di;
	bool valid; /* claimed (Xen: virt != NULL) */
	bool grant; /* have_grant: key is a ref of di; otherwise a gmfn of the caller */
	uint64_t key;
	struct m_win w;
};

static struct m_buf bsrc, bdst;

static void
buf_release(struct m_buf *b, bool write)
{
	if (b->valid && b->grant)
		release_copy(b->di, (uint32_t)b->key, write);
	b->valid = false;
	b->grant = false;
}

void
m_copy_begin(void)
{
	memset(&bsrc, 0, sizeof(bsrc));
	memset(&bdst, 0, sizeof(bdst));
}

void
m_copy_end(void)
{
	buf_release(&bsrc, false);
	buf_release(&bdst, true);
	bsrc.locked = bdst.locked = false;
}

/* gnttab_copy_lock_domain(): only DOMID_SELF may name a frame. */
static int16_t
lock_domain(int ci, gntdp_domid_t domid, bool gref, struct m_buf *b)
{
	if (!gref && domid != GNTDP_DOMID_SELF)
		return GNTDP_GNTST_PERMISSION_DENIED;
	b->di = domid == GNTDP_DOMID_SELF ? ci : m_dom_by_id(domid);
	if (b->di < 0)
		return GNTDP_GNTST_BAD_DOMAIN;
	b->domid = domid;
	b->locked = true;
	return GNTDP_GNTST_OKAY;
}

/* gnttab_copy_claim_buf(); the buffer is released already. */
static int16_t
claim(int ci, bool gref, const struct gntdp_gnttab_copy_ptr *p, bool write, struct m_buf *b)
{
	int16_t st;

	if (gref) {
		st = acquire_copy(b->di, p->u.ref, M.dom[ci].id, write, true, &b->w);
		b->key = p->u.ref;
	} else {
		/* 2h: frame mode, the caller's own gfn; the whole 64-bit value counts */
		st = lookup_page(&M.dom[b->di], p->u.gmfn, &b->w.fid);
		b->w.off = 0;
		b->w.len = GNTDP_PAGE_SIZE;
		b->key = p->u.gmfn;
	}
	b->valid = st == GNTDP_GNTST_OKAY;
	b->grant = b->valid && gref;
	return st;
}

/* gnttab_copy_buf_valid(); gntdp never lets a gmfn hit a gref buffer (docs/semantics.md). */
static bool
buf_hit(const struct m_buf *b, bool gref, const struct gntdp_gnttab_copy_ptr *p)
{
	return b->valid && b->grant == gref && b->key == (gref ? p->u.ref : p->u.gmfn);
}

static int16_t
copy_one(int ci, const struct gntdp_gnttab_copy *op)
{
	bool sgref = (op->flags & GNTDP_GNTCOPY_SOURCE_GREF) != 0;
	bool dgref = (op->flags & GNTDP_GNTCOPY_DEST_GREF) != 0;
	int16_t st;

	if (op->len == 0) /* 0 */
		return GNTDP_GNTST_OKAY;
	if (!bsrc.locked || op->source.domid != bsrc.domid || !bdst.locked ||
	    op->dest.domid != bdst.domid) { /* a new domid pair: both buffers go */
		buf_release(&bsrc, false);
		buf_release(&bdst, true);
	}
	/*
	 * 1a-1d. Xen skips them while the domid pair stays the same; gntdp runs
	 * the DOMID_SELF/frame-mode rule and the lookups on every op
	 * (docs/semantics.md), so a frame-mode op naming another domain fails
	 * even right after a gref op of that domain.
	 */
	st = lock_domain(ci, op->source.domid, sgref, &bsrc);
	if (st == GNTDP_GNTST_OKAY)
		st = lock_domain(ci, op->dest.domid, dgref, &bdst);
	if (st != GNTDP_GNTST_OKAY) {
		bsrc.locked = bdst.locked = false;
		return st;
	}
	if (!buf_hit(&bsrc, sgref, &op->source)) { /* 2 */
		buf_release(&bsrc, false);
		st = claim(ci, sgref, &op->source, false, &bsrc);
		if (st != GNTDP_GNTST_OKAY)
			return st;
	}
	if (!buf_hit(&bdst, dgref, &op->dest)) { /* 3 */
		buf_release(&bdst, true);
		st = claim(ci, dgref, &op->dest, true, &bdst);
		if (st != GNTDP_GNTST_OKAY)
			return st;
	}
	if ((uint32_t)op->source.offset + op->len > GNTDP_PAGE_SIZE ||
	    (uint32_t)op->dest.offset + op->len > GNTDP_PAGE_SIZE)
		return GNTDP_GNTST_BAD_COPY_ARG; /* 4 */
	if (op->source.offset < bsrc.w.off ||
	    (uint32_t)op->source.offset + op->len > (uint32_t)bsrc.w.off + bsrc.w.len)
		return GNTDP_GNTST_GENERAL_ERROR; /* 5: outside the source window */
	if (op->dest.offset < bdst.w.off ||
	    (uint32_t)op->dest.offset + op->len > (uint32_t)bdst.w.off + bdst.w.len)
		return GNTDP_GNTST_GENERAL_ERROR; /* 6: outside the dest window */
	memmove(M.frame[bdst.w.fid].data + op->dest.offset,
		M.frame[bsrc.w.fid].data + op->source.offset, op->len); /* 7 */
	return GNTDP_GNTST_OKAY;
}

struct m_copy_res
m_copy(int ci, const struct gntdp_gnttab_copy *op)
{
	struct m_copy_res r = {.src_gi = -1, .dst_gi = -1};

	r.st = copy_one(ci, op);
	if (bsrc.valid && bsrc.grant)
		r.src_gi = bsrc.di;
	if (bdst.valid && bdst.grant)
		r.dst_gi = bdst.di;
	if (r.st != GNTDP_GNTST_OKAY) { /* a failing op releases both buffers */
		buf_release(&bsrc, false);
		buf_release(&bdst, true);
	}
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
	/* v2: the header's flags; the slot is full_page.frame (gntdp writes the same gfn back) */
	if (*hdr_flags(r, op->ref) != GNTDP_GTF_ACCEPT_TRANSFER || hdr_domid(r, op->ref) != c->id)
		return GNTDP_GNTST_GENERAL_ERROR;
	s = SLOT_OF(r, entry_gfn(r, op->ref)); /* gntdp: the slot must be empty, before commit */
	if (s == NULL || s->kind != SLOT_EMPTY)
		return GNTDP_GNTST_GENERAL_ERROR;
	*s = (struct m_slot){SLOT_PAGE, fid};
	r->owned++;
	*hdr_flags(r, op->ref) |= GNTDP_GTF_TRANSFER_COMMITTED | GNTDP_GTF_TRANSFER_COMPLETED;
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
m_setup_table(int ci, const struct gntdp_gnttab_setup_table *op, bool null_list)
{
	int di;
	int16_t st = target_dom(ci, op->dom, &di);

	if (st != GNTDP_GNTST_OKAY)
		return st;
	if (op->nr_frames > M.dom[di].max_gf)
		return GNTDP_GNTST_GENERAL_ERROR;
	if (op->nr_frames > M.dom[di].nr_gf)
		M.dom[di].nr_gf = op->nr_frames; /* grows (v2: status frames too), never shrinks */
	if (null_list && op->nr_frames != 0)
		return GNTDP_GNTST_BAD_VIRT_ADDR; /* the first write of the list faults */
	return GNTDP_GNTST_OKAY;
}

int16_t
m_get_status_frames(int ci, gntdp_domid_t dom, uint32_t nr, bool null_list)
{
	int di;
	int16_t st = target_dom(ci, dom, &di);

	if (st != GNTDP_GNTST_OKAY)
		return st;
	if (nr > m_nr_status_frames(di)) /* XSA-382: counted in status frames; v1 has none */
		return GNTDP_GNTST_GENERAL_ERROR;
	if (null_list && nr != 0)
		return GNTDP_GNTST_BAD_VIRT_ADDR;
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

/* Sub-page and transitive pins (Xen's nr_v2_ops): a switch back to v1 must wait for them. */
static bool
v2_ops(const struct m_dom *d)
{
	for (uint32_t r = 0; r < nr_entries(d); r++)
		if (pin_total(&d->act[r]) != 0 && d->act[r].sub)
			return true;
	return false;
}

/* v2 -> v1: a reserved entry v1 cannot express (a frame above 32 bits, a transitive grant). */
static bool
reserved_unrepresentable(const struct m_dom *d)
{
	for (uint32_t r = 0; r < GNTDP_GNTTAB_NR_RESERVED_ENTRIES; r++) {
		const union gntdp_grant_entry_v2 *e = &d->ent[r].e2;

		switch (e->hdr.flags & GNTDP_GTF_TYPE_MASK) {
		case GNTDP_GTF_PERMIT_ACCESS:
			if (e->full_page.frame >> 32)
				return true;
			break;
		case GNTDP_GTF_TRANSITIVE:
			return true;
		default:
			break;
		}
	}
	return false;
}

/* The switch itself: keep refs 0-7 (in the new format), clear everything else. */
static void
switch_version(struct m_dom *d, uint32_t want)
{
	struct m_entry keep[GNTDP_GNTTAB_NR_RESERVED_ENTRIES];

	memset(keep, 0, sizeof(keep));
	for (uint32_t r = 0; r < GNTDP_GNTTAB_NR_RESERVED_ENTRIES; r++) {
		const struct m_entry *e = &d->ent[r];

		if (want == 2) { /* v1 -> v2: reading/writing move to the status word */
			keep[r].status = (uint16_t)(e->flags & RW_BITS);
			keep[r].e2.hdr.flags = (uint16_t)(e->flags & ~RW_BITS);
			keep[r].e2.hdr.domid = e->domid;
			keep[r].e2.full_page.frame = e->frame;
		} else if ((e->e2.hdr.flags & GNTDP_GTF_TYPE_MASK) == GNTDP_GTF_PERMIT_ACCESS) {
			/* v2 -> v1: the status merges back (a sub-page bit stays, as in Xen) */
			keep[r].flags = (uint16_t)(e->e2.hdr.flags | e->status);
			keep[r].domid = e->e2.hdr.domid;
			keep[r].frame = (uint32_t)e->e2.full_page.frame;
		} /* any other type: dropped */
	}
	memset(d->ent, 0, sizeof(d->ent));
	memcpy(d->ent, keep, sizeof(keep));
	d->version = (uint8_t)want;
}

int
m_set_version(int ci, uint32_t want, uint32_t *version)
{
	struct m_dom *d = &M.dom[ci];
	int rc = 0;

	if (want != 1 && want != 2)
		rc = -EINVAL;
	else if (want == 2 && d->max_version == 1)
		rc = -ENOSYS; /* as if set_version did not exist */
	else if (want == d->version)
		rc = 0; /* nothing changes (the table is not cleared) */
	else if (pinned_beyond_reserved(d))
		rc = -EBUSY;
	else if (d->version == 2 && v2_ops(d))
		rc = -EAGAIN;
	else if (d->version == 2 && reserved_unrepresentable(d))
		rc = -ERANGE;
	else
		switch_version(d, want);
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
