/* SPDX-License-Identifier: MIT */
/**
 * @file
 * gntdpd's control protocol (wire ABI): the messages a client process
 * (libgntdp-client, gntdp/client.h) and the daemon (apps/gntdpd) exchange
 * over the daemon's Unix control socket. docs/daemon.md has the design.
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socket (default path
 * GNTDP_CTL_DEFAULT_SOCKET, overridden by the GNTDP_SOCKET environment
 * variable in the client library). One message per datagram, at most
 * GNTDP_CTL_MAX_MSG bytes. Requests travel client -> daemon and never carry
 * file descriptors (a request with SCM_RIGHTS is refused with -EBADMSG and
 * the fds are closed unread). Every request gets exactly one reply, in
 * order; a reply may carry file descriptors (SCM_RIGHTS), always in the
 * order the reply body names them.
 *
 * Framing: every message starts with struct gntdp_ctl_hdr. The daemon
 * checks magic, version, type, len (== the datagram's size, and the exact
 * size of the request body for its type) before it looks at the body. A
 * reply is a struct gntdp_ctl_reply (the header with type | GNTDP_CTL_REPLY,
 * the request's seq echoed, err, a message naming what was wrong) followed by
 * the reply body of the type when err == 0. A message the daemon cannot
 * frame (too short, wrong magic or version) is answered with type
 * GNTDP_CTL_REPLY | 0 and err -EPROTO/-EBADMSG; a client that keeps sending
 * garbage is disconnected after GNTDP_CTL_MAX_BAD_MSGS bad messages.
 *
 * Identity: the daemon reads the peer's uid, gid and pid with SO_PEERCRED
 * at accept and checks every request against its config (which uid or gid
 * may act as which domains, and as the privileged toolstack, dom0). Nothing
 * in a message names the caller's identity.
 *
 * Lifetime: a connection binds at most one domain (DOMAIN_BIND). When the
 * connection closes (the process exits or is killed), the daemon destroys
 * that domain as Xen destroys a dying domain: rings first, then its
 * mappings and pins, its memory once no other domain maps it.
 *
 * All integers are little-endian (the daemon and its clients run on one
 * host); every struct is naturally aligned, without implicit padding, and
 * its size is asserted below. Reserved fields must be zero (-EINVAL).
 */
#ifndef GNTDP_CTL_H
#define GNTDP_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <gntdp/xen_grant_table.h>

