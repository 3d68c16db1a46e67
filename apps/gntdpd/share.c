/* SPDX-License-Identifier: MIT */
/*
 * gntdpd's share segments and cross-process host maps (docs/daemon.md
 * "Share segments and cross-process host maps", gntdp/ctl.h SHARE_ALLOC,
 * MAP_FD, SHARE_FREE).
 *
 * A share segment is one provider allocation (one memfd, as a domain's RAM
 * and table are) that gntdp_domain_populate() places at free gfns of the
 * granter's share window; this file records it with (granter, grantee,
 * writable). MAP_FD hands a grantee an fd of such a segment, and nothing
 * else: for each gfn it names, the caller's physmap must hold a host-mapped
 * grant (gntdp_domain_p2m_query), and the frame behind it must lie in a
 * recorded segment whose grantee is the caller. This is issue 11's
 * invariant: a client never holds an fd or a mapping that reaches memory
 * its domain was not granted. A segment holds only frames its granter
 * allocated for that grantee, so an fd of the whole segment reaches nothing
 * else; a frame of the granter's RAM (which also holds frames never
 * granted to the mapper) is refused (-EACCES) while GNTTABOP_copy of it
 * works as before.
 *
 * Why a record lookup by address is sound: records are made and dropped
 * only here, on the control thread, and a record is dropped (SHARE_FREE,
 * the granter's death) before its segment can be freed, since until then
 * the granter owns every frame (the allocation references). So while a
 * record exists its segment is alive and no other allocation can have its
 * addresses; and allocations happen only on this thread, so an address the
 * query returned for a frame freed meanwhile cannot belong to a new
 * segment before the lookup.
 *
 * Control thread only, with d->lock held (ctl.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gntdpd.h"

#define PAGE GNTDP_PAGE_SIZE
/* Share segments one domain may hold at once: each is a memfd (an fd and a mapping) here. */
#define D_MAX_SHARES 256u
/* populate attempts past gfns the client host-mapped into its own share window. */
#define PLACE_TRIES 64u

struct d_share {
	struct d_share *next;
	struct d_domain *dom; /* the granter */
	gntdp_domid_t grantee;
	bool writable;
	uint64_t gfn;
	uint32_t nb_frames;
	uint8_t *va; /* the segment in this process */
};

static struct d_share *shares; /* every live record, control thread only */

static void
domain_usage(const struct d_domain *dom, unsigned int *count, uint64_t *frames)
{
	*count = 0;
	*frames = 0;
	for (const struct d_share *s = shares; s != NULL; s = s->next) {
		if (s->dom == dom) {
			(*count)++;
			*frames += s->nb_frames;
		}
	}
}

/* The record of @dom overlapping [gfn, gfn + n), or NULL. */
static const struct d_share *
overlap(const struct d_domain *dom, uint64_t gfn, uint32_t n)
{
	for (const struct d_share *s = shares; s != NULL; s = s->next) {
		if (s->dom == dom && gfn < s->gfn + s->nb_frames && s->gfn < gfn + n)
			return s;
	}
	return NULL;
}

/* The record whose segment holds @va, or NULL. */
static const struct d_share *
find_va(const void *va)
{
	uintptr_t a = (uintptr_t)va;

	for (const struct d_share *s = shares; s != NULL; s = s->next) {
		if (a >= (uintptr_t)s->va && a - (uintptr_t)s->va < (uintptr_t)s->nb_frames * PAGE)
			return s;
	}
	return NULL;
}

/* First gfn of [gfn, gfn + n) that is not empty (the client host-mapped there), or gfn. */
static uint64_t
first_busy(struct gntdpd *d, gntdp_domid_t domid, uint64_t gfn, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		enum gntdp_p2m_kind k;

		if (gntdp_domain_p2m_query(d->gt, domid, gfn + i, &k, NULL) == 0 &&
		    k != GNTDP_P2M_EMPTY)
			return gfn + i;
	}
	return gfn;
}

