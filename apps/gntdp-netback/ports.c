/* SPDX-License-Identifier: MIT */
/*
 * The mbuf pool in the backend domain's RAM, and the DPDK ports.
 *
 * Why the pool lives in domain RAM: GNTTABOP_copy moves bytes only between
 * grants and frames of the calling domain. With every mbuf data buffer in a
 * frame of the backend domain (like dom0's skb pages), wire packets go to
 * and from guests with one frame-mode grant copy per piece, with no bounce
 * through a staging area. The pool is populated over that RAM with
 * 2048-byte objects, two per 4 KiB frame, so a segment's data never crosses
 * a frame (the planner would split it if it did).
 *
 * Ports are DPDK vdevs created from their devargs (net_pcap, net_ring,
 * net_null, net_tap, ...) or existing ethdevs named by "name", one RX and
 * one TX queue each, fed from that pool.
 */
#include <errno.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "nb.h"

#define OBJ_STRIDE 2048u

uint32_t
be_ram_frames(const struct nb_conf *conf)
{
	/* Two objects per frame, a scratch frame for probes, slack for the first object. */
	return (conf->mbufs + 1) / 2 + 4;
}

/* Data room giving objects of exactly OBJ_STRIDE bytes (0 when impossible). */
static uint32_t
pick_room(uint32_t *total)
{
	struct rte_mempool_objsz sz;
	uint32_t room = OBJ_STRIDE - (uint32_t)sizeof(struct rte_mbuf);

	for (; room > RTE_PKTMBUF_HEADROOM + 1024; room -= 64) {
		uint32_t t = rte_mempool_calc_obj_size((uint32_t)sizeof(struct rte_mbuf) + room,
						       RTE_MEMPOOL_F_NO_SPREAD, &sz);

		if (t <= OBJ_STRIDE) {
			*total = t;
			return room;
		}
	}
	return 0;
}

int
pool_create(struct be *be)
{
	struct rte_pktmbuf_pool_private priv;
	uint32_t room, total = 0, n = be->conf->mbufs;
	size_t len = (size_t)(be->ram_frames - 2) * GNTDP_PAGE_SIZE;
	char name[RTE_MEMPOOL_NAMESIZE];
	int rc;

	room = pick_room(&total);
	if (room == 0)
		return -EINVAL;
	snprintf(name, sizeof(name), "nb_pool_%u", be->domid);
	be->mp = rte_mempool_create_empty(name, n, (uint32_t)sizeof(struct rte_mbuf) + room,
					  n >= 1024 ? 256 : 0,
					  sizeof(struct rte_pktmbuf_pool_private), (int)rte_socket_id(),
					  RTE_MEMPOOL_F_NO_SPREAD);
	if (be->mp == NULL)
		return -rte_errno;
	rc = rte_mempool_set_ops_byname(be->mp, rte_mbuf_best_mempool_ops(), NULL);
	if (rc != 0)
		goto err;
	memset(&priv, 0, sizeof(priv));
	priv.mbuf_data_room_size = (uint16_t)room;
	rte_pktmbuf_pool_init(be->mp, &priv);
	/*
	 * 4 KiB pages: populate_virt merges IOVA-contiguous runs, and objects
	 * never straddle a discontinuity. The last two RAM frames stay free:
	 * the scratch frame of the probes and a spare.
	 */
	rc = rte_mempool_populate_virt(be->mp, (char *)be->ram, len, GNTDP_PAGE_SIZE, NULL, NULL);
	if (rc < 0)
		goto err;
	if (be->mp->populated_size < n) {
		rc = -ENOMEM;
		goto err;
	}
	rte_mempool_obj_iter(be->mp, rte_pktmbuf_init, NULL);
	be->seg_room = room - RTE_PKTMBUF_HEADROOM;
	be->scratch_gfn = be->ram_frames - 1;
	return 0;
err:
	rte_mempool_free(be->mp);
	be->mp = NULL;
	return rc;
}

void
pool_destroy(struct be *be)
{
	rte_mempool_free(be->mp);
	be->mp = NULL;
}

