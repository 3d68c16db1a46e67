/* SPDX-License-Identifier: MIT */
/*
 * The drop-in libxenevtchn.so.1 through a real gntdpd (suite xen): this
 * program is compiled against Debian's <xenevtchn.h> and linked to
 * build/xen/libxenevtchn.so.1, as an unmodified Xen program is. Each domain
 * is a process of its own, which finds its domain in $GNTDP_DOMID and the
 * daemon in $GNTDP_SOCKET.
 *
 *  - api: open flags (EINVAL), no $GNTDP_DOMID (EINVAL), NO_CLOEXEC,
 *    bind_virq (ENOSYS), restrict (EINVAL for 0, EACCES the second time;
 *    afterwards bind_unbound_port EACCES, bind_interdomain of another
 *    domid EACCES), fdopen (flags EINVAL, a closed fd EBADF, a live
 *    handle's fd shares its ports, another fd is taken over), unbind and
 *    notify of another handle's port (ENOTCONN), O_NONBLOCK pending
 *    (EAGAIN), the quota (64 ports, never 0, then ENOSPC).
 *  - channel: domains 50 and 51: bind_unbound_port / bind_interdomain with
 *    Xen's domid checks (ESRCH, EINVAL), the new port starts pending,
 *    notify both ways with the fd polling readable, pending() blocking until
 *    the notify, two notifies while masked = one event after unmask and
 *    none before; 51 unbinds, then closes a whole handle, then is
 *    SIGKILLed: each time 50's port is unbound for 51 again, and a new bind
 *    of 51 (a new process after the kill) works and notifies.
 *
 *   test_xevtchn GNTDPD CONFIG
 * Exit: 0, 1 (a check failed), 77 (no memory for EAL).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "../daemon/tdaemon.h"
#include "xgtest.h"

#define DOM_S 50 /* the server: bind_unbound_port */
#define DOM_C 51 /* the client: bind_interdomain */
#define MAX_EVTCHNS 64 /* configs/gntdpd/gntdpd.ini */

static char g_sock[100];

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
as_domain(unsigned int domid)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", domid);
	setenv("GNTDP_DOMID", v, 1);
	setenv("GNTDP_SOCKET", g_sock, 1);
}

/* xenevtchn_open, retried while the last process of this domid is still being closed. */
static xenevtchn_handle *
open_retry(void)
{
	xenevtchn_handle *x;

	for (int i = 0; (x = xenevtchn_open(NULL, 0)) == NULL && errno == EEXIST && i < 300; i++)
		usleep(10000);
	return x;
}

