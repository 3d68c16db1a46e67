/* SPDX-License-Identifier: MIT */
/*
 * The vector-copy oracle (STYLE.md §3.5 item 7, §3.9 dp): every copy kernel
 * this CPU can run is checked against the scalar reference for every length
 * 0..4096 and every source and destination alignment 0..63, with guard bytes
 * around the destination; then at the edges of a page followed (and preceded)
 * by a PROT_NONE page, to prove no byte outside the ranges is read; then at a
 * few sizes above one frame; then with overlapping ranges against libc
 * memmove. Also checks copy_select() for each EAL bitwidth.
 *
 * Pure C: no EAL, so it runs anywhere the data plane builds.
 *
 *   test_copy [all|select|scalar|sse|avx2|avx512]   (default all)
 *   COPY_TEST_SEED=<n> changes the random data (the seed is printed).
 *
 * Exit 0 pass, 1 fail, 77 when the requested kernel cannot run here.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "gntdp_copy.h"

#define EXIT_SKIP 77

#define FRAME 4096u /* a grant frame; copies never exceed it in the data plane */
#define NALIGN 64u  /* alignments 0..63 of source and destination */
#define PRE 256u    /* guard bytes before the destination (plus da) */
#define POST 256u   /* guard bytes after the largest destination */
#define GUARD 0xA5  /* no source byte has this value, see fill_sources() */

/*
 * Two sources that differ from each other and from GUARD at every byte.
 * Lengths alternate between them, so the destination bytes a copy must
 * overwrite always hold something else: a kernel that skips a byte, or
 * writes a zeroed (masked-off) lane into a guard, is caught without resetting
 * the destination between lengths.
 */
static alignas(64) uint8_t src_a[NALIGN + FRAME];
static alignas(64) uint8_t src_b[NALIGN + FRAME];
/* The scalar kernel's output for the whole frame, at the same alignments. */
static alignas(64) uint8_t ref_a[NALIGN + FRAME];
static alignas(64) uint8_t ref_b[NALIGN + FRAME];
static alignas(64) uint8_t dbuf[PRE + NALIGN + FRAME + POST];
static alignas(64) uint8_t guards[PRE + NALIGN + FRAME + POST];

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	/* xorshift64: deterministic for a given seed, which is printed. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint8_t
rng_byte_except(int a, int b)
{
	uint8_t v;

	do {
		v = (uint8_t)rng_next();
	} while (v == a || v == b);
	return v;
}

static void
fill_sources(void)
{
	for (size_t i = 0; i < sizeof(src_a); i++) {
		src_a[i] = rng_byte_except(GUARD, GUARD);
		src_b[i] = rng_byte_except(GUARD, src_a[i]);
	}
	memset(guards, GUARD, sizeof(guards));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Where a byte differs, for the failure message: the first index, or -1. */
static long
first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

/* ---- all lengths x all alignments against the scalar reference ---------- */

static int
report_pair(const char *name, unsigned int sa, unsigned int da, size_t n, const uint8_t *ref)
{
	const uint8_t *dst = dbuf + PRE + da;
	long i;

	printf("FAIL %s: n=%zu src_align=%u dst_align=%u: ", name, n, sa, da);
	if ((i = first_diff(dst, ref + da, n)) >= 0)
		printf("dst[%ld] = 0x%02x, reference 0x%02x\n", i, dst[i], ref[da + (size_t)i]);
	else if ((i = first_diff(dbuf, guards, PRE + da)) >= 0)
		printf("guard byte %ld before dst overwritten (0x%02x)\n", (long)(PRE + da) - i,
		       dbuf[i]);
	else
		printf("guard byte dst[%zu + %ld] after the copy overwritten (0x%02x)\n", n,
		       first_diff(dst + n, guards, sizeof(dbuf) - PRE - da - n), dst[n]);
	return 1;
}

/* One (source alignment, destination alignment) pair, lengths 0..FRAME. */
static int
oracle_pair(gntdp_copy_fn fn, const char *name, unsigned int sa, unsigned int da)
{
	gntdp_copy_fn scalar = copy_kernel(COPY_ISA_SCALAR);
	uint8_t *dst = dbuf + PRE + da;

	/* The reference is the scalar kernel's copy; libc memcmp double-checks it. */
	scalar(ref_a + da, src_a + sa, FRAME);
	scalar(ref_b + da, src_b + sa, FRAME);
	if (memcmp(ref_a + da, src_a + sa, FRAME) || memcmp(ref_b + da, src_b + sa, FRAME)) {
		printf("FAIL scalar reference differs from its source (src_align=%u dst_align=%u)\n",
		       sa, da);
		return 1;
	}
	memset(dbuf, GUARD, sizeof(dbuf));
	for (size_t n = 0; n <= FRAME; n++) {
		const uint8_t *src = (n & 1) ? src_a : src_b;
		const uint8_t *ref = (n & 1) ? ref_a : ref_b;

		fn(dst, src + sa, n);
		/* Whole buffer every time: a stray write far from the ends is caught too. */
		if (memcmp(dst, ref + da, n) != 0 || memcmp(dbuf, guards, PRE + da) != 0 ||
		    memcmp(dst + n, guards, sizeof(dbuf) - PRE - da - n) != 0)
			return report_pair(name, sa, da, n, ref);
	}
	return 0;
}

