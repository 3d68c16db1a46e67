/* SPDX-License-Identifier: MIT */
/*
 * gntdp-netback internals: configuration, the backend (a poll-mode netback
 * on the grant-table core), the L2 switch, the emulated frontends and the
 * statistics. Not installed; tests/netback includes it to drive the pieces
 * one step at a time.
 *
 * Threads: the backend state (struct be and everything under it) is owned
 * by the data-plane worker that runs its poller while the data plane runs;
 * the frontends (struct fe) by the lcore that polls them (the main lcore).
 * They share only the ring pages and the buffer frames, through the grant
 * table, as a real netback and netfront do. Counters are written by their owner with relaxed atomic stores and
 * read by the main lcore with relaxed loads (CTR_ADD / CTR_GET).
 */
#ifndef NB_H
#define NB_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <gntdp/dataplane.h>
#include <gntdp/gnttab.h>
#include <gntdp/netif.h>

struct rte_mbuf;
struct rte_mempool;

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- Limits -------------------------------------------------------------- */

#define NB_MAX_VIFS 64
#define NB_MAX_PORTS 16
#define NB_MAX_BRIDGES 16
/* Switch members: vif i is member i, port p is member NB_MAX_VIFS + p. */
#define NB_MAX_MEMBERS (NB_MAX_VIFS + NB_MAX_PORTS)
/* Members of one bridge: bounds the ops one flooded packet needs (< NB_MAX_OPS). */
#define NB_BRIDGE_MEMBERS_MAX 32
#define NB_PORT_MEMBER(p) ((uint16_t)(NB_MAX_VIFS + (p)))
#define NB_MEMBER_IS_PORT(m) ((m) >= NB_MAX_VIFS)
/* Packets per source per poll (netback's RX_BATCH_SIZE is 64). */
#define NB_MAX_BURST 256
/* Copy ops one burst may plan; executed in calls of conf.batch_ops. */
#define NB_MAX_OPS 4096
#define NB_MAX_BATCH_OPS 1024
/* Data slots Linux netback accepts (XEN_NETBK_LEGACY_SLOTS_MAX) and its fatal_skb_slots. */
#define NB_SLOTS_MAX GNTDP_NETIF_NR_SLOTS_MIN
#define NB_SLOTS_FATAL 20
/* Extra info slots one packet may carry (one per type). */
#define NB_EXTRAS_MAX (GNTDP_NETIF_EXTRA_TYPE_MAX - 1)
/* Segments of one mbuf chain from a port (9000 B in 2 KiB segments is 5; ample). */
#define NB_MBUF_SEGS_MAX 32
/* Source fragments of one packet: 20 TX slots, or mbuf segments split at 4 KiB frames. */
#define NB_PKT_FRAGS_MAX 48
/* Largest frame: a TX chain describes at most 64 KiB - 1; RX needs 17 pages for it. */
#define NB_RX_SLOTS_MAX 17
#define NB_ETH_HLEN 14
/* MTUs: a frame may be the MTU plus an Ethernet header and two VLAN tags (QinQ). */
#define NB_MTU_DEFAULT 1500
#define NB_MTU_MIN 68
#define NB_MTU_MAX 9000
#define NB_FRAME_OVERHEAD (NB_ETH_HLEN + 8)
/* Sizes, generator patterns */
#define NB_MAX_SIZES 16
#define NB_ETHERTYPE 0x88B5 /* IEEE local experimental */
/* group_fwd_mask bit of 01:80:C2:00:00:01 (MAC control, PAUSE): never forwarded. */
#define NB_GROUP_PAUSE_BIT (1u << 1)

