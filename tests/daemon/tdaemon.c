/* SPDX-License-Identifier: MIT */
#include "tdaemon.h"

#include <dirent.h>
#include <stdbool.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SETS 16
#define UNCONST(p) ((char *)(uintptr_t)(p))

static int
sock_answers(const char *sock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), rc;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	rc = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return rc;
}

static void
copy_log(const char *log)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(log, "r");

	if (f == NULL) {
		fprintf(stderr, "(no log at %s)\n", log);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

int
td_daemon_start(const char *daemon, const char *config, const char *sock, const char *log,
		const char *const *sets, pid_t *pid)
{
	char *argv[4 + 2 * (MAX_SETS + 1) + 1]; /* execv's type; the strings are not written */
	char path_set[200];
	unsigned int n = 0;
	struct timespec t0, t;
	int st;

	snprintf(path_set, sizeof(path_set), "socket.path=%s", sock);
	argv[n++] = UNCONST(daemon);
	argv[n++] = UNCONST("--config");
	argv[n++] = UNCONST(config);
	argv[n++] = UNCONST("--set");
	argv[n++] = path_set;
	for (unsigned int i = 0; sets != NULL && sets[i] != NULL; i++) {
		if (i == MAX_SETS) {
			fprintf(stderr, "td_daemon_start: more than %d --set values\n", MAX_SETS);
			return -1;
		}
		argv[n++] = UNCONST("--set");
		argv[n++] = UNCONST(sets[i]);
	}
	argv[n] = NULL;
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(daemon, argv);
		_exit(127);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (t = t0; t.tv_sec - t0.tv_sec < 30; clock_gettime(CLOCK_MONOTONIC, &t)) {
		if (sock_answers(sock))
			return 0;
		if (waitpid(*pid, &st, WNOHANG) == *pid) {
			*pid = -1;
			fprintf(stderr, "gntdpd exited (status %d) before listening; its log:\n",
				WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			copy_log(log);
			return WIFEXITED(st) && WEXITSTATUS(st) == 77 ? 77 : -1;
		}
		usleep(50000);
	}
	fprintf(stderr, "gntdpd did not listen within 30 s (log: %s)\n", log);
	return -1;
}

pid_t td_pid = -1;

int
td_main(const char *daemon, const char *config, const char *prefix, const char *const *sets,
	char *sock, size_t sock_size, const struct td_test *tests, size_t n)
{
	char dir[80], log[120], cmd[200];
	int failed = 0, rc;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/%s-XXXXXX", prefix);
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		return 1;
	snprintf(sock, sock_size, "%s/gntdpd.sock", dir);
	snprintf(log, sizeof(log), "%s/gntdpd.log", dir);
	rc = td_daemon_start(daemon, config, sock, log, sets, &pid);
	if (rc != 0)
		return rc == 77 ? 77 : 1;
	td_pid = pid;
	for (size_t i = 0; i < n; i++) {
		rc = tests[i].fn();
		printf("%s %s\n", rc == 0 ? "ok  " : "FAIL", tests[i].name);
		failed += rc != 0;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (failed != 0) {
		snprintf(cmd, sizeof(cmd), "tail -n 40 %s >&2", log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no daemon log)\n");
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return failed != 0;
}

/* The state letter of /proc/PID/task/TID/stat ('T' stopped), '?' if unreadable. */
static char
task_state(pid_t pid, const char *tid)
{
	char path[320], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
	f = fopen(path, "r");
	if (f == NULL)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

int
td_stop(pid_t pid)
{
	char path[64];

	if (kill(pid, SIGSTOP) != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	for (int i = 0; i < 5000; i++) {
		DIR *d = opendir(path);
		struct dirent *e;
		bool all = d != NULL;

		while (d != NULL && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (task_state(pid, e->d_name) != 'T')
				all = false;
		}
		if (d != NULL)
			closedir(d);
		if (all)
			return 0;
		usleep(1000);
	}
	return -1;
}
