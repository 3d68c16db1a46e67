/* SPDX-License-Identifier: MIT */
/*
 * gntdpd: the gntdp daemon (docs/daemon.md). A DPDK primary process whose
 * data-plane workers serve client processes' hypercall rings; each client
 * is one domain whose memory the daemon creates (memfds) and passes over
 * the Unix control socket.
 *
 *   gntdpd [EAL args --] [--config FILE] [--set SECTION.KEY=VALUE] [options]
 *
 * Setup: config (checked before EAL), EAL, the socket (a live daemon's is
 * refused), the world on the memfd provider, the data plane and its
 * workers, telemetry. Then the control
 * thread serves the socket until SIGINT/SIGTERM; every 50 ms it also closes
 * the connection of a client whose ring a worker disabled and reclaims dead
 * domains' memory. Teardown runs in reverse: every connection (its rings,
 * its domain), the unbound domains, the data plane, the world, the socket
 * and its directory when the daemon made it, EAL and its runtime directory.
 *
 * Exit status (apps/common/app.h): 0 after a signal, 1 setup failed (the
 * socket, the memory provider, the workers), 2 bad configuration or EAL
 * argument, 77 EAL could not get memory.
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>

#include "gntdpd.h"

#define TICK_MS 50

/* The periodic work of the control thread. */
static void
tick(struct gntdpd *d)
{
	struct d_conn *c;
	char why[128];

	pthread_mutex_lock(&d->lock);
	/* A client that corrupted a ring loses its connection, hence its domain. */
	while ((c = dom_disabled_ring(d, why, sizeof(why))) != NULL) {
		APP_LOG(WARNING, "gntdpd: pid %d domain %u: %s", (int)c->cr.pid,
			c->dom != NULL ? c->dom->domid : 0, why);
		ctl_close_conn(d, c, why);
	}
	gntdp_gnttab_reclaim(d->gt);
	pthread_mutex_unlock(&d->lock);
}

int
main(int argc, char **argv)
{
	static struct d_conf conf;
	static struct gntdpd d;
	struct app a;
	int rc, status = APP_EXIT_OK;

	/*
	 * Not dumpable: no core file with guests' memory, and no process of
	 * the daemon's own uid can ptrace it or open its fds through /proc.
	 */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	rc = app_start(&a, &d_app, &conf, argc, argv);
	if (rc != APP_RUN)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	app_cfg_print(&a.cfg, stdout);
	d.conf = &conf;
	d.lfd = d.epfd = -1;
	pthread_mutex_init(&d.lock, NULL);
	d_evtchn_init();
	/* The socket first: a second daemon on a live socket fails before starting workers. */
	if (ctl_open(&d) != 0 || dom_world_create(&d) != 0) {
		status = APP_EXIT_FAIL;
		goto out;
	}
	tel_register(&d);
	APP_LOG(NOTICE, "gntdpd: ready: %u worker%s, copy kernel %s", d.nb_workers,
		d.nb_workers == 1 ? "" : "s", gntdp_dp_copy_name(d.dp));
	while (!gntdp_dp_stop_requested()) {
		rc = ctl_poll(&d, TICK_MS);
		if (rc < 0) {
			APP_LOG(ERR, "gntdpd: epoll: %s", strerror(-rc));
			status = APP_EXIT_FAIL;
			break;
		}
		tick(&d);
	}
	APP_LOG(NOTICE, "gntdpd: stopping");
out:
	pthread_mutex_lock(&d.lock);
	tel_register(NULL);
	ctl_close(&d);
	if (d.gt != NULL)
		dom_world_destroy(&d);
	pthread_mutex_unlock(&d.lock);
	return app_finish(&a, status);
}
