/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Xen's network interface wire format (io/netif.h and io/ring.h) as gntdp's
 * user-space netback (apps/gntdp-netback) and its emulated frontends speak
 * it: the shared-ring page layout, TX and RX requests and responses, extra
 * info slots, their flags and status codes.
 *
 * Written from the published protocol description
 * (shared/spec/xen-userspace-and-dpdk.md section 3.4), not copied from Xen.
 * Every struct is byte-identical to Xen's public header on x86_64 and every
 * LP64 target: same size, same field offsets. tests/netback/test_netif_abi.c
 * proves this against Debian's libxen-dev <xen/io/netif.h>. Names map one to
 * one: struct gntdp_netif_tx_request is struct netif_tx_request,
 * GNTDP_NETTXF_MORE_DATA is NETTXF_more_data, GNTDP_NETIF_RSP_NULL is
 * NETIF_RSP_NULL, struct gntdp_netif_tx_sring is struct netif_tx_sring (from
 * DEFINE_RING_TYPES), and so on.
 *
 * Ring protocol in brief (io/ring.h): one 4 KiB page per direction, owned
 * and granted by the frontend. A 64-byte header holds four free-running
 * 32-bit indexes (req_prod, req_event, rsp_prod, rsp_event); the slot of
 * index i is i & (GNTDP_NETIF_RING_SIZE - 1). The frontend produces
 * requests, the backend consumes them and produces exactly one response per
 * consumed slot. A producer notifies the other end only when its new index
 * range passes the consumer's *_event mark.
 *
 * This header only defines data; the memory ordering of the index updates is
 * the user's job (apps/gntdp-netback/ring.h shows it with C11 atomics).
 *
 * Threading: plain data definitions, no state.
 */
#ifndef GNTDP_NETIF_H
#define GNTDP_NETIF_H

#include <stdint.h>

#include <gntdp/xen_grant_table.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Ring index (Xen RING_IDX): free-running, wraps at 2^32. */
typedef uint32_t gntdp_ring_idx_t;

/* ---- TX: frontend -> backend packets ------------------------------------- */

/** The checksum field is blank: the packet's checksum is not computed yet. */
#define GNTDP_NETTXF_CSUM_BLANK 0x1U
/** The payload is known to be correct (checksum validated by the sender). */
#define GNTDP_NETTXF_DATA_VALIDATED 0x2U
/** The packet continues in the next request slot. */
#define GNTDP_NETTXF_MORE_DATA 0x4U
/** One or more struct gntdp_netif_extra_info slots follow this request. */
#define GNTDP_NETTXF_EXTRA_INFO 0x8U

/**
 * Largest packet a TX chain may describe (the first slot's size is the total,
 * a uint16_t).
 */
#define GNTDP_NETIF_MAX_TX_SIZE 0xFFFFU
/**
 * Slots per packet every backend must accept (XEN_NETIF_NR_SLOTS_MIN); Linux
 * netback calls it XEN_NETBK_LEGACY_SLOTS_MAX.
 */
#define GNTDP_NETIF_NR_SLOTS_MIN 18U

/**
 * TX request (12 bytes). In the first slot of a packet @c size is the total
 * packet length; later slots carry their own fragment size. Each slot's data
 * is [offset, offset + size) of the page @c gref names, within 4096 bytes.
 */
struct gntdp_netif_tx_request {
	gntdp_grant_ref_t gref; /**< page holding this slot's data */
	uint16_t offset;        /**< first byte of the data in the page */
	uint16_t flags;         /**< GNTDP_NETTXF_* */
	uint16_t id;            /**< echoed in the response */
	uint16_t size;          /**< total (first slot) or fragment size */
};

/** Status of a TX or RX response. RX responses carry the byte count instead when >= 0. */
#define GNTDP_NETIF_RSP_DROPPED (-2)
#define GNTDP_NETIF_RSP_ERROR (-1)
#define GNTDP_NETIF_RSP_OKAY 0
/** No response: the answer to an auxiliary slot (extra info). */
#define GNTDP_NETIF_RSP_NULL 1

/** TX response (4 bytes, in a 12-byte ring slot). */
struct gntdp_netif_tx_response {
	uint16_t id;    /**< the request's id */
	int16_t status; /**< GNTDP_NETIF_RSP_* */
};

/* ---- Extra info slots ---------------------------------------------------- */

#define GNTDP_NETIF_EXTRA_TYPE_NONE 0U /**< never valid */
#define GNTDP_NETIF_EXTRA_TYPE_GSO 1U
#define GNTDP_NETIF_EXTRA_TYPE_MCAST_ADD 2U
#define GNTDP_NETIF_EXTRA_TYPE_MCAST_DEL 3U
#define GNTDP_NETIF_EXTRA_TYPE_HASH 4U
#define GNTDP_NETIF_EXTRA_TYPE_MAX 5U

/** Another extra info slot follows this one. */
#define GNTDP_NETIF_EXTRA_FLAG_MORE 0x1U

#define GNTDP_NETIF_GSO_TYPE_NONE 0U
#define GNTDP_NETIF_GSO_TYPE_TCPV4 1U
#define GNTDP_NETIF_GSO_TYPE_TCPV6 2U

/**
 * Extra info (8 bytes): overlays a request slot (TX) or a response slot (RX)
 * that follows a slot flagged with EXTRA_INFO.
 */
