/* SPDX-License-Identifier: MIT */
/*
 * gntdp-bench's configuration: its key table for the app layer's config
 * engine (apps/common/app.h), which gives the defaults, the parsing, the
 * range checks, --help and the effective-config printout, and the checks
 * across keys. The data-plane keys are the shared APP_DP_KEY_* ones; the
 * [queues] keys are gntdp-bench's own: they size its hypercall rings and
 * its posts, and set nothing in the data plane's conf.
 *
 * Every rejected value is reported as
 *   FILE:LINE: [section] key = 'value': reason
 * (--set or the option in place of FILE:LINE; "(default)" for a default).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "bench.h"

static const char *const invalid_names[INV_COUNT] = {
	[INV_BAD_REF] = "bad_ref",
	[INV_CROSS_PAGE] = "cross_page",
	[INV_RO_DEST] = "ro_dest",
	[INV_FOREIGN_FRAME] = "foreign_frame",
	[INV_LEN0] = "len0",
	[INV_BAD_DOMAIN] = "bad_domain",
	[INV_MAP_NOFLAGS] = "map_noflags",
	[INV_BAD_HANDLE] = "bad_handle",
};

const char *
invalid_kind_name(enum invalid_kind k)
{
	return (unsigned int)k < INV_COUNT ? invalid_names[k] : "?";
}

/* The engine's state, for the checks that run after it (scenario.c, EAL lcores). */
static const struct app_cfg *bench_cfg;

/* ---- list values ---- */

#define LIST_ITEM_MAX 64

/* Split a comma list into trimmed items; calls fn for each. */
static int
for_each_item(const char *s, int (*fn)(void *ctx, const char *item, char *why, size_t wl),
	      void *ctx, char *why, size_t wl)
{
	char buf[LIST_ITEM_MAX];
	int n = 0;

	while (*s != '\0') {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char *p = buf, *e;

		if (len >= sizeof(buf)) {
			snprintf(why, wl, "list item too long");
			return -EINVAL;
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		e = buf + len;
		while (isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*p == '\0') {
			snprintf(why, wl, "empty item in list");
			return -EINVAL;
		}
		if (fn(ctx, p, why, wl) < 0)
			return -EINVAL;
		n++;
		s += len;
		if (*s == ',')
			s++;
	}
	if (n == 0) {
		snprintf(why, wl, "empty list");
		return -EINVAL;
	}
	return 0;
}

struct list_ctx {
	const struct app_key *k;
	unsigned int n;
	unsigned int cap;
	uint32_t vals[BENCH_MAX_LCORES];
	uint32_t mask;
};

static int
list_add(struct list_ctx *c, uint64_t v, char *why, size_t wl)
{
	for (unsigned int i = 0; i < c->n; i++) {
		if (c->vals[i] == v) {
			snprintf(why, wl, "value listed twice");
			return -EINVAL;
		}
	}
	if (c->n == c->cap) {
		snprintf(why, wl, "too many values (at most %u)", c->cap);
		return -EINVAL;
	}
	c->vals[c->n++] = (uint32_t)v;
	return 0;
}

static int
sizes_item(void *ctx, const char *item, char *why, size_t wl)
{
	struct list_ctx *c = ctx;
	uint64_t v;

	if (app_parse_u64(item, c->k->min, c->k->max, &v, why, wl) < 0)
		return -EINVAL;
	return list_add(c, v, why, wl);
}

static int
lcores_item(void *ctx, const char *item, char *why, size_t wl)
{
	struct list_ctx *c = ctx;
	char lo_s[32];
	const char *dash = strchr(item, '-');
	uint64_t lo, hi;

	if (dash == NULL)
		return sizes_item(ctx, item, why, wl);
	if ((size_t)(dash - item) >= sizeof(lo_s)) {
		snprintf(why, wl, "bad lcore range");
		return -EINVAL;
	}
	memcpy(lo_s, item, (size_t)(dash - item));
	lo_s[dash - item] = '\0';
	if (app_parse_u64(lo_s, c->k->min, c->k->max, &lo, why, wl) < 0 ||
	    app_parse_u64(dash + 1, c->k->min, c->k->max, &hi, why, wl) < 0)
		return -EINVAL;
	if (lo > hi) {
		snprintf(why, wl, "lcore range goes downwards");
		return -EINVAL;
	}
	for (uint64_t v = lo; v <= hi; v++) {
		if (list_add(c, v, why, wl) < 0)
			return -EINVAL;
	}
	return 0;
}

static int
invalid_item(void *ctx, const char *item, char *why, size_t wl)
{
	struct list_ctx *c = ctx;

	if (strcasecmp(item, "all") == 0) {
		c->mask = (1u << INV_COUNT) - 1;
		return 0;
	}
	for (unsigned int i = 0; i < INV_COUNT; i++) {
		if (strcasecmp(item, invalid_names[i]) == 0) {
			c->mask |= 1u << i;
			return 0;
		}
	}
	snprintf(why, wl, "unknown invalid kind (bad_ref cross_page ro_dest foreign_frame len0 "
			  "bad_domain map_noflags bad_handle all)");
	return -EINVAL;
}

/* [ops] copy_sizes: uint16_t list at off, count at off2. */
static int
parse_sizes(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	struct list_ctx lc = {.k = k, .cap = BENCH_MAX_SIZES};

	if (for_each_item(v, sizes_item, &lc, why, wl) < 0)
		return -EINVAL;
	for (unsigned int i = 0; i < lc.n; i++)
		((uint16_t *)(void *)((char *)base + k->off))[i] = (uint16_t)lc.vals[i];
	*(unsigned int *)(void *)((char *)base + k->off2) = lc.n;
	return 0;
}

/* A list of n uint16_t (elem 2) or unsigned int values, comma separated. */
static void
print_uints(const void *v, size_t elem, unsigned int n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%u", i ? "," : "",
				      elem == 2 ? ((const uint16_t *)v)[i]
						: ((const unsigned int *)v)[i]);
}

