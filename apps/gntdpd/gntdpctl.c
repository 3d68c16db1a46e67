/* SPDX-License-Identifier: MIT */
/*
 * gntdpctl: list gntdpd's domains, their connections, rings and counters
 * (DOMAIN_LIST over the control socket, gntdp/ctl.h). No EAL, no DPDK.
 *
 *   gntdpctl [--socket PATH] [--json]
 *
 * The socket: --socket, else $GNTDP_SOCKET, else GNTDP_CTL_DEFAULT_SOCKET.
 * DOMAIN_LIST is privileged (the daemon's [access]/[aclN] config).
 * Exit status: 0 listed, 1 the daemon is unreachable or refused (its reason
 * is printed), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gntdp/ctl.h>

#include "app.h"

#define TIMEOUT_MS 5000

static union {
	struct gntdp_ctl_reply rep;
	uint8_t raw[GNTDP_CTL_MAX_MSG];
} in;

/* Send @p len bytes of request, wait for its reply (type, seq): 0 or -errno. */
static int
call(int fd, void *req, size_t len, const char **why)
{
	struct gntdp_ctl_hdr *h = req;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	*why = "";
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	if (poll(&p, 1, TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	n = recv(fd, in.raw, sizeof(in.raw), 0);
	if (n < 0)
		return -errno;
	if (n < (ssize_t)sizeof(in.rep) || in.rep.hdr.magic != GNTDP_CTL_MAGIC ||
	    in.rep.hdr.type != (GNTDP_CTL_REPLY | h->type) || in.rep.hdr.seq != h->seq ||
	    in.rep.hdr.len != (uint32_t)n)
		return n == 0 ? -ECONNRESET : -EPROTO;
	in.rep.why[GNTDP_CTL_WHY_SIZE - 1] = '\0';
	*why = in.rep.why;
	return in.rep.err;
}

static void
hdr(struct gntdp_ctl_hdr *h, uint16_t type, uint32_t len, uint32_t seq)
{
	*h = (struct gntdp_ctl_hdr){.magic = GNTDP_CTL_MAGIC, .version = GNTDP_CTL_VERSION,
				    .type = type, .len = len, .seq = seq};
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: gntdpctl [--socket PATH] [--json]\n"
		   "  list gntdpd's domains (DOMAIN_LIST; privileged)\n"
		   "  --socket PATH  control socket (default $GNTDP_SOCKET, else %s)\n"
		   "  --json         one JSON object on stdout\n"
		   "exit status: 0 listed, 1 unreachable or refused, 2 usage\n",
		GNTDP_CTL_DEFAULT_SOCKET);
}

static void
print_entry(const struct gntdp_ctl_domain_entry *e, struct app_json *j)
{
	if (j == NULL) {
		printf("%6u %5s %7u %6u %5u %8u %6u %6u %12" PRIu64 " %12" PRIu64 " %8" PRIu64 "\n",
		       e->domid, e->bound ? "yes" : "no", e->pid, e->uid, e->nr_rings, e->nr_frames,
		       e->nr_grant_frames, e->worker, e->calls, e->ops, e->faults);
		return;
	}
	app_json_obj(j, NULL);
	app_json_u64(j, "domid", e->domid);
	app_json_bool(j, "bound", e->bound != 0);
	app_json_u64(j, "pid", e->pid);
	app_json_u64(j, "uid", e->uid);
	app_json_u64(j, "rings", e->nr_rings);
	app_json_u64(j, "nr_frames", e->nr_frames);
	app_json_u64(j, "nr_grant_frames", e->nr_grant_frames);
	app_json_u64(j, "worker", e->worker);
	app_json_u64(j, "calls", e->calls);
	app_json_u64(j, "ops", e->ops);
	app_json_u64(j, "faults", e->faults);
	app_json_obj_end(j);
}

/* DOMAIN_LIST pages until the daemon says no more. 0 or -errno. */
static int
list(int fd, struct app_json *j, const char **why)
{
	struct gntdp_ctl_domain_list m = {0};
	uint32_t seq = 2;
	int rc;

	do {
		const struct gntdp_ctl_domain_list_reply *lr = (const void *)(in.raw + sizeof(in.rep));
		const struct gntdp_ctl_domain_entry *e = (const void *)(lr + 1);
		uint32_t count;

		hdr(&m.hdr, GNTDP_CTL_DOMAIN_LIST, sizeof(m), seq++);
		rc = call(fd, &m, sizeof(m), why);
		if (rc != 0)
			return rc;
		count = lr->count;
		if (in.rep.hdr.len < sizeof(in.rep) + sizeof(*lr) ||
		    count > GNTDP_CTL_LIST_MAX ||
		    in.rep.hdr.len != sizeof(in.rep) + sizeof(*lr) + count * sizeof(*e))
			return -EPROTO;
		for (uint32_t i = 0; i < count; i++)
			print_entry(&e[i], j);
		if (count == 0 || !lr->more)
			break;
		m.first_domid = e[count - 1].domid + 1;
	} while (1);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = getenv("GNTDP_SOCKET"), *why = "";
	struct gntdp_ctl_hello hello = {.min_version = 1, .max_version = GNTDP_CTL_VERSION};
	struct app_json j;
	bool json = false;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (path == NULL || *path == '\0')
		path = GNTDP_CTL_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "gntdpctl: %s: path too long\n", path);
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "gntdpctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	hdr(&hello.hdr, GNTDP_CTL_HELLO, sizeof(hello), 1);
	rc = call(fd, &hello, sizeof(hello), &why);
	if (rc == 0) {
		if (json) {
			app_json_begin(&j, stdout);
			app_json_str(&j, "socket", path);
			app_json_arr(&j, "domains");
		} else {
			printf("%6s %5s %7s %6s %5s %8s %6s %6s %12s %12s %8s\n", "domid", "bound",
			       "pid", "uid", "rings", "frames", "gnttab", "worker", "calls", "ops",
			       "faults");
		}
		rc = list(fd, json ? &j : NULL, &why);
		if (json) {
			app_json_arr_end(&j);
			app_json_end(&j);
		}
	}
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "gntdpctl: %s: %s%s%s\n", path, strerror(-rc), *why ? ": " : "",
			why);
		return 1;
	}
	return 0;
}
