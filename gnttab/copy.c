/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_copy and the per-context grant cache.
 *
 * Xen keeps two copy buffers (source, dest) across the ops of one call and
 * reuses them when consecutive ops name the same ref or frame (spec 8.3).
 * The cache here generalises that: a small set-associative table of pinned
 * entries (CACHE_WAYS ways per set), one half for reads (hstr pins, frame holds) and one for writes
 * (hstw pins), so an op's source and destination never evict each other.
 * A cached entry holds exactly one pin of its kind, taken with every check
 * Xen makes on acquisition; a hit re-checks only what can change while a pin
 * is held (the granter dying). Xen-exact contexts drop every pin before the
 * call returns; persistent ones keep them until gntdp_gnttab_ctx_expire().
 * The DOMID_SELF/frame-mode rule and the domain lookups run on every op.
 */
#include <string.h>

#include "internal.h"

#define CACHE_FRAME (1ull << 63) /* key flag: a frame-mode hold, not a grant pin */

/*
 * Set of (granter, key) in the read or the write half: CACHE_WAYS
 * consecutive entries. The granter enters through its uid, not its address,
 * so the layout does not depend on where malloc put the domains;
 * consecutive refs of one granter take consecutive sets, and each granter
 * starts at a pseudo-random set. Sets are associative so that two granters
 * whose ranges overlap share the sets instead of evicting each other (a
 * direct-mapped table thrashed once two guests' offsets were closer than
 * their live refs: issue 11).
 */
static inline struct cache_entry *
cache_set(struct gntdp_gnttab_ctx *ctx, const struct domain *rd, uint64_t key, bool write)
{
	uint64_t h = key + ((rd->uid * 0x9E3779B97F4A7C15ull) >> 32);

	return &ctx->cache[(write ? ctx->cache_half : 0) + (h & ctx->set_mask) * ctx->cache_ways];
}

static inline uint32_t
cache_index(const struct gntdp_gnttab_ctx *ctx, const struct cache_entry *e)
{
	return (uint32_t)(e - ctx->cache) + 1;
}

static void
age_unlink(struct gntdp_gnttab_ctx *ctx, struct cache_entry *e)
{
	if (e->prev != 0)
		ctx->cache[e->prev - 1].next = e->next;
	else
		ctx->age_head = e->next;
	if (e->next != 0)
		ctx->cache[e->next - 1].prev = e->prev;
	else
		ctx->age_tail = e->prev;
}

/* Append at the tail: ctx->now never decreases, so the list stays ordered by taken. */
static void
age_append(struct gntdp_gnttab_ctx *ctx, struct cache_entry *e)
{
	uint32_t i = cache_index(ctx, e);

	e->prev = ctx->age_tail;
	e->next = 0;
	if (ctx->age_tail != 0)
		ctx->cache[ctx->age_tail - 1].next = i;
	else
		ctx->age_head = i;
	ctx->age_tail = i;
}

static void
cache_entry_release(struct gntdp_gnttab_ctx *ctx, struct cache_entry *e)
{
	if (ctx->last[0].e == e)
		ctx->last[0].tag = 0;
	if (ctx->last[1].e == e)
		ctx->last[1].tag = 0;
	if (e->key & CACHE_FRAME)
		page_put(e->page);
	else
		unpin(e->rd, (gntdp_grant_ref_t)e->key, e->write ? PIN_HSTW_INC : PIN_HSTR_INC);
	age_unlink(ctx, e);
	e->rd = NULL;
	STAT_ADD(ctx, cache_releases, 1);
}

void
cache_release_all(struct gntdp_gnttab_ctx *ctx)
{
	gntdp_gnttab_ctx_expire(ctx, UINT64_MAX);
}

unsigned int
gntdp_gnttab_ctx_expire(struct gntdp_gnttab_ctx *ctx, uint64_t older_than)
{
	unsigned int n = 0;

	/* Oldest first: stop at the first pin young enough to keep. */
	while (ctx->age_head != 0) {
		struct cache_entry *e = &ctx->cache[ctx->age_head - 1];

		if (older_than != UINT64_MAX && e->taken >= older_than)
			break;
		cache_entry_release(ctx, e);
		n++;
	}
	return n;
}

