/* SPDX-License-Identifier: MIT */
/*
 * gntdp-bench: the end-to-end benchmark and verifier of the data plane.
 *
 *   gntdp-bench [EAL args] -- [--config FILE] [--json] [options]
 *
 * Builds the scenario (frontend domains granting TX and RX frames to backend
 * domains, one data-plane queue per backend queue), runs client loops that
 * post bursts of grant copies, maps, unmaps and deliberately invalid ops as
 * backends would, checks every completion (status, exactly once, in order,
 * every copied byte), then times a raw copy of the same frames on the same
 * worker lcores and prints the results (a table, or one JSON object).
 *
 * Exit status (apps/common/app.h): 0 verified, 1 a verification failed or the
 * run broke, 2 bad configuration, command line or EAL argument, 77 EAL could
 * not get memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "app.h"
#include "bench.h"

int
main(int argc, char **argv)
{
	/* Static: struct bench holds the mix tables and is large-ish; one per process. */
	static struct bench b;
	static struct run_result r;
	struct app a;
	int rc, status = APP_EXIT_OK;
	FILE *out;

	rc = app_start(&a, &bench_app, &b.sc, argc, argv);
	if (rc != APP_RUN)
		return rc;
	b.json = a.json;
	/* Lcore lists need EAL: checked here, reported like any config error. */
	if (scenario_resolve_lcores(&b.sc) != 0)
		return app_finish(&a, APP_EXIT_USAGE);
	if (b.sc.depth == 0)
		b.sc.depth = b.sc.ring_size;
	/* With --json, stdout carries only the JSON object. */
	out = app_report_stream(&a);
	scenario_print(&b.sc, out);
	fflush(out);

	rc = bench_setup(&b);
	if (rc == 0)
		rc = bench_run(&b, &r);
	if (rc == 0 && b.sc.raw_copy && !gntdp_dp_stop_requested()) {
		int rr = rawcopy_measure(&b, &r);

		if (rr < 0)
			APP_LOG(WARNING, "raw copy not measured: %s", strerror(-rr));
	}
	if (rc == 0) {
		report_table(&b.sc, &r, out);
		if (b.json)
			report_json(&b.sc, &r, stdout);
		if (!result_ok(&b.sc, &r))
			status = APP_EXIT_FAIL;
		/* Results reach the pipe even if a sanitizer ends the process at exit. */
		fflush(stdout);
	} else {
		APP_LOG(ERR, "gntdp-bench: setup or run failed: %s", strerror(-rc));
		status = APP_EXIT_FAIL;
	}
	/* Reverse order of setup: data plane and world, then EAL. */
	bench_teardown(&b);
	return app_finish(&a, status);
}
