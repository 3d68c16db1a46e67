/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The hypercall interface: one GNTTABOP hypercall = (cmd, count, guest
 * address of the op array, user_data), executed the way Xen's
 * do_grant_table_op executes it, and the hypercall ring that carries such
 * calls between a client and a data-plane worker (docs/hcall.md).
 *
 * Three parts:
 *
 *  1. gntdp_hcall() (core, pure C11, in libgntdp): the op array and every
 *     guest handle inside an op (setup_table's frame_list,
 *     get_status_frames' frame_list) are guest addresses in the caller's
 *     own memory, gfn << 12 | offset. Each op is copied into private memory
 *     before anything looks at it, executed from that copy only (no double
 *     fetch), and its results are copied back, exactly the fields Xen
 *     writes back. An address that does not lie in RAM the caller owns is a
 *     fault: -EFAULT for the op array (as Xen's copy_from_guest failure),
 *     GNTST_bad_virt_addr for a frame list.
 *
 *  2. The ring layout (wire ABI): a header, a submission queue (SQ) of
 *     struct gntdp_hcall_sqe and a completion queue (CQ) of struct
 *     gntdp_hcall_cqe in one region of memory that holds no pointers, only
 *     offsets and free-running 32-bit indices, so that two processes can
 *     map it at different addresses. The client side (gntdp_hcall_client_*,
 *     pure C11, in libgntdp) produces SQ entries and consumes CQ entries.
 *
 *  3. The data-plane side (gntdp_dp_hcall_*, in libgntdp_dataplane): a
 *     ring served by a poller on one worker (gntdp/dataplane.h).
 *
 * Threading: gntdp_hcall() runs on the thread that owns @p ctx (as
 * gntdp_gnttab_op()). A client handle is used by one thread at a time.
 */
#ifndef GNTDP_HCALL_H
#define GNTDP_HCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gntdp/gnttab.h>
#include <gntdp/xen_grant_table.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The hypercall --------------------------------------------------------- */

/** Number of GNTTABOP commands gntdp knows the argument structs of (0..12). */
#define GNTDP_HCALL_NB_CMDS 13

/**
 * Execute hypercall GNTTABOP @p cmd for domain @p caller on @p count ops
 * that lie at guest address @p gaddr (gfn << 12 | offset) in the caller's
 * own RAM, one struct after the other; the array may cross frames.
 *
 * As Xen: ops run in array order; op i is copied in after op i-1 has run
 * and has been written back whenever op i-1 could have changed the memory
 * that holds the array (a copy into or out of a frame of the array, a
 * transfer of such a frame; other ops never touch it, so consecutive ops
 * are fetched together). Every field is read once, from the private copy.
 * Written back: the whole struct for map_grant_ref, query_size,
 * dump_table, set_version and get_version; only status for the others;
 * nothing for cache_flush. A frame list is written element by element;
 * the first element that does not land in the caller's RAM sets
 * GNTST_bad_virt_addr (setup_table stops there, get_status_frames goes on,
 * as Xen). setup_table grows the table before it writes the list, as
 * Xen does, so a bad list still leaves the table grown.
 *
 * Guest memory is the caller's RAM only: frames of its physmap it owns
 * (its own RAM and pages transferred to it). A gfn past the physmap, an
 * empty slot or a grant mapped into the physmap is a fault (Xen refuses
 * grant-mapped frames in copy_from_guest too). While one op array is read
 * or written, each of its frames holds a page reference, so a concurrent
 * transfer of that frame fails with bad_page instead of moving memory
 * under the copy.
 *
 * @return 0 (every op ran; look at each status), or:
 *   - -EFAULT: op i (or its write-back) lies outside the caller's RAM; ops
 *     before i ran and were written back, op i and later ones did not run;
 *   - what gntdp_gnttab_op() returns for the whole call: -EINVAL (count >
 *     INT_MAX; cmd with bits >= 12 set; count != 1 for setup_table,
 *     dump_table, query_size, set_version, get_status_frames,
 *     get_version), -ENOSYS (a command the core does not execute),
 *     -EOPNOTSUPP (transfer while gntdp_gnttab_conf.no_transfer, whatever
 *     the count and gaddr: nothing is read), -ESRCH
 *     (caller is not a live domain, also when it dies during the call).
 *     These checks come before any memory is read, as in Xen.
 */
int gntdp_hcall(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd,
		uint64_t gaddr, unsigned int count);

/** gntdp_hcall_resume(): the call stopped early and goes on with another call. */
#define GNTDP_HCALL_PREEMPTED 1

/**
 * gntdp_hcall() in slices, as Xen's hypercall continuations: a host that
 * serves several callers on one thread (a worker's rings) bounds how long
 * one call holds it. Runs ops *@p done.. of the call; before each chunk of
 * ops after the first, stops once @p budget ops have run in this slice.
 * Call it first with *@p done = 0, then again with the same arguments
 * while it returns GNTDP_HCALL_PREEMPTED; the slices together do exactly
 * what one gntdp_hcall() does (the whole-call checks pass or fail the same
 * in every slice, and slices end only where chunks do, so the guest sees
 * the op-by-op order either way). Statuses of the ops before *@p done are
 * written back when it returns.
 * @param budget ops per slice (at least one chunk of up to 64 ops runs);
 *        UINT_MAX: never preempted, as gntdp_hcall().
 * @param done in: ops already run; out: ops run so far (on 0: count; on
 *        -EFAULT: the op that faulted).
 * @return GNTDP_HCALL_PREEMPTED, or what gntdp_hcall() returns; -EINVAL
 *         also for a NULL @p done or *@p done > @p count.
 */
int gntdp_hcall_resume(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd,
		       uint64_t gaddr, unsigned int count, unsigned int budget, unsigned int *done);

/**
 * Size of @p cmd's argument struct in the op array (Xen's layout), for
 * every command 0..12 whether the core executes it or not; 0 above 12.
 */
size_t gntdp_hcall_op_size(unsigned int cmd);

/**
 * Offset of the int16_t status in @p cmd's argument struct, where a client
 * reads each op's result back from its array; -1 for set_version,
 * get_version and cache_flush (no status: the call's rc is the result) and
 * for any command above 12.
 */
int gntdp_hcall_status_offset(unsigned int cmd);

/* ---- Ring wire layout ------------------------------------------------------- */

/** One submission: one hypercall (32 bytes, two per cache line). */
struct gntdp_hcall_sqe {
	uint64_t user_data; /**< opaque, returned in the completion */
	uint64_t gaddr;     /**< guest address of the op array in the caller's RAM */
	uint32_t cmd;       /**< GNTTABOP_* */
	uint32_t count;     /**< ops in the array */
	uint32_t flags;     /**< zero (non-zero: rc -EINVAL, nothing run) */
	uint32_t rsvd;      /**< zero (non-zero: rc -EINVAL, nothing run) */
};

/** One completion (16 bytes): the hypercall's return value. */
struct gntdp_hcall_cqe {
	uint64_t user_data; /**< the submission's user_data */
	int32_t rc;         /**< gntdp_hcall()'s return value */
	uint32_t flags;     /**< zero */
};

/** First word of a formatted ring region. */
#define GNTDP_HCALL_RING_MAGIC 0x676e7452u /* "Rtng" little-endian */
/** Layout version of struct gntdp_hcall_ring_hdr. */
#define GNTDP_HCALL_RING_VERSION 1u
/** Most entries in either queue. */
#define GNTDP_HCALL_RING_MAX_ENTRIES 32768u

/** Ring states (struct gntdp_hcall_ring_hdr.state). */
#define GNTDP_HCALL_RING_LIVE 0u
#define GNTDP_HCALL_RING_DISABLED 1u

/** Why a worker disabled a ring (struct gntdp_hcall_ring_hdr.reason). */
#define GNTDP_HCALL_REASON_NONE 0u
/** sq_tail - sq_head exceeded the SQ size (the client's tail is corrupt). */
#define GNTDP_HCALL_REASON_SQ_INDEX 1u
/** cq_tail - cq_head exceeded the CQ size (the client's head is corrupt). */
#define GNTDP_HCALL_REASON_CQ_INDEX 2u
/** An rte_ring header in the region no longer matches what the worker set up. */
#define GNTDP_HCALL_REASON_RING_HEADER 3u

/**
 * The region's header: 6 cache lines, each index on a line of its own.
 * Indices are free-running (they wrap at 2^32) and masked with entries - 1.
 * Every field is read and written with atomic 32-bit loads and stores.
 * The worker never reads back what it writes (it keeps private copies of
 * its indices and of the sizes), so a client that scribbles on the header
 * can hurt only its own ring.
 */
struct gntdp_hcall_ring_hdr {
	uint32_t magic;      /**< GNTDP_HCALL_RING_MAGIC */
	uint32_t version;    /**< GNTDP_HCALL_RING_VERSION */
	uint32_t sq_entries; /**< power of two */
	uint32_t cq_entries; /**< power of two */
	uint32_t sq_off;     /**< byte offset of the SQ entries from the region start */
	uint32_t cq_off;     /**< byte offset of the CQ entries */
	uint32_t state;      /**< GNTDP_HCALL_RING_* [worker] */
	uint32_t reason;     /**< GNTDP_HCALL_REASON_* once disabled [worker] */
	uint8_t pad0[32];
	uint32_t sq_tail; /**< next SQ slot the client fills [client] */
	uint8_t pad1[60];
	uint32_t sq_head; /**< next SQ slot the worker takes [worker] */
	uint8_t pad2[60];
	uint32_t cq_tail; /**< next CQ slot the worker fills [worker] */
	uint8_t pad3[60];
	uint32_t cq_head; /**< next CQ slot the client takes [client] */
	uint8_t pad4[60];
	/**
	 * Non-zero: the client sleeps on the ring's eventfd and wants one
	 * signal after the next completions [client sets, worker clears].
	 */
	uint32_t wakeup;
	uint8_t pad5[60];
};

GNTDP_ABI_ASSERT(sizeof(struct gntdp_hcall_sqe) == 32, "gntdp_hcall_sqe");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_hcall_cqe) == 16, "gntdp_hcall_cqe");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_hcall_ring_hdr) == 384, "gntdp_hcall_ring_hdr");
GNTDP_ABI_ASSERT(offsetof(struct gntdp_hcall_ring_hdr, sq_tail) == 64, "sq_tail line");
GNTDP_ABI_ASSERT(offsetof(struct gntdp_hcall_ring_hdr, sq_head) == 128, "sq_head line");
GNTDP_ABI_ASSERT(offsetof(struct gntdp_hcall_ring_hdr, cq_tail) == 192, "cq_tail line");
GNTDP_ABI_ASSERT(offsetof(struct gntdp_hcall_ring_hdr, cq_head) == 256, "cq_head line");
GNTDP_ABI_ASSERT(offsetof(struct gntdp_hcall_ring_hdr, wakeup) == 320, "wakeup line");

