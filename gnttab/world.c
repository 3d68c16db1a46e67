/* SPDX-License-Identifier: MIT */
/*
 * The world: configuration, frame segments and page references, execution
 * contexts and the quiescent-state tracking that lets domain destruction run
 * while other threads execute batches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *
heap_alloc(void *arg, size_t nb_frames, int socket)
{
	(void)arg;
	(void)socket;
	void *va = aligned_alloc(GNTDP_PAGE_SIZE, nb_frames * GNTDP_PAGE_SIZE);

	if (va != NULL)
		memset(va, 0, nb_frames * GNTDP_PAGE_SIZE);
	return va;
}

static void
heap_free(void *arg, void *va, size_t nb_frames)
{
	(void)arg;
	(void)nb_frames;
	free(va);
}

const struct gntdp_mem_ops gntdp_mem_ops_heap = {
	.alloc = heap_alloc,
	.free = heap_free,
	.virt2iova = NULL,
	.arg = NULL,
};

static void
log_stderr(void *arg, enum gntdp_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "gntdp: %s\n", line);
}

void
gt_log(struct gntdp_gnttab *gt, enum gntdp_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	gt->log(gt->log_arg, level, line);
}

void
gntdp_gnttab_conf_init(struct gntdp_gnttab_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->mem = &gntdp_mem_ops_heap;
	conf->max_ctx = 64;
	conf->log = log_stderr;
}

int
gntdp_gnttab_create(const struct gntdp_gnttab_conf *conf, struct gntdp_gnttab **out)
{
	struct gntdp_gnttab *gt;

	if (conf == NULL || out == NULL || conf->mem == NULL || conf->mem->alloc == NULL ||
	    conf->mem->free == NULL || conf->max_ctx == 0 || conf->max_ctx > 4096)
		return -EINVAL;
	gt = calloc(1, sizeof(*gt));
	if (gt == NULL)
		return -ENOMEM;
	gt->ctxs = calloc(conf->max_ctx, sizeof(*gt->ctxs));
	if (gt->ctxs == NULL) {
		free(gt);
		return -ENOMEM;
	}
	gt->mem = *conf->mem;
	gt->log = conf->log != NULL ? conf->log : log_stderr;
	gt->log_arg = conf->log_arg;
	gt->max_ctx = conf->max_ctx;
	gt->no_transfer = conf->no_transfer;
	atomic_init(&gt->next_uid, 1);
	*out = gt;
	return 0;
}

void
gntdp_gnttab_destroy(struct gntdp_gnttab *gt)
{
	if (gt == NULL)
		return;
	/* Mappers first would be ideal; any order works: a granter that is still
	 * mapped stays a zombie until its mapper's destruction unmaps it. */
	for (unsigned int id = 0; id < NR_DOMIDS; id++) {
		if (atomic_load_explicit(&gt->doms[id], memory_order_relaxed) != NULL)
			gntdp_domain_destroy(gt, (gntdp_domid_t)id);
	}
	graveyard_reclaim(gt);
	free(gt->ctxs);
	free(gt);
}

/* ---- Segments and pages ------------------------------------------------ */

struct segment *
seg_alloc(struct gntdp_gnttab *gt, uint32_t nb_frames, int socket)
{
	struct segment *seg;
	uint8_t *va;

	seg = calloc(1, sizeof(*seg) + (size_t)nb_frames * sizeof(struct page));
	if (seg == NULL)
		return NULL;
	va = gt->mem.alloc(gt->mem.arg, nb_frames, socket);
	if (va == NULL) {
		free(seg);
		return NULL;
	}
	seg->gt = gt;
	seg->va = va;
	seg->nb_frames = nb_frames;
	seg->base_mfn = atomic_fetch_add_explicit(&gt->next_mfn, nb_frames, memory_order_relaxed);
	atomic_init(&seg->live, nb_frames + 1);
	for (uint32_t i = 0; i < nb_frames; i++) {
		struct page *pg = &seg->pages[i];

		pg->va = va + (size_t)i * GNTDP_PAGE_SIZE;
		pg->iova = gt->mem.virt2iova != NULL ? gt->mem.virt2iova(gt->mem.arg, pg->va)
						     : (uint64_t)(uintptr_t)pg->va;
		pg->mfn = seg->base_mfn + i;
		pg->seg = seg;
		atomic_init(&pg->refs, 1);
		atomic_init(&pg->owner, NULL);
	}
	spin_lock(&gt->seg_lock);
	seg->next = gt->segs;
	if (gt->segs != NULL)
		gt->segs->prev = seg;
	gt->segs = seg;
	spin_unlock(&gt->seg_lock);
	return seg;
}

