/* SPDX-License-Identifier: MIT */
/*
 * Event channels through libgntdp-client and a real gntdpd (suite daemon),
 * each domain a process of its own (docs/daemon.md "Event channels"):
 *
 *  - channel: domain 40 allocates a port unbound for 41, 41 binds it (its
 *    new port starts pending, as in Xen), a notify of either side makes
 *    the other's fd readable and pending() return the port; two notifies
 *    while masked give one event after unmask, none before; pending()
 *    blocks until the notify comes; unbind/notify of a port of another
 *    handle is -ENOTCONN, of a port out of range -EINVAL; binding a port
 *    that is bound, unbound for another domain, missing, or of a missing
 *    domain fails as Xen's bind_interdomain (-EINVAL, -ESRCH); when 41
 *    closes its end, 40's port is unbound for 41 again and a new bind
 *    works; when 40 closes its end, 41's port is unbound for 40 and 40 can
 *    bind it; a loopback channel within one domain works.
 *  - killed: a process of domain 42 binds to 40's port and is SIGKILLed:
 *    40's port returns to unbound for 42, and a new process of 42 binds it
 *    and notifies.
 *  - quota: ports are never 0 and distinct, and the 65th port of a domain
 *    ([domains] max_evtchns = 64) is -ENOSPC; alloc_unbound of another
 *    domain's port (raw EVTCHN_ALLOC_UNBOUND with dom != DOMID_SELF) is
 *    -EPERM (-EOPNOTSUPP for a privileged caller); unserved type numbers
 *    are -EOPNOTSUPP; the generation page's fd neither maps writable nor
 *    takes write(2) or ftruncate.
 *  - early_notifies: two notifies before the first pending() give two
 *    events (Xen's kernel takes the first at once and masks the port, the
 *    second latches), two while masked one.
 *  - spin: GNTDP_EVTCHN_SPIN_US=1000 makes a 50 ms pending() spend CPU
 *    first and still return the port; unset, 1001, -1 and 20x spend none.
 *  - hostile_line: domain 37 writes garbage over the channel page it shares
 *    with 38 while notifying; 38's channel with 36 loses nothing (200
 *    round trips), 38 only sees events on 37's port.
 *  - daemon_stopped: once 46 and 47 exchanged one notify each way, gntdpd
 *    is SIGSTOPped and they ping 1000 round trips: a notify is the
 *    sender's write to the receiver's eventfd, the daemon plays no part.
 *  - latency: notify to pending across the two processes, ping-pong
 *    (printed: the median of one-way times, half a round trip).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gntdp/client.h>

#include "../tdaemon.h"

#define MAX_EVTCHNS 64 /* configs/gntdpd/gntdpd.ini */
#define PINGS 20000

static char g_sock[100];

#define CHECK(c, ...)                                                                          \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #c);            \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			return -1;                                                             \
		}                                                                              \
	} while (0)

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- a domain's process -------------------------------------------------------- */

struct dom {
	struct gntdp_client *c;
	struct gntdp_client_evtchn *h;
	gntdp_domid_t id;
	int sync; /* to the other process */
};

static int
dom_open(struct dom *d, gntdp_domid_t id)
{
	struct gntdp_client_domain_conf dc;
	int rc;

	rc = gntdp_client_connect(g_sock, &d->c);
	CHECK(rc == 0, "connect: %d", rc);
	gntdp_client_domain_conf_init(&dc);
	dc.domid = id;
	dc.nr_frames = 4;
	dc.max_grant_frames = 1;
	/* The daemon may not have seen the last process of this domid close yet. */
	for (int i = 0; (rc = gntdp_client_bind(d->c, &dc)) == -EEXIST && i < 300; i++)
		usleep(10000);
	CHECK(rc == 0, "bind %u: %d %s", id, rc, gntdp_client_why(d->c));
	rc = gntdp_client_evtchn_open(d->c, &d->h);
	CHECK(rc == 0, "evtchn_open: %d %s", rc, gntdp_client_why(d->c));
	d->id = id;
	return 0;
}

static void
dom_close(struct dom *d)
{
	gntdp_client_evtchn_close(d->h);
	gntdp_client_close(d->c);
}

/* Send a word to the other process and receive its word: a lock step with data. */
static int
xchg(struct dom *d, uint32_t out, uint32_t *in)
{
	struct pollfd p = {.fd = d->sync, .events = POLLIN};
	uint32_t got;

	CHECK(write(d->sync, &out, sizeof(out)) == sizeof(out), "sync write");
	CHECK(poll(&p, 1, 20000) == 1 && read(d->sync, &got, sizeof(got)) == sizeof(got),
	      "the other process is gone (we sent %u)", out);
	if (in != NULL)
		*in = got;
	return 0;
}