static int
check_oracle(gntdp_copy_fn fn, const char *name)
{
	/*
	 * 4097 lengths x 4096 pairs = 16.8M copies: 1.2-1.5 s per vector
	 * kernel (3.3 s scalar) at -O2 on the dev box (AMD EPYC, Zen 4) and
	 * 5-9 s (15 s scalar) under ASan+UBSan, so ASan builds need no subset.
	 */
	for (unsigned int sa = 0; sa < NALIGN; sa++)
		for (unsigned int da = 0; da < NALIGN; da++)
			if (oracle_pair(fn, name, sa, da) != 0)
				return 1;
	printf("  oracle: lengths 0..%u x %u alignment pairs, %u copies\n", FRAME, NALIGN * NALIGN,
	       (FRAME + 1) * NALIGN * NALIGN);
	return 0;
}

/* ---- copies that end (or start) at a page next to a PROT_NONE page ------- */

/* What the SIGSEGV handler prints: set before each copy of page_edges(). */
static volatile sig_atomic_t edge_active;
static volatile size_t edge_n;
static volatile int edge_case;
static const char *volatile edge_name;

static void
put_str(const char *s)
{
	ssize_t r = write(STDOUT_FILENO, s, strlen(s));

	(void)r;
}

static void
put_uint(size_t v)
{
	char b[24];
	int i = (int)sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	ssize_t r = write(STDOUT_FILENO, b + i, sizeof(b) - (size_t)i);

	(void)r;
}

static void
on_segv(int sig)
{
	(void)sig;
	/* Only async-signal-safe calls: write() and _exit(). */
	if (edge_active) {
		put_str("FAIL ");
		put_str(edge_name);
		put_str(": touched a PROT_NONE page, n=");
		put_uint(edge_n);
		put_str(" case=");
		put_uint((size_t)edge_case);
		put_str("\n");
	} else {
		put_str("FAIL: SIGSEGV outside a page-edge copy\n");
	}
	_exit(1);
}

/* [PROT_NONE][page][PROT_NONE]; returns the middle page or NULL. */
static uint8_t *
map_fenced_page(size_t pg)
{
	uint8_t *m = mmap(NULL, 3 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m + pg, pg, PROT_READ | PROT_WRITE) != 0) {
		munmap(m, 3 * pg);
		return NULL;
	}
	return m + pg;
}

static int
check_page_edges(gntdp_copy_fn fn, const char *name)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *sp = map_fenced_page(pg), *dp = map_fenced_page(pg);
	int rc = 1;

	if (sp == NULL || dp == NULL || pg < FRAME) {
		printf("FAIL %s: cannot map fenced pages: %s\n", name, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < pg; i++)
		sp[i] = rng_byte_except(GUARD, GUARD);
	edge_name = name;
	/*
	 * Cases: bit 0 puts the source at the end of its page (src + n is the
	 * fence), bit 1 the destination; otherwise the range starts the page
	 * (the byte before it is the fence). Ending at the fence covers every
	 * alignment mod 64 as n varies.
	 */
	for (size_t n = 0; n <= FRAME; n++) {
		for (int c = 0; c < 4; c++) {
			const uint8_t *s = (c & 1) ? sp + pg - n : sp;
			uint8_t *d = (c & 2) ? dp + pg - n : dp;

			memset(d, GUARD, n);
			edge_n = n;
			edge_case = c;
			edge_active = 1;
			fn(d, s, n);
			edge_active = 0;
			if (memcmp(d, s, n) != 0) {
				printf("FAIL %s: page-edge copy n=%zu case=%d wrong at byte %ld\n",
				       name, n, c, first_diff(d, s, n));
				goto out;
			}
		}
	}
	printf("  page edges: lengths 0..%u, src/dst at start/end of a fenced page\n", FRAME);
	rc = 0;
out:
	if (sp != NULL)
		munmap(sp - pg, 3 * pg);
	if (dp != NULL)
		munmap(dp - pg, 3 * pg);
	return rc;
}

/* ---- sizes above a frame (the kernels take any n) ------------------------ */

