/* SPDX-License-Identifier: MIT */
/*
 * libgntdp-client: connection, domain binding and the domain's memory
 * (gntdp/client.h, docs/daemon.md). No DPDK, no EAL, no hugepages: the
 * memory is three memfds the daemon passes with DOMAIN_BIND, mapped
 * MAP_SHARED here and closed once mapped (the mappings keep them alive).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "client_internal.h"

/* Largest mapping a reply may ask for (1 TiB): a bound on what a count can make us map. */
#define MAX_MAP_BYTES (1ull << 40)

static int
env_timeout(void)
{
	const char *s = getenv("GNTDP_CLIENT_TIMEOUT_MS");
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return CL_DEFAULT_TIMEOUT_MS;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 3600000)
		return CL_DEFAULT_TIMEOUT_MS;
	return (int)v;
}

static int
open_socket(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Bounds connect() against a full backlog and each send; replies have their own poll. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	do {
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc == -EAGAIN || rc == -EINPROGRESS ? -ETIMEDOUT : rc;
	}
	return fd;
}

static int
hello(struct gntdp_client *c)
{
	struct gntdp_ctl_hello m = {.min_version = GNTDP_CTL_VERSION,
				    .max_version = GNTDP_CTL_VERSION};
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_HELLO,
			   .body = &c->hello, .body_min = sizeof(c->hello),
			   .body_max = sizeof(c->hello)};
	int rc = cl_request(c, &q);

	if (rc < 0)
		return rc;
	if (c->hello.version != GNTDP_CTL_VERSION)
		return cl_fail(c, -EPROTO, "hello: the daemon chose another version");
	if (c->hello.page_size != GNTDP_PAGE_SIZE)
		return cl_fail(c, -EPROTO, "hello: page_size is not 4096");
	return 0;
}

/* The control lock: recursive, so that cl_request may call cl_fail and cl_check_socket. */
static int
init_lock(struct gntdp_client *c)
{
	pthread_mutexattr_t a;
	int rc;

	if (pthread_mutexattr_init(&a) != 0)
		return -ENOMEM;
	rc = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	if (rc == 0)
		rc = pthread_mutex_init(&c->lock, &a);
	pthread_mutexattr_destroy(&a);
	return -rc;
}

