/* SPDX-License-Identifier: MIT */
/*
 * gntdpd's domains and rings (docs/daemon.md "Domains and connections",
 * "Memory"): the world on the memfd frame provider, DOMAIN_BIND /
 * DOMAIN_CREATE / DOMAIN_DESTROY / DOMAIN_LIST, RING_CREATE /
 * RING_DESTROY, and client death (a connection's rings, then its domain).
 *
 * Every handler is entered after ctl.c checked the framing and the state;
 * it checks the ACL, then the values, and changes nothing before all of
 * them passed. Handlers run on the control thread with d->lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "gntdpd.h"

#define PAGE GNTDP_PAGE_SIZE
#define STATUS_FRAMES(g) (((g) + 7u) / 8u)

/* ---- the memory provider, with a record of what one domain_create allocated ---- */

/*
 * gntdp_domain_create() makes one allocation per segment (grant table, RAM,
 * status frames with v2). The RAM and the table have lookups in the core;
 * the status segment has none, so the allocations of one create call are
 * recorded here (control thread only, nothing else allocates meanwhile).
 */
static struct gntdp_mem_ops inner;
static struct {
	bool on;
	bool share; /* dom_mem_share(): from the 4 KiB provider */
	unsigned int n;
	void *va[4];
} rec;
/* 4 KiB memfds for share segments when the domains' memory is hugetlb (else unused). */
static struct gntdp_mem_ops small;

void
dom_mem_share(bool on)
{
	rec.share = on;
}

static void *
rec_alloc(void *arg, size_t nb_frames, int socket)
{
	const struct gntdp_mem_ops *m = rec.share && small.alloc != NULL ? &small : &inner;
	void *va = m->alloc(m->arg, nb_frames, socket);

	(void)arg;
	if (va != NULL && rec.on && rec.n < 4)
		rec.va[rec.n++] = va;
	return va;
}

static void
rec_free(void *arg, void *va, size_t nb_frames)
{
	(void)arg;
	inner.free(inner.arg, va, nb_frames);
}

static uint64_t
rec_virt2iova(void *arg, const void *va)
{
	(void)arg;
	return inner.virt2iova != NULL ? inner.virt2iova(inner.arg, va) : (uint64_t)(uintptr_t)va;
}

int
dom_world_create(struct gntdpd *d)
{
	const struct d_conf *c = d->conf;
	struct gntdp_dp_memfd_conf mc;
	struct gntdp_gnttab_conf gc;
	struct gntdp_dp_conf dc;
	int rc;

	gntdp_dp_memfd_conf_init(&mc);
	mc.hugetlb = c->hugetlb;
	rc = gntdp_dp_memfd_ops(&mc, &inner);
	if (rc == 0 && c->hugetlb) {
		/* Both free through the same process-wide memfd table (memfd.c). */
		mc.hugetlb = false;
		rc = gntdp_dp_memfd_ops(&mc, &small);
	}
	if (rc != 0) {
		APP_LOG(ERR, "gntdpd: memfd provider: %s", strerror(-rc));
		return rc;
	}
	d->mem = (struct gntdp_mem_ops){.alloc = rec_alloc, .free = rec_free,
					 .virt2iova = rec_virt2iova, .arg = d};
	gntdp_gnttab_conf_init(&gc);
	gc.mem = &d->mem;
	/* A transferred page would stay mapped in the donor's process (its RAM memfd). */
	gc.no_transfer = true;
	rc = gntdp_gnttab_create(&gc, &d->gt);
	if (rc != 0)
		return rc;
	gntdp_dp_conf_init(&dc);
	dc.cache = c->cache;
	dc.cache_entries = c->cache_entries;
	dc.hold_us = c->hold_us;
	dc.idle_sleep_us = c->idle_sleep_us;
	dc.idle_after_us = c->idle_after_us;
	dc.copy = c->copy;
	rc = gntdp_dp_create(d->gt, &dc, &d->dp);
	if (rc != 0) {
		APP_LOG(ERR, "gntdpd: data plane: %s", strerror(-rc));
		return rc;
	}
	d->nb_workers = gntdp_dp_worker_count(d->dp);
	rc = gntdp_dp_start(d->dp);
	if (rc != 0)
		APP_LOG(ERR, "gntdpd: starting the workers: %s", strerror(-rc));
	return rc;
}

