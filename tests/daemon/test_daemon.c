/* SPDX-License-Identifier: MIT */
/*
 * gntdpd over its raw control protocol (gntdp/ctl.h), no client library:
 * the test starts the daemon on a socket in a temporary directory, then
 * speaks to it as client processes would (suite "daemon"):
 *
 *   test_daemon GNTDPD GNTDPCTL CONFIG
 *
 * hello; every kind of garbage (an error reply with a why, the daemon goes
 * on serving); the 16th bad message closes; the ACL as an unprivileged uid
 * (root only); gntdpctl; DOMAIN_CREATE/DESTROY; then with memory: bind,
 * map the fds, the seals and the read-only status fd, a v1 grant and a
 * GNTTABOP_copy between two processes checked byte for byte, setup_table
 * with a frame_list outside the caller's RAM, kill -9 of a client holding
 * grants with a ring in flight, and the daemon killed under a waiting
 * client. Exit 0, 1 (a check failed) or 77 (no daemon could start here).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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

#include <gntdp/ctl.h>
#include <gntdp/gnttab.h>
#include <gntdp/hcall.h>

#include "tcommon.h"
#include "tdaemon.h"

#define PAGE GNTDP_PAGE_SIZE
#define TIMEOUT_MS 5000
#define NOBODY 65534u

static const char *g_daemon, *g_ctl, *g_config;
static char g_dir[64], g_sock[100], g_log[100];
static pid_t g_pid = -1;
static bool g_root, g_mem; /* running as root; the daemon can bind domains */

#define FAIL(...)                                                                              \
	do {                                                                                   \
		fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__);                            \
		fprintf(stderr, __VA_ARGS__);                                                  \
		fputc('\n', stderr);                                                           \
		return -1;                                                                     \
	} while (0)
#define CHECK(c, ...)                                                                          \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #c);            \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			return -1;                                                             \
		}                                                                              \
	} while (0)

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the daemon ------------------------------------------------------------- */

static int
conn_open(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_sock);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Start gntdpd; 0 once its socket answers, 77 when it exits with 77, -1 otherwise. */
static int
daemon_start(void)
{
	const char *sets[] = {g_root ? "socket.group=nogroup" : "socket.group=",
			      "domains.max_rings=4",
			      "domains.max_domains=16",
			      "acl1.user=nobody",
			      "acl1.domids=200-209",
			      NULL};

	return td_daemon_start(g_daemon, g_config, g_sock, g_log, sets, &g_pid);
}

/* SIGTERM: exit 0, the socket removed. */
static int
daemon_stop(void)
{
	struct stat st;
	char rt[64];
	int status = 0;
	pid_t pid = g_pid;

	if (g_pid < 0)
		return 0;
	kill(g_pid, SIGTERM);
	CHECK(waitpid(g_pid, &status, 0) == g_pid, "waitpid");
	g_pid = -1;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	CHECK(stat(g_sock, &st) != 0 && errno == ENOENT, "the socket was left behind");
	snprintf(rt, sizeof(rt), "/var/run/dpdk/gntdpd-%d", (int)pid);
	CHECK(!g_root || (stat(rt, &st) != 0 && errno == ENOENT), "%s was left behind", rt);
	return 0;
}

/* ---- raw messages ------------------------------------------------------------- */

struct rep {
	union {
		struct gntdp_ctl_reply r;
		uint8_t raw[GNTDP_CTL_MAX_MSG + 64];
	};
	ssize_t n;
	int fds[8];
	unsigned int nfds;
};

static void
mkhdr(void *m, uint16_t type, uint32_t len, uint32_t seq)
{
	struct gntdp_ctl_hdr h = {.magic = GNTDP_CTL_MAGIC, .version = GNTDP_CTL_VERSION,
				  .type = type, .len = len, .seq = seq};

	memcpy(m, &h, sizeof(h));
}

/* One reply within TIMEOUT_MS: n > 0, 0 on EOF, -ETIMEDOUT, -errno. */
static ssize_t
recv_rep(int fd, struct rep *p)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {.iov_base = p->raw, .iov_len = sizeof(p->raw)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	struct pollfd pf = {.fd = fd, .events = POLLIN};

	p->nfds = 0;
	if (poll(&pf, 1, TIMEOUT_MS) != 1)
		return p->n = -ETIMEDOUT;
	p->n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (p->n < 0)
		return p->n = -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			unsigned int nb = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			memcpy(p->fds, CMSG_DATA(c), sizeof(int) * nb);
			p->nfds = nb;
		}
	}
	return p->n;
}

/* Send @p len bytes (with @p sendfd attached when >= 0) and read the reply: 0 or -errno. */
static int
rpc_fd(int fd, const void *req, size_t len, int sendfd, struct rep *p)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)req, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (sendfd >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &sendfd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	if (recv_rep(fd, p) <= 0)
		return p->n == 0 ? -ECONNRESET : (int)p->n;
	return 0;
}

static int
rpc(int fd, const void *req, size_t len, struct rep *p)
{
	return rpc_fd(fd, req, len, -1, p);
}

/* The reply is well formed for request type @p type (0: unframable) and carries @p err. */
static int
check_rep(const struct rep *p, uint16_t type, uint32_t seq, int err)
{
	CHECK(p->n >= (ssize_t)sizeof(p->r), "reply of %zd bytes", p->n);
	CHECK(p->r.hdr.magic == GNTDP_CTL_MAGIC && p->r.hdr.version == GNTDP_CTL_VERSION, "hdr");
	CHECK(p->r.hdr.len == (uint32_t)p->n, "len %u, got %zd", p->r.hdr.len, p->n);
	CHECK(p->r.hdr.type == (GNTDP_CTL_REPLY | type), "type 0x%x, want 0x%x", p->r.hdr.type,
	      GNTDP_CTL_REPLY | type);
	CHECK(type == 0 || p->r.hdr.seq == seq, "seq %u, want %u", p->r.hdr.seq, seq);
	CHECK(p->r.err == err, "err %d (%s), want %d; why: %.*s", p->r.err, strerror(-p->r.err),
	      err, (int)GNTDP_CTL_WHY_SIZE, p->r.why);
	CHECK(memchr(p->r.why, '\0', GNTDP_CTL_WHY_SIZE) != NULL, "why not terminated");
	CHECK(err == 0 ? p->r.why[0] == '\0' : p->r.why[0] != '\0', "why: '%s'", p->r.why);
	CHECK(p->r.nfds == p->nfds, "nfds %u, %u attached", p->r.nfds, p->nfds);
	return 0;
}

static int
hello(int fd, struct gntdp_ctl_hello_reply *out)
{
	struct gntdp_ctl_hello m = {.min_version = 1, .max_version = 1};
	struct rep p;

	mkhdr(&m, GNTDP_CTL_HELLO, sizeof(m), 1);
	CHECK(rpc(fd, &m, sizeof(m), &p) == 0, "hello rpc");
	if (check_rep(&p, GNTDP_CTL_HELLO, 1, 0) != 0)
		return -1;
	CHECK(p.n == (ssize_t)(sizeof(p.r) + sizeof(*out)), "hello reply size %zd", p.n);
	if (out != NULL)
		memcpy(out, p.raw + sizeof(p.r), sizeof(*out));
	return 0;
}

