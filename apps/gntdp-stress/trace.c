/* SPDX-License-Identifier: MIT */
/*
 * Trace files, --replay and --minimize.
 *
 * A trace is the world's setup followed by records, in host byte order
 * (x86_64 little-endian), all integers fixed-width:
 *
 *   header   "GNTDPSTR" u32 version(2) u32 mode u64 seed char note[256]
 *   world    u64 pattern-seed u32 nb_doms struct dom_spec[nb_doms]
 *            u32 nb_queues struct queue_spec[nb_queues] (with its op area)
 *            u32 nb_grants struct grant_spec[nb_grants] u32 corrupt_lo u32 corrupt_hi
 *   u32 nb_records, then per record:
 *            u8 type u8 cmd u16 qid u32 count u32 ref u32 a u32 b u32 c i32 result
 *            REC_BATCH: count Xen-ABI op structs of cmd (struct gnttab_copy, ...)
 *            REC_RAW:   count struct raw_call (one hostile hypercall each)
 *            then count struct op_meta (kind, allowed statuses, handle origin)
 *
 * Version 1 (from the per-op queue's time) held that queue's request structs
 * for raw records and worlds without op areas; it is refused with a message
 * saying so.
 *
 * Guest addresses are stored as the executor reads them: a setup_table or
 * get_status_frames frame_list of 1 (GADDR_SLOT) is the op's list in its
 * queue's op area, 3 (GADDR_HOST) a pointer into the replaying process,
 * anything else a guest address as it is. Unmap handles are stored as issued, and each unmap
 * also names the map op that made its handle (op_meta.orec/oop), so a replay
 * (or a minimized trace with some ops gone) uses whatever handle that map
 * got this time.
 *
 * Replay builds the world from the header and runs every record in order on
 * the plain core (gntdp_hcall(), Xen-exact context, memmove); with a data plane
 * available it also runs them through hypercall rings on a second identical world and
 * compares everything, as sequential mode does. Each op's status must be in
 * its recorded allowed set; drain records check the drained invariants.
 *
 * Minimize: delta debugging (ddmin) over units (whole guest/control records
 * and single ops of batches), keeping a candidate whenever the replay still
 * fails with the same first violation signature.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "stress.h"

#define TRACE_MAGIC "GNTDPSTR"
#define TRACE_VERSION 2u

bool g_verbose;

void
trace_init(struct trace *t, uint64_t seed, uint32_t mode, const struct world_spec *ws)
{
	memset(t, 0, sizeof(*t));
	t->seed = seed;
	t->mode = mode;
	t->ws = *ws;
	t->ws.grants = NULL;
	if (ws->nb_grants > 0) {
		t->ws.grants = malloc(ws->nb_grants * sizeof(*ws->grants));
		if (t->ws.grants != NULL)
			memcpy(t->ws.grants, ws->grants, ws->nb_grants * sizeof(*ws->grants));
		else
			t->ws.nb_grants = 0;
	}
}

static size_t
rec_op_bytes(const struct record *r)
{
	return r->type == REC_RAW ? sizeof(struct raw_call) : op_size(r->cmd);
}

static int
rec_copy(struct record *dst, const struct record *src)
{
	*dst = *src;
	dst->ops = NULL;
	dst->meta = NULL;
	if ((src->type == REC_BATCH || src->type == REC_RAW) && src->count > 0) {
		size_t ob = rec_op_bytes(src) * src->count;

		dst->ops = malloc(ob);
		dst->meta = malloc(src->count * sizeof(struct op_meta));
		if (dst->ops == NULL || dst->meta == NULL) {
			record_free(dst);
			return -ENOMEM;
		}
		memcpy(dst->ops, src->ops, ob);
		memcpy(dst->meta, src->meta, src->count * sizeof(struct op_meta));
	}
	return 0;
}

int
trace_add(struct trace *t, const struct record *r)
{
	if (t->nb_recs == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 1024;
		struct record *n = realloc(t->recs, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		t->recs = n;
		t->cap = cap;
	}
	if (rec_copy(&t->recs[t->nb_recs], r) != 0)
		return -ENOMEM;
	t->nb_recs++;
	return 0;
}

void
trace_free(struct trace *t)
{
	for (uint32_t i = 0; i < t->nb_recs; i++)
		record_free(&t->recs[i]);
	free(t->recs);
	free(t->ws.grants);
	memset(t, 0, sizeof(*t));
}

static int
wr(FILE *f, const void *p, size_t n)
{
	return n == 0 || fwrite(p, n, 1, f) == 1 ? 0 : -EIO;
}

static int
rd(FILE *f, void *p, size_t n)
{
	return n == 0 || fread(p, n, 1, f) == 1 ? 0 : -EIO;
}

int
trace_write(const struct trace *t, const char *path)
{
	FILE *f = fopen(path, "wb");
	uint32_t v = TRACE_VERSION;
	int rc = 0;

	if (f == NULL)
		return -errno;
	rc |= wr(f, TRACE_MAGIC, 8);
	rc |= wr(f, &v, 4);
	rc |= wr(f, &t->mode, 4);
	rc |= wr(f, &t->seed, 8);
	rc |= wr(f, t->note, sizeof(t->note));
	rc |= wr(f, &t->ws.seed, 8);
	rc |= wr(f, &t->ws.nb_doms, 4);
	rc |= wr(f, t->ws.doms, t->ws.nb_doms * sizeof(struct dom_spec));
	rc |= wr(f, &t->ws.nb_queues, 4);
	rc |= wr(f, t->ws.queues, t->ws.nb_queues * sizeof(struct queue_spec));
	rc |= wr(f, &t->ws.nb_grants, 4);
	rc |= wr(f, t->ws.grants, t->ws.nb_grants * sizeof(struct grant_spec));
	rc |= wr(f, &t->ws.corrupt_lo, 4);
	rc |= wr(f, &t->ws.corrupt_hi, 4);
	rc |= wr(f, &t->nb_recs, 4);
	for (uint32_t i = 0; i < t->nb_recs && rc == 0; i++) {
		const struct record *r = &t->recs[i];

		rc |= wr(f, &r->type, 1);
		rc |= wr(f, &r->cmd, 1);
		rc |= wr(f, &r->qid, 2);
		rc |= wr(f, &r->count, 4);
		rc |= wr(f, &r->ref, 4);
		rc |= wr(f, &r->a, 4);
		rc |= wr(f, &r->b, 4);
		rc |= wr(f, &r->c, 4);
		rc |= wr(f, &r->result, 4);
		if (r->type == REC_BATCH || r->type == REC_RAW) {
			size_t ob = rec_op_bytes(r);

			rc |= wr(f, r->ops, ob * r->count);
			rc |= wr(f, r->meta, r->count * sizeof(struct op_meta));
		}
	}
	if (fclose(f) != 0)
		rc = -EIO;
	return rc;
}

int
trace_read(struct trace *t, const char *path)
{
	FILE *f = fopen(path, "rb");
	char magic[8];
	uint32_t v, n;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (f == NULL)
		return -errno;
	if (rd(f, magic, 8) || memcmp(magic, TRACE_MAGIC, 8) || rd(f, &v, 4)) {
		fclose(f);
		return -EINVAL;
	}
	if (v != TRACE_VERSION) {
		fprintf(stderr,
			"gntdp-stress: %s is a version %u trace; this build reads version %u only%s\n",
			path, v, TRACE_VERSION,
			v == 1 ? " (version 1 traces drove the per-op queue, which is gone: rerun "
				 "the seed that wrote it with this build)"
			       : "");
		fclose(f);
		return -EPROTO;
	}
	rc |= rd(f, &t->mode, 4);
	rc |= rd(f, &t->seed, 8);
	rc |= rd(f, t->note, sizeof(t->note));
	t->note[sizeof(t->note) - 1] = '\0';
	rc |= rd(f, &t->ws.seed, 8);
	rc |= rd(f, &t->ws.nb_doms, 4);
	if (rc || t->ws.nb_doms > STRESS_MAX_DOMS)
		goto bad;
	rc |= rd(f, t->ws.doms, t->ws.nb_doms * sizeof(struct dom_spec));
	rc |= rd(f, &t->ws.nb_queues, 4);
	if (rc || t->ws.nb_queues > STRESS_MAX_QUEUES)
		goto bad;
	rc |= rd(f, t->ws.queues, t->ws.nb_queues * sizeof(struct queue_spec));
	rc |= rd(f, &t->ws.nb_grants, 4);
	if (rc || t->ws.nb_grants > 1u << 20)
		goto bad;
	t->ws.grants = calloc(t->ws.nb_grants + 1, sizeof(struct grant_spec));
	if (t->ws.grants == NULL)
		goto bad;
	rc |= rd(f, t->ws.grants, t->ws.nb_grants * sizeof(struct grant_spec));
	rc |= rd(f, &t->ws.corrupt_lo, 4);
	rc |= rd(f, &t->ws.corrupt_hi, 4);
	rc |= rd(f, &n, 4);
	if (rc)
		goto bad;
	for (uint32_t i = 0; i < n; i++) {
		struct record r;

		memset(&r, 0, sizeof(r));
		rc |= rd(f, &r.type, 1);
		rc |= rd(f, &r.cmd, 1);
		rc |= rd(f, &r.qid, 2);
		rc |= rd(f, &r.count, 4);
		rc |= rd(f, &r.ref, 4);
		rc |= rd(f, &r.a, 4);
		rc |= rd(f, &r.b, 4);
		rc |= rd(f, &r.c, 4);
		rc |= rd(f, &r.result, 4);
		if (rc || r.type < REC_BATCH || r.type > REC_CTRL || r.count > STRESS_MAX_BATCH ||
		    ((r.type == REC_BATCH || r.type == REC_RAW) && r.qid >= t->ws.nb_queues) ||
		    (r.type == REC_BATCH && op_size(r.cmd) == 0))
			goto bad;
		if (r.type == REC_BATCH || r.type == REC_RAW) {
			size_t ob = rec_op_bytes(&r);

			r.ops = malloc(ob * r.count + 1);
			r.meta = malloc(sizeof(struct op_meta) * r.count + 1);
			if (r.ops == NULL || r.meta == NULL || rd(f, r.ops, ob * r.count) ||
			    rd(f, r.meta, sizeof(struct op_meta) * r.count)) {
				record_free(&r);
				goto bad;
			}
		}
		if (trace_add(t, &r) != 0) {
			record_free(&r);
			goto bad;
		}
		record_free(&r);
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	trace_free(t);
	return -EINVAL;
}

int
trace_dump(const struct trace *t, const struct stress_conf *c, const char *tag, char *path,
	   size_t len)
{
	int rc;

	snprintf(path, len, "%s/gntdp-stress-%llu-%s.trace", c->trace_dir,
		 (unsigned long long)t->seed, tag);
	rc = trace_write(t, path);
	if (rc != 0)
		fprintf(stderr, "gntdp-stress: cannot write %s: %s\n", path, strerror(-rc));
	return rc;
}

/* ---- Replay ------------------------------------------------------------------------ */

