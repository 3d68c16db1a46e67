/* SPDX-License-Identifier: MIT */
/*
 * gntdpd's control socket (gntdp/ctl.h, docs/daemon.md "Control socket"):
 * the listening AF_UNIX SOCK_SEQPACKET socket, the epoll loop over it and
 * its connections, SO_PEERCRED at accept, and every request's checks in
 * the order the protocol fixes: framing (magic, version, type, exact
 * length, reserved fields), then state and ACL, then values; only then
 * does a handler (dom.c) change anything.
 *
 * Hostile peers: a request never blocks the daemon (sockets are
 * non-blocking, replies are sent with MSG_DONTWAIT and a peer whose socket
 * cannot take its reply is disconnected), fds attached to a request are
 * closed unread, a connection gets at most MSG_BURST requests served per
 * round, and the GNTDP_CTL_MAX_BAD_MSGS-th refused request closes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gntdpd.h"

#define MSG_BURST 8    /* requests served per connection per round (fairness) */
#define MAX_RX_FDS 64  /* control buffer for fds a hostile request attaches */
#define EV_LISTEN UINT64_MAX

int
d_fail(struct d_reply *r, int err, const char *fmt, ...)
{
	va_list ap;

	r->err = err;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return err;
}

static const char *const type_names[GNTDP_CTL_NB_TYPES] = {
	[GNTDP_CTL_HELLO] = "HELLO",
	[GNTDP_CTL_DOMAIN_BIND] = "DOMAIN_BIND",
	[GNTDP_CTL_RING_CREATE] = "RING_CREATE",
	[GNTDP_CTL_RING_DESTROY] = "RING_DESTROY",
	[GNTDP_CTL_DOMAIN_CREATE] = "DOMAIN_CREATE",
	[GNTDP_CTL_DOMAIN_DESTROY] = "DOMAIN_DESTROY",
	[GNTDP_CTL_DOMAIN_LIST] = "DOMAIN_LIST",
	[GNTDP_CTL_SHARE_ALLOC] = "SHARE_ALLOC",
	[GNTDP_CTL_MAP_FD] = "MAP_FD",
	[GNTDP_CTL_SHARE_FREE] = "SHARE_FREE",
	[GNTDP_CTL_NOTIFY_SET] = "NOTIFY_SET",
	[GNTDP_CTL_NOTIFY_FIRE] = "NOTIFY_FIRE",
	[GNTDP_CTL_EVTCHN_SETUP] = "EVTCHN_SETUP",
	[GNTDP_CTL_EVTCHN_ALLOC_UNBOUND] = "EVTCHN_ALLOC_UNBOUND",
	[GNTDP_CTL_EVTCHN_BIND_INTERDOMAIN] = "EVTCHN_BIND_INTERDOMAIN",
	[GNTDP_CTL_EVTCHN_CLOSE] = "EVTCHN_CLOSE",
	[GNTDP_CTL_EVTCHN_PEER] = "EVTCHN_PEER",
	[GNTDP_CTL_EVTCHN_SEND] = "EVTCHN_SEND",
	[GNTDP_CTL_DOMAIN_INFO] = "DOMAIN_INFO",
};

