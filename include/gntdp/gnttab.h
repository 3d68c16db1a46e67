/* SPDX-License-Identifier: MIT */
/**
 * @file
 * gntdp grant-table core: domains, their frames, grant tables, active
 * entries, maptrack, and every GNTTABOP op of the seed interface with Xen's
 * check order and status codes.
 *
 * The core is pure C11 (no DPDK, no threads of its own, no I/O except the
 * optional log callback). Memory comes from an injected provider
 * (struct gntdp_mem_ops); the data plane plugs in hugepage memzones.
 *
 * Objects:
 *  - struct gntdp_gnttab: one "hypervisor": the domain table and the
 *    contexts that execute ops. Control-plane calls (create/destroy of
 *    domains and contexts) may run on any thread but not concurrently with
 *    each other.
 *  - struct gntdp_gnttab_ctx: an execution context, the equivalent of a
 *    physical CPU running hypercalls. Owned by one thread at a time. Any
 *    number of contexts may execute ops concurrently on the same domains;
 *    shared state is protected as docs/concurrency.md describes.
 *  - Guest side (gntdp_guest_*): what a guest kernel does on its own grant
 *    table (grant, end access, read-only toggles, accept transfer). Callable
 *    from any thread, concurrently with ops, as a real guest would.
 *
 * Semantics deviations from Xen (by design, all documented in
 * docs/semantics.md): domains are "translated" for host_map (the frame is
 * inserted into the caller's physmap at host_addr >> 12) but may use
 * device_map (dev_bus_addr is the frame's I/O address); transfer is
 * available (Xen: PV only; off with gntdp_gnttab_conf.no_transfer) and
 * takes a gfn of the caller; dump_table is
 * implemented (Xen: -ENOSYS) and writes to the log callback.
 */
#ifndef GNTDP_GNTTAB_H
#define GNTDP_GNTTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gntdp/xen_grant_table.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gntdp_gnttab;
struct gntdp_gnttab_ctx;

/* ---- Memory provider ----------------------------------------------------- */

/**
 * Where frames come from. One allocation backs a domain's RAM or its grant
 * table: @p nb_frames 4 KiB frames, contiguous in virtual memory, 4 KiB
 * aligned, zero-filled.
 */
struct gntdp_mem_ops {
	/**
	 * Allocate. @p socket is a NUMA node hint (-1: any). Returns the base
	 * address or NULL.
	 */
	void *(*alloc)(void *arg, size_t nb_frames, int socket);
	/** Release an allocation made by alloc (same base and count). */
	void (*free)(void *arg, void *va, size_t nb_frames);
	/**
	 * I/O (bus) address of the frame at @p va, reported as dev_bus_addr by
	 * device maps. Called once per frame at allocation, never per op.
	 * NULL means IOVA = VA.
	 */
	uint64_t (*virt2iova)(void *arg, const void *va);
	/** Passed to every callback. */
	void *arg;
};

/** The built-in provider: aligned_alloc + memset, IOVA = VA. */
extern const struct gntdp_mem_ops gntdp_mem_ops_heap;

/* ---- World --------------------------------------------------------------- */

/** Log severities passed to the log callback. */
enum gntdp_log_level {
	GNTDP_LOG_ERR = 3,
	GNTDP_LOG_WARNING = 4,
	GNTDP_LOG_INFO = 6,
	GNTDP_LOG_DEBUG = 7,
};

/** Options for gntdp_gnttab_create(). Fill with gntdp_gnttab_conf_init(). */
struct gntdp_gnttab_conf {
	/** Frame memory. Default: &gntdp_mem_ops_heap. */
	const struct gntdp_mem_ops *mem;
	/** Most contexts that may exist at once. Default 64. */
	unsigned int max_ctx;
	/**
	 * Where dump_table output and rare diagnostics go, one line per call
	 * (no trailing newline). Default: stderr. Never called per op except by
	 * dump_table.
	 */
	void (*log)(void *arg, enum gntdp_log_level level, const char *line);
	void *log_arg;
	/**
	 * Refuse GNTTABOP_transfer as Xen does with `gnttab=no-transfer` (or
	 * without CONFIG_PV): every transfer call returns -EOPNOTSUPP after
	 * the whole-call -EINVAL/-EFAULT checks, whatever its count, with no
	 * op read, run or written back. Default false: transfer is executed.
	 * gntdpd sets it: a transferred page would stay mapped in the donor's
	 * process (docs/daemon.md "Memory").
	 */
	bool no_transfer;
};

