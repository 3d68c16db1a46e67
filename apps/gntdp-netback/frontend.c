/* SPDX-License-Identifier: MIT */
/*
 * Emulated netfront guests: each is a domain of the world that owns its
 * vifs' TX and RX ring pages and its packet buffers in its own RAM frames,
 * grants them to the backend domain (rings and RX buffers writable, TX
 * buffers read-only) and drives the rings exactly as a guest driver does:
 * post TX requests (single and multi-slot with more_data, extra-info
 * slots), post RX requests (one page each), consume responses, honour
 * req_event / rsp_event with RING_PUSH_*_AND_CHECK_NOTIFY and
 * RING_FINAL_CHECK_FOR_RESPONSES, and count the notifications they would
 * send on an event channel.
 *
 * Buffers are persistent grants: each buffer frame is granted once at
 * creation and its ref reused for every packet (fixed pools, as the brief's
 * design allows), so the backend's grant cache keeps hitting. As a real
 * netfront's skb data, a TX buffer's data does not start at its page's
 * offset 0 but at its own staggered offset (nb_stagger(), `stagger`), and
 * free buffers are reused LIFO, so the backend's copies touch few cache
 * lines spread over all sets.
 *
 * Modes per vif: sink (count, optionally verify, repost), gen (generate
 * frames of configured sizes to a destination MAC, and sink), fwd (a bridge
 * guest: every frame received here leaves on vif fwd_to of the same guest,
 * zero-copy: the RX buffer's grant becomes the TX slot's grant).
 *
 * The whole struct fe is owned by one thread (the main lcore).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nb.h"
#include "ring.h"

#define RING_SIZE GNTDP_NETIF_RING_SIZE
#define PAGE GNTDP_PAGE_SIZE
/* Payload layout of generated frames: eth header, seq, source vif, length, pattern. */
#define GEN_SEQ_OFF 14
#define GEN_VIF_OFF 22
#define GEN_LEN_OFF 24
#define GEN_HDR_END 26
/* First-slot offsets of generated frames step through this many positions. */
#define GEN_OFF_STEPS 16

static inline uint8_t
pattern(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7u + i);
}

/*
 * A generator's TX pool holds a ring's worth of buffers, of which `depth`
 * are in flight at most: with the free lists as stacks (LIFO), the buffers
 * in use are the ones used last, so the working set is about `depth`
 * buffers, not the pool (a FIFO would walk through all of it).
 */
static unsigned int
vif_tx_bufs(const struct vif_conf *vc)
{
	return vc->mode == VIF_GEN ? RING_SIZE : 0;
}

uint32_t
fe_guest_frames(const struct nb_conf *conf, gntdp_domid_t guest)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < conf->nb_vifs; i++) {
		const struct vif_conf *vc = &conf->vifs[i];

		if (vc->used && vc->guest == guest)
			n += 2 + vc->rx_buffers + vif_tx_bufs(vc);
	}
	return n;
}

/* ---- Creation -------------------------------------------------------------- */

static int
guest_grow_table(struct gntdp_gnttab *gt, struct gntdp_gnttab_ctx *ctx, struct fe_guest *g,
		 uint32_t nr_frames)
{
	gntdp_xen_pfn_t frames[256];
	struct gntdp_gnttab_setup_table st = {
		.dom = GNTDP_DOMID_SELF,
		.nr_frames = nr_frames,
		.frame_list = frames,
	};
	int rc;

	if (nr_frames > NELEM(frames))
		return -E2BIG;
	/* What a guest does at boot: GNTTABOP_setup_table on itself. */
	rc = gntdp_gnttab_op(ctx, g->domid, GNTDP_GNTTABOP_SETUP_TABLE, &st, 1);
	if (rc != 0)
		return rc;
	if (st.status != GNTDP_GNTST_OKAY)
		return -ENOSPC;
	return gntdp_guest_table(gt, g->domid, &g->gnt, &g->nr_gnt);
}

/*
 * Grant refs of guest number @p gi start at a block of their own, aligned to
 * a multiple of REF_BLOCK, so that no two guests use the same ref numbers:
 * a direct-mapped grant cache keyed by ref then never has two guests' hot
 * grants competing for a slot by construction (before core commit 95592cf
 * such refs collided on every packet, 4.5% hits). Real guests allocate refs
 * as they like; this only keeps the benchmark independent of that.
 */
#define REF_BLOCK 1024u

