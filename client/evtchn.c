/* SPDX-License-Identifier: MIT */
/*
 * libgntdp-client's event channels (gntdp/client.h, docs/daemon.md "Event
 * channels"). The daemon allocates, binds and closes ports; it carries no
 * notification. A handle is an epoll fd over the eventfds of its ports,
 * each registered EPOLLIN | EPOLLONESHOT with the port as its data:
 *
 *  - notify(p) adds 1 to the peer's line of the channel page (gntdp/ctl.h)
 *    and writes 1 to the peer port's eventfd (one syscall, straight to the
 *    receiver) unless the peer's line says it spins or is masked. The
 *    peer's eventfd and the page came with the bind, or from EVTCHN_PEER;
 *    they are used while the port's word in the domain's generation page
 *    still holds the generation they came with;
 *  - the epoll fd is readable exactly when an unmasked port's eventfd
 *    counts events: pending() takes one (epoll_wait), which disarms it
 *    (EPOLLONESHOT: masked), and reads the counter and the line's count to
 *    zero; events while masked add to them, one pending bit in effect;
 *  - unmask(p) re-arms it (EPOLL_CTL_MOD): a counter above zero makes the
 *    epoll fd readable again at once;
 *  - with GNTDP_EVTCHN_SPIN_US, pending() first polls the lines (a take
 *    from a line leaves the epoll item armed; LINE_MASK keeps senders off
 *    the eventfd until unmask).
 *
 * Locking: h->lock over the port table; the client's own lock over each
 * control request (taken inside it: order handle, then client). pending()
 * waits and spins without either; a channel page unmapped while some
 * pending() spins is freed when the last one stops (h->retired).
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"

struct ev_port {
	int efd;       /* the port's eventfd; -1: not a port of this handle */
	int peer_efd;  /* the peer port's eventfd, -1: unbound (or not fetched) */
	uint32_t gen;  /* the generation peer_efd goes with */
	bool fetched;  /* gen/peer_efd describe the port */
	bool masked;   /* delivered by pending(), not yet unmasked */
	bool armed;    /* its epoll item is armed (EPOLLONESHOT has not fired since) */
	bool latched;  /* taken from its line with more notifies behind: one more after unmask */
	void *chan;    /* interdomain: the channel page (gntdp/ctl.h), mapped; else NULL */
	ino_t chan_ino; /* its memfd's inode: a PEER reply with the same page keeps the mapping */
	struct gntdp_evtchn_line *own, *peer; /* this port's line of it, the peer's */
};

/* A channel page unmapped while pending() may still poll it: freed when none does. */
struct ev_retired {
	void *page;
	struct ev_retired *next;
};

struct gntdp_client_evtchn {
	struct gntdp_client *c;
	pthread_mutex_t lock;
	int epfd;
	uint32_t nr_ports;
	struct ev_port *ports; /* [nr_ports] */
	int64_t spin_ns;       /* GNTDP_EVTCHN_SPIN_US: pending() polls this long before it sleeps */
	uint32_t top;          /* every port of the handle is below it */
	unsigned int spinners; /* pending() calls polling lines now (under lock) */
	struct ev_retired *retired;
};

/* An eventfd counter as a line count (a counter past 2^32 - 1 notifies saturates). */
static uint32_t
count32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Under h->lock: arm port @p p's epoll item again (EPOLLONESHOT disarmed it). 0 or -errno. */
static int
rearm(struct gntdp_client_evtchn *h, uint32_t p)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = p};

	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, h->ports[p].efd, &ev) != 0)
		return -errno;
	h->ports[p].armed = true;
	return 0;
}

/*
 * Empty a port's eventfd (nonblocking: EAGAIN when the write is still to
 * come, a leftover that pending() drops).
 */
static void
drain(int efd)
{
	uint64_t v;
	ssize_t k = read(efd, &v, sizeof(v));

	(void)k;
}

/* One pending event on a port's eventfd (nonblocking: a full counter is pending already). */
static void
latch(int efd)
{
	const uint64_t one = 1;
	ssize_t k = write(efd, &one, sizeof(one));

	(void)k;
}

