/* SPDX-License-Identifier: MIT */
/*
 * gntdpd's per-uid limits (docs/daemon.md "Limits"): how many connections
 * and domains, and how many frames of domain memory (RAM, grant table and
 * status frames), one uid may hold at once, so that one uid cannot use up
 * [socket] max_connections, [domains] max_domains or the host's memory for
 * the others.
 *
 * A peer's limits are, for each of the three, the first [aclN] rule (lowest
 * N) that matches the peer and sets it, else [limits]'s; 0 is no limit.
 * Usage is counted from the daemon's tables on each check (control path;
 * at most D_MAX_CONNS connections and D_MAX_DOMAINS domains): a connection
 * counts against its peer's uid, a domain against its owner (its creator
 * while unbound, then the uid of the connection that bound it), with the
 * frames of its share segments (SHARE_ALLOC, share.c). Zombies
 * (destroyed, still mapped by others) count against nobody, as they do not
 * count against max_domains.
 *
 * A connection beyond its uid's limit is kept only to answer its first
 * request with -EDQUOT and a why, then closed; while one such connection of
 * a uid is pending, the uid's further connections are closed at accept
 * unanswered: a uid holds at most its limit plus one connection.
 */
#include <errno.h>
#include <stdio.h>

#include "gntdpd.h"

void
lim_of(const struct d_conf *c, const struct d_cred *cr, struct d_limits *out)
{
	bool conn = false, dom = false, fr = false;

	out->connections = c->lim_connections;
	out->domains = c->lim_domains;
	out->frames = c->lim_frames;
	for (unsigned int i = 0; i < D_MAX_ACL; i++) {
		const struct acl_rule *r = &c->acl[i];

		if (!acl_rule_matches(r, cr))
			continue;
		if (!conn && r->max_connections != 0) {
			out->connections = r->max_connections;
			conn = true;
		}
		if (!dom && r->max_domains != 0) {
			out->domains = r->max_domains;
			dom = true;
		}
		if (!fr && r->max_frames != 0) {
			out->frames = r->max_frames;
			fr = true;
		}
	}
}

/* Connections of @p uid that are served (not over quota). */
static unsigned int
conns_of(const struct gntdpd *d, uid_t uid)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < d->nb_conns; i++)
		n += d->conns[i]->cr.uid == uid && !d->conns[i]->over_quota;
	return n;
}

int
lim_accept(const struct gntdpd *d, struct d_conn *c)
{
	struct d_limits l;
	bool pending = false;
	unsigned int n;

	lim_of(d->conf, &c->cr, &l);
	if (l.connections == 0)
		return 0;
	n = conns_of(d, c->cr.uid);
	if (n < l.connections)
		return 0;
	for (unsigned int i = 0; i < d->nb_conns; i++)
		pending |= d->conns[i]->cr.uid == c->cr.uid && d->conns[i]->over_quota;
	APP_LOG(WARNING, "gntdpd: uid %u holds %u connections (its limit): connection of pid %d "
		"refused%s", (unsigned int)c->cr.uid, n, (int)c->cr.pid,
		pending ? " unanswered" : "");
	if (pending)
		return -1;
	c->over_quota = true;
	return 1;
}

int
lim_refuse_conn(const struct gntdpd *d, struct d_conn *c, struct d_reply *r)
{
	struct d_limits l;

	lim_of(d->conf, &c->cr, &l);
	r->close_after = true;
	return d_fail(r, -EDQUOT, "connection: uid %u holds %u connections, its limit ([limits] "
		      "connections)", (unsigned int)c->cr.uid, l.connections);
}

uint32_t
lim_dom_frames(uint32_t nr_frames, uint32_t max_grant_frames, uint32_t nr_status)
{
	return nr_frames + max_grant_frames + nr_status;
}

int
lim_domain(const struct gntdpd *d, const struct d_cred *cr, uint32_t frames, struct d_reply *r)
{
	return lim_frames_check(d, cr, frames, false, r);
}

int
lim_frames_check(const struct gntdpd *d, const struct d_cred *cr, uint32_t frames, bool share,
		 struct d_reply *r)
{
	struct d_limits l;
	unsigned int n = 0;
	uint64_t held = 0;

	lim_of(d->conf, cr, &l);
	if (l.domains == 0 && l.frames == 0)
		return 0;
	for (unsigned int i = 0; i < D_MAX_DOMAINS; i++) {
		const struct d_domain *x = d->doms[i];

		if (x == NULL || x->owner != cr->uid)
			continue;
		n++;
		held += lim_dom_frames(x->nr_frames, x->max_grant_frames, x->nr_status_frames) +
			share_frames(x);
	}
	if (!share && l.domains != 0 && n >= l.domains)
		return d_fail(r, -EDQUOT, "domid: uid %u holds %u domains, its limit ([limits] "
			      "domains)", (unsigned int)cr->uid, n);
	if (l.frames != 0 && held + frames > l.frames)
		return d_fail(r, -EDQUOT, "%s: uid %u holds %llu frames, +%u is above its "
			      "limit %u ([limits] frames)", share ? "nb_frames" : "nr_frames",
			      (unsigned int)cr->uid,
			      (unsigned long long)held, frames, l.frames);
	return 0;
}

/* A per-uid limit above the daemon-wide one it divides is a mistake in the file. */
static int
check_one(struct app_cfg *cfg, const char *sec, const char *key, unsigned int v,
	  unsigned int max, const char *what)
{
	char val[16], why[96];

	if (v <= max)
		return 0;
	snprintf(val, sizeof(val), "%u", v);
	snprintf(why, sizeof(why), "above %s (%u)", what, max);
	return app_cfg_bad(cfg, sec, key, val, why);
}

int
lim_check_conf(struct app_cfg *cfg, struct d_conf *c)
{
	int rc;

	rc = check_one(cfg, "limits", "connections", c->lim_connections, c->max_connections,
		       "[socket] max_connections");
	if (rc == 0)
		rc = check_one(cfg, "limits", "domains", c->lim_domains, c->max_domains,
			       "[domains] max_domains");
	for (unsigned int i = 0; i < D_MAX_ACL && rc == 0; i++) {
		const struct acl_rule *a = &c->acl[i];
		char sec[16];

		if (!a->used)
			continue;
		snprintf(sec, sizeof(sec), "acl%u", i);
		rc = check_one(cfg, sec, "max_connections", a->max_connections, c->max_connections,
			       "[socket] max_connections");
		if (rc == 0)
			rc = check_one(cfg, sec, "max_domains", a->max_domains, c->max_domains,
				       "[domains] max_domains");
	}
	return rc;
}
