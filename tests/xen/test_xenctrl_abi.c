/* SPDX-License-Identifier: MIT */
/*
 * The libxenctrl shim's xc_dominfo_t and xc_domaininfo_t (xen/xc_abi.h)
 * against Debian's <xenctrl.h>: the size and alignment, every field's
 * offset and size, each of xc_dominfo_t's ten flag bits (set in ours, read
 * back through Debian's type: that one and no other is set) and the
 * XEN_DOMINF_* bits the shim sets. A program built with Debian's header
 * hands the shim its arrays, so both must agree byte for byte.
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

#define FIELD_OF(X, O, f)                                                                  \
	do {                                                                               \
		SAME("offsetof(" #X "." #f ")", offsetof(X, f), offsetof(O, f));           \
		SAME("sizeof(" #X "." #f ")", sizeof(((X *)0)->f), sizeof(((O *)0)->f));   \
	} while (0)
#define FIELD(f) FIELD_OF(xc_dominfo_t, struct gntdp_xc_dominfo, f)
#define LFIELD(f) FIELD_OF(xc_domaininfo_t, struct gntdp_xc_domaininfo, f)

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
	SAME("sizeof(xc_domaininfo_t)", sizeof(xc_domaininfo_t),
	     sizeof(struct gntdp_xc_domaininfo));
	SAME("_Alignof(xc_domaininfo_t)", _Alignof(xc_domaininfo_t),
	     _Alignof(struct gntdp_xc_domaininfo));
	LFIELD(domain);
	LFIELD(flags);
	LFIELD(tot_pages);
	LFIELD(max_pages);
	LFIELD(outstanding_pages);
	LFIELD(shr_pages);
	LFIELD(paged_pages);
	LFIELD(shared_info_frame);
	LFIELD(cpu_time);
	LFIELD(nr_online_vcpus);
	LFIELD(max_vcpu_id);
	LFIELD(ssidref);
	LFIELD(handle);
	LFIELD(cpupool);
	LFIELD(gpaddr_bits);
	LFIELD(arch_config);
	SAME("XEN_DOMINF_dying", XEN_DOMINF_dying, GNTDP_XC_DOMINF_DYING);
	SAME("XEN_DOMINF_paused", XEN_DOMINF_paused, GNTDP_XC_DOMINF_PAUSED);
	SAME("XEN_DOMINF_running", XEN_DOMINF_running, GNTDP_XC_DOMINF_RUNNING);
	printf("%s: xc_dominfo_t (%zu bytes, 18 fields, 10 flags), xc_domaininfo_t (%zu bytes, "
	       "16 fields, 3 flags)\n", fails ? "FAIL" : "ok", sizeof(xc_dominfo_t),
	       sizeof(xc_domaininfo_t));
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