/*
 * Under h->lock: one pending event on @p e's eventfd that the handle wrote
 * itself (a latch); kick says so, so that a take from the line empties it.
 */
static void
relatch(struct ev_port *e)
{
	if (e->own != NULL)
		__atomic_store_n(&e->own->kick, 1, __ATOMIC_SEQ_CST);
	latch(e->efd);
}

/* Under h->lock: the channel page of @p e goes (now, or when no pending() polls lines). */
static void
chan_unmap(struct gntdp_client_evtchn *h, struct ev_port *e)
{
	struct ev_retired *r;

	if (e->chan == NULL)
		return;
	r = h->spinners > 0 ? malloc(sizeof(*r)) : NULL;
	if (r != NULL) {
		*r = (struct ev_retired){.page = e->chan, .next = h->retired};
		h->retired = r;
	} else if (h->spinners == 0) {
		munmap(e->chan, GNTDP_EVTCHN_CHAN_SIZE);
	} /* else out of memory with a poller on it: leaked, not unmapped under it */
	e->chan = NULL;
	e->own = e->peer = NULL;
}

/*
 * Map channel page @p fd (closed here) for @p e, whose line is @p line. A
 * page that cannot be mapped leaves the port without one: notifies and
 * pending() then use the eventfds alone, which is all the protocol needs.
 */
static void
chan_map(struct gntdp_client_evtchn *h, struct ev_port *e, int fd, uint32_t line)
{
	struct stat st;
	void *p = MAP_FAILED;

	if (fstat(fd, &st) != 0 || st.st_size < (off_t)GNTDP_EVTCHN_CHAN_SIZE || line > 1) {
		close(fd);
		chan_unmap(h, e);
		return;
	}
	if (e->chan != NULL && e->chan_ino == st.st_ino) {
		close(fd); /* the same channel: its lines carry state, keep them */
		return;
	}
	chan_unmap(h, e);
	p = mmap(NULL, GNTDP_EVTCHN_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	e->chan = p;
	e->chan_ino = st.st_ino;
	e->own = (struct gntdp_evtchn_line *)p + line;
	e->peer = (struct gntdp_evtchn_line *)p + (1 - line);
	/*
	 * Until now no flag of ours was on the line, so every notify to it
	 * also wrote the eventfd, and the eventfd's counter is what is not
	 * taken yet (pend counts from the bind on, takes included). The line
	 * starts from that counter, and the eventfd keeps showing it (kick
	 * says so, for the take).
	 */
	{
		uint64_t v;

		/*
		 * History out first, then the counter in, both atomic: a
		 * notify racing with this is in pend for sure (maybe in the
		 * counter too: counted twice, a spurious event at worst). pend
		 * never counts less than what is not taken, which is what a
		 * take with nothing on the line relies on (pending()).
		 */
		__atomic_exchange_n(&e->own->pend, 0, __ATOMIC_SEQ_CST);
		if (read(e->efd, &v, sizeof(v)) != sizeof(v))
			v = 0;
		if (v > 0) {
			__atomic_fetch_add(&e->own->pend, count32(v),
					   __ATOMIC_SEQ_CST);
			relatch(e);
		}
	}
}

/* GNTDP_EVTCHN_SPIN_US, 0..GNTDP_CLIENT_EVTCHN_MAX_SPIN_US; anything else is 0 (no spin). */
static int64_t
spin_conf(void)
{
	const char *e = getenv("GNTDP_EVTCHN_SPIN_US");
	char *end;
	long v;

	if (e == NULL || *e == '\0')
		return 0;
	errno = 0;
	v = strtol(e, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > GNTDP_CLIENT_EVTCHN_MAX_SPIN_US) {
		/* Ignored, not silently: the caller asked for something. */
		fprintf(stderr,
			"gntdp-client: GNTDP_EVTCHN_SPIN_US=%s ignored (want 0..%d microseconds): "
			"pending() does not spin\n",
			e, GNTDP_CLIENT_EVTCHN_MAX_SPIN_US);
		return 0;
	}
	return (int64_t)v * 1000;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}


/* EVTCHN_SETUP once per client: the port count and the generation page. */
static int
setup(struct gntdp_client *c)
{
	struct gntdp_ctl_evtchn_setup m = {0};
	struct gntdp_ctl_evtchn_setup_reply sr;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_EVTCHN_SETUP,
			   .body = &sr, .body_min = sizeof(sr), .body_max = sizeof(sr),
			   .nfds_min = 1, .nfds_max = 1};
	void *gen = NULL;
	int rc = 0;

	cl_lock(c);
	if (c->ev_gen != NULL)
		goto out;
	rc = cl_request(c, &q);
	if (rc < 0)
		goto out;
	if (sr.nr_ports < 2 || sr.nr_ports > GNTDP_EVTCHN_MAX_PORTS ||
	    sr.gen_size < sr.nr_ports * sizeof(uint32_t) || sr.gen_size % GNTDP_PAGE_SIZE != 0) {
		cl_close_fds(q.fds, q.nfds);
		rc = cl_fail(c, -EPROTO, "evtchn setup: the reply's sizes are wrong");
		goto out;
	}
	rc = cl_map_fd(q.fds[0], sr.gen_size, PROT_READ, &gen);
	cl_close_fds(q.fds, q.nfds);
	if (rc < 0) {
		rc = cl_fail(c, rc, "evtchn setup: the generation page cannot be mapped");
		goto out;
	}
	c->ev_gen_size = sr.gen_size;
	c->ev_nr_ports = sr.nr_ports;
	c->ev_gen = gen;
out:
	cl_unlock(c);
	return rc;
}

