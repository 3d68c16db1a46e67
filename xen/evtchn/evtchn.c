/* SPDX-License-Identifier: MIT */
/*
 * The drop-in libxenevtchn.so.1 (docs/xen-userspace.md, docs/daemon.md
 * "Event channels"): Debian's API and symbol versions (xen/libxenevtchn.map)
 * over libgntdp-client's event channels, on the process's own connection
 * (gntdp_client_self_get(): the domain $GNTDP_DOMID, shared with
 * libxengnttab in the same process). Semantics are those of Xen's
 * tools/libs/evtchn over Linux's /dev/xen/evtchn (read for the facts):
 *
 *  - open: flags other than XENEVTCHN_NO_CLOEXEC are EINVAL; the fd is
 *    close-on-exec unless that flag is given. The logger is accepted and
 *    not used (no libxentoollog: nothing here logs but a failed open);
 *  - pending() blocks (unless the fd was set O_NONBLOCK: EAGAIN) and
 *    returns a port that stays masked until unmask(); notify and unbind of
 *    a port that is not the handle's are ENOTCONN; unmask of one is
 *    ignored; close closes every port of the handle;
 *  - bind_virq: EACCES on a restricted handle, else ENOSYS (no VIRQs here);
 *  - restrict(domid): EACCES once restricted, EINVAL for 0 or a reserved
 *    domid; afterwards bind_unbound_port is EACCES and bind_interdomain
 *    EACCES for any other domid (enforced here, in the library, where
 *    Linux's driver enforces it in the kernel);
 *  - fdopen(fd): flags must be 0 (EINVAL). An fd of a live handle of this
 *    process gives another handle on the same port set; any other open fd
 *    is taken over (dup3 onto its number) by a new handle without ports;
 *    a closed fd is EBADF;
 *  - -1 and errno on every error.
 *
 * A handle is not for use across fork(): in a child, only close is safe
 * (it drops the child's fd and leaves the parent's ports alone).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gntdp/client.h>

struct xentoollog_logger;

/* Debian's <xenevtchn.h> value. */
#define XE_NO_CLOEXEC (1u << 0)

/* One open "device file": a libgntdp-client handle, shared by fdopen()'s handles. */
struct xe_file {
	struct gntdp_client *c;
	struct gntdp_client_evtchn *h;
	int fd;           /* what xenevtchn_fd() returns: the handle's fd or fdopen()'s number */
	unsigned int refs;
	pid_t pid;        /* the process that opened it */
	uint32_t restrict_dom; /* UINT32_MAX: unrestricted */
	struct xe_file *next;
};

/* xenevtchn_handle (opaque in Debian's header). */
struct xenevtchn_handle {
	struct xe_file *f;
};

typedef struct xenevtchn_handle xenevtchn_handle;
typedef int xenevtchn_port_or_error_t;

/* The exported API, with Debian's <xenevtchn.h> prototypes (evtchn_port_t is uint32_t). */
xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags);
xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
				   unsigned int open_flags);
int xenevtchn_close(xenevtchn_handle *xce);
int xenevtchn_fd(xenevtchn_handle *xce);
int xenevtchn_notify(xenevtchn_handle *xce, uint32_t port);
xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid);
xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     uint32_t remote_port);
xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq);
int xenevtchn_unbind(xenevtchn_handle *xce, uint32_t port);
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce);
int xenevtchn_unmask(xenevtchn_handle *xce, uint32_t port);
int xenevtchn_restrict(xenevtchn_handle *xce, uint16_t domid);

static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xe_file *files; /* under files_lock */

static int
fail(int err)
{
	errno = err < 0 ? -err : err;
	return -1;
}

static void *
fail_ptr(int err)
{
	errno = err < 0 ? -err : err;
	return NULL;
}

/* A library result: the value, or -1 and errno. */
static int
ret(int rc)
{
	return rc < 0 ? fail(rc) : rc;
}

/* A new file on the process's connection (under files_lock). */
static int
file_new(struct xe_file **out)
{
	struct xe_file *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL)
		return -ENOMEM;
	rc = gntdp_client_self_get(&f->c);
	if (rc < 0) {
		if (rc == -EINVAL)
			fprintf(stderr, "xenevtchn_open: GNTDP_DOMID is not a domid below 32752\n");
		else
			fprintf(stderr, "xenevtchn_open: cannot reach gntdpd: %s\n", strerror(-rc));
		free(f);
		return rc;
	}
	rc = gntdp_client_evtchn_open(f->c, &f->h);
	if (rc < 0) {
		gntdp_client_self_put(f->c);
		free(f);
		return rc;
	}
	f->fd = gntdp_client_evtchn_fd(f->h);
	f->refs = 1;
	f->pid = getpid();
	f->restrict_dom = UINT32_MAX;
	f->next = files;
	files = f;
	*out = f;
	return 0;
}

static xenevtchn_handle *
handle_new(struct xe_file *f)
{
	xenevtchn_handle *xce = malloc(sizeof(*xce));

	if (xce != NULL)
		xce->f = f;
	return xce;
}