/*
 * Staggered buffer offsets. Every buffer at page offset 0 crowds its first
 * bytes into the same L1/L2 sets of every page: 1500-byte frames then use
 * 24 of each page's 64 lines, about a third of the cache's sets (issue 10's
 * profile on an Intel Xeon: a 1500 B copy took ~100 ns against ~30 ns
 * cache-warm; docs/netback.md has what it changes on the AMD VM). A
 * buffer's data starts instead at a fixed, 64-byte aligned offset in
 * [0, NB_STAGGER_MAX] picked by a multiplicative (Fibonacci) hash of its
 * grant ref: stable over the buffer's life, so its cache footprint stays
 * one frame's lines, and decorrelated from the page's own set bits
 * (consecutive refs are consecutive frames here). NB_STAGGER_MAX + 1536
 * fits a page, so frames up to 1536 bytes always keep the offset; a larger
 * one that would cross the page starts at 0 (offset + size stays within
 * the page, as the netif protocol requires).
 */
#define NB_STAGGER_MAX (GNTDP_PAGE_SIZE - 1536u)

static inline uint16_t
nb_stagger(uint32_t key, uint32_t len)
{
	uint32_t pos = (key * 0x9E3779B9u) >> 26; /* 0..63 */
	uint32_t off = pos * (NB_STAGGER_MAX / 64u + 1u) / 64u * 64u;

	return off + len <= GNTDP_PAGE_SIZE ? (uint16_t)off : 0;
}

/* ---- Counters ------------------------------------------------------------ */

typedef uint64_t ctr_t;
#define CTR_ADD(c, n) __atomic_store_n(&(c), (c) + (uint64_t)(n), __ATOMIC_RELAXED)
#define CTR_GET(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)

/* Why a packet was dropped (per vif or port where it entered, or where it was bound). */
enum nb_drop {
	DROP_NONE,
	DROP_RUNT,          /* shorter than an Ethernet header: error response */
	DROP_TOO_MANY_SLOTS, /* 19-20 slots: error response (more is fatal) */
	DROP_BAD_SIZE,      /* a fragment larger than what the first size left: error response */
	DROP_TX_BAD_GREF,   /* a TX slot's grant failed: error response */
	DROP_RX_BAD_GREF,   /* an RX page's grant failed: error RX response */
	DROP_HAIRPIN,       /* destination is where it came from */
	DROP_DEST_DOWN,     /* destination vif disabled */
	DROP_RX_STALLED,    /* destination posted no RX buffers for rx_stall_us */
	DROP_NO_MBUF,       /* mbuf pool empty */
	DROP_PORT_TX_FULL,  /* the ethdev did not take it */
	DROP_TOO_BIG,       /* above the MTU of where it entered or of a destination */
	DROP_BAD_MBUF,      /* a port's mbuf is inconsistent (lengths, segments, size) */
	DROP_LINK_LOCAL,    /* to an 802.1D link-local group not in group_fwd_mask */
	DROP_COUNT
};

/* Why a vif was disabled (the frontend broke the protocol). */
enum nb_fatal {
	FATAL_NONE,
	FATAL_TX_RUNAWAY,     /* req_prod - req_cons > ring size (TX) */
	FATAL_RX_RUNAWAY,     /* the same on the RX ring */
	FATAL_CHAIN_PROD,     /* more_data or extra_info beyond req_prod */
	FATAL_CHAIN_SLOTS,    /* more than 20 slots in one packet */
	FATAL_OVERSIZED_SLOT, /* offset + size > 4096 */
	FATAL_BAD_EXTRA,      /* unknown extra type, or too many extras */
	FATAL_BAD_GSO,        /* GSO extra with size 0 or an unknown type */
	FATAL_TX_BAD_GREF,    /* bad_gref = disable: a TX grant failed */
	FATAL_RX_BAD_GREF,    /* bad_gref = disable: an RX grant failed */
	FATAL_RING_MAP,       /* the ring grants could not be mapped */
	FATAL_COUNT
};

const char *nb_drop_name(enum nb_drop d);
const char *nb_fatal_name(enum nb_fatal f);

/* ---- Configuration ------------------------------------------------------- */

enum vif_mode {
	VIF_SINK, /* post RX buffers, count (and verify) what arrives */
	VIF_GEN,  /* send generated frames, and sink what arrives */
	VIF_FWD,  /* a bridge guest: frames received here leave on vif fwd_to */
};

