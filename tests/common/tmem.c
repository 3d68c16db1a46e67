/* SPDX-License-Identifier: MIT */
/*
 * A counting frame provider for tests. It behaves like the heap provider
 * (aligned, zero-filled) but remembers every live allocation so a test can
 * prove that domain teardown returned all frames with the right base and
 * count, can make the Nth allocation fail (-ENOMEM paths), and can report an
 * I/O address different from the VA (so dev_bus_addr is shown to come from
 * virt2iova rather than from the pointer).
 */
#include <stdlib.h>
#include <string.h>

#include "tcommon.h"

struct tmem_rec {
	void *va;
	size_t nb_frames;
	struct tmem_rec *next;
};

static void *
tmem_alloc(void *arg, size_t nb_frames, int socket)
{
	struct tmem *m = arg;
	struct tmem_rec *r;
	void *va;

	(void)socket;
	m->nb_allocs++;
	if (m->fail_after != 0 && m->nb_allocs >= m->fail_after)
		return NULL;
	if (nb_frames == 0 || nb_frames > (SIZE_MAX >> GNTDP_PAGE_SHIFT))
		return NULL;
	r = malloc(sizeof(*r));
	if (r == NULL)
		return NULL;
	va = aligned_alloc(GNTDP_PAGE_SIZE, nb_frames << GNTDP_PAGE_SHIFT);
	if (va == NULL) {
		free(r);
		return NULL;
	}
	memset(va, 0, nb_frames << GNTDP_PAGE_SHIFT);
	r->va = va;
	r->nb_frames = nb_frames;
	r->next = m->records;
	m->records = r;
	m->live_allocs++;
	m->live_frames += nb_frames;
	return va;
}

static void
tmem_free(void *arg, void *va, size_t nb_frames)
{
	struct tmem *m = arg;
	struct tmem_rec **pp;

	for (pp = (struct tmem_rec **)&m->records; *pp != NULL; pp = &(*pp)->next) {
		struct tmem_rec *r = *pp;

		if (r->va != va)
			continue;
		if (r->nb_frames != nb_frames)
			m->bad_frees++;
		*pp = r->next;
		m->live_allocs--;
		m->live_frames -= r->nb_frames;
		free(r);
		free(va);
		return;
	}
	/* Unknown base: count it and leave the memory alone. */
	m->bad_frees++;
}

static uint64_t
tmem_virt2iova(void *arg, const void *va)
{
	struct tmem *m = arg;

	m->iova_calls++;
	return (uint64_t)(uintptr_t)va + m->iova_offset;
}

void
tmem_init(struct tmem *m, uint64_t iova_offset)
{
	memset(m, 0, sizeof(*m));
	m->iova_offset = iova_offset;
	m->ops.alloc = tmem_alloc;
	m->ops.free = tmem_free;
	m->ops.virt2iova = iova_offset != 0 ? tmem_virt2iova : NULL;
	m->ops.arg = m;
}

void
tmem_fini(struct tmem *m)
{
	struct tmem_rec *r = m->records;

	while (r != NULL) {
		struct tmem_rec *next = r->next;

		free(r->va);
		free(r);
		r = next;
	}
	m->records = NULL;
}