#ifdef __cplusplus
extern "C" {
#endif

/** First word of every message: "GCtl" little-endian. */
#define GNTDP_CTL_MAGIC 0x6c744347u
/** Protocol version this header describes. */
#define GNTDP_CTL_VERSION 1u
/** Largest datagram either side sends or accepts. */
#define GNTDP_CTL_MAX_MSG 4096u
/** Most file descriptors one reply carries. */
#define GNTDP_CTL_MAX_FDS 4u
/** Bad messages after which the daemon closes the connection. */
#define GNTDP_CTL_MAX_BAD_MSGS 16u
/** Default control socket path. */
#define GNTDP_CTL_DEFAULT_SOCKET "/run/gntdp/gntdpd.sock"
/** Bit set in the type of every reply. */
#define GNTDP_CTL_REPLY 0x8000u

/** Message types (struct gntdp_ctl_hdr.type of a request). */
enum gntdp_ctl_type {
	/** Version check and daemon facts. Must be the first request. */
	GNTDP_CTL_HELLO = 1,
	/** Create and/or bind the connection's domain; reply carries its memory fds. */
	GNTDP_CTL_DOMAIN_BIND = 2,
	/** A hypercall ring for the bound domain; reply carries its memory (and eventfd). */
	GNTDP_CTL_RING_CREATE = 3,
	/** Tear down one of the connection's rings. */
	GNTDP_CTL_RING_DESTROY = 4,
	/** Privileged: create an unbound domain that a later DOMAIN_BIND takes. */
	GNTDP_CTL_DOMAIN_CREATE = 5,
	/** Privileged: destroy a domain (its connection, if any, is closed). */
	GNTDP_CTL_DOMAIN_DESTROY = 6,
	/** Domains, connections, rings and counters (gntdpctl). */
	GNTDP_CTL_DOMAIN_LIST = 7,
	/** A share segment of the bound domain for a grantee; reply carries its fd. */
	GNTDP_CTL_SHARE_ALLOC = 8,
	/** fds of the share segments behind host-mapped grants (cross-process host map). */
	GNTDP_CTL_MAP_FD = 9,
	/** Remove a share segment from the bound domain's physmap. */
	GNTDP_CTL_SHARE_FREE = 10,
	/** Event channels: the domain's port count and its read-only generation page. */
	GNTDP_CTL_EVTCHN_SETUP = 11,
	/** EVTCHNOP_alloc_unbound: a new port that @c remote_dom may bind. */
	GNTDP_CTL_EVTCHN_ALLOC_UNBOUND = 12,
	/** EVTCHNOP_bind_interdomain: a new port connected to (remote_dom, remote_port). */
	GNTDP_CTL_EVTCHN_BIND_INTERDOMAIN = 13,
	/** EVTCHNOP_close: free a port; its peer goes back to unbound. */
	GNTDP_CTL_EVTCHN_CLOSE = 14,
	/** EVTCHNOP_status of an own port, with the peer's eventfd when interdomain. */
	GNTDP_CTL_EVTCHN_PEER = 15,
	/** EVTCHNOP_send through the daemon (the slow path; clients write the eventfd). */
	GNTDP_CTL_EVTCHN_SEND = 16,
	/* 17..19: reserved for event channels */
	/**
	 * Register an unmap notification of the bound domain: a byte to clear
	 * and/or an event to send when the domain dies (Linux gntdev's and
	 * gntalloc's SET_UNMAP_NOTIFY). The reply names it by an id.
	 */
	GNTDP_CTL_NOTIFY_SET = 20,
	/** Do a registered notification now (on unmap or unshare), or only drop it. */
	GNTDP_CTL_NOTIFY_FIRE = 21,
	/** Unprivileged: does a domain exist, is it dying (xc_domain_getinfo). */
	GNTDP_CTL_DOMAIN_INFO = 22,
	GNTDP_CTL_NB_TYPES = 23
};

/** Every message starts with this (16 bytes). */
struct gntdp_ctl_hdr {
	uint32_t magic;   /**< GNTDP_CTL_MAGIC */
	uint16_t version; /**< GNTDP_CTL_VERSION */
	uint16_t type;    /**< enum gntdp_ctl_type, | GNTDP_CTL_REPLY in replies */
	uint32_t len;     /**< bytes of the whole message, this header included */
	uint32_t seq;     /**< chosen by the client, echoed in the reply */
};

/** Size of the human-readable reason in a reply, NUL included. */
#define GNTDP_CTL_WHY_SIZE 104u

/** Start of every reply (128 bytes); the type's reply body follows when err == 0. */
struct gntdp_ctl_reply {
	struct gntdp_ctl_hdr hdr;
	int32_t err;   /**< 0 or a negative errno */
	uint32_t nfds; /**< file descriptors attached (SCM_RIGHTS) */
	/** NUL-terminated; names the field or rule that failed ("" when err == 0). */
	char why[GNTDP_CTL_WHY_SIZE];
};

/* ---- HELLO ---------------------------------------------------------------- */

struct gntdp_ctl_hello {
	struct gntdp_ctl_hdr hdr;
	uint32_t min_version; /**< lowest protocol version the client speaks */
	uint32_t max_version; /**< highest */
};

struct gntdp_ctl_hello_reply {
	uint32_t version;      /**< protocol version the daemon chose */
	uint32_t page_size;    /**< 4096 */
	uint32_t nb_workers;   /**< the daemon's data-plane workers */
	uint32_t max_rings;    /**< rings one connection may create */
	uint32_t uid;          /**< the peer credentials the daemon saw */
	uint32_t gid;
	uint32_t pid;
	uint32_t privileged;   /**< 1 when this uid/gid may act as dom0 */
};

/* ---- DOMAIN_BIND / DOMAIN_CREATE ------------------------------------------- */

/** DOMAIN_BIND flag: create the domain when it does not exist. */
#define GNTDP_CTL_BIND_CREATE 1u

/**
 * Body of DOMAIN_BIND and DOMAIN_CREATE. Limits of 0 take the daemon's
 * defaults; each is checked against the daemon's config (max_domain_frames
 * and the core's limits). For DOMAIN_BIND of an existing (unbound) domain
 * the limits must be 0 or equal to the domain's. -EDQUOT: the peer's uid
 * holds its [limits] domains or frames (docs/daemon.md "Limits").
 */
struct gntdp_ctl_domain {
	struct gntdp_ctl_hdr hdr;
	uint32_t domid;              /**< below DOMID_FIRST_RESERVED */
	uint32_t flags;              /**< GNTDP_CTL_BIND_* (DOMAIN_CREATE: 0) */
	uint32_t nr_frames;          /**< RAM frames (gfn 0 .. nr_frames-1) */
	uint32_t max_grant_frames;   /**< grant-table frame limit */
	uint32_t max_maptrack_frames;
	uint32_t max_grant_version;  /**< 1 or 2 */
	uint32_t rsvd[2];
};

/**
 * Reply body of DOMAIN_BIND; DOMAIN_CREATE replies with it too, without fds.
 * fds, in this order: RAM (read-write, nr_frames pages), the grant table
 * (read-write, max_grant_frames pages, the v1 or v2 entries as the guest
 * writes them), the status frames (read-only, nr_status_frames pages;
 * absent when nr_status_frames is 0). Each fd maps from offset 0.
 */
struct gntdp_ctl_domain_reply {
	uint32_t domid;
	uint32_t nr_frames;
	uint32_t max_grant_frames;
	uint32_t nr_status_frames;
	uint32_t max_maptrack_frames;
	uint32_t max_grant_version;
	uint32_t worker;   /**< the worker that serves the domain's rings by default */
	uint32_t numa_node; /**< where its memory was placed, UINT32_MAX = no policy */
};

/* ---- RING_CREATE / RING_DESTROY ------------------------------------------- */

/** RING_CREATE flag: attach an eventfd the worker signals on request. */
#define GNTDP_CTL_RING_EVENTFD 1u
/** RING_CREATE worker value: the daemon chooses (the domain's worker). */
#define GNTDP_CTL_ANY_WORKER UINT32_MAX

struct gntdp_ctl_ring {
	struct gntdp_ctl_hdr hdr;
	uint32_t sq_entries; /**< power of two, 2..GNTDP_HCALL_RING_MAX_ENTRIES */
	uint32_t cq_entries; /**< power of two, 2..GNTDP_HCALL_RING_MAX_ENTRIES */
	uint32_t flags;      /**< GNTDP_CTL_RING_* */
	uint32_t worker;     /**< worker index or GNTDP_CTL_ANY_WORKER */
};

/**
 * Reply body of RING_CREATE. fds: the ring region (read-write, mem_size
 * bytes from offset 0, formatted as gntdp/hcall.h describes), then the
 * eventfd when asked for.
 */
struct gntdp_ctl_ring_reply {
	uint32_t ring_id; /**< names the ring in RING_DESTROY */
	uint32_t worker;
	uint64_t mem_size;
};

struct gntdp_ctl_ring_destroy {
	struct gntdp_ctl_hdr hdr;
	uint32_t ring_id;
	uint32_t rsvd;
};
/* Reply body of RING_DESTROY: none. */

/* ---- DOMAIN_DESTROY / DOMAIN_LIST ------------------------------------------- */

struct gntdp_ctl_domain_destroy {
	struct gntdp_ctl_hdr hdr;
	uint32_t domid;
	uint32_t rsvd;
};
/* Reply body of DOMAIN_DESTROY: none. */

struct gntdp_ctl_domain_list {
	struct gntdp_ctl_hdr hdr;
	uint32_t first_domid; /**< list domains with domid >= this (paging) */
	uint32_t rsvd;
};

/** One domain in a DOMAIN_LIST reply (64 bytes). */
struct gntdp_ctl_domain_entry {
	uint32_t domid;
	uint32_t bound;     /**< 1 when a connection holds it */
	uint32_t pid;       /**< the bound connection's peer (0 when unbound) */
	uint32_t uid;
	uint32_t nr_rings;
	uint32_t nr_frames;
	uint32_t nr_grant_frames;
	uint32_t worker;
	uint64_t calls;     /**< hypercalls completed on its rings */
	uint64_t ops;
	uint64_t faults;    /**< completions with -EFAULT */
	uint64_t rsvd;
};

/** Reply body of DOMAIN_LIST: a count, then that many entries. */
struct gntdp_ctl_domain_list_reply {
	uint32_t count;
	uint32_t more; /**< 1 when domains after the last entry exist */
	/* struct gntdp_ctl_domain_entry entries[count]; */
};

/** Most entries one DOMAIN_LIST reply holds. */
#define GNTDP_CTL_LIST_MAX \
	((GNTDP_CTL_MAX_MSG - sizeof(struct gntdp_ctl_reply) - \
	  sizeof(struct gntdp_ctl_domain_list_reply)) / sizeof(struct gntdp_ctl_domain_entry))

/* ---- SHARE_ALLOC / SHARE_FREE / MAP_FD: cross-process host maps --------------- */

/*
 * Physmap layout of a client domain (docs/daemon.md "Share segments"):
 * RAM at gfns [0, nr_frames); share segments (SHARE_ALLOC) at
 * [nr_frames, nr_frames + GNTDP_CTL_SHARE_GFNS); the window for the
 * client's own GNTMAP_host_map (host_addr = gfn << 12) at
 * [nr_frames + GNTDP_CTL_SHARE_GFNS, + GNTDP_CTL_MAP_GFNS), which is
 * where MAP_FD looks. The core's default p2m_size, nr_frames + 65536,
 * holds both windows.
 */
/** gfns of the share window, starting at nr_frames. */
#define GNTDP_CTL_SHARE_GFNS 32768u
/** gfns of the host-map window, starting at nr_frames + GNTDP_CTL_SHARE_GFNS. */
#define GNTDP_CTL_MAP_GFNS 32768u
/** First gfn of the share window of a domain of @p nr_frames RAM frames. */
#define GNTDP_CTL_SHARE_BASE(nr_frames) ((uint64_t)(nr_frames))
/** First gfn of the host-map window. */
#define GNTDP_CTL_MAP_BASE(nr_frames) ((uint64_t)(nr_frames) + GNTDP_CTL_SHARE_GFNS)

/** SHARE_ALLOC flag: the grantee may get a writable cross-process map. */
#define GNTDP_CTL_SHARE_WRITABLE 1u

/**
 * Body of SHARE_ALLOC: a new segment of nb_frames zeroed frames (one memfd
 * of its own, as the domain's other segments) placed at free gfns of the
 * caller's share window, recorded with (the caller, grantee, writable).
 * The caller then grants its frames (frame = gfn + i) to grantee in its
 * own grant table. Counted against the daemon's [domains]
 * max_share_frames of the caller (-ENOSPC past it, or when no run of
 * nb_frames free gfns is left in the window) and against the caller's
 * uid's [limits] frames (-EDQUOT). Needs a bound domain (-ENOTCONN).
 */
struct gntdp_ctl_share_alloc {
	struct gntdp_ctl_hdr hdr;
	uint32_t grantee;   /**< domid, below DOMID_FIRST_RESERVED */
	uint32_t nb_frames; /**< 1..max_share_frames */
	uint32_t flags;     /**< GNTDP_CTL_SHARE_* */
	uint32_t rsvd;
};

/**
 * Reply body of SHARE_ALLOC. fd: the segment's memfd, read-write,
 * nb_frames pages from offset 0 (frame i at offset i * 4096 is gfn + i).
 */
struct gntdp_ctl_share_alloc_reply {
	uint64_t gfn;       /**< first gfn of the segment in the caller's physmap */
	uint32_t nb_frames;
	uint32_t rsvd;
};

/**
 * Body of SHARE_FREE: the segment that SHARE_ALLOC placed at gfn (its first
 * gfn) leaves the caller's physmap (as decrease_reservation). Frames the
 * grantee still maps stay alive until it unmaps them; its existing
 * mappings keep working, new MAP_FDs of them are refused (-EACCES), and a
 * new map of a grant naming those gfns is bad_page. -ENOENT: no segment of
 * the caller starts at gfn.
 */
struct gntdp_ctl_share_free {
	struct gntdp_ctl_hdr hdr;
	uint64_t gfn;
};
/* Reply body of SHARE_FREE: none. */

/** MAP_FD flag: the fds must be read-write (a writable cross-process map). */
#define GNTDP_CTL_MAP_FD_WRITE 1u
/** Most gfns one MAP_FD request names. */
#define GNTDP_CTL_MAP_FD_MAX 128u

/**
 * Body of MAP_FD: count gfns of the caller's host-map window, each holding
 * a grant the caller host-mapped (its own GNTTABOP_map_grant_ref with
 * GNTMAP_host_map at host_addr = gfn << 12). hdr.len is exactly
 * sizeof(struct gntdp_ctl_map_fd) + count * 8. Every gfn is checked before
 * anything is answered; the first that fails is the reply's err, and its
 * why names its index:
 *  - -EINVAL: count 0 or above GNTDP_CTL_MAP_FD_MAX, unknown flags, a gfn
 *    outside the host-map window, a gfn that holds no host-mapped grant
 *    (empty, RAM, a share segment of the caller's own);
 *  - -EACCES: the frame is not in a live share segment (SHARE_ALLOC) whose
 *    grantee is the caller (a RAM frame of the granter, a segment shared
 *    with another domain, a segment already freed or whose granter died);
 *    GNTTABOP_copy of the same grant still works (of a live one). With GNTDP_CTL_MAP_FD_WRITE also a read-only
 *    host map or a segment allocated without GNTDP_CTL_SHARE_WRITABLE.
 * The fds reach exactly those share segments: read-only (O_RDONLY, so no
 * mapping of them can be made writable) unless GNTDP_CTL_MAP_FD_WRITE.
 */
struct gntdp_ctl_map_fd {
	struct gntdp_ctl_hdr hdr;
	uint32_t count; /**< gfns that follow, 1..GNTDP_CTL_MAP_FD_MAX */
	uint32_t flags; /**< GNTDP_CTL_MAP_FD_* */
	/* uint64_t gfns[count]; */
};

/** Where one gfn's frame lies: which of the reply's fds, at which byte offset. */
struct gntdp_ctl_map_fd_entry {
	uint32_t fd_index; /**< index into the reply's fds, < nb_fds */
	uint32_t rsvd;
	uint64_t offset;   /**< byte offset of the frame in that fd (a multiple of 4096) */
};

/**
 * Reply body of MAP_FD: count entries for gfns[0 .. count-1], one fd per
 * distinct segment (at most GNTDP_CTL_MAX_FDS). When the gfns span more
 * segments than that, count is less than the request's: the reply covers
 * the first count gfns, and the client sends the rest in another MAP_FD.
 * count is at least 1.
 */
struct gntdp_ctl_map_fd_reply {
	uint32_t count;
	uint32_t nb_fds;
	/* struct gntdp_ctl_map_fd_entry entries[count]; */
};
/* ---- NOTIFY_SET / NOTIFY_FIRE ---------------------------------------------- */

/** NOTIFY_SET kind: gfn is a host map (the host-map window) of grant (granter, ref). */
#define GNTDP_CTL_NOTIFY_MAP 1u
/** NOTIFY_SET kind: gfn is the domain's own memory (its RAM or a share segment). */
#define GNTDP_CTL_NOTIFY_SHARE 2u
/** NOTIFY_SET flag: clear the byte at gfn, offset. */
#define GNTDP_CTL_NOTIFY_CLEAR_BYTE 1u
/** NOTIFY_SET flag: send an event on the domain's own port (as EVTCHNOP_send from it). */
#define GNTDP_CTL_NOTIFY_SEND_EVENT 2u
/** Most notifications one domain holds (-ENOSPC beyond). */
#define GNTDP_CTL_MAX_NOTIFY 1024u

/**
 * Body of NOTIFY_SET. flags: one or both of CLEAR_BYTE and SEND_EVENT.
 * Fields a flag or kind does not use must be 0 (-EINVAL). Checks: the
 * domain bound (-ENOTCONN); kind, flags, offset < 4096, port != 0
 * (-EINVAL); gfn in the kind's part of the physmap and populated there
 * (-ENOENT, gntdev's answer for an index outside any map); for CLEAR_BYTE
 * of a MAP: (granter, ref) is a v1 grant to the caller, writable, of the
 * very frame mapped at gfn (-EINVAL: gntdev refuses CLEAR_BYTE on a
 * read-only map; -EOPNOTSUPP for a v2 granter), checked again when the
 * byte is cleared; GNTDP_CTL_MAX_NOTIFY (-ENOSPC).
 */
struct gntdp_ctl_notify_set {
	struct gntdp_ctl_hdr hdr;
	uint32_t kind;    /**< GNTDP_CTL_NOTIFY_MAP or _SHARE */
	uint32_t flags;   /**< GNTDP_CTL_NOTIFY_CLEAR_BYTE | _SEND_EVENT */
	uint64_t gfn;     /**< the frame in the caller's physmap */
	uint32_t offset;  /**< CLEAR_BYTE: the byte in the frame, 0..4095 */
	uint32_t port;    /**< SEND_EVENT: the caller's own event port */
	uint32_t granter; /**< MAP: the granting domid */
	uint32_t ref;     /**< MAP: the grant ref */
};

/** Reply body of NOTIFY_SET. */
struct gntdp_ctl_notify_set_reply {
	uint32_t id; /**< names it in NOTIFY_FIRE (never 0) */
	uint32_t rsvd;
};

/** NOTIFY_FIRE flag: drop the notification without doing it. */
#define GNTDP_CTL_NOTIFY_DROP 1u

/** Body of NOTIFY_FIRE: -ENOENT for an id the domain does not hold, -EINVAL for other flags. */
struct gntdp_ctl_notify_fire {
	struct gntdp_ctl_hdr hdr;
	uint32_t id;
	uint32_t flags; /**< 0 or GNTDP_CTL_NOTIFY_DROP */
};
/* Reply body of NOTIFY_FIRE: none. */

/* ---- EVTCHN_* (docs/daemon.md "Event channels") ------------------------------ */

/*
 * Event channels of the bound domain. Ports are per domain, 1 ..
 * nr_ports - 1 (port 0 is never handed out, as in Xen). Each allocated port
 * has an eventfd, made by the daemon when the port is allocated and closed
 * when it is freed: its owner waits on it; the owner of the peer port of
 * an interdomain channel raises the port by writing 1 to it (EVTCHNOP_send
 * without the daemon). The generation page (EVTCHN_SETUP) holds one
 * uint32_t per port, bumped by the daemon (release store) each time the
 * port's state or peer changes: a sender compares it with the generation
 * its cached peer eventfd came with and asks EVTCHN_PEER again when it
 * moved.
 *
 * Each interdomain channel also has a channel page (a memfd of
 * GNTDP_EVTCHN_CHAN_SIZE bytes made at the bind, mapped by both ends and
 * the daemon, nothing else in it): one struct gntdp_evtchn_line per end.
 * A sender adds 1 to the receiving end's pend, then writes the eventfd
 * unless that end's flags say GNTDP_EVTCHN_LINE_SPIN (its handle is
 * polling pend right now) or GNTDP_EVTCHN_LINE_MASK (its port is masked;
 * unmask writes the eventfd itself when pend is not 0), having set kick
 * first. So a receiver that
 * spins sees a notify with no system call on either side
 * (docs/daemon.md "Event channels"). A peer can only disturb this one
 * channel through it, as it could with notifies.
 */

/** One end of a channel page: written by its peer (pend, kick) and by its own handle (flags). */
struct gntdp_evtchn_line {
	uint32_t pend;  /**< notifies to this end since its handle last took one (atomic add) */
	uint32_t flags; /**< GNTDP_EVTCHN_LINE_*, set by this end */
	uint32_t kick;  /**< 1: a sender wrote this end's eventfd since the handle last looked */
	uint32_t rsvd[13];
};
/** The handle of this end polls pend: a sender need not write the eventfd. */
#define GNTDP_EVTCHN_LINE_SPIN 1u
/** This end's port is masked: a sender need not write the eventfd (its unmask does). */
#define GNTDP_EVTCHN_LINE_MASK 2u
/** Either: pend alone carries the notify. */
#define GNTDP_EVTCHN_LINE_QUIET (GNTDP_EVTCHN_LINE_SPIN | GNTDP_EVTCHN_LINE_MASK)
/** Bytes of a channel page's memfd: line 0 (the port that was unbound), line 1 (the binder's). */
#define GNTDP_EVTCHN_CHAN_SIZE 4096u

/** Port states (the values of Xen's EVTCHNSTAT_closed, _unbound, _interdomain). */
#define GNTDP_EVTCHN_STATE_FREE 0u
#define GNTDP_EVTCHN_STATE_UNBOUND 1u
#define GNTDP_EVTCHN_STATE_INTERDOMAIN 2u

/** Most ports a domain may have ([domains] max_evtchns): one generation page of them. */
#define GNTDP_EVTCHN_MAX_PORTS 1024u

/** Body of EVTCHN_SETUP. */
struct gntdp_ctl_evtchn_setup {
	struct gntdp_ctl_hdr hdr;
	uint32_t rsvd[2];
};

/**
 * Reply body of EVTCHN_SETUP. fds: the generation page (read-only memfd,
 * gen_size bytes from offset 0: uint32_t gen[nr_ports]).
 */
struct gntdp_ctl_evtchn_setup_reply {
	uint32_t nr_ports; /**< ports 1 .. nr_ports - 1 may exist ([domains] max_evtchns + 1) */
	uint32_t gen_size; /**< bytes of the generation page (4096) */
};

/** Body of EVTCHN_ALLOC_UNBOUND (struct evtchn_alloc_unbound's inputs). */
struct gntdp_ctl_evtchn_alloc {
	struct gntdp_ctl_hdr hdr;
	uint32_t dom;        /**< DOMID_SELF or the own domid */
	uint32_t remote_dom; /**< who may bind it; DOMID_SELF = the own domid */
};

/** Body of EVTCHN_BIND_INTERDOMAIN (struct evtchn_bind_interdomain's inputs). */
struct gntdp_ctl_evtchn_bind {
	struct gntdp_ctl_hdr hdr;
	uint32_t remote_dom;  /**< DOMID_SELF = the own domid */
	uint32_t remote_port; /**< unbound, and bindable by the own domid */
};

/** Body of EVTCHN_CLOSE, EVTCHN_PEER and EVTCHN_SEND: one own port. */
struct gntdp_ctl_evtchn_port {
	struct gntdp_ctl_hdr hdr;
	uint32_t port;
	uint32_t rsvd;
};

/**
 * Reply body of ALLOC_UNBOUND, BIND_INTERDOMAIN and PEER: the port's state
 * after the request. fds: ALLOC_UNBOUND: the port's eventfd;
 * BIND_INTERDOMAIN: the port's eventfd, the peer port's, the channel page;
 * PEER: the peer port's eventfd and the channel page when state is
 * INTERDOMAIN, else none.
 * CLOSE and SEND have no reply body.
 */
struct gntdp_ctl_evtchn_status {
	uint32_t port;
	uint32_t state;       /**< GNTDP_EVTCHN_STATE_* */
	uint32_t remote_dom;  /**< UNBOUND: who may bind; INTERDOMAIN: the peer's domain */
	uint32_t remote_port; /**< INTERDOMAIN: the peer port; else 0 */
	uint32_t gen;         /**< the port's generation this state goes with */
	uint32_t line;        /**< INTERDOMAIN: this port's line of the channel page (0, 1); else 0 */
};

GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_evtchn_setup) == 24, "gntdp_ctl_evtchn_setup");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_evtchn_setup_reply) == 8, "gntdp_ctl_evtchn_setup_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_evtchn_alloc) == 24, "gntdp_ctl_evtchn_alloc");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_evtchn_bind) == 24, "gntdp_ctl_evtchn_bind");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_evtchn_port) == 24, "gntdp_ctl_evtchn_port");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_evtchn_status) == 24, "gntdp_ctl_evtchn_status");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_evtchn_line) == 64, "gntdp_evtchn_line");
/* ---- DOMAIN_INFO ---------------------------------------------------------------- */

