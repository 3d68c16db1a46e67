/* SPDX-License-Identifier: MIT */
/*
 * libgntdp-client against a real gntdpd (suite daemon): the test starts
 * the daemon (configs/gntdpd/gntdpd.ini, its socket in a temporary directory) and
 * runs every domain in a process of its own, forked from this one before
 * anything else happens in it; no process but the daemon runs EAL.
 *
 *  - two_domains_copy: domains 11 and 12 grant each other a read-only
 *    frame and a writable one; each copies the other's read-only frame
 *    into its RAM (whole and a sub-page piece) and its own frame into the
 *    other's writable one, in one hypercall with an out-of-range ref;
 *    every byte is checked on both sides, every status, and the grants
 *    end cleanly afterwards.
 *  - map_unmap: 11 maps 12's read-only grant (host map, model only),
 *    12 sees GTF_reading and cannot end access while it is mapped; after
 *    the unmap it can.
 *  - gaddr_outside_ram: an op array outside RAM is refused by the library
 *    (-EFAULT, nothing sent); sent raw, the daemon answers -EFAULT; a
 *    setup_table frame list outside RAM gets GNTST_bad_virt_addr.
 *  - self_shared: gntdp_client_self_get() refuses a bad or missing
 *    $GNTDP_DOMID (-EINVAL), binds $GNTDP_DOMID once and hands the same
 *    client to every later call; four threads create and destroy rings on
 *    it at once (the client's mutex keeps each reply with its request:
 *    without it replies cross and the connection dies -EPROTO); a forked
 *    child's own get is -EEXIST (the parent holds the domain); the last put
 *    closes it, and the next get binds a fresh connection.
 *  - daemon_restarted: six clients, each in one of the waits a client can
 *    be in (gntdp_client_wait() on an eventfd ring and on a busy-poll one,
 *    gntdp_client_hcall() in flight on each, an asynchronous submit then a
 *    wait, a control request waiting for its reply), started while the
 *    daemon is stopped, when it is SIGKILLed: each gets -EPIPE within 3 s
 *    and every later call fails at once; then each connects to a new
 *    daemon over the stale socket, binds its domid again and copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gntdp/client.h>

#include "../tdaemon.h"

#define PAGE GNTDP_PAGE_SIZE
#define NR_FRAMES 16u
#define OPS_GFN 8u /* where each domain puts its op arrays */

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

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the daemon ------------------------------------------------------------ */

/* 0 once the socket answers, 77 when gntdpd exits 77 (no memory for EAL), -1 otherwise. */
static int
daemon_start(void)
{
	const char *sets[] = {"socket.group=", NULL};

	return td_daemon_start(g_daemon, g_config, g_sock, g_log, sets, &g_pid);
}

static void
daemon_kill(int sig)
{
	if (g_pid < 0)
		return;
	kill(g_pid, sig);
	waitpid(g_pid, NULL, 0);
	g_pid = -1;
}

/* The client still answers: a ring can be made and destroyed on it. */
static bool
cl_alive(struct gntdp_client *c)
{
	struct gntdp_client_ring_conf rc;
	struct gntdp_client_ring *r;

	gntdp_client_ring_conf_init(&rc);
	rc.sq_entries = rc.cq_entries = 8;
	return gntdp_client_ring_create(c, &rc, &r) == 0 && gntdp_client_ring_destroy(c, r) == 0;
}

/* ---- a domain's process -------------------------------------------------------- */

struct dom {
	struct gntdp_client *c;
	struct gntdp_client_ring *r;
	uint8_t *ram;
	struct gntdp_grant_entry_v1 *gt;
	gntdp_domid_t id, peer;
	int sync; /* socketpair end to the peer's process */
};

static uint8_t
pattern(unsigned int dom, unsigned int gfn, unsigned int i)
{
	return (uint8_t)(i * 31u + dom * 7u + gfn * 13u + (i >> 8));
}

