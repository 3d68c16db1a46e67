/* SPDX-License-Identifier: MIT */
/*
 * Verification: the byte pattern of source frames, the status Xen gives each
 * deliberately invalid request, and the check of every completion's effect.
 *
 * Method. Source (TX) frames hold pattern(domid, gfn, seed) and are never
 * written by anyone (they are granted read-only). Before a copy is posted
 * the client poisons its destination range plus GUARD_BYTES either side;
 * after the completion every byte of the range must equal the source range
 * (which pattern_check proves at the end equals the pattern) and the guard
 * bytes must still be poison. An invalid copy must leave its whole range
 * poisoned. Because slot i always copies TX frame i to RX frame i and only
 * one request per slot is in flight, nothing else writes the range between
 * the poison and the check.
 *
 * Connect mode (connect.c): a backend process holds only its own RAM. It
 * checks what lands there (gref->frame copies) itself, against the pattern
 * the source must hold; what lands in a frontend's frames is checked by
 * that frontend's process through its own mapping: the backend posts a
 * struct vcheck per completed op, the frontend checks and re-poisons, and
 * the backend waits for that before the slot (or host gfn) is used again,
 * which is when in-process it would poison.
 */
#include <sched.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_pause.h>

#include <gntdp/client.h>
#include <gntdp/dataplane.h>

#include "bench.h"

/* splitmix64: a cheap bijective mixer, so distinct (domid, gfn, word) give distinct words. */
static inline uint64_t
mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static inline uint64_t
pattern_word(gntdp_domid_t domid, uint64_t gfn, unsigned int w, uint64_t seed)
{
	return mix64(seed ^ ((uint64_t)domid << 48) ^ (gfn << 9) ^ w);
}

void
pattern_fill(uint8_t *frame, gntdp_domid_t domid, uint64_t gfn, uint64_t seed)
{
	for (unsigned int w = 0; w < GNTDP_PAGE_SIZE / 8; w++) {
		uint64_t v = pattern_word(domid, gfn, w, seed);

		memcpy(frame + w * 8, &v, 8);
	}
}

int
pattern_check(const uint8_t *frame, gntdp_domid_t domid, uint64_t gfn, uint64_t seed)
{
	for (unsigned int w = 0; w < GNTDP_PAGE_SIZE / 8; w++) {
		uint64_t v = pattern_word(domid, gfn, w, seed);

		if (memcmp(frame + w * 8, &v, 8) != 0) {
			for (unsigned int i = 0; i < 8; i++) {
				if (frame[w * 8 + i] != ((const uint8_t *)&v)[i])
					return (int)(w * 8 + i);
			}
		}
	}
	return -1;
}

int16_t
invalid_expected_status(enum invalid_kind k)
{
	/* shared/spec/xen-grant-semantics.md §8.1, §5.1, §6.1 and the §14 cheat sheet. */
	switch (k) {
	case INV_BAD_REF:
		return GNTDP_GNTST_BAD_GNTREF;
	case INV_CROSS_PAGE:
		return GNTDP_GNTST_BAD_COPY_ARG;
	case INV_RO_DEST:
		return GNTDP_GNTST_GENERAL_ERROR;
	case INV_FOREIGN_FRAME:
		return GNTDP_GNTST_PERMISSION_DENIED;
	case INV_LEN0:
		return GNTDP_GNTST_OKAY; /* Xen >= 4.19: nothing else is looked at */
	case INV_BAD_DOMAIN:
		return GNTDP_GNTST_BAD_DOMAIN;
	case INV_MAP_NOFLAGS:
		return GNTDP_GNTST_BAD_GNTREF; /* sic: Xen's first map check */
	case INV_BAD_HANDLE:
		return GNTDP_GNTST_BAD_HANDLE;
	case INV_COUNT:
		break;
	}
	return GNTDP_GNTST_GENERAL_ERROR;
}

/* Poison [off - guard, off + len + guard) clipped to the frame. */
void
poison_range(uint8_t *frame, unsigned int off, unsigned int len)
{
	unsigned int lo = off > GUARD_BYTES ? off - GUARD_BYTES : 0;
	unsigned int hi = off + len + GUARD_BYTES;

	if (hi > GNTDP_PAGE_SIZE)
		hi = GNTDP_PAGE_SIZE;
	memset(frame + lo, POISON_BYTE, hi - lo);
}

