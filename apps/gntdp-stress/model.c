/* SPDX-License-Identifier: MIT */
/*
 * The domain zoo (model.h) built from the configuration: the world spec
 * (domains, queues, initial grants) and the starting knowledge of every
 * client queue and guest agent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static void
add_dom(struct world_spec *ws, gntdp_domid_t domid, uint8_t role, bool priv, uint32_t frames,
	uint32_t p2m, uint32_t max_gf, uint32_t max_mt, uint32_t init_gf)
{
	struct dom_spec *d = &ws->doms[ws->nb_doms++];

	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->role = role;
	d->privileged = priv;
	d->nr_frames = frames;
	d->p2m_size = p2m;
	d->max_grant_frames = max_gf;
	d->max_maptrack_frames = max_mt;
	d->init_grant_frames = init_gf;
}

static void
add_queue(struct world_spec *ws, gntdp_domid_t domid, uint8_t role)
{
	ws->queues[ws->nb_queues].domid = domid;
	ws->queues[ws->nb_queues].role = role;
	ws->nb_queues++;
}

static void
add_grant(struct world_spec *ws, gntdp_domid_t g, uint32_t ref, uint16_t flags,
	  gntdp_domid_t grantee, uint32_t frame)
{
	struct grant_spec *x = &ws->grants[ws->nb_grants++];

	memset(x, 0, sizeof(*x));
	x->domid = g;
	x->ref = ref;
	x->flags = flags;
	x->grantee = grantee;
	x->frame = frame;
}

static int
build_spec(struct sim *s)
{
	const struct stress_conf *c = s->conf;
	struct layout *l = &s->lay;
	struct world_spec *ws = &s->ws;
	uint32_t nc = c->clients, grants_max;

	l->stable_refs = c->stable_refs;
	l->churn_refs = c->churn_refs;
	l->corrupt_refs = c->corrupt_refs;
	l->victim_refs = c->victim_refs;
	l->accept_refs = c->accept_refs;
	l->verified_frames = c->local_frames;
	l->scratch_frames = SCRATCH_FRAMES;
	l->map_gfns = c->map_gfns;
	l->nb_cl = nc + 2;
	for (uint32_t j = 0; j < nc; j++)
		l->cl_dom[j] = (gntdp_domid_t)(1 + j);
	l->cl_dom[nc] = DOM_VC;
	l->cl_dom[nc + 1] = DOM_P;
	l->g_frames =
		l->nb_cl * (l->stable_refs + 2) + l->nb_cl * l->churn_refs + SACRIFICIAL_FRAMES;
	if (RESERVED_REFS + l->nb_cl * (l->stable_refs + 3) > GNTDP_GRANT_ENTRIES_PER_FRAME_V1 ||
	    l->nb_cl * l->churn_refs + l->corrupt_refs + l->accept_refs >
		    GNTDP_GRANT_ENTRIES_PER_FRAME_V1 ||
	    RESERVED_REFS + l->nb_cl * l->victim_refs > GNTDP_GRANT_ENTRIES_PER_FRAME_V1) {
		fprintf(stderr, "gntdp-stress: the world does not fit two grant frames: fewer "
				"clients or refs\n");
		return -EINVAL;
	}

	memset(ws, 0, sizeof(*ws));
	ws->seed = c->seed;
	for (uint32_t j = 0; j < nc; j++)
		add_dom(ws, l->cl_dom[j], ROLE_CLIENT, j == 0,
			l->verified_frames + l->scratch_frames,
			l->verified_frames + l->scratch_frames + l->map_gfns, 4,
			GNTDP_DEFAULT_MAX_MAPTRACK_FRAMES, 1);
	add_dom(ws, DOM_G1, ROLE_GUEST, false, l->g_frames, l->g_frames + l->accept_refs, 8, 1, 2);
	add_dom(ws, DOM_G2, ROLE_GUEST, false, l->g_frames, l->g_frames + l->accept_refs, 8, 1, 2);
	add_dom(ws, DOM_VG, ROLE_VGRANTER, false, l->nb_cl * l->victim_refs,
		l->nb_cl * l->victim_refs, 1, 0, 1);
	add_dom(ws, DOM_VC, ROLE_VCLIENT, false,
		l->verified_frames + l->scratch_frames + POOL_FRAMES,
		l->verified_frames + l->scratch_frames + POOL_FRAMES + l->map_gfns, 4,
		GNTDP_DEFAULT_MAX_MAPTRACK_FRAMES, 1);
	add_dom(ws, DOM_H, ROLE_HOSTILE, false, 32, 32 + 256, 4, 4, 1);
	add_dom(ws, DOM_P, ROLE_PRESSURE, false, l->verified_frames + l->scratch_frames,
		l->verified_frames + l->scratch_frames + 64, 2, 1, 1);
	add_dom(ws, DOM_STALL, ROLE_STALL, false, 1, 1, 1, 0, 1);

	for (uint32_t j = 0; j < nc; j++)
		add_queue(ws, l->cl_dom[j], ROLE_CLIENT);
	add_queue(ws, DOM_G1, ROLE_GUEST);
	add_queue(ws, DOM_G2, ROLE_GUEST);
	add_queue(ws, DOM_VC, ROLE_VCLIENT);
	add_queue(ws, DOM_H, ROLE_HOSTILE);
	add_queue(ws, DOM_P, ROLE_PRESSURE);
	/* One stall queue per worker: queue i is served by worker i % nb_workers. */
	for (uint32_t w = 0; w < l->nb_workers; w++)
		add_queue(ws, DOM_STALL, ROLE_STALL);
	v2_spec(s, ws); /* [world] v2: the v2 granter, its target and its queue */
	opa_assign(ws); /* each queue's op area at the top of its domain's RAM */

	grants_max = NB_GUESTS * (l->nb_cl * (l->stable_refs + 3) + l->nb_cl * l->churn_refs +
				  l->corrupt_refs) +
		     l->nb_cl * l->victim_refs;
	ws->grants = calloc(grants_max, sizeof(*ws->grants));
	if (ws->grants == NULL)
		return -ENOMEM;
	for (uint32_t k = 0; k < NB_GUESTS; k++) {
		gntdp_domid_t g = k == 0 ? DOM_G1 : DOM_G2;

		for (uint32_t j = 0; j < l->nb_cl; j++) {
			for (uint32_t i = 0; i < l->stable_refs; i++)
				add_grant(ws, g, lay_stable_ref(l, j, i), GNTDP_GTF_PERMIT_ACCESS,
					  l->cl_dom[j], lay_stable_gfn(l, j, i));
			add_grant(ws, g, lay_stable_ref(l, j, l->stable_refs),
				  GNTDP_GTF_PERMIT_ACCESS | GNTDP_GTF_READONLY, l->cl_dom[j],
				  lay_stable_gfn(l, j, l->stable_refs));
			add_grant(ws, g, lay_sat_ref(l, j),
				  GNTDP_GTF_PERMIT_ACCESS | GNTDP_GTF_READONLY, l->cl_dom[j],
				  lay_stable_gfn(l, j, l->stable_refs + 1));
			add_grant(ws, g, lay_bad_ref(l, j), GNTDP_GTF_PERMIT_ACCESS, l->cl_dom[j],
				  BAD_FRAME);
			for (uint32_t i = 0; i < l->churn_refs; i++)
				add_grant(ws, g, lay_churn_ref(l, j, i), GNTDP_GTF_PERMIT_ACCESS,
					  l->cl_dom[j], lay_churn_gfn(l, j, i));
		}
		for (uint32_t z = 0; z < l->corrupt_refs; z++)
			add_grant(ws, g, lay_corrupt_ref(l, z), GNTDP_GTF_PERMIT_ACCESS,
				  l->cl_dom[z % l->nb_cl], lay_sacrificial_gfn(l, z));
	}
	for (uint32_t j = 0; j < l->nb_cl; j++) {
		for (uint32_t i = 0; i < l->victim_refs; i++)
			add_grant(ws, DOM_VG, lay_victim_ref(l, j, i), GNTDP_GTF_PERMIT_ACCESS,
				  l->cl_dom[j], lay_victim_gfn(l, j, i));
	}
	ws->corrupt_lo = lay_corrupt_ref(l, 0);
	ws->corrupt_hi = lay_corrupt_ref(l, l->corrupt_refs);
	return 0;
}

