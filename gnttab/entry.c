/* SPDX-License-Identifier: MIT */
/*
 * Pins on active entries and the status flags of shared entries, for v1 and
 * v2 tables (spec 2.2, 5.2, 8.1 step 2, 8.4), shared by map, unmap and copy:
 * setting and reducing GTF_reading/GTF_writing, the first pin of an entry,
 * unpinning, and the transitive part of the copy acquisition (the common
 * path, acquire_for_copy(), lives in copy.c beside its only hot caller).
 * Every function here runs with the entry's active lock held unless it
 * says otherwise; holding any entry's lock also keeps the table's version
 * stable (set_version takes them all).
 */
#include "internal.h"

void
act_lock_all(struct domain *d)
{
	uint32_t n = d->max_grant_frames * ENTRIES_PER_FRAME;

	for (uint32_t i = 0; i < n; i++)
		spin_lock(&d->active[i].lock);
}

void
act_unlock_all(struct domain *d)
{
	uint32_t n = d->max_grant_frames * ENTRIES_PER_FRAME;

	for (uint32_t i = 0; i < n; i++)
		spin_unlock(&d->active[i].lock);
}

/* ---- Status flags (spec 5.2) ------------------------------------------- */

/* Whether an unpinned entry's type admits the request: permit_access, for copy also transitive (v2). */
static inline bool
type_ok(uint16_t flags, bool mapflag, uint32_t ver)
{
	uint16_t mask = GNTDP_GTF_TYPE_MASK | (mapflag ? GNTDP_GTF_SUB_PAGE : 0);

	if ((flags & mask) == GNTDP_GTF_PERMIT_ACCESS)
		return true;
	return ver == 2 && !mapflag && (flags & mask) == GNTDP_GTF_TRANSITIVE;
}

/*
 * v1: set GTF_reading (and GTF_writing unless @readonly) with
 * compare-and-exchange on the {flags, domid} word. Until the entry is pinned
 * its type and grantee are checked in the same snapshot the exchange commits
 * (map also refuses GTF_sub_page). A guest racing us gets SET_STATUS_TRIES
 * attempts, then general_error.
 */
