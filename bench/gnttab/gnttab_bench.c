/* SPDX-License-Identifier: MIT */
/*
 * Microbenchmark of the grant-table core alone (no DPDK): what one
 * GNTTABOP_copy op and one map+unmap pair cost on one core.
 *
 * Copy: a backend domain B copies from grants of a guest G into its own
 * frames (source gref, dest frame, DOMID_SELF), for
 *   len {64, 4096} x batch {1, 32} x refs {one gref, all-distinct grefs}
 *   x cache {xen: pins dropped at the end of every call (Xen's semantics),
 *            persistent: pins kept across calls, 100 % hits after warm-up}.
 * Each configuration is timed beside a raw memcpy loop over the very same
 * (dst, src, len) list in the same run: the baseline. The report gives
 * ns/op for both, the overhead (copy - memcpy) and the ratio.
 * Map+unmap: batches of 32 host maps of G's refs into B's physmap, then the
 * 32 unmaps; one ref or 32 distinct refs. Reported as ns per pair and Mpairs/s.
 *
 * Method: CLOCK_MONOTONIC around many iterations, one warm-up repetition,
 * then the median of --reps repetitions (default 5; --json also gives the
 * fastest repetition, the least disturbed on a busy machine). Pin the process
 * (`taskset -c 1`) and use a debugoptimized or release build.
 * 64-byte copies are spread over the frame (offsets k * 64) because
 * destinations that all sit at offset 0 copy several times slower from
 * cache-set aliasing (shared/bench/README.md).
 *
 * Usage: gnttab_bench [--quick] [--json] [--reps N] [--version 1|2] [--only copy|map]
 *   --version  the granter's table version (default 1): 2 runs the same
 *            configurations on v2 full-page grants (status array).
 *   --quick  1/16 of the iterations (the 'perf' suite test); also checks
 *            every status and the copied bytes and exits 1 on a mismatch.
 *   --json   one JSON line per configuration instead of the table.
 * GNTDP_GIT_SHA in the environment overrides the SHA compiled in.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gntdp/gnttab.h>
#include <gntdp/xen_grant_table.h>

#include "bench_version.h"

#define DOM_G ((gntdp_domid_t)1)
#define DOM_B ((gntdp_domid_t)2)
#define FIRST_REF 8u
#define NB_FRAMES 64u
#define MAX_BATCH 32u
#define MAP_GFN_BASE 1024u
#define MAX_REPS 64u

struct bench {
	struct gntdp_gnttab *gt;
	struct gntdp_gnttab_ctx *ctx;  /* Xen-exact cache: pins dropped at the end of each call */
	struct gntdp_gnttab_ctx *pctx; /* persistent cache: pins kept across calls (data plane) */
	uint8_t *g_ram;
	uint8_t *b_ram;
	bool json;
	bool quick;
	unsigned int version; /* G's grant-table version (--version) */
	unsigned int reps;
	char cpu[128];
	char governor[64];
	const char *sha;
	int failures;
};

/* Kept in volatile storage so the compiler cannot specialise loops on them (STYLE §3.10). */
static volatile unsigned int lens[] = {64, 4096};
static volatile unsigned int batches[] = {1, 32};

/* An out-of-line memcpy, as the core's default copy is an indirect call too. */
static void *(*volatile baseline_copy)(void *, const void *, size_t) = memcpy;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
read_machine(struct bench *b)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(b->cpu, sizeof(b->cpu), "unknown");
	snprintf(b->governor, sizeof(b->governor), "unknown");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *colon = strchr(line, ':');

			if (strncmp(line, "model name", 10) != 0 || colon == NULL)
				continue;
			colon += 2;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(b->cpu, sizeof(b->cpu), "%.127s", colon);
			break;
		}
		fclose(f);
	}
	f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "r");
	if (f != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(b->governor, sizeof(b->governor), "%.63s", line);
		}
		fclose(f);
	}
	b->sha = getenv("GNTDP_GIT_SHA");
	if (b->sha == NULL || b->sha[0] == '\0')
		b->sha = BENCH_GIT_SHA;
}

