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
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "nb.h"
#include "ring.h"

#define RING_SIZE GNTDP_NETIF_RING_SIZE
#define PAGE GNTDP_PAGE_SIZE
/* 64-byte lines hold 5.3 TX slots and 8 RX slots: prefetch steps that touch each line. */
#define TX_SLOTS_PER_LINE 5u
#define RX_SLOTS_PER_LINE 8u

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

static void
peek_release_all(struct be *be, struct be_vif *v)
{
	if (v->peek == NULL)
		return;
	for (uint32_t i = 0; i <= v->peek_mask; i++) {
		struct peek_ent *e = &v->peek[i];
		struct gntdp_gnttab_unmap_grant_ref u = {
			.host_addr = (v->peek_gfn + i) << GNTDP_PAGE_SHIFT,
			.handle = e->handle,
		};

		if (!e->valid)
			continue;
		gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
		e->valid = false;
		CTR_ADD(v->st.peek_unmaps, 1);
	}
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

/* ---- Burst bookkeeping ---------------------------------------------------- */

static inline void
burst_reset(struct burst *b)
{
	b->nb_pkts = 0;
	b->nb_frags = 0;
	b->nb_dests = 0;
	b->nb_ops = 0;
	b->rx_touched = 0;
}

/*
 * Copy a 12-byte TX slot out of the shared ring. The compiler barrier makes
 * the copy the only read: nothing after it may re-load the ring instead of
 * the local copy (Linux's RING_COPY_REQUEST; XSA-155).
 */
static inline void
slot_read(const union gntdp_netif_tx_sring_entry *src, union gntdp_netif_tx_sring_entry *dst)
{
	memcpy(dst, src, sizeof(*dst));
	__asm__ volatile("" ::: "memory");
}

/* ---- The copy planner ----------------------------------------------------- */

static inline void
op_fill(struct gntdp_gnttab_copy *op, const struct frag *s, uint16_t so, const struct frag *d,
	uint16_t dof, uint16_t len)
{
	op->source.u.gmfn = s->key;
	op->source.domid = s->domid;
	op->source.offset = (uint16_t)(s->off + so);
	op->dest.u.gmfn = d->key;
	op->dest.domid = d->domid;
	op->dest.offset = (uint16_t)(d->off + dof);
	op->len = len;
	op->flags = (uint16_t)((s->domid != GNTDP_DOMID_SELF ? GNTDP_GNTCOPY_SOURCE_GREF : 0) |
			       (d->domid != GNTDP_DOMID_SELF ? GNTDP_GNTCOPY_DEST_GREF : 0));
	op->status = GNTDP_GNTST_GENERAL_ERROR;
}

/*
 * Emit the ops that move the bytes of @p src into @p dst (same total), one
 * per piece that crosses no page on either side. Returns the op count.
 */
static unsigned int
plan(struct burst *b, const struct frag *src, unsigned int nsrc, const struct frag *dst,
     unsigned int ndst)
{
	unsigned int i = 0, j = 0, n0 = b->nb_ops;
	uint16_t so = 0, dof = 0;

	while (i < nsrc && j < ndst) {
		uint16_t sl = (uint16_t)(src[i].len - so), dl = (uint16_t)(dst[j].len - dof);
		uint16_t len = sl < dl ? sl : dl;

		if (len > 0)
			op_fill(&b->ops[b->nb_ops++], &src[i], so, &dst[j], dof, len);
		so = (uint16_t)(so + len);
		dof = (uint16_t)(dof + len);
		if (so == src[i].len) {
			i++;
			so = 0;
		}
		if (dof == dst[j].len) {
			j++;
			dof = 0;
		}
	}
	return b->nb_ops - n0;
}

/* Backend-RAM frames of [va, va + len): frame-mode fragments, split at 4 KiB. */
static unsigned int
ram_frags(const struct be *be, const uint8_t *va, uint32_t len, struct frag *out, unsigned int max)
{
	uint64_t pos = (uint64_t)(va - be->ram);
	unsigned int n = 0;

	while (len > 0 && n < max) {
		uint32_t off = (uint32_t)(pos & (PAGE - 1)), l = PAGE - off;

		if (l > len)
			l = len;
		out[n].key = pos >> GNTDP_PAGE_SHIFT;
		out[n].domid = GNTDP_DOMID_SELF;
		out[n].off = (uint16_t)off;
		out[n].len = (uint16_t)l;
		n++;
		pos += l;
		len -= l;
	}
	return len == 0 ? n : 0;
}

static inline bool
in_ram(const struct be *be, const void *p, uint32_t len)
{
	const uint8_t *c = p;

	return c >= be->ram && c + len <= be->ram + (size_t)be->ram_frames * PAGE;
}

/* Fragments of an mbuf chain's data, all in backend RAM (the caller bounced it otherwise). */
static unsigned int
mbuf_frags(const struct be *be, const struct rte_mbuf *m, struct frag *out, unsigned int max)
{
	unsigned int n = 0, k;

	for (; m != NULL; m = m->next) {
		if (m->data_len == 0)
			continue;
		k = ram_frags(be, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, out + n, max - n);
		if (k == 0)
			return 0;
		n += k;
	}
	return n;
}

/* A chain of segments from the pool holding @p len bytes (data_len set), or NULL. */
static struct rte_mbuf *
mbuf_chain(struct be *be, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(be->mp);
		uint32_t l = len < be->seg_room ? len : be->seg_room;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		m->data_len = (uint16_t)l;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
		}
		tail = m;
		len -= l;
	} while (len > 0);
	head->pkt_len = 0;
	for (tail = head; tail != NULL; tail = tail->next)
		head->pkt_len += tail->data_len;
	return head;
}

/* An mbuf whose data is not in backend RAM (another pool, external buffer): copy it in. */
static struct rte_mbuf *
mbuf_bounce(struct be *be, struct rte_mbuf *m)
{
	struct rte_mbuf *c = mbuf_chain(be, m->pkt_len), *s;
	uint32_t off = 0;

	if (c == NULL)
		return NULL;
	for (s = c; s != NULL; s = s->next) {
		const void *p = rte_pktmbuf_read(m, off, s->data_len, rte_pktmbuf_mtod(s, void *));

		if (p != rte_pktmbuf_mtod(s, void *))
			rte_memcpy(rte_pktmbuf_mtod(s, void *), p, s->data_len);
		off += s->data_len;
	}
	rte_pktmbuf_free(m);
	return c;
}

/* ---- Destinations ----------------------------------------------------------- */

enum room { ROOM_OK, ROOM_WAIT, ROOM_DROP };

/* RX slots a frame of @p len bytes takes at a vif, and the first page offset. */
static inline unsigned int
rx_slots(const struct be *be, const struct be_vif *d, uint32_t len, uint16_t *first_off)
{
	/*
	 * Staggering small frames over the page (like skb data offsets) keeps
	 * consecutive destinations out of one cache set; the RX response
	 * carries the offset, which netfront honours.
	 */
	uint16_t off = be->conf->rx_stagger ? (uint16_t)((d->rx_cons & 15u) * 128u) : 0;

	if (len + off > PAGE)
		off = 0;
	*first_off = off;
	return (len + off + PAGE - 1) / PAGE;
}

/* Refresh a vif's view of its RX requests; false when the vif was disabled for it. */
static bool
rx_refresh(struct be *be, struct be_vif *d, uint32_t prod)
{
	/* Posted requests can only fill answered slots: more than a ring is a runaway index. */
	if (unlikely((uint32_t)(prod - d->rx_rsp) > RING_SIZE)) {
		be_vif_disable(be, d, FATAL_RX_RUNAWAY, "RX req_prod %u, rsp_prod %u", prod, d->rx_rsp);
		return false;
	}
	/* The requests the next bursts will reserve: written by the receiver's core. */
	for (uint32_t k = d->rx_prod_seen - d->rx_cons < RING_SIZE ? d->rx_prod_seen - d->rx_cons : 0;
	     k < prod - d->rx_cons && k < 64; k += RX_SLOTS_PER_LINE)
		rte_prefetch0(&d->rx->ring[GNTDP_NETIF_RING_SLOT(d->rx_cons + k)]);
	d->rx_prod_seen = prod;
	return true;
}

