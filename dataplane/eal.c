/* SPDX-License-Identifier: MIT */
/*
 * EAL bring-up for gntdp programs: the hugepage / --no-huge decision, the
 * single fallback warning, the signal flag, and cleanup.
 *
 * Why decide before rte_eal_init: EAL cannot be initialised twice in one
 * process, so "try hugepages, fall back" has two parts. We first look for a
 * hugetlbfs mount with free pages that this user may write to (/proc/mounts,
 * /proc/meminfo); if EAL still fails to get memory (pages taken meanwhile,
 * no permission), the process re-executes itself once with GNTDP_NO_HUGE=1,
 * which is cheap because nothing has run yet.
 *
 * Hygiene (what a run leaves behind): gntdp adds --no-pci unless the caller
 * wants PCI, and --huge-unlink on hugepages, so no hugepage file outlives its
 * mapping (none stays even after SIGKILL). The runtime directory
 * (<run dir>/dpdk/<prefix>/) keeps EAL's shared config, which also makes EAL
 * refuse a second primary on the same prefix; gntdp_dp_eal_cleanup() removes
 * EAL's files there, and an atexit handler removes the directory once DPDK's
 * own atexit handler has unlinked the telemetry socket.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "dp_internal.h"

RTE_LOG_REGISTER(dp_logtype, gntdp.dp, INFO);

static atomic_bool stop_flag;
static atomic_uint signals_seen;
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
	conf->pci = false;
}

static void
on_signal(int sig)
{
	/* Lock-free atomics, signal(), raise(): all async-signal-safe. */
	atomic_store_explicit(&stop_flag, true, memory_order_relaxed);
	/* The second signal is the way out of a program that no longer polls the flag. */
	if (atomic_fetch_add_explicit(&signals_seen, 1, memory_order_relaxed) > 0) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
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

/* What the caller's EAL arguments (argv up to "--", long options spelled in full) say. */
struct eal_args {
	bool no_huge;         /* --no-huge */
	bool mem_given;       /* -m, --socket-mem, --socket-limit */
	bool pci_given;       /* --no-pci, -a/--allow, -b/--block */
	bool unlink_given;    /* --huge-unlink[=..], or an option it conflicts with */
	bool no_shconf;       /* --in-memory, --no-shconf */
	const char *prefix;   /* --file-prefix (the last one), NULL: EAL's "rte" */
	const char *huge_dir; /* --huge-dir */
};

/* @p a is --NAME or --NAME=VALUE. */
static bool
is_opt(const char *a, const char *name)
{
	size_t n = strlen(name);

	return strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, n) == 0 &&
	       (a[n + 2] == '\0' || a[n + 2] == '=');
}

/* The value of --NAME=VALUE or --NAME VALUE at argv[*i]; steps *i over a separate value. */
static const char *
opt_value(int argc, char **argv, int *i)
{
	const char *eq = strchr(argv[*i], '=');

	if (eq != NULL)
		return eq + 1;
	if (*i + 1 < argc && strcmp(argv[*i + 1], "--") != 0)
		return argv[++*i];
	return NULL;
}

static void
scan_args(int argc, char **argv, struct eal_args *ea)
{
	static const char *const no_unlink[] = {"huge-unlink", "in-memory", "single-file-segments",
						"proc-type"};
	unsigned int k;
	int i;

	memset(ea, 0, sizeof(*ea));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--no-huge") == 0)
			ea->no_huge = true;
		if (strncmp(a, "-m", 2) == 0 || is_opt(a, "socket-mem") ||
		    is_opt(a, "socket-limit"))
			ea->mem_given = true;
		if (strcmp(a, "--no-pci") == 0 || strncmp(a, "-a", 2) == 0 ||
		    strncmp(a, "-b", 2) == 0 || is_opt(a, "allow") || is_opt(a, "block"))
			ea->pci_given = true;
		for (k = 0; k < RTE_DIM(no_unlink); k++)
			if (is_opt(a, no_unlink[k]))
				ea->unlink_given = true;
		if (strcmp(a, "--in-memory") == 0 || strcmp(a, "--no-shconf") == 0)
			ea->no_shconf = true;
		if (is_opt(a, "file-prefix"))
			ea->prefix = opt_value(argc, argv, &i);
		else if (is_opt(a, "huge-dir"))
			ea->huge_dir = opt_value(argc, argv, &i);
	}
}

