/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the batch entry point gntdp_gnttab_op() and the
 * guest-side entry helpers, driven by arbitrary bytes.
 *
 * Each input builds a fresh world (three domains: 0 privileged, 1 and 2
 * unprivileged, with a fixed set of grants of every kind), then interprets
 * the input as a sequence of records:
 *
 *   hypercall:    [sel] [cmd] [cnt] [cnt x sizeof(op struct) raw bytes]
 *   guest action: [sel] [0xf0 + k] [a] [b] [c] [d]
 *
 * sel bits 0-2 pick the caller (0, 1, 2, a domid nobody uses, DOMID_SELF),
 * bit 6 picks the persistent-cache context instead of the Xen-exact one,
 * bit 7 passes ops = NULL. cmd values 0-15 are commands, bit 6 adds a high
 * bit (1 << 12). cnt & 0x3f is the count, 0xff means 0x80000000. Missing op
 * bytes at the end of the input are zero.
 *
 * Invariants (abort() on violation, so libFuzzer and the replay test fail):
 *  - the call returns 0, -EINVAL, -ENOSYS, -ESRCH or -EFAULT; on an error
 *    nothing in the op array changed;
 *  - on 0 every op's status was written and is in the set spec §14 allows
 *    for its command; a few exact results the spec pins (map without
 *    host/device flag -> bad_gntref, copy len 0 -> okay, frame-mode copy side
 *    with a foreign domid -> permission_denied, unmap of a handle that is not
 *    live -> bad_handle, unmap with a wrong dev_bus_addr -> bad_dev_addr, a
 *    crossing copy never succeeds, failed maps leave handle/dev_bus_addr);
 *  - a successful map returns a handle unique among the caller's live
 *    handles, and a host map makes the caller's gfn show the frame;
 *  - after every call (Xen-exact cache, or persistent cache drained) no
 *    entry keeps GTF_reading/GTF_writing without a live mapping on it, each
 *    domain's pinned_entries equals the refs with live mappings and its
 *    live_mappings equals the harness's count;
 *  - at the end every mapping unmaps with okay and nothing stays pinned;
 *  - the address sanitizer sees no access outside the allocations.
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

#define NB_DOMS 3u
#define NB_CALLERS 5u
#define DOM_NONE ((gntdp_domid_t)9)
#define MAX_COUNT 63u
#define HUGE_COUNT 0x80000000u
#define FRAME_LIST_MAX 64u
#define MAX_RECORDS 1024u /* live mappings the model tracks (3 x 256 handles at most) */
#define ST_SENTINEL ((int16_t)0x7fff)
#define RW_FLAGS (GNTDP_GTF_READING | GNTDP_GTF_WRITING)

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

static const gntdp_domid_t dom_ids[NB_DOMS] = {0, 1, 2};
static const gntdp_domid_t callers[NB_CALLERS] = {0, 1, 2, DOM_NONE, GNTDP_DOMID_SELF};

/* One mapping the harness believes is live. */
struct rec {
	gntdp_domid_t caller;
	gntdp_domid_t granter;
	uint32_t ref;
	uint32_t handle;
	uint32_t flags; /* GNTMAP_* of the map request */
	uint32_t parts; /* GNTMAP_HOST_MAP / GNTMAP_DEVICE_MAP still mapped */
	uint64_t host_addr;
	uint64_t dev;
};

struct fz {
	struct gntdp_gnttab *gt;
	struct gntdp_gnttab_ctx *ctx;  /* Xen-exact cache */
	struct gntdp_gnttab_ctx *pctx; /* persistent cache */
	bool alive[NB_DOMS];
	bool pctx_dirty; /* pctx may hold cached pins */
	uint64_t now;
	struct rec recs[MAX_RECORDS];
	unsigned int nb_recs;
	gntdp_xen_pfn_t frame_list[FRAME_LIST_MAX];
};

static struct fz fz;

/* GNTDP_FUZZ_TRACE=1 prints every record and its results (for triaging a crash file). */
static int trace = -1;

/* ---- Allowed statuses per command (spec §14) ----------------------------- */