/* Frame mode: a gfn of the caller's own RAM (2h). */
static int16_t
acquire_frame(struct domain *ld, uint64_t gfn, struct page **pg)
{
	struct page *p = p2m_ram_page(ld, gfn);

	if (unlikely(p == NULL || !page_get(p, ld)))
		return GNTDP_GNTST_BAD_PAGE;
	*pg = p;
	return GNTDP_GNTST_OKAY;
}

/* ---- Acquisition (spec 8.1 steps 2a-2g, 8.4) ---------------------------- */

/*
 * First writer after read-only pins (2f, XSA-500): resolve the frame the
 * entry names now (bad_page first, as Xen), then it must be the pinned one
 * with the same window. The pinned start holds 15 bits (pin_first) and is
 * compared with the entry's whole 16-bit page_off, as Xen compares its
 * start:15 bit field: a page_off with bit 15 set never matches.
 */
static int16_t
upgrade_check(struct domain *rd, gntdp_grant_ref_t ref, const struct active_entry *act)
{
	uint32_t ver = gt_version(rd);
	struct page *now = p2m_ram_page(rd, entry_frame(rd, ver, ref));

	if (now == NULL)
		return GNTDP_GNTST_BAD_PAGE;
	if (now != act->page || act->td != NULL)
		return GNTDP_GNTST_GENERAL_ERROR;
	if (ver == 2 && act->is_sub_page) {
		const union gntdp_grant_entry_v2 *e = &rd->shared_v2[ref];

		if (!(__atomic_load_n(&e->hdr.flags, __ATOMIC_RELAXED) & GNTDP_GTF_SUB_PAGE) ||
		    act->start != __atomic_load_n(&e->sub_page.page_off, __ATOMIC_RELAXED) ||
		    act->length != __atomic_load_n(&e->sub_page.length, __ATOMIC_RELAXED))
			return GNTDP_GNTST_GENERAL_ERROR;
	}
	return GNTDP_GNTST_OKAY;
}

/*
 * Acquire ref of rd for a copy by ldomid: one pin of the kind (hstr / hstw).
 * always_inline: inlined into cache_fill(), cache_acquire()'s per-miss half; out of
 * line it costs about 34 instructions per acquisition in bench/gnttab
 * (instr_compare.sh, --only copy --quick). acquire_for_copy() below is the
 * out-of-line entry for acquire_transitive().
 */
static inline __attribute__((always_inline)) int16_t
acquire_copy(struct domain *rd, gntdp_grant_ref_t ref, gntdp_domid_t ldomid, bool write,
	     bool allow_transitive, struct grant_win *out)
{
	uint32_t inc = write ? PIN_HSTW_INC : PIN_HSTR_INC;

	for (int tries = 0;; tries++) {
		struct active_entry *act;
		int16_t rc = GNTDP_GNTST_OKAY;
		uint32_t ver;

		if (unlikely(ref >= nr_entries(rd))) /* 2a */
			return GNTDP_GNTST_BAD_GNTREF;
		act = &rd->active[ref];
		spin_lock(&act->lock);
		ver = gt_version(rd);
		if (unlikely(ref >= nr_entries_v(rd, ver))) { /* the version changed meanwhile */
			spin_unlock(&act->lock);
			return GNTDP_GNTST_BAD_GNTREF;
		}
		if (act->pin != 0 &&
		    (act->domid != ldomid || (act->pin & PIN_OVERFLOW_MASK(inc)) != 0)) {
			spin_unlock(&act->lock);
			return GNTDP_GNTST_GENERAL_ERROR; /* 2b */
		}
		if (ver == 2 && (__atomic_load_n(&rd->shared_v2[ref].hdr.flags, __ATOMIC_ACQUIRE) &
				 GNTDP_GTF_TYPE_MASK) == GNTDP_GTF_TRANSITIVE) {
			int r = acquire_transitive(rd, ref, act, ldomid, write, allow_transitive, out);

			if (r <= 0)
				return (int16_t)r;
			if (tries == TRANSITIVE_TRIES - 1)
				return GNTDP_GNTST_GENERAL_ERROR;
			continue;
		}
		if (act->pin == 0 || (write && (act->pin & (PIN_HSTW_MASK | PIN_DEVW_MASK)) == 0)) {
			bool first = act->pin == 0;

			rc = pin_set_status(rd, ref, act, !write, false, ldomid); /* 2c */
			if (rc == GNTDP_GNTST_OKAY) {
				if (first) {
					rc = pin_first(rd, ref, act, ldomid, !write); /* 2d */
				} else {
					rc = upgrade_check(rd, ref, act); /* 2f */
					if (rc != GNTDP_GNTST_OKAY)
						pin_reduce_status(rd, ref, act, true);
				}
			}
		} else if (unlikely(atomic_load_explicit(&rd->dying, memory_order_relaxed) ||
				    atomic_load_explicit(&act->page->owner, memory_order_relaxed) !=
					    rd)) {
			/* 2e: the granter is dying, or the pinned page is not its own: a
			 * transitive pin whose entry is no longer transitive. */
			rc = GNTDP_GNTST_BAD_DOMAIN;
		}
		if (rc == GNTDP_GNTST_OKAY) {
			act->pin += inc;
			out->page = act->page;
			out->start = act->start;
			out->length = act->length;
		}
		spin_unlock(&act->lock);
		return rc;
	}
}