struct replayer {
	const struct trace *t;
	struct world wb; /* plain core */
	struct world wa; /* through the data plane (use_dp) */
	struct gntdp_dp *dp;
	struct gntdp_dp_hcall *rings[STRESS_MAX_QUEUES];
	uint32_t nb_rings;
	struct handle_map *ha, *hb;
	struct op_result *resa, *resb;
	uint32_t *handles;
	uint64_t seq[STRESS_MAX_QUEUES];
};

static void
note_maps(struct handle_map *h, const struct record *r, uint32_t rec, const struct op_result *res)
{
	for (uint32_t i = 0; i < r->count; i++) {
		if (res[i].status != GNTDP_GNTST_OKAY || res[i].rc != 0)
			continue;
		if (r->cmd == GNTDP_GNTTABOP_MAP_GRANT_REF)
			hmap_put(h, rec, i, res[i].handle);
		else if (cmd_has_handles(r->cmd) && r->meta[i].orec != 0 &&
			 r->meta[i].kind != K_UM_PARTIAL && r->meta[i].kind != K_UM_ZERO &&
			 r->meta[i].kind != K_UR_DEVONLY &&
			 !(r->cmd == GNTDP_GNTTABOP_UNMAP_AND_REPLACE && r->meta[i].aux))
			hmap_del(h, r->meta[i].orec - 1, r->meta[i].oop);
	}
}

