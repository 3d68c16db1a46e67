/* SPDX-License-Identifier: MIT */
/*
 * gntdp-netback's configuration: its key table for the app layer's config
 * engine (apps/common/app.h), which reads the INI file and --set, and gives
 * the defaults, ranges, --help and the effective-config printout; then the
 * checks across keys. Errors read
 *
 *   FILE:LINE: [section] key = 'value': reason
 *
 * (--set or the option in place of FILE:LINE). Sections: [backend], [run],
 * [portN] (N = 0..15) and [vifN] (N = 0..63). The data-plane keys
 * (cache_entries, hold_us, copy) are the shared APP_DP_KEY_* ones. Every
 * key is described by --help and in configs/netback/README.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "nb.h"

static const char *const g2g_names[] = {"direct", "staged", NULL};
static const char *const bad_gref_names[] = {"drop", "disable", NULL};
static const char *const mode_names[] = {"sink", "gen", "fwd", NULL};
static const char *const extra_names[] = {"none", "gso", "hash", "mcast", NULL};

int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static void
mac_print(const uint8_t *m, char *s, size_t l)
{
	snprintf(s, l, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int
mac_parse(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	if (parse_mac(v, (uint8_t *)base + k->off) != 0) {
		snprintf(why, wl, "not a MAC address xx:xx:xx:xx:xx:xx");
		return -EINVAL;
	}
	return 0;
}

static void
mac_show(const struct app_key *k, const void *base, char *buf, size_t len)
{
	mac_print((const uint8_t *)base + k->off, buf, len);
}

/* [vifN] dst: a MAC, or vifN (the MAC of that vif). */
static int
dst_parse(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	struct vif_conf *vc = base;
	uint64_t x;

	(void)k;
	if (strncmp(v, "vif", 3) == 0 &&
	    app_parse_u64(v + 3, 0, NB_MAX_VIFS - 1, &x, why, wl) == 0) {
		vc->dst_vif = (int)x;
		return 0;
	}
	vc->dst_vif = -1;
	if (parse_mac(v, vc->dst) != 0) {
		snprintf(why, wl, "not a MAC address or vifN");
		return -EINVAL;
	}
	return 0;
}

static void
dst_show(const struct app_key *k, const void *base, char *buf, size_t len)
{
	const struct vif_conf *vc = base;

	(void)k;
	if (vc->dst_vif >= 0)
		snprintf(buf, len, "vif%d", vc->dst_vif);
	else
		mac_print(vc->dst, buf, len);
}

