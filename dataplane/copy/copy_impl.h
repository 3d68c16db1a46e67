/* SPDX-License-Identifier: MIT */
/*
 * The body of the SIMD copy kernels, one template for every ISA (as DPDK's
 * lib/acl does with acl_run_*.h): copy_sse.c, copy_avx2.c and copy_avx512.c
 * each define the vector below, then include this file once, in a
 * translation unit compiled with that ISA's -m flags.
 *
 * The including file defines, before #include "copy_impl.h":
 *   V                  the vector width in bytes (16, 32, 64)
 *   vec_t              the vector type
 *   vec_ld(p), vec_st(p, v)   an unaligned load and store of one vector
 *   COPY_FN            the name of the kernel to define (copy_sse...)
 *   copy_head(d, s, n) a static inline bool that copies n <= V bytes in the
 *                      ISA's best way and returns true, or returns false to
 *                      leave n to the shape below (the SSE kernel leaves
 *                      n == V, the AVX2 one leaves nothing, nor AVX-512)
 *
 * Shape: a fixed number of possibly overlapping vectors for small sizes, all
 * loaded before the first store (2 vectors up to 2 V, 4 up to 4 V); above 4
 * vectors, a 4-vector loop plus the last 4 vectors of the buffer, which may
 * rewrite bytes the loop already wrote; from COPY_REP_MOVSB_MIN bytes on, a
 * forward copy is one `rep movsb` instead. Every vector lies inside [0, n), so
 * nothing outside the two ranges is read or written. When dst lies inside
 * (src, src + n) the loop runs from the end down instead, so overlapping
 * copies give memmove's result.
 */
#ifndef COPY_FN
#error "define V, vec_t, vec_ld, vec_st, copy_head and COPY_FN before including copy_impl.h"
#endif

/*
 * From this size on a forward copy is one `rep movsb` (ERMS/FSRM), as glibc's
 * memcpy does, and the raw copy gntdpd's 4 KiB goal is judged against.
 * bench/copy/bench_copy_kernels -f 256 -r 7, quiet run, AMD EPYC VM, ns per
 * copy between 64-byte-aligned offsets: 4096 B avx2 79.9, rep movsb 68.5,
 * glibc 69.2; 3072 B 65.2 / 62.4; 2048 B 45.8 / 45.5; 1500 B 33.1 / 32.5
 * (the vector loop is never better from 2048 on, and 14 % slower at 4096).
 */
#define COPY_REP_MOVSB_MIN 2048u

static inline void
copy_movsb(uint8_t *d, const uint8_t *s, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/* 4 vectors from s to d, all loads before the stores. */
static inline void
copy4(uint8_t *d, const uint8_t *s)
{
	vec_t a = vec_ld(s), b = vec_ld(s + V), c = vec_ld(s + 2 * V), e = vec_ld(s + 3 * V);

	vec_st(d, a);
	vec_st(d + V, b);
	vec_st(d + 2 * V, c);
	vec_st(d + 3 * V, e);
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
	vec_t t0 = vec_ld(s_end - 4 * V), t1 = vec_ld(s_end - 3 * V), t2 = vec_ld(s_end - 2 * V),
	      t3 = vec_ld(s_end - V);

	for (; n > 4 * V; n -= 4 * V, s += 4 * V, d += 4 * V)
		copy4(d, s);
	vec_st(d_end - 4 * V, t0);
	vec_st(d_end - 3 * V, t1);
	vec_st(d_end - 2 * V, t2);
	vec_st(d_end - V, t3);
}

/* n > 4 vectors, dst inside [src, src + n): the mirror image, from the end down. */
static inline void
copy_backward(uint8_t *d, const uint8_t *s, size_t n)
{
	vec_t h0 = vec_ld(s), h1 = vec_ld(s + V), h2 = vec_ld(s + 2 * V), h3 = vec_ld(s + 3 * V);

	for (; n > 4 * V; n -= 4 * V)
		copy4(d + n - 4 * V, s + n - 4 * V);
	vec_st(d, h0);
	vec_st(d + V, h1);
	vec_st(d + 2 * V, h2);
	vec_st(d + 3 * V, h3);
}

void
COPY_FN(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (copy_head(d, s, n))
		return;
	if (n <= 2 * V) {
		vec_t a = vec_ld(s), b = vec_ld(s + n - V);

		vec_st(d, a);
		vec_st(d + n - V, b);
		return;
	}
	if (n <= 4 * V) {
		vec_t a = vec_ld(s), b = vec_ld(s + V), c = vec_ld(s + n - 2 * V),
		      e = vec_ld(s + n - V);

		vec_st(d, a);
		vec_st(d + V, b);
		vec_st(d + n - 2 * V, c);
		vec_st(d + n - V, e);
		return;
	}
	if ((uintptr_t)d - (uintptr_t)s < n)
		copy_backward(d, s, n);
	else if (n >= COPY_REP_MOVSB_MIN) /* forward: a byte loop's result, also when d < s overlaps */
		copy_movsb(d, s, n);
	else
		copy_forward(d, s, n);
}
