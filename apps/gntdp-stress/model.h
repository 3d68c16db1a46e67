/* SPDX-License-Identifier: MIT */
/*
 * The simulation: the domain zoo's layout, what each client queue knows
 * about its own state (mappings, handles, expected frame contents), and
 * what each guest agent knows about its grant entries. The generator reads
 * it to choose ops and the statuses they may get; the result processing
 * updates it. Main thread only.
 *
 * Domain zoo (domids):
 *   1..N   clients (backends); client 1 is privileged. One queue each.
 *   10, 11 guests G1, G2: grant frames to every client-like queue (clients,
 *          VC, P): "stable" refs only that queue uses (exact data checks),
 *          a read-only ref, a pin-saturation ref, a ref naming a missing
 *          frame, and "churn" refs the guest revokes, regrants and flips
 *          read-only while ops run. Plus a corrupt zone (random entry writes,
 *          sacrificial frames) and, on G1, accept_transfer entries for VC.
 *   20     VG: a granter destroyed and recreated with mappings live.
 *   21     VC: a client destroyed and recreated with ops in flight; it
 *          transfers pages to G1, which sends them back.
 *   30     H: hostile client posting garbage requests.
 *   40     P: a client with 2 grant frames and 1 maptrack frame (256 handles).
 *   50     STALL: its dump_table makes the log callback sleep (a worker stall).
 *   12     V2 ([world] v2): a granter that switches its table between v1 and v2
 *          (set_version), swaps entries, reads its status frames and version,
 *          with its own queue. Per client (the first V2_MAX_CL): full_page,
 *          read-only, sub_page and five transitive slots (gen_v2.c).
 *   13     V2T: the v2 targets of V2's transitive grants (no queue).
 */
#ifndef GNTDP_STRESS_MODEL_H
#define GNTDP_STRESS_MODEL_H

#include "stress.h"

#define DOM_G1 10
#define DOM_G2 11
#define DOM_VG 20
#define DOM_VC 21
#define DOM_H 30
#define DOM_P 40
#define DOM_STALL 50
#define DOM_V2 12
#define DOM_V2T 13
/* Never created: a valid-looking domid that does not exist. */
#define DOM_NONE 99

#define NB_GUESTS 2
#define RESERVED_REFS GNTDP_GNTTAB_NR_RESERVED_ENTRIES
#define SCRATCH_FRAMES 8
#define POOL_FRAMES 32
#define SACRIFICIAL_FRAMES 16
/* Live pins of one kind the generator allows on a stable ref (Xen's limit is 128). */
#define PIN_SOFT_LIMIT 120
#define BAD_FRAME 0xfffff000u

/* op_meta.aux2 of a raw call: the client rewrites its op while the call is in flight. */
#define RAW_SCRIBBLE 0x4000u

enum zone { Z_STABLE = 1, Z_RO, Z_SAT, Z_BADFRAME, Z_CHURN, Z_VICTIM, Z_CORRUPT, Z_V2 };

/* ---- The v2 granter (gen_v2.c) ---------------------------------------------- */

#define V2_MAX_CL 4
#define V2_SPARES 8
/* Reserved entries of V2: one carried over by every set_version, one it makes unrepresentable. */
#define V2_RSV_REF 2
#define V2_ODD_REF 7
/* Entries that exist on v1 only (256..511 of one grant frame): swap_grant_ref's bound. */
#define V2_HI_REF (GNTDP_GRANT_ENTRIES_PER_FRAME_V2 + 8)
#define V2_HI_REFS 200

/* V2's entries per client, in the order of its refs. */
enum v2slot {
	VS_FULL = 0, /* full_page (v1: permit_access), writable */
	VS_FULL_RO,  /* the same, read-only */
	VS_SUB,      /* sub_page with a random window (v1: a whole-page grant) */
	VS_TRANS,    /* transitive -> V2T's full_page grant to V2 */
	VS_TRANS_SUB, /* transitive -> V2T's sub_page grant to V2 (its window bounds the copy) */
	VS_LOOP,     /* transitive -> itself: self-referential (XSA-226) */
	VS_DEPTH2,   /* transitive -> V2T's transitive entry: depth 2 (XSA-226) */
	VS_BADDOM,   /* transitive -> a domain that does not exist */
	V2_SLOTS
};