/* [vifN] sizes: a comma list of frame sizes. */
static int
sizes_parse(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	struct vif_conf *vc = base;
	unsigned int n = 0;
	char item[32];

	for (const char *p = v;; p++) {
		const char *e = strchr(p, ',');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		uint64_t x;

		if (n == NB_MAX_SIZES) {
			snprintf(why, wl, "at most %d sizes", NB_MAX_SIZES);
			return -EINVAL;
		}
		if (len >= sizeof(item)) {
			snprintf(why, wl, "list item too long");
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (app_parse_u64(item, k->min, k->max, &x, why, wl) < 0)
			return -EINVAL;
		vc->sizes[n++] = (uint16_t)x;
		if (e == NULL)
			break;
		p = e;
	}
	vc->nb_sizes = n;
	return 0;
}

static void
sizes_show(const struct app_key *k, const void *base, char *buf, size_t len)
{
	const struct vif_conf *vc = base;
	size_t o = 0;

	(void)k;
	buf[0] = '\0';
	for (unsigned int i = 0; i < vc->nb_sizes && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%u", i ? "," : "", vc->sizes[i]);
}

#define C(f) offsetof(struct nb_conf, f)
#define P(f) offsetof(struct port_conf, f)
#define V(f) offsetof(struct vif_conf, f)
#define KEY(sec, key, t, o, lo, hi, d, h)                                                       \
	{.section = sec, .name = key, .type = t, .off = o, .min = lo, .max = hi, .def = d,       \
	 .help = h}
#define ENUM(sec, key, o, list, d, h)                                                          \
	{.section = sec, .name = key, .type = APP_KT_ENUM, .off = o, .names = list, .def = d,    \
	 .help = h}
#define CUSTOM(sec, key, o, fn, lo, hi, d, h)                                                  \
	{.section = sec, .name = key, .type = APP_KT_CUSTOM, .off = o, .min = lo, .max = hi,     \
	 .def = d, .help = h, .parse = fn##_parse, .print = fn##_show}

static const struct app_key keys[] = {
	KEY("backend", "domid", APP_KT_U16, C(backend_domid), 0, GNTDP_DOMID_FIRST_RESERVED - 1,
	    "0", "backend (driver) domain id"),
	KEY("backend", "burst", APP_KT_UINT, C(burst), 1, NB_MAX_BURST, "64",
	    "packets per vif or port per poll"),
	KEY("backend", "batch_ops", APP_KT_UINT, C(batch_ops), 1, NB_MAX_BATCH_OPS, "256",
	    "copy ops per gntdp_gnttab_op call"),
	APP_DP_KEY_CACHE_ENTRIES("backend", struct nb_conf, cache_entries),
	APP_DP_KEY_HOLD_US("backend", struct nb_conf, hold_us),
	APP_DP_KEY_IDLE_SLEEP_US("backend", struct nb_conf, idle_sleep_us),
	APP_DP_KEY_IDLE_AFTER_US("backend", struct nb_conf, idle_after_us),
	APP_DP_KEY_COPY("backend", struct nb_conf, copy),
	ENUM("backend", "g2g", C(g2g), g2g_names, "direct",
	     "guest to guest: direct (gref->gref) or staged (via mbuf)"),
	ENUM("backend", "bad_gref", C(bad_gref), bad_gref_names, "drop",
	     "a failing grant: drop (Linux netback) or disable the vif"),
	KEY("backend", "rx_stall_us", APP_KT_UINT, C(rx_stall_us), 0, 100000000, "10000",
	    "drop for a vif without RX buffers after this long"),
	KEY("backend", "mbufs", APP_KT_UINT, C(mbufs), 511, 1u << 20, "8191", "mbufs in the pool"),
	KEY("backend", "group_fwd_mask", APP_KT_UINT, C(group_fwd_mask), 0, 0xffff, "0",
	    "802.1D link-local groups 01:80:C2:00:00:0n forwarded: bit n (Linux bridge's; "
	    "never PAUSE, bit 1)"),
	KEY("backend", "rx_stagger", APP_KT_BOOL, C(rx_stagger), 0, 0, "on",
	    "RX data at each buffer's own page offset (off: at 0)"),
	{.section = "backend", .name = "peek_entries", .type = APP_KT_UINT, .off = C(peek_entries),
	 .min = 16, .max = 4096, .flags = APP_KF_POW2, .def = "512",
	 .help = "TX header mappings per vif (power of two)"},
	{.section = "run", .name = "duration", .type = APP_KT_DOUBLE, .off = C(duration),
	 .dmax = 86400, .def = "0", .help = "seconds to run (0: until signal / idle / expect)"},
	{.section = "run", .name = "warmup", .type = APP_KT_DOUBLE, .off = C(warmup), .dmax = 3600,
	 .def = "0", .help = "seconds before measuring"},
	KEY("run", "idle_exit_ms", APP_KT_UINT, C(idle_exit_ms), 0, 3600000, "0",
	    "stop after this long without traffic (0: never)"),
	KEY("run", "progress_ms", APP_KT_UINT, C(progress_ms), 0, 3600000, "1000",
	    "progress line period (0: none)"),
	KEY("run", "expect_port_tx", APP_KT_U64, C(expect_port_tx), 0, UINT64_MAX / 2, "0",
	    "stop once the ports sent this many packets (0: no)"),
	KEY("run", "quiet", APP_KT_BOOL, C(quiet), 0, 0, "off", "no effective-config print"),
	KEY("port", "devargs", APP_KT_STR, P(devargs), 1,
	    sizeof(((struct port_conf *)0)->devargs) - 1, NULL,
	    "DPDK vdev name,args (or an existing ethdev name)"),
	KEY("port", "bridge", APP_KT_UINT, P(bridge), 0, NB_MAX_BRIDGES - 1, "0", "bridge number"),
	KEY("port", "rx_desc", APP_KT_UINT, P(rx_desc), 64, 16384, "1024", "RX descriptors"),
	KEY("port", "tx_desc", APP_KT_UINT, P(tx_desc), 64, 16384, "1024", "TX descriptors"),
	KEY("port", "mtu", APP_KT_UINT, P(mtu), NB_MTU_MIN, NB_MTU_MAX, "1500",
	    "MTU (frames up to MTU + 22 bytes pass)"),
	KEY("vif", "guest", APP_KT_U16, V(guest), 1, GNTDP_DOMID_FIRST_RESERVED - 1, NULL,
	    "frontend domain id (default: N + 1)"),
	KEY("vif", "bridge", APP_KT_UINT, V(bridge), 0, NB_MAX_BRIDGES - 1, "0", "bridge number"),
	CUSTOM("vif", "mac", V(mac), mac, 0, 0, NULL, "the vif's MAC (default 02:00:00:00:gg:ii)"),
	ENUM("vif", "mode", V(mode), mode_names, "sink", "sink, gen or fwd"),
	KEY("vif", "fwd_to", APP_KT_INT, V(fwd_to), 0, NB_MAX_VIFS - 1, NULL,
	    "fwd: vif (same guest) the frames leave on"),
	CUSTOM("vif", "dst", V(dst), dst, 0, 0, "ff:ff:ff:ff:ff:ff",
	       "gen: destination MAC, or vifN"),
	CUSTOM("vif", "sizes", V(sizes), sizes, 14, GNTDP_NETIF_MAX_TX_SIZE, "64",
	       "gen: frame sizes, used in turn"),
	KEY("vif", "count", APP_KT_U64, V(count), 0, UINT64_MAX / 2, "0",
	    "gen: frames to send (0: until stopped)"),
	KEY("vif", "depth", APP_KT_UINT, V(depth), 1, GNTDP_NETIF_RING_SIZE, "256",
	    "gen: TX slots in flight (of a ring's worth of TX buffers, reused LIFO)"),
	KEY("vif", "rx_buffers", APP_KT_UINT, V(rx_buffers), 1, GNTDP_NETIF_RING_SIZE, "256",
	    "RX buffers posted"),
	KEY("vif", "slot_size", APP_KT_UINT, V(slot_size), 1, GNTDP_PAGE_SIZE, "4096",
	    "gen: bytes per TX slot at most"),
	KEY("vif", "tx_offset", APP_KT_UINT, V(tx_offset), 0, 240, "0",
	    "gen: first-slot offset step (16 positions; 0: each buffer's own offset)"),
	KEY("vif", "inflight_bytes", APP_KT_UINT, V(inflight_bytes), 0, 1u << 24, "0",
	    "gen: TX frame bytes in flight at most, besides depth (0: no bound)"),
	KEY("vif", "stagger", APP_KT_BOOL, V(stagger), 0, 0, "on",
	    "gen: each TX buffer's data at its own page offset (off: at 0)"),
	KEY("vif", "verify", APP_KT_BOOL, V(verify), 0, 0, "off",
	    "gen: write, sink: check every byte"),
	ENUM("vif", "extra", V(extra), extra_names, "none",
	     "gen: extra info slots (none, gso, hash, mcast)"),
	KEY("vif", "mtu", APP_KT_UINT, V(mtu), NB_MTU_MIN, NB_MTU_MAX, "1500",
	    "MTU (frames up to MTU + 22 bytes pass; GSO frames up to 64 KiB - 1)"),
};

/* [portN] named for the first time (after its keys' defaults). */
static void
port_declare(void *conf, unsigned int idx)
{
	struct nb_conf *c = conf;

	c->ports[idx].used = true;
	if (idx >= c->nb_ports)
		c->nb_ports = idx + 1;
}

static void
vif_declare(void *conf, unsigned int idx)
{
	struct nb_conf *c = conf;
	struct vif_conf *v = &c->vifs[idx];

	v->used = true;
	v->guest = (gntdp_domid_t)(1 + idx);
	v->fwd_to = -1;
	v->mac[0] = 0x02; /* locally administered; completed in conf_validate */
	if (idx >= c->nb_vifs)
		c->nb_vifs = idx + 1;
}

static const struct app_section sections[] = {
	{.name = "backend"},
	{.name = "run"},
	{.name = "port", .count = NB_MAX_PORTS, .off = C(ports), .stride = sizeof(struct port_conf),
	 .declare = port_declare},
	{.name = "vif", .count = NB_MAX_VIFS, .off = C(vifs), .stride = sizeof(struct vif_conf),
	 .declare = vif_declare},
};

const struct app_cfg_desc nb_cfg_desc = {
	.sections = sections,
	.nb_sections = NELEM(sections),
	.keys = keys,
	.nb_keys = NELEM(keys),
};

/* The engine state conf_set / conf_validate work on: the app's, or conf_defaults' own. */
static struct app_cfg own_cfg;
static struct app_cfg *g_cfg;

void
conf_attach(struct app_cfg *cfg)
{
	g_cfg = cfg;
}

void
conf_defaults(struct nb_conf *c)
{
	memset(c, 0, sizeof(*c));
	app_cfg_fini(&own_cfg);
	if (app_cfg_init(&own_cfg, &nb_cfg_desc, c) != 0)
		abort();
	g_cfg = &own_cfg;
}

int
conf_set(struct nb_conf *c, const char *where, const char *section, const char *key,
	 const char *value)
{
	(void)c;
	return app_cfg_set_key(g_cfg, where, section, key, value);
}

static int
bad(const char *section, const char *key, const char *why)
{
	return app_cfg_bad(g_cfg, section, key, NULL, why);
}

int
conf_validate(struct nb_conf *c)
{
	unsigned int members[NB_MAX_BRIDGES] = {0};

	/* cache_entries and peek_entries: powers of two, by the key table. */
	if (c->group_fwd_mask & NB_GROUP_PAUSE_BIT)
		return bad("backend", "group_fwd_mask",
			   "bit 1 is 01:80:C2:00:00:01 (PAUSE): never forwarded");
	if (c->nb_vifs == 0)
		return bad("vif0", "guest", "no vif configured");
	for (unsigned int i = 0; i < c->nb_ports; i++) {
		char s[16];

		snprintf(s, sizeof(s), "port%u", i);
		if (!c->ports[i].used || c->ports[i].devargs[0] == '\0')
			return bad(s, "devargs", "every port 0..N-1 needs devargs");
		members[c->ports[i].bridge]++;
	}
	for (unsigned int i = 0; i < c->nb_vifs; i++) {
		struct vif_conf *v = &c->vifs[i];
		char s[16];

		snprintf(s, sizeof(s), "vif%u", i);
		if (!v->used)
			return bad(s, "guest", "vifs must be numbered 0..N-1 without gaps");
		if (v->guest == c->backend_domid)
			return bad(s, "guest", "the backend's own domain id");
		if (v->mac[1] == 0 && v->mac[2] == 0 && v->mac[3] == 0 && v->mac[4] == 0 &&
		    v->mac[5] == 0 && v->mac[0] == 0x02) {
			v->mac[4] = (uint8_t)v->guest;
			v->mac[5] = (uint8_t)i;
		}
		if (v->mode == VIF_FWD) {
			if (v->fwd_to < 0 || (unsigned int)v->fwd_to >= c->nb_vifs ||
			    (unsigned int)v->fwd_to == i)
				return bad(s, "fwd_to", "needs another existing vif");
			if (c->vifs[v->fwd_to].guest != v->guest)
				return bad(s, "fwd_to", "must be a vif of the same guest");
		}
		if (v->dst_vif >= (int)c->nb_vifs)
			return bad(s, "dst", "no such vif");
		if (++members[v->bridge] > NB_BRIDGE_MEMBERS_MAX)
			return bad(s, "bridge", "too many members in one bridge");
	}
	return 0;
}

void
conf_print(const struct nb_conf *c, FILE *f)
{
	(void)c;
	app_cfg_print(g_cfg, f);
}
