/* SPDX-License-Identifier: MIT */
/*
 * The memfd frame provider (gntdp_dp_memfd_ops(), docs/daemon.md "Memory"),
 * through a world whose domains are created with it:
 *  - lookup: RAM and grant-table frames resolve to their memfd, offset and
 *    size; other addresses are -ENOENT;
 *  - the provider's fd: O_CLOEXEC, mode 0600, sealed SHRINK|GROW|SEAL;
 *  - gntdp_dp_memfd_seal(): F_SEAL_FUTURE_WRITE after the provider's own
 *    mapping (it still writes; a read-write fd maps only read-only, write()
 *    and hole punch fail); final once an fd left (-EPERM);
 *  - NUMA: frames of a provider bound to node 0 have policy MPOL_BIND {0};
 *  - a read-write fd from gntdp_dp_memfd_open(): its own mapping and the
 *    domain's frames are the same memory (both ways, and a grant copy in
 *    the core reads what was written through it); ftruncate (either way)
 *    and adding seals fail;
 *  - a read-only fd: readable mapping; PROT_WRITE mmap and mprotect fail
 *    with EACCES; write() fails; as root, a process of another uid cannot
 *    reopen it read-write through /proc (mode 0600);
 *  - IOVAs: non-zero, equal to the memseg's (external memory) and to
 *    rte_mem_virt2iova(); VA in IOVA-as-VA mode;
 *  - free: the domain's destruction unregisters the memory, closes the
 *    provider's fd, and a caller's fd keeps its pages;
 *  - hugetlb: refused under --no-huge; on hugepages 2 MiB memfds;
 *  - past DPDK's memseg-list limit: allocations go on unregistered, with
 *    the provider's IOVAs (as DPDK's), lookup, open and seals as before; no
 *    fd leaks, and allocations are registered again once lists are free.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef GNTDP_HAVE_NUMA
#include <numaif.h>
#endif

#include <rte_eal.h>
#include <rte_memory.h>

#include "dp_common.h"
#include "tcommon.h"

#define NR_FRAMES 32u
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static struct gntdp_mem_ops mem;

static int
make_world(struct gntdp_gnttab **gt)
{
	struct gntdp_gnttab_conf gc;
	struct gntdp_domain_conf dc;
	const gntdp_domid_t doms[] = { DOM_CLIENT, DOM_GRANTER };

	gntdp_gnttab_conf_init(&gc);
	gc.mem = &mem;
	CHECK(gntdp_gnttab_create(&gc, gt) == 0);
	for (unsigned int i = 0; i < 2; i++) {
		gntdp_domain_conf_init(&dc);
		dc.domid = doms[i];
		dc.nr_frames = NR_FRAMES;
		dc.max_grant_frames = 4;
		CHECK(gntdp_domain_create(*gt, &dc) == 0);
	}
	return 0;
}

static unsigned int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static int
test_lookup(struct gntdp_gnttab *gt)
{
	uint8_t *f0 = gntdp_domain_frame(gt, DOM_CLIENT, 0);
	uint8_t *f5 = gntdp_domain_frame(gt, DOM_CLIENT, 5);
	struct gntdp_grant_entry_v1 *e;
	size_t off = 1, size = 0, goff = 0, gsize = 0;
	int fd = -1, gfd = -1, local = 0;
	uint32_t n;
	struct stat st;

	CHECK(f0 != NULL && f5 != NULL);
	CHECK(gntdp_dp_memfd_lookup(f0, &fd, &off, &size) == 0);
	CHECKF(off == 0 && size == NR_FRAMES * 4096u, "off %zu size %zu", off, size);
	CHECK(gntdp_dp_memfd_lookup(f5 + 100, NULL, &off, NULL) == 0 && off == 5 * 4096u + 100);
	CHECK(gntdp_dp_memfd_lookup(&local, NULL, NULL, NULL) == -ENOENT);
	CHECK(gntdp_guest_table(gt, DOM_CLIENT, &e, &n) == 0);
	CHECK(gntdp_dp_memfd_lookup(e, &gfd, &goff, &gsize) == 0);
	CHECKF(gfd != fd && goff == 0 && gsize == 4 * 4096u, "gfd %d off %zu size %zu", gfd, goff,
	       gsize);
	/* The provider's fd. */
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	CHECKF(fcntl(fd, F_GET_SEALS) == SEALS, "seals %#x", fcntl(fd, F_GET_SEALS));
	CHECK(fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600 && (size_t)st.st_size == size);
	printf("lookup: RAM fd %d (%zu bytes), table fd %d, sealed, 0600, cloexec\n", fd, size,
	       gfd);
	return 0;
}