/* Drop one live count; the last one returns the memory to the provider. */
void
seg_put(struct segment *seg)
{
	struct gntdp_gnttab *gt = seg->gt;

	if (atomic_fetch_sub_explicit(&seg->live, 1, memory_order_acq_rel) == 1) {
		spin_lock(&gt->seg_lock);
		if (seg->prev != NULL)
			seg->prev->next = seg->next;
		else
			gt->segs = seg->next;
		if (seg->next != NULL)
			seg->next->prev = seg->prev;
		spin_unlock(&gt->seg_lock);
		gt->mem.free(gt->mem.arg, seg->va, seg->nb_frames);
		free(seg);
	}
}

/* Take a reference on a live page unless it is dead or being stolen. */
static bool
page_ref_any(struct page *pg)
{
	unsigned int r = atomic_load_explicit(&pg->refs, memory_order_relaxed);

	do {
		if (r == 0 || (r & PAGE_LOCKED) != 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&pg->refs, &r, r + 1, memory_order_acquire,
							memory_order_relaxed));
	return true;
}

/*
 * The live frame whose I/O ("machine") address frame is @maddr >> 12, with a
 * reference taken; NULL when no frame of this world has that address.
 * Segments are usually I/O-contiguous: index by the base, scan otherwise.
 */
struct page *
page_by_maddr(struct gntdp_gnttab *gt, uint64_t maddr)
{
	uint64_t fn = maddr >> GNTDP_PAGE_SHIFT;
	struct page *found = NULL;

	spin_lock(&gt->seg_lock);
	for (struct segment *seg = gt->segs; seg != NULL && found == NULL; seg = seg->next) {
		uint64_t base = seg->pages[0].iova >> GNTDP_PAGE_SHIFT;

		if (fn >= base && fn - base < seg->nb_frames &&
		    (seg->pages[fn - base].iova >> GNTDP_PAGE_SHIFT) == fn) {
			found = &seg->pages[fn - base];
			break;
		}
		if ((seg->pages[seg->nb_frames - 1].iova >> GNTDP_PAGE_SHIFT) ==
		    base + seg->nb_frames - 1)
			continue; /* I/O-contiguous: the index above was the only candidate */
		for (uint32_t i = 0; i < seg->nb_frames; i++) {
			if ((seg->pages[i].iova >> GNTDP_PAGE_SHIFT) == fn) {
				found = &seg->pages[i];
				break;
			}
		}
	}
	/* Under the lock the segment cannot be freed; a dead page is refused. */
	if (found != NULL && !page_ref_any(found))
		found = NULL;
	spin_unlock(&gt->seg_lock);
	return found;
}

/* Drop a page reference; the last one kills the page. */
void
page_put(struct page *pg)
{
	if (atomic_fetch_sub_explicit(&pg->refs, 1, memory_order_acq_rel) == 1)
		seg_put(pg->seg);
}

/*
 * Take a reference on a live page owned by @owner. Fails if the page is
 * dead, being stolen, or owned by someone else (checked after the reference
 * is taken, so a concurrent transfer, which needs refs == 1, cannot slip in).
 */
bool
page_get(struct page *pg, const struct domain *owner)
{
	if (!page_ref_any(pg))
		return false;
	if (atomic_load_explicit(&pg->owner, memory_order_acquire) != owner) {
		page_put(pg);
		return false;
	}
	return true;
}

/* ---- Contexts and quiescent states ------------------------------------- */

int
gntdp_gnttab_ctx_create(struct gntdp_gnttab *gt, const struct gntdp_gnttab_cache_conf *cache,
			struct gntdp_gnttab_ctx **out)
{
	struct gntdp_gnttab_ctx *ctx;
	unsigned int nb = 64;
	bool persistent = false;

