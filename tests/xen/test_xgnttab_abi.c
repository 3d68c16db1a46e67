/* SPDX-License-Identifier: MIT */
/*
 * ABI of the drop-in libxengnttab (xen/gnttab/xg.h) against Debian's
 * <xengnttab.h>: xengnttab_grant_copy_segment_t, which programs fill and the
 * library reads, must have the same size, alignment and field offsets and
 * sizes (both union members of each side included), and the GNTCOPY flags
 * and the GNTST codes the library writes the same values. The compiler
 * computes both sides; nothing is typed in twice.
 * Exit: 0 all equal, 1 a mismatch, 77 libxen-dev's headers are not installed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xg.h"

#ifdef HAVE_XENGNTTAB_H
#include <xengnttab.h>

#define ROW(field)                                                                                 \
	{#field, offsetof(xengnttab_grant_copy_segment_t, field),                                 \
	 offsetof(struct xg_copy_seg, field), sizeof(((xengnttab_grant_copy_segment_t *)0)->field), \
	 sizeof(((struct xg_copy_seg *)0)->field)}

int
main(void)
{
	const struct {
		const char *name;
		size_t xen_off, our_off, xen_size, our_size;
	} rows[] = {
		{"sizeof", 0, 0, sizeof(xengnttab_grant_copy_segment_t), sizeof(struct xg_copy_seg)},
		{"alignof", 0, 0, _Alignof(xengnttab_grant_copy_segment_t),
		 _Alignof(struct xg_copy_seg)},
		ROW(source), ROW(source.virt), ROW(source.foreign.ref), ROW(source.foreign.offset),
		ROW(source.foreign.domid), ROW(dest), ROW(dest.virt), ROW(dest.foreign.ref),
		ROW(dest.foreign.offset), ROW(dest.foreign.domid), ROW(len), ROW(flags), ROW(status),
		{"GNTCOPY_source_gref", GNTCOPY_source_gref, GNTDP_GNTCOPY_SOURCE_GREF, 0, 0},
		{"GNTCOPY_dest_gref", GNTCOPY_dest_gref, GNTDP_GNTCOPY_DEST_GREF, 0, 0},
		{"GNTST_okay", (size_t)(GNTST_okay + 100), (size_t)(GNTDP_GNTST_OKAY + 100), 0, 0},
		{"GNTST_bad_gntref", (size_t)(GNTST_bad_gntref + 100),
		 (size_t)(GNTDP_GNTST_BAD_GNTREF + 100), 0, 0},
		{"GNTMAP_readonly", GNTMAP_readonly, GNTDP_GNTMAP_READONLY, 0, 0},
		{"GNTMAP_host_map", GNTMAP_host_map, GNTDP_GNTMAP_HOST_MAP, 0, 0},
		{"signed status", (size_t)((xengnttab_grant_copy_segment_t){.status = -1}.status < 0),
		 (size_t)((struct xg_copy_seg){.status = -1}.status < 0), 0, 0},
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].xen_off != rows[i].our_off || rows[i].xen_size != rows[i].our_size) {
			printf("FAIL %s: Debian %zu/%zu, ours %zu/%zu\n", rows[i].name,
			       rows[i].xen_off, rows[i].xen_size, rows[i].our_off, rows[i].our_size);
			bad = 1;
		}
	}
	printf("%s: %zu rows\n", bad ? "FAIL" : "ok", sizeof(rows) / sizeof(rows[0]));
	return bad;
}
#else
int
main(void)
{
	printf("SKIP: <xengnttab.h> not installed (apt-get install libxen-dev)\n");
	return 77;
}
#endif