/* Write through the caller's rw mapping, read through the core, and the other way. */
static int
test_rw(struct gntdp_gnttab *gt)
{
	uint8_t *f7 = gntdp_domain_frame(gt, DOM_CLIENT, 7);
	size_t size;
	uint8_t *map;
	int fd;

	CHECK(gntdp_dp_memfd_lookup(f7, NULL, NULL, &size) == 0);
	fd = gntdp_dp_memfd_open(f7, false);
	CHECKF(fd >= 0, "open rw: %d", fd);
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(map != MAP_FAILED);
	for (unsigned int i = 0; i < 4096; i++)
		map[7 * 4096 + i] = (uint8_t)(i * 13u + 1u);
	CHECK(memcmp(f7, map + 7 * 4096, 4096) == 0);
	f7[5] = 0xa5;
	CHECK(map[7 * 4096 + 5] == 0xa5);
	/* The seals hold for the client's fd too. */
	CHECK(ftruncate(fd, (off_t)size / 2) == -1 && errno == EPERM);
	CHECK(ftruncate(fd, (off_t)size * 2) == -1 && errno == EPERM);
	CHECK(ftruncate(fd, 0) == -1 && errno == EPERM);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == -1 && errno == EPERM);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EPERM);
	CHECK(fallocate(fd, 0, 0, (off_t)size * 2) == -1);
	f7[5] = 0x42;
	CHECK(map[7 * 4096 + 5] == 0x42); /* still mapped, still the same page */
	munmap(map, size);
	close(fd);
	printf("rw fd: shared with the domain's frames; ftruncate, fallocate, seals refused\n");
	return 0;
}

