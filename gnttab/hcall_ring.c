/* SPDX-License-Identifier: MIT */
/*
 * The hypercall ring's layout and its client side (gntdp/hcall.h,
 * docs/hcall.md): what a process needs to submit hypercalls and reap their
 * completions, without the core. libgntdp-client (client/) links this file
 * and guest_entry.c alone (no domain, no context, no DPDK); libgntdp has it
 * too, for in-process clients and the data plane's format.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <gntdp/hcall.h>

#include "internal.h"

/* ---- Op sizes ---------------------------------------------------------------- */

/*
 * Xen's argument struct sizes, for clients that place op arrays; the core
 * keeps its own cmds[] table next to the other per-command facts (hcall.c),
 * and tests/unit/test_hcall.c checks that both agree.
 */
static const uint8_t op_sizes[GNTDP_HCALL_NB_CMDS] = {
	[GNTDP_GNTTABOP_MAP_GRANT_REF] = sizeof(struct gntdp_gnttab_map_grant_ref),
	[GNTDP_GNTTABOP_UNMAP_GRANT_REF] = sizeof(struct gntdp_gnttab_unmap_grant_ref),
	[GNTDP_GNTTABOP_SETUP_TABLE] = sizeof(struct gntdp_gnttab_setup_table),
	[GNTDP_GNTTABOP_DUMP_TABLE] = sizeof(struct gntdp_gnttab_dump_table),
	[GNTDP_GNTTABOP_TRANSFER] = sizeof(struct gntdp_gnttab_transfer),
	[GNTDP_GNTTABOP_COPY] = sizeof(struct gntdp_gnttab_copy),
	[GNTDP_GNTTABOP_QUERY_SIZE] = sizeof(struct gntdp_gnttab_query_size),
	[GNTDP_GNTTABOP_UNMAP_AND_REPLACE] = sizeof(struct gntdp_gnttab_unmap_and_replace),
	[GNTDP_GNTTABOP_SET_VERSION] = sizeof(struct gntdp_gnttab_set_version),
	[GNTDP_GNTTABOP_GET_STATUS_FRAMES] = sizeof(struct gntdp_gnttab_get_status_frames),
	[GNTDP_GNTTABOP_GET_VERSION] = sizeof(struct gntdp_gnttab_get_version),
	[GNTDP_GNTTABOP_SWAP_GRANT_REF] = sizeof(struct gntdp_gnttab_swap_grant_ref),
	[GNTDP_GNTTABOP_CACHE_FLUSH] = sizeof(struct gntdp_gnttab_cache_flush),
};

size_t
gntdp_hcall_op_size(unsigned int cmd)
{
	return cmd < GNTDP_HCALL_NB_CMDS ? op_sizes[cmd] : 0;
}

#define ST(type) ((int8_t)offsetof(struct type, status))

/* Where each command's status is; -1: none. Checked against cmds[] too. */
static const int8_t status_offs[GNTDP_HCALL_NB_CMDS] = {
	[GNTDP_GNTTABOP_MAP_GRANT_REF] = ST(gntdp_gnttab_map_grant_ref),
	[GNTDP_GNTTABOP_UNMAP_GRANT_REF] = ST(gntdp_gnttab_unmap_grant_ref),
	[GNTDP_GNTTABOP_SETUP_TABLE] = ST(gntdp_gnttab_setup_table),
	[GNTDP_GNTTABOP_DUMP_TABLE] = ST(gntdp_gnttab_dump_table),
	[GNTDP_GNTTABOP_TRANSFER] = ST(gntdp_gnttab_transfer),
	[GNTDP_GNTTABOP_COPY] = ST(gntdp_gnttab_copy),
	[GNTDP_GNTTABOP_QUERY_SIZE] = ST(gntdp_gnttab_query_size),
	[GNTDP_GNTTABOP_UNMAP_AND_REPLACE] = ST(gntdp_gnttab_unmap_and_replace),
	[GNTDP_GNTTABOP_SET_VERSION] = -1,
	[GNTDP_GNTTABOP_GET_STATUS_FRAMES] = ST(gntdp_gnttab_get_status_frames),
	[GNTDP_GNTTABOP_GET_VERSION] = -1,
	[GNTDP_GNTTABOP_SWAP_GRANT_REF] = ST(gntdp_gnttab_swap_grant_ref),
	[GNTDP_GNTTABOP_CACHE_FLUSH] = -1,
};

int
gntdp_hcall_status_offset(unsigned int cmd)
{
	return cmd < GNTDP_HCALL_NB_CMDS ? status_offs[cmd] : -1;
}

/* ---- Ring layout and client side ------------------------------------------- */

#define LINE 64u

static bool
ring_count_ok(unsigned int n)
{
	return n >= 2 && n <= GNTDP_HCALL_RING_MAX_ENTRIES && (n & (n - 1)) == 0;
}

static size_t
line_up(size_t n)
{
	return (n + LINE - 1) & ~(size_t)(LINE - 1);
}

size_t
gntdp_hcall_ring_mem_size(unsigned int sq_entries, unsigned int cq_entries)
{
	if (!ring_count_ok(sq_entries) || !ring_count_ok(cq_entries))
		return 0;
	return sizeof(struct gntdp_hcall_ring_hdr) +
	       line_up(sq_entries * sizeof(struct gntdp_hcall_sqe)) +
	       line_up(cq_entries * sizeof(struct gntdp_hcall_cqe));
}