/* A check not done within this long is a failure of its checker (a frontend process). */
#define CHECK_WAIT_S 5

/* Wait for the checker of v to finish its last check. */
static void
check_wait(struct bench *b, struct cqueue *cq, struct vcheck *v)
{
	uint32_t want = atomic_load_explicit(&v->req, memory_order_relaxed);
	uint64_t t0 = 0;
	unsigned int spins = 0;

	/* Acquire: pairs with the checker's release store of done (connect.c). */
	while (atomic_load_explicit(&v->done, memory_order_acquire) != want) {
		if (t0 == 0)
			t0 = rte_rdtsc();
		/* The checker is a process that may share this CPU: let it run. */
		if (++spins > 64)
			sched_yield();
		else
			rte_pause();
		if (rte_rdtsc() - t0 > CHECK_WAIT_S * b->tsc_hz) {
			struct client *c = &b->clients[0];

			c->st.bad_bytes++;
			if (c->first_error[0] == '\0')
				snprintf(c->first_error, sizeof(c->first_error),
					 "queue %u: domain %u did not check its frame %u "
					 "within %d s",
					 cq->qid, v->dom, v->gfn, CHECK_WAIT_S);
			atomic_store_explicit(&v->done, want, memory_order_relaxed);
			return;
		}
	}
}

void
prepare_dest(struct bench *b, struct cqueue *cq, unsigned int s, uint8_t *frame,
	     unsigned int off, unsigned int len)
{
	if (frame != NULL)
		poison_range(frame, off, len);
	else if (cq->chk != NULL)
		check_wait(b, cq, &cq->chk[s]);
}

void
prepare_map(struct bench *b, struct cqueue *cq, uint32_t g)
{
	check_wait(b, cq, &cq->chk[cq->depth + g]);
}

void
checks_drain(struct bench *b, struct cqueue *cq)
{
	if (cq->chk == NULL)
		return;
	for (unsigned int i = 0; i < 2 * cq->depth; i++)
		check_wait(b, cq, &cq->chk[i]);
}

void
maybe_inject(struct bench *b, uint8_t *dst)
{
	if (b->sc.inject_fault != 0 && ++b->inject_seen == b->sc.inject_fault)
		*dst ^= 0xFF;
}

/* Post check v (the previous one on it is done: prepare_dest / prepare_map waited). */
static void
check_post(struct vcheck *v, enum vcheck_op op, gntdp_domid_t dom, uint32_t gfn, uint16_t off,
	   uint16_t len, const struct slot_frames *fr, uint16_t src_off, uint32_t qid,
	   uint64_t seq)
{
	uint32_t r = atomic_load_explicit(&v->req, memory_order_relaxed) + 1;

	v->op = (uint8_t)op;
	v->dom = dom;
	v->gfn = gfn;
	v->off = off;
	v->len = len;
	v->src_dom = fr->tx_dom;
	v->src_gfn = fr->tx_ref - GNTDP_GNTTAB_NR_RESERVED_ENTRIES;
	v->src_off = src_off;
	v->qid = qid;
	v->seq = seq;
	/* Release: the fields above before the new req; the checker acquires req. */
	atomic_store_explicit(&v->req, r, memory_order_release);
}

static bool
is_poison(const uint8_t *p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (p[i] != POISON_BYTE)
			return false;
	}
	return true;
}

/* The guard bytes around [off, off + len) are still poison. */
static bool
guards_intact(const uint8_t *frame, unsigned int off, unsigned int len)
{
	unsigned int lo = off > GUARD_BYTES ? off - GUARD_BYTES : 0;
	unsigned int hi = off + len + GUARD_BYTES;

	if (hi > GNTDP_PAGE_SIZE)
		hi = GNTDP_PAGE_SIZE;
	return is_poison(frame + lo, off - lo) && is_poison(frame + off + len, hi - off - len);
}

