/* SPDX-License-Identifier: MIT */
/*
 * gntdp-stress: helpers the generator files share (gen.c: commands 0-6 and the
 * result processing; gen_v2.c: the v2 granter and commands 7-12). Main thread only.
 */
#ifndef GNTDP_STRESS_GEN_H
#define GNTDP_STRESS_GEN_H

#include "model.h"

#define NO_GFN UINT32_MAX

static inline void *
op_at(struct qmodel *q, uint32_t i)
{
	return (uint8_t *)q->cur.ops + (size_t)i * op_size(q->cur.cmd);
}

/* Widen an exact expectation where guest activity races with the op. */
static inline uint32_t
racy(const struct sim *s, uint32_t exact, uint32_t wide)
{
	return s->conc ? wide : exact;
}

/* A random copy range: length, and offsets that keep it inside a page on both sides. */
void rand_range(struct qmodel *q, uint16_t *soff, uint16_t *doff, uint16_t *len);
/* A scratch frame of the queue's domain (not verified by the model). */
uint32_t pick_scratch(struct qmodel *q);
gntdp_domid_t bad_domid(struct qmodel *q);
/* Raw op @p i of q->cur: one hostile hypercall and what it must get (gen_hostile.c). */
void build_garbage(struct sim *s, struct qmodel *q, uint32_t i);
/* A guest address outside the caller's RAM (a frame list or an op array that faults). */
uint64_t bad_gaddr(struct qmodel *q);
/* A free gfn of the map area (NO_GFN when none), and giving it back. */
uint32_t take_gfn(struct qmodel *q);
void give_gfn(struct qmodel *q, uint32_t g);
uint32_t rand_map_flags(struct qmodel *q, bool ro_only, bool need_host_gfn);
/* A live mapping whose flags include @p need, -1 when none found. */
int pick_live_mapping(struct qmodel *q, uint8_t need);

#endif /* GNTDP_STRESS_GEN_H */
