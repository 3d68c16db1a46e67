/* SPDX-License-Identifier: MIT */
/*
 * ABI conformance: include/gntdp/xen_grant_table.h against Xen's own public
 * header as Debian's libxen-dev installs it (<xen/grant_table.h>), and
 * include/gntdp/xenstore.h against <xen/io/xs_wire.h>.
 *
 * A guest builds its GNTTABOP argument arrays with Xen's header and hands
 * them to gntdp, so every struct must have the same size and alignment,
 * every field the same offset, size and signedness (nested unions and the
 * v2 entry variants included), and every constant the same value. The
 * compiler computes both sides here; nothing is typed in twice, so the test
 * cannot drift from either header. Each check is one table row, so a
 * mismatch is reported by name and the test goes on to report the rest.
 *
 * The second half checks the core's status strings (gntdp_gntst_str and
 * gntdp_gntst_name) against Xen's GNTTABOP_error_msgs and GNTST_* names.
 *
 * Exit: 0 all equal, 1 a mismatch, 77 libxen-dev's header is not installed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gntdp/gnttab.h>
#include <gntdp/xen_grant_table.h>
#include <gntdp/xenstore.h>

#ifdef HAVE_XEN_GRANT_TABLE_H

/*
 * Xen hides the v2 entries and commands 8-12 from guests that ask for an old
 * interface, and guests that ask for none get 0x00000000. 0x00040e00 (Xen
 * 4.14, the newest these 4.17 headers accept) shows everything.
 */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#include <xen/xen.h>
/* After xen.h, which defines domid_t and the guest handles it uses. */
#include <xen/grant_table.h>
/* xenstore's wire framing, from the same package (include/gntdp/xenstore.h). */
#include <xen/io/xs_wire.h>

/* clang-format 14 mangles _Generic and a leading # in macro bodies. */
/* clang-format off */

/* 1 signed integer, 0 unsigned integer, -1 anything else (struct, union, pointer, array). */
#define SIGNEDNESS(e)                                                                              \
	_Generic((e), signed char: 1, short: 1, int: 1, long: 1, long long: 1, unsigned char: 0,   \
		 unsigned short: 0, unsigned int: 0, unsigned long: 0, unsigned long long: 0,      \
		 default: -1)

struct layout_row {
	const char *name;
	size_t xen_off, our_off;
	size_t xen_size, our_size;
	size_t xen_align, our_align; /* 0 for fields: only whole types are compared */
	int xen_signed, our_signed;
};

/* A whole type: size, alignment, signedness (for scalar typedefs). */
#define TYPE_ROW(xt, gt)                                                                           \
	{#gt, 0, 0, sizeof(xt), sizeof(gt), _Alignof(xt), _Alignof(gt),                            \
	 SIGNEDNESS(*(xt *)0), SIGNEDNESS(*(gt *)0)}

/* One field (a member designator, nested ones too) present under the same name in both. */
#define FIELD_ROW(xt, gt, f)                                                                       \
	{#gt "." #f, offsetof(xt, f), offsetof(gt, f), sizeof(((xt *)0)->f), sizeof(((gt *)0)->f), \
	 0, 0, SIGNEDNESS(((xt *)0)->f), SIGNEDNESS(((gt *)0)->f)}

/*
 * Xen wraps guest pointers in XEN_GUEST_HANDLE(type), a struct holding one
 * pointer `p`; gntdp uses the plain pointer. Compare what they point at.
 */
#define HANDLE_ROW(xt, gt, f)                                                                      \
	{#gt "." #f "[0]", 0, 0, sizeof(*((xt *)0)->f.p), sizeof(*((gt *)0)->f), 0, 0,             \
	 SIGNEDNESS(*((xt *)0)->f.p), SIGNEDNESS(*((gt *)0)->f)}

/* clang-format on */