static void
print_sizes(const struct app_key *k, const void *base, char *buf, size_t len)
{
	print_uints((const char *)base + k->off, 2,
		    *(const unsigned int *)(const void *)((const char *)base + k->off2), buf, len);
}

/* lcore lists: unsigned int list at off, count at off2 (the empty list is the default). */
static int
parse_lcores(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	struct list_ctx lc = {.k = k, .cap = BENCH_MAX_LCORES};

	if (for_each_item(v, lcores_item, &lc, why, wl) < 0)
		return -EINVAL;
	memcpy((char *)base + k->off, lc.vals, lc.n * sizeof(lc.vals[0]));
	*(unsigned int *)(void *)((char *)base + k->off2) = lc.n;
	return 0;
}

static void
print_lcores(const struct app_key *k, const void *base, char *buf, size_t len)
{
	print_uints((const char *)base + k->off, sizeof(unsigned int),
		    *(const unsigned int *)(const void *)((const char *)base + k->off2), buf, len);
}

static int
parse_invalid(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	struct list_ctx lc = {.k = k};

	if (for_each_item(v, invalid_item, &lc, why, wl) < 0)
		return -EINVAL;
	*(uint32_t *)(void *)((char *)base + k->off) = lc.mask;
	return 0;
}

static void
print_invalid(const struct app_key *k, const void *base, char *buf, size_t len)
{
	uint32_t mask = *(const uint32_t *)(const void *)((const char *)base + k->off);
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0, n = 0; i < INV_COUNT && o < len; i++) {
		if (mask & (1u << i))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", n++ ? "," : "",
					      invalid_names[i]);
	}
}

/*
 * [queues] interface: "hcall" (every queue is a hypercall ring), kept so
 * that old configs and command lines still load; "queue" named the per-op
 * queue, which is retired (docs/hcall.md). The key has no field.
 */
static int
parse_interface(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	(void)k;
	(void)base;
	if (strcmp(v, "hcall") == 0)
		return 0;
	if (strcmp(v, "queue") == 0)
		snprintf(why, wl,
			 "the per-op queue is retired (docs/hcall.md); use interface = hcall "
			 "or leave the key out");
	else
		snprintf(why, wl, "unknown value (hcall)");
	return -EINVAL;
}

static void
print_interface(const struct app_key *k, const void *base, char *buf, size_t len)
{
	(void)k;
	(void)base;
	snprintf(buf, len, "hcall");
}