/**
 * Bytes a region with @p sq_entries and @p cq_entries needs (header, SQ,
 * CQ, each part 64-byte aligned).
 * @return the size, or 0 when a count is not a power of two in
 *         2..GNTDP_HCALL_RING_MAX_ENTRIES.
 */
size_t gntdp_hcall_ring_mem_size(unsigned int sq_entries, unsigned int cq_entries);

/**
 * Format @p mem (64-byte aligned, @p size bytes) as an empty live ring.
 * Control plane, before either side uses the region.
 * @return 0, -EINVAL (bad counts, NULL or misaligned mem, size too small).
 */
int gntdp_hcall_ring_format(void *mem, size_t size, unsigned int sq_entries,
			    unsigned int cq_entries);

/* ---- Client side ------------------------------------------------------------ */

/**
 * A client's view of a ring region: pointers into the region in this
 * process plus private copies of the sizes and of its own indices. Fill
 * with gntdp_hcall_client_init(); the fields are private.
 */
struct gntdp_hcall_client {
	struct gntdp_hcall_ring_hdr *hdr;
	struct gntdp_hcall_sqe *sq;
	struct gntdp_hcall_cqe *cq;
	uint32_t sq_mask;
	uint32_t cq_mask;
	uint32_t sq_tail;      /* private copy of hdr->sq_tail */
	uint32_t sq_head_seen; /* last hdr->sq_head read */
	uint32_t cq_head;      /* private copy of hdr->cq_head */
	uint32_t rsvd;
};