int
gntdp_client_evtchn_open(struct gntdp_client *c, struct gntdp_client_evtchn **out)
{
	struct gntdp_client_evtchn *h;
	int rc;

	if (c == NULL || out == NULL)
		return -EINVAL;
	*out = NULL;
	if (c->domid == GNTDP_DOMID_INVALID)
		return -ENOTCONN;
	rc = setup(c);
	if (rc < 0)
		return rc;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->c = c;
	h->spin_ns = spin_conf();
	h->nr_ports = c->ev_nr_ports;
	h->ports = calloc(h->nr_ports, sizeof(*h->ports));
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->ports == NULL || h->epfd < 0) {
		rc = h->ports == NULL ? -ENOMEM : -errno;
		free(h->ports);
		free(h);
		return rc;
	}
	for (uint32_t p = 0; p < h->nr_ports; p++)
		h->ports[p].efd = h->ports[p].peer_efd = -1;
	pthread_mutex_init(&h->lock, NULL);
	*out = h;
	return 0;
}

static int
port_req(struct gntdp_client *c, uint16_t type, uint32_t port)
{
	struct gntdp_ctl_evtchn_port m = {.port = port};
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = type};

	return cl_request(c, &q);
}

/* Forget port @p p of @p h here (its fds, its epoll item); the daemon is not told. */
static void
drop(struct gntdp_client_evtchn *h, uint32_t p)
{
	struct ev_port *e = &h->ports[p];

	epoll_ctl(h->epfd, EPOLL_CTL_DEL, e->efd, NULL);
	close(e->efd);
	if (e->peer_efd >= 0)
		close(e->peer_efd);
	chan_unmap(h, e);
	*e = (struct ev_port){.efd = -1, .peer_efd = -1};
}

void
gntdp_client_evtchn_close(struct gntdp_client_evtchn *h)
{
	if (h == NULL)
		return;
	/* As the release of Linux's evtchn fd: every port of the handle is closed. */
	for (uint32_t p = 1; p < h->nr_ports; p++) {
		if (h->ports[p].efd >= 0) {
			port_req(h->c, GNTDP_CTL_EVTCHN_CLOSE, p);
			drop(h, p);
		}
	}
	close(h->epfd);
	while (h->retired != NULL) {
		struct ev_retired *r = h->retired;

		h->retired = r->next;
		munmap(r->page, GNTDP_EVTCHN_CHAN_SIZE);
		free(r);
	}
	pthread_mutex_destroy(&h->lock);
	free(h->ports);
	free(h);
}

