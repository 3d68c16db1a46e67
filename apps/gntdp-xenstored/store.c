/* SPDX-License-Identifier: MIT */
/*
 * The node store of gntdp-xenstored and its transactions.
 *
 * Nodes live in one hash map keyed by their absolute path; the tree is the
 * child-name list each node carries (xsd_node.kids), so DIRECTORY answers
 * from one node and a node's generation changes when a child comes or goes.
 *
 * A transaction is an overlay map of entries, one per node it touched,
 * made at first access and remembering the store's generation of the node
 * then (0: absent). Reads of untouched nodes record the generation and keep
 * reading the store; a change copies the node into the entry. The commit
 * checks that every touched node still has the remembered generation (else
 * EAGAIN: something changed what the transaction read or wrote, the
 * caller retries, as Xen's xenstored does) and then copies each changed
 * entry into the store. Since a created node's parent is itself touched
 * (its child list changes), a conflicting create is caught there too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsd.h"

#define MAP_MIN_CAP 64u

void *
xsd_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "gntdp-xenstored: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

void *
xsd_memdup(const void *p, size_t n)
{
	void *q = xsd_alloc(n);

	if (n)
		memcpy(q, p, n);
	return q;
}

char *
xsd_strdup(const char *s)
{
	return xsd_memdup(s, strlen(s) + 1);
}

void
xsd_strvec_push(struct xsd_strvec *sv, char *s)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? 2 * sv->cap : 16;
		char **v = xsd_alloc(cap * sizeof(*v));

		if (sv->n)
			memcpy(v, sv->v, sv->n * sizeof(*v));
		free(sv->v);
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
}

void
xsd_strvec_free(struct xsd_strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

char *
xsd_path_join(const char *parent, const char *name)
{
	size_t len = strlen(parent) + strlen(name) + 2;
	char *p = xsd_alloc(len);

	snprintf(p, len, "%s/%s", strcmp(parent, "/") != 0 ? parent : "", name);
	return p;
}

/* ---- map ----------------------------------------------------------------- */

