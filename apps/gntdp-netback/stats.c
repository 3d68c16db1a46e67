/* SPDX-License-Identifier: MIT */
/*
 * Statistics: snapshots (relaxed reads of counters their owners write),
 * the progress line, the final report as text and JSON, the log of
 * disabled vifs, and the telemetry commands:
 *
 *   /netback/stats        backend totals
 *   /netback/vifs         vif ids          /netback/vif,<id>   one vif
 *   /netback/ports        port ids         /netback/port,<id>  one port
 *
 * Rates are over a window between two snapshots. Cycles per packet are TSC
 * cycles of the backend lcore (which polls without pause) per packet
 * forwarded; busy cycles count only iterations that moved something.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "app.h"
#include "nb.h"

static void
ctr_copy(void *dst, const void *src, size_t bytes)
{
	const uint64_t *s = src;
	uint64_t *d = dst;

	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

void
snap_take(const struct be *be, const struct fe *fe, struct nb_snap *s)
{
	struct timespec ts;

	memset(s, 0, sizeof(*s));
	s->tsc = rte_rdtsc();
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		s->fe_cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	/* Acquire pairs with the release in be_poll(); before its first call, ours. */
	if (__atomic_load_n(&be->cpu_clock_ok, __ATOMIC_ACQUIRE)) {
		if (clock_gettime(be->cpu_clock, &ts) == 0)
			s->be_cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	} else {
		s->be_cpu_ns = s->fe_cpu_ns;
	}
	ctr_copy(&s->be, &be->st, sizeof(s->be));
	/* Cached pins are aged by the data-plane worker: its count joins the peek unmaps. */
	if (be->dp != NULL) {
		struct gntdp_dp_stats ws;

		if (gntdp_dp_worker_stats_get(be->dp, be->worker, &ws, NULL) == 0)
			s->be.pins_expired += ws.expired;
	}
	for (unsigned int i = 0; i < be->nb_vifs; i++)
		ctr_copy(&s->vif[i], &be->vifs[i].st, sizeof(s->vif[i]));
	for (unsigned int i = 0; i < be->nb_ports; i++)
		ctr_copy(&s->port[i], &be->ports[i].st, sizeof(s->port[i]));
	for (unsigned int i = 0; fe != NULL && i < fe->nb_vifs; i++)
		ctr_copy(&s->fe[i], &fe->vifs[i].st, sizeof(s->fe[i]));
}

static uint64_t
drops_total(const ctr_t *d)
{
	uint64_t n = 0;

	for (unsigned int i = 1; i < DROP_COUNT; i++)
		n += d[i];
	return n;
}

static double
per(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

void
progress_line(const struct be *be, const struct nb_snap *a, const struct nb_snap *b, FILE *f)
{
	double dt = (double)(b->tsc - a->tsc) / (double)be->hz;
	uint64_t pk = b->be.fwd_pkts - a->be.fwd_pkts, drops = 0;
	unsigned int down = 0;

	for (unsigned int i = 0; i < be->nb_vifs; i++) {
		drops += drops_total(b->vif[i].drops) - drops_total(a->vif[i].drops);
		down += __atomic_load_n(&be->vifs[i].state, __ATOMIC_ACQUIRE) == VIF_DISABLED;
	}
	for (unsigned int i = 0; i < be->nb_ports; i++)
		drops += drops_total(b->port[i].drops) - drops_total(a->port[i].drops);
	fprintf(f, "[%7.1fs] fwd %7.3f Mpps %6.2f Gbit/s | ops/pkt %.2f cyc/pkt %.0f | drops %" PRIu64
		   " | vifs down %u",
		(double)(b->tsc - be->t_start) / (double)be->hz,
		dt > 0 ? (double)pk / dt / 1e6 : 0.0,
		dt > 0 ? (double)(b->be.fwd_bytes - a->be.fwd_bytes) * 8 / dt / 1e9 : 0.0,
		per(b->be.ops - a->be.ops, pk), per(b->tsc - a->tsc, pk), drops, down);
	for (unsigned int i = 0; i < be->nb_vifs && i < 4; i++)
		fprintf(f, " | vif%u rx %.2f", i,
			dt > 0 ? (double)(b->vif[i].rx_pkts - a->vif[i].rx_pkts) / dt / 1e6 : 0.0);
	fprintf(f, "\n");
	fflush(f);
}

void
log_disabled(struct be *be, FILE *f)
{
	for (unsigned int i = 0; i < be->nb_vifs; i++) {
		struct be_vif *v = &be->vifs[i];

		/* Acquire pairs with the release store in be_vif_disable(). */
		if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != VIF_DISABLED || v->fatal_logged)
			continue;
		fprintf(f, "gntdp-netback: vif%u (dom%u) disabled: %s: %s\n", i, v->domid,
			nb_fatal_name((enum nb_fatal)v->fatal), v->fatal_detail);
		v->fatal_logged = true;
	}
}