/* A connection after HELLO, or -1. */
static int
conn_hello(void)
{
	int fd = conn_open();

	if (fd < 0 || hello(fd, NULL) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* ---- framing and state ------------------------------------------------------------ */

static int
test_hello(void)
{
	struct gntdp_ctl_hello_reply hr;
	int fd = conn_open();

	CHECK(fd >= 0, "connect: %s", strerror(-fd));
	if (hello(fd, &hr) != 0)
		return -1;
	CHECK(hr.version == 1 && hr.page_size == PAGE && hr.nb_workers == 1 && hr.max_rings == 4,
	      "version %u page %u workers %u rings %u", hr.version, hr.page_size, hr.nb_workers,
	      hr.max_rings);
	CHECK(hr.uid == getuid() && hr.gid == getgid() && hr.pid == (uint32_t)getpid(),
	      "peer %u/%u/%u", hr.uid, hr.gid, hr.pid);
	CHECK(hr.privileged == (g_root ? 1u : 0u), "privileged %u", hr.privileged);
	close(fd);
	return 0;
}

/* Send raw bytes, expect an error reply of @p type with @p err. */
static int
expect(int fd, const void *buf, size_t len, uint16_t type, int err)
{
	struct gntdp_ctl_hdr h = {0};
	struct rep p;

	if (len >= sizeof(h))
		memcpy(&h, buf, sizeof(h));
	CHECK(rpc(fd, buf, len, &p) == 0, "no reply (len %zu)", len);
	return check_rep(&p, type, h.seq, err);
}

static int
test_garbage(void)
{
	uint8_t big[GNTDP_CTL_MAX_MSG + 100];
	struct gntdp_ctl_hello hm = {.min_version = 1, .max_version = 1};
	struct gntdp_ctl_ring_destroy rd = {0};
	struct gntdp_ctl_domain_list dl = {0};
	struct gntdp_ctl_ring rc = {.sq_entries = 8, .cq_entries = 8, .worker = UINT32_MAX};
	struct gntdp_ctl_hdr h;
	int fd = conn_open(), fd2, pfd[2];
	char c;

	CHECK(fd >= 0, "connect");
	/* Before HELLO, each request is refused and the connection still speaks. */
	mkhdr(&dl, GNTDP_CTL_DOMAIN_LIST, sizeof(dl), 7);
	if (expect(fd, &dl, sizeof(dl), GNTDP_CTL_DOMAIN_LIST, -EPROTO) != 0)
		return -1;
	if (hello(fd, NULL) != 0)
		return -1;
	mkhdr(&hm, GNTDP_CTL_HELLO, sizeof(hm), 8);
	if (expect(fd, &hm, sizeof(hm), GNTDP_CTL_HELLO, -EALREADY) != 0)
		return -1;
	/* Unframable: short, zero-length, magic, version. */
	if (expect(fd, "\x47\x43\x74\x6c\x01", 5, 0, -EBADMSG) != 0 || expect(fd, "", 0, 0, -EBADMSG))
		return -1;
	mkhdr(&h, GNTDP_CTL_HELLO, sizeof(h), 9);
	h.magic ^= 1;
	if (expect(fd, &h, sizeof(h), 0, -EBADMSG) != 0)
		return -1;
	mkhdr(&h, GNTDP_CTL_HELLO, sizeof(h), 9);
	h.version = 2;
	if (expect(fd, &h, sizeof(h), 0, -EPROTO) != 0)
		return -1;
	/* Lengths: the header's against the datagram, the type's exact size, the maximum. */
	mkhdr(&hm, GNTDP_CTL_HELLO, sizeof(hm) + 8, 10);
	if (expect(fd, &hm, sizeof(hm), GNTDP_CTL_HELLO, -EBADMSG) != 0)
		return -1;
	mkhdr(&hm, GNTDP_CTL_HELLO, sizeof(hm) - 4, 11);
	if (expect(fd, &hm, sizeof(hm) - 4, GNTDP_CTL_HELLO, -EBADMSG) != 0)
		return -1;
	memset(big, 0, sizeof(big));
	memcpy(big, &hm, sizeof(hm));
	mkhdr(big, GNTDP_CTL_HELLO, sizeof(hm) + 4, 12);
	if (expect(fd, big, sizeof(hm) + 4, GNTDP_CTL_HELLO, -EBADMSG) != 0)
		return -1;
	mkhdr(big, GNTDP_CTL_HELLO, sizeof(big), 13);
	if (expect(fd, big, sizeof(big), GNTDP_CTL_HELLO, -EMSGSIZE) != 0)
		return -1;
	/* Types: unknown, a reply type, a type of another branch (not served), a short body. */
	mkhdr(&h, 99, sizeof(h), 14);
	if (expect(fd, &h, sizeof(h), 99, -EBADMSG) != 0)
		return -1;
	mkhdr(&h, GNTDP_CTL_REPLY | GNTDP_CTL_HELLO, sizeof(h), 15);
	if (expect(fd, &h, sizeof(h), GNTDP_CTL_REPLY | GNTDP_CTL_HELLO, -EBADMSG) != 0)
		return -1;
	mkhdr(&h, 17, sizeof(h), 16); /* 17..19: spare event-channel numbers */
	if (expect(fd, &h, sizeof(h), 17, -EOPNOTSUPP) != 0)
		return -1;
	close(fd);
	/* A fresh connection for the rest: the bad-message count is per connection. */
	fd = conn_hello();
	CHECK(fd >= 0, "second connection");
	mkhdr(&h, GNTDP_CTL_MAP_FD, sizeof(h), 17);
	if (expect(fd, &h, sizeof(h), GNTDP_CTL_MAP_FD, -EBADMSG) != 0)
		return -1;
	/* Reserved fields. */
	mkhdr(&rd, GNTDP_CTL_RING_DESTROY, sizeof(rd), 18);
	rd.rsvd = 1;
	if (expect(fd, &rd, sizeof(rd), GNTDP_CTL_RING_DESTROY, -EINVAL) != 0)
		return -1;
	/* State: a ring before any bind; a ring id that is not ours. */
	mkhdr(&rc, GNTDP_CTL_RING_CREATE, sizeof(rc), 19);
	if (expect(fd, &rc, sizeof(rc), GNTDP_CTL_RING_CREATE, -ENOTCONN) != 0)
		return -1;
	rd.rsvd = 0;
	rd.ring_id = 12345;
	if (expect(fd, &rd, sizeof(rd), GNTDP_CTL_RING_DESTROY, -ENOENT) != 0)
		return -1;
	/* fds attached: refused, and the daemon keeps no copy (EOF once ours is closed). */
	CHECK(pipe(pfd) == 0, "pipe");
	mkhdr(&dl, GNTDP_CTL_DOMAIN_LIST, sizeof(dl), 20);
	{
		struct rep p;

		CHECK(rpc_fd(fd, &dl, sizeof(dl), pfd[1], &p) == 0, "rpc with an fd");
		if (check_rep(&p, GNTDP_CTL_DOMAIN_LIST, 20, -EBADMSG) != 0)
			return -1;
	}
	close(pfd[1]);
	CHECK(read(pfd[0], &c, 1) == 0, "the daemon kept the attached fd");
	close(pfd[0]);
	/* The daemon serves another connection meanwhile, and this one still. */
	fd2 = conn_hello();
	CHECK(fd2 >= 0, "another connection");
	close(fd2);
	if (g_root && expect(fd, &dl, sizeof(dl), GNTDP_CTL_DOMAIN_LIST, 0) != 0)
		return -1;
	close(fd);
	return 0;
}

static int
test_max_bad(void)
{
	struct gntdp_ctl_hdr h;
	struct rep p;
	int fd = conn_hello();

	CHECK(fd >= 0, "connect");
	mkhdr(&h, GNTDP_CTL_HELLO, sizeof(h), 1);
	h.magic = 0;
	/* GNTDP_CTL_MAX_BAD_MSGS - 1 bad ones, then a good one is still served. */
	for (unsigned int i = 0; i + 1 < GNTDP_CTL_MAX_BAD_MSGS; i++) {
		if (expect(fd, &h, sizeof(h), 0, -EBADMSG) != 0)
			return -1;
	}
	/* (unprivileged, DOMAIN_LIST would be refused and count as bad too) */
	if (g_root) {
		struct gntdp_ctl_domain_list dl = {0};

		mkhdr(&dl, GNTDP_CTL_DOMAIN_LIST, sizeof(dl), 2);
		if (expect(fd, &dl, sizeof(dl), GNTDP_CTL_DOMAIN_LIST, 0) != 0)
			return -1;
	}
	/* The MAX-th bad message is answered, then the connection closes. */
	if (expect(fd, &h, sizeof(h), 0, -EBADMSG) != 0)
		return -1;
	CHECK(recv_rep(fd, &p) == 0, "not closed after %u bad messages (%zd)",
	      GNTDP_CTL_MAX_BAD_MSGS, p.n);
	close(fd);
	fd = conn_hello();
	CHECK(fd >= 0, "the daemon stopped serving");
	close(fd);
	return 0;
}

/* ---- domains ------------------------------------------------------------------- */

static void
mkdom(struct gntdp_ctl_domain *m, uint16_t type, uint32_t domid, uint32_t flags, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	mkhdr(m, type, sizeof(*m), seq);
	m->domid = domid;
	m->flags = flags;
}

static void
close_fds(struct rep *p)
{
	for (unsigned int i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	p->nfds = 0;
}

/* DOMAIN_LIST from @p fd: whether @p domid is listed (bound into *bound), or -1. */
static int
listed(int fd, uint32_t domid, uint32_t *bound)
{
	struct gntdp_ctl_domain_list dl = {0};
	const struct gntdp_ctl_domain_list_reply *lr;
	const struct gntdp_ctl_domain_entry *e;
	struct rep p;

	mkhdr(&dl, GNTDP_CTL_DOMAIN_LIST, sizeof(dl), 3);
	if (rpc(fd, &dl, sizeof(dl), &p) != 0 || check_rep(&p, GNTDP_CTL_DOMAIN_LIST, 3, 0) != 0)
		return -1;
	lr = (const void *)(p.raw + sizeof(p.r));
	e = (const void *)(lr + 1);
	CHECK(p.n == (ssize_t)(sizeof(p.r) + sizeof(*lr) + lr->count * sizeof(*e)), "list size");
	for (uint32_t i = 0; i < lr->count; i++) {
		if (e[i].domid == domid) {
			if (bound != NULL)
				*bound = e[i].bound;
			return 1;
		}
	}
	return 0;
}

/*
 * Run @p argv (NULL-terminated) as @p uid/gid to its end: its exit status,
 * its stdout (and stderr with @p err2) in @p out.
 */
static int
run_capture(const char *const *argv, uid_t uid, gid_t gid, bool err2, char *out, size_t len)
{
	char path[160];
	pid_t pid;
	int st, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/run.out", g_dir);
	pid = fork();
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		if (err2)
			dup2(fd, 2);
		if (uid != getuid() && (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0))
			_exit(126);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, out, len - 1) : -1;
	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run gntdpctl; its exit status, stdout in @p out. */
static int
run_ctl(bool json, uid_t uid, gid_t gid, char *out, size_t len)
{
	const char *argv[] = {g_ctl, "--socket", g_sock, json ? "--json" : NULL, NULL};

	return run_capture(argv, uid, gid, false, out, len);
}

static int
test_create_list(void)
{
	struct gntdp_ctl_domain m;
	struct gntdp_ctl_domain_destroy dd = {0};
	char out[4096];
	uint32_t bound = 9;
	int fd, rc;

	if (!g_root) {
		printf("SKIP test_create_list: DOMAIN_CREATE is privileged (run as root)\n");
		return 0;
	}
	fd = conn_hello();
	CHECK(fd >= 0, "connect");
	/* Values: a reserved domid, limits above the daemon's, a version of 3, flags. */
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, GNTDP_DOMID_SELF, 0, 1);
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, -EINVAL) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, 50, 0, 2);
	m.max_grant_frames = GNTDP_MAX_GRANT_FRAMES_LIMIT + 1;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, -EINVAL) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, 50, 0, 3);
	m.max_grant_version = 3;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, -EINVAL) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, 50, 1, 4);
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, -EINVAL) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, 50, 0, 5);
	m.rsvd[1] = 5;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, -EINVAL) != 0)
		return -1;
	CHECK(listed(fd, 50, NULL) == 0, "a refused create left domain 50");
	/* A good one: listed unbound, by DOMAIN_LIST and by gntdpctl (text and JSON). */
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, 50, 0, 6);
	m.nr_frames = 16;
	m.max_grant_frames = 2;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, 0) != 0)
		return -1;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, -EEXIST) != 0)
		return -1;
	CHECK(listed(fd, 50, &bound) == 1 && bound == 0, "domain 50 not listed unbound");
	rc = run_ctl(false, getuid(), getgid(), out, sizeof(out));
	CHECK(rc == 0 && strstr(out, "domid") != NULL && strstr(out, "    50    no") != NULL,
	      "gntdpctl: %d: %s", rc, out);
	rc = run_ctl(true, getuid(), getgid(), out, sizeof(out));
	CHECK(rc == 0 && strstr(out, "\"domains\":[{\"domid\":50,\"bound\":false,") != NULL,
	      "gntdpctl --json: %d: %s", rc, out);
	rc = run_ctl(false, NOBODY, NOBODY, out, sizeof(out));
	CHECK(rc == 1, "gntdpctl as nobody: %d", rc);
	/* Destroy: gone; again: -ESRCH. */
	mkhdr(&dd, GNTDP_CTL_DOMAIN_DESTROY, sizeof(dd), 7);
	dd.domid = 50;
	if (expect(fd, &dd, sizeof(dd), GNTDP_CTL_DOMAIN_DESTROY, 0) != 0 ||
	    expect(fd, &dd, sizeof(dd), GNTDP_CTL_DOMAIN_DESTROY, -ESRCH) != 0)
		return -1;
	CHECK(listed(fd, 50, NULL) == 0, "domain 50 still listed");
	close(fd);
	return 0;
}

/* ---- a client domain: its fds, mappings and a ring ------------------------------ */

struct cl {
	int fd;
	struct gntdp_ctl_domain_reply dr;
	int ram_fd, tab_fd, st_fd;
	uint8_t *ram;
	struct gntdp_grant_entry_v1 *tab;
	const uint8_t *status;
	void *rmem;
	size_t rsize;
	int efd;
	uint32_t ring_id;
	struct gntdp_hcall_client hc;
};

/* A client left bound when the daemon gets SIGTERM. */
static struct cl g_last = {.fd = -1};

/* Whether @p fd is what its name in /proc says it is: "/memfd:...", "anon_inode:[eventfd]". */
static bool
fd_is(int fd, const char *prefix)
{
	char path[64], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strncmp(target, prefix, strlen(prefix)) == 0;
}

/* DOMAIN_BIND (create) on a fresh connection and map the fds. 0, or the daemon's err. */
static int
cl_bind(struct cl *c, uint32_t domid, uint32_t nr_frames)
{
	struct gntdp_ctl_domain m;
	struct rep p;
	int rc;

	memset(c, 0, sizeof(*c));
	c->ram_fd = c->tab_fd = c->st_fd = c->efd = -1;
	c->fd = conn_hello();
	CHECK(c->fd >= 0, "connect");
	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, domid, GNTDP_CTL_BIND_CREATE, 5);
	m.nr_frames = nr_frames;
	m.max_grant_frames = 4;
	m.max_grant_version = 2;
	CHECK(rpc(c->fd, &m, sizeof(m), &p) == 0, "bind rpc");
	if (p.r.err != 0)
		return p.r.err;
	if (check_rep(&p, GNTDP_CTL_DOMAIN_BIND, 5, 0) != 0)
		return -1;
	CHECK(p.n == (ssize_t)(sizeof(p.r) + sizeof(c->dr)), "bind reply size");
	memcpy(&c->dr, p.raw + sizeof(p.r), sizeof(c->dr));
	CHECK(c->dr.domid == domid && c->dr.nr_frames == nr_frames && c->dr.max_grant_frames == 4 &&
	      c->dr.nr_status_frames == 1 && c->dr.max_grant_version == 2, "bind reply fields");
	CHECK(p.nfds == 3, "%u fds", p.nfds);
	/* Memfds, nothing else of the daemon's (its hugepage files, sockets, ...). */
	for (unsigned int i = 0; i < 3; i++)
		CHECK(fd_is(p.fds[i], "/memfd:"), "fd %u is not a memfd", i);
	c->ram_fd = p.fds[0];
	c->tab_fd = p.fds[1];
	c->st_fd = p.fds[2];
	c->ram = mmap(NULL, (size_t)nr_frames * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, c->ram_fd,
		      0);
	c->tab = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, c->tab_fd, 0);
	c->status = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, c->st_fd, 0);
	CHECK(c->ram != MAP_FAILED && (void *)c->tab != MAP_FAILED &&
	      (const void *)c->status != MAP_FAILED, "mmap: %s", strerror(errno));
	rc = fcntl(c->ram_fd, F_GETFD);
	CHECK(rc >= 0 && (rc & FD_CLOEXEC), "RAM fd without CLOEXEC");
	return 0;
}