static bool
readable(xenevtchn_handle *x, int ms)
{
	struct pollfd p = {.fd = xenevtchn_fd(x), .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* @p port is pending: the fd is readable and pending() returns it; then unmasked. */
static int
expect_event(xenevtchn_handle *x, int port)
{
	int p;

	CHECK(readable(x, 3000), "port %d: the fd is not readable", port);
	p = xenevtchn_pending(x);
	CHECK(p == port, "pending: %d (errno %d), expected %d", p, errno, port);
	CHECK(!readable(x, 0), "still readable after pending()");
	CHECK(xenevtchn_unmask(x, (evtchn_port_t)port) == 0, "unmask");
	return 0;
}

/* Send a word to the other process and receive its word. */
static int
xchg(int fd, uint32_t out, uint32_t *in)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint32_t got;

	CHECK(write(fd, &out, sizeof(out)) == sizeof(out), "sync write");
	CHECK(poll(&p, 1, 20000) == 1 && read(fd, &got, sizeof(got)) == sizeof(got),
	      "the other process is gone (we sent %u)", out);
	if (in != NULL)
		*in = got;
	return 0;
}

/* ---- api: one process, one domain ----------------------------------------------- */

static int
api_main(void)
{
	xenevtchn_handle *x, *x2, *x3;
	int p, q, n, fl, devnull;
	bool seen[1024] = {false};

	unsetenv("GNTDP_DOMID");
	setenv("GNTDP_SOCKET", g_sock, 1);
	errno = 0;
	CHECK(xenevtchn_open(NULL, 0) == NULL && errno == EINVAL, "no GNTDP_DOMID: errno %d",
	      errno);
	as_domain(52);
	CHECK(xenevtchn_open(NULL, 2) == NULL && errno == EINVAL, "flags 2: errno %d", errno);
	x = open_retry();
	CHECK(x != NULL, "open: errno %d", errno);
	fl = fcntl(xenevtchn_fd(x), F_GETFD);
	CHECK(fl >= 0 && (fl & FD_CLOEXEC), "the fd is not close-on-exec");
	x2 = xenevtchn_open(NULL, XENEVTCHN_NO_CLOEXEC);
	CHECK(x2 != NULL, "open NO_CLOEXEC: errno %d", errno);
	fl = fcntl(xenevtchn_fd(x2), F_GETFD);
	CHECK(fl >= 0 && !(fl & FD_CLOEXEC), "NO_CLOEXEC: the fd is close-on-exec");
	CHECK(xenevtchn_bind_virq(x, 3) == -1 && errno == ENOSYS, "bind_virq: errno %d", errno);
	/* Ports of another handle; a loopback channel through two handles. */
	p = xenevtchn_bind_unbound_port(x, 52);
	CHECK(p > 0, "bind_unbound_port: errno %d", errno);
	CHECK(xenevtchn_unbind(x2, (evtchn_port_t)p) == -1 && errno == ENOTCONN,
	      "unbind of x's port on x2: errno %d", errno);
	CHECK(xenevtchn_notify(x2, (evtchn_port_t)p) == -1 && errno == ENOTCONN,
	      "notify of x's port on x2: errno %d", errno);
	q = xenevtchn_bind_interdomain(x2, 52, (evtchn_port_t)p);
	CHECK(q > 0 && q != p, "loopback bind: %d errno %d", q, errno);
	if (expect_event(x2, q) != 0)
		return -1;
	/* O_NONBLOCK on the fd: pending() says EAGAIN instead of blocking. */
	fl = fcntl(xenevtchn_fd(x), F_GETFL);
	CHECK(fcntl(xenevtchn_fd(x), F_SETFL, fl | O_NONBLOCK) == 0, "O_NONBLOCK");
	CHECK(xenevtchn_pending(x) == -1 && errno == EAGAIN, "nonblocking pending: errno %d",
	      errno);
	CHECK(fcntl(xenevtchn_fd(x), F_SETFL, fl) == 0, "blocking again");
	CHECK(xenevtchn_notify(x2, (evtchn_port_t)q) == 0, "notify");
	if (expect_event(x, p) != 0)
		return -1;
	/* fdopen: of a live handle's fd, the same ports. */
	CHECK(xenevtchn_fdopen(NULL, xenevtchn_fd(x), 1) == NULL && errno == EINVAL,
	      "fdopen flags: errno %d", errno);
	CHECK(xenevtchn_fdopen(NULL, 1000, 0) == NULL && errno == EBADF, "fdopen of a closed fd");
	x3 = xenevtchn_fdopen(NULL, xenevtchn_fd(x), 0);
	CHECK(x3 != NULL && xenevtchn_fd(x3) == xenevtchn_fd(x), "fdopen of x's fd: errno %d",
	      errno);
	CHECK(xenevtchn_notify(x3, (evtchn_port_t)p) == 0, "notify of x's port through x3");
	if (expect_event(x2, q) != 0)
		return -1;
	CHECK(xenevtchn_close(x3) == 0, "close x3");
	CHECK(xenevtchn_notify(x, (evtchn_port_t)p) == 0, "x lives on after x3's close");
	if (expect_event(x2, q) != 0)
		return -1;
	/* fdopen of another fd: a new handle on that number, without ports. */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(devnull >= 0, "/dev/null");
	x3 = xenevtchn_fdopen(NULL, devnull, 0);
	CHECK(x3 != NULL && xenevtchn_fd(x3) == devnull, "fdopen of /dev/null's fd: errno %d",
	      errno);
	CHECK(xenevtchn_unbind(x3, (evtchn_port_t)p) == -1 && errno == ENOTCONN,
	      "the new handle has x's port");
	n = xenevtchn_bind_unbound_port(x3, 53);
	CHECK(n > 0, "bind on the fdopen'ed handle: errno %d", errno);
	CHECK(xenevtchn_close(x3) == 0, "close x3");
	CHECK(fcntl(devnull, F_GETFD) < 0, "close left the fd open");
	/* Restrict: 0 and reserved domids refused, once only, then the binds it forbids. */
	CHECK(xenevtchn_restrict(x2, 0) == -1 && errno == EINVAL, "restrict 0: errno %d", errno);
	CHECK(xenevtchn_restrict(x2, DOMID_SELF) == -1 && errno == EINVAL, "restrict SELF");
	CHECK(xenevtchn_restrict(x2, 53) == 0, "restrict 53: errno %d", errno);
	CHECK(xenevtchn_restrict(x2, 54) == -1 && errno == EACCES, "restrict twice: errno %d",
	      errno);
	CHECK(xenevtchn_bind_unbound_port(x2, 53) == -1 && errno == EACCES,
	      "unbound port on a restricted handle: errno %d", errno);
	CHECK(xenevtchn_bind_interdomain(x2, 52, (evtchn_port_t)p) == -1 && errno == EACCES,
	      "bind_interdomain of 52 restricted to 53: errno %d", errno);
	CHECK(xenevtchn_bind_virq(x2, 3) == -1 && errno == EACCES, "virq restricted: errno %d",
	      errno);
	CHECK(xenevtchn_close(x2) == 0, "close x2");
	/* x2's close closed q: x's p is unbound for 52 again (a new bind works). */
	q = xenevtchn_bind_interdomain(x, 52, (evtchn_port_t)p);
	CHECK(q > 0, "rebind after close: errno %d", errno);
	CHECK(xenevtchn_unbind(x, (evtchn_port_t)q) == 0 &&
	      xenevtchn_unbind(x, (evtchn_port_t)p) == 0, "unbind");
	/* Quota: 64 ports, none 0, each once; then ENOSPC. */
	for (n = 0; (p = xenevtchn_bind_unbound_port(x, 60)) > 0; n++) {
		CHECK(p < 1024 && !seen[p], "port %d twice or too large", p);
		seen[p] = true;
	}
	CHECK(p == -1 && errno == ENOSPC && n == MAX_EVTCHNS, "%d ports, then errno %d", n, errno);
	CHECK(xenevtchn_close(x) == 0 && xenevtchn_close(NULL) == 0, "close");
	return 0;
}

/* ---- channel: two domains ----------------------------------------------------------- */

static int
server_main(int sync)
{
	xenevtchn_handle *x;
	uint32_t v;
	int p, p53, rc;
	int64_t t0;

	as_domain(DOM_S);
	x = open_retry();
	CHECK(x != NULL, "open: errno %d", errno);
	p = xenevtchn_bind_unbound_port(x, DOM_C);
	p53 = xenevtchn_bind_unbound_port(x, 53);
	CHECK(p > 0 && p53 > 0, "bind_unbound_port: errno %d", errno);
	if (xchg(sync, (uint32_t)p, NULL) != 0)
		return -1;
	/*
	 * Here, before p53 goes: the client binds and notifies p once it has
	 * both, so after the second exchange p may be pending already.
	 */
	CHECK(!readable(x, 0), "an unbound port is pending");
	if (xchg(sync, (uint32_t)p53, NULL) != 0)
		return -1;
	/* The client bound and notified. */
	if (xchg(sync, 1, NULL) != 0 || expect_event(x, p) != 0)
		return -1;
	CHECK(xenevtchn_notify(x, (evtchn_port_t)p) == 0, "notify back");
	/* pending() blocks until the client's notify (it waits 200 ms). */
	if (xchg(sync, 2, NULL) != 0)
		return -1;
	t0 = now_ns();
	rc = xenevtchn_pending(x);
	CHECK(rc == p, "blocking pending: %d", rc);
	CHECK(now_ns() - t0 > 150000000, "pending did not block");
	/* Masked: two notifies, nothing until unmask, then one event. */
	if (xchg(sync, 3, NULL) != 0)
		return -1;
	CHECK(!readable(x, 100), "readable while masked");
	CHECK(xenevtchn_unmask(x, (evtchn_port_t)p) == 0, "unmask");
	if (expect_event(x, p) != 0)
		return -1;
	CHECK(!readable(x, 100), "two notifies while masked gave two events");
	/* Three ways for the client's end to go; after each, p is unbound for 51 again. */
	for (int round = 0; round < 3; round++) {
		if (xchg(sync, 4, NULL) != 0) /* gone */
			return -1;
		if (xchg(sync, 5, &v) != 0 || v != 5) /* rebound and notified */
			return -1;
		if (expect_event(x, p) != 0)
			return -1;
	}
	CHECK(xenevtchn_close(x) == 0, "close");
	return 0;
}

static int
client_main(int sync, pid_t *victim)
{
	xenevtchn_handle *x, *x2;
	uint32_t p, p53;
	int q;

	as_domain(DOM_C);
	x = open_retry();
	CHECK(x != NULL, "open: errno %d", errno);
	if (xchg(sync, 0, &p) || xchg(sync, 0, &p53))
		return -1;
	/* Xen's checks of bind_interdomain. */
	CHECK(xenevtchn_bind_interdomain(x, 99, p) == -1 && errno == ESRCH, "missing domain: %d",
	      errno);
	CHECK(xenevtchn_bind_interdomain(x, DOM_S, p53) == -1 && errno == EINVAL,
	      "a port unbound for 53: errno %d", errno);
	CHECK(xenevtchn_bind_interdomain(x, DOM_S, 0) == -1 && errno == EINVAL, "port 0");
	q = xenevtchn_bind_interdomain(x, DOM_S, p);
	CHECK(q > 0, "bind_interdomain: errno %d", errno);
	CHECK(xenevtchn_bind_interdomain(x, DOM_S, p) == -1 && errno == EINVAL, "bound twice");
	if (expect_event(x, q) != 0) /* Xen: the new port starts pending */
		return -1;
	CHECK(xenevtchn_notify(x, (evtchn_port_t)q) == 0, "notify");
	if (xchg(sync, 1, NULL) != 0 || expect_event(x, q) != 0)
		return -1;
	if (xchg(sync, 2, NULL) != 0)
		return -1;
	usleep(200000);
	CHECK(xenevtchn_notify(x, (evtchn_port_t)q) == 0, "notify");
	usleep(50000); /* the server took it: masked now */
	CHECK(xenevtchn_notify(x, (evtchn_port_t)q) == 0, "notify 1");
	CHECK(xenevtchn_notify(x, (evtchn_port_t)q) == 0, "notify 2");
	if (xchg(sync, 3, NULL) != 0)
		return -1;
	/* 1: unbind; 2: close a whole handle; 3: SIGKILL of a process of ours (the parent's). */
	CHECK(xenevtchn_unbind(x, (evtchn_port_t)q) == 0, "unbind");
	if (xchg(sync, 4, NULL) != 0)
		return -1;
	q = xenevtchn_bind_interdomain(x, DOM_S, p);
	CHECK(q > 0, "bind after unbind: errno %d", errno);
	CHECK(xenevtchn_notify(x, (evtchn_port_t)q) == 0, "notify");
	if (xchg(sync, 5, NULL) != 0)
		return -1;
	x2 = xenevtchn_open(NULL, 0);
	CHECK(x2 != NULL, "second handle: errno %d", errno);
	CHECK(xenevtchn_unbind(x, (evtchn_port_t)q) == 0, "unbind");
	q = xenevtchn_bind_interdomain(x2, DOM_S, p);
	CHECK(q > 0, "bind on x2: errno %d", errno);
	CHECK(xenevtchn_close(x2) == 0, "close x2");
	if (xchg(sync, 4, NULL) != 0)
		return -1;
	q = xenevtchn_bind_interdomain(x, DOM_S, p);
	CHECK(q > 0, "bind after close: errno %d", errno);
	CHECK(xenevtchn_notify(x, (evtchn_port_t)q) == 0, "notify");
	if (xchg(sync, 5, NULL) != 0)
		return -1;
	/* The last way: the parent SIGKILLs this process; a new one binds (victim_main). */
	*victim = getpid();
	if (xchg(sync, 4, NULL) != 0)
		return -1;
	pause();
	return 0;
}

/* A new process of domain 51 after the SIGKILL of the first: binds 50's port again. */
static int
rebinder_main(int sync, uint32_t p)
{
	xenevtchn_handle *x;
	int q;

	as_domain(DOM_C);
	x = open_retry();
	CHECK(x != NULL, "open after the kill: errno %d", errno);
	for (int i = 0; (q = xenevtchn_bind_interdomain(x, DOM_S, p)) < 0 && i < 300; i++)
		usleep(10000);
	CHECK(q > 0, "bind after the kill: errno %d", errno);
	CHECK(xenevtchn_notify(x, (evtchn_port_t)q) == 0, "notify");
	if (xchg(sync, 5, NULL) != 0)
		return -1;
	CHECK(xenevtchn_close(x) == 0, "close");
	return 0;
}

static int
wait_ok(pid_t pid, const char *what, bool killed)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid, "%s: waitpid", what);
	if (killed)
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%s: status 0x%x", what, st);
	else
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x", what, st);
	return 0;
}