static int
port_open(const struct port_conf *pc, char *name, size_t nlen, uint16_t *port_id)
{
	const char *comma = strchr(pc->devargs, ',');
	size_t l = comma != NULL ? (size_t)(comma - pc->devargs) : strlen(pc->devargs);
	int rc;

	if (l == 0 || l >= nlen)
		return -EINVAL;
	memcpy(name, pc->devargs, l);
	name[l] = '\0';
	/* An ethdev already there (EAL -a/--vdev) is used as is; otherwise create the vdev. */
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	rc = rte_eal_hotplug_add("vdev", name, comma != NULL ? comma + 1 : "");
	if (rc != 0)
		return rc < 0 ? rc : -rc;
	return rte_eth_dev_get_port_by_name(name, port_id);
}

int
port_setup(struct be *be, unsigned int idx, const struct port_conf *pc)
{
	struct be_port *p = &be->ports[idx];
	struct rte_eth_conf ec;
	struct rte_eth_dev_info info;
	int rc, socket;

	memset(p, 0, sizeof(*p));
	p->idx = (uint16_t)idx;
	p->bridge = (uint16_t)pc->bridge;
	p->max_frame = pc->mtu + NB_FRAME_OVERHEAD;
	p->ctx = be_ctx_new(be);
	if (p->ctx == NULL) {
		fprintf(stderr, "gntdp-netback: port%u '%s': no execution context left\n", idx,
			pc->devargs);
		return -ENOSPC;
	}
	rc = port_args_check(be->conf, idx, &p->in);
	if (rc != 0)
		return rc;
	rc = port_open(pc, p->name, sizeof(p->name), &p->port_id);
	if (rc == -EFAULT) {
		/* EAL's devargs parser found no bus driver for the name. */
		fprintf(stderr,
			"gntdp-netback: port%u '%s': unknown vdev: no DPDK driver takes the name '%s' "
			"(a driver name and a number: net_pcap0, net_ring0, net_null0, net_tap0, ...)\n",
			idx, pc->devargs, p->name);
		return rc;
	}
	if (rc != 0) {
		fprintf(stderr,
			"gntdp-netback: port%u '%s': the driver refused to create it: %s (its "
			"reason is in the DPDK log line above)\n",
			idx, pc->devargs, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0) {
		fprintf(stderr, "gntdp-netback: port%u %s: no device info: %s\n", idx, p->name,
			strerror(-rc));
		return rc;
	}
	memset(&ec, 0, sizeof(ec));
	/* Guests send up to 64 KiB - 1 in chains; the ports get chains when they can take them. */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		ec.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		ec.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	socket = rte_eth_dev_socket_id(p->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_configure(p->port_id, 1, 1, &ec);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(p->port_id, 0, (uint16_t)pc->rx_desc,
					    (unsigned int)socket, NULL, be->mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(p->port_id, 0, (uint16_t)pc->tx_desc,
					    (unsigned int)socket, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		fprintf(stderr, "gntdp-netback: port%u %s: setup failed: %s\n", idx, p->name,
			strerror(-rc));
		return rc;
	}
	p->started = true;
	/* A switch port sees every frame; PMDs without the notion may refuse, harmlessly. */
	(void)rte_eth_promiscuous_enable(p->port_id);
	if (idx >= be->nb_ports)
		be->nb_ports = idx + 1;
	sw_add_member(be, pc->bridge, NB_PORT_MEMBER(idx));
	return 0;
}

void
port_teardown(struct be *be, struct be_port *p)
{
	(void)be;
	for (; p->rxq.n > 0; p->rxq.n--)
		rte_pktmbuf_free(p->rxq.m[p->rxq.head++]);
	if (p->started) {
		(void)rte_eth_dev_stop(p->port_id);
		p->started = false;
	}
	if (p->name[0] != '\0') {
		/* Closing flushes pcap output files. */
		(void)rte_eth_dev_close(p->port_id);
		(void)rte_eal_hotplug_remove("vdev", p->name);
		p->name[0] = '\0';
	}
}