/* Exact request size per type (0: not a request the daemon takes). */
static const uint32_t type_len[GNTDP_CTL_NB_TYPES] = {
	[GNTDP_CTL_HELLO] = sizeof(struct gntdp_ctl_hello),
	[GNTDP_CTL_DOMAIN_BIND] = sizeof(struct gntdp_ctl_domain),
	[GNTDP_CTL_RING_CREATE] = sizeof(struct gntdp_ctl_ring),
	[GNTDP_CTL_RING_DESTROY] = sizeof(struct gntdp_ctl_ring_destroy),
	[GNTDP_CTL_DOMAIN_CREATE] = sizeof(struct gntdp_ctl_domain),
	[GNTDP_CTL_DOMAIN_DESTROY] = sizeof(struct gntdp_ctl_domain_destroy),
	[GNTDP_CTL_DOMAIN_LIST] = sizeof(struct gntdp_ctl_domain_list),
	[GNTDP_CTL_SHARE_ALLOC] = sizeof(struct gntdp_ctl_share_alloc),
	[GNTDP_CTL_MAP_FD] = sizeof(struct gntdp_ctl_map_fd), /* + 8 per gfn */
	[GNTDP_CTL_SHARE_FREE] = sizeof(struct gntdp_ctl_share_free),
	[GNTDP_CTL_NOTIFY_SET] = sizeof(struct gntdp_ctl_notify_set),
	[GNTDP_CTL_NOTIFY_FIRE] = sizeof(struct gntdp_ctl_notify_fire),
	[GNTDP_CTL_EVTCHN_SETUP] = sizeof(struct gntdp_ctl_evtchn_setup),
	[GNTDP_CTL_EVTCHN_ALLOC_UNBOUND] = sizeof(struct gntdp_ctl_evtchn_alloc),
	[GNTDP_CTL_EVTCHN_BIND_INTERDOMAIN] = sizeof(struct gntdp_ctl_evtchn_bind),
	[GNTDP_CTL_EVTCHN_CLOSE] = sizeof(struct gntdp_ctl_evtchn_port),
	[GNTDP_CTL_EVTCHN_PEER] = sizeof(struct gntdp_ctl_evtchn_port),
	[GNTDP_CTL_EVTCHN_SEND] = sizeof(struct gntdp_ctl_evtchn_port),
	[GNTDP_CTL_DOMAIN_INFO] = sizeof(struct gntdp_ctl_domain_info),
};

const char *
ctl_type_name(uint32_t type)
{
	return type < GNTDP_CTL_NB_TYPES && type_names[type] != NULL ? type_names[type] : "?";
}

/* The reserved words of a request body (after the header): all must be zero. */
static int
check_rsvd(const void *buf, uint32_t type, struct d_reply *r)
{
	const uint32_t *w;
	unsigned int n = 0;

	switch (type) {
	case GNTDP_CTL_DOMAIN_BIND:
	case GNTDP_CTL_DOMAIN_CREATE:
		w = ((const struct gntdp_ctl_domain *)buf)->rsvd;
		n = 2;
		break;
	case GNTDP_CTL_RING_DESTROY:
		w = &((const struct gntdp_ctl_ring_destroy *)buf)->rsvd;
		n = 1;
		break;
	case GNTDP_CTL_DOMAIN_DESTROY:
		w = &((const struct gntdp_ctl_domain_destroy *)buf)->rsvd;
		n = 1;
		break;
	case GNTDP_CTL_DOMAIN_LIST:
		w = &((const struct gntdp_ctl_domain_list *)buf)->rsvd;
		n = 1;
		break;
	case GNTDP_CTL_DOMAIN_INFO:
		w = &((const struct gntdp_ctl_domain_info *)buf)->rsvd;
		n = 1;
		break;
	case GNTDP_CTL_EVTCHN_SETUP:
		w = ((const struct gntdp_ctl_evtchn_setup *)buf)->rsvd;
		n = 2;
		break;
	case GNTDP_CTL_EVTCHN_CLOSE:
	case GNTDP_CTL_EVTCHN_PEER:
	case GNTDP_CTL_EVTCHN_SEND:
		w = &((const struct gntdp_ctl_evtchn_port *)buf)->rsvd;
		n = 1;
		break;
	case GNTDP_CTL_SHARE_ALLOC:
		w = &((const struct gntdp_ctl_share_alloc *)buf)->rsvd;
		n = 1;
		break;
	default:
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (w[i] != 0 && n > 1)
			return d_fail(r, -EINVAL, "rsvd[%u]: 0x%x, must be zero", i, w[i]);
		if (w[i] != 0)
			return d_fail(r, -EINVAL, "rsvd: 0x%x, must be zero", w[i]);
	}
	return 0;
}

