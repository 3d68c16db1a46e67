/* SPDX-License-Identifier: MIT */
/*
 * Unmap notifications (NOTIFY_SET / NOTIFY_FIRE, gntdp/ctl.h), as Linux's
 * gntdev and gntalloc do them with SET_UNMAP_NOTIFY: a byte in a frame of
 * the domain's physmap to clear and/or an event to send, when the domain's
 * process dies (d_notify_domain_dying(), called by dom_destroy() before
 * the domain and its mappings go) or now, when the library unmaps or
 * unshares (NOTIFY_FIRE). The drop-in libxengnttab registers them for
 * map_grant_ref_notify and share_page_notify; libxenvchan's liveness
 * (srv_live / cli_live) and its peers' wake-up depend on them.
 *
 * Whose byte: a SHARE notification names the domain's own memory (its RAM
 * or a share segment); a MAP one names a host map of a grant, and clearing
 * a byte there is a write into the granter's frame, so it is allowed only
 * while (granter, ref) is a writable v1 grant to the domain of exactly
 * that frame, checked when it is set and again when the byte is cleared
 * (gntdev refuses CLEAR_BYTE on a read-only map).
 *
 * The event goes through d_evtchn_send() (apps/gntdpd/evtchn.c, as
 * EVTCHNOP_send from the dying domain), before d_evtchn_domain_dying()
 * closes the domain's ports. The port is not checked at NOTIFY_SET: one
 * that is unbound or gone by then gets nothing, as an EVTCHNOP_send on it.
 *
 * Control thread only. One table for the daemon (at most
 * GNTDP_CTL_MAX_NOTIFY per domain).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gntdpd.h"

struct d_notify {
	gntdp_domid_t domid;
	uint32_t id;
	struct gntdp_ctl_notify_set m; /* as checked (hdr unused) */
};

static struct d_notify *g_tab;
static unsigned int g_nb, g_cap;
static uint32_t g_next_id;

/* A writable v1 grant (granter, ref) to @p domid of the frame at @p frame. */
static int
map_writable(struct gntdpd *d, gntdp_domid_t domid, const struct gntdp_ctl_notify_set *m,
	     const void *frame, struct d_reply *r)
{
	struct gntdp_domain_info info;
	struct gntdp_grant_entry_v1 *gt, e;
	uint32_t nr = 0;

	if (m->granter >= GNTDP_DOMID_FIRST_RESERVED ||
	    gntdp_domain_info(d->gt, (gntdp_domid_t)m->granter, &info) != 0)
		return d_fail(r, -EINVAL, "granter: %u is not a domain", m->granter);
	if (info.grant_version != 1)
		return d_fail(r, -EOPNOTSUPP, "granter: %u uses grant table v%u, only v1 here",
			      m->granter, info.grant_version);
	if (gntdp_guest_table(d->gt, (gntdp_domid_t)m->granter, &gt, &nr) != 0 || m->ref >= nr)
		return d_fail(r, -EINVAL, "ref: %u, past the granter's table", m->ref);
	memcpy(&e, &gt[m->ref], sizeof(e)); /* the granter may change it: read it once */
	if ((e.flags & GNTDP_GTF_TYPE_MASK) != GNTDP_GTF_PERMIT_ACCESS || e.domid != domid ||
	    (e.flags & GNTDP_GTF_READONLY) != 0 ||
	    gntdp_domain_frame(d->gt, (gntdp_domid_t)m->granter, e.frame) != frame)
		return d_fail(r, -EINVAL,
			      "ref: %u of %u is not a writable grant to %u of the frame at gfn "
			      "0x%llx (gntdev: no CLEAR_BYTE on a read-only map)",
			      m->ref, m->granter, domid, (unsigned long long)m->gfn);
	return 0;
}

/* The checks of gntdp/ctl.h on a NOTIFY_SET of @p dom. */
static int
check_set(struct gntdpd *d, const struct d_domain *dom, const struct gntdp_ctl_notify_set *m,
	  struct d_reply *r)
{
	uint64_t lo, hi, share_end = (uint64_t)dom->nr_frames + GNTDP_CTL_SHARE_GFNS;
	bool clear = m->flags & GNTDP_CTL_NOTIFY_CLEAR_BYTE;
	bool send = m->flags & GNTDP_CTL_NOTIFY_SEND_EVENT;
	void *frame;

