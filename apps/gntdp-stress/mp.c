/* SPDX-License-Identifier: MIT */
/*
 * gntdp-stress's multi-process mode ([run] mode = multiprocess; docs/stress.md
 * "Multi-process mode"): client domains as processes against gntdpd, with
 * kill -9 of clients mid-batch and garbage on the control socket. This file
 * is the driver: it starts gntdpd (or uses [multiprocess] socket), spawns
 * the clients (gntdp-stress-mp-client, mp_client.c, which do and check the
 * grant work), kills and respawns them, runs the garbage process, and checks
 * the daemon: it stays up, DOMAIN_LIST comes back to the live clients after
 * every kill and to none at the end, every client it did not kill exits 0.
 * No EAL in this process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

#include <gntdp/client.h>
#include <gntdp/ctl.h>

#include "app.h"
#include "mp.h"
#include "stress.h"

struct mp {
	const struct mp_conf *c;
	struct mp_board *b;
	int board_fd;
	char sock[256], dir[128], log[160];
	pid_t daemon, garbage, pid[MP_MAX_SLOTS];
	struct gntdp_client *list_conn; /* privileged, for DOMAIN_LIST */
	int list_fd;
	int fds0; /* the daemon's open fds before the first client */
	uint64_t rng, kills, early_kills, respawns, lists;
	uint64_t progress_calls[MP_MAX_SLOTS];
	uint32_t progress_gen[MP_MAX_SLOTS];
	double progress_t;
	unsigned int violations;
};

#define VIOL(m, ...)                                                      \
	do {                                                              \
		printf("gntdp-stress: VIOLATION: " __VA_ARGS__);          \
		printf("\n");                                             \
		(m)->violations++;                                        \
	} while (0)

static uint32_t
rnd(struct mp *m, uint32_t n)
{
	return mp_rnd(&m->rng, n);
}

static void
sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

/* The daemon, when this run started it: still running? */
static bool
daemon_up(struct mp *m)
{
	int st;

	if (m->daemon <= 0)
		return true;
	if (waitpid(m->daemon, &st, WNOHANG) != m->daemon)
		return true;
	VIOL(m, "gntdpd died (status 0x%x)", st);
	m->daemon = 0;
	return false;
}