/* Whether the handle's fd polls readable within @p ms. */
static bool
readable(struct dom *d, int ms)
{
	struct pollfd p = {.fd = gntdp_client_evtchn_fd(d->h), .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Port @p port is pending now (fd readable, pending() returns it); then unmasked. */
static int
expect_event(struct dom *d, int port)
{
	int p;

	CHECK(readable(d, 3000), "port %d: the fd is not readable", port);
	p = gntdp_client_evtchn_pending(d->h);
	CHECK(p == port, "pending: %d, expected %d", p, port);
	CHECK(!readable(d, 0), "port %d: still readable after pending()", port);
	CHECK(gntdp_client_evtchn_unmask(d->h, (uint32_t)port) == 0, "unmask");
	return 0;
}

static int
server(struct dom *d)
{
	int p, p42, rc;
	uint32_t q, got;
	int64_t t0;

	p = gntdp_client_evtchn_alloc_unbound(d->h, 41);
	CHECK(p > 0, "alloc_unbound: %d", p);
	p42 = gntdp_client_evtchn_alloc_unbound(d->h, 42);
	CHECK(p42 > 0 && p42 != p, "alloc_unbound 42: %d", p42);
	if (xchg(d, (uint32_t)p, &q) || xchg(d, (uint32_t)p42, NULL))
		return -1;
	/* An unbound port gets nothing; the client bound (q) and notified once. */
	if (xchg(d, 0, NULL) != 0 || expect_event(d, p) != 0)
		return -1;
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)p) == 0, "notify back");
	/* Latch: two notifies while masked, one event after unmask. */
	if (xchg(d, 0, NULL) != 0)
		return -1;
	CHECK(readable(d, 3000), "not readable");
	CHECK(gntdp_client_evtchn_pending(d->h) == p, "pending");
	if (xchg(d, 1, NULL) != 0) /* now masked: the client notifies twice */
		return -1;
	if (xchg(d, 2, NULL) != 0)
		return -1;
	CHECK(!readable(d, 100), "readable while masked");
	CHECK(gntdp_client_evtchn_unmask(d->h, (uint32_t)p) == 0, "unmask");
	if (expect_event(d, p) != 0)
		return -1;
	CHECK(!readable(d, 100), "two notifies while masked gave two events");
	/* pending() blocks until the notify comes (the client waits 200 ms). */
	if (xchg(d, 3, NULL) != 0)
		return -1;
	t0 = now_ns();
	rc = gntdp_client_evtchn_pending(d->h);
	CHECK(rc == p, "blocking pending: %d", rc);
	CHECK(now_ns() - t0 > 150000000, "pending did not block (%lld ns)",
	      (long long)(now_ns() - t0));
	CHECK(gntdp_client_evtchn_unmask(d->h, (uint32_t)p) == 0, "unmask");
	/* The client closes its end: p is unbound for 41 again, a new bind connects. */
	if (xchg(d, 4, NULL) != 0 || xchg(d, 5, NULL) != 0) /* closed, rebound + notified */
		return -1;
	if (expect_event(d, p) != 0)
		return -1;
	/* We close ours: the client's port is unbound for 40; we bind it. */
	CHECK(gntdp_client_evtchn_unbind(d->h, (uint32_t)p) == 0, "unbind");
	CHECK(gntdp_client_evtchn_unbind(d->h, (uint32_t)p) == -ENOTCONN, "second unbind");
	/* The client notifies its (now unbound) port, then tells us which it is. */
	if (xchg(d, 6, NULL) != 0 || xchg(d, 0, &q) != 0)
		return -1;
	p = gntdp_client_evtchn_bind_interdomain(d->h, 41, q);
	CHECK(p > 0, "bind back to the client's port %u: %d %s", q, p, gntdp_client_why(d->c));
	if (expect_event(d, p) != 0) /* Xen: a new bind starts pending */
		return -1;
	CHECK(!readable(d, 50), "the client's notify while unbound was delivered");
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)p) == 0, "notify");
	if (xchg(d, 7, &got) != 0 || got != 7)
		return -1;
	/* Loopback: both ends in this domain. */
	{
		int a = gntdp_client_evtchn_alloc_unbound(d->h, GNTDP_DOMID_SELF), b;

		CHECK(a > 0, "loopback alloc: %d", a);
		b = gntdp_client_evtchn_bind_interdomain(d->h, GNTDP_DOMID_SELF, (uint32_t)a);
		CHECK(b > 0 && b != a, "loopback bind: %d", b);
		if (expect_event(d, b) != 0)
			return -1;
		CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)b) == 0, "loopback notify");
		if (expect_event(d, a) != 0)
			return -1;
		CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)a) == 0, "loopback notify");
		if (expect_event(d, b) != 0)
			return -1;
		CHECK(gntdp_client_evtchn_unbind(d->h, (uint32_t)a) == 0, "unbind a");
		CHECK(gntdp_client_evtchn_unbind(d->h, (uint32_t)b) == 0, "unbind b");
	}
	return 0;
}