static int
dom_open(struct dom *d, gntdp_domid_t id, bool eventfd)
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
	rc.eventfd = eventfd;
	rv = gntdp_client_ring_create(d->c, &rc, &d->r);
	CHECK(rv == 0, "ring: %d %s", rv, gntdp_client_why(d->c));
	d->ram = gntdp_client_ram(d->c, NULL);
	d->gt = gntdp_client_table(d->c, NULL);
	d->id = id;
	return 0;
}

/* One step of the lock-step protocol between the two domain processes. */
static int
step(struct dom *d, char tag)
{
	struct pollfd p = {.fd = d->sync, .events = POLLIN};
	char got = 0;

	CHECK(write(d->sync, &tag, 1) == 1, "sync write");
	CHECK(poll(&p, 1, 20000) == 1 && read(d->sync, &got, 1) == 1, "peer gone at '%c'", tag);
	CHECK(got == tag, "peer at '%c', we at '%c'", got, tag);
	return 0;
}

static struct gntdp_gnttab_copy
copy_op(bool src_gref, uint32_t src, gntdp_domid_t sdom, uint16_t soff, bool dst_gref, uint32_t dst,
	gntdp_domid_t ddom, uint16_t doff, uint16_t len)
{
	struct gntdp_gnttab_copy op;

	memset(&op, 0, sizeof(op));
	if (src_gref)
		op.source.u.ref = src;
	else
		op.source.u.gmfn = src;
	op.source.domid = sdom;
	op.source.offset = soff;
	if (dst_gref)
		op.dest.u.ref = dst;
	else
		op.dest.u.gmfn = dst;
	op.dest.domid = ddom;
	op.dest.offset = doff;
	op.len = len;
	op.flags = (uint16_t)((src_gref ? GNTDP_GNTCOPY_SOURCE_GREF : 0) |
			      (dst_gref ? GNTDP_GNTCOPY_DEST_GREF : 0));
	op.status = 99;
	return op;
}

/*
 * End access as a guest must with gntdp's grant cache: the worker may hold
 * a pin (GTF_reading/writing) up to [workers] hold_us (1 ms) after the last
 * op that used it (docs/cache.md), so retry, as Linux defers the end of a
 * busy grant; 1 s is far past any hold.
 */
static int
end_access_within(struct gntdp_grant_entry_v1 *e, double secs)
{
	double t0 = now_s();
	int rc;

	while ((rc = gntdp_guest_end_access(e)) == -EBUSY && now_s() - t0 < secs)
		usleep(100);
	return rc;
}

