/* SPDX-License-Identifier: MIT */
/*
 * A user of the installed data plane: built by check_symbols.sh with
 * pkg-config only. It links the data plane, the core and DPDK; it does not
 * start EAL (no hugepages needed), so it only calls what needs none.
 */
#include <stdio.h>

#include <gntdp/dataplane.h>
#include <gntdp/gnttab.h>

int
main(void)
{
	struct gntdp_dp_conf conf;

	gntdp_dp_conf_init(&conf);
	if (conf.req_ring_size == 0 || gntdp_dp_stop_requested()) {
		printf("unexpected defaults\n");
		return 1;
	}
	printf("data plane defaults: ring %u, burst %u\n", conf.req_ring_size, conf.burst);
	return 0;
}
