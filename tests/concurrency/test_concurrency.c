/* SPDX-License-Identifier: MIT */
/*
 * Concurrency tests for the grant-table core (suite "concurrency").
 *
 * Each case builds its own world, starts real threads (pthreads) that play a
 * granting guest and one or more backend "vCPUs" (one gntdp_gnttab_ctx each),
 * lets them race for a bounded time, and checks invariants both while running
 * and after everything has stopped:
 *
 *  revoke_*      guest threads of G grant / end access / flip read-only on refs
 *                8..71 while backend threads of B copy (gref->frame,
 *                frame->gref, gref->gref) and map/unmap the same refs:
 *                (a) no copy and no mapped access touches a frame after the
 *                    guest's end access succeeded, nor writes a frame the guest
 *                    has made read-only; poison written at revoke is intact at
 *                    regrant; a map never succeeds on a revoked entry;
 *                (b) end access never succeeds while B holds a live handle;
 *                (c) every status is in the set the spec allows here;
 *                (d) at the end no GTF_reading/writing remains, no pins, no
 *                    live mappings.
 *  maptrack_race XSA-228: several contexts of one mapping domain map and unmap
 *                concurrently against a small maptrack: never a duplicate live
 *                handle, no handle lost (a refill reaches the capacity).
 *  split_unmap   XSA-218: two threads unmap the host part and the device part of
 *                one handle at the same time: both succeed, the handle is freed
 *                exactly once and the pins are exact.
 *  transitive_race XSA-411/XSA-226: callers copy through v2 transitive grants
 *                while the origin and the intermediate revoke and re-grant them
 *                (sometimes as a two-level chain that must fail): no deadlock,
 *                statuses okay / general_error / bad_copy_arg only, and at rest
 *                no pin and no status bit anywhere.
 *  version_race  XSA-384/XSA-501: the granter flips v1 <-> v2 while backends
 *                map, unmap and copy its refs: every status allowed, every
 *                successful map unmaps, nothing left pinned.
 *  lookup_destroy gntdp_domain_frame/info and gntdp_guest_table race the
 *                creation and destruction of the domain they name: never a use
 *                after free (ASan / TSan builds report one).
 *  populate_race gntdp_domain_populate/depopulate of a granted range while
 *                backends copy and map it, its owner copies it in frame mode
 *                and gntdp_domain_p2m_query reads both physmaps: okay or
 *                bad_page only (bad_domain for a copy through an entry the
 *                other backend's map still pins), every map unmaps, nothing
 *                left at rest.
 *
 * The checks are designed to be free of false positives: every "violation"
 * is a state that the grant protocol (spec §3.3, §5.2, §10.2) rules out.
 * Frame contents shared between threads are only accessed with relaxed atomics
 * by the backend (the spec allows racing copies into one granted frame; they
 * are not a bug in the core), and with plain accesses by the guest while the
 * frame is revoked, so ThreadSanitizer reports any missing happens-before edge
 * between the core's flag updates and the guest's end access.
 *
 * Usage: test_concurrency [-t seconds] [case...]  (GNTDP_TEST_SECONDS also
 * sets the duration; default 3 s, 1.5 s under ThreadSanitizer).
 * Exit status 0 pass, 1 fail, 77 skip.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gntdp/gnttab.h>
#include <gntdp/xen_grant_table.h>

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#define DOM_G ((gntdp_domid_t)1)
#define DOM_B_UNPRIV ((gntdp_domid_t)2)
#define DOM_B_PRIV ((gntdp_domid_t)0)

#define NB_REFS 64u  /* refs FIRST_REF .. FIRST_REF + NB_REFS - 1 */
#define FIRST_REF 8u /* ref FIRST_REF + i grants G's gfn i */
#define B_RAM 64u    /* B's RAM frames; backend t owns gfns t*16 .. t*16+15 */
#define B_FRAMES_PER_THREAD 16u
#define MAP_GFN_BASE 4096u /* B's host mappings go at gfn MAP_GFN_BASE + t*512 + k */
#define MAP_GFNS_PER_THREAD 512u
#define MAX_BACKENDS 4u
#define MAX_GUESTS 2u
#define MAX_BATCH 32u
#define FRAME_SIZE GNTDP_PAGE_SIZE

/* Per-frame state the guest maintains (guest_state[i]). */
#define ST_GRANTED 0x1u
#define ST_RO 0x2u
#define ST_EPOCH_SHIFT 8

#define RW_FLAGS (GNTDP_GTF_READING | GNTDP_GTF_WRITING)

static double test_seconds;

/* ---- Small helpers ------------------------------------------------------- */