/* [run] rate: "12.5" = 12.5 M requests/s (at off); "50%" = half the calibrated peak (off2). */
static int
parse_rate(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	struct app_key num = {.type = APP_KT_DOUBLE, .dmin = 0, .dmax = k->dmax};
	double *mops = (void *)((char *)base + k->off), *pct = (void *)((char *)base + k->off2);
	char buf[64], pv[sizeof(buf)];
	size_t n = strlen(v);
	int rc;

	if (n > 0 && v[n - 1] == '%') {
		if (n >= sizeof(buf)) {
			snprintf(why, wl, "value too long");
			return -EINVAL;
		}
		memcpy(pv, v, n - 1);
		pv[n - 1] = '\0';
		num.dmax = 100;
		snprintf(buf, sizeof(buf), "%s", pv);
		rc = app_cfg_parse_value(&num, pct, buf, why, wl);
		if (rc < 0)
			return rc;
		if (*pct == 0) {
			snprintf(why, wl, "a percentage of the peak must be above 0");
			return -EINVAL;
		}
		*mops = 0;
		return 0;
	}
	rc = app_cfg_parse_value(&num, mops, v, why, wl);
	if (rc == 0)
		*pct = 0;
	return rc;
}

static void
print_rate(const struct app_key *k, const void *base, char *buf, size_t len)
{
	double mops = *(const double *)(const void *)((const char *)base + k->off);
	double pct = *(const double *)(const void *)((const char *)base + k->off2);

	if (pct > 0)
		snprintf(buf, len, "%g%%", pct);
	else
		snprintf(buf, len, "%g", mops);
}

#define F(field) offsetof(struct scenario, field)
#define U(sec, key, field, lo, hi, d, h)                                                       \
	{.section = sec, .name = key, .type = APP_KT_UINT, .off = F(field), .min = lo, .max = hi, \
	 .def = d, .help = h}
#define D(sec, key, field, hi, d, h)                                                           \
	{.section = sec, .name = key, .type = APP_KT_DOUBLE, .off = F(field), .dmax = hi,        \
	 .def = d, .help = h}
#define B(sec, key, field, d, h)                                                               \
	{.section = sec, .name = key, .type = APP_KT_BOOL, .off = F(field), .def = d, .help = h}
