/* SPDX-License-Identifier: MIT */
/*
 * libgntdp-client's side of the control protocol (gntdp/ctl.h): one
 * request, one reply, every reply checked against what was sent and what
 * arrived before anything in it is used.
 *
 * The daemon is trusted to be gntdpd, not to be bug-free: a reply that
 * breaks the framing (short, truncated, wrong magic, version, type, seq,
 * len, nfds against the fds that came, an error reply with a body or fds,
 * a why without its NUL) is -EPROTO, its fds are closed, and the
 * connection is marked broken: requests after it would be answered by
 * replies of unknown origin. A reply that does not come within the
 * connection's timeout marks it broken too (-ETIMEDOUT), for the same
 * reason (a late reply would be taken for the next request's). EOF, EPIPE
 * and ECONNRESET mark it dead (-EPIPE): every later call fails at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"

/* Room for more fds than a reply may carry, so extras are seen (and closed), not dropped. */
#define FD_ROOM (GNTDP_CTL_MAX_FDS + 4u)

int64_t
cl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cl_close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

void
cl_lock(struct gntdp_client *c)
{
	pthread_mutex_lock(&c->lock);
}

void
cl_unlock(struct gntdp_client *c)
{
	pthread_mutex_unlock(&c->lock);
}

int
cl_fail(struct gntdp_client *c, int err, const char *why)
{
	cl_lock(c);
	snprintf(c->why, sizeof(c->why), "%s", why);
	if (err == -EPIPE || err == -EPROTO || err == -ETIMEDOUT)
		c->dead = err;
	cl_unlock(c);
	return err;
}

/* Receive one datagram with its fds; 0 on EOF, <0 on error, else its length. */
static ssize_t
recv_one(int fd, uint8_t *buf, size_t size, int *fds, unsigned int *nfds, int *msg_flags)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(int) * FD_ROOM)];
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b)};
	ssize_t n;

	*nfds = 0;
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*msg_flags = mh.msg_flags;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*nfds < FD_ROOM)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	return n;
}

static int
check_socket_locked(struct gntdp_client *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	uint8_t buf[GNTDP_CTL_MAX_MSG];
	int fds[FD_ROOM], fl = 0;
	unsigned int nfds;
	ssize_t n;

	if (c->dead)
		return c->dead;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
		return cl_fail(c, -EPIPE, "the daemon closed the connection");
	/* Readable with no request outstanding: EOF, or a message nobody asked for. */
	n = recv_one(c->fd, buf, sizeof(buf), fds, &nfds, &fl);
	if (n == -EAGAIN)
		return 0;
	cl_close_fds(fds, nfds);
	if (n == 0 || n == -ECONNRESET || n == -EPIPE)
		return cl_fail(c, -EPIPE, "the daemon closed the connection");
	return cl_fail(c, -EPROTO, "reply: a message no request asked for");
}

int
cl_check_socket(struct gntdp_client *c)
{
	int rc;

	/*
	 * Under the lock: another thread's reply in flight makes the socket
	 * readable, and must be read by that thread's cl_request, not taken
	 * for a message nobody asked for.
	 */
	cl_lock(c);
	rc = check_socket_locked(c);
	cl_unlock(c);
	return rc;
}

/* Wait for the socket to become readable within the connection's timeout. */
static int
wait_reply(struct gntdp_client *c)
{
	int64_t end = cl_now_ms() + c->timeout_ms;

	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int64_t left = end - cl_now_ms();
		int rc;

		if (left < 0)
			left = 0;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return cl_fail(c, -ETIMEDOUT, "reply: none within the timeout");
		if (errno != EINTR)
			return cl_fail(c, -EPIPE, "reply: poll failed");
	}
}