/* Why gntdp_dp_eal_init chose --no-huge by itself. */
enum huge_state {
	HUGE_USABLE,
	HUGE_NO_MOUNT,  /* no hugetlbfs mount */
	HUGE_NO_ACCESS, /* mounted, but this user may not create files there */
	HUGE_NO_FREE,   /* no free page in the default-size pool */
};

/*
 * A hugetlbfs mount (or @p huge_dir) this user can create files in, and free
 * pages in the default-size pool. The directory looked at in @p dir.
 */
static enum huge_state
hugepages_state(const char *huge_dir, char *dir, size_t len)
{
	char line[512], mnt[256], type[64];
	bool mounted = false, writable = false;
	unsigned long free_pages = 0;
	FILE *f;

	if (huge_dir != NULL) {
		snprintf(dir, len, "%s", huge_dir);
		mounted = true;
		writable = faccessat(AT_FDCWD, huge_dir, W_OK | X_OK, AT_EACCESS) == 0;
	} else {
		f = fopen("/proc/mounts", "r");
		if (f == NULL)
			return HUGE_NO_MOUNT;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "%*s %255s %63s", mnt, type) != 2 ||
			    strcmp(type, "hugetlbfs") != 0 || writable)
				continue;
			snprintf(dir, len, "%s", mnt);
			mounted = true;
			writable = faccessat(AT_FDCWD, mnt, W_OK | X_OK, AT_EACCESS) == 0;
		}
		fclose(f);
	}
	if (!mounted)
		return HUGE_NO_MOUNT;
	if (!writable)
		return HUGE_NO_ACCESS;
	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return HUGE_NO_FREE;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "HugePages_Free:", 15) == 0) {
			free_pages = strtoul(line + 15, NULL, 10);
			break;
		}
	}
	fclose(f);
	return free_pages > 0 ? HUGE_USABLE : HUGE_NO_FREE;
}

static bool
env_no_huge(void)
{
	const char *e = getenv("GNTDP_NO_HUGE");

	return e != NULL && strcmp(e, "1") == 0;
}

/*
 * One line for a non-root user whose EAL start failed: the locked-memory
 * limit and the ways out. Nothing when the limit is unlimited (then it is
 * not the reason) or for argument errors.
 */