static bool
status_allowed(unsigned int cmd, int16_t st)
{
	switch (cmd) {
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		return st == GNTDP_GNTST_OKAY || st == GNTDP_GNTST_GENERAL_ERROR ||
		       st == GNTDP_GNTST_BAD_DOMAIN || st == GNTDP_GNTST_BAD_GNTREF ||
		       st == GNTDP_GNTST_PERMISSION_DENIED || st == GNTDP_GNTST_NO_SPACE ||
		       st == GNTDP_GNTST_BAD_PAGE || st == GNTDP_GNTST_EAGAIN;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		return st == GNTDP_GNTST_OKAY || st == GNTDP_GNTST_BAD_HANDLE ||
		       st == GNTDP_GNTST_PERMISSION_DENIED || st == GNTDP_GNTST_BAD_DEV_ADDR ||
		       st == GNTDP_GNTST_GENERAL_ERROR;
	case GNTDP_GNTTABOP_SETUP_TABLE:
		return st == GNTDP_GNTST_OKAY || st == GNTDP_GNTST_BAD_DOMAIN ||
		       st == GNTDP_GNTST_PERMISSION_DENIED || st == GNTDP_GNTST_GENERAL_ERROR ||
		       st == GNTDP_GNTST_BAD_VIRT_ADDR;
	case GNTDP_GNTTABOP_DUMP_TABLE:
	case GNTDP_GNTTABOP_QUERY_SIZE:
		return st == GNTDP_GNTST_OKAY || st == GNTDP_GNTST_BAD_DOMAIN ||
		       st == GNTDP_GNTST_PERMISSION_DENIED;
	case GNTDP_GNTTABOP_TRANSFER:
		return st == GNTDP_GNTST_OKAY || st == GNTDP_GNTST_BAD_PAGE ||
		       st == GNTDP_GNTST_GENERAL_ERROR || st == GNTDP_GNTST_BAD_DOMAIN ||
		       st == GNTDP_GNTST_PERMISSION_DENIED || st == GNTDP_GNTST_ADDRESS_TOO_BIG;
	case GNTDP_GNTTABOP_COPY:
		return st == GNTDP_GNTST_OKAY || st == GNTDP_GNTST_PERMISSION_DENIED ||
		       st == GNTDP_GNTST_BAD_DOMAIN || st == GNTDP_GNTST_BAD_GNTREF ||
		       st == GNTDP_GNTST_GENERAL_ERROR || st == GNTDP_GNTST_BAD_PAGE ||
		       st == GNTDP_GNTST_EAGAIN || st == GNTDP_GNTST_BAD_COPY_ARG;
	default:
		return false;
	}
}

/* The struct size, or 16 for commands gntdp does not execute (never read). */
static size_t
op_size(unsigned int cmd)
{
	size_t n = gntdp_gnttab_op_size(cmd);

	return n != 0 ? n : 16;
}

/* Where each command keeps its status, or -1. */
static long
status_offset(unsigned int cmd)
{
	switch (cmd) {
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		return (long)offsetof(struct gntdp_gnttab_map_grant_ref, status);
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		return (long)offsetof(struct gntdp_gnttab_unmap_grant_ref, status);
	case GNTDP_GNTTABOP_SETUP_TABLE:
		return (long)offsetof(struct gntdp_gnttab_setup_table, status);
	case GNTDP_GNTTABOP_DUMP_TABLE:
		return (long)offsetof(struct gntdp_gnttab_dump_table, status);
	case GNTDP_GNTTABOP_TRANSFER:
		return (long)offsetof(struct gntdp_gnttab_transfer, status);
	case GNTDP_GNTTABOP_COPY:
		return (long)offsetof(struct gntdp_gnttab_copy, status);
	case GNTDP_GNTTABOP_QUERY_SIZE:
		return (long)offsetof(struct gntdp_gnttab_query_size, status);
	default:
		return -1;
	}
}

/* ---- World ---------------------------------------------------------------- */

static int
dom_index(gntdp_domid_t d)
{
	for (unsigned int i = 0; i < NB_DOMS; i++)
		if (dom_ids[i] == d)
			return (int)i;
	return -1;
}

static bool
dom_alive(gntdp_domid_t d)
{
	int i = dom_index(d);

	return i >= 0 && fz.alive[i];
}

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