static uint64_t
rnd(uint64_t *s)
{
	/* xorshift64*: cheap, per thread, deterministic for a given seed. */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static atomic_ulong violations;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Count a broken invariant; print the first few with enough context to reproduce. */
static void
violation(const char *fmt, ...)
{
	unsigned long n = atomic_fetch_add(&violations, 1);
	va_list ap;

	if (n >= 20)
		return;
	flockfile(stderr);
	fputs("VIOLATION: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static bool
status_in(int16_t st, const int16_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == st)
			return true;
	return false;
}

/*
 * Frame bytes shared between threads are accessed with relaxed atomics by the
 * backend side: concurrent grantee writes into one granted frame are legal and
 * must not drown real reports in ThreadSanitizer noise.
 */
static void
relaxed_copy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((((uintptr_t)d ^ (uintptr_t)s) & 7u) == 0) {
		while (n > 0 && ((uintptr_t)d & 7u) != 0) {
			__atomic_store_n(d++, __atomic_load_n(s++, __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
			n--;
		}
		for (; n >= 8; n -= 8, d += 8, s += 8)
			__atomic_store_n((uint64_t *)(void *)d,
					 __atomic_load_n((const uint64_t *)(const void *)s,
							 __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
	}
	for (; n > 0; n--)
		__atomic_store_n(d++, __atomic_load_n(s++, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

/* ---- The world shared by the revoke_* cases ------------------------------- */

struct world {
	struct gntdp_gnttab *gt;
	gntdp_domid_t b;                   /* backend domid */
	struct gntdp_grant_entry_v1 *gent; /* G's entries */
	uint32_t g_nr_entries;
	uintptr_t g_ram;                 /* G's RAM, contiguous */
	_Atomic uint32_t state[NB_REFS]; /* guest-maintained, ST_* | epoch */
	_Atomic uint32_t live[NB_REFS];  /* B's live handles on ref FIRST_REF + i */
	atomic_bool stop;
	/* statistics */
	atomic_ulong copy_st[GNTDP_GNTST_COUNT];
	atomic_ulong map_st[GNTDP_GNTST_COUNT];
	atomic_ulong end_ok;
	atomic_ulong end_busy;
	atomic_ulong ro_flips;
	atomic_ulong regrants;
};

/* The copy function has no context argument: the world it checks is global. */
static struct world *cur_world;

static void
count_status(atomic_ulong *hist, int16_t st)
{
	if (st <= 0 && st > -GNTDP_GNTST_COUNT)
		atomic_fetch_add_explicit(&hist[-st], 1, memory_order_relaxed);
}

static void
check_frame_access(const void *p, size_t n, bool write, const char *what)
{
	struct world *w = cur_world;
	uintptr_t a = (uintptr_t)p;
	uintptr_t end = w->g_ram + (uintptr_t)NB_REFS * FRAME_SIZE;
	uint32_t i, st;

	if (a < w->g_ram || a >= end)
		return;
	if (a + n > end || (a - w->g_ram) / FRAME_SIZE != (a + n - 1 - w->g_ram) / FRAME_SIZE) {
		violation("%s: access [%#" PRIxPTR ", +%zu) crosses a frame", what, a, n);
		return;
	}
	i = (uint32_t)((a - w->g_ram) / FRAME_SIZE);
	/*
	 * Read while a pin is held: if the guest's end access (resp. set
	 * read-only) had succeeded before this point, the protocol is broken
	 * whether the pin came before (flags ignored) or after (entry invalid).
	 */
	st = atomic_load(&w->state[i]);
	if (!(st & ST_GRANTED))
		violation("%s: %s frame %u (ref %u) after its end access succeeded (epoch %u)",
			  what, write ? "write to" : "read from", i, FIRST_REF + i,
			  st >> ST_EPOCH_SHIFT);
	else if (write && (st & ST_RO))
		violation("%s: write to frame %u (ref %u) after set_readonly succeeded", what, i,
			  FIRST_REF + i);
}

static void
checked_copy(void *dst, const void *src, size_t n)
{
	if (n == 0 || n > FRAME_SIZE)
		violation("copy fn called with n=%zu", n);
	check_frame_access(src, n, false, "copy");
	check_frame_access(dst, n, true, "copy");
	relaxed_copy(dst, src, n);
	/* Again after the bytes moved: the pin must have been held throughout. */
	check_frame_access(src, n, false, "copy(after)");
	check_frame_access(dst, n, true, "copy(after)");
}

static uint8_t
poison_byte(uint32_t i)
{
	return (uint8_t)(0xa5u ^ i);
}

static int
world_create(struct world *w, bool b_priv)
{
	struct gntdp_gnttab_conf conf;
	struct gntdp_domain_conf dc;
	int rc;

	memset(w, 0, sizeof(*w));
	gntdp_gnttab_conf_init(&conf);
	rc = gntdp_gnttab_create(&conf, &w->gt);
	if (rc != 0) {
		fprintf(stderr, "gntdp_gnttab_create: %d\n", rc);
		return rc;
	}
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_G;
	dc.nr_frames = NB_REFS;
	rc = gntdp_domain_create(w->gt, &dc);
	if (rc != 0) {
		fprintf(stderr, "gntdp_domain_create(G): %d\n", rc);
		return rc;
	}
	w->b = b_priv ? DOM_B_PRIV : DOM_B_UNPRIV;
	gntdp_domain_conf_init(&dc);
	dc.domid = w->b;
	dc.privileged = b_priv;
	dc.nr_frames = B_RAM;
	dc.p2m_size = MAP_GFN_BASE + MAX_BACKENDS * MAP_GFNS_PER_THREAD;
	dc.max_maptrack_frames = 8;
	rc = gntdp_domain_create(w->gt, &dc);
	if (rc != 0) {
		fprintf(stderr, "gntdp_domain_create(B): %d\n", rc);
		return rc;
	}
	rc = gntdp_guest_table(w->gt, DOM_G, &w->gent, &w->g_nr_entries);
	if (rc != 0 || w->g_nr_entries < FIRST_REF + NB_REFS) {
		fprintf(stderr, "gntdp_guest_table(G): %d, %u entries\n", rc, w->g_nr_entries);
		return rc != 0 ? rc : -1;
	}
	w->g_ram = (uintptr_t)gntdp_domain_frame(w->gt, DOM_G, 0);
	for (uint32_t i = 0; i < NB_REFS; i++) {
		if ((uintptr_t)gntdp_domain_frame(w->gt, DOM_G, i) != w->g_ram + i * FRAME_SIZE) {
			fprintf(stderr, "G's RAM is not contiguous at gfn %u\n", i);
			return -1;
		}
		atomic_init(&w->state[i], (1u << ST_EPOCH_SHIFT) | ST_GRANTED);
		atomic_init(&w->live[i], 0);
		rc = gntdp_guest_grant_access(&w->gent[FIRST_REF + i], w->b, i, false);
		if (rc != 0) {
			fprintf(stderr, "initial grant of ref %u: %d\n", FIRST_REF + i, rc);
			return rc;
		}
	}
	atomic_init(&w->stop, false);
	return 0;
}

/* ---- Guest threads (domain G) -------------------------------------------- */

struct guest_arg {
	struct world *w;
	unsigned int idx;
	unsigned int nb;
	uint64_t seed;
};

/* End access with retries; returns true once it succeeded. */
static bool
guest_revoke(struct world *w, uint32_t i)
{
	struct gntdp_grant_entry_v1 *e = &w->gent[FIRST_REF + i];
	double deadline = 0;
	uint32_t st;
	int rc;

	for (;;) {
		rc = gntdp_guest_end_access(e);
		if (rc == 0)
			break;
		if (rc != -EBUSY) {
			violation("end_access(ref %u) returned %d", FIRST_REF + i, rc);
			return false;
		}
		atomic_fetch_add_explicit(&w->end_busy, 1, memory_order_relaxed);
		/* Backends hold pins for one batch only: this terminates unless pins leak. */
		if (deadline == 0)
			deadline = now_s() + 5.0;
		else if (now_s() > deadline) {
			violation(
				"end_access(ref %u) still busy after 5 s (flags %#x): leaked pin?",
				FIRST_REF + i, __atomic_load_n(&e->flags, __ATOMIC_RELAXED));
			return false;
		}
		sched_yield();
	}
	/*
	 * Invariant (b). B raises live[] only after its map succeeded and lowers
	 * it before issuing the unmap, so a non-zero value here means a handle
	 * that was certainly live at some point after our end access succeeded:
	 * either end access succeeded under a pin, or a map succeeded on an
	 * entry that was already invalid. Both are core bugs.
	 */
	if (atomic_load(&w->live[i]) != 0)
		violation("end_access(ref %u) succeeded while B holds %u live handle(s)",
			  FIRST_REF + i, atomic_load(&w->live[i]));
	st = atomic_load(&w->state[i]);
	atomic_store(&w->state[i], st & ~(ST_GRANTED | ST_RO));
	atomic_fetch_add_explicit(&w->end_ok, 1, memory_order_relaxed);
	/* Plain writes: TSan reports them if the core's release of the flags does not order
	 * the backend's last access before our successful end access. */
	memset((void *)(w->g_ram + (uintptr_t)i * FRAME_SIZE), poison_byte(i), FRAME_SIZE);
	return true;
}

static void
guest_regrant(struct world *w, uint32_t i, bool ro)
{
	const unsigned char *f = (const unsigned char *)(w->g_ram + (uintptr_t)i * FRAME_SIZE);
	uint32_t st = atomic_load(&w->state[i]);
	uint32_t epoch = (st >> ST_EPOCH_SHIFT) + 1;
	int rc;

	for (uint32_t k = 0; k < FRAME_SIZE; k++) {
		if (f[k] != poison_byte(i)) {
			violation("frame %u byte %u changed while revoked (%#x, poison %#x)", i, k,
				  f[k], poison_byte(i));
			break;
		}
	}
	/* Publish "granted" before the grant so no legal access is ever flagged. */
	atomic_store(&w->state[i], (epoch << ST_EPOCH_SHIFT) | ST_GRANTED | (ro ? ST_RO : 0u));
	rc = gntdp_guest_grant_access(&w->gent[FIRST_REF + i], w->b, i, ro);
	if (rc != 0)
		violation("grant_access(ref %u) after a successful end access: %d", FIRST_REF + i,
			  rc);
	atomic_fetch_add_explicit(&w->regrants, 1, memory_order_relaxed);
}

static void
guest_flip(struct world *w, uint32_t i)
{
	struct gntdp_grant_entry_v1 *e = &w->gent[FIRST_REF + i];
	uint32_t st = atomic_load(&w->state[i]);
	int rc;

	if (st & ST_RO) {
		/* Drop RO from our state first: writes are legal only after set_writable. */
		atomic_store(&w->state[i], st & ~ST_RO);
		gntdp_guest_set_writable(e);
	} else {
		rc = gntdp_guest_set_readonly(e);
		if (rc == 0)
			atomic_store(&w->state[i], st | ST_RO);
		else if (rc != -EBUSY)
			violation("set_readonly(ref %u) returned %d", FIRST_REF + i, rc);
	}
	atomic_fetch_add_explicit(&w->ro_flips, 1, memory_order_relaxed);
}

static void *
guest_main(void *arg)
{
	struct guest_arg *ga = arg;
	struct world *w = ga->w;
	uint64_t s = ga->seed;

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		uint32_t i = (uint32_t)(rnd(&s) % (NB_REFS / ga->nb)) * ga->nb + ga->idx;
		uint32_t st = atomic_load(&w->state[i]);
		unsigned int r = (unsigned int)(rnd(&s) % 8);

		if (!(st & ST_GRANTED)) {
			guest_regrant(w, i, rnd(&s) & 1);
		} else if (r < 3) {
			guest_revoke(w, i);
		} else if (r < 5) {
			guest_flip(w, i);
		} else {
			/* Leave the grant alone for a while so backends find it usable. */
			sched_yield();
		}
	}
	return NULL;
}

/* ---- Backend threads (domain B, one context each) ------------------------ */

struct backend_arg {
	struct world *w;
	struct gntdp_gnttab_ctx *ctx;
	unsigned int idx;
	bool persistent;
	uint64_t seed;
	unsigned long batches;
};

static const int16_t copy_allowed[] = {GNTDP_GNTST_OKAY, GNTDP_GNTST_GENERAL_ERROR};
static const int16_t copy_allowed_crossing[] = {GNTDP_GNTST_OKAY, GNTDP_GNTST_GENERAL_ERROR,
						GNTDP_GNTST_BAD_COPY_ARG};
static const int16_t map_allowed[] = {GNTDP_GNTST_OKAY, GNTDP_GNTST_GENERAL_ERROR,
				      GNTDP_GNTST_NO_SPACE};

static void
fill_copy_side(struct gntdp_gnttab_copy_ptr *p, bool gref, uint32_t i, uint64_t b_gfn, uint16_t off,
	       gntdp_domid_t g)
{
	memset(p, 0, sizeof(*p));
	if (gref) {
		p->u.ref = FIRST_REF + i;
		p->domid = g;
	} else {
		p->u.gmfn = b_gfn;
		p->domid = GNTDP_DOMID_SELF;
	}
	p->offset = off;
}

static void
backend_copies(struct backend_arg *ba, uint64_t *s)
{
	struct world *w = ba->w;
	struct gntdp_gnttab_copy ops[MAX_BATCH];
	bool crossing[MAX_BATCH];
	unsigned int n = 1 + (unsigned int)(rnd(s) % MAX_BATCH);
	uint32_t last_i = (uint32_t)(rnd(s) % NB_REFS);
	int rc;

	for (unsigned int k = 0; k < n; k++) {
		struct gntdp_gnttab_copy *op = &ops[k];
		unsigned int kind = (unsigned int)(rnd(s) % 3);
		/* Half the ops reuse the previous ref: exercises the copy-buffer cache. */
		uint32_t i = (rnd(s) & 1) ? last_i : (uint32_t)(rnd(s) % NB_REFS);
		uint32_t j = (uint32_t)(rnd(s) % NB_REFS);
		uint64_t bg = ba->idx * B_FRAMES_PER_THREAD + rnd(s) % B_FRAMES_PER_THREAD;
		uint32_t len = (rnd(s) % 8 == 0) ? 1 + (uint32_t)(rnd(s) % FRAME_SIZE)
						 : 1 + (uint32_t)(rnd(s) % 256);
		uint32_t soff, doff;

		last_i = i;
		crossing[k] = len >= 2 && rnd(s) % 32 == 0;
		soff = (uint32_t)(rnd(s) % (FRAME_SIZE - len + 1));
		doff = (uint32_t)(rnd(s) % (FRAME_SIZE - len + 1));
		if (crossing[k]) {
			/* offset + len in [4097, 4096 + len - 1]: a page crossing. */
			uint32_t o = FRAME_SIZE - len + 1 + (uint32_t)(rnd(s) % (len - 1));

			if (rnd(s) & 1)
				soff = o;
			else
				doff = o;
		}
		memset(op, 0, sizeof(*op));
		switch (kind) {
		case 0: /* gref -> own frame */
			fill_copy_side(&op->source, true, i, 0, (uint16_t)soff, DOM_G);
			fill_copy_side(&op->dest, false, 0, bg, (uint16_t)doff, DOM_G);
			op->flags = GNTDP_GNTCOPY_SOURCE_GREF;
			break;
		case 1: /* own frame -> gref */
			fill_copy_side(&op->source, false, 0, bg, (uint16_t)soff, DOM_G);
			fill_copy_side(&op->dest, true, i, 0, (uint16_t)doff, DOM_G);
			op->flags = GNTDP_GNTCOPY_DEST_GREF;
			break;
		default: /* gref -> gref */
			fill_copy_side(&op->source, true, i, 0, (uint16_t)soff, DOM_G);
			fill_copy_side(&op->dest, true, j, 0, (uint16_t)doff, DOM_G);
			op->flags = GNTDP_GNTCOPY_SOURCE_GREF | GNTDP_GNTCOPY_DEST_GREF;
			break;
		}
		op->len = (uint16_t)len;
		op->status = 0x7fff;
	}
	rc = gntdp_gnttab_op(ba->ctx, w->b, GNTDP_GNTTABOP_COPY, ops, n);
	if (rc != 0) {
		violation("copy batch of %u: rc %d", n, rc);
		return;
	}
	for (unsigned int k = 0; k < n; k++) {
		int16_t st = ops[k].status;

		count_status(w->copy_st, st);
		if (crossing[k] ? !status_in(st, copy_allowed_crossing, 3)
				: !status_in(st, copy_allowed, 2))
			violation("copy op %u/%u (src ref/gfn %" PRIu64 " off %u, dst %" PRIu64
				  " off %u, len %u, flags %#x): status %d (%s) not allowed",
				  k, n, ops[k].source.u.gmfn, ops[k].source.offset,
				  ops[k].dest.u.gmfn, ops[k].dest.offset, ops[k].len, ops[k].flags,
				  st, gntdp_gntst_name(st));
	}
}

struct live_map {
	uint32_t i;
	uint32_t epoch;
	uint32_t flags;
	uint64_t gfn;
	uint32_t handle;
	uint64_t dev;
};

/* Touch a mapped frame as a backend would: write if writable, read otherwise. */
static void
touch_mapping(struct world *w, const struct live_map *m, uint64_t *s)
{
	uintptr_t f = w->g_ram + (uintptr_t)m->i * FRAME_SIZE;
	uint32_t off = (uint32_t)(rnd(s) % (FRAME_SIZE / 8)) * 8;
	uint64_t *word = (uint64_t *)(f + off);

	if (m->flags & GNTDP_GNTMAP_READONLY) {
		check_frame_access(word, 8, false, "mapped read");
		(void)__atomic_load_n(word, __ATOMIC_RELAXED);
	} else {
		check_frame_access(word, 8, true, "mapped write");
		__atomic_store_n(word, rnd(s), __ATOMIC_RELAXED);
	}
}

static void
backend_maps(struct backend_arg *ba, uint64_t *s)
{
	static const uint32_t kinds[] = {GNTDP_GNTMAP_HOST_MAP, GNTDP_GNTMAP_HOST_MAP,
					 GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP,
					 GNTDP_GNTMAP_DEVICE_MAP};
	struct world *w = ba->w;
	struct gntdp_gnttab_map_grant_ref mops[MAX_BATCH];
	struct gntdp_gnttab_unmap_grant_ref uops[MAX_BATCH];
	struct live_map lm[MAX_BATCH];
	unsigned int n = 1 + (unsigned int)(rnd(s) % MAX_BATCH);
	unsigned int nl = 0;
	int rc;

	for (unsigned int k = 0; k < n; k++) {
		uint32_t fl = kinds[rnd(s) % 4] | ((rnd(s) & 1) ? GNTDP_GNTMAP_READONLY : 0u);

		memset(&mops[k], 0, sizeof(mops[k]));
		mops[k].ref = FIRST_REF + (uint32_t)(rnd(s) % NB_REFS);
		mops[k].dom = DOM_G;
		mops[k].flags = fl;
		mops[k].host_addr =
			(fl & GNTDP_GNTMAP_HOST_MAP)
				? (uint64_t)(MAP_GFN_BASE + ba->idx * MAP_GFNS_PER_THREAD + k)
					  << GNTDP_PAGE_SHIFT
				: 0;
		mops[k].status = 0x7fff;
	}
	rc = gntdp_gnttab_op(ba->ctx, w->b, GNTDP_GNTTABOP_MAP_GRANT_REF, mops, n);
	if (rc != 0) {
		violation("map batch of %u: rc %d", n, rc);
		return;
	}
	for (unsigned int k = 0; k < n; k++) {
		struct gntdp_gnttab_map_grant_ref *m = &mops[k];
		uint32_t i = m->ref - FIRST_REF;
		uintptr_t want = w->g_ram + (uintptr_t)i * FRAME_SIZE;
		uint32_t st;

		count_status(w->map_st, m->status);
		if (!status_in(m->status, map_allowed, 3))
			violation("map ref %u flags %#x: status %d (%s) not allowed", m->ref,
				  m->flags, m->status, gntdp_gntst_name(m->status));
		if (m->status != GNTDP_GNTST_OKAY)
			continue;
		/* Raised after success, lowered before the unmap: see guest_revoke(). */
		atomic_fetch_add(&w->live[i], 1);
		st = atomic_load(&w->state[i]);
		if (!(st & ST_GRANTED))
			violation("map of ref %u succeeded after its end access (epoch %u)", m->ref,
				  st >> ST_EPOCH_SHIFT);
		if (!(m->flags & GNTDP_GNTMAP_READONLY) && (st & ST_RO))
			violation("writable map of ref %u succeeded on a read-only grant", m->ref);
		if (m->dev_bus_addr != (uint64_t)want)
			violation("map ref %u: dev_bus_addr %#" PRIx64 ", frame at %#" PRIxPTR,
				  m->ref, m->dev_bus_addr, want);
		if ((m->flags & GNTDP_GNTMAP_HOST_MAP) &&
		    (uintptr_t)gntdp_domain_frame(w->gt, w->b, m->host_addr >> GNTDP_PAGE_SHIFT) !=
			    want)
			violation("map ref %u: B's gfn %#" PRIx64 " does not show G's frame",
				  m->ref, m->host_addr >> GNTDP_PAGE_SHIFT);
		lm[nl].i = i;
		lm[nl].epoch = st >> ST_EPOCH_SHIFT;
		lm[nl].flags = m->flags;
		lm[nl].gfn = m->host_addr >> GNTDP_PAGE_SHIFT;
		lm[nl].handle = m->handle;
		lm[nl].dev = m->dev_bus_addr;
		nl++;
	}
	for (unsigned int k = 0; k < nl; k++)
		touch_mapping(w, &lm[k], s);
	if (rnd(s) % 4 == 0)
		sched_yield(); /* hold the pins across a reschedule now and then */
	for (unsigned int k = 0; k < nl; k++) {
		uint32_t st = atomic_load(&w->state[lm[k].i]);

		if (!(st & ST_GRANTED) || (st >> ST_EPOCH_SHIFT) != lm[k].epoch)
			violation("ref %u was revoked (epoch %u -> %u) while handle %u was live",
				  FIRST_REF + lm[k].i, lm[k].epoch, st >> ST_EPOCH_SHIFT,
				  lm[k].handle);
		atomic_fetch_sub(&w->live[lm[k].i], 1);
		memset(&uops[k], 0, sizeof(uops[k]));
		uops[k].handle = lm[k].handle;
		uops[k].host_addr =
			(lm[k].flags & GNTDP_GNTMAP_HOST_MAP) ? lm[k].gfn << GNTDP_PAGE_SHIFT : 0;
		uops[k].dev_bus_addr = (lm[k].flags & GNTDP_GNTMAP_DEVICE_MAP) ? lm[k].dev : 0;
		uops[k].status = 0x7fff;
	}
	if (nl == 0)
		return;
	rc = gntdp_gnttab_op(ba->ctx, w->b, GNTDP_GNTTABOP_UNMAP_GRANT_REF, uops, nl);
	if (rc != 0) {
		violation("unmap batch of %u: rc %d", nl, rc);
		return;
	}
	for (unsigned int k = 0; k < nl; k++) {
		if (uops[k].status != GNTDP_GNTST_OKAY)
			violation("unmap handle %u (ref %u, flags %#x): status %d (%s)",
				  uops[k].handle, FIRST_REF + lm[k].i, lm[k].flags, uops[k].status,
				  gntdp_gntst_name(uops[k].status));
		if ((lm[k].flags & GNTDP_GNTMAP_HOST_MAP) &&
		    gntdp_domain_frame(w->gt, w->b, lm[k].gfn) != NULL)
			violation("gfn %#" PRIx64 " still mapped after unmapping handle %u",
				  lm[k].gfn, uops[k].handle);
	}
}

static void *
backend_main(void *arg)
{
	struct backend_arg *ba = arg;
	struct world *w = ba->w;
	uint64_t s = ba->seed;
	uint64_t tick = 0;

	gntdp_gnttab_ctx_set_copy(ba->ctx, checked_copy);
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		if (ba->persistent)
			gntdp_gnttab_ctx_set_now(ba->ctx, ++tick);
		if (rnd(&s) % 3 != 0)
			backend_copies(ba, &s);
		else
			backend_maps(ba, &s);
		if (ba->persistent) {
			/* Keep cached pins for two ticks only: end access must stay possible. */
			gntdp_gnttab_ctx_expire(ba->ctx, tick > 2 ? tick - 2 : 0);
			gntdp_gnttab_ctx_quiescent(ba->ctx);
		}
		ba->batches++;
	}
	if (ba->persistent)
		gntdp_gnttab_ctx_expire(ba->ctx, UINT64_MAX);
	return NULL;
}

/* ---- revoke_* cases ------------------------------------------------------- */

struct revoke_conf {
	bool b_priv;
	bool persistent;
	unsigned int nb_guests;
	unsigned int nb_backends;
};

static int
check_quiet_world(struct world *w)
{
	struct gntdp_domain_info gi, bi;
	int bad = 0;

	/* Invariant (d): with nothing mapped and no batch running, no entry may look in use. */
	for (uint32_t i = 0; i < NB_REFS; i++) {
		uint16_t fl = __atomic_load_n(&w->gent[FIRST_REF + i].flags, __ATOMIC_ACQUIRE);

		if (fl & RW_FLAGS) {
			fprintf(stderr, "FAIL: ref %u flags %#x still reading/writing at the end\n",
				FIRST_REF + i, fl);
			bad = 1;
		}
	}
	if (gntdp_domain_info(w->gt, DOM_G, &gi) != 0 || gntdp_domain_info(w->gt, w->b, &bi) != 0) {
		fprintf(stderr, "FAIL: gntdp_domain_info failed\n");
		return 1;
	}
	if (gi.pinned_entries != 0) {
		fprintf(stderr, "FAIL: G has %u pinned entries at the end\n", gi.pinned_entries);
		bad = 1;
	}
	if (bi.live_mappings != 0) {
		fprintf(stderr, "FAIL: B has %u live mappings at the end\n", bi.live_mappings);
		bad = 1;
	}
	/* Every still-granted entry must now end access at the first try. */
	for (uint32_t i = 0; i < NB_REFS; i++) {
		if (!(atomic_load(&w->state[i]) & ST_GRANTED))
			continue;
		if (gntdp_guest_end_access(&w->gent[FIRST_REF + i]) != 0) {
			fprintf(stderr, "FAIL: final end access of ref %u refused\n",
				FIRST_REF + i);
			bad = 1;
		}
	}
	return bad;
}

static void
print_hist(const char *what, atomic_ulong *hist)
{
	printf("  %s:", what);
	for (int k = 0; k < GNTDP_GNTST_COUNT; k++) {
		unsigned long v = atomic_load(&hist[k]);

		if (v != 0)
			printf(" %s=%lu", gntdp_gntst_name((int16_t)-k), v);
	}
	printf("\n");
}

static int
run_revoke(const struct revoke_conf *rc_conf)
{
	static struct world world; /* large: keep it off the stack */
	struct world *w = &world;
	pthread_t gth[MAX_GUESTS], bth[MAX_BACKENDS];
	struct guest_arg ga[MAX_GUESTS];
	struct backend_arg ba[MAX_BACKENDS];
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 64};
	unsigned long batches = 0;
	int bad = 0;

	atomic_store(&violations, 0);
	if (world_create(w, rc_conf->b_priv) != 0) {
		gntdp_gnttab_destroy(w->gt);
		return 1;
	}
	cur_world = w;
	for (unsigned int t = 0; t < rc_conf->nb_backends; t++) {
		ba[t] = (struct backend_arg){.w = w,
					     .idx = t,
					     .persistent = rc_conf->persistent,
					     .seed = 0x9e3779b97f4a7c15ULL * (t + 1)};
		if (gntdp_gnttab_ctx_create(w->gt, rc_conf->persistent ? &cc : NULL, &ba[t].ctx) !=
		    0) {
			fprintf(stderr, "FAIL: gntdp_gnttab_ctx_create\n");
			return 1;
		}
	}
	for (unsigned int t = 0; t < rc_conf->nb_guests; t++)
		ga[t] = (struct guest_arg){.w = w,
					   .idx = t,
					   .nb = rc_conf->nb_guests,
					   .seed = 0xd1b54a32d192ed03ULL * (t + 7)};
	for (unsigned int t = 0; t < rc_conf->nb_backends; t++)
		pthread_create(&bth[t], NULL, backend_main, &ba[t]);
	for (unsigned int t = 0; t < rc_conf->nb_guests; t++)
		pthread_create(&gth[t], NULL, guest_main, &ga[t]);

	for (double end = now_s() + test_seconds; now_s() < end;) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	atomic_store(&w->stop, true);
	for (unsigned int t = 0; t < rc_conf->nb_guests; t++)
		pthread_join(gth[t], NULL);
	for (unsigned int t = 0; t < rc_conf->nb_backends; t++) {
		pthread_join(bth[t], NULL);
		batches += ba[t].batches;
	}

	printf("  %lu backend batches, %lu end access ok, %lu busy retries, %lu regrants, "
	       "%lu ro flips\n",
	       batches, atomic_load(&w->end_ok), atomic_load(&w->end_busy),
	       atomic_load(&w->regrants), atomic_load(&w->ro_flips));
	print_hist("copy", w->copy_st);
	print_hist("map", w->map_st);
	bad |= check_quiet_world(w);
	/* A run where nothing happened proves nothing. */
	if (atomic_load(&w->copy_st[0]) == 0 || atomic_load(&w->map_st[0]) == 0 ||
	    atomic_load(&w->end_ok) == 0) {
		fprintf(stderr,
			"FAIL: no progress (copies ok %lu, maps ok %lu, end access ok %lu)\n",
			atomic_load(&w->copy_st[0]), atomic_load(&w->map_st[0]),
			atomic_load(&w->end_ok));
		bad = 1;
	}
	for (unsigned int t = 0; t < rc_conf->nb_backends; t++)
		gntdp_gnttab_ctx_destroy(ba[t].ctx);
	gntdp_gnttab_destroy(w->gt);
	cur_world = NULL;
	if (atomic_load(&violations) != 0) {
		fprintf(stderr, "FAIL: %lu invariant violations\n", atomic_load(&violations));
		bad = 1;
	}
	return bad;
}

static int
test_revoke_unpriv(void)
{
	const struct revoke_conf c = {.b_priv = false, .nb_guests = 1, .nb_backends = 2};

	return run_revoke(&c);
}

static int
test_revoke_priv_two_guests(void)
{
	const struct revoke_conf c = {.b_priv = true, .nb_guests = 2, .nb_backends = 2};

	return run_revoke(&c);
}

static int
test_revoke_persistent_cache(void)
{
	const struct revoke_conf c = {.persistent = true, .nb_guests = 1, .nb_backends = 2};

	return run_revoke(&c);
}

/* ---- maptrack_race (XSA-228) --------------------------------------------- */

#define MT_FRAMES 2u                                      /* B's maptrack limit in frames */
#define MT_HANDLES (MT_FRAMES * GNTDP_MAPTRACK_PER_FRAME) /* 512 handles */
#define MT_THREADS 4u
#define MT_HOLD 200u /* handles one thread holds at most */

struct mt_shared {
	struct gntdp_gnttab *gt;
	_Atomic uint32_t owner[MT_HANDLES]; /* 0 free, else thread + 1 */
	atomic_bool stop;
	atomic_ulong maps_ok;
	atomic_ulong no_space;
	atomic_ulong general_error;
	atomic_ulong unmaps_ok;
};

struct mt_arg {
	struct mt_shared *sh;
	struct gntdp_gnttab_ctx *ctx;
	unsigned int idx;
	uint64_t seed;
};

struct mt_held {
	uint32_t handle;
	uint32_t slot; /* host gfn slot, or UINT32_MAX for a device-only map */
	uint64_t host_addr;
	uint64_t dev;
};

struct mt_thread {
	struct mt_held held[MT_HOLD];
	unsigned int nh;
	uint32_t free_slots[MT_HOLD]; /* stack of unused host gfn slots */
	unsigned int nfree;
};

static void
mt_unmap(struct mt_arg *a, struct mt_thread *mt, unsigned int n)
{
	struct gntdp_gnttab_unmap_grant_ref uops[MAX_BATCH];
	struct mt_held *held = &mt->held[mt->nh - n];
	int rc;

	for (unsigned int k = 0; k < n; k++) {
		uint32_t h = held[k].handle;
		uint32_t prev = atomic_exchange(&a->sh->owner[h], 0);

		/* Released before the unmap: the handle may be reissued as soon as it is freed. */
		if (prev != a->idx + 1)
			violation("handle %u held by thread %u was owned by %u", h, a->idx + 1,
				  prev);
		memset(&uops[k], 0, sizeof(uops[k]));
		uops[k].handle = h;
		uops[k].host_addr = held[k].host_addr;
		uops[k].dev_bus_addr = held[k].dev;
		uops[k].status = 0x7fff;
	}
	rc = gntdp_gnttab_op(a->ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_UNMAP_GRANT_REF, uops, n);
	if (rc != 0)
		violation("maptrack: unmap rc %d", rc);
	for (unsigned int k = 0; k < n; k++) {
		if (rc == 0 && uops[k].status != GNTDP_GNTST_OKAY)
			violation("maptrack: unmap of live handle %u: %s", uops[k].handle,
				  gntdp_gntst_name(uops[k].status));
		else if (rc == 0)
			atomic_fetch_add_explicit(&a->sh->unmaps_ok, 1, memory_order_relaxed);
		if (held[k].slot != UINT32_MAX)
			mt->free_slots[mt->nfree++] = held[k].slot;
	}
	mt->nh -= n;
}

static void
mt_map(struct mt_arg *a, struct mt_thread *mt, uint64_t *s)
{
	struct gntdp_gnttab_map_grant_ref mops[MAX_BATCH];
	uint32_t slot[MAX_BATCH];
	unsigned int n = 1 + (unsigned int)(rnd(s) % MAX_BATCH);

	if (n > MT_HOLD - mt->nh)
		n = MT_HOLD - mt->nh;
	for (unsigned int k = 0; k < n; k++) {
		bool host = (rnd(s) & 1) && mt->nfree > 0;

		memset(&mops[k], 0, sizeof(mops[k]));
		mops[k].dom = DOM_G;
		mops[k].ref = FIRST_REF + (uint32_t)(rnd(s) % NB_REFS);
		mops[k].flags = (host ? GNTDP_GNTMAP_HOST_MAP : GNTDP_GNTMAP_DEVICE_MAP) |
				((rnd(s) & 1) ? GNTDP_GNTMAP_READONLY : 0u);
		slot[k] = host ? mt->free_slots[--mt->nfree] : UINT32_MAX;
		mops[k].host_addr =
			host ? (uint64_t)(MAP_GFN_BASE + a->idx * MAP_GFNS_PER_THREAD + slot[k])
					<< GNTDP_PAGE_SHIFT
			     : 0;
		mops[k].status = 0x7fff;
	}
	if (gntdp_gnttab_op(a->ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_MAP_GRANT_REF, mops, n) != 0) {
		violation("maptrack: map rc != 0");
		return;
	}
	for (unsigned int k = 0; k < n; k++) {
		uint32_t h = mops[k].handle;
		uint32_t zero = 0;
		bool keep = false;

		switch (mops[k].status) {
		case GNTDP_GNTST_NO_SPACE:
			atomic_fetch_add_explicit(&a->sh->no_space, 1, memory_order_relaxed);
			break;
		case GNTDP_GNTST_GENERAL_ERROR: /* a pin counter at 128 */
			atomic_fetch_add_explicit(&a->sh->general_error, 1, memory_order_relaxed);
			break;
		case GNTDP_GNTST_OKAY:
			atomic_fetch_add_explicit(&a->sh->maps_ok, 1, memory_order_relaxed);
			if (h >= MT_HANDLES) {
				violation("maptrack: handle %u beyond the limit %u", h, MT_HANDLES);
				break;
			}
			if (!atomic_compare_exchange_strong(&a->sh->owner[h], &zero, a->idx + 1)) {
				violation("maptrack: handle %u issued to thread %u while live in "
					  "thread %u",
					  h, a->idx + 1, zero);
				break;
			}
			keep = true;
			break;
		default:
			violation("maptrack: map status %s", gntdp_gntst_name(mops[k].status));
			break;
		}
		if (!keep) {
			if (slot[k] != UINT32_MAX)
				mt->free_slots[mt->nfree++] = slot[k];
			continue;
		}
		mt->held[mt->nh].handle = h;
		mt->held[mt->nh].slot = slot[k];
		mt->held[mt->nh].host_addr = mops[k].host_addr;
		mt->held[mt->nh].dev =
			(mops[k].flags & GNTDP_GNTMAP_DEVICE_MAP) ? mops[k].dev_bus_addr : 0;
		mt->nh++;
	}
}

static void *
mt_main(void *arg)
{
	struct mt_arg *a = arg;
	struct mt_thread *mt = calloc(1, sizeof(*mt));
	uint64_t s = a->seed;

	if (mt == NULL) {
		violation("maptrack: out of memory");
		return NULL;
	}
	for (uint32_t k = 0; k < MT_HOLD; k++)
		mt->free_slots[mt->nfree++] = MT_HOLD - 1 - k;
	while (!atomic_load_explicit(&a->sh->stop, memory_order_relaxed)) {
		if (mt->nh == 0 || (mt->nh < MT_HOLD && (rnd(&s) % 8) < 5)) {
			mt_map(a, mt, &s);
		} else {
			/* Unmap a random suffix of the held stack. */
			unsigned int n = 1 + (unsigned int)(rnd(&s) % MAX_BATCH);

			mt_unmap(a, mt, n < mt->nh ? n : mt->nh);
		}
	}
	while (mt->nh > 0)
		mt_unmap(a, mt, mt->nh < MAX_BATCH ? mt->nh : MAX_BATCH);
	free(mt);
	return NULL;
}

/*
 * Map device-only read-only from one context until no_space, check every
 * handle is distinct and below the limit, then unmap them all. *count gets
 * the number of handles obtained.
 */
static int
mt_fill(struct gntdp_gnttab_ctx *ctx, unsigned int *count)
{
	static bool seen[MT_HANDLES];
	static struct mt_held got[MT_HANDLES];
	struct gntdp_gnttab_map_grant_ref m;
	unsigned int n = 0;
	int bad = 0;

	memset(seen, 0, sizeof(seen));
	for (;;) {
		memset(&m, 0, sizeof(m));
		m.dom = DOM_G;
		m.ref = FIRST_REF + n % NB_REFS; /* spread: at most 8 pins per ref */
		m.flags = GNTDP_GNTMAP_DEVICE_MAP | GNTDP_GNTMAP_READONLY;
		if (gntdp_gnttab_op(ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_MAP_GRANT_REF, &m, 1) != 0)
			return 1;
		if (m.status == GNTDP_GNTST_NO_SPACE)
			break;
		if (m.status != GNTDP_GNTST_OKAY || m.handle >= MT_HANDLES || seen[m.handle] ||
		    n == MT_HANDLES) {
			fprintf(stderr, "FAIL: refill map %u: status %s handle %u%s\n", n,
				gntdp_gntst_name(m.status), m.handle,
				m.handle < MT_HANDLES && seen[m.handle] ? " (duplicate)" : "");
			bad = 1;
			break;
		}
		seen[m.handle] = true;
		got[n].handle = m.handle;
		got[n].slot = UINT32_MAX;
		got[n].host_addr = 0;
		got[n].dev = m.dev_bus_addr;
		n++;
	}
	for (unsigned int k = 0; k < n; k++) {
		struct gntdp_gnttab_unmap_grant_ref u;

		memset(&u, 0, sizeof(u));
		u.handle = got[k].handle;
		u.dev_bus_addr = got[k].dev;
		if (gntdp_gnttab_op(ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) !=
			    0 ||
		    u.status != GNTDP_GNTST_OKAY) {
			fprintf(stderr, "FAIL: refill unmap of handle %u: %s\n", got[k].handle,
				gntdp_gntst_name(u.status));
			bad = 1;
		}
	}
	*count = n;
	return bad;
}

static int
test_maptrack_race(void)
{
	static struct mt_shared sh;
	struct gntdp_gnttab_conf conf;
	struct gntdp_domain_conf dc;
	struct gntdp_grant_entry_v1 *ent;
	struct gntdp_domain_info bi, gi;
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS];
	struct gntdp_gnttab_ctx *fill_ctx;
	uint32_t nr;
	unsigned int fill0 = 0, fill1 = 0;
	int bad = 0;

	memset(&sh, 0, sizeof(sh));
	atomic_store(&violations, 0);
	gntdp_gnttab_conf_init(&conf);
	if (gntdp_gnttab_create(&conf, &sh.gt) != 0)
		return 1;
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_G;
	dc.nr_frames = NB_REFS;
	if (gntdp_domain_create(sh.gt, &dc) != 0)
		return 1;
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_B_UNPRIV;
	dc.nr_frames = B_RAM;
	dc.p2m_size = MAP_GFN_BASE + MT_THREADS * MAP_GFNS_PER_THREAD;
	dc.max_maptrack_frames = MT_FRAMES;
	if (gntdp_domain_create(sh.gt, &dc) != 0)
		return 1;
	if (gntdp_guest_table(sh.gt, DOM_G, &ent, &nr) != 0)
		return 1;
	for (uint32_t i = 0; i < NB_REFS; i++)
		if (gntdp_guest_grant_access(&ent[FIRST_REF + i], DOM_B_UNPRIV, i, false) != 0)
			return 1;
	if (gntdp_gnttab_ctx_create(sh.gt, NULL, &fill_ctx) != 0)
		return 1;
	for (unsigned int t = 0; t < MT_THREADS; t++) {
		args[t] = (struct mt_arg){.sh = &sh, .idx = t, .seed = 0x1234567ULL * (t + 3)};
		if (gntdp_gnttab_ctx_create(sh.gt, NULL, &args[t].ctx) != 0)
			return 1;
	}

	/* Capacity seen by one context on a fresh table. */
	bad |= mt_fill(fill_ctx, &fill0);

	for (unsigned int t = 0; t < MT_THREADS; t++)
		pthread_create(&th[t], NULL, mt_main, &args[t]);
	for (double end = now_s() + test_seconds; now_s() < end;) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	atomic_store(&sh.stop, true);
	for (unsigned int t = 0; t < MT_THREADS; t++)
		pthread_join(th[t], NULL);

	printf("  maps ok %lu, unmaps ok %lu, no_space %lu, general_error %lu\n",
	       atomic_load(&sh.maps_ok), atomic_load(&sh.unmaps_ok), atomic_load(&sh.no_space),
	       atomic_load(&sh.general_error));
	if (atomic_load(&sh.maps_ok) != atomic_load(&sh.unmaps_ok)) {
		fprintf(stderr, "FAIL: %lu maps but %lu unmaps\n", atomic_load(&sh.maps_ok),
			atomic_load(&sh.unmaps_ok));
		bad = 1;
	}
	if (atomic_load(&sh.no_space) == 0) {
		fprintf(stderr, "FAIL: the race never reached the maptrack limit\n");
		bad = 1;
	}
	if (gntdp_domain_info(sh.gt, DOM_B_UNPRIV, &bi) != 0 ||
	    gntdp_domain_info(sh.gt, DOM_G, &gi) != 0)
		return 1;
	if (bi.live_mappings != 0 || gi.pinned_entries != 0 || bi.maptrack_limit > MT_HANDLES) {
		fprintf(stderr, "FAIL: after the race: live %u pinned %u maptrack_limit %u\n",
			bi.live_mappings, gi.pinned_entries, bi.maptrack_limit);
		bad = 1;
	}
	/*
	 * No lost handles: a refill from one context must reach the capacity
	 * less one free-list sentinel per context that ever freed handles
	 * (spec §2.3), and never exceed the limit.
	 */
	bad |= mt_fill(fill_ctx, &fill1);
	printf("  refill from one context: %u handles before the race, %u after (limit %u)\n",
	       fill0, fill1, MT_HANDLES);
	if (fill1 + MT_THREADS + 1 < MT_HANDLES || fill1 > MT_HANDLES) {
		fprintf(stderr, "FAIL: refill got %u handles of %u: handles were lost\n", fill1,
			MT_HANDLES);
		bad = 1;
	}
	if (gntdp_domain_info(sh.gt, DOM_B_UNPRIV, &bi) != 0 || bi.live_mappings != 0) {
		fprintf(stderr, "FAIL: %u live mappings after the final unmap\n", bi.live_mappings);
		bad = 1;
	}
	for (unsigned int t = 0; t < MT_THREADS; t++)
		gntdp_gnttab_ctx_destroy(args[t].ctx);
	gntdp_gnttab_ctx_destroy(fill_ctx);
	gntdp_gnttab_destroy(sh.gt);
	if (atomic_load(&violations) != 0) {
		fprintf(stderr, "FAIL: %lu invariant violations\n", atomic_load(&violations));
		bad = 1;
	}
	return bad;
}

/* ---- split_unmap (XSA-218) ----------------------------------------------- */

#define SU_REF FIRST_REF
#define SU_HOLD_GFN (MAP_GFN_BASE + 1)
#define SU_RACE_GFN (MAP_GFN_BASE + 2)
#define SU_MT_FRAMES 1u
#define SU_NB_REFS 8u
#define SU_MAX_SKEW 256u /* pause iterations: sweeps the two unmaps across each other */

/*
 * The main thread and one worker each unmap one part of the same handle.
 * They meet through spinning on generation counters rather than a barrier:
 * a futex wake-up is microseconds late, far longer than an unmap, and the
 * two calls would never overlap.
 */
struct su_shared {
	struct gntdp_gnttab *gt;
	_Atomic uint64_t go;   /* bumped by main: the fields below are published */
	_Atomic uint64_t done; /* set to go by the worker when its unmap finished */
	atomic_bool quit;
	uint32_t handle;
	uint64_t dev;
	unsigned int worker_part; /* 0: host part, 1: device part */
	int16_t st[2];
};

struct su_arg {
	struct su_shared *sh;
	struct gntdp_gnttab_ctx *ctx;
	uint64_t seed;
};

static void
su_spin(unsigned int n)
{
	for (volatile unsigned int i = 0; i < n; i++)
		;
}

/* Spin until *v != old or *quit is set; yield now and then for small machines. */
static uint64_t
su_wait(_Atomic uint64_t *v, uint64_t old, const atomic_bool *quit)
{
	uint64_t x;
	unsigned int spins = 0;

	while ((x = atomic_load_explicit(v, memory_order_acquire)) == old) {
		if (quit != NULL && atomic_load_explicit(quit, memory_order_relaxed))
			return old;
		if (++spins % 1024 == 0)
			sched_yield();
	}
	return x;
}

/*
 * Main's wait for the worker's unmap. A worker that does not come back
 * within 10 s is stuck inside the core (e.g. spinning on a lock in freed
 * memory): fail at once rather than hang until the meson timeout. The
 * worker cannot be joined, so leave through exit().
 */
static void
su_wait_worker(_Atomic uint64_t *done, uint64_t old, unsigned long iter)
{
	double deadline = now_s() + 10.0;
	unsigned int spins = 0;

	while (atomic_load_explicit(done, memory_order_acquire) == old) {
		if (++spins % 1024 == 0) {
			sched_yield();
			if (now_s() > deadline) {
				fprintf(stderr,
					"FAIL: iteration %lu: the worker's unmap has not "
					"returned after 10 s (stuck in the core)\n",
					iter);
				exit(1);
			}
		}
	}
}

static int16_t
su_unmap_part(struct gntdp_gnttab_ctx *ctx, uint32_t handle, unsigned int part, uint64_t dev)
{
	struct gntdp_gnttab_unmap_grant_ref u;

	memset(&u, 0, sizeof(u));
	u.handle = handle;
	if (part == 0)
		u.host_addr = (uint64_t)SU_RACE_GFN << GNTDP_PAGE_SHIFT;
	else
		u.dev_bus_addr = dev;
	u.status = 0x7fff;
	if (gntdp_gnttab_op(ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) != 0)
		return 0x7ffe;
	return u.status;
}

static void *
su_main(void *arg)
{
	struct su_arg *a = arg;
	struct su_shared *sh = a->sh;
	uint64_t gen = 0, s = a->seed;

	for (;;) {
		uint64_t g = su_wait(&sh->go, gen, &sh->quit);

		if (g == gen)
			break; /* quit */
		gen = g;
		su_spin((unsigned int)(rnd(&s) % SU_MAX_SKEW));
		sh->st[sh->worker_part] =
			su_unmap_part(a->ctx, sh->handle, sh->worker_part, sh->dev);
		/* Pairs with the acquire in su_wait() on main's side. */
		atomic_store_explicit(&sh->done, gen, memory_order_release);
	}
	return NULL;
}

static int
su_map(struct gntdp_gnttab_ctx *ctx, uint32_t ref, uint32_t flags, uint64_t gfn, uint32_t *h,
       uint64_t *dev)
{
	struct gntdp_gnttab_map_grant_ref m;

	memset(&m, 0, sizeof(m));
	m.dom = DOM_G;
	m.ref = ref;
	m.flags = flags;
	m.host_addr = gfn << GNTDP_PAGE_SHIFT;
	if (gntdp_gnttab_op(ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_MAP_GRANT_REF, &m, 1) != 0)
		return -1;
	*h = m.handle;
	*dev = m.dev_bus_addr;
	return m.status;
}

/* After each race: exactly the long-lived read-only mapping remains. */
static int
su_check(struct su_shared *sh, struct gntdp_gnttab_ctx *ctx, struct gntdp_grant_entry_v1 *e,
	 unsigned long iter)
{
	struct gntdp_domain_info bi, gi;
	struct gntdp_gnttab_unmap_grant_ref u;
	uint16_t fl = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	if (sh->st[0] != GNTDP_GNTST_OKAY || sh->st[1] != GNTDP_GNTST_OKAY) {
		fprintf(stderr, "FAIL: iteration %lu: host-part unmap %d, device-part unmap %d\n",
			iter, sh->st[0], sh->st[1]);
		return 1;
	}
	if (gntdp_domain_info(sh->gt, DOM_B_UNPRIV, &bi) != 0 ||
	    gntdp_domain_info(sh->gt, DOM_G, &gi) != 0)
		return 1;
	if (bi.live_mappings != 1 || gi.pinned_entries != 1 || !(fl & GNTDP_GTF_READING) ||
	    (fl & GNTDP_GTF_WRITING)) {
		fprintf(stderr,
			"FAIL: iteration %lu: live %u pinned %u flags %#x "
			"(want 1, 1, reading only)\n",
			iter, bi.live_mappings, gi.pinned_entries, fl);
		return 1;
	}
	if (gntdp_domain_frame(sh->gt, DOM_B_UNPRIV, SU_RACE_GFN) != NULL) {
		fprintf(stderr, "FAIL: iteration %lu: host mapping survived\n", iter);
		return 1;
	}
	/* The handle is gone: a full unmap of it now must be bad_handle. */
	memset(&u, 0, sizeof(u));
	u.handle = sh->handle;
	u.host_addr = (uint64_t)SU_RACE_GFN << GNTDP_PAGE_SHIFT;
	u.dev_bus_addr = sh->dev;
	if (gntdp_gnttab_op(ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) != 0 ||
	    u.status != GNTDP_GNTST_BAD_HANDLE) {
		fprintf(stderr, "FAIL: iteration %lu: handle %u unmapped again: %s\n", iter,
			sh->handle, gntdp_gntst_name(u.status));
		return 1;
	}
	return 0;
}

/* Fill the maptrack: every handle distinct and != the held one (a double free duplicates). */
static int
su_fill_check(struct gntdp_gnttab_ctx *ctx, uint32_t hold_handle)
{
	uint32_t handles[SU_MT_FRAMES * GNTDP_MAPTRACK_PER_FRAME];
	uint64_t devs[SU_MT_FRAMES * GNTDP_MAPTRACK_PER_FRAME];
	bool seen[SU_MT_FRAMES * GNTDP_MAPTRACK_PER_FRAME] = {false};
	unsigned int n = 0;
	int bad = 0;

	for (;;) {
		uint32_t h = UINT32_MAX;
		uint64_t dev = 0;
		/* Spread over SU_NB_REFS refs: a pin counter saturates at 128. */
		int st = su_map(ctx, SU_REF + n % SU_NB_REFS,
				GNTDP_GNTMAP_DEVICE_MAP | GNTDP_GNTMAP_READONLY, 0, &h, &dev);

		if (st == GNTDP_GNTST_NO_SPACE)
			break;
		if (st != GNTDP_GNTST_OKAY || h >= SU_MT_FRAMES * GNTDP_MAPTRACK_PER_FRAME ||
		    h == hold_handle || seen[h] || n == SU_MT_FRAMES * GNTDP_MAPTRACK_PER_FRAME) {
			fprintf(stderr,
				"FAIL: fill: map %u status %d handle %u (held %u): "
				"duplicate live handle\n",
				n, st, h, hold_handle);
			bad = 1;
			break;
		}
		seen[h] = true;
		devs[n] = dev;
		handles[n++] = h;
	}
	for (unsigned int k = 0; k < n; k++) {
		struct gntdp_gnttab_unmap_grant_ref u;

		memset(&u, 0, sizeof(u));
		u.handle = handles[k];
		u.dev_bus_addr = devs[k];
		if (gntdp_gnttab_op(ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) !=
			    0 ||
		    u.status != GNTDP_GNTST_OKAY) {
			fprintf(stderr, "FAIL: fill: unmap handle %u: %s\n", handles[k],
				gntdp_gntst_name(u.status));
			bad = 1;
		}
	}
	/* Capacity less the held handle and one free-list sentinel per context (spec §2.3). */
	if (n + 1 + 2 < SU_MT_FRAMES * GNTDP_MAPTRACK_PER_FRAME) {
		fprintf(stderr, "FAIL: fill got only %u handles: handles were lost\n", n);
		bad = 1;
	}
	return bad;
}

static int
su_setup(struct su_shared *sh, struct gntdp_grant_entry_v1 **ent)
{
	struct gntdp_gnttab_conf conf;
	struct gntdp_domain_conf dc;
	uint32_t nr;

	gntdp_gnttab_conf_init(&conf);
	if (gntdp_gnttab_create(&conf, &sh->gt) != 0)
		return 1;
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_G;
	dc.nr_frames = NB_REFS;
	if (gntdp_domain_create(sh->gt, &dc) != 0)
		return 1;
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_B_UNPRIV;
	dc.nr_frames = B_RAM;
	dc.p2m_size = MAP_GFN_BASE + 16;
	dc.max_maptrack_frames = SU_MT_FRAMES;
	if (gntdp_domain_create(sh->gt, &dc) != 0)
		return 1;
	if (gntdp_guest_table(sh->gt, DOM_G, ent, &nr) != 0)
		return 1;
	for (uint32_t i = 0; i < SU_NB_REFS; i++)
		if (gntdp_guest_grant_access(&(*ent)[SU_REF + i], DOM_B_UNPRIV, i, false) != 0)
			return 1;
	return 0;
}

static int
test_split_unmap(void)
{
	static struct su_shared sh;
	struct gntdp_grant_entry_v1 *ent;
	struct gntdp_gnttab_ctx *mctx;
	struct su_arg warg;
	pthread_t th;
	uint32_t hold;
	uint64_t hold_dev, s = 0x5eed5eedULL;
	unsigned long iter = 0;
	double end;
	int bad = 0;

	memset(&sh, 0, sizeof(sh));
	if (su_setup(&sh, &ent) != 0) {
		fprintf(stderr, "FAIL: world setup\n");
		return 1;
	}
	warg = (struct su_arg){.sh = &sh, .seed = 0xabcdef12345ULL};
	if (gntdp_gnttab_ctx_create(sh.gt, NULL, &mctx) != 0 ||
	    gntdp_gnttab_ctx_create(sh.gt, NULL, &warg.ctx) != 0)
		return 1;
	/* A long-lived read-only mapping: its pin must survive every race exactly. */
	if (su_map(mctx, SU_REF, GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY, SU_HOLD_GFN, &hold,
		   &hold_dev) != GNTDP_GNTST_OKAY) {
		fprintf(stderr, "FAIL: initial read-only map\n");
		return 1;
	}
	pthread_create(&th, NULL, su_main, &warg);

	end = now_s() + test_seconds;
	while (!bad && now_s() < end) {
		int st = su_map(mctx, SU_REF, GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP,
				SU_RACE_GFN, &sh.handle, &sh.dev);
		unsigned int mine;

		if (st != GNTDP_GNTST_OKAY || sh.handle == hold) {
			fprintf(stderr, "FAIL: iteration %lu: map status %d handle %u (held %u)\n",
				iter, st, sh.handle, hold);
			bad = 1;
			break;
		}
		sh.worker_part = (unsigned int)(iter & 1);
		mine = sh.worker_part ^ 1u;
		/* Publishes handle, dev and worker_part; pairs with su_wait() in su_main(). */
		atomic_store_explicit(&sh.go, iter + 1, memory_order_release);
		su_spin((unsigned int)(rnd(&s) % SU_MAX_SKEW));
		sh.st[mine] = su_unmap_part(mctx, sh.handle, mine, sh.dev);
		su_wait_worker(&sh.done, iter, iter);
		bad |= su_check(&sh, mctx, &ent[SU_REF], iter);
		if (++iter % 1024 == 0)
			bad |= su_fill_check(mctx, hold);
	}
	atomic_store(&sh.quit, true);
	pthread_join(th, NULL);
	if (!bad)
		bad |= su_fill_check(mctx, hold);
	printf("  %lu split-unmap races\n", iter);
	{
		struct gntdp_gnttab_unmap_grant_ref u;
		struct gntdp_domain_info gi;

		memset(&u, 0, sizeof(u));
		u.handle = hold;
		u.host_addr = (uint64_t)SU_HOLD_GFN << GNTDP_PAGE_SHIFT;
		if (gntdp_gnttab_op(mctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) !=
			    0 ||
		    u.status != GNTDP_GNTST_OKAY || gntdp_domain_info(sh.gt, DOM_G, &gi) != 0 ||
		    gi.pinned_entries != 0 ||
		    (__atomic_load_n(&ent[SU_REF].flags, __ATOMIC_ACQUIRE) & RW_FLAGS) != 0) {
			fprintf(stderr, "FAIL: final unmap of the read-only mapping: %s\n",
				gntdp_gntst_name(u.status));
			bad = 1;
		}
	}
	gntdp_gnttab_ctx_destroy(warg.ctx);
	gntdp_gnttab_ctx_destroy(mctx);
	gntdp_gnttab_destroy(sh.gt);
	return bad;
}

/* ---- teardown_unmap (XSA-218/236 with a dying granter) ------------------- */

/*
 * G is destroyed while B still maps one of its grants, so G lives on until
 * that mapping goes. Two threads of B then unmap the same handle at once:
 * exactly one must succeed, the other must get bad_handle, and the last
 * unmap frees G's remains while the loser may still be looking at them.
 * Under ASan/TSan a missing reference or grace period on the granter
 * shows up as a use-after-free.
 */
#define TU_GFN (MAP_GFN_BASE + 3)

struct tu_shared {
	struct gntdp_gnttab *gt;
	_Atomic uint64_t go;
	_Atomic uint64_t done;
	atomic_bool quit;
	uint32_t handle;
	uint64_t dev;
	int16_t st[2];
};

struct tu_arg {
	struct tu_shared *sh;
	struct gntdp_gnttab_ctx *ctx;
	uint64_t seed;
};

static int16_t
tu_unmap(struct gntdp_gnttab_ctx *ctx, uint32_t handle, uint64_t dev)
{
	struct gntdp_gnttab_unmap_grant_ref u;

	memset(&u, 0, sizeof(u));
	u.handle = handle;
	u.host_addr = (uint64_t)TU_GFN << GNTDP_PAGE_SHIFT;
	u.dev_bus_addr = dev;
	u.status = 0x7fff;
	if (gntdp_gnttab_op(ctx, DOM_B_UNPRIV, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) != 0)
		return 0x7ffe;
	return u.status;
}

static void *
tu_main(void *arg)
{
	struct tu_arg *a = arg;
	struct tu_shared *sh = a->sh;
	uint64_t gen = 0, s = a->seed;

	for (;;) {
		uint64_t g = su_wait(&sh->go, gen, &sh->quit);

		if (g == gen)
			break;
		gen = g;
		su_spin((unsigned int)(rnd(&s) % SU_MAX_SKEW));
		sh->st[1] = tu_unmap(a->ctx, sh->handle, sh->dev);
		atomic_store_explicit(&sh->done, gen, memory_order_release);
	}
	return NULL;
}

/* Create G with one grant to B, map it from B, then destroy G: it stays alive, dying. */
static int
tu_prepare(struct tu_shared *sh, struct gntdp_gnttab_ctx *ctx)
{
	struct gntdp_domain_conf dc;
	struct gntdp_grant_entry_v1 *ent;
	uint32_t nr;
	int st;

	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_G;
	dc.nr_frames = 1;
	dc.p2m_size = 1; /* the default physmap (64 Ki gfns) would dominate the loop */
	dc.max_grant_frames = 1;
	if (gntdp_domain_create(sh->gt, &dc) != 0 ||
	    gntdp_guest_table(sh->gt, DOM_G, &ent, &nr) != 0 ||
	    gntdp_guest_grant_access(&ent[FIRST_REF], DOM_B_UNPRIV, 0, false) != 0) {
		fprintf(stderr, "FAIL: recreate G\n");
		return 1;
	}
	st = su_map(ctx, FIRST_REF, GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_DEVICE_MAP, TU_GFN,
		    &sh->handle, &sh->dev);
	if (st != GNTDP_GNTST_OKAY) {
		fprintf(stderr, "FAIL: map of G's grant: %d\n", st);
		return 1;
	}
	if (gntdp_domain_destroy(sh->gt, DOM_G) != 0) {
		fprintf(stderr, "FAIL: destroy G\n");
		return 1;
	}
	return 0;
}

static int
test_teardown_unmap(void)
{
	static struct tu_shared sh;
	struct gntdp_gnttab_conf conf;
	struct gntdp_domain_conf dc;
	struct gntdp_gnttab_ctx *mctx;
	struct tu_arg warg;
	pthread_t th;
	uint64_t s = 0x77aa55ULL;
	unsigned long iter = 0, wins[2] = {0, 0};
	unsigned int bias = 0; /* main's extra delay: tuned so both sides win as often */
	double end;
	int bad = 0;

	memset(&sh, 0, sizeof(sh));
	gntdp_gnttab_conf_init(&conf);
	if (gntdp_gnttab_create(&conf, &sh.gt) != 0)
		return 1;
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_B_UNPRIV;
	dc.nr_frames = 4;
	dc.p2m_size = MAP_GFN_BASE + 16;
	dc.max_maptrack_frames = 1;
	if (gntdp_domain_create(sh.gt, &dc) != 0)
		return 1;
	warg = (struct tu_arg){.sh = &sh, .seed = 0x1badb002ULL};
	if (gntdp_gnttab_ctx_create(sh.gt, NULL, &mctx) != 0 ||
	    gntdp_gnttab_ctx_create(sh.gt, NULL, &warg.ctx) != 0)
		return 1;
	pthread_create(&th, NULL, tu_main, &warg);
	end = now_s() + test_seconds;
	while (!bad && now_s() < end) {
		struct gntdp_domain_info bi;

		if (tu_prepare(&sh, mctx) != 0) {
			bad = 1;
			break;
		}
		/* Publishes handle and dev; pairs with su_wait() in tu_main(). */
		atomic_store_explicit(&sh.go, iter + 1, memory_order_release);
		su_spin(bias + (unsigned int)(rnd(&s) % SU_MAX_SKEW));
		sh.st[0] = tu_unmap(mctx, sh.handle, sh.dev);
		su_wait_worker(&sh.done, iter, iter);
		iter++;
		/* Exactly one full unmap of a handle succeeds. */
		if (!((sh.st[0] == GNTDP_GNTST_OKAY && sh.st[1] == GNTDP_GNTST_BAD_HANDLE) ||
		      (sh.st[1] == GNTDP_GNTST_OKAY && sh.st[0] == GNTDP_GNTST_BAD_HANDLE))) {
			fprintf(stderr, "FAIL: iteration %lu: racing unmaps gave %d and %d\n", iter,
				sh.st[0], sh.st[1]);
			bad = 1;
		}
		wins[sh.st[1] == GNTDP_GNTST_OKAY]++;
		/* The worker starts late (it must see "go"): delay main until they overlap. */
		if (sh.st[0] == GNTDP_GNTST_OKAY && bias < 100000)
			bias += 4;
		else if (sh.st[1] == GNTDP_GNTST_OKAY && bias >= 4)
			bias -= 4;
		if (gntdp_domain_info(sh.gt, DOM_B_UNPRIV, &bi) != 0 || bi.live_mappings != 0 ||
		    gntdp_domain_frame(sh.gt, DOM_B_UNPRIV, TU_GFN) != NULL) {
			fprintf(stderr, "FAIL: iteration %lu: B still maps G (live %u)\n", iter,
				bi.live_mappings);
			bad = 1;
		}
	}
	atomic_store(&sh.quit, true);
	pthread_join(th, NULL);
	printf("  %lu teardown races (main won %lu, worker won %lu, main delay %u)\n", iter,
	       wins[0], wins[1], bias);
	gntdp_gnttab_ctx_destroy(warg.ctx);
	gntdp_gnttab_ctx_destroy(mctx);
	gntdp_gnttab_destroy(sh.gt);
	return bad;
}

/* ---- lookup_destroy: control-plane readers against domain destruction ---- */

struct ld_shared {
	struct gntdp_gnttab *gt;
	atomic_bool quit;
	atomic_ulong reads, found;
};

/* Reads G through every lookup outside a batch while main creates and destroys it. */
static void *
ld_main(void *arg)
{
	struct ld_shared *sh = arg;
	unsigned long reads = 0, found = 0;

	while (!atomic_load_explicit(&sh->quit, memory_order_relaxed)) {
		struct gntdp_domain_info di;
		struct gntdp_grant_entry_v1 *ent;
		uint32_t nr;
		volatile uint8_t *f = gntdp_domain_frame(sh->gt, DOM_G, 0);

		found += f != NULL;
		found += gntdp_domain_info(sh->gt, DOM_G, &di) == 0;
		found += gntdp_guest_table(sh->gt, DOM_G, &ent, &nr) == 0;
		reads += 3;
	}
	atomic_store(&sh->reads, reads);
	atomic_store(&sh->found, found);
	return NULL;
}

static int
test_lookup_destroy(void)
{
	static struct ld_shared sh;
	struct gntdp_gnttab_conf conf;
	struct gntdp_domain_conf dc;
	pthread_t th[2];
	unsigned long cycles = 0;
	double end;
	int bad = 0;

	memset(&sh, 0, sizeof(sh));
	gntdp_gnttab_conf_init(&conf);
	if (gntdp_gnttab_create(&conf, &sh.gt) != 0)
		return 1;
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_G;
	dc.nr_frames = 1;
	dc.p2m_size = 1;
	dc.max_grant_frames = 1;
	for (int t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, ld_main, &sh);
	end = now_s() + test_seconds;
	while (!bad && now_s() < end) {
		if (gntdp_domain_create(sh.gt, &dc) != 0 || gntdp_domain_destroy(sh.gt, DOM_G) != 0) {
			fprintf(stderr, "FAIL: cycle %lu: create/destroy of G failed\n", cycles);
			bad = 1;
		}
		cycles++;
	}
	atomic_store(&sh.quit, true);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	printf("  %lu create/destroy cycles against %lu lookups (%lu found G)\n", cycles,
	       atomic_load(&sh.reads), atomic_load(&sh.found));
	gntdp_gnttab_destroy(sh.gt);
	return bad;
}

/* ---- transitive_race (XSA-411, XSA-226) and version_race (XSA-384, XSA-501) ---- */

#define TR_O ((gntdp_domid_t)3) /* origin of the transitive grants */
#define TR_R ((gntdp_domid_t)4) /* intermediate */
#define TR_C ((gntdp_domid_t)5) /* caller */
#define TR_REFS 8u

struct tr_shared {
	struct gntdp_gnttab *gt;
	atomic_bool quit;
	atomic_uint bad;
	atomic_ulong ok, failed;
};

struct tr_arg {
	struct tr_shared *sh;
	struct gntdp_gnttab_ctx *ctx;
	uint64_t seed;
	int role; /* 0: caller copies; 1: origin guest toggles; 2: intermediate guest toggles */
	unsigned int slot; /* copier: its own 128-byte range of every frame (no data race) */
};

static int
tr_v2(struct gntdp_gnttab *gt, gntdp_domid_t d, union gntdp_grant_entry_v2 **e,
      gntdp_grant_status_t **st)
{
	uint32_t n;

	return gntdp_guest_table_v2(gt, d, e, st, &n);
}

/* The caller copies through R's transitive refs, both directions, in batches with bad ops. */
static void
tr_copy(struct tr_arg *a, uint64_t *s)
{
	struct gntdp_gnttab_copy ops[4];
	unsigned long ok = 0, failed = 0;

	for (int i = 0; i < 4; i++) {
		gntdp_grant_ref_t ref = 8 + (gntdp_grant_ref_t)(rnd(s) % TR_REFS);
		bool to_grant = rnd(s) & 1;

		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].len = 64;
		/* Each copier reads and writes only its own bytes of every frame: two
		 * copiers into one frame would be a data race of the test, not of gntdp. */
		ops[i].source.offset = (uint16_t)(a->slot * 128);
		ops[i].dest.offset = (uint16_t)(a->slot * 128);
		if (to_grant) {
			ops[i].flags = GNTDP_GNTCOPY_DEST_GREF;
			ops[i].dest.u.ref = ref;
			ops[i].dest.domid = TR_R;
			ops[i].source.u.gmfn = 0;
			ops[i].source.domid = GNTDP_DOMID_SELF;
		} else {
			ops[i].flags = GNTDP_GNTCOPY_SOURCE_GREF;
			ops[i].source.u.ref = ref;
			ops[i].source.domid = TR_R;
			ops[i].dest.u.gmfn = 1;
			ops[i].dest.domid = GNTDP_DOMID_SELF;
		}
		if (rnd(s) % 8 == 0)
			ops[i].source.offset = 4090; /* crosses: bad_copy_arg after both pins */
	}
	if (gntdp_gnttab_op(a->ctx, TR_C, GNTDP_GNTTABOP_COPY, ops, 4) != 0) {
		atomic_fetch_add(&a->sh->bad, 1);
		return;
	}
	for (int i = 0; i < 4; i++) {
		int16_t st = ops[i].status;

		if (st == GNTDP_GNTST_OKAY)
			ok++;
		else if (st == GNTDP_GNTST_GENERAL_ERROR || st == GNTDP_GNTST_BAD_COPY_ARG ||
			 st == GNTDP_GNTST_BAD_DOMAIN) /* pinned as transitive, entry no longer so */
			failed++;
		else if (atomic_fetch_add(&a->sh->bad, 1) == 0)
			fprintf(stderr, "FAIL: transitive copy status %d\n", st);
	}
	atomic_fetch_add(&a->sh->ok, ok);
	atomic_fetch_add(&a->sh->failed, failed);
}

/* A guest revokes and re-grants one of its entries: origin (full page) or intermediate. */
static void
tr_toggle(struct tr_arg *a, uint64_t *s)
{
	union gntdp_grant_entry_v2 *e;
	gntdp_grant_status_t *st;
	gntdp_grant_ref_t ref = 8 + (gntdp_grant_ref_t)(rnd(s) % TR_REFS);
	gntdp_domid_t d = a->role == 1 ? TR_O : TR_R;

	if (tr_v2(a->sh->gt, d, &e, &st) != 0) {
		atomic_fetch_add(&a->sh->bad, 1);
		return;
	}
	if (gntdp_guest_end_access_v2(&e[ref], &st[ref]) != 0) {
		/* In use: it stays revoked until the pins go; wait, then grant again. */
		while (__atomic_load_n(&st[ref], __ATOMIC_ACQUIRE) != 0 &&
		       !atomic_load(&a->sh->quit))
			sched_yield();
	}
	if (a->role == 1)
		gntdp_guest_grant_access_v2(&e[ref], TR_R, ref - 8, false);
	else if (rnd(s) % 4 == 0) /* sometimes a chain that fails: two levels */
		gntdp_guest_grant_transitive(&e[ref], TR_C, TR_R, ref, false);
	else
		gntdp_guest_grant_transitive(&e[ref], TR_C, TR_O, ref, false);
}

static void *
tr_main(void *arg)
{
	struct tr_arg *a = arg;
	uint64_t s = a->seed;

	while (!atomic_load_explicit(&a->sh->quit, memory_order_relaxed)) {
		if (a->role == 0)
			tr_copy(a, &s);
		else
			tr_toggle(a, &s);
	}
	return NULL;
}

static int
tr_world(struct tr_shared *sh)
{
	static const gntdp_domid_t ids[] = {TR_O, TR_R, TR_C};
	union gntdp_grant_entry_v2 *e;
	gntdp_grant_status_t *st;
	struct gntdp_gnttab_conf conf;
	struct gntdp_gnttab_ctx *ctx;
	int rc = 0;

	gntdp_gnttab_conf_init(&conf);
	if (gntdp_gnttab_create(&conf, &sh->gt) != 0 ||
	    gntdp_gnttab_ctx_create(sh->gt, NULL, &ctx) != 0)
		return 1;
	for (size_t i = 0; i < 3; i++) {
		struct gntdp_domain_conf dc;
		struct gntdp_gnttab_set_version sv = {.version = 2};

		gntdp_domain_conf_init(&dc);
		dc.domid = ids[i];
		dc.nr_frames = 16;
		dc.p2m_size = 32; /* gfns 16-31 receive host mappings */
		dc.max_grant_frames = 1;
		rc |= gntdp_domain_create(sh->gt, &dc);
		rc |= gntdp_gnttab_op(ctx, ids[i], GNTDP_GNTTABOP_SET_VERSION, &sv, 1);
	}
	for (gntdp_grant_ref_t r = 8; r < 8 + TR_REFS && rc == 0; r++) {
		rc |= tr_v2(sh->gt, TR_O, &e, &st);
		rc |= gntdp_guest_grant_access_v2(&e[r], TR_R, r - 8, false);
		rc |= tr_v2(sh->gt, TR_R, &e, &st);
		rc |= gntdp_guest_grant_transitive(&e[r], TR_C, TR_O, r, false);
	}
	gntdp_gnttab_ctx_destroy(ctx);
	return rc != 0;
}

/* At rest: no pins anywhere, no status bits left (v2 status array or v1 flags). */
static int
tr_check_idle(struct tr_shared *sh)
{
	static const gntdp_domid_t ids[] = {TR_O, TR_R, TR_C};
	const uint16_t busy = GNTDP_GTF_READING | GNTDP_GTF_WRITING;
	int bad = 0;

	for (size_t i = 0; i < 3; i++) {
		struct gntdp_domain_info di;
		union gntdp_grant_entry_v2 *e2;
		struct gntdp_grant_entry_v1 *e1;
		gntdp_grant_status_t *st;
		uint32_t n;

		if (gntdp_domain_info(sh->gt, ids[i], &di) != 0 || di.pinned_entries != 0) {
			fprintf(stderr, "FAIL: d%u has %u pinned entries at rest\n", ids[i],
				di.pinned_entries);
			bad = 1;
		}
		for (uint32_t r = 0; r < 512; r++) {
			uint16_t bits = 0;

			if (di.grant_version == 2 && tr_v2(sh->gt, ids[i], &e2, &st) == 0 && r < 256)
				bits = st[r] & busy;
			else if (di.grant_version == 1 &&
				 gntdp_guest_table(sh->gt, ids[i], &e1, &n) == 0 && r < n)
				bits = e1[r].flags & busy;
			if (bits != 0) {
				fprintf(stderr, "FAIL: d%u ref %u busy 0x%x at rest\n", ids[i], r,
					bits);
				bad = 1;
			}
		}
	}
	return bad;
}

static int
test_transitive_race(void)
{
	static struct tr_shared sh;
	struct tr_arg args[4];
	pthread_t th[4];
	int bad;

	memset(&sh, 0, sizeof(sh));
	if (tr_world(&sh) != 0) {
		fprintf(stderr, "FAIL: transitive world\n");
		return 1;
	}
	for (int t = 0; t < 4; t++) {
		args[t] = (struct tr_arg){.sh = &sh, .seed = 0x5eed0000ULL + (uint64_t)t,
					  .role = t < 2 ? 0 : t - 1, .slot = (unsigned int)t};
		if (gntdp_gnttab_ctx_create(sh.gt, NULL, &args[t].ctx) != 0)
			return 1;
		pthread_create(&th[t], NULL, tr_main, &args[t]);
	}
	usleep((useconds_t)(test_seconds * 1e6));
	atomic_store(&sh.quit, true);
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	bad = atomic_load(&sh.bad) != 0 || tr_check_idle(&sh);
	printf("  %lu transitive copies okay, %lu refused\n", atomic_load(&sh.ok),
	       atomic_load(&sh.failed));
	if (atomic_load(&sh.ok) == 0) {
		fprintf(stderr, "FAIL: no transitive copy succeeded\n");
		bad = 1;
	}
	for (int t = 0; t < 4; t++)
		gntdp_gnttab_ctx_destroy(args[t].ctx);
	gntdp_gnttab_destroy(sh.gt);
	return bad;
}

/* version_race: the granter flips v1 <-> v2 while a backend maps and copies its refs. */
struct vr_arg {
	struct tr_shared *sh;
	struct gntdp_gnttab_ctx *ctx;
	uint64_t seed;
	unsigned int slot; /* its own 64-byte range of the destination frame */
};

static bool
vr_status_ok(int16_t st)
{
	return st == GNTDP_GNTST_OKAY || st == GNTDP_GNTST_GENERAL_ERROR ||
	       st == GNTDP_GNTST_BAD_GNTREF || st == GNTDP_GNTST_BAD_PAGE;
}

static void *
vr_backend(void *arg)
{
	struct vr_arg *a = arg;
	uint64_t s = a->seed;

	while (!atomic_load_explicit(&a->sh->quit, memory_order_relaxed)) {
		gntdp_grant_ref_t ref = (gntdp_grant_ref_t)(rnd(&s) % 300); /* v2 has 256 */
		struct gntdp_gnttab_map_grant_ref m = {
			.host_addr = (uint64_t)(16 + rnd(&s) % 8) << 12,
			.flags = GNTDP_GNTMAP_HOST_MAP | ((rnd(&s) & 1) ? GNTDP_GNTMAP_READONLY : 0),
			.ref = ref,
			.dom = TR_O};
		struct gntdp_gnttab_copy c;

		if (gntdp_gnttab_op(a->ctx, TR_C, GNTDP_GNTTABOP_MAP_GRANT_REF, &m, 1) != 0 ||
		    !vr_status_ok(m.status)) {
			fprintf(stderr, "FAIL: map during version flips: %d\n", m.status);
			atomic_fetch_add(&a->sh->bad, 1);
		}
		if (m.status == GNTDP_GNTST_OKAY) {
			struct gntdp_gnttab_unmap_grant_ref u = {.host_addr = m.host_addr,
								 .handle = m.handle};

			atomic_fetch_add(&a->sh->ok, 1);
			if (gntdp_gnttab_op(a->ctx, TR_C, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) != 0 ||
			    u.status != GNTDP_GNTST_OKAY) {
				fprintf(stderr, "FAIL: unmap during version flips: %d\n", u.status);
				atomic_fetch_add(&a->sh->bad, 1);
			}
		}
		memset(&c, 0, sizeof(c));
		c.flags = GNTDP_GNTCOPY_SOURCE_GREF;
		c.source.u.ref = ref;
		c.source.domid = TR_O;
		c.dest.domid = GNTDP_DOMID_SELF;
		c.dest.u.gmfn = 1;
		c.dest.offset = (uint16_t)(a->slot * 64); /* see tr_copy: no data race */
		c.len = 32;
		if (gntdp_gnttab_op(a->ctx, TR_C, GNTDP_GNTTABOP_COPY, &c, 1) != 0 ||
		    !vr_status_ok(c.status)) {
			fprintf(stderr, "FAIL: copy during version flips: %d\n", c.status);
			atomic_fetch_add(&a->sh->bad, 1);
		}
	}
	return NULL;
}

/* The granter's guest: flip the version, then grant refs 0..299 to C in that layout. */
static void
vr_guest(struct tr_shared *sh, struct gntdp_gnttab_ctx *ctx, unsigned long *flips)
{
	struct gntdp_gnttab_set_version sv;
	uint32_t n;

	sv.version = (*flips & 1) ? 1 : 2;
	if (gntdp_gnttab_op(ctx, TR_O, GNTDP_GNTTABOP_SET_VERSION, &sv, 1) == 0)
		(*flips)++;
	if (sv.version == 2) {
		union gntdp_grant_entry_v2 *e;
		gntdp_grant_status_t *st;

		if (gntdp_guest_table_v2(sh->gt, TR_O, &e, &st, &n) == 0)
			for (uint32_t r = 0; r < n; r++)
				gntdp_guest_grant_access_v2(&e[r], TR_C, r % 16, r & 1);
	} else {
		struct gntdp_grant_entry_v1 *e;

		if (gntdp_guest_table(sh->gt, TR_O, &e, &n) == 0)
			for (uint32_t r = 0; r < n; r++)
				gntdp_guest_grant_access(&e[r], TR_C, r % 16, r & 1);
	}
}

static int
test_version_race(void)
{
	static struct tr_shared sh;
	struct vr_arg args[2];
	struct gntdp_gnttab_ctx *gctx;
	pthread_t th[2];
	unsigned long flips = 0;
	double end;
	int bad;

	memset(&sh, 0, sizeof(sh));
	if (tr_world(&sh) != 0 || gntdp_gnttab_ctx_create(sh.gt, NULL, &gctx) != 0)
		return 1;
	{
		struct gntdp_gnttab_set_version sv = {.version = 1};

		gntdp_gnttab_op(gctx, TR_O, GNTDP_GNTTABOP_SET_VERSION, &sv, 1);
	}
	for (int t = 0; t < 2; t++) {
		args[t] = (struct vr_arg){.sh = &sh, .seed = 0xfeed00ULL + (uint64_t)t,
					  .slot = (unsigned int)t};
		if (gntdp_gnttab_ctx_create(sh.gt, NULL, &args[t].ctx) != 0)
			return 1;
		pthread_create(&th[t], NULL, vr_backend, &args[t]);
	}
	end = now_s() + test_seconds;
	while (now_s() < end)
		vr_guest(&sh, gctx, &flips);
	atomic_store(&sh.quit, true);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	bad = atomic_load(&sh.bad) != 0 || tr_check_idle(&sh);
	printf("  %lu version changes, %lu maps\n", flips, atomic_load(&sh.ok));
	for (int t = 0; t < 2; t++)
		gntdp_gnttab_ctx_destroy(args[t].ctx);
	gntdp_gnttab_ctx_destroy(gctx);
	gntdp_gnttab_destroy(sh.gt);
	return bad;
}

/* ---- Runner --------------------------------------------------------------- */

struct test_case {
	const char *name;
	int (*fn)(void);
};

/* ---- populate_race: the physmap grows and shrinks under running contexts ---- */

#define PR_G ((gntdp_domid_t)6)  /* granter whose share range comes and goes */
#define PR_B ((gntdp_domid_t)7)  /* backends copy and map its grants */
#define PR_NR 16u                /* G's and B's RAM */
#define PR_GFN 100u              /* G's populated range PR_GFN .. + PR_N - 1 */
#define PR_N 4u
#define PR_REF 8u                /* ref PR_REF + i grants G's gfn PR_GFN + i to B, for good */
#define PR_MAP 200u              /* backend t host-maps at B's gfn PR_MAP + t * PR_N + i */

struct pr_shared {
	struct gntdp_gnttab *gt;
	atomic_bool quit;
	atomic_uint bad;
	atomic_ulong ok, gone;
};

struct pr_arg {
	struct pr_shared *sh;
	struct gntdp_gnttab_ctx *ctx;
	unsigned int t; /* 0, 1: B's backends; 2: G copies its own gfns; 3: p2m queries */
};

static void
pr_bad(struct pr_shared *sh, const char *what, int st)
{
	if (atomic_fetch_add(&sh->bad, 1) < 5)
		fprintf(stderr, "FAIL: populate_race: %s: status %d\n", what, st);
}

/* B's backend @t: copy each grant into its own gfn t, then map + unmap it. */
static void
pr_backend(struct pr_arg *a)
{
	struct pr_shared *sh = a->sh;
	uint8_t *own = gntdp_domain_frame(sh->gt, PR_B, a->t);

	for (unsigned int i = 0; !atomic_load_explicit(&sh->quit, memory_order_relaxed);
	     i = (i + 1) % PR_N) {
		struct gntdp_gnttab_copy c = {.len = FRAME_SIZE, .flags = GNTDP_GNTCOPY_SOURCE_GREF};
		struct gntdp_gnttab_map_grant_ref m = {
			.host_addr = (uint64_t)(PR_MAP + a->t * PR_N + i) << GNTDP_PAGE_SHIFT,
			.flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY,
			.ref = PR_REF + i, .dom = PR_G};
		struct gntdp_gnttab_unmap_grant_ref u;

		c.source.u.ref = PR_REF + i;
		c.source.domid = PR_G;
		c.dest.u.gmfn = a->t;
		c.dest.domid = GNTDP_DOMID_SELF;
		memset(own, 0x5a, 64);
		if (gntdp_gnttab_op(a->ctx, PR_B, GNTDP_GNTTABOP_COPY, &c, 1) != 0)
			pr_bad(sh, "copy rc", 0);
		/* A populated frame is zeroed and nobody writes it: a copy brings zeros. */
		if (c.status == GNTDP_GNTST_OKAY && (own[0] != 0 || own[63] != 0))
			pr_bad(sh, "copied bytes not the frame's", own[0]);
		/* bad_domain: the other backend's map still pins the entry, and its frame is
		 * no longer G's (Xen's acquire_grant_for_copy: owner != granter). */
		else if (c.status != GNTDP_GNTST_OKAY && c.status != GNTDP_GNTST_BAD_PAGE &&
			 c.status != GNTDP_GNTST_BAD_DOMAIN)
			pr_bad(sh, "copy", c.status);
		if (gntdp_gnttab_op(a->ctx, PR_B, GNTDP_GNTTABOP_MAP_GRANT_REF, &m, 1) != 0)
			pr_bad(sh, "map rc", 0);
		if (m.status == GNTDP_GNTST_OKAY) {
			u = (struct gntdp_gnttab_unmap_grant_ref){.host_addr = m.host_addr,
								  .handle = m.handle};
			if (gntdp_gnttab_op(a->ctx, PR_B, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1) !=
				    0 ||
			    u.status != GNTDP_GNTST_OKAY)
				pr_bad(sh, "unmap", u.status);
		} else if (m.status != GNTDP_GNTST_BAD_PAGE) {
			pr_bad(sh, "map", m.status);
		}
		atomic_fetch_add_explicit(c.status == GNTDP_GNTST_OKAY ? &sh->ok : &sh->gone, 1,
					  memory_order_relaxed);
	}
}

/* G's own context: frame-mode copies from the range into its RAM. */
static void
pr_self(struct pr_arg *a)
{
	struct pr_shared *sh = a->sh;

	for (unsigned int i = 0; !atomic_load_explicit(&sh->quit, memory_order_relaxed);
	     i = (i + 1) % PR_N) {
		struct gntdp_gnttab_copy c = {.len = 64};

		c.source.u.gmfn = PR_GFN + i;
		c.source.domid = GNTDP_DOMID_SELF;
		c.dest.u.gmfn = 1;
		c.dest.domid = GNTDP_DOMID_SELF;
		if (gntdp_gnttab_op(a->ctx, PR_G, GNTDP_GNTTABOP_COPY, &c, 1) != 0 ||
		    (c.status != GNTDP_GNTST_OKAY && c.status != GNTDP_GNTST_BAD_PAGE))
			pr_bad(sh, "frame-mode copy", c.status);
	}
}

static void *
pr_main(void *arg)
{
	struct pr_arg *a = arg;
	enum gntdp_p2m_kind k;

	if (a->t < 2)
		pr_backend(a);
	else if (a->t == 2)
		pr_self(a);
	else
		/* Pauses between rounds: destroy and depopulate wait for ctl readers to
		 * reach zero, which a reader in a tight loop would never let happen. */
		while (!atomic_load_explicit(&a->sh->quit, memory_order_relaxed)) {
			for (unsigned int i = 0; i < 2 * PR_N; i++) {
				gntdp_domain_p2m_query(a->sh->gt, PR_B, PR_MAP + i, &k, NULL);
				gntdp_domain_p2m_query(a->sh->gt, PR_G, PR_GFN + i % PR_N, &k,
						       NULL);
			}
			usleep(50);
		}
	return NULL;
}

/*
 * Main populates and depopulates G's range (the grants naming it stay)
 * while B's backends copy and map them, G copies them in frame mode and a
 * thread queries both physmaps: statuses okay or bad_page only (bad_domain
 * for a copy through a still-pinned entry), every map
 * unmaps, no use after free (ASan / TSan), and at rest nothing pinned,
 * nothing mapped, the range empty.
 */
static int
test_populate_race(void)
{
	static struct pr_shared sh;
	struct gntdp_gnttab_conf conf;
	struct gntdp_domain_conf dc;
	struct gntdp_domain_info gi, bi;
	struct gntdp_grant_entry_v1 *ent;
	struct pr_arg args[4];
	pthread_t th[4];
	unsigned long cycles = 0;
	uint32_t nr;
	double end;
	int bad = 0;

	memset(&sh, 0, sizeof(sh));
	gntdp_gnttab_conf_init(&conf);
	if (gntdp_gnttab_create(&conf, &sh.gt) != 0)
		return 1;
	gntdp_domain_conf_init(&dc);
	dc.nr_frames = PR_NR;
	dc.p2m_size = 1024;
	dc.max_grant_version = 1;
	dc.domid = PR_G;
	if (gntdp_domain_create(sh.gt, &dc) != 0)
		return 1;
	dc.domid = PR_B;
	if (gntdp_domain_create(sh.gt, &dc) != 0 ||
	    gntdp_guest_table(sh.gt, PR_G, &ent, &nr) != 0)
		return 1;
	for (unsigned int i = 0; i < PR_N; i++)
		gntdp_guest_grant_access(&ent[PR_REF + i], PR_B, PR_GFN + i, true);
	for (unsigned int t = 0; t < 4; t++) {
		args[t] = (struct pr_arg){.sh = &sh, .t = t};
		if (gntdp_gnttab_ctx_create(sh.gt, NULL, &args[t].ctx) != 0)
			return 1;
		pthread_create(&th[t], NULL, pr_main, &args[t]);
	}
	end = now_s() + test_seconds;
	while (!bad && now_s() < end) {
		int rc = gntdp_domain_populate(sh.gt, PR_G, PR_GFN, PR_N, NULL);

		usleep(200); /* let the backends find it */
		/* -EBUSY never: nothing else writes G's range. */
		if (rc != 0 || gntdp_domain_depopulate(sh.gt, PR_G, PR_GFN, PR_N) != 0) {
			fprintf(stderr, "FAIL: cycle %lu: populate %d\n", cycles, rc);
			bad = 1;
		}
		cycles++;
		gntdp_gnttab_reclaim(sh.gt);
		usleep(50);
	}
	atomic_store(&sh.quit, true);
	for (unsigned int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		gntdp_gnttab_ctx_destroy(args[t].ctx);
	}
	if (gntdp_domain_info(sh.gt, PR_G, &gi) != 0 || gntdp_domain_info(sh.gt, PR_B, &bi) != 0 ||
	    gi.pinned_entries != 0 || bi.live_mappings != 0 || gi.owned_pages != PR_NR ||
	    gntdp_domain_frame(sh.gt, PR_G, PR_GFN) != NULL) {
		fprintf(stderr, "FAIL: at rest: pinned %u, live %u, owned %u\n", gi.pinned_entries,
			bi.live_mappings, gi.owned_pages);
		bad = 1;
	}
	for (unsigned int i = 0; i < PR_N; i++)
		if (gntdp_guest_end_access(&ent[PR_REF + i]) != 0)
			bad = 1;
	printf("  %lu populate/depopulate cycles, %lu copies okay, %lu bad_page\n", cycles,
	       atomic_load(&sh.ok), atomic_load(&sh.gone));
	gntdp_gnttab_destroy(sh.gt);
	return bad || atomic_load(&sh.bad) != 0 || atomic_load(&sh.ok) == 0 ||
	       atomic_load(&sh.gone) == 0;
}

static const struct test_case cases[] = {
	{"revoke_unpriv", test_revoke_unpriv},
	{"revoke_priv_two_guests", test_revoke_priv_two_guests},
	{"revoke_persistent_cache", test_revoke_persistent_cache},
	{"maptrack_race", test_maptrack_race},
	{"split_unmap", test_split_unmap},
	{"teardown_unmap", test_teardown_unmap},
	{"lookup_destroy", test_lookup_destroy},
	{"transitive_race", test_transitive_race},
	{"version_race", test_version_race},
	{"populate_race", test_populate_race},
};

/* A case that outlives its time by far is stuck inside the core: say so and fail. */
static void
on_alarm(int sig)
{
	static const char msg[] = "FAIL: the case did not finish in time (hung in the core?)\n";
	ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void)sig;
	(void)n;
	_exit(1);
}

static int
parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v > 0) || v > 86400)
		return -EINVAL;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *env = getenv("GNTDP_TEST_SECONDS");
	int first = 1, failed = 0, ran = 0;

	test_seconds = UNDER_TSAN ? 1.5 : 3.0;
	if (env != NULL && parse_seconds(env, &test_seconds) != 0) {
		fprintf(stderr, "bad GNTDP_TEST_SECONDS '%s'\n", env);
		return 1;
	}
	if (argc >= 3 && strcmp(argv[1], "-t") == 0) {
		if (parse_seconds(argv[2], &test_seconds) != 0) {
			fprintf(stderr, "usage: %s [-t seconds] [case...]\n", argv[0]);
			return 1;
		}
		first = 3;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		bool selected = first >= argc;
		int rc;

		for (int a = first; a < argc; a++)
			if (strcmp(argv[a], cases[c].name) == 0)
				selected = true;
		if (!selected)
			continue;
		printf("run %s (%.1f s)\n", cases[c].name, test_seconds);
		alarm((unsigned int)(test_seconds * 3) + 30);
		rc = cases[c].fn();
		alarm(0);
		printf("%s %s\n", rc == 0 ? "ok" : "FAIL", cases[c].name);
		failed |= rc != 0;
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "no case matched\n");
		return 1;
	}
	return failed ? 1 : 0;
}