/**
 * Attach to a formatted region (gntdp_hcall_ring_format()).
 * @return 0, -EINVAL (NULL, wrong magic or version, sizes or offsets that
 *         do not fit in @p size).
 */
int gntdp_hcall_client_init(struct gntdp_hcall_client *c, void *mem, size_t size);

/**
 * Put up to @p n hypercalls on the SQ, in order, with one release store of
 * the tail. The op arrays must be in place before the call; the worker
 * may read them from then until their completion arrives (and the client
 * may change them at any time: that only changes what the worker reads).
 * @return the number queued, 0..n (fewer when the SQ is full, 0 when the
 *         ring is disabled).
 */
unsigned int gntdp_hcall_client_submit(struct gntdp_hcall_client *c,
				       const struct gntdp_hcall_sqe *sqes, unsigned int n);

/**
 * Take up to @p n completions, in submission order, with one acquire load
 * of the worker's tail and one release store of the head.
 * @return the number taken, 0..n.
 */
unsigned int gntdp_hcall_client_reap(struct gntdp_hcall_client *c, struct gntdp_hcall_cqe *cqes,
				     unsigned int n);

/**
 * Before sleeping on the ring's eventfd: ask for a signal (hdr->wakeup =
 * 1, then a full fence that pairs with the worker's fence after its tail
 * store) and look again.
 * @return true when completions are already waiting (do not sleep; the
 *         request stays armed and costs at most one spurious signal),
 *         false when the client may block on the eventfd.
 */