/* The framing checks of one reply; a static string naming the rule broken, or NULL. */
static const char *
check_reply(const struct cl_req *q, const struct gntdp_ctl_reply *rp, ssize_t n, int msg_flags,
	    unsigned int nfds, uint32_t seq)
{
	if (msg_flags & MSG_TRUNC)
		return "reply: longer than GNTDP_CTL_MAX_MSG";
	if (msg_flags & MSG_CTRUNC)
		return "reply: more fds than GNTDP_CTL_MAX_FDS";
	if ((size_t)n < sizeof(*rp))
		return "reply: shorter than struct gntdp_ctl_reply";
	if (rp->hdr.magic != GNTDP_CTL_MAGIC)
		return "reply: wrong magic";
	if (rp->hdr.version != GNTDP_CTL_VERSION)
		return "reply: wrong version";
	if (rp->hdr.type != (q->type | GNTDP_CTL_REPLY))
		return "reply: type is not the request's | GNTDP_CTL_REPLY";
	if (rp->hdr.seq != seq)
		return "reply: seq is not the request's";
	if (rp->hdr.len != (uint32_t)n)
		return "reply: len is not the datagram's size";
	if (rp->nfds != nfds)
		return "reply: nfds is not the number of fds attached";
	if (memchr(rp->why, '\0', sizeof(rp->why)) == NULL)
		return "reply: why is not NUL-terminated";
	if (rp->err != 0) {
		if (rp->err > 0 || rp->err < -4095)
			return "reply: err is not a negative errno";
		if (nfds != 0 || (size_t)n != sizeof(*rp))
			return "reply: an error reply with a body or fds";
		return NULL;
	}
	if ((size_t)n - sizeof(*rp) < q->body_min || (size_t)n - sizeof(*rp) > q->body_max)
		return "reply: body size is wrong for the type";
	if (nfds < q->nfds_min || nfds > q->nfds_max)
		return "reply: not the fds the type carries";
	return NULL;
}

static int
request_locked(struct gntdp_client *c, struct cl_req *q)
{
	uint8_t buf[GNTDP_CTL_MAX_MSG + 1];
	struct gntdp_ctl_hdr *h = q->msg;
	const struct gntdp_ctl_reply *rp = (const void *)buf;
	const char *bad;
	unsigned int nfds = 0;
	int fl = 0, rc;
	ssize_t n;

	q->body_len = 0;
	if (c->dead)
		return c->dead;
	/* Anything already waiting is EOF or garbage: find out before sending. */
	rc = check_socket_locked(c);
	if (rc < 0)
		return rc;
	h->magic = GNTDP_CTL_MAGIC;
	h->version = GNTDP_CTL_VERSION;
	h->type = q->type;
	h->len = (uint32_t)q->len;
	h->seq = ++c->seq;
	do {
		n = send(c->fd, q->msg, q->len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return cl_fail(c, -ETIMEDOUT, "request: the daemon does not read (send timed out)");
	if (n < 0)
		return cl_fail(c, -EPIPE, "request: the daemon is gone (send failed)");
	if ((size_t)n != q->len)
		return cl_fail(c, -EPROTO, "request: short send");
	for (;;) {
		rc = wait_reply(c);
		if (rc < 0)
			return rc;
		n = recv_one(c->fd, buf, sizeof(buf) - 1, q->fds, &nfds, &fl);
		if (n != -EAGAIN)
			break;
	}
	if (n == 0 || n == -ECONNRESET || n == -EPIPE) {
		cl_close_fds(q->fds, nfds);
		return cl_fail(c, -EPIPE, "reply: the daemon closed the connection");
	}
	if (n < 0) {
		cl_close_fds(q->fds, nfds);
		return cl_fail(c, -EPIPE, "reply: recvmsg failed");
	}
	bad = check_reply(q, rp, n, fl, nfds, h->seq);
	if (bad != NULL) {
		cl_close_fds(q->fds, nfds);
		return cl_fail(c, -EPROTO, bad);
	}
	if (rp->err != 0) {
		memcpy(c->why, rp->why, sizeof(c->why)); /* NUL inside: checked */
		return rp->err;
	}
	c->why[0] = '\0';
	q->nfds = nfds;
	q->body_len = (size_t)n - sizeof(*rp);
	if (q->body != NULL)
		memcpy(q->body, buf + sizeof(*rp), q->body_len);
	return 0;
}

int
cl_request(struct gntdp_client *c, struct cl_req *q)
{
	int rc;

	cl_lock(c);
	rc = request_locked(c, q);
	cl_unlock(c);
	return rc;
}
