/* SPDX-License-Identifier: MIT */
/*
 * libgntdp-client's share segments and cross-process host maps
 * (gntdp/client.h, gntdp/ctl.h SHARE_ALLOC / MAP_FD / SHARE_FREE,
 * docs/daemon.md "Share segments and cross-process host maps").
 *
 * Every reply is checked before anything in it is used, as ctl.c checks
 * the framing: the body's size against its count, every fd (a regular
 * file, long enough for every offset that names it, opened with the
 * access mode asked for: an fd that is writable where a read-only one was
 * asked is refused, so a daemon bug cannot widen a read-only map), every
 * index and offset. A reply that fails a check is -EPROTO; the fds are
 * closed and nothing stays mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client_internal.h"

#define PAGE GNTDP_PAGE_SIZE

struct cl_share {
	struct cl_share *next;
	void *va;
	uint64_t gfn;
	uint32_t nb_frames;
};

int
gntdp_client_share_alloc(struct gntdp_client *c, gntdp_domid_t grantee, unsigned int nb_frames,
			 bool writable, void **va, uint64_t *gfn)
{
	struct gntdp_ctl_share_alloc m = {0};
	struct gntdp_ctl_share_alloc_reply ar;
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_SHARE_ALLOC,
			   .body = &ar, .body_min = sizeof(ar), .body_max = sizeof(ar),
			   .nfds_min = 1, .nfds_max = 1};
	const uint64_t lo = GNTDP_CTL_SHARE_BASE(c != NULL ? c->dom.nr_frames : 0);
	struct cl_share *s;
	void *p = NULL;
	int rc;

	if (c == NULL || va == NULL || gfn == NULL || nb_frames == 0 ||
	    nb_frames > GNTDP_CTL_SHARE_GFNS || grantee >= GNTDP_DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (c->domid == GNTDP_DOMID_INVALID)
		return -ENOTCONN;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	m.grantee = grantee;
	m.nb_frames = nb_frames;
	m.flags = writable ? GNTDP_CTL_SHARE_WRITABLE : 0;
	rc = cl_request(c, &q);
	if (rc < 0) {
		free(s);
		return rc;
	}
	if (ar.nb_frames != nb_frames || ar.rsvd != 0 || ar.gfn < lo ||
	    ar.gfn - lo > GNTDP_CTL_SHARE_GFNS - nb_frames ||
	    (fcntl(q.fds[0], F_GETFL) & O_ACCMODE) != O_RDWR)
		rc = cl_fail(c, -EPROTO, "share_alloc: reply does not describe the segment asked for");
	else if (cl_map_fd(q.fds[0], (uint64_t)nb_frames * PAGE, PROT_READ | PROT_WRITE, &p) < 0)
		rc = cl_fail(c, -EPROTO, "share_alloc: the segment's fd cannot be mapped");
	cl_close_fds(q.fds, q.nfds);
	if (rc < 0) {
		/* The daemon holds a segment we cannot use: give it back (best effort). */
		struct gntdp_ctl_share_free f = {.gfn = ar.gfn};
		struct cl_req fq = {.msg = &f, .len = sizeof(f), .type = GNTDP_CTL_SHARE_FREE};

		if (c->dead == 0)
			cl_request(c, &fq);
		free(s);
		return rc;
	}
	cl_lock(c); /* the list is the client's: other threads' requests may change it */
	*s = (struct cl_share){.next = c->shares, .va = p, .gfn = ar.gfn, .nb_frames = nb_frames};
	c->shares = s;
	cl_unlock(c);
	*va = p;
	*gfn = ar.gfn;
	return 0;
}

int
gntdp_client_share_free(struct gntdp_client *c, void *va)
{
	struct gntdp_ctl_share_free m = {0};
	struct cl_req q = {.msg = &m, .len = sizeof(m), .type = GNTDP_CTL_SHARE_FREE};
	struct cl_share **pp, *s;

	if (c == NULL || va == NULL)
		return -EINVAL;
	cl_lock(c);
	for (pp = &c->shares; *pp != NULL && (*pp)->va != va; pp = &(*pp)->next)
		;
	s = *pp;
	if (s != NULL)
		*pp = s->next;
	cl_unlock(c);
	if (s == NULL)
		return -EINVAL;
	/* Ours goes first: after the request the frames are no longer the domain's. */
	munmap(s->va, (size_t)s->nb_frames * PAGE);
	m.gfn = s->gfn;
	free(s);
	return cl_request(c, &q);
}

void
cl_share_free_all(struct gntdp_client *c)
{
	while (c->shares != NULL) {
		struct cl_share *s = c->shares;

		c->shares = s->next;
		munmap(s->va, (size_t)s->nb_frames * PAGE);
		free(s);
	}
}