/* A grant copy by the core reads what the client wrote through its own mapping. */
static int
test_copy(struct gntdp_gnttab *gt)
{
	struct gntdp_grant_entry_v1 *e;
	struct gntdp_gnttab_ctx *ctx;
	struct gntdp_gnttab_copy op;
	uint8_t *gmap, *cmap;
	size_t gsize, csize, goff;
	int gfd, cfd;
	uint32_t n;

	CHECK(gntdp_guest_table(gt, DOM_GRANTER, &e, &n) == 0);
	/* The granter grants frame 3 through its own mapping of its table. */
	CHECK(gntdp_dp_memfd_lookup(e, NULL, &goff, &gsize) == 0);
	gfd = gntdp_dp_memfd_open(e, false);
	CHECK(gfd >= 0);
	gmap = mmap(NULL, gsize, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
	CHECK(gmap != MAP_FAILED);
	CHECK(gntdp_guest_grant_access((struct gntdp_grant_entry_v1 *)(void *)(gmap + goff) + 9,
				       DOM_CLIENT, 3, true) == 0);
	/* The client writes its frame 2 through its own mapping of its RAM. */
	CHECK(gntdp_dp_memfd_lookup(gntdp_domain_frame(gt, DOM_CLIENT, 0), NULL, NULL, &csize) == 0);
	cfd = gntdp_dp_memfd_open(gntdp_domain_frame(gt, DOM_CLIENT, 0), false);
	CHECK(cfd >= 0);
	cmap = mmap(NULL, csize, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	CHECK(cmap != MAP_FAILED);
	memset(cmap + 2 * 4096, 0x77, 4096);
	memset(gntdp_domain_frame(gt, DOM_GRANTER, 3), 0x11, 4096);
	/* Granter ref 9 (read-only) -> client frame 2 at offset 100. */
	memset(&op, 0, sizeof(op));
	op.source.u.ref = 9;
	op.source.domid = DOM_GRANTER;
	op.dest.u.gmfn = 2;
	op.dest.domid = GNTDP_DOMID_SELF;
	op.dest.offset = 100;
	op.len = 200;
	op.flags = GNTDP_GNTCOPY_SOURCE_GREF;
	CHECK(gntdp_gnttab_ctx_create(gt, NULL, &ctx) == 0);
	CHECK(gntdp_gnttab_op(ctx, DOM_CLIENT, GNTDP_GNTTABOP_COPY, &op, 1) == 0);
	gntdp_gnttab_ctx_destroy(ctx);
	CHECKF(op.status == GNTDP_GNTST_OKAY, "copy status %d", op.status);
	for (unsigned int i = 0; i < 4096; i++)
		CHECKF(cmap[2 * 4096 + i] == (i >= 100 && i < 300 ? 0x11 : 0x77), "byte %u", i);
	munmap(cmap, csize);
	munmap(gmap, gsize);
	close(cfd);
	close(gfd);
	printf("copy: the core saw the grant and wrote the client's frame, both via client maps\n");
	return 0;
}

/* As root: a process of another uid cannot reopen the read-only fd at all. */
static int
reopen_as_nobody(int rofd)
{
	char path[48];
	pid_t pid;
	int st;

	if (geteuid() != 0)
		return 0;
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int fd;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* /proc/self/fd belongs to us again */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", rofd);
		if (access("/proc/self/fd", R_OK | X_OK) != 0)
			_exit(3); /* the test would prove nothing */
		fd = open(path, O_RDWR);
		_exit(fd < 0 && errno == EACCES ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reopen as uid 65534: status %#x", st);
	printf("ro fd: uid 65534 cannot reopen it read-write\n");
	return 0;
}

static int
test_ro(struct gntdp_gnttab *gt)
{
	uint8_t *f7 = gntdp_domain_frame(gt, DOM_CLIENT, 7);
	size_t size;
	uint8_t *map;
	int fd;

	CHECK(gntdp_dp_memfd_lookup(f7, NULL, NULL, &size) == 0);
	fd = gntdp_dp_memfd_open(f7 + 4095, true);
	CHECKF(fd >= 0, "open ro: %d", fd);
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EACCES);
	CHECK(mmap(NULL, size, PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EACCES);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(map != MAP_FAILED);
	f7[9] = 0x5a;
	CHECK(map[7 * 4096 + 9] == 0x5a);
	CHECK(mprotect(map, size, PROT_READ | PROT_WRITE) == -1 && errno == EACCES);
	CHECK(write(fd, "x", 1) == -1 && errno == EBADF);
	CHECK(ftruncate(fd, 0) == -1);
	CHECK(reopen_as_nobody(fd) == 0);
	munmap(map, size);
	close(fd);
	CHECK(gntdp_dp_memfd_open(&fd, true) == -ENOENT);
	printf("ro fd: readable; PROT_WRITE mmap and mprotect EACCES, write EBADF\n");
	return 0;
}

/* The provider bound to node 0 (run() asks for it): the pages' policy says MPOL_BIND, {0}. */
static int
test_numa(struct gntdp_gnttab *gt)
{
#ifdef GNTDP_HAVE_NUMA
	unsigned long mask[16] = { 0 };
	int mode = -1;

	CHECK(get_mempolicy(&mode, mask, sizeof(mask) * 8, gntdp_domain_frame(gt, DOM_CLIENT, 3),
			    MPOL_F_ADDR) == 0);
	CHECKF(mode == MPOL_BIND && mask[0] == 1, "mode %d mask %#lx", mode, mask[0]);
	printf("numa: frames bound to node 0 (MPOL_BIND)\n");
#else
	(void)gt;
	printf("numa: built without libnuma, no binding to check\n");
#endif
	return 0;
}

static int
test_iova(struct gntdp_gnttab *gt)
{
	bool va_mode = rte_eal_iova_mode() == RTE_IOVA_VA;
	uint64_t prev = 0;

	for (unsigned int i = 0; i < NR_FRAMES; i++) {
		uint8_t *f = gntdp_domain_frame(gt, DOM_CLIENT, i);
		const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(f);
		const struct rte_memseg *ms = rte_mem_virt2memseg(f, NULL);
		uint64_t iova = mem.virt2iova(mem.arg, f);
		rte_iova_t dpdk = rte_mem_virt2iova(f);

		CHECK(msl != NULL && msl->external && ms != NULL);
		CHECKF(iova != 0 && iova != RTE_BAD_IOVA, "frame %u iova %#llx", i,
		       (unsigned long long)iova);
		CHECK(mem.virt2iova(mem.arg, f + 123) == iova + 123);
		if (ms->iova != RTE_BAD_IOVA)
			CHECK(iova == ms->iova + (uint64_t)(f - (uint8_t *)ms->addr));
		if (va_mode)
			CHECK(iova == (uint64_t)(uintptr_t)f);
		if (dpdk != RTE_BAD_IOVA)
			CHECKF(iova == dpdk, "frame %u: %#llx, DPDK %#llx", i,
			       (unsigned long long)iova, (unsigned long long)dpdk);
		CHECK(iova != prev);
		prev = iova;
	}
	printf("iova: %s mode, registered external memory, frame 0 at %#llx\n",
	       va_mode ? "VA" : "PA",
	       (unsigned long long)mem.virt2iova(mem.arg, gntdp_domain_frame(gt, DOM_CLIENT, 0)));
	return 0;
}

static int
test_free(struct gntdp_gnttab *gt)
{
	uint8_t *f0 = gntdp_domain_frame(gt, DOM_CLIENT, 0);
	size_t size;
	uint8_t *map;
	int fd, mine;

	CHECK(gntdp_dp_memfd_lookup(f0, &fd, NULL, &size) == 0);
	mine = gntdp_dp_memfd_open(f0, true);
	CHECK(mine >= 0);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, mine, 0);
	CHECK(map != MAP_FAILED);
	close(mine);
	f0[17] = 0xee;
	CHECK(gntdp_domain_destroy(gt, DOM_CLIENT) == 0);
	CHECK(gntdp_dp_memfd_lookup(f0, NULL, NULL, NULL) == -ENOENT);
	CHECK(gntdp_dp_memfd_open(f0, true) == -ENOENT);
	CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
	CHECK(rte_mem_virt2memseg_list(f0) == NULL);
	/* A holder's mapping keeps the pages and what was in them. */
	CHECK(map[17] == 0xee);
	munmap(map, size);
	printf("free: unregistered, provider fd closed, a holder keeps its pages\n");
	return 0;
}

/*
 * gntdp_dp_memfd_seal(.., true): the provider's own mapping still writes,
 * a read-write fd opened afterwards maps only read-only, write() and hole
 * punch fail; once an fd left the provider the seals are final (-EPERM).
 */
static int
test_seal(void)
{
	uint8_t *va = mem.alloc(mem.arg, 2, -1), *va2 = mem.alloc(mem.arg, 1, -1);
	const uint8_t *ro;
	char b = 1;
	int fd, fd2;

	CHECK(va != NULL && va2 != NULL);
	CHECK(gntdp_dp_memfd_seal(&b, true) == -ENOENT);
	CHECK(gntdp_dp_memfd_seal(va + 4096, true) == 0);
	CHECK(gntdp_dp_memfd_seal(va, false) == 0 && gntdp_dp_memfd_seal(va, true) == -EPERM);
	fd = gntdp_dp_memfd_open(va, false);
	CHECK(fd >= 0 && fcntl(fd, F_GET_SEALS) == (SEALS | F_SEAL_FUTURE_WRITE));
	CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EPERM);
	CHECK(pwrite(fd, &b, 1, 0) == -1 && errno == EPERM);
	CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == -1 &&
	      errno == EPERM);
	ro = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(ro != MAP_FAILED);
	va[4096 + 7] = 0x42;
	CHECK(ro[4096 + 7] == 0x42);
	munmap((void *)(uintptr_t)ro, 8192);
	close(fd);
	fd2 = gntdp_dp_memfd_open(va2, true);
	CHECK(fd2 >= 0 && fcntl(fd2, F_GET_SEALS) == SEALS);
	CHECK(gntdp_dp_memfd_seal(va2, true) == -EPERM && gntdp_dp_memfd_seal(va2, false) == 0);
	close(fd2);
	mem.free(mem.arg, va, 2);
	mem.free(mem.arg, va2, 1);
	printf("seal: future writes refused after the provider's mapping; seals final once an fd "
	       "left\n");
	return 0;
}

