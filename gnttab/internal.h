/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the grant-table core, shared by the files of gnttab/.
 * Not installed. Locking and memory ordering: docs/concurrency.md.
 */
#ifndef GNTTAB_INTERNAL_H
#define GNTTAB_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <gntdp/gnttab.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Per-context counters; meson -Dstats=false compiles them out (GNTDP_STATS=0). */
#if !defined(GNTDP_STATS) || GNTDP_STATS
/* Owner-only writes, readable from other threads: relaxed load and store, no RMW. */
#define STAT_ADD(ctx, field, n)                                                                    \
	__atomic_store_n(&(ctx)->st.field, __atomic_load_n(&(ctx)->st.field, __ATOMIC_RELAXED) + (n), \
			 __ATOMIC_RELAXED)
#else
#define STAT_ADD(ctx, field, n) ((void)(ctx), (void)(n))
#endif

#define NR_DOMIDS GNTDP_DOMID_FIRST_RESERVED
#define ENTRIES_PER_FRAME ((uint32_t)GNTDP_GRANT_ENTRIES_PER_FRAME_V1) /* the most (v1) */
#define ENTRIES_PER_FRAME_V2 ((uint32_t)GNTDP_GRANT_ENTRIES_PER_FRAME_V2)
#define STATUS_PER_FRAME (GNTDP_PAGE_SIZE / (uint32_t)sizeof(gntdp_grant_status_t))
/* Status frames a v2 table of @f grant frames needs (Xen grant_to_status_frames). */
#define STATUS_FRAMES(f) (((f)*ENTRIES_PER_FRAME_V2 + STATUS_PER_FRAME - 1) / STATUS_PER_FRAME)
/* A transitive acquisition that saw its entry change retries this often, then general_error. */
#define TRANSITIVE_TRIES 8

/* Xen's pin layout: four 8-bit counters in one u32 (spec section 2.2). */
#define PIN_HSTW_INC 0x00000001u
#define PIN_HSTR_INC 0x00000100u
#define PIN_DEVW_INC 0x00010000u
#define PIN_DEVR_INC 0x01000000u
#define PIN_HSTW_MASK 0x000000ffu
#define PIN_HSTR_MASK 0x0000ff00u
#define PIN_DEVW_MASK 0x00ff0000u
#define PIN_DEVR_MASK 0xff000000u
/* Top bit of each counter an increment touches: set means 128 users already. */
#define PIN_OVERFLOW_MASK(inc) ((inc) * 0x80u)

/* The cmpxchg loop on a shared entry gives up after this many lost races. */
#define SET_STATUS_TRIES 5

struct domain;
struct segment;

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* A spinlock byte. Uncontended cost is one xchg; held only for a few loads and stores. */
typedef atomic_uchar spinlock_t;

static inline void
spin_lock(spinlock_t *l)
{
	while (atomic_exchange_explicit(l, 1, memory_order_acquire) != 0) {
		while (atomic_load_explicit(l, memory_order_relaxed) != 0)
			cpu_relax();
	}
}

static inline void
spin_unlock(spinlock_t *l)
{
	atomic_store_explicit(l, 0, memory_order_release);
}

/*
 * One 4 KiB machine frame. refs: 1 while some domain owns it (the
 * allocation reference), +1 per active entry whose pin holds it, +1 per
 * frame-mode copy hold. PAGE_LOCKED marks a page being stolen by transfer.
 * When refs reaches 0 the frame is dead and its segment may be released.
 */
#define PAGE_LOCKED 0x80000000u
struct page {
	uint8_t *va;
	uint64_t iova;
	_Atomic(struct domain *) owner;
	atomic_uint refs;
	uint32_t mfn;
	struct segment *seg;
};

/* One provider allocation: a run of frames with consecutive mfns. */
struct segment {
	struct gntdp_gnttab *gt;
	struct segment *prev, *next; /* the world's list of live segments (seg_lock) */
	void *va;
	uint32_t nb_frames;
	uint32_t base_mfn;
	atomic_uint live; /* pages with refs > 0, plus 1 while the creator holds it */
	struct page pages[];
};

/*
 * Physmap slot: a struct page pointer with the type in the low 3 bits
 * (struct page is 8-byte aligned). Written with CAS, read with acquire.
 */
enum p2m_type {
	P2M_EMPTY = 0,
	P2M_RAM = 1,      /* a page this domain owns */
	P2M_GRANT_RO = 2, /* a foreign frame host-mapped read-only */
	P2M_GRANT_RW = 3, /* a foreign frame host-mapped writable */
	P2M_RESERVED = 4, /* slot claimed by a transfer in progress */
};
#define P2M_TYPE_MASK ((uintptr_t)7)

