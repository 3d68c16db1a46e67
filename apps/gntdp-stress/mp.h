/* SPDX-License-Identifier: MIT */
/*
 * gntdp-stress's multi-process mode (docs/stress.md "Multi-process mode"):
 * the board that the driver (mp.c) and its client processes (mp_client.c)
 * share, a MAP_SHARED memfd the driver creates and every client inherits as
 * fd MP_BOARD_FD. No DPDK here: mp_client.c links libgntdp-client only.
 *
 * Domain slot s is domid s + 1. The driver owns gen and alive: before it
 * kills a client (or spawns one) it clears alive and bumps gen; the client
 * sets alive once its grants are written. A client that saw a peer alive
 * with the same gen before a call was submitted and after it completed holds
 * every op against that peer to GNTST_okay.
 */
#ifndef GNTDP_STRESS_MP_H
#define GNTDP_STRESS_MP_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define MP_MAX_SLOTS 32u
#define MP_BOARD_FD 3
#define MP_PAGE 4096u

/* stop: 0 run, 1 finish the current iteration and report, 2 end grants and exit. */
struct mp_slot {
	_Atomic uint32_t gen;
	_Atomic uint32_t alive;
	_Atomic uint32_t stopped;
	_Atomic uint32_t pid;
	_Atomic uint64_t calls, ops, okay, raced;
};

struct mp_board {
	_Atomic uint32_t stop;
	uint32_t nb_slots;
	struct mp_slot slot[MP_MAX_SLOTS];
};

/* Byte @p i of frame @p g of domid @p dom: what every incarnation of it writes. */
static inline uint8_t
mp_pattern(uint32_t dom, uint32_t g, uint32_t i)
{
	return (uint8_t)(i * 131u + g * 29u + dom * 71u + (i >> 8));
}

/* xorshift64: a value in [0, n) from *@p s (never 0). */
static inline uint32_t
mp_rnd(uint64_t *s, uint32_t n)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s % n);
}

static inline double
mp_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif /* GNTDP_STRESS_MP_H */
