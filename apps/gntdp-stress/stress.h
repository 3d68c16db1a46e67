/* SPDX-License-Identifier: MIT */
/*
 * gntdp-stress: internal interfaces shared by the files of the tool.
 *
 * The pieces (docs/stress.md has the full picture):
 *  - config.c: defaults, the INI file, the command line;
 *  - mem.c: the frame provider (one mmap per allocation, a registry the
 *    oracle and the fault handler read), page protection of revoked guest
 *    frames and the SIGSEGV detector, resident memory;
 *  - world.c: the world spec (domains, queues, grants) and building one
 *    world from it, frame patterns, snapshots;
 *  - exec.c: executing one record (a batch, a guest action, a control
 *    action) on the plain core or through the data plane, checking
 *    statuses against the allowed set, and the violation log;
 *  - model.c: the layout of the domain zoo and the per-queue client models;
 *  - gen.c: the batch generator (every op kind, valid and invalid, with the
 *    statuses the spec allows for it);
 *  - gen_hostile.c: the hostile client's hypercalls (gen_v2.c: v2 and 7-12);
 *  - guest.c: guest agents (grant, revoke, read-only flips, corruption,
 *    accept-transfer, table growth);
 *  - seq.c: sequential mode (data plane vs plain core, byte for byte);
 *  - conc.c: concurrent mode (all queues, all workers, faults, invariants);
 *  - hcall.c: records as hypercalls: op arrays in the caller's op area (its
 *    own guest memory), the calls through a hypercall ring or gntdp_hcall(),
 *    statuses and outputs read back from guest memory, the hostile calls;
 *  - trace.c: trace files, --replay and --minimize, on top of exec.c
 *    (exec.c needs nothing from trace.c: the minimizer silences violations
 *    through g_viol.quiet).
 *
 * Threading: everything here runs on the main thread except the fault
 * handler (any thread) and the world's log callback (worker lcores).
 */
#ifndef GNTDP_STRESS_H
#define GNTDP_STRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gntdp/dataplane.h>
#include <gntdp/gnttab.h>
#include <gntdp/hcall.h>

#define STRESS_MAX_QUEUES 64
#define STRESS_MAX_DOMS 32
#define STRESS_MAX_BATCH 4096
#define STRESS_MAX_WORKERS 8
/* Frame-list entries the tool gives each setup_table op (every domain has <= 64 grant frames). */
#define STRESS_FRAME_LIST 64
#define STRESS_MAX_GRANT_FRAMES 64
/* setup_table ops per batch at most, so each gets its own frame list. */
#define STRESS_MAX_SETUP_OPS 16

/* Exit codes. */
#define EXIT_VIOLATION 1
#define EXIT_USAGE 2

/* ---- Random numbers: xoshiro256**, seeded through splitmix64 ------------- */

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return out;
}

/* Uniform in [0, n); 0 when n is 0. */
static inline uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability pct/100. */
static inline bool
rng_pct(struct rng *r, uint32_t pct)
{
	return rng_below(r, 100) < pct;
}

/* ---- Configuration ------------------------------------------------------- */

enum stress_mode { MODE_SEQ = 1, MODE_CONC = 2, MODE_BOTH = 3, MODE_MP = 4 };

/* [multiprocess]: mp.c, docs/stress.md "Multi-process mode". */
struct mp_conf {
	char socket[256];        /* a running gntdpd's; "" = start daemon */
	char daemon[256];        /* gntdpd binary ("" = next to this one: ../gntdpd/gntdpd) */
	char daemon_config[256]; /* its --config */
	char client[256];        /* gntdp-stress-mp-client ("" = next to this binary) */
	uint32_t clients, slots, grants, batch, depth;
	uint64_t seed;           /* [run] seed */
	double duration;         /* [run] duration */
	double kill_every, garbage_every;
	bool garbage;
};