void
dom_world_destroy(struct gntdpd *d)
{
	for (unsigned int i = 0; i < D_MAX_DOMAINS; i++) {
		if (d->doms[i] != NULL)
			dom_destroy(d, d->doms[i]);
	}
	gntdp_dp_destroy(d->dp);
	d->dp = NULL;
	gntdp_gnttab_destroy(d->gt);
	d->gt = NULL;
}

/*
 * Detach a ring from its running worker. A worker that does not answer
 * within 5 s leaves the ring attached (-ETIMEDOUT): retried, and if it
 * still fails the caller must keep the ring's memory mapped for good.
 */
static int
hc_destroy(struct gntdpd *d, struct gntdp_dp_hcall *r)
{
	int rc = -ETIMEDOUT;

	for (int i = 0; i < 3 && rc == -ETIMEDOUT; i++)
		rc = gntdp_dp_hcall_destroy(d->dp, r);
	return rc;
}

/* ---- domains ------------------------------------------------------------------ */

struct d_domain *
dom_find(const struct gntdpd *d, uint32_t domid)
{
	for (unsigned int i = 0; i < D_MAX_DOMAINS; i++) {
		if (d->doms[i] != NULL && d->doms[i]->domid == domid)
			return d->doms[i];
	}
	return NULL;
}

static unsigned int
dom_count(const struct gntdpd *d)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < D_MAX_DOMAINS; i++)
		n += d->doms[i] != NULL;
	return n;
}

/* The request's limits, 0 meaning the config's default, checked against the config. */
static int
limits(const struct d_conf *c, const struct gntdp_ctl_domain *m, struct gntdp_domain_conf *dc,
       struct d_reply *r)
{
	gntdp_domain_conf_init(dc);
	dc->domid = (gntdp_domid_t)m->domid;
	dc->nr_frames = m->nr_frames != 0 ? m->nr_frames : c->frames;
	dc->max_grant_frames = m->max_grant_frames != 0 ? m->max_grant_frames : c->grant_frames;
	dc->max_maptrack_frames =
		m->max_maptrack_frames != 0 ? m->max_maptrack_frames : c->maptrack_frames;
	dc->max_grant_version =
		m->max_grant_version != 0 ? m->max_grant_version : c->grant_version;
	if (dc->nr_frames > c->max_frames)
		return d_fail(r, -EINVAL, "nr_frames: %u, above max_frames %u", dc->nr_frames,
			      c->max_frames);
	if (dc->max_grant_frames > c->max_grant_frames)
		return d_fail(r, -EINVAL, "max_grant_frames: %u, above the daemon's %u",
			      dc->max_grant_frames, c->max_grant_frames);
	if (dc->max_maptrack_frames > c->max_maptrack_frames)
		return d_fail(r, -EINVAL, "max_maptrack_frames: %u, above the daemon's %u",
			      dc->max_maptrack_frames, c->max_maptrack_frames);
	if (dc->max_grant_version != 1 && dc->max_grant_version != 2)
		return d_fail(r, -EINVAL, "max_grant_version: %u, must be 0, 1 or 2",
			      dc->max_grant_version);
	/* The table's guest frames are one frame list of setup_table: the core's limit. */
	dc->privileged = m->domid == 0;
	return 0;
}

/* ACL, then the domid's range: the checks every domain request starts with. */
static int
check_domid(struct gntdpd *d, struct d_conn *c, uint32_t domid, struct d_reply *r)
{
	if (!acl_may_act(d->conf, &c->cr, domid))
		return d_fail(r, -EPERM, "domid: uid %u gid %u may not act as domain %u (the "
			      "daemon's [aclN] rules)", (unsigned int)c->cr.uid,
			      (unsigned int)c->cr.gid, domid);
	if (domid >= GNTDP_DOMID_FIRST_RESERVED)
		return d_fail(r, -EINVAL, "domid: %u, not below DOMID_FIRST_RESERVED (%u)", domid,
			      GNTDP_DOMID_FIRST_RESERVED);
	return 0;
}