static const char *
compiler(void)
{
#if defined(__clang__)
	return "clang " __clang_version__;
#elif defined(__GNUC__)
	return "gcc " __VERSION__;
#else
	return "unknown";
#endif
}

/* Characters that need no escaping in a JSON string: replace the rest. */
static void
json_safe(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			*s = '_';
}

static int
bench_setup(struct bench *b)
{
	struct gntdp_gnttab_conf conf;
	struct gntdp_domain_conf dc;
	struct gntdp_grant_entry_v1 *ent;
	uint32_t nr;
	int rc;

	gntdp_gnttab_conf_init(&conf);
	if ((rc = gntdp_gnttab_create(&conf, &b->gt)) != 0)
		return rc;
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_G;
	dc.nr_frames = NB_FRAMES;
	if ((rc = gntdp_domain_create(b->gt, &dc)) != 0)
		return rc;
	gntdp_domain_conf_init(&dc);
	dc.domid = DOM_B;
	dc.nr_frames = NB_FRAMES;
	dc.p2m_size = MAP_GFN_BASE + MAX_BATCH;
	if ((rc = gntdp_domain_create(b->gt, &dc)) != 0)
		return rc;
	if ((rc = gntdp_gnttab_ctx_create(b->gt, NULL, &b->ctx)) != 0)
		return rc;
	if (b->version == 2) {
		struct gntdp_gnttab_set_version sv = {.version = 2};
		union gntdp_grant_entry_v2 *e2;
		gntdp_grant_status_t *st;

		if ((rc = gntdp_gnttab_op(b->ctx, DOM_G, GNTDP_GNTTABOP_SET_VERSION, &sv, 1)) != 0 ||
		    (rc = gntdp_guest_table_v2(b->gt, DOM_G, &e2, &st, &nr)) != 0)
			return rc;
		for (uint32_t i = 0; i < NB_FRAMES; i++)
			if ((rc = gntdp_guest_grant_access_v2(&e2[FIRST_REF + i], DOM_B, i,
							       false)) != 0)
				return rc;
	} else {
		if ((rc = gntdp_guest_table(b->gt, DOM_G, &ent, &nr)) != 0)
			return rc;
		for (uint32_t i = 0; i < NB_FRAMES; i++)
			if ((rc = gntdp_guest_grant_access(&ent[FIRST_REF + i], DOM_B, i, false)) !=
			    0)
				return rc;
	}
	b->g_ram = gntdp_domain_frame(b->gt, DOM_G, 0);
	b->b_ram = gntdp_domain_frame(b->gt, DOM_B, 0);
	for (uint32_t i = 0; i < NB_FRAMES; i++) {
		if ((uint8_t *)gntdp_domain_frame(b->gt, DOM_G, i) !=
			    b->g_ram + i * GNTDP_PAGE_SIZE ||
		    (uint8_t *)gntdp_domain_frame(b->gt, DOM_B, i) !=
			    b->b_ram + i * GNTDP_PAGE_SIZE)
			return -EINVAL; /* the baseline needs the frames' addresses */
		for (uint32_t k = 0; k < GNTDP_PAGE_SIZE; k++)
			b->g_ram[i * GNTDP_PAGE_SIZE + k] = (uint8_t)(i * 7 + k);
	}
	struct gntdp_gnttab_cache_conf cc = {.persistent = true, .nb_entries = 64};

	return gntdp_gnttab_ctx_create(b->gt, &cc, &b->pctx);
}

/* ---- Copy ------------------------------------------------------------------ */

struct copy_cfg {
	unsigned int len;
	unsigned int batch;
	bool distinct;
	bool persistent;
};

/* Op k of a batch: source frame/offset in G, destination frame/offset in B. */
static void
copy_layout(const struct copy_cfg *c, unsigned int k, uint32_t *frame, uint32_t *off)
{
	*frame = c->distinct ? k : 0;
	*off = c->len < GNTDP_PAGE_SIZE ? (k * c->len) % GNTDP_PAGE_SIZE : 0;
}