/** Fill @p conf with defaults (no_transfer false). */
void gntdp_gnttab_conf_init(struct gntdp_gnttab_conf *conf);

/**
 * Create a world with no domains.
 * @return 0, -EINVAL (bad conf), -ENOMEM.
 */
int gntdp_gnttab_create(const struct gntdp_gnttab_conf *conf, struct gntdp_gnttab **out);

/**
 * Destroy a world: every domain (as gntdp_domain_destroy) and its memory.
 * All contexts must have been destroyed. NULL is a no-op.
 */
void gntdp_gnttab_destroy(struct gntdp_gnttab *gt);

/* ---- Domains ------------------------------------------------------------- */

/** Default and hard limits. */
#define GNTDP_DEFAULT_MAX_GRANT_FRAMES 64
#define GNTDP_DEFAULT_MAX_MAPTRACK_FRAMES 1024
#define GNTDP_MAPTRACK_PER_FRAME 256
#define GNTDP_MAX_GRANT_FRAMES_LIMIT 4096
#define GNTDP_MAX_MAPTRACK_FRAMES_LIMIT 65536

/** Options for gntdp_domain_create(). Fill with gntdp_domain_conf_init(). */
struct gntdp_domain_conf {
	gntdp_domid_t domid;  /**< below DOMID_FIRST_RESERVED */
	bool privileged;      /**< control domain: may name other domains in setup/query/dump */
	uint32_t nr_frames;   /**< RAM frames, at gfn 0 .. nr_frames-1. Default 256 */
	/**
	 * Size of the physmap (gfn space), >= nr_frames. Gfns above the RAM
	 * receive host mappings and transferred pages. 0 = nr_frames + 65536.
	 */
	uint32_t p2m_size;
	/** Grant-table frame limit (512 v1 entries each). Default 64. The table starts at 1 frame. */
	uint32_t max_grant_frames;
	/** Maptrack frame limit (256 handles each). Default 1024; 0 = this domain can never map. */
	uint32_t max_maptrack_frames;
	/**
	 * Highest grant-table version set_version may select: 1 or 2 (0 and
	 * the default mean 2, as Xen on x86). With 2 the status frames of the largest v2 table
	 * (ceil(max_grant_frames / 8)) are allocated with the domain.
	 */
	uint32_t max_grant_version;
	int socket; /**< NUMA hint for the memory provider, -1 = any */
};

/** Fill @p conf with defaults (domid 0). */
void gntdp_domain_conf_init(struct gntdp_domain_conf *conf);

/**
 * Create a domain: allocate its RAM and its grant table (1 frame populated).
 * @return 0, -EINVAL (bad domid or limits), -EEXIST (domid in use, or
 *         used by a destroyed domain that other domains' mappings or cached
 *         copy pins still keep alive, as Xen keeps a zombie's id until it is
 *         gone), -ENOMEM.
 */
int gntdp_domain_create(struct gntdp_gnttab *gt, const struct gntdp_domain_conf *conf);

/**
 * Destroy a domain with Xen's teardown semantics. The domid disappears at
 * once (new ops naming it get bad_domain; ops it would issue get -ESRCH).
 * The call waits until no context is inside a batch that may still use it,
 * then releases every mapping the domain holds on other domains' grants
 * (their pins drop and GTF_reading/writing clear), and frees its memory. If
 * other domains still map its grants, its grant table and those frames
 * stay alive until the last such mapping is unmapped; those unmaps succeed.
 * Must not be called from inside a batch. Cost is bounded by the number of
 * live mappings (XSA-380 test: 100,000).
 * @return 0, -ESRCH (no such domain).
 */
int gntdp_domain_destroy(struct gntdp_gnttab *gt, gntdp_domid_t domid);

/**
 * Free the memory of destroyed domains whose last mapping or cached pin
 * has gone since. Their memory is kept until a grace period has passed
 * (every context that was inside a batch has left it), because a racing op
 * may still hold a pointer to them. gntdp_domain_create(),
 * gntdp_domain_destroy() and gntdp_gnttab_destroy() reclaim too; call
 * this from the control thread of a long-running process that destroys
 * domains rarely. Control plane; never from inside a batch.
 */
void gntdp_gnttab_reclaim(struct gntdp_gnttab *gt);

