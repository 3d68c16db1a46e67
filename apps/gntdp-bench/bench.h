/* SPDX-License-Identifier: MIT */
/*
 * gntdp-bench internals shared by its translation units: the scenario (what a
 * config file and the command line describe), the latency histogram, the
 * per-client results and the helpers each file exports. Nothing here is
 * public API; the names carry no gntdp_ prefix (STYLE.md §3.2).
 */
#ifndef GNTDP_BENCH_H
#define GNTDP_BENCH_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gntdp/dataplane.h>
#include <gntdp/gnttab.h>
#include <gntdp/hcall.h>

struct gntdp_client;
struct gntdp_client_ring;

#define BENCH_MAX_SIZES 8
#define BENCH_MAX_LCORES 64
#define BENCH_MAX_BURST 512 /* ops or hypercalls a client handles at once (its buffers) */
/* Most ops of one post ([queues] burst). */
#define BENCH_MAX_POST 256

/* Kinds of deliberately invalid requests; each has a status Xen gives. */
enum invalid_kind {
	INV_BAD_REF,       /* copy: source ref beyond the granter's table -> bad_gntref */
	INV_CROSS_PAGE,    /* copy: dest offset + len > 4096 on valid grants -> bad_copy_arg */
	INV_RO_DEST,       /* copy: dest grant is GTF_readonly -> general_error */
	INV_FOREIGN_FRAME, /* copy: frame-mode source naming a foreign domid -> permission_denied */
	INV_LEN0,          /* copy: len 0 with garbage refs and domids -> okay, nothing written */
	INV_BAD_DOMAIN,    /* copy: dest gref of a domid that does not exist -> bad_domain */
	INV_MAP_NOFLAGS,   /* map: neither host_map nor device_map -> bad_gntref (sic) */
	INV_BAD_HANDLE,    /* unmap: handle beyond the maptrack limit -> bad_handle */
	INV_COUNT,
};

/*
 * Every queue is a hypercall ring (docs/hcall.md; the per-op queue is
 * retired). Slot s of a queue owns bytes [s * HC_OP_STRIDE, (s + 1) *
 * HC_OP_STRIDE) of the queue's op-array area in the backend's own RAM; a
 * hypercall over slots s..s+n-1 packs its n ops (of the command's size, at
 * most HC_OP_STRIDE) from byte s * HC_OP_STRIDE.
 */
#define HC_OP_STRIDE 40u /* sizeof(struct gntdp_gnttab_copy), the largest op used */
/* Written into each op's status before submission: no GNTST_* value, so an op never written back fails. */
#define HC_STATUS_UNSET INT16_MAX

/* Everything a run is made of. Filled by the config engine: defaults, the INI file, the CLI. */
struct scenario {
	char config_path[PATH_MAX]; /* "" when none */

	/* [run] */
	double duration_s; /* stop after this long (0: only ops bounds the run) */
	uint64_t ops;      /* stop after this many requests completed (0: duration only) */
	bool verify;       /* check statuses, exactly-once and every copied byte */
	double rate_mops;  /* offered load in M requests/s over all clients (0: unlimited) */
	double rate_pct;   /* or: this % of the peak a calibration run measures first (0: off) */
	double calib_s;    /* length of that calibration run */
	double warmup_s;   /* untimed run before the measurement */
	bool progress;     /* one line per second on stderr */
	bool raw_copy;     /* also measure a raw copy of the same frames */
	uint64_t seed;
	/*
	 * Test hook of the verifier: corrupt one byte of the destination of the
	 * inject_fault-th copy each checking process verifies, right before it
	 * checks (0: off). A run with it must fail.
	 */
	uint64_t inject_fault;

	/* [connect] */
	char connect[108]; /* gntdpd's socket: each domain a client process (connect.c); "" in process */

	/* [domains] */
	unsigned int nb_frontends; /* guests that grant their frames */
	unsigned int nb_backends;  /* driver domains that issue the ops */
	uint32_t frames;           /* RAM frames of each frontend: half TX, half RX */
	uint32_t backend_frames;   /* RAM frames of each backend (gref->frame destinations) */
	uint32_t grant_frames;     /* max grant-table frames per domain */
	uint32_t maptrack_frames;  /* max maptrack frames per backend */