/* Slot states: what the guest agent last did (v2's end access revokes even when busy). */
enum v2state { V2S_NONE = 0, V2S_GRANTED, V2S_REVOKED_BUSY };

struct v2cl {
	uint8_t st[V2_SLOTS];
	uint16_t maps[V2_SLOTS]; /* live mappings of the client on the slot */
	uint16_t sub_off, sub_len; /* VS_SUB's window (v2) */
	uint16_t tsub_off, tsub_len; /* V2T's sub_page window for this client */
	bool t_ok[3]; /* V2T's full, sub and transitive entries for this client granted */
};

struct v2model {
	bool on;
	uint32_t nbv;       /* clients with slots: 1..nbv */
	uint32_t ver;       /* V2's table version as the model knows it */
	uint32_t t_step;    /* V2T's set-up so far (guest actions) */
	bool rsv_granted;   /* V2_RSV_REF granted (carried over by set_version) */
	uint8_t odd;        /* V2_ODD_REF on v2: 0 none, 1 transitive, 2 frame above 2^32 */
	bool spare[V2_SPARES]; /* spare entry granted (to DOM_NONE) */
	bool hi[V2_HI_REFS];   /* v1 entries V2_HI_REF.. a swap moved a spare grant to */
	struct v2cl cl[V2_MAX_CL];
	uint64_t status_mfn; /* what get_status_frames first listed */
	uint64_t sv_ok, sv_busy, sv_range, swaps, flushes, replaces;
};

static inline uint32_t
v2_ref(uint32_t j, uint32_t k)
{
	return RESERVED_REFS + j * V2_SLOTS + k;
}

static inline uint32_t
v2_spare_ref(const struct v2model *v, uint32_t k)
{
	return RESERVED_REFS + v->nbv * V2_SLOTS + k;
}

/* V2's frames: gfn 0 for the reserved grant, then three per client (full, read-only, sub). */
static inline uint32_t
v2_gfn(uint32_t j, uint32_t k)
{
	return 1 + j * 3 + k;
}

/* V2T's entries per client: full_page, sub_page, transitive; frames: two per client. */
static inline uint32_t
v2t_ref(uint32_t j, uint32_t k)
{
	return RESERVED_REFS + j * 3 + k;
}

struct layout {
	uint32_t nb_cl; /* client-like queues that get grants */
	gntdp_domid_t cl_dom[STRESS_MAX_QUEUES];
	/*
	 * Grant refs: per client and guest, stable ones (a read-only, a saturation and a
	 * bad-frame ref follow them) and churn ones; per guest, the corrupt zone; VG's victim
	 * refs per client; G1's accept-transfer entries for VC.
	 */
	uint32_t stable_refs, churn_refs, corrupt_refs, victim_refs, accept_refs;
	/* Local frames of a client: those whose contents the model checks, then scratch ones. */
	uint32_t verified_frames, scratch_frames;
	uint32_t map_gfns;
	uint32_t g_frames; /* RAM frames of G1/G2 */
	uint32_t nb_workers;
};

/* Refs and frames of the layout (j: client index, i: index within the zone). */
static inline uint32_t
lay_stable_ref(const struct layout *l, uint32_t j, uint32_t i)
{
	return RESERVED_REFS + j * (l->stable_refs + 3) + i; /* i == stable_refs: read-only ref */
}

static inline uint32_t
lay_sat_ref(const struct layout *l, uint32_t j)
{
	return RESERVED_REFS + j * (l->stable_refs + 3) + l->stable_refs + 1;
}

static inline uint32_t
lay_bad_ref(const struct layout *l, uint32_t j)
{
	return RESERVED_REFS + j * (l->stable_refs + 3) + l->stable_refs + 2;
}

static inline uint32_t
lay_stable_gfn(const struct layout *l, uint32_t j, uint32_t i)
{
	/* i == stable_refs: read-only frame, stable_refs + 1: saturation frame */
	return j * (l->stable_refs + 2) + i;
}

