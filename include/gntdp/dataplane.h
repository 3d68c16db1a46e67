/* SPDX-License-Identifier: MIT */
/**
 * @file
 * gntdp data plane: runs the grant-table core (gntdp/gnttab.h) on DPDK
 * poll-mode lcores, serving hypercall rings (gntdp/hcall.h).
 *
 * Roles:
 *  - The application sets up EAL (gntdp_dp_eal_init()), creates a world
 *    whose frames come from gntdp_dp_mem_ops() (hugepage memzones) or
 *    gntdp_dp_memfd_ops(), creates its domains through gntdp/gnttab.h,
 *    then a data plane (gntdp_dp_create()), and starts the workers
 *    (gntdp_dp_start()).
 *  - A client is a domain issuing grant-table hypercalls. Each of its
 *    hypercall rings (gntdp_dp_hcall_create(), gntdp/hcall.h) is an SQ of
 *    hypercalls (cmd, count, guest address of the op array in the
 *    domain's own memory, user_data) and a CQ of (user_data, rc); each
 *    op's status and outputs are written back into the op array, as Xen
 *    does. Every hypercall the worker takes gets exactly one completion.
 *    The same ring serves an in-process client (gntdp_dp_hcall_submit_burst
 *    and _reap_burst) and another process (gntdpd, docs/daemon.md).
 *  - A worker is an EAL lcore running a poll loop of pollers (see
 *    "Pollers" below). It starts with none: each hypercall ring attaches
 *    one to the worker that serves it, and applications register their
 *    own (gntdp-netback's rings, for instance). Each worker owns one
 *    execution context of the core (struct gntdp_gnttab_ctx) and, when
 *    caching is on, that context's persistent grant cache
 *    (docs/cache.md), plus any context its pollers asked for.
 *
 * Back-pressure: a worker never takes more hypercalls from a ring than
 * there is room in that ring's CQ. A client that does not drain its
 * completions stops its own ring only; nothing is dropped or duplicated,
 * and other rings are unaffected.
 *
 * Threading: control-plane calls (create, start, stop, destroy, poller
 * registration, worker contexts) are made from one thread at a time,
 * normally the EAL main lcore, never concurrently with gntdp/gnttab.h
 * control-plane calls on the same world; gntdp_dp_hcall_create() and
 * _destroy() may come from any thread that is not a worker, also while
 * the workers run (gntdp/hcall.h). Statistics and info getters may be
 * called from any thread at any time; they return approximate snapshots.
 *
 * This header includes no DPDK header; the DPDK types stay inside
 * dataplane/.
 */
#ifndef GNTDP_DATAPLANE_H
#define GNTDP_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gntdp/gnttab.h>
#include <gntdp/xen_grant_table.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A data plane instance: workers, their pollers, stats. Opaque. */
struct gntdp_dp;

/* ---- Limits and defaults ------------------------------------------------- */

/** Most worker lcores one data plane drives (RTE_MAX_LCORE of Debian's DPDK). */
#define GNTDP_DP_MAX_WORKERS 128
/** Most pollers registered on one data plane at a time (hypercall rings' included). */
#define GNTDP_DP_MAX_POLLERS 256
/** Most pollers on one worker (hypercall rings' included). */
#define GNTDP_DP_MAX_WORKER_POLLERS 32
/** Most additional contexts one worker owns (gntdp_dp_worker_ctx_create()). */
#define GNTDP_DP_MAX_WORKER_CTX 128
/** Size of a poller name, the terminating NUL included. */
#define GNTDP_DP_POLLER_NAMESIZE 32
/** Most hypercalls a worker takes from one ring in one poll (gntdp_dp_hcall_conf.burst). */
#define GNTDP_DP_MAX_BURST 256
/** Default of gntdp_dp_hcall_conf.burst. */
#define GNTDP_DP_DEFAULT_BURST 32
/** Default pin hold bound of the per-worker grant cache, in microseconds. */
#define GNTDP_DP_DEFAULT_HOLD_US 1000
/** Limits of gntdp_dp_conf.idle_sleep_us and .idle_after_us. */
#define GNTDP_DP_MAX_IDLE_SLEEP_US 100000
#define GNTDP_DP_MAX_IDLE_AFTER_US 10000000
#define GNTDP_DP_DEFAULT_IDLE_AFTER_US 1000
/** Default grant cache entries per worker. */
#define GNTDP_DP_DEFAULT_CACHE_ENTRIES 512
/** Number of command slots in per-command counters (GNTTABOP 0..12). */
#define GNTDP_DP_NB_CMDS 13

