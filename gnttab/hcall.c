/* SPDX-License-Identifier: MIT */
/*
 * The hypercall entry (gntdp_hcall) and the client side of the hypercall
 * ring (gntdp/hcall.h, docs/hcall.md).
 *
 * gntdp_hcall does what Xen's do_grant_table_op does around the commands:
 * copy each op in from the caller's memory, run it, copy its results out.
 * The commands themselves are gntdp_gnttab_op(), called on a private copy
 * of a chunk of ops, so no field an op executes from can change under it:
 * the caller's memory is read once per op (memcpy into priv[]) and never
 * again. The chunking is invisible to the guest: a chunk ends after any op
 * that may touch a frame holding the op array (op_hazard), so an op that
 * rewrites later ops, reads earlier ops' statuses or gives their frame
 * away sees the order Xen gives it.
 *
 * Guest memory is reached only through a span: the frames under a byte
 * range of the caller's physmap, each resolved to a RAM page the caller
 * owns and held by a page reference while it is read or written (a
 * transfer needs refs == 1, so the page cannot change owner meanwhile).
 * Domain pointers are used only inside a quiescent-state section of the
 * context (the same protocol gntdp_gnttab_op follows, docs/concurrency.md);
 * pages are kept alive outside them by their references.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include <gntdp/hcall.h>

#include "internal.h"

/* Most ops copied in at once; 64 x 40 bytes stays under one frame, so a span has 2 frames. */
#define CHUNK_OPS 64u
#define CHUNK_BYTES (CHUNK_OPS * sizeof(struct gntdp_gnttab_copy))
#define SPAN_FRAMES 2u
#define NO_FIELD 0xffu

/* What the loop needs to know about each command's argument struct. */
struct cmd_desc {
	uint8_t size;       /* bytes per op in the array */
	uint8_t single;     /* count must be 1 */
	uint8_t whole;      /* write the whole struct back (else only status) */
	uint8_t status_off; /* offset of int16 status, NO_FIELD for none */
	uint8_t list_off;   /* offset of a frame_list guest handle, NO_FIELD for none */
	uint8_t nr_off;     /* offset of the list's uint32 nr_frames */
	uint8_t list_stop;  /* a bad list element ends the list (setup_table) */
	uint8_t err_back;   /* written back also when the core refuses the call (set_version) */
};

#define ST(type) offsetof(struct type, status)

