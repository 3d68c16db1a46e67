/* SPDX-License-Identifier: MIT */
/*
 * Frame memory for the core from memfds (gntdp_dp_memfd_ops()), for frames
 * that another process must be able to map: gntdpd hands a domain's RAM,
 * grant-table and status frames to the domain's process over SCM_RIGHTS
 * (docs/daemon.md "Memory").
 *
 * One core allocation is one memfd, set up in this order:
 *  1. memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING [| MFD_HUGETLB]), mode
 *     0600 (fchmod), ftruncate to the allocation rounded up to the page;
 *  2. mmap MAP_SHARED, then mbind MPOL_BIND to the NUMA node (libnuma)
 *     while no page exists yet: the binding is the shared policy of the
 *     file, so every page allocated below lands on that node;
 *  3. fallocate the whole file (it fails cleanly with ENOSPC/ENOMEM where
 *     touching pages would SIGBUS) and prefault the mapping;
 *  4. seal F_SEAL_SHRINK | F_SEAL_GROW: a client holding a read-write fd
 *     can then never ftruncate it (which would SIGBUS every worker that
 *     touches a page past the new end). F_SEAL_SEAL comes later, with the
 *     first fd that leaves the provider (gntdp_dp_memfd_open(), _lookup())
 *     or with gntdp_dp_memfd_seal(), which may add F_SEAL_FUTURE_WRITE
 *     before it: the daemon's own writable mapping (step 2) exists by then
 *     and keeps working, and no mapping made afterwards can be writable
 *     (gntdpd's status frames). Until then only this process holds the fd;
 *     from then on nobody can add or remove seals;
 *  5. rte_extmem_register with one IOVA per page: the VA in IOVA-as-VA
 *     mode, the physical address otherwise (rte_mem_virt2phy), so the
 *     memseg lookup of dp_virt2iova() and rte_mem_virt2iova() agree. Past
 *     DPDK's RTE_MAX_MEMSEG_LISTS registrations the allocation stays
 *     unregistered and the provider answers its IOVAs (register_extmem()).
 * free undoes 5, 2 and 1 (unregister, munmap, close). Processes that hold
 * other fds of the memfd keep its pages.
 *
 * hugetlb allocations are also in memfd_bus.c's table: a hole a client
 * punches in one would SIGBUS the worker that touches it when the pool has
 * no free 2 MiB page; the handler there maps zero memory over the page and
 * counts it (gntdp_dp_memfd_repairs()).
 *
 * Why mode 0600: reopening /proc/<pid>/fd/N checks the inode's mode, and a
 * memfd is created 0777, so a process that received an O_RDONLY fd could
 * reopen it O_RDWR. With 0600 only the daemon's uid (and root) can.
 *
 * The table va -> fd is process-wide, under one mutex; lookups scan it
 * (control path: a few entries per domain).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef GNTDP_HAVE_NUMA
#include <numa.h>
#include <numaif.h>
#endif

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "dp_internal.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26) /* MFD_HUGE_SHIFT 26, log2(2 MiB) */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define HUGE_2M (2u << 20)
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW) /* at allocation; F_SEAL_SEAL: seal_final() */
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010 /* Linux 5.1 */
#endif

struct memfd_arg {
	int socket;
	bool hugetlb;
};

/* One live allocation. */
struct mfd {
	void *va;
	size_t size; /* bytes mapped = the memfd's size */
	size_t page; /* 4 KiB or 2 MiB */
	int fd;
	bool sealed; /* F_SEAL_SEAL added: its seals are final */
	/* Not registered (DPDK's table was full): the per-page IOVAs, kept here. */
	rte_iova_t *iovas;
};

static pthread_mutex_t mfd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mfd *mfds; /* under mfd_lock */
static size_t nb_mfds, cap_mfds;
static atomic_uint mfd_counter;

/* Provider args by value (copyable ops): index [hugetlb][socket + 1]. */
static struct memfd_arg memfd_args[2][RTE_MAX_NUMA_NODES + 1];

void
gntdp_dp_memfd_conf_init(struct gntdp_dp_memfd_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->socket = -1;
	conf->hugetlb = false;
}