static int
verify_copy(struct bench *b, const struct copy_cfg *c, const struct gntdp_gnttab_copy *ops)
{
	for (unsigned int k = 0; k < MAX_BATCH; k++) {
		uint32_t f, off;

		copy_layout(c, k, &f, &off);
		if (ops[k].status != GNTDP_GNTST_OKAY) {
			fprintf(stderr, "copy len %u batch %u: op %u status %s\n", c->len, c->batch,
				k, gntdp_gntst_name(ops[k].status));
			return -1;
		}
		if (memcmp(b->b_ram + (size_t)f * GNTDP_PAGE_SIZE + off,
			   b->g_ram + (size_t)f * GNTDP_PAGE_SIZE + off, c->len) != 0) {
			fprintf(stderr, "copy len %u batch %u: op %u copied wrong bytes\n", c->len,
				c->batch, k);
			return -1;
		}
	}
	return 0;
}

/* @p t_copy and @p t_mem are sorted: [0] is the least disturbed repetition. */
static void
report_copy(struct bench *b, const struct copy_cfg *c, double *t_copy, double *t_mem,
	    const struct gntdp_gnttab_ctx_stats *st)
{
	double copy_ns = median(t_copy, b->reps), mem_ns = median(t_mem, b->reps);
	const char *refs = c->distinct ? "distinct" : "one";
	const char *cache = c->persistent ? "persistent" : "xen";

	if (b->json) {
		printf("{\"bench\":\"gnttab_copy\",\"len\":%u,\"batch\":%u,\"refs\":\"%s\","
		       "\"cache\":\"%s\",\"gt_version\":%u,\"copy_ns_per_op\":%.2f,\"memcpy_ns_per_op\":%.2f,"
		       "\"overhead_ns_per_op\":%.2f,\"ratio\":%.3f,"
		       "\"copy_ns_per_op_min\":%.2f,\"memcpy_ns_per_op_min\":%.2f,"
		       "\"cache_hits\":%" PRIu64 ",\"cache_misses\":%" PRIu64 ","
		       "\"reps\":%u,\"git\":\"%s\",\"cpu\":\"%s\",\"governor\":\"%s\","
		       "\"compiler\":\"%s\",\"dpdk\":\"none\"}\n",
		       c->len, c->batch, refs, cache, b->version, copy_ns, mem_ns, copy_ns - mem_ns,
		       copy_ns / mem_ns, t_copy[0], t_mem[0], st->cache_hits, st->cache_misses,
		       b->reps, b->sha, b->cpu, b->governor, compiler());
		return;
	}
	printf("copy v%u %5u B  batch %2u  %-8s  %-10s  %8.2f ns/op  memcpy %7.2f ns/op  "
	       "overhead %7.2f ns  x%.2f\n",
	       b->version, c->len, c->batch, refs, cache, copy_ns, mem_ns, copy_ns - mem_ns,
	       copy_ns / mem_ns);
}