/* Populate @n frames at the lowest free run of the share window. */
static int
place(struct gntdpd *d, struct d_domain *dom, uint32_t n, uint64_t *gfn, void **va,
      struct d_reply *r)
{
	const uint64_t end = GNTDP_CTL_SHARE_BASE(dom->nr_frames) + GNTDP_CTL_SHARE_GFNS;
	uint64_t s = GNTDP_CTL_SHARE_BASE(dom->nr_frames);
	unsigned int tries = 0;

	while (s + n <= end && tries < PLACE_TRIES) {
		const struct d_share *o = overlap(dom, s, n);
		int rc;

		if (o != NULL) {
			s = o->gfn + o->nb_frames;
			continue;
		}
		rc = gntdp_domain_populate(d->gt, dom->domid, s, n, va);
		if (rc == 0) {
			*gfn = s;
			return 0;
		}
		if (rc != -EBUSY)
			return d_fail(r, rc == -ENOMEM ? -ENOMEM : rc,
				      "SHARE_ALLOC: gntdp_domain_populate: %s", strerror(-rc));
		s = first_busy(d, dom->domid, s, n) + 1;
		tries++;
	}
	return d_fail(r, -ENOSPC, "nb_frames: no run of %u free gfns left in the share window "
		      "[%" PRIu64 ", %" PRIu64 ")", n, GNTDP_CTL_SHARE_BASE(dom->nr_frames), end);
}
int
share_alloc(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_share_alloc *m,
	    struct d_reply *r)
{
	const uint32_t max = d->conf->max_share_frames;
	struct gntdp_ctl_share_alloc_reply ar = {0};
	struct d_domain *dom = c->dom;
	struct d_share *s;
	unsigned int count;
	uint64_t used, gfn = 0;
	void *va = NULL;
	int rc, fd;

	if (dom == NULL)
		return d_fail(r, -ENOTCONN, "SHARE_ALLOC: no domain bound (DOMAIN_BIND first)");
	if ((m->flags & ~GNTDP_CTL_SHARE_WRITABLE) != 0)
		return d_fail(r, -EINVAL, "flags: 0x%x, unknown bits 0x%x", m->flags,
			      m->flags & ~GNTDP_CTL_SHARE_WRITABLE);
	if (m->grantee >= GNTDP_DOMID_FIRST_RESERVED)
		return d_fail(r, -EINVAL, "grantee: %u, not below DOMID_FIRST_RESERVED (%u)",
			      m->grantee, GNTDP_DOMID_FIRST_RESERVED);
	if (m->nb_frames == 0 || m->nb_frames > max)
		return d_fail(r, -EINVAL, "nb_frames: %u, must be 1..max_share_frames (%u)",
			      m->nb_frames, max);
	domain_usage(dom, &count, &used);
	if (used + m->nb_frames > max)
		return d_fail(r, -ENOSPC, "nb_frames: %u, domain %u holds %" PRIu64 " of its "
			      "max_share_frames %u", m->nb_frames, dom->domid, used, max);
	if (count >= D_MAX_SHARES)
		return d_fail(r, -ENOSPC, "SHARE_ALLOC: domain %u holds %u share segments, the most",
			      dom->domid, D_MAX_SHARES);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return d_fail(r, -ENOMEM, "out of memory");
	/* 4 KiB frames even with [memory] hugetlb: the grantee maps single frames. */
	dom_mem_share(true);
	rc = place(d, dom, m->nb_frames, &gfn, &va, r);
	dom_mem_share(false);
	if (rc != 0) {
		free(s);
		return rc;
	}
	fd = gntdp_dp_memfd_open(va, false);
	if (fd < 0) {
		gntdp_domain_depopulate(d->gt, dom->domid, gfn, m->nb_frames);
		free(s);
		return d_fail(r, fd, "SHARE_ALLOC: opening the segment: %s", strerror(-fd));
	}
	*s = (struct d_share){.next = shares, .dom = dom, .grantee = (gntdp_domid_t)m->grantee,
			      .writable = (m->flags & GNTDP_CTL_SHARE_WRITABLE) != 0, .gfn = gfn,
			      .nb_frames = m->nb_frames, .va = va};
	shares = s;
	r->fds[r->nfds++] = fd;
	ar.gfn = gfn;
	ar.nb_frames = m->nb_frames;
	memcpy(r->body, &ar, sizeof(ar));
	r->body_len = sizeof(ar);
	APP_LOG(INFO, "gntdpd: domain %u: share of %u frames at gfn %" PRIu64 " for domain %u%s",
		dom->domid, s->nb_frames, gfn, s->grantee, s->writable ? ", writable" : "");
	return 0;
}

