/* SPDX-License-Identifier: MIT */
/*
 * Sockets, domains and the epoll loop of gntdp-xenstored.
 *
 * Every served domain has a listening Unix socket DIR/dom<N>; dom0 also
 * listens on DIR/socket, where Xen's libxenstore looks when only
 * XENSTORED_RUNDIR=DIR is set. A client is the domain of the socket it
 * connected to; dom0 is privileged. Sockets are mode 0600: who may open a
 * domain's socket is that domain.
 *
 * Connections are non-blocking; the loop is level-triggered and reads at
 * most MSGS_PER_WAKEUP messages from one connection before going on to the
 * next, so a busy client cannot starve the others. Replies queue in a
 * per-connection buffer; all the connections of a domain together hold at
 * most conf.out_max bytes: a watch event that does not fit is dropped
 * (counted), a reply that does not fit closes the connection (the client
 * sends requests without reading the answers).
 * A closed connection or listener is marked dead and freed after the
 * current batch of epoll events, which may still point at it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xsd.h"

#define MSGS_PER_WAKEUP 64
#define EVENTS_PER_WAIT 64
#define LISTEN_BACKLOG 64
#define HDR_LEN sizeof(struct gntdp_xs_sockmsg)
#define OUT_KEEP 65536u /* output buffer kept across bursts, bytes */

void
xsd_log(const char *fmt, ...)
{
	va_list ap;

	fputs("gntdp-xenstored: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
xsd_conf_init(struct xsd_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/run/gntdp/xenstored");
	c->max_conns = 64;
	c->out_max = 1u << 20;
	/* Xen's defaults (tools/xenstored/domain.c, quotas[]). */
	c->q.nodes = 1000;
	c->q.watches = 128;
	c->q.transactions = 10;
	c->q.tx_nodes = 1024;
	c->q.perms = 5;
	c->q.node_size = 2048;
}

static int
ep_add(struct xsd_server *srv, struct xsd_ep *ep, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = ep};

	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, ep->fd, &ev) == 0 ? 0 : -errno;
}

/* ---- output -------------------------------------------------------------- */

static void
conn_flush(struct xsd_server *srv, struct xsd_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->ep.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			xsd_conn_kill(srv, c, strerror(errno));
			return;
		}
		c->out_off += (size_t)n;
		c->dom->out_queued -= (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->out_cap > OUT_KEEP) { /* a burst is over: give its memory back */
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
	if ((c->out_len != 0) != c->out_armed) {
		struct epoll_event ev = {.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0),
					 .data.ptr = &c->ep};

		c->out_armed = c->out_len != 0;
		epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->ep.fd, &ev);
	}
}

void
xsd_send(struct xsd_server *srv, struct xsd_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
	 const void *data, size_t len, bool event)
{
	struct gntdp_xs_sockmsg h = {type, req_id, tx_id, (uint32_t)len};
	size_t need = HDR_LEN + len;

	if (c->ep.dead)
		return;
	/* The bound is the domain's: more connections do not buy more memory. */
	if (c->dom->out_queued + need > srv->conf.out_max) {
		if (event) {
			srv->stats.events_dropped++;
			return;
		}
		xsd_conn_kill(srv, c, "client does not read its replies");
		return;
	}
	if (c->out_off && c->out_len + need > c->out_cap) { /* compact */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 8192;
		char *p;

		while (cap < c->out_len + need)
			cap *= 2;
		p = xsd_alloc(cap);
		if (c->out_len)
			memcpy(p, c->out, c->out_len);
		free(c->out);
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, &h, HDR_LEN);
	if (len)
		memcpy(c->out + c->out_len + HDR_LEN, data, len);
	c->out_len += need;
	c->dom->out_queued += need;
	conn_flush(srv, c);
}

/* ---- connections --------------------------------------------------------- */

void
xsd_conn_kill(struct xsd_server *srv, struct xsd_conn *c, const char *why)
{
	struct xsd_conn **pp;

	if (c->ep.dead)
		return;
	if (srv->conf.verbose || why)
		xsd_log("dom%u: connection closed%s%s", (unsigned int)c->dom->who.domid,
			why ? ": " : "", why ? why : "");
	if (why)
		srv->stats.conns_killed++;
	c->ep.dead = true;
	c->dom->out_queued -= c->out_len - c->out_off;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->ep.fd, NULL);
	close(c->ep.fd);
	xsd_conn_reset(c);
	for (pp = &c->dom->conns; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	c->dom->nb_conns--;
	c->gnext = srv->grave_conns;
	srv->grave_conns = c;
}