/* A raw entry write: a hostile guest may store anything except the bits gntdp owns. */
static void
raw_entry(gntdp_domid_t d, uint32_t ref, uint16_t flags, gntdp_domid_t grantee, uint32_t frame)
{
	struct gntdp_grant_entry_v1 *e = entry(d, ref);
	uint16_t old, nf;

	if (e == NULL)
		return;
	__atomic_store_n(&e->frame, frame, __ATOMIC_RELAXED);
	__atomic_store_n(&e->domid, grantee, __ATOMIC_RELAXED);
	old = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
	do {
		unsigned int t = old & GNTDP_GTF_TYPE_MASK;

		/*
		 * Keep reading/writing as gntdp set them on permit/transitive
		 * entries (a guest cannot legally clear them); elsewhere the
		 * same bits mean transfer committed/completed and start clear.
		 */
		nf = (uint16_t)(flags & ~RW_FLAGS);
		if (t == GNTDP_GTF_PERMIT_ACCESS || t == GNTDP_GTF_TRANSITIVE)
			nf = (uint16_t)(nf | (old & RW_FLAGS));
	} while (!__atomic_compare_exchange_n(&e->flags, &old, nf, false, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

static void
grant(gntdp_domid_t d, uint32_t ref, gntdp_domid_t grantee, uint32_t gfn, bool ro)
{
	struct gntdp_grant_entry_v1 *e = entry(d, ref);

	CHECK(e != NULL, "entry %u of %u", ref, d);
	CHECK(gntdp_guest_grant_access(e, grantee, gfn, ro) == 0, "grant %u/%u", d, ref);
}

static void
world_build(void)
{
	static const struct {
		gntdp_domid_t id;
		bool priv;
		uint32_t nr_frames, p2m, grant_frames, maptrack;
	} dc[NB_DOMS] = {
		{0, true, 16, 64, 4, 1},
		{1, false, 16, 64, 2, 1},
		{2, false, 8, 48, 1, 1},
	};
	struct gntdp_gnttab_conf conf;

	memset(&fz, 0, sizeof(fz));
	gntdp_gnttab_conf_init(&conf);
	conf.log = quiet_log;
	conf.max_ctx = 4;
	CHECK(gntdp_gnttab_create(&conf, &fz.gt) == 0, "create");
	for (unsigned int i = 0; i < NB_DOMS; i++) {
		struct gntdp_domain_conf c;

		gntdp_domain_conf_init(&c);
		c.domid = dc[i].id;
		c.privileged = dc[i].priv;
		c.nr_frames = dc[i].nr_frames;
		c.p2m_size = dc[i].p2m;
		c.max_grant_frames = dc[i].grant_frames;
		c.max_maptrack_frames = dc[i].maptrack;
		CHECK(gntdp_domain_create(fz.gt, &c) == 0, "domain %u", c.domid);
		fz.alive[i] = true;
		/* Recognisable contents so copies move real data. */
		for (uint32_t g = 0; g < dc[i].nr_frames; g++)
			memset(gntdp_domain_frame(fz.gt, c.domid, g), (int)(c.domid * 16 + g),
			       GNTDP_PAGE_SIZE);
	}
	CHECK(gntdp_gnttab_ctx_create(fz.gt, NULL, &fz.ctx) == 0, "ctx");
	{
		struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 4};

		CHECK(gntdp_gnttab_ctx_create(fz.gt, &cc, &fz.pctx) == 0, "pctx");
	}
	/* Domain 1: one grant of every kind. */
	grant(1, 8, 2, 1, false);
	grant(1, 9, 2, 2, true);
	CHECK(gntdp_guest_grant_transfer(entry(1, 10), 2, 20) == 0, "transfer grant");
	/* ref 11 stays invalid */
	raw_entry(1, 12, GNTDP_GTF_PERMIT_ACCESS | GNTDP_GTF_SUB_PAGE, 2, 3);
	grant(1, 13, 1, 4, false); /* self-grant */
	grant(1, 14, 0, 5, false);
	grant(1, 15, 0, 6, true);
	grant(1, 16, 2, 1000, false);                 /* gfn outside the physmap */
	grant(1, 17, 2, 1, false);                    /* second grant of gfn 1 */
	raw_entry(1, 18, GNTDP_GTF_TRANSITIVE, 2, 7); /* v1 has no transitive grants */
	grant(1, 19, 2, 40, false);                   /* inside the physmap, above RAM: empty */
	/* Domain 2. */
	grant(2, 8, 1, 1, false);
	grant(2, 9, 1, 2, true);
	CHECK(gntdp_guest_grant_transfer(entry(2, 10), 1, 20) == 0, "transfer grant");
	grant(2, 11, 0, 3, false);
	grant(2, 12, 2, 4, false); /* self-grant */
	/* Domain 0 (privileged). */
	grant(0, 8, 1, 1, false);
	grant(0, 9, 2, 2, false);
	grant(0, 10, 0, 3, false); /* self-grant */
	CHECK(gntdp_guest_grant_transfer(entry(0, 11), 1, 30) == 0, "transfer grant");
}

static void
world_destroy(void)
{
	gntdp_gnttab_ctx_destroy(fz.ctx);
	gntdp_gnttab_ctx_destroy(fz.pctx);
	gntdp_gnttab_destroy(fz.gt);
	fz.gt = NULL;
}

/* ---- Mapping model -------------------------------------------------------- */

static struct rec *
rec_find(gntdp_domid_t caller, uint32_t handle)
{
	for (unsigned int i = 0; i < fz.nb_recs; i++)
		if (fz.recs[i].caller == caller && fz.recs[i].handle == handle)
			return &fz.recs[i];
	return NULL;
}

static void
rec_drop(struct rec *r)
{
	*r = fz.recs[--fz.nb_recs];
}

static void
drain_pctx(void)
{
	gntdp_gnttab_ctx_expire(fz.pctx, UINT64_MAX);
	gntdp_gnttab_ctx_quiescent(fz.pctx);
	fz.pctx_dirty = false;
}

#define MAX_ENTRIES (4u * GNTDP_GRANT_ENTRIES_PER_FRAME_V1) /* largest max_grant_frames */

/* The whole-world invariants that hold between calls. */
static void
check_world(void)
{
	/* Per granter and ref: 1 = mapped, 2 = mapped writable. */
	static uint8_t mapped[NB_DOMS][MAX_ENTRIES];
	uint32_t live[NB_DOMS] = {0}, pinned[NB_DOMS] = {0};

	memset(mapped, 0, sizeof(mapped));
	for (unsigned int i = 0; i < fz.nb_recs; i++) {
		const struct rec *r = &fz.recs[i];
		int gi = dom_index(r->granter), ci = dom_index(r->caller);

		CHECK(gi >= 0 && ci >= 0 && r->ref < MAX_ENTRIES, "record");
		live[ci]++;
		if (mapped[gi][r->ref] == 0)
			pinned[gi]++;
		mapped[gi][r->ref] |=
			(uint8_t)(1u | ((r->flags & GNTDP_GNTMAP_READONLY) ? 0u : 2u));
	}
	for (unsigned int di = 0; di < NB_DOMS; di++) {
		gntdp_domid_t d = dom_ids[di];
		struct gntdp_domain_info info;
		struct gntdp_grant_entry_v1 *e;
		uint32_t nr;

		if (!fz.alive[di])
			continue;
		CHECK(gntdp_domain_info(fz.gt, d, &info) == 0, "info %u", d);
		CHECK(info.live_mappings == live[di], "dom %u: live_mappings %u, harness counts %u",
		      d, info.live_mappings, live[di]);
		CHECK(info.maptrack_limit <= info.max_maptrack_handles, "dom %u maptrack %u > %u",
		      d, info.maptrack_limit, info.max_maptrack_handles);
		CHECK(gntdp_guest_table(fz.gt, d, &e, &nr) == 0, "table %u", d);
		CHECK(nr == info.nr_grant_frames * GNTDP_GRANT_ENTRIES_PER_FRAME_V1 &&
			      nr <= MAX_ENTRIES,
		      "dom %u: %u entries for %u frames", d, nr, info.nr_grant_frames);
		if (fz.pctx_dirty)
			continue; /* cached copy pins may legitimately hold flags */
		CHECK(info.pinned_entries == pinned[di],
		      "dom %u: pinned_entries %u, mapped refs %u", d, info.pinned_entries,
		      pinned[di]);
		for (uint32_t ref = 0; ref < nr; ref++) {
			uint16_t fl = __atomic_load_n(&e[ref].flags, __ATOMIC_ACQUIRE);
			unsigned int t = fl & GNTDP_GTF_TYPE_MASK;

			if (t != GNTDP_GTF_PERMIT_ACCESS && t != GNTDP_GTF_TRANSITIVE)
				continue;
			CHECK(!(fl & RW_FLAGS) || mapped[di][ref] != 0,
			      "dom %u ref %u: flags %#x but nothing maps it (copy pin leaked?)", d,
			      ref, fl);
			CHECK(!(fl & GNTDP_GTF_WRITING) || (mapped[di][ref] & 2u),
			      "dom %u ref %u: flags %#x but no writable mapping", d, ref, fl);
		}
	}
}

/* ---- Per-command result checks ---------------------------------------------- */

static void
after_map(gntdp_domid_t caller, const struct gntdp_gnttab_map_grant_ref *in,
	  const struct gntdp_gnttab_map_grant_ref *out)
{
	struct rec *r;

	if (!(in->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP)))
		CHECK(out->status == GNTDP_GNTST_BAD_GNTREF, "map flags %#x: %d", in->flags,
		      out->status);
	else if (in->dom == GNTDP_DOMID_SELF)
		CHECK(out->status != GNTDP_GNTST_OKAY, "map with dom DOMID_SELF succeeded");
	if (out->status != GNTDP_GNTST_OKAY) {
		/* Xen assigns handle and dev_bus_addr only on success (spec §5.1). */
		CHECK(out->handle == in->handle && out->dev_bus_addr == in->dev_bus_addr,
		      "failed map (%d) rewrote handle %#x->%#x or dev %#" PRIx64 "->%#" PRIx64,
		      out->status, in->handle, out->handle, in->dev_bus_addr, out->dev_bus_addr);
		return;
	}
	CHECK(dom_alive(in->dom) && dom_alive(caller), "map okay on a dead domain");
	CHECK(rec_find(caller, out->handle) == NULL, "map returned handle %u, live already in %u",
	      out->handle, caller);
	CHECK(fz.nb_recs < MAX_RECORDS, "too many live mappings");
	CHECK(out->dev_bus_addr != 0 && (out->dev_bus_addr & (GNTDP_PAGE_SIZE - 1)) == 0,
	      "dev_bus_addr %#" PRIx64, out->dev_bus_addr);
	if (in->flags & GNTDP_GNTMAP_HOST_MAP)
		CHECK((uint64_t)(uintptr_t)gntdp_domain_frame(fz.gt, caller,
							      in->host_addr >> GNTDP_PAGE_SHIFT) ==
			      out->dev_bus_addr,
		      "host map at gfn %#" PRIx64 " does not show the granted frame",
		      in->host_addr >> GNTDP_PAGE_SHIFT);
	r = &fz.recs[fz.nb_recs++];
	r->caller = caller;
	r->granter = in->dom;
	r->ref = in->ref;
	r->handle = out->handle;
	r->flags = in->flags;
	r->parts = in->flags & (GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP);
	r->host_addr = in->host_addr;
	r->dev = out->dev_bus_addr;
}

static void
after_unmap(gntdp_domid_t caller, const struct gntdp_gnttab_unmap_grant_ref *op)
{
	struct rec *r = rec_find(caller, op->handle);
	uint32_t gone = 0;

	if (r == NULL) {
		CHECK(op->status == GNTDP_GNTST_BAD_HANDLE,
		      "unmap of handle %u (not live) by %u: %d", op->handle, caller, op->status);
		return;
	}
	/* XSA-224: the full 64-bit dev_bus_addr is compared, before anything is removed. */
	if (op->dev_bus_addr != 0 && (r->parts & GNTDP_GNTMAP_DEVICE_MAP) &&
	    op->dev_bus_addr != r->dev)
		CHECK(op->status == GNTDP_GNTST_BAD_DEV_ADDR,
		      "unmap dev %#" PRIx64 " of %#" PRIx64 ": %d", op->dev_bus_addr, r->dev,
		      op->status);
	if (op->status != GNTDP_GNTST_OKAY)
		return; /* the mapping and the handle stay intact */
	if (op->host_addr != 0 && (r->parts & GNTDP_GNTMAP_HOST_MAP)) {
		uint64_t gfn = op->host_addr >> GNTDP_PAGE_SHIFT;

		gone |= GNTDP_GNTMAP_HOST_MAP;
		CHECK(gntdp_domain_frame(fz.gt, caller, gfn) == NULL,
		      "gfn %#" PRIx64 " still mapped after a host unmap", gfn);
		/*
		 * Spec §6.1 step 8 (translated caller): the slot named by
		 * host_addr only has to hold a grant mapping of the same frame.
		 * If it belonged to another handle, that handle now owns the
		 * slot this one leaves behind.
		 */
		if (gfn != r->host_addr >> GNTDP_PAGE_SHIFT) {
			struct rec *o = NULL;

			for (unsigned int i = 0; i < fz.nb_recs && o == NULL; i++)
				if (fz.recs[i].caller == caller && &fz.recs[i] != r &&
				    (fz.recs[i].parts & GNTDP_GNTMAP_HOST_MAP) &&
				    fz.recs[i].host_addr >> GNTDP_PAGE_SHIFT == gfn)
					o = &fz.recs[i];
			CHECK(o != NULL && o->dev == r->dev &&
				      (o->flags & GNTDP_GNTMAP_READONLY) ==
					      (r->flags & GNTDP_GNTMAP_READONLY),
			      "unmap of handle %u removed gfn %#" PRIx64 ", which held no mapping "
			      "of the same frame and type",
			      op->handle, gfn);
			o->host_addr = r->host_addr;
		}
	}
	if (op->dev_bus_addr != 0 && (r->parts & GNTDP_GNTMAP_DEVICE_MAP))
		gone |= GNTDP_GNTMAP_DEVICE_MAP;
	r->parts &= ~gone;
	if (r->parts == 0)
		rec_drop(r);
}

static void
after_copy(const struct gntdp_gnttab_copy *op)
{
	bool src_frame = !(op->flags & GNTDP_GNTCOPY_SOURCE_GREF);
	bool dst_frame = !(op->flags & GNTDP_GNTCOPY_DEST_GREF);

	if (op->len == 0) {
		CHECK(op->status == GNTDP_GNTST_OKAY, "zero-length copy: %d", op->status);
		return;
	}
	/* The frame-mode rule holds for every op, cache or not (spec §8.3). */
	if (src_frame && op->source.domid != GNTDP_DOMID_SELF)
		CHECK(op->status == GNTDP_GNTST_PERMISSION_DENIED,
		      "frame-mode source with domid %u: %d", op->source.domid, op->status);
	if (dst_frame && op->dest.domid != GNTDP_DOMID_SELF)
		/* Only the source side's domain step (1a, 1b) comes before step 1c. */
		CHECK(op->status == GNTDP_GNTST_PERMISSION_DENIED ||
			      op->status == GNTDP_GNTST_BAD_DOMAIN,
		      "frame-mode dest with domid %u: %d", op->dest.domid, op->status);
	if ((uint32_t)op->source.offset + op->len > GNTDP_PAGE_SIZE ||
	    (uint32_t)op->dest.offset + op->len > GNTDP_PAGE_SIZE)
		CHECK(op->status != GNTDP_GNTST_OKAY, "page-crossing copy succeeded");
}

/* ---- Hypercall records -------------------------------------------------------- */

/* One line per map, unmap or transfer op (GNTDP_FUZZ_TRACE). */
static void
trace_op(unsigned int base, const uint8_t *op)
{
	if (base == GNTDP_GNTTABOP_MAP_GRANT_REF) {
		const struct gntdp_gnttab_map_grant_ref *m = (const void *)op;

		fprintf(stderr, "  map dom %u ref %u flags %#x host %#" PRIx64 ": %d handle %u\n",
			m->dom, m->ref, m->flags, m->host_addr, m->status, m->handle);
	} else if (base == GNTDP_GNTTABOP_UNMAP_GRANT_REF) {
		const struct gntdp_gnttab_unmap_grant_ref *u = (const void *)op;

		fprintf(stderr, "  unmap handle %u host %#" PRIx64 " dev %#" PRIx64 ": %d\n",
			u->handle, u->host_addr, u->dev_bus_addr, u->status);
	} else if (base == GNTDP_GNTTABOP_TRANSFER) {
		const struct gntdp_gnttab_transfer *t = (const void *)op;

		fprintf(stderr, "  transfer gfn %#" PRIx64 " to %u ref %u: %d\n", t->mfn, t->domid,
			t->ref, t->status);
	}
}

static bool
cmd_high_bits(unsigned int cmd)
{
	return (cmd >> 12) != 0;
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
	unsigned int n = count == HUGE_COUNT ? 1 : count; /* structs actually provided */
	size_t sz = op_size(base);
	size_t bytes = sz * n;
	long soff = status_offset(base);
	struct gntdp_gnttab_ctx *ctx = persistent ? fz.pctx : fz.ctx;
	uint8_t *ops, *in;
	size_t avail = (size_t)(end - *p);
	int rc;

	/* Exact-size heap buffers: the address sanitizer sees any access past op n-1. */
	ops = malloc(bytes ? bytes : 1);
	in = malloc(bytes ? bytes : 1);
	CHECK(ops != NULL && in != NULL, "oom");
	memset(ops, 0, bytes);
	memcpy(ops, *p, avail < bytes ? avail : bytes);
	*p += avail < bytes ? avail : bytes;
	for (unsigned int k = 0; k < n; k++) {
		uint8_t *op = ops + k * sz;

		if (soff >= 0) {
			int16_t s = ST_SENTINEL;

			memcpy(op + soff, &s, sizeof(s)); /* output only: detect "never written" */
		}
		if (base == GNTDP_GNTTABOP_SETUP_TABLE) {
			struct gntdp_gnttab_setup_table *st = (void *)op;

			/* The API requires a valid frame list for nr_frames entries. */
			st->nr_frames %= FRAME_LIST_MAX + 1;
			st->frame_list = st->nr_frames ? fz.frame_list : NULL;
		}
	}
	memcpy(in, ops, bytes);
	if (persistent) {
		gntdp_gnttab_ctx_set_now(ctx, ++fz.now);
		fz.pctx_dirty = true;
	}
	rc = gntdp_gnttab_op(ctx, caller, cmd, null_ops ? NULL : ops, count);
	if (trace) {
		fprintf(stderr, "call caller %u cmd %#x count %u%s%s: rc %d", caller, cmd, count,
			persistent ? " persistent" : "", null_ops ? " ops=NULL" : "", rc);
		for (unsigned int k = 0; rc == 0 && soff >= 0 && k < count; k++) {
			const uint8_t *op = ops + k * sz;
			int16_t st;

			memcpy(&st, op + soff, sizeof(st));
			fprintf(stderr, " %d", st);
		}
		fputc('\n', stderr);
		for (unsigned int k = 0; rc == 0 && k < count; k++)
			trace_op(base, ops + k * sz);
	}
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSYS || rc == -ESRCH || rc == -EFAULT,
	      "cmd %#x count %u caller %u: rc %d", cmd, count, caller, rc);
	if (count > INT_MAX || cmd_high_bits(cmd) || base > GNTDP_GNTTABOP_QUERY_SIZE ||
	    (null_ops && count > 0))
		CHECK(rc != 0, "cmd %#x count %u null %d: rc 0", cmd, count, null_ops);
	if (!dom_alive(caller) && count > 0)
		CHECK(rc != 0, "caller %u is not a live domain: rc 0", caller);
	if ((base == GNTDP_GNTTABOP_SETUP_TABLE || base == GNTDP_GNTTABOP_QUERY_SIZE ||
	     base == GNTDP_GNTTABOP_DUMP_TABLE) &&
	    count != 1)
		CHECK(rc != 0, "cmd %u with count %u: rc 0", base, count);
	if (rc != 0) {
		CHECK(memcmp(in, ops, bytes) == 0, "cmd %#x: rc %d but the ops changed", cmd, rc);
		goto out;
	}
	for (unsigned int k = 0; k < count; k++) {
		uint8_t *op = ops + k * sz;
		int16_t st;

		CHECK(soff >= 0, "cmd %u executed", base);
		memcpy(&st, op + soff, sizeof(st));
		CHECK(status_allowed(base, st), "cmd %u op %u/%u caller %u: status %d (%s)", base,
		      k, count, caller, st, gntdp_gntst_name(st));
		switch (base) {
		case GNTDP_GNTTABOP_MAP_GRANT_REF:
			after_map(caller, (const void *)(in + k * sz), (const void *)op);
			break;
		case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
			after_unmap(caller, (const void *)op);
			break;
		case GNTDP_GNTTABOP_COPY:
			after_copy((const void *)op);
			break;
		default:
			break;
		}
	}
out:
	free(ops);
	free(in);
}

