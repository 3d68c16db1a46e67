/* SPDX-License-Identifier: MIT */
/*
 * xen/gnttab/vma.c alone (suite xen, no daemon): how the drop-in
 * libxengnttab tells a mapping the program munmapped behind its back from
 * one that is still its own. Three discontiguous frames of a memfd mapped
 * virtually contiguous (as a map_domain_grant_refs unit is) are recorded;
 * they stay intact while untouched; after the program munmaps the middle
 * frame and maps something else there, the range is no longer intact and
 * munmap_ours removes exactly the two frames still ours, never the
 * program's new page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../xen/gnttab/vma.c"
#include "xgtest.h"

#define PG 4096u

static int
intact(const struct xg_vma *rec, unsigned int nrec)
{
	struct xg_vma *all;
	unsigned int n;
	bool ok;

	if (xg_vmas_read(&all, &n) != 0)
		return -1;
	ok = xg_vmas_intact(rec, nrec, all, n);
	free(all);
	return ok;
}

int
main(void)
{
	static const unsigned int frames[3] = {5, 2, 9}; /* discontiguous file offsets */
	int fd = memfd_create("xg-vma", MFD_CLOEXEC);
	struct xg_vma *rec, *all;
	unsigned int nrec, n;
	uint8_t *va, *mine;

	CHECK(fd >= 0 && ftruncate(fd, 16 * PG) == 0, "memfd");
	va = mmap(NULL, 3 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(va != MAP_FAILED, "reserve");
	for (unsigned int i = 0; i < 3; i++)
		CHECK(mmap(va + i * PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			   (off_t)frames[i] * PG) == va + i * PG, "frame %u", i);
	for (unsigned int i = 0; i < 3; i++)
		va[i * PG] = (uint8_t)(i + 1);
	CHECK(xg_vmas_record(va, 3 * PG, &rec, &nrec) == 0 && nrec == 3, "record: %u", nrec);
	CHECK(intact(rec, nrec) == 1, "intact after mapping");
	/* The program munmaps the middle frame and maps an anonymous page of its own there. */
	CHECK(munmap(va + PG, PG) == 0, "munmap");
	CHECK(intact(rec, nrec) == 0, "a hole is not intact");
	mine = mmap(va + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		    0);
	CHECK(mine == va + PG, "program's page");
	mine[0] = 0x77;
	CHECK(intact(rec, nrec) == 0, "a reused hole is not intact");
	/* The same file at another offset is not ours either. */
	CHECK(mmap(va + PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 3 * PG) ==
		      va + PG, "remap other offset");
	CHECK(intact(rec, nrec) == 0, "another offset of the same file is not intact");
	mine = mmap(va + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		    0);
	mine[0] = 0x77;
	CHECK(xg_vmas_read(&all, &n) == 0, "read");
	xg_vmas_munmap_ours(rec, nrec, all, n);
	free(all);
	CHECK(mine[0] == 0x77, "the program's page survives");
	CHECK(msync(va, PG, MS_ASYNC) != 0 && msync(va + 2 * PG, PG, MS_ASYNC) != 0,
	      "our two frames are gone");
	CHECK(munmap(mine, PG) == 0, "cleanup");
	free(rec);
	close(fd);
	printf("ok\n");
	return 0;
}