int
gntdp_client_evtchn_fd(const struct gntdp_client_evtchn *h)
{
	return h->epfd;
}

/* The checks every reply of ALLOC/BIND/PEER must pass; -EPROTO (fds closed) if not. */
static int
check_status(struct gntdp_client_evtchn *h, struct cl_req *q,
	     const struct gntdp_ctl_evtchn_status *st, uint32_t state, unsigned int nfds)
{
	if (st->port == 0 || st->port >= h->nr_ports || st->state != state || q->nfds != nfds) {
		cl_close_fds(q->fds, q->nfds);
		return cl_fail(h->c, -EPROTO, "evtchn: the reply does not describe a new port");
	}
	return 0;
}

/* Take a new port of the daemon's into @p h (under h->lock). */
static int
install(struct gntdp_client_evtchn *h, const struct gntdp_ctl_evtchn_status *st, int efd,
	int peer_efd, int chan_fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = st->port};
	struct ev_port *e = &h->ports[st->port];
	int rc;

	if (e->efd >= 0) {
		/* The daemon handed out a port that is still ours: it is not gntdpd. */
		close(efd);
		if (peer_efd >= 0)
			close(peer_efd);
		if (chan_fd >= 0)
			close(chan_fd);
		return cl_fail(h->c, -EPROTO, "evtchn: the daemon reused a live port");
	}
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, efd, &ev) != 0) {
		rc = -errno;
		close(efd);
		if (peer_efd >= 0)
			close(peer_efd);
		if (chan_fd >= 0)
			close(chan_fd);
		port_req(h->c, GNTDP_CTL_EVTCHN_CLOSE, st->port);
		return rc;
	}
	*e = (struct ev_port){.efd = efd, .peer_efd = peer_efd, .gen = st->gen, .fetched = true,
			      .armed = true};
	if (chan_fd >= 0)
		chan_map(h, e, chan_fd, st->line);
	if (st->port >= h->top)
		h->top = st->port + 1;
	return (int)st->port;
}

int
gntdp_client_evtchn_alloc_unbound(struct gntdp_client_evtchn *h, gntdp_domid_t remote)
{
	struct gntdp_ctl_evtchn_alloc m = {.dom = GNTDP_DOMID_SELF, .remote_dom = remote};
	struct gntdp_ctl_evtchn_status st;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_EVTCHN_ALLOC_UNBOUND,
			   .body = &st, .body_min = sizeof(st), .body_max = sizeof(st),
			   .nfds_min = 1, .nfds_max = 1};
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = cl_request(h->c, &q);
	if (rc == 0)
		rc = check_status(h, &q, &st, GNTDP_EVTCHN_STATE_UNBOUND, 1);
	if (rc == 0)
		rc = install(h, &st, q.fds[0], -1, -1);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

int
gntdp_client_evtchn_bind_interdomain(struct gntdp_client_evtchn *h, gntdp_domid_t remote,
				     uint32_t rport)
{
	struct gntdp_ctl_evtchn_bind m = {.remote_dom = remote, .remote_port = rport};
	struct gntdp_ctl_evtchn_status st;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_EVTCHN_BIND_INTERDOMAIN,
			   .body = &st, .body_min = sizeof(st), .body_max = sizeof(st),
			   .nfds_min = 3, .nfds_max = 3};
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = cl_request(h->c, &q);
	if (rc == 0)
		rc = check_status(h, &q, &st, GNTDP_EVTCHN_STATE_INTERDOMAIN, 3);
	if (rc == 0)
		rc = install(h, &st, q.fds[0], q.fds[1], q.fds[2]);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* A port of this handle (under h->lock): -EINVAL out of range, -ENOTCONN not ours (Linux). */