static gntdp_grant_ref_t
guest_ref_base(unsigned int gi, uint32_t frames)
{
	uint32_t block = (frames + REF_BLOCK - 1) / REF_BLOCK * REF_BLOCK;

	return (gntdp_grant_ref_t)((gi + 1) * block);
}

static int
guest_create(struct fe *fe, struct gntdp_gnttab_ctx *ctx, struct fe_guest *g,
	     gntdp_domid_t domid, unsigned int gi)
{
	struct gntdp_domain_conf dc;
	uint32_t frames = fe_guest_frames(fe->conf, domid);
	uint32_t gframes;
	int rc;

	g->ref_base = guest_ref_base(gi, frames);
	gframes = (g->ref_base + frames + GNTDP_GRANT_ENTRIES_PER_FRAME_V1 - 1) /
		  GNTDP_GRANT_ENTRIES_PER_FRAME_V1;
	g->domid = domid;
	g->frames = frames;
	gntdp_domain_conf_init(&dc);
	dc.domid = domid;
	dc.nr_frames = frames;
	dc.max_grant_frames = gframes;
	dc.max_maptrack_frames = 0; /* frontends never map */
	dc.socket = -1;
	rc = gntdp_domain_create(fe->gt, &dc);
	if (rc != 0)
		return rc;
	rc = guest_grow_table(fe->gt, ctx, g, gframes);
	if (rc != 0)
		return rc;
	g->bufs = calloc(frames, sizeof(*g->bufs));
	return g->bufs == NULL ? -ENOMEM : 0;
}

/* Take the next frame of the guest's RAM and grant it to the backend. */
static int
guest_grant(struct fe *fe, struct fe_guest *g, uint32_t *next, bool readonly,
	    gntdp_grant_ref_t *ref, uint8_t **va)
{
	uint32_t gfn = *next;
	int rc;

	if (gfn >= g->frames)
		return -ENOSPC;
	*ref = g->ref_base + gfn;
	rc = gntdp_guest_grant_access(&g->gnt[*ref], fe->backend, gfn, readonly);
	if (rc != 0)
		return rc;
	*va = gntdp_domain_frame(fe->gt, g->domid, gfn);
	(*next)++;
	return *va != NULL ? 0 : -EFAULT;
}

static void
write_eth_header(uint8_t *p, const uint8_t *dst, const uint8_t *src)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = NB_ETHERTYPE >> 8;
	p[13] = NB_ETHERTYPE & 0xff;
}

static int
vif_create(struct fe *fe, struct fe_vif *v, struct fe_guest *g, uint32_t *next)
{
	const struct vif_conf *vc = v->vc;
	unsigned int ntx = vif_tx_bufs(vc), nrx = vc->rx_buffers, i;
	uint8_t *va;
	int rc;

	v->g = g;
	rc = guest_grant(fe, g, next, false, &v->tx_ring_ref, &va);
	if (rc != 0)
		return rc;
	v->tx = (struct gntdp_netif_tx_sring *)(void *)va;
	rc = guest_grant(fe, g, next, false, &v->rx_ring_ref, &va);
	if (rc != 0)
		return rc;
	v->rx = (struct gntdp_netif_rx_sring *)(void *)va;
	ring_init_shared(&v->tx->hdr);
	ring_init_shared(&v->rx->hdr);
	v->tx_free = calloc(ntx + 1, sizeof(uint16_t));
	v->rx_free = calloc(nrx + 1, sizeof(uint16_t));
	if (v->tx_free == NULL || v->rx_free == NULL)
		return -ENOMEM;
	/* Buffer ids are indexes into the guest's buffer table: unique among in-flight slots. */
	for (i = 0; i < nrx + ntx; i++) {
		uint32_t id = *next;
		struct fe_buf *b = &g->bufs[id];
		bool rx = i < nrx;

		if (id > UINT16_MAX)
			return -E2BIG;
		rc = guest_grant(fe, g, next, !rx, &b->gref, &b->va);
		if (rc != 0)
			return rc;
		b->home = v->idx;
		b->home_vif = v;
		b->is_rx = rx;
		b->where = FB_FREE;
		/* RX offsets are the backend's to choose (the RX response carries them). */
		b->off = !rx && vc->stagger ? nb_stagger(b->gref, 0) : 0;
		if (rx)
			v->rx_free[v->n_rx_free++] = (uint16_t)id;
		else
			v->tx_free[v->n_tx_free++] = (uint16_t)id;
	}
	g->nb_bufs = *next;
	v->n_rx_bufs = nrx;
	v->n_tx_bufs = ntx;
	return 0;
}