/* ---- EAL setup ----------------------------------------------------------- */

/** How gntdp_dp_eal_init() chooses the memory mode. */
enum gntdp_dp_huge {
	/**
	 * Hugepages when a hugetlbfs mount with free pages exists, otherwise
	 * --no-huge with one warning line. Environment GNTDP_NO_HUGE=1 forces
	 * --no-huge.
	 */
	GNTDP_DP_HUGE_AUTO = 0,
	/** Hugepages; EAL init fails if none are available. */
	GNTDP_DP_HUGE_ON,
	/** Always --no-huge (4 KiB anonymous memory). */
	GNTDP_DP_HUGE_OFF,
};

/** Options for gntdp_dp_eal_init(). Fill with gntdp_dp_eal_conf_init(). */
struct gntdp_dp_eal_conf {
	/** Memory mode. Default GNTDP_DP_HUGE_AUTO. */
	enum gntdp_dp_huge huge;
	/**
	 * Memory (MiB) given to EAL as -m when gntdp adds --no-huge itself and
	 * the command line has no -m/--socket-mem. Default 1024.
	 */
	unsigned int no_huge_mb;
	/**
	 * Install SIGINT/SIGTERM handlers that set the flag read by
	 * gntdp_dp_stop_requested(); a second signal then ends the process
	 * (the default action). Default true.
	 */
	bool signals;
	/**
	 * Let EAL probe PCI devices. Default false: gntdp adds --no-pci unless
	 * the command line has --no-pci, -a/--allow or -b/--block (an
	 * allow-list or block-list means the caller chose its devices).
	 */
	bool pci;
};

/** Fill @p conf with defaults. */
void gntdp_dp_eal_conf_init(struct gntdp_dp_eal_conf *conf);

/**
 * Initialise DPDK's EAL (rte_eal_init) with @p argv, adding
 * "--no-huge -m <no_huge_mb>" when the memory mode asks for it (see
 * enum gntdp_dp_huge; an explicit --no-huge on the command line is kept as
 * is). When gntdp falls back to --no-huge by itself it prints exactly one
 * warning line on stderr. Registers the data plane's telemetry commands.
 *
 * What a run leaves behind: nothing, on exit, SIGINT or SIGTERM (the
 * application polls gntdp_dp_stop_requested() and calls
 * gntdp_dp_eal_cleanup()):
 *  - "--no-pci" is added unless conf.pci or the command line picks devices;
 *  - on hugepages "--huge-unlink" is added (files are unlinked as soon as
 *    they are mapped: none stays even after SIGKILL; no secondary
 *    processes) unless the command line has --huge-unlink[=...],
 *    --in-memory, --single-file-segments or --proc-type;
 *  - the runtime directory <run dir>/dpdk/<file-prefix>/ is removed by
 *    gntdp_dp_eal_cleanup() and at exit, when it is this process's: it is
 *    EAL's primary there (which holds the lock on the shared config), or,
 *    with --in-memory/--no-shconf, it created the directory. Only EAL's
 *    files are removed; a directory something else is left in stays.
 * Long EAL options are recognised when spelled in full.
 *
 * A non-root user whose EAL start fails under a finite RLIMIT_MEMLOCK gets
 * one stderr line with the limit and the remedies (ulimit -l, a writable
 * hugetlbfs mount, --no-huge). In automatic mode a hugetlbfs mount this
 * user cannot write to means --no-huge, with the warning line.
 *
 * Use it exactly like rte_eal_init: on success, `argc -= ret; argv += ret;`
 * leaves argv[0] = program name followed by the application arguments
 * (after "--").
 *
 * Call once per process, from the main thread.
 * @param conf NULL for defaults.
 * @return the number of arguments consumed (>= 0), or -EINVAL (bad
 *         arguments or conf), -ENOMEM, -EALREADY (EAL already initialised),
 *         -ENODEV / -EACCES / -EPERM or another negative errno converted
 *         from rte_errno when EAL cannot start (for instance no hugepages
 *         with GNTDP_DP_HUGE_ON, or no permission on /var/run/dpdk).
 */
int gntdp_dp_eal_init(const struct gntdp_dp_eal_conf *conf, int argc, char **argv);

/**
 * Whether EAL runs on hugepages (false after --no-huge).
 * Only after a successful gntdp_dp_eal_init(). Any thread.
 */
