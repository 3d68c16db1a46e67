/* SPDX-License-Identifier: MIT */
/*
 * The process-wide side of the drop-in libxengnttab: one connection to
 * gntdpd per process (the domain $GNTDP_DOMID), shared by every handle, and
 * the allocators over that domain's physmap:
 *
 *  - RAM frames [0, nr_frames): the program never sees the domain's RAM,
 *    so the library owns it (op arrays, bounce frames);
 *  - host-map window gfns [nr_frames + GNTDP_CTL_SHARE_GFNS, + GNTDP_CTL_MAP_GFNS)
 *    (the contract of docs/daemon.md "Physmap layout"): where
 *    GNTTABOP_map_grant_ref puts the frames that map.c then maps here;
 *  - grant refs of the own table, never 0..7 (Xen reserves them; libxenvchan
 *    takes 0 for "none").
 *
 * The connection is gntdp_client_self_get()'s (shared with libxenevtchn in
 * the same process); the allocators are set up by the first handle on it
 * and each has a lock of its own, held only for the bitmap scan. After
 * fork() a child that opens a handle gets a new connection (the parent's
 * is left alone: only close is allowed on inherited handles).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "xg.h"

#ifndef GNTDP_CTL_SHARE_GFNS
#define GNTDP_CTL_SHARE_GFNS 32768u
#endif
#ifndef GNTDP_CTL_MAP_GFNS
#define GNTDP_CTL_MAP_GFNS 32768u
#endif

struct bitmap {
	pthread_mutex_t lock;
	uint64_t *w;
	uint32_t n;  /* bits */
	uint32_t lo; /* first allocatable bit */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct gntdp_client *c;
	unsigned int refs;
	pid_t pid;
	uint32_t nr_frames;
	struct bitmap ram, mapgfn, gref;
} g = {
	.ram.lock = PTHREAD_MUTEX_INITIALIZER,
	.mapgfn.lock = PTHREAD_MUTEX_INITIALIZER,
	.gref.lock = PTHREAD_MUTEX_INITIALIZER,
};

int
xg_fail(int err)
{
	errno = err < 0 ? -err : err;
	return -1;
}

void *
xg_fail_ptr(int err)
{
	errno = err < 0 ? -err : err;
	return NULL;
}

static int
bm_init(struct bitmap *b, uint32_t n, uint32_t lo)
{
	free(b->w);
	b->w = calloc(((size_t)n + 63) / 64, sizeof(uint64_t));
	if (b->w == NULL)
		return -ENOMEM;
	b->n = n;
	b->lo = lo;
	return 0;
}

static bool
bm_test(const struct bitmap *b, uint32_t i)
{
	return (b->w[i / 64] >> (i % 64)) & 1u;
}

