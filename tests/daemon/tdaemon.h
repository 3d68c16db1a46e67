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

#endif
