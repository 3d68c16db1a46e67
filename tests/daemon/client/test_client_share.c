/* SPDX-License-Identifier: MIT */
/*
 * Share segments and cross-process host maps through a real gntdpd (suite
 * daemon; docs/daemon.md "Share segments and cross-process host maps"):
 * each domain a process of its own, forked before it connects. Issue 11's
 * invariant, one case per way around it:
 *
 *  - both_ways: A shares 4 writable frames with B, B maps them across
 *    processes; every byte checked on both sides, B's writes seen by A and
 *    A's later writes seen by B.
 *  - read_only: B runs as nobody. A read-only map cannot be mprotected
 *    writable; MAP_FD's fd is O_RDONLY, a memfd, cannot be reopened
 *    read-write nor mapped writable; PROT_WRITE is refused over a
 *    read-only host map, over a writable host map of a segment shared
 *    read-only.
 *  - not_shared: a host map of A's RAM frame (-EACCES, while GNTTABOP_copy
 *    of the same grant works), of a segment A shares with C (-EACCES), a gfn
 *    with no host map, RAM, the share window, past the physmap, forged
 *    (-EINVAL); nothing is mapped after a refusal.
 *  - many_segments: one map_fd over frames of 6 segments (more than one
 *    reply's fds: the library sends the rest again).
 *  - granter_killed: A is kill -9'd while B maps its frames: B's mapping
 *    keeps the contents, A's domid is a zombie (-EEXIST) until B unmaps.
 *  - free_while_mapped: A frees the segment while B maps it: B's mapping
 *    still works, a new MAP_FD is -EACCES, a new map of the grant bad_page.
 *  - quota: [domains] max_share_frames (64 here).
 *  - threads: share_alloc / share_free from two threads on one client, 300
 *    rounds each: every call succeeds, nothing stays held.
 *  - uid_limit: share frames count in the uid's [limits] frames (acl0,
 *    nobody's group: 100 frames, its domain holds 80): -EDQUOT past it.
 *  - garbage: bad SHARE_ALLOC / MAP_FD / SHARE_FREE bodies, each with its
 *    err; then random bodies of the right sizes, each answered.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gntdp/client.h>

#include "../tdaemon.h"

#define PAGE GNTDP_PAGE_SIZE
#define NR 16u     /* RAM frames of every domain here */
#define OPS 8u     /* gfn of the op arrays */
#define NOBODY 65534u
#define MAP0 GNTDP_CTL_MAP_BASE(NR)

static const char *g_daemon, *g_config;
static char g_dir[64], g_sock[100], g_log[100];
static pid_t g_pid = -1;

#define CHECK(c, ...)                                                                          \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #c);            \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			return -1;                                                             \
		}                                                                              \
	} while (0)

/* ---- one domain's process ---------------------------------------------------- */

struct dom {
	struct gntdp_client *c;
	struct gntdp_client_ring *r;
	uint8_t *ram;
	struct gntdp_grant_entry_v1 *gt;
	gntdp_domid_t id;
	int peer; /* socketpair end to the other process */
};

static uint8_t
pat(unsigned int seed, unsigned int page, unsigned int i)
{
	return (uint8_t)(i * 29u + seed * 11u + page * 7u + (i >> 9));
}

static void
fill(uint8_t *p, unsigned int seed, unsigned int page)
{
	for (unsigned int i = 0; i < PAGE; i++)
		p[i] = pat(seed, page, i);
}

static int
has(const uint8_t *p, unsigned int seed, unsigned int page)
{
	for (unsigned int i = 0; i < PAGE; i++)
		if (p[i] != pat(seed, page, i))
			return 0;
	return 1;
}

static int
dom_open(struct dom *d, gntdp_domid_t id)
{
	struct gntdp_client_domain_conf dc;
	struct gntdp_client_ring_conf rc;
	int rv;

	rv = gntdp_client_connect(g_sock, &d->c);
	CHECK(rv == 0, "connect: %d", rv);
	gntdp_client_domain_conf_init(&dc);
	dc.domid = id;
	dc.nr_frames = NR;
	dc.max_grant_version = 1;
	rv = gntdp_client_bind(d->c, &dc);
	CHECK(rv == 0, "bind %u: %d %s", id, rv, gntdp_client_why(d->c));
	gntdp_client_ring_conf_init(&rc);
	rc.eventfd = true;
	rv = gntdp_client_ring_create(d->c, &rc, &d->r);
	CHECK(rv == 0, "ring: %d %s", rv, gntdp_client_why(d->c));
	d->ram = gntdp_client_ram(d->c, NULL);
	d->gt = gntdp_client_table(d->c, NULL);
	d->id = id;
	return 0;
}

/* Send / receive one value to / from the peer process (20 s at most). */
static int
tell(struct dom *d, uint64_t v)
{
	CHECK(write(d->peer, &v, sizeof(v)) == (ssize_t)sizeof(v), "tell");
	return 0;
}

static int
hear(struct dom *d, uint64_t *v)
{
	struct pollfd p = {.fd = d->peer, .events = POLLIN};
	uint64_t x = 0;

	CHECK(poll(&p, 1, 20000) == 1 && read(d->peer, &x, sizeof(x)) == (ssize_t)sizeof(x),
	      "the peer is gone");
	if (v != NULL)
		*v = x;
	return 0;
}

/* Host-map @n refs of @granter from @ref0 at MAP0 + @slot0 + i; handles out. */
static int
map_grants(struct dom *d, gntdp_domid_t granter, uint32_t ref0, unsigned int n,
	   unsigned int slot0, bool ro, uint32_t *handles, int16_t want)
{
	struct gntdp_gnttab_map_grant_ref *m = (void *)(d->ram + OPS * PAGE);
	int rc;

	memset(m, 0, n * sizeof(*m));
	for (unsigned int i = 0; i < n; i++) {
		m[i].host_addr = (MAP0 + slot0 + i) << GNTDP_PAGE_SHIFT;
		m[i].flags = GNTDP_GNTMAP_HOST_MAP | (ro ? GNTDP_GNTMAP_READONLY : 0);
		m[i].ref = ref0 + i;
		m[i].dom = granter;
		m[i].status = 99;
	}
	rc = gntdp_client_hcall(d->r, GNTDP_GNTTABOP_MAP_GRANT_REF, m, n);
	CHECK(rc == 0, "map hcall: %d", rc);
	for (unsigned int i = 0; i < n; i++) {
		CHECK(m[i].status == want, "map %u: status %d, want %d", i, m[i].status, want);
		if (handles != NULL)
			handles[i] = m[i].handle;
	}
	return 0;
}

