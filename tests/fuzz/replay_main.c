/* SPDX-License-Identifier: MIT */
/*
 * Corpus replay driver: a main() for the fuzz harnesses when the tree is
 * built without libFuzzer (any compiler). Each argument is a file or a
 * directory; every regular file is passed once to LLVMFuzzerTestOneInput(),
 * directories in name order so failures are reproducible. A harness reports
 * a broken invariant by aborting, which fails the test.
 *
 * Usage: fuzz_<target>_replay <corpus-dir-or-file>...
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_BYTES (1u << 20)

static int
run_file(const char *path)
{
	static uint8_t buf[REPLAY_MAX_BYTES];
	FILE *f = fopen(path, "rb");
	size_t n;
	uint8_t *copy;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* An exact-size copy, as libFuzzer passes it, so overreads are caught. */
	copy = malloc(n ? n : 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir, unsigned int *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t nb = 0, cap = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (nb == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (nn == NULL) {
				rc = -1;
				break;
			}
			names = nn;
		}
		names[nb] = strdup(de->d_name);
		if (names[nb] == NULL) {
			rc = -1;
			break;
		}
		nb++;
	}
	closedir(d);
	if (nb > 0)
		qsort(names, nb, sizeof(*names), cmp_names);
	for (size_t i = 0; i < nb; i++) {
		char path[4096];
		struct stat sb;

		if (rc == 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path) &&
		    stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (run_file(path) != 0)
				rc = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned int count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s <corpus-dir-or-file>...\n", argv[0]);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		int rc;

		if (stat(argv[i], &sb) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(sb.st_mode)) {
			rc = run_dir(argv[i], &count);
		} else {
			rc = run_file(argv[i]);
			count += rc == 0;
		}
		if (rc != 0)
			return 1;
	}
	if (count == 0) {
		fprintf(stderr, "no corpus files found\n");
		return 1;
	}
	printf("replayed %u inputs\n", count);
	return 0;
}
