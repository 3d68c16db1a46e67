/* SPDX-License-Identifier: MIT */
/*
 * gntdp-client-bench: throughput of gntdpd as a client process sees it,
 * through libgntdp-client only (no EAL, no DPDK in this process; run.sh
 * starts the daemon). It forks a second client process first, domain B
 * (the granter), which grants NB_GRANTS frames read-only and NB_GRANTS
 * frames writable to domain A and then sleeps; the parent is domain A and
 * drives one hypercall ring with DEPTH calls of BATCH ops in flight:
 *
 *   copy-64     64 B gref->gref copies (B's read-only grants to B's writable
 *               ones, offsets cycling), BATCH ops per hypercall
 *   copy-64-local  64 B copies from A's own RAM to B's writable grants
 *   copy-4k     4 KiB gref->gref copies, with raw_ratio: the bytes/s of a
 *               memcpy of as many 4 KiB frames between two sets of NB_GRANTS
 *               frames of A's RAM (same memfd-backed 4 KiB pages, same
 *               working set), measured in the same run right after
 *   map-unmap   BATCH host maps of B's read-only grants (model only, into
 *               gfns past A's RAM), then BATCH unmaps with the handles; one
 *               pair = one map + one unmap
 *   map-fd      the cost of a cross-process map the grantee touches: B
 *               shares NB_GRANTS frames from a share segment (SHARE_ALLOC,
 *               read-only grants); per call A host-maps BATCH of them
 *               (GNTTABOP_map_grant_ref, synchronous), gets their fds and
 *               maps them (gntdp_client_map_fd: MAP_FD + mmap), reads one
 *               word of every page (the first touch: a page fault) and
 *               checks it, munmaps, unmaps (GNTTABOP_unmap_grant_ref); one
 *               call at a time (each step needs the one before), reported
 *               in ns per page, total and per step
 *
 * Verification, always on: every completion's rc is 0, it is the
 * completion of a call in flight (user_data names the slot, each slot has
 * at most one call), and every op's status went from the sentinel 1 to
 * GNTST_okay (exactly once: the sentinel is written back before each
 * resubmission). After the timed copy runs, A writes a pattern into every
 * writable grant and reads it back through the daemon, byte for byte.
 * map-fd checks every status and the word it reads in every page against
 * B's pattern, and B checks at the end that its shared frames are unchanged.
 *
 * One JSON line per scenario on stdout.
 *   gntdp-client-bench [--socket PATH] [--scenario NAME|all] [--duration S]
 *                      [--batch N] [--depth N] [--grants N] [--sleep]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gntdp/client.h>

#define PAGE GNTDP_PAGE_SIZE
#define DOM_A 1
#define DOM_B 2
#define MAX_BATCH 256u
#define MAX_DEPTH 128u
#define STATUS_SENTINEL 1
#define SHARE_SALT 5000u /* pattern salt of the share segment's frames */

struct opts {
	const char *socket;
	const char *scenario;
	double duration;
	unsigned int batch, depth, grants;
	bool sleep; /* eventfd ring and gntdp_client_wait instead of busy polling */
};

/* Domain A's RAM layout, in frames. */
struct layout {
	uint32_t ops;   /* op arrays: DEPTH slots x (maps + unmaps) */
	uint32_t nops;
	uint32_t local; /* copy-64-local sources, and the verification buffers */
	uint32_t raw;   /* raw-copy sources then destinations: 2 x grants */
	uint32_t total;
};

struct slot {
	uint8_t *ops;     /* BATCH ops of the current call */
	uint8_t *unmaps;  /* map-unmap: BATCH unmap ops */
	bool busy;
	bool unmapping;
};