static void
explain_failure(int err, bool no_huge)
{
	struct rlimit rl;

	if (geteuid() == 0 || err == EINVAL || err == EALREADY ||
	    getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	fprintf(stderr,
		"gntdp: ERROR: EAL could not start (%s) as non-root user %u with "
		"RLIMIT_MEMLOCK %llu KiB: raise the limit (ulimit -l unlimited, or memlock in "
		"/etc/security/limits.conf)%s\n",
		strerror(err), (unsigned int)geteuid(), (unsigned long long)rl.rlim_cur / 1024,
		no_huge ? ""
			: ", give this user a writable hugetlbfs mount, or run with --no-huge");
}

/* ---- The runtime directory (<run dir>/dpdk/<prefix>/) ---- */

static char rundir[PATH_MAX]; /* this process's, once known */
static bool rundir_ours;      /* this process may remove it: created it, or is its primary */
static pid_t rundir_pid;      /* the process that may (a fork's child inherits the flags) */

/* Where EAL 22.11 puts it (lib/eal/unix/eal_filesystem.c). */
static void
rundir_predict(const char *prefix, char *buf, size_t len)
{
	const char *base = getenv("RUNTIME_DIRECTORY");

	if (base == NULL && getuid() == 0)
		base = "/var/run";
	if (base == NULL)
		base = getenv("XDG_RUNTIME_DIR");
	if (base == NULL)
		base = "/tmp";
	snprintf(buf, len, "%s/dpdk/%s", base, prefix != NULL ? prefix : "rte");
}

/*
 * Another process holds EAL's lock on @p dir/config: a live primary uses the
 * directory. (Closing the fd drops this process's own lock on the file: call
 * it only when done with EAL's config.)
 */
static bool
rundir_in_use(const char *dir)
{
	char path[PATH_MAX + 8];
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	bool busy;
	int fd;

	snprintf(path, sizeof(path), "%s/config", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	busy = fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type != F_UNLCK;
	close(fd);
	return busy;
}

/*
 * Remove the files EAL's primary creates in @p dir, then the directory if it
 * is empty. The telemetry socket is left to DPDK's atexit handler (only it
 * knows which socket is its own when --in-memory processes share a prefix),
 * and a secondary process's mp_socket_* to it.
 */
static void
rundir_remove(const char *dir)
{
	static const char *const eal_files[] = {"config", "hugepage_info", "mp_socket",
						"fbarray_*"};
	struct dirent *e;
	unsigned int k;
	DIR *d;

	if (dir[0] == '\0' || rundir_in_use(dir))
		return;
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		for (k = 0; k < RTE_DIM(eal_files); k++) {
			if (fnmatch(eal_files[k], e->d_name, 0) == 0) {
				unlinkat(dirfd(d), e->d_name, 0);
				break;
			}
		}
	}
	closedir(d);
	rmdir(dir); /* fails while anything else is in it */
}

/*
 * atexit, registered before rte_eal_init so that it runs after DPDK's
 * own (which unlinks the telemetry socket): also covers a program that
 * returns without gntdp_dp_eal_cleanup().
 */
static void
rundir_atexit(void)
{
	if (rundir_ours && getpid() == rundir_pid)
		rundir_remove(rundir);
}

/* ---- Re-execution without hugepages ---- */

#define FD_SNAP 4096
static uint64_t fds_before[FD_SNAP / 64];

/* Call @p fn for every open fd of this process but the directory stream's own. */
static void
for_each_fd(void (*fn)(int fd))
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d))
			fn(fd);
	}
	closedir(d);
}

static void
fd_note(int fd)
{
	if (fd >= 0 && fd < FD_SNAP)
		fds_before[fd / 64] |= 1ull << (fd % 64);
}

