/* SPDX-License-Identifier: MIT */
/*
 * Connect mode (`--connect SOCKET`, [connect] socket): the same scenario,
 * ops and checks as in process, with every domain a client process of
 * gntdpd (docs/daemon.md "Benchmark against the daemon").
 *
 *   parent        no EAL, no domain: parses the config, says HELLO to the
 *                 daemon (its workers), maps one shared region, forks the
 *                 domain processes, starts the run, watches the children,
 *                 collects and reports
 *   frontend f    binds domain 1 + f (created by the bind, as the daemon's
 *                 ACL allows), grows its grant table with setup_table on its
 *                 own ring, writes its grants in its own table, fills its TX
 *                 frames and poisons its RX frames; then checks, through its
 *                 own mapping, what the backends ask (struct vcheck), and at
 *                 the end its TX frames
 *   backend bk    binds domain 1 + F + bk, one hypercall ring per queue, and
 *                 runs run.c's client loop on them: op arrays in its own RAM,
 *                 statuses read back from there, every completion exactly
 *                 once, gref->frame copies checked in its own RAM
 *
 * The children use libgntdp-client only (no EAL, no hugepage, no fd of the
 * daemon but their own domain's). The shared region holds what the parent
 * reads (the clients' results, each process's state) and the checks; it is
 * MAP_SHARED | MAP_ANONYMOUS, made before the fork, so it reaches no
 * daemon memory.
 *
 * The controller of run.c (phases, progress, a stop request) runs in
 * backend 0's client loop, as in process on the main lcore's client: a
 * busy-polling backend under SCHED_FIFO (bench/daemon/run.sh) would starve
 * a controller of its own. Each child dies with the parent
 * (PR_SET_PDEATHSIG); SIGINT and SIGTERM drain the run: backend 0 takes
 * them itself (a terminal's ^C reaches the process group), the parent
 * passes its own on as SIGUSR1, the others ignore them.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include <gntdp/client.h>

#include "app.h"
#include "bench.h"

/* How long the domain processes may take to set up, and to leave at the end. */
#define SETUP_TIMEOUT_S 60
#define EXIT_TIMEOUT_S 10
/* Empty passes over the checks after which a frontend sleeps 20 us between passes. */
#define FE_IDLE_PASSES 1000
/* The raw copy of connect mode: rounds of RAW_ROUND_S, the median reported. */
#define RAW_ROUNDS 5
#define RAW_ROUND_S 0.2

enum proc_state { PS_STARTING, PS_READY, PS_FAILED, PS_DONE };

/* One domain process's state and its own results (frontends: the checks). */
struct proc {
	_Atomic int state; /* enum proc_state */
	gntdp_domid_t domid;
	uint64_t checks;      /* frontends: checks made */
	uint64_t bad;         /* and failed */
	uint64_t src_corrupt; /* TX frames whose pattern changed */
	char why[192];        /* the first failure */
};

struct shared {
	struct bench_sync sync;
	_Atomic unsigned int ready;
	_Atomic bool go;
	_Atomic bool fe_stop;
	/* backend 0's controller: its calibration and the phase a stop came in */
	double peak_mops;
	int stop_phase;
	/* the raw copy, measured by backend 0 */
	double raw_gbps, raw_mops, raw_min_gbps, raw_max_gbps;
	unsigned int raw_rounds;
};

/* The parent's view of the region. */
struct region {
	void *base;
	size_t size;
	struct shared *sh;
	struct client *clients; /* [backends] */
	struct proc *procs;     /* [frontends + backends] */
	struct vcheck *chk;     /* [queues][2 * depth] */
};