/* ---- Guest-action records ---------------------------------------------------- */

static void
destroy_domain(unsigned int di)
{
	gntdp_domid_t d = dom_ids[di];

	if (!fz.alive[di])
		return;
	/* Cached pins belong to a context outside any batch: let them go first. */
	drain_pctx();
	CHECK(gntdp_domain_destroy(fz.gt, d) == 0, "destroy %u", d);
	fz.alive[di] = false;
	/* Its own mappings are released; mappings of its grants by others live on. */
	for (unsigned int i = 0; i < fz.nb_recs;)
		if (fz.recs[i].caller == d)
			rec_drop(&fz.recs[i]);
		else
			i++;
	CHECK(gntdp_domain_info(fz.gt, d, &(struct gntdp_domain_info){0}) == -ESRCH,
	      "destroyed domain %u still answers", d);
}

static void
unmap_all(void)
{
	drain_pctx();
	while (fz.nb_recs > 0) {
		struct rec r = fz.recs[fz.nb_recs - 1];
		struct gntdp_gnttab_unmap_grant_ref u;

		memset(&u, 0, sizeof(u));
		u.handle = r.handle;
		u.host_addr = (r.parts & GNTDP_GNTMAP_HOST_MAP) ? r.host_addr : 0;
		u.dev_bus_addr = (r.parts & GNTDP_GNTMAP_DEVICE_MAP) ? r.dev : 0;
		/* A host map at gfn 0 cannot be named by host_addr 0: unmap it with its low bits.
		 */
		if ((r.parts & GNTDP_GNTMAP_HOST_MAP) && u.host_addr == 0)
			u.host_addr = 1;
		CHECK(gntdp_gnttab_op(fz.ctx, r.caller, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) == 0,
		      "final unmap rc");
		CHECK(u.status == GNTDP_GNTST_OKAY,
		      "final unmap of handle %u (caller %u, granter %u ref %u, parts %#x, "
		      "host %#" PRIx64 "): %d",
		      r.handle, r.caller, r.granter, r.ref, r.parts, r.host_addr, u.status);
		fz.nb_recs--;
	}
}