static int
start_daemon(struct mp *m)
{
	char path_set[300];

	snprintf(m->dir, sizeof(m->dir), "/tmp/gntdp-stress-mp-XXXXXX");
	if (mkdtemp(m->dir) == NULL)
		return -errno;
	snprintf(m->sock, sizeof(m->sock), "%s/sock", m->dir);
	snprintf(path_set, sizeof(path_set), "socket.path=%s", m->sock);
	snprintf(m->log, sizeof(m->log), "%s/gntdpd.log", m->dir);
	m->daemon = fork();
	if (m->daemon == 0) {
		int fd = open(m->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(m->c->daemon, m->c->daemon, "--config", m->c->daemon_config, "--set",
		      path_set, "--set", "socket.group=", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		struct stat st;
		int s;

		if (stat(m->sock, &st) == 0)
			return 0;
		if (waitpid(m->daemon, &s, WNOHANG) == m->daemon) {
			m->daemon = 0;
			return WIFEXITED(s) && WEXITSTATUS(s) == 77 ? -ENOMEM : -ECHILD;
		}
		sleep_s(0.1);
	}
	return -ETIMEDOUT;
}

/* ---- DOMAIN_LIST ------------------------------------------------------------ */

/* The domids gntdpd lists, as a bit set over slots (domid s + 1); -1 on a bad reply. */
static int64_t
domain_list(struct mp *m)
{
	struct gntdp_ctl_domain_list dl = {.hdr = {.magic = GNTDP_CTL_MAGIC,
						   .version = GNTDP_CTL_VERSION,
						   .type = GNTDP_CTL_DOMAIN_LIST,
						   .len = sizeof(dl)}};
	static _Alignas(8) uint8_t buf[GNTDP_CTL_MAX_MSG];
	const struct gntdp_ctl_reply *r = (const void *)buf;
	const struct gntdp_ctl_domain_list_reply *lr = (const void *)(r + 1);
	const struct gntdp_ctl_domain_entry *e = (const void *)(lr + 1);
	int64_t set = 0;
	ssize_t n;

	dl.hdr.seq = (uint32_t)++m->lists;
	if (send(m->list_fd, &dl, sizeof(dl), 0) != (ssize_t)sizeof(dl))
		return -1;
	n = recv(m->list_fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)(sizeof(*r) + sizeof(*lr)) || r->hdr.seq != dl.hdr.seq || r->err != 0 ||
	    n != (ssize_t)(sizeof(*r) + sizeof(*lr) + lr->count * sizeof(*e)) || lr->more != 0) {
		VIOL(m, "DOMAIN_LIST: reply of %zd bytes, err %d (%s)", n,
		     n >= (ssize_t)sizeof(*r) ? r->err : 0, n >= (ssize_t)sizeof(*r) ? r->why : "");
		return -1;
	}
	for (uint32_t i = 0; i < lr->count; i++) {
		if (e[i].domid == 0 || e[i].domid > m->c->slots) {
			VIOL(m, "DOMAIN_LIST has domid %u, no client of this run", e[i].domid);
			return -1;
		}
		set |= INT64_C(1) << (e[i].domid - 1);
	}
	return set;
}

static int64_t
live_set(const struct mp *m)
{
	int64_t set = 0;

	for (uint32_t s = 0; s < m->c->slots; s++)
		if (m->pid[s] > 0)
			set |= INT64_C(1) << s;
	return set;
}

/* DOMAIN_LIST must come to exactly the live clients within 5 s. */
static void
check_list(struct mp *m, const char *when)
{
	int64_t want = live_set(m), got = -1;
	double t0 = now_s();

	while (now_s() - t0 < 5.0) {
		got = domain_list(m);
		if (got < 0 || got == want)
			break;
		sleep_s(0.002);
	}
	if (got >= 0 && got != want)
		VIOL(m, "%s: DOMAIN_LIST is 0x%llx 5 s on, the live clients 0x%llx", when,
		     (unsigned long long)got, (unsigned long long)want);
}

/* Open fds of the daemon this run started (-1: none, or unreadable). */
static int
daemon_fds(const struct mp *m)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (m->daemon <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)m->daemon);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- clients --------------------------------------------------------------- */

/* Start a client in slot @p s; with @p wait, until it is alive (its grants written). */
static int
spawn(struct mp *m, uint32_t s, bool wait)
{
	char slot[16], seed[24], g[16], b[16], d[16];
	double t0;

	atomic_store(&m->b->slot[s].alive, 0);
	atomic_fetch_add(&m->b->slot[s].gen, 1);
	snprintf(slot, sizeof(slot), "%u", s);
	snprintf(seed, sizeof(seed), "%u", (uint32_t)(m->c->seed + m->respawns * 977 + s));
	snprintf(g, sizeof(g), "%u", m->c->grants);
	snprintf(b, sizeof(b), "%u", m->c->batch);
	snprintf(d, sizeof(d), "%u", m->c->depth);
	m->pid[s] = fork();
	if (m->pid[s] == 0) {
		if (dup2(m->board_fd, MP_BOARD_FD) < 0)
			_exit(127);
		execl(m->c->client, m->c->client, m->sock, slot, seed, g, b, d, (char *)NULL);
		_exit(127);
	}
	if (m->pid[s] < 0)
		return -errno;
	atomic_store(&m->b->slot[s].pid, (uint32_t)m->pid[s]);
	for (t0 = now_s(); wait && atomic_load(&m->b->slot[s].alive) == 0; sleep_s(0.001)) {
		int st = 0;

		if (waitpid(m->pid[s], &st, WNOHANG) == m->pid[s] || now_s() - t0 > 10.0) {
			VIOL(m, "client dom %u did not come up in 10 s (status 0x%x)", s + 1, st);
			if (st == 0 && kill(m->pid[s], SIGKILL) == 0)
				waitpid(m->pid[s], NULL, 0);
			m->pid[s] = 0;
			return -1;
		}
	}
	return 0;
}

