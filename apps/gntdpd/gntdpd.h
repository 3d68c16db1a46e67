/* SPDX-License-Identifier: MIT */
/*
 * gntdpd's internals (apps/gntdpd, docs/daemon.md): the configuration
 * (config.c), the control socket and the protocol checks (ctl.c), domains
 * and rings (dom.c), share segments and cross-process maps (share.c) and
 * the telemetry command (telemetry.c).
 *
 * Threading: everything here runs on the control thread (the EAL main
 * lcore) except the telemetry callback, which runs on DPDK's telemetry
 * thread and reads the domain table under d_lock.
 */
#ifndef GNTDPD_H
#define GNTDPD_H

#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gntdp/ctl.h>
#include <gntdp/dataplane.h>
#include <gntdp/gnttab.h>
#include <gntdp/hcall.h>

#include "app.h"

#define D_MAX_ACL 32        /* [acl0] .. [acl31] */
#define D_MAX_RANGES 16     /* domid ranges per ACL rule */
#define D_NAME_MAX 32       /* user or group name (or number) */
#define D_MAX_RINGS 64      /* [domains] max_rings upper bound */
#define D_MAX_GROUPS 64     /* supplementary groups read with SO_PEERGROUPS */
#define D_MAX_DOMAINS 1024  /* [domains] max_domains upper bound */
#define D_MAX_CONNS 1024    /* [socket] max_connections upper bound */

/* One [aclN] section: who (a uid or a gid) may act as which domids, and as dom0. */
struct acl_rule {
	bool used;
	char user[D_NAME_MAX + 1];  /* name or number, "" = none */
	char group[D_NAME_MAX + 1]; /* name or number, "" = none */
	struct {
		uint16_t lo, hi;
	} ranges[D_MAX_RANGES];
	unsigned int nb_ranges;
	bool privileged;
	/* Per-uid limits of the rule's peers (0: [limits]'s); limits.c. */
	unsigned int max_connections, max_domains, max_frames;
	/* Resolved by the config check. */
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

struct d_conf {
	/* [socket] */
	char socket_path[108];
	unsigned int socket_mode;
	char socket_group[D_NAME_MAX + 1];
	unsigned int max_connections;
	/* [workers] */
	unsigned int workers;
	bool cache;
	unsigned int cache_entries;
	unsigned int hold_us;
	unsigned int idle_sleep_us, idle_after_us;
	unsigned int burst;
	char copy[16];
	/* [domains] */
	unsigned int frames, max_frames;
	unsigned int grant_frames, max_grant_frames;
	unsigned int maptrack_frames, max_maptrack_frames;
	unsigned int grant_version;
	unsigned int max_domains;
	unsigned int max_rings;
	unsigned int max_ring_entries;
	unsigned int max_evtchns;
	unsigned int max_share_frames;
	/* [memory] */
	bool hugetlb;
	/* [limits]: what one uid may hold at once (0: no limit); limits.c */
	unsigned int lim_connections, lim_domains, lim_frames;
	/* [acl] and [aclN] */
	bool root_privileged;
	struct acl_rule acl[D_MAX_ACL];
	/* Resolved by the check: the socket's group (-1: leave the daemon's). */
	gid_t group_gid;
	bool has_group;
};

extern const struct app_desc d_app;

/* A peer's identity, read at accept. */
struct d_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[D_MAX_GROUPS];
	unsigned int nb_groups;
};

/* Whether @p cr may act as @p domid; *privileged receives whether it may act as dom0. */
bool acl_may_act(const struct d_conf *c, const struct d_cred *cr, uint32_t domid);
bool acl_privileged(const struct d_conf *c, const struct d_cred *cr);
/* Whether rule @p r (a used one) matches the peer: its uid, or its gid or a supplementary group. */
bool acl_rule_matches(const struct acl_rule *r, const struct d_cred *cr);

/* ---- domains and rings (dom.c) ------------------------------------------- */

struct d_conn;
struct d_evtchn_dom;

struct d_ring {
	uint32_t id;
	unsigned int worker;
	struct gntdp_dp_hcall *hc;
	void *mem;
	size_t size;
	int memfd;
	int efd;
};

struct d_domain {
	gntdp_domid_t domid;
	struct d_conn *conn; /* NULL: unbound (DOMAIN_CREATE) */
	uint32_t nr_frames, max_grant_frames, max_maptrack_frames, max_grant_version;
	uint32_t nr_status_frames;
	unsigned int worker;
	int socket;
	uid_t owner;   /* whose [limits] it counts against: its creator, then its binder */
	void *ram, *table, *status; /* the segments in this process */
	uint64_t calls, ops, faults; /* of its destroyed rings */
	struct d_evtchn_dom *ev;     /* its event channels (evtchn.c), NULL until used */
};

