/* SPDX-License-Identifier: MIT */
/*
 * gntdp-xenstored: a xenstore server for Xen's user-space programs on a
 * machine without Xen (docs/xenstore.md). Command line, effective-config
 * line, then the server's loop until SIGTERM, SIGINT or SIGHUP.
 *
 * It does not use apps/common: that layer's logging and skeleton go
 * through DPDK (rte_log, EAL), and this server must build with
 * -Ddataplane=disabled. The exit codes are the app layer's values.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsd.h"

#define EXIT_OK 0    /* APP_EXIT_OK */
#define EXIT_FAIL 1  /* APP_EXIT_FAIL: the server could not start or run */
#define EXIT_USAGE 2 /* APP_EXIT_USAGE */

enum {
	OPT_MAX_CONNS = 256,
	OPT_OUT_MAX,
	OPT_Q_NODES,
	OPT_Q_WATCHES,
	OPT_Q_TX,
	OPT_Q_TX_NODES,
	OPT_Q_PERMS,
	OPT_Q_NODE_SIZE,
	OPT_DRY_RUN,
};

static const struct option longopts[] = {
	{"dir", required_argument, NULL, 'd'},
	{"domain", required_argument, NULL, 'D'},
	{"max-conns", required_argument, NULL, OPT_MAX_CONNS},
	{"out-max", required_argument, NULL, OPT_OUT_MAX},
	{"quota-nodes", required_argument, NULL, OPT_Q_NODES},
	{"quota-watches", required_argument, NULL, OPT_Q_WATCHES},
	{"quota-transactions", required_argument, NULL, OPT_Q_TX},
	{"quota-transaction-nodes", required_argument, NULL, OPT_Q_TX_NODES},
	{"quota-permissions", required_argument, NULL, OPT_Q_PERMS},
	{"quota-node-size", required_argument, NULL, OPT_Q_NODE_SIZE},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: gntdp-xenstored [options]\n"
		"A xenstore server: Xen's wire protocol on one Unix socket per domain,\n"
		"DIR/dom<N> (dom0, privileged, also DIR/socket). Clients use\n"
		"XENSTORED_PATH=DIR/dom<N>. Domains come from --domain or a dom0 INTRODUCE.\n"
		"  -d, --dir DIR              socket directory (default /run/gntdp/xenstored)\n"
		"  -D, --domain LIST          serve these domains from the start: 1,2,5 (repeatable)\n"
		"      --max-conns N          connections per domain (64)\n"
		"      --out-max BYTES        bytes queued to a domain's clients (1048576)\n"
		"      --quota-nodes N        nodes a domain owns (1000)\n"
		"      --quota-watches N      watches of a domain (128)\n"
		"      --quota-transactions N open transactions of a domain (10)\n"
		"      --quota-transaction-nodes N  nodes one transaction touches (1024)\n"
		"      --quota-permissions N  permission entries per node (5)\n"
		"      --quota-node-size N    bytes per node: value, child names, 8 per permission (2048)\n"
		"                             (quota 0: unlimited; dom0 has none)\n"
		"      --dry-run              print the effective config and exit\n"
		"  -v, --verbose              log connections and domains\n"
		"  -h, --help                 this text\n"
		"SIGTERM, SIGINT or SIGHUP: clean exit, the sockets removed. Exit: 0 ok, 1 failure, 2 usage.\n");
}