/* Every command 0..12 of gntdp/xen_grant_table.h, whether the core runs it yet or not. */
static const struct cmd_desc cmds[GNTDP_HCALL_NB_CMDS] = {
	[GNTDP_GNTTABOP_MAP_GRANT_REF] = {sizeof(struct gntdp_gnttab_map_grant_ref), 0, 1,
					  ST(gntdp_gnttab_map_grant_ref), NO_FIELD, 0, 0},
	[GNTDP_GNTTABOP_UNMAP_GRANT_REF] = {sizeof(struct gntdp_gnttab_unmap_grant_ref), 0, 0,
					    ST(gntdp_gnttab_unmap_grant_ref), NO_FIELD, 0, 0},
	[GNTDP_GNTTABOP_SETUP_TABLE] = {sizeof(struct gntdp_gnttab_setup_table), 1, 0,
					ST(gntdp_gnttab_setup_table),
					offsetof(struct gntdp_gnttab_setup_table, frame_list),
					offsetof(struct gntdp_gnttab_setup_table, nr_frames), 1},
	[GNTDP_GNTTABOP_DUMP_TABLE] = {sizeof(struct gntdp_gnttab_dump_table), 1, 1,
				       ST(gntdp_gnttab_dump_table), NO_FIELD, 0, 0},
	[GNTDP_GNTTABOP_TRANSFER] = {sizeof(struct gntdp_gnttab_transfer), 0, 0,
				     ST(gntdp_gnttab_transfer), NO_FIELD, 0, 0},
	[GNTDP_GNTTABOP_COPY] = {sizeof(struct gntdp_gnttab_copy), 0, 0, ST(gntdp_gnttab_copy),
				 NO_FIELD, 0, 0},
	[GNTDP_GNTTABOP_QUERY_SIZE] = {sizeof(struct gntdp_gnttab_query_size), 1, 1,
				       ST(gntdp_gnttab_query_size), NO_FIELD, 0, 0},
	[GNTDP_GNTTABOP_UNMAP_AND_REPLACE] = {sizeof(struct gntdp_gnttab_unmap_and_replace), 0, 0,
					      ST(gntdp_gnttab_unmap_and_replace), NO_FIELD, 0, 0},
	/* Xen's gnttab_set_version copies op.version out whatever its result. */
	[GNTDP_GNTTABOP_SET_VERSION] = {sizeof(struct gntdp_gnttab_set_version), 1, 1, NO_FIELD,
					NO_FIELD, 0, 0, 1},
	[GNTDP_GNTTABOP_GET_STATUS_FRAMES] = {sizeof(struct gntdp_gnttab_get_status_frames), 1, 0,
					      ST(gntdp_gnttab_get_status_frames),
					      offsetof(struct gntdp_gnttab_get_status_frames,
						       frame_list),
					      offsetof(struct gntdp_gnttab_get_status_frames,
						       nr_frames),
					      0},
	[GNTDP_GNTTABOP_GET_VERSION] = {sizeof(struct gntdp_gnttab_get_version), 1, 1, NO_FIELD,
					NO_FIELD, 0, 0},
	[GNTDP_GNTTABOP_SWAP_GRANT_REF] = {sizeof(struct gntdp_gnttab_swap_grant_ref), 0, 0,
					   ST(gntdp_gnttab_swap_grant_ref), NO_FIELD, 0, 0},
	[GNTDP_GNTTABOP_CACHE_FLUSH] = {sizeof(struct gntdp_gnttab_cache_flush), 0, 0, NO_FIELD,
					NO_FIELD, 0, 0},
};

_Static_assert(CHUNK_BYTES <= GNTDP_PAGE_SIZE, "a chunk spans at most SPAN_FRAMES frames");

#ifdef HCALL_TEST_HOOK
/* Tests only (tests/unit/test_hcall.c includes this file): runs between copy-in and the op. */
static void (*hcall_test_fetched)(uint64_t gaddr, unsigned int nb_ops);
#define TEST_FETCHED(a, n)                                                                         \
	do {                                                                                       \
		if (hcall_test_fetched != NULL)                                                    \
			hcall_test_fetched(a, n);                                                  \
	} while (0)
#else
#define TEST_FETCHED(a, n) ((void)0)
#endif

/* ---- Sections and spans --------------------------------------------------- */

/* One call's view of its caller: the domain is looked up again in every section. */
struct caller {
	struct gntdp_gnttab_ctx *ctx;
	gntdp_domid_t domid;
	uint64_t uid; /* the domain of the first lookup; another one under the same id is -ESRCH */
	unsigned long qs;
};

/* Enter a section as gntdp_gnttab_op does (odd qs, full fence before the lookup). */
static struct domain *
section_enter(struct caller *c)
{
	struct domain *d;

	c->qs = atomic_load_explicit(&c->ctx->qs, memory_order_relaxed);
	atomic_store_explicit(&c->ctx->qs, c->qs + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst); /* pairs with qsbr_wait's fence */
	d = dom_lookup(c->ctx->gt, c->domid);
	if (d == NULL || (c->uid != 0 && d->uid != c->uid))
		return NULL;
	c->uid = d->uid;
	return d;
}

/* Leave: the release orders every access of the section before the even qs. */
static void
section_leave(struct caller *c)
{
	atomic_store_explicit(&c->ctx->qs, c->qs + 2, memory_order_release);
}