bool gntdp_dp_eal_hugepages(void);

/**
 * Whether SIGINT or SIGTERM arrived since gntdp_dp_eal_init() (with
 * conf.signals). Async-signal-safe flag, readable from any thread. The
 * application polls it and then calls gntdp_dp_stop().
 */
bool gntdp_dp_stop_requested(void);

/** Set the flag gntdp_dp_stop_requested() reads, as a signal would. Any thread. */
void gntdp_dp_request_stop(void);

/**
 * Release EAL resources (rte_eal_cleanup) and remove this process's runtime
 * directory (see gntdp_dp_eal_init(); the telemetry socket in it goes at
 * exit, and the directory with it). Call last, after every data plane and
 * world is destroyed. Main thread only.
 * @return 0, or a negative errno from rte_eal_cleanup.
 */
int gntdp_dp_eal_cleanup(void);

/* ---- Memory provider ----------------------------------------------------- */

/**
 * A memory provider for gntdp_gnttab_conf.mem backed by DPDK memzones:
 * hugepages normally, 4 KiB anonymous memory under --no-huge. Every
 * allocation is one uniquely named, 4 KiB aligned memzone; the I/O address
 * of each frame comes from the memseg that holds it (rte_mem_virt2memseg).
 *
 * The provider is stateless apart from a process-wide name counter, so the
 * returned struct may be copied; gntdp_gnttab_conf.mem must point to a copy
 * that outlives the world.
 *
 * Only after gntdp_dp_eal_init(). Its callbacks may be called from any
 * thread (memzone reservation is thread-safe in DPDK).
 * @param socket NUMA node used when a domain's socket hint is -1; -1 here
 *        means the socket of the calling lcore (rte_socket_id()), and if
 *        that has no memory, any socket.
 */
struct gntdp_mem_ops gntdp_dp_mem_ops(int socket);

/**
 * Options of the memfd memory provider (gntdp_dp_memfd_ops()). Fill with
 * gntdp_dp_memfd_conf_init().
 */
struct gntdp_dp_memfd_conf {
	/**
	 * NUMA node used when a domain's socket hint is -1; -1 (default): no
	 * policy (the kernel's default placement). A node that does not exist
	 * or has no memory gets no policy either.
	 */
	int socket;
	/**
	 * MFD_HUGETLB with 2 MiB pages (each allocation rounded up to 2 MiB;
	 * a client then maps it only in 2 MiB units). Default false: 4 KiB
	 * pages. Needs EAL on hugepages.
	 */
	bool hugetlb;
};

/** Fill @p conf with defaults (no NUMA policy, 4 KiB pages). */
void gntdp_dp_memfd_conf_init(struct gntdp_dp_memfd_conf *conf);

/**
 * A memory provider for gntdp_gnttab_conf.mem whose every allocation is
 * one memfd (docs/daemon.md "Memory", docs/dataplane.md), so that another
 * process can map a domain's frames: memfd_create(MFD_CLOEXEC |
 * MFD_ALLOW_SEALING [| MFD_HUGETLB]) with mode 0600, sized, mapped
 * MAP_SHARED, bound to the NUMA node (the domain's socket hint, else
 * conf->socket) with libnuma's mbind before any page exists, allocated
 * (fallocate) and prefaulted, sealed F_SEAL_SHRINK | F_SEAL_GROW (no
 * holder of a read-write fd can resize it and fault the daemon's workers;
 * F_SEAL_SEAL follows with the first fd that leaves the provider, or with
 * gntdp_dp_memfd_seal()), and registered with DPDK as external memory
 * (rte_extmem_register) with one IOVA per page: the VA in IOVA-as-VA
 * mode, the physical address otherwise (RTE_BAD_IOVA where the process
 * cannot read it; the frame's IOVA is then its VA). Frames are zeroed.
 * free unregisters, unmaps and closes the provider's fd; a process that
 * holds another fd or mapping of the memfd keeps the pages.
 *
 * DPDK keeps one memseg list per registration and has
 * RTE_MAX_MEMSEG_LISTS (128 in Debian's build) in all, its own included,
 * and a domain uses 2 allocations (3 with grant-table v2): about 40
 * domains. Past that, allocations are not registered with DPDK (one
 * warning line per process) and the provider computes their IOVAs the
 * same way (VA mode: the VA; PA mode: the physical address); everything
 * else is the same. Only DPDK device DMA would need the registration.
 * Registration resumes once a registered allocation is freed.
 *
 * The returned struct may be copied; gntdp_gnttab_conf.mem must point to a
 * copy that outlives the world. Callbacks may run on any thread (free may
 * run on a worker when the last mapping of a dead domain's frame goes:
 * rte_extmem_unregister takes DPDK's memory lock). Only after
 * gntdp_dp_eal_init().
 * @param conf NULL for defaults.
 * @return 0, or -EINVAL (NULL @p out, socket out of -1..RTE_MAX_NUMA_NODES-1,
 *         hugetlb while EAL runs with --no-huge: one log line says so).
 */