/* A client that ended without being killed: it found a violation (its stderr says). */
static void
reap_unexpected(struct mp *m)
{
	for (uint32_t s = 0; s < m->c->slots; s++) {
		int st;

		if (m->pid[s] > 0 && waitpid(m->pid[s], &st, WNOHANG) == m->pid[s]) {
			VIOL(m, "client dom %u ended on its own (status 0x%x)", s + 1, st);
			m->pid[s] = 0;
			atomic_store(&m->b->slot[s].alive, 0);
			atomic_fetch_add(&m->b->slot[s].gen, 1);
		}
	}
}

/* SIGKILL slot @p s's client and reap it; @p setup: it may still be setting up. */
static void
kill_slot(struct mp *m, uint32_t s, bool setup)
{
	int st;

	/* Peers judge their ops by alive and gen: both change before the kill. */
	atomic_store(&m->b->slot[s].alive, 0);
	atomic_fetch_add(&m->b->slot[s].gen, 1);
	kill(m->pid[s], SIGKILL);
	if (waitpid(m->pid[s], &st, 0) != m->pid[s] || !WIFSIGNALED(st))
		VIOL(m, "client dom %u ended before the kill%s (status 0x%x)", s + 1,
		     setup ? " during its setup" : "", st);
	m->pid[s] = 0;
	m->kills++;
	check_list(m, setup ? "after a kill -9 during a client's setup" : "after a kill -9");
}

static void
kill_one(struct mp *m)
{
	uint32_t live[MP_MAX_SLOTS], nl = 0, free_[MP_MAX_SLOTS], nf = 0, s;

	for (s = 0; s < m->c->slots; s++) {
		if (m->pid[s] > 0)
			live[nl++] = s;
	}
	if (nl == 0)
		return;
	s = live[rnd(m, nl)];
	kill_slot(m, s, false);
	/* Respawn: the same domid, or one not in use. */
	for (uint32_t t = 0; t < m->c->slots; t++)
		if (m->pid[t] == 0 && t != s)
			free_[nf++] = t;
	if (nf > 0 && rnd(m, 2) == 0)
		s = free_[rnd(m, nf)];
	/* One respawn in 4 is killed again within 0-20 ms: in connect, bind, grants or ring setup. */
	if (rnd(m, 4) == 0 && spawn(m, s, false) == 0) {
		sleep_s(rnd(m, 20000) / 1e6);
		kill_slot(m, s, true);
		m->early_kills++;
	}
	if (spawn(m, s, true) == 0)
		m->respawns++;
}

/*
 * Every client alive through a whole window of MP_PROGRESS_S made calls in
 * it: the deaths around it never stall a survivor. (3 s, not less: a loaded
 * 2-core CI machine under ASan must not make it flaky.)
 */
#define MP_PROGRESS_S 3.0
static void
check_progress(struct mp *m)
{
	double t = now_s();

	if (t - m->progress_t < MP_PROGRESS_S)
		return;
	for (uint32_t s = 0; s < m->c->slots; s++) {
		uint64_t calls = atomic_load(&m->b->slot[s].calls);
		uint32_t gen = atomic_load(&m->b->slot[s].gen);

		if (m->progress_t > 0 && m->pid[s] > 0 && gen == m->progress_gen[s] &&
		    atomic_load(&m->b->slot[s].alive) && calls == m->progress_calls[s])
			VIOL(m, "client dom %u made no call in %.1f s", s + 1, t - m->progress_t);
		m->progress_calls[s] = calls;
		m->progress_gen[s] = gen;
	}
	m->progress_t = t;
}

/* ---- garbage on fresh connections ------------------------------------------- */

