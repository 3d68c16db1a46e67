/* SPDX-License-Identifier: MIT */
/*
 * AVX2 copy kernel: 32-byte unaligned loads and stores. Compiled with -mavx2
 * in its own static library; copy_select() only picks it when the CPU has
 * AVX2 and EAL allows 256-bit vectors. The shape is copy_impl.h's.
 */
#include <immintrin.h>

#include "copy_kernels.h"

#define V 32
#define COPY_FN copy_avx2
typedef __m256i vec_t;

static inline vec_t
vec_ld(const uint8_t *p)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

static inline void
vec_st(uint8_t *p, vec_t v)
{
	_mm256_storeu_si256((__m256i *)(void *)p, v);
}

/* 0..15 bytes without a vector, 16..32 as two SSE moves (first and last 16 bytes). */
static inline bool
copy_head(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n < 16) {
		copy_small15(d, s, n);
		return true;
	}
	if (n <= V) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));

		_mm_storeu_si128((__m128i *)(void *)d, a);
		_mm_storeu_si128((__m128i *)(void *)(d + n - 16), b);
		return true;
	}
	return false;
}

#include "copy_impl.h"