static int
qmodel_init(struct sim *s, struct qmodel *q, unsigned int qid)
{
	const struct layout *l = &s->lay;
	const struct queue_spec *qs = &s->ws.queues[qid];

	memset(q, 0, sizeof(*q));
	q->qid = qid;
	q->domid = qs->domid;
	q->role = qs->role;
	q->worker = qid % l->nb_workers;
	q->ds = spec_dom(&s->ws, q->domid);
	q->privileged = q->ds->privileged != 0;
	q->client_idx = -1;
	for (uint32_t j = 0; j < l->nb_cl; j++) {
		if (l->cl_dom[j] == q->domid)
			q->client_idx = (int)j;
	}
	rng_seed(&q->rng, s->conf->seed, 1000 + qid);
	if (q->client_idx >= 0) {
		q->verified_frames = l->verified_frames;
		q->scratch_frames = l->scratch_frames;
		q->map_gfn0 = q->ds->nr_frames;
	}
	if (q->role == ROLE_VCLIENT)
		q->tp = POOL_FRAMES;
	q->cur.ops = calloc(STRESS_MAX_BATCH, sizeof(struct raw_call));
	q->cur.meta = calloc(STRESS_MAX_BATCH, sizeof(struct op_meta));
	q->plan = calloc(STRESS_MAX_BATCH, sizeof(struct op_plan));
	q->calls = calloc(STRESS_MAX_BATCH, sizeof(struct hc_call));
	q->sqes = calloc(STRESS_MAX_BATCH, sizeof(struct gntdp_hcall_sqe));
	q->res = calloc(STRESS_MAX_BATCH, sizeof(struct op_result));
	if (q->cur.ops == NULL || q->cur.meta == NULL || q->plan == NULL || q->calls == NULL ||
	    q->sqes == NULL || q->res == NULL)
		return -ENOMEM;
	if (q->verified_frames > 0 &&
	    (q->lshadow = malloc((size_t)q->verified_frames * GNTDP_PAGE_SIZE)) == NULL)
		return -ENOMEM;
	if (q->client_idx >= 0) {
		q->nb_sref = NB_GUESTS * (l->stable_refs + 1);
		q->sref = calloc(q->nb_sref, sizeof(*q->sref));
		if (q->sref == NULL)
			return -ENOMEM;
		for (uint32_t k = 0; k < q->nb_sref; k++) {
			struct sref *sr = &q->sref[k];
			uint32_t i = k % (l->stable_refs + 1);

			sr->g = k / (l->stable_refs + 1) == 0 ? DOM_G1 : DOM_G2;
			sr->ro = i == l->stable_refs;
			sr->ref = lay_stable_ref(l, (uint32_t)q->client_idx, i);
			sr->gfn = lay_stable_gfn(l, (uint32_t)q->client_idx, i);
			sr->shadow = malloc(GNTDP_PAGE_SIZE);
			if (sr->shadow == NULL)
				return -ENOMEM;
			frame_fill(sr->shadow, s->ws.seed, sr->g, sr->gfn, 0);
		}
		q->gfn_free = calloc(q->ds->p2m_size - q->ds->nr_frames + 1, sizeof(uint32_t));
		if (q->gfn_free == NULL)
			return -ENOMEM;
	}
	qmodel_reset(s, q);
	return 0;
}