/* Grants: ref 10 = own gfn 2 read-only, ref 11 = own gfn 5 writable (zeroed). */
static int
copies(struct dom *d)
{
	struct gntdp_gnttab_copy *ops = (void *)(d->ram + OPS_GFN * PAGE);
	const gntdp_domid_t self = GNTDP_DOMID_SELF;
	int rc;

	for (unsigned int i = 0; i < PAGE; i++) {
		d->ram[2 * PAGE + i] = pattern(d->id, 2, i);
		d->ram[3 * PAGE + i] = pattern(d->id, 3, i);
	}
	memset(d->ram + 4 * PAGE, 0, 3 * PAGE); /* gfns 4, 5, 6 */
	CHECK(gntdp_guest_grant_access(&d->gt[10], d->peer, 2, true) == 0, "grant 10");
	CHECK(gntdp_guest_grant_access(&d->gt[11], d->peer, 5, false) == 0, "grant 11");
	if (step(d, 'g') != 0)
		return -1;
	ops[0] = copy_op(true, 10, d->peer, 0, false, 4, self, 0, PAGE);
	ops[1] = copy_op(false, 3, self, 0, true, 11, d->peer, 0, PAGE);
	ops[2] = copy_op(true, 10, d->peer, 123, false, 6, self, 3001, 777);
	ops[3] = copy_op(true, 1u << 20, d->peer, 0, false, 6, self, 0, 8); /* past the table */
	rc = gntdp_client_hcall(d->r, GNTDP_GNTTABOP_COPY, ops, 4);
	CHECK(rc == 0, "copy hcall: %d", rc);
	for (int i = 0; i < 3; i++)
		CHECK(ops[i].status == GNTDP_GNTST_OKAY, "op %d: status %d", i, ops[i].status);
	CHECK(ops[3].status == GNTDP_GNTST_BAD_GNTREF, "op 3: status %d", ops[3].status);
	for (unsigned int i = 0; i < PAGE; i++)
		CHECK(d->ram[4 * PAGE + i] == pattern(d->peer, 2, i), "read byte %u", i);
	for (unsigned int i = 0; i < PAGE; i++) {
		uint8_t want = i >= 3001 && i < 3001 + 777 ? pattern(d->peer, 2, i - 3001 + 123) : 0;

		CHECK(d->ram[6 * PAGE + i] == want, "sub-page byte %u", i);
	}
	if (step(d, 'c') != 0)
		return -1;
	/* The peer wrote its gfn 3 into our gfn 5 (ref 11); nothing else of ours changed. */
	for (unsigned int i = 0; i < PAGE; i++) {
		CHECK(d->ram[5 * PAGE + i] == pattern(d->peer, 3, i), "written byte %u", i);
		CHECK(d->ram[2 * PAGE + i] == pattern(d->id, 2, i), "read-only frame byte %u", i);
	}
	CHECK(end_access_within(&d->gt[10], 1.0) == 0, "end 10: flags 0x%x", d->gt[10].flags);
	CHECK(end_access_within(&d->gt[11], 1.0) == 0, "end 11: flags 0x%x", d->gt[11].flags);
	return step(d, 'e');
}

/* 11 maps 12's ref 12 (gfn 2, read-only), host map into an empty gfn. */
static int
map_unmap(struct dom *d)
{
	struct gntdp_gnttab_map_grant_ref *m = (void *)(d->ram + OPS_GFN * PAGE);
	struct gntdp_gnttab_unmap_grant_ref *u = (void *)(d->ram + OPS_GFN * PAGE + 64);
	uint64_t host = (uint64_t)(NR_FRAMES + 100) << GNTDP_PAGE_SHIFT;
	int rc;

	if (d->id == 12) {
		CHECK(gntdp_guest_grant_access(&d->gt[12], d->peer, 2, true) == 0, "grant 12");
		if (step(d, 'G') != 0 || step(d, 'M') != 0)
			return -1;
		CHECK(d->gt[12].flags & GNTDP_GTF_READING, "mapped, no GTF_reading: 0x%x",
		      d->gt[12].flags);
		CHECK(gntdp_guest_end_access(&d->gt[12]) == -EBUSY, "end access while mapped");
		if (step(d, 'C') != 0 || step(d, 'U') != 0)
			return -1;
		CHECK(end_access_within(&d->gt[12], 1.0) == 0, "unmapped, still in use: 0x%x",
		      d->gt[12].flags);
		return 0;
	}
	if (step(d, 'G') != 0)
		return -1;
	memset(m, 0, sizeof(*m));
	m->host_addr = host;
	m->flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY;
	m->ref = 12;
	m->dom = d->peer;
	rc = gntdp_client_hcall(d->r, GNTDP_GNTTABOP_MAP_GRANT_REF, m, 1);
	CHECK(rc == 0 && m->status == GNTDP_GNTST_OKAY, "map: rc %d status %d", rc, m->status);
	if (step(d, 'M') != 0 || step(d, 'C') != 0)
		return -1;
	memset(u, 0, sizeof(*u));
	u->host_addr = host;
	u->handle = m->handle;
	rc = gntdp_client_hcall(d->r, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u, 1);
	CHECK(rc == 0 && u->status == GNTDP_GNTST_OKAY, "unmap: rc %d status %d", rc, u->status);
	/* The same handle again: gone. */
	u->status = 99;
	rc = gntdp_client_hcall(d->r, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u, 1);
	CHECK(rc == 0 && u->status == GNTDP_GNTST_BAD_HANDLE, "unmap again: %d %d", rc, u->status);
	return step(d, 'U');
}

