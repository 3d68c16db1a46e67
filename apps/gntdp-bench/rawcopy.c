/* SPDX-License-Identifier: MIT */
/*
 * The physical limit beside each run: after the workers stop, each worker
 * lcore copies the very frames its queues used (same source and destination
 * addresses, offsets and lengths, in the same slot order) in a plain loop,
 * with glibc memcpy and with the data plane's copy kernel, and the faster of
 * the two is "raw". The ratio gntdp / raw is therefore measured in one
 * process, one run, on the same cores and the same cache state.
 *
 * Timing: RAW_ROUNDS rounds of RAW_SECONDS per kernel, the two kernels
 * alternating round by round, and each kernel's figure the median of its
 * rounds. One 0.3 s pass per kernel varied 43-50 GB/s between runs (a
 * neighbour's burst, a vCPU moved by the host, frequency): the median of
 * interleaved rounds leaves such an event in one round of each kernel, so
 * the spread of gntdp / raw is gntdp's. The slowest and fastest round of the
 * best kernel are reported beside it.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "bench.h"

/* Each kernel is timed RAW_ROUNDS times this long per worker, interleaved: 2.8 s in all. */
#define RAW_SECONDS 0.2
#define RAW_ROUNDS 7
/* Longest copy list per worker; the list repeats, as the slots do. */
#define RAW_MAX_COPIES 65536

struct raw_copy {
	uint8_t *dst;
	const uint8_t *src;
	uint32_t len;
};

struct raw_job {
	struct raw_copy *list;
	unsigned int n;
	gntdp_copy_fn fn;
	uint64_t tsc_hz;
	uint64_t copies;
	uint64_t bytes;
	uint64_t cycles;
};

