/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the drop-in libxengnttab.so.1 (xen/gnttab/): the handle
 * both halves share, the process-wide connection to gntdpd and the
 * process-wide allocators over the domain's physmap. Not installed.
 *
 * The library is a client of gntdpd (docs/daemon.md "Xen drop-ins:
 * libxengnttab"): one connection per process binds $GNTDP_DOMID; each
 * xengnttab handle has a hypercall ring of its own; the domain's RAM is the
 * library's (the program never sees it): op arrays and bounce frames live
 * there. It never includes Debian's <xengnttab.h>: the prototypes are
 * declared here with the same types, and tests/xen checks the ABI struct
 * against Debian's header.
 */
#ifndef GNTDP_XEN_XG_H
#define GNTDP_XEN_XG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gntdp/client.h>

#define XG_PAGE GNTDP_PAGE_SIZE
/* Chunks of one GNTTABOP_copy hypercall (Linux's gntdev batches 16). */
#define XG_COPY_BATCH 32u

/* xengnttab_grant_copy_segment_t, as Debian's <xengnttab.h> (24 bytes on x86-64). */
struct xg_copy_seg {
	union xg_copy_ptr {
		void *virt;
		struct {
			uint32_t ref;
			uint16_t offset;
			uint16_t domid;
		} foreign;
	} source, dest;
	uint16_t len;
	uint16_t flags;
	int16_t status;
};

struct xg_map; /* one map_grant_ref(s) unit (map.c) */
struct xg_share; /* one share_pages unit (gntshr.c) */

/* Per-handle state of xengnttab_grant_copy (lazily made on the first call). */
struct xg_copy {
	struct gntdp_gnttab_copy *ops; /* one RAM frame */
	uint32_t ops_gfn;
	uint32_t bounce_gfn[XG_COPY_BATCH]; /* one RAM frame per chunk */
	int16_t *status[XG_COPY_BATCH];     /* the segment each chunk belongs to */
	void *out[XG_COPY_BATCH];           /* dest virt to copy out to, NULL: none */
	unsigned int nr_ops;
};

/* xengnttab_handle and xengntshr_handle (Debian: struct xengntdev_handle). */
struct xg_handle {
	bool shr;                     /* gntshr half */
	pid_t pid;                    /* opener: after fork() the child may only close */
	struct gntdp_client *c;       /* the process-wide connection */
	struct gntdp_client_ring *r;  /* gnttab: this handle's hypercall ring */
	pthread_mutex_t lock;         /* the handle's lists, copy state and ring */
	struct xg_copy *copy;
	uint32_t ops_gfn;             /* RAM frame for map/unmap/setup_table op arrays */
	bool ops_valid;
	struct xg_map *maps;
	struct xg_share *shares;       /* live shares */
	struct xg_share *unshared;     /* unshared, a grantee still maps them */
};

/*
 * The process-wide connection (self.c): gntdp_client_self_get() /
 * _put(), and the allocators below made for it. 0 or -errno.
 */
int xg_self_get(struct gntdp_client **out);
void xg_self_put(struct gntdp_client *c);

/*
 * Process-wide allocators of the bound domain (self.c), each with its own
 * lock: frames of RAM, gfns of the host-map window, grant refs (never
 * 0..GNTDP_GNTTAB_NR_RESERVED_ENTRIES-1). _alloc: 0 and the first of @n
 * consecutive ones in *first (RAM), or @n single ones in out[] (the
 * others), or -ENOMEM / -ENOSPC; _free gives them back.
 */
int xg_ram_alloc(unsigned int n, uint32_t *first);
void xg_ram_free(uint32_t first, unsigned int n);
int xg_mapgfn_alloc(unsigned int n, uint64_t *out);
void xg_mapgfn_free(const uint64_t *gfns, unsigned int n);
int xg_gref_alloc(unsigned int n, uint32_t *out);
void xg_gref_free(const uint32_t *refs, unsigned int n);

/*
 * A handle of either half (gnttab.c): the shared connection and a ring of
 * its own (gntshr's grows the grant table with it). NULL + errno, with one
 * line on stderr saying why. _close undoes everything (after fork(), in
 * the child: frees the struct only).
 */
struct xg_handle *xg_handle_new(bool shr, const char *what);
int xg_handle_close(struct xg_handle *h);

/*
 * An unmap notification of @p h's domain (self.c): @p offset >= 4096 is no
 * byte, @p port UINT32_MAX (Xen's -1) or 0 no event; neither: nothing is
 * registered (*id 0). A daemon without event channels gets the byte only
 * (the first refusal is remembered). 0 or -errno. _fire does id now (0: no-op).
 */
int xg_notify_set(struct xg_handle *h, uint32_t kind, uint64_t gfn, uint32_t offset, uint32_t port,
		  uint32_t granter, uint32_t ref, uint32_t *id);
void xg_notify_fire(struct xg_handle *h, uint32_t id);

/* Set errno from a negative errno and return @p ret (the libraries' -1 / NULL convention). */
int xg_fail(int err);
void *xg_fail_ptr(int err);

/* A piece of a mapping as /proc/self/maps shows it (vma.c). */
struct xg_vma {
	uintptr_t start, end;
	uint64_t off;
	uint64_t ino;
	char dev[16];
};

/*
 * vma.c: _read: every file-backed VMA now (malloc'ed); _record: the pieces
 * of [addr, addr + len) now; _intact: whether every recorded piece is
 * still there; _munmap_ours: munmap the recorded pieces that are. 0 or
 * -errno.
 */
int xg_vmas_read(struct xg_vma **out, unsigned int *n);
int xg_vmas_record(void *addr, size_t len, struct xg_vma **out, unsigned int *nr);
bool xg_vmas_intact(const struct xg_vma *rec, unsigned int nrec, const struct xg_vma *all,
		    unsigned int n);
void xg_vmas_munmap_ours(const struct xg_vma *rec, unsigned int nrec, const struct xg_vma *all,
			 unsigned int n);

/* A grant handle slot that holds no mapping. */
#define XG_NO_HANDLE UINT32_MAX

/* The handle's op frame (map.c): 0 and *ops, or -ENOMEM; _free at close. */
int xg_ops_frame(struct xg_handle *h, void **ops);
void xg_ops_free(struct xg_handle *h);

/* Copy state (gnttab.c) and the maps' and shares' lazy clean-up on close (map.c, gntshr.c). */
void xg_copy_free(struct xg_handle *h);
void xg_maps_close(struct xg_handle *h);
void xg_shares_close(struct xg_handle *h);

#endif /* GNTDP_XEN_XG_H */