int gntdp_dp_memfd_ops(const struct gntdp_dp_memfd_conf *conf, struct gntdp_mem_ops *out);

/**
 * The memfd holding @p va, which lies inside an allocation of a memfd
 * provider (any byte of it). Any thread.
 * @param fd receives the provider's fd (owned by the provider: do not close
 *        it; it stays open until that allocation is freed). May be NULL.
 * @param offset receives va's byte offset in the memfd. May be NULL.
 * @param size receives the allocation's (and memfd's) size in bytes: its
 *        frames rounded up to the page size. May be NULL.
 * The allocation's seals are final from here (gntdp_dp_memfd_seal()).
 * @return 0, -ENOENT (no live memfd allocation holds @p va), the negative
 *         errno of fcntl() when its seals could not be made final.
 */
int gntdp_dp_memfd_lookup(const void *va, int *fd, size_t *offset, size_t *size);

/**
 * Make the seals of the memfd holding @p va final (F_SEAL_SEAL), adding
 * F_SEAL_FUTURE_WRITE first when @p future_write: the provider's own
 * mapping (read-write) keeps working, every later writable MAP_SHARED
 * mapping, write() and hole punch (fallocate) fails with EPERM, through any
 * fd of it, a reopened one included. For frames that only this process
 * writes (gntdpd's status frames). Must come before the first
 * gntdp_dp_memfd_open() or _lookup() of the allocation, which make the
 * seals final as they are. Any thread.
 * @return 0, -ENOENT (no allocation holds @p va), -EPERM (@p future_write
 *         on seals already final), another negative errno of fcntl().
 */
int gntdp_dp_memfd_seal(const void *va, bool future_write);

/**
 * How many 2 MiB pages of the hugetlb allocation holding @p va this process
 * lost and replaced (0 for 4 KiB allocations, or for @p va in none). A
 * client that punches a hole in its hugetlb memfd (fallocate PUNCH_HOLE,
 * MADV_REMOVE: no seal forbids it while letting it write) unmaps the page
 * from this process too; when the kernel's pool has no free 2 MiB page
 * for the refault, the touching thread gets SIGBUS. A hugetlb provider
 * (gntdp_dp_memfd_ops() with hugetlb) installs a SIGBUS handler that maps
 * anonymous zero memory over such a page of its own allocations (the
 * access then completes) and counts it here; the page is then this
 * process's alone, so the owner should destroy the domain (gntdpd does). A
 * SIGBUS anywhere else goes to the previous handler, or kills the process.
 * Any thread.
 */
unsigned int gntdp_dp_memfd_repairs(const void *va);

/**
 * A new O_CLOEXEC fd of the memfd holding @p va, owned by the caller (to
 * pass over SCM_RIGHTS, for instance): a new open file description opened
 * through /proc/self/fd. @p readonly: O_RDONLY, so no mapping of it can
 * ever be writable (mmap or mprotect with PROT_WRITE on MAP_SHARED fails
 * with EACCES), and a process of another uid cannot reopen it read-write
 * (mode 0600; the daemon's own uid and root can). Otherwise O_RDWR. Any
 * thread.
 * @return the fd (>= 0), -ENOENT (no allocation holds @p va), or the
 *         negative errno of open().
 */
int gntdp_dp_memfd_open(const void *va, bool readonly);

/* ---- Data plane configuration -------------------------------------------- */

