/* SPDX-License-Identifier: MIT */
/*
 * The scalar reference copy: the oracle the vector kernels are tested
 * against, and the kernel used when EAL forbids SIMD
 * (--force-max-simd-bitwidth=64).
 *
 * It must stay obviously correct, so it is a plain loop: 8-byte words while
 * at least 8 bytes remain, then single bytes; forward, or from the end down
 * when dst lies inside (src, src + n), which gives memmove's result for
 * overlapping ranges. The words go through a may_alias, 1-byte-aligned type,
 * so unaligned pointers are defined behaviour and no memcpy call is needed.
 * meson compiles this file with -fno-builtin and
 * -fno-tree-loop-distribute-patterns (gcc) so the compiler cannot replace the
 * loop with a call to the libc memcpy it is checked against, with
 * -fno-tree-vectorize so it stays scalar, and with -falign-loops=32 (see
 * meson.build).
 */
#include <stdint.h>

#include "copy_kernels.h"

typedef uint64_t __attribute__((may_alias, aligned(1))) word_unaligned;

void
copy_scalar(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	/* Each word is loaded before it is stored, so one step never clobbers the next. */
	if ((uintptr_t)d - (uintptr_t)s >= n) {
		for (; n >= 8; n -= 8, d += 8, s += 8)
			*(word_unaligned *)d = *(const word_unaligned *)s;
		for (; n > 0; n--)
			*d++ = *s++;
	} else {
		for (; n >= 8; n -= 8)
			*(word_unaligned *)(d + n - 8) = *(const word_unaligned *)(s + n - 8);
		for (; n > 0; n--)
			d[n - 1] = s[n - 1];
	}
}