static void
bm_set(struct bitmap *b, uint32_t i, bool v)
{
	if (v)
		b->w[i / 64] |= UINT64_C(1) << (i % 64);
	else
		b->w[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* First run of @n clear bits (first fit); -ENOSPC when none. */
static int
bm_alloc_run(struct bitmap *b, unsigned int n, uint32_t *first)
{
	int rc = -ENOSPC;

	pthread_mutex_lock(&b->lock);
	for (uint32_t i = b->lo, run = 0; i < b->n && n > 0; i++) {
		run = bm_test(b, i) ? 0 : run + 1;
		if (run == n) {
			*first = i + 1 - n;
			for (uint32_t k = *first; k <= i; k++)
				bm_set(b, k, true);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

/* @n clear bits anywhere; all or none. */
static int
bm_alloc_each(struct bitmap *b, unsigned int n, uint32_t *out)
{
	unsigned int got = 0;

	pthread_mutex_lock(&b->lock);
	for (uint32_t i = b->lo; i < b->n && got < n; i++) {
		if (!bm_test(b, i)) {
			bm_set(b, i, true);
			out[got++] = i;
		}
	}
	if (got < n)
		for (unsigned int k = 0; k < got; k++)
			bm_set(b, out[k], false);
	pthread_mutex_unlock(&b->lock);
	return got == n ? 0 : -ENOSPC;
}

static void
bm_free(struct bitmap *b, uint32_t i)
{
	pthread_mutex_lock(&b->lock);
	if (i >= b->lo && i < b->n)
		bm_set(b, i, false);
	pthread_mutex_unlock(&b->lock);
}

/* The allocators of a (new) connection's domain. */
static int
self_init(struct gntdp_client *c)
{
	uint32_t nr_entries = 0;
	int rc;

	gntdp_client_ram(c, &g.nr_frames);
	gntdp_client_table(c, &nr_entries);
	rc = bm_init(&g.ram, g.nr_frames, 0);
	if (rc == 0)
		rc = bm_init(&g.mapgfn, GNTDP_CTL_MAP_GFNS, 0);
	if (rc == 0)
		rc = bm_init(&g.gref, nr_entries, GNTDP_GNTTAB_NR_RESERVED_ENTRIES);
	return rc;
}

int
xg_self_get(struct gntdp_client **out)
{
	struct gntdp_client *c;
	int rc;

	rc = gntdp_client_self_get(&c);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&g_lock);
	if (g.c != c || g.pid != getpid()) {
		/* The first handle on this connection (or in this forked child). */
		rc = self_init(c);
		g.c = rc == 0 ? c : NULL;
		g.refs = 0;
		g.pid = getpid();
	}
	if (rc == 0)
		g.refs++;
	pthread_mutex_unlock(&g_lock);
	if (rc != 0) {
		gntdp_client_self_put(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
xg_self_put(struct gntdp_client *c)
{
	pthread_mutex_lock(&g_lock);
	if (c == g.c && g.pid == getpid() && g.refs > 0 && --g.refs == 0)
		g.c = NULL;
	pthread_mutex_unlock(&g_lock);
	gntdp_client_self_put(c);
}

int
xg_ram_alloc(unsigned int n, uint32_t *first)
{
	return bm_alloc_run(&g.ram, n, first) == 0 ? 0 : -ENOMEM;
}

void
xg_ram_free(uint32_t first, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		bm_free(&g.ram, first + i);
}

int
xg_mapgfn_alloc(unsigned int n, uint64_t *out)
{
	uint64_t base = (uint64_t)g.nr_frames + GNTDP_CTL_SHARE_GFNS;
	uint32_t *idx;
	int rc;

	if (n == 0 || n > GNTDP_CTL_MAP_GFNS)
		return -ENOSPC;
	idx = malloc(sizeof(*idx) * n);
	if (idx == NULL)
		return -ENOMEM;
	rc = bm_alloc_each(&g.mapgfn, n, idx);
	for (unsigned int i = 0; rc == 0 && i < n; i++)
		out[i] = base + idx[i];
	free(idx);
	return rc;
}

void
xg_mapgfn_free(const uint64_t *gfns, unsigned int n)
{
	uint64_t base = (uint64_t)g.nr_frames + GNTDP_CTL_SHARE_GFNS;

	for (unsigned int i = 0; i < n; i++)
		if (gfns[i] >= base)
			bm_free(&g.mapgfn, (uint32_t)(gfns[i] - base));
}

int
xg_gref_alloc(unsigned int n, uint32_t *out)
{
	if (n == 0 || n > g.gref.n)
		return -ENOSPC;
	return bm_alloc_each(&g.gref, n, out);
}

void
xg_gref_free(const uint32_t *refs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		bm_free(&g.gref, refs[i]);
}

/* Set once a daemon refused SEND_EVENT (-EOPNOTSUPP): later notifications ask for the byte only. */
static atomic_bool g_no_events;

int
xg_notify_set(struct xg_handle *h, uint32_t kind, uint64_t gfn, uint32_t offset, uint32_t port,
	      uint32_t granter, uint32_t ref, uint32_t *id)
{
	struct gntdp_client_notify n = {.kind = kind, .gfn = gfn};
	int rc;

	*id = 0;
	if (offset < XG_PAGE) {
		n.flags |= GNTDP_CTL_NOTIFY_CLEAR_BYTE;
		n.offset = offset;
	}
	if (port != UINT32_MAX && port != 0 && !atomic_load(&g_no_events)) {
		n.flags |= GNTDP_CTL_NOTIFY_SEND_EVENT;
		n.port = port;
	}
	if (kind == GNTDP_CTL_NOTIFY_MAP) {
		n.granter = (gntdp_domid_t)granter;
		n.ref = ref;
	}
	if (n.flags == 0)
		return 0;
	rc = gntdp_client_notify_set(h->c, &n, id);
	if (rc == -EOPNOTSUPP && (n.flags & GNTDP_CTL_NOTIFY_SEND_EVENT)) {
		/* A daemon without event channels: the byte alone (docs/daemon.md). */
		atomic_store(&g_no_events, true);
		n.flags &= ~GNTDP_CTL_NOTIFY_SEND_EVENT;
		n.port = 0;
		rc = n.flags != 0 ? gntdp_client_notify_set(h->c, &n, id) : 0;
	}
	return rc;
}

void
xg_notify_fire(struct xg_handle *h, uint32_t id)
{
	if (id != 0)
		gntdp_client_notify_fire(h->c, id, false);
}