struct stress_conf {
	char config_path[512];
	struct mp_conf mp;
	uint64_t seed;
	enum stress_mode mode;
	/* [run] */
	double seq_seconds;   /* sequential phase length */
	uint32_t seq_records; /* ... or this many records, whichever first (0: time only) */
	double duration;      /* concurrent phase length */
	double warmup;        /* seconds before the resident-memory baseline */
	double drain_every;   /* seconds between drain checks in concurrent mode */
	double progress;      /* seconds between progress lines (0: none) */
	double rss_tolerance; /* percent */
	double rss_slack_mb;  /* absolute slack added to the tolerance */
	char trace_dir[256];
	/* [dataplane] */
	uint32_t workers;
	bool cache;
	uint32_t cache_entries;
	uint32_t hold_us;
	unsigned int idle_sleep_us, idle_after_us;
	uint32_t burst;
	uint32_t ring_size;
	char copy[32];
	/* [world] */
	uint32_t clients;
	uint32_t stable_refs;
	uint32_t churn_refs;
	uint32_t corrupt_refs;
	uint32_t victim_refs;
	uint32_t accept_refs;
	uint32_t local_frames;
	uint32_t map_gfns;
	bool v2; /* the v2 granters and commands 7-12 (gen_v2.c) */
	/* [ops] */
	uint32_t max_batch;
	uint32_t invalid_pct;
	uint32_t big_batch_pct; /* % of batches drawn from the large sizes (257..max_batch) */
	/* [guest] */
	uint32_t guest_actions; /* guest actions per main-loop turn (concurrent mode) */
	uint32_t corrupt_pct;   /* % of guest actions that corrupt an entry */
	bool protect;           /* mprotect revoked / read-only churn frames */
	/* [faults] */
	bool f_abandon, f_destroy, f_stall, f_corrupt, f_pressure, f_garbage;
	double abandon_every;
	double destroy_every;
	double stall_every;
	uint32_t stall_ms_max;
	/*
	 * Self-test of the reporting pipeline (--selftest): after 20 records the oracle is
	 * told that one copy into a read-only grant should succeed, as if the core had
	 * skipped that check. The run must fail, write a trace, and the trace must replay
	 * and minimize to that one op. No core change is involved.
	 */
	bool selftest;
	/*
	 * The same for the new commands (--selftest-v2): the first swap_grant_ref of a pinned
	 * entry is expected to succeed instead of GNTST_eagain.
	 */
	bool selftest_v2;
	/*
	 * And for hostile hypercalls (--selftest-hcall): the first call whose op array is a
	 * pointer into the gntdp process is expected to run (rc 0) instead of -EFAULT.
	 */
	bool selftest_hcall;
};

struct app_cfg;
struct app_cfg_desc;
/* The key table of the app layer's config engine (config.c, apps/common/app.h). */
extern const struct app_cfg_desc stress_cfg_desc;
/* The effective config (every key, as an INI file) and the run's page protection. */
void conf_print(const struct stress_conf *c, const struct app_cfg *cfg, FILE *out);

/* ---- Status masks -------------------------------------------------------- */

/* Bit -status for GNTST_* (0..13); bits 16.. for the whole-call rc of a completion. */
#define ST(s) (1u << (unsigned int)(-(s)))
#define M_OKAY ST(GNTDP_GNTST_OKAY)
#define M_GENERAL ST(GNTDP_GNTST_GENERAL_ERROR)
#define M_BAD_DOMAIN ST(GNTDP_GNTST_BAD_DOMAIN)
#define M_BAD_GNTREF ST(GNTDP_GNTST_BAD_GNTREF)
#define M_BAD_HANDLE ST(GNTDP_GNTST_BAD_HANDLE)
#define M_BAD_DEV_ADDR ST(GNTDP_GNTST_BAD_DEV_ADDR)
#define M_PERM ST(GNTDP_GNTST_PERMISSION_DENIED)
#define M_BAD_PAGE ST(GNTDP_GNTST_BAD_PAGE)
#define M_BAD_COPY_ARG ST(GNTDP_GNTST_BAD_COPY_ARG)
#define M_NO_SPACE ST(GNTDP_GNTST_NO_SPACE)
#define RC_OK (1u << 16)
#define RC_ESRCH (1u << 17)
#define RC_EINVAL (1u << 18)
#define RC_ENOSYS (1u << 19)
#define RC_EFAULT (1u << 20)
/* The errnos of set_version, get_version and cache_flush, whose rc is their result. */
#define RC_EBUSY (1u << 21)
#define RC_EAGAIN (1u << 22)
#define RC_ERANGE (1u << 23)
#define RC_EPERM (1u << 24)
#define RC_EOPNOTSUPP (1u << 25)
#define RC_EILSEQ (1u << 26)
#define RC_ANY 0xffff0000u
#define M_EAGAIN ST(GNTDP_GNTST_EAGAIN)
#define M_BAD_VIRT ST(GNTDP_GNTST_BAD_VIRT_ADDR)
#define M_STATUS_ALL 0x3fffu
/* A dead caller: the whole call is refused with -ESRCH and the status is bad_domain. */
#define M_DEAD_CALLER (M_BAD_DOMAIN | RC_ESRCH)