int16_t
acquire_for_copy(struct domain *rd, gntdp_grant_ref_t ref, gntdp_domid_t ldomid, bool write,
		 bool allow_transitive, struct grant_win *out)
{
	return acquire_copy(rd, ref, ldomid, write, allow_transitive, out);
}

/*
 * A miss of cache_acquire(): take the pin (or frame hold) with every check,
 * then evict into @set. Out of line so that the hit path, inlined into
 * op_copy, saves no registers for it (callgrind: the hit path was 65
 * instructions per side, a third of them prologue and epilogue).
 */
static __attribute__((noinline)) int16_t
cache_fill(struct gntdp_gnttab_ctx *ctx, struct domain *ld, struct domain *rd, uint64_t key,
	   bool write, struct cache_entry *set, struct cache_entry **out)
{
	struct grant_win win = {NULL, 0, GNTDP_PAGE_SIZE};
	unsigned int ways = ctx->cache_ways;
	struct cache_entry *e;
	int16_t rc;

	rc = (key & CACHE_FRAME) ? acquire_frame(ld, key & ~CACHE_FRAME, &win.page)
				 : acquire_copy(rd, (gntdp_grant_ref_t)key, ld->domid, write, true, &win);
	if (unlikely(rc != GNTDP_GNTST_OKAY))
		return rc;
	STAT_ADD(ctx, cache_misses, 1);
	/* Victim: a free way, else the pin taken longest ago (the next to expire). */
	e = &set[0];
	for (unsigned int w = 0; w < ways && e->rd != NULL; w++)
		if (set[w].rd == NULL || set[w].taken < e->taken)
			e = &set[w];
	if (e->rd != NULL)
		cache_entry_release(ctx, e);
	e->rd = rd;
	e->key = key;
	e->caller_uid = ld->uid;
	e->write = write;
	e->page = win.page;
	e->start = win.start;
	e->length = win.length;
	e->narrow = win.start != 0 || win.length != GNTDP_PAGE_SIZE;
	e->taken = ctx->now;
	age_append(ctx, e);
	*out = e;
	return GNTDP_GNTST_OKAY;
}

/*
 * A frame-mode hold whose page the caller no longer owns: the gfn was
 * depopulated (gntdp_domain_depopulate clears the owner before its grace
 * period). The hold keeps the old page alive, but the gfn does not name it
 * any more. A grant pin needs no such check: the pin is what Xen keeps.
 */
static inline bool
frame_stale(const struct cache_entry *e, const struct domain *ld)
{
	return (e->key & CACHE_FRAME) != 0 &&
	       atomic_load_explicit(&e->page->owner, memory_order_relaxed) != ld;
}

/* One side of a copy through the cache. @rd is the granter, or ld for frame mode. */
static inline int16_t
cache_acquire(struct gntdp_gnttab_ctx *ctx, struct domain *ld, struct domain *rd, uint64_t key,
	      bool write, struct cache_entry **out)
{
	struct cache_entry *set = cache_set(ctx, rd, key, write);
	unsigned int ways = ctx->cache_ways;

	for (unsigned int w = 0; w < ways; w++) {
		struct cache_entry *e = &set[w];

		if (e->rd == rd && e->key == key && e->caller_uid == ld->uid) {
			/* 2e: a held pin keeps the frame; only the granter's death matters. */
			if (unlikely(atomic_load_explicit(&rd->dying, memory_order_relaxed)))
				return GNTDP_GNTST_BAD_DOMAIN;
			if (unlikely(frame_stale(e, ld))) {
				cache_entry_release(ctx, e);
				break; /* 2h again: the gfn may hold another frame now, or none */
			}
			STAT_ADD(ctx, cache_hits, 1);
			*out = e;
			return GNTDP_GNTST_OKAY;
		}
	}
	return cache_fill(ctx, ld, rd, key, write, set, out);
}