enum vif_extra {
	EXTRA_NONE,
	EXTRA_GSO,   /* a GSO extra slot on every packet */
	EXTRA_HASH,  /* a HASH extra slot on every packet */
	EXTRA_MCAST, /* every 16th packet is an MCAST_ADD control request */
};

enum g2g_mode {
	G2G_DIRECT, /* guest to guest: one gref -> gref copy per fragment */
	G2G_STAGED, /* every TX packet through an mbuf first (two copies) */
};

enum bad_gref_policy {
	BAD_GREF_DROP,    /* Linux netback: error response, packet dropped, vif stays up */
	BAD_GREF_DISABLE, /* treat as malicious: disable the vif */
};

struct vif_conf {
	bool used;
	gntdp_domid_t guest;   /* frontend domain id (1..) */
	unsigned int bridge;
	uint8_t mac[6];
	enum vif_mode mode;
	int fwd_to;            /* vif index (same guest), mode fwd */
	uint8_t dst[6];        /* generator destination MAC */
	int dst_vif;           /* or: the MAC of this vif (-1: use dst) */
	uint16_t sizes[NB_MAX_SIZES];
	unsigned int nb_sizes;
	uint64_t count;        /* frames to generate, 0 = until stopped */
	unsigned int depth;    /* TX slots in flight */
	unsigned int rx_buffers; /* RX buffers posted */
	unsigned int slot_size;  /* bytes per TX slot at most */
	unsigned int tx_offset;  /* first slot's page offset step (0: the buffer's) */
	bool stagger;            /* TX buffers at nb_stagger() offsets (else 0) */
	unsigned int inflight_bytes; /* TX frame bytes in flight at most (0: no bound) */
	bool verify;
	enum vif_extra extra;
	unsigned int mtu;        /* frames above mtu + NB_FRAME_OVERHEAD are dropped (not GSO) */
};

struct port_conf {
	bool used;
	char devargs[256];
	unsigned int bridge;
	unsigned int rx_desc;
	unsigned int tx_desc;
	unsigned int mtu;        /* frames above mtu + NB_FRAME_OVERHEAD are dropped */
};

struct nb_conf {
	/* [backend] */
	gntdp_domid_t backend_domid;
	unsigned int burst;
	unsigned int batch_ops;
	unsigned int cache_entries;
	unsigned int hold_us;
	unsigned int idle_sleep_us, idle_after_us;
	char copy[16];
	enum g2g_mode g2g;
	enum bad_gref_policy bad_gref;
	unsigned int rx_stall_us;
	unsigned int mbufs;
	bool rx_stagger;
	unsigned int peek_entries;
	bool antispoof;
	unsigned int group_fwd_mask; /* 802.1D link-local groups forwarded (bit n: 01:80:C2:00:00:0n) */
	/* [run] */
	double duration;
	double warmup;
	unsigned int idle_exit_ms;
	unsigned int progress_ms;
	uint64_t expect_port_tx;
	bool quiet;
	char json[256];
	/* objects */
	struct port_conf ports[NB_MAX_PORTS];
	unsigned int nb_ports;
	struct vif_conf vifs[NB_MAX_VIFS];
	unsigned int nb_vifs;
};

struct app_cfg;
struct app_cfg_desc;
/* The key table of the app layer's config engine (config.c, apps/common/app.h). */
extern const struct app_cfg_desc nb_cfg_desc;
/* Defaults into @p c, with an engine state of config.c's own (tests). */
void conf_defaults(struct nb_conf *c);
/* Use the app's engine state from now on (main.c, after app_start). */
void conf_attach(struct app_cfg *cfg);
/* One value, as --set would; @p where names it in messages. 0 or -EINVAL (logged). */
int conf_set(struct nb_conf *c, const char *where, const char *section, const char *key,
	     const char *value);
/* Checks across keys; completes the default MACs. 0 or -EINVAL (logged). */
int conf_validate(struct nb_conf *c);
/* The effective config, as an INI file. */
void conf_print(const struct nb_conf *c, FILE *f);
int parse_mac(const char *s, uint8_t mac[6]);