/* The arguments of commands 7-12 (--verbose). */
static void
print_op_v2(uint8_t cmd, const void *op, uint32_t handle)
{
	switch (cmd) {
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE: {
		const struct gntdp_gnttab_unmap_and_replace *u = op;

		printf("unmap_and_replace handle %u (as issued %u) gfn %llu new_addr %#llx",
		       handle != UINT32_MAX ? handle : u->handle, u->handle,
		       (unsigned long long)(u->host_addr >> 12), (unsigned long long)u->new_addr);
		break;
	}
	case GNTDP_GNTTABOP_SET_VERSION:
		printf("set_version %u", ((const struct gntdp_gnttab_set_version *)op)->version);
		break;
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES: {
		const struct gntdp_gnttab_get_status_frames *g = op;

		printf("get_status_frames d%u nr %u list %#llx", g->dom, g->nr_frames,
		       (unsigned long long)(uintptr_t)g->frame_list);
		break;
	}
	case GNTDP_GNTTABOP_GET_VERSION:
		printf("get_version d%u", ((const struct gntdp_gnttab_get_version *)op)->dom);
		break;
	case GNTDP_GNTTABOP_SWAP_GRANT_REF: {
		const struct gntdp_gnttab_swap_grant_ref *w = op;

		printf("swap ref %u <-> %u", w->ref_a, w->ref_b);
		break;
	}
	default: {
		const struct gntdp_gnttab_cache_flush *c = op;

		printf("cache_flush dev %#llx +%u len %u op %#x",
		       (unsigned long long)c->a.dev_bus_addr, c->offset, c->length, c->op);
		break;
	}
	}
}