/* DOMAIN_INFO from @p fd: 0 and *ir, or the daemon's err. */
static int
dominfo(int fd, uint32_t domid, uint32_t rsvd, struct gntdp_ctl_domain_info_reply *ir)
{
	struct gntdp_ctl_domain_info m = {.domid = domid, .rsvd = rsvd};
	struct rep p;

	mkhdr(&m, GNTDP_CTL_DOMAIN_INFO, sizeof(m), 22);
	CHECK(rpc(fd, &m, sizeof(m), &p) == 0, "DOMAIN_INFO rpc");
	if (p.r.err != 0) {
		CHECK(check_rep(&p, GNTDP_CTL_DOMAIN_INFO, 22, p.r.err) == 0 && p.nfds == 0,
		      "error reply");
		return p.r.err;
	}
	if (check_rep(&p, GNTDP_CTL_DOMAIN_INFO, 22, 0) != 0)
		return -1;
	CHECK(p.n == (ssize_t)(sizeof(p.r) + sizeof(*ir)) && p.nfds == 0, "DOMAIN_INFO reply size");
	memcpy(ir, p.raw + sizeof(p.r), sizeof(*ir));
	return 0;
}

/*
 * DOMAIN_INFO on a connection that bound nothing: a bound domain with its
 * size and flags, the first domain at or above a free domid, -ESRCH above
 * the last, -EINVAL for a reserved domid or rsvd; gone once its client
 * closes.
 */
static int
test_domain_info(void)
{
	struct gntdp_ctl_domain_info_reply ir;
	struct cl c;
	int fd, rc;

	fd = conn_hello();
	CHECK(fd >= 0, "connect");
	CHECK(cl_bind(&c, 97, 16) == 0, "bind domain 97");
	rc = dominfo(fd, 97, 0, &ir);
	CHECK(rc == 0 && ir.domid == 97 && ir.flags == GNTDP_CTL_DOMINFO_BOUND &&
	      ir.nr_frames == 16 && ir.max_grant_frames == 4 && ir.nr_rings == 0 &&
	      ir.rsvd[0] == 0 && ir.rsvd[1] == 0 && ir.rsvd[2] == 0,
	      "domain 97: rc %d domid %u flags %#x frames %u", rc, ir.domid, ir.flags,
	      ir.nr_frames);
	rc = dominfo(fd, 96, 0, &ir);
	CHECK(rc == 0 && ir.domid == 97, "first at or above 96: rc %d domid %u", rc, ir.domid);
	CHECK(dominfo(fd, GNTDP_DOMID_FIRST_RESERVED - 1, 0, &ir) == -ESRCH, "above the last");
	CHECK(dominfo(fd, GNTDP_DOMID_FIRST_RESERVED, 0, &ir) == -EINVAL, "reserved domid");
	CHECK(dominfo(fd, 97, 1, &ir) == -EINVAL, "rsvd");
	close(c.fd);
	for (int i = 0; i < 200; i++) {
		rc = dominfo(fd, 97, 0, &ir);
		if (rc != 0 || ir.domid != 97)
			break;
		usleep(10000);
	}
	CHECK(rc == -ESRCH || (rc == 0 && ir.domid > 97), "domain 97 still there (rc %d)", rc);
	close(fd);
	return 0;
}

static int
cl_ring(struct cl *c, bool eventfd)
{
	struct gntdp_ctl_ring m = {.sq_entries = 64, .cq_entries = 64,
				   .flags = eventfd ? GNTDP_CTL_RING_EVENTFD : 0,
				   .worker = GNTDP_CTL_ANY_WORKER};
	struct gntdp_ctl_ring_reply rr;
	struct rep p;

	mkhdr(&m, GNTDP_CTL_RING_CREATE, sizeof(m), 6);
	CHECK(rpc(c->fd, &m, sizeof(m), &p) == 0, "ring rpc");
	if (check_rep(&p, GNTDP_CTL_RING_CREATE, 6, 0) != 0)
		return -1;
	memcpy(&rr, p.raw + sizeof(p.r), sizeof(rr));
	CHECK(p.nfds == (eventfd ? 2u : 1u), "%u fds", p.nfds);
	CHECK(fd_is(p.fds[0], "/memfd:") && (!eventfd || fd_is(p.fds[1], "anon_inode:[eventfd]")),
	      "ring fds are not a memfd and an eventfd");
	c->rsize = rr.mem_size;
	c->ring_id = rr.ring_id;
	c->rmem = mmap(NULL, c->rsize, PROT_READ | PROT_WRITE, MAP_SHARED, p.fds[0], 0);
	CHECK(c->rmem != MAP_FAILED, "ring mmap");
	/* The region is sealed: the client cannot shrink it under the worker. */
	CHECK(ftruncate(p.fds[0], 0) != 0 && errno == EPERM, "ring memfd not sealed");
	close(p.fds[0]);
	c->efd = eventfd ? p.fds[1] : -1;
	CHECK(gntdp_hcall_client_init(&c->hc, c->rmem, c->rsize) == 0, "client_init");
	return 0;
}

static uint64_t
gaddr(const struct cl *c, const void *p)
{
	return (uint64_t)((const uint8_t *)p - c->ram);
}

/* One hypercall, waited for: its rc, or -ETIMEDOUT / -EPIPE (ring disabled). */
static int
cl_hcall(struct cl *c, unsigned int cmd, const void *ops, unsigned int count)
{
	static uint64_t ud = 100;
	struct gntdp_hcall_sqe s = {.user_data = ++ud, .gaddr = gaddr(c, ops), .cmd = cmd,
				    .count = count};
	struct gntdp_hcall_cqe q;
	uint64_t t0 = now_ms();

	if (gntdp_hcall_client_submit(&c->hc, &s, 1) != 1)
		return -EPIPE;
	while (gntdp_hcall_client_reap(&c->hc, &q, 1) == 0) {
		if (gntdp_hcall_client_disabled(&c->hc, NULL))
			return -EPIPE;
		if (now_ms() - t0 > TIMEOUT_MS)
			return -ETIMEDOUT;
		usleep(20);
	}
	return q.user_data == ud ? q.rc : -EPROTO;
}

/* One byte from a pipe within 2 x TIMEOUT_MS (a child that died closes its end). */
static bool
wait_byte(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	char b;

	return poll(&pf, 1, 2 * TIMEOUT_MS) == 1 && read(fd, &b, 1) == 1;
}

static uint8_t
pattern(uint32_t frame, uint32_t i)
{
	return (uint8_t)(frame * 31u + i * 7u + 1u);
}

/* A copy of @p len bytes: source and dest each a gref (dom, ref) or own gfn (dom SELF). */
static void
mkcopy(struct gntdp_gnttab_copy *op, uint16_t sdom, uint64_t s, uint16_t ddom, uint64_t dst,
       uint16_t len)
{
	memset(op, 0, sizeof(*op));
	op->source.domid = sdom;
	op->dest.domid = ddom;
	if (sdom == GNTDP_DOMID_SELF)
		op->source.u.gmfn = s;
	else
		op->source.u.ref = (uint32_t)s, op->flags |= GNTDP_GNTCOPY_SOURCE_GREF;
	if (ddom == GNTDP_DOMID_SELF)
		op->dest.u.gmfn = dst;
	else
		op->dest.u.ref = (uint32_t)dst, op->flags |= GNTDP_GNTCOPY_DEST_GREF;
	op->len = len;
	op->status = 99;
}

/* ---- memory: the invariant and a cross-process copy ---------------------------- */

/* Domain 1 (child A): fill frame 3, grant it read-only to domain 2 as ref 10. */
static int
child_granter(int ready, int go)
{
	struct cl a;
	char b = 'g';

	if (cl_bind(&a, 1, 32) != 0)
		return -1;
	for (uint32_t i = 0; i < PAGE; i++)
		a.ram[3 * PAGE + i] = pattern(3, i);
	CHECK(gntdp_guest_grant_access(&a.tab[10], 2, 3, true) == 0, "grant");
	memset(a.ram + 4 * PAGE, 0, PAGE);
	CHECK(gntdp_guest_grant_access(&a.tab[13], 2, 4, false) == 0, "grant rw");
	CHECK(write(ready, &b, 1) == 1, "ready");
	CHECK(wait_byte(go), "go");
	/* Nothing the grantee did changed our memory. */
	for (uint32_t i = 0; i < PAGE; i++)
		CHECK(a.ram[3 * PAGE + i] == pattern(3, i), "granted frame changed at %u", i);
	CHECK(a.tab[10].flags != 0, "grant entry gone");
	/* The grantee wrote our frame 4 through ref 13: its frame 5, a copy of our frame 3. */
	for (uint32_t i = 0; i < PAGE; i++)
		CHECK(a.ram[4 * PAGE + i] == pattern(3, i), "frame 4 byte %u", i);
	CHECK(gntdp_guest_end_access(&a.tab[13]) == 0, "end access");
	return 0;
}

