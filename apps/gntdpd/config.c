/* SPDX-License-Identifier: MIT */
/*
 * gntdpd's configuration (docs/daemon.md "Configuration"): the key table
 * for the app layer's config engine (apps/common/app.h), the ACL ([access]
 * and the rules [aclN]: a user or a group, the domids it may act as, whether it may act
 * as the privileged toolstack) and the checks across keys, which also
 * resolve user and group names once, before EAL starts.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gntdpd.h"

/* ---- custom keys ---------------------------------------------------------- */

/* [socket] mode: octal permission bits, 0..0777. */
static int
parse_mode(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	unsigned long m;
	char *end;

	if (*v == '\0' || !isdigit((unsigned char)*v)) {
		snprintf(why, wl, "not an octal mode (e.g. 0660)");
		return -EINVAL;
	}
	errno = 0;
	m = strtoul(v, &end, 8);
	if (errno != 0 || *end != '\0' || m > 0777) {
		snprintf(why, wl, "not an octal mode in 0..0777");
		return -EINVAL;
	}
	*(unsigned int *)(void *)((char *)base + k->off) = (unsigned int)m;
	return 0;
}

static void
print_mode(const struct app_key *k, const void *base, char *buf, size_t len)
{
	snprintf(buf, len, "0%03o", *(const unsigned int *)(const void *)((const char *)base + k->off));
}

/* [aclN] domids: "1-9,12" into the rule's ranges. */
static int
parse_domids(const struct app_key *k, void *base, const char *v, char *why, size_t wl)
{
	struct acl_rule *r = base;
	const char *s = v;

	(void)k;
	unsigned int n = 0;

	while (*s != '\0') {
		uint64_t lo, hi;
		char *end;

		while (*s == ' ')
			s++;
		if (!isdigit((unsigned char)*s))
			goto bad;
		lo = strtoull(s, &end, 10);
		hi = lo;
		s = end;
		if (*s == '-') {
			s++;
			if (!isdigit((unsigned char)*s))
				goto bad;
			hi = strtoull(s, &end, 10);
			s = end;
		}
		while (*s == ' ')
			s++;
		if (*s != '\0' && *s != ',')
			goto bad;
		if (*s == ',')
			s++;
		if (lo > hi || hi >= GNTDP_DOMID_FIRST_RESERVED) {
			snprintf(why, wl, "range %llu-%llu: domids run upwards, below %u",
				 (unsigned long long)lo, (unsigned long long)hi,
				 GNTDP_DOMID_FIRST_RESERVED);
			return -EINVAL;
		}
		if (n == D_MAX_RANGES) {
			snprintf(why, wl, "more than %u ranges", D_MAX_RANGES);
			return -EINVAL;
		}
		r->ranges[n].lo = (uint16_t)lo;
		r->ranges[n].hi = (uint16_t)hi;
		n++;
	}
	r->nb_ranges = n;
	return 0;
bad:
	snprintf(why, wl, "not a list of domids and ranges (e.g. 1-9,12)");
	return -EINVAL;
}

static void
print_domids(const struct app_key *k, const void *base, char *buf, size_t len)
{
	const struct acl_rule *r = base;
	size_t o = 0;

	(void)k;
	buf[0] = '\0';
	for (unsigned int i = 0; i < r->nb_ranges && o < len; i++) {
		if (r->ranges[i].lo == r->ranges[i].hi)
			o += (size_t)snprintf(buf + o, len - o, "%s%u", i ? "," : "",
					      r->ranges[i].lo);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%u-%u", i ? "," : "",
					      r->ranges[i].lo, r->ranges[i].hi);
	}
}

/* ---- the table -------------------------------------------------------------- */

#define F(field) offsetof(struct d_conf, field)
#define R(field) offsetof(struct acl_rule, field)
#define U(sec, key, field, lo, hi, d, h)                                                       \
	{.section = sec, .name = key, .type = APP_KT_UINT, .off = F(field), .min = lo, .max = hi, \
	 .def = d, .help = h}

