/* SPDX-License-Identifier: MIT */
/*
 * libgntdp-client's hypercall rings: RING_CREATE, the mapping of the
 * region the daemon formatted, submit / reap (gntdp/hcall.h's client side
 * on it), waiting, and the synchronous hypercall.
 *
 * Waiting never hangs on a dead daemon: the worker that fills the CQ is a
 * thread of the daemon, so every wait also watches the control socket,
 * which turns readable (EOF) when the daemon's process goes. A sleeping
 * wait polls the eventfd and the socket together; a busy one looks at the
 * socket every SOCKET_CHECK_NS.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"

/*
 * How long gntdp_client_hcall() busy-polls before it sleeps on the
 * eventfd: a round trip through the worker is ~1-5 us (docs/hcall.md), so
 * 50 us catches every call the worker takes at once, and a sleep is paid
 * only when it is busy elsewhere.
 */
#define HCALL_SPIN_NS 50000
/* Busy waits look at the control socket this often (one poll() syscall). */
#define SOCKET_CHECK_NS 1000000
/* Most bytes a reply may ask us to map for one ring (ring_mem_size of 2 x 32768 is ~1.6 MB). */
#define MAX_RING_BYTES (16u << 20)

static inline void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
gntdp_client_ring_conf_init(struct gntdp_client_ring_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->sq_entries = 256;
	conf->cq_entries = 256;
	conf->eventfd = true;
	conf->worker = GNTDP_CTL_ANY_WORKER;
}

void
cl_ring_free(struct gntdp_client_ring *r)
{
	if (r->mem != NULL)
		munmap(r->mem, r->mem_size);
	if (r->efd >= 0)
		close(r->efd);
	free(r);
}

static int
ring_map(struct gntdp_client_ring *r, const struct gntdp_ctl_ring_reply *rr, int *fds,
	 unsigned int nfds)
{
	int rc;

	if (rr->mem_size > MAX_RING_BYTES)
		return -EPROTO;
	rc = cl_map_fd(fds[0], rr->mem_size, PROT_READ | PROT_WRITE, &r->mem);
	if (rc < 0)
		return rc;
	r->mem_size = (size_t)rr->mem_size;
	if (gntdp_hcall_client_init(&r->hc, r->mem, r->mem_size) < 0)
		return -EPROTO;
	if (nfds == 2) {
		r->efd = fds[1];
		fds[1] = -1;
	}
	return 0;
}

int
gntdp_client_ring_create(struct gntdp_client *c, const struct gntdp_client_ring_conf *conf,
			 struct gntdp_client_ring **out)
{
	struct gntdp_ctl_ring m = {0};
	struct gntdp_ctl_ring_reply rr;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_RING_CREATE,
			   .body = &rr, .body_min = sizeof(rr), .body_max = sizeof(rr)};
	struct gntdp_client_ring *r;
	int rc;

	if (c == NULL || conf == NULL || out == NULL)
		return -EINVAL;
	*out = NULL;
	if (c->domid == GNTDP_DOMID_INVALID)
		return -ENOTCONN;
	m.sq_entries = conf->sq_entries;
	m.cq_entries = conf->cq_entries;
	m.flags = conf->eventfd ? GNTDP_CTL_RING_EVENTFD : 0;
	m.worker = conf->worker;
	q.nfds_min = q.nfds_max = conf->eventfd ? 2 : 1;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->efd = -1;
	rc = cl_request(c, &q);
	if (rc < 0) {
		free(r);
		return rc;
	}
	rc = ring_map(r, &rr, q.fds, q.nfds);
	cl_close_fds(q.fds, q.nfds);
	if (rc < 0) {
		cl_ring_free(r);
		return cl_fail(c, rc, "ring: the region cannot be mapped or is not a formatted ring");
	}
	r->c = c;
	r->id = rr.ring_id;
	r->worker = rr.worker;
	cl_lock(c);
	r->next = c->rings;
	c->rings = r;
	cl_unlock(c);
	*out = r;
	return 0;
}

int
gntdp_client_ring_destroy(struct gntdp_client *c, struct gntdp_client_ring *r)
{
	struct gntdp_ctl_ring_destroy m = {0};
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_RING_DESTROY};
	struct gntdp_client_ring **p;
	int rc;

	if (r == NULL)
		return 0;
	if (c == NULL || r->c != c)
		return -EINVAL;
	m.ring_id = r->id;
	/* The daemon detaches the ring from its worker before it replies; then we unmap. */
	rc = cl_request(c, &q);
	cl_lock(c);
	for (p = &c->rings; *p != NULL; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	cl_unlock(c);
	cl_ring_free(r);
	return rc;
}

int
gntdp_client_ring_fd(const struct gntdp_client_ring *r)
{
	return r->efd;
}

unsigned int
gntdp_client_submit(struct gntdp_client_ring *r, const struct gntdp_hcall_sqe *sqes,
		    unsigned int n)
{
	unsigned int k;

	if (r->c->dead)
		return 0;
	k = gntdp_hcall_client_submit(&r->hc, sqes, n);
	r->inflight += k;
	return k;
}

