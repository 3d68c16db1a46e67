/* SPDX-License-Identifier: MIT */
/*
 * Results: the latency histogram's percentiles, the human table and the
 * one-line JSON object with the same numbers plus what a comparison needs to
 * know about the machine and the build (STYLE.md §3.10).
 */
#include <inttypes.h>
#include <string.h>

#include <rte_version.h>

#include "app.h"
#include "bench.h"
#include "gntdp_bench_version.h"

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER __VERSION__
#endif

void
hist_merge(struct hist *dst, const struct hist *src)
{
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned int i = 0; i < HIST_NB_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

/* Largest value bucket i holds (the inverse of hist_index). */
static uint64_t
bucket_upper(unsigned int i)
{
	unsigned int shift, sub;

	if (i < (1u << HIST_SUB_BITS))
		return i;
	shift = (i >> HIST_SUB_BITS) - 1;
	sub = i & ((1u << HIST_SUB_BITS) - 1);
	return ((((uint64_t)1 << HIST_SUB_BITS) + sub + 1) << shift) - 1;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	/* Conservative: the upper edge of the bucket, never above the largest value seen. */
	uint64_t rank = (uint64_t)(q * (double)h->count + 0.5), seen = 0;

	if (h->count == 0)
		return 0;
	if (rank == 0)
		rank = 1;
	for (unsigned int i = 0; i < HIST_NB_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t u = bucket_upper(i);

			return u < h->max ? u : h->max;
		}
	}
	return h->max;
}

/* Every check the run made passed (verify = off makes fewer: no byte is compared). */
static bool
checks_ok(const struct run_result *r)
{
	return r->tot.bad_status == 0 && r->tot.bad_bytes == 0 && r->tot.dup_or_unknown == 0 &&
	       r->lost == 0 && r->src_corrupt == 0 && r->tot.short_submit == 0 &&
	       r->tot.completed == r->tot.posted;
}

bool
result_ok(const struct scenario *sc, const struct run_result *r)
{
	(void)sc;
	return checks_ok(r) && !r->interrupted && r->win.completed > 0;
}

/*
 * "pass" only for a verified, complete run that did work and whose checks all
 * passed; a failed check is "fail" whatever else, and so is a complete run
 * that completed nothing in its window; an unverified run is "off", never
 * "pass".
 */
const char *
result_verification(const struct scenario *sc, const struct run_result *r)
{
	if (!checks_ok(r))
		return "fail";
	if (r->interrupted)
		return "interrupted";
	if (r->win.completed == 0)
		return "fail";
	return sc->verify ? "pass" : "off";
}

/* The numbers both outputs print. */
struct derived {
	double mops, gbps, ns_op, ns_op_worker, pairs_mops;
	double p50_us, p99_us, p999_us, max_us, mean_us;
	double hit_rate, raw_ratio;
	double ops_per_call_win; /* ops per hypercall in the window (in process) */
	double busy_pct;        /* worker polls that found work (idle polls are short) */
	double client_busy_pct; /* client cycles spent reaping or posting */
};

static double
cyc_us(const struct run_result *r, uint64_t c)
{
	return (double)c * 1e6 / (double)r->tsc_hz;
}