/* Statuses spec section 14 allows for a command at all (gntdp never produces eagain). */
uint32_t spec_mask(uint8_t cmd);
/* Whether (status, rc) is inside @p mask. */
bool mask_allows(uint32_t mask, int16_t status, int32_t rc);
void mask_str(uint32_t mask, char *buf, size_t len);

/* ---- Records: what a trace holds, what both worlds execute ---------------- */

/* Op kinds: what the generator meant an op to be (printed, kept in traces). */
enum op_kind {
	K_NONE = 0,
	/* copy */
	K_CP_L2S,
	K_CP_S2L,
	K_CP_S2S,
	K_CP_L2L,
	K_CP_CHURN_SRC,
	K_CP_CHURN_DST,
	K_CP_VICTIM,
	K_CP_CORRUPT,
	K_CP_BAD_DOMAIN,
	K_CP_BAD_REF,
	K_CP_CROSS,
	K_CP_RO_DEST,
	K_CP_WRONG_GRANTEE,
	K_CP_FOREIGN_FRAME,
	K_CP_LEN0,
	K_CP_BAD_GMFN,
	K_CP_INVALID_ENTRY,
	K_CP_BAD_PAGE,
	/* map */
	K_MP_STABLE,
	K_MP_CHURN,
	K_MP_VICTIM,
	K_MP_CORRUPT,
	K_MP_SAT,
	K_MP_NOFLAGS,
	K_MP_BAD_DOMAIN,
	K_MP_BAD_REF,
	K_MP_RO_WRITABLE,
	K_MP_WRONG_GRANTEE,
	K_MP_APP_MAP,
	K_MP_GFN_BUSY,
	K_MP_BAD_PAGE,
	K_MP_PRESSURE,
	/* unmap */
	K_UM_VALID,
	K_UM_PARTIAL,
	K_UM_ZERO,
	K_UM_BAD_HOST,
	K_UM_BAD_DEV,
	K_UM_STALE,
	K_UM_DOUBLE,
	/* setup_table, query_size, dump_table */
	K_ST_SELF,
	K_ST_TOO_BIG,
	K_ST_OTHER_UNPRIV,
	K_ST_OTHER_PRIV,
	K_ST_BAD_DOMAIN,
	K_ST_NULL_LIST,
	K_ST_ZERO,
	K_QS_SELF,
	K_QS_OTHER_UNPRIV,
	K_QS_OTHER_PRIV,
	K_QS_BAD_DOMAIN,
	K_DT_SELF,
	K_DT_OTHER_UNPRIV,
	K_DT_OTHER_PRIV,
	K_DT_BAD_DOMAIN,
	K_DT_STALL,
	/* transfer */
	K_TR_VALID,
	K_TR_RETURN,
	K_TR_BAD_GFN,
	K_TR_MAPPED_GFN,
	K_TR_BAD_DOMAIN,
	K_TR_NOT_OFFERED,
	K_TR_SELF,
	/* the hostile client's hypercalls (raw records, gen.c build_garbage) */
	K_GARBAGE,      /* a random op of a random command, in its op slot */
	K_HC_FLAGS,     /* submission flags or reserved word set: -EINVAL */
	K_HC_BAD_CMD,   /* a command above 12 (-ENOSYS) or with bits 12 and up (-EINVAL) */
	K_HC_BAD_COUNT, /* count above INT_MAX, or not 1 for a one-op command: -EINVAL */
	K_HC_BAD_ARRAY, /* the op array outside the caller's RAM: -EFAULT, nothing run */
	K_HC_EMPTY,     /* count 0: 0 */
	K_HC_RUNOFF,    /* the array runs off the RAM after its first op: it ran, -EFAULT */
	K_HC_BAD_LIST,  /* a frame_list outside the RAM: bad_virt_addr */
	K_HC_SCRIBBLE,  /* the op rewritten while the call is in flight */
	/* v2 grants and commands 7-12 (gen_v2.c, [world] v2) */
	K_CP_V2,      /* copy to or from a slot of the v2 granter (aux: slot) */
	K_MP_V2,      /* map a slot of the v2 granter */
	K_UR_VALID,   /* unmap_and_replace of a host mapping, new_addr 0 */
	K_UR_NEWADDR, /* ... new_addr != 0: refused (translated caller), mapping intact */
	K_UR_BAD_HOST,
	K_UR_STALE,
	K_UR_DEVONLY, /* a device-only mapping: nothing to replace (okay, kept) */
	K_SV_SET,     /* set_version 1 or 2 */
	K_SV_BAD,     /* set_version 0, 3, ... */
	K_GV_SELF,
	K_GV_OTHER,
	K_GV_BAD_DOMAIN,
	K_GS_SELF, /* get_status_frames of the caller's table */
	K_GS_NULL, /* ... a frame_list outside the RAM */
	K_GS_OTHER,
	K_GS_BAD_DOMAIN,
	K_SW_SPARE, /* swap_grant_ref of two spare entries */
	K_SW_SAME,
	K_SW_PINNED,
	K_SW_RANGE,
	K_CF_MAPPED, /* cache_flush of a frame the caller maps */
	K_CF_OWN,
	K_CF_BAD_ARGS,
	K_CF_NOOP,
	K_CF_UNGRANTED,
	K_COUNT
};

