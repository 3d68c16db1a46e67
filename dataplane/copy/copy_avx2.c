/* SPDX-License-Identifier: MIT */
/*
 * AVX2 copy kernel: 32-byte unaligned loads and stores. Compiled with -mavx2
 * in its own static library; copy_select() only picks it when the CPU has
 * AVX2 and EAL allows 256-bit vectors.
 *
 * Same shape as copy_sse.c: small sizes take a fixed number of possibly
 * overlapping moves, the rest a 4 x 32-byte loop and the last 128 bytes of
 * the buffer (rewriting what the loop wrote, never beyond n), run backwards
 * when dst lies inside (src, src + n) so that overlap gives memmove's result.
 */
#include <immintrin.h>

#include "copy_kernels.h"

#define V 32

static inline __m256i
ld(const uint8_t *p)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

static inline void
st(uint8_t *p, __m256i v)
{
	_mm256_storeu_si256((__m256i *)(void *)p, v);
}

/* 4 vectors from s to d (128 bytes), all loads before the stores. */
static inline void
copy4(uint8_t *d, const uint8_t *s)
{
	__m256i a = ld(s), b = ld(s + V), c = ld(s + 2 * V), e = ld(s + 3 * V);

	st(d, a);
	st(d + V, b);
	st(d + 2 * V, c);
	st(d + 3 * V, e);
}

/*
 * n > 4 vectors, dst not inside (src, src + n). The last 4 vectors are loaded
 * before any store, and the loop's loads never fall behind its stores when
 * dst < src, so an overlapping copy gives memmove's result.
 */
static inline void
copy_forward(uint8_t *d, const uint8_t *s, size_t n)
{
	const uint8_t *s_end = s + n;
	uint8_t *d_end = d + n;
	__m256i t0 = ld(s_end - 4 * V), t1 = ld(s_end - 3 * V), t2 = ld(s_end - 2 * V),
		t3 = ld(s_end - V);

	for (; n > 4 * V; n -= 4 * V, s += 4 * V, d += 4 * V)
		copy4(d, s);
	st(d_end - 4 * V, t0);
	st(d_end - 3 * V, t1);
	st(d_end - 2 * V, t2);
	st(d_end - V, t3);
}

/* n > 4 vectors, dst inside [src, src + n): the mirror image, from the end down. */
static inline void
copy_backward(uint8_t *d, const uint8_t *s, size_t n)
{
	__m256i h0 = ld(s), h1 = ld(s + V), h2 = ld(s + 2 * V), h3 = ld(s + 3 * V);

	for (; n > 4 * V; n -= 4 * V)
		copy4(d + n - 4 * V, s + n - 4 * V);
	st(d, h0);
	st(d + V, h1);
	st(d + 2 * V, h2);
	st(d + 3 * V, h3);
}

void
copy_avx2(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (n < 16) {
		copy_small15(d, s, n);
		return;
	}
	if (n <= V) {
		/* 16..32: two SSE moves, first and last 16 bytes. */
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));

		_mm_storeu_si128((__m128i *)(void *)d, a);
		_mm_storeu_si128((__m128i *)(void *)(d + n - 16), b);
		return;
	}
	if (n <= 2 * V) {
		__m256i a = ld(s), b = ld(s + n - V);

		st(d, a);
		st(d + n - V, b);
		return;
	}
	if (n <= 4 * V) {
		__m256i a = ld(s), b = ld(s + V), c = ld(s + n - 2 * V), e = ld(s + n - V);

		st(d, a);
		st(d + V, b);
		st(d + n - 2 * V, c);
		st(d + n - V, e);
		return;
	}
	if ((uintptr_t)d - (uintptr_t)s < n)
		copy_backward(d, s, n);
	else
		copy_forward(d, s, n);
}
