/* SPDX-License-Identifier: MIT */
/*
 * gntdp-xenstored internals: the node store and its transactions (store.c),
 * the tree operations with their permission and quota checks (ops.c), the
 * message handlers and watches (proto.c) and the sockets, domains and epoll
 * loop (server.c). No DPDK, no threads: one thread runs everything, so no
 * structure here has a lock. docs/xenstore.md describes the behaviour.
 *
 * Out of memory is fatal (xsd_alloc exits with a message): the quotas bound
 * what every unprivileged domain can make the server hold, so running out
 * means the machine is out, not that a client found a hole.
 */
#ifndef GNTDP_XSD_H
#define GNTDP_XSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gntdp/xenstore.h>

/* Highest real domid (DOMID_FIRST_RESERVED - 1). */
#define XSD_DOMID_MAX 0x7FEFu
/* Domids in permission entries: anything that fits in Xen's domid_t. */
#define XSD_PERM_ID_MAX 0xFFFFu

/* Access bits of a permission entry; OWNER only in what xsd_perm_for() returns. */
#define XSD_PERM_R 1u
#define XSD_PERM_W 2u
#define XSD_PERM_OWNER 4u

struct xsd_perm {
	uint32_t id;  /* domid */
	uint32_t acc; /* XSD_PERM_R | XSD_PERM_W */
};

/* Transaction entry flags (xsd_node.txf). */
#define XSD_TXF_READ 1u   /* only read: the data lives in the store, not here */
#define XSD_TXF_MOD 2u    /* changed by the transaction: the data here wins */
#define XSD_TXF_ABSENT 4u /* absent in the transaction's view */

struct xsd_node {
	struct xsd_node *hnext; /* hash chain */
	struct xsd_node *lnext; /* transaction entries: first-access order */
	char *path;
	char *val;
	uint32_t vlen;
	char *kids; /* child names, each with its NUL, in creation order */
	uint32_t klen;
	struct xsd_perm *perms; /* [0]: the owner, and the access of unlisted domains */
	uint32_t nperms;        /* at least 1 */
	/* Store: changed at generation gen. Transaction entry: the store's
	 * generation of the node at the transaction's first access, 0 when it
	 * was absent; the commit compares it (transaction conflict check). */
	uint64_t gen;
	uint32_t txf;
};

struct xsd_map {
	struct xsd_node **tab;
	size_t cap; /* power of two */
	size_t n;
};

/* Per-domain limits, Xen's defaults (tools/xenstored/domain.c); 0: unlimited. */
struct xsd_quota {
	unsigned int nodes;        /* nodes a domain owns (1000) */
	unsigned int watches;      /* watches of a domain (128) */
	unsigned int transactions; /* open transactions of a domain (10) */
	unsigned int tx_nodes;     /* nodes one transaction touches (1024) */
	unsigned int perms;        /* permission entries per node (5) */
	unsigned int node_size;    /* value + child names + 8 per permission (2048) */
};

struct xsd_store {
	struct xsd_map map;
	uint64_t gen;    /* last generation handed out */
	uint32_t *owned; /* [XSD_PERM_ID_MAX + 1]: nodes owned per domid */
};

/* A change to report to watchers. */
enum xsd_ev_kind {
	XSD_EV_CHANGE, /* path written, created or its permissions changed */
	XSD_EV_RM,     /* path and everything below it removed */
};

struct xsd_event {
	struct xsd_event *next;
	enum xsd_ev_kind kind;
	char *path;
	/* A watcher that may read the node under either set gets the event. */
	struct xsd_perm *perms, *perms2;
	uint32_t nperms, nperms2;
};

struct xsd_evq {
	struct xsd_event *head, **tail;
};

struct xsd_tx {
	struct xsd_tx *next; /* the connection's transactions */
	uint32_t id;
	struct xsd_map ov; /* entries, by path */
	struct xsd_node *first, **lastp;
	unsigned int nb_entries;
	long node_delta;    /* nodes the transaction adds to its domain's count */
	struct xsd_evq evq; /* events fired at commit */
};

/* The requester. */
struct xsd_who {
	uint32_t domid;
	bool priv; /* dom0: every node allowed, no quota */
	const struct xsd_quota *q;
};

/* What an operation works on: the store, or a transaction over it. */
struct xsd_view {
	struct xsd_store *st;
	struct xsd_tx *tx; /* NULL: the store itself */
	const struct xsd_who *who;
};

