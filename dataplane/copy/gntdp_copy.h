/* SPDX-License-Identifier: MIT */
/*
 * Vectorized copy kernels for GNTTABOP_copy payloads, and the choice of one
 * at init (STYLE.md §3.5 item 7).
 *
 * Every kernel has memmove semantics with a gntdp_copy_fn signature: it copies
 * exactly n bytes (any n, any alignment of either pointer) and touches no
 * byte outside [src, src + n) or [dst, dst + n), so a copy that ends at the
 * end of a grant frame never faults on the next page. Overlapping ranges (a
 * guest may copy within one of its own frames) give memmove's result, as
 * spec/xen-grant-semantics.md §8.1 recommends (Xen itself uses a forward
 * memcpy there) and as the core's default copy (memmove) does, so installing
 * a kernel never changes what a guest sees.
 *
 * The scalar kernel is the reference the tests compare the others against.
 * Each vector kernel lives in its own translation unit compiled with its own
 * -m flags; only copy_select() decides whether the CPU may run it.
 *
 * This header has no DPDK types: everything but copy_select_eal() is plain C
 * and is tested without EAL.
 */
#ifndef GNTDP_DP_COPY_H
#define GNTDP_DP_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include <gntdp/gnttab.h>

/* Ordered by vector width: a larger value is a wider kernel. */
enum copy_isa { COPY_ISA_SCALAR, COPY_ISA_SSE, COPY_ISA_AVX2, COPY_ISA_AVX512, COPY_ISA_COUNT };

/* The kernel for @p isa, or NULL when it was not compiled in (or isa is out of range). */
gntdp_copy_fn copy_kernel(enum copy_isa isa);

/* Whether this CPU (and the OS, for the AVX register state) can run @p isa's kernel. */
bool copy_isa_cpu_supported(enum copy_isa isa);

/* Vector width in bits that @p isa uses: 64, 128, 256, 512 (0 when out of range). */
unsigned int copy_isa_bitwidth(enum copy_isa isa);

/*
 * The widest kernel that is compiled in, that the CPU supports and whose
 * width is at most @p max_simd_bitwidth (DPDK's rte_vect_get_max_simd_bitwidth()
 * value: 64 = no SIMD, 128, 256, 512). Never fails: the scalar kernel is the floor.
 */
enum copy_isa copy_select(unsigned int max_simd_bitwidth);

/*
 * copy_select(rte_vect_get_max_simd_bitwidth()), logging the choice once
 * (logtype "gntdp.copy"). Call after rte_eal_init(). In copy_eal.c.
 */
enum copy_isa copy_select_eal(void);

/* "scalar", "sse", "avx2", "avx512", or "?" when out of range. */
const char *copy_isa_name(enum copy_isa isa);

#endif /* GNTDP_DP_COPY_H */