static int
garbage_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 2};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send @p n bytes (with an fd attached when @p with_fd); the reply must be a refusal or EOF. */
static int
garbage_one(int fd, const void *msg, size_t n, bool with_fd, bool eof_ok)
{
	_Alignas(8) uint8_t rep[GNTDP_CTL_MAX_MSG];
	const struct gntdp_ctl_reply *r = (const void *)rep;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = n};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t got;

	if (with_fd) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &devnull, sizeof(int));
		got = sendmsg(fd, &mh, MSG_NOSIGNAL);
		close(devnull);
	} else {
		got = sendmsg(fd, &mh, MSG_NOSIGNAL);
	}
	if (got < 0)
		return eof_ok && (errno == EPIPE || errno == ECONNRESET) ? 1 : -1;
	got = recv(fd, rep, sizeof(rep), 0);
	/* Closed with our next message unread: a reset rather than an EOF. */
	if ((got == 0 || (got < 0 && errno == ECONNRESET)) && eof_ok)
		return 1;
	if (got < (ssize_t)sizeof(*r) || r->hdr.magic != GNTDP_CTL_MAGIC ||
	    !(r->hdr.type & GNTDP_CTL_REPLY) || r->err >= 0 || r->nfds != 0) {
		printf("gntdp-stress: VIOLATION: garbage of %zu bytes (type %u len %u)%s: reply of "
		       "%zd bytes (%s), err %d\n", n, ((const struct gntdp_ctl_hdr *)msg)->type,
		       ((const struct gntdp_ctl_hdr *)msg)->len, with_fd ? " with an fd" : "", got,
		       got < 0 ? strerror(errno) : "", got >= (ssize_t)sizeof(*r) ? r->err : 0);
		return -1;
	}
	return 0;
}

/* One connection's worth of garbage of kind @p kind; 0 or -1 (a violation printed). */
static int
garbage_conn(const char *path, uint64_t *rng, unsigned int kind)
{
	_Alignas(8) uint8_t msg[GNTDP_CTL_MAX_MSG + 64];
	struct gntdp_ctl_hello *h = (void *)msg;
	size_t n = sizeof(*h);
	int fd = garbage_connect(path), rc = 0;
	bool fd_on = false;

	if (fd < 0)
		return 0; /* max_connections or the daemon busy: not a violation by itself */
	for (size_t i = 0; i < sizeof(msg); i++) {
		*rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
		msg[i] = (uint8_t)*rng;
	}
	*h = (struct gntdp_ctl_hello){.hdr = {.magic = GNTDP_CTL_MAGIC,
					      .version = GNTDP_CTL_VERSION,
					      .type = GNTDP_CTL_HELLO, .len = sizeof(*h)},
				      .min_version = 1, .max_version = 1};
	switch (kind % 7) {
	case 0: /* random bytes, random size */
		n = *rng % (GNTDP_CTL_MAX_MSG + 64);
		memcpy(msg, &(uint32_t){(uint32_t)*rng | 1u}, 4); /* never the magic... */
		if (h->hdr.magic == GNTDP_CTL_MAGIC)
			h->hdr.magic++;
		break;
	case 1: h->hdr.magic ^= 0x100; break;
	case 2: h->hdr.version = (uint16_t)(2 + *rng % 1000); break;
	case 3: h->hdr.len = (uint32_t)(*rng % 8192); if (h->hdr.len == n) h->hdr.len++; break;
	case 4: h->hdr.type = (uint16_t)(GNTDP_CTL_NB_TYPES + *rng % 100); break;
	case 5: fd_on = true; break;
	default: /* a type's header, a random body of the wrong size */
		h->hdr.type = (uint16_t)(1 + *rng % (GNTDP_CTL_NB_TYPES - 1));
		n = 16 + *rng % 200;
		if (n == sizeof(*h))
			n++;
		h->hdr.len = (uint32_t)n;
		break;
	}
	/* Repeat it past the bad-message limit: 16 refusals, then EOF, never silence. */
	for (unsigned int i = 0; i <= GNTDP_CTL_MAX_BAD_MSGS && rc == 0; i++)
		rc = garbage_one(fd, msg, n, fd_on, i == GNTDP_CTL_MAX_BAD_MSGS);
	close(fd);
	if (rc == 0)
		printf("gntdp-stress: VIOLATION: garbage kind %u: the connection is open after "
		       "%u bad messages\n", kind % 7, GNTDP_CTL_MAX_BAD_MSGS + 1);
	return rc == 1 ? 0 : -1;
}