/* A new domain of @p dcf, owned by the peer @p cr. */
static int
new_domain(struct gntdpd *d, const struct d_cred *cr, const struct gntdp_domain_conf *dcf,
	   struct d_reply *r, struct d_domain **out)
{
	struct gntdp_domain_conf dc = *dcf;
	struct gntdp_grant_entry_v1 *table = NULL;
	struct d_domain *dom;
	unsigned int slot, lcore = 0;
	uint32_t nr;
	int rc;

	for (slot = 0; slot < D_MAX_DOMAINS && d->doms[slot] != NULL; slot++)
		;
	if (dom_count(d) >= d->conf->max_domains || slot == D_MAX_DOMAINS)
		return d_fail(r, -ENOSPC, "domid: max_domains (%u) reached", d->conf->max_domains);
	rc = lim_domain(d, cr, lim_dom_frames(dc.nr_frames, dc.max_grant_frames,
					      dc.max_grant_version == 2 ?
					      STATUS_FRAMES(dc.max_grant_frames) : 0), r);
	if (rc != 0)
		return rc;
	dom = calloc(1, sizeof(*dom));
	if (dom == NULL)
		return d_fail(r, -ENOMEM, "out of memory");
	dom->worker = d->next_worker++ % d->nb_workers;
	if (gntdp_dp_worker_stats_get(d->dp, dom->worker, &(struct gntdp_dp_stats){0}, &lcore) ==
	    0)
		dc.socket = (int)rte_lcore_to_socket_id(lcore);
	dom->socket = dc.socket;
	rec.on = true;
	rec.n = 0;
	rc = gntdp_domain_create(d->gt, &dc);
	rec.on = false;
	if (rc == -EEXIST) {
		free(dom);
		return d_fail(r, -EEXIST, "domid: %u is still a zombie (other domains map its "
			      "grants)", dc.domid);
	}
	if (rc != 0) {
		free(dom);
		return d_fail(r, rc, "domain %u: gntdp_domain_create: %s", dc.domid, strerror(-rc));
	}
	dom->domid = dc.domid;
	dom->owner = cr->uid;
	dom->nr_frames = dc.nr_frames;
	dom->max_grant_frames = dc.max_grant_frames;
	dom->max_maptrack_frames = dc.max_maptrack_frames;
	dom->max_grant_version = dc.max_grant_version;
	dom->nr_status_frames = dc.max_grant_version == 2 ? STATUS_FRAMES(dc.max_grant_frames) : 0;
	dom->ram = gntdp_domain_frame(d->gt, dc.domid, 0);
	if (gntdp_guest_table(d->gt, dc.domid, &table, &nr) == 0)
		dom->table = table;
	for (unsigned int i = 0; i < rec.n; i++) {
		if (rec.va[i] != dom->ram && rec.va[i] != dom->table)
			dom->status = rec.va[i];
	}
	if (dom->ram == NULL || dom->table == NULL ||
	    (dom->nr_status_frames > 0 && dom->status == NULL)) {
		gntdp_domain_destroy(d->gt, dc.domid);
		free(dom);
		return d_fail(r, -ENOMEM, "domain %u: its segments were not found", dc.domid);
	}
	/* Only the daemon writes status words: no later mapping of them is writable. */
	rc = dom->status != NULL ? gntdp_dp_memfd_seal(dom->status, true) : 0;
	if (rc != 0) {
		gntdp_domain_destroy(d->gt, dc.domid);
		free(dom);
		return d_fail(r, rc, "domain %u: sealing its status frames: %s", dc.domid,
			      strerror(-rc));
	}
	d->doms[slot] = dom;
	APP_LOG(INFO, "gntdpd: domain %u created: %u frames, %u grant frames, v%u, worker %u",
		dom->domid, dom->nr_frames, dom->max_grant_frames, dom->max_grant_version,
		dom->worker);
	*out = dom;
	return 0;
}

static void
domain_reply(const struct d_domain *dom, struct d_reply *r)
{
	struct gntdp_ctl_domain_reply dr = {
		.domid = dom->domid,
		.nr_frames = dom->nr_frames,
		.max_grant_frames = dom->max_grant_frames,
		.nr_status_frames = dom->nr_status_frames,
		.max_maptrack_frames = dom->max_maptrack_frames,
		.max_grant_version = dom->max_grant_version,
		.worker = dom->worker,
		.numa_node = dom->socket < 0 ? UINT32_MAX : (uint32_t)dom->socket,
	};

	memcpy(r->body, &dr, sizeof(dr));
	r->body_len = sizeof(dr);
}