/* The IOVA of an unregistered frame: computed by the provider as DPDK would. */
static int
check_unregistered(struct gntdp_gnttab *gt, gntdp_domid_t dom)
{
	uint8_t *f = gntdp_domain_frame(gt, dom, 0);
	uint64_t iova = mem.virt2iova(mem.arg, f);
	rte_iova_t dpdk = rte_mem_virt2iova(f);
	int fd;

	CHECK(f != NULL && rte_mem_virt2memseg_list(f) == NULL);
	CHECK(iova != 0 && iova != RTE_BAD_IOVA);
	if (rte_eal_iova_mode() == RTE_IOVA_VA)
		CHECK(iova == (uint64_t)(uintptr_t)f);
	if (dpdk != RTE_BAD_IOVA)
		CHECKF(iova == dpdk, "%#llx, DPDK %#llx", (unsigned long long)iova,
		       (unsigned long long)dpdk);
	CHECK(gntdp_dp_memfd_lookup(f, &fd, NULL, NULL) == 0 && fcntl(fd, F_GET_SEALS) == SEALS);
	fd = gntdp_dp_memfd_open(f, false);
	CHECK(fd >= 0);
	close(fd);
	return 0;
}

/*
 * More allocations than DPDK has memseg lists: the first are registered, the
 * rest are not (IOVAs from the provider), every domain works, nothing leaks,
 * and once lists are free again new allocations are registered again.
 */
