/* SPDX-License-Identifier: MIT */
/*
 * gntdp-stress's configuration: its key table for the app layer's config
 * engine (apps/common/app.h), which reads the files of configs/stress/ and --set,
 * and gives the defaults, ranges, --help and the effective-config printout.
 * The data-plane keys are the shared APP_DP_KEY_* ones. Errors name the file
 * and line: "FILE:LINE: [section] key = 'value': reason".
 */
#include <errno.h>
#include <string.h>

#include "app.h"
#include "mp.h"
#include "stress.h"

static const char *const mode_names[] = {"sequential", "concurrent", "both", "seq", "conc",
					 "multiprocess", NULL};
static const enum stress_mode mode_values[] = {MODE_SEQ, MODE_CONC, MODE_BOTH, MODE_SEQ,
					       MODE_CONC, MODE_MP};

static int
parse_mode(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	for (unsigned int i = 0; mode_names[i] != NULL; i++) {
		if (strcmp(v, mode_names[i]) == 0) {
			*(enum stress_mode *)(void *)((char *)base + k->off) = mode_values[i];
			return 0;
		}
	}
	snprintf(why, wl, "expected sequential, concurrent, both or multiprocess");
	return -EINVAL;
}

static void
print_mode(const struct app_key *k, const void *base, char *buf, size_t len)
{
	enum stress_mode m = *(const enum stress_mode *)(const void *)((const char *)base + k->off);

	snprintf(buf, len, "%s",
		 m == MODE_SEQ    ? "sequential"
		 : m == MODE_CONC ? "concurrent"
		 : m == MODE_MP   ? "multiprocess"
				  : "both");
}

#define O(f) offsetof(struct stress_conf, f)
#define U(sec, key, field, lo, hi, d, h)                                                       \
	{.section = sec, .name = key, .type = APP_KT_UINT, .off = O(field), .min = lo, .max = hi, \
	 .def = d, .help = h}
#define D(sec, key, field, lo, hi, d, h)                                                       \
	{.section = sec, .name = key, .type = APP_KT_DOUBLE, .off = O(field), .dmin = lo,        \
	 .dmax = hi, .def = d, .help = h}
#define B(sec, key, field, d, h)                                                               \
	{.section = sec, .name = key, .type = APP_KT_BOOL, .off = O(field), .def = d, .help = h}

#define MP_STR(key, field, h)                                                                  \
	{.section = "multiprocess", .name = key, .type = APP_KT_STR, .off = O(mp.field),         \
	 .max = sizeof(((struct stress_conf *)0)->mp.field) - 1, .def = "", .help = h}