/* Whether vif @p d can take @p need RX slots now (see enum room). */
static enum room
rx_room(struct be *be, struct be_vif *d, unsigned int need, enum nb_drop *why)
{
	if (unlikely(d->state != VIF_UP)) {
		*why = DROP_DEST_DOWN;
		return ROOM_DROP;
	}
	/*
	 * Re-read req_prod once per iteration (new buffers, and a runaway index
	 * is caught at once), and whenever the cached view is short.
	 * A1: pairs with the frontend's R1 on the RX req_prod.
	 */
	if (d->rx_seen_iter != be->iter || d->rx_prod_seen - d->rx_cons < need) {
		d->rx_seen_iter = be->iter;
		if (!rx_refresh(be, d, ring_load_acquire(&d->rx->hdr.req_prod)))
			goto down;
	}
	if (likely(d->rx_prod_seen - d->rx_cons >= need))
		goto ok;
	/* Ask for a notification once enough are posted, and look again (F2). */
	CTR_ADD(d->st.rx_arm, 1);
	if (!rx_refresh(be, d, ring_want_requests(&d->rx->hdr, d->rx_cons, need)))
		goto down;
	if (d->rx_prod_seen - d->rx_cons >= need)
		goto ok;
	if (d->rx_full_since == 0) {
		d->rx_full_since = be->now | 1;
		CTR_ADD(d->st.rx_ring_full, 1);
	} else if (be->now - d->rx_full_since > be->stall_cycles) {
		d->rx_stalled = true;
	}
	if (d->rx_stalled) {
		*why = DROP_RX_STALLED;
		return ROOM_DROP;
	}
	return ROOM_WAIT;
ok:
	d->rx_full_since = 0;
	d->rx_stalled = false;
	return ROOM_OK;
down:
	*why = DROP_DEST_DOWN;
	return ROOM_DROP;
}

/* Take @p n RX requests of @p d: copy each out of the ring once. Room was checked. */
static inline uint32_t
rx_reserve(struct be_vif *d, unsigned int n)
{
	uint32_t first = d->rx_cons;

	for (unsigned int k = 0; k < n; k++) {
		uint32_t idx = GNTDP_NETIF_RING_SLOT(first + k);
		const uint32_t *s = (const uint32_t *)(const void *)&d->rx->ring[idx];
		uint32_t w0 = __atomic_load_n(&s[0], __ATOMIC_RELAXED);

		d->rx_shadow[idx].id = (uint16_t)(w0 & 0xffffu);
		d->rx_shadow[idx].gref = __atomic_load_n(&s[1], __ATOMIC_RELAXED);
	}
	d->rx_cons = first + n;
	return first;
}

/*
 * Plan a packet's delivery to vif @p d: reserve its RX slots and emit the
 * copies from @p src. Room was checked.
 */
static void
plan_to_vif(struct be *be, struct burst *b, struct pkt *p, struct be_vif *d, struct dest *ds,
	    const struct frag *src, unsigned int nsrc)
{
	struct frag pages[NB_RX_SLOTS_MAX];
	uint32_t left = p->len;
	unsigned int k;

	ds->nb_rx = (uint16_t)rx_slots(be, d, p->len, &ds->first_off);
	ds->rx_first = rx_reserve(d, ds->nb_rx);
	for (k = 0; k < ds->nb_rx; k++) {
		uint16_t off = k == 0 ? ds->first_off : 0;
		uint32_t l = PAGE - off < left ? PAGE - off : left;

		pages[k].key = d->rx_shadow[GNTDP_NETIF_RING_SLOT(ds->rx_first + k)].gref;
		pages[k].domid = d->domid;
		pages[k].off = off;
		pages[k].len = (uint16_t)l;
		left -= l;
	}
	ds->op_first = (uint16_t)b->nb_ops;
	ds->nb_ops = (uint16_t)plan(b, src, nsrc, pages, ds->nb_rx);
	b->rx_touched |= 1ull << d->idx;
}

static inline bool
hdr_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, b0;
	uint32_t a1, b1;

	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, a + 8, 4);
	memcpy(&b1, b + 8, 4);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/*
 * The common case, without the general loop: the same flow as the previous
 * frame to one vif, one source piece, one RX page with room already seen
 * this iteration. Returns false to take the general path.
 */
static inline bool
fast_to_vif(struct be *be, struct burst *b, struct pkt *p, struct be_vif *d,
	    const struct frag *src)
{
	uint16_t off = be->conf->rx_stagger ? (uint16_t)((d->rx_cons & 15u) * 128u) : 0;
	struct dest *ds;
	struct frag page;
	uint32_t idx;

	if (unlikely(d->state != VIF_UP || d->rx_seen_iter != be->iter ||
		     d->rx_prod_seen == d->rx_cons || p->len + off > PAGE ||
		     b->nb_dests == NELEM(b->dests) || b->nb_ops == NB_MAX_OPS))
		return false;
	idx = rx_reserve(d, 1);
	ds = &b->dests[b->nb_dests];
	ds->member = d->idx;
	ds->nb_rx = 1;
	ds->rx_first = idx;
	ds->first_off = off;
	ds->op_first = (uint16_t)b->nb_ops;
	ds->nb_ops = 1;
	ds->err = GNTDP_GNTST_OKAY;
	ds->src_err = false;
	page.key = d->rx_shadow[GNTDP_NETIF_RING_SLOT(idx)].gref;
	page.domid = d->domid;
	page.off = off;
	page.len = (uint16_t)p->len;
	op_fill(&b->ops[b->nb_ops++], src, 0, &page, 0, (uint16_t)p->len);
	p->dest_first = (uint16_t)b->nb_dests++;
	p->nb_dests = 1;
	b->rx_touched |= 1ull << d->idx;
	return true;
}

/*
 * Route packet @p p (frame header at @p hdr) entering at member @p src and
 * plan its delivery. Returns 0 (planned, or dropped with p->state set),
 * -EAGAIN (a destination has no RX room yet: do not consume the packet) or
 * -ENOSPC (the burst's arrays are full).
 */
static int
route_and_plan(struct be *be, struct burst *b, struct pkt *p, uint16_t src_member,
	       unsigned int bridge, const uint8_t *hdr, const struct frag *src, unsigned int nsrc,
	       bool need_stage)
{
	uint16_t members[NB_MAX_MEMBERS];
	enum nb_drop why = DROP_HAIRPIN;
	unsigned int n, i, nvif = 0, nport = 0, kept = 0;

	struct route_cache *rc = b->rc;

	if (rc->valid && rc->gen == be->sw_gen && hdr_equal(rc->hdr, hdr)) {
		if (likely(rc->n == 1 && !NB_MEMBER_IS_PORT(rc->members[0]) && nsrc == 1) &&
		    fast_to_vif(be, b, p, &be->vifs[rc->members[0]], src))
			return 0;
		n = rc->n;
		why = (enum nb_drop)rc->why;
		memcpy(members, rc->members, n * sizeof(members[0]));
	} else {
		n = sw_route(be, bridge, src_member, hdr, members, &why);
		rc->valid = n <= NB_BRIDGE_MEMBERS_MAX;
		rc->gen = be->sw_gen; /* after sw_route: its own learning is part of the answer */
		memcpy(rc->hdr, hdr, sizeof(rc->hdr));
		rc->n = n;
		rc->why = (uint8_t)why;
		memcpy(rc->members, members, n * sizeof(members[0]));
	}
	/* Room first, for every vif destination, so that nothing is reserved for a packet that waits. */
	for (i = 0; i < n; i++) {
		uint16_t first_off;
		struct be_vif *d;
		enum room r;

		if (NB_MEMBER_IS_PORT(members[i])) {
			members[kept++] = members[i];
			nport++;
			continue;
		}
		d = &be->vifs[members[i]];
		if (unlikely(p->len > GNTDP_NETIF_MAX_TX_SIZE)) {
			why = DROP_TOO_BIG;
			continue;
		}
		r = rx_room(be, d, rx_slots(be, d, p->len, &first_off), &why);
		if (r == ROOM_WAIT)
			return -EAGAIN;
		if (r == ROOM_OK) {
			members[kept++] = members[i];
			nvif++;
		}
	}
	if (kept == 0) {
		p->state = PKT_DROP;
		p->reason = (uint8_t)why;
		return 0;
	}
	if (b->nb_dests + kept > RTE_DIM(b->dests) ||
	    b->nb_ops + (nvif + 1) * (nsrc + NB_RX_SLOTS_MAX + 8) > NB_MAX_OPS)
		return -ENOSPC;
	if (kept < n) /* some destinations dropped it: count it where it entered */
		p->reason = (uint8_t)why;
	p->dest_first = (uint16_t)b->nb_dests;
	p->nb_dests = (uint16_t)kept;
	for (i = 0; i < kept; i++) {
		struct dest *ds = &b->dests[b->nb_dests++];

		memset(ds, 0, sizeof(*ds));
		ds->member = members[i];
		if (!NB_MEMBER_IS_PORT(members[i]))
			plan_to_vif(be, b, p, &be->vifs[members[i]], ds, src, nsrc);
	}
	/* Wire destinations of a guest's packet: one mbuf chain, shared by reference. */
	if (nport > 0 && need_stage) {
		struct frag mf[NB_PKT_FRAGS_MAX];
		unsigned int nm;

		p->m = mbuf_chain(be, p->len);
		nm = p->m != NULL ? mbuf_frags(be, p->m, mf, NB_PKT_FRAGS_MAX) : 0;
		if (nm == 0) {
			rte_pktmbuf_free(p->m);
			p->m = NULL;
			p->reason = DROP_NO_MBUF;
		} else {
			p->stage_op_first = (uint16_t)b->nb_ops;
			p->stage_nb_ops = (uint16_t)plan(b, src, nsrc, mf, nm);
		}
	}
	return 0;
}

