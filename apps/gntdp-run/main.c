/* SPDX-License-Identifier: MIT */
/*
 * gntdp-run: run an unmodified Xen user-space program as one gntdp domain
 * (docs/xen-userspace.md).
 *
 *   gntdp-run [--socket PATH] [--xenstore DIR] --domid N -- PROGRAM [ARGS...]
 *
 * Exit codes are the app layer's (apps/common/app.h). It checks that gntdpd answers on the control socket (--socket, else
 * $GNTDP_SOCKET, else GNTDP_CTL_DEFAULT_SOCKET) and that gntdp-xenstored
 * serves DIR (--xenstore, else /run/gntdp/xenstored), introduces domain N
 * to the xenstore server when it does not serve it yet (INTRODUCE as dom0:
 * it creates DIR/dom<N> and /local/domain/<N>), then sets
 *   GNTDP_DOMID=N         the domain the drop-in libraries bind,
 *   GNTDP_SOCKET=PATH     gntdpd's control socket,
 *   XENSTORED_PATH=DIR/dom<N>  the domain's xenstore socket (libxenstore),
 *   LD_LIBRARY_PATH=XENLIB[:old]  the drop-ins: build/xen when run from the
 *                         build tree, else LIBDIR/gntdp/xen,
 * and execs PROGRAM (searched in $PATH). Nothing else changes: the process
 * keeps its pid, fds and signals, and its exit status is PROGRAM's.
 *
 * Exit status when it does not exec: 1 gntdpd or gntdp-xenstored is missing
 * or refused (the message says which and how to start it), 2 usage, 127
 * PROGRAM not found, 126 PROGRAM found but not executable (as env(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gntdp/client.h>
#include <gntdp/xenstore.h>

#include "app.h"

#define XS_DEFAULT_DIR "/run/gntdp/xenstored"
#define XS_TIMEOUT_MS 5000

struct run_conf {
	const char *socket;
	const char *xsdir;
	long domid;
	char **argv; /* PROGRAM ARGS */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: gntdp-run [--socket PATH] [--xenstore DIR] --domid N -- PROGRAM [ARGS...]\n"
		"  run PROGRAM as gntdp domain N with gntdp's Xen libraries\n"
		"  --socket PATH   gntdpd's control socket (default $GNTDP_SOCKET, else %s)\n"
		"  --xenstore DIR  gntdp-xenstored's directory (default %s)\n"
		"  --domid N       the domain, 0..%u (introduced to the xenstore server if new)\n"
		"sets GNTDP_DOMID, GNTDP_SOCKET, XENSTORED_PATH=DIR/dom<N>, LD_LIBRARY_PATH, execs\n"
		"exit status: PROGRAM's; 1 daemon or xenstore missing, 2 usage, 126/127 exec\n",
		GNTDP_CTL_DEFAULT_SOCKET, XS_DEFAULT_DIR, GNTDP_DOMID_FIRST_RESERVED - 1);
}

static int
parse(int argc, char **argv, struct run_conf *rc)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"xenstore", required_argument, NULL, 'x'},
		{"domid", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned long v;
	char *end;
	int o;

	rc->domid = -1;
	/* '+': stop at the first non-option, PROGRAM's own options are not ours. */
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			rc->socket = optarg;
			break;
		case 'x':
			rc->xsdir = optarg;
			break;
		case 'd':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
			    v >= GNTDP_DOMID_FIRST_RESERVED) {
				fprintf(stderr, "gntdp-run: --domid '%s': not a domid (0..%u)\n",
					optarg, GNTDP_DOMID_FIRST_RESERVED - 1);
				return APP_EXIT_USAGE;
			}
			rc->domid = (long)v;
			break;
		case 'h':
			usage(stdout);
			return APP_EXIT_OK;
		default:
			usage(stderr);
			return APP_EXIT_USAGE;
		}
	}
	if (rc->domid < 0 || optind >= argc) {
		fprintf(stderr, "gntdp-run: %s\n",
			rc->domid < 0 ? "--domid N is required" : "no PROGRAM after --");
		usage(stderr);
		return APP_EXIT_USAGE;
	}
	rc->argv = argv + optind;
	if (rc->socket == NULL)
		rc->socket = getenv("GNTDP_SOCKET");
	if (rc->socket == NULL || rc->socket[0] == '\0')
		rc->socket = GNTDP_CTL_DEFAULT_SOCKET;
	if (rc->xsdir == NULL)
		rc->xsdir = XS_DEFAULT_DIR;
	return APP_RUN;
}

/* gntdpd answers HELLO on the socket (a connection that binds nothing). */
static int
check_daemon(const char *path)
{
	struct gntdp_client *c;
	int rc = gntdp_client_connect(path, &c);

	if (rc != 0) {
		fprintf(stderr,
			"gntdp-run: gntdpd does not answer on %s: %s\n"
			"  start it (gntdpd --config FILE, docs/daemon.md) or give --socket PATH\n",
			path, strerror(-rc));
		return APP_EXIT_FAIL;
	}
	gntdp_client_close(c);
	return 0;
}

static int
xs_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Read exactly n bytes within the timeout. 0 or -errno (-EPIPE on EOF). */
static int
read_full(int fd, void *buf, size_t n)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;

	while (got < n) {
		ssize_t r;

		if (poll(&p, 1, XS_TIMEOUT_MS) != 1)
			return -ETIMEDOUT;
		r = read(fd, (char *)buf + got, n - got);
		if (r == 0)
			return -EPIPE;
		if (r < 0 && errno != EINTR)
			return -errno;
		got += r > 0 ? (size_t)r : 0;
	}
	return 0;
}