/**
 * Address of the frame at @p gfn in @p domid's physmap: its own RAM, a
 * page transferred to it, or a grant host-mapped there.
 * @return the frame, or NULL (no domain, gfn out of range or empty).
 * Not for hot paths: for tests, demos and emulated guests.
 * Safe against a concurrent gntdp_domain_destroy() of the same domain (the
 * destroy waits until this call has left); the frame returned stays valid
 * only until the domain is destroyed or the gfn's mapping changes.
 */
void *gntdp_domain_frame(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn);

/**
 * Populate @p domid's physmap, as Xen's XENMEM_populate_physmap: one new
 * provider allocation ("segment") of @p nb_frames frames, owned by
 * @p domid, inserted as RAM at gfn .. gfn + nb_frames - 1. The frames are
 * zeroed (the provider's contract) and behave exactly as the domain's own
 * RAM: it may grant them, copy to and from them in frame mode, transfer
 * them. Each gfn is claimed with a compare-and-exchange from empty, so an
 * op of a running context that host-maps into the range concurrently either
 * wins (this call fails -EBUSY and changes nothing) or fails itself.
 * Control plane (one thread at a time with gntdp_domain_create/destroy);
 * safe against running contexts.
 * @param va_out receives the allocation's address in this process (the
 *        frames lie at va_out + i * 4096). May be NULL.
 * @return 0, -ESRCH (no such domain, or dying), -EINVAL (nb_frames 0 or
 *         above 1 << 20, the range past the domain's p2m_size), -EBUSY (a
 *         gfn of the range is not empty: RAM, a host-mapped grant, a slot
 *         a transfer reserved), -ENOMEM (the provider failed).
 */
int gntdp_domain_populate(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn,
			  uint32_t nb_frames, void **va_out);

/**
 * Remove @p nb_frames frames of RAM at gfn .. gfn + nb_frames - 1 from
 * @p domid's physmap, as Xen's XENMEM_decrease_reservation: the slots
 * become empty and the domain loses ownership at once (a new grant or
 * frame-mode copy naming those gfns gets bad_page; a cached frame-mode
 * hold is dropped at its next use). A frame that another domain still
 * maps, or that a pin or a cached copy pin holds, stays alive, with its
 * contents, until that last reference goes; then its allocation is freed
 * once all its frames are dead. Every gfn must hold RAM the domain owns
 * (its RAM, a populated frame, a received transfer), else nothing changes.
 * Waits until no context is inside a batch that may have read the old
 * slots. Control plane, as gntdp_domain_populate(); never from inside a
 * batch.
 * @return 0, -ESRCH (no such domain, or dying), -EINVAL (nb_frames 0, the
 *         range past p2m_size, a gfn that holds no RAM of the domain).
 */
int gntdp_domain_depopulate(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn,
			    uint32_t nb_frames);

/** What a physmap slot holds (gntdp_domain_p2m_query()). */
enum gntdp_p2m_kind {
	GNTDP_P2M_EMPTY = 0,    /**< nothing (or a slot a transfer reserved) */
	GNTDP_P2M_RAM = 1,      /**< a frame the domain owns */
	GNTDP_P2M_GRANT_RO = 2, /**< a foreign frame host-mapped read-only */
	GNTDP_P2M_GRANT_RW = 3, /**< a foreign frame host-mapped writable */
};

/**
 * What @p gfn of @p domid's physmap holds, and the frame's address in this
 * process. Memory-safe against running contexts that unmap or free the
 * frame meanwhile (the frame's segment is checked to be live under the
 * world's segment lock); the answer is a snapshot: a caller that uses @p va
 * after the call needs its own reason why the frame is still alive (e.g.
 * it allocated the segment and has not depopulated it). Any thread; safe
 * against a concurrent gntdp_domain_destroy() of the domain.
 * @param kind receives enum gntdp_p2m_kind (GNTDP_P2M_EMPTY on any error).
 * @param va receives the frame (NULL when empty). May be NULL.
 * @return 0, -ESRCH (no such domain), -EINVAL (@p kind NULL, gfn past p2m_size).
 */
int gntdp_domain_p2m_query(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint64_t gfn,
			   enum gntdp_p2m_kind *kind, void **va);