/* ---- Executing and attributing -------------------------------------------- */

static bool
exec_ops(struct be *be, struct burst *b)
{
	int16_t acc = 0;
	unsigned int i, n;

	for (i = 0; i < b->nb_ops; i += n) {
		int rc;

		n = b->nb_ops - i < be->batch_ops ? b->nb_ops - i : be->batch_ops;
		rc = gntdp_gnttab_op(b->ctx, be->domid, GNTDP_GNTTABOP_COPY, &b->ops[i], n);
		if (unlikely(rc != 0)) {
			for (unsigned int k = 0; k < n; k++)
				b->ops[i + k].status = GNTDP_GNTST_GENERAL_ERROR;
		}
		CTR_ADD(be->st.calls, 1);
	}
	CTR_ADD(be->st.ops, b->nb_ops);
	/* One OR over the statuses: a clean burst takes one branch. */
	for (i = 0; i < b->nb_ops; i++)
		acc |= b->ops[i].status;
	return acc != 0;
}

/* First failed status among ops [first, first + n), or 0. */
static int16_t
ops_status(const struct burst *b, unsigned int first, unsigned int n)
{
	for (unsigned int i = first; i < first + n; i++) {
		if (b->ops[i].status != GNTDP_GNTST_OKAY)
			return b->ops[i].status;
	}
	return GNTDP_GNTST_OKAY;
}

/*
 * Whether every source grant of @p p still copies: one 1-byte copy per
 * fragment into the scratch frame. Only after a failure (cold).
 */
static __attribute__((noinline)) bool
probe_source(struct be *be, const struct burst *b, const struct pkt *p)
{
	struct gntdp_gnttab_copy ops[NB_PKT_FRAGS_MAX];
	unsigned int n = 0;

	for (unsigned int i = 0; i < p->nb_frags; i++) {
		const struct frag *f = &b->frags[p->frag_first + i];

		if (f->len == 0 || f->domid == GNTDP_DOMID_SELF)
			continue;
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].source.u.ref = (gntdp_grant_ref_t)f->key;
		ops[n].source.domid = f->domid;
		ops[n].source.offset = f->off;
		ops[n].dest.u.gmfn = be->scratch_gfn;
		ops[n].dest.domid = GNTDP_DOMID_SELF;
		ops[n].len = 1;
		ops[n].flags = GNTDP_GNTCOPY_SOURCE_GREF;
		n++;
	}
	CTR_ADD(be->st.probes, n);
	if (n == 0 || gntdp_gnttab_op(b->ctx, be->domid, GNTDP_GNTTABOP_COPY, ops, n) != 0)
		return n == 0;
	for (unsigned int i = 0; i < n; i++) {
		if (ops[i].status != GNTDP_GNTST_OKAY)
			return false;
	}
	return true;
}

/* After a burst with failed ops: mark which sources and destinations failed. */
static __attribute__((noinline)) void
attribute_failures(struct be *be, struct burst *b, bool vif_source)
{
	CTR_ADD(be->st.ops_failed, 1);
	for (unsigned int i = 0; i < b->nb_pkts; i++) {
		struct pkt *p = &b->pkts[i];
		bool any = false;

		for (unsigned int k = 0; k < p->nb_dests; k++) {
			struct dest *ds = &b->dests[p->dest_first + k];

			ds->err = ops_status(b, ds->op_first, ds->nb_ops);
			any |= ds->err != GNTDP_GNTST_OKAY;
		}
		if (p->m != NULL && p->stage_nb_ops > 0 &&
		    ops_status(b, p->stage_op_first, p->stage_nb_ops) != GNTDP_GNTST_OKAY)
			any = true;
		if (any && vif_source && !probe_source(be, b, p))
			p->src_bad = true;
	}
}

/* ---- Completion ------------------------------------------------------------ */

static inline void
tx_respond(struct be_vif *v, uint32_t idx, uint16_t id, int16_t status)
{
	union gntdp_netif_tx_sring_entry *e = &v->tx->ring[GNTDP_NETIF_RING_SLOT(idx)];
	uint32_t w = (uint32_t)id | (uint32_t)(uint16_t)status << 16;

	/* Published by the release store of rsp_prod (R1 in ring_push_responses). */
	memcpy(&e->rsp, &w, sizeof(w));
}

/* TX responses for the consumed slots of every packet, in ring order. */
static void
tx_complete(struct be_vif *v, struct burst *b)
{
	uint32_t idx = v->tx_cons;

	for (unsigned int i = 0; i < b->nb_pkts; i++) {
		const struct pkt *p = &b->pkts[i];
		int16_t st = p->state == PKT_ERR || p->src_bad ? GNTDP_NETIF_RSP_ERROR
							       : GNTDP_NETIF_RSP_OKAY;
		uint16_t first_id = b->slots[p->slot_first].req.id;
		bool extra = (b->slots[p->slot_first].req.flags & GNTDP_NETTXF_EXTRA_INFO) != 0;

		for (unsigned int k = 0; k < p->nb_slots; k++) {
			const struct gntdp_netif_tx_request *r = &b->slots[p->slot_first + k].req;

			/* Extras follow the first slot, chained by their MORE flag. */
			if (k > 0 && extra) {
				const struct gntdp_netif_extra_info *x = (const void *)r;

				tx_respond(v, idx++, first_id, GNTDP_NETIF_RSP_NULL);
				extra = (x->flags & GNTDP_NETIF_EXTRA_FLAG_MORE) != 0;
				continue;
			}
			tx_respond(v, idx++, r->id, st);
		}
	}
	v->tx_cons = idx;
}

static inline void
rx_respond(struct be_vif *d, uint32_t idx, uint16_t off, uint16_t flags, int16_t status)
{
	union gntdp_netif_rx_sring_entry *e = &d->rx->ring[GNTDP_NETIF_RING_SLOT(idx)];
	struct gntdp_netif_rx_response r = {
		.id = d->rx_shadow[GNTDP_NETIF_RING_SLOT(idx)].id,
		.offset = off,
		.flags = flags,
		.status = status,
	};

	/* In the request's own slot (netif rule); published by R1 on rsp_prod. */
	memcpy(&e->rsp, &r, sizeof(r));
}

/* RX responses of one destination vif for packet @p p. Returns true when delivered. */
static bool
rx_complete(struct be *be, struct burst *b, struct be_vif *d, const struct pkt *p,
	    const struct dest *ds)
{
	struct rx_acc *a = &b->acc[d->idx];
	bool ok = ds->err == GNTDP_GNTST_OKAY && !p->src_bad;
	uint32_t left = p->len;

	a->ops += ds->nb_ops;
	if (likely(ds->nb_rx == 1 && ok)) {
		rx_respond(d, ds->rx_first, ds->first_off, p->rxflags, (int16_t)left);
		a->pkts++;
		a->slots++;
		a->bytes += left;
		return true;
	}
	for (unsigned int k = 0; k < ds->nb_rx; k++) {
		uint16_t off = k == 0 ? ds->first_off : 0;
		uint32_t l = PAGE - off < left ? PAGE - off : left;
		uint16_t flags = (uint16_t)((k + 1 < ds->nb_rx ? GNTDP_NETRXF_MORE_DATA : 0) |
					    (k == 0 ? p->rxflags : 0));

		rx_respond(d, ds->rx_first + k, off, flags,
			   ok ? (int16_t)l : (int16_t)GNTDP_NETIF_RSP_ERROR);
		left -= l;
	}
	if (ok) {
		a->pkts++;
		a->slots += ds->nb_rx;
		a->bytes += p->len;
		return true;
	}
	if (!p->src_bad) {
		/* The destination's own grant failed. */
		CTR_ADD(d->st.drops[DROP_RX_BAD_GREF], 1);
		if (be->conf->bad_gref == BAD_GREF_DISABLE)
			be_vif_disable(be, d, FATAL_RX_BAD_GREF, "RX grant of slot %u failed: %d",
				       ds->rx_first, ds->err);
	}
	return false;
}

