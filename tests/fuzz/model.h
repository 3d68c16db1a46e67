/* SPDX-License-Identifier: MIT */
/*
 * An independent model of Xen's grant tables for the fuzz harness
 * (fuzz_batch.c): domains, their physmaps and frames (with a byte-exact
 * shadow of every frame), the shared entries as the guest and Xen write
 * them, active entries with Xen's four pin counters, and mappings.
 *
 * Written from Xen's semantics (shared/spec/xen-grant-semantics.md and
 * xen/common/grant_table.c) plus the deviations docs/semantics.md
 * documents, never from gntdp's code: the model calls nothing in gnttab/.
 * Each op runs Xen's algorithm on the model step by step and yields the
 * one status Xen would write; the harness requires gntdp's to equal it
 * (no alternatives: every status is exactly Xen's).
 *
 * v1 and v2 tables. A table format is a row of m_fmts (entries per frame)
 * and of the harness's fmt_read (how to read gntdp's table into m_entry);
 * each domain names its format in version. A v2 entry is kept as the 16
 * bytes the guest wrote plus the status word (where GTF_reading/writing
 * live on v2); a v1 entry as flags (with GTF_reading/writing), domid and
 * frame.
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <gntdp/xen_grant_table.h>

#define M_MAX_DOMS 16	 /* model domains ever created in one input, zombies included */
#define M_MAX_GFNS 64	 /* largest p2m_size the harness configures */
#define M_MAX_GF 4	 /* largest max_grant_frames the harness configures */
#define M_MAX_ENTRIES (M_MAX_GF * GNTDP_GRANT_ENTRIES_PER_FRAME_V1) /* v1 has the most */
#define M_MAX_FRAMES 256 /* model frames ever created in one input */
#define M_MAX_MAPS 2048	 /* live mappings, all callers together */

/* What a physmap slot holds. */
enum m_slot_kind {
	SLOT_EMPTY = 0,
	SLOT_PAGE,     /* a page the domain owns: its RAM or one transferred to it */
	SLOT_GRANT_RO, /* a read-only host mapping of a granted frame */
	SLOT_GRANT_RW, /* a writable host mapping of a granted frame */
};

struct m_slot {
	uint8_t kind;
	int16_t fid; /* frame id, -1 when empty */
};

/* One 4 KiB frame and its shadow. */
struct m_frame {
	bool live;
	uint8_t *ptr; /* where gntdp keeps it (learned once, at creation) */
	uint8_t data[GNTDP_PAGE_SIZE];
};

/*
 * Xen's active entry: the four pin counters of grant_table.c, the grantee,
 * the frame, the copy window (start is 15 bits wide in Xen) and, for a
 * transitive pin, the entry it holds (tdi: model domain index, -1 if none).
 */
struct m_act {
	uint32_t hstr, hstw, devr, devw;
	gntdp_domid_t domid;
	int16_t fid;
	uint16_t start, length;
	bool sub; /* Xen's is_sub_page: sub-page or transitive (never mappable) */
	int tdi;
	uint32_t tref;
};

/*
 * A shared entry as it must read in guest memory. v1: flags (with
 * GTF_reading/writing), domid, frame. v2: the 16 bytes of e2 and the
 * status word.
 */
struct m_entry {
	uint16_t flags;
	gntdp_domid_t domid;
	uint32_t frame;
	union gntdp_grant_entry_v2 e2;
	uint16_t status;
};

/* What the model needs of each grant-table format, by version. */
struct m_fmt {
	uint32_t entries_per_frame;
};
extern const struct m_fmt m_fmts[3];

struct m_dom {
	bool used;
	uint8_t version; /* index into m_fmts: 1 or 2 */
	uint8_t max_version; /* 1: set_version to 2 is -ENOSYS */
	bool alive; /* false: destroyed (a zombie while others still map its grants) */
	gntdp_domid_t id;
	bool priv;
	uint32_t nr_frames, p2m_size, max_gf, nr_gf, max_handles, owned;
	struct m_slot p2m[M_MAX_GFNS];
	struct m_entry ent[M_MAX_ENTRIES];
	struct m_act act[M_MAX_ENTRIES];
};