/* Index of the allocation holding @p va, or -1. Under mfd_lock. */
static ssize_t
find(const void *va)
{
	uintptr_t a = (uintptr_t)va;

	for (size_t i = 0; i < nb_mfds; i++) {
		uintptr_t b = (uintptr_t)mfds[i].va;

		if (a >= b && a - b < mfds[i].size)
			return (ssize_t)i;
	}
	return -1;
}

static int
table_add(const struct mfd *m)
{
	int rc = 0;

	pthread_mutex_lock(&mfd_lock);
	if (nb_mfds == cap_mfds) {
		size_t cap = cap_mfds != 0 ? cap_mfds * 2 : 64;
		struct mfd *t = realloc(mfds, cap * sizeof(*t));

		if (t == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		mfds = t;
		cap_mfds = cap;
	}
	mfds[nb_mfds++] = *m;
	if (m->page == HUGE_2M)
		memfd_bus_track(m->va, m->size);
out:
	pthread_mutex_unlock(&mfd_lock);
	return rc;
}

/* Bind [va, va + size) to @p node before any page exists. false: node unusable. */
static bool
bind_node(void *va, size_t size, int node)
{
#ifdef GNTDP_HAVE_NUMA
	unsigned long mask[(RTE_MAX_NUMA_NODES + 63) / 64] = { 0 };

	if (numa_available() < 0 || node > numa_max_node() ||
	    !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)node))
		return false;
	mask[node / 64] = 1ul << (node % 64);
	if (mbind(va, size, MPOL_BIND, mask, sizeof(mask) * 8 + 1, 0) != 0) {
		DP_LOG(WARNING, "memfd: mbind to node %d failed: %s\n", node, strerror(errno));
		return false;
	}
	return true;
#else
	(void)va;
	(void)size;
	(void)node;
	return false;
#endif
}

/* Allocate every page of @p m (fails cleanly), then fill the page tables. */
static int
populate(const struct mfd *m)
{
	int rc = fallocate(m->fd, 0, 0, (off_t)m->size);

	if (rc != 0)
		return -errno;
	if (madvise(m->va, m->size, MADV_POPULATE_WRITE) == 0)
		return 0;
	/* Kernels before 5.14: touch each page (allocated already, so this cannot fault out). */
	for (size_t off = 0; off < m->size; off += m->page)
		((volatile uint8_t *)m->va)[off] = 0;
	return 0;
}

/*
 * Register @p m with DPDK, one IOVA per page (file comment, step 5). DPDK
 * keeps one memseg list per registration and has RTE_MAX_MEMSEG_LISTS in
 * all: when they are used up (ENOSPC) the allocation stays unregistered and
 * keeps its IOVAs in m->iovas for memfd_virt2iova() (one warning per
 * process); the data plane needs DPDK's registration only for device DMA.
 */
/* Set by an ENOSPC, cleared when a registered allocation goes: skip DPDK's attempt (and its
 * error line) meanwhile. */
static atomic_bool extmem_full;

static int
register_extmem(struct mfd *m)
{
	static atomic_bool warned;
	unsigned int n = (unsigned int)(m->size / m->page);
	bool va_mode = rte_eal_iova_mode() == RTE_IOVA_VA;
	rte_iova_t *iovas = malloc(sizeof(*iovas) * n);
	int rc = 0;

	if (iovas == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)m->va + (size_t)i * m->page;

		iovas[i] = va_mode ? (rte_iova_t)(uintptr_t)p : rte_mem_virt2phy(p);
	}
	if (!atomic_load(&extmem_full) &&
	    rte_extmem_register(m->va, m->size, iovas, n, m->page) == 0) {
		free(iovas);
		return 0;
	}
	if (atomic_load(&extmem_full) || rte_errno == ENOSPC) {
		atomic_store(&extmem_full, true);
		if (!atomic_exchange(&warned, true))
			DP_LOG(WARNING, "memfd: DPDK's table of external memory is full "
					"(RTE_MAX_MEMSEG_LISTS): further memfds are not registered "
					"with DPDK; their IOVAs come from the provider\n");
		m->iovas = iovas;
		return 0;
	}
	rc = -rte_errno;
	DP_LOG(ERR, "memfd: rte_extmem_register of %zu bytes failed: %s\n", m->size,
	       rte_strerror(rte_errno));
	free(iovas);
	return rc;
}

