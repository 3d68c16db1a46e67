/* SPDX-License-Identifier: MIT */
/*
 * The backend: a poll-mode netback on the grant-table core.
 *
 * A poller on one data-plane worker (gntdp_dp_poller_register) owns every
 * vif and port. The worker sets the clock and ages the grant caches of the
 * backend's contexts (one per source, worker-owned); each call of the
 * poller ages the peek mappings with the same bound, then serves each port
 * (mbufs in) and each vif (TX requests in), one burst each. A burst runs in
 * phases (STYLE.md 3.5):
 *
 *   snapshot  acquire-load req_prod, bound req_prod - req_cons by the ring
 *             size, copy every slot of a packet out of the ring once;
 *   validate  the extra-info and more_data chain of each packet, with Linux
 *             netback's rules (fatal ones disable the vif);
 *   resolve   the frame header of each packet: through the vif's peek cache
 *             (a read-only host mapping of the first slot's grant), or from
 *             the mbuf for wire packets;
 *   route     the L2 switch gives the destinations; RX requests are reserved
 *             (copied out of the destination's ring once) only when every
 *             destination has room, else the burst stops there and the
 *             packet stays in its ring (lossless, head-of-line);
 *   plan      one GNTTABOP_copy per piece that crosses neither a source nor
 *             a destination page: gref -> gref between guests, gref -> mbuf
 *             frame to the wire, mbuf frame -> gref from the wire (the mbuf
 *             pool lives in the backend domain's own RAM, so its frames are
 *             frame-mode copy targets);
 *   copy      gntdp_gnttab_op() on the plan, in calls of batch_ops ops;
 *   complete  one TX response per consumed slot (NULL for extras), RX
 *             responses in the slots of the requests they answer, mbufs to
 *             the ethdevs, then one push (release store + notify check) per
 *             ring touched.
 *
 * A failed copy op is attributed by probing the source's grants with 1-byte
 * copies into a scratch frame: a bad source grant fails the TX packet, a
 * bad destination grant fails that destination's RX slots (Linux netback:
 * error responses, the vif stays up; conf.bad_gref = disable turns both
 * into a fatal error for the guilty vif).
 *
 * Files: backend.c (setup, connections), poller.c (the poller: ports and
 * vifs in turn), tx.c (vif TX, general path), express.c (vif TX, express
 * lane), peek.c (the peek cache), plan.c (route, plan, copy, attribute),
 * rx.c (RX completion, delivery), port_io.c (mbufs and ports); shared
 * inline helpers and prototypes in be_internal.h.
 */
#include <stdarg.h>

#include "be_internal.h"

static const char *const drop_names[DROP_COUNT] = {
	[DROP_NONE] = "none",
	[DROP_RUNT] = "runt",
	[DROP_TOO_MANY_SLOTS] = "too_many_slots",
	[DROP_BAD_SIZE] = "bad_size",
	[DROP_TX_BAD_GREF] = "tx_bad_gref",
	[DROP_RX_BAD_GREF] = "rx_bad_gref",
	[DROP_HAIRPIN] = "hairpin",
	[DROP_DEST_DOWN] = "dest_down",
	[DROP_RX_STALLED] = "rx_stalled",
	[DROP_NO_MBUF] = "no_mbuf",
	[DROP_PORT_TX_FULL] = "port_tx_full",
	[DROP_TOO_BIG] = "too_big",
	[DROP_BAD_MBUF] = "bad_mbuf",
	[DROP_LINK_LOCAL] = "link_local",
};

static const char *const fatal_names[FATAL_COUNT] = {
	[FATAL_NONE] = "none",
	[FATAL_TX_RUNAWAY] = "tx_runaway_req_prod",
	[FATAL_RX_RUNAWAY] = "rx_runaway_req_prod",
	[FATAL_CHAIN_PROD] = "chain_beyond_req_prod",
	[FATAL_CHAIN_SLOTS] = "chain_too_many_slots",
	[FATAL_OVERSIZED_SLOT] = "oversized_slot",
	[FATAL_BAD_EXTRA] = "bad_extra_info",
	[FATAL_BAD_GSO] = "bad_gso",
	[FATAL_TX_BAD_GREF] = "tx_bad_gref",
	[FATAL_RX_BAD_GREF] = "rx_bad_gref",
	[FATAL_RING_MAP] = "ring_map",
};

const char *
nb_drop_name(enum nb_drop d)
{
	return (unsigned int)d < DROP_COUNT ? drop_names[d] : "?";
}

const char *
nb_fatal_name(enum nb_fatal f)
{
	return (unsigned int)f < FATAL_COUNT ? fatal_names[f] : "?";
}