/* Publish the RX responses of every vif this burst wrote to. */
static void
rx_push_all(struct be *be, struct burst *b)
{
	uint64_t t = b->rx_touched;

	while (t != 0) {
		struct be_vif *d = &be->vifs[__builtin_ctzll(t)];
		struct rx_acc *a = &b->acc[d->idx];
		uint32_t old = d->rx_rsp;

		t &= t - 1;
		CTR_ADD(d->st.rx_pkts, a->pkts);
		CTR_ADD(d->st.rx_bytes, a->bytes);
		CTR_ADD(d->st.rx_slots, a->slots);
		CTR_ADD(d->st.rx_ops, a->ops);
		memset(a, 0, sizeof(*a));
		/* Every reserved request was answered above, so rsp catches up with cons. */
		d->rx_rsp = d->rx_cons;
		if (d->rx != NULL && ring_push_responses(&d->rx->hdr, old, d->rx_rsp))
			CTR_ADD(d->st.rx_notify, 1);
	}
}

/* Queue mbuf @p m for port destination @p port (one reference each). */
static inline void
port_queue(struct burst *b, unsigned int port, struct rte_mbuf *m)
{
	b->port_tx[port][b->port_tx_n[port]++] = m;
}

static void
port_flush(struct be *be, struct burst *b)
{
	for (unsigned int p = 0; p < be->nb_ports; p++) {
		struct be_port *pt = &be->ports[p];
		uint16_t n = b->port_tx_n[p], sent;
		uint64_t bytes = 0;

		if (n == 0)
			continue;
		/* Lengths first: the PMD may free what it sent (we hold one reference each). */
		for (uint16_t i = 0; i < n; i++)
			bytes += b->port_tx[p][i]->pkt_len;
		sent = rte_eth_tx_burst(pt->port_id, 0, b->port_tx[p], n);
		for (uint16_t i = sent; i < n; i++) {
			bytes -= b->port_tx[p][i]->pkt_len;
			rte_pktmbuf_free(b->port_tx[p][i]);
		}
		CTR_ADD(pt->st.tx_pkts, sent);
		CTR_ADD(pt->st.tx_bytes, bytes);
		CTR_ADD(pt->st.drops[DROP_PORT_TX_FULL], n - sent);
		b->port_tx_n[p] = 0;
	}
}

/* Hand packet @p p's mbuf to its port destinations (one reference each). Returns how many. */
static unsigned int
to_ports(struct burst *b, struct pkt *p)
{
	unsigned int nport = 0;

	for (unsigned int k = 0; k < p->nb_dests; k++)
		nport += NB_MEMBER_IS_PORT(b->dests[p->dest_first + k].member);
	if (nport == 0)
		return 0;
	if (nport > 1)
		rte_mbuf_refcnt_update(p->m, (int16_t)(nport - 1));
	for (unsigned int k = 0; k < p->nb_dests; k++) {
		const struct dest *ds = &b->dests[p->dest_first + k];

		if (NB_MEMBER_IS_PORT(ds->member))
			port_queue(b, ds->member - NB_MAX_VIFS, p->m);
	}
	p->m = NULL;
	return nport;
}

/*
 * Deliver every planned packet of the burst: RX responses, mbufs to ports,
 * drop counters of the source (@p src_drops). Returns packets delivered
 * to at least one destination.
 */
static unsigned int
deliver(struct be *be, struct burst *b, ctr_t *src_drops)
{
	unsigned int fwd = 0, dl = 0;
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < b->nb_pkts; i++) {
		struct pkt *p = &b->pkts[i];
		unsigned int ok = 0;

		for (unsigned int k = 0; k < p->nb_dests; k++) {
			const struct dest *ds = &b->dests[p->dest_first + k];

			if (!NB_MEMBER_IS_PORT(ds->member))
				ok += rx_complete(be, b, &be->vifs[ds->member], p, ds);
		}
		/* The mbuf reaches the ports only if it was filled (source grants good). */
		if (p->m != NULL && !p->src_bad &&
		    (p->stage_nb_ops == 0 ||
		     ops_status(b, p->stage_op_first, p->stage_nb_ops) == GNTDP_GNTST_OKAY))
			ok += to_ports(b, p);
		if (p->m != NULL) {
			rte_pktmbuf_free(p->m); /* not sent: a consumed source or unused staging mbuf */
			p->m = NULL;
		}
		if (p->src_bad)
			CTR_ADD(src_drops[DROP_TX_BAD_GREF], 1);
		else if (p->reason != DROP_NONE)
			CTR_ADD(src_drops[p->reason], 1);
		if (ok > 0) {
			fwd++;
			dl += ok;
			bytes += p->len;
		}
	}
	CTR_ADD(be->st.fwd_pkts, fwd);
	CTR_ADD(be->st.fwd_bytes, bytes);
	CTR_ADD(be->st.deliveries, dl);
	rx_push_all(be, b);
	port_flush(be, b);
	return fwd;
}

/* ---- mbuf sources: wire packets and staged guest packets --------------------- */

/*
 * Deliver packets waiting in @p q that entered at member @p src, in order,
 * until one must wait for RX room. Returns the number taken off the queue.
 */
static unsigned int
deliver_mbufs(struct be *be, struct gntdp_gnttab_ctx *ctx, struct route_cache *cache,
	      uint16_t src, unsigned int bridge, struct pend_q *q, ctr_t *drops, ctr_t *ops_ctr,
	      ctr_t *bounced)
{
	struct burst *b = be->b;
	unsigned int taken = 0;

	burst_reset(b);
	b->ctx = ctx;
	b->rc = cache;
	while (taken < q->n && b->nb_pkts < be->burst_max) {
		struct rte_mbuf **mp = &q->m[q->head + taken];
		struct pkt *p = &b->pkts[b->nb_pkts];
		unsigned int nf, ops0 = b->nb_ops;
		int rc;

		memset(p, 0, sizeof(*p));
		if (unlikely(!in_ram(be, rte_pktmbuf_mtod(*mp, void *), (*mp)->data_len) ||
			     (*mp)->nb_segs > 1)) {
			/* Chains are checked segment by segment in mbuf_frags; bounce only if needed. */
			struct frag tmp[NB_PKT_FRAGS_MAX];

			if (mbuf_frags(be, *mp, tmp, NB_PKT_FRAGS_MAX) == 0) {
				struct rte_mbuf *c = mbuf_bounce(be, *mp);

				if (c == NULL) {
					CTR_ADD(drops[DROP_NO_MBUF], 1);
					rte_pktmbuf_free(*mp);
					*mp = NULL;
					taken++;
					continue;
				}
				*mp = c;
				if (bounced != NULL)
					CTR_ADD(*bounced, 1);
			}
		}
		p->m = *mp;
		p->len = p->m->pkt_len;
		p->frag_first = (uint16_t)b->nb_frags;
		if (unlikely(p->len < NB_ETH_HLEN || p->m->data_len < NB_ETH_HLEN)) {
			p->state = PKT_DROP;
			p->reason = DROP_RUNT;
		} else {
			if (b->nb_frags + NB_PKT_FRAGS_MAX > RTE_DIM(b->frags))
				break;
			nf = mbuf_frags(be, p->m, &b->frags[b->nb_frags], NB_PKT_FRAGS_MAX);
			p->nb_frags = (uint16_t)nf;
			rc = route_and_plan(be, b, p, src, bridge, rte_pktmbuf_mtod(p->m, uint8_t *),
					    &b->frags[b->nb_frags], nf, false);
			if (rc != 0) {
				b->nb_ops = ops0;
				break;
			}
			b->nb_frags += nf;
			/* Port destinations take the source mbuf itself. */
			CTR_ADD(*ops_ctr, b->nb_ops - ops0);
		}
		b->nb_pkts++;
		taken++;
	}
	if (b->nb_pkts > 0) {
		if (unlikely(exec_ops(be, b)))
			attribute_failures(be, b, false);
		deliver(be, b, drops);
	}
	q->head += taken;
	q->n -= taken;
	if (q->n == 0)
		q->head = 0;
	return taken;
}