static inline enum p2m_type
p2m_type(uintptr_t v)
{
	return (enum p2m_type)(v & P2M_TYPE_MASK);
}

static inline struct page *
p2m_page(uintptr_t v)
{
	return (struct page *)(v & ~P2M_TYPE_MASK);
}

/* Xen's active entry: per granted ref, protected by its own lock. 32 bytes. */
struct active_entry {
	spinlock_t lock;
	bool is_sub_page;    /* v2 sub-page or transitive copy pin: never mappable */
	gntdp_domid_t domid; /* grantee holding the pins */
	uint32_t pin;
	struct page *page; /* frame resolved at first pin */
	uint16_t start;    /* accessible window [start, start + length) */
	uint16_t length;   /* 4096 for a full page (fits: 4096 < 65536) */
	gntdp_grant_ref_t trans_gref; /* transitive: the ref in td */
	struct domain *td; /* transitive: the domain whose entry really holds the frame */
};

/* Maptrack entry: one mapping handle of a mapping domain. 16 bytes. */
struct maptrack {
	atomic_uint flags; /* GNTMAP_host_map/device_map/readonly; 0 = free. Written last. */
	gntdp_grant_ref_t ref; /* when free: next free handle */
	struct domain *rd;     /* granter (kept alive by the pin) */
};

#define MT_FREE_END UINT32_MAX

struct domain {
	struct gntdp_gnttab *gt;
	uint64_t uid; /* unique for the world's lifetime: cache key */
	gntdp_domid_t domid;
	bool privileged;
	atomic_bool dying;
	int socket; /* NUMA hint of its allocations (gntdp_domain_conf.socket) */
	/* 1 while linked in the domain table, +1 per own active entry with pin != 0 */
	atomic_uint refs;
	atomic_uint owned_pages;

	/* physmap */
	uint32_t nr_frames;
	uint32_t p2m_size;
	_Atomic(uintptr_t) *p2m;
	struct segment *ram;

	/* grant table (this domain as granter) */
	spinlock_t gt_lock; /* serialises growth and version changes */
	atomic_uint nr_grant_frames;
	uint32_t max_grant_frames;
	/* 1 or 2. Changed only with every active entry lock held (set_version), so
	 * a reader holding any entry's lock sees it stable. */
	atomic_uint gt_version;
	uint32_t max_version;
	atomic_uint nr_v2_ops; /* pinned sub-page / transitive copy entries */
	struct segment *gt_seg; /* max_grant_frames frames, contiguous */
	struct gntdp_grant_entry_v1 *shared;    /* v1 view of gt_seg */
	union gntdp_grant_entry_v2 *shared_v2;  /* v2 view of the same frames */
	struct segment *st_seg; /* v2 status frames (max version 2 only), contiguous */
	gntdp_grant_status_t *status;
	atomic_uint nr_status_frames; /* populated status frames: 0 on v1 */
	struct active_entry *active; /* max_grant_frames * 512 */

	struct domain *grave_next; /* graveyard link once refs reached 0 */

	/* maptrack (this domain as mapper) */
	spinlock_t mt_lock;
	atomic_uint mt_limit; /* handles allocated so far, in frames of 256 */
	uint32_t mt_max_frames;
	uint32_t mt_free; /* head of the free list, MT_FREE_END if empty */
	atomic_uint mt_live;
	struct maptrack **mt_frames;
};

/* Ways per set of the grant cache (copy.c); fewer when a half has fewer entries. */
#define CACHE_WAYS 4u

/* Grant cache entry of a context (see copy.c). */
struct cache_entry {
	struct domain *rd;   /* granter, or the caller for frame mode; NULL = empty */
	uint64_t caller_uid; /* grantee the pin was taken for */
	uint64_t key;        /* ref, or gfn | CACHE_FRAME */
	uint64_t taken; /* ctx->now when the pin was taken: expiry counts from here */
	struct page *page;
	uint16_t start, length; /* window of a v2 sub-page / transitive grant; 0, 4096 otherwise */
	/* Occupied entries form a list in the order their pins were taken
	 * (index+1; 0 ends), so expiry pops from the head in O(expired). */
	uint32_t prev;
	uint32_t next;
	bool write;
	bool narrow; /* the window is less than the page: op_copy checks it (steps 5-6) */
};

/*
 * The previous op's source or destination, as Xen's copy buffers remember
 * it: an op naming exactly the same side (domid, ref or gfn, mode) reuses
 * the cache entry without a lookup. Cleared when that entry is released.
 */
