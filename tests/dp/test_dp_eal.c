/* SPDX-License-Identifier: MIT */
/*
 * gntdp_dp_eal_init in automatic mode with GNTDP_NO_HUGE=1 (set by meson):
 * it must add --no-huge -m 512 itself, print exactly one warning line,
 * hand back argv as rte_eal_init would (program name, then the arguments
 * after "--"), and install the signal flag. Then the memzone provider:
 * frames zeroed and 4 KiB aligned, an I/O address per frame, memzones freed
 * with their domains (3000 create/destroy cycles exceed DPDK's memzone
 * limit if any leaked). Finally, with a single lcore there is no worker and
 * gntdp_dp_create refuses with -EINVAL.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_common.h"

static int
count_warnings(FILE *f)
{
	char line[512];
	int n = 0;

	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "gntdp: WARNING", 14) == 0)
			n++;
	}
	return n;
}

static int
check_provider(void)
{
	struct test_world w;
	struct gntdp_domain_conf dc;
	struct gntdp_gnttab_map_grant_ref map = { 0 };
	struct gntdp_gnttab_ctx *ctx;
	const uint8_t *f;
	int i;

	CHECK(dp_test_world(&w) == 0);
	f = gntdp_domain_frame(w.gt, DOM_CLIENT, 5);
	CHECK(f != NULL && ((uintptr_t)f & 4095u) == 0);
	for (i = 0; i < 4096; i++)
		CHECK(f[i] == 0);
	/* A device map reports the frame's I/O address. */
	CHECK(dp_test_grant(w.gt, DOM_GRANTER, 8, DOM_CLIENT, 7, false) == 0);
	CHECK(gntdp_gnttab_ctx_create(w.gt, NULL, &ctx) == 0);
	map.flags = GNTDP_GNTMAP_DEVICE_MAP;
	map.ref = 8;
	map.dom = DOM_GRANTER;
	CHECK(gntdp_gnttab_op(ctx, DOM_CLIENT, GNTDP_GNTTABOP_MAP_GRANT_REF, &map, 1) == 0);
	CHECKF(map.status == 0 && map.dev_bus_addr != 0 && (map.dev_bus_addr & 4095u) == 0,
	       "status %d dev_bus_addr %#llx", map.status, (unsigned long long)map.dev_bus_addr);
	gntdp_gnttab_ctx_destroy(ctx);
	for (i = 0; i < 1500; i++) {
		gntdp_domain_conf_init(&dc);
		dc.domid = 100;
		dc.nr_frames = 4;
		CHECKF(gntdp_domain_create(w.gt, &dc) == 0, "domain create %d (memzone leak?)", i);
		CHECK(gntdp_domain_destroy(w.gt, 100) == 0);
	}
	dp_test_world_destroy(&w);
	return 0;
}

int
main(int argc, char **argv)
{
	char *eargv[] = { argv[0], (char *)(uintptr_t)"--file-prefix=dp_eal",
			  (char *)(uintptr_t)"-l", (char *)(uintptr_t)"0",
			  (char *)(uintptr_t)"--no-pci", (char *)(uintptr_t)"--",
			  (char *)(uintptr_t)"--app-opt", (char *)(uintptr_t)"value", NULL };
	int eargc = 8, saved, ret, rc = 1;
	struct gntdp_dp_eal_conf ec;
	struct gntdp_dp *dp = NULL;
	struct test_world w;
	FILE *err;

	(void)argc;
	if (getenv("GNTDP_NO_HUGE") == NULL || strcmp(getenv("GNTDP_NO_HUGE"), "1") != 0) {
		printf("SKIP: run with GNTDP_NO_HUGE=1 (meson sets it)\n");
		return TEST_SKIP;
	}
	gntdp_dp_eal_conf_init(&ec);
	ec.no_huge_mb = 512;
	/* Catch stderr to count the fallback warning. */
	err = tmpfile();
	CHECK(err != NULL);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	ret = gntdp_dp_eal_init(&ec, eargc, eargv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (ret < 0) {
		printf("SKIP: EAL init failed (%s): not enough resources for DPDK here\n",
		       strerror(-ret));
		return TEST_SKIP;
	}
	CHECKF(count_warnings(err) == 1, "%d warning lines", count_warnings(err));
	fclose(err);
	CHECK(!gntdp_dp_eal_hugepages());
	CHECKF(eargc - ret == 3, "ret %d", ret);
	CHECK(eargv[ret] == argv[0]);
	CHECK(strcmp(eargv[ret + 1], "--app-opt") == 0 && strcmp(eargv[ret + 2], "value") == 0);

	CHECK(!gntdp_dp_stop_requested());
	raise(SIGTERM);
	CHECK(gntdp_dp_stop_requested());

	if (check_provider() != 0)
		goto out;
	/* -l 0: no worker lcore. */
	CHECK(dp_test_world(&w) == 0);
	CHECK(gntdp_dp_create(w.gt, NULL, &dp) == -EINVAL);
	dp_test_world_destroy(&w);
	rc = 0;
out:
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(NULL, NULL, rc);
}