/* The domain's fds for its process: RAM and table read-write, status read-only. */
static int
domain_fds(const struct d_domain *dom, struct d_reply *r)
{
	const void *seg[3] = {dom->ram, dom->table, dom->status};
	unsigned int n = dom->nr_status_frames > 0 ? 3 : 2;

	for (unsigned int i = 0; i < n; i++) {
		int fd = gntdp_dp_memfd_open(seg[i], i == 2);

		if (fd < 0) {
			for (unsigned int j = 0; j < r->nfds; j++)
				close(r->fds[j]);
			r->nfds = 0;
			return d_fail(r, fd, "domain %u: opening its memory: %s", dom->domid,
				      strerror(-fd));
		}
		r->fds[r->nfds++] = fd;
	}
	return 0;
}

int
dom_bind(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_domain *m, struct d_reply *r)
{
	struct gntdp_domain_conf dc;
	struct d_domain *dom;
	bool created = false;
	int rc;

	if (c->dom != NULL)
		return d_fail(r, -EALREADY, "DOMAIN_BIND: this connection is bound to domain %u",
			      c->dom->domid);
	rc = check_domid(d, c, m->domid, r);
	if (rc == 0 && (m->flags & ~GNTDP_CTL_BIND_CREATE) != 0)
		rc = d_fail(r, -EINVAL, "flags: 0x%x, unknown bits 0x%x", m->flags,
			    m->flags & ~GNTDP_CTL_BIND_CREATE);
	if (rc == 0)
		rc = limits(d->conf, m, &dc, r);
	if (rc != 0)
		return rc;
	dom = dom_find(d, m->domid);
	if (dom != NULL) {
		if (dom->conn != NULL)
			return d_fail(r, -EEXIST, "domid: %u is bound by another connection",
				      m->domid);
		if ((m->nr_frames != 0 && m->nr_frames != dom->nr_frames) ||
		    (m->max_grant_frames != 0 && m->max_grant_frames != dom->max_grant_frames) ||
		    (m->max_maptrack_frames != 0 &&
		     m->max_maptrack_frames != dom->max_maptrack_frames) ||
		    (m->max_grant_version != 0 && m->max_grant_version != dom->max_grant_version))
			return d_fail(r, -EINVAL, "limits: domain %u exists with other limits (give "
				      "0 or its own)", m->domid);
		/* Taken from its creator: it counts against the binder from now on. */
		if (dom->owner != c->cr.uid) {
			rc = lim_domain(d, &c->cr, lim_dom_frames(dom->nr_frames,
					dom->max_grant_frames, dom->nr_status_frames), r);
			if (rc != 0)
				return rc;
		}
	} else {
		if ((m->flags & GNTDP_CTL_BIND_CREATE) == 0)
			return d_fail(r, -ENOENT, "domid: %u does not exist and flags lacks "
				      "GNTDP_CTL_BIND_CREATE", m->domid);
		rc = new_domain(d, &c->cr, &dc, r, &dom);
		if (rc != 0)
			return rc;
		created = true;
	}
	rc = domain_fds(dom, r);
	if (rc != 0) {
		if (created)
			dom_destroy(d, dom);
		return rc;
	}
	dom->conn = c;
	dom->owner = c->cr.uid;
	c->dom = dom;
	domain_reply(dom, r);
	APP_LOG(INFO, "gntdpd: pid %d uid %u bound domain %u", (int)c->cr.pid,
		(unsigned int)c->cr.uid, dom->domid);
	return 0;
}

int
dom_create(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_domain *m, struct d_reply *r)
{
	struct gntdp_domain_conf dc;
	struct d_domain *dom;
	int rc;

	if (!c->privileged)
		return d_fail(r, -EPERM, "DOMAIN_CREATE: uid %u is not privileged",
			      (unsigned int)c->cr.uid);
	rc = check_domid(d, c, m->domid, r);
	if (rc == 0 && m->flags != 0)
		rc = d_fail(r, -EINVAL, "flags: 0x%x, DOMAIN_CREATE takes none", m->flags);
	if (rc == 0)
		rc = limits(d->conf, m, &dc, r);
	if (rc != 0)
		return rc;
	if (dom_find(d, m->domid) != NULL)
		return d_fail(r, -EEXIST, "domid: %u exists", m->domid);
	rc = new_domain(d, &c->cr, &dc, r, &dom);
	if (rc == 0)
		domain_reply(dom, r);
	return rc;
}