/* Domain 2 (child B): the seals, the read-only status fd, copies, setup_table. */
static int
child_copier(int go)
{
	struct cl c;
	struct gntdp_gnttab_copy *op;
	struct gntdp_gnttab_setup_table *st;
	uint8_t *snap;
	int rc;

	if (cl_bind(&c, 2, 32) != 0 || cl_ring(&c, true) != 0)
		return -1;
	/* Seals: no shrink, no grow; the status fd maps read-only only. */
	CHECK(ftruncate(c.ram_fd, PAGE) != 0 && errno == EPERM, "RAM memfd shrinks");
	CHECK(ftruncate(c.ram_fd, 64 * PAGE) != 0 && errno == EPERM, "RAM memfd grows");
	CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, c.st_fd, 0) == MAP_FAILED &&
	      errno == EACCES, "status fd maps writable");
	CHECK(mprotect((void *)(uintptr_t)c.status, PAGE, PROT_READ | PROT_WRITE) != 0 &&
	      errno == EACCES, "status mapping made writable");
	CHECK((fcntl(c.st_fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "status fd not O_RDONLY");
	CHECK(wait_byte(go), "go");
	/* A gref -> own frame copy of the whole page, byte for byte. */
	op = (void *)(c.ram + 31 * PAGE);
	mkcopy(op, 1, 10, GNTDP_DOMID_SELF, 5, PAGE);
	rc = cl_hcall(&c, GNTDP_GNTTABOP_COPY, op, 1);
	CHECK(rc == 0 && op->status == GNTDP_GNTST_OKAY, "copy rc %d status %d", rc, op->status);
	for (uint32_t i = 0; i < PAGE; i++)
		CHECK(c.ram[5 * PAGE + i] == pattern(3, i), "byte %u", i);
	/* And back into the granter's read-write grant, waking up on the ring's eventfd. */
	mkcopy(op, GNTDP_DOMID_SELF, 5, 1, 13, PAGE);
	{
		struct gntdp_hcall_sqe sq = {.user_data = 7, .gaddr = gaddr(&c, op),
					     .cmd = GNTDP_GNTTABOP_COPY, .count = 1};
		struct gntdp_hcall_cqe q;
		struct pollfd pf = {.fd = c.efd, .events = POLLIN};
		uint64_t v;

		CHECK(!gntdp_hcall_client_arm_wakeup(&c.hc), "completions before any call");
		CHECK(gntdp_hcall_client_submit(&c.hc, &sq, 1) == 1, "submit");
		CHECK(poll(&pf, 1, TIMEOUT_MS) == 1 && read(c.efd, &v, sizeof(v)) == sizeof(v),
		      "no eventfd signal");
		CHECK(gntdp_hcall_client_reap(&c.hc, &q, 1) == 1 && q.user_data == 7 && q.rc == 0 &&
		      op->status == GNTDP_GNTST_OKAY, "rc %d status %d", q.rc, op->status);
	}
	/* A frame of another domain named directly (no gref: a forged domid): refused. */
	memset(c.ram + 6 * PAGE, 0, PAGE);
	mkcopy(op, GNTDP_DOMID_SELF, 0, GNTDP_DOMID_SELF, 6, 64);
	op->source.domid = 1;
	op->source.u.gmfn = 3;
	rc = cl_hcall(&c, GNTDP_GNTTABOP_COPY, op, 1);
	CHECK(rc == 0 && op->status < 0, "forged source: rc %d status %d", rc, op->status);
	for (uint32_t i = 0; i < PAGE; i++)
		CHECK(c.ram[6 * PAGE + i] == 0, "forged source copied byte %u", i);
	/* Read-only grant as destination, an ungranted ref: refused per op. */
	mkcopy(&op[0], GNTDP_DOMID_SELF, 5, 1, 10, 64);
	mkcopy(&op[1], 1, 11, GNTDP_DOMID_SELF, 6, 64);
	rc = cl_hcall(&c, GNTDP_GNTTABOP_COPY, op, 2);
	CHECK(rc == 0 && op[0].status < 0 && op[1].status < 0, "rc %d statuses %d %d", rc,
	      op[0].status, op[1].status);
	/* setup_table with frame_list outside our RAM: bad_virt_addr, nothing else changes. */
	snap = malloc(32 * PAGE);
	CHECK(snap != NULL, "malloc");
	st = (void *)(c.ram + 31 * PAGE);
	memset(st, 0, sizeof(*st));
	st->dom = GNTDP_DOMID_SELF;
	st->nr_frames = 1;
	st->status = 99;
	st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)((uint64_t)64 << 12);
	memcpy(snap, c.ram, 32 * PAGE);
	rc = cl_hcall(&c, GNTDP_GNTTABOP_SETUP_TABLE, st, 1);
	CHECK(rc == 0 && st->status == GNTDP_GNTST_BAD_VIRT_ADDR, "rc %d status %d", rc,
	      st->status);
	st->status = 99;
	CHECK(memcmp(snap, c.ram, 32 * PAGE) == 0, "setup_table changed our RAM");
	/* A pointer into this process is just a gfn far past the physmap. */
	st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)snap;
	rc = cl_hcall(&c, GNTDP_GNTTABOP_SETUP_TABLE, st, 1);
	CHECK(rc == 0 && st->status == GNTDP_GNTST_BAD_VIRT_ADDR, "rc %d status %d", rc,
	      st->status);
	/* An op array outside RAM: -EFAULT for the call. */
	{
		struct gntdp_hcall_sqe s = {.user_data = 1, .gaddr = (uint64_t)1 << 40,
					    .cmd = GNTDP_GNTTABOP_COPY, .count = 1};
		struct gntdp_hcall_cqe q;
		uint64_t t0 = now_ms();

		CHECK(gntdp_hcall_client_submit(&c.hc, &s, 1) == 1, "submit");
		while (gntdp_hcall_client_reap(&c.hc, &q, 1) == 0 && now_ms() - t0 < TIMEOUT_MS)
			usleep(20);
		CHECK(q.rc == -EFAULT, "rc %d", q.rc);
	}
	/* GNTTABOP_transfer is off: the page would stay mapped in this process. */
	{
		struct gntdp_gnttab_transfer *tr = (void *)(c.ram + 31 * PAGE);

		memset(tr, 0, sizeof(*tr));
		tr->mfn = 7;
		tr->domid = 1;
		tr->ref = 12;
		tr->status = 99;
		rc = cl_hcall(&c, GNTDP_GNTTABOP_TRANSFER, tr, 1);
		CHECK(rc == -EOPNOTSUPP && tr->status == 99, "transfer rc %d status %d", rc,
		      tr->status);
	}
	free(snap);
	return 0;
}

static int
wait_child(pid_t pid, const char *name)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid, "waitpid %s", name);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x", name, st);
	return 0;
}

static int
test_copy(void)
{
	int ra[2], ga[2], gb[2];
	pid_t a, b;

	CHECK(pipe(ra) == 0 && pipe(ga) == 0 && pipe(gb) == 0, "pipes");
	a = fork();
	if (a == 0)
		_exit(child_granter(ra[1], ga[0]) == 0 ? 0 : 1);
	b = fork();
	if (b == 0)
		_exit(child_copier(gb[0]) == 0 ? 0 : 1);
	/* B copies once A granted; A checks its memory once B is done. */
	close(ra[1]);
	close(ga[0]);
	close(gb[0]);
	CHECK(wait_byte(ra[0]), "A not ready");
	CHECK(write(gb[1], "g", 1) == 1, "go B");
	if (wait_child(b, "copier") != 0) {
		kill(a, SIGKILL);
		waitpid(a, NULL, 0);
		return -1;
	}
	CHECK(write(ga[1], "g", 1) == 1, "go A");
	if (wait_child(a, "granter") != 0)
		return -1;
	close(ra[0]);
	close(ga[1]);
	close(gb[1]);
	return 0;
}

/* A second bind on one connection, a domid bound elsewhere, a ring past max_rings. */
static int
test_bind_state(void)
{
	struct gntdp_ctl_domain m;
	struct gntdp_ctl_ring r = {.sq_entries = 8, .cq_entries = 8, .worker = GNTDP_CTL_ANY_WORKER};
	struct gntdp_ctl_ring_destroy rd = {0};
	struct gntdp_ctl_ring_reply ids[4];
	struct cl c;
	int fd;

	if (cl_bind(&c, 20, 16) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, 21, GNTDP_CTL_BIND_CREATE, 9);
	if (expect(c.fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_BIND, -EALREADY) != 0)
		return -1;
	fd = conn_hello();
	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, 20, GNTDP_CTL_BIND_CREATE, 9);
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_BIND, -EEXIST) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, 22, 0, 9);
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_BIND, -ENOENT) != 0)
		return -1;
	close(fd);
	/* Ring values, then max_rings (4 in this test's daemon). */
	mkhdr(&r, GNTDP_CTL_RING_CREATE, sizeof(r), 10);
	r.sq_entries = 6;
	if (expect(c.fd, &r, sizeof(r), GNTDP_CTL_RING_CREATE, -EINVAL) != 0)
		return -1;
	r.sq_entries = 8;
	r.worker = 1;
	if (expect(c.fd, &r, sizeof(r), GNTDP_CTL_RING_CREATE, -EINVAL) != 0)
		return -1;
	r.worker = GNTDP_CTL_ANY_WORKER;
	r.flags = 2;
	if (expect(c.fd, &r, sizeof(r), GNTDP_CTL_RING_CREATE, -EINVAL) != 0)
		return -1;
	r.flags = 0;
	for (int i = 0; i < 4; i++) {
		struct rep p;

		CHECK(rpc(c.fd, &r, sizeof(r), &p) == 0, "ring %d", i);
		if (check_rep(&p, GNTDP_CTL_RING_CREATE, 10, 0) != 0)
			return -1;
		memcpy(&ids[i], p.raw + sizeof(p.r), sizeof(ids[i]));
		close_fds(&p);
	}
	if (expect(c.fd, &r, sizeof(r), GNTDP_CTL_RING_CREATE, -ENOSPC) != 0)
		return -1;
	/* RING_DESTROY frees a slot (once), and another connection cannot name our rings. */
	mkhdr(&rd, GNTDP_CTL_RING_DESTROY, sizeof(rd), 11);
	rd.ring_id = ids[2].ring_id;
	fd = conn_hello();
	if (expect(fd, &rd, sizeof(rd), GNTDP_CTL_RING_DESTROY, -ENOENT) != 0)
		return -1;
	close(fd);
	if (expect(c.fd, &rd, sizeof(rd), GNTDP_CTL_RING_DESTROY, 0) != 0 ||
	    expect(c.fd, &rd, sizeof(rd), GNTDP_CTL_RING_DESTROY, -ENOENT) != 0)
		return -1;
	{
		struct rep p;

		CHECK(rpc(c.fd, &r, sizeof(r), &p) == 0, "ring after destroy");
		if (check_rep(&p, GNTDP_CTL_RING_CREATE, 10, 0) != 0)
			return -1;
		close_fds(&p);
	}
	close(c.fd);
	return 0;
}

/* DOMAIN_CREATE then DOMAIN_BIND takes it; DOMAIN_DESTROY of a bound domain hangs up. */
static int
test_destroy_bound(void)
{
	struct gntdp_ctl_domain m;
	struct gntdp_ctl_domain_destroy dd = {0};
	struct cl a, b;
	struct rep p;
	int fd;

	if (!g_root) {
		printf("SKIP test_destroy_bound: privileged requests (run as root)\n");
		return 0;
	}
	fd = conn_hello();
	CHECK(fd >= 0, "connect");
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, 30, 0, 1);
	m.nr_frames = 16;
	m.max_grant_frames = 4;
	m.max_grant_version = 2;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, 0) != 0)
		return -1;
	/* Taken by a bind without the create flag, with 0 or its own limits only. */
	{
		int fd2 = conn_hello();

		mkdom(&m, GNTDP_CTL_DOMAIN_BIND, 30, 0, 2);
		m.nr_frames = 17;
		if (expect(fd2, &m, sizeof(m), GNTDP_CTL_DOMAIN_BIND, -EINVAL) != 0)
			return -1;
		close(fd2);
	}
	CHECK(listed(fd, 30, NULL) == 1, "a refused bind destroyed the unbound domain");
	CHECK(cl_bind(&a, 30, 16) == 0, "bind of the created domain");
	/* Destroyed by another (privileged) connection: its connection is closed. */
	mkhdr(&dd, GNTDP_CTL_DOMAIN_DESTROY, sizeof(dd), 3);
	dd.domid = 30;
	if (expect(fd, &dd, sizeof(dd), GNTDP_CTL_DOMAIN_DESTROY, 0) != 0)
		return -1;
	CHECK(recv_rep(a.fd, &p) == 0, "the bound connection stayed open (%zd)", p.n);
	close(a.fd);
	/* Its own domain: the reply, then the hang-up. */
	CHECK(cl_bind(&b, 31, 16) == 0, "bind 31");
	mkhdr(&dd, GNTDP_CTL_DOMAIN_DESTROY, sizeof(dd), 4);
	dd.domid = 31;
	if (expect(b.fd, &dd, sizeof(dd), GNTDP_CTL_DOMAIN_DESTROY, 0) != 0)
		return -1;
	CHECK(recv_rep(b.fd, &p) == 0, "not hung up after destroying its own domain");
	close(b.fd);
	CHECK(listed(fd, 30, NULL) == 0 && listed(fd, 31, NULL) == 0, "still listed");
	close(fd);
	return 0;
}

/* ---- the ACL (root only) --------------------------------------------------------- */

static int
child_acl(void)
{
	struct gntdp_ctl_hello_reply hr;
	struct gntdp_ctl_domain m;
	struct gntdp_ctl_domain_list dl = {0};
	struct cl c;
	char path[64];
	int fd;

	CHECK(setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0, "setuid");
	fd = conn_open();
	CHECK(fd >= 0, "connect as nobody: %s", strerror(-fd));
	if (hello(fd, &hr) != 0)
		return -1;
	CHECK(hr.uid == NOBODY && hr.privileged == 0, "uid %u privileged %u", hr.uid,
	      hr.privileged);
	mkhdr(&dl, GNTDP_CTL_DOMAIN_LIST, sizeof(dl), 2);
	if (expect(fd, &dl, sizeof(dl), GNTDP_CTL_DOMAIN_LIST, -EPERM) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, 5, 0, 3);
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, -EPERM) != 0)
		return -1;
	/* Outside the rule's domids, dom0, a reserved id: refused before any value check. */
	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, 100, GNTDP_CTL_BIND_CREATE, 4);
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_BIND, -EPERM) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, 0, GNTDP_CTL_BIND_CREATE, 4);
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_BIND, -EPERM) != 0)
		return -1;
	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, GNTDP_DOMID_SELF, GNTDP_CTL_BIND_CREATE, 4);
	m.max_grant_version = 7;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_BIND, -EPERM) != 0)
		return -1;
	close(fd);
	if (!g_mem)
		return 0;
	/* Inside them: bound; the read-only fd cannot be reopened read-write by this uid. */
	if (cl_bind(&c, 7, 16) != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c.st_fd);
	fd = open(path, O_RDWR);
	CHECK(fd < 0, "status fd reopened read-write");
	close(c.fd);
	/* The daemon's own fds and memory are out of reach of another uid. */
	for (int i = 0; i < 256; i++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)g_pid, i);
		fd = open(path, O_RDONLY);
		CHECK(fd < 0, "opened the daemon's fd %d", i);
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)g_pid);
	fd = open(path, O_RDONLY);
	CHECK(fd < 0, "opened the daemon's memory");
	/* [acl1] names the user: its domids too. */
	CHECK(cl_bind(&c, 205, 16) == 0, "bind 205 by the user rule");
	close(c.fd);
	return 0;
}

