/* SPDX-License-Identifier: MIT */
/*
 * gntdp_dp_eal_init in GNTDP_DP_HUGE_ON mode (no --no-huge fallback) with
 * the EAL arguments of the command line: eal_nonroot.sh runs it as an
 * unprivileged user with a small RLIMIT_MEMLOCK and checks what it prints.
 * Exit 0 when EAL refused to start, 2 when it started (then hugepages are
 * usable by this user and there is no failure to look at).
 */
#include <stdio.h>
#include <string.h>

#include <gntdp/dataplane.h>

int
main(int argc, char **argv)
{
	struct gntdp_dp_eal_conf ec;
	int ret;

	gntdp_dp_eal_conf_init(&ec);
	ec.huge = GNTDP_DP_HUGE_ON;
	ec.signals = false;
	ret = gntdp_dp_eal_init(&ec, argc, argv);
	if (ret < 0) {
		printf("gntdp_dp_eal_init: %s\n", strerror(-ret));
		return 0;
	}
	printf("gntdp_dp_eal_init: EAL started on hugepages\n");
	gntdp_dp_eal_cleanup();
	return 2;
}
