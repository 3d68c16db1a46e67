/* SPDX-License-Identifier: MIT */
/*
 * Scenario configuration: defaults, the INI file (read with rte_cfgfile) and
 * the command line, all through one table of keys so that a file key and its
 * command-line override share the parser, the range and the error message.
 *
 * Every rejected value is reported as
 *   FILE: [section] key = 'value': reason
 * so the user can find the line without counting. rte_cfgfile reports no
 * line numbers and silently drops lines it cannot parse, so a small pre-pass
 * checks the syntax line by line first.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "bench.h"

enum key_type {
	KT_UINT,    /* unsigned integer in [min, max] */
	KT_U16,     /* the same, stored in a uint16_t */
	KT_U64,     /* unsigned 64-bit in [min, max] */
	KT_DOUBLE,  /* non-negative real, at most max */
	KT_BOOL,    /* on/off, yes/no, true/false, 1/0 */
	KT_SIZES,   /* comma list of copy sizes */
	KT_LCORES,  /* comma list of lcore ids, ranges a-b allowed */
	KT_INVALID, /* comma list of invalid kinds, or "all" */
	KT_STRING,  /* identifier, at most max characters */
	KT_RATE,    /* M requests/s, or N% of a calibrated peak */
};

struct key_desc {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off;  /* field in struct scenario */
	size_t off2; /* count field for lists */
	uint64_t min;
	uint64_t max;
	const char *help;
};

#define F(field) offsetof(struct scenario, field)

static const struct key_desc keys[] = {
	{"run", "duration", KT_DOUBLE, F(duration_s), 0, 0, 86400,
	 "seconds to measure (0: ops only)"},
	{"run", "ops", KT_U64, F(ops), 0, 0, UINT64_MAX / 2,
	 "requests to complete (0: duration only)"},
	{"run", "verify", KT_BOOL, F(verify), 0, 0, 1,
	 "check statuses, exactly-once, copied bytes"},
	{"run", "rate", KT_RATE, F(rate_mops), F(rate_pct), 0, 1000,
	 "offered load: M requests/s, or N% of a calibrated peak (0: max)"},
	{"run", "calibrate", KT_DOUBLE, F(calib_s), 0, 0, 60,
	 "seconds of the peak run for rate N%"},
	{"run", "warmup", KT_DOUBLE, F(warmup_s), 0, 0, 60, "untimed seconds before measuring"},
	{"run", "progress", KT_BOOL, F(progress), 0, 0, 1, "progress line every second"},
	{"run", "raw_copy", KT_BOOL, F(raw_copy), 0, 0, 1,
	 "also time a raw copy of the same frames"},
	{"run", "seed", KT_U64, F(seed), 0, 0, UINT64_MAX, "pattern and op-mix seed"},
	{"domains", "frontends", KT_UINT, F(nb_frontends), 0, 1, 1000, "granting guests"},
	{"domains", "backends", KT_UINT, F(nb_backends), 0, 1, 64, "driver domains issuing ops"},
	{"domains", "frames", KT_UINT, F(frames), 0, 2, 1u << 20, "RAM frames per frontend"},
	{"domains", "backend_frames", KT_UINT, F(backend_frames), 0, 1, 1u << 20,
	 "RAM frames per backend"},
	{"domains", "grant_frames", KT_UINT, F(grant_frames), 0, 1, GNTDP_MAX_GRANT_FRAMES_LIMIT,
	 "max grant frames per domain"},
	{"domains", "maptrack_frames", KT_UINT, F(maptrack_frames), 0, 1,
	 GNTDP_MAX_MAPTRACK_FRAMES_LIMIT, "max maptrack frames per backend"},
	{"workers", "lcores", KT_LCORES, F(worker_lcores), F(nb_workers), 0, BENCH_MAX_LCORES - 1,
	 "worker lcore ids"},
	{"workers", "cache", KT_BOOL, F(cache), 0, 0, 1, "persistent per-lcore grant cache"},
	{"workers", "cache_entries", KT_UINT, F(cache_entries), 0, 2, 4096,
	 "grant cache entries (power of two)"},
	{"workers", "hold_us", KT_UINT, F(hold_us), 0, 0, 1000000, "cache pin hold bound, us"},
	{"workers", "copy", KT_STRING, F(copy_kernel), 0, 0, 31, "copy kernel (auto, avx512, ...)"},
	{"clients", "lcores", KT_LCORES, F(client_lcores), F(nb_clients), 0, BENCH_MAX_LCORES - 1,
	 "client lcore ids (default: the main lcore)"},
	{"queues", "per_backend", KT_UINT, F(queues_per_backend), 0, 1, 64, "queues per backend"},
	{"queues", "ring_size", KT_UINT, F(ring_size), 0, 2, 1u << 16,
	 "slots per ring (power of two)"},
	{"queues", "burst", KT_UINT, F(burst), 0, 1, GNTDP_DP_MAX_BURST,
	 "requests per post and per poll"},
	{"queues", "depth", KT_UINT, F(depth), 0, 0, 1u << 16,
	 "max in flight per queue = working set (0: ring_size)"},
	{"ops", "copy_sizes", KT_SIZES, F(copy_sizes), F(nb_sizes), 1, GNTDP_PAGE_SIZE,
	 "copy lengths, used in turn"},
	{"ops", "src_offset", KT_U16, F(src_offset), 0, 0, GNTDP_PAGE_SIZE - 1,
	 "source page offset"},
	{"ops", "dst_offset", KT_U16, F(dst_offset), 0, 0, GNTDP_PAGE_SIZE - 1,
	 "destination page offset"},
	{"ops", "gref_to_gref", KT_UINT, F(pct_gref_to_gref), 0, 0, 100,
	 "% of copies gref->gref (rest gref->frame)"},
	{"ops", "map_unmap", KT_UINT, F(pct_map_unmap), 0, 0, 100, "% of requests map/unmap"},
	{"ops", "invalid", KT_UINT, F(pct_invalid), 0, 0, 100,
	 "% of requests deliberately invalid"},
	{"ops", "invalid_kinds", KT_INVALID, F(invalid_mask), 0, 0, 0,
	 "which invalid ops (or all)"},
};

