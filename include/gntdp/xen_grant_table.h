/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Xen's grant-table guest ABI (GNTTABOP_* argument structs, GTF_*, GNTMAP_*,
 * GNTCOPY_*, GNTST_* and DOMID_* values) as gntdp implements it.
 *
 * Written from the published interface description (the seed header and
 * shared/spec/xen-abi-layout.txt), not copied from Xen. Every struct is
 * byte-identical to Xen's public header on x86_64: same size, same field
 * offsets. tests/abi/test_abi.c proves this against Debian's libxen-dev
 * <xen/grant_table.h>. docs/abi.md maps each name here to Xen's name
 * (GNTDP_GNTST_BAD_DOMAIN is GNTST_bad_domain, struct gntdp_gnttab_copy is
 * struct gnttab_copy, and so on).
 *
 * Version 2 entry layouts and the commands 7-12 are declared so that later
 * work needs no ABI change; which commands gntdp executes is documented in
 * gntdp/gnttab.h.
 *
 * Threading: plain data definitions, no state.
 */
#ifndef GNTDP_XEN_GRANT_TABLE_H
#define GNTDP_XEN_GRANT_TABLE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Domain identifier (Xen domid_t). */
typedef uint16_t gntdp_domid_t;
/** Index into a granting domain's grant table (Xen grant_ref_t). */
typedef uint32_t gntdp_grant_ref_t;
/** Mapping handle returned by map_grant_ref (Xen grant_handle_t). */
typedef uint32_t gntdp_grant_handle_t;
/** Guest frame number (Xen xen_pfn_t on x86_64). */
typedef uint64_t gntdp_xen_pfn_t;
/** Version 2 status word (Xen grant_status_t). */
typedef uint16_t gntdp_grant_status_t;

/** Bytes in one frame; every offset and length is against 4 KiB frames. */
#define GNTDP_PAGE_SHIFT 12
#define GNTDP_PAGE_SIZE (1u << GNTDP_PAGE_SHIFT)

/* ---- Domain ids ---------------------------------------------------------- */
#define GNTDP_DOMID_FIRST_RESERVED 0x7FF0U
#define GNTDP_DOMID_SELF 0x7FF0U
#define GNTDP_DOMID_IO 0x7FF1U
#define GNTDP_DOMID_XEN 0x7FF2U
#define GNTDP_DOMID_COW 0x7FF3U
#define GNTDP_DOMID_INVALID 0x7FF4U
#define GNTDP_DOMID_IDLE 0x7FFFU

/* ---- Commands (the hypercall's cmd argument) ----------------------------- */
#define GNTDP_GNTTABOP_MAP_GRANT_REF 0
#define GNTDP_GNTTABOP_UNMAP_GRANT_REF 1
#define GNTDP_GNTTABOP_SETUP_TABLE 2
#define GNTDP_GNTTABOP_DUMP_TABLE 3
#define GNTDP_GNTTABOP_TRANSFER 4
#define GNTDP_GNTTABOP_COPY 5
#define GNTDP_GNTTABOP_QUERY_SIZE 6
#define GNTDP_GNTTABOP_UNMAP_AND_REPLACE 7
#define GNTDP_GNTTABOP_SET_VERSION 8
#define GNTDP_GNTTABOP_GET_STATUS_FRAMES 9
#define GNTDP_GNTTABOP_GET_VERSION 10
#define GNTDP_GNTTABOP_SWAP_GRANT_REF 11
#define GNTDP_GNTTABOP_CACHE_FLUSH 12
/** cmd bits >= this shift carry cache_flush's continuation (Xen GNTTABOP_CONTINUATION_ARG_SHIFT). */
#define GNTDP_GNTTABOP_CONTINUATION_ARG_SHIFT 12
#define GNTDP_GNTTABOP_CMD_MASK ((1u << GNTDP_GNTTABOP_CONTINUATION_ARG_SHIFT) - 1)

/* ---- Shared grant entries ------------------------------------------------ */