/**
 * DOMAIN_INFO: the first domain whose domid is @c domid or above, as Xen's
 * XEN_DOMCTL_getdomaininfo answers (what libxenctrl's xc_domain_getinfo
 * asks). Any connection may ask after HELLO, bound or not, privileged or
 * not: it names domids, their sizes and states, nothing of their memory.
 * Errors: -EINVAL (domid not below DOMID_FIRST_RESERVED, rsvd not zero),
 * -ESRCH (no domain at or above domid).
 */
struct gntdp_ctl_domain_info {
	struct gntdp_ctl_hdr hdr;
	uint32_t domid; /**< the lowest domid to report */
	uint32_t rsvd;
};

/** DOMAIN_INFO flag: a connection holds the domain (its process runs). */
#define GNTDP_CTL_DOMINFO_BOUND 1u
/** DOMAIN_INFO flag: the domain is being destroyed (Xen's "dying"). */
#define GNTDP_CTL_DOMINFO_DYING 2u
/** DOMAIN_INFO flag: the privileged domain (dom0). */
#define GNTDP_CTL_DOMINFO_PRIVILEGED 4u

/** Reply body of DOMAIN_INFO (32 bytes). */
struct gntdp_ctl_domain_info_reply {
	uint32_t domid;            /**< the domain found (>= the request's domid) */
	uint32_t flags;            /**< GNTDP_CTL_DOMINFO_* */
	uint32_t nr_frames;        /**< RAM frames */
	uint32_t max_grant_frames; /**< grant-table frame limit */
	uint32_t nr_rings;         /**< hypercall rings of its connection */
	uint32_t rsvd[3];          /**< zero */
};

GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_hdr) == 16, "gntdp_ctl_hdr");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_reply) == 128, "gntdp_ctl_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_hello) == 24, "gntdp_ctl_hello");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_hello_reply) == 32, "gntdp_ctl_hello_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_domain) == 48, "gntdp_ctl_domain");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_domain_reply) == 32, "gntdp_ctl_domain_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_ring) == 32, "gntdp_ctl_ring");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_ring_reply) == 16, "gntdp_ctl_ring_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_ring_destroy) == 24, "gntdp_ctl_ring_destroy");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_domain_destroy) == 24, "gntdp_ctl_domain_destroy");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_domain_list) == 24, "gntdp_ctl_domain_list");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_domain_entry) == 64, "gntdp_ctl_domain_entry");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_domain_list_reply) == 8, "gntdp_ctl_domain_list_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_domain_info) == 24, "gntdp_ctl_domain_info");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_domain_info_reply) == 32,
		 "gntdp_ctl_domain_info_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_share_alloc) == 32, "gntdp_ctl_share_alloc");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_share_alloc_reply) == 16, "gntdp_ctl_share_alloc_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_share_free) == 24, "gntdp_ctl_share_free");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_map_fd) == 24, "gntdp_ctl_map_fd");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_map_fd_entry) == 16, "gntdp_ctl_map_fd_entry");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_map_fd_reply) == 8, "gntdp_ctl_map_fd_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_map_fd_reply) +
			 GNTDP_CTL_MAP_FD_MAX * sizeof(struct gntdp_ctl_map_fd_entry) <=
		 GNTDP_CTL_MAX_MSG - sizeof(struct gntdp_ctl_reply),
		 "a MAP_FD reply for GNTDP_CTL_MAP_FD_MAX gfns fits a datagram");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_notify_set) == 48, "gntdp_ctl_notify_set");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_notify_set_reply) == 8, "gntdp_ctl_notify_set_reply");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_ctl_notify_fire) == 24, "gntdp_ctl_notify_fire");

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_CTL_H */