static int
test_past_the_limit(struct gntdp_gnttab *gt)
{
	const unsigned int n = 100; /* 200 allocations > RTE_MAX_MEMSEG_LISTS */
	struct gntdp_domain_conf dc;
	unsigned int fds = count_fds(), reg = 0;

	for (unsigned int i = 0; i < n; i++) {
		gntdp_domain_conf_init(&dc);
		dc.domid = (gntdp_domid_t)(100 + i);
		dc.nr_frames = 1;
		dc.max_grant_frames = 1;
		dc.max_grant_version = 1;
		CHECKF(gntdp_domain_create(gt, &dc) == 0, "domain %u", i);
		reg += rte_mem_virt2memseg_list(gntdp_domain_frame(gt, dc.domid, 0)) != NULL;
	}
	CHECKF(reg >= 10 && reg < n, "%u of %u domains' RAM registered", reg, n);
	CHECK(rte_mem_virt2memseg_list(gntdp_domain_frame(gt, 100, 0)) != NULL);
	CHECK(check_unregistered(gt, (gntdp_domid_t)(100 + n - 1)) == 0);
	for (unsigned int i = 0; i < n; i++)
		CHECK(gntdp_domain_destroy(gt, (gntdp_domid_t)(100 + i)) == 0);
	CHECKF(count_fds() == fds, "%u fds, %u before", count_fds(), fds);
	dc.domid = 100;
	CHECK(gntdp_domain_create(gt, &dc) == 0);
	CHECK(rte_mem_virt2memseg_list(gntdp_domain_frame(gt, 100, 0)) != NULL);
	CHECK(gntdp_domain_destroy(gt, 100) == 0);
	printf("limit: %u domains, the RAM of %u registered with DPDK, the rest not; no fd leaked\n",
	       n, reg);
	return 0;
}