static void
conn_read(struct xsd_server *srv, struct xsd_conn *c)
{
	for (unsigned int done = 0; done < MSGS_PER_WAKEUP && !c->ep.dead;) {
		struct gntdp_xs_sockmsg h;
		size_t need = HDR_LEN;
		ssize_t n;

		if (c->in_have >= HDR_LEN) {
			memcpy(&h, c->in, HDR_LEN);
			need += h.len;
		}
		if (c->in_have < need) {
			n = read(c->ep.fd, c->in + c->in_have, need - c->in_have);
			if (n == 0) {
				xsd_conn_kill(srv, c, c->in_have ? "closed mid-message" : NULL);
				return;
			}
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					xsd_conn_kill(srv, c, strerror(errno));
				return;
			}
			c->in_have += (uint32_t)n;
		}
		if (c->in_have < HDR_LEN)
			continue;
		memcpy(&h, c->in, HDR_LEN);
		/* As Xen: a payload past the limit closes the connection. */
		if (h.len > GNTDP_XS_PAYLOAD_MAX) {
			xsd_conn_kill(srv, c, "payload longer than 4096 bytes");
			return;
		}
		if (c->in_have < HDR_LEN + h.len)
			continue;
		xsd_handle(srv, c);
		c->in_have = 0;
		done++;
	}
}