int
ctl_check_frame(const void *buf, size_t n, struct d_reply *r)
{
	struct gntdp_ctl_hdr h;

	if (n < sizeof(h))
		return d_fail(r, -EBADMSG, "len: %zu bytes, shorter than the %zu-byte header", n,
			      sizeof(h));
	memcpy(&h, buf, sizeof(h));
	if (h.magic != GNTDP_CTL_MAGIC)
		return d_fail(r, -EBADMSG, "hdr.magic: 0x%08x, expected 0x%08x", h.magic,
			      GNTDP_CTL_MAGIC);
	if (h.version != GNTDP_CTL_VERSION)
		return d_fail(r, -EPROTO, "hdr.version: %u, this daemon speaks %u", h.version,
			      GNTDP_CTL_VERSION);
	if (h.len != n)
		return d_fail(r, -EBADMSG, "hdr.len: %u, the datagram has %zu bytes", h.len, n);
	if (h.type == 0 || h.type >= GNTDP_CTL_NB_TYPES)
		return d_fail(r, -EBADMSG, "hdr.type: %u, not a request type (1..%u)", h.type,
			      GNTDP_CTL_NB_TYPES - 1);
	if (type_len[h.type] == 0)
		return d_fail(r, -EOPNOTSUPP,
			      "hdr.type: %u (%s) is not served by this daemon (docs/daemon.md)",
			      h.type, ctl_type_name(h.type));
	if (h.type == GNTDP_CTL_MAP_FD)
		return share_check_map_fd_len(buf, h.len, r);
	if (h.len != type_len[h.type])
		return d_fail(r, -EBADMSG, "hdr.len: %u, %s is exactly %u bytes", h.len,
			      type_names[h.type], type_len[h.type]);
	return check_rsvd(buf, h.type, r);
}

/* ---- the listening socket -------------------------------------------------- */

/* An existing path: a live daemon's socket is an error, a stale one is removed. */
static int
clear_stale(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		APP_LOG(ERR, "gntdpd: %s exists and is not a socket", path);
		return -EEXIST;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		APP_LOG(ERR, "gntdpd: %s: another daemon is listening", path);
		return -EADDRINUSE;
	}
	APP_LOG(NOTICE, "gntdpd: removing the stale socket %s", path);
	return unlink(path) == 0 ? 0 : -errno;
}

static int
make_dir(struct gntdpd *d)
{
	char *slash;

	snprintf(d->dir, sizeof(d->dir), "%s", d->conf->socket_path);
	slash = strrchr(d->dir, '/');
	if (slash == NULL || slash == d->dir)
		return 0;
	*slash = '\0';
	if (mkdir(d->dir, 0755) == 0) {
		d->made_dir = true;
		return 0;
	}
	return errno == EEXIST ? 0 : -errno;
}

int
ctl_open(struct gntdpd *d)
{
	const struct d_conf *c = d->conf;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_LISTEN};
	mode_t old;
	int rc;

	d->lfd = d->epfd = -1;
	rc = make_dir(d);
	if (rc == 0)
		rc = clear_stale(c->socket_path);
	if (rc != 0) {
		APP_LOG(ERR, "gntdpd: %s: %s", c->socket_path, strerror(-rc));
		return rc;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->socket_path);
	d->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->lfd < 0)
		return -errno;
	/* Created 0600, then opened up to the configured mode: no window with more. */
	old = umask(0177);
	rc = bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	d->bound = rc == 0;
	if (rc != 0 || chmod(c->socket_path, c->socket_mode) != 0 ||
	    (c->has_group && chown(c->socket_path, (uid_t)-1, c->group_gid) != 0) ||
	    listen(d->lfd, 64) != 0) {
		rc = -errno;
		APP_LOG(ERR, "gntdpd: %s: %s", c->socket_path, strerror(-rc));
		return rc;
	}
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->lfd, &ev) != 0)
		return -errno;
	APP_LOG(NOTICE, "gntdpd: listening on %s (mode 0%03o%s%s)", c->socket_path,
		c->socket_mode, c->has_group ? ", group " : "", c->has_group ? c->socket_group : "");
	return 0;
}

void
ctl_close(struct gntdpd *d)
{
	while (d->nb_conns > 0)
		ctl_close_conn(d, d->conns[d->nb_conns - 1], "the daemon stops");
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->bound)
		unlink(d->conf->socket_path);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->made_dir)
		rmdir(d->dir);
	d->lfd = d->epfd = -1;
	d->bound = false;
}

/* ---- connections -------------------------------------------------------------- */

static void
read_cred(int fd, struct d_cred *cr)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t groups[D_MAX_GROUPS];

	memset(cr, 0, sizeof(*cr));
	cr->uid = (uid_t)-1;
	cr->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
		cr->pid = uc.pid;
		cr->uid = uc.uid;
		cr->gid = uc.gid;
	}
	/* Supplementary groups (Linux 4.13+); more than D_MAX_GROUPS: none are used. */
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
		cr->nb_groups = len / sizeof(gid_t);
		memcpy(cr->groups, groups, cr->nb_groups * sizeof(gid_t));
	}
}