static int
client(struct dom *d)
{
	struct gntdp_client_evtchn *h2;
	uint32_t p, p42, v;
	int q, rc;

	if (xchg(d, 0, &p) || xchg(d, 0, &p42))
		return -1;
	/* Domid checks of bind_interdomain. */
	CHECK(gntdp_client_evtchn_bind_interdomain(d->h, 99, p) == -ESRCH, "missing domain");
	CHECK(gntdp_client_evtchn_bind_interdomain(d->h, 40, p42) == -EINVAL,
	      "a port unbound for 42");
	CHECK(gntdp_client_evtchn_bind_interdomain(d->h, 40, 0) == -EINVAL, "port 0");
	CHECK(gntdp_client_evtchn_bind_interdomain(d->h, 40, 60) == -EINVAL, "a free port");
	CHECK(gntdp_client_evtchn_bind_interdomain(d->h, 40, 5000) == -EINVAL, "out of range");
	q = gntdp_client_evtchn_bind_interdomain(d->h, 40, p);
	CHECK(q > 0, "bind: %d %s", q, gntdp_client_why(d->c));
	CHECK(gntdp_client_evtchn_bind_interdomain(d->h, 40, p) == -EINVAL, "bound twice");
	if (expect_event(d, q) != 0) /* Xen: the new port starts pending */
		return -1;
	/* Ports of another handle, and out of range. */
	CHECK(gntdp_client_evtchn_open(d->c, &h2) == 0, "second handle");
	CHECK(gntdp_client_evtchn_unbind(h2, (uint32_t)q) == -ENOTCONN, "unbind on h2");
	CHECK(gntdp_client_evtchn_notify(h2, (uint32_t)q) == -ENOTCONN, "notify on h2");
	CHECK(gntdp_client_evtchn_unmask(h2, (uint32_t)q) == 0, "unmask on h2 is ignored");
	CHECK(gntdp_client_evtchn_unbind(d->h, 5000) == -EINVAL, "unbind out of range");
	CHECK(gntdp_client_evtchn_notify(d->h, 5000) == -EINVAL, "notify out of range");
	gntdp_client_evtchn_close(h2);
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)q) == 0, "notify");
	if (xchg(d, (uint32_t)q, NULL) != 0 || expect_event(d, q) != 0)
		return -1;
	/* Latch. */
	if (xchg(d, 0, NULL) != 0)
		return -1;
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)q) == 0, "notify");
	if (xchg(d, 0, NULL) != 0) /* it took it: masked now */
		return -1;
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)q) == 0, "notify 1");
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)q) == 0, "notify 2");
	if (xchg(d, 0, NULL) != 0)
		return -1;
	/* Blocking pending on the other side. */
	if (xchg(d, 0, NULL) != 0)
		return -1;
	usleep(200000);
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)q) == 0, "notify");
	/* Our close: 40's port is unbound for us again. */
	CHECK(gntdp_client_evtchn_unbind(d->h, (uint32_t)q) == 0, "unbind");
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)q) == -ENOTCONN, "notify after unbind");
	if (xchg(d, 0, NULL) != 0)
		return -1;
	q = gntdp_client_evtchn_bind_interdomain(d->h, 40, p);
	CHECK(q > 0, "rebind: %d %s", q, gntdp_client_why(d->c));
	if (expect_event(d, q) != 0)
		return -1;
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)q) == 0, "notify");
	if (xchg(d, 0, NULL) != 0)
		return -1;
	/* 40 closed its end (before answering 6): q is unbound for 40; a notify is dropped. */
	if (xchg(d, 0, &v) != 0 || v != 6)
		return -1;
	rc = gntdp_client_evtchn_notify(d->h, (uint32_t)q);
	CHECK(rc == 0, "notify on an unbound port: %d", rc);
	if (xchg(d, (uint32_t)q, NULL) != 0)
		return -1;
	/* 40 binds to q: its port starts pending; it notifies us. */
	if (expect_event(d, q) != 0)
		return -1;
	if (xchg(d, 7, NULL) != 0)
		return -1;
	return 0;
}

/* ---- killed: domain 42's process dies with a bound port ---------------------------- */

static int
victim(int ready, uint32_t p)
{
	struct dom d = {0};
	int q;

	if (dom_open(&d, 42) != 0)
		return 1;
	q = gntdp_client_evtchn_bind_interdomain(d.h, 40, p);
	CHECK(q > 0, "victim bind: %d %s", q, gntdp_client_why(d.c));
	CHECK(write(ready, &q, sizeof(q)) == sizeof(q), "ready");
	pause();
	return 0;
}

static int
test_killed(void)
{
	struct dom d = {0};
	int ready[2], p, q, st;
	pid_t pid;

	if (dom_open(&d, 40) != 0)
		return -1;
	p = gntdp_client_evtchn_alloc_unbound(d.h, 42);
	CHECK(p > 0, "alloc: %d", p);
	for (int round = 0; round < 2; round++) {
		CHECK(pipe(ready) == 0, "pipe");
		pid = fork();
		if (pid == 0) {
			close(ready[0]);
			alarm(30);
			_exit(victim(ready[1], (uint32_t)p));
		}
		close(ready[1]);
		CHECK(read(ready[0], &q, sizeof(q)) == sizeof(q), "the victim did not bind");
		close(ready[0]);
		/* Bound: a notify from here reaches it (nothing to see); kill it. */
		CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)p) == 0, "notify the victim");
		kill(pid, SIGKILL);
		CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st), "victim status 0x%x", st);
	}
	/* Each new process of 42 could bind: so the port went back to unbound for 42 twice. */
	dom_close(&d);
	return 0;
}

/* ---- stop and continue: pending() as Linux's evtchn read --------------------------- */

static void
on_signal(int sig)
{
	(void)sig;
}

/*
 * Domain 49: bound to 48's port p, takes the bind's initial event, then
 * blocks in pending() with a handler for @p sig installed without
 * SA_RESTART. Exit 0 when pending() returned the port, 3 for -EINTR.
 */
static int
stop_child(int ready, uint32_t p, int sig)
{
	struct sigaction sa;
	struct dom d = {0};
	int q, r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0, "sigaction");
	if (dom_open(&d, 49) != 0)
		return 1;
	q = gntdp_client_evtchn_bind_interdomain(d.h, 48, p);
	CHECK(q > 0, "bind: %d %s", q, gntdp_client_why(d.c));
	if (expect_event(&d, q) != 0) /* the new port starts pending */
		return 1;
	CHECK(write(ready, &q, sizeof(q)) == sizeof(q), "ready");
	r = gntdp_client_evtchn_pending(d.h);
	if (r == -EINTR)
		return 3;
	CHECK(r == q, "pending: %d, expected %d", r, q);
	dom_close(&d);
	return 0;
}