static int
region_map(struct bench *b, struct region *rg)
{
	const struct scenario *sc = &b->sc;
	unsigned int nb_proc = sc->nb_frontends + sc->nb_backends;
	size_t o_cl = (sizeof(struct shared) + 63) & ~(size_t)63;
	size_t o_pr = o_cl + sc->nb_backends * sizeof(struct client);
	size_t o_ck = (o_pr + nb_proc * sizeof(struct proc) + 63) & ~(size_t)63;

	rg->size = o_ck + (size_t)b->nb_q * 2 * sc->depth * sizeof(struct vcheck);
	rg->base = mmap(NULL, rg->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rg->base == MAP_FAILED)
		return -errno;
	rg->sh = rg->base;
	rg->clients = (struct client *)(void *)((char *)rg->base + o_cl);
	rg->procs = (struct proc *)(void *)((char *)rg->base + o_pr);
	rg->chk = (struct vcheck *)(void *)((char *)rg->base + o_ck);
	return 0;
}

/* rte_get_tsc_hz() needs EAL: the TSC against CLOCK_MONOTONIC over 50 ms. */
static uint64_t
tsc_hz_measure(void)
{
	struct timespec a, z, d = {.tv_nsec = 50 * 1000 * 1000};
	uint64_t t0, t1;
	double ns;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = rte_rdtsc();
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &z);
	t1 = rte_rdtsc();
	ns = (double)(z.tv_sec - a.tv_sec) * 1e9 + (double)(z.tv_nsec - a.tv_nsec);
	return (uint64_t)((double)(t1 - t0) * 1e9 / ns);
}

static void
sleep_us(long us)
{
	struct timespec d = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

	nanosleep(&d, NULL);
}

static void
on_signal(int sig)
{
	(void)sig;
	gntdp_dp_request_stop(); /* an atomic store: async-signal-safe */
}

/* ---- in a domain process ---- */

static void __attribute__((format(printf, 2, 3))) proc_fail(struct proc *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(p->why, sizeof(p->why), fmt, ap);
		va_end(ap);
	}
	atomic_store_explicit(&p->state, PS_FAILED, memory_order_release);
}

/* Connect and bind domain domid with nr_frames of RAM. 0 or -1 (p says why). */
static int
proc_bind(struct bench *b, struct proc *p, gntdp_domid_t domid, uint32_t nr_frames,
	  uint32_t grant_frames, uint32_t maptrack_frames)
{
	struct gntdp_client_domain_conf dc;
	int rc;

	rc = gntdp_client_connect(b->sc.connect, &b->cl);
	if (rc < 0) {
		proc_fail(p, "domain %u: connect %s: %s", domid, b->sc.connect, strerror(-rc));
		return -1;
	}
	gntdp_client_domain_conf_init(&dc);
	dc.domid = domid;
	dc.create = true;
	dc.nr_frames = nr_frames;
	dc.max_grant_frames = grant_frames;
	dc.max_maptrack_frames = maptrack_frames;
	dc.max_grant_version = 1;
	rc = gntdp_client_bind(b->cl, &dc);
	if (rc < 0) {
		proc_fail(p, "domain %u: DOMAIN_BIND (%u frames): %s: %s", domid, nr_frames,
			  strerror(-rc), gntdp_client_why(b->cl));
		return -1;
	}
	b->self = domid;
	return 0;
}

static int
ring_open(struct bench *b, struct proc *p, unsigned int depth, struct gntdp_client_ring **out)
{
	struct gntdp_client_ring_conf rc;
	unsigned int entries = 2;
	int r;

	/* Every hypercall in flight holds at least one slot: depth entries suffice. */
	while (entries < depth)
		entries <<= 1;
	gntdp_client_ring_conf_init(&rc);
	rc.sq_entries = entries;
	rc.cq_entries = entries;
	r = gntdp_client_ring_create(b->cl, &rc, out);
	if (r < 0)
		proc_fail(p, "domain %u: RING_CREATE (%u entries): %s: %s", b->self, entries,
			  strerror(-r), gntdp_client_why(b->cl));
	return r;
}

