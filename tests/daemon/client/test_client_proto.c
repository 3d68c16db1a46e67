/* SPDX-License-Identifier: MIT */
/*
 * libgntdp-client against a fake daemon (no DPDK, no gntdpd): a thread (or,
 * for the death cases, a child process) that listens on a socket in a
 * temporary directory, answers HELLO, DOMAIN_BIND and RING_CREATE as gntdpd
 * does (memfds, a formatted ring region, an eventfd), plays the worker on
 * the ring, and breaks exactly one reply in the way a case asks.
 *
 * What is checked: every broken reply is -EPROTO (or -ETIMEDOUT / -EPIPE),
 * no fd the reply carried stays open in the client, the connection is dead
 * afterwards (the next call fails at once with the same error), gaddr
 * translation and its local -EFAULT, and a client waiting in
 * gntdp_client_hcall() / gntdp_client_wait() when the daemon dies gets
 * -EPIPE in bounded time, with and without an eventfd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gntdp/client.h>

#include "tcommon.h"

/* How a fake breaks the reply to the request of type fk.target. */
enum bad {
	BAD_NONE,
	BAD_SHORT,      /* 20 bytes */
	BAD_LEN,        /* hdr.len one more than sent */
	BAD_MAGIC,
	BAD_VERSION,
	BAD_TYPE,       /* no REPLY bit */
	BAD_SEQ,
	BAD_EXTRA_FD,   /* one more fd than nfds says */
	BAD_NFDS,       /* nfds says one more than attached */
	BAD_ERR_FDS,    /* an error reply that carries an fd */
	BAD_WHY,        /* why without a NUL */
	BAD_BODY,       /* success with a body 4 bytes short */
	BAD_HUGE,       /* a datagram longer than GNTDP_CTL_MAX_MSG */
	BAD_SMALL_MEMFD, /* bind: RAM memfd shorter than nr_frames */
	BAD_NOT_MEMFD,  /* bind: a pipe instead of the table memfd */
	BAD_RING_FORMAT, /* ring: the region is not formatted */
	BAD_SILENT,     /* no reply at all */
	BAD_CLOSE,      /* close the connection instead of replying */
	BAD_ERROR,      /* a well-formed error reply: -EPERM "domid: not yours" */
	BAD_KILL,       /* ring created, worker never answers, the daemon process dies */
	BAD_SHARE_GFN,  /* share_alloc: the gfn outside the share window */
	BAD_SHARE_RO,   /* share_alloc: a read-only fd */
	BAD_MAPFD_RW,   /* map_fd: a read-write fd where a read-only one was asked */
	BAD_MAPFD_OFF,  /* map_fd: an offset past the fd's end */
	BAD_MAPFD_IDX,  /* map_fd: an fd index past nb_fds */
	BAD_MAPFD_ZERO, /* map_fd: count 0 */
	BAD_MAPFD_TINY, /* map_fd: an fd shorter than a page */
};

struct fake {
	int lfd;
	enum bad bad;
	uint16_t target; /* request type whose reply is broken */
	pthread_t th, worker;
	bool worker_on;
	volatile bool stop;
	volatile bool hold; /* the fake worker completes nothing meanwhile */
	void *ring;
	size_t ring_size;
	int efd;
	char dir[48], path[96];
};

#define NR_FRAMES 4u
#define RING_ENTRIES 8u

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static int
make_memfd(size_t bytes)
{
	int fd = memfd_create("fake", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)bytes) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The fake worker: complete every SQE with rc = cmd * 1000 + count, as gntdp's worker would. */
static void *
worker_main(void *arg)
{
	struct fake *f = arg;
	struct gntdp_hcall_ring_hdr *h = f->ring;
	struct gntdp_hcall_sqe *sq = (void *)((uint8_t *)f->ring + h->sq_off);
	struct gntdp_hcall_cqe *cq = (void *)((uint8_t *)f->ring + h->cq_off);
	uint32_t head = 0, ctail = 0;

	while (!f->stop) {
		uint32_t tail = __atomic_load_n(&h->sq_tail, __ATOMIC_ACQUIRE);

		if (tail == head || f->bad == BAD_KILL || f->hold) {
			usleep(100);
			continue;
		}
		/* Not at once: gives the client's sleeping path a chance to run. */
		usleep(200);
		while (head != tail) {
			struct gntdp_hcall_sqe s = sq[head & (RING_ENTRIES - 1)];

			cq[ctail & (RING_ENTRIES - 1)] = (struct gntdp_hcall_cqe){
				.user_data = s.user_data, .rc = (int32_t)(s.cmd * 1000 + s.count)};
			head++;
			ctail++;
		}
		__atomic_store_n(&h->sq_head, head, __ATOMIC_RELEASE);
		__atomic_store_n(&h->cq_tail, ctail, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&h->wakeup, __ATOMIC_RELAXED)) {
			uint64_t one = 1;

			__atomic_store_n(&h->wakeup, 0u, __ATOMIC_RELAXED);
			if (write(f->efd, &one, sizeof(one)) < 0)
				break;
		}
	}
	return NULL;
}

