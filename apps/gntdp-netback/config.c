/* SPDX-License-Identifier: MIT */
/*
 * Configuration: defaults, the INI file (rte_cfgfile) and the command line,
 * all through one table of keys, so a file key and its --set override share
 * the parser, the range and the error message:
 *
 *   WHERE: [section] key = 'value': reason
 *
 * Sections: [backend], [run], [portN] (N = 0..15) and [vifN] (N = 0..63).
 * Every key is described in usage() and in configs/netback/README.md.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "nb.h"

enum sect { S_BACKEND, S_RUN, S_PORT, S_VIF };
enum ktype {
	K_UINT, K_INT, K_U64, K_DOUBLE, K_BOOL, K_STR, K_MAC, K_DST, K_SIZES, K_ENUM, K_DOMID
};

struct key {
	enum sect sect;
	const char *name;
	enum ktype type;
	size_t off;
	uint64_t min, max;
	const char *const *names; /* K_ENUM: value names, NULL-terminated */
	const char *help;
};

static const char *const g2g_names[] = {"direct", "staged", NULL};
static const char *const bad_gref_names[] = {"drop", "disable", NULL};
static const char *const mode_names[] = {"sink", "gen", "fwd", NULL};
static const char *const extra_names[] = {"none", "gso", "hash", "mcast", NULL};

#define C(f) offsetof(struct nb_conf, f)
#define P(f) offsetof(struct port_conf, f)
#define V(f) offsetof(struct vif_conf, f)

