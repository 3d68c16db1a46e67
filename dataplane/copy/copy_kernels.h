/* SPDX-License-Identifier: MIT */
/*
 * Private to dataplane/copy: the kernel entry points, one per translation
 * unit, and the small-copy helper shared by the SSE and AVX2 kernels.
 * A kernel is only defined when meson compiled its file (COPY_HAVE_<ISA>).
 */
#ifndef GNTDP_DP_COPY_KERNELS_H
#define GNTDP_DP_COPY_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void copy_scalar(void *dst, const void *src, size_t n);
void copy_sse(void *dst, const void *src, size_t n);
void copy_avx2(void *dst, const void *src, size_t n);
void copy_avx512(void *dst, const void *src, size_t n);

/*
 * 0..15 bytes without a loop or a vector: two possibly overlapping moves of
 * the largest power of two <= n, one from each end, so every byte is covered
 * and nothing outside [0, n) is touched. Both loads happen before both stores.
 * __builtin_memcpy with a constant size compiles to one unaligned mov.
 */
static inline void
copy_small15(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n >= 8) {
		uint64_t a, b;

		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(&b, s + n - 8, 8);
		__builtin_memcpy(d, &a, 8);
		__builtin_memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;

		__builtin_memcpy(&a, s, 4);
		__builtin_memcpy(&b, s + n - 4, 4);
		__builtin_memcpy(d, &a, 4);
		__builtin_memcpy(d + n - 4, &b, 4);
	} else if (n >= 2) {
		uint16_t a, b;

		__builtin_memcpy(&a, s, 2);
		__builtin_memcpy(&b, s + n - 2, 2);
		__builtin_memcpy(d, &a, 2);
		__builtin_memcpy(d + n - 2, &b, 2);
	} else if (n == 1) {
		*d = *s;
	}
}

#endif /* GNTDP_DP_COPY_KERNELS_H */