static pid_t
start_garbage(struct mp *m)
{
	pid_t pid = fork();

	if (pid == 0) {
		uint64_t rng = m->c->seed * 0x2545f4914f6cdd1dull + 7, n = 0;

		while (atomic_load(&m->b->stop) == 0) {
			if (garbage_conn(m->sock, &rng, (unsigned int)(n++ % 7)) < 0)
				_exit(1);
			sleep_s(m->c->garbage_every);
		}
		printf("gntdp-stress: garbage: %llu connections, every reply a refusal or EOF\n",
		       (unsigned long long)n);
		_exit(0);
	}
	return pid;
}

/* ---- the run -------------------------------------------------------------- */

static int
setup(struct mp *m)
{
	int rc;

	m->board_fd = memfd_create("gntdp-stress-mp-board", 0);
	if (m->board_fd < 0 || ftruncate(m->board_fd, sizeof(*m->b)) < 0)
		return -errno;
	m->b = mmap(NULL, sizeof(*m->b), PROT_READ | PROT_WRITE, MAP_SHARED, m->board_fd, 0);
	if (m->b == MAP_FAILED)
		return -errno;
	m->b->nb_slots = m->c->slots;
	if (m->c->socket[0] != '\0') {
		snprintf(m->sock, sizeof(m->sock), "%s", m->c->socket);
	} else {
		rc = start_daemon(m);
		if (rc < 0)
			return rc;
	}
	/* The privileged connection for DOMAIN_LIST: the library's hello, then raw. */
	rc = gntdp_client_connect(m->sock, &m->list_conn);
	if (rc < 0)
		return rc;
	m->list_fd = gntdp_client_fd(m->list_conn);
	return domain_list(m) < 0 ? -EPERM : 0;
}

