/* SPDX-License-Identifier: MIT */
/*
 * gntdp-stress: batch-hypercall stress tester with a checking oracle, fault
 * injection, trace replay and minimization. See docs/stress.md.
 *
 *   gntdp-stress [EAL args --] [--config FILE] [--seed N] [--mode seq|conc|both]
 *                [--duration S] [--seq-seconds S] [--workers N] [--set sec.key=value]...
 *   gntdp-stress [EAL args --] --replay FILE [--plain]
 *   gntdp-stress [EAL args --] --minimize FILE [--out FILE] [--plain]
 *
 * Without "--" every argument is the tool's and EAL gets a default set:
 * the main lcore plus one lcore per worker, floating over the CPUs
 * (--lcores='(0-W)@(0-C)'), --no-pci, a per-process file prefix.
 *
 * Exit status: 0 clean, 1 a violation (or a replay that reproduced one),
 * 2 bad usage or setup failure, 77 EAL could not start here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

#define EXIT_SKIP 77

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: gntdp-stress [EAL args --] [options]\n"
		"  --config FILE        INI file (configs/stress/default.ini)\n"
		"  --seed N             seed of every random choice\n"
		"  --mode M             sequential | concurrent | both\n"
		"  --duration S         concurrent phase seconds (soak: e.g. 1800)\n"
		"  --seq-seconds S      sequential phase seconds\n"
		"  --workers N          worker lcores in the concurrent phase\n"
		"  --set SEC.KEY=VALUE  any config key\n"
		"  --replay FILE        rerun a trace deterministically\n"
		"  --minimize FILE      shrink a failing trace (writes FILE.min, or --out)\n"
		"  --out FILE           where --minimize writes\n"
		"  --plain              replay/minimize on the plain core only (no EAL)\n"
		"  --verbose            replay: print every op and its status\n"
		"  --selftest           plant a wrong expectation: the run must fail and trace it\n"
		"  --help\n");
}

static int
need_arg(int i, int argc, const char *opt)
{
	if (i + 1 >= argc) {
		fprintf(stderr, "gntdp-stress: %s needs a value\n", opt);
		return -1;
	}
	return 0;
}

/* The default EAL command line when none is given. */
static int
default_eal(const struct stress_conf *c, const char *prog, char **argv, char *buf, size_t len)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = 0;
	size_t k;

	if (ncpu < 1)
		ncpu = 1;
	argv[n++] = (char *)(uintptr_t)prog;
	k = (size_t)snprintf(buf, len, "--lcores=(0-%u)@(0-%ld)", c->workers, ncpu - 1) + 1;
	argv[n++] = buf;
	snprintf(buf + k, len - k, "--file-prefix=gntdp-stress-%ld", (long)getpid());
	argv[n++] = buf + k;
	argv[n++] = (char *)(uintptr_t) "--no-pci";
	argv[n++] = (char *)(uintptr_t) "--log-level=lib.*:warning";
	argv[n] = NULL;
	return n;
}

int
main(int argc, char **argv)
{
	static struct stress_conf conf;
	const char *replay = NULL, *minimize = NULL, *out = NULL;
	char **app = argv + 1, *eal_argv[16], eal_buf[256];
	int napp = argc - 1, neal = 0, rc = EXIT_SUCCESS, dd = -1;
	bool plain = false, eal = false;

	conf_defaults(&conf);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	}
	if (dd > 0) {
		neal = dd;
		app = argv + dd + 1;
		napp = argc - dd - 1;
	}
	/* The config file first, so that the other options override it. */
	for (int i = 0; i < napp; i++) {
		if (strcmp(app[i], "--config") == 0) {
			if (need_arg(i, napp, app[i]) || conf_load(&conf, app[i + 1]) != 0)
				return EXIT_USAGE;
		}
	}
	for (int i = 0; i < napp; i++) {
		const char *o = app[i];

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else if (!strcmp(o, "--plain")) {
			plain = true;
		} else if (!strcmp(o, "--selftest")) {
			conf.selftest = true;
		} else if (!strcmp(o, "--verbose") || !strcmp(o, "-v")) {
			g_verbose = true;
		} else if (!strcmp(o, "--config")) {
			i++;
		} else if (!strcmp(o, "--seed") || !strcmp(o, "--mode") ||
			   !strcmp(o, "--duration") || !strcmp(o, "--seq-seconds") ||
			   !strcmp(o, "--workers") || !strcmp(o, "--set") ||
			   !strcmp(o, "--replay") || !strcmp(o, "--minimize") ||
			   !strcmp(o, "--out")) {
			char set[300];
			const char *v;

			if (need_arg(i, napp, o))
				return EXIT_USAGE;
			v = app[++i];
			if (!strcmp(o, "--replay")) {
				replay = v;
				continue;
			}
			if (!strcmp(o, "--minimize")) {
				minimize = v;
				continue;
			}
			if (!strcmp(o, "--out")) {
				out = v;
				continue;
			}
			if (!strcmp(o, "--set"))
				snprintf(set, sizeof(set), "%s", v);
			else
				snprintf(set, sizeof(set), "%s=%s",
					 !strcmp(o, "--seed")          ? "run.seed"
					 : !strcmp(o, "--mode")        ? "run.mode"
					 : !strcmp(o, "--duration")    ? "run.duration"
					 : !strcmp(o, "--seq-seconds") ? "run.seq_seconds"
								       : "dataplane.workers",
					 v);
			if (conf_set(&conf, set, "command line") != 0)
				return EXIT_USAGE;
		} else {
			fprintf(stderr, "gntdp-stress: unknown option %s\n", o);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (conf_check(&conf) != 0)
		return EXIT_USAGE;
	g_seed = conf.seed;
	prot_install_handler(conf.seed);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!plain) {
		struct gntdp_dp_eal_conf ec;
		int used;

		gntdp_dp_eal_conf_init(&ec);
		ec.no_huge_mb = 512;
		if (neal == 0)
			neal = default_eal(&conf, argv[0], eal_argv, eal_buf, sizeof(eal_buf));
		else
			memcpy(eal_argv, argv, sizeof(char *) * (size_t)(neal < 15 ? neal : 15));
		if (neal > 15) {
			fprintf(stderr, "gntdp-stress: too many EAL arguments\n");
			return EXIT_USAGE;
		}
		eal_argv[neal] = NULL;
		used = gntdp_dp_eal_init(&ec, neal, eal_argv);
		if (used < 0) {
			printf("SKIP: gntdp-stress: EAL could not start here (%s)\n",
			       strerror(-used));
			return EXIT_SKIP;
		}
		eal = true;
	}

	if (replay != NULL) {
		rc = replay_main(&conf, replay, eal);
	} else if (minimize != NULL) {
		rc = minimize_main(&conf, minimize, out, eal);
	} else {
		conf_print(&conf, stdout);
		if (conf.mode & MODE_SEQ)
			rc = seq_main(&conf, eal);
		if (rc == EXIT_SUCCESS && (conf.mode & MODE_CONC)) {
			if (!eal) {
				fprintf(stderr,
					"gntdp-stress: concurrent mode needs EAL (drop --plain)\n");
				rc = EXIT_USAGE;
			} else {
				rc = conc_main(&conf);
			}
		}
		if (rc == EXIT_SUCCESS)
			printf("gntdp-stress: PASS (seed %llu)\n", (unsigned long long)conf.seed);
	}
	if (eal)
		gntdp_dp_eal_cleanup();
	return rc;
}