#define NB_KEYS (sizeof(keys) / sizeof(keys[0]))

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

void
scenario_defaults(struct scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->duration_s = 5.0;
	sc->verify = true;
	sc->warmup_s = 0.2;
	sc->progress = true;
	sc->raw_copy = true;
	sc->seed = 1;
	sc->nb_frontends = 2;
	sc->nb_backends = 1;
	sc->frames = 2048;
	sc->backend_frames = 1024;
	sc->grant_frames = 8;
	sc->maptrack_frames = 64;
	/* nb_workers and nb_clients 0: every EAL worker lcore works, the main lcore is the client.
	 */
	sc->cache = true;
	sc->cache_entries = 256;
	sc->hold_us = GNTDP_DP_DEFAULT_HOLD_US;
	snprintf(sc->copy_kernel, sizeof(sc->copy_kernel), "auto");
	sc->calib_s = 1.0;
	sc->queues_per_backend = 1;
	sc->ring_size = 1024;
	sc->burst = 32;
	sc->depth = 128;
	sc->nb_sizes = 1;
	sc->copy_sizes[0] = 1500;
	sc->pct_gref_to_gref = 100;
	sc->invalid_mask = (1u << INV_COUNT) - 1;
}

/* ---- value parsers: 0 or -EINVAL with *why set ---- */

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char **why)
{
	char *end;
	unsigned long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == '-' || *s == '+') {
		*why = "not an unsigned integer";
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s) {
		*why = errno == ERANGE ? "out of range" : "not an unsigned integer";
		return -EINVAL;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0') {
		*why = "trailing characters after the number";
		return -EINVAL;
	}
	if (v < min || v > max) {
		/* One message at a time on the control thread: a static buffer is enough. */
		static char buf[64];

		snprintf(buf, sizeof(buf), "out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
		*why = buf;
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_double(const char *s, double max, double *out, const char **why)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v)) {
		*why = "not a number";
		return -EINVAL;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0') {
		*why = "trailing characters after the number";
		return -EINVAL;
	}
	if (v < 0 || v > max) {
		static char buf[64];

		snprintf(buf, sizeof(buf), "out of range (0..%g)", max);
		*why = buf;
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, bool *out, const char **why)
{
	static const char *const yes[] = {"1", "on", "yes", "true"};
	static const char *const no[] = {"0", "off", "no", "false"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	*why = "expected on/off, yes/no, true/false or 1/0";
	return -EINVAL;
}

static int
parse_ident(const char *s, size_t max, char *out, const char **why)
{
	size_t n = strlen(s);

	if (n == 0 || n > max) {
		*why = "empty or too long";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') {
			*why = "not an identifier";
			return -EINVAL;
		}
	}
	memcpy(out, s, n + 1);
	return 0;
}

