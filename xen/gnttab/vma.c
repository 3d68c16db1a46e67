/* SPDX-License-Identifier: MIT */
/*
 * Which of the library's mappings the program munmapped behind its back
 * (libxenvchan munmaps multi-page rings itself, map.c and gntshr.c clean
 * up after it): the file-backed VMAs of a range are recorded from
 * /proc/self/maps when it is mapped, and it is intact while every recorded
 * byte is still the same file at the same offset. A range that is not
 * intact may be partly reused by the program: only the pieces still ours
 * are ever munmapped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xg.h"

int
xg_vmas_read(struct xg_vma **out, unsigned int *n)
{
	FILE *f = fopen("/proc/self/maps", "re");
	struct xg_vma *v = NULL, *nv;
	unsigned int cap = 0, k = 0;
	char line[512];

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct xg_vma x;
		unsigned long s, e;
		unsigned long long off, ino;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %llx %15s %llu", &s, &e, perms, &off, x.dev, &ino) != 6 ||
		    ino == 0)
			continue;
		x.start = s, x.end = e, x.off = off, x.ino = ino;
		if (k == cap) {
			cap = cap ? 2 * cap : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
		}
		v[k++] = x;
	}
	fclose(f);
	*out = v;
	*n = k;
	return 0;
}

/* Bytes of @p r that @p all still shows as the same file at the same offset. */
static uintptr_t
vma_covered(const struct xg_vma *r, const struct xg_vma *all, unsigned int n)
{
	uintptr_t got = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct xg_vma *a = &all[i];
		uintptr_t s = a->start > r->start ? a->start : r->start;
		uintptr_t e = a->end < r->end ? a->end : r->end;

		if (s >= e || a->ino != r->ino || strcmp(a->dev, r->dev) != 0 ||
		    a->off + (s - a->start) != r->off + (s - r->start))
			continue;
		got += e - s;
	}
	return got;
}

int
xg_vmas_record(void *addr, size_t len, struct xg_vma **out, unsigned int *nr)
{
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;
	struct xg_vma *all, *rec;
	unsigned int n, k = 0;
	int rc = xg_vmas_read(&all, &n);

	if (rc != 0)
		return rc;
	rec = calloc(n > 0 ? n : 1, sizeof(*rec));
	if (rec == NULL) {
		free(all);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct xg_vma v = all[i];

		if (v.end <= lo || v.start >= hi)
			continue;
		if (v.start < lo) {
			v.off += lo - v.start;
			v.start = lo;
		}
		if (v.end > hi)
			v.end = hi;
		rec[k++] = v;
	}
	free(all);
	*out = rec;
	*nr = k;
	return 0;
}

bool
xg_vmas_intact(const struct xg_vma *rec, unsigned int nrec, const struct xg_vma *all,
	       unsigned int n)
{
	for (unsigned int i = 0; i < nrec; i++)
		if (vma_covered(&rec[i], all, n) != rec[i].end - rec[i].start)
			return false;
	return true;
}

void
xg_vmas_munmap_ours(const struct xg_vma *rec, unsigned int nrec, const struct xg_vma *all,
		    unsigned int n)
{
	for (unsigned int i = 0; i < nrec; i++)
		if (vma_covered(&rec[i], all, n) == rec[i].end - rec[i].start)
			munmap((void *)rec[i].start, rec[i].end - rec[i].start);
}