static int
test_api(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		alarm(60);
		_exit(api_main() == 0 ? 0 : 1);
	}
	return wait_ok(pid, "api", false);
}

static int
test_channel(void)
{
	int sv[2], cs[2];
	pid_t srv, cli, reb;
	uint32_t p, tag;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	srv = fork();
	if (srv == 0) {
		close(sv[1]);
		alarm(60);
		_exit(server_main(sv[0]) == 0 ? 0 : 1);
	}
	close(sv[0]);
	/* The client talks to the server through us: we relay, to see when to kill it. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) == 0, "socketpair");
	cli = fork();
	if (cli == 0) {
		pid_t v;

		close(cs[1]);
		alarm(60);
		_exit(client_main(cs[0], &v) == 0 ? 0 : 1);
	}
	close(cs[0]);
	/* Relay words client -> server -> client; the 7th word 4 is the kill point. */
	p = 0;
	for (int k = 0, fours = 0;; k++) {
		uint32_t w, r;

		CHECK(read(cs[1], &w, sizeof(w)) == sizeof(w), "the client is gone (word %d)", k);
		CHECK(write(sv[1], &w, sizeof(w)) == sizeof(w), "to the server");
		CHECK(read(sv[1], &r, sizeof(r)) == sizeof(r), "the server is gone (word %d)", k);
		if (k == 0)
			p = r;
		if (w == 4 && ++fours == 3) {
			/* The client waits for our answer: kill it with its port bound. */
			kill(cli, SIGKILL);
			if (wait_ok(cli, "client", true) != 0)
				return -1;
			break;
		}
		CHECK(write(cs[1], &r, sizeof(r)) == sizeof(r), "to the client");
	}
	close(cs[1]);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) == 0, "socketpair");
	reb = fork();
	if (reb == 0) {
		close(cs[1]);
		alarm(60);
		_exit(rebinder_main(cs[0], p) == 0 ? 0 : 1);
	}
	close(cs[0]);
	CHECK(read(cs[1], &tag, sizeof(tag)) == sizeof(tag) && tag == 5, "rebinder");
	CHECK(write(sv[1], &tag, sizeof(tag)) == sizeof(tag), "to the server");
	CHECK(read(sv[1], &tag, sizeof(tag)) == sizeof(tag), "server");
	CHECK(write(cs[1], &tag, sizeof(tag)) == sizeof(tag), "to the rebinder");
	close(cs[1]);
	close(sv[1]);
	if (wait_ok(reb, "rebinder", false) != 0 || wait_ok(srv, "server", false) != 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct td_test tests[] = {
		{"api", test_api},
		{"channel", test_channel},
	};
	const char *sets[] = {"socket.group=", NULL};

	if (argc != 3) {
		fprintf(stderr, "usage: %s GNTDPD CONFIG\n", argv[0]);
		return 2;
	}
	return td_main(argv[1], argv[2], "gntdp-xevtchn", sets, g_sock, sizeof(g_sock), tests,
		       sizeof(tests) / sizeof(tests[0]));
}