int
gntdp_hcall_ring_format(void *mem, size_t size, unsigned int sq_entries, unsigned int cq_entries)
{
	size_t need = gntdp_hcall_ring_mem_size(sq_entries, cq_entries);
	struct gntdp_hcall_ring_hdr *h = mem;

	if (need == 0 || mem == NULL || ((uintptr_t)mem & (LINE - 1)) != 0 || size < need)
		return -EINVAL;
	memset(mem, 0, need);
	h->version = GNTDP_HCALL_RING_VERSION;
	h->sq_entries = sq_entries;
	h->cq_entries = cq_entries;
	h->sq_off = (uint32_t)sizeof(*h);
	h->cq_off = (uint32_t)(sizeof(*h) + line_up(sq_entries * sizeof(struct gntdp_hcall_sqe)));
	h->state = GNTDP_HCALL_RING_LIVE;
	/* Magic last: a region is a ring only once the rest is in place (pairs with client_init). */
	__atomic_store_n(&h->magic, GNTDP_HCALL_RING_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int
gntdp_hcall_client_init(struct gntdp_hcall_client *c, void *mem, size_t size)
{
	struct gntdp_hcall_ring_hdr *h = mem;
	uint32_t sq, cq, sq_off, cq_off;

	if (c == NULL || mem == NULL || size < sizeof(*h) ||
	    __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != GNTDP_HCALL_RING_MAGIC ||
	    h->version != GNTDP_HCALL_RING_VERSION)
		return -EINVAL;
	/* Read each field once; check what was read. */
	sq = h->sq_entries;
	cq = h->cq_entries;
	sq_off = h->sq_off;
	cq_off = h->cq_off;
	if (!ring_count_ok(sq) || !ring_count_ok(cq) || sq_off < sizeof(*h) ||
	    (uint64_t)sq_off + (uint64_t)sq * sizeof(struct gntdp_hcall_sqe) > size ||
	    cq_off < sizeof(*h) ||
	    (uint64_t)cq_off + (uint64_t)cq * sizeof(struct gntdp_hcall_cqe) > size ||
	    sq_off % LINE != 0 || cq_off % LINE != 0)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->hdr = h;
	c->sq = (struct gntdp_hcall_sqe *)(void *)((uint8_t *)mem + sq_off);
	c->cq = (struct gntdp_hcall_cqe *)(void *)((uint8_t *)mem + cq_off);
	c->sq_mask = sq - 1;
	c->cq_mask = cq - 1;
	c->sq_tail = __atomic_load_n(&h->sq_tail, __ATOMIC_RELAXED);
	c->sq_head_seen = __atomic_load_n(&h->sq_head, __ATOMIC_ACQUIRE);
	c->cq_head = __atomic_load_n(&h->cq_head, __ATOMIC_RELAXED);
	return 0;
}

unsigned int
gntdp_hcall_client_submit(struct gntdp_hcall_client *c, const struct gntdp_hcall_sqe *sqes,
			  unsigned int n)
{
	uint32_t size = c->sq_mask + 1, free_slots;

	if (unlikely(__atomic_load_n(&c->hdr->state, __ATOMIC_RELAXED) != GNTDP_HCALL_RING_LIVE))
		return 0;
	/* Re-read the worker's head only when the cached one says full (one line fewer). */
	free_slots = size - (c->sq_tail - c->sq_head_seen);
	if (free_slots < n) {
		/* Acquire pairs with the worker's release of sq_head: its reads of the slots are done. */
		c->sq_head_seen = __atomic_load_n(&c->hdr->sq_head, __ATOMIC_ACQUIRE);
		free_slots = size - (c->sq_tail - c->sq_head_seen);
		if (free_slots > size)
			free_slots = 0; /* our own ring's head is garbage: nothing fits */
	}
	if (n > free_slots)
		n = free_slots;
	for (unsigned int i = 0; i < n; i++)
		c->sq[(c->sq_tail + i) & c->sq_mask] = sqes[i];
	c->sq_tail += n;
	/* Release pairs with the worker's acquire of sq_tail: the entries are written. */
	__atomic_store_n(&c->hdr->sq_tail, c->sq_tail, __ATOMIC_RELEASE);
	return n;
}

unsigned int
gntdp_hcall_client_reap(struct gntdp_hcall_client *c, struct gntdp_hcall_cqe *cqes,
			unsigned int n)
{
	/* Acquire pairs with the worker's release of cq_tail: the entries are written. */
	uint32_t tail = __atomic_load_n(&c->hdr->cq_tail, __ATOMIC_ACQUIRE);
	uint32_t avail = tail - c->cq_head;

	if (avail > c->cq_mask + 1)
		avail = 0; /* not a tail the worker wrote: take nothing */
	if (n > avail)
		n = avail;
	for (unsigned int i = 0; i < n; i++)
		cqes[i] = c->cq[(c->cq_head + i) & c->cq_mask];
	c->cq_head += n;
	/* Release pairs with the worker's acquire of cq_head: our reads are done. */
	if (n > 0)
		__atomic_store_n(&c->hdr->cq_head, c->cq_head, __ATOMIC_RELEASE);
	return n;
}

bool
gntdp_hcall_client_arm_wakeup(struct gntdp_hcall_client *c)
{
	__atomic_store_n(&c->hdr->wakeup, 1u, __ATOMIC_RELAXED);
	/* Full fence: the flag is visible before we look at the tail (pairs with the worker's). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&c->hdr->cq_tail, __ATOMIC_ACQUIRE) != c->cq_head;
}

bool
gntdp_hcall_client_disabled(const struct gntdp_hcall_client *c, uint32_t *reason)
{
	bool off = __atomic_load_n(&c->hdr->state, __ATOMIC_ACQUIRE) != GNTDP_HCALL_RING_LIVE;

	if (reason != NULL)
		*reason = off ? __atomic_load_n(&c->hdr->reason, __ATOMIC_RELAXED)
			      : GNTDP_HCALL_REASON_NONE;
	return off;
}