static unsigned int
port_poll(struct be *be, struct be_port *pt)
{
	struct pend_q *q = &pt->rxq;

	if (q->n == 0) {
		uint16_t n = rte_eth_rx_burst(pt->port_id, 0, q->m, (uint16_t)be->burst_max);
		uint64_t bytes = 0;

		if (n == 0)
			return 0;
		for (uint16_t i = 0; i < n; i++)
			bytes += q->m[i]->pkt_len;
		q->head = 0;
		q->n = n;
		CTR_ADD(pt->st.rx_pkts, n);
		CTR_ADD(pt->st.rx_bytes, bytes);
	} else {
		CTR_ADD(pt->st.pending, 1);
	}
	return deliver_mbufs(be, pt->ctx, &pt->rc, NB_PORT_MEMBER(pt->idx), pt->bridge, q,
			     pt->st.drops, &pt->st.rx_ops, &pt->st.bounced);
}

/* ---- vif TX: validate ------------------------------------------------------ */

/*
 * Validate the packet whose first slot is burst slot @p k (ring index
 * tx_cons + k), with @p avail unconsumed slots in the snapshot. Copies each
 * slot it looks at into b->slots exactly once and fills @p p. Returns
 * FATAL_NONE, or why the vif must be disabled (@p detail says more).
 */
static enum nb_fatal
tx_parse(struct be_vif *v, struct burst *b, unsigned int k, uint32_t avail, struct pkt *p,
	 char *detail, size_t dlen)
{
	const struct gntdp_netif_tx_request *first = &b->slots[k].req;
	uint32_t total, rest = 0;
	unsigned int n = 1, nd = 1, ne = 0;
	uint16_t flags;
	bool ctrl = false, gso = false;

	memset(p, 0, sizeof(*p));
	p->slot_first = (uint16_t)k;
	slot_read(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_cons + k)], &b->slots[k]);
	flags = first->flags;
	total = first->size;
	/* One slot, no extras: most frames. The same checks as below, in a straight line. */
	if (likely(!(flags & (GNTDP_NETTXF_EXTRA_INFO | GNTDP_NETTXF_MORE_DATA)))) {
		struct frag *f = &b->frags[b->nb_frags];

		if (unlikely((uint32_t)first->offset + total > PAGE)) {
			snprintf(detail, dlen, "first slot: offset %u + size %u > 4096",
				 first->offset, total);
			return FATAL_OVERSIZED_SLOT;
		}
		f->key = first->gref;
		f->domid = v->domid;
		f->off = first->offset;
		f->len = (uint16_t)total;
		p->frag_first = (uint16_t)b->nb_frags;
		p->nb_frags = 1;
		p->nb_slots = 1;
		p->len = total;
		if (unlikely(total < NB_ETH_HLEN)) {
			p->state = PKT_ERR;
			p->reason = DROP_RUNT;
		} else if (flags & (GNTDP_NETTXF_CSUM_BLANK | GNTDP_NETTXF_DATA_VALIDATED)) {
			p->rxflags = (flags & GNTDP_NETTXF_CSUM_BLANK)
					     ? GNTDP_NETRXF_CSUM_BLANK | GNTDP_NETRXF_DATA_VALIDATED
					     : GNTDP_NETRXF_DATA_VALIDATED;
		}
		return FATAL_NONE;
	}
	if (flags & GNTDP_NETTXF_EXTRA_INFO) {
		bool more = true;

		while (more) {
			const struct gntdp_netif_extra_info *x = (const void *)&b->slots[k + n];

			if (k + n >= avail) {
				snprintf(detail, dlen, "extra info slot %u beyond req_prod", n);
				return FATAL_CHAIN_PROD;
			}
			if (ne == NB_EXTRAS_MAX) {
				snprintf(detail, dlen, "more than %u extra info slots", NB_EXTRAS_MAX);
				return FATAL_BAD_EXTRA;
			}
			slot_read(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_cons + k + n)],
				  &b->slots[k + n]);
			n++;
			ne++;
			if (x->type == GNTDP_NETIF_EXTRA_TYPE_NONE ||
			    x->type >= GNTDP_NETIF_EXTRA_TYPE_MAX) {
				snprintf(detail, dlen, "extra info type %u", x->type);
				return FATAL_BAD_EXTRA;
			}
			if (x->type == GNTDP_NETIF_EXTRA_TYPE_GSO) {
				if (x->u.gso.size == 0 ||
				    (x->u.gso.type != GNTDP_NETIF_GSO_TYPE_TCPV4 &&
				     x->u.gso.type != GNTDP_NETIF_GSO_TYPE_TCPV6)) {
					snprintf(detail, dlen, "GSO size %u type %u", x->u.gso.size,
						 x->u.gso.type);
					return FATAL_BAD_GSO;
				}
				gso = true;
			}
			if (x->type == GNTDP_NETIF_EXTRA_TYPE_MCAST_ADD ||
			    x->type == GNTDP_NETIF_EXTRA_TYPE_MCAST_DEL)
				ctrl = true;
			more = (x->flags & GNTDP_NETIF_EXTRA_FLAG_MORE) != 0;
		}
	}
	p->frag_first = (uint16_t)b->nb_frags;
	b->frags[b->nb_frags] = (struct frag){ .key = first->gref, .domid = v->domid,
					       .off = first->offset };
	while (flags & GNTDP_NETTXF_MORE_DATA) {
		const struct gntdp_netif_tx_request *r = &b->slots[k + n].req;

		if (k + n >= avail) {
			snprintf(detail, dlen, "more_data chain of %u slots beyond req_prod", nd);
			return FATAL_CHAIN_PROD;
		}
		if (nd >= NB_SLOTS_FATAL) {
			snprintf(detail, dlen, "more than %u slots in one packet", NB_SLOTS_FATAL);
			return FATAL_CHAIN_SLOTS;
		}
		slot_read(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_cons + k + n)], &b->slots[k + n]);
		n++;
		if ((uint32_t)r->offset + r->size > PAGE) {
			snprintf(detail, dlen, "slot %u: offset %u + size %u > 4096", nd, r->offset,
				 r->size);
			return FATAL_OVERSIZED_SLOT;
		}
		/* Linux netback drops (not disables) a chain bigger than its first size. */
		if (r->size > total - rest && p->reason == 0) {
			p->state = PKT_ERR;
			p->reason = DROP_BAD_SIZE;
		}
		if (p->state != PKT_ERR)
			rest += r->size;
		b->frags[b->nb_frags + nd] = (struct frag){ .key = r->gref, .domid = v->domid,
							    .off = r->offset, .len = r->size };
		nd++;
		flags = r->flags;
	}
	p->nb_slots = (uint16_t)n;
	p->nb_frags = (uint16_t)nd;
	p->len = total;
	b->frags[b->nb_frags].len = (uint16_t)(total - rest);
	if (p->state != PKT_ERR && (uint32_t)first->offset + (total - rest) > PAGE) {
		snprintf(detail, dlen, "first slot: offset %u + size %u > 4096", first->offset,
			 total - rest);
		return FATAL_OVERSIZED_SLOT;
	}
	p->gso = gso;
	if (p->state == PKT_ERR)
		return FATAL_NONE;
	if (nd > NB_SLOTS_MAX) {
		p->state = PKT_ERR;
		p->reason = DROP_TOO_MANY_SLOTS;
	} else if (ctrl) {
		p->state = PKT_CTRL;
	} else if (total < NB_ETH_HLEN) {
		p->state = PKT_ERR;
		p->reason = DROP_RUNT;
	} else {
		p->state = PKT_FWD;
		/* Checksum state travels to the receiver as netback passes it on. */
		if (first->flags & GNTDP_NETTXF_CSUM_BLANK)
			p->rxflags = GNTDP_NETRXF_CSUM_BLANK | GNTDP_NETRXF_DATA_VALIDATED;
		else if (first->flags & GNTDP_NETTXF_DATA_VALIDATED)
			p->rxflags = GNTDP_NETRXF_DATA_VALIDATED;
	}
	return FATAL_NONE;
}