/** Options for gntdp_dp_create(). Fill with gntdp_dp_conf_init(). */
struct gntdp_dp_conf {
	/**
	 * EAL lcore ids of the workers, nb_workers entries. nb_workers 0
	 * (default) means every EAL worker lcore (all lcores but the main
	 * one). Each must be an enabled EAL lcore, listed once. The main
	 * lcore may be listed (never by default): that worker is a manual
	 * one, which gntdp_dp_start() does not launch; the main thread runs
	 * its iterations with gntdp_dp_poll(), also while the others run
	 * (for one-lcore setups and tests).
	 */
	unsigned int worker_lcores[GNTDP_DP_MAX_WORKERS];
	/** Number of entries used in worker_lcores; 0 = every EAL worker lcore. */
	unsigned int nb_workers;
	/**
	 * Per-worker grant cache (persistent pins, docs/cache.md). Default true.
	 * false: every pin is released before the batch returns (Xen-exact).
	 */
	bool cache;
	/** Cache entries per worker (half for reads, half for writes), power of two, 2..4096. Default 512. */
	unsigned int cache_entries;
	/**
	 * Pin hold bound, microseconds, 0..1,000,000: a pin the cache keeps is
	 * released at most hold_us plus one poll-loop iteration after it was
	 * taken, however often it is used meanwhile, busy or idle
	 * (docs/cache.md). 0 releases every pin before each call returns,
	 * exactly as Xen does. Default 1000 (1 ms).
	 */
	uint32_t hold_us;
	/**
	 * Idle back-off of a launched worker, microseconds,
	 * 0..GNTDP_DP_MAX_IDLE_SLEEP_US: once every poller of the worker has
	 * found nothing for idle_after_us, the worker sleeps this long
	 * (nanosleep, 1 us timer slack) between iterations until one finds
	 * work. 0 (default): it busy-polls always, as a DPDK poll-mode core
	 * does. A hypercall that arrives while the worker sleeps waits up to
	 * idle_sleep_us; gntdp_dp_stop() and poller changes too. The hold
	 * bound stays hold_us + one iteration, and an iteration includes a
	 * sleep only when idle_after_us < hold_us (docs/dataplane.md
	 * "Idle back-off"). A manual worker (the main lcore) never sleeps.
	 */
	uint32_t idle_sleep_us;
	/**
	 * How long every poller must have been idle before the worker sleeps,
	 * microseconds, 0..GNTDP_DP_MAX_IDLE_AFTER_US. Default
	 * GNTDP_DP_DEFAULT_IDLE_AFTER_US (1000). Only with idle_sleep_us > 0.
	 */
	uint32_t idle_after_us;
	/**
	 * Copy kernel for GNTTABOP_copy payloads, a name gntdp_dp_copy_kernel()
	 * accepts: NULL or "auto" (default) picks the widest kernel the CPU
	 * and EAL's --force-max-simd-bitwidth allow. gntdp_dp_create() fails
	 * with gntdp_dp_copy_kernel()'s error: -EINVAL for an unknown name,
	 * -ENOTSUP for a kernel this CPU or build lacks.
	 */
	const char *copy;
};

/** Fill @p conf with defaults. */
void gntdp_dp_conf_init(struct gntdp_dp_conf *conf);

/* ---- Lifecycle ----------------------------------------------------------- */

/**
 * Create a data plane over world @p gt: one execution context per worker
 * (gntdp_gnttab_ctx_create, persistent cache when conf->cache and
 * conf->hold_us > 0), the selected copy kernel installed in each, and the
 * per-worker stats blocks. No worker has a poller yet and no lcore is
 * launched.
 * The data plane becomes the one the telemetry commands report on.
 *
 * Only after gntdp_dp_eal_init(); main thread.
 * @param conf NULL for defaults.
 * @return 0, -EINVAL (bad conf: cache_entries not a power of two, a value out of range,
 *         an lcore that is not an enabled lcore or listed twice, no
 *         worker lcore at all, unknown copy kernel), -ENOTSUP (a copy
 *         kernel this CPU or build lacks), -ENOSPC (the world cannot take
 *         that many contexts), -ENOMEM.
 */
int gntdp_dp_create(struct gntdp_gnttab *gt, const struct gntdp_dp_conf *conf,
		    struct gntdp_dp **out);

/**
 * Stop the workers if running and destroy the contexts (releasing every
 * cached pin) and the pollers. Hypercall rings must be destroyed before
 * (gntdp_dp_hcall_destroy()). Must be called before
 * gntdp_gnttab_destroy() of the world. NULL is a no-op. Main thread.
 */
void gntdp_dp_destroy(struct gntdp_dp *dp);

/**
 * Launch the poll loop on every worker lcore (rte_eal_remote_launch), but
 * not on a manual worker (the main lcore, see gntdp_dp_conf.worker_lcores).
 * Main thread.
 * @return 0, -EALREADY (already running), -EBUSY (a worker lcore is busy
 *         with another job; the workers launched so far are stopped again).
 */
