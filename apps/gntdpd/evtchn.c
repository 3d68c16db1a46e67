/* SPDX-License-Identifier: MIT */
/*
 * gntdpd's event channels (gntdp/ctl.h EVTCHN_*, docs/daemon.md "Event
 * channels"): per-domain ports with Xen's states (free, unbound for a
 * remote domid, interdomain), EVTCHNOP_alloc_unbound, _bind_interdomain,
 * _close and _send with Xen's checks and errnos (xen/common/event_channel.c
 * read for the facts), and the close of every port at domain death.
 *
 * The daemon never carries a notification: every allocated port has an
 * eventfd, made here and handed to the port's owner (who waits on it) and,
 * while the port is half of an interdomain channel, to the owner of the
 * other half (who raises the port by writing to it). The daemon keeps one
 * copy of each port's eventfd, to hand it out and for d_evtchn_send(). A
 * per-domain generation page (a sealed memfd the domain maps read-only)
 * has one word per port, bumped whenever the port's state or peer
 * changes: a sender sees there that the peer eventfd it cached is stale.
 * Each interdomain channel has a channel page (gntdp/ctl.h struct
 * gntdp_evtchn_line, one per end), made at the bind, mapped here and by
 * both ends: a send adds to the receiving end's pend and writes its
 * eventfd only when that end's handle is not polling pend (chan_send()).
 *
 * Runs on the control thread with d->lock held, like dom.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gntdpd.h"

#define GEN_SIZE (GNTDP_EVTCHN_MAX_PORTS * sizeof(uint32_t))

/* A channel page, shared by the two ports of one interdomain channel. */
struct d_chan {
	int fd;
	struct gntdp_evtchn_line *lines; /* [2], GNTDP_EVTCHN_CHAN_SIZE mapped */
	unsigned int refs;               /* ports that point at it: 2, then 1 (0 before the bind) */
};

struct d_port {
	uint32_t state;       /* GNTDP_EVTCHN_STATE_* */
	gntdp_domid_t remote_dom;
	uint32_t remote_port; /* interdomain */
	int efd;              /* allocated: the port's eventfd (the daemon's copy) */
	struct d_chan *chan;  /* interdomain: the channel page */
	uint32_t line;        /* interdomain: this port's line of it */
};

struct d_evtchn_dom {
	uint32_t nr_ports; /* ports 1 .. nr_ports - 1 */
	struct d_port *ports;
	int gen_fd;        /* sealed memfd: no writable mapping but this one */
	uint32_t *gen;     /* GEN_SIZE bytes, read-write here */
};

/*
 * The hook of branch xgnttab (unmap notifications of a dying domain); the
 * strong definition in apps/gntdpd/notify.c replaces this empty one.
 */
__attribute__((weak)) void
d_notify_domain_dying(struct gntdpd *g, struct d_domain *dom)
{
	(void)g;
	(void)dom;
}

void
d_evtchn_init(void)
{
	struct rlimit rl;

	/* One eventfd per port of every domain: take the hard limit of open files. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct d_chan *
chan_new(void)
{
	struct d_chan *c = calloc(1, sizeof(*c));
	void *p;

	if (c == NULL)
		return NULL;
	c->fd = memfd_create("gntdpd-evtchn-chan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->fd < 0 || ftruncate(c->fd, GNTDP_EVTCHN_CHAN_SIZE) != 0 ||
	    fcntl(c->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		goto fail;
	p = mmap(NULL, GNTDP_EVTCHN_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		 c->fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	c->lines = p;
	return c; /* refs 0 until the bind attaches both ports */
fail:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return NULL;
}

static void
chan_free(struct d_chan *c)
{
	munmap(c->lines, GNTDP_EVTCHN_CHAN_SIZE);
	close(c->fd);
	free(c);
}

/* A port lets go of its channel page; the last one frees it. */
static void
chan_put(struct d_port *p)
{
	struct d_chan *c = p->chan;

	p->chan = NULL;
	if (c != NULL && --c->refs == 0)
		chan_free(c);
}