/* "12.5" = 12.5 M requests/s; "50%" = half of the peak a calibration run measures. */
static int
parse_rate(const char *s, double max, double *mops, double *pct, const char **why)
{
	char buf[64];
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '%') {
		if (n >= sizeof(buf)) {
			*why = "value too long";
			return -EINVAL;
		}
		memcpy(buf, s, n - 1);
		buf[n - 1] = '\0';
		if (parse_double(buf, 100, pct, why) < 0)
			return -EINVAL;
		if (*pct == 0) {
			*why = "a percentage of the peak must be above 0";
			return -EINVAL;
		}
		*mops = 0;
		return 0;
	}
	if (parse_double(s, max, mops, why) < 0)
		return -EINVAL;
	*pct = 0;
	return 0;
}

/* Split a comma list into trimmed items; calls fn for each. */
static int
for_each_item(const char *s, int (*fn)(void *ctx, const char *item, const char **why), void *ctx,
	      const char **why)
{
	char buf[CFG_VALUE_LEN];
	int n = 0;

	while (*s != '\0') {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char *p = buf, *e;

		if (len >= sizeof(buf)) {
			*why = "value too long";
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
			*why = "empty item in list";
			return -EINVAL;
		}
		if (fn(ctx, p, why) < 0)
			return -EINVAL;
		n++;
		s += len;
		if (*s == ',')
			s++;
	}
	if (n == 0) {
		*why = "empty list";
		return -EINVAL;
	}
	return 0;
}

struct list_ctx {
	const struct key_desc *k;
	unsigned int n;
	unsigned int cap;
	uint32_t vals[BENCH_MAX_LCORES];
	uint32_t mask;
};

static int
list_add(struct list_ctx *c, uint64_t v, const char **why)
{
	for (unsigned int i = 0; i < c->n; i++) {
		if (c->vals[i] == v) {
			*why = "value listed twice";
			return -EINVAL;
		}
	}
	if (c->n == c->cap) {
		*why = "too many values";
		return -EINVAL;
	}
	c->vals[c->n++] = (uint32_t)v;
	return 0;
}

static int
sizes_item(void *ctx, const char *item, const char **why)
{
	struct list_ctx *c = ctx;
	uint64_t v;

	if (parse_u64(item, c->k->min, c->k->max, &v, why) < 0)
		return -EINVAL;
	return list_add(c, v, why);
}