/* ---- Statistics blocks --------------------------------------------------- */

struct vif_stats {
	/* guest -> backend (the vif's TX ring) */
	ctr_t tx_pkts, tx_bytes, tx_slots, tx_extras, tx_ctrl, tx_gso;
	/* backend -> guest (the vif's RX ring) */
	ctr_t rx_pkts, rx_bytes, rx_slots;
	/* copy ops planned for packets from this vif / into this vif */
	ctr_t tx_ops, rx_ops;
	ctr_t drops[DROP_COUNT];
	ctr_t rx_ring_full;  /* times a packet waited for RX buffers */
	ctr_t tx_notify, rx_notify; /* backend -> frontend notifications */
	ctr_t tx_arm, rx_arm;       /* req_event re-arms */
	ctr_t peek_maps, peek_unmaps;
	ctr_t fatal[FATAL_COUNT];
};

struct port_stats {
	ctr_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	ctr_t rx_ops, tx_ops;
	ctr_t drops[DROP_COUNT];
	ctr_t bounced; /* mbufs outside backend RAM, copied into it first */
	ctr_t pending; /* polls that found packets still waiting */
};

struct be_stats {
	ctr_t iters, busy_iters, busy_cycles;
	ctr_t calls, ops, ops_failed, probes;
	ctr_t copy_cycles;         /* TSC cycles inside gntdp_gnttab_op(GNTTABOP_copy) */
	ctr_t fwd_pkts, fwd_bytes; /* packets delivered to at least one destination */
	ctr_t express_pkts;        /* of those, moved by the express lane */
	ctr_t deliveries;          /* per destination */
	ctr_t expire_walks, pins_expired;
	ctr_t mac_learned, mac_moved;
};

/* ---- Switch --------------------------------------------------------------- */

struct mac_entry {
	uint64_t key;      /* mac (48 bits) | bridge << 48 | 1 << 63 (valid) */
	uint16_t member;
	uint64_t last_seen;
};

#define MAC_TABLE_SIZE 4096 /* power of two */
#define MAC_PROBE 8

struct bridge {
	uint16_t members[NB_BRIDGE_MEMBERS_MAX];
	unsigned int nb_members;
};

/* ---- Backend ------------------------------------------------------------- */

/*
 * The switch's answer for the last frame header a source sent: consecutive
 * frames of one flow share it. Valid while no MAC table entry and no vif
 * state changed since (gen); the source's own learning for a repeated
 * header is part of the cached answer.
 */
struct route_cache {
	uint64_t gen;   /* be->sw_gen when computed: any table or vif state change invalidates */
	bool valid;
	uint8_t hdr[12];
	unsigned int n;
	uint8_t why;
	uint16_t members[NB_BRIDGE_MEMBERS_MAX];
};

enum vif_state { VIF_DOWN = 0, VIF_UP, VIF_DISABLED };

struct peek_ent {
	gntdp_grant_ref_t gref;
	bool valid;
	gntdp_grant_handle_t handle;
	const uint8_t *va;
	uint64_t taken; /* worker clock when mapped: the hold bound counts from here */
};

/* An RX request as the backend copied it out of the ring (read once). */
struct rx_shadow {
	uint16_t id;
	gntdp_grant_ref_t gref;
};

/* Packets a source still has to deliver (port RX, or staged vif TX). */
#define NB_PEND_MAX 512
struct pend_q {
	struct rte_mbuf *m[NB_PEND_MAX];
	unsigned int head, n;
};

