/* SPDX-License-Identifier: MIT */
/*
 * vchan_peer: one end of a byte stream, over Debian's unmodified
 * libxenvchan (linked to libxenvchan.so.4.17; run through gntdp-run, so
 * its libxengnttab / libxenevtchn are gntdp's) or, for the benchmark's
 * baseline, over a Unix-domain stream socket. Written for gntdp's tests;
 * not derived from Xen's tools/vchan.
 *
 *   vchan_peer server PEER_DOMID XS_PATH [opts]   libxenvchan_server_init
 *   vchan_peer client PEER_DOMID XS_PATH [opts]   libxenvchan_client_init
 *   vchan_peer unix-server SOCKET [opts]          listen, accept one
 *   vchan_peer unix-client SOCKET [opts]          connect
 * opts:
 *   --send          stdin to the stream, then close it
 *   --recv          the stream to stdout until the peer closes (the default)
 *   --gen BYTES     send BYTES of a fixed pattern (no stdin), then close
 *   --sink          read and discard until the peer closes
 *   --chunk BYTES   bytes per write / read call (default 65536)
 *   --read-min B, --write-min B   server: its ring sizes (libxenvchan_server_init's
 *                   left and right minimum; 0: libxenvchan's in-page defaults)
 *   --go FILE       wait for FILE to exist before sending (tests pause the reader)
 *   --retry-ms MS   client: retry the connection this long (default 10000)
 *
 * stderr: "connected" once the stream is up, and at the end one line
 * "bytes=N seconds=S mib_s=X". Exit: 0 done (a receiver: the peer closed
 * after sending), 1 usage or setup failure, 3 the stream broke (the peer
 * closed or died while this side was sending).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>

enum mode { M_RECV, M_SEND, M_GEN, M_SINK };

struct peer {
	struct libxenvchan *v; /* vchan, or NULL and fd */
	int fd;
};

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int
unix_open(const char *path, bool server)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, c;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (!server) {
		for (int i = 0; i < 500; i++) {
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
				return fd;
			usleep(20000);
		}
		close(fd);
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0) {
		close(fd);
		return -1;
	}
	fprintf(stderr, "listening\n");
	c = accept(fd, NULL, NULL);
	close(fd);
	return c;
}

