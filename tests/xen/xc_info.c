/* SPDX-License-Identifier: MIT */
/*
 * xc_info: what xc_domain_getinfo() says, as a program built against
 * Debian's <xenctrl.h> and linked to libxenctrl.so.4.17 sees it (through
 * gntdp-run, the shim in build/xen answers).
 *
 *   xc_info FIRST_DOMID [MAX [list|pause]]
 *
 * One line per domain: "domid=N dying=D running=R paused=P nr_pages=X
 * max_memkb=Y", or "error errno=NAME" when it returns -1. With "list",
 * xc_domain_getinfolist instead: "domain=N flags=0xF tot_pages=X" per
 * domain, then "count=N". With "pause", also xc_domain_pause (a stub).
 * Exit 0 either way; 1 when xc_interface_open fails (with errno's name).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

static const char *
ename(int e)
{
	switch (e) {
	case ESRCH:
		return "ESRCH";
	case EINVAL:
		return "EINVAL";
	case ENOENT:
		return "ENOENT";
	case ENOSYS:
		return "ENOSYS";
	default:
		return strerror(e);
	}
}

int
main(int argc, char **argv)
{
	unsigned int max = argc > 2 ? (unsigned int)atoi(argv[2]) : 1;
	const char *what = argc > 3 ? argv[3] : "";
	xc_domaininfo_t list[8];
	xc_dominfo_t info[8];
	xc_interface *xch;
	int n;

	if (argc < 2 || max > 8) {
		fprintf(stderr, "usage: xc_info FIRST_DOMID [MAX (1..8)]\n");
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	if (xch == NULL) {
		printf("open errno=%s\n", ename(errno));
		return 1;
	}
	if (strcmp(what, "list") == 0) {
		n = xc_domain_getinfolist(xch, (uint32_t)atoi(argv[1]), max, list);
		for (int i = 0; i < n; i++)
			printf("domain=%u flags=%#x tot_pages=%llu\n", list[i].domain, list[i].flags,
			       (unsigned long long)list[i].tot_pages);
		if (n < 0)
			printf("count=-1 errno=%s\n", ename(errno));
		else
			printf("count=%d\n", n);
		xc_interface_close(xch);
		return 0;
	}
	n = xc_domain_getinfo(xch, (uint32_t)atoi(argv[1]), max, info);
	if (n < 0)
		printf("error errno=%s\n", ename(errno));
	for (int i = 0; i < n; i++)
		printf("domid=%u dying=%u running=%u paused=%u nr_pages=%lu max_memkb=%lu\n",
		       info[i].domid, info[i].dying, info[i].running, info[i].paused,
		       info[i].nr_pages, info[i].max_memkb);
	/* A stub: what any other call does (ENOSYS, -1). */
	errno = 0;
	if (strcmp(what, "pause") == 0 && xc_domain_pause(xch, 1) == -1)
		printf("xc_domain_pause errno=%s\n", ename(errno));
	xc_interface_close(xch);
	return 0;
}