void
qmodel_reset(struct sim *s, struct qmodel *q)
{
	int di = -1;
	uint32_t gen = 0;

	for (uint32_t i = 0; i < s->ws.nb_doms; i++) {
		if (s->ws.doms[i].domid == q->domid)
			di = (int)i;
	}
	if (di >= 0 && s->wa != NULL)
		gen = s->wa->gen[di];
	for (uint32_t a = 0; a < q->verified_frames; a++)
		frame_fill(q->lshadow + (size_t)a * GNTDP_PAGE_SIZE, s->ws.seed, q->domid, a, gen);
	q->nb_gfn_free = 0;
	if (q->gfn_free != NULL) {
		for (uint32_t g = q->ds->p2m_size; g-- > q->ds->nr_frames;)
			q->gfn_free[q->nb_gfn_free++] = g;
	}
	q->nb_stale = 0;
	q->live_handles = 0;
	q->own_grant_frames = q->ds->init_grant_frames;
	q->sat_devr[0] = q->sat_devr[1] = 0;
	for (uint32_t t = 0; t < q->tp; t++) {
		q->pool[t] = 1;
		q->pool_offer[t] = 0;
		q->pool_aimed[t] = 0;
		q->pool_tag[t] = gen << 16 | (q->verified_frames + q->scratch_frames + t);
	}
	/* The granted frames outlive this domain: take what is there now as expected. */
	if (s->wa != NULL) {
		for (uint32_t k = 0; k < q->nb_sref; k++) {
			const uint8_t *f =
				gntdp_domain_frame(s->wa->gt, q->sref[k].g, q->sref[k].gfn);

			if (f != NULL)
				memcpy(q->sref[k].shadow, f, GNTDP_PAGE_SIZE);
			memset(q->sref[k].pins, 0, sizeof(q->sref[k].pins));
		}
	}
}

