/* SPDX-License-Identifier: MIT */
/*
 * SSE2 copy kernel: 16-byte unaligned loads and stores. Baseline x86-64, so
 * this file needs no extra -m flag; it is what runs with
 * --force-max-simd-bitwidth=128. The shape is copy_impl.h's.
 */
#include <emmintrin.h>

#include "copy_kernels.h"

#define V 16
#define COPY_FN copy_sse
typedef __m128i vec_t;

static inline vec_t
vec_ld(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline void
vec_st(uint8_t *p, vec_t v)
{
	_mm_storeu_si128((__m128i *)(void *)p, v);
}

/* 0..15 bytes without a vector; 16 is the template's two-vector case. */
static inline bool
copy_head(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n < V) {
		copy_small15(d, s, n);
		return true;
	}
	return false;
}

#include "copy_impl.h"