/* Wait for the parent's go; false when the run ended first. */
static bool
wait_go(struct region *rg)
{
	while (!atomic_load_explicit(&rg->sh->go, memory_order_acquire)) {
		if (atomic_load(&rg->sh->fe_stop))
			return false;
		sleep_us(100);
	}
	return true;
}

/*
 * A frontend at boot: grow the grant table with setup_table (its op and
 * frame list in the scratch frame after the TX and RX frames), grant every
 * frame to its backend in its own table, fill TX, poison RX.
 */
static int
frontend_boot(struct bench *b, struct proc *p, unsigned int f)
{
	const struct scenario *sc = &b->sc;
	gntdp_domid_t be = backend_id(sc, f % sc->nb_backends);
	uint32_t nb_tx = sc->frames / 2, nb_ent;
	uint32_t need = (GNTDP_GNTTAB_NR_RESERVED_ENTRIES + sc->frames +
			 GNTDP_GRANT_ENTRIES_PER_FRAME_V1 - 1) /
			GNTDP_GRANT_ENTRIES_PER_FRAME_V1;
	uint8_t *scratch = bench_frame(b, b->self, sc->frames);
	struct gntdp_gnttab_setup_table *st = (void *)scratch;
	struct gntdp_grant_entry_v1 *e;
	struct gntdp_client_ring *r;
	int rc;

	if (scratch == NULL || ring_open(b, p, 2, &r) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->dom = GNTDP_DOMID_SELF;
	st->nr_frames = need;
	/* A guest handle: the guest address of the list, in the frontend's own RAM. */
	st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)gntdp_client_gaddr(b->cl, scratch + 64);
	rc = gntdp_client_hcall(r, GNTDP_GNTTABOP_SETUP_TABLE, st, 1);
	if (rc < 0 || st->status != GNTDP_GNTST_OKAY) {
		proc_fail(p, "frontend %u: setup_table(%u frames): rc %d status %s", b->self, need,
			  rc, gntdp_gntst_name(st->status));
		return -1;
	}
	gntdp_client_ring_destroy(b->cl, r);
	e = gntdp_client_table(b->cl, &nb_ent);
	if (e == NULL || nb_ent < GNTDP_GNTTAB_NR_RESERVED_ENTRIES + sc->frames) {
		proc_fail(p, "frontend %u: grant table has %u entries", b->self, nb_ent);
		return -1;
	}
	for (uint32_t g = 0; g < sc->frames; g++) {
		uint8_t *fp = bench_frame(b, b->self, g);
		bool tx = g < nb_tx;

		if (tx)
			pattern_fill(fp, b->self, g, sc->seed);
		else
			memset(fp, POISON_BYTE, GNTDP_PAGE_SIZE);
		rc = gntdp_guest_grant_access(&e[GNTDP_GNTTAB_NR_RESERVED_ENTRIES + g], be, g, tx);
		if (rc < 0) {
			proc_fail(p, "frontend %u: grant of gfn %u: %s", b->self, g, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* One pass over every check; the number this frontend made. */
static unsigned int
frontend_scan(struct bench *b, struct region *rg, struct proc *p)
{
	size_t n = (size_t)b->nb_q * 2 * b->sc.depth;
	unsigned int did = 0;
	char why[128];

	for (size_t i = 0; i < n; i++) {
		struct vcheck *v = &rg->chk[i];
		/* Acquire: pairs with the backend's release of req (verify.c check_post). */
		uint32_t req = atomic_load_explicit(&v->req, memory_order_acquire);

		if (req == atomic_load_explicit(&v->done, memory_order_relaxed) ||
		    v->dom != b->self)
			continue;
		p->checks++;
		if (!vcheck_do(b, v, why, sizeof(why))) {
			p->bad++;
			if (p->why[0] == '\0')
				snprintf(p->why, sizeof(p->why),
					 "queue %u seq %" PRIu64 ": domain %u checked: %s", v->qid,
					 v->seq, b->self, why);
		}
		/* Release: the check (and the re-poison) before done; the backend acquires it. */
		atomic_store_explicit(&v->done, req, memory_order_release);
		did++;
	}
	return did;
}

static int
frontend_main(struct bench *b, struct region *rg, unsigned int f)
{
	const struct scenario *sc = &b->sc;
	struct proc *p = &rg->procs[f];
	char why[192] = "";

	p->domid = frontend_id(f);
	/* One scratch frame after the TX and RX frames, for the setup_table hypercall. */
	if (proc_bind(b, p, frontend_id(f), sc->frames + 1, sc->grant_frames, 0) < 0 ||
	    frontend_boot(b, p, f) < 0)
		return 1;
	atomic_store_explicit(&p->state, PS_READY, memory_order_release);
	atomic_fetch_add(&rg->sh->ready, 1);
	/*
	 * Until the parent says the backends are gone: then a last pass. While
	 * checks come, yield between passes (a backend waits for each one);
	 * after FE_IDLE_PASSES empty passes, sleep between them.
	 * GNTDP_BENCH_FE_LAG_US (tests only) sleeps that long before every
	 * pass: a slow checker, whose checks a backend must wait for.
	 */
	const char *lag_env = getenv("GNTDP_BENCH_FE_LAG_US");
	unsigned long lag_us = lag_env != NULL ? strtoul(lag_env, NULL, 10) : 0;

	if (lag_us > 1000000)
		lag_us = 1000000;
	for (unsigned int idle = 0;
	     !atomic_load_explicit(&rg->sh->fe_stop, memory_order_acquire);) {
		if (lag_us != 0)
			sleep_us((long)lag_us);
		if (frontend_scan(b, rg, p) != 0)
			idle = 0;
		else if (++idle < FE_IDLE_PASSES)
			sched_yield();
		else
			sleep_us(20);
	}
	frontend_scan(b, rg, p);
	p->src_corrupt = verify_sources(b, why, sizeof(why));
	if (p->src_corrupt != 0 && p->why[0] == '\0')
		snprintf(p->why, sizeof(p->why), "%s", why);
	atomic_store_explicit(&p->state, PS_DONE, memory_order_release);
	return 0;
}

/* Backend 0 after its run: memcpy of its queues' copies between frames of its own RAM. */
static void
backend_rawcopy(struct bench *b, struct region *rg)
{
	const struct scenario *sc = &b->sc;
	uint32_t n = sc->queues_per_backend * sc->depth;
	uint64_t src0 = sc->backend_frames + sc->queues_per_backend * hc_arr_frames(sc->depth);
	double gbps[RAW_ROUNDS], mops[RAW_ROUNDS];

	for (uint32_t k = 0; k < n; k++)
		pattern_fill(bench_frame(b, b->self, src0 + k), b->self, src0 + k, sc->seed);
	for (unsigned int round = 0; round < RAW_ROUNDS; round++) {
		uint64_t t0 = rte_rdtsc(), t,
			 end = t0 + (uint64_t)(RAW_ROUND_S * (double)b->tsc_hz);
		uint64_t copies = 0, bytes = 0;

		do {
			for (uint32_t k = 0; k < n; k++) {
				uint16_t len = sc->copy_sizes[k % sc->nb_sizes];

				memcpy(bench_frame(b, b->self, k) + sc->dst_offset,
				       bench_frame(b, b->self, src0 + k) + sc->src_offset, len);
				bytes += len;
			}
			copies += n;
			t = rte_rdtsc();
		} while (t < end);
		gbps[round] = (double)bytes / ((double)(t - t0) / (double)b->tsc_hz) / 1e9;
		mops[round] = (double)copies / ((double)(t - t0) / (double)b->tsc_hz) / 1e6;
	}
	/* Median by insertion sort (5 values); min and max beside it. */
	for (unsigned int i = 1; i < RAW_ROUNDS; i++) {
		for (unsigned int j = i; j > 0 && gbps[j - 1] > gbps[j]; j--) {
			double t = gbps[j];

			gbps[j] = gbps[j - 1];
			gbps[j - 1] = t;
			t = mops[j];
			mops[j] = mops[j - 1];
			mops[j - 1] = t;
		}
	}
	rg->sh->raw_gbps = gbps[RAW_ROUNDS / 2];
	rg->sh->raw_mops = mops[RAW_ROUNDS / 2];
	rg->sh->raw_min_gbps = gbps[0];
	rg->sh->raw_max_gbps = gbps[RAW_ROUNDS - 1];
	rg->sh->raw_rounds = RAW_ROUNDS;
}

static int
backend_queues(struct bench *b, struct region *rg, struct proc *p, unsigned int bk)
{
	const struct scenario *sc = &b->sc;
	struct client *c = b->clients;
	int rc;

	b->cq = calloc(sc->queues_per_backend, sizeof(*b->cq));
	c->q = calloc(sc->queues_per_backend, sizeof(*c->q));
	c->ops = aligned_alloc(64, BENCH_MAX_BURST * sizeof(*c->ops));
	if (b->cq == NULL || c->q == NULL || c->ops == NULL) {
		proc_fail(p, "backend %u: out of memory", b->self);
		return -1;
	}
	/* The queue numbering of create_queues: local index major. */
	for (unsigned int ql = 0; ql < sc->queues_per_backend; ql++) {
		struct cqueue *cq = &b->cq[ql];
		unsigned int qid = ql * sc->nb_backends + bk;

		rc = init_cqueue(b, cq, bk, ql);
		if (rc < 0) {
			proc_fail(p, "backend %u: queue %u: %s", b->self, qid, strerror(-rc));
			return -1;
		}
		if (ring_open(b, p, sc->depth, &cq->cr) < 0)
			return -1;
		cq->qid = qid;
		if (sc->verify)
			cq->chk = rg->chk + (size_t)qid * 2 * sc->depth;
		c->q[c->nb_q++] = cq;
	}
	for (uint32_t g = 0; g < sc->backend_frames; g++)
		memset(bench_frame(b, b->self, g), POISON_BYTE, GNTDP_PAGE_SIZE);
	c->bench = b;
	c->share = (double)c->nb_q / b->nb_q;
	return 0;
}

static int
backend_main(struct bench *b, struct region *rg, unsigned int bk)
{
	const struct scenario *sc = &b->sc;
	struct proc *p = &rg->procs[sc->nb_frontends + bk];
	struct client *c = &rg->clients[bk];
	struct gntdp_hcall_cqe extra[4];

	p->domid = backend_id(sc, bk);
	/*
	 * This process's client: its entry of the shared array, which the parent
	 * reads. Backend 0 runs the controller, which looks at every client.
	 */
	b->clients = bk == 0 ? rg->clients : c;
	b->nb_clients = bk == 0 ? sc->nb_backends : 1;
	b->ticker = bk == 0;
	if (bk == 0) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	if (sc->nb_clients > 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(sc->client_lcores[bk % sc->nb_clients], &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			APP_LOG(WARNING, "backend %u: CPU %u: %s", p->domid,
				sc->client_lcores[bk % sc->nb_clients], strerror(errno));
	}
	if (proc_bind(b, p, p->domid, backend_ram_frames(sc), 0, sc->maptrack_frames) < 0 ||
	    backend_queues(b, rg, p, bk) < 0)
		return 1;
	atomic_store_explicit(&p->state, PS_READY, memory_order_release);
	atomic_fetch_add(&rg->sh->ready, 1);
	if (!wait_go(rg))
		return 1;
	if (bk == 0) {
		uint64_t tsc = rte_rdtsc();

		/* The parent set the first phase; the controller's clock starts here. */
		b->stop_phase = -1;
		b->ph_start = tsc;
		b->run_start = tsc;
		b->next_progress = tsc + b->tsc_hz;
		b->last_progress_tsc = tsc;
	}
	client_loop(c);
	/*
	 * The frontends' last checks before this domain goes: a map check
	 * reads the granter's GTF_reading, which this domain's death clears.
	 */
	for (unsigned int i = 0; i < c->nb_q; i++)
		checks_drain(b, c->q[i]);
	/* As bench_run's main lcore: the controller ends the drain once every client left. */
	while (bk == 0 && atomic_load(&b->sync->phase) != PH_DONE) {
		controller_tick(b, rte_rdtsc());
		sleep_us(50);
	}
	if (bk == 0) {
		rg->sh->peak_mops = b->peak_mops;
		rg->sh->stop_phase = b->stop_phase;
	}
	for (unsigned int i = 0; i < c->nb_q; i++) {
		struct cqueue *cq = c->q[i];

		c->q_lost += cq->head - cq->tail;
		c->q_calls += cq->hc_done;
		c->q_ops += cq->tail;
		/* Exactly once: nothing may complete after the last call was reaped. */
		if (cq->head == cq->tail && gntdp_client_reap(cq->cr, extra, 4) != 0) {
			c->st.dup_or_unknown++;
			snprintf(c->first_error, sizeof(c->first_error),
				 "queue %u: a completion after every call was reaped", cq->qid);
		}
		if (cq->hc_calls != cq->hc_done && c->first_error[0] == '\0')
			snprintf(c->first_error, sizeof(c->first_error),
				 "queue %u: %" PRIu64 " hypercalls posted, %" PRIu64 " completed",
				 cq->qid, cq->hc_calls, cq->hc_done);
	}
	if (bk == 0 && sc->raw_copy && !gntdp_dp_stop_requested())
		backend_rawcopy(b, rg);
	atomic_store_explicit(&p->state, PS_DONE, memory_order_release);
	return 0;
}

/* Fork one domain process; its pid, or -1. */
static pid_t
spawn(struct bench *b, struct region *rg, bool frontend, unsigned int idx)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid != 0)
		return pid;
	/* The child: dies with the parent; the parent's signals drive the phases. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGUSR1, on_signal);
	_exit(frontend ? frontend_main(b, rg, idx) : backend_main(b, rg, idx));
}

/* ---- the parent ---- */

struct kids {
	pid_t *pid;
	bool *reaped;
	unsigned int n;
};

/* Reap exited children; -1 (and which) when one left before it was done. */
static int
kids_poll(struct kids *k, struct region *rg, unsigned int *which)
{
	int st;

	for (unsigned int i = 0; i < k->n; i++) {
		if (k->reaped[i] || waitpid(k->pid[i], &st, WNOHANG) != k->pid[i])
			continue;
		k->reaped[i] = true;
		if (atomic_load(&rg->procs[i].state) != PS_DONE) {
			*which = i;
			if (rg->procs[i].why[0] == '\0')
				snprintf(rg->procs[i].why, sizeof(rg->procs[i].why),
					 "domain process %u (pid %d) %s %d before it was done", i,
					 (int)k->pid[i],
					 WIFSIGNALED(st) ? "killed by signal" : "exited",
					 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			return -1;
		}
	}
	return 0;
}

/* Wait for children [lo, hi) to exit within EXIT_TIMEOUT_S, then SIGKILL what is left. */
static void
kids_wait(struct kids *k, unsigned int lo, unsigned int hi)
{
	for (unsigned int t = 0; t < EXIT_TIMEOUT_S * 1000; t++) {
		bool all = true;

		for (unsigned int i = lo; i < hi; i++) {
			if (!k->reaped[i] && waitpid(k->pid[i], NULL, WNOHANG) == k->pid[i])
				k->reaped[i] = true;
			all &= k->reaped[i];
		}
		if (all)
			return;
		sleep_us(1000);
	}
	for (unsigned int i = lo; i < hi; i++) {
		if (!k->reaped[i]) {
			kill(k->pid[i], SIGKILL);
			waitpid(k->pid[i], NULL, 0);
			k->reaped[i] = true;
		}
	}
}

/* Setup: every child ready, or the first failure (logged). 0 or -1. */
static int
wait_ready(struct bench *b, struct region *rg, struct kids *k)
{
	unsigned int which = 0;
	uint64_t t0 = rte_rdtsc();

	while (atomic_load(&rg->sh->ready) < k->n) {
		for (unsigned int i = 0; i < k->n; i++) {
			if (atomic_load(&rg->procs[i].state) == PS_FAILED) {
				APP_LOG(ERR, "gntdp-bench: %s", rg->procs[i].why);
				return -1;
			}
		}
		if (kids_poll(k, rg, &which) < 0) {
			APP_LOG(ERR, "gntdp-bench: %s", rg->procs[which].why);
			return -1;
		}
		if (gntdp_dp_stop_requested())
			return -1;
		if (rte_rdtsc() - t0 > SETUP_TIMEOUT_S * b->tsc_hz) {
			APP_LOG(ERR, "gntdp-bench: the domain processes did not set up within %d s",
				SETUP_TIMEOUT_S);
			return -1;
		}
		sleep_us(1000);
	}
	return 0;
}

/* Start the run (backend 0's controller walks it), watch the children until it is done. */
static void
drive(struct bench *b, struct region *rg, struct kids *k, struct run_result *r)
{
	const struct scenario *sc = &b->sc;
	int ph = sc->rate_pct > 0 ? PH_CALIB : sc->warmup_s > 0 ? PH_WARMUP : PH_MEASURE;
	unsigned int which;
	bool passed_on = false;

	atomic_store(&b->sync->rate_mops, sc->rate_mops);
	atomic_store_explicit(&b->sync->phase, ph, memory_order_release);
	/* Release: the phase before go; the children acquire go. */
	atomic_store_explicit(&rg->sh->go, true, memory_order_release);
	/* Not busy-polling CPUs: this process only watches (under SCHED_FIFO it would wait). */
	sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){0});
	while (atomic_load(&b->sync->phase) != PH_DONE) {
		if (kids_poll(k, rg, &which) < 0) {
			snprintf(r->first_error, sizeof(r->first_error), "%s",
				 rg->procs[which].why);
			atomic_store(&b->sync->phase, PH_DONE);
		}
		if (gntdp_dp_stop_requested() && !passed_on) {
			kill(k->pid[sc->nb_frontends], SIGUSR1);
			passed_on = true;
		}
		sleep_us(1000);
	}
}

/* The parent's share of the result, after every child left. */
static void
collect_connect(struct bench *b, struct region *rg, struct run_result *r)
{
	const struct scenario *sc = &b->sc;
	char err[sizeof(r->first_error)];

	snprintf(err, sizeof(err), "%s", r->first_error);
	b->peak_mops = rg->sh->peak_mops;
	b->stop_phase = rg->sh->stop_phase;
	collect_clients(b, r);
	if (err[0] != '\0')
		snprintf(r->first_error, sizeof(r->first_error), "%s", err);
	for (unsigned int j = 0; j < sc->nb_backends; j++) {
		r->lost += rg->clients[j].q_lost;
		r->hc_calls += rg->clients[j].q_calls;
		r->hc_ops += rg->clients[j].q_ops;
	}
	for (unsigned int i = 0; i < sc->nb_frontends; i++) {
		const struct proc *p = &rg->procs[i];

		r->checks += p->checks;
		/* A failed check of a frontend is a wrong byte (or a wrong map state). */
		r->tot.bad_bytes += p->bad;
		r->src_corrupt += p->src_corrupt;
		if (atomic_load(&p->state) != PS_DONE) {
			r->src_corrupt++; /* its frames went unchecked */
			if (r->first_error[0] == '\0')
				snprintf(r->first_error, sizeof(r->first_error),
					 "frontend %u did not finish its checks", p->domid);
		}
		if (r->first_error[0] == '\0' && p->why[0] != '\0')
			snprintf(r->first_error, sizeof(r->first_error), "%s", p->why);
	}
	r->connect = true;
	r->processes = sc->nb_frontends + sc->nb_backends;
	snprintf(r->copy_kernel, sizeof(r->copy_kernel), "gntdpd's");
	r->raw_gbps = rg->sh->raw_gbps;
	r->raw_mops = rg->sh->raw_mops;
	r->raw_memcpy_gbps = rg->sh->raw_gbps;
	r->raw_min_gbps = rg->sh->raw_min_gbps;
	r->raw_max_gbps = rg->sh->raw_max_gbps;
	r->raw_rounds = rg->sh->raw_rounds;
	r->raw_round_s = rg->sh->raw_rounds ? RAW_ROUND_S : 0;
}

/* HELLO: the daemon is there and speaks our version; its worker count. */
static int
hello(struct bench *b)
{
	struct gntdp_client *cl;
	int rc = gntdp_client_connect(b->sc.connect, &cl);

	if (rc < 0) {
		APP_LOG(ERR,
			"gntdp-bench: cannot reach gntdpd at %s: %s (start it first: "
			"gntdpd --config configs/gntdpd/gntdpd.ini --socket %s)",
			b->sc.connect, strerror(-rc), b->sc.connect);
		return rc;
	}
	b->sc.nb_workers = gntdp_client_hello(cl)->nb_workers;
	gntdp_client_close(cl);
	return 0;
}

int
connect_run(struct bench *b, struct run_result *r)
{
	const struct scenario *sc = &b->sc;
	unsigned int nb_proc = sc->nb_frontends + sc->nb_backends;
	struct region rg;
	struct kids k = {.n = nb_proc};
	int rc;

	memset(r, 0, sizeof(*r));
	b->connect = true;
	b->tsc_hz = tsc_hz_measure();
	b->nb_q = sc->nb_backends * sc->queues_per_backend;
	rc = hello(b);
	if (rc < 0)
		return rc;
	build_mix(b);
	rc = region_map(b, &rg);
	k.pid = calloc(nb_proc, sizeof(*k.pid));
	k.reaped = calloc(nb_proc, sizeof(*k.reaped));
	if (rc < 0 || k.pid == NULL || k.reaped == NULL) {
		free(k.pid);
		free(k.reaped);
		return rc < 0 ? rc : -ENOMEM;
	}
	b->sync = &rg.sh->sync;
	rg.sh->stop_phase = -1;
	b->clients = rg.clients;
	b->nb_clients = sc->nb_backends;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < nb_proc; i++) {
		bool fe = i < sc->nb_frontends;

		k.pid[i] = spawn(b, &rg, fe, fe ? i : i - sc->nb_frontends);
		if (k.pid[i] < 0) {
			APP_LOG(ERR, "gntdp-bench: fork: %s", strerror(errno));
			k.n = i;
			break;
		}
	}
	rc = k.n == nb_proc ? wait_ready(b, &rg, &k) : -1;
	if (rc == 0) {
		drive(b, &rg, &k, r);
		/* Backends first (their checks are posted), then the frontends' last checks. */
		kids_wait(&k, sc->nb_frontends, k.n);
		atomic_store_explicit(&rg.sh->fe_stop, true, memory_order_release);
		kids_wait(&k, 0, sc->nb_frontends);
		collect_connect(b, &rg, r);
	} else {
		for (unsigned int i = 0; i < k.n; i++)
			kill(k.pid[i], SIGKILL);
		kids_wait(&k, 0, k.n);
	}
	b->clients = NULL;
	b->sync = &b->sync_local;
	munmap(rg.base, rg.size);
	free(k.pid);
	free(k.reaped);
	return rc < 0 ? -ECANCELED : 0;
}