/* One line per op: what it asked and what it got (--verbose). */
static void
print_op(const struct record *r, uint32_t rec, uint32_t i, const uint32_t *handles,
	 const struct op_result *res)
{
	const void *op = (const uint8_t *)r->ops + (size_t)i * rec_op_bytes(r);
	uint32_t cmd = rec_cmd(r, i);

	printf("  rec %u op %u q%u %-28s ", rec, i, r->qid, kind_name(r->meta[i].kind));
	if (r->type == REC_RAW) {
		const struct raw_call *x = op;

		printf("raw call cmd %u count %u gaddr %#llx flags %#x rsvd %#x", x->cmd, x->count,
		       (unsigned long long)x->gaddr, x->flags, x->rsvd);
	} else if (cmd == GNTDP_GNTTABOP_COPY) {
		const struct gntdp_gnttab_copy *c = op;

		printf("copy %s%llu d%u +%u -> %s%llu d%u +%u len %u flags %#x",
		       c->flags & 1 ? "ref " : "gfn ",
		       (unsigned long long)(c->flags & 1 ? c->source.u.ref : c->source.u.gmfn),
		       c->source.domid, c->source.offset, c->flags & 2 ? "ref " : "gfn ",
		       (unsigned long long)(c->flags & 2 ? c->dest.u.ref : c->dest.u.gmfn),
		       c->dest.domid, c->dest.offset, c->len, c->flags);
	} else if (cmd == GNTDP_GNTTABOP_MAP_GRANT_REF) {
		const struct gntdp_gnttab_map_grant_ref *m = op;

		printf("map d%u ref %u flags %#x gfn %llu", m->dom, m->ref, m->flags,
		       (unsigned long long)(m->host_addr >> 12));
	} else if (cmd == GNTDP_GNTTABOP_UNMAP_GRANT_REF) {
		const struct gntdp_gnttab_unmap_grant_ref *u = op;

		printf("unmap handle %u (as issued %u, map rec %u op %u) gfn %llu dev %#llx",
		       handles ? handles[i] : u->handle, u->handle, r->meta[i].orec - 1,
		       r->meta[i].oop, (unsigned long long)(u->host_addr >> 12),
		       (unsigned long long)u->dev_bus_addr);
	} else if (cmd == GNTDP_GNTTABOP_TRANSFER) {
		const struct gntdp_gnttab_transfer *t = op;

		printf("transfer gfn %llu to d%u ref %u", (unsigned long long)t->mfn, t->domid,
		       t->ref);
	} else if (cmd >= GNTDP_GNTTABOP_UNMAP_AND_REPLACE && cmd <= GNTDP_GNTTABOP_CACHE_FLUSH) {
		print_op_v2(cmd, op, handles ? handles[i] : UINT32_MAX);
	} else {
		printf("cmd %u dom %u", cmd, *(const uint16_t *)op);
	}
	printf(" => %s rc %d", gntdp_gntst_name(res[i].status), res[i].rc);
	if (cmd == GNTDP_GNTTABOP_MAP_GRANT_REF && res[i].status == 0)
		printf(" handle %u", res[i].handle);
	if (cmd == GNTDP_GNTTABOP_SET_VERSION ||
	    (cmd == GNTDP_GNTTABOP_GET_VERSION && res[i].rc == 0))
		printf(" version %u", res[i].version);
	printf("\n");
}

static void
check_masks(const struct record *r, uint32_t rec, const struct op_result *res)
{
	for (uint32_t i = 0; i < r->count; i++) {
		char want[160], sig[96];

		if (mask_allows(r->meta[i].mask, res[i].status, res[i].rc))
			continue;
		mask_str(r->meta[i].mask, want, sizeof(want));
		snprintf(sig, sizeof(sig), "status/%s/%s", kind_name(r->meta[i].kind),
			 gntdp_gntst_name(res[i].status));
		violation(sig, "replay rec %u op %u/%u %s: got %s rc %d, the spec allows %s", rec,
			  i, r->count, kind_name(r->meta[i].kind), gntdp_gntst_name(res[i].status),
			  res[i].rc, want);
	}
}