static void
accept_one(struct gntdpd *d)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	struct d_conn *c;
	int fd;

	fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (d->nb_conns >= d->conf->max_connections) {
		APP_LOG(WARNING, "gntdpd: max_connections (%u) reached: connection refused",
			d->conf->max_connections);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	read_cred(fd, &c->cr);
	c->privileged = acl_privileged(d->conf, &c->cr);
	ev.data.ptr = c;
	/* Its uid's [limits] connections: answered -EDQUOT, or closed here (limits.c). */
	if (lim_accept(d, c) < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		free(c);
		return;
	}
	d->conns[d->nb_conns++] = c;
	APP_LOG(INFO, "gntdpd: connection from pid %d uid %u gid %u%s", (int)c->cr.pid,
		(unsigned int)c->cr.uid, (unsigned int)c->cr.gid,
		c->privileged ? " (privileged)" : "");
}

void
ctl_close_conn(struct gntdpd *d, struct d_conn *c, const char *why)
{
	unsigned int i;

	char dom[24] = "";

	if (c->dom != NULL)
		snprintf(dom, sizeof(dom), " domain %u", c->dom->domid);
	APP_LOG(INFO, "gntdpd: closing the connection of pid %d uid %u%s: %s", (int)c->cr.pid,
		(unsigned int)c->cr.uid, dom, why);
	/* Client death is domain death: its rings, then its domain. */
	dom_conn_gone(d, c);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (i = 0; i < d->nb_conns && d->conns[i] != c; i++)
		;
	if (i < d->nb_conns)
		d->conns[i] = d->conns[--d->nb_conns];
	free(c);
}

