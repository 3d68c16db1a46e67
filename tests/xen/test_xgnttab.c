/* SPDX-License-Identifier: MIT */
/*
 * The drop-in libxengnttab.so.1 through a real gntdpd (suite xen): this
 * program is compiled against Debian's <xengnttab.h> and linked to
 * build/xen/libxengnttab.so.1, as an unmodified Xen program is. Each domain
 * is a process of its own; the library finds its domain in $GNTDP_DOMID and
 * the daemon in $GNTDP_SOCKET. A peer that only grants is a plain
 * libgntdp-client process (it writes its grant entries itself).
 *
 *   test_xgnttab GNTDPD CONFIG
 * Exit: 0, 1 (a check failed), 77 (no headers, or no memory for EAL).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xengnttab.h>

#include <gntdp/client.h>

#include "../daemon/tdaemon.h"
#include "xgtest.h"

#define PAGE 4096u
#define DOM_A 20 /* uses libxengnttab */
#define DOM_B 21 /* grants (libgntdp-client) */
/* B's grants to A: refs RO_REF.. read-only (gfns 1..4), RW_REF.. writable (gfns 5..8). */
#define RO_REF 10u
#define RW_REF 20u
#define NR_GRANTS 4u

static char g_sock[100];

static uint8_t
pattern(unsigned int gfn, unsigned int i)
{
	return (uint8_t)(i * 29u + gfn * 11u + (i >> 9) + 1u);
}

/* One step of the lock-step protocol between the two processes. */
static int
step(int fd, char tag)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char got = 0;

	CHECK(write(fd, &tag, 1) == 1, "sync write");
	CHECK(poll(&p, 1, 20000) == 1 && read(fd, &got, 1) == 1, "peer gone at '%c'", tag);
	CHECK(got == tag, "peer at '%c', we at '%c'", got, tag);
	return 0;
}

/* ---- domain B: a plain libgntdp-client granter --------------------------------- */

static int
granter_main(int sync)
{
	struct gntdp_client_domain_conf dc;
	struct gntdp_grant_entry_v1 *gt;
	struct gntdp_client *c;
	uint8_t *ram;
	int rc;

	rc = gntdp_client_connect(g_sock, &c);
	CHECK(rc == 0, "connect: %d", rc);
	gntdp_client_domain_conf_init(&dc);
	dc.domid = DOM_B;
	dc.nr_frames = 16;
	rc = gntdp_client_bind(c, &dc);
	CHECK(rc == 0, "bind: %d %s", rc, gntdp_client_why(c));
	ram = gntdp_client_ram(c, NULL);
	gt = gntdp_client_table(c, NULL);
	for (unsigned int f = 1; f <= 2 * NR_GRANTS; f++)
		for (unsigned int i = 0; i < PAGE; i++)
			ram[f * PAGE + i] = f <= NR_GRANTS ? pattern(f, i) : 0;
	for (unsigned int k = 0; k < NR_GRANTS; k++) {
		CHECK(gntdp_guest_grant_access(&gt[RO_REF + k], DOM_A, 1 + k, true) == 0, "ro");
		CHECK(gntdp_guest_grant_access(&gt[RW_REF + k], DOM_A, 5 + k, false) == 0, "rw");
	}
	if (step(sync, 'g') != 0 || step(sync, 'c') != 0)
		return -1;
	/* What A wrote (test_copy_into_grants), and that the read-only frames did not change. */
	for (unsigned int i = 0; i < PAGE; i++) {
		uint8_t w5 = i >= 100 && i < 100 + 3000 ? (uint8_t)(i - 100) ^ 0x5a : 0;

		CHECK(ram[5 * PAGE + i] == w5, "gfn 5 byte %u: %u", i, ram[5 * PAGE + i]);
		CHECK(ram[6 * PAGE + i] == pattern(2, i), "gfn 6 (gref->gref) byte %u", i);
		for (unsigned int f = 1; f <= NR_GRANTS; f++)
			CHECK(ram[f * PAGE + i] == pattern(f, i), "read-only gfn %u byte %u", f, i);
	}
	for (unsigned int i = 0; i < 100; i++)
		CHECK(ram[7 * PAGE + i * 40] == (uint8_t)i, "many: seg %u", i);
	rc = step(sync, 'v');
	gntdp_client_close(c);
	return rc;
}