struct run {
	const struct opts *o;
	struct gntdp_client *c;
	struct gntdp_client_ring *r;
	uint8_t *ram;
	uint32_t nr_frames;
	struct layout l;
	struct slot slots[MAX_DEPTH];
	uint64_t calls, ops, bad;
	unsigned int cmd_size;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t
pattern(unsigned int salt, unsigned int i)
{
	return (uint8_t)(i * 131u + salt * 17u + (i >> 9));
}

/* ---- domain B: grant and wait ------------------------------------------------ */

/* GNTTABOP_setup_table to @nr frames (the table starts with one), the frame list in gfn 0. */
static int
grow_table(struct gntdp_client *c, uint32_t nr)
{
	struct gntdp_client_ring_conf rc;
	struct gntdp_gnttab_setup_table *st;
	struct gntdp_client_ring *r;
	uint8_t *ram = gntdp_client_ram(c, NULL);
	int err;

	if (nr <= 1)
		return 0;
	gntdp_client_ring_conf_init(&rc);
	err = gntdp_client_ring_create(c, &rc, &r);
	if (err < 0)
		return err;
	st = (void *)(ram + PAGE - sizeof(*st));
	memset(st, 0, sizeof(*st));
	st->dom = GNTDP_DOMID_SELF;
	st->nr_frames = nr;
	st->frame_list = 0; /* guest address 0: gfn 0 of the own RAM */
	err = gntdp_client_hcall(r, GNTDP_GNTTABOP_SETUP_TABLE, st, 1);
	if (err == 0 && st->status != GNTDP_GNTST_OKAY)
		err = -EIO;
	gntdp_client_ring_destroy(c, r);
	return err;
}

static int
granter(const struct opts *o, int ready_fd, int quit_fd)
{
	struct gntdp_client_domain_conf dc;
	struct gntdp_grant_entry_v1 *gt;
	struct gntdp_client *c;
	uint8_t *ram, *share;
	uint64_t sgfn;
	uint32_t ne;
	char b = 0;
	int rc;

	rc = gntdp_client_connect(o->socket, &c);
	if (rc < 0) {
		fprintf(stderr, "granter: connect: %s\n", strerror(-rc));
		return 1;
	}
	gntdp_client_domain_conf_init(&dc);
	dc.domid = DOM_B;
	dc.nr_frames = 2 * o->grants;
	dc.max_grant_version = 1;
	dc.max_grant_frames = (3 * o->grants + 511) / 512;
	rc = gntdp_client_bind(c, &dc);
	if (rc < 0) {
		fprintf(stderr, "granter: bind: %s (%s)\n", strerror(-rc), gntdp_client_why(c));
		return 1;
	}
	ram = gntdp_client_ram(c, NULL);
	gt = gntdp_client_table(c, &ne);
	rc = grow_table(c, dc.max_grant_frames);
	if (rc < 0) {
		fprintf(stderr, "granter: setup_table: %s\n", strerror(-rc));
		return 1;
	}
	for (uint32_t g = 0; g < 2 * o->grants; g++) {
		for (unsigned int i = 0; i < PAGE; i++)
			ram[(size_t)g * PAGE + i] = pattern(g, i);
		/* refs 0..grants-1: read-only sources; grants..2*grants-1: writable. */
		rc = gntdp_guest_grant_access(&gt[g], DOM_A, g, g < o->grants);
		if (rc < 0) {
			fprintf(stderr, "granter: grant %u: %s\n", g, strerror(-rc));
			return 1;
		}
	}
	/* refs 2*grants..3*grants-1: read-only grants of a share segment (map-fd). */
	rc = gntdp_client_share_alloc(c, DOM_A, o->grants, false, (void **)&share, &sgfn);
	if (rc < 0) {
		fprintf(stderr, "granter: share_alloc: %s (%s)\n", strerror(-rc),
			gntdp_client_why(c));
		return 1;
	}
	for (uint32_t g = 0; g < o->grants; g++) {
		for (unsigned int i = 0; i < PAGE; i++)
			share[(size_t)g * PAGE + i] = pattern(SHARE_SALT + g, i);
		rc = gntdp_guest_grant_access(&gt[2 * o->grants + g], DOM_A,
					      (uint32_t)(sgfn + g), true);
		if (rc < 0)
			return 1;
	}
	if (write(ready_fd, "r", 1) != 1)
		return 1;
	/* Until the driver is done (it closes the pipe), then end the grants. */
	if (read(quit_fd, &b, 1) < 0)
		return 1;
	for (uint32_t g = 0; g < 3 * o->grants; g++) {
		double t0 = now_s();

		/* The worker's grant cache may hold a pin up to hold_us (docs/cache.md). */
		while (gntdp_guest_end_access(&gt[g]) == -EBUSY && now_s() - t0 < 1.0)
			usleep(100);
		if ((gt[g].flags & GNTDP_GTF_TYPE_MASK) != 0) {
			fprintf(stderr, "granter: ref %u still in use at the end\n", g);
			return 1;
		}
	}
	/* The read-only frames were never written. */
	for (uint32_t g = 0; g < o->grants; g++)
		for (unsigned int i = 0; i < PAGE; i++)
			if (ram[(size_t)g * PAGE + i] != pattern(g, i) ||
			    share[(size_t)g * PAGE + i] != pattern(SHARE_SALT + g, i)) {
				fprintf(stderr, "granter: read-only frame %u changed\n", g);
				return 1;
			}
	gntdp_client_close(c);
	return 0;
}

/* ---- domain A: the driver ---------------------------------------------------- */

static void
copy_ptr(struct gntdp_gnttab_copy_ptr *p, bool gref, uint32_t v, gntdp_domid_t dom, uint16_t off)
{
	memset(p, 0, sizeof(*p));
	if (gref)
		p->u.ref = v;
	else
		p->u.gmfn = v;
	p->domid = dom;
	p->offset = off;
}

/* Fill slot @p s's op array for @p scen; @p k counts ops across slots (spreads refs). */
static void
fill_copies(struct run *w, struct slot *s, const char *scen, uint64_t k0)
{
	struct gntdp_gnttab_copy *op = (void *)s->ops;
	bool big = strcmp(scen, "copy-4k") == 0, local = strcmp(scen, "copy-64-local") == 0;
	unsigned int g = w->o->grants;

	for (unsigned int i = 0; i < w->o->batch; i++) {
		uint64_t k = k0 + i;
		uint16_t off = big ? 0 : (uint16_t)((k * 64) % PAGE);

		if (local)
			copy_ptr(&op[i].source, false, w->l.local + (uint32_t)(k % 16),
				 GNTDP_DOMID_SELF, off);
		else
			copy_ptr(&op[i].source, true, (uint32_t)(k % g), DOM_B, off);
		copy_ptr(&op[i].dest, true, g + (uint32_t)((k * 7 + 3) % g), DOM_B, off);
		op[i].len = big ? PAGE : 64;
		op[i].flags = (uint16_t)((local ? 0 : GNTDP_GNTCOPY_SOURCE_GREF) |
					 GNTDP_GNTCOPY_DEST_GREF);
		op[i].status = STATUS_SENTINEL;
	}
}

static void
fill_maps(struct run *w, struct slot *s, unsigned int si)
{
	struct gntdp_gnttab_map_grant_ref *m = (void *)s->ops;

	for (unsigned int i = 0; i < w->o->batch; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].host_addr = (uint64_t)(w->nr_frames + 16 + si * w->o->batch + i) << 12;
		m[i].flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY;
		m[i].ref = (si * w->o->batch + i) % w->o->grants;
		m[i].dom = DOM_B;
		m[i].status = STATUS_SENTINEL;
	}
}