struct last_side {
	uint64_t key;  /* ref, or gfn | CACHE_FRAME */
	uint32_t tag;  /* domid | gref << 16 | 1 << 17 (valid) */
	struct cache_entry *e;
};

struct gntdp_gnttab_ctx {
	struct gntdp_gnttab *gt;
	atomic_ulong qs; /* odd while inside a batch */
	unsigned int slot;
	gntdp_copy_fn copy;
	uint64_t now;
	bool persistent;
	unsigned int cache_half; /* nb_entries/2: first half for reads, second for writes */
	unsigned int cache_ways; /* entries per set: min(CACHE_WAYS, cache_half) */
	unsigned int set_mask;   /* sets per half - 1 */
	uint32_t age_head;       /* oldest occupied entry (index+1), 0 if none */
	uint32_t age_tail;       /* newest */
	struct cache_entry *cache;
	struct last_side last[2]; /* [0] source, [1] destination */
	uint32_t pair;            /* Xen-exact: source | dest domid << 16 of the last copy op */
	struct gntdp_gnttab_ctx_stats st;
};

struct gntdp_gnttab {
	struct gntdp_mem_ops mem;
	void (*log)(void *arg, enum gntdp_log_level level, const char *line);
	void *log_arg;
	unsigned int max_ctx;
	bool no_transfer; /* gntdp_gnttab_conf.no_transfer */
	_Atomic(struct gntdp_gnttab_ctx *) *ctxs;
	atomic_uint next_mfn;
	atomic_ulong next_uid;
	/* Dead domains waiting for a grace period before their memory is freed. */
	_Atomic(struct domain *) graveyard;
	_Atomic(struct domain *) doms[NR_DOMIDS];
	/* Live segments, to find a frame by its I/O address (cache_flush). */
	spinlock_t seg_lock;
	struct segment *segs;
	/* Threads inside gntdp_domain_frame/info or gntdp_guest_table: destroy waits for 0. */
	atomic_uint ctl_readers;
	/* Destroyed domains still held alive (as Xen's zombies) by pins: their domid stays taken. */
	atomic_uchar zombie[NR_DOMIDS];
};

