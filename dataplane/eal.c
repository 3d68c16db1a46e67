/* SPDX-License-Identifier: MIT */
/*
 * EAL bring-up for gntdp programs: the hugepage / --no-huge decision, the
 * single fallback warning, the signal flag, and cleanup.
 *
 * Why decide before rte_eal_init: EAL cannot be initialised twice in one
 * process, so "try hugepages, fall back" has two parts. We first look for a
 * hugetlbfs mount with free pages (/proc/mounts, /proc/meminfo); if EAL
 * still fails to get memory (pages taken meanwhile, no permission), the
 * process re-executes itself once with GNTDP_NO_HUGE=1, which is cheap
 * because nothing has run yet.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "dp_internal.h"

RTE_LOG_REGISTER(dp_logtype, gntdp.dp, INFO);

static atomic_bool stop_flag;
/* The argv handed to EAL stays reachable: EAL may keep pointers into it. */
/* volatile: the store must survive optimisation so LeakSanitizer sees it as reachable */
static char **volatile eal_argv;
static char eal_mem_mb[16];

void
gntdp_dp_eal_conf_init(struct gntdp_dp_eal_conf *conf)
{
	conf->huge = GNTDP_DP_HUGE_AUTO;
	conf->no_huge_mb = 1024;
	conf->signals = true;
}

static void
on_signal(int sig)
{
	(void)sig;
	/* Lock-free atomic_bool: async-signal-safe. */
	atomic_store_explicit(&stop_flag, true, memory_order_relaxed);
}

bool
gntdp_dp_stop_requested(void)
{
	return atomic_load_explicit(&stop_flag, memory_order_relaxed);
}

void
gntdp_dp_request_stop(void)
{
	atomic_store_explicit(&stop_flag, true, memory_order_relaxed);
}

/* A hugetlbfs mount exists and the default-size pool has free pages. */
static bool
hugepages_available(void)
{
	char line[512];
	bool mounted = false;
	unsigned long free_pages = 0;
	FILE *f;

	f = fopen("/proc/mounts", "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, " hugetlbfs ") != NULL)
			mounted = true;
	}
	fclose(f);
	if (!mounted)
		return false;
	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "HugePages_Free:", 15) == 0) {
			free_pages = strtoul(line + 15, NULL, 10);
			break;
		}
	}
	fclose(f);
	return free_pages > 0;
}

/* Scan the EAL part of argv (up to "--") for memory options the user gave. */
static void
scan_args(int argc, char **argv, bool *no_huge, bool *mem_given)
{
	int i;

	*no_huge = false;
	*mem_given = false;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--no-huge") == 0)
			*no_huge = true;
		if (strncmp(a, "-m", 2) == 0 || strncmp(a, "--socket-mem", 12) == 0 ||
		    strncmp(a, "--socket-limit", 14) == 0)
			*mem_given = true;
	}
}

static bool
env_no_huge(void)
{
	const char *e = getenv("GNTDP_NO_HUGE");

	return e != NULL && strcmp(e, "1") == 0;
}

/*
 * Re-run this program with GNTDP_NO_HUGE=1 after EAL failed to get
 * hugepage memory. Returns only on failure.
 */
static void
reexec_no_huge(char **saved_argv)
{
	if (setenv("GNTDP_NO_HUGE", "1", 1) != 0)
		return;
	fflush(NULL);
	execv("/proc/self/exe", saved_argv);
}

int
gntdp_dp_eal_init(const struct gntdp_dp_eal_conf *conf, int argc, char **argv)
{
	struct gntdp_dp_eal_conf defaults;
	bool user_no_huge, mem_given, add_no_huge = false, fallback = false;
	char **nargv = NULL, **saved = NULL;
	int i, k, nargc, ret, err;

	if (conf == NULL) {
		gntdp_dp_eal_conf_init(&defaults);
		conf = &defaults;
	}
	if (argc < 1 || argv == NULL || conf->no_huge_mb == 0)
		return -EINVAL;
	scan_args(argc, argv, &user_no_huge, &mem_given);
	if (!user_no_huge) {
		if (conf->huge == GNTDP_DP_HUGE_OFF) {
			add_no_huge = true;
		} else if (conf->huge == GNTDP_DP_HUGE_AUTO &&
			   (env_no_huge() || !hugepages_available())) {
			add_no_huge = true;
			fallback = true;
		}
	}
	if (fallback)
		fprintf(stderr,
			"gntdp: WARNING: %s; running EAL with --no-huge (4 KiB pages, slower)\n",
			env_no_huge() ? "GNTDP_NO_HUGE=1" : "no free hugepages");

	/* New argv: program name, what we add, then the caller's arguments. */
	nargv = calloc((size_t)argc + 4, sizeof(*nargv));
	saved = calloc((size_t)argc + 1, sizeof(*saved));
	if (nargv == NULL || saved == NULL) {
		free(nargv);
		free(saved);
		return -ENOMEM;
	}
	/* EAL's getopt permutes argv: keep the original order for a re-exec. */
	memcpy(saved, argv, sizeof(*saved) * (size_t)argc);
	snprintf(eal_mem_mb, sizeof(eal_mem_mb), "%u", conf->no_huge_mb);
	k = 0;
	nargv[k++] = argv[0];
	if (add_no_huge) {
		nargv[k++] = (char *)(uintptr_t)"--no-huge";
		if (!mem_given) {
			nargv[k++] = (char *)(uintptr_t)"-m";
			nargv[k++] = eal_mem_mb;
		}
	}
	for (i = 1; i < argc; i++)
		nargv[k++] = argv[i];
	nargc = k;

	if (conf->signals) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	dp_telemetry_register();
	ret = rte_eal_init(nargc, nargv);
	if (ret < 0) {
		err = rte_errno;
		/* Memory init failed on hugepages we thought were there: retry once without. */
		if (conf->huge == GNTDP_DP_HUGE_AUTO && !add_no_huge && !user_no_huge &&
		    !env_no_huge() && (err == ENOMEM || err == EACCES)) {
			fprintf(stderr, "gntdp: WARNING: EAL could not use hugepages (%s); "
				"restarting with --no-huge (4 KiB pages, slower)\n", strerror(err));
			reexec_no_huge(saved);
		}
		free(nargv);
		free(saved);
		return err > 0 ? -err : -EINVAL;
	}
	/*
	 * EAL consumed ret arguments of nargv and put the program name in
	 * front of the rest; the caller's view has (k - argc) fewer.
	 */
	ret -= nargc - argc;
	argv[ret] = argv[0];
	for (i = ret + 1; i < argc; i++)
		argv[i] = nargv[i + (nargc - argc)];
	free(saved);
	eal_argv = nargv;
	return ret;
}

bool
gntdp_dp_eal_hugepages(void)
{
	return rte_eal_has_hugepages() != 0;
}

int
gntdp_dp_eal_cleanup(void)
{
	int rc = rte_eal_cleanup();

	free(eal_argv);
	eal_argv = NULL;
	return rc < 0 ? -rte_errno : 0;
}