static const struct app_key keys[] = {
	{.section = "run", .name = "seed", .type = APP_KT_U64, .off = O(seed), .max = UINT64_MAX,
	 .def = "1", .help = "seed of every random choice"},
	{.section = "run", .name = "mode", .type = APP_KT_CUSTOM, .off = O(mode), .def = "both",
	 .parse = parse_mode, .print = print_mode,
	 .help = "sequential, concurrent, both or multiprocess"},
	D("run", "seq_seconds", seq_seconds, 0, 86400, "5", "length of the sequential phase"),
	U("run", "seq_records", seq_records, 0, 1000000000, "0",
	  "stop the sequential phase after this many records (0: time only)"),
	D("run", "duration", duration, 0, 1e7, "20", "length of the concurrent phase"),
	D("run", "warmup", warmup, 0, 1e6, "5", "seconds before the resident-memory baseline"),
	D("run", "drain_every", drain_every, 0.1, 1e6, "2",
	  "seconds between drain checks (concurrent)"),
	D("run", "progress", progress, 0, 3600, "1", "seconds between progress lines (0: off)"),
	D("run", "rss_tolerance_pct", rss_tolerance, 0, 1000, "1",
	  "allowed growth of resident memory after the warm-up"),
	D("run", "rss_slack_mb", rss_slack_mb, 0, 1e6, "0.5",
	  "absolute slack on top of the tolerance"),
	{.section = "run", .name = "trace_dir", .type = APP_KT_STR, .off = O(trace_dir), .min = 1,
	 .max = sizeof(((struct stress_conf *)0)->trace_dir) - 1, .def = ".",
	 .help = "where failing traces are written"},
	U("dataplane", "workers", workers, 1, STRESS_MAX_WORKERS, "2",
	  "worker lcores in the concurrent phase"),
	APP_DP_KEY_CACHE("dataplane", struct stress_conf, cache),
	APP_DP_KEY_CACHE_ENTRIES("dataplane", struct stress_conf, cache_entries),
	APP_DP_KEY_HOLD_US("dataplane", struct stress_conf, hold_us),
	APP_DP_KEY_IDLE_SLEEP_US("dataplane", struct stress_conf, idle_sleep_us),
	APP_DP_KEY_IDLE_AFTER_US("dataplane", struct stress_conf, idle_after_us),
	APP_DP_KEY_BURST("dataplane", struct stress_conf, burst),
	APP_DP_KEY_RING_SIZE("dataplane", struct stress_conf, ring_size),
	APP_DP_KEY_COPY("dataplane", struct stress_conf, copy),
	U("world", "clients", clients, 2, 9, "3", "client domains 1..N (one queue each)"),
	U("world", "stable_refs", stable_refs, 2, 20, "8", "stable grants per client and guest"),
	U("world", "churn_refs", churn_refs, 1, 32, "8", "churn grants per client and guest"),
	U("world", "corrupt_refs", corrupt_refs, 1, 128, "32", "corrupt-zone entries per guest"),
	U("world", "victim_refs", victim_refs, 1, 16, "4", "victim grants per client"),
	U("world", "accept_refs", accept_refs, 1, 64, "16", "accept_transfer entries of G1"),
	U("world", "local_frames", local_frames, 2, 64, "16", "verified local frames per client"),
	U("world", "map_gfns", map_gfns, 16, 65536, "4096", "host-map gfns per client"),
	B("world", "v2", v2, "off",
	  "the v2 granter and commands 7-12: set_version, swaps, sub-page and transitive grants"),
	U("ops", "max_batch", max_batch, 1, STRESS_MAX_BATCH, APP__STR(STRESS_MAX_BATCH),
	  "largest batch"),
	U("ops", "invalid_pct", invalid_pct, 0, 100, "15", "% of ops of an invalid kind"),
	U("ops", "big_batch_pct", big_batch_pct, 0, 100, "5",
	  "% of batches of 257..max_batch ops"),
	U("guest", "actions", guest_actions, 0, 10000, "4",
	  "guest actions per main-loop turn (concurrent)"),
	U("guest", "corrupt_pct", corrupt_pct, 0, 100, "10", "% of guest actions that corrupt"),
	B("guest", "protect", protect, "on", "mprotect revoked and read-only frames"),
	B("faults", "abandon", f_abandon, "on", "clients abandon queues mid-batch"),
	B("faults", "destroy", f_destroy, "on", "destroy domains with ops in flight"),
	B("faults", "stall", f_stall, "on", "stall a worker for milliseconds"),
	B("faults", "corrupt", f_corrupt, "on", "guests corrupt their grant entries"),
	B("faults", "pressure", f_pressure, "on", "table and maptrack limits"),
	B("faults", "garbage", f_garbage, "on", "a client posts garbage requests"),
	D("faults", "abandon_every", abandon_every, 0.01, 3600, "1", "seconds between abandons"),
	D("faults", "destroy_every", destroy_every, 0.01, 3600, "0.5",
	  "seconds between domain destructions"),
	D("faults", "stall_every", stall_every, 0.01, 3600, "0.25", "seconds between stalls"),
	U("faults", "stall_ms_max", stall_ms_max, 1, 1000, "10", "longest stall"),
	MP_STR("socket", socket, "a running gntdpd's socket (empty: start daemon)"),
	MP_STR("daemon", daemon, "the gntdpd binary (empty: ../gntdpd/gntdpd from this one)"),
	MP_STR("daemon_config", daemon_config, "the daemon's --config"),
	MP_STR("client", client, "gntdp-stress-mp-client (empty: next to this binary)"),
	U("multiprocess", "clients", mp.clients, 2, MP_MAX_SLOTS, "4", "client processes"),
	U("multiprocess", "slots", mp.slots, 2, MP_MAX_SLOTS, "6",
	  "domids 1..slots a client may be (re)spawned as"),
	U("multiprocess", "grants", mp.grants, 1, 16, "4", "frames each client grants each peer"),
	U("multiprocess", "batch", mp.batch, 1, 64, "16", "ops per hypercall"),
	U("multiprocess", "depth", mp.depth, 1, 16, "4", "copy hypercalls in flight at once"),
	D("multiprocess", "kill_every", mp.kill_every, 0.001, 3600, "0.2",
	  "mean seconds between kill -9s"),
	B("multiprocess", "garbage", mp.garbage, "on", "garbage on fresh control connections"),
	D("multiprocess", "garbage_every", mp.garbage_every, 0, 3600, "0.01",
	  "seconds between garbage connections"),
};

static const struct app_section sections[] = {
	{.name = "run"},   {.name = "dataplane"}, {.name = "world"},        {.name = "ops"},
	{.name = "guest"}, {.name = "faults"},    {.name = "multiprocess"},
};

const struct app_cfg_desc stress_cfg_desc = {
	.sections = sections,
	.nb_sections = sizeof(sections) / sizeof(sections[0]),
	.keys = keys,
	.nb_keys = sizeof(keys) / sizeof(keys[0]),
};

void
conf_print(const struct stress_conf *c, const struct app_cfg *cfg, FILE *out)
{
	app_cfg_print(cfg, out);
	fprintf(out, "gntdp-stress: seed %llu, page protection %s\n", (unsigned long long)c->seed,
		c->protect && prot_available() ? "on" : "off");
}