static int
lcores_item(void *ctx, const char *item, const char **why)
{
	struct list_ctx *c = ctx;
	char lo_s[32];
	const char *dash = strchr(item, '-');
	uint64_t lo, hi;

	if (dash == NULL)
		return sizes_item(ctx, item, why);
	if ((size_t)(dash - item) >= sizeof(lo_s)) {
		*why = "bad lcore range";
		return -EINVAL;
	}
	memcpy(lo_s, item, (size_t)(dash - item));
	lo_s[dash - item] = '\0';
	if (parse_u64(lo_s, c->k->min, c->k->max, &lo, why) < 0 ||
	    parse_u64(dash + 1, c->k->min, c->k->max, &hi, why) < 0)
		return -EINVAL;
	if (lo > hi) {
		*why = "lcore range goes downwards";
		return -EINVAL;
	}
	for (uint64_t v = lo; v <= hi; v++) {
		if (list_add(c, v, why) < 0)
			return -EINVAL;
	}
	return 0;
}

static int
invalid_item(void *ctx, const char *item, const char **why)
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
	*why = "unknown invalid kind (bad_ref cross_page ro_dest foreign_frame len0 bad_domain "
	       "map_noflags bad_handle all)";
	return -EINVAL;
}

/* Parse value into the field key k describes. */
static int
key_set(struct scenario *sc, const struct key_desc *k, const char *value, const char **why)
{
	char *base = (char *)sc;
	struct list_ctx lc = {.k = k};
	uint64_t v;

	switch (k->type) {
	case KT_UINT:
		if (parse_u64(value, k->min, k->max, &v, why) < 0)
			return -EINVAL;
		*(unsigned int *)(base + k->off) = (unsigned int)v;
		return 0;
	case KT_U16:
		if (parse_u64(value, k->min, k->max, &v, why) < 0)
			return -EINVAL;
		*(uint16_t *)(base + k->off) = (uint16_t)v;
		return 0;
	case KT_U64:
		if (parse_u64(value, k->min, k->max, &v, why) < 0)
			return -EINVAL;
		*(uint64_t *)(base + k->off) = v;
		return 0;
	case KT_DOUBLE:
		return parse_double(value, (double)k->max, (double *)(base + k->off), why);
	case KT_BOOL:
		return parse_bool(value, (bool *)(base + k->off), why);
	case KT_SIZES:
		lc.cap = BENCH_MAX_SIZES;
		if (for_each_item(value, sizes_item, &lc, why) < 0)
			return -EINVAL;
		for (unsigned int i = 0; i < lc.n; i++)
			((uint16_t *)(base + k->off))[i] = (uint16_t)lc.vals[i];
		*(unsigned int *)(base + k->off2) = lc.n;
		return 0;
	case KT_LCORES:
		lc.cap = BENCH_MAX_LCORES;
		if (for_each_item(value, lcores_item, &lc, why) < 0)
			return -EINVAL;
		memcpy(base + k->off, lc.vals, lc.n * sizeof(lc.vals[0]));
		*(unsigned int *)(base + k->off2) = lc.n;
		return 0;
	case KT_INVALID:
		if (for_each_item(value, invalid_item, &lc, why) < 0)
			return -EINVAL;
		*(uint32_t *)(base + k->off) = lc.mask;
		return 0;
	case KT_STRING:
		return parse_ident(value, (size_t)k->max, base + k->off, why);
	case KT_RATE:
		return parse_rate(value, (double)k->max, (double *)(base + k->off),
				  (double *)(base + k->off2), why);
	}
	*why = "internal: bad key type";
	return -EINVAL;
}

