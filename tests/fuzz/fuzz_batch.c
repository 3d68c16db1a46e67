/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the batch entry point gntdp_gnttab_op() and the
 * guest-side entry helpers, checked against an independent model of Xen's
 * grant tables (model.c).
 *
 * Each input builds a fresh world (three domain slots with ids 0, 1 and 2;
 * 0 is privileged; a fixed set of grants of every kind) in gntdp and in the
 * model, then interprets the input as a sequence of records:
 *
 *   hypercall:    [sel] [cmd] [cnt] [cnt x sizeof(op struct) raw bytes]
 *   guest action: [sel] [0xf0 + k] [a] [b] [c] [d]
 *
 * sel bits 0-2 pick the caller (0, 1, 2, a domid nobody uses, DOMID_SELF),
 * bit 6 picks the persistent-cache context instead of the Xen-exact one,
 * bit 7 passes ops = NULL. cmd values 0-15 are commands, bit 6 adds a high
 * bit (1 << 12). cnt & 0x3f is the count, 0xff means 0x80000000. Missing op
 * bytes at the end of the input are zero. Guest actions k (sel % 3 picks
 * the domain slot): 0 grant access, 1 end access, 2 set read-only, 3 set
 * writable, 4 grant transfer, 5 end transfer, 6 and 12-15 raw entry write,
 * 7 destroy the domain, 8 unmap everything, 9 expire the persistent cache,
 * 10 create the domain again (sizes from a-d), 11 write bytes into a frame
 * (they vary with the position, so an offset error in a copy shows). On a
 * v2 table k 0-6 and 12-15 are the v2 actions of guest_action_v2().
 *
 * Checks (abort() on the first failure, so libFuzzer and the replay fail):
 *  - the whole-call result is the error Xen's do_grant_table_op() gives
 *    first (whole_call_errno()), or 0; on an error nothing in the op array
 *    changed;
 *  - on 0 every op's status is the status the model computes by running
 *    Xen's steps (exactly: no alternative is accepted), and no byte outside
 *    the op's output fields moved;
 *  - a successful map returns a fresh handle and the frame the model says
 *    (dev_bus_addr is its address); a host map shows it at the gfn;
 *  - guest helpers return what their contract says for the model's entry;
 *  - after every record: every live domain's counters, every shared entry
 *    (flags with GTF_reading/writing, domid, frame), every physmap slot
 *    (which frame, or empty) and the bytes of every reachable frame equal
 *    the model and its shadow;
 *  - at the end every mapping unmaps with okay and nothing stays pinned;
 *  - the address sanitizer sees no access outside the allocations.
 *
 * The persistent-cache context keeps pins between calls that the model
 * does not hold (its eviction is gntdp's choice). So that every answer
 * stays exact, the harness drains that cache before any record other than
 * a persistent copy call; between drains only the GTF_reading/writing bits
 * and pinned_entries of the entries those calls touched may be higher than
 * the model's. While any table is v2 a persistent call runs Xen-exact.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gntdp/gnttab.h>
#include <gntdp/xen_grant_table.h>

#include "fuzz.h"
#include "model.h"

#define NB_SLOTS 3u
#define NB_CALLERS 5u
#define DOM_NONE ((gntdp_domid_t)9)
#define HUGE_COUNT 0x80000000u
#define FRAME_LIST_MAX 64u
#define ST_SENTINEL ((int16_t)0x7fff)
#define RW_FLAGS (GNTDP_GTF_READING | GNTDP_GTF_WRITING)
#define MAX_TOUCHED 1024u
/* Domain 2 is built without v2 (set_version to 2: -ENOSYS); the others allow it. */
#define MAX_VERSION(id) ((uint8_t)((id) == 2 ? 1 : 2))

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_batch: invariant failed: %s (%s:%d): ", #cond,       \
				__FILE__, __LINE__);                                               \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static const gntdp_domid_t slot_ids[NB_SLOTS] = {0, 1, 2};
static const gntdp_domid_t callers[NB_CALLERS] = {0, 1, 2, DOM_NONE, GNTDP_DOMID_SELF};

/* A grant a persistent copy call acquired since the last drain. */
struct touched {
	int gi;
	uint32_t ref;
	bool write;
};

struct fz {
	struct gntdp_gnttab *gt;
	struct gntdp_gnttab_ctx *ctx;  /* Xen-exact cache */
	struct gntdp_gnttab_ctx *pctx; /* persistent cache */
	bool pctx_dirty;	       /* pctx may hold cached pins */
	uint64_t now;
	struct touched touched[MAX_TOUCHED];
	unsigned int nb_touched;
	gntdp_xen_pfn_t frame_list[FRAME_LIST_MAX];
};

static struct fz fz;

/* GNTDP_FUZZ_TRACE=1 prints every record and its results (for triaging a crash file). */
static int trace = -1;

/* ---- World ------------------------------------------------------------------- */

static void
quiet_log(void *arg, enum gntdp_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	CHECK(line != NULL && strlen(line) < 4096, "log line");
}

static struct gntdp_grant_entry_v1 *
entry(gntdp_domid_t d, uint32_t ref)
{
	struct gntdp_grant_entry_v1 *e;
	uint32_t nr;

	if (gntdp_guest_table(fz.gt, d, &e, &nr) != 0 || ref >= nr)
		return NULL;
	return &e[ref];
}

/* A v2 table's entry and its status word (NULL unless the table is v2 and ref inside). */
static union gntdp_grant_entry_v2 *
entry_v2(gntdp_domid_t d, uint32_t ref, gntdp_grant_status_t **st)
{
	union gntdp_grant_entry_v2 *e;
	uint32_t nr;

	if (gntdp_guest_table_v2(fz.gt, d, &e, st, &nr) != 0 || ref >= nr)
		return NULL;
	*st = &(*st)[ref];
	return &e[ref];
}

/*
 * The same guest write in gntdp's memory and in the model's shadow: len
 * bytes from seed on, varying with the position so that an offset error in
 * any copy shows in the bytes.
 */
static void
guest_write(int mi, uint64_t gfn, uint32_t off, uint32_t len, uint8_t seed)
{
	uint8_t *p = gntdp_domain_frame(fz.gt, M.dom[mi].id, gfn);
	uint8_t buf[GNTDP_PAGE_SIZE];

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7u + (i >> 8));
	if (!m_guest_write(mi, gfn, off, len, buf))
		return;
	CHECK(p != NULL, "dom %u gfn %#" PRIx64 ": the model has a frame there, gntdp none",
	      M.dom[mi].id, gfn);
	memcpy(p + off, buf, len);
}

/* Create domain id in gntdp and the model; learn where its frames live. -1 if refused. */
static int
domain_create(gntdp_domid_t id, bool priv, uint32_t nr_frames, uint32_t p2m, uint32_t gframes,
	      uint32_t mframes)
{
	static const uint8_t zero[GNTDP_PAGE_SIZE];
	struct gntdp_domain_conf c;
	bool zombie = m_zombie(id);
	int mi, rc;

	gntdp_domain_conf_init(&c);
	c.domid = id;
	c.privileged = priv;
	c.nr_frames = nr_frames;
	c.p2m_size = p2m;
	c.max_grant_frames = gframes;
	c.max_maptrack_frames = mframes;
	c.max_grant_version = MAX_VERSION(id);
	rc = gntdp_domain_create(fz.gt, &c);
	if (m_dom_by_id(id) >= 0) {
		CHECK(rc == -EEXIST, "create of live domid %u: %d", id, rc);
		return -1;
	}
	if (zombie)
		CHECK(rc == -EEXIST, "create of a zombie's domid %u: %d (Xen: -EEXIST)", id, rc);
	else
		CHECK(rc == 0, "create domain %u: %d", id, rc);
	if (rc != 0)
		return -1;
	mi = m_dom_create(id, priv, nr_frames, p2m, gframes, mframes, MAX_VERSION(id));
	CHECK(mi >= 0, "model full");
	for (uint32_t g = 0; g < nr_frames; g++) {
		uint8_t *p = gntdp_domain_frame(fz.gt, id, g);

		CHECK(p != NULL, "dom %u RAM gfn %u missing", id, g);
		CHECK(memcmp(p, zero, sizeof(zero)) == 0, "dom %u gfn %u: a new frame is not zero",
		      id, g);
		M.frame[M.dom[mi].p2m[g].fid].ptr = p;
		/* Recognisable contents so copies move real data. */
		guest_write(mi, g, 0, GNTDP_PAGE_SIZE, (uint8_t)(id * 16 + g));
	}
	return mi;
}