int
qmodel_verify_all(struct sim *s, struct qmodel *q, const char *when)
{
	unsigned int before = atomic_load(&g_viol.count);

	if (!world_dom_alive(s->wa, q->domid))
		return 0;
	for (uint32_t a = 0; a < q->verified_frames; a++) {
		const uint8_t *f = gntdp_domain_frame(s->wa->gt, q->domid, a);

		if (f == NULL ||
		    memcmp(f, q->lshadow + (size_t)a * GNTDP_PAGE_SIZE, GNTDP_PAGE_SIZE))
			violation("data",
				  "%s: q%u d%u local gfn %u differs from what the copies "
				  "wrote",
				  when, q->qid, q->domid, a);
	}
	for (uint32_t k = 0; k < q->nb_sref; k++) {
		const uint8_t *f = gntdp_domain_frame(s->wa->gt, q->sref[k].g, q->sref[k].gfn);

		if (f == NULL || memcmp(f, q->sref[k].shadow, GNTDP_PAGE_SIZE))
			violation("data",
				  "%s: q%u: granted d%u gfn %u differs from what the copies "
				  "wrote",
				  when, q->qid, q->sref[k].g, q->sref[k].gfn);
	}
	return (int)(atomic_load(&g_viol.count) - before);
}

static int
gmodel_init(struct sim *s, struct gmodel *g, gntdp_domid_t domid)
{
	const struct layout *l = &s->lay;

	memset(g, 0, sizeof(*g));
	g->domid = domid;
	g->alive = true;
	if (domid == DOM_VG)
		return 0;
	g->grant_frames = 2;
	g->nb_churn = l->nb_cl * l->churn_refs;
	g->churn = calloc(g->nb_churn, sizeof(*g->churn));
	if (g->churn == NULL)
		return -ENOMEM;
	for (uint32_t j = 0; j < l->nb_cl; j++) {
		for (uint32_t i = 0; i < l->churn_refs; i++) {
			struct churn *c = &g->churn[j * l->churn_refs + i];

			c->ref = lay_churn_ref(l, j, i);
			c->gfn = lay_churn_gfn(l, j, i);
			c->client_idx = (uint8_t)j;
			c->state = CH_RW;
			c->prot = -1;
			c->epoch = 1;
		}
	}
	if (domid == DOM_G1) {
		g->nb_acc = l->accept_refs;
		g->acc = calloc(l->accept_refs ? l->accept_refs : 1, sizeof(*g->acc));
		if (g->acc == NULL)
			return -ENOMEM;
		for (uint32_t a = 0; a < l->accept_refs; a++) {
			g->acc[a].ref = lay_accept_ref(l, a);
			g->acc[a].slot = lay_accept_slot(l, a);
		}
	}
	return 0;
}

int
sim_init(struct sim *s, const struct stress_conf *c, bool conc)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->conf = c;
	s->conc = conc;
	s->lay.nb_workers = conc ? c->workers : 1;
	rc = build_spec(s);
	if (rc != 0)
		return rc;
	v2_init(s);
	rng_seed(&s->grng, c->seed, 1);
	rng_seed(&s->frng, c->seed, 2);
	s->vc_alive = s->vg_alive = s->h_alive = true;
	if ((rc = gmodel_init(s, &s->g[0], DOM_G1)) != 0 ||
	    (rc = gmodel_init(s, &s->g[1], DOM_G2)) != 0 ||
	    (rc = gmodel_init(s, &s->g[2], DOM_VG)) != 0)
		return rc;
	s->nb_q = s->ws.nb_queues;
	for (uint32_t i = 0; i < s->nb_q; i++) {
		rc = qmodel_init(s, &s->q[i], i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
sim_free(struct sim *s)
{
	for (uint32_t i = 0; i < s->nb_q; i++) {
		struct qmodel *q = &s->q[i];

		record_free(&q->cur);
		free(q->plan);
		free(q->calls);
		free(q->sqes);
		free(q->res);
		free(q->lshadow);
		for (uint32_t k = 0; k < q->nb_sref; k++)
			free(q->sref[k].shadow);
		free(q->sref);
		free(q->maps);
		free(q->gfn_free);
	}
	for (int k = 0; k < 3; k++) {
		free(s->g[k].churn);
		free(s->g[k].acc);
	}
	free(s->ws.grants);
	memset(s, 0, sizeof(*s));
}

struct qmodel *
sim_queue_of(struct sim *s, gntdp_domid_t domid)
{
	for (uint32_t i = 0; i < s->nb_q; i++) {
		if (s->q[i].domid == domid && s->q[i].role != ROLE_STALL)
			return &s->q[i];
	}
	return NULL;
}

struct gmodel *
sim_gmodel(struct sim *s, gntdp_domid_t domid)
{
	for (int k = 0; k < 3; k++) {
		if (s->g[k].domid == domid)
			return &s->g[k];
	}
	return NULL;
}