/** Counters describing one domain's grant usage (gntdp_domain_info). */
struct gntdp_domain_info {
	uint32_t nr_frames;           /**< RAM frames */
	uint32_t nr_grant_frames;     /**< current grant-table size */
	uint32_t max_grant_frames;
	uint32_t maptrack_limit;      /**< handles allocated so far */
	uint32_t max_maptrack_handles;
	uint32_t live_mappings;       /**< handles in use */
	uint32_t pinned_entries;      /**< own entries with a non-zero pin */
	uint32_t owned_pages;         /**< pages this domain owns (RAM + received - given) */
	bool dying;
	uint32_t grant_version;       /**< 1 or 2 (set_version) */
	uint32_t nr_status_frames;    /**< v2 status frames in use (0 on v1) */
};

/**
 * Read @p domid's counters. Any thread; safe against a concurrent
 * gntdp_domain_destroy() of the same domain (-ESRCH once it is gone).
 * @return 0 or -ESRCH.
 */
int gntdp_domain_info(struct gntdp_gnttab *gt, gntdp_domid_t domid, struct gntdp_domain_info *out);

/* ---- Execution contexts and the batch entry point ------------------------ */

/**
 * Copy function used for GNTTABOP_copy payloads. Must copy exactly @p n
 * bytes (1..4096); the ranges never cross a frame. The default is memmove.
 * The data plane installs its vector kernels.
 */
typedef void (*gntdp_copy_fn)(void *dst, const void *src, size_t n);

/** Statistics of one context (summed on read by the data plane). */
struct gntdp_gnttab_ctx_stats {
	uint64_t calls;                       /**< batch entry point calls */
	uint64_t ops[13];                     /**< ops processed, by cmd */
	uint64_t status[GNTDP_GNTST_COUNT];   /**< ops by -status */
	uint64_t copy_bytes;                  /**< payload bytes copied */
	uint64_t cache_hits;                  /**< grant acquisitions served from the cache */
	uint64_t cache_misses;                /**< grant acquisitions that pinned an entry */
	uint64_t cache_releases;              /**< cached pins released */
};

/** How a context's grant cache keeps pins between batches. */
struct gntdp_gnttab_cache_conf {
	/**
	 * false (default, exactly Xen): a copy holds at most one source and
	 * one destination pin, like Xen's two copy buffers. A buffer is reused
	 * only by the next op naming the same ref (or frame) with the same
	 * (source, dest) domids; it is dropped when an op names another one,
	 * when the domid pair changes, when an op fails, and when the call
	 * returns. Between ops the granter may end access on a dropped entry,
	 * and the next op re-validates it.
	 * true: pins stay cached across calls until gntdp_gnttab_ctx_expire()
	 * drops them; the caller states and enforces the bound (counted from
	 * when each pin was taken).
	 */
	bool persistent;
	/** Entries in the cache, a power of two, 2..4096. Default 64. */
	unsigned int nb_entries;
};

/**
 * Create an execution context.
 * @param cache NULL for the default (Xen-exact, release at end of call).
 * @return 0, -EINVAL, -ENOSPC (max_ctx reached), -ENOMEM.
 */
int gntdp_gnttab_ctx_create(struct gntdp_gnttab *gt, const struct gntdp_gnttab_cache_conf *cache,
			    struct gntdp_gnttab_ctx **out);

/** Release cached pins and free the context. NULL is a no-op. */
void gntdp_gnttab_ctx_destroy(struct gntdp_gnttab_ctx *ctx);

/** Install the copy function (NULL restores memmove). Owner thread only. */
void gntdp_gnttab_ctx_set_copy(struct gntdp_gnttab_ctx *ctx, gntdp_copy_fn fn);

/**
 * Set the context's clock, in caller-chosen ticks, used to age cached pins.
 * Call once per burst. Owner thread only.
 */
void gntdp_gnttab_ctx_set_now(struct gntdp_gnttab_ctx *ctx, uint64_t now);

/**
 * Release every cached pin taken before @p older_than (ticks of
 * gntdp_gnttab_ctx_set_now; UINT64_MAX releases all). Expiry counts from
 * when the pin was taken, not from its last use, so a grant in continuous
 * use is still released (and re-validated on its next use) once per hold
 * period: a guest's end access succeeds within the bound even under load.
 * Owner thread only.
 * @return the number of pins released.
 */
unsigned int gntdp_gnttab_ctx_expire(struct gntdp_gnttab_ctx *ctx, uint64_t older_than);

/**
 * Announce a quiescent point: the context holds no reference it obtained
 * from a domain lookup. Domain destruction waits for it (or for the
 * context to be outside a batch). Persistent caches should call it once
 * per poll loop iteration after gntdp_gnttab_ctx_expire(); plain batch
 * calls already count as quiescent between calls.
 */
