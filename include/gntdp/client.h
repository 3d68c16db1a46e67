/* SPDX-License-Identifier: MIT */
/**
 * @file
 * libgntdp-client: a process that is one guest domain of gntdpd
 * (apps/gntdpd, docs/daemon.md). No EAL, no hugepage access, no DPDK type:
 * the client connects to the daemon's control socket (gntdp/ctl.h), binds
 * its domain, maps the memory the daemon passes it (its RAM, its grant
 * table, its status frames: memfds over SCM_RIGHTS), creates hypercall
 * rings (gntdp/hcall.h) and submits GNTTABOP hypercalls whose op arrays lie
 * in its own RAM. The guest-side grant helpers of gntdp/gnttab.h
 * (gntdp_guest_grant_access() and friends) work on the entries returned by
 * gntdp_client_table() / gntdp_client_table_v2().
 *
 * Threading: a struct gntdp_client is used by one thread at a time; each
 * ring by one thread at a time (different rings on different threads is
 * fine). Errors are negative errno values; gntdp_client_why() gives the
 * daemon's reason for the last failed request.
 */
#ifndef GNTDP_CLIENT_H
#define GNTDP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gntdp/ctl.h>
#include <gntdp/gnttab.h>
#include <gntdp/hcall.h>
#include <gntdp/xen_grant_table.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gntdp_client;
struct gntdp_client_ring;

/**
 * Connect to gntdpd at @p path (NULL: $GNTDP_SOCKET, else
 * GNTDP_CTL_DEFAULT_SOCKET) and exchange HELLO.
 * @return 0, -ENOENT / -ECONNREFUSED (no daemon), -EPROTO (version),
 *         -ENOMEM, another negative errno from socket calls.
 */
int gntdp_client_connect(const char *path, struct gntdp_client **out);

/**
 * Close the connection: the daemon destroys the bound domain (docs/daemon.md).
 * Unmaps everything this client mapped. NULL is a no-op.
 */
void gntdp_client_close(struct gntdp_client *c);

/** The daemon's reason for the last failed request ("" if none). */
const char *gntdp_client_why(const struct gntdp_client *c);

/** What HELLO returned (version, workers, the credentials the daemon saw). */
const struct gntdp_ctl_hello_reply *gntdp_client_hello(const struct gntdp_client *c);

/** Options for gntdp_client_bind(); 0 takes the daemon's default. */
struct gntdp_client_domain_conf {
	gntdp_domid_t domid;
	bool create;                  /**< create it when it does not exist */
	uint32_t nr_frames;
	uint32_t max_grant_frames;
	uint32_t max_maptrack_frames;
	uint32_t max_grant_version;
};

/** Fill @p conf with defaults (domid 0, create = true, limits 0). */
void gntdp_client_domain_conf_init(struct gntdp_client_domain_conf *conf);

/**
 * DOMAIN_BIND: create and/or bind this connection's domain and map its
 * memory. At most once per connection.
 * @return 0, -EPERM (the config does not let this uid/gid be that domain),
 *         -EEXIST (bound by another connection, or still a zombie),
 *         -EINVAL (bad limits), -EALREADY (already bound), -ENOMEM.
 */
int gntdp_client_bind(struct gntdp_client *c, const struct gntdp_client_domain_conf *conf);

/** The bound domain (GNTDP_DOMID_INVALID before gntdp_client_bind()). */
gntdp_domid_t gntdp_client_domid(const struct gntdp_client *c);

/** The domain's RAM in this process: gfn g is at ram + g * 4096. */
void *gntdp_client_ram(const struct gntdp_client *c, uint32_t *nr_frames);

/**
 * Guest address (gfn << 12 | offset) of @p p, which must point into the
 * RAM mapping; UINT64_MAX otherwise. Op arrays and frame lists passed to
 * hypercalls are given by such addresses.
 */
uint64_t gntdp_client_gaddr(const struct gntdp_client *c, const void *p);

/** The own v1 grant entries (max_grant_frames * 512 of them). */
struct gntdp_grant_entry_v1 *gntdp_client_table(const struct gntdp_client *c, uint32_t *nr_entries);

/** The same frames seen as v2 entries (after set_version 2). */
union gntdp_grant_entry_v2 *gntdp_client_table_v2(const struct gntdp_client *c,
						  uint32_t *nr_entries);

/** The status frames (read-only; NULL when the domain has none). */
const gntdp_grant_status_t *gntdp_client_status(const struct gntdp_client *c,
						uint32_t *nr_entries);

/** Options for gntdp_client_ring_create(). */
struct gntdp_client_ring_conf {
	unsigned int sq_entries; /**< power of two; default 256 */
	unsigned int cq_entries; /**< power of two; default 256 */
	bool eventfd;            /**< ask for an eventfd (gntdp_client_wait()) */
	uint32_t worker;         /**< GNTDP_CTL_ANY_WORKER (default) or an index */
};

void gntdp_client_ring_conf_init(struct gntdp_client_ring_conf *conf);

/** RING_CREATE and map the region. After gntdp_client_bind(). */
int gntdp_client_ring_create(struct gntdp_client *c, const struct gntdp_client_ring_conf *conf,
			     struct gntdp_client_ring **out);

/** RING_DESTROY and unmap. Completions not reaped are lost. NULL is a no-op. */
int gntdp_client_ring_destroy(struct gntdp_client *c, struct gntdp_client_ring *r);

/** Asynchronous: gntdp_hcall_client_submit() on the ring. */
unsigned int gntdp_client_submit(struct gntdp_client_ring *r, const struct gntdp_hcall_sqe *sqes,
				 unsigned int n);

/** Asynchronous: gntdp_hcall_client_reap() on the ring. */
unsigned int gntdp_client_reap(struct gntdp_client_ring *r, struct gntdp_hcall_cqe *cqes,
			       unsigned int n);

/**
 * Block until completions may wait or @p timeout_ms passed (eventfd ring:
 * sleeps; otherwise busy-polls).
 * @return 1, 0 (timeout), -EPIPE (the ring was disabled or the daemon went
 *         away), another negative errno.
 */
int gntdp_client_wait(struct gntdp_client_ring *r, int timeout_ms);

/**
 * Synchronous hypercall: GNTTABOP @p cmd on @p count ops at @p ops, which
 * must lie in the own RAM (gntdp_client_gaddr()). Submits one call, waits
 * for its completion (completions of earlier asynchronous calls on the same
 * ring must have been reaped).
 * @return the hypercall's rc (gntdp_hcall()), or -EPIPE (ring disabled /
 *         daemon gone), -EFAULT (@p ops not in RAM), -EBUSY (SQ full).
 */
int gntdp_client_hcall(struct gntdp_client_ring *r, unsigned int cmd, void *ops,
		       unsigned int count);

/** The ring's eventfd (-1 without one), for the caller's own poll loop. */
int gntdp_client_ring_fd(const struct gntdp_client_ring *r);

/** The control socket, for poll(): it becomes readable (EOF) when the daemon dies. */
int gntdp_client_fd(const struct gntdp_client *c);

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_CLIENT_H */