static void
memcpy_fn(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

static int
raw_loop(void *arg)
{
	struct raw_job *j = arg;
	uint64_t limit = (uint64_t)(RAW_SECONDS * (double)j->tsc_hz), t0, t;
	gntdp_copy_fn fn = j->fn;

	/* One untimed pass warms the caches as the ring run left them warm. */
	for (unsigned int i = 0; i < j->n; i++)
		fn(j->list[i].dst, j->list[i].src, j->list[i].len);
	t0 = rte_rdtsc();
	do {
		for (unsigned int i = 0; i < j->n; i++) {
			fn(j->list[i].dst, j->list[i].src, j->list[i].len);
			j->bytes += j->list[i].len;
		}
		j->copies += j->n;
		t = rte_rdtsc();
	} while (t - t0 < limit);
	j->cycles = t - t0;
	return 0;
}

/* The valid copies the clients post on worker w's queues, slot by slot. */
static unsigned int
build_list(struct bench *b, unsigned int w, struct raw_copy *list)
{
	const struct scenario *sc = &b->sc;
	unsigned int n = 0;

	for (unsigned int i = 0; i < b->nb_q; i++) {
		struct cqueue *cq = &b->cq[i];
		uint64_t period = (uint64_t)cq->depth * sc->nb_sizes * 100;

		if (cq->qid % sc->nb_workers != w)
			continue;
		for (uint64_t seq = 0; seq < period && n < RAW_MAX_COPIES; seq++) {
			const struct slot_frames *fr = &cq->fr[seq & (cq->depth - 1)];

			if (b->class_tab[seq % 100] != RK_COPY_GG)
				continue;
			list[n].src = fr->tx + sc->src_offset;
			list[n].dst = (b->gg_tab[seq % 100] ? fr->rx : fr->bf) + sc->dst_offset;
			list[n].len = sc->copy_sizes[seq % sc->nb_sizes];
			n++;
		}
	}
	return n;
}

static void
memmove_fn(void *dst, const void *src, size_t n)
{
	memmove(dst, src, n);
}

/* The data plane's kernel by the name gntdp_dp_copy_name() reports (its public lookup). */
static gntdp_copy_fn
dp_kernel(const char *name)
{
	gntdp_copy_fn fn;

	if (gntdp_dp_copy_kernel(name, &fn, NULL) != 0)
		return NULL;
	return fn != NULL ? fn : memmove_fn;
}

/* Run fn on every worker lcore at once; returns summed GB/s and Mcopies/s. */
static int
run_all(struct bench *b, struct raw_job *jobs, gntdp_copy_fn fn, double *gbps, double *mops)
{
	unsigned int nw = b->sc.nb_workers;

	*gbps = 0;
	*mops = 0;
	for (unsigned int w = 0; w < nw; w++) {
		jobs[w].fn = fn;
		jobs[w].copies = jobs[w].bytes = jobs[w].cycles = 0;
		if (rte_eal_remote_launch(raw_loop, &jobs[w], b->sc.worker_lcores[w]) < 0)
			return -EBUSY;
	}
	for (unsigned int w = 0; w < nw; w++) {
		double s;

		rte_eal_wait_lcore(b->sc.worker_lcores[w]);
		s = (double)jobs[w].cycles / (double)b->tsc_hz;
		if (s > 0) {
			*gbps += (double)jobs[w].bytes / s / 1e9;
			*mops += (double)jobs[w].copies / s / 1e6;
		}
	}
	return 0;
}

_Static_assert(RAW_ROUNDS % 2 == 1, "the median of the rounds is the middle one");

/* Sort the RAW_ROUNDS rounds in place (a few values: insertion) and return the middle one. */
static double
rounds_median(double *v)
{
	for (unsigned int i = 1; i < RAW_ROUNDS; i++) {
		double x = v[i];
		unsigned int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[RAW_ROUNDS / 2];
}

/* Rounds of memcpy and kfn (NULL: memcpy only), alternating; medians per kernel. */
static int
run_rounds(struct bench *b, struct raw_job *jobs, gntdp_copy_fn kfn, double gbps[2][RAW_ROUNDS],
	   double mops[2][RAW_ROUNDS])
{
	int rc = 0;

	for (unsigned int i = 0; i < RAW_ROUNDS && rc == 0; i++) {
		/* Alternate which one goes first, so neither always follows the other. */
		for (unsigned int k = 0; k < 2 && rc == 0; k++) {
			unsigned int which = (i + k) % 2;

			if (which == 1 && kfn == NULL)
				continue;
			rc = run_all(b, jobs, which ? kfn : memcpy_fn, &gbps[which][i],
				     &mops[which][i]);
		}
	}
	return rc;
}

int
rawcopy_measure(struct bench *b, struct run_result *r)
{
	unsigned int nw = b->sc.nb_workers;
	struct raw_job *jobs = calloc(nw, sizeof(*jobs));
	gntdp_copy_fn kfn = dp_kernel(b->copy_name);
	double gbps[2][RAW_ROUNDS] = {{0}}, mops[2][RAW_ROUNDS] = {{0}};
	double mc_gbps, mc_mops, k_gbps = 0, k_mops = 0;
	unsigned int best;
	int rc = -ENOMEM;

	if (jobs == NULL)
		return -ENOMEM;
	for (unsigned int w = 0; w < nw; w++) {
		jobs[w].list = calloc(RAW_MAX_COPIES, sizeof(struct raw_copy));
		if (jobs[w].list == NULL)
			goto out;
		jobs[w].n = build_list(b, w, jobs[w].list);
		jobs[w].tsc_hz = b->tsc_hz;
		if (jobs[w].n == 0) {
			rc = 0; /* no valid copies in this scenario: nothing to compare with */
			goto out;
		}
	}
	rc = run_rounds(b, jobs, kfn, gbps, mops);
	if (rc < 0)
		goto out;
	mc_mops = rounds_median(mops[0]);
	mc_gbps = rounds_median(gbps[0]);
	if (kfn != NULL) {
		k_mops = rounds_median(mops[1]);
		k_gbps = rounds_median(gbps[1]);
	}
	best = mc_gbps > k_gbps ? 0 : 1;
	r->raw_memcpy_gbps = mc_gbps;
	r->raw_kernel_gbps = k_gbps;
	r->raw_gbps = best ? k_gbps : mc_gbps;
	r->raw_mops = best ? k_mops : mc_mops;
	/* rounds_median() sorted the rounds. */
	r->raw_min_gbps = gbps[best][0];
	r->raw_max_gbps = gbps[best][RAW_ROUNDS - 1];
	r->raw_rounds = RAW_ROUNDS;
	r->raw_round_s = RAW_SECONDS;
out:
	for (unsigned int w = 0; w < nw; w++)
		free(jobs[w].list);
	free(jobs);
	return rc;
}

/*
 * Cache-line round trip between the main lcore and the first worker lcore:
 * the floor of every ring handoff. On a VM it also tells where the host put
 * the two vCPUs: on the machine of bench/results, about 55 ns (same core
 * complex) or about 300 ns (not), and the ring throughput follows it.
 */
#define RTT_ROUNDS 20000

struct rtt_line {
	alignas(64) _Atomic uint64_t seq;
};

static int
rtt_pong(void *arg)
{
	struct rtt_line *l = arg;

	for (uint64_t i = 0; i < RTT_ROUNDS; i++) {
		/* Acquire/release pair with the ping loop below: each side waits for the other's
		 * store. */
		while (atomic_load_explicit(&l->seq, memory_order_acquire) != 2 * i + 1)
			rte_pause();
		atomic_store_explicit(&l->seq, 2 * i + 2, memory_order_release);
	}
	return 0;
}

double
xcore_rtt_ns(struct bench *b)
{
	static struct rtt_line line;
	unsigned int peer = b->sc.worker_lcores[0];
	uint64_t t0, t1;

	atomic_store(&line.seq, 0);
	if (rte_eal_remote_launch(rtt_pong, &line, peer) < 0)
		return 0;
	t0 = rte_rdtsc();
	for (uint64_t i = 0; i < RTT_ROUNDS; i++) {
		atomic_store_explicit(&line.seq, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(&line.seq, memory_order_acquire) != 2 * i + 2)
			rte_pause();
	}
	t1 = rte_rdtsc();
	rte_eal_wait_lcore(peer);
	return (double)(t1 - t0) * 1e9 / (double)rte_get_tsc_hz() / RTT_ROUNDS;
}