/* Fork stop_child(sig), disturb it with @p send (SIGSTOP + SIGCONT when 0), notify it. */
static int
stop_round(struct dom *d, int p, int sig, int send, int want)
{
	int ready[2], q, st;
	pid_t pid;

	CHECK(pipe(ready) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		alarm(30);
		_exit(stop_child(ready[1], (uint32_t)p, sig));
	}
	close(ready[1]);
	CHECK(read(ready[0], &q, sizeof(q)) == sizeof(q), "the child did not bind");
	close(ready[0]);
	usleep(100000); /* in epoll_wait by now */
	if (send == 0) {
		kill(pid, SIGSTOP);
		usleep(50000);
		kill(pid, SIGCONT);
	} else {
		kill(pid, send);
	}
	usleep(100000);
	CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)p) == 0, "notify");
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == want,
	      "signal %d, handler for %d: status 0x%x, expected exit %d", send, sig, st, want);
	return 0;
}

/*
 * Linux's read() of the evtchn device restarts after a stop and continue
 * and fails with EINTR only when a handler without SA_RESTART ran. A crash
 * handler (SIGSEGV, as ASan installs) must not turn a SIGSTOP/SIGCONT into
 * EINTR (libxenvchan would report the vchan closed); a SIGUSR1 handler that
 * runs does.
 */
static int
test_stop_cont(void)
{
	struct dom d = {0};
	int p;

	if (dom_open(&d, 48) != 0)
		return -1;
	p = gntdp_client_evtchn_alloc_unbound(d.h, 49);
	CHECK(p > 0, "alloc: %d", p);
	if (stop_round(&d, p, SIGSEGV, 0, 0) != 0 || stop_round(&d, p, SIGBUS, 0, 0) != 0 ||
	    stop_round(&d, p, SIGUSR1, SIGUSR1, 3) != 0)
		return -1;
	dom_close(&d);
	return 0;
}

/*
 * Xen's kernel takes an event the moment it comes and masks the port; a
 * second notify before the program's pending() is latched and comes again
 * after unmask(). Two notifies before the first pending() must not fold
 * into one: vchan-socket-proxy's server takes one event in its
 * wait-for-connect loop, then sleeps in select() for the next one while the
 * client's first data (sent right after its connect notify) waits in the
 * ring. Loopback within domain 44.
 */
static int
test_early_notifies(void)
{
	struct dom d = {0};
	int a, b;

	if (dom_open(&d, 44) != 0)
		return -1;
	a = gntdp_client_evtchn_alloc_unbound(d.h, GNTDP_DOMID_SELF);
	CHECK(a > 0, "alloc: %d", a);
	b = gntdp_client_evtchn_bind_interdomain(d.h, GNTDP_DOMID_SELF, (uint32_t)a);
	CHECK(b > 0, "bind: %d %s", b, gntdp_client_why(d.c));
	if (expect_event(&d, b) != 0) /* the new port starts pending */
		return -1;
	/* Unmasked, nobody waiting: the first is delivered, the second latched. */
	CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)b) == 0, "notify 1");
	CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)b) == 0, "notify 2");
	if (expect_event(&d, a) != 0)
		return -1;
	CHECK(readable(&d, 1000), "the second notify before pending() was lost");
	if (expect_event(&d, a) != 0)
		return -1;
	CHECK(!readable(&d, 100), "two notifies gave three events");
	/* Masked: two notifies latch one event (as in channel), after unmask. */
	CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)b) == 0, "notify");
	CHECK(readable(&d, 1000) && gntdp_client_evtchn_pending(d.h) == a, "pending");
	CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)b) == 0, "masked notify 1");
	CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)b) == 0, "masked notify 2");
	CHECK(gntdp_client_evtchn_unmask(d.h, (uint32_t)a) == 0, "unmask");
	if (expect_event(&d, a) != 0)
		return -1;
	CHECK(!readable(&d, 100), "two notifies while masked gave two events");
	dom_close(&d);
	return 0;
}

/* A notify of port b of handle h after @p delay_us, from another thread. */
struct late {
	struct gntdp_client_evtchn *h;
	uint32_t port;
	unsigned int delay_us;
};

static void *
late_notify(void *arg)
{
	struct late *l = arg;

	usleep(l->delay_us);
	gntdp_client_evtchn_notify(l->h, l->port);
	return NULL;
}

/* pending() while a thread notifies after 50 ms: the port, and the CPU time the wait took. */
static int
timed_wait(struct dom *d, int a, int b, int64_t *cpu_ns)
{
	struct late l = {.h = d->h, .port = (uint32_t)b, .delay_us = 50000};
	struct timespec t0, t1;
	pthread_t t;
	int p;

	CHECK(pthread_create(&t, NULL, late_notify, &l) == 0, "thread");
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	p = gntdp_client_evtchn_pending(d->h);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	pthread_join(t, NULL);
	CHECK(p == a, "pending: %d, expected %d", p, a);
	CHECK(gntdp_client_evtchn_unmask(d->h, (uint32_t)a) == 0, "unmask");
	*cpu_ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
	return 0;
}

/* gntdp_client_evtchn_open(d->c, &d->h) with stderr captured into @out. 0 or -1. */
static int
open_capturing_stderr(struct dom *d, char *out, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), rc;
	size_t n = 0;

	if (tmp == NULL || saved < 0)
		return -1;
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	rc = gntdp_client_evtchn_open(d->c, &d->h);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, size - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return rc == 0 ? 0 : -1;
}