static int
mine(const struct gntdp_client_evtchn *h, uint32_t port)
{
	if (port >= h->nr_ports)
		return -EINVAL;
	return h->ports[port].efd >= 0 ? 0 : -ENOTCONN;
}

int
gntdp_client_evtchn_unbind(struct gntdp_client_evtchn *h, uint32_t port)
{
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = mine(h, port);
	if (rc == 0) {
		drop(h, port);
		rc = port_req(h->c, GNTDP_CTL_EVTCHN_CLOSE, port);
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* EVTCHN_PEER: the port's peer eventfd and the generation it goes with (under h->lock). */
static int
refresh(struct gntdp_client_evtchn *h, uint32_t port)
{
	struct gntdp_ctl_evtchn_port m = {.port = port};
	struct gntdp_ctl_evtchn_status st;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_EVTCHN_PEER,
			   .body = &st, .body_min = sizeof(st), .body_max = sizeof(st),
			   .nfds_min = 0, .nfds_max = 2};
	struct ev_port *e = &h->ports[port];
	int rc = cl_request(h->c, &q);

	if (rc < 0)
		return rc;
	if (st.port != port ||
	    q.nfds != (st.state == GNTDP_EVTCHN_STATE_INTERDOMAIN ? 2u : 0u)) {
		cl_close_fds(q.fds, q.nfds);
		return cl_fail(h->c, -EPROTO, "evtchn: the PEER reply does not match the port");
	}
	if (e->peer_efd >= 0)
		close(e->peer_efd);
	e->peer_efd = q.nfds == 2 ? q.fds[0] : -1;
	if (q.nfds == 2)
		chan_map(h, e, q.fds[1], st.line);
	else
		chan_unmap(h, e);
	e->gen = st.gen;
	e->fetched = true;
	return 0;
}

int
gntdp_client_evtchn_notify(struct gntdp_client_evtchn *h, uint32_t port)
{
	const uint64_t one = 1;
	struct ev_port *e;
	uint32_t gen;
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = mine(h, port);
	if (rc < 0)
		goto out;
	e = &h->ports[port];
	/* Acquire: pairs with the daemon's release store of the word (evtchn.c bump()). */
	gen = __atomic_load_n(&h->c->ev_gen[port], __ATOMIC_ACQUIRE);
	if (!e->fetched || gen != e->gen) {
		rc = refresh(h, port);
		if (rc < 0)
			goto out;
	}
	/*
	 * Unbound: dropped, as Xen drops a send on an unbound port. The
	 * protocol of gntdp/ctl.h: the peer's pend first; no write while its
	 * handle polls pend (seq_cst on both sides: either it sees our add or
	 * we see its flag gone). A counter at its maximum (EAGAIN) is pending
	 * already.
	 */
	if (e->peer_efd < 0)
		goto out;
	if (e->peer != NULL) {
		__atomic_fetch_add(&e->peer->pend, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&e->peer->flags, __ATOMIC_SEQ_CST) & GNTDP_EVTCHN_LINE_QUIET)
			goto out;
		__atomic_store_n(&e->peer->kick, 1, __ATOMIC_SEQ_CST);
	}
	if (write(e->peer_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rc = -errno;
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/*
 * Whether an EINTR of the blocking wait should reach the caller. Linux's
 * evtchn read() restarts by itself unless a signal handler without
 * SA_RESTART ran; epoll_wait() also fails with EINTR after a SIGSTOP and
 * SIGCONT with no handler at all (signal(7)), which a program stopped while
 * it waits in pending() (tests/xen: a stopped vchan reader) must not see.
 * So: EINTR only when some signal is caught without SA_RESTART. Handlers of
 * the fault signals do not count: those signals come from a fault of the
 * thread itself, which cannot happen while it waits, and crash handlers
 * (ASan's, a program's own) are common.
 */
static bool
eintr_is_callers(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
		    sig == SIGTRAP || sig == SIGSYS)
			continue;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN && (sa.sa_flags & SA_RESTART) == 0)
			return true;
	}
	return false;
}



/* The most lines one pending() polls; ports past them are waited for on the epoll fd. */
#define SPIN_LINES 32