int gntdp_dp_start(struct gntdp_dp *dp);

/**
 * Ask the workers to leave their loops and wait for them
 * (rte_eal_wait_lcore). A worker finishes the iteration it is in, so
 * every hypercall it took has its completion posted (a call preempted
 * between slices goes on when the workers run again). Then every pin
 * the workers' caches hold is released (stopped workers no longer age
 * them). Idempotent. Main thread.
 */
void gntdp_dp_stop(struct gntdp_dp *dp);

/** Whether the workers are running. Any thread. */
bool gntdp_dp_running(const struct gntdp_dp *dp);

/**
 * Run one poll-loop iteration of worker @p worker on the calling thread,
 * exactly as its lcore would (clock and ageing of every context the worker
 * owns, quiescent, then each of its pollers once, in registration order).
 * For tests and for applications that drive the loop themselves. Only
 * while stopped, or at any time for a manual worker (main lcore) from the
 * main thread; the caller then owns that worker and its contexts.
 * @return the sum of what its pollers returned (a hypercall ring's returns
 *         the calls it took; 0 = an idle iteration), or -EBUSY
 *         (workers running), -EINVAL (worker out of range).
 */
int gntdp_dp_poll(struct gntdp_dp *dp, unsigned int worker);

/**
 * Release every pin the workers' caches hold (gntdp_gnttab_ctx_expire with
 * UINT64_MAX on every context they own). Only while stopped. Main thread.
 * @return the number of pins released, or -EBUSY (workers running).
 */
int gntdp_dp_flush_cache(struct gntdp_dp *dp);

/**
 * Name of the copy kernel the workers use (for example "avx512",
 * "memmove"). Any thread.
 */
const char *gntdp_dp_copy_name(const struct gntdp_dp *dp);

/**
 * The copy kernel called @p name, for gntdp_gnttab_ctx_set_copy(). Names:
 * "auto" (or NULL: the widest kernel the CPU allows within EAL's
 * --force-max-simd-bitwidth, logged once), "memmove" (the core's default;
 * *fn is NULL), "scalar", "sse", "avx2", "avx512". gntdp_dp_create() uses
 * it for gntdp_dp_conf.copy, and so should every application that takes a
 * kernel name from its user. Only after gntdp_dp_eal_init(). Any thread.
 * @param fn receives the kernel (NULL for "memmove"); may be NULL.
 * @param resolved receives the kernel's own name (what "auto" chose); may be NULL.
 * @return 0; -EINVAL for an unknown name (an error is logged that lists
 *         the valid names); -ENOTSUP for a known kernel that this CPU (or
 *         this build) cannot run.
 */
int gntdp_dp_copy_kernel(const char *name, gntdp_copy_fn *fn, const char **resolved);

/* ---- Pollers ------------------------------------------------------------- */

/*
 * A worker's loop is a list of pollers, in the spirit of SPDK's
 * spdk_poller. Each iteration, busy or idle, the worker:
 *
 *   1. reads the TSC once (env.now) and sets it as the clock of every
 *      context it owns (its own and those of gntdp_dp_worker_ctx_create());
 *   2. when the cache is persistent, expires in each of them the pins taken
 *      before now - hold (gntdp_gnttab_ctx_expire), then announces a
 *      quiescent state for each (gntdp_gnttab_ctx_quiescent);
 *   3. calls each of its pollers once, in registration order.
 *
 * Hence the one bound for everything the worker ages: a cached pin is
 * released at most hold_us plus one loop iteration after it was taken
 * (docs/cache.md). A poller that keeps grant resources of its own beyond
 * one call (mappings, for instance) ages them against env.now and
 * env.hold_cycles each call with the same rule, and so obeys the same
 * bound. The stop flag is the worker's (gntdp_dp_stop()).
 *
 * A poller runs on its worker's lcore only, never concurrently with
 * itself; it does its grant ops through env->ctx or through a context it
 * obtained from gntdp_dp_worker_ctx_create() for the same worker, and
 * must not block. A worker starts with no poller; a hypercall ring's
 * ("hcall") is attached by gntdp_dp_hcall_create() and goes with
 * gntdp_dp_hcall_destroy(), also while the workers run.
 *
 * Registration and unregistration happen only while the workers are
 * stopped (-EBUSY otherwise). While they run, a poller's function, its arg
 * and its contexts belong to its worker; any thread may read the
 * counters (gntdp_dp_poller_info(), telemetry /gntdp/pollers). A poller
 * whose set of work changes while running (clients that come and go)
 * keeps its own list and synchronises with its control thread itself.
 */

