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
 */
#include <string.h>

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
	      const struct slot *sl, const struct gntdp_dp_cpl *cpl)
{
	const struct slot_frames *fr = &cq->fr[seq & (cq->depth - 1)];
	unsigned int src_off = b->sc.src_offset;
	const uint8_t *dst;

	c->st.verified++;
	switch (sl->kind) {
	case RK_COPY_GG:
	case RK_COPY_GF:
		if (cpl->status != GNTDP_GNTST_OKAY)
			return; /* counted as a bad status already */
		dst = sl->kind == RK_COPY_GG ? fr->rx : fr->bf;
		if (memcmp(dst + sl->off, fr->tx + src_off, sl->len) != 0)
			fail(c, &c->st.bad_bytes, "destination bytes differ from the source", cq,
			     seq, sl);
		else if (!guards_intact(dst, sl->off, sl->len))
			fail(c, &c->st.bad_bytes, "bytes outside the copy range were written", cq,
			     seq, sl);
		break;
	case RK_MAP:
		if (cpl->status == GNTDP_GNTST_OKAY &&
		    gntdp_domain_frame(b->gt, cq->backend, cq->map_gfn0 + sl->gfn_idx) !=
			    cq->fr[sl->gfn_idx].tx)
			fail(c, &c->st.bad_bytes,
			     "map: the host gfn does not show the granted frame", cq, seq, sl);
		break;
	case RK_UNMAP:
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
		gntdp_domid_t d = (gntdp_domid_t)(1 + f);

		for (uint32_t g = 0; g < nb_tx; g++) {
			const uint8_t *fp = gntdp_domain_frame(b->gt, d, g);
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
