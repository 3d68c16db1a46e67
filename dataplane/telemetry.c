/* SPDX-License-Identifier: MIT */
/*
 * DPDK telemetry commands for the data plane. They follow DPDK's own
 * convention (/ethdev/list + /ethdev/stats,<port>): a list command returns
 * ids, a command with a parameter returns one object as a dict.
 *
 * Callbacks run on DPDK's telemetry thread. They reach the data plane
 * through `cur_dp`, guarded by `lock` so gntdp_dp_destroy() cannot free it
 * under a running callback; readers only use the stats getters, which are
 * safe from any thread. The control thread also takes `lock` to register
 * or remove a poller, so /gntdp/poller never reads a freed one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "dp_internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct gntdp_dp *cur_dp;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const char *const cmd_names[GNTDP_DP_NB_CMDS] = {
	"map_grant_ref", "unmap_grant_ref", "setup_table", "dump_table", "transfer",
	"copy", "query_size", "unmap_and_replace", "set_version", "get_status_frames",
	"get_version", "swap_grant_ref", "cache_flush",
};

static void
add_stats(struct rte_tel_data *d, const struct gntdp_dp_stats *s)
{
	char key[64];
	unsigned int i;

	rte_tel_data_add_dict_u64(d, "ops", s->ops);
	for (i = 0; i < GNTDP_DP_NB_CMDS; i++) {
		snprintf(key, sizeof(key), "ops_%s", cmd_names[i]);
		rte_tel_data_add_dict_u64(d, key, s->ops_by_cmd[i]);
	}
	rte_tel_data_add_dict_u64(d, "call_errors", s->call_errors);
	rte_tel_data_add_dict_u64(d, "batches", s->batches);
	rte_tel_data_add_dict_u64(d, "copy_bytes", s->copy_bytes);
	rte_tel_data_add_dict_u64(d, "cache_hits", s->cache_hits);
	rte_tel_data_add_dict_u64(d, "cache_misses", s->cache_misses);
	rte_tel_data_add_dict_u64(d, "cache_releases", s->cache_releases);
	rte_tel_data_add_dict_u64(d, "expired", s->expired);
	rte_tel_data_add_dict_u64(d, "busy_polls", s->busy_polls);
	rte_tel_data_add_dict_u64(d, "idle_polls", s->idle_polls);
	rte_tel_data_add_dict_u64(d, "ring_full", s->ring_full);
	rte_tel_data_add_dict_u64(d, "idle_sleeps", s->idle_sleeps);
}

/* Parse a decimal id parameter; -1 when absent or malformed. */
static long
param_id(const char *params)
{
	char *end;
	long v;

	if (params == NULL || *params == '\0')
		return -1;
	v = strtol(params, &end, 10);
	if (end == params || *end != '\0' || v < 0 || v > 1000000)
		return -1;
	return v;
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gntdp_dp_stats s;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&lock);
	if (cur_dp != NULL && gntdp_dp_stats_get(cur_dp, &s) == 0)
		add_stats(d, &s);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned int i;

	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	pthread_mutex_lock(&lock);
	for (i = 0; cur_dp != NULL && i < cur_dp->nb_workers; i++)
		rte_tel_data_add_array_int(d, (int)cur_dp->workers[i]->lcore_id);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* Pollers of worker @p w, from the slots (under lock: the control thread changes them under it). */
static unsigned int
worker_pollers(const struct gntdp_dp *dp, unsigned int w)
{
	unsigned int i, n = 0;

	for (i = 0; i < dp->nb_poller_slots; i++)
		n += dp->pollers[i] != NULL && dp->pollers[i]->worker == w;
	return n;
}