const char *kind_name(uint8_t kind);

/* Per-op metadata kept beside each op (in memory and in traces). */
struct op_meta {
	uint8_t kind;
	uint8_t aux;   /* kind-specific: zone, mapping flags */
	uint16_t aux2; /* kind-specific: index into the queue's tables */
	uint32_t mask; /* allowed (status, rc) */
	uint32_t orec; /* unmap: record of the map that made the handle (+1; 0 = none) */
	uint32_t oop;  /* unmap: op index in that record */
};

enum rec_type {
	REC_BATCH = 1, /* cmd-typed ops of one command */
	REC_RAW = 2,   /* hostile hypercalls: count struct raw_call, one call each */
	REC_GUEST = 3, /* a guest action */
	REC_CTRL = 4,  /* control: domain destroy/create, drain check */
};

enum guest_act {
	GA_GRANT = 1, /* a = grantee, b = frame, c = readonly */
	GA_END,       /* end access */
	GA_SET_RO,
	GA_SET_RW,
	GA_CORRUPT, /* a = {flags,domid} word, b = frame */
	GA_OFFER,   /* accept transfer: a = grantee, b = slot gfn */
	GA_END_TRANSFER,
	GA_FILL, /* write a pattern into frame b (gfn) with generation a */
	/* v2 granters (gen_v2.c): a = grantee */
	GA_V2_FULL,    /* b = frame, c = readonly */
	GA_V2_SUB,     /* b = frame, c = off << 16 | len */
	GA_V2_TRANS,   /* b = trans domid, c = trans gref */
	GA_V2_END,     /* end access through the status array */
	GA_V1_END_ANY, /* end access of whatever entry a v1 table holds at ref (v1 form) */
	GA_SET_VERSION, /* the granter's own set_version(a) as a hypercall: rc */
	GA_RAW_V2,     /* raw v2 entry: a = flags | domid << 16, b/c = frame low/high word */
};

enum ctrl_act {
	CA_DESTROY = 1, /* domid */
	CA_CREATE,      /* domid, a = generation (frame pattern) */
	CA_DRAIN,       /* unmap everything live, then check the drained invariants */
};

struct record {
	uint8_t type;
	uint8_t cmd;    /* REC_BATCH: the command; REC_GUEST/CTRL: the action */
	uint16_t qid;   /* REC_BATCH/RAW: queue; REC_GUEST/CTRL: domid */
	uint32_t count; /* ops */
	uint32_t ref;   /* REC_GUEST: entry */
	uint32_t a, b, c;
	int32_t result; /* REC_GUEST: what world A returned (information only) */
	void *ops;      /* count ops of op_size(cmd) bytes, or count struct raw_call */
	struct op_meta *meta;
};