static int
submit(struct run *w, unsigned int si, unsigned int cmd, const void *ops)
{
	struct gntdp_hcall_sqe sqe = {.user_data = si, .gaddr = gntdp_client_gaddr(w->c, ops),
				      .cmd = cmd, .count = w->o->batch};

	if (gntdp_client_submit(w->r, &sqe, 1) != 1)
		return -1;
	w->slots[si].busy = true;
	return 0;
}

/* Statuses of a completed call: all okay, none left at the sentinel. */
static bool
statuses_ok(const struct run *w, const uint8_t *ops, size_t size, size_t status_off)
{
	int16_t acc = 0;

	for (unsigned int i = 0; i < w->o->batch; i++) {
		int16_t st;

		memcpy(&st, ops + i * size + status_off, sizeof(st));
		acc |= st;
	}
	return acc == 0;
}

/* One completion of slot @p si: check it, queue what the slot does next. */
static int
complete(struct run *w, const struct gntdp_hcall_cqe *cq, const char *scen, uint64_t *k,
	 bool again)
{
	unsigned int si = (unsigned int)cq->user_data;
	struct slot *s;

	if (cq->user_data >= w->o->depth || !w->slots[si].busy || cq->rc != 0) {
		fprintf(stderr, "bad completion: user_data %llu rc %d\n",
			(unsigned long long)cq->user_data, cq->rc);
		return -1;
	}
	s = &w->slots[si];
	s->busy = false;
	w->calls++;
	if (strcmp(scen, "map-unmap") == 0) {
		struct gntdp_gnttab_map_grant_ref *m = (void *)s->ops;
		struct gntdp_gnttab_unmap_grant_ref *u = (void *)s->unmaps;

		if (!s->unmapping) {
			if (!statuses_ok(w, s->ops, sizeof(*m),
					 offsetof(struct gntdp_gnttab_map_grant_ref, status)))
				return w->bad++, -1;
			for (unsigned int i = 0; i < w->o->batch; i++) {
				u[i] = (struct gntdp_gnttab_unmap_grant_ref){
					.host_addr = m[i].host_addr, .handle = m[i].handle,
					.status = STATUS_SENTINEL};
			}
			s->unmapping = true;
			/* The unmaps always go: a pair is counted only when both halves ran. */
			return submit(w, si, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u);
		}
		if (!statuses_ok(w, s->unmaps, sizeof(*u),
				 offsetof(struct gntdp_gnttab_unmap_grant_ref, status)))
			return w->bad++, -1;
		s->unmapping = false;
		w->ops += w->o->batch;
		if (!again)
			return 0;
		for (unsigned int i = 0; i < w->o->batch; i++) {
			m[i].status = STATUS_SENTINEL;
		}
		return submit(w, si, GNTDP_GNTTABOP_MAP_GRANT_REF, m);
	}
	if (!statuses_ok(w, s->ops, sizeof(struct gntdp_gnttab_copy),
			 offsetof(struct gntdp_gnttab_copy, status)))
		return w->bad++, -1;
	w->ops += w->o->batch;
	if (!again)
		return 0;
	fill_copies(w, s, scen, *k);
	*k += w->o->batch;
	return submit(w, si, GNTDP_GNTTABOP_COPY, s->ops);
}