static void
bench_copy(struct bench *b, const struct copy_cfg *c)
{
	struct gntdp_gnttab_copy ops[MAX_BATCH];
	uint8_t *dst[MAX_BATCH];
	const uint8_t *src[MAX_BATCH];
	double t_copy[MAX_REPS], t_mem[MAX_REPS];
	struct gntdp_gnttab_ctx_stats s0, s1;
	/* About 2^20 ops of 64 B and 2^17 of 4 KiB per repetition. */
	uint64_t nb_ops = (c->len <= 256 ? 1u << 20 : 1u << 17) / (b->quick ? 16u : 1u);
	uint64_t iters = nb_ops / c->batch;
	struct gntdp_gnttab_ctx *ctx = c->persistent ? b->pctx : b->ctx;
	int bad = 0;

	/*
	 * MAX_BATCH ops are laid out whatever the batch size; call i uses ops
	 * [i * batch % MAX_BATCH, + batch), so batch 1 with distinct refs still
	 * walks 32 grefs (and 32 offsets of one frame with one gref).
	 */
	for (unsigned int k = 0; k < MAX_BATCH; k++) {
		uint32_t f, off;

		copy_layout(c, k, &f, &off);
		memset(&ops[k], 0, sizeof(ops[k]));
		ops[k].source.u.ref = FIRST_REF + f;
		ops[k].source.domid = DOM_G;
		ops[k].source.offset = (uint16_t)off;
		ops[k].dest.u.gmfn = f;
		ops[k].dest.domid = GNTDP_DOMID_SELF;
		ops[k].dest.offset = (uint16_t)off;
		ops[k].len = (uint16_t)c->len;
		ops[k].flags = GNTDP_GNTCOPY_SOURCE_GREF;
		src[k] = b->g_ram + (size_t)f * GNTDP_PAGE_SIZE + off;
		dst[k] = b->b_ram + (size_t)f * GNTDP_PAGE_SIZE + off;
	}
	memset(b->b_ram, 0, (size_t)NB_FRAMES * GNTDP_PAGE_SIZE);
	gntdp_gnttab_ctx_stats(ctx, &s0);
	/* Repetition 0 is the warm-up; copy and baseline alternate so drift hits both. */
	for (unsigned int r = 0; r <= b->reps; r++) {
		uint64_t t0 = now_ns();

		for (uint64_t i = 0; i < iters; i++)
			bad |= gntdp_gnttab_op(ctx, DOM_B, GNTDP_GNTTABOP_COPY,
					       &ops[(i * c->batch) % MAX_BATCH], c->batch);
		uint64_t t1 = now_ns();

		for (uint64_t i = 0; i < iters; i++) {
			unsigned int first = (unsigned int)((i * c->batch) % MAX_BATCH);

			for (unsigned int k = first; k < first + c->batch; k++)
				baseline_copy(dst[k], src[k], c->len);
		}
		uint64_t t2 = now_ns();

		if (r > 0) {
			t_copy[r - 1] = (double)(t1 - t0) / (double)(iters * c->batch);
			t_mem[r - 1] = (double)(t2 - t1) / (double)(iters * c->batch);
		}
	}
	gntdp_gnttab_ctx_stats(ctx, &s1);
	s1.cache_hits -= s0.cache_hits;
	s1.cache_misses -= s0.cache_misses;
	memset(b->b_ram, 0, (size_t)NB_FRAMES * GNTDP_PAGE_SIZE);
	if (bad != 0 || gntdp_gnttab_op(ctx, DOM_B, GNTDP_GNTTABOP_COPY, ops, MAX_BATCH) != 0 ||
	    verify_copy(b, c, ops) != 0)
		b->failures++;
	/* Persistent pins would block the guest forever: drop them between configurations. */
	gntdp_gnttab_ctx_expire(ctx, UINT64_MAX);
	gntdp_gnttab_ctx_quiescent(ctx);
	report_copy(b, c, t_copy, t_mem, &s1);
}

/* ---- Map + unmap ----------------------------------------------------------- */

