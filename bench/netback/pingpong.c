/* SPDX-License-Identifier: MIT */
/*
 * Cache-line round trip between CPU 0 and CPU 1, in ns: how far apart the
 * two cores are. On a virtual machine the host may place the two vCPUs in
 * one core complex (~100 ns here) or across complexes (~500 ns), and every
 * ring-based forwarder (gntdp-netback and vhost-user alike) slows down in the
 * second case. bench/netback/run.sh records it around each run and compares
 * gntdp-netback and the peer only under the same placement.
 *
 *   pingpong [round trips]     (default 1000000)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Alignas(64) uint64_t ping;
static _Alignas(64) uint64_t pong;
static uint64_t rounds = 1000000;

static void
pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static void *
peer(void *arg)
{
	(void)arg;
	pin(1);
	for (uint64_t i = 1; i <= rounds; i++) {
		/* Acquire pairs with the release store in main; and the reverse. */
		while (__atomic_load_n(&ping, __ATOMIC_ACQUIRE) != i)
			;
		__atomic_store_n(&pong, i, __ATOMIC_RELEASE);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct timespec s, e;
	pthread_t t;

	if (argc > 1)
		rounds = strtoull(argv[1], NULL, 10);
	pin(0);
	if (rounds == 0 || pthread_create(&t, NULL, peer, NULL) != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &s);
	for (uint64_t i = 1; i <= rounds; i++) {
		__atomic_store_n(&ping, i, __ATOMIC_RELEASE);
		while (__atomic_load_n(&pong, __ATOMIC_ACQUIRE) != i)
			;
	}
	clock_gettime(CLOCK_MONOTONIC, &e);
	pthread_join(t, NULL);
	printf("%.1f\n", ((double)(e.tv_sec - s.tv_sec) * 1e9 + (double)(e.tv_nsec - s.tv_nsec)) /
				 (double)rounds);
	return 0;
}