static unsigned int
busy_slots(const struct run *w)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < w->o->depth; i++)
		n += w->slots[i].busy;
	return n;
}

/* Run @p scen for @p secs; ops/s in *rate. */
static int
drive(struct run *w, const char *scen, double secs, double *rate)
{
	struct gntdp_hcall_cqe cqe[64];
	bool maps = strcmp(scen, "map-unmap") == 0;
	uint64_t k = 0;
	double t0, t1, end;

	w->calls = w->ops = w->bad = 0;
	for (unsigned int si = 0; si < w->o->depth; si++) {
		struct slot *s = &w->slots[si];

		if (maps)
			fill_maps(w, s, si);
		else
			fill_copies(w, s, scen, k);
		k += w->o->batch;
		if (submit(w, si, maps ? GNTDP_GNTTABOP_MAP_GRANT_REF : GNTDP_GNTTABOP_COPY,
			   s->ops) < 0)
			return -1;
	}
	t0 = now_s();
	end = t0 + secs;
	for (unsigned int it = 0;; it++) {
		unsigned int n = gntdp_client_reap(w->r, cqe, 64);

		for (unsigned int i = 0; i < n; i++)
			if (complete(w, &cqe[i], scen, &k, true) < 0)
				return -1;
		if ((it & 255) == 0 && now_s() >= end)
			break;
		if (n == 0 && w->o->sleep) {
			int rc = gntdp_client_wait(w->r, 1000);

			if (rc < 0)
				return rc;
		}
	}
	t1 = now_s();
	/* Drain: everything in flight completes and is checked, nothing new goes. */
	while (busy_slots(w) > 0) {
		unsigned int n = gntdp_client_reap(w->r, cqe, 64);

		for (unsigned int i = 0; i < n; i++)
			if (complete(w, &cqe[i], scen, &k, false) < 0)
				return -1;
		if (n == 0 && gntdp_client_wait(w->r, 5000) <= 0)
			return -1;
	}
	*rate = (double)w->ops / (t1 - t0);
	return 0;
}