static int
domain_main(gntdp_domid_t id, gntdp_domid_t peer, int sync)
{
	struct dom d = {.peer = peer, .sync = sync};

	if (dom_open(&d, id, true) != 0 || copies(&d) != 0 || map_unmap(&d) != 0)
		return 1;
	gntdp_client_close(d.c);
	return 0;
}

/* Run @p n children, each fn(i, arg); 0 when all exit 0 within 60 s. */
static int
run_children(int n, int (*fn)(int i, void *arg), void *arg)
{
	pid_t pids[4];
	int bad = 0;

	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			alarm(60);
			_exit(fn(i, arg));
		}
	}
	for (int i = 0; i < n; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "child %d: status 0x%x\n", i, st);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int
pair_child(int i, void *arg)
{
	int *sv = arg;

	close(sv[1 - i]);
	return domain_main((gntdp_domid_t)(11 + i), (gntdp_domid_t)(12 - i), sv[i]);
}

static int
test_two_domains(void)
{
	int sv[2], rc;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	rc = run_children(2, pair_child, sv);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

static int
gaddr_child(int i, void *arg)
{
	struct dom d = {.peer = 0};
	struct gntdp_gnttab_copy local = {0};
	struct gntdp_gnttab_setup_table *st;
	struct gntdp_hcall_sqe sqe = {.user_data = 77, .cmd = GNTDP_GNTTABOP_COPY, .count = 1};
	struct gntdp_hcall_cqe cqe;
	uint64_t end = (uint64_t)NR_FRAMES * PAGE;
	uint64_t bad[] = {end, end - 20, UINT64_MAX - 7, 1ull << 40};

	(void)i;
	(void)arg;
	if (dom_open(&d, 13, true) != 0)
		return 1;
	/* Locally: a pointer outside the RAM mapping, or an array running past its end. */
	CHECK(gntdp_client_hcall(d.r, GNTDP_GNTTABOP_COPY, &local, 1) == -EFAULT, "stack array");
	CHECK(gntdp_client_hcall(d.r, GNTDP_GNTTABOP_COPY, d.ram + end - 20, 1) == -EFAULT,
	      "straddling array");
	CHECK(gntdp_client_inflight(d.r) == 0, "something was submitted");
	/* Raw: the daemon answers -EFAULT. */
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		sqe.gaddr = bad[k];
		CHECK(gntdp_client_submit(d.r, &sqe, 1) == 1, "submit");
		CHECK(gntdp_client_wait(d.r, 5000) == 1, "no completion");
		CHECK(gntdp_client_reap(d.r, &cqe, 1) == 1, "reap");
		CHECK(cqe.user_data == 77 && cqe.rc == -EFAULT, "gaddr 0x%llx: rc %d",
		      (unsigned long long)bad[k], cqe.rc);
	}
	/* A frame list outside RAM: bad_virt_addr; inside: written. Canary after the op. */
	st = (void *)(d.ram + OPS_GFN * PAGE);
	memset(d.ram + OPS_GFN * PAGE, 0x5a, PAGE);
	memset(st, 0, sizeof(*st));
	st->dom = GNTDP_DOMID_SELF;
	st->nr_frames = 1;
	st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)(end + 5 * PAGE);
	CHECK(gntdp_client_hcall(d.r, GNTDP_GNTTABOP_SETUP_TABLE, st, 1) == 0, "setup_table rc");
	CHECK(st->status == GNTDP_GNTST_BAD_VIRT_ADDR, "setup_table outside: %d", st->status);
	st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)((OPS_GFN + 1) * PAGE);
	st->status = 99;
	CHECK(gntdp_client_hcall(d.r, GNTDP_GNTTABOP_SETUP_TABLE, st, 1) == 0, "setup_table rc");
	CHECK(st->status == GNTDP_GNTST_OKAY, "setup_table inside: %d", st->status);
	for (unsigned int k = sizeof(*st); k < PAGE; k++)
		CHECK(d.ram[OPS_GFN * PAGE + k] == 0x5a, "canary byte %u changed", k);
	gntdp_client_close(d.c);
	return 0;
}