/* Send the reply to request @p h (NULL: unframable) with the fds in @p r; closes them. */
static int
send_reply(struct d_conn *c, const struct gntdp_ctl_hdr *h, struct d_reply *r)
{
	union {
		struct gntdp_ctl_reply rep;
		uint8_t raw[GNTDP_CTL_MAX_MSG];
	} out;
	union {
		char buf[CMSG_SPACE(sizeof(int) * GNTDP_CTL_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct iovec iov;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	size_t body = r->err == 0 ? r->body_len : 0;
	ssize_t n;

	memset(&out.rep, 0, sizeof(out.rep));
	out.rep.hdr.magic = GNTDP_CTL_MAGIC;
	out.rep.hdr.version = GNTDP_CTL_VERSION;
	out.rep.hdr.type = (uint16_t)(GNTDP_CTL_REPLY | (h != NULL ? h->type : 0));
	out.rep.hdr.seq = h != NULL ? h->seq : 0;
	out.rep.hdr.len = (uint32_t)(sizeof(out.rep) + body);
	out.rep.err = r->err;
	out.rep.nfds = r->err == 0 ? r->nfds : 0;
	snprintf(out.rep.why, sizeof(out.rep.why), "%s", r->why);
	memcpy(out.raw + sizeof(out.rep), r->body, body);
	iov.iov_base = out.raw;
	iov.iov_len = out.rep.hdr.len;
	if (out.rep.nfds > 0) {
		struct cmsghdr *cmh;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * r->nfds);
		cmh = CMSG_FIRSTHDR(&mh);
		cmh->cmsg_level = SOL_SOCKET;
		cmh->cmsg_type = SCM_RIGHTS;
		cmh->cmsg_len = CMSG_LEN(sizeof(int) * r->nfds);
		memcpy(CMSG_DATA(cmh), r->fds, sizeof(int) * r->nfds);
	}
	n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	/* The fds were dup'ed for this reply (or refer to what the daemon keeps open). */
	for (unsigned int i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
	return n == (ssize_t)out.rep.hdr.len ? 0 : -EPIPE;
}

/* Refusals that say nothing about the client's sanity are not counted as bad. */
static bool
counts_as_bad(int err)
{
	/* -EACCES: MAP_FD of a frame outside a share segment; the client cannot know. */
	return err != 0 && err != -ENOMEM && err != -ENOSPC && err != -EEXIST && err != -EBUSY &&
	       err != -EACCES && err != -EDQUOT;
}

static int
hello(const struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_hello *m, struct d_reply *r)
{
	struct gntdp_ctl_hello_reply hr = {0};

	if (c->hello)
		return d_fail(r, -EALREADY, "HELLO: already exchanged on this connection");
	if (m->min_version > m->max_version)
		return d_fail(r, -EINVAL, "min_version: %u above max_version %u", m->min_version,
			      m->max_version);
	if (m->min_version > GNTDP_CTL_VERSION || m->max_version < GNTDP_CTL_VERSION)
		return d_fail(r, -EPROTO, "min_version..max_version: %u..%u, the daemon speaks %u",
			      m->min_version, m->max_version, GNTDP_CTL_VERSION);
	c->hello = true;
	hr.version = GNTDP_CTL_VERSION;
	hr.page_size = GNTDP_PAGE_SIZE;
	hr.nb_workers = d->nb_workers;
	hr.max_rings = d->conf->max_rings;
	hr.uid = (uint32_t)c->cr.uid;
	hr.gid = (uint32_t)c->cr.gid;
	hr.pid = (uint32_t)c->cr.pid;
	hr.privileged = c->privileged;
	memcpy(r->body, &hr, sizeof(hr));
	r->body_len = sizeof(hr);
	return 0;
}

/* State checks, then the handler. */
static int
dispatch(struct gntdpd *d, struct d_conn *c, const void *buf, struct d_reply *r)
{
	const struct gntdp_ctl_hdr *h = buf;

	if (c->over_quota)
		return lim_refuse_conn(d, c, r);
	if (h->type == GNTDP_CTL_HELLO)
		return hello(d, c, buf, r);
	if (!c->hello)
		return d_fail(r, -EPROTO, "hdr.type: %s before HELLO (HELLO must come first)",
			      ctl_type_name(h->type));
	switch (h->type) {
	case GNTDP_CTL_DOMAIN_BIND:
		return dom_bind(d, c, buf, r);
	case GNTDP_CTL_RING_CREATE:
		return ring_create(d, c, buf, r);
	case GNTDP_CTL_RING_DESTROY:
		return ring_destroy_req(d, c, buf, r);
	case GNTDP_CTL_DOMAIN_CREATE:
		return dom_create(d, c, buf, r);
	case GNTDP_CTL_DOMAIN_DESTROY:
		return dom_destroy_req(d, c, buf, r);
	case GNTDP_CTL_DOMAIN_LIST:
		if (!c->privileged)
			return d_fail(r, -EPERM, "DOMAIN_LIST: uid %u is not privileged",
				      (unsigned int)c->cr.uid);
		return dom_list(d, buf, r);
	case GNTDP_CTL_NOTIFY_SET:
		return notify_set(d, c, buf, r);
	case GNTDP_CTL_NOTIFY_FIRE:
		return notify_fire(d, c, buf, r);
	case GNTDP_CTL_EVTCHN_SETUP:
		return d_evtchn_setup(d, c, buf, r);
	case GNTDP_CTL_EVTCHN_ALLOC_UNBOUND:
		return d_evtchn_alloc_unbound(d, c, buf, r);
	case GNTDP_CTL_EVTCHN_BIND_INTERDOMAIN:
		return d_evtchn_bind_interdomain(d, c, buf, r);
	case GNTDP_CTL_EVTCHN_CLOSE:
		return d_evtchn_close(d, c, buf, r);
	case GNTDP_CTL_EVTCHN_PEER:
		return d_evtchn_peer(d, c, buf, r);
	case GNTDP_CTL_EVTCHN_SEND:
		return d_evtchn_send_req(d, c, buf, r);
	case GNTDP_CTL_SHARE_ALLOC:
		return share_alloc(d, c, buf, r);
	case GNTDP_CTL_MAP_FD:
		return share_map_fd(d, c, buf, r);
	case GNTDP_CTL_SHARE_FREE:
		return share_free_req(d, c, buf, r);
	case GNTDP_CTL_DOMAIN_INFO:
		return info_domain(d, buf, r);
	}
	return d_fail(r, -EBADMSG, "hdr.type: %u", h->type);
}

/* Close every fd a request carried; true when there was any. */
static bool
drop_fds(struct msghdr *mh)
{
	bool any = (mh->msg_flags & MSG_CTRUNC) != 0;

	for (struct cmsghdr *cmh = CMSG_FIRSTHDR(mh); cmh != NULL; cmh = CMSG_NXTHDR(mh, cmh)) {
		any = true;
		if (cmh->cmsg_level == SOL_SOCKET && cmh->cmsg_type == SCM_RIGHTS) {
			size_t nb = (cmh->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fd;

			for (size_t i = 0; i < nb; i++) {
				memcpy(&fd, CMSG_DATA(cmh) + i * sizeof(int), sizeof(fd));
				close(fd);
			}
		}
	}
	return any;
}

/*
 * Read and serve one request. 1: served, 0: nothing to read, -1: the
 * connection was closed.
 */
static int
serve_one(struct gntdpd *d, struct d_conn *c, bool hup)
{
	/*
	 * Static: the control thread is the only caller. +1: a datagram longer
	 * than GNTDP_CTL_MAX_MSG is seen as one (MSG_TRUNC gives its length).
	 */
	static union {
		uint8_t raw[GNTDP_CTL_MAX_MSG + 1];
		struct gntdp_ctl_hdr h;
	} in;
	static struct d_reply r;
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_RX_FDS)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {.iov_base = in.raw, .iov_len = sizeof(in.raw)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	const struct gntdp_ctl_hdr *h = NULL;
	ssize_t n;
	int rc;

	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		ctl_close_conn(d, c, strerror(errno));
		return -1;
	}
	/*
	 * 0 bytes: EOF, or an empty datagram (SOCK_SEQPACKET allows one). The
	 * peer may have closed after this round's epoll_wait: ask again.
	 */
	if (n == 0 && !hup) {
		struct pollfd pf = {.fd = c->fd, .events = POLLRDHUP};

		hup = poll(&pf, 1, 0) == 1 && (pf.revents & (POLLRDHUP | POLLHUP)) != 0;
	}
	if (n == 0 && hup) {
		ctl_close_conn(d, c, "closed by the client");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	if (n >= (ssize_t)sizeof(struct gntdp_ctl_hdr))
		h = &in.h;
	if (drop_fds(&mh))
		rc = d_fail(&r, -EBADMSG, "SCM_RIGHTS: a request carries no fds (closed unread)");
	else if (n > (ssize_t)GNTDP_CTL_MAX_MSG)
		rc = d_fail(&r, -EMSGSIZE, "len: %zd bytes, above GNTDP_CTL_MAX_MSG (%u)", n,
			    GNTDP_CTL_MAX_MSG);
	else
		rc = ctl_check_frame(in.raw, (size_t)n, &r);
	/* Unframable (short, magic, version): answered as type 0. */
	if (h != NULL && (h->magic != GNTDP_CTL_MAGIC || h->version != GNTDP_CTL_VERSION))
		h = NULL;
	if (rc == 0)
		rc = dispatch(d, c, in.raw, &r);
	if (counts_as_bad(rc) && ++c->bad >= GNTDP_CTL_MAX_BAD_MSGS)
		r.close_after = true;
	if (rc != 0)
		APP_LOG(INFO, "gntdpd: pid %d: %s refused (%s): %s", (int)c->cr.pid,
			h != NULL ? ctl_type_name(h->type) : "message", strerror(-rc), r.why);
	if (send_reply(c, h, &r) != 0) {
		ctl_close_conn(d, c, "the reply could not be sent (the client does not read)");
		return -1;
	}
	if (r.close_after) {
		ctl_close_conn(d, c, c->bad >= GNTDP_CTL_MAX_BAD_MSGS ? "too many bad messages"
				     : c->over_quota ? "over its uid's connections limit"
						     : "its domain was destroyed");
		return -1;
	}
	return 1;
}

int
ctl_poll(struct gntdpd *d, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(d->epfd, evs, 32, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	pthread_mutex_lock(&d->lock);
	for (int i = 0; i < n; i++) {
		struct d_conn *c = evs[i].data.ptr;
		bool hup = (evs[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) != 0;

		if (evs[i].data.u64 == EV_LISTEN) {
			accept_one(d);
			continue;
		}
		/* A connection closed earlier in this round may still have an event here. */
		bool live = false;

		for (unsigned int j = 0; j < d->nb_conns && !live; j++)
			live = d->conns[j] == c;
		if (!live)
			continue;
		for (int k = 0; k < MSG_BURST; k++) {
			int rc = serve_one(d, c, hup);

			if (rc <= 0) {
				if (rc == 0 && hup)
					ctl_close_conn(d, c, "closed by the client");
				break;
			}
		}
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}
