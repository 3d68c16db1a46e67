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
 * Exit status (apps/common/app.h): 0 clean, 1 a violation (or a replay that
 * reproduced one), 2 bad usage, config, EAL argument or setup failure, 77 EAL
 * could not get memory here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "stress.h"

/* What the options that are not config keys ask for. */
static struct {
	const char *replay, *minimize, *out;
	bool plain;
} opt;

static const struct app_opt opts[] = {
	{"seed", 0, "N", "run.seed", "seed of every random choice"},
	{"mode", 0, "M", "run.mode", "sequential | concurrent | both"},
	{"duration", 0, "S", "run.duration", "concurrent phase seconds (soak: e.g. 1800)"},
	{"seq-seconds", 0, "S", "run.seq_seconds", "sequential phase seconds"},
	{"workers", 0, "N", "dataplane.workers", "worker lcores in the concurrent phase"},
	{"replay", 0, "FILE", NULL, "rerun a trace deterministically"},
	{"minimize", 0, "FILE", NULL, "shrink a failing trace (writes FILE.min, or --out)"},
	{"out", 0, "FILE", NULL, "where --minimize writes"},
	{"plain", 0, NULL, NULL, "replay/minimize/sequential on the plain core only (no EAL)"},
	{"verbose", 'v', NULL, NULL, "replay: print every op and its status"},
	{"selftest", 0, NULL, NULL, "plant a wrong expectation: the run must fail and trace it"},
	{"selftest-v2", 0, NULL, NULL,
	 "the same for the new commands (world.v2 on): a swap of a pinned entry expected okay"},
	{"selftest-hcall", 0, NULL, NULL,
	 "the same for hostile hypercalls: an op array in host memory expected to run"},
};

static int
on_opt(void *conf, const struct app_opt *o, const char *arg)
{
	struct stress_conf *c = conf;

	if (strcmp(o->name, "replay") == 0)
		opt.replay = arg;
	else if (strcmp(o->name, "minimize") == 0)
		opt.minimize = arg;
	else if (strcmp(o->name, "out") == 0)
		opt.out = arg;
	else if (strcmp(o->name, "plain") == 0)
		opt.plain = true;
	else if (strcmp(o->name, "verbose") == 0)
		g_verbose = true;
	else if (strcmp(o->name, "selftest") == 0)
		c->selftest = true;
	else if (strcmp(o->name, "selftest-v2") == 0)
		c->selftest_v2 = true;
	else if (strcmp(o->name, "selftest-hcall") == 0)
		c->selftest_hcall = true;
	return 0;
}

static int
check(struct app_cfg *cfg)
{
	struct stress_conf *c = cfg->conf;

	/* [dataplane] ring_size sizes each queue's hypercall ring (SQ and CQ); the key's
	 * range is the ring's (APP_DP_KEY_RING_SIZE). */
	snprintf(c->config_path, sizeof(c->config_path), "%s", cfg->path);
	return 0;
}

static bool
want_eal(const void *conf)
{
	/* Multi-process mode: gntdpd has the EAL, this process none. */
	return !opt.plain && ((const struct stress_conf *)conf)->mode != MODE_MP;
}

/* The default EAL command line when none is given. */
static int
default_eal(const void *conf, char **argv, int max, char *buf, size_t len)
{
	return app_eal_lcores("gntdp-stress", ((const struct stress_conf *)conf)->workers, argv, max,
			      buf, len);
}

static const struct app_desc stress_app = {
	.name = "gntdp-stress",
	.logtype = "gntdp.stress",
	.synopsis = "[EAL args --] [--config FILE] [--set SECTION.KEY=VALUE] [options]",
	.about = "Batch-hypercall stress tester with an oracle and fault injection "
		 "(docs/stress.md).\nWithout \"--\" EAL gets the main lcore plus one per worker, "
		 "--no-pci and a per-process file prefix.",
	.cfg = &stress_cfg_desc,
	.opts = opts,
	.nb_opts = sizeof(opts) / sizeof(opts[0]),
	.opt = on_opt,
	.check = check,
	.want_eal = want_eal,
	.eal_default = default_eal,
	.no_huge_mb = 512,
};

int
main(int argc, char **argv)
{
	static struct stress_conf conf;
	struct app a;
	int rc;

	rc = app_start(&a, &stress_app, &conf, argc, argv);
	if (rc != APP_RUN)
		return rc;
	g_seed = conf.seed;
	prot_install_handler(conf.seed);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = EXIT_SUCCESS;
	if (opt.replay != NULL) {
		rc = replay_main(&conf, opt.replay, a.eal);
	} else if (opt.minimize != NULL) {
		rc = minimize_main(&conf, opt.minimize, opt.out, a.eal);
	} else {
		conf_print(&conf, &a.cfg, stdout);
		if (conf.mode == MODE_MP)
			rc = mp_main(&conf);
		if (conf.mode & MODE_SEQ)
			rc = seq_main(&conf, a.eal);
		if (rc == EXIT_SUCCESS && (conf.mode & MODE_CONC)) {
			if (!a.eal) {
				APP_LOG(ERR,
					"gntdp-stress: concurrent mode needs EAL (drop --plain)");
				rc = APP_EXIT_USAGE;
			} else {
				rc = conc_main(&conf);
			}
		}
		if (rc == EXIT_SUCCESS)
			printf("gntdp-stress: PASS (seed %llu)\n", (unsigned long long)conf.seed);
	}
	return app_finish(&a, rc);
}