/* Primary gid elsewhere, nogroup supplementary: the socket and [acl0] both let it in. */
static int
child_acl_groups(void)
{
	const gid_t sup = NOBODY;
	struct cl c;

	CHECK(setgroups(1, &sup) == 0 && setgid(NOBODY - 1) == 0 && setuid(NOBODY) == 0, "setuid");
	if (!g_mem) {
		int fd = conn_hello();

		CHECK(fd >= 0, "connect");
		close(fd);
		return 0;
	}
	CHECK(cl_bind(&c, 8, 16) == 0, "bind 8 through a supplementary group");
	close(c.fd);
	return 0;
}

static int
test_acl(void)
{
	pid_t pid;

	if (!g_root) {
		printf("SKIP test_acl: needs root to run a client as nobody\n");
		return 0;
	}
	pid = fork();
	if (pid == 0)
		_exit(child_acl() == 0 ? 0 : 1);
	if (wait_child(pid, "acl") != 0)
		return -1;
	pid = fork();
	if (pid == 0)
		_exit(child_acl_groups() == 0 ? 0 : 1);
	if (wait_child(pid, "acl groups") != 0)
		return -1;
	/* Another group: the socket's mode (0660, group nogroup) keeps it out. */
	pid = fork();
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) != 0 || setgid(NOBODY - 1) != 0 || setuid(NOBODY) != 0)
			_exit(2);
		fd = conn_open();
		_exit(fd == -EACCES ? 0 : 1);
	}
	return wait_child(pid, "outsider");
}

/* ---- per-uid limits (root only) -------------------------------------------------- */

#define UID_A (NOBODY - 2) /* a second unprivileged uid (no name needed), gid nogroup */

/* Drop to @p uid with gid nogroup (so [acl0] and the socket's group let it in). */
static int
become(uid_t uid)
{
	CHECK(setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(uid) == 0, "setuid %u",
	      (unsigned int)uid);
	return 0;
}

/* become(@p uid), then its 3 connections ([limits] connections) into @p c. */
static int
become_with(uid_t uid, int c[3])
{
	if (become(uid) != 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		c[i] = conn_hello();
		CHECK(c[i] >= 0, "uid %u: connection %d of 3 refused", (unsigned int)uid, i);
	}
	return 0;
}

/*
 * A DOMAIN_BIND (with GNTDP_CTL_BIND_CREATE when @p create) of @p nr_frames
 * RAM frames, 4 grant frames, v2 (one status frame) on @p fd: the reply's
 * err, its why in @p why; -ECONNRESET without a well-formed reply.
 */
static int
bind_try(int fd, uint32_t domid, uint32_t nr_frames, bool create, char *why)
{
	struct gntdp_ctl_domain m;
	struct rep p;

	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, domid, create ? GNTDP_CTL_BIND_CREATE : 0, 7);
	m.nr_frames = nr_frames;
	m.max_grant_frames = 4;
	m.max_grant_version = 2;
	if (rpc(fd, &m, sizeof(m), &p) != 0)
		return -ECONNRESET;
	close_fds(&p);
	if (p.n < (ssize_t)sizeof(p.r) || p.r.hdr.type != (GNTDP_CTL_REPLY | GNTDP_CTL_DOMAIN_BIND))
		return -ECONNRESET;
	snprintf(why, GNTDP_CTL_WHY_SIZE, "%.*s", (int)GNTDP_CTL_WHY_SIZE - 1, p.r.why);
	return p.r.err;
}

/* bind_try() must answer @p err, with @p want in its why (when not NULL). */
static int
bind_raw(int fd, uint32_t domid, uint32_t nr_frames, bool create, int err, const char *want)
{
	char why[GNTDP_CTL_WHY_SIZE];
	int rc = bind_try(fd, domid, nr_frames, create, why);

	CHECK(rc == err, "bind %u: %d (%s), want %d", domid, rc, why, err);
	CHECK(want == NULL || strstr(why, want) != NULL, "bind %u: why '%s', want '%s'", domid,
	      why, want);
	return 0;
}

/* The reply to the first request of a connection over its uid's limit, then EOF. */
static int
refused_conn(int fd)
{
	struct gntdp_ctl_hello m = {.min_version = 1, .max_version = 1};
	struct rep p;

	mkhdr(&m, GNTDP_CTL_HELLO, sizeof(m), 1);
	CHECK(rpc(fd, &m, sizeof(m), &p) == 0, "no reply");
	if (check_rep(&p, GNTDP_CTL_HELLO, 1, -EDQUOT) != 0)
		return -1;
	CHECK(strstr(p.r.why, "connections") != NULL, "why: %s", p.r.why);
	CHECK(recv_rep(fd, &p) == 0, "not closed after the refusal: %zd", p.n);
	close(fd);
	return 0;
}

/*
 * Uid A ([limits]: 3 connections, 2 domains, 120 frames): its 4th
 * connection is answered -EDQUOT, a 5th meanwhile closed unanswered; its
 * 3rd domain refused; after a domain went, one too large for its frames
 * refused and a smaller one bound. Holds its limit while uid B is served.
 */
static int
child_limits_a(int ready, int go)
{
	struct gntdp_ctl_hello m = {.min_version = 1, .max_version = 1};
	char why[GNTDP_CTL_WHY_SIZE];
	int c[3], over, extra, rc;
	struct rep p;
	uint64_t t0;

	if (become_with(UID_A, c) != 0)
		return -1;
	over = conn_open();
	extra = conn_open();
	CHECK(over >= 0 && extra >= 0, "connect");
	/* The 5th, while the 4th waits for its answer: closed at accept. */
	mkhdr(&m, GNTDP_CTL_HELLO, sizeof(m), 1);
	rc = rpc(extra, &m, sizeof(m), &p);
	CHECK(rc != 0, "a 5th connection was served (err %d)", p.r.err);
	close(extra);
	if (refused_conn(over) != 0)
		return -1;
	/* Once answered, the next one is answered too (and the uid still holds 3). */
	over = conn_open();
	CHECK(over >= 0, "connect");
	if (refused_conn(over) != 0)
		return -1;
	/* Domains: 2 of 21 frames each; the 3rd refused, the connection still served. */
	if (bind_raw(c[0], 10, 16, true, 0, NULL) != 0 || bind_raw(c[1], 11, 16, true, 0, NULL) != 0 ||
	    bind_raw(c[2], 12, 16, true, -EDQUOT, "domains") != 0 ||
	    bind_raw(c[2], 12, 16, true, -EDQUOT, "domains") != 0)
		return -1;
	CHECK(write(ready, "r", 1) == 1 && wait_byte(go), "parent");
	/* Domain 11 goes with its connection: room for a domain, not for 105 more frames. */
	close(c[1]);
	t0 = now_ms();
	while ((rc = bind_try(c[2], 12, 100, true, why)) == -EDQUOT && strstr(why, "domains") &&
	       now_ms() - t0 < TIMEOUT_MS)
		usleep(10000);
	CHECK(rc == -EDQUOT && strstr(why, "frames") != NULL, "once domain 11 went: %d (%s)", rc,
	      why);
	if (bind_raw(c[2], 12, 90, true, 0, NULL) != 0)
		return -1;
	close(c[0]);
	close(c[2]);
	return 0;
}

/* Uid B (nobody; [acl1] max_domains 1) while A is at its limits: served, its own limit. */
static int
child_limits_b(void)
{
	int c[3];

	if (become_with(NOBODY, c) != 0)
		return -1;
	if (bind_raw(c[0], 200, 16, true, 0, NULL) != 0 ||
	    bind_raw(c[1], 201, 16, true, -EDQUOT, "domains") != 0)
		return -1;
	for (int i = 0; i < 3; i++)
		close(c[i]);
	return 0;
}

/* Uid A takes root's unbound domain 50 only with room for it; then it counts against A. */
static int
child_limits_take(void)
{
	char why[GNTDP_CTL_WHY_SIZE];
	int c[3];

	if (become_with(UID_A, c) != 0)
		return -1;
	if (bind_raw(c[0], 60, 16, true, 0, NULL) != 0 || bind_raw(c[1], 61, 16, true, 0, NULL) != 0 ||
	    bind_raw(c[2], 50, 0, false, -EDQUOT, "domains") != 0)
		return -1;
	close(c[1]);
	for (uint64_t t0 = now_ms(); bind_try(c[2], 50, 0, false, why) != 0;) {
		CHECK(now_ms() - t0 < TIMEOUT_MS, "domain 50 not taken once 61 went: %s", why);
		usleep(10000);
	}
	/* Hold both while the parent (root) creates again: 50 no longer counts against it. */
	pause();
	return 0;
}

static int
limits_run(void)
{
	struct gntdp_ctl_domain m;
	int rs[2], gs[2], fd, rc = -1;
	pid_t a, b, t;

	CHECK(pipe(rs) == 0 && pipe(gs) == 0, "pipes");
	a = fork();
	if (a == 0)
		_exit(child_limits_a(rs[1], gs[0]) == 0 ? 0 : 1);
	close(rs[1]);
	close(gs[0]);
	CHECK(wait_byte(rs[0]), "A did not reach its limits");
	b = fork();
	if (b == 0)
		_exit(child_limits_b() == 0 ? 0 : 1);
	if (wait_child(b, "B") != 0)
		return -1;
	CHECK(write(gs[1], "g", 1) == 1, "go A");
	if (wait_child(a, "A") != 0)
		return -1;
	close(rs[0]);
	close(gs[1]);
	/* Root has [limits] too (no rule matches it): 2 unbound domains, not 3. */
	fd = conn_hello();
	CHECK(fd >= 0, "connect");
	mkdom(&m, GNTDP_CTL_DOMAIN_CREATE, 50, 0, 2);
	m.nr_frames = 16;
	m.max_grant_frames = 4;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, 0) != 0)
		return -1;
	m.domid = 51;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, 0) != 0)
		return -1;
	m.domid = 52;
	if (expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, -EDQUOT) != 0)
		return -1;
	t = fork();
	if (t == 0)
		_exit(child_limits_take() == 0 ? 0 : 1);
	for (uint64_t t0 = now_ms(); rc != 0 && now_ms() - t0 < 2 * TIMEOUT_MS; usleep(20000)) {
		uint32_t bound = 0;

		if (listed(fd, 50, &bound) == 1 && bound == 1)
			rc = 0;
	}
	if (rc == 0)
		rc = expect(fd, &m, sizeof(m), GNTDP_CTL_DOMAIN_CREATE, 0);
	kill(t, SIGKILL);
	waitpid(t, NULL, 0);
	close(fd);
	CHECK(rc == 0, "domain 50 was not taken by A, or still counts against root");
	return 0;
}

/*
 * Run @p fn against a daemon of its own, started with @p sets on a socket
 * NAME.sock in the test's directory (conn_open() and children reach it
 * meanwhile), stopped with SIGTERM (exit 0) afterwards; its log is NAME.log.
 */
static char g_side_log[160]; /* the side daemon's log */

static int
side_daemon(const char *name, const char *const *sets, int (*fn)(pid_t pid))
{
	char sock[sizeof(g_sock)], *log = g_side_log;
	pid_t pid = -1;
	int rc, st;

	memcpy(sock, g_sock, sizeof(sock));
	snprintf(g_sock, sizeof(g_sock), "%s/%s.sock", g_dir, name);
	snprintf(g_side_log, sizeof(g_side_log), "%s/%s.log", g_dir, name);
	rc = td_daemon_start(g_daemon, g_config, g_sock, log, sets, &pid);
	if (rc == 0)
		rc = fn(pid);
	if (pid > 0) {
		kill(pid, SIGTERM);
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = -1;
	}
	memcpy(g_sock, sock, sizeof(sock));
	if (rc != 0) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "tail -n 40 %s >&2", log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no log)\n");
	}
	return rc == 0 ? 0 : -1;
}