static uint64_t
hash_path(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static void
map_init(struct xsd_map *m)
{
	m->cap = MAP_MIN_CAP;
	m->n = 0;
	m->tab = xsd_alloc(m->cap * sizeof(*m->tab));
}

static struct xsd_node **
map_slot(const struct xsd_map *m, const char *path)
{
	struct xsd_node **pp = &m->tab[hash_path(path) & (m->cap - 1)];

	while (*pp && strcmp((*pp)->path, path) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static struct xsd_node *
map_find(const struct xsd_map *m, const char *path)
{
	return *map_slot(m, path);
}

static void
map_grow(struct xsd_map *m)
{
	size_t cap = m->cap * 2;
	struct xsd_node **tab = xsd_alloc(cap * sizeof(*tab));

	for (size_t i = 0; i < m->cap; i++) {
		struct xsd_node *n = m->tab[i], *next;

		for (; n; n = next) {
			size_t b = hash_path(n->path) & (cap - 1);

			next = n->hnext;
			n->hnext = tab[b];
			tab[b] = n;
		}
	}
	free(m->tab);
	m->tab = tab;
	m->cap = cap;
}

/* n's path must not be in m. */
static void
map_add(struct xsd_map *m, struct xsd_node *n)
{
	struct xsd_node **pp;

	if (m->n + 1 > m->cap)
		map_grow(m);
	pp = &m->tab[hash_path(n->path) & (m->cap - 1)];
	n->hnext = *pp;
	*pp = n;
	m->n++;
}

static struct xsd_node *
map_take(struct xsd_map *m, const char *path)
{
	struct xsd_node **pp = map_slot(m, path), *n = *pp;

	if (n) {
		*pp = n->hnext;
		n->hnext = NULL;
		m->n--;
	}
	return n;
}

static void
map_free(struct xsd_map *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		struct xsd_node *n = m->tab[i], *next;

		for (; n; n = next) {
			next = n->hnext;
			xsd_node_free(n);
		}
	}
	free(m->tab);
	m->tab = NULL;
	m->n = m->cap = 0;
}

/* ---- nodes --------------------------------------------------------------- */

struct xsd_node *
xsd_node_new(const char *path, const struct xsd_perm *p, uint32_t n)
{
	struct xsd_node *node = xsd_alloc(sizeof(*node));

	node->path = xsd_strdup(path);
	node->perms = xsd_memdup(p, n * sizeof(*p));
	node->nperms = n;
	return node;
}

void
xsd_node_free(struct xsd_node *n)
{
	if (n == NULL)
		return;
	free(n->path);
	free(n->val);
	free(n->kids);
	free(n->perms);
	free(n);
}

uint32_t
xsd_node_owner(const struct xsd_node *n)
{
	return n->perms[0].id;
}

size_t
xsd_node_size(const struct xsd_node *n)
{
	return (size_t)n->vlen + n->klen + 8u * n->nperms;
}

/* Replace the contents (value, children, permissions) of dst by copies of src's. */
static void
node_copy_data(struct xsd_node *dst, const struct xsd_node *src)
{
	free(dst->val);
	free(dst->kids);
	free(dst->perms);
	dst->val = src->vlen ? xsd_memdup(src->val, src->vlen) : NULL;
	dst->vlen = src->vlen;
	dst->kids = src->klen ? xsd_memdup(src->kids, src->klen) : NULL;
	dst->klen = src->klen;
	dst->perms = xsd_memdup(src->perms, src->nperms * sizeof(*src->perms));
	dst->nperms = src->nperms;
}

/* Move the contents of src into dst (src keeps its path, loses its data). */
static void
node_move_data(struct xsd_node *dst, struct xsd_node *src)
{
	free(dst->val);
	free(dst->kids);
	free(dst->perms);
	dst->val = src->val;
	dst->vlen = src->vlen;
	dst->kids = src->kids;
	dst->klen = src->klen;
	dst->perms = src->perms;
	dst->nperms = src->nperms;
	src->val = src->kids = NULL;
	src->perms = NULL;
	src->vlen = src->klen = src->nperms = 0;
}

void
xsd_kid_add(struct xsd_node *n, const char *name)
{
	size_t len = strlen(name) + 1;
	char *k = xsd_alloc(n->klen + len);

	if (n->klen)
		memcpy(k, n->kids, n->klen);
	memcpy(k + n->klen, name, len);
	free(n->kids);
	n->kids = k;
	n->klen += (uint32_t)len;
}

void
xsd_kid_del(struct xsd_node *n, const char *name)
{
	size_t len = strlen(name) + 1;

	for (uint32_t off = 0; off < n->klen; off += (uint32_t)strlen(n->kids + off) + 1) {
		if (strcmp(n->kids + off, name) == 0) {
			memmove(n->kids + off, n->kids + off + len, n->klen - off - len);
			n->klen -= (uint32_t)len;
			return;
		}
	}
}

/* ---- store --------------------------------------------------------------- */

void
xsd_store_init(struct xsd_store *st)
{
	static const struct xsd_perm root_perm = {0, 0}; /* owner dom0, others none */
	struct xsd_node *root = xsd_node_new("/", &root_perm, 1);

	map_init(&st->map);
	st->owned = xsd_alloc((XSD_PERM_ID_MAX + 1) * sizeof(*st->owned));
	root->gen = st->gen = 1;
	map_add(&st->map, root);
	st->owned[0]++;
}

void
xsd_store_fini(struct xsd_store *st)
{
	map_free(&st->map);
	free(st->owned);
	st->owned = NULL;
}

struct xsd_node *
xsd_store_find(struct xsd_store *st, const char *path)
{
	return map_find(&st->map, path);
}

/* ---- views --------------------------------------------------------------- */

int
xsd_tx_room(const struct xsd_view *v, unsigned int n)
{
	unsigned int max = v->who->q->tx_nodes;

	if (v->tx == NULL || v->who->priv || max == 0)
		return 0;
	return v->tx->nb_entries + n > max ? -ENOSPC : 0;
}

/* The transaction's entry for path, made (as a read) at first access. */
static int
tx_entry(struct xsd_view *v, const char *path, struct xsd_node **out)
{
	struct xsd_tx *tx = v->tx;
	struct xsd_node *e = map_find(&tx->ov, path), *s;

	if (e == NULL) {
		if (xsd_tx_room(v, 1) != 0)
			return -ENOSPC;
		s = map_find(&v->st->map, path);
		e = xsd_alloc(sizeof(*e));
		e->path = xsd_strdup(path);
		e->gen = s ? s->gen : 0;
		e->txf = XSD_TXF_READ | (s ? 0 : XSD_TXF_ABSENT);
		map_add(&tx->ov, e);
		*tx->lastp = e;
		tx->lastp = &e->lnext;
		tx->nb_entries++;
	}
	*out = e;
	return 0;
}

int
xsd_get(struct xsd_view *v, const char *path, const struct xsd_node **out)
{
	struct xsd_node *e;
	int rc;

	if (v->tx == NULL) {
		*out = map_find(&v->st->map, path);
		return 0;
	}
	rc = tx_entry(v, path, &e);
	if (rc != 0)
		return rc;
	if (e->txf & XSD_TXF_ABSENT)
		*out = NULL;
	else if (e->txf & XSD_TXF_READ)
		*out = map_find(&v->st->map, path); /* may have changed: the commit sees it */
	else
		*out = e;
	return 0;
}

int
xsd_mut(struct xsd_view *v, const char *path, struct xsd_node **out)
{
	struct xsd_node *e, *s;
	int rc;

	if (v->tx == NULL) {
		*out = map_find(&v->st->map, path);
		return *out ? 0 : -ENOENT;
	}
	rc = tx_entry(v, path, &e);
	if (rc != 0)
		return rc;
	if (e->txf & XSD_TXF_ABSENT)
		return -ENOENT;
	if (e->txf & XSD_TXF_READ) {
		s = map_find(&v->st->map, path);
		if (s == NULL)
			return -ENOENT; /* removed since it was read: the commit fails anyway */
		node_copy_data(e, s);
		e->txf = XSD_TXF_MOD;
	}
	*out = e;
	return 0;
}

void
xsd_changed(struct xsd_view *v, struct xsd_node *n, uint32_t old_owner)
{
	uint32_t owner = xsd_node_owner(n);

	if (v->tx == NULL) {
		n->gen = ++v->st->gen;
		v->st->owned[old_owner]--;
		v->st->owned[owner]++;
		return;
	}
	v->tx->node_delta += (owner == v->who->domid) - (old_owner == v->who->domid);
}

int
xsd_insert(struct xsd_view *v, struct xsd_node *n)
{
	struct xsd_node *e;
	int rc;

	if (v->tx == NULL) {
		n->gen = ++v->st->gen;
		map_add(&v->st->map, n);
		v->st->owned[xsd_node_owner(n)]++;
		return 0;
	}
	rc = tx_entry(v, n->path, &e);
	if (rc != 0) {
		xsd_node_free(n);
		return rc;
	}
	node_move_data(e, n);
	e->txf = XSD_TXF_MOD;
	v->tx->node_delta += xsd_node_owner(e) == v->who->domid;
	xsd_node_free(n);
	return 0;
}

void
xsd_delete(struct xsd_view *v, const char *path)
{
	struct xsd_node *n, *e;

	if (v->tx == NULL) {
		n = map_take(&v->st->map, path);
		if (n) {
			v->st->owned[xsd_node_owner(n)]--;
			xsd_node_free(n);
		}
		return;
	}
	/* The caller read the node through v: the entry exists. */
	if (tx_entry(v, path, &e) != 0 || (e->txf & XSD_TXF_ABSENT))
		return;
	if (e->txf & XSD_TXF_READ) {
		n = map_find(&v->st->map, path);
		if (n && xsd_node_owner(n) == v->who->domid)
			v->tx->node_delta--;
	} else if (xsd_node_owner(e) == v->who->domid) {
		v->tx->node_delta--;
	}
	free(e->val);
	free(e->kids);
	free(e->perms);
	e->val = e->kids = NULL;
	e->perms = NULL;
	e->vlen = e->klen = e->nperms = 0;
	e->txf = XSD_TXF_MOD | XSD_TXF_ABSENT;
}

long
xsd_owned(const struct xsd_view *v, uint32_t domid)
{
	long n = v->st->owned[domid];

	if (v->tx && domid == v->who->domid)
		n += v->tx->node_delta;
	return n;
}

/* ---- transactions -------------------------------------------------------- */

struct xsd_tx *
xsd_tx_new(uint32_t id)
{
	struct xsd_tx *tx = xsd_alloc(sizeof(*tx));

	tx->id = id;
	map_init(&tx->ov);
	tx->lastp = &tx->first;
	xsd_evq_init(&tx->evq);
	return tx;
}

void
xsd_tx_free(struct xsd_tx *tx)
{
	if (tx == NULL)
		return;
	map_free(&tx->ov);
	xsd_evq_free(&tx->evq);
	free(tx);
}

int
xsd_tx_commit(struct xsd_store *st, struct xsd_tx *tx, const struct xsd_who *who)
{
	struct xsd_node *e, *s;
	unsigned int max = who->q->nodes;

	for (e = tx->first; e; e = e->lnext) {
		s = map_find(&st->map, e->path);
		if ((s ? s->gen : 0) != e->gen)
			return -EAGAIN;
	}
	if (!who->priv && max && (long)st->owned[who->domid] + tx->node_delta > (long)max)
		return -ENOSPC;
	for (e = tx->first; e; e = e->lnext) {
		if (!(e->txf & XSD_TXF_MOD))
			continue;
		s = map_find(&st->map, e->path);
		if (e->txf & XSD_TXF_ABSENT) {
			if (s) {
				s = map_take(&st->map, e->path);
				st->owned[xsd_node_owner(s)]--;
				xsd_node_free(s);
			}
			continue;
		}
		if (s) {
			st->owned[xsd_node_owner(s)]--;
		} else {
			s = xsd_alloc(sizeof(*s));
			s->path = xsd_strdup(e->path);
			map_add(&st->map, s);
		}
		node_move_data(s, e);
		s->gen = ++st->gen;
		st->owned[xsd_node_owner(s)]++;
	}
	return 0;
}

/* ---- permissions and paths ----------------------------------------------- */

unsigned int
xsd_perm_for(const struct xsd_who *who, const struct xsd_perm *p, uint32_t n)
{
	/* As Xen: the owner and the privileged domain have every right. */
	if (who->priv || p[0].id == who->domid)
		return XSD_PERM_R | XSD_PERM_W | XSD_PERM_OWNER;
	for (uint32_t i = 1; i < n; i++)
		if (p[i].id == who->domid)
			return p[i].acc;
	return p[0].acc;
}

void
xsd_perm_str(const struct xsd_perm *p, char *buf, size_t len)
{
	static const char c[4] = {'n', 'r', 'w', 'b'};

	snprintf(buf, len, "%c%u", c[p->acc & 3u], (unsigned int)p->id);
}

int
xsd_parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int
xsd_canon(const struct xsd_who *who, const char *in, bool special, char *out)
{
	static const char ok[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/_@";
	size_t blen = 0, len = strlen(in);
	unsigned int id;
	int off = 0;

	if (len == 0 || strspn(in, ok) != len || (in[0] == '@' && !special))
		return -EINVAL;
	if (in[0] != '/' && in[0] != '@')
		blen = (size_t)snprintf(out, 32, "/local/domain/%u/", (unsigned int)who->domid);
	if (blen + len > GNTDP_XS_ABS_PATH_MAX)
		return -EINVAL;
	memcpy(out + blen, in, len + 1);
	len += blen;
	if ((len > 1 && out[len - 1] == '/') || strstr(out, "//") != NULL)
		return -EINVAL;
	/*
	 * Xen's path-length quota: an unprivileged domain's path may have
	 * REL_PATH_MAX bytes after a /local/domain/<domid>/ prefix, or in all.
	 */
	if (!who->priv) {
		if (sscanf(out, "/local/domain/%5u/%n", &id, &off) != 1)
			off = 0;
		if (len - (size_t)off > GNTDP_XS_REL_PATH_MAX)
			return -EINVAL;
	}
	return 0;
}

/* ---- events -------------------------------------------------------------- */

void
xsd_evq_init(struct xsd_evq *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

void
xsd_evq_push(struct xsd_evq *q, enum xsd_ev_kind kind, const char *path, const struct xsd_node *n,
	     const struct xsd_perm *perms2, uint32_t nperms2)
{
	struct xsd_event *ev = xsd_alloc(sizeof(*ev));

	ev->kind = kind;
	ev->path = xsd_strdup(path);
	if (n) {
		ev->perms = xsd_memdup(n->perms, n->nperms * sizeof(*n->perms));
		ev->nperms = n->nperms;
	}
	if (perms2) {
		ev->perms2 = xsd_memdup(perms2, nperms2 * sizeof(*perms2));
		ev->nperms2 = nperms2;
	}
	*q->tail = ev;
	q->tail = &ev->next;
}

void
xsd_evq_splice(struct xsd_evq *dst, struct xsd_evq *src)
{
	if (src->head == NULL)
		return;
	*dst->tail = src->head;
	dst->tail = src->tail;
	xsd_evq_init(src);
}

void
xsd_evq_free(struct xsd_evq *q)
{
	struct xsd_event *ev, *next;

	for (ev = q->head; ev; ev = next) {
		next = ev->next;
		free(ev->path);
		free(ev->perms);
		free(ev->perms2);
		free(ev);
	}
	xsd_evq_init(q);
}