static int
unmap_grants(struct dom *d, const uint32_t *handles, unsigned int n, unsigned int slot0)
{
	struct gntdp_gnttab_unmap_grant_ref *u = (void *)(d->ram + OPS * PAGE);
	int rc;

	memset(u, 0, n * sizeof(*u));
	for (unsigned int i = 0; i < n; i++) {
		u[i].host_addr = (MAP0 + slot0 + i) << GNTDP_PAGE_SHIFT;
		u[i].handle = handles[i];
		u[i].status = 99;
	}
	rc = gntdp_client_hcall(d->r, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u, n);
	CHECK(rc == 0, "unmap hcall: %d", rc);
	for (unsigned int i = 0; i < n; i++)
		CHECK(u[i].status == GNTDP_GNTST_OKAY, "unmap %u: status %d", i, u[i].status);
	return 0;
}

/* gfns MAP0 + slot0 .. + n - 1. */
static void
slots(uint64_t *gfns, unsigned int n, unsigned int slot0)
{
	for (unsigned int i = 0; i < n; i++)
		gfns[i] = MAP0 + slot0 + i;
}

static uint8_t *
reserve(unsigned int n)
{
	void *p = mmap(NULL, (size_t)n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Whether the reserved range still is one (after a refused map_fd): not readable. */
static bool
still_reserved(const void *p, unsigned int n)
{
	unsigned char vec[64];

	/* mincore of an anonymous PROT_NONE range never touched: no page resident. */
	if (n > 64 || mincore((void *)(uintptr_t)p, (size_t)n * PAGE, vec) != 0)
		return false;
	for (unsigned int i = 0; i < n; i++)
		if (vec[i] & 1)
			return false;
	return true;
}

static int
end_access_within(struct gntdp_grant_entry_v1 *e, double secs)
{
	struct timespec ts;
	double t0, t;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	do {
		rc = gntdp_guest_end_access(e);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		if (rc == -EBUSY)
			usleep(100);
	} while (rc == -EBUSY && t - t0 < secs);
	return rc;
}

/*
 * Run fa and fb in two processes joined by a socketpair; 0 when both exit
 * 0, or with @a_killed when B exits 0 and A died of SIGKILL (B kills it).
 */
typedef int (*role_fn)(struct dom *d);

static int
run2_ex(role_fn fa, role_fn fb, bool a_killed)
{
	role_fn fns[2] = {fa, fb};
	pid_t pids[2];
	int sv[2], bad = 0;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct dom d = {.peer = sv[i]};

			close(sv[1 - i]);
			alarm(60);
			_exit(fns[i](&d) == 0 ? 0 : 1);
		}
	}
	close(sv[0]);
	close(sv[1]);
	for (int i = 1; i >= 0; i--) {
		bool killed = i == 0 && a_killed;
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i] ||
		    (killed ? !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL
			    : !WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
			fprintf(stderr, "role %c: status 0x%x\n", 'A' + i, st);
			if (killed)
				kill(pids[0], SIGKILL);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int
run2(role_fn fa, role_fn fb)
{
	return run2_ex(fa, fb, false);
}

/* Grant frames gfn .. gfn + n - 1 as refs ref0.. to @grantee. */
static int
grant_run(struct dom *d, uint32_t ref0, uint64_t gfn, unsigned int n, gntdp_domid_t grantee,
	  bool ro)
{
	for (unsigned int i = 0; i < n; i++)
		CHECK(gntdp_guest_grant_access(&d->gt[ref0 + i], grantee, (uint32_t)(gfn + i),
					       ro) == 0,
		      "grant %u", ref0 + i);
	return 0;
}

/* ---- both_ways --------------------------------------------------------------------- */

static int
both_a(struct dom *d)
{
	uint8_t *va;
	uint64_t gfn;
	int rc;

	if (dom_open(d, 21) != 0)
		return -1;
	rc = gntdp_client_share_alloc(d->c, 22, 4, true, (void **)&va, &gfn);
	CHECK(rc == 0, "share_alloc: %d %s", rc, gntdp_client_why(d->c));
	CHECK(gfn >= GNTDP_CTL_SHARE_BASE(NR) && gfn + 4 <= MAP0, "gfn %llu",
	      (unsigned long long)gfn);
	for (unsigned int i = 0; i < 4; i++)
		fill(va + i * PAGE, 21, i);
	if (grant_run(d, 8, gfn, 4, 22, false) != 0 || tell(d, 8) != 0 || hear(d, NULL) != 0)
		return -1;
	/* B wrote its pattern into frame 1 through its own mapping. */
	CHECK(has(va + PAGE, 22, 1), "B's write not seen");
	CHECK(has(va, 21, 0) && has(va + 2 * PAGE, 21, 2) && has(va + 3 * PAGE, 21, 3),
	      "frames B did not write changed");
	fill(va + 2 * PAGE, 23, 2);
	if (tell(d, 1) != 0 || hear(d, NULL) != 0)
		return -1;
	for (unsigned int i = 0; i < 4; i++)
		CHECK(end_access_within(&d->gt[8 + i], 1.0) == 0, "end %u", 8 + i);
	rc = gntdp_client_share_free(d->c, va);
	CHECK(rc == 0, "share_free: %d %s", rc, gntdp_client_why(d->c));
	CHECK(gntdp_client_share_free(d->c, va) == -EINVAL, "share_free twice");
	gntdp_client_close(d->c);
	return 0;
}

static int
both_b(struct dom *d)
{
	uint32_t h[4];
	uint64_t ref0, gfns[4];
	uint8_t *p;
	int rc;

	if (dom_open(d, 22) != 0 || hear(d, &ref0) != 0)
		return -1;
	if (map_grants(d, 21, (uint32_t)ref0, 4, 0, false, h, GNTDP_GNTST_OKAY) != 0)
		return -1;
	slots(gfns, 4, 0);
	p = reserve(4);
	CHECK(p != NULL, "reserve");
	rc = gntdp_client_map_fd(d->c, gfns, 4, p, PROT_READ | PROT_WRITE);
	CHECK(rc == 0, "map_fd: %d %s", rc, gntdp_client_why(d->c));
	for (unsigned int i = 0; i < 4; i++)
		CHECK(has(p + i * PAGE, 21, i), "frame %u: not A's bytes", i);
	fill(p + PAGE, 22, 1);
	if (tell(d, 1) != 0 || hear(d, NULL) != 0)
		return -1;
	CHECK(has(p + 2 * PAGE, 23, 2), "A's later write not seen");
	CHECK(munmap(p, 4 * PAGE) == 0, "munmap");
	if (unmap_grants(d, h, 4, 0) != 0)
		return -1;
	gntdp_client_close(d->c);
	return tell(d, 2);
}

static int
test_both_ways(void)
{
	return run2(both_a, both_b);
}

/* ---- read_only ----------------------------------------------------------------------- */

/*
 * A (24): segment R (2 frames, shared read-only) with ref 8 = R+0
 * read-only, ref 9 = R+1 writable; segment W (1 frame, shared writable)
 * with ref 10 read-only. B (40) runs as nobody.
 */
static int
ro_a(struct dom *d)
{
	uint8_t *r, *w;
	uint64_t gr, gw;

	if (dom_open(d, 24) != 0)
		return -1;
	CHECK(gntdp_client_share_alloc(d->c, 40, 2, false, (void **)&r, &gr) == 0, "share R");
	CHECK(gntdp_client_share_alloc(d->c, 40, 1, true, (void **)&w, &gw) == 0, "share W");
	fill(r, 24, 0);
	fill(r + PAGE, 24, 1);
	fill(w, 24, 2);
	if (grant_run(d, 8, gr, 1, 40, true) != 0 || grant_run(d, 9, gr + 1, 1, 40, false) != 0 ||
	    grant_run(d, 10, gw, 1, 40, true) != 0)
		return -1;
	if (tell(d, 0) != 0 || hear(d, NULL) != 0)
		return -1;
	/* Nothing B tried changed a byte. */
	CHECK(has(r, 24, 0) && has(r + PAGE, 24, 1) && has(w, 24, 2), "a frame changed");
	gntdp_client_close(d->c);
	return 0;
}

/*
 * Send @len bytes of @msg (its header filled here) raw on @fd: the reply's
 * err. Its fds are closed, but for the first when @keep is not NULL
 * (*keep = it, or -1).
 */
static int
raw_keep(int fd, void *msg, uint16_t type, size_t len, char *why, int *keep)
{
	struct gntdp_ctl_hdr *h = msg;
	uint8_t buf[GNTDP_CTL_MAX_MSG];
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(int) * GNTDP_CTL_MAX_FDS)];
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b)};
	const struct gntdp_ctl_reply *rp = (const void *)buf;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (len >= sizeof(*h)) {
		h->magic = GNTDP_CTL_MAGIC;
		h->version = GNTDP_CTL_VERSION;
		h->type = type;
		h->len = (uint32_t)len;
		h->seq = 0x5151;
	}
	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len || poll(&p, 1, 5000) != 1)
		return -EPIPE;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < (ssize_t)sizeof(*rp) || rp->hdr.type != (GNTDP_CTL_REPLY | type) ||
	    rp->hdr.len != (uint32_t)n || memchr(rp->why, 0, sizeof(rp->why)) == NULL)
		return -EPIPE;
	if (keep != NULL)
		*keep = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(f));
			if (keep != NULL && *keep < 0)
				*keep = f;
			else
				close(f);
		}
	}
	if (why != NULL)
		memcpy(why, rp->why, GNTDP_CTL_WHY_SIZE); /* NUL inside: checked */
	if (rp->err == 0 && rp->nfds != (type == GNTDP_CTL_SHARE_FREE ? 0u : rp->nfds))
		return -EPROTO;
	return rp->err;
}