/* ---- Setup ---------------------------------------------------------------- */

uint32_t
be_p2m_extra(const struct nb_conf *conf)
{
	/* Two ring mappings and a peek cache of host mappings per vif. */
	return conf->nb_vifs * (2 + conf->peek_entries);
}

struct gntdp_gnttab_ctx *
be_ctx_new(struct be *be)
{
	struct gntdp_gnttab_ctx *ctx;

	/* Owned by the worker: it sets the clock and ages the cache (the one bound). */
	if (be->nb_ctx == NB_MAX_CTX ||
	    gntdp_dp_worker_ctx_create(be->dp, be->worker, be->conf->cache_entries, &ctx) != 0)
		return NULL;
	be->ctxs[be->nb_ctx++] = ctx;
	return ctx;
}

void
be_cache_stats(const struct be *be, uint64_t *hits, uint64_t *misses)
{
	struct gntdp_gnttab_ctx_stats cs;

	*hits = 0;
	*misses = 0;
	for (unsigned int i = 0; i < be->nb_ctx; i++) {
		gntdp_gnttab_ctx_stats(be->ctxs[i], &cs);
		*hits += cs.cache_hits;
		*misses += cs.cache_misses;
	}
}

/*
 * Why one context per source: a context's grant cache is direct-mapped, so
 * the working sets of several guests in one cache can evict each other on
 * every packet. Before core commit 95592cf hashed by domain uid, two guests
 * with the same ref numbers did so depending on heap layout (measured: 95%
 * hits in one run, 2% in the next). A source's own context caches only that
 * source's grants and its destinations', and sizes per source (cache_entries).
 * The contexts belong to the data plane's worker (gntdp_dp_worker_ctx_create),
 * which ages them with the same bound as its own.
 */
int
be_init(struct be *be, struct gntdp_gnttab *gt, struct gntdp_dp *dp, unsigned int worker,
	const struct nb_conf *conf)
{
	int rc;

	memset(be, 0, sizeof(*be));
	be->gt = gt;
	be->dp = dp;
	be->worker = worker;
	be->conf = conf;
	be->domid = conf->backend_domid;
	be->burst_max = conf->burst;
	be->batch_ops = conf->batch_ops;
	be->vifs = rte_zmalloc("nb_vifs", sizeof(*be->vifs) * NB_MAX_VIFS, 64);
	be->mac = rte_zmalloc("nb_mac", sizeof(*be->mac) * MAC_TABLE_SIZE, 64);
	be->b = rte_zmalloc("nb_burst", sizeof(*be->b), 64);
	if (be->vifs == NULL || be->mac == NULL || be->b == NULL)
		return -ENOMEM;
	/* The data plane selected the kernel (conf.copy) and installs it in every context. */
	be->copy_name = gntdp_dp_copy_name(dp);
	be->ctx = be_ctx_new(be);
	if (be->ctx == NULL)
		return -ENOSPC;
	be->hz = rte_get_tsc_hz();
	be->stall_cycles = (uint64_t)conf->rx_stall_us * be->hz / 1000000u;
	sw_init(be);
	rc = gntdp_dp_poller_register(dp, worker, "netback", be_poll, be, &be->poller);
	return rc;
}

void
be_vif_release(struct be *be, struct be_vif *v)
{
	peek_release_all(be, v);
	if (v->rings_mapped) {
		struct gntdp_gnttab_unmap_grant_ref u[2] = {
			{ .host_addr = v->tx_ring_gfn << GNTDP_PAGE_SHIFT, .handle = v->tx_ring_handle },
			{ .host_addr = v->rx_ring_gfn << GNTDP_PAGE_SHIFT, .handle = v->rx_ring_handle },
		};

		gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u, 2);
		v->rings_mapped = false;
		v->tx = NULL;
		v->rx = NULL;
	}
	rte_free(v->peek);
	v->peek = NULL;
	for (; v->staged.n > 0; v->staged.n--)
		rte_pktmbuf_free(v->staged.m[v->staged.head++]);
}

/* Every mapping and cached pin of the backend; the frontends may then end access. */
void
be_release_all(struct be *be)
{
	for (unsigned int i = 0; i < be->nb_vifs; i++)
		be_vif_release(be, &be->vifs[i]);
	for (unsigned int i = 0; i < be->nb_ctx; i++)
		gntdp_gnttab_ctx_expire(be->ctxs[i], UINT64_MAX);
}