/* What pending() polls: lines of unmasked interdomain ports, and whether the epoll fd too. */
struct spin_set {
	uint32_t port[SPIN_LINES];
	struct gntdp_evtchn_line *line[SPIN_LINES];
	unsigned int n;
	bool epoll; /* some unmasked port has no line */
};

/*
 * Under h->lock: take port @p p's notifies from its line if it has any;
 * masked then (its epoll item stays as it was). The port, or 0.
 */
static int
line_take(struct gntdp_client_evtchn *h, uint32_t p)
{
	struct ev_port *e = &h->ports[p];
	uint32_t c;

	if (e->efd < 0 || e->masked || e->own == NULL)
		return 0;
	if (__atomic_load_n(&e->own->pend, __ATOMIC_SEQ_CST) == 0)
		return 0;
	/* Masked before the take: a sender that misses the flag is in this take's count. */
	__atomic_fetch_or(&e->own->flags, GNTDP_EVTCHN_LINE_MASK, __ATOMIC_SEQ_CST);
	c = __atomic_exchange_n(&e->own->pend, 0, __ATOMIC_SEQ_CST);
	if (c == 0) { /* another thread of the handle took it first */
		__atomic_fetch_and(&e->own->flags, ~GNTDP_EVTCHN_LINE_MASK, __ATOMIC_SEQ_CST);
		return 0;
	}
	/* A sender wrote the eventfd too: empty it, so it shows nothing taken. */
	if (__atomic_exchange_n(&e->own->kick, 0, __ATOMIC_SEQ_CST) != 0)
		drain(e->efd);
	e->masked = true;
	/* Several notifies before this take: one more after unmask (see pending()). */
	e->latched = c > 1;
	return (int)p;
}

/*
 * Under h->lock: the lines pending() may poll, each flagged SPIN (its
 * senders then skip the eventfd), refreshing a port whose generation moved
 * (an unbound port its peer bound since) so that it gets its line.
 */
