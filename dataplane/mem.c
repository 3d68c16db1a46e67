/* SPDX-License-Identifier: MIT */
/*
 * Frame memory for the core from DPDK memzones (gntdp_dp_mem_ops()).
 *
 * One core allocation (a domain's RAM, a grant-table frame run) is one
 * memzone: named "gntdp_mz_<n>" from a process-wide counter (names must be
 * unique per file-prefix), 4 KiB aligned, zero-filled here because DPDK
 * does not promise zeroed memzones. The I/O address of a frame comes from
 * the memseg holding it (rte_mem_virt2memseg): one lookup per frame at
 * allocation, none per op. rte_mem_virt2iova would read /proc/self/pagemap
 * per call in IOVA-as-PA mode, and memzones are not IOVA-contiguous unless
 * asked to be, so the memseg lookup is both cheaper and exact.
 * (rte_malloc_virt2iova is not usable: it reads a malloc element header
 * in front of the address, which only rte_malloc pointers have.)
 *
 * Frames that another process maps come from the memfd provider
 * (memfd.c), registered with rte_extmem_register(): the same callbacks,
 * and the same memseg lookup for IOVAs (dp_virt2iova()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_memzone.h>

#include "dp_internal.h"

static atomic_uint mz_counter;

/* Default sockets by value; the provider's arg points into this table (index socket + 1). */
static int socket_arg[RTE_MAX_NUMA_NODES + 1];

static void *
mz_alloc(void *arg, size_t nb_frames, int socket)
{
	const struct rte_memzone *mz;
	char name[RTE_MEMZONE_NAMESIZE];
	size_t len;

	if (nb_frames == 0 || nb_frames > SIZE_MAX / GNTDP_PAGE_SIZE)
		return NULL;
	len = nb_frames * GNTDP_PAGE_SIZE;
	if (socket < 0)
		socket = *(const int *)arg;
	if (socket < 0)
		socket = (int)rte_socket_id();
	snprintf(name, sizeof(name), "gntdp_mz_%u", atomic_fetch_add(&mz_counter, 1));
	mz = rte_memzone_reserve_aligned(name, len, socket, 0, GNTDP_PAGE_SIZE);
	if (mz == NULL && socket != SOCKET_ID_ANY)
		mz = rte_memzone_reserve_aligned(name, len, SOCKET_ID_ANY, 0, GNTDP_PAGE_SIZE);
	if (mz == NULL) {
		DP_LOG(ERR, "cannot reserve %zu frames: %s\n", nb_frames, rte_strerror(rte_errno));
		return NULL;
	}
	memset(mz->addr, 0, len);
	return mz->addr;
}

struct mz_find {
	const void *va;
	const struct rte_memzone *mz;
};

static void
mz_match(const struct rte_memzone *mz, void *arg)
{
	struct mz_find *f = arg;

	if (mz->addr == f->va && strncmp(mz->name, "gntdp_mz_", 9) == 0)
		f->mz = mz;
}

/* Domain teardown only: a walk over the memzones (at most a few thousand) is fine. */
static void
mz_free(void *arg, void *va, size_t nb_frames)
{
	struct mz_find f = { .va = va, .mz = NULL };

	(void)arg;
	(void)nb_frames;
	if (va == NULL)
		return;
	rte_memzone_walk(mz_match, &f);
	if (f.mz == NULL) {
		DP_LOG(ERR, "free of unknown frame memory %p\n", va);
		return;
	}
	rte_memzone_free(f.mz);
}

uint64_t
dp_virt2iova(const void *va)
{
	const struct rte_memseg *ms = rte_mem_virt2memseg(va, NULL);

	/* --no-huge in IOVA-as-PA mode has no physical addresses: report the VA. */
	if (ms == NULL || ms->iova == RTE_BAD_IOVA)
		return (uint64_t)(uintptr_t)va;
	return ms->iova + (uint64_t)((uintptr_t)va - (uintptr_t)ms->addr);
}

static uint64_t
mz_virt2iova(void *arg, const void *va)
{
	(void)arg;
	return dp_virt2iova(va);
}

struct gntdp_mem_ops
gntdp_dp_mem_ops(int socket)
{
	struct gntdp_mem_ops ops = {
		.alloc = mz_alloc,
		.free = mz_free,
		.virt2iova = mz_virt2iova,
	};

	if (socket < -1 || socket >= RTE_MAX_NUMA_NODES)
		socket = -1;
	socket_arg[socket + 1] = socket;
	ops.arg = &socket_arg[socket + 1];
	return ops;
}