static const struct key keys[] = {
	{S_BACKEND, "domid", K_DOMID, C(backend_domid), 0, GNTDP_DOMID_FIRST_RESERVED - 1, NULL,
	 "backend (driver) domain id"},
	{S_BACKEND, "burst", K_UINT, C(burst), 1, NB_MAX_BURST, NULL,
	 "packets per vif or port per poll"},
	{S_BACKEND, "batch_ops", K_UINT, C(batch_ops), 1, NB_MAX_BATCH_OPS, NULL,
	 "copy ops per gntdp_gnttab_op call"},
	{S_BACKEND, "cache_entries", K_UINT, C(cache_entries), 2, 4096, NULL,
	 "grant cache entries per source context (power of two)"},
	{S_BACKEND, "hold_us", K_UINT, C(hold_us), 0, 1000000, NULL,
	 "pin / peek mapping hold bound, us (0: Xen-exact)"},
	{S_BACKEND, "copy", K_STR, C(copy), 0, sizeof(((struct nb_conf *)0)->copy) - 1, NULL,
	 "copy kernel: auto, memmove, scalar, sse, avx2, avx512"},
	{S_BACKEND, "g2g", K_ENUM, C(g2g), 0, 0, g2g_names,
	 "guest to guest: direct (gref->gref) or staged (via mbuf)"},
	{S_BACKEND, "bad_gref", K_ENUM, C(bad_gref), 0, 0, bad_gref_names,
	 "a failing grant: drop (Linux netback) or disable the vif"},
	{S_BACKEND, "rx_stall_us", K_UINT, C(rx_stall_us), 0, 100000000, NULL,
	 "drop for a vif without RX buffers after this long"},
	{S_BACKEND, "mbufs", K_UINT, C(mbufs), 511, 1u << 20, NULL, "mbufs in the pool"},
	{S_BACKEND, "rx_stagger", K_BOOL, C(rx_stagger), 0, 1, NULL,
	 "stagger small frames over RX pages"},
	{S_BACKEND, "peek_entries", K_UINT, C(peek_entries), 16, 4096, NULL,
	 "TX header mappings per vif (power of two)"},
	{S_RUN, "duration", K_DOUBLE, C(duration), 0, 86400, NULL,
	 "seconds to run (0: until signal / idle / expect)"},
	{S_RUN, "warmup", K_DOUBLE, C(warmup), 0, 3600, NULL, "seconds before measuring"},
	{S_RUN, "idle_exit_ms", K_UINT, C(idle_exit_ms), 0, 3600000, NULL,
	 "stop after this long without traffic (0: never)"},
	{S_RUN, "progress_ms", K_UINT, C(progress_ms), 0, 3600000, NULL,
	 "progress line period (0: none)"},
	{S_RUN, "expect_port_tx", K_U64, C(expect_port_tx), 0, UINT64_MAX / 2, NULL,
	 "stop once the ports sent this many packets (0: no)"},
	{S_RUN, "quiet", K_BOOL, C(quiet), 0, 1, NULL, "no effective-config print"},
	{S_PORT, "devargs", K_STR, P(devargs), 1, sizeof(((struct port_conf *)0)->devargs) - 1,
	 NULL, "DPDK vdev name,args (or an existing ethdev name)"},
	{S_PORT, "bridge", K_UINT, P(bridge), 0, NB_MAX_BRIDGES - 1, NULL, "bridge number"},
	{S_PORT, "rx_desc", K_UINT, P(rx_desc), 64, 16384, NULL, "RX descriptors"},
	{S_PORT, "tx_desc", K_UINT, P(tx_desc), 64, 16384, NULL, "TX descriptors"},
	{S_VIF, "guest", K_DOMID, V(guest), 1, GNTDP_DOMID_FIRST_RESERVED - 1, NULL,
	 "frontend domain id"},
	{S_VIF, "bridge", K_UINT, V(bridge), 0, NB_MAX_BRIDGES - 1, NULL, "bridge number"},
	{S_VIF, "mac", K_MAC, V(mac), 0, 0, NULL, "the vif's MAC (default 02:00:00:00:gg:ii)"},
	{S_VIF, "mode", K_ENUM, V(mode), 0, 0, mode_names, "sink, gen or fwd"},
	{S_VIF, "fwd_to", K_INT, V(fwd_to), 0, NB_MAX_VIFS - 1, NULL,
	 "fwd: vif (same guest) the frames leave on"},
	{S_VIF, "dst", K_DST, V(dst), 0, 0, NULL, "gen: destination MAC, or vifN"},
	{S_VIF, "sizes", K_SIZES, V(sizes), 14, GNTDP_NETIF_MAX_TX_SIZE, NULL,
	 "gen: frame sizes, used in turn"},
	{S_VIF, "count", K_U64, V(count), 0, UINT64_MAX / 2, NULL,
	 "gen: frames to send (0: until stopped)"},
	{S_VIF, "depth", K_UINT, V(depth), 1, GNTDP_NETIF_RING_SIZE, NULL,
	 "gen: TX slots in flight (= TX buffers)"},
	{S_VIF, "rx_buffers", K_UINT, V(rx_buffers), 1, GNTDP_NETIF_RING_SIZE, NULL,
	 "RX buffers posted"},
	{S_VIF, "slot_size", K_UINT, V(slot_size), 1, GNTDP_PAGE_SIZE, NULL,
	 "gen: bytes per TX slot at most"},
	{S_VIF, "tx_offset", K_UINT, V(tx_offset), 0, 240, NULL,
	 "gen: first-slot offset step (16 positions)"},
	{S_VIF, "verify", K_BOOL, V(verify), 0, 1, NULL, "gen: write, sink: check every byte"},
	{S_VIF, "extra", K_ENUM, V(extra), 0, 0, extra_names,
	 "gen: extra info slots (none, gso, hash, mcast)"},
};

static const char *const sect_names[] = {"backend", "run", "port", "vif"};

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

void
conf_defaults(struct nb_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->backend_domid = 0;
	c->burst = 64;
	c->batch_ops = 256;
	c->cache_entries = 1024;
	c->hold_us = 1000;
	snprintf(c->copy, sizeof(c->copy), "auto");
	c->g2g = G2G_DIRECT;
	c->bad_gref = BAD_GREF_DROP;
	c->rx_stall_us = 10000;
	c->mbufs = 8191;
	c->rx_stagger = true;
	c->peek_entries = 512;
	c->progress_ms = 1000;
}

static void
port_defaults(struct port_conf *p)
{
	p->used = true;
	p->rx_desc = 1024;
	p->tx_desc = 1024;
}

