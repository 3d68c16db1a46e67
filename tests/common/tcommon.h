/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Shared helpers for gntdp's test suites (unit, concurrency, fuzz replay):
 *
 *  - a tiny case-table runner: one line per case, "ok <name>" or
 *    "FAIL <name>: <file:line> <expr> (got X, want Y)", exit status 1 when
 *    any case failed, 77 when every selected case skipped;
 *  - assertion macros that return from the case on the first failure;
 *  - a "world builder": a struct gntdp_gnttab with one execution context, a
 *    log capture and any number of domains, torn down automatically after
 *    each case (so a failing case cannot leak into the next one);
 *  - one-line builders for the GNTTABOP argument structs, and wrappers that
 *    run a single op and return its status;
 *  - a counting memory provider (struct tmem) that can fail on demand and can
 *    report an IOVA different from the VA.
 *
 * Everything goes through the public API in gntdp/gnttab.h only.
 *
 * Threading: the runner and the world registry are single-threaded; the
 * wrappers may be called from any thread that owns the world's context
 * (or pass another context to tw_op_ctx()).
 */
#ifndef TCOMMON_H
#define TCOMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gntdp/gnttab.h>
#include <gntdp/xen_grant_table.h>

/** 1 when the per-context counters are compiled in (meson -Dstats, default true). */
#if defined(GNTDP_STATS) && GNTDP_STATS == 0
#define TW_STATS 0
#else
#define TW_STATS 1
#endif

/* ---- Runner -------------------------------------------------------------- */

/** Case outcome returned by a case function. */
#define TC_PASS 0
#define TC_FAILED 1
#define TC_SKIP 77

/** One row of a case table. */
struct tc_case {
	const char *name;
	int (*fn)(void);
};

/** Table row for a `static int test_<behaviour>(void)`; the name drops "test_". */
#define TC(fn)                                                                                     \
	{                                                                                          \
#fn, fn                                                                            \
	}

/**
 * Run the cases named on the command line (all when none are named), in
 * table order, printing one line each. Returns the process exit status:
 * 0 all passed, 1 some failed (or an unknown case was named), 77 all skipped.
 */
int tc_main(int argc, char **argv, const struct tc_case *cases, size_t nb_cases);

/** main() for a test executable whose table is the array @p cases. */
#define TC_MAIN(cases)                                                                             \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		return tc_main(argc, argv, cases, sizeof(cases) / sizeof((cases)[0]));             \
	}

/** Record a failure of the running case (only the first is printed). */
void tc_fail(const char *file, int line, const char *expr, const char *got, const char *want);
void tc_fail_ll(const char *file, int line, const char *expr, long long got, long long want);
void tc_fail_u64(const char *file, int line, const char *expr, uint64_t got, uint64_t want);
void tc_fail_status(const char *file, int line, const char *expr, long long got, long long want);
/** Mark the running case skipped, with a reason printed on its line. */
int tc_skip(const char *why);

/** Free 2 MiB pages of the kernel's pool (/proc/meminfo HugePages_Free), 0 if unknown. */
unsigned long tc_huge_free(void);
/** Name of the running case (for messages from helpers). */
const char *tc_current(void);

