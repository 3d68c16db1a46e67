/* SPDX-License-Identifier: MIT */
/*
 * ABI conformance of include/gntdp/netif.h against Xen's own io/netif.h and
 * io/ring.h as Debian's libxen-dev installs them: every struct the same
 * size, every field at the same offset with the same size and signedness,
 * every constant the same value, the ring the same number of slots
 * (__CONST_RING_SIZE) with the slots at the same place in the page. A
 * frontend built with Xen's headers writes what gntdp-netback reads.
 *
 * Exit: 0 all equal, 1 a mismatch, 77 libxen-dev's headers are not installed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gntdp/netif.h>

#ifdef HAVE_XEN_NETIF_H

#include <xen/xen.h>
#include <xen/io/netif.h>

/* clang-format off */
#define SIGNEDNESS(e)                                                                              \
	_Generic((e), signed char: 1, short: 1, int: 1, long: 1, long long: 1, unsigned char: 0,   \
		 unsigned short: 0, unsigned int: 0, unsigned long: 0, unsigned long long: 0,      \
		 default: -1)
/* clang-format on */

struct row {
	const char *name;
	size_t xo, go, xs, gs;
	int xsig, gsig;
};

#define TYPE(xt, gt) {#gt, 0, 0, sizeof(xt), sizeof(gt), -1, -1}
/* A field, named @xf in Xen's struct and @gf in ours. */
#define FIELD2(xt, xf, gt, gf)                                                                     \
	{#gt "." #gf, offsetof(xt, xf), offsetof(gt, gf), sizeof(((xt *)0)->xf),                   \
	 sizeof(((gt *)0)->gf), SIGNEDNESS(((xt *)0)->xf), SIGNEDNESS(((gt *)0)->gf)}
#define FIELD(xt, gt, f) FIELD2(xt, f, gt, f)

#define TXQ struct netif_tx_request, struct gntdp_netif_tx_request
#define TXR struct netif_tx_response, struct gntdp_netif_tx_response
#define RXQ struct netif_rx_request, struct gntdp_netif_rx_request
#define RXR struct netif_rx_response, struct gntdp_netif_rx_response
#define XI struct netif_extra_info, struct gntdp_netif_extra_info
#define F(p, f) F_(p, f)
#define F_(...) FIELD(__VA_ARGS__)

static const struct row rows[] = {
	TYPE(struct netif_tx_request, struct gntdp_netif_tx_request),
	F(TXQ, gref),
	F(TXQ, offset),
	F(TXQ, flags),
	F(TXQ, id),
	F(TXQ, size),
	TYPE(struct netif_tx_response, struct gntdp_netif_tx_response),
	F(TXR, id),
	F(TXR, status),
	TYPE(struct netif_extra_info, struct gntdp_netif_extra_info),
	F(XI, type),
	F(XI, flags),
	F(XI, u),
	F(XI, u.gso.size),
	F(XI, u.gso.type),
	F(XI, u.gso.pad),
	F(XI, u.gso.features),
	F(XI, u.mcast.addr),
	F(XI, u.hash.type),
	F(XI, u.hash.algorithm),
	F(XI, u.hash.value),
	F(XI, u.pad),
	TYPE(struct netif_rx_request, struct gntdp_netif_rx_request),
	F(RXQ, id),
	F(RXQ, pad),
	F(RXQ, gref),
	TYPE(struct netif_rx_response, struct gntdp_netif_rx_response),
	F(RXR, id),
	F(RXR, offset),
	F(RXR, flags),
	F(RXR, status),
	TYPE(union netif_tx_sring_entry, union gntdp_netif_tx_sring_entry),
	TYPE(union netif_rx_sring_entry, union gntdp_netif_rx_sring_entry),
	/* The ring page: header fields, then the slots. */
	FIELD2(struct netif_tx_sring, req_prod, struct gntdp_netif_tx_sring, hdr.req_prod),
	FIELD2(struct netif_tx_sring, req_event, struct gntdp_netif_tx_sring, hdr.req_event),
	FIELD2(struct netif_tx_sring, rsp_prod, struct gntdp_netif_tx_sring, hdr.rsp_prod),
	FIELD2(struct netif_tx_sring, rsp_event, struct gntdp_netif_tx_sring, hdr.rsp_event),
	FIELD2(struct netif_tx_sring, pvt, struct gntdp_netif_tx_sring, hdr.pvt),
	FIELD2(struct netif_tx_sring, pvt.netif.smartpoll_active, struct gntdp_netif_tx_sring,
	       hdr.pvt.netif.smartpoll_active),
	FIELD2(struct netif_tx_sring, __pad, struct gntdp_netif_tx_sring, hdr.pad),
	FIELD2(struct netif_tx_sring, ring[0], struct gntdp_netif_tx_sring, ring[0]),
	FIELD2(struct netif_rx_sring, req_prod, struct gntdp_netif_rx_sring, hdr.req_prod),
	FIELD2(struct netif_rx_sring, req_event, struct gntdp_netif_rx_sring, hdr.req_event),
	FIELD2(struct netif_rx_sring, rsp_prod, struct gntdp_netif_rx_sring, hdr.rsp_prod),
	FIELD2(struct netif_rx_sring, rsp_event, struct gntdp_netif_rx_sring, hdr.rsp_event),
	FIELD2(struct netif_rx_sring, ring[0], struct gntdp_netif_rx_sring, ring[0]),
};