static inline uint32_t
lay_churn_ref(const struct layout *l, uint32_t j, uint32_t i)
{
	return GNTDP_GRANT_ENTRIES_PER_FRAME_V1 + j * l->churn_refs + i;
}

static inline uint32_t
lay_churn_gfn(const struct layout *l, uint32_t j, uint32_t i)
{
	return l->nb_cl * (l->stable_refs + 2) + j * l->churn_refs + i;
}

static inline uint32_t
lay_corrupt_ref(const struct layout *l, uint32_t z)
{
	return GNTDP_GRANT_ENTRIES_PER_FRAME_V1 + l->nb_cl * l->churn_refs + z;
}

static inline uint32_t
lay_sacrificial_gfn(const struct layout *l, uint32_t z)
{
	return l->nb_cl * (l->stable_refs + 2) + l->nb_cl * l->churn_refs + z % SACRIFICIAL_FRAMES;
}

static inline uint32_t
lay_accept_ref(const struct layout *l, uint32_t a)
{
	return GNTDP_GRANT_ENTRIES_PER_FRAME_V1 + l->nb_cl * l->churn_refs + l->corrupt_refs + a;
}

/* G1's slots for pages it accepts: above its RAM, which ends with its queue's op area. */
static inline uint32_t
lay_accept_slot(const struct layout *l, uint32_t a)
{
	return l->g_frames + OPA_FRAMES + a;
}

static inline uint32_t
lay_victim_ref(const struct layout *l, uint32_t j, uint32_t i)
{
	return RESERVED_REFS + j * l->victim_refs + i;
}

static inline uint32_t
lay_victim_gfn(const struct layout *l, uint32_t j, uint32_t i)
{
	return j * l->victim_refs + i;
}

/* A stable ref a queue owns (also the read-only one). */
struct sref {
	gntdp_domid_t g;
	bool ro;
	uint32_t ref;
	uint32_t gfn;
	uint8_t *shadow;  /* expected contents of the granted frame */
	uint16_t pins[4]; /* live maps: hstw, hstr, devw, devr */
};

enum mstate { MS_LIVE = 0, MS_UNMAPPING };

struct mapping {
	uint32_t handle;
	gntdp_domid_t g;
	uint8_t zone;
	uint8_t flags; /* GNTMAP_host_map / device_map / readonly still mapped */
	uint8_t state;
	int16_t sidx; /* stable ref index, -1 */
	uint32_t ref;
	uint32_t gfn; /* host-map gfn in the client's physmap */
	uint64_t dev;
	uint32_t orec, oop;
};

/* Reservations of one generated op, undone when the op does not succeed. */
struct op_plan {
	uint32_t gfn;            /* reserved host gfn, or UINT32_MAX */
	int32_t map_idx;         /* unmap: mapping index; map: stable index for pins */
	uint32_t pin_inc;        /* map: pins planned (by counter, one byte each) */
	uint8_t part;            /* unmap: parts removed (GNTMAP_host_map / device_map) */
	uint8_t pool;            /* transfer: pool index + 1 */
	gntdp_domid_t aux_g;     /* map: the guest of a churn or saturation ref */
	uint16_t cp_src, cp_dst; /* copy: shadow ids (see gen.c), 0 = none */
};

/* Where a queue is in the run. */
enum qphase { QP_IDLE = 0, QP_SUBMITTING, QP_WAITING, QP_ABANDONED, QP_DEAD };