static int
tel_lcore(const char *cmd, const char *params, struct rte_tel_data *d)
{
	long id = param_id(params);
	struct gntdp_dp_stats s;
	unsigned int i;
	int rc = -EINVAL;

	(void)cmd;
	pthread_mutex_lock(&lock);
	for (i = 0; cur_dp != NULL && id >= 0 && i < cur_dp->nb_workers; i++) {
		if (cur_dp->workers[i]->lcore_id != (unsigned long)id)
			continue;
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_int(d, "lcore", (int)id);
		rte_tel_data_add_dict_int(d, "worker", (int)i);
		rte_tel_data_add_dict_int(d, "pollers", (int)worker_pollers(cur_dp, i));
		dp_worker_stats(cur_dp->workers[i], &s);
		add_stats(d, &s);
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
tel_pollers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gntdp_dp_poller_info pi;
	unsigned int i, n, k = 0;

	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	pthread_mutex_lock(&lock);
	n = cur_dp != NULL ? gntdp_dp_poller_slots(cur_dp) : 0;
	for (i = 0; i < n && k < RTE_TEL_MAX_ARRAY_ENTRIES; i++) {
		if (gntdp_dp_poller_info(cur_dp, i, &pi) == 0) {
			rte_tel_data_add_array_int(d, (int)i);
			k++;
		}
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

static int
tel_poller(const char *cmd, const char *params, struct rte_tel_data *d)
{
	long id = param_id(params);
	struct gntdp_dp_poller_info pi;
	int rc = -EINVAL;

	(void)cmd;
	pthread_mutex_lock(&lock);
	if (cur_dp != NULL && id >= 0 && gntdp_dp_poller_info(cur_dp, (unsigned int)id, &pi) == 0) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_int(d, "id", (int)pi.id);
		rte_tel_data_add_dict_int(d, "worker", (int)pi.worker);
		rte_tel_data_add_dict_int(d, "lcore", (int)pi.lcore_id);
		rte_tel_data_add_dict_string(d, "name", pi.name);
		rte_tel_data_add_dict_u64(d, "busy", pi.busy);
		rte_tel_data_add_dict_u64(d, "idle", pi.idle);
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
tel_conf(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct gntdp_dp_conf *c;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&lock);
	if (cur_dp != NULL) {
		c = &cur_dp->conf;
		rte_tel_data_add_dict_int(d, "workers", (int)cur_dp->nb_workers);
		rte_tel_data_add_dict_int(d, "cache", c->cache);
		rte_tel_data_add_dict_int(d, "cache_entries", (int)c->cache_entries);
		rte_tel_data_add_dict_u64(d, "hold_us", c->hold_us);
		rte_tel_data_add_dict_u64(d, "idle_sleep_us", c->idle_sleep_us);
		rte_tel_data_add_dict_u64(d, "idle_after_us", c->idle_after_us);
		rte_tel_data_add_dict_string(d, "copy", cur_dp->copy_name);
		rte_tel_data_add_dict_int(d, "running", gntdp_dp_running(cur_dp));
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

static void
register_once(void)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/gntdp/stats", tel_stats, "gntdp data plane counters, summed over workers" },
		{ "/gntdp/lcores", tel_lcores, "Worker lcore ids" },
		{ "/gntdp/lcore", tel_lcore, "Counters of one worker. Parameters: int lcore_id" },
		{ "/gntdp/pollers", tel_pollers, "Poller ids" },
		{ "/gntdp/poller", tel_poller,
		  "Name, worker and busy/idle calls of one poller. Parameters: int id" },
		{ "/gntdp/conf", tel_conf, "Effective data plane configuration" },
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(cmds); i++) {
		if (rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help) != 0)
			DP_LOG(WARNING, "cannot register telemetry command %s\n", cmds[i].cmd);
	}
}

void
dp_telemetry_register(void)
{
	pthread_once(&once, register_once);
}

/* The control thread changes the poller slots under this lock (telemetry reads them). */
void
dp_telemetry_lock(void)
{
	pthread_mutex_lock(&lock);
}

void
dp_telemetry_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void
dp_telemetry_attach(struct gntdp_dp *dp)
{
	pthread_mutex_lock(&lock);
	cur_dp = dp;
	pthread_mutex_unlock(&lock);
}

void
dp_telemetry_detach(struct gntdp_dp *dp)
{
	pthread_mutex_lock(&lock);
	if (cur_dp == dp)
		cur_dp = NULL;
	pthread_mutex_unlock(&lock);
}