/*
 * GNTDP_EVTCHN_SPIN_US: with 1000, a pending() that waits 50 ms for its
 * notify spends about 1 ms of CPU first and still returns the port; with
 * the variable unset or invalid, the wait costs next to no CPU, and an
 * invalid value is named in one line on stderr. Domain 39,
 * loopback.
 */
static int
test_spin(void)
{
	static const char *const vals[] = {"1000", NULL, "1001", "-1", "20x"};
	const char *env = getenv("GNTDP_EVTCHN_SPIN_US");
	char *saved = env != NULL ? strdup(env) : NULL;
	struct dom d = {0};
	int64_t cpu;

	if (dom_open(&d, 39) != 0)
		return -1;
	gntdp_client_evtchn_close(d.h);
	for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int a, b;

		char said[256] = "";

		if (vals[i] != NULL)
			setenv("GNTDP_EVTCHN_SPIN_US", vals[i], 1);
		else
			unsetenv("GNTDP_EVTCHN_SPIN_US");
		CHECK(open_capturing_stderr(&d, said, sizeof(said)) == 0, "open");
		/* An invalid value is ignored, and says so on stderr; a valid one or none says nothing. */
		if (i >= 2)
			CHECK(strstr(said, "GNTDP_EVTCHN_SPIN_US") != NULL &&
				      strstr(said, vals[i]) != NULL,
			      "GNTDP_EVTCHN_SPIN_US=%s: no warning (stderr: \"%s\")", vals[i], said);
		else
			CHECK(said[0] == '\0', "GNTDP_EVTCHN_SPIN_US=%s: stderr \"%s\"",
			      vals[i] ? vals[i] : "(unset)", said);
		a = gntdp_client_evtchn_alloc_unbound(d.h, GNTDP_DOMID_SELF);
		b = gntdp_client_evtchn_bind_interdomain(d.h, GNTDP_DOMID_SELF, (uint32_t)a);
		CHECK(a > 0 && b > 0, "ports %d %d", a, b);
		if (expect_event(&d, b) != 0 || timed_wait(&d, a, b, &cpu) != 0)
			return -1;
		printf("spin %s: a 50 ms wait took %lld us of CPU\n", vals[i] ? vals[i] : "(unset)",
		       (long long)(cpu / 1000));
		if (i == 0)
			CHECK(cpu > 200000, "GNTDP_EVTCHN_SPIN_US=1000 did not spin (%lld ns)",
			      (long long)cpu);
		else
			CHECK(cpu < 200000, "GNTDP_EVTCHN_SPIN_US=%s spun (%lld ns)",
			      vals[i] ? vals[i] : "(unset)", (long long)cpu);
		gntdp_client_evtchn_close(d.h);
	}
	/* The other cases run as the test was started (client_evtchn_spin: spinning). */
	if (saved != NULL)
		setenv("GNTDP_EVTCHN_SPIN_US", saved, 1);
	else
		unsetenv("GNTDP_EVTCHN_SPIN_US");
	free(saved);
	d.h = NULL;
	gntdp_client_close(d.c);
	return 0;
}

/* The first mapping of a channel page in this process (its memfd's name in maps), or NULL. */
static volatile uint32_t *
chan_page(void)
{
	char line[512];
	void *lo = NULL;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return NULL;
	while (lo == NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long a, b;

		if (strstr(line, "gntdpd-evtchn-chan") != NULL && sscanf(line, "%lx-%lx", &a, &b) == 2)
			lo = (void *)a;
	}
	fclose(f);
	return lo;
}

/* Domain 37: binds 38's port @p p, then scribbles over the channel page and notifies for 2 s. */
static int
scribbler(uint32_t p, int ready)
{
	struct dom d = {0};
	volatile uint32_t *page;
	uint32_t x = 12345;
	int q;
	int64_t t0;

	if (dom_open(&d, 37) != 0)
		return 1;
	q = gntdp_client_evtchn_bind_interdomain(d.h, 38, p);
	CHECK(q > 0, "bind: %d", q);
	page = chan_page();
	CHECK(page != NULL, "no channel page mapped");
	CHECK(write(ready, "r", 1) == 1, "ready");
	for (t0 = now_ns(); now_ns() - t0 < 2000000000;) {
		for (unsigned int i = 0; i < 32; i++) {
			x = x * 1103515245u + 12345u;
			page[i] = (x & 7u) == 0 ? 0xffffffffu : x >> 16;
		}
		x = x * 1103515245u + 12345u;
		if ((x & 0x3f00) == 0)
			gntdp_client_evtchn_notify(d.h, (uint32_t)q);
	}
	return 0;
}

/* Domain 36: binds 38's port @p p, then 200 round trips. */
static int
honest(uint32_t p)
{
	struct dom d = {0};
	int q;

	if (dom_open(&d, 36) != 0)
		return 1;
	q = gntdp_client_evtchn_bind_interdomain(d.h, 38, p);
	CHECK(q > 0, "bind: %d", q);
	if (expect_event(&d, q) != 0)
		return 1;
	for (int i = 0; i < 200; i++) {
		usleep(2000); /* 0.4 s in all, while 37 scribbles */
		CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)q) == 0, "notify");
		if (expect_event(&d, q) != 0) {
			fprintf(stderr, "round trip %d: no answer\n", i);
			return 1;
		}
	}
	dom_close(&d);
	return 0;
}