/**
 * Version 1 grant entry (8 bytes), shared between a guest and gntdp.
 * The guest writes domid and frame, then flags (type last, after a write
 * barrier). gntdp updates flags and domid together as one 32-bit word with
 * compare-and-exchange; see docs/concurrency.md.
 */
struct gntdp_grant_entry_v1 {
	uint16_t flags;      /**< GTF_* type and sub-flags [guest + gntdp] */
	gntdp_domid_t domid; /**< grantee [guest] */
	uint32_t frame;      /**< granted gfn, or transfer slot [guest; gntdp on transfer] */
};

/** Version 2 entry header: flags and grantee, status bits live elsewhere. */
struct gntdp_grant_entry_header {
	uint16_t flags;
	gntdp_domid_t domid;
};

/** Version 2 grant entry (16 bytes). */
union gntdp_grant_entry_v2 {
	struct gntdp_grant_entry_header hdr;
	/** GTF_permit_access: the whole frame. */
	struct {
		struct gntdp_grant_entry_header hdr;
		uint32_t pad0;
		uint64_t frame;
	} full_page;
	/** GTF_permit_access | GTF_sub_page: bytes [page_off, page_off+length). */
	struct {
		struct gntdp_grant_entry_header hdr;
		uint16_t page_off;
		uint16_t length;
		uint64_t frame;
	} sub_page;
	/** GTF_transitive: use grant @gref of domain @trans_domid. */
	struct {
		struct gntdp_grant_entry_header hdr;
		gntdp_domid_t trans_domid;
		uint16_t pad0;
		gntdp_grant_ref_t gref;
	} transitive;
	uint32_t __spacer[4];
};

/** Entries per 4 KiB grant frame. */
#define GNTDP_GRANT_ENTRIES_PER_FRAME_V1 (GNTDP_PAGE_SIZE / sizeof(struct gntdp_grant_entry_v1))
#define GNTDP_GRANT_ENTRIES_PER_FRAME_V2 (GNTDP_PAGE_SIZE / sizeof(union gntdp_grant_entry_v2))

/* Entry type, bits 0-1. */
#define GNTDP_GTF_INVALID 0x0U
#define GNTDP_GTF_PERMIT_ACCESS 0x1U
#define GNTDP_GTF_ACCEPT_TRANSFER 0x2U
#define GNTDP_GTF_TRANSITIVE 0x3U
#define GNTDP_GTF_TYPE_MASK 0x3U
/* Sub-flags of permit_access / transitive. */
#define GNTDP_GTF_READONLY 0x4U   /**< grantee may only read [guest] */
#define GNTDP_GTF_READING 0x8U    /**< in use for reading [gntdp] */
#define GNTDP_GTF_WRITING 0x10U   /**< in use for writing [gntdp] */
#define GNTDP_GTF_PWT 0x20U
#define GNTDP_GTF_PCD 0x40U
#define GNTDP_GTF_PAT 0x80U
#define GNTDP_GTF_SUB_PAGE 0x100U
/* Sub-flags of accept_transfer (reuse bits 2 and 3). */
#define GNTDP_GTF_TRANSFER_COMMITTED 0x4U
#define GNTDP_GTF_TRANSFER_COMPLETED 0x8U

/* Reserved refs. */
#define GNTDP_GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTDP_GNTTAB_RESERVED_CONSOLE 0
#define GNTDP_GNTTAB_RESERVED_XENSTORE 1

/* ---- Map flags ----------------------------------------------------------- */
#define GNTDP_GNTMAP_DEVICE_MAP 0x1U
#define GNTDP_GNTMAP_HOST_MAP 0x2U
#define GNTDP_GNTMAP_READONLY 0x4U
#define GNTDP_GNTMAP_APPLICATION_MAP 0x8U
#define GNTDP_GNTMAP_CONTAINS_PTE 0x10U
#define GNTDP_GNTMAP_GUEST_AVAIL_MASK 0xFFFF0000U