#define LIST(sec, key, field, count, fn, lo, hi, d, h)                                         \
	{.section = sec, .name = key, .type = APP_KT_CUSTOM, .off = F(field), .off2 = F(count),  \
	 .min = lo, .max = hi, .def = d, .help = h, .parse = parse_##fn, .print = print_##fn}

static const struct app_key keys[] = {
	D("run", "duration", duration_s, 86400, "5", "seconds to measure (0: ops only)"),
	{.section = "run", .name = "ops", .type = APP_KT_U64, .off = F(ops), .max = UINT64_MAX / 2,
	 .def = "0", .help = "requests to complete (0: duration only)"},
	B("run", "verify", verify, "on", "check statuses, exactly-once, copied bytes"),
	{.section = "run", .name = "rate", .type = APP_KT_CUSTOM, .off = F(rate_mops),
	 .off2 = F(rate_pct), .dmax = 1000, .def = "0", .parse = parse_rate, .print = print_rate,
	 .help = "offered load: M requests/s, or N% of a calibrated peak (0: max)"},
	D("run", "calibrate", calib_s, 60, "1", "seconds of the peak run for rate N%"),
	D("run", "warmup", warmup_s, 60, "0.2", "untimed seconds before measuring"),
	B("run", "progress", progress, "on", "progress line every second"),
	B("run", "raw_copy", raw_copy, "on", "also time a raw copy of the same frames"),
	{.section = "run", .name = "seed", .type = APP_KT_U64, .off = F(seed), .max = UINT64_MAX,
	 .def = "1", .help = "pattern and op-mix seed"},
	{.section = "run", .name = "inject_fault", .type = APP_KT_U64, .off = F(inject_fault),
	 .max = UINT64_MAX, .def = "0",
	 .help = "test hook: corrupt the N-th checked copy's destination (0: off)"},
	{.section = "connect", .name = "socket", .type = APP_KT_STR, .off = F(connect), .min = 0,
	 .max = sizeof(((struct scenario *)0)->connect) - 1, .def = "",
	 .help = "gntdpd's socket: each domain a client process (\"\": in process)"},
	U("domains", "frontends", nb_frontends, 1, 1000, "2", "granting guests"),
	U("domains", "backends", nb_backends, 1, 64, "1", "driver domains issuing ops"),
	U("domains", "frames", frames, 2, 1u << 20, "2048", "RAM frames per frontend"),
	U("domains", "backend_frames", backend_frames, 1, 1u << 20, "1024",
	  "RAM frames per backend"),
	U("domains", "grant_frames", grant_frames, 1, GNTDP_MAX_GRANT_FRAMES_LIMIT, "8",
	  "max grant frames per domain"),
	U("domains", "maptrack_frames", maptrack_frames, 1, GNTDP_MAX_MAPTRACK_FRAMES_LIMIT, "64",
	  "max maptrack frames per backend"),
	LIST("workers", "lcores", worker_lcores, nb_workers, lcores, 0, BENCH_MAX_LCORES - 1, NULL,
	     "worker lcore ids (default: every EAL worker lcore)"),
	APP_DP_KEY_CACHE("workers", struct scenario, cache),
	APP_DP_KEY_CACHE_ENTRIES("workers", struct scenario, cache_entries),
	APP_DP_KEY_HOLD_US("workers", struct scenario, hold_us),
	APP_DP_KEY_IDLE_SLEEP_US("workers", struct scenario, idle_sleep_us),
	APP_DP_KEY_IDLE_AFTER_US("workers", struct scenario, idle_after_us),
	APP_DP_KEY_COPY("workers", struct scenario, copy_kernel),
	LIST("clients", "lcores", client_lcores, nb_clients, lcores, 0, BENCH_MAX_LCORES - 1, NULL,
	     "client lcore ids (default: the main lcore)"),
	{.section = "queues", .name = "interface", .type = APP_KT_CUSTOM, .def = "hcall",
	 .parse = parse_interface, .print = print_interface,
	 .help = "hcall only, for old configs: every queue is a hypercall ring (queue: retired)"},
	U("queues", "per_backend", queues_per_backend, 1, 64, "1", "hypercall rings per backend"),
	{.section = "queues", .name = "ring_size", .type = APP_KT_UINT, .off = F(ring_size),
	 .min = 2, .max = GNTDP_HCALL_RING_MAX_ENTRIES, .flags = APP_KF_POW2, .def = "1024",
	 .help = "SQ and CQ entries per hypercall ring (power of two)"},
	U("queues", "burst", burst, 1, BENCH_MAX_POST, "32",
	  "ops a client posts at once: one hypercall per run of one command"),
	U("queues", "depth", depth, 0, 1u << 16, "128",
	  "max in flight per queue = working set (0: ring_size)"),
	LIST("ops", "copy_sizes", copy_sizes, nb_sizes, sizes, 1, GNTDP_PAGE_SIZE, "1500",
	     "copy lengths, used in turn"),
	{.section = "ops", .name = "src_offset", .type = APP_KT_U16, .off = F(src_offset),
	 .max = GNTDP_PAGE_SIZE - 1, .def = "0", .help = "source page offset"},
	{.section = "ops", .name = "dst_offset", .type = APP_KT_U16, .off = F(dst_offset),
	 .max = GNTDP_PAGE_SIZE - 1, .def = "0", .help = "destination page offset"},
	U("ops", "gref_to_gref", pct_gref_to_gref, 0, 100, "100",
	  "% of copies gref->gref (rest gref->frame)"),
	U("ops", "map_unmap", pct_map_unmap, 0, 100, "0", "% of requests map/unmap"),
	U("ops", "invalid", pct_invalid, 0, 100, "0", "% of requests deliberately invalid"),
	{.section = "ops", .name = "invalid_kinds", .type = APP_KT_CUSTOM, .off = F(invalid_mask),
	 .def = "all", .parse = parse_invalid, .print = print_invalid,
	 .help = "which invalid ops (or all)"},
};

static const struct app_section sections[] = {
	{.name = "run"}, {.name = "domains"}, {.name = "workers"},
	{.name = "clients"}, {.name = "queues"}, {.name = "ops"},
	{.name = "connect"},
};

static const struct app_cfg_desc cfg_desc = {
	.sections = sections,
	.nb_sections = sizeof(sections) / sizeof(sections[0]),
	.keys = keys,
	.nb_keys = sizeof(keys) / sizeof(keys[0]),
};

/* Options that set a config key: the same parser and range as the file. */
static const struct app_opt opts[] = {
	{"duration", 0, "S", "run.duration", "seconds to measure"},
	{"ops", 0, "N", "run.ops", "requests to complete"},
	{"rate", 0, "MOPS", "run.rate", "offered load (or N%)"},
	{"verify", 0, "on|off", "run.verify", "check every completion"},
	{"warmup", 0, "S", "run.warmup", "untimed seconds first"},
	{"progress", 0, "on|off", "run.progress", "progress line every second"},
	{"raw-copy", 0, "on|off", "run.raw_copy", "also time a raw copy"},
	{"seed", 0, "N", "run.seed", "pattern and op-mix seed"},
	{"inject-fault", 0, "N", "run.inject_fault", "test hook: corrupt the N-th checked copy"},
	{"connect", 0, "SOCKET", "connect.socket", "run against gntdpd, a process per domain"},
	{"frontends", 0, "N", "domains.frontends", "granting guests"},
	{"frames", 0, "N", "domains.frames", "RAM frames per frontend"},
	{"workers", 0, "LIST", "workers.lcores", "worker lcore ids"},
	{"cache", 0, "on|off", "workers.cache", "grant cache"},
	{"clients", 0, "LIST", "clients.lcores", "client lcore ids"},
	{"queues", 0, "N", "queues.per_backend", "hypercall rings per backend"},
	{"interface", 0, "hcall", "queues.interface", "hypercall ring (the only interface)"},
	{"ring-size", 0, "N", "queues.ring_size", "SQ and CQ entries per ring"},
	{"burst", 0, "N", "queues.burst", "ops per post"},
	{"sizes", 0, "LIST", "ops.copy_sizes", "copy lengths"},
	{"gref-to-gref", 0, "PCT", "ops.gref_to_gref", "% of copies gref->gref"},
	{"map-unmap", 0, "PCT", "ops.map_unmap", "% of requests map/unmap"},
	{"invalid", 0, "PCT", "ops.invalid", "% of requests invalid"},
};

/* Whether [section] name was given (by the file or the command line), not a default. */
static bool
key_given(const struct app_cfg *cfg, const char *section, const char *name)
{
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (strcmp(keys[k].section, section) == 0 && strcmp(keys[k].name, name) == 0)
			return cfg->origin[k * cfg->nb_inst].src != NULL;
	}
	return false;
}

