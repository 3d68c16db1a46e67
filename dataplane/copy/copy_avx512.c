/* SPDX-License-Identifier: MIT */
/*
 * AVX-512 copy kernel: 64-byte unaligned loads and stores, and byte-masked
 * moves (AVX512BW) for copies of at most 64 bytes, so a 64-byte packet is
 * one load and one store and shorter ones need no branch ladder. Masked-off
 * bytes are neither read nor written and cannot fault, so a short copy that
 * ends at the end of a frame never touches the next page.
 *
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mbmi2 in its own static
 * library; copy_select() only picks it when the CPU and OS support all four
 * and EAL allows 512-bit vectors. Above 64 bytes the shape is copy_impl.h's.
 */
#include <immintrin.h>

#include "copy_kernels.h"

#define V 64
#define COPY_FN copy_avx512
typedef __m512i vec_t;

static inline vec_t
vec_ld(const uint8_t *p)
{
	return _mm512_loadu_si512((const void *)p);
}

static inline void
vec_st(uint8_t *p, vec_t v)
{
	_mm512_storeu_si512((void *)p, v);
}

/* 0..64 bytes: one masked load and store; bzhi keeps the low n bits (64: all, 0: none). */
static inline bool
copy_head(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n <= V) {
		__mmask64 m = _bzhi_u64(~0ULL, (unsigned int)n);

		_mm512_mask_storeu_epi8(d, m, _mm512_maskz_loadu_epi8(m, s));
		return true;
	}
	return false;
}

#include "copy_impl.h"