bool gntdp_hcall_client_arm_wakeup(struct gntdp_hcall_client *c);

/**
 * Whether the worker disabled the ring; @p reason (may be NULL) receives
 * GNTDP_HCALL_REASON_*.
 */
bool gntdp_hcall_client_disabled(const struct gntdp_hcall_client *c, uint32_t *reason);

/* ---- Data plane side (libgntdp_dataplane) ------------------------------------ */

struct gntdp_dp;
/** A hypercall ring served by one worker. Opaque. */
struct gntdp_dp_hcall;

/** How the SQ and CQ are implemented in the region (docs/hcall.md has the measurement). */
enum gntdp_dp_hcall_impl {
	/** struct gntdp_hcall_ring_hdr + arrays: the ABI above (default). */
	GNTDP_DP_HCALL_NATIVE = 0,
	/**
	 * Two DPDK rte_rings initialised in the region (rte_ring_init),
	 * single producer / single consumer, entries of the same structs.
	 * For measurement only: an rte_ring keeps its size and mask in the
	 * shared memory it describes and trusts them on every call, so it is
	 * not safe against a client that may write the region.
	 */
	GNTDP_DP_HCALL_RTE_RING = 1,
};

/** Options for gntdp_dp_hcall_create(). Fill with gntdp_dp_hcall_conf_init(). */
struct gntdp_dp_hcall_conf {
	gntdp_domid_t domid;     /**< the caller of every hypercall on this ring */
	unsigned int worker;     /**< worker index that serves it. Default 0 */
	unsigned int sq_entries; /**< power of two, 2..32768. Default 256 */
	unsigned int cq_entries; /**< power of two, 2..32768. Default 256 */
	/** Most hypercalls the worker takes per poll, 1..GNTDP_DP_MAX_BURST. Default 32. */
	unsigned int burst;
	/**
	 * The region (native layout only), 64-byte aligned, at least
	 * gntdp_hcall_ring_mem_size() bytes, formatted by create; it must
	 * outlive the ring. NULL (default): a memzone on the worker's socket.
	 */
	void *mem;
	size_t mem_size; /**< bytes at mem */
	/**
	 * An eventfd the worker writes (1) after publishing completions while
	 * the client has asked for a wake-up; -1 (default): none. Owned by
	 * the caller.
	 */
	int eventfd;
	enum gntdp_dp_hcall_impl impl; /**< default GNTDP_DP_HCALL_NATIVE */
	/**
	 * Most ops one poll runs on this ring (native impl): a call that
	 * would run longer is preempted between chunks of ops and goes on in
	 * the next polls (gntdp_hcall_resume(), Xen's continuations), so one
	 * client's huge op array cannot hold the worker from the other rings.
	 * The ring takes no new call until a preempted one completes.
	 * 0: never preempt. Default GNTDP_DP_HCALL_DEFAULT_PREEMPT_OPS.
	 */
	unsigned int preempt_ops;
};

/** Default gntdp_dp_hcall_conf.preempt_ops: 2048 ops (about 50-200 us). */
#define GNTDP_DP_HCALL_DEFAULT_PREEMPT_OPS 2048u

/** Fill @p conf with defaults. */
void gntdp_dp_hcall_conf_init(struct gntdp_dp_hcall_conf *conf);