/* ---- domain A: libxengnttab --------------------------------------------------- */

static xengnttab_grant_copy_segment_t
seg_from(uint32_t ref, uint16_t off, void *virt, uint16_t len)
{
	xengnttab_grant_copy_segment_t s;

	memset(&s, 0, sizeof(s));
	s.source.foreign.ref = ref;
	s.source.foreign.offset = off;
	s.source.foreign.domid = DOM_B;
	s.dest.virt = virt;
	s.len = len;
	s.flags = GNTCOPY_source_gref;
	s.status = 99;
	return s;
}

static xengnttab_grant_copy_segment_t
seg_to(void *virt, uint32_t ref, uint16_t off, uint16_t len)
{
	xengnttab_grant_copy_segment_t s;

	memset(&s, 0, sizeof(s));
	s.source.virt = virt;
	s.dest.foreign.ref = ref;
	s.dest.foreign.offset = off;
	s.dest.foreign.domid = DOM_B;
	s.len = len;
	s.flags = GNTCOPY_dest_gref;
	s.status = 99;
	return s;
}

/* Read B's read-only grants into buffers that cross page boundaries. */
static int
test_copy_from_grants(xengnttab_handle *xgt)
{
	uint8_t *buf = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	xengnttab_grant_copy_segment_t s[3];

	CHECK(buf != MAP_FAILED, "mmap");
	memset(buf, 0xee, 3 * PAGE);
	s[0] = seg_from(RO_REF, 0, buf + 1000, PAGE);       /* whole frame, two chunks */
	s[1] = seg_from(RO_REF + 1, 123, buf + 2 * PAGE - 7, 777); /* sub-page, two chunks */
	s[2] = seg_from(RO_REF + 2, 4000, buf + 2 * PAGE + 2000, 96);
	CHECK(xengnttab_grant_copy(xgt, 3, s) == 0, "copy: %s", strerror(errno));
	for (int k = 0; k < 3; k++)
		CHECK(s[k].status == GNTST_okay, "seg %d: status %d", k, s[k].status);
	for (unsigned int i = 0; i < PAGE; i++)
		CHECK(buf[1000 + i] == pattern(1, i), "frame byte %u", i);
	for (unsigned int i = 0; i < 777; i++)
		CHECK(buf[2 * PAGE - 7 + i] == pattern(2, 123 + i), "sub-page byte %u", i);
	for (unsigned int i = 0; i < 96; i++)
		CHECK(buf[2 * PAGE + 2000 + i] == pattern(3, 4000 + i), "tail byte %u", i);
	CHECK(buf[999] == 0xee && buf[2 * PAGE + 2000 + 96] == 0xee, "bytes around the copies");
	munmap(buf, 3 * PAGE);
	return 0;
}

/* Write into B's writable grants: from memory, gref -> gref, and 100 segments (4 batches). */
static int
test_copy_into_grants(xengnttab_handle *xgt)
{
	uint8_t *buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	xengnttab_grant_copy_segment_t s[100];
	uint8_t small[100];

	CHECK(buf != MAP_FAILED, "mmap");
	for (unsigned int i = 0; i < 3000; i++)
		buf[PAGE - 1500 + i] = (uint8_t)i ^ 0x5a;
	s[0] = seg_to(buf + PAGE - 1500, RW_REF, 100, 3000); /* crosses a page: two chunks */
	/* gref -> gref: B's read-only ref 11 (gfn 2) into its writable ref 21 (gfn 6). */
	memset(&s[1], 0, sizeof(s[1]));
	s[1].source.foreign.ref = RO_REF + 1;
	s[1].source.foreign.domid = DOM_B;
	s[1].dest.foreign.ref = RW_REF + 1;
	s[1].dest.foreign.domid = DOM_B;
	s[1].len = PAGE;
	s[1].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	s[1].status = 99;
	CHECK(xengnttab_grant_copy(xgt, 2, s) == 0, "copy: %s", strerror(errno));
	CHECK(s[0].status == GNTST_okay && s[1].status == GNTST_okay, "status %d %d", s[0].status,
	      s[1].status);
	for (unsigned int i = 0; i < 100; i++) {
		small[i] = (uint8_t)i;
		s[i] = seg_to(&small[i], RW_REF + 2, (uint16_t)(i * 40), 1);
	}
	CHECK(xengnttab_grant_copy(xgt, 100, s) == 0, "100 segments: %s", strerror(errno));
	for (unsigned int i = 0; i < 100; i++)
		CHECK(s[i].status == GNTST_okay, "seg %u: %d", i, s[i].status);
	munmap(buf, 2 * PAGE);
	return 0;
}