/*
 * A hostile peer owns half of a channel page: domain 37 binds one of 38's
 * ports and writes garbage over the whole page (counts, flags, kicks) while
 * notifying. 38 may see spurious events on that port; its channel with 36
 * loses nothing: 200 round trips, each answered within 3 s.
 */
static int
test_hostile_line(void)
{
	struct dom d = {0};
	int pa, pb, ready[2], st, answered = 0, spurious = 0;
	pid_t hs, ho;

	if (dom_open(&d, 38) != 0)
		return -1;
	pa = gntdp_client_evtchn_alloc_unbound(d.h, 37);
	pb = gntdp_client_evtchn_alloc_unbound(d.h, 36);
	CHECK(pa > 0 && pb > 0, "alloc: %d %d", pa, pb);
	CHECK(pipe(ready) == 0, "pipe");
	hs = fork();
	if (hs == 0) {
		close(ready[0]);
		alarm(30);
		_exit(scribbler((uint32_t)pa, ready[1]));
	}
	close(ready[1]);
	CHECK(read(ready[0], &st, 1) == 1, "the scribbler did not bind");
	close(ready[0]);
	ho = fork();
	if (ho == 0) {
		alarm(30);
		_exit(honest((uint32_t)pb));
	}
	while (answered < 200) {
		int p;

		CHECK(readable(&d, 3000), "no event within 3 s (%d answered)", answered);
		p = gntdp_client_evtchn_pending(d.h);
		CHECK(p == pa || p == pb, "pending: %d", p);
		CHECK(gntdp_client_evtchn_unmask(d.h, (uint32_t)p) == 0, "unmask");
		if (p == pa) {
			spurious++;
			continue;
		}
		CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)pb) == 0, "answer");
		answered++;
	}
	CHECK(waitpid(ho, &st, 0) == ho && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "domain 36: status 0x%x", st);
	CHECK(waitpid(hs, &st, 0) == hs && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "domain 37: status 0x%x", st);
	printf("hostile_line: 200 round trips with 36, %d events from 37's scribbled port\n",
	       spurious);
	dom_close(&d);
	return 0;
}

/* ---- the daemon stopped: notifications do not go through it ------------------- */

#define STOPPED_PINGS 1000

/* Domains 46 (i 0) and 47 (i 1): bind, one notify each way, then ping while gntdpd is stopped. */
static int
stopped_child(int i, int sync, int ready, int go)
{
	struct dom d = {.sync = sync};
	uint32_t port;
	int p;
	char b;

	if (dom_open(&d, (gntdp_domid_t)(46 + i)) != 0)
		return -1;
	if (i == 0) {
		p = gntdp_client_evtchn_alloc_unbound(d.h, 47);
		CHECK(p > 0, "alloc: %d", p);
		if (xchg(&d, (uint32_t)p, NULL) != 0 || expect_event(&d, p) != 0)
			return -1;
		/* This notify fetches the peer's eventfd (the bind moved the generation). */
		CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)p) == 0, "notify");
	} else {
		if (xchg(&d, 0, &port) != 0)
			return -1;
		p = gntdp_client_evtchn_bind_interdomain(d.h, 46, port);
		CHECK(p > 0, "bind: %d", p);
		if (expect_event(&d, p) != 0)
			return -1;
		CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)p) == 0, "notify");
		if (expect_event(&d, p) != 0)
			return -1;
	}
	CHECK(write(ready, "r", 1) == 1, "ready");
	CHECK(read(go, &b, 1) == 1, "go");
	for (int k = 0; k < STOPPED_PINGS; k++) {
		if (i == 0)
			CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)p) == 0, "notify %d", k);
		CHECK(readable(&d, 2000), "ping %d: nothing came with gntdpd stopped", k);
		CHECK(gntdp_client_evtchn_pending(d.h) == p, "pending");
		CHECK(gntdp_client_evtchn_unmask(d.h, (uint32_t)p) == 0, "unmask");
		if (i == 1)
			CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)p) == 0, "notify %d", k);
	}
	CHECK(write(ready, "d", 1) == 1, "done");
	CHECK(read(go, &b, 1) == 1, "go"); /* close only once the daemon runs again */
	dom_close(&d);
	return 0;
}

static int
test_daemon_stopped(void)
{
	int sv[2], ready[2], go[2], bad = 0;
	pid_t pids[2];
	char b;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0 && pipe(ready) == 0 &&
	      pipe(go) == 0, "socketpair/pipe");
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(sv[1 - i]);
			alarm(60);
			_exit(stopped_child(i, sv[i], ready[1], go[0]) == 0 ? 0 : 1);
		}
	}
	close(sv[0]);
	close(sv[1]);
	close(ready[1]);
	close(go[0]);
	bad |= read(ready[0], &b, 1) != 1 || read(ready[0], &b, 1) != 1;
	bad |= td_stop(td_pid) != 0; /* every thread, the worker too */
	bad |= write(go[1], "gg", 2) != 2;
	/* Both pinged STOPPED_PINGS round trips (or failed: then the reads see EOF). */
	bad |= read(ready[0], &b, 1) != 1 || read(ready[0], &b, 1) != 1;
	kill(td_pid, SIGCONT);
	bad |= write(go[1], "gg", 2) != 2;
	close(go[1]);
	close(ready[0]);
	for (int i = 0; i < 2; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "domain %d: status 0x%x\n", 46 + i, st);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* ---- quota and raw checks ---------------------------------------------------- */