static void
vif_defaults(struct vif_conf *v, unsigned int idx)
{
	v->used = true;
	v->guest = (gntdp_domid_t)(1 + idx);
	v->mode = VIF_SINK;
	v->fwd_to = -1;
	v->dst_vif = -1;
	memset(v->dst, 0xff, 6);
	v->sizes[0] = 64;
	v->nb_sizes = 1;
	v->depth = GNTDP_NETIF_RING_SIZE;
	v->rx_buffers = GNTDP_NETIF_RING_SIZE;
	v->slot_size = GNTDP_PAGE_SIZE;
	v->mac[0] = 0x02; /* locally administered; completed in conf_validate */
}

static int
bad(const char *where, const char *section, const char *key, const char *value,
    const char *why)
{
	fprintf(stderr, "gntdp-netback: %s: [%s] %s = '%s': %s\n", where, section, key, value,
		why);
	return -EINVAL;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s == '-' || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno == 0 && *end == '\0' ? 0 : -EINVAL;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *const t[] = {"on", "yes", "true", "1"}, *const f[] = {"off", "no",
										"false", "0"};

	for (unsigned int i = 0; i < 4; i++) {
		if (strcmp(s, t[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int
parse_sizes(const char *s, struct vif_conf *v, const struct key *k, char *why, size_t wl)
{
	unsigned int n = 0;

	for (;;) {
		char *end;
		unsigned long long x;

		if (!isdigit((unsigned char)*s))
			break;
		errno = 0;
		x = strtoull(s, &end, 10);
		if (errno != 0 || x < k->min || x > k->max || (*end != ',' && *end != '\0'))
			break;
		if (n == NB_MAX_SIZES) {
			snprintf(why, wl, "at most %d sizes", NB_MAX_SIZES);
			return -EINVAL;
		}
		v->sizes[n++] = (uint16_t)x;
		if (*end == '\0') {
			v->nb_sizes = n;
			return 0;
		}
		s = end + 1;
	}
	snprintf(why, wl, "want a comma list of sizes in %lu..%lu", (unsigned long)k->min,
		 (unsigned long)k->max);
	return -EINVAL;
}

/* Apply one value to the field of @p k in @p base. */
static int
apply(const struct key *k, void *base, const char *value, char *why, size_t wl)
{
	char *f = (char *)base + k->off;
	uint64_t x;
	double d;
	char *end;

	switch (k->type) {
	case K_UINT:
	case K_INT:
	case K_U64:
	case K_DOMID:
		if (parse_u64(value, &x) != 0) {
			snprintf(why, wl, "not a number");
			return -EINVAL;
		}
		if (x < k->min || x > k->max) {
			snprintf(why, wl, "out of range %lu..%lu", (unsigned long)k->min,
				 (unsigned long)k->max);
			return -EINVAL;
		}
		if (k->type == K_U64)
			*(uint64_t *)(void *)f = x;
		else if (k->type == K_DOMID)
			*(gntdp_domid_t *)(void *)f = (gntdp_domid_t)x;
		else if (k->type == K_INT)
			*(int *)(void *)f = (int)x;
		else
			*(unsigned int *)(void *)f = (unsigned int)x;
		return 0;
	case K_DOUBLE:
		errno = 0;
		d = strtod(value, &end);
		if (errno != 0 || *end != '\0' || end == value || d < 0 || d > (double)k->max) {
			snprintf(why, wl, "not a number in 0..%lu", (unsigned long)k->max);
			return -EINVAL;
		}
		*(double *)(void *)f = d;
		return 0;
	case K_BOOL:
		if (parse_bool(value, (bool *)(void *)f) != 0) {
			snprintf(why, wl, "not on/off");
			return -EINVAL;
		}
		return 0;
	case K_STR:
		if (strlen(value) > k->max || strlen(value) < k->min) {
			snprintf(why, wl, "length must be %lu..%lu", (unsigned long)k->min,
				 (unsigned long)k->max);
			return -EINVAL;
		}
		snprintf(f, k->max + 1, "%s", value);
		return 0;
	case K_MAC:
		if (parse_mac(value, (uint8_t *)f) != 0) {
			snprintf(why, wl, "not a MAC address xx:xx:xx:xx:xx:xx");
			return -EINVAL;
		}
		return 0;
	case K_DST: {
		struct vif_conf *v = base;

		if (strncmp(value, "vif", 3) == 0 && parse_u64(value + 3, &x) == 0 &&
		    x < NB_MAX_VIFS) {
			v->dst_vif = (int)x;
			return 0;
		}
		v->dst_vif = -1;
		if (parse_mac(value, v->dst) != 0) {
			snprintf(why, wl, "not a MAC address or vifN");
			return -EINVAL;
		}
		return 0;
	}
	case K_SIZES:
		return parse_sizes(value, base, k, why, wl);
	case K_ENUM:
		for (unsigned int i = 0; k->names[i] != NULL; i++) {
			if (strcmp(value, k->names[i]) == 0) {
				*(int *)(void *)f = (int)i;
				return 0;
			}
		}
		snprintf(why, wl, "unknown value");
		return -EINVAL;
	}
	return -EINVAL;
}

/* Section name -> kind and index. */
static int
section_kind(const char *name, enum sect *s, unsigned int *idx)
{
	uint64_t x;

	*idx = 0;
	if (strcmp(name, "backend") == 0) {
		*s = S_BACKEND;
		return 0;
	}
	if (strcmp(name, "run") == 0) {
		*s = S_RUN;
		return 0;
	}
	if (strncmp(name, "port", 4) == 0 && parse_u64(name + 4, &x) == 0 && x < NB_MAX_PORTS) {
		*s = S_PORT;
		*idx = (unsigned int)x;
		return 0;
	}
	if (strncmp(name, "vif", 3) == 0 && parse_u64(name + 3, &x) == 0 && x < NB_MAX_VIFS) {
		*s = S_VIF;
		*idx = (unsigned int)x;
		return 0;
	}
	return -EINVAL;
}

int
conf_set(struct nb_conf *c, const char *where, const char *section, const char *key,
	 const char *value)
{
	enum sect s;
	unsigned int idx;
	char why[96];
	void *base;

	if (section_kind(section, &s, &idx) != 0)
		return bad(where, section, key, value,
			   "unknown section (backend, run, portN, vifN)");
	if (s == S_PORT) {
		if (!c->ports[idx].used)
			port_defaults(&c->ports[idx]);
		if (idx >= c->nb_ports)
			c->nb_ports = idx + 1;
		base = &c->ports[idx];
	} else if (s == S_VIF) {
		if (!c->vifs[idx].used)
			vif_defaults(&c->vifs[idx], idx);
		if (idx >= c->nb_vifs)
			c->nb_vifs = idx + 1;
		base = &c->vifs[idx];
	} else {
		base = c;
	}
	for (unsigned int i = 0; i < NELEM(keys); i++) {
		if (keys[i].sect != s || strcmp(keys[i].name, key) != 0)
			continue;
		if (apply(&keys[i], base, value, why, sizeof(why)) != 0)
			return bad(where, section, key, value, why);
		return 0;
	}
	return bad(where, section, key, value, "unknown key");
}

/* A section with no keys still declares its object ([vif3] alone is a sink of guest 4). */
static int
declare(struct nb_conf *c, const char *path, const char *sect)
{
	enum sect s;
	unsigned int idx;

	if (section_kind(sect, &s, &idx) != 0)
		return bad(path, sect, "", "", "unknown section (backend, run, portN, vifN)");
	if (s == S_VIF && !c->vifs[idx].used) {
		vif_defaults(&c->vifs[idx], idx);
		if (idx >= c->nb_vifs)
			c->nb_vifs = idx + 1;
	}
	if (s == S_PORT && !c->ports[idx].used) {
		port_defaults(&c->ports[idx]);
		if (idx >= c->nb_ports)
			c->nb_ports = idx + 1;
	}
	return 0;
}

int
conf_load_file(struct nb_conf *c, const char *path)
{
	struct rte_cfgfile *cfg = rte_cfgfile_load(path, 0);
	int n, rc = 0;

	if (cfg == NULL) {
		fprintf(stderr, "gntdp-netback: %s: cannot open or parse\n", path);
		return -EINVAL;
	}
	n = rte_cfgfile_num_sections(cfg, NULL, 0);
	for (int i = 0; i < n && rc == 0; i++) {
		char sect[CFG_NAME_LEN];
		struct rte_cfgfile_entry ents[64];
		int ne = rte_cfgfile_section_entries_by_index(cfg, i, sect, ents, 64);

		if (ne < 0) {
			fprintf(stderr, "gntdp-netback: %s: section %d unreadable\n", path, i);
			rc = -EINVAL;
			break;
		}
		rc = declare(c, path, sect);
		for (int e = 0; e < ne && rc == 0; e++)
			rc = conf_set(c, path, sect, ents[e].name, ents[e].value);
	}
	rte_cfgfile_close(cfg);
	return rc;
}

int
conf_validate(struct nb_conf *c)
{
	unsigned int members[NB_MAX_BRIDGES] = {0};

	if (c->cache_entries & (c->cache_entries - 1))
		return bad("config", "backend", "cache_entries", "", "not a power of two");
	if (c->peek_entries & (c->peek_entries - 1))
		return bad("config", "backend", "peek_entries", "", "not a power of two");
	if (c->nb_vifs == 0)
		return bad("config", "vif0", "", "", "no vif configured");
	for (unsigned int i = 0; i < c->nb_ports; i++) {
		char s[16];

		snprintf(s, sizeof(s), "port%u", i);
		if (!c->ports[i].used || c->ports[i].devargs[0] == '\0')
			return bad("config", s, "devargs", "", "every port 0..N-1 needs devargs");
		members[c->ports[i].bridge]++;
	}
	for (unsigned int i = 0; i < c->nb_vifs; i++) {
		struct vif_conf *v = &c->vifs[i];
		char s[16];

		snprintf(s, sizeof(s), "vif%u", i);
		if (!v->used)
			return bad("config", s, "", "", "vifs must be numbered 0..N-1 without gaps");
		if (v->guest == c->backend_domid)
			return bad("config", s, "guest", "", "the backend's own domain id");
		if (v->mac[1] == 0 && v->mac[2] == 0 && v->mac[3] == 0 && v->mac[4] == 0 &&
		    v->mac[5] == 0 && v->mac[0] == 0x02) {
			v->mac[4] = (uint8_t)v->guest;
			v->mac[5] = (uint8_t)i;
		}
		if (v->mode == VIF_FWD) {
			if (v->fwd_to < 0 || (unsigned int)v->fwd_to >= c->nb_vifs ||
			    (unsigned int)v->fwd_to == i)
				return bad("config", s, "fwd_to", "", "needs another existing vif");
			if (c->vifs[v->fwd_to].guest != v->guest)
				return bad("config", s, "fwd_to", "",
					   "must be a vif of the same guest");
		}
		if (v->dst_vif >= (int)c->nb_vifs)
			return bad("config", s, "dst", "", "no such vif");
		if (++members[v->bridge] > NB_BRIDGE_MEMBERS_MAX)
			return bad("config", s, "bridge", "", "too many members in one bridge");
	}
	return 0;
}

static void
mac_str(const uint8_t *m, char *s, size_t l)
{
	snprintf(s, l, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void
conf_print(const struct nb_conf *c, FILE *f)
{
	fprintf(f, "gntdp-netback: backend dom%u burst %u batch_ops %u cache %u hold %u us "
		   "copy %s g2g %s bad_gref %s rx_stall %u us mbufs %u stagger %s peek %u\n",
		c->backend_domid, c->burst, c->batch_ops, c->cache_entries, c->hold_us, c->copy,
		g2g_names[c->g2g], bad_gref_names[c->bad_gref], c->rx_stall_us, c->mbufs,
		c->rx_stagger ? "on" : "off", c->peek_entries);
	fprintf(f, "  run: duration %.1f s warmup %.1f s idle_exit %u ms progress %u ms "
		   "expect_port_tx %lu\n",
		c->duration, c->warmup, c->idle_exit_ms, c->progress_ms,
		(unsigned long)c->expect_port_tx);
	for (unsigned int i = 0; i < c->nb_ports; i++)
		fprintf(f, "  port%u: bridge %u %s\n", i, c->ports[i].bridge, c->ports[i].devargs);
	for (unsigned int i = 0; i < c->nb_vifs; i++) {
		const struct vif_conf *v = &c->vifs[i];
		char mac[24], dst[24];

		mac_str(v->mac, mac, sizeof(mac));
		if (v->dst_vif >= 0)
			snprintf(dst, sizeof(dst), "vif%d", v->dst_vif);
		else
			mac_str(v->dst, dst, sizeof(dst));
		fprintf(f, "  vif%u: guest dom%u bridge %u mac %s mode %s", i, v->guest, v->bridge,
			mac, mode_names[v->mode]);
		if (v->mode == VIF_FWD)
			fprintf(f, " -> vif%d", v->fwd_to);
		if (v->mode == VIF_GEN) {
			fprintf(f, " dst %s sizes", dst);
			for (unsigned int k = 0; k < v->nb_sizes; k++)
				fprintf(f, "%s%u", k ? "," : " ", v->sizes[k]);
			fprintf(f, " count %lu depth %u slot_size %u extra %s", (unsigned long)v->count,
				v->depth, v->slot_size, extra_names[v->extra]);
		}
		fprintf(f, " rx_buffers %u verify %s\n", v->rx_buffers, v->verify ? "on" : "off");
	}
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: gntdp-netback [EAL options] -- [options]\n"
		   "  --config FILE        INI file ([backend] [run] [portN] [vifN])\n"
		   "  --set SEC.KEY=VALUE  override one key (repeatable)\n"
		   "  --duration S         run for S seconds\n"
		   "  --json FILE          write the results as JSON ('-': stdout)\n"
		   "  --progress MS        progress line period (0: none)\n"
		   "  --idle-exit MS       stop after MS without traffic\n"
		   "  --quiet              no effective-config print\n"
		   "  --dry-run            check and print the configuration, then exit\n"
		   "  --help\n"
		   "keys:\n");
	for (unsigned int i = 0; i < NELEM(keys); i++)
		fprintf(f, "  [%s%s] %-15s %s\n", sect_names[keys[i].sect],
			keys[i].sect >= S_PORT ? "N" : "", keys[i].name, keys[i].help);
}

static bool dry_run;

bool
conf_dry_run(void)
{
	return dry_run;
}

int
conf_parse_args(struct nb_conf *c, int argc, char **argv)
{
	enum { O_CONFIG = 256, O_SET, O_DURATION, O_JSON, O_PROGRESS, O_IDLE, O_QUIET, O_DRY,
	       O_HELP };
	static const struct option opts[] = {
		{"config", required_argument, NULL, O_CONFIG},
		{"set", required_argument, NULL, O_SET},
		{"duration", required_argument, NULL, O_DURATION},
		{"json", required_argument, NULL, O_JSON},
		{"progress", required_argument, NULL, O_PROGRESS},
		{"idle-exit", required_argument, NULL, O_IDLE},
		{"quiet", no_argument, NULL, O_QUIET},
		{"dry-run", no_argument, NULL, O_DRY},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	int o, rc = 0;

	optind = 1;
	while (rc == 0 && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char buf[320], *dot, *eq;

		switch (o) {
		case O_CONFIG:
			rc = conf_load_file(c, optarg);
			break;
		case O_SET:
			snprintf(buf, sizeof(buf), "%s", optarg);
			dot = strchr(buf, '.');
			eq = strchr(buf, '=');
			if (dot == NULL || eq == NULL || eq < dot) {
				fprintf(stderr, "gntdp-netback: --set %s: want SECTION.KEY=VALUE\n",
					optarg);
				return -EINVAL;
			}
			*dot = '\0';
			*eq = '\0';
			rc = conf_set(c, "command line", buf, dot + 1, eq + 1);
			break;
		case O_DURATION:
			rc = conf_set(c, "command line", "run", "duration", optarg);
			break;
		case O_JSON:
			snprintf(c->json, sizeof(c->json), "%s", optarg);
			break;
		case O_PROGRESS:
			rc = conf_set(c, "command line", "run", "progress_ms", optarg);
			break;
		case O_IDLE:
			rc = conf_set(c, "command line", "run", "idle_exit_ms", optarg);
			break;
		case O_QUIET:
			c->quiet = true;
			break;
		case O_DRY:
			dry_run = true;
			break;
		case O_HELP:
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "gntdp-netback: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return rc;
}