static int
parse_uint(const char *opt, const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v > max) {
		fprintf(stderr, "gntdp-xenstored: --%s '%s': expected an integer in [0, %llu]\n",
			opt, s, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_domains(struct xsd_conf *c, const char *list)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char tok[16];
		uint32_t id;

		if (n >= sizeof(tok))
			n = sizeof(tok) - 1; /* too long for a domid: refused below */
		memcpy(tok, p, n);
		tok[n] = '\0';
		if (xsd_parse_uint(tok, XSD_DOMID_MAX, &id) != 0 || id == 0) {
			fprintf(stderr,
				"gntdp-xenstored: --domain '%s': expected domids in [1, %u], "
				"comma-separated\n",
				list, XSD_DOMID_MAX);
			return -EINVAL;
		}
		if (c->nb_doms == XSD_MAX_DOMAINS_ARG) {
			fprintf(stderr, "gntdp-xenstored: --domain: more than %u domains\n",
				XSD_MAX_DOMAINS_ARG);
			return -EINVAL;
		}
		c->doms[c->nb_doms++] = id;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int
parse_args(struct xsd_conf *c, int argc, char **argv, bool *dry_run)
{
	unsigned int *quota[] = {
		[OPT_Q_NODES - OPT_Q_NODES] = &c->q.nodes,
		[OPT_Q_WATCHES - OPT_Q_NODES] = &c->q.watches,
		[OPT_Q_TX - OPT_Q_NODES] = &c->q.transactions,
		[OPT_Q_TX_NODES - OPT_Q_NODES] = &c->q.tx_nodes,
		[OPT_Q_PERMS - OPT_Q_NODES] = &c->q.perms,
		[OPT_Q_NODE_SIZE - OPT_Q_NODES] = &c->q.node_size,
	};
	unsigned long long v;
	int opt, idx;

	while ((opt = getopt_long(argc, argv, "d:D:vh", longopts, &idx)) != -1) {
		switch (opt) {
		case 'd':
			if (optarg[0] == '\0' || strlen(optarg) >= sizeof(c->dir)) {
				fprintf(stderr, "gntdp-xenstored: --dir: 1 to %zu bytes\n",
					sizeof(c->dir) - 1);
				return -EINVAL;
			}
			memcpy(c->dir, optarg, strlen(optarg) + 1);
			break;
		case 'D':
			if (parse_domains(c, optarg) != 0)
				return -EINVAL;
			break;
		case OPT_MAX_CONNS:
			if (parse_uint("max-conns", optarg, 4096, &v) != 0 || v == 0)
				return -EINVAL;
			c->max_conns = (unsigned int)v;
			break;
		case OPT_OUT_MAX:
			if (parse_uint("out-max", optarg, 1ull << 30, &v) != 0 || v < 65536) {
				fprintf(stderr, "gntdp-xenstored: --out-max: at least 65536\n");
				return -EINVAL;
			}
			c->out_max = (size_t)v;
			break;
		case OPT_Q_NODES:
		case OPT_Q_WATCHES:
		case OPT_Q_TX:
		case OPT_Q_TX_NODES:
		case OPT_Q_PERMS:
		case OPT_Q_NODE_SIZE:
			if (parse_uint(longopts[idx].name, optarg, 1000000, &v) != 0)
				return -EINVAL;
			*quota[opt - OPT_Q_NODES] = (unsigned int)v;
			break;
		case OPT_DRY_RUN:
			*dry_run = true;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gntdp-xenstored: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void
print_conf(const struct xsd_conf *c, FILE *f)
{
	fprintf(f, "gntdp-xenstored: dir=%s domains=0", c->dir);
	for (unsigned int i = 0; i < c->nb_doms; i++)
		fprintf(f, ",%u", (unsigned int)c->doms[i]);
	fprintf(f,
		" max_conns=%u out_max=%zu quota: nodes=%u watches=%u transactions=%u "
		"transaction_nodes=%u permissions=%u node_size=%u\n",
		c->max_conns, c->out_max, c->q.nodes, c->q.watches, c->q.transactions,
		c->q.tx_nodes, c->q.perms, c->q.node_size);
}

int
main(int argc, char **argv)
{
	static struct xsd_server srv; /* large: the store's owner counts */
	struct xsd_conf conf;
	bool dry_run = false;
	int rc;

	xsd_conf_init(&conf);
	if (parse_args(&conf, argc, argv, &dry_run) != 0)
		return EXIT_USAGE;
	print_conf(&conf, dry_run ? stdout : stderr);
	if (dry_run)
		return EXIT_OK;
	rc = xsd_server_init(&srv, &conf);
	if (rc == 0) {
		/* The line a launcher or test waits for: every socket listens. */
		printf("gntdp-xenstored: ready\n");
		fflush(stdout);
		rc = xsd_server_run(&srv);
	}
	xsd_log("exit: %llu messages, %llu errors, %llu events (%llu dropped), %llu connections "
		"(%llu closed for misbehaviour)",
		(unsigned long long)srv.stats.msgs, (unsigned long long)srv.stats.errors,
		(unsigned long long)srv.stats.events, (unsigned long long)srv.stats.events_dropped,
		(unsigned long long)srv.stats.conns, (unsigned long long)srv.stats.conns_killed);
	xsd_server_fini(&srv);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