/* Check the fds of a MAP_FD reply: regular files, with the access mode asked for. */
static int
check_fds(const int *fds, unsigned int n, bool write, uint64_t *sizes)
{
	for (unsigned int i = 0; i < n; i++) {
		struct stat st;
		int fl = fcntl(fds[i], F_GETFL);

		if (fl < 0 || (fl & O_ACCMODE) != (write ? O_RDWR : O_RDONLY))
			return -EPROTO;
		/* Whole pages: check_entries() bounds each offset by size - 4096. */
		if (fstat(fds[i], &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < PAGE ||
		    st.st_size % PAGE != 0)
			return -EPROTO;
		sizes[i] = (uint64_t)st.st_size;
	}
	return 0;
}

/* Check one MAP_FD reply's entries against its fds. */
static int
check_entries(const struct gntdp_ctl_map_fd_entry *e, unsigned int count, unsigned int nfds,
	      const uint64_t *sizes)
{
	for (unsigned int i = 0; i < count; i++) {
		if (e[i].fd_index >= nfds || e[i].rsvd != 0 || e[i].offset % PAGE != 0 ||
		    e[i].offset > sizes[e[i].fd_index] - PAGE)
			return -EPROTO;
	}
	return 0;
}

/* mmap the @count frames of one reply at @base, a run of consecutive frames at a time. */
static int
map_entries(const struct gntdp_ctl_map_fd_entry *e, unsigned int count, const int *fds,
	    uint8_t *base, int prot)
{
	unsigned int i = 0;

	while (i < count) {
		unsigned int j = i + 1;
		void *want = base + (size_t)i * PAGE;
		void *p;

		/*
		 * MAP_POPULATE: the frames are in the memfd's page cache already (the
		 * daemon prefaulted them); mapping them all in the mmap costs less than a
		 * fault per first touch. gntdp-client-bench map-fd, 64 pages per call,
		 * two A/B pairs on the 2-vCPU EPYC guest under load: 3.88 / 3.01 us per
		 * page against 5.12 / 3.61 without (bench/results/README.md).
		 */
		while (j < count && e[j].fd_index == e[i].fd_index &&
		       e[j].offset == e[i].offset + (uint64_t)(j - i) * PAGE)
			j++;
		p = mmap(want, (size_t)(j - i) * PAGE, prot, MAP_SHARED | MAP_FIXED | MAP_POPULATE,
			 fds[e[i].fd_index], (off_t)e[i].offset);
		if (p == MAP_FAILED)
			return -errno;
		if (p != want)
			return -EPROTO;
		i = j;
	}
	return 0;
}

/* One MAP_FD request for up to GNTDP_CTL_MAP_FD_MAX gfns; *done receives how many it mapped. */
static int
map_chunk(struct gntdp_client *c, const uint64_t *gfns, unsigned int n, uint8_t *base, int prot,
	  unsigned int *done)
{
	union {
		struct gntdp_ctl_map_fd m;
		uint8_t raw[sizeof(struct gntdp_ctl_map_fd) + GNTDP_CTL_MAP_FD_MAX * 8];
	} req;
	union {
		struct gntdp_ctl_map_fd_reply h;
		uint8_t raw[sizeof(struct gntdp_ctl_map_fd_reply) +
			    GNTDP_CTL_MAP_FD_MAX * sizeof(struct gntdp_ctl_map_fd_entry)];
	} rep;
	const struct gntdp_ctl_map_fd_entry *e = (const void *)(rep.raw + sizeof(rep.h));
	const bool write = (prot & PROT_WRITE) != 0;
	uint64_t sizes[GNTDP_CTL_MAX_FDS];
	struct cl_req q = {.msg = &req, .len = sizeof(req.m) + (size_t)n * 8, .type = GNTDP_CTL_MAP_FD,
			   .body = &rep, .body_min = sizeof(rep.h) + sizeof(*e),
			   .body_max = sizeof(rep.h) + (size_t)n * sizeof(*e), .nfds_min = 1,
			   .nfds_max = GNTDP_CTL_MAX_FDS};
	int rc;

	memset(&req.m, 0, sizeof(req.m));
	req.m.count = n;
	req.m.flags = write ? GNTDP_CTL_MAP_FD_WRITE : 0;
	memcpy(req.raw + sizeof(req.m), gfns, (size_t)n * 8);
	rc = cl_request(c, &q);
	if (rc < 0)
		return rc;
	if (rep.h.count == 0 || rep.h.count > n || rep.h.nb_fds != q.nfds ||
	    q.body_len != sizeof(rep.h) + (size_t)rep.h.count * sizeof(*e) ||
	    check_fds(q.fds, q.nfds, write, sizes) != 0 ||
	    check_entries(e, rep.h.count, q.nfds, sizes) != 0) {
		cl_close_fds(q.fds, q.nfds);
		return cl_fail(c, -EPROTO, "map_fd: reply does not describe the frames asked for");
	}
	rc = map_entries(e, rep.h.count, q.fds, base, prot);
	cl_close_fds(q.fds, q.nfds); /* the mappings keep the segments */
	*done = rep.h.count;
	return rc;
}

int
gntdp_client_map_fd(struct gntdp_client *c, const uint64_t *gfns, unsigned int n, void *addr,
		    int prot)
{
	uint8_t *base = addr;
	unsigned int done = 0;
	int rc = 0;

	if (c == NULL || gfns == NULL || n == 0 || addr == NULL ||
	    (uintptr_t)addr % PAGE != 0 ||
	    (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE)))
		return -EINVAL;
	if (c->domid == GNTDP_DOMID_INVALID)
		return -ENOTCONN;
	while (done < n && rc == 0) {
		unsigned int chunk = n - done < GNTDP_CTL_MAP_FD_MAX ? n - done : GNTDP_CTL_MAP_FD_MAX;
		unsigned int got = 0;

		rc = map_chunk(c, gfns + done, chunk, base + (size_t)done * PAGE, prot, &got);
		done += got;
	}
	if (rc < 0) {
		/* Back to a reservation: nothing of the segments stays mapped. */
		mmap(addr, (size_t)n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	}
	return rc;
}