/* The correct reply body and fds for request @p type; returns the body size. */
static size_t
good_reply(struct fake *f, const uint8_t *req, uint16_t type, uint8_t *body, int *fds,
	   unsigned int *nfds)
{
	*nfds = 0;
	if (type == GNTDP_CTL_HELLO) {
		struct gntdp_ctl_hello_reply r = {.version = 1, .page_size = 4096, .nb_workers = 1,
						  .max_rings = 4, .uid = getuid(), .gid = getgid(),
						  .pid = (uint32_t)getpid()};
		memcpy(body, &r, sizeof(r));
		return sizeof(r);
	}
	if (type == GNTDP_CTL_DOMAIN_BIND) {
		const struct gntdp_ctl_domain *m = (const void *)req;
		struct gntdp_ctl_domain_reply r = {.domid = m->domid, .nr_frames = NR_FRAMES,
						   .max_grant_frames = 1, .max_grant_version = 1,
						   .numa_node = UINT32_MAX};
		memcpy(body, &r, sizeof(r));
		fds[0] = make_memfd(NR_FRAMES * 4096);
		fds[1] = make_memfd(4096);
		*nfds = 2;
		return sizeof(r);
	}
	if (type == GNTDP_CTL_RING_CREATE) {
		const struct gntdp_ctl_ring *m = (const void *)req;
		size_t sz = gntdp_hcall_ring_mem_size(RING_ENTRIES, RING_ENTRIES);
		struct gntdp_ctl_ring_reply r = {.ring_id = 7, .worker = 0, .mem_size = sz};

		memcpy(body, &r, sizeof(r));
		fds[0] = make_memfd(sz);
		f->ring = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
		f->ring_size = sz;
		if (f->bad != BAD_RING_FORMAT)
			gntdp_hcall_ring_format(f->ring, sz, RING_ENTRIES, RING_ENTRIES);
		*nfds = 1;
		if (m->flags & GNTDP_CTL_RING_EVENTFD) {
			f->efd = eventfd(0, EFD_CLOEXEC);
			fds[(*nfds)++] = dup(f->efd);
		}
		if (pthread_create(&f->worker, NULL, worker_main, f) == 0)
			f->worker_on = true;
		return sizeof(r);
	}
	if (type == GNTDP_CTL_SHARE_ALLOC) {
		const struct gntdp_ctl_share_alloc *m = (const void *)req;
		struct gntdp_ctl_share_alloc_reply r = {.gfn = GNTDP_CTL_SHARE_BASE(NR_FRAMES),
							.nb_frames = m->nb_frames};

		memcpy(body, &r, sizeof(r));
		fds[0] = make_memfd((size_t)m->nb_frames * 4096);
		*nfds = 1;
		return sizeof(r);
	}
	if (type == GNTDP_CTL_MAP_FD) {
		const struct gntdp_ctl_map_fd *m = (const void *)req;
		struct gntdp_ctl_map_fd_reply r = {.count = m->count, .nb_fds = 1};
		struct gntdp_ctl_map_fd_entry *e = (void *)(body + sizeof(r));
		int mfd = make_memfd((size_t)m->count * 4096);
		char path[48];

		for (uint32_t i = 0; i < m->count; i++)
			e[i] = (struct gntdp_ctl_map_fd_entry){.fd_index = 0, .offset = i * 4096ull};
		memcpy(body, &r, sizeof(r));
		/* As gntdpd: a new open file description, O_RDONLY unless asked to write. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
		fds[0] = open(path, (m->flags & GNTDP_CTL_MAP_FD_WRITE) ? O_RDWR : O_RDONLY);
		close(mfd);
		*nfds = 1;
		return sizeof(r) + m->count * sizeof(*e);
	}
	return 0; /* RING_DESTROY and the rest: empty body */
}

/* Break the reply as the case asks; returns the datagram size to send. */
static size_t
corrupt(struct fake *f, struct gntdp_ctl_reply *rp, size_t n, int *fds, unsigned int *nfds)
{
	switch (f->bad) {
	case BAD_SHORT: return 20;
	case BAD_LEN: rp->hdr.len++; break;
	case BAD_MAGIC: rp->hdr.magic ^= 1; break;
	case BAD_VERSION: rp->hdr.version = 2; break;
	case BAD_TYPE: rp->hdr.type &= (uint16_t)~GNTDP_CTL_REPLY; break;
	case BAD_SEQ: rp->hdr.seq += 1; break;
	case BAD_EXTRA_FD: fds[(*nfds)++] = make_memfd(4096); break;
	case BAD_NFDS: rp->nfds++; break;
	case BAD_ERR_FDS:
		rp->err = -EPERM;
		n = sizeof(*rp);
		rp->hdr.len = (uint32_t)n;
		break;
	case BAD_WHY: memset(rp->why, 'x', sizeof(rp->why)); break;
	case BAD_BODY: n -= 4; rp->hdr.len = (uint32_t)n; break;
	case BAD_HUGE: n = GNTDP_CTL_MAX_MSG + 64; rp->hdr.len = (uint32_t)n; break;
	case BAD_SMALL_MEMFD:
		close(fds[0]);
		fds[0] = make_memfd(4096);
		break;
	case BAD_NOT_MEMFD: {
		int p[2];

		if (pipe(p) == 0) {
			close(fds[1]);
			close(p[1]);
			fds[1] = p[0];
		}
		break;
	}
	case BAD_ERROR:
		for (unsigned int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		rp->err = -EPERM;
		rp->nfds = 0;
		snprintf(rp->why, sizeof(rp->why), "domid: not yours");
		n = sizeof(*rp);
		rp->hdr.len = (uint32_t)n;
		break;
	case BAD_SHARE_GFN:
		((struct gntdp_ctl_share_alloc_reply *)(void *)(rp + 1))->gfn = 0;
		break;
	case BAD_SHARE_RO:
	case BAD_MAPFD_RW: {
		char path[48];
		int fd;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
		fd = open(path, f->bad == BAD_SHARE_RO ? O_RDONLY : O_RDWR);
		close(fds[0]);
		fds[0] = fd;
		break;
	}
	case BAD_MAPFD_OFF:
	case BAD_MAPFD_IDX: {
		struct gntdp_ctl_map_fd_entry *e = (void *)((uint8_t *)(rp + 1) +
							    sizeof(struct gntdp_ctl_map_fd_reply));

		if (f->bad == BAD_MAPFD_OFF)
			e[0].offset = 1ull << 20;
		else
			e[0].fd_index = 1;
		break;
	}
	case BAD_MAPFD_ZERO:
		((struct gntdp_ctl_map_fd_reply *)(void *)(rp + 1))->count = 0;
		n = sizeof(*rp) + sizeof(struct gntdp_ctl_map_fd_reply);
		rp->hdr.len = (uint32_t)n;
		break;
	case BAD_MAPFD_TINY: /* the fd is O_RDONLY: shrink the memfd through a new one */
		{
			char path[48];
			int w;

			snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
			w = open(path, O_RDWR);
			if (w >= 0) {
				if (ftruncate(w, 100) != 0)
					fprintf(stderr, "ftruncate failed\n");
				close(w);
			}
		}
		break;
	default: break;
	}
	if (f->bad == BAD_ERR_FDS && *nfds == 0)
		fds[(*nfds)++] = make_memfd(4096);
	return n;
}

static int
send_reply(int cfd, const uint8_t *msg, size_t n, const int *fds, unsigned int nfds)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(int) * 8)];
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = n};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds > 0) {
		struct cmsghdr *cm;

		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(cfd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* One connection: answer every request, breaking the target's reply. */
static void
serve(struct fake *f)
{
	int cfd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	uint8_t req[GNTDP_CTL_MAX_MSG], out[GNTDP_CTL_MAX_MSG + 64];

	if (cfd < 0)
		return;
	for (;;) {
		struct gntdp_ctl_hdr h;
		struct gntdp_ctl_reply *rp = (void *)out;
		int fds[8];
		unsigned int nfds;
		ssize_t k = recv(cfd, req, sizeof(req), 0);
		size_t n;

		if (k < (ssize_t)sizeof(h))
			break;
		memcpy(&h, req, sizeof(h));
		memset(out, 0, sizeof(out));
		n = sizeof(*rp) + good_reply(f, req, h.type, out + sizeof(*rp), fds, &nfds);
		rp->hdr = (struct gntdp_ctl_hdr){GNTDP_CTL_MAGIC, GNTDP_CTL_VERSION,
						 (uint16_t)(h.type | GNTDP_CTL_REPLY), (uint32_t)n,
						 h.seq};
		rp->nfds = nfds;
		if (h.type == f->target && (f->bad == BAD_SILENT || f->bad == BAD_CLOSE)) {
			for (unsigned int i = 0; i < nfds; i++)
				close(fds[i]);
		}
		if (h.type == f->target) {
			if (f->bad == BAD_SILENT) {
				while (!f->stop)
					usleep(1000);
				break;
			}
			if (f->bad == BAD_CLOSE)
				break;
			n = corrupt(f, rp, n, fds, &nfds);
		}
		send_reply(cfd, out, n, fds, nfds);
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		if (f->bad == BAD_KILL && h.type == GNTDP_CTL_RING_CREATE) {
			usleep(200 * 1000);
			raise(SIGKILL); /* only ever in the child process (fake_fork) */
		}
	}
	close(cfd);
}

static void *
serve_main(void *arg)
{
	serve(arg);
	return NULL;
}

static int
fake_listen(struct fake *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(f->dir, sizeof(f->dir), "/tmp/gntdp-client-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->lfd, 4) < 0)
		return -1;
	return 0;
}

static int
fake_start(struct fake *f, enum bad bad, uint16_t target)
{
	memset(f, 0, sizeof(*f));
	f->bad = bad;
	f->target = target;
	f->efd = -1;
	if (fake_listen(f) < 0)
		return -1;
	return pthread_create(&f->th, NULL, serve_main, f) == 0 ? 0 : -1;
}

static void
fake_stop(struct fake *f)
{
	f->stop = true;
	pthread_join(f->th, NULL);
	if (f->worker_on)
		pthread_join(f->worker, NULL);
	if (f->ring != NULL)
		munmap(f->ring, f->ring_size);
	if (f->efd >= 0)
		close(f->efd);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
}

/* Connect and bind domain 5 with the default conf. */
static int
connect_bind(const struct fake *f, struct gntdp_client **c)
{
	struct gntdp_client_domain_conf dc;
	int rc = gntdp_client_connect(f->path, c);

	if (rc < 0)
		return rc;
	gntdp_client_set_timeout(*c, 300);
	gntdp_client_domain_conf_init(&dc);
	dc.domid = 5;
	return gntdp_client_bind(*c, &dc);
}

/* ---- Cases ---------------------------------------------------------------- */

static int
test_bind_maps_ram_and_table(void)
{
	struct fake f;
	struct gntdp_client *c;
	uint32_t nr, ne;
	uint8_t *ram;

	T_EQ(fake_start(&f, BAD_NONE, 0), 0);
	T_EQ(connect_bind(&f, &c), 0);
	T_EQ(gntdp_client_domid(c), 5);
	T_EQ(gntdp_client_hello(c)->version, 1);
	T_EQ(gntdp_client_hello(c)->pid, getpid());
	ram = gntdp_client_ram(c, &nr);
	T_EQ(nr, NR_FRAMES);
	T_TRUE(ram != NULL);
	memset(ram, 0xa5, NR_FRAMES * 4096); /* every page writable, none past the memfd */
	T_TRUE(gntdp_client_table(c, &ne) != NULL);
	T_EQ(ne, 512);
	T_TRUE(gntdp_client_status(c, &ne) == NULL);
	/* gaddr: gfn << 12 | offset, inside RAM only. */
	T_U64(gntdp_client_gaddr(c, ram), 0);
	T_U64(gntdp_client_gaddr(c, ram + 2 * 4096 + 12), 2 * 4096 + 12);
	T_U64(gntdp_client_gaddr(c, ram + NR_FRAMES * 4096), UINT64_MAX);
	T_U64(gntdp_client_gaddr(c, &nr), UINT64_MAX);
	T_U64(gntdp_client_gaddr(c, ram - 1), UINT64_MAX);
	T_PTR(gntdp_client_gaddr_ptr(c, 4096, 4096), ram + 4096);
	T_PTR(gntdp_client_gaddr_ptr(c, NR_FRAMES * 4096 - 8, 9), NULL);
	T_PTR(gntdp_client_gaddr_ptr(c, UINT64_MAX, 1), NULL);
	/* Guest helpers on the own table, from the library. */
	T_EQ(gntdp_guest_grant_access(&gntdp_client_table(c, NULL)[3], 9, 2, true), 0);
	T_EQ(gntdp_client_table(c, NULL)[3].flags, GNTDP_GTF_PERMIT_ACCESS | GNTDP_GTF_READONLY);
	T_EQ(gntdp_guest_end_access(&gntdp_client_table(c, NULL)[3]), 0);
	T_EQ(gntdp_client_bind(c, &(struct gntdp_client_domain_conf){.domid = 5}), -EALREADY);
	gntdp_client_close(c);
	fake_stop(&f);
	return TC_PASS;
}

static int
test_error_reply_gives_err_and_why(void)
{
	struct fake f;
	struct gntdp_client *c;

	T_EQ(fake_start(&f, BAD_ERROR, GNTDP_CTL_DOMAIN_BIND), 0);
	T_EQ(connect_bind(&f, &c), -EPERM);
	T_EQ(strcmp(gntdp_client_why(c), "domid: not yours"), 0);
	T_EQ(gntdp_client_domid(c), GNTDP_DOMID_INVALID);
	T_TRUE(gntdp_client_ram(c, NULL) == NULL);
	/* An error reply does not end the connection: the next request is sent and answered. */
	f.bad = BAD_NONE;
	T_EQ(gntdp_client_bind(c, &(struct gntdp_client_domain_conf){.domid = 5}), 0);
	gntdp_client_close(c);
	fake_stop(&f);
	return TC_PASS;
}

/* One broken reply: @p want from the call that gets it, no fd left over, connection dead. */
static int
broken(enum bad bad, uint16_t target, int want)
{
	struct gntdp_client_ring_conf rc;
	struct gntdp_client_ring *r = NULL;
	struct gntdp_client *c = NULL;
	struct fake f;
	int before, rv;

	setenv("GNTDP_CLIENT_TIMEOUT_MS", "300", 1); /* HELLO's timeout comes from here */
	before = count_fds();
	T_EQ(fake_start(&f, bad, target), 0);
	rv = gntdp_client_connect(f.path, &c);
	if (target == GNTDP_CTL_HELLO) {
		T_EQ(rv, want);
		T_TRUE(c == NULL);
		fake_stop(&f);
		T_EQ(count_fds(), before);
		return TC_PASS;
	}
	T_EQ(rv, 0);
	gntdp_client_set_timeout(c, 300);
	rv = gntdp_client_bind(c, &(struct gntdp_client_domain_conf){.domid = 5, .create = true});
	if (target == GNTDP_CTL_DOMAIN_BIND) {
		T_EQ(rv, want);
		T_TRUE(gntdp_client_ram(c, NULL) == NULL);
	} else {
		T_EQ(rv, 0);
		gntdp_client_ring_conf_init(&rc);
		T_EQ(gntdp_client_ring_create(c, &rc, &r), want);
		T_TRUE(r == NULL);
	}
	T_TRUE(gntdp_client_why(c)[0] != '\0');
	/* Dead: the next request fails at once with the same error, nothing sent. */
	T_EQ(gntdp_client_bind(c, &(struct gntdp_client_domain_conf){.domid = 6}),
	     target == GNTDP_CTL_DOMAIN_BIND ? want : -EALREADY);
	gntdp_client_ring_conf_init(&rc);
	T_EQ(gntdp_client_ring_create(c, &rc, &r), target == GNTDP_CTL_DOMAIN_BIND ? -ENOTCONN : want);
	gntdp_client_close(c);
	fake_stop(&f);
	/* The fake closed its copies; what the client got was closed too. */
	T_EQ(count_fds(), before);
	return TC_PASS;
}

#define BROKEN(name, bad, target, want)                                                            \
	static int test_##name(void) { return broken(bad, target, want); }

BROKEN(hello_truncated, BAD_SHORT, GNTDP_CTL_HELLO, -EPROTO)
BROKEN(hello_wrong_magic, BAD_MAGIC, GNTDP_CTL_HELLO, -EPROTO)
BROKEN(hello_wrong_version, BAD_VERSION, GNTDP_CTL_HELLO, -EPROTO)
BROKEN(hello_extra_fd, BAD_EXTRA_FD, GNTDP_CTL_HELLO, -EPROTO)
BROKEN(hello_no_reply_times_out, BAD_SILENT, GNTDP_CTL_HELLO, -ETIMEDOUT)
BROKEN(hello_closed, BAD_CLOSE, GNTDP_CTL_HELLO, -EPIPE)
BROKEN(bind_wrong_len, BAD_LEN, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_wrong_type, BAD_TYPE, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_wrong_seq, BAD_SEQ, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_extra_fd, BAD_EXTRA_FD, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_nfds_above_attached, BAD_NFDS, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_error_with_fds, BAD_ERR_FDS, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_why_unterminated, BAD_WHY, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_body_short, BAD_BODY, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_oversized, BAD_HUGE, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_ram_memfd_too_small, BAD_SMALL_MEMFD, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_table_not_memfd, BAD_NOT_MEMFD, GNTDP_CTL_DOMAIN_BIND, -EPROTO)
BROKEN(bind_no_reply_times_out, BAD_SILENT, GNTDP_CTL_DOMAIN_BIND, -ETIMEDOUT)
BROKEN(bind_closed, BAD_CLOSE, GNTDP_CTL_DOMAIN_BIND, -EPIPE)
BROKEN(ring_extra_fd, BAD_EXTRA_FD, GNTDP_CTL_RING_CREATE, -EPROTO)
BROKEN(ring_nfds_above_attached, BAD_NFDS, GNTDP_CTL_RING_CREATE, -EPROTO)
BROKEN(ring_region_unformatted, BAD_RING_FORMAT, GNTDP_CTL_RING_CREATE, -EPROTO)
BROKEN(ring_wrong_seq, BAD_SEQ, GNTDP_CTL_RING_CREATE, -EPROTO)

/*
 * A broken SHARE_ALLOC or MAP_FD reply: @p want from the call, no fd left
 * over, and for MAP_FD the caller's range reserved again (nothing mapped).
 */
static int
broken_share(enum bad bad, uint16_t target, int want)
{
	uint64_t gfn = GNTDP_CTL_MAP_BASE(NR_FRAMES);
	struct gntdp_client *c = NULL;
	unsigned char vec[2];
	struct fake f;
	uint8_t *p;
	void *va;
	int before, rv;

	before = count_fds();
	T_EQ(fake_start(&f, bad, target), 0);
	T_EQ(connect_bind(&f, &c), 0);
	p = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_TRUE(p != MAP_FAILED);
	if (target == GNTDP_CTL_SHARE_ALLOC) {
		rv = gntdp_client_share_alloc(c, 7, 2, true, &va, &gfn);
	} else {
		rv = gntdp_client_map_fd(c, &gfn, 1, p, PROT_READ);
		/* The range is anonymous PROT_NONE again: nothing resident. */
		T_EQ(mincore(p, 2 * 4096, vec), 0);
		T_EQ(vec[0] & 1, 0);
	}
	T_EQ(rv, want);
	T_TRUE(gntdp_client_why(c)[0] != '\0');
	munmap(p, 2 * 4096);
	gntdp_client_close(c);
	fake_stop(&f);
	T_EQ(count_fds(), before);
	return TC_PASS;
}

#define BROKEN_SHARE(name, bad, target)                                                          \
	static int test_##name(void) { return broken_share(bad, target, -EPROTO); }

BROKEN_SHARE(share_gfn_outside_window, BAD_SHARE_GFN, GNTDP_CTL_SHARE_ALLOC)
BROKEN_SHARE(share_fd_read_only, BAD_SHARE_RO, GNTDP_CTL_SHARE_ALLOC)
BROKEN_SHARE(share_extra_fd, BAD_EXTRA_FD, GNTDP_CTL_SHARE_ALLOC)
BROKEN_SHARE(map_fd_writable_fd, BAD_MAPFD_RW, GNTDP_CTL_MAP_FD)
BROKEN_SHARE(map_fd_offset_past_fd, BAD_MAPFD_OFF, GNTDP_CTL_MAP_FD)
BROKEN_SHARE(map_fd_index_past_fds, BAD_MAPFD_IDX, GNTDP_CTL_MAP_FD)
BROKEN_SHARE(map_fd_count_zero, BAD_MAPFD_ZERO, GNTDP_CTL_MAP_FD)
BROKEN_SHARE(map_fd_fd_shorter_than_a_page, BAD_MAPFD_TINY, GNTDP_CTL_MAP_FD)
BROKEN_SHARE(map_fd_nfds_above_attached, BAD_NFDS, GNTDP_CTL_MAP_FD)

/* The fake's good replies: a share maps read-write, a map_fd maps the frames read-only. */
static int
test_share_and_map_fd_good(void)
{
	uint64_t gfns[2] = {GNTDP_CTL_MAP_BASE(NR_FRAMES), GNTDP_CTL_MAP_BASE(NR_FRAMES) + 1};
	struct gntdp_client *c = NULL;
	struct fake f;
	uint64_t gfn;
	uint8_t *va, *p;

	T_EQ(fake_start(&f, BAD_NONE, 0), 0);
	T_EQ(connect_bind(&f, &c), 0);
	T_EQ(gntdp_client_share_alloc(c, 7, 2, true, (void **)&va, &gfn), 0);
	T_U64(gfn, GNTDP_CTL_SHARE_BASE(NR_FRAMES));
	memset(va, 0x3c, 2 * 4096);
	T_EQ(gntdp_client_share_free(c, va), 0);
	T_EQ(gntdp_client_share_free(c, va), -EINVAL);
	p = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_TRUE(p != MAP_FAILED);
	T_EQ(gntdp_client_map_fd(c, gfns, 2, p, PROT_READ), 0);
	T_EQ(p[4096 + 5], 0); /* the fake's memfd: zeroes, readable */
	T_EQ(mprotect(p, 4096, PROT_READ | PROT_WRITE), -1);
	T_EQ(gntdp_client_map_fd(c, gfns, 2, p, PROT_READ | PROT_EXEC), -EINVAL);
	T_EQ(gntdp_client_map_fd(c, gfns, 0, p, PROT_READ), -EINVAL);
	T_EQ(gntdp_client_map_fd(c, gfns, 1, p + 1, PROT_READ), -EINVAL);
	munmap(p, 2 * 4096);
	gntdp_client_close(c);
	fake_stop(&f);
	return TC_PASS;
}

/* Stop the fake worker of the last RING_CREATE and unmap its ring: the next one starts anew. */
static void
fake_worker_end(struct fake *f)
{
	if (!f->worker_on)
		return;
	f->stop = true;
	pthread_join(f->worker, NULL);
	munmap(f->ring, f->ring_size);
	f->ring = NULL;
	f->worker_on = false;
	f->stop = false;
}

/* The library rejects what cannot be a call in the own RAM before anything is submitted. */
static int
test_hcall_through_ring_and_local_efault(void)
{
	struct gntdp_client_ring_conf rc;
	struct gntdp_client_ring *r;
	struct gntdp_client *c;
	struct gntdp_gnttab_copy local[2];
	struct gntdp_hcall_sqe sqe;
	struct gntdp_hcall_cqe cqe[4];
	struct fake f;
	uint8_t *ram;

	T_EQ(fake_start(&f, BAD_NONE, 0), 0);
	T_EQ(connect_bind(&f, &c), 0);
	for (int ev = 1; ev >= 0; ev--) {
		gntdp_client_ring_conf_init(&rc);
		rc.eventfd = ev;
		fake_worker_end(&f);
		T_EQ(gntdp_client_ring_create(c, &rc, &r), 0);
		T_EQ(gntdp_client_ring_fd(r) >= 0, ev);
		ram = gntdp_client_ram(c, NULL);
		/* The fake worker answers cmd * 1000 + count: the call reached it. */
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram + 4096, 3), 5003);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, NULL, 0), 5000);
		/* Outside RAM: a local array, past the end, straddling the end. */
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, local, 2), -EFAULT);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram + NR_FRAMES * 4096, 1), -EFAULT);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram + NR_FRAMES * 4096 - 40, 2),
		     -EFAULT);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram + NR_FRAMES * 4096 - 40, 1), 5001);
		/* Asynchronous, then wait and reap; a synchronous call with one in flight is -EBUSY. */
		sqe = (struct gntdp_hcall_sqe){.user_data = 42, .gaddr = 0, .cmd = 1, .count = 2};
		T_EQ(gntdp_client_submit(r, &sqe, 1), 1);
		T_EQ(gntdp_client_inflight(r), 1);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram, 1), -EBUSY);
		T_EQ(gntdp_client_wait(r, 2000), 1);
		T_EQ(gntdp_client_reap(r, cqe, 4), 1);
		T_U64(cqe[0].user_data, 42);
		T_EQ(cqe[0].rc, 1002);
		T_EQ(gntdp_client_inflight(r), 0);
		/* Nothing in flight: a wait times out. */
		T_EQ(gntdp_client_wait(r, 20), 0);
		T_EQ(gntdp_client_ring_destroy(c, r), 0);
	}
	gntdp_client_close(c);
	fake_stop(&f);
	return TC_PASS;
}