void gntdp_gnttab_ctx_quiescent(struct gntdp_gnttab_ctx *ctx);

/**
 * Copy out the context's counters. Any thread: each counter is read
 * atomically (relaxed), the set is not a consistent snapshot while the
 * owner runs.
 */
void gntdp_gnttab_ctx_stats(const struct gntdp_gnttab_ctx *ctx, struct gntdp_gnttab_ctx_stats *out);

/**
 * The hypercall: execute @p count ops of command @p cmd for domain
 * @p caller, in array order. Each op gets its status (and outputs) as Xen
 * writes them back; a failing op never stops the batch.
 *
 * Commands executed: all of 0-12 (map_grant_ref, unmap_grant_ref,
 * setup_table, dump_table, transfer, copy, query_size, unmap_and_replace,
 * set_version, get_status_frames, get_version, swap_grant_ref,
 * cache_flush), on v1 and v2 tables; 13 and above return -ENOSYS.
 * set_version and get_version read one struct whatever @p count is (as
 * Xen) and return their own errnos (-EINVAL, -ENOSYS, -EBUSY, -EAGAIN,
 * -ERANGE; -ESRCH, -EPERM). cache_flush has no status: the first failing
 * op's errno is the call's result (-EINVAL, -EPERM, -EILSEQ, -EOPNOTSUPP),
 * and cmd bits >= 12 are its continuation argument (the ref at which the
 * search of the frame owner's table starts).
 *
 * @param ops array of the command's argument struct (e.g.
 *        struct gntdp_gnttab_copy[count]).
 * @return 0 (look at each status), or a whole-call error with nothing done:
 *         -EINVAL (count > INT_MAX; cmd with bits >= 12 set, except
 *         cache_flush whose continuation argument they are; count != 1 for
 *         setup_table/query_size/dump_table/get_status_frames), -EFAULT
 *         (ops NULL with count > 0, or NULL for set_version/get_version:
 *         Xen's copy from guest memory fails), -ENOSYS (unknown cmd),
 *         -EOPNOTSUPP (transfer while gntdp_gnttab_conf.no_transfer, also
 *         with count 0), -ESRCH (caller is not a live domain).
 *         A NULL setup_table frame_list is no whole-call error: as for a
 *         translated Xen caller the table grows, then the write faults and
 *         the status is bad_virt_addr.
 */
int gntdp_gnttab_op(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd, void *ops,
		    unsigned int count);

/**
 * gntdp_gnttab_op() over argument structs that sit @p stride bytes apart,
 * for example inside larger request records (the data plane passes its
 * ring entries in place). Same semantics and results.
 * @param stride at least the size of cmd's argument struct and a multiple of
 *        its alignment (8; 4 for query_size; 2 for dump_table).
 * @return as gntdp_gnttab_op(), and -EINVAL for a bad stride: too small,
 *         misaligned, above PTRDIFF_MAX, or one that puts the last struct
 *         (count x stride) beyond the end of the address space. Checked
 *         before the first op runs.
 */
int gntdp_gnttab_op_strided(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd,
			    void *ops, size_t stride, unsigned int count);

/**
 * Size of the argument struct of @p cmd (sizeof(struct gntdp_gnttab_copy)
 * for GNTDP_GNTTABOP_COPY, ...), or 0 for a command gntdp does not execute.
 */
size_t gntdp_gnttab_op_size(unsigned int cmd);

/** Message for a GNTST_* status (Xen's text), "unknown status" when out of range. */
const char *gntdp_gntst_str(int16_t status);

/** Name of a GNTST_* status ("GNTST_bad_domain"), "GNTST_?" when out of range. */
const char *gntdp_gntst_name(int16_t status);

/* ---- Guest side ---------------------------------------------------------- */

/**
 * A domain's shared v1 entries as the guest sees them (its grant frames).
 * The array may grow (setup_table), never moves or shrinks while the
 * domain lives; @p nr_entries is the current count. The call itself is safe
 * against a concurrent gntdp_domain_destroy(); the array it returns is
 * valid only until the domain is destroyed (callers that race a destroy
 * must not touch it after they requested the destroy).
 * @return 0 or -ESRCH.
 */
int gntdp_guest_table(struct gntdp_gnttab *gt, gntdp_domid_t domid, struct gntdp_grant_entry_v1 **entries,
		      uint32_t *nr_entries);