/* ---- Final report ------------------------------------------------------------ */

struct window {
	double s, be_cpu_s, fe_cpu_s;
	uint64_t pkts, bytes, ops, calls, cycles, busy, copy, deliveries;
};

static void
window_of(const struct be *be, const struct nb_snap *a, const struct nb_snap *b, struct window *w)
{
	w->s = (double)(b->tsc - a->tsc) / (double)be->hz;
	w->be_cpu_s = (double)(b->be_cpu_ns - a->be_cpu_ns) / 1e9;
	w->fe_cpu_s = (double)(b->fe_cpu_ns - a->fe_cpu_ns) / 1e9;
	w->pkts = b->be.fwd_pkts - a->be.fwd_pkts;
	w->bytes = b->be.fwd_bytes - a->be.fwd_bytes;
	w->ops = b->be.ops - a->be.ops;
	w->calls = b->be.calls - a->be.calls;
	w->cycles = b->tsc - a->tsc;
	w->busy = b->be.busy_cycles - a->be.busy_cycles;
	w->copy = b->be.copy_cycles - a->be.copy_cycles;
	w->deliveries = b->be.deliveries - a->be.deliveries;
}

void
report_text(const struct be *be, const struct fe *fe, const struct nb_snap *s0,
	    const struct nb_snap *s1, FILE *f)
{
	uint64_t hits, misses;
	struct window w;

	window_of(be, s0, s1, &w);
	be_cache_stats(be, &hits, &misses);
	fprintf(f, "window %.3f s: forwarded %" PRIu64 " packets (%.3f Mpps, %.2f Gbit/s), "
		   "%" PRIu64 " deliveries\n",
		w.s, w.pkts, w.s > 0 ? (double)w.pkts / w.s / 1e6 : 0.0,
		w.s > 0 ? (double)w.bytes * 8 / w.s / 1e9 : 0.0, w.deliveries);
	fprintf(f, "  copy ops/packet %.2f, ops/call %.1f, TSC cycles/packet %.1f (busy %.1f), "
		   "TSC cycles/copy op %.1f (%.1f ns), grant cache hits %.4f\n",
		per(w.ops, w.pkts), per(w.ops, w.calls), per(w.cycles, w.pkts), per(w.busy, w.pkts),
		per(w.copy, w.ops), per(w.copy, w.ops) * 1e9 / (double)be->hz,
		per(hits, hits + misses));
	fprintf(f, "  express lane %.1f%% of forwarded packets\n",
		100.0 * per(s1->be.express_pkts - s0->be.express_pkts, w.pkts));
	fprintf(f, "  CPU time: backend thread %.3f s (%.1f ns/packet, %.3f Mpps per CPU-second), "
		   "frontend thread %.3f s (%.1f ns/packet)\n",
		w.be_cpu_s, w.pkts ? w.be_cpu_s * 1e9 / (double)w.pkts : 0.0,
		w.be_cpu_s > 0 ? (double)w.pkts / w.be_cpu_s / 1e6 : 0.0, w.fe_cpu_s,
		w.pkts ? w.fe_cpu_s * 1e9 / (double)w.pkts : 0.0);
	for (unsigned int i = 0; i < be->nb_vifs; i++) {
		const struct vif_stats *v = &s1->vif[i];
		const struct fe_vif_stats *fv = &s1->fe[i];

		fprintf(f, "  vif%u dom%u %-8s tx %" PRIu64 " pkts %" PRIu64 " B | rx %" PRIu64
			   " pkts %" PRIu64 " B | ops tx %" PRIu64 " rx %" PRIu64
			   " | rx_full %" PRIu64 " | notify tx %" PRIu64 " rx %" PRIu64
			   " kick tx %" PRIu64 " rx %" PRIu64,
			i, be->vifs[i].domid,
			be->vifs[i].state == VIF_UP ? "up" : "DISABLED", v->tx_pkts, v->tx_bytes,
			v->rx_pkts, v->rx_bytes, v->tx_ops, v->rx_ops, v->rx_ring_full, v->tx_notify,
			v->rx_notify, fv->tx_kick, fv->rx_kick);
		for (unsigned int d = 1; d < DROP_COUNT; d++) {
			if (v->drops[d])
				fprintf(f, " | drop %s %" PRIu64, nb_drop_name((enum nb_drop)d),
					v->drops[d]);
		}
		if (be->vifs[i].state == VIF_DISABLED)
			fprintf(f, " | fatal %s (%s)", nb_fatal_name((enum nb_fatal)be->vifs[i].fatal),
				be->vifs[i].fatal_detail);
		if (fe != NULL && fe->vifs[i].vc->verify)
			fprintf(f, " | verify ok %" PRIu64 " bad %" PRIu64 " order %" PRIu64,
				fv->verify_ok, fv->verify_bad, fv->order_bad);
		fprintf(f, "\n");
	}
	for (unsigned int i = 0; i < be->nb_ports; i++) {
		const struct port_stats *p = &s1->port[i];

		fprintf(f, "  port%u %-10s rx %" PRIu64 " pkts %" PRIu64 " B | tx %" PRIu64
			   " pkts %" PRIu64 " B | ops rx %" PRIu64,
			i, be->ports[i].name, p->rx_pkts, p->rx_bytes, p->tx_pkts, p->tx_bytes,
			p->rx_ops);
		for (unsigned int d = 1; d < DROP_COUNT; d++) {
			if (p->drops[d])
				fprintf(f, " | drop %s %" PRIu64, nb_drop_name((enum nb_drop)d),
					p->drops[d]);
		}
		fprintf(f, "\n");
	}
}