/* ---- vif TX: resolve (peek cache) -------------------------------------------- */

static __attribute__((noinline)) int16_t
peek_miss(struct be *be, struct be_vif *v, struct peek_ent *e, gntdp_grant_ref_t gref,
	  const uint8_t **va)
{
	uint64_t gfn = v->peek_gfn + (uint64_t)(e - v->peek);
	struct gntdp_gnttab_map_grant_ref m = {
		.host_addr = gfn << GNTDP_PAGE_SHIFT,
		.flags = GNTDP_GNTMAP_HOST_MAP | GNTDP_GNTMAP_READONLY,
		.ref = gref,
		.dom = v->domid,
	};

	if (e->valid) {
		struct gntdp_gnttab_unmap_grant_ref u = {
			.host_addr = gfn << GNTDP_PAGE_SHIFT,
			.handle = e->handle,
		};

		gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
		e->valid = false;
		CTR_ADD(v->st.peek_unmaps, 1);
	}
	if (gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_MAP_GRANT_REF, &m, 1) != 0)
		return GNTDP_GNTST_GENERAL_ERROR;
	if (m.status != GNTDP_GNTST_OKAY)
		return m.status;
	e->va = gntdp_domain_frame(be->gt, be->domid, gfn);
	if (e->va == NULL) {
		struct gntdp_gnttab_unmap_grant_ref u = {
			.host_addr = gfn << GNTDP_PAGE_SHIFT,
			.handle = m.handle,
		};

		gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
		return GNTDP_GNTST_GENERAL_ERROR;
	}
	e->gref = gref;
	e->handle = m.handle;
	e->valid = true;
	/* Taken now: released by the hold bound from now, however often it is used. */
	e->taken = be->now;
	if (be->now < v->peek_oldest)
		v->peek_oldest = be->now;
	CTR_ADD(v->st.peek_maps, 1);
	*va = e->va;
	return GNTDP_GNTST_OKAY;
}

/*
 * The page of TX grant @p gref, through a read-only host mapping kept in the
 * vif's peek cache (the backend reads the frame header there to switch; the
 * packet itself still moves with grant copies). Aged like the copy pins:
 * from when it was taken, not from its last use (peek_age).
 */
static inline int16_t
peek(struct be *be, struct be_vif *v, gntdp_grant_ref_t gref, const uint8_t **va)
{
	struct peek_ent *e = &v->peek[gref & v->peek_mask];

	if (likely(e->valid && e->gref == gref)) {
		*va = e->va;
		return GNTDP_GNTST_OKAY;
	}
	return peek_miss(be, v, e, gref, va);
}

/* Unmap the peek mappings of @p v taken before @p older_than; recompute the oldest stamp. */
static void
peek_expire(struct be *be, struct be_vif *v, uint64_t older_than)
{
	uint64_t oldest = UINT64_MAX;

	for (uint32_t i = 0; i <= v->peek_mask; i++) {
		struct peek_ent *e = &v->peek[i];

		if (e->valid && e->taken < older_than) {
			struct gntdp_gnttab_unmap_grant_ref u = {
				.host_addr = (v->peek_gfn + i) << GNTDP_PAGE_SHIFT,
				.handle = e->handle,
			};

			gntdp_gnttab_op(be->ctx, be->domid, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &u, 1);
			e->valid = false;
			CTR_ADD(v->st.peek_unmaps, 1);
			CTR_ADD(be->st.pins_expired, 1);
		} else if (e->valid && e->taken < oldest) {
			oldest = e->taken;
		}
	}
	v->peek_oldest = oldest;
	CTR_ADD(be->st.expire_walks, 1);
}

/*
 * The hold bound for the peek mappings, on every call of the poller, busy or
 * idle, as the worker does for the cached pins: a mapping taken at @p now'
 * is unmapped by the first call with now > now' + hold, hence at most
 * hold_us plus one iteration after it was taken. A vif is walked only when
 * its oldest mapping is due; the walk then also releases the mappings taken
 * in the first half of the hold (early release is always allowed), so that
 * a vif is walked at most about once per hold / 2.
 */
static void
peek_age(struct be *be, uint64_t now, uint64_t hold)
{
	uint64_t due = now > hold ? now - hold : 0;
	uint64_t early = now > hold / 2 ? now - hold / 2 : 0;

	for (unsigned int i = 0; i < be->nb_vifs; i++) {
		struct be_vif *v = &be->vifs[i];

		/* Disabled vifs too: their mappings obey the bound as well. */
		if (unlikely(v->peek_oldest < due) && v->peek != NULL)
			peek_expire(be, v, early);
	}
}

/* ---- vif TX: the burst ------------------------------------------------------- */

/* A bad TX grant found while resolving: Linux drops the packet; strict mode disables. */
static bool
tx_bad_gref(struct be *be, struct pkt *p, gntdp_grant_ref_t gref, int16_t st,
	    enum nb_fatal *fatal, char *detail, size_t dlen)
{
	if (be->conf->bad_gref == BAD_GREF_DISABLE) {
		*fatal = FATAL_TX_BAD_GREF;
		snprintf(detail, dlen, "TX grant %u: %s", gref, gntdp_gntst_name(st));
		return false;
	}
	p->state = PKT_ERR;
	p->reason = DROP_TX_BAD_GREF;
	return true;
}

/* Stage packet @p p into an mbuf chain (routed from there after the copy). */
static int
tx_stage(struct be *be, struct burst *b, struct be_vif *v, struct pkt *p)
{
	struct frag mf[NB_PKT_FRAGS_MAX];
	unsigned int nm;

	if (b->nb_ops + p->nb_frags + NB_PKT_FRAGS_MAX > NB_MAX_OPS || v->staged.n >= NB_PEND_MAX)
		return -ENOSPC;
	p->m = mbuf_chain(be, p->len);
	nm = p->m != NULL ? mbuf_frags(be, p->m, mf, NB_PKT_FRAGS_MAX) : 0;
	if (nm == 0) {
		rte_pktmbuf_free(p->m);
		p->m = NULL;
		p->state = PKT_ERR;
		p->reason = DROP_NO_MBUF;
		return 0;
	}
	p->stage_op_first = (uint16_t)b->nb_ops;
	p->stage_nb_ops = (uint16_t)plan(b, &b->frags[p->frag_first], p->nb_frags, mf, nm);
	return 0;
}

/* Snapshot and validate: whole packets, each slot copied out once. Returns slots seen. */
static uint32_t
tx_snapshot(struct be *be, struct be_vif *v, unsigned int max_pkts, enum nb_fatal *fatal,
	    char *detail, size_t dlen)
{
	struct burst *b = be->b;
	uint32_t prod, avail, k = 0;
	bool armed;

	/* A1: pairs with the frontend's R1 on req_prod. */
	prod = ring_load_acquire(&v->tx->hdr.req_prod);
	if (prod == v->tx_cons) {
		prod = ring_final_check_requests(&v->tx->hdr, v->tx_cons, &armed);
		if (armed)
			CTR_ADD(v->st.tx_arm, 1);
		if (prod == v->tx_cons)
			return 0;
	}
	avail = prod - v->tx_cons;
	if (unlikely(avail > RING_SIZE)) {
		*fatal = FATAL_TX_RUNAWAY;
		snprintf(detail, dlen, "TX req_prod %u, req_cons %u", prod, v->tx_cons);
		return 0;
	}
	/*
	 * Ask for every ring line this burst will read at once: they were
	 * written by the frontend's core, and the parse below walks them in
	 * order, one dependent slot at a time.
	 */
	for (k = 0; k < avail && k < max_pkts + NB_SLOTS_FATAL; k += TX_SLOTS_PER_LINE)
		rte_prefetch0(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_cons + k)]);
	k = 0;
	while (b->nb_pkts < max_pkts && k < avail &&
	       b->nb_frags + NB_PKT_FRAGS_MAX <= RTE_DIM(b->frags)) {
		struct pkt *p = &b->pkts[b->nb_pkts];

		*fatal = tx_parse(v, b, k, avail, p, detail, dlen);
		if (*fatal != FATAL_NONE)
			break;
		b->nb_frags += p->nb_frags;
		k += p->nb_slots;
		b->nb_pkts++;
	}
	return k;
}

/*
 * Resolve: the header of each forwardable packet through the peek cache,
 * prefetched for the route phase. Returns how many packets stay in the
 * burst (fewer when a bad grant disables the vif).
 */