/*
 * INTRODUCE domid|0|0| as dom0: the xenstore server opens DIR/dom<N> and
 * seeds /local/domain/<N>. 0, or -errno with *err the server's error name.
 */
static int
xs_introduce(const char *dom0, long domid, char *err, size_t errlen)
{
	struct gntdp_xs_sockmsg h = {.type = GNTDP_XS_INTRODUCE, .req_id = 1};
	char pl[64], rep[GNTDP_XS_PAYLOAD_MAX + 1];
	int fd, n, rc;

	err[0] = '\0';
	n = snprintf(pl, sizeof(pl), "%ld%c0%c0", domid, '\0', '\0') + 1;
	h.len = (uint32_t)n;
	fd = xs_connect(dom0);
	if (fd < 0)
		return fd;
	rc = -EIO;
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) || write(fd, pl, n) != n)
		goto out;
	rc = read_full(fd, &h, sizeof(h));
	if (rc != 0)
		goto out;
	rc = -EPROTO;
	if (h.len > GNTDP_XS_PAYLOAD_MAX || read_full(fd, rep, h.len) != 0)
		goto out;
	rep[h.len] = '\0';
	if (h.type == GNTDP_XS_ERROR) {
		size_t m = strnlen(rep, errlen - 1);

		memcpy(err, rep, m);
		err[m] = '\0';
		rc = -EACCES;
	} else if (h.type == GNTDP_XS_INTRODUCE && strcmp(rep, "OK") == 0) {
		rc = 0;
	}
out:
	close(fd);
	return rc;
}

/* DIR/dom<N> served, introducing N first when it must be. 0 or APP_EXIT_FAIL. */
static int
check_xenstore(const struct run_conf *rc, char *path, size_t len)
{
	char dom0[PATH_MAX], err[64];
	int fd, r;

	snprintf(path, len, "%s/dom%ld", rc->xsdir, rc->domid);
	fd = xs_connect(path);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	snprintf(dom0, sizeof(dom0), "%s/dom0", rc->xsdir);
	r = rc->domid != 0 ? xs_introduce(dom0, rc->domid, err, sizeof(err)) : fd;
	if (r == 0 && (fd = xs_connect(path)) >= 0) {
		close(fd);
		return 0;
	}
	if (err[0] != '\0')
		fprintf(stderr, "gntdp-run: gntdp-xenstored refused to introduce domain %ld: %s\n",
			rc->domid, err);
	else
		fprintf(stderr,
			"gntdp-run: no gntdp-xenstored serves %s (%s: %s)\n"
			"  start it (gntdp-xenstored --dir %s, docs/xenstore.md) or give --xenstore DIR\n",
			rc->xsdir, rc->domid != 0 ? dom0 : path, strerror(-r), rc->xsdir);
	return APP_EXIT_FAIL;
}

/* build/xen beside this executable's build tree, else the installed directory. */
static void
xen_libdir(char *out, size_t len)
{
	char exe[PATH_MAX], probe[PATH_MAX + 64], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	snprintf(out, len, "%s", GNTDP_XEN_LIBDIR);
	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return;
	*slash = '\0'; /* BUILD/apps/gntdp-run */
	snprintf(probe, sizeof(probe), "%s/../../xen/libxenctrl.so.4.17", exe);
	if (access(probe, R_OK) == 0 && realpath(probe, real) != NULL &&
	    (slash = strrchr(real, '/')) != NULL && (size_t)(slash - real) < len) {
		memcpy(out, real, (size_t)(slash - real));
		out[slash - real] = '\0';
	}
}

static int
set_env(const struct run_conf *rc, const char *xspath)
{
	char dom[24], lib[PATH_MAX], *ld;
	const char *old = getenv("LD_LIBRARY_PATH");
	size_t n;

	xen_libdir(lib, sizeof(lib));
	n = strlen(lib) + (old != NULL ? strlen(old) + 1 : 0) + 1;
	ld = malloc(n);
	if (ld == NULL)
		return -ENOMEM;
	snprintf(ld, n, "%s%s%s", lib, old != NULL && old[0] != '\0' ? ":" : "",
		 old != NULL ? old : "");
	snprintf(dom, sizeof(dom), "%ld", rc->domid);
	if (setenv("GNTDP_DOMID", dom, 1) != 0 || setenv("GNTDP_SOCKET", rc->socket, 1) != 0 ||
	    setenv("XENSTORED_PATH", xspath, 1) != 0 || setenv("LD_LIBRARY_PATH", ld, 1) != 0) {
		free(ld);
		return -errno;
	}
	free(ld);
	return 0;
}

int
main(int argc, char **argv)
{
	struct run_conf rc = {0};
	char xspath[PATH_MAX];
	int r;

	r = parse(argc, argv, &rc);
	if (r != APP_RUN)
		return r;
	r = check_daemon(rc.socket);
	if (r != 0)
		return r;
	r = check_xenstore(&rc, xspath, sizeof(xspath));
	if (r != 0)
		return r;
	r = set_env(&rc, xspath);
	if (r != 0) {
		fprintf(stderr, "gntdp-run: setting the environment: %s\n", strerror(-r));
		return APP_EXIT_FAIL;
	}
	execvp(rc.argv[0], rc.argv);
	r = errno;
	fprintf(stderr, "gntdp-run: %s: %s\n", rc.argv[0], strerror(r));
	return r == ENOENT ? 127 : 126;
}
