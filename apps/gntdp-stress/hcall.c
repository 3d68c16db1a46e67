/* SPDX-License-Identifier: MIT */
/*
 * Records as hypercalls (docs/stress.md "Hypercalls", docs/hcall.md).
 *
 * Every queue is a hypercall ring of its domain. A batch of one command is
 * one hypercall (the one-by-one commands: one per op) whose op array lies
 * in the domain's own RAM, in the queue's op area (queue_spec.op_gfn); a
 * raw record is a list of hostile hypercalls (struct raw_call). The client
 * writes the array, with every status set to OP_UNRUN, submits the calls,
 * and after each completion reads the statuses and outputs back from guest
 * memory: a status still OP_UNRUN was not run, and takes what a refused call
 * gives (bad_domain for -ESRCH, general_error otherwise). World A runs the
 * calls through a ring of the data plane, world B (and the plain replay)
 * through gntdp_hcall() on the world's Xen-exact context, so both see the
 * same guest memory and the same whole-call errors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

_Static_assert(offsetof(struct gntdp_gnttab_unmap_grant_ref, handle) ==
			       offsetof(struct gntdp_gnttab_unmap_and_replace, handle) &&
		       sizeof(struct gntdp_gnttab_unmap_grant_ref) ==
			       sizeof(struct gntdp_gnttab_unmap_and_replace),
	       "handle translation treats unmap and unmap_and_replace ops alike");
_Static_assert(GNTDP_PAGE_SIZE *OPA_OPS_FRAMES == STRESS_MAX_BATCH * OPA_SLOT &&
		       OPA_LIST_FRAMES * GNTDP_PAGE_SIZE ==
			       STRESS_MAX_SETUP_OPS * STRESS_FRAME_LIST * 8,
	       "op area layout");

/* Pointed at by GADDR_HOST: no call may write it. */
static uint8_t g_canary[2 * GNTDP_PAGE_SIZE] __attribute__((aligned(4096)));
static bool g_canary_set;

static void
canary_check(const char *what, uint32_t qid)
{
	if (!g_canary_set) {
		memset(g_canary, 0xa5, sizeof(g_canary));
		g_canary_set = true;
		return;
	}
	for (size_t k = 0; k < sizeof(g_canary); k++) {
		if (g_canary[k] != 0xa5) {
			violation("host-memory",
				  "queue %u: a %s naming a pointer into the gntdp process wrote "
				  "byte %zu there",
				  qid, what, k);
			memset(g_canary, 0xa5, sizeof(g_canary));
			return;
		}
	}
}

/* ---- The op area -------------------------------------------------------------------- */

void
opa_assign(struct world_spec *ws)
{
	for (uint32_t i = 0; i < ws->nb_queues; i++) {
		struct dom_spec *d = NULL;

		for (uint32_t k = 0; k < ws->nb_doms; k++) {
			if (ws->doms[k].domid == ws->queues[i].domid)
				d = &ws->doms[k];
		}
		if (d == NULL)
			continue;
		/* At the top of the RAM; the gfns above it move up with it. */
		ws->queues[i].op_gfn = d->nr_frames;
		d->nr_frames += OPA_FRAMES;
		d->p2m_size += OPA_FRAMES;
	}
}

bool
opa_holds(const struct world_spec *ws, gntdp_domid_t domid, uint64_t gfn)
{
	for (uint32_t i = 0; i < ws->nb_queues; i++) {
		if (ws->queues[i].domid == domid && gfn >= ws->queues[i].op_gfn &&
		    gfn < (uint64_t)ws->queues[i].op_gfn + OPA_FRAMES)
			return true;
	}
	return false;
}

static uint64_t
opa_base(const struct world *w, unsigned int qid)
{
	return (uint64_t)w->spec->queues[qid].op_gfn << GNTDP_PAGE_SHIFT;
}

static uint64_t
opa_list_gaddr(const struct world *w, unsigned int qid, unsigned int i)
{
	return opa_base(w, qid) + (uint64_t)OPA_OPS_FRAMES * GNTDP_PAGE_SIZE +
	       (uint64_t)(i % STRESS_MAX_SETUP_OPS) * STRESS_FRAME_LIST * 8;
}