unsigned int
gntdp_client_reap(struct gntdp_client_ring *r, struct gntdp_hcall_cqe *cqes, unsigned int n)
{
	unsigned int k = gntdp_hcall_client_reap(&r->hc, cqes, n);

	r->inflight -= k;
	return k;
}

unsigned int
gntdp_client_inflight(const struct gntdp_client_ring *r)
{
	return r->inflight;
}

static bool
cq_ready(const struct gntdp_client_ring *r)
{
	/* Acquire pairs with the worker's release of cq_tail (as in gntdp_hcall_client_reap). */
	return __atomic_load_n(&r->hc.hdr->cq_tail, __ATOMIC_ACQUIRE) != r->hc.cq_head;
}

/* Why no completion can come: the ring disabled or the daemon gone (0: it may still come). */
static int
ring_dead(struct gntdp_client_ring *r)
{
	uint32_t reason;

	if (gntdp_hcall_client_disabled(&r->hc, &reason))
		return cl_fail(r->c, -EPIPE, "ring: the worker disabled it (corrupt indices)");
	return cl_check_socket(r->c);
}

/* Sleep on the eventfd and the socket until @p end_ns (-1: no limit). */
static int
wait_sleep(struct gntdp_client_ring *r, int64_t end_ns)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = r->efd, .events = POLLIN},
				      {.fd = r->c->fd, .events = POLLIN}};
		int tmo = -1, rc;

		if (gntdp_hcall_client_arm_wakeup(&r->hc))
			return 1;
		rc = ring_dead(r);
		if (rc < 0)
			return rc;
		if (end_ns >= 0) {
			int64_t left = end_ns - now_ns();

			if (left <= 0)
				return 0;
			tmo = (int)((left + 999999) / 1000000);
		}
		rc = poll(p, 2, tmo);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0 && p[1].revents != 0) {
			int dead = cl_check_socket(r->c);

			if (dead < 0)
				return dead;
		}
		if (rc > 0 && (p[0].revents & POLLIN)) {
			uint64_t v;

			/* Only this thread reads the eventfd: poll said readable, so no block. */
			if (read(r->efd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			if (cq_ready(r))
				return 1;
		}
	}
}

/* Busy-poll the CQ until @p end_ns (-1: no limit), looking at the socket now and then. */
static int
wait_spin(struct gntdp_client_ring *r, int64_t end_ns)
{
	int64_t next_check = 0;

	for (unsigned int i = 0;; i++) {
		int64_t t;

		if (cq_ready(r))
			return 1;
		if ((i & 63) != 0) {
			relax();
			continue;
		}
		t = now_ns();
		if (t >= next_check) {
			int rc = ring_dead(r);

			if (rc < 0)
				return rc;
			next_check = t + SOCKET_CHECK_NS;
		}
		if (end_ns >= 0 && t >= end_ns)
			return 0;
	}
}

int
gntdp_client_wait(struct gntdp_client_ring *r, int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? -1 : now_ns() + (int64_t)timeout_ms * 1000000;
	int rc;

	if (cq_ready(r))
		return 1;
	rc = ring_dead(r);
	if (rc < 0)
		return rc;
	return r->efd >= 0 ? wait_sleep(r, end) : wait_spin(r, end);
}

/* Where @p ops..+count ops of @p cmd lie in RAM: their guest address, else UINT64_MAX. */
static uint64_t
ops_gaddr(const struct gntdp_client *c, unsigned int cmd, const void *ops, unsigned int count)
{
	uint64_t g, bytes = (uint64_t)count * gntdp_hcall_op_size(cmd & GNTDP_GNTTABOP_CMD_MASK);

	if (count == 0 && ops == NULL)
		return 0; /* nothing is read (Xen: count 0 touches no memory) */
	g = gntdp_client_gaddr(c, ops);
	if (g == UINT64_MAX || bytes > c->ram_size - g)
		return UINT64_MAX;
	return g;
}

int
gntdp_client_hcall(struct gntdp_client_ring *r, unsigned int cmd, void *ops, unsigned int count)
{
	struct gntdp_hcall_sqe sqe = {.cmd = cmd, .count = count};
	struct gntdp_hcall_cqe cqe;
	int64_t spin_end;
	int rc;

	if (r->c->dead)
		return r->c->dead;
	if (r->inflight != 0)
		return -EBUSY; /* a completion of an earlier call would be taken for ours */
	sqe.gaddr = ops_gaddr(r->c, cmd, ops, count);
	if (sqe.gaddr == UINT64_MAX)
		return -EFAULT;
	sqe.user_data = ++r->token;
	if (gntdp_client_submit(r, &sqe, 1) != 1) {
		rc = ring_dead(r);
		return rc < 0 ? rc : -EBUSY;
	}
	spin_end = now_ns() + HCALL_SPIN_NS;
	for (;;) {
		rc = wait_spin(r, r->efd >= 0 ? spin_end : -1);
		if (rc == 0)
			rc = wait_sleep(r, -1);
		if (rc < 0)
			return rc;
		if (gntdp_client_reap(r, &cqe, 1) == 1)
			break;
	}
	if (cqe.user_data != sqe.user_data)
		return cl_fail(r->c, -EPROTO, "ring: a completion that is not the call's");
	return cqe.rc;
}