static int
limits_fn(pid_t pid)
{
	(void)pid;
	return limits_run();
}

static int
test_limits(void)
{
	const char *sets[] = {"socket.group=nogroup", "limits.connections=3", "limits.domains=2",
			      "limits.frames=120", "acl1.user=nobody", "acl1.domids=200-209",
			      "acl1.max_domains=1", NULL};

	if (!g_root) {
		printf("SKIP test_limits: needs root to run clients as two uids\n");
		return 0;
	}
	return side_daemon("limits", sets, limits_fn);
}

/* ---- [memory] hugetlb: a hole punched in a client's RAM --------------------------- */

/*
 * Domain 80 punches the first 2 MiB page of its RAM out of its memfd; with
 * no free 2 MiB page in the pool, the worker's copy from it takes SIGBUS:
 * the daemon replaces the page (in itself only), completes the copy, and
 * closes 80's connection with the reason logged; domain 81 is served on.
 */
static int
punch_fn(pid_t pid)
{
	struct gntdp_gnttab_copy *op;
	struct cl v, o;
	void *hold = MAP_FAILED;
	char cmd[256];
	unsigned long n;
	struct rep p;
	int rc;

	if (cl_bind(&v, 80, 1024) != 0 || cl_ring(&v, false) != 0 || cl_bind(&o, 81, 16) != 0 ||
	    cl_ring(&o, false) != 0)
		return -1;
	/* The op array in the second 2 MiB page: this process must not refault the first. */
	op = (void *)(v.ram + 600 * PAGE);
	mkcopy(op, GNTDP_DOMID_SELF, 0, GNTDP_DOMID_SELF, 601, 64);
	CHECK(fallocate(v.ram_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2u << 20) == 0,
	      "punch: %s", strerror(errno));
	for (n = tc_huge_free(); n > 0 && hold == MAP_FAILED; n--)
		hold = mmap(NULL, n << 21, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	rc = cl_hcall(&v, GNTDP_GNTTABOP_COPY, op, 1);
	if (hold != MAP_FAILED)
		munmap(hold, (n + 1) << 21);
	CHECK(kill(pid, 0) == 0, "the daemon died");
	CHECK(rc == 0 || rc == -EPIPE || rc == -ETIMEDOUT, "copy from the punched page: %d", rc);
	CHECK(recv_rep(v.fd, &p) == 0, "domain 80 not hung up on (%zd)", p.n);
	snprintf(cmd, sizeof(cmd), "grep -q 'domain 80: a hole punched in its hugetlb memory' %s",
		 g_side_log);
	CHECK(system(cmd) == 0, "the daemon did not log the repair (no SIGBUS?)");
	mkcopy(op = (void *)(o.ram + 10 * PAGE), GNTDP_DOMID_SELF, 1, GNTDP_DOMID_SELF, 2, PAGE);
	rc = cl_hcall(&o, GNTDP_GNTTABOP_COPY, op, 1);
	CHECK(rc == 0 && op->status == GNTDP_GNTST_OKAY, "domain 81: %d %d", rc, op->status);
	close(v.fd);
	close(o.fd);
	return 0;
}

/*
 * Only with GNTDP_TEST_HUGETLB_EXHAUST=1: it reserves every free 2 MiB page
 * of the host for a moment (other processes would feel it), and needs a
 * pool (HugePages_Total) and EAL on hugepages.
 */
static int
test_hugetlb_punch(void)
{
	const char *sets[] = {g_root ? "socket.group=nogroup" : "socket.group=", "memory.hugetlb=on",
			      NULL};
	const char *env = getenv("GNTDP_TEST_HUGETLB_EXHAUST");

	if (env == NULL || strcmp(env, "1") != 0 || tc_huge_free() < 8) {
		printf("SKIP test_hugetlb_punch: GNTDP_TEST_HUGETLB_EXHAUST=1 and a hugepage pool "
		       "needed\n");
		return 0;
	}
	return side_daemon("hugetlb", sets, punch_fn);
}

/* ---- client death ------------------------------------------------------------------ */

/* Domain 3: grants frames 0..7 to domain 4 (refs 8..15), then keeps its ring full. */
static void
child_victim(int ready)
{
	struct cl c;
	struct gntdp_gnttab_copy *op;
	struct gntdp_hcall_sqe s[32];
	struct gntdp_hcall_cqe q[32];

	if (cl_bind(&c, 3, 32) != 0 || cl_ring(&c, false) != 0)
		_exit(1);
	for (uint32_t i = 0; i < 8; i++)
		gntdp_guest_grant_access(&c.tab[8 + i], 4, i, false);
	op = (void *)(c.ram + 30 * PAGE);
	for (int i = 0; i < 32; i++) {
		mkcopy(&op[i], GNTDP_DOMID_SELF, 10, GNTDP_DOMID_SELF, 11 + i % 8, PAGE);
		s[i] = (struct gntdp_hcall_sqe){.user_data = (uint64_t)i, .gaddr = gaddr(&c, op),
						.cmd = GNTDP_GNTTABOP_COPY, .count = 32};
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;) {
		gntdp_hcall_client_submit(&c.hc, s, 32);
		gntdp_hcall_client_reap(&c.hc, q, 32);
	}
}

/* Domain 4: maps the victim's ref 8, then is served throughout its death. */
static int
child_survivor(int ready, int go)
{
	struct cl c;
	struct gntdp_gnttab_map_grant_ref *mp;
	struct gntdp_gnttab_unmap_grant_ref *up;
	struct gntdp_gnttab_copy *op;
	unsigned long served = 0;
	int rc, fl;
	char b;

	if (cl_bind(&c, 4, 32) != 0 || cl_ring(&c, false) != 0)
		return -1;
	mp = (void *)(c.ram + 31 * PAGE);
	memset(mp, 0, sizeof(*mp));
	mp->host_addr = (uint64_t)(32 + 10) << 12;
	mp->flags = GNTDP_GNTMAP_HOST_MAP;
	mp->ref = 8;
	mp->dom = 3;
	rc = cl_hcall(&c, GNTDP_GNTTABOP_MAP_GRANT_REF, mp, 1);
	CHECK(rc == 0 && mp->status == GNTDP_GNTST_OKAY, "map rc %d status %d", rc, mp->status);
	CHECK(write(ready, "m", 1) == 1, "ready");
	fl = fcntl(go, F_GETFL);
	fcntl(go, F_SETFL, fl | O_NONBLOCK);
	/* Own-frame copies, verified, until the parent saw domain 3 go (and some more). */
	op = (void *)(c.ram + 30 * PAGE);
	for (uint32_t i = 0; i < PAGE; i++)
		c.ram[PAGE + i] = pattern(1, i);
	for (;;) {
		bool stop = read(go, &b, 1) == 1;

		memset(c.ram + 2 * PAGE, 0, PAGE);
		mkcopy(op, GNTDP_DOMID_SELF, 1, GNTDP_DOMID_SELF, 2, PAGE);
		rc = cl_hcall(&c, GNTDP_GNTTABOP_COPY, op, 1);
		CHECK(rc == 0 && op->status == 0, "served %lu: rc %d status %d", served, rc,
		      op->status);
		CHECK(memcmp(c.ram + PAGE, c.ram + 2 * PAGE, PAGE) == 0, "copy %lu wrong", served);
		served++;
		if (stop)
			break;
	}
	/* The dead domain's grant: bad_domain for a copy; the map is still ours to unmap. */
	mkcopy(op, 3, 9, GNTDP_DOMID_SELF, 2, 64);
	rc = cl_hcall(&c, GNTDP_GNTTABOP_COPY, op, 1);
	CHECK(rc == 0 && op->status == GNTDP_GNTST_BAD_DOMAIN, "rc %d status %d", rc, op->status);
	up = (void *)(c.ram + 29 * PAGE);
	memset(up, 0, sizeof(*up));
	up->host_addr = mp->host_addr;
	up->handle = mp->handle;
	up->status = 99;
	rc = cl_hcall(&c, GNTDP_GNTTABOP_UNMAP_GRANT_REF, up, 1);
	CHECK(rc == 0 && up->status == GNTDP_GNTST_OKAY, "unmap rc %d status %d", rc, up->status);
	printf("survivor: %lu verified copies while domain 3 died\n", served);
	return 0;
}

static int
test_kill_client(void)
{
	int rv[2], rs[2], gs[2], fd;
	pid_t v, s;
	uint64_t t0;
	struct cl c;

	CHECK(pipe(rv) == 0 && pipe(rs) == 0 && pipe(gs) == 0, "pipes");
	v = fork();
	if (v == 0)
		child_victim(rv[1]);
	close(rv[1]);
	CHECK(wait_byte(rv[0]), "victim not ready");
	s = fork();
	if (s == 0)
		_exit(child_survivor(rs[1], gs[0]) == 0 ? 0 : 1);
	close(rs[1]);
	close(gs[0]);
	CHECK(wait_byte(rs[0]), "survivor not ready");
	usleep(100000);
	kill(v, SIGKILL);
	waitpid(v, NULL, 0);
	/* The daemon destroys domain 3 (its zombie stays while domain 4 maps its grant). */
	fd = conn_hello();
	CHECK(fd >= 0, "connect");
	t0 = now_ms();
	while (listed(fd, 3, NULL) == 1 && now_ms() - t0 < TIMEOUT_MS)
		usleep(10000);
	CHECK(listed(fd, 3, NULL) == 0, "domain 3 outlived its process");
	usleep(100000);
	CHECK(write(gs[1], "s", 1) == 1, "stop survivor");
	if (wait_child(s, "survivor") != 0)
		return -1;
	/* Unmapped: the zombie is reclaimed, domid 3 can be bound again. */
	t0 = now_ms();
	while (cl_bind(&c, 3, 16) == -EEXIST && now_ms() - t0 < TIMEOUT_MS)
		usleep(20000);
	CHECK(c.fd >= 0 && c.ram != NULL, "domid 3 not reusable");
	close(c.fd);
	close(fd);
	return 0;
}

/* The daemon dies under a client: its next call fails at once instead of hanging. */
static int
test_kill_daemon(void)
{
	struct gntdp_ctl_ring r = {.sq_entries = 8, .cq_entries = 8, .worker = GNTDP_CTL_ANY_WORKER};
	struct cl c;
	struct rep p;
	struct pollfd pf[2];
	uint64_t t0;
	char dir[128];
	int rc;

	if (g_mem) {
		if (cl_bind(&c, 5, 16) != 0 || cl_ring(&c, true) != 0)
			return -1;
	} else {
		memset(&c, 0, sizeof(c));
		c.efd = -1;
		c.fd = conn_hello();
		CHECK(c.fd >= 0, "connect");
	}
	kill(g_pid, SIGKILL);
	waitpid(g_pid, NULL, 0);
	snprintf(dir, sizeof(dir), "rm -rf /var/run/dpdk/gntdpd-%d", (int)g_pid);
	g_pid = -1;
	if (system(dir) != 0)
		fprintf(stderr, "could not remove the killed daemon's runtime directory\n");
	/* A client sleeping on its eventfd and the socket wakes up: the socket hung up. */
	pf[0] = (struct pollfd){.fd = c.fd, .events = POLLIN};
	pf[1] = (struct pollfd){.fd = c.efd, .events = POLLIN};
	t0 = now_ms();
	rc = poll(pf, c.efd >= 0 ? 2 : 1, TIMEOUT_MS);
	CHECK(rc >= 1 && (pf[0].revents & (POLLIN | POLLHUP)), "no wake-up");
	mkhdr(&r, GNTDP_CTL_RING_CREATE, sizeof(r), 11);
	rc = rpc(c.fd, &r, sizeof(r), &p);
	CHECK(rc == -EPIPE || rc == -ECONNRESET, "next call: %d", rc);
	CHECK(now_ms() - t0 < 2000, "took %llu ms", (unsigned long long)(now_ms() - t0));
	close(c.fd);
	/* A new daemon replaces the stale socket and serves. */
	if (daemon_start() != 0)
		return -1;
	rc = conn_hello();
	CHECK(rc >= 0, "the restarted daemon does not serve");
	close(rc);
	/* A client still bound, with a ring, when SIGTERM comes (daemon_stop()). */
	if (g_mem && (cl_bind(&g_last, 5, 16) != 0 || cl_ring(&g_last, true) != 0))
		return -1;
	return 0;
}

/*
 * Random datagrams, mostly well framed (magic, version, a type and its
 * exact length) with random bodies: every one gets a reply or, after 16
 * bad ones, EOF; the daemon keeps serving.
 */
static int
test_fuzz(void)
{
	static const uint32_t lens[GNTDP_CTL_NB_TYPES] = {
		0, sizeof(struct gntdp_ctl_hello), sizeof(struct gntdp_ctl_domain),
		sizeof(struct gntdp_ctl_ring), sizeof(struct gntdp_ctl_ring_destroy),
		sizeof(struct gntdp_ctl_domain), sizeof(struct gntdp_ctl_domain_destroy),
		sizeof(struct gntdp_ctl_domain_list), sizeof(struct gntdp_ctl_share_alloc),
		sizeof(struct gntdp_ctl_map_fd) + 8, sizeof(struct gntdp_ctl_share_free),
		sizeof(struct gntdp_ctl_evtchn_setup), sizeof(struct gntdp_ctl_evtchn_alloc),
		sizeof(struct gntdp_ctl_evtchn_bind), sizeof(struct gntdp_ctl_evtchn_port),
		sizeof(struct gntdp_ctl_evtchn_port), sizeof(struct gntdp_ctl_evtchn_port),
		[GNTDP_CTL_DOMAIN_INFO] = sizeof(struct gntdp_ctl_domain_info)};
	uint8_t buf[256];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned int replies = 0, closes = 0;
	int fd = -1;

	for (unsigned int i = 0; i < 3000; i++) {
		struct gntdp_ctl_hdr h;
		struct rep p;
		uint32_t type, len;

		if (fd < 0) {
			fd = conn_open();
			CHECK(fd >= 0, "connect %u", i);
			if (i % 3 == 0 && hello(fd, NULL) != 0)
				return -1;
		}
		for (size_t k = 0; k < sizeof(buf); k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[k] = (uint8_t)x;
		}
		type = 1 + (uint32_t)(x % (GNTDP_CTL_NB_TYPES - 1));
		len = x % 8 == 0 ? (uint32_t)(x >> 8) % sizeof(buf) : lens[type];
		mkhdr(&h, (uint16_t)type, len, i);
		if (x % 16 != 1)
			memcpy(buf, &h, sizeof(h) < len ? sizeof(h) : len);
		if (type == GNTDP_CTL_DOMAIN_BIND || type == GNTDP_CTL_DOMAIN_CREATE) {
			struct gntdp_ctl_domain *m = (void *)buf;

			/* Small domains, so that memory does not run out. */
			m->nr_frames &= 15;
			m->max_grant_frames &= 3;
			m->max_maptrack_frames &= 3;
			m->domid &= 127;
			if (x % 4 != 0)
				m->rsvd[0] = m->rsvd[1] = 0;
		}
		CHECK(send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len || errno == EPIPE, "send");
		if (recv_rep(fd, &p) > 0) {
			CHECK(p.n >= (ssize_t)sizeof(p.r) && p.r.hdr.magic == GNTDP_CTL_MAGIC &&
			      p.r.hdr.len == (uint32_t)p.n && (p.r.err == 0 || p.r.why[0] != '\0'),
			      "reply %u malformed", i);
			close_fds(&p);
			replies++;
			continue;
		}
		CHECK(p.n == 0 || p.n == -ECONNRESET, "message %u: %zd", i, p.n);
		close(fd);
		fd = -1;
		closes++;
	}
	if (fd >= 0)
		close(fd);
	printf("fuzz: %u replies, %u connections closed\n", replies, closes);
	CHECK(closes > 0 && replies > 1000, "replies %u closes %u", replies, closes);
	fd = conn_hello();
	CHECK(fd >= 0, "the daemon stopped serving");
	close(fd);
	return 0;
}

/*
 * The status frames are sealed F_SEAL_FUTURE_WRITE once the daemon's own
 * mapping exists: a client of the daemon's own uid (this test's) reopens
 * its read-only status fd read-write through /proc, and still neither maps
 * it writable nor writes, truncates or punches it; the daemon still
 * updates the status words (a map of a v2 grant sets GTF_reading).
 */
static int
test_status_seal(void)
{
	struct gntdp_gnttab_set_version *sv;
	struct gntdp_gnttab_map_grant_ref *mp;
	struct gntdp_gnttab_unmap_grant_ref *up;
	const volatile uint16_t *st;
	struct cl a, b;
	char path[64], byte = 1;
	void *w;
	int fd, seals, rc;
	uint64_t t0;

	if (cl_bind(&a, 70, 16) != 0 || cl_ring(&a, false) != 0 || cl_bind(&b, 71, 16) != 0 ||
	    cl_ring(&b, false) != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", a.st_fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "the daemon's own uid could not reopen the status fd: %s", strerror(errno));
	seals = fcntl(fd, F_GET_SEALS);
	CHECK(seals >= 0 && (seals & F_SEAL_FUTURE_WRITE) && (seals & F_SEAL_SEAL),
	      "status seals 0x%x", seals);
	w = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(w == MAP_FAILED && errno == EPERM, "status frames mapped writable (%s)",
	      w == MAP_FAILED ? strerror(errno) : "mapped");
	CHECK(pwrite(fd, &byte, 1, 0) < 0 && errno == EPERM, "status frames written");
	CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE) != 0 &&
	      errno == EPERM, "status frames hole-punched");
	CHECK(ftruncate(fd, 0) != 0 && errno == EPERM, "status memfd truncated");
	/* The RAM stays the client's to write: read-write, not sealed against writes. */
	seals = fcntl(a.ram_fd, F_GET_SEALS);
	CHECK(seals >= 0 && !(seals & F_SEAL_FUTURE_WRITE) && (seals & F_SEAL_SEAL),
	      "RAM seals 0x%x", seals);
	close(fd);
	/* v2, a read-only grant of A's gfn 3 to B as ref 8; B maps it: A's status word says so. */
	sv = (void *)(a.ram + 15 * PAGE);
	sv->version = 2;
	rc = cl_hcall(&a, GNTDP_GNTTABOP_SET_VERSION, sv, 1);
	CHECK(rc == 0, "set_version 2: %d", rc);
	CHECK(gntdp_guest_grant_access_v2(&((union gntdp_grant_entry_v2 *)(void *)a.tab)[8], 71, 3,
					  true) == 0, "grant");
	st = (const volatile uint16_t *)(const void *)a.status;
	CHECK(st[8] == 0, "status word 0x%x before the map", st[8]);
	mp = (void *)(b.ram + 15 * PAGE);
	memset(mp, 0, sizeof(*mp));
	mp->host_addr = (uint64_t)(16 + 1) << 12;
	mp->flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY;
	mp->ref = 8;
	mp->dom = 70;
	rc = cl_hcall(&b, GNTDP_GNTTABOP_MAP_GRANT_REF, mp, 1);
	CHECK(rc == 0 && mp->status == GNTDP_GNTST_OKAY, "map rc %d status %d", rc, mp->status);
	CHECK(st[8] & GNTDP_GTF_READING, "status word 0x%x while mapped", st[8]);
	up = (void *)(b.ram + 14 * PAGE);
	memset(up, 0, sizeof(*up));
	up->host_addr = mp->host_addr;
	up->handle = mp->handle;
	rc = cl_hcall(&b, GNTDP_GNTTABOP_UNMAP_GRANT_REF, up, 1);
	CHECK(rc == 0 && up->status == GNTDP_GNTST_OKAY, "unmap rc %d status %d", rc, up->status);
	for (t0 = now_ms(); (st[8] & GNTDP_GTF_READING) && now_ms() - t0 < TIMEOUT_MS;)
		usleep(1000);
	CHECK(!(st[8] & GNTDP_GTF_READING), "status word 0x%x after the unmap", st[8]);
	close(a.fd);
	close(b.fd);
	return 0;
}