/* A ring's counters go to its domain's when it goes. */
static void
ring_free(struct gntdpd *d, struct d_domain *dom, struct d_ring *rg)
{
	struct gntdp_dp_hcall_info hi;

	if (rg->hc != NULL) {
		if (gntdp_dp_hcall_info(rg->hc, &hi) == 0 && dom != NULL) {
			dom->calls += hi.calls;
			dom->ops += hi.ops;
			dom->faults += hi.faults;
		}
		if (hc_destroy(d, rg->hc) != 0) {
			/* Still attached: its region stays mapped (and its fds open) for good. */
			APP_LOG(ERR, "gntdpd: ring %u: its worker does not detach it; leaking it",
				rg->id);
			return;
		}
	}
	if (rg->mem != NULL)
		munmap(rg->mem, rg->size);
	if (rg->memfd >= 0)
		close(rg->memfd);
	if (rg->efd >= 0)
		close(rg->efd);
	free(rg);
}

void
dom_destroy(struct gntdpd *d, struct d_domain *dom)
{
	int rc;

	/* Unmap notifications first (they may send events), then its event channels. */
	d_notify_domain_dying(d, dom);
	d_evtchn_domain_dying(d, dom);
	for (unsigned int i = 0; i < D_MAX_DOMAINS; i++) {
		if (d->doms[i] == dom)
			d->doms[i] = NULL;
	}
	share_domain_dying(d, dom);
	/* Its mappings of others' grants go; its pages others map stay until unmapped. */
	rc = gntdp_domain_destroy(d->gt, dom->domid);
	if (rc != 0)
		APP_LOG(ERR, "gntdpd: destroying domain %u: %s", dom->domid, strerror(-rc));
	gntdp_gnttab_reclaim(d->gt);
	APP_LOG(INFO, "gntdpd: domain %u destroyed", dom->domid);
	free(dom);
}

void
dom_conn_gone(struct gntdpd *d, struct d_conn *c)
{
	/* Rings first: each leaves its worker before its memory and its domain go. */
	while (c->nb_rings > 0) {
		struct d_ring *rg = c->rings[--c->nb_rings];

		ring_free(d, c->dom, rg);
	}
	if (c->dom != NULL) {
		c->dom->conn = NULL;
		dom_destroy(d, c->dom);
		c->dom = NULL;
	}
}

int
dom_destroy_req(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_domain_destroy *m,
		struct d_reply *r)
{
	struct d_domain *dom;

	if (!c->privileged)
		return d_fail(r, -EPERM, "DOMAIN_DESTROY: uid %u is not privileged",
			      (unsigned int)c->cr.uid);
	dom = dom_find(d, m->domid);
	if (dom == NULL)
		return d_fail(r, -ESRCH, "domid: %u, no such domain", m->domid);
	if (dom->conn == c)
		r->close_after = true; /* the reply goes out, then the connection closes */
	else if (dom->conn != NULL)
		ctl_close_conn(d, dom->conn, "its domain was destroyed (DOMAIN_DESTROY)");
	else
		dom_destroy(d, dom);
	return 0;
}

void
dom_entry(const struct gntdpd *d, const struct d_domain *dom, struct gntdp_ctl_domain_entry *e)
{
	struct gntdp_domain_info di;

	memset(e, 0, sizeof(*e));
	e->domid = dom->domid;
	e->bound = dom->conn != NULL;
	e->nr_frames = dom->nr_frames;
	e->worker = dom->worker;
	e->calls = dom->calls;
	e->ops = dom->ops;
	e->faults = dom->faults;
	if (gntdp_domain_info(d->gt, dom->domid, &di) == 0)
		e->nr_grant_frames = di.nr_grant_frames;
	if (dom->conn != NULL) {
		const struct d_conn *c = dom->conn;

		e->pid = (uint32_t)c->cr.pid;
		e->uid = (uint32_t)c->cr.uid;
		e->nr_rings = c->nb_rings;
		for (unsigned int i = 0; i < c->nb_rings; i++) {
			struct gntdp_dp_hcall_info hi;

			if (gntdp_dp_hcall_info(c->rings[i]->hc, &hi) == 0) {
				e->calls += hi.calls;
				e->ops += hi.ops;
				e->faults += hi.faults;
			}
		}
	}
}

