/* SPDX-License-Identifier: MIT */
/*
 * The batch entry point: whole-call checks (spec 4.1), then the per-op loop
 * (4.2). Ops run strictly in order, each writes its own status, and no
 * failure stops the batch.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* A failed op's status into its counter; okays are summed per batch by OP_LOOP. */
static inline void
count_status(struct gntdp_gnttab_ctx *ctx, int16_t status)
{
	STAT_ADD(ctx, status[(uint16_t)-status % GNTDP_GNTST_COUNT], 1);
	(void)status;
}

/*
 * One loop per array command: the op function sees one struct at a time,
 * @stride bytes apart. GNTST_okay is counted once per batch (a modulo and a
 * load and store per op were 17 instructions of a 64 B copy's ~320).
 */
#define OP_LOOP(type, fn)                                                                          \
	do {                                                                                       \
		char *p_ = ops;                                                                    \
		unsigned int failed_ = 0;                                                          \
		for (unsigned int i = 0; i < count; i++, p_ += stride) {                           \
			type *op_ = (type *)(void *)p_;                                            \
			int16_t st_;                                                               \
			fn;                                                                        \
			st_ = op_->status;                                                         \
			if (unlikely(st_ != GNTDP_GNTST_OKAY)) {                                   \
				failed_++;                                                         \
				count_status(ctx, st_);                                            \
			}                                                                          \
		}                                                                                  \
		STAT_ADD(ctx, status[0], count - failed_);                                        \
	} while (0)

size_t
gntdp_gnttab_op_size(unsigned int cmd)
{
	switch (cmd) {
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		return sizeof(struct gntdp_gnttab_map_grant_ref);
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		return sizeof(struct gntdp_gnttab_unmap_grant_ref);
	case GNTDP_GNTTABOP_SETUP_TABLE:
		return sizeof(struct gntdp_gnttab_setup_table);
	case GNTDP_GNTTABOP_DUMP_TABLE:
		return sizeof(struct gntdp_gnttab_dump_table);
	case GNTDP_GNTTABOP_TRANSFER:
		return sizeof(struct gntdp_gnttab_transfer);
	case GNTDP_GNTTABOP_COPY:
		return sizeof(struct gntdp_gnttab_copy);
	case GNTDP_GNTTABOP_QUERY_SIZE:
		return sizeof(struct gntdp_gnttab_query_size);
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		return sizeof(struct gntdp_gnttab_unmap_and_replace);
	case GNTDP_GNTTABOP_SET_VERSION:
		return sizeof(struct gntdp_gnttab_set_version);
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		return sizeof(struct gntdp_gnttab_get_status_frames);
	case GNTDP_GNTTABOP_GET_VERSION:
		return sizeof(struct gntdp_gnttab_get_version);
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
		return sizeof(struct gntdp_gnttab_swap_grant_ref);
	case GNTDP_GNTTABOP_CACHE_FLUSH:
		return sizeof(struct gntdp_gnttab_cache_flush);
	default:
		return 0;
	}
}

static size_t
op_align(unsigned int cmd)
{
	switch (cmd) {
	case GNTDP_GNTTABOP_DUMP_TABLE:
		return _Alignof(struct gntdp_gnttab_dump_table);
	case GNTDP_GNTTABOP_QUERY_SIZE:
		return _Alignof(struct gntdp_gnttab_query_size);
	case GNTDP_GNTTABOP_SET_VERSION:
		return _Alignof(struct gntdp_gnttab_set_version);
	case GNTDP_GNTTABOP_GET_VERSION:
		return _Alignof(struct gntdp_gnttab_get_version);
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
		return _Alignof(struct gntdp_gnttab_swap_grant_ref);
	default:
		return 8;
	}
}

/* Whether @count structs of @size bytes, @stride apart from @ops, lie inside the address space. */
static bool
span_fits(const void *ops, size_t stride, unsigned int count, size_t size)
{
	uintptr_t base = (uintptr_t)ops;

	if (stride > PTRDIFF_MAX || base > UINTPTR_MAX - size)
		return false;
	return (uintptr_t)(count - 1) <= (UINTPTR_MAX - size - base) / stride;
}

static int
whole_call_check(unsigned int cmd, const void *ops, size_t stride, unsigned int count)
{
	size_t size = gntdp_gnttab_op_size(cmd & GNTDP_GNTTABOP_CMD_MASK);
	bool once = false;

	if (count > INT_MAX)
		return -EINVAL;
	/* Bits >= 12 are cache_flush's continuation argument; any other cmd: -EINVAL. */
	if ((cmd & GNTDP_GNTTABOP_CMD_MASK) != GNTDP_GNTTABOP_CACHE_FLUSH && (cmd >> 12) != 0)
		return -EINVAL;
	cmd &= GNTDP_GNTTABOP_CMD_MASK;
	/* Each struct must be whole and aligned (dump_table 2, query_size 4, others 8). */
	if (size != 0 && (stride < size || stride % op_align(cmd) != 0))
		return -EINVAL;
	/* The last struct must be addressable: no pointer arithmetic may wrap (checked before the loop). */
	if (size != 0 && count > 1 && !span_fits(ops, stride, count, size))
		return -EINVAL;
	switch (cmd) {
	case GNTDP_GNTTABOP_SETUP_TABLE:
	case GNTDP_GNTTABOP_QUERY_SIZE:
	case GNTDP_GNTTABOP_DUMP_TABLE:
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		if (count != 1)
			return -EINVAL;
		break;
	case GNTDP_GNTTABOP_SET_VERSION:
	case GNTDP_GNTTABOP_GET_VERSION:
		once = true; /* Xen ignores count: one struct, always read */
		break;
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
	case GNTDP_GNTTABOP_TRANSFER:
	case GNTDP_GNTTABOP_COPY:
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
	case GNTDP_GNTTABOP_CACHE_FLUSH:
		break;
	default:
		return -ENOSYS;
	}
	/* Xen's copy from guest memory fails: -EFAULT, nothing done. */
	if (ops == NULL && (count != 0 || once))
		return -EFAULT;
	return 0;
}