static int
test_quota(void)
{
	struct dom d = {0};
	bool seen[GNTDP_EVTCHN_MAX_PORTS] = {false};
	int n = 0, p;

	if (dom_open(&d, 43) != 0)
		return -1;
	while ((p = gntdp_client_evtchn_alloc_unbound(d.h, 44)) > 0) {
		CHECK(p < (int)GNTDP_EVTCHN_MAX_PORTS && !seen[p], "port %d twice or too big", p);
		seen[p] = true;
		n++;
		CHECK(n <= MAX_EVTCHNS, "more than max_evtchns ports");
	}
	CHECK(p == -ENOSPC && n == MAX_EVTCHNS, "after %d ports: %d", n, p);
	CHECK(!seen[0], "port 0 handed out");
	/* Freed ports come back. */
	CHECK(gntdp_client_evtchn_unbind(d.h, 7) == 0, "unbind 7");
	CHECK(gntdp_client_evtchn_alloc_unbound(d.h, 44) == 7, "the freed port is not reused");
	dom_close(&d);
	return 0;
}

/* ---- latency ------------------------------------------------------------------- */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
ping(struct dom *d, bool first, int port)
{
	static int64_t rtt[PINGS];

	for (int i = 0; i < PINGS; i++) {
		int64_t t0 = now_ns();
		int p;

		if (first)
			CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)port) == 0, "notify");
		p = gntdp_client_evtchn_pending(d->h);
		CHECK(p == port, "pending: %d", p);
		CHECK(gntdp_client_evtchn_unmask(d->h, (uint32_t)port) == 0, "unmask");
		if (!first)
			CHECK(gntdp_client_evtchn_notify(d->h, (uint32_t)port) == 0, "notify");
		rtt[i] = now_ns() - t0;
	}
	if (first) {
		qsort(rtt, PINGS, sizeof(rtt[0]), cmp_i64);
		printf("evtchn latency: notify to pending across two processes, one way (half a "
		       "round trip), %d round trips: median %lld ns, p90 %lld ns, p99 %lld ns\n",
		       PINGS, (long long)rtt[PINGS / 2] / 2, (long long)rtt[PINGS * 9 / 10] / 2,
		       (long long)rtt[PINGS * 99 / 100] / 2);
		CHECK(rtt[PINGS / 2] / 2 < 1000000, "median one-way latency above 1 ms");
	}
	return 0;
}

static int
pair_child(int i, int sync)
{
	struct dom d = {.sync = sync};
	uint32_t port;
	int rc, q;

	if (dom_open(&d, (gntdp_domid_t)(40 + i)) != 0)
		return 1;
	rc = i == 0 ? server(&d) : client(&d);
	if (rc != 0)
		return 1;
	/* Latency: a fresh channel, 40 pings first. */
	if (i == 0) {
		q = gntdp_client_evtchn_alloc_unbound(d.h, 41);
		CHECK(q > 0, "alloc: %d", q);
		if (xchg(&d, (uint32_t)q, NULL) != 0)
			return 1;
		if (expect_event(&d, q) != 0) /* its first notify: bound */
			return 1;
		rc = ping(&d, true, q);
	} else {
		if (xchg(&d, 0, &port) != 0)
			return 1;
		q = gntdp_client_evtchn_bind_interdomain(d.h, 40, port);
		CHECK(q > 0, "bind: %d", q);
		if (expect_event(&d, q) != 0)
			return 1;
		CHECK(gntdp_client_evtchn_notify(d.h, (uint32_t)q) == 0, "notify");
		rc = ping(&d, false, q);
	}
	if (rc != 0)
		return 1;
	if (xchg(&d, 9, NULL) != 0)
		return 1;
	dom_close(&d);
	return 0;
}

static int
test_channel(void)
{
	int sv[2], bad = 0;
	pid_t pids[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(sv[1 - i]);
			alarm(60);
			_exit(pair_child(i, sv[i]));
		}
	}
	close(sv[0]);
	close(sv[1]);
	for (int i = 0; i < 2; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "domain %d: status 0x%x\n", 40 + i, st);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/*
 * One raw request on a bound client's socket (no library request runs
 * meanwhile): the reply's err, or for EVTCHN_ALLOC_UNBOUND the port (its
 * eventfd closed).
 */
static int
raw(struct gntdp_client *c, uint16_t type, uint32_t w0, uint32_t w1)
{
	struct gntdp_ctl_evtchn_alloc m = {.dom = w0, .remote_dom = w1};
	union {
		struct gntdp_ctl_reply r;
		uint8_t b[GNTDP_CTL_MAX_MSG];
	} u;
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = {.iov_base = u.b, .iov_len = sizeof(u.b)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			    .msg_controllen = sizeof(cm.b)};
	struct gntdp_ctl_evtchn_status st;
	int fd = gntdp_client_fd(c);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	ssize_t n;

	m.hdr = (struct gntdp_ctl_hdr){.magic = GNTDP_CTL_MAGIC, .version = GNTDP_CTL_VERSION,
				       .type = type, .len = sizeof(m), .seq = 777};
	CHECK(send(fd, &m, sizeof(m), 0) == sizeof(m), "send");
	CHECK(poll(&pf, 1, 5000) == 1, "no reply");
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	CHECK(n >= (ssize_t)sizeof(u.r) && u.r.hdr.seq == 777, "reply: %zd", n);
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h != NULL; h = CMSG_NXTHDR(&mh, h)) {
		for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int f;

			memcpy(&f, CMSG_DATA(h) + i * sizeof(int), sizeof(f));
			close(f);
		}
	}
	if (u.r.err != 0 || type != GNTDP_CTL_EVTCHN_ALLOC_UNBOUND)
		return u.r.err;
	CHECK(n == (ssize_t)(sizeof(u.r) + sizeof(st)) && u.r.nfds == 1, "alloc reply");
	memcpy(&st, u.b + sizeof(u.r), sizeof(st));
	return (int)st.port;
}