/* Let the fake worker complete again after 200 ms. */
static void *
release_later(void *arg)
{
	struct fake *f = arg;

	usleep(200000);
	f->hold = false;
	return NULL;
}

/*
 * gntdp_client_ring_set_hcall_timeout(): a call the worker holds ends with
 * -ETIMEDOUT after the bound, stays in flight (-EBUSY meanwhile), and its
 * late completion is dropped by the next call, which works; 0 is no bound.
 */
static int
test_hcall_timeout(void)
{
	struct gntdp_client_ring_conf rc;
	struct gntdp_client_ring *r;
	struct gntdp_client *c;
	struct timespec t0, t1;
	struct fake f;
	pthread_t th;
	uint8_t *ram;
	double s;

	T_EQ(fake_start(&f, BAD_NONE, 0), 0);
	T_EQ(connect_bind(&f, &c), 0);
	ram = gntdp_client_ram(c, NULL);
	for (int ev = 1; ev >= 0; ev--) {
		fake_worker_end(&f);
		gntdp_client_ring_conf_init(&rc);
		rc.eventfd = ev;
		T_EQ(gntdp_client_ring_create(c, &rc, &r), 0);
		T_EQ(gntdp_client_ring_set_hcall_timeout(r, -1), -EINVAL);
		T_EQ(gntdp_client_ring_set_hcall_timeout(NULL, 5), -EINVAL);
		T_EQ(gntdp_client_ring_set_hcall_timeout(r, 50), 0);
		f.hold = true;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram, 1), -ETIMEDOUT);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		T_TRUE(s >= 0.049 && s < 1.0);
		T_TRUE(strstr(gntdp_client_why(c), "50 ms") != NULL);
		T_EQ(gntdp_client_inflight(r), 1);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram, 2), -EBUSY);
		/* The late completion arrives; the next call drops it and gets its own. */
		f.hold = false;
		T_EQ(gntdp_client_wait(r, 2000), 1);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram, 3), 5003);
		T_EQ(gntdp_client_inflight(r), 0);
		/* No bound again: a held call waits past it. */
		T_EQ(gntdp_client_ring_set_hcall_timeout(r, 0), 0);
		f.hold = true;
		T_EQ(pthread_create(&th, NULL, release_later, &f), 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, ram, 4), 5004);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		pthread_join(th, NULL);
		s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		T_TRUE(s >= 0.19);
		T_EQ(gntdp_client_ring_destroy(c, r), 0);
	}
	gntdp_client_close(c);
	fake_stop(&f);
	return TC_PASS;
}