static int
raw(int fd, void *msg, uint16_t type, size_t len, char *why)
{
	return raw_keep(fd, msg, type, len, why, NULL);
}

/* A raw MAP_FD of one gfn on the client's socket; the fd (or -err). */
static int
raw_map_fd(struct gntdp_client *c, uint64_t gfn, uint32_t flags)
{
	struct {
		struct gntdp_ctl_map_fd m;
		uint64_t gfn;
	} q = {.m = {.count = 1, .flags = flags}, .gfn = gfn};
	int fd = -1, rc = raw_keep(gntdp_client_fd(c), &q, GNTDP_CTL_MAP_FD, sizeof(q), NULL, &fd);

	if (rc != 0 && fd >= 0)
		close(fd);
	if (rc != 0)
		return rc;
	return fd >= 0 ? fd : -EPROTO;
}

static int
ro_b(struct dom *d)
{
	uint32_t h[3];
	uint64_t gfns[3];
	char path[64], link[128];
	uint8_t *p;
	ssize_t n;
	int rc, fd;

	CHECK(setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0, "setuid");
	if (dom_open(d, 40) != 0 || hear(d, NULL) != 0)
		return -1;
	if (map_grants(d, 24, 8, 1, 0, true, &h[0], GNTDP_GNTST_OKAY) != 0 ||
	    map_grants(d, 24, 9, 1, 1, false, &h[1], GNTDP_GNTST_OKAY) != 0 ||
	    map_grants(d, 24, 10, 1, 2, true, &h[2], GNTDP_GNTST_OKAY) != 0)
		return -1;
	slots(gfns, 3, 0);
	p = reserve(3);
	CHECK(p != NULL, "reserve");
	/* Read-only: maps, reads A's bytes, cannot become writable. */
	rc = gntdp_client_map_fd(d->c, gfns, 1, p, PROT_READ);
	CHECK(rc == 0, "map_fd RO: %d %s", rc, gntdp_client_why(d->c));
	CHECK(has(p, 24, 0), "RO map: not A's bytes");
	CHECK(mprotect(p, PAGE, PROT_READ | PROT_WRITE) != 0 && errno == EACCES,
	      "mprotect writable: %s", strerror(errno));
	/* Writable asked: over a read-only host map, a read-only segment, a RO map of W. */
	rc = gntdp_client_map_fd(d->c, gfns, 1, p + PAGE, PROT_READ | PROT_WRITE);
	CHECK(rc == -EACCES, "RW over a RO host map: %d", rc);
	rc = gntdp_client_map_fd(d->c, gfns + 1, 1, p + PAGE, PROT_READ | PROT_WRITE);
	CHECK(rc == -EACCES, "RW of a segment shared read-only: %d (%s)", rc,
	      gntdp_client_why(d->c));
	CHECK(still_reserved(p + PAGE, 1), "something stayed mapped");
	rc = gntdp_client_map_fd(d->c, gfns + 2, 1, p + 2 * PAGE, PROT_READ | PROT_WRITE);
	CHECK(rc == -EACCES, "RW over a RO host map of a writable segment: %d", rc);
	rc = gntdp_client_map_fd(d->c, gfns + 1, 2, p + PAGE, PROT_READ);
	CHECK(rc == 0 && has(p + PAGE, 24, 1) && has(p + 2 * PAGE, 24, 2), "RO maps: %d", rc);
	/* The fd itself: a memfd, O_RDONLY, not reopenable read-write, not mappable writable. */
	fd = raw_map_fd(d->c, gfns[0], 0);
	CHECK(fd >= 0, "raw MAP_FD: %d", fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0 && strncmp(link, "/memfd:", 7) == 0, "not a memfd: %.*s", (int)n, link);
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "fd not O_RDONLY");
	/* It reaches the segment R and nothing more: its 2 frames. */
	{
		struct stat st;

		CHECK(fstat(fd, &st) == 0 && st.st_size == 2 * PAGE, "fd size %lld",
		      (long long)st.st_size);
	}
	CHECK(open(path, O_RDWR) < 0 && errno == EACCES, "reopened read-write: %s",
	      strerror(errno));
	CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EACCES, "mapped writable");
	CHECK(ftruncate(fd, 0) != 0, "truncated");
	close(fd);
	/* Writable asked raw over the read-only host map: refused, no fd. */
	CHECK(raw_map_fd(d->c, gfns[0], GNTDP_CTL_MAP_FD_WRITE) == -EACCES, "raw RW");
	CHECK(munmap(p, 3 * PAGE) == 0, "munmap");
	if (unmap_grants(d, h, 1, 0) != 0 || unmap_grants(d, h + 1, 1, 1) != 0 ||
	    unmap_grants(d, h + 2, 1, 2) != 0)
		return -1;
	gntdp_client_close(d->c);
	return tell(d, 0);
}