static uint64_t
opa_end(const struct world *w, unsigned int qid)
{
	return opa_base(w, qid) + (uint64_t)OPA_FRAMES * GNTDP_PAGE_SIZE;
}

const gntdp_xen_pfn_t *
opa_list(struct world *w, unsigned int qid, unsigned int i)
{
	uint64_t ga = opa_list_gaddr(w, qid, i);
	uint8_t *f = gntdp_domain_frame(w->gt, w->spec->queues[qid].domid, ga >> GNTDP_PAGE_SHIFT);

	return f == NULL ? NULL
			 : (const gntdp_xen_pfn_t *)(void *)(f + (ga & (GNTDP_PAGE_SIZE - 1)));
}

/* Guest memory of @p d, as its own client reads and writes it. -EFAULT: not there. */
static int
guest_rw(struct world *w, gntdp_domid_t d, uint64_t ga, void *buf, size_t len, bool wr)
{
	uint8_t *b = buf;

	while (len > 0) {
		size_t off = (size_t)(ga & (GNTDP_PAGE_SIZE - 1));
		size_t n = GNTDP_PAGE_SIZE - off < len ? GNTDP_PAGE_SIZE - off : len;
		uint8_t *f = gntdp_domain_frame(w->gt, d, ga >> GNTDP_PAGE_SHIFT);

		if (f == NULL)
			return -EFAULT;
		if (wr)
			memcpy(f + off, b, n);
		else
			memcpy(b, f + off, n);
		b += n;
		ga += n;
		len -= n;
	}
	return 0;
}

/* ---- Records and calls ---------------------------------------------------------------- */

uint32_t
rec_cmd(const struct record *r, uint32_t i)
{
	if (r->type == REC_RAW)
		return ((const struct raw_call *)r->ops)[i].cmd;
	return r->cmd;
}

uint32_t
rec_calls(const struct record *r, struct hc_call *calls)
{
	if (r->type == REC_BATCH && !cmd_one_by_one(r->cmd)) {
		if (r->count == 0)
			return 0;
		calls[0].first = 0;
		calls[0].nops = r->count;
		return 1;
	}
	for (uint32_t i = 0; i < r->count; i++) {
		calls[i].first = i;
		calls[i].nops = 1;
	}
	return r->count;
}

/* A frame_list as the record names it: the op's list, the canary, or a guest address. */
static void *
list_gaddr(struct world *w, unsigned int qid, unsigned int i, const void *v)
{
	uintptr_t x = (uintptr_t)v;

	if (x == GADDR_SLOT)
		return (void *)(uintptr_t)opa_list_gaddr(w, qid, i);
	if (x == GADDR_HOST)
		return g_canary;
	return (void *)x;
}

/* Op bytes as they go to guest memory: lists, device addresses, handles, status. */
static void
fix_op(struct world *w, const struct record *r, uint32_t cmd, unsigned int i, uint8_t *op,
       const uint32_t *handles)
{
	int so = gntdp_hcall_status_offset(cmd);

	if (cmd == GNTDP_GNTTABOP_SETUP_TABLE) {
		struct gntdp_gnttab_setup_table *st = (void *)op;

		st->frame_list = list_gaddr(w, r->qid, i, st->frame_list);
	}
	if (cmd == GNTDP_GNTTABOP_GET_STATUS_FRAMES) {
		struct gntdp_gnttab_get_status_frames *gs = (void *)op;

		gs->frame_list = list_gaddr(w, r->qid, i, gs->frame_list);
	}
	if (r->type == REC_BATCH && cmd == GNTDP_GNTTABOP_UNMAP_GRANT_REF) {
		struct gntdp_gnttab_unmap_grant_ref *u = (void *)op;

		u->dev_bus_addr = addr_concrete(w, u->dev_bus_addr);
	}
	if (r->type == REC_BATCH && cmd == GNTDP_GNTTABOP_CACHE_FLUSH) {
		struct gntdp_gnttab_cache_flush *cf = (void *)op;

		cf->a.dev_bus_addr = addr_concrete(w, cf->a.dev_bus_addr);
	}
	if (handles != NULL && r->type == REC_BATCH && cmd_has_handles(cmd))
		((struct gntdp_gnttab_unmap_grant_ref *)(void *)op)->handle = handles[i];
	if (so >= 0) {
		int16_t v = OP_UNRUN;

		memcpy(op + so, &v, sizeof(v));
	}
}