	if (m->kind != GNTDP_CTL_NOTIFY_MAP && m->kind != GNTDP_CTL_NOTIFY_SHARE)
		return d_fail(r, -EINVAL, "kind: %u, not MAP (1) or SHARE (2)", m->kind);
	if (m->flags == 0 || (m->flags & ~(GNTDP_CTL_NOTIFY_CLEAR_BYTE | GNTDP_CTL_NOTIFY_SEND_EVENT)))
		return d_fail(r, -EINVAL, "flags: 0x%x, one or both of CLEAR_BYTE and SEND_EVENT",
			      m->flags);
	if (clear ? m->offset >= GNTDP_PAGE_SIZE : m->offset != 0)
		return d_fail(r, -EINVAL, "offset: %u, %s", m->offset,
			      clear ? "past the frame" : "must be 0 without CLEAR_BYTE");
	if (send ? m->port == 0 : m->port != 0)
		return d_fail(r, -EINVAL, "port: %u, %s", m->port,
			      send ? "0 is no port" : "must be 0 without SEND_EVENT");
	if (m->kind == GNTDP_CTL_NOTIFY_SHARE && (m->granter != 0 || m->ref != 0))
		return d_fail(r, -EINVAL, "granter, ref: must be 0 for a SHARE");
	lo = m->kind == GNTDP_CTL_NOTIFY_MAP ? share_end : 0;
	hi = m->kind == GNTDP_CTL_NOTIFY_MAP ? share_end + GNTDP_CTL_MAP_GFNS : share_end;
	frame = m->gfn >= lo && m->gfn < hi ? gntdp_domain_frame(d->gt, dom->domid, m->gfn) : NULL;
	if (frame == NULL)
		return d_fail(r, -ENOENT, "gfn: 0x%llx, nothing of %s there",
			      (unsigned long long)m->gfn,
			      m->kind == GNTDP_CTL_NOTIFY_MAP ? "a host map" : "the domain's own memory");
	if (m->kind == GNTDP_CTL_NOTIFY_MAP && clear)
		return map_writable(d, dom->domid, m, frame, r);
	return 0;
}

int
notify_set(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_notify_set *m,
	   struct d_reply *r)
{
	struct gntdp_ctl_notify_set_reply rep = {0};
	unsigned int mine = 0;
	int rc;

	if (c->dom == NULL)
		return d_fail(r, -ENOTCONN, "NOTIFY_SET before DOMAIN_BIND");
	rc = check_set(d, c->dom, m, r);
	if (rc != 0)
		return rc;
	for (unsigned int i = 0; i < g_nb; i++)
		mine += g_tab[i].domid == c->dom->domid;
	if (mine >= GNTDP_CTL_MAX_NOTIFY)
		return d_fail(r, -ENOSPC, "domain %u holds %u notifications already",
			      c->dom->domid, mine);
	if (g_nb == g_cap) {
		unsigned int cap = g_cap ? 2 * g_cap : 64;
		struct d_notify *t = realloc(g_tab, cap * sizeof(*t));

		if (t == NULL)
			return d_fail(r, -ENOMEM, "no memory for a notification");
		g_tab = t;
		g_cap = cap;
	}
	do {
		g_next_id++;
	} while (g_next_id == 0);
	g_tab[g_nb].domid = c->dom->domid;
	g_tab[g_nb].id = g_next_id;
	g_tab[g_nb].m = *m;
	g_nb++;
	rep.id = g_next_id;
	memcpy(r->body, &rep, sizeof(rep));
	r->body_len = sizeof(rep);
	return 0;
}

/* Do one: clear the byte (the same checks again), send the event. */
static void
notify_do(struct gntdpd *d, const struct d_domain *dom, const struct d_notify *n)
{
	struct d_reply *r = malloc(sizeof(*r)); /* only for the checks' why */

	if (r == NULL)
		return;
	APP_LOG(INFO, "gntdpd: domain %u: unmap notification %u (gfn %llu byte %u%s, port %u%s)",
		dom->domid, n->id, (unsigned long long)n->m.gfn, n->m.offset,
		(n->m.flags & GNTDP_CTL_NOTIFY_CLEAR_BYTE) ? "" : " untouched", n->m.port,
		(n->m.flags & GNTDP_CTL_NOTIFY_SEND_EVENT) ? "" : " not sent");
	if ((n->m.flags & GNTDP_CTL_NOTIFY_CLEAR_BYTE) && check_set(d, dom, &n->m, r) == 0) {
		volatile uint8_t *b = gntdp_domain_frame(d->gt, dom->domid, n->m.gfn);

		if (b != NULL)
			b[n->m.offset] = 0;
	}
	if (n->m.flags & GNTDP_CTL_NOTIFY_SEND_EVENT)
		d_evtchn_send(d, dom->domid, n->m.port);
	free(r);
}

static void
notify_drop(unsigned int i)
{
	g_tab[i] = g_tab[--g_nb];
}

int
notify_fire(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_notify_fire *m,
	    struct d_reply *r)
{
	if (c->dom == NULL)
		return d_fail(r, -ENOTCONN, "NOTIFY_FIRE before DOMAIN_BIND");
	if (m->flags & ~GNTDP_CTL_NOTIFY_DROP)
		return d_fail(r, -EINVAL, "flags: 0x%x, only DROP (1)", m->flags);
	for (unsigned int i = 0; i < g_nb; i++) {
		if (g_tab[i].id != m->id || g_tab[i].domid != c->dom->domid)
			continue;
		if (!(m->flags & GNTDP_CTL_NOTIFY_DROP))
			notify_do(d, c->dom, &g_tab[i]);
		notify_drop(i);
		return 0;
	}
	return d_fail(r, -ENOENT, "id: %u, domain %u holds no such notification", m->id,
		      c->dom->domid);
}

void
d_notify_domain_dying(struct gntdpd *d, struct d_domain *dom)
{
	for (unsigned int i = 0; i < g_nb;) {
		if (g_tab[i].domid != dom->domid) {
			i++;
			continue;
		}
		notify_do(d, dom, &g_tab[i]);
		notify_drop(i);
	}
}