/*
 * Raise @p to (a port with its eventfd): the protocol of gntdp/ctl.h, as
 * the library's notify does. Nonblocking: a counter at its maximum is
 * pending already.
 */
static int
chan_send(const struct d_port *to)
{
	static const uint64_t one = 1;
	struct gntdp_evtchn_line *l = to->chan != NULL ? &to->chan->lines[to->line] : NULL;

	if (l != NULL) {
		__atomic_fetch_add(&l->pend, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&l->flags, __ATOMIC_SEQ_CST) & GNTDP_EVTCHN_LINE_QUIET)
			return 0;
		__atomic_store_n(&l->kick, 1, __ATOMIC_SEQ_CST);
	}
	if (write(to->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static void
bump(struct d_evtchn_dom *ev, uint32_t port)
{
	/* Release: pairs with the acquire load of a sender in client/evtchn.c (notify). */
	__atomic_store_n(&ev->gen[port], ev->gen[port] + 1, __ATOMIC_RELEASE);
}

/* The domain's event-channel state, made on first use. */
static int
ev_get(struct gntdpd *g, struct d_domain *dom, struct d_reply *r, struct d_evtchn_dom **out)
{
	struct d_evtchn_dom *ev = dom->ev;
	void *p;

	if (ev != NULL) {
		*out = ev;
		return 0;
	}
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return d_fail(r, -ENOMEM, "out of memory");
	ev->nr_ports = g->conf->max_evtchns + 1;
	ev->ports = calloc(ev->nr_ports, sizeof(*ev->ports));
	ev->gen_fd = memfd_create("gntdpd-evtchn-gen", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (ev->ports == NULL || ev->gen_fd < 0 || fchmod(ev->gen_fd, 0400) != 0 ||
	    ftruncate(ev->gen_fd, GEN_SIZE) != 0)
		goto fail;
	p = mmap(NULL, GEN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ev->gen_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	ev->gen = p;
	/* From now on nobody gets a writable mapping or writes through the fd: ours stays. */
	if (fcntl(ev->gen_fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) != 0)
		goto fail;
	for (uint32_t i = 0; i < ev->nr_ports; i++)
		ev->ports[i].efd = -1;
	dom->ev = ev;
	*out = ev;
	return 0;
fail:
	if (ev->gen != NULL)
		munmap(ev->gen, GEN_SIZE);
	if (ev->gen_fd >= 0)
		close(ev->gen_fd);
	free(ev->ports);
	free(ev);
	return d_fail(r, -ENOMEM, "event channels: the generation page: %s", strerror(errno));
}

/* The caller's bound domain and its event channels. */
static int
caller(struct gntdpd *g, struct d_conn *c, struct d_reply *r, struct d_evtchn_dom **ev)
{
	if (c->dom == NULL)
		return d_fail(r, -ENOTCONN, "EVTCHN: no domain bound (DOMAIN_BIND first)");
	return ev_get(g, c->dom, r, ev);
}

/* Xen's get_free_port: the lowest free port, never 0. */
static int
alloc_port(struct d_evtchn_dom *ev, const struct d_domain *dom, struct d_reply *r)
{
	for (uint32_t p = 1; p < ev->nr_ports; p++) {
		if (ev->ports[p].state != GNTDP_EVTCHN_STATE_FREE)
			continue;
		ev->ports[p].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ev->ports[p].efd < 0)
			return d_fail(r, -ENOMEM, "eventfd: %s", strerror(errno));
		return (int)p;
	}
	return d_fail(r, -ENOSPC, "domain %u: max_evtchns (%u) ports in use", dom->domid,
		      ev->nr_ports - 1);
}

static void
free_port(struct d_evtchn_dom *ev, uint32_t p)
{
	chan_put(&ev->ports[p]);
	close(ev->ports[p].efd);
	ev->ports[p] = (struct d_port){.state = GNTDP_EVTCHN_STATE_FREE, .efd = -1};
	bump(ev, p);
}

/* A port of @p ev that is allocated; NULL otherwise (Xen: -EINVAL). */
static struct d_port *
own_port(struct d_evtchn_dom *ev, uint32_t port)
{
	if (port == 0 || port >= ev->nr_ports || ev->ports[port].state == GNTDP_EVTCHN_STATE_FREE)
		return NULL;
	return &ev->ports[port];
}

/* The other end of interdomain port @p p of @p dom, NULL when it is gone; *rd its domain. */
static struct d_port *
peer_of(struct gntdpd *g, struct d_domain *dom, const struct d_port *p, struct d_domain **rd)
{
	*rd = p->remote_dom == dom->domid ? dom : dom_find(g, p->remote_dom);
	return *rd != NULL && (*rd)->ev != NULL ? own_port((*rd)->ev, p->remote_port) : NULL;
}

static void
status_reply(const struct d_evtchn_dom *ev, uint32_t port, struct d_reply *r)
{
	const struct d_port *p = &ev->ports[port];
	struct gntdp_ctl_evtchn_status st = {
		.port = port,
		.state = p->state,
		.remote_dom = p->state != GNTDP_EVTCHN_STATE_FREE ? p->remote_dom : 0,
		.remote_port = p->state == GNTDP_EVTCHN_STATE_INTERDOMAIN ? p->remote_port : 0,
		.gen = ev->gen[port],
		.line = p->state == GNTDP_EVTCHN_STATE_INTERDOMAIN ? p->line : 0,
	};

	memcpy(r->body, &st, sizeof(st));
	r->body_len = sizeof(st);
}

/* Add a dup of @p fd to the reply's fds. */
static int
reply_fd(struct d_reply *r, int fd)
{
	int f = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (f < 0) {
		for (unsigned int i = 0; i < r->nfds; i++)
			close(r->fds[i]);
		r->nfds = 0;
		return d_fail(r, -ENOMEM, "dup: %s", strerror(errno));
	}
	r->fds[r->nfds++] = f;
	return 0;
}

int
d_evtchn_setup(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_setup *m,
	       struct d_reply *r)
{
	struct gntdp_ctl_evtchn_setup_reply sr;
	struct d_evtchn_dom *ev;
	int rc;

	(void)m;
	rc = caller(g, c, r, &ev);
	if (rc != 0)
		return rc;
	sr = (struct gntdp_ctl_evtchn_setup_reply){.nr_ports = ev->nr_ports,
						   .gen_size = (uint32_t)GEN_SIZE};
	rc = reply_fd(r, ev->gen_fd);
	if (rc != 0)
		return rc;
	memcpy(r->body, &sr, sizeof(sr));
	r->body_len = sizeof(sr);
	return 0;
}

int
d_evtchn_alloc_unbound(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_alloc *m,
		       struct d_reply *r)
{
	struct d_evtchn_dom *ev;
	gntdp_domid_t self;
	int rc, port;

	rc = caller(g, c, r, &ev);
	if (rc != 0)
		return rc;
	self = c->dom->domid;
	/* Xen: XSM_TARGET on dom; a port of another domain would have no process here. */
	if (m->dom != GNTDP_DOMID_SELF && m->dom != self)
		return d_fail(r, c->privileged ? -EOPNOTSUPP : -EPERM,
			      "dom: %u, only DOMID_SELF or the own domid %u (%s)", m->dom, self,
			      c->privileged ? "ports of other domains are not supported"
					    : "not privileged");
	/* Xen stores remote_dom as given (DOMID_SELF: the caller); it need not exist yet. */
	if (m->remote_dom > UINT16_MAX)
		return d_fail(r, -EINVAL, "remote_dom: %u is not a domid", m->remote_dom);
	port = alloc_port(ev, c->dom, r);
	if (port < 0)
		return port;
	ev->ports[port].state = GNTDP_EVTCHN_STATE_UNBOUND;
	ev->ports[port].remote_dom =
		m->remote_dom == GNTDP_DOMID_SELF ? self : (gntdp_domid_t)m->remote_dom;
	bump(ev, (uint32_t)port);
	rc = reply_fd(r, ev->ports[port].efd);
	if (rc != 0) {
		free_port(ev, (uint32_t)port);
		return rc;
	}
	status_reply(ev, (uint32_t)port, r);
	return 0;
}

int
d_evtchn_bind_interdomain(struct gntdpd *g, struct d_conn *c,
			  const struct gntdp_ctl_evtchn_bind *m, struct d_reply *r)
{
	struct d_evtchn_dom *ev, *rev = NULL;
	struct d_domain *rd;
	struct d_port *rp;
	struct d_chan *chan;
	gntdp_domid_t self;
	uint32_t rport = m->remote_port;
	int rc, port;

	rc = caller(g, c, r, &ev);
	if (rc != 0)
		return rc;
	self = c->dom->domid;
	rd = m->remote_dom == GNTDP_DOMID_SELF ? c->dom : dom_find(g, m->remote_dom);
	if (rd == NULL)
		return d_fail(r, -ESRCH, "remote_dom: %u, no such domain", m->remote_dom);
	if (rd->ev != NULL)
		rev = rd->ev;
	rp = rev != NULL ? own_port(rev, rport) : NULL;
	if (rp == NULL)
		return d_fail(r, -EINVAL, "remote_port: %u is not a port of domain %u", rport,
			      rd->domid);
	if (rp->state != GNTDP_EVTCHN_STATE_UNBOUND || rp->remote_dom != self)
		return d_fail(r, -EINVAL, "remote_port: port %u of domain %u is not unbound for "
			      "domain %u", rport, rd->domid, self);
	chan = chan_new();
	if (chan == NULL)
		return d_fail(r, -ENOMEM, "event channels: a channel page: %s", strerror(errno));
	port = alloc_port(ev, c->dom, r);
	if (port < 0) {
		chan_free(chan);
		return port;
	}
	rc = reply_fd(r, ev->ports[port].efd);
	if (rc == 0)
		rc = reply_fd(r, rp->efd);
	if (rc == 0)
		rc = reply_fd(r, chan->fd);
	if (rc != 0) {
		chan_free(chan);
		free_port(ev, (uint32_t)port);
		return rc;
	}
	ev->ports[port].state = GNTDP_EVTCHN_STATE_INTERDOMAIN;
	ev->ports[port].remote_dom = rd->domid;
	ev->ports[port].remote_port = rport;
	ev->ports[port].chan = chan;
	ev->ports[port].line = 1;
	rp->state = GNTDP_EVTCHN_STATE_INTERDOMAIN;
	rp->remote_dom = self;
	rp->remote_port = (uint32_t)port;
	rp->chan = chan;
	rp->line = 0;
	chan->refs = 2;
	bump(ev, (uint32_t)port);
	bump(rev, rport);
	/*
	 * Xen: notifications sent to the unbound remote port may be lost, so the
	 * new local port starts pending.
	 */
	rc = chan_send(&ev->ports[port]);
	if (rc != 0)
		APP_LOG(WARNING, "gntdpd: domain %u port %d: initial event: %s", self, port,
			strerror(-rc));
	status_reply(ev, (uint32_t)port, r);
	return 0;
}

/*
 * Xen's evtchn_close: free the port; the peer of an interdomain channel
 * becomes unbound for the closer's domid (a new bind_interdomain from it
 * reconnects). -EINVAL for a port that is not allocated.
 */
static int
close_port(struct gntdpd *g, struct d_domain *dom, uint32_t port)
{
	struct d_evtchn_dom *ev = dom->ev;
	struct d_port *p = ev != NULL ? own_port(ev, port) : NULL;

	if (p == NULL)
		return -EINVAL;
	if (p->state == GNTDP_EVTCHN_STATE_INTERDOMAIN) {
		struct d_domain *rd;
		struct d_port *rp = peer_of(g, dom, p, &rd);

		if (rp != NULL && rp->state == GNTDP_EVTCHN_STATE_INTERDOMAIN &&
		    rp->remote_dom == dom->domid && rp->remote_port == port) {
			rp->state = GNTDP_EVTCHN_STATE_UNBOUND;
			rp->remote_dom = dom->domid;
			rp->remote_port = 0;
			chan_put(rp);
			bump(rd->ev, p->remote_port);
		} else {
			APP_LOG(ERR, "gntdpd: domain %u port %u: its peer %u:%u does not point back",
				dom->domid, port, p->remote_dom, p->remote_port);
		}
	}
	free_port(ev, port);
	return 0;
}

int
d_evtchn_close(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_port *m,
	       struct d_reply *r)
{
	struct d_evtchn_dom *ev;
	int rc;

	rc = caller(g, c, r, &ev);
	if (rc != 0)
		return rc;
	if (close_port(g, c->dom, m->port) != 0)
		return d_fail(r, -EINVAL, "port: %u is not an allocated port of domain %u",
			      m->port, c->dom->domid);
	return 0;
}

int
d_evtchn_peer(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_port *m,
	      struct d_reply *r)
{
	struct d_evtchn_dom *ev;
	struct d_port *p;
	int rc;

	rc = caller(g, c, r, &ev);
	if (rc != 0)
		return rc;
	p = own_port(ev, m->port);
	if (p == NULL)
		return d_fail(r, -EINVAL, "port: %u is not an allocated port of domain %u",
			      m->port, c->dom->domid);
	if (p->state == GNTDP_EVTCHN_STATE_INTERDOMAIN) {
		struct d_domain *rd;
		struct d_port *rp = peer_of(g, c->dom, p, &rd);

		if (rp == NULL)
			return d_fail(r, -EIO, "port %u: its peer %u:%u is gone", m->port,
				      p->remote_dom, p->remote_port);
		rc = reply_fd(r, rp->efd);
		if (rc == 0 && p->chan != NULL)
			rc = reply_fd(r, p->chan->fd);
		if (rc != 0)
			return rc;
	}
	status_reply(ev, m->port, r);
	return 0;
}

int
d_evtchn_send(struct gntdpd *g, gntdp_domid_t domid, uint32_t port)
{
	struct d_domain *dom = dom_find(g, domid), *rd;
	struct d_port *p, *rp;

	p = dom != NULL && dom->ev != NULL ? own_port(dom->ev, port) : NULL;
	if (p == NULL)
		return -EINVAL;
	if (p->state != GNTDP_EVTCHN_STATE_INTERDOMAIN)
		return 0; /* Xen: a send on an unbound port is dropped silently */
	rp = peer_of(g, dom, p, &rd);
	if (rp == NULL)
		return 0;
	return chan_send(rp);
}

int
d_evtchn_send_req(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_port *m,
		  struct d_reply *r)
{
	struct d_evtchn_dom *ev;
	int rc;

	rc = caller(g, c, r, &ev);
	if (rc != 0)
		return rc;
	rc = d_evtchn_send(g, c->dom->domid, m->port);
	if (rc != 0)
		return d_fail(r, rc, "port: %u is not an allocated port of domain %u", m->port,
			      c->dom->domid);
	return 0;
}

void
d_evtchn_domain_dying(struct gntdpd *g, struct d_domain *dom)
{
	struct d_evtchn_dom *ev = dom->ev;

	if (ev == NULL)
		return;
	/* As Xen's evtchn_destroy: every port closed, each peer back to unbound. */
	for (uint32_t p = 1; p < ev->nr_ports; p++) {
		if (ev->ports[p].state != GNTDP_EVTCHN_STATE_FREE)
			close_port(g, dom, p);
	}
	munmap(ev->gen, GEN_SIZE);
	close(ev->gen_fd);
	free(ev->ports);
	free(ev);
	dom->ev = NULL;
}
