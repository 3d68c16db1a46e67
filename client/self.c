/* SPDX-License-Identifier: MIT */
/*
 * The process-wide connection that the Xen drop-in libraries share
 * (gntdp_client_self_get(), gntdp/client.h): one connection, bound to the
 * domain $GNTDP_DOMID names, refcounted. Every xenevtchn / xengnttab handle
 * of the process takes a reference; the last put closes the connection,
 * which destroys the domain (docs/daemon.md).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "client_internal.h"

static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gntdp_client *self;  /* under self_lock */
static unsigned int self_refs;     /* under self_lock */
static pid_t self_pid;             /* the process that made self */

/* $GNTDP_DOMID: a decimal domid below DOMID_FIRST_RESERVED; -EINVAL otherwise. */
static int
env_domid(gntdp_domid_t *out)
{
	const char *s = getenv("GNTDP_DOMID");
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= GNTDP_DOMID_FIRST_RESERVED)
		return -EINVAL;
	*out = (gntdp_domid_t)v;
	return 0;
}

static int
self_open(struct gntdp_client **out)
{
	struct gntdp_client_domain_conf dc;
	struct gntdp_client *c;
	gntdp_domid_t domid;
	int rc;

	rc = env_domid(&domid);
	if (rc < 0)
		return rc;
	rc = gntdp_client_connect(NULL, &c);
	if (rc < 0)
		return rc;
	gntdp_client_domain_conf_init(&dc);
	dc.domid = domid;
	rc = gntdp_client_bind(c, &dc);
	if (rc < 0) {
		gntdp_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

int
gntdp_client_self_get(struct gntdp_client **out)
{
	int rc = 0;

	if (out == NULL)
		return -EINVAL;
	pthread_mutex_lock(&self_lock);
	/*
	 * A child of fork() inherits the parent's connection: its socket is the
	 * parent's too, so it must not be used (nor closed: the parent's domain
	 * lives on it). The child starts over with a connection of its own.
	 */
	if (self != NULL && self_pid != getpid()) {
		self = NULL;
		self_refs = 0;
	}
	if (self == NULL) {
		rc = self_open(&self);
		if (rc == 0)
			self_pid = getpid();
		else
			self = NULL;
	}
	if (rc == 0) {
		self_refs++;
		*out = self;
	}
	pthread_mutex_unlock(&self_lock);
	return rc;
}

void
gntdp_client_self_put(struct gntdp_client *c)
{
	struct gntdp_client *last = NULL;

	if (c == NULL)
		return;
	pthread_mutex_lock(&self_lock);
	if (c == self && self_pid == getpid() && --self_refs == 0) {
		last = self;
		self = NULL;
	}
	pthread_mutex_unlock(&self_lock);
	gntdp_client_close(last);
}