static int
run_ops(struct gntdp_gnttab_ctx *ctx, struct domain *ld, unsigned int cmd, unsigned int arg,
	void *ops, size_t stride, unsigned int count)
{
	unsigned int cur_ref = arg; /* cache_flush: the continuation's starting ref */

	switch (cmd) {
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		mt_batch_begin(ctx, count);
		OP_LOOP(struct gntdp_gnttab_map_grant_ref, op_map(ctx, ld, op_));
		mt_batch_begin(ctx, 0);
		mt_flush(ctx); /* no maptrack handle stays with the context past its batch */
		break;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		OP_LOOP(struct gntdp_gnttab_unmap_grant_ref, op_unmap(ctx, ld, op_));
		mt_flush(ctx);
		break;
	case GNTDP_GNTTABOP_SETUP_TABLE:
		OP_LOOP(struct gntdp_gnttab_setup_table, op_setup_table(ld, op_));
		break;
	case GNTDP_GNTTABOP_DUMP_TABLE:
		OP_LOOP(struct gntdp_gnttab_dump_table, op_dump_table(ld, op_));
		break;
	case GNTDP_GNTTABOP_TRANSFER:
		OP_LOOP(struct gntdp_gnttab_transfer, op_transfer(ld, op_));
		break;
	case GNTDP_GNTTABOP_COPY:
		OP_LOOP(struct gntdp_gnttab_copy, op_copy(ctx, ld, op_));
		if (!ctx->persistent)
			cache_release_all(ctx); /* Xen drops its copy buffers at the end */
		break;
	case GNTDP_GNTTABOP_QUERY_SIZE:
		OP_LOOP(struct gntdp_gnttab_query_size, op_query_size(ld, op_));
		break;
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		OP_LOOP(struct gntdp_gnttab_unmap_and_replace, op_unmap_and_replace(ctx, ld, op_));
		mt_flush(ctx);
		break;
	case GNTDP_GNTTABOP_SET_VERSION:
		return op_set_version(ld, ops);
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		OP_LOOP(struct gntdp_gnttab_get_status_frames, op_get_status_frames(ld, op_));
		break;
	case GNTDP_GNTTABOP_GET_VERSION:
		return op_get_version(ld, ops);
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
		OP_LOOP(struct gntdp_gnttab_swap_grant_ref, op_swap_grant_ref(ld, op_));
		break;
	case GNTDP_GNTTABOP_CACHE_FLUSH: {
		/* No status field: the first failing op's errno ends the call. */
		const char *p = ops;

		for (unsigned int i = 0; i < count; i++, p += stride) {
			int rc = op_cache_flush(ld, (const void *)p, &cur_ref);

			if (rc != 0)
				return rc;
			cur_ref = 0;
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

int
gntdp_gnttab_op_strided(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd,
			void *ops, size_t stride, unsigned int count)
{
	struct domain *ld;
	unsigned long qs;
	unsigned int arg = cmd & ~GNTDP_GNTTABOP_CMD_MASK;
	int rc = whole_call_check(cmd, ops, stride, count);

	if (rc != 0)
		return rc;
	cmd &= GNTDP_GNTTABOP_CMD_MASK; /* whole_call_check let only cache_flush keep an arg */
	/* Xen's gnttab_transfer with !opt_grant_transfer: refused before the op loop, any count. */
	if (unlikely(cmd == GNTDP_GNTTABOP_TRANSFER && ctx->gt->no_transfer))
		return -EOPNOTSUPP;
	/* Enter: odd qs, then a full fence before any lookup (pairs with qsbr_wait). */
	qs = atomic_load_explicit(&ctx->qs, memory_order_relaxed);
	atomic_store_explicit(&ctx->qs, qs + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	ld = dom_lookup(ctx->gt, caller);
	if (unlikely(ld == NULL)) {
		rc = -ESRCH;
	} else {
		STAT_ADD(ctx, calls, 1);
		STAT_ADD(ctx, ops[cmd], count);
		rc = run_ops(ctx, ld, cmd, arg, ops, stride, count);
	}
	/* Leave: even qs; release orders every access of this batch before it. */
	atomic_store_explicit(&ctx->qs, qs + 2, memory_order_release);
	return rc;
}

int
gntdp_gnttab_op(struct gntdp_gnttab_ctx *ctx, gntdp_domid_t caller, unsigned int cmd, void *ops,
		unsigned int count)
{
	return gntdp_gnttab_op_strided(ctx, caller, cmd, ops,
				       gntdp_gnttab_op_size(cmd & GNTDP_GNTTABOP_CMD_MASK), count);
}
