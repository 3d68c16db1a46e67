/* SPDX-License-Identifier: MIT */
/*
 * libgntdp-client's event channels (gntdp/client.h, docs/daemon.md "Event
 * channels"). The daemon allocates, binds and closes ports; it carries no
 * notification. A handle is an epoll fd over the eventfds of its ports,
 * each registered EPOLLIN | EPOLLONESHOT with the port as its data:
 *
 *  - notify(p) writes 1 to the peer port's eventfd (one syscall, straight
 *    to the receiver). The peer's eventfd came with the bind, or from
 *    EVTCHN_PEER; it is used while the port's word in the domain's
 *    generation page still holds the generation it came with;
 *  - the epoll fd is readable exactly when an unmasked port's eventfd
 *    counts events: pending() takes one (epoll_wait), which disarms it
 *    (EPOLLONESHOT: masked), and reads the counter to zero; events while
 *    masked add to the counter, one pending bit in effect;
 *  - unmask(p) re-arms it (EPOLL_CTL_MOD): a counter above zero makes the
 *    epoll fd readable again at once.
 *
 * Locking: h->lock over the port table; the client's own lock over each
 * control request (taken inside it: order handle, then client). pending()
 * waits without either.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"

struct ev_port {
	int efd;       /* the port's eventfd; -1: not a port of this handle */
	int peer_efd;  /* the peer port's eventfd, -1: unbound (or not fetched) */
	uint32_t gen;  /* the generation peer_efd goes with */
	bool fetched;  /* gen/peer_efd describe the port */
	bool masked;   /* delivered by pending(), not yet unmasked */
};

struct gntdp_client_evtchn {
	struct gntdp_client *c;
	pthread_mutex_t lock;
	int epfd;
	uint32_t nr_ports;
	struct ev_port *ports; /* [nr_ports] */
	int64_t spin_ns;       /* GNTDP_EVTCHN_SPIN_US: pending() polls this long before it sleeps */
};

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
	if (errno != 0 || *end != '\0' || v < 0 || v > GNTDP_CLIENT_EVTCHN_MAX_SPIN_US)
		return 0;
	return (int64_t)v * 1000;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Poll the handle for up to spin_ns before pending() sleeps: a peer that
 * notifies within that time costs the waiter no sleep and the notifier no
 * wake-up of a sleeping task (an IPI and a scheduler pass, the dearest part
 * of a notify, tens of microseconds in a VM). 1 and the event, or 0.
 */
static int
spin(struct gntdp_client_evtchn *h, struct epoll_event *ev)
{
	int64_t until = mono_ns() + h->spin_ns;
	int n;

	do {
		n = epoll_wait(h->epfd, ev, 1, 0);
	} while (n == 0 && mono_ns() < until);
	return n;
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
	int peer_efd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = st->port};
	struct ev_port *e = &h->ports[st->port];
	int rc;

	if (e->efd >= 0) {
		/* The daemon handed out a port that is still ours: it is not gntdpd. */
		close(efd);
		if (peer_efd >= 0)
			close(peer_efd);
		return cl_fail(h->c, -EPROTO, "evtchn: the daemon reused a live port");
	}
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, efd, &ev) != 0) {
		rc = -errno;
		close(efd);
		if (peer_efd >= 0)
			close(peer_efd);
		port_req(h->c, GNTDP_CTL_EVTCHN_CLOSE, st->port);
		return rc;
	}
	*e = (struct ev_port){.efd = efd, .peer_efd = peer_efd, .gen = st->gen, .fetched = true};
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
		rc = install(h, &st, q.fds[0], -1);
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
			   .nfds_min = 2, .nfds_max = 2};
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = cl_request(h->c, &q);
	if (rc == 0)
		rc = check_status(h, &q, &st, GNTDP_EVTCHN_STATE_INTERDOMAIN, 2);
	if (rc == 0)
		rc = install(h, &st, q.fds[0], q.fds[1]);
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
			   .nfds_min = 0, .nfds_max = 1};
	struct ev_port *e = &h->ports[port];
	int rc = cl_request(h->c, &q);

	if (rc < 0)
		return rc;
	if (st.port != port ||
	    q.nfds != (st.state == GNTDP_EVTCHN_STATE_INTERDOMAIN ? 1u : 0u)) {
		cl_close_fds(q.fds, q.nfds);
		return cl_fail(h->c, -EPROTO, "evtchn: the PEER reply does not match the port");
	}
	if (e->peer_efd >= 0)
		close(e->peer_efd);
	e->peer_efd = q.nfds == 1 ? q.fds[0] : -1;
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
	 * Unbound: dropped, as Xen drops a send on an unbound port. A counter
	 * at its maximum (EAGAIN) is pending already.
	 */
	if (e->peer_efd >= 0 && write(e->peer_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
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

/* One pending event on a port's eventfd (nonblocking: a full counter is pending already). */
static void
latch(int efd)
{
	const uint64_t one = 1;
	ssize_t k = write(efd, &one, sizeof(one));

	(void)k;
}

int
gntdp_client_evtchn_pending(struct gntdp_client_evtchn *h)
{
	for (;;) {
		struct epoll_event ev;
		uint64_t v;
		uint32_t p;
		int n = epoll_wait(h->epfd, &ev, 1, 0);

		if (n == 0) {
			int fl = fcntl(h->epfd, F_GETFL);

			/* O_NONBLOCK on the handle's fd: as Linux's read, -EAGAIN. */
			if (fl >= 0 && (fl & O_NONBLOCK))
				return -EAGAIN;
			if (h->spin_ns > 0)
				n = spin(h, &ev);
			if (n == 0)
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
		if (p < h->nr_ports && h->ports[p].efd >= 0) {
			/*
			 * Disarmed by EPOLLONESHOT: masked. The counter back to 0,
			 * nonblocking (EAGAIN: a racing reader took it; delivered
			 * all the same). More than one notify since the port was
			 * unmasked: on Xen the kernel took the first at once and
			 * masked the port, so the others latched one event for
			 * after unmask(). Put it back; it shows once the port is
			 * rearmed. Folding them would lose a wake-up that Xen
			 * gives (test client_evtchn early_notifies).
			 */
			if (read(h->ports[p].efd, &v, sizeof(v)) == sizeof(v) && v > 1)
				latch(h->ports[p].efd);
			h->ports[p].masked = true;
		} else {
			p = 0; /* unbound meanwhile */
		}
		pthread_mutex_unlock(&h->lock);
		if (p != 0)
			return (int)p;
	}
}

int
gntdp_client_evtchn_unmask(struct gntdp_client_evtchn *h, uint32_t port)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = port};
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	/* Not a port of this handle: ignored, as Linux's write of it. */
	if (mine(h, port) == 0 && h->ports[port].masked) {
		uint64_t v;

		/*
		 * Whatever came while masked is one latched event (Xen's
		 * pending bit): fold the counter to 1 so that pending() sees
		 * a single notify, not an early pair.
		 */
		if (read(h->ports[port].efd, &v, sizeof(v)) == sizeof(v))
			latch(h->ports[port].efd);
		if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, h->ports[port].efd, &ev) != 0)
			rc = -errno;
		else
			h->ports[port].masked = false;
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}