/* ---- Copy flags ---------------------------------------------------------- */
#define GNTDP_GNTCOPY_SOURCE_GREF 0x1U
#define GNTDP_GNTCOPY_DEST_GREF 0x2U

/* ---- Cache flush ops ----------------------------------------------------- */
#define GNTDP_GNTTAB_CACHE_CLEAN 0x1U
#define GNTDP_GNTTAB_CACHE_INVAL 0x2U
#define GNTDP_GNTTAB_CACHE_SOURCE_GREF 0x80000000U

/* ---- Per-op status codes (GNTST_*) --------------------------------------- */
#define GNTDP_GNTST_OKAY 0
#define GNTDP_GNTST_GENERAL_ERROR (-1)
#define GNTDP_GNTST_BAD_DOMAIN (-2)
#define GNTDP_GNTST_BAD_GNTREF (-3)
#define GNTDP_GNTST_BAD_HANDLE (-4)
#define GNTDP_GNTST_BAD_VIRT_ADDR (-5)
#define GNTDP_GNTST_BAD_DEV_ADDR (-6)
#define GNTDP_GNTST_NO_DEVICE_SPACE (-7)
#define GNTDP_GNTST_PERMISSION_DENIED (-8)
#define GNTDP_GNTST_BAD_PAGE (-9)
#define GNTDP_GNTST_BAD_COPY_ARG (-10)
#define GNTDP_GNTST_ADDRESS_TOO_BIG (-11)
#define GNTDP_GNTST_EAGAIN (-12)
#define GNTDP_GNTST_NO_SPACE (-13)
/** Number of status codes (0 down to -13). */
#define GNTDP_GNTST_COUNT 14

/**
 * The messages Xen's GNTTABOP_error_msgs gives, indexed by -status.
 * Use gntdp_gntst_str() (gntdp/gnttab.h) for a bounds-checked lookup.
 */
#define GNTDP_GNTTABOP_ERROR_MSGS                                                                  \
	{                                                                                          \
		"okay", "undefined error", "unrecognised domain id", "invalid grant reference",    \
			"invalid mapping handle", "invalid virtual address",                       \
			"invalid device address", "no spare translation slot in the I/O MMU",      \
			"permission denied", "bad page", "copy arguments cross page boundary",     \
			"page address size too large", "operation not done; try again",            \
			"out of space",                                                            \
	}

/* ---- Argument structs, one per command ----------------------------------- */

/** GNTTABOP_map_grant_ref (0). Whole struct written back. */
struct gntdp_gnttab_map_grant_ref {
	uint64_t host_addr;          /**< in: where to map (gfn << 12 for host_map) */
	uint32_t flags;              /**< in: GNTMAP_* */
	gntdp_grant_ref_t ref;       /**< in */
	gntdp_domid_t dom;           /**< in: granting domain (DOMID_SELF not accepted) */
	int16_t status;              /**< out: GNTST_* */
	gntdp_grant_handle_t handle; /**< out: on success only */
	uint64_t dev_bus_addr;       /**< out: I/O address of the frame, on success only */
};

/** GNTTABOP_unmap_grant_ref (1). Only status written back. */
struct gntdp_gnttab_unmap_grant_ref {
	uint64_t host_addr;    /**< in: 0 = leave the host part */
	uint64_t dev_bus_addr; /**< in: 0 = leave the device part */
	gntdp_grant_handle_t handle;
	int16_t status; /**< out */
};

/** GNTTABOP_setup_table (2). Only status (and the frame list) written. */
struct gntdp_gnttab_setup_table {
	gntdp_domid_t dom;          /**< in: DOMID_SELF accepted */
	uint32_t nr_frames;         /**< in */
	int16_t status;             /**< out */
	gntdp_xen_pfn_t *frame_list; /**< in: nr_frames entries written */
};

/** GNTTABOP_dump_table (3). */
struct gntdp_gnttab_dump_table {
	gntdp_domid_t dom; /**< in: DOMID_SELF accepted */
	int16_t status;    /**< out */
};