/* Frame headers written once into every TX buffer, at every first-slot offset (no verify). */
static void
vif_prefill(struct fe_vif *v)
{
	const struct vif_conf *vc = v->vc;

	for (unsigned int i = 0; i < v->n_tx_free; i++) {
		uint8_t *p = v->g->bufs[v->tx_free[i]].va;

		memset(p, 0x5a, PAGE);
		for (unsigned int s = 0; s < (vc->tx_offset ? GEN_OFF_STEPS : 1); s++)
			write_eth_header(p + s * vc->tx_offset, v->dst, vc->mac);
		write_eth_header(p + v->g->bufs[v->tx_free[i]].off, v->dst, vc->mac);
	}
}

int
fe_create(struct fe *fe, struct gntdp_gnttab *gt, const struct nb_conf *conf,
	  gntdp_domid_t backend)
{
	struct gntdp_gnttab_ctx *ctx;
	uint32_t next[NB_MAX_VIFS];
	int rc;

	memset(fe, 0, sizeof(*fe));
	fe->gt = gt;
	fe->conf = conf;
	fe->backend = backend;
	rc = gntdp_gnttab_ctx_create(gt, NULL, &ctx);
	if (rc != 0)
		return rc;
	for (unsigned int i = 0; i < conf->nb_vifs && rc == 0; i++) {
		const struct vif_conf *vc = &conf->vifs[i];
		struct fe_vif *v = &fe->vifs[i];
		unsigned int gi;

		v->vc = vc;
		v->fe = fe;
		v->idx = (uint16_t)i;
		fe->nb_vifs = i + 1;
		for (gi = 0; gi < fe->nb_guests; gi++) {
			if (fe->guests[gi].domid == vc->guest)
				break;
		}
		if (gi == fe->nb_guests) {
			next[gi] = 0;
			rc = guest_create(fe, ctx, &fe->guests[gi], vc->guest, gi);
			fe->nb_guests++;
			if (rc != 0)
				break;
		}
		rc = vif_create(fe, v, &fe->guests[gi], &next[gi]);
	}
	gntdp_gnttab_ctx_destroy(ctx);
	if (rc != 0)
		return rc;
	for (unsigned int i = 0; i < fe->nb_vifs; i++) {
		struct fe_vif *v = &fe->vifs[i];
		const struct vif_conf *vc = v->vc;

		if (vc->mode == VIF_FWD)
			v->fwd_out = &fe->vifs[vc->fwd_to];
		memcpy(v->dst, vc->dst_vif >= 0 ? conf->vifs[vc->dst_vif].mac : vc->dst, 6);
		if (vc->mode == VIF_GEN && !vc->verify)
			vif_prefill(v);
	}
	return 0;
}

void
fe_destroy(struct fe *fe)
{
	for (unsigned int i = 0; i < fe->nb_vifs; i++) {
		free(fe->vifs[i].tx_free);
		free(fe->vifs[i].rx_free);
		fe->vifs[i].tx_free = NULL;
		fe->vifs[i].rx_free = NULL;
	}
	/* End access as a guest does at shutdown; the backend released everything first. */
	for (unsigned int g = 0; g < fe->nb_guests; g++) {
		struct fe_guest *gu = &fe->guests[g];

		for (uint32_t r = gu->ref_base;
		     gu->gnt != NULL && r < gu->ref_base + gu->frames && r < gu->nr_gnt; r++)
			(void)gntdp_guest_end_access(&gu->gnt[r]);
		free(gu->bufs);
		gu->bufs = NULL;
	}
}

/* ---- Buffers ---------------------------------------------------------------- */

/*
 * A buffer's trip is over: back to the free list of the vif that owns it.
 * The free lists are stacks: the next buffer taken is the one released
 * last, still warm in the backend's cache (LIFO; tests/netback
 * buffers_lifo_staggered checks it).
 */
static void
buf_release(struct fe *fe, struct fe_guest *g, uint16_t id)
{
	struct fe_buf *b = &g->bufs[id];
	struct fe_vif *home = b->home_vif;

	(void)fe;
	b->where = FB_FREE;
	if (b->is_rx)
		home->rx_free[home->n_rx_free++] = id;
	else
		home->tx_free[home->n_tx_free++] = id;
}

