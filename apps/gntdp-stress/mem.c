/* SPDX-License-Identifier: MIT */
/*
 * Frame memory and the use-after-revoke detector.
 *
 * Provider: every core allocation (a domain's RAM, a grant table) is its
 * own anonymous mmap, so 4 KiB pages can be protected one by one, memory
 * goes back to the kernel when a domain dies (resident memory stays flat
 * over create/destroy cycles), and the world keeps a registry of what is
 * live: the leak check counts allocations, and the sequential oracle names
 * an address by (allocation number, offset) to compare two worlds.
 * IOVA = VA (virt2iova NULL), as for the core's heap provider.
 *
 * Detector: when a guest's end access on a churn grant succeeds, the guest
 * poisons the frame and mprotects it PROT_NONE; when set_readonly succeeds
 * it makes the frame PROT_READ. An access by anyone (a worker executing a
 * copy, a vector kernel) then faults. The SIGSEGV handler recognises the
 * page, records a violation with the seed, opens the page again so the
 * faulting access completes, and returns: the run goes on and ends with the
 * violation reported. A fault anywhere else is a crash: the handler prints
 * the seed and re-raises with the default action.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stress.h"

/* ---- Provider ----------------------------------------------------------- */

static void *
map_alloc(void *arg, size_t nb_frames, int socket)
{
	struct world *w = arg;
	size_t len = nb_frames * GNTDP_PAGE_SIZE;
	void *va;

	(void)socket;
	if (nb_frames == 0 || nb_frames > SIZE_MAX / GNTDP_PAGE_SIZE)
		return NULL;
	va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED)
		return NULL;
	for (unsigned int i = 0; i < STRESS_MAX_ALLOCS; i++) {
		uintptr_t expect = 0;
		struct alloc_slot *s = &w->allocs[i];

		/* Claim a free slot; len and serial are read only by the owner thread's peers
		 * after va is visible, and only for lookups that tolerate a stale miss. */
		if (atomic_compare_exchange_strong(&s->va, &expect, (uintptr_t)va)) {
			s->len = len;
			s->serial = atomic_fetch_add(&w->next_serial, 1);
			atomic_fetch_add(&w->nb_live_allocs, 1);
			return va;
		}
	}
	munmap(va, len);
	return NULL;
}

static void
map_free(void *arg, void *va, size_t nb_frames)
{
	struct world *w = arg;

	for (unsigned int i = 0; i < STRESS_MAX_ALLOCS; i++) {
		struct alloc_slot *s = &w->allocs[i];

		if (atomic_load(&s->va) == (uintptr_t)va) {
			atomic_store(&s->va, 0);
			atomic_fetch_sub(&w->nb_live_allocs, 1);
			break;
		}
	}
	munmap(va, nb_frames * GNTDP_PAGE_SIZE);
}

struct gntdp_mem_ops
mem_ops_for(struct world *w)
{
	struct gntdp_mem_ops m = {
		.alloc = map_alloc,
		.free = map_free,
		.virt2iova = NULL,
		.arg = w,
	};

	return m;
}

bool
world_addr_id(struct world *w, uint64_t addr, uint32_t *serial, uint64_t *off)
{
	for (unsigned int i = 0; i < STRESS_MAX_ALLOCS; i++) {
		struct alloc_slot *s = &w->allocs[i];
		uintptr_t va = atomic_load(&s->va);

		if (va != 0 && addr >= va && addr < va + s->len) {
			*serial = s->serial;
			*off = addr - va;
			return true;
		}
	}
	return false;
}