/* A live mapping (maptrack entry) of caller on granter's ref. */
struct m_map {
	int caller, granter; /* model domain indexes */
	uint32_t ref, handle, flags, parts;
	int16_t fid;
};

struct model {
	struct m_dom dom[M_MAX_DOMS];
	unsigned int nb_dom;
	struct m_frame frame[M_MAX_FRAMES];
	unsigned int nb_frame;
	struct m_map map[M_MAX_MAPS];
	unsigned int nb_map;
};

extern struct model M;

/* ---- Domains and frames ---------------------------------------------------- */

void m_reset(void);
/* A new domain, its RAM at gfn 0..nr_frames-1 (zero-filled shadows). Index, or -1 if full. */
int m_dom_create(gntdp_domid_t id, bool priv, uint32_t nr_frames, uint32_t p2m_size,
		 uint32_t max_gf, uint32_t maptrack_frames, uint8_t max_version);
/* The live domain named id (DOMID_SELF is not translated), or -1. */
int m_dom_by_id(gntdp_domid_t id);
/* A destroyed domain named id that others still map (a zombie). */
bool m_zombie(gntdp_domid_t id);
/* Destroy: its mappings of others' grants go; mappings of its grants stay. */
void m_dom_destroy(int di);
/* Live mappings held by caller ci. */
unsigned int m_nb_maps(int ci);
struct m_map *m_map_find(int ci, uint32_t handle);
/* Whether ref of di has a pin (the guest must not touch GTF_reading/writing then). */
bool m_pinned(int di, uint32_t ref);
/* Entries in di's table now. */
uint32_t m_nr_entries(int di);
/* Entries with a non-zero pin in di's table. */
uint32_t m_pinned_entries(int di);
/* Status frames of di's table: 0 on v1, ceil(nr_grant_frames / 8) on v2. */
uint32_t m_nr_status_frames(int di);

/* ---- Guest side (gntdp_guest_*; results are gntdp's documented contract) ---- */

int m_guest_grant(int di, uint32_t ref, uint16_t type_flags, gntdp_domid_t grantee,
		  uint32_t frame);
int m_guest_end_access(int di, uint32_t ref);
int m_guest_set_readonly(int di, uint32_t ref);
void m_guest_set_writable(int di, uint32_t ref);
/* end_transfer: 0 and the gfn in *frame, -ENOENT, -EINVAL. */
int m_guest_end_transfer(int di, uint32_t ref, uint32_t *frame);
/*
 * A hostile raw write of the whole entry, except that GTF_reading/writing
 * stay as they are while the entry is pinned (Xen owns them then); on an
 * entry nobody pins the guest may preset them.
 */
void m_guest_raw(int di, uint32_t ref, uint16_t flags, gntdp_domid_t grantee, uint32_t frame);
/*
 * v2 grant_access_v2 / grant_sub_page / grant_transitive: -EBUSY unless
 * the header's flags are 0.
 */
int m_guest_grant_v2(int di, uint32_t ref, uint16_t flags, gntdp_domid_t grantee,
		     const union gntdp_grant_entry_v2 *body);
/* v2 end access as Linux does: the header's flags go; -EBUSY while the status is busy. */
int m_guest_end_access_v2(int di, uint32_t ref);
/* v2 hostile raw write of all 16 bytes (the header is the guest's; the status word is not). */
void m_guest_raw_v2(int di, uint32_t ref, const union gntdp_grant_entry_v2 *e);
/* The guest writes len bytes of buf at off of its gfn, if it may. True if written. */
bool m_guest_write(int di, uint64_t gfn, uint32_t off, uint32_t len, const uint8_t *buf);

/* ---- Ops: each runs Xen's steps on the model and returns Xen's status ------------ */