static void
derive(const struct run_result *r, struct derived *d)
{
	double el = r->elapsed_s > 0 ? r->elapsed_s : 1e-9;
	uint64_t acq = r->cache_hits + r->cache_misses;

	memset(d, 0, sizeof(*d));
	d->mops = (double)r->win.completed / el / 1e6;
	d->gbps = (double)r->win.copy_bytes / el / 1e9;
	if (r->win.completed > 0) {
		d->ns_op = el * 1e9 / (double)r->win.completed;
		d->ns_op_worker = d->ns_op * r->nb_workers;
	}
	d->pairs_mops = (double)r->win.unmaps / el / 1e6;
	d->p50_us = cyc_us(r, hist_quantile(&r->lat, 0.50));
	d->p99_us = cyc_us(r, hist_quantile(&r->lat, 0.99));
	d->p999_us = cyc_us(r, hist_quantile(&r->lat, 0.999));
	d->max_us = cyc_us(r, r->lat.max);
	d->mean_us = r->lat.count ? cyc_us(r, r->lat.sum) / (double)r->lat.count : 0;
	d->hit_rate = acq ? (double)r->cache_hits / (double)acq : 0;
	d->raw_ratio = r->raw_gbps > 0 ? d->gbps / r->raw_gbps : 0;
	if (r->hc_win_calls > 0)
		d->ops_per_call_win = (double)r->hc_win_ops / (double)r->hc_win_calls;
	if (r->win.loop_cycles > 0)
		d->client_busy_pct =
			100.0 * (double)r->win.busy_cycles / (double)r->win.loop_cycles;
	if (r->busy_polls + r->idle_polls > 0)
		d->busy_pct =
			100.0 * (double)r->busy_polls / (double)(r->busy_polls + r->idle_polls);
}