static int
test_read_only(void)
{
	if (geteuid() != 0) {
		printf("SKIP read_only: needs root to run a client as nobody\n");
		return 0;
	}
	return run2(ro_a, ro_b);
}

/* ---- not_shared ------------------------------------------------------------------------ */

/* A (25): ref 8 = RAM gfn 3; ref 9 = a frame of a segment shared with 27, granted to B (26). */
static int
ns_a(struct dom *d)
{
	uint8_t *s;
	uint64_t gs;

	if (dom_open(d, 25) != 0)
		return -1;
	fill(d->ram + 3 * PAGE, 25, 3);
	CHECK(gntdp_client_share_alloc(d->c, 27, 1, true, (void **)&s, &gs) == 0, "share");
	fill(s, 25, 4);
	if (grant_run(d, 8, 3, 1, 26, false) != 0 || grant_run(d, 9, gs, 1, 26, false) != 0)
		return -1;
	if (tell(d, gs) != 0 || hear(d, NULL) != 0)
		return -1;
	CHECK(has(d->ram + 3 * PAGE, 25, 3) && has(s, 25, 4), "a frame changed");
	gntdp_client_close(d->c);
	return 0;
}

static int
ns_b(struct dom *d)
{
	struct gntdp_gnttab_copy *op;
	uint64_t gs, bad[8];
	uint32_t h[2];
	uint8_t *p;
	int rc;

	if (dom_open(d, 26) != 0 || hear(d, &gs) != 0)
		return -1;
	if (map_grants(d, 25, 8, 2, 0, false, h, GNTDP_GNTST_OKAY) != 0)
		return -1;
	p = reserve(2);
	CHECK(p != NULL, "reserve");
	slots(bad, 2, 0);
	rc = gntdp_client_map_fd(d->c, bad, 1, p, PROT_READ);
	CHECK(rc == -EACCES, "map_fd of a RAM frame: %d", rc);
	rc = gntdp_client_map_fd(d->c, bad + 1, 1, p, PROT_READ);
	CHECK(rc == -EACCES, "map_fd of a segment shared with another domain: %d (%s)", rc,
	      gntdp_client_why(d->c));
	rc = gntdp_client_map_fd(d->c, bad, 2, p, PROT_READ);
	CHECK(rc == -EACCES && still_reserved(p, 2), "both: %d", rc);
	/* GNTTABOP_copy of the same grant works (ref 8 into B's gfn 5). */
	op = (void *)(d->ram + OPS * PAGE);
	memset(op, 0, sizeof(*op));
	op->source.u.ref = 8;
	op->source.domid = 25;
	op->dest.u.gmfn = 5;
	op->dest.domid = GNTDP_DOMID_SELF;
	op->len = PAGE;
	op->flags = GNTDP_GNTCOPY_SOURCE_GREF;
	op->status = 99;
	CHECK(gntdp_client_hcall(d->r, GNTDP_GNTTABOP_COPY, op, 1) == 0 &&
	      op->status == GNTDP_GNTST_OKAY, "copy: %d", op->status);
	CHECK(has(d->ram + 5 * PAGE, 25, 3), "copied bytes");
	/* -EINVAL: no host map in the window, RAM, the share window, past the physmap, forged. */
	bad[0] = MAP0 + 100;
	bad[1] = 0;
	bad[2] = GNTDP_CTL_SHARE_BASE(NR);
	bad[3] = gs; /* A's share gfn: not a gfn of B's holding anything */
	bad[4] = MAP0 + GNTDP_CTL_MAP_GFNS;
	bad[5] = UINT64_MAX;
	bad[6] = 1ull << 40;
	bad[7] = MAP0 - 1;
	for (unsigned int i = 0; i < 8; i++) {
		rc = gntdp_client_map_fd(d->c, &bad[i], 1, p, PROT_READ);
		CHECK(rc == -EINVAL, "gfn %llu: %d", (unsigned long long)bad[i], rc);
	}
	/* One bad gfn after a good one: the whole request is refused. */
	slots(bad, 1, 0);
	bad[1] = MAP0 + 100;
	CHECK(gntdp_client_map_fd(d->c, bad, 2, p, PROT_READ) == -EACCES, "first refusal wins");
	CHECK(still_reserved(p, 2), "something stayed mapped");
	if (unmap_grants(d, h, 2, 0) != 0)
		return -1;
	/*
	 * A host map inside our own share window: SHARE_ALLOC places past it, and
	 * MAP_FD refuses it (outside the host-map window) though it holds a grant.
	 */
	{
		struct gntdp_gnttab_map_grant_ref *m = (void *)(d->ram + OPS * PAGE);
		uint64_t in_share = GNTDP_CTL_SHARE_BASE(NR), g;
		void *va;

		memset(m, 0, sizeof(*m));
		m->host_addr = in_share << GNTDP_PAGE_SHIFT;
		m->flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY;
		m->ref = 8;
		m->dom = 25;
		CHECK(gntdp_client_hcall(d->r, GNTDP_GNTTABOP_MAP_GRANT_REF, m, 1) == 0 &&
		      m->status == GNTDP_GNTST_OKAY, "map into the share window: %d", m->status);
		h[0] = m->handle;
		CHECK(gntdp_client_share_alloc(d->c, 25, 2, false, &va, &g) == 0, "share");
		CHECK(g == in_share + 1, "placed at %llu, not past the host map",
		      (unsigned long long)g);
		CHECK(gntdp_client_map_fd(d->c, &in_share, 1, p, PROT_READ) == -EINVAL,
		      "MAP_FD in the share window");
		/* Our own share's gfn holds RAM, not a host-mapped grant. */
		CHECK(gntdp_client_map_fd(d->c, &g, 1, p, PROT_READ) == -EINVAL, "own share");
		CHECK(gntdp_client_share_free(d->c, va) == 0, "free");
		struct gntdp_gnttab_unmap_grant_ref *u = (void *)(d->ram + OPS * PAGE);

		memset(u, 0, sizeof(*u));
		u->host_addr = in_share << GNTDP_PAGE_SHIFT;
		u->handle = h[0];
		CHECK(gntdp_client_hcall(d->r, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u, 1) == 0 &&
		      u->status == GNTDP_GNTST_OKAY, "unmap: %d", u->status);
	}
	/* Unmapped: the gfns hold nothing now. */
	slots(bad, 1, 0);
	CHECK(gntdp_client_map_fd(d->c, bad, 1, p, PROT_READ) == -EINVAL, "after unmap");
	gntdp_client_close(d->c);
	return tell(d, 0);
}