/* A grant through the guest helper, in gntdp and the model. */
static void
grant(int mi, uint32_t ref, gntdp_domid_t grantee, uint32_t gfn, bool ro)
{
	struct gntdp_grant_entry_v1 *e = entry(M.dom[mi].id, ref);
	uint16_t fl = (uint16_t)(GNTDP_GTF_PERMIT_ACCESS | (ro ? GNTDP_GTF_READONLY : 0));

	CHECK(e != NULL, "entry %u of %u", ref, M.dom[mi].id);
	CHECK(gntdp_guest_grant_access(e, grantee, gfn, ro) == m_guest_grant(mi, ref, fl, grantee, gfn),
	      "grant %u/%u", M.dom[mi].id, ref);
}

static void
grant_transfer(int mi, uint32_t ref, gntdp_domid_t from, uint32_t slot)
{
	struct gntdp_grant_entry_v1 *e = entry(M.dom[mi].id, ref);

	CHECK(e != NULL, "entry %u of %u", ref, M.dom[mi].id);
	CHECK(gntdp_guest_grant_transfer(e, from, slot) ==
		      m_guest_grant(mi, ref, GNTDP_GTF_ACCEPT_TRANSFER, from, slot),
	      "grant_transfer %u/%u", M.dom[mi].id, ref);
}

/*
 * A raw entry write: a hostile guest may store anything, except that it
 * leaves GTF_reading/writing alone while the entry is pinned (they are
 * gntdp's then); on an entry nobody pins it may preset them.
 */