static void
fail(struct client *c, uint64_t *counter, const char *what, const struct cqueue *cq, uint64_t seq,
     const struct slot *sl)
{
	(*counter)++;
	if (c->first_error[0] == '\0')
		snprintf(c->first_error, sizeof(c->first_error),
			 "queue %u seq %llu kind %u inv %s len %u: %s", cq->qid,
			 (unsigned long long)seq, sl->kind,
			 sl->kind == RK_INVALID ? invalid_kind_name((enum invalid_kind)sl->inv)
						: "-",
			 sl->len, what);
}

/* Check the effect of one completed request (verify on). Status was checked by the caller. */
void
verify_effect(struct bench *b, struct client *c, struct cqueue *cq, uint64_t seq,
	      const struct slot *sl, const struct bench_cpl *cpl)
{
	const struct slot_frames *fr = &cq->fr[seq & (cq->depth - 1)];
	unsigned int src_off = b->sc.src_offset;
	uint8_t *dst;

	c->st.verified++;
	switch (sl->kind) {
	case RK_COPY_GG:
	case RK_COPY_GF:
		if (cpl->status != GNTDP_GNTST_OKAY)
			return; /* counted as a bad status already */
		dst = sl->kind == RK_COPY_GG ? fr->rx : fr->bf;
		if (dst == NULL) {
			/* Connect mode: the frontend's frame; its process checks it. */
			check_post(&cq->chk[seq & (cq->depth - 1)], VC_COPY, fr->rx_dom,
				   fr->rx_ref - GNTDP_GNTTAB_NR_RESERVED_ENTRIES, sl->off, sl->len,
				   fr, (uint16_t)src_off, cq->qid, seq);
			break;
		}
		maybe_inject(b, dst + sl->off);
		if (memcmp(dst + sl->off, fr->tx + src_off, sl->len) != 0)
			fail(c, &c->st.bad_bytes, "destination bytes differ from the source", cq,
			     seq, sl);
		else if (!guards_intact(dst, sl->off, sl->len))
			fail(c, &c->st.bad_bytes, "bytes outside the copy range were written", cq,
			     seq, sl);
		break;
	case RK_MAP:
		if (b->connect) {
			/* The model's p2m is the daemon's: the granter sees its grant in use. */
			const struct slot_frames *mf = &cq->fr[sl->gfn_idx];

			if (cpl->status == GNTDP_GNTST_OKAY)
				check_post(&cq->chk[cq->depth + sl->gfn_idx], VC_MAPPED, mf->tx_dom,
					   mf->tx_ref, 0, 0, mf, 0, cq->qid, seq);
			break;
		}
		if (cpl->status == GNTDP_GNTST_OKAY &&
		    gntdp_domain_frame(b->gt, cq->backend, cq->map_gfn0 + sl->gfn_idx) !=
			    cq->fr[sl->gfn_idx].tx)
			fail(c, &c->st.bad_bytes,
			     "map: the host gfn does not show the granted frame", cq, seq, sl);
		break;
	case RK_UNMAP:
		if (b->connect) {
			const struct slot_frames *mf = &cq->fr[sl->gfn_idx];

			/*
			 * Only where no copy reads the TX grants: a copy's pin may stay
			 * in the worker's grant cache (hold_us) and keep GTF_reading.
			 */
			if (cpl->status == GNTDP_GNTST_OKAY && b->mapunmap_only)
				check_post(&cq->chk[cq->depth + sl->gfn_idx], VC_UNMAPPED,
					   mf->tx_dom, mf->tx_ref, 0, 0, mf, 0, cq->qid, seq);
			break;
		}
		if (cpl->status == GNTDP_GNTST_OKAY &&
		    gntdp_domain_frame(b->gt, cq->backend, cq->map_gfn0 + sl->gfn_idx) != NULL)
			fail(c, &c->st.bad_bytes, "unmap: the host gfn still maps a frame", cq, seq,
			     sl);
		break;
	case RK_INVALID:
		switch ((enum invalid_kind)sl->inv) {
		case INV_BAD_REF:
		case INV_CROSS_PAGE:
		case INV_FOREIGN_FRAME:
		case INV_LEN0:
		case INV_BAD_DOMAIN: {
			unsigned int len = sl->len;

			if (sl->off + len > GNTDP_PAGE_SIZE)
				len = GNTDP_PAGE_SIZE - sl->off;
			if (fr->rx == NULL) {
				check_post(&cq->chk[seq & (cq->depth - 1)], VC_POISON, fr->rx_dom,
					   fr->rx_ref - GNTDP_GNTTAB_NR_RESERVED_ENTRIES, sl->off,
					   (uint16_t)len, fr, 0, cq->qid, seq);
				break;
			}
			if (!is_poison(fr->rx + sl->off, len))
				fail(c, &c->st.bad_bytes, "a refused copy wrote its destination",
				     cq, seq, sl);
			break;
		}
		default:
			break; /* read-only dest: the final source check covers it */
		}
		break;
	default:
		break;
	}
}

