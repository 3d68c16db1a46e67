/* SPDX-License-Identifier: MIT */
/*
 * Kernel table and selection. This file is compiled without any -m flag, so
 * it only names the kernels and never runs vector code itself: the CPU check
 * below must pass before a caller may run a kernel wider than SSE2.
 *
 * meson defines COPY_HAVE_SSE / COPY_HAVE_AVX2 / COPY_HAVE_AVX512 for the
 * kernels it could compile (the compiler may lack the flags, or the target
 * may not be x86).
 */
#include "copy_kernels.h"
#include "gntdp_copy.h"

static const struct {
	const char *name;
	unsigned int bitwidth;
	gntdp_copy_fn fn;
} kernels[COPY_ISA_COUNT] = {
	[COPY_ISA_SCALAR] = {"scalar", 64, copy_scalar},
#ifdef COPY_HAVE_SSE
	[COPY_ISA_SSE] = {"sse", 128, copy_sse},
#else
	[COPY_ISA_SSE] = {"sse", 128, NULL},
#endif
#ifdef COPY_HAVE_AVX2
	[COPY_ISA_AVX2] = {"avx2", 256, copy_avx2},
#else
	[COPY_ISA_AVX2] = {"avx2", 256, NULL},
#endif
#ifdef COPY_HAVE_AVX512
	[COPY_ISA_AVX512] = {"avx512", 512, copy_avx512},
#else
	[COPY_ISA_AVX512] = {"avx512", 512, NULL},
#endif
};

static bool
isa_valid(enum copy_isa isa)
{
	return (unsigned int)isa < COPY_ISA_COUNT;
}

gntdp_copy_fn
copy_kernel(enum copy_isa isa)
{
	return isa_valid(isa) ? kernels[isa].fn : NULL;
}

const char *
copy_isa_name(enum copy_isa isa)
{
	return isa_valid(isa) ? kernels[isa].name : "?";
}

unsigned int
copy_isa_bitwidth(enum copy_isa isa)
{
	return isa_valid(isa) ? kernels[isa].bitwidth : 0;
}

bool
copy_isa_cpu_supported(enum copy_isa isa)
{
	if (isa == COPY_ISA_SCALAR)
		return true;
#if defined(__x86_64__) || defined(__i386__)
	/*
	 * libgcc/compiler-rt also check XCR0 here: avx2 and avx512* read as
	 * absent when the OS does not save the ymm/zmm state.
	 */
	__builtin_cpu_init();
	switch (isa) {
	case COPY_ISA_SSE:
		return __builtin_cpu_supports("sse2");
	case COPY_ISA_AVX2:
		return __builtin_cpu_supports("avx2");
	case COPY_ISA_AVX512:
		/* Exactly the flags copy_avx512.c is compiled with. */
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2");
	default:
		return false;
	}
#else
	return false;
#endif
}

enum copy_isa
copy_select(unsigned int max_simd_bitwidth)
{
	/* Widest first; the scalar kernel needs nothing and ends the walk. */
	for (int i = COPY_ISA_COUNT - 1; i > COPY_ISA_SCALAR; i--) {
		enum copy_isa isa = (enum copy_isa)i;

		if (kernels[isa].fn != NULL && kernels[isa].bitwidth <= max_simd_bitwidth &&
		    copy_isa_cpu_supported(isa))
			return isa;
	}
	return COPY_ISA_SCALAR;
}