static int
check_large(gntdp_copy_fn fn, const char *name)
{
	/* Around one and two frames, one 64 KiB and one 1 MiB copy, each with an odd tail. */
	static const size_t sizes[] = {4097, 4159, 4160, 5000, 8191, 8255, 65553, 1048581};
	const size_t max = 1048581;
	uint8_t *s = malloc(max + NALIGN), *d = malloc(max + PRE + NALIGN + POST);
	int rc = 1;

	if (s == NULL || d == NULL) {
		printf("FAIL %s: out of memory\n", name);
		goto out;
	}
	for (size_t i = 0; i < max + NALIGN; i++)
		s[i] = rng_byte_except(GUARD, GUARD);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k], sa = rng_next() % NALIGN, da = rng_next() % NALIGN;
		size_t total = max + PRE + NALIGN + POST;
		uint8_t *dst = d + PRE + da;

		memset(d, GUARD, total);
		fn(dst, s + sa, n);
		if (memcmp(dst, s + sa, n) != 0 || first_diff(d, guards, PRE + da) >= 0 ||
		    memcmp(dst + n, guards, POST) != 0) {
			printf("FAIL %s: large copy n=%zu src_align=%zu dst_align=%zu\n", name, n,
			       sa, da);
			goto out;
		}
	}
	printf("  large: %zu sizes from 4097 to %zu bytes\n", sizeof(sizes) / sizeof(sizes[0]),
	       max);
	rc = 0;
out:
	free(s);
	free(d);
	return rc;
}

/* ---- overlapping ranges: memmove's result -------------------------------- */

#define OVL_MAXD 4096u /* largest |dst - src| tried */
#define OVL_PAD 64u    /* guard bytes on each side of the touched span */
#define OVL_LEN (OVL_PAD + NALIGN + OVL_MAXD + FRAME + OVL_MAXD + OVL_PAD)
static alignas(64) uint8_t ovl_pattern[OVL_LEN];
static alignas(64) uint8_t ovl_got[OVL_LEN];
static alignas(64) uint8_t ovl_want[OVL_LEN];

/*
 * A guest may copy within one of its own frames, so src and dst can overlap;
 * the kernels promise libc memmove's result, which is the reference here.
 * Every dst - src in [-72, 72] (around one and two SSE/AVX2 vectors and one
 * AVX-512 vector) plus distances around the loop sizes, each for every length
 * 0..4096, with the source alignment varying with the length.
 */
static int
check_overlap(gntdp_copy_fn fn, const char *name)
{
	static const int far[] = {80,  96,  127, 128, 129,  191,  192,  255,  256, 257,
				  300, 511, 512, 513, 1000, 1500, 2047, 4095, 4096};
	int deltas[2 * 72 + 1 + 2 * sizeof(far) / sizeof(far[0])];
	size_t nd = 0, runs = 0;

	for (int d = -72; d <= 72; d++)
		deltas[nd++] = d;
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		deltas[nd++] = far[i];
		deltas[nd++] = -far[i];
	}
	for (size_t i = 0; i < OVL_LEN; i++)
		ovl_pattern[i] = rng_byte_except(GUARD, GUARD);
	for (size_t k = 0; k < nd; k++) {
		for (size_t n = 0; n <= FRAME; n++) {
			size_t so = OVL_PAD + OVL_MAXD + n % NALIGN;
			size_t dof = (size_t)((long)so + deltas[k]);
			size_t lo = (so < dof ? so : dof) - OVL_PAD;
			size_t span = (so > dof ? so : dof) + n + OVL_PAD - lo;

			memcpy(ovl_got + lo, ovl_pattern + lo, span);
			memcpy(ovl_want + lo, ovl_pattern + lo, span);
			memmove(ovl_want + dof, ovl_want + so, n);
			fn(ovl_got + dof, ovl_got + so, n);
			if (memcmp(ovl_got + lo, ovl_want + lo, span) != 0) {
				long i = first_diff(ovl_got + lo, ovl_want + lo, span);

				printf("FAIL %s: overlap dst-src=%d n=%zu: byte %ld from dst is 0x%02x, "
				       "memmove gives 0x%02x\n",
				       name, deltas[k], n, (long)(lo + (size_t)i) - (long)dof,
				       ovl_got[lo + (size_t)i], ovl_want[lo + (size_t)i]);
				return 1;
			}
			runs++;
		}
	}
	printf("  overlap: %zu distances x lengths 0..%u = %zu copies match memmove\n", nd, FRAME,
	       runs);
	return 0;
}

/* ---- copy_select() ------------------------------------------------------- */

/* The CPU check again, written independently of copy.c. */
static int
cpu_has(enum copy_isa isa)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	switch (isa) {
	case COPY_ISA_SCALAR:
		return 1;
	case COPY_ISA_SSE:
		return __builtin_cpu_supports("sse2");
	case COPY_ISA_AVX2:
		return __builtin_cpu_supports("avx2");
	case COPY_ISA_AVX512:
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2");
	default:
		return 0;
	}
#else
	return isa == COPY_ISA_SCALAR;
#endif
}

