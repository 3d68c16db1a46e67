/* SPDX-License-Identifier: MIT */
/*
 * The SIGBUS a hole punch in a hugetlb memfd can cause (docs/dataplane.md
 * "memfd", docs/daemon.md "Memory"), turned from the death of the process
 * into the loss of one 2 MiB page of the domain that punched it.
 *
 * A client holding its RAM read-write can always punch a hole in it
 * (fallocate PUNCH_HOLE on its fd, MADV_REMOVE on its mapping): no seal
 * forbids that while still letting it write, and F_SEAL_FUTURE_WRITE,
 * which does, forbids its writes too. The punch unmaps the page from every
 * process, the provider's included; the next touch (a worker's copy) must
 * take a new 2 MiB page from the kernel's pool, with no reservation left
 * for it, and a SIGBUS is what the kernel sends when there is none. With
 * 4 KiB shmem pages the refault takes a zero page and nothing happens.
 *
 * The handler (installed by the first hugetlb provider) looks the faulting
 * address up in a fixed table of the provider's hugetlb allocations,
 * lock-free (a signal handler cannot take mfd_lock, which the faulting
 * thread may hold), and maps anonymous zero memory over that 2 MiB page
 * (MAP_FIXED, private): the instruction is restarted and finds memory.
 * The page is then the provider's alone (the client's view of it is its
 * own refault, or its own SIGBUS), so the allocation counts the repair
 * (gntdp_dp_memfd_repairs()) and its owner (gntdpd) destroys the domain,
 * whose memory is no longer one. A SIGBUS elsewhere, or one not sent by
 * the kernel (si_code <= 0), goes to the previous handler, or kills the
 * process as it would have.
 *
 * Table writers (track, untrack) run under mfd_lock; the handler only
 * reads: size is stored before va (release), va is cleared before the
 * memory is unmapped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "dp_internal.h"

#define HUGE_2M ((uintptr_t)2u << 20)
/* 3 allocations per domain, gntdpd's D_MAX_DOMAINS: more stay unrepaired (a warning). */
#define MAX_RANGES 3072

static struct range {
	_Atomic(uintptr_t) va; /* 0: free */
	size_t size;
	atomic_uint repairs;
} ranges[MAX_RANGES];

static struct sigaction old_bus;
static atomic_bool installed;

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	for (unsigned int i = 0; si->si_code > 0 && i < MAX_RANGES; i++) {
		uintptr_t b = atomic_load_explicit(&ranges[i].va, memory_order_acquire);

		if (b == 0 || a - b >= ranges[i].size)
			continue;
		/* mmap is a plain system call on Linux: safe here in practice. */
		if (mmap((void *)(a & ~(HUGE_2M - 1)), HUGE_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		atomic_fetch_add(&ranges[i].repairs, 1);
		return;
	}
	if ((old_bus.sa_flags & SA_SIGINFO) && old_bus.sa_sigaction != NULL) {
		old_bus.sa_sigaction(sig, si, uc);
		return;
	}
	if (old_bus.sa_handler != SIG_DFL && old_bus.sa_handler != SIG_IGN) {
		old_bus.sa_handler(sig);
		return;
	}
	/* As without us: the default action (a real fault would only repeat). */
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

int
memfd_bus_install(void)
{
	struct sigaction sa;

	if (atomic_exchange(&installed, true))
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old_bus) != 0) {
		atomic_store(&installed, false);
		return -errno;
	}
	return 0;
}

void
memfd_bus_track(void *va, size_t size)
{
	for (unsigned int i = 0; i < MAX_RANGES; i++) {
		if (atomic_load(&ranges[i].va) != 0)
			continue;
		ranges[i].size = size;
		atomic_store(&ranges[i].repairs, 0);
		atomic_store_explicit(&ranges[i].va, (uintptr_t)va, memory_order_release);
		return;
	}
	DP_LOG(WARNING, "memfd: more than %u hugetlb allocations: a hole punched in %p will "
		"SIGBUS the process\n", MAX_RANGES, va);
}

void
memfd_bus_untrack(void *va)
{
	for (unsigned int i = 0; i < MAX_RANGES; i++) {
		if (atomic_load(&ranges[i].va) == (uintptr_t)va)
			atomic_store(&ranges[i].va, 0);
	}
}

unsigned int
memfd_bus_repairs(const void *va)
{
	uintptr_t a = (uintptr_t)va;

	for (unsigned int i = 0; i < MAX_RANGES; i++) {
		uintptr_t b = atomic_load(&ranges[i].va);

		if (b != 0 && a - b < ranges[i].size)
			return atomic_load(&ranges[i].repairs);
	}
	return 0;
}
