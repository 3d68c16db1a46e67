/* SPDX-License-Identifier: MIT */
/*
 * The libxenctrl shim's xc_dominfo_t (xen/xc_abi.h) against Debian's
 * <xenctrl.h>: the size and alignment, every field's offset and size, and
 * each of the ten flag bits (set in ours, read back through Debian's type:
 * that one and no other is set). A program built with Debian's header
 * hands the shim its xc_dominfo_t array, so both must agree byte for byte.
 *
 * Exit: 0 equal, 1 a mismatch (each reported by name), 77 without
 * libxen-dev's <xenctrl.h>.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifdef HAVE_XENCTRL_H
#include <xenctrl.h>

#include "../../xen/xc_abi.h"

static int fails;

#define SAME(what, a, b)                                                                   \
	do {                                                                               \
		if ((size_t)(a) != (size_t)(b)) {                                          \
			printf("FAIL %s: Debian %zu, gntdp %zu\n", what, (size_t)(a),         \
			       (size_t)(b));                                               \
			fails++;                                                           \
		}                                                                          \
	} while (0)

#define FIELD(f)                                                                           \
	do {                                                                               \
		SAME("offsetof(" #f ")", offsetof(xc_dominfo_t, f),                       \
		     offsetof(struct gntdp_xc_dominfo, f));                               \
		SAME("sizeof(" #f ")", sizeof(((xc_dominfo_t *)0)->f),                    \
		     sizeof(((struct gntdp_xc_dominfo *)0)->f));                          \
	} while (0)

/* Set bit f in ours: Debian's view has f set and no other flag. */
#define FLAG(f)                                                                            \
	do {                                                                               \
		struct gntdp_xc_dominfo o;                                                 \
		xc_dominfo_t x;                                                            \
		memset(&o, 0, sizeof(o));                                                  \
		o.f = 1;                                                                   \
		memcpy(&x, &o, sizeof(x));                                                 \
		unsigned int n = x.dying + x.crashed + x.shutdown + x.paused + x.blocked + \
				 x.running + x.hvm + x.debugged + x.xenstore + x.hap;      \
		if (x.f != 1 || n != 1 || x.shutdown_reason != 0 || x.ssidref != 0) {     \
			printf("FAIL flag " #f ": not the same bit\n");                     \
			fails++;                                                           \
		}                                                                          \
	} while (0)

int
main(void)
{
	SAME("sizeof(xc_dominfo_t)", sizeof(xc_dominfo_t), sizeof(struct gntdp_xc_dominfo));
	SAME("_Alignof(xc_dominfo_t)", _Alignof(xc_dominfo_t),
	     _Alignof(struct gntdp_xc_dominfo));
	FIELD(domid);
	FIELD(ssidref);
	FIELD(shutdown_reason);
	FIELD(nr_pages);
	FIELD(nr_outstanding_pages);
	FIELD(nr_shared_pages);
	FIELD(nr_paged_pages);
	FIELD(shared_info_frame);
	FIELD(cpu_time);
	FIELD(max_memkb);
	FIELD(nr_online_vcpus);
	FIELD(max_vcpu_id);
	FIELD(handle);
	FIELD(cpupool);
	FIELD(gpaddr_bits);
	FIELD(arch_config);
	FIELD(arch_config.emulation_flags);
	FIELD(arch_config.misc_flags);
	if (sizeof(xc_dominfo_t) == sizeof(struct gntdp_xc_dominfo)) {
		FLAG(dying);
		FLAG(crashed);
		FLAG(shutdown);
		FLAG(paused);
		FLAG(blocked);
		FLAG(running);
		FLAG(hvm);
		FLAG(debugged);
		FLAG(xenstore);
		FLAG(hap);
	}
	printf("%s: xc_dominfo_t (%zu bytes, 18 fields, 10 flags)\n", fails ? "FAIL" : "ok",
	       sizeof(xc_dominfo_t));
	return fails ? 1 : 0;
}
#else
int
main(void)
{
	printf("SKIP: <xenctrl.h> not installed (apt-get install libxen-dev)\n");
	return 77;
}
#endif