/** A registered poller. Opaque. */
struct gntdp_dp_poller;

/** What a poller gets from its worker on every call. Valid for that call. */
struct gntdp_dp_poll_env {
	/** The worker's own context, for the poller's grant ops. */
	struct gntdp_gnttab_ctx *ctx;
	/** TSC at the start of this iteration: the clock of every context the worker owns. */
	uint64_t now;
	/**
	 * The hold bound in TSC cycles (hold_us); 0 when no pin may outlive
	 * a call (hold_us 0 or cache off).
	 */
	uint64_t hold_cycles;
	/** TSC frequency, Hz. */
	uint64_t tsc_hz;
	/** Iterations this worker completed before this one. */
	uint64_t iter;
	/** The worker's index, 0 .. gntdp_dp_worker_count() - 1. */
	unsigned int worker;
	/** The worker's EAL lcore. */
	unsigned int lcore_id;
};

/**
 * A poller function.
 * @return > 0 when it did work (busy; for instance the number of items
 *         handled), 0 when it found none (idle). Negative values count
 *         as idle.
 */
typedef int (*gntdp_dp_poller_fn)(void *arg, const struct gntdp_dp_poll_env *env);

/**
 * Register @p fn(@p arg, env) on worker @p worker, after the pollers it
 * already has. Only while stopped. Main thread.
 * @param name for stats and telemetry, 1..GNTDP_DP_POLLER_NAMESIZE-1
 *        printable characters; names need not be unique.
 * @param out receives the poller (may be NULL).
 * @return 0, -EINVAL (NULL dp or fn, worker out of range, bad name),
 *         -EBUSY (workers running), -ENOSPC (GNTDP_DP_MAX_WORKER_POLLERS
 *         on that worker or GNTDP_DP_MAX_POLLERS in all).
 */
int gntdp_dp_poller_register(struct gntdp_dp *dp, unsigned int worker, const char *name,
			     gntdp_dp_poller_fn fn, void *arg, struct gntdp_dp_poller **out);

/**
 * Remove poller @p p from its worker; it is not called again and its id
 * becomes free (a hypercall ring's poller, which the application never
 * holds, goes with gntdp_dp_hcall_destroy()). Only while stopped. Main
 * thread.
 * @return 0, -EINVAL (not a poller of @p dp), -EBUSY (running).
 */
int gntdp_dp_poller_unregister(struct gntdp_dp *dp, struct gntdp_dp_poller *p);

/** The poller's id (its slot for gntdp_dp_poller_info(), stable while registered). */
unsigned int gntdp_dp_poller_id(const struct gntdp_dp_poller *p);

/** One poller's identity and counters (gntdp_dp_poller_info()). */
struct gntdp_dp_poller_info {
	unsigned int id;                      /**< slot */
	unsigned int worker;                  /**< worker index */
	unsigned int lcore_id;                /**< that worker's EAL lcore */
	char name[GNTDP_DP_POLLER_NAMESIZE];  /**< as registered */
	uint64_t busy;                        /**< calls that returned > 0 */
	uint64_t idle;                        /**< calls that returned <= 0 */
};

/**
 * Upper bound of poller ids in use: every registered poller has an id
 * below it (some ids below may be free). Any thread.
 */
unsigned int gntdp_dp_poller_slots(const struct gntdp_dp *dp);

/**
 * Identity and counters of poller @p id. Any thread (approximate while
 * running), but not concurrently with gntdp_dp_poller_unregister() of that
 * poller (the telemetry commands are serialised with it).
 * @return 0, -ENOENT (no poller has that id now), -EINVAL (NULL argument).
 */
int gntdp_dp_poller_info(const struct gntdp_dp *dp, unsigned int id,
			 struct gntdp_dp_poller_info *out);

/**
 * Create an additional context owned by worker @p worker, for a poller of
 * that worker that wants its own grant cache (for instance one per traffic
 * source, so that sources do not evict each other's pins). The worker
 * sets its clock, ages it with the one bound and announces its quiescent
 * state every iteration, exactly as for its own context; the data plane's
 * copy kernel is installed; the cache is persistent exactly when the
 * worker's is (conf.cache and hold_us > 0). It lives until
 * gntdp_dp_worker_ctx_destroy() or gntdp_dp_destroy(); it is used only by
 * that worker's pollers (and by the main thread while stopped). Only while
 * stopped. Main thread.
 * @param cache_entries cache size, a power of two 2..4096; 0 = conf.cache_entries.
 * @return 0, -EINVAL (bad argument), -EBUSY (running), -ENOSPC
 *         (GNTDP_DP_MAX_WORKER_CTX reached, or the world's max_ctx), -ENOMEM.
 */