/* The caller's RAM frames under [addr, addr + len): a prefix of them, each referenced. */
struct span {
	uint64_t addr;
	uint32_t len; /* bytes from addr that lie in held frames */
	unsigned int nb;
	struct page *pg[SPAN_FRAMES];
};

static void
span_put(struct span *sp)
{
	for (unsigned int i = 0; i < sp->nb; i++)
		page_put(sp->pg[i]);
	sp->nb = 0;
	sp->len = 0;
}

/* Hold the frames under [addr, addr + want), want <= PAGE_SIZE, up to the first bad one. */
static void
span_get(struct domain *ld, uint64_t addr, uint32_t want, struct span *sp)
{
	uint32_t off = (uint32_t)(addr & (GNTDP_PAGE_SIZE - 1));

	sp->addr = addr;
	sp->len = 0;
	sp->nb = 0;
	if (want == 0 || addr > UINT64_MAX - want)
		return; /* wraps the address space: no byte of it is guest memory */
	while (sp->len < want) {
		struct page *pg = p2m_ram_page(ld, (addr + sp->len) >> GNTDP_PAGE_SHIFT);
		uint32_t in_frame = GNTDP_PAGE_SIZE - off;

		if (pg == NULL || !page_get(pg, ld))
			return;
		sp->pg[sp->nb++] = pg;
		sp->len += in_frame < want - sp->len ? in_frame : want - sp->len;
		off = 0;
	}
}

/* Copy between the span at byte @off and @buf (@n bytes within sp->len). */
static void
span_copy(const struct span *sp, uint32_t off, void *buf, uint32_t n, bool to_guest)
{
	uint8_t *b = buf;
	uint32_t pos = (uint32_t)(sp->addr & (GNTDP_PAGE_SIZE - 1)) + off;

	while (n > 0) {
		uint32_t in = pos & (GNTDP_PAGE_SIZE - 1);
		uint32_t k = GNTDP_PAGE_SIZE - in < n ? GNTDP_PAGE_SIZE - in : n;
		uint8_t *g = sp->pg[pos >> GNTDP_PAGE_SHIFT]->va + in;

		if (to_guest)
			memcpy(g, b, k);
		else
			memcpy(b, g, k);
		b += k;
		pos += k;
		n -= k;
	}
}

/* Resolve and hold a span in its own section. -ESRCH when the caller is gone. */
static int
span_get_section(struct caller *c, uint64_t addr, uint32_t want, struct span *sp)
{
	struct domain *ld = section_enter(c);

	if (ld != NULL)
		span_get(ld, addr, want, sp);
	section_leave(c);
	return ld != NULL ? 0 : -ESRCH;
}

/* ---- Guest handles inside ops ---------------------------------------------- */

/*
 * Write the frame list the op left in @list to guest address @gl, element by
 * element as Xen's __copy_to_guest_offset loop: a bad element sets
 * bad_virt_addr and, for setup_table, ends the list.
 */
static int
list_copy_out(struct caller *c, const struct cmd_desc *d, uint8_t *op, uint64_t gl,
	      const uint64_t *list, uint32_t nr)
{
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t a = gl + (uint64_t)i * sizeof(uint64_t);
		struct span sp = {0};
		bool ok;

		/* An element past the top of the address space does not wrap to gfn 0. */
		if (a >= gl) {
			int rc = span_get_section(c, a, sizeof(uint64_t), &sp);

			if (rc != 0)
				return rc;
		}
		ok = sp.len == sizeof(uint64_t);
		if (ok)
			span_copy(&sp, 0, (void *)(uintptr_t)&list[i], sizeof(uint64_t), true);
		span_put(&sp);
		if (!ok) {
			int16_t st = GNTDP_GNTST_BAD_VIRT_ADDR;

			memcpy(op + d->status_off, &st, sizeof(st));
			if (d->list_stop)
				break;
		}
	}
	return 0;
}

/*
 * Run one op that carries a frame list. The core writes the list into a
 * private bounce buffer instead of the guest handle; it checks nr_frames
 * against the table's limit (<= GNTDP_MAX_GRANT_FRAMES_LIMIT) before it
 * writes any element, so the buffer cannot overflow.
 */