/* Per-segment statuses: a bad ref, a read-only grant as destination, a segment's first failure. */
static int
test_copy_statuses(xengnttab_handle *xgt)
{
	uint8_t *buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	xengnttab_grant_copy_segment_t s[4];

	CHECK(buf != MAP_FAILED, "mmap");
	memset(buf, 0xab, 2 * PAGE);
	s[0] = seg_from(9999, 0, buf, 64);               /* no such grant */
	s[1] = seg_to(buf, RO_REF, 0, 64);               /* into a read-only grant */
	s[2] = seg_from(RO_REF + 3, 0, buf + PAGE, 64);  /* fine */
	s[3] = seg_to(buf + PAGE - 32, RO_REF + 3, 0, 64); /* both chunks fail: status of the first */
	CHECK(xengnttab_grant_copy(xgt, 4, s) == 0, "copy: %s", strerror(errno));
	CHECK(s[0].status == GNTST_bad_gntref, "bad ref: %d", s[0].status);
	CHECK(s[1].status != GNTST_okay && s[1].status < 0, "read-only dest: %d", s[1].status);
	CHECK(s[2].status == GNTST_okay, "fine: %d", s[2].status);
	CHECK(s[3].status == s[1].status, "first failure: %d", s[3].status);
	CHECK(buf[0] == 0xab && buf[63] == 0xab, "a failed copy wrote nothing");
	for (unsigned int i = 0; i < 64; i++)
		CHECK(buf[PAGE + i] == pattern(4, i), "fine byte %u", i);
	munmap(buf, 2 * PAGE);
	return 0;
}

/* The whole-call errors of Linux's gntdev and the probes. */
static int
test_copy_einval(xengnttab_handle *xgt)
{
	uint8_t a[64], b[64];
	xengnttab_grant_copy_segment_t s[2];

	CHECK(xengnttab_grant_copy(xgt, 0, NULL) == 0, "count 0 (QEMU's probe)");
	memset(&s[0], 0, sizeof(s[0]));
	s[0].source.virt = a;
	s[0].dest.virt = b;
	s[0].len = 8;
	errno = 0;
	CHECK(xengnttab_grant_copy(xgt, 1, s) == -1 && errno == EINVAL, "virt -> virt: %d", errno);
	s[0] = seg_from(RO_REF, 4000, a, 97);
	errno = 0;
	CHECK(xengnttab_grant_copy(xgt, 1, s) == -1 && errno == EINVAL, "source past 4096");
	s[0] = seg_to(a, RW_REF + 3, 4095, 2);
	errno = 0;
	CHECK(xengnttab_grant_copy(xgt, 1, s) == -1 && errno == EINVAL, "dest past 4096");
	/* A good segment before a bad one: the call fails as a whole. */
	s[0] = seg_from(RO_REF, 0, a, 64);
	s[1] = seg_from(RO_REF, 4090, b, 64);
	errno = 0;
	CHECK(xengnttab_grant_copy(xgt, 2, s) == -1 && errno == EINVAL, "second bad");
	s[0] = seg_from(RO_REF, 4032, a, 64); /* exactly to the end: fine */
	CHECK(xengnttab_grant_copy(xgt, 1, s) == 0 && s[0].status == GNTST_okay, "to the end");
	for (unsigned int i = 0; i < 64; i++)
		CHECK(a[i] == pattern(1, 4032 + i), "end byte %u", i);
	return 0;
}

static int
test_misc(xengnttab_handle *xgt)
{
	uint32_t fd = 0, ref = RO_REF;

	CHECK(xengnttab_fd(xgt) >= 0, "fd");
	CHECK(xengnttab_set_max_grants(xgt, 16) == 0, "set_max_grants");
	errno = 0;
	CHECK(xengnttab_dmabuf_exp_from_refs(xgt, DOM_B, 0, 1, &ref, &fd) == -1 && errno == ENOSYS,
	      "dmabuf export");
	errno = 0;
	CHECK(xengnttab_dmabuf_imp_release(xgt, 3) == -1 && errno == ENOSYS, "dmabuf release");
	return 0;
}