static void
json_drops(struct app_json *j, const ctr_t *d)
{
	app_json_obj(j, "drops");
	for (unsigned int i = 1; i < DROP_COUNT; i++)
		app_json_u64(j, nb_drop_name((enum nb_drop)i), d[i]);
	app_json_obj_end(j);
}

#define JU(name, v) app_json_u64(&j, name, v)

int
report_json(const struct be *be, const struct fe *fe, const struct nb_snap *s0,
	    const struct nb_snap *s1, FILE *f)
{
	const struct nb_conf *c = be->conf;
	uint64_t hits, misses;
	struct app_json j;
	struct window w;

	window_of(be, s0, s1, &w);
	be_cache_stats(be, &hits, &misses);
	app_json_begin(&j, f);
	app_json_dbl(&j, "window_s", w.s, 6);
	/* Start-up to the end of the run loop, on the same clock as the window. */
	app_json_dbl(&j, "run_s", be->t_stop > be->t_start ?
		     (double)(be->t_stop - be->t_start) / (double)be->hz : 0.0, 6);
	JU("tsc_hz", be->hz);
	app_json_str(&j, "copy", be->copy_name);
	app_json_obj(&j, "conf");
	JU("burst", c->burst);
	JU("batch_ops", c->batch_ops);
	JU("cache_entries", c->cache_entries);
	JU("hold_us", c->hold_us);
	app_json_str(&j, "g2g", c->g2g == G2G_DIRECT ? "direct" : "staged");
	app_json_str(&j, "bad_gref", c->bad_gref == BAD_GREF_DROP ? "drop" : "disable");
	app_json_bool(&j, "rx_stagger", c->rx_stagger);
	app_json_obj_end(&j);
	app_json_obj(&j, "backend");
	JU("fwd_pkts", w.pkts);
	JU("fwd_bytes", w.bytes);
	JU("deliveries", w.deliveries);
	app_json_dbl(&j, "mpps", w.s > 0 ? (double)w.pkts / w.s / 1e6 : 0.0, 4);
	app_json_dbl(&j, "gbps", w.s > 0 ? (double)w.bytes * 8 / w.s / 1e9 : 0.0, 4);
	JU("ops", w.ops);
	JU("calls", w.calls);
	app_json_dbl(&j, "copy_ops_per_pkt", per(w.ops, w.pkts), 4);
	app_json_dbl(&j, "cycles_per_pkt", per(w.cycles, w.pkts), 2);
	app_json_dbl(&j, "busy_cycles_per_pkt", per(w.busy, w.pkts), 2);
	app_json_dbl(&j, "copy_cycles_per_op", per(w.copy, w.ops), 2);
	app_json_dbl(&j, "copy_ns_per_op", per(w.copy, w.ops) * 1e9 / (double)be->hz, 2);
	app_json_dbl(&j, "be_cpu_s", w.be_cpu_s, 6);
	app_json_dbl(&j, "fe_cpu_s", w.fe_cpu_s, 6);
	app_json_dbl(&j, "be_cpu_ns_per_pkt", w.pkts ? w.be_cpu_s * 1e9 / (double)w.pkts : 0.0, 3);
	JU("cache_hits", hits);
	JU("cache_misses", misses);
	JU("ops_failed_bursts", s1->be.ops_failed);
	JU("probes", s1->be.probes);
	JU("mac_learned", s1->be.mac_learned);
	JU("mac_moved", s1->be.mac_moved);
	JU("pins_expired", s1->be.pins_expired);
	JU("total_fwd_pkts", s1->be.fwd_pkts);
	JU("express_pkts", s1->be.express_pkts - s0->be.express_pkts);
	app_json_obj_end(&j);
	app_json_arr(&j, "vifs");
	for (unsigned int i = 0; i < be->nb_vifs; i++) {
		const struct vif_stats *v = &s1->vif[i], *v0 = &s0->vif[i];
		const struct fe_vif_stats *fv = &s1->fe[i];

		app_json_obj(&j, NULL);
		JU("vif", i);
		JU("domid", be->vifs[i].domid);
		app_json_str(&j, "state", be->vifs[i].state == VIF_UP ? "up" : "disabled");
		app_json_str(&j, "fatal", nb_fatal_name((enum nb_fatal)be->vifs[i].fatal));
		app_json_str(&j, "fatal_detail", be->vifs[i].fatal_detail);
		JU("tx_pkts", v->tx_pkts);
		JU("tx_bytes", v->tx_bytes);
		JU("tx_slots", v->tx_slots);
		JU("tx_extras", v->tx_extras);
		JU("tx_ctrl", v->tx_ctrl);
		JU("tx_gso", v->tx_gso);
		JU("rx_pkts", v->rx_pkts);
		JU("rx_bytes", v->rx_bytes);
		JU("rx_slots", v->rx_slots);
		app_json_dbl(&j, "rx_mpps",
			     w.s > 0 ? (double)(v->rx_pkts - v0->rx_pkts) / w.s / 1e6 : 0.0, 4);
		JU("tx_ops", v->tx_ops);
		JU("rx_ops", v->rx_ops);
		JU("rx_ring_full", v->rx_ring_full);
		JU("tx_notify", v->tx_notify);
		JU("rx_notify", v->rx_notify);
		JU("tx_arm", v->tx_arm);
		JU("rx_arm", v->rx_arm);
		JU("peek_maps", v->peek_maps);
		json_drops(&j, v->drops);
		app_json_obj(&j, "fe");
		JU("tx_pkts", fv->tx_pkts);
		JU("tx_bytes", fv->tx_bytes);
		JU("tx_rsp_ok", fv->tx_rsp_ok);
		JU("tx_rsp_err", fv->tx_rsp_err);
		JU("tx_rsp_null", fv->tx_rsp_null);
		JU("tx_rsp_bad", fv->tx_rsp_bad);
		JU("rx_pkts", fv->rx_pkts);
		JU("rx_bytes", fv->rx_bytes);
		JU("rx_err", fv->rx_err);
		JU("verify_ok", fv->verify_ok);
		JU("verify_bad", fv->verify_bad);
		JU("order_bad", fv->order_bad);
		JU("tx_kick", fv->tx_kick);
		JU("rx_kick", fv->rx_kick);
		JU("tx_full", fv->tx_full);
		JU("fwd_pkts", fv->fwd_pkts);
		app_json_obj_end(&j);
		app_json_obj_end(&j);
	}
	app_json_arr_end(&j);
	app_json_arr(&j, "ports");
	for (unsigned int i = 0; i < be->nb_ports; i++) {
		const struct port_stats *p = &s1->port[i];

		app_json_obj(&j, NULL);
		JU("port", i);
		app_json_str(&j, "name", be->ports[i].name);
		JU("rx_pkts", p->rx_pkts);
		JU("rx_bytes", p->rx_bytes);
		JU("tx_pkts", p->tx_pkts);
		JU("tx_bytes", p->tx_bytes);
		JU("rx_ops", p->rx_ops);
		JU("bounced", p->bounced);
		json_drops(&j, p->drops);
		if (be->ports[i].in.rx_file[0] != '\0') {
			const struct port_input *in = &be->ports[i].in;

			app_json_obj(&j, "input");
			app_json_str(&j, "rx_pcap", in->rx_file);
			JU("records", in->records);
			app_json_bool(&j, "complete", !in->incomplete);
			JU("stop_record", in->stop_record);
			JU("stop_offset", in->stop_offset);
			app_json_str(&j, "why", in->why);
			app_json_obj_end(&j);
		}
		app_json_obj_end(&j);
	}
	app_json_arr_end(&j);
	(void)fe;
	return app_json_end(&j) < 0 ? -1 : 0;
}