__attribute__((noinline)) static int
run_with_list(struct caller *c, unsigned int cmd, uint8_t *op)
{
	const struct cmd_desc *d = &cmds[cmd];
	uint64_t list[GNTDP_MAX_GRANT_FRAMES_LIMIT];
	uint64_t *bounce = list;
	uint64_t gl;
	uint32_t nr;
	int16_t st;
	int rc;

	memcpy(&gl, op + d->list_off, sizeof(gl));
	memcpy(&nr, op + d->nr_off, sizeof(nr));
	memcpy(op + d->list_off, &bounce, sizeof(bounce));
	rc = gntdp_gnttab_op(c->ctx, c->domid, cmd, op, 1);
	memcpy(op + d->list_off, &gl, sizeof(gl)); /* written back as read */
	if (rc != 0)
		return rc;
	memcpy(&st, op + d->status_off, sizeof(st));
	if (st != GNTDP_GNTST_OKAY || nr > GNTDP_MAX_GRANT_FRAMES_LIMIT)
		return 0;
	return list_copy_out(c, d, op, gl, list, nr);
}

/* ---- The per-chunk loop ---------------------------------------------------- */

/* Whether a copy side touches a frame of the caller in [lo, hi] (or might: own grants). */
static bool
side_hazard(const struct gntdp_gnttab_copy_ptr *p, bool gref, gntdp_domid_t caller, uint64_t lo,
	    uint64_t hi)
{
	if (gref)
		return p->domid == GNTDP_DOMID_SELF || p->domid == caller;
	return p->domid == GNTDP_DOMID_SELF && p->u.gmfn >= lo && p->u.gmfn <= hi;
}

/*
 * Whether @op may change or read the frames [lo, hi] that hold the op array:
 * then it runs after the ops before it were written back, and the ops after
 * it are copied in after it ran.
 */
static bool
op_hazard(unsigned int cmd, const uint8_t *op, gntdp_domid_t caller, uint64_t lo, uint64_t hi)
{
	if (cmd == GNTDP_GNTTABOP_COPY) {
		const struct gntdp_gnttab_copy *o = (const void *)op;

		return side_hazard(&o->source, (o->flags & GNTDP_GNTCOPY_SOURCE_GREF) != 0, caller,
				   lo, hi) ||
		       side_hazard(&o->dest, (o->flags & GNTDP_GNTCOPY_DEST_GREF) != 0, caller, lo,
				   hi);
	}
	if (cmd == GNTDP_GNTTABOP_TRANSFER) {
		const struct gntdp_gnttab_transfer *o = (const void *)op;

		return o->mfn >= lo && o->mfn <= hi;
	}
	return false;
}

/* Write back ops [k, k + n) of the chunk. */
static void
write_back(const struct cmd_desc *d, const struct span *sp, uint8_t *priv, unsigned int k,
	   unsigned int n)
{
	const uint32_t in = (uint32_t)(sp->addr & (GNTDP_PAGE_SIZE - 1));

	/* Common cases: every op in the span's first frame; one base pointer. */
	if (in + (k + n) * d->size <= GNTDP_PAGE_SIZE) {
		uint8_t *g = sp->pg[0]->va + in;

		/*
		 * Whole structs (map): ops k..k+n-1 are contiguous in both, so one
		 * memcpy writes the same bytes as n per-op span_copy calls (which
		 * were 60 instructions per map+unmap pair, callgrind).
		 */
		if (d->whole) {
			memcpy(g + k * d->size, priv + k * d->size, (size_t)n * d->size);
			return;
		}
		if (d->status_off == NO_FIELD)
			return;
		for (unsigned int i = k; i < k + n; i++)
			memcpy(g + i * d->size + d->status_off, priv + i * d->size + d->status_off,
			       sizeof(int16_t));
		return;
	}
	for (unsigned int i = k; i < k + n; i++) {
		uint32_t at = i * d->size;

		if (d->whole)
			span_copy(sp, at, priv + at, d->size, true);
		else if (d->status_off != NO_FIELD)
			span_copy(sp, at + d->status_off, priv + at + d->status_off,
				  sizeof(int16_t), true);
	}
}