uint32_t
hc_prepare(struct world *w, const struct record *r, const uint32_t *handles, uint64_t ud0,
	   struct hc_call *calls, struct gntdp_hcall_sqe *sqes)
{
	gntdp_domid_t d = w->spec->queues[r->qid].domid;
	uint64_t base = opa_base(w, r->qid);
	uint32_t n = rec_calls(r, calls);

	if (r->type == REC_BATCH) {
		size_t sz = op_size(r->cmd);

		for (uint32_t i = 0; i < r->count; i++) {
			uint8_t op[OPA_SLOT];

			memcpy(op, (const uint8_t *)r->ops + i * sz, sz);
			fix_op(w, r, r->cmd, i, op, handles);
			guest_rw(w, d, base + i * sz, op, sz, true);
		}
		for (uint32_t k = 0; k < n; k++) {
			memset(&sqes[k], 0, sizeof(sqes[k]));
			sqes[k].user_data = ud0 + k;
			sqes[k].gaddr = base + calls[k].first * sz;
			sqes[k].cmd = r->cmd;
			sqes[k].count = calls[k].nops;
		}
		return n;
	}
	for (uint32_t k = 0; k < n; k++) {
		const struct raw_call *rc = &((const struct raw_call *)r->ops)[k];
		size_t sz = op_size((uint8_t)rc->cmd);
		uint8_t op[OPA_SLOT];

		if (rc->cmd > GNTDP_GNTTABOP_CACHE_FLUSH || sz == 0)
			sz = OPA_SLOT;
		memcpy(op, rc->op, sz);
		fix_op(w, r, rc->cmd, k, op, NULL);
		memset(&sqes[k], 0, sizeof(sqes[k]));
		sqes[k].user_data = ud0 + k;
		sqes[k].cmd = rc->cmd;
		sqes[k].count = rc->count;
		sqes[k].flags = rc->flags;
		sqes[k].rsvd = rc->rsvd;
		switch (rc->gaddr) {
		case GADDR_SLOT:
			sqes[k].gaddr = base + (uint64_t)k * OPA_SLOT;
			guest_rw(w, d, sqes[k].gaddr, op, sz, true);
			break;
		case GADDR_END:
			sqes[k].gaddr = opa_end(w, r->qid) - sz;
			guest_rw(w, d, sqes[k].gaddr, op, sz, true);
			break;
		case GADDR_HOST:
			sqes[k].gaddr = (uint64_t)(uintptr_t)g_canary;
			break;
		default:
			sqes[k].gaddr = rc->gaddr;
			break;
		}
	}
	return n;
}

/* ---- Outcomes ------------------------------------------------------------------------- */