struct qmodel {
	unsigned int qid;
	gntdp_domid_t domid;
	uint8_t role;
	int client_idx; /* index among the clients that get grants, -1 when none */
	bool privileged;
	unsigned int worker;
	struct gntdp_dp_hcall *ring; /* its hypercall ring (caller: its domain) */
	struct rng rng;
	const struct dom_spec *ds;
	/* local frames */
	uint32_t verified_frames, scratch_frames, tp;
	uint8_t *lshadow; /* expected contents of the verified_frames */
	/* stable refs: [0, NB_GUESTS * (stable_refs + 1)), the read-only one last per guest */
	struct sref *sref;
	uint32_t nb_sref;
	uint16_t sat_devr[NB_GUESTS];
	/* mappings */
	struct mapping *maps;
	uint32_t nb_maps, cap_maps;
	uint32_t *gfn_free;
	uint32_t nb_gfn_free;
	uint32_t map_gfn0;
	uint32_t stale[64];
	uint32_t nb_stale;
	uint32_t live_handles;
	uint32_t own_grant_frames;
	/* VC transfer pool: 0 empty, 1 present, 2 in transit (op issued) */
	uint8_t pool[POOL_FRAMES];
	uint8_t pool_offer[POOL_FRAMES]; /* own accept entry offered for this gfn */
	uint8_t pool_aimed[POOL_FRAMES]; /* a transfer back from G1 aims at the offer */
	uint32_t pool_tag[POOL_FRAMES];  /* which page is (or will be) here: gen << 16 | gfn */
	/* G1's return transfers waiting for a batch: accept index + 1 */
	uint32_t ret_pending[64];
	uint32_t nb_ret_pending;
	/* the batch in flight */
	struct record cur;
	uint32_t cur_rec; /* its record number (origin of the handles it makes) */
	bool cur_viol;    /* a violation was seen in it */
	bool end_used;    /* raw: a call of the batch runs off the RAM (GADDR_END) */
	struct op_plan *plan;
	struct hc_call *calls; /* the batch's hypercalls */
	struct gntdp_hcall_sqe *sqes;
	uint32_t nb_calls, calls_sub, calls_done;
	struct op_result *res;
	uint32_t submitted, completed; /* ops of the calls submitted, completed */
	uint64_t seq_sub, seq_cpl;     /* calls (user_data sequence) */
	uint64_t ops_sub;              /* ops in them */
	uint64_t rc_faults, rc_errors; /* completions with -EFAULT, with another rc != 0 */
	enum qphase phase;
	double phase_until;
	bool touched_local[64];
	bool touched_sref[64];
	/* stats */
	uint64_t batches, ops, ops_ok;
	uint64_t last_progress_batches;
};

enum cstate { CH_INVALID = 0, CH_RW, CH_RO };

struct churn {
	uint32_t ref, gfn;
	uint8_t state;
	uint8_t client_idx; /* whose churn ref */
	bool poisoned;
	int prot;
	uint16_t maps;  /* live mappings the client holds on it */
	uint32_t epoch; /* grants so far */
};

/* FREE -> OFFERED -> (a transfer committed) COMMITTED -> (end transfer) HELD -> (sent back) FREE */
enum astate { AC_FREE = 0, AC_OFFERED, AC_COMMITTED, AC_HELD };

struct accept {
	uint32_t ref, slot;
	uint8_t state;
	bool aimed;   /* a transfer from VC aims at this offer */
	uint32_t tag; /* which page comes (or came) here: gen << 16 | VC gfn */
};

struct gmodel {
	gntdp_domid_t domid;
	bool alive;
	uint32_t gen;
	struct churn *churn;
	uint32_t nb_churn;
	struct accept *acc;
	uint32_t nb_acc;
	uint32_t grant_frames; /* current, as the agent knows it */
};

struct sim {
	const struct stress_conf *conf;
	struct layout lay;
	struct world_spec ws;
	struct qmodel q[STRESS_MAX_QUEUES];
	uint32_t nb_q;
	struct gmodel g[3]; /* G1, G2, VG */
	bool conc;          /* guest activity and faults race with ops */
	struct world *wa;   /* the world the data plane runs on */
	struct world *wb;   /* sequential mode: the plain-core mirror */
	struct gntdp_dp *dp;
	struct trace *log; /* sequential mode: every record, for traces */
	uint32_t nrec;
	struct fault_counts fc;
	struct rng grng; /* guest agents */
	struct rng frng; /* fault injector */
	bool vc_alive, vg_alive, h_alive;
	uint32_t vc_gen, vg_gen, h_gen;
	uint64_t status_hist[GNTDP_GNTST_COUNT];
	uint64_t kind_hist[K_COUNT];
	uint64_t total_ops, total_batches;
	bool selftest_done;
	struct v2model v2;
};