struct be_vif {
	/* hot */
	struct gntdp_netif_tx_sring *tx;
	struct gntdp_netif_rx_sring *rx;
	uint32_t tx_cons;      /* private req_cons of the TX ring */
	uint32_t tx_rsp;       /* private rsp_prod_pvt of the TX ring */
	uint32_t rx_cons;      /* RX requests taken (reserved) */
	uint32_t rx_rsp;       /* RX responses published */
	uint32_t rx_prod_seen; /* last validated RX req_prod snapshot */
	uint64_t rx_seen_iter; /* the iteration that took it */
	uint8_t state;
	bool rx_stalled;
	uint32_t max_frame;    /* mtu + NB_FRAME_OVERHEAD: the largest non-GSO frame either way */
	uint16_t bridge;
	gntdp_domid_t domid;
	uint16_t idx;
	bool rx_waiting;        /* the RX ring is full and a packet waits for it */
	uint64_t rx_full_since; /* worker clock when that wait began (valid while rx_waiting) */
	struct gntdp_gnttab_ctx *ctx; /* this source's execution context (its own grant cache) */
	struct peek_ent *peek;
	uint32_t peek_mask;
	uint64_t peek_gfn;
	uint64_t peek_oldest; /* <= the taken stamp of every valid peek entry (UINT64_MAX: none) */
	uint8_t mac[6];
	struct pend_q staged;
	struct route_cache rc;
	struct rx_shadow rx_shadow[GNTDP_NETIF_RING_SIZE];
	alignas(64) struct vif_stats st;
	/* cold */
	uint64_t tx_ring_gfn, rx_ring_gfn;
	gntdp_grant_handle_t tx_ring_handle, rx_ring_handle;
	bool rings_mapped;
	uint8_t fatal;            /* enum nb_fatal */
	char fatal_detail[96];
	bool fatal_logged;
};

/* What a port's rx_pcap holds, read through once at start-up (input.c). */
struct port_input {
	char rx_file[256];     /* rx_pcap, or "" */
	uint64_t records;      /* records read before the end, or before reading stopped */
	bool incomplete;       /* reading stops before the end of the file */
	uint64_t stop_record;  /* 1-based record where it stops */
	uint64_t stop_offset;  /* byte offset of that record in the file */
	char why[160];         /* libpcap's reason */
};

struct be_port {
	struct gntdp_gnttab_ctx *ctx;
	uint16_t port_id;
	uint16_t bridge;
	uint16_t idx;
	bool started;
	uint32_t max_frame;    /* mtu + NB_FRAME_OVERHEAD: the largest frame either way */
	struct route_cache rc;
	struct pend_q rxq;
	alignas(64) struct port_stats st;
	char name[64];
	struct port_input in;
};

/* One source fragment or one destination range, never crossing a 4 KiB page. */
struct frag {
	uint64_t key;         /* grant ref, or gfn of the backend */
	gntdp_domid_t domid;  /* granting domain, or DOMID_SELF for a backend frame */
	uint16_t off;
	uint16_t len;
};

struct dest {
	uint16_t member;
	uint16_t nb_rx;        /* vif: RX slots reserved */
	uint32_t rx_first;     /* vif: first RX ring index */
	uint16_t first_off;    /* vif: offset in the first RX page */
	uint16_t op_first, nb_ops;
	int16_t err;           /* first failed op's status */
	bool src_err;          /* the failure is the source's */
};

enum pkt_state { PKT_FWD, PKT_ERR, PKT_DROP, PKT_CTRL };

struct pkt {
	uint32_t len;
	uint16_t nb_slots;     /* vif source: data + extra slots consumed */
	uint16_t slot_first;   /* index into burst.slots */
	uint16_t frag_first, nb_frags;
	uint16_t dest_first, nb_dests;
	uint16_t rxflags;
	uint8_t state;         /* enum pkt_state */
	uint8_t reason;        /* enum nb_drop: why it (or some destination) was dropped */
	bool src_bad;
	bool gso;
	struct rte_mbuf *m;    /* source mbuf, or staging mbuf for port destinations */
	uint16_t stage_op_first, stage_nb_ops; /* ops filling m from a vif */
};

/* Per-destination-vif counters of one burst, flushed once when its RX ring is pushed. */
struct rx_acc {
	uint32_t pkts, slots, ops;
	uint64_t bytes;
};

