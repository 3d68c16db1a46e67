/* SPDX-License-Identifier: MIT */
/*
 * The tree operations of gntdp-xenstored (READ, WRITE, MKDIR, RM,
 * GET_PERMS, SET_PERMS), on a view: the store, or a transaction over it.
 *
 * Every check (path, permission, quota) comes before the first change, so
 * a failed operation leaves the view as it was. Permissions follow Xen:
 * the owner and dom0 have every right, a domain listed in the node's
 * entries has that entry's access, every other domain the first entry's.
 * A new node takes its parent's permissions, with the creating domain as
 * owner when it is unprivileged. When a node is absent the answer is
 * ENOENT only if the nearest existing ancestor grants the access asked
 * for, else EACCES, so that a domain learns nothing of nodes it may not see.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xsd.h"

/* The parent of an absolute path (not "/") into buf. */
static void
parent_of(const char *path, char *buf)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == path ? 1 : (size_t)(slash - path);

	memcpy(buf, path, n);
	buf[n] = '\0';
}

/*
 * The error for an absent node: ENOENT when the nearest existing ancestor
 * grants @p want, else EACCES.
 */
static int
absent_err(struct xsd_view *v, const char *path, unsigned int want)
{
	char buf[GNTDP_XS_ABS_PATH_MAX + 1];
	const struct xsd_node *n = NULL;
	int rc;

	if (path[0] != '/')
		return -ENOENT; /* an @name path that is not a special node */
	memcpy(buf, path, strlen(path) + 1);
	while (n == NULL && strcmp(buf, "/") != 0) {
		parent_of(buf, buf);
		rc = xsd_get(v, buf, &n);
		if (rc != 0)
			return rc;
	}
	if (n == NULL)
		return -EACCES; /* no root: cannot happen */
	return (xsd_perm_for(v->who, n->perms, n->nperms) & want) ? -ENOENT : -EACCES;
}

/* The node at an already canonical path, with access @p want. */
static int
get_checked(struct xsd_view *v, const char *path, unsigned int want, const struct xsd_node **out)
{
	int rc = xsd_get(v, path, out);

	if (rc != 0)
		return rc;
	if (*out == NULL)
		return absent_err(v, path, want);
	if ((xsd_perm_for(v->who, (*out)->perms, (*out)->nperms) & want) != want)
		return -EACCES;
	return 0;
}

static int
too_big(const struct xsd_view *v, size_t size)
{
	unsigned int max = v->who->q->node_size;

	return !v->who->priv && max && size > max;
}

int
xsd_op_read(struct xsd_view *v, const char *path, const struct xsd_node **out)
{
	char name[GNTDP_XS_ABS_PATH_MAX + 1];
	int rc = xsd_canon(v->who, path, false, name);

	return rc ? rc : get_checked(v, name, XSD_PERM_R, out);
}

int
xsd_op_get_perms(struct xsd_view *v, const char *path, const struct xsd_node **out)
{
	char name[GNTDP_XS_ABS_PATH_MAX + 1];
	int rc = xsd_canon(v->who, path, true, name);

	return rc ? rc : get_checked(v, name, XSD_PERM_R, out);
}

/* Change the value of an existing node. */
static int
write_existing(struct xsd_view *v, struct xsd_evq *q, const char *name, const char *val,
	       uint32_t vlen)
{
	const struct xsd_node *cur;
	struct xsd_node *n;
	int rc = get_checked(v, name, XSD_PERM_W, &cur);

	if (rc != 0)
		return rc;
	if (too_big(v, xsd_node_size(cur) - cur->vlen + vlen))
		return -ENOSPC;
	rc = xsd_mut(v, name, &n);
	if (rc != 0)
		return rc;
	free(n->val);
	n->val = vlen ? xsd_memdup(val, vlen) : NULL;
	n->vlen = vlen;
	xsd_changed(v, n, xsd_node_owner(n));
	xsd_evq_push(q, XSD_EV_CHANGE, name, n, NULL, 0);
	return 0;
}