/* A SIGBUS at @p addr as the kernel sends it for a fault (BUS_ADRERR), to this thread. */
static void
sigbus_at(void *addr)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = BUS_ADRERR;
	si.si_addr = addr;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGBUS, &si);
}

/*
 * The real fault, only with GNTDP_TEST_HUGETLB_EXHAUST=1 (it reserves every
 * free 2 MiB page of the host for a moment, which other processes would
 * feel): a hole punched through a read-write fd, the pool reserved, a read
 * of the page: the handler replaces it.
 */
static int
hugetlb_real_fault(uint8_t *va)
{
	const char *env = getenv("GNTDP_TEST_HUGETLB_EXHAUST");
	unsigned long n;
	void *hold = MAP_FAILED;
	volatile uint8_t v;
	int fd;

	if (env == NULL || strcmp(env, "1") != 0)
		return 0;
	fd = gntdp_dp_memfd_open(va, false);
	CHECK(fd >= 0);
	CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2u << 20) == 0);
	close(fd);
	/* After the punch, which gave its page back to the pool. */
	for (n = tc_huge_free(); n > 0 && hold == MAP_FAILED; n--)
		hold = mmap(NULL, n << 21, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	v = va[8];
	if (hold != MAP_FAILED)
		munmap(hold, (n + 1) << 21);
	/* The synthetic SIGBUS of hugetlb_sigbus() was the first. */
	CHECKF(v == 0 && gntdp_dp_memfd_repairs(va) == 2, "byte %u, %u repairs", v,
	       gntdp_dp_memfd_repairs(va));
	printf("hugetlb: a punched page refaulted with no free 2 MiB page: replaced, counted\n");
	return 0;
}

/*
 * The provider's SIGBUS handler: a fault in a hugetlb allocation (what a
 * client's hole punch causes when the pool is empty) gets zero memory over
 * that 2 MiB page and is counted; one elsewhere kills the process as it
 * would have.
 */
static int
hugetlb_sigbus(struct gntdp_mem_ops *hm)
{
	uint8_t *va = hm->alloc(hm->arg, 600, -1); /* two 2 MiB pages */
	int st;
	pid_t pid;

	CHECK(va != NULL);
	va[100] = 7;
	va[(2u << 20) + 100] = 9;
	CHECK(gntdp_dp_memfd_repairs(va) == 0 && gntdp_dp_memfd_repairs(&st) == 0);
	sigbus_at(va + (2u << 20) + 4096);
	CHECK(gntdp_dp_memfd_repairs(va + 5) == 1);
	CHECK(va[100] == 7 && va[(2u << 20) + 100] == 0);
	va[(2u << 20) + 100] = 5;
	CHECK(va[(2u << 20) + 100] == 5);
	pid = fork();
	if (pid == 0) {
		sigbus_at(&st);
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
#if defined(__SANITIZE_ADDRESS__)
	/* The handler before ours is ASan's: it reports the fault and exits 1. */
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) != 0, "status 0x%x", st);
#else
	CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS, "status 0x%x", st);
#endif
	CHECK(hugetlb_real_fault(va) == 0);
	hm->free(hm->arg, va, 600);
	CHECK(gntdp_dp_memfd_lookup(va, NULL, NULL, NULL) == -ENOENT);
	printf("hugetlb: SIGBUS in an allocation repaired and counted, elsewhere fatal\n");
	return 0;
}