/* A frame the express lane moved: what its two responses need. */
struct xpkt {
	uint16_t tx_id;
	uint16_t len;
	uint32_t rx_idx;
	uint16_t off;
	uint16_t rxflags;
	int16_t st; /* 0, or why it failed (source or destination grant) */
	bool src_bad;
};

struct burst {
	struct route_cache *rc; /* the source's */
	struct xpkt x[NB_MAX_BURST];
	struct rx_acc acc[NB_MAX_VIFS];
	/* TX slots copied out of the ring, each read exactly once */
	union gntdp_netif_tx_sring_entry slots[GNTDP_NETIF_RING_SIZE];
	struct pkt pkts[NB_MAX_BURST];
	unsigned int nb_pkts;
	struct frag frags[NB_MAX_BURST * 4];
	unsigned int nb_frags;
	struct dest dests[NB_MAX_BURST * 4];
	unsigned int nb_dests;
	struct gntdp_gnttab_ctx *ctx; /* the source's context: runs this burst's ops */
	struct gntdp_gnttab_copy ops[NB_MAX_OPS];
	unsigned int nb_ops;
	/* vifs with RX responses to publish, and ports with mbufs to send */
	uint64_t rx_touched;
	struct rte_mbuf *port_tx[NB_MAX_PORTS][NB_MAX_BURST];
	uint16_t port_tx_n[NB_MAX_PORTS];
};

#define NB_MAX_CTX (NB_MAX_VIFS + NB_MAX_PORTS + 1)

struct be {
	struct gntdp_gnttab *gt;
	/* The data plane whose worker runs the backend's poller, and owns its contexts. */
	struct gntdp_dp *dp;
	unsigned int worker;
	struct gntdp_dp_poller *poller;
	struct gntdp_gnttab_ctx *ctx; /* control: ring and peek mappings */
	/* every context the backend asked its worker for: ctx, then one per vif and port */
	struct gntdp_gnttab_ctx *ctxs[NB_MAX_CTX];
	unsigned int nb_ctx;
	const struct nb_conf *conf;
	gntdp_domid_t domid;
	uint8_t *ram;            /* backend RAM, gfn 0 .. ram_frames-1, contiguous */
	uint32_t ram_frames;
	uint64_t scratch_gfn;    /* a backend frame for probes */
	struct rte_mempool *mp;
	uint32_t seg_room;       /* data bytes per mbuf segment */
	unsigned int nb_vifs, nb_ports, nb_bridges;
	struct be_vif *vifs;     /* NB_MAX_VIFS */
	struct be_port ports[NB_MAX_PORTS];
	struct bridge bridges[NB_MAX_BRIDGES];
	struct mac_entry *mac;   /* MAC_TABLE_SIZE */
	struct burst *b;
	/* clock: the worker's (env.now of the current call) */
	uint64_t iter; /* poller calls so far */
	uint64_t sw_gen; /* bumped by every MAC table change and vif state change */
	uint64_t now, hz, stall_cycles, t_start;
	uint64_t t_stop; /* TSC when the main lcore's run loop ended (0: running) */
	const char *copy_name;
	unsigned int burst_max, batch_ops;
	alignas(64) struct be_stats st;
	/* CPU time of the backend's thread, readable from the main lcore (published by be_poll) */
	clockid_t cpu_clock;
	bool cpu_clock_ok;
};

/* backend.c */
/*
 * Set up the backend over world @p gt as a poller ("netback") on worker
 * @p worker of @p dp (stopped). Its contexts are that worker's
 * (gntdp_dp_worker_ctx_create), and so is its loop: gntdp_dp_start() runs
 * it, or gntdp_dp_poll() steps it.
 */
int be_init(struct be *be, struct gntdp_gnttab *gt, struct gntdp_dp *dp, unsigned int worker,
	    const struct nb_conf *conf);