struct d_conn {
	int fd;
	bool hello;
	bool closing;
	unsigned int bad;
	bool privileged;
	bool over_quota; /* beyond its uid's connections: its first request gets -EDQUOT */
	struct d_cred cr;
	struct d_domain *dom;
	struct d_ring *rings[D_MAX_RINGS];
	unsigned int nb_rings;
};

/* The daemon: one per process. */
struct gntdpd {
	struct d_conf *conf;
	struct gntdp_gnttab *gt;
	struct gntdp_dp *dp;
	struct gntdp_mem_ops mem;
	unsigned int nb_workers;
	int lfd, epfd;
	bool made_dir; /* the socket's directory was created by us */
	bool bound;    /* the socket's path is ours to unlink */
	char dir[108];
	struct d_conn *conns[D_MAX_CONNS];
	unsigned int nb_conns;
	struct d_domain *doms[D_MAX_DOMAINS];
	unsigned int next_worker;
	uint32_t next_ring_id;
	pthread_mutex_t lock; /* the domain table and counters, against telemetry */
};

/* A request's reply being built: err, why, body and fds. */
struct d_reply {
	int32_t err;
	char why[GNTDP_CTL_WHY_SIZE];
	/* Entries are built in place: 8-byte aligned as they are on the wire. */
	alignas(8) uint8_t body[GNTDP_CTL_MAX_MSG - sizeof(struct gntdp_ctl_reply)];
	size_t body_len;
	int fds[GNTDP_CTL_MAX_FDS];
	unsigned int nfds;
	bool close_after; /* close the connection once the reply is sent */
};

