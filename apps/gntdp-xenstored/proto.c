/* SPDX-License-Identifier: MIT */
/*
 * The message handlers of gntdp-xenstored: one table row per type with the
 * checks Xen's xenstored makes first (privileged types, transaction id),
 * then the handler. A handler sends its reply itself and returns 0, or
 * returns a negative errno, answered as XS_ERROR with the errno's name.
 * Watches live here too: registration, the initial event, and matching.
 *
 * The payload is hostile: xsd_handle NUL-terminates it one byte past its
 * length, and every handler counts its strings before using them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsd.h"

/* The errno names of Xen's xsd_errors, in its order; index 0 (EINVAL) is the fallback. */
static const struct {
	int err;
	const char *name;
} err_names[] = {
	{EINVAL, "EINVAL"},       {EACCES, "EACCES"},   {EEXIST, "EEXIST"}, {EISDIR, "EISDIR"},
	{ENOENT, "ENOENT"},       {ENOMEM, "ENOMEM"},   {ENOSPC, "ENOSPC"}, {EIO, "EIO"},
	{ENOTEMPTY, "ENOTEMPTY"}, {ENOSYS, "ENOSYS"},   {EROFS, "EROFS"},   {EBUSY, "EBUSY"},
	{EAGAIN, "EAGAIN"},       {EISCONN, "EISCONN"}, {E2BIG, "E2BIG"},   {EPERM, "EPERM"},
};

struct msg {
	struct gntdp_xs_sockmsg h;
	char *pl; /* payload, NUL-terminated at pl[len] */
	uint32_t len;
	unsigned int nstr; /* NUL bytes in the payload */
	struct xsd_tx *tx;
};

static void
reply(struct xsd_server *srv, struct xsd_conn *c, const struct msg *m, const void *d, size_t len)
{
	if (len > GNTDP_XS_PAYLOAD_MAX) {
		static const char e2big[] = "E2BIG";

		srv->stats.errors++;
		xsd_send(srv, c, GNTDP_XS_ERROR, m->h.req_id, m->h.tx_id, e2big, sizeof(e2big),
			 false);
		return;
	}
	xsd_send(srv, c, m->h.type, m->h.req_id, m->h.tx_id, d, len, false);
}

static void
reply_ok(struct xsd_server *srv, struct xsd_conn *c, const struct msg *m)
{
	reply(srv, c, m, "OK", 3);
}

/* The single string argument: the payload holds exactly one NUL, at its end. */
static const char *
onearg(const struct msg *m)
{
	return m->len > 0 && m->nstr == 1 && m->pl[m->len - 1] == '\0' ? m->pl : NULL;
}

/* ---- watches ------------------------------------------------------------- */

/* Whether child is parent or below it. */
static bool
is_child(const char *child, const char *parent)
{
	size_t n = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return child[0] == '/';
	return strncmp(child, parent, n) == 0 && (child[n] == '\0' || child[n] == '/');
}

static void
send_event(struct xsd_server *srv, struct xsd_conn *c, const struct xsd_watch *w, const char *path)
{
	size_t plen, tlen = strlen(w->token) + 1;
	char buf[GNTDP_XS_PAYLOAD_MAX];

	path += strlen(path) >= w->prefix ? w->prefix : 0;
	plen = strlen(path) + 1;
	if (plen + tlen > sizeof(buf)) {
		srv->stats.events_dropped++; /* as Xen: an over-long event is not sent */
		return;
	}
	memcpy(buf, path, plen);
	memcpy(buf + plen, w->token, tlen);
	srv->stats.events++;
	xsd_send(srv, c, GNTDP_XS_WATCH_EVENT, 0, 0, buf, plen + tlen, true);
}

/* Whether who may read a node with these permissions (none: no). */
static bool
readable(const struct xsd_who *who, const struct xsd_perm *p, uint32_t n)
{
	return p && (xsd_perm_for(who, p, n) & XSD_PERM_R);
}

/*
 * Whether a watcher may see an event, as Xen's watch_permitted: dom0
 * always; a domain that may read the node with the permissions it had at
 * the change, had before it (SET_PERMS) or has now (a transaction's events
 * fire at its commit), or that may read the node's parent.
 */
