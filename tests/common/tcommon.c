/* SPDX-License-Identifier: MIT */
/*
 * The case-table runner and the failure reporters behind the T_* macros.
 * A case stops at its first failed assertion (the macro returns); only that
 * first failure is printed, on the case's single result line, so the output
 * stays one line per case whatever happens inside.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tcommon.h"

static const char *cur_name = "?";
static bool cur_failed;
static char cur_msg[512];
static char skip_msg[256];

const char *
tc_current(void)
{
	return cur_name;
}

void
tc_fail(const char *file, int line, const char *expr, const char *got, const char *want)
{
	const char *base = strrchr(file, '/');

	if (cur_failed)
		return;
	cur_failed = true;
	snprintf(cur_msg, sizeof(cur_msg), "%s:%d %s (got %s, want %s)", base ? base + 1 : file,
		 line, expr, got, want);
}

void
tc_fail_ll(const char *file, int line, const char *expr, long long got, long long want)
{
	char g[48], w[48];

	/* Large values are usually flags or addresses: show hex too. */
	if (got > 4096 || got < -4096)
		snprintf(g, sizeof(g), "%lld/0x%llx", got, (unsigned long long)got);
	else
		snprintf(g, sizeof(g), "%lld", got);
	if (want > 4096 || want < -4096)
		snprintf(w, sizeof(w), "%lld/0x%llx", want, (unsigned long long)want);
	else
		snprintf(w, sizeof(w), "%lld", want);
	tc_fail(file, line, expr, g, w);
}

void
tc_fail_u64(const char *file, int line, const char *expr, uint64_t got, uint64_t want)
{
	char g[32], w[32];

	snprintf(g, sizeof(g), "0x%" PRIx64, got);
	snprintf(w, sizeof(w), "0x%" PRIx64, want);
	tc_fail(file, line, expr, g, w);
}

static void
status_text(char *buf, size_t size, long long st)
{
	if (st == TW_UNSET)
		snprintf(buf, size, "unwritten(0x7fff)");
	else if (st == TW_CALL_FAILED)
		snprintf(buf, size, "call-failed(rc!=0)");
	else
		snprintf(buf, size, "%s(%lld)", gntdp_gntst_name((int16_t)st), st);
}

void
tc_fail_status(const char *file, int line, const char *expr, long long got, long long want)
{
	char g[64], w[64];

	status_text(g, sizeof(g), got);
	status_text(w, sizeof(w), want);
	tc_fail(file, line, expr, g, w);
}

int
tc_skip(const char *why)
{
	snprintf(skip_msg, sizeof(skip_msg), "%s", why);
	return TC_SKIP;
}

static const char *
short_name(const char *name)
{
	return strncmp(name, "test_", 5) == 0 ? name + 5 : name;
}

static bool
selected(int argc, char **argv, const char *name)
{
	if (argc <= 1)
		return true;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], name) == 0 || strcmp(argv[i], short_name(name)) == 0)
			return true;
	}
	return false;
}

static bool
known(const struct tc_case *cases, size_t nb_cases, const char *arg)
{
	for (size_t i = 0; i < nb_cases; i++) {
		if (strcmp(arg, cases[i].name) == 0 || strcmp(arg, short_name(cases[i].name)) == 0)
			return true;
	}
	return false;
}

int
tc_main(int argc, char **argv, const struct tc_case *cases, size_t nb_cases)
{
	unsigned int run = 0, failed = 0, skipped = 0;

	for (int i = 1; i < argc; i++) {
		if (!known(cases, nb_cases, argv[i])) {
			printf("FAIL %s: unknown case\n", argv[i]);
			failed++;
		}
	}
	for (size_t i = 0; i < nb_cases; i++) {
		int rc;

		if (!selected(argc, argv, cases[i].name))
			continue;
		cur_name = short_name(cases[i].name);
		cur_failed = false;
		cur_msg[0] = '\0';
		skip_msg[0] = '\0';
		rc = cases[i].fn();
		/* Worlds are destroyed even when the case bailed out early. */
		tw_cleanup_all();
		run++;
		if (cur_failed || rc == TC_FAILED) {
			failed++;
			printf("FAIL %s: %s\n", cur_name,
			       cur_msg[0] ? cur_msg : "case returned failure");
		} else if (rc == TC_SKIP) {
			skipped++;
			printf("skip %s: %s\n", cur_name, skip_msg);
		} else {
			printf("ok %s\n", cur_name);
		}
		fflush(stdout);
	}
	printf("# %u cases, %u failed, %u skipped\n", run, failed, skipped);
	if (failed)
		return 1;
	if (run > 0 && skipped == run)
		return 77;
	return 0;
}

unsigned long
tc_huge_free(void)
{
	char line[128];
	unsigned long n = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
			break;
	}
	if (f != NULL)
		fclose(f);
	return n;
}