void
be_fini(struct be *be)
{
	be_release_all(be);
	if (be->poller != NULL)
		gntdp_dp_poller_unregister(be->dp, be->poller);
	be->poller = NULL;
	for (unsigned int i = 0; i < be->nb_ctx; i++)
		gntdp_dp_worker_ctx_destroy(be->dp, be->ctxs[i]);
	be->nb_ctx = 0;
	be->ctx = NULL;
	rte_free(be->vifs);
	rte_free(be->mac);
	rte_free(be->b);
	be->vifs = NULL;
	be->mac = NULL;
	be->b = NULL;
}

static int
map_ring(struct be *be, gntdp_domid_t fe, gntdp_grant_ref_t ref, uint64_t gfn,
	 gntdp_grant_handle_t *handle, void **va)
{
	struct gntdp_gnttab_map_grant_ref m = {
		.host_addr = gfn << GNTDP_PAGE_SHIFT,
		.flags = GNTDP_GNTMAP_HOST_MAP,
		.ref = ref,
		.dom = fe,
	};
	int rc = gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_MAP_GRANT_REF, &m, 1);

	if (rc != 0)
		return rc;
	if (m.status != GNTDP_GNTST_OKAY)
		return m.status;
	*handle = m.handle;
	*va = gntdp_domain_frame(be->gt, be->domid, gfn);
	return *va != NULL ? 0 : -EFAULT;
}

int
be_vif_connect(struct be *be, unsigned int idx, gntdp_domid_t fe, gntdp_grant_ref_t tx_ref,
	       gntdp_grant_ref_t rx_ref, const uint8_t mac[6], unsigned int bridge)
{
	struct be_vif *v = &be->vifs[idx];
	uint64_t base = be->ram_frames;
	void *tx, *rx;
	int rc;

	memset(v, 0, sizeof(*v));
	v->idx = (uint16_t)idx;
	v->domid = fe;
	v->bridge = (uint16_t)bridge;
	v->max_frame = be->conf->vifs[idx].mtu + NB_FRAME_OVERHEAD;
	memcpy(v->mac, mac, 6);
	if (idx >= be->nb_vifs)
		be->nb_vifs = idx + 1;
	/* Physmap above RAM: the rings of every vif, then one peek window per vif. */
	v->tx_ring_gfn = base + 2ull * idx;
	v->rx_ring_gfn = base + 2ull * idx + 1;
	v->peek_gfn = base + 2ull * be->conf->nb_vifs + (uint64_t)idx * be->conf->peek_entries;
	v->peek_mask = be->conf->peek_entries - 1;
	v->peek_oldest = UINT64_MAX;
	v->peek = rte_zmalloc("nb_peek", sizeof(*v->peek) * be->conf->peek_entries, 64);
	if (v->peek == NULL)
		return -ENOMEM;
	v->ctx = be_ctx_new(be);
	if (v->ctx == NULL)
		return -ENOSPC;
	rc = map_ring(be, fe, tx_ref, v->tx_ring_gfn, &v->tx_ring_handle, &tx);
	if (rc == 0) {
		rc = map_ring(be, fe, rx_ref, v->rx_ring_gfn, &v->rx_ring_handle, &rx);
		if (rc != 0) {
			struct gntdp_gnttab_unmap_grant_ref u = {
				.host_addr = v->tx_ring_gfn << GNTDP_PAGE_SHIFT,
				.handle = v->tx_ring_handle,
			};

			gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
		}
	}
	if (rc != 0) {
		v->state = VIF_DISABLED;
		v->fatal = FATAL_RING_MAP;
		snprintf(v->fatal_detail, sizeof(v->fatal_detail), "ring grants %u/%u: status %d",
			 tx_ref, rx_ref, rc);
		CTR_ADD(v->st.fatal[FATAL_RING_MAP], 1);
		return rc;
	}
	v->tx = tx;
	v->rx = rx;
	v->rings_mapped = true;
	v->state = VIF_UP;
	sw_add_member(be, bridge, (uint16_t)idx);
	return 0;
}

/* The frontend broke the protocol: stop serving this vif, remember why (logged by main). */
void
be_vif_disable(struct be *be, struct be_vif *v, enum nb_fatal why, const char *fmt, ...)
{
	va_list ap;

	if (v->state == VIF_DISABLED)
		return;
	va_start(ap, fmt);
	vsnprintf(v->fatal_detail, sizeof(v->fatal_detail), fmt, ap);
	va_end(ap);
	v->fatal = (uint8_t)why;
	be->sw_gen++; /* floods and cached routes must no longer include it */
	CTR_ADD(v->st.fatal[why], 1);
	/* Release: the main lcore reads fatal and fatal_detail after seeing the state. */
	__atomic_store_n(&v->state, VIF_DISABLED, __ATOMIC_RELEASE);
}
