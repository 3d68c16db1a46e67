/* SPDX-License-Identifier: MIT */
/* A user of the installed core: built by check_symbols.sh with pkg-config only. */
#include <stdio.h>

#include <gntdp/gnttab.h>

int
main(void)
{
	struct gntdp_gnttab_conf conf;
	struct gntdp_gnttab *gt;
	int rc;

	gntdp_gnttab_conf_init(&conf);
	rc = gntdp_gnttab_create(&conf, &gt);
	if (rc != 0) {
		printf("gntdp_gnttab_create: %d\n", rc);
		return 1;
	}
	gntdp_gnttab_destroy(gt);
	printf("created and destroyed a world\n");
	return 0;
}