static void
bench_map(struct bench *b, bool distinct)
{
	struct gntdp_gnttab_map_grant_ref m[MAX_BATCH];
	struct gntdp_gnttab_unmap_grant_ref u[MAX_BATCH];
	double t[MAX_REPS];
	uint64_t iters = (1u << 15) / (b->quick ? 16u : 1u); /* x 32 pairs */
	int bad = 0;

	for (unsigned int k = 0; k < MAX_BATCH; k++) {
		memset(&m[k], 0, sizeof(m[k]));
		m[k].ref = FIRST_REF + (distinct ? k : 0);
		m[k].dom = DOM_G;
		m[k].flags = GNTDP_GNTMAP_HOST_MAP;
		m[k].host_addr = (uint64_t)(MAP_GFN_BASE + k) << GNTDP_PAGE_SHIFT;
		memset(&u[k], 0, sizeof(u[k]));
		u[k].host_addr = m[k].host_addr;
	}
	for (unsigned int r = 0; r <= b->reps; r++) {
		uint64_t t0 = now_ns();

		for (uint64_t i = 0; i < iters; i++) {
			bad |= gntdp_gnttab_op(b->ctx, DOM_B, GNTDP_GNTTABOP_MAP_GRANT_REF, m,
					       MAX_BATCH);
			/* The handles feed the unmaps, as in any backend. */
			for (unsigned int k = 0; k < MAX_BATCH; k++) {
				u[k].handle = m[k].handle;
				bad |= m[k].status;
			}
			bad |= gntdp_gnttab_op(b->ctx, DOM_B, GNTDP_GNTTABOP_UNMAP_GRANT_REF, u,
					       MAX_BATCH);
			for (unsigned int k = 0; k < MAX_BATCH; k++)
				bad |= u[k].status;
		}
		if (r > 0)
			t[r - 1] = (double)(now_ns() - t0) / (double)(iters * MAX_BATCH);
	}
	if (bad != 0) {
		fprintf(stderr, "map+unmap (%s refs): a call or op failed\n",
			distinct ? "distinct" : "one");
		b->failures++;
	}
	double ns = median(t, b->reps);

	if (b->json)
		printf("{\"bench\":\"gnttab_map_unmap\",\"batch\":%u,\"refs\":\"%s\",\"flags\":"
		       "\"host_map\",\"ns_per_pair\":%.2f,\"mpairs_per_s\":%.3f,\"reps\":%u,"
		       "\"git\":\"%s\",\"cpu\":\"%s\",\"governor\":\"%s\",\"compiler\":\"%s\","
		       "\"dpdk\":\"none\"}\n",
		       MAX_BATCH, distinct ? "distinct" : "one", ns, 1e3 / ns, b->reps, b->sha,
		       b->cpu, b->governor, compiler());
	else
		printf("map+unmap host_map batch %u  %-8s  %8.2f ns/pair  %7.2f Mpairs/s\n",
		       MAX_BATCH, distinct ? "distinct" : "one", ns, 1e3 / ns);
}

/* ---- main ------------------------------------------------------------------ */

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--quick] [--json] [--reps N] [--version 1|2] [--only copy|map]\n",
		prog);
}

int
main(int argc, char **argv)
{
	static struct bench b;
	const char *only = NULL;
	int rc;

	b.reps = 5;
	b.version = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			b.quick = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			b.json = true;
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);

			if (*end != '\0' || v == 0 || v > MAX_REPS) {
				usage(argv[0]);
				return 1;
			}
			b.reps = (unsigned int)v;
		} else if (strcmp(argv[i], "--version") == 0 && i + 1 < argc) {
			b.version = (unsigned int)strtoul(argv[++i], NULL, 10);
			if (b.version != 1 && b.version != 2) {
				usage(argv[0]);
				return 1;
			}
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else {
			usage(argv[0]);
			return 1;
		}
	}
	read_machine(&b);
	json_safe(b.cpu);
	json_safe(b.governor);
	rc = bench_setup(&b);
	if (rc != 0) {
		fprintf(stderr, "setup failed: %d\n", rc);
		return 1;
	}
	if (!b.json)
		printf("gnttab_bench: %s, git %s, %s, governor %s, v%u tables, median of %u%s\n",
		       b.cpu, b.sha, compiler(), b.governor, b.version, b.reps,
		       b.quick ? " (quick)" : "");
	if (only == NULL || strcmp(only, "copy") == 0)
		for (unsigned int p = 0; p < 2; p++)
			for (unsigned int li = 0; li < 2; li++)
				for (unsigned int bi = 0; bi < 2; bi++)
					for (unsigned int d = 0; d < 2; d++) {
						struct copy_cfg c = {lens[li], batches[bi], d != 0,
								     p != 0};

						bench_copy(&b, &c);
					}
	if (only == NULL || strcmp(only, "map") == 0) {
		bench_map(&b, false);
		bench_map(&b, true);
	}
	gntdp_gnttab_ctx_destroy(b.ctx);
	gntdp_gnttab_ctx_destroy(b.pctx);
	gntdp_gnttab_destroy(b.gt);
	if (b.failures != 0) {
		fprintf(stderr, "%d configuration(s) failed their checks\n", b.failures);
		return 1;
	}
	return 0;
}