static const struct key_desc *
key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < NB_KEYS; i++) {
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static bool
section_known(const char *section)
{
	for (size_t i = 0; i < NB_KEYS; i++) {
		if (strcmp(keys[i].section, section) == 0)
			return true;
	}
	return false;
}

/*
 * Line-by-line syntax check: every line is blank, a ';' or '#' comment, a
 * [section] header or key = value inside a section. rte_cfgfile would drop a
 * line without '=' silently and reports other faults without the file name.
 */
static int
syntax_check(const char *path, FILE *fp)
{
	char line[1024];
	unsigned int lineno = 0;
	bool in_section = false;

	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line, *e;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			fprintf(stderr, "%s:%u: line too long\n", path, lineno);
			return -EINVAL;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == ';' || *p == '#')
			continue;
		if (*p == '[') {
			e = strchr(p, ']');
			if (e == NULL || e == p + 1) {
				fprintf(stderr, "%s:%u: bad section header: %s", path, lineno, p);
				return -EINVAL;
			}
			in_section = true;
			continue;
		}
		if (strchr(p, '=') == NULL || *p == '=') {
			fprintf(stderr, "%s:%u: expected 'key = value': %s", path, lineno, p);
			return -EINVAL;
		}
		if (!in_section) {
			fprintf(stderr, "%s:%u: key outside any [section]: %s", path, lineno, p);
			return -EINVAL;
		}
	}
	return 0;
}

static int
load_section(struct scenario *sc, struct rte_cfgfile *cfg, const char *path, int idx,
	     const char *sec)
{
	struct rte_cfgfile_entry *ent;
	char name[CFG_NAME_LEN];
	int n, rc = 0;

	/* The _by_index calls write the section name out; sec already holds it. */
	n = rte_cfgfile_section_num_entries_by_index(cfg, name, idx);
	if (n < 0)
		return -EINVAL;
	ent = calloc((size_t)n + 1, sizeof(*ent));
	if (ent == NULL)
		return -ENOMEM;
	n = rte_cfgfile_section_entries_by_index(cfg, idx, name, ent, n);
	for (int i = 0; i < n && rc == 0; i++) {
		const struct key_desc *k = key_find(sec, ent[i].name);
		const char *why = NULL;

		for (int j = 0; j < i; j++) {
			if (strcmp(ent[j].name, ent[i].name) == 0)
				why = "key given twice in this section";
		}
		if (why == NULL && k == NULL)
			why = "unknown key";
		if (why == NULL && ent[i].value[0] == '\0')
			why = "empty value";
		if (why == NULL)
			key_set(sc, k, ent[i].value, &why);
		if (why != NULL) {
			fprintf(stderr, "%s: [%s] %s = '%s': %s\n", path, sec, ent[i].name,
				ent[i].value, why);
			rc = -EINVAL;
		}
	}
	free(ent);
	return rc;
}

/* Section names in file order (rte_cfgfile_sections wants caller buffers). */
static char (*section_names(struct rte_cfgfile *cfg, int *n))[CFG_NAME_LEN]
{
	char(*buf)[CFG_NAME_LEN];
	char **ptr;

	*n = rte_cfgfile_num_sections(cfg, NULL, 0);
	buf = calloc((size_t)*n + 1, CFG_NAME_LEN);
	ptr = calloc((size_t)*n + 1, sizeof(char *));
	if (buf == NULL || ptr == NULL) {
		free(buf);
		free(ptr);
		return NULL;
	}
	for (int j = 0; j < *n; j++)
		ptr[j] = buf[j];
	*n = rte_cfgfile_sections(cfg, ptr, *n);
	free(ptr);
	return buf;
}

/* Report a whole-section problem on its first entry, so the message still names a key and value. */
static void
section_error(struct rte_cfgfile *cfg, const char *path, int idx, const char *sec, const char *why)
{
	struct rte_cfgfile_entry ent = {{0}, {0}};
	char name[CFG_NAME_LEN];

	if (rte_cfgfile_section_entries_by_index(cfg, idx, name, &ent, 1) >= 1)
		fprintf(stderr, "%s: [%s] %s = '%s': %s\n", path, sec, ent.name, ent.value, why);
	else
		fprintf(stderr, "%s: [%s]: %s\n", path, sec, why);
}