static unsigned int
tx_resolve(struct be *be, struct be_vif *v, const uint8_t **hdrs, enum nb_fatal *fatal,
	   char *detail, size_t dlen)
{
	struct burst *b = be->b;

	for (unsigned int i = 0; i < b->nb_pkts; i++) {
		struct pkt *p = &b->pkts[i];
		const struct frag *f = &b->frags[p->frag_first];
		const uint8_t *va;
		int16_t st;

		hdrs[i] = NULL;
		/* A header split over slots (or staged mode): through an mbuf instead. */
		if (p->state != PKT_FWD || be->conf->g2g == G2G_STAGED || f->len < NB_ETH_HLEN)
			continue;
		st = peek(be, v, (gntdp_grant_ref_t)f->key, &va);
		if (unlikely(st != GNTDP_GNTST_OKAY)) {
			if (!tx_bad_gref(be, p, (gntdp_grant_ref_t)f->key, st, fatal, detail, dlen))
				return i; /* packets before it still go; this one disables the vif */
			continue;
		}
		hdrs[i] = va + f->off;
		rte_prefetch0(hdrs[i]);
	}
	return b->nb_pkts;
}

/* Route and plan in ring order, stopping at the first packet that must wait. */
static void
tx_plan(struct be *be, struct be_vif *v, const uint8_t *const *hdrs, unsigned int npk,
	enum nb_fatal *fatal)
{
	struct burst *b = be->b;
	uint64_t bytes = 0, slots = 0, extras = 0, gso = 0, ctrl = 0;
	unsigned int ops0 = b->nb_ops, i;

	for (i = 0; i < npk; i++) {
		struct pkt *p = &b->pkts[i];
		unsigned int o = b->nb_ops;
		int rc = 0;

		if (p->state == PKT_FWD && hdrs[i] != NULL) {
			uint8_t hdr[12];

			/* One read of the guest's header; routing uses only this copy. */
			memcpy(hdr, hdrs[i], sizeof(hdr));
			__asm__ volatile("" ::: "memory");
			rc = route_and_plan(be, b, p, v->idx, v->bridge, hdr,
					    &b->frags[p->frag_first], p->nb_frags, true);
		} else if (p->state == PKT_FWD) {
			rc = tx_stage(be, b, v, p);
		}
		if (rc != 0) {
			b->nb_ops = o;
			*fatal = FATAL_NONE; /* not reached this time: seen again later */
			break;
		}
		bytes += p->len;
		slots += p->nb_frags;
		extras += p->nb_slots - p->nb_frags;
		gso += p->gso;
		ctrl += p->state == PKT_CTRL;
	}
	b->nb_pkts = i;
	/* Per burst, not per packet: one store per counter. */
	CTR_ADD(v->st.tx_ops, b->nb_ops - ops0);
	CTR_ADD(v->st.tx_pkts, i);
	CTR_ADD(v->st.tx_bytes, bytes);
	CTR_ADD(v->st.tx_slots, slots);
	CTR_ADD(v->st.tx_extras, extras);
	if (unlikely(gso + ctrl > 0)) {
		CTR_ADD(v->st.tx_gso, gso);
		CTR_ADD(v->st.tx_ctrl, ctrl);
	}
}

static unsigned int
vif_tx_burst(struct be *be, struct be_vif *v, unsigned int max_pkts)
{
	struct burst *b = be->b;
	enum nb_fatal fatal = FATAL_NONE;
	const uint8_t *hdrs[NB_MAX_BURST];
	char detail[96];
	unsigned int npk, i;
	uint32_t old;

	burst_reset(b);
	b->ctx = v->ctx;
	b->rc = &v->rc;
	tx_snapshot(be, v, max_pkts, &fatal, detail, sizeof(detail));
	npk = tx_resolve(be, v, hdrs, &fatal, detail, sizeof(detail));
	tx_plan(be, v, hdrs, npk, &fatal);
	if (b->nb_pkts == 0 && fatal == FATAL_NONE)
		return 0;
	/* Copy. */
	if (b->nb_ops > 0 && unlikely(exec_ops(be, b)))
		attribute_failures(be, b, true);
	/* Complete. Staged mbufs queue up, in order, for routing after this burst. */
	for (i = 0; i < b->nb_pkts; i++) {
		struct pkt *p = &b->pkts[i];

		if (p->m != NULL && p->nb_dests == 0) {
			if (!p->src_bad)
				v->staged.m[v->staged.head + v->staged.n++] = p->m;
			else
				rte_pktmbuf_free(p->m);
			p->m = NULL;
		}
		if (p->src_bad && be->conf->bad_gref == BAD_GREF_DISABLE && fatal == FATAL_NONE) {
			fatal = FATAL_TX_BAD_GREF;
			snprintf(detail, sizeof(detail), "a TX grant of a %u-slot packet failed",
				 p->nb_frags);
		}
	}
	tx_complete(v, b);
	deliver(be, b, v->st.drops);
	old = v->tx_rsp;
	v->tx_rsp = v->tx_cons;
	if (ring_push_responses(&v->tx->hdr, old, v->tx_rsp))
		CTR_ADD(v->st.tx_notify, 1);
	if (fatal != FATAL_NONE)
		be_vif_disable(be, v, fatal, "%s", detail);
	return b->nb_pkts;
}

/* ---- vif TX: the express lane ---------------------------------------------- */

/* After a failed op in the express lane: probe the source, then blame one side (cold). */
static __attribute__((noinline)) void
express_failures(struct be *be, struct be_vif *v, struct be_vif *d, unsigned int n)
{
	struct burst *b = be->b;

	CTR_ADD(be->st.ops_failed, 1);
	for (unsigned int i = 0; i < n; i++) {
		struct xpkt *x = &b->x[i];
		const struct gntdp_gnttab_copy *op = &b->ops[i];
		struct gntdp_gnttab_copy probe;

		x->st = op->status;
		if (x->st == GNTDP_GNTST_OKAY)
			continue;
		memset(&probe, 0, sizeof(probe));
		probe.source = op->source;
		probe.dest.u.gmfn = be->scratch_gfn;
		probe.dest.domid = GNTDP_DOMID_SELF;
		probe.len = 1;
		probe.flags = GNTDP_GNTCOPY_SOURCE_GREF;
		CTR_ADD(be->st.probes, 1);
		x->src_bad = gntdp_gnttab_op(b->ctx, be->domid, GNTDP_GNTTABOP_COPY, &probe, 1) != 0 ||
			     probe.status != GNTDP_GNTST_OKAY;
		if (x->src_bad) {
			CTR_ADD(v->st.drops[DROP_TX_BAD_GREF], 1);
			if (be->conf->bad_gref == BAD_GREF_DISABLE)
				be_vif_disable(be, v, FATAL_TX_BAD_GREF, "TX grant %u: %s",
					       op->source.u.ref, gntdp_gntst_name(x->st));
		} else {
			CTR_ADD(d->st.drops[DROP_RX_BAD_GREF], 1);
			if (be->conf->bad_gref == BAD_GREF_DISABLE)
				be_vif_disable(be, d, FATAL_RX_BAD_GREF, "RX grant %u: %s",
					       op->dest.u.ref, gntdp_gntst_name(x->st));
		}
	}
}

/*
 * The express lane: the phases of vif_tx_burst() fused into one pass for
 * the frames that make up a flow: one slot, no extras, its first page
 * already in the peek cache, the same 12 address bytes as the source's
 * cached route, which names one vif with room. The checks are the general
 * path's (slot copied out once, offset + size, runt); the first frame that
 * fails any of them ends the lane and the general path takes over from it,
 * in ring order. Returns the frames moved.
 */