/* Undo register_extmem(). */
static void
unregister_extmem(struct mfd *m)
{
	if (m->iovas != NULL) {
		free(m->iovas);
		m->iovas = NULL;
	} else if (rte_extmem_unregister(m->va, m->size) != 0) {
		DP_LOG(ERR, "memfd: rte_extmem_unregister(%p): %s\n", m->va, rte_strerror(rte_errno));
	} else {
		atomic_store(&extmem_full, false); /* a memseg list is free again */
	}
}

static void *
memfd_alloc(void *arg, size_t nb_frames, int socket)
{
	const struct memfd_arg *a = arg;
	struct mfd m = { .va = MAP_FAILED, .fd = -1 };
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	char name[32];
	int rc;

	if (nb_frames == 0 || nb_frames > SIZE_MAX / GNTDP_PAGE_SIZE / 2)
		return NULL;
	m.page = a->hugetlb ? HUGE_2M : GNTDP_PAGE_SIZE;
	m.size = RTE_ALIGN_CEIL(nb_frames * GNTDP_PAGE_SIZE, m.page);
	if (a->hugetlb)
		flags |= MFD_HUGETLB | MFD_HUGE_2MB;
	if (socket < 0)
		socket = a->socket;
	snprintf(name, sizeof(name), "gntdp_%u%s", atomic_fetch_add(&mfd_counter, 1),
		 a->hugetlb ? "_2m" : "");
	m.fd = memfd_create(name, flags);
	if (m.fd < 0 || fchmod(m.fd, S_IRUSR | S_IWUSR) != 0 ||
	    ftruncate(m.fd, (off_t)m.size) != 0) {
		rc = -errno;
		goto err;
	}
	m.va = mmap(NULL, m.size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, 0);
	if (m.va == MAP_FAILED) {
		rc = -errno;
		goto err;
	}
	if (socket >= 0 && !bind_node(m.va, m.size, socket))
		DP_LOG(DEBUG, "memfd: node %d not bound (no NUMA support or no such node)\n", socket);
	rc = populate(&m);
	if (rc == 0 && fcntl(m.fd, F_ADD_SEALS, SEALS) != 0)
		rc = -errno;
	if (rc == 0)
		rc = register_extmem(&m);
	if (rc != 0)
		goto err;
	rc = table_add(&m);
	if (rc != 0) {
		unregister_extmem(&m);
		goto err;
	}
	return m.va;
err:
	DP_LOG(ERR, "memfd: cannot allocate %zu frames (%s pages): %s\n", nb_frames,
	       a->hugetlb ? "2 MiB" : "4 KiB", strerror(-rc));
	if (m.va != MAP_FAILED)
		munmap(m.va, m.size);
	if (m.fd >= 0)
		close(m.fd);
	return NULL;
}

static void
memfd_free(void *arg, void *va, size_t nb_frames)
{
	struct mfd m;
	ssize_t i;

	(void)arg;
	(void)nb_frames;
	if (va == NULL)
		return;
	pthread_mutex_lock(&mfd_lock);
	i = find(va);
	if (i >= 0 && mfds[i].va == va) {
		m = mfds[i];
		mfds[i] = mfds[--nb_mfds];
		memfd_bus_untrack(m.va);
	} else {
		i = -1;
	}
	pthread_mutex_unlock(&mfd_lock);
	if (i < 0) {
		DP_LOG(ERR, "memfd: free of unknown frame memory %p\n", va);
		return;
	}
	unregister_extmem(&m);
	munmap(m.va, m.size);
	close(m.fd);
}

/* Called once per frame at allocation: the frames of one allocation come in a row. */
static uint64_t
memfd_virt2iova(void *arg, const void *va)
{
	static size_t hint; /* under mfd_lock */
	uint64_t iova = RTE_BAD_IOVA;
	bool unregistered = false;
	ssize_t i;

	(void)arg;
	pthread_mutex_lock(&mfd_lock);
	if (hint < nb_mfds && (uintptr_t)va - (uintptr_t)mfds[hint].va < mfds[hint].size)
		i = (ssize_t)hint;
	else
		i = find(va);
	if (i >= 0) {
		hint = (size_t)i;
		if (mfds[i].iovas != NULL) {
			size_t off = (size_t)((uintptr_t)va - (uintptr_t)mfds[i].va);

			unregistered = true;
			iova = mfds[i].iovas[off / mfds[i].page];
			if (iova != RTE_BAD_IOVA)
				iova += off % mfds[i].page;
		}
	}
	pthread_mutex_unlock(&mfd_lock);
	if (!unregistered)
		return dp_virt2iova(va); /* registered: DPDK's memseg has it */
	return iova != RTE_BAD_IOVA ? iova : (uint64_t)(uintptr_t)va;
}