/*
 * Cache key of a frame-mode side. Xen compares the whole 64-bit gmfn: a
 * value with any bit at or above 62 can never be a gfn of the caller (the
 * physmap is at most 2^28 frames) and must not alias a smaller one once the
 * flag bit is ORed in, so it maps to a key that is always bad_page.
 */
static inline uint64_t
frame_key(uint64_t gmfn)
{
	return (gmfn >> 62) != 0 ? UINT64_MAX : (gmfn | CACHE_FRAME);
}

/* Xen-exact mode: drop the buffer (cached pin) direction @dir holds, if any. */
static inline void
buf_release(struct gntdp_gnttab_ctx *ctx, unsigned int dir)
{
	if (ctx->last[dir].tag != 0)
		cache_entry_release(ctx, ctx->last[dir].e);
}

/* Whether the op names exactly the side the previous op named (see struct last_side). */
static inline bool
last_hit(const struct last_side *last, uint64_t key, uint32_t tag, const struct domain *ld)
{
	return last->tag == tag && last->key == key && last->e->caller_uid == ld->uid;
}

/* Domain step for one side (1a-1b or 1c-1d). */
static inline int16_t
side_domain(struct domain *ld, const struct gntdp_gnttab_copy_ptr *p, bool gref, struct domain **d)
{
	if (!gref && p->domid != GNTDP_DOMID_SELF)
		return GNTDP_GNTST_PERMISSION_DENIED;
	*d = p->domid == GNTDP_DOMID_SELF ? ld : dom_lookup(ld->gt, p->domid);
	return likely(*d != NULL) ? GNTDP_GNTST_OKAY : GNTDP_GNTST_BAD_DOMAIN;
}

/*
 * Buffer step for one side (2 or 3): reuse the previous op's, or go through the cache.
 * always_inline: called twice per op with dir a constant (0 source, 1 dest), which folds
 * ctx->last[dir] and the write flag. gcc kept it out of line (side_acquire.constprop) once
 * cache_acquire's hit path was inlined into it: 386 against 317 instructions per 64 B
 * copy op, 18 against 15 ns of CPU (bench/gnttab/hcall_icount copy, docs/testing.md).
 */
static inline __attribute__((always_inline)) int16_t
side_acquire(struct gntdp_gnttab_ctx *ctx, struct domain *ld, struct domain *d, bool hit,
	     uint64_t key, uint32_t tag, unsigned int dir, struct cache_entry **pe)
{
	struct last_side *last = &ctx->last[dir];
	struct cache_entry *e;
	int16_t rc;

	if (likely(hit)) {
		e = last->e;
		/* 2e: the held pin keeps the frame; only the granter's death matters. */
		if (unlikely(atomic_load_explicit(&e->rd->dying, memory_order_relaxed)))
			return GNTDP_GNTST_BAD_DOMAIN;
		if (likely(!frame_stale(e, ld))) {
			STAT_ADD(ctx, cache_hits, 1);
			*pe = e;
			return GNTDP_GNTST_OKAY;
		}
		/* Clears last->tag; look the gfn up again (frame mode: the side is the caller's,
		 * and side_domain was skipped for the hit). */
		cache_entry_release(ctx, e);
		d = ld;
	}
	if ((key & CACHE_FRAME) && key >= (CACHE_FRAME | ld->p2m_size))
		return GNTDP_GNTST_BAD_PAGE; /* 2h (frame_key made a wide gmfn too big) */
	if (!ctx->persistent)
		buf_release(ctx, dir); /* Xen-exact: a different side drops the old buffer */
	rc = cache_acquire(ctx, ld, d, key, dir == 1, &e);
	if (unlikely(rc != GNTDP_GNTST_OKAY))
		return rc;
	last->key = key;
	last->tag = tag;
	last->e = e;
	*pe = e;
	return GNTDP_GNTST_OKAY;
}