static void
finish(struct mp *m)
{
	double t0 = now_s();
	uint64_t calls = 0, ops = 0, okay = 0, raced = 0;

	atomic_store(&m->b->stop, 1);
	for (uint32_t s = 0; s < m->c->slots; s++)
		while (m->pid[s] > 0 && atomic_load(&m->b->slot[s].stopped) == 0 &&
		       now_s() - t0 < 10.0)
			sleep_s(0.001);
	atomic_store(&m->b->stop, 2);
	for (uint32_t s = 0; s < m->c->slots; s++) {
		int st;

		if (m->pid[s] <= 0)
			continue;
		if (atomic_load(&m->b->slot[s].stopped) == 0) {
			VIOL(m, "client dom %u did not stop in 10 s: killed", s + 1);
			kill(m->pid[s], SIGKILL);
		}
		if (waitpid(m->pid[s], &st, 0) != m->pid[s] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			VIOL(m, "client dom %u did not exit clean (status 0x%x)", s + 1, st);
		m->pid[s] = 0;
	}
	if (m->garbage > 0) {
		int st;

		if (waitpid(m->garbage, &st, 0) != m->garbage || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			VIOL(m, "the garbage process found a bad reply (status 0x%x)", st);
	}
	check_list(m, "after every client exited");
	/* Every domain's memfds, rings and eventfds went with it: the fds of the start. */
	for (double t = now_s(); m->fds0 >= 0 && daemon_fds(m) != m->fds0 && now_s() - t < 2.0;)
		sleep_s(0.01);
	if (m->fds0 >= 0 && daemon_fds(m) != m->fds0)
		VIOL(m, "gntdpd holds %d fds after every client exited, %d before the first",
		     daemon_fds(m), m->fds0);
	else if (m->fds0 >= 0)
		printf("gntdp-stress: gntdpd: %d fds before the first client and after the last\n",
		       m->fds0);
	for (uint32_t s = 0; s < m->c->slots; s++) {
		calls += atomic_load(&m->b->slot[s].calls);
		ops += atomic_load(&m->b->slot[s].ops);
		okay += atomic_load(&m->b->slot[s].okay);
		raced += atomic_load(&m->b->slot[s].raced);
	}
	printf("gntdp-stress: multiprocess: %llu kills (%llu during setup), %llu respawns, "
	       "%llu calls, %llu copies "
	       "(%llu okay, %llu failed racing a peer's death), %llu domain lists\n",
	       (unsigned long long)m->kills, (unsigned long long)m->early_kills,
	       (unsigned long long)m->respawns,
	       (unsigned long long)calls, (unsigned long long)ops, (unsigned long long)okay,
	       (unsigned long long)raced, (unsigned long long)m->lists);
	if (ops == 0 || okay == 0)
		VIOL(m, "no copy succeeded");
}

/* An empty binary path: @p rel from this binary's directory. */
static void
default_path(char *p, size_t len, const char *rel)
{
	char self[200];
	ssize_t n;

	if (p[0] != '\0')
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	if (strrchr(self, '/') != NULL)
		*strrchr(self, '/') = '\0';
	snprintf(p, len, "%s/%s", self, rel);
}

int
mp_main(const struct stress_conf *sc)
{
	static struct mp_conf c;
	struct mp m0 = {.c = &c, .rng = sc->seed * 0x9e3779b97f4a7c15ull + 1}, *m = &m0;
	double end;
	int rc, st;

	c = sc->mp;
	c.seed = sc->seed;
	c.duration = sc->duration;
	default_path(c.daemon, sizeof(c.daemon), "../gntdpd/gntdpd");
	default_path(c.client, sizeof(c.client), "gntdp-stress-mp-client");

	signal(SIGPIPE, SIG_IGN);
	if (m->c->clients > m->c->slots) {
		APP_LOG(ERR, "gntdp-stress: [multiprocess] clients above slots");
		return APP_EXIT_USAGE;
	}
	rc = setup(m);
	if (rc < 0) {
		printf("gntdp-stress: multiprocess setup: %s\n", strerror(-rc));
		if (m->daemon > 0)
			kill(m->daemon, SIGTERM), waitpid(m->daemon, NULL, 0);
		return rc == -ENOMEM ? 77 : APP_EXIT_USAGE;
	}
	m->fds0 = daemon_fds(m);
	for (uint32_t s = 0; s < m->c->clients; s++)
		spawn(m, s, true);
	check_list(m, "after the start");
	if (m->c->garbage)
		m->garbage = start_garbage(m);
	end = now_s() + m->c->duration;
	while (now_s() < end && daemon_up(m)) {
		sleep_s(m->c->kill_every * (0.5 + rnd(m, 1000) / 1000.0));
		reap_unexpected(m);
		check_progress(m);
		kill_one(m);
	}
	reap_unexpected(m);
	finish(m);
	gntdp_client_close(m->list_conn);
	munmap(m->b, sizeof(*m->b));
	close(m->board_fd);
	if (m->daemon > 0 && daemon_up(m)) {
		kill(m->daemon, SIGTERM);
		if (waitpid(m->daemon, &st, 0) != m->daemon || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			VIOL(m, "gntdpd did not exit clean on SIGTERM (status 0x%x)", st);
	}
	if (m->dir[0] != '\0' && m->violations == 0) {
		unlink(m->log);
		rmdir(m->dir);
	} else if (m->dir[0] != '\0') {
		printf("gntdp-stress: the daemon's log: %s\n", m->log);
	}
	return m->violations == 0 ? EXIT_SUCCESS : 1;
}