/*
 * EVTCHN_SETUP raw: the generation page's fd maps read-only and nothing
 * else (no writable shared mapping, no write(2), no resize): only the
 * daemon writes the words senders trust.
 */
static int
gen_page_sealed(struct gntdp_client *c)
{
	struct gntdp_ctl_evtchn_setup m = {0};
	union {
		struct gntdp_ctl_reply r;
		uint8_t b[GNTDP_CTL_MAX_MSG];
	} u;
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = u.b, .iov_len = sizeof(u.b)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			    .msg_controllen = sizeof(cm.b)};
	struct pollfd pf = {.fd = gntdp_client_fd(c), .events = POLLIN};
	struct cmsghdr *h;
	uint32_t w = 1;
	void *p;
	int fd = -1, bad;

	m.hdr = (struct gntdp_ctl_hdr){.magic = GNTDP_CTL_MAGIC, .version = GNTDP_CTL_VERSION,
				       .type = GNTDP_CTL_EVTCHN_SETUP, .len = sizeof(m), .seq = 778};
	CHECK(send(pf.fd, &m, sizeof(m), 0) == sizeof(m), "send");
	CHECK(poll(&pf, 1, 5000) == 1 && recvmsg(pf.fd, &mh, MSG_CMSG_CLOEXEC) > 0, "reply");
	h = CMSG_FIRSTHDR(&mh);
	CHECK(u.r.err == 0 && h != NULL && h->cmsg_type == SCM_RIGHTS, "setup: %d", u.r.err);
	memcpy(&fd, CMSG_DATA(h), sizeof(fd));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	bad = p == MAP_FAILED;
	if (!bad) {
		bad |= mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0;
		munmap(p, 4096);
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	bad |= (p != MAP_FAILED) << 1;
	bad |= (pwrite(fd, &w, sizeof(w), 0) >= 0) << 2;
	bad |= (ftruncate(fd, 0) == 0) << 3;
	close(fd);
	CHECK(bad == 0, "the generation page is not sealed read-only (0x%x)", bad);
	return 0;
}

/* Raw requests: another domain's port, unserved type numbers. */
static int
test_raw(void)
{
	static const uint16_t unserved[] = {17, 18, 19}; /* 10: SHARE_FREE, 20, 21: NOTIFY_*, 22: DOMAIN_INFO */
	struct dom d = {0};
	int rc;

	if (dom_open(&d, 45) != 0)
		return -1;
	for (size_t k = 0; k < sizeof(unserved) / sizeof(unserved[0]); k++) {
		rc = raw(d.c, unserved[k], 0, 0);
		CHECK(rc == -EOPNOTSUPP, "type %u: %d", unserved[k], rc);
	}
	/* Xen's XSM_TARGET: unprivileged -EPERM; dom0 too, here, for want of a process. */
	rc = raw(d.c, GNTDP_CTL_EVTCHN_ALLOC_UNBOUND, 46, 47);
	CHECK(rc == (gntdp_client_hello(d.c)->privileged ? -EOPNOTSUPP : -EPERM),
	      "alloc_unbound with dom 46 from 45: %d", rc);
	rc = raw(d.c, GNTDP_CTL_EVTCHN_ALLOC_UNBOUND, 45, 47);
	CHECK(rc > 0, "alloc_unbound with the own domid: %d", rc);
	rc = raw(d.c, GNTDP_CTL_EVTCHN_ALLOC_UNBOUND, GNTDP_DOMID_SELF, 0x10000);
	CHECK(rc == -EINVAL, "alloc_unbound for remote 0x10000: %d", rc);
	rc = raw(d.c, GNTDP_CTL_EVTCHN_SEND, 3, 0);
	CHECK(rc == -EINVAL, "send on a free port: %d", rc);
	rc = raw(d.c, GNTDP_CTL_EVTCHN_CLOSE, 3, 0);
	CHECK(rc == -EINVAL, "close of a free port: %d", rc);
	rc = raw(d.c, GNTDP_CTL_EVTCHN_CLOSE, 1, 1);
	CHECK(rc == -EINVAL, "rsvd: %d", rc);
	if (gen_page_sealed(d.c) != 0)
		return -1;
	dom_close(&d);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct td_test tests[] = {
		{"channel", test_channel},
		{"killed", test_killed},
		{"stop_cont", test_stop_cont},
		{"early_notifies", test_early_notifies},
		{"spin", test_spin},
		{"hostile_line", test_hostile_line},
		{"quota", test_quota},
		{"raw", test_raw},
		{"daemon_stopped", test_daemon_stopped},
	};
	const char *sets[] = {"socket.group=", NULL};

	if (argc != 3) {
		fprintf(stderr, "usage: %s GNTDPD CONFIG\n", argv[0]);
		return 2;
	}
	return td_main(argv[1], argv[2], "gntdp-evtchn", sets, g_sock, sizeof(g_sock), tests,
		       sizeof(tests) / sizeof(tests[0]));
}