/* One op's outcome from its written-back struct; rc != 0: refused before it ran. */
static void
op_out(uint32_t cmd, const void *op, int rc, struct op_result *res)
{
	memset(res, 0, sizeof(*res));
	res->rc = rc;
	if (cmd == GNTDP_GNTTABOP_SET_VERSION)
		res->version = ((const struct gntdp_gnttab_set_version *)op)->version;
	if (cmd == GNTDP_GNTTABOP_GET_VERSION && rc == 0)
		res->version = ((const struct gntdp_gnttab_get_version *)op)->version;
	if (rc != 0) {
		/* What a refused call gives every op: bad_domain for -ESRCH, else general_error. */
		res->status = rc == -ESRCH ? GNTDP_GNTST_BAD_DOMAIN : GNTDP_GNTST_GENERAL_ERROR;
		return;
	}
	switch (cmd) {
	case GNTDP_GNTTABOP_MAP_GRANT_REF: {
		const struct gntdp_gnttab_map_grant_ref *m = op;

		res->status = m->status;
		if (m->status == GNTDP_GNTST_OKAY) {
			res->handle = m->handle;
			res->dev_bus_addr = m->dev_bus_addr;
		}
		break;
	}
	case GNTDP_GNTTABOP_QUERY_SIZE: {
		const struct gntdp_gnttab_query_size *q = op;

		res->status = q->status;
		if (q->status == GNTDP_GNTST_OKAY) {
			res->nr_frames = q->nr_frames;
			res->max_nr_frames = q->max_nr_frames;
		}
		break;
	}
	case GNTDP_GNTTABOP_SET_VERSION:
	case GNTDP_GNTTABOP_GET_VERSION:
	case GNTDP_GNTTABOP_CACHE_FLUSH:
		res->status = GNTDP_GNTST_OKAY; /* rc 0 here: the call's result is the rc */
		break;
	default: {
		int so = gntdp_hcall_status_offset(cmd);
		int16_t st = GNTDP_GNTST_GENERAL_ERROR;

		if (so >= 0)
			memcpy(&st, (const uint8_t *)op + so, sizeof(st));
		res->status = st;
		break;
	}
	}
}

/* Op @p i (batch) or call @p i's op 0 (raw) of command @p cmd, @p sz bytes at @p ga. */
static void
one_result(struct world *w, const struct record *r, uint32_t i, uint32_t cmd, uint64_t ga,
	   size_t sz, uint32_t count, int32_t rc, struct op_result *res)
{
	gntdp_domid_t d = w->spec->queues[r->qid].domid;
	int so = sz > 0 ? gntdp_hcall_status_offset(cmd) : -1;
	uint8_t op[OPA_SLOT];
	int16_t st = OP_UNRUN;

	memset(op, 0, sizeof(op));
	if (so < 0) {
		/* No status of its own (or not an op at all): the rc says everything. */
		if (sz > 0 && guest_rw(w, d, ga, op, sz, false) != 0)
			memset(op, 0, sz);
		op_out(cmd, op, rc, res);
		return;
	}
	if (guest_rw(w, d, ga, op, sz, false) != 0) {
		/* The caller is gone and its memory with it: nobody can read this status. */
		op_out(cmd, op, rc != 0 ? rc : -ESRCH, res);
		res->lost = rc == 0;
		return;
	}
	memcpy(&st, op + so, sizeof(st));
	if (st == OP_UNRUN) {
		op_out(cmd, op, rc, res);
		if (rc == 0 && count == 0)
			res->status = GNTDP_GNTST_OKAY; /* an empty call: nothing to run */
		else if (rc == 0) {
			violation(
				"writeback",
				"queue %u op %u (cmd %u): the call returned 0 but the op's status "
				"was never written back",
				r->qid, i, cmd);
			res->status = GNTDP_GNTST_GENERAL_ERROR;
			res->rc = -EPROTO;
		}
		return;
	}
	op_out(cmd, op, 0, res);
	if (r->type == REC_RAW)
		res->rc = rc; /* the call's rc: an op that ran before a fault keeps its status */
}

void
hc_results(struct world *w, const struct record *r, const struct hc_call *c, int32_t rc,
	   struct op_result *res)
{
	uint64_t base = opa_base(w, r->qid);