static const struct app_key keys[] = {
	{.section = "socket", .name = "path", .type = APP_KT_STR, .off = F(socket_path), .min = 1,
	 .max = sizeof(((struct d_conf *)0)->socket_path) - 1, .def = GNTDP_CTL_DEFAULT_SOCKET,
	 .help = "control socket (its directory is created when missing)"},
	{.section = "socket", .name = "mode", .type = APP_KT_CUSTOM, .off = F(socket_mode),
	 .def = "0660", .parse = parse_mode, .print = print_mode,
	 .help = "the socket's permission bits (octal)"},
	{.section = "socket", .name = "group", .type = APP_KT_STR, .off = F(socket_group),
	 .max = D_NAME_MAX, .def = "", .help = "the socket's group, name or gid (\"\": the daemon's)"},
	U("socket", "max_connections", max_connections, 1, D_MAX_CONNS, "64",
	  "connections at once (more are closed at accept)"),
	U("workers", "count", workers, 1, GNTDP_DP_MAX_WORKERS - 1, "1",
	  "data-plane workers (EAL lcores 1..count)"),
	APP_DP_KEY_CACHE("workers", struct d_conf, cache),
	APP_DP_KEY_CACHE_ENTRIES("workers", struct d_conf, cache_entries),
	APP_DP_KEY_HOLD_US("workers", struct d_conf, hold_us),
	APP_DP_KEY_IDLE_SLEEP_US("workers", struct d_conf, idle_sleep_us),
	APP_DP_KEY_IDLE_AFTER_US("workers", struct d_conf, idle_after_us),
	APP_DP_KEY_BURST("workers", struct d_conf, burst),
	APP_DP_KEY_COPY("workers", struct d_conf, copy),
	U("domains", "frames", frames, 1, 1u << 20, "256", "RAM frames of a domain asked with 0"),
	U("domains", "max_frames", max_frames, 1, 1u << 20, "65536", "most RAM frames of a domain"),
	U("domains", "grant_frames", grant_frames, 1, GNTDP_MAX_GRANT_FRAMES_LIMIT, "64",
	  "max_grant_frames of a domain asked with 0"),
	U("domains", "max_grant_frames", max_grant_frames, 1, GNTDP_MAX_GRANT_FRAMES_LIMIT, "256",
	  "most max_grant_frames a domain may ask for"),
	U("domains", "maptrack_frames", maptrack_frames, 1, GNTDP_MAX_MAPTRACK_FRAMES_LIMIT, "64",
	  "max_maptrack_frames of a domain asked with 0"),
	U("domains", "max_maptrack_frames", max_maptrack_frames, 1,
	  GNTDP_MAX_MAPTRACK_FRAMES_LIMIT, "1024", "most max_maptrack_frames a domain may ask for"),
	U("domains", "grant_version", grant_version, 1, 2, "2",
	  "max_grant_version of a domain asked with 0"),
	U("domains", "max_domains", max_domains, 1, D_MAX_DOMAINS, "32",
	  "domains at once (bound, unbound and zombies not counted)"),
	U("domains", "max_rings", max_rings, 1, D_MAX_RINGS, "8", "hypercall rings per connection"),
	U("domains", "max_evtchns", max_evtchns, 1, GNTDP_EVTCHN_MAX_PORTS - 1, "64",
	  "event-channel ports per domain (1 .. max_evtchns)"),
	{.section = "domains", .name = "max_ring_entries", .type = APP_KT_UINT,
	 .off = F(max_ring_entries), .min = 2, .max = GNTDP_HCALL_RING_MAX_ENTRIES,
	 .flags = APP_KF_POW2, .def = "4096", .help = "most SQ or CQ entries of a ring"},
	U("domains", "max_share_frames", max_share_frames, 0, GNTDP_CTL_SHARE_GFNS, "4096",
	  "frames of share segments (SHARE_ALLOC) one domain may hold; 0: none"),
	{.section = "memory", .name = "hugetlb", .type = APP_KT_BOOL, .off = F(hugetlb),
	 .def = "off", .help = "domain memory in hugetlb memfds (no 4 KiB process mappings)"},
	U("limits", "connections", lim_connections, 0, D_MAX_CONNS, "0",
	  "connections one uid may hold at once (0: no limit)"),
	U("limits", "domains", lim_domains, 0, D_MAX_DOMAINS, "0",
	  "domains one uid may hold at once (0: no limit)"),
	U("limits", "frames", lim_frames, 0, 1u << 30, "0",
	  "RAM + grant-table + status frames one uid's domains may hold (0: no limit)"),
	{.section = "access", .name = "root_privileged", .type = APP_KT_BOOL, .off = F(root_privileged),
	 .def = "on", .help = "uid 0 may act as any domain and as dom0"},
	{.section = "acl", .name = "user", .type = APP_KT_STR, .off = R(user), .max = D_NAME_MAX,
	 .def = "", .help = "[aclN]: the rule's user, name or uid"},
	{.section = "acl", .name = "group", .type = APP_KT_STR, .off = R(group), .max = D_NAME_MAX,
	 .def = "", .help = "[aclN]: the rule's group, name or gid (primary or supplementary)"},
	{.section = "acl", .name = "domids", .type = APP_KT_CUSTOM, .off = R(ranges), .def = "",
	 .parse = parse_domids, .print = print_domids,
	 .help = "[aclN]: domids it may act as (1-9,12; 0 needs privileged)"},
	{.section = "acl", .name = "privileged", .type = APP_KT_BOOL, .off = R(privileged),
	 .def = "off", .help = "[aclN]: may act as dom0 (any domid, DOMAIN_CREATE/DESTROY/LIST)"},
	{.section = "acl", .name = "max_connections", .type = APP_KT_UINT,
	 .off = R(max_connections), .max = D_MAX_CONNS, .def = "0",
	 .help = "[aclN]: its peers' [limits] connections (0: [limits]'s)"},
	{.section = "acl", .name = "max_domains", .type = APP_KT_UINT, .off = R(max_domains),
	 .max = D_MAX_DOMAINS, .def = "0",
	 .help = "[aclN]: its peers' [limits] domains (0: [limits]'s)"},
	{.section = "acl", .name = "max_frames", .type = APP_KT_UINT, .off = R(max_frames),
	 .max = 1u << 30, .def = "0", .help = "[aclN]: its peers' [limits] frames (0: [limits]'s)"},
};

