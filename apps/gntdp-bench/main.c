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
 * Exit status: 0 verified, 1 a verification failed or the run broke, 2 bad
 * configuration or command line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "bench.h"

/* Exit codes: a test can tell a configuration error from a failed check. */
#define EXIT_VERIFY 1
#define EXIT_CONFIG 2

static int
configure(struct bench *b, int argc, char **argv)
{
	int rc;

	scenario_defaults(&b->sc);
	rc = scenario_parse_args(&b->sc, argc, argv, &b->json);
	if (rc != 0)
		return rc;
	rc = scenario_validate(&b->sc);
	if (rc == 0)
		rc = scenario_resolve_lcores(&b->sc);
	if (rc == 0 && b->sc.depth == 0)
		b->sc.depth = b->sc.ring_size;
	return rc;
}

int
main(int argc, char **argv)
{
	/* Static: struct bench holds the mix tables and is large-ish; one per process. */
	static struct bench b;
	static struct run_result r;
	int ret, rc, status = EXIT_SUCCESS;
	FILE *out;

	ret = gntdp_dp_eal_init(NULL, argc, argv);
	if (ret < 0) {
		fprintf(stderr, "gntdp-bench: EAL initialisation failed: %s\n", strerror(-ret));
		return EXIT_CONFIG;
	}
	argc -= ret;
	argv += ret;

	rc = configure(&b, argc, argv);
	if (rc != 0) {
		gntdp_dp_eal_cleanup();
		return rc > 0 ? EXIT_SUCCESS : EXIT_CONFIG;
	}
	/* With --json, stdout carries only the JSON object. */
	out = b.json ? stderr : stdout;
	scenario_print(&b.sc, out);
	fflush(out);

	rc = bench_setup(&b);
	if (rc == 0)
		rc = bench_run(&b, &r);
	if (rc == 0 && b.sc.raw_copy && !gntdp_dp_stop_requested()) {
		int rr = rawcopy_measure(&b, &r);

		if (rr < 0)
			fprintf(stderr, "raw copy not measured: %s\n", strerror(-rr));
	}
	if (rc == 0) {
		report_table(&b.sc, &r, out);
		if (b.json)
			report_json(&b.sc, &r, stdout);
		if (!result_ok(&b.sc, &r))
			status = EXIT_VERIFY;
		/* Results reach the pipe even if a sanitizer ends the process at exit. */
		fflush(stdout);
	} else {
		fprintf(stderr, "gntdp-bench: setup or run failed: %s\n", strerror(-rc));
		status = EXIT_VERIFY;
	}
	/* Reverse order of setup: data plane and world, then EAL. */
	bench_teardown(&b);
	gntdp_dp_eal_cleanup();
	return status;
}
