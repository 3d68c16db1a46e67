/* SPDX-License-Identifier: MIT */
/*
 * The layout of the public types, computed by whichever language includes
 * this file: test_headers.c computes it as C, layout_cxx.cpp as C++, and the
 * test compares the two. The headers promise an extern "C" API usable from
 * C++, so a struct holding bool, an enum or a union must have the same size,
 * alignment and field offsets in both languages.
 */
#ifndef TESTS_HEADERS_LAYOUT_H
#define TESTS_HEADERS_LAYOUT_H

#include <stddef.h>

#include <gntdp/gnttab.h>
#include <gntdp/xen_grant_table.h>

#ifdef __cplusplus
extern "C" {
#define LAYOUT_ALIGNOF(t) alignof(t)
#else
#define LAYOUT_ALIGNOF(t) _Alignof(t)
#endif

struct layout_row {
	const char *name;
	size_t size;
	size_t align;  /* types only */
	size_t offset; /* fields only */
};

#define LAYOUT_TYPE(t) {#t, sizeof(t), LAYOUT_ALIGNOF(t), 0},
#define LAYOUT_FIELD(t, f) {#t "." #f, sizeof(((t *)0)->f), 0, offsetof(t, f)},

/*
 * Every public type; fields only where C and C++ could plausibly disagree
 * (unions, nested anonymous structs, bool). The ABI test pins the rest
 * against Xen.
 */
#define LAYOUT_ROWS(T, F)                                                                          \
	T(gntdp_domid_t)                                                                           \
	T(gntdp_grant_ref_t)                                                                       \
	T(gntdp_grant_handle_t)                                                                    \
	T(gntdp_xen_pfn_t)                                                                         \
	T(gntdp_grant_status_t)                                                                    \
	T(struct gntdp_grant_entry_v1)                                                             \
	T(struct gntdp_grant_entry_header)                                                         \
	T(union gntdp_grant_entry_v2)                                                              \
	F(union gntdp_grant_entry_v2, full_page.frame)                                             \
	F(union gntdp_grant_entry_v2, sub_page.length)                                             \
	F(union gntdp_grant_entry_v2, transitive.gref)                                             \
	T(struct gntdp_gnttab_map_grant_ref)                                                       \
	T(struct gntdp_gnttab_unmap_grant_ref)                                                     \
	T(struct gntdp_gnttab_setup_table)                                                         \
	T(struct gntdp_gnttab_dump_table)                                                          \
	T(struct gntdp_gnttab_transfer)                                                            \
	T(struct gntdp_gnttab_copy_ptr)                                                            \
	T(struct gntdp_gnttab_copy)                                                                \
	F(struct gntdp_gnttab_copy, source.u.gmfn)                                                 \
	F(struct gntdp_gnttab_copy, dest.offset)                                                   \
	F(struct gntdp_gnttab_copy, status)                                                        \
	T(struct gntdp_gnttab_query_size)                                                          \
	T(struct gntdp_gnttab_unmap_and_replace)                                                   \
	T(struct gntdp_gnttab_set_version)                                                         \
	T(struct gntdp_gnttab_get_status_frames)                                                   \
	T(struct gntdp_gnttab_get_version)                                                         \
	T(struct gntdp_gnttab_swap_grant_ref)                                                      \
	T(struct gntdp_gnttab_cache_flush)                                                         \
	F(struct gntdp_gnttab_cache_flush, op)                                                     \
	T(struct gntdp_mem_ops)                                                                    \
	T(enum gntdp_log_level)                                                                    \
	T(struct gntdp_gnttab_conf)                                                                \
	T(struct gntdp_domain_conf)                                                                \
	T(struct gntdp_domain_info)                                                                \
	T(struct gntdp_gnttab_ctx_stats)                                                           \
	T(struct gntdp_gnttab_cache_conf)                                                          \
	T(gntdp_copy_fn)

/** The rows as C++ computes them (layout_cxx.cpp); returns the row count. */
size_t layout_cxx(const struct layout_row **rows);

#ifdef __cplusplus
}
#endif

#endif /* TESTS_HEADERS_LAYOUT_H */