static unsigned int
vif_tx_express(struct be *be, struct be_vif *v, unsigned int budget, bool *more)
{
	const struct route_cache *rc = &v->rc;
	struct burst *b = be->b;
	struct be_vif *d;
	enum nb_drop why;
	uint32_t cons = v->tx_cons, prod, limit, n, old;
	uint64_t bytes = 0;
	unsigned int fwd = 0;
	bool failed = false;

	*more = true;
	if (!rc->valid || rc->gen != be->sw_gen || rc->n != 1 || NB_MEMBER_IS_PORT(rc->members[0]) ||
	    be->conf->g2g != G2G_DIRECT)
		return 0;
	d = &be->vifs[rc->members[0]];
	/* A1: pairs with the frontend's R1 on req_prod. */
	prod = ring_load_acquire(&v->tx->hdr.req_prod);
	limit = prod - cons;
	if (limit == 0 || limit > RING_SIZE || rx_room(be, d, 1, &why) != ROOM_OK)
		return 0; /* empty, runaway (the general path disables) or no room */
	if (limit > budget)
		limit = budget;
	if (limit > d->rx_prod_seen - d->rx_cons)
		limit = d->rx_prod_seen - d->rx_cons;
	for (uint32_t k = 0; k < limit; k += TX_SLOTS_PER_LINE)
		rte_prefetch0(&v->tx->ring[GNTDP_NETIF_RING_SLOT(cons + k)]);
	b->ctx = v->ctx;
	for (n = 0; n < limit; n++) {
		union gntdp_netif_tx_sring_entry e;
		const struct gntdp_netif_tx_request *r = &e.req;
		struct peek_ent *pe;
		struct xpkt *x = &b->x[n];
		struct gntdp_gnttab_copy *op = &b->ops[n];
		uint16_t off;
		uint32_t idx;

		slot_read(&v->tx->ring[GNTDP_NETIF_RING_SLOT(cons + n)], &e);
		if (r->flags & ~(GNTDP_NETTXF_CSUM_BLANK | GNTDP_NETTXF_DATA_VALIDATED))
			break;
		if (r->size < NB_ETH_HLEN || (uint32_t)r->offset + r->size > PAGE)
			break;
		pe = &v->peek[r->gref & v->peek_mask];
		if (!pe->valid || pe->gref != r->gref || !hdr_equal(pe->va + r->offset, rc->hdr))
			break;
		off = be->conf->rx_stagger ? (uint16_t)((d->rx_cons & 15u) * 128u) : 0;
		if (off + r->size > PAGE)
			off = 0;
		idx = rx_reserve(d, 1);
		op->source.u.gmfn = r->gref;
		op->source.domid = v->domid;
		op->source.offset = r->offset;
		op->dest.u.gmfn = d->rx_shadow[GNTDP_NETIF_RING_SLOT(idx)].gref;
		op->dest.domid = d->domid;
		op->dest.offset = off;
		op->len = r->size;
		op->flags = GNTDP_GNTCOPY_SOURCE_GREF | GNTDP_GNTCOPY_DEST_GREF;
		op->status = GNTDP_GNTST_GENERAL_ERROR;
		x->tx_id = r->id;
		x->len = r->size;
		x->rx_idx = idx;
		x->off = off;
		x->rxflags = (r->flags & GNTDP_NETTXF_CSUM_BLANK)
				     ? GNTDP_NETRXF_CSUM_BLANK | GNTDP_NETRXF_DATA_VALIDATED
				     : (r->flags & GNTDP_NETTXF_DATA_VALIDATED ? GNTDP_NETRXF_DATA_VALIDATED : 0);
		x->st = GNTDP_GNTST_OKAY;
		x->src_bad = false;
		bytes += r->size;
	}
	if (n == 0)
		return 0;
	/* A whole lane run is this vif's burst for the iteration; else the general path goes on. */
	*more = n < limit;
	b->nb_ops = n;
	if (unlikely(exec_ops(be, b))) {
		express_failures(be, v, d, n);
		failed = true;
	}
	/* Complete: TX responses in ring order, RX responses in the requests' slots. */
	for (uint32_t i = 0; i < n; i++) {
		const struct xpkt *x = &b->x[i];
		bool ok = x->st == GNTDP_GNTST_OKAY;

		tx_respond(v, cons + i, x->tx_id,
			   x->src_bad ? GNTDP_NETIF_RSP_ERROR : GNTDP_NETIF_RSP_OKAY);
		rx_respond(d, x->rx_idx, x->off, x->rxflags,
			   ok ? (int16_t)x->len : (int16_t)GNTDP_NETIF_RSP_ERROR);
		fwd += ok;
	}
	if (unlikely(failed)) {
		bytes = 0;
		for (uint32_t i = 0; i < n; i++)
			bytes += b->x[i].st == GNTDP_GNTST_OKAY ? b->x[i].len : 0;
	}
	v->tx_cons = cons + n;
	old = v->tx_rsp;
	v->tx_rsp = v->tx_cons;
	if (ring_push_responses(&v->tx->hdr, old, v->tx_rsp))
		CTR_ADD(v->st.tx_notify, 1);
	old = d->rx_rsp;
	d->rx_rsp = d->rx_cons;
	if (ring_push_responses(&d->rx->hdr, old, d->rx_rsp))
		CTR_ADD(d->st.rx_notify, 1);
	/* Per lane run, not per frame. The TX side counts what it consumed. */
	CTR_ADD(v->st.tx_pkts, n);
	CTR_ADD(v->st.tx_slots, n);
	CTR_ADD(v->st.tx_ops, n);
	CTR_ADD(d->st.rx_ops, n);
	CTR_ADD(d->st.rx_pkts, fwd);
	CTR_ADD(d->st.rx_slots, fwd);
	CTR_ADD(d->st.rx_bytes, bytes);
	CTR_ADD(be->st.fwd_pkts, fwd);
	CTR_ADD(be->st.express_pkts, fwd);
	CTR_ADD(be->st.fwd_bytes, bytes);
	CTR_ADD(be->st.deliveries, fwd);
	{
		uint64_t txb = 0;

		for (uint32_t i = 0; i < n; i++)
			txb += b->x[i].len;
		CTR_ADD(v->st.tx_bytes, txb);
	}
	/* The flow's source address stays learned (refreshed at most once a second). */
	sw_touch(be, v->bridge, v->idx, rc->hdr);
	return n;
}

static unsigned int
vif_staged(struct be *be, struct be_vif *v)
{
	return deliver_mbufs(be, v->ctx, &v->rc, v->idx, v->bridge, &v->staged, v->st.drops,
			     &v->st.tx_ops, NULL);
}

/*
 * Express lane and general path in turn, in ring order, up to burst_max
 * frames: the general path takes the frames the lane leaves (one at a time
 * while the lane can go on, so a jumbo frame in a flow does not push the
 * rest of the burst off the lane).
 */
static unsigned int
vif_poll(struct be *be, struct be_vif *v)
{
	unsigned int done = 0, budget = be->burst_max, n;
	bool more = true;

	if (v->staged.n > 0) {
		done = vif_staged(be, v);
		if (v->staged.n > 0)
			return done; /* still waiting: the TX ring keeps its order behind them */
	}
	while (budget > 0 && v->state == VIF_UP) {
		n = vif_tx_express(be, v, budget, &more);
		done += n;
		budget -= n;
		if (!more || budget == 0 || v->state != VIF_UP)
			break;
		/* The lane stopped at a frame it does not take (or took none). */
		n = vif_tx_burst(be, v, n > 0 && v->rc.valid ? 1 : budget);
		done += n;
		if (n == 0 || n >= budget || v->staged.n > 0)
			break;
		budget -= n;
	}
	if (v->staged.n > 0)
		vif_staged(be, v);
	return done;
}

/* ---- The poller ------------------------------------------------------------------ */

/*
 * One call of the backend's poller on its worker: the worker has set the
 * clock of, aged and quiesced every backend context already (env->now).
 * Returns the packets handled (> 0: busy).
 */
int
be_poll(void *arg, const struct gntdp_dp_poll_env *env)
{
	struct be *be = arg;
	unsigned int done = 0, i;

	be->now = env->now;
	be->iter++;
	/* The CPU time of the thread that runs the backend (stats.c), published once. */
	if (unlikely(!be->cpu_clock_ok)) {
		if (pthread_getcpuclockid(pthread_self(), &be->cpu_clock) == 0)
			/* Release: the main lcore reads cpu_clock after seeing the flag. */
			__atomic_store_n(&be->cpu_clock_ok, true, __ATOMIC_RELEASE);
	}
	peek_age(be, env->now, env->hold_cycles);
	for (i = 0; i < be->nb_ports; i++)
		done += port_poll(be, &be->ports[i]);
	for (i = 0; i < be->nb_vifs; i++) {
		if (be->vifs[i].state == VIF_UP || be->vifs[i].staged.n > 0)
			done += vif_poll(be, &be->vifs[i]);
	}
	CTR_ADD(be->st.iters, 1);
	if (done > 0) {
		CTR_ADD(be->st.busy_iters, 1);
		CTR_ADD(be->st.busy_cycles, rte_rdtsc() - env->now);
	}
	return (int)done;
}
