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
 * Threading: the control requests of a struct gntdp_client (bind, ring
 * create/destroy, and the later request types) are serialised by a mutex
 * inside it, so several threads, and several drop-in handles sharing
 * gntdp_client_self_get()'s connection, may issue them at once; each waits
 * for its own reply. Each ring is used by one thread at a time (different
 * rings on different threads is fine). gntdp_client_close() must not run
 * while another thread still uses the client. Errors are negative errno
 * values; gntdp_client_why() gives the daemon's reason for the last failed
 * request of any thread on the client, or the library's.
 *
 * The process's own domain: gntdp_client_self_get() connects to
 * $GNTDP_SOCKET (default GNTDP_CTL_DEFAULT_SOCKET) and binds the domain
 * named by the environment variable GNTDP_DOMID (a decimal domid below
 * DOMID_FIRST_RESERVED, 0x7FF0; created when it does not exist, with the
 * daemon's default limits). This is how the Xen drop-in libraries
 * (libxenevtchn.so.1, libxengnttab.so.1) learn "their" domid, which Xen
 * gives a process by the domain it runs in.
 *
 * Linking: `pkg-config --libs gntdp-client` (libgntdp-client.so.0). The
 * library needs no DPDK and no hugepages. It holds the entry-level guest
 * helpers of gntdp/gnttab.h (gntdp_guest_grant_access(),
 * gntdp_guest_end_access() and the others that take an entry) and the ring
 * client of gntdp/hcall.h (gntdp_hcall_client_*, gntdp_hcall_op_size(),
 * gntdp_hcall_ring_mem_size()), and the status names of gntdp/gnttab.h
 * (gntdp_gntst_name(), gntdp_gntst_str()); not the core (gntdp_gnttab_*,
 * gntdp_guest_table(), gntdp_hcall()), which runs in the daemon.
 *
 * Connection errors: every control reply is checked (magic, version, type,
 * seq, len, nfds against the fds that arrived; gntdp/ctl.h). A reply that
 * breaks the protocol is -EPROTO, a reply that does not come within the
 * timeout (gntdp_client_set_timeout(), $GNTDP_CLIENT_TIMEOUT_MS, default
 * 5000 ms) is -ETIMEDOUT, a daemon that went away is -EPIPE; after any of
 * the three the connection is dead and every later call on it or on its
 * rings returns the same error at once (waits included: they watch the
 * control socket). Only gntdp_client_close() is left to do.
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
 *         -EDQUOT (this uid holds its [limits] connections; the
 *         connection is closed), -ENOMEM, another negative errno from
 *         socket calls.
 */
int gntdp_client_connect(const char *path, struct gntdp_client **out);

/**
 * Close the connection: the daemon destroys the bound domain (docs/daemon.md).
 * Unmaps everything this client mapped, its rings included (their handles
 * are then invalid). NULL is a no-op.
 */
void gntdp_client_close(struct gntdp_client *c);

/** The daemon's (or the library's) reason for the last failed request ("" if none). */
const char *gntdp_client_why(const struct gntdp_client *c);

/**
 * How long a control request waits for its reply (default
 * $GNTDP_CLIENT_TIMEOUT_MS, else 5000 ms).
 * @return 0, -EINVAL (NULL, @p timeout_ms <= 0).
 */
int gntdp_client_set_timeout(struct gntdp_client *c, int timeout_ms);

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
 *         -ENOENT (does not exist and conf->create is false),
 *         -EINVAL (bad limits), -EALREADY (already bound), -ENOMEM,
 *         -EDQUOT (this uid holds its [limits] domains or frames),
 *         -EPROTO (the reply's fds are not memfds as long as it says, or
 *         the reply is malformed), -EPIPE, -ETIMEDOUT, another error of the
 *         daemon (gntdp_client_why()).
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

/**
 * The inverse: where @p len bytes at guest address @p gaddr lie in this
 * process; NULL when any of them is outside the RAM.
 */
void *gntdp_client_gaddr_ptr(const struct gntdp_client *c, uint64_t gaddr, size_t len);

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

/**
 * RING_CREATE and map the region. After gntdp_client_bind().
 * @return 0, -ENOTCONN (not bound), -EINVAL (bad sizes or worker, from the
 *         daemon), -ENOSPC (the connection's max_rings), -ENOMEM, -EPROTO
 *         (the region is not a formatted ring of the size the reply says),
 *         -EPIPE, -ETIMEDOUT.
 */
int gntdp_client_ring_create(struct gntdp_client *c, const struct gntdp_client_ring_conf *conf,
			     struct gntdp_client_ring **out);

/**
 * RING_DESTROY and unmap. Completions not reaped are lost. NULL is a no-op.
 * The ring is unmapped and freed whatever the daemon answers.
 * @return 0, -EINVAL (@p r is not @p c's), the request's error.
 */
int gntdp_client_ring_destroy(struct gntdp_client *c, struct gntdp_client_ring *r);

/**
 * Asynchronous: gntdp_hcall_client_submit() on the ring: the op arrays
 * must stay in place until their completions are reaped. 0 on a dead
 * connection (gntdp_client_wait() then says why).
 */
unsigned int gntdp_client_submit(struct gntdp_client_ring *r, const struct gntdp_hcall_sqe *sqes,
				 unsigned int n);

/** Asynchronous: gntdp_hcall_client_reap() on the ring. */
unsigned int gntdp_client_reap(struct gntdp_client_ring *r, struct gntdp_hcall_cqe *cqes,
			       unsigned int n);

/** Hypercalls submitted on @p r and not yet reaped. */
unsigned int gntdp_client_inflight(const struct gntdp_client_ring *r);

/**
 * Block until completions may wait or @p timeout_ms passed (< 0: no
 * limit). An eventfd ring sleeps (poll on the eventfd and the control
 * socket); otherwise it busy-polls, looking at the control socket every
 * millisecond.
 * @return 1, 0 (timeout), -EPIPE (the ring was disabled or the daemon went
 *         away), -EPROTO (the daemon sent a message nobody asked for),
 *         another negative errno from poll() or read().
 */
int gntdp_client_wait(struct gntdp_client_ring *r, int timeout_ms);

/**
 * Synchronous hypercall: GNTTABOP @p cmd on @p count ops at @p ops, which
 * must lie in the own RAM (gntdp_client_gaddr()). Submits one call, waits
 * for its completion: busy-polls for up to 50 us, then sleeps on the
 * eventfd (a ring without one keeps polling). Completions of earlier
 * asynchronous calls on the same ring must have been reaped. By default
 * there is no timeout while the daemon lives (as in Xen, a hypercall
 * completes); its death ends the wait. gntdp_client_ring_set_hcall_timeout()
 * bounds it: then -ETIMEDOUT, and the call stays in flight (the worker
 * may still run it and write its ops' statuses: @p ops must stay valid);
 * the next gntdp_client_hcall() on the ring takes and drops its late
 * completion, or answers -EBUSY while it has not come. The connection
 * stays usable.
 * @return the hypercall's rc (gntdp_hcall()), or -EPIPE (ring disabled /
 *         daemon gone), -EFAULT (an op of @p ops not in RAM: checked here,
 *         nothing is submitted), -EBUSY (SQ full, or calls in flight, a
 *         timed-out one included), -ETIMEDOUT (the ring's hcall timeout
 *         passed; the connection stays usable), -EPROTO / -ETIMEDOUT of a
 *         control request earlier (the connection is dead).
 */
int gntdp_client_hcall(struct gntdp_client_ring *r, unsigned int cmd, void *ops,
		       unsigned int count);

/**
 * Bound gntdp_client_hcall() on @p r to @p timeout_ms (0: no bound, the
 * default). gntdp_client_wait() has its own timeout argument.
 * @return 0, -EINVAL (NULL, @p timeout_ms < 0).
 */
int gntdp_client_ring_set_hcall_timeout(struct gntdp_client_ring *r, int timeout_ms);

/** The ring's eventfd (-1 without one), for the caller's own poll loop. */
int gntdp_client_ring_fd(const struct gntdp_client_ring *r);

/** The control socket, for poll(): it becomes readable (EOF) when the daemon dies. */
int gntdp_client_fd(const struct gntdp_client *c);

/**
 * DOMAIN_INFO: the first domain whose domid is @p domid or above (Xen's
 * getdomaininfo rule), with its state (gntdp_ctl_domain_info_reply.flags:
 * BOUND, DYING, PRIVILEGED). Any connection may ask, bound or not.
 * @return 0 and *out filled; -ESRCH (no domain at or above domid), -EINVAL
 *         (domid reserved, NULL argument), -EOPNOTSUPP (a daemon without
 *         DOMAIN_INFO), -EPIPE / -EPROTO / -ETIMEDOUT (connection dead).
 */
int gntdp_client_domain_info(struct gntdp_client *c, gntdp_domid_t domid,
			     struct gntdp_ctl_domain_info_reply *out);
/* ---- event channels (docs/daemon.md "Event channels") ---------------------- */

/**
 * An event-channel handle: a set of ports of the client's domain, with one
 * pollable fd, as a Linux /dev/xen/evtchn open file is. Ports are the
 * domain's (EVTCHNOP_* semantics of Xen, checked by the daemon); each port
 * belongs to the handle that allocated or bound it. A notification is one
 * write(2) of the sender to an eventfd the receiving handle waits on: no
 * daemon round trip. A port delivered by gntdp_client_evtchn_pending() is
 * masked until gntdp_client_evtchn_unmask(); notifications meanwhile latch
 * one pending event. Thread-safe; pending() may block in one thread while
 * others bind, notify and unmask.
 */
struct gntdp_client_evtchn;

/** Most microseconds GNTDP_EVTCHN_SPIN_US may ask (gntdp_client_evtchn_pending()). */
#define GNTDP_CLIENT_EVTCHN_MAX_SPIN_US 1000

/**
 * A new handle with no port, on a bound client (EVTCHN_SETUP on the first).
 * Its fd is close-on-exec. The environment's GNTDP_EVTCHN_SPIN_US (read
 * here) sets its pending() spin.
 * @return 0, -EINVAL (NULL), -ENOTCONN (not bound), -ENOMEM, -EMFILE, the
 *         request's errors (-EPIPE, -EPROTO, -ETIMEDOUT).
 */
int gntdp_client_evtchn_open(struct gntdp_client *c, struct gntdp_client_evtchn **out);

/**
 * Close every port of the handle (EVTCHNOP_close each: their peers return
 * to unbound for this domain) and free it. NULL is a no-op. Must not race
 * with other calls on @p h.
 */
void gntdp_client_evtchn_close(struct gntdp_client_evtchn *h);

/**
 * The handle's fd (an epoll fd): poll(2) says POLLIN exactly when an
 * unmasked port of the handle is pending. Setting O_NONBLOCK on it makes
 * gntdp_client_evtchn_pending() return -EAGAIN instead of blocking.
 */
int gntdp_client_evtchn_fd(const struct gntdp_client_evtchn *h);

/**
 * EVTCHNOP_alloc_unbound (dom = DOMID_SELF): a new port, unbound, that
 * @p remote (DOMID_SELF: this domain) may bind with
 * gntdp_client_evtchn_bind_interdomain(). @p remote need not exist.
 * @return the port (never 0), -ENOSPC ([domains] max_evtchns ports in
 *         use), -EINVAL (@p remote above 0xffff), -ENOMEM, -ENOTCONN,
 *         -EPIPE / -EPROTO / -ETIMEDOUT.
 */
int gntdp_client_evtchn_alloc_unbound(struct gntdp_client_evtchn *h, gntdp_domid_t remote);

/**
 * EVTCHNOP_bind_interdomain: a new port connected to port @p rport of
 * domain @p remote (DOMID_SELF: this domain), which must be unbound for
 * this domain. The new port starts pending, as in Xen (events sent to the
 * unbound remote port may have been lost).
 * @return the port (never 0), -ESRCH (@p remote does not exist), -EINVAL
 *         (@p rport is not an allocated port of @p remote, or not unbound
 *         for this domain), -ENOSPC, -ENOMEM, the request's errors.
 */
int gntdp_client_evtchn_bind_interdomain(struct gntdp_client_evtchn *h, gntdp_domid_t remote,
					 uint32_t rport);

/**
 * EVTCHNOP_close of a port of the handle; its peer, if bound, returns to
 * unbound for this domain (a new bind_interdomain from here reconnects).
 * @return 0, -EINVAL (@p port out of the domain's range), -ENOTCONN (not a
 *         port of this handle, as Linux's evtchn driver), the request's
 *         errors.
 */
int gntdp_client_evtchn_unbind(struct gntdp_client_evtchn *h, uint32_t port);

/**
 * EVTCHNOP_send: raise the peer of @p port; dropped (0) when @p port is
 * unbound, as Xen does. One write(2) to the peer's eventfd; a control
 * request only when the domain's generation page says the port's peer
 * changed since the last look.
 * @return 0, -EINVAL (out of range), -ENOTCONN (not a port of this handle),
 *         the request's errors.
 */
int gntdp_client_evtchn_notify(struct gntdp_client_evtchn *h, uint32_t port);

/**
 * Wait for a pending unmasked port of the handle and return it, masked
 * (it is not delivered again until gntdp_client_evtchn_unmask()). Blocks
 * while none is pending (forever on a handle without ports, as Linux).
 * Several notifies that came while the port was unmasked and before this
 * call took the first leave one more event for after unmask(): on Xen the
 * kernel takes the first at once and the later ones latch.
 * With GNTDP_EVTCHN_SPIN_US=N in the environment when the handle was
 * opened (0..GNTDP_CLIENT_EVTCHN_MAX_SPIN_US; anything else is 0, the
 * default, and one line on stderr names it), it polls its ports' channel lines for up to N us before it
 * sleeps: a notify within that time is a memory write, no system call on
 * either side, at the price of up to N us of CPU per wait (and, with
 * O_NONBLOCK, -EAGAIN only after it; docs/daemon.md "Event channels").
 * @return the port, -EAGAIN (O_NONBLOCK set on the fd and none pending),
 *         -EINTR (the wait was interrupted and some signal has a handler
 *         without SA_RESTART, as Linux's read of /dev/xen/evtchn when such a
 *         handler ran; a SIGSTOP + SIGCONT is not one, and handlers of the
 *         fault signals SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and SIGSYS
 *         do not count), another negative errno of epoll_wait().
 */
int gntdp_client_evtchn_pending(struct gntdp_client_evtchn *h);

/**
 * Unmask @p port: delivered again by pending() if notified meanwhile (one
 * event however many notifications came). A port that is not the handle's,
 * or not masked, is ignored (0), as Linux's driver ignores it.
 * @return 0, a negative errno of epoll_ctl().
 */
int gntdp_client_evtchn_unmask(struct gntdp_client_evtchn *h, uint32_t port);

/**
 * The process-wide client the Xen drop-in libraries share. The first call
 * connects (gntdp_client_connect(NULL): $GNTDP_SOCKET) and binds the domain
 * $GNTDP_DOMID names (created when missing, default limits); later calls
 * return the same client and take one more reference. Thread-safe. A child
 * of fork() does not share its parent's: its first call connects anew
 * (binding the same domid then fails with -EEXIST while the parent holds
 * it).
 * @return 0 and *@p out, -EINVAL (@p out NULL, GNTDP_DOMID unset, not a
 *         decimal number, or >= DOMID_FIRST_RESERVED), or an error of
 *         gntdp_client_connect() / gntdp_client_bind() (-ENOENT,
 *         -ECONNREFUSED: no daemon; -EPERM: this uid may not be that
 *         domain; -EEXIST: another connection holds it; ...).
 */
int gntdp_client_self_get(struct gntdp_client **out);

/**
 * Drop a reference taken by gntdp_client_self_get(); the last one closes
 * the connection (gntdp_client_close(): the domain is destroyed). NULL, or
 * a client that is not the process's own, is a no-op.
 */
void gntdp_client_self_put(struct gntdp_client *c);

/** An unmap notification of the bound domain (NOTIFY_SET, gntdp/ctl.h). */
struct gntdp_client_notify {
	uint32_t kind;         /**< GNTDP_CTL_NOTIFY_MAP or GNTDP_CTL_NOTIFY_SHARE */
	uint32_t flags;        /**< GNTDP_CTL_NOTIFY_CLEAR_BYTE | GNTDP_CTL_NOTIFY_SEND_EVENT */
	uint64_t gfn;          /**< the frame in the own physmap */
	uint32_t offset;       /**< CLEAR_BYTE: the byte, 0..4095; else 0 */
	uint32_t port;         /**< SEND_EVENT: an own event port; else 0 */
	gntdp_domid_t granter; /**< MAP: the granting domain; else 0 */
	uint32_t ref;          /**< MAP: the grant ref; else 0 */
};

/**
 * NOTIFY_SET: when this domain dies (its process exits or is killed), the
 * daemon clears the byte and/or sends the event (Linux's SET_UNMAP_NOTIFY).
 * Any thread.
 * @param id out: names it in gntdp_client_notify_fire().
 * @return 0, -EINVAL (NULL, or the checks of struct gntdp_ctl_notify_set:
 *         kind, flags, offset, port, a CLEAR_BYTE of a map that is not a
 *         writable grant of that frame), -ENOENT (nothing at gfn),
 *         -EOPNOTSUPP (SEND_EVENT on a daemon without event channels, a v2
 *         granter), -ENOSPC (GNTDP_CTL_MAX_NOTIFY), -ENOTCONN, -EPIPE,
 *         -EPROTO, -ETIMEDOUT.
 */
int gntdp_client_notify_set(struct gntdp_client *c, const struct gntdp_client_notify *n,
			    uint32_t *id);

/**
 * NOTIFY_FIRE: do notification @p id now (clear, send) and drop it, or
 * with @p drop only drop it. Any thread.
 * @return 0, -ENOENT (not this domain's), -EINVAL (NULL), -EPIPE, -EPROTO,
 *         -ETIMEDOUT.
 */
int gntdp_client_notify_fire(struct gntdp_client *c, uint32_t id, bool drop);
/* ---- Share segments and cross-process host maps (docs/daemon.md) ---------- */

/**
 * A share segment for @p grantee (SHARE_ALLOC; as Linux's gntalloc): the
 * daemon allocates @p nb_frames zeroed frames as one memfd of their own,
 * places them at free gfns of the caller's share window (from
 * GNTDP_CTL_SHARE_BASE(nr_frames)), and the library maps them here
 * read-write. The caller then grants frame i (gfn + i) to @p grantee in its
 * own grant table (gntdp_guest_grant_access()); only @p grantee can map
 * them across processes (gntdp_client_map_fd()), and only when @p writable
 * writably. Counted against the daemon's [domains] max_share_frames.
 * After gntdp_client_bind().
 * @param va receives the frames' address here (nb_frames * 4096 bytes).
 * @param gfn receives the first gfn.
 * @return 0, -EINVAL (NULL argument, nb_frames 0 or above max_share_frames,
 *         grantee >= DOMID_FIRST_RESERVED), -ENOTCONN (not bound), -ENOSPC
 *         (max_share_frames reached, no free run of gfns, or 256 segments),
 *         -EDQUOT (the uid's [limits] frames),
 *         -ENOMEM, -EPROTO (the reply or its fd is not what SHARE_ALLOC
 *         returns), -EPIPE, -ETIMEDOUT.
 */
int gntdp_client_share_alloc(struct gntdp_client *c, gntdp_domid_t grantee,
			     unsigned int nb_frames, bool writable, void **va, uint64_t *gfn);

/**
 * Unmap a share segment here and remove it from the physmap (SHARE_FREE):
 * grants naming its gfns become bad_page for new maps and copies; frames
 * the grantee maps stay alive, with their contents, until it unmaps them
 * (its own process mappings of them too). End the grants first.
 * @param va what gntdp_client_share_alloc() returned.
 * @return 0, -EINVAL (@p va is not a live segment of @p c), the request's
 *         error (the segment is unmapped here whatever the daemon said).
 */
int gntdp_client_share_free(struct gntdp_client *c, void *va);

/**
 * A cross-process host map (MAP_FD): after the caller's own
 * GNTTABOP_map_grant_ref with GNTMAP_host_map at host_addr = gfns[i] << 12
 * (gfns in the host-map window, GNTDP_CTL_MAP_BASE(nr_frames) ..
 * + GNTDP_CTL_MAP_GFNS), map those @p n foreign frames at @p addr ..
 * @p addr + n * 4096 (MAP_SHARED | MAP_FIXED over a range the caller
 * reserved, e.g. an mmap(PROT_NONE) of its own), with @p prot. Runs of
 * frames consecutive in one segment are mapped with one mmap; n may exceed
 * GNTDP_CTL_MAP_FD_MAX and span any number of segments (the library sends
 * as many MAP_FD requests as it takes). Unmap with munmap() before the
 * grant's GNTTABOP_unmap_grant_ref: this mapping is the process's, the
 * daemon cannot take it back.
 * @param prot PROT_READ, optionally | PROT_WRITE (then each host map must
 *        be writable and each segment shared writable; otherwise the fds
 *        are O_RDONLY, so no mprotect can make the mapping writable).
 * @return 0; -EACCES (a frame not in a share segment whose grantee is the
 *         caller: a granter's RAM frame, another grantee's segment, a freed
 *         segment; GNTTABOP_copy of it still works; or PROT_WRITE over a
 *         read-only map or segment), -EINVAL (NULL or unaligned @p addr,
 *         n 0, prot other than PROT_READ [| PROT_WRITE], a gfn outside the
 *         window or holding no host-mapped grant), -ENOTCONN, -EPROTO,
 *         -EPIPE, -ETIMEDOUT, or mmap's -errno. On failure the range is
 *         left reserved again (PROT_NONE, anonymous); nothing stays mapped.
 */
int gntdp_client_map_fd(struct gntdp_client *c, const uint64_t *gfns, unsigned int n, void *addr,
			int prot);

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_CLIENT_H */