static int
test_gaddr_outside_ram(void)
{
	return run_children(1, gaddr_child, NULL);
}

#define SELF_THREADS 4
#define SELF_ROUNDS 40

static void *
self_thread(void *arg)
{
	struct gntdp_client *c = arg;
	struct gntdp_client_ring_conf rc;
	intptr_t bad = 0;

	gntdp_client_ring_conf_init(&rc);
	rc.sq_entries = rc.cq_entries = 8;
	for (int k = 0; k < SELF_ROUNDS && bad == 0; k++) {
		struct gntdp_client_ring *r;
		int rv = gntdp_client_ring_create(c, &rc, &r);

		if (rv == 0)
			rv = gntdp_client_ring_destroy(c, r);
		if (rv != 0) {
			fprintf(stderr, "self thread: round %d: %d %s\n", k, rv,
				gntdp_client_why(c));
			bad = 1;
		}
	}
	return (void *)bad;
}

static int
self_child(int i, void *arg)
{
	static const char *const bad[] = {"", "x", "12x", "-1", "32752", "99999999999"};
	struct gntdp_client *c, *c2, *c3;
	pthread_t th[SELF_THREADS];
	pid_t pid;
	int st, rv;

	(void)i;
	(void)arg;
	setenv("GNTDP_SOCKET", g_sock, 1);
	unsetenv("GNTDP_DOMID");
	CHECK(gntdp_client_self_get(&c) == -EINVAL, "no GNTDP_DOMID");
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		setenv("GNTDP_DOMID", bad[k], 1);
		CHECK(gntdp_client_self_get(&c) == -EINVAL, "GNTDP_DOMID='%s'", bad[k]);
	}
	setenv("GNTDP_DOMID", "30", 1);
	CHECK(gntdp_client_self_get(NULL) == -EINVAL, "NULL out");
	rv = gntdp_client_self_get(&c);
	CHECK(rv == 0, "self_get: %d", rv);
	CHECK(gntdp_client_domid(c) == 30, "domid %u", gntdp_client_domid(c));
	CHECK(gntdp_client_self_get(&c2) == 0 && c2 == c, "second get is another client");
	for (int k = 0; k < SELF_THREADS; k++)
		CHECK(pthread_create(&th[k], NULL, self_thread, c) == 0, "pthread_create");
	rv = 0;
	for (int k = 0; k < SELF_THREADS; k++) {
		void *ret;

		pthread_join(th[k], &ret);
		rv |= ret != NULL;
	}
	CHECK(rv == 0, "a thread's requests failed");
	/* A child does not use the parent's connection: its own bind of 30 is refused. */
	pid = fork();
	if (pid == 0)
		_exit(gntdp_client_self_get(&c3) == -EEXIST ? 0 : 1);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the forked child's get was not -EEXIST (status 0x%x)", st);
	gntdp_client_self_put(c2);
	CHECK(cl_alive(c), "the first put closed the connection");
	gntdp_client_self_put(c);
	/* Closed: the domain went with it, a new get binds it again on a new connection. */
	rv = gntdp_client_self_get(&c3);
	CHECK(rv == 0 && gntdp_client_domid(c3) == 30, "get after the last put: %d", rv);
	gntdp_client_self_put(c3);
	return 0;
}

static int
test_self_shared(void)
{
	return run_children(1, self_child, NULL);
}

/*
 * The waits a client can be in when the daemon dies (docs/daemon.md
 * "Death"): each child starts one while the daemon is stopped (SIGSTOP: no
 * completion and no reply can come), then the daemon is SIGKILLed.
 */