void
report_table(const struct scenario *sc, const struct run_result *r, FILE *f)
{
	const char *verdict, *what;
	struct derived d;

	derive(r, &d);
	if (r->connect)
		fprintf(f,
			"\n== gntdp-bench results (%s, connect mode: gntdpd at %s, %u worker%s, "
			"%u client processes) ==\n",
			sc->config_path[0] ? sc->config_path : "built-in defaults", sc->connect,
			r->nb_workers, r->nb_workers == 1 ? "" : "s", r->processes);
	else
		fprintf(f, "\n== gntdp-bench results (%s, copy kernel %s, %u worker%s, %s) ==\n",
			sc->config_path[0] ? sc->config_path : "built-in defaults", r->copy_kernel,
			r->nb_workers, r->nb_workers == 1 ? "" : "s",
			r->hugepages ? "hugepages" : "no hugepages");
	if (r->interrupted)
		fprintf(f, "  %-22s INTERRUPTED (SIGINT/SIGTERM) in the %s phase: %s\n", "run",
			r->stopped_in,
			r->win.completed > 0 ? "the figures below are of a partial window"
					     : "nothing was measured");
	else if (r->win.completed == 0)
		fprintf(f, "  %-22s FAILED: no request completed in the measurement window\n", "run");
	fprintf(f, "  %-22s %" PRIu64 " in %.3f s%s%s\n", "requests completed", r->win.completed,
		r->elapsed_s, r->rate_mops > 0 ? " (rate-limited)" : "",
		r->interrupted ? " (partial: interrupted)" : "");
	if (r->peak_mops > 0)
		fprintf(f, "  %-22s peak %.2f Mops/s, offered %.2f Mops/s (%.0f %%)\n", "load",
			r->peak_mops, r->rate_mops, sc->rate_pct);
	else if (r->rate_mops > 0)
		fprintf(f, "  %-22s offered %.2f Mops/s\n", "load", r->rate_mops);
	fprintf(f, "  %-22s %.2f Mops/s  %.2f GB/s  %.1f ns/op (%.1f ns/op per worker)\n",
		"throughput", d.mops, d.gbps, d.ns_op, d.ns_op_worker);
	fprintf(f,
		"  %-22s copies %" PRIu64 ", maps %" PRIu64 ", unmaps %" PRIu64
		" (%.2f M pairs/s), invalid %" PRIu64 "\n",
		"ops", r->win.copies, r->win.maps, r->win.unmaps, d.pairs_mops, r->win.invalid);
	fprintf(f, "  %-22s p50 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.2f us  mean %.2f us\n",
		"latency submit->cpl", d.p50_us, d.p99_us, d.p999_us, d.max_us, d.mean_us);
	if (r->connect) {
		/* The workers are gntdpd's: its telemetry (/gntdpd/domains) has their counters. */
		fprintf(f, "  %-22s client %.1f %% busy; the workers' counters are gntdpd's\n",
			"load", d.client_busy_pct);
		fprintf(f, "  %-22s %" PRIu64 " made by the frontend processes in their own frames\n",
			"cross-process checks", r->checks);
	} else {
		fprintf(f, "  %-22s %.2f %% (%" PRIu64 " hits, %" PRIu64 " misses)\n",
			"grant cache hit rate", 100 * d.hit_rate, r->cache_hits, r->cache_misses);
		fprintf(f,
			"  %-22s client %.1f %% busy; worker %.1f %% of polls busy, "
			"%.1f requests per busy poll\n",
			"load", d.client_busy_pct, d.busy_pct,
			r->busy_polls ? (double)r->win.completed / (double)r->busy_polls : 0);
		fprintf(f,
			"  %-22s %" PRIu64 " calls of %.1f ops in the window, %" PRIu64
			" polls with a full CQ (back-pressure), %" PRIu64 " preempted slices\n",
			"rings", r->hc_win_calls, d.ops_per_call_win, r->cq_full, r->preempted);
	}
	fprintf(f, "  %-22s %" PRIu64 " calls of %.1f ops (whole run, hypercall rings)\n",
		"hypercalls", r->hc_calls, r->hc_calls ? (double)r->hc_ops / (double)r->hc_calls : 0);
	if (!r->connect)
		fprintf(f, "  %-22s %.0f ns before the run, %.0f ns after (main lcore <-> worker)\n",
			"core-to-core RTT", r->rtt_before_ns, r->rtt_after_ns);
	if (r->raw_gbps > 0 && r->connect)
		fprintf(f,
			"  %-22s %.2f GB/s, %.2f Mcopies/s (memcpy in backend 0's own RAM, the same "
			"lengths and offsets; median of %u rounds of %.2f s each, %.2f-%.2f GB/s); "
			"gntdpd = %.1f %% of raw\n",
			"raw copy, same shape", r->raw_gbps, r->raw_mops, r->raw_rounds, r->raw_round_s,
			r->raw_min_gbps, r->raw_max_gbps, 100 * d.raw_ratio);
	else if (r->raw_gbps > 0)
		fprintf(f,
			"  %-22s %.2f GB/s, %.2f Mcopies/s (memcpy %.2f, %s %.2f GB/s; median of "
			"%u rounds of %.2f s each, best kernel's rounds %.2f-%.2f GB/s); "
			"gntdp (%s) = %.1f %% of raw\n",
			"raw copy, same frames", r->raw_gbps, r->raw_mops, r->raw_memcpy_gbps,
			r->copy_kernel, r->raw_kernel_gbps, r->raw_rounds, r->raw_round_s,
			r->raw_min_gbps, r->raw_max_gbps, r->copy_kernel, 100 * d.raw_ratio);
	fprintf(f, "  %-22s", "statuses (whole run)");
	for (int i = 0; i < GNTDP_GNTST_COUNT; i++) {
		if (r->tot.by_status[i] != 0)
			fprintf(f, " %s %" PRIu64, gntdp_gntst_name((int16_t)-i), r->tot.by_status[i]);
	}
	verdict = result_verification(sc, r);
	/* Never a bare PASS for an unverified or interrupted run: say what was checked. */
	if (strcmp(verdict, "pass") == 0)
		what = "PASS";
	else if (strcmp(verdict, "fail") == 0 && checks_ok(r))
		what = "FAIL (no request completed in the window: nothing to verify)";
	else if (strcmp(verdict, "fail") == 0)
		what = sc->verify ? "FAIL" : "FAIL (verify = off: statuses and exactly-once only)";
	else if (strcmp(verdict, "interrupted") == 0)
		what = "no verdict (interrupted); the checks so far found nothing wrong";
	else
		what = "off (verify = off: copied bytes not checked; statuses, exactly-once and "
		       "sources were, and found nothing wrong)";
	fprintf(f, "\n  %-22s %s: %" PRIu64 " posted, %" PRIu64 " completed, ", "verification",
		what, r->tot.posted, r->tot.completed);
	if (sc->verify)
		fprintf(f, "%" PRIu64 " effects checked, %" PRIu64 " wrong bytes; ", r->tot.verified,
			r->tot.bad_bytes);
	fprintf(f,
		"%" PRIu64 " wrong statuses, %" PRIu64 " lost, %" PRIu64
		" duplicate/unknown, %" PRIu64 " corrupt sources\n",
		r->tot.bad_status, r->lost, r->tot.dup_or_unknown, r->src_corrupt);
	if (r->first_error[0] != '\0')
		fprintf(f, "  %-22s %s\n", "first error", r->first_error);
}

