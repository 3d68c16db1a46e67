/* SPDX-License-Identifier: MIT */
/*
 * gntdp-netback: a user-space Xen netback on the gntdp data plane.
 *
 *   gntdp-netback -l 0-1 [EAL options] -- --config configs/netback/g2g.ini [options]
 *
 * The backend is a poller on the data plane's worker, on the first EAL
 * worker lcore; the emulated frontends (guests) poll on the main lcore.
 * With a single lcore the worker is a manual one and both run in turn on
 * the main lcore. The run ends after [run] duration, on SIGINT/SIGTERM, once the ports
 * sent expect_port_tx packets, or after idle_exit_ms without traffic; then
 * the report is printed (and written as JSON with --json).
 *
 * Exit status (apps/common/app.h): 0 ok, 1 the run failed or a frontend saw
 * corrupted or reordered frames, 2 bad usage, configuration or EAL argument,
 * 3 a port's input was incomplete (an rx_pcap stops before its end: damaged;
 * reported with the file and the record), 77 EAL could not get memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "app.h"
#include "nb.h"

/* Exit status: the run went through, but a port's input stopped before its end. */
#define NB_EXIT_INPUT_INCOMPLETE 3

/* Main-lcore loop state: when to stop, when to print. */
struct runner {
	uint64_t hz, t0, t_measure, t_end, next_progress, last_change;
	uint64_t last_total;
	bool measuring, idle_exit;
	struct nb_snap s_start, s_prev, s_now;
};

static uint64_t
traffic_total(const struct nb *nb)
{
	uint64_t n = CTR_GET(nb->be.st.fwd_pkts);

	for (unsigned int i = 0; i < nb->be.nb_ports; i++)
		n += CTR_GET(nb->be.ports[i].st.rx_pkts);
	for (unsigned int i = 0; i < nb->be.nb_vifs; i++)
		n += CTR_GET(nb->be.vifs[i].st.tx_pkts);
	return n;
}

static uint64_t
port_tx_total(const struct nb *nb)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < nb->be.nb_ports; i++)
		n += CTR_GET(nb->be.ports[i].st.tx_pkts) +
		     CTR_GET(nb->be.ports[i].st.drops[DROP_PORT_TX_FULL]);
	return n;
}

/* Periodic work of the main lcore. Returns true when the run should end. */
static bool
runner_check(struct nb *nb, struct runner *r)
{
	const struct nb_conf *c = &nb->conf;
	uint64_t now = rte_rdtsc(), total;

	log_disabled(&nb->be, stderr);
	if (!r->measuring && now >= r->t_measure) {
		r->measuring = true;
		snap_take(&nb->be, &nb->fe, &r->s_start);
	}
	if (c->progress_ms > 0 && now >= r->next_progress) {
		snap_take(&nb->be, &nb->fe, &r->s_now);
		progress_line(&nb->be, &r->s_prev, &r->s_now, stdout);
		r->s_prev = r->s_now;
		r->next_progress = now + (uint64_t)c->progress_ms * r->hz / 1000;
	}
	if (gntdp_dp_stop_requested() || (c->duration > 0 && now >= r->t_end))
		return true;
	if (c->expect_port_tx > 0 && port_tx_total(nb) >= c->expect_port_tx)
		return true;
	total = traffic_total(nb);
	/* The idle timer runs from start-up: an input with no frames at all ends too. */
	if (total != r->last_total) {
		r->last_total = total;
		r->last_change = now;
	} else if (c->idle_exit_ms > 0 &&
		   now - r->last_change > (uint64_t)c->idle_exit_ms * r->hz / 1000) {
		r->idle_exit = true;
		return true;
	}
	return false;
}