/**
 * Create a ring and attach its poller ("hcall") to conf->worker. The
 * poller executes each hypercall with gntdp_hcall() on the worker's own
 * context, taking no more calls per poll than the CQ has room for (so
 * every call taken gets exactly one completion).
 *
 * Callable while the workers run: the ring is then handed to its worker
 * through the worker's mailbox, which the worker applies between two
 * iterations (its other pollers and rings are served throughout),
 * and create returns once the worker has it: it is polled from the
 * worker's next iteration on. Stopped (or on a manual worker), it is
 * attached directly. Any thread that is not a worker (no EAL lcore
 * needed), but not concurrently with another gntdp_dp_hcall_create() /
 * gntdp_dp_hcall_destroy() or other control-plane call on @p dp
 * (start, stop, destroy, poller registration; gntdp/dataplane.h). On a
 * manual worker, only from the thread that runs its gntdp_dp_poll().
 * @return 0, -EINVAL (bad conf: domid, worker, sizes, burst, mem too small
 *         or misaligned, mem with the rte_ring impl), -ENOSPC (poller
 *         limits), -ENOMEM, -ETIMEDOUT (a running worker did not take the
 *         ring within 5 s, one log line: nothing was attached, nothing is
 *         left allocated).
 */
int gntdp_dp_hcall_create(struct gntdp_dp *dp, const struct gntdp_dp_hcall_conf *conf,
			  struct gntdp_dp_hcall **out);

/**
 * Detach the ring's poller from its worker and free the ring (and its
 * memzone), also while the workers run (through the worker's mailbox, as
 * gntdp_dp_hcall_create(); same thread rules). Returns only once the
 * worker is between iterations and will never touch the ring again, so
 * conf.mem may be unmapped or freed as soon as it returns.
 *
 * Calls in flight: every submission the worker took (up to the region's
 * sq_head) has its completion in the CQ (up to cq_tail) before destroy
 * returns: the worker completes each call it takes in the same poll,
 * except a call preempted by conf.preempt_ops, which destroy completes
 * with rc -ECANCELED (its ops before the preemption ran and their statuses
 * are written; the others did not run). Submissions it had not taken
 * (sq_head .. sq_tail) are never executed and never get a completion, and
 * their op arrays are not read. Before gntdp_dp_destroy(). NULL is a no-op.
 * @return 0, -ETIMEDOUT (a running worker did not take the request within
 *         5 s, one log line: the ring is still attached and intact; retry).
 */
int gntdp_dp_hcall_destroy(struct gntdp_dp *dp, struct gntdp_dp_hcall *r);

/**
 * The ring's region (native layout), e.g. to hand to another process or
 * to attach a client with gntdp_hcall_client_init(). NULL for the
 * rte_ring impl. Any thread.
 */
void *gntdp_dp_hcall_mem(const struct gntdp_dp_hcall *r, size_t *size);

/** In-process client: gntdp_hcall_client_submit() on the ring (either impl). */
unsigned int gntdp_dp_hcall_submit_burst(struct gntdp_dp_hcall *r,
					 const struct gntdp_hcall_sqe *sqes, unsigned int n);

/** In-process client: gntdp_hcall_client_reap() on the ring (either impl). */
unsigned int gntdp_dp_hcall_reap_burst(struct gntdp_dp_hcall *r, struct gntdp_hcall_cqe *cqes,
				       unsigned int n);

/**
 * In-process client: block until completions wait, or @p timeout_ms
 * passed, on the ring's eventfd (gntdp_hcall_client_arm_wakeup() first).
 * Native impl only.
 * @return 1 (completions may wait), 0 (timeout), -EINVAL (no eventfd or
 *         rte_ring impl), or a negative errno from poll().
 */
int gntdp_dp_hcall_wait(struct gntdp_dp_hcall *r, int timeout_ms);

/** State of one ring (gntdp_dp_hcall_info()). */
struct gntdp_dp_hcall_info {
	gntdp_domid_t domid;
	unsigned int worker;
	uint64_t calls;    /**< hypercalls completed */
	uint64_t ops;      /**< their counts as submitted (not of calls refused for flags or rsvd) */
	uint64_t faults;   /**< completions with rc -EFAULT */
	uint64_t errors;   /**< completions with another rc != 0 */
	uint64_t wakeups;  /**< eventfd signals sent */
	uint64_t cq_full;  /**< polls where calls waited but the CQ had no room */
	uint64_t preempted; /**< slices of calls that ran out of a poll's preempt_ops */
	bool disabled;     /**< the worker disabled the ring */
	uint32_t reason;   /**< GNTDP_HCALL_REASON_* */
};

/**
 * Read the ring's counters. Any thread (approximate while running).
 * @return 0, -EINVAL (NULL argument).
 */
int gntdp_dp_hcall_info(const struct gntdp_dp_hcall *r, struct gntdp_dp_hcall_info *out);

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_HCALL_H */