static void
spin_prep(struct gntdp_client_evtchn *h, struct spin_set *s)
{
	s->n = 0;
	s->epoll = false;
	for (uint32_t p = 1; p < h->top; p++) {
		struct ev_port *e = &h->ports[p];

		if (e->efd < 0 || e->masked)
			continue;
		if (__atomic_load_n(&h->c->ev_gen[p], __ATOMIC_ACQUIRE) != e->gen)
			refresh(h, p);
		if (e->own == NULL || s->n == SPIN_LINES) {
			s->epoll = true;
			continue;
		}
		__atomic_fetch_or(&e->own->flags, GNTDP_EVTCHN_LINE_SPIN, __ATOMIC_SEQ_CST);
		s->port[s->n] = p;
		s->line[s->n++] = e->own;
	}
	h->spinners++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * Under h->lock: the SPIN flags down, then, with @p take, a last look at
 * the lines; a port taken, or 0. Without: the epoll fd gave an event (its
 * item is disarmed now), which pending() takes.
 */
static int
spin_done(struct gntdp_client_evtchn *h, const struct spin_set *s, bool take)
{
	int taken = 0;

	for (unsigned int i = 0; i < s->n; i++)
		__atomic_fetch_and(&s->line[i]->flags, ~GNTDP_EVTCHN_LINE_SPIN, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Dekker with notify(): a sender that saw SPIN added to pend before we cleared it. */
	for (unsigned int i = 0; take && i < s->n && taken == 0; i++)
		taken = line_take(h, s->port[i]);
	if (--h->spinners == 0) {
		while (h->retired != NULL) {
			struct ev_retired *r = h->retired;

			h->retired = r->next;
			munmap(r->page, GNTDP_EVTCHN_CHAN_SIZE);
			free(r);
		}
	}
	return taken;
}

/*
 * Poll for up to h->spin_ns: the lines of @p s (memory only: a notify to
 * a polled line is an add on one side and a load on the other, no system
 * call) and, when some port has none, the epoll fd. 1 with *ev when the
 * epoll fd gave an event, 0 otherwise; the caller's spin_done() takes a
 * line that has notifies.
 */
static int
spin_poll(struct gntdp_client_evtchn *h, const struct spin_set *s, struct epoll_event *ev)
{
	int64_t until = mono_ns() + h->spin_ns;

	do {
		for (unsigned int i = 0; i < s->n; i++) {
			if (__atomic_load_n(&s->line[i]->pend, __ATOMIC_ACQUIRE) != 0)
				return 0;
		}
		if (s->epoll && epoll_wait(h->epfd, ev, 1, 0) == 1)
			return 1;
		__builtin_ia32_pause();
	} while (mono_ns() < until);
	return 0;
}

/* Spin before sleeping (GNTDP_EVTCHN_SPIN_US): a port taken from its line, or 0; *n the epoll result. */
static int
spin(struct gntdp_client_evtchn *h, struct epoll_event *ev, int *n)
{
	struct spin_set s;
	int p;

	pthread_mutex_lock(&h->lock);
	spin_prep(h, &s);
	pthread_mutex_unlock(&h->lock);
	*n = spin_poll(h, &s, ev);
	pthread_mutex_lock(&h->lock);
	p = spin_done(h, &s, *n == 0);
	pthread_mutex_unlock(&h->lock);
	return p;
}

/* Under h->lock: a port whose line has notifies, taken; 0 if none. */
static int
lines_take(struct gntdp_client_evtchn *h)
{
	for (uint32_t p = 1; p < h->top; p++) {
		int t = line_take(h, p);

		if (t != 0)
			return t;
	}
	return 0;
}

int
gntdp_client_evtchn_pending(struct gntdp_client_evtchn *h)
{
	for (;;) {
		struct epoll_event ev;
		uint64_t v;
		uint32_t p, c = 0;
		int n = 0, nev = 0;

		if (h->spin_ns > 0) {
			/*
			 * Lines first: in a busy channel the notify is there
			 * already. Then the spin, which polls the epoll fd too
			 * where a line does not count everything; so no system
			 * call before the spin when the lines do.
			 */
			pthread_mutex_lock(&h->lock);
			n = lines_take(h);
			pthread_mutex_unlock(&h->lock);
			if (n != 0)
				return n;
			n = spin(h, &ev, &nev);
			if (n != 0)
				return n;
			n = nev;
		}
		if (n == 0)
			n = epoll_wait(h->epfd, &ev, 1, 0);
		if (n == 0) {
			int fl = fcntl(h->epfd, F_GETFL);

			/* O_NONBLOCK on the handle's fd: as Linux's read, -EAGAIN (after the spin). */
			if (fl >= 0 && (fl & O_NONBLOCK))
				return -EAGAIN;
			n = epoll_wait(h->epfd, &ev, 1, -1);
		}
		if (n < 0 && errno == EINTR && !eintr_is_callers())
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			continue;
		p = ev.data.u32;
		pthread_mutex_lock(&h->lock);
		if (p < h->nr_ports && h->ports[p].efd >= 0 && !h->ports[p].masked) {
			struct ev_port *e = &h->ports[p];

			/*
			 * Disarmed by EPOLLONESHOT: masked. The counter back to 0,
			 * nonblocking (EAGAIN: a racing reader took it; delivered
			 * all the same); the line's count too, which is exact
			 * where the eventfd's is not (a sender that saw SPIN
			 * wrote only the line). More than one notify since the
			 * port was unmasked: on Xen the kernel took the first at
			 * once and masked the port, so the others latched one
			 * event for after unmask(). Put it back; it shows once
			 * the port is rearmed. Folding them would lose a wake-up
			 * that Xen gives (test client_evtchn early_notifies).
			 */
			if (read(e->efd, &v, sizeof(v)) != sizeof(v))
				v = 0;
			if (e->own != NULL) {
				__atomic_fetch_or(&e->own->flags, GNTDP_EVTCHN_LINE_MASK,
						  __ATOMIC_SEQ_CST);
				c = __atomic_exchange_n(&e->own->pend, 0, __ATOMIC_SEQ_CST);
				__atomic_store_n(&e->own->kick, 0, __ATOMIC_SEQ_CST);
			}
			/*
			 * A generation that moved: the channel changed under the
			 * line (its peer closed and someone bound again), so the
			 * line counts nothing of the new one; the eventfd, read
			 * above, does. The new line starts from what the eventfd
			 * holds now (chan_map()).
			 */
			if (e->own != NULL && c == 0 &&
			    __atomic_load_n(&h->c->ev_gen[p], __ATOMIC_ACQUIRE) != e->gen) {
				refresh(h, p);
				if (e->own != NULL) {
					__atomic_fetch_or(&e->own->flags, GNTDP_EVTCHN_LINE_MASK,
							  __ATOMIC_SEQ_CST);
					c = __atomic_exchange_n(&e->own->pend, 0, __ATOMIC_SEQ_CST);
					__atomic_store_n(&e->own->kick, 0, __ATOMIC_SEQ_CST);
				}
				c += count32(v);
			}
			if (e->own == NULL)
				c = count32(v);
			if (e->own != NULL && c == 0) {
				/*
				 * Nothing on the line, which counts every notify
				 * since it was mapped: a sender wrote the eventfd
				 * after a take from the line had emptied it (it
				 * saw no flag, the take saw no kick yet). Not an
				 * event: rearm and wait on.
				 */
				int rc;

				__atomic_fetch_and(&e->own->flags, ~GNTDP_EVTCHN_LINE_MASK,
						   __ATOMIC_SEQ_CST);
				e->armed = false;
				rc = rearm(h, p);
				pthread_mutex_unlock(&h->lock);
				if (rc != 0)
					return rc;
				continue;
			}
			if (c > 1) {
				if (e->own != NULL)
					__atomic_fetch_add(&e->own->pend, 1, __ATOMIC_SEQ_CST);
				relatch(e);
			}
			e->masked = true;
			e->armed = false;
		} else {
			/*
			 * Unbound meanwhile, or a port taken from its line (masked)
			 * whose eventfd a sender wrote after: its item is disarmed
			 * now and unmask() rearms it.
			 */
			if (p < h->nr_ports && h->ports[p].efd >= 0)
				h->ports[p].armed = false;
			p = 0;
		}
		pthread_mutex_unlock(&h->lock);
		if (p != 0)
			return (int)p;
	}
}

int
gntdp_client_evtchn_unmask(struct gntdp_client_evtchn *h, uint32_t port)
{
	struct ev_port *e;
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	/* Not a port of this handle: ignored, as Linux's write of it. */
	if (mine(h, port) != 0 || !h->ports[port].masked)
		goto out;
	e = &h->ports[port];
	e->masked = false;
	if (e->own != NULL) {
		/* Senders write the eventfd again from here; those that did not are in pend. */
		__atomic_fetch_and(&e->own->flags, ~GNTDP_EVTCHN_LINE_MASK, __ATOMIC_SEQ_CST);
	}
	if (!e->armed) {
		uint64_t v;

		/*
		 * Whatever came while masked is one latched event (Xen's
		 * pending bit): fold the counter to 1 so that pending() sees
		 * a single notify, not an early pair.
		 */
		if (read(e->efd, &v, sizeof(v)) == sizeof(v))
			relatch(e);
		rc = rearm(h, port);
		if (rc != 0) {
			e->masked = true;
			goto out;
		}
	}
	/*
	 * The line's count folds the same way, with the event latched at a
	 * take that left notifies behind. Notifies while masked skipped the
	 * eventfd (LINE_MASK), so it shows the folded event too, for
	 * select() users (its item is armed now).
	 */
	if (e->own != NULL &&
	    (__atomic_exchange_n(&e->own->pend, 0, __ATOMIC_SEQ_CST) != 0 || e->latched)) {
		__atomic_fetch_add(&e->own->pend, 1, __ATOMIC_SEQ_CST);
		relatch(e);
	}
	e->latched = false;
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}
