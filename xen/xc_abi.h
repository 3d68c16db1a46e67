/* SPDX-License-Identifier: MIT */
/*
 * The libxenctrl 4.17 ABI the shim's real functions use, written from the
 * public declarations (xenctrl.h's xc_dominfo_t on x86-64, the public
 * arch-x86 xen_arch_domainconfig). Not installed. tests/xen/test_xenctrl_abi.c
 * checks every field's offset and size, and each flag bit, against
 * Debian's <xenctrl.h>.
 */
#ifndef GNTDP_XC_ABI_H
#define GNTDP_XC_ABI_H

#include <stdint.h>

/* x86: which devices Xen emulates for the domain, and MSR policy flags. */
struct gntdp_xc_arch_config {
	uint32_t emulation_flags;
	uint32_t misc_flags;
};

/* xc_dominfo_t: one domain of xc_domain_getinfo(). */
struct gntdp_xc_dominfo {
	uint32_t domid;
	uint32_t ssidref;
	unsigned int dying : 1, crashed : 1, shutdown : 1, paused : 1, blocked : 1, running : 1,
		hvm : 1, debugged : 1, xenstore : 1, hap : 1;
	unsigned int shutdown_reason;
	unsigned long nr_pages;
	unsigned long nr_outstanding_pages;
	unsigned long nr_shared_pages;
	unsigned long nr_paged_pages;
	unsigned long shared_info_frame;
	uint64_t cpu_time;
	unsigned long max_memkb;
	unsigned int nr_online_vcpus;
	unsigned int max_vcpu_id;
	uint8_t handle[16];
	unsigned int cpupool;
	uint8_t gpaddr_bits;
	struct gntdp_xc_arch_config arch_config;
};

/* XEN_DOMINF_* bits of xc_domaininfo_t.flags (public domctl.h). */
#define GNTDP_XC_DOMINF_DYING (1u << 0)
#define GNTDP_XC_DOMINF_PAUSED (1u << 3)
#define GNTDP_XC_DOMINF_RUNNING (1u << 5)

/*
 * xc_domaininfo_t: xen_domctl_getdomaininfo_t of domctl interface 0x15
 * (Xen 4.17), one domain of xc_domain_getinfolist().
 */
struct gntdp_xc_domaininfo {
	uint16_t domain;
	uint16_t pad1;
	uint32_t flags;
	uint64_t tot_pages __attribute__((aligned(8)));
	uint64_t max_pages __attribute__((aligned(8)));
	uint64_t outstanding_pages __attribute__((aligned(8)));
	uint64_t shr_pages __attribute__((aligned(8)));
	uint64_t paged_pages __attribute__((aligned(8)));
	uint64_t shared_info_frame __attribute__((aligned(8)));
	uint64_t cpu_time __attribute__((aligned(8)));
	uint32_t nr_online_vcpus;
	uint32_t max_vcpu_id;
	uint32_t ssidref;
	uint8_t handle[16];
	uint32_t cpupool;
	uint8_t gpaddr_bits;
	uint8_t pad2[7];
	struct gntdp_xc_arch_config arch_config;
};

#if defined(__x86_64__)
_Static_assert(sizeof(struct gntdp_xc_dominfo) == 112, "xc_dominfo_t is 112 bytes on x86-64");
_Static_assert(sizeof(struct gntdp_xc_domaininfo) == 112, "xc_domaininfo_t is 112 bytes");
#endif

#endif /* GNTDP_XC_ABI_H */