/* A ring whose SQ tail the client corrupts: the worker disables it, the daemon closes. */
static int
test_ring_disabled(void)
{
	struct gntdp_hcall_ring_hdr *h;
	uint32_t reason = 0;
	struct cl c;
	struct rep p;
	char cmd[160];
	int fd;

	if (cl_bind(&c, 8, 16) != 0 || cl_ring(&c, false) != 0)
		return -1;
	h = c.rmem;
	__atomic_store_n(&h->sq_tail, 1000u, __ATOMIC_RELEASE);
	CHECK(recv_rep(c.fd, &p) == 0, "the connection stayed open (%zd)", p.n);
	CHECK(gntdp_hcall_client_disabled(&c.hc, &reason) &&
	      reason == GNTDP_HCALL_REASON_SQ_INDEX, "reason %u", reason);
	close(c.fd);
	fd = conn_hello();
	CHECK(fd >= 0, "connect");
	CHECK(listed(fd, 8, NULL) == 0, "domain 8 outlived its ring");
	close(fd);
	snprintf(cmd, sizeof(cmd), "grep -q 'domain 8: its ring .* disabled .*SQ tail' %s", g_log);
	CHECK(system(cmd) == 0, "no log line names the ring and the reason");
	return 0;
}

/* rte_telemetry: /gntdpd/domains lists a bound domain with its connection and rings. */
static int
test_telemetry(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[16384], want[64];
	struct cl c;
	ssize_t n;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/var/run/dpdk/gntdpd-%d/dpdk_telemetry.v2",
		 (int)g_pid);
	if (access(sa.sun_path, F_OK) != 0) {
		printf("SKIP test_telemetry: no %s (not root?)\n", sa.sun_path);
		return 0;
	}
	if (cl_bind(&c, 9, 16) != 0 || cl_ring(&c, false) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s",
	      strerror(errno));
	CHECK(read(fd, buf, sizeof(buf)) > 0, "no greeting");
	CHECK(write(fd, "/gntdpd/domains", 15) == 15, "send");
	n = read(fd, buf, sizeof(buf) - 1);
	CHECK(n > 0, "no answer");
	buf[n] = '\0';
	snprintf(want, sizeof(want), "\"9\":{\"domid\":9,\"bound\":1,\"pid\":%d,", (int)getpid());
	CHECK(strstr(buf, want) != NULL && strstr(buf, "\"rings\":1,") != NULL, "answer: %s",
	      buf);
	close(fd);
	close(c.fd);
	return 0;
}

/* Run gntdpd with @p args (NULL-terminated) to its end: exit status, its output in @p err. */
static int
run_daemon(const char *const *args, char *err, size_t len)
{
	const char *argv[24] = {g_daemon};
	unsigned int n = 1;

	while (*args != NULL && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	return run_capture(argv, getuid(), getgid(), true, err, len);
}

/*
 * A socket in a directory that does not exist: created (0755) with the
 * socket (the configured mode and group), both gone after SIGTERM.
 */
static int
test_socket_dir(void)
{
	char dir[128], sock[160], set[200], log[160];
	struct stat st = {0};
	uint64_t t0 = now_ms();
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s/sub", g_dir);
	snprintf(sock, sizeof(sock), "%s/d.sock", dir);
	snprintf(set, sizeof(set), "socket.path=%s", sock);
	snprintf(log, sizeof(log), "%s/sub.log", g_dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(g_daemon, g_daemon, "--config", g_config, "--set", set, "--set",
		      "socket.mode=0640", "--set", g_root ? "socket.group=nogroup" : "socket.group=",
		      (char *)NULL);
		_exit(127);
	}
	while (stat(sock, &st) != 0 && now_ms() - t0 < 30000)
		usleep(50000);
	CHECK(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0640, "socket mode 0%o",
	      st.st_mode & 0777);
	CHECK(!g_root || st.st_gid == NOBODY, "socket group %u", (unsigned int)st.st_gid);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0755, "directory mode 0%o",
	      st.st_mode & 0777);
	kill(pid, SIGTERM);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "status 0x%x", status);
	CHECK(stat(dir, &st) != 0 && errno == ENOENT, "%s left behind", dir);
	return 0;
}

