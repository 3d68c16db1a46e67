/* SPDX-License-Identifier: MIT */
/*
 * gntdpd's telemetry command (docs/daemon.md "Telemetry"):
 *   /gntdpd/domains: one dict per domain, keyed by domid, with its
 *   connection (bound, pid, uid), its rings and counters (calls, ops,
 *   faults), as DOMAIN_LIST reports them.
 * The callback runs on DPDK's telemetry thread; it reads the daemon under
 * its lock, which the control thread holds while it changes anything.
 * Query: dpdk-telemetry.py -f gntdpd-<pid>, then /gntdpd/domains.
 */
#include <stdio.h>

#include <rte_telemetry.h>

#include "gntdpd.h"

static struct gntdpd *tel_d;

/* DPDK's dicts hold RTE_TEL_MAX_DICT_ENTRIES entries: the first that many domains. */
static int
domains_cb(const char *cmd, const char *params, struct rte_tel_data *out)
{
	struct gntdpd *d = tel_d;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(out);
	if (d == NULL)
		return 0;
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < D_MAX_DOMAINS && tel_d == d; i++) {
		struct gntdp_ctl_domain_entry e;
		struct rte_tel_data *o;
		char name[16];

		if (d->doms[i] == NULL)
			continue;
		o = rte_tel_data_alloc();
		if (o == NULL)
			break;
		dom_entry(d, d->doms[i], &e);
		rte_tel_data_start_dict(o);
		rte_tel_data_add_dict_u64(o, "domid", e.domid);
		rte_tel_data_add_dict_u64(o, "bound", e.bound);
		rte_tel_data_add_dict_u64(o, "pid", e.pid);
		rte_tel_data_add_dict_u64(o, "uid", e.uid);
		rte_tel_data_add_dict_u64(o, "rings", e.nr_rings);
		rte_tel_data_add_dict_u64(o, "nr_frames", e.nr_frames);
		rte_tel_data_add_dict_u64(o, "nr_grant_frames", e.nr_grant_frames);
		rte_tel_data_add_dict_u64(o, "worker", e.worker);
		rte_tel_data_add_dict_u64(o, "calls", e.calls);
		rte_tel_data_add_dict_u64(o, "ops", e.ops);
		rte_tel_data_add_dict_u64(o, "faults", e.faults);
		snprintf(name, sizeof(name), "%u", e.domid);
		if (rte_tel_data_add_dict_container(out, name, o, 0) != 0) {
			rte_tel_data_free(o);
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void
tel_register(struct gntdpd *d)
{
	static bool registered;

	/* NULL at teardown, under the daemon's lock: a callback running then sees it. */
	tel_d = d;
	if (!registered && rte_telemetry_register_cmd("/gntdpd/domains", domains_cb,
						      "gntdpd's domains, connections, rings, "
						      "counters") == 0)
		registered = true;
}