enum waiter {
	W_WAIT_EVENTFD, /* gntdp_client_wait(), nothing in flight, eventfd ring */
	W_WAIT_SPIN,    /* the same on a busy-poll ring */
	W_HCALL_EVENTFD, /* gntdp_client_hcall() in flight, eventfd ring */
	W_HCALL_SPIN,    /* the same, busy-poll ring */
	W_SUBMIT,        /* gntdp_client_submit() then gntdp_client_wait(), eventfd ring */
	W_CONTROL,       /* a control request (RING_CREATE) waiting for its reply */
	W_COUNT
};

static const char *const waiter_name[W_COUNT] = {
	"wait, eventfd", "wait, busy poll", "hcall, eventfd", "hcall, busy poll",
	"submit + wait", "control request",
};

/* One wait of kind @p w: what it returns (every one must be -EPIPE). */
static int
waiter_wait(struct dom *d, enum waiter w)
{
	struct gntdp_hcall_sqe sqe = {.user_data = 5, .cmd = GNTDP_GNTTABOP_COPY, .count = 1};
	struct gntdp_gnttab_copy *op = (void *)(d->ram + OPS_GFN * PAGE);
	struct gntdp_client_ring_conf rc;
	struct gntdp_client_ring *r2 = NULL;

	*op = copy_op(false, 1, GNTDP_DOMID_SELF, 0, false, 2, GNTDP_DOMID_SELF, 0, 64);
	sqe.gaddr = gntdp_client_gaddr(d->c, op);
	switch (w) {
	case W_WAIT_EVENTFD:
	case W_WAIT_SPIN:
		return gntdp_client_wait(d->r, 20000);
	case W_HCALL_EVENTFD:
	case W_HCALL_SPIN:
		return gntdp_client_hcall(d->r, GNTDP_GNTTABOP_COPY, op, 1);
	case W_SUBMIT:
		if (gntdp_client_submit(d->r, &sqe, 1) != 1)
			return -EIO;
		return gntdp_client_wait(d->r, 20000);
	case W_CONTROL:
	default:
		gntdp_client_ring_conf_init(&rc);
		return gntdp_client_ring_create(d->c, &rc, &r2);
	}
}

/* After the daemon died: a new connection to the new daemon, the same domid, a verified copy. */
static int
reconnect(gntdp_domid_t id, bool eventfd)
{
	struct dom d = {.peer = 0};
	struct gntdp_gnttab_copy *op;
	int rv;

	if (dom_open(&d, id, eventfd) != 0)
		return -1;
	for (unsigned int k = 0; k < PAGE; k++) {
		d.ram[PAGE + k] = pattern(id, 1, k);
		d.ram[2 * PAGE + k] = 0;
	}
	op = (void *)(d.ram + OPS_GFN * PAGE);
	*op = copy_op(false, 1, GNTDP_DOMID_SELF, 0, false, 2, GNTDP_DOMID_SELF, 0, PAGE);
	rv = gntdp_client_hcall(d.r, GNTDP_GNTTABOP_COPY, op, 1);
	CHECK(rv == 0 && op->status == GNTDP_GNTST_OKAY, "copy on the new daemon: %d %d", rv,
	      op->status);
	CHECK(memcmp(d.ram + PAGE, d.ram + 2 * PAGE, PAGE) == 0, "the copy's bytes differ");
	gntdp_client_close(d.c);
	return 0;
}