static void
acl_declare(void *conf, unsigned int idx)
{
	((struct d_conf *)conf)->acl[idx].used = true;
}

static const struct app_section sections[] = {
	{.name = "socket"},
	{.name = "workers"},
	{.name = "domains"},
	{.name = "memory"},
	{.name = "limits"},
	{.name = "access"},
	{.name = "acl", .count = D_MAX_ACL, .off = F(acl), .stride = sizeof(struct acl_rule),
	 .declare = acl_declare},
};

static const struct app_cfg_desc cfg_desc = {
	.sections = sections,
	.nb_sections = sizeof(sections) / sizeof(sections[0]),
	.keys = keys,
	.nb_keys = sizeof(keys) / sizeof(keys[0]),
};

/* ---- checks ---------------------------------------------------------------- */

/* A user (@p group false) or group name, or a number, into its id. 0, -EINVAL, -ENOENT. */
static int
resolve_id(const char *s, bool group, uint32_t *out)
{
	struct passwd pw, *pres = NULL;
	struct group gr, *gres = NULL;
	char buf[4096], *end;
	unsigned long v;

	if (isdigit((unsigned char)*s)) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno != 0 || *end != '\0' || v >= UINT32_MAX)
			return -EINVAL;
		*out = (uint32_t)v;
		return 0;
	}
	if (group) {
		if (getgrnam_r(s, &gr, buf, sizeof(buf), &gres) != 0 || gres == NULL)
			return -ENOENT;
		*out = gr.gr_gid;
	} else {
		if (getpwnam_r(s, &pw, buf, sizeof(buf), &pres) != 0 || pres == NULL)
			return -ENOENT;
		*out = pw.pw_uid;
	}
	return 0;
}

static int
check_acl(struct app_cfg *cfg, struct d_conf *c, unsigned int i)
{
	struct acl_rule *r = &c->acl[i];
	char sec[16];

	snprintf(sec, sizeof(sec), "acl%u", i);
	if ((r->user[0] != '\0') == (r->group[0] != '\0'))
		return app_cfg_bad(cfg, sec, "user", NULL, "a rule names exactly one user or group");
	if (r->user[0] != '\0') {
		if (resolve_id(r->user, false, &r->uid) < 0)
			return app_cfg_bad(cfg, sec, "user", NULL, "no such user");
		r->has_uid = true;
	} else {
		if (resolve_id(r->group, true, &r->gid) < 0)
			return app_cfg_bad(cfg, sec, "group", NULL, "no such group");
		r->has_gid = true;
	}
	if (!r->privileged && r->nb_ranges == 0)
		return app_cfg_bad(cfg, sec, "domids", NULL,
				   "empty: an unprivileged rule needs domids");
	for (unsigned int j = 0; j < r->nb_ranges; j++) {
		if (!r->privileged && r->ranges[j].lo == 0)
			return app_cfg_bad(cfg, sec, "domids", NULL,
					   "domid 0 is dom0: only a privileged rule acts as it");
	}
	return 0;
}

