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
 * and EAL allows 512-bit vectors.
 *
 * Above 64 bytes the shape is that of the SSE and AVX2 kernels: overlapping
 * first/last vectors up to 256 bytes, then a 4 x 64-byte loop and the last
 * 256 bytes of the buffer, run backwards when dst lies inside (src, src + n)
 * so that overlap gives memmove's result.
 */
#include <immintrin.h>

#include "copy_kernels.h"

#define V 64

static inline __m512i
ld(const uint8_t *p)
{
	return _mm512_loadu_si512((const void *)p);
}

static inline void
st(uint8_t *p, __m512i v)
{
	_mm512_storeu_si512((void *)p, v);
}

/* 4 vectors from s to d (256 bytes), all loads before the stores. */
static inline void
copy4(uint8_t *d, const uint8_t *s)
{
	__m512i a = ld(s), b = ld(s + V), c = ld(s + 2 * V), e = ld(s + 3 * V);

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
	__m512i t0 = ld(s_end - 4 * V), t1 = ld(s_end - 3 * V), t2 = ld(s_end - 2 * V),
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
	__m512i h0 = ld(s), h1 = ld(s + V), h2 = ld(s + 2 * V), h3 = ld(s + 3 * V);

	for (; n > 4 * V; n -= 4 * V)
		copy4(d + n - 4 * V, s + n - 4 * V);
	st(d, h0);
	st(d + V, h1);
	st(d + 2 * V, h2);
	st(d + 3 * V, h3);
}

void
copy_avx512(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (n <= V) {
		/* bzhi keeps the low n bits; n == 64 leaves all 64 set, n == 0 none. */
		__mmask64 m = _bzhi_u64(~0ULL, (unsigned int)n);

		_mm512_mask_storeu_epi8(d, m, _mm512_maskz_loadu_epi8(m, s));
		return;
	}
	if (n <= 2 * V) {
		__m512i a = ld(s), b = ld(s + n - V);

		st(d, a);
		st(d + n - V, b);
		return;
	}
	if (n <= 4 * V) {
		__m512i a = ld(s), b = ld(s + V), c = ld(s + n - 2 * V), e = ld(s + n - V);

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