/* ---- store.c ------------------------------------------------------------- */
void *xsd_alloc(size_t n);
char *xsd_strdup(const char *s);
void *xsd_memdup(const void *p, size_t n);
/* A growable array of owned strings. */
struct xsd_strvec {
	char **v;
	size_t n, cap;
};
void xsd_strvec_push(struct xsd_strvec *sv, char *s);
void xsd_strvec_free(struct xsd_strvec *sv);
/* "parent/name" (parent "/" gives "/name"), allocated. */
char *xsd_path_join(const char *parent, const char *name);
void xsd_store_init(struct xsd_store *st);
void xsd_store_fini(struct xsd_store *st);
struct xsd_node *xsd_node_new(const char *path, const struct xsd_perm *p, uint32_t n);
void xsd_node_free(struct xsd_node *n);
uint32_t xsd_node_owner(const struct xsd_node *n);
/* The node's size as the node-size quota counts it. */
size_t xsd_node_size(const struct xsd_node *n);
void xsd_kid_add(struct xsd_node *n, const char *name);
void xsd_kid_del(struct xsd_node *n, const char *name);
/* The store's own node (no transaction), or NULL. */
struct xsd_node *xsd_store_find(struct xsd_store *st, const char *path);

/* The node at path in v, NULL when absent. 0, or -ENOSPC (transaction node quota). */
int xsd_get(struct xsd_view *v, const char *path, const struct xsd_node **out);
/* The existing node at path, to change; then xsd_changed(). 0, -ENOENT or -ENOSPC. */
int xsd_mut(struct xsd_view *v, const char *path, struct xsd_node **out);
/* After changing a node got from xsd_mut (its owner was @p old_owner). */
void xsd_changed(struct xsd_view *v, struct xsd_node *n, uint32_t old_owner);
/* Add a node (v takes it) whose path is absent in v. 0 or -ENOSPC. */
int xsd_insert(struct xsd_view *v, struct xsd_node *n);
/* Remove the node at path, which exists in v (its children are not touched). */
void xsd_delete(struct xsd_view *v, const char *path);
/* Nodes v counts for @p domid (the store's count plus the transaction's). */
long xsd_owned(const struct xsd_view *v, uint32_t domid);
/* Whether a transaction may touch n more nodes it has not touched yet. 0 or -ENOSPC. */
int xsd_tx_room(const struct xsd_view *v, unsigned int n);

struct xsd_tx *xsd_tx_new(uint32_t id);
/* Apply tx to the store. 0, -EAGAIN (a node it used changed since) or -ENOSPC (quota). */
int xsd_tx_commit(struct xsd_store *st, struct xsd_tx *tx, const struct xsd_who *who);
void xsd_tx_free(struct xsd_tx *tx);

/* Access bits (XSD_PERM_*) the requester has on a node with these permissions. */
unsigned int xsd_perm_for(const struct xsd_who *who, const struct xsd_perm *p, uint32_t n);
/*
 * Canonical absolute path of @p in for the requester into out (room for
 * GNTDP_XS_ABS_PATH_MAX + 1): relative paths are taken below
 * /local/domain/<domid>/; @p special allows the @name watch paths. 0 or -EINVAL.
 */
int xsd_canon(const struct xsd_who *who, const char *in, bool special, char *out);
/* Parse a decimal in [0, max] (digits only: no sign, no space, no junk). 0 or -EINVAL. */
int xsd_parse_uint(const char *s, uint32_t max, uint32_t *out);

void xsd_evq_init(struct xsd_evq *q);
void xsd_evq_push(struct xsd_evq *q, enum xsd_ev_kind kind, const char *path,
		  const struct xsd_node *n, const struct xsd_perm *perms2, uint32_t nperms2);
/* Move every event of src to the end of dst. */
void xsd_evq_splice(struct xsd_evq *dst, struct xsd_evq *src);
void xsd_evq_free(struct xsd_evq *q);

/* ---- ops.c: each returns 0 or a negative errno; events go to q ---------- */
int xsd_op_read(struct xsd_view *v, const char *path, const struct xsd_node **out);
int xsd_op_write(struct xsd_view *v, struct xsd_evq *q, const char *path, const char *val,
		 uint32_t vlen, bool mkdir);
int xsd_op_rm(struct xsd_view *v, struct xsd_evq *q, const char *path);
int xsd_op_get_perms(struct xsd_view *v, const char *path, const struct xsd_node **out);
/* strs: nb NUL-terminated permission strings ("r3", "b0", ...). */
int xsd_op_set_perms(struct xsd_view *v, struct xsd_evq *q, const char *path, const char *strs,
		     size_t len, unsigned int nb);
/* The permission string of p into buf (room for 12). */
void xsd_perm_str(const struct xsd_perm *p, char *buf, size_t len);