	if (r->type == REC_BATCH) {
		size_t sz = op_size(r->cmd);

		for (uint32_t i = c->first; i < c->first + c->nops; i++)
			one_result(w, r, i, r->cmd, base + i * sz, sz, c->nops, rc, &res[i]);
		if (r->cmd == GNTDP_GNTTABOP_SETUP_TABLE ||
		    r->cmd == GNTDP_GNTTABOP_GET_STATUS_FRAMES)
			canary_check("frame_list", r->qid); /* a list may have pointed there */
		return;
	}
	{
		const struct raw_call *x = &((const struct raw_call *)r->ops)[c->first];
		size_t sz = x->cmd <= GNTDP_GNTTABOP_CACHE_FLUSH ? op_size((uint8_t)x->cmd) : 0;
		uint64_t ga = x->gaddr == GADDR_END ? opa_end(w, r->qid) - sz
						    : base + (uint64_t)c->first * OPA_SLOT;

		if (x->gaddr != GADDR_SLOT && x->gaddr != GADDR_END)
			sz = 0; /* the array is nowhere the client can read */
		one_result(w, r, c->first, x->cmd, ga, sz, x->count, rc, &res[c->first]);
		if (x->gaddr == GADDR_HOST || ((x->cmd == GNTDP_GNTTABOP_SETUP_TABLE ||
						x->cmd == GNTDP_GNTTABOP_GET_STATUS_FRAMES) &&
					       x->gaddr == GADDR_SLOT))
			canary_check(x->gaddr == GADDR_HOST ? "op array" : "frame_list", r->qid);
	}
}

void
hc_scribble(struct world *w, const struct record *r, uint32_t k, struct rng *rng)
{
	const struct raw_call *x = &((const struct raw_call *)r->ops)[k];
	gntdp_domid_t d = w->spec->queues[r->qid].domid;
	uint64_t ga = opa_base(w, r->qid) + (uint64_t)k * OPA_SLOT;
	int so = x->cmd <= GNTDP_GNTTABOP_CACHE_FLUSH ? gntdp_hcall_status_offset(x->cmd) : -1;
	size_t sz = so >= 0 ? op_size((uint8_t)x->cmd) : 0;
	uint8_t op[OPA_SLOT];

	if (x->gaddr != GADDR_SLOT || so < 0)
		return;
	for (size_t b = 0; b < sz; b++)
		op[b] = (uint8_t)rng_next(rng);
	/* Around the status: the worker may be writing it back right now. */
	guest_rw(w, d, ga, op, (size_t)so, true);
	guest_rw(w, d, ga + (size_t)so + 2, op + so + 2, sz - (size_t)so - 2, true);
}

/* Scratch for the main thread: one record's calls at a time. */
static struct hc_call g_calls[STRESS_MAX_BATCH];
static struct gntdp_hcall_sqe g_sqes[STRESS_MAX_BATCH];

void
exec_plain(struct world *w, const struct record *r, const uint32_t *handles, struct op_result *res)
{
	gntdp_domid_t caller = w->spec->queues[r->qid].domid;
	uint32_t n = hc_prepare(w, r, handles, 0, g_calls, g_sqes);

	canary_check("call", r->qid); /* arms it on first use */
	for (uint32_t k = 0; k < n; k++) {
		const struct gntdp_hcall_sqe *e = &g_sqes[k];
		/* What the ring refuses itself; the rest is the hypercall. */
		int rc = e->flags != 0 || e->rsvd != 0
				 ? -EINVAL
				 : gntdp_hcall(w->ctx, caller, e->cmd, e->gaddr, e->count);

		hc_results(w, r, &g_calls[k], rc, res);
	}
}

int
dp_run_record(struct gntdp_dp_hcall *ring, struct world *w, const struct record *r,
	      const uint32_t *handles, struct op_result *res, uint64_t *seq, double timeout_s)
{
	uint64_t ud0 = (uint64_t)r->qid << 48 | *seq;
	uint32_t n = hc_prepare(w, r, handles, ud0, g_calls, g_sqes);
	uint32_t sent = 0, done = 0;
	double end = now_s() + timeout_s;

	canary_check("call", r->qid);
	while (done < n) {
		struct gntdp_hcall_cqe cqes[64];
		uint32_t got;

		if (sent < n)
			sent += gntdp_dp_hcall_submit_burst(ring, g_sqes + sent, n - sent);
		got = gntdp_dp_hcall_reap_burst(ring, cqes, n - done < 64 ? n - done : 64);
		for (uint32_t k = 0; k < got; k++, done++) {
			if (cqes[k].user_data != ud0 + done || cqes[k].flags != 0) {
				violation("exactly-once",
					  "queue %u: completion %u carries user_data %#llx (flags "
					  "%#x), expected %#llx",
					  r->qid, done, (unsigned long long)cqes[k].user_data,
					  cqes[k].flags, (unsigned long long)(ud0 + done));
				*seq += n;
				return -EIO;
			}
			hc_results(w, r, &g_calls[done], cqes[k].rc, res);
		}
		if (got == 0 && now_s() > end) {
			violation("lost", "queue %u: %u of %u completions arrived in %.0f s",
				  r->qid, done, n, timeout_s);
			*seq += n;
			return -ETIMEDOUT;
		}
	}
	*seq += n;
	return 0;
}