size_t op_size(uint8_t cmd);
/* Commands whose ops carry a mapping handle (unmap, unmap_and_replace: same offset). */
static inline bool
cmd_has_handles(uint8_t cmd)
{
	return cmd == GNTDP_GNTTABOP_UNMAP_GRANT_REF || cmd == GNTDP_GNTTABOP_UNMAP_AND_REPLACE;
}
/* Commands the core takes one op per call (the data plane sends them one by one). */
static inline bool
cmd_one_by_one(uint8_t cmd)
{
	return cmd == GNTDP_GNTTABOP_SETUP_TABLE || cmd == GNTDP_GNTTABOP_QUERY_SIZE ||
	       cmd == GNTDP_GNTTABOP_DUMP_TABLE || cmd == GNTDP_GNTTABOP_SET_VERSION ||
	       cmd == GNTDP_GNTTABOP_GET_STATUS_FRAMES || cmd == GNTDP_GNTTABOP_GET_VERSION ||
	       cmd == GNTDP_GNTTABOP_CACHE_FLUSH;
}
void record_free(struct record *r);

/* ---- World spec and worlds ----------------------------------------------- */

enum role {
	ROLE_CLIENT = 1, /* a backend issuing ops, its own queue */
	ROLE_GUEST,      /* a frontend granting frames (permanent) */
	ROLE_VCLIENT,    /* a client that is destroyed and recreated, and transfers pages */
	ROLE_VGRANTER,   /* a granter that is destroyed and recreated */
	ROLE_HOSTILE,    /* posts garbage; destroyed and recreated */
	ROLE_PRESSURE,   /* tiny table and maptrack limits */
	ROLE_STALL,      /* dump_table hook that stalls a worker */
	ROLE_V2,         /* the v2 granter: switches versions, swaps, its own queue */
	ROLE_V2TARGET,   /* the targets of its transitive grants (v2, no queue) */
};

const char *role_name(uint8_t role);

struct dom_spec {
	gntdp_domid_t domid;
	uint8_t role;
	uint8_t privileged;
	uint32_t nr_frames;
	uint32_t p2m_size;
	uint32_t max_grant_frames;
	uint32_t max_maptrack_frames;
	uint32_t init_grant_frames;
};

struct grant_spec {
	gntdp_domid_t domid; /* granter */
	uint16_t flags;      /* GTF_* as the guest wrote them */
	gntdp_domid_t grantee;
	uint16_t rsvd;
	uint32_t ref;
	uint32_t frame;
};

/*
 * A queue is a hypercall ring of its domain. Its op area is OPA_FRAMES frames of the
 * domain's RAM from op_gfn on, at the top of the RAM (model.c puts it there): the op arrays
 * and frame lists of its hypercalls live there, and nothing grants, maps or transfers them.
 */
struct queue_spec {
	gntdp_domid_t domid;
	uint8_t role;
	uint8_t rsvd;
	uint32_t op_gfn;
};

struct world_spec {
	uint64_t seed; /* frame patterns */
	uint32_t nb_doms;
	struct dom_spec doms[STRESS_MAX_DOMS];
	uint32_t nb_queues;
	struct queue_spec queues[STRESS_MAX_QUEUES];
	uint32_t nb_grants;
	struct grant_spec *grants;
	/* Refs of the guests' corrupt zone: their flags are random, the drain check skips them. */
	uint32_t corrupt_lo, corrupt_hi;
};

const struct dom_spec *spec_dom(const struct world_spec *ws, gntdp_domid_t domid);

/* The frame provider's record of one allocation. */
struct alloc_slot {
	_Atomic(uintptr_t) va; /* 0 = free slot */
	size_t len;
	uint32_t serial; /* allocation number within its world */
};

#define STRESS_MAX_ALLOCS 1024