/* Write all of buf: 0, or -1 when the stream broke. */
static int
put(struct peer *p, const void *buf, size_t n)
{
	const char *b = buf;

	while (n > 0) {
		ssize_t w = p->v != NULL ? libxenvchan_write(p->v, b, n) : write(p->fd, b, n);

		if (w <= 0) {
			if (w < 0 && p->v == NULL && errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Up to n bytes: the count, 0 when the peer closed and nothing is left. */
static ssize_t
get(struct peer *p, void *buf, size_t n)
{
	ssize_t r;

	if (p->v == NULL) {
		do {
			r = read(p->fd, buf, n);
		} while (r < 0 && errno == EINTR);
		return r < 0 ? 0 : r;
	}
	/* Blocking: returns data while any is left, -1 once closed and drained. */
	r = libxenvchan_read(p->v, buf, n);
	return r < 0 ? 0 : r;
}

static void
peer_close(struct peer *p)
{
	if (p->v != NULL)
		libxenvchan_close(p->v);
	else if (p->fd >= 0)
		close(p->fd);
}

static int
wait_file(const char *path)
{
	struct stat st;

	for (int i = 0; i < 3000; i++) {
		if (stat(path, &st) == 0)
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "vchan_peer: %s did not appear\n", path);
	return -1;
}

int
main(int argc, char **argv)
{
	enum mode mode = M_RECV;
	size_t chunk = 65536, read_min = 0, write_min = 0;
	unsigned long long total = 0, gen = 0;
	const char *go = NULL;
	long retry_ms = 10000;
	struct peer p = {.fd = -1};
	int argi, rc = 0;
	double t0;
	char *buf;

	if (argc < 3)
		goto usage;
	argi = strncmp(argv[1], "unix-", 5) == 0 ? 3 : 4;
	if (argc < argi)
		goto usage;
	for (int i = argi; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--send") == 0)
			mode = M_SEND;
		else if (strcmp(a, "--recv") == 0)
			mode = M_RECV;
		else if (strcmp(a, "--sink") == 0)
			mode = M_SINK;
		else if (strcmp(a, "--gen") == 0 && v != NULL && ++i)
			mode = M_GEN, gen = strtoull(v, NULL, 0);
		else if (strcmp(a, "--chunk") == 0 && v != NULL && ++i)
			chunk = strtoul(v, NULL, 0);
		else if (strcmp(a, "--read-min") == 0 && v != NULL && ++i)
			read_min = strtoul(v, NULL, 0);
		else if (strcmp(a, "--write-min") == 0 && v != NULL && ++i)
			write_min = strtoul(v, NULL, 0);
		else if (strcmp(a, "--go") == 0 && v != NULL && ++i)
			go = v;
		else if (strcmp(a, "--retry-ms") == 0 && v != NULL && ++i)
			retry_ms = strtol(v, NULL, 0);
		else
			goto usage;
	}
	if (chunk == 0 || chunk > (64u << 20))
		goto usage;
	buf = malloc(chunk);
	if (buf == NULL)
		return 1;
	memset(buf, 0x5a, chunk);

	if (strcmp(argv[1], "server") == 0) {
		p.v = libxenvchan_server_init(NULL, atoi(argv[2]), argv[3], read_min, write_min);
		if (p.v == NULL) {
			perror("vchan_peer: libxenvchan_server_init");
			return 1;
		}
		p.v->blocking = -1; /* a signed 1-bit field: -1 is "on" */
		fprintf(stderr, "listening\n");
		/* cli_live is 2 until a client maps the ring. */
		while (libxenvchan_is_open(p.v) == 2) {
			if (libxenvchan_wait(p.v) != 0) {
				perror("vchan_peer: libxenvchan_wait");
				return 1;
			}
		}
	} else if (strcmp(argv[1], "client") == 0) {
		for (long waited = 0;; waited += 20) {
			p.v = libxenvchan_client_init(NULL, atoi(argv[2]), argv[3]);
			if (p.v != NULL || waited >= retry_ms)
				break;
			usleep(20000);
		}
		if (p.v == NULL) {
			perror("vchan_peer: libxenvchan_client_init");
			return 1;
		}
		p.v->blocking = -1;
	} else if (strcmp(argv[1], "unix-server") == 0 || strcmp(argv[1], "unix-client") == 0) {
		p.fd = unix_open(argv[2], argv[1][5] == 's');
		if (p.fd < 0) {
			perror("vchan_peer: unix socket");
			return 1;
		}
	} else {
		goto usage;
	}
	fprintf(stderr, "connected\n");
	if (go != NULL && (mode == M_SEND || mode == M_GEN) && wait_file(go) != 0)
		return 1;

	t0 = now();
	if (mode == M_SEND || mode == M_GEN) {
		for (;;) {
			size_t n = chunk;

			if (mode == M_GEN) {
				if (total >= gen)
					break;
				if (gen - total < n)
					n = (size_t)(gen - total);
			} else {
				ssize_t r = read(0, buf, chunk);

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				n = (size_t)r;
			}
			if (put(&p, buf, n) != 0) {
				fprintf(stderr, "vchan_peer: the stream broke after %llu bytes\n",
					total);
				rc = 3;
				break;
			}
			total += n;
		}
	} else {
		for (;;) {
			ssize_t r = get(&p, buf, chunk);

			if (r == 0)
				break;
			if (mode == M_RECV && write(1, buf, (size_t)r) != r) {
				perror("vchan_peer: stdout");
				rc = 1;
				break;
			}
			total += (unsigned long long)r;
		}
	}
	if (p.v != NULL && getenv("VCHAN_PEER_DEBUG") != NULL)
		fprintf(stderr, "debug: data_ready %d is_open %d space %d\n",
			libxenvchan_data_ready(p.v), libxenvchan_is_open(p.v),
			libxenvchan_buffer_space(p.v));
	{
		double s = now() - t0;

		fprintf(stderr, "bytes=%llu seconds=%.6f mib_s=%.1f\n", total, s,
			s > 0 ? (double)total / s / 1048576.0 : 0.0);
	}
	peer_close(&p);
	free(buf);
	return rc;
usage:
	fprintf(stderr, "usage: vchan_peer server|client PEER_DOMID XS_PATH [opts]\n"
			"       vchan_peer unix-server|unix-client SOCKET [opts]\n"
			"opts: --send --recv --gen BYTES --sink --chunk BYTES --read-min B --write-min B\n"
			"      --go FILE --retry-ms MS\n");
	return 1;
}