int
scenario_load(struct scenario *sc, const char *path)
{
	struct rte_cfgfile *cfg;
	char(*names)[CFG_NAME_LEN];
	FILE *fp;
	int nsec, rc;

	fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	rc = syntax_check(path, fp);
	fclose(fp);
	if (rc < 0)
		return rc;
	cfg = rte_cfgfile_load(path, CFG_FLAG_EMPTY_VALUES);
	if (cfg == NULL) {
		fprintf(stderr, "%s: rte_cfgfile could not parse the file\n", path);
		return -EINVAL;
	}
	snprintf(sc->config_path, sizeof(sc->config_path), "%s", path);
	names = section_names(cfg, &nsec);
	if (names == NULL)
		rc = -ENOMEM;
	for (int i = 0; rc == 0 && i < nsec; i++) {
		for (int j = 0; j < i && rc == 0; j++) {
			if (strcmp(names[j], names[i]) == 0) {
				section_error(cfg, path, i, names[i], "section given twice");
				rc = -EINVAL;
			}
		}
		if (rc == 0 && !section_known(names[i])) {
			section_error(cfg, path, i, names[i],
				      "unknown section (run domains workers clients queues ops)");
			rc = -EINVAL;
		}
		if (rc == 0)
			rc = load_section(sc, cfg, path, i, names[i]);
	}
	free(names);
	rte_cfgfile_close(cfg);
	return rc;
}

/* ---- command line ---- */

enum {
	OPT_CONFIG = 256,
	OPT_JSON,
	OPT_SET,
	OPT_HELP,
	OPT_KEY_BASE = 512, /* + index into cli_keys */
};

/* Long options that set a config key: the same parser and range as the file. */
static const struct {
	const char *opt;
	const char *section;
	const char *name;
	const char *arg;
} cli_keys[] = {
	{"duration", "run", "duration", "S"},
	{"ops", "run", "ops", "N"},
	{"rate", "run", "rate", "MOPS"},
	{"verify", "run", "verify", "on|off"},
	{"warmup", "run", "warmup", "S"},
	{"progress", "run", "progress", "on|off"},
	{"raw-copy", "run", "raw_copy", "on|off"},
	{"seed", "run", "seed", "N"},
	{"frontends", "domains", "frontends", "N"},
	{"frames", "domains", "frames", "N"},
	{"workers", "workers", "lcores", "LIST"},
	{"cache", "workers", "cache", "on|off"},
	{"clients", "clients", "lcores", "LIST"},
	{"queues", "queues", "per_backend", "N"},
	{"ring-size", "queues", "ring_size", "N"},
	{"burst", "queues", "burst", "N"},
	{"sizes", "ops", "copy_sizes", "LIST"},
	{"gref-to-gref", "ops", "gref_to_gref", "PCT"},
	{"map-unmap", "ops", "map_unmap", "PCT"},
	{"invalid", "ops", "invalid", "PCT"},
};

#define NB_CLI_KEYS (sizeof(cli_keys) / sizeof(cli_keys[0]))

void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- [--config FILE] [--json] [options]\n"
		"  --config FILE          scenario file (INI); options below override it\n"
		"  --json                 print the results as one JSON object on stdout\n"
		"  --set SECTION.KEY=VAL  override any config key\n",
		prog);
	for (size_t i = 0; i < NB_CLI_KEYS; i++) {
		const struct key_desc *k = key_find(cli_keys[i].section, cli_keys[i].name);
		char lhs[48];

		snprintf(lhs, sizeof(lhs), "--%s %s", cli_keys[i].opt, cli_keys[i].arg);
		fprintf(stderr, "  %-22s %s ([%s] %s)\n", lhs, k->help, k->section, k->name);
	}
	fprintf(stderr, "config keys:\n");
	for (size_t i = 0; i < NB_KEYS; i++)
		fprintf(stderr, "  [%s] %-16s %s\n", keys[i].section, keys[i].name, keys[i].help);
}