/* Set the reply's error and reason; returns @p err. */
int d_fail(struct d_reply *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int dom_bind(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_domain *m,
	     struct d_reply *r);
int dom_create(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_domain *m,
	       struct d_reply *r);
int dom_destroy_req(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_domain_destroy *m,
		    struct d_reply *r);
int dom_list(struct gntdpd *d, const struct gntdp_ctl_domain_list *m, struct d_reply *r);
int ring_create(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_ring *m,
		struct d_reply *r);
int ring_destroy_req(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_ring_destroy *m,
		     struct d_reply *r);
/* Client death: the connection's rings, then its domain. */
void dom_conn_gone(struct gntdpd *d, struct d_conn *c);
/* Destroy an unbound domain or one whose connection is already gone. */
void dom_destroy(struct gntdpd *d, struct d_domain *dom);
/*
 * A connection one of whose rings a worker disabled, or whose hugetlb RAM or
 * table lost a page to a hole punch (why: which and the reason), or NULL.
 */
struct d_conn *dom_disabled_ring(struct gntdpd *d, char *why, size_t len);
/* Fill an entry of DOMAIN_LIST / telemetry. Under d->lock. */
void dom_entry(const struct gntdpd *d, const struct d_domain *dom,
	       struct gntdp_ctl_domain_entry *e);
struct d_domain *dom_find(const struct gntdpd *d, uint32_t domid);
/* The world's memory provider and the data plane's. */
int dom_world_create(struct gntdpd *d);
void dom_world_destroy(struct gntdpd *d);

/* ---- DOMAIN_INFO (info.c) ------------------------------------------------ */

/* The first domain at or above m->domid and its state; unprivileged. */
int info_domain(struct gntdpd *d, const struct gntdp_ctl_domain_info *m, struct d_reply *r);

/* ---- unmap notifications (notify.c) --------------------------------------- */

int notify_set(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_notify_set *m,
	       struct d_reply *r);
int notify_fire(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_notify_fire *m,
		struct d_reply *r);
/* A domain dies: do its notifications (bytes cleared, events sent) and drop them. */
void d_notify_domain_dying(struct gntdpd *d, struct d_domain *dom);

/* ---- event channels (evtchn.c) -------------------------------------------- */

/* Raise the open-files limit to its hard maximum (one eventfd per port). */
void d_evtchn_init(void);
int d_evtchn_setup(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_setup *m,
		   struct d_reply *r);
int d_evtchn_alloc_unbound(struct gntdpd *g, struct d_conn *c,
			   const struct gntdp_ctl_evtchn_alloc *m, struct d_reply *r);
int d_evtchn_bind_interdomain(struct gntdpd *g, struct d_conn *c,
			      const struct gntdp_ctl_evtchn_bind *m, struct d_reply *r);
int d_evtchn_close(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_port *m,
		   struct d_reply *r);
int d_evtchn_peer(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_port *m,
		  struct d_reply *r);
int d_evtchn_send_req(struct gntdpd *g, struct d_conn *c, const struct gntdp_ctl_evtchn_port *m,
		      struct d_reply *r);
/*
 * Raise @p port of @p domid towards its peer, as EVTCHNOP_send from that
 * domain: 0 (sent, or dropped on an unbound port, as Xen does), -EINVAL
 * (no such allocated port).
 */
int d_evtchn_send(struct gntdpd *g, gntdp_domid_t domid, uint32_t port);
/*
 * Domain death, called by dom_destroy() after d_notify_domain_dying(): every
 * port of @p dom is closed as EVTCHNOP_close does (each peer back to unbound
 * for dom's domid).
 */
void d_evtchn_domain_dying(struct gntdpd *g, struct d_domain *dom);
/* Allocations made while on come from a 4 KiB memfd provider even with [memory] hugetlb. */
void dom_mem_share(bool on);

/* ---- share segments and cross-process host maps (share.c) ------------------ */

int share_alloc(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_share_alloc *m,
		struct d_reply *r);
int share_free_req(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_share_free *m,
		   struct d_reply *r);
int share_map_fd(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_map_fd *m,
		 struct d_reply *r);
/* MAP_FD's framing (its length depends on count): 0, or the error in @p r. */
int share_check_map_fd_len(const void *buf, uint32_t len, struct d_reply *r);
/* Drop the records of a domain being destroyed (the core frees the frames). */
void share_domain_dying(struct gntdpd *d, struct d_domain *dom);
/* Frames of the share segments @p dom holds (counted in its owner's [limits] frames). */
uint64_t share_frames(const struct d_domain *dom);

/* ---- control socket (ctl.c) ---------------------------------------------- */

int ctl_open(struct gntdpd *d);
/* One round of the control loop: wait up to @p timeout_ms, serve what came. */
int ctl_poll(struct gntdpd *d, int timeout_ms);
/* Close a connection: client death. */
void ctl_close_conn(struct gntdpd *d, struct d_conn *c, const char *why);
void ctl_close(struct gntdpd *d);
/*
 * Check one request's framing: magic, version, type, length, reserved
 * fields. 0 when the handler may look at it, else the error in @p r.
 * Pure: no state, no I/O.
 */
int ctl_check_frame(const void *buf, size_t n, struct d_reply *r);
/* Name of a request type ("HELLO"), "?" when unknown. */
const char *ctl_type_name(uint32_t type);

/* ---- per-uid limits (limits.c) ------------------------------------------ */

/* A peer's limits: the first matching [aclN] that sets one, else [limits]. 0: none. */
struct d_limits {
	unsigned int connections, domains, frames;
};

void lim_of(const struct d_conf *c, const struct d_cred *cr, struct d_limits *out);
/*
 * At accept, before @p c joins d->conns: 0 (serve it), 1 (over its uid's
 * connections: keep it to answer -EDQUOT, c->over_quota set), -1 (close it
 * unanswered: its uid already holds a refused connection too).
 */
int lim_accept(const struct gntdpd *d, struct d_conn *c);
/* A refused connection's answer (-EDQUOT, and it closes after the reply). */
int lim_refuse_conn(const struct gntdpd *d, struct d_conn *c, struct d_reply *r);
/*
 * Whether uid @p uid (with credentials @p cr) may hold one more domain of
 * @p frames frames (RAM, grant table and status). 0, or -EDQUOT with the why in @p r.
 */
int lim_domain(const struct gntdpd *d, const struct d_cred *cr, uint32_t frames,
	       struct d_reply *r);
/*
 * The frame check of lim_domain(), for @p frames more frames; @p share: share
 * frames of a bound domain (SHARE_ALLOC: no domain count, the why names nb_frames).
 */
int lim_frames_check(const struct gntdpd *d, const struct d_cred *cr, uint32_t frames,
		     bool share, struct d_reply *r);
/* The frames a domain counts against its owner's [limits] frames. */
uint32_t lim_dom_frames(uint32_t nr_frames, uint32_t max_grant_frames, uint32_t nr_status);
/* The config checks of [limits] and the rules' limits; -EINVAL (reported). */
int lim_check_conf(struct app_cfg *cfg, struct d_conf *c);

/* ---- telemetry (telemetry.c) --------------------------------------------- */

void tel_register(struct gntdpd *d);

#endif /* GNTDPD_H */