int
dom_list(struct gntdpd *d, const struct gntdp_ctl_domain_list *m, struct d_reply *r)
{
	struct gntdp_ctl_domain_list_reply lr = {0};
	struct gntdp_ctl_domain_entry *e = (void *)(r->body + sizeof(lr));
	uint32_t next = m->first_domid;

	/* Ascending domids from first_domid; a selection pass per entry (max_domains is small). */
	while (lr.count <= GNTDP_CTL_LIST_MAX) {
		const struct d_domain *best = NULL;

		for (unsigned int i = 0; i < D_MAX_DOMAINS; i++) {
			const struct d_domain *x = d->doms[i];

			if (x != NULL && x->domid >= next && (best == NULL || x->domid < best->domid))
				best = x;
		}
		if (best == NULL)
			break;
		if (lr.count == GNTDP_CTL_LIST_MAX) {
			lr.more = 1;
			break;
		}
		dom_entry(d, best, &e[lr.count++]);
		next = best->domid + 1u;
	}
	memcpy(r->body, &lr, sizeof(lr));
	r->body_len = sizeof(lr) + lr.count * sizeof(*e);
	return 0;
}

/* ---- rings ---------------------------------------------------------------------- */

static bool
entries_ok(uint32_t n, uint32_t max)
{
	return n >= 2 && n <= max && (n & (n - 1)) == 0;
}

