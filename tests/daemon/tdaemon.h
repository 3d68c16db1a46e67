/* SPDX-License-Identifier: MIT */
/* Starting gntdpd for the daemon suite's tests (tests/daemon, tests/daemon/client). */
#ifndef GNTDP_TESTS_TDAEMON_H
#define GNTDP_TESTS_TDAEMON_H

#include <sys/types.h>

/**
 * Fork and exec @p daemon with `--config CONFIG --set socket.path=SOCK`
 * and one `--set` for each of the NULL-terminated @p sets (may be NULL),
 * its stdout and stderr appended to @p log; wait up to 30 s for the socket
 * to accept a connection. *@p pid is the daemon's pid, or -1 once it has
 * exited (its log is then copied to stderr).
 * @return 0 (listening), 77 (it exited 77: no memory for EAL), -1.
 */
int td_daemon_start(const char *daemon, const char *config, const char *sock, const char *log,
		    const char *const *sets, pid_t *pid);

/** One named test of a program that runs against one gntdpd (td_main()). */
struct td_test {
	const char *name;
	int (*fn)(void); /**< 0: passed */
};

/**
 * The main of such a program: make a directory /tmp/PREFIX-XXXXXX (mode
 * 0755), start gntdpd there (td_daemon_start(), its socket's path into
 * @p sock), run the @p n tests in order printing "ok"/"FAIL" lines, stop
 * the daemon with SIGTERM; on a failure print the log's tail, else remove
 * the directory.
 * @return the exit status: 0, 1 (a test failed or the daemon did not
 *         start), 77 (gntdpd exited 77: no memory for EAL).
 */
/** The daemon td_main() started (for a test that stops or signals it), -1 before. */
extern pid_t td_pid;

/**
 * SIGSTOP @p pid and wait until every thread of it is stopped: kill()
 * returns before a thread running on another CPU (a busy-polling worker)
 * has stopped, and that thread may still complete requests meanwhile.
 * @return 0, or -1 when not all of them stopped within 5 s.
 */
int td_stop(pid_t pid);

int td_main(const char *daemon, const char *config, const char *prefix, const char *const *sets,
	    char *sock, size_t sock_size, const struct td_test *tests, size_t n);

#endif