/* memcpy of 4 KiB frames between two sets of grants frames of A's RAM; bytes/s. */
static double
raw_copy(struct run *w, double secs)
{
	uint8_t *src = w->ram + (size_t)w->l.raw * PAGE;
	uint8_t *dst = src + (size_t)w->o->grants * PAGE;
	unsigned int g = w->o->grants;
	uint64_t n = 0;
	double t0 = now_s(), t;

	memset(src, 0x3c, (size_t)2 * g * PAGE);
	do {
		for (unsigned int i = 0; i < 256; i++, n++)
			memcpy(dst + ((n * 7 + 3) % g) * PAGE, src + (n % g) * PAGE, PAGE);
		__asm__ volatile("" : : "r"(dst) : "memory");
		t = now_s();
	} while (t - t0 < secs);
	return (double)n * PAGE / (t - t0);
}

/* Write a pattern into every writable grant and read it back: byte for byte. */
static int
verify_grants(struct run *w)
{
	uint8_t *buf = w->ram + (size_t)w->l.local * PAGE;
	struct gntdp_gnttab_copy *op = (void *)(w->ram + (size_t)w->l.ops * PAGE);
	unsigned int g = w->o->grants;

	for (unsigned int r = 0; r < g; r++) {
		int rc;

		for (unsigned int i = 0; i < PAGE; i++)
			buf[i] = pattern(1000 + r, i);
		memset(buf + PAGE, 0, PAGE);
		copy_ptr(&op[0].source, false, w->l.local, GNTDP_DOMID_SELF, 0);
		copy_ptr(&op[0].dest, true, g + r, DOM_B, 0);
		op[0].len = PAGE;
		op[0].flags = GNTDP_GNTCOPY_DEST_GREF;
		op[0].status = STATUS_SENTINEL;
		copy_ptr(&op[1].source, true, g + r, DOM_B, 0);
		copy_ptr(&op[1].dest, false, w->l.local + 1, GNTDP_DOMID_SELF, 0);
		op[1].len = PAGE;
		op[1].flags = GNTDP_GNTCOPY_SOURCE_GREF;
		op[1].status = STATUS_SENTINEL;
		rc = gntdp_client_hcall(w->r, GNTDP_GNTTABOP_COPY, op, 2);
		if (rc != 0 || op[0].status != 0 || op[1].status != 0 ||
		    memcmp(buf, buf + PAGE, PAGE) != 0) {
			fprintf(stderr, "verify: ref %u: rc %d status %d %d\n", g + r, rc,
				op[0].status, op[1].status);
			return -1;
		}
	}
	return 0;
}

/* map-fd's result: pages mapped and touched, seconds in all and per step. */
struct mapfd_res {
	uint64_t calls, pages;
	double total, map, mapfd, touch, munmap, unmap;
};

/* One call of map-fd at refs 2*grants + first ..: every step timed. */
static int
mapfd_call(struct run *w, uint8_t *addr, unsigned int first, const uint64_t *gfns,
	   struct mapfd_res *res)
{
	struct gntdp_gnttab_map_grant_ref *m = (void *)w->slots[0].ops;
	struct gntdp_gnttab_unmap_grant_ref *u = (void *)w->slots[0].unmaps;
	const unsigned int n = w->o->batch, g = w->o->grants;
	uint64_t acc = 0;
	double t0, t1, t2, t3, t4, t5;
	int rc;