struct world {
	int id; /* 0: A (data plane), 1: B (plain core), 2: replay */
	const struct world_spec *spec;
	struct gntdp_gnttab *gt;
	struct gntdp_mem_ops mem;
	struct gntdp_gnttab_ctx *ctx; /* plain context: Xen-exact, memmove */
	/* provider registry */
	struct alloc_slot allocs[STRESS_MAX_ALLOCS];
	atomic_uint nb_live_allocs;
	atomic_uint next_serial;
	/* log callback */
	atomic_ulong log_lines;
	atomic_ulong dumps;
	uint32_t gen[STRESS_MAX_DOMS]; /* creations of each spec domain */
	bool alive[STRESS_MAX_DOMS];
};

int world_build(struct world *w, int id, const struct world_spec *ws);
void world_destroy(struct world *w);
int world_create_dom(struct world *w, gntdp_domid_t domid, uint32_t gen);
int world_destroy_dom(struct world *w, gntdp_domid_t domid);
bool world_dom_alive(const struct world *w, gntdp_domid_t domid);
/* Deterministic frame contents (domain, gfn, generation). */
void frame_fill(uint8_t *va, uint64_t seed, gntdp_domid_t domid, uint32_t gfn, uint32_t gen);
/* (serial, offset) of an address inside the world's frame memory; false if not found. */
bool world_addr_id(struct world *w, uint64_t addr, uint32_t *serial, uint64_t *off);
struct gntdp_grant_entry_v1 *world_entry(struct world *w, gntdp_domid_t domid, uint32_t ref);
/* Apply one grant spec (guest side). Returns the guest call's result. */
int world_apply_grant(struct world *w, const struct grant_spec *g);

/* ---- Memory provider, protection detector, resident memory ---------------- */

struct gntdp_mem_ops mem_ops_for(struct world *w);
/* Largest resident set size of the process (KiB), from /proc/self/statm. */
uint64_t rss_kib(void);

enum prot_state { PROT_OPEN = 0, PROT_REVOKED, PROT_READONLY };

/* Register a guest frame with the detector (once); returns its slot or -1. */
int prot_register(void *va, gntdp_domid_t domid, uint32_t gfn);
/* Set the protection of a registered frame; returns 0 or -errno (mprotect failed). */
int prot_set(int slot, enum prot_state st);
bool prot_available(void);
void prot_install_handler(uint64_t seed);
/* Violations the handler saw: count, and a description of the first one. */
unsigned int prot_violations(char *first, size_t len);
void prot_reset_all(void);

/* ---- Violations ----------------------------------------------------------- */

struct violation_log {
	atomic_uint count;
	/* Count, do not print: set while the minimizer replays candidates (trace.c). */
	atomic_bool quiet;
	char first[512];
	char sig[96]; /* signature of the first violation (minimizer) */
};

extern struct violation_log g_viol;
extern uint64_t g_seed;