static bool
may_see(const struct xsd_who *who, const struct xsd_event *ev, const struct xsd_node *now,
	const struct xsd_node *parent)
{
	return who->priv || readable(who, ev->perms, ev->nperms) ||
	       readable(who, ev->perms2, ev->nperms2) ||
	       (now && readable(who, now->perms, now->nperms)) ||
	       (parent && readable(who, parent->perms, parent->nperms));
}

/* The parent node of an event's path, or NULL (/, @ paths). */
static const struct xsd_node *
parent_node(struct xsd_server *srv, const char *path)
{
	char buf[GNTDP_XS_ABS_PATH_MAX + 1];
	const char *slash = strrchr(path, '/');
	size_t len;

	if (path[0] != '/' || strcmp(path, "/") == 0 || slash == NULL)
		return NULL;
	len = slash == path ? 1 : (size_t)(slash - path);
	memcpy(buf, path, len);
	buf[len] = '\0';
	return xsd_store_find(&srv->st, buf);
}

void
xsd_fire(struct xsd_server *srv, struct xsd_evq *q)
{
	for (struct xsd_event *ev = q->head; ev; ev = ev->next) {
		const struct xsd_node *now = xsd_store_find(&srv->st, ev->path);
		const struct xsd_node *parent = parent_node(srv, ev->path);

		for (struct xsd_dom *d = srv->doms; d; d = d->next) {
			if (!may_see(&d->who, ev, now, parent))
				continue;
			for (struct xsd_conn *c = d->conns; c; c = c->next) {
				for (struct xsd_watch *w = c->watches; w && !c->ep.dead;
				     w = w->next) {
					if (is_child(ev->path, w->path))
						send_event(srv, c, w, ev->path);
					/* Removing a parent of a watch fires it with its own path.
					 */
					else if (ev->kind == XSD_EV_RM &&
						 is_child(w->path, ev->path))
						send_event(srv, c, w, w->path);
				}
			}
		}
	}
	xsd_evq_free(q);
}

static int
do_watch(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	char name[GNTDP_XS_ABS_PATH_MAX + 1];
	const struct xsd_who *who = &c->dom->who;
	const char *path = m->pl, *token;
	struct xsd_watch *w;
	int rc;

	/* path|token| (a third, depth, argument needs a feature we do not offer). */
	if (m->nstr != 2 || m->pl[m->len - 1] != '\0')
		return -EINVAL;
	token = path + strlen(path) + 1;
	rc = xsd_canon(who, path, true, name);
	if (rc != 0)
		return rc;
	for (w = c->watches; w; w = w->next)
		if (strcmp(w->path, name) == 0 && strcmp(w->token, token) == 0)
			return -EEXIST;
	if (!who->priv && who->q->watches && c->dom->nb_watches >= who->q->watches)
		return -ENOSPC;
	w = xsd_alloc(sizeof(*w));
	w->path = xsd_strdup(name);
	w->token = xsd_strdup(token);
	w->prefix = path[0] != '/' && path[0] != '@' ? strlen(name) - strlen(path) : 0;
	w->next = c->watches;
	c->watches = w;
	c->dom->nb_watches++;
	reply_ok(srv, c, m);
	/* Every watch fires once at registration, with its own path. */
	send_event(srv, c, w, w->path);
	return 0;
}