static void
guest_action(uint8_t sel, uint8_t k, const uint8_t a[4])
{
	unsigned int di = sel % NB_DOMS;
	gntdp_domid_t d = dom_ids[di];
	uint32_t ref = a[0] % 24u;
	gntdp_domid_t grantee =
		(a[1] & 0x80u) ? (gntdp_domid_t)(a[1] & 0x7fu) : dom_ids[a[1] % NB_DOMS];
	uint32_t frame = a[2] < 0xf0u ? a[2] : 0xfffff000u + a[2];
	struct gntdp_grant_entry_v1 *e;
	uint32_t got;
	int rc;

	if (trace)
		fprintf(stderr, "guest dom %u action %u args %u %u %u %u\n", d, k, a[0], a[1], a[2],
			a[3]);
	if (k == 7) {
		destroy_domain(di);
		return;
	}
	if (k == 8) {
		unmap_all();
		return;
	}
	if (k == 9) {
		gntdp_gnttab_ctx_expire(fz.pctx, a[0] == 0xff ? UINT64_MAX : fz.now - a[0] % 4);
		gntdp_gnttab_ctx_quiescent(fz.pctx);
		if (a[0] == 0xff)
			fz.pctx_dirty = false;
		return;
	}
	if (!fz.alive[di] || (e = entry(d, ref)) == NULL)
		return;
	switch (k) {
	case 0:
		rc = gntdp_guest_grant_access(e, grantee, frame, a[3] & 1);
		CHECK(rc == 0 || rc == -EBUSY, "grant_access %d", rc);
		break;
	case 1:
		rc = gntdp_guest_end_access(e);
		CHECK(rc == 0 || rc == -EBUSY, "end_access %d", rc);
		break;
	case 2:
		rc = gntdp_guest_set_readonly(e);
		CHECK(rc == 0 || rc == -EBUSY || rc == -EINVAL, "set_readonly %d", rc);
		break;
	case 3:
		gntdp_guest_set_writable(e);
		break;
	case 4:
		rc = gntdp_guest_grant_transfer(e, grantee, frame);
		CHECK(rc == 0 || rc == -EBUSY, "grant_transfer %d", rc);
		break;
	case 5: {
		uint16_t fl = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

		/* A committed transfer that never completes would make it spin forever. */
		if ((fl & GNTDP_GTF_TRANSFER_COMMITTED) && !(fl & GNTDP_GTF_TRANSFER_COMPLETED))
			break;
		rc = gntdp_guest_end_transfer(e, &got);
		CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL, "end_transfer %d", rc);
		break;
	}
	default:
		raw_entry(d, ref, (uint16_t)(a[3] | ((unsigned int)(a[2] & 1u) << 8)), grantee,
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
	for (unsigned int di = 0; di < NB_DOMS; di++) {
		struct gntdp_domain_info info;

		if (!fz.alive[di])
			continue;
		CHECK(gntdp_domain_info(fz.gt, dom_ids[di], &info) == 0, "info");
		CHECK(info.pinned_entries == 0 && info.live_mappings == 0,
		      "dom %u after unmapping everything: pinned %u live %u", dom_ids[di],
		      info.pinned_entries, info.live_mappings);
	}
	world_destroy();
	return 0;
}