static int
user_main(int sync)
{
	xengnttab_handle *xgt, *second;
	int rc = -1;

	if (step(sync, 'g') != 0)
		return -1;
	xgt = xengnttab_open(NULL, 0);
	CHECK(xgt != NULL, "xengnttab_open: %s", strerror(errno));
	second = xengnttab_open(NULL, 0); /* a second handle on the same connection */
	CHECK(second != NULL, "second open: %s", strerror(errno));
	if (test_copy_from_grants(xgt) == 0 && test_copy_into_grants(second) == 0 &&
	    test_copy_statuses(xgt) == 0 && test_copy_einval(xgt) == 0 && test_misc(xgt) == 0)
		rc = 0;
	CHECK(xengnttab_close(second) == 0, "close");
	if (step(sync, 'c') != 0 || step(sync, 'v') != 0)
		rc = -1;
	xengnttab_close(xgt);
	return rc;
}

/* ---- unmap notifications through the daemon (NOTIFY_SET / NOTIFY_FIRE) --------- */

#define DOM_N 30 /* the granter */
#define DOM_M 31 /* maps its grants, then dies */
#define NR_FRAMES 16u
#define MAP_GFN (NR_FRAMES + 32768u) /* the first gfn of the host-map window */

struct pdom {
	struct gntdp_client *c;
	struct gntdp_client_ring *r;
	uint8_t *ram;
	struct gntdp_grant_entry_v1 *gt;
};

static int
pdom_open(struct pdom *d, gntdp_domid_t id)
{
	struct gntdp_client_domain_conf dc;
	struct gntdp_client_ring_conf rc;
	int rv;

	rv = gntdp_client_connect(g_sock, &d->c);
	CHECK(rv == 0, "connect: %d", rv);
	gntdp_client_domain_conf_init(&dc);
	dc.domid = id;
	dc.nr_frames = NR_FRAMES;
	dc.max_grant_version = 1;
	rv = gntdp_client_bind(d->c, &dc);
	CHECK(rv == 0, "bind %u: %d %s", id, rv, gntdp_client_why(d->c));
	gntdp_client_ring_conf_init(&rc);
	rv = gntdp_client_ring_create(d->c, &rc, &d->r);
	CHECK(rv == 0, "ring: %d", rv);
	d->ram = gntdp_client_ram(d->c, NULL);
	d->gt = gntdp_client_table(d->c, NULL);
	return 0;
}

static struct gntdp_client_notify
nt(uint32_t kind, uint64_t gfn, uint32_t offset, gntdp_domid_t granter, uint32_t ref)
{
	struct gntdp_client_notify n = {.kind = kind, .flags = GNTDP_CTL_NOTIFY_CLEAR_BYTE,
					.gfn = gfn, .offset = offset, .granter = granter,
					.ref = ref};
	return n;
}

/* NOTIFY_SET's checks and NOTIFY_FIRE on the own memory (a SHARE: here a RAM frame). */
static int
notify_own(struct pdom *d)
{
	struct gntdp_client_notify n;
	uint32_t id, id2;

	d->ram[4 * PAGE + 9] = 0xcc;
	d->ram[4 * PAGE + 10] = 0xcd;
	n = nt(GNTDP_CTL_NOTIFY_SHARE, 4, 9, 0, 0);
	CHECK(gntdp_client_notify_set(d->c, &n, &id) == 0 && id != 0, "set: %s",
	      gntdp_client_why(d->c));
	n.offset = 10;
	CHECK(gntdp_client_notify_set(d->c, &n, &id2) == 0 && id2 != id, "second");
	CHECK(d->ram[4 * PAGE + 9] == 0xcc, "set does nothing yet");
	CHECK(gntdp_client_notify_fire(d->c, id, false) == 0, "fire");
	CHECK(d->ram[4 * PAGE + 9] == 0 && d->ram[4 * PAGE + 10] == 0xcd, "fired: byte cleared");
	CHECK(gntdp_client_notify_fire(d->c, id2, true) == 0, "drop");
	CHECK(d->ram[4 * PAGE + 10] == 0xcd, "dropped: byte kept");
	CHECK(gntdp_client_notify_fire(d->c, id, false) == -ENOENT, "fired twice");
	n.kind = 3;
	CHECK(gntdp_client_notify_set(d->c, &n, &id) == -EINVAL, "kind 3");
	n = nt(GNTDP_CTL_NOTIFY_SHARE, 4, 4096, 0, 0);
	CHECK(gntdp_client_notify_set(d->c, &n, &id) == -EINVAL, "offset 4096");
	n.flags = 0;
	n.offset = 0;
	CHECK(gntdp_client_notify_set(d->c, &n, &id) == -EINVAL, "no flags");
	n = nt(GNTDP_CTL_NOTIFY_SHARE, 4, 0, 0, 0);
	n.flags |= GNTDP_CTL_NOTIFY_SEND_EVENT; /* port 0 */
	CHECK(gntdp_client_notify_set(d->c, &n, &id) == -EINVAL, "port 0");
	n = nt(GNTDP_CTL_NOTIFY_SHARE, MAP_GFN, 0, 0, 0);
	CHECK(gntdp_client_notify_set(d->c, &n, &id) == -ENOENT, "SHARE in the map window");
	return 0;
}