void be_fini(struct be *be);
/* The poller: one pass over every port and vif; returns packets handled. */
int be_poll(void *arg, const struct gntdp_dp_poll_env *env);
void be_vif_disable(struct be *be, struct be_vif *v, enum nb_fatal why, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Control plane (not while the backend lcore runs): map / unmap a vif's rings. */
int be_vif_connect(struct be *be, unsigned int idx, gntdp_domid_t fe, gntdp_grant_ref_t tx_ref,
		   gntdp_grant_ref_t rx_ref, const uint8_t mac[6], unsigned int bridge);
void be_vif_release(struct be *be, struct be_vif *v);
void be_release_all(struct be *be);
/* Bytes of backend RAM (mbuf pool) needed for conf. */
uint32_t be_ram_frames(const struct nb_conf *conf);
uint32_t be_p2m_extra(const struct nb_conf *conf);

/* Sum of the grant-cache counters of every backend context. */
void be_cache_stats(const struct be *be, uint64_t *hits, uint64_t *misses);
/* A new execution context for a source (persistent cache, copy kernel installed). */
struct gntdp_gnttab_ctx *be_ctx_new(struct be *be);

/* switch.c */
void sw_init(struct be *be);
void sw_add_member(struct be *be, unsigned int bridge, uint16_t member);
/*
 * Route one frame entering at @p src (a member of @p bridge): learn its
 * source MAC, look up the destination. Fills @p out with members and
 * returns how many (0: dropped, *reason set).
 */
unsigned int sw_route(struct be *be, unsigned int bridge, uint16_t src, const uint8_t *hdr,
		      uint16_t *out, enum nb_drop *reason);
/* Refresh the learned entry of the source address in @p hdr (no lookup of the destination). */
void sw_touch(struct be *be, unsigned int bridge, uint16_t src, const uint8_t *hdr);

/* input.c */
/*
 * Check port @p idx's devargs and files before its vdev is created (see
 * input.c); fills @p in. 0, or -EINVAL after one message on stderr.
 */
int port_args_check(const struct nb_conf *c, unsigned int idx, struct port_input *in);
/* One line per port whose input stops before its end; returns how many. */
unsigned int port_input_report(const struct be *be, FILE *f);

/* ports.c */
int port_setup(struct be *be, unsigned int idx, const struct port_conf *pc);
void port_teardown(struct be *be, struct be_port *p);
int pool_create(struct be *be);
void pool_destroy(struct be *be);

/* ---- Frontends ----------------------------------------------------------- */

struct fe_vif;

struct fe_buf {
	uint8_t *va;
	struct fe_vif *home_vif; /* the vif whose pool owns it */
	gntdp_grant_ref_t gref;
	uint16_t off;   /* where its data starts: nb_stagger(gref), or 0 */
	uint16_t tx_len; /* frame bytes it holds in flight (first slot), else 0 */
	uint16_t home;  /* its index */
	uint8_t where;  /* FB_FREE, FB_RX (posted), FB_TX (in flight) */
	bool is_rx;     /* an RX pool buffer (else TX) */
};

enum { FB_FREE, FB_RX, FB_TX };

struct fe_slot {
	uint16_t buf, off, len, flags;
};

#define FE_FWDQ 1024 /* slots waiting to leave on a vif (fwd) */

struct fe_vif_stats {
	ctr_t tx_pkts, tx_bytes, tx_slots;
	ctr_t tx_rsp_ok, tx_rsp_err, tx_rsp_null, tx_rsp_bad;
	ctr_t rx_pkts, rx_bytes, rx_slots, rx_err;
	ctr_t verify_ok, verify_bad, order_bad;
	ctr_t tx_kick, rx_kick;   /* frontend -> backend notifications */
	ctr_t tx_full;            /* times TX production stopped on a full ring or no buffers */
	ctr_t fwd_pkts;
};

struct fe_guest;
struct fe;

struct fe_vif {
	struct fe *fe;
	struct fe_guest *g;
	const struct vif_conf *vc;
	uint16_t idx;
	struct gntdp_netif_tx_sring *tx;
	struct gntdp_netif_rx_sring *rx;
	gntdp_grant_ref_t tx_ring_ref, rx_ring_ref;
	uint32_t tx_prod, tx_cons, rx_prod, rx_cons;
	uint16_t *tx_free, *rx_free;
	unsigned int n_tx_free, n_rx_free, n_tx_bufs, n_rx_bufs;
	unsigned int tx_inflight; /* slots */
	uint32_t tx_inflight_bytes; /* frame bytes of those (inflight_bytes) */
	/* RX packet being assembled */
	struct fe_slot rxp[NB_RX_SLOTS_MAX + 4];
	unsigned int rxp_n;
	bool rxp_err, rxp_extra;
	/* fwd: slots queued to leave on this vif */
	struct fe_slot fwdq[FE_FWDQ];
	unsigned int fwdq_head, fwdq_n;
	struct fe_vif *fwd_out;
	bool tx_blocked;          /* the last attempt found no room (tx_full counts edges) */
	/* generator */
	uint64_t seq, sent;
	unsigned int size_i, off_i;
	uint8_t dst[6];
	uint64_t last_seq[NB_MAX_VIFS]; /* per source vif, for the order check */
	alignas(64) struct fe_vif_stats st;
};

struct fe_guest {
	gntdp_domid_t domid;
	gntdp_grant_ref_t ref_base; /* grant ref of frame 0 */
	struct fe_buf *bufs;
	uint32_t nb_bufs;
	uint32_t frames;
	struct gntdp_grant_entry_v1 *gnt;
	uint32_t nr_gnt;
};

struct fe {
	struct gntdp_gnttab *gt;
	const struct nb_conf *conf;
	gntdp_domid_t backend;
	struct fe_guest guests[NB_MAX_VIFS];
	unsigned int nb_guests;
	struct fe_vif vifs[NB_MAX_VIFS];
	unsigned int nb_vifs;
};

/* frontend.c */
/* Create the guest domains and their vifs (rings and buffers granted to @p backend). */
int fe_create(struct fe *fe, struct gntdp_gnttab *gt, const struct nb_conf *conf,
	      gntdp_domid_t backend);
void fe_destroy(struct fe *fe);
/* One pass over every vif: responses, RX reposting, TX production. Returns work done. */
unsigned int fe_poll(struct fe *fe);
unsigned int fe_vif_poll(struct fe_vif *v);
/* Whether every generator finished and every frame it sent was answered. */
bool fe_gen_done(const struct fe *fe);
uint32_t fe_guest_frames(const struct nb_conf *conf, gntdp_domid_t guest);

/* stats.c */
struct nb_snap {
	uint64_t tsc;
	uint64_t be_cpu_ns; /* CPU time the backend's thread ran (not preempted) */
	uint64_t fe_cpu_ns; /* the same for the calling (frontend) thread */
	struct be_stats be;
	struct vif_stats vif[NB_MAX_VIFS];
	struct port_stats port[NB_MAX_PORTS];
	struct fe_vif_stats fe[NB_MAX_VIFS];
};
void snap_take(const struct be *be, const struct fe *fe, struct nb_snap *s);
void progress_line(const struct be *be, const struct nb_snap *a, const struct nb_snap *b, FILE *f);
void report_text(const struct be *be, const struct fe *fe, const struct nb_snap *s0,
		 const struct nb_snap *s1, FILE *f);
int report_json(const struct be *be, const struct fe *fe, const struct nb_snap *s0,
		const struct nb_snap *s1, FILE *f);
void log_disabled(struct be *be, FILE *f);
void telemetry_register(struct be *be, struct fe *fe);

/* setup.c: the whole world of one run (after EAL init). */
struct nb {
	struct nb_conf conf;
	struct gntdp_mem_ops mem;
	struct gntdp_gnttab *gt;
	/* The data plane: one worker, on lcore `lcore`, runs the backend's poller. */
	struct gntdp_dp *dp;
	unsigned int lcore;
	bool manual; /* one lcore: the main thread steps the worker (gntdp_dp_poll) */
	struct be be;
	struct fe fe;
	bool be_ready, fe_ready, pool_ready;
};
int nb_setup(struct nb *nb);
void nb_teardown(struct nb *nb);

#endif /* NB_H */