static void
fd_cloexec_if_new(int fd)
{
	if (fd > 2 && (fd >= FD_SNAP || !(fds_before[fd / 64] & (1ull << (fd % 64)))))
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * Re-run this program with GNTDP_NO_HUGE=1 after EAL failed to get
 * hugepage memory. The failed EAL's files stay open otherwise, and the new
 * image's EAL would find its own fbarray files locked by them ("Cannot
 * allocate memzone list", ENODEV): close every fd EAL opened, keep the
 * caller's. Returns only on failure.
 */
static void
reexec_no_huge(char **saved_argv)
{
	if (setenv("GNTDP_NO_HUGE", "1", 1) != 0)
		return;
	for_each_fd(fd_cloexec_if_new);
	fflush(NULL);
	execv("/proc/self/exe", saved_argv);
}

int
gntdp_dp_eal_init(const struct gntdp_dp_eal_conf *conf, int argc, char **argv)
{
	static bool atexit_done;
	struct gntdp_dp_eal_conf defaults;
	bool add_no_huge = false, fallback = false, rundir_existed;
	char **nargv = NULL, **saved = NULL, huge_dir[256], predicted[PATH_MAX];
	enum huge_state hs = HUGE_USABLE;
	struct eal_args ea;
	struct stat st;
	int i, k, nargc, ret, err;

	if (conf == NULL) {
		gntdp_dp_eal_conf_init(&defaults);
		conf = &defaults;
	}
	if (argc < 1 || argv == NULL || conf->no_huge_mb == 0)
		return -EINVAL;
	scan_args(argc, argv, &ea);
	if (!ea.no_huge) {
		if (conf->huge == GNTDP_DP_HUGE_OFF) {
			add_no_huge = true;
		} else if (conf->huge == GNTDP_DP_HUGE_AUTO) {
			if (!env_no_huge())
				hs = hugepages_state(ea.huge_dir, huge_dir, sizeof(huge_dir));
			add_no_huge = fallback = env_no_huge() || hs != HUGE_USABLE;
		}
	}
	if (fallback) {
		if (env_no_huge())
			fprintf(stderr, "gntdp: WARNING: GNTDP_NO_HUGE=1; ");
		else if (hs == HUGE_NO_ACCESS)
			fprintf(stderr,
				"gntdp: WARNING: no write access to hugetlbfs %s as user %u; ",
				huge_dir, (unsigned int)geteuid());
		else
			fprintf(stderr, "gntdp: WARNING: %s; ",
				hs == HUGE_NO_MOUNT ? "no hugetlbfs mount" : "no free hugepages");
		fprintf(stderr, "running EAL with --no-huge (4 KiB pages, slower)\n");
	}

	/* New argv: program name, what we add, then the caller's arguments. */
	nargv = calloc((size_t)argc + 6, sizeof(*nargv));
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
		if (!ea.mem_given) {
			nargv[k++] = (char *)(uintptr_t)"-m";
			nargv[k++] = eal_mem_mb;
		}
	} else if (!ea.no_huge && !ea.unlink_given) {
		/* Unlinked once mapped: no hugepage file outlives the process. */
		nargv[k++] = (char *)(uintptr_t)"--huge-unlink";
	}
	if (!conf->pci && !ea.pci_given)
		nargv[k++] = (char *)(uintptr_t)"--no-pci";
	for (i = 1; i < argc; i++)
		nargv[k++] = argv[i];
	nargc = k;

	if (conf->signals) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	rundir_predict(ea.prefix, predicted, sizeof(predicted));
	rundir_existed = stat(predicted, &st) == 0;
	if (!atexit_done)
		atexit_done = atexit(rundir_atexit) == 0;
	memset(fds_before, 0, sizeof(fds_before));
	for_each_fd(fd_note);
	dp_telemetry_register();
	ret = rte_eal_init(nargc, nargv);
	if (ret < 0) {
		err = rte_errno;
		/* Already initialised: the runtime directory is that EAL's. */
		if (err != EALREADY && !rundir_existed)
			rundir_remove(predicted);
		/* Memory init failed on hugepages we thought were there: retry once without. */
		if (conf->huge == GNTDP_DP_HUGE_AUTO && !add_no_huge && !ea.no_huge &&
		    !env_no_huge() && (err == ENOMEM || err == EACCES)) {
			fprintf(stderr,
				"gntdp: WARNING: EAL could not use hugepages (%s); "
				"restarting with --no-huge (4 KiB pages, slower)\n",
				strerror(err));
			reexec_no_huge(saved);
		}
		explain_failure(err, add_no_huge || ea.no_huge);
		free(nargv);
		free(saved);
		return err > 0 ? -err : -EINVAL;
	}
	/*
	 * Ours to remove: EAL's primary holds the lock on its shared config, so
	 * no other primary uses this prefix; with --in-memory/--no-shconf there
	 * is no lock, and the directory is ours only if it was not there before.
	 */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	if (strcmp(rundir, predicted) != 0)
		rundir_existed = true; /* not known */
	rundir_ours =
		rte_eal_process_type() == RTE_PROC_PRIMARY && (!ea.no_shconf || !rundir_existed);
	rundir_pid = getpid();
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

	if (rc == 0 && rundir_ours && getpid() == rundir_pid)
		rundir_remove(rundir);
	free(eal_argv);
	eal_argv = NULL;
	return rc < 0 ? -rte_errno : 0;
}