/* Drop one reference (under files_lock); the last closes the ports and the fds. */
static void
file_put(struct xe_file *f)
{
	struct xe_file **p;

	if (--f->refs > 0)
		return;
	for (p = &files; *p != NULL; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	if (f->pid != getpid()) {
		/* Inherited over fork: the ports and the connection are the parent's. */
		if (f->fd != gntdp_client_evtchn_fd(f->h))
			close(f->fd);
		close(gntdp_client_evtchn_fd(f->h));
		return; /* the rest stays the parent's (it is a copy here: leaked) */
	}
	if (f->fd != gntdp_client_evtchn_fd(f->h))
		close(f->fd);
	gntdp_client_evtchn_close(f->h);
	gntdp_client_self_put(f->c);
	free(f);
}

xenevtchn_handle *
xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	xenevtchn_handle *xce;
	struct xe_file *f;
	int rc;

	(void)logger;
	if (flags & ~XE_NO_CLOEXEC)
		return fail_ptr(EINVAL);
	pthread_mutex_lock(&files_lock);
	rc = file_new(&f);
	if (rc == 0 && (flags & XE_NO_CLOEXEC) && fcntl(f->fd, F_SETFD, 0) != 0)
		rc = -errno;
	xce = rc == 0 ? handle_new(f) : NULL;
	if (rc == 0 && xce == NULL) {
		file_put(f);
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&files_lock);
	return rc == 0 ? xce : fail_ptr(rc);
}

xenevtchn_handle *
xenevtchn_fdopen(struct xentoollog_logger *logger, int fd, unsigned int open_flags)
{
	xenevtchn_handle *xce = NULL;
	struct xe_file *f;
	int rc = 0, fdfl;

	(void)logger;
	if (open_flags != 0)
		return fail_ptr(EINVAL);
	fdfl = fcntl(fd, F_GETFD);
	if (fdfl < 0)
		return fail_ptr(EBADF);
	pthread_mutex_lock(&files_lock);
	for (f = files; f != NULL; f = f->next) {
		if (f->fd == fd && f->pid == getpid())
			break;
	}
	if (f != NULL) {
		/* The fd of a live handle: the same port set, one more reference. */
		f->refs++;
	} else {
		rc = file_new(&f);
		/* Its number now names the new handle's epoll fd (same close-on-exec flag). */
		if (rc == 0 && dup3(f->fd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
			rc = -errno;
			file_put(f);
		}
		if (rc == 0)
			f->fd = fd;
	}
	if (rc == 0) {
		xce = handle_new(f);
		if (xce == NULL) {
			file_put(f);
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&files_lock);
	return rc == 0 ? xce : fail_ptr(rc);
}

int
xenevtchn_close(xenevtchn_handle *xce)
{
	if (xce == NULL)
		return 0;
	pthread_mutex_lock(&files_lock);
	file_put(xce->f);
	pthread_mutex_unlock(&files_lock);
	free(xce);
	return 0;
}

int
xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->f->fd;
}

int
xenevtchn_notify(xenevtchn_handle *xce, uint32_t port)
{
	return ret(gntdp_client_evtchn_notify(xce->f->h, port));
}

xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	/* Linux: a restricted handle may not offer ports. */
	if (__atomic_load_n(&xce->f->restrict_dom, __ATOMIC_RELAXED) != UINT32_MAX)
		return fail(EACCES);
	/* Linux passes the domid on as a domid_t: truncated to 16 bits. */
	return ret(gntdp_client_evtchn_alloc_unbound(xce->f->h, (gntdp_domid_t)domid));
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid, uint32_t remote_port)
{
	uint32_t r = __atomic_load_n(&xce->f->restrict_dom, __ATOMIC_RELAXED);

	if (r != UINT32_MAX && r != domid)
		return fail(EACCES);
	return ret(gntdp_client_evtchn_bind_interdomain(xce->f->h, (gntdp_domid_t)domid,
							remote_port));
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	(void)virq;
	if (__atomic_load_n(&xce->f->restrict_dom, __ATOMIC_RELAXED) != UINT32_MAX)
		return fail(EACCES);
	return fail(ENOSYS); /* no virtual IRQs without a hypervisor */
}

int
xenevtchn_unbind(xenevtchn_handle *xce, uint32_t port)
{
	return ret(gntdp_client_evtchn_unbind(xce->f->h, port));
}

xenevtchn_port_or_error_t
xenevtchn_pending(xenevtchn_handle *xce)
{
	return ret(gntdp_client_evtchn_pending(xce->f->h));
}

int
xenevtchn_unmask(xenevtchn_handle *xce, uint32_t port)
{
	return ret(gntdp_client_evtchn_unmask(xce->f->h, port));
}

int
xenevtchn_restrict(xenevtchn_handle *xce, uint16_t domid)
{
	uint32_t none = UINT32_MAX;

	/* Linux's order: once only (EACCES when already restricted), then the domid. */
	if (__atomic_load_n(&xce->f->restrict_dom, __ATOMIC_RELAXED) != UINT32_MAX)
		return fail(EACCES);
	if (domid == 0 || domid >= GNTDP_DOMID_FIRST_RESERVED)
		return fail(EINVAL);
	if (!__atomic_compare_exchange_n(&xce->f->restrict_dom, &none, domid, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return fail(EACCES);
	return 0;
}