static int
test_not_shared(void)
{
	return run2(ns_a, ns_b);
}

/* ---- many_segments ----------------------------------------------------------------------- */

#define NSEG 6u

static int
many_a(struct dom *d)
{
	uint8_t *va[NSEG];
	uint64_t gfn;

	if (dom_open(d, 28) != 0)
		return -1;
	for (unsigned int s = 0; s < NSEG; s++) {
		CHECK(gntdp_client_share_alloc(d->c, 29, 2, s % 2 == 0, (void **)&va[s], &gfn) == 0,
		      "share %u: %s", s, gntdp_client_why(d->c));
		fill(va[s], 28, 2 * s);
		fill(va[s] + PAGE, 28, 2 * s + 1);
		if (grant_run(d, 8 + 2 * s, gfn, 2, 29, true) != 0)
			return -1;
	}
	if (tell(d, 0) != 0 || hear(d, NULL) != 0)
		return -1;
	gntdp_client_close(d->c);
	return 0;
}

static int
many_b(struct dom *d)
{
	uint32_t h[2 * NSEG];
	uint64_t gfns[2 * NSEG];
	uint8_t *p;
	int rc;

	if (dom_open(d, 29) != 0 || hear(d, NULL) != 0)
		return -1;
	if (map_grants(d, 28, 8, 2 * NSEG, 0, true, h, GNTDP_GNTST_OKAY) != 0)
		return -1;
	slots(gfns, 2 * NSEG, 0);
	p = reserve(2 * NSEG);
	CHECK(p != NULL, "reserve");
	/* 6 segments: more than GNTDP_CTL_MAX_FDS, so two MAP_FD requests. */
	rc = gntdp_client_map_fd(d->c, gfns, 2 * NSEG, p, PROT_READ);
	CHECK(rc == 0, "map_fd: %d %s", rc, gntdp_client_why(d->c));
	for (unsigned int i = 0; i < 2 * NSEG; i++)
		CHECK(has(p + i * PAGE, 28, i), "frame %u", i);
	CHECK(munmap(p, 2 * NSEG * PAGE) == 0, "munmap");
	if (unmap_grants(d, h, 2 * NSEG, 0) != 0)
		return -1;
	gntdp_client_close(d->c);
	return tell(d, 0);
}

static int
test_many_segments(void)
{
	return run2(many_a, many_b);
}

/* ---- granter_killed ----------------------------------------------------------------------- */

static int
killed_a(struct dom *d)
{
	uint8_t *va;
	uint64_t gfn;

	if (dom_open(d, 30) != 0)
		return -1;
	CHECK(gntdp_client_share_alloc(d->c, 31, 2, true, (void **)&va, &gfn) == 0, "share");
	fill(va, 30, 0);
	fill(va + PAGE, 30, 1);
	if (grant_run(d, 8, gfn, 2, 31, false) != 0 || tell(d, (uint64_t)getpid()) != 0)
		return -1;
	pause(); /* B kills us */
	return -1;
}

/* Bind @domid on a fresh connection: the rc, with the daemon's why in @why. */
static int
try_bind(gntdp_domid_t domid, char *why, size_t len)
{
	struct gntdp_client_domain_conf dc;
	struct gntdp_client *c;
	int rc = gntdp_client_connect(g_sock, &c);

	if (rc != 0)
		return rc;
	gntdp_client_domain_conf_init(&dc);
	dc.domid = domid;
	dc.nr_frames = NR;
	rc = gntdp_client_bind(c, &dc);
	snprintf(why, len, "%s", gntdp_client_why(c));
	gntdp_client_close(c);
	return rc;
}