/*
 * map_grant_ref. On okay the pin, the flags and the host slot are in the
 * model; the caller adds the mapping with m_map_add() once it knows the
 * handle. *fid: the mapped frame, *gi: the granter.
 */
int16_t m_map(int ci, const struct gntdp_gnttab_map_grant_ref *op, int16_t *fid, int *gi);
void m_map_add(int ci, int gi, const struct gntdp_gnttab_map_grant_ref *op, uint32_t handle,
	       int16_t fid);

/* unmap_grant_ref, in two steps: the status, then (on okay) the model's change. */
struct m_unmap_plan {
	int16_t st;
	struct m_map *map;
	uint32_t gone;	/* GNTMAP_HOST_MAP / GNTMAP_DEVICE_MAP parts removed on okay */
	uint64_t gfn;	/* the host slot removed */
};
/* new_addr: unmap_and_replace's (translated: must be 0 for the host part); 0 for unmap. */
struct m_unmap_plan m_unmap_plan(int ci, uint32_t handle, uint64_t host_addr, uint64_t dev_bus_addr,
				 uint64_t new_addr);
void m_unmap_apply(const struct m_unmap_plan *p);

/*
 * copy: Xen's gnttab_copy_one() with its two buffers (source, dest), held
 * across the ops of one call between m_copy_begin() and m_copy_end(): a
 * buffer is reused by the next op naming the same ref (or gmfn) with the
 * same domids, and released when an op names another, when the domid pair
 * changes, after a failing op and at the end of the call. On okay the bytes
 * move in the shadow. src_gi and dst_gi report the grant sides the op used
 * (for the persistent-cache leniency).
 */
struct m_copy_res {
	int16_t st;
	int src_gi, dst_gi; /* granter of a gref side the op used, or -1 */
};
void m_copy_begin(void);
struct m_copy_res m_copy(int ci, const struct gntdp_gnttab_copy *op);
void m_copy_end(void);

int16_t m_transfer(int ci, const struct gntdp_gnttab_transfer *op);
/* null_list: the frame list cannot be written (translated: bad_virt_addr after the growth). */
int16_t m_setup_table(int ci, const struct gntdp_gnttab_setup_table *op, bool null_list);
/* get_status_frames (9): okay, bad_domain, permission_denied, general_error, bad_virt_addr. */
int16_t m_get_status_frames(int ci, gntdp_domid_t dom, uint32_t nr, bool null_list);
/* query_size; on okay *nr and *max are the answers. */
int16_t m_query_size(int ci, gntdp_domid_t dom, uint32_t *nr, uint32_t *max);
int16_t m_dump_table(int ci, gntdp_domid_t dom);

/*
 * Commands whose result is the call's errno (no status field). Each
 * returns Xen's errno; *version is the field Xen writes back.
 * get_version: 0, -ESRCH or -EPERM (XSM target rule); *version on 0 only.
 */
int m_get_version(int ci, gntdp_domid_t dom, uint32_t *version);
/*
 * set_version (8): -EINVAL, -ENOSYS, -EBUSY (a ref >= 8 pinned), -EAGAIN
 * (v2 -> v1 with a sub-page or transitive pin), -ERANGE (a reserved entry
 * v1 cannot hold), else 0 and the switch (reserved entries carried over,
 * the rest cleared). *version is written back always.
 */
int m_set_version(int ci, uint32_t want, uint32_t *version);
/* swap_grant_ref on the caller's own table (v2: the status words too): okay, bad_gntref, eagain. */
int16_t m_swap_grant_ref(int ci, uint32_t ref_a, uint32_t ref_b);
/*
 * One cache_flush op (x86 Xen 4.17, which gntdp follows): the frame is
 * found by its address among the pages live domains own; *cur_ref is the
 * ref the search for the caller's pin resumes at (the cmd's bits >= 12 in
 * place, Xen's opaque argument, for the first op; 0 after). 0 or a
 * negative errno.
 */
int m_cache_flush(int ci, const struct gntdp_gnttab_cache_flush *op, uint32_t *cur_ref);

#endif /* FUZZ_MODEL_H */