/* ---- server.c, proto.c ---------------------------------------------------- */

struct xsd_watch {
	struct xsd_watch *next;
	char *path; /* canonical */
	char *token;
	size_t prefix; /* bytes of path not sent back: the domain's home for a relative watch */
};

enum xsd_ep_kind { XSD_EP_LISTEN, XSD_EP_CONN, XSD_EP_SIGNAL };

/* What an epoll event points at: the first member of a listener or connection. */
struct xsd_ep {
	enum xsd_ep_kind kind;
	int fd;
	bool dead; /* closed; freed after the current batch of events */
};

struct xsd_dom;

struct xsd_conn {
	struct xsd_ep ep;
	struct xsd_conn *next;  /* the domain's connections */
	struct xsd_conn *gnext; /* closed, to free */
	struct xsd_dom *dom;
	uint32_t in_have;
	/* One message: header, payload, and a NUL so no string runs past it. */
	unsigned char in[sizeof(struct gntdp_xs_sockmsg) + GNTDP_XS_PAYLOAD_MAX + 1];
	char *out;
	size_t out_off, out_len, out_cap;
	bool out_armed; /* EPOLLOUT requested */
	struct xsd_watch *watches;
	struct xsd_tx *txs;
	uint32_t next_txid;
};

struct xsd_listener {
	struct xsd_ep ep;
	struct xsd_listener *gnext;
	struct xsd_dom *dom;
	char path[108];
};

struct xsd_dom {
	struct xsd_dom *next;
	struct xsd_who who; /* domid, privileged, quotas */
	bool introduced;
	struct xsd_listener *ls[2]; /* dom<N>; dom0 also has "socket" */
	struct xsd_conn *conns;
	unsigned int nb_conns, nb_watches, nb_tx;
	size_t out_queued; /* bytes queued to all its connections */
};

#define XSD_MAX_DOMAINS_ARG 256 /* --domain entries */

struct xsd_conf {
	char dir[80];           /* socket directory */
	unsigned int max_conns; /* connections per domain */
	size_t out_max;         /* bytes queued to one client */
	struct xsd_quota q;
	uint32_t doms[XSD_MAX_DOMAINS_ARG]; /* served from the start, besides dom0 */
	unsigned int nb_doms;
	bool verbose;
};

struct xsd_stats {
	uint64_t msgs, errors, events, events_dropped, conns, conns_killed;
};

struct xsd_server {
	struct xsd_conf conf;
	struct xsd_store st;
	struct xsd_dom *doms;
	int epfd;
	int spare_fd; /* /dev/null, given up to refuse a client when out of descriptors */
	struct xsd_ep sig;
	struct xsd_conn *grave_conns;
	struct xsd_listener *grave_ls;
	bool stop;
	struct xsd_stats stats;
};

void xsd_conf_init(struct xsd_conf *c);
/* Sockets for dom0 and conf's domains. 0 or a negative errno (logged). */
int xsd_server_init(struct xsd_server *srv, const struct xsd_conf *conf);
/* The epoll loop, until SIGTERM, SIGINT or SIGHUP. 0 or a negative errno. */
int xsd_server_run(struct xsd_server *srv);
/* Close everything and remove the sockets. */
void xsd_server_fini(struct xsd_server *srv);
struct xsd_dom *xsd_dom_find(struct xsd_server *srv, uint32_t domid);
/* Serve a domain: its socket, /local/domain/<id>, @introduceDomain. 0 or -errno. */
int xsd_dom_introduce(struct xsd_server *srv, uint32_t domid);
/* Stop serving it: connections closed, its nodes removed, @releaseDomain. 0 or -errno. */
int xsd_dom_release(struct xsd_server *srv, uint32_t domid);
/* Queue a message to c; event: a watch event, dropped (not fatal) when c's queue is full. */
void xsd_send(struct xsd_server *srv, struct xsd_conn *c, uint32_t type, uint32_t req_id,
	      uint32_t tx_id, const void *data, size_t len, bool event);
void xsd_conn_kill(struct xsd_server *srv, struct xsd_conn *c, const char *why);
void xsd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* proto.c */
/* Answer the complete message in c->in. */
void xsd_handle(struct xsd_server *srv, struct xsd_conn *c);
/* Send every event of q to the watches that match it, then free q's events. */
void xsd_fire(struct xsd_server *srv, struct xsd_evq *q);
/* Drop c's watches and transactions (RESET_WATCHES, close). */
void xsd_conn_reset(struct xsd_conn *c);

#endif /* GNTDP_XSD_H */