int
gntdp_client_connect(const char *path, struct gntdp_client **out)
{
	struct gntdp_client *c;
	int rc;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (path == NULL)
		path = getenv("GNTDP_SOCKET");
	if (path == NULL || *path == '\0')
		path = GNTDP_CTL_DEFAULT_SOCKET;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->domid = GNTDP_DOMID_INVALID;
	c->timeout_ms = env_timeout();
	rc = init_lock(c);
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->fd = open_socket(path, c->timeout_ms);
	if (c->fd < 0) {
		rc = c->fd;
		pthread_mutex_destroy(&c->lock);
		free(c);
		return rc;
	}
	rc = hello(c);
	if (rc < 0) {
		gntdp_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
gntdp_client_close(struct gntdp_client *c)
{
	if (c == NULL)
		return;
	/* No RING_DESTROY: closing the connection destroys the domain and its rings. */
	while (c->rings != NULL) {
		struct gntdp_client_ring *r = c->rings;

		c->rings = r->next;
		cl_ring_free(r);
	}
	cl_share_free_all(c);
	if (c->ram != NULL)
		munmap(c->ram, c->ram_size);
	if (c->table != NULL)
		munmap(c->table, c->table_size);
	if (c->status != NULL)
		munmap(c->status, c->status_size);
	if (c->ev_gen != NULL)
		munmap((void *)(uintptr_t)c->ev_gen, c->ev_gen_size);
	close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int
gntdp_client_set_timeout(struct gntdp_client *c, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

	if (c == NULL || timeout_ms <= 0)
		return -EINVAL;
	cl_lock(c);
	c->timeout_ms = timeout_ms;
	cl_unlock(c);
	/* Sends too: a daemon that stops reading must not block a request forever. */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

const char *
gntdp_client_why(const struct gntdp_client *c)
{
	return c->why;
}

const struct gntdp_ctl_hello_reply *
gntdp_client_hello(const struct gntdp_client *c)
{
	return &c->hello;
}

int
gntdp_client_fd(const struct gntdp_client *c)
{
	return c->fd;
}

void
gntdp_client_domain_conf_init(struct gntdp_client_domain_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->create = true;
}

/*
 * Map @p pages pages of @p fd. The fd must be a regular file (a memfd)
 * at least that long: a mapping past its end would SIGBUS on first touch.
 */
int
cl_map_fd(int fd, uint64_t bytes, int prot, void **out)
{
	struct stat st;
	void *p;

	if (bytes == 0 || bytes > MAX_MAP_BYTES)
		return -EPROTO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < bytes)
		return -EPROTO;
	p = mmap(NULL, (size_t)bytes, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static int
map_domain(struct gntdp_client *c, const struct gntdp_ctl_domain_reply *d, const int *fds)
{
	void *ram = NULL, *table = NULL, *status = NULL;
	uint64_t rs = (uint64_t)d->nr_frames * GNTDP_PAGE_SIZE;
	uint64_t ts = (uint64_t)d->max_grant_frames * GNTDP_PAGE_SIZE;
	uint64_t ss = (uint64_t)d->nr_status_frames * GNTDP_PAGE_SIZE;
	int rc;

	rc = cl_map_fd(fds[0], rs, PROT_READ | PROT_WRITE, &ram);
	if (rc == 0)
		rc = cl_map_fd(fds[1], ts, PROT_READ | PROT_WRITE, &table);
	if (rc == 0 && d->nr_status_frames > 0)
		rc = cl_map_fd(fds[2], ss, PROT_READ, &status);
	if (rc < 0) {
		if (ram != NULL)
			munmap(ram, (size_t)rs);
		if (table != NULL)
			munmap(table, (size_t)ts);
		return rc;
	}
	c->ram = ram;
	c->ram_size = (size_t)rs;
	c->table = table;
	c->table_size = (size_t)ts;
	c->status = status;
	c->status_size = (size_t)ss;
	return 0;
}

static int
bind_locked(struct gntdp_client *c, const struct gntdp_client_domain_conf *conf)
{
	struct gntdp_ctl_domain m = {0};
	struct gntdp_ctl_domain_reply d;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_DOMAIN_BIND,
			   .body = &d, .body_min = sizeof(d), .body_max = sizeof(d)};
	int rc;

	if (c->domid != GNTDP_DOMID_INVALID)
		return -EALREADY;
	m.domid = conf->domid;
	m.flags = conf->create ? GNTDP_CTL_BIND_CREATE : 0;
	m.nr_frames = conf->nr_frames;
	m.max_grant_frames = conf->max_grant_frames;
	m.max_maptrack_frames = conf->max_maptrack_frames;
	m.max_grant_version = conf->max_grant_version;
	/* The fd count depends on the reply: take 2 or 3, then check against nr_status_frames. */
	q.nfds_min = 2;
	q.nfds_max = 3;
	rc = cl_request(c, &q);
	if (rc < 0)
		return rc;
	if (d.domid != conf->domid || q.nfds != (d.nr_status_frames > 0 ? 3u : 2u) ||
	    d.nr_frames == 0 || d.max_grant_frames == 0) {
		cl_close_fds(q.fds, q.nfds);
		return cl_fail(c, -EPROTO, "bind: reply does not describe the domain asked for");
	}
	rc = map_domain(c, &d, q.fds);
	cl_close_fds(q.fds, q.nfds);
	if (rc < 0)
		return cl_fail(c, rc, "bind: the domain's memory fds cannot be mapped");
	c->dom = d;
	c->domid = (gntdp_domid_t)d.domid;
	return 0;
}

int
gntdp_client_bind(struct gntdp_client *c, const struct gntdp_client_domain_conf *conf)
{
	int rc;

	if (c == NULL || conf == NULL)
		return -EINVAL;
	/* Whole under the lock: two threads binding at once get one domain and -EALREADY. */
	cl_lock(c);
	rc = bind_locked(c, conf);
	cl_unlock(c);
	return rc;
}

gntdp_domid_t
gntdp_client_domid(const struct gntdp_client *c)
{
	return c->domid;
}

void *
gntdp_client_ram(const struct gntdp_client *c, uint32_t *nr_frames)
{
	if (nr_frames != NULL)
		*nr_frames = c->ram != NULL ? c->dom.nr_frames : 0;
	return c->ram;
}

uint64_t
gntdp_client_gaddr(const struct gntdp_client *c, const void *p)
{
	/* Integer compares: pointers into different objects must not be compared in C. */
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)c->ram;

	if (c->ram == NULL || a < lo || a - lo >= c->ram_size)
		return UINT64_MAX;
	/* gfn << 12 | offset is the byte offset into the RAM mapping. */
	return (uint64_t)(a - lo);
}

void *
gntdp_client_gaddr_ptr(const struct gntdp_client *c, uint64_t gaddr, size_t len)
{
	if (c->ram == NULL || gaddr > c->ram_size || len > c->ram_size - gaddr)
		return NULL;
	return c->ram + gaddr;
}

struct gntdp_grant_entry_v1 *
gntdp_client_table(const struct gntdp_client *c, uint32_t *nr_entries)
{
	if (nr_entries != NULL)
		*nr_entries = c->table != NULL ? (uint32_t)(c->table_size /
							    sizeof(struct gntdp_grant_entry_v1))
					       : 0;
	return c->table;
}

union gntdp_grant_entry_v2 *
gntdp_client_table_v2(const struct gntdp_client *c, uint32_t *nr_entries)
{
	if (nr_entries != NULL)
		*nr_entries = c->table != NULL ? (uint32_t)(c->table_size /
							    sizeof(union gntdp_grant_entry_v2))
					       : 0;
	return c->table;
}

const gntdp_grant_status_t *
gntdp_client_status(const struct gntdp_client *c, uint32_t *nr_entries)
{
	if (nr_entries != NULL)
		*nr_entries = (uint32_t)(c->status_size / sizeof(gntdp_grant_status_t));
	return c->status;
}