#undef JU

/* ---- Telemetry ------------------------------------------------------------------ */

static struct be *tel_be;

static void
tel_drops(struct rte_tel_data *d, const ctr_t *drops)
{
	for (unsigned int i = 1; i < DROP_COUNT; i++) {
		char k[32];

		snprintf(k, sizeof(k), "drop_%s", nb_drop_name((enum nb_drop)i));
		rte_tel_data_add_dict_u64(d, k, CTR_GET(drops[i]));
	}
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct be_stats *s = &tel_be->st;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "fwd_pkts", CTR_GET(s->fwd_pkts));
	rte_tel_data_add_dict_u64(d, "fwd_bytes", CTR_GET(s->fwd_bytes));
	rte_tel_data_add_dict_u64(d, "deliveries", CTR_GET(s->deliveries));
	rte_tel_data_add_dict_u64(d, "copy_ops", CTR_GET(s->ops));
	rte_tel_data_add_dict_u64(d, "calls", CTR_GET(s->calls));
	rte_tel_data_add_dict_u64(d, "iters", CTR_GET(s->iters));
	rte_tel_data_add_dict_u64(d, "busy_iters", CTR_GET(s->busy_iters));
	rte_tel_data_add_dict_u64(d, "busy_cycles", CTR_GET(s->busy_cycles));
	rte_tel_data_add_dict_u64(d, "copy_cycles", CTR_GET(s->copy_cycles));
	rte_tel_data_add_dict_u64(d, "mac_learned", CTR_GET(s->mac_learned));
	return 0;
}