static void
accept_all(struct xsd_server *srv, struct xsd_listener *l)
{
	for (;;) {
		int fd = accept4(l->ep.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct xsd_conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && srv->spare_fd >= 0) {
				/*
				 * Out of descriptors: the level-triggered listener
				 * would wake the loop forever. Refuse this client
				 * with the spare descriptor, then take it back.
				 */
				close(srv->spare_fd);
				fd = accept(l->ep.fd, NULL, NULL);
				if (fd >= 0) {
					xsd_log("%s: out of file descriptors, connection refused",
						l->path);
					close(fd);
				}
				srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				/* EMFILE comes before the queue is looked at: stop when it is
				 * empty. */
				if (fd < 0)
					return;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				xsd_log("%s: accept: %s", l->path, strerror(errno));
			return;
		}
		if (l->dom->nb_conns >= srv->conf.max_conns) {
			xsd_log("dom%u: more than %u connections, refused",
				(unsigned int)l->dom->who.domid, srv->conf.max_conns);
			close(fd);
			continue;
		}
		c = xsd_alloc(sizeof(*c));
		c->ep.kind = XSD_EP_CONN;
		c->ep.fd = fd;
		c->dom = l->dom;
		if (ep_add(srv, &c->ep, EPOLLIN) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = l->dom->conns;
		l->dom->conns = c;
		l->dom->nb_conns++;
		srv->stats.conns++;
		if (srv->conf.verbose)
			xsd_log("dom%u: connection on %s", (unsigned int)l->dom->who.domid,
				l->path);
	}
}

/* ---- listeners ----------------------------------------------------------- */

/* A socket file left by a server that is gone is removed; a live one is an error. */
static int
clear_stale(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	return unlink(path) == 0 ? 0 : -errno;
}

static int
listener_open(struct xsd_server *srv, struct xsd_dom *d, const char *name,
	      struct xsd_listener **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct xsd_listener *l = xsd_alloc(sizeof(*l));
	int rc;

	if ((size_t)snprintf(l->path, sizeof(l->path), "%s/%s", srv->conf.dir, name) >=
	    sizeof(sa.sun_path)) {
		free(l);
		return -ENAMETOOLONG;
	}
	l->ep.kind = XSD_EP_LISTEN;
	l->dom = d;
	rc = clear_stale(l->path);
	if (rc != 0) {
		xsd_log("%s: %s", l->path,
			rc == -EADDRINUSE ? "another server listens there" : strerror(-rc));
		free(l);
		return rc;
	}
	l->ep.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
	if (l->ep.fd < 0 || bind(l->ep.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(l->path, 0600) != 0 || listen(l->ep.fd, LISTEN_BACKLOG) != 0 ||
	    ep_add(srv, &l->ep, EPOLLIN) != 0) {
		rc = -errno;
		xsd_log("%s: %s", l->path, strerror(errno));
		if (l->ep.fd >= 0) {
			close(l->ep.fd);
			unlink(l->path);
		}
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

static void
listener_close(struct xsd_server *srv, struct xsd_listener *l)
{
	if (l == NULL || l->ep.dead)
		return;
	l->ep.dead = true;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, l->ep.fd, NULL);
	close(l->ep.fd);
	unlink(l->path);
	l->gnext = srv->grave_ls;
	srv->grave_ls = l;
}

static void
sweep(struct xsd_server *srv)
{
	while (srv->grave_conns) {
		struct xsd_conn *c = srv->grave_conns;

		srv->grave_conns = c->gnext;
		free(c->out);
		free(c);
	}
	while (srv->grave_ls) {
		struct xsd_listener *l = srv->grave_ls;

		srv->grave_ls = l->gnext;
		free(l);
	}
}

/* ---- domains ------------------------------------------------------------- */

struct xsd_dom *
xsd_dom_find(struct xsd_server *srv, uint32_t domid)
{
	struct xsd_dom *d = srv->doms;

	while (d && d->who.domid != domid)
		d = d->next;
	return d;
}

static const struct xsd_who *
priv_who(struct xsd_server *srv)
{
	return &xsd_dom_find(srv, 0)->who;
}

/* /local/domain/<id>, owned by the domain; domid in it, dom0's, readable by the domain. */
static void
seed(struct xsd_server *srv, uint32_t id)
{
	struct xsd_view v = {&srv->st, NULL, priv_who(srv)};
	char path[48], val[16], perms[32];
	struct xsd_evq q;
	int plen, vlen;

	xsd_evq_init(&q);
	snprintf(path, sizeof(path), "/local/domain/%u", (unsigned int)id);
	plen = snprintf(perms, sizeof(perms), "n%u", (unsigned int)id) + 1;
	if (xsd_op_write(&v, &q, path, NULL, 0, true) != 0 ||
	    xsd_op_set_perms(&v, &q, path, perms, (size_t)plen, 1) != 0)
		xsd_log("dom%u: cannot seed %s", (unsigned int)id, path);
	snprintf(path, sizeof(path), "/local/domain/%u/domid", (unsigned int)id);
	vlen = snprintf(val, sizeof(val), "%u", (unsigned int)id);
	plen = snprintf(perms, sizeof(perms), "n0%cr%u", '\0', (unsigned int)id) + 1;
	if (xsd_op_write(&v, &q, path, val, (uint32_t)vlen, false) != 0 ||
	    xsd_op_set_perms(&v, &q, path, perms, (size_t)plen, id ? 2 : 1) != 0)
		xsd_log("dom%u: cannot seed %s", (unsigned int)id, path);
	xsd_fire(srv, &q);
}

static void
special_event(struct xsd_server *srv, const char *name)
{
	struct xsd_evq q;

	xsd_evq_init(&q);
	xsd_evq_push(&q, XSD_EV_CHANGE, name, xsd_store_find(&srv->st, name), NULL, 0);
	xsd_fire(srv, &q);
}

int
xsd_dom_introduce(struct xsd_server *srv, uint32_t domid)
{
	struct xsd_dom *d = xsd_dom_find(srv, domid);
	char name[16];
	int rc;

	if (d && d->introduced)
		return 0; /* as Xen: introducing a known domain again is fine */
	if (d == NULL) {
		d = xsd_alloc(sizeof(*d));
		d->who.domid = domid;
		d->who.priv = domid == 0;
		d->who.q = &srv->conf.q;
		d->next = srv->doms;
		srv->doms = d;
	}
	snprintf(name, sizeof(name), "dom%u", (unsigned int)domid);
	rc = listener_open(srv, d, name, &d->ls[0]);
	if (rc == 0 && domid == 0) {
		rc = listener_open(srv, d, "socket", &d->ls[1]);
		if (rc != 0)
			listener_close(srv, d->ls[0]);
	}
	if (rc != 0) {
		d->ls[0] = d->ls[1] = NULL;
		/* Xen's error names have no ENAMETOOLONG or EADDRINUSE. */
		if (rc == -ENAMETOOLONG)
			return -EINVAL;
		return rc == -EEXIST || rc == -EADDRINUSE ? -EEXIST : -EIO;
	}
	d->introduced = true;
	seed(srv, domid);
	if (domid != 0)
		special_event(srv, "@introduceDomain");
	if (srv->conf.verbose)
		xsd_log("dom%u: introduced (%s)", (unsigned int)domid, d->ls[0]->path);
	return 0;
}

/* Remove every node the domain owns, with what is below it. */
static void
remove_owned(struct xsd_server *srv, uint32_t domid)
{
	struct xsd_view v = {&srv->st, NULL, priv_who(srv)};
	struct xsd_strvec todo = {0}, rm = {0};
	struct xsd_evq q;

	xsd_strvec_push(&todo, xsd_strdup("/"));
	for (size_t i = 0; i < todo.n; i++) {
		const struct xsd_node *n = xsd_store_find(&srv->st, todo.v[i]);

		if (n == NULL)
			continue;
		if (i > 0 && xsd_node_owner(n) == domid) {
			xsd_strvec_push(&rm, xsd_strdup(todo.v[i])); /* and not below it */
			continue;
		}
		for (uint32_t off = 0; off < n->klen; off += (uint32_t)strlen(n->kids + off) + 1)
			xsd_strvec_push(&todo, xsd_path_join(todo.v[i], n->kids + off));
	}
	xsd_evq_init(&q);
	for (size_t i = 0; i < rm.n; i++)
		xsd_op_rm(&v, &q, rm.v[i]);
	xsd_fire(srv, &q);
	xsd_strvec_free(&todo);
	xsd_strvec_free(&rm);
}

int
xsd_dom_release(struct xsd_server *srv, uint32_t domid)
{
	struct xsd_dom *d = xsd_dom_find(srv, domid);

	if (d == NULL || !d->introduced)
		return -ENOENT;
	while (d->conns)
		xsd_conn_kill(srv, d->conns, NULL);
	listener_close(srv, d->ls[0]);
	listener_close(srv, d->ls[1]);
	d->ls[0] = d->ls[1] = NULL;
	d->introduced = false;
	remove_owned(srv, domid);
	special_event(srv, "@releaseDomain");
	if (srv->conf.verbose)
		xsd_log("dom%u: released", (unsigned int)domid);
	return 0;
}

/* ---- the server ---------------------------------------------------------- */

/* mkdir -p, mode 0755. 0 or a negative errno. */
static int
mkdir_p(const char *dir)
{
	char buf[sizeof(((struct xsd_conf *)0)->dir)];
	size_t len = strlen(dir);

	memcpy(buf, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = dir[i];
	}
	return 0;
}

static int
signals_open(struct xsd_server *srv)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	srv->sig.kind = XSD_EP_SIGNAL;
	srv->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv->sig.fd < 0)
		return -errno;
	return ep_add(srv, &srv->sig, EPOLLIN);
}

int
xsd_server_init(struct xsd_server *srv, const struct xsd_conf *conf)
{
	static const struct xsd_perm special_perm = {0, 0};
	static const char *const specials[] = {"@introduceDomain", "@releaseDomain"};
	int rc;

	memset(srv, 0, sizeof(*srv));
	srv->conf = *conf;
	srv->sig.fd = -1;
	srv->epfd = -1;
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	xsd_store_init(&srv->st);
	/* The special watch paths are nodes only for their permissions (SET_PERMS). */
	for (size_t i = 0; i < 2; i++) {
		struct xsd_node *n = xsd_node_new(specials[i], &special_perm, 1);
		struct xsd_view v = {&srv->st, NULL, NULL};

		xsd_insert(&v, n);
	}
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0)
		return -errno;
	rc = mkdir_p(srv->conf.dir);
	if (rc != 0) {
		xsd_log("%s: %s", srv->conf.dir, strerror(-rc));
		return rc;
	}
	rc = signals_open(srv);
	if (rc != 0) {
		xsd_log("signals: %s", strerror(-rc));
		return rc;
	}
	rc = xsd_dom_introduce(srv, 0);
	for (unsigned int i = 0; rc == 0 && i < conf->nb_doms; i++)
		rc = xsd_dom_introduce(srv, conf->doms[i]);
	return rc;
}