/* ---- What the hostile client's calls got ---------------------------------------------- */

#define NB_HOSTILE (K_HC_SCRIBBLE - K_GARBAGE + 1)
static uint64_t g_hostile[NB_HOSTILE][3];

void
hostile_tally(uint8_t kind, const struct op_result *r)
{
	if (kind < K_GARBAGE || kind > K_HC_SCRIBBLE)
		return;
	g_hostile[kind - K_GARBAGE][r->rc != 0 ? 2 : r->status == GNTDP_GNTST_OKAY ? 0 : 1]++;
}

int
hostile_summary(FILE *out, bool conc, bool check)
{
	uint64_t total = 0;
	int bad = 0;

	for (unsigned int k = 0; k < NB_HOSTILE; k++)
		total += g_hostile[k][0] + g_hostile[k][1] + g_hostile[k][2];
	if (total == 0)
		return 0;
	fprintf(out, "gntdp-stress: hostile hypercalls (okay/other status/errno):");
	for (unsigned int k = 0; k < NB_HOSTILE; k++)
		fprintf(out, " [%s] %llu/%llu/%llu", kind_name((uint8_t)(K_GARBAGE + k)),
			(unsigned long long)g_hostile[k][0], (unsigned long long)g_hostile[k][1],
			(unsigned long long)g_hostile[k][2]);
	fprintf(out, "\n");
	/* Enough of them: every kind must have been made and judged (rewrites: concurrent). */
	for (unsigned int k = 0; check && total >= 5000 && k < NB_HOSTILE; k++) {
		uint8_t kind = (uint8_t)(K_GARBAGE + k);

		if (g_hostile[k][0] + g_hostile[k][1] + g_hostile[k][2] == 0 &&
		    (conc || kind != K_HC_SCRIBBLE)) {
			violation("coverage", "%llu hostile hypercalls and not one '%s'",
				  (unsigned long long)total, kind_name(kind));
			bad++;
		}
	}
	return bad;
}

/* ---- Rings ------------------------------------------------------------------------------ */

int
rings_create(struct gntdp_dp *dp, const struct world_spec *ws, const struct stress_conf *c,
	     unsigned int entries, struct gntdp_dp_hcall **rings)
{
	unsigned int nw = gntdp_dp_worker_count(dp);

	if (entries > GNTDP_HCALL_RING_MAX_ENTRIES)
		entries = GNTDP_HCALL_RING_MAX_ENTRIES;
	for (uint32_t i = 0; i < ws->nb_queues; i++) {
		struct gntdp_dp_hcall_conf hc;
		int rc;

		gntdp_dp_hcall_conf_init(&hc);
		hc.domid = ws->queues[i].domid;
		hc.worker = nw > 0 ? i % nw : 0;
		hc.sq_entries = hc.cq_entries = entries;
		hc.burst = c->burst;
		rc = gntdp_dp_hcall_create(dp, &hc, &rings[i]);
		if (rc != 0) {
			rings_destroy(dp, rings, i);
			return rc;
		}
	}
	return 0;
}

void
rings_destroy(struct gntdp_dp *dp, struct gntdp_dp_hcall **rings, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		gntdp_dp_hcall_destroy(dp, rings[i]);
		rings[i] = NULL;
	}
}