static int
notify_granter(int sync)
{
	struct pdom d;
	double t0;

	if (pdom_open(&d, DOM_N) != 0 || notify_own(&d) != 0)
		return -1;
	d.ram[2 * PAGE + 77] = 0xaa; /* M's "live" byte */
	d.ram[2 * PAGE + 78] = 0xbb;
	CHECK(gntdp_guest_grant_access(&d.gt[10], DOM_M, 2, false) == 0, "grant 10");
	CHECK(gntdp_guest_grant_access(&d.gt[11], DOM_M, 3, true) == 0, "grant 11");
	if (step(sync, 'g') != 0 || step(sync, 'f') != 0)
		return -1;
	CHECK(d.ram[2 * PAGE + 78] == 0 && d.ram[2 * PAGE + 77] == 0xaa, "M fired its byte 78 only");
	if (step(sync, 'k') != 0)
		return -1;
	/* M kills itself: the daemon clears byte 77 as M's domain dies. */
	for (t0 = (double)time(NULL); d.ram[2 * PAGE + 77] != 0 && time(NULL) - t0 < 5;)
		usleep(1000);
	CHECK(d.ram[2 * PAGE + 77] == 0, "byte not cleared on the mapper's death");
	for (t0 = (double)time(NULL); gntdp_guest_end_access(&d.gt[10]) != 0;) {
		CHECK(time(NULL) - t0 < 5, "the dead mapper still maps ref 10: 0x%x", d.gt[10].flags);
		usleep(1000);
	}
	gntdp_client_close(d.c);
	return 0;
}

static int
notify_mapper(int sync)
{
	struct gntdp_gnttab_map_grant_ref *m;
	struct gntdp_client_notify n;
	struct pdom d;
	uint32_t id;

	if (pdom_open(&d, DOM_M) != 0 || step(sync, 'g') != 0)
		return -1;
	m = (void *)(d.ram + 8 * PAGE);
	memset(m, 0, 2 * sizeof(*m));
	m[0].host_addr = (uint64_t)MAP_GFN * PAGE;
	m[0].flags = GNTDP_GNTMAP_HOST_MAP;
	m[0].ref = 10;
	m[0].dom = DOM_N;
	m[1].host_addr = (uint64_t)(MAP_GFN + 1) * PAGE;
	m[1].flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY;
	m[1].ref = 11;
	m[1].dom = DOM_N;
	CHECK(gntdp_client_hcall(d.r, GNTDP_GNTTABOP_MAP_GRANT_REF, m, 2) == 0, "map hcall");
	CHECK(m[0].status == 0 && m[1].status == 0, "map: %d %d", m[0].status, m[1].status);
	n = nt(GNTDP_CTL_NOTIFY_MAP, MAP_GFN + 1, 0, DOM_N, 11);
	CHECK(gntdp_client_notify_set(d.c, &n, &id) == -EINVAL, "CLEAR_BYTE of a read-only grant");
	n = nt(GNTDP_CTL_NOTIFY_MAP, MAP_GFN, 0, DOM_N, 11);
	CHECK(gntdp_client_notify_set(d.c, &n, &id) == -EINVAL, "a ref of another frame");
	n = nt(GNTDP_CTL_NOTIFY_MAP, 2, 0, DOM_N, 10);
	CHECK(gntdp_client_notify_set(d.c, &n, &id) == -ENOENT, "MAP of a RAM gfn");
	n = nt(GNTDP_CTL_NOTIFY_MAP, MAP_GFN + 2, 0, DOM_N, 10);
	CHECK(gntdp_client_notify_set(d.c, &n, &id) == -ENOENT, "MAP of an empty gfn");
	n = nt(GNTDP_CTL_NOTIFY_MAP, MAP_GFN, 78, DOM_N, 10);
	CHECK(gntdp_client_notify_set(d.c, &n, &id) == 0, "byte 78: %s", gntdp_client_why(d.c));
	CHECK(gntdp_client_notify_fire(d.c, id, false) == 0, "fire 78");
	n.offset = 77;
	CHECK(gntdp_client_notify_set(d.c, &n, &id) == 0, "byte 77: %s", gntdp_client_why(d.c));
	if (step(sync, 'f') != 0 || step(sync, 'k') != 0)
		return -1;
	raise(SIGKILL); /* kill -9 of the mapping side */
	return -1;
}