/* Steps 5-6: the range must lie inside the acquired window (v2 sub-page / transitive). */
static inline bool
in_window(const struct cache_entry *e, uint32_t off, uint32_t len)
{
	return off >= e->start && off + len <= (uint32_t)e->start + e->length;
}

void
op_copy(struct gntdp_gnttab_ctx *ctx, struct domain *ld, struct gntdp_gnttab_copy *op)
{
	/* Snapshot the guest-written op once (no double fetch). */
	const struct gntdp_gnttab_copy_ptr src = op->source, dst = op->dest;
	const uint32_t len = op->len;
	const bool sgref = (op->flags & GNTDP_GNTCOPY_SOURCE_GREF) != 0;
	const bool dgref = (op->flags & GNTDP_GNTCOPY_DEST_GREF) != 0;
	const uint64_t skey = sgref ? src.u.ref : frame_key(src.u.gmfn);
	const uint64_t dkey = dgref ? dst.u.ref : frame_key(dst.u.gmfn);
	const uint32_t stag = src.domid | (uint32_t)sgref << 16 | 1u << 17;
	const uint32_t dtag = dst.domid | (uint32_t)dgref << 16 | 1u << 17;
	struct domain *sd = NULL, *dd = NULL;
	struct cache_entry *se = NULL, *de = NULL;
	bool shit, dhit;
	int16_t rc = GNTDP_GNTST_OKAY;

	if (len == 0) { /* 0: since Xen 4.19 nothing else is looked at */
		op->status = GNTDP_GNTST_OKAY;
		return;
	}
	/*
	 * 1: the domain step. A side identical to the previous op's passed it
	 * then and its outcome depends only on those values (Xen skips it for
	 * consecutive ops with the same domids too).
	 */
	if (!ctx->persistent) {
		/* Xen's buffers: a new (source, dest) domid pair drops both. */
		uint32_t pair = src.domid | (uint32_t)dst.domid << 16;

		if (pair != ctx->pair) {
			buf_release(ctx, 0);
			buf_release(ctx, 1);
			ctx->pair = pair;
		}
	}
	shit = last_hit(&ctx->last[0], skey, stag, ld);
	dhit = last_hit(&ctx->last[1], dkey, dtag, ld);
	if (!shit)
		rc = side_domain(ld, &src, sgref, &sd);
	if (!dhit && likely(rc == GNTDP_GNTST_OKAY))
		rc = side_domain(ld, &dst, dgref, &dd);
	/* 2, 3: source buffer, then destination buffer. */
	if (likely(rc == GNTDP_GNTST_OKAY))
		rc = side_acquire(ctx, ld, sd, shit, skey, stag, 0, &se);
	if (likely(rc == GNTDP_GNTST_OKAY))
		rc = side_acquire(ctx, ld, dd, dhit, dkey, dtag, 1, &de);
	/* 4: page crossing is only judged once both sides are acquired. */
	if (likely(rc == GNTDP_GNTST_OKAY)) {
		if (unlikely((uint32_t)src.offset + len > GNTDP_PAGE_SIZE ||
			     (uint32_t)dst.offset + len > GNTDP_PAGE_SIZE))
			rc = GNTDP_GNTST_BAD_COPY_ARG;
		/* 5, 6: a whole-page window holds anything step 4 let through (the
		 * common v1 case: one branch instead of 14 instructions per op). */
		else if (unlikely((se->narrow || de->narrow) &&
				  (!in_window(se, src.offset, len) || !in_window(de, dst.offset, len))))
			rc = GNTDP_GNTST_GENERAL_ERROR;
	}
	if (unlikely(rc != GNTDP_GNTST_OKAY)) {
		/* Xen releases both buffers after a failing op. */
		if (!ctx->persistent) {
			buf_release(ctx, 0);
			buf_release(ctx, 1);
		}
		op->status = rc;
		return;
	}
	if (ctx->copy != NULL)
		ctx->copy(de->page->va + dst.offset, se->page->va + src.offset, len);
	else
		memmove(de->page->va + dst.offset, se->page->va + src.offset, len);
	STAT_ADD(ctx, copy_bytes, len);
	op->status = GNTDP_GNTST_OKAY;
}