/* Apply "section.key=value" from --set. */
static int
apply_set(struct scenario *sc, const char *arg)
{
	char sec[CFG_NAME_LEN], name[CFG_NAME_LEN];
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
	const struct key_desc *k;
	const char *why = NULL;

	if (dot == NULL || eq == NULL || dot > eq || (size_t)(dot - arg) >= sizeof(sec) ||
	    (size_t)(eq - dot - 1) >= sizeof(name)) {
		fprintf(stderr, "command line: --set '%s': expected SECTION.KEY=VALUE\n", arg);
		return -EINVAL;
	}
	memcpy(sec, arg, (size_t)(dot - arg));
	sec[dot - arg] = '\0';
	memcpy(name, dot + 1, (size_t)(eq - dot - 1));
	name[eq - dot - 1] = '\0';
	k = key_find(sec, name);
	if (k == NULL)
		why = "unknown key";
	else
		key_set(sc, k, eq + 1, &why);
	if (why != NULL) {
		fprintf(stderr, "command line: [%s] %s = '%s': %s\n", sec, name, eq + 1, why);
		return -EINVAL;
	}
	return 0;
}

int
scenario_parse_args(struct scenario *sc, int argc, char **argv, bool *json)
{
	struct option opts[NB_CLI_KEYS + 5];
	const char *config = NULL;
	int *order, nb_order = 0, rc = 0, c;
	char **vals;

	memset(opts, 0, sizeof(opts));
	opts[0] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	opts[1] = (struct option){"json", no_argument, NULL, OPT_JSON};
	opts[2] = (struct option){"set", required_argument, NULL, OPT_SET};
	opts[3] = (struct option){"help", no_argument, NULL, OPT_HELP};
	for (size_t i = 0; i < NB_CLI_KEYS; i++)
		opts[4 + i] = (struct option){cli_keys[i].opt, required_argument, NULL,
					      OPT_KEY_BASE + (int)i};
	/* First collect, then load the file, then apply: the CLI wins whatever the order. */
	order = calloc((size_t)argc + 1, sizeof(*order));
	vals = calloc((size_t)argc + 1, sizeof(*vals));
	if (order == NULL || vals == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == OPT_CONFIG) {
			config = optarg;
		} else if (c == OPT_JSON) {
			*json = true;
		} else if (c == OPT_HELP || c == 'h') {
			usage(argv[0]);
			rc = 1;
			goto out;
		} else if (c == OPT_SET || c >= OPT_KEY_BASE) {
			order[nb_order] = c;
			vals[nb_order++] = optarg;
		} else {
			usage(argv[0]);
			rc = -EINVAL;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "command line: unexpected argument '%s'\n", argv[optind]);
		rc = -EINVAL;
		goto out;
	}
	if (config != NULL && scenario_load(sc, config) < 0) {
		rc = -EINVAL;
		goto out;
	}
	for (int i = 0; i < nb_order && rc == 0; i++) {
		if (order[i] == OPT_SET) {
			rc = apply_set(sc, vals[i]);
		} else {
			size_t ki = (size_t)(order[i] - OPT_KEY_BASE);
			char buf[CFG_NAME_LEN * 2 + CFG_VALUE_LEN + 2];

			snprintf(buf, sizeof(buf), "%s.%s=%s", cli_keys[ki].section,
				 cli_keys[ki].name, vals[i]);
			rc = apply_set(sc, buf);
		}
	}
out:
	free(order);
	free(vals);
	return rc;
}