/* The region: a sealed memfd (no holder can shrink it under the worker), mapped here. */
static int
ring_region(struct d_ring *rg, size_t size)
{
	rg->memfd = memfd_create("gntdpd-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (rg->memfd < 0)
		return -errno;
	if (fchmod(rg->memfd, 0600) != 0 || ftruncate(rg->memfd, (off_t)size) != 0 ||
	    fcntl(rg->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		return -errno;
	rg->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, rg->memfd, 0);
	if (rg->mem == MAP_FAILED) {
		rg->mem = NULL;
		return -errno;
	}
	rg->size = size;
	return 0;
}

int
ring_create(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_ring *m, struct d_reply *r)
{
	const uint32_t max = d->conf->max_ring_entries;
	struct gntdp_dp_hcall_conf hc;
	struct gntdp_ctl_ring_reply rr;
	struct d_ring *rg;
	size_t size;
	int rc, fd0, fd1;

	if (c->dom == NULL)
		return d_fail(r, -ENOTCONN, "RING_CREATE: no domain bound (DOMAIN_BIND first)");
	if (!entries_ok(m->sq_entries, max))
		return d_fail(r, -EINVAL, "sq_entries: %u, must be a power of two in 2..%u",
			      m->sq_entries, max);
	if (!entries_ok(m->cq_entries, max))
		return d_fail(r, -EINVAL, "cq_entries: %u, must be a power of two in 2..%u",
			      m->cq_entries, max);
	if ((m->flags & ~GNTDP_CTL_RING_EVENTFD) != 0)
		return d_fail(r, -EINVAL, "flags: 0x%x, unknown bits 0x%x", m->flags,
			      m->flags & ~GNTDP_CTL_RING_EVENTFD);
	if (m->worker != GNTDP_CTL_ANY_WORKER && m->worker >= d->nb_workers)
		return d_fail(r, -EINVAL, "worker: %u, the daemon has %u", m->worker,
			      d->nb_workers);
	if (c->nb_rings >= d->conf->max_rings)
		return d_fail(r, -ENOSPC, "RING_CREATE: max_rings (%u) reached", d->conf->max_rings);
	rg = calloc(1, sizeof(*rg));
	if (rg == NULL)
		return d_fail(r, -ENOMEM, "out of memory");
	rg->memfd = rg->efd = -1;
	size = (gntdp_hcall_ring_mem_size(m->sq_entries, m->cq_entries) + PAGE - 1) & ~(size_t)(PAGE - 1);
	rc = ring_region(rg, size);
	if (rc == 0 && (m->flags & GNTDP_CTL_RING_EVENTFD) != 0) {
		rg->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (rg->efd < 0)
			rc = -errno;
	}
	if (rc != 0) {
		ring_free(d, NULL, rg);
		return d_fail(r, rc, "RING_CREATE: ring memory: %s", strerror(-rc));
	}
	gntdp_dp_hcall_conf_init(&hc);
	hc.domid = c->dom->domid;
	hc.worker = m->worker == GNTDP_CTL_ANY_WORKER ? c->dom->worker : m->worker;
	hc.sq_entries = m->sq_entries;
	hc.cq_entries = m->cq_entries;
	hc.burst = d->conf->burst;
	hc.mem = rg->mem;
	hc.mem_size = rg->size;
	hc.eventfd = rg->efd;
	rc = gntdp_dp_hcall_create(d->dp, &hc, &rg->hc);
	fd0 = rc == 0 ? dup(rg->memfd) : -1;
	fd1 = rc == 0 && rg->efd >= 0 ? dup(rg->efd) : -1;
	if (rc == 0 && (fd0 < 0 || (rg->efd >= 0 && fd1 < 0)))
		rc = -errno;
	if (rc != 0) {
		if (fd0 >= 0)
			close(fd0);
		if (fd1 >= 0)
			close(fd1);
		ring_free(d, NULL, rg);
		return d_fail(r, rc, "RING_CREATE: %s", strerror(-rc));
	}
	r->fds[r->nfds++] = fd0;
	if (fd1 >= 0)
		r->fds[r->nfds++] = fd1;
	rg->worker = hc.worker;
	rg->id = ++d->next_ring_id;
	c->rings[c->nb_rings++] = rg;
	rr = (struct gntdp_ctl_ring_reply){.ring_id = rg->id, .worker = rg->worker,
					   .mem_size = rg->size};
	memcpy(r->body, &rr, sizeof(rr));
	r->body_len = sizeof(rr);
	return 0;
}

int
ring_destroy_req(struct gntdpd *d, struct d_conn *c, const struct gntdp_ctl_ring_destroy *m,
		 struct d_reply *r)
{
	for (unsigned int i = 0; i < c->nb_rings; i++) {
		if (c->rings[i]->id == m->ring_id) {
			struct d_ring *rg = c->rings[i];

			c->rings[i] = c->rings[--c->nb_rings];
			ring_free(d, c->dom, rg);
			return 0;
		}
	}
	return d_fail(r, -ENOENT, "ring_id: %u is not a ring of this connection", m->ring_id);
}

static const char *
reason_name(uint32_t reason)
{
	switch (reason) {
	case GNTDP_HCALL_REASON_SQ_INDEX:
		return "SQ tail index corrupt";
	case GNTDP_HCALL_REASON_CQ_INDEX:
		return "CQ head index corrupt";
	case GNTDP_HCALL_REASON_RING_HEADER:
		return "ring header corrupt";
	}
	return "unknown reason";
}

struct d_conn *
dom_disabled_ring(struct gntdpd *d, char *why, size_t len)
{
	for (unsigned int i = 0; i < d->nb_conns; i++) {
		struct d_conn *c = d->conns[i];

		for (unsigned int j = 0; j < c->nb_rings; j++) {
			struct gntdp_dp_hcall_info hi;

			if (gntdp_dp_hcall_info(c->rings[j]->hc, &hi) == 0 && hi.disabled) {
				snprintf(why, len, "its ring %u was disabled by worker %u: %s",
					 c->rings[j]->id, c->rings[j]->worker,
					 reason_name(hi.reason));
				return c;
			}
		}
		/* [memory] hugetlb: a page it punched out was replaced in the daemon only. */
		if (c->dom != NULL && (gntdp_dp_memfd_repairs(c->dom->ram) != 0 ||
				       gntdp_dp_memfd_repairs(c->dom->table) != 0)) {
			snprintf(why, len, "a hole punched in its hugetlb memory faulted the daemon "
				 "(its page replaced by zeros in the daemon only)");
			return c;
		}
	}
	return NULL;
}