int
gntdp_dp_memfd_ops(const struct gntdp_dp_memfd_conf *conf, struct gntdp_mem_ops *out)
{
	struct gntdp_dp_memfd_conf def;
	struct memfd_arg *a;

	if (out == NULL)
		return -EINVAL;
	if (conf == NULL) {
		gntdp_dp_memfd_conf_init(&def);
		conf = &def;
	}
	if (conf->socket < -1 || conf->socket >= RTE_MAX_NUMA_NODES)
		return -EINVAL;
	if (conf->hugetlb && !rte_eal_has_hugepages()) {
		DP_LOG(ERR, "memfd: hugetlb frames need hugepages, and EAL runs with --no-huge\n");
		return -EINVAL;
	}
	if (conf->hugetlb) {
		int rc = memfd_bus_install();

		if (rc != 0) {
			DP_LOG(ERR, "memfd: installing the SIGBUS handler: %s\n", strerror(-rc));
			return rc;
		}
	}
	a = &memfd_args[conf->hugetlb][conf->socket + 1];
	a->socket = conf->socket;
	a->hugetlb = conf->hugetlb;
	memset(out, 0, sizeof(*out));
	out->alloc = memfd_alloc;
	out->free = memfd_free;
	out->virt2iova = memfd_virt2iova;
	out->arg = a;
	return 0;
}

unsigned int
gntdp_dp_memfd_repairs(const void *va)
{
	return memfd_bus_repairs(va);
}

/* Make allocation @p i's seals final, with @p extra first. 0 or -errno. Under mfd_lock. */
static int
seal_final(ssize_t i, int extra)
{
	if (mfds[i].sealed)
		return extra != 0 ? -EPERM : 0;
	if (fcntl(mfds[i].fd, F_ADD_SEALS, extra | F_SEAL_SEAL) != 0)
		return -errno;
	mfds[i].sealed = true;
	return 0;
}

int
gntdp_dp_memfd_seal(const void *va, bool future_write)
{
	ssize_t i;
	int rc;

	pthread_mutex_lock(&mfd_lock);
	i = find(va);
	rc = i < 0 ? -ENOENT : seal_final(i, future_write ? F_SEAL_FUTURE_WRITE : 0);
	pthread_mutex_unlock(&mfd_lock);
	return rc;
}

int
gntdp_dp_memfd_lookup(const void *va, int *fd, size_t *offset, size_t *size)
{
	ssize_t i;
	int rc = 0;

	pthread_mutex_lock(&mfd_lock);
	i = find(va);
	/* The fd may leave the provider from here (dup, SCM_RIGHTS): its seals are final. */
	if (i >= 0)
		rc = seal_final(i, 0);
	if (i >= 0 && rc == 0) {
		if (fd != NULL)
			*fd = mfds[i].fd;
		if (offset != NULL)
			*offset = (size_t)((uintptr_t)va - (uintptr_t)mfds[i].va);
		if (size != NULL)
			*size = mfds[i].size;
	}
	pthread_mutex_unlock(&mfd_lock);
	return i < 0 ? -ENOENT : rc;
}

int
gntdp_dp_memfd_open(const void *va, bool readonly)
{
	char path[48];
	ssize_t i;
	int fd;

	pthread_mutex_lock(&mfd_lock);
	i = find(va);
	if (i < 0) {
		pthread_mutex_unlock(&mfd_lock);
		return -ENOENT;
	}
	/* A new open file description: its own access mode, unlike dup(). Under the lock so
	 * that a concurrent free cannot close (and the number be reused) meanwhile. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfds[i].fd);
	fd = seal_final(i, 0);
	if (fd == 0) {
		fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	pthread_mutex_unlock(&mfd_lock);
	return fd;
}