static void
raw_entry(int mi, uint32_t ref, uint16_t flags, gntdp_domid_t grantee, uint32_t frame)
{
	struct gntdp_grant_entry_v1 *e = entry(M.dom[mi].id, ref);
	bool pinned = m_pinned(mi, ref);
	uint16_t old, nf;

	if (e == NULL)
		return;
	__atomic_store_n(&e->frame, frame, __ATOMIC_RELAXED);
	__atomic_store_n(&e->domid, grantee, __ATOMIC_RELAXED);
	old = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
	do {
		nf = pinned ? (uint16_t)((flags & ~RW_FLAGS) | (old & RW_FLAGS)) : flags;
	} while (!__atomic_compare_exchange_n(&e->flags, &old, nf, false, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	m_guest_raw(mi, ref, flags, grantee, frame);
}

static void
world_build(void)
{
	struct gntdp_gnttab_conf conf;
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 4};

	memset(&fz, 0, sizeof(fz));
	m_reset();
	gntdp_gnttab_conf_init(&conf);
	conf.log = quiet_log;
	conf.max_ctx = 4;
	CHECK(gntdp_gnttab_create(&conf, &fz.gt) == 0, "create");
	CHECK(domain_create(0, true, 16, 64, 4, 1) == 0, "dom 0");
	CHECK(domain_create(1, false, 16, 64, 2, 1) == 1, "dom 1");
	CHECK(domain_create(2, false, 8, 48, 1, 1) == 2, "dom 2");
	CHECK(gntdp_gnttab_ctx_create(fz.gt, NULL, &fz.ctx) == 0, "ctx");
	CHECK(gntdp_gnttab_ctx_create(fz.gt, &cc, &fz.pctx) == 0, "pctx");
	/* Domain 1: one grant of every kind. */
	grant(1, 8, 2, 1, false);
	grant(1, 9, 2, 2, true);
	grant_transfer(1, 10, 2, 20);
	/* ref 11 stays invalid */
	raw_entry(1, 12, GNTDP_GTF_PERMIT_ACCESS | GNTDP_GTF_SUB_PAGE, 2, 3);
	grant(1, 13, 1, 4, false); /* self-grant */
	grant(1, 14, 0, 5, false);
	grant(1, 15, 0, 6, true);
	grant(1, 16, 2, 1000, false);		/* gfn outside the physmap */
	grant(1, 17, 2, 1, false);		/* second grant of gfn 1 */
	raw_entry(1, 18, GNTDP_GTF_TRANSITIVE, 2, 7); /* v1 has no transitive grants */
	grant(1, 19, 2, 40, false);		/* inside the physmap, above RAM: empty */
	/* Domain 2. */
	grant(2, 8, 1, 1, false);
	grant(2, 9, 1, 2, true);
	grant_transfer(2, 10, 1, 20);
	grant(2, 11, 0, 3, false);
	grant(2, 12, 2, 4, false); /* self-grant */
	/* Domain 0 (privileged). */
	grant(0, 8, 1, 1, false);
	grant(0, 9, 2, 2, false);
	grant(0, 10, 0, 3, false); /* self-grant */
	grant_transfer(0, 11, 1, 30);
}

static void
world_destroy(void)
{
	gntdp_gnttab_ctx_destroy(fz.ctx);
	gntdp_gnttab_ctx_destroy(fz.pctx);
	gntdp_gnttab_destroy(fz.gt);
	fz.gt = NULL;
}

static void
drain_pctx(void)
{
	gntdp_gnttab_ctx_expire(fz.pctx, UINT64_MAX);
	gntdp_gnttab_ctx_quiescent(fz.pctx);
	fz.pctx_dirty = false;
	fz.nb_touched = 0;
}

static void
touch(int gi, uint32_t ref, bool write)
{
	for (unsigned int i = 0; i < fz.nb_touched; i++)
		if (fz.touched[i].gi == gi && fz.touched[i].ref == ref && fz.touched[i].write == write)
			return;
	CHECK(fz.nb_touched < MAX_TOUCHED, "too many cached grants");
	fz.touched[fz.nb_touched++] = (struct touched){gi, ref, write};
}

/* GTF bits a cached pin of the persistent context may add to (gi, ref), 0 if none. */
static uint16_t
cached_bits(int gi, uint32_t ref)
{
	uint16_t b = 0;

	for (unsigned int i = 0; fz.pctx_dirty && i < fz.nb_touched; i++)
		if (fz.touched[i].gi == gi && fz.touched[i].ref == ref)
			b |= (uint16_t)(GNTDP_GTF_READING |
					(fz.touched[i].write ? GNTDP_GTF_WRITING : 0));
	return b;
}

/* ---- World comparison ---------------------------------------------------------- */

static void
check_frame(int16_t fid, const void *p, const char *where, gntdp_domid_t d, uint64_t gfn)
{
	const struct m_frame *f = &M.frame[fid];

	CHECK(p == f->ptr, "%s dom %u gfn %#" PRIx64 ": frame %p, the model has frame %d at %p",
	      where, d, gfn, p, fid, (void *)f->ptr);
	if (memcmp(p, f->data, GNTDP_PAGE_SIZE) != 0) {
		size_t i = 0;

		while (((const uint8_t *)p)[i] == f->data[i])
			i++;
		CHECK(false, "%s dom %u gfn %#" PRIx64 " (frame %d): byte %zu is %#x, shadow %#x",
		      where, d, gfn, fid, i, ((const uint8_t *)p)[i], f->data[i]);
	}
}

/* Read domain d's shared entries in the model's form; returns how many there are. */
static uint32_t
read_entries_v1(gntdp_domid_t d, struct m_entry *out, uint32_t max)
{
	struct gntdp_grant_entry_v1 *e;
	uint32_t nr;

	CHECK(gntdp_guest_table(fz.gt, d, &e, &nr) == 0, "table %u", d);
	CHECK(nr <= max, "dom %u: %u entries", d, nr);
	for (uint32_t ref = 0; ref < nr; ref++)
		out[ref] = (struct m_entry){__atomic_load_n(&e[ref].flags, __ATOMIC_ACQUIRE),
					    e[ref].domid, e[ref].frame};
	return nr;
}

static uint32_t
read_entries_v2(gntdp_domid_t d, struct m_entry *out, uint32_t max)
{
	union gntdp_grant_entry_v2 *e;
	gntdp_grant_status_t *st;
	uint32_t nr;

	CHECK(gntdp_guest_table_v2(fz.gt, d, &e, &st, &nr) == 0, "v2 table %u", d);
	CHECK(nr <= max, "dom %u: %u v2 entries", d, nr);
	memset(out, 0, (size_t)nr * sizeof(*out));
	for (uint32_t ref = 0; ref < nr; ref++) {
		out[ref].e2.hdr.flags = __atomic_load_n(&e[ref].hdr.flags, __ATOMIC_ACQUIRE);
		memcpy(&out[ref].e2, &e[ref], sizeof(e[ref]));
		out[ref].status = __atomic_load_n(&st[ref], __ATOMIC_ACQUIRE);
	}
	return nr;
}

/* How the harness reads each table format (by version, as m_fmts). */
static uint32_t (*const fmt_read[3])(gntdp_domid_t, struct m_entry *, uint32_t) = {
	[1] = read_entries_v1,
	[2] = read_entries_v2,
};

/* v2: the 16 bytes and the status word (GTF_reading/writing there, with the leniency). */
static void
check_entry_v2(const struct m_dom *d, uint32_t ref, const struct m_entry *got, uint16_t extra)
{
	const struct m_entry *me = &d->ent[ref];

	CHECK(memcmp(&got->e2, &me->e2, sizeof(me->e2)) == 0 &&
		      (got->status & ~extra) == (me->status & ~extra) &&
		      (me->status & extra & ~got->status) == 0,
	      "dom %u v2 ref %u: {%#x, %u, %#x %#x %#x} status %#x, model {%#x, %u, %#x %#x %#x} "
	      "status %#x",
	      d->id, ref, got->e2.hdr.flags, got->e2.hdr.domid, got->e2.__spacer[1],
	      got->e2.__spacer[2], got->e2.__spacer[3], got->status, me->e2.hdr.flags,
	      me->e2.hdr.domid, me->e2.__spacer[1], me->e2.__spacer[2], me->e2.__spacer[3],
	      me->status);
}

static void
check_dom(int mi)
{
	static struct m_entry got[M_MAX_ENTRIES];
	const struct m_dom *d = &M.dom[mi];
	struct gntdp_domain_info info;
	uint32_t nr, pinned = m_pinned_entries(mi), maybe = 0;

	CHECK(gntdp_domain_info(fz.gt, d->id, &info) == 0, "info %u", d->id);
	CHECK(info.nr_frames == d->nr_frames && info.nr_grant_frames == d->nr_gf &&
		      info.max_grant_frames == d->max_gf &&
		      info.max_maptrack_handles == d->max_handles && !info.dying,
	      "dom %u: info %u/%u/%u/%u/%d, model %u/%u/%u/%u", d->id, info.nr_frames,
	      info.nr_grant_frames, info.max_grant_frames, info.max_maptrack_handles, info.dying,
	      d->nr_frames, d->nr_gf, d->max_gf, d->max_handles);
	CHECK(info.live_mappings == m_nb_maps(mi), "dom %u: live_mappings %u, model %u", d->id,
	      info.live_mappings, m_nb_maps(mi));
	CHECK(info.owned_pages == d->owned, "dom %u: owned_pages %u, model %u", d->id,
	      info.owned_pages, d->owned);
	CHECK(info.maptrack_limit <= info.max_maptrack_handles, "dom %u maptrack %u > %u", d->id,
	      info.maptrack_limit, info.max_maptrack_handles);
	CHECK(info.grant_version == d->version && info.nr_status_frames == m_nr_status_frames(mi),
	      "dom %u: version %u with %u status frames, model %u with %u", d->id,
	      info.grant_version, info.nr_status_frames, d->version, m_nr_status_frames(mi));
	nr = fmt_read[d->version](d->id, got, M_MAX_ENTRIES);
	CHECK(nr == m_nr_entries(mi), "dom %u: %u entries, model %u", d->id, nr, m_nr_entries(mi));
	for (uint32_t ref = 0; ref < nr; ref++) {
		const struct m_entry *me = &d->ent[ref];
		uint16_t fl = got[ref].flags;
		uint16_t extra = cached_bits(mi, ref);

		maybe += extra != 0;
		if (d->version == 2) {
			check_entry_v2(d, ref, &got[ref], extra);
			continue;
		}
		CHECK((fl & ~extra) == (me->flags & ~extra) && (me->flags & extra & ~fl) == 0 &&
			      got[ref].domid == me->domid && got[ref].frame == me->frame,
		      "dom %u ref %u: {%#x, %u, %#x}, model {%#x, %u, %#x}", d->id, ref, fl,
		      got[ref].domid, got[ref].frame, me->flags, me->domid, me->frame);
	}
	CHECK(info.pinned_entries >= pinned && info.pinned_entries <= pinned + maybe,
	      "dom %u: pinned_entries %u, model %u (+%u cached)", d->id, info.pinned_entries,
	      pinned, maybe);
	for (uint64_t gfn = 0; gfn <= d->p2m_size; gfn++) {
		const void *p = gntdp_domain_frame(fz.gt, d->id, gfn);
		const struct m_slot *s = gfn < d->p2m_size ? &d->p2m[gfn] : NULL;

		if (s == NULL || s->kind == SLOT_EMPTY)
			CHECK(p == NULL, "dom %u gfn %#" PRIx64 ": frame %p, the model has none",
			      d->id, gfn, p);
		else
			check_frame(s->fid, p, "physmap", d->id, gfn);
	}
}

/* The whole-world comparison after every record. */
static void
check_world(void)
{
	for (unsigned int si = 0; si < NB_SLOTS; si++) {
		int mi = m_dom_by_id(slot_ids[si]);

		if (mi >= 0)
			check_dom(mi);
		else
			CHECK(gntdp_domain_info(fz.gt, slot_ids[si], &(struct gntdp_domain_info){0}) ==
				      -ESRCH,
			      "domain %u answers, the model has none", slot_ids[si]);
	}
	/* Frames reachable through mappings (a zombie's frames through device maps too). */
	for (unsigned int i = 0; i < M.nb_map; i++)
		check_frame(M.map[i].fid, M.frame[M.map[i].fid].ptr, "mapped", M.dom[M.map[i].granter].id,
			    M.map[i].ref);
}

/* ---- Per-command checks: one row per command the model covers ------------------------ */

struct out_field {
	uint16_t off, len;
};

struct cmd_row {
	const char *name;
	bool single; /* count must be 1 */
	void (*check)(int ci, bool persistent, const void *in, void *out);
	struct out_field outs[3]; /* the fields the op writes (len 0 ends) */
	/*
	 * Commands without a status field, whose result is the call's errno:
	 * runs the model over the n structs (in: as passed, out: as gntdp left
	 * them; arg: the cmd's bits >= 12 in place, Xen's opaque argument),
	 * checks the output fields, and
	 * returns the errno Xen returns. check is NULL for them.
	 */
	int (*call)(int ci, unsigned int arg, const uint8_t *in, const uint8_t *out, unsigned int n,
		    size_t sz);
	bool once; /* Xen ignores count: one struct, always read */
};

#define FIELD(type, f) {offsetof(type, f), sizeof(((type *)0)->f)}

static void
check_map(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_map_grant_ref *in = vin;
	const struct gntdp_gnttab_map_grant_ref *out = vout;
	int16_t fid = -1;
	int gi = -1;
	int16_t st = m_map(ci, in, &fid, &gi);

	(void)persistent;
	CHECK(out->status == st, "map dom %u ref %u flags %#x host %#" PRIx64 ": %d (%s), model %d (%s)",
	      in->dom, in->ref, in->flags, in->host_addr, out->status,
	      gntdp_gntst_name(out->status), st, gntdp_gntst_name(st));
	if (st != GNTDP_GNTST_OKAY) {
		/* Xen assigns handle and dev_bus_addr only on success (spec §5.1). */
		CHECK(out->handle == in->handle && out->dev_bus_addr == in->dev_bus_addr,
		      "failed map (%d) rewrote handle or dev_bus_addr", st);
		return;
	}
	CHECK(m_map_find(ci, out->handle) == NULL && out->handle < M.dom[ci].max_handles,
	      "map returned handle %u: live already, or beyond %u", out->handle,
	      M.dom[ci].max_handles);
	CHECK(out->dev_bus_addr == (uint64_t)(uintptr_t)M.frame[fid].ptr,
	      "map of dom %u ref %u: dev_bus_addr %#" PRIx64 ", the model's frame %d is at %p",
	      in->dom, in->ref, out->dev_bus_addr, fid, (void *)M.frame[fid].ptr);
	m_map_add(ci, gi, in, out->handle, fid);
}

/* Both unmap commands: the model's plan, gntdp's status, and the change on okay. */
static void
unmap_vs_model(int ci, const char *what, uint32_t handle, uint64_t host, uint64_t dev,
	       uint64_t new_addr, int16_t st)
{
	struct m_unmap_plan p = m_unmap_plan(ci, handle, host, dev, new_addr);

	CHECK(st == p.st,
	      "%s handle %u host %#" PRIx64 " dev %#" PRIx64 " new %#" PRIx64 ": %d (%s), model %d (%s)",
	      what, handle, host, dev, new_addr, st, gntdp_gntst_name(st), p.st,
	      gntdp_gntst_name(p.st));
	if (p.st == GNTDP_GNTST_OKAY)
		m_unmap_apply(&p);
}

static void
check_unmap(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_unmap_grant_ref *in = vin;

	(void)persistent;
	unmap_vs_model(ci, "unmap", in->handle, in->host_addr, in->dev_bus_addr, 0,
		       ((const struct gntdp_gnttab_unmap_grant_ref *)vout)->status);
}

/* unmap_and_replace (7): the translated rule, a host-only unmap whose new_addr must be 0. */
static void
check_unmap_replace(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_unmap_and_replace *in = vin;

	(void)persistent;
	unmap_vs_model(ci, "unmap_and_replace", in->handle, in->host_addr, 0, in->new_addr,
		       ((const struct gntdp_gnttab_unmap_and_replace *)vout)->status);
}

static void
check_copy(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_copy *op = vin;
	int16_t st = ((const struct gntdp_gnttab_copy *)vout)->status;
	struct m_copy_res r = m_copy(ci, op);

	CHECK(st == r.st,
	      "copy %#" PRIx64 "/%u+%u -> %#" PRIx64 "/%u+%u len %u flags %#x: %d (%s), model %d (%s)",
	      op->source.u.gmfn, op->source.domid, op->source.offset, op->dest.u.gmfn,
	      op->dest.domid, op->dest.offset, op->len, op->flags, st, gntdp_gntst_name(st), r.st,
	      gntdp_gntst_name(r.st));
	if (persistent && r.src_gi >= 0)
		touch(r.src_gi, op->source.u.ref, false);
	if (persistent && r.dst_gi >= 0)
		touch(r.dst_gi, op->dest.u.ref, true);
}

static void
check_transfer(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_transfer *op = vin;
	int16_t st = ((const struct gntdp_gnttab_transfer *)vout)->status;
	int16_t want = m_transfer(ci, op);

	(void)persistent;
	CHECK(st == want, "transfer gfn %#" PRIx64 " to %u ref %u: %d (%s), model %d (%s)", op->mfn,
	      op->domid, op->ref, st, gntdp_gntst_name(st), want, gntdp_gntst_name(want));
}

static void
check_setup(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_setup_table *op = vin;
	int16_t st = ((const struct gntdp_gnttab_setup_table *)vout)->status;
	int16_t want = m_setup_table(ci, op, op->frame_list == NULL);

	(void)persistent;
	CHECK(st == want, "setup_table dom %u nr %u: %d (%s), model %d (%s)", op->dom, op->nr_frames,
	      st, gntdp_gntst_name(st), want, gntdp_gntst_name(want));
}

/* The sentinel the frame list holds before a get_status_frames call. */
#define LIST_SENTINEL 0xa5a5a5a5a5a5a5a5ull

static void
check_status_frames(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_get_status_frames *op = vin;
	int16_t st = ((const struct gntdp_gnttab_get_status_frames *)vout)->status;
	int16_t want = m_get_status_frames(ci, op->dom, op->nr_frames, op->frame_list == NULL);

	(void)persistent;
	CHECK(st == want, "get_status_frames dom %u nr %u list %p: %d (%s), model %d (%s)", op->dom,
	      op->nr_frames, (void *)op->frame_list, st, gntdp_gntst_name(st), want,
	      gntdp_gntst_name(want));
	/* Written on okay only, exactly nr_frames entries: distinct frame numbers. */
	for (uint32_t i = 0; i < FRAME_LIST_MAX; i++) {
		bool written = st == GNTDP_GNTST_OKAY && i < op->nr_frames;

		CHECK((fz.frame_list[i] != LIST_SENTINEL) == written,
		      "get_status_frames: entry %u is %#" PRIx64 " (status %d, nr %u)", i,
		      (uint64_t)fz.frame_list[i], st, op->nr_frames);
		for (uint32_t j = 0; written && j < i; j++)
			CHECK(fz.frame_list[j] != fz.frame_list[i], "status frames %u and %u equal",
			      j, i);
	}
}

static void
check_dump(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_dump_table *op = vin;
	int16_t st = ((const struct gntdp_gnttab_dump_table *)vout)->status;
	int16_t want = m_dump_table(ci, op->dom);

	(void)persistent;
	CHECK(st == want, "dump_table dom %u: %d, model %d", op->dom, st, want);
}

static void
check_query(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_query_size *in = vin, *out = vout;
	uint32_t nr = in->nr_frames, max = in->max_nr_frames;
	int16_t want = m_query_size(ci, in->dom, &nr, &max);

	(void)persistent;
	CHECK(out->status == want, "query_size dom %u: %d, model %d", in->dom, out->status, want);
	/* Xen writes the whole struct back; on failure the sizes are as passed. */
	CHECK(out->nr_frames == nr && out->max_nr_frames == max,
	      "query_size dom %u: %u/%u frames, model %u/%u", in->dom, out->nr_frames,
	      out->max_nr_frames, nr, max);
}

static void
check_swap(int ci, bool persistent, const void *vin, void *vout)
{
	const struct gntdp_gnttab_swap_grant_ref *op = vin;
	int16_t st = ((const struct gntdp_gnttab_swap_grant_ref *)vout)->status;
	int16_t want = m_swap_grant_ref(ci, op->ref_a, op->ref_b);

	(void)persistent;
	CHECK(st == want, "swap_grant_ref %u <-> %u: %d (%s), model %d (%s)", op->ref_a, op->ref_b,
	      st, gntdp_gntst_name(st), want, gntdp_gntst_name(want));
}

static int
call_get_version(int ci, unsigned int arg, const uint8_t *vin, const uint8_t *vout, unsigned int n,
		 size_t sz)
{
	const struct gntdp_gnttab_get_version *in = (const void *)vin, *out = (const void *)vout;
	uint32_t v = in->version;
	int rc = m_get_version(ci, in->dom, &v);

	(void)arg;
	(void)n;
	(void)sz;
	CHECK(out->version == v, "get_version dom %u: version %u, model %u (rc %d)", in->dom,
	      out->version, v, rc);
	return rc;
}

static int
call_set_version(int ci, unsigned int arg, const uint8_t *vin, const uint8_t *vout, unsigned int n,
		 size_t sz)
{
	const struct gntdp_gnttab_set_version *in = (const void *)vin, *out = (const void *)vout;
	uint32_t v;
	int rc = m_set_version(ci, in->version, &v);

	(void)arg;
	(void)n;
	(void)sz;
	CHECK(out->version == v, "set_version %u: version %u written back, model %u (rc %d)",
	      in->version, out->version, v, rc);
	return rc;
}

static int
call_cache_flush(int ci, unsigned int arg, const uint8_t *in, const uint8_t *out, unsigned int n,
		 size_t sz)
{
	uint32_t cur_ref = arg;

	(void)out; /* nothing is written: check_untouched covers every byte */
	for (unsigned int k = 0; k < n; k++) {
		struct gntdp_gnttab_cache_flush op;
		int rc;

		memcpy(&op, in + k * sz, sizeof(op));
		rc = m_cache_flush(ci, &op, &cur_ref);
		if (trace)
			fprintf(stderr, "  op %u: cache_flush %#" PRIx64 " +%u len %u op %#x: model %d\n",
				k, op.a.dev_bus_addr, op.offset, op.length, op.op, rc);
		if (rc != 0)
			return rc; /* the first failing op's errno ends the call */
		cur_ref = 0;
	}
	return 0;
}

/*
 * A cache_flush address from the input: bit 63 set, an address below
 * 64 KiB (never a frame); otherwise a page some live domain owns, picked
 * by bits 12-62, at the offset of bits 0-11. Frame addresses vary from run
 * to run, so the input could not name one itself.
 */
static uint64_t
flush_addr(uint64_t v)
{
	uint64_t cand[M_MAX_FRAMES];
	unsigned int nb = 0;

	for (unsigned int i = 0; i < M.nb_dom; i++)
		for (uint32_t g = 0; M.dom[i].alive && g < M.dom[i].p2m_size; g++)
			if (M.dom[i].p2m[g].kind == SLOT_PAGE && nb < M_MAX_FRAMES)
				cand[nb++] = (uint64_t)(uintptr_t)M.frame[M.dom[i].p2m[g].fid].ptr;
	if ((v >> 63) || nb == 0)
		return v & 0xffffu;
	CHECK((cand[0] & 0xfffu) == 0, "frame %#" PRIx64 " is not page-aligned", cand[0]);
	return cand[((v & ~(1ull << 63)) >> 12) % nb] + (v & 0xfffu);
}

/*
 * The commands the model covers, by number: every command gntdp executes
 * (0-12). A command without a row would be skipped, not run unchecked.
 */
static const struct cmd_row cmd_rows[] = {
	[GNTDP_GNTTABOP_MAP_GRANT_REF] = {.name = "map_grant_ref", .check = check_map,
					  .outs = {FIELD(struct gntdp_gnttab_map_grant_ref, status),
						   FIELD(struct gntdp_gnttab_map_grant_ref, handle),
						   FIELD(struct gntdp_gnttab_map_grant_ref,
							 dev_bus_addr)}},
	[GNTDP_GNTTABOP_UNMAP_GRANT_REF] = {.name = "unmap_grant_ref", .check = check_unmap,
					    .outs = {FIELD(struct gntdp_gnttab_unmap_grant_ref,
							   status)}},
	[GNTDP_GNTTABOP_SETUP_TABLE] = {.name = "setup_table", .single = true, .check = check_setup,
					.outs = {FIELD(struct gntdp_gnttab_setup_table, status)}},
	[GNTDP_GNTTABOP_DUMP_TABLE] = {.name = "dump_table", .single = true, .check = check_dump,
				       .outs = {FIELD(struct gntdp_gnttab_dump_table, status)}},
	[GNTDP_GNTTABOP_TRANSFER] = {.name = "transfer", .check = check_transfer,
				     .outs = {FIELD(struct gntdp_gnttab_transfer, status)}},
	[GNTDP_GNTTABOP_COPY] = {.name = "copy", .check = check_copy,
				 .outs = {FIELD(struct gntdp_gnttab_copy, status)}},
	[GNTDP_GNTTABOP_QUERY_SIZE] = {.name = "query_size", .single = true, .check = check_query,
				       .outs = {FIELD(struct gntdp_gnttab_query_size, status),
						FIELD(struct gntdp_gnttab_query_size, nr_frames),
						FIELD(struct gntdp_gnttab_query_size, max_nr_frames)}},
	[GNTDP_GNTTABOP_UNMAP_AND_REPLACE] = {.name = "unmap_and_replace",
					      .check = check_unmap_replace,
					      .outs = {FIELD(struct gntdp_gnttab_unmap_and_replace,
							     status)}},
	[GNTDP_GNTTABOP_GET_STATUS_FRAMES] = {.name = "get_status_frames", .single = true,
					      .check = check_status_frames,
					      .outs = {FIELD(struct gntdp_gnttab_get_status_frames,
							     status)}},
	[GNTDP_GNTTABOP_SET_VERSION] = {.name = "set_version", .call = call_set_version,
					.once = true,
					.outs = {FIELD(struct gntdp_gnttab_set_version, version)}},
	[GNTDP_GNTTABOP_GET_VERSION] = {.name = "get_version", .call = call_get_version,
					.once = true,
					.outs = {FIELD(struct gntdp_gnttab_get_version, version)}},
	[GNTDP_GNTTABOP_SWAP_GRANT_REF] = {.name = "swap_grant_ref", .check = check_swap,
					   .outs = {FIELD(struct gntdp_gnttab_swap_grant_ref,
							  status)}},
	/* No output field: every byte must stay as passed. */
	[GNTDP_GNTTABOP_CACHE_FLUSH] = {.name = "cache_flush", .call = call_cache_flush},
};

static const struct cmd_row *
cmd_row(unsigned int base)
{
	if (base < sizeof(cmd_rows) / sizeof(cmd_rows[0]) &&
	    (cmd_rows[base].check != NULL || cmd_rows[base].call != NULL))
		return &cmd_rows[base];
	return NULL;
}

/* Where a command keeps its status: its first output field (-1: it has none). */
static long
status_offset(const struct cmd_row *row)
{
	return row != NULL && row->call == NULL ? (long)row->outs[0].off : -1;
}

/* No byte outside the row's output fields moved. */
static void
check_untouched(unsigned int base, const struct cmd_row *row, const uint8_t *in, const uint8_t *out,
		size_t sz)
{
	for (size_t b = 0; b < sz; b++) {
		bool is_out = false;

		for (unsigned int f = 0; f < 3 && row->outs[f].len != 0; f++)
			is_out |= b >= row->outs[f].off && b < (size_t)row->outs[f].off + row->outs[f].len;
		CHECK(is_out || in[b] == out[b], "cmd %u (%s): input byte %zu changed %#x -> %#x", base,
		      row->name, b, in[b], out[b]);
	}
}

/* ---- Hypercall records ----------------------------------------------------------------- */

static bool
any_v2(void)
{
	for (unsigned int i = 0; i < M.nb_dom; i++)
		if (M.dom[i].used && M.dom[i].version == 2)
			return true;
	return false;
}

/*
 * The whole-call result in do_grant_table_op()'s order (Xen HEAD): a count
 * above INT_MAX, then cmd bits >= 12 (cache_flush exempt: its argument),
 * then an unknown command (-ENOSYS), then the command's own count rule
 * (setup_table, query_size, dump_table, get_status_frames: exactly 1), then
 * the copy from guest memory (-EFAULT: ops NULL with a count, or NULL for
 * set_version and get_version, which read one struct whatever the count).
 * gntdp's -ESRCH (the caller is no live domain: Xen has no such case)
 * comes last. 0: none holds.
 */
static int
whole_call_errno(unsigned int cmd, const struct cmd_row *row, unsigned int count, bool null_ops,
		 int ci)
{
	if (count > INT_MAX)
		return -EINVAL;
	if ((cmd >> 12) != 0 && (cmd & GNTDP_GNTTABOP_CMD_MASK) != GNTDP_GNTTABOP_CACHE_FLUSH)
		return -EINVAL;
	if (row == NULL)
		return -ENOSYS;
	if (row->single && count != 1)
		return -EINVAL;
	if (null_ops && (count > 0 || row->once))
		return -EFAULT;
	if (ci < 0)
		return -ESRCH;
	return 0;
}

/* The struct size, or 16 for commands gntdp does not execute (never read). */
static size_t
op_size(unsigned int cmd)
{
	size_t n = gntdp_gnttab_op_size(cmd);

	return n != 0 ? n : 16;
}

static void
do_call(uint8_t sel, uint8_t cmdb, uint8_t cntb, const uint8_t **p, const uint8_t *end)
{
	gntdp_domid_t caller = callers[(sel & 7u) % NB_CALLERS];
	bool persistent = (sel & 0x40u) != 0;
	bool null_ops = (sel & 0x80u) != 0;
	unsigned int base = cmdb & 0x0fu;
	unsigned int cmd = base | ((cmdb & 0x40u) ? (1u << 12) : 0u);
	unsigned int count = cntb == 0xff ? HUGE_COUNT : (cntb & 0x3fu);
	const struct cmd_row *row = cmd_row(base);
	/* structs actually provided */
	unsigned int n = count == HUGE_COUNT || (row != NULL && row->once) ? 1 : count;
	size_t sz = op_size(base);
	size_t bytes = sz * n;
	long soff = status_offset(row);
	struct gntdp_gnttab_ctx *ctx;
	int ci = m_dom_by_id(caller);
	int want;
	uint8_t *ops, *in;
	size_t avail = (size_t)(end - *p);
	int rc;

	/*
	 * The persistent cache keeps transitive pins (and the pins they hold on
	 * the entries they name) beyond Xen's buffers, which changes what later
	 * ops of the call see: with any v2 table, run the call Xen-exact.
	 */
	if (persistent && any_v2())
		persistent = false;
	ctx = persistent ? fz.pctx : fz.ctx;

	/* Exact-size heap buffers: the address sanitizer sees any access past op n-1. */
	ops = malloc(bytes ? bytes : 1);
	in = malloc(bytes ? bytes : 1);
	CHECK(ops != NULL && in != NULL, "oom");
	memset(ops, 0, bytes);
	memcpy(ops, *p, avail < bytes ? avail : bytes);
	*p += avail < bytes ? avail : bytes;
	if (row == NULL && gntdp_gnttab_op_size(base) != 0)
		goto out; /* executed by gntdp, not in the model: see cmd_rows */
	if (fz.pctx_dirty && !(persistent && base == GNTDP_GNTTABOP_COPY))
		drain_pctx();
	for (unsigned int k = 0; k < n; k++) {
		uint8_t *op = ops + k * sz;

		if (soff >= 0) {
			int16_t s = ST_SENTINEL;

			memcpy(op + soff, &s, sizeof(s)); /* output only: detect "never written" */
		}
		if (base == GNTDP_GNTTABOP_SETUP_TABLE) {
			struct gntdp_gnttab_setup_table *st = (void *)op;

			/* A valid frame list for nr_frames entries, or NULL if bit 0 asks for it. */
			st->nr_frames %= FRAME_LIST_MAX + 1;
			st->frame_list = st->nr_frames && !((uintptr_t)st->frame_list & 1u)
						 ? fz.frame_list
						 : NULL;
		}
		if (base == GNTDP_GNTTABOP_GET_STATUS_FRAMES) {
			struct gntdp_gnttab_get_status_frames *sf = (void *)op;

			sf->nr_frames %= FRAME_LIST_MAX + 1;
			sf->frame_list = (uintptr_t)sf->frame_list & 1u ? NULL : fz.frame_list;
			for (unsigned int i = 0; i < FRAME_LIST_MAX; i++)
				fz.frame_list[i] = LIST_SENTINEL;
		}
		if (base == GNTDP_GNTTABOP_CACHE_FLUSH) {
			struct gntdp_gnttab_cache_flush *cf = (void *)op;

			cf->a.dev_bus_addr = flush_addr(cf->a.dev_bus_addr);
		}
	}
	memcpy(in, ops, bytes);
	if (persistent) {
		gntdp_gnttab_ctx_set_now(ctx, ++fz.now);
		fz.pctx_dirty = true;
	}
	rc = gntdp_gnttab_op(ctx, caller, cmd, null_ops ? NULL : ops, count);
	if (trace)
		fprintf(stderr, "call caller %u cmd %#x count %u%s%s: rc %d\n", caller, cmd, count,
			persistent ? " persistent" : "", null_ops ? " ops=NULL" : "", rc);
	want = whole_call_errno(cmd, row, count, null_ops, ci);
	if (want != 0) {
		CHECK(rc == want, "cmd %#x count %u caller %u null %d: rc %d, Xen's order gives %d", cmd,
		      count, caller, null_ops, rc, want);
		CHECK(memcmp(in, ops, bytes) == 0, "cmd %#x: rc %d but the ops changed", cmd, rc);
		goto out;
	}
	if (row->call != NULL) {
		/* No whole-call error: the call's errno is the model's. */
		want = row->call(ci, cmd & ~(unsigned int)GNTDP_GNTTABOP_CMD_MASK, in, ops, n, sz);
		CHECK(rc == want, "cmd %#x count %u caller %u: rc %d, model %d", cmd, count, caller,
		      rc, want);
		for (unsigned int k = 0; k < n; k++)
			check_untouched(base, row, in + k * sz, ops + k * sz, sz);
		goto out;
	}
	CHECK(rc == 0, "cmd %#x count %u caller %u: rc %d, Xen 0", cmd, count, caller, rc);
	if (base == GNTDP_GNTTABOP_COPY)
		m_copy_begin(); /* Xen's two buffers live for the call */
	for (unsigned int k = 0; k < count; k++) {
		uint8_t *op = ops + k * sz;
		int16_t st;

		memcpy(&st, op + soff, sizeof(st));
		if (trace)
			fprintf(stderr, "  op %u: %s %d (%s)\n", k, row->name, st, gntdp_gntst_name(st));
		CHECK(st != ST_SENTINEL, "cmd %u op %u: status never written", base, k);
		check_untouched(base, row, in + k * sz, op, sz);
		row->check(ci, persistent, in + k * sz, op);
	}
	if (base == GNTDP_GNTTABOP_COPY)
		m_copy_end();
out:
	free(ops);
	free(in);
}

/* ---- Guest-action records ---------------------------------------------------------------- */

static void
destroy_domain(unsigned int si)
{
	gntdp_domid_t d = slot_ids[si];
	int mi = m_dom_by_id(d);

	/* Cached pins belong to a context outside any batch: let them go first. */
	drain_pctx();
	if (mi < 0) {
		CHECK(gntdp_domain_destroy(fz.gt, d) == -ESRCH, "destroy of dead %u", d);
		return;
	}
	CHECK(gntdp_domain_destroy(fz.gt, d) == 0, "destroy %u", d);
	m_dom_destroy(mi);
}

/* A slot holding a host mapping of frame fid in ci's physmap, the handle's kind first. */
static uint64_t
host_slot_of(int ci, const struct m_map *m)
{
	const struct m_dom *c = &M.dom[ci];
	uint8_t want = (m->flags & GNTDP_GNTMAP_READONLY) ? SLOT_GRANT_RO : SLOT_GRANT_RW;
	uint64_t any = UINT64_MAX;

	for (uint64_t g = 0; g < c->p2m_size; g++) {
		if (c->p2m[g].fid != m->fid ||
		    (c->p2m[g].kind != SLOT_GRANT_RO && c->p2m[g].kind != SLOT_GRANT_RW))
			continue;
		if (c->p2m[g].kind == want)
			return g;
		any = g;
	}
	CHECK(any != UINT64_MAX, "mapping without a host slot");
	return any;
}

static void
unmap_all(void)
{
	drain_pctx();
	while (M.nb_map > 0) {
		struct m_map r = M.map[M.nb_map - 1];
		struct gntdp_gnttab_unmap_grant_ref u, in;

		memset(&u, 0, sizeof(u));
		u.handle = r.handle;
		if (r.parts & GNTDP_GNTMAP_HOST_MAP)
			/* gfn 0 cannot be named by host_addr 0: use its low bits. */
			u.host_addr = (host_slot_of(r.caller, &r) << GNTDP_PAGE_SHIFT) | 1u;
		if (r.parts & GNTDP_GNTMAP_DEVICE_MAP)
			u.dev_bus_addr = (uint64_t)(uintptr_t)M.frame[r.fid].ptr;
		in = u;
		CHECK(gntdp_gnttab_op(fz.ctx, M.dom[r.caller].id, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u,
				      1) == 0,
		      "final unmap rc");
		CHECK(u.status == GNTDP_GNTST_OKAY,
		      "final unmap of handle %u (caller %u, granter %u ref %u, parts %#x): %d",
		      r.handle, M.dom[r.caller].id, M.dom[r.granter].id, r.ref, r.parts, u.status);
		check_unmap(r.caller, false, &in, &u);
	}
}

/* k = 10: sizes from the arguments; slot 0 stays privileged. */
static void
recreate(unsigned int si, const uint8_t a[4])
{
	uint32_t nr = 1u + a[0] % 16u;
	uint32_t p2m = nr + a[1] % (M_MAX_GFNS + 1u - nr);

	drain_pctx();
	if (M.nb_dom == M_MAX_DOMS || M.nb_frame + nr > M_MAX_FRAMES)
		return; /* the model is full: leave gntdp alone too */
	domain_create(slot_ids[si], si == 0, nr, p2m, 1u + a[2] % M_MAX_GF, a[3] % 3u);
}

/* Publish a v2 entry in gntdp's memory as the guest helpers do: the body, then the header. */
static void
store_v2(union gntdp_grant_entry_v2 *e, const union gntdp_grant_entry_v2 *v)
{
	for (unsigned int i = 1; i < 4; i++)
		__atomic_store_n(&e->__spacer[i], v->__spacer[i], __ATOMIC_RELAXED);
	__atomic_store_n(&e->__spacer[0], v->__spacer[0], __ATOMIC_RELEASE);
}

/*
 * Guest actions on a v2 table: 0 grant full_page, 1 end access (Linux's
 * v2 protocol), 2 grant sub_page (window from d: offset (d >> 4) * 256,
 * bit 3 sets offset bit 15, length 16 << 2 * ((d >> 1) & 3)), 3 grant
 * transitive (trans_domid from c, gref (d >> 1) % 32), 4 offer a transfer,
 * 5 end a transfer, others a raw write of all 16 bytes. d bit 0: read-only.
 * A frame c >= 0xf0 is above 32 bits (odd c) or near the top of 64 bits.
 */
static void
guest_action_v2(int mi, unsigned int k, uint32_t ref, gntdp_domid_t grantee, const uint8_t a[4])
{
	gntdp_domid_t d = M.dom[mi].id;
	gntdp_grant_status_t *st;
	union gntdp_grant_entry_v2 *e = entry_v2(d, ref, &st), v;
	uint64_t frame = a[2] < 0xf0u ? a[2]
				      : ((a[2] & 1u) ? (1ull << 32) + a[2] : 0xfffffffffffff000ull + a[2]);
	bool ro = (a[3] & 1u) != 0;
	uint16_t rof = ro ? GNTDP_GTF_READONLY : 0;
	int rc;

	if (e == NULL)
		return;
	memset(&v, 0, sizeof(v));
	switch (k) {
	case 0:
		rc = gntdp_guest_grant_access_v2(e, grantee, frame, ro);
		v.full_page.frame = frame;
		CHECK(rc == m_guest_grant_v2(mi, ref, (uint16_t)(GNTDP_GTF_PERMIT_ACCESS | rof), grantee,
					     &v),
		      "grant_access_v2 %u/%u: %d", d, ref, rc);
		break;
	case 1:
		rc = gntdp_guest_end_access_v2(e, st);
		CHECK(rc == m_guest_end_access_v2(mi, ref), "end_access_v2 %u/%u: %d", d, ref, rc);
		break;
	case 2: {
		uint16_t off = (uint16_t)((a[3] >> 4) * 256u | ((a[3] & 8u) ? 0x8000u : 0u));
		uint16_t len = (uint16_t)(16u << (2u * ((a[3] >> 1) & 3u)));

		rc = gntdp_guest_grant_sub_page(e, grantee, frame, off, len, ro);
		v.sub_page.frame = frame;
		v.sub_page.page_off = off;
		v.sub_page.length = len;
		CHECK(rc == m_guest_grant_v2(mi, ref,
					     (uint16_t)(GNTDP_GTF_PERMIT_ACCESS | GNTDP_GTF_SUB_PAGE |
							rof),
					     grantee, &v),
		      "grant_sub_page %u/%u: %d", d, ref, rc);
		break;
	}
	case 3: {
		gntdp_domid_t td = (a[2] & 0x80u) ? (gntdp_domid_t)(a[2] & 0x7fu)
						  : slot_ids[a[2] % NB_SLOTS];
		uint32_t gref = (a[3] >> 1) % 32u;

		rc = gntdp_guest_grant_transitive(e, grantee, td, gref, ro);
		v.transitive.trans_domid = td;
		v.transitive.gref = gref;
		CHECK(rc == m_guest_grant_v2(mi, ref, (uint16_t)(GNTDP_GTF_TRANSITIVE | rof), grantee,
					     &v),
		      "grant_transitive %u/%u: %d", d, ref, rc);
		break;
	}
	case 4: /* no v2 helper: the guest writes the offer itself, on an unused entry */
		v.full_page.frame = frame;
		v.hdr.flags = GNTDP_GTF_ACCEPT_TRANSFER;
		v.hdr.domid = grantee;
		if (M.dom[mi].ent[ref].e2.hdr.flags == 0) {
			store_v2(e, &v);
			m_guest_raw_v2(mi, ref, &v);
		}
		break;
	case 5: { /* end a transfer: clear the offer (once a committed one completed) */
		uint16_t fl = M.dom[mi].ent[ref].e2.hdr.flags;

		if ((fl & GNTDP_GTF_TYPE_MASK) != GNTDP_GTF_ACCEPT_TRANSFER ||
		    ((fl & GNTDP_GTF_TRANSFER_COMMITTED) && !(fl & GNTDP_GTF_TRANSFER_COMPLETED)))
			break;
		v = M.dom[mi].ent[ref].e2;
		v.hdr.flags = 0;
		store_v2(e, &v);
		m_guest_raw_v2(mi, ref, &v);
		break;
	}
	default: /* hostile: any header (the status word stays gntdp's), any body */
		v.hdr.flags = (uint16_t)(a[3] | ((unsigned int)(a[2] & 1u) << 8));
		v.hdr.domid = grantee;
		v.__spacer[1] = (uint32_t)slot_ids[(a[2] >> 1) % NB_SLOTS] |
				(uint32_t)((a[2] >> 3) & 0xfu) << 24;
		v.__spacer[2] = a[2] % 24u;
		v.__spacer[3] = (a[2] & 0x80u) ? 1u : 0u;
		store_v2(e, &v);
		m_guest_raw_v2(mi, ref, &v);
		break;
	}
}

static void
guest_action(uint8_t sel, uint8_t k, const uint8_t a[4])
{
	unsigned int si = sel % NB_SLOTS;
	gntdp_domid_t d = slot_ids[si];
	int mi = m_dom_by_id(d);
	uint32_t ref = a[0] % 24u + (a[0] >= 0xc0u ? GNTDP_GRANT_ENTRIES_PER_FRAME_V1 : 0u);
	gntdp_domid_t grantee =
		(a[1] & 0x80u) ? (gntdp_domid_t)(a[1] & 0x7fu) : slot_ids[a[1] % NB_SLOTS];
	uint32_t frame = a[2] < 0xf0u ? a[2] : 0xfffff000u + a[2];
	struct gntdp_grant_entry_v1 *e;
	uint32_t got = 0, mgot = 0;
	int rc;

	if (trace)
		fprintf(stderr, "guest dom %u action %u args %u %u %u %u\n", d, k, a[0], a[1], a[2],
			a[3]);
	if (k == 9) {
		gntdp_gnttab_ctx_expire(fz.pctx, a[0] == 0xff ? UINT64_MAX : fz.now - a[0] % 4);
		gntdp_gnttab_ctx_quiescent(fz.pctx);
		if (a[0] == 0xff)
			drain_pctx();
		return;
	}
	if (fz.pctx_dirty)
		drain_pctx();
	switch (k) {
	case 7:
		destroy_domain(si);
		return;
	case 8:
		unmap_all();
		return;
	case 10:
		recreate(si, a);
		return;
	case 11:
		if (mi >= 0)
			guest_write(mi, a[0] % M_MAX_GFNS, a[1] * 16u,
				    ((a[2] + 1u) * 16u < 4096u - a[1] * 16u) ? (a[2] + 1u) * 16u
									 : 4096u - a[1] * 16u,
				    a[3]);
		return;
	default:
		break;
	}
	if (mi >= 0 && M.dom[mi].version == 2) {
		guest_action_v2(mi, k, a[0] % 24u + (a[0] >= 0xc0u ? GNTDP_GRANT_ENTRIES_PER_FRAME_V2 : 0u),
				grantee, a);
		return;
	}
	if (mi < 0 || (e = entry(d, ref)) == NULL)
		return;
	switch (k) {
	case 0:
		rc = gntdp_guest_grant_access(e, grantee, frame, a[3] & 1);
		CHECK(rc == m_guest_grant(mi, ref,
					  (uint16_t)(GNTDP_GTF_PERMIT_ACCESS |
						     ((a[3] & 1) ? GNTDP_GTF_READONLY : 0)),
					  grantee, frame),
		      "grant_access %u/%u: %d", d, ref, rc);
		break;
	case 1:
		rc = gntdp_guest_end_access(e);
		CHECK(rc == m_guest_end_access(mi, ref), "end_access %u/%u: %d", d, ref, rc);
		break;
	case 2:
		rc = gntdp_guest_set_readonly(e);
		CHECK(rc == m_guest_set_readonly(mi, ref), "set_readonly %u/%u: %d", d, ref, rc);
		break;
	case 3:
		gntdp_guest_set_writable(e);
		m_guest_set_writable(mi, ref);
		break;
	case 4:
		rc = gntdp_guest_grant_transfer(e, grantee, frame);
		CHECK(rc == m_guest_grant(mi, ref, GNTDP_GTF_ACCEPT_TRANSFER, grantee, frame),
		      "grant_transfer %u/%u: %d", d, ref, rc);
		break;
	case 5: {
		uint16_t fl = M.dom[mi].ent[ref].flags;

		/* A committed transfer that never completes would make it spin forever. */
		if ((fl & GNTDP_GTF_TYPE_MASK) == GNTDP_GTF_ACCEPT_TRANSFER &&
		    (fl & GNTDP_GTF_TRANSFER_COMMITTED) && !(fl & GNTDP_GTF_TRANSFER_COMPLETED))
			break;
		rc = gntdp_guest_end_transfer(e, &got);
		CHECK(rc == m_guest_end_transfer(mi, ref, &mgot) && got == mgot,
		      "end_transfer %u/%u: %d frame %u, model frame %u", d, ref, rc, got, mgot);
		break;
	}
	default:
		raw_entry(mi, ref, (uint16_t)(a[3] | ((unsigned int)(a[2] & 1u) << 8)), grantee,
			  frame);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	if (trace < 0)
		trace = getenv("GNTDP_FUZZ_TRACE") != NULL;
	world_build();
	check_world();
	while (end - p >= 3) {
		uint8_t sel = p[0], cmdb = p[1], cntb = p[2];

		p += 3;
		if (cmdb >= 0xf0u) {
			/* The third byte is the first argument. */
			uint8_t a[4] = {cntb, 0, 0, 0};
			size_t take = (size_t)(end - p) < 3 ? (size_t)(end - p) : 3;

			memcpy(a + 1, p, take);
			p += take;
			guest_action(sel, (uint8_t)(cmdb - 0xf0u), a);
		} else {
			do_call(sel, cmdb, cntb, &p, end);
		}
		check_world();
	}
	unmap_all();
	check_world();
	for (unsigned int i = 0; i < M.nb_dom; i++) {
		struct gntdp_domain_info info;

		if (!M.dom[i].alive)
			continue;
		CHECK(gntdp_domain_info(fz.gt, M.dom[i].id, &info) == 0, "info");
		CHECK(info.pinned_entries == 0 && info.live_mappings == 0 &&
			      m_pinned_entries((int)i) == 0,
		      "dom %u after unmapping everything: pinned %u live %u", M.dom[i].id,
		      info.pinned_entries, info.live_mappings);
	}
	world_destroy();
	return 0;
}