#define V1 struct grant_entry_v1, struct gntdp_grant_entry_v1
#define HDR struct grant_entry_header, struct gntdp_grant_entry_header
#define V2 union grant_entry_v2, union gntdp_grant_entry_v2
#define MAP struct gnttab_map_grant_ref, struct gntdp_gnttab_map_grant_ref
#define UNMAP struct gnttab_unmap_grant_ref, struct gntdp_gnttab_unmap_grant_ref
#define SETUP struct gnttab_setup_table, struct gntdp_gnttab_setup_table
#define DUMP struct gnttab_dump_table, struct gntdp_gnttab_dump_table
#define XFER struct gnttab_transfer, struct gntdp_gnttab_transfer
#define CPTR struct gnttab_copy_ptr, struct gntdp_gnttab_copy_ptr
#define COPY struct gnttab_copy, struct gntdp_gnttab_copy
#define QSIZE struct gnttab_query_size, struct gntdp_gnttab_query_size
#define UAR struct gnttab_unmap_and_replace, struct gntdp_gnttab_unmap_and_replace
#define SETV struct gnttab_set_version, struct gntdp_gnttab_set_version
#define GSF struct gnttab_get_status_frames, struct gntdp_gnttab_get_status_frames
#define GETV struct gnttab_get_version, struct gntdp_gnttab_get_version
#define SWAP struct gnttab_swap_grant_ref, struct gntdp_gnttab_swap_grant_ref
#define FLUSH struct gnttab_cache_flush, struct gntdp_gnttab_cache_flush
#define XSMSG struct xsd_sockmsg, struct gntdp_xs_sockmsg

/* Expand a (xen type, gntdp type) pair macro before the row macro sees it. */
#define TYPE(p) TYPE_ROW(p)
#define FIELD(p, f) FIELD_(p, f)
#define FIELD_(...) FIELD_ROW(__VA_ARGS__)
#define HANDLE(p, f) HANDLE_(p, f)
#define HANDLE_(...) HANDLE_ROW(__VA_ARGS__)

static const struct layout_row layout[] = {
	/* Scalar ABI types. */
	TYPE_ROW(domid_t, gntdp_domid_t),
	TYPE_ROW(grant_ref_t, gntdp_grant_ref_t),
	TYPE_ROW(grant_handle_t, gntdp_grant_handle_t),
	TYPE_ROW(xen_pfn_t, gntdp_xen_pfn_t),
	TYPE_ROW(grant_status_t, gntdp_grant_status_t),

	/* Shared entries. */
	TYPE(V1),
	FIELD(V1, flags),
	FIELD(V1, domid),
	FIELD(V1, frame),
	TYPE(HDR),
	FIELD(HDR, flags),
	FIELD(HDR, domid),
	TYPE(V2),
	FIELD(V2, hdr),
	FIELD(V2, hdr.flags),
	FIELD(V2, hdr.domid),
	FIELD(V2, full_page),
	FIELD(V2, full_page.hdr),
	FIELD(V2, full_page.pad0),
	FIELD(V2, full_page.frame),
	FIELD(V2, sub_page),
	FIELD(V2, sub_page.hdr),
	FIELD(V2, sub_page.page_off),
	FIELD(V2, sub_page.length),
	FIELD(V2, sub_page.frame),
	FIELD(V2, transitive),
	FIELD(V2, transitive.hdr),
	FIELD(V2, transitive.trans_domid),
	FIELD(V2, transitive.pad0),
	FIELD(V2, transitive.gref),
	FIELD(V2, __spacer),

	/* Argument structs, by command number. */
	TYPE(MAP),
	FIELD(MAP, host_addr),
	FIELD(MAP, flags),
	FIELD(MAP, ref),
	FIELD(MAP, dom),
	FIELD(MAP, status),
	FIELD(MAP, handle),
	FIELD(MAP, dev_bus_addr),
	TYPE(UNMAP),
	FIELD(UNMAP, host_addr),
	FIELD(UNMAP, dev_bus_addr),
	FIELD(UNMAP, handle),
	FIELD(UNMAP, status),
	TYPE(SETUP),
	FIELD(SETUP, dom),
	FIELD(SETUP, nr_frames),
	FIELD(SETUP, status),
	FIELD(SETUP, frame_list),
	HANDLE(SETUP, frame_list),
	TYPE(DUMP),
	FIELD(DUMP, dom),
	FIELD(DUMP, status),
	TYPE(XFER),
	FIELD(XFER, mfn),
	FIELD(XFER, domid),
	FIELD(XFER, ref),
	FIELD(XFER, status),
	TYPE(CPTR),
	FIELD(CPTR, u),
	FIELD(CPTR, u.ref),
	FIELD(CPTR, u.gmfn),
	FIELD(CPTR, domid),
	FIELD(CPTR, offset),
	TYPE(COPY),
	FIELD(COPY, source),
	FIELD(COPY, source.u),
	FIELD(COPY, source.u.ref),
	FIELD(COPY, source.u.gmfn),
	FIELD(COPY, source.domid),
	FIELD(COPY, source.offset),
	FIELD(COPY, dest),
	FIELD(COPY, dest.u),
	FIELD(COPY, dest.u.ref),
	FIELD(COPY, dest.u.gmfn),
	FIELD(COPY, dest.domid),
	FIELD(COPY, dest.offset),
	FIELD(COPY, len),
	FIELD(COPY, flags),
	FIELD(COPY, status),
	TYPE(QSIZE),
	FIELD(QSIZE, dom),
	FIELD(QSIZE, nr_frames),
	FIELD(QSIZE, max_nr_frames),
	FIELD(QSIZE, status),
	TYPE(UAR),
	FIELD(UAR, host_addr),
	FIELD(UAR, new_addr),
	FIELD(UAR, handle),
	FIELD(UAR, status),
	TYPE(SETV),
	FIELD(SETV, version),
	TYPE(GSF),
	FIELD(GSF, nr_frames),
	FIELD(GSF, dom),
	FIELD(GSF, status),
	FIELD(GSF, frame_list),
	HANDLE(GSF, frame_list),
	TYPE(GETV),
	FIELD(GETV, dom),
	FIELD(GETV, pad),
	FIELD(GETV, version),
	TYPE(SWAP),
	FIELD(SWAP, ref_a),
	FIELD(SWAP, ref_b),
	FIELD(SWAP, status),
	TYPE(FLUSH),
	FIELD(FLUSH, a),
	FIELD(FLUSH, a.dev_bus_addr),
	FIELD(FLUSH, a.ref),
	FIELD(FLUSH, offset),
	FIELD(FLUSH, length),
	FIELD(FLUSH, op),

	/* xenstore's message header. */
	TYPE(XSMSG),
	FIELD(XSMSG, type),
	FIELD(XSMSG, req_id),
	FIELD(XSMSG, tx_id),
	FIELD(XSMSG, len),
};