uint64_t
rss_kib(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- Protection detector ------------------------------------------------ */

#define MAX_PROT 4096

struct prot_page {
	_Atomic(uintptr_t) va;
	atomic_int state;
	gntdp_domid_t domid;
	uint32_t gfn;
};

static struct prot_page prot[MAX_PROT];
static atomic_uint nb_prot;
static atomic_uint prot_viol;
static char prot_first[256];
static atomic_flag prot_first_set = ATOMIC_FLAG_INIT;
static uint64_t handler_seed;
static int prot_ok = -1;

bool
prot_available(void)
{
	if (prot_ok < 0) {
		void *p = mmap(NULL, GNTDP_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		prot_ok = p != MAP_FAILED && mprotect(p, GNTDP_PAGE_SIZE, PROT_NONE) == 0;
		if (p != MAP_FAILED)
			munmap(p, GNTDP_PAGE_SIZE);
	}
	return prot_ok == 1;
}

int
prot_register(void *va, gntdp_domid_t domid, uint32_t gfn)
{
	unsigned int n = atomic_load(&nb_prot);

	for (unsigned int i = 0; i < n; i++) {
		if (atomic_load(&prot[i].va) == (uintptr_t)va)
			return (int)i;
	}
	if (n >= MAX_PROT)
		return -1;
	prot[n].domid = domid;
	prot[n].gfn = gfn;
	atomic_store(&prot[n].state, PROT_OPEN);
	atomic_store(&prot[n].va, (uintptr_t)va);
	atomic_store(&nb_prot, n + 1);
	return (int)n;
}

int
prot_set(int slot, enum prot_state st)
{
	struct prot_page *p;
	int mode;

	if (slot < 0 || slot >= MAX_PROT)
		return -EINVAL;
	p = &prot[slot];
	mode = st == PROT_OPEN       ? PROT_READ | PROT_WRITE
	       : st == PROT_READONLY ? PROT_READ
				     : PROT_NONE;
	/* Order: state first when closing (a fault sees why), last when opening. */
	if (st != PROT_OPEN)
		atomic_store(&p->state, st);
	if (mprotect((void *)atomic_load(&p->va), GNTDP_PAGE_SIZE, mode) != 0)
		return -errno;
	if (st == PROT_OPEN)
		atomic_store(&p->state, st);
	return 0;
}

void
prot_reset_all(void)
{
	unsigned int n = atomic_load(&nb_prot);

	for (unsigned int i = 0; i < n; i++) {
		if (atomic_load(&prot[i].state) != PROT_OPEN)
			prot_set((int)i, PROT_OPEN);
	}
	atomic_store(&nb_prot, 0);
}

/* Async-signal-safe decimal formatting. */
static size_t
fmt_u64(char *b, uint64_t v)
{
	char t[24];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		b[i] = t[n - 1 - i];
	return n;
}

static size_t
put_str(char *b, const char *s)
{
	size_t n = strlen(s);

	memcpy(b, s, n);
	return n;
}

static void
segv_handler(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr & ~(uintptr_t)(GNTDP_PAGE_SIZE - 1);
	unsigned int n = atomic_load(&nb_prot);
	char msg[256];
	size_t k = 0;

	(void)uctx;
	for (unsigned int i = 0; i < n; i++) {
		struct prot_page *p = &prot[i];
		int st;

		if (atomic_load(&p->va) != a)
			continue;
		st = atomic_load(&p->state);
		k += put_str(msg + k, "gntdp-stress: VIOLATION access after ");
		k += put_str(msg + k,
			     st == PROT_READONLY ? "read-only flip (write)" : "end access");
		k += put_str(msg + k, ": d");
		k += fmt_u64(msg + k, p->domid);
		k += put_str(msg + k, " gfn ");
		k += fmt_u64(msg + k, p->gfn);
		k += put_str(msg + k, " seed ");
		k += fmt_u64(msg + k, handler_seed);
		msg[k++] = '\n';
		if (write(STDERR_FILENO, msg, k) < 0) {
			/* nothing more we can do inside a signal handler */
		}
		if (!atomic_flag_test_and_set(&prot_first_set)) {
			memcpy(prot_first, msg,
			       k < sizeof(prot_first) ? k - 1 : sizeof(prot_first) - 1);
		}
		atomic_fetch_add(&prot_viol, 1);
		/* Let the access complete; the run reports the violation at its end. */
		mprotect((void *)a, GNTDP_PAGE_SIZE, PROT_READ | PROT_WRITE);
		atomic_store(&p->state, PROT_OPEN);
		return;
	}
	k += put_str(msg + k, "gntdp-stress: fatal signal, seed ");
	k += fmt_u64(msg + k, handler_seed);
	msg[k++] = '\n';
	if (write(STDERR_FILENO, msg, k) < 0) {
		/* ignore */
	}
	signal(sig, SIG_DFL);
}

void
prot_install_handler(uint64_t seed)
{
	struct sigaction sa;

	handler_seed = seed;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

unsigned int
prot_violations(char *first, size_t len)
{
	unsigned int n = atomic_load(&prot_viol);

	if (n != 0 && first != NULL && len > 0)
		snprintf(first, len, "%s", prot_first);
	return n;
}
