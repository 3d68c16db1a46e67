/* SPDX-License-Identifier: MIT */
/*
 * Microbenchmark of the data plane's copy kernels (dataplane/copy) against
 * glibc memcpy and a bare `rep movsb`, in the same run: nanoseconds per copy
 * of 64, 256, 1500, 2048, 3072 and 4096 bytes between 4 KiB frames, cache-warm.
 *
 *   bench_copy_kernels [-f frames] [-r reps]
 *
 * Layout: `frames` source and `frames` destination frames, 4 KiB aligned like
 * grant frames (default 64 + 64 = 512 KiB: L2-resident on the dev box; -f 4
 * for L1). Each copy takes a random source and destination frame and an
 * offset inside it such that offset + size <= 4096, as GNTTABOP_copy does;
 * "a64" layouts draw 64-byte-aligned offsets, "any" layouts byte offsets.
 * Copies are independent (a throughput loop) and go through a function
 * pointer, as the core calls its gntdp_copy_fn. Each point is the median of
 * `reps` runs, with the implementations interleaved so that drift hits all.
 *
 * Output (STYLE.md §3.10): one JSON line per (layout, size, implementation)
 * on stdout, a table on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_version.h>

#include "bench_version.h"
#include "gntdp_copy.h"

#if defined(__clang__)
#define COMPILER __VERSION__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown"
#endif

#define FRAME 4096u
#define NIDX 4096u /* pre-drawn (src, dst) offsets, a power of two */
#define MAX_IMPL (COPY_ISA_COUNT + 2)
#define MAX_REPS 31

static const size_t sizes[] = {64, 256, 1500, 2048, 3072, 4096};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct impl {
	const char *name;
	gntdp_copy_fn fn;
};

/* Through a volatile pointer so the compiler cannot inline or specialise memcpy. */
static void *(*volatile libc_memcpy)(void *, const void *, size_t) = memcpy;

static void
copy_libc(void *dst, const void *src, size_t n)
{
	libc_memcpy(dst, src, n);
}

#if defined(__x86_64__)
/* `rep movsb` (ERMS/FSRM): the brief asked whether it beats the vector loops. */
static void
copy_movsb(void *dst, const void *src, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}
#endif

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t
rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* First line of /proc/cpuinfo's "model name", or of a sysfs file; "n/a" when absent. */
static void
read_field(const char *path, const char *key, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[256];

	snprintf(out, len, "n/a");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v = line;

		if (key != NULL) {
			if (strncmp(line, key, strlen(key)) != 0 || (v = strchr(line, ':')) == NULL)
				continue;
			v += 2;
		}
		/* Cut at the newline, and at characters that would need JSON escapes. */
		size_t l = strcspn(v, "\n\"\\");

		if (l >= len)
			l = len - 1;
		memcpy(out, v, l);
		out[l] = '\0';
		break;
	}
	fclose(f);
}

static int
parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned int *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 0);

	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static unsigned int
collect_impls(struct impl *impls)
{
	unsigned int k = 0;

	for (int i = COPY_ISA_SCALAR; i < COPY_ISA_COUNT; i++) {
		enum copy_isa isa = (enum copy_isa)i;

		if (copy_kernel(isa) != NULL && copy_isa_cpu_supported(isa))
			impls[k++] = (struct impl){copy_isa_name(isa), copy_kernel(isa)};
		else
			fprintf(stderr, "# %s: not compiled in or not supported by this CPU\n",
				copy_isa_name(isa));
	}
	impls[k++] = (struct impl){"glibc_memcpy", copy_libc};
#if defined(__x86_64__)
	impls[k++] = (struct impl){"rep_movsb", copy_movsb};
#endif
	return k;
}

/* Offsets (into the pools) of NIDX copies of n bytes. */
static void
draw_offsets(uint32_t *si, uint32_t *di, unsigned int frames, size_t n, unsigned int align)
{
	uint32_t slots = (uint32_t)(FRAME - n) / align + 1;

	for (unsigned int i = 0; i < NIDX; i++) {
		si[i] = (uint32_t)(rng_next() % frames) * FRAME +
			(uint32_t)(rng_next() % slots) * align;
		di[i] = (uint32_t)(rng_next() % frames) * FRAME +
			(uint32_t)(rng_next() % slots) * align;
	}
}

/* ns per copy of one timed run. */
static double
run_once(gntdp_copy_fn fn, uint8_t *dst, const uint8_t *src, const uint32_t *si, const uint32_t *di,
	 size_t n, unsigned long iters)
{
	double t0 = now_ns();

	for (unsigned long i = 0; i < iters; i++) {
		unsigned int j = (unsigned int)i & (NIDX - 1);

		fn(dst + di[j], src + si[j], n);
	}
	return (now_ns() - t0) / (double)iters;
}