static void
run(struct nb *nb)
{
	const struct nb_conf *c = &nb->conf;
	struct runner r;
	unsigned long iter = 0;

	memset(&r, 0, sizeof(r));
	r.hz = rte_get_tsc_hz();
	r.t0 = rte_rdtsc();
	nb->be.t_start = r.t0;
	r.t_measure = r.t0 + (uint64_t)(c->warmup * (double)r.hz);
	r.t_end = r.t_measure + (uint64_t)(c->duration * (double)r.hz);
	r.next_progress = r.t0 + (uint64_t)c->progress_ms * r.hz / 1000;
	r.last_change = r.t0;
	snap_take(&nb->be, &nb->fe, &r.s_prev);
	/*
	 * No warmup: the window starts now, before the worker runs, and not at
	 * the first runner_check(), by when a worker that ran while the main
	 * lcore was descheduled may have forwarded the whole input.
	 */
	if (r.t_measure <= r.t0) {
		r.measuring = true;
		snap_take(&nb->be, &nb->fe, &r.s_start);
	}
	/* Launches the worker; a manual one (one lcore) is stepped below instead. */
	if (gntdp_dp_start(nb->dp) != 0) {
		fprintf(stderr, "gntdp-netback: cannot start the data plane on lcore %u\n",
			nb->lcore);
		return;
	}
	for (;;) {
		if (nb->manual)
			gntdp_dp_poll(nb->dp, 0);
		fe_poll(&nb->fe);
		if ((++iter & 63) == 0 && runner_check(nb, &r))
			break;
	}
	nb->be.t_stop = rte_rdtsc();
	if (!r.measuring)
		snap_take(&nb->be, &nb->fe, &r.s_start);
	/* The worker finishes its iteration; every cached pin is released. */
	gntdp_dp_stop(nb->dp);
	snap_take(&nb->be, &nb->fe, &r.s_now);
	/*
	 * Ended on the idle timer: nothing moved since the last change, so the
	 * window ends there, at the last frame (the idle wait is not traffic).
	 */
	if (r.idle_exit && r.last_change > r.s_start.tsc)
		r.s_now.tsc = r.last_change;
	/* Let the guests take the last responses (counted in the totals, not the window). */
	for (int i = 0; i < 64; i++)
		fe_poll(&nb->fe);
	log_disabled(&nb->be, stderr);
	{
		struct nb_snap fin;

		snap_take(&nb->be, &nb->fe, &fin);
		memcpy(r.s_now.fe, fin.fe, sizeof(fin.fe));
		report_text(&nb->be, &nb->fe, &r.s_start, &r.s_now, stdout);
		if (c->json[0] != '\0') {
			FILE *f = strcmp(c->json, "-") == 0 ? stdout : fopen(c->json, "w");

			if (f == NULL) {
				fprintf(stderr, "gntdp-netback: %s: %s\n", c->json, strerror(errno));
			} else {
				report_json(&nb->be, &nb->fe, &r.s_start, &r.s_now, f);
				if (f != stdout)
					fclose(f);
			}
		}
	}
}

static bool
frames_ok(const struct nb *nb)
{
	for (unsigned int i = 0; i < nb->fe.nb_vifs; i++) {
		const struct fe_vif_stats *s = &nb->fe.vifs[i].st;

		if (s->verify_bad > 0 || s->order_bad > 0 || s->tx_rsp_bad > 0)
			return false;
	}
	return true;
}

static const struct app_opt opts[] = {
	{"duration", 0, "S", "run.duration", "run for S seconds"},
	{"progress", 0, "MS", "run.progress_ms", "progress line period (0: none)"},
	{"idle-exit", 0, "MS", "run.idle_exit_ms", "stop after MS without traffic"},
	{"quiet", 0, NULL, "run.quiet", "no effective-config print"},
};

static int
check(struct app_cfg *cfg)
{
	conf_attach(cfg);
	return conf_validate(cfg->conf);
}

static const struct app_desc nb_app = {
	.name = "gntdp-netback",
	.logtype = "gntdp.netback",
	.synopsis = "[EAL args] -- [--config FILE] [--set SECTION.KEY=VALUE] [options]",
	.about = "A user-space Xen netback on the data plane (docs/netback.md); "
		 "sections [backend] [run] [portN] [vifN].",
	.cfg = &nb_cfg_desc,
	.opts = opts,
	.nb_opts = NELEM(opts),
	.json = APP_JSON_FILE,
	.check = check,
	.no_huge_mb = 512,
};

int
main(int argc, char **argv)
{
	static struct nb nb;
	struct app a;
	int rc, status = EXIT_SUCCESS;

	rc = app_start(&a, &nb_app, &nb.conf, argc, argv);
	if (rc != APP_RUN)
		return rc;
	snprintf(nb.conf.json, sizeof(nb.conf.json), "%s", a.json_path);
	if (!nb.conf.quiet)
		conf_print(&nb.conf, stdout);
	/* The backend's worker gets the first worker lcore; none: the main lcore (nb_setup). */
	rc = nb_setup(&nb);
	if (rc == 0) {
		if (nb.manual)
			fprintf(stderr,
				"gntdp-netback: one lcore: backend and frontends share it\n");
		telemetry_register(&nb.be, &nb.fe);
		if (!nb.conf.quiet)
			printf("gntdp-netback: backend on lcore %u, frontends on lcore %u, "
			       "copy %s, %s\n",
			       nb.lcore, rte_get_main_lcore(), nb.be.copy_name,
			       gntdp_dp_eal_hugepages() ? "hugepages" : "no hugepages");
		fflush(stdout);
		run(&nb);
		if (!frames_ok(&nb))
			status = EXIT_FAILURE;
		else if (port_input_report(&nb.be, stderr) > 0)
			status = NB_EXIT_INPUT_INCOMPLETE;
	} else {
		status = EXIT_FAILURE;
	}
	/* Reverse order of setup, then EAL. */
	nb_teardown(&nb);
	return app_finish(&a, status);
}