static void
cpu_model(char *buf, size_t len)
{
	FILE *fp = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			colon += 2;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(fp);
}

/* The CPU frequency policy of cpu0 ("none" where the VM exposes no cpufreq). */
static void
read_governor(char *buf, size_t len)
{
	FILE *fp = fopen("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "r");

	snprintf(buf, len, "none");
	if (fp == NULL)
		return;
	if (fgets(buf, (int)len, fp) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(fp);
}

void
report_json(const struct scenario *sc, const struct run_result *r, FILE *f)
{
	struct app_json j;
	struct derived d;
	char cpu[128], governor[64];

	derive(r, &d);
	cpu_model(cpu, sizeof(cpu));
	read_governor(governor, sizeof(governor));
	app_json_begin(&j, f);
	app_json_str(&j, "config", sc->config_path);
	/* in-process: one process, the data plane linked in; connect: gntdpd's client processes */
	app_json_str(&j, "mode", r->connect ? "connect" : "in-process");
	app_json_str(&j, "socket", sc->connect);
	app_json_u64(&j, "processes", r->connect ? r->processes : 1);
	app_json_u64(&j, "cross_process_checks", r->checks);
	app_json_str(&j, "git", GNTDP_GIT_SHA);
	app_json_str(&j, "cpu", cpu);
	app_json_str(&j, "dpdk", rte_version());
	app_json_str(&j, "compiler", COMPILER);
	app_json_str(&j, "governor", governor);
	app_json_str(&j, "copy_kernel", r->copy_kernel);
	app_json_bool(&j, "hugepages", r->hugepages);
	app_json_u64(&j, "workers", r->nb_workers);
	app_json_u64(&j, "clients", sc->nb_clients);
	app_json_u64(&j, "burst", sc->burst);
	app_json_u64(&j, "depth", sc->depth);
	app_json_u64(&j, "ring_size", sc->ring_size);
	/* Always "hcall" (the per-op queue is retired); kept for the readers of older output. */
	app_json_str(&j, "interface", "hcall");
	app_json_u64(&j, "hypercalls", r->hc_calls);
	app_json_u64(&j, "hypercall_ops", r->hc_ops);
	app_json_bool(&j, "cache", sc->cache);
	app_json_bool(&j, "verify", sc->verify);
	app_json_arr(&j, "copy_sizes");
	for (unsigned int i = 0; i < sc->nb_sizes; i++)
		app_json_u64(&j, NULL, sc->copy_sizes[i]);
	app_json_arr_end(&j);
	app_json_u64(&j, "gref_to_gref_pct", sc->pct_gref_to_gref);
	app_json_u64(&j, "map_unmap_pct", sc->pct_map_unmap);
	app_json_u64(&j, "invalid_pct", sc->pct_invalid);
	app_json_dbl(&j, "peak_mops", r->peak_mops, 4);
	app_json_dbl(&j, "rate_mops", r->rate_mops, 4);
	app_json_dbl(&j, "elapsed_s", r->elapsed_s, 4);
	app_json_u64(&j, "ops", r->win.completed);
	app_json_dbl(&j, "mops", d.mops, 4);
	app_json_dbl(&j, "gbps", d.gbps, 4);
	app_json_dbl(&j, "ns_per_op", d.ns_op, 3);
	app_json_dbl(&j, "ns_per_op_worker", d.ns_op_worker, 3);
	app_json_u64(&j, "copies", r->win.copies);
	app_json_u64(&j, "maps", r->win.maps);
	app_json_u64(&j, "unmaps", r->win.unmaps);
	app_json_dbl(&j, "map_unmap_pairs_mops", d.pairs_mops, 4);
	app_json_u64(&j, "invalid", r->win.invalid);
	app_json_dbl(&j, "lat_p50_us", d.p50_us, 3);
	app_json_dbl(&j, "lat_p99_us", d.p99_us, 3);
	app_json_dbl(&j, "lat_p999_us", d.p999_us, 3);
	app_json_dbl(&j, "lat_max_us", d.max_us, 3);
	app_json_dbl(&j, "lat_mean_us", d.mean_us, 3);
	app_json_dbl(&j, "client_busy_pct", d.client_busy_pct, 2);
	app_json_dbl(&j, "worker_busy_poll_pct", d.busy_pct, 2);
	app_json_u64(&j, "cache_hits", r->cache_hits);
	app_json_u64(&j, "cache_misses", r->cache_misses);
	app_json_dbl(&j, "cache_hit_rate", d.hit_rate, 5);
	app_json_u64(&j, "busy_polls", r->busy_polls);
	app_json_u64(&j, "idle_polls", r->idle_polls);
	/* The rings in the window (in process; 0 with --connect, where they are gntdpd's). */
	app_json_u64(&j, "window_hypercalls", r->hc_win_calls);
	app_json_u64(&j, "window_hypercall_ops", r->hc_win_ops);
	app_json_dbl(&j, "ops_per_hypercall", d.ops_per_call_win, 2);
	app_json_u64(&j, "cq_full", r->cq_full);
	app_json_u64(&j, "preempted", r->preempted);
	app_json_dbl(&j, "raw_gbps", r->raw_gbps, 4);
	app_json_dbl(&j, "raw_mops", r->raw_mops, 4);
	app_json_dbl(&j, "raw_memcpy_gbps", r->raw_memcpy_gbps, 4);
	app_json_dbl(&j, "raw_kernel_gbps", r->raw_kernel_gbps, 4);
	app_json_dbl(&j, "raw_min_gbps", r->raw_min_gbps, 4);
	app_json_dbl(&j, "raw_max_gbps", r->raw_max_gbps, 4);
	app_json_u64(&j, "raw_rounds", r->raw_rounds);
	app_json_dbl(&j, "raw_round_s", r->raw_round_s, 3);
	app_json_dbl(&j, "raw_ratio", d.raw_ratio, 4);
	app_json_dbl(&j, "rtt_before_ns", r->rtt_before_ns, 1);
	app_json_dbl(&j, "rtt_after_ns", r->rtt_after_ns, 1);
	app_json_obj(&j, "status");
	for (int i = 0; i < GNTDP_GNTST_COUNT; i++) {
		if (r->tot.by_status[i] != 0)
			app_json_u64(&j, gntdp_gntst_name((int16_t)-i), r->tot.by_status[i]);
	}
	app_json_obj_end(&j);
	app_json_u64(&j, "posted", r->tot.posted);
	app_json_u64(&j, "completed", r->tot.completed);
	app_json_u64(&j, "verified", r->tot.verified);
	app_json_u64(&j, "bad_status", r->tot.bad_status);
	app_json_u64(&j, "bad_bytes", r->tot.bad_bytes);
	app_json_u64(&j, "lost", r->lost);
	app_json_u64(&j, "dup_or_unknown", r->tot.dup_or_unknown);
	app_json_u64(&j, "src_corrupt", r->src_corrupt);
	app_json_str(&j, "first_error", r->first_error);
	app_json_str(&j, "verification", result_verification(sc, r));
	app_json_str(&j, "stopped_in", r->stopped_in);
	app_json_bool(&j, "interrupted", r->interrupted);
	/* pass: the exit status's verdict (a complete run that did work, checks passed). */
	app_json_bool(&j, "pass", result_ok(sc, r));
	app_json_end(&j);
}