static int
check(struct app_cfg *cfg)
{
	struct d_conf *c = cfg->conf;
	char v[32];

	if (c->socket_path[0] != '/')
		return app_cfg_bad(cfg, "socket", "path", NULL, "not an absolute path");
	if (c->socket_group[0] != '\0') {
		if (resolve_id(c->socket_group, true, &c->group_gid) < 0)
			return app_cfg_bad(cfg, "socket", "group", NULL, "no such group");
		c->has_group = true;
	}
	snprintf(v, sizeof(v), "%u", c->frames);
	if (c->frames > c->max_frames)
		return app_cfg_bad(cfg, "domains", "frames", v, "above max_frames");
	snprintf(v, sizeof(v), "%u", c->grant_frames);
	if (c->grant_frames > c->max_grant_frames)
		return app_cfg_bad(cfg, "domains", "grant_frames", v, "above max_grant_frames");
	snprintf(v, sizeof(v), "%u", c->maptrack_frames);
	if (c->maptrack_frames > c->max_maptrack_frames)
		return app_cfg_bad(cfg, "domains", "maptrack_frames", v,
				   "above max_maptrack_frames");
	for (unsigned int i = 0; i < D_MAX_ACL; i++) {
		if (c->acl[i].used && check_acl(cfg, c, i) < 0)
			return -EINVAL;
	}
	return lim_check_conf(cfg, c);
}

/* ---- the ACL ---------------------------------------------------------------- */

bool
acl_rule_matches(const struct acl_rule *r, const struct d_cred *cr)
{
	if (!r->used)
		return false;
	if (r->has_uid)
		return r->uid == cr->uid;
	if (r->gid == cr->gid)
		return true;
	for (unsigned int i = 0; i < cr->nb_groups; i++) {
		if (cr->groups[i] == r->gid)
			return true;
	}
	return false;
}

bool
acl_privileged(const struct d_conf *c, const struct d_cred *cr)
{
	if (c->root_privileged && cr->uid == 0)
		return true;
	for (unsigned int i = 0; i < D_MAX_ACL; i++) {
		if (c->acl[i].privileged && acl_rule_matches(&c->acl[i], cr))
			return true;
	}
	return false;
}

bool
acl_may_act(const struct d_conf *c, const struct d_cred *cr, uint32_t domid)
{
	if (acl_privileged(c, cr))
		return true;
	for (unsigned int i = 0; i < D_MAX_ACL; i++) {
		const struct acl_rule *r = &c->acl[i];

		if (!acl_rule_matches(r, cr))
			continue;
		for (unsigned int j = 0; j < r->nb_ranges; j++) {
			if (domid != 0 && domid >= r->ranges[j].lo && domid <= r->ranges[j].hi)
				return true;
		}
	}
	return false;
}

/* ---- the program ------------------------------------------------------------ */

/* Without "--": the main lcore (control thread) plus one lcore per worker, floating. */
static int
default_eal(const void *conf, char **argv, int max, char *buf, size_t len)
{
	return app_eal_lcores("gntdpd", ((const struct d_conf *)conf)->workers, argv, max, buf, len);
}

static const struct app_opt opts[] = {
	{"socket", 's', "PATH", "socket.path", "control socket"},
	{"workers", 'w', "N", "workers.count", "data-plane workers"},
};

const struct app_desc d_app = {
	.name = "gntdpd",
	.logtype = "gntdp.daemon",
	.synopsis = "[EAL args --] [--config FILE] [--set SECTION.KEY=VALUE] [options]",
	.about = "The gntdp daemon: serves client processes over a Unix control socket "
		 "(docs/daemon.md).\nWithout \"--\" EAL gets the main lcore plus one per "
		 "worker, --no-pci and a per-process file prefix.",
	.cfg = &cfg_desc,
	.opts = opts,
	.nb_opts = sizeof(opts) / sizeof(opts[0]),
	.check = check,
	.eal_default = default_eal,
	.no_huge_mb = 256,
};