struct call {
	struct caller c;
	unsigned int cmd;
	/* cache_flush's continuation argument (cmd bits >= 12): for the call's op 0 only,
	 * so cleared once the core ran it. */
	unsigned int arg;
	uint64_t gaddr;
	unsigned int count;
	uint64_t lo, hi; /* gfns that hold the op array */
};

/* Run ops [i, i + n) of the chunk through the core. */
static int
run(struct call *k, uint8_t *priv, unsigned int i, unsigned int n)
{
	const unsigned int cmd = k->cmd, arg = k->arg;

	if (cmds[cmd].list_off != NO_FIELD)
		return run_with_list(&k->c, cmd, priv + i * cmds[cmd].size);
	k->arg = 0;
	return gntdp_gnttab_op(k->c.ctx, k->c.domid, cmd | arg, priv + i * cmds[cmd].size, n);
}

/* Write back the status of hazard transfer @h of the chunk at @addr: its frame may be gone. */
static int
transfer_write_back(struct call *k, uint64_t addr, const uint8_t *priv, unsigned int h)
{
	const struct cmd_desc *d = &cmds[k->cmd];
	uint64_t at = addr + (uint64_t)h * d->size + d->status_off;
	struct span sp;
	int rc = span_get_section(&k->c, at, sizeof(int16_t), &sp);

	if (rc != 0)
		return rc;
	if (sp.len < sizeof(int16_t)) {
		span_put(&sp);
		return -EFAULT;
	}
	span_copy(&sp, 0, (void *)(uintptr_t)(priv + h * d->size + d->status_off), sizeof(int16_t),
		  true);
	span_put(&sp);
	return 0;
}

/*
 * Run the @m fetched ops of the chunk at @addr (held in @sp): the ops before
 * the first hazard in one core call, written back, then the hazard alone.
 * *@used receives how many ran. Returns 0, -EFAULT (a write-back missed the
 * caller's RAM) or a whole-call error of the core.
 */
static int
run_chunk(struct call *k, struct span *sp, uint64_t addr, uint8_t *priv, unsigned int m,
	  unsigned int *used)
{
	const struct cmd_desc *d = &cmds[k->cmd];
	unsigned int h = 0;
	int rc;

	while (h < m && !op_hazard(k->cmd, priv + h * d->size, k->c.domid, k->lo, k->hi))
		h++;
	*used = h < m ? h + 1 : m;
	if (h > 0) {
		rc = run(k, priv, 0, h);
		if (rc != 0 && !d->err_back)
			return rc;
		write_back(d, sp, priv, 0, h);
		if (rc != 0)
			return rc;
	}
	if (h == m)
		return 0;
	if (k->cmd == GNTDP_GNTTABOP_TRANSFER) {
		span_put(sp); /* the frame it gives away may be one of ours: no reference held */
		rc = run(k, priv, h, 1);
		return rc != 0 ? rc : transfer_write_back(k, addr, priv, h);
	}
	rc = run(k, priv, h, 1);
	if (rc != 0)
		return rc;
	write_back(d, sp, priv, h, 1);
	return 0;
}

/*
 * Ops *@pdone.. of the call, chunk by chunk; *@pdone follows. Before each
 * chunk after the first, GNTDP_HCALL_PREEMPTED once @budget ops ran (Xen's
 * hypercall_preempt_check between ops, at chunk granularity here).
 */
