/* SPDX-License-Identifier: MIT */
/*
 * gntdp-demo: a frontend/backend pair driving the grant-table core through
 * gntdp/gnttab.h, as a Xen split driver would, with no DPDK.
 *
 * Domain 1 (frontend) grants some of its frames to domain 2 (backend) and
 * fills them with a pattern. Domain 2 then issues the hypercalls a backend
 * issues: a GNTTABOP_copy batch in both directions, a map_grant_ref batch
 * (host maps at gfns above its RAM) and the matching unmaps, query_size and
 * setup_table; domain 0 (privileged) dumps the frontend's table. Each batch
 * also carries ops that must fail, to show that a bad op only sets its own
 * status. Every status and every copied byte is checked: exit 0 when all
 * match, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

static int
create_domain(struct gntdp_gnttab *gt, gntdp_domid_t domid, bool privileged)
{
	struct gntdp_domain_conf dc;
	int rc;

	gntdp_domain_conf_init(&dc);
	dc.domid = domid;
	dc.privileged = privileged;
	dc.nr_frames = RAM_FRAMES;
	rc = gntdp_domain_create(gt, &dc);
	if (rc != 0)
		fprintf(stderr, "gntdp-demo: domain %u: %s\n", (unsigned int)domid, strerror(-rc));
	return rc;
}

static unsigned int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"grants", required_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned long n = 4;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "g:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || n < 1 ||
			    n > MAX_GRANTS) {
				fprintf(stderr, "gntdp-demo: --grants: 1..%d, got '%s'\n",
					MAX_GRANTS, optarg);
				exit(2);
			}
			break;
		default:
			printf("usage: %s [--grants N]\n"
			       "  --grants N  frames the frontend grants (1..%d, default 4)\n",
			       argv[0], MAX_GRANTS);
			exit(c == 'h' ? 0 : 2);
		}
	}
	return (unsigned int)n;
}

int
main(int argc, char **argv)
{
	unsigned int n = parse_args(argc, argv);
	struct gntdp_gnttab_ctx *ctx = NULL;
	struct gntdp_grant_entry_v1 *table;
	struct gntdp_gnttab_conf conf;
	struct gntdp_gnttab *gt = NULL;
	int rc;

	gntdp_gnttab_conf_init(&conf); /* heap frames, log to stderr */
	rc = gntdp_gnttab_create(&conf, &gt);
	if (rc == 0)
		rc = create_domain(gt, DOM_CTRL, true);
	if (rc == 0)
		rc = create_domain(gt, DOM_FRONT, false);
	if (rc == 0)
		rc = create_domain(gt, DOM_BACK, false);
	if (rc == 0)
		rc = gntdp_gnttab_ctx_create(gt, NULL, &ctx);
	if (rc != 0) {
		fprintf(stderr, "gntdp-demo: setup: %s\n", strerror(-rc));
		goto out;
	}

	table = grant_frames(gt, n);
	if (table != NULL) {
		run_copies(gt, ctx, n);
		run_maps(gt, ctx, table, n);
		run_table_ops(gt, ctx);
		for (unsigned int i = 0; i < n; i++)
			if (gntdp_guest_end_access(&table[FIRST_REF + i]) != 0)
				fail("gntdp_guest_end_access: grant still in use");
	}

out:
	gntdp_gnttab_ctx_destroy(ctx);
	gntdp_gnttab_destroy(gt);
	if (rc != 0)
		return EXIT_FAILURE;
	printf("%s: %u check(s) failed\n", nb_failed == 0 ? "ok" : "FAILED", nb_failed);
	return nb_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