/* ---- TX responses -------------------------------------------------------------- */

static unsigned int
tx_responses(struct fe *fe, struct fe_vif *v)
{
	/* A1: pairs with the backend's R1 on rsp_prod. */
	uint32_t prod = ring_load_acquire(&v->tx->hdr.rsp_prod), cons = v->tx_cons;
	unsigned int n, nok = 0, nerr = 0, nnull = 0, nbad = 0;

	if (prod == cons) {
		prod = ring_final_check_responses(&v->tx->hdr, cons);
		if (prod == cons)
			return 0;
	}
	/* The backend answers only what was posted: a frontend checks that too. */
	if ((uint32_t)(prod - cons) > (uint32_t)(v->tx_prod - cons)) {
		CTR_ADD(v->st.tx_rsp_bad, 1);
		return 0;
	}
	for (n = 0; cons != prod; cons++, n++) {
		struct gntdp_netif_tx_response r = v->tx->ring[GNTDP_NETIF_RING_SLOT(cons)].rsp;

		if (r.status == GNTDP_NETIF_RSP_NULL) {
			nnull++;
			continue;
		}
		if (r.status == GNTDP_NETIF_RSP_OKAY)
			nok++;
		else
			nerr++;
		if (r.id >= v->g->nb_bufs || v->g->bufs[r.id].where != FB_TX) {
			nbad++;
			continue;
		}
		v->tx_inflight_bytes -= v->g->bufs[r.id].tx_len;
		v->g->bufs[r.id].tx_len = 0;
		buf_release(fe, v->g, r.id);
	}
	/* Counters once per pass. */
	CTR_ADD(v->st.tx_rsp_ok, nok);
	if (unlikely(nnull + nerr + nbad > 0)) {
		CTR_ADD(v->st.tx_rsp_null, nnull);
		CTR_ADD(v->st.tx_rsp_err, nerr);
		CTR_ADD(v->st.tx_rsp_bad, nbad);
	}
	v->tx_cons = cons;
	v->tx_inflight -= n;
	return n;
}

/* ---- RX ------------------------------------------------------------------------ */

static void
rx_verify(struct fe_vif *v, uint32_t len)
{
	const struct fe_slot *s = v->rxp;
	uint8_t hdr[GEN_HDR_END];
	uint32_t pos = 0, k = 0, in = 0;
	uint64_t seq;
	uint16_t src, flen;
	bool ok = true;

	if (len < GEN_HDR_END)
		return;
	/* Header bytes may span slots when a frame came in small pieces. */
	for (uint32_t i = 0; i < GEN_HDR_END; i++) {
		while (in >= s[k].len) {
			k++;
			in = 0;
		}
		hdr[i] = v->g->bufs[s[k].buf].va[s[k].off + in++];
	}
	if (hdr[12] != (NB_ETHERTYPE >> 8) || hdr[13] != (NB_ETHERTYPE & 0xff))
		return; /* not a generated frame: only counted */
	memcpy(&seq, hdr + GEN_SEQ_OFF, 8);
	memcpy(&src, hdr + GEN_VIF_OFF, 2);
	memcpy(&flen, hdr + GEN_LEN_OFF, 2);
	if (flen != len || src >= NB_MAX_VIFS) {
		CTR_ADD(v->st.verify_bad, 1);
		return;
	}
	pos = GEN_HDR_END;
	for (; k < v->rxp_n && ok; k++, in = 0) {
		const uint8_t *p = v->g->bufs[s[k].buf].va + s[k].off;

		for (; in < s[k].len; in++, pos++) {
			if (p[in] != pattern(seq, pos)) {
				ok = false;
				break;
			}
		}
	}
	if (!ok) {
		CTR_ADD(v->st.verify_bad, 1);
		return;
	}
	/* Per source, frames arrive in the order they were sent (seq starts at 1). */
	if (seq <= v->last_seq[src])
		CTR_ADD(v->st.order_bad, 1);
	v->last_seq[src] = seq;
	CTR_ADD(v->st.verify_ok, 1);
}