/* Check every TX frame of every frontend against its pattern. Returns the number that differ. */
uint64_t
verify_sources(struct bench *b, char *err, size_t errlen)
{
	uint32_t nb_tx = b->sc.frames / 2;
	uint64_t bad = 0;

	for (unsigned int f = 0; f < b->sc.nb_frontends; f++) {
		gntdp_domid_t d = frontend_id(f);

		/* Connect mode: each frontend process checks its own. */
		if (b->connect && d != b->self)
			continue;
		for (uint32_t g = 0; g < nb_tx; g++) {
			const uint8_t *fp = bench_frame(b, d, g);
			int off = fp != NULL ? pattern_check(fp, d, g, b->sc.seed) : 0;

			if (off >= 0) {
				if (bad++ == 0 && err[0] == '\0')
					snprintf(err, errlen,
						 "source frame dom %u gfn %u changed at offset %d",
						 d, g, off);
			}
		}
	}
	return bad;
}

bool
vcheck_do(struct bench *b, const struct vcheck *v, char *why, size_t wl)
{
	static uint8_t src[GNTDP_PAGE_SIZE];
	static gntdp_domid_t src_dom = GNTDP_DOMID_INVALID;
	static uint32_t src_gfn;
	struct gntdp_grant_entry_v1 *e;
	uint8_t *frame = NULL;
	uint32_t nb;
	bool reading;

	switch (v->op) {
	case VC_COPY:
	case VC_POISON:
		frame = bench_frame(b, b->self, v->gfn);
		if (frame == NULL || v->off + v->len > GNTDP_PAGE_SIZE) {
			snprintf(why, wl, "no frame %u offset %u length %u here", v->gfn, v->off,
				 v->len);
			return false;
		}
		if (v->op == VC_POISON) {
			if (is_poison(frame + v->off, v->len))
				return true;
			snprintf(why, wl, "a refused copy wrote its destination");
			return false;
		}
		/* The pattern the source frame holds (the sources are checked at the end). */
		if (src_dom != v->src_dom || src_gfn != v->src_gfn) {
			pattern_fill(src, v->src_dom, v->src_gfn, b->sc.seed);
			src_dom = v->src_dom;
			src_gfn = v->src_gfn;
		}
		if (v->src_off + v->len > GNTDP_PAGE_SIZE) {
			snprintf(why, wl, "source offset %u length %u", v->src_off, v->len);
			return false;
		}
		maybe_inject(b, frame + v->off);
		if (memcmp(frame + v->off, src + v->src_off, v->len) != 0) {
			snprintf(why, wl, "destination bytes differ from the source");
			poison_range(frame, v->off, v->len);
			return false;
		}
		if (!guards_intact(frame, v->off, v->len)) {
			snprintf(why, wl, "bytes outside the copy range were written");
			poison_range(frame, v->off, v->len);
			return false;
		}
		poison_range(frame, v->off, v->len);
		return true;
	case VC_MAPPED:
	case VC_UNMAPPED:
		e = gntdp_client_table(b->cl, &nb);
		if (e == NULL || v->gfn >= nb) {
			snprintf(why, wl, "no grant ref %u here", v->gfn);
			return false;
		}
		reading = (__atomic_load_n(&e[v->gfn].flags, __ATOMIC_ACQUIRE) &
			   GNTDP_GTF_READING) != 0;
		if (reading == (v->op == VC_MAPPED))
			return true;
		snprintf(why, wl,
			 v->op == VC_MAPPED ? "map: the granter's ref %u is not in use"
					    : "unmap: the granter's ref %u is still in use",
			 v->gfn);
		return false;
	default:
		snprintf(why, wl, "unknown check %u", v->op);
		return false;
	}
}