	for (unsigned int i = 0; i < n; i++)
		m[i] = (struct gntdp_gnttab_map_grant_ref){
			.host_addr = gfns[i] << GNTDP_PAGE_SHIFT,
			.flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY,
			.ref = 2 * g + first + i, .dom = DOM_B, .status = STATUS_SENTINEL};
	t0 = now_s();
	rc = gntdp_client_hcall(w->r, GNTDP_GNTTABOP_MAP_GRANT_REF, m, n);
	t1 = now_s();
	if (rc != 0 || !statuses_ok(w, (const void *)m, sizeof(*m),
				    offsetof(struct gntdp_gnttab_map_grant_ref, status)))
		return fprintf(stderr, "map-fd: map: rc %d status %d\n", rc, m[0].status), -1;
	rc = gntdp_client_map_fd(w->c, gfns, n, addr, PROT_READ);
	t2 = now_s();
	if (rc != 0)
		return fprintf(stderr, "map-fd: map_fd: %s (%s)\n", strerror(-rc),
			       gntdp_client_why(w->c)), -1;
	/* The first touch of every page, checked against B's pattern. */
	for (unsigned int i = 0; i < n; i++) {
		unsigned int off = (i * 8u) % PAGE;
		const uint8_t *p = addr + (size_t)i * PAGE + off;

		for (unsigned int b = 0; b < 8; b++)
			acc |= (uint64_t)(p[b] ^ pattern(SHARE_SALT + first + i, off + b));
	}
	t3 = now_s();
	/* The range is free until the next call maps it again (MAP_FIXED): nothing else
	 * maps in this single-threaded loop. */
	rc = munmap(addr, (size_t)n * PAGE);
	t4 = now_s();
	for (unsigned int i = 0; i < n; i++)
		u[i] = (struct gntdp_gnttab_unmap_grant_ref){
			.host_addr = m[i].host_addr, .handle = m[i].handle,
			.status = STATUS_SENTINEL};
	if (rc == 0)
		rc = gntdp_client_hcall(w->r, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u, n);
	t5 = now_s();
	if (acc != 0 || rc != 0 ||
	    !statuses_ok(w, (const void *)u, sizeof(*u),
			 offsetof(struct gntdp_gnttab_unmap_grant_ref, status)))
		return fprintf(stderr, "map-fd: bytes %s, unmap rc %d\n", acc ? "differ" : "ok",
			       rc), -1;
	res->calls++;
	res->pages += n;
	res->map += t1 - t0;
	res->mapfd += t2 - t1;
	res->touch += t3 - t2;
	res->munmap += t4 - t3;
	res->unmap += t5 - t4;
	return 0;
}