/** GNTTABOP_transfer (4). Only status written back. */
struct gntdp_gnttab_transfer {
	gntdp_xen_pfn_t mfn; /**< in: the caller's frame to give away */
	gntdp_domid_t domid; /**< in: receiver */
	gntdp_grant_ref_t ref; /**< in: receiver's accept_transfer entry */
	int16_t status;        /**< out */
};

/** One side of a copy: a grant ref of @domid, or a frame of the caller. */
struct gntdp_gnttab_copy_ptr {
	union {
		gntdp_grant_ref_t ref;
		gntdp_xen_pfn_t gmfn;
	} u;
	gntdp_domid_t domid;
	uint16_t offset;
};

/** GNTTABOP_copy (5). Only status written back. */
struct gntdp_gnttab_copy {
	struct gntdp_gnttab_copy_ptr source;
	struct gntdp_gnttab_copy_ptr dest;
	uint16_t len;
	uint16_t flags; /**< GNTCOPY_* */
	int16_t status; /**< out */
};

/** GNTTABOP_query_size (6). Whole struct written back. */
struct gntdp_gnttab_query_size {
	gntdp_domid_t dom;      /**< in: DOMID_SELF accepted */
	uint32_t nr_frames;     /**< out */
	uint32_t max_nr_frames; /**< out */
	int16_t status;         /**< out */
};

/** GNTTABOP_unmap_and_replace (7). */
struct gntdp_gnttab_unmap_and_replace {
	uint64_t host_addr;
	uint64_t new_addr;
	gntdp_grant_handle_t handle;
	int16_t status;
};

/** GNTTABOP_set_version (8). */
struct gntdp_gnttab_set_version {
	uint32_t version;
};

/** GNTTABOP_get_status_frames (9). */
struct gntdp_gnttab_get_status_frames {
	uint32_t nr_frames;
	gntdp_domid_t dom;
	int16_t status;
	uint64_t *frame_list;
};

/** GNTTABOP_get_version (10). */
struct gntdp_gnttab_get_version {
	gntdp_domid_t dom;
	uint16_t pad;
	uint32_t version;
};

/** GNTTABOP_swap_grant_ref (11). */
struct gntdp_gnttab_swap_grant_ref {
	gntdp_grant_ref_t ref_a;
	gntdp_grant_ref_t ref_b;
	int16_t status;
};

/** GNTTABOP_cache_flush (12). No status field; the call's rc reports. */
struct gntdp_gnttab_cache_flush {
	union {
		uint64_t dev_bus_addr;
		gntdp_grant_ref_t ref;
	} a;
	uint16_t offset;
	uint16_t length;
	uint32_t op;
};

/* Layout pins (x86_64 and every LP64 target). */
#ifdef __cplusplus
#define GNTDP_ABI_ASSERT(c, m) static_assert(c, m)
#else
#define GNTDP_ABI_ASSERT(c, m) _Static_assert(c, m)
#endif
GNTDP_ABI_ASSERT(sizeof(struct gntdp_grant_entry_v1) == 8, "grant_entry_v1");
GNTDP_ABI_ASSERT(sizeof(union gntdp_grant_entry_v2) == 16, "grant_entry_v2");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_map_grant_ref) == 32, "map_grant_ref");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_unmap_grant_ref) == 24, "unmap_grant_ref");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_setup_table) == 24, "setup_table");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_dump_table) == 4, "dump_table");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_transfer) == 24, "transfer");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_copy) == 40, "copy");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_query_size) == 16, "query_size");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_unmap_and_replace) == 24, "unmap_and_replace");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_set_version) == 4, "set_version");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_get_status_frames) == 16, "get_status_frames");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_get_version) == 8, "get_version");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_swap_grant_ref) == 12, "swap_grant_ref");
GNTDP_ABI_ASSERT(sizeof(struct gntdp_gnttab_cache_flush) == 16, "cache_flush");

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_XEN_GRANT_TABLE_H */