int gntdp_dp_worker_ctx_create(struct gntdp_dp *dp, unsigned int worker,
			       unsigned int cache_entries, struct gntdp_gnttab_ctx **out);

/**
 * Destroy a context of gntdp_dp_worker_ctx_create(), releasing its cached
 * pins. Only while stopped. Main thread.
 * @return 0, -EINVAL (not such a context of @p dp), -EBUSY (running).
 */
int gntdp_dp_worker_ctx_destroy(struct gntdp_dp *dp, struct gntdp_gnttab_ctx *ctx);

/* ---- Statistics ---------------------------------------------------------- */

/**
 * Counters of one worker, or their sum over all workers. Workers count in
 * their own cache-line aligned block; getters sum on read, so values are
 * monotonic but not a consistent snapshot across fields while running.
 */
struct gntdp_dp_stats {
	uint64_t ops;                        /**< ops run by the worker's hypercall rings */
	uint64_t ops_by_cmd[GNTDP_DP_NB_CMDS]; /**< the same by cmd (other cmds not counted) */
	uint64_t call_errors;                /**< hypercalls completed with rc != 0 */
	uint64_t batches;                    /**< hypercalls completed (one completion each) */
	uint64_t copy_bytes;                 /**< payload bytes copied (core counter) */
	uint64_t cache_hits;                 /**< grant acquisitions served by the cache */
	uint64_t cache_misses;               /**< grant acquisitions that pinned an entry */
	uint64_t cache_releases;             /**< cached pins released */
	uint64_t expired;                    /**< pins released by the hold bound */
	uint64_t busy_polls;                 /**< loop iterations where a poller did work */
	uint64_t idle_polls;                 /**< loop iterations where none did */
	/**
	 * Polls of a hypercall ring where calls waited but the CQ had less
	 * room than the burst could take (back-pressure).
	 */
	uint64_t ring_full;
	uint64_t idle_sleeps; /**< sleeps of the idle back-off (gntdp_dp_conf.idle_sleep_us) */
};

/**
 * Sum of every worker's counters into @p sum. Any thread.
 * @return 0, -EINVAL (NULL argument).
 */
int gntdp_dp_stats_get(const struct gntdp_dp *dp, struct gntdp_dp_stats *sum);

/** Number of workers. Any thread. */
unsigned int gntdp_dp_worker_count(const struct gntdp_dp *dp);

/**
 * Counters of worker @p worker, and its EAL lcore id in @p lcore_id
 * (may be NULL). Any thread.
 * @return 0, -EINVAL (worker out of range or NULL @p out).
 */
int gntdp_dp_worker_stats_get(const struct gntdp_dp *dp, unsigned int worker,
			      struct gntdp_dp_stats *out, unsigned int *lcore_id);

/**
 * Telemetry commands, registered by gntdp_dp_eal_init() (or the first
 * gntdp_dp_create()) and answering for the most recently created data
 * plane (empty when none exists). Like DPDK's /ethdev/list and
 * /ethdev/stats,<port>, list commands return ids and a parameter selects
 * one object:
 *  - /gntdp/stats: struct gntdp_dp_stats summed over workers, one key per
 *    field ("ops", "ops_copy" ... one per command, "call_errors", "batches", "copy_bytes", "cache_hits", "cache_misses",
 *    "cache_releases", "expired", "busy_polls", "idle_polls", "ring_full",
 *    "idle_sleeps");
 *  - /gntdp/lcores: array of worker lcore ids;
 *  - /gntdp/lcore,<lcore_id>: that worker's counters (same keys, plus
 *    "lcore", "worker", "pollers");
 *  - /gntdp/pollers: array of poller ids;
 *  - /gntdp/poller,<id>: the fields of struct gntdp_dp_poller_info
 *    ("id", "worker", "lcore", "name", "busy", "idle");
 *  - /gntdp/conf: the effective configuration.
 * Query with `dpdk-telemetry.py -f <file-prefix>`.
 */
#define GNTDP_DP_TELEMETRY_PREFIX "/gntdp/"

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_DATAPLANE_H */