static void
watch_free(struct xsd_watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

static int
do_unwatch(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	char name[GNTDP_XS_ABS_PATH_MAX + 1];
	const char *token;
	int rc;

	if (m->nstr != 2 || m->pl[m->len - 1] != '\0')
		return -EINVAL;
	token = m->pl + strlen(m->pl) + 1;
	rc = xsd_canon(&c->dom->who, m->pl, true, name);
	if (rc != 0)
		return rc;
	for (struct xsd_watch **pp = &c->watches; *pp; pp = &(*pp)->next) {
		struct xsd_watch *w = *pp;

		if (strcmp(w->path, name) == 0 && strcmp(w->token, token) == 0) {
			*pp = w->next;
			watch_free(w);
			c->dom->nb_watches--;
			reply_ok(srv, c, m);
			return 0;
		}
	}
	return -ENOENT;
}

void
xsd_conn_reset(struct xsd_conn *c)
{
	while (c->watches) {
		struct xsd_watch *w = c->watches;

		c->watches = w->next;
		watch_free(w);
		c->dom->nb_watches--;
	}
	while (c->txs) {
		struct xsd_tx *tx = c->txs;

		c->txs = tx->next;
		xsd_tx_free(tx);
		c->dom->nb_tx--;
	}
}

static int
do_reset_watches(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	xsd_conn_reset(c);
	reply_ok(srv, c, m);
	return 0;
}

/* ---- tree operations ----------------------------------------------------- */

/* Run after a successful change: events now, or at the transaction's commit. */
static void
changed(struct xsd_server *srv, struct msg *m, struct xsd_evq *q)
{
	if (m->tx)
		xsd_evq_splice(&m->tx->evq, q);
	else
		xsd_fire(srv, q);
}

/* The end of a change: on success its events and the OK reply; q freed. Returns rc. */
static int
finish(struct xsd_server *srv, struct xsd_conn *c, struct msg *m, struct xsd_evq *q, int rc)
{
	if (rc == 0) {
		changed(srv, m, q);
		reply_ok(srv, c, m);
	}
	xsd_evq_free(q);
	return rc;
}

#define VIEW(srv, c, m)                                                                            \
	{                                                                                          \
		&(srv)->st, (m)->tx, &(c)->dom->who                                                \
	}

static int
do_read(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	struct xsd_view v = VIEW(srv, c, m);
	const struct xsd_node *n;
	const char *path = onearg(m);
	int rc = path ? xsd_op_read(&v, path, &n) : -EINVAL;

	if (rc == 0)
		reply(srv, c, m, n->val, n->vlen);
	return rc;
}

static int
do_directory(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	struct xsd_view v = VIEW(srv, c, m);
	const struct xsd_node *n;
	const char *path = onearg(m);
	int rc = path ? xsd_op_read(&v, path, &n) : -EINVAL;

	if (rc == 0)
		reply(srv, c, m, n->kids, n->klen); /* E2BIG past 4096: DIRECTORY_PART then */
	return rc;
}

/* path|offset| -> generation|names from offset that fit|, and an empty name at the end. */
static int
do_directory_part(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	struct xsd_view v = VIEW(srv, c, m);
	char buf[GNTDP_XS_PAYLOAD_MAX];
	const struct xsd_node *n;
	uint32_t off, len = 0;
	int glen, rc;

	if (m->nstr != 2 || m->pl[m->len - 1] != '\0')
		return -EINVAL;
	rc = xsd_parse_uint(m->pl + strlen(m->pl) + 1, UINT32_MAX / 2, &off);
	if (rc == 0)
		rc = xsd_op_read(&v, m->pl, &n);
	if (rc != 0)
		return rc;
	glen = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n->gen) + 1;
	while (off < n->klen) {
		uint32_t l = (uint32_t)strlen(n->kids + off) + 1;

		if (glen + len + l + 1 > sizeof(buf))
			break;
		memcpy(buf + glen + len, n->kids + off, l);
		len += l;
		off += l;
	}
	if (off >= n->klen)
		buf[glen + len++] = '\0';
	reply(srv, c, m, buf, glen + len);
	return 0;
}

static int
do_write(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	struct xsd_view v = VIEW(srv, c, m);
	struct xsd_evq q;
	size_t plen;
	int rc;

	/* path|value: the value is binary and may hold NULs. */
	if (m->nstr == 0)
		return -EINVAL;
	plen = strlen(m->pl) + 1;
	xsd_evq_init(&q);
	rc = xsd_op_write(&v, &q, m->pl, m->pl + plen, m->len - (uint32_t)plen, false);
	return finish(srv, c, m, &q, rc);
}

static int
do_mkdir(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	struct xsd_view v = VIEW(srv, c, m);
	const char *path = onearg(m);
	struct xsd_evq q;
	int rc;

	xsd_evq_init(&q);
	rc = path ? xsd_op_write(&v, &q, path, NULL, 0, true) : -EINVAL;
	return finish(srv, c, m, &q, rc);
}

static int
do_rm(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	struct xsd_view v = VIEW(srv, c, m);
	const char *path = onearg(m);
	struct xsd_evq q;
	int rc;

	xsd_evq_init(&q);
	rc = path ? xsd_op_rm(&v, &q, path) : -EINVAL;
	return finish(srv, c, m, &q, rc);
}

static int
do_get_perms(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	struct xsd_view v = VIEW(srv, c, m);
	char buf[GNTDP_XS_PAYLOAD_MAX + 16];
	const struct xsd_node *n;
	const char *path = onearg(m);
	size_t len = 0;
	int rc = path ? xsd_op_get_perms(&v, path, &n) : -EINVAL;

	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < n->nperms && len + 12 < sizeof(buf); i++) {
		xsd_perm_str(&n->perms[i], buf + len, 12);
		len += strlen(buf + len) + 1;
	}
	reply(srv, c, m, buf, len);
	return 0;
}

