/* SPDX-License-Identifier: MIT */
/*
 * Configuration: defaults, INI files (configs/stress*.ini) and
 * "--set section.key=value" overrides, all through one key table so a file
 * key and its override share the parser, range and message. Errors name
 * the file and line: "FILE:LINE: [section] key = 'value': reason".
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

enum ktype { KT_U32, KT_U64, KT_DBL, KT_BOOL, KT_STR, KT_MODE };

struct key {
	const char *section, *name;
	enum ktype type;
	size_t off;
	double min, max;
	const char *help;
};

#define O(f) offsetof(struct stress_conf, f)

static const struct key keys[] = {
	{"run", "seed", KT_U64, O(seed), 0, 0, "seed of every random choice"},
	{"run", "mode", KT_MODE, O(mode), 0, 0, "sequential, concurrent or both"},
	{"run", "seq_seconds", KT_DBL, O(seq_seconds), 0, 86400, "length of the sequential phase"},
	{"run", "seq_records", KT_U32, O(seq_records), 0, 1e9,
	 "stop the sequential phase after this many records (0: time only)"},
	{"run", "duration", KT_DBL, O(duration), 0, 1e7, "length of the concurrent phase"},
	{"run", "warmup", KT_DBL, O(warmup), 0, 1e6, "seconds before the resident-memory baseline"},
	{"run", "drain_every", KT_DBL, O(drain_every), 0.1, 1e6,
	 "seconds between drain checks (concurrent)"},
	{"run", "progress", KT_DBL, O(progress), 0, 3600,
	 "seconds between progress lines (0: off)"},
	{"run", "rss_tolerance_pct", KT_DBL, O(rss_tolerance), 0, 1000,
	 "allowed growth of resident memory after the warm-up"},
	{"run", "rss_slack_mb", KT_DBL, O(rss_slack_mb), 0, 1e6,
	 "absolute slack on top of the tolerance"},
	{"run", "trace_dir", KT_STR, O(trace_dir), 0, 255, "where failing traces are written"},
	{"dataplane", "workers", KT_U32, O(workers), 1, STRESS_MAX_WORKERS,
	 "worker lcores in the concurrent phase"},
	{"dataplane", "cache", KT_BOOL, O(cache), 0, 1, "per-worker grant cache"},
	{"dataplane", "cache_entries", KT_U32, O(cache_entries), 2, 4096, "cache entries"},
	{"dataplane", "hold_us", KT_U32, O(hold_us), 0, 1000000, "pin hold bound"},
	{"dataplane", "burst", KT_U32, O(burst), 1, GNTDP_DP_MAX_BURST, "burst per queue poll"},
	{"dataplane", "ring_size", KT_U32, O(ring_size), 16, GNTDP_DP_MAX_RING_SIZE,
	 "request and completion ring size (power of two)"},
	{"dataplane", "copy", KT_STR, O(copy), 0, 31, "copy kernel (auto, memmove, ...)"},
	{"world", "clients", KT_U32, O(clients), 2, 9, "client domains 1..N (one queue each)"},
	{"world", "stable_refs", KT_U32, O(stable_refs), 2, 20,
	 "stable grants per client and guest"},
	{"world", "churn_refs", KT_U32, O(churn_refs), 1, 32, "churn grants per client and guest"},
	{"world", "corrupt_refs", KT_U32, O(corrupt_refs), 1, 128,
	 "corrupt-zone entries per guest"},
	{"world", "victim_refs", KT_U32, O(victim_refs), 1, 16, "victim grants per client"},
	{"world", "accept_refs", KT_U32, O(accept_refs), 1, 64, "accept_transfer entries of G1"},
	{"world", "local_frames", KT_U32, O(local_frames), 2, 64,
	 "verified local frames per client"},
	{"world", "map_gfns", KT_U32, O(map_gfns), 16, 65536, "host-map gfns per client"},
	{"ops", "max_batch", KT_U32, O(max_batch), 1, STRESS_MAX_BATCH, "largest batch"},
	{"ops", "invalid_pct", KT_U32, O(invalid_pct), 0, 100, "% of ops of an invalid kind"},
	{"ops", "big_batch_pct", KT_U32, O(big_batch_pct), 0, 100,
	 "% of batches of 257..max_batch ops"},
	{"guest", "actions", KT_U32, O(guest_actions), 0, 10000,
	 "guest actions per main-loop turn (concurrent)"},
	{"guest", "corrupt_pct", KT_U32, O(corrupt_pct), 0, 100, "% of guest actions that corrupt"},
	{"guest", "protect", KT_BOOL, O(protect), 0, 1, "mprotect revoked and read-only frames"},
	{"faults", "abandon", KT_BOOL, O(f_abandon), 0, 1, "clients abandon queues mid-batch"},
	{"faults", "destroy", KT_BOOL, O(f_destroy), 0, 1, "destroy domains with ops in flight"},
	{"faults", "stall", KT_BOOL, O(f_stall), 0, 1, "stall a worker for milliseconds"},
	{"faults", "corrupt", KT_BOOL, O(f_corrupt), 0, 1, "guests corrupt their grant entries"},
	{"faults", "pressure", KT_BOOL, O(f_pressure), 0, 1, "table and maptrack limits"},
	{"faults", "garbage", KT_BOOL, O(f_garbage), 0, 1, "a client posts garbage requests"},
	{"faults", "abandon_every", KT_DBL, O(abandon_every), 0.01, 3600,
	 "seconds between abandons"},
	{"faults", "destroy_every", KT_DBL, O(destroy_every), 0.01, 3600,
	 "seconds between domain destructions"},
	{"faults", "stall_every", KT_DBL, O(stall_every), 0.01, 3600, "seconds between stalls"},
	{"faults", "stall_ms_max", KT_U32, O(stall_ms_max), 1, 1000, "longest stall"},
};

#define NB_KEYS (sizeof(keys) / sizeof(keys[0]))

void
conf_defaults(struct stress_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->mode = MODE_BOTH;
	c->seq_seconds = 5;
	c->duration = 20;
	c->warmup = 5;
	c->drain_every = 2;
	c->progress = 1;
	c->rss_tolerance = 1.0;
	c->rss_slack_mb = 0.5;
	snprintf(c->trace_dir, sizeof(c->trace_dir), ".");
	c->workers = 2;
	c->cache = true;
	c->cache_entries = 64;
	c->hold_us = 100;
	c->burst = 32;
	c->ring_size = 1024;
	snprintf(c->copy, sizeof(c->copy), "auto");
	c->clients = 3;
	c->stable_refs = 8;
	c->churn_refs = 8;
	c->corrupt_refs = 32;
	c->victim_refs = 4;
	c->accept_refs = 16;
	c->local_frames = 16;
	c->map_gfns = 4096;
	c->max_batch = STRESS_MAX_BATCH;
	c->invalid_pct = 15;
	c->big_batch_pct = 5;
	c->guest_actions = 4;
	c->corrupt_pct = 10;
	c->protect = true;
	c->f_abandon = c->f_destroy = c->f_stall = c->f_corrupt = c->f_pressure = true;
	c->f_garbage = true;
	c->abandon_every = 1.0;
	c->destroy_every = 0.5;
	c->stall_every = 0.25;
	c->stall_ms_max = 10;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
set_key(struct stress_conf *c, const struct key *k, const char *v, const char *where)
{
	void *f = (uint8_t *)c + k->off;
	char *end = NULL;
	double d;

	errno = 0;
	switch (k->type) {
	case KT_U32:
	case KT_U64: {
		unsigned long long x = strtoull(v, &end, 0);

		if (*v == '-' || end == v || *end != '\0' || errno != 0)
			goto bad_num;
		if (k->type == KT_U32) {
			if ((double)x < k->min || (double)x > k->max)
				goto range;
			*(uint32_t *)f = (uint32_t)x;
		} else {
			*(uint64_t *)f = x;
		}
		return 0;
	}
	case KT_DBL:
		d = strtod(v, &end);
		if (end == v || *end != '\0' || errno != 0)
			goto bad_num;
		if (d < k->min || d > k->max)
			goto range;
		*(double *)f = d;
		return 0;
	case KT_BOOL:
		if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") ||
		    !strcmp(v, "1")) {
			*(bool *)f = true;
		} else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") ||
			   !strcmp(v, "0")) {
			*(bool *)f = false;
		} else {
			fprintf(stderr, "%s: [%s] %s = '%s': not on/off\n", where, k->section,
				k->name, v);
			return -1;
		}
		return 0;
	case KT_STR:
		if (strlen(v) > (size_t)k->max || *v == '\0') {
			fprintf(stderr, "%s: [%s] %s = '%s': empty or longer than %d\n", where,
				k->section, k->name, v, (int)k->max);
			return -1;
		}
		snprintf(f, (size_t)k->max + 1, "%s", v);
		return 0;
	case KT_MODE:
		if (!strcmp(v, "sequential") || !strcmp(v, "seq"))
			*(enum stress_mode *)f = MODE_SEQ;
		else if (!strcmp(v, "concurrent") || !strcmp(v, "conc"))
			*(enum stress_mode *)f = MODE_CONC;
		else if (!strcmp(v, "both"))
			*(enum stress_mode *)f = MODE_BOTH;
		else {
			fprintf(stderr, "%s: [%s] %s = '%s': sequential, concurrent or both\n",
				where, k->section, k->name, v);
			return -1;
		}
		return 0;
	}
	return -1;
bad_num:
	fprintf(stderr, "%s: [%s] %s = '%s': not a number\n", where, k->section, k->name, v);
	return -1;
range:
	fprintf(stderr, "%s: [%s] %s = '%s': out of range [%g, %g]\n", where, k->section, k->name,
		v, k->min, k->max);
	return -1;
}

static const struct key *
find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < NB_KEYS; i++) {
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
			return &keys[i];
	}
	return NULL;
}

int
conf_load(struct stress_conf *c, const char *path)
{
	char line[512], section[64] = "", where[600];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "gntdp-stress: %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(c->config_path, sizeof(c->config_path), "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *semi;
		const struct key *k;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		semi = strchr(line, ';');
		if (semi != NULL)
			*semi = '\0';
		semi = strchr(line, '#');
		if (semi != NULL)
			*semi = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');

			if (e == NULL || e[1] != '\0') {
				fprintf(stderr, "%s: bad section header\n", where);
				rc = -1;
				break;
			}
			*e = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			fprintf(stderr, "%s: expected key = value\n", where);
			rc = -1;
			break;
		}
		*eq = '\0';
		k = find_key(section, trim(s));
		if (k == NULL) {
			fprintf(stderr, "%s: unknown key [%s] %s\n", where, section, trim(s));
			rc = -1;
			break;
		}
		if (set_key(c, k, trim(eq + 1), where) != 0) {
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

int
conf_set(struct stress_conf *c, const char *assignment, const char *where)
{
	char buf[512], *dot, *eq;
	const struct key *k;

	snprintf(buf, sizeof(buf), "%s", assignment);
	dot = strchr(buf, '.');
	eq = strchr(buf, '=');
	if (dot == NULL || eq == NULL || dot > eq) {
		fprintf(stderr, "%s: '%s': expected section.key=value\n", where, assignment);
		return -1;
	}
	*dot = '\0';
	*eq = '\0';
	k = find_key(buf, dot + 1);
	if (k == NULL) {
		fprintf(stderr, "%s: unknown key [%s] %s\n", where, buf, dot + 1);
		return -1;
	}
	return set_key(c, k, eq + 1, where);
}

int
conf_check(const struct stress_conf *c)
{
	if (c->ring_size & (c->ring_size - 1)) {
		fprintf(stderr, "gntdp-stress: ring_size %u is not a power of two\n", c->ring_size);
		return -1;
	}
	if (c->cache_entries & (c->cache_entries - 1)) {
		fprintf(stderr, "gntdp-stress: cache_entries %u is not a power of two\n",
			c->cache_entries);
		return -1;
	}
	return 0;
}

void
conf_print(const struct stress_conf *c, FILE *out)
{
	fprintf(out,
		"gntdp-stress: seed %llu, mode %s, sequential %.1f s, concurrent %.1f s with "
		"%u workers, cache %s (hold %u us), copy %s, %u clients, batches 1..%u, invalid "
		"%u%%, faults:%s%s%s%s%s%s%s\n",
		(unsigned long long)c->seed,
		c->mode == MODE_SEQ    ? "sequential"
		: c->mode == MODE_CONC ? "concurrent"
				       : "both",
		c->seq_seconds, c->duration, c->workers, c->cache ? "on" : "off", c->hold_us,
		c->copy, c->clients, c->max_batch, c->invalid_pct, c->f_abandon ? " abandon" : "",
		c->f_destroy ? " destroy" : "", c->f_stall ? " stall" : "",
		c->f_corrupt ? " corrupt" : "", c->f_pressure ? " pressure" : "",
		c->f_garbage ? " garbage" : "",
		c->protect && prot_available() ? ", page protection on" : ", page protection off");
}