static int
test_notify(void)
{
	int sv[2], st, bad = 0;
	pid_t pn, pm;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	pn = fork();
	if (pn == 0) {
		alarm(60);
		close(sv[1]);
		_exit(notify_granter(sv[0]) == 0 ? 0 : 1);
	}
	pm = fork();
	if (pm == 0) {
		alarm(60);
		close(sv[0]);
		_exit(notify_mapper(sv[1]) == 0 ? 0 : 1);
	}
	close(sv[0]);
	close(sv[1]);
	if (waitpid(pn, &st, 0) != pn || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bad = fprintf(stderr, "granter: status 0x%x\n", st);
	if (waitpid(pm, &st, 0) != pm || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		bad = fprintf(stderr, "mapper: status 0x%x (not SIGKILL)\n", st);
	return bad ? -1 : 0;
}

/* ---- main ------------------------------------------------------------------------- */

static int
run_pair(int (*a)(int), int (*b)(int), const char *domid_a)
{
	int sv[2], bad = 0;
	pid_t pids[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			alarm(60);
			close(sv[1 - i]);
			if (i == 0)
				setenv("GNTDP_DOMID", domid_a, 1);
			_exit((i == 0 ? a : b)(sv[i]) == 0 ? 0 : 1);
		}
	}
	close(sv[0]);
	close(sv[1]);
	for (int i = 0; i < 2; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "child %d: status 0x%x\n", i, st);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int
test_grant_copy(void)
{
	return run_pair(user_main, granter_main, "20");
}

/* Without $GNTDP_DOMID there is no domain to be: NULL + EINVAL, nothing left behind. */
static int
test_no_domid(void)
{
	xengnttab_handle *h;

	unsetenv("GNTDP_DOMID");
	errno = 0;
	h = xengnttab_open(NULL, 0);
	CHECK(h == NULL && errno == EINVAL, "open without GNTDP_DOMID: %p %d", (void *)h, errno);
	setenv("GNTDP_DOMID", "32752", 1);
	errno = 0;
	h = xengnttab_open(NULL, 0);
	CHECK(h == NULL && errno == EINVAL, "reserved domid: %d", errno);
	unsetenv("GNTDP_DOMID");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{"no_domid", test_no_domid},
		{"grant_copy", test_grant_copy},
		{"notify", test_notify},
	};
	const char *sets[] = {"socket.group=", NULL};
	char dir[64], log[100], cmd[200];
	int failed = 0, rc;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: %s GNTDPD CONFIG\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/gntdp-xg-XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		return 1;
	snprintf(g_sock, sizeof(g_sock), "%s/gntdpd.sock", dir);
	snprintf(log, sizeof(log), "%s/gntdpd.log", dir);
	rc = td_daemon_start(argv[1], argv[2], g_sock, log, sets, &pid);
	if (rc != 0)
		return rc == 77 ? 77 : 1;
	setenv("GNTDP_SOCKET", g_sock, 1);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		rc = tests[i].fn();
		printf("%s %s\n", rc == 0 ? "ok  " : "FAIL", tests[i].name);
		failed += rc != 0;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (failed != 0) {
		snprintf(cmd, sizeof(cmd), "tail -n 40 %s >&2", log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no daemon log)\n");
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return failed != 0;
}
