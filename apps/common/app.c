/* SPDX-License-Identifier: MIT */
/*
 * The app skeleton (app.h): log type, command line, config, EAL, exit codes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "app.h"

int app_logtype = RTE_LOGTYPE_USER1;

void
app_log(unsigned int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rte_log(level, (uint32_t)app_logtype, "%s\n", buf);
}

enum {
	OPT_CONFIG = 256,
	OPT_SET,
	OPT_JSON,
	OPT_HELP,
	OPT_DRY_RUN,
	OPT_APP = 512, /* + index into desc->opts */
};

static void
usage(const struct app_desc *d, FILE *f)
{
	char lhs[64];

	fprintf(f, "usage: %s %s\n", d->name, d->synopsis);
	if (d->about != NULL)
		fprintf(f, "%s\n", d->about);
	fprintf(f, "  %-26s %s\n", "--config FILE",
		"INI file; --set and the options below beat it");
	fprintf(f, "  %-26s %s\n", "--set SECTION.KEY=VALUE", "set any config key (repeatable)");
	if (d->json == APP_JSON_STDOUT)
		fprintf(f, "  %-26s %s\n", "--json", "the results as one JSON object on stdout");
	else if (d->json == APP_JSON_FILE)
		fprintf(f, "  %-26s %s\n", "--json FILE",
			"write the results as JSON ('-': stdout)");
	fprintf(f, "  %-26s %s\n", "--dry-run", "check the config, print it and exit (no EAL)");
	fprintf(f, "  %-26s %s\n", "--help, -h", "this text");
	for (unsigned int i = 0; i < d->nb_opts; i++) {
		const struct app_opt *o = &d->opts[i];

		snprintf(lhs, sizeof(lhs), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		if (o->key != NULL)
			fprintf(f, "  %-26s %s (%s)\n", lhs, o->help, o->key);
		else
			fprintf(f, "  %-26s %s\n", lhs, o->help);
	}
	fprintf(f, "exit status: 0 ok, 1 a check failed, 2 usage, config or EAL error, "
		   "77 EAL could not get memory\n");
	app_cfg_usage(d->cfg, f);
}

/* One --set or key option, applied after the file. */
struct pending {
	const char *src; /* "--set" or "--option" */
	const char *key; /* "section.key" for an option, NULL for --set */
	const char *arg;
};

static int
apply_pending(struct app *a, const struct pending *p)
{
	char buf[600];

	if (p->key == NULL)
		return app_cfg_set(&a->cfg, p->src, p->arg);
	snprintf(buf, sizeof(buf), "%s=%s", p->key, p->arg);
	return app_cfg_set(&a->cfg, p->src, buf);
}

/* Parse the app's arguments (app_argv[0] is the program name). */
static int
parse_args(struct app *a, void *conf, int argc, char **argv)
{
	const struct app_desc *d = a->d;
	struct option *opts = calloc(d->nb_opts + 6, sizeof(*opts));
	struct pending *pend = calloc((size_t)argc + 1, sizeof(*pend));
	char *srcs = calloc(d->nb_opts + 1, 64);
	char shorts[64] = "h";
	const char *config = NULL;
	int n = 0, nb_pend = 0, c, rc = APP_RUN;
	size_t ns = 1;

	if (opts == NULL || pend == NULL || srcs == NULL) {
		rc = APP_EXIT_FAIL;
		goto out;
	}
	opts[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	opts[n++] = (struct option){"set", required_argument, NULL, OPT_SET};
	opts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	opts[n++] = (struct option){"dry-run", no_argument, NULL, OPT_DRY_RUN};
	if (d->json != APP_JSON_NONE)
		opts[n++] = (struct option){
			"json", d->json == APP_JSON_FILE ? required_argument : no_argument, NULL,
			OPT_JSON};
	for (unsigned int i = 0; i < d->nb_opts; i++) {
		const struct app_opt *o = &d->opts[i];

		opts[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
					    OPT_APP + (int)i};
		snprintf(srcs + 64 * i, 64, "--%s", o->name);
		if (o->short_name != 0 && ns + 2 < sizeof(shorts)) {
			shorts[ns++] = (char)o->short_name;
			if (o->arg)
				shorts[ns++] = ':';
		}
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		const struct app_opt *o = NULL;

		if (c >= OPT_APP) {
			o = &d->opts[c - OPT_APP];
		} else if (c < 256 && c != 'h' && c != '?' && c != ':') {
			for (unsigned int i = 0; i < d->nb_opts; i++)
				if (d->opts[i].short_name == c)
					o = &d->opts[i];
		}
		if (o != NULL) {
			const char *src = srcs + 64 * (size_t)(o - d->opts);

			if (o->key != NULL)
				pend[nb_pend++] =
					(struct pending){src, o->key, o->arg ? optarg : "on"};
			else if (d->opt(conf, o, o->arg ? optarg : NULL) < 0)
				rc = APP_EXIT_USAGE;
			if (rc != APP_RUN)
				goto out;
			continue;
		}
		switch (c) {
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_SET:
			pend[nb_pend++] = (struct pending){"--set", NULL, optarg};
			break;
		case OPT_JSON:
			a->json = true;
			if (optarg != NULL)
				snprintf(a->json_path, sizeof(a->json_path), "%s", optarg);
			break;
		case OPT_DRY_RUN:
			a->dry_run = true;
			break;
		case OPT_HELP:
		case 'h':
			usage(d, stdout);
			rc = APP_EXIT_OK;
			goto out;
		default:
			if (optopt != 0 && optopt < 256)
				APP_LOG(ERR, "%s: option -%c: unknown or missing its value",
					d->name, optopt);
			else
				APP_LOG(ERR, "%s: option '%s': unknown or missing its value",
					d->name, argv[optind - 1]);
			APP_LOG(ERR, "%s: --help lists the options", d->name);
			rc = APP_EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		APP_LOG(ERR, "%s: unexpected argument '%s'", d->name, argv[optind]);
		rc = APP_EXIT_USAGE;
		goto out;
	}
	/* Defaults, then the file, then the command line whatever its order. */
	if (config != NULL && app_cfg_load(&a->cfg, config) < 0) {
		rc = APP_EXIT_USAGE;
		goto out;
	}
	for (int i = 0; i < nb_pend; i++) {
		if (apply_pending(a, &pend[i]) < 0) {
			rc = APP_EXIT_USAGE;
			goto out;
		}
	}
out:
	free(opts);
	free(pend);
	/* The option names are the origins of the values they set: kept until app_finish. */
	a->opt_srcs = srcs;
	return rc;
}

int
app_start(struct app *a, const struct app_desc *d, void *conf, int argc, char **argv)
{
	struct gntdp_dp_eal_conf ec;
	/* EAL may keep pointers into its argv: it lives as long as the process. */
	static char eal_buf[512];
	char **app_argv = NULL, **eal_argv = NULL;
	int dd = -1, napp, neal, rc, ret;

	memset(a, 0, sizeof(*a));
	a->d = d;
	ret = rte_log_register_type_and_pick_level(d->logtype, RTE_LOG_INFO);
	if (ret >= 0)
		app_logtype = ret;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	}
	app_argv = calloc((size_t)argc + 1, sizeof(*app_argv));
	eal_argv = calloc((size_t)argc + 16, sizeof(*eal_argv));
	if (app_argv == NULL || eal_argv == NULL || app_cfg_init(&a->cfg, d->cfg, conf) < 0) {
		APP_LOG(ERR, "%s: cannot set up the configuration", d->name);
		rc = APP_EXIT_USAGE;
		goto out;
	}
	/* "EAL args -- app args"; without "--" all are EAL's, or all the app's with eal_default. */
	app_argv[0] = argv[0];
	eal_argv[0] = argv[0];
	if (dd > 0) {
		neal = dd;
		napp = argc - dd;
		memcpy(eal_argv + 1, argv + 1, sizeof(*argv) * (size_t)(dd - 1));
		memcpy(app_argv + 1, argv + dd + 1, sizeof(*argv) * (size_t)(napp - 1));
	} else if (d->eal_default != NULL) {
		neal = 0;
		napp = argc;
		memcpy(app_argv + 1, argv + 1, sizeof(*argv) * (size_t)(argc - 1));
	} else {
		neal = argc;
		napp = 1;
		memcpy(eal_argv + 1, argv + 1, sizeof(*argv) * (size_t)(argc - 1));
	}
	rc = parse_args(a, conf, napp, app_argv);
	if (rc != APP_RUN)
		goto out;
	if (d->check != NULL && d->check(&a->cfg) < 0) {
		rc = APP_EXIT_USAGE;
		goto out;
	}
	if (a->dry_run) {
		app_cfg_print(&a->cfg, stdout);
		rc = APP_EXIT_OK;
		goto out;
	}
	if (d->want_eal != NULL && !d->want_eal(conf))
		goto out;
	if (neal == 0)
		neal = d->eal_default(conf, eal_argv, argc + 15, eal_buf, sizeof(eal_buf));
	eal_argv[neal] = NULL;
	gntdp_dp_eal_conf_init(&ec);
	if (d->no_huge_mb != 0)
		ec.no_huge_mb = d->no_huge_mb;
	ret = gntdp_dp_eal_init(&ec, neal, eal_argv);
	if (ret < 0) {
		/* ENOMEM: no memory for EAL here, a test may skip; anything else is an error. */
		APP_LOG(ERR, "%s: EAL initialisation failed: %s%s", d->name, strerror(-ret),
			ret == -ENOMEM ? " (no memory for EAL here)" : "");
		rc = ret == -ENOMEM ? APP_EXIT_SKIP : APP_EXIT_USAGE;
		goto out;
	}
	a->eal = true;
	a->eal_argv = eal_argv;
	a->hugepages = gntdp_dp_eal_hugepages();
	/* EAL logs to stdout and syslog; stdout is for results (and JSON). */
	rte_openlog_stream(stderr);
	if (ret < neal - 1) {
		APP_LOG(ERR, "%s: EAL argument '%s' not understood (app arguments go after --)",
			d->name, eal_argv[ret + 1]);
		rc = APP_EXIT_USAGE;
		goto out;
	}
out:
	free(app_argv);
	if (!a->eal)
		free(eal_argv);
	if (rc != APP_RUN)
		return app_finish(a, rc);
	return rc;
}

int
app_finish(struct app *a, int status)
{
	if (a->eal)
		gntdp_dp_eal_cleanup();
	a->eal = false;
	free(a->eal_argv);
	a->eal_argv = NULL;
	app_cfg_fini(&a->cfg);
	free(a->opt_srcs);
	a->opt_srcs = NULL;
	return status;
}

FILE *
app_json_open(struct app *a)
{
	FILE *f;

	if (!a->json)
		return NULL;
	if (a->d->json == APP_JSON_STDOUT || strcmp(a->json_path, "-") == 0)
		return stdout;
	f = fopen(a->json_path, "w");
	if (f == NULL)
		APP_LOG(ERR, "%s: %s: %s", a->d->name, a->json_path, strerror(errno));
	return f;
}

void
app_json_close(struct app *a, FILE *f)
{
	(void)a;
	if (f != NULL && f != stdout)
		fclose(f);
	else if (f != NULL)
		fflush(f);
}

FILE *
app_report_stream(const struct app *a)
{
	return a->json && (a->d->json == APP_JSON_STDOUT || strcmp(a->json_path, "-") == 0)
		       ? stderr
		       : stdout;
}

int
app_eal_lcores(const char *prefix, unsigned int workers, char **argv, int max, char *buf,
	       size_t len)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = 1;
	size_t k;

	if (ncpu < 1)
		ncpu = 1;
	if (max < 6)
		return 1;
	k = (size_t)snprintf(buf, len, "--lcores=(0-%u)@(0-%ld)", workers, ncpu - 1) + 1;
	argv[n++] = buf;
	snprintf(buf + k, len - k, "--file-prefix=%s-%ld", prefix, (long)getpid());
	argv[n++] = buf + k;
	argv[n++] = (char *)(uintptr_t) "--no-pci";
	argv[n++] = (char *)(uintptr_t) "--log-level=lib.*:warning";
	return n;
}
