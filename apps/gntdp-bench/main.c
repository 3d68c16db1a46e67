/* SPDX-License-Identifier: MIT */
/*
 * gntdp-bench: the end-to-end benchmark and verifier of the data plane.
 *
 *   gntdp-bench [EAL args] -- [--config FILE] [--json] [options]
 *   gntdp-bench --connect SOCKET [--config FILE] [--json] [options]
 *
 * Builds the scenario (frontend domains granting TX and RX frames to backend
 * domains, one hypercall ring per backend queue), runs client loops that
 * post bursts of grant copies, maps, unmaps and deliberately invalid ops as
 * backends would, checks every completion (status, exactly once, in order,
 * every copied byte), then times a raw copy of the same frames on the same
 * worker lcores and prints the results (a table, or one JSON object).
 *
 * With --connect the same scenario runs against gntdpd, each domain a client
 * process (connect.c); this process then starts no EAL.
 *
 * Exit status (apps/common/app.h): 0 verified, 1 a verification failed or the
 * run broke, 2 bad configuration, command line or EAL argument, 77 EAL could
 * not get memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "app.h"
#include "bench.h"

/*
 * Without "--" every argument is EAL's (the app layer's rule), except in
 * connect mode, which starts no EAL: an argument list with --connect and no
 * "--" is all the app's. Returns the argv to use (argv, or one with "--"
 * after argv[0]).
 */
static char **
connect_argv(int *argc, char **argv)
{
	static char dd[] = "--";
	/* Static: the config keeps pointers into argv for the whole run. */
	static char **nv;
	bool connect = false;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return argv;
		connect |= strcmp(argv[i], "--connect") == 0 ||
			   strncmp(argv[i], "--connect=", 10) == 0;
	}
	if (!connect || (nv = calloc((size_t)*argc + 2, sizeof(*nv))) == NULL)
		return argv;
	nv[0] = argv[0];
	nv[1] = dd;
	memcpy(nv + 2, argv + 1, sizeof(*argv) * (size_t)(*argc - 1));
	(*argc)++;
	return nv;
}

/* Connect mode: no EAL here; the domains are client processes of gntdpd. */
static int
main_connect(struct app *a, struct bench *b, struct run_result *r)
{
	int rc, status = APP_EXIT_OK;
	FILE *out = app_report_stream(a);

	if (b->sc.depth == 0)
		b->sc.depth = b->sc.ring_size;
	scenario_print(&b->sc, out);
	fflush(out);
	rc = connect_run(b, r);
	if (rc < 0) {
		APP_LOG(ERR, "gntdp-bench: connect mode setup failed: %s", strerror(-rc));
		return app_finish(a, APP_EXIT_FAIL);
	}
	report_table(&b->sc, r, out);
	if (b->json)
		report_json(&b->sc, r, stdout);
	if (!result_ok(&b->sc, r))
		status = APP_EXIT_FAIL;
	fflush(stdout);
	return app_finish(a, status);
}

int
main(int argc, char **argv)
{
	/* Static: struct bench holds the mix tables and is large-ish; one per process. */
	static struct bench b;
	static struct run_result r;
	struct app a;
	int rc, status = APP_EXIT_OK;
	FILE *out;

	argv = connect_argv(&argc, argv);
	rc = app_start(&a, &bench_app, &b.sc, argc, argv);
	if (rc != APP_RUN)
		return rc;
	b.json = a.json;
	if (b.sc.connect[0] != '\0')
		return main_connect(&a, &b, &r);
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