/* Bad configs exit 2 with the key named; a second daemon on a live socket exits 1. */
static int
test_config(void)
{
	static const struct {
		const char *set, *want;
	} bad[] = {
		{"socket.mode=0999", "[socket] mode = '0999': not an octal mode"},
		{"socket.path=relative.sock", "[socket] path = 'relative.sock': not an absolute path"},
		{"socket.group=no-such-group-here", "no such group"},
		{"acl1.user=nobody", "[acl1] domids = '': empty: an unprivileged rule needs domids"},
		{"acl0.user=nobody", "[acl0] user = 'nobody': a rule names exactly one user or group"},
		{"acl2.domids=0-5", "[acl2] user = '': a rule names exactly one user or group"},
		{"domains.frames=100000", "[domains] frames = '100000': above max_frames"},
		{"acl0.domids=5-2", "domids run upwards"},
		{"limits.connections=65", "[limits] connections = '65': above [socket] max_connections"},
		{"limits.domains=33", "[limits] domains = '33': above [domains] max_domains (32)"},
		{"acl0.max_domains=40", "[acl0] max_domains = '40': above [domains] max_domains"},
	};
	char err[8192], path_set[200];
	int rc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = {"--config", g_config, "--set", bad[i].set, "--dry-run", NULL};

		rc = run_daemon(args, err, sizeof(err));
		CHECK(rc == 2 && strstr(err, bad[i].want) != NULL, "--set %s: exit %d: %s",
		      bad[i].set, rc, err);
	}
	{
		const char *args[] = {"--config", g_config, "--set", "acl2.domids=0",
				      "--set", "acl2.group=nogroup", "--dry-run", NULL};

		rc = run_daemon(args, err, sizeof(err));
		CHECK(rc == 2 && strstr(err, "domid 0 is dom0") != NULL, "exit %d: %s", rc, err);
	}
	/* The socket is live: a second daemon refuses it and leaves it to the first. */
	snprintf(path_set, sizeof(path_set), "socket.path=%s", g_sock);
	{
		const char *args[] = {"--config", g_config, "--set", path_set, NULL};

		rc = run_daemon(args, err, sizeof(err));
		CHECK(rc == 1 && strstr(err, "another daemon is listening") != NULL, "exit %d: %s",
		      rc, err);
	}
	rc = conn_hello();
	CHECK(rc >= 0, "the first daemon lost its socket");
	close(rc);
	return test_socket_dir();
}

/*
 * Not a check: with GNTDPD_BENCH=SECONDS, 64-byte gref -> frame copies, 32
 * per hypercall, 8 hypercalls in flight, from one client process to the
 * grants of another, every status checked; one JSON line.
 */
#define BENCH_OPS 32
#define BENCH_INFLIGHT 8

static int
child_bench(double seconds, int go)
{
	struct gntdp_hcall_sqe s[BENCH_INFLIGHT];
	struct gntdp_hcall_cqe q[BENCH_INFLIGHT];
	struct gntdp_gnttab_copy *ops;
	struct timespec t0, t1;
	uint64_t calls = 0;
	double el;
	struct cl c;

	if (cl_bind(&c, 41, 128) != 0 || cl_ring(&c, false) != 0)
		return -1;
	CHECK(wait_byte(go), "go");
	ops = (void *)(c.ram + 100 * PAGE);
	for (unsigned int k = 0; k < BENCH_INFLIGHT; k++) {
		for (unsigned int i = 0; i < BENCH_OPS; i++)
			mkcopy(&ops[k * BENCH_OPS + i], 40, 8 + (k * BENCH_OPS + i) % 64,
			       GNTDP_DOMID_SELF, (k * BENCH_OPS + i) % 64, 64);
		s[k] = (struct gntdp_hcall_sqe){.user_data = k,
						.gaddr = gaddr(&c, &ops[k * BENCH_OPS]),
						.cmd = GNTDP_GNTTABOP_COPY, .count = BENCH_OPS};
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(gntdp_hcall_client_submit(&c.hc, s, BENCH_INFLIGHT) == BENCH_INFLIGHT, "submit");
	for (;;) {
		unsigned int n = gntdp_hcall_client_reap(&c.hc, q, BENCH_INFLIGHT);

		for (unsigned int j = 0; j < n; j++) {
			struct gntdp_gnttab_copy *a = &ops[q[j].user_data * BENCH_OPS];

			CHECK(q[j].rc == 0, "rc %d", q[j].rc);
			for (unsigned int i = 0; i < BENCH_OPS; i++) {
				CHECK(a[i].status == 0, "status %d", a[i].status);
				a[i].status = 99;
			}
			s[0] = (struct gntdp_hcall_sqe){.user_data = q[j].user_data,
							.gaddr = gaddr(&c, a),
							.cmd = GNTDP_GNTTABOP_COPY, .count = BENCH_OPS};
			calls++;
			if ((calls & 255) == 0) {
				clock_gettime(CLOCK_MONOTONIC, &t1);
				el = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
				if (el >= seconds)
					goto done;
			}
			CHECK(gntdp_hcall_client_submit(&c.hc, s, 1) == 1, "resubmit");
		}
	}
done:
	printf("{\"bench\":\"daemon_copy64\",\"ops_per_call\":%u,\"inflight\":%u,"
	       "\"seconds\":%.2f,\"calls\":%llu,\"mops\":%.2f}\n", BENCH_OPS, BENCH_INFLIGHT, el,
	       (unsigned long long)calls, (double)calls * BENCH_OPS / el / 1e6);
	return 0;
}

static int
test_bench(void)
{
	const char *env = getenv("GNTDPD_BENCH");
	int ready[2], go[2], goa[2];
	pid_t a, b;

	if (env == NULL || atof(env) <= 0)
		return 0;
	CHECK(pipe(ready) == 0 && pipe(go) == 0 && pipe(goa) == 0, "pipes");
	a = fork();
	if (a == 0) {
		struct cl g;

		if (cl_bind(&g, 40, 128) != 0)
			_exit(1);
		for (uint32_t i = 0; i < 64; i++)
			gntdp_guest_grant_access(&g.tab[8 + i], 41, i, true);
		if (write(ready[1], "r", 1) != 1 || !wait_byte(goa[0]))
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	CHECK(wait_byte(ready[0]), "granter");
	b = fork();
	if (b == 0)
		_exit(child_bench(atof(env), go[0]) == 0 ? 0 : 1);
	usleep(200000);
	CHECK(write(go[1], "g", 1) == 1, "go");
	if (wait_child(b, "bench") != 0)
		return -1;
	CHECK(write(goa[1], "g", 1) == 1, "go granter");
	return wait_child(a, "granter");
}

/* A client that sends and never reads: once its socket is full the daemon hangs up. */
static int
test_no_reader(void)
{
	struct gntdp_ctl_domain_list dl = {0};
	unsigned int sent = 0, got = 0;
	struct rep p;
	int fd;

	if (!g_root) {
		printf("SKIP test_no_reader: DOMAIN_LIST is privileged (run as root)\n");
		return 0;
	}
	fd = conn_hello();
	CHECK(fd >= 0, "connect");
	mkhdr(&dl, GNTDP_CTL_DOMAIN_LIST, sizeof(dl), 1);
	for (unsigned int i = 0; i < 5000; i++) {
		if (send(fd, &dl, sizeof(dl), MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(dl)) {
			if (errno != EAGAIN)
				break;
			usleep(1000);
			continue;
		}
		sent++;
	}
	while (recv_rep(fd, &p) > 0)
		got++;
	/*
	 * A hang-up reads as EOF after the replies, or as ECONNRESET when
	 * requests were still unread in the daemon's socket as it closed
	 * (Linux's AF_UNIX close), which recv() may report before the replies.
	 */
	CHECK(p.n == 0 || p.n == -ECONNRESET, "no hang-up: %zd", p.n);
	CHECK((got > 0 || p.n == -ECONNRESET) && got < sent, "%u replies to %u requests", got, sent);
	close(fd);
	fd = conn_hello();
	CHECK(fd >= 0, "the daemon stopped serving");
	close(fd);
	return 0;
}

/* [socket] max_connections (64): the 65th connection is closed at accept. */
static int
test_max_conns(void)
{
	int fds[65];
	struct rep p;
	struct gntdp_ctl_hello m = {.min_version = 1, .max_version = 1};

	for (int i = 0; i < 64; i++) {
		fds[i] = conn_hello();
		CHECK(fds[i] >= 0, "connection %d refused", i);
	}
	fds[64] = conn_open();
	CHECK(fds[64] >= 0, "connect");
	mkhdr(&m, GNTDP_CTL_HELLO, sizeof(m), 1);
	CHECK(rpc(fds[64], &m, sizeof(m), &p) != 0, "the 65th connection was served");
	for (int i = 0; i < 65; i++)
		close(fds[i]);
	usleep(100000);
	fds[0] = conn_hello();
	CHECK(fds[0] >= 0, "no connection after closing the others");
	close(fds[0]);
	return 0;
}

/* ---- main ------------------------------------------------------------------------- */

static int
probe_mem(void)
{
	struct gntdp_ctl_domain m;
	struct rep p;
	int fd = conn_hello();

	CHECK(fd >= 0, "connect");
	mkdom(&m, GNTDP_CTL_DOMAIN_BIND, 60, GNTDP_CTL_BIND_CREATE, 1);
	m.nr_frames = 4;
	CHECK(rpc(fd, &m, sizeof(m), &p) == 0, "bind rpc");
	g_mem = p.r.err == 0;
	if (!g_mem)
		printf("SKIP memory tests: DOMAIN_BIND answers %d: %s\n", p.r.err, p.r.why);
	close_fds(&p);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
		bool mem;
	} tests[] = {
		{"hello", test_hello, false},
		{"config", test_config, false},
		{"garbage", test_garbage, false},
		{"max_bad", test_max_bad, false},
		{"create_list", test_create_list, false},
		{"acl", test_acl, false},
		{"limits", test_limits, true},
		{"hugetlb_punch", test_hugetlb_punch, true},
		{"bind_state", test_bind_state, true},
		{"domain_info", test_domain_info, true},
		{"destroy_bound", test_destroy_bound, true},
		{"copy", test_copy, true},
		{"kill_client", test_kill_client, true},
		{"status_seal", test_status_seal, true},
		{"ring_disabled", test_ring_disabled, true},
		{"telemetry", test_telemetry, true},
		{"fuzz", test_fuzz, false},
		{"no_reader", test_no_reader, false},
		{"max_conns", test_max_conns, false},
		{"bench", test_bench, true},
		{"kill_daemon", test_kill_daemon, false},
	};
	int failed = 0, rc;
	char cmd[256];

	if (argc != 4) {
		fprintf(stderr, "usage: %s GNTDPD GNTDPCTL CONFIG\n", argv[0]);
		return 2;
	}
	g_daemon = argv[1];
	g_ctl = argv[2];
	g_config = argv[3];
	g_root = geteuid() == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	snprintf(g_dir, sizeof(g_dir), "/tmp/gntdpd-test-XXXXXX");
	if (mkdtemp(g_dir) == NULL || chmod(g_dir, 0755) != 0) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(g_sock, sizeof(g_sock), "%s/gntdpd.sock", g_dir);
	snprintf(g_log, sizeof(g_log), "%s/gntdpd.log", g_dir);
	rc = daemon_start();
	if (rc != 0)
		return rc == 77 ? 77 : 1;
	probe_mem();
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (tests[i].mem && !g_mem) {
			printf("SKIP %s: no memory provider in this daemon\n", tests[i].name);
			continue;
		}
		rc = tests[i].fn();
		printf("%s %s\n", rc == 0 ? "ok  " : "FAIL", tests[i].name);
		failed += rc != 0;
		if (g_pid < 0)
			break;
	}
	if (daemon_stop() != 0)
		failed++;
	if (g_last.fd >= 0) {
		struct rep p;

		/* SIGTERM with a client bound: the daemon exited 0 and hung up on it. */
		if (recv_rep(g_last.fd, &p) != 0) {
			fprintf(stderr, "FAIL: the bound client was not hung up on (%zd)\n", p.n);
			failed++;
		}
	}
	if (failed != 0) {
		snprintf(cmd, sizeof(cmd), "tail -n 60 %s >&2", g_log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no daemon log)\n");
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", g_dir);
	}
	printf("%d failed\n", failed);
	return failed != 0 ? 1 : 0;
}