static int
replayer_open(struct replayer *p, const struct trace *t, const struct stress_conf *c, bool use_dp)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->t = t;
	p->ha = hmap_new();
	p->hb = hmap_new();
	p->resa = calloc(STRESS_MAX_BATCH, sizeof(*p->resa));
	p->resb = calloc(STRESS_MAX_BATCH, sizeof(*p->resb));
	p->handles = calloc(STRESS_MAX_BATCH, sizeof(*p->handles));
	if (p->ha == NULL || p->hb == NULL || p->resa == NULL || p->resb == NULL ||
	    p->handles == NULL)
		return -ENOMEM;
	rc = world_build(&p->wb, 1, &t->ws);
	if (rc != 0)
		return rc;
	if (!use_dp)
		return 0;
	rc = world_build(&p->wa, 0, &t->ws);
	if (rc == 0) {
		struct gntdp_dp_conf dc;

		gntdp_dp_conf_init(&dc);
		dc.nb_workers = 1;
		dc.worker_lcores[0] = rte_get_next_lcore((unsigned int)-1, 1, 0);
		dc.cache = c->cache;
		dc.hold_us = c->hold_us;
		dc.idle_sleep_us = c->idle_sleep_us;
		dc.idle_after_us = c->idle_after_us;
		dc.cache_entries = c->cache_entries;
		dc.copy = c->copy;
		rc = gntdp_dp_create(p->wa.gt, &dc, &p->dp);
	}
	/* A ring per queue, as large as the largest record (one call per op at most). */
	if (rc == 0)
		rc = rings_create(p->dp, &t->ws, c, STRESS_MAX_BATCH, p->rings);
	if (rc == 0)
		p->nb_rings = t->ws.nb_queues;
	if (rc == 0)
		rc = gntdp_dp_start(p->dp);
	return rc;
}

static void
replayer_close(struct replayer *p)
{
	if (p->dp != NULL) {
		gntdp_dp_stop(p->dp);
		rings_destroy(p->dp, p->rings, p->nb_rings);
		gntdp_dp_destroy(p->dp);
	}
	if (p->wa.gt != NULL)
		world_destroy(&p->wa);
	if (p->wb.gt != NULL)
		world_destroy(&p->wb);
	hmap_free(p->ha);
	hmap_free(p->hb);
	free(p->resa);
	free(p->resb);
	free(p->handles);
}

static void
replay_record(struct replayer *p, const struct record *r, uint32_t rec)
{
	bool dual = p->dp != NULL;

	if (r->type == REC_BATCH || r->type == REC_RAW) {
		if (r->count == 0)
			return;
		if (dual && rec_needs_empty_cache(&p->t->ws, r))
			wait_pins(&p->wa, &p->wb, 2.0, "replay v2 batch", 0);
		if (r->type == REC_BATCH && cmd_has_handles(r->cmd)) {
			record_handles(r, p->hb, p->handles);
			exec_plain(&p->wb, r, p->handles, p->resb);
		} else {
			exec_plain(&p->wb, r, NULL, p->resb);
		}
		if (g_verbose) {
			for (uint32_t i = 0; i < r->count; i++)
				print_op(r, rec, i,
					 r->type == REC_BATCH &&
							 cmd_has_handles(r->cmd)
						 ? p->handles
						 : NULL,
					 p->resb);
		}
		check_masks(r, rec, p->resb);
		if (dual) {
			const uint32_t *h = NULL;

			if (r->type == REC_BATCH && cmd_has_handles(r->cmd)) {
				record_handles(r, p->ha, p->handles);
				h = p->handles;
			}
			if (dp_run_record(p->rings[r->qid], &p->wa, r, h, p->resa, &p->seq[r->qid],
					  10.0) == 0) {
				compare_results(&p->wa, &p->wb, r, p->resa, p->resb, rec);
				note_maps(p->ha, r, rec, p->resa);
				compare_worlds(&p->wa, &p->wb, rec);
			}
		}
		if (r->type == REC_BATCH)
			note_maps(p->hb, r, rec, p->resb);
		return;
	}
	if (g_verbose)
		printf("  rec %u %s action %u d%u ref %u (%u, %#x, %u)\n", rec,
		       r->type == REC_GUEST ? "guest" : "control", r->cmd, r->qid, r->ref, r->a,
		       r->b, r->c);
	if (r->type == REC_CTRL && r->cmd == CA_DRAIN) {
		if (dual)
			wait_pins(&p->wa, &p->wb, 2.0, "replay drain", 0);
		/* No model here to say which segments transferred pages keep: skip that count. */
		check_drained(&p->wb, "replay drain", -1);
		if (dual)
			check_drained(&p->wa, "replay drain (data plane)", -1);
		return;
	}
	if (dual) {
		int ra, rb;

		wait_pins(&p->wa, &p->wb, 2.0, "replay guest action", 0);
		ra = exec_guest(&p->wa, r);
		rb = exec_guest(&p->wb, r);
		if (ra != rb)
			violation("oracle/guest",
				  "replay rec %u: guest action %u on d%u ref %u: %d "
				  "vs %d",
				  rec, r->cmd, r->qid, r->ref, ra, rb);
	} else {
		exec_guest(&p->wb, r);
	}
}