static int16_t
set_status_v1(struct domain *rd, gntdp_grant_ref_t ref, const struct active_entry *act,
	      bool readonly, bool mapflag, gntdp_domid_t ldomid)
{
	uint32_t *word = hdr_word(rd, 1, ref);
	/* Pairs with the guest's release store of flags in grant_access. */
	uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	for (int tries = 0;; tries++) {
		uint16_t flags = WORD_FLAGS(old);
		uint32_t new_word;

		if (act->pin == 0 && (!type_ok(flags, mapflag, 1) || WORD_DOMID(old) != ldomid))
			return GNTDP_GNTST_GENERAL_ERROR;
		new_word = old | GNTDP_GTF_READING;
		if (!readonly) {
			if (flags & GNTDP_GTF_READONLY)
				return GNTDP_GNTST_GENERAL_ERROR;
			new_word |= GNTDP_GTF_WRITING;
		}
		/* seq_cst: the guest's end-access cmpxchg and ours are totally ordered. */
		if (__atomic_compare_exchange_n(word, &old, new_word, false, __ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			return GNTDP_GNTST_OKAY;
		if (tries == SET_STATUS_TRIES - 1)
			return GNTDP_GNTST_GENERAL_ERROR;
	}
}

/*
 * v2: the header is the guest's; the bits go into the status word. Set
 * them, full fence, read the header again (the handshake with the guest's
 * "clear flags, fence, read status" end access): if it changed under us,
 * clear what we set and fail.
 */
static int16_t
set_status_v2(struct domain *rd, gntdp_grant_ref_t ref, const struct active_entry *act,
	      bool readonly, bool mapflag, gntdp_domid_t ldomid)
{
	const uint32_t *word = hdr_word(rd, 2, ref);
	gntdp_grant_status_t *st = &rd->status[ref];
	uint32_t w = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	uint16_t bits = GNTDP_GTF_READING | (readonly ? 0 : GNTDP_GTF_WRITING);

	if (act->pin == 0 && (!type_ok(WORD_FLAGS(w), mapflag, 2) || WORD_DOMID(w) != ldomid))
		return GNTDP_GNTST_GENERAL_ERROR;
	if (!readonly && (WORD_FLAGS(w) & GNTDP_GTF_READONLY))
		return GNTDP_GNTST_GENERAL_ERROR;
	__atomic_fetch_or(st, bits, __ATOMIC_SEQ_CST);
	atomic_thread_fence(memory_order_seq_cst);
	w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	if (act->pin == 0) {
		if (!type_ok(WORD_FLAGS(w), mapflag, 2) || WORD_DOMID(w) != ldomid ||
		    (!readonly && (WORD_FLAGS(w) & GNTDP_GTF_READONLY))) {
			__atomic_fetch_and(st, (uint16_t)~(GNTDP_GTF_READING | GNTDP_GTF_WRITING),
					   __ATOMIC_RELEASE);
			return GNTDP_GNTST_GENERAL_ERROR;
		}
	} else if (WORD_FLAGS(w) & GNTDP_GTF_READONLY) {
		__atomic_fetch_and(st, (uint16_t)~GNTDP_GTF_WRITING, __ATOMIC_RELEASE);
		return GNTDP_GNTST_GENERAL_ERROR;
	}
	return GNTDP_GNTST_OKAY;
}

int16_t
pin_set_status(struct domain *rd, gntdp_grant_ref_t ref, struct active_entry *act, bool readonly,
	       bool mapflag, gntdp_domid_t ldomid)
{
	return gt_version(rd) == 1 ? set_status_v1(rd, ref, act, readonly, mapflag, ldomid)
				   : set_status_v2(rd, ref, act, readonly, mapflag, ldomid);
}

/*
 * After a pin change: clear GTF_writing when no writable pin (host or
 * device, XSA-230) remains and the released use was writable; clear
 * GTF_reading when no pin remains.
 */
void
pin_reduce_status(struct domain *rd, gntdp_grant_ref_t ref, const struct active_entry *act,
		  bool was_write)
{
	uint32_t clear = 0;

	if (was_write && (act->pin & (PIN_HSTW_MASK | PIN_DEVW_MASK)) == 0)
		clear |= GNTDP_GTF_WRITING;
	if (act->pin == 0)
		clear |= GNTDP_GTF_READING;
	if (clear == 0)
		return;
	/* Release: our last access to the frame happens before the guest can
	 * see the entry idle and end access. */
	if (gt_version(rd) == 1)
		__atomic_fetch_and(hdr_word(rd, 1, ref), ~clear, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&rd->status[ref], (uint16_t)~clear, __ATOMIC_RELEASE);
}

/*
 * First pin of an entry: resolve its frame in the granter's physmap (read
 * once, after our flags are committed) and take a page reference. v2
 * sub-page entries (copy only: map refused them in pin_set_status) record
 * their window. On failure the status flags are rolled back as Xen does:
 * GTF_reading always, GTF_writing only for a writable request (a read-only
 * request leaves a GTF_writing the guest set itself). act->pin == 0.
 */
int16_t
pin_first(struct domain *rd, gntdp_grant_ref_t ref, struct active_entry *act, gntdp_domid_t ldomid,
	  bool readonly)
{
	uint32_t ver = gt_version(rd);
	struct page *pg = p2m_ram_page(rd, entry_frame(rd, ver, ref));
	bool sub = false;

	if (pg == NULL || !page_get(pg, rd)) {
		pin_reduce_status(rd, ref, act, !readonly);
		return GNTDP_GNTST_BAD_PAGE;
	}
	act->start = 0;
	act->length = GNTDP_PAGE_SIZE;
	if (ver == 2) {
		const union gntdp_grant_entry_v2 *e = &rd->shared_v2[ref];

		sub = (__atomic_load_n(&e->hdr.flags, __ATOMIC_RELAXED) & GNTDP_GTF_SUB_PAGE) != 0;
		if (sub) {
			/* Xen keeps a 15-bit start and does not bound start + length:
			 * every copy is bounded by the page anyway. */
			act->start = __atomic_load_n(&e->sub_page.page_off, __ATOMIC_RELAXED) & 0x7fff;
			act->length = __atomic_load_n(&e->sub_page.length, __ATOMIC_RELAXED);
			atomic_fetch_add_explicit(&rd->nr_v2_ops, 1, memory_order_relaxed);
		}
	}
	act->is_sub_page = sub;
	act->td = NULL;
	act->trans_gref = ref;
	act->page = pg;
	act->domid = ldomid;
	atomic_fetch_add_explicit(&rd->refs, 1, memory_order_relaxed);
	return GNTDP_GNTST_OKAY;
}

/*
 * Drop @inc from an entry's pin and clear flags, with act->lock held; what
 * must be released once the lock is dropped goes into @rel for
 * unpin_finish(). A transitive entry holds no page of its own: each of its
 * pins holds one pin of the same kind on the entry it names, released by
 * unpin_finish() too (the recursion is bounded: that entry is never
 * transitive).
 */
void
unpin_locked(struct domain *rd, gntdp_grant_ref_t ref, struct active_entry *act, uint32_t inc,
	     struct unpin_rel *rel)
{
	bool write = (inc & (PIN_HSTW_MASK | PIN_DEVW_MASK)) != 0;

	act->pin -= inc;
	pin_reduce_status(rd, ref, act, write);
	rel->rd = rd;
	rel->inc = inc;
	rel->pg = NULL;
	rel->td = act->td;
	rel->tref = act->trans_gref;
	rel->last = act->pin == 0;
	if (rel->last) {
		if (act->is_sub_page)
			atomic_fetch_sub_explicit(&rd->nr_v2_ops, 1, memory_order_relaxed);
		if (rel->td == NULL)
			rel->pg = act->page;
		act->page = NULL;
		act->td = NULL;
		act->is_sub_page = false;
	}
}

void
unpin_finish(const struct unpin_rel *rel)
{
	if (rel->pg != NULL)
		page_put(rel->pg);
	if (rel->td != NULL)
		unpin(rel->td, rel->tref, rel->inc); /* td stays alive: the pin we drop holds it */
	if (rel->last)
		dom_put(rel->rd); /* may free a dead granter: outside its lock */
}

/* unpin_locked() and unpin_finish() around the entry's lock. */
void
unpin(struct domain *rd, gntdp_grant_ref_t ref, uint32_t inc)
{
	struct active_entry *act = &rd->active[ref];
	struct unpin_rel rel;

	spin_lock(&act->lock);
	unpin_locked(rd, ref, act, inc, &rel);
	spin_unlock(&act->lock);
	unpin_finish(&rel);
}

/* ---- Copy acquisition (spec 8.1 steps 2a-2g, 8.4) ----------------------- */

/*
 * A v2 transitive entry of @rd granted to @ldomid: acquire the entry it
 * names as if @rd were the caller, then record it. Entered with act->lock
 * held, returns with it released. > 0: the entry changed while unlocked,
 * retry (Xen restarts the op).
 */
int
acquire_transitive(struct domain *rd, gntdp_grant_ref_t ref, struct active_entry *act,
		   gntdp_domid_t ldomid, bool write, bool allow_transitive, struct grant_win *out)
{
	const union gntdp_grant_entry_v2 *e = &rd->shared_v2[ref];
	uint32_t inc = write ? PIN_HSTW_INC : PIN_HSTR_INC;
	uint32_t old_pin = act->pin;
	gntdp_domid_t tdomid;
	gntdp_grant_ref_t tref;
	struct domain *td;
	struct grant_win tw;
	int16_t rc = GNTDP_GNTST_OKAY;

	if (old_pin == 0 || (write && (old_pin & (PIN_HSTW_MASK | PIN_DEVW_MASK)) == 0)) {
		rc = pin_set_status(rd, ref, act, !write, false, ldomid);
		if (rc != GNTDP_GNTST_OKAY)
			goto unlock;
	}
	if (!allow_transitive) { /* only one level (XSA-226) */
		rc = GNTDP_GNTST_GENERAL_ERROR;
		goto clear;
	}
	tdomid = __atomic_load_n(&e->transitive.trans_domid, __ATOMIC_RELAXED);
	tref = __atomic_load_n(&e->transitive.gref, __ATOMIC_RELAXED);
	if (tdomid == rd->domid) { /* self-referential */
		rc = GNTDP_GNTST_GENERAL_ERROR;
		goto clear;
	}
	td = dom_lookup(rd->gt, tdomid); /* kept valid by the batch (QSBR) */
	if (td == NULL) {
		rc = GNTDP_GNTST_GENERAL_ERROR;
		goto clear;
	}
	/* No lock nesting (XSA-411): drop ours before taking td's. */
	atomic_fetch_add_explicit(&rd->nr_v2_ops, 1, memory_order_relaxed);
	spin_unlock(&act->lock);
	rc = acquire_for_copy(td, tref, rd->domid, write, false, &tw);
	spin_lock(&act->lock);
	if (rc != GNTDP_GNTST_OKAY) {
		atomic_fetch_sub_explicit(&rd->nr_v2_ops, 1, memory_order_relaxed);
		goto clear;
	}
	if (gt_version(rd) != 2 || act->pin != old_pin ||
	    (old_pin != 0 && (act->domid != ldomid || act->page != tw.page || act->td != td ||
			      act->trans_gref != tref || act->start != tw.start ||
			      act->length != tw.length || !act->is_sub_page))) {
		/* Changed while unlocked: undo and let the caller retry. */
		spin_unlock(&act->lock);
		unpin(td, tref, inc);
		spin_lock(&act->lock);
		atomic_fetch_sub_explicit(&rd->nr_v2_ops, 1, memory_order_relaxed);
		pin_reduce_status(rd, ref, act, write);
		spin_unlock(&act->lock);
		return 1;
	}
	if (old_pin == 0) {
		act->domid = ldomid;
		act->start = tw.start;
		act->length = tw.length;
		act->td = td;
		act->trans_gref = tref;
		act->page = tw.page;
		act->is_sub_page = true; /* never mappable, whatever td's entry is */
		atomic_fetch_add_explicit(&rd->refs, 1, memory_order_relaxed);
	} else {
		atomic_fetch_sub_explicit(&rd->nr_v2_ops, 1, memory_order_relaxed);
	}
	act->pin += inc;
	*out = tw;
	spin_unlock(&act->lock);
	return GNTDP_GNTST_OKAY;

clear:
	pin_reduce_status(rd, ref, act, write);
unlock:
	spin_unlock(&act->lock);
	return rc;
}