/* Queue a received frame's slots on the forwarding vif (fwd mode). */
static bool
rx_forward(struct fe_vif *v, uint32_t len)
{
	struct fe_vif *o = v->fwd_out;

	if (o->fwdq_n + v->rxp_n > FE_FWDQ)
		return false;
	for (unsigned int k = 0; k < v->rxp_n; k++) {
		struct fe_slot s = v->rxp[k];

		/* netif TX: the first slot's size is the whole frame. */
		if (k == 0)
			s.len = (uint16_t)len;
		s.flags = k + 1 < v->rxp_n ? GNTDP_NETTXF_MORE_DATA : 0;
		o->fwdq[(o->fwdq_head + o->fwdq_n++) % FE_FWDQ] = s;
	}
	CTR_ADD(v->st.fwd_pkts, 1);
	return true;
}

static void
rx_frame_done(struct fe *fe, struct fe_vif *v)
{
	uint32_t len = 0;

	for (unsigned int k = 0; k < v->rxp_n; k++)
		len += v->rxp[k].len;
	if (v->rxp_err) {
		CTR_ADD(v->st.rx_err, 1);
	} else {
		CTR_ADD(v->st.rx_pkts, 1);
		CTR_ADD(v->st.rx_bytes, len);
		if (v->vc->mode == VIF_FWD && len > 0 && rx_forward(v, len))
			goto out; /* the buffers travel on; released by the TX response */
		if (v->vc->verify)
			rx_verify(v, len);
	}
	for (unsigned int k = 0; k < v->rxp_n; k++)
		buf_release(fe, v->g, v->rxp[k].buf);
out:
	v->rxp_n = 0;
	v->rxp_err = false;
}

static unsigned int
rx_responses(struct fe *fe, struct fe_vif *v)
{
	/* A1: pairs with the backend's R1 on the RX rsp_prod. */
	uint32_t prod = ring_load_acquire(&v->rx->hdr.rsp_prod), cons = v->rx_cons;
	bool fast = v->vc->mode != VIF_FWD && !v->vc->verify;
	uint64_t pkts = 0, bytes = 0;
	unsigned int n;

	if (prod == cons) {
		prod = ring_final_check_responses(&v->rx->hdr, cons);
		if (prod == cons)
			return 0;
	}
	if ((uint32_t)(prod - cons) > (uint32_t)(v->rx_prod - cons)) {
		CTR_ADD(v->st.rx_err, 1);
		return 0;
	}
	for (n = 0; cons != prod; cons++, n++) {
		struct gntdp_netif_rx_response r = v->rx->ring[GNTDP_NETIF_RING_SLOT(cons)].rsp;
		struct fe_buf *b;

		if (r.id >= v->g->nb_bufs || (b = &v->g->bufs[r.id])->where != FB_RX ||
		    b->home != v->idx) {
			v->rxp_err = true;
			continue;
		}
		/* A whole frame in one slot, only counted: straight back to the free list. */
		if (likely(fast && v->rxp_n == 0 && !v->rxp_extra &&
			   !(r.flags & (GNTDP_NETRXF_MORE_DATA | GNTDP_NETRXF_EXTRA_INFO)) &&
			   r.status >= 0 && (uint32_t)r.offset + (uint32_t)r.status <= PAGE)) {
			b->where = FB_FREE;
			v->rx_free[v->n_rx_free++] = r.id;
			pkts++;
			bytes += (uint32_t)r.status;
			continue;
		}
		if (v->rxp_extra) {
			/* An extra-info slot: its page was not used, repost it. */
			v->rxp_extra = false;
			buf_release(fe, v->g, r.id);
			continue;
		}
		b->where = FB_TX; /* held by the frame being assembled (or forwarded) */
		if (r.status < 0 || (uint32_t)r.offset + (uint32_t)r.status > PAGE ||
		    v->rxp_n == NELEM(v->rxp)) {
			v->rxp_err = true;
			r.status = 0;
		}
		if (v->rxp_n < NELEM(v->rxp))
			v->rxp[v->rxp_n++] = (struct fe_slot){ .buf = r.id, .off = r.offset,
							       .len = (uint16_t)r.status };
		else
			buf_release(fe, v->g, r.id);
		if (r.flags & GNTDP_NETRXF_EXTRA_INFO)
			v->rxp_extra = true;
		if (!(r.flags & GNTDP_NETRXF_MORE_DATA))
			rx_frame_done(fe, v);
	}
	CTR_ADD(v->st.rx_slots, n);
	CTR_ADD(v->st.rx_pkts, pkts);
	CTR_ADD(v->st.rx_bytes, bytes);
	v->rx_cons = cons;
	return n;
}