static bool
is_pow2(unsigned int v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* One cross-field error, in the same "file: [section] key = value" shape. */
int
scenario_bad(const struct scenario *sc, const char *sec, const char *key, const char *val,
	     const char *why)
{
	fprintf(stderr, "%s: [%s] %s = '%s': %s\n",
		sc->config_path[0] != '\0' ? sc->config_path : "config", sec, key, val, why);
	return -EINVAL;
}

int
scenario_validate(const struct scenario *sc)
{
	unsigned int depth = sc->depth != 0 ? sc->depth : sc->ring_size;
	uint64_t need = (uint64_t)sc->queues_per_backend * depth;
	char v[32];

	snprintf(v, sizeof(v), "%u", sc->ring_size);
	if (!is_pow2(sc->ring_size))
		return scenario_bad(sc, "queues", "ring_size", v, "not a power of two");
	if (sc->ring_size > 65536)
		return scenario_bad(sc, "queues", "ring_size", v, "above 65536");
	snprintf(v, sizeof(v), "%u", sc->depth);
	if (!is_pow2(depth))
		return scenario_bad(sc, "queues", "depth", v, "not a power of two");
	if (depth > sc->ring_size)
		return scenario_bad(sc, "queues", "depth", v, "above ring_size");
	/* A client posts whole bursts only: it needs room for one. */
	if (depth < sc->burst)
		return scenario_bad(sc, "queues", "depth", v, "below burst");
	snprintf(v, sizeof(v), "%u", sc->cache_entries);
	if (!is_pow2(sc->cache_entries))
		return scenario_bad(sc, "workers", "cache_entries", v, "not a power of two");
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

static void
print_list_u(FILE *f, const unsigned int *v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", v[i]);
}

void
scenario_print(const struct scenario *sc, FILE *f)
{
	fprintf(f, "# effective config%s%s\n", sc->config_path[0] ? " from " : "", sc->config_path);
	fprintf(f, "[run]\nduration = %g\nops = %" PRIu64 "\nverify = %s\n", sc->duration_s,
		sc->ops, sc->verify ? "on" : "off");
	if (sc->rate_pct > 0)
		fprintf(f, "rate = %g%%\ncalibrate = %g\n", sc->rate_pct, sc->calib_s);
	else
		fprintf(f, "rate = %g\n", sc->rate_mops);
	fprintf(f, "warmup = %g\nprogress = %s\nraw_copy = %s\nseed = %" PRIu64 "\n", sc->warmup_s,
		sc->progress ? "on" : "off", sc->raw_copy ? "on" : "off", sc->seed);
	fprintf(f,
		"[domains]\nfrontends = %u\nbackends = %u\nframes = %u\nbackend_frames = %u\n"
		"grant_frames = %u\nmaptrack_frames = %u\n",
		sc->nb_frontends, sc->nb_backends, sc->frames, sc->backend_frames, sc->grant_frames,
		sc->maptrack_frames);
	fprintf(f, "[workers]\nlcores = ");
	print_list_u(f, sc->worker_lcores, sc->nb_workers);
	fprintf(f,
		"\ncache = %s\ncache_entries = %u\nhold_us = %u\ncopy = %s\n[clients]\nlcores = ",
		sc->cache ? "on" : "off", sc->cache_entries, sc->hold_us, sc->copy_kernel);
	print_list_u(f, sc->client_lcores, sc->nb_clients);
	fprintf(f,
		"\n[queues]\nper_backend = %u\nring_size = %u\nburst = %u\ndepth = %u\n"
		"[ops]\ncopy_sizes = ",
		sc->queues_per_backend, sc->ring_size, sc->burst, sc->depth);
	for (unsigned int i = 0; i < sc->nb_sizes; i++)
		fprintf(f, "%s%u", i ? "," : "", sc->copy_sizes[i]);
	fprintf(f,
		"\nsrc_offset = %u\ndst_offset = %u\ngref_to_gref = %u\nmap_unmap = %u\n"
		"invalid = %u\ninvalid_kinds = ",
		sc->src_offset, sc->dst_offset, sc->pct_gref_to_gref, sc->pct_map_unmap,
		sc->pct_invalid);
	for (unsigned int i = 0, n = 0; i < INV_COUNT; i++) {
		if (sc->invalid_mask & (1u << i))
			fprintf(f, "%s%s", n++ ? "," : "", invalid_names[i]);
	}
	fprintf(f, "\n");
}
