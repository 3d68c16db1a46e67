/* SPDX-License-Identifier: MIT */
/*
 * mbufs and DPDK ports: backend-RAM fragments of mbufs, mbuf chains from
 * the pool, bouncing foreign mbufs, the per-port TX queues of a burst, and
 * the mbuf sources (wire packets from a port, staged guest packets).
 */
#include "be_internal.h"

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
unsigned int
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
struct rte_mbuf *
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

/* Queue mbuf @p m for port destination @p port (one reference each). */
static inline void
port_queue(struct burst *b, unsigned int port, struct rte_mbuf *m)
{
	b->port_tx[port][b->port_tx_n[port]++] = m;
}

void
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
unsigned int
to_ports(struct burst *b, struct pkt *p)
{
	unsigned int nport = 0;

	for (unsigned int k = 0; k < p->nb_dests; k++)
		nport += NB_MEMBER_IS_PORT(b->dests[p->dest_first + k].member);
	if (nport == 0)
		return 0;
	/* Every segment: a port frees the chain segment by segment, each by its own count. */
	if (nport > 1)
		rte_pktmbuf_refcnt_update(p->m, (int16_t)(nport - 1));
	for (unsigned int k = 0; k < p->nb_dests; k++) {
		const struct dest *ds = &b->dests[p->dest_first + k];

		if (NB_MEMBER_IS_PORT(ds->member))
			port_queue(b, ds->member - NB_MAX_VIFS, p->m);
	}
	p->m = NULL;
	return nport;
}

/* ---- mbuf sources: wire packets and staged guest packets --------------------- */

/*
 * Deliver packets waiting in @p q that entered at member @p src, in order,
 * until one must wait for RX room. Returns the number taken off the queue.
 */
unsigned int
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
		/* A guest's staged GSO frame (tx_stage marks it); never a wire frame. */
		p->gso = !NB_MEMBER_IS_PORT(src) && p->m->tso_segsz != 0;
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

/*
 * Whether mbuf chain @p m from a port is consistent before anything reads
 * it: nb_segs segments, each inside its buffer, whose data lengths add up
 * to pkt_len, and pkt_len no larger than the netif protocol carries. A PMD
 * may hand over less than it says (DPDK 22.11's net_pcap keeps the low 16
 * bits of a 70,000-byte record's length in data_len, the full length in
 * pkt_len).
 */
static bool
mbuf_sane(const struct rte_mbuf *m)
{
	uint32_t sum = 0;
	unsigned int segs = 0;

	if (m->pkt_len > GNTDP_NETIF_MAX_TX_SIZE || m->nb_segs == 0 ||
	    m->nb_segs > NB_MBUF_SEGS_MAX)
		return false;
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		if (++segs > m->nb_segs || (uint32_t)s->data_off + s->data_len > s->buf_len)
			return false;
		sum += s->data_len;
	}
	return segs == m->nb_segs && sum == m->pkt_len;
}

unsigned int
port_poll(struct be *be, struct be_port *pt)
{
	struct pend_q *q = &pt->rxq;

	if (q->n == 0) {
		uint16_t n = rte_eth_rx_burst(pt->port_id, 0, q->m, (uint16_t)be->burst_max), k = 0;
		uint64_t bytes = 0, bad = 0;

		if (n == 0)
			return 0;
		/* Validate every mbuf first: a bad one is freed and counted, never forwarded. */
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = q->m[i];

			if (unlikely(!mbuf_sane(m))) {
				bad++;
				rte_pktmbuf_free(m);
				continue;
			}
			if (unlikely(m->pkt_len > pt->max_frame)) {
				CTR_ADD(pt->st.drops[DROP_TOO_BIG], 1);
				rte_pktmbuf_free(m);
				continue;
			}
			bytes += m->pkt_len;
			q->m[k++] = m;
		}
		CTR_ADD(pt->st.rx_pkts, n);
		CTR_ADD(pt->st.rx_bytes, bytes);
		if (unlikely(bad > 0))
			CTR_ADD(pt->st.drops[DROP_BAD_MBUF], bad);
		if (k == 0)
			return n;
		q->head = 0;
		q->n = k;
	} else {
		CTR_ADD(pt->st.pending, 1);
	}
	return deliver_mbufs(be, pt->ctx, &pt->rc, NB_PORT_MEMBER(pt->idx), pt->bridge, q,
			     pt->st.drops, &pt->st.rx_ops, &pt->st.bounced);
}