struct gntdp_netif_extra_info {
	uint8_t type;  /**< GNTDP_NETIF_EXTRA_TYPE_* */
	uint8_t flags; /**< GNTDP_NETIF_EXTRA_FLAG_* */
	union {
		/** GSO: segment the packet. */
		struct {
			uint16_t size;     /**< segment payload size, non-zero */
			uint8_t type;      /**< GNTDP_NETIF_GSO_TYPE_* */
			uint8_t pad;
			uint16_t features; /**< none defined */
		} gso;
		/** MCAST_ADD / MCAST_DEL: a multicast MAC address. */
		struct {
			uint8_t addr[6];
		} mcast;
		/** HASH: the packet's flow hash. */
		struct {
			uint8_t type;
			uint8_t algorithm;
			uint8_t value[4];
		} hash;
		uint16_t pad[3];
	} u;
};

/* ---- RX: backend -> frontend packets ------------------------------------- */

/** RX request (8 bytes): one whole frontend page to receive into. */
struct gntdp_netif_rx_request {
	uint16_t id;            /**< echoed in the response */
	uint16_t pad;
	gntdp_grant_ref_t gref; /**< writable grant of the page */
};

#define GNTDP_NETRXF_DATA_VALIDATED 0x1U
#define GNTDP_NETRXF_CSUM_BLANK 0x2U
/** The packet continues in the next response slot. */
#define GNTDP_NETRXF_MORE_DATA 0x4U
/** Extra info follows in the next response slot. */
#define GNTDP_NETRXF_EXTRA_INFO 0x8U
/** Deprecated GSO prefix slot. */
#define GNTDP_NETRXF_GSO_PREFIX 0x10U

/**
 * RX response (8 bytes), written in the slot of the request it answers.
 * status is the number of bytes placed at offset, or a negative
 * GNTDP_NETIF_RSP_* error.
 */
struct gntdp_netif_rx_response {
	uint16_t id;
	uint16_t offset;
	uint16_t flags; /**< GNTDP_NETRXF_* */
	int16_t status;
};

/* ---- Shared ring pages (DEFINE_RING_TYPES) -------------------------------- */

/** Bytes of the ring page before the first slot. */
#define GNTDP_NETIF_SRING_HDR_SIZE 64U

/**
 * The 64-byte header both ring pages start with. Indexes are written by one
 * side each: req_prod and rsp_event by the frontend, rsp_prod and req_event
 * by the backend.
 */
struct gntdp_netif_sring_hdr {
	gntdp_ring_idx_t req_prod;  /**< next request index the frontend will fill */
	gntdp_ring_idx_t req_event; /**< notify the backend when req_prod passes this */
	gntdp_ring_idx_t rsp_prod;  /**< next response index the backend will fill */
	gntdp_ring_idx_t rsp_event; /**< notify the frontend when rsp_prod passes this */
	/** Private bytes of netif (smartpoll_active) and tapif; unused by gntdp. */
	union {
		struct {
			uint8_t smartpoll_active;
		} netif;
		struct {
			uint8_t msg;
		} tapif_user;
		uint8_t pvt_pad[4];
	} pvt;
	uint8_t pad[44];
};

/** A TX ring slot: request in, response out (12 bytes). */
union gntdp_netif_tx_sring_entry {
	struct gntdp_netif_tx_request req;
	struct gntdp_netif_tx_response rsp;
};

/** An RX ring slot (8 bytes). */
union gntdp_netif_rx_sring_entry {
	struct gntdp_netif_rx_request req;
	struct gntdp_netif_rx_response rsp;
};

/**
 * Slots in a ring page: (4096 - 64) / slot size, rounded down to a power of
 * two. 256 for both TX (12-byte slots: 336 -> 256) and RX (8-byte slots:
 * 504 -> 256).
 */
#define GNTDP_NETIF_RING_SIZE 256U

/** The TX ring page (struct netif_tx_sring with its 256 slots). */
struct gntdp_netif_tx_sring {
	struct gntdp_netif_sring_hdr hdr;
	union gntdp_netif_tx_sring_entry ring[GNTDP_NETIF_RING_SIZE];
};

/** The RX ring page (struct netif_rx_sring with its 256 slots). */
struct gntdp_netif_rx_sring {
	struct gntdp_netif_sring_hdr hdr;
	union gntdp_netif_rx_sring_entry ring[GNTDP_NETIF_RING_SIZE];
};

/** Slot of ring index @p idx. */
#define GNTDP_NETIF_RING_SLOT(idx) ((idx) & (GNTDP_NETIF_RING_SIZE - 1U))

/* Layout pins (x86_64 and every LP64 target). */
GNTDP_ABI_ASSERT(sizeof(struct gntdp_netif_tx_request) == 12, "netif_tx_request");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_netif_tx_response) == 4, "netif_tx_response");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_netif_extra_info) == 8, "netif_extra_info");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_netif_rx_request) == 8, "netif_rx_request");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_netif_rx_response) == 8, "netif_rx_response");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_netif_sring_hdr) == GNTDP_NETIF_SRING_HDR_SIZE,
		 "sring header");
GNTDP_ABI_ASSERT(sizeof(union gntdp_netif_tx_sring_entry) == 12, "netif_tx_sring_entry");
GNTDP_ABI_ASSERT(sizeof(union gntdp_netif_rx_sring_entry) == 8, "netif_rx_sring_entry");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_netif_tx_sring) <= GNTDP_PAGE_SIZE, "TX ring fits a page");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_netif_rx_sring) <= GNTDP_PAGE_SIZE, "RX ring fits a page");
/* Power-of-two rounding: twice the ring would not fit. */
GNTDP_ABI_ASSERT(GNTDP_NETIF_SRING_HDR_SIZE + 2 * GNTDP_NETIF_RING_SIZE * 12 > GNTDP_PAGE_SIZE,
		 "TX ring size is the largest power of two");
GNTDP_ABI_ASSERT(GNTDP_NETIF_SRING_HDR_SIZE + 2 * GNTDP_NETIF_RING_SIZE * 8 > GNTDP_PAGE_SIZE,
		 "RX ring size is the largest power of two");

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_NETIF_H */