/* Report a violation (printed once per kind up to a limit). @p sig is a short class tag. */
void violation(const char *sig, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Execution ------------------------------------------------------------ */

/* One op's outcome as a client sees it. */
struct op_result {
	int16_t status;
	bool lost; /* the call ran, but its caller died before the statuses were read */
	int32_t rc;
	uint32_t handle;
	uint64_t dev_bus_addr;
	uint32_t nr_frames, max_nr_frames;
	uint32_t version; /* set_version (always) and get_version (rc 0) */
};

/* World-independent device addresses in records (exec.c). */
uint64_t addr_abstract(struct world *w, uint64_t addr);
uint64_t addr_concrete(struct world *w, uint64_t abs);
/* Execute a guest or control record on world @p w. Returns the action's result. */
int exec_guest(struct world *w, const struct record *r);

/* Handle translation for unmaps: map (rec, op) -> handle of this execution. */
struct handle_map;
struct handle_map *hmap_new(void);
void hmap_free(struct handle_map *h);
void hmap_put(struct handle_map *h, uint32_t rec, uint32_t op, uint32_t handle);
bool hmap_get(const struct handle_map *h, uint32_t rec, uint32_t op, uint32_t *handle);
void hmap_del(struct handle_map *h, uint32_t rec, uint32_t op);
/* For each unmap op with an origin, the handle to use (translated) into out[count]. */
void record_handles(const struct record *r, const struct handle_map *h, uint32_t *out);

/* ---- Hypercalls (hcall.c) ---------------------------------------------------- */

/*
 * A queue's op area (queue_spec.op_gfn): op i of a batch at offset i * op_size(cmd) (one
 * hypercall covers the batch), call i of a raw record at i * OPA_SLOT; then the frame lists
 * of setup_table and get_status_frames (STRESS_MAX_SETUP_OPS of STRESS_FRAME_LIST entries);
 * then one frame that only a raw call's op that runs off the end of the RAM uses.
 */
#define OPA_SLOT 48u
#define OPA_OPS_FRAMES (STRESS_MAX_BATCH * OPA_SLOT / GNTDP_PAGE_SIZE)
#define OPA_LIST_FRAMES (STRESS_MAX_SETUP_OPS * STRESS_FRAME_LIST * 8 / GNTDP_PAGE_SIZE)
#define OPA_FRAMES (OPA_OPS_FRAMES + OPA_LIST_FRAMES + 1u)
/* What the client writes into each status before the call: one still there was not run. */
#define OP_UNRUN ((int16_t)0x5a5a)

/*
 * Guest addresses in records that the executor fills in (everything else is used as it
 * is): a frame_list of 1 is the op's list in the op area; a raw call's gaddr of 1 is its
 * slot, 2 puts its op at the very end of the RAM (the array runs off it), 3 and a list of
 * 3 are a pointer into this process (a canary the call must leave alone).
 */
#define GADDR_SLOT 1ull
#define GADDR_END 2ull
#define GADDR_HOST 3ull

/* One hostile hypercall of a REC_RAW record (trace format 2). */
struct raw_call {
	uint32_t cmd;   /* any value */
	uint32_t count; /* any value */
	uint32_t flags; /* submission flags and rsvd: non-zero is -EINVAL, nothing run */
	uint32_t rsvd;
	uint64_t gaddr;       /* GADDR_* or a guest address */
	uint8_t op[OPA_SLOT]; /* op 0 of the array (at GADDR_SLOT / GADDR_END) */
};

/* A hypercall of a record: ops first .. first + nops - 1 (raw: call first, nops 1). */
struct hc_call {
	uint32_t first, nops;
};

/* The command of op (batch) or call (raw) @p i. */
uint32_t rec_cmd(const struct record *r, uint32_t i);
/* A record's hypercalls: one per batch, one per op of the one-by-one commands and raw records. */
uint32_t rec_calls(const struct record *r, struct hc_call *calls);
/*
 * Write a record's op arrays into its caller's op area in world @p w (handles: unmap
 * handles to use, or NULL) and fill its submissions (user_data ud0, ud0 + 1, ...).
 * Returns the number of calls.
 */
uint32_t hc_prepare(struct world *w, const struct record *r, const uint32_t *handles, uint64_t ud0,
		    struct hc_call *calls, struct gntdp_hcall_sqe *sqes);
/* After call @p c completed with @p rc: its ops' outcomes, from guest memory, into res[]. */
void hc_results(struct world *w, const struct record *r, const struct hc_call *c, int32_t rc,
		struct op_result *res);
/* A hostile client rewrites raw call @p k's op (all but its status) while it is in flight. */
struct rng;
void hc_scribble(struct world *w, const struct record *r, uint32_t k, struct rng *rng);
/* Count a hostile call's outcome (every run of the process); print the counts, and with
 * @p check make each hostile kind's absence a violation once enough calls ran. */
void hostile_tally(uint8_t kind, const struct op_result *r);
int hostile_summary(FILE *out, bool conc, bool check);
/* Run a record's calls on world @p w with gntdp_hcall() (plain core); results into res[count]. */
void exec_plain(struct world *w, const struct record *r, const uint32_t *handles,
		struct op_result *res);
/* Run a record's calls through @p ring and wait for every completion (in order). */
int dp_run_record(struct gntdp_dp_hcall *ring, struct world *w, const struct record *r,
		  const uint32_t *handles, struct op_result *res, uint64_t *seq, double timeout_s);
/* Op @p i's frame list in the op area of queue @p qid in world @p w (NULL: gone). */
const gntdp_xen_pfn_t *opa_list(struct world *w, unsigned int qid, unsigned int i);
/* Whether gfn @p gfn of @p domid is in one of its queues' op areas. */
bool opa_holds(const struct world_spec *ws, gntdp_domid_t domid, uint64_t gfn);
/* Append the op areas to the RAM of each queue's domain (build_spec, last). */
void opa_assign(struct world_spec *ws);
/* A ring per queue of @p ws on @p dp (queue i on worker i % workers), and their end. */
int rings_create(struct gntdp_dp *dp, const struct world_spec *ws, const struct stress_conf *c,
		 unsigned int entries, struct gntdp_dp_hcall **rings);
void rings_destroy(struct gntdp_dp *dp, struct gntdp_dp_hcall **rings, uint32_t n);

/* Sequential oracle: per-op results, then all memory, of two worlds. Returns mismatches. */
int compare_results(struct world *wa, struct world *wb, const struct record *r,
		    const struct op_result *ra, const struct op_result *rb, uint32_t rec);
int compare_worlds(struct world *wa, struct world *wb, uint32_t rec);
/*
 * Whether a batch must start with the data plane's cache empty when the two worlds are
 * compared (sequential mode, replay): the v2 granter's own batches (a cached copy pin
 * would make a switch -EBUSY or a swap eagain) and ops on a slot revoked while mapped
 * (op_meta.aux2 & V2_META_UNSTABLE: with a cached pin they succeed, without it fail).
 */
#define V2_META_UNSTABLE 0x8000u
bool rec_needs_empty_cache(const struct world_spec *ws, const struct record *r);
/* A live domain's grant-table version (2, else 1). */
int table_version(struct world *w, gntdp_domid_t domid);
/*
 * Wait for A's cached pins to match B's (or, B NULL, to be gone and exactly 2 allocations per
 * live domain plus @p extra_allocs). 0, or -1 (violation).
 */
int wait_pins(struct world *wa, struct world *wb, double timeout_s, const char *when,
	      uint32_t extra_allocs);

/*
 * The drained invariants on world @p w (live mappings must have been unmapped). With
 * @p extra_allocs >= 0, exactly 2 allocations per live domain plus that many must be live
 * (segments kept by transferred pages); -1 skips that check.
 */
int check_drained(struct world *w, const char *when, int extra_allocs);

/* ---- Trace files ----------------------------------------------------------- */

struct trace {
	uint64_t seed;
	uint32_t mode; /* MODE_SEQ or MODE_CONC: where it came from */
	struct world_spec ws;
	uint32_t nb_recs, cap;
	struct record *recs;
	char note[256];
};

void trace_init(struct trace *t, uint64_t seed, uint32_t mode, const struct world_spec *ws);
/* Append a deep copy of @p r. */
int trace_add(struct trace *t, const struct record *r);
void trace_free(struct trace *t);
int trace_write(const struct trace *t, const char *path);
int trace_read(struct trace *t, const char *path);
/* Write @p t under the configured trace dir; the path chosen goes into @p path. */
int trace_dump(const struct trace *t, const struct stress_conf *c, const char *tag, char *path,
	       size_t len);

/* Replay: >0 violations reproduced, 0 clean, <0 error. @p dp_ok: a data plane may be used. */
int replay_trace(const struct trace *t, const struct stress_conf *c, bool use_dp, bool quiet);
extern bool g_verbose;
int replay_main(const struct stress_conf *c, const char *path, bool use_dp);
int minimize_main(const struct stress_conf *c, const char *path, const char *out, bool use_dp);

/* ---- Modes ----------------------------------------------------------------- */

struct fault_counts {
	uint64_t abandon, abandon_inflight;
	uint64_t destroy, destroy_inflight, destroy_maps;
	uint64_t stall, stall_ms;
	uint64_t corrupt, garbage;
	uint64_t no_space, table_limit;
	uint64_t revokes, ro_flips, grants, transfers_in, transfers_back, growth;
	uint64_t lost; /* statuses of calls that ran, unreadable: their caller was destroyed */
};

int seq_main(const struct stress_conf *c, bool eal);
int conc_main(const struct stress_conf *c);
/* Multi-process mode (mp.c): 0 clean, 1 a violation, 2 setup, 77 no EAL memory for gntdpd. */
int mp_main(const struct stress_conf *c);

/* Monotonic seconds. */
double now_s(void);
void sleep_us(unsigned int us);

#endif /* GNTDP_STRESS_H */