static int
killed_b(struct dom *d)
{
	uint64_t pid, gfns[2];
	uint32_t h[2];
	char why[GNTDP_CTL_WHY_SIZE] = "";
	uint8_t *p;
	int rc = 0, tries;

	if (dom_open(d, 31) != 0 || hear(d, &pid) != 0)
		return -1;
	if (map_grants(d, 30, 8, 2, 0, false, h, GNTDP_GNTST_OKAY) != 0)
		return -1;
	slots(gfns, 2, 0);
	p = reserve(2);
	CHECK(p != NULL, "reserve");
	CHECK(gntdp_client_map_fd(d->c, gfns, 2, p, PROT_READ | PROT_WRITE) == 0, "map_fd");
	CHECK(kill((pid_t)pid, SIGKILL) == 0, "kill -9 A");
	/* The daemon sees the death: domain 30 becomes a zombie, held by our maps. */
	for (tries = 0; tries < 200; tries++) {
		rc = try_bind(30, why, sizeof(why));
		if (rc == -EEXIST && strstr(why, "zombie") != NULL)
			break;
		usleep(10000);
	}
	CHECK(rc == -EEXIST && strstr(why, "zombie") != NULL, "not a zombie: %d %s", rc, why);
	CHECK(has(p, 30, 0) && has(p + PAGE, 30, 1), "contents lost with the granter");
	/* The dead granter's shares are gone: no new fd of them, though we still map them. */
	rc = gntdp_client_map_fd(d->c, gfns, 1, reserve(1), PROT_READ);
	CHECK(rc == -EACCES, "MAP_FD of a dead granter's frame: %d", rc);
	CHECK(has(p, 30, 0), "the refusal changed the mapping");
	fill(p + PAGE, 31, 1);
	CHECK(has(p + PAGE, 31, 1), "write after the granter died");
	if (unmap_grants(d, h, 2, 0) != 0)
		return -1;
	/* Unmapped: the zombie goes (reclaimed within 50 ms), its domid comes back. */
	for (tries = 0; tries < 200; tries++) {
		rc = try_bind(30, why, sizeof(why));
		if (rc == 0)
			break;
		usleep(10000);
	}
	CHECK(rc == 0, "domid 30 did not come back: %d %s", rc, why);
	/* Our process mapping is ours: the pages stay readable until we unmap them. */
	CHECK(has(p, 30, 0), "the process mapping changed");
	CHECK(munmap(p, 2 * PAGE) == 0, "munmap");
	gntdp_client_close(d->c);
	return 0;
}

static int
test_granter_killed(void)
{
	return run2_ex(killed_a, killed_b, true);
}

/* ---- free_while_mapped ------------------------------------------------------------------- */

static int
free_a(struct dom *d)
{
	uint8_t *va;
	uint64_t gfn;
	int rc;

	if (dom_open(d, 32) != 0)
		return -1;
	CHECK(gntdp_client_share_alloc(d->c, 33, 2, true, (void **)&va, &gfn) == 0, "share");
	fill(va, 32, 0);
	if (grant_run(d, 8, gfn, 2, 33, false) != 0 || tell(d, 0) != 0 || hear(d, NULL) != 0)
		return -1;
	rc = gntdp_client_share_free(d->c, va);
	CHECK(rc == 0, "share_free while mapped: %d %s", rc, gntdp_client_why(d->c));
	/* B maps ref 8: its entry stays in use until B unmaps. */
	CHECK(gntdp_guest_end_access(&d->gt[8]) == -EBUSY, "end access while mapped");
	if (tell(d, 0) != 0 || hear(d, NULL) != 0)
		return -1;
	CHECK(end_access_within(&d->gt[8], 1.0) == 0, "end 8");
	CHECK(end_access_within(&d->gt[9], 1.0) == 0, "end 9");
	gntdp_client_close(d->c);
	return 0;
}

static int
free_b(struct dom *d)
{
	uint64_t gfn = MAP0;
	uint32_t h;
	uint8_t *p;

	if (dom_open(d, 33) != 0 || hear(d, NULL) != 0)
		return -1;
	if (map_grants(d, 32, 8, 1, 0, false, &h, GNTDP_GNTST_OKAY) != 0)
		return -1;
	p = reserve(2);
	CHECK(p != NULL, "reserve");
	CHECK(gntdp_client_map_fd(d->c, &gfn, 1, p, PROT_READ | PROT_WRITE) == 0, "map_fd");
	if (tell(d, 0) != 0 || hear(d, NULL) != 0)
		return -1;
	/* Freed under us: our mapping keeps the frame; no new fd; the other gfn is gone. */
	CHECK(has(p, 32, 0), "contents after SHARE_FREE");
	fill(p, 33, 0);
	CHECK(has(p, 33, 0), "write after SHARE_FREE");
	CHECK(gntdp_client_map_fd(d->c, &gfn, 1, p + PAGE, PROT_READ) == -EACCES,
	      "map_fd of a freed segment");
	if (map_grants(d, 32, 9, 1, 1, false, NULL, GNTDP_GNTST_BAD_PAGE) != 0)
		return -1;
	CHECK(munmap(p, 2 * PAGE) == 0, "munmap");
	if (unmap_grants(d, &h, 1, 0) != 0)
		return -1;
	gntdp_client_close(d->c);
	return tell(d, 0);
}

static int
test_free_while_mapped(void)
{
	return run2(free_a, free_b);
}

/* ---- quota --------------------------------------------------------------------------------- */

static int
test_quota(void)
{
	struct dom d = {.peer = -1};
	void *va[3];
	uint64_t gfn, g2;
	int rc;

	if (dom_open(&d, 34) != 0)
		return -1;
	CHECK(gntdp_client_share_alloc(d.c, 35, 65, true, &va[0], &gfn) == -EINVAL, "65 > 64");
	CHECK(gntdp_client_share_alloc(d.c, 35, 64, true, &va[0], &gfn) == 0, "64");
	rc = gntdp_client_share_alloc(d.c, 35, 1, true, &va[1], &g2);
	CHECK(rc == -ENOSPC, "one more: %d", rc);
	CHECK(gntdp_client_share_free(d.c, va[0]) == 0, "free");
	CHECK(gntdp_client_share_alloc(d.c, 35, 32, false, &va[0], &gfn) == 0, "32");
	CHECK(gntdp_client_share_alloc(d.c, 35, 32, false, &va[1], &g2) == 0, "32 more");
	CHECK(g2 == gfn + 32 || gfn == g2 + 32, "placed apart: %llu %llu",
	      (unsigned long long)gfn, (unsigned long long)g2);
	CHECK(gntdp_client_share_alloc(d.c, 35, 1, false, &va[2], &g2) == -ENOSPC, "full");
	CHECK(gntdp_client_share_alloc(d.c, 0x7ff0, 1, false, &va[2], &g2) == -EINVAL,
	      "reserved grantee");
	CHECK(gntdp_client_share_free(d.c, va[1]) == 0, "free");
	/* A freed run is found again. */
	CHECK(gntdp_client_share_alloc(d.c, 35, 16, false, &va[1], &g2) == 0, "16");
	gntdp_client_close(d.c);
	return 0;
}

