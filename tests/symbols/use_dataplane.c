/* SPDX-License-Identifier: MIT */
/*
 * A user of the installed data plane: built by check_symbols.sh with
 * pkg-config only. It links the data plane, the core and DPDK; it does not
 * start EAL (no hugepages needed), so it only calls what needs none.
 */
#include <stdio.h>

#include <gntdp/dataplane.h>
#include <gntdp/gnttab.h>
#include <gntdp/hcall.h>

int
main(void)
{
	struct gntdp_dp_conf conf;
	struct gntdp_dp_hcall_conf hc;

	gntdp_dp_conf_init(&conf);
	gntdp_dp_hcall_conf_init(&hc);
	if (conf.cache_entries == 0 || hc.sq_entries == 0 || hc.burst == 0 ||
	    gntdp_dp_stop_requested()) {
		printf("unexpected defaults\n");
		return 1;
	}
	printf("data plane defaults: cache %u, hypercall ring %u, burst %u\n", conf.cache_entries,
	       hc.sq_entries, hc.burst);
	return 0;
}