int
replay_trace(const struct trace *t, const struct stress_conf *c, bool use_dp, bool quiet)
{
	struct replayer p;
	unsigned int before;
	int rc;

	atomic_store(&g_viol.quiet, quiet);
	before = atomic_load(&g_viol.count);
	rc = replayer_open(&p, t, c, use_dp);
	if (rc != 0) {
		replayer_close(&p);
		fprintf(stderr, "gntdp-stress: replay setup failed: %s\n", strerror(-rc));
		return rc;
	}
	for (uint32_t i = 0; i < t->nb_recs; i++) {
		replay_record(&p, &t->recs[i], i);
		if (atomic_load(&g_viol.count) != before)
			break; /* first violation: that is what is being reproduced */
	}
	replayer_close(&p);
	atomic_store(&g_viol.quiet, false);
	return (int)(atomic_load(&g_viol.count) - before);
}

int
replay_main(const struct stress_conf *c, const char *path, bool use_dp)
{
	struct trace t;
	int rc = trace_read(&t, path);
	unsigned long ops = 0;

	if (rc != 0) {
		fprintf(stderr, "gntdp-stress: %s: not a readable trace (%s)\n", path,
			rc == -EPROTO ? "unsupported version" : strerror(-rc));
		return EXIT_USAGE;
	}
	for (uint32_t i = 0; i < t.nb_recs; i++)
		ops += t.recs[i].count;
	g_seed = t.seed;
	printf("gntdp-stress: replaying %s: seed %llu, %s mode, %u domains, %u records, %lu ops, "
	       "%s\n",
	       path, (unsigned long long)t.seed, t.mode == MODE_CONC ? "concurrent" : "sequential",
	       t.ws.nb_doms, t.nb_recs, ops, use_dp ? "data plane and plain core" : "plain core");
	if (t.note[0] != '\0')
		printf("gntdp-stress: recorded violation: %s\n", t.note);
	rc = replay_trace(&t, c, use_dp, false);
	trace_free(&t);
	if (rc < 0)
		return EXIT_VIOLATION;
	if (rc > 0) {
		printf("gntdp-stress: REPRODUCED: %s\n", g_viol.first);
		return EXIT_VIOLATION;
	}
	printf("gntdp-stress: replay clean: no violation\n");
	return EXIT_SUCCESS;
}

/* ---- Minimizer ------------------------------------------------------------------------ */

struct unit {
	uint32_t rec;
	int32_t op; /* -1: the whole record */
};

/*
 * The trace made of units u[0..n) (sorted by record, then op). Unmaps whose map is
 * still there are re-pointed at its new (record, op); the others get a stale handle.
 */