static int
do_set_perms(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	struct xsd_view v = VIEW(srv, c, m);
	struct xsd_evq q;
	size_t plen;
	int rc;

	/* path|perm|+ */
	if (m->nstr < 2 || m->pl[m->len - 1] != '\0')
		return -EINVAL;
	plen = strlen(m->pl) + 1;
	xsd_evq_init(&q);
	rc = xsd_op_set_perms(&v, &q, m->pl, m->pl + plen, m->len - plen, m->nstr - 1);
	return finish(srv, c, m, &q, rc);
}

/* ---- transactions -------------------------------------------------------- */

static int
do_tx_start(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	const struct xsd_who *who = &c->dom->who;
	struct xsd_tx *tx;
	char buf[16];

	if (m->tx)
		return -EBUSY; /* no nesting */
	if (!who->priv && who->q->transactions && c->dom->nb_tx >= who->q->transactions)
		return -ENOSPC;
	/* An id unused on this connection, never 0. */
	for (;;) {
		uint32_t id = ++c->next_txid;

		if (id == 0)
			continue;
		for (tx = c->txs; tx && tx->id != id; tx = tx->next)
			;
		if (tx == NULL) {
			tx = xsd_tx_new(id);
			break;
		}
	}
	tx->next = c->txs;
	c->txs = tx;
	c->dom->nb_tx++;
	reply(srv, c, m, buf, (size_t)snprintf(buf, sizeof(buf), "%u", (unsigned int)tx->id) + 1);
	return 0;
}