/* map-fd for @secs: calls of BATCH pages over the share's frames, one at a time. */
static int
mapfd_run(struct run *w, double secs, struct mapfd_res *res)
{
	const unsigned int n = w->o->batch, g = w->o->grants;
	uint64_t gfns[MAX_BATCH];
	unsigned int first = 0;
	double t0, end;
	void *addr;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (n > g)
		return fprintf(stderr, "map-fd: --batch above --grants\n"), -1;
	/* The host-map window of gntdp/ctl.h: gfns of A's physmap above its share window. */
	for (unsigned int i = 0; i < n; i++)
		gfns[i] = GNTDP_CTL_MAP_BASE(w->nr_frames) + i;
	addr = mmap(NULL, (size_t)n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (addr == MAP_FAILED)
		return -1;
	t0 = now_s();
	end = t0 + secs;
	while (rc == 0 && now_s() < end) {
		rc = mapfd_call(w, addr, first, gfns, res);
		first = first + 2 * n <= g ? first + n : 0; /* runs of n frames in the segment */
	}
	res->total = now_s() - t0;
	munmap(addr, (size_t)n * PAGE);
	w->calls = res->calls;
	w->ops = res->pages;
	return rc;
}

static void
report_mapfd(const struct run *w, const struct mapfd_res *r, bool verified)
{
	double pg = r->pages != 0 ? (double)r->pages : 1;

	printf("{\"bench\":\"gntdp-client-bench\",\"path\":\"gntdpd\",\"scenario\":\"map-fd\","
	       "\"batch\":%u,\"depth\":1,\"grants\":%u,\"seconds\":%.2f,\"calls\":%llu,"
	       "\"ops\":%llu,\"pages_per_s\":%.0f,\"ns_per_page\":%.1f,\"ns_per_call\":%.1f,"
	       "\"map_ns_per_page\":%.1f,\"mapfd_mmap_ns_per_page\":%.1f,"
	       "\"touch_ns_per_page\":%.1f,\"munmap_ns_per_page\":%.1f,"
	       "\"unmap_ns_per_page\":%.1f,\"verification\":\"%s\"}\n",
	       w->o->batch, w->o->grants, r->total, (unsigned long long)r->calls,
	       (unsigned long long)r->pages, (double)r->pages / r->total, r->total * 1e9 / pg,
	       r->calls != 0 ? r->total * 1e9 / (double)r->calls : 0, r->map * 1e9 / pg,
	       r->mapfd * 1e9 / pg, r->touch * 1e9 / pg, r->munmap * 1e9 / pg,
	       r->unmap * 1e9 / pg, verified ? "pass" : "fail");
	fflush(stdout);
}

static int
driver_setup(struct run *w)
{
	struct gntdp_client_domain_conf dc;
	struct gntdp_client_ring_conf rc;
	const struct opts *o = w->o;
	size_t per_slot = (size_t)o->batch * 40; /* the largest op used (copy: 40 bytes) */
	int err;

	w->l.ops = 0;
	w->l.nops = (uint32_t)((per_slot * 2 * o->depth + PAGE - 1) / PAGE) + 1;
	w->l.local = w->l.nops;
	w->l.raw = w->l.local + 16;
	w->l.total = w->l.raw + 2 * o->grants;
	err = gntdp_client_connect(o->socket, &w->c);
	if (err < 0)
		return fprintf(stderr, "connect: %s\n", strerror(-err)), -1;
	gntdp_client_domain_conf_init(&dc);
	dc.domid = DOM_A;
	dc.nr_frames = w->l.total;
	dc.max_grant_version = 1;
	err = gntdp_client_bind(w->c, &dc);
	if (err < 0)
		return fprintf(stderr, "bind: %s (%s)\n", strerror(-err), gntdp_client_why(w->c)), -1;
	w->ram = gntdp_client_ram(w->c, &w->nr_frames);
	gntdp_client_ring_conf_init(&rc);
	rc.sq_entries = rc.cq_entries = 256;
	rc.eventfd = o->sleep;
	err = gntdp_client_ring_create(w->c, &rc, &w->r);
	if (err < 0)
		return fprintf(stderr, "ring: %s (%s)\n", strerror(-err), gntdp_client_why(w->c)), -1;
	for (unsigned int si = 0; si < o->depth; si++) {
		w->slots[si].ops = w->ram + (size_t)w->l.ops * PAGE + si * 2 * per_slot;
		w->slots[si].unmaps = w->slots[si].ops + per_slot;
	}
	return 0;
}

static void
report(const struct run *w, const char *scen, double rate, double raw, bool verified)
{
	printf("{\"bench\":\"gntdp-client-bench\",\"path\":\"gntdpd\",\"scenario\":\"%s\","
	       "\"batch\":%u,\"depth\":%u,\"grants\":%u,\"wait\":\"%s\",\"seconds\":%.2f,"
	       "\"calls\":%llu,\"ops\":%llu,\"%s\":%.0f",
	       scen, w->o->batch, w->o->depth, w->o->grants, w->o->sleep ? "eventfd" : "busy",
	       w->o->duration, (unsigned long long)w->calls, (unsigned long long)w->ops,
	       strcmp(scen, "map-unmap") == 0 ? "pairs_per_s" : "ops_per_s", rate);
	if (strcmp(scen, "copy-4k") == 0)
		printf(",\"gbytes_per_s\":%.3f,\"raw_gbytes_per_s\":%.3f,\"raw_ratio\":%.3f",
		       rate * PAGE / 1e9, raw / 1e9, rate * PAGE / raw);
	printf(",\"verification\":\"%s\"}\n", verified ? "pass" : "fail");
	fflush(stdout);
}

static int
driver(const struct opts *o)
{
	static const char *const all[] = {"copy-64", "copy-64-local", "copy-4k", "map-unmap",
					  "map-fd"};
	struct run w = {.o = o};
	int failed = 0;

	if (driver_setup(&w) < 0)
		return 1;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		double rate = 0, raw = 0;
		bool ok;

		if (strcmp(o->scenario, "all") != 0 && strcmp(o->scenario, all[i]) != 0)
			continue;
		if (strcmp(all[i], "map-fd") == 0) {
			struct mapfd_res mr;

			ok = mapfd_run(&w, o->duration, &mr) == 0 && mr.pages > 0;
			report_mapfd(&w, &mr, ok);
			failed += !ok;
			continue;
		}
		ok = drive(&w, all[i], o->duration, &rate) == 0 && w.bad == 0;
		if (ok && strcmp(all[i], "map-unmap") != 0)
			ok = verify_grants(&w) == 0;
		if (strcmp(all[i], "copy-4k") == 0)
			raw = raw_copy(&w, o->duration);
		report(&w, all[i], rate, raw, ok);
		failed += !ok;
	}
	gntdp_client_close(w.c);
	return failed ? 1 : 0;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"socket", required_argument, NULL, 's'}, {"scenario", required_argument, NULL, 'S'},
		{"duration", required_argument, NULL, 'd'}, {"batch", required_argument, NULL, 'b'},
		{"depth", required_argument, NULL, 'D'}, {"grants", required_argument, NULL, 'g'},
		{"sleep", no_argument, NULL, 'w'}, {NULL, 0, NULL, 0}};
	int c;

	*o = (struct opts){.scenario = "all", .duration = 2, .batch = 32, .depth = 16,
			   .grants = 256};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *end = NULL;
		unsigned long v = 0;

		if (c != 's' && c != 'S' && c != 'w' && c != 'd') {
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v == 0)
				return -1;
		}
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'S': o->scenario = optarg; break;
		case 'd':
			o->duration = strtod(optarg, &end);
			if (*end != '\0' || o->duration <= 0)
				return -1;
			break;
		case 'b': o->batch = (unsigned int)v; break;
		case 'D': o->depth = (unsigned int)v; break;
		case 'g': o->grants = (unsigned int)v; break;
		case 'w': o->sleep = true; break;
		default: return -1;
		}
	}
	if (o->batch > MAX_BATCH || o->depth > MAX_DEPTH || o->grants > 8192)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int ready[2], quit[2], st, rc;
	pid_t pid;
	char b;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: %s [--socket PATH] [--scenario copy-64|copy-64-local|"
				"copy-4k|map-unmap|map-fd|all] [--duration S] [--batch N<=256] "
				"[--depth N<=128] [--grants N] [--sleep]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe(ready) < 0 || pipe(quit) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(quit[1]);
		_exit(granter(&o, ready[1], quit[0]));
	}
	close(ready[1]);
	close(quit[0]);
	if (read(ready[0], &b, 1) != 1) {
		fprintf(stderr, "the granter process failed\n");
		waitpid(pid, NULL, 0);
		return 1;
	}
	rc = driver(&o);
	close(quit[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "granter: status 0x%x\n", st);
		rc = 1;
	}
	return rc;
}