struct konst {
	const char *name;
	long long xen, ours;
};

#define K(x, g) {#g, (long long)(x), (long long)(g)}

static const struct konst konsts[] = {
	K(NETTXF_csum_blank, GNTDP_NETTXF_CSUM_BLANK),
	K(NETTXF_data_validated, GNTDP_NETTXF_DATA_VALIDATED),
	K(NETTXF_more_data, GNTDP_NETTXF_MORE_DATA),
	K(NETTXF_extra_info, GNTDP_NETTXF_EXTRA_INFO),
	K(XEN_NETIF_MAX_TX_SIZE, GNTDP_NETIF_MAX_TX_SIZE),
	K(XEN_NETIF_NR_SLOTS_MIN, GNTDP_NETIF_NR_SLOTS_MIN),
	K(XEN_NETIF_EXTRA_TYPE_NONE, GNTDP_NETIF_EXTRA_TYPE_NONE),
	K(XEN_NETIF_EXTRA_TYPE_GSO, GNTDP_NETIF_EXTRA_TYPE_GSO),
	K(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, GNTDP_NETIF_EXTRA_TYPE_MCAST_ADD),
	K(XEN_NETIF_EXTRA_TYPE_MCAST_DEL, GNTDP_NETIF_EXTRA_TYPE_MCAST_DEL),
	K(XEN_NETIF_EXTRA_TYPE_HASH, GNTDP_NETIF_EXTRA_TYPE_HASH),
	K(XEN_NETIF_EXTRA_TYPE_MAX, GNTDP_NETIF_EXTRA_TYPE_MAX),
	K(XEN_NETIF_EXTRA_FLAG_MORE, GNTDP_NETIF_EXTRA_FLAG_MORE),
	K(XEN_NETIF_GSO_TYPE_NONE, GNTDP_NETIF_GSO_TYPE_NONE),
	K(XEN_NETIF_GSO_TYPE_TCPV4, GNTDP_NETIF_GSO_TYPE_TCPV4),
	K(XEN_NETIF_GSO_TYPE_TCPV6, GNTDP_NETIF_GSO_TYPE_TCPV6),
	K(NETRXF_data_validated, GNTDP_NETRXF_DATA_VALIDATED),
	K(NETRXF_csum_blank, GNTDP_NETRXF_CSUM_BLANK),
	K(NETRXF_more_data, GNTDP_NETRXF_MORE_DATA),
	K(NETRXF_extra_info, GNTDP_NETRXF_EXTRA_INFO),
	K(NETRXF_gso_prefix, GNTDP_NETRXF_GSO_PREFIX),
	K(NETIF_RSP_DROPPED, GNTDP_NETIF_RSP_DROPPED),
	K(NETIF_RSP_ERROR, GNTDP_NETIF_RSP_ERROR),
	K(NETIF_RSP_OKAY, GNTDP_NETIF_RSP_OKAY),
	K(NETIF_RSP_NULL, GNTDP_NETIF_RSP_NULL),
	/* What DEFINE_RING_TYPES computes for a 4 KiB page. */
	K(__CONST_RING_SIZE(netif_tx, 4096), GNTDP_NETIF_RING_SIZE),
	K(__CONST_RING_SIZE(netif_rx, 4096), GNTDP_NETIF_RING_SIZE),
	K(offsetof(struct netif_tx_sring, ring), GNTDP_NETIF_SRING_HDR_SIZE),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
main(void)
{
	int bad = 0;

	for (size_t i = 0; i < NELEM(rows); i++) {
		const struct row *r = &rows[i];

		if (r->xo != r->go || r->xs != r->gs || r->xsig != r->gsig) {
			printf("FAIL %s: xen offset %zu size %zu signed %d, gntdp offset %zu size %zu "
			       "signed %d\n",
			       r->name, r->xo, r->xs, r->xsig, r->go, r->gs, r->gsig);
			bad++;
		}
	}
	for (size_t i = 0; i < NELEM(konsts); i++) {
		if (konsts[i].xen != konsts[i].ours) {
			printf("FAIL %s: xen %lld, gntdp %lld\n", konsts[i].name, konsts[i].xen,
			       konsts[i].ours);
			bad++;
		}
	}
	printf("netif abi: %zu layout rows, %zu constants, %d mismatches\n", NELEM(rows),
	       NELEM(konsts), bad);
	return bad ? 1 : 0;
}

#else

int
main(void)
{
	printf("SKIP: <xen/io/netif.h> not installed (Debian: libxen-dev)\n");
	return 77;
}

#endif
