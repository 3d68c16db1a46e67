/* SPDX-License-Identifier: MIT */
/*
 * Building and tearing down the world of one run, in the order a Xen host
 * would: the hypervisor (a gntdp world on hugepage memzones, and the data
 * plane with one worker that will run the backend as a poller), the backend
 * (driver) domain with its RAM, which also holds the mbuf pool, the guests
 * with their granted rings and buffers, the "xenstore handshake" (the
 * backend maps each vif's ring grants), then the DPDK ports. Teardown runs
 * in reverse: ports, backend mappings and pins, guests ending access, the
 * pool, the world.
 */
#include <errno.h>
#include <string.h>

#include <rte_lcore.h>

#include "nb.h"

/*
 * The data plane: one worker, on the first EAL worker lcore, or with a
 * single lcore a manual worker that the main thread steps between frontend
 * passes. Its keys (hold_us, cache_entries, copy) mean what they mean for
 * every data-plane user; an unknown copy kernel is refused here.
 */
static int
data_plane(struct nb *nb)
{
	const struct nb_conf *c = &nb->conf;
	struct gntdp_dp_conf dc;
	unsigned int lcore = rte_get_next_lcore((unsigned int)-1, 1, 0);

	nb->manual = lcore >= RTE_MAX_LCORE;
	nb->lcore = nb->manual ? rte_get_main_lcore() : lcore;
	gntdp_dp_conf_init(&dc);
	dc.nb_workers = 1;
	dc.worker_lcores[0] = nb->lcore;
	dc.cache = true;
	dc.cache_entries = c->cache_entries;
	dc.hold_us = c->hold_us;
	dc.idle_sleep_us = c->idle_sleep_us;
	dc.idle_after_us = c->idle_after_us;
	dc.copy = c->copy;
	return gntdp_dp_create(nb->gt, &dc, &nb->dp);
}

static int
backend_domain(struct nb *nb)
{
	const struct nb_conf *c = &nb->conf;
	struct gntdp_domain_conf dc;
	uint32_t extra = be_p2m_extra(c);
	uint8_t *last;
	int rc;

	gntdp_domain_conf_init(&dc);
	dc.domid = c->backend_domid;
	dc.nr_frames = be_ram_frames(c);
	dc.p2m_size = dc.nr_frames + extra + 16;
	dc.max_grant_frames = 1;
	dc.max_maptrack_frames = (extra + GNTDP_MAPTRACK_PER_FRAME - 1) / GNTDP_MAPTRACK_PER_FRAME + 1;
	dc.socket = -1;
	rc = gntdp_domain_create(nb->gt, &dc);
	if (rc != 0)
		return rc;
	/* One provider allocation backs the RAM: contiguous, which the pool relies on. */
	nb->be.ram = gntdp_domain_frame(nb->gt, dc.domid, 0);
	nb->be.ram_frames = dc.nr_frames;
	last = gntdp_domain_frame(nb->gt, dc.domid, dc.nr_frames - 1);
	if (nb->be.ram == NULL ||
	    last != nb->be.ram + (size_t)(dc.nr_frames - 1) * GNTDP_PAGE_SIZE) {
		fprintf(stderr, "gntdp-netback: backend RAM is not contiguous\n");
		return -EINVAL;
	}
	return 0;
}

int
nb_setup(struct nb *nb)
{
	const struct nb_conf *c = &nb->conf;
	struct gntdp_gnttab_conf gc;
	int rc;

	nb->mem = gntdp_dp_mem_ops(-1);
	gntdp_gnttab_conf_init(&gc);
	gc.mem = &nb->mem;
	/*
	 * The backend's contexts (control + one per vif and port), the worker's
	 * own and the guests' setup one.
	 */
	gc.max_ctx = NB_MAX_CTX + 4;
	rc = gntdp_gnttab_create(&gc, &nb->gt);
	if (rc != 0)
		return rc;
	rc = data_plane(nb);
	if (rc != 0)
		return rc;
	rc = be_init(&nb->be, nb->gt, nb->dp, 0, c);
	nb->be_ready = true;
	if (rc == 0)
		rc = backend_domain(nb);
	if (rc == 0)
		rc = pool_create(&nb->be);
	nb->pool_ready = rc == 0;
	if (rc == 0) {
		rc = fe_create(&nb->fe, nb->gt, c, c->backend_domid);
		nb->fe_ready = true;
	}
	for (unsigned int i = 0; rc == 0 && i < c->nb_vifs; i++) {
		const struct fe_vif *fv = &nb->fe.vifs[i];

		rc = be_vif_connect(&nb->be, i, c->vifs[i].guest, fv->tx_ring_ref, fv->rx_ring_ref,
				    c->vifs[i].mac, c->vifs[i].bridge);
	}
	if (rc != 0) {
		fprintf(stderr, "gntdp-netback: setup failed: %s\n", strerror(rc < 0 ? -rc : rc));
		return rc;
	}
	/* A port that fails says why itself, in one message naming it. */
	for (unsigned int i = 0; rc == 0 && i < c->nb_ports; i++)
		rc = port_setup(&nb->be, i, &c->ports[i]);
	return rc;
}

void
nb_teardown(struct nb *nb)
{
	for (unsigned int i = 0; nb->be_ready && i < nb->be.nb_ports; i++)
		port_teardown(&nb->be, &nb->be.ports[i]);
	if (nb->be_ready)
		be_release_all(&nb->be);
	if (nb->fe_ready)
		fe_destroy(&nb->fe);
	if (nb->pool_ready)
		pool_destroy(&nb->be);
	if (nb->be_ready)
		be_fini(&nb->be);
	gntdp_dp_destroy(nb->dp);
	nb->dp = NULL;
	gntdp_gnttab_destroy(nb->gt);
	nb->gt = NULL;
	nb->be_ready = nb->fe_ready = nb->pool_ready = false;
}