	/* [workers] */
	unsigned int nb_workers;
	unsigned int worker_lcores[BENCH_MAX_LCORES];
	bool cache; /* persistent per-lcore grant cache */
	unsigned int cache_entries;
	unsigned int hold_us; /* pin hold bound of the cache */
	unsigned int idle_sleep_us, idle_after_us; /* the workers' idle back-off */
	char copy_kernel[32]; /* "auto" or a kernel name */

	/* [clients] */
	unsigned int nb_clients; /* 0 in the file means "the main lcore only" */
	unsigned int client_lcores[BENCH_MAX_LCORES];

	/* [queues] ([queues] interface = hcall is accepted and changes nothing) */
	unsigned int queues_per_backend; /* hypercall rings per backend */
	unsigned int ring_size;          /* SQ and CQ entries of each ring, a power of two */
	unsigned int burst;              /* ops a client posts at once (a hypercall per command) */
	/*
	 * Most requests in flight per queue (0: ring_size). Slot i of a queue
	 * always copies the same TX frame to the same RX frame, so depth is also
	 * the working set (2 x depth frames per queue) and the grant cache's reach.
	 */
	unsigned int depth;

	/* [ops] */
	unsigned int nb_sizes;
	uint16_t copy_sizes[BENCH_MAX_SIZES];
	uint16_t src_offset;
	uint16_t dst_offset;
	unsigned int pct_gref_to_gref; /* of the valid copies; the rest are gref->frame */
	unsigned int pct_map_unmap;    /* of all requests, counted in pairs (map + unmap) */
	unsigned int pct_invalid;      /* of all requests */
	uint32_t invalid_mask;         /* bit per enum invalid_kind */
};

/* Frames of one queue's op-array area. */
static inline uint32_t
hc_arr_frames(unsigned int depth)
{
	return (uint32_t)(((uint64_t)depth * HC_OP_STRIDE + GNTDP_PAGE_SIZE - 1) / GNTDP_PAGE_SIZE);
}

/* ---- config.c ---- */
struct app_desc;
/* The app layer's description of gntdp-bench: key table, options, checks (apps/common/app.h). */
extern const struct app_desc bench_app;
/* Cross-field checks after everything is loaded. Returns 0 or -EINVAL (message logged). */
int scenario_validate(const struct scenario *sc);
/* Log "ORIGIN: [sec] key = 'val': why" (ORIGIN: where the value came from); returns -EINVAL. */
int scenario_bad(const struct scenario *sc, const char *sec, const char *key, const char *val,
		 const char *why);
/* The effective config, as an INI file. */
void scenario_print(const struct scenario *sc, FILE *f);
const char *invalid_kind_name(enum invalid_kind k);

/* ---- histogram (report.c) ---- */

/*
 * Log-linear latency histogram in TSC cycles: values below 2^HIST_SUB_BITS
 * are exact, above that each power of two is split into 2^HIST_SUB_BITS
 * buckets, so the relative error of a percentile is below 1/16 (6.25 %).
 */
#define HIST_SUB_BITS 4
#define HIST_NB_BUCKETS ((64 - HIST_SUB_BITS + 1) << HIST_SUB_BITS)

struct hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t bucket[HIST_NB_BUCKETS];
};

static inline unsigned int
hist_index(uint64_t v)
{
	if (v < (1u << HIST_SUB_BITS))
		return (unsigned int)v;
	unsigned int msb = 63u - (unsigned int)__builtin_clzll(v);
	unsigned int shift = msb - HIST_SUB_BITS;
	unsigned int sub = (unsigned int)(v >> shift) & ((1u << HIST_SUB_BITS) - 1);

	return ((shift + 1) << HIST_SUB_BITS) | sub;
}