static unsigned int
rx_post(struct fe_vif *v)
{
	uint32_t old = v->rx_prod;
	unsigned int n = 0;

	while (v->n_rx_free > 0 && v->rx_prod - v->rx_cons < RING_SIZE) {
		uint16_t id = v->rx_free[--v->n_rx_free];
		struct gntdp_netif_rx_request r = { .id = id, .gref = v->g->bufs[id].gref };

		v->g->bufs[id].where = FB_RX;
		v->rx->ring[GNTDP_NETIF_RING_SLOT(v->rx_prod)].req = r;
		v->rx_prod++;
		n++;
	}
	if (n > 0 && ring_push_requests(&v->rx->hdr, old, v->rx_prod))
		CTR_ADD(v->st.rx_kick, 1);
	return n;
}

/* ---- TX production ------------------------------------------------------------- */

static inline void
tx_put(struct fe_vif *v, gntdp_grant_ref_t gref, uint16_t off, uint16_t flags, uint16_t id,
       uint16_t size)
{
	struct gntdp_netif_tx_request r = {
		.gref = gref, .offset = off, .flags = flags, .id = id, .size = size,
	};

	v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_prod++)].req = r;
}

static inline void
tx_put_extra(struct fe_vif *v, const struct gntdp_netif_extra_info *x)
{
	union gntdp_netif_tx_sring_entry *e = &v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_prod++)];

	memcpy(e, x, sizeof(*x));
}

/* Frames queued by the receiving vif of a bridge guest, in order, whole frames only. */
static unsigned int
tx_forward(struct fe_vif *v)
{
	unsigned int n = 0;

	while (v->fwdq_n > 0) {
		unsigned int k = 0;

		/* Find the frame's end. */
		while (k < v->fwdq_n &&
		       (v->fwdq[(v->fwdq_head + k) % FE_FWDQ].flags & GNTDP_NETTXF_MORE_DATA))
			k++;
		if (k == v->fwdq_n)
			break; /* incomplete (cannot happen: frames are queued whole) */
		k++;
		if (RING_SIZE - (v->tx_prod - v->tx_cons) < k) {
			if (!v->tx_blocked)
				CTR_ADD(v->st.tx_full, 1);
			v->tx_blocked = true;
			break;
		}
		v->tx_blocked = false;
		for (unsigned int i = 0; i < k; i++) {
			const struct fe_slot *s = &v->fwdq[(v->fwdq_head + i) % FE_FWDQ];

			v->g->bufs[s->buf].where = FB_TX;
			tx_put(v, v->g->bufs[s->buf].gref, s->off, s->flags, s->buf, s->len);
			if (i == 0)
				CTR_ADD(v->st.tx_bytes, s->len);
		}
		v->fwdq_head = (v->fwdq_head + k) % FE_FWDQ;
		v->fwdq_n -= k;
		v->tx_inflight += k;
		CTR_ADD(v->st.tx_pkts, 1);
		CTR_ADD(v->st.tx_slots, k);
		n++;
	}
	return n;
}

/* Write the generated frame's bytes into its slots (verify mode). */
static void
gen_fill(struct fe_vif *v, const uint16_t *ids, const uint16_t *offs, const uint16_t *lens,
	 unsigned int nd, uint32_t len, uint64_t seq)
{
	uint8_t hdr[GEN_HDR_END];
	uint16_t vi = v->idx, l16 = (uint16_t)len;
	uint32_t pos = 0;

	write_eth_header(hdr, v->dst, v->vc->mac);
	memcpy(hdr + GEN_SEQ_OFF, &seq, 8);
	memcpy(hdr + GEN_VIF_OFF, &vi, 2);
	memcpy(hdr + GEN_LEN_OFF, &l16, 2);
	for (unsigned int k = 0; k < nd; k++) {
		uint8_t *p = v->g->bufs[ids[k]].va + offs[k];

		for (uint32_t i = 0; i < lens[k]; i++, pos++)
			p[i] = pos < GEN_HDR_END ? hdr[pos] : pattern(seq, pos);
	}
}

/*
 * Whether @p n more frames of @p len bytes may go: within inflight_bytes
 * (a byte bound on what is in flight, as Linux's byte queue limits: small
 * frames keep the ring deep, large ones keep the buffers few and cached),
 * or the first frame when nothing is in flight, so any size can go.
 */
static inline bool
tx_bytes_room(const struct fe_vif *v, uint32_t len, unsigned int n)
{
	uint32_t lim = v->vc->inflight_bytes;

	return lim == 0 || v->tx_inflight_bytes + (uint64_t)n * len <= lim ||
	       (v->tx_inflight == 0 && n == 1);
}