	if (gt == NULL || out == NULL)
		return -EINVAL;
	if (cache != NULL) {
		nb = cache->nb_entries;
		persistent = cache->persistent;
		if (nb < 2 || nb > 4096 || (nb & (nb - 1)) != 0)
			return -EINVAL;
	}
	ctx = aligned_alloc(64, (sizeof(*ctx) + 63) & ~(size_t)63);
	if (ctx == NULL)
		return -ENOMEM;
	memset(ctx, 0, sizeof(*ctx));
	ctx->cache = calloc(nb, sizeof(*ctx->cache));
	if (ctx->cache == NULL) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->gt = gt;
	ctx->persistent = persistent;
	ctx->cache_half = nb / 2;
	ctx->cache_ways = ctx->cache_half < CACHE_WAYS ? ctx->cache_half : CACHE_WAYS;
	ctx->set_mask = ctx->cache_half / ctx->cache_ways - 1;
	ctx->copy = NULL;
	atomic_init(&ctx->qs, 0);
	for (unsigned int i = 0; i < gt->max_ctx; i++) {
		struct gntdp_gnttab_ctx *expect = NULL;

		if (atomic_compare_exchange_strong(&gt->ctxs[i], &expect, ctx)) {
			ctx->slot = i;
			*out = ctx;
			return 0;
		}
	}
	free(ctx->cache);
	free(ctx);
	return -ENOSPC;
}

void
gntdp_gnttab_ctx_destroy(struct gntdp_gnttab_ctx *ctx)
{
	if (ctx == NULL)
		return;
	cache_release_all(ctx);
	atomic_store(&ctx->gt->ctxs[ctx->slot], NULL);
	free(ctx->cache);
	free(ctx);
}

void
gntdp_gnttab_ctx_set_copy(struct gntdp_gnttab_ctx *ctx, gntdp_copy_fn fn)
{
	ctx->copy = fn;
}

void
gntdp_gnttab_ctx_set_now(struct gntdp_gnttab_ctx *ctx, uint64_t now)
{
	/* Never backwards: the cache's age list is ordered by this clock. */
	if (now > ctx->now)
		ctx->now = now;
}

void
gntdp_gnttab_ctx_quiescent(struct gntdp_gnttab_ctx *ctx)
{
	/* Between calls a context holds no unreferenced domain pointer: cached
	 * pins keep their granters alive, callers are keyed by uid. Nothing to
	 * publish beyond the even qs value the batch exit already stored. */
	(void)ctx;
}

_Static_assert(sizeof(struct gntdp_gnttab_ctx_stats) % sizeof(uint64_t) == 0,
	       "ctx stats are read as an array of u64");

void
gntdp_gnttab_ctx_stats(const struct gntdp_gnttab_ctx *ctx, struct gntdp_gnttab_ctx_stats *out)
{
	/* Field by field with relaxed loads: pairs with STAT_ADD on the owner thread. */
	const uint64_t *from = (const uint64_t *)(const void *)&ctx->st;
	uint64_t *to = (uint64_t *)(void *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

/*
 * Wait until every context that was inside a batch when we started has left
 * it. The caller has already unlinked a domain (seq_cst store); a context
 * entering a batch stores an odd qs and then issues a seq_cst fence before
 * its first lookup, so either we see it odd here or it cannot see the domain.
 */
void
qsbr_wait(struct gntdp_gnttab *gt)
{
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned int i = 0; i < gt->max_ctx; i++) {
		struct gntdp_gnttab_ctx *ctx = atomic_load(&gt->ctxs[i]);
		unsigned long v;

		if (ctx == NULL)
			continue;
		v = atomic_load_explicit(&ctx->qs, memory_order_acquire);
		if ((v & 1) == 0)
			continue;
		while (atomic_load_explicit(&ctx->qs, memory_order_acquire) == v)
			cpu_relax();
	}
	/* Readers of gntdp_domain_frame/info and gntdp_guest_table are short: wait them out. */
	while (atomic_load_explicit(&gt->ctl_readers, memory_order_acquire) != 0)
		cpu_relax();
}