static int
hcall_loop(struct call *k, unsigned int budget, unsigned int *pdone)
{
	const struct cmd_desc *d = &cmds[k->cmd];
	_Alignas(8) uint8_t priv[CHUNK_BYTES];
	const unsigned int start = *pdone;

	while (*pdone < k->count) {
		unsigned int done = *pdone, left = k->count - done;
		unsigned int m = left < CHUNK_OPS ? left : CHUNK_OPS, used;
		uint64_t addr = k->gaddr + (uint64_t)done * d->size;
		struct span sp;
		int rc;

		if (done > start && done - start >= budget)
			return GNTDP_HCALL_PREEMPTED;
		rc = span_get_section(&k->c, addr, m * d->size, &sp);
		if (rc != 0)
			return rc;
		/* Copy in: each byte of the ops is read here, once. */
		m = sp.len / d->size;
		span_copy(&sp, 0, priv, m * d->size, false);
		if (m == 0) {
			span_put(&sp);
			return -EFAULT;
		}
		TEST_FETCHED(addr, m);
		rc = run_chunk(k, &sp, addr, priv, m, &used);
		span_put(&sp);
		if (rc != 0)
			return rc;
		*pdone = done + used;
	}
	return 0;
}

int
gntdp_hcall(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd, uint64_t gaddr,
	    unsigned int count)
{
	unsigned int done = 0;

	return gntdp_hcall_resume(ctx, caller, cmd, gaddr, count, UINT_MAX, &done);
}

int
gntdp_hcall_resume(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd,
		   uint64_t gaddr, unsigned int count, unsigned int budget, unsigned int *done)
{
	const unsigned int arg = cmd & ~(unsigned int)GNTDP_GNTTABOP_CMD_MASK;
	struct call k;
	uint64_t bytes;

	if (done == NULL || *done > count)
		return -EINVAL; /* the host's misuse, not the guest's */
	/* Whole-call checks first, as Xen: nothing of the caller's memory is read before them.
	 * Bits >= 12 are cache_flush's continuation argument (Xen's opaque_in), -EINVAL for
	 * every other command. */
	if ((arg != 0 && (cmd & GNTDP_GNTTABOP_CMD_MASK) != GNTDP_GNTTABOP_CACHE_FLUSH) ||
	    count > INT_MAX || (cmd & GNTDP_GNTTABOP_CMD_MASK) >= GNTDP_HCALL_NB_CMDS ||
	    gntdp_gnttab_op_size(cmd & GNTDP_GNTTABOP_CMD_MASK) == 0)
		return gntdp_gnttab_op(ctx, caller, cmd, NULL, count);
	cmd &= GNTDP_GNTTABOP_CMD_MASK;
	if (cmds[cmd].single && count != 1)
		return -EINVAL;
	/* As Xen: a translated caller's handle is always "okay", then gnttab_transfer refuses
	 * before it copies anything in, so not even a bad gaddr is looked at. */
	if (cmd == GNTDP_GNTTABOP_TRANSFER && ctx->gt->no_transfer)
		return -EOPNOTSUPP;
	if (count == 0)
		return gntdp_gnttab_op(ctx, caller, cmd | arg, NULL, 0);
	bytes = (uint64_t)count * cmds[cmd].size;
	if (gaddr > UINT64_MAX - bytes) {
		/* Wraps: the first op that does lies outside every physmap. A dead
		 * caller is -ESRCH first, as for any other array. */
		struct caller c = {.ctx = ctx, .domid = caller};
		bool alive = section_enter(&c) != NULL;

		section_leave(&c);
		return alive ? -EFAULT : -ESRCH;
	}
	memset(&k, 0, sizeof(k));
	k.c.ctx = ctx;
	k.c.domid = caller;
	k.cmd = cmd;
	k.arg = *done == 0 ? arg : 0; /* a resumed call is past op 0 */
	k.gaddr = gaddr;
	k.count = count;
	k.lo = gaddr >> GNTDP_PAGE_SHIFT;
	k.hi = (gaddr + bytes - 1) >> GNTDP_PAGE_SHIFT;
	return hcall_loop(&k, budget, done);
}