/*
 * Connect mode: what cannot cross processes is refused, what belongs to
 * gntdpd is said to (docs/daemon.md "Benchmark against the daemon").
 */
static int
check_connect(struct app_cfg *cfg, struct scenario *sc)
{
	static const char *const daemon_keys[] = {"lcores", "cache", "cache_entries", "hold_us",
						  "copy"};
	char v[32];

	if (sc->connect[0] == '\0')
		return 0;
	if (sc->connect[0] != '/' && sc->connect[0] != '.')
		return scenario_bad(sc, "connect", "socket", NULL,
				    "a path to gntdpd's socket (absolute or ./relative)");
	snprintf(v, sizeof(v), "%u", sc->depth != 0 ? sc->depth : sc->ring_size);
	/* gntdpd gives a domain 65536 gfns above its RAM: the host maps' room. */
	if ((uint64_t)sc->queues_per_backend * (sc->depth != 0 ? sc->depth : sc->ring_size) > 65536)
		return scenario_bad(sc, "queues", "depth", v,
				    "per_backend x depth above 65536, gntdpd's room for host maps");
	for (size_t i = 0; i < sizeof(daemon_keys) / sizeof(daemon_keys[0]); i++) {
		if (key_given(cfg, "workers", daemon_keys[i]))
			APP_LOG(NOTICE,
				"gntdp-bench: [workers] %s is gntdpd's with --connect "
				"(its config); ignored here",
				daemon_keys[i]);
	}
	return 0;
}

static int
check(struct app_cfg *cfg)
{
	struct scenario *sc = cfg->conf;

	bench_cfg = cfg;
	snprintf(sc->config_path, sizeof(sc->config_path), "%s", cfg->path);
	if (check_connect(cfg, sc) < 0)
		return -EINVAL;
	return scenario_validate(sc);
}

static bool
want_eal(const void *conf)
{
	/* Connect mode: gntdpd has the EAL; neither this process nor its children start one. */
	return ((const struct scenario *)conf)->connect[0] == '\0';
}