/** Assert a condition. */
#define T_TRUE(e)                                                                                  \
	do {                                                                                       \
		if (!(e)) {                                                                        \
			tc_fail(__FILE__, __LINE__, #e, "false", "true");                          \
			return TC_FAILED;                                                          \
		}                                                                                  \
	} while (0)

/** Assert two integers (any signedness up to 63 bits) are equal. */
#define T_EQ(got, want)                                                                            \
	do {                                                                                       \
		long long tc_g_ = (long long)(got);                                                \
		long long tc_w_ = (long long)(want);                                               \
		if (tc_g_ != tc_w_) {                                                              \
			tc_fail_ll(__FILE__, __LINE__, #got, tc_g_, tc_w_);                        \
			return TC_FAILED;                                                          \
		}                                                                                  \
	} while (0)

/** Assert two integers differ. */
#define T_NE(got, notwant)                                                                         \
	do {                                                                                       \
		long long tc_g_ = (long long)(got);                                                \
		long long tc_w_ = (long long)(notwant);                                            \
		if (tc_g_ == tc_w_) {                                                              \
			tc_fail(__FILE__, __LINE__, #got " != " #notwant, "equal", "different");   \
			return TC_FAILED;                                                          \
		}                                                                                  \
	} while (0)

/** Assert two 64-bit unsigned values (addresses, frame numbers) are equal; printed in hex. */
#define T_U64(got, want)                                                                           \
	do {                                                                                       \
		uint64_t tc_g_ = (uint64_t)(got);                                                  \
		uint64_t tc_w_ = (uint64_t)(want);                                                 \
		if (tc_g_ != tc_w_) {                                                              \
			tc_fail_u64(__FILE__, __LINE__, #got, tc_g_, tc_w_);                       \
			return TC_FAILED;                                                          \
		}                                                                                  \
	} while (0)

/** Assert two pointers are equal. */
#define T_PTR(got, want) T_U64((uintptr_t)(const void *)(got), (uintptr_t)(const void *)(want))

/** Assert a GNTST_* status; printed with its name. */
#define T_ST(got, want)                                                                            \
	do {                                                                                       \
		long long tc_g_ = (long long)(got);                                                \
		long long tc_w_ = (long long)(want);                                               \
		if (tc_g_ != tc_w_) {                                                              \
			tc_fail_status(__FILE__, __LINE__, #got, tc_g_, tc_w_);                    \
			return TC_FAILED;                                                          \
		}                                                                                  \
	} while (0)

/** Propagate the result of a sub-check helper that returns TC_PASS / TC_FAILED. */
#define T_OK(call)                                                                                 \
	do {                                                                                       \
		if ((call) != TC_PASS)                                                             \
			return TC_FAILED;                                                          \
	} while (0)

/* ---- Counting memory provider ------------------------------------------- */

/**
 * A provider over aligned_alloc that counts, checks frees and can fail.
 * Worlds using it are destroyed after the case function returns, so give it
 * static storage (or destroy the world explicitly before returning).
 */
struct tmem {
	struct gntdp_mem_ops ops; /**< pass &m->ops as conf.mem */
	uint64_t iova_offset;     /**< virt2iova returns VA + this (installed only if != 0) */
	unsigned int fail_after;  /**< when != 0: allocation number fail_after and later fail */
	unsigned int nb_allocs;   /**< allocations attempted */
	size_t live_allocs;       /**< allocations not yet freed */
	size_t live_frames;       /**< frames not yet freed */
	unsigned int bad_frees;   /**< frees of unknown bases or with a wrong count */
	unsigned int iova_calls;  /**< virt2iova calls */
	void *records;            /**< private: list of live allocations */
};

/** Prepare @p m (zeroes it first). */
void tmem_init(struct tmem *m, uint64_t iova_offset);
/** Free whatever is still live (after a world that leaked was destroyed). */
void tmem_fini(struct tmem *m);

/* ---- World builder ------------------------------------------------------- */

/** A test world: gt + one default-cache context + a log capture. */
struct tw {
	struct gntdp_gnttab *gt;
	struct gntdp_gnttab_ctx *ctx;
	char *log; /**< captured log lines, each ending in '\n', NUL-terminated */
	size_t log_len;
	size_t log_cap;
	unsigned int log_lines;
	int last_rc;     /**< rc of the last tw_* op wrapper call */
	struct tw *next; /**< registry link (cleanup after each case) */
};

/** Sentinel written into a status before an op: "never written back". */
#define TW_UNSET ((int16_t)0x7fff)
/** Returned by the single-op wrappers when the call itself failed (see last_rc). */
#define TW_CALL_FAILED ((int16_t)0x7ffe)

/** Standard domain ids used by most cases. */
#define D0 ((gntdp_domid_t)0)     /**< privileged control domain */
#define DA ((gntdp_domid_t)1)     /**< granter */
#define DB ((gntdp_domid_t)2)     /**< grantee */
#define DC ((gntdp_domid_t)3)     /**< a third domain */
#define DNONE ((gntdp_domid_t)77) /**< a valid id no domain uses */

/**
 * Create a world with no domains. @p mem NULL = the heap provider.
 * Registered for cleanup at the end of the running case. NULL on failure
 * (already reported with tc_fail).
 */
struct tw *tw_create(const struct gntdp_mem_ops *mem);
/** Same, with a given max_ctx (0 = default). */
struct tw *tw_create_ex(const struct gntdp_mem_ops *mem, unsigned int max_ctx);
/** Domains 0 (privileged), 1, 2, 3 with default limits. */
struct tw *tw_std(void);
/** Destroy now (and unregister). NULL is a no-op. */
void tw_destroy(struct tw *w);
/** Destroy every registered world (the runner calls it after each case). */
void tw_cleanup_all(void);

/** A domain conf with defaults and the given id. */
struct gntdp_domain_conf tw_dom_conf(gntdp_domid_t id);
/** Add a default domain; returns gntdp_domain_create's rc. */
int tw_add(struct tw *w, gntdp_domid_t id);
/** Add a domain from a conf; returns gntdp_domain_create's rc. */
int tw_add_conf(struct tw *w, const struct gntdp_domain_conf *conf);

/** Forget captured log lines. */
void tw_log_clear(struct tw *w);

/* ---- Domain state -------------------------------------------------------- */

/** Entry @p ref of @p dom's table, NULL when the domain or ref does not exist. */
struct gntdp_grant_entry_v1 *tw_ent(struct tw *w, gntdp_domid_t dom, gntdp_grant_ref_t ref);
/** Flags of an entry (0xffff when it does not exist). */
uint16_t tw_flags(struct tw *w, gntdp_domid_t dom, gntdp_grant_ref_t ref);
/** Current number of v1 entries (0 when the domain does not exist). */
uint32_t tw_nr_entries(struct tw *w, gntdp_domid_t dom);
/** gntdp_guest_grant_access on @p granter's entry @p ref. rc, or -ENOENT without entry. */
int tw_grant(struct tw *w, gntdp_domid_t granter, gntdp_grant_ref_t ref, gntdp_domid_t grantee,
	     uint32_t gfn, bool readonly);
/** Write an entry's three fields raw (a hostile or racing guest). */
void tw_set_entry(struct tw *w, gntdp_domid_t dom, gntdp_grant_ref_t ref, uint16_t flags,
		  gntdp_domid_t domid, uint32_t frame);
/** gntdp_domain_frame as bytes. */
uint8_t *tw_frame(struct tw *w, gntdp_domid_t dom, uint64_t gfn);
/** Fill a frame with a pattern derived from @p seed (no-op if absent). */
void tw_fill(struct tw *w, gntdp_domid_t dom, uint64_t gfn, uint8_t seed);
/** Fill a frame with one byte value. */
void tw_memset(struct tw *w, gntdp_domid_t dom, uint64_t gfn, uint8_t val);
/** The pattern byte tw_fill writes at @p off. */
uint8_t tw_pat(uint8_t seed, unsigned int off);
/** true if bytes [off, off+n) of the frame hold the tw_fill pattern of @p seed at @p pat_off.. */
bool tw_has_pat(struct tw *w, gntdp_domid_t dom, uint64_t gfn, unsigned int off, unsigned int n,
		uint8_t seed, unsigned int pat_off);
/** true if bytes [off, off+n) of the frame are all @p val. */
bool tw_all(struct tw *w, gntdp_domid_t dom, uint64_t gfn, unsigned int off, unsigned int n,
	    uint8_t val);
/** gntdp_domain_info, zero-filled (and dying=true) when the call fails. */
struct gntdp_domain_info tw_info(struct tw *w, gntdp_domid_t dom);
/** The I/O address the default heap provider reports for a frame (IOVA = VA). */
uint64_t tw_va(struct tw *w, gntdp_domid_t dom, uint64_t gfn);

/* ---- Op builders and single-op wrappers ---------------------------------- */

/** Run one batch on the world's context; returns rc and stores it in last_rc. */
int tw_op(struct tw *w, gntdp_domid_t caller, unsigned int cmd, void *ops, unsigned int count);

/** A map op: host_addr = host_gfn << 12, status/handle/dev_bus_addr preset to sentinels. */
struct gntdp_gnttab_map_grant_ref tw_map_op(gntdp_domid_t dom, gntdp_grant_ref_t ref,
					    uint32_t flags, uint64_t host_gfn);
/** Sentinels a map op starts with (checked "untouched on failure"). */
#define TW_HANDLE_SENTINEL 0xdeadbeefU
#define TW_DEV_SENTINEL 0x0123456789abcdefULL

/**
 * Map one ref; returns the status (TW_CALL_FAILED if rc != 0). @p handle and
 * @p dev (either may be NULL) receive the op's handle/dev_bus_addr fields as
 * written back (the sentinels when untouched).
 */
int16_t tw_map(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom, gntdp_grant_ref_t ref,
	       uint32_t flags, uint64_t host_gfn, uint32_t *handle, uint64_t *dev);
/** An unmap op (addresses are raw: pass gfn << 12 for host mappings). */
struct gntdp_gnttab_unmap_grant_ref tw_unmap_op(uint32_t handle, uint64_t host_addr,
						uint64_t dev_bus_addr);
/** Unmap one handle; returns the status. */
int16_t tw_unmap(struct tw *w, gntdp_domid_t caller, uint32_t handle, uint64_t host_addr,
		 uint64_t dev_bus_addr);

/** One side of a copy: the pointer and whether it is a grant ref. */
struct tw_side {
	struct gntdp_gnttab_copy_ptr p;
	bool gref;
};

/** A grant-ref side. */
struct tw_side tw_ref(gntdp_domid_t dom, gntdp_grant_ref_t ref, uint16_t offset);
/** A frame-mode side (DOMID_SELF for a legal one). */
struct tw_side tw_gfn(gntdp_domid_t dom, uint64_t gfn, uint16_t offset);
/** A copy op with status preset to TW_UNSET. */
struct gntdp_gnttab_copy tw_copy_op(struct tw_side src, struct tw_side dst, uint16_t len);
/** Copy once; returns the status. */
int16_t tw_copy(struct tw *w, gntdp_domid_t caller, struct tw_side src, struct tw_side dst,
		uint16_t len);

/** Transfer the caller's @p gfn to (@p receiver, @p ref); returns the status. */
int16_t tw_transfer(struct tw *w, gntdp_domid_t caller, uint64_t gfn, gntdp_domid_t receiver,
		    gntdp_grant_ref_t ref);
/** setup_table; returns the status. */
int16_t tw_setup(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom, uint32_t nr_frames,
		 gntdp_xen_pfn_t *frame_list);
/** query_size; returns the status and fills @p nr / @p max when not NULL. */
int16_t tw_query(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom, uint32_t *nr,
		 uint32_t *max);
/** dump_table; returns the status. */
int16_t tw_dump(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom);

/** A deterministic PRNG (xorshift64*) for randomised single-threaded cases. */
uint64_t tw_rand(uint64_t *state);

#endif /* TCOMMON_H */