static int
tel_list(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned int n = strstr(cmd, "vifs") != NULL ? tel_be->nb_vifs : tel_be->nb_ports;

	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	for (unsigned int i = 0; i < n; i++)
		rte_tel_data_add_array_int(d, (int)i);
	return 0;
}

static int
tel_vif(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned long i;
	char *end;
	const struct vif_stats *s;

	(void)cmd;
	if (params == NULL)
		return -1;
	i = strtoul(params, &end, 10);
	if (*end != '\0' || i >= tel_be->nb_vifs)
		return -1;
	s = &tel_be->vifs[i].st;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "state",
				     tel_be->vifs[i].state == VIF_UP ? "up" : "disabled");
	rte_tel_data_add_dict_string(d, "fatal",
				     nb_fatal_name((enum nb_fatal)tel_be->vifs[i].fatal));
	rte_tel_data_add_dict_u64(d, "tx_pkts", CTR_GET(s->tx_pkts));
	rte_tel_data_add_dict_u64(d, "tx_bytes", CTR_GET(s->tx_bytes));
	rte_tel_data_add_dict_u64(d, "rx_pkts", CTR_GET(s->rx_pkts));
	rte_tel_data_add_dict_u64(d, "rx_bytes", CTR_GET(s->rx_bytes));
	rte_tel_data_add_dict_u64(d, "tx_ops", CTR_GET(s->tx_ops));
	rte_tel_data_add_dict_u64(d, "rx_ops", CTR_GET(s->rx_ops));
	rte_tel_data_add_dict_u64(d, "rx_ring_full", CTR_GET(s->rx_ring_full));
	rte_tel_data_add_dict_u64(d, "tx_notify", CTR_GET(s->tx_notify));
	rte_tel_data_add_dict_u64(d, "rx_notify", CTR_GET(s->rx_notify));
	tel_drops(d, s->drops);
	return 0;
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned long i;
	char *end;
	const struct port_stats *s;

	(void)cmd;
	if (params == NULL)
		return -1;
	i = strtoul(params, &end, 10);
	if (*end != '\0' || i >= tel_be->nb_ports)
		return -1;
	s = &tel_be->ports[i].st;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", tel_be->ports[i].name);
	rte_tel_data_add_dict_u64(d, "rx_pkts", CTR_GET(s->rx_pkts));
	rte_tel_data_add_dict_u64(d, "rx_bytes", CTR_GET(s->rx_bytes));
	rte_tel_data_add_dict_u64(d, "tx_pkts", CTR_GET(s->tx_pkts));
	rte_tel_data_add_dict_u64(d, "tx_bytes", CTR_GET(s->tx_bytes));
	tel_drops(d, s->drops);
	return 0;
}

void
telemetry_register(struct be *be, struct fe *fe)
{
	(void)fe;
	tel_be = be;
	rte_telemetry_register_cmd("/netback/stats", tel_stats, "gntdp-netback backend totals");
	rte_telemetry_register_cmd("/netback/vifs", tel_list, "vif ids");
	rte_telemetry_register_cmd("/netback/ports", tel_list, "port ids");
	rte_telemetry_register_cmd("/netback/vif", tel_vif, "one vif's counters. Param: vif id");
	rte_telemetry_register_cmd("/netback/port", tel_port, "one port's counters. Param: id");
}