const struct app_desc bench_app = {
	.name = "gntdp-bench",
	.logtype = "gntdp.bench",
	.synopsis = "[EAL args] -- [--config FILE] [--set SECTION.KEY=VALUE] [--json] [options]\n"
		    "       gntdp-bench --connect SOCKET [--config FILE] [options]   (no EAL)",
	.about = "The verified benchmark of the data plane (README.md, docs/testing.md).",
	.cfg = &cfg_desc,
	.opts = opts,
	.nb_opts = sizeof(opts) / sizeof(opts[0]),
	.json = APP_JSON_STDOUT,
	.check = check,
	.want_eal = want_eal,
};

/* One cross-field error, in the same "ORIGIN: [section] key = value" shape. */
int
scenario_bad(const struct scenario *sc, const char *sec, const char *key, const char *val,
	     const char *why)
{
	(void)sc;
	return app_cfg_bad(bench_cfg, sec, key, val, why);
}

static bool
is_pow2(unsigned int v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int
scenario_validate(const struct scenario *sc)
{
	unsigned int depth = sc->depth != 0 ? sc->depth : sc->ring_size;
	uint64_t need = (uint64_t)sc->queues_per_backend * depth;
	char v[32];

	/* ring_size (at most 32768, a ring's most entries) and cache_entries: by the key table. */
	snprintf(v, sizeof(v), "%u", sc->depth);
	if (!is_pow2(depth))
		return scenario_bad(sc, "queues", "depth", v, "not a power of two");
	if (depth > sc->ring_size)
		return scenario_bad(sc, "queues", "depth", v, "above ring_size");
	/* A client posts whole bursts only: it needs room for one. */
	if (depth < sc->burst)
		return scenario_bad(sc, "queues", "depth", v, "below burst");
	snprintf(v, sizeof(v), "%u", sc->pct_invalid);
	if (sc->pct_map_unmap + sc->pct_invalid > 100)
		return scenario_bad(sc, "ops", "invalid", v, "map_unmap + invalid exceed 100 %");
	if (sc->pct_invalid > 0 && sc->invalid_mask == 0)
		return scenario_bad(sc, "ops", "invalid", v, "no invalid_kinds selected");
	for (unsigned int i = 0; i < sc->nb_sizes; i++) {
		snprintf(v, sizeof(v), "%u", sc->copy_sizes[i]);
		if (sc->src_offset + sc->copy_sizes[i] > GNTDP_PAGE_SIZE)
			return scenario_bad(sc, "ops", "copy_sizes", v,
					    "src_offset + size cross the page");
		if (sc->dst_offset + sc->copy_sizes[i] > GNTDP_PAGE_SIZE)
			return scenario_bad(sc, "ops", "copy_sizes", v,
					    "dst_offset + size cross the page");
	}
	/* Slot i of each queue owns TX frame i and RX frame i; TX and RX take half the RAM each. */
	snprintf(v, sizeof(v), "%u", sc->frames);
	if (sc->frames / 2 < need)
		return scenario_bad(sc, "domains", "frames", v,
				    "need 2 x per_backend x depth frames");
	snprintf(v, sizeof(v), "%u", sc->backend_frames);
	if (sc->backend_frames < need)
		return scenario_bad(sc, "domains", "backend_frames", v,
				    "need per_backend x depth frames");
	snprintf(v, sizeof(v), "%u", sc->maptrack_frames);
	if (sc->pct_map_unmap > 0 &&
	    (uint64_t)sc->maptrack_frames * GNTDP_MAPTRACK_PER_FRAME < need)
		return scenario_bad(sc, "domains", "maptrack_frames", v,
				    "need per_backend x depth handles (256 per frame)");
	snprintf(v, sizeof(v), "%u", sc->grant_frames);
	if ((uint64_t)sc->grant_frames * GNTDP_GRANT_ENTRIES_PER_FRAME_V1 <
	    GNTDP_GNTTAB_NR_RESERVED_ENTRIES + (uint64_t)sc->frames)
		return scenario_bad(
			sc, "domains", "grant_frames", v,
			"too small to grant every frame (512 entries per frame, 8 reserved)");
	if (sc->nb_frontends < sc->nb_backends) {
		snprintf(v, sizeof(v), "%u", sc->nb_frontends);
		return scenario_bad(sc, "domains", "frontends", v, "fewer frontends than backends");
	}
	if (sc->duration_s == 0 && sc->ops == 0)
		return scenario_bad(sc, "run", "duration", "0",
				    "duration and ops are both 0: endless run");
	return 0;
}

void
scenario_print(const struct scenario *sc, FILE *f)
{
	(void)sc;
	app_cfg_print(bench_cfg, f);
}