static inline void
hist_add(struct hist *h, uint64_t v)
{
	h->bucket[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src);
/* Upper bound of the bucket holding quantile q (0..1), in the histogram's unit. */
uint64_t hist_quantile(const struct hist *h, double q);

/* ---- results ---- */

/* What one client measured; summed into the run's totals. */
struct client_stats {
	uint64_t posted;     /* requests placed on rings */
	uint64_t completed;  /* responses consumed */
	uint64_t copies;     /* valid copies completed */
	uint64_t copy_bytes; /* payload bytes of valid copies completed */
	uint64_t maps;
	uint64_t unmaps;
	uint64_t invalid;                      /* invalid requests completed */
	uint64_t by_status[GNTDP_GNTST_COUNT]; /* ops by -status (read back from the op arrays) */
	uint64_t bad_status;                /* status differed from the expected one */
	uint64_t bad_bytes;                 /* copies whose destination bytes were wrong */
	uint64_t dup_or_unknown;            /* hypercall completions not matching what was posted */
	uint64_t short_submit;              /* submits that took fewer requests than offered */
	uint64_t loop_cycles;               /* TSC cycles in the client loop */
	uint64_t busy_cycles;               /* of which in iterations that reaped or posted */
	uint64_t verified;                  /* completions whose effect was checked (verify on) */
};

/* The whole run's measurement. */
struct run_result {
	double elapsed_s; /* measurement window */
	uint64_t tsc_hz;
	struct client_stats win; /* counted in the measurement window */
	struct client_stats tot; /* the whole run, warmup and drain included */
	struct hist lat;         /* submit -> completion in the window, TSC cycles */
	uint64_t cache_hits;     /* data plane counters in the window */
	uint64_t cache_misses;
	uint64_t busy_polls;  /* worker loop iterations that completed >= 1 request */
	uint64_t idle_polls;  /* and those that found nothing: the client was the limit */
	/* The rings' counters in the window (gntdp_dp_hcall_info; in process only) */
	uint64_t hc_win_calls; /* hypercalls completed */
	uint64_t hc_win_ops;   /* and the ops in them */
	uint64_t cq_full;      /* back-pressure: polls where calls waited on a full CQ */
	uint64_t preempted;    /* slices of calls that ran out of a poll's preempt_ops */
	uint64_t lost;        /* posted but never completed */
	uint64_t src_corrupt; /* source frames whose pattern changed */
	double peak_mops;     /* calibration run (rate = N%), else 0 */
	double rate_mops;     /* offered load (0: unlimited) */
	/*
	 * Raw copy of the same frames on the worker lcores (0 when not measured):
	 * RAW_ROUNDS rounds, memcpy and the data plane's kernel alternating, each
	 * figure the median of its rounds (rawcopy.c).
	 */
	double raw_gbps; /* best of the kernels below */
	double raw_mops;
	double raw_memcpy_gbps;
	double raw_kernel_gbps; /* the data plane's kernel */
	double raw_min_gbps;    /* slowest and fastest round of the best kernel */
	double raw_max_gbps;
	unsigned int raw_rounds;
	double raw_round_s;
	bool connect;           /* each domain a client process of gntdpd (connect.c) */
	unsigned int processes; /* connect mode: client processes (frontends + backends) */
	uint64_t checks;        /* connect mode: checks the frontends made in their own frames */
	uint64_t hc_calls;      /* hypercalls the rings completed (whole run) */
	uint64_t hc_ops;        /* and the ops in them */
	double rtt_before_ns;   /* xcore_rtt_ns() before and after the ring run */
	double rtt_after_ns;
	char copy_kernel[32];
	bool hugepages;
	unsigned int nb_workers;
	/*
	 * SIGINT or SIGTERM stopped the run early: the window (if any) is partial
	 * and the run gives no verdict; stopped_in names the phase it came in.
	 */
	bool interrupted;
	const char *stopped_in;
	char first_error[192];
};

/* ---- run-time objects (scenario.c builds them, run.c drives them) ---- */

enum req_kind {
	RK_COPY_GG, /* gref -> gref: frontend TX to another frontend's RX, as netback */
	RK_COPY_GF, /* gref -> frame: frontend TX to the backend's own frame */
	RK_MAP,     /* host_map of a TX grant at a gfn above the backend's RAM */
	RK_UNMAP,   /* unmap of a completed map, with the handle from its completion */
	RK_INVALID, /* one of enum invalid_kind */
};

/* Hot per-slot state: what was posted in this slot, when, and what must come back. */
struct slot {
	uint64_t tsc;     /* submit time */
	int16_t expect;   /* the status Xen gives */
	uint8_t kind;     /* enum req_kind */
	uint8_t inv;      /* enum invalid_kind when kind is RK_INVALID */
	uint16_t len;     /* copy length */
	uint16_t off;     /* destination offset (copies) */
	uint32_t gfn_idx; /* map/unmap: index of the host gfn */
	uint16_t call_n;  /* ops of the hypercall that starts at this slot, else 0 */
	uint8_t cmd;      /* the op's GNTTABOP_* */
	uint8_t rsvd;
};

/* Frames a slot works on, fixed at setup: slot i always uses the same ones. */
struct slot_frames {
	uint8_t *tx; /* source: a frontend's TX frame (granted read-only) */
	uint8_t *rx; /* gref->gref destination: a frontend's RX frame (writable) */
	uint8_t *bf; /* gref->frame destination: a frame of the backend */
	gntdp_grant_ref_t tx_ref;
	gntdp_grant_ref_t rx_ref;
	gntdp_domid_t tx_dom;
	gntdp_domid_t rx_dom;
	uint32_t bf_gfn;
};

struct pending_unmap {
	gntdp_grant_handle_t handle;
	uint32_t gfn_idx;
};

/* Client side of one hypercall ring: one backend domain's request stream. */
struct cqueue {
	struct gntdp_dp_hcall *hc; /* in process: the data plane's ring */
	uint8_t **arr;             /* host address of each frame of the op-array area */
	uint64_t arr_gaddr;        /* guest address of that area in the backend's RAM */
	uint64_t hc_calls;         /* hypercalls posted and completed (exactly-once check) */
	uint64_t hc_done;
	unsigned int qid;
	gntdp_domid_t backend;
	unsigned int depth; /* slots, a power of two */
	uint64_t head;      /* next sequence number to post */
	uint64_t tail;      /* next sequence number to complete */
	uint64_t mix;       /* op-mix position */
	uint64_t inv_rr;    /* invalid-kind round robin */
	struct slot *slots;
	struct slot_frames *fr;
	/* valid copy of slot s: gref->gref at s, gref->frame at depth + s */
	struct gntdp_gnttab_copy *tmpl;
	/* map/unmap: host gfns map_gfn0 + idx, a stack of free ones and a FIFO of live ones */
	uint64_t map_gfn0;
	uint32_t *gfn_free;
	unsigned int nb_gfn_free;
	struct pending_unmap *unmap_fifo; /* depth entries */
	uint64_t unmap_head;
	uint64_t unmap_tail;
	/* connect mode: the ring is gntdpd's; checks of frames this process does not hold */
	struct gntdp_client_ring *cr;
	struct vcheck *chk; /* [depth] by slot (copies), then [depth] by gfn index (maps) */
	uint8_t *tx_shadow; /* the pattern each slot's TX frame holds (depth frames) */
};

enum phase {
	PH_CALIB,  /* full load, to find the peak for rate = N% */
	PH_WARMUP, /* untimed */
	PH_MEASURE,
	PH_DRAIN, /* no new requests; wait for every completion */
	PH_DONE,
};

struct client {
	struct bench *bench;
	struct bench_op *ops; /* burst being built (BENCH_MAX_BURST) */
	unsigned int lcore;
	unsigned int nb_q;
	struct cqueue **q;
	double share;           /* this client's fraction of all queues */
	struct client_stats st; /* whole run (correctness) */
	struct hist lat;        /* recorded during PH_MEASURE only */
	char first_error[192];
	struct client_stats snap0; /* at the start of the measurement */
	struct client_stats snap1; /* at its end */
	uint64_t t0, t1;           /* TSC at the measurement's start and end */
	uint64_t calib_done;       /* completions during calibration */
	uint64_t calib_tsc;
	_Atomic uint64_t pub_completed; /* for the progress line */
	_Atomic uint64_t pub_bytes;
	_Atomic bool finished;    /* left its loop */
	_Atomic bool budget_done; /* measurement over for this client ([run] ops or drain) */
	/* connect mode: the queues' end state, written by the backend process after its loop */
	uint64_t q_lost;  /* posted, never completed */
	uint64_t q_calls; /* hypercalls completed */
	uint64_t q_ops;   /* ops in them */
};

/* What the clients follow: in-process in struct bench, in connect mode shared by every process. */
struct bench_sync {
	_Atomic int phase;
	_Atomic(double) rate_mops; /* effective offered load (after calibration) */
};

/*
 * Connect mode: a check of a frame only its owner (a frontend process) holds,
 * posted by the backend process and done by the owner through its own
 * mapping (connect.c). One per slot for copies, one per host gfn for maps:
 * the backend waits for the previous check of a slot or gfn before reusing it.
 */
enum vcheck_op {
	VC_COPY,     /* [off, off + len) of frame gfn holds pattern(src_dom, src_gfn) from src_off,
			the guard bytes are poison; then re-poison range and guards */
	VC_POISON,   /* [off, off + len) is still poison (a refused copy) */
	VC_MAPPED,   /* grant ref gfn is GTF_reading (a live host map of it) */
	VC_UNMAPPED, /* grant ref gfn is not GTF_reading (its map is gone; map-unmap only) */
};

struct vcheck {
	_Atomic uint32_t req;  /* bumped by the backend after it filled the fields (release) */
	_Atomic uint32_t done; /* set to req by the checker when done (release) */
	uint8_t op;            /* enum vcheck_op */
	uint8_t rsvd;
	gntdp_domid_t dom; /* the frontend that checks */
	uint32_t gfn;      /* VC_COPY, VC_POISON: the frame; VC_MAPPED, _UNMAPPED: the grant ref */
	uint16_t off, len;
	gntdp_domid_t src_dom;
	uint16_t src_off;
	uint32_t src_gfn;
	uint32_t qid;
	uint64_t seq;
};

struct bench {
	struct scenario sc;
	bool json;
	struct gntdp_mem_ops mem;
	struct gntdp_gnttab *gt;
	struct gntdp_dp *dp;
	unsigned int nb_q;
	struct cqueue *cq;
	unsigned int nb_clients;
	struct client *clients;
	bool main_is_client;
	uint64_t tsc_hz;
	struct bench_sync *sync;      /* &sync_local, or connect mode's shared one */
	struct bench_sync sync_local;
	double peak_mops;             /* calibration result */
	/* connect mode (connect.c) */
	bool connect;
	struct gntdp_client *cl;    /* this process's connection (a backend or a frontend) */
	gntdp_domid_t self;         /* its domain */
	bool ticker;                /* the backend process that runs the controller (backend 0) */
	uint64_t inject_seen;       /* copies checked so far ([run] inject_fault) */
	/* mix tables: 100 entries each, shuffled by the seed */
	uint8_t class_tab[100]; /* RK_COPY_GG (any valid copy), RK_MAP, RK_INVALID */
	uint8_t gg_tab[100];    /* 1: gref->gref, 0: gref->frame */
	bool mapunmap_only;     /* map_unmap = 100: the pairs fast path */
	bool copies_only;       /* no map/unmap and no invalid share: the template fast path */
	uint8_t inv_kinds[INV_COUNT];
	unsigned int nb_inv_kinds;
	/* controller state */
	uint64_t ph_start;
	uint64_t next_tick;
	uint64_t next_progress;
	uint64_t last_completed;
	uint64_t last_bytes;
	uint64_t last_progress_tsc;
	uint64_t run_start;
	struct gntdp_dp_stats dps0, dps1;
	/* the rings' counters summed, at the window's ends */
	struct gntdp_dp_hcall_info hci0, hci1;
	int stop_phase; /* enum phase a stop request (signal) arrived in; -1: none */
	char copy_name[32];
};

/* ---- scenario.c ---- */
/* Frontend f's and backend bk's domids. */
gntdp_domid_t frontend_id(unsigned int f);
gntdp_domid_t backend_id(const struct scenario *sc, unsigned int bk);
/* RAM frames of each backend: copy destinations, op arrays, (connect, raw copy) raw sources. */
uint32_t backend_ram_frames(const struct scenario *sc);
/* Host address of frame gfn of domain d in this process, or NULL (not held here). */
uint8_t *bench_frame(struct bench *b, gntdp_domid_t d, uint64_t gfn);
/* Client state of queue number ql of backend bk. 0, -ENOMEM or -EINVAL. */
int init_cqueue(struct bench *b, struct cqueue *cq, unsigned int bk, unsigned int ql);
void free_cqueue(struct cqueue *cq);
/* The op-mix tables of the scenario (b->class_tab, gg_tab, inv_kinds, the fast-path flags). */
void build_mix(struct bench *b);
/* Resolve lcore defaults against EAL's lcores and check them. 0 or -EINVAL. */
int scenario_resolve_lcores(struct scenario *sc);
int bench_setup(struct bench *b);
void bench_teardown(struct bench *b);

/* ---- requests and op arrays (gen.c builds them, run.c reaps them) ---- */

/*
 * A hypercall's user_data: the sequence number of its first op and its op
 * count. Completions must come back in submission order, so each must carry
 * exactly the next expected sequence number and the count that was posted
 * at that slot: a lost, duplicated or reordered hypercall is a mismatch.
 */
#define HC_USER_DATA(seq, n) (((uint64_t)(n) << 48) | ((seq) & ((1ull << 48) - 1)))

/* One op as it lies in the op array: the commands gntdp-bench issues. */
union hc_op {
	struct gntdp_gnttab_copy copy;
	struct gntdp_gnttab_map_grant_ref map;
	struct gntdp_gnttab_unmap_grant_ref unmap;
};
_Static_assert(sizeof(union hc_op) == HC_OP_STRIDE, "HC_OP_STRIDE is the largest op");

/* One op as the client builds it (gen.c), before hc_submit packs it into an op array. */
struct bench_op {
	union hc_op op;
	uint8_t cmd; /* GNTTABOP_* */
};

/* What came back for one op: read from the op array after its hypercall completed. */
struct bench_cpl {
	int16_t status;              /* the status the worker wrote back */
	int32_t rc;                  /* the hypercall's return value */
	gntdp_grant_handle_t handle; /* map: the handle written back */
};

static inline size_t
hc_op_size(uint8_t cmd)
{
	return cmd == GNTDP_GNTTABOP_COPY	       ? sizeof(struct gntdp_gnttab_copy)
	       : cmd == GNTDP_GNTTABOP_MAP_GRANT_REF ? sizeof(struct gntdp_gnttab_map_grant_ref)
						     : sizeof(struct gntdp_gnttab_unmap_grant_ref);
}

/* [off, off + len) of the op-array area lies in one frame. */
static inline bool
hc_in_frame(size_t off, size_t len)
{
	return (off & (GNTDP_PAGE_SIZE - 1)) + len <= GNTDP_PAGE_SIZE;
}

/* Host address of byte off of the op-array area (ops lie at multiples of 8: aligned). */
static inline union hc_op *
hc_at(const struct cqueue *cq, size_t off)
{
	return (union hc_op *)(void *)(cq->arr[off >> GNTDP_PAGE_SHIFT] +
				       (off & (GNTDP_PAGE_SIZE - 1)));
}

/* Copy between the client and its op-array area (guest memory, frame by frame). */
static inline void
hc_guest_io(const struct cqueue *cq, size_t off, void *buf, size_t len, bool write)
{
	while (len > 0) {
		size_t in = off & (GNTDP_PAGE_SIZE - 1), n = GNTDP_PAGE_SIZE - in;
		uint8_t *g = cq->arr[off >> GNTDP_PAGE_SHIFT] + in;

		n = n < len ? n : len;
		if (write)
			memcpy(g, buf, n);
		else
			memcpy(buf, g, n);
		off += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
}

/* The hypercall over slots s0 .. s0 + n - 1 (first sequence number seq). */

/*
 * Build up to n ops at the queue's head (cq->head advances), grouped by
 * command; returns how many (fewer when map/unmap slots run out).
 */
unsigned int build_burst(struct bench *b, struct cqueue *cq, struct bench_op *ops, unsigned int n,
			 uint64_t tsc);
/* Post the n ops just built (sequence numbers cq->head - n ..) as hypercalls. */
unsigned int hc_submit(struct cqueue *cq, const struct bench_op *ops, unsigned int n);
/* Valid copies only: n of them straight into the op array; advances cq->head. */
unsigned int hc_post_copies(struct bench *b, struct cqueue *cq, unsigned int n, uint64_t tsc);

/* ---- run.c ---- */
int bench_run(struct bench *b, struct run_result *r);
/* The client loop of one client (an lcore in process, a backend process in connect mode). */
int client_loop(void *arg);
/* The controller: one step (phases, progress, a stop request). */
void controller_tick(struct bench *b, uint64_t tsc);
void set_phase(struct bench *b, int ph, uint64_t tsc);
/* The clients' share of the result: window, totals, latency, first error, phase names. */
void collect_clients(struct bench *b, struct run_result *r);
/* Reap one ring's completions; the number of ops completed. */
unsigned int reap(struct bench *b, struct client *c, struct cqueue *cq, bool measuring);
/* A valid copy of slot frames fr (gg: gref->gref, else gref->frame). */
void fill_copy(struct gntdp_gnttab_copy *c, const struct slot_frames *fr, bool gg, uint16_t src_off,
	       uint16_t dst_off, uint16_t len);

/* ---- rawcopy.c ---- */
/* Time a raw copy of the frames the run used on the worker lcores. */
int rawcopy_measure(struct bench *b, struct run_result *r);
/* Cache-line round trip main lcore <-> first worker lcore, ns (workers stopped; 0 on failure). */
double xcore_rtt_ns(struct bench *b);

/* ---- connect.c ---- */
/* The whole run in connect mode: fork the domain processes, drive them, collect. */
int connect_run(struct bench *b, struct run_result *r);

/* ---- report.c ---- */
void report_table(const struct scenario *sc, const struct run_result *r, FILE *f);
void report_json(const struct scenario *sc, const struct run_result *r, FILE *f);
void report_progress(double t, uint64_t ops_delta, uint64_t bytes_delta, double dt, FILE *f);
/*
 * Exit 0 or not: the run completed (not interrupted), completed requests in
 * its window, and every check it made passed (with verify = off: statuses,
 * exactly-once and the sources; with verify = on also every copied byte).
 */
bool result_ok(const struct scenario *sc, const struct run_result *r);
/* What the outputs print as the verification: "pass", "off", "fail" or "interrupted". */
const char *result_verification(const struct scenario *sc, const struct run_result *r);

/* ---- verify.c ---- */

/*
 * Pattern of a frontend's TX frame: byte o of (domid, gfn) is a function of
 * all three and of the run's seed, so a byte copied from the wrong frame,
 * the wrong offset or a stale run never matches by accident.
 */
void pattern_fill(uint8_t *frame, gntdp_domid_t domid, uint64_t gfn, uint64_t seed);
/* Offset of the first byte of frame that differs from its pattern, or -1. */
int pattern_check(const uint8_t *frame, gntdp_domid_t domid, uint64_t gfn, uint64_t seed);
int16_t invalid_expected_status(enum invalid_kind k);
void poison_range(uint8_t *frame, unsigned int off, unsigned int len);
/*
 * Before slot s posts a copy into [off, off + len) of frame (NULL: a frame
 * this process does not hold, connect mode): poison the range and its
 * guards, or wait for the owner's check of the slot's previous copy, which
 * re-poisoned it.
 */
void prepare_dest(struct bench *b, struct cqueue *cq, unsigned int s, uint8_t *frame,
		  unsigned int off, unsigned int len);
/* Connect mode, verify on: before host gfn index g is mapped or unmapped again. */
void prepare_map(struct bench *b, struct cqueue *cq, uint32_t g);
/* [run] inject_fault: corrupt byte 0 of dst when this is the N-th copy checked here. */
void maybe_inject(struct bench *b, uint8_t *dst);
/* Connect mode: wait until the checker has done every check posted on cq. */
void checks_drain(struct bench *b, struct cqueue *cq);
/* Connect mode: the check a frontend process makes; true when it passed, else why says. */
bool vcheck_do(struct bench *b, const struct vcheck *v, char *why, size_t wl);
void verify_effect(struct bench *b, struct client *c, struct cqueue *cq, uint64_t seq,
		   const struct slot *sl, const struct bench_cpl *cpl);
/* Check every TX frame against its pattern; the number that differ (first one described in err). */
uint64_t verify_sources(struct bench *b, char *err, size_t errlen);

#define POISON_BYTE 0xA5u
/* Bytes either side of a copy's destination range that must stay poisoned. */
#define GUARD_BYTES 16u

#endif /* GNTDP_BENCH_H */