/*
 * The first slot's offset of the next frame, whose first slot holds @p len
 * bytes: the tx_offset step when one is set (the tests' offset sweep),
 * else the buffer on top of the free stack's own offset; 0 when it would
 * cross the page.
 */
static uint16_t
tx_first_off(const struct fe_vif *v, uint32_t len)
{
	const struct vif_conf *vc = v->vc;
	uint32_t off = 0;

	if (vc->tx_offset != 0)
		off = vc->tx_offset * (v->off_i % GEN_OFF_STEPS);
	else if (v->n_tx_free > 0)
		off = v->g->bufs[v->tx_free[v->n_tx_free - 1]].off;
	return off + len <= PAGE ? (uint16_t)off : 0;
}

/* One generated frame; false when the ring or the buffers are short. */
static bool
gen_one(struct fe_vif *v)
{
	const struct vif_conf *vc = v->vc;
	uint32_t len = vc->sizes[v->size_i];
	uint16_t ids[NB_SLOTS_FATAL], offs[NB_SLOTS_FATAL], lens[NB_SLOTS_FATAL];
	uint16_t off = tx_first_off(v, len < vc->slot_size ? len : vc->slot_size);
	unsigned int nd = 0, nx = 0, k;
	bool mcast = vc->extra == EXTRA_MCAST && (v->seq + 1) % 16 == 0;
	struct gntdp_netif_extra_info x;
	uint32_t left = len;

	/* Split into slots: slot_size bytes at most, never past the page. */
	do {
		uint16_t o = nd == 0 ? off : 0;
		uint32_t l = PAGE - o < vc->slot_size ? PAGE - o : vc->slot_size;

		if (l > left)
			l = left;
		if (nd == NB_SLOTS_FATAL)
			return false;
		offs[nd] = o;
		lens[nd] = (uint16_t)l;
		nd++;
		left -= l;
	} while (left > 0);
	if (vc->extra != EXTRA_NONE && (vc->extra != EXTRA_MCAST || mcast))
		nx = 1;
	if (v->n_tx_free < nd || RING_SIZE - (v->tx_prod - v->tx_cons) < nd + nx ||
	    v->tx_inflight + nd + nx > vc->depth || !tx_bytes_room(v, len, 1)) {
		if (!v->tx_blocked)
			CTR_ADD(v->st.tx_full, 1);
		v->tx_blocked = true;
		return false;
	}
	v->tx_blocked = false;
	for (k = 0; k < nd; k++) {
		ids[k] = v->tx_free[--v->n_tx_free];
		v->g->bufs[ids[k]].where = FB_TX;
	}
	v->seq++;
	v->g->bufs[ids[0]].tx_len = (uint16_t)len;
	v->tx_inflight_bytes += len;
	if (vc->verify)
		gen_fill(v, ids, offs, lens, nd, len, v->seq);
	tx_put(v, v->g->bufs[ids[0]].gref, offs[0],
	       (uint16_t)((nd > 1 ? GNTDP_NETTXF_MORE_DATA : 0) | (nx ? GNTDP_NETTXF_EXTRA_INFO : 0)),
	       ids[0], (uint16_t)len);
	if (nx) {
		memset(&x, 0, sizeof(x));
		if (vc->extra == EXTRA_GSO) {
			x.type = GNTDP_NETIF_EXTRA_TYPE_GSO;
			x.u.gso.size = 1448;
			x.u.gso.type = GNTDP_NETIF_GSO_TYPE_TCPV4;
		} else if (vc->extra == EXTRA_HASH) {
			x.type = GNTDP_NETIF_EXTRA_TYPE_HASH;
			x.u.hash.value[0] = (uint8_t)v->seq;
		} else {
			x.type = GNTDP_NETIF_EXTRA_TYPE_MCAST_ADD;
			x.u.mcast.addr[0] = 0x01;
			x.u.mcast.addr[5] = (uint8_t)v->seq;
		}
		tx_put_extra(v, &x);
	}
	for (k = 1; k < nd; k++)
		tx_put(v, v->g->bufs[ids[k]].gref, offs[k],
		       (uint16_t)(k + 1 < nd ? GNTDP_NETTXF_MORE_DATA : 0), ids[k], lens[k]);
	v->tx_inflight += nd + nx;
	v->sent++;
	v->size_i = (v->size_i + 1) % vc->nb_sizes;
	v->off_i++;
	CTR_ADD(v->st.tx_pkts, 1);
	CTR_ADD(v->st.tx_bytes, len);
	CTR_ADD(v->st.tx_slots, nd + nx);
	return true;
}