/* ---- threads: share_alloc / share_free from two threads on one client -------------------- */

struct thr {
	struct gntdp_client *c;
	unsigned int rounds, failed;
	int first_rc;
};

static void *
thr_main(void *arg)
{
	struct thr *t = arg;

	for (unsigned int i = 0; i < t->rounds; i++) {
		void *va = NULL;
		uint64_t gfn;
		int rc = gntdp_client_share_alloc(t->c, 37, 1 + i % 3, true, &va, &gfn);

		if (rc == 0) {
			((volatile uint8_t *)va)[0] = (uint8_t)i; /* it is mapped */
			rc = gntdp_client_share_free(t->c, va);
		}
		if (rc != 0 && t->failed++ == 0)
			t->first_rc = rc;
	}
	return NULL;
}

/*
 * The control requests of a client are thread-safe (gntdp/client.h), the
 * library's list of segments too: every alloc and every free of 2 x 300
 * rounds succeeds, and nothing is left held (the whole quota is free).
 */
static int
test_threads(void)
{
	struct dom d = {.peer = -1};
	struct thr t[2];
	pthread_t tid[2];
	void *va;
	uint64_t gfn;

	if (dom_open(&d, 36) != 0)
		return -1;
	for (unsigned int i = 0; i < 2; i++) {
		t[i] = (struct thr){.c = d.c, .rounds = 300};
		CHECK(pthread_create(&tid[i], NULL, thr_main, &t[i]) == 0, "thread");
	}
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	for (unsigned int i = 0; i < 2; i++)
		CHECK(t[i].failed == 0, "thread %u: %u calls failed, first %d (%s)", i, t[i].failed,
		      t[i].first_rc, gntdp_client_why(d.c));
	CHECK(gntdp_client_share_alloc(d.c, 37, 64, true, &va, &gfn) == 0, "the whole quota: %s",
	      gntdp_client_why(d.c));
	CHECK(gntdp_client_share_free(d.c, va) == 0, "free");
	gntdp_client_close(d.c);
	return 0;
}

/* ---- uid_limit: share frames count in the uid's [limits] frames ---------------------- */

/* As nobody (acl0: group nogroup, max_frames 100): domain 41 holds 16 + 64 frames. */
static int
uid_limit_child(void)
{
	struct dom d = {.peer = -1};
	void *va[2];
	uint64_t gfn;
	int rc;

	CHECK(setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0, "setuid");
	if (dom_open(&d, 41) != 0)
		return -1;
	CHECK(gntdp_client_share_alloc(d.c, 42, 20, true, &va[0], &gfn) == 0, "20: %s",
	      gntdp_client_why(d.c));
	rc = gntdp_client_share_alloc(d.c, 42, 1, true, &va[1], &gfn);
	CHECK(rc == -EDQUOT && strstr(gntdp_client_why(d.c), "[limits] frames") != NULL,
	      "one more: %d %s", rc, gntdp_client_why(d.c));
	CHECK(gntdp_client_share_free(d.c, va[0]) == 0, "free");
	CHECK(gntdp_client_share_alloc(d.c, 42, 20, true, &va[0], &gfn) == 0, "20 again");
	gntdp_client_close(d.c);
	return 0;
}

static int
test_uid_limit(void)
{
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		printf("SKIP uid_limit: needs root to run a client as nobody\n");
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		alarm(60);
		_exit(uid_limit_child() == 0 ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "child: 0x%x", st);
	return 0;
}

/* ---- garbage ----------------------------------------------------------------------------- */

