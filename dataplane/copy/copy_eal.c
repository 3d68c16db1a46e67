/* SPDX-License-Identifier: MIT */
/*
 * The EAL side of kernel selection: EAL's SIMD limit (default 256 on x86,
 * changed with --force-max-simd-bitwidth) caps the kernel, and the choice is
 * logged once, at init, never per copy.
 *
 * Note: with DPDK's x86 default of 256 the AVX-512 kernel is only chosen when
 * the user passes --force-max-simd-bitwidth=512 (or the app raises the limit
 * with rte_vect_set_max_simd_bitwidth() before calling this), as for DPDK's
 * own AVX-512 driver paths.
 */
#include <stdatomic.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_vect.h>

#include "gntdp_copy.h"

RTE_LOG_REGISTER(copy_logtype, gntdp.copy, INFO);
#define RTE_LOGTYPE_GNTDP_COPY copy_logtype

enum copy_isa
copy_select_eal(void)
{
	static atomic_flag logged = ATOMIC_FLAG_INIT;
	uint16_t bw = rte_vect_get_max_simd_bitwidth();
	enum copy_isa isa = copy_select(bw);

	/* Every lcore may call this at init; only the first one logs. */
	if (!atomic_flag_test_and_set_explicit(&logged, memory_order_relaxed))
		RTE_LOG(INFO, GNTDP_COPY,
			"%s copy kernel (max SIMD bitwidth %u, best on this CPU %s)\n",
			copy_isa_name(isa), (unsigned int)bw,
			copy_isa_name(copy_select(UINT32_MAX)));
	return isa;
}