/*
 * Single-slot frames without extras or verification: the buffers were
 * prefilled, so a frame is a request and a buffer. Returns frames posted.
 */
static unsigned int
gen_fast(struct fe_vif *v)
{
	const struct vif_conf *vc = v->vc;
	uint32_t len = vc->sizes[0];
	unsigned int n = 0, room = RING_SIZE - (v->tx_prod - v->tx_cons);

	if (vc->depth - v->tx_inflight < room)
		room = vc->depth - v->tx_inflight;
	if (v->n_tx_free < room)
		room = v->n_tx_free;
	if (vc->inflight_bytes != 0) {
		uint32_t lim = vc->inflight_bytes, used = v->tx_inflight_bytes;
		unsigned int can = used < lim ? (lim - used) / len : 0;

		if (can == 0 && v->tx_inflight == 0)
			can = 1; /* any size goes when nothing is in flight */
		if (can < room)
			room = can;
	}
	if (vc->count > 0 && vc->count - v->sent < room)
		room = (unsigned int)(vc->count - v->sent);
	for (; n < room; n++) {
		uint16_t off = tx_first_off(v, len);
		uint16_t id = v->tx_free[--v->n_tx_free];

		v->off_i++;
		v->g->bufs[id].where = FB_TX;
		v->g->bufs[id].tx_len = (uint16_t)len;
		tx_put(v, v->g->bufs[id].gref, off, 0, id, (uint16_t)len);
	}
	/* Nothing could go although frames are due: the ring or the buffers are full. */
	if (n == 0 && (vc->count == 0 || v->sent < vc->count)) {
		if (!v->tx_blocked)
			CTR_ADD(v->st.tx_full, 1);
		v->tx_blocked = true;
	} else {
		v->tx_blocked = false;
	}
	v->seq += n;
	v->sent += n;
	v->tx_inflight += n;
	v->tx_inflight_bytes += n * len;
	CTR_ADD(v->st.tx_pkts, n);
	CTR_ADD(v->st.tx_bytes, (uint64_t)n * len);
	CTR_ADD(v->st.tx_slots, n);
	return n;
}

static unsigned int
tx_produce(struct fe_vif *v)
{
	const struct vif_conf *vc = v->vc;
	uint32_t old = v->tx_prod;
	unsigned int n = 0;

	if (vc->mode == VIF_FWD) {
		n = tx_forward(v);
	} else if (vc->mode == VIF_GEN && vc->nb_sizes == 1 && vc->extra == EXTRA_NONE &&
		   !vc->verify && vc->sizes[0] <= vc->slot_size && vc->sizes[0] <= PAGE) {
		n = gen_fast(v);
	} else if (vc->mode == VIF_GEN) {
		while ((vc->count == 0 || v->sent < vc->count) && gen_one(v))
			n++;
	}
	if (n > 0 && ring_push_requests(&v->tx->hdr, old, v->tx_prod))
		CTR_ADD(v->st.tx_kick, 1);
	return n;
}

/* ---- Poll ---------------------------------------------------------------------- */

unsigned int
fe_vif_poll(struct fe_vif *v)
{
	struct fe *fe = v->fe;
	unsigned int n;

	n = tx_responses(fe, v);
	n += rx_responses(fe, v);
	n += rx_post(v);
	n += tx_produce(v);
	return n;
}

unsigned int
fe_poll(struct fe *fe)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fe->nb_vifs; i++)
		n += fe_vif_poll(&fe->vifs[i]);
	/* fwd queues filled by another vif's RX in this pass leave now. */
	for (unsigned int i = 0; i < fe->nb_vifs; i++) {
		if (fe->vifs[i].fwdq_n > 0)
			n += tx_produce(&fe->vifs[i]);
	}
	return n;
}

bool
fe_gen_done(const struct fe *fe)
{
	for (unsigned int i = 0; i < fe->nb_vifs; i++) {
		const struct fe_vif *v = &fe->vifs[i];

		if (v->vc->mode != VIF_GEN)
			continue;
		if (v->vc->count == 0 || v->sent < v->vc->count || v->tx_inflight > 0)
			return false;
	}
	return true;
}