struct env {
	char cpu[128], governor[64], dpdk[64];
	unsigned int frames, reps;
};

static void
bench_point(const struct env *env, const struct impl *impls, unsigned int nimpl, uint8_t *dst,
	    const uint8_t *src, size_t n, unsigned int align)
{
	static uint32_t si[NIDX], di[NIDX];
	double res[MAX_IMPL][MAX_REPS];
	/* About 4 ms per run here: long enough to swamp the clock, short enough for 2 cores. */
	unsigned long iters = 16000000ul / (n / 16 + 8);

	draw_offsets(si, di, env->frames, n, align);
	for (unsigned int r = 0; r < env->reps; r++) {
		for (unsigned int k = 0; k < nimpl; k++) {
			/* Untimed pass first: warms caches and branch predictors. */
			run_once(impls[k].fn, dst, src, si, di, n, NIDX);
			res[k][r] = run_once(impls[k].fn, dst, src, si, di, n, iters);
		}
	}
	fprintf(stderr, "%-4s %5zu", align == 1 ? "any" : "a64", n);
	for (unsigned int k = 0; k < nimpl; k++) {
		qsort(res[k], env->reps, sizeof(double), cmp_double);
		double med = res[k][env->reps / 2];

		fprintf(stderr, " %12.2f", med);
		printf("{\"bench\":\"copy_kernels\",\"impl\":\"%s\",\"size\":%zu,\"layout\":\"%s\","
		       "\"frames\":%u,\"ns_med\":%.3f,\"ns_min\":%.3f,\"ns_max\":%.3f,\"GBps\":%.2f,"
		       "\"reps\":%u,\"cpu\":\"%s\",\"governor\":\"%s\",\"compiler\":\"%s\","
		       "\"dpdk\":\"%s\",\"git\":\"%s\"}\n",
		       impls[k].name, n, align == 1 ? "any" : "a64", env->frames, med, res[k][0],
		       res[k][env->reps - 1], (double)n / med, env->reps, env->cpu, env->governor,
		       COMPILER, env->dpdk, BENCH_GIT_SHA);
	}
	fprintf(stderr, "\n");
}

int
main(int argc, char **argv)
{
	struct env env = {.frames = 64, .reps = 9};
	struct impl impls[MAX_IMPL];
	int c;

	while ((c = getopt(argc, argv, "f:r:h")) != -1) {
		int rc = -EINVAL;

		if (c == 'f')
			rc = parse_uint(optarg, 1, 1u << 16, &env.frames);
		else if (c == 'r')
			rc = parse_uint(optarg, 1, MAX_REPS, &env.reps);
		if (rc != 0) {
			fprintf(stderr,
				"usage: %s [-f frames (1..65536, default 64)] "
				"[-r reps (1..%d, default 9)]\n",
				argv[0], MAX_REPS);
			return c == 'h' ? 0 : 1;
		}
	}
	read_field("/proc/cpuinfo", "model name", env.cpu, sizeof(env.cpu));
	read_field("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", NULL, env.governor,
		   sizeof(env.governor));
	snprintf(env.dpdk, sizeof(env.dpdk), "%s", rte_version());

	size_t pool = (size_t)env.frames * FRAME;
	uint8_t *src = aligned_alloc(FRAME, pool), *dst = aligned_alloc(FRAME, pool);

	if (src == NULL || dst == NULL) {
		fprintf(stderr, "out of memory (%zu KiB x 2)\n", pool >> 10);
		return 1;
	}
	for (size_t i = 0; i < pool; i++)
		src[i] = (uint8_t)rng_next();
	memset(dst, 0, pool);

	unsigned int nimpl = collect_impls(impls);

	fprintf(stderr, "# ns per copy, median of %u; %u + %u frames (%zu KiB each side); %s\n",
		env.reps, env.frames, env.frames, pool >> 10, env.cpu);
	fprintf(stderr, "%-4s %5s", "lay", "size");
	for (unsigned int k = 0; k < nimpl; k++)
		fprintf(stderr, " %12s", impls[k].name);
	fprintf(stderr, "\n");
	for (unsigned int a = 0; a < 2; a++)
		for (size_t s = 0; s < NSIZES; s++)
			bench_point(&env, impls, nimpl, dst, src, sizes[s], a == 0 ? 64 : 1);
	free(src);
	free(dst);
	return 0;
}