/* Create name and its missing parents below the nearest existing ancestor. */
static int
create(struct xsd_view *v, struct xsd_evq *q, const char *name, const char *val, uint32_t vlen)
{
	char anc[GNTDP_XS_ABS_PATH_MAX + 1], kid[GNTDP_XS_ABS_PATH_MAX + 1];
	const struct xsd_node *a = NULL;
	struct xsd_node *top, *n;
	struct xsd_perm *perms;
	unsigned int levels = 0;
	size_t alen;
	int rc;

	memcpy(anc, name, strlen(name) + 1);
	while (a == NULL) {
		parent_of(anc, anc);
		levels++;
		rc = xsd_get(v, anc, &a);
		if (rc != 0)
			return rc;
	}
	if (!(xsd_perm_for(v->who, a->perms, a->nperms) & XSD_PERM_W))
		return -EACCES;
	/* The first new component, whose name the ancestor gains. */
	alen = strlen(anc);
	memcpy(kid, name, strlen(name) + 1);
	{
		char *end = strchr(kid + alen + (alen > 1), '/');

		if (end)
			*end = '\0';
	}
	if (!v->who->priv && v->who->q->nodes &&
	    xsd_owned(v, v->who->domid) + levels > (long)v->who->q->nodes)
		return -ENOSPC;
	if (too_big(v, xsd_node_size(a) + strlen(kid + alen + (alen > 1)) + 1) ||
	    too_big(v, (size_t)vlen + 8u * a->nperms))
		return -ENOSPC;
	rc = xsd_tx_room(v, levels + 1);
	if (rc != 0)
		return rc;

	/* Checked: now change. New nodes inherit the ancestor's permissions. */
	perms = xsd_memdup(a->perms, a->nperms * sizeof(*perms));
	if (!v->who->priv)
		perms[0].id = v->who->domid;
	rc = xsd_mut(v, anc, &top);
	if (rc != 0)
		goto out;
	xsd_kid_add(top, kid + alen + (alen > 1));
	xsd_changed(v, top, xsd_node_owner(top));
	for (;;) {
		size_t klen = strlen(kid), nlen;
		const char *next;

		n = xsd_node_new(kid, perms, a->nperms);
		if (name[klen] == '\0') {
			n->val = vlen ? xsd_memdup(val, vlen) : NULL;
			n->vlen = vlen;
			rc = xsd_insert(v, n);
			break;
		}
		/* The next component: it is this node's child. */
		next = strchr(name + klen + 1, '/');
		nlen = next ? (size_t)(next - name) : strlen(name);
		memcpy(kid, name, nlen);
		kid[nlen] = '\0';
		xsd_kid_add(n, kid + klen + 1);
		rc = xsd_insert(v, n);
		if (rc != 0)
			break;
	}
	if (rc == 0) {
		const struct xsd_node *leaf;

		if (xsd_get(v, name, &leaf) == 0 && leaf)
			xsd_evq_push(q, XSD_EV_CHANGE, name, leaf, NULL, 0);
	}
out:
	free(perms);
	return rc;
}

int
xsd_op_write(struct xsd_view *v, struct xsd_evq *q, const char *path, const char *val,
	     uint32_t vlen, bool mkdir)
{
	char name[GNTDP_XS_ABS_PATH_MAX + 1];
	const struct xsd_node *cur;
	int rc = xsd_canon(v->who, path, false, name);

	if (rc != 0)
		return rc;
	rc = xsd_get(v, name, &cur);
	if (rc != 0)
		return rc;
	if (cur == NULL) {
		/* Hide what the domain may not know before creating anything. */
		rc = absent_err(v, name, XSD_PERM_W);
		if (rc != -ENOENT)
			return rc;
		return create(v, q, name, val, vlen);
	}
	if (mkdir) /* it exists: fine, if it may be written */
		return (xsd_perm_for(v->who, cur->perms, cur->nperms) & XSD_PERM_W) ? 0 : -EACCES;
	return write_existing(v, q, name, val, vlen);
}

/* Paths of the subtree at root, root first, into sv; every one touched through v. */
static int
subtree(struct xsd_view *v, const char *root, struct xsd_strvec *sv)
{
	int rc = 0;

	xsd_strvec_push(sv, xsd_strdup(root));
	for (size_t i = 0; i < sv->n && rc == 0; i++) {
		const struct xsd_node *node;

		rc = xsd_get(v, sv->v[i], &node);
		for (uint32_t off = 0; rc == 0 && node && off < node->klen;
		     off += (uint32_t)strlen(node->kids + off) + 1)
			xsd_strvec_push(sv, xsd_path_join(sv->v[i], node->kids + off));
	}
	return rc;
}