int
share_free_req(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_share_free *m,
	       struct d_reply *r)
{
	struct d_share **pp, *s;
	int rc;

	if (c->dom == NULL)
		return d_fail(r, -ENOTCONN, "SHARE_FREE: no domain bound (DOMAIN_BIND first)");
	for (pp = &shares; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->dom == c->dom && (*pp)->gfn == m->gfn)
			break;
	}
	s = *pp;
	if (s == NULL)
		return d_fail(r, -ENOENT, "gfn: %" PRIu64 ", no share segment of domain %u starts "
			      "there", m->gfn, c->dom->domid);
	/* The record goes first: no MAP_FD after this may reach the segment. */
	*pp = s->next;
	rc = gntdp_domain_depopulate(d->gt, c->dom->domid, s->gfn, s->nb_frames);
	if (rc != 0)
		APP_LOG(ERR, "gntdpd: domain %u: depopulating its share at gfn %" PRIu64 ": %s",
			c->dom->domid, s->gfn, strerror(-rc));
	free(s);
	return 0;
}

void
share_domain_dying(struct gntdpd *d, struct d_domain *dom)
{
	struct d_share **pp = &shares;

	(void)d;
	/* gntdp_domain_destroy() releases the frames (pages others map live on). */
	while (*pp != NULL) {
		struct d_share *s = *pp;

		if (s->dom == dom) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

int
share_check_map_fd_len(const void *buf, uint32_t len, struct d_reply *r)
{
	struct gntdp_ctl_map_fd m;

	if (len < sizeof(m))
		return d_fail(r, -EBADMSG, "hdr.len: %u, MAP_FD is at least %zu bytes", len,
			      sizeof(m));
	memcpy(&m, buf, sizeof(m));
	if (m.count == 0 || m.count > GNTDP_CTL_MAP_FD_MAX)
		return d_fail(r, -EINVAL, "count: %u, must be 1..%u", m.count,
			      GNTDP_CTL_MAP_FD_MAX);
	if (len != sizeof(m) + (size_t)m.count * sizeof(uint64_t))
		return d_fail(r, -EBADMSG, "hdr.len: %u, MAP_FD of %u gfns is exactly %zu bytes",
			      len, m.count, sizeof(m) + (size_t)m.count * sizeof(uint64_t));
	return 0;
}

/* The checks of one gfn of MAP_FD: its share record in *out, else the refusal. */
static int
map_fd_one(struct gntdpd *d, const struct d_domain *dom, unsigned int i, uint64_t gfn, bool write,
	   const struct d_share **out, uint64_t *offset, struct d_reply *r)
{
	const uint64_t lo = GNTDP_CTL_MAP_BASE(dom->nr_frames), hi = lo + GNTDP_CTL_MAP_GFNS;
	const struct d_share *s;
	enum gntdp_p2m_kind k;
	void *va;

	if (gfn < lo || gfn >= hi)
		return d_fail(r, -EINVAL, "gfns[%u]: %" PRIu64 ", outside the host-map window "
			      "[%" PRIu64 ", %" PRIu64 ")", i, gfn, lo, hi);
	if (gntdp_domain_p2m_query(d->gt, dom->domid, gfn, &k, &va) != 0 ||
	    (k != GNTDP_P2M_GRANT_RO && k != GNTDP_P2M_GRANT_RW))
		return d_fail(r, -EINVAL, "gfns[%u]: %" PRIu64 " holds no host-mapped grant", i,
			      gfn);
	s = find_va(va);
	if (s == NULL)
		return d_fail(r, -EACCES, "gfns[%u]: %" PRIu64 ", the frame is not in a share "
			      "segment (GNTTABOP_copy works)", i, gfn);
	if (s->grantee != dom->domid)
		return d_fail(r, -EACCES, "gfns[%u]: %" PRIu64 ", domain %u shared the frame with "
			      "domain %u, not %u", i, gfn, s->dom->domid, s->grantee, dom->domid);
	if (write && k != GNTDP_P2M_GRANT_RW)
		return d_fail(r, -EACCES, "gfns[%u]: %" PRIu64 ", GNTDP_CTL_MAP_FD_WRITE over a "
			      "read-only host map", i, gfn);
	if (write && !s->writable)
		return d_fail(r, -EACCES, "gfns[%u]: %" PRIu64 ", GNTDP_CTL_MAP_FD_WRITE of a "
			      "segment shared read-only", i, gfn);
	*out = s;
	*offset = (uint64_t)((uintptr_t)va - (uintptr_t)s->va);
	return 0;
}

int
share_map_fd(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_map_fd *m,
	     struct d_reply *r)
{
	const uint64_t *gfns = (const uint64_t *)(const void *)(m + 1);
	const struct d_share *seg[GNTDP_CTL_MAX_FDS];
	struct gntdp_ctl_map_fd_reply fr = {0};
	struct gntdp_ctl_map_fd_entry *e = (void *)(r->body + sizeof(fr));
	const bool write = (m->flags & GNTDP_CTL_MAP_FD_WRITE) != 0;
	unsigned int nseg = 0;
	int rc;

	if (c->dom == NULL)
		return d_fail(r, -ENOTCONN, "MAP_FD: no domain bound (DOMAIN_BIND first)");
	if ((m->flags & ~GNTDP_CTL_MAP_FD_WRITE) != 0)
		return d_fail(r, -EINVAL, "flags: 0x%x, unknown bits 0x%x", m->flags,
			      m->flags & ~GNTDP_CTL_MAP_FD_WRITE);
	/* Every gfn is checked; the reply covers the prefix whose segments fit its fds. */
	for (unsigned int i = 0; i < m->count; i++) {
		const struct d_share *s = NULL;
		uint64_t off = 0;
		unsigned int j;

		rc = map_fd_one(d, c->dom, i, gfns[i], write, &s, &off, r);
		if (rc != 0)
			return rc;
		for (j = 0; j < nseg && seg[j] != s; j++)
			;
		if (j == nseg && fr.count == i && nseg < GNTDP_CTL_MAX_FDS)
			seg[nseg++] = s;
		if (j < nseg && fr.count == i) {
			e[i] = (struct gntdp_ctl_map_fd_entry){.fd_index = j, .offset = off};
			fr.count++;
		}
	}
	for (unsigned int j = 0; j < nseg; j++) {
		int fd = gntdp_dp_memfd_open(seg[j]->va, !write);

		if (fd < 0) {
			for (unsigned int k = 0; k < r->nfds; k++)
				close(r->fds[k]);
			r->nfds = 0;
			return d_fail(r, fd, "MAP_FD: opening a segment: %s", strerror(-fd));
		}
		r->fds[r->nfds++] = fd;
	}
	fr.nb_fds = nseg;
	memcpy(r->body, &fr, sizeof(fr));
	r->body_len = sizeof(fr) + fr.count * sizeof(*e);
	return 0;
}