static int
test_garbage(void)
{
	union {
		struct gntdp_ctl_share_alloc a;
		struct gntdp_ctl_share_free f;
		struct gntdp_ctl_map_fd m;
		uint8_t raw[GNTDP_CTL_MAX_MSG];
	} b;
	struct gntdp_client *u;
	struct dom d = {.peer = -1};
	char why[GNTDP_CTL_WHY_SIZE];
	uint64_t x = 0x2545f4914f6cdd1dull;
	unsigned int answered = 0;
	void *va;
	uint64_t gfn;
	int fd, rc;

	/* Before DOMAIN_BIND. */
	CHECK(gntdp_client_connect(g_sock, &u) == 0, "connect");
	memset(&b, 0, sizeof(b));
	CHECK(raw(gntdp_client_fd(u), &b, GNTDP_CTL_SHARE_ALLOC, sizeof(b.a), why) == -ENOTCONN,
	      "unbound SHARE_ALLOC");
	b.m.count = 1;
	CHECK(raw(gntdp_client_fd(u), &b, GNTDP_CTL_MAP_FD, sizeof(b.m) + 8, why) == -ENOTCONN,
	      "unbound MAP_FD");
	gntdp_client_close(u);

	if (dom_open(&d, 36) != 0)
		return -1;
	fd = gntdp_client_fd(d.c);
	memset(&b, 0, sizeof(b));
	b.a.nb_frames = 1;
	CHECK(raw(fd, &b, GNTDP_CTL_SHARE_ALLOC, sizeof(b.a.hdr), why) == -EBADMSG, "short: %s", why);
	b.a.rsvd = 1;
	CHECK(raw(fd, &b, GNTDP_CTL_SHARE_ALLOC, sizeof(b.a), why) == -EINVAL &&
	      strstr(why, "rsvd") != NULL, "rsvd: %s", why);
	b.a.rsvd = 0;
	b.a.flags = 2;
	CHECK(raw(fd, &b, GNTDP_CTL_SHARE_ALLOC, sizeof(b.a), why) == -EINVAL &&
	      strstr(why, "flags") != NULL, "flags: %s", why);
	b.a.flags = 0;
	b.a.nb_frames = 0;
	CHECK(raw(fd, &b, GNTDP_CTL_SHARE_ALLOC, sizeof(b.a), why) == -EINVAL &&
	      strstr(why, "nb_frames") != NULL, "nb_frames 0: %s", why);
	memset(&b, 0, sizeof(b));
	CHECK(raw(fd, &b, GNTDP_CTL_MAP_FD, sizeof(b.m), why) == -EINVAL &&
	      strstr(why, "count") != NULL, "count 0: %s", why);
	b.m.count = 2;
	CHECK(raw(fd, &b, GNTDP_CTL_MAP_FD, sizeof(b.m) + 8, why) == -EBADMSG, "len: %s", why);
	b.m.count = GNTDP_CTL_MAP_FD_MAX + 1;
	CHECK(raw(fd, &b, GNTDP_CTL_MAP_FD, sizeof(b.m) + 8 * (GNTDP_CTL_MAP_FD_MAX + 1), why) ==
	      -EINVAL, "count 129: %s", why);
	CHECK(raw(fd, &b, GNTDP_CTL_MAP_FD, sizeof(b.m) - 4, why) == -EBADMSG, "short: %s", why);
	b.m.count = 1;
	b.m.flags = 4;
	CHECK(raw(fd, &b, GNTDP_CTL_MAP_FD, sizeof(b.m) + 8, why) == -EINVAL &&
	      strstr(why, "flags") != NULL, "flags: %s", why);
	memset(&b, 0, sizeof(b));
	b.f.gfn = 3;
	CHECK(raw(fd, &b, GNTDP_CTL_SHARE_FREE, sizeof(b.f), why) == -ENOENT, "free RAM: %s", why);
	CHECK(raw(fd, &b, GNTDP_CTL_SHARE_FREE, sizeof(b.f.hdr), why) == -EBADMSG, "short: %s",
	      why);
	gntdp_client_close(d.c);
	/* The others' numbers, until their branches serve them; past them: no type. */
	if (dom_open(&d, 36) != 0)
		return -1;
	fd = gntdp_client_fd(d.c);
	memset(&b, 0, sizeof(b));
	CHECK(raw(fd, &b, 17, 24, why) == -EOPNOTSUPP, "type 17: %s", why);
	CHECK(raw(fd, &b, 18, 24, why) == -EOPNOTSUPP, "type 18: %s", why);
	CHECK(raw(fd, &b, GNTDP_CTL_NB_TYPES, 24, why) == -EBADMSG, "type 23: %s", why);
	gntdp_client_close(d.c);
	/* Random bodies of the right sizes: each answered, or the connection closed after 16. */
	d.c = NULL;
	for (unsigned int i = 0; i < 600; i++) {
		static const uint16_t types[3] = {GNTDP_CTL_SHARE_ALLOC, GNTDP_CTL_MAP_FD,
						  GNTDP_CTL_SHARE_FREE};
		uint16_t type;
		size_t len;

		if (d.c == NULL && dom_open(&d, 36) != 0)
			return -1;
		for (size_t k = 0; k < 512; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			b.raw[k] = (uint8_t)x;
		}
		type = types[x % 3];
		len = type == GNTDP_CTL_SHARE_ALLOC ? sizeof(b.a) : sizeof(b.f);
		if (type == GNTDP_CTL_SHARE_ALLOC)
			b.a.nb_frames &= 7; /* some succeed */
		if (type == GNTDP_CTL_MAP_FD) {
			b.m.count = (uint32_t)(x >> 32) % (GNTDP_CTL_MAP_FD_MAX + 2);
			len = sizeof(b.m) + 8u * (x % 5 == 0 ? (x >> 40) % 64 : b.m.count);
		}
		rc = raw(gntdp_client_fd(d.c), &b, type, len, NULL);
		if (rc == -EPIPE) {
			gntdp_client_close(d.c);
			d.c = NULL;
			continue;
		}
		answered++;
	}
	if (d.c != NULL)
		gntdp_client_close(d.c);
	CHECK(answered > 300, "answered %u", answered);
	/* Still serving. */
	if (dom_open(&d, 36) != 0)
		return -1;
	CHECK(gntdp_client_share_alloc(d.c, 37, 2, true, &va, &gfn) == 0, "after the garbage");
	gntdp_client_close(d.c);
	return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{"both_ways", test_both_ways},
		{"read_only", test_read_only},
		{"not_shared", test_not_shared},
		{"many_segments", test_many_segments},
		{"granter_killed", test_granter_killed},
		{"free_while_mapped", test_free_while_mapped},
		{"quota", test_quota},
		{"threads", test_threads},
		{"uid_limit", test_uid_limit},
		{"garbage", test_garbage},
	};
	const char *sets[] = {"socket.group=", "socket.mode=0666", "domains.max_share_frames=64",
			      "acl0.max_frames=100", NULL};
	int failed = 0, rc;
	char cmd[200];

	if (argc < 3) {
		fprintf(stderr, "usage: %s GNTDPD CONFIG [CASE...]\n", argv[0]);
		return 2;
	}
	g_daemon = argv[1];
	g_config = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	snprintf(g_dir, sizeof(g_dir), "/tmp/gntdp-share-XXXXXX");
	if (mkdtemp(g_dir) == NULL || chmod(g_dir, 0755) != 0)
		return 1;
	snprintf(g_sock, sizeof(g_sock), "%s/gntdpd.sock", g_dir);
	snprintf(g_log, sizeof(g_log), "%s/gntdpd.log", g_dir);
	rc = td_daemon_start(g_daemon, g_config, g_sock, g_log, sets, &g_pid);
	if (rc != 0)
		return rc == 77 ? 77 : 1;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		bool run = argc == 3;

		for (int a = 3; a < argc; a++)
			run |= strcmp(argv[a], tests[i].name) == 0;
		if (!run)
			continue;
		rc = tests[i].fn();
		printf("%s %s\n", rc == 0 ? "ok  " : "FAIL", tests[i].name);
		failed += rc != 0;
	}
	/* The daemon survived all of it. */
	if (g_pid > 0 && waitpid(g_pid, NULL, WNOHANG) != 0) {
		printf("FAIL the daemon died\n");
		failed++;
		g_pid = -1;
	}
	if (g_pid > 0) {
		kill(g_pid, SIGTERM);
		waitpid(g_pid, NULL, 0);
	}
	if (failed != 0) {
		snprintf(cmd, sizeof(cmd), "tail -n 40 %s >&2", g_log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no daemon log)\n");
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", g_dir);
	}
	return failed != 0;
}