int
xsd_op_rm(struct xsd_view *v, struct xsd_evq *q, const char *path)
{
	char name[GNTDP_XS_ABS_PATH_MAX + 1], parent[GNTDP_XS_ABS_PATH_MAX + 1];
	const struct xsd_node *cur, *p;
	struct xsd_node *pn;
	struct xsd_strvec sv = {0};
	int rc = xsd_canon(v->who, path, false, name);

	if (rc != 0)
		return rc;
	rc = get_checked(v, name, XSD_PERM_W, &cur);
	if (rc == -ENOENT) {
		/* Absent: fine if the parent exists. */
		parent_of(name, parent);
		rc = xsd_get(v, parent, &p);
		return rc ? rc : (p ? 0 : -ENOENT);
	}
	if (rc != 0)
		return rc;
	if (strcmp(name, "/") == 0)
		return -EINVAL;
	rc = subtree(v, name, &sv);
	if (rc == 0)
		rc = xsd_tx_room(v, 1); /* the parent */
	if (rc != 0)
		goto out;
	parent_of(name, parent);
	rc = xsd_mut(v, parent, &pn);
	if (rc != 0)
		goto out;
	/* The event carries the permissions the node had: fired as if before. */
	xsd_evq_push(q, XSD_EV_RM, name, cur, NULL, 0);
	xsd_kid_del(pn, strrchr(name, '/') + 1);
	xsd_changed(v, pn, xsd_node_owner(pn));
	for (size_t i = 0; i < sv.n; i++)
		xsd_delete(v, sv.v[i]);
out:
	xsd_strvec_free(&sv);
	return rc;
}

/* Parse "r3" "w0" "b7" "n0" into p. 0 or -EINVAL. */
static int
parse_perm(const char *s, struct xsd_perm *p)
{
	switch (s[0]) {
	case 'n':
		p->acc = 0;
		break;
	case 'r':
		p->acc = XSD_PERM_R;
		break;
	case 'w':
		p->acc = XSD_PERM_W;
		break;
	case 'b':
		p->acc = XSD_PERM_R | XSD_PERM_W;
		break;
	default:
		return -EINVAL;
	}
	return xsd_parse_uint(s + 1, XSD_PERM_ID_MAX, &p->id);
}

int
xsd_op_set_perms(struct xsd_view *v, struct xsd_evq *q, const char *path, const char *strs,
		 size_t len, unsigned int nb)
{
	char name[GNTDP_XS_ABS_PATH_MAX + 1];
	const struct xsd_node *cur;
	struct xsd_perm *perms, *old;
	struct xsd_node *n;
	uint32_t old_owner, nold;
	size_t off = 0;
	int rc;

	if (nb == 0)
		return -EINVAL;
	if (!v->who->priv && v->who->q->perms && nb > v->who->q->perms)
		return -ENOSPC;
	perms = xsd_alloc(nb * sizeof(*perms));
	for (unsigned int i = 0; i < nb; i++) {
		rc = parse_perm(strs + off, &perms[i]);
		if (rc != 0)
			goto out;
		off += strlen(strs + off) + 1;
	}
	(void)len;
	rc = xsd_canon(v->who, path, true, name);
	if (rc == 0)
		rc = get_checked(v, name, XSD_PERM_W | XSD_PERM_OWNER, &cur);
	if (rc != 0)
		goto out;
	/* Only the privileged domain gives a node away. */
	if (!v->who->priv && perms[0].id != xsd_node_owner(cur)) {
		rc = -EPERM;
		goto out;
	}
	if (too_big(v, xsd_node_size(cur) + 8u * nb - 8u * cur->nperms)) {
		rc = -ENOSPC;
		goto out;
	}
	rc = xsd_mut(v, name, &n);
	if (rc != 0)
		goto out;
	old = n->perms;
	nold = n->nperms;
	old_owner = xsd_node_owner(n);
	n->perms = perms;
	n->nperms = nb;
	perms = NULL;
	xsd_changed(v, n, old_owner);
	xsd_evq_push(q, XSD_EV_CHANGE, name, n, old, nold);
	free(old);
out:
	free(perms);
	return rc;
}