static int
do_tx_end(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	const char *arg = onearg(m);
	struct xsd_tx *tx = m->tx, **pp;
	int rc = 0;

	if (arg == NULL || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return -EINVAL;
	if (tx == NULL)
		return -ENOENT;
	for (pp = &c->txs; *pp != tx; pp = &(*pp)->next)
		;
	*pp = tx->next;
	c->dom->nb_tx--;
	/* The transaction ends whatever the outcome: EAGAIN means start again. */
	if (arg[0] == 'T')
		rc = xsd_tx_commit(&srv->st, tx, &c->dom->who);
	if (rc == 0 && arg[0] == 'T')
		xsd_fire(srv, &tx->evq);
	xsd_tx_free(tx);
	m->tx = NULL;
	if (rc == 0)
		reply_ok(srv, c, m);
	return rc;
}

/* ---- domains ------------------------------------------------------------- */

static int
domid_arg(const struct msg *m, uint32_t max, uint32_t *id)
{
	const char *arg = onearg(m);

	return arg ? xsd_parse_uint(arg, max, id) : -EINVAL;
}

static int
do_introduce(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	uint32_t id;
	int rc;

	/* domid|gfn|evtchn|: the page and the port mean nothing without a hypervisor. */
	if (m->nstr < 3 || xsd_parse_uint(m->pl, XSD_DOMID_MAX, &id) != 0 || id == 0)
		return -EINVAL;
	rc = xsd_dom_introduce(srv, id);
	if (rc == 0 && !c->ep.dead)
		reply_ok(srv, c, m);
	return rc;
}

static int
do_release(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	uint32_t id;
	int rc = domid_arg(m, XSD_DOMID_MAX, &id);

	if (rc == 0)
		rc = id == 0 ? -EINVAL : xsd_dom_release(srv, id);
	if (rc == 0)
		reply_ok(srv, c, m);
	return rc;
}

static int
do_resume(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	uint32_t id;
	struct xsd_dom *d;
	int rc = domid_arg(m, XSD_DOMID_MAX, &id);

	if (rc != 0)
		return rc;
	d = xsd_dom_find(srv, id);
	if (d == NULL || !d->introduced)
		return -ENOENT;
	reply_ok(srv, c, m);
	return 0;
}

static int
do_is_introduced(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	uint32_t id;
	struct xsd_dom *d;
	int rc = domid_arg(m, XSD_PERM_ID_MAX, &id);

	if (rc != 0)
		return rc;
	d = xsd_dom_find(srv, id);
	reply(srv, c, m, d && d->introduced ? "T" : "F", 2);
	return 0;
}

static int
do_get_domain_path(struct xsd_server *srv, struct xsd_conn *c, struct msg *m)
{
	char buf[32];
	uint32_t id;
	int rc = domid_arg(m, XSD_PERM_ID_MAX, &id);

	if (rc == 0)
		reply(srv, c, m, buf,
		      (size_t)snprintf(buf, sizeof(buf), "/local/domain/%u", (unsigned int)id) + 1);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

#define F_PRIV 1u  /* dom0 only: EACCES for the others */
#define F_NOTID 2u /* tx_id ignored */

typedef int (*handler_fn)(struct xsd_server *srv, struct xsd_conn *c, struct msg *m);

/* Types without a handler (CONTROL, SET_TARGET, the feature and quota
 * types, WATCH_EVENT and ERROR from a client, 20) answer ENOSYS, as Xen
 * answers a type it does not support. */
static const struct {
	handler_fn fn;
	unsigned int flags;
} handlers[GNTDP_XS_TYPE_COUNT] = {
	[GNTDP_XS_DIRECTORY] = {do_directory, 0},
	[GNTDP_XS_READ] = {do_read, 0},
	[GNTDP_XS_GET_PERMS] = {do_get_perms, 0},
	[GNTDP_XS_WATCH] = {do_watch, F_NOTID},
	[GNTDP_XS_UNWATCH] = {do_unwatch, F_NOTID},
	[GNTDP_XS_TRANSACTION_START] = {do_tx_start, 0},
	[GNTDP_XS_TRANSACTION_END] = {do_tx_end, 0},
	[GNTDP_XS_INTRODUCE] = {do_introduce, F_PRIV},
	[GNTDP_XS_RELEASE] = {do_release, F_PRIV},
	[GNTDP_XS_GET_DOMAIN_PATH] = {do_get_domain_path, 0},
	[GNTDP_XS_WRITE] = {do_write, 0},
	[GNTDP_XS_MKDIR] = {do_mkdir, 0},
	[GNTDP_XS_RM] = {do_rm, 0},
	[GNTDP_XS_SET_PERMS] = {do_set_perms, 0},
	[GNTDP_XS_IS_DOMAIN_INTRODUCED] = {do_is_introduced, F_PRIV},
	[GNTDP_XS_RESUME] = {do_resume, F_PRIV},
	[GNTDP_XS_RESET_WATCHES] = {do_reset_watches, 0},
	[GNTDP_XS_DIRECTORY_PART] = {do_directory_part, 0},
};

static void
send_error(struct xsd_server *srv, struct xsd_conn *c, const struct msg *m, int err)
{
	size_t i;

	for (i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
		if (err_names[i].err == err)
			break;
	if (i == sizeof(err_names) / sizeof(err_names[0]))
		i = 0;
	srv->stats.errors++;
	xsd_send(srv, c, GNTDP_XS_ERROR, m->h.req_id, m->h.tx_id, err_names[i].name,
		 strlen(err_names[i].name) + 1, false);
}

void
xsd_handle(struct xsd_server *srv, struct xsd_conn *c)
{
	struct msg m;
	int rc;

	memcpy(&m.h, c->in, sizeof(m.h));
	m.pl = (char *)c->in + sizeof(m.h);
	m.len = m.h.len; /* checked against PAYLOAD_MAX when the header came in */
	m.pl[m.len] = '\0';
	m.nstr = 0;
	for (uint32_t i = 0; i < m.len; i++)
		m.nstr += m.pl[i] == '\0';
	m.tx = NULL;
	srv->stats.msgs++;

	if (m.h.type >= GNTDP_XS_TYPE_COUNT || handlers[m.h.type].fn == NULL) {
		rc = -ENOSYS;
	} else if ((handlers[m.h.type].flags & F_PRIV) && !c->dom->who.priv) {
		rc = -EACCES;
	} else {
		rc = 0;
		if (!(handlers[m.h.type].flags & F_NOTID) && m.h.tx_id != 0) {
			for (m.tx = c->txs; m.tx && m.tx->id != m.h.tx_id; m.tx = m.tx->next)
				;
			if (m.tx == NULL)
				rc = -ENOENT;
		}
		if (rc == 0)
			rc = handlers[m.h.type].fn(srv, c, &m);
	}
	if (rc != 0 && !c->ep.dead)
		send_error(srv, c, &m, -rc);
}