/**
 * Grant @p grantee access to @p frame: write domid, frame, release barrier,
 * then flags = permit_access (| readonly). The entry must be unused.
 * @return 0, -EBUSY (entry not invalid: in use or still granted).
 */
int gntdp_guest_grant_access(struct gntdp_grant_entry_v1 *e, gntdp_domid_t grantee, uint32_t frame,
			     bool readonly);

/**
 * End access: succeeds only while neither GTF_reading nor GTF_writing is
 * set (compare-and-exchange flags to 0, re-examined on a race). After 0,
 * gntdp never touches the frame through this entry again.
 * @return 0, -EBUSY (in use: reading or writing set).
 */
int gntdp_guest_end_access(struct gntdp_grant_entry_v1 *e);

/**
 * Make a permit_access entry read-only: CAS setting GTF_readonly while
 * GTF_writing is clear.
 * @return 0, -EBUSY (writing set), -EINVAL (not a permit_access entry).
 */
int gntdp_guest_set_readonly(struct gntdp_grant_entry_v1 *e);

/** Make it writable again: atomic clear of GTF_readonly. */
void gntdp_guest_set_writable(struct gntdp_grant_entry_v1 *e);

/**
 * Offer to accept a page from @p grantee into slot gfn @p frame
 * (flags = accept_transfer, after domid and frame).
 * @return 0, -EBUSY (entry not invalid).
 */
int gntdp_guest_grant_transfer(struct gntdp_grant_entry_v1 *e, gntdp_domid_t grantee, uint32_t frame);

/**
 * End an accept_transfer entry. If no transfer committed, the entry is
 * cleared and -ENOENT returned. If one committed, wait (spin) for
 * GTF_transfer_completed, read @p frame (the gfn where the page now
 * sits), clear the entry and return 0.
 * @return 0, -ENOENT, -EINVAL (not an accept_transfer entry).
 */
int gntdp_guest_end_transfer(struct gntdp_grant_entry_v1 *e, uint32_t *frame);

/* ---- Guest side, version 2 (after GNTTABOP_set_version to 2) ------------- */

/**
 * A v2 domain's shared entries (16 bytes each, 256 per grant frame) and its
 * status array (one gntdp_grant_status_t per entry, where gntdp writes
 * GTF_reading/GTF_writing; the header is the guest's alone).
 * Lifetime and safety as gntdp_guest_table(); a version change replaces the
 * layout (all entries but the first 8 are cleared).
 * @return 0, -ESRCH, -EINVAL (the table is not at version 2).
 */
int gntdp_guest_table_v2(struct gntdp_gnttab *gt, gntdp_domid_t domid,
			 union gntdp_grant_entry_v2 **entries, gntdp_grant_status_t **status,
			 uint32_t *nr_entries);

/**
 * Grant @p grantee the whole frame @p frame (full_page): body first, then
 * flags = permit_access (| readonly) with release.
 * @return 0, -EBUSY (entry not invalid).
 */
int gntdp_guest_grant_access_v2(union gntdp_grant_entry_v2 *e, gntdp_domid_t grantee,
				uint64_t frame, bool readonly);

/**
 * Grant bytes [page_off, page_off + length) of @p frame (sub_page). Copy
 * only: such a grant is never mappable; every copy must stay inside the
 * window (general_error otherwise).
 * @return 0, -EBUSY.
 */
int gntdp_guest_grant_sub_page(union gntdp_grant_entry_v2 *e, gntdp_domid_t grantee,
			       uint64_t frame, uint16_t page_off, uint16_t length, bool readonly);

/**
 * Grant @p grantee, for copies only, whatever @p trans_domid's entry
 * @p gref grants this domain (transitive, one level: that entry must be
 * granted to this domain and must not be transitive itself).
 * @return 0, -EBUSY.
 */
int gntdp_guest_grant_transitive(union gntdp_grant_entry_v2 *e, gntdp_domid_t grantee,
				 gntdp_domid_t trans_domid, gntdp_grant_ref_t gref, bool readonly);

/**
 * End access on a v2 entry as Linux does: clear the header's flags, full
 * barrier, then read the status word. 0: unused, gntdp will not touch the
 * frame through this entry again. -EBUSY: gntdp still uses it (reading or
 * writing set); the entry stays revoked (no new use can start) and the
 * caller must wait for the status to clear before reusing the frame.
 */
int gntdp_guest_end_access_v2(union gntdp_grant_entry_v2 *e, const gntdp_grant_status_t *status);

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_GNTTAB_H */