struct const_row {
	const char *name;
	long long xen, ours;
};

/* clang-format off */
/* Both sides widened to long long: every value fits, negative GNTST_* included. */
#define CONST_ROW(x, g) {#g " (" #x ")", (long long)(x), (long long)(g)}
/* clang-format on */

static const struct const_row constants[] = {
	CONST_ROW(GNTTABOP_map_grant_ref, GNTDP_GNTTABOP_MAP_GRANT_REF),
	CONST_ROW(GNTTABOP_unmap_grant_ref, GNTDP_GNTTABOP_UNMAP_GRANT_REF),
	CONST_ROW(GNTTABOP_setup_table, GNTDP_GNTTABOP_SETUP_TABLE),
	CONST_ROW(GNTTABOP_dump_table, GNTDP_GNTTABOP_DUMP_TABLE),
	CONST_ROW(GNTTABOP_transfer, GNTDP_GNTTABOP_TRANSFER),
	CONST_ROW(GNTTABOP_copy, GNTDP_GNTTABOP_COPY),
	CONST_ROW(GNTTABOP_query_size, GNTDP_GNTTABOP_QUERY_SIZE),
	CONST_ROW(GNTTABOP_unmap_and_replace, GNTDP_GNTTABOP_UNMAP_AND_REPLACE),
	CONST_ROW(GNTTABOP_set_version, GNTDP_GNTTABOP_SET_VERSION),
	CONST_ROW(GNTTABOP_get_status_frames, GNTDP_GNTTABOP_GET_STATUS_FRAMES),
	CONST_ROW(GNTTABOP_get_version, GNTDP_GNTTABOP_GET_VERSION),
	CONST_ROW(GNTTABOP_swap_grant_ref, GNTDP_GNTTABOP_SWAP_GRANT_REF),
	CONST_ROW(GNTTABOP_cache_flush, GNTDP_GNTTABOP_CACHE_FLUSH),

	CONST_ROW(GTF_invalid, GNTDP_GTF_INVALID),
	CONST_ROW(GTF_permit_access, GNTDP_GTF_PERMIT_ACCESS),
	CONST_ROW(GTF_accept_transfer, GNTDP_GTF_ACCEPT_TRANSFER),
	CONST_ROW(GTF_transitive, GNTDP_GTF_TRANSITIVE),
	CONST_ROW(GTF_type_mask, GNTDP_GTF_TYPE_MASK),
	CONST_ROW(GTF_readonly, GNTDP_GTF_READONLY),
	CONST_ROW(GTF_reading, GNTDP_GTF_READING),
	CONST_ROW(GTF_writing, GNTDP_GTF_WRITING),
	CONST_ROW(GTF_PWT, GNTDP_GTF_PWT),
	CONST_ROW(GTF_PCD, GNTDP_GTF_PCD),
	CONST_ROW(GTF_PAT, GNTDP_GTF_PAT),
	CONST_ROW(GTF_sub_page, GNTDP_GTF_SUB_PAGE),
	CONST_ROW(GTF_transfer_committed, GNTDP_GTF_TRANSFER_COMMITTED),
	CONST_ROW(GTF_transfer_completed, GNTDP_GTF_TRANSFER_COMPLETED),

	CONST_ROW(GNTTAB_NR_RESERVED_ENTRIES, GNTDP_GNTTAB_NR_RESERVED_ENTRIES),
	CONST_ROW(GNTTAB_RESERVED_CONSOLE, GNTDP_GNTTAB_RESERVED_CONSOLE),
	CONST_ROW(GNTTAB_RESERVED_XENSTORE, GNTDP_GNTTAB_RESERVED_XENSTORE),

	CONST_ROW(GNTMAP_device_map, GNTDP_GNTMAP_DEVICE_MAP),
	CONST_ROW(GNTMAP_host_map, GNTDP_GNTMAP_HOST_MAP),
	CONST_ROW(GNTMAP_readonly, GNTDP_GNTMAP_READONLY),
	CONST_ROW(GNTMAP_application_map, GNTDP_GNTMAP_APPLICATION_MAP),
	CONST_ROW(GNTMAP_contains_pte, GNTDP_GNTMAP_CONTAINS_PTE),
	CONST_ROW(GNTMAP_guest_avail_mask, GNTDP_GNTMAP_GUEST_AVAIL_MASK),

	CONST_ROW(GNTCOPY_source_gref, GNTDP_GNTCOPY_SOURCE_GREF),
	CONST_ROW(GNTCOPY_dest_gref, GNTDP_GNTCOPY_DEST_GREF),

	CONST_ROW(GNTTAB_CACHE_CLEAN, GNTDP_GNTTAB_CACHE_CLEAN),
	CONST_ROW(GNTTAB_CACHE_INVAL, GNTDP_GNTTAB_CACHE_INVAL),
	CONST_ROW(GNTTAB_CACHE_SOURCE_GREF, GNTDP_GNTTAB_CACHE_SOURCE_GREF),

	CONST_ROW(GNTST_okay, GNTDP_GNTST_OKAY),
	CONST_ROW(GNTST_general_error, GNTDP_GNTST_GENERAL_ERROR),
	CONST_ROW(GNTST_bad_domain, GNTDP_GNTST_BAD_DOMAIN),
	CONST_ROW(GNTST_bad_gntref, GNTDP_GNTST_BAD_GNTREF),
	CONST_ROW(GNTST_bad_handle, GNTDP_GNTST_BAD_HANDLE),
	CONST_ROW(GNTST_bad_virt_addr, GNTDP_GNTST_BAD_VIRT_ADDR),
	CONST_ROW(GNTST_bad_dev_addr, GNTDP_GNTST_BAD_DEV_ADDR),
	CONST_ROW(GNTST_no_device_space, GNTDP_GNTST_NO_DEVICE_SPACE),
	CONST_ROW(GNTST_permission_denied, GNTDP_GNTST_PERMISSION_DENIED),
	CONST_ROW(GNTST_bad_page, GNTDP_GNTST_BAD_PAGE),
	CONST_ROW(GNTST_bad_copy_arg, GNTDP_GNTST_BAD_COPY_ARG),
	CONST_ROW(GNTST_address_too_big, GNTDP_GNTST_ADDRESS_TOO_BIG),
	CONST_ROW(GNTST_eagain, GNTDP_GNTST_EAGAIN),
	CONST_ROW(GNTST_no_space, GNTDP_GNTST_NO_SPACE),

	CONST_ROW(DOMID_FIRST_RESERVED, GNTDP_DOMID_FIRST_RESERVED),
	CONST_ROW(DOMID_SELF, GNTDP_DOMID_SELF),
	CONST_ROW(DOMID_IO, GNTDP_DOMID_IO),
	CONST_ROW(DOMID_XEN, GNTDP_DOMID_XEN),
	CONST_ROW(DOMID_COW, GNTDP_DOMID_COW),
	CONST_ROW(DOMID_INVALID, GNTDP_DOMID_INVALID),
	CONST_ROW(DOMID_IDLE, GNTDP_DOMID_IDLE),

	/* Xen states these as "4 KiB frame / entry size"; gntdp gives them names. */
	CONST_ROW(4096, GNTDP_PAGE_SIZE),
	CONST_ROW(4096 / sizeof(grant_entry_v1_t), GNTDP_GRANT_ENTRIES_PER_FRAME_V1),
	CONST_ROW(4096 / sizeof(grant_entry_v2_t), GNTDP_GRANT_ENTRIES_PER_FRAME_V2),

	/* xenstore (io/xs_wire.h). */
	CONST_ROW(XS_CONTROL, GNTDP_XS_CONTROL),
	CONST_ROW(XS_DIRECTORY, GNTDP_XS_DIRECTORY),
	CONST_ROW(XS_READ, GNTDP_XS_READ),
	CONST_ROW(XS_GET_PERMS, GNTDP_XS_GET_PERMS),
	CONST_ROW(XS_WATCH, GNTDP_XS_WATCH),
	CONST_ROW(XS_UNWATCH, GNTDP_XS_UNWATCH),
	CONST_ROW(XS_TRANSACTION_START, GNTDP_XS_TRANSACTION_START),
	CONST_ROW(XS_TRANSACTION_END, GNTDP_XS_TRANSACTION_END),
	CONST_ROW(XS_INTRODUCE, GNTDP_XS_INTRODUCE),
	CONST_ROW(XS_RELEASE, GNTDP_XS_RELEASE),
	CONST_ROW(XS_GET_DOMAIN_PATH, GNTDP_XS_GET_DOMAIN_PATH),
	CONST_ROW(XS_WRITE, GNTDP_XS_WRITE),
	CONST_ROW(XS_MKDIR, GNTDP_XS_MKDIR),
	CONST_ROW(XS_RM, GNTDP_XS_RM),
	CONST_ROW(XS_SET_PERMS, GNTDP_XS_SET_PERMS),
	CONST_ROW(XS_WATCH_EVENT, GNTDP_XS_WATCH_EVENT),
	CONST_ROW(XS_ERROR, GNTDP_XS_ERROR),
	CONST_ROW(XS_IS_DOMAIN_INTRODUCED, GNTDP_XS_IS_DOMAIN_INTRODUCED),
	CONST_ROW(XS_RESUME, GNTDP_XS_RESUME),
	CONST_ROW(XS_SET_TARGET, GNTDP_XS_SET_TARGET),
	CONST_ROW(XS_RESET_WATCHES, GNTDP_XS_RESET_WATCHES),
	CONST_ROW(XS_DIRECTORY_PART, GNTDP_XS_DIRECTORY_PART),
	CONST_ROW(XS_INVALID, GNTDP_XS_INVALID),
	/* 4.17's header ends at DIRECTORY_PART; GET/SET_FEATURE and GET/SET_QUOTA
	 * (23-26) are Xen 4.18's, from docs/misc/xenstore.txt. */
	CONST_ROW(XS_TYPE_COUNT, GNTDP_XS_DIRECTORY_PART + 1),
	CONST_ROW(XENSTORE_PAYLOAD_MAX, GNTDP_XS_PAYLOAD_MAX),
	CONST_ROW(XENSTORE_ABS_PATH_MAX, GNTDP_XS_ABS_PATH_MAX),
	CONST_ROW(XENSTORE_REL_PATH_MAX, GNTDP_XS_REL_PATH_MAX),
	CONST_ROW(XS_WATCH_PATH, GNTDP_XS_WATCH_PATH),
	CONST_ROW(XS_WATCH_TOKEN, GNTDP_XS_WATCH_TOKEN),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const xen_msgs[] = GNTTABOP_error_msgs;
static const char *const our_msgs[] = GNTDP_GNTTABOP_ERROR_MSGS;

/* Xen's status values with their names, for gntdp_gntst_name(). */
/* clang-format off */
#define GNTST_NAME(n) {GNTST_##n, "GNTST_" #n}
/* clang-format on */
static const struct {
	int value;
	const char *name;
} xen_gntst[] = {
	GNTST_NAME(okay),         GNTST_NAME(general_error),   GNTST_NAME(bad_domain),
	GNTST_NAME(bad_gntref),   GNTST_NAME(bad_handle),      GNTST_NAME(bad_virt_addr),
	GNTST_NAME(bad_dev_addr), GNTST_NAME(no_device_space), GNTST_NAME(permission_denied),
	GNTST_NAME(bad_page),     GNTST_NAME(bad_copy_arg),    GNTST_NAME(address_too_big),
	GNTST_NAME(eagain),       GNTST_NAME(no_space),
};

static unsigned int nb_checks;
static unsigned int nb_bad;

static void
check_size(const char *name, const char *what, size_t xen, size_t ours)
{
	nb_checks++;
	if (xen == ours)
		return;
	nb_bad++;
	printf("MISMATCH %s: %s xen=%zu gntdp=%zu\n", name, what, xen, ours);
}

static void
check_layout(void)
{
	for (size_t i = 0; i < NELEM(layout); i++) {
		const struct layout_row *r = &layout[i];

		check_size(r->name, "offset", r->xen_off, r->our_off);
		check_size(r->name, "size", r->xen_size, r->our_size);
		check_size(r->name, "alignment", r->xen_align, r->our_align);
		nb_checks++;
		if (r->xen_signed != r->our_signed) {
			nb_bad++;
			printf("MISMATCH %s: signedness xen=%d gntdp=%d (1 signed, 0 unsigned, "
			       "-1 not an integer)\n",
			       r->name, r->xen_signed, r->our_signed);
		}
	}
}

static void
check_constants(void)
{
	for (size_t i = 0; i < NELEM(constants); i++) {
		const struct const_row *r = &constants[i];

		nb_checks++;
		if (r->xen != r->ours) {
			nb_bad++;
			printf("MISMATCH %s: value xen=%lld (%#llx) gntdp=%lld (%#llx)\n", r->name,
			       r->xen, (unsigned long long)r->xen, r->ours,
			       (unsigned long long)r->ours);
		}
	}
}

static void
check_string(const char *name, long index, const char *xen, const char *ours)
{
	nb_checks++;
	if (ours != NULL && strcmp(xen, ours) == 0)
		return;
	nb_bad++;
	printf("MISMATCH %s[%ld]: xen=\"%s\" gntdp=\"%s\"\n", name, index, xen,
	       ours != NULL ? ours : "(null)");
}

static void
check_messages(void)
{
	check_size("GNTDP_GNTTABOP_ERROR_MSGS", "count", NELEM(xen_msgs), NELEM(our_msgs));
	check_size("GNTDP_GNTST_COUNT", "value", NELEM(xen_msgs), GNTDP_GNTST_COUNT);
	for (size_t i = 0; i < NELEM(xen_msgs) && i < NELEM(our_msgs); i++)
		check_string("GNTDP_GNTTABOP_ERROR_MSGS", (long)i, xen_msgs[i], our_msgs[i]);
}

/* The core's lookups: Xen's message and name for every status, a fallback outside. */
static void
check_lookups(void)
{
	static const int16_t outside[] = {1, 2, -14, -15, INT16_MIN, INT16_MAX};

	for (size_t i = 0; i < NELEM(xen_gntst); i++) {
		int16_t st = (int16_t)xen_gntst[i].value;

		check_string("gntdp_gntst_str", st, xen_msgs[-xen_gntst[i].value],
			     gntdp_gntst_str(st));
		check_string("gntdp_gntst_name", st, xen_gntst[i].name, gntdp_gntst_name(st));
	}
	for (size_t i = 0; i < NELEM(outside); i++) {
		check_string("gntdp_gntst_str", outside[i], "unknown status",
			     gntdp_gntst_str(outside[i]));
		check_string("gntdp_gntst_name", outside[i], "GNTST_?",
			     gntdp_gntst_name(outside[i]));
	}
}

int
main(void)
{
	check_layout();
	check_constants();
	check_messages();
	check_lookups();
	printf("abi: %u checks against <xen/grant_table.h> (interface %#x), %u mismatches\n",
	       nb_checks, (unsigned int)__XEN_INTERFACE_VERSION__, nb_bad);
	return nb_bad == 0 ? 0 : 1;
}

#else /* !HAVE_XEN_GRANT_TABLE_H */

int
main(void)
{
	printf("SKIP: <xen/grant_table.h> not found at configure time; install libxen-dev "
	       "(Xen's public headers) to compare gntdp's ABI against Xen's\n");
	return 77;
}

#endif