static int
build_subset(const struct trace *src, const struct unit *u, uint32_t n, struct trace *dst)
{
	uint32_t *newrec = malloc(sizeof(uint32_t) * (src->nb_recs + 1));
	uint32_t **newop = calloc(src->nb_recs + 1, sizeof(uint32_t *));
	uint32_t i = 0;
	int rc = 0;

	trace_init(dst, src->seed, src->mode, &src->ws);
	memcpy(dst->note, src->note, sizeof(dst->note));
	if (newrec == NULL || newop == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t r = 0; r <= src->nb_recs; r++)
		newrec[r] = UINT32_MAX;
	while (i < n && rc == 0) {
		const struct record *r = &src->recs[u[i].rec];
		struct record nr;
		size_t ob;
		uint32_t j = i;

		if (u[i].op < 0) {
			newrec[u[i].rec] = dst->nb_recs;
			if (r->count > 0) {
				/* A whole batch keeps its op numbers. */
				newop[u[i].rec] = malloc(sizeof(uint32_t) * r->count);
				if (newop[u[i].rec] == NULL) {
					rc = -ENOMEM;
					break;
				}
				for (uint32_t k = 0; k < r->count; k++)
					newop[u[i].rec][k] = k;
			}
			rc = trace_add(dst, r);
			i++;
			continue;
		}
		while (j < n && u[j].rec == u[i].rec)
			j++;
		ob = rec_op_bytes(r);
		nr = *r;
		nr.count = j - i;
		nr.ops = malloc(ob * nr.count);
		nr.meta = malloc(sizeof(struct op_meta) * nr.count);
		newop[u[i].rec] = malloc(sizeof(uint32_t) * r->count);
		if (nr.ops == NULL || nr.meta == NULL || newop[u[i].rec] == NULL) {
			record_free(&nr);
			rc = -ENOMEM;
			break;
		}
		for (uint32_t k = 0; k < r->count; k++)
			newop[u[i].rec][k] = UINT32_MAX;
		for (uint32_t k = i; k < j; k++) {
			memcpy((uint8_t *)nr.ops + (k - i) * ob,
			       (const uint8_t *)r->ops + (size_t)u[k].op * ob, ob);
			nr.meta[k - i] = r->meta[u[k].op];
			newop[u[i].rec][u[k].op] = k - i;
		}
		newrec[u[i].rec] = dst->nb_recs;
		rc = trace_add(dst, &nr);
		record_free(&nr);
		i = j;
	}
	for (uint32_t r = 0; r < dst->nb_recs && rc == 0; r++) {
		struct record *x = &dst->recs[r];

		if (x->type != REC_BATCH || !cmd_has_handles(x->cmd))
			continue;
		uint32_t w = 0;

		for (uint32_t k = 0; k < x->count; k++) {
			struct op_meta *m = &x->meta[k];
			uint32_t o = m->orec - 1;
			struct gntdp_gnttab_unmap_grant_ref *ops = x->ops; /* or replace: same size */

			if (m->orec != 0) {
				if (o < src->nb_recs && newrec[o] != UINT32_MAX &&
				    newop[o] != NULL && m->oop < src->recs[o].count &&
				    newop[o][m->oop] != UINT32_MAX) {
					m->orec = newrec[o] + 1;
					m->oop = newop[o][m->oop];
				} else {
					continue; /* its map is gone: the unmap goes with it */
				}
			}
			ops[w] = ops[k];
			x->meta[w++] = *m;
		}
		x->count = w;
	}
out:
	if (newop != NULL) {
		for (uint32_t r = 0; r <= src->nb_recs; r++)
			free(newop[r]);
	}
	free(newop);
	free(newrec);
	return rc;
}

static bool
still_fails(const struct trace *src, const struct unit *u, uint32_t n, const struct stress_conf *c,
	    bool use_dp, const char *sig, unsigned int *runs)
{
	struct trace t;
	bool fails = false;
	char saved_sig[sizeof(g_viol.sig)];
	unsigned int before = atomic_load(&g_viol.count);

	if (build_subset(src, u, n, &t) != 0) {
		trace_free(&t);
		return false;
	}
	memcpy(saved_sig, g_viol.sig, sizeof(saved_sig));
	atomic_store(&g_viol.count, 0);
	g_viol.sig[0] = '\0';
	(*runs)++;
	if (replay_trace(&t, c, use_dp, true) > 0)
		fails = strcmp(g_viol.sig, sig) == 0;
	atomic_store(&g_viol.count, before);
	memcpy(g_viol.sig, saved_sig, sizeof(saved_sig));
	trace_free(&t);
	return fails;
}