/* The fake daemon in a child process that SIGKILLs itself 200 ms after RING_CREATE. */
static int
death_while_waiting(bool eventfd_ring, bool sync)
{
	struct gntdp_client_ring_conf rc;
	struct gntdp_client_ring *r;
	struct gntdp_client *c;
	struct gntdp_hcall_sqe sqe = {.cmd = GNTDP_GNTTABOP_COPY, .count = 1};
	struct timespec t0, t1;
	struct fake f;
	pid_t pid;
	int st, rv;
	double s;

	memset(&f, 0, sizeof(f));
	f.bad = BAD_KILL;
	f.target = 0xffff;
	f.efd = -1;
	T_EQ(fake_listen(&f), 0);
	pid = fork();
	T_TRUE(pid >= 0);
	if (pid == 0) {
		serve(&f);
		_exit(0);
	}
	close(f.lfd);
	T_EQ(connect_bind(&f, &c), 0);
	gntdp_client_ring_conf_init(&rc);
	rc.eventfd = eventfd_ring;
	T_EQ(gntdp_client_ring_create(c, &rc, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sync) {
		rv = gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, gntdp_client_ram(c, NULL), 1);
	} else {
		T_EQ(gntdp_client_submit(r, &sqe, 1), 1);
		rv = gntdp_client_wait(r, 10000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	T_EQ(rv, -EPIPE);
	T_TRUE(s < 2.0); /* the child dies after 0.2 s; the wait notices within ~1 ms */
	T_EQ(waitpid(pid, &st, 0), pid);
	T_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* Everything after it fails at once. */
	T_EQ(gntdp_client_hcall(r, GNTDP_GNTTABOP_COPY, gntdp_client_ram(c, NULL), 1), -EPIPE);
	T_EQ(gntdp_client_wait(r, 1000), -EPIPE);
	T_EQ(gntdp_client_submit(r, &sqe, 1), 0);
	T_EQ(gntdp_client_ring_destroy(c, r), -EPIPE);
	gntdp_client_close(c);
	unlink(f.path);
	rmdir(f.dir);
	return TC_PASS;
}

static int
test_daemon_death_during_hcall_eventfd(void)
{
	return death_while_waiting(true, true);
}

static int
test_daemon_death_during_hcall_busy_poll(void)
{
	return death_while_waiting(false, true);
}

static int
test_daemon_death_during_wait_eventfd(void)
{
	return death_while_waiting(true, false);
}

static int
test_daemon_death_during_wait_busy_poll(void)
{
	return death_while_waiting(false, false);
}

static int
test_connect_errors(void)
{
	struct gntdp_client *c = (void *)1;
	char longp[200];

	T_EQ(gntdp_client_connect("/nonexistent/gntdp.sock", &c), -ENOENT);
	T_TRUE(c == NULL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	T_EQ(gntdp_client_connect(longp, &c), -ENAMETOOLONG);
	T_EQ(gntdp_client_connect(NULL, NULL), -EINVAL);
	gntdp_client_close(NULL);
	return TC_PASS;
}

static const struct tc_case cases[] = {
	TC(test_connect_errors),
	TC(test_bind_maps_ram_and_table),
	TC(test_error_reply_gives_err_and_why),
	TC(test_hello_truncated),
	TC(test_hello_wrong_magic),
	TC(test_hello_wrong_version),
	TC(test_hello_extra_fd),
	TC(test_hello_no_reply_times_out),
	TC(test_hello_closed),
	TC(test_bind_wrong_len),
	TC(test_bind_wrong_type),
	TC(test_bind_wrong_seq),
	TC(test_bind_extra_fd),
	TC(test_bind_nfds_above_attached),
	TC(test_bind_error_with_fds),
	TC(test_bind_why_unterminated),
	TC(test_bind_body_short),
	TC(test_bind_oversized),
	TC(test_bind_ram_memfd_too_small),
	TC(test_bind_table_not_memfd),
	TC(test_bind_no_reply_times_out),
	TC(test_bind_closed),
	TC(test_ring_extra_fd),
	TC(test_ring_nfds_above_attached),
	TC(test_ring_region_unformatted),
	TC(test_ring_wrong_seq),
	TC(test_share_and_map_fd_good),
	TC(test_share_gfn_outside_window),
	TC(test_share_fd_read_only),
	TC(test_share_extra_fd),
	TC(test_map_fd_writable_fd),
	TC(test_map_fd_offset_past_fd),
	TC(test_map_fd_index_past_fds),
	TC(test_map_fd_count_zero),
	TC(test_map_fd_fd_shorter_than_a_page),
	TC(test_map_fd_nfds_above_attached),
	TC(test_hcall_through_ring_and_local_efault),
	TC(test_hcall_timeout),
	TC(test_daemon_death_during_hcall_eventfd),
	TC(test_daemon_death_during_hcall_busy_poll),
	TC(test_daemon_death_during_wait_eventfd),
	TC(test_daemon_death_during_wait_busy_poll),
};

TC_MAIN(cases)