/* world.c */
void gt_log(struct gntdp_gnttab *gt, enum gntdp_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct segment *seg_alloc(struct gntdp_gnttab *gt, uint32_t nb_frames, int socket);
void seg_put(struct segment *seg);
void page_put(struct page *pg);
bool page_get(struct page *pg, const struct domain *owner);
void qsbr_wait(struct gntdp_gnttab *gt);
struct page *page_by_maddr(struct gntdp_gnttab *gt, uint64_t maddr);

static inline struct domain *
dom_lookup(struct gntdp_gnttab *gt, gntdp_domid_t domid)
{
	if (unlikely(domid >= NR_DOMIDS))
		return NULL;
	/* Pairs with the release store in domain_create and the unlink in domain_destroy. */
	return atomic_load_explicit(&gt->doms[domid], memory_order_acquire);
}

/*
 * Domain lookups outside a batch (gntdp_domain_frame, gntdp_domain_info,
 * gntdp_guest_table). The seq_cst increment before the lookup pairs with the
 * unlink and the fence in qsbr_wait: either the reader cannot find the
 * domain, or destroy waits until the reader has left.
 */
static inline void
ctl_enter(struct gntdp_gnttab *gt)
{
	atomic_fetch_add_explicit(&gt->ctl_readers, 1, memory_order_seq_cst);
}

static inline void
ctl_leave(struct gntdp_gnttab *gt)
{
	atomic_fetch_sub_explicit(&gt->ctl_readers, 1, memory_order_release);
}

/* domain.c */
void dom_put(struct domain *d);
void graveyard_reclaim(struct gntdp_gnttab *gt);
static inline uint32_t
gt_version(struct domain *d)
{
	return atomic_load_explicit(&d->gt_version, memory_order_acquire);
}

static inline uint32_t
nr_entries_v(struct domain *d, uint32_t ver)
{
	/* Pairs with the release store that publishes a grown table (table.c). */
	return atomic_load_explicit(&d->nr_grant_frames, memory_order_acquire) *
	       (ver == 1 ? ENTRIES_PER_FRAME : ENTRIES_PER_FRAME_V2);
}

static inline uint32_t
nr_entries(struct domain *d)
{
	return nr_entries_v(d, gt_version(d));
}

/* The {flags, domid} word of entry @ref in version @ver's layout. */
static inline uint32_t *
hdr_word(struct domain *d, uint32_t ver, gntdp_grant_ref_t ref)
{
	return ver == 1 ? (uint32_t *)(void *)&d->shared[ref] : (uint32_t *)(void *)&d->shared_v2[ref];
}

/* The frame entry @ref names (v1 u32 frame, v2 full_page/sub_page frame). */
static inline uint64_t
entry_frame(struct domain *d, uint32_t ver, gntdp_grant_ref_t ref)
{
	return ver == 1 ? __atomic_load_n(&d->shared[ref].frame, __ATOMIC_RELAXED)
			: __atomic_load_n(&d->shared_v2[ref].full_page.frame, __ATOMIC_RELAXED);
}

/* Lock every active entry of @d that any version can address, in index order. */
void act_lock_all(struct domain *d);
void act_unlock_all(struct domain *d);

/* Resolve a granter's gfn to a RAM page it owns; NULL if none (bad_page). */
struct page *p2m_ram_page(struct domain *d, uint64_t gfn);

/* entry.c: pins and status flags, shared by map and copy (v1 and v2) */
int16_t pin_set_status(struct domain *rd, gntdp_grant_ref_t ref, struct active_entry *act,
		       bool readonly, bool mapflag, gntdp_domid_t ldomid);
void pin_reduce_status(struct domain *rd, gntdp_grant_ref_t ref, const struct active_entry *act,
		       bool was_write);
int16_t pin_first(struct domain *rd, gntdp_grant_ref_t ref, struct active_entry *act,
		  gntdp_domid_t ldomid, bool readonly);
void unpin(struct domain *rd, gntdp_grant_ref_t ref, uint32_t inc);
/* What a copy acquisition yields: the frame and the window it may touch. */
struct grant_win {
	struct page *page;
	uint16_t start;
	uint16_t length;
};
int16_t acquire_for_copy(struct domain *rd, gntdp_grant_ref_t ref, gntdp_domid_t ldomid,
			 bool write, bool allow_transitive, struct grant_win *out);
/*
 * The transitive branch of acquire_for_copy() (entry.c): entered with
 * act->lock held, returns with it released; > 0 means retry.
 */
int acquire_transitive(struct domain *rd, gntdp_grant_ref_t ref, struct active_entry *act,
		       gntdp_domid_t ldomid, bool write, bool allow_transitive,
		       struct grant_win *out);

/* ops */
void op_map(struct gntdp_gnttab_ctx *ctx, struct domain *ld, struct gntdp_gnttab_map_grant_ref *op);
void op_unmap(struct gntdp_gnttab_ctx *ctx, struct domain *ld,
	      struct gntdp_gnttab_unmap_grant_ref *op);
void op_copy(struct gntdp_gnttab_ctx *ctx, struct domain *ld, struct gntdp_gnttab_copy *op);
void op_setup_table(struct domain *ld, struct gntdp_gnttab_setup_table *op);
void op_query_size(struct domain *ld, struct gntdp_gnttab_query_size *op);
void op_dump_table(struct domain *ld, struct gntdp_gnttab_dump_table *op);
void op_transfer(struct domain *ld, struct gntdp_gnttab_transfer *op);
void op_unmap_and_replace(struct gntdp_gnttab_ctx *ctx, struct domain *ld,
			  struct gntdp_gnttab_unmap_and_replace *op);
int op_set_version(struct domain *ld, struct gntdp_gnttab_set_version *op);
void op_get_status_frames(struct domain *ld, struct gntdp_gnttab_get_status_frames *op);
int op_get_version(struct domain *ld, struct gntdp_gnttab_get_version *op);
void op_swap_grant_ref(struct domain *ld, struct gntdp_gnttab_swap_grant_ref *op);
int op_cache_flush(struct domain *ld, const struct gntdp_gnttab_cache_flush *op,
		   unsigned int *cur_ref);
int16_t target_domain(struct domain *ld, gntdp_domid_t dom, struct domain **out);
void cache_release_all(struct gntdp_gnttab_ctx *ctx);
void maptrack_release_all(struct domain *d);

/* 32-bit view of a v1 entry's {flags, domid}: flags in the low half (little-endian). */
static inline uint32_t *
entry_word(struct gntdp_grant_entry_v1 *e)
{
	return (uint32_t *)(void *)e;
}

#define WORD_FLAGS(w) ((uint16_t)((w)&0xffffu))
#define WORD_DOMID(w) ((gntdp_domid_t)((w) >> 16))

#endif /* GNTTAB_INTERNAL_H */