static int
test_hugetlb(void)
{
	struct gntdp_dp_memfd_conf mc;
	struct gntdp_mem_ops hm;
	size_t size, off;
	uint8_t *va;
	int fd;

	gntdp_dp_memfd_conf_init(&mc);
	mc.hugetlb = true;
	if (!gntdp_dp_eal_hugepages()) {
		CHECK(gntdp_dp_memfd_ops(&mc, &hm) == -EINVAL);
		printf("hugetlb: refused under --no-huge\n");
		return 0;
	}
	CHECK(gntdp_dp_memfd_ops(&mc, &hm) == 0);
	va = hm.alloc(hm.arg, 3, -1);
	if (va == NULL) {
		printf("hugetlb: no free 2 MiB page for a memfd here, part skipped\n");
		return 0;
	}
	CHECK(((uintptr_t)va & ((2u << 20) - 1)) == 0);
	CHECK(gntdp_dp_memfd_lookup(va + 3 * 4096 - 1, &fd, &off, &size) == 0);
	CHECK(size == 2u << 20 && off == 3 * 4096 - 1);
	CHECK(fcntl(fd, F_GET_SEALS) == SEALS);
	CHECK(ftruncate(fd, 0) == -1 && errno == EPERM);
	CHECK(va[0] == 0 && va[3 * 4096 - 1] == 0);
	hm.free(hm.arg, va, 3);
	/* F_SEAL_FUTURE_WRITE on a hugetlb memfd (gntdpd's status frames with [memory] hugetlb). */
	va = hm.alloc(hm.arg, 3, -1);
	CHECK(va != NULL && gntdp_dp_memfd_seal(va, true) == 0);
	CHECK(gntdp_dp_memfd_lookup(va, &fd, NULL, NULL) == 0);
	CHECK(fcntl(fd, F_GET_SEALS) == (SEALS | F_SEAL_FUTURE_WRITE));
	va[5] = 1;
	CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2u << 20) == -1 &&
	      errno == EPERM && va[5] == 1);
	CHECK(rte_mem_virt2memseg_list(va) != NULL &&
	      rte_mem_virt2memseg_list(va)->page_sz == (2u << 20));
	CHECK(hm.virt2iova(hm.arg, va) != 0);
	hm.free(hm.arg, va, 3);
	CHECK(gntdp_dp_memfd_lookup(va, NULL, NULL, NULL) == -ENOENT);
	printf("hugetlb: 2 MiB memfd, sealed, registered with 2 MiB pages\n");
	return hugetlb_sigbus(&hm);
}

static int
run(void)
{
	struct gntdp_dp_memfd_conf mc;
	struct gntdp_gnttab *gt = NULL;
	unsigned int fds = count_fds();

	gntdp_dp_memfd_conf_init(&mc);
	CHECK(mc.socket == -1 && !mc.hugetlb);
	mc.socket = -2;
	CHECK(gntdp_dp_memfd_ops(&mc, &mem) == -EINVAL);
	CHECK(gntdp_dp_memfd_ops(NULL, NULL) == -EINVAL);
	mc.socket = 0; /* bound to node 0 (libnuma), which every machine has */
	CHECK(gntdp_dp_memfd_ops(&mc, &mem) == 0);
	CHECK(make_world(&gt) == 0);
	CHECK(test_lookup(gt) == 0);
	CHECK(test_rw(gt) == 0);
	CHECK(test_copy(gt) == 0);
	CHECK(test_ro(gt) == 0);
	CHECK(test_numa(gt) == 0);
	CHECK(test_iova(gt) == 0);
	CHECK(test_free(gt) == 0);
	CHECK(test_seal() == 0);
	CHECK(test_past_the_limit(gt) == 0);
	gntdp_gnttab_destroy(gt);
	CHECKF(count_fds() == fds, "fds %u, before %u", count_fds(), fds);
	CHECK(test_hugetlb() == 0);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = dp_test_eal("dp_memfd", argc, argv);

	if (rc != 0)
		return rc;
	rc = run();
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(NULL, NULL, rc);
}