int
xsd_server_run(struct xsd_server *srv)
{
	struct epoll_event evs[EVENTS_PER_WAIT];

	while (!srv->stop) {
		int n = epoll_wait(srv->epfd, evs, EVENTS_PER_WAIT, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			xsd_log("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct xsd_ep *ep = evs[i].data.ptr;

			if (ep->dead)
				continue;
			if (ep->kind == XSD_EP_SIGNAL) {
				struct signalfd_siginfo si;

				while (read(ep->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					srv->stop = true;
			} else if (ep->kind == XSD_EP_LISTEN) {
				accept_all(srv, (struct xsd_listener *)ep);
			} else {
				struct xsd_conn *c = (struct xsd_conn *)ep;

				if (evs[i].events & EPOLLOUT)
					conn_flush(srv, c);
				if (!c->ep.dead &&
				    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
					conn_read(srv, c);
			}
		}
		sweep(srv);
	}
	return 0;
}

void
xsd_server_fini(struct xsd_server *srv)
{
	while (srv->doms) {
		struct xsd_dom *d = srv->doms;

		while (d->conns)
			xsd_conn_kill(srv, d->conns, NULL);
		listener_close(srv, d->ls[0]);
		listener_close(srv, d->ls[1]);
		srv->doms = d->next;
		free(d);
	}
	sweep(srv);
	if (srv->sig.fd >= 0)
		close(srv->sig.fd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	xsd_store_fini(&srv->st);
}
