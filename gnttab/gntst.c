/* SPDX-License-Identifier: MIT */
/*
 * Names and messages of the GNTST_* statuses. DPDK-free and state-free, so
 * it lives in the guest-side library that libgntdp-client links too.
 */
#include <gntdp/gnttab.h>

static const char *const gntst_msgs[GNTDP_GNTST_COUNT] = GNTDP_GNTTABOP_ERROR_MSGS;
static const char *const gntst_names[GNTDP_GNTST_COUNT] = {
	"GNTST_okay",		 "GNTST_general_error", "GNTST_bad_domain",
	"GNTST_bad_gntref",	 "GNTST_bad_handle",	"GNTST_bad_virt_addr",
	"GNTST_bad_dev_addr",	 "GNTST_no_device_space", "GNTST_permission_denied",
	"GNTST_bad_page",	 "GNTST_bad_copy_arg",	"GNTST_address_too_big",
	"GNTST_eagain",		 "GNTST_no_space",
};

const char *
gntdp_gntst_str(int16_t status)
{
	return status <= 0 && status > -GNTDP_GNTST_COUNT ? gntst_msgs[-status] : "unknown status";
}

const char *
gntdp_gntst_name(int16_t status)
{
	return status <= 0 && status > -GNTDP_GNTST_COUNT ? gntst_names[-status] : "GNTST_?";
}