/* model.c */
int sim_init(struct sim *s, const struct stress_conf *c, bool conc);
void sim_free(struct sim *s);
struct qmodel *sim_queue_of(struct sim *s, gntdp_domid_t domid);
struct gmodel *sim_gmodel(struct sim *s, gntdp_domid_t domid);
/* Reset a queue's knowledge after its domain was (re)created. */
void qmodel_reset(struct sim *s, struct qmodel *q);
/* Drop every mapping of a destroyed mapper (teardown released them). */
void qmodel_forget_maps(struct sim *s, struct qmodel *q);
/* Expected frame-content checks of every verified frame of a queue. */
int qmodel_verify_all(struct sim *s, struct qmodel *q, const char *when);

/* gen.c */
/* Frame allocations legitimately alive beyond two per live domain (see gen.c). */
uint32_t sim_extra_segments(struct sim *s);
/* Fill q->cur (and q->plan) with the next batch; returns its op count. */
uint32_t gen_batch(struct sim *s, struct qmodel *q);
/* A batch that unmaps every live mapping of @p q (drain). 0 when none. */
uint32_t gen_unmap_all(struct sim *s, struct qmodel *q);
/* Process op @p i's result (in op order): check, update the model. */
void apply_result(struct sim *s, struct qmodel *q, uint32_t i, const struct op_result *r);
/* Undo the reservations of op @p i that never ran (abandoned). */
void rollback_op(struct sim *s, struct qmodel *q, uint32_t i);
/* After the whole batch: verify touched frames against the shadows. */
void finish_batch(struct sim *s, struct qmodel *q);

/* gen_v2.c: the v2 granter, its commands and the clients' ops on its slots. */
void v2_init(struct sim *s);
/* Add V2, V2T and V2's queue to the world spec (build_spec). */
void v2_spec(struct sim *s, struct world_spec *ws);
/* Whether a queue has V2 slots (a client among the first nbv). */
bool v2_client(const struct sim *s, const struct qmodel *q);
/* Commands of the V2 queue; clients' extra commands (cmd or 0xff for none). */
uint8_t v2_pick_cmd(struct sim *s, struct qmodel *q);
/* A kind for op @p i of q->cur (new commands, and copy/map on V2 slots); K_NONE for none. */
uint8_t v2_choose_kind(struct sim *s, struct qmodel *q);
bool v2_build(struct sim *s, struct qmodel *q, uint32_t i, uint8_t k);
/* A new command's or kind's result (after the status check); false: not a v2 op. */
bool v2_apply(struct sim *s, struct qmodel *q, uint32_t i, const struct op_result *r);
/* A map of a V2 slot that did not succeed (or never ran): drop its reservation. */
void v2_rollback(struct sim *s, struct qmodel *q, uint32_t i);
/* A mapping of a V2 slot lost its last part. */
void v2_mapping_gone(struct sim *s, struct qmodel *q, const struct mapping *mm);
/* Count a v2 kind's outcome (every run of the process), and print the counts. */
void v2_tally(uint8_t kind, const struct op_result *r);
void v2_summary(FILE *out);
/* The next guest action of V2 or V2T; false: none now. */
bool v2_guest_next(struct sim *s, struct record *r);
void v2_guest_applied(struct sim *s, const struct record *r, int res);
/* Garbage for commands 7-12 (hostile client): fills r and m. */
void v2_garbage(struct sim *s, struct qmodel *q, struct raw_call *r, struct op_meta *m);

/* guest.c */
/* Fill @p r as a guest record of @p domid. */
void rec_guest(struct record *r, gntdp_domid_t domid, uint8_t act, uint32_t ref, uint32_t a,
	       uint32_t b, uint32_t c);
/* Choose the next guest action (sequential and concurrent modes). false: nothing to do. */
bool guest_next(struct sim *s, struct record *r);
/* Apply an executed guest record's result to the model (and to protection, concurrent). */
void guest_applied(struct sim *s, const struct record *r, int result);
/* Grants a (re)created VG makes; appended as guest records by the caller. */
uint32_t guest_vg_grants(struct sim *s, struct record *out, uint32_t max);
/* Before the drain checks: end every churn grant, withdraw offers; the records to run. */
uint32_t guest_quiesce(struct sim *s, struct record *out, uint32_t max);

#endif /* GNTDP_STRESS_MODEL_H */