static int
test_select(void)
{
	static const unsigned int widths[] = {0, 64, 127, 128, 255, 256, 511, 512, 1024, UINT_MAX};
	static const unsigned int isa_bits[COPY_ISA_COUNT] = {64, 128, 256, 512};
	int fails = 0;

	for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
		unsigned int w = widths[k];
		enum copy_isa got = copy_select(w), want = COPY_ISA_SCALAR;

		for (int i = COPY_ISA_SCALAR; i < COPY_ISA_COUNT; i++) {
			enum copy_isa isa = (enum copy_isa)i;

			if (copy_kernel(isa) != NULL && isa_bits[i] <= w && cpu_has(isa))
				want = isa;
		}
		printf("  copy_select(%u) = %s\n", w, copy_isa_name(got));
		if (got != want || copy_kernel(got) == NULL || !cpu_has(got) ||
		    !copy_isa_cpu_supported(got) || copy_isa_bitwidth(got) != isa_bits[got]) {
			printf("FAIL copy_select(%u) = %s, expected %s\n", w, copy_isa_name(got),
			       copy_isa_name(want));
			fails++;
		}
	}
	for (int i = COPY_ISA_SCALAR; i < COPY_ISA_COUNT; i++) {
		enum copy_isa isa = (enum copy_isa)i;

		if (copy_isa_cpu_supported(isa) != (cpu_has(isa) != 0)) {
			printf("FAIL copy_isa_cpu_supported(%s) disagrees with the CPU\n",
			       copy_isa_name(isa));
			fails++;
		}
	}
	if (copy_kernel(COPY_ISA_SCALAR) == NULL || copy_kernel(COPY_ISA_COUNT) != NULL ||
	    strcmp(copy_isa_name(COPY_ISA_COUNT), "?") != 0 ||
	    copy_isa_bitwidth(COPY_ISA_COUNT) != 0) {
		printf("FAIL copy_kernel/copy_isa_name out-of-range handling\n");
		fails++;
	}
	return fails != 0;
}

/* ---- driver -------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(gntdp_copy_fn fn, const char *name);
} kernel_checks[] = {
	{"oracle", check_oracle},
	{"page_edges", check_page_edges},
	{"large", check_large},
	{"overlap", check_overlap},
};

/* 0 pass, 1 fail, EXIT_SKIP when the kernel cannot run here (reason printed). */
static int
test_kernel(enum copy_isa isa)
{
	gntdp_copy_fn fn = copy_kernel(isa);
	const char *name = copy_isa_name(isa);

	if (fn == NULL) {
		printf("skip %s: kernel not compiled in (compiler lacks the -m flags or not x86)\n",
		       name);
		return EXIT_SKIP;
	}
	if (!cpu_has(isa)) {
		printf("skip %s: this CPU (or OS) does not support it\n", name);
		return EXIT_SKIP;
	}
	printf("kernel %s\n", name);
	for (size_t k = 0; k < sizeof(kernel_checks) / sizeof(kernel_checks[0]); k++) {
		double t0 = now_s();

		if (kernel_checks[k].fn(fn, name) != 0)
			return 1;
		printf("  %s: pass in %.2f s\n", kernel_checks[k].name, now_s() - t0);
	}
	return 0;
}

static int
parse_seed(uint64_t *seed)
{
	const char *s = getenv("COPY_TEST_SEED");
	char *end;

	*seed = 0x9E3779B97F4A7C15ull;
	if (s == NULL)
		return 0;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);

	if (errno != 0 || end == s || *end != '\0' || v == 0) {
		printf("bad COPY_TEST_SEED '%s' (non-zero integer)\n", s);
		return -EINVAL;
	}
	*seed = v;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	struct sigaction sa = {.sa_handler = on_segv};
	uint64_t seed;
	int rc = 0, ran = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_seed(&seed) != 0)
		return 1;
	rng_state = seed;
	printf("seed 0x%llx\n", (unsigned long long)seed);
	fill_sources();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	if (!strcmp(what, "all") || !strcmp(what, "select")) {
		printf("copy_select\n");
		rc |= test_select();
		ran = 1;
	}
	for (int i = COPY_ISA_SCALAR; i < COPY_ISA_COUNT; i++) {
		enum copy_isa isa = (enum copy_isa)i;

		if (strcmp(what, "all") != 0 && strcmp(what, copy_isa_name(isa)) != 0)
			continue;
		int r = test_kernel(isa);

		if (r == EXIT_SKIP && strcmp(what, "all") != 0)
			return EXIT_SKIP;
		rc |= r == 1;
		ran = 1;
	}
	if (!ran) {
		printf("usage: %s [all|select|scalar|sse|avx2|avx512]\n", argv[0]);
		return 1;
	}
	printf("%s\n", rc ? "FAIL" : "PASS");
	return rc ? 1 : 0;
}