/* ddmin: drop each of `chunks` pieces in turn; refine the pieces when none can go. */
static void
ddmin(const struct trace *t, struct unit *u, uint32_t *np, struct unit *tmp,
      const struct stress_conf *c, bool use_dp, const char *sig, unsigned int *runs,
      uint32_t *chunks)
{
	uint32_t n = *np;

	while (n >= 2 && *runs < 3000) {
		uint32_t size = (n + *chunks - 1) / *chunks;
		bool reduced = false;

		for (uint32_t start = 0; start < n; start += size) {
			uint32_t m = 0;

			for (uint32_t k = 0; k < n; k++) {
				if (k < start || k >= start + size)
					tmp[m++] = u[k];
			}
			if (m > 0 && still_fails(t, tmp, m, c, use_dp, sig, runs)) {
				memcpy(u, tmp, sizeof(*u) * m);
				n = m;
				*chunks = *chunks > 2 ? *chunks - 1 : 2;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (size <= 1)
				break;
			*chunks = *chunks * 2 < n ? *chunks * 2 : n;
		}
	}
	*np = n;
}

int
minimize_main(const struct stress_conf *c, const char *path, const char *out, bool use_dp)
{
	struct trace t, best;
	struct unit *u, *tmp;
	uint32_t n = 0, chunks = 2;
	unsigned int runs = 0;
	char sig[sizeof(g_viol.sig)], outpath[600];
	unsigned long ops0 = 0;
	int rc = trace_read(&t, path);

	if (rc != 0) {
		fprintf(stderr, "gntdp-stress: %s: not a readable trace (%s)\n", path,
			strerror(-rc));
		return EXIT_USAGE;
	}
	g_seed = t.seed;
	atomic_store(&g_viol.count, 0);
	if (replay_trace(&t, c, use_dp, true) <= 0) {
		printf("gntdp-stress: %s does not fail when replayed: nothing to minimize\n", path);
		trace_free(&t);
		return EXIT_SUCCESS;
	}
	snprintf(sig, sizeof(sig), "%s", g_viol.sig);
	printf("gntdp-stress: minimizing %s (%u records), keeping violation [%s]\n", path,
	       t.nb_recs, sig);
	for (uint32_t r = 0; r < t.nb_recs; r++)
		n += t.recs[r].count > 0 ? t.recs[r].count : 1;
	u = malloc(sizeof(*u) * (n + 1));
	tmp = malloc(sizeof(*u) * (n + 1));
	if (u == NULL || tmp == NULL) {
		free(u);
		free(tmp);
		trace_free(&t);
		return EXIT_USAGE;
	}
	/* Level 1: whole records. Level 2: single ops of the batches that are left. */
	n = 0;
	for (uint32_t r = 0; r < t.nb_recs; r++) {
		ops0 += t.recs[r].count;
		u[n].rec = r;
		u[n++].op = -1;
	}
	for (int level = 1; level <= 2; level++) {
		if (level == 2) {
			uint32_t m = 0;

			for (uint32_t k = 0; k < n; k++) {
				const struct record *x = &t.recs[u[k].rec];

				if (x->count == 0 || (x->type != REC_BATCH && x->type != REC_RAW)) {
					tmp[m++] = u[k];
					continue;
				}
				for (uint32_t o = 0; o < x->count; o++) {
					tmp[m].rec = u[k].rec;
					tmp[m++].op = (int32_t)o;
				}
			}
			memcpy(u, tmp, sizeof(*u) * m);
			n = m;
			chunks = 2;
		}
		ddmin(&t, u, &n, tmp, c, use_dp, sig, &runs, &chunks);
	}
	rc = build_subset(&t, u, n, &best);
	if (rc == 0) {
		unsigned long ops = 0;

		for (uint32_t r = 0; r < best.nb_recs; r++)
			ops += best.recs[r].count;
		if (out == NULL) {
			snprintf(outpath, sizeof(outpath), "%s.min", path);
			out = outpath;
		}
		rc = trace_write(&best, out);
		printf("gntdp-stress: minimized %u records / %lu ops to %u records / %lu ops in %u "
		       "replays: %s\n",
		       t.nb_recs, ops0, best.nb_recs, ops, runs, out);
		for (uint32_t r = 0; r < best.nb_recs; r++) {
			const struct record *x = &best.recs[r];

			if (x->type == REC_BATCH || x->type == REC_RAW) {
				printf("  rec %u: queue %u (d%u) cmd %u, %u ops:", r, x->qid,
				       best.ws.queues[x->qid].domid, x->cmd, x->count);
				for (uint32_t k = 0; k < x->count && k < 6; k++)
					printf(" [%s]", kind_name(x->meta[k].kind));
				printf("%s\n", x->count > 6 ? " ..." : "");
			} else {
				printf("  rec %u: %s action %u d%u ref %u (%u, %u, %u)\n", r,
				       x->type == REC_GUEST ? "guest" : "control", x->cmd, x->qid,
				       x->ref, x->a, x->b, x->c);
			}
		}
	}
	trace_free(&best);
	trace_free(&t);
	free(u);
	free(tmp);
	return rc == 0 ? EXIT_VIOLATION : EXIT_USAGE;
}