static int
wait_child(int i, void *arg)
{
	struct gntdp_hcall_sqe sqe = {.cmd = GNTDP_GNTTABOP_COPY, .count = 0};
	const enum waiter w = (enum waiter)i;
	const bool efd = w != W_WAIT_SPIN && w != W_HCALL_SPIN;
	const gntdp_domid_t id = (gntdp_domid_t)(20 + i);
	struct dom d = {.peer = 0};
	int *pp = arg, rv;
	double t0, dt;
	char b;

	if (dom_open(&d, id, efd) != 0)
		return 1;
	CHECK(write(pp[1], "r", 1) == 1, "ready");
	CHECK(read(pp[2], &b, 1) == 1, "go"); /* the daemon is stopped now */
	t0 = now_s();
	rv = waiter_wait(&d, w);
	dt = now_s() - t0;
	CHECK(rv == -EPIPE, "%s: %d", waiter_name[w], rv);
	CHECK(dt < 3.0, "%s took %.3f s", waiter_name[w], dt);
	/* Dead from now on, at once. */
	t0 = now_s();
	CHECK(gntdp_client_hcall(d.r, GNTDP_GNTTABOP_COPY, NULL, 0) == -EPIPE, "hcall after");
	CHECK(gntdp_client_submit(d.r, &sqe, 1) == 0, "submit after");
	CHECK(gntdp_client_wait(d.r, 1000) == -EPIPE, "wait after");
	CHECK(gntdp_client_ring_destroy(d.c, d.r) == -EPIPE, "ring destroy after");
	CHECK(now_s() - t0 < 0.5, "calls after death are slow");
	printf("client %d (%s): -EPIPE %.1f ms after it started\n", i, waiter_name[w], dt * 1e3);
	gntdp_client_close(d.c);
	/* The new daemon: the same process connects again and works. */
	CHECK(read(pp[2], &b, 1) == 1, "restart");
	return reconnect(id, efd) == 0 ? 0 : 1;
}

static int
test_daemon_restarted(void)
{
	int ready[2], go[2], pp[3], rc;
	pid_t pids[W_COUNT];
	char b, dir[128];

	CHECK(pipe(ready) == 0 && pipe(go) == 0, "pipes");
	pp[0] = ready[0], pp[1] = ready[1], pp[2] = go[0];
	for (int i = 0; i < W_COUNT; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			alarm(60);
			_exit(wait_child(i, pp));
		}
	}
	for (int i = 0; i < W_COUNT; i++)
		CHECK(read(ready[0], &b, 1) == 1, "a client did not get ready");
	/* Stopped: every wait below is one that no completion or reply can end. */
	CHECK(td_stop(g_pid) == 0, "gntdpd did not stop");
	for (int i = 0; i < W_COUNT; i++)
		CHECK(write(go[1], "g", 1) == 1, "go");
	usleep(300000);
	snprintf(dir, sizeof(dir), "rm -rf /var/run/dpdk/gntdpd-%d", (int)g_pid);
	daemon_kill(SIGKILL);
	if (system(dir) != 0)
		fprintf(stderr, "could not remove the killed daemon's runtime directory\n");
	/* A new daemon over the stale socket; every client reconnects to it. */
	rc = daemon_start();
	for (int i = 0; i < W_COUNT; i++)
		CHECK(write(go[1], "g", 1) == 1, "go");
	for (int i = 0; i < W_COUNT; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "waiter %d (%s): status 0x%x\n", i, waiter_name[i], st);
			rc = -1;
		}
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{"two_domains_copy_map", test_two_domains},
		{"gaddr_outside_ram", test_gaddr_outside_ram},
		{"self_shared", test_self_shared},
		{"daemon_restarted", test_daemon_restarted}, /* last: a new daemon after it */
	};
	int failed = 0, rc;
	char cmd[200];

	if (argc != 3) {
		fprintf(stderr, "usage: %s GNTDPD CONFIG\n", argv[0]);
		return 2;
	}
	g_daemon = argv[1];
	g_config = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	snprintf(g_dir, sizeof(g_dir), "/tmp/gntdp-clientd-XXXXXX");
	if (mkdtemp(g_dir) == NULL || chmod(g_dir, 0755) != 0)
		return 1;
	snprintf(g_sock, sizeof(g_sock), "%s/gntdpd.sock", g_dir);
	snprintf(g_log, sizeof(g_log), "%s/gntdpd.log", g_dir);
	rc = daemon_start();
	if (rc != 0)
		return rc == 77 ? 77 : 1;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		rc = tests[i].fn();
		printf("%s %s\n", rc == 0 ? "ok  " : "FAIL", tests[i].name);
		failed += rc != 0;
	}
	daemon_kill(SIGTERM);
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
